/*
 * outbox.c: the child side of replication (see outbox.h): the queue toward
 * the parent, acknowledged versions, HELLO inventories, REPORTS batches and
 * the WELCOME rules of PROTOCOL.md 8.4, and what this node may send a
 * parent of an older wire revision (8.9: no year 2020, "agency" sent as
 * "commune"), from TBL_META "parent_revision".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "records.h"
#include "valid.h"
#include "value.h"

#define OKEY_MAX  (WIRE_MAX_ID + 3)
#define ACKED_FMT 2
#define REV_FMT   2

/* TBL_META: the parent's id and wire revision as last welcomed. */
#define META_PARENT     "parent"
#define META_PARENT_REV "parent_revision"

/* Entries (reports and removals) per REPORTS batch at most, whatever the
 * caller asks: so many of the largest report still fit WIRE_MAX_MSG
 * (wire.h); the uplink asks for far fewer. */
#define OUTBOX_BATCH_LIMIT \
	((WIRE_MAX_MSG - WIRE_MAX_ENVELOPE) / WIRE_MAX_REPORT)
_Static_assert(OUTBOX_BATCH_LIMIT >= WIRE_BATCH_ENTRIES,
    "a batch holds what wire.h promises");

/* A growing list of keys. */
struct keys {
	struct wire_key *k;
	size_t n, cap;
	int oom;
};

static void
keys_add(struct keys *l, const char *origin, int year, uint64_t version)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct wire_key *nk = realloc(l->k, cap * sizeof(*nk));

		if (nk == NULL) {
			l->oom = 1;
			return;
		}
		l->k = nk;
		l->cap = cap;
	}
	memset(&l->k[l->n], 0, sizeof(l->k[0]));
	snprintf(l->k[l->n].origin, sizeof(l->k[0].origin), "%s", origin);
	l->k[l->n].year = (uint16_t)year;
	l->k[l->n].version = version;
	l->n++;
}

/* Split a key origin \0 year(2); 0 if well-formed. */
static int
split_okey(const unsigned char *k, size_t kl, char *origin, int *year)
{
	const unsigned char *z = memchr(k, 0, kl);
	size_t ol;

	if (z == NULL || (ol = (size_t)(z - k)) > WIRE_MAX_ID || kl != ol + 3)
		return -1;
	memcpy(origin, k, ol + 1);
	*year = store_rd16(k + ol + 1);
	return 0;
}

/* Off at the root (no parent to send to): set once at start-up. */
static int queue_off;

int
outbox_queue(struct store_txn *t, const char *origin, int year)
{
	unsigned char k[OKEY_MAX];

	if (queue_off)
		return store_txn_err(t);
	return store_put(
	    t, TBL_OUTBOX, k, records_okey(k, origin, year), "", 0);
}

struct key_scan {
	unsigned char (*k)[OKEY_MAX];
	size_t *kl, n, max;
};

static int
key_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct key_scan *ks = arg;

	if (kl > OKEY_MAX)
		return 0;
	memcpy(ks->k[ks->n], k, kl);
	ks->kl[ks->n++] = kl;
	return ks->n == ks->max;
}

/* Delete every entry of tbl, in bounded chunks. */
static void
clear_table(struct store_txn *t, int tbl)
{
	enum { N = 1024 };
	unsigned char(*k)[OKEY_MAX] = malloc(N * sizeof(*k));
	size_t *kl = malloc(N * sizeof(*kl));
	struct key_scan ks = {k, kl, 0, N};

	if (k == NULL || kl == NULL) {
		free(k);
		free(kl);
		return;
	}
	do {
		ks.n = 0;
		store_scan(t, tbl, NULL, 0, key_cb, &ks);
		for (size_t i = 0; i < ks.n; i++)
			store_del(t, tbl, k[i], kl[i]);
	} while (ks.n == N && store_txn_err(t) == STORE_OK);
	free(k);
	free(kl);
}

int
outbox_startup(struct store_txn *t, const struct conf *c)
{
	queue_off = c->parent[0] == '\0';
	if (queue_off) {
		size_t n = 0;

		outbox_count(t, &n);
		if (n > 0)
			log_info("no parent: forgetting %zu queued reports", n);
		clear_table(t, TBL_OUTBOX);
		clear_table(t, TBL_ACKED);
	}
	return store_txn_err(t);
}

uint64_t
outbox_acked_version(struct store_txn *t, const char *origin, int year)
{
	unsigned char k[OKEY_MAX];
	size_t kl = records_okey(k, origin, year);
	const void *v;
	size_t vl;
	uint64_t ver;

	if (store_get(t, TBL_ACKED, k, kl, &v, &vl) != STORE_OK)
		return 0;
	if (vr_fmt_uint(v, vl, ACKED_FMT, &ver) != 0) {
		store_corrupt(t, TBL_ACKED, k, kl, "acknowledged version");
		return 0;
	}
	return ver;
}

static void
put_acked(struct store_txn *t, const char *origin, int year, uint64_t ver)
{
	unsigned char k[OKEY_MAX], buf[16];

	store_put(t, TBL_ACKED, k, records_okey(k, origin, year), buf,
	    vw_fmt_uint(buf, ACKED_FMT, ver));
}

uint32_t
outbox_parent_revision(struct store_txn *t)
{
	const void *v;
	size_t vl;
	uint64_t rev;

	if (store_get(t, TBL_META, META_PARENT_REV, strlen(META_PARENT_REV), &v,
	        &vl) != STORE_OK)
		return 1;
	if (vr_fmt_uint(v, vl, REV_FMT, &rev) != 0 || rev < 1 ||
	    rev > UINT32_MAX) {
		store_corrupt(t, TBL_META, META_PARENT_REV,
		    strlen(META_PARENT_REV), "parent revision");
		return 1;
	}
	return (uint32_t)rev;
}

int
outbox_sendable(uint32_t revision, int year)
{
	return year >= RULES_YEAR_MIN || revision >= WIRE_REVISION_2020;
}

const char *
outbox_wire_level(uint32_t revision, const char *level)
{
	if (revision < WIRE_REVISION_2020 &&
	    strcmp(level, rules_level_names[LEVEL_AGENCY]) == 0)
		return rules_level_names[LEVEL_COMMUNE];
	return level;
}

struct inv_scan {
	struct keys l;
	uint32_t revision;
};

static int
inv_win_cb(void *arg, const char *origin, int year, uint64_t version)
{
	struct inv_scan *is = arg;

	if (outbox_sendable(is->revision, year))
		keys_add(&is->l, origin, year, version);
	return 0;
}

int
outbox_inventory(
    struct store_txn *t, const struct conf *c, struct wire_key **inv, size_t *n)
{
	return outbox_inventory_rev(t, c, outbox_parent_revision(t), inv, n);
}

int
outbox_inventory_rev(struct store_txn *t, const struct conf *c,
    uint32_t revision, struct wire_key **inv, size_t *n)
{
	struct inv_scan is = {.revision = revision};
	struct keys l;

	/* every year a local report may have: 2020 only when it holds
	 * imported results (records never creates it) */
	for (int y = VALID_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		if (outbox_sendable(revision, y) &&
		    records_local(t, y, &lr) == STORE_OK && lr.version != 0)
			keys_add(&is.l, c->id, y, lr.version);
	}
	aggregate_winners(t, inv_win_cb, &is);
	l = is.l;
	*inv = l.k;
	*n = l.n;
	if (l.oom || store_txn_err(t)) {
		free(l.k);
		*inv = NULL;
		*n = 0;
		return l.oom ? STORE_ENOMEM : store_txn_err(t);
	}
	return STORE_OK;
}

struct queued_scan {
	struct store_txn *t;
	struct keys l;
	size_t max;
	uint32_t revision; /* the parent's */
	size_t held;       /* keys left queued: the parent cannot take them */
};

static int
queued_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct queued_scan *qs = arg;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (split_okey(k, kl, origin, &year) != 0 || vl != 0) {
		store_corrupt(qs->t, TBL_OUTBOX, k, kl, "outbox entry");
		return 1;
	}
	if (!outbox_sendable(qs->revision, year)) {
		qs->held++; /* stays queued until the parent is upgraded */
		return 0;
	}
	keys_add(&qs->l, origin, year, 0);
	return qs->l.n >= qs->max;
}

/* The report this node sends upward for (origin, year), as a parent of
 * wire revision `revision` takes it; 0 if it holds one, -1 if none (any
 * store error is left sticky in t). */
static int
outgoing(struct store_txn *t, const struct conf *c, uint32_t revision,
    const char *origin, int year, struct wire_report *r)
{
	memset(r, 0, sizeof(*r));
	if (strcmp(origin, c->id) == 0) {
		struct local_report lr;

		if (records_local(t, year, &lr) != STORE_OK || lr.version == 0)
			return -1;
		snprintf(r->origin, sizeof(r->origin), "%s", origin);
		r->year = (uint16_t)year;
		snprintf(r->level, sizeof(r->level), "%s",
		    rules_level_names[c->level]);
		snprintf(r->name, sizeof(r->name), "%s", c->name);
		r->version = lr.version;
		r->updated_at = lr.updated_at;
		r->path_len = 1;
		r->ncounters = CDHT_NCOUNTERS;
		r->counters = lr.c;
		/* quoted: a label the wire would refuse (not text) must not
		 * hold the report back; valid text is copied unchanged */
		valid_quote(r->filed_by, sizeof(r->filed_by), lr.filed_by,
		    strnlen(lr.filed_by, sizeof(lr.filed_by)));
		/* successor (field 10) stays "": only the copies a parent
		 * re-issues for a unit it retired name one (8.8) */
	} else {
		struct wire_report w;

		if (aggregate_report_of(t, origin, year, &w) != STORE_OK)
			return -1;
		*r = w;
		r->path_len = (uint8_t)(w.path_len + 1);
		memcpy(r->path[1], w.path, w.path_len * sizeof(w.path[0]));
	}
	snprintf(r->path[0], sizeof(r->path[0]), "%s", c->id);
	/* an older parent knows no "agency": it gets the unit as a commune
	 * (it records staff only, which a commune may too) */
	if (outbox_wire_level(revision, r->level) != r->level)
		snprintf(r->level, sizeof(r->level), "%s",
		    outbox_wire_level(revision, r->level));
	return 0;
}

int
outbox_collect(
    struct store_txn *t, const struct conf *c, size_t max, struct wire_msg *out)
{
	struct queued_scan qs = {.t = t,
	    .max = max ? max : 1,
	    .revision = outbox_parent_revision(t)};
	/* logged once a process while the parent stays at revision 1 */
	static int held_logged;

	if (qs.max > OUTBOX_BATCH_LIMIT)
		qs.max = OUTBOX_BATCH_LIMIT;
	size_t nr = 0, nk = 0;

	memset(out, 0, sizeof(*out));
	out->type = WIRE_REPORTS;
	store_scan(t, TBL_OUTBOX, NULL, 0, queued_cb, &qs);
	if (qs.held > 0 && !held_logged) {
		log_info("the parent's wire revision is %u: %s%zu reports of "
		         "year %d stay queued until it is upgraded",
		    (unsigned)qs.revision, qs.l.n >= qs.max ? "at least " : "",
		    qs.held, VALID_REPORT_YEAR_MIN);
		held_logged = 1;
	} else if (qs.revision >= WIRE_REVISION_2020)
		held_logged = 0;
	if (qs.l.n > 0) {
		out->reports = calloc(qs.l.n, sizeof(*out->reports));
		out->keys = calloc(qs.l.n, sizeof(*out->keys));
		if (out->reports == NULL || out->keys == NULL)
			qs.l.oom = 1;
	}
	for (size_t i = 0; !qs.l.oom && i < qs.l.n; i++) {
		struct wire_key *k = &qs.l.k[i];
		uint64_t av = outbox_acked_version(t, k->origin, k->year);

		if (outgoing(t, c, qs.revision, k->origin, k->year,
		        &out->reports[nr]) == 0 &&
		    out->reports[nr].version >= av)
			nr++;
		else { /* gone, or fell back below what the parent holds:
			* remove first, the report follows in a later batch;
			* a removal names the version it retracts (>= 1) */
			out->keys[nk] = *k;
			out->keys[nk++].version = av ? av : 1;
		}
	}
	out->nreports = nr;
	out->nkeys = nk;
	free(qs.l.k);
	if (qs.l.oom || store_txn_err(t)) {
		wire_msg_free(out);
		return qs.l.oom ? STORE_ENOMEM : store_txn_err(t);
	}
	return STORE_OK;
}

/* Current version of what we hold for (origin, year), 0 if nothing. */
static uint64_t
held_version(
    struct store_txn *t, const struct conf *c, const char *origin, int year)
{
	struct wire_report r;

	return outgoing(t, c, WIRE_REVISION, origin, year, &r) == 0 ? r.version
	                                                            : 0;
}

int
outbox_acked(
    struct store_txn *t, const struct conf *c, const struct wire_msg *sent)
{
	unsigned char k[OKEY_MAX];

	for (size_t i = 0; i < sent->nreports; i++) {
		const struct wire_report *r = &sent->reports[i];
		size_t kl = records_okey(k, r->origin, r->year);

		struct wire_report now;

		put_acked(t, r->origin, r->year, r->version);
		/* done only if what we hold now is what went: the same version
		 * with no more counters (a fuller copy at the same version
		 * stays queued, PROTOCOL.md 7.1 rule 5) */
		if (outgoing(t, c, WIRE_REVISION, r->origin, r->year, &now) ==
		        0 &&
		    now.version == r->version &&
		    wire_ncounters(&now) <= wire_ncounters(r))
			store_del(t, TBL_OUTBOX, k, kl);
	}
	for (size_t i = 0; i < sent->nkeys; i++) {
		const struct wire_key *r = &sent->keys[i];
		size_t kl = records_okey(k, r->origin, r->year);

		/* the parent holds nothing now; if we hold something again,
		 * it stays queued and goes as a report next time */
		store_del(t, TBL_ACKED, k, kl);
		if (held_version(t, c, r->origin, r->year) == 0)
			store_del(t, TBL_OUTBOX, k, kl);
	}
	return store_txn_err(t);
}

int
outbox_welcome(struct store_txn *t, const struct conf *c,
    const struct wire_msg *w, int64_t now)
{
	const void *v;
	size_t vl;
	uint64_t floor = 0;
	int bump = 0, known = 0;
	uint32_t stored = 1, rev_was, rev = w->revision ? w->revision : 1;
	unsigned char rbuf[16];

	if (store_get(t, TBL_META, META_PARENT_REV, strlen(META_PARENT_REV), &v,
	        &vl) == STORE_OK) {
		stored = outbox_parent_revision(t);
		known = 1;
	}
	rev_was = stored;
	if (store_get(t, TBL_META, META_PARENT, strlen(META_PARENT), &v, &vl) ==
	    STORE_OK) {
		if (vl != strlen(w->id) || memcmp(v, w->id, vl) != 0) {
			log_info("parent is now %s (was %.*s): new versions",
			    w->id, (int)vl, (const char *)v);
			bump = 1;
			rev_was = 1; /* another parent: what we knew is void */
		}
	}
	store_put(t, TBL_META, META_PARENT, strlen(META_PARENT), w->id,
	    strlen(w->id));
	/* the revision of every WELCOME is the parent's truth, lower too (a
	 * parent downgraded to an older release must not get what it drops
	 * as malformed) */
	if (rev != stored || !known) {
		if (known)
			log_info("parent %s speaks wire revision %u (was %u)",
			    w->id, (unsigned)rev, (unsigned)stored);
		store_put(t, TBL_META, META_PARENT_REV, strlen(META_PARENT_REV),
		    rbuf, vw_fmt_uint(rbuf, REV_FMT, rev));
	}
	/* an agency's reports went up as a commune's: once the parent knows
	 * "agency", new versions replace them there (an equal version would
	 * be ignored) */
	if (known && rev_was < WIRE_REVISION_2020 &&
	    rev >= WIRE_REVISION_2020 && c->level == LEVEL_AGENCY) {
		log_info(
		    "parent %s now takes level agency: new versions", w->id);
		bump = 1;
	}
	for (size_t i = 0; i < w->nown; i++) {
		struct local_report lr;

		if (strcmp(w->own[i].origin, c->id) != 0)
			continue;
		/* a version far ahead of our clock is not one we issued:
		 * never raise our clock to it (it could be near the end of
		 * its range) */
		if (w->own[i].version >
		    (uint64_t)(now > 0 ? now : 0) * 1000000u +
		        UINT64_C(30) * 86400 * 1000000) {
			log_warnx("parent holds %d v%llu, far ahead of our "
			          "clock: ignored",
			    w->own[i].year,
			    (unsigned long long)w->own[i].version);
			continue;
		}
		records_local(t, w->own[i].year, &lr);
		if (w->own[i].version > lr.version) {
			log_info("parent holds %d v%llu above ours (v%llu): "
			         "restored from a backup?",
			    w->own[i].year,
			    (unsigned long long)w->own[i].version,
			    (unsigned long long)lr.version);
			bump = 1;
		}
		if (w->own[i].version > floor)
			floor = w->own[i].version;
	}
	if (bump)
		records_bump_all(t, c->id, floor, now);
	for (size_t i = 0; i < w->nkeys; i++) {
		unsigned char k[OKEY_MAX];
		size_t kl = records_okey(k, w->keys[i].origin, w->keys[i].year);

		store_put(t, TBL_OUTBOX, k, kl, "", 0);
		store_del(t, TBL_ACKED, k, kl);
	}
	return store_txn_err(t);
}

static int
count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(*(size_t *)arg)++;
	return 0;
}

int
outbox_count(struct store_txn *t, size_t *n)
{
	*n = 0;
	return store_scan(t, TBL_OUTBOX, NULL, 0, count_cb, n);
}

/* Schema 1 wrote the acknowledged version as 8 bytes in host order. */
static int
v1_acked_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	uint64_t ver;
	unsigned char buf[16];

	if (vl != sizeof(ver))
		return -1;
	memcpy(&ver, v, sizeof(ver));
	vw_bytes(out, buf, vw_fmt_uint(buf, ACKED_FMT, ver));
	return 0;
}

int
outbox_migrate_v1(struct store_txn *t)
{
	size_t n = 0;
	int rc = migrate_table(t, TBL_ACKED, v1_acked_cb, NULL, &n);

	if (rc == STORE_OK)
		log_info("migrated %zu acknowledged versions", n);
	return rc;
}
