/*
 * input.c: validating assessments (JSON, CSV rows) and denominators, with
 * the field rules of proto/valid.h; every error names its field.  An
 * assessment's rules are the field_* functions, one per field, which the
 * JSON object (input_assessment) and the CSV row (input_csv_assessment)
 * both go through.  Errors are written into the caller's struct input_err;
 * nothing returned is owned by the caller.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decisions.h"
#include "input.h"
#include "titles.h"

_Static_assert(RECORDS_NPOP == VALID_NDENOMINATORS,
    "records store one value per denominator");

static const char *const assessment_fields[] = {"year", "person_id", "name",
    "birth_year", "group", "population", "scores", "digital"};
#define NFIELDS (sizeof(assessment_fields) / sizeof(assessment_fields[0]))

int
input_fail(struct input_err *e, const char *code, const char *field,
    const char *fmt, ...)
{
	char msg[2 * sizeof(e->message)];
	va_list ap;

	e->code = code;
	field = field ? field : "";
	valid_quote(e->field, sizeof(e->field), field, strlen(field));
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	/* valid text however the message was built, cut on a character */
	valid_quote(e->message, sizeof(e->message), msg, strlen(msg));
	return -1;
}

/* Fail with unknown_field for the field or column name (client input). */
static int
unknown(struct input_err *e, const char *what, const char *name)
{
	char q[sizeof(e->field)];

	valid_quote(q, sizeof(q), name, strlen(name));
	return input_fail(
	    e, "unknown_field", name, "unknown %s \"%s\"", what, q);
}

/*
 * The field rules of an assessment, one function per field, shared by the
 * JSON object (input_assessment) and the CSV row (input_csv_assessment):
 * each gets the value as read (NULL / !is_int: present but of the wrong
 * type), checks it and fills a, or fails with e.
 */

/* v in [lo, hi] into *out, else invalid_field. */
static int
int_in_range(const char *key, json_int_t v, long lo, long hi, long *out,
    struct input_err *e)
{
	if (v < lo || v > hi)
		return input_fail(e, "invalid_field", key,
		    "%s must be %ld..%ld", key, lo, hi);
	*out = (long)v;
	return 0;
}

static int
field_year(json_int_t v, struct assessment *a, struct input_err *e)
{
	long n = 0;

	if (int_in_range("year", v, RULES_YEAR_MIN, RULES_YEAR_MAX, &n, e))
		return -1;
	a->year = (uint16_t)n;
	return 0;
}

static int
field_person_id(
    const char *s, size_t len, struct assessment *a, struct input_err *e)
{
	if (s == NULL || valid_person_id(s, len) != 0)
		return input_fail(e, "invalid_field", "person_id",
		    "person_id must be a string of 1..%d bytes without "
		    "control characters",
		    VALID_PID_MAX);
	a->pid_len = (uint8_t)len;
	memcpy(a->person_id, s, len);
	return 0;
}

static int
field_name(const char *s, size_t len, struct assessment *a, struct input_err *e)
{
	if (s == NULL || valid_person_name(s, len) != 0)
		return input_fail(e, "invalid_field", "name",
		    "name must be a string of at most %d bytes "
		    "without control characters",
		    RULES_NAME_MAX);
	memcpy(a->name, s, len);
	return 0;
}

/* After field_year. */
static int
field_birth_year(json_int_t v, struct assessment *a, struct input_err *e)
{
	long n = 0;

	if (int_in_range("birth_year", v, 1900, a->year, &n, e))
		return -1;
	a->birth_year = (int16_t)n;
	return 0;
}

/* s (NUL-terminated, or NULL) one of names[0..n). */
static int
field_enum(const char *key, const char *s, const char *const *names, int n,
    uint8_t *out, struct input_err *e)
{
	char list[128] = "";
	int i;

	if (s != NULL && (i = rules_lookup(names, n, s)) >= 0) {
		*out = (uint8_t)i;
		return 0;
	}
	for (i = 0; i < n; i++) {
		strcat(list, names[i]);
		strcat(list, i + 1 < n ? ", " : "");
	}
	return input_fail(
	    e, "invalid_field", key, "%s must be one of: %s", key, list);
}

/* After the population field. */
static int
field_level(const struct assessment *a, int level, struct input_err *e)
{
	if (a->population == POP_ADULT && level != LEVEL_COMMUNE)
		return input_fail(e, "invalid_field", "population",
		    "population \"adult\" is only accepted at commune level "
		    "(this node is a %s)",
		    rules_level_names[level]);
	return 0;
}

/* Score i; the field is named as the input names it: scores[i] in JSON,
 * its column s1..s10 in CSV. */
static int
field_score(int i, int is_int, json_int_t v, int csv, struct assessment *a,
    struct input_err *e)
{
	char f[16];

	if (is_int && valid_score(v) == 0) {
		a->scores[i] = (uint8_t)v;
		return 0;
	}
	snprintf(f, sizeof(f), csv ? "s%d" : "scores[%d]", csv ? i + 1 : i);
	return input_fail(e, "invalid_field", f, "%s must be an integer %d..%d",
	    f, VALID_SCORE_MIN, VALID_SCORE_MAX);
}

/* A required integer in [lo, hi]; JSON reals and booleans are rejected. */
static int
get_int(const json_t *obj, const char *key, int required, long lo, long hi,
    long *out, struct input_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || (!required && json_is_null(v))) {
		if (required)
			return input_fail(
			    e, "missing_field", key, "%s is required", key);
		return 1;
	}
	if (!json_is_integer(v))
		return input_fail(
		    e, "invalid_field", key, "%s must be an integer", key);
	return int_in_range(key, json_integer_value(v), lo, hi, out, e);
}

/* A required string that must be one of names[0..n). */
static int
get_enum(const json_t *obj, const char *key, const char *const *names, int n,
    uint8_t *out, struct input_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return input_fail(
		    e, "missing_field", key, "%s is required", key);
	return field_enum(key, json_is_string(v) ? json_string_value(v) : NULL,
	    names, n, out, e);
}

int
input_assessment(
    const json_t *obj, int level, struct assessment *a, struct input_err *e)
{
	const char *key;
	json_t *v;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(obj))
		return input_fail(e, "bad_request", NULL,
		    "an assessment must be a JSON object");
	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(key, assessment_fields[i]) == 0)
				break;
		if (i == NFIELDS)
			return unknown(e, "field", key);
	}
	v = json_object_get(obj, "year");
	if (v == NULL)
		return input_fail(
		    e, "missing_field", "year", "year is required");
	if (!json_is_integer(v))
		return input_fail(
		    e, "invalid_field", "year", "year must be an integer");
	if (field_year(json_integer_value(v), a, e) != 0)
		return -1;
	v = json_object_get(obj, "person_id");
	if (v == NULL)
		return input_fail(
		    e, "missing_field", "person_id", "person_id is required");
	if (field_person_id(json_is_string(v) ? json_string_value(v) : NULL,
	        json_is_string(v) ? json_string_length(v) : 0, a, e) != 0)
		return -1;
	v = json_object_get(obj, "name");
	if (v != NULL && !json_is_null(v) &&
	    field_name(json_is_string(v) ? json_string_value(v) : NULL,
	        json_is_string(v) ? json_string_length(v) : 0, a, e) != 0)
		return -1;
	v = json_object_get(obj, "birth_year");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v))
			return input_fail(e, "invalid_field", "birth_year",
			    "birth_year must be an integer");
		if (field_birth_year(json_integer_value(v), a, e) != 0)
			return -1;
	}
	if (get_enum(
	        obj, "group", rules_group_names, GROUP_COUNT, &a->group, e) ||
	    get_enum(obj, "population", rules_population_names, 2,
	        &a->population, e) ||
	    get_enum(obj, "digital", rules_digital_names, 3, &a->digital, e) ||
	    field_level(a, level, e))
		return -1;
	v = json_object_get(obj, "scores");
	if (v == NULL)
		return input_fail(
		    e, "missing_field", "scores", "scores is required");
	if (!json_is_array(v) || json_array_size(v) != RULES_NSCORES)
		return input_fail(e, "invalid_field", "scores",
		    "scores must be an array of exactly %d integers",
		    RULES_NSCORES);
	for (int i = 0; i < RULES_NSCORES; i++) {
		json_t *s = json_array_get(v, (size_t)i);

		if (field_score(i, json_is_integer(s), json_integer_value(s), 0,
		        a, e) != 0)
			return -1;
	}
	return 0;
}

static const char *const csv_columns[] = {"year", "person_id", "name",
    "birth_year", "group", "population", "s1", "s2", "s3", "s4", "s5", "s6",
    "s7", "s8", "s9", "s10", "digital"};
#define NCSV (sizeof(csv_columns) / sizeof(csv_columns[0]))

int
input_csv_header(char *const *hdr, size_t n, struct input_err *e)
{
	int seen[NCSV] = {0};

	for (size_t i = 0; i < n; i++) {
		size_t c;
		for (c = 0; c < NCSV; c++)
			if (strcmp(hdr[i], csv_columns[c]) == 0)
				break;
		if (c == NCSV)
			return unknown(e, "column", hdr[i]);
		if (seen[c]++)
			return input_fail(e, "bad_request", hdr[i],
			    "column \"%s\" appears twice", hdr[i]);
	}
	for (size_t c = 0; c < NCSV; c++)
		if (!seen[c] && strcmp(csv_columns[c], "name") != 0 &&
		    strcmp(csv_columns[c], "birth_year") != 0)
			return input_fail(e, "missing_field", csv_columns[c],
			    "column \"%s\" is required", csv_columns[c]);
	return 0;
}

int
input_csv_error(
    const struct csv *r, char *const *hdr, size_t nh, struct input_err *e)
{
	size_t cell;
	const char *why = csv_error(r, &cell);

	if (cell < nh)
		return input_fail(e, "bad_request", hdr[cell],
		    "malformed CSV in column %s: %s", hdr[cell], why);
	return input_fail(e, "bad_request", NULL, "malformed CSV: %s", why);
}

/* Parse a decimal integer cell; 0 or -1 with e. */
static int
cell_int(const char *s, const char *col, json_int_t *out, struct input_err *e)
{
	char *end, q[33];
	long long v;
	size_t i;

	/* plain digits (what a spreadsheet writes): strtoll's value */
	for (i = 0, v = 0; i < 18 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (i > 0 && s[i] == '\0') {
		*out = v;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno) {
		valid_quote(q, sizeof(q), s, strlen(s));
		return input_fail(e, "invalid_field", col,
		    "%s must be an integer, not \"%s\"", col, q);
	}
	*out = v;
	return 0;
}

/* The column of a header cell: its index in csv_columns, or -1.  The
 * header was accepted by input_csv_header (every cell one of csv_columns),
 * so the first bytes tell the column: no string compare per cell. */
static int
csv_column(const char *col)
{
	int c;

	switch (col[0]) {
	case 'y':
		c = 0;
		break;
	case 'p':
		c = col[1] == 'e' ? 1 : 5;
		break;
	case 'n':
		c = 2;
		break;
	case 'b':
		c = 3;
		break;
	case 'g':
		c = 4;
		break;
	case 's':
		c = col[1] == '1' && col[2] == '0' ? 15 : 5 + (col[1] - '0');
		break;
	case 'd':
		c = 16;
		break;
	default:
		return -1;
	}
	return c >= 0 && c < (int)NCSV ? c : -1;
}

/* An enumerated cell: its code (a clerk's label, "nông dân", stands for
 * it), or the cell itself when it is neither. */
static const char *
csv_code(const char *col, const char *const *names, int n, const char *val,
    size_t *len)
{
	const char *code;

	if (rules_lookup(names, n, val) >= 0)
		return val; /* the code itself: valid_label_code's answer too */
	if ((code = valid_label_code(col, val, *len)) != NULL)
		*len = strlen(code);
	return code != NULL ? code : val;
}

int
input_csv_assessment(char *const *hdr, char *const *cells, size_t n, int level,
    struct assessment *a, struct input_err *e)
{
	/* the cells as read, by column of csv_columns (NULL: absent) */
	const char *text[NCSV] = {NULL};
	size_t tlen[NCSV] = {0};
	json_int_t num[NCSV] = {0};
	int have[NCSV] = {0};

	memset(a, 0, sizeof(*a));
	/* each cell read as its column's type, in the header's order */
	for (size_t i = 0; i < n; i++) {
		const char *col = hdr[i], *val = cells[i], *why;
		int c = csv_column(col);
		size_t at, len;

		if (c < 0)
			return unknown(e, "column", col);
		if (c == 0 || c == 3 || (c >= 6 && c <= 15)) {
			if (val[0] == '\0' && c == 3)
				continue;
			if (cell_int(val, col, &num[c], e))
				return -1;
			have[c] = 1;
			continue;
		}
		len = strlen(val);
		if (val[0] == '\0' && c == 2)
			continue;
		if (c == 4)
			val = csv_code(
			    col, rules_group_names, GROUP_COUNT, val, &len);
		else if (c == 5)
			val =
			    csv_code(col, rules_population_names, 2, val, &len);
		else if (c == 16)
			val = csv_code(col, rules_digital_names, 3, val, &len);
		if ((why = valid_utf8_why(val, len, &at)) != NULL)
			return input_fail(e, "invalid_field", col,
			    "%s is not valid UTF-8: %s at byte %zu", col, why,
			    at + 1);
		text[c] = val;
		tlen[c] = len;
		have[c] = 1;
	}
	/* then the rules of input_assessment, in its order */
	if (!have[0])
		return input_fail(
		    e, "missing_field", "year", "year is required");
	if (field_year(num[0], a, e) != 0)
		return -1;
	if (!have[1])
		return input_fail(
		    e, "missing_field", "person_id", "person_id is required");
	if (field_person_id(text[1], tlen[1], a, e) != 0 ||
	    (have[2] && field_name(text[2], tlen[2], a, e) != 0) ||
	    (have[3] && field_birth_year(num[3], a, e) != 0))
		return -1;
	if (!have[4] || !have[5] || !have[16]) {
		const char *f = !have[4]   ? "group"
		                : !have[5] ? "population"
		                           : "digital";
		return input_fail(e, "missing_field", f, "%s is required", f);
	}
	if (field_enum("group", text[4], rules_group_names, GROUP_COUNT,
	        &a->group, e) ||
	    field_enum("population", text[5], rules_population_names, 2,
	        &a->population, e) ||
	    field_enum(
	        "digital", text[16], rules_digital_names, 3, &a->digital, e) ||
	    field_level(a, level, e))
		return -1;
	/* a score column left out reads as 0 (input_csv_header requires
	 * them all) */
	for (int i = 0; i < RULES_NSCORES; i++)
		if (field_score(i, 1, num[6 + i], 1, a, e) != 0)
			return -1;
	return 0;
}

/* Only these keys in obj; 0, or -1 with e naming the first other one. */
static int
known_keys(
    const json_t *obj, const char *const *keys, size_t n, struct input_err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;

		for (i = 0; i < n && strcmp(key, keys[i]) != 0; i++)
			;
		if (i == n)
			return unknown(e, "field", key);
	}
	return 0;
}

/* A string field checked by ok (text rules); copied into out (cap bytes).
 * Absent or null: 1 when not required. */
static int
get_text(const json_t *obj, const char *key, int required,
    int (*ok)(const char *, size_t), const char *rule, char *out, size_t cap,
    struct input_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return input_fail(
			    e, "missing_field", key, "%s is required", key);
		return 1;
	}
	if (!json_is_string(v) ||
	    ok(json_string_value(v), json_string_length(v)) != 0 ||
	    json_string_length(v) >= cap)
		return input_fail(
		    e, "invalid_field", key, "%s must be %s", key, rule);
	memcpy(out, json_string_value(v), json_string_length(v));
	out[json_string_length(v)] = '\0';
	return 0;
}

static int
valid_authority(const char *s, size_t n)
{
	return n >= 1 && n <= VALID_AUTHORITY_MAX ? valid_text(s, n) : -1;
}

static const char *const title_fields[] = {
    "year", "kind", "id", "name", "recognized", "adults", "staff"};
#define NTITLE (sizeof(title_fields) / sizeof(title_fields[0]))

int
input_title(const json_t *obj, struct title *ti, struct input_err *e)
{
	const char *members;
	json_t *v;
	long n = 0;

	memset(ti, 0, sizeof(*ti));
	if (!json_is_object(obj))
		return input_fail(e, "bad_request", NULL,
		    "a title record must be a JSON object");
	if (known_keys(obj, title_fields, NTITLE, e) != 0 ||
	    get_int(obj, "year", 1, RULES_YEAR_MIN, RULES_YEAR_MAX, &n, e) != 0)
		return -1;
	ti->year = (uint16_t)n;
	if (get_enum(obj, "kind", title_kind_names, TITLE_NKINDS, &ti->kind,
	        e) != 0 ||
	    get_text(obj, "id", 1, valid_person_id,
	        "a string of 1..64 bytes without control characters", ti->id,
	        sizeof(ti->id), e) != 0 ||
	    get_text(obj, "name", 0, valid_person_name,
	        "a string of at most 200 bytes without control characters",
	        ti->name, sizeof(ti->name), e) < 0)
		return -1;
	ti->id_len = (uint8_t)strlen(ti->id);
	v = json_object_get(obj, "recognized");
	if (v == NULL)
		return input_fail(e, "missing_field", "recognized",
		    "recognized is required (true or false)");
	if (!json_is_boolean(v))
		return input_fail(e, "invalid_field", "recognized",
		    "recognized must be true or false");
	ti->eligible = json_is_true(v);
	/* a unit counts its staff, the others their adults */
	members = ti->kind == TITLE_UNIT ? "staff" : "adults";
	v = json_object_get(obj, ti->kind == TITLE_UNIT ? "adults" : "staff");
	if (v != NULL && !json_is_null(v))
		return input_fail(e, "invalid_field",
		    ti->kind == TITLE_UNIT ? "adults" : "staff",
		    "a %s record counts its %s", title_kind_names[ti->kind],
		    members);
	ti->members = -1;
	switch (get_int(obj, members, 0, 0, 1000000, &n, e)) {
	case -1:
		return -1;
	case 0:
		ti->members = n;
	}
	return 0;
}

static const char *const decision_fields[] = {
    "year", "number", "date", "authority", "title", "person_ids", "ids"};
#define NDECISION (sizeof(decision_fields) / sizeof(decision_fields[0]))

int
input_decision(const json_t *obj, struct decision *d, const json_t **ids,
    struct input_err *e)
{
	const json_t *p, *q;
	json_t *v;
	long n = 0;
	size_t i;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return input_fail(
		    e, "bad_request", NULL, "a decision must be a JSON object");
	if (known_keys(obj, decision_fields, NDECISION, e) != 0 ||
	    get_int(obj, "year", 1, RULES_YEAR_MIN, RULES_YEAR_MAX, &n, e) != 0)
		return -1;
	d->year = (uint16_t)n;
	if (get_text(obj, "number", 1, valid_decision_number,
	        "a string of 1..64 bytes without control characters, such as "
	        "\"45/QĐ-UBND\"",
	        d->number, sizeof(d->number), e) != 0 ||
	    get_text(obj, "date", 1, valid_date, "a date YYYY-MM-DD", d->date,
	        sizeof(d->date), e) != 0 ||
	    get_text(obj, "authority", 1, valid_authority,
	        "a string of 1..200 bytes without control characters, such "
	        "as \"UBND xã Chiềng Sung\"",
	        d->authority, sizeof(d->authority), e) != 0)
		return -1;
	d->title = DECISION_CITIZEN;
	if (json_object_get(obj, "title") != NULL &&
	    get_enum(obj, "title", decision_title_names, DECISION_NTITLES,
	        &d->title, e) != 0)
		return -1;
	p = json_object_get(obj, "person_ids");
	q = json_object_get(obj, "ids");
	if (p != NULL && q != NULL)
		return input_fail(e, "invalid_field", "ids",
		    "give person_ids or ids, not both");
	if (p == NULL && q == NULL)
		return input_fail(e, "missing_field",
		    d->title == DECISION_CITIZEN ? "person_ids" : "ids",
		    "the ids the decision lists are required");
	if (p == NULL)
		p = q;
	if (!json_is_array(p) || json_array_size(p) == 0 ||
	    json_array_size(p) > 100000)
		return input_fail(e, "invalid_field", q ? "ids" : "person_ids",
		    "%s must be an array of 1..100000 ids",
		    q ? "ids" : "person_ids");
	json_array_foreach(p, i, v)
	{
		if (!json_is_string(v) || valid_person_id(json_string_value(v),
		                              json_string_length(v)) != 0) {
			char f[40];

			snprintf(f, sizeof(f), "%s[%zu]",
			    q ? "ids" : "person_ids", i);
			return input_fail(e, "invalid_field", f,
			    "%s must be a string of 1..%d bytes without "
			    "control characters",
			    f, VALID_PID_MAX);
		}
	}
	*ids = p;
	return 0;
}

static const char *const title_csv_columns[] = {
    "year", "kind", "id", "name", "recognized", "adults", "staff"};
#define NTCSV (sizeof(title_csv_columns) / sizeof(title_csv_columns[0]))

int
input_title_csv_header(char *const *hdr, size_t n, struct input_err *e)
{
	int seen[NTCSV] = {0};

	for (size_t i = 0; i < n; i++) {
		size_t c;

		for (c = 0; c < NTCSV && strcmp(hdr[i], title_csv_columns[c]);
		     c++)
			;
		if (c == NTCSV)
			return unknown(e, "column", hdr[i]);
		if (seen[c]++)
			return input_fail(e, "bad_request", hdr[i],
			    "column \"%s\" appears twice", hdr[i]);
	}
	for (size_t c = 0; c < 5; c++) /* year .. recognized */
		if (!seen[c] && c != 3)
			return input_fail(e, "missing_field",
			    title_csv_columns[c], "column \"%s\" is required",
			    title_csv_columns[c]);
	return 0;
}

/* A spreadsheet's yes / no: 1 or 0, -1 when it is neither. */
static int
cell_bool(const char *s)
{
	static const char *const yes[] = {
	    "1", "true", "yes", "x", "có", "Có", "CÓ", "đạt", "Đạt"};
	static const char *const no[] = {"0", "false", "no", "", "không",
	    "Không", "KHÔNG", "không đạt", "Không đạt"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

json_t *
input_title_csv_row(
    char *const *hdr, char *const *cells, size_t n, struct input_err *e)
{
	json_t *obj = json_object();

	if (obj == NULL) {
		input_fail(e, "internal", NULL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *col = hdr[i], *val = cells[i];
		json_int_t iv = 0;
		size_t at, len = strlen(val);
		const char *why;

		if (strcmp(col, "recognized") == 0) {
			int b = cell_bool(val);
			char q[40];

			if (b < 0) {
				valid_quote(q, sizeof(q), val, len);
				input_fail(e, "invalid_field", col,
				    "recognized must be 1 or 0 (có / "
				    "không), not \"%s\"",
				    q);
				goto fail;
			}
			json_object_set_new(obj, col, json_boolean(b));
		} else if (strcmp(col, "year") == 0 ||
		           strcmp(col, "adults") == 0 ||
		           strcmp(col, "staff") == 0) {
			if (val[0] == '\0' && col[0] != 'y')
				continue;
			if (cell_int(val, col, &iv, e))
				goto fail;
			json_object_set_new(obj, col, json_integer(iv));
		} else {
			if (val[0] == '\0' && strcmp(col, "name") == 0)
				continue;
			if ((why = valid_utf8_why(val, len, &at)) != NULL) {
				input_fail(e, "invalid_field", col,
				    "%s is not valid UTF-8: %s at byte %zu",
				    col, why, at + 1);
				goto fail;
			}
			json_object_set_new(
			    obj, col, json_stringn_nocheck(val, len));
		}
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

int
input_population(
    const json_t *obj, int64_t den[RECORDS_NPOP], struct input_err *e)
{
	const char *key, *bad;
	json_t *v;

	if (!json_is_object(obj))
		return input_fail(
		    e, "bad_request", NULL, "population must be a JSON object");
	json_object_foreach((json_t *)obj, key, v)
	{
		int i = rules_lookup(
		    valid_denominator_names, VALID_NDENOMINATORS, key);
		if (i < 0)
			return unknown(e, "field", key);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000000000LL)
			return input_fail(e, "invalid_field", key,
			    "%s must be a non-negative integer", key);
	}
	for (int i = 0; i < RECORDS_NPOP; i++) {
		v = json_object_get(obj, valid_denominator_names[i]);
		den[i] = v ? (int64_t)json_integer_value(v) : 0;
	}
	if ((bad = rules_check_population(den)) != NULL)
		return input_fail(e, "invalid_field", bad,
		    "%s must not exceed its total", bad);
	return 0;
}

const char *
input_bad_json_message(char *msg, size_t cap, const json_error_t *e)
{
	char text[3 * sizeof(e->text)];

	valid_quote(text, sizeof(text), e->text, strlen(e->text));
	snprintf(msg, cap, "line %d, column %d: %s", e->line, e->column, text);
	return msg;
}

/* --- one JSON assessment without jansson ---------------------------------- */

/*
 * input_assessment_text reads the plain form of an assessment object (what
 * clients and the bench send) straight from the body, and hands anything
 * else back (1) to json_loadb + input_assessment, which gives the errors.
 * It accepts a strict subset of JSON: so whatever it accepts, jansson
 * parses to the same values (tests/unit/test_input.c and fuzz_json.c
 * compare the two on every input), and the field rules are the same
 * field_* calls, in input_assessment's order.
 */
struct scan {
	const unsigned char *p, *end;
};

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	                            *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* A string with no escape and no control character: 0 and its bytes (in
 * the body), or -1.  Its UTF-8 is left to the field rules: person_id and
 * name go through valid_text, as strict as jansson (no overlong form, no
 * surrogate, nothing past U+10FFFF), and every other string must equal
 * an ASCII name. */
static int
scan_str(struct scan *s, const char **out, size_t *n)
{
	const unsigned char *b;

	if (s->p >= s->end || *s->p != '"')
		return -1;
	b = ++s->p;
	for (; s->p < s->end; s->p++) {
		if (*s->p == '"') {
			*out = (const char *)b;
			*n = (size_t)(s->p - b);
			s->p++;
			return 0;
		}
		if (*s->p == '\\' || *s->p < 0x20)
			return -1;
	}
	return -1;
}

/* A non-negative integer of at most 9 digits, no leading zero, not
 * followed by a fraction or exponent: 0 and *v, or -1. */
static int
scan_int(struct scan *s, json_int_t *v)
{
	const unsigned char *b = s->p;
	json_int_t x = 0;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - b < 10)
		x = x * 10 + (*s->p++ - '0');
	if (s->p == b || s->p - b > 9 || (*b == '0' && s->p - b > 1) ||
	    (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
	                          (*s->p >= '0' && *s->p <= '9'))))
		return -1;
	*v = x;
	return 0;
}

/* The literal null: 1 (consumed) or 0. */
static int
scan_null(struct scan *s)
{
	if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
		s->p += 4;
		return 1;
	}
	return 0;
}

/* An enum value copied NUL-terminated into buf (cap bytes): 0 or -1. */
static int
scan_word(struct scan *s, char *buf, size_t cap)
{
	const char *v;
	size_t n;

	if (scan_str(s, &v, &n) != 0 || n >= cap)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

/* assessment_fields' indices */
enum { F_YEAR, F_PID, F_NAME, F_BIRTH, F_GROUP, F_POP, F_SCORES, F_DIGITAL };
_Static_assert(F_DIGITAL + 1 == NFIELDS, "one index per assessment field");
#define REQUIRED                                                    \
	(1u << F_YEAR | 1u << F_PID | 1u << F_GROUP | 1u << F_POP | \
	    1u << F_SCORES | 1u << F_DIGITAL)

int
input_assessment_text(
    const char *body, size_t len, int level, struct assessment *a)
{
	struct scan s = {
	    (const unsigned char *)body, (const unsigned char *)body + len};
	const char *pid = NULL, *name = NULL;
	size_t pid_len = 0, name_len = 0;
	json_int_t year = 0, birth = 0, sc[RULES_NSCORES];
	char grp[32], pop[32], dig[32];
	unsigned seen = 0, nulls = 0;
	struct input_err e;

	skip_ws(&s);
	if (s.p >= s.end || *s.p++ != '{')
		return 1;
	for (;;) {
		const char *k;
		size_t kl;
		int f, rc = -1;

		skip_ws(&s);
		if (scan_str(&s, &k, &kl) != 0)
			return 1;
		for (f = 0; f < (int)NFIELDS; f++)
			if (strlen(assessment_fields[f]) == kl &&
			    memcmp(assessment_fields[f], k, kl) == 0)
				break;
		if (f == (int)NFIELDS || (seen & 1u << f))
			return 1; /* unknown or repeated: jansson says so */
		seen |= 1u << f;
		skip_ws(&s);
		if (s.p >= s.end || *s.p++ != ':')
			return 1;
		skip_ws(&s);
		switch (f) {
		case F_YEAR:
			rc = scan_int(&s, &year);
			break;
		case F_PID:
			rc = scan_str(&s, &pid, &pid_len);
			break;
		case F_NAME:
		case F_BIRTH:
			if (scan_null(&s)) {
				nulls |= 1u << f;
				rc = 0;
			} else if (f == F_NAME)
				rc = scan_str(&s, &name, &name_len);
			else
				rc = scan_int(&s, &birth);
			break;
		case F_GROUP:
			rc = scan_word(&s, grp, sizeof(grp));
			break;
		case F_POP:
			rc = scan_word(&s, pop, sizeof(pop));
			break;
		case F_DIGITAL:
			rc = scan_word(&s, dig, sizeof(dig));
			break;
		case F_SCORES:
			if (s.p >= s.end || *s.p++ != '[')
				return 1;
			for (int i = 0; i < RULES_NSCORES; i++) {
				skip_ws(&s);
				if (scan_int(&s, &sc[i]) != 0)
					return 1;
				skip_ws(&s);
				if (s.p >= s.end ||
				    *s.p++ !=
				        (i + 1 < RULES_NSCORES ? ',' : ']'))
					return 1;
			}
			rc = 0;
			break;
		}
		if (rc != 0)
			return 1;
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p++ == '}')
			break;
		return 1;
	}
	skip_ws(&s);
	if (s.p != s.end)
		return 1;
	if ((seen & REQUIRED) != REQUIRED)
		return 1;
	/* input_assessment's rules, in its order; any error: its path */
	memset(a, 0, sizeof(*a));
	if (field_year(year, a, &e) != 0 ||
	    field_person_id(pid, pid_len, a, &e) != 0 ||
	    (name != NULL && field_name(name, name_len, a, &e) != 0) ||
	    ((seen & 1u << F_BIRTH) && !(nulls & 1u << F_BIRTH) &&
	        field_birth_year(birth, a, &e) != 0) ||
	    field_enum("group", grp, rules_group_names, GROUP_COUNT, &a->group,
	        &e) != 0 ||
	    field_enum("population", pop, rules_population_names, 2,
	        &a->population, &e) != 0 ||
	    field_enum(
	        "digital", dig, rules_digital_names, 3, &a->digital, &e) != 0 ||
	    field_level(a, level, &e) != 0)
		return 1;
	for (int i = 0; i < RULES_NSCORES; i++)
		if (field_score(i, 1, sc[i], 0, a, &e) != 0)
			return 1;
	return 0;
}
