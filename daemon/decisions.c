/*
 * decisions.c: recognition by decision (owner of TBL_DECISION, TBL_DECIDED
 * and their encodings).  A decision is checked whole before anything is
 * written: every listed id must have a record that meets the criteria and
 * no other decision; then each record is marked through records.c or
 * titles.c, which own them and their counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "titles.h"
#include "value.h"
#include "vec.h"

#define DECISION_FMT 3

const char *const decision_title_names[DECISION_NTITLES] = {
    "citizen", "family", "clan", "community", "unit"};
const char *const decision_flaw_names[4] = {
    "not_assessed", "not_eligible", "decided", "duplicate"};

_Static_assert(DECISION_NTITLES == TITLE_NKINDS + 1,
    "a decision recognises citizens or one kind of title");

static size_t
dkey(unsigned char *buf, int year, const char *number, size_t nlen)
{
	store_be16(buf, (uint16_t)year);
	memcpy(buf + 2, number, nlen);
	return nlen + 2;
}

/* year(2) number \0 title(1) [id] */
static size_t
listed_key(unsigned char *buf, int year, const char *number, size_t nlen,
    int title, const char *id, size_t idlen)
{
	size_t n = dkey(buf, year, number, nlen);

	buf[n++] = '\0';
	buf[n++] = (unsigned char)title;
	memcpy(buf + n, id, idlen);
	return n + idlen;
}

static int
dec_decision(
    const void *k, size_t kl, const void *v, size_t vl, struct decision *out)
{
	const unsigned char *kp = k;
	struct vr r;
	uint64_t count;

	memset(out, 0, sizeof(*out));
	if (kl < 3 || kl > 2 + VALID_DECISION_MAX)
		return -1;
	out->year = store_rd16(kp);
	memcpy(out->number, kp + 2, kl - 2);
	vr_init(&r, v, vl);
	if (vr_u8(&r) != DECISION_FMT)
		return -1;
	vr_str(&r, out->date, sizeof(out->date));
	vr_str(&r, out->authority, sizeof(out->authority));
	out->title = vr_u8(&r);
	count = vr_uint(&r);
	out->recorded_at = vr_int(&r);
	vr_str(&r, out->by, sizeof(out->by));
	if (vr_done(&r) != 0 || out->title >= DECISION_NTITLES ||
	    count > INT64_MAX)
		return -1;
	out->count = (int64_t)count;
	return 0;
}

int
decisions_get(struct store_txn *t, int year, const char *number, size_t nlen,
    struct decision *out)
{
	unsigned char k[2 + VALID_DECISION_MAX];
	const void *v;
	size_t vl, kl;
	int rc;

	if (nlen == 0 || nlen > VALID_DECISION_MAX)
		return STORE_NOTFOUND;
	kl = dkey(k, year, number, nlen);
	if ((rc = store_get(t, TBL_DECISION, k, kl, &v, &vl)) != STORE_OK)
		return rc;
	if (dec_decision(k, kl, v, vl, out) != 0)
		return store_corrupt(t, TBL_DECISION, k, kl, "decision");
	return STORE_OK;
}

/* For sorting listed ids: their index, ordered by bytes then index. */
struct idref {
	const char *id;
	size_t len, index;
};

static int
idref_cmp(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->id, y->id, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
bad_cmp(const void *a, const void *b)
{
	const struct decision_bad *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether id can be listed by a decision of title in year; 0 or a flaw + 1,
 * or a store error (negative). */
static int
check_one(struct store_txn *t, int year, int title, const char *id, size_t len,
    char *other)
{
	int rc, eligible;
	const char *decided;
	struct assessment a;
	struct title ti;

	memset(&a, 0, sizeof(a));
	memset(&ti, 0, sizeof(ti));
	if (title == DECISION_CITIZEN) {
		rc = records_get(t, year, id, len, &a);
		eligible = a.eligible;
		decided = a.decision;
	} else {
		rc = titles_get(t, year, title - 1, id, len, &ti);
		eligible = ti.eligible;
		decided = ti.decision;
	}
	if (rc == STORE_NOTFOUND)
		return DFLAW_NOT_ASSESSED + 1;
	if (rc != STORE_OK)
		return rc;
	if (!eligible)
		return DFLAW_NOT_ELIGIBLE + 1;
	if (decided[0] != '\0') {
		snprintf(other, VALID_DECISION_MAX + 1, "%s", decided);
		return DFLAW_DECIDED + 1;
	}
	return 0;
}

static int
mark(struct store_txn *t, const struct records_actor *act, int year, int title,
    const char *id, size_t len, const char *number)
{
	if (title == DECISION_CITIZEN)
		return records_decide(t, act, year, id, len, number);
	return titles_decide(t, act, year, title - 1, id, len, number);
}

int
decisions_add(struct store_txn *t, const struct records_actor *act,
    struct decision *d, const char *const *ids, const size_t *lens, size_t n,
    struct decision_bad **bad, size_t *nbad)
{
	unsigned char k[2 + VALID_DECISION_MAX + 2 + VALID_PID_MAX];
	unsigned char buf[VALUE_MAX];
	size_t nl = strlen(d->number), kl;
	struct decision old;
	struct idref *refs = NULL;
	struct vw w;
	char detail[200];
	int rc;

	*bad = NULL;
	*nbad = 0;
	if ((rc = records_year_filed(t, d->year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	rc = decisions_get(t, d->year, d->number, nl, &old);
	if (rc == STORE_OK)
		return DECISIONS_EXISTS;
	if (rc != STORE_NOTFOUND)
		return rc;
	if (n > 0 && (refs = calloc(n, sizeof(*refs))) == NULL)
		return STORE_ENOMEM;
	if (n > 0 && (*bad = calloc(n, sizeof(**bad))) == NULL) {
		free(refs);
		return STORE_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct idref){ids[i], lens[i], i};
	if (n > 0)
		qsort(refs, n, sizeof(*refs), idref_cmp);
	for (size_t i = 0; i < n; i++) {
		struct decision_bad *b = &(*bad)[*nbad];
		int flaw;

		if (i > 0 && refs[i].len == refs[i - 1].len &&
		    memcmp(refs[i].id, refs[i - 1].id, refs[i].len) == 0)
			flaw = DFLAW_DUPLICATE + 1;
		else if ((flaw = check_one(t, d->year, d->title, refs[i].id,
		              refs[i].len, b->other)) < 0) {
			free(refs);
			free(*bad);
			*bad = NULL;
			*nbad = 0;
			return flaw;
		}
		if (flaw > 0) {
			b->index = refs[i].index;
			b->flaw = flaw - 1;
			(*nbad)++;
		}
	}
	free(refs);
	if (*nbad > 0) {
		qsort(*bad, *nbad, sizeof(**bad), bad_cmp);
		return DECISIONS_REFUSED;
	}
	free(*bad);
	*bad = NULL;
	for (size_t i = 0; i < n && store_txn_err(t) == STORE_OK; i++) {
		mark(t, act, d->year, d->title, ids[i], lens[i], d->number);
		kl = listed_key(
		    k, d->year, d->number, nl, d->title, ids[i], lens[i]);
		store_put(t, TBL_DECIDED, k, kl, "", 0);
	}
	d->count = (int64_t)n;
	d->recorded_at = act->now;
	snprintf(d->by, sizeof(d->by), "%s", act->who ? act->who : "-");
	vw_init(&w, buf, sizeof(buf));
	vw_u8(&w, DECISION_FMT);
	vw_str(&w, d->date);
	vw_str(&w, d->authority);
	vw_u8(&w, d->title);
	vw_uint(&w, (uint64_t)d->count);
	vw_int(&w, d->recorded_at);
	vw_str(&w, d->by);
	store_put(
	    t, TBL_DECISION, k, dkey(k, d->year, d->number, nl), buf, w.len);
	snprintf(detail, sizeof(detail), "%d %s %s: %zu listed", d->year,
	    d->number, decision_title_names[d->title], n);
	records_audit(t, act, "decision", detail);
	return store_txn_err(t);
}

/* The ids a decision lists, collected (a scan may not write its table). */
struct idlist {
	char (*id)[VALID_PID_MAX + 1];
	size_t n, cap;
	int title, oom;
	size_t prefix;
};

static int
idlist_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct idlist *l = arg;
	size_t len = kl - l->prefix;
	void *p;

	if (kl <= l->prefix || len > VALID_PID_MAX) {
		l->oom = -1; /* a malformed key */
		return 1;
	}
	if ((p = vec_room(l->id, l->n, &l->cap, sizeof(*l->id))) == NULL) {
		l->oom = 1;
		return 1;
	}
	l->id = p;
	l->title = ((const unsigned char *)k)[l->prefix - 1];
	memcpy(l->id[l->n], (const char *)k + l->prefix, len);
	l->id[l->n][len] = '\0';
	l->n++;
	return 0;
}

/* Collect the ids (year, number) lists into *l (free l->id). */
static int
collect_ids(struct store_txn *t, int year, const char *number, size_t nlen,
    int title, struct idlist *l)
{
	unsigned char k[2 + VALID_DECISION_MAX + 2];
	size_t kl = listed_key(k, year, number, nlen, title, "", 0);
	int rc;

	memset(l, 0, sizeof(*l));
	l->prefix = kl;
	rc = store_scan(t, TBL_DECIDED, k, kl, idlist_cb, l);
	if (rc == STORE_OK && l->oom < 0)
		rc = store_corrupt(t, TBL_DECIDED, k, kl, "decided key");
	else if (rc == STORE_OK && l->oom > 0)
		rc = STORE_ENOMEM;
	return rc;
}

int
decisions_revoke(struct store_txn *t, const struct records_actor *act, int year,
    const char *number, size_t nlen, struct decision *out)
{
	unsigned char k[2 + VALID_DECISION_MAX + 2 + VALID_PID_MAX];
	struct idlist l;
	char detail[200];
	int rc;

	if ((rc = decisions_get(t, year, number, nlen, out)) != STORE_OK)
		return rc;
	if ((rc = records_year_filed(t, year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	if ((rc = collect_ids(t, year, number, nlen, out->title, &l)) !=
	    STORE_OK) {
		free(l.id);
		return rc;
	}
	for (size_t i = 0; i < l.n && store_txn_err(t) == STORE_OK; i++) {
		size_t len = strlen(l.id[i]);

		rc = mark(t, act, year, out->title, l.id[i], len, "");
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			break;
		store_del(t, TBL_DECIDED, k,
		    listed_key(
		        k, year, number, nlen, out->title, l.id[i], len));
	}
	free(l.id);
	store_del(t, TBL_DECISION, k, dkey(k, year, number, nlen));
	snprintf(detail, sizeof(detail), "%d %.*s %s: %lld listed", year,
	    (int)nlen, number, decision_title_names[out->title],
	    (long long)out->count);
	records_audit(t, act, "revoke decision", detail);
	return store_txn_err(t);
}

struct dscan {
	struct store_txn *t;
	int (*cb)(void *, const struct decision *);
	void *arg;
};

static int
dscan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct dscan *ds = arg;
	struct decision d;

	if (dec_decision(k, kl, v, vl, &d) != 0) {
		store_corrupt(ds->t, TBL_DECISION, k, kl, "decision");
		return 1;
	}
	return ds->cb(ds->arg, &d);
}

int
decisions_scan(struct store_txn *t, int year,
    int (*cb)(void *arg, const struct decision *d), void *arg)
{
	struct dscan ds = {t, cb, arg};
	unsigned char k[2];
	int rc;

	store_be16(k, (uint16_t)year);
	rc = store_scan(t, TBL_DECISION, k, 2, dscan_cb, &ds);
	return rc ? rc : store_txn_err(t);
}

int
decisions_ids(struct store_txn *t, int year, const char *number, size_t nlen,
    int (*cb)(void *arg, const char *id, size_t idlen), void *arg)
{
	struct decision d;
	struct idlist l;
	int rc;

	if ((rc = decisions_get(t, year, number, nlen, &d)) != STORE_OK)
		return rc;
	if ((rc = collect_ids(t, year, number, nlen, d.title, &l)) == STORE_OK)
		for (size_t i = 0; i < l.n; i++)
			if (cb(arg, l.id[i], strlen(l.id[i])) != 0)
				break;
	free(l.id);
	return rc;
}
