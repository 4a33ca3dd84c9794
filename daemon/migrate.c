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

/* One converted entry: key, value, then the new key (nkl bytes; 0: the
 * entry keeps its key), in one allocation. */
struct conv {
	size_t kl, vl, nkl;
	int del;
	unsigned char kv[];
};

/* A table rewritten in chunks: values through fn (migrate_table) or keys
 * through kfn (migrate_keys). */
struct chunk {
	struct store_txn *t;
	int tbl;
	migrate_fn fn;
	migrate_key_fn kfn;
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
	unsigned char buf[VALUE_MAX], nk[512];
	size_t nkl = 0;
	struct vw w;
	struct conv *e;
	int rc = 0;

	/* the scan resumes at the last key of the previous chunk */
	if (ch->lastl && kl == ch->lastl && memcmp(k, ch->last, kl) == 0)
		return 0;
	if (kl > sizeof(ch->last)) {
		store_corrupt(ch->t, ch->tbl, k, kl, "key too long");
		ch->failed = -1;
		return 1;
	}
	if (ch->kfn != NULL) {
		rc = ch->kfn(k, kl, nk, sizeof(nk), &nkl);
		if (rc < 0 || (rc == 0 && (nkl == 0 || nkl > sizeof(nk)))) {
			store_corrupt(ch->t, ch->tbl, k, kl,
			    "key cannot be read in the schema it is migrated "
			    "from");
			ch->failed = -1;
			return 1;
		}
		memcpy(ch->last, k, kl);
		ch->lastl = kl;
		if (rc == 1)
			return 0; /* moved already: a new key the scan met */
	}
	vw_init(&w, buf, sizeof(buf));
	if (ch->kfn != NULL)
		vw_bytes(&w, v, vl); /* the value moves as it is */
	else
		rc = ch->fn(ch->arg, k, kl, v, vl, &w);
	if (rc < 0 || w.err) {
		store_corrupt(ch->t, ch->tbl, k, kl,
		    "cannot be read in the schema it is migrated from");
		ch->failed = -1;
		return 1;
	}
	if ((e = malloc(sizeof(*e) + kl + w.len + nkl)) == NULL) {
		ch->failed = -2;
		return 1;
	}
	e->kl = kl;
	e->vl = w.len;
	e->nkl = nkl;
	e->del = rc == 1;
	memcpy(e->kv, k, kl);
	memcpy(e->kv + kl, buf, w.len);
	memcpy(e->kv + kl + w.len, nk, nkl);
	ch->e[ch->n++] = e;
	memcpy(ch->last, k, kl);
	ch->lastl = kl;
	return ch->n == CHUNK;
}

/* Scan ch's table a chunk at a time, writing each chunk after its scan,
 * so that a scan never runs over a table it is changing. */
static int
run_chunks(struct chunk *ch, size_t *count)
{
	struct store_txn *t = ch->t;
	int rc, more;

	*count = 0;
	do {
		ch->n = 0;
		/* resume at the last key (skipped by chunk_cb) */
		rc = store_scan_from(t, ch->tbl, ch->lastl ? ch->last : NULL,
		    ch->lastl, chunk_cb, ch);
		more = ch->n == CHUNK;
		for (size_t i = 0; i < ch->n; i++) {
			struct conv *e = ch->e[i];

			if (rc == STORE_OK && !ch->failed) {
				if (e->del || e->nkl > 0)
					store_del(t, ch->tbl, e->kv, e->kl);
				if (e->nkl > 0)
					store_put(t, ch->tbl,
					    e->kv + e->kl + e->vl, e->nkl,
					    e->kv + e->kl, e->vl);
				else if (!e->del)
					store_put(t, ch->tbl, e->kv, e->kl,
					    e->kv + e->kl, e->vl);
			}
			free(e);
		}
		*count += ch->n;
		if (rc == STORE_OK)
			rc = store_txn_err(t);
	} while (rc == STORE_OK && !ch->failed && more);
	if (rc == STORE_OK && ch->failed)
		rc = ch->failed == -2 ? STORE_ENOMEM : STORE_CORRUPT;
	free(ch);
	return rc;
}

/* run_chunks over table tbl of t with a value rewrite fn or a key move
 * kfn (the other NULL). */
static int
rewrite(struct store_txn *t, int tbl, migrate_fn fn, migrate_key_fn kfn,
    void *arg, size_t *count)
{
	struct chunk *ch = calloc(1, sizeof(*ch));

	*count = 0;
	if (ch == NULL)
		return STORE_ENOMEM;
	ch->t = t;
	ch->tbl = tbl;
	ch->fn = fn;
	ch->kfn = kfn;
	ch->arg = arg;
	return run_chunks(ch, count);
}

int
migrate_table(
    struct store_txn *t, int tbl, migrate_fn fn, void *arg, size_t *count)
{
	return rewrite(t, tbl, fn, NULL, arg, count);
}

int
migrate_keys(struct store_txn *t, int tbl, migrate_key_fn fn, size_t *count)
{
	return rewrite(t, tbl, NULL, fn, NULL, count);
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
