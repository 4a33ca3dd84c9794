/*
 * records.c: assessments, denominators, the local report and the audit
 * trail (owner of TBL_ASSESS, TBL_LOCAL and TBL_AUDIT, and of their value
 * encodings).  Every write adjusts the local counters in the same
 * transaction (never a rescan) and queues the year's report for the parent.
 *
 * In a write transaction the local reports live in a cache beside it (a
 * pending set of store.h, created by the first write): every reader of a
 * local report (records_local) reads through it, and each year written gets
 * one new version and its outbox entry when first written in the
 * transaction, and is put once, when the transaction commits (or nests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "records.h"
#include "value.h"
#include "vec.h"
#include "wire.h"

/* Value formats (the first byte of each value; PROTOCOL.md "Stored data"). */
#define ASSESS_FMT    3
#define ASSESS_FMT_V2 2 /* schema 2: read by the migration only */
#define LOCAL_FMT     3
#define LOCAL_FMT_V2  2
#define AUDIT_FMT     2

/* Schema 1 (release 0.1.0) wrote raw structs; frozen here for migration. */
struct v1_assessment {
	uint8_t format; /* 1 */
	uint8_t group, population, digital;
	uint8_t scores[10];
	uint8_t recognized, outstanding;
	uint16_t total;
	int16_t birth_year;
	int64_t updated_at;
};
struct v1_local_report {
	uint64_t version;
	int64_t updated_at;
	int64_t v[32];
};

size_t
records_okey(unsigned char *buf, const char *origin, int year)
{
	size_t n = strlen(origin);

	memcpy(buf, origin, n + 1);
	store_be16(buf + n + 1, (uint16_t)year);
	return n + 3;
}

/* Fields the counters index by: out of range would count elsewhere. */
static int
assessment_fields_bad(const struct assessment *a)
{
	if (a->group >= GROUP_COUNT || a->population > POP_STAFF ||
	    a->digital > DIGITAL_PROFICIENT)
		return 1;
	for (int i = 0; i < RULES_NSCORES; i++)
		if (a->scores[i] < VALID_SCORE_MIN ||
		    a->scores[i] > VALID_SCORE_MAX)
			return 1;
	return 0;
}

/* Encode a into w (TBL_ASSESS value, format 3). */
static void
enc_assessment(struct vw *w, const struct assessment *a)
{
	vw_u8(w, ASSESS_FMT);
	vw_u8(w, a->group);
	vw_u8(w, a->population);
	vw_u8(w, a->digital);
	vw_bytes(w, a->scores, RULES_NSCORES);
	vw_u8(w, a->eligible);
	vw_u8(w, a->recognized);
	vw_u8(w, a->outstanding);
	vw_uint(w, a->total);
	vw_int(w, a->birth_year);
	vw_int(w, a->updated_at);
	vw_str(w, a->name);
	vw_str(w, a->decision);
}

/*
 * Decode a TBL_ASSESS value into out (key fields left to the caller):
 * format 3, or format 2 (schema 2, read by its migration: no eligible flag,
 * as recognition was by score, and no decision).
 */
static int
dec_assessment(const void *v, size_t vl, struct assessment *out)
{
	struct vr r;
	uint64_t total;
	int64_t by;
	uint8_t fmt;

	vr_init(&r, v, vl);
	fmt = vr_u8(&r);
	if (fmt != ASSESS_FMT && fmt != ASSESS_FMT_V2)
		return -1;
	out->group = vr_u8(&r);
	out->population = vr_u8(&r);
	out->digital = vr_u8(&r);
	for (int i = 0; i < RULES_NSCORES; i++)
		out->scores[i] = vr_u8(&r);
	if (fmt == ASSESS_FMT)
		out->eligible = vr_u8(&r) != 0;
	out->recognized = vr_u8(&r) != 0;
	if (fmt == ASSESS_FMT_V2)
		out->eligible = out->recognized;
	out->outstanding = vr_u8(&r) != 0;
	total = vr_uint(&r);
	by = vr_int(&r);
	out->updated_at = vr_int(&r);
	vr_str(&r, out->name, sizeof(out->name));
	out->decision[0] = '\0';
	if (fmt == ASSESS_FMT)
		vr_str(&r, out->decision, sizeof(out->decision));
	if (vr_done(&r) != 0 || total > 100 || by < INT16_MIN ||
	    by > INT16_MAX || assessment_fields_bad(out) ||
	    (out->recognized && !out->eligible) ||
	    (out->outstanding && !out->recognized))
		return -1;
	out->total = (uint16_t)total;
	out->birth_year = (int16_t)by;
	return 0;
}

/* Encode / decode a TBL_LOCAL value (format 3; format 2 read for its
 * migration, without filed_by). */
static void
enc_local(struct vw *w, const struct local_report *lr)
{
	vw_u8(w, LOCAL_FMT);
	vw_uint(w, lr->version);
	vw_int(w, lr->updated_at);
	vw_counters(w, &lr->c, CDHT_NCOUNTERS);
	vw_str(w, lr->filed_by);
}

static int
dec_local(const void *v, size_t vl, struct local_report *out)
{
	struct vr r;
	uint8_t fmt;

	vr_init(&r, v, vl);
	fmt = vr_u8(&r);
	if (fmt != LOCAL_FMT && fmt != LOCAL_FMT_V2)
		return -1;
	out->version = vr_uint(&r);
	out->updated_at = vr_int(&r);
	vr_counters(&r, &out->c, NULL);
	out->filed_by[0] = '\0';
	if (fmt == LOCAL_FMT)
		vr_str(&r, out->filed_by, sizeof(out->filed_by));
	return vr_done(&r);
}

static size_t
akey(unsigned char *buf, int year, const char *pid, size_t plen)
{
	store_be16(buf, (uint16_t)year);
	memcpy(buf + 2, pid, plen);
	return plen + 2;
}

int
records_get(struct store_txn *t, int year, const char *pid, size_t plen,
    struct assessment *out)
{
	unsigned char k[2 + RULES_PID_MAX];
	const void *v;
	size_t vl, kl;
	int rc;

	if (plen == 0 || plen > RULES_PID_MAX)
		return STORE_NOTFOUND;
	kl = akey(k, year, pid, plen);
	rc = store_get(t, TBL_ASSESS, k, kl, &v, &vl);
	if (rc != STORE_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	if (dec_assessment(v, vl, out) != 0)
		return store_corrupt(t, TBL_ASSESS, k, kl, "assessment");
	out->year = (uint16_t)year;
	out->pid_len = (uint8_t)plen;
	memcpy(out->person_id, pid, plen);
	return STORE_OK;
}

static int
put_assessment(struct store_txn *t, const struct assessment *a)
{
	unsigned char k[2 + RULES_PID_MAX], buf[VALUE_MAX];
	struct vw w;

	vw_init(&w, buf, sizeof(buf));
	enc_assessment(&w, a);
	if (w.err)
		return store_corrupt(
		    t, TBL_ASSESS, NULL, 0, "assessment too long");
	return store_put(t, TBL_ASSESS, k,
	    akey(k, a->year, a->person_id, a->pid_len), buf, w.len);
}

/* Read year's local report from the store (zeroed if never written). */
static int
local_read(struct store_txn *t, int year, struct local_report *out)
{
	unsigned char k[2];
	const void *v;
	size_t vl;
	int rc;

	memset(out, 0, sizeof(*out));
	store_be16(k, (uint16_t)year);
	rc = store_get(t, TBL_LOCAL, k, 2, &v, &vl);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (dec_local(v, vl, out) != 0) {
		memset(out, 0, sizeof(*out));
		return store_corrupt(t, TBL_LOCAL, k, 2, "local report");
	}
	return STORE_OK;
}

/*
 * The cache of a write transaction's local reports (see the top): one slot
 * per report year, loaded on first use.  fresh: the slot's version was
 * issued in this transaction (later writes keep it).  counts_from: the
 * stored [node] counts_from, 0 until read.
 */
#define CACHE_YEARS (RULES_YEAR_MAX - VALID_REPORT_YEAR_MIN + 1)

struct local_cache {
	struct {
		uint8_t loaded, dirty, fresh;
		char self[WIRE_MAX_ID + 1]; /* the outbox origin */
		struct local_report lr;
	} y[CACHE_YEARS];
	int counts_from;
};

static int
local_flush(struct store_txn *t, void *arg)
{
	struct local_cache *lc = arg;

	for (int i = 0; i < CACHE_YEARS; i++) {
		unsigned char k[2], buf[VALUE_MAX];
		struct vw w;
		int year = VALID_REPORT_YEAR_MIN + i;

		if (!lc->y[i].dirty)
			continue;
		store_be16(k, (uint16_t)year);
		vw_init(&w, buf, sizeof(buf));
		enc_local(&w, &lc->y[i].lr);
		store_put(t, TBL_LOCAL, k, 2, buf, w.len);
	}
	return store_txn_err(t);
}

static const struct store_pending_ops local_ops = {local_flush, free};

/* t's cache, created when create is set; NULL if none (or out of memory:
 * the callers then read and write the store directly). */
static struct local_cache *
cache_of(struct store_txn *t, int create)
{
	struct local_cache *lc = store_pending(t, &local_ops);

	if (lc != NULL || !create || store_txn_err(t) != STORE_OK)
		return lc;
	return store_pending_attach(t, &local_ops, sizeof(*lc));
}

/* The cached report of year, loaded if needed; NULL when year has no slot
 * or the load failed (the error is then sticky in t). */
static struct local_report *
cache_year(struct store_txn *t, struct local_cache *lc, int year)
{
	int i = year - VALID_REPORT_YEAR_MIN;

	if (lc == NULL || i < 0 || i >= CACHE_YEARS)
		return NULL;
	if (!lc->y[i].loaded) {
		if (local_read(t, year, &lc->y[i].lr) != STORE_OK)
			return NULL;
		lc->y[i].loaded = 1;
	}
	return &lc->y[i].lr;
}

int
records_local(struct store_txn *t, int year, struct local_report *out)
{
	struct local_cache *lc = store_pending(t, &local_ops);
	struct local_report *lr;

	if (lc == NULL || year < VALID_REPORT_YEAR_MIN || year > RULES_YEAR_MAX)
		return local_read(t, year, out);
	if ((lr = cache_year(t, lc, year)) == NULL) {
		memset(out, 0, sizeof(*out));
		return store_txn_err(t) ? store_txn_err(t) : STORE_EIO;
	}
	*out = *lr;
	return STORE_OK;
}

/* The first year whose records count (TBL_META "counts_from", 2 bytes
 * big-endian; absent: every year). */
#define META_COUNTS_FROM "counts_from"

static int
counts_from_stored(struct store_txn *t)
{
	struct local_cache *lc = store_pending(t, &local_ops);
	const void *v;
	size_t vl;
	int rc, year;

	if (lc != NULL && lc->counts_from != 0)
		return lc->counts_from;
	rc = store_get(t, TBL_META, META_COUNTS_FROM,
	    sizeof(META_COUNTS_FROM) - 1, &v, &vl);
	if (rc == STORE_NOTFOUND)
		year = RULES_YEAR_MIN;
	else if (rc != STORE_OK)
		return RULES_YEAR_MIN;
	else if (vl != 2) {
		store_corrupt(t, TBL_META, META_COUNTS_FROM,
		    sizeof(META_COUNTS_FROM) - 1, "counts_from");
		return RULES_YEAR_MIN;
	} else
		year = store_rd16(v);
	if (lc != NULL && year != 0)
		lc->counts_from = year;
	return year;
}

/*
 * The one place assessments go into the local counters: a record of a
 * year before [node] counts_from (a successor's imported predecessor
 * records, PROTOCOL.md 8.8) is kept for streaks and lists but counted
 * only as its predecessor's, so not here.
 */
static void
count(struct store_txn *t, struct cdht_counters *c, const struct assessment *a,
    int sign)
{
	if (a->year >= counts_from_stored(t))
		rules_apply(c, a, sign);
}

/*
 * Write the local report of year with a new version and queue it upward:
 * into the cache (the version and the outbox entry on the year's first
 * write in the transaction, the put at commit), or, without one, into the
 * store now.
 */
static int
local_write(struct store_txn *t, const char *self, int year,
    struct local_report *lr, int64_t now)
{
	struct local_cache *lc = cache_of(t, 1);
	int i = year - VALID_REPORT_YEAR_MIN;
	unsigned char k[2], buf[VALUE_MAX];
	struct vw w;

	if (lc != NULL && i >= 0 && i < CACHE_YEARS) {
		/* queued now, so that the outbox's readers in this
		 * transaction see it: no ack removes it before the commit,
		 * as no parent has seen this version */
		if (!lc->y[i].fresh || strcmp(lc->y[i].self, self) != 0) {
			lr->version = store_next_seq(t);
			lc->y[i].fresh = 1;
			snprintf(
			    lc->y[i].self, sizeof(lc->y[i].self), "%s", self);
			outbox_queue(t, self, year);
		} else
			lr->version = lc->y[i].lr.version;
		lr->updated_at = now;
		lc->y[i].lr = *lr;
		lc->y[i].loaded = lc->y[i].dirty = 1;
		return store_txn_err(t);
	}
	lr->version = store_next_seq(t);
	lr->updated_at = now;
	store_be16(k, (uint16_t)year);
	vw_init(&w, buf, sizeof(buf));
	enc_local(&w, lr);
	store_put(t, TBL_LOCAL, k, 2, buf, w.len);
	return outbox_queue(t, self, year);
}

/* Is person pid recognised in every one of the four years before year? */
static int
window_recognized(struct store_txn *t, int year, const char *pid, size_t plen)
{
	struct assessment prev;

	for (int y = year - 1; y > year - RULES_OUTSTANDING_YEARS; y--) {
		if (y < RULES_YEAR_MIN)
			return 0;
		if (records_get(t, y, pid, plen, &prev) != STORE_OK ||
		    !prev.recognized)
			return 0;
	}
	return 1;
}

int
records_outstanding(struct store_txn *t, const struct assessment *a)
{
	return a->recognized &&
	       window_recognized(t, a->year, a->person_id, a->pid_len);
}

/*
 * After (year, pid) changed, re-evaluate the outstanding flag of the same
 * person in the next four years and fix their records and counters.
 */
/*
 * Year y holds no assessment, as its counted report says (a year from
 * [node] counts_from on counts every record it holds): the lookups of
 * refresh_later skip it.  0 when unsure (no cache, or an uncounted year).
 */
static int
year_empty(struct store_txn *t, int y)
{
	struct local_cache *lc = store_pending(t, &local_ops);
	const struct local_report *lr;

	if (lc == NULL || y < counts_from_stored(t) ||
	    (lr = cache_year(t, lc, y)) == NULL)
		return 0;
	return lr->c.v[CDHT_C_assessed] == 0 && lr->c.v[CDHT_C_imported] == 0;
}

static int
refresh_later(struct store_txn *t, const struct records_actor *act, int year,
    const char *pid, size_t plen)
{
	for (int y = year + 1;
	     y < year + RULES_OUTSTANDING_YEARS && y <= RULES_YEAR_MAX; y++) {
		struct assessment r;
		struct local_report lr;
		int rc = year_empty(t, y) ? STORE_NOTFOUND
		                          : records_get(t, y, pid, plen, &r);
		bool out;

		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		out = records_outstanding(t, &r);
		if (out == r.outstanding)
			continue;
		records_local(t, y, &lr);
		count(t, &lr.c, &r, -1);
		r.outstanding = out;
		count(t, &lr.c, &r, +1);
		put_assessment(t, &r);
		local_write(t, act->self, y, &lr, act->now);
	}
	return store_txn_err(t);
}

int
records_year_filed(struct store_txn *t, int year)
{
	struct local_report lr;
	int rc = records_local(t, year, &lr);

	return rc != STORE_OK ? rc : lr.c.v[CDHT_C_filed] != 0;
}

int
records_writable(struct store_txn *t, int year)
{
	struct local_report lr;
	int rc = records_local(t, year, &lr);

	if (rc != STORE_OK)
		return rc;
	if (lr.c.v[CDHT_C_filed] != 0)
		return RECORDS_FILED;
	return lr.c.v[CDHT_C_imported] != 0 ? RECORDS_IMPORTED : 0;
}

/* Recognised: eligible and, in decision mode, listed by a decision. */
static bool
recognized_now(
    const struct records_actor *act, bool eligible, const char *decision)
{
	return eligible &&
	       (act->recognition == RECOGNITION_SCORE || decision[0] != '\0');
}

int
records_put(struct store_txn *t, const struct records_actor *act,
    struct assessment *a, int *replaced)
{
	struct assessment old;
	struct local_report lr;
	char detail[160];
	int rc;

	rules_score(a);
	cache_of(t, 1); /* the year's report and counts_from, read once */
	if ((rc = records_local(t, a->year, &lr)) != STORE_OK)
		return rc;
	if (lr.c.v[CDHT_C_filed] != 0)
		return RECORDS_FILED;
	if (lr.c.v[CDHT_C_imported] != 0)
		return RECORDS_IMPORTED;
	rc = records_get(t, a->year, a->person_id, a->pid_len, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*replaced = rc == STORE_OK;
	if (*replaced && old.decision[0] != '\0') {
		memcpy(a->decision, old.decision, sizeof(a->decision));
		return RECORDS_DECIDED;
	}
	a->decision[0] = '\0';
	a->recognized = recognized_now(act, a->eligible, a->decision);
	if (*replaced)
		count(t, &lr.c, &old, -1);
	a->outstanding = records_outstanding(t, a);
	a->updated_at = act->now;
	count(t, &lr.c, a, +1);
	put_assessment(t, a);
	local_write(t, act->self, a->year, &lr, act->now);
	snprintf(detail, sizeof(detail),
	    "%d/%.*s total=%d eligible=%d recognized=%d", a->year,
	    (int)a->pid_len, a->person_id, a->total, a->eligible,
	    a->recognized);
	records_audit(t, act, *replaced ? "replace" : "submit", detail);
	if (!*replaced || old.recognized != a->recognized)
		refresh_later(t, act, a->year, a->person_id, a->pid_len);
	return store_txn_err(t);
}

int
records_decide(struct store_txn *t, const struct records_actor *act, int year,
    const char *pid, size_t plen, const char *number)
{
	struct assessment a;
	struct local_report lr;
	bool was;
	int rc = records_get(t, year, pid, plen, &a);

	if (rc != STORE_OK)
		return rc;
	records_local(t, year, &lr);
	count(t, &lr.c, &a, -1);
	was = a.recognized;
	snprintf(a.decision, sizeof(a.decision), "%s", number);
	a.recognized = recognized_now(act, a.eligible, a.decision);
	a.outstanding = records_outstanding(t, &a);
	count(t, &lr.c, &a, +1);
	put_assessment(t, &a);
	local_write(t, act->self, year, &lr, act->now);
	if (was != a.recognized)
		refresh_later(t, act, year, pid, plen);
	return store_txn_err(t);
}

int
records_withdraw(struct store_txn *t, const struct records_actor *act, int year,
    const char *pid, size_t plen, char *decided)
{
	unsigned char k[2 + RULES_PID_MAX];
	struct assessment old;
	struct local_report lr;
	char detail[96];
	int rc;

	if ((rc = records_writable(t, year)) != 0)
		return rc;
	rc = records_get(t, year, pid, plen, &old);
	if (rc != STORE_OK)
		return rc;
	if (old.decision[0] != '\0') {
		if (decided != NULL)
			memcpy(decided, old.decision, sizeof(old.decision));
		return RECORDS_DECIDED;
	}
	records_local(t, year, &lr);
	count(t, &lr.c, &old, -1);
	store_del(t, TBL_ASSESS, k, akey(k, year, pid, plen));
	local_write(t, act->self, year, &lr, act->now);
	snprintf(detail, sizeof(detail), "%d/%.*s", year, (int)plen, pid);
	records_audit(t, act, "withdraw", detail);
	if (old.recognized)
		refresh_later(t, act, year, pid, plen);
	return store_txn_err(t);
}

struct scan_arg {
	struct store_txn *t;
	int year;
	int (*cb)(void *, const struct assessment *);
	void *arg;
};

static int
scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct scan_arg *sa = arg;
	struct assessment a;

	memset(&a, 0, sizeof(a));
	if (kl < 3 || kl > 2 + RULES_PID_MAX || dec_assessment(v, vl, &a)) {
		store_corrupt(sa->t, TBL_ASSESS, k, kl, "assessment");
		return 1;
	}
	a.year = (uint16_t)sa->year;
	a.pid_len = (uint8_t)(kl - 2);
	memcpy(a.person_id, (const char *)k + 2, kl - 2);
	return sa->cb(sa->arg, &a);
}

int
records_scan(struct store_txn *t, int year,
    int (*cb)(void *arg, const struct assessment *a), void *arg)
{
	struct scan_arg sa = {t, year, cb, arg};
	unsigned char k[2];
	int rc;

	store_be16(k, (uint16_t)year);
	rc = store_scan(t, TBL_ASSESS, k, 2, scan_cb, &sa);
	return rc ? rc : store_txn_err(t);
}

/* A growing array of assessments (records_recount collects, then writes). */
struct alist {
	struct assessment *a;
	size_t n, cap;
	int oom;
};

static int
alist_cb(void *arg, const struct assessment *a)
{
	struct alist *l = arg;
	struct assessment *p = vec_room(l->a, l->n, &l->cap, sizeof(*p));

	if (p == NULL) {
		l->oom = 1;
		return 1;
	}
	l->a = p;
	l->a[l->n++] = *a;
	return 0;
}

int
records_recount(struct store_txn *t, const struct records_actor *act, int year,
    size_t *changed)
{
	struct alist l = {NULL, 0, 0, 0};
	struct local_report lr;
	int rc = records_scan(t, year, alist_cb, &l);

	*changed = 0;
	if (rc == STORE_OK && l.oom)
		rc = STORE_ENOMEM;
	if (rc != STORE_OK) {
		free(l.a);
		return rc;
	}
	records_local(t, year, &lr);
	for (size_t i = 0; i < l.n; i++) {
		struct assessment *a = &l.a[i];
		struct assessment b = *a;

		b.recognized = recognized_now(act, b.eligible, b.decision);
		b.outstanding = records_outstanding(t, &b);
		if (b.recognized == a->recognized &&
		    b.outstanding == a->outstanding)
			continue;
		count(t, &lr.c, a, -1);
		count(t, &lr.c, &b, +1);
		put_assessment(t, &b);
		(*changed)++;
	}
	if (*changed > 0)
		local_write(t, act->self, year, &lr, act->now);
	free(l.a);
	return store_txn_err(t);
}

int
records_local_put(struct store_txn *t, const struct records_actor *act,
    int year, struct local_report *lr)
{
	local_write(t, act->self, year, lr, act->now);
	return store_txn_err(t);
}

int
records_put_population(struct store_txn *t, const struct records_actor *act,
    int year, const int64_t den[RECORDS_NPOP], unsigned keep)
{
	struct local_report lr;
	char detail[64];
	int rc;

	if ((rc = records_writable(t, year)) != 0)
		return rc;
	records_local(t, year, &lr);
	lr.c.v[CDHT_C_den_set] = 1;
	for (int i = 0; i < RECORDS_NPOP; i++) {
		int c = CDHT_C_FIRST_DENOMINATOR + i;
		int kind = (c - CDHT_C_families_total) / 2;

		if (c >= CDHT_C_families_total &&
		    c <= CDHT_C_units_recognized && (keep & 1u << kind))
			continue; /* counted from this year's title records */
		lr.c.v[c] = den[i];
	}
	local_write(t, act->self, year, &lr, act->now);
	snprintf(detail, sizeof(detail), "population %d", year);
	records_audit(t, act, "population", detail);
	return store_txn_err(t);
}

int
records_get_population(struct store_txn *t, int year, int64_t den[RECORDS_NPOP])
{
	struct local_report lr;
	int rc = records_local(t, year, &lr);

	if (rc != STORE_OK)
		return rc;
	if (lr.c.v[CDHT_C_den_set] == 0)
		return STORE_NOTFOUND;
	memcpy(den, &lr.c.v[CDHT_C_FIRST_DENOMINATOR],
	    RECORDS_NPOP * sizeof(int64_t));
	return STORE_OK;
}

int
records_ensure_years(struct store_txn *t, const char *self, int64_t now)
{
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		records_local(t, y, &lr);
		if (lr.version == 0)
			local_write(t, self, y, &lr, now);
	}
	return store_txn_err(t);
}

/* Report years: 2020 (imported results) when this tree knows it. */
#ifdef VALID_REPORT_YEAR_MIN
#define RECORDS_REPORT_YEAR_MIN VALID_REPORT_YEAR_MIN
#else
#define RECORDS_REPORT_YEAR_MIN RULES_YEAR_MIN
#endif

int
records_stamp_targets(struct store_txn *t, const struct records_actor *act,
    const struct rules_targets *tg, int *stamped)
{
	*stamped = 0;
	for (int y = RECORDS_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		if (records_local(t, y, &lr) != STORE_OK || lr.version == 0)
			continue;
		if (rules_targets_stamp(&lr.c, tg)) {
			local_write(t, act->self, y, &lr, act->now);
			(*stamped)++;
		}
	}
	return store_txn_err(t);
}

int
records_bump_all(
    struct store_txn *t, const char *self, uint64_t floor, int64_t now)
{
	struct local_cache *lc = store_pending(t, &local_ops);

	store_raise_seq(t, floor);
	for (int i = 0; lc != NULL && i < CACHE_YEARS; i++)
		lc->y[i].fresh = 0; /* versions above floor: issue new ones */
	for (int y = VALID_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		records_local(t, y, &lr);
		/* 2020 exists only with imported results: never create it */
		if (y >= RULES_YEAR_MIN || lr.version != 0)
			local_write(t, self, y, &lr, now);
	}
	return store_txn_err(t);
}

void
records_audit(struct store_txn *t, const struct records_actor *act,
    const char *action, const char *detail)
{
	struct audit_entry e;
	unsigned char k[8], buf[VALUE_MAX];
	struct vw w;

	/* the entry's bounds are the stored bounds: truncate to them */
	snprintf(e.who, sizeof(e.who), "%s", act->who ? act->who : "-");
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	store_be64(k, store_next_seq(t));
	vw_init(&w, buf, sizeof(buf));
	vw_u8(&w, AUDIT_FMT);
	vw_int(&w, act->now);
	vw_str(&w, e.who);
	vw_str(&w, e.action);
	vw_str(&w, e.detail);
	store_put(t, TBL_AUDIT, k, 8, buf, w.len);
}

struct audit_scan {
	int (*cb)(void *, const struct audit_entry *);
	void *arg;
	struct store_txn *t;
};

static int
audit_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct audit_scan *as = arg;
	struct audit_entry e;
	const unsigned char *kp = k;
	struct vr r;

	memset(&e, 0, sizeof(e));
	vr_init(&r, v, vl);
	if (kl != 8 || vr_u8(&r) != AUDIT_FMT)
		r.err = -1;
	e.time = vr_int(&r);
	vr_str(&r, e.who, sizeof(e.who));
	vr_str(&r, e.action, sizeof(e.action));
	vr_str(&r, e.detail, sizeof(e.detail));
	if (vr_done(&r) != 0) {
		store_corrupt(as->t, TBL_AUDIT, k, kl, "audit record");
		return 1;
	}
	for (int i = 0; i < 8; i++)
		e.id = e.id << 8 | kp[i];
	return as->cb(as->arg, &e);
}

int
records_audit_tail(struct store_txn *t, size_t max,
    int (*cb)(void *arg, const struct audit_entry *e), void *arg)
{
	struct audit_scan as = {cb, arg, t};
	int rc = store_scan_last(t, TBL_AUDIT, max, audit_cb, &as);

	return rc ? rc : store_txn_err(t);
}

/* Schema 1 -> 2: the raw structs and the tab-separated audit text. */

static int
v1_assessment_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct v1_assessment s;
	struct assessment a;
	size_t nl;

	if (vl < sizeof(s) || (nl = vl - sizeof(s)) > RULES_NAME_MAX)
		return -1;
	memcpy(&s, v, sizeof(s));
	memset(&a, 0, sizeof(a));
	a.group = s.group;
	a.population = s.population;
	a.digital = s.digital;
	memcpy(a.scores, s.scores, sizeof(a.scores));
	a.recognized = s.recognized;
	a.eligible = s.recognized; /* schema 1 recognised by score */
	a.outstanding = s.outstanding;
	a.total = s.total;
	a.birth_year = s.birth_year;
	a.updated_at = s.updated_at;
	memcpy(a.name, (const char *)v + sizeof(s), nl);
	if (assessment_fields_bad(&a))
		return -1;
	enc_assessment(out, &a);
	return 0;
}

static int
v1_local_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct v1_local_report s;
	struct local_report lr;

	/* schema 1 read a shorter value as zero-filled: so do we */
	if (kl != 2 || vl > sizeof(s))
		return -1;
	memset(&s, 0, sizeof(s));
	memcpy(&s, v, vl);
	memset(&lr, 0, sizeof(lr));
	lr.version = s.version;
	lr.updated_at = s.updated_at;
	memcpy(lr.c.v, s.v, sizeof(s.v));
	/* counters added since schema 1, from the records they count */
	lr.c.v[CDHT_C_eligible] = lr.c.v[CDHT_C_recognized];
	for (int g = 0; g < GROUP_COUNT; g++)
		lr.c.v[CDHT_C_farmer_eligible + g] =
		    lr.c.v[CDHT_C_farmer_recognized + 2 * g];
	enc_local(out, &lr);
	return 0;
}

static int
v1_audit_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	char buf[512], *f[4], *p = buf;
	struct audit_entry e;

	if (kl != 8 || vl >= sizeof(buf))
		return -1;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	for (int i = 0; i < 4; i++) {
		f[i] = p;
		if (i < 3 && (p = strchr(p, '\t')) == NULL)
			return -1;
		if (i < 3)
			*p++ = '\0';
	}
	/* truncated to the bounds schema 1 applied when reading */
	snprintf(e.who, sizeof(e.who), "%s", f[1]);
	snprintf(e.action, sizeof(e.action), "%s", f[2]);
	snprintf(e.detail, sizeof(e.detail), "%s", f[3]);
	vw_u8(out, AUDIT_FMT);
	vw_int(out, strtoll(f[0], NULL, 10));
	vw_str(out, e.who);
	vw_str(out, e.action);
	vw_str(out, e.detail);
	return 0;
}

int
records_migrate_v1(struct store_txn *t, const char *self)
{
	size_t na = 0, nl = 0, nau = 0;
	int rc;

	store_pending_flush(t); /* migrate_table scans TBL_LOCAL */
	if ((rc = migrate_table(t, TBL_ASSESS, v1_assessment_cb, NULL, &na)) ||
	    (rc = migrate_table(t, TBL_LOCAL, v1_local_cb, NULL, &nl)) ||
	    (rc = migrate_table(t, TBL_AUDIT, v1_audit_cb, NULL, &nau)))
		return rc;
	/* every year's report gained counters: queue it (same version: a
	 * parent that knows them takes it, an older one ignores it) */
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		if (records_local(t, y, &lr) == STORE_OK && lr.version != 0)
			outbox_queue(t, self, y);
	}
	log_info("migrated %zu assessments, %zu local reports, %zu audit "
	         "records",
	    na, nl, nau);
	return store_txn_err(t);
}

/* The recognition mode the stored figures were counted under. */
#define META_RECOGNITION "recognition"

int
records_recognition_stored(struct store_txn *t, int *mode)
{
	const void *v;
	size_t vl;
	int rc = store_get(t, TBL_META, META_RECOGNITION,
	    sizeof(META_RECOGNITION) - 1, &v, &vl);

	*mode = RECOGNITION_SCORE; /* before 0.3.0 there was only score */
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (vl != 1 || *(const unsigned char *)v > RECOGNITION_DECISION)
		return store_corrupt(t, TBL_META, META_RECOGNITION,
		    sizeof(META_RECOGNITION) - 1, "recognition mode");
	*mode = *(const unsigned char *)v;
	return STORE_OK;
}

int
records_recognition_store(struct store_txn *t, int mode)
{
	unsigned char b = (unsigned char)mode;

	store_put(
	    t, TBL_META, META_RECOGNITION, sizeof(META_RECOGNITION) - 1, &b, 1);
	return store_txn_err(t);
}

/* Schema 2 -> 3: the decoders read format 2; re-encode in format 3. */

static int
v2_assessment_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct assessment a;

	memset(&a, 0, sizeof(a));
	if (dec_assessment(v, vl, &a) != 0)
		return -1;
	enc_assessment(out, &a);
	return 0;
}

static int
v2_local_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl,
    struct vw *out)
{
	struct local_report lr;

	memset(&lr, 0, sizeof(lr));
	if (kl != 2 || dec_local(v, vl, &lr) != 0)
		return -1;
	/* counters added since schema 2, from the records they count: by
	 * score, the eligible of each group are its recognised */
	for (int g = 0; g < GROUP_COUNT; g++)
		lr.c.v[CDHT_C_farmer_eligible + g] =
		    lr.c.v[CDHT_C_farmer_recognized + 2 * g];
	enc_local(out, &lr);
	return 0;
}

int
records_migrate_v2(struct store_txn *t, const char *self)
{
	size_t na = 0, nl = 0;
	int rc;

	store_pending_flush(t); /* migrate_table scans TBL_LOCAL */
	if ((rc = migrate_table(t, TBL_ASSESS, v2_assessment_cb, NULL, &na)) ||
	    (rc = migrate_table(t, TBL_LOCAL, v2_local_cb, NULL, &nl)))
		return rc;
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		if (records_local(t, y, &lr) == STORE_OK && lr.version != 0)
			outbox_queue(t, self, y);
	}
	log_info("migrated %zu assessments and %zu local reports to schema 3",
	    na, nl);
	return store_txn_err(t);
}

/* records_counts_from: scan callback adding sign * each record. */
struct cf_arg {
	struct cdht_counters *c;
	int sign;
};

static int
cf_cb(void *arg, const struct assessment *a)
{
	struct cf_arg *ca = arg;

	rules_apply(ca->c, a, ca->sign);
	return 0;
}

int
records_counts_from(struct store_txn *t, const struct records_actor *act,
    int year, size_t *changed)
{
	int old = counts_from_stored(t);
	int lo = old < year ? old : year, hi = old < year ? year : old;
	unsigned char b[2];
	int rc = store_txn_err(t);

	*changed = 0;
	if (rc != STORE_OK || old == year)
		return rc;
	/* years lo..hi-1 stop counting (year > old) or start again */
	for (int y = lo; y < hi && y <= RULES_YEAR_MAX && rc == STORE_OK; y++) {
		struct local_report lr;
		struct cf_arg ca = {&lr.c, year > old ? -1 : +1};

		if (y < RULES_YEAR_MIN)
			continue;
		records_local(t, y, &lr);
		rc = records_scan(t, y, cf_cb, &ca);
		if (rc == STORE_OK) {
			local_write(t, act->self, y, &lr, act->now);
			(*changed)++;
		}
	}
	store_be16(b, (uint16_t)year);
	store_put(
	    t, TBL_META, META_COUNTS_FROM, sizeof(META_COUNTS_FROM) - 1, b, 2);
	if (cache_of(t, 0) != NULL)
		cache_of(t, 0)->counts_from = year;
	return rc != STORE_OK ? rc : store_txn_err(t);
}
