/*
 * aggregate.c: the parent side of replication: the subtree's state as
 * reported by the children.  Owner of TBL_MIRROR (one copy per child) and
 * its index by child TBL_BYVIA,
 * TBL_WIN (the winner per origin and year), TBL_TOTALS (incremental sums)
 * and TBL_NODES (the node directory), and of their value encodings.  The
 * child side (what goes up) is outbox.c.  The totals a write transaction
 * adds to are kept decoded beside it and written once each (the totals
 * cache, below); the cache is the transaction's (store_pending_add).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "history.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "records.h"
#include "value.h"

/* Value formats (the first byte; PROTOCOL.md "Stored data"). */
#define REC_FMT    3 /* TBL_MIRROR, TBL_WIN: format 2 + filed_by, successor */
#define REC_FMT_V2 2 /* schema 2 (release 0.2.0): read, never written */
#define TOTALS_FMT 2
#define NODE_FMT   2
#define PIN_FMT    2

/* Since start (metrics): claims on an origin held via another child, and
 * new origins refused because their child holds its maximum. */
static uint64_t claims_refused, origins_over_cap;

/* A TBL_MIRROR / TBL_WIN value, decoded. */
struct agg_rec {
	uint64_t version;
	int64_t updated_at;
	int64_t received_at;
	char via[WIRE_MAX_ID + 1];
	char level[16];
	char name[WIRE_MAX_NAME + 1];
	uint8_t path_len;
	char path[WIRE_MAX_PATH][WIRE_MAX_ID + 1];
	uint8_t ncounters; /* how many counters the origin's release knew */
	struct cdht_counters c;
	char filed_by[WIRE_MAX_WHO + 1]; /* report field 9; "" in format 2 */
	char successor[WIRE_MAX_ID + 1]; /* report field 10; "" in format 2 */
};

/* A TBL_NODES value, decoded. */
struct agg_node_rec {
	struct agg_node n;
	int32_t nyears; /* years with a winning report */
};

/* Schema 1 (release 0.1.0) wrote raw structs; frozen here for migration. */
struct v1_rec {
	uint64_t version;
	int64_t updated_at;
	int64_t received_at;
	char via[17];
	char level[16];
	char name[129];
	uint8_t path_len;
	char path[8][17];
	int64_t c[32];
};
struct v1_node_rec {
	char id[17];
	char level[16];
	char name[129];
	char parent[17];
	int depth;
	uint64_t version;
	int64_t last_report;
	int32_t nyears;
};

static void
enc_rec(struct vw *w, const struct agg_rec *r)
{
	vw_u8(w, REC_FMT);
	vw_uint(w, r->version);
	vw_int(w, r->updated_at);
	vw_int(w, r->received_at);
	vw_str(w, r->via);
	vw_str(w, r->level);
	vw_str(w, r->name);
	vw_uint(w, r->path_len);
	for (int i = 0; i < r->path_len; i++)
		vw_str(w, r->path[i]);
	vw_counters(w, &r->c, r->ncounters);
	vw_str(w, r->filed_by);
	vw_str(w, r->successor);
}

/* Formats 2 (schema 2: no filed_by nor successor, read as "") and 3. */
static int
dec_rec(const void *v, size_t vl, struct agg_rec *out)
{
	struct vr r;
	uint64_t np;
	unsigned nc;
	uint8_t fmt;

	memset(out, 0, sizeof(*out));
	vr_init(&r, v, vl);
	fmt = vr_u8(&r);
	if (fmt != REC_FMT && fmt != REC_FMT_V2)
		return -1;
	out->version = vr_uint(&r);
	out->updated_at = vr_int(&r);
	out->received_at = vr_int(&r);
	vr_str(&r, out->via, sizeof(out->via));
	vr_str(&r, out->level, sizeof(out->level));
	vr_str(&r, out->name, sizeof(out->name));
	np = vr_uint(&r);
	if (np < 1 || np > WIRE_MAX_PATH)
		return -1;
	out->path_len = (uint8_t)np;
	for (unsigned i = 0; i < np; i++)
		vr_str(&r, out->path[i], sizeof(out->path[i]));
	vr_counters(&r, &out->c, &nc);
	out->ncounters = (uint8_t)nc;
	if (nc < CDHT_WIRE_MIN_COUNTERS)
		return -1;
	if (fmt == REC_FMT) {
		vr_str(&r, out->filed_by, sizeof(out->filed_by));
		vr_str(&r, out->successor, sizeof(out->successor));
	}
	return vr_done(&r);
}

static void
enc_node(struct vw *w, const struct agg_node_rec *nr)
{
	vw_u8(w, NODE_FMT);
	vw_str(w, nr->n.level);
	vw_str(w, nr->n.name);
	vw_str(w, nr->n.parent);
	vw_uint(w, (uint64_t)nr->n.depth);
	vw_uint(w, nr->n.version);
	vw_int(w, nr->n.last_report);
	vw_uint(w, nr->n.ncounters);
	vw_int(w, nr->nyears);
}

static int
dec_node(const void *k, size_t kl, const void *v, size_t vl,
    struct agg_node_rec *out)
{
	struct vr r;
	uint64_t depth, nc;
	int64_t ny;

	memset(out, 0, sizeof(*out));
	if (kl < 1 || kl > WIRE_MAX_ID)
		return -1;
	memcpy(out->n.id, k, kl);
	vr_init(&r, v, vl);
	if (vr_u8(&r) != NODE_FMT)
		return -1;
	vr_str(&r, out->n.level, sizeof(out->n.level));
	vr_str(&r, out->n.name, sizeof(out->n.name));
	vr_str(&r, out->n.parent, sizeof(out->n.parent));
	depth = vr_uint(&r);
	out->n.version = vr_uint(&r);
	out->n.last_report = vr_int(&r);
	nc = vr_uint(&r);
	ny = vr_int(&r);
	if (vr_done(&r) != 0 || depth > WIRE_MAX_PATH || nc > CDHT_NCOUNTERS ||
	    ny < 0 || ny > INT32_MAX)
		return -1;
	out->n.depth = (int)depth;
	out->n.ncounters = (int)nc;
	out->nyears = (int32_t)ny;
	return 0;
}

/* snprintf(dst, n, "%s", src) without the formatting (on every update). */
static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);

	memcpy(dst, src, l);
	dst[l] = '\0';
}

#define OKEY_MAX (WIRE_MAX_ID + 3)
/* No real count comes near it; 2^23 reports of it still fit an int64. */
#define AGG_MAX_COUNTER (INT64_C(1) << 40)
#define MKEY_MAX        (OKEY_MAX + WIRE_MAX_ID + 1)
/* How far ahead of this node's clock a version may be (30 days). */
#define AGG_VERSION_AHEAD_US (UINT64_C(30) * 86400 * 1000000)

static size_t
mkey(unsigned char *buf, const char *origin, int year, const char *via)
{
	size_t n = records_okey(buf, origin, year), vl = strlen(via);

	memcpy(buf + n, via, vl + 1);
	return n + vl + 1;
}

/* TBL_BYVIA key via \0 origin \0 year(2): the copies of one child in key
 * order, so that its HELLO costs what it holds, not what everyone holds. */
static size_t
bkey(unsigned char *buf, const char *via, const char *origin, int year)
{
	size_t vl = strlen(via);

	memcpy(buf, via, vl + 1);
	return vl + 1 + records_okey(buf + vl + 1, origin, year);
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
	if (valid_report_year(*year) != 0) /* 2020: revision 2 (PROTOCOL 8.9) */
		return -1;
	if (via != NULL) {
		size_t vl = kl - ol - 3;
		if (vl < 1 || vl > WIRE_MAX_ID + 1 || k[kl - 1] != 0)
			return -1;
		memcpy(via, k + ol + 3, vl);
	}
	return 0;
}

/*
 * TBL_WIN and TBL_TOTALS key (schema 4): year(2) origin, the id without a
 * NUL.  One year's units lie together in id order, the directory's, so a
 * drill-down reads neighbouring pages; schema 3 had origin 0 year(2), the
 * ten years of a unit together (aggregate_migrate_v3 converts).  A year's
 * first byte (0x07) is never an id's ([0-9A-Za-z_-]).
 */
#define YKEY_MAX (2 + WIRE_MAX_ID)

static size_t
ykey(unsigned char *buf, const char *origin, int year)
{
	size_t n = strlen(origin);

	store_be16(buf, (uint16_t)year);
	memcpy(buf + 2, origin, n);
	return n + 2;
}

/* Split a ykey; returns 0 if well-formed. */
static int
ysplit(const unsigned char *k, size_t kl, char *origin, int *year)
{
	if (kl < 3 || kl > YKEY_MAX || memchr(k + 2, 0, kl - 2) != NULL)
		return -1;
	*year = store_rd16(k);
	if (valid_report_year(*year) != 0)
		return -1;
	memcpy(origin, k + 2, kl - 2);
	origin[kl - 2] = '\0';
	return 0;
}

/* Read a copy or a winner; an undecodable value is STORE_CORRUPT (sticky,
 * logged), never "absent". */
static int
get_rec(
    struct store_txn *t, int tbl, const void *k, size_t kl, struct agg_rec *out)
{
	const void *v;
	size_t vl;
	int rc = store_get(t, tbl, k, kl, &v, &vl);

	if (rc != STORE_OK)
		return rc;
	if (dec_rec(v, vl, out) != 0)
		return store_corrupt(t, tbl, k, kl, "report copy");
	return STORE_OK;
}

static void
put_rec(struct store_txn *t, int tbl, const void *k, size_t kl,
    const struct agg_rec *r)
{
	unsigned char buf[VALUE_MAX];
	struct vw w;

	vw_init(&w, buf, sizeof(buf));
	enc_rec(&w, r);
	if (w.err)
		store_corrupt(t, tbl, k, kl, "report copy too long to store");
	else
		store_put(t, tbl, k, kl, buf, w.len);
}

/* Read a TBL_TOTALS value (zero when absent). */
static int
get_totals(
    struct store_txn *t, const void *k, size_t kl, struct cdht_counters *out)
{
	const void *v;
	size_t vl;
	struct vr r;
	int rc = store_get(t, TBL_TOTALS, k, kl, &v, &vl);

	memset(out, 0, sizeof(*out));
	if (rc != STORE_OK)
		return rc;
	vr_init(&r, v, vl);
	if (vr_u8(&r) != TOTALS_FMT)
		r.err = -1;
	vr_counters(&r, out, NULL);
	if (vr_done(&r) != 0) {
		memset(out, 0, sizeof(*out));
		return store_corrupt(t, TBL_TOTALS, k, kl, "totals");
	}
	return STORE_OK;
}

static void
put_totals(struct store_txn *t, const void *k, size_t kl,
    const struct cdht_counters *c)
{
	unsigned char buf[VALUE_MAX];
	struct vw w;

	vw_init(&w, buf, sizeof(buf));
	vw_u8(&w, TOTALS_FMT);
	vw_counters(&w, c, CDHT_NCOUNTERS);
	store_put(t, TBL_TOTALS, k, kl, buf, w.len);
}

/*
 * The totals cache: every TBL_TOTALS value a write transaction adds to is
 * kept here decoded, beside the transaction (store_pending_add), and
 * written once when the transaction commits or a nested one begins
 * (tc_flush), or dropped unwritten with an abort.  A batch of reports thus
 * rewrites this node's and the sending child's totals once, not once per
 * report.  Reads of totals in a write transaction go through it
 * (aggregate_totals); a scan of TBL_TOTALS calls store_pending_flush first.
 * What is written is what the uncached sums would have left: the sum
 * encoded as put_totals does, or no value when it is zero.
 */
#define TC_MAX 65536 /* entries held before they are written out early */
static long tc_max = TC_MAX; /* -1: no cache (aggregate_totals_cache_max) */

void
aggregate_totals_cache_max(long n)
{
	tc_max = n < 0 ? -1 : n > 0 && n <= TC_MAX ? n : TC_MAX;
}

struct tc_ent {
	struct cdht_counters c;
	unsigned char k[OKEY_MAX];
	uint8_t kl;
	uint8_t stored; /* the store holds a value of k beneath the cache */
};

struct tot_cache {
	struct tc_ent *e; /* n entries (the cache owns them) */
	size_t n, cap;
	uint32_t *slot; /* open addressing: entry index + 1, 0 empty */
	size_t nslot;   /* a power of two, 0 or >= 2 * cap */
};

static int tc_flush(struct store_txn *t, void *arg);
static void tc_drop(void *arg);
static const struct store_pending_ops tc_ops = {tc_flush, tc_drop};

static uint32_t
tc_hash(const unsigned char *k, size_t kl)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < kl; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static struct tc_ent *
tc_find(struct tot_cache *tc, const unsigned char *k, size_t kl, uint32_t h)
{
	if (tc->nslot == 0)
		return NULL;
	for (size_t i = h & (tc->nslot - 1);; i = (i + 1) & (tc->nslot - 1)) {
		struct tc_ent *e;

		if (tc->slot[i] == 0)
			return NULL;
		e = &tc->e[tc->slot[i] - 1];
		if (e->kl == kl && memcmp(e->k, k, kl) == 0)
			return e;
	}
}

static void
tc_index(struct tot_cache *tc, size_t idx, uint32_t h)
{
	size_t i = h & (tc->nslot - 1);

	while (tc->slot[i] != 0)
		i = (i + 1) & (tc->nslot - 1);
	tc->slot[i] = (uint32_t)idx + 1;
}

/* Write every entry into t and empty the cache; the sticky error. */
static int
tc_write(struct store_txn *t, struct tot_cache *tc)
{
	for (size_t i = 0; i < tc->n && !store_txn_err(t); i++) {
		struct tc_ent *e = &tc->e[i];

		if (!cdht_counters_is_zero(&e->c))
			put_totals(t, e->k, e->kl, &e->c);
		else if (e->stored)
			store_del(t, TBL_TOTALS, e->k, e->kl);
	}
	tc->n = 0;
	if (tc->nslot > 0)
		memset(tc->slot, 0, tc->nslot * sizeof(*tc->slot));
	return store_txn_err(t);
}

static int
tc_flush(struct store_txn *t, void *arg)
{
	return tc_write(t, arg);
}

static void
tc_drop(void *arg)
{
	struct tot_cache *tc = arg;

	free(tc->e);
	free(tc->slot);
	free(tc);
}

/* A new entry for k (not in the cache), or NULL when out of memory (the
 * caller then works on the store directly). */
static struct tc_ent *
tc_insert(struct store_txn *t, struct tot_cache *tc, const unsigned char *k,
    size_t kl, uint32_t h)
{
	struct tc_ent *e;

	if (tc->n >= (size_t)tc_max && tc_write(t, tc) != STORE_OK)
		return NULL;
	if (tc->n == tc->cap) {
		size_t cap = tc->cap ? 2 * tc->cap : 64;
		struct tc_ent *ne = realloc(tc->e, cap * sizeof(*ne));
		uint32_t *ns;

		if (ne == NULL)
			return NULL;
		tc->e = ne;
		if ((ns = calloc(2 * cap, sizeof(*ns))) == NULL)
			return NULL;
		free(tc->slot);
		tc->slot = ns;
		tc->nslot = 2 * cap;
		tc->cap = cap;
		for (size_t i = 0; i < tc->n; i++)
			tc_index(tc, i, tc_hash(tc->e[i].k, tc->e[i].kl));
	}
	e = &tc->e[tc->n];
	memcpy(e->k, k, kl);
	e->kl = (uint8_t)kl;
	tc_index(tc, tc->n++, h);
	return e;
}

/* t's totals cache, attached on first use; NULL when out of memory. */
static struct tot_cache *
tc_of(struct store_txn *t)
{
	if (tc_max < 0)
		return store_pending(t, &tc_ops);
	return store_pending_attach(t, &tc_ops, sizeof(struct tot_cache));
}

/* The totals under k as t sees them: the cache's, else the store's. */
static int
totals_get(
    struct store_txn *t, const void *k, size_t kl, struct cdht_counters *out)
{
	struct tot_cache *tc = store_pending(t, &tc_ops);
	struct tc_ent *e;

	if (tc != NULL && (e = tc_find(tc, k, kl, tc_hash(k, kl))) != NULL) {
		*out = e->c;
		return cdht_counters_is_zero(out) ? STORE_NOTFOUND : STORE_OK;
	}
	return get_totals(t, k, kl, out);
}

static void
totals_add(struct store_txn *t, const char *node, int year,
    const struct cdht_counters *c, int sign)
{
	unsigned char k[OKEY_MAX];
	size_t kl = ykey(k, node, year);
	uint32_t h = tc_hash(k, kl);
	struct tot_cache *tc;
	struct tc_ent *e = NULL;
	struct cdht_counters sum;
	int rc;

	if (store_txn_err(t))
		return;
	if ((tc = tc_of(t)) != NULL && (e = tc_find(tc, k, kl, h)) != NULL) {
		cdht_counters_add(&e->c, c, sign);
		return;
	}
	rc = get_totals(t, k, kl, &sum);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return;
	cdht_counters_add(&sum, c, sign);
	if (tc != NULL && (e = tc_insert(t, tc, k, kl, h)) != NULL) {
		e->c = sum;
		e->stored = rc == STORE_OK;
	} else if (store_txn_err(t))
		return;
	else if (cdht_counters_is_zero(&sum))
		store_del(t, TBL_TOTALS, k, kl);
	else
		put_totals(t, k, kl, &sum);
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
	unsigned char buf[VALUE_MAX];
	struct vw w;

	memset(&nr, 0, sizeof(nr));
	if (store_get(t, TBL_NODES, origin, ol, &v, &vl) == STORE_OK &&
	    dec_node(origin, ol, v, vl, &nr) != 0) {
		store_corrupt(t, TBL_NODES, origin, ol, "node entry");
		return;
	}
	nr.nyears += dyears;
	if (nr.nyears <= 0) {
		store_del(t, TBL_NODES, origin, ol);
		return;
	}
	if (r != NULL) {
		copy_str(nr.n.id, sizeof(nr.n.id), origin);
		memcpy(nr.n.level, r->level, sizeof(nr.n.level));
		memcpy(nr.n.name, r->name, sizeof(nr.n.name));
		copy_str(nr.n.parent, sizeof(nr.n.parent),
		    r->path_len >= 2 ? r->path[r->path_len - 2] : c->id);
		nr.n.depth = r->path_len;
		if (r->version > nr.n.version)
			nr.n.version = r->version;
		if (r->updated_at > nr.n.last_report)
			nr.n.last_report = r->updated_at;
		nr.n.ncounters = r->ncounters;
	}
	vw_init(&w, buf, sizeof(buf));
	enc_node(&w, &nr);
	store_put(t, TBL_NODES, origin, ol, buf, w.len);
}

/*
 * Pins: every origin below is held via exactly one child, the one it was
 * first reported through; a copy via another child is kept but never wins
 * until that child lets the origin go (withdraws every year of it), which
 * is what a legitimate move does.  *via gets "" when the origin is free.
 */
static int
get_pin(struct store_txn *t, const char *origin, char via[WIRE_MAX_ID + 1])
{
	const void *v;
	size_t vl, ol = strlen(origin);
	struct vr r;
	int rc = store_get(t, TBL_PIN, origin, ol, &v, &vl);

	via[0] = '\0';
	if (rc != STORE_OK)
		return rc;
	vr_init(&r, v, vl);
	if (vr_u8(&r) != PIN_FMT)
		r.err = -1;
	vr_str(&r, via, WIRE_MAX_ID + 1);
	if (vr_done(&r) != 0 || via[0] == '\0') {
		via[0] = '\0';
		return store_corrupt(t, TBL_PIN, origin, ol, "pin");
	}
	return STORE_OK;
}

/* How many origins are held via child `via`: TBL_PIN key "\0" via (ids
 * never hold a NUL, so it cannot meet an origin's key). */
static uint64_t
pin_count(struct store_txn *t, const char *via)
{
	unsigned char k[WIRE_MAX_ID + 2];
	size_t kl = strlen(via) + 1;
	const void *v;
	size_t vl;
	uint64_t n;

	k[0] = '\0';
	memcpy(k + 1, via, kl - 1);
	if (store_get(t, TBL_PIN, k, kl, &v, &vl) != STORE_OK)
		return 0;
	if (vr_fmt_uint(v, vl, PIN_FMT, &n) != 0) {
		store_corrupt(t, TBL_PIN, k, kl, "count of units held");
		return 0;
	}
	return n;
}

static void
pin_count_add(struct store_txn *t, const char *via, int d)
{
	unsigned char k[WIRE_MAX_ID + 2], buf[16];
	size_t kl = strlen(via) + 1;
	uint64_t n = pin_count(t, via);

	k[0] = '\0';
	memcpy(k + 1, via, kl - 1);
	n = d < 0 ? (n > 0 ? n - 1 : 0) : n + 1;
	if (n == 0) {
		store_del(t, TBL_PIN, k, kl);
		return;
	}
	store_put(t, TBL_PIN, k, kl, buf, vw_fmt_uint(buf, PIN_FMT, n));
}

/* origin, held via `from` ("" if free), is now held via `to` ("": free). */
static void
set_pin(
    struct store_txn *t, const char *origin, const char *from, const char *to)
{
	unsigned char buf[32];
	struct vw w;

	if (strcmp(from, to) == 0)
		return;
	if (from[0] != '\0')
		pin_count_add(t, from, -1);
	if (to[0] == '\0') {
		store_del(t, TBL_PIN, origin, strlen(origin));
		return;
	}
	pin_count_add(t, to, +1);
	vw_init(&w, buf, sizeof(buf));
	vw_u8(&w, PIN_FMT);
	vw_str(&w, to);
	store_put(t, TBL_PIN, origin, strlen(origin), buf, w.len);
}

/* A unit this node retired (section 8.8): listed in the retired file and
 * no configured child (a child of that id is a new unit reusing the code). */
static int
retired_via(const struct conf *c, const char *via)
{
	return c->nretired > 0 && conf_retired_by_id(c, via) != NULL &&
	       conf_child_by_id(c, via) < 0;
}

/* A copy this node re-issued for a unit it retired (aggregate_retire): via
 * a retired unit, counter retired set.  It wins whatever the pin says. */
static int
adopted(const struct conf *c, const struct agg_rec *r)
{
	return r->c.v[CDHT_C_retired] != 0 && retired_via(c, r->via);
}

/*
 * The copy store_copy has just written, for rewin: its TBL_MIRROR key and
 * value (decoded and encoded), and the bytes and decoding of the copy it
 * replaced (ol 0: none).  The usual update (the winner's newer copy) then
 * decodes and encodes one report, not three and two: the scan takes the
 * fresh copy as it is, the old winner is the replaced copy when their
 * bytes are equal, and the new winner's value is the copy's encoding;
 * the pin is the one aggregate_apply has just read or set.
 */
struct fresh {
	const char *pin; /* the origin's holder (aggregate_apply read it) */
	const unsigned char *k;
	size_t kl;
	const struct agg_rec *rec;
	const unsigned char *v;
	size_t vl;
	const unsigned char *ov;
	size_t ol;
	const struct agg_rec *orec;
};

struct best_scan {
	struct store_txn *t;
	const struct conf *c;
	const struct fresh *fr;    /* NULL: decode every copy */
	char pin[WIRE_MAX_ID + 1]; /* only copies via it may win */
	struct agg_rec best;
	int found;
	int adopted;    /* best is an adopted copy: only those may win then */
	int best_fresh; /* best is fr->rec */
};

static int
best_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct best_scan *bs = arg;
	const struct fresh *fr = bs->fr;
	const struct agg_rec *rp;
	struct agg_rec r;

	if (fr != NULL && kl == fr->kl && vl == fr->vl &&
	    memcmp(k, fr->k, kl) == 0 && memcmp(v, fr->v, vl) == 0)
		rp = fr->rec;
	else if (dec_rec(v, vl, &r) != 0) {
		store_corrupt(bs->t, TBL_MIRROR, k, kl, "report copy");
		return 1;
	} else
		rp = &r;
	if (adopted(bs->c, rp)) {
		if (!bs->adopted) { /* a retired unit's kept year */
			bs->best = *rp;
			bs->best_fresh = fr != NULL && rp == fr->rec;
			bs->found = bs->adopted = 1;
			return 0;
		}
	} else if (bs->adopted || strcmp(rp->via, bs->pin) != 0)
		return 0;
	/* highest version, then most counters (7.1); keys are in via
	 * order, so strictly greater keeps the lowest via */
	if (!bs->found || rp->version > bs->best.version ||
	    (rp->version == bs->best.version &&
	        rp->ncounters > bs->best.ncounters)) {
		bs->best = *rp;
		bs->best_fresh = fr != NULL && rp == fr->rec;
		bs->found = 1;
	}
	return 0;
}

/* 1 when a and b count into the same nodes (the same path). */
static int
same_path(const struct agg_rec *a, const struct agg_rec *b)
{
	if (a->path_len != b->path_len)
		return 0;
	for (int i = 0; i < a->path_len; i++)
		if (strcmp(a->path[i], b->path[i]) != 0)
			return 0;
	return 1;
}

/* Re-elect the winner of (origin, year) and move totals if it changed; fr:
 * the copy just written (store_copy), or NULL. */
static int
rewin_fresh(struct store_txn *t, const struct conf *c, const char *origin,
    int year, const struct fresh *fr)
{
	unsigned char k[OKEY_MAX], wk[YKEY_MAX];
	size_t kl = records_okey(k, origin, year), wl;
	size_t wkl = ykey(wk, origin, year);
	struct best_scan bs = {.t = t, .c = c, .fr = fr, .found = 0};
	struct agg_rec old;
	const void *wv;
	int had;

	if (fr != NULL)
		copy_str(bs.pin, sizeof(bs.pin), fr->pin);
	else
		get_pin(t, origin, bs.pin);
	store_scan(t, TBL_MIRROR, k, kl, best_cb, &bs);
	had = store_get(t, TBL_WIN, wk, wkl, &wv, &wl) == STORE_OK;
	if (had && fr != NULL && fr->ol > 0 && wl == fr->ol &&
	    memcmp(wv, fr->ov, wl) == 0)
		old = *fr->orec; /* the replaced copy was the winner */
	else if (had && dec_rec(wv, wl, &old) != 0)
		store_corrupt(t, TBL_WIN, wk, wkl, "report copy");
	if (store_txn_err(t))
		return store_txn_err(t);
	/* the same copy still wins (an equal version with more counters is
	 * a new copy: the same report, more detail) */
	if (had && bs.found && old.version == bs.best.version &&
	    old.ncounters == bs.best.ncounters &&
	    strcmp(old.via, bs.best.via) == 0)
		return STORE_OK;
	if (had && bs.found && same_path(&old, &bs.best)) {
		/* the usual update, a newer version along the same path: move
		 * the difference once (half the totals rewritten), or nothing
		 * when the counts did not change */
		struct agg_rec d = bs.best;

		cdht_counters_add(&d.c, &old.c, -1);
		if (!cdht_counters_is_zero(&d.c))
			totals_along(t, c, year, &d, +1);
	} else {
		if (had)
			totals_along(t, c, year, &old, -1);
		if (bs.found)
			totals_along(t, c, year, &bs.best, +1);
	}
	if (bs.found) {
		if (bs.best_fresh)
			store_put(t, TBL_WIN, wk, wkl, fr->v, fr->vl);
		else
			put_rec(t, TBL_WIN, wk, wkl, &bs.best);
		/* a reused code: the directory describes the live unit, not
		 * its retired namesake (unless it knows nothing else yet) */
		node_update(t, c, origin,
		    bs.adopted && had && conf_child_by_id(c, origin) >= 0
		        ? NULL
		        : &bs.best,
		    had ? 0 : 1);
	} else if (had) {
		store_del(t, TBL_WIN, wk, wkl);
		node_update(t, c, origin, NULL, -1);
	}
	return outbox_queue(t, origin, year);
}

static int
rewin(struct store_txn *t, const struct conf *c, const char *origin, int year)
{
	return rewin_fresh(t, c, origin, year, NULL);
}

/* The largest version accepted at time now (seconds): versions are a
 * hybrid clock in microseconds (PROTOCOL.md 8.4), so one far above the
 * clock is forged or wrong, and taking it would push the origin's clock
 * towards the end of its range. */
static uint64_t
version_horizon(int64_t now)
{
	return (uint64_t)(now > 0 ? now : 0) * 1000000u + AGG_VERSION_AHEAD_US;
}

static int store_copy(struct store_txn *t, const struct conf *c,
    const char *via, const char *pin, const struct wire_report *r, int64_t now);
static int release_pin(struct store_txn *t, const struct conf *c,
    const char *origin, const char *holder, int year);
static int remove_copy(struct store_txn *t, const struct conf *c,
    const char *via, const char *origin, int year, int keep_pin);

int
aggregate_apply(struct store_txn *t, const struct conf *c, const char *via,
    const struct wire_report *r, int64_t now)
{
	char pin[WIRE_MAX_ID + 1];
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
	if (why == NULL && r->version > version_horizon(now))
		why = "version far ahead of this node's clock (more than "
		      "30 days: the origin's clock is wrong, or the report "
		      "is forged)";
	for (int i = 0; why == NULL && i < r->path_len; i++) {
		if (strcmp(r->path[i], c->id) == 0)
			why = "path runs through this node (loop)";
		else if (i > 0 && conf_child_by_id(c, r->path[i]) >= 0)
			why = "path runs through another direct child";
		else if (i > 0 && i < r->path_len - 1 &&
		         get_pin(t, r->path[i], pin) == STORE_OK &&
		         strcmp(pin, via) != 0) {
			why = "path runs through a unit held via another child";
			claims_refused++;
		}
	}
	if (why == NULL && c->nretired > 0) {
		unsigned char wk[OKEY_MAX];
		struct agg_rec w;

		if (get_rec(t, TBL_WIN, wk, ykey(wk, r->origin, r->year), &w) ==
		        STORE_OK &&
		    adopted(c, &w))
			why = "the unit is retired here and this year is "
			      "read-only ([downlink] retired)";
	}
	if (why == NULL && store_txn_err(t))
		return store_txn_err(t);
	if (why == NULL && get_pin(t, r->origin, pin) == STORE_NOTFOUND) {
		if (c->max_origins_per_child > 0 &&
		    pin_count(t, via) >= (uint64_t)c->max_origins_per_child) {
			/* a new unit beyond what one child may hold */
			static struct log_ratelimit orl = {.what = "over cap"};
			origins_over_cap++;
			if (log_ratelimit_ok(&orl))
				log_warnx("ALARM: child %s already holds %d "
				          "units ([downlink] "
				          "max_origins_per_child): %s refused",
				    via, c->max_origins_per_child, r->origin);
			return AGG_REFUSED;
		}
		set_pin(t, r->origin, "", via);
	} else if (why == NULL && strcmp(pin, via) != 0) {
		/* kept, never counted: it may win once the holder lets go */
		static struct log_ratelimit crl = {.what = "refused claims"};
		claims_refused++;
		if (log_ratelimit_ok(&crl))
			log_warnx("ALARM: child %s claims %s/%d (v%llu), held "
			          "via child %s: not counted",
			    via, r->origin, r->year,
			    (unsigned long long)r->version, pin);
		store_copy(t, c, via, pin, r, now);
		return store_txn_err(t) ? store_txn_err(t) : AGG_REFUSED;
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
	return store_copy(t, c, via, via, r, now); /* held via `via` now */
}

/* Keep r as the copy via `via` if it is newer (or fuller) than the one
 * held, and re-elect the winner; pin: the child r's origin is held via. */
static int
store_copy(struct store_txn *t, const struct conf *c, const char *via,
    const char *pin, const struct wire_report *r, int64_t now)
{
	unsigned char k[MKEY_MAX], ov[VALUE_MAX], nv[VALUE_MAX];
	size_t kl, vl, ol = 0;
	int replaces = 0;
	struct agg_rec rec, old;
	const void *v;
	struct vw w;
	struct fresh fr;

	kl = mkey(k, r->origin, r->year, via);
	/* keep the higher version; at an equal version, the copy with more
	 * counters (an upgraded sender's, or relay's, fuller copy) */
	if (store_get(t, TBL_MIRROR, k, kl, &v, &vl) == STORE_OK) {
		if (dec_rec(v, vl, &old) != 0)
			return store_corrupt(
			    t, TBL_MIRROR, k, kl, "report copy");
		if (old.version > r->version ||
		    (old.version == r->version &&
		        old.ncounters >= wire_ncounters(r)))
			return AGG_IGNORED;
		replaces = 1;
		if (vl <= sizeof(ov)) { /* kept: the put below moves v */
			memcpy(ov, v, vl);
			ol = vl;
		}
	}
	if (store_txn_err(t))
		return store_txn_err(t);
	memset(&rec, 0, sizeof(rec));
	rec.version = r->version;
	rec.updated_at = r->updated_at;
	rec.received_at = now;
	copy_str(rec.via, sizeof(rec.via), via);
	memcpy(rec.level, r->level, sizeof(rec.level));
	memcpy(rec.name, r->name, sizeof(rec.name));
	rec.path_len = r->path_len;
	memcpy(rec.path, r->path, sizeof(rec.path));
	rec.ncounters = (uint8_t)wire_ncounters(r);
	rec.c = r->counters;
	/* the report's fields 9 and 10 go with it: a fuller copy at an
	 * equal version replaces them with the rest */
	memcpy(rec.filed_by, r->filed_by, sizeof(rec.filed_by));
	memcpy(rec.successor, r->successor, sizeof(rec.successor));
	vw_init(&w, nv, sizeof(nv));
	enc_rec(&w, &rec);
	if (w.err)
		return store_corrupt(
		    t, TBL_MIRROR, k, kl, "report copy too long to store");
	store_put(t, TBL_MIRROR, k, kl, nv, w.len);
	if (!replaces) { /* a copy it replaces has its index entry */
		unsigned char bk[MKEY_MAX];

		store_put(
		    t, TBL_BYVIA, bk, bkey(bk, via, r->origin, r->year), "", 0);
	}
	fr = (struct fresh){pin, k, kl, &rec, nv, w.len, ov, ol, &old};
	rewin_fresh(t, c, r->origin, r->year, &fr);
	return store_txn_err(t) ? store_txn_err(t) : AGG_APPLIED;
}

int
aggregate_remove(struct store_txn *t, const struct conf *c, const char *via,
    const char *origin, int year)
{
	return remove_copy(t, c, via, origin, year, 0);
}

/* Delete the copy of (origin, year) via `via` and re-elect; unless
 * keep_pin, release the origin when that was via's last copy of it. */
static int
remove_copy(struct store_txn *t, const struct conf *c, const char *via,
    const char *origin, int year, int keep_pin)
{
	unsigned char k[MKEY_MAX];
	char pin[WIRE_MAX_ID + 1];

	if (store_del(t, TBL_MIRROR, k, mkey(k, origin, year, via)) ==
	    STORE_NOTFOUND)
		return store_txn_err(t);
	store_del(t, TBL_BYVIA, k, bkey(k, via, origin, year));
	if (!keep_pin && get_pin(t, origin, pin) == STORE_OK &&
	    strcmp(pin, via) == 0)
		return release_pin(t, c, origin, via, year);
	return rewin(t, c, origin, year);
}

struct copies_scan {
	struct store_txn *t;
	const char *holder;
	int holder_left;            /* copies via the holder remain */
	uint64_t best;              /* highest version via another child */
	char next[WIRE_MAX_ID + 1]; /* ... and that child */
	int years[RULES_YEAR_MAX - VALID_REPORT_YEAR_MIN + 1];
};

static int
copies_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct copies_scan *cs = arg;
	struct agg_rec r;
	char origin[WIRE_MAX_ID + 1], via[WIRE_MAX_ID + 2];
	int year;

	if (split_key(k, kl, origin, &year, via) != 0 ||
	    dec_rec(v, vl, &r) != 0) {
		store_corrupt(cs->t, TBL_MIRROR, k, kl, "report copy");
		return 1;
	}
	if (year >= VALID_REPORT_YEAR_MIN && year <= RULES_YEAR_MAX)
		cs->years[year - VALID_REPORT_YEAR_MIN] = 1;
	if (strcmp(via, cs->holder) == 0)
		cs->holder_left = 1;
	else if (r.version >
	         cs->best) { /* keys in via order: lowest wins ties */
		cs->best = r.version;
		snprintf(cs->next, sizeof(cs->next), "%.*s", WIRE_MAX_ID, via);
	}
	return 0;
}

/*
 * The copy of (origin, year) via the holder is gone: once no year of it is
 * left via the holder, the origin is free, and passes to the child with the
 * newest copy, if any (a unit that moved); every year is re-elected.
 */
static int
release_pin(struct store_txn *t, const struct conf *c, const char *origin,
    const char *holder, int year)
{
	unsigned char k[OKEY_MAX];
	size_t ol = strlen(origin);
	struct copies_scan cs = {.t = t, .holder = holder};

	memcpy(k, origin, ol + 1);
	store_scan(t, TBL_MIRROR, k, ol + 1, copies_cb, &cs);
	if (store_txn_err(t) || cs.holder_left)
		return rewin(t, c, origin, year);
	if (cs.next[0] == '\0') {
		set_pin(t, origin, holder, "");
		return rewin(t, c, origin, year);
	}
	log_info(
	    "%s is now held via child %s (was %s)", origin, cs.next, holder);
	set_pin(t, origin, holder, cs.next);
	cs.years[year - VALID_REPORT_YEAR_MIN] = 1;
	for (int y = VALID_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++)
		if (cs.years[y - VALID_REPORT_YEAR_MIN])
			rewin(t, c, origin, y);
	return store_txn_err(t);
}

uint64_t
aggregate_claims_refused(void)
{
	return claims_refused;
}

uint64_t
aggregate_origins_over_cap(void)
{
	return origins_over_cap;
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
	struct store_txn *t;        /* drop_unconfigured: offline look-ups */
	const struct wire_key *inv; /* HELLO: the inventory, sorted */
	size_t ninv;
	const char *via; /* HELLO: the child; NULL: every via not configured */
	const struct conf *c;
	struct keylist stale;
	struct keylist held; /* HELLO: the child's copies, in key order */
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
	if (conf_child_by_id(vs->c, via) >= 0 || retired_via(vs->c, via))
		return 0;
	/* an offline unit's report: issued here, no child's (history.c) */
	if (vs->t != NULL && strcmp(key.origin, via) == 0 &&
	    history_offline_has(vs->t, via, year))
		return 0;
	keylist_add(&vs->stale, key.origin, year, 0, via);
	return 0;
}

/* HELLO: every copy of vs->via (TBL_BYVIA), in key order (the order of
 * key_cmp: origin byte-wise, then year). */
static int
byvia_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct via_scan *vs = arg;
	size_t n = strlen(vs->via) + 1;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (kl <= n || split_key((const unsigned char *)k + n, kl - n, origin,
	                   &year, NULL) != 0)
		return 0;
	keylist_add(&vs->held, origin, year, 0, vs->via);
	return vs->held.oom;
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
	int rc, any2020 = 0;

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
	 * from the winner (so a child restored without a year still bumps);
	 * year 2020 only to a child that listed a key of 2020 (one that
	 * knows our revision: an older release drops a WELCOME with 2020,
	 * PROTOCOL.md 8.9) */
	for (size_t i = 0; i < n && !any2020; i++)
		any2020 = inv[i].year < RULES_YEAR_MIN;
	for (int y = VALID_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		unsigned char k[OKEY_MAX];
		struct agg_rec rec;

		if ((y >= RULES_YEAR_MIN || any2020) &&
		    get_rec(t, TBL_WIN, k, ykey(k, via, y), &rec) == STORE_OK)
			keylist_add(&own, via, y, rec.version, NULL);
	}
	/* a merge of two sorted lists, the child's copies (its index) and
	 * its inventory: the work is what the child holds plus what it
	 * lists, with a store look-up only for keys in both */
	{
		unsigned char bk[WIRE_MAX_ID + 1];
		size_t vl = strlen(via) + 1, j = 0;

		memcpy(bk, via, vl);
		store_scan(t, TBL_BYVIA, bk, vl, byvia_cb, &vs);
		for (size_t i = 0; i < vs.held.n; i++) {
			while (j < n && key_cmp(&sorted[j], &vs.held.k[i]) < 0)
				j++;
			if (j == n || key_cmp(&sorted[j], &vs.held.k[i]) != 0)
				keylist_add(&vs.stale, vs.held.k[i].origin,
				    vs.held.k[i].year, 0, via);
		}
	}
	rc = vs.held.oom ? STORE_ENOMEM : drop_all(t, c, &vs.stale);
	keylist_free(&vs.stale);
	for (size_t i = 0, j = 0; rc == STORE_OK && i < n; i++) {
		const struct wire_key *e = &sorted[i];
		unsigned char k[MKEY_MAX];
		struct agg_rec rec;
		int have;

		while (j < vs.held.n && key_cmp(&vs.held.k[j], e) < 0)
			j++;
		have = j < vs.held.n && key_cmp(&vs.held.k[j], e) == 0 &&
		       get_rec(t, TBL_MIRROR, k,
		           mkey(k, e->origin, e->year, via), &rec) == STORE_OK;
		/* the child's inventory is authoritative for what it relays:
		 * a higher copy here (an ACK lost before the child's winner
		 * fell back) is dropped and the child's copy wanted.  For the
		 * child's own origin the higher copy stays: `own` makes the
		 * child re-issue above it.  (The child still lists it, so it
		 * keeps holding it: the wanted copy comes back through it,
		 * 8.7.) */
		if (have && rec.version > e->version &&
		    strcmp(e->origin, via) != 0)
			rc = remove_copy(t, c, via, e->origin, e->year, 1);
		/* an equal copy that lacks counters this node knows (kept
		 * from an older release, ours or the sender's) is wanted
		 * too: an upgraded child answers with the fuller copy */
		if (!have || rec.version < e->version ||
		    (rec.version > e->version && strcmp(e->origin, via) != 0) ||
		    (rec.version == e->version &&
		        rec.ncounters < CDHT_NCOUNTERS))
			keylist_add(&want, e->origin, e->year, 0, NULL);
	}
	keylist_free(&vs.held);
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
	struct via_scan vs = {.t = t, .via = NULL, .c = c};
	int rc;

	store_scan(t, TBL_MIRROR, NULL, 0, via_cb, &vs);
	rc = drop_all(t, c, &vs.stale);
	keylist_free(&vs.stale);
	return rc;
}

/* TBL_BYVIA scan: every copy via one unit (vs->via), into vs->held. */

/*
 * Re-issue the copy of (origin, year) via the retired unit `via` as this
 * node's own: a version from this node's clock, raised above the copy's
 * first, counter retired = last and successor = succ (report field 10,
 * "" for none), every other field kept (the path too), so that it
 * replaces the old copy at every ancestor by the version rule.  Nothing
 * to do when it already carries last and succ.  succ NULL: the one the
 * copy carries when a node below retired it already, else "".
 */
static int
adopt(struct store_txn *t, const struct conf *c, const char *via,
    const char *origin, int year, int last, const char *succ, int64_t now)
{
	unsigned char k[MKEY_MAX];
	size_t kl = mkey(k, origin, year, via);
	struct agg_rec rec;
	char pin[WIRE_MAX_ID + 1];
	int rc = get_rec(t, TBL_MIRROR, k, kl, &rec);

	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	if (succ == NULL)
		succ = rec.c.v[CDHT_C_retired] != 0 ? rec.successor : "";
	if (rec.c.v[CDHT_C_retired] == last && strcmp(rec.successor, succ) == 0)
		return STORE_OK;
	/* a claim kept uncounted (held via another child) is not the
	 * retired unit's to keep */
	if (rec.c.v[CDHT_C_retired] == 0 &&
	    (get_pin(t, origin, pin) != STORE_OK || strcmp(pin, via) != 0))
		return store_txn_err(t)
		           ? store_txn_err(t)
		           : aggregate_remove(t, c, via, origin, year);
	store_raise_seq(t, rec.version);
	rec.version = store_next_seq(t);
	rec.received_at = now;
	rec.ncounters = CDHT_NCOUNTERS;
	rec.c.v[CDHT_C_retired] = last;
	if (succ != rec.successor)
		snprintf(rec.successor, sizeof(rec.successor), "%s", succ);
	put_rec(t, TBL_MIRROR, k, kl, &rec);
	return rewin(t, c, origin, year);
}

/*
 * origin, held via the retired unit `via`, is a configured child again (a
 * new unit reusing its code): it is let go, and passes to the child with
 * its newest other copy, if any; its adopted years keep winning.
 */
static int
unpin_reused(struct store_txn *t, const struct conf *c, const char *origin,
    const char *via)
{
	unsigned char k[OKEY_MAX];
	char pin[WIRE_MAX_ID + 1];
	size_t ol = strlen(origin);
	struct copies_scan cs = {.t = t, .holder = via};

	if (get_pin(t, origin, pin) != STORE_OK || strcmp(pin, via) != 0)
		return store_txn_err(t);
	memcpy(k, origin, ol + 1);
	store_scan(t, TBL_MIRROR, k, ol + 1, copies_cb, &cs);
	if (store_txn_err(t))
		return store_txn_err(t);
	log_info("%s: retired via %s, its code reused by a child of this node",
	    origin, via);
	set_pin(t, origin, via, cs.next);
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++)
		if (cs.years[y - RULES_YEAR_MIN])
			rewin(t, c, origin, y);
	return store_txn_err(t);
}

int
aggregate_retire(struct store_txn *t, const struct conf *c)
{
	int64_t now = (int64_t)time(NULL);
	size_t adopted_n = 0, dropped = 0;
	int rc = STORE_OK;

	for (size_t i = 0; rc == STORE_OK && i < c->nretired; i++) {
		const struct conf_retired *e = &c->retired[i];
		struct via_scan vs = {.via = e->id, .c = c};
		unsigned char bk[WIRE_MAX_ID + 1];
		size_t vl = strlen(e->id) + 1;

		if (conf_child_by_id(c, e->id) >= 0)
			continue; /* a reused code: not a unit copies come via
			           */
		memcpy(bk, e->id, vl);
		store_scan(t, TBL_BYVIA, bk, vl, byvia_cb, &vs);
		if (vs.held.oom)
			rc = STORE_ENOMEM;
		for (size_t j = 0; rc == STORE_OK && j < vs.held.n; j++) {
			const char *o = vs.held.k[j].origin;
			int y = vs.held.k[j].year;
			const struct conf_retired *oe =
			    conf_retired_by_id(c, o);
			/* the subtree goes with the unit that relayed it,
			 * unless listed itself (or retired below: its
			 * successor then stays the one it came with) */
			int last = oe != NULL ? oe->last_year : e->last_year;
			const char *succ = oe != NULL ? oe->successor : NULL;

			if (y > last) {
				rc = aggregate_remove(t, c, e->id, o, y);
				dropped++;
			} else {
				rc = adopt(t, c, e->id, o, y, last, succ, now);
				adopted_n++;
			}
		}
		for (size_t j = 0; rc == STORE_OK && j < vs.held.n; j++)
			if ((j == 0 || strcmp(vs.held.k[j].origin,
			                   vs.held.k[j - 1].origin) != 0) &&
			    conf_child_by_id(c, vs.held.k[j].origin) >= 0)
				rc = unpin_reused(
				    t, c, vs.held.k[j].origin, e->id);
		keylist_free(&vs.held);
	}
	if (rc == STORE_OK && (dropped > 0 || c->nretired > 0))
		log_info("retired units: %zu units listed, %zu years kept, %zu "
		         "years after their last year dropped",
		    c->nretired, adopted_n, dropped);
	return rc != STORE_OK ? rc : store_txn_err(t);
}

int
aggregate_retired_of(struct store_txn *t, const struct conf *c,
    const char *origin, int *last_year, char successor[WIRE_MAX_ID + 1])
{
	const struct conf_retired *e = conf_retired_by_id(c, origin);

	*last_year = 0;
	successor[0] = '\0';
	if (e != NULL) {
		*last_year = e->last_year;
		snprintf(successor, WIRE_MAX_ID + 1, "%s", e->successor);
		return 1;
	}
	/* retired below (or via a retired unit here): its kept copies say,
	 * the successor being that of the copy of the highest last year */
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		unsigned char k[OKEY_MAX];
		struct agg_rec w;

		if (get_rec(t, TBL_WIN, k, ykey(k, origin, y), &w) !=
		        STORE_OK ||
		    w.c.v[CDHT_C_retired] == 0 ||
		    w.c.v[CDHT_C_retired] < *last_year ||
		    (w.c.v[CDHT_C_retired] == *last_year &&
		        w.successor[0] == '\0'))
			continue;
		*last_year = (int)w.c.v[CDHT_C_retired];
		memcpy(successor, w.successor, WIRE_MAX_ID + 1);
	}
	return *last_year > 0;
}

enum agg_offline
aggregate_offline_check(struct store_txn *t, const struct conf *c,
    const char *unit, char holder[WIRE_MAX_ID + 1])
{
	holder[0] = '\0';
	if (strcmp(unit, c->id) == 0)
		return AGG_OFFLINE_SELF;
	if (conf_child_by_id(c, unit) >= 0)
		return AGG_OFFLINE_CHILD;
	if (c->nretired > 0 && conf_retired_by_id(c, unit) != NULL)
		return AGG_OFFLINE_RETIRED;
	if (get_pin(t, unit, holder) == STORE_OK && strcmp(holder, unit) != 0)
		return AGG_OFFLINE_HELD;
	holder[0] = '\0';
	return store_txn_err(t) ? AGG_OFFLINE_ERROR : AGG_OFFLINE_OK;
}

int
aggregate_offline_put(struct store_txn *t, const struct conf *c,
    const char *unit, int year, const char *level, const char *name,
    const struct cdht_counters *cn, int64_t now)
{
	unsigned char k[MKEY_MAX], bk[MKEY_MAX];
	size_t kl = mkey(k, unit, year, unit);
	char pin[WIRE_MAX_ID + 1];
	struct agg_rec rec;

	if (get_rec(t, TBL_MIRROR, k, kl, &rec) == STORE_OK)
		store_raise_seq(t, rec.version); /* above the one replaced */
	if (store_txn_err(t))
		return store_txn_err(t);
	memset(&rec, 0, sizeof(rec));
	rec.version = store_next_seq(t);
	rec.updated_at = now;
	rec.received_at = now;
	snprintf(rec.via, sizeof(rec.via), "%s", unit);
	snprintf(rec.level, sizeof(rec.level), "%s", level);
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	rec.path_len = 1;
	snprintf(rec.path[0], sizeof(rec.path[0]), "%s", unit);
	rec.ncounters = CDHT_NCOUNTERS;
	rec.c = *cn;
	put_rec(t, TBL_MIRROR, k, kl, &rec);
	store_put(t, TBL_BYVIA, bk, bkey(bk, unit, unit, year), "", 0);
	if (get_pin(t, unit, pin) == STORE_NOTFOUND)
		set_pin(t, unit, "", unit);
	if (store_txn_err(t))
		return store_txn_err(t);
	return rewin(t, c, unit, year);
}

int
aggregate_offline_remove(
    struct store_txn *t, const struct conf *c, const char *unit, int year)
{
	unsigned char k[MKEY_MAX];
	struct agg_rec rec;
	int rc = get_rec(t, TBL_MIRROR, k, mkey(k, unit, year, unit), &rec);

	if (rc != STORE_OK)
		return rc;
	return aggregate_remove(t, c, unit, unit, year);
}

struct win_scan {
	struct store_txn *t;
	int (*cb)(void *, const char *, int, uint64_t);
	void *arg;
};

static int
win_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct win_scan *ws = arg;
	struct agg_rec r;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (ysplit(k, kl, origin, &year) != 0 || dec_rec(v, vl, &r) != 0) {
		store_corrupt(ws->t, TBL_WIN, k, kl, "winning report");
		return 1;
	}
	return ws->cb(ws->arg, origin, year, r.version);
}

int
aggregate_winners(struct store_txn *t,
    int (*cb)(void *arg, const char *origin, int year, uint64_t version),
    void *arg)
{
	struct win_scan ws = {t, cb, arg};

	store_scan(t, TBL_WIN, NULL, 0, win_cb, &ws);
	return store_txn_err(t);
}

int
aggregate_totals(struct store_txn *t, const struct conf *c, const char *node,
    int year, struct cdht_counters *out)
{
	unsigned char k[OKEY_MAX];
	int rc;

	rc = totals_get(t, k, ykey(k, node, year), out);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
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
	struct store_txn *t;
	struct agg_node *v;
	size_t n, cap;
	int oom;
};

static int
nodes_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct nodes_scan *ns = arg;
	struct agg_node_rec nr;

	if (dec_node(k, kl, v, vl, &nr) != 0) {
		store_corrupt(ns->t, TBL_NODES, k, kl, "node entry");
		return 1;
	}
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
	ns->v[ns->n++] = nr.n;
	return 0;
}

int
aggregate_nodes(struct store_txn *t, struct agg_node **out, size_t *n)
{
	struct nodes_scan ns = {.t = t};

	store_scan(t, TBL_NODES, NULL, 0, nodes_cb, &ns);
	if (ns.oom || store_txn_err(t)) {
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
	int rc = get_rec(t, TBL_WIN, k, ykey(k, origin, year), &w);

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
	out->ncounters = w.ncounters;
	out->counters = w.c;
	memcpy(out->filed_by, w.filed_by, sizeof(out->filed_by));
	memcpy(out->successor, w.successor, sizeof(out->successor));
	return STORE_OK;
}

/*
 * Reads for the views (views.c): what a document shows of a unit, decoded
 * from the stored value without the fields it does not show.  Every read
 * is bounds-checked as dec_rec's; the fields skipped are checked for their
 * length only.  The write path keeps dec_rec and get_totals.
 */

/* vr_uint with the varints of one and two bytes (below 2^14: nearly
 * every counter, length and time field but the times) inline. */
static inline uint64_t
rd_uint(struct vr *r)
{
	const unsigned char *p = r->p;

	if (r->err == 0 && r->end - p >= 2) {
		if (p[0] < 0x80) {
			r->p = p + 1;
			return p[0];
		}
		if (p[1] < 0x80) {
			r->p = p + 2;
			return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		}
	}
	return vr_uint(r);
}

static inline int64_t
rd_int(struct vr *r)
{
	uint64_t u = rd_uint(r);

	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* vr_counters, through rd_int. */
static void
rd_counters(struct vr *r, struct cdht_counters *c, unsigned *np)
{
	uint64_t n = rd_uint(r);
	unsigned i = 0;

	*np = 0;
	if (r->err || n > CDHT_NCOUNTERS) {
		r->err = -1;
		memset(c, 0, sizeof(*c));
		return;
	}
	for (; i < n; i++)
		c->v[i] = rd_int(r);
	for (; i < CDHT_NCOUNTERS; i++)
		c->v[i] = 0;
	if (!r->err)
		*np = (unsigned)n;
}

/* Skip a string of at most cap - 1 bytes (vr_str's bound). */
static void
rd_skip_str(struct vr *r, size_t cap)
{
	uint64_t n = rd_uint(r);

	if (r->err || n >= cap || n > (uint64_t)(r->end - r->p)) {
		r->err = -1;
		return;
	}
	r->p += n;
}

/* A TBL_WIN value (formats 2 and 3) as aggregate_view_report gives it. */
static int
dec_view_report(const void *v, size_t vl, struct agg_view_report *out)
{
	struct vr r;
	uint64_t np;
	uint8_t fmt;

	vr_init(&r, v, vl);
	fmt = vr_u8(&r);
	if (fmt != REC_FMT && fmt != REC_FMT_V2)
		return -1;
	(void)rd_uint(&r); /* version */
	out->updated_at = vr_int(&r);
	(void)vr_int(&r);                   /* received_at */
	rd_skip_str(&r, WIRE_MAX_ID + 1);   /* via */
	rd_skip_str(&r, 16);                /* level */
	rd_skip_str(&r, WIRE_MAX_NAME + 1); /* name */
	np = rd_uint(&r);
	if (np < 1 || np > WIRE_MAX_PATH)
		return -1;
	for (unsigned i = 0; i < np; i++)
		rd_skip_str(&r, WIRE_MAX_ID + 1);
	rd_counters(&r, &out->c, &out->ncounters);
	if (out->ncounters < CDHT_WIRE_MIN_COUNTERS)
		return -1;
	out->filed_by[0] = '\0';
	if (fmt == REC_FMT) {
		vr_str(&r, out->filed_by, sizeof(out->filed_by));
		rd_skip_str(&r, WIRE_MAX_ID + 1); /* successor */
	}
	return vr_done(&r);
}

int
aggregate_view_report(struct store_txn *t, const char *origin, int year,
    struct agg_view_report *out)
{
	unsigned char k[OKEY_MAX];
	size_t kl = ykey(k, origin, year);
	const void *v;
	size_t vl;
	int rc = store_get(t, TBL_WIN, k, kl, &v, &vl);

	if (rc != STORE_OK)
		return rc;
	if (dec_view_report(v, vl, out) != 0)
		return store_corrupt(t, TBL_WIN, k, kl, "report copy");
	return STORE_OK;
}

int
aggregate_view_totals(
    struct store_txn *t, const char *node, int year, struct cdht_counters *out)
{
	unsigned char k[OKEY_MAX];
	size_t kl = ykey(k, node, year);
	const void *v;
	size_t vl;
	struct vr r;
	unsigned nc;
	int rc;

	if (store_pending(t, &tc_ops) != NULL) { /* a write transaction's */
		rc = totals_get(t, k, kl, out);
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	}
	if ((rc = store_get(t, TBL_TOTALS, k, kl, &v, &vl)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	}
	vr_init(&r, v, vl);
	if (vr_u8(&r) != TOTALS_FMT)
		r.err = -1;
	rd_counters(&r, out, &nc);
	if (vr_done(&r) != 0) {
		memset(out, 0, sizeof(*out));
		return store_corrupt(t, TBL_TOTALS, k, kl, "totals");
	}
	return STORE_OK;
}

int
aggregate_view_retired(struct store_txn *t, const char *node)
{
	if (store_pending(t, &tc_ops) != NULL || strlen(node) > WIRE_MAX_ID)
		return -1; /* a write transaction's totals are cached */
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct cdht_counters c;

		if (aggregate_view_totals(t, node, y, &c) != STORE_OK)
			return -1;
		if (c.v[CDHT_C_retired] != 0)
			return 1;
	}
	return 0;
}

/* Schema 1 -> 3: the raw structs of release 0.1.0 (written straight in
 * this release's formats). */

static int
v1_rec_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct v1_rec s;
	struct agg_rec r;

	if (vl != sizeof(s))
		return -1;
	memcpy(&s, v, sizeof(s));
	memset(&r, 0, sizeof(r));
	r.version = s.version;
	r.updated_at = s.updated_at;
	r.received_at = s.received_at;
	if (s.path_len < 1 || s.path_len > WIRE_MAX_PATH)
		return -1;
	s.via[sizeof(s.via) - 1] = s.level[sizeof(s.level) - 1] = '\0';
	s.name[sizeof(s.name) - 1] = '\0';
	snprintf(r.via, sizeof(r.via), "%s", s.via);
	snprintf(r.level, sizeof(r.level), "%s", s.level);
	snprintf(r.name, sizeof(r.name), "%s", s.name);
	r.path_len = s.path_len;
	for (int i = 0; i < s.path_len; i++) {
		s.path[i][sizeof(s.path[i]) - 1] = '\0';
		snprintf(r.path[i], sizeof(r.path[i]), "%s", s.path[i]);
	}
	/* a schema-1 copy has the 32 counters of protocol 1 */
	r.ncounters = CDHT_WIRE_MIN_COUNTERS;
	memcpy(r.c.v, s.c, sizeof(s.c));
	enc_rec(out, &r);
	return 0;
}

static int
v1_totals_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct cdht_counters c;

	if (vl > 32 * sizeof(int64_t) || vl % sizeof(int64_t) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	memcpy(c.v, v, vl);
	vw_u8(out, TOTALS_FMT);
	vw_counters(out, &c, CDHT_NCOUNTERS);
	return 0;
}

static int
v1_node_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct v1_node_rec s;
	struct agg_node_rec nr;

	if (vl != sizeof(s) || kl < 1 || kl > WIRE_MAX_ID)
		return -1;
	memcpy(&s, v, sizeof(s));
	memset(&nr, 0, sizeof(nr));
	s.level[sizeof(s.level) - 1] = s.name[sizeof(s.name) - 1] = '\0';
	s.parent[sizeof(s.parent) - 1] = '\0';
	snprintf(nr.n.level, sizeof(nr.n.level), "%s", s.level);
	snprintf(nr.n.name, sizeof(nr.n.name), "%s", s.name);
	snprintf(nr.n.parent, sizeof(nr.n.parent), "%s", s.parent);
	if (s.depth < 0 || s.nyears < 0)
		return -1;
	nr.n.depth = s.depth;
	nr.n.version = s.version;
	nr.n.last_report = s.last_report;
	nr.n.ncounters = CDHT_WIRE_MIN_COUNTERS;
	nr.nyears = s.nyears;
	enc_node(out, &nr);
	return 0;
}

/* Schema 1 had no index by child: one entry per copy. */
static int
index_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct store_txn *t = arg;
	unsigned char bk[MKEY_MAX];
	char origin[WIRE_MAX_ID + 1], via[WIRE_MAX_ID + 1];
	int year;

	if (split_key(k, kl, origin, &year, via) != 0)
		return store_corrupt(t, TBL_MIRROR, k, kl, "key") != 0;
	store_put(t, TBL_BYVIA, bk, bkey(bk, via, origin, year), "", 0);
	return store_txn_err(t) != 0;
}

/* Schema 1 had no pins: every origin is held via its winner's child. */
struct pin_mig {
	struct store_txn *t;
	const struct conf *c;
};

/* Collect every winner's key (the scan is year-major: an origin comes once
 * per year; the caller sorts and takes each origin once). */
static int
winner_origin_cb(void *arg, const char *origin, int year, uint64_t version)
{
	struct keylist *l = arg;

	keylist_add(l, origin, year, version, NULL);
	return l->oom;
}

/* Pin origin via the child of its newest winner and re-elect its years. */
static int
pin_origin(struct pin_mig *pm, const char *origin)
{
	struct store_txn *t = pm->t;
	unsigned char k[OKEY_MAX];
	char pin[WIRE_MAX_ID + 1], best[WIRE_MAX_ID + 1] = "";
	uint64_t bestv = 0;
	struct agg_rec w;

	if (get_pin(t, origin, pin) != STORE_NOTFOUND)
		return store_txn_err(t) != 0;
	/* one holder per origin: the child of its newest winner */
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++)
		if (get_rec(t, TBL_WIN, k, ykey(k, origin, y), &w) ==
		        STORE_OK &&
		    (best[0] == '\0' || w.version > bestv)) {
			bestv = w.version;
			snprintf(best, sizeof(best), "%s", w.via);
		}
	if (best[0] != '\0')
		set_pin(t, origin, "", best);
	for (int y = RULES_YEAR_MIN; best[0] != '\0' && y <= RULES_YEAR_MAX;
	     y++)
		rewin(t, pm->c, origin, y);
	return store_txn_err(t) != 0;
}

int
aggregate_migrate_v1(struct store_txn *t, const struct conf *c)
{
	size_t nm = 0, nw = 0, nt = 0, nn = 0;
	struct keylist origins = {0};
	struct pin_mig pm = {t, c};
	int rc;

	if ((rc = migrate_table(t, TBL_MIRROR, v1_rec_cb, NULL, &nm)) ||
	    (rc = store_scan(t, TBL_MIRROR, NULL, 0, index_cb, t)) ||
	    (rc = migrate_table(t, TBL_WIN, v1_rec_cb, NULL, &nw)) ||
	    (rc = store_pending_flush(t)) || /* before a scan of totals */
	    (rc = migrate_table(t, TBL_TOTALS, v1_totals_cb, NULL, &nt)) ||
	    (rc = migrate_table(t, TBL_NODES, v1_node_cb, NULL, &nn)) ||
	    (rc = aggregate_winners(t, winner_origin_cb, &origins))) {
		keylist_free(&origins);
		return rc;
	}
	if (!origins.oom && origins.n > 1) /* via stays unsorted: unused */
		qsort(origins.k, origins.n, sizeof(*origins.k), key_cmp);
	for (size_t i = 0; !origins.oom && i < origins.n; i++)
		if ((i == 0 || strcmp(origins.k[i - 1].origin,
		                   origins.k[i].origin) != 0) &&
		    pin_origin(&pm, origins.k[i].origin) != 0)
			break;
	rc = origins.oom ? STORE_ENOMEM : STORE_OK;
	keylist_free(&origins);
	if (rc != STORE_OK)
		return rc;
	log_info("migrated %zu copies, %zu winners, %zu totals, %zu nodes", nm,
	    nw, nt, nn);
	return store_txn_err(t);
}

/* Schema 2 -> 3: a copy or winner of format 2 gains filed_by "". */
static int
v2_rec_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct agg_rec r;

	(void)arg;
	(void)k;
	(void)kl;
	if (dec_rec(v, vl, &r) != 0)
		return -1;
	enc_rec(out, &r);
	return 0;
}

int
aggregate_migrate_v2(struct store_txn *t)
{
	size_t nm = 0, nw = 0;
	int rc;

	if ((rc = migrate_table(t, TBL_MIRROR, v2_rec_cb, NULL, &nm)) ||
	    (rc = migrate_table(t, TBL_WIN, v2_rec_cb, NULL, &nw)))
		return rc;
	log_info("migrated %zu copies and %zu winners to format %d", nm, nw,
	    REC_FMT);
	return store_txn_err(t);
}

/* Schema 3 -> 4: a win or totals key origin 0 year(2) becomes ykey's
 * year(2) origin. */
static int
v3_key(const void *k, size_t kl, unsigned char *out, size_t outsz, size_t *outl)
{
	const unsigned char *b = k;
	char origin[WIRE_MAX_ID + 1];
	int year;

	if (kl > 0 && b[0] < '-') /* a year's first byte: moved already */
		return ysplit(b, kl, origin, &year) == 0 ? 1 : -1;
	if (split_key(b, kl, origin, &year, NULL) != 0 ||
	    kl != strlen(origin) + 3 || outsz < YKEY_MAX)
		return -1;
	*outl = ykey(out, origin, year);
	return 0;
}

int
aggregate_migrate_v3(struct store_txn *t)
{
	size_t nw = 0, nt = 0;
	int rc;

	if ((rc = store_pending_flush(t)) != STORE_OK ||
	    (rc = migrate_keys(t, TBL_WIN, v3_key, &nw)) != STORE_OK ||
	    (rc = migrate_keys(t, TBL_TOTALS, v3_key, &nt)) != STORE_OK)
		return rc;
	log_info("moved %zu winners and %zu totals to year-first keys", nw, nt);
	return store_txn_err(t);
}
