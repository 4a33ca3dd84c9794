/*
 * commit.h: group commit.  All writes made while handling the events of one
 * event-loop turn share one LMDB write transaction; it commits (durably)
 * after the turn, and only then are the writers' replies sent, through the
 * callbacks they registered.  A 2xx or an ACK therefore always means
 * committed.
 */
#ifndef CDHT_COMMIT_H
#define CDHT_COMMIT_H

#include <event2/event.h>

#include "store.h"

struct committer;

/* Create; returns NULL on allocation failure.  Free with committer_free. */
struct committer *committer_new(struct event_base *base, struct store *st);
/* Commit anything pending (callbacks run), then free; NULL-tolerant. */
void committer_free(struct committer **cm);

/*
 * The write transaction of the current turn, opened on first use and owned
 * by the committer (never commit or abort it yourself).  NULL if it cannot
 * be opened.  After a failed call, check store_txn_err(): once an operation
 * failed, the whole turn's transaction is aborted and every deferred
 * callback of the turn gets the error.
 */
struct store_txn *committer_txn(struct committer *cm);

/*
 * For a dry run: a write transaction nested in the current turn's (opened
 * if needed), which sees every write of the turn so far.  Returns STORE_OK
 * and *out, owned by the caller, who must store_abort() it before anything
 * else uses the turn's transaction (that is, before returning to the
 * loop); or the turn's sticky error (what a real write would get), or
 * STORE_EIO.  Opening it does not make the turn a write: a turn that only
 * ran dry runs commits nothing and does not call the on_commit hook, and
 * nothing done in *out ever reaches the turn's transaction.
 */
int committer_nested(struct committer *cm, struct store_txn **out);

/*
 * For one child's batch (or HELLO): a transaction nested in the turn's,
 * opened with committer_nested, that committer_sub_end then merges into
 * the turn (when *t is healthy) or throws away (when an operation in it
 * failed: a full map, say), so that one child's failure never spreads to
 * the other writers of the turn.  Returns the outcome: STORE_OK when the
 * writes joined the turn (they commit, or fail, with it).  *t is freed.
 */
int committer_sub_end(struct committer *cm, struct store_txn **t);

/*
 * Run cb(arg, status) once the current turn's transaction has committed
 * (status STORE_OK) or failed (a store_err).  Returns 0, or -1 if out of
 * memory (then cb is never called).
 */
typedef void (*committer_cb)(void *arg, int status);
int committer_defer(struct committer *cm, committer_cb cb, void *arg);

/* How long an idle node's lingering turns wait for data.mdb (ms; 0 or
 * less: the default, EXPOSE_MS).  Tests that look at lingering turns on a
 * slow machine set it long, so that the timer cannot fire between turns. */
void committer_idle_ms(struct committer *cm, int ms);

/* cdhtd --backup asks (SIGUSR1, main.c): write the store's next backup
 * mark in this turn, which goes to data.mdb as soon as it is durable, with
 * every turn before it (store.h store_backup).  Failures are logged. */
void committer_backup_mark(struct committer *cm);

/* Call cb(arg) after every successful commit (the uplink flushes then). */
void committer_on_commit(struct committer *cm, void (*cb)(void *), void *arg);

#endif
