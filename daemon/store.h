/*
 * store.h: the LMDB environment and its tables behind a small key-value API.
 * store.c is the only file that includes <lmdb.h>.
 *
 * A transaction carries a sticky error (as in Knot DNS's knot_lmdb): after the
 * first failure every call is a no-op returning that error, and the caller
 * checks once, at commit.  Keys that hold numbers are big-endian so byte order
 * is logical order and a prefix scan is a range.
 */
#ifndef CDHT_STORE_H
#define CDHT_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_err {
	STORE_OK = 0,
	STORE_NOTFOUND = -1, /* never sticky */
	STORE_FULL = -2,     /* MDB_MAP_FULL: the map size is exhausted */
	STORE_EIO = -3,      /* any other LMDB or system failure */
	STORE_ENOMEM = -4,
	STORE_CORRUPT = -5, /* a stored value that cannot be decoded */
	STORE_SCHEMA = -6,  /* the data directory's schema is not ours */
};

/*
 * The data directory's schema version (TBL_META "schema").  1: raw C
 * structs (release 0.1.0); 2: every value encoded by value.h with a format
 * byte; 3: assessments gain eligible and their decision, reports their
 * filer (release 0.3.0); 4: win and totals keys put the year first
 * (release 0.5.0).  A newer cdhtd migrates an older directory
 * (migrate.c); an older one refuses a newer directory.
 */
#define STORE_SCHEMA_VERSION 4

/* The tables (LMDB named databases) and their one owner; never renumber,
 * names are on disk.  Value encodings: proto/PROTOCOL.md "Stored data". */
enum store_table {
	TBL_META,     /* store.c: "schema", "seq"; outbox.c: "parent" */
	TBL_ASSESS,   /* records.c: year(2) person_id -> assessment */
	TBL_LOCAL,    /* records.c: year(2) -> this node's own report */
	TBL_MIRROR,   /* aggregate.c: origin \0 year(2) via \0 -> copy via */
	TBL_WIN,      /* aggregate.c: year(2) origin -> winning copy */
	TBL_TOTALS,   /* aggregate.c: year(2) node -> winners' sums */
	TBL_NODES,    /* aggregate.c: origin -> node directory entry */
	TBL_OUTBOX,   /* outbox.c: origin \0 year(2) -> (empty): to send */
	TBL_ACKED,    /* outbox.c: origin \0 year(2) -> version acked */
	TBL_AUDIT,    /* records.c: seq(8) -> audit record */
	TBL_PIN,      /* aggregate.c: origin -> the child it is held via */
	TBL_BYVIA,    /* aggregate.c: via \0 origin \0 year(2) -> (empty) */
	TBL_TITLES,   /* titles.c: year(2) kind(1) id -> title record */
	TBL_DECISION, /* decisions.c: year(2) number -> decision */
	/* decisions.c: year(2) number \0 title(1) id -> (empty) */
	TBL_DECIDED,
	TBL_HISTORY, /* history.c: year(2) -> imported results */
	TBL_COUNT
};

struct store;
struct store_txn;

/*
 * How a store is opened.  journal_mb: the size of the write-ahead journal
 * DATA_DIR/journal ([node] journal_mb): a commit costs one fdatasync of
 * its record instead of LMDB's two syncs; 0 turns it off (LMDB syncs each
 * commit; an existing journal is replayed, then removed).  A commit
 * returning STORE_OK is durable either way.  checkpoint_ms: a commit at
 * least this long after the last checkpoint makes one (0: the default).
 */
struct store_opts {
	uint64_t map_mb;
	uint32_t journal_mb;
	uint32_t checkpoint_ms;
};
#define STORE_JOURNAL_MB       64 /* [node] journal_mb's default */
#define STORE_JOURNAL_MB_SMALL 1  /* store_open's: tests and tools */
#define STORE_JOURNAL_MB_MAX   4096
#define STORE_CHECKPOINT_MS    1000

/*
 * Open (creating if needed) the environment in dir as o says.  Every
 * opener goes through the recovery: when the last run did not stop
 * cleanly, data.mdb is put back at the journal's checkpoint and every
 * journaled transaction is replayed (logged with their number), whatever
 * journal_mb is now.  Returns STORE_OK and *out, or an error (logged):
 * STORE_SCHEMA when the directory was written by a newer schema (the
 * message names both versions); STORE_CORRUPT when the journal cannot be
 * trusted or data.mdb is not the one it follows (nothing changed).  A
 * directory of an older schema opens, but refuses write transactions
 * until migrate_run() has brought it to STORE_SCHEMA_VERSION.
 */
int store_open_opts(
    const char *dir, const struct store_opts *o, struct store **out);
/* store_open_opts with a map of map_mb megabytes and a small journal
 * (STORE_JOURNAL_MB_SMALL). */
int store_open(const char *dir, uint64_t map_mb, struct store **out);
/*
 * Checkpoint now if anything was committed since the last one: data.mdb
 * synced, the journal started over (the store does it itself when the
 * journal fills, STORE_CHECKPOINT_MS after the last one at a commit, and
 * at store_close).  STORE_OK (also with the journal off) or STORE_EIO.
 */
int store_checkpoint(struct store *st);
/* Checkpoints done since the open (count), and the time all checkpoints
 * took, failed ones too (ns): the time their callers, the loop mostly,
 * waited for data.mdb's sync and the journal's header (/metrics). */
void store_checkpoint_stats(
    const struct store *st, uint64_t *count, int64_t *ns);
/* Transactions replayed from the journal when st was opened. */
size_t store_replayed(const struct store *st);
/* Whether commits go through the journal (1) or LMDB's own syncs (0). */
int store_journaled(const struct store *st);
/* The schema version of the open directory. */
uint32_t store_schema(const struct store *st);
/* The write transaction that migrates an older directory; NULL if none is
 * needed or on failure.  *from gets the directory's schema. */
struct store_txn *store_begin_migration(struct store *st, uint32_t *from);
/* Commit a migration transaction, recording STORE_SCHEMA_VERSION in it. */
int store_commit_migration(struct store_txn **t);
/*
 * Copy the environment in dir (which a running node may be writing) into
 * dest/data.mdb (dest created 0700 if needed; the file must not exist),
 * compacted, mode 0600, synced: a consistent snapshot that is a data_dir
 * of its own.  STORE_OK or STORE_EIO (logged; no partial file is left).
 * Refused when dir was not stopped cleanly and no cdhtd runs on it (its
 * journal holds what data.mdb may lack: start cdhtd on it once first).
 * When one runs, it is first asked (SIGUSR1) to write a backup mark into
 * data.mdb, with every turn it acknowledged before: the copy holds them.
 */
int store_backup(const char *dir, const char *dest);
/* Write the next backup mark into t (meta table; cdhtd writes one when
 * cdhtd --backup asks, in a turn that goes to data.mdb at once, so that
 * the copy holds every turn acknowledged before). */
int store_put_backup_mark(struct store_txn *t);

/* Close and free *st (NULL-tolerant); sets *st = NULL.  With the journal
 * on, a last checkpoint marks the directory cleanly stopped. */
void store_close(struct store **st);

/* Begin a read-only or write transaction; NULL on failure (logged). */
struct store_txn *store_begin(struct store *st, int write);
/*
 * Begin a transaction nested in the write transaction parent (for a dry
 * run: write, read back, then store_abort).  Until the child ends, parent
 * must not be used.  NULL on failure (logged) or if parent is in error.
 */
struct store_txn *store_begin_nested(struct store_txn *parent);
/* Commit (durably) and free *t; returns the sticky error or commit result. */
int store_commit(struct store_txn **t);
/*
 * store_commit in two halves, for a caller that flushes off the event loop
 * (commit.c).  store_commit_start commits *t (freed) into the open
 * transaction (with offload, in LMDB) and writes its journal record.  A result
 * other than STORE_OK, or *fd == -1, is final (the commit failed, or is durable
 * already).  Otherwise fdatasync(*fd) (from any thread), then
 * store_commit_finish(st, 0 or the flush's errno) on the loop's thread returns
 * the outcome (a failed flush falls back to a checkpoint).  In between, the
 * commit is settling: nobody may hear of it (a reply, a report to the parent)
 * and no other write may commit; with offload set, the read transactions begun
 * meanwhile (store_begin(st, 0)) share a snapshot taken just before it, so no
 * reader sees it either (the write transaction of the next turn does: it builds
 * on it).
 */
int store_commit_start(struct store_txn **t, int offload, int *fd);
/* linger: the turn may stay in the open transaction (store.c's top), not
 * yet written to data.mdb; 0 commits it in LMDB (readers and other
 * processes see it either way once it is durable: a reader exposes it). */
int store_commit_finish(struct store *st, int err, int linger);
/* 1 while a commit is settling (between the two halves above). */
int store_settling(const struct store *st);
/* Whether offload may be asked for now: nothing durable waits in the open
 * transaction (the readers' snapshot would lack it). */
int store_can_offload(const struct store *st);
/* Durable turns waiting in the open transaction, and their commit in
 * LMDB (for other processes: cdhtd --backup reads data.mdb; not while a
 * turn is open or settling).  STORE_OK or STORE_EIO (logged). */
size_t store_unexposed(const struct store *st);
int store_expose(struct store *st);
/* Abort and free *t (NULL-tolerant). */
void store_abort(struct store_txn **t);
/* The sticky error of t (STORE_OK while healthy). */
int store_txn_err(const struct store_txn *t);

/*
 * Pending writes: a module that rewrites the same keys many times in one
 * transaction (the totals of aggregate.c) keeps them in memory beside the
 * transaction and writes each once.  store_pending_add attaches arg (the
 * transaction owns it from then on, even on failure); store_pending finds it
 * again by ops (NULL if none).  Every pending set is flushed into its
 * transaction, in the order attached, before the transaction commits and
 * before a nested transaction begins (the child reads what the parent
 * wrote), then dropped; an abort drops without flushing.  A flush error
 * becomes the transaction's sticky error.  The owner of a cached table
 * reads through its cache, and calls store_pending_flush before scanning it.
 */
struct store_pending_ops {
	int (*flush)(struct store_txn *t, void *arg); /* STORE_OK or error */
	void (*drop)(void *arg);                      /* free arg */
};
void *store_pending(struct store_txn *t, const struct store_pending_ops *ops);
int store_pending_add(
    struct store_txn *t, const struct store_pending_ops *ops, void *arg);
/* The pending set of t under ops, or a new zeroed one of size bytes attached
 * now (the transaction's from then on); NULL when out of memory. */
void *store_pending_attach(
    struct store_txn *t, const struct store_pending_ops *ops, size_t size);
/* Flush and drop every pending set of t now; the sticky error or STORE_OK. */
int store_pending_flush(struct store_txn *t);

/*
 * A value of tbl under key k cannot be decoded: log it (table, key, what)
 * and make STORE_CORRUPT the transaction's sticky error, so the write
 * stops.  Returns STORE_CORRUPT.
 */
int store_corrupt(
    struct store_txn *t, int tbl, const void *k, size_t kl, const char *what);

/* The on-disk name of a table (static storage). */
const char *store_table_name(int tbl);

/*
 * Get: *v points into the map and is valid only until the transaction ends;
 * copy what you keep.  Returns STORE_OK, STORE_NOTFOUND or the sticky error.
 */
int store_get(struct store_txn *t, int tbl, const void *k, size_t kl,
    const void **v, size_t *vl);
int store_put(struct store_txn *t, int tbl, const void *k, size_t kl,
    const void *v, size_t vl);
/* Delete; a missing key returns STORE_NOTFOUND without making it sticky. */
int store_del(struct store_txn *t, int tbl, const void *k, size_t kl);

/*
 * Call cb for every entry whose key starts with prefix (pl may be 0), in key
 * order; cb returns 0 to go on, non-zero to stop.  Key and value pointers are
 * valid only during the call.  Do not write to tbl from cb: collect and write
 * after.  Returns the sticky error or STORE_OK.
 */
typedef int (*store_scan_cb)(
    void *arg, const void *k, size_t kl, const void *v, size_t vl);
int store_scan(struct store_txn *t, int tbl, const void *prefix, size_t pl,
    store_scan_cb cb, void *arg);

/* Like store_scan, from the first key >= from to the end of the table. */
int store_scan_from(struct store_txn *t, int tbl, const void *from, size_t fl,
    store_scan_cb cb, void *arg);

/* Like store_scan over a whole table, newest (last key) first, at most max
 * entries. */
int store_scan_last(
    struct store_txn *t, int tbl, size_t max, store_scan_cb cb, void *arg);

/* Next value of the node's persistent sequence (versions, audit ids). */
uint64_t store_next_seq(struct store_txn *t);
/* Raise the sequence so the next value is above v. */
void store_raise_seq(struct store_txn *t, uint64_t v);

/* Map usage for /metrics and logs: bytes used and map size. */
void store_usage(struct store *st, uint64_t *used, uint64_t *mapsize);

/* Static string for a store_err. */
const char *store_strerror(int err);

/* Key helpers: big-endian fixed-width fields. */
static inline void
store_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}
static inline uint16_t
store_rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void
store_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

#endif
