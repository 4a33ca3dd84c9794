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
 * them for the next, and integers at the raw cursor.  The sink
 * (jsonw_set_sink): a document streamed in pieces is, pieces then rest,
 * the same bytes as written whole (random documents from a few bytes to
 * several MiB, raw writes around the piece boundaries against a model of
 * where each piece ends, a string larger than a piece), pieces in order
 * and never over JSONW_PIECE - 1 bytes but for a grown one; a failing
 * sink fails the writer and owns its piece; the piece pool (the next
 * document takes the freed pieces, jsonw_spare_release lets them go).
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

/* -- the sink (jsonw_set_sink): a document streamed in pieces -------- */

/* What a sink saw: every piece's bytes in a row, each piece's length and
 * address; keep: hold the pieces (freed by sink_rec_done) instead of
 * freeing each at once; fail_at: the piece (0: the first) that answers
 * -1, or -1 for none. */
#define REC_MAX 4096
struct sink_rec {
	char *text;
	size_t len, cap;
	int n;
	size_t lens[REC_MAX];
	char *addr[REC_MAX];
	int keep, fail_at;
	int calls_after_fail;
	struct jsonw *w; /* the writer: its state when a piece arrives */
	size_t at_call_wlen[REC_MAX];
};

static int
rec_sink(void *arg, char *text, size_t len)
{
	struct sink_rec *r = arg;
	int fail;

	assert_non_null(text);
	assert_true(r->n < REC_MAX);
	if (r->fail_at >= 0 && r->n > r->fail_at)
		r->calls_after_fail++;
	if (r->len + len + 1 > r->cap) {
		while (r->len + len + 1 > r->cap)
			r->cap = r->cap ? 2 * r->cap : 4096;
		r->text = realloc(r->text, r->cap);
		assert_non_null(r->text);
	}
	memcpy(r->text + r->len, text, len);
	r->len += len;
	r->text[r->len] = '\0';
	r->lens[r->n] = len;
	r->addr[r->n] = text;
	/* the writer has let go of it: its buffer is another one, empty */
	if (r->w != NULL) {
		assert_ptr_not_equal(r->w->buf, text);
		r->at_call_wlen[r->n] = r->w->len;
	}
	fail = r->fail_at == r->n;
	r->n++;
	if (!r->keep)
		jsonw_text_free(text); /* the sink's, even when it fails */
	else if (fail) {
		/* kept too: the writer must not free it (ASan: double free) */
	}
	return fail ? -1 : 0;
}

static void
rec_init(struct sink_rec *r, struct jsonw *w, int keep, int fail_at)
{
	memset(r, 0, sizeof(*r));
	r->keep = keep;
	r->fail_at = fail_at;
	r->w = w;
}

static void
rec_done(struct sink_rec *r)
{
	if (r->keep)
		for (int i = 0; i < r->n; i++)
			jsonw_text_free(r->addr[i]);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* A streamed writer: w fresh, its pieces to r. */
static void
stream_init(
    struct jsonw *w, struct sink_rec *r, size_t hint, int keep, int fail_at)
{
	jsonw_init(w, hint);
	rec_init(r, w, keep, fail_at);
	jsonw_set_sink(w, rec_sink, r);
	assert_false(jsonw_failed(w));
	assert_true(jsonw_streamed(w));
	assert_int_equal(w->cap, JSONW_PIECE);
	assert_int_equal(w->len, 0);
}

/*
 * The streamed text (pieces, then jsonw_take's rest) is want, byte for
 * byte; every piece is non-empty and, as a piece gives up its place only
 * when a write finds no room, holds at most JSONW_PIECE - 1 bytes (one is
 * always left: jsonw_reserve wants cap - len > n) unless it is a buffer
 * grown for a value larger than a piece (big: such values were written;
 * then the piece is at most that buffer's room).  The writer's buffer is
 * empty when each piece arrives.  Returns the number of pieces.
 */
static int
expect_streamed(struct jsonw *w, struct sink_rec *r, const char *want,
    size_t want_len, int big)
{
	size_t rest_len = 0;
	char *rest = jsonw_take(w, &rest_len);
	int n = r->n;

	assert_non_null(rest);
	assert_int_equal(strlen(rest), rest_len);
	assert_int_equal(r->len + rest_len, want_len);
	if (memcmp(r->text ? r->text : "", want, r->len) != 0 ||
	    memcmp(rest, want + r->len, rest_len) != 0) {
		size_t i = 0;
		const char *got = r->text ? r->text : "";

		while (i < r->len && got[i] == want[i])
			i++;
		fail_msg("streamed text differs at byte %zu of %zu (%d pieces, "
		         "rest %zu)",
		    i, want_len, n, rest_len);
	}
	if (!big) /* the rest too, with room for its NUL */
		assert_true(rest_len <= JSONW_PIECE - 2);
	for (int i = 0; i < n; i++) {
		assert_true(r->lens[i] > 0);
		if (!big)
			assert_true(r->lens[i] <= JSONW_PIECE - 1);
		assert_int_equal(r->at_call_wlen[i], 0);
	}
	jsonw_text_free(rest);
	return n;
}

/* The same random document (seed) written without a sink, checked against
 * jansson, then with one: the same bytes.  count: top-level array
 * elements. */
static size_t
random_streamed(unsigned seed, int count, int keep)
{
	struct jsonw w;
	struct sink_rec r;
	json_t *v = json_array();
	char *plain, *j;
	size_t plain_len;
	int n;

	srand(seed);
	jsonw_init(&w, 0);
	jsonw_arr_begin(&w);
	for (int i = 0; i < count; i++)
		json_array_append_new(v, gen(&w, 1));
	jsonw_arr_end(&w);
	plain = jsonw_take(&w, &plain_len);
	assert_non_null(plain);
	j = dumps(v);
	assert_string_equal(plain, j); /* the plain text is right */
	free(j);

	srand(seed);
	stream_init(&w, &r, 0, keep, -1);
	jsonw_arr_begin(&w);
	for (int i = 0; i < count; i++)
		json_decref(gen(&w, 1)); /* the same values, from the seed */
	jsonw_arr_end(&w);
	n = expect_streamed(&w, &r, plain, plain_len, 0);
	/* pieces in order and streamed as written: as many as the text
	 * needs (each short of a full piece by less than the largest write,
	 * here a few hundred bytes at most) */
	assert_true((size_t)n <= plain_len / (JSONW_PIECE - 4096));
	assert_true((size_t)(n + 1) * (JSONW_PIECE - 2) >= plain_len);
	for (int i = 0; i < n; i++)
		assert_true(r.lens[i] >= JSONW_PIECE - 4096);
	rec_done(&r);
	jsonw_text_free(plain);
	return plain_len;
}

/* Random documents from a few bytes to several MiB: streamed, the same
 * text as written whole (and as jansson prints it). */
static void
test_sink_random(void **state)
{
	static const int counts[] = {
	    0, 1, 5, 100, 1000, 3000, 5000, 20000, 60000, 600000};
	size_t big = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t len = random_streamed(7000 + (unsigned)i, counts[i], 0);

		big = len > big ? len : big;
	}
	for (unsigned s = 0; s < 40; s++) /* around one piece or two */
		(void)random_streamed(100 + s, 2000 + rand() % 8000, s & 1);
	assert_true(big > ((size_t)4 << 20)); /* several MiB were streamed */
	assert_int_equal(jsonw_spare_release(), 0); /* no piece left live */
}

/*
 * Raw writes of one size s, total bytes in all: the pieces are exactly
 * what the contract predicts (a piece goes when a write of s finds
 * cap - len <= s: each piece is the largest multiple of s below
 * JSONW_PIECE; jsonw_take's reserve of 1 may send one more, leaving an
 * empty rest), the model below computed independently of the writer.
 */
static void
check_raw_sizes(size_t s, size_t total)
{
	struct jsonw w;
	struct sink_rec r;
	char *want = malloc(total + 1);
	size_t per = (JSONW_PIECE - 1) / s * s, len = 0, off = 0;
	size_t model[REC_MAX];
	int nm = 0;

	assert_non_null(want);
	for (size_t i = 0; i < total; i++)
		want[i] = (char)('a' + (i * 7 + i / 13) % 26);
	want[total] = '\0';
	assert_int_equal(total % s, 0);
	/* the model: pieces of `per` bytes as the writes go, then the NUL's
	 * byte of jsonw_take */
	for (size_t k = 0; k < total / s; k++) {
		if (JSONW_PIECE - len <= s) {
			model[nm++] = len;
			len = 0;
		}
		len += s;
	}
	if (JSONW_PIECE - len <= 1 && len > 0)
		model[nm++] = len;
	stream_init(&w, &r, 0, 0, -1);
	for (size_t k = 0; k < total / s; k++) {
		jsonw_raw(&w, want + off, s);
		off += s;
	}
	assert_int_equal(expect_streamed(&w, &r, want, total, 0), nm);
	for (int i = 0; i < nm; i++) {
		assert_int_equal(r.lens[i], model[i]);
		assert_int_equal(r.lens[i], per); /* and so all alike */
	}
	rec_done(&r);
	free(want);
}

static void
test_sink_boundaries(void **state)
{
	const size_t P = JSONW_PIECE;

	(void)state;
	/* one byte at a time, around one and two pieces */
	for (size_t t = P - 3; t <= P + 2; t++)
		check_raw_sizes(1, t);
	for (size_t t = 2 * P - 4; t <= 2 * P + 1; t++)
		check_raw_sizes(1, t);
	check_raw_sizes(1, 0);
	check_raw_sizes(1, 10);
	/* writes that do not divide a piece: each piece falls short */
	check_raw_sizes(1000, 1000 * 262);
	check_raw_sizes(1000, 1000 * 263);
	check_raw_sizes(1000, 1000 * 2000);
	check_raw_sizes(4096, 4096 * 63);
	check_raw_sizes(4096, 4096 * 64);
	check_raw_sizes(4096, 4096 * 65);
	check_raw_sizes(7, 7 * 300000);
	check_raw_sizes(P / 2, P * 3); /* pieces of one write each */
	check_raw_sizes(P / 2 - 1, (P / 2 - 1) * 6);
	assert_int_equal(jsonw_spare_release(), 0);
}

/* A string larger than a piece (escaped, so its worst case is 6 bytes a
 * byte), between small values: the buffer grows for it as usual (first
 * under 1 MiB, by realloc; then past it, a mapping), the text is the
 * same, and every buffer that went to the sink is released (ASan, and no
 * piece nor mapping counted as live at the end). */
static void
test_sink_large_value(void **state)
{
	static const size_t sizes[] = {50000, 300000, 3000000};

	(void)state;
	jsonw_spare_release();
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		char *big = malloc(n + 1);
		struct jsonw w;
		struct sink_rec r;
		json_t *v = json_array();
		char *want;
		int grown = 0;

		assert_non_null(big);
		for (size_t i = 0; i < n; i++)
			big[i] = "ab\"c\\d\ne\x01Xã"[i % 12];
		big[n] = '\0';
		/* Xã is 3 bytes: keep the UTF-8 whole at the end */
		while (n > 0 && ((unsigned char)big[n - 1] & 0xC0) == 0x80)
			big[--n] = '\0';
		while (n > 0 && (unsigned char)big[n - 1] >= 0xC0)
			big[--n] = '\0';

		stream_init(&w, &r, 0, 0, -1);
		jsonw_arr_begin(&w);
		for (int rep = 0; rep < 3; rep++) {
			for (int i = 0; i < 20000; i++) {
				jsonw_int(&w, i);
				json_array_append_new(v, json_integer(i));
			}
			jsonw_str(&w, big);
			json_array_append_new(v, json_string(big));
		}
		jsonw_str(&w, "end");
		json_array_append_new(v, json_string("end"));
		jsonw_arr_end(&w);
		want = dumps(v);
		expect_streamed(&w, &r, want, strlen(want), 1);
		/* the pieces larger than a piece are the grown buffers, one
		 * per big string at most (n is well past a piece's sixth) */
		for (int i = 0; i < r.n; i++) {
			grown += r.lens[i] > JSONW_PIECE - 1;
			/* grown by doubling: under twice what was asked */
			assert_true(r.lens[i] < 2 * (6 * n + 3));
		}
		assert_true(grown <= 3);
		/* the grown buffer stays the writer's until it is full: the
		 * text after the big string leaves in it (a piece, or the
		 * rest) */
		if (n * 6 > JSONW_PIECE * 2)
			assert_true(
			    grown >= 1 || strlen(want) - r.len > JSONW_PIECE);
		rec_done(&r);
		free(want);
		free(big);
		assert_int_equal(jsonw_spare_release(), 0);
	}
}

/* A sink that fails: the writer fails (sticky: nothing more goes to the
 * sink, jsonw_take answers NULL) and the piece is the sink's (freed by
 * it, or kept and freed later: never by the writer too; ASan says). */
static void
test_sink_fails(void **state)
{
	(void)state;
	jsonw_spare_release();
	for (int keep = 0; keep <= 1; keep++)
		for (int at = 0; at < 3; at++) {
			struct jsonw w;
			struct sink_rec r;

			stream_init(&w, &r, 0, keep, at);
			jsonw_arr_begin(&w);
			for (int i = 0; i < 300000 && !jsonw_failed(&w); i++)
				jsonw_str(&w, "0123456789");
			assert_true(jsonw_failed(&w));
			assert_int_equal(r.n, at + 1);
			for (int i = 0; i < 1000; i++)
				jsonw_str(&w, "more after the failure");
			jsonw_arr_end(&w);
			assert_int_equal(r.n, at + 1);
			assert_int_equal(r.calls_after_fail, 0);
			assert_null(jsonw_take(&w, NULL));
			/* what the sink got was the text so far, in order */
			for (int i = 0; i < r.n; i++)
				assert_true(r.lens[i] > 0 &&
				            r.lens[i] <= JSONW_PIECE - 1);
			assert_memory_equal(r.text, "[\"0123456789\",\"", 15);
			rec_done(&r);
			assert_int_equal(jsonw_spare_release(), 0);
		}
	/* a sink on a writer that is not fresh fails it */
	{
		struct jsonw w;
		struct sink_rec r;

		jsonw_init(&w, 0);
		rec_init(&r, &w, 0, -1);
		jsonw_int(&w, 1);
		jsonw_set_sink(&w, rec_sink, &r);
		assert_true(jsonw_failed(&w));
		assert_null(jsonw_take(&w, NULL));
		assert_int_equal(r.n, 0);
	}
	/* a fresh writer with a large hint (a mapping): the sink replaces
	 * it by a piece; nothing is left live */
	{
		struct jsonw w;
		struct sink_rec r;

		stream_init(&w, &r, (size_t)8 << 20, 0, -1);
		jsonw_str(&w, "x");
		assert_int_equal(expect_streamed(&w, &r, "\"x\"", 3, 0), 0);
		rec_done(&r);
		assert_int_equal(jsonw_spare_release(), 0);
	}
}

/* A document of k raw pieces' worth into w (a streamed writer). */
static void
stream_bytes(struct jsonw *w, size_t total)
{
	char chunk[1000];

	memset(chunk, 'p', sizeof(chunk));
	for (size_t off = 0; off < total; off += sizeof(chunk))
		jsonw_raw(w, chunk, sizeof(chunk));
}

static int
has_addr(char *const *set, int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (set[i] == p)
			return 1;
	return 0;
}

/*
 * The piece pool: pieces in use count as held (jsonw_spare_held) and as in
 * use (jsonw_spare_release's answer); freed, they are kept (held, none in
 * use) and the next streamed document takes exactly those again (the same
 * addresses, its first piece included); jsonw_spare_release lets them go
 * (held no more), after which nothing is in use.
 */
static void
test_sink_pool(void **state)
{
	struct jsonw w;
	struct sink_rec r;
	char *rest, *first[REC_MAX];
	size_t rest_len;
	int n;

	(void)state;
	assert_int_equal(jsonw_spare_release(), 0);
	assert_int_equal(jsonw_spare_held(), 0);

	/* 8 pieces kept by the sink, the rest taken */
	stream_init(&w, &r, 0, 1, -1);
	assert_int_equal(jsonw_spare_held(), 1); /* the writer's piece */
	stream_bytes(&w, 8 * 262000 + 5000);
	rest = jsonw_take(&w, &rest_len);
	assert_non_null(rest);
	n = r.n;
	assert_int_equal(n, 8);
	assert_int_equal(r.len + rest_len, 8 * 262000 + 5000);
	/* all in use: release frees none of them and counts them */
	assert_int_equal(jsonw_spare_release(), n + 1);
	assert_int_equal(jsonw_spare_held(), 1);
	memcpy(first, r.addr, (size_t)n * sizeof(*first));
	first[n] = rest;
	rec_done(&r); /* frees the pieces: into the pool */
	jsonw_text_free(rest);
	assert_int_equal(jsonw_spare_held(), 1); /* kept */

	/* the next document's pieces are the kept ones, all of them */
	stream_init(&w, &r, 0, 1, -1);
	assert_true(has_addr(first, n + 1, w.buf));
	stream_bytes(&w, 8 * 262000 + 5000);
	rest = jsonw_take(&w, &rest_len);
	assert_non_null(rest);
	assert_int_equal(r.n, n);
	for (int i = 0; i < r.n; i++)
		assert_true(has_addr(first, n + 1, r.addr[i]));
	assert_true(has_addr(first, n + 1, rest));
	for (int i = 0; i < r.n; i++) /* no two the same */
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(r.addr[i], r.addr[j]);
	rec_done(&r);
	jsonw_text_free(rest);

	/* released: held no more, none in use, a second release is a
	 * no-op */
	assert_int_equal(jsonw_spare_held(), 1);
	assert_int_equal(jsonw_spare_release(), 0);
	assert_int_equal(jsonw_spare_held(), 0);
	assert_int_equal(jsonw_spare_release(), 0);

	/* a piece freed while another writer streams is taken by it */
	stream_init(&w, &r, 0, 0, -1);
	stream_bytes(&w, 3 * 262000);
	assert_int_equal(r.n, 2);
	/* r freed each piece at once: the next piece was the one before */
	rest = jsonw_take(&w, &rest_len);
	assert_true(rest == r.addr[0] || rest == r.addr[1]);
	jsonw_text_free(rest);
	rec_done(&r);
	assert_int_equal(jsonw_spare_release(), 0);
	assert_int_equal(jsonw_spare_held(), 0);
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
	    cmocka_unit_test(test_sink_random),
	    cmocka_unit_test(test_sink_boundaries),
	    cmocka_unit_test(test_sink_large_value),
	    cmocka_unit_test(test_sink_fails),
	    cmocka_unit_test(test_sink_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
