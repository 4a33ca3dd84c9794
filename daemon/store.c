/*
 * store.c: the LMDB environment, transactions with sticky errors, and the
 * key-value calls every other module uses.  The only file with <lmdb.h>.
 */
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

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
};

#define STORE_MAX_PENDING 4

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int err;
	/* writes kept beside the transaction (store_pending_add), in order */
	struct {
		const struct store_pending_ops *ops;
		void *arg;
	} pend[STORE_MAX_PENDING];
	int npend;
};

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

int
store_open(const char *dir, uint64_t map_mb, struct store **out)
{
	struct store *st;
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
	if ((rc = mdb_env_create(&st->env)) ||
	    (rc = mdb_env_set_maxdbs(st->env, TBL_COUNT)) ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)map_mb << 20)) ||
	    /* NOTLS: a read txn may coexist with the loop's write txn */
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600))) {
		log_warnx("lmdb open %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
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
	*out = st;
	return STORE_OK;
fail:
	mdb_env_close(st->env);
	free(st);
	return rc < 0 ? rc : map_err(rc);
}

uint32_t
store_schema(const struct store *st)
{
	return st->schema;
}

static struct store_txn *
begin(struct store *st, int write)
{
	struct store_txn *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL)
		return NULL;
	t->st = st;
	rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc) {
		log_warnx("lmdb txn begin: %s", mdb_strerror(rc));
		free(t);
		return NULL;
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
store_close(struct store **st)
{
	if (st == NULL || *st == NULL)
		return;
	mdb_env_close((*st)->env);
	free(*st);
	*st = NULL;
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
	return t;
}

int
store_commit(struct store_txn **tp)
{
	struct store_txn *t = *tp;
	int rc;

	if (t == NULL)
		return STORE_EIO;
	*tp = NULL;
	if (t->npend > 0)
		store_pending_flush(t);
	if (t->err) {
		mdb_txn_abort(t->txn);
		rc = t->err;
	} else if ((rc = mdb_txn_commit(t->txn)) != 0) {
		log_warnx("lmdb commit: %s", mdb_strerror(rc));
		rc = map_err(rc);
	}
	free(t);
	return rc;
}

void
store_abort(struct store_txn **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	drop_pending(*tp);
	mdb_txn_abort((*tp)->txn);
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
	int rc;

	if (t->err)
		return t->err;
	rc = sticky(t, mdb_get(t->txn, t->st->dbi[tbl], &key, &val), "get");
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

	if (t->err)
		return t->err;
	return sticky(
	    t, mdb_put(t->txn, t->st->dbi[tbl], &key, &val, 0), "put");
}

int
store_del(struct store_txn *t, int tbl, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};

	if (t->err)
		return t->err;
	return sticky(t, mdb_del(t->txn, t->st->dbi[tbl], &key, NULL), "del");
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

int
store_backup(const char *dir, const char *dest)
{
	char path[4200];
	MDB_env *env = NULL;
	int rc, fd = -1, dfd = -1;

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
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) ||
	    (rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT))) {
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
