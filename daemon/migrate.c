/*
 * migrate.c: the schema migration driver (see migrate.h).  Schema 1 is the
 * raw-struct layout of release 0.1.0; schema 2 encodes every value with
 * value.h behind a format byte; schema 3 adds fields (release 0.3.0);
 * schema 4 puts the year first in the keys of win and totals (0.5.0).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "records.h"

#define CHUNK 4096 /* entries converted per scan: bounded memory */

/* One converted entry: key then value, in one allocation. */
struct conv {
	size_t kl, vl;
	int del;
	unsigned char kv[];
};

struct chunk {
	struct store_txn *t;
	int tbl;
	migrate_fn fn;
	void *arg;
	struct conv *e[CHUNK];
	size_t n;
	int failed; /* -1: undecodable, -2: out of memory */
	unsigned char last[512];
	size_t lastl;
};

static int
chunk_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct chunk *ch = arg;
	unsigned char buf[VALUE_MAX];
	struct vw w;
	struct conv *e;
	int rc;

	/* the scan resumes at the last key of the previous chunk */
	if (ch->lastl && kl == ch->lastl && memcmp(k, ch->last, kl) == 0)
		return 0;
	if (kl > sizeof(ch->last)) {
		store_corrupt(ch->t, ch->tbl, k, kl, "key too long");
		ch->failed = -1;
		return 1;
	}
	vw_init(&w, buf, sizeof(buf));
	rc = ch->fn(ch->arg, k, kl, v, vl, &w);
	if (rc < 0 || w.err) {
		store_corrupt(ch->t, ch->tbl, k, kl,
		    "cannot be read in the schema it is migrated from");
		ch->failed = -1;
		return 1;
	}
	if ((e = malloc(sizeof(*e) + kl + w.len)) == NULL) {
		ch->failed = -2;
		return 1;
	}
	e->kl = kl;
	e->vl = w.len;
	e->del = rc == 1;
	memcpy(e->kv, k, kl);
	memcpy(e->kv + kl, buf, w.len);
	ch->e[ch->n++] = e;
	memcpy(ch->last, k, kl);
	ch->lastl = kl;
	return ch->n == CHUNK;
}

int
migrate_table(
    struct store_txn *t, int tbl, migrate_fn fn, void *arg, size_t *count)
{
	struct chunk *ch = calloc(1, sizeof(*ch));
	int rc = STORE_OK;

	*count = 0;
	if (ch == NULL)
		return STORE_ENOMEM;
	ch->t = t;
	ch->tbl = tbl;
	ch->fn = fn;
	ch->arg = arg;
	do {
		ch->n = 0;
		/* resume at the last key (skipped by chunk_cb) */
		rc = store_scan_from(t, tbl, ch->lastl ? ch->last : NULL,
		    ch->lastl, chunk_cb, ch);
		for (size_t i = 0; i < ch->n; i++) {
			struct conv *e = ch->e[i];

			if (rc == STORE_OK && !ch->failed) {
				if (e->del)
					store_del(t, tbl, e->kv, e->kl);
				else
					store_put(t, tbl, e->kv, e->kl,
					    e->kv + e->kl, e->vl);
			}
			free(e);
		}
		*count += ch->n;
		if (rc == STORE_OK)
			rc = store_txn_err(t);
	} while (rc == STORE_OK && !ch->failed && ch->n == CHUNK);
	if (rc == STORE_OK && ch->failed)
		rc = ch->failed == -2 ? STORE_ENOMEM : STORE_CORRUPT;
	free(ch);
	return rc;
}

/* A chunk of entries to move to new keys (migrate_keys). */
struct rekey {
	struct store_txn *t;
	int tbl;
	migrate_key_fn fn;
	struct conv *e[CHUNK]; /* kv: old key, value, new key (nkl bytes) */
	size_t nkl[CHUNK];
	size_t n;
	int failed; /* -1: unreadable, -2: out of memory */
	unsigned char last[512];
	size_t lastl;
};

static int
rekey_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct rekey *rk = arg;
	unsigned char nk[512];
	size_t nkl = 0;
	struct conv *e;
	int rc;

	if (rk->lastl && kl == rk->lastl && memcmp(k, rk->last, kl) == 0)
		return 0;
	if (kl > sizeof(rk->last) ||
	    (rc = rk->fn(k, kl, nk, sizeof(nk), &nkl)) < 0 || nkl == 0 ||
	    nkl > sizeof(nk)) {
		store_corrupt(rk->t, rk->tbl, k, kl,
		    "key cannot be read in the schema it is migrated from");
		rk->failed = -1;
		return 1;
	}
	memcpy(rk->last, k, kl);
	rk->lastl = kl;
	if (rc == 1)
		return 0; /* already moved: a new key the scan came across */
	if ((e = malloc(sizeof(*e) + kl + vl + nkl)) == NULL) {
		rk->failed = -2;
		return 1;
	}
	e->kl = kl;
	e->vl = vl;
	e->del = 0;
	memcpy(e->kv, k, kl);
	memcpy(e->kv + kl, v, vl);
	memcpy(e->kv + kl + vl, nk, nkl);
	rk->nkl[rk->n] = nkl;
	rk->e[rk->n++] = e;
	return rk->n == CHUNK;
}

int
migrate_keys(struct store_txn *t, int tbl, migrate_key_fn fn, size_t *count)
{
	struct rekey *rk = calloc(1, sizeof(*rk));
	int rc = STORE_OK, more;

	*count = 0;
	if (rk == NULL)
		return STORE_ENOMEM;
	rk->t = t;
	rk->tbl = tbl;
	rk->fn = fn;
	do {
		rk->n = 0;
		/* resume at the last key seen (skipped by rekey_cb); the
		 * moved entries are written after the scan, so a scan never
		 * runs over a table it is changing */
		rc = store_scan_from(t, tbl, rk->lastl ? rk->last : NULL,
		    rk->lastl, rekey_cb, rk);
		more = rk->n == CHUNK;
		for (size_t i = 0; i < rk->n; i++) {
			struct conv *e = rk->e[i];

			if (rc == STORE_OK && !rk->failed) {
				store_del(t, tbl, e->kv, e->kl);
				store_put(t, tbl, e->kv + e->kl + e->vl,
				    rk->nkl[i], e->kv + e->kl, e->vl);
			}
			free(e);
		}
		*count += rk->n;
		if (rc == STORE_OK)
			rc = store_txn_err(t);
	} while (rc == STORE_OK && !rk->failed && more);
	if (rc == STORE_OK && rk->failed)
		rc = rk->failed == -2 ? STORE_ENOMEM : STORE_CORRUPT;
	free(rk);
	return rc;
}

int
migrate_run(struct store *st, const struct conf *c)
{
	struct store_txn *t;
	struct timespec t0, t1;
	uint32_t from;
	int rc;

	if ((t = store_begin_migration(st, &from)) == NULL)
		return from == STORE_SCHEMA_VERSION ? STORE_OK : STORE_EIO;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	log_info("data directory schema %u is older than %d: migrating in "
	         "place (one transaction)",
	    from, STORE_SCHEMA_VERSION);
	/* the steps chain, in order: each reads the previous schema's values
	 * (and its own, so a step may write the newest format directly) */
	rc = STORE_OK;
	/* keys first: every later step reads and writes schema 4's keys */
	if (from <= 3 && rc == STORE_OK)
		rc = aggregate_migrate_v3(t);
	if (from <= 1 && rc == STORE_OK)
		rc = records_migrate_v1(t, c->id);
	if (from <= 1 && rc == STORE_OK)
		rc = aggregate_migrate_v1(t, c);
	if (from <= 1 && rc == STORE_OK)
		rc = outbox_migrate_v1(t);
	if (from <= 2 && rc == STORE_OK)
		rc = records_migrate_v2(t, c->id);
	if (from <= 2 && rc == STORE_OK)
		rc = aggregate_migrate_v2(t);
	if (rc != STORE_OK) {
		store_abort(&t);
		log_warnx("migration from schema %u failed (%s): nothing was "
		          "changed; the data directory is as it was",
		    from, store_strerror(rc));
		return rc;
	}
	if ((rc = store_commit_migration(&t)) != STORE_OK) {
		log_warnx("migration from schema %u: commit failed (%s): "
		          "nothing was changed",
		    from, store_strerror(rc));
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("data directory migrated from schema %u to %d in %.0f ms",
	    from, STORE_SCHEMA_VERSION,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	        (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return STORE_OK;
}
