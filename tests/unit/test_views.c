/*
 * test_views.c: daemon/views.c's parts that stand alone: views_iso_time,
 * whose years 1970..9999 it prints itself, against gmtime_r and strftime
 * (what it printed before, and prints outside those years): every day of
 * the first and the last years, the days around each century and leap
 * day, every second of a day, random times, and the bounds on both sides;
 * a buffer too small for it.  views_result_text against jansson's text of
 * views_result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "jsonw.h"
#include "views.h"

static void
check_time(int64_t t)
{
	char mine[64], want[64];
	time_t tt = (time_t)t;
	struct tm tm;

	memset(mine, '#', sizeof(mine));
	views_iso_time(t, mine, sizeof(mine));
	assert_non_null(gmtime_r(&tt, &tm));
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(mine, want) != 0)
		fail_msg("%lld: %s, want %s", (long long)t, mine, want);
}

static void
test_iso_time(void **state)
{
	const int64_t day = 86400, last = INT64_C(253402300799);

	(void)state;
	for (int64_t t = 0; t < 400 * day; t += day)
		check_time(t);
	for (int64_t t = last - 400 * day; t <= last + 3 * day; t += day)
		check_time(t);
	for (int64_t t = 0; t < day; t++)
		check_time(INT64_C(1764633600) + t); /* 2025-12-02 */
	/* the days around every 1 March and 1 January of 1970..9999 */
	for (int y = 1970; y <= 9999; y++) {
		struct tm tm = {0};

		tm.tm_year = y - 1900;
		tm.tm_mday = 1;
		for (int m = 0; m < 12; m += 2) {
			tm.tm_mon = m;
			int64_t t = (int64_t)timegm(&tm);

			for (int64_t d = -2; d <= 2; d++)
				check_time(t + d * day - 1);
		}
	}
	srand(2030);
	for (int i = 0; i < 200000; i++)
		check_time(
		    (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) %
		              (uint64_t)(last + 1)));
	check_time(last);
	check_time(last + 1);
	check_time(-1);
	check_time(-day * 365);
}

/* A buffer too small for the date (21 bytes): nothing written past it,
 * as strftime writes nothing past its size. */
static void
test_iso_time_small(void **state)
{
	char buf[32];

	(void)state;
	for (size_t size = 1; size <= 21; size++) {
		memset(buf, 'x', sizeof(buf));
		views_iso_time(1764633600, buf, size);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'x');
	}
	assert_string_equal(buf, "2025-12-02T00:00:00Z");
}

/* views_result_text is what json_dumps (JSON_COMPACT) writes of
 * views_result: person ids that need escaping or are UTF-8, the longest,
 * with and without a decision, every flag. */
static void
test_result_text(void **state)
{
	static const char *const pids[] = {"x1-17", "a\"b\\c/d",
	    "Nguy\xe1\xbb\x85n", "\xf0\x9f\x98\x80",
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    "\x7e"};
	static const char *const decisions[] = {"", "12/QD-UBND", "s\"q"};
	int n = 0;

	(void)state;
	for (size_t p = 0; p < sizeof(pids) / sizeof(pids[0]); p++)
		for (size_t d = 0; d < 3; d++)
			for (int f = 0; f < 8; f++) {
				struct assessment a;
				json_t *o;
				char *want, *got;
				size_t len = 0;

				memset(&a, 0, sizeof(a));
				a.year = (uint16_t)(2021 + n % 10);
				a.pid_len = (uint8_t)strlen(pids[p]);
				memcpy(a.person_id, pids[p], a.pid_len);
				snprintf(a.decision, sizeof(a.decision), "%s",
				    decisions[d]);
				a.total = (uint16_t)(n * 7 % 101);
				a.eligible = f & 1;
				a.recognized = (f >> 1) & 1;
				a.outstanding = (f >> 2) & 1;
				assert_non_null(o = views_result(&a));
				assert_non_null(
				    want = json_dumps(
				        o, JSON_COMPACT |
				               JSON_REAL_PRECISION(10)));
				assert_non_null(
				    got = views_result_text(&a, &len));
				assert_string_equal(got, want);
				assert_int_equal(len, strlen(want));
				jsonw_text_free(got);
				free(want);
				json_decref(o);
				n++;
			}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iso_time),
	    cmocka_unit_test(test_iso_time_small),
	    cmocka_unit_test(test_result_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
