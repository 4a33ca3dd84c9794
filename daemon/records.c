/*
 * records.c: assessments, denominators, the local report and the audit
 * trail.  Every write adjusts the local counters in the same transaction
 * (never a rescan) and queues the year's report for the parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "wire.h"

/* TBL_ASSESS value: fixed part then the name bytes. */
struct stored_assessment {
	uint8_t format; /* 1 */
	uint8_t group, population, digital;
	uint8_t scores[RULES_NSCORES];
	uint8_t recognized, outstanding;
	uint16_t total;
	int16_t birth_year;
	int64_t updated_at;
};

size_t
records_okey(unsigned char *buf, const char *origin, int year)
{
	size_t n = strlen(origin);

	memcpy(buf, origin, n + 1);
	store_be16(buf + n + 1, (uint16_t)year);
	return n + 3;
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
	size_t vl, nl;
	struct stored_assessment s;
	int rc;

	if (plen == 0 || plen > RULES_PID_MAX)
		return STORE_NOTFOUND;
	rc = store_get(t, TBL_ASSESS, k, akey(k, year, pid, plen), &v, &vl);
	if (rc != STORE_OK)
		return rc;
	if (vl < sizeof(s) || vl - sizeof(s) > RULES_NAME_MAX)
		return STORE_EIO;
	memcpy(&s, v, sizeof(s));
	memset(out, 0, sizeof(*out));
	out->year = (uint16_t)year;
	out->pid_len = (uint8_t)plen;
	memcpy(out->person_id, pid, plen);
	nl = vl - sizeof(s);
	memcpy(out->name, (const char *)v + sizeof(s), nl);
	out->birth_year = s.birth_year;
	out->group = s.group;
	out->population = s.population;
	out->digital = s.digital;
	memcpy(out->scores, s.scores, sizeof(s.scores));
	out->total = s.total;
	out->recognized = s.recognized;
	out->outstanding = s.outstanding;
	out->updated_at = s.updated_at;
	return STORE_OK;
}

static int
put_assessment(struct store_txn *t, const struct assessment *a)
{
	unsigned char k[2 + RULES_PID_MAX];
	unsigned char buf[sizeof(struct stored_assessment) + RULES_NAME_MAX];
	struct stored_assessment s = {
	    .format = 1,
	    .group = a->group,
	    .population = a->population,
	    .digital = a->digital,
	    .recognized = a->recognized,
	    .outstanding = a->outstanding,
	    .total = a->total,
	    .birth_year = a->birth_year,
	    .updated_at = a->updated_at,
	};
	size_t nl = strlen(a->name);

	memcpy(s.scores, a->scores, sizeof(s.scores));
	memcpy(buf, &s, sizeof(s));
	memcpy(buf + sizeof(s), a->name, nl);
	return store_put(t, TBL_ASSESS, k,
	    akey(k, a->year, a->person_id, a->pid_len), buf, sizeof(s) + nl);
}

int
records_local(struct store_txn *t, int year, struct local_report *out)
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
	/* a shorter value is an older format with fewer counters: zero-fill */
	memcpy(out, v, vl < sizeof(*out) ? vl : sizeof(*out));
	return STORE_OK;
}

/* Write the local report of year with a new version and queue it upward. */
static int
local_write(struct store_txn *t, const char *self, int year,
    struct local_report *lr, int64_t now)
{
	unsigned char k[2], ok[WIRE_MAX_ID + 3];

	lr->version = store_next_seq(t);
	lr->updated_at = now;
	store_be16(k, (uint16_t)year);
	store_put(t, TBL_LOCAL, k, 2, lr, sizeof(*lr));
	return store_put(
	    t, TBL_OUTBOX, ok, records_okey(ok, self, year), "", 0);
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
static int
refresh_later(struct store_txn *t, const struct records_actor *act, int year,
    const char *pid, size_t plen)
{
	for (int y = year + 1;
	     y < year + RULES_OUTSTANDING_YEARS && y <= RULES_YEAR_MAX; y++) {
		struct assessment r;
		struct local_report lr;
		int rc = records_get(t, y, pid, plen, &r);
		bool out;

		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		out = records_outstanding(t, &r);
		if (out == r.outstanding)
			continue;
		records_local(t, y, &lr);
		rules_apply(&lr.c, &r, -1);
		r.outstanding = out;
		rules_apply(&lr.c, &r, +1);
		put_assessment(t, &r);
		local_write(t, act->self, y, &lr, act->now);
	}
	return store_txn_err(t);
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
	rc = records_get(t, a->year, a->person_id, a->pid_len, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*replaced = rc == STORE_OK;
	records_local(t, a->year, &lr);
	if (*replaced)
		rules_apply(&lr.c, &old, -1);
	a->outstanding = records_outstanding(t, a);
	a->updated_at = act->now;
	rules_apply(&lr.c, a, +1);
	put_assessment(t, a);
	local_write(t, act->self, a->year, &lr, act->now);
	snprintf(detail, sizeof(detail), "%d/%.*s total=%d recognized=%d",
	    a->year, (int)a->pid_len, a->person_id, a->total, a->recognized);
	records_audit(t, act, *replaced ? "replace" : "submit", detail);
	if (!*replaced || old.recognized != a->recognized)
		refresh_later(t, act, a->year, a->person_id, a->pid_len);
	return store_txn_err(t);
}

int
records_withdraw(struct store_txn *t, const struct records_actor *act, int year,
    const char *pid, size_t plen)
{
	unsigned char k[2 + RULES_PID_MAX];
	struct assessment old;
	struct local_report lr;
	char detail[96];
	int rc;

	rc = records_get(t, year, pid, plen, &old);
	if (rc != STORE_OK)
		return rc;
	records_local(t, year, &lr);
	rules_apply(&lr.c, &old, -1);
	store_del(t, TBL_ASSESS, k, akey(k, year, pid, plen));
	local_write(t, act->self, year, &lr, act->now);
	snprintf(detail, sizeof(detail), "%d/%.*s", year, (int)plen, pid);
	records_audit(t, act, "withdraw", detail);
	if (old.recognized)
		refresh_later(t, act, year, pid, plen);
	return store_txn_err(t);
}

int
records_put_population(struct store_txn *t, const struct records_actor *act,
    int year, const int64_t den[RECORDS_NPOP])
{
	struct local_report lr;
	char detail[64];

	records_local(t, year, &lr);
	lr.c.v[CDHT_C_den_set] = 1;
	memcpy(&lr.c.v[CDHT_C_FIRST_DENOMINATOR], den,
	    RECORDS_NPOP * sizeof(int64_t));
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

int
records_bump_all(
    struct store_txn *t, const char *self, uint64_t floor, int64_t now)
{
	store_raise_seq(t, floor);
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct local_report lr;

		records_local(t, y, &lr);
		local_write(t, self, y, &lr, now);
	}
	return store_txn_err(t);
}

void
records_audit(struct store_txn *t, const struct records_actor *act,
    const char *action, const char *detail)
{
	unsigned char k[8];
	char v[512];
	int n;

	store_be64(k, store_next_seq(t));
	n = snprintf(v, sizeof(v), "%lld\t%s\t%s\t%s", (long long)act->now,
	    act->who ? act->who : "-", action, detail);
	if (n >= (int)sizeof(v))
		n = sizeof(v) - 1;
	store_put(t, TBL_AUDIT, k, 8, v, (size_t)n);
}

struct audit_scan {
	int (*cb)(void *, const struct audit_entry *);
	void *arg;
};

static int
audit_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct audit_scan *as = arg;
	struct audit_entry e;
	char buf[512];
	char *f[4], *p = buf;
	const unsigned char *kp = k;

	if (kl != 8 || vl >= sizeof(buf))
		return 0;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	for (int i = 0; i < 4; i++) {
		f[i] = p;
		if (i < 3 && (p = strchr(p, '\t')) == NULL)
			return 0; /* not written by records_audit: skip */
		if (i < 3)
			*p++ = '\0';
	}
	memset(&e, 0, sizeof(e));
	for (int i = 0; i < 8; i++)
		e.id = e.id << 8 | kp[i];
	e.time = strtoll(f[0], NULL, 10);
	snprintf(e.who, sizeof(e.who), "%s", f[1]);
	snprintf(e.action, sizeof(e.action), "%s", f[2]);
	snprintf(e.detail, sizeof(e.detail), "%s", f[3]);
	return as->cb(as->arg, &e);
}

int
records_audit_tail(struct store_txn *t, size_t max,
    int (*cb)(void *arg, const struct audit_entry *e), void *arg)
{
	struct audit_scan as = {cb, arg};

	return store_scan_last(t, TBL_AUDIT, max, audit_cb, &as);
}
