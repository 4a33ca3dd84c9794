/*
 * test_jsonw.c: daemon/jsonw.c, the direct JSON writer the large API
 * documents are written with, against jansson's json_dumps (JSON_COMPACT |
 * JSON_REAL_PRECISION(10), what api_send_json prints) as the independent
 * expectation: strings (every ASCII byte, controls, quotes, UTF-8 of each
 * length), integers (the int64 edges, every power of ten and its
 * neighbours), reals (every hundredth a percent can be, the slow path's
 * exponents and the values that are not hundredths), random nested
 * documents built both ways, the raw cursor, and the failures (nesting,
 * non-finite reals, a key without its value), the large buffers that
 * are mappings of their own (grown past 1 MiB) and the spare one kept of
 * them for the next, and integers at the raw cursor.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY)

/* jansson's text of v (v consumed). */
static char *
dumps(json_t *v)
{
	char *s;

	assert_non_null(v);
	s = json_dumps(v, DUMP_FLAGS);
	json_decref(v);
	assert_non_null(s);
	return s;
}

/* The writer's text (w consumed); the caller frees it with
 * jsonw_text_free. */
static char *
take(struct jsonw *w)
{
	size_t len = 0;
	char *s = jsonw_take(w, &len);

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

static void
expect_same(struct jsonw *w, json_t *v)
{
	char *a = take(w), *b = dumps(v);

	if (strcmp(a, b) != 0)
		fail_msg("writer %s\njansson %s", a, b);
	jsonw_text_free(a);
	free(b);
}

static void
check_string(const char *s, size_t n)
{
	struct jsonw w;

	jsonw_init(&w, 0);
	jsonw_strn(&w, s, n);
	expect_same(&w, json_stringn(s, n));
}

static void
test_strings(void **state)
{
	static const char *const utf8[] = {"Việt Nam", "Tỉnh Sơn La",
	    "Phường Tô Hiệu", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
	    "\xef\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80",
	    "\xf4\x8f\xbf\xbf", "a\"b\\c/d\x7f", "\b\f\n\r\t\x01\x1f",
	    "\xe2\x80\xa8\xe2\x80\xa9", ""};
	char one[2] = {0, 0};

	(void)state;
	for (int c = 1; c < 128; c++) {
		one[0] = (char)c;
		check_string(one, 1);
	}
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		check_string(utf8[i], strlen(utf8[i]));
	/* an embedded NUL: jansson writes \u0000 */
	check_string("a\0b", 3);
}

/* Bytes jansson refuses as a string become U+FFFD, one per byte. */
static void
test_invalid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"a\x80z", "\"a\xef\xbf\xbdz\""},
	    {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""}, /* overlong */
	    {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {"\xf4\x90\x80\x80", /* above U+10FFFF */
	        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {"x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\""}, /* truncated */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jsonw w;
		char *s;

		assert_null(json_string(cases[i].in));
		jsonw_init(&w, 0);
		jsonw_str(&w, cases[i].in);
		s = take(&w);
		assert_string_equal(s, cases[i].out);
		jsonw_text_free(s);
	}
}

static void
check_int(int64_t v)
{
	struct jsonw w;
	char buf[32], mine[32];

	jsonw_init(&w, 0);
	jsonw_int(&w, v);
	expect_same(&w, json_integer((json_int_t)v));
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	mine[jsonw_fmt_int(mine, v)] = '\0';
	assert_string_equal(mine, buf);
}

static void
test_integers(void **state)
{
	int64_t p = 1;

	(void)state;
	check_int(0);
	check_int(INT64_MAX);
	check_int(INT64_MIN);
	check_int(INT64_MIN + 1);
	for (int i = 0; i < 19; i++) {
		check_int(p);
		check_int(p - 1);
		check_int(p + 1);
		check_int(-p);
		check_int(-p + 1);
		check_int(-p - 1);
		if (i < 18)
			p *= 10; /* 10^18 is the last power below INT64_MAX */
	}
	srand(12);
	for (int i = 0; i < 20000; i++)
		check_int(
		    (int64_t)(((uint64_t)rand() << 33) ^
		              ((uint64_t)rand() << 8) ^ (uint64_t)rand()));
	{
		struct jsonw w;

		jsonw_init(&w, 0);
		jsonw_uint(&w, UINT64_MAX);
		char *s = take(&w);
		assert_string_equal(s, "18446744073709551615");
		jsonw_text_free(s);
	}
}

static void
check_real(double v)
{
	struct jsonw w;

	jsonw_init(&w, 0);
	jsonw_real(&w, v);
	expect_same(&w, json_real(v));
}

static void
test_reals(void **state)
{
	static const double odd[] = {0.1, 0.001, 0.0001, 0.00001, 1e-7,
	    123.456789012345, 1.0 / 3, 2.0 / 3, 99.995, 1e7, 1e9, 1e10,
	    12345678901.5, 1e15, 1e16, 1e17, 1e20, 1e100, 1e300, 5e-324,
	    2.2250738585072014e-308, 1.7976931348623157e308, 9999999.99,
	    10000000.01, -0.0, -1e-5, -123.456, 4503599627370496.5};

	(void)state;
	/* every percent rules.c can make up to 10^6 %, both signs */
	for (int64_t bp = 0; bp <= 100000000; bp += bp < 200000 ? 1 : 997) {
		check_real((double)bp / 100.0);
		check_real(-(double)bp / 100.0);
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		check_real(odd[i]);
		check_real(-odd[i]);
	}
	srand(7);
	for (int i = 0; i < 20000; i++) {
		double v = ldexp((double)rand() / RAND_MAX, rand() % 200 - 100);
		check_real(v);
	}
}

static void
test_nonfinite_fails(void **state)
{
	struct jsonw w;

	(void)state;
	assert_null(json_real(NAN)); /* jansson: no such real either */
	jsonw_init(&w, 0);
	jsonw_arr_begin(&w);
	jsonw_real(&w, NAN);
	jsonw_arr_end(&w);
	assert_true(jsonw_failed(&w));
	assert_null(jsonw_take(&w, NULL));
	jsonw_init(&w, 0);
	jsonw_real(&w, INFINITY);
	assert_null(jsonw_take(&w, NULL));
}

/* A random value written both ways: to w and as a jansson tree. */
static json_t *
gen(struct jsonw *w, int depth)
{
	static const char *const strs[] = {"", "x", "Xã Đơn vị 00004",
	    "q\"uo\\te", "tab\there", "nl\n", "\x01\x02", "2030", "€"};
	int kind = rand() % (depth > 4 ? 6 : 8);
	json_t *v;

	switch (kind) {
	case 0:
		jsonw_null(w);
		return json_null();
	case 1:
		jsonw_bool(w, kind & 1);
		return json_true();
	case 2: {
		int64_t i = ((int64_t)rand() << 32) ^ rand();
		jsonw_int(w, i);
		return json_integer(i);
	}
	case 3: {
		double d = (double)(rand() % 1000000) / 100.0;
		jsonw_real(w, d);
		return json_real(d);
	}
	case 4:
	case 5: {
		const char *s = strs[rand() % 9];
		jsonw_str(w, s);
		return json_string(s);
	}
	case 6: {
		int n = rand() % 5;
		v = json_array();
		jsonw_arr_begin(w);
		for (int i = 0; i < n; i++)
			json_array_append_new(v, gen(w, depth + 1));
		jsonw_arr_end(w);
		return v;
	}
	default: {
		int n = rand() % 5;
		v = json_object();
		jsonw_obj_begin(w);
		for (int i = 0; i < n; i++) {
			char key[32];
			snprintf(key, sizeof(key), "k%d\"%d", i, rand() % 10);
			jsonw_key_str(w, key);
			json_object_set_new(v, key, gen(w, depth + 1));
		}
		jsonw_obj_end(w);
		return v;
	}
	}
}

static void
test_random_documents(void **state)
{
	(void)state;
	srand(2026);
	for (int i = 0; i < 3000; i++) {
		struct jsonw w;
		json_t *v;

		jsonw_init(&w, 0);
		v = gen(&w, 0);
		expect_same(&w, v);
	}
}

/* Keys, commas, the raw cursor and a writer's body spliced into
 * another, against a literal. */
static void
test_structure(void **state)
{
	struct jsonw w, l;
	char *o, *s;

	(void)state;
	jsonw_init(&l, 0); /* a list body: commas at its top level */
	jsonw_str(&l, "a");
	jsonw_str(&l, "b");
	jsonw_init(&w, 0);
	jsonw_obj_begin(&w);
	JSONW_KEY(&w, "n");
	jsonw_int(&w, -5);
	JSONW_KEY(&w, "list");
	jsonw_value_raw(&w, "[", 1);
	jsonw_raw(&w, l.buf, l.len);
	jsonw_raw(&w, "]", 1);
	JSONW_KEY(&w, "empty");
	jsonw_arr_begin(&w);
	jsonw_arr_end(&w);
	JSONW_KEY(&w, "raw");
	jsonw_arr_begin(&w);
	for (int i = 0; i < 3; i++) {
		o = jsonw_open_raw(&w, 64);
		assert_non_null(o);
		o = JSONW_LIT(o, "{\"i\":");
		o = jsonw_put_int(o, i);
		*o++ = '}';
		jsonw_close_raw(&w, o);
	}
	jsonw_arr_end(&w);
	JSONW_KEY(&w, "o");
	jsonw_obj_begin(&w);
	jsonw_obj_end(&w);
	JSONW_KEY(&w, "s");
	jsonw_str_or_null(&w, NULL);
	jsonw_obj_end(&w);
	jsonw_free(&l);
	s = take(&w);
	assert_string_equal(s, "{\"n\":-5,\"list\":[\"a\",\"b\"],\"empty\":[],"
	                       "\"raw\":[{\"i\":0},{\"i\":1},{\"i\":2}],"
	                       "\"o\":{},\"s\":null}");
	jsonw_text_free(s);
}

static void
test_misuse_fails(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w, 0); /* nesting beyond JSONW_MAX_DEPTH */
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(&w);
	assert_true(jsonw_failed(&w));
	jsonw_free(&w);
	jsonw_init(&w, 0); /* exactly JSONW_MAX_DEPTH is fine */
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(&w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_end(&w);
	assert_false(jsonw_failed(&w));
	jsonw_text_free(take(&w));
	jsonw_init(&w, 0); /* a close without an open */
	jsonw_obj_end(&w);
	assert_null(jsonw_take(&w, NULL));
	jsonw_init(&w, 0); /* a key without its value */
	jsonw_obj_begin(&w);
	JSONW_KEY(&w, "k");
	jsonw_obj_end(&w);
	assert_null(jsonw_take(&w, NULL));
	jsonw_init(&w, 0); /* a container left open */
	jsonw_arr_begin(&w);
	assert_null(jsonw_take(&w, NULL));
	jsonw_text_free(NULL);
}

/* Past 1 MiB the buffer is a mapping (grown by mremap): the text is still
 * every byte written, as jansson prints the same array. */
static void
test_large(void **state)
{
	struct jsonw w;
	json_t *v = json_array();

	(void)state;
	for (size_t hint = 0; hint <= ((size_t)8 << 20); hint += 8 << 20) {
		jsonw_init(&w, hint);
		jsonw_arr_begin(&w);
		for (int i = 0; i < 300000; i++) {
			char s[32];

			snprintf(s, sizeof(s), "Xã %d \"q\"", i);
			jsonw_str(&w, s);
			if (hint == 0)
				json_array_append_new(v, json_string(s));
		}
		jsonw_arr_end(&w);
		expect_same(&w, json_incref(v));
	}
	json_decref(v);
}

/* A large document written into w: n strings "a<i>", as an array. */
static void
fill(struct jsonw *w, int n)
{
	jsonw_arr_begin(w);
	for (int i = 0; i < n; i++) {
		char s[24];

		snprintf(s, sizeof(s), "a%d", i);
		jsonw_str(w, s);
	}
	jsonw_arr_end(w);
}

/* Its text, checked element by element. */
static void
check_fill(const char *text, int n)
{
	const char *p = text;

	assert_int_equal(*p++, '[');
	for (int i = 0; i < n; i++) {
		char s[32];
		int l = snprintf(s, sizeof(s), "%s\"a%d\"", i ? "," : "", i);

		assert_memory_equal(p, s, (size_t)l);
		p += l;
	}
	assert_string_equal(p, "]");
}

/*
 * The spare: a large text freed is kept and is the next large buffer
 * (the same memory, none mapped anew), whatever it held before; one too
 * small for the next is replaced; jsonw_spare_release unmaps it and
 * counts the large buffers still in use; small texts never become it.
 */
static void
test_spare(void **state)
{
	struct jsonw w, w2;
	char *a, *b, *c;
	size_t len;

	(void)state;
	jsonw_spare_release();
	assert_int_equal(jsonw_spare_held(), 0);
	jsonw_init(&w, 0);
	fill(&w, 10);
	a = jsonw_take(&w, &len);
	jsonw_text_free(a);
	assert_int_equal(jsonw_spare_held(), 0); /* a small one: freed */

	jsonw_init(&w, 0);
	fill(&w, 400000); /* grown past 1 MiB: a mapping */
	assert_int_equal(jsonw_spare_held(), 1);
	a = jsonw_take(&w, &len);
	check_fill(a, 400000);
	assert_int_equal(jsonw_spare_release(), 1); /* a, in use */
	jsonw_text_free(a);
	assert_int_equal(jsonw_spare_held(), 1); /* a is the spare */

	/* the next large buffer is a's memory, from its start */
	jsonw_init(&w, (size_t)2 << 20);
	b = w.buf;
	assert_ptr_equal(b, a);
	fill(&w, 1000);
	c = jsonw_take(&w, &len);
	assert_ptr_equal(c, b);
	check_fill(c, 1000);
	/* while c is in use, another large one maps its own */
	jsonw_init(&w2, (size_t)2 << 20);
	assert_ptr_not_equal(w2.buf, c);
	fill(&w2, 100);
	assert_int_equal(jsonw_spare_release(), 2);
	jsonw_free(&w2);
	jsonw_text_free(c);

	/* grown within a spare larger than asked, then past it */
	jsonw_init(&w, (size_t)1 << 20);
	fill(&w, 2000000);
	a = jsonw_take(&w, &len);
	check_fill(a, 2000000);
	jsonw_text_free(a);
	assert_int_equal(jsonw_spare_release(), 0);
	assert_int_equal(jsonw_spare_held(), 0);
}

/* jsonw_put_int (its inline 0..99) at the cursor, against printf, with
 * nothing written past the digits. */
static void
test_put_int(void **state)
{
	char buf[40], want[32];

	(void)state;
	for (int64_t v = -1200; v <= 100000; v++) {
		char *end;
		int n = snprintf(want, sizeof(want), "%" PRId64, v);

		memset(buf, '#', sizeof(buf));
		end = jsonw_put_int(buf, v);
		assert_int_equal(end - buf, n);
		assert_memory_equal(buf, want, (size_t)n);
		assert_int_equal(buf[n], '#');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_reals),
	    cmocka_unit_test(test_nonfinite_fails),
	    cmocka_unit_test(test_random_documents),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_misuse_fails),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_spare),
	    cmocka_unit_test(test_put_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
