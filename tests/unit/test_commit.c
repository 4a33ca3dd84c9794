/*
 * test_commit.c: daemon/commit.c's dry-run transactions (committer_nested)
 * on a real LMDB environment and a libevent loop: a child sees the turn's
 * writes, nothing written in it (records, versions, outbox, audit) survives
 * its abort, a turn of dry runs only commits nothing and skips the commit
 * hook, a full map inside the child leaves the turn's transaction and its
 * commit intact, and a turn already in error hands its error to the dry run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "commit.h"
#include "records.h"
#include "store.h"

#include "fixture.h"

#define SELF "04108"

static const struct records_actor actor = {
    SELF, "clerk-test", 1700000000, RECOGNITION_SCORE};

struct loop {
	struct fx_store s;
	struct event_base *base;
	struct committer *cm;
	int hooks;       /* on_commit calls */
	int status, ran; /* the last deferred callback's outcome */
};

static void
hook_cb(void *arg)
{
	((struct loop *)arg)->hooks++;
}

static void
done_cb(void *arg, int status)
{
	struct loop *l = arg;

	l->status = status;
	l->ran++;
}

static void
loop_open(struct loop *l, uint64_t map_mb)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(fx_tmpdir(l->s.dir, "commit"), 0);
	assert_int_equal(store_open(l->s.dir, map_mb, &l->s.st), STORE_OK);
	assert_non_null(l->base = event_base_new());
	assert_int_equal(event_base_priority_init(l->base, 3), 0);
	assert_non_null(l->cm = committer_new(l->base, l->s.st));
	committer_on_commit(l->cm, hook_cb, l);
}

static void
loop_close(struct loop *l)
{
	committer_free(&l->cm);
	event_base_free(l->base);
	fx_store_close(&l->s);
}

/* Run the loop until the turn's commit event has run. */
static void
turn_end(struct loop *l)
{
	/* 1: nothing left pending once the commit event has run */
	assert_true(event_base_loop(l->base, EVLOOP_NONBLOCK) >= 0);
}

static void
recognised(struct assessment *a, int year, const char *pid)
{
	fx_assessment(a, year, pid, GROUP_FARMER, POP_ADULT, DIGITAL_SKILLED);
	memset(a->scores, 8, sizeof(a->scores));
}

static uint64_t
seq_of(struct store_txn *t)
{
	const void *v;
	size_t vl;
	uint64_t seq = 0;

	if (store_get(t, TBL_META, "seq", 3, &v, &vl) == STORE_OK &&
	    vl == sizeof(seq))
		memcpy(&seq, v, sizeof(seq));
	return seq;
}

/* A dry run sees the turn, leaves nothing in it; the real write commits. */
static void
test_nested_sees_turn_and_leaves_nothing(void **state)
{
	struct loop l;
	struct store_txn *turn, *dry, *t;
	struct assessment a, got;
	int replaced, audit, outbox;
	uint64_t seq;

	loop_open(&l, FX_MAP_MB);
	turn = committer_txn(l.cm);
	for (int y = 2021; y <= 2024; y++) {
		recognised(&a, y, "P");
		assert_int_equal(records_put(turn, &actor, &a, &replaced), 0);
	}
	/* the tables as the turn's writes leave them (records.c keeps the
	 * local reports beside the transaction until it commits or nests) */
	assert_int_equal(store_pending_flush(turn), STORE_OK);
	seq = seq_of(turn);
	audit = fx_count_table(turn, TBL_AUDIT);
	outbox = fx_count_table(turn, TBL_OUTBOX);

	assert_int_equal(committer_nested(l.cm, &dry), STORE_OK);
	recognised(&a, 2025, "P");
	assert_int_equal(records_put(dry, &actor, &a, &replaced), STORE_OK);
	assert_true(a.outstanding); /* it saw the turn's four years */
	recognised(&a, 2026, "Q");
	assert_int_equal(records_put(dry, &actor, &a, &replaced), STORE_OK);
	store_abort(&dry);

	assert_int_equal(store_txn_err(turn), STORE_OK);
	assert_int_equal(records_get(turn, 2025, "P", 1, &got), STORE_NOTFOUND);
	assert_int_equal(records_get(turn, 2026, "Q", 1, &got), STORE_NOTFOUND);
	assert_int_equal(seq_of(turn), seq);
	assert_int_equal(fx_count_table(turn, TBL_AUDIT), audit);
	assert_int_equal(fx_count_table(turn, TBL_OUTBOX), outbox);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l);
	assert_int_equal(l.ran, 1);
	assert_int_equal(l.status, STORE_OK);
	assert_int_equal(l.hooks, 1);

	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2024, "P", 1, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "P", 1, &got), STORE_NOTFOUND);
	assert_int_equal(seq_of(t), seq);
	store_abort(&t);
	loop_close(&l);
}

/* A turn that only ran dry runs commits nothing and calls no hook. */
static void
test_dry_only_turn(void **state)
{
	struct loop l;
	struct store_txn *dry, *t;
	struct assessment a;
	int replaced;

	loop_open(&l, FX_MAP_MB);
	assert_int_equal(committer_nested(l.cm, &dry), STORE_OK);
	recognised(&a, 2025, "P");
	assert_int_equal(records_put(dry, &actor, &a, &replaced), STORE_OK);
	store_abort(&dry);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l);
	assert_int_equal(l.ran, 1);
	assert_int_equal(l.status, STORE_OK);
	assert_int_equal(l.hooks, 0);
	t = fx_rtxn(&l.s);
	assert_int_equal(fx_count_table(t, TBL_ASSESS), 0);
	assert_int_equal(seq_of(t), 0);
	store_abort(&t);
	/* the next turn with a write commits and calls the hook again */
	recognised(&a, 2025, "R");
	assert_int_equal(
	    records_put(committer_txn(l.cm), &actor, &a, &replaced), 0);
	turn_end(&l);
	assert_int_equal(l.hooks, 1);
	loop_close(&l);
}

/* A full map inside the dry run stays there. */
static void
test_full_inside_nested(void **state)
{
	struct loop l;
	struct store_txn *turn, *dry, *t;
	struct assessment a, got;
	unsigned char k[8];
	char big[4000];
	int replaced, rc = STORE_OK;

	loop_open(&l, 1);
	turn = committer_txn(l.cm);
	recognised(&a, 2025, "kept");
	assert_int_equal(records_put(turn, &actor, &a, &replaced), STORE_OK);

	assert_int_equal(committer_nested(l.cm, &dry), STORE_OK);
	memset(big, 'z', sizeof(big));
	for (int n = 0; n < 1000 && rc == STORE_OK; n++) {
		store_be64(k, (uint64_t)n);
		rc = store_put(dry, TBL_AUDIT, k, 8, big, sizeof(big));
	}
	assert_int_equal(rc, STORE_FULL);
	assert_int_equal(store_txn_err(dry), STORE_FULL);
	store_abort(&dry);

	assert_int_equal(store_txn_err(turn), STORE_OK);
	recognised(&a, 2025, "after");
	assert_int_equal(records_put(turn, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l);
	assert_int_equal(l.status, STORE_OK);
	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2025, "kept", 4, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "after", 5, &got), STORE_OK);
	assert_int_equal(fx_count_table(t, TBL_AUDIT), 2);
	store_abort(&t);
	loop_close(&l);
}

/* A turn already in error: the dry run gets that error, as a write would. */
static void
test_turn_in_error(void **state)
{
	struct loop l;
	struct store_txn *turn, *dry = (struct store_txn *)&l;
	unsigned char k[8];
	char big[4000];
	int rc = STORE_OK;

	loop_open(&l, 1);
	turn = committer_txn(l.cm);
	memset(big, 'z', sizeof(big));
	for (int n = 0; n < 1000 && rc == STORE_OK; n++) {
		store_be64(k, (uint64_t)n);
		rc = store_put(turn, TBL_AUDIT, k, 8, big, sizeof(big));
	}
	assert_int_equal(rc, STORE_FULL);
	assert_int_equal(committer_nested(l.cm, &dry), STORE_FULL);
	assert_null(dry);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l);
	assert_int_equal(l.status, STORE_FULL);
	loop_close(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nested_sees_turn_and_leaves_nothing),
	    cmocka_unit_test(test_dry_only_turn),
	    cmocka_unit_test(test_full_inside_nested),
	    cmocka_unit_test(test_turn_in_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
