/*
 * test_commit.c: daemon/commit.c's dry-run transactions (committer_nested)
 * on a real LMDB environment and a libevent loop: a child sees the turn's
 * writes, nothing written in it (records, versions, outbox, audit) survives
 * its abort, a turn of dry runs only commits nothing and skips the commit
 * hook, a full map inside the child leaves the turn's transaction and its
 * commit intact, and a turn already in error hands its error to the dry run.
 * And the flush off the loop (on a disk made slow): a big turn's writers
 * hear nothing and readers see nothing of it until its journal record is
 * flushed, while the loop opens and fills the next turn, which commits only
 * after; a failed flush is covered by a checkpoint.  And the open
 * transaction (store.c): turns committed on the loop linger in it, durable
 * by their records alone (a crash before they reach data.mdb loses none);
 * a reader sees all of them and nothing that is not durable, also while a
 * turn is open; an idle node writes them to data.mdb by itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "commit.h"
#include "flusher.h"
#include "records.h"
#include "store.h"

#include "fixture.h"

#define SELF "04108"
/* The idle timer set out of reach, so that turns linger however slow the
 * machine (five turns of a loaded ASan build may take over EXPOSE_MS). */
#define NEVER_IDLE_MS (10 * 60 * 1000)

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

/* The loop's end; the store closed and opened again, on its own. */
static void
loop_reopen(struct loop *l)
{
	committer_free(&l->cm);
	event_base_free(l->base);
	l->base = NULL;
	fx_store_reopen(&l->s);
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

/* --- the flush off the loop ----------------------------------------------
 * fdatasync interposed (for the daemon's code linked into this executable):
 * while gate_hold is set every call syncs, then waits; gate_fail makes the
 * next one report EIO after syncing. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_hold, gate_waiting, gate_fail;
static _Atomic int gate_slow; /* read by the flusher thread too */
/* The flush answers at once, without the syscall: the committer measures a
 * fast disk, on which every turn may linger (on a slow one a big turn does
 * not, commit.c), whatever this machine's disk: on CI's, slow, the tests
 * of lingering failed before.  The tests that set it kill processes at
 * most, never the machine, and the page cache outlives a process. */
static _Atomic int gate_fast;

int
fdatasync(int fd)
{
	int rc;

	if (gate_fast)
		return 0;
	rc = (int)syscall(SYS_fdatasync, fd);
	if (gate_slow) {
		struct timespec ms2 = {0, 2000000};

		nanosleep(&ms2, NULL);
	}
	pthread_mutex_lock(&gate_mu);
	if (gate_hold) {
		struct timespec dl;

		/* bounded: a flush on the loop's own thread fails the test
		 * (its callbacks run early) instead of hanging it */
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		gate_waiting++;
		pthread_cond_broadcast(&gate_cv);
		while (gate_hold &&
		       pthread_cond_timedwait(&gate_cv, &gate_mu, &dl) == 0)
			;
		gate_waiting--;
	}
	if (rc == 0 && gate_fail) {
		gate_fail = 0;
		pthread_mutex_unlock(&gate_mu);
		errno = EIO;
		return -1;
	}
	pthread_mutex_unlock(&gate_mu);
	return rc;
}

/* Wait (at most 10 s) until a flush is held at the gate. */
static int
gate_wait_held(void)
{
	struct timespec dl;
	int ok;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&gate_mu);
	while (gate_waiting == 0 &&
	       pthread_cond_timedwait(&gate_cv, &gate_mu, &dl) == 0)
		;
	ok = gate_waiting > 0;
	pthread_mutex_unlock(&gate_mu);
	return ok;
}

static void
gate_set(int *flag, int v)
{
	pthread_mutex_lock(&gate_mu);
	*flag = v;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

#define BIG_TURN 20 /* writers in one turn: its flush goes to the thread */

/* A turn of BIG_TURN writers, each deferring done_cb. */
static void
big_turn(struct loop *l, const char *prefix)
{
	struct store_txn *turn = committer_txn(l->cm);
	struct assessment a;
	char pid[32];
	int replaced;

	assert_non_null(turn);
	for (int i = 0; i < BIG_TURN; i++) {
		snprintf(pid, sizeof(pid), "%s%02d", prefix, i);
		recognised(&a, 2025, pid);
		assert_int_equal(
		    records_put(turn, &actor, &a, &replaced), STORE_OK);
		assert_int_equal(committer_defer(l->cm, done_cb, l), 0);
	}
}

/* Flushes of 2 ms, as a slow disk's, for n one-writer turns: then the
 * committer hands big turns' flushes to its thread.  The small turns
 * linger all the same (they never go to the thread); with expose set a
 * reader then writes them to data.mdb, as the next one would. */
static void
slow_disk_turns(struct loop *l, int n, int expose)
{
	struct store_txn *turn, *t;
	struct assessment a;
	char pid[32];
	int replaced, ran = l->ran, hooks = l->hooks;

	committer_idle_ms(l->cm, NEVER_IDLE_MS);
	gate_slow = 1;
	for (int i = 0; i < n; i++) {
		assert_non_null(turn = committer_txn(l->cm));
		snprintf(pid, sizeof(pid), "warm%02d", i);
		recognised(&a, 2024, pid);
		assert_int_equal(
		    records_put(turn, &actor, &a, &replaced), STORE_OK);
		assert_int_equal(committer_defer(l->cm, done_cb, l), 0);
		turn_end(l);
	}
	gate_slow = 0;
	assert_int_equal(l->ran, ran + n); /* each flushed on the loop */
	assert_int_equal(l->hooks, hooks + n);
	assert_int_equal(store_unexposed(l->s.st), n);
	if (expose) {
		t = fx_rtxn(&l->s);
		store_abort(&t);
		assert_int_equal(store_unexposed(l->s.st), 0);
	}
	l->ran = ran;
	l->hooks = hooks;
}

static void
slow_disk(struct loop *l, int n)
{
	slow_disk_turns(l, n, 1);
}

/* Run the loop (bounded) until n callbacks in all have run. */
static void
run_until(struct loop *l, int n)
{
	for (int i = 0; i < 1000 && l->ran < n; i++)
		assert_true(event_base_loop(l->base, EVLOOP_ONCE) >= 0);
	assert_int_equal(l->ran, n);
}

static void
test_big_turn_settles_off_loop(void **state)
{
	struct loop l;
	struct store_txn *next, *t;
	struct assessment a, got;
	int replaced;

	loop_open(&l, FX_MAP_MB);
	slow_disk(&l, 20);
	big_turn(&l, "A");
	gate_set(&gate_hold, 1);
	turn_end(&l); /* commits in LMDB, hands the flush over, returns */
	assert_int_equal(l.ran, 0);
	assert_true(gate_wait_held());
	assert_int_equal(l.ran, 0); /* nobody hears of it yet */
	assert_int_equal(l.hooks, 0);
	assert_true(store_settling(l.s.st));

	/* the loop goes on: the next turn opens and takes a write */
	assert_non_null(next = committer_txn(l.cm));
	recognised(&a, 2025, "B");
	assert_int_equal(records_put(next, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l); /* its commit waits for the flush */
	assert_int_equal(l.ran, 0);
	/* readers see the state before the settling commit; one that lasts
	 * past the settling keeps that snapshot */
	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2024, "warm00", 6, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "A00", 3, &got), STORE_NOTFOUND);
	assert_int_equal(records_get(t, 2025, "B", 1, &got), STORE_NOTFOUND);

	gate_set(&gate_hold, 0);
	run_until(&l, BIG_TURN + 1);
	assert_int_equal(records_get(t, 2025, "A01", 3, &got), STORE_NOTFOUND);
	store_abort(&t);
	t = fx_rtxn(&l.s); /* a new reader sees both */
	assert_int_equal(records_get(t, 2025, "A01", 3, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "B", 1, &got), STORE_OK);
	store_abort(&t);
	assert_int_equal(l.status, STORE_OK);
	assert_int_equal(l.hooks, 2);
	assert_false(store_settling(l.s.st));
	loop_reopen(&l);

	/* both turns are in the directory, after a reopen */
	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2025, "A19", 3, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "B", 1, &got), STORE_OK);
	store_abort(&t);
	fx_store_close(&l.s);
}

/* On a slow disk after small turns that linger: the first big turn
 * flushes on the loop (its readers would otherwise miss the lingering
 * ones) and does not linger, so the next big one goes to the thread. */
static void
test_big_turn_after_lingering_ones(void **state)
{
	struct loop l;

	loop_open(&l, FX_MAP_MB);
	slow_disk_turns(&l, 20, 0);
	big_turn(&l, "C");
	gate_slow = 1;
	turn_end(&l); /* on the loop: heard at once */
	gate_slow = 0;
	assert_int_equal(l.ran, BIG_TURN);
	assert_false(store_settling(l.s.st));
	assert_int_equal(store_unexposed(l.s.st), 0); /* all in data.mdb */

	big_turn(&l, "D");
	gate_set(&gate_hold, 1);
	turn_end(&l); /* this one is handed over */
	assert_true(gate_wait_held());
	assert_int_equal(l.ran, BIG_TURN);
	assert_true(store_settling(l.s.st));
	gate_set(&gate_hold, 0);
	run_until(&l, 2 * BIG_TURN);
	assert_int_equal(l.status, STORE_OK);
	assert_false(store_settling(l.s.st));
	loop_close(&l);
}

/* The thread's flush fails: a checkpoint makes the turn durable. */
static void
test_failed_flush_checkpoints(void **state)
{
	struct loop l;
	struct store_txn *t;
	struct assessment got;

	loop_open(&l, FX_MAP_MB);
	slow_disk(&l, 20);
	big_turn(&l, "F");
	gate_set(&gate_fail, 1);
	turn_end(&l);
	run_until(&l, BIG_TURN);
	assert_int_equal(gate_fail, 0); /* the flush did fail */
	assert_int_equal(l.status, STORE_OK);
	assert_int_equal(l.hooks, 1);
	/* and writes go on */
	big_turn(&l, "G");
	turn_end(&l);
	run_until(&l, 2 * BIG_TURN);
	assert_int_equal(l.status, STORE_OK);
	loop_reopen(&l);

	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2025, "F07", 3, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "G19", 3, &got), STORE_OK);
	store_abort(&t);
	fx_store_close(&l.s);
}

/* One turn of one writer, pid in year 2025, ended. */
static void
one_turn(struct loop *l, const char *pid)
{
	struct store_txn *turn;
	struct assessment a;
	int replaced;

	assert_non_null(turn = committer_txn(l->cm));
	recognised(&a, 2025, pid);
	assert_int_equal(records_put(turn, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(committer_defer(l->cm, done_cb, l), 0);
	turn_end(l);
}

/* The lingering tests run on a disk that flushes fast (gate_fast). */
static int
fast_disk(void **state)
{
	(void)state;
	gate_fast = 1;
	return 0;
}

static int
real_disk(void **state)
{
	(void)state;
	gate_fast = 0;
	return 0;
}

static void
test_turns_linger_until_a_reader(void **state)
{
	struct loop l;
	struct store_txn *t;
	struct assessment got;
	char pid[8];

	loop_open(&l, FX_MAP_MB);
	committer_idle_ms(l.cm, NEVER_IDLE_MS);
	for (int i = 0; i < 5; i++) {
		snprintf(pid, sizeof(pid), "L%d", i);
		one_turn(&l, pid);
	}
	assert_int_equal(l.ran, 5); /* all five acknowledged */
	assert_int_equal(l.status, STORE_OK);
	/* not in data.mdb yet: in the open transaction */
	assert_int_equal(store_unexposed(l.s.st), 5);
	t = fx_rtxn(&l.s); /* a reader sees them all */
	assert_int_equal(store_unexposed(l.s.st), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(pid, sizeof(pid), "L%d", i);
		assert_int_equal(records_get(t, 2025, pid, 2, &got), STORE_OK);
	}
	store_abort(&t);
	loop_close(&l);
}

/* A reader while a turn is open over a lingering one: it sees the durable
 * turn; the open turn's writes so far are made durable first (their
 * writer still waits for the turn's end), and the turn goes on. */
static void
test_reader_during_an_open_turn(void **state)
{
	struct loop l;
	struct store_txn *turn, *t;
	struct assessment a, got;
	int replaced;

	loop_open(&l, FX_MAP_MB);
	committer_idle_ms(l.cm, NEVER_IDLE_MS);
	one_turn(&l, "A");
	assert_int_equal(store_unexposed(l.s.st), 1);
	assert_non_null(turn = committer_txn(l.cm));
	recognised(&a, 2025, "B");
	assert_int_equal(records_put(turn, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);

	t = fx_rtxn(&l.s);
	assert_int_equal(store_unexposed(l.s.st), 0);
	assert_int_equal(records_get(t, 2025, "A", 1, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "B", 1, &got), STORE_OK);
	store_abort(&t);
	assert_int_equal(l.ran, 1); /* B's writer hears at the turn's end */

	/* the turn goes on in a new transaction and commits */
	assert_non_null(turn = committer_txn(l.cm));
	recognised(&a, 2025, "C");
	assert_int_equal(records_put(turn, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(committer_defer(l.cm, done_cb, &l), 0);
	turn_end(&l);
	assert_int_equal(l.ran, 3);
	assert_int_equal(l.status, STORE_OK);
	loop_reopen(&l);
	t = fx_rtxn(&l.s);
	assert_int_equal(records_get(t, 2025, "B", 1, &got), STORE_OK);
	assert_int_equal(records_get(t, 2025, "C", 1, &got), STORE_OK);
	store_abort(&t);
	fx_store_close(&l.s);
}

/* Lingering turns, then the process dies without closing anything: the
 * next open replays them from the journal. */
static void
test_lingering_turns_survive_a_crash(void **state)
{
	char dir[64];
	struct store *st;
	struct store_txn *t;
	struct assessment got;
	pid_t child;
	int ws;

	assert_int_equal(fx_tmpdir(dir, "commit"), 0);
	if ((child = fork()) == 0) {
		struct loop l;
		char pid[8];

		memset(&l, 0, sizeof(l));
		memcpy(l.s.dir, dir, sizeof(dir));
		if (store_open(dir, FX_MAP_MB, &l.s.st) != STORE_OK ||
		    (l.base = event_base_new()) == NULL ||
		    event_base_priority_init(l.base, 3) != 0 ||
		    (l.cm = committer_new(l.base, l.s.st)) == NULL)
			_exit(2);
		committer_idle_ms(l.cm, NEVER_IDLE_MS);
		for (int i = 0; i < 7; i++) {
			snprintf(pid, sizeof(pid), "K%d", i);
			one_turn(&l, pid);
		}
		/* acknowledged, and none of them in data.mdb */
		_exit(l.ran == 7 && l.status == STORE_OK &&
		              store_unexposed(l.s.st) == 7
		          ? 0
		          : 3);
	}
	assert_true(child > 0);
	assert_int_equal(waitpid(child, &ws, 0), child);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);

	assert_int_equal(store_open(dir, FX_MAP_MB, &st), STORE_OK);
	assert_int_equal(store_replayed(st), 7);
	assert_non_null(t = store_begin(st, 0));
	for (int i = 0; i < 7; i++) {
		char pid[8];

		snprintf(pid, sizeof(pid), "K%d", i);
		assert_int_equal(records_get(t, 2025, pid, 2, &got), STORE_OK);
	}
	store_abort(&t);
	store_close(&st);
	fx_rm_dir(dir);
}

/* With nobody reading, an idle node's turns reach data.mdb by themselves
 * (for cdhtd --backup, which reads it from another process). */
static void
test_idle_node_exposes(void **state)
{
	struct loop l;
	struct timeval tv = {0, 200000};

	loop_open(&l, FX_MAP_MB);
	one_turn(&l, "I");
	assert_int_equal(store_unexposed(l.s.st), 1);
	assert_int_equal(event_base_loopexit(l.base, &tv), 0);
	assert_true(event_base_dispatch(l.base) >= 0);
	assert_int_equal(store_unexposed(l.s.st), 0);
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
	    cmocka_unit_test(test_big_turn_settles_off_loop),
	    cmocka_unit_test(test_big_turn_after_lingering_ones),
	    cmocka_unit_test(test_failed_flush_checkpoints),
	    cmocka_unit_test_setup_teardown(
	        test_turns_linger_until_a_reader, fast_disk, real_disk),
	    cmocka_unit_test_setup_teardown(
	        test_reader_during_an_open_turn, fast_disk, real_disk),
	    cmocka_unit_test_setup_teardown(
	        test_lingering_turns_survive_a_crash, fast_disk, real_disk),
	    cmocka_unit_test_setup_teardown(
	        test_idle_node_exposes, fast_disk, real_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
