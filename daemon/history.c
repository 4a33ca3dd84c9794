/*
 * history.c: imported results (owner of TBL_HISTORY and its value
 * encoding): validating what an admin enters, turning it into the year's
 * local report (records.c owns that encoding; this file sets its counters
 * through records_local_put, which queues the year upward), and the
 * refusals: a year with records cannot be imported, a filed year is
 * frozen.  history_from_json and history_json own nothing they return
 * beyond the new JSON reference.
 */
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "titles.h"
#include "valid.h"
#include "value.h"
#include "views.h"

/* TBL_HISTORY: year(2) -> this value (PROTOCOL.md "Stored data"). */
#define HISTORY_FMT 3

/* The counters of each indicator: numerator, denominator (rules.c). */
static const int ind_counters[IND_COUNT][2] = {
    [IND_ADULTS] = {CDHT_C_adult_recognized, CDHT_C_adults},
    [IND_STAFF] = {CDHT_C_staff_recognized, CDHT_C_staff},
    [IND_DIGITAL] = {CDHT_C_digital_skilled, CDHT_C_recognized},
    [IND_PROFICIENT] = {CDHT_C_digital_proficient, CDHT_C_digital_skilled},
    [IND_TRAINED] = {CDHT_C_members_trained, CDHT_C_members_total},
    [IND_FAMILIES] = {CDHT_C_families_recognized, CDHT_C_families_total},
    [IND_CLANS] = {CDHT_C_clans_recognized, CDHT_C_clans_total},
    [IND_COMMUNITIES] = {CDHT_C_communities_recognized,
        CDHT_C_communities_total},
    [IND_UNITS] = {CDHT_C_units_recognized, CDHT_C_units_total},
};

/* The counters an import replaces: assessments and denominators (filing,
 * targets and what follows them are kept). */
#define HISTORY_LAST_DATA_COUNTER CDHT_C_manager_eligible

int
history_year_ok(long y)
{
	return y >= HISTORY_YEAR_MIN && y <= HISTORY_YEAR_MAX;
}

/* A number 0..HISTORY_NUMBER_MAX at key of obj (field: its full name). */
static int
get_number(const json_t *obj, const char *key, const char *field, int required,
    int64_t *out, struct input_err *e)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			return input_fail(
			    e, "missing_field", field, "%s is required", field);
		return 1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > HISTORY_NUMBER_MAX)
		return input_fail(e, "invalid_field", field,
		    "%s must be an integer 0..%lld", field,
		    (long long)HISTORY_NUMBER_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* Fail with unknown_field naming field (client input, quoted). */
static int
unknown(struct input_err *e, const char *field, const char *what)
{
	return input_fail(
	    e, "unknown_field", field, "unknown %s \"%s\"", what, field);
}

static int
from_indicator(const char *name, int i, const json_t *v, struct history *out,
    struct input_err *e)
{
	char f[64], fn[80], fd[80];
	const char *key;
	const json_t *x;

	snprintf(f, sizeof(f), "indicators.%s", name);
	snprintf(fn, sizeof(fn), "%s.numerator", f);
	snprintf(fd, sizeof(fd), "%s.denominator", f);
	if (!json_is_object(v))
		return input_fail(e, "invalid_field", f,
		    "%s must be an object {\"numerator\": N, \"denominator\": "
		    "D}",
		    f);
	json_object_foreach((json_t *)v, key, x)
	{
		if (strcmp(key, "numerator") != 0 &&
		    strcmp(key, "denominator") != 0) {
			char q[64], uf[160];

			valid_quote(q, sizeof(q), key, strlen(key));
			snprintf(uf, sizeof(uf), "%s.%s", f, q);
			return unknown(e, uf, "field");
		}
	}
	if (get_number(v, "numerator", fn, 1, &out->num[i], e) != 0 ||
	    get_number(v, "denominator", fd, 1, &out->den[i], e) != 0)
		return -1;
	if (out->num[i] > out->den[i])
		return input_fail(e, "invalid_field", fn,
		    "%s (%lld) exceeds %s (%lld)", fn, (long long)out->num[i],
		    fd, (long long)out->den[i]);
	out->given |= 1u << i;
	return 0;
}

int
history_from_json(const json_t *doc, struct history *out, struct input_err *e)
{
	const json_t *v, *inds, *counts;
	const char *key, *s;
	int year = out->year, rc;

	memset(out, 0, sizeof(*out));
	out->year = year;
	if (!json_is_object(doc))
		return input_fail(e, "bad_request", NULL,
		    "imported results must be a JSON object");
	json_object_foreach((json_t *)doc, key, v)
	{
		if (strcmp(key, "source") != 0 &&
		    strcmp(key, "indicators") != 0 &&
		    strcmp(key, "counts") != 0 && strcmp(key, "year") != 0 &&
		    strcmp(key, "imported") != 0 &&
		    strcmp(key, "updated_at") != 0 && strcmp(key, "by") != 0) {
			char q[64];

			valid_quote(q, sizeof(q), key, strlen(key));
			return unknown(e, q, "field");
		}
	}
	/* what GET answers may be sent back: its extra members must agree */
	v = json_object_get(doc, "year");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != year))
		return input_fail(e, "invalid_field", "year",
		    "year must be %d (the year of the path)", year);
	v = json_object_get(doc, "source");
	if (v == NULL)
		return input_fail(e, "missing_field", "source",
		    "source is required (where the figures come from, e.g. "
		    "the report they were copied from)");
	s = json_string_value(v);
	if (s == NULL || json_string_length(v) == 0 ||
	    json_string_length(v) > HISTORY_SOURCE_MAX ||
	    valid_text(s, json_string_length(v)) != 0)
		return input_fail(e, "invalid_field", "source",
		    "source must be text of 1..%d bytes", HISTORY_SOURCE_MAX);
	memcpy(out->source, s, json_string_length(v) + 1);

	counts = json_object_get(doc, "counts");
	if (counts == NULL)
		return input_fail(e, "missing_field", "counts",
		    "counts is required: {\"assessed\": N, \"recognized\": N, "
		    "\"outstanding\": N}");
	if (!json_is_object(counts))
		return input_fail(
		    e, "invalid_field", "counts", "counts must be an object");
	json_object_foreach((json_t *)counts, key, v)
	{
		if (strcmp(key, "assessed") != 0 &&
		    strcmp(key, "recognized") != 0 &&
		    strcmp(key, "outstanding") != 0) {
			char q[64], uf[96];

			valid_quote(q, sizeof(q), key, strlen(key));
			snprintf(uf, sizeof(uf), "counts.%s", q);
			return unknown(e, uf, "field");
		}
	}
	if (get_number(counts, "assessed", "counts.assessed", 1, &out->assessed,
	        e) != 0 ||
	    get_number(counts, "recognized", "counts.recognized", 1,
	        &out->recognized, e) != 0 ||
	    get_number(counts, "outstanding", "counts.outstanding", 0,
	        &out->outstanding, e) < 0)
		return -1;
	if (out->recognized > out->assessed)
		return input_fail(e, "invalid_field", "counts.recognized",
		    "counts.recognized (%lld) exceeds counts.assessed (%lld)",
		    (long long)out->recognized, (long long)out->assessed);
	if (out->outstanding > out->recognized)
		return input_fail(e, "invalid_field", "counts.outstanding",
		    "counts.outstanding (%lld) exceeds counts.recognized "
		    "(%lld)",
		    (long long)out->outstanding, (long long)out->recognized);

	inds = json_object_get(doc, "indicators");
	if (inds == NULL)
		return input_fail(e, "missing_field", "indicators",
		    "indicators is required: {\"adults\": {\"numerator\": N, "
		    "\"denominator\": D}, ...}");
	if (!json_is_object(inds))
		return input_fail(e, "invalid_field", "indicators",
		    "indicators must be an object");
	json_object_foreach((json_t *)inds, key, v)
	{
		int i = rules_lookup(rules_indicator_names, IND_COUNT, key);

		if (i < 0) {
			char q[64], uf[96];

			valid_quote(q, sizeof(q), key, strlen(key));
			snprintf(uf, sizeof(uf), "indicators.%s", q);
			return input_fail(e, "unknown_field", uf,
			    "unknown indicator \"%s\" (indicators: adults, "
			    "staff, digital, proficient, trained, families, "
			    "clans, communities, units)",
			    q);
		}
		if ((rc = from_indicator(key, i, v, out, e)) != 0)
			return rc;
	}
	if ((out->given & 1u << IND_DIGITAL) &&
	    out->den[IND_DIGITAL] != out->recognized)
		return input_fail(e, "invalid_field",
		    "indicators.digital.denominator",
		    "indicators.digital.denominator (%lld) must equal "
		    "counts.recognized (%lld): digital skills are counted "
		    "among the recognised",
		    (long long)out->den[IND_DIGITAL],
		    (long long)out->recognized);
	if ((out->given & 1u << IND_PROFICIENT) &&
	    (out->given & 1u << IND_DIGITAL) &&
	    out->den[IND_PROFICIENT] != out->num[IND_DIGITAL])
		return input_fail(e, "invalid_field",
		    "indicators.proficient.denominator",
		    "indicators.proficient.denominator (%lld) must equal "
		    "indicators.digital.numerator (%lld): the proficient are "
		    "counted among the digitally skilled",
		    (long long)out->den[IND_PROFICIENT],
		    (long long)out->num[IND_DIGITAL]);
	if ((out->given & 1u << IND_PROFICIENT) &&
	    out->den[IND_PROFICIENT] > out->recognized)
		return input_fail(e, "invalid_field",
		    "indicators.proficient.denominator",
		    "indicators.proficient.denominator (%lld) exceeds "
		    "counts.recognized (%lld)",
		    (long long)out->den[IND_PROFICIENT],
		    (long long)out->recognized);
	return 0;
}

json_t *
history_json(const struct history *h)
{
	json_t *inds = json_object();
	char when[32];

	for (int i = 0; i < IND_COUNT; i++)
		if (h->given & 1u << i)
			json_object_set_new(inds, rules_indicator_names[i],
			    json_pack("{s:I, s:I}", "numerator",
			        (json_int_t)h->num[i], "denominator",
			        (json_int_t)h->den[i]));
	views_iso_time(h->updated_at, when, sizeof(when));
	return json_pack("{s:i, s:s, s:o, s:{s:I, s:I, s:I}, s:b, s:s, s:s}",
	    "year", h->year, "source", h->source, "indicators", inds, "counts",
	    "assessed", (json_int_t)h->assessed, "recognized",
	    (json_int_t)h->recognized, "outstanding",
	    (json_int_t)h->outstanding, "imported", 1, "updated_at", when, "by",
	    h->by);
}

static void
enc_history(struct vw *w, const struct history *h)
{
	vw_u8(w, HISTORY_FMT);
	vw_str(w, h->source);
	vw_str(w, h->by);
	vw_int(w, h->updated_at);
	vw_uint(w, (uint64_t)h->assessed);
	vw_uint(w, (uint64_t)h->recognized);
	vw_uint(w, (uint64_t)h->outstanding);
	vw_uint(w, h->given);
	for (int i = 0; i < IND_COUNT; i++)
		if (h->given & 1u << i) {
			vw_uint(w, (uint64_t)h->num[i]);
			vw_uint(w, (uint64_t)h->den[i]);
		}
}

static int
dec_history(const void *v, size_t vl, struct history *out)
{
	struct vr r;
	uint64_t given;

	vr_init(&r, v, vl);
	if (vr_u8(&r) != HISTORY_FMT)
		return -1;
	vr_str(&r, out->source, sizeof(out->source));
	vr_str(&r, out->by, sizeof(out->by));
	out->updated_at = vr_int(&r);
	out->assessed = (int64_t)vr_uint(&r);
	out->recognized = (int64_t)vr_uint(&r);
	out->outstanding = (int64_t)vr_uint(&r);
	given = vr_uint(&r);
	if (given >> IND_COUNT)
		return -1;
	out->given = (unsigned)given;
	for (int i = 0; i < IND_COUNT; i++)
		if (out->given & 1u << i) {
			out->num[i] = (int64_t)vr_uint(&r);
			out->den[i] = (int64_t)vr_uint(&r);
			if (out->num[i] < 0 || out->num[i] > out->den[i])
				return -1;
		}
	if (vr_done(&r) != 0 || out->assessed < 0 ||
	    out->recognized > out->assessed || out->outstanding < 0 ||
	    out->outstanding > out->recognized)
		return -1;
	return 0;
}

int
history_get(struct store_txn *t, int year, struct history *out)
{
	unsigned char k[2];
	const void *v;
	size_t vl;
	int rc;

	memset(out, 0, sizeof(*out));
	out->year = year;
	store_be16(k, (uint16_t)year);
	if ((rc = store_get(t, TBL_HISTORY, k, 2, &v, &vl)) != STORE_OK)
		return rc;
	if (dec_history(v, vl, out) != 0)
		return store_corrupt(t, TBL_HISTORY, k, 2, "imported results");
	return STORE_OK;
}

/* The counters h stands for, over lr's (assessments and denominators
 * replaced, the rest kept). */
static void
apply(struct local_report *lr, const struct history *h)
{
	for (int c = 0; c <= HISTORY_LAST_DATA_COUNTER; c++)
		lr->c.v[c] = 0;
	lr->c.v[CDHT_C_assessed] = h->assessed;
	lr->c.v[CDHT_C_recognized] = h->recognized;
	lr->c.v[CDHT_C_eligible] = h->recognized;
	lr->c.v[CDHT_C_outstanding] = h->outstanding;
	lr->c.v[CDHT_C_den_set] = 1;
	for (int i = 0; i < IND_COUNT; i++)
		if (h->given & 1u << i) {
			lr->c.v[ind_counters[i][0]] = h->num[i];
			lr->c.v[ind_counters[i][1]] = h->den[i];
		}
	lr->c.v[CDHT_C_imported] = 1;
}

static int
count_cb(void *arg, const struct assessment *a)
{
	(*(int64_t *)arg)++;
	return 0;
}

int
history_put(struct store_txn *t, const struct records_actor *act,
    const struct rules_targets *tg, struct history *h, int *replaced,
    int64_t *nassess, int64_t *ntitles)
{
	unsigned char k[2], buf[VALUE_MAX];
	struct local_report lr;
	struct history old;
	char detail[300], q[HISTORY_SOURCE_MAX + 8];
	struct vw w;
	int rc;

	*replaced = 0;
	*nassess = *ntitles = 0;
	if ((rc = records_year_filed(t, h->year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	if ((rc = records_scan(t, h->year, count_cb, nassess)) != STORE_OK)
		return rc;
	for (int kind = 0; kind < TITLE_NKINDS; kind++) {
		int64_t n;

		if ((rc = titles_count(t, h->year, kind, &n)) != STORE_OK)
			return rc;
		*ntitles += n;
	}
	if (*nassess > 0 || *ntitles > 0)
		return HISTORY_HAS_RECORDS;
	rc = history_get(t, h->year, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*replaced = rc == STORE_OK;
	h->updated_at = act->now;
	snprintf(h->by, sizeof(h->by), "%s", act->who ? act->who : "-");
	records_local(t, h->year, &lr);
	apply(&lr, h);
	if (tg != NULL) /* a new year (2020) has none yet */
		rules_targets_stamp(&lr.c, tg);
	records_local_put(t, act, h->year, &lr);
	store_be16(k, (uint16_t)h->year);
	vw_init(&w, buf, sizeof(buf));
	enc_history(&w, h);
	if (w.err)
		return store_corrupt(
		    t, TBL_HISTORY, k, 2, "imported results too long");
	store_put(t, TBL_HISTORY, k, 2, buf, w.len);
	valid_quote(q, sizeof(q), h->source, strlen(h->source));
	snprintf(detail, sizeof(detail),
	    "%d assessed=%lld recognized=%lld source=%s", h->year,
	    (long long)h->assessed, (long long)h->recognized, q);
	records_audit(
	    t, act, *replaced ? "history replace" : "history", detail);
	return store_txn_err(t);
}

int
history_delete(struct store_txn *t, const struct records_actor *act, int year)
{
	unsigned char k[2];
	struct local_report lr;
	struct history old;
	char detail[32];
	int rc;

	if ((rc = records_year_filed(t, year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	if ((rc = history_get(t, year, &old)) != STORE_OK)
		return rc;
	records_local(t, year, &lr);
	for (int c = 0; c <= HISTORY_LAST_DATA_COUNTER; c++)
		lr.c.v[c] = 0;
	lr.c.v[CDHT_C_imported] = 0;
	records_local_put(t, act, year, &lr);
	store_be16(k, (uint16_t)year);
	store_del(t, TBL_HISTORY, k, 2);
	snprintf(detail, sizeof(detail), "%d", year);
	records_audit(t, act, "history delete", detail);
	return store_txn_err(t);
}
