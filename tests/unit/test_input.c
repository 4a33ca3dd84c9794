/*
 * test_input.c: daemon/input.c, validation of what clients send: every rule
 * of an assessment object (missing fields, wrong types including the real
 * 2021.0 and booleans, ranges, unknown fields, adults only at communes, name
 * and person_id byte limits, control characters), the CSV header checks, the
 * CSV row (errors name the column: "s3", "year", ...; a row gives the
 * struct or the error the object of the same values gives), the
 * population object, and input_valid_pid.  Every rejection checks the error
 * code and the field it names.  The body read without jansson
 * (input_assessment_text): the plain forms are read, and whatever it reads
 * of them and of every one-byte change to them, jansson and
 * input_assessment read into the same struct; what it leaves to them
 * (escapes, reals, bad UTF-8, broken rules) it leaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "input.h"
#include "rules.h"

#include "fixture.h"

/* A valid assessment; tests mutate a copy. */
static json_t *
base(void)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:s, s:s, s:[iiiiiiiiii], "
	                      "s:s}",
	    "year", 2025, "person_id", "001085012345", "name",
	    "Nguy\xe1\xbb\x85n V\xc4\x83n A", "birth_year", 1980, "group",
	    "official", "population", "adult", "scores", 9, 8, 7, 10, 6, 9, 8,
	    9, 8, 7, "digital", "skilled");

	assert_non_null(o);
	return o;
}

static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *o = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	if (o == NULL)
		fail_msg("bad JSON in test: %s: %s", text, err.text);
	return o;
}

/* base() with key set to the JSON value text (NULL: key removed). */
static json_t *
with(const char *key, const char *text)
{
	json_t *o = base();

	if (text == NULL)
		assert_int_equal(json_object_del(o, key), 0);
	else
		assert_int_equal(json_object_set_new(o, key, parse(text)), 0);
	return o;
}

static void
expect_err(json_t *o, int level, const char *code, const char *field)
{
	struct assessment a;
	struct input_err e;
	char *dump = json_dumps(o, JSON_COMPACT);

	memset(&e, 0, sizeof(e));
	if (input_assessment(o, level, &a, &e) != -1)
		fail_msg("accepted: %s", dump);
	if (code != NULL && (e.code == NULL || strcmp(e.code, code) != 0 ||
	                        strcmp(e.field, field) != 0))
		fail_msg("%s: got %s/%s (%s), want %s/%s", dump,
		    e.code ? e.code : "(null)", e.field, e.message, code,
		    field);
	if (code == NULL && strcmp(e.field, field) != 0)
		fail_msg("%s: field %s, want %s", dump, e.field, field);
	assert_true(strlen(e.message) > 0);
	free(dump);
	json_decref(o);
}

static void
expect_ok(json_t *o, int level, struct assessment *a)
{
	struct input_err e;
	char *dump = json_dumps(o, JSON_COMPACT);

	memset(&e, 0, sizeof(e));
	if (input_assessment(o, level, a, &e) != 0)
		fail_msg(
		    "%s rejected: %s/%s: %s", dump, e.code, e.field, e.message);
	free(dump);
	json_decref(o);
}

/* ---------------------------------------------------------------------- */
/* Assessments. */

static void
test_valid(void **state)
{
	struct assessment a;
	static const uint8_t sc[RULES_NSCORES] = {
	    9, 8, 7, 10, 6, 9, 8, 9, 8, 7};

	memset(&a, 0x55, sizeof(a));
	expect_ok(base(), LEVEL_COMMUNE, &a);
	fx_assert_assessment(&a, 2025, "001085012345",
	    "Nguy\xe1\xbb\x85n V\xc4\x83n A", 1980, GROUP_OFFICIAL, POP_ADULT,
	    DIGITAL_SKILLED, sc);

	/* name and birth_year are optional (absent or null) */
	{
		json_t *o = base();

		json_object_del(o, "name");
		json_object_del(o, "birth_year");
		memset(&a, 0x55, sizeof(a));
		expect_ok(o, LEVEL_COMMUNE, &a);
		assert_string_equal(a.name, "");
		assert_int_equal(a.birth_year, 0);
		o = base();
		json_object_set_new(o, "name", json_null());
		json_object_set_new(o, "birth_year", json_null());
		memset(&a, 0x55, sizeof(a));
		expect_ok(o, LEVEL_COMMUNE, &a);
		assert_string_equal(a.name, "");
		assert_int_equal(a.birth_year, 0);
	}
	/* every enumeration value maps to its enum */
	{
		static const char *const g[] = {
		    "farmer", "worker", "official", "business", "manager"};
		static const int ge[] = {GROUP_FARMER, GROUP_WORKER,
		    GROUP_OFFICIAL, GROUP_BUSINESS, GROUP_MANAGER};
		static const char *const d[] = {
		    "none", "skilled", "proficient"};
		static const int de[] = {
		    DIGITAL_NONE, DIGITAL_SKILLED, DIGITAL_PROFICIENT};
		char buf[32];

		for (int i = 0; i < 5; i++) {
			snprintf(buf, sizeof(buf), "\"%s\"", g[i]);
			expect_ok(with("group", buf), LEVEL_COMMUNE, &a);
			assert_int_equal(a.group, ge[i]);
		}
		for (int i = 0; i < 3; i++) {
			snprintf(buf, sizeof(buf), "\"%s\"", d[i]);
			expect_ok(with("digital", buf), LEVEL_COMMUNE, &a);
			assert_int_equal(a.digital, de[i]);
		}
	}
	/* staff at every level; adults at communes */
	for (int lv = LEVEL_COMMUNE; lv <= LEVEL_NATIONAL; lv++) {
		expect_ok(with("population", "\"staff\""), lv, &a);
		assert_int_equal(a.population, POP_STAFF);
	}
	/* the edges of every range */
	expect_ok(with("year", "2021"), LEVEL_COMMUNE, &a);
	assert_int_equal(a.year, 2021);
	expect_ok(with("year", "2030"), LEVEL_COMMUNE, &a);
	assert_int_equal(a.year, 2030);
	expect_ok(with("birth_year", "1900"), LEVEL_COMMUNE, &a);
	assert_int_equal(a.birth_year, 1900);
	expect_ok(with("birth_year", "2025"), LEVEL_COMMUNE, &a);
	assert_int_equal(a.birth_year, 2025);
	expect_ok(with("scores", "[1,1,1,1,1,1,1,1,1,1]"), LEVEL_COMMUNE, &a);
	assert_int_equal(a.scores[9], 1);
	expect_ok(with("scores", "[10,10,10,10,10,10,10,10,10,10]"),
	    LEVEL_COMMUNE, &a);
	assert_int_equal(a.scores[0], 10);
}

static void
test_missing(void **state)
{
	static const char *const req[] = {
	    "year", "person_id", "group", "population", "scores", "digital"};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		expect_err(
		    with(req[i], NULL), LEVEL_COMMUNE, "missing_field", req[i]);
	/* null is not a value for a required field: rejected, named */
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		expect_err(with(req[i], "null"), LEVEL_COMMUNE, NULL, req[i]);
	/* an empty object: the first required field */
	expect_err(parse("{}"), LEVEL_COMMUNE, "missing_field", "year");
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char *key, *val;
	} cases[] = {
	    {"year", "\"2025\""},
	    {"year", "2025.0"},
	    {"year", "2021.0"},
	    {"year", "true"},
	    {"year", "false"},
	    {"year", "[2025]"},
	    {"year", "{}"},
	    {"person_id", "1085012345"},
	    {"person_id", "true"},
	    {"person_id", "[\"a\"]"},
	    {"name", "42"},
	    {"name", "false"},
	    {"birth_year", "\"1980\""},
	    {"birth_year", "1980.0"},
	    {"birth_year", "true"},
	    {"group", "1"},
	    {"group", "[\"farmer\"]"},
	    {"group", "true"},
	    {"population", "0"},
	    {"digital", "false"},
	    {"digital", "2"},
	    {"scores", "\"9,9,9,9,9,9,9,9,9,9\""},
	    {"scores", "{\"s1\": 9}"},
	    {"scores", "9"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(with(cases[i].key, cases[i].val), LEVEL_COMMUNE,
		    "invalid_field", cases[i].key);
}

static void
test_ranges(void **state)
{
	expect_err(
	    with("year", "2020"), LEVEL_COMMUNE, "invalid_field", "year");
	expect_err(
	    with("year", "2031"), LEVEL_COMMUNE, "invalid_field", "year");
	expect_err(
	    with("year", "-2025"), LEVEL_COMMUNE, "invalid_field", "year");
	expect_err(with("year", "9223372036854775807"), LEVEL_COMMUNE,
	    "invalid_field", "year");
	expect_err(with("birth_year", "1899"), LEVEL_COMMUNE, "invalid_field",
	    "birth_year");
	/* born after the assessed year */
	expect_err(with("birth_year", "2026"), LEVEL_COMMUNE, "invalid_field",
	    "birth_year");
	{
		json_t *o = with("year", "2021");

		json_object_set_new(o, "birth_year", json_integer(2022));
		expect_err(o, LEVEL_COMMUNE, "invalid_field", "birth_year");
	}
	expect_err(with("group", "\"Farmer\""), LEVEL_COMMUNE, "invalid_field",
	    "group");
	expect_err(
	    with("group", "\"\""), LEVEL_COMMUNE, "invalid_field", "group");
	expect_err(with("population", "\"resident\""), LEVEL_COMMUNE,
	    "invalid_field", "population");
	expect_err(with("digital", "\"expert\""), LEVEL_COMMUNE,
	    "invalid_field", "digital");
	/* adults are counted where they live: communes only */
	expect_err(with("population", "\"adult\""), LEVEL_DISTRICT,
	    "invalid_field", "population");
	expect_err(with("population", "\"adult\""), LEVEL_PROVINCE,
	    "invalid_field", "population");
	expect_err(with("population", "\"adult\""), LEVEL_NATIONAL,
	    "invalid_field", "population");
}

static void
test_scores(void **state)
{
	expect_err(with("scores", "[9,9,9,9,9,9,9,9,9]"), LEVEL_COMMUNE,
	    "invalid_field", "scores");
	expect_err(with("scores", "[9,9,9,9,9,9,9,9,9,9,9]"), LEVEL_COMMUNE,
	    "invalid_field", "scores");
	expect_err(
	    with("scores", "[]"), LEVEL_COMMUNE, "invalid_field", "scores");
	/* a bad element is named by its position */
	for (int i = 0; i < RULES_NSCORES; i++) {
		static const char *const bad[] = {
		    "0", "11", "-1", "8.0", "\"8\"", "true", "null", "[8]"};

		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			char arr[128], field[16];
			size_t n = 0;

			n += (size_t)snprintf(arr, sizeof(arr), "[");
			for (int k = 0; k < RULES_NSCORES; k++)
				n += (size_t)snprintf(arr + n, sizeof(arr) - n,
				    "%s%s", k ? "," : "",
				    k == i ? bad[b] : "9");
			snprintf(arr + n, sizeof(arr) - n, "]");
			snprintf(field, sizeof(field), "scores[%d]", i);
			expect_err(with("scores", arr), LEVEL_COMMUNE,
			    "invalid_field", field);
		}
	}
}

static void
test_unknown_fields(void **state)
{
	static const char *const keys[] = {"total", "recognized", "outstanding",
	    "Year", "updated_at", "s1", ""};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *o = base();

		json_object_set_new(o, keys[i], json_integer(1));
		expect_err(o, LEVEL_COMMUNE, "unknown_field", keys[i]);
	}
	/* an unknown field is reported even when others are missing */
	expect_err(parse("{\"colour\": \"red\"}"), LEVEL_COMMUNE,
	    "unknown_field", "colour");
	/* not an object */
	expect_err(parse("[1,2]"), LEVEL_COMMUNE, "bad_request", "");
	expect_err(parse("\"x\""), LEVEL_COMMUNE, "bad_request", "");
}

/* A JSON string literal of n copies of the UTF-8 unit u plus tail. */
static char *
jstr(const char *u, int n, const char *tail)
{
	size_t ul = strlen(u), tl = strlen(tail);
	char *s = malloc(ul * (size_t)n + tl + 3), *p = s;

	assert_non_null(s);
	*p++ = '"';
	for (int i = 0; i < n; i++, p += ul)
		memcpy(p, u, ul);
	memcpy(p, tail, tl);
	p += tl;
	*p++ = '"';
	*p = '\0';
	return s;
}

/* key set to n copies of the UTF-8 unit u plus tail is accepted into a. */
static void
long_ok(const char *key, const char *u, int n, const char *tail,
    struct assessment *a)
{
	char *s = jstr(u, n, tail);

	expect_ok(with(key, s), LEVEL_COMMUNE, a);
	free(s);
}

/* key set to n copies of the UTF-8 unit u plus tail is invalid, and named. */
static void
long_err(const char *key, const char *u, int n, const char *tail)
{
	char *s = jstr(u, n, tail);

	expect_err(with(key, s), LEVEL_COMMUNE, "invalid_field", key);
	free(s);
}

static void
test_person_id_and_name(void **state)
{
	struct assessment a;

	/* person_id: 1..64 bytes (not characters) */
	long_ok("person_id", "k", 64, "", &a);
	assert_int_equal(a.pid_len, 64);
	long_err("person_id", "k", 65, "");
	/* 21 x "ệ" (3 bytes) + "a" = 64 bytes; one more "ệ" is 66 */
	long_ok("person_id", "\xe1\xbb\x87", 21, "a", &a);
	assert_int_equal(a.pid_len, 64);
	long_err("person_id", "\xe1\xbb\x87", 22, "");
	expect_err(with("person_id", "\"\""), LEVEL_COMMUNE, "invalid_field",
	    "person_id");
	/* control characters, DEL and NUL */
	{
		static const char *const bad[] = {"\"a\\tb\"", "\"a\\nb\"",
		    "\"ab\\r\"", "\"\\u0001\"", "\"a\\u007fb\"",
		    "\"a\\u0000b\"", "\"\\u001f\""};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			expect_err(with("person_id", bad[i]), LEVEL_COMMUNE,
			    "invalid_field", "person_id");
			expect_err(with("name", bad[i]), LEVEL_COMMUNE,
			    "invalid_field", "name");
		}
	}
	/* spaces and punctuation are fine */
	expect_ok(
	    with("person_id", "\"CCCD 001/085-012 345\""), LEVEL_COMMUNE, &a);
	assert_int_equal(a.pid_len, 20);

	/* name: at most 200 bytes */
	long_ok("name", "x", 200, "", &a);
	assert_int_equal(strlen(a.name), 200);
	long_err("name", "x", 201, "");
	/* 66 x "ệ" = 198 bytes + "ab" = 200 */
	long_ok("name", "\xe1\xbb\x87", 66, "ab", &a);
	assert_int_equal(strlen(a.name), 200);
	long_err("name", "\xe1\xbb\x87", 67, "");
	/* an empty name is allowed */
	expect_ok(with("name", "\"\""), LEVEL_COMMUNE, &a);
	assert_string_equal(a.name, "");
}

static void
test_valid_pid(void **state)
{
	char buf[80];

	memset(buf, 'p', sizeof(buf));
	assert_int_equal(valid_person_id(buf, 0), -1);
	assert_int_equal(valid_person_id(buf, 1), 0);
	assert_int_equal(valid_person_id(buf, 64), 0);
	assert_int_equal(valid_person_id(buf, 65), -1);
	buf[10] = '\x1f';
	assert_int_equal(valid_person_id(buf, 64), -1);
	assert_int_equal(valid_person_id(buf, 10), 0); /* before the bad byte */
	buf[10] = '\x7f';
	assert_int_equal(valid_person_id(buf, 11), -1);
	buf[10] = '\0';
	assert_int_equal(valid_person_id(buf, 11), -1);
	buf[10] = ' ';
	assert_int_equal(valid_person_id(buf, 11), 0);
	assert_int_equal(
	    valid_person_id("\xc3\xa9", 2), 0); /* UTF-8 bytes >= 0x80 */
}

/* ---------------------------------------------------------------------- */
/* CSV. */

static const char *const full_hdr[] = {"year", "person_id", "name",
    "birth_year", "group", "population", "s1", "s2", "s3", "s4", "s5", "s6",
    "s7", "s8", "s9", "s10", "digital"};
#define NHDR (sizeof(full_hdr) / sizeof(full_hdr[0]))

static int
header(const char *const *h, size_t n, struct input_err *e)
{
	char *v[32];

	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++)
		v[i] = (char *)h[i];
	memset(e, 0, sizeof(*e));
	return input_csv_header(v, n, e);
}

static void
expect_header_err(
    const char *const *h, size_t n, const char *code, const char *field)
{
	struct input_err e;

	assert_int_equal(header(h, n, &e), -1);
	if (strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0)
		fail_msg("header error %s/%s (%s), want %s/%s", e.code, e.field,
		    e.message, code, field);
	assert_true(strlen(e.message) > 0);
}

static void
test_csv_header(void **state)
{
	static const struct {
		const char *col, *code;
	} extra[] = {
	    {"score", "unknown_field"},
	    {"S1", "unknown_field"},
	    {"s11", "unknown_field"},
	    {"", "unknown_field"},
	    {"s3", "bad_request"},
	    {"year", "bad_request"},
	};
	struct input_err e;
	const char *h[32];

	assert_int_equal(header(full_hdr, NHDR, &e), 0);
	/* any order; name and birth_year may be absent */
	for (size_t i = 0; i < NHDR; i++)
		h[i] = full_hdr[NHDR - 1 - i];
	assert_int_equal(header(h, NHDR, &e), 0);
	{
		size_t n = 0;

		for (size_t i = 0; i < NHDR; i++)
			if (strcmp(full_hdr[i], "name") != 0 &&
			    strcmp(full_hdr[i], "birth_year") != 0)
				h[n++] = full_hdr[i];
		assert_int_equal(header(h, n, &e), 0);
	}
	/* every other column is required */
	for (size_t skip = 0; skip < NHDR; skip++) {
		size_t n = 0;

		if (strcmp(full_hdr[skip], "name") == 0 ||
		    strcmp(full_hdr[skip], "birth_year") == 0)
			continue;
		for (size_t i = 0; i < NHDR; i++)
			if (i != skip)
				h[n++] = full_hdr[i];
		expect_header_err(h, n, "missing_field", full_hdr[skip]);
	}
	/* unknown, differently spelt, duplicated: an extra column, named */
	memcpy(h, full_hdr, sizeof(full_hdr));
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		h[NHDR] = extra[i].col;
		expect_header_err(h, NHDR + 1, extra[i].code, extra[i].col);
	}
	/* an empty header */
	expect_header_err(h, 0, "missing_field", "year");
}

/* Validate one row (cells in full_hdr order) at level. */
static int
row(const char *const *cells, int level, struct assessment *a,
    struct input_err *e)
{
	char *h[NHDR], *c[NHDR];

	for (size_t i = 0; i < NHDR; i++) {
		h[i] = (char *)full_hdr[i];
		c[i] = (char *)cells[i];
	}
	memset(e, 0, sizeof(*e));
	return input_csv_assessment(h, c, NHDR, level, a, e);
}

static const char *const good_row[NHDR] = {"2025", "P-7", "Tr\xe1\xba\xa7n B",
    "1975", "farmer", "adult", "9", "8", "7", "10", "6", "9", "8", "9", "8",
    "5", "proficient"};

/* good_row with cell col replaced by val, validated at commune level. */
static int
row_with(int col, const char *val, struct assessment *a, struct input_err *e)
{
	const char *c[NHDR];

	memcpy(c, good_row, sizeof(c));
	c[col] = val;
	return row(c, LEVEL_COMMUNE, a, e);
}

static void
test_csv_row_valid(void **state)
{
	struct input_err e;
	struct assessment a;
	static const uint8_t sc[RULES_NSCORES] = {
	    9, 8, 7, 10, 6, 9, 8, 9, 8, 5};

	if (row(good_row, LEVEL_COMMUNE, &a, &e) != 0)
		fail_msg("good row: %s/%s: %s", e.code, e.field, e.message);
	fx_assert_assessment(&a, 2025, "P-7", "Tr\xe1\xba\xa7n B", 1975,
	    GROUP_FARMER, POP_ADULT, DIGITAL_PROFICIENT, sc);

	/* the columns in another order give the same assessment */
	{
		char *h[NHDR], *c[NHDR];
		struct assessment b;

		for (size_t i = 0; i < NHDR; i++) {
			h[i] = (char *)full_hdr[NHDR - 1 - i];
			c[i] = (char *)good_row[NHDR - 1 - i];
		}
		assert_int_equal(
		    input_csv_assessment(h, c, NHDR, LEVEL_COMMUNE, &b, &e), 0);
		assert_memory_equal(&b, &a, sizeof(a));
	}

	/* empty name and birth_year cells mean absent */
	{
		const char *c[NHDR];

		memcpy(c, good_row, sizeof(c));
		c[2] = "";
		c[3] = "";
		assert_int_equal(row(c, LEVEL_COMMUNE, &a, &e), 0);
		assert_string_equal(a.name, "");
		assert_int_equal(a.birth_year, 0);
	}

	/* labels and codes, blanks and ASCII case around a label ignored */
	{
		const char *c[NHDR];

		memcpy(c, good_row, sizeof(c));
		c[4] = " N\xc3\xb4ng d\xc3\xa2n "; /* nông dân */
		c[5] = "ng\xc6\xb0\xe1\xbb\x9di l\xe1\xbb\x9bn"; /* người lớn */
		c[16] = "th\xc3\xa0nh th\xe1\xba\xa1o k\xe1\xbb\xb9 "
		        "n\xc4\x83ng s\xe1\xbb\x91"; /* thành thạo kỹ năng số */
		assert_int_equal(row(c, LEVEL_COMMUNE, &a, &e), 0);
		fx_assert_assessment(&a, 2025, "P-7", "Tr\xe1\xba\xa7n B", 1975,
		    GROUP_FARMER, POP_ADULT, DIGITAL_PROFICIENT, sc);
	}
}

static void
test_csv_row_errors(void **state)
{
	static const struct {
		int col;
		const char *val, *field;
	} cases[] = {
	    {8, "x", "s3"},
	    {8, "", "s3"},
	    {8, "7.5", "s3"},
	    {8, "0x7", "s3"},
	    {8, "7 ", "s3"},
	    {15, "ten", "s10"},
	    {6, "", "s1"},
	    {0, "2021.0", "year"},
	    {0, "", "year"},
	    {0, "two thousand", "year"},
	    {0, "99999999999999999999", "year"},
	    {3, "19x0", "birth_year"},
	    {3, "1980.0", "birth_year"},
	    {2, "\xff\xfe", "name"},
	    {1, "P\xc3", "person_id"},
	    {4, "farm\xe9r", "group"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct input_err e;
		struct assessment a;

		if (row_with(cases[i].col, cases[i].val, &a, &e) != -1)
			fail_msg("row with %s=\"%s\" accepted",
			    full_hdr[cases[i].col], cases[i].val);
		assert_non_null(e.code);
		assert_string_equal(e.code, "invalid_field");
		assert_string_equal(e.field, cases[i].field);
		assert_true(strlen(e.message) > 0);
	}
}

/* Cells that read as their type but break a rule name the column. */
static void
test_csv_row_then_validation(void **state)
{
	static const struct {
		int col;
		const char *val, *code, *field, *message;
	} cases[] = {
	    {8, "11", "invalid_field", "s3", "s3 must be an integer 1..10"},
	    {15, "0", "invalid_field", "s10", "s10 must be an integer 1..10"},
	    {0, "2031", "invalid_field", "year", NULL},
	    {3, "2026", "invalid_field", "birth_year", NULL},
	    {4, "", "invalid_field", "group", NULL},
	    {5, "citizen", "invalid_field", "population", NULL},
	    {16, "", "invalid_field", "digital", NULL},
	    {1, "", "invalid_field", "person_id", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct input_err e;
		struct assessment a;

		assert_int_equal(
		    row_with(cases[i].col, cases[i].val, &a, &e), -1);
		assert_string_equal(e.code, cases[i].code);
		assert_string_equal(e.field, cases[i].field);
		if (cases[i].message != NULL)
			assert_string_equal(e.message, cases[i].message);
	}
	/* adults at a district, from CSV too */
	{
		struct input_err e;
		struct assessment a;

		assert_int_equal(row(good_row, LEVEL_DISTRICT, &a, &e), -1);
		assert_string_equal(e.code, "invalid_field");
		assert_string_equal(e.field, "population");
	}
}

/*
 * The object a row's cells stand for, built here on their own terms: an
 * integer column as a JSON integer (the cell's digits), an empty name or
 * birth_year left out, a label as its code (labels[] of this test), the
 * score columns as the scores array.  Only rows whose cells read as their
 * type (no cell-level error) are built.
 */
static json_t *
row_as_json(const char *const *cells)
{
	static const char *const labels[][2] = {
	    {" N\xc3\xb4ng d\xc3\xa2n ", "farmer"},
	    {"ng\xc6\xb0\xe1\xbb\x9di l\xe1\xbb\x9bn", "adult"},
	    {"Kh\xc3\xb4ng", "none"}, /* Không */
	};
	json_t *o = json_object(), *sc = json_array();

	for (size_t i = 0; i < NHDR; i++) {
		const char *col = full_hdr[i], *v = cells[i];

		if (col[0] == 's' && col[1] >= '0' && col[1] <= '9') {
			assert_int_equal(
			    json_array_append_new(sc, json_integer(atoll(v))),
			    0);
			continue;
		}
		if ((strcmp(col, "name") == 0 ||
		        strcmp(col, "birth_year") == 0) &&
		    v[0] == '\0')
			continue;
		if (strcmp(col, "year") == 0 ||
		    strcmp(col, "birth_year") == 0) {
			json_object_set_new(o, col, json_integer(atoll(v)));
			continue;
		}
		for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++)
			if (strcmp(v, labels[k][0]) == 0)
				v = labels[k][1];
		json_object_set_new(o, col, json_string_nocheck(v));
	}
	json_object_set_new(o, "scores", sc);
	return o;
}

/*
 * A row and the object of the same values: the same struct, or the same
 * error (code, field, message), a score named s3 in CSV for scores[2].
 */
static void
test_csv_same_as_json(void **state)
{
	static const struct {
		int col[3];
		const char *val[3];
	} cases[] = {
	    {{-1}, {NULL}}, {{2, 3, -1}, {"", ""}},
	    {{4, 5, 16},
	        {" N\xc3\xb4ng d\xc3\xa2n ",
	            "ng\xc6\xb0\xe1\xbb\x9di l\xe1\xbb\x9bn", "Kh\xc3\xb4ng"}},
	    {{5, -1}, {"staff"}}, {{0, -1}, {"2031"}}, {{0, -1}, {"2020"}},
	    {{0, 3, -1}, {"2022", "2022"}}, {{3, -1}, {"2026"}},
	    {{3, -1}, {"1899"}}, {{3, -1}, {"1900"}}, {{1, -1}, {""}},
	    {{1, -1}, {"P\x01Q"}},
	    {{1, -1}, {"0123456789012345678901234567890123456789012345678901234"
	               "5678901234"}},
	    {{2, -1}, {"A\tB"}}, {{4, -1}, {"citizen"}}, {{4, -1}, {"Farmer"}},
	    {{5, -1}, {""}}, {{16, -1}, {"expert"}},
	    {{6, 7, 8}, {" 7", "+7", "007"}}, /* as strtoll reads them */
	    {{9, 0, -1}, {"0000000000000000007", "0002025"}}, {{6, -1}, {"0"}},
	    {{15, -1}, {"11"}},
	    {{10, 7, -1}, {"0", "11"}},   /* s5 and s2: s2 first */
	    {{0, 15, -1}, {"1999", "0"}}, /* year before scores */
	    {{4, 3, -1}, {"x", "1800"}},  /* birth_year before group */
	    {{16, 5, -1}, {"x", "x"}},    /* population before digital */
	};
	char name[RULES_NAME_MAX + 2];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) + 1; i++) {
		for (int level = LEVEL_COMMUNE; level <= LEVEL_DISTRICT;
		     level++) {
			const char *c[NHDR];
			struct assessment a, b;
			struct input_err e, f;
			json_t *o;
			int rc, rj;

			memcpy(c, good_row, sizeof(c));
			if (i < sizeof(cases) / sizeof(cases[0]))
				for (int k = 0; k < 3 && cases[i].col[k] >= 0;
				     k++)
					c[cases[i].col[k]] = cases[i].val[k];
			else
				c[2] = name; /* a name one byte too long */
			o = row_as_json(c);
			memset(&a, 0xa5, sizeof(a));
			memset(&b, 0x5a, sizeof(b));
			rc = row(c, level, &a, &e);
			memset(&f, 0, sizeof(f));
			rj = input_assessment(o, level, &b, &f);
			json_decref(o);
			if (rc != rj)
				fail_msg("case %zu level %d: csv %d, json %d "
				         "(%s / %s)",
				    i, level, rc, rj, rc ? e.message : "",
				    rj ? f.message : "");
			if (rc == 0) {
				assert_memory_equal(&a, &b, sizeof(a));
				continue;
			}
			assert_string_equal(e.code, f.code);
			if (strncmp(f.field, "scores[", 7) == 0) {
				char fld[16], msg[64];
				int si = atoi(f.field + 7);

				snprintf(fld, sizeof(fld), "s%d", si + 1);
				snprintf(msg, sizeof(msg),
				    "s%d must be an integer 1..10", si + 1);
				assert_string_equal(e.field, fld);
				assert_string_equal(e.message, msg);
			} else {
				assert_string_equal(e.field, f.field);
				assert_string_equal(e.message, f.message);
			}
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Population. */

static void
test_population(void **state)
{
	int64_t den[RECORDS_NPOP];
	struct input_err e;
	json_t *o;

	o = parse("{\"adults\": 400, \"staff\": 55, \"families_total\": 120, "
	          "\"families_recognized\": 90, \"clans_total\": 12, "
	          "\"clans_recognized\": 8, \"communities_total\": 6, "
	          "\"communities_recognized\": 5, \"units_total\": 20, "
	          "\"units_recognized\": 17, \"members_total\": 33, "
	          "\"members_trained\": 33}");
	memset(den, 0x55, sizeof(den));
	assert_int_equal(input_population(o, den, &e), 0);
	{
		static const int64_t want[RECORDS_NPOP] = {
		    400, 55, 120, 90, 12, 8, 6, 5, 20, 17, 33, 33};

		assert_memory_equal(den, want, sizeof(want));
	}
	json_decref(o);

	/* fields left out are 0 */
	o = parse("{\"staff\": 7}");
	memset(den, 0x55, sizeof(den));
	assert_int_equal(input_population(o, den, &e), 0);
	for (int i = 0; i < RECORDS_NPOP; i++)
		assert_int_equal(den[i], i == 1 ? 7 : 0);
	json_decref(o);

	{
		static const struct {
			const char *json, *code, *field;
		} bad[] = {
		    {"{\"adult\": 1}", "unknown_field", "adult"},
		    {"{\"adults\": -1}", "invalid_field", "adults"},
		    {"{\"adults\": 1.5}", "invalid_field", "adults"},
		    {"{\"adults\": 100.0}", "invalid_field", "adults"},
		    {"{\"adults\": \"100\"}", "invalid_field", "adults"},
		    {"{\"staff\": true}", "invalid_field", "staff"},
		    {"{\"staff\": null}", "invalid_field", "staff"},
		    {"{\"families_total\": 5, \"families_recognized\": 6}",
		        "invalid_field", "families_recognized"},
		    {"{\"clans_recognized\": 1}", "invalid_field",
		        "clans_recognized"},
		    {"{\"members_total\": 10, \"members_trained\": 11}",
		        "invalid_field", "members_trained"},
		    {"{\"units_total\": 10, \"units_recognized\": 11}",
		        "invalid_field", "units_recognized"},
		    {"{\"communities_total\": 0, \"communities_recognized\": "
		     "1}",
		        "invalid_field", "communities_recognized"},
		    {"[1]", "bad_request", ""},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			o = parse(bad[i].json);
			memset(&e, 0, sizeof(e));
			if (input_population(o, den, &e) != -1 ||
			    strcmp(e.code, bad[i].code) != 0 ||
			    strcmp(e.field, bad[i].field) != 0)
				fail_msg("%s: got %s/%s, want %s/%s",
				    bad[i].json, e.code ? e.code : "-", e.field,
				    bad[i].code, bad[i].field);
			json_decref(o);
		}
	}
}

/* input_assessment_text against json_loadb + input_assessment on body:
 * whatever the first accepts, the second accepts into the same struct.
 * Returns whether the first accepted. */
static int
text_vs_json(const char *body, size_t len, int level)
{
	struct assessment fa, ja;
	struct input_err e;
	json_error_t jerr;
	json_t *doc;
	int r = input_assessment_text(body, len, level, &fa);

	assert_true(r == 0 || r == 1);
	if (r != 0)
		return 0;
	doc = json_loadb(
	    body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc == NULL)
		fail_msg("read without jansson, refused by it (%s): %.*s",
		    jerr.text, (int)len, body);
	if (input_assessment(doc, level, &ja, &e) != 0)
		fail_msg("read without jansson, refused by input_assessment "
		         "(%s): %.*s",
		    e.message, (int)len, body);
	json_decref(doc);
	assert_memory_equal(&fa, &ja, sizeof(fa));
	return 1;
}

/* The plain forms the fast path must read, and every one-byte deletion,
 * replacement and insertion of them, through text_vs_json. */
static void
test_text_same_as_json(void **state)
{
	static const char chars[] = {'"', '\\', ',', ':', '{', '}', '[', ']',
	    ' ', '\n', '\t', '\r', '\f', '\v', '0', '1', '9', '-', '.', 'e',
	    'n', 'a', 0x00, 0x1f, 0x7f, (char)0x80, (char)0xc3, (char)0xe1,
	    (char)0xed, (char)0xf4, (char)0xff};
	char plain[4][512], buf[600];
	int levels[4] = {
	    LEVEL_COMMUNE, LEVEL_COMMUNE, LEVEL_COMMUNE, LEVEL_PROVINCE};
	size_t accepted = 0, tried = 0;

	(void)state;
	snprintf(plain[0], sizeof(plain[0]),
	    "{\"year\":2026,\"person_id\":\"x1-17\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,10,8,9,10,8,9,10,8],"
	    "\"digital\":\"skilled\"}");
	snprintf(plain[1], sizeof(plain[1]),
	    "{ \"year\" : 2025 ,\n \"person_id\":\"001085012345\", "
	    "\"name\":\"Nguy\xe1\xbb\x85n V\xc4\x83n A\", \"birth_year\":1980,"
	    " \"group\":\"official\",\t\"population\":\"adult\", "
	    "\"scores\":[ 9, 8, 7, 10, 6, 9, 8, 9, 8, 7 ], "
	    "\"digital\":\"proficient\" }\r\n");
	snprintf(plain[2], sizeof(plain[2]),
	    "{\"digital\":\"none\",\"scores\":[1,1,1,1,1,1,1,1,1,1],"
	    "\"population\":\"adult\",\"group\":\"worker\",\"birth_year\":null,"
	    "\"name\":null,\"person_id\":\"P/"
	    "\xf0\x9f\x98\x80\",\"year\":2021}");
	snprintf(plain[3], sizeof(plain[3]),
	    "{\"year\":2030,\"person_id\":\"cb-9\",\"name\":\"\","
	    "\"group\":\"manager\",\"population\":\"%s\","
	    "\"scores\":[10,10,10,10,10,10,10,10,10,10],"
	    "\"digital\":\"skilled\"}",
	    rules_population_names[1]);
	for (int b = 0; b < 4; b++) {
		size_t n = strlen(plain[b]);

		assert_int_equal(text_vs_json(plain[b], n, levels[b]), 1);
		for (size_t i = 0; i <= n; i++) {
			/* deletion, then each replacement and insertion */
			if (i < n) {
				memcpy(buf, plain[b], i);
				memcpy(buf + i, plain[b] + i + 1, n - i - 1);
				accepted +=
				    (size_t)text_vs_json(buf, n - 1, levels[b]);
				tried++;
			}
			for (size_t c = 0; c < sizeof(chars); c++) {
				if (i < n) {
					memcpy(buf, plain[b], n);
					buf[i] = chars[c];
					accepted += (size_t)text_vs_json(
					    buf, n, levels[b]);
				}
				memcpy(buf, plain[b], i);
				buf[i] = chars[c];
				memcpy(buf + i + 1, plain[b] + i, n - i);
				accepted +=
				    (size_t)text_vs_json(buf, n + 1, levels[b]);
				tried += 2;
			}
		}
	}
	/* every prefix, in a buffer of exactly its length (a read past the
	 * end is out of bounds under the sanitizers) */
	for (int b = 0; b < 4; b++)
		for (size_t n = 0; n <= strlen(plain[b]); n++) {
			char *exact = malloc(n ? n : 1);

			assert_non_null(exact);
			memcpy(exact, plain[b], n);
			accepted += (size_t)text_vs_json(exact, n, levels[b]);
			free(exact);
		}
	/* some mutations stay plain and valid (a digit for a digit, a
	 * space), most do not */
	assert_true(accepted > 100);
	assert_true(accepted < tried / 2);
}

/* Valid JSON the fast path leaves to jansson, and invalid input: 1. */
static void
test_text_declines(void **state)
{
	static const char *const bodies[] = {
	    /* valid, not plain: an escape, a repeated or unknown field */
	    "{\"year\":2026,\"person_id\":\"a\\u0041\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"year\":2026,\"person_id\":\"a\",\"group\":"
	    "\"farmer\",\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,"
	    "8,9],\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"x\":1,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    /* a real, a leading zero, a sign, an exponent */
	    "{\"year\":2026.0,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":02026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[-8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2e3,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    /* integers of 10 and 20 digits (jansson: too big past int64) */
	    "{\"year\":0000002026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":18446744073709553642,\"person_id\":\"a\",\"group\":"
	    "\"farmer\",\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,"
	    "9,8,9],\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,"
	    "1000000009],\"digital\":\"skilled\"}",
	    /* eleven scores; a field missing; the wrong type */
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9,1],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9]}",
	    "{\"year\":\"2026\",\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    /* a rule broken: the year, a score, adults above a commune */
	    "{\"year\":1999,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,11],"
	    "\"digital\":\"skilled\"}",
	    /* not UTF-8: a stray continuation, an overlong slash, a
	     * surrogate, past U+10FFFF */
	    "{\"year\":2026,\"person_id\":\"a\",\"name\":\"\xc3\x28\","
	    "\"group\":\"farmer\",\"population\":\"adult\",\"scores\":[8,9,8,9,"
	    "8,9,8,9,8,9],\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"\xc0\xaf\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"\xed\xa0\x80\",\"group\":"
	    "\"farmer\",\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,"
	    "8,9],\"digital\":\"skilled\"}",
	    "{\"year\":2026,\"person_id\":\"\xf4\x90\x80\x80\",\"group\":"
	    "\"farmer\",\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,"
	    "8,9],\"digital\":\"skilled\"}",
	    /* an array, trailing bytes, nothing */
	    "[{\"year\":2026}]",
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}x",
	    "",
	};
	struct assessment a;
	char word[64], body[256];

	(void)state;
	/* enum values of 31, 32 and 33 bytes (the reader's buffer is 32) */
	for (size_t n = 31; n <= 33; n++) {
		memset(word, 'f', n);
		word[n] = '\0';
		snprintf(body, sizeof(body),
		    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"%s\","
		    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,"
		    "9],\"digital\":\"skilled\"}",
		    word);
		assert_int_equal(input_assessment_text(
		                     body, strlen(body), LEVEL_COMMUNE, &a),
		    1);
	}
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		if (input_assessment_text(
		        bodies[i], strlen(bodies[i]), LEVEL_COMMUNE, &a) != 1)
			fail_msg("accepted: %s", bodies[i]);
	/* the adult above a commune */
	const char *adult =
	    "{\"year\":2026,\"person_id\":\"a\",\"group\":\"farmer\","
	    "\"population\":\"adult\",\"scores\":[8,9,8,9,8,9,8,9,8,9],"
	    "\"digital\":\"skilled\"}";
	assert_int_equal(
	    input_assessment_text(adult, strlen(adult), LEVEL_PROVINCE, &a), 1);
	assert_int_equal(
	    input_assessment_text(adult, strlen(adult), LEVEL_COMMUNE, &a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_scores),
	    cmocka_unit_test(test_unknown_fields),
	    cmocka_unit_test(test_person_id_and_name),
	    cmocka_unit_test(test_valid_pid),
	    cmocka_unit_test(test_csv_header),
	    cmocka_unit_test(test_csv_row_valid),
	    cmocka_unit_test(test_csv_row_errors),
	    cmocka_unit_test(test_csv_row_then_validation),
	    cmocka_unit_test(test_csv_same_as_json),
	    cmocka_unit_test(test_text_same_as_json),
	    cmocka_unit_test(test_text_declines),
	    cmocka_unit_test(test_population),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
