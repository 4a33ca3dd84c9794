/*
 * test_valid.c: proto/valid.c, the field rules shared by the conf, the HTTP
 * input, the wire codec and the client: every UTF-8 edge (each length at
 * its lowest and highest code point, overlong 2/3/4-byte forms, surrogates
 * D800..DFFF, U+10FFFF and U+110000, truncated sequences, stray
 * continuation bytes), the text rule (C0 controls and DEL), ids, unit and
 * person names, levels, years, scores and Z85 keys; and that the wire
 * encoder and the conf agree with these rules (the bug of issue 6: a name
 * the conf accepted and the encoder refused).
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
	assert_int_equal(valid_level("communes", 8), -1);
	assert_int_equal(valid_level("commun", 6), -1);
	assert_int_equal(valid_level("", 0), -1);

	assert_int_equal(valid_year(2020), -1);
	assert_int_equal(valid_year(2021), 0);
	assert_int_equal(valid_year(2030), 0);
	assert_int_equal(valid_year(2031), -1);
	assert_int_equal(valid_year(-2025), -1);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
