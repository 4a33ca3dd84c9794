/*
 * commit.c: group commit.  The first write of a loop turn opens the shared
 * write transaction and activates a low-priority event; libevent runs it
 * once no higher-priority event (HTTP, ZeroMQ) is active, so every write of
 * the turn is in the transaction when it commits, and its journal record
 * is flushed.  Usually on the loop; on a slow disk a big turn's flush goes
 * to the flusher's thread (see OFFLOAD_MIN) while the loop goes on parsing
 * and running the next turn's requests into a new transaction.  Either
 * way the deferred callbacks run with the outcome once the flush is done
 * (for the thread, in flush_done, on the loop), and the next turn commits
 * only then: one commit settles at a time.  A turn committed on the loop
 * lingers in the store's open transaction (store.c), written to data.mdb
 * later, in one go with the turns after it; at most EXPOSE_MS after the
 * last turn, an idle node commits it in LMDB for other processes to read
 * (cdhtd --backup).  On a slow disk (flushes of OFFLOAD_NS) a big turn
 * (OFFLOAD_MIN writers) does not linger, so that the next may go to the
 * thread, which needs nothing lingering; small turns linger on any disk.
 * main.c sets up 3 priorities (default 1).  A turn that only ran dry
 * runs (committer_nested) has nothing to commit: its transaction is
 * aborted and the hook is not called.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "commit.h"
#include "flusher.h"
#include "log.h"
#include "metrics.h"

#define COMMIT_PRIORITY 2
/*
 * When a turn's flush goes to the thread: the turn has at least
 * OFFLOAD_MIN writers (the others, waiting meanwhile, are what the overlap
 * serves) and the journal's flushes have lately taken OFFLOAD_NS or more
 * (the overlap must outweigh the thread's two wake-ups, tens of
 * microseconds here).  Measured with wrk on loopback (README, "What
 * changed for 0.5.2"): every flush handed over cost 0.75x at 1 client,
 * 0.9x at 8; big turns only, whatever the disk: with 600 us flushes
 * 1.07x..1.12x at 64 clients, with this machine's fast flushes 0.95x.
 */
#define OFFLOAD_MIN 16
#define OFFLOAD_NS  300000
/* An idle node's durable turns are in data.mdb this long after the last. */
#define EXPOSE_MS 10

struct deferred {
	committer_cb cb;
	void *arg;
};

struct committer {
	struct store *st;
	struct event *ev;
	struct event *idle; /* idle_ms after a turn lingered */
	int idle_ms;        /* EXPOSE_MS unless committer_idle_ms */
	struct store_txn *txn;
	int wrote;  /* committer_txn was called this turn, not only _nested */
	int expose; /* this turn goes to data.mdb at once (backup mark) */
	struct deferred *q;
	size_t nq, capq;
	void (*hook)(void *);
	void *hook_arg;
	struct flusher *fl; /* NULL: flush on the loop */
	/* the commit settling while its record flushes */
	struct deferred *sq;
	size_t nsq;
	int64_t st0, sf0;
	int64_t flush_ns; /* the flushes' moving average (1/8 the newest) */
};

static void
flush_took(struct committer *cm, int64_t ns)
{
	cm->flush_ns += (ns - cm->flush_ns) / 8;
}

/* The callbacks of a commit, then the hook. */
static void
settled(
    struct committer *cm, struct deferred *q, size_t n, int wrote, int status)
{
	if (store_unexposed(cm->st) > 0 && !evtimer_pending(cm->idle, NULL)) {
		struct timeval tv = {
		    cm->idle_ms / 1000, (cm->idle_ms % 1000) * 1000};

		evtimer_add(cm->idle, &tv);
	}
	if (status != STORE_OK)
		log_warnx("commit of %zu writes failed: %s", n,
		    store_strerror(status));
	for (size_t i = 0; i < n; i++)
		q[i].cb(q[i].arg, status);
	free(q);
	if (status == STORE_OK && wrote && cm->hook != NULL)
		cm->hook(cm->hook_arg);
}

static void
flush_done(void *arg, int err)
{
	struct committer *cm = arg;
	struct deferred *q = cm->sq;
	size_t n = cm->nsq;
	int status;

	flush_took(cm, metrics_now_ns() - cm->sf0);
	status = store_commit_finish(cm->st, err, 0);
	metrics_commit(n, metrics_now_ns() - cm->st0, status == STORE_OK);
	cm->sq = NULL;
	cm->nsq = 0;
	settled(cm, q, n, 1, status);
	/* the turn that opened meanwhile commits now */
	if (cm->txn != NULL)
		event_active(cm->ev, 0, 0);
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct committer *cm = arg;
	struct deferred *q = cm->q;
	size_t n = cm->nq;
	int status, wrote = cm->wrote, sfd, expose;

	(void)fd;
	(void)what;
	if (cm->txn == NULL || (cm->fl != NULL && flusher_busy(cm->fl)))
		return; /* flush_done activates it again */
	cm->wrote = 0;
	expose = cm->expose;
	cm->expose = 0;
	/* callbacks may write again: they start a new queue and turn */
	cm->q = NULL;
	cm->nq = cm->capq = 0;
	if (wrote) {
		int64_t t0 = metrics_now_ns();

		int slow = cm->flush_ns >= OFFLOAD_NS && cm->fl != NULL;
		int offload =
		    n >= OFFLOAD_MIN && slow && store_can_offload(cm->st);

		status = store_commit_start(&cm->txn, offload, &sfd);
		if (status == STORE_OK && sfd >= 0 && offload &&
		    flusher_start(cm->fl, sfd) == 0) {
			cm->sq = q;
			cm->nsq = n;
			cm->st0 = t0;
			cm->sf0 = metrics_now_ns();
			metrics_commit_offloaded();
			return;
		}
		if (status == STORE_OK && sfd >= 0) {
			int64_t f0 = metrics_now_ns();
			int err = fdatasync(sfd) != 0 ? errno : 0;

			flush_took(cm, metrics_now_ns() - f0);
			/* on a slow disk a big turn does not linger: the
			 * next big one may offload only with nothing
			 * waiting; a small one never offloads, and lingers */
			status = store_commit_finish(
			    cm->st, err, !expose && (!slow || n < OFFLOAD_MIN));
		}
		metrics_commit(n, metrics_now_ns() - t0, status == STORE_OK);
	} else {
		store_abort(&cm->txn); /* dry runs only: nothing to keep */
		status = STORE_OK;
	}
	settled(cm, q, n, wrote, status);
}

/* Idle idle_ms after a turn lingered: its turns into data.mdb (a turn
 * open or settling meanwhile arms this again when it ends). */
static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct committer *cm = arg;

	(void)fd;
	(void)what;
	if (cm->txn == NULL && !store_settling(cm->st))
		store_expose(cm->st);
}

struct committer *
committer_new(struct event_base *base, struct store *st)
{
	struct committer *cm = calloc(1, sizeof(*cm));

	if (cm == NULL)
		return NULL;
	cm->st = st;
	cm->idle_ms = EXPOSE_MS;
	cm->ev = event_new(base, -1, 0, commit_cb, cm);
	cm->idle = evtimer_new(base, idle_cb, cm);
	if (cm->ev == NULL || cm->idle == NULL) {
		if (cm->ev != NULL)
			event_free(cm->ev);
		free(cm);
		return NULL;
	}
	event_priority_set(cm->ev, COMMIT_PRIORITY);
	event_priority_set(cm->idle, COMMIT_PRIORITY);
	/* without the thread, commits flush on the loop as before */
	if ((cm->fl = flusher_new(base, flush_done, cm)) == NULL)
		log_warnx("commits flush on the event loop");
	return cm;
}

void
committer_free(struct committer **cmp)
{
	struct committer *cm;

	if (cmp == NULL || (cm = *cmp) == NULL)
		return;
	/* callbacks may write again: drain a few rounds, abort what is left */
	if (cm->fl != NULL)
		flusher_wait(cm->fl);
	for (int i = 0; i < 4 && cm->txn != NULL; i++) {
		commit_cb(-1, 0, cm);
		if (cm->fl != NULL)
			flusher_wait(cm->fl);
	}
	if (cm->txn != NULL) {
		log_warnx("shutdown: abandoning %zu late writes", cm->nq);
		store_abort(&cm->txn);
		for (size_t i = 0; i < cm->nq; i++)
			cm->q[i].cb(cm->q[i].arg, STORE_EIO);
	}
	flusher_free(&cm->fl);
	event_free(cm->idle);
	event_free(cm->ev);
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

static void
mark_done_cb(void *arg, int status)
{
	(void)arg;
	if (status == STORE_OK)
		log_info("backup mark written: data.mdb holds every "
		         "acknowledged write");
}

void
committer_idle_ms(struct committer *cm, int ms)
{
	cm->idle_ms = ms > 0 ? ms : EXPOSE_MS;
}

void
committer_backup_mark(struct committer *cm)
{
	struct store_txn *t;

	/* nested: a failure here is not the turn's other writers' */
	if (committer_nested(cm, &t) != STORE_OK ||
	    store_put_backup_mark(t) != STORE_OK ||
	    committer_sub_end(cm, &t) != STORE_OK) {
		store_abort(&t);
		log_warnx("cannot write the backup mark: the backup fails");
		return;
	}
	cm->expose = 1;
	committer_defer(cm, mark_done_cb, NULL);
}

void
committer_on_commit(struct committer *cm, void (*cb)(void *), void *arg)
{
	cm->hook = cb;
	cm->hook_arg = arg;
}
