/*
 * titles.c: collective titles recorded one by one (owner of TBL_TITLES and
 * its value encoding).  Every write adjusts the kind's total and recognised
 * counters of the year's local report in the same transaction; the first
 * record of a kind in a year replaces the totals typed for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "titles.h"
#include "value.h"
#include "vec.h"

#define TITLE_FMT 3

const char *const title_kind_names[TITLE_NKINDS] = {
    "family", "clan", "community", "unit"};

_Static_assert(
    CDHT_C_units_recognized == CDHT_C_families_total + 2 * TITLE_UNIT + 1,
    "the title counters follow enum title_kind in (total, recognised) pairs");

static size_t
tkey(unsigned char *buf, int year, int kind, const char *id, size_t idlen)
{
	store_be16(buf, (uint16_t)year);
	buf[2] = (unsigned char)kind;
	memcpy(buf + 3, id, idlen);
	return idlen + 3;
}

static void
enc_title(struct vw *w, const struct title *ti)
{
	vw_u8(w, TITLE_FMT);
	vw_u8(w, ti->eligible);
	vw_u8(w, ti->recognized);
	vw_int(w, ti->members);
	vw_int(w, ti->updated_at);
	vw_str(w, ti->name);
	vw_str(w, ti->decision);
}

/* Decode value (v, vl) of key (k, kl) into *out; 0 or -1. */
static int
dec_title(const void *k, size_t kl, const void *v, size_t vl, struct title *out)
{
	const unsigned char *kp = k;
	struct vr r;

	memset(out, 0, sizeof(*out));
	if (kl < 4 || kl > 3 + VALID_PID_MAX || kp[2] >= TITLE_NKINDS)
		return -1;
	out->year = store_rd16(kp);
	out->kind = kp[2];
	out->id_len = (uint8_t)(kl - 3);
	memcpy(out->id, kp + 3, kl - 3);
	vr_init(&r, v, vl);
	if (vr_u8(&r) != TITLE_FMT)
		return -1;
	out->eligible = vr_u8(&r) != 0;
	out->recognized = vr_u8(&r) != 0;
	out->members = vr_int(&r);
	out->updated_at = vr_int(&r);
	vr_str(&r, out->name, sizeof(out->name));
	vr_str(&r, out->decision, sizeof(out->decision));
	if (vr_done(&r) != 0 || out->members < -1 ||
	    (out->recognized && !out->eligible))
		return -1;
	return 0;
}

int
titles_get(struct store_txn *t, int year, int kind, const char *id,
    size_t idlen, struct title *out)
{
	unsigned char k[3 + VALID_PID_MAX];
	const void *v;
	size_t vl, kl;
	int rc;

	if (idlen == 0 || idlen > VALID_PID_MAX || kind < 0 ||
	    kind >= TITLE_NKINDS)
		return STORE_NOTFOUND;
	kl = tkey(k, year, kind, id, idlen);
	if ((rc = store_get(t, TBL_TITLES, k, kl, &v, &vl)) != STORE_OK)
		return rc;
	if (dec_title(k, kl, v, vl, out) != 0)
		return store_corrupt(t, TBL_TITLES, k, kl, "title record");
	return STORE_OK;
}

static int
put_title(struct store_txn *t, const struct title *ti)
{
	unsigned char k[3 + VALID_PID_MAX], buf[VALUE_MAX];
	struct vw w;

	vw_init(&w, buf, sizeof(buf));
	enc_title(&w, ti);
	if (w.err)
		return store_corrupt(t, TBL_TITLES, NULL, 0, "title too long");
	return store_put(t, TBL_TITLES, k,
	    tkey(k, ti->year, ti->kind, ti->id, ti->id_len), buf, w.len);
}

/* c += sign * what ti counts. */
static void
title_apply(struct cdht_counters *c, const struct title *ti, int sign)
{
	c->v[CDHT_C_families_total + 2 * ti->kind] += sign;
	if (ti->recognized)
		c->v[CDHT_C_families_total + 2 * ti->kind + 1] += sign;
}

static int
count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(*(int64_t *)arg)++;
	return 0;
}

int
titles_count(struct store_txn *t, int year, int kind, int64_t *n)
{
	unsigned char k[3];
	int rc;

	*n = 0;
	store_be16(k, (uint16_t)year);
	k[2] = (unsigned char)kind;
	rc = store_scan(t, TBL_TITLES, k, 3, count_cb, n);
	return rc ? rc : store_txn_err(t);
}

static bool
recognized_now(const struct records_actor *act, const struct title *ti)
{
	return ti->eligible && (act->recognition == RECOGNITION_SCORE ||
	                           ti->decision[0] != '\0');
}

int
titles_put(struct store_txn *t, const struct records_actor *act,
    struct title *ti, int *replaced)
{
	struct title old;
	struct local_report lr;
	char detail[160];
	int64_t before = 0;
	int rc;

	if ((rc = records_writable(t, ti->year)) != 0)
		return rc;
	rc = titles_get(t, ti->year, ti->kind, ti->id, ti->id_len, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*replaced = rc == STORE_OK;
	if (*replaced && old.decision[0] != '\0') {
		memcpy(ti->decision, old.decision, sizeof(ti->decision));
		return RECORDS_DECIDED;
	}
	if (!*replaced && (rc = titles_count(t, ti->year, ti->kind, &before)))
		return rc;
	records_local(t, ti->year, &lr);
	if (!*replaced && before == 0) {
		/* the first record: the kind is counted from records now */
		lr.c.v[CDHT_C_families_total + 2 * ti->kind] = 0;
		lr.c.v[CDHT_C_families_total + 2 * ti->kind + 1] = 0;
	}
	if (*replaced)
		title_apply(&lr.c, &old, -1);
	ti->decision[0] = '\0';
	ti->recognized = recognized_now(act, ti);
	ti->updated_at = act->now;
	title_apply(&lr.c, ti, +1);
	put_title(t, ti);
	records_local_put(t, act, ti->year, &lr);
	snprintf(detail, sizeof(detail), "%d/%s/%.*s eligible=%d recognized=%d",
	    ti->year, title_kind_names[ti->kind], (int)ti->id_len, ti->id,
	    ti->eligible, ti->recognized);
	records_audit(t, act, *replaced ? "title replace" : "title", detail);
	return store_txn_err(t);
}

int
titles_delete(struct store_txn *t, const struct records_actor *act, int year,
    int kind, const char *id, size_t idlen, char *decided)
{
	unsigned char k[3 + VALID_PID_MAX];
	struct title old;
	struct local_report lr;
	char detail[128];
	int rc;

	if ((rc = records_writable(t, year)) != 0)
		return rc;
	if ((rc = titles_get(t, year, kind, id, idlen, &old)) != STORE_OK)
		return rc;
	if (old.decision[0] != '\0') {
		if (decided != NULL)
			memcpy(decided, old.decision, sizeof(old.decision));
		return RECORDS_DECIDED;
	}
	records_local(t, year, &lr);
	title_apply(&lr.c, &old, -1);
	store_del(t, TBL_TITLES, k, tkey(k, year, kind, id, idlen));
	records_local_put(t, act, year, &lr);
	snprintf(detail, sizeof(detail), "%d/%s/%.*s", year,
	    title_kind_names[kind], (int)idlen, id);
	records_audit(t, act, "title delete", detail);
	return store_txn_err(t);
}

int
titles_decide(struct store_txn *t, const struct records_actor *act, int year,
    int kind, const char *id, size_t idlen, const char *number)
{
	struct title ti;
	struct local_report lr;
	int rc = titles_get(t, year, kind, id, idlen, &ti);

	if (rc != STORE_OK)
		return rc;
	records_local(t, year, &lr);
	title_apply(&lr.c, &ti, -1);
	snprintf(ti.decision, sizeof(ti.decision), "%s", number);
	ti.recognized = recognized_now(act, &ti);
	title_apply(&lr.c, &ti, +1);
	put_title(t, &ti);
	records_local_put(t, act, year, &lr);
	return store_txn_err(t);
}

struct scan_arg {
	struct store_txn *t;
	int (*cb)(void *, const struct title *);
	void *arg;
};

static int
scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct scan_arg *sa = arg;
	struct title ti;

	if (dec_title(k, kl, v, vl, &ti) != 0) {
		store_corrupt(sa->t, TBL_TITLES, k, kl, "title record");
		return 1;
	}
	return sa->cb(sa->arg, &ti);
}

int
titles_scan(struct store_txn *t, int year, int kind,
    int (*cb)(void *arg, const struct title *ti), void *arg)
{
	struct scan_arg sa = {t, cb, arg};
	unsigned char k[3];
	int rc;

	store_be16(k, (uint16_t)year);
	k[2] = (unsigned char)kind;
	rc = store_scan(t, TBL_TITLES, k, kind < 0 ? 2 : 3, scan_cb, &sa);
	return rc ? rc : store_txn_err(t);
}

/* A growing array of records (titles_recount collects, then writes). */
struct tlist {
	struct title *a;
	size_t n, cap;
	int oom;
};

static int
tlist_cb(void *arg, const struct title *ti)
{
	struct tlist *l = arg;
	struct title *p = vec_room(l->a, l->n, &l->cap, sizeof(*p));

	if (p == NULL) {
		l->oom = 1;
		return 1;
	}
	l->a = p;
	l->a[l->n++] = *ti;
	return 0;
}

int
titles_recount(struct store_txn *t, const struct records_actor *act, int year,
    size_t *changed)
{
	struct tlist l = {NULL, 0, 0, 0};
	struct local_report lr;
	int rc = titles_scan(t, year, -1, tlist_cb, &l);

	*changed = 0;
	if (rc == STORE_OK && l.oom)
		rc = STORE_ENOMEM;
	if (rc != STORE_OK) {
		free(l.a);
		return rc;
	}
	records_local(t, year, &lr);
	for (size_t i = 0; i < l.n; i++) {
		struct title b = l.a[i];

		b.recognized = recognized_now(act, &b);
		if (b.recognized == l.a[i].recognized)
			continue;
		title_apply(&lr.c, &l.a[i], -1);
		title_apply(&lr.c, &b, +1);
		put_title(t, &b);
		(*changed)++;
	}
	if (*changed > 0)
		records_local_put(t, act, year, &lr);
	free(l.a);
	return store_txn_err(t);
}
