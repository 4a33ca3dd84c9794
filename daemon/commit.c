/*
 * commit.c: group commit.  The first write of a loop turn opens the shared
 * write transaction and activates a low-priority event; libevent runs it
 * once no higher-priority event (HTTP, ZeroMQ) is active, so every write of
 * the turn is in the transaction when it commits.  Then the deferred
 * callbacks run with the outcome.  main.c sets up 3 priorities (default 1).
 * A turn that only ran dry runs (committer_nested) has nothing to commit:
 * its transaction is aborted and the hook is not called.
 */
#include <stdlib.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"

#define COMMIT_PRIORITY 2

struct deferred {
	committer_cb cb;
	void *arg;
};

struct committer {
	struct store *st;
	struct event *ev;
	struct store_txn *txn;
	int wrote; /* committer_txn was called this turn, not only _nested */
	struct deferred *q;
	size_t nq, capq;
	void (*hook)(void *);
	void *hook_arg;
};

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct committer *cm = arg;
	struct deferred *q = cm->q;
	size_t n = cm->nq;
	int status, wrote = cm->wrote;

	if (cm->txn == NULL)
		return;
	cm->wrote = 0;
	if (wrote) {
		int64_t t0 = metrics_now_ns();
		status = store_commit(&cm->txn);
		metrics_commit(n, metrics_now_ns() - t0, status == STORE_OK);
	} else {
		store_abort(&cm->txn); /* dry runs only: nothing to keep */
		status = STORE_OK;
	}
	if (status != STORE_OK)
		log_warnx("commit of %zu writes failed: %s", n,
		    store_strerror(status));
	/* callbacks may write again: they start a new queue and turn */
	cm->q = NULL;
	cm->nq = cm->capq = 0;
	for (size_t i = 0; i < n; i++)
		q[i].cb(q[i].arg, status);
	free(q);
	if (status == STORE_OK && wrote && cm->hook != NULL)
		cm->hook(cm->hook_arg);
}

struct committer *
committer_new(struct event_base *base, struct store *st)
{
	struct committer *cm = calloc(1, sizeof(*cm));

	if (cm == NULL)
		return NULL;
	cm->st = st;
	cm->ev = event_new(base, -1, 0, commit_cb, cm);
	if (cm->ev == NULL) {
		free(cm);
		return NULL;
	}
	event_priority_set(cm->ev, COMMIT_PRIORITY);
	return cm;
}

void
committer_free(struct committer **cmp)
{
	struct committer *cm;

	if (cmp == NULL || (cm = *cmp) == NULL)
		return;
	/* callbacks may write again: drain a few rounds, abort what is left */
	for (int i = 0; i < 4 && cm->txn != NULL; i++)
		commit_cb(-1, 0, cm);
	if (cm->txn != NULL) {
		log_warnx("shutdown: abandoning %zu late writes", cm->nq);
		store_abort(&cm->txn);
		for (size_t i = 0; i < cm->nq; i++)
			cm->q[i].cb(cm->q[i].arg, STORE_EIO);
	}
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

void
committer_on_commit(struct committer *cm, void (*cb)(void *), void *arg)
{
	cm->hook = cb;
	cm->hook_arg = arg;
}
