/*
 * commit.c: group commit, with the last flush off the event loop.  The first
 * write of a loop turn opens the shared write transaction and activates a
 * low-priority event; libevent runs it once no higher-priority event (HTTP,
 * ZeroMQ) is active, so every write of the turn is in the transaction when
 * it commits.  main.c sets up 3 priorities (default 1).  A turn that only
 * ran dry runs (committer_nested) has nothing to commit: its transaction is
 * aborted, its callbacks run at once and the hook is not called.
 *
 * Durability.  The environment is opened with MDB_NOMETASYNC (store.c):
 * store_commit_nosync() flushes the data pages, then writes the meta page
 * without flushing it.  The committed turn becomes a batch waiting for its
 * sync: a thread of ours calls store_sync() (fdatasync of the data file,
 * which also flushes that meta page) and says so through a pipe; only then
 * do the batch's deferred callbacks (the 2xx, the ACKs) run, then the hook
 * (the uplink), and the commit metrics are counted.  Meanwhile the loop
 * parses and applies the next turn, which may commit in turn.  LMDB's
 * commit itself stays on the loop thread (its write lock is owned by the
 * thread that took it); the sync thread never calls libevent or LMDB but
 * mdb_env_sync.  A batch is released only by a sync that began after it
 * committed (a later commit's data flush would cover it too, but with two
 * flushes racing on one file the kernel reports a write-back error to one
 * of them only, so only our own sync results are trusted).
 *
 * Reads (GET, and any read transaction) may see a batch that is committed
 * but not yet synced: a power cut can still take it away, although its
 * writer has had no reply yet.  What must never leave the node before it is
 * durable (a version sent to the parent) goes through committer_sync().
 *
 * A failed sync, or a failed commit while batches wait for their sync,
 * breaks the committer: the data file may have lost pages the environment
 * already counts as committed, so every waiting batch and every later write
 * fails with STORE_EIO (logged) until the daemon restarts.
 *
 * The committer owns its transactions, queues and thread; committer_free
 * commits what is pending, waits for the last sync and joins the thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"

#define COMMIT_PRIORITY 2
#define SYNCED_PRIORITY 0

struct deferred {
	committer_cb cb;
	void *arg;
};

/* A committed turn waiting for its sync. */
struct batch {
	uint64_t seq;
	struct deferred *q;
	size_t n;
	int64_t t0; /* when its commit began */
};

struct committer {
	struct store *st;
	struct event *ev;      /* the commit, low priority */
	struct event *ev_sync; /* pfd[0] readable: a sync returned */
	struct store_txn *txn;
	int wrote; /* committer_txn was called this turn, not only _nested */
	struct deferred *q;
	size_t nq, capq;
	void (*hook)(void *);
	void *hook_arg;
	int (*sync)(struct store *);

	/* loop thread only */
	struct batch *b; /* committed, not yet released, oldest first */
	size_t nb, capb;
	uint64_t committed; /* seq of the last batch committed */
	int broken;         /* a sync or commit failed: all writes fail */

	/* shared with the sync thread, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* req raised, or stop */
	pthread_cond_t cv_done; /* done raised */
	uint64_t req;           /* the last seq to make durable */
	uint64_t done;          /* every seq <= done went through a sync */
	int failed;             /* a sync failed */
	int stop;
	int pfd[2];
	pthread_t thr;
};

static void *
sync_main(void *arg)
{
	struct committer *cm = arg;
	char c = 1;

	pthread_mutex_lock(&cm->mu);
	for (;;) {
		while (cm->req <= cm->done && !cm->stop)
			pthread_cond_wait(&cm->cv, &cm->mu);
		if (cm->req <= cm->done)
			break; /* stop, and nothing left to sync */
		uint64_t target = cm->req;
		pthread_mutex_unlock(&cm->mu);
		int rc = cm->sync(cm->st);
		pthread_mutex_lock(&cm->mu);
		cm->done = target;
		if (rc != STORE_OK)
			cm->failed = 1;
		pthread_cond_broadcast(&cm->cv_done);
		pthread_mutex_unlock(&cm->mu);
		/* a full pipe already holds a wake-up: nothing is lost */
		while (write(cm->pfd[1], &c, 1) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&cm->mu);
	}
	pthread_mutex_unlock(&cm->mu);
	return NULL;
}

static void
run_callbacks(struct deferred *q, size_t n, int status)
{
	for (size_t i = 0; i < n; i++)
		q[i].cb(q[i].arg, status);
	free(q);
}

/* Take the oldest waiting batch out of the queue (callbacks may recurse). */
static struct batch
pop_batch(struct committer *cm)
{
	struct batch b = cm->b[0];

	cm->nb--;
	for (size_t i = 0; i < cm->nb; i++)
		cm->b[i] = cm->b[i + 1];
	return b;
}

/* Fail every waiting batch: the committer is broken. */
static void
fail_waiting(struct committer *cm)
{
	while (cm->nb > 0) {
		struct batch b = pop_batch(cm);
		metrics_commit(b.n, metrics_now_ns() - b.t0, 0);
		run_callbacks(b.q, b.n, STORE_EIO);
	}
}

static void
set_broken(struct committer *cm, const char *why)
{
	if (!cm->broken)
		log_warnx("%s: %zu committed batches may be lost; every write "
		          "now fails: restart cdhtd",
		    why, cm->nb);
	cm->broken = 1;
}

/* Release the batches up to seq upto (durable now), then the hook once. */
static void
release(struct committer *cm, uint64_t upto)
{
	int any = 0;

	while (cm->nb > 0 && cm->b[0].seq <= upto && !cm->broken) {
		struct batch b = pop_batch(cm);
		metrics_commit(b.n, metrics_now_ns() - b.t0, 1);
		run_callbacks(b.q, b.n, STORE_OK);
		any = 1;
	}
	if (any && !cm->broken && cm->hook != NULL)
		cm->hook(cm->hook_arg);
}

/* The sync thread's results: release, or fail, what they cover. */
static void
synced_cb(evutil_socket_t fd, short what, void *arg)
{
	struct committer *cm = arg;
	char buf[64];
	uint64_t done;
	int failed;

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&cm->mu);
	done = cm->done;
	failed = cm->failed;
	pthread_mutex_unlock(&cm->mu);
	if (failed)
		set_broken(cm, "data file sync failed");
	if (cm->broken)
		fail_waiting(cm);
	else
		release(cm, done);
}

/* Queue a committed batch and ask the thread to sync it; 0 or -1. */
static int
wait_sync(struct committer *cm, struct deferred *q, size_t n, int64_t t0)
{
	if (cm->nb == cm->capb) {
		size_t cap = cm->capb ? 2 * cm->capb : 8;
		struct batch *b = realloc(cm->b, cap * sizeof(*b));
		if (b == NULL)
			return -1;
		cm->b = b;
		cm->capb = cap;
	}
	cm->b[cm->nb].seq = ++cm->committed;
	cm->b[cm->nb].q = q;
	cm->b[cm->nb].n = n;
	cm->b[cm->nb].t0 = t0;
	cm->nb++;
	pthread_mutex_lock(&cm->mu);
	cm->req = cm->committed;
	pthread_cond_signal(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	return 0;
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct committer *cm = arg;
	struct deferred *q = cm->q;
	size_t n = cm->nq;
	int status, wrote = cm->wrote;
	int64_t t0;

	if (cm->txn == NULL)
		return;
	cm->wrote = 0;
	/* callbacks may write again: they start a new queue and turn */
	cm->q = NULL;
	cm->nq = cm->capq = 0;
	if (!wrote || cm->broken) {
		/* dry runs only: nothing to keep; broken: nothing kept */
		store_abort(&cm->txn);
		run_callbacks(q, n, wrote ? STORE_EIO : STORE_OK);
		return;
	}
	t0 = metrics_now_ns();
	status = store_commit_nosync(&cm->txn);
	if (status != STORE_OK) {
		log_warnx("commit of %zu writes failed: %s", n,
		    store_strerror(status));
		metrics_commit(n, metrics_now_ns() - t0, 0);
		/* its flush may have eaten the write-back error of a batch
		 * that waits for its sync */
		if (status == STORE_EIO && cm->nb > 0) {
			set_broken(cm, "commit failed");
			fail_waiting(cm);
		}
		run_callbacks(q, n, status);
		return;
	}
	if (wait_sync(cm, q, n, t0) == 0)
		return;
	/* out of memory: sync here, on the loop */
	status = cm->sync(cm->st);
	metrics_commit(n, metrics_now_ns() - t0, status == STORE_OK);
	if (status != STORE_OK) {
		set_broken(cm, "data file sync failed");
		fail_waiting(cm);
	}
	run_callbacks(q, n, status);
	if (status == STORE_OK && cm->hook != NULL)
		cm->hook(cm->hook_arg);
}

struct committer *
committer_new(struct event_base *base, struct store *st)
{
	struct committer *cm = calloc(1, sizeof(*cm));

	if (cm == NULL)
		return NULL;
	cm->st = st;
	cm->sync = store_sync;
	cm->pfd[0] = cm->pfd[1] = -1;
	if (pthread_mutex_init(&cm->mu, NULL) != 0) {
		free(cm);
		return NULL;
	}
	if (pthread_cond_init(&cm->cv, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&cm->cv_done, NULL) != 0)
		goto fail_cv;
	if (pipe(cm->pfd) == -1) {
		log_warn("committer: pipe");
		goto fail_cvd;
	}
	for (int i = 0; i < 2; i++)
		if (fcntl(cm->pfd[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(cm->pfd[i], F_SETFD, FD_CLOEXEC) == -1) {
			log_warn("committer: pipe flags");
			goto fail_pipe;
		}
	cm->ev = event_new(base, -1, 0, commit_cb, cm);
	cm->ev_sync =
	    event_new(base, cm->pfd[0], EV_READ | EV_PERSIST, synced_cb, cm);
	if (cm->ev == NULL || cm->ev_sync == NULL)
		goto fail_ev;
	event_priority_set(cm->ev, COMMIT_PRIORITY);
	event_priority_set(cm->ev_sync, SYNCED_PRIORITY);
	if (event_add(cm->ev_sync, NULL) != 0)
		goto fail_ev;
	if (pthread_create(&cm->thr, NULL, sync_main, cm) != 0) {
		log_warnx("committer: cannot start the sync thread");
		goto fail_ev;
	}
	return cm;
fail_ev:
	if (cm->ev != NULL)
		event_free(cm->ev);
	if (cm->ev_sync != NULL)
		event_free(cm->ev_sync);
fail_pipe:
	close(cm->pfd[0]);
	close(cm->pfd[1]);
fail_cvd:
	pthread_cond_destroy(&cm->cv_done);
fail_cv:
	pthread_cond_destroy(&cm->cv);
fail_mu:
	pthread_mutex_destroy(&cm->mu);
	free(cm);
	return NULL;
}

/* Block until the thread has synced every batch committed so far. */
static void
wait_thread(struct committer *cm)
{
	pthread_mutex_lock(&cm->mu);
	while (cm->done < cm->req)
		pthread_cond_wait(&cm->cv_done, &cm->mu);
	pthread_mutex_unlock(&cm->mu);
	synced_cb(cm->pfd[0], 0, cm);
}

void
committer_free(struct committer **cmp)
{
	struct committer *cm;

	if (cmp == NULL || (cm = *cmp) == NULL)
		return;
	/* callbacks may write again: drain a few rounds, abort what is left */
	for (int i = 0; i < 4 && (cm->txn != NULL || cm->nb > 0); i++) {
		commit_cb(-1, 0, cm);
		wait_thread(cm);
	}
	if (cm->txn != NULL) {
		log_warnx("shutdown: abandoning %zu late writes", cm->nq);
		store_abort(&cm->txn);
		for (size_t i = 0; i < cm->nq; i++)
			cm->q[i].cb(cm->q[i].arg, STORE_EIO);
	}
	pthread_mutex_lock(&cm->mu);
	cm->stop = 1;
	pthread_cond_signal(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	pthread_join(cm->thr, NULL);
	fail_waiting(cm); /* none: every round ended with a sync */
	event_free(cm->ev);
	event_free(cm->ev_sync);
	close(cm->pfd[0]);
	close(cm->pfd[1]);
	pthread_cond_destroy(&cm->cv_done);
	pthread_cond_destroy(&cm->cv);
	pthread_mutex_destroy(&cm->mu);
	free(cm->b);
	free(cm->q);
	free(cm);
	*cmp = NULL;
}

/* The turn's transaction, opened (and its commit scheduled) on first use. */
static struct store_txn *
turn_txn(struct committer *cm)
{
	if (cm->txn == NULL) {
		cm->txn = store_begin(cm->st, 1);
		if (cm->txn == NULL)
			return NULL;
		event_active(cm->ev, 0, 0);
	}
	return cm->txn;
}

struct store_txn *
committer_txn(struct committer *cm)
{
	struct store_txn *t = turn_txn(cm);

	if (t != NULL)
		cm->wrote = 1;
	return t;
}

int
committer_nested(struct committer *cm, struct store_txn **out)
{
	struct store_txn *t = turn_txn(cm);
	int rc;

	*out = NULL;
	if (t == NULL)
		return STORE_EIO;
	if ((rc = store_txn_err(t)) != STORE_OK)
		return rc;
	if ((*out = store_begin_nested(t)) == NULL)
		return STORE_EIO;
	return STORE_OK;
}

int
committer_sub_end(struct committer *cm, struct store_txn **t)
{
	int rc = *t != NULL ? store_txn_err(*t) : STORE_EIO;

	if (rc != STORE_OK) {
		store_abort(t);
		return rc;
	}
	if ((rc = store_commit(t)) == STORE_OK) /* into the turn */
		cm->wrote = 1;
	return rc;
}

int
committer_defer(struct committer *cm, committer_cb cb, void *arg)
{
	if (cm->nq == cm->capq) {
		size_t cap = cm->capq ? 2 * cm->capq : 16;
		struct deferred *q = realloc(cm->q, cap * sizeof(*q));
		if (q == NULL)
			return -1;
		cm->q = q;
		cm->capq = cap;
	}
	cm->q[cm->nq].cb = cb;
	cm->q[cm->nq].arg = arg;
	cm->nq++;
	if (cm->txn == NULL && committer_txn(cm) == NULL) {
		/* cannot even open a transaction: report the failure now */
		cm->nq--;
		cb(arg, STORE_EIO);
	}
	return 0;
}

void
committer_on_commit(struct committer *cm, void (*cb)(void *), void *arg)
{
	cm->hook = cb;
	cm->hook_arg = arg;
}

int
committer_sync(struct committer *cm)
{
	int rc;

	if (cm == NULL)
		return STORE_OK;
	if (cm->broken)
		return STORE_EIO;
	if (cm->nb == 0)
		return STORE_OK; /* nothing committed waits for its sync */
	if ((rc = cm->sync(cm->st)) != STORE_OK) {
		/* the waiting batches fail from their own event, not inside
		 * our caller */
		set_broken(cm, "data file sync failed");
		event_active(cm->ev_sync, EV_READ, 0);
	}
	return rc;
}

size_t
committer_unsynced(const struct committer *cm)
{
	return cm->nb;
}

void
committer_set_sync(struct committer *cm, int (*sync)(struct store *))
{
	cm->sync = sync != NULL ? sync : store_sync;
}
