/*
 * test_views.c: daemon/views.c's parts that stand alone: views_iso_time,
 * whose years 1970..9999 it prints itself, against gmtime_r and strftime
 * (what it printed before, and prints outside those years): every day of
 * the first and the last years, the days around each century and leap
 * day, every second of a day, random times, and the bounds on both sides;
 * a buffer too small for it.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iso_time),
	    cmocka_unit_test(test_iso_time_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
