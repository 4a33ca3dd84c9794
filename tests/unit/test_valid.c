/*
 * test_valid.c: proto/valid.c, the field rules shared by the conf, the HTTP
 * input, the wire codec and the client: every UTF-8 edge (each length at
 * its lowest and highest code point, overlong 2/3/4-byte forms, surrogates
 * D800..DFFF, U+10FFFF and U+110000, truncated sequences, stray
 * continuation bytes), the text rule (C0 controls and DEL), ids, unit and
 * person names, levels, years, scores and Z85 keys; and that the wire
 * encoder and the conf agree with these rules (the bug of issue 6: a name
 * the conf accepted and the encoder refused); and valid_quote, which makes
 * any bytes valid text for a message (issue 7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "valid.h"
#include "wire.h"

/* s as a NUL-free literal: valid_utf8 over its bytes. */
#define UTF8(s) valid_utf8(s, sizeof(s) - 1)
#define TEXT(s) valid_text(s, sizeof(s) - 1)

/* Expect s[0..n) to be refused with a reason containing what, at byte at. */
static void
expect_why(const char *s, size_t n, const char *what, size_t at)
{
	size_t got = (size_t)-1;
	const char *why = valid_utf8_why(s, n, &got);

	if (why == NULL || strstr(why, what) == NULL)
		fail_msg(
		    "want \"%s\", got \"%s\"", what, why ? why : "(valid)");
	assert_int_equal(got, at);
	assert_int_equal(valid_utf8(s, n), -1);
}
#define WHY(s, what, at) expect_why(s, sizeof(s) - 1, what, at)

static void
test_utf8_valid(void **state)
{
	assert_int_equal(UTF8(""), 0);
	assert_int_equal(UTF8("plain ASCII"), 0);
	assert_int_equal(UTF8("\x7f"), 0);         /* DEL is UTF-8, not text */
	assert_int_equal(UTF8("\xc2\x80"), 0);     /* U+0080 */
	assert_int_equal(UTF8("\xdf\xbf"), 0);     /* U+07FF */
	assert_int_equal(UTF8("\xe0\xa0\x80"), 0); /* U+0800 */
	assert_int_equal(UTF8("\xed\x9f\xbf"), 0); /* U+D7FF */
	assert_int_equal(UTF8("\xee\x80\x80"), 0); /* U+E000 */
	assert_int_equal(UTF8("\xef\xbf\xbf"), 0); /* U+FFFF */
	assert_int_equal(UTF8("\xf0\x90\x80\x80"), 0); /* U+10000 */
	assert_int_equal(UTF8("\xf4\x8f\xbf\xbf"), 0); /* U+10FFFF */
	/* Vietnamese: 2- and 3-byte letters */
	assert_int_equal(UTF8("X\xc3\xa3 Chi\xe1\xbb\x81ng Sung"), 0);
	assert_int_equal(UTF8("T\xe1\xbb\x89nh S\xc6\xa1n La"), 0);
	/* the length is honoured: a bad byte past n is not read */
	assert_int_equal(valid_utf8("ok\xff", 2), 0);
}

static void
test_utf8_overlong(void **state)
{
	WHY("\xc0\x80", "overlong", 0);           /* U+0000 in 2 bytes */
	WHY("\xc0\xaf", "overlong", 0);           /* '/' in 2 bytes */
	WHY("a\xc1\xbf", "overlong", 1);          /* U+007F in 2 bytes */
	WHY("\xe0\x80\xaf", "overlong", 0);       /* '/' in 3 bytes */
	WHY("\xe0\x9f\xbf", "overlong", 0);       /* U+07FF in 3 bytes */
	WHY("\xf0\x80\x80\xaf", "overlong", 0);   /* '/' in 4 bytes */
	WHY("ab\xf0\x8f\xbf\xbf", "overlong", 2); /* U+FFFF in 4 bytes */
}

static void
test_utf8_surrogates_and_range(void **state)
{
	char s[3];

	/* every surrogate D800..DFFF (ED A0 80 .. ED BF BF) */
	for (unsigned cp = 0xd800; cp <= 0xdfff; cp++) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		if (valid_utf8(s, 3) != -1)
			fail_msg("surrogate U+%04X accepted", cp);
	}
	WHY("x\xed\xa0\x80", "surrogate", 1);         /* U+D800 */
	WHY("\xed\xbf\xbf", "surrogate", 0);          /* U+DFFF */
	WHY("\xf4\x90\x80\x80", "above U+10FFFF", 0); /* U+110000 */
	WHY("\xf4\xbf\xbf\xbf", "above U+10FFFF", 0);
	WHY("\xf5\x80\x80\x80", "never UTF-8", 0);
	WHY("\xf8\x88\x80\x80\x80", "never UTF-8", 0);
	WHY("\xff", "never UTF-8", 0);
	WHY("\xfe\xff", "never UTF-8", 0);
}

static void
test_utf8_truncated(void **state)
{
	WHY("\xc3", "truncated", 0);
	WHY("ab\xe1\xbb", "truncated", 2);
	WHY("\xf0\x90\x80", "truncated", 0);
	WHY("\xe1\xbbX", "truncated",
	    0); /* ASCII where a continuation is due */
	WHY("\xc3\xc3\xa3", "truncated", 0); /* a lead where one is due */
	WHY("\x80", "continuation", 0);
	WHY("a\xbf", "continuation", 1);
	WHY("\xc3\xa3\xa3", "continuation", 2);
	/* a sequence cut by n, though the bytes go on */
	assert_int_equal(valid_utf8("\xe1\xbb\x81", 2), -1);
}

static void
test_text(void **state)
{
	size_t at = 99;

	assert_int_equal(TEXT("X\xc3\xa3 T\xc3\xa2n Th\xc3\xa0nh"), 0);
	assert_int_equal(TEXT(" !~"), 0);
	assert_int_equal(TEXT("a\x01"), -1);
	assert_int_equal(TEXT("\x1f"), -1);
	assert_int_equal(TEXT("tab\there"), -1);
	assert_int_equal(TEXT("new\nline"), -1);
	assert_int_equal(TEXT("del\x7f"), -1);
	assert_int_equal(valid_text("nul\0x", 5), -1);
	assert_int_equal(TEXT("\xed\xa0\x80"), -1);
	/* C1 controls (U+0080..U+009F) are UTF-8 text by this rule */
	assert_int_equal(TEXT("\xc2\x85"), 0);
	assert_non_null(strstr(valid_text_why("ab\x7f", 3, &at), "control"));
	assert_int_equal(at, 2);
	/* the first fault wins */
	assert_non_null(strstr(valid_text_why("a\x01\xff", 3, &at), "control"));
	assert_int_equal(at, 1);
	assert_non_null(
	    strstr(valid_text_why("a\xff\x01", 3, &at), "never UTF-8"));
	assert_int_equal(at, 1);
	assert_null(valid_text_why("ok", 2, NULL));
}

static void
test_ids(void **state)
{
	assert_int_equal(valid_id("14", 2), 0);
	assert_int_equal(valid_id("03646", 5), 0);
	assert_int_equal(valid_id("aZ09_-aZ09_-aZ09", 16), 0);
	assert_int_equal(valid_id("aZ09_-aZ09_-aZ09x", 17), -1);
	assert_int_equal(valid_id("", 0), -1);
	assert_int_equal(valid_id("1 4", 3), -1);
	assert_int_equal(valid_id("1.4", 3), -1);
	assert_int_equal(valid_id("a/b", 3), -1);
	assert_int_equal(valid_id("x\xc3\xa3", 3), -1);
	assert_int_equal(valid_id("14\0", 3), -1);
	assert_int_equal(WIRE_MAX_ID, 16);
}

static void
test_names(void **state)
{
	char buf[VALID_PERSON_NAME_MAX + 2];

	memset(buf, 'n', sizeof(buf));
	assert_int_equal(valid_unit_name(buf, 0), 0);
	assert_int_equal(valid_unit_name(buf, WIRE_MAX_NAME), 0);
	assert_int_equal(valid_unit_name(buf, WIRE_MAX_NAME + 1), -1);
	assert_int_equal(valid_unit_name("\xed\xa0\x80", 3), -1);
	assert_int_equal(valid_unit_name("\xc0\xaf", 2), -1);
	assert_int_equal(valid_unit_name("N\x01", 2), -1);
	assert_int_equal(valid_person_name(buf, VALID_PERSON_NAME_MAX), 0);
	assert_int_equal(valid_person_name(buf, VALID_PERSON_NAME_MAX + 1), -1);
	assert_int_equal(valid_person_name("", 0), 0);
	assert_int_equal(valid_person_id(buf, 0), -1);
	assert_int_equal(valid_person_id(buf, VALID_PID_MAX), 0);
	assert_int_equal(valid_person_id(buf, VALID_PID_MAX + 1), -1);
	assert_int_equal(valid_person_id("P\xe1\xbb\x87", 4), 0);
	assert_int_equal(valid_person_id("P\xed\xa0\x80", 4), -1);
	assert_int_equal(valid_person_id("P\t1", 3), -1);
}

static void
test_levels_years_scores_keys(void **state)
{
	static const char key[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

	for (int i = 0; i < VALID_NLEVELS; i++)
		assert_int_equal(valid_level(valid_level_names[i],
		                     strlen(valid_level_names[i])),
		    i);
	assert_int_equal(valid_level("commune", 7), 0);
	assert_int_equal(valid_level("national", 8), 3);
	/* agency came last (wire revision 2): the older indices stand */
	assert_int_equal(VALID_NLEVELS, 5);
	assert_string_equal(valid_level_names[0], "commune");
	assert_string_equal(valid_level_names[1], "district");
	assert_string_equal(valid_level_names[2], "province");
	assert_int_equal(valid_level("agency", 6), 4);
	assert_int_equal(valid_level("agency", 5), -1);
	assert_int_equal(valid_level("agencies", 8), -1);
	assert_int_equal(valid_level("Agency", 6), -1);
	assert_int_equal(valid_level("communes", 8), -1);
	assert_int_equal(valid_level("commun", 6), -1);
	assert_int_equal(valid_level("", 0), -1);

	assert_int_equal(valid_year(2020), -1);
	assert_int_equal(valid_year(2021), 0);
	assert_int_equal(valid_year(2030), 0);
	assert_int_equal(valid_year(2031), -1);
	assert_int_equal(valid_year(-2025), -1);
	/* a report's years: 2020 (the baseline, imported) too */
	assert_int_equal(VALID_REPORT_YEAR_MIN, 2020);
	assert_int_equal(valid_report_year(2019), -1);
	assert_int_equal(valid_report_year(2020), 0);
	assert_int_equal(valid_report_year(2021), 0);
	assert_int_equal(valid_report_year(2030), 0);
	assert_int_equal(valid_report_year(2031), -1);
	assert_int_equal(valid_report_year(-2020), -1);
	assert_int_equal(valid_report_year(2020LL + (1LL << 32)), -1);
	assert_int_equal(VALID_YEAR_MAX - VALID_YEAR_MIN + 1, 10);

	assert_int_equal(valid_score(0), -1);
	assert_int_equal(valid_score(1), 0);
	assert_int_equal(valid_score(10), 0);
	assert_int_equal(valid_score(11), -1);
	assert_int_equal(VALID_NSCORES, 10);
	assert_int_equal(VALID_PASS_TOTAL, 80);
	assert_int_equal(VALID_OUTSTANDING_YEARS, 5);

	assert_int_equal(valid_z85_key(key, 40), 0);
	assert_int_equal(valid_z85_key(key, 39), -1);
	assert_int_equal(
	    valid_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7x", 41), -1);
	assert_int_equal(
	    valid_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"", 40),
	    -1); /* '"' is not Z85 */
	assert_int_equal(
	    valid_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf ", 40), -1);
	assert_int_equal(VALID_Z85_KEY_LEN, 40);
}

static void
test_denominators(void **state)
{
	assert_int_equal(VALID_NDENOMINATORS, 12);
	assert_string_equal(valid_denominator_names[0], "adults");
	assert_string_equal(valid_denominator_names[1], "staff");
	assert_string_equal(valid_denominator_names[VALID_NDENOMINATORS - 1],
	    "members_trained");
}

/*
 * The wire encoder uses these rules: a HELLO with each name is encoded
 * exactly when valid_unit_name accepts it (and decodes back).
 */
static void
test_wire_agrees(void **state)
{
	static const char *const names[] = {"X\xc3\xa3 T\xc3\xa2n Th\xc3\xa0nh",
	    "", "\xed\xa0\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80",
	    "\xf4\x8f\xbf\xbf", "N\x7f", "Caf\xc3"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct wire_msg m = {.type = WIRE_HELLO}, d;
		char *out = NULL;
		size_t len;
		int want = valid_unit_name(names[i], strlen(names[i]));
		int rc;

		strcpy(m.id, "04108");
		strcpy(m.level, "commune");
		strcpy(m.name, names[i]);
		rc = wire_encode(&m, &out, &len);
		if ((rc == WIRE_OK) != (want == 0))
			fail_msg("name %zu: encoder %d, valid_unit_name %d", i,
			    rc, want);
		if (rc == WIRE_OK) {
			assert_int_equal(wire_decode(out, len, &d), WIRE_OK);
			assert_string_equal(d.name, names[i]);
			wire_msg_free(&d);
		}
		free(out);
	}
}

/* valid_quote(s) into a buffer of cap bytes equals want (and its length). */
static void
expect_quote(const char *s, size_t n, size_t cap, const char *want)
{
	char out[512];
	size_t got;

	memset(out, 'Z', sizeof(out));
	got = valid_quote(out, cap, s, n);
	assert_string_equal(out, want);
	assert_int_equal(got, strlen(want));
	assert_int_equal(out[cap], 'Z'); /* nothing written past cap */
}
#define QUOTE(s, cap, want) expect_quote(s, sizeof(s) - 1, cap, want)

static void
test_quote(void **state)
{
	char big[300], out[64];

	/* valid text without controls is copied unchanged */
	QUOTE("", 16, "");
	QUOTE("plain", 16, "plain");
	QUOTE("X\xc3\xa3 Chi\xe1\xbb\x81ng Sung", 64,
	    "X\xc3\xa3 Chi\xe1\xbb\x81ng Sung");
	QUOTE("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 16,
	    "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	QUOTE("back\\slash \"q\"", 32, "back\\slash \"q\"");
	/* bytes that are not UTF-8, one escape each */
	QUOTE("\xeb\x39", 16, "\\xeb9");
	QUOTE("\xff", 16, "\\xff");
	QUOTE("\xc0\xae\xc0\xae", 32, "\\xc0\\xae\\xc0\\xae"); /* overlong */
	QUOTE("\xe0\x80\xaf", 32, "\\xe0\\x80\\xaf");          /* overlong */
	QUOTE("\xed\xa0\x80", 32, "\\xed\\xa0\\x80");          /* surrogate */
	QUOTE("\xf4\x90\x80\x80", 32, "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	QUOTE("a\xe1\xbb", 32, "a\\xe1\\xbb");                 /* truncated */
	QUOTE("\x80z", 32, "\\x80z"); /* stray continuation */
	/* controls, DEL and NUL (n counts it) are escaped too */
	QUOTE("a\nb\tc\x7f", 32, "a\\x0ab\\x09c\\x7f");
	QUOTE("a\0b", 32, "a\\x00b");
	/* fits exactly: no cut */
	QUOTE("abc", 4, "abc");
	QUOTE("\xc3\xa3\xc3\xa3", 5, "\xc3\xa3\xc3\xa3");
	QUOTE("\xff", 5, "\\xff");
	/* too long: cut on a character or escape, ending in "..." */
	QUOTE("abcd", 4, "...");
	QUOTE("abcdefgh", 8, "abcd...");
	QUOTE("abcd\xc3\xa3zz", 8, "abcd...");
	QUOTE("abc\xc3\xa3zzz", 8, "abc...");
	QUOTE("ab\xe1\xbb\x85zzz", 8, "ab...");
	QUOTE("ab\xffzz", 8, "ab...");
	QUOTE("ab\xffz", 8, "ab\\xffz");
	QUOTE("\xc3\xa3\xc3\xa3", 4, "...");
	/* under 4 bytes there is no room for "...": cut on a character */
	QUOTE("abc", 3, "ab");
	QUOTE("\xc3\xa3\xc3\xa3", 3, "\xc3\xa3");
	QUOTE("\xc3\xa3", 2, "");
	QUOTE("\xff", 3, "");
	QUOTE("abc", 1, "");
	assert_int_equal(valid_quote(out, 0, "abc", 3), 0);
	/* the cases: a key of 62 ASCII + U+00E3 in a 64-byte field */
	memset(big, 'k', 62);
	memcpy(big + 62, "\xc3\xa3", 2);
	assert_int_equal(valid_quote(out, 64, big, 64), 63);
	assert_int_equal(valid_text(out, strlen(out)), 0);
	assert_memory_equal(out + 60, "...", 4);
	/* and a longer buffer keeps it whole */
	assert_int_equal(valid_quote(big + 100, 65, big, 64), 64);
	assert_memory_equal(big + 100, big, 64);
}

/*
 * Every string of up to 3 bytes over an alphabet of edge bytes, into every
 * buffer size up to 20: the result is valid text (UTF-8, no control),
 * shorter than cap, the whole quote when it fits and else a prefix of it
 * cut between units and followed by "..."; quoting it again changes
 * nothing.
 */
static void
test_quote_brute(void **state)
{
	static const unsigned char alpha[] = {0x00, 0x09, 0x1f, 'a', '\\', 0x7f,
	    0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xdf,
	    0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
	const size_t na = sizeof(alpha);
	char s[3], full[64], out[32], again[32];

	for (size_t len = 0; len <= 3; len++) {
		size_t count = 1;

		for (size_t i = 0; i < len; i++)
			count *= na;
		for (size_t x = 0; x < count; x++) {
			size_t v = x, nfull;

			for (size_t i = 0; i < len; i++, v /= na)
				s[i] = (char)alpha[v % na];
			nfull = valid_quote(full, sizeof(full), s, len);
			assert_true(nfull < sizeof(full));
			assert_int_equal(valid_text(full, nfull), 0);
			if (valid_text(s, len) == 0) {
				assert_int_equal(nfull, len);
				assert_memory_equal(full, s, len);
			}
			for (size_t cap = 1; cap <= 20; cap++) {
				size_t n = valid_quote(out, cap, s, len);

				assert_true(n < cap);
				assert_int_equal(strlen(out), n);
				assert_int_equal(valid_text(out, n), 0);
				if (nfull < cap) {
					assert_string_equal(out, full);
					continue;
				}
				if (cap >= 4) {
					assert_true(n >= 3);
					assert_memory_equal(
					    out + n - 3, "...", 3);
					n -= 3;
				}
				/* a prefix of the full quote, at a unit */
				assert_memory_equal(out, full, n);
				assert_int_equal(valid_utf8(full, n), 0);
				assert_true(full[n] != 'x' || n == 0 ||
				            full[n - 1] != '\\');
			}
			valid_quote(again, sizeof(again), full, nfull);
			if (nfull < sizeof(again))
				assert_string_equal(again, full);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_utf8_overlong),
	    cmocka_unit_test(test_utf8_surrogates_and_range),
	    cmocka_unit_test(test_utf8_truncated),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_levels_years_scores_keys),
	    cmocka_unit_test(test_denominators),
	    cmocka_unit_test(test_wire_agrees),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_quote_brute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
