/*
 * history.c: imported results (owner of TBL_HISTORY and its value
 * encoding): validating what an admin enters, turning it into the year's
 * local report (records.c owns that encoding; this file sets its counters
 * through records_local_put, which queues the year upward), and the
 * refusals: a year with records cannot be imported, a filed year is
 * frozen.  history_from_json and history_json own nothing they return
 * beyond the new JSON reference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "history.h"
#include "titles.h"
#include "valid.h"
#include "value.h"
#include "views.h"

/* TBL_HISTORY: year(2) -> this value; an offline unit's: year(2) unit
 * (no NUL) -> this value, its name and level (PROTOCOL.md "Stored data"). */
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
	out->given |= 1u << i; /* numerator <= denominator: history_check */
	return 0;
}

/* The name of indicator i's numerator (which 0) or denominator (1), as
 * JSON or CSV names it. */
static const char *
ind_field(char *buf, size_t cap, int csv, int i, int which)
{
	if (csv)
		snprintf(buf, cap, "%s_%s", rules_indicator_names[i],
		    which ? "den" : "num");
	else
		snprintf(buf, cap, "indicators.%s.%s", rules_indicator_names[i],
		    which ? "denominator" : "numerator");
	return buf;
}

int
history_check(const struct history *h, int csv, struct input_err *e)
{
	const char *rec = csv ? "recognized" : "counts.recognized";
	const char *ass = csv ? "assessed" : "counts.assessed";
	const char *out = csv ? "outstanding" : "counts.outstanding";
	char fn[64], fd[64];

	for (int i = 0; i < IND_COUNT; i++)
		if ((h->given & 1u << i) && h->num[i] > h->den[i])
			return input_fail(e, "invalid_field",
			    ind_field(fn, sizeof(fn), csv, i, 0),
			    "%s (%lld) exceeds %s (%lld)", fn,
			    (long long)h->num[i],
			    ind_field(fd, sizeof(fd), csv, i, 1),
			    (long long)h->den[i]);
	if (h->recognized > h->assessed)
		return input_fail(e, "invalid_field", rec,
		    "%s (%lld) exceeds %s (%lld)", rec,
		    (long long)h->recognized, ass, (long long)h->assessed);
	if (h->outstanding > h->recognized)
		return input_fail(e, "invalid_field", out,
		    "%s (%lld) exceeds %s (%lld)", out,
		    (long long)h->outstanding, rec, (long long)h->recognized);
	if ((h->given & 1u << IND_DIGITAL) &&
	    h->den[IND_DIGITAL] != h->recognized)
		return input_fail(e, "invalid_field",
		    ind_field(fd, sizeof(fd), csv, IND_DIGITAL, 1),
		    "%s (%lld) must equal %s (%lld): digital skills are "
		    "counted among the recognised",
		    fd, (long long)h->den[IND_DIGITAL], rec,
		    (long long)h->recognized);
	if ((h->given & 1u << IND_PROFICIENT) &&
	    (h->given & 1u << IND_DIGITAL) &&
	    h->den[IND_PROFICIENT] != h->num[IND_DIGITAL])
		return input_fail(e, "invalid_field",
		    ind_field(fd, sizeof(fd), csv, IND_PROFICIENT, 1),
		    "%s (%lld) must equal %s (%lld): the proficient are "
		    "counted among the digitally skilled",
		    fd, (long long)h->den[IND_PROFICIENT],
		    ind_field(fn, sizeof(fn), csv, IND_DIGITAL, 0),
		    (long long)h->num[IND_DIGITAL]);
	if ((h->given & 1u << IND_PROFICIENT) &&
	    h->den[IND_PROFICIENT] > h->recognized)
		return input_fail(e, "invalid_field",
		    ind_field(fd, sizeof(fd), csv, IND_PROFICIENT, 1),
		    "%s (%lld) exceeds %s (%lld)", fd,
		    (long long)h->den[IND_PROFICIENT], rec,
		    (long long)h->recognized);
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
	return history_check(out, 0, e);
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
	json_t *o;

	views_iso_time(h->updated_at, when, sizeof(when));
	o = json_pack("{s:i, s:s, s:o, s:{s:I, s:I, s:I}, s:b, s:s, s:s}",
	    "year", h->year, "source", h->source, "indicators", inds, "counts",
	    "assessed", (json_int_t)h->assessed, "recognized",
	    (json_int_t)h->recognized, "outstanding",
	    (json_int_t)h->outstanding, "imported", 1, "updated_at", when, "by",
	    h->by);
	if (o != NULL && h->unit[0] != '\0') {
		json_object_set_new(o, "unit",
		    json_pack("{s:s, s:s, s:s}", "id", h->unit, "name",
		        h->unit_name, "level", h->level));
		json_object_set_new(o, "offline", json_true());
	}
	return o;
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
	if (h->unit[0] != '\0') { /* an offline unit's entry */
		vw_str(w, h->unit_name);
		vw_str(w, h->level);
	}
}

/* An offline unit's entry (offline) ends in its name and level. */
static int
dec_history(const void *v, size_t vl, int offline, struct history *out)
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
	if (offline) {
		vr_str(&r, out->unit_name, sizeof(out->unit_name));
		vr_str(&r, out->level, sizeof(out->level));
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
	if (dec_history(v, vl, 0, out) != 0)
		return store_corrupt(t, TBL_HISTORY, k, 2, "imported results");
	return STORE_OK;
}

/* The counters h stands for, over lr's (assessments and denominators
 * replaced, the rest kept). */
static void
apply(struct cdht_counters *c, const struct history *h)
{
	for (int i = 0; i <= HISTORY_LAST_DATA_COUNTER; i++)
		c->v[i] = 0;
	c->v[CDHT_C_assessed] = h->assessed;
	c->v[CDHT_C_recognized] = h->recognized;
	c->v[CDHT_C_eligible] = h->recognized;
	c->v[CDHT_C_outstanding] = h->outstanding;
	c->v[CDHT_C_den_set] = 1;
	for (int i = 0; i < IND_COUNT; i++)
		if (h->given & 1u << i) {
			c->v[ind_counters[i][0]] = h->num[i];
			c->v[ind_counters[i][1]] = h->den[i];
		}
	c->v[CDHT_C_imported] = 1;
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
	apply(&lr.c, h);
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

/* Offline units (POST /v1/history, text/csv). */

const char *const history_csv_columns[] = {"unit_id", "unit_name", "level",
    "year", "source", "assessed", "recognized", "outstanding", "adults_num",
    "adults_den", "staff_num", "staff_den", "digital_num", "digital_den",
    "proficient_num", "proficient_den", "trained_num", "trained_den",
    "families_num", "families_den", "clans_num", "clans_den", "communities_num",
    "communities_den", "units_num", "units_den", NULL};
#define CSV_NREQUIRED 5 /* unit_id .. source */

static int
csv_column(const char *name)
{
	for (int i = 0; history_csv_columns[i] != NULL; i++)
		if (strcmp(history_csv_columns[i], name) == 0)
			return i;
	return -1;
}

int
history_csv_header(char *const *hdr, size_t n, struct input_err *e)
{
	unsigned long seen = 0;
	char q[64];

	for (size_t i = 0; i < n; i++) {
		int c = csv_column(hdr[i]);

		valid_quote(q, sizeof(q), hdr[i], strlen(hdr[i]));
		if (c < 0)
			return input_fail(e, "unknown_field", q,
			    "unknown column \"%s\" (columns: unit_id, "
			    "unit_name, level, year, source, assessed, "
			    "recognized, outstanding, then <indicator>_num and "
			    "<indicator>_den of adults, staff, digital, "
			    "proficient, trained, families, clans, "
			    "communities, "
			    "units)",
			    q);
		if (seen & 1ul << c)
			return input_fail(e, "bad_request", q,
			    "column \"%s\" appears twice", q);
		seen |= 1ul << c;
	}
	for (int c = 0; c < CSV_NREQUIRED; c++)
		if (!(seen & 1ul << c))
			return input_fail(e, "missing_field",
			    history_csv_columns[c], "column %s is required",
			    history_csv_columns[c]);
	return 0;
}

/* A number cell: 1 when empty (not given, *out = 0), 0, or -1 with e. */
static int
csv_number(const char *s, const char *col, int64_t *out, struct input_err *e)
{
	char *end, q[40];
	long long v;

	*out = 0;
	if (*s == '\0')
		return 1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < 0 ||
	    v > HISTORY_NUMBER_MAX) {
		valid_quote(q, sizeof(q), s, strlen(s));
		return input_fail(e, "invalid_field", col,
		    "%s must be an integer 0..%lld (or empty: not given), not "
		    "\"%s\"",
		    col, (long long)HISTORY_NUMBER_MAX, q);
	}
	*out = v;
	return 0;
}

int
history_from_csv(char *const *hdr, char *const *cells, size_t n,
    struct history *out, struct input_err *e)
{
	const char *cell[sizeof(history_csv_columns) /
	                 sizeof(history_csv_columns[0])] = {0};
	int64_t year,
	    *counts[3] = {&out->assessed, &out->recognized, &out->outstanding};
	char q[3 * WIRE_MAX_NAME + 8];
	size_t l;
	int lv, rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		int c = csv_column(hdr[i]);

		if (c >= 0)
			cell[c] = cells[i];
	}
	for (int c = 0; history_csv_columns[c] != NULL; c++)
		if (cell[c] == NULL)
			cell[c] = "";
	l = strlen(cell[0]);
	if (l == 0)
		return input_fail(
		    e, "missing_field", "unit_id", "unit_id is required");
	if (valid_id(cell[0], l) != 0) {
		valid_quote(q, sizeof(q), cell[0], l);
		return input_fail(e, "invalid_field", "unit_id",
		    "unit_id must be 1..%d of [0-9A-Za-z_-], not \"%s\"",
		    WIRE_MAX_ID, q);
	}
	memcpy(out->unit, cell[0], l + 1);
	l = strlen(cell[1]);
	if (l == 0 || valid_unit_name(cell[1], l) != 0)
		return input_fail(e, l == 0 ? "missing_field" : "invalid_field",
		    "unit_name", "unit_name must be text of 1..%d bytes",
		    WIRE_MAX_NAME);
	memcpy(out->unit_name, cell[1], l + 1);
	lv = valid_level(cell[2], strlen(cell[2]));
	if (lv != LEVEL_COMMUNE && lv != LEVEL_AGENCY && lv != LEVEL_DISTRICT) {
		valid_quote(q, sizeof(q), cell[2], strlen(cell[2]));
		return input_fail(e, "invalid_field", "level",
		    "level must be commune, agency or district, not \"%s\"", q);
	}
	snprintf(out->level, sizeof(out->level), "%s", valid_level_names[lv]);
	if ((rc = csv_number(cell[3], "year", &year, e)) < 0)
		return -1;
	if (rc == 1 || !history_year_ok((long)year))
		return input_fail(e,
		    rc == 1 ? "missing_field" : "invalid_field", "year",
		    "year must be %d..%d (%d: the baseline)", HISTORY_YEAR_MIN,
		    HISTORY_YEAR_MAX, HISTORY_YEAR_MIN);
	out->year = (int)year;
	l = strlen(cell[4]);
	if (l == 0 || l > HISTORY_SOURCE_MAX || valid_text(cell[4], l) != 0)
		return input_fail(e, l == 0 ? "missing_field" : "invalid_field",
		    "source",
		    "source must be text of 1..%d bytes (where the figures "
		    "come from, e.g. the report they were copied from)",
		    HISTORY_SOURCE_MAX);
	memcpy(out->source, cell[4], l + 1);
	for (int i = 0; i < 3; i++)
		if (csv_number(cell[5 + i], history_csv_columns[5 + i],
		        counts[i], e) < 0)
			return -1;
	for (int i = 0; i < IND_COUNT; i++) {
		int cn = 8 + 2 * i, rn, rd;

		if ((rn = csv_number(cell[cn], history_csv_columns[cn],
		         &out->num[i], e)) < 0 ||
		    (rd = csv_number(cell[cn + 1], history_csv_columns[cn + 1],
		         &out->den[i], e)) < 0)
			return -1;
		if (rn == 0 || rd == 0)
			out->given |= 1u << i;
	}
	return history_check(out, 1, e);
}

/* TBL_HISTORY key of an offline unit's year: year(2) unit. */
static size_t
offline_key(unsigned char *k, const char *unit, int year)
{
	size_t ul = strlen(unit);

	store_be16(k, (uint16_t)year);
	memcpy(k + 2, unit, ul);
	return 2 + ul;
}

int
history_offline_get(
    struct store_txn *t, const char *unit, int year, struct history *out)
{
	unsigned char k[2 + WIRE_MAX_ID];
	size_t kl = offline_key(k, unit, year);
	const void *v;
	size_t vl;
	int rc;

	memset(out, 0, sizeof(*out));
	out->year = year;
	if ((rc = store_get(t, TBL_HISTORY, k, kl, &v, &vl)) != STORE_OK)
		return rc;
	snprintf(out->unit, sizeof(out->unit), "%s", unit);
	if (dec_history(v, vl, 1, out) != 0)
		return store_corrupt(
		    t, TBL_HISTORY, k, kl, "imported results of a unit");
	return STORE_OK;
}

int
history_offline_has(struct store_txn *t, const char *unit, int year)
{
	unsigned char k[2 + WIRE_MAX_ID];
	const void *v;
	size_t vl;

	if (strlen(unit) < 1 || strlen(unit) > WIRE_MAX_ID)
		return 0;
	for (int y = year ? year : HISTORY_YEAR_MIN;
	     y <= (year ? year : HISTORY_YEAR_MAX); y++)
		if (store_get(t, TBL_HISTORY, k, offline_key(k, unit, y), &v,
		        &vl) == STORE_OK)
			return 1;
	return 0;
}

int
history_offline_put(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, struct history *h, int *replaced,
    struct input_err *e)
{
	unsigned char k[2 + WIRE_MAX_ID], buf[VALUE_MAX];
	char holder[WIRE_MAX_ID + 1], detail[400], q[HISTORY_SOURCE_MAX + 8];
	struct cdht_counters cn;
	struct history old;
	size_t kl = offline_key(k, h->unit, h->year);
	struct vw w;
	int rc;

	*replaced = 0;
	if ((rc = records_year_filed(t, h->year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	switch (aggregate_offline_check(t, c, h->unit, holder)) {
	case AGG_OFFLINE_OK:
		break;
	case AGG_OFFLINE_SELF:
		input_fail(e, "invalid_field", "unit_id",
		    "unit_id %s is this node: its own results go in PUT "
		    "/v1/history/%d",
		    h->unit, h->year);
		return HISTORY_NOT_OFFLINE;
	case AGG_OFFLINE_CHILD:
		input_fail(e, "invalid_field", "unit_id",
		    "unit_id %s is a configured child of this node: it "
		    "imports its own results (PUT /v1/history/%d at its node)",
		    h->unit, h->year);
		return HISTORY_NOT_OFFLINE;
	case AGG_OFFLINE_HELD:
		input_fail(e, "invalid_field", "unit_id",
		    "unit_id %s is held via child %s: it reports through "
		    "its node, not as an offline unit",
		    h->unit, holder);
		return HISTORY_NOT_OFFLINE;
	case AGG_OFFLINE_RETIRED:
		input_fail(e, "invalid_field", "unit_id",
		    "unit_id %s is a retired unit ([downlink] retired): its "
		    "years are read-only",
		    h->unit);
		return HISTORY_NOT_OFFLINE;
	default:
		return store_txn_err(t) ? store_txn_err(t) : STORE_EIO;
	}
	rc = history_offline_get(t, h->unit, h->year, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*replaced = rc == STORE_OK;
	h->updated_at = act->now;
	snprintf(h->by, sizeof(h->by), "%s", act->who ? act->who : "-");
	memset(&cn, 0, sizeof(cn));
	apply(&cn, h); /* no targets: the unit has none of its own */
	if ((rc = aggregate_offline_put(t, c, h->unit, h->year, h->level,
	         h->unit_name, &cn, act->now)) != STORE_OK)
		return rc;
	vw_init(&w, buf, sizeof(buf));
	enc_history(&w, h);
	if (w.err)
		return store_corrupt(
		    t, TBL_HISTORY, k, kl, "imported results too long");
	store_put(t, TBL_HISTORY, k, kl, buf, w.len);
	valid_quote(q, sizeof(q), h->source, strlen(h->source));
	snprintf(detail, sizeof(detail),
	    "%s %d assessed=%lld recognized=%lld source=%s", h->unit, h->year,
	    (long long)h->assessed, (long long)h->recognized, q);
	records_audit(t, act,
	    *replaced ? "history offline replace" : "history offline", detail);
	return store_txn_err(t);
}

int
history_offline_delete(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, const char *unit, int year)
{
	unsigned char k[2 + WIRE_MAX_ID];
	struct history old;
	char detail[48];
	int rc;

	if ((rc = records_year_filed(t, year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	if ((rc = history_offline_get(t, unit, year, &old)) != STORE_OK)
		return rc;
	if ((rc = aggregate_offline_remove(t, c, unit, year)) != STORE_OK &&
	    rc != STORE_NOTFOUND)
		return rc;
	store_del(t, TBL_HISTORY, k, offline_key(k, unit, year));
	snprintf(detail, sizeof(detail), "%s %d", unit, year);
	records_audit(t, act, "history offline delete", detail);
	return store_txn_err(t);
}
