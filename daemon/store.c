/*
 * store.c: the LMDB environment, transactions with sticky errors, and the
 * key-value calls every other module uses.  The only file with <lmdb.h>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "log.h"
#include "store.h"

#define STORE_SCHEMA 1

static const char *const table_names[TBL_COUNT] = {"meta", "assess", "local",
    "mirror", "win", "totals", "nodes", "outbox", "acked", "audit"};

struct store {
	MDB_env *env;
	MDB_dbi dbi[TBL_COUNT];
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int err;
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
	default:
		return "storage I/O error";
	}
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
	{
		MDB_val k = {6, "schema"}, v;
		uint32_t schema = STORE_SCHEMA;
		rc = mdb_get(txn, st->dbi[TBL_META], &k, &v);
		if (rc == MDB_NOTFOUND) {
			v.mv_size = sizeof(schema);
			v.mv_data = &schema;
			rc = mdb_put(txn, st->dbi[TBL_META], &k, &v, 0);
		} else if (rc == 0 && (v.mv_size != sizeof(schema) ||
		                          memcmp(v.mv_data, &schema, 4) != 0)) {
			log_warnx(
			    "%s: data written by another schema version", dir);
			rc = EINVAL;
		}
		if (rc) {
			mdb_txn_abort(txn);
			log_warnx("lmdb %s: %s", dir, mdb_strerror(rc));
			goto fail;
		}
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
	return map_err(rc);
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
store_begin_nested(struct store_txn *parent)
{
	struct store_txn *t;
	int rc;

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
	mdb_txn_abort((*tp)->txn);
	free(*tp);
	*tp = NULL;
}

int
store_txn_err(const struct store_txn *t)
{
	return t->err;
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

int
store_scan(struct store_txn *t, int tbl, const void *prefix, size_t pl,
    store_scan_cb cb, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = {pl, (void *)prefix}, v;
	int rc;

	if (t->err)
		return t->err;
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[tbl], &cur)))
		return sticky(t, rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST);
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

/*
 * Versions are a hybrid clock: max(last + 1, now in microseconds).  They
 * only grow, and a node restored from an older backup (whose counter went
 * back) still issues versions above everything it issued before the
 * restore, unless the wall clock went back too.
 */
uint64_t
store_next_seq(struct store_txn *t)
{
	const void *v;
	size_t vl;
	uint64_t seq = 0, now;
	struct timespec ts;

	if (store_get(t, TBL_META, "seq", 3, &v, &vl) == STORE_OK &&
	    vl == sizeof(seq))
		memcpy(&seq, v, sizeof(seq));
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
	seq = seq + 1 > now ? seq + 1 : now;
	store_put(t, TBL_META, "seq", 3, &seq, sizeof(seq));
	return seq;
}

void
store_raise_seq(struct store_txn *t, uint64_t floor)
{
	const void *v;
	size_t vl;
	uint64_t seq = 0;

	if (store_get(t, TBL_META, "seq", 3, &v, &vl) == STORE_OK &&
	    vl == sizeof(seq))
		memcpy(&seq, v, sizeof(seq));
	if (seq < floor)
		store_put(t, TBL_META, "seq", 3, &floor, sizeof(floor));
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
