/*
 * store.c: the LMDB environment, transactions with sticky errors, and the
 * key-value calls every other module uses.  The only file with <lmdb.h>.
 *
 * Durability (proto/PROTOCOL.md 7.2): with the journal on (journal.h),
 * LMDB runs with MDB_NOSYNC and a commit is made durable by its journal
 * record's one fdatasync; a checkpoint (mdb_env_sync, then a journal
 * header naming LMDB's last transaction and holding a copy of its meta
 * page) starts the records over.  A read transaction, the pin, holds the
 * checkpoint's snapshot until the next checkpoint is durable, so LMDB
 * never reuses its pages: whatever a crash did to later pages, the
 * checkpoint's tree is intact on disk, and recovery writes its meta page
 * back and replays the records.  With the journal off, LMDB syncs each
 * commit itself.
 *
 * The open transaction (st->open): with the journal on, a turn's write
 * transaction is nested in one LMDB write transaction that stays open
 * across turns.  A turn ends by committing into it and flushing its
 * record: durable, yet not written to data.mdb.  The open transaction
 * commits in LMDB (expose) only when a reader begins, at a checkpoint,
 * when the turns in it reach STORE_LINGER_BYTES of records, or when the
 * caller does not let it linger; so a page written by many turns is
 * written once, not once per turn.  A reader never sees a turn that is not
 * durable: it exposes the durable turns before it begins, and when a
 * turn is open meanwhile, that turn's writes so far are made durable
 * first, in a record of their own (expose_turn).  Records are numbered
 * from the checkpoint's transaction on (rec_next); the replay commits
 * each as one LMDB transaction, so the numbers are the ids they get.
 */
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "dirlock.h"
#include "journal.h"
#include "log.h"
#include "store.h"

static const char *const table_names[TBL_COUNT] = {"meta", "assess", "local",
    "mirror", "win", "totals", "nodes", "outbox", "acked", "audit", "pin",
    "byvia", "titles", "decision", "decided", "history"};

struct store {
	MDB_env *env;
	MDB_dbi dbi[TBL_COUNT];
	uint32_t schema; /* the directory's, until a migration commits */
	char dir[256];
	/* the journal; NULL: off (LMDB syncs every commit) */
	struct journal *j;
	MDB_txn *pin;           /* read txn on the checkpoint's snapshot */
	uint64_t ckpt_txnid;    /* the checkpoint's transaction */
	uint64_t ckpt_pgno;     /* LMDB's last page then */
	int64_t ckpt_at;        /* when (CLOCK_MONOTONIC ms) */
	uint32_t ckpt_ms;       /* checkpoint at most this long after */
	uint64_t ckpt_n;        /* checkpoints done since the open */
	int64_t ckpt_ns;        /* the time they took (the caller waited) */
	unsigned psize;         /* LMDB's page size */
	struct journal_buf ops; /* the write transaction's operations */
	int broken;             /* the journal failed: writes refused */
	int settling;           /* a commit's record awaits its flush */
	struct snap *snap;      /* while settling: the state before it */
	size_t replayed;        /* transactions replayed at open */
	/* the open transaction (see the top); NULL: none */
	MDB_txn *open;
	struct store_txn *turn; /* the write transaction nested in it now */
	int nested;             /* transactions nested in that one, open */
	size_t unexposed;       /* durable records in it, not yet in LMDB */
	size_t unexposed_bytes; /* their operations' bytes */
	size_t lingering;       /* the settling record's bytes, if it lingers */
};

/* Past this many bytes of records in the open transaction, it commits in
 * LMDB at the next turn's end: a bound on its memory (LMDB keeps its dirty
 * pages in memory) and on the work a reader may find waiting. */
#define STORE_LINGER_BYTES (64u << 10)

#define STORE_MAX_PENDING 4

enum { TXN_READ, TXN_WRITE, TXN_NESTED };

/* A read transaction begun just before a commit that settles off the loop
 * (store_commit_start with offload): the readers of the meantime share it,
 * so none sees the commit before it is durable.  The last user aborts it. */
struct snap {
	MDB_txn *txn;
	int refs;
};

static void
snap_drop(struct snap **sp)
{
	if (*sp != NULL && --(*sp)->refs == 0) {
		mdb_txn_abort((*sp)->txn);
		free(*sp);
	}
	*sp = NULL;
}

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int err;
	int kind;      /* TXN_READ, TXN_WRITE (top level) or TXN_NESTED */
	int journaled; /* its operations go into st->ops */
	size_t mark;   /* TXN_NESTED: st->ops's length when it began */
	/* writes kept beside the transaction (store_pending_add), in order */
	struct {
		const struct store_pending_ops *ops;
		void *arg;
	} pend[STORE_MAX_PENDING];
	int npend;
	/* TXN_READ: a cursor per table for store_get, opened on first use
	 * and closed with the transaction (read_cursors_close) */
	MDB_cursor *rcur[TBL_COUNT];
	struct snap *snap; /* TXN_READ: txn is this shared one's */
};

/* Close t's read cursors (LMDB wants a read-only transaction's cursors
 * closed by hand, before or after it ends). */
static void
read_cursors_close(struct store_txn *t)
{
	if (t->kind != TXN_READ)
		return;
	for (int i = 0; i < TBL_COUNT; i++)
		if (t->rcur[i] != NULL) {
			mdb_cursor_close(t->rcur[i]);
			t->rcur[i] = NULL;
		}
}

/* The one place LMDB codes become ours. */
static int
map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return STORE_FULL;
	case ENOMEM:
		return STORE_ENOMEM;
	default:
		return STORE_EIO;
	}
}

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_NOTFOUND:
		return "not found";
	case STORE_FULL:
		return "storage map is full";
	case STORE_ENOMEM:
		return "out of memory";
	case STORE_CORRUPT:
		return "a stored value cannot be decoded";
	case STORE_SCHEMA:
		return "data directory schema not supported";
	default:
		return "storage I/O error";
	}
}

/* Meta "schema": a 4-byte little-endian integer (schema 1 wrote it in host
 * order, which is the same on the x86-64 and arm64 nodes it ran on). */
static int
read_schema(MDB_txn *txn, struct store *st, const char *dir)
{
	MDB_val k = {6, "schema"}, v;
	unsigned char b[4];
	int rc = mdb_get(txn, st->dbi[TBL_META], &k, &v);

	if (rc == MDB_NOTFOUND) { /* a new directory */
		st->schema = STORE_SCHEMA_VERSION;
		for (int i = 0; i < 4; i++)
			b[i] = (unsigned char)(st->schema >> (8 * i));
		v.mv_size = 4;
		v.mv_data = b;
		if ((rc = mdb_put(txn, st->dbi[TBL_META], &k, &v, 0)))
			log_warnx("lmdb %s: %s", dir, mdb_strerror(rc));
		return rc;
	}
	if (rc) {
		log_warnx("lmdb %s: %s", dir, mdb_strerror(rc));
		return rc;
	}
	if (v.mv_size != 4) {
		log_warnx("%s: the schema version is unreadable (%zu bytes)",
		    dir, v.mv_size);
		return STORE_CORRUPT;
	}
	memcpy(b, v.mv_data, 4);
	st->schema = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
	             (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (st->schema > STORE_SCHEMA_VERSION || st->schema == 0) {
		log_warnx("%s: data directory has schema version %u; this "
		          "cdhtd reads schema versions 1 to %d: run the "
		          "release that wrote it, or a newer one",
		    dir, st->schema, STORE_SCHEMA_VERSION);
		return STORE_SCHEMA;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * LMDB 0.9's meta page (mdb.c: a 16-byte MDB_page header, then MDB_meta:
 * magic, version, address, mapsize, the free and main MDB_db of 48 bytes
 * each, last_pg, txnid), in host byte order.  These offsets are all the
 * journal relies on; every checkpoint checks them against mdb_env_info
 * (meta_check) and turns the journal off if they do not hold.
 */
enum {
	LM_PGNO = 0,     /* mp_pgno: the page's own number, 0 or 1 */
	LM_FLAGS = 10,   /* mp_flags: P_META */
	LM_MAGIC = 16,   /* mm_magic */
	LM_VERSION = 20, /* mm_version */
	LM_PSIZE = 40,   /* mm_dbs[FREE_DBI].md_pad: the page size */
	LM_LAST_PG = 136,
	LM_TXNID = 144,
	LM_END = 152,
};
#define LM_P_META       0x08
#define LM_MAGIC_VALUE  0xBEEFC0DEu
#define LM_DATA_VERSION 1
_Static_assert(LM_END <= JOURNAL_META, "the journal keeps the whole meta");

static uint64_t
lm64(const unsigned char *m, int off)
{
	uint64_t v;

	memcpy(&v, m + off, sizeof(v));
	return v;
}

static uint32_t
lm32(const unsigned char *m, int off)
{
	uint32_t v;

	memcpy(&v, m + off, sizeof(v));
	return v;
}

static void
lm_set64(unsigned char *m, int off, uint64_t v)
{
	memcpy(m + off, &v, sizeof(v));
}

/* Whether m (JOURNAL_META bytes of page slot) is an LMDB meta page of a
 * file of psize pages. */
static int
meta_valid(const unsigned char *m, unsigned slot, unsigned psize)
{
	uint16_t flags;

	memcpy(&flags, m + LM_FLAGS, sizeof(flags));
	return lm64(m, LM_PGNO) == slot && (flags & LM_P_META) &&
	       lm32(m, LM_MAGIC) == LM_MAGIC_VALUE &&
	       lm32(m, LM_VERSION) == LM_DATA_VERSION &&
	       lm32(m, LM_PSIZE) == psize;
}

/* Read the first JOURNAL_META bytes of meta page slot of data.mdb (fd). */
static int
meta_read(int fd, unsigned psize, unsigned slot, unsigned char *m)
{
	ssize_t n = pread(fd, m, JOURNAL_META, (off_t)slot * psize);

	return n == JOURNAL_META ? 0 : -1;
}

/*
 * Make everything committed durable and start the journal over:
 * mdb_env_sync, a new pin on LMDB's last transaction K, K's meta page read
 * back and checked, the journal header {K, meta, clean}, then the old pin
 * goes.  STORE_OK; or STORE_EIO (logged; the previous checkpoint stays);
 * or STORE_OK with the journal turned off when the meta page is not laid
 * out as this file expects.
 */
static int journal_off(struct store *st);

/* The number of the next record: the checkpoint's transaction + 1, + 1 for
 * each record since (what the replay's transaction will be). */
static uint64_t
rec_next(const struct store *st)
{
	return st->ckpt_txnid + journal_records(st->j) + 1;
}

/*
 * Commit the open transaction in LMDB (written, not synced: what is in it
 * is durable by its records, or is being made so by the caller).  Nothing
 * to do with none, or while a turn is nested in it.  STORE_OK, or the
 * commit's error (logged): when durable turns were in it, LMDB now lacks
 * what the journal holds, and writes are refused until a restart replays
 * them (roomy keeps a full map from doing this).
 */
static int
expose(struct store *st)
{
	int rc;

	size_t acked = st->unexposed;

	if (st->open == NULL || st->turn != NULL)
		return STORE_OK;
	rc = mdb_txn_commit(st->open);
	st->open = NULL;
	st->unexposed = st->unexposed_bytes = 0;
	if (rc == 0)
		return STORE_OK;
	if (acked == 0) { /* only the caller's turn, not yet durable */
		log_warnx("lmdb commit: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	log_warnx("%s: lmdb commit: %s: the journal holds what data.mdb "
	          "lacks; writes are refused until cdhtd restarts and "
	          "replays it",
	    st->dir, mdb_strerror(rc));
	st->broken = 1;
	return map_err(rc);
}

static int
checkpoint_run(struct store *st, int clean)
{
	struct journal_ckpt c = {0};
	MDB_envinfo info;
	MDB_txn *pin = NULL;
	int rc, fd;

	/* the records start over: what they hold must be in LMDB first */
	if (st->unexposed > 0 && st->turn != NULL) {
		log_warnx("%s: checkpoint: a turn is open over unexposed "
		          "records: not now",
		    st->dir);
		return STORE_EIO;
	}
	if ((rc = expose(st)) != STORE_OK)
		return rc;
	if ((rc = mdb_env_sync(st->env, 1)) != 0) {
		log_warnx(
		    "%s: checkpoint: lmdb sync: %s", st->dir, mdb_strerror(rc));
		return STORE_EIO;
	}
	mdb_env_info(st->env, &info);
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &pin)) != 0) {
		log_warnx(
		    "%s: checkpoint: lmdb: %s", st->dir, mdb_strerror(rc));
		return STORE_EIO;
	}
	c.txnid = mdb_txn_id(pin);
	c.psize = st->psize;
	if ((rc = mdb_env_get_fd(st->env, &fd)) != 0 ||
	    meta_read(fd, st->psize, (unsigned)(c.txnid & 1), c.meta) != 0) {
		log_warn("%s: checkpoint: reading the meta page", st->dir);
		mdb_txn_abort(pin);
		return STORE_EIO;
	}
	if (c.txnid != info.me_last_txnid ||
	    !meta_valid(c.meta, (unsigned)(c.txnid & 1), st->psize) ||
	    lm64(c.meta, LM_TXNID) != c.txnid ||
	    lm64(c.meta, LM_LAST_PG) != info.me_last_pgno) {
		log_warnx("%s: LMDB's meta page is not laid out as this cdhtd "
		          "expects (%s): the journal is off, LMDB syncs every "
		          "commit itself",
		    st->dir, mdb_version(NULL, NULL, NULL));
		mdb_txn_abort(pin);
		return journal_off(st);
	}
	if (journal_checkpoint(st->j, &c, clean) != 0) {
		mdb_txn_abort(pin);
		return STORE_EIO;
	}
	if (st->pin != NULL)
		mdb_txn_abort(st->pin);
	st->pin = pin;
	st->ckpt_txnid = c.txnid;
	st->ckpt_pgno = info.me_last_pgno;
	st->ckpt_at = now_ms();
	return STORE_OK;
}

/* A checkpoint, counted and timed (store_checkpoint_stats). */
static int
checkpoint(struct store *st, int clean)
{
	struct timespec a, b;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = checkpoint_run(st, clean);
	clock_gettime(CLOCK_MONOTONIC, &b);
	st->ckpt_ns += (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 +
	               (b.tv_nsec - a.tv_nsec);
	if (rc == STORE_OK)
		st->ckpt_n++;
	return rc;
}

/* Go on without the journal: LMDB syncs every commit, the journal file is
 * removed (a stale one must never be replayed later).  STORE_OK, or
 * STORE_EIO with writes refused from then on. */
static int
journal_off(struct store *st)
{
	int rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 0);

	if (rc == 0)
		rc = mdb_env_sync(st->env, 1);
	if (rc != 0 || journal_remove(st->dir) != 0) {
		log_warnx("%s: cannot turn the journal off: writes are refused "
		          "until cdhtd restarts",
		    st->dir);
		st->broken = 1;
		return STORE_EIO;
	}
	journal_close(&st->j);
	if (st->pin != NULL)
		mdb_txn_abort(st->pin);
	st->pin = NULL;
	return STORE_OK;
}

/* Whether a process has DATA_DIR/lock.mdb, LMDB's lock file, open (LMDB
 * holds a read lock on its first byte while it does). */
static int
lmdb_in_use(const char *dir)
{
	char path[4200];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
	int fd, busy;

	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return 0;
	busy = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return busy;
}

/*
 * Before LMDB opens a directory whose journal is unclean: put data.mdb
 * back at the checkpoint c.  Its meta page goes into slot txnid&1, and the
 * other slot gets the same page with txnid - 1, so LMDB picks the
 * checkpoint, whose tree the pin kept intact.  Refused, leaving data.mdb
 * untouched, when it is in use, or when its meta pages are not what the
 * journal follows (a transaction before the checkpoint or after the last
 * record's successor, last: an older release wrote to it, or a backup was
 * copied in beside a stale journal).
 */
static int
restore_meta(const char *dir, const struct journal_ckpt *c, uint64_t last)
{
	unsigned char m[2][JOURNAL_META], other[JOURNAL_META];
	unsigned slot = (unsigned)(c->txnid & 1), psize = c->psize;
	uint64_t hi = 0;
	char path[4200];
	int fd, valid = 0;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (lmdb_in_use(dir)) {
		log_warnx(
		    "%s: not stopped cleanly, and another process has "
		    "it open (cdhtd --backup?): let it finish, then start "
		    "again",
		    dir);
		return STORE_EIO;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("%s: its journal needs %s", dir, path);
		return STORE_EIO;
	}
	for (unsigned s = 0; s < 2; s++)
		if (meta_read(fd, psize, s, m[s]) == 0 &&
		    meta_valid(m[s], s, psize)) {
			valid++;
			if (lm64(m[s], LM_TXNID) > hi)
				hi = lm64(m[s], LM_TXNID);
		}
	if (!meta_valid(c->meta, slot, psize) ||
	    lm64(c->meta, LM_TXNID) != c->txnid || valid == 0 ||
	    hi < c->txnid || hi > last + 1) {
		log_warnx(
		    "%s: data.mdb (transaction %llu) is not the one its "
		    "journal follows (checkpoint %llu, records to %llu): "
		    "an older cdhtd wrote to it after an unclean stop, or "
		    "a backup was copied in beside the old journal; "
		    "nothing was changed.  To keep data.mdb as it is, "
		    "remove %s/%s",
		    dir, (unsigned long long)hi, (unsigned long long)c->txnid,
		    (unsigned long long)last, dir, JOURNAL_FILE);
		close(fd);
		return STORE_CORRUPT;
	}
	memcpy(other, c->meta, JOURNAL_META);
	lm_set64(other, LM_PGNO, slot ^ 1);
	lm_set64(other, LM_TXNID, c->txnid ? c->txnid - 1 : 0);
	if (pwrite(fd, c->meta, JOURNAL_META, (off_t)slot * psize) !=
	        JOURNAL_META ||
	    pwrite(fd, other, JOURNAL_META, (off_t)(slot ^ 1) * psize) !=
	        JOURNAL_META ||
	    fsync(fd) != 0) {
		log_warn("%s: restoring the checkpoint's meta page", path);
		close(fd);
		return STORE_EIO;
	}
	close(fd);
	return STORE_OK;
}

/* Apply one record as LMDB transaction r->txnid (blind puts and deletes:
 * the same operations on the same state give the same state). */
static int
replay_one(struct store *st, const int *have, const struct journal_rec *r)
{
	struct journal_op op;
	MDB_txn *txn;
	size_t pos = 0;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	while (journal_op_next(r, &pos, &op) == 1) {
		MDB_val k = {op.kl, (void *)op.k}, v = {op.vl, (void *)op.v};

		if (op.tbl >= TBL_COUNT || !have[op.tbl]) {
			log_warnx("%s: journal offset %llu: transaction %llu "
			          "writes table %d, which data.mdb lacks",
			    st->dir, (unsigned long long)r->offset,
			    (unsigned long long)r->txnid, op.tbl);
			mdb_txn_abort(txn);
			return STORE_CORRUPT;
		}
		rc = op.type == JOURNAL_PUT
		         ? mdb_put(txn, st->dbi[op.tbl], &k, &v, 0)
		         : mdb_del(txn, st->dbi[op.tbl], &k, NULL);
		if (rc != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if (mdb_txn_id(txn) != r->txnid) {
		log_warnx("%s: journal offset %llu: transaction %llu replays "
		          "as LMDB's %llu",
		    st->dir, (unsigned long long)r->offset,
		    (unsigned long long)r->txnid,
		    (unsigned long long)mdb_txn_id(txn));
		mdb_txn_abort(txn);
		return STORE_CORRUPT;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return STORE_OK;
fail:
	log_warnx("%s: journal offset %llu: replaying transaction %llu: %s%s",
	    st->dir, (unsigned long long)r->offset,
	    (unsigned long long)r->txnid, mdb_strerror(rc),
	    rc == MDB_MAP_FULL ? " (raise [node] map_size_mb)" : "");
	return rc == MDB_NOTFOUND ? STORE_CORRUPT : map_err(rc);
}

/*
 * The last run did not close cleanly (kill -9, power loss): LMDB is open
 * on data.mdb as of the checkpoint c (restore_meta).  Pin it, replay every
 * record, then either checkpoint (keep: the journal stays on) or make it
 * durable by LMDB's sync and remove the journal.  Takes *jp.
 */
static int
recover(struct store *st, struct journal **jp, const struct journal_ckpt *c,
    int keep)
{
	struct journal_rec r;
	MDB_txn *txn;
	int have[TBL_COUNT] = {0}, rc;

	st->j = *jp;
	*jp = NULL;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->pin)) != 0) {
		log_warnx("lmdb %s: %s", st->dir, mdb_strerror(rc));
		return map_err(rc);
	}
	if (mdb_txn_id(st->pin) != c->txnid) {
		/* LMDB's lock file says otherwise: another opener */
		log_warnx("%s: LMDB opened at transaction %llu, not at the "
		          "checkpoint %llu: another process has it open; stop "
		          "it, then start again",
		    st->dir, (unsigned long long)mdb_txn_id(st->pin),
		    (unsigned long long)c->txnid);
		return STORE_EIO;
	}
	/* the tables the records may name (created ones exist already) */
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return map_err(rc);
	for (int i = 0; i < TBL_COUNT; i++)
		have[i] =
		    mdb_dbi_open(txn, table_names[i], 0, &st->dbi[i]) == 0;
	if ((rc = mdb_txn_commit(txn)) != 0)
		return map_err(rc);
	mdb_env_set_flags(st->env, MDB_NOSYNC, 1);
	while ((rc = journal_next(st->j, &r)) == 1) {
		if ((rc = replay_one(st, have, &r)) != STORE_OK)
			return rc;
		st->replayed++;
	}
	mdb_env_set_flags(st->env, MDB_NOSYNC, 0);
	if (rc < 0)
		return STORE_CORRUPT;
	log_info("%s: not stopped cleanly: %zu transactions replayed from the "
	         "journal after checkpoint %llu",
	    st->dir, st->replayed, (unsigned long long)c->txnid);
	if (keep)
		return checkpoint(st, 0);
	if ((rc = mdb_env_sync(st->env, 1)) != 0 ||
	    journal_remove(st->dir) != 0) {
		log_warnx("%s: cannot make the replay durable", st->dir);
		return STORE_EIO;
	}
	journal_close(&st->j);
	mdb_txn_abort(st->pin);
	st->pin = NULL;
	return STORE_OK;
}

/* The last record's transaction (c->txnid when there is none), or -1 when
 * the journal cannot be read (logged). */
static int
last_record(struct journal *j, const struct journal_ckpt *c, uint64_t *last)
{
	struct journal_rec r;
	int rc;

	*last = c->txnid;
	while ((rc = journal_next(j, &r)) == 1)
		*last = r.txnid;
	journal_rewind(j);
	return rc;
}

int
store_open(const char *dir, uint64_t map_mb, struct store **out)
{
	struct store_opts o = {map_mb, STORE_JOURNAL_MB_SMALL, 0};

	return store_open_opts(dir, &o, out);
}

int
store_open_opts(const char *dir, const struct store_opts *o, struct store **out)
{
	struct store *st;
	struct journal *j = NULL;
	struct journal_ckpt c;
	enum journal_state js = JOURNAL_FRESH;
	uint64_t last = 0, jsize = (uint64_t)o->journal_mb << 20;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	*out = NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("data_dir %s", dir);
		return STORE_EIO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_ENOMEM;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	st->ckpt_ms = o->checkpoint_ms ? o->checkpoint_ms : STORE_CHECKPOINT_MS;
	if (journal_open(dir, 0, &j) != 0) {
		rc = STORE_EIO;
		goto fail;
	}
	if (j != NULL && (js = journal_state(j, &c)) == JOURNAL_UNCLEAN) {
		if (last_record(j, &c, &last) < 0) {
			rc = STORE_CORRUPT;
			goto fail;
		}
		if ((rc = restore_meta(dir, &c, last)) != STORE_OK)
			goto fail;
	}
	if ((rc = mdb_env_create(&st->env)) ||
	    (rc = mdb_env_set_maxdbs(st->env, TBL_COUNT)) ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)o->map_mb << 20)) ||
	    /* NOTLS: a read txn may coexist with the loop's write txn */
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) ||
	    (rc = mdb_env_stat(st->env, &ms))) {
		log_warnx("lmdb open %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	st->psize = ms.ms_psize;
	if (js == JOURNAL_UNCLEAN &&
	    (rc = recover(st, &j, &c, jsize > 0)) != STORE_OK)
		goto fail;
	/* LMDB syncs these itself: a crash before the checkpoint below
	 * leaves a directory LMDB alone can open */
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn))) {
		log_warnx("lmdb %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	for (int i = 0; i < TBL_COUNT; i++)
		if ((rc = mdb_dbi_open(
		         txn, table_names[i], MDB_CREATE, &st->dbi[i]))) {
			log_warnx("lmdb %s table %s: %s", dir, table_names[i],
			    mdb_strerror(rc));
			mdb_txn_abort(txn);
			goto fail;
		}
	if ((rc = read_schema(txn, st, dir)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn))) {
		log_warnx("lmdb %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (jsize > 0) {
		if (st->j == NULL) {
			st->j = j; /* clean or fresh (or none) */
			j = NULL;
		}
		/* a fresh one may hold another life's records: zeros first */
		if (st->j == NULL ||
		    journal_state(st->j, NULL) == JOURNAL_FRESH ||
		    journal_size(st->j) != jsize) {
			uint64_t after =
			    st->j != NULL ? journal_generation(st->j) : 0;

			journal_close(&st->j);
			if (journal_create(dir, jsize, after, &st->j) != 0) {
				rc = STORE_EIO;
				goto fail;
			}
		}
		if ((rc = checkpoint(st, 0)) != STORE_OK)
			goto fail;
		if (st->j != NULL)
			mdb_env_set_flags(st->env, MDB_NOSYNC, 1);
	} else if (j != NULL) { /* turned off: the old file goes */
		journal_close(&j);
		if (journal_remove(dir) != 0) {
			rc = STORE_EIO;
			goto fail;
		}
	}
	*out = st;
	return STORE_OK;
fail:
	journal_close(&j);
	if (st->pin != NULL)
		mdb_txn_abort(st->pin);
	journal_close(&st->j);
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return rc < 0 ? rc : map_err(rc);
}

uint32_t
store_schema(const struct store *st)
{
	return st->schema;
}

/*
 * What the pin may keep from reuse: a sixteenth of the map, at most
 * STORE_PINNED_MAX (16 pages at least).  Past it a commit checkpoints, so
 * a busy node does not fill its map, or its memory, with pages freed since
 * the last timed checkpoint (a national root commits megabytes a second).
 */
#define STORE_PINNED_MAX (8u << 20)
/*
 * A transaction whose record would exceed this is made durable by a
 * checkpoint instead (LMDB's own sync of its pages).  Below it, a commit
 * takes the journal's one sequential flush and its pages go to data.mdb
 * unsynced, synced once a second with every other commit's at the
 * checkpoint, where a sync per commit writes the scattered pages each
 * time.  Past it the pin costs more than the second write: a commit with
 * a record of megabytes (a root loading tens of thousands of new keys)
 * dirties tens of megabytes of pages that nothing may reuse until the
 * next checkpoint, and the file, and the pages of it the node touches,
 * grow.  Measured on the benchmark suite (README), quick runs interleaved:
 * 256 KiB: cost ratio (row 4) 1.45x..1.57x, root RSS (row 3) 53..60 MiB;
 * 1 MiB: 1.29x..1.41x, 57..63 MiB; 4 MiB: 1.36x..1.47x, 122..125 MiB
 * (data.mdb 101 MB, 73 MB of it free pages, against 35 MB).
 */
#define STORE_RECORD_MAX (1u << 20)

static uint64_t
pinned_limit(const struct store *st, const MDB_envinfo *info)
{
	uint64_t limit = (uint64_t)info->me_mapsize / 16;

	if (limit > STORE_PINNED_MAX)
		limit = STORE_PINNED_MAX;

	return limit < 16 * (uint64_t)st->psize ? 16 * (uint64_t)st->psize
	                                        : limit;
}

/* Whether the file grew by pinned_limit since the checkpoint. */
static int
pinned_growth(const struct store *st, const MDB_envinfo *info)
{
	return info->me_last_pgno > st->ckpt_pgno &&
	       (info->me_last_pgno - st->ckpt_pgno) * st->psize >=
	           pinned_limit(st, info);
}

/*
 * Whether the file is within pinned_limit of the map's end: then a write
 * transaction starts with a checkpoint, so that LMDB reuses pages exactly
 * as it would without the journal (a pin on the last transaction protects
 * no more than the writer's own snapshot does), and a full map (507) is
 * one that is truly full.
 */
static int
near_full(const struct store *st)
{
	MDB_envinfo info;

	mdb_env_info(st->env, &info);
	return (uint64_t)(info.me_last_pgno + 1) * st->psize +
	           pinned_limit(st, &info) >=
	       (uint64_t)info.me_mapsize;
}

/* Start st->ops over, for a new transaction's record. */
static void
ops_begin(struct store *st)
{
	size_t cap = (size_t)(journal_size(st->j) - 2 * JOURNAL_BLOCK);

	journal_buf_begin(
	    &st->ops, cap < STORE_RECORD_MAX ? cap : STORE_RECORD_MAX);
}

static int settle_by_checkpoint(struct store *st);

/*
 * A reader (or a dry run) begins while the turn t is open and earlier
 * turns are durable but not in LMDB: t's writes so far get a record of
 * their own, flushed here, then the open transaction commits in LMDB, and
 * t goes on nested in a new one (the rest of it makes the next record).
 * Nothing is acknowledged early: t's writers hear of it when it ends.  A
 * failure is t's sticky error (its commit then fails, as a turn does).
 */
static void
expose_turn(struct store_txn *t)
{
	struct store *st = t->st;
	int rc;

	if (st->nested > 0) { /* not reached: a dry run exposes first */
		log_warnx("%s: a reader during a nested transaction sees "
		          "LMDB's last commit",
		    st->dir);
		return;
	}
	if (t->npend > 0)
		store_pending_flush(t);
	st->turn = NULL;
	if (t->err)
		mdb_txn_abort(t->txn); /* it fails at its end anyway */
	else if ((rc = mdb_txn_commit(t->txn)) != 0)
		t->err = map_err(rc);
	else if (!journal_buf_empty(&st->ops) &&
	         (!journal_fits(st->j, &st->ops) ||
	             journal_append(st->j, rec_next(st), &st->ops) != 0) &&
	         settle_by_checkpoint(st) != STORE_OK)
		t->err = STORE_EIO; /* broken: writes refused */
	t->txn = NULL;
	ops_begin(st);
	if (expose(st) != STORE_OK && !t->err)
		t->err = STORE_EIO;
	if (!t->err &&
	    ((rc = mdb_txn_begin(st->env, NULL, 0, &st->open)) != 0 ||
	        (rc = mdb_txn_begin(st->env, st->open, 0, &t->txn)) != 0)) {
		log_warnx("lmdb txn begin: %s", mdb_strerror(rc));
		t->err = map_err(rc);
		t->txn = NULL;
	}
	st->turn = t;
}

/*
 * Whether a turn may linger: a quarter of the map free beyond what the
 * pin may hold.  The open transaction's commit allocates pages of its own
 * (LMDB's free list), so it could find a full map after its turns were
 * acknowledged; short of room, every turn commits in LMDB before its
 * record, and a full map fails that turn alone, as it did before.
 */
static int
roomy(const struct store *st)
{
	MDB_envinfo info;

	mdb_env_info(st->env, &info);
	return (uint64_t)(info.me_last_pgno + 1) * st->psize +
	           pinned_limit(st, &info) + info.me_mapsize / 4 <=
	       (uint64_t)info.me_mapsize;
}

static struct store_txn *
begin(struct store *st, int write)
{
	struct store_txn *t;
	int rc;

	if (write && st->broken) {
		log_warnx("%s: the journal failed: no write until cdhtd "
		          "restarts",
		    st->dir);
		return NULL;
	}
	if (write && st->j != NULL && near_full(st))
		store_checkpoint(st);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->st = st;
	if (!write && st->snap != NULL) {
		t->kind = TXN_READ;
		t->snap = st->snap;
		t->snap->refs++;
		t->txn = t->snap->txn;
		return t;
	}
	/* a reader sees every durable turn (and none that is not) */
	if (!write && st->unexposed > 0 && !st->settling) {
		if (st->turn == NULL)
			expose(st);
		else
			expose_turn(st->turn);
	}
	if (write && st->j != NULL) {
		/* a turn: nested in the open transaction */
		rc = st->open != NULL
		         ? 0
		         : mdb_txn_begin(st->env, NULL, 0, &st->open);
		if (rc == 0 &&
		    (rc = mdb_txn_begin(st->env, st->open, 0, &t->txn)) == 0)
			st->turn = t;
	} else
		rc = mdb_txn_begin(
		    st->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc) {
		log_warnx("lmdb txn begin: %s", mdb_strerror(rc));
		free(t);
		return NULL;
	}
	t->kind = write ? TXN_WRITE : TXN_READ;
	if (write && st->j != NULL) {
		t->journaled = 1;
		ops_begin(st);
	}
	return t;
}

struct store_txn *
store_begin_migration(struct store *st, uint32_t *from)
{
	*from = st->schema;
	return st->schema < STORE_SCHEMA_VERSION ? begin(st, 1) : NULL;
}

int
store_commit_migration(struct store_txn **tp)
{
	struct store_txn *t = *tp;
	unsigned char b[4];
	int rc;

	if (t == NULL)
		return STORE_EIO;
	struct store *st = t->st;

	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(STORE_SCHEMA_VERSION >> (8 * i));
	store_put(t, TBL_META, "schema", 6, b, 4);
	rc = store_commit(tp);
	if (rc == STORE_OK)
		st->schema = STORE_SCHEMA_VERSION;
	return rc;
}

void
store_close(struct store **stp)
{
	struct store *st;

	if (stp == NULL || (st = *stp) == NULL)
		return;
	/* a clean stop: data.mdb synced, the journal says so (and LMDB
	 * alone, an older cdhtd, can open the directory) */
	if (st->j != NULL && !st->broken && checkpoint(st, 1) != STORE_OK)
		log_warnx("%s: closing: the last checkpoint failed: the next "
		          "start replays the journal",
		    st->dir);
	/* left only when that failed: the journal holds its turns */
	if (st->open != NULL)
		mdb_txn_abort(st->open);
	if (st->pin != NULL)
		mdb_txn_abort(st->pin);
	mdb_env_close(st->env);
	journal_close(&st->j);
	journal_buf_free(&st->ops);
	free(st);
	*stp = NULL;
}

void
store_checkpoint_stats(const struct store *st, uint64_t *count, int64_t *ns)
{
	*count = st->ckpt_n;
	*ns = st->ckpt_ns;
}

int
store_checkpoint(struct store *st)
{
	MDB_envinfo info;

	if (st->j == NULL)
		return STORE_OK;
	if (st->broken)
		return STORE_EIO;
	mdb_env_info(st->env, &info);
	if (journal_records(st->j) == 0 && info.me_last_txnid == st->ckpt_txnid)
		return STORE_OK; /* nothing since */
	return checkpoint(st, 0);
}

size_t
store_replayed(const struct store *st)
{
	return st->replayed;
}

int
store_journaled(const struct store *st)
{
	return st->j != NULL;
}

struct store_txn *
store_begin(struct store *st, int write)
{
	if (st->schema != STORE_SCHEMA_VERSION) {
		log_warnx("%s: schema %u not migrated: no transaction", st->dir,
		    st->schema);
		return NULL;
	}
	return begin(st, write);
}

/* Drop every pending set of t without writing it. */
static void
drop_pending(struct store_txn *t)
{
	for (int i = 0; i < t->npend; i++)
		t->pend[i].ops->drop(t->pend[i].arg);
	t->npend = 0;
}

int
store_pending_flush(struct store_txn *t)
{
	int rc = STORE_OK;

	/* flush in order; a flush may not add a pending set of its own */
	for (int i = 0; i < t->npend && rc == STORE_OK && !t->err; i++)
		rc = t->pend[i].ops->flush(t, t->pend[i].arg);
	if (rc != STORE_OK && !t->err)
		t->err = rc;
	drop_pending(t);
	return t->err ? t->err : rc;
}

void *
store_pending(struct store_txn *t, const struct store_pending_ops *ops)
{
	for (int i = 0; i < t->npend; i++)
		if (t->pend[i].ops == ops)
			return t->pend[i].arg;
	return NULL;
}

int
store_pending_add(
    struct store_txn *t, const struct store_pending_ops *ops, void *arg)
{
	if (t->npend == STORE_MAX_PENDING) {
		log_warnx(
		    "store: more than %d pending sets", STORE_MAX_PENDING);
		ops->drop(arg);
		if (!t->err)
			t->err = STORE_EIO;
		return STORE_EIO;
	}
	t->pend[t->npend].ops = ops;
	t->pend[t->npend].arg = arg;
	t->npend++;
	return STORE_OK;
}

void *
store_pending_attach(
    struct store_txn *t, const struct store_pending_ops *ops, size_t size)
{
	void *arg = store_pending(t, ops);

	if (arg != NULL)
		return arg;
	if ((arg = calloc(1, size)) == NULL)
		return NULL;
	if (store_pending_add(t, ops, arg) != STORE_OK)
		return NULL; /* dropped by store_pending_add */
	return arg;
}

struct store_txn *
store_begin_nested(struct store_txn *parent)
{
	struct store_txn *t;
	int rc;

	/* the child must see what the parent keeps aside */
	if (parent != NULL && parent->npend > 0)
		store_pending_flush(parent);
	/* no commit in LMDB while it is open: expose what waits first */
	if (parent != NULL && parent == parent->st->turn &&
	    parent->st->unexposed > 0)
		expose_turn(parent);
	if (parent == NULL || parent->err ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->st = parent->st;
	rc = mdb_txn_begin(t->st->env, parent->txn, 0, &t->txn);
	if (rc) {
		log_warnx("lmdb nested txn begin: %s", mdb_strerror(rc));
		free(t);
		return NULL;
	}
	t->st->nested++;
	t->kind = TXN_NESTED;
	t->journaled = parent->journaled;
	t->mark = journal_buf_mark(&t->st->ops);
	return t;
}

/* Make everything LMDB committed durable by a checkpoint; if that fails
 * too, the journal is unusable: writes are refused from then on. */
static int
settle_by_checkpoint(struct store *st)
{
	int rc;

	if (st->j == NULL) { /* turned off meanwhile: LMDB syncs itself */
		if ((rc = mdb_env_sync(st->env, 1)) == 0)
			return STORE_OK;
		log_warnx("lmdb sync: %s", mdb_strerror(rc));
	} else if (checkpoint(st, 0) == STORE_OK)
		return STORE_OK;
	log_warnx("%s: neither the journal nor a checkpoint could make a "
	          "commit durable: writes are refused until cdhtd restarts",
	    st->dir);
	st->broken = 1;
	return STORE_EIO;
}

/*
 * The turn t ends: its writes go into the open transaction and its record
 * is written, *fd set: the caller flushes it and calls
 * store_commit_finish.  With offload (and nothing unexposed) the open
 * transaction commits in LMDB at once, the readers of the meantime
 * sharing the snapshot taken just before.  A turn that wrote nothing
 * needs nothing; one whose record does not fit, or cannot be written, is
 * settled here (*fd = -1) by a checkpoint, whose sync covers it.
 */
static int
turn_commit(struct store_txn *t, int offload, int *fd)
{
	struct store *st = t->st;
	size_t len = st->ops.len;
	int rc, now;

	if ((rc = mdb_txn_commit(t->txn)) != 0) {
		log_warnx("lmdb commit: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	if (journal_buf_empty(&st->ops))
		return STORE_OK; /* it changed nothing */
	if (st->j == NULL) {     /* turned off while it ran: LMDB syncs */
		if ((rc = expose(st)) == STORE_OK &&
		    (rc = mdb_env_sync(st->env, 1)) != 0) {
			log_warnx("lmdb sync: %s", mdb_strerror(rc));
			rc = STORE_EIO;
		}
		return rc;
	}
	if (!journal_fits(st->j, &st->ops)) {
		if ((rc = expose(st)) != STORE_OK)
			return rc;
		return settle_by_checkpoint(st);
	}
	offload = offload && st->unexposed == 0 && st->snap == NULL;
	if (offload && (st->snap = calloc(1, sizeof(*st->snap))) != NULL) {
		if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->snap->txn) ==
		    0)
			st->snap->refs = 1;
		else {
			free(st->snap);
			st->snap = NULL;
		}
	}
	now = st->snap != NULL || !roomy(st);
	if (now) { /* in LMDB before its record, as without the open one */
		MDB_envinfo info;

		if ((rc = expose(st)) != STORE_OK) {
			snap_drop(&st->snap);
			return rc;
		}
		mdb_env_info(st->env, &info);
		if (pinned_growth(st, &info)) {
			snap_drop(&st->snap);
			return settle_by_checkpoint(st);
		}
	}
	if (journal_write(st->j, rec_next(st), &st->ops) != 0) {
		snap_drop(&st->snap);
		if ((rc = expose(st)) != STORE_OK)
			return rc;
		return settle_by_checkpoint(st);
	}
	*fd = journal_fd(st->j);
	st->settling = 1;
	st->lingering = now ? 0 : len; /* in the open transaction */
	return STORE_OK;
}

int
store_commit_finish(struct store *st, int err, int linger)
{
	size_t len = st->lingering;
	MDB_envinfo info;

	st->settling = 0;
	st->lingering = 0;
	snap_drop(&st->snap);
	if (err != 0) {
		log_warnx("%s: flushing the journal: %s: a checkpoint makes "
		          "the commit durable instead",
		    st->dir, strerror(err));
		return settle_by_checkpoint(st);
	}
	if (len > 0) { /* durable now, in the open transaction */
		st->unexposed++;
		st->unexposed_bytes += len;
	}
	if ((!linger || st->unexposed_bytes >= STORE_LINGER_BYTES) &&
	    expose(st) != STORE_OK)
		return STORE_OK; /* durable; logged, writes refused from now */
	if (st->j == NULL)
		return STORE_OK;
	/* a checkpoint due now, or the pin holding too much */
	mdb_env_info(st->env, &info);
	if ((now_ms() - st->ckpt_at >= (int64_t)st->ckpt_ms ||
	        pinned_growth(st, &info)) &&
	    checkpoint(st, 0) != STORE_OK)
		log_warnx("%s: checkpoint failed (the commit is durable; the "
		          "next one checkpoints)",
		    st->dir);
	return STORE_OK;
}

int
store_settling(const struct store *st)
{
	return st->settling;
}

int
store_can_offload(const struct store *st)
{
	return st->unexposed == 0;
}

size_t
store_unexposed(const struct store *st)
{
	return st->unexposed;
}

int
store_expose(struct store *st)
{
	return st->settling ? STORE_OK : expose(st);
}

int
store_commit_start(struct store_txn **tp, int offload, int *fd)
{
	struct store_txn *t = *tp;
	int rc;

	*fd = -1;
	if (t == NULL)
		return STORE_EIO;
	*tp = NULL;
	read_cursors_close(t);
	if (t->snap != NULL) { /* a reader's end */
		rc = t->err;
		snap_drop(&t->snap);
		free(t);
		return rc;
	}
	if (t->npend > 0)
		store_pending_flush(t);
	if (t == t->st->turn)
		t->st->turn = NULL;
	if (t->kind == TXN_NESTED)
		t->st->nested--;
	if (t->err) {
		mdb_txn_abort(t->txn);
		rc = t->err;
	} else if (t->kind == TXN_WRITE && t->st->broken) {
		/* begun before a flush failed for good */
		mdb_txn_abort(t->txn);
		rc = STORE_EIO;
	} else if (t->kind == TXN_WRITE && t->journaled)
		rc = turn_commit(t, offload, fd);
	else if ((rc = mdb_txn_commit(t->txn)) != 0) {
		log_warnx("lmdb commit: %s", mdb_strerror(rc));
		rc = map_err(rc);
	}
	if (rc != STORE_OK && t->kind == TXN_NESTED && t->journaled)
		journal_buf_truncate(&t->st->ops, t->mark);
	/* a full map: let LMDB reuse what the pin holds before the retry */
	if (rc == STORE_FULL && t->kind == TXN_WRITE && t->journaled &&
	    t->st->j != NULL)
		store_checkpoint(t->st);
	free(t);
	return rc;
}

int
store_commit(struct store_txn **tp)
{
	struct store *st = *tp != NULL ? (*tp)->st : NULL;
	int fd, rc = store_commit_start(tp, 0, &fd);

	if (rc == STORE_OK && fd >= 0)
		rc = store_commit_finish(st, fdatasync(fd) != 0 ? errno : 0, 0);
	return rc;
}

void
store_abort(struct store_txn **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	drop_pending(*tp);
	read_cursors_close(*tp);
	if (*tp == (*tp)->st->turn)
		(*tp)->st->turn = NULL;
	if ((*tp)->kind == TXN_NESTED)
		(*tp)->st->nested--;
	if ((*tp)->snap != NULL)
		snap_drop(&(*tp)->snap);
	else
		mdb_txn_abort((*tp)->txn);
	if ((*tp)->kind == TXN_NESTED && (*tp)->journaled)
		journal_buf_truncate(&(*tp)->st->ops, (*tp)->mark);
	free(*tp);
	*tp = NULL;
}

int
store_txn_err(const struct store_txn *t)
{
	return t->err;
}

const char *
store_table_name(int tbl)
{
	return tbl >= 0 && tbl < TBL_COUNT ? table_names[tbl] : "?";
}

int
store_corrupt(
    struct store_txn *t, int tbl, const void *k, size_t kl, const char *what)
{
	char hex[2 * 24 + 4];
	const unsigned char *p = k;
	size_t n = 0;

	for (size_t i = 0; i < kl && i < 24; i++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%02x", p[i]);
	if (kl > 24)
		snprintf(hex + n, sizeof(hex) - n, "..");
	if (t->err == 0)
		log_warnx("stored value corrupt: table %s key %s: %s",
		    store_table_name(tbl), kl ? hex : "-", what);
	t->err = STORE_CORRUPT;
	return STORE_CORRUPT;
}

static int
sticky(struct store_txn *t, int rc, const char *what)
{
	if (rc == 0 || rc == MDB_NOTFOUND)
		return map_err(rc);
	if (t->err == 0)
		log_warnx("lmdb %s: %s", what, mdb_strerror(rc));
	t->err = map_err(rc);
	return t->err;
}

int
store_get(struct store_txn *t, int tbl, const void *k, size_t kl,
    const void **v, size_t *vl)
{
	MDB_val key = {kl, (void *)k}, val;
	MDB_cursor **cur = &t->rcur[tbl];
	int rc;

	if (t->err)
		return t->err;
	/* a read transaction seeks with one cursor per table: LMDB looks on
	 * the cursor's page first, so keys read in order (a drill-down's
	 * units of one year) skip most of the descent from the root */
	if (t->kind == TXN_READ &&
	    (*cur != NULL ||
	        mdb_cursor_open(t->txn, t->st->dbi[tbl], cur) == 0))
		rc =
		    sticky(t, mdb_cursor_get(*cur, &key, &val, MDB_SET), "get");
	else
		rc = sticky(
		    t, mdb_get(t->txn, t->st->dbi[tbl], &key, &val), "get");
	if (rc == STORE_OK) {
		*v = val.mv_data;
		*vl = val.mv_size;
	}
	return rc;
}

int
store_put(struct store_txn *t, int tbl, const void *k, size_t kl, const void *v,
    size_t vl)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
	int rc;

	if (t->err)
		return t->err;
	rc = sticky(t, mdb_put(t->txn, t->st->dbi[tbl], &key, &val, 0), "put");
	if (rc == STORE_OK && t->journaled && t->st->j != NULL)
		journal_buf_put(&t->st->ops, tbl, k, kl, v, vl);
	return rc;
}

int
store_del(struct store_txn *t, int tbl, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};
	int rc;

	if (t->err)
		return t->err;
	rc = sticky(t, mdb_del(t->txn, t->st->dbi[tbl], &key, NULL), "del");
	if (rc == STORE_OK && t->journaled && t->st->j != NULL)
		journal_buf_del(&t->st->ops, tbl, k, kl);
	return rc;
}

/* Scan from the first key >= from (fl bytes; 0: the first key), while keys
 * start with prefix (pl bytes; 0: any). */
static int
scan(struct store_txn *t, int tbl, const void *from, size_t fl,
    const void *prefix, size_t pl, store_scan_cb cb, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = {fl, (void *)from}, v;
	int rc;

	if (t->err)
		return t->err;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tbl], &cur)))
		return sticky(t, rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, fl ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < pl ||
		    (pl && memcmp(k.mv_data, prefix, pl) != 0))
			break;
		if (cb(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return sticky(t, rc, "scan");
}

int
store_scan(struct store_txn *t, int tbl, const void *prefix, size_t pl,
    store_scan_cb cb, void *arg)
{
	return scan(t, tbl, prefix, pl, prefix, pl, cb, arg);
}

int
store_scan_from(struct store_txn *t, int tbl, const void *from, size_t fl,
    store_scan_cb cb, void *arg)
{
	return scan(t, tbl, from, fl, NULL, 0, cb, arg);
}

int
store_scan_last(
    struct store_txn *t, int tbl, size_t max, store_scan_cb cb, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	if (t->err)
		return t->err;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tbl], &cur)))
		return sticky(t, rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	while (rc == 0 && n++ < max) {
		if (cb(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return sticky(t, rc, "scan");
}

/* Meta "seq": an 8-byte little-endian integer (host order in schema 1,
 * the same bytes on the nodes it ran on); 0 when absent. */
static uint64_t
get_seq(struct store_txn *t)
{
	const void *v;
	size_t vl;
	uint64_t seq = 0;

	if (store_get(t, TBL_META, "seq", 3, &v, &vl) != STORE_OK)
		return 0;
	if (vl != 8) {
		store_corrupt(t, TBL_META, "seq", 3, "sequence is not 8 bytes");
		return 0;
	}
	for (int i = 7; i >= 0; i--)
		seq = seq << 8 | ((const unsigned char *)v)[i];
	return seq;
}

static void
put_seq(struct store_txn *t, uint64_t seq)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(seq >> (8 * i));
	store_put(t, TBL_META, "seq", 3, b, 8);
}

/*
 * Versions are a hybrid clock: max(last + 1, now in microseconds).  They
 * only grow, and a node restored from an older backup (whose counter went
 * back) still issues versions above everything it issued before the
 * restore, unless the wall clock went back too.
 */
uint64_t
store_next_seq(struct store_txn *t)
{
	uint64_t seq = get_seq(t), now;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
	/* saturate, never wrap: a wrapped clock would issue versions below
	 * every one it issued before (parents refuse far-future versions, so
	 * this is only ever reached by a damaged store) */
	if (seq == UINT64_MAX) {
		static struct log_ratelimit rl = {.what = "saturated clock"};
		if (log_ratelimit_ok(&rl))
			log_warnx("version clock at its maximum: versions no "
			          "longer grow (restore the data directory)");
		return seq;
	}
	seq = seq + 1 > now ? seq + 1 : now;
	put_seq(t, seq);
	return seq;
}

void
store_raise_seq(struct store_txn *t, uint64_t floor)
{
	if (get_seq(t) < floor)
		put_seq(t, floor);
}

void
store_usage(struct store *st, uint64_t *used, uint64_t *mapsize)
{
	MDB_envinfo info;
	MDB_stat stat;

	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &stat);
	*used = (uint64_t)(info.me_last_pgno + 1) * stat.ms_psize;
	*mapsize = info.me_mapsize;
}

/* Whether a cdhtd holds DATA_DIR/lock, the daemon's lock (dirlock.h). */
static int
daemon_running(const char *dir)
{
	char path[4200];
	int fd, held;

	snprintf(path, sizeof(path), "%s/lock", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd); /* drops our lock, if we took it */
	return held;
}

/* The meta key of the backup mark (store_put_backup_mark). */
#define BACKUP_MARK "backup-mark"

int
store_put_backup_mark(struct store_txn *t)
{
	unsigned char b[8] = {0};
	const void *v;
	size_t vl;
	uint64_t n = 0;

	if (store_get(t, TBL_META, BACKUP_MARK, strlen(BACKUP_MARK), &v, &vl) ==
	        STORE_OK &&
	    vl == 8)
		n = lm64(v, 0);
	n++;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(n >> (8 * i));
	return store_put(t, TBL_META, BACKUP_MARK, strlen(BACKUP_MARK), b, 8);
}

/* The backup mark in env's last commit (0: none, or unreadable). */
static uint64_t
backup_mark_read(MDB_env *env)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(BACKUP_MARK), BACKUP_MARK}, v;
	uint64_t n = 0;

	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_dbi_open(txn, table_names[TBL_META], 0, &dbi) == 0 &&
	    mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == 8)
		n = lm64(v.mv_data, 0);
	mdb_txn_abort(txn);
	return n;
}

/*
 * A cdhtd runs on dir: the turns it acknowledged may be in its journal and
 * open transaction only.  Ask it (SIGUSR1, if its lock file says it
 * answers) to write a new backup mark in a turn that goes to data.mdb,
 * and wait (at most 10 s) until env shows it: every turn acknowledged
 * before is then there too.  0, or -1 (logged).
 */
static int
backup_ask(MDB_env *env, const char *dir)
{
	char path[4200], buf[128];
	struct timespec ms5 = {0, 5000000};
	uint64_t m0;
	ssize_t n;
	long pid;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0; /* gone: it stopped, cleanly or not (checked) */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, NULL, 10);
	if (strstr(buf, "\n" DIRLOCK_BACKUP_MARK "\n") == NULL || pid <= 0)
		return 0; /* an older cdhtd: it commits every turn in LMDB */
	m0 = backup_mark_read(env);
	if (kill((pid_t)pid, SIGUSR1) != 0) {
		log_warn("backup of %s: cannot ask cdhtd (pid %ld) to write "
		         "what it acknowledged to data.mdb",
		    dir, pid);
		return -1;
	}
	for (int i = 0; i < 2000; i++) {
		if (backup_mark_read(env) > m0)
			return 0;
		nanosleep(&ms5, NULL);
	}
	log_warnx("backup of %s: cdhtd (pid %ld) did not write its backup "
	          "mark within 10 s: no copy made",
	    dir, pid);
	return -1;
}

/* 0 when LMDB alone may read dir: its journal (if any) is clean, or the
 * cdhtd that writes it runs (its page cache has every commit). */
static int
backup_readable(const char *dir)
{
	struct journal *j;
	enum journal_state js;

	if (journal_open(dir, 1, &j) != 0)
		return -1;
	if (j == NULL)
		return 0;
	js = journal_state(j, NULL);
	journal_close(&j);
	if (js != JOURNAL_UNCLEAN || daemon_running(dir))
		return 0;
	log_warnx("backup of %s: it was not stopped cleanly and no cdhtd runs "
	          "on it: data.mdb may lack what its journal holds.  Start "
	          "cdhtd on it once (it replays the journal), then back it up",
	    dir);
	return -1;
}

int
store_backup(const char *dir, const char *dest)
{
	char path[4200];
	MDB_env *env = NULL;
	int rc, fd = -1, dfd = -1;

	if (backup_readable(dir) != 0)
		return STORE_EIO;

	if (mkdir(dest, 0700) == -1 && errno != EEXIST) {
		log_warn("backup: cannot create %s", dest);
		return STORE_EIO;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dest);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("backup: %s", path);
		return STORE_EIO;
	}
	/* read-only beside the running node: a read transaction's snapshot,
	 * copied with compaction (free pages left out) */
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_maxdbs(env, TBL_COUNT)) ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600))) {
		log_warnx("backup of %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (daemon_running(dir) && backup_ask(env, dir) != 0)
		goto fail;
	if ((rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT)) != 0) {
		log_warnx("backup of %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		log_warn("backup: %s", path);
		goto fail;
	}
	fd = -1;
	if ((dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	mdb_env_close(env);
	return STORE_OK;
fail:
	if (fd != -1)
		close(fd);
	unlink(path);
	if (env != NULL)
		mdb_env_close(env);
	return STORE_EIO;
}
