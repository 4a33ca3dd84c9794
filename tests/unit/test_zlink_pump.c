/*
 * test_zlink_pump.c: daemon/zlink.c's pump on a real ZeroMQ PAIR over
 * inproc and a libevent loop with the daemon's three priorities.  A
 * lowest-priority event stands for the committer: it is activated by the
 * first message of a turn, as committer_txn activates the commit.  The pump
 * must yield to it after ZLINK_PUMP_BYTES of messages and after
 * ZLINK_PUMP_MAX messages, and hand over every message exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <zmq.h>

#include "zlink.h"

struct pump {
	struct event *commit;
	size_t handled;
	size_t at_commit[1024]; /* messages handled when each commit ran */
	size_t ncommits;
	int turn_open;
};

static size_t
on_msg(void *arg, zmq_msg_t *first)
{
	struct pump *p = arg;

	p->handled++;
	if (!p->turn_open) {
		p->turn_open = 1;
		event_active(p->commit, 0, 0);
	}
	return zmq_msg_size(first);
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pump *p = arg;

	(void)fd;
	(void)what;
	if (p->ncommits < 1024)
		p->at_commit[p->ncommits++] = p->handled;
	p->turn_open = 0;
}

/* Send n messages of size bytes into a pumped PAIR; run the loop until all
 * are handled; p gets the counts at each commit. */
static void
run(struct pump *p, size_t n, size_t size)
{
	void *ctx = zmq_ctx_new(), *in, *out;
	struct event_base *base = event_base_new();
	struct zlink z = {0};
	struct log_ratelimit rl = {0};
	static char buf[128 << 10];

	assert_non_null(ctx);
	assert_non_null(base);
	assert_true(size <= sizeof(buf));
	assert_int_equal(event_base_priority_init(base, 3), 0);
	memset(p, 0, sizeof(*p));
	assert_non_null(p->commit = event_new(base, -1, 0, commit_cb, p));
	event_priority_set(p->commit, 2);
	assert_non_null(in = zmq_socket(ctx, ZMQ_PAIR));
	assert_non_null(out = zmq_socket(ctx, ZMQ_PAIR));
	int hwm = 0; /* no limit: every message queued before the loop */
	assert_int_equal(zmq_setsockopt(in, ZMQ_RCVHWM, &hwm, sizeof(hwm)), 0);
	assert_int_equal(zmq_setsockopt(out, ZMQ_SNDHWM, &hwm, sizeof(hwm)), 0);
	assert_int_equal(zmq_bind(in, "inproc://pump"), 0);
	assert_int_equal(zmq_connect(out, "inproc://pump"), 0);
	memset(buf, 'x', size);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(zmq_send(out, buf, size, 0), (int)size);
	z.sock = in;
	assert_int_equal(zlink_start(&z, base, on_msg, p, &rl, "test"), 0);
	for (int i = 0; i < 10000 && (p->handled < n || p->turn_open); i++)
		assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(p->handled, n);
	zlink_close(&z); /* closes in */
	zmq_close(out);
	event_free(p->commit);
	event_base_free(base);
	zmq_ctx_term(ctx);
}

static void
test_yields_after_bytes(void **state)
{
	struct pump p;
	/* 100 KiB each: the pump passes ZLINK_PUMP_BYTES after k of them */
	size_t size = 100 << 10, k = (ZLINK_PUMP_BYTES + size - 1) / size;

	(void)state;
	run(&p, 4 * k + 1, size);
	assert_int_equal(p.ncommits, 5);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(p.at_commit[i], (i + 1) * k);
	assert_int_equal(p.at_commit[4], 4 * k + 1);
}

static void
test_yields_after_count(void **state)
{
	struct pump p;

	(void)state;
	run(&p, 2 * ZLINK_PUMP_MAX + 3, 8); /* small: the count bounds it */
	assert_int_equal(p.ncommits, 3);
	assert_int_equal(p.at_commit[0], ZLINK_PUMP_MAX);
	assert_int_equal(p.at_commit[1], 2 * ZLINK_PUMP_MAX);
	assert_int_equal(p.at_commit[2], 2 * ZLINK_PUMP_MAX + 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_yields_after_bytes),
	    cmocka_unit_test(test_yields_after_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
