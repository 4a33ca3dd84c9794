/*
 * aggregate.c: the subtree's replicated state: per-child mirrors, winners,
 * incremental totals, the node directory, and the outbox toward the parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "log.h"
#include "records.h"

/* TBL_MIRROR and TBL_WIN value. */
struct agg_rec {
	uint64_t version;
	int64_t updated_at;
	int64_t received_at;
	char via[WIRE_MAX_ID + 1];
	char level[16];
	char name[WIRE_MAX_NAME + 1];
	uint8_t path_len;
	char path[WIRE_MAX_PATH][WIRE_MAX_ID + 1];
	struct cdht_counters c;
};

/* TBL_NODES value. */
struct agg_node_rec {
	struct agg_node n;
	int32_t nyears; /* years with a winning report */
};

#define OKEY_MAX (WIRE_MAX_ID + 3)
/* No real count comes near it; 2^23 reports of it still fit an int64. */
#define AGG_MAX_COUNTER (INT64_C(1) << 40)
#define MKEY_MAX        (OKEY_MAX + WIRE_MAX_ID + 1)

static size_t
mkey(unsigned char *buf, const char *origin, int year, const char *via)
{
	size_t n = records_okey(buf, origin, year), vl = strlen(via);

	memcpy(buf + n, via, vl + 1);
	return n + vl + 1;
}

/* Split a key origin \0 year(2) [via \0]; returns 0 if well-formed. */
static int
split_key(const unsigned char *k, size_t kl, char *origin, int *year, char *via)
{
	const unsigned char *z = memchr(k, 0, kl);
	size_t ol;

	if (z == NULL || (ol = (size_t)(z - k)) > WIRE_MAX_ID || kl < ol + 3)
		return -1;
	memcpy(origin, k, ol + 1);
	*year = store_rd16(k + ol + 1);
	if (via != NULL) {
		size_t vl = kl - ol - 3;
		if (vl < 1 || vl > WIRE_MAX_ID + 1 || k[kl - 1] != 0)
			return -1;
		memcpy(via, k + ol + 3, vl);
	}
	return 0;
}

static int
get_rec(
    struct store_txn *t, int tbl, const void *k, size_t kl, struct agg_rec *out)
{
	const void *v;
	size_t vl;
	int rc = store_get(t, tbl, k, kl, &v, &vl);

	if (rc != STORE_OK)
		return rc;
	if (vl != sizeof(*out))
		return STORE_EIO;
	memcpy(out, v, sizeof(*out));
	return STORE_OK;
}

static void
totals_add(struct store_txn *t, const char *node, int year,
    const struct cdht_counters *c, int sign)
{
	unsigned char k[OKEY_MAX];
	size_t kl = records_okey(k, node, year);
	struct cdht_counters sum;
	const void *v;
	size_t vl;

	memset(&sum, 0, sizeof(sum));
	if (store_get(t, TBL_TOTALS, k, kl, &v, &vl) == STORE_OK)
		memcpy(&sum, v, vl < sizeof(sum) ? vl : sizeof(sum));
	cdht_counters_add(&sum, c, sign);
	if (cdht_counters_is_zero(&sum))
		store_del(t, TBL_TOTALS, k, kl);
	else
		store_put(t, TBL_TOTALS, k, kl, &sum, sizeof(sum));
}

/* Add sign * r's counters to this node and every node on r's path. */
static void
totals_along(struct store_txn *t, const struct conf *c, int year,
    const struct agg_rec *r, int sign)
{
	totals_add(t, c->id, year, &r->c, sign);
	for (int i = 0; i < r->path_len; i++)
		totals_add(t, r->path[i], year, &r->c, sign);
}

static void
node_update(struct store_txn *t, const struct conf *c, const char *origin,
    const struct agg_rec *r, int dyears)
{
	struct agg_node_rec nr;
	const void *v;
	size_t vl, ol = strlen(origin);

	memset(&nr, 0, sizeof(nr));
	if (store_get(t, TBL_NODES, origin, ol, &v, &vl) == STORE_OK &&
	    vl == sizeof(nr))
		memcpy(&nr, v, sizeof(nr));
	nr.nyears += dyears;
	if (nr.nyears <= 0) {
		store_del(t, TBL_NODES, origin, ol);
		return;
	}
	if (r != NULL) {
		snprintf(nr.n.id, sizeof(nr.n.id), "%s", origin);
		memcpy(nr.n.level, r->level, sizeof(nr.n.level));
		memcpy(nr.n.name, r->name, sizeof(nr.n.name));
		snprintf(nr.n.parent, sizeof(nr.n.parent), "%s",
		    r->path_len >= 2 ? r->path[r->path_len - 2] : c->id);
		nr.n.depth = r->path_len;
		if (r->version > nr.n.version)
			nr.n.version = r->version;
		if (r->updated_at > nr.n.last_report)
			nr.n.last_report = r->updated_at;
	}
	store_put(t, TBL_NODES, origin, ol, &nr, sizeof(nr));
}

struct best_scan {
	struct agg_rec best;
	int found;
};

static int
best_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct best_scan *bs = arg;
	struct agg_rec r;

	if (vl != sizeof(r))
		return 0;
	memcpy(&r, v, sizeof(r));
	/* keys are in via order: strictly greater keeps the lowest via */
	if (!bs->found || r.version > bs->best.version) {
		bs->best = r;
		bs->found = 1;
	}
	return 0;
}

/* Re-elect the winner of (origin, year) and move totals if it changed. */
static int
rewin(struct store_txn *t, const struct conf *c, const char *origin, int year)
{
	unsigned char k[OKEY_MAX];
	size_t kl = records_okey(k, origin, year);
	struct best_scan bs = {.found = 0};
	struct agg_rec old;
	int had;

	store_scan(t, TBL_MIRROR, k, kl, best_cb, &bs);
	had = get_rec(t, TBL_WIN, k, kl, &old) == STORE_OK;
	if (had && bs.found && old.version == bs.best.version &&
	    strcmp(old.via, bs.best.via) == 0)
		return store_txn_err(t);
	if (had)
		totals_along(t, c, year, &old, -1);
	if (bs.found) {
		totals_along(t, c, year, &bs.best, +1);
		store_put(t, TBL_WIN, k, kl, &bs.best, sizeof(bs.best));
		node_update(t, c, origin, &bs.best, had ? 0 : 1);
	} else if (had) {
		store_del(t, TBL_WIN, k, kl);
		node_update(t, c, origin, NULL, -1);
	}
	store_put(t, TBL_OUTBOX, k, kl, "", 0);
	return store_txn_err(t);
}

int
aggregate_apply(struct store_txn *t, const struct conf *c, const char *via,
    const struct wire_report *r, int64_t now)
{
	unsigned char k[MKEY_MAX];
	size_t kl;
	struct agg_rec rec;
	const char *why = NULL;

	if (r->path_len < 1 || strcmp(r->path[0], via) != 0)
		why = "path does not start with the sending child";
	else if (strcmp(r->path[r->path_len - 1], r->origin) != 0)
		why = "path does not end with the origin";
	else if (r->path_len >= WIRE_MAX_PATH)
		why = "path too long to forward";
	for (int i = 0; why == NULL && i < CDHT_NCOUNTERS; i++)
		if (r->counters.v[i] > AGG_MAX_COUNTER)
			why = "counter above 2^40 (sums could overflow)";
	for (int i = 0; why == NULL && i < r->path_len; i++) {
		if (strcmp(r->path[i], c->id) == 0)
			why = "path runs through this node (loop)";
		else if (i > 0 && conf_child_by_id(c, r->path[i]) >= 0)
			why = "path runs through another direct child";
	}
	if (why != NULL) {
		/* a hostile child may send thousands: 10 lines a minute */
		static struct log_ratelimit rl = {.what = "refused reports"};
		if (log_ratelimit_ok(&rl))
			log_warnx(
			    "refused report %s/%d v%llu from child %s: %s",
			    r->origin, r->year, (unsigned long long)r->version,
			    via, why);
		return AGG_REFUSED;
	}
	kl = mkey(k, r->origin, r->year, via);
	if (get_rec(t, TBL_MIRROR, k, kl, &rec) == STORE_OK &&
	    rec.version >= r->version)
		return AGG_IGNORED;
	memset(&rec, 0, sizeof(rec));
	rec.version = r->version;
	rec.updated_at = r->updated_at;
	rec.received_at = now;
	snprintf(rec.via, sizeof(rec.via), "%s", via);
	memcpy(rec.level, r->level, sizeof(rec.level));
	memcpy(rec.name, r->name, sizeof(rec.name));
	rec.path_len = r->path_len;
	memcpy(rec.path, r->path, sizeof(rec.path));
	rec.c = r->counters;
	store_put(t, TBL_MIRROR, k, kl, &rec, sizeof(rec));
	rewin(t, c, r->origin, r->year);
	return store_txn_err(t) ? store_txn_err(t) : AGG_APPLIED;
}

int
aggregate_remove(struct store_txn *t, const struct conf *c, const char *via,
    const char *origin, int year)
{
	unsigned char k[MKEY_MAX];

	if (store_del(t, TBL_MIRROR, k, mkey(k, origin, year, via)) ==
	    STORE_NOTFOUND)
		return store_txn_err(t);
	return rewin(t, c, origin, year);
}

/* A list of (origin, year[, via]) collected during a scan. */
struct keylist {
	struct wire_key *k;
	char (*via)[WIRE_MAX_ID + 1];
	size_t n, cap;
	int oom;
};

static void
keylist_add(struct keylist *l, const char *origin, int year, uint64_t version,
    const char *via)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct wire_key *nk = realloc(l->k, cap * sizeof(*nk));
		char(*nv)[WIRE_MAX_ID + 1];

		if (nk == NULL) {
			l->oom = 1;
			return;
		}
		l->k = nk;
		nv = realloc(l->via, cap * sizeof(*nv));
		if (nv == NULL) {
			l->oom = 1;
			return;
		}
		l->via = nv;
		l->cap = cap;
	}
	memset(&l->k[l->n], 0, sizeof(l->k[0]));
	snprintf(l->k[l->n].origin, sizeof(l->k[0].origin), "%s", origin);
	l->k[l->n].year = (uint16_t)year;
	l->k[l->n].version = version;
	snprintf(l->via[l->n], sizeof(l->via[0]), "%s", via ? via : "");
	l->n++;
}

static void
keylist_free(struct keylist *l)
{
	free(l->k);
	free(l->via);
	memset(l, 0, sizeof(*l));
}

static int
key_cmp(const void *a, const void *b)
{
	const struct wire_key *x = a, *y = b;
	int r = strcmp(x->origin, y->origin);

	return r ? r : (int)x->year - (int)y->year;
}

struct via_scan {
	const struct wire_key *inv; /* sorted; NULL: match by via only */
	size_t ninv;
	const char *via; /* NULL: every via not configured */
	const struct conf *c;
	struct keylist stale;
};

static int
via_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct via_scan *vs = arg;
	struct wire_key key;
	char via[WIRE_MAX_ID + 1];
	int year;

	memset(&key, 0, sizeof(key));
	if (split_key(k, kl, key.origin, &year, via) != 0)
		return 0;
	key.year = (uint16_t)year;
	if (vs->via != NULL) {
		if (strcmp(via, vs->via) != 0)
			return 0;
		if (vs->ninv > 0 &&
		    bsearch(&key, vs->inv, vs->ninv, sizeof(key), key_cmp))
			return 0;
	} else if (conf_child_by_id(vs->c, via) >= 0)
		return 0;
	keylist_add(&vs->stale, key.origin, year, 0, via);
	return 0;
}

/* Delete every mirrored entry in l and re-elect its winner. */
static int
drop_all(struct store_txn *t, const struct conf *c, struct keylist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		log_info("forgetting %s/%d from %s", l->k[i].origin,
		    l->k[i].year, l->via[i]);
		aggregate_remove(t, c, l->via[i], l->k[i].origin, l->k[i].year);
	}
	return l->oom ? STORE_ENOMEM : store_txn_err(t);
}

int
aggregate_hello(struct store_txn *t, const struct conf *c, const char *via,
    const struct wire_key *inv, size_t n, struct wire_msg *w)
{
	struct via_scan vs = {.via = via, .c = c};
	struct wire_key *sorted = NULL;
	struct keylist want = {0}, own = {0};
	int rc;

	memset(w, 0, sizeof(*w));
	w->type = WIRE_WELCOME;
	snprintf(w->id, sizeof(w->id), "%s", c->id);
	if (n > 0 && (sorted = malloc(n * sizeof(*sorted))) == NULL)
		return STORE_ENOMEM;
	if (n > 0)
		memcpy(sorted, inv, n * sizeof(*sorted));
	if (n > 0)
		qsort(sorted, n, sizeof(*sorted), key_cmp);
	vs.inv = sorted;
	vs.ninv = n;
	/* own: what we count for via's origin, taken before any deletion,
	 * from the winner (so a child restored without a year still bumps) */
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		unsigned char k[OKEY_MAX];
		struct agg_rec rec;

		if (get_rec(t, TBL_WIN, k, records_okey(k, via, y), &rec) ==
		    STORE_OK)
			keylist_add(&own, via, y, rec.version, NULL);
	}
	store_scan(t, TBL_MIRROR, NULL, 0, via_cb, &vs);
	rc = drop_all(t, c, &vs.stale);
	keylist_free(&vs.stale);
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		unsigned char k[MKEY_MAX];
		struct agg_rec rec;
		int have = get_rec(t, TBL_MIRROR, k,
		               mkey(k, inv[i].origin, inv[i].year, via),
		               &rec) == STORE_OK;

		/* the child's inventory is authoritative for what it relays:
		 * a higher copy here (an ACK lost before the child's winner
		 * fell back) is dropped and the child's copy wanted.  For the
		 * child's own origin the higher copy stays: `own` makes the
		 * child re-issue above it. */
		if (have && rec.version > inv[i].version &&
		    strcmp(inv[i].origin, via) != 0)
			rc = aggregate_remove(
			    t, c, via, inv[i].origin, inv[i].year);
		if (!have || rec.version < inv[i].version ||
		    (rec.version > inv[i].version &&
		        strcmp(inv[i].origin, via) != 0))
			keylist_add(&want, inv[i].origin, inv[i].year, 0, NULL);
	}
	free(sorted);
	free(want.via);
	free(own.via);
	w->keys = want.k;
	w->nkeys = want.n;
	w->own = own.k;
	w->nown = own.n;
	if (want.oom || own.oom)
		return STORE_ENOMEM;
	return rc ? rc : store_txn_err(t);
}

int
aggregate_drop_unconfigured(struct store_txn *t, const struct conf *c)
{
	struct via_scan vs = {.via = NULL, .c = c};
	int rc;

	store_scan(t, TBL_MIRROR, NULL, 0, via_cb, &vs);
	rc = drop_all(t, c, &vs.stale);
	keylist_free(&vs.stale);
	return rc;
}

struct inv_scan {
	struct keylist l;
	const char *origin; /* for TBL_LOCAL: the node's own id */
};

static int
inv_local_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct inv_scan *is = arg;
	struct local_report lr;

	if (kl != 2)
		return 0;
	memset(&lr, 0, sizeof(lr));
	memcpy(&lr, v, vl < sizeof(lr) ? vl : sizeof(lr));
	keylist_add(&is->l, is->origin, store_rd16(k), lr.version, NULL);
	return 0;
}

static int
inv_win_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct inv_scan *is = arg;
	struct agg_rec r;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (vl != sizeof(r) || split_key(k, kl, origin, &year, NULL) != 0)
		return 0;
	memcpy(&r, v, sizeof(r));
	keylist_add(&is->l, origin, year, r.version, NULL);
	return 0;
}

int
aggregate_inventory(
    struct store_txn *t, const struct conf *c, struct wire_key **inv, size_t *n)
{
	struct inv_scan is = {.origin = c->id};

	store_scan(t, TBL_LOCAL, NULL, 0, inv_local_cb, &is);
	store_scan(t, TBL_WIN, NULL, 0, inv_win_cb, &is);
	free(is.l.via);
	*inv = is.l.k;
	*n = is.l.n;
	if (is.l.oom) {
		free(is.l.k);
		*inv = NULL;
		*n = 0;
		return STORE_ENOMEM;
	}
	return store_txn_err(t);
}

struct outbox_scan {
	struct keylist l;
	size_t max;
};

static int
outbox_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct outbox_scan *os = arg;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (split_key(k, kl, origin, &year, NULL) == 0)
		keylist_add(&os->l, origin, year, 0, NULL);
	return os->l.n >= os->max;
}

/* Build the report this node sends upward for (origin, year); 0 if any. */
static int
outgoing(struct store_txn *t, const struct conf *c, const char *origin,
    int year, struct wire_report *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->origin, sizeof(r->origin), "%s", origin);
	r->year = (uint16_t)year;
	snprintf(r->path[0], sizeof(r->path[0]), "%s", c->id);
	if (strcmp(origin, c->id) == 0) {
		struct local_report lr;

		if (records_local(t, year, &lr) != STORE_OK || lr.version == 0)
			return -1;
		snprintf(r->level, sizeof(r->level), "%s",
		    rules_level_names[c->level]);
		snprintf(r->name, sizeof(r->name), "%s", c->name);
		r->version = lr.version;
		r->updated_at = lr.updated_at;
		r->path_len = 1;
		r->counters = lr.c;
	} else {
		unsigned char k[OKEY_MAX];
		struct agg_rec w;

		if (get_rec(t, TBL_WIN, k, records_okey(k, origin, year), &w) !=
		    STORE_OK)
			return -1;
		memcpy(r->level, w.level, sizeof(r->level));
		memcpy(r->name, w.name, sizeof(r->name));
		r->version = w.version;
		r->updated_at = w.updated_at;
		r->path_len = (uint8_t)(w.path_len + 1);
		memcpy(r->path[1], w.path, w.path_len * sizeof(w.path[0]));
		r->counters = w.c;
	}
	return 0;
}

static uint64_t
acked_version(struct store_txn *t, const struct wire_key *key)
{
	unsigned char k[OKEY_MAX];
	const void *v;
	size_t vl;
	uint64_t ver = 0;

	if (store_get(t, TBL_ACKED, k, records_okey(k, key->origin, key->year),
	        &v, &vl) == STORE_OK &&
	    vl == sizeof(ver))
		memcpy(&ver, v, sizeof(ver));
	return ver;
}

int
aggregate_collect(
    struct store_txn *t, const struct conf *c, size_t max, struct wire_msg *out)
{
	struct outbox_scan os = {.max = max ? max : 1};
	size_t nr = 0, nk = 0;

	memset(out, 0, sizeof(*out));
	out->type = WIRE_REPORTS;
	store_scan(t, TBL_OUTBOX, NULL, 0, outbox_cb, &os);
	if (os.l.n > 0) {
		out->reports = calloc(os.l.n, sizeof(*out->reports));
		out->keys = calloc(os.l.n, sizeof(*out->keys));
		if (out->reports == NULL || out->keys == NULL)
			os.l.oom = 1;
	}
	for (size_t i = 0; !os.l.oom && i < os.l.n; i++) {
		struct wire_key *k = &os.l.k[i];

		if (outgoing(t, c, k->origin, k->year, &out->reports[nr]) ==
		        0 &&
		    out->reports[nr].version >= acked_version(t, k))
			nr++;
		else /* gone, or fell back below what the parent holds:
		      * remove first, the report follows in a later batch */
		{
			/* a removal names the version it retracts (>= 1) */
			uint64_t av = acked_version(t, k);
			out->keys[nk] = *k;
			out->keys[nk++].version = av ? av : 1;
		}
	}
	out->nreports = nr;
	out->nkeys = nk;
	keylist_free(&os.l);
	if (os.l.oom) {
		wire_msg_free(out);
		return STORE_ENOMEM;
	}
	return store_txn_err(t);
}

/* Current version of what we hold for (origin, year), 0 if nothing. */
static uint64_t
held_version(
    struct store_txn *t, const struct conf *c, const char *origin, int year)
{
	struct wire_report r;

	return outgoing(t, c, origin, year, &r) == 0 ? r.version : 0;
}

int
aggregate_acked(
    struct store_txn *t, const struct conf *c, const struct wire_msg *sent)
{
	unsigned char k[OKEY_MAX];

	for (size_t i = 0; i < sent->nreports; i++) {
		const struct wire_report *r = &sent->reports[i];
		size_t kl = records_okey(k, r->origin, r->year);

		store_put(t, TBL_ACKED, k, kl, &r->version, sizeof(r->version));
		if (held_version(t, c, r->origin, r->year) == r->version)
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
aggregate_welcome(struct store_txn *t, const struct conf *c,
    const struct wire_msg *w, int64_t now)
{
	const void *v;
	size_t vl;
	uint64_t floor = 0;
	int bump = 0;

	if (store_get(t, TBL_META, "parent", 6, &v, &vl) == STORE_OK) {
		if (vl != strlen(w->id) || memcmp(v, w->id, vl) != 0) {
			log_info("parent is now %s (was %.*s): new versions",
			    w->id, (int)vl, (const char *)v);
			bump = 1;
		}
	}
	store_put(t, TBL_META, "parent", 6, w->id, strlen(w->id));
	for (size_t i = 0; i < w->nown; i++) {
		struct local_report lr;

		if (strcmp(w->own[i].origin, c->id) != 0)
			continue;
		records_local(t, w->own[i].year, &lr);
		if (w->own[i].version >= lr.version) {
			if (w->own[i].version > lr.version)
				log_info("parent holds %d v%llu above ours "
				         "(v%llu): restored from a backup?",
				    w->own[i].year,
				    (unsigned long long)w->own[i].version,
				    (unsigned long long)lr.version);
			bump = bump || w->own[i].version > lr.version;
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

int
aggregate_requeue_all(struct store_txn *t, const struct conf *c)
{
	struct wire_key *inv;
	size_t n;
	int rc = aggregate_inventory(t, c, &inv, &n);

	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		unsigned char k[OKEY_MAX];

		store_put(t, TBL_OUTBOX, k,
		    records_okey(k, inv[i].origin, inv[i].year), "", 0);
	}
	free(inv);
	return rc ? rc : store_txn_err(t);
}

int
aggregate_totals(struct store_txn *t, const struct conf *c, const char *node,
    int year, struct cdht_counters *out)
{
	unsigned char k[OKEY_MAX];
	const void *v;
	size_t vl;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_get(t, TBL_TOTALS, k, records_okey(k, node, year), &v, &vl);
	if (rc == STORE_OK)
		memcpy(out, v, vl < sizeof(*out) ? vl : sizeof(*out));
	else if (rc != STORE_NOTFOUND)
		return rc;
	if (strcmp(node, c->id) == 0) {
		struct local_report lr;

		if ((rc = records_local(t, year, &lr)) != STORE_OK)
			return rc;
		cdht_counters_add(out, &lr.c, +1);
		/* den_set counts units that recorded denominators */
	}
	return STORE_OK;
}

struct nodes_scan {
	struct agg_node *v;
	size_t n, cap;
	int oom;
};

static int
nodes_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct nodes_scan *ns = arg;
	struct agg_node_rec nr;

	if (vl != sizeof(nr))
		return 0;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		struct agg_node *nv = realloc(ns->v, cap * sizeof(*nv));
		if (nv == NULL) {
			ns->oom = 1;
			return 1;
		}
		ns->v = nv;
		ns->cap = cap;
	}
	memcpy(&nr, v, sizeof(nr));
	ns->v[ns->n++] = nr.n;
	return 0;
}

int
aggregate_nodes(struct store_txn *t, struct agg_node **out, size_t *n)
{
	struct nodes_scan ns = {0};

	store_scan(t, TBL_NODES, NULL, 0, nodes_cb, &ns);
	if (ns.oom) {
		free(ns.v);
		ns.v = NULL;
		ns.n = 0;
	}
	*out = ns.v;
	*n = ns.n;
	return ns.oom ? STORE_ENOMEM : store_txn_err(t);
}

int
aggregate_report_of(
    struct store_txn *t, const char *origin, int year, struct wire_report *out)
{
	unsigned char k[OKEY_MAX];
	struct agg_rec w;
	int rc = get_rec(t, TBL_WIN, k, records_okey(k, origin, year), &w);

	if (rc != STORE_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->origin, sizeof(out->origin), "%s", origin);
	memcpy(out->level, w.level, sizeof(out->level));
	memcpy(out->name, w.name, sizeof(out->name));
	out->year = (uint16_t)year;
	out->version = w.version;
	out->updated_at = w.updated_at;
	out->path_len = w.path_len;
	memcpy(out->path, w.path, sizeof(out->path));
	out->counters = w.c;
	return STORE_OK;
}
