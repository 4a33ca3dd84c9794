/*
 * test_rules.c: daemon/rules.c, the programme's rules as pure functions: the
 * scoring rule (>= 80 and no score below 5), what one assessment adds to the
 * counters for every group/population/digital/recognised/outstanding
 * combination, each indicator's numerator and denominator, percent rounding,
 * needed/met against the targets (exact integer edge cases), strict
 * ("above") targets against a search and in 128 bits, the target counters
 * (stamp and read back), the default
 * targets and rules_check_population; totals at and near the int64 bounds
 * (2^40 x 1000, 2^62, INT64_MAX) and either side of 2^40, where rules.c
 * leaves int64 for 128 bits, recomputed in unsigned 128-bit integers and
 * cross-checked in long double.  Expected values are written out by hand or
 * recomputed here by brute force, never taken from rules.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "rules.h"

#include "fixture.h"

static void
set_scores(struct assessment *a, const int s[RULES_NSCORES])
{
	for (int i = 0; i < RULES_NSCORES; i++)
		a->scores[i] = (uint8_t)s[i];
}

/* ---------------------------------------------------------------------- */
/* Scoring. */

static void
test_score_examples(void **state)
{
	static const struct {
		int s[RULES_NSCORES];
		int total;
		int recognized;
	} cases[] = {
	    /* the plan's own example: nine 10s and one 4 */
	    {{10, 10, 10, 10, 10, 10, 10, 10, 10, 4}, 94, 0},
	    {{4, 10, 10, 10, 10, 10, 10, 10, 10, 10}, 94, 0},
	    /* exactly 80, all 8s */
	    {{8, 8, 8, 8, 8, 8, 8, 8, 8, 8}, 80, 1},
	    /* a 5 is allowed */
	    {{10, 10, 10, 10, 10, 10, 10, 10, 10, 5}, 95, 1},
	    {{5, 5, 10, 10, 10, 10, 10, 10, 10, 10}, 90, 1},
	    /* 79: one point short */
	    {{8, 8, 8, 8, 8, 8, 8, 8, 8, 7}, 79, 0},
	    {{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}, 100, 1},
	    {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10, 0},
	    {{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 50, 0},
	    /* 80 reached but a 1 in it */
	    {{1, 10, 10, 10, 10, 10, 10, 10, 9, 1}, 81, 0},
	    {{9, 9, 9, 9, 9, 9, 9, 9, 4, 5}, 81, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct assessment a;

		memset(&a, 0, sizeof(a));
		set_scores(&a, cases[i].s);
		a.total = 999;
		a.recognized = !cases[i].recognized;
		rules_score(&a);
		assert_int_equal(a.total, cases[i].total);
		assert_int_equal(a.recognized, cases[i].recognized);
	}
}

/* Every score vector of a random sample against a brute-force recount. */
static void
test_score_random(void **state)
{
	srand(677);
	for (int n = 0; n < 20000; n++) {
		struct assessment a;
		int sum = 0, min = 10;

		memset(&a, 0, sizeof(a));
		for (int i = 0; i < RULES_NSCORES; i++) {
			/* bias toward the interesting region 4..10 */
			int s =
			    rand() % 4 == 0 ? 1 + rand() % 10 : 4 + rand() % 7;
			a.scores[i] = (uint8_t)s;
			sum += s;
			if (s < min)
				min = s;
		}
		rules_score(&a);
		assert_int_equal(a.total, sum);
		assert_int_equal(a.recognized, sum >= 80 && min >= 5);
	}
}

/* ---------------------------------------------------------------------- */
/* Counter contributions. */

/* One combination of the fields rules_apply looks at. */
struct combo {
	int g, p, d, rec, out, sign;
};

static void
check_combo(const struct combo *k)
{
	/* the README's group names, in counters.h order of *_assessed */
	static const char *const gname[GROUP_COUNT] = {
	    "farmer", "worker", "official", "business", "manager"};
	static const int genum[GROUP_COUNT] = {GROUP_FARMER, GROUP_WORKER,
	    GROUP_OFFICIAL, GROUP_BUSINESS, GROUP_MANAGER};
	static const int denum[3] = {
	    DIGITAL_NONE, DIGITAL_SKILLED, DIGITAL_PROFICIENT};
	struct assessment a;
	struct cdht_counters got, want;
	int sign = k->sign;
	char nm[64];

	fx_assessment(&a, 2025, "", genum[k->g], k->p ? POP_STAFF : POP_ADULT,
	    denum[k->d]);
	a.recognized = a.eligible = k->rec; /* by score */
	a.outstanding = k->out;
	/* start from a non-zero baseline so += is checked, not = */
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		got.v[i] = want.v[i] = 1000 + i;
	want.v[fx_cidx("assessed")] += sign;
	if (k->rec)
		want.v[fx_cidx("recognized")] += sign;
	if (k->rec) { /* by score, eligible is recognised */
		want.v[fx_cidx("eligible")] += sign;
		snprintf(nm, sizeof(nm), "%s_eligible",
		    rules_group_names[genum[k->g]]);
		want.v[fx_cidx(nm)] += sign;
	}
	if (k->rec && k->out)
		want.v[fx_cidx("outstanding")] += sign;
	want.v[fx_cidx(k->p ? "staff_assessed" : "adult_assessed")] += sign;
	if (k->rec)
		want.v[fx_cidx(
		    k->p ? "staff_recognized" : "adult_recognized")] += sign;
	/* digital counts only for recognised citizens; proficient implies
	 * skilled */
	if (k->rec && k->d >= 1)
		want.v[fx_cidx("digital_skilled")] += sign;
	if (k->rec && k->d == 2)
		want.v[fx_cidx("digital_proficient")] += sign;
	snprintf(nm, sizeof(nm), "%s_assessed", gname[k->g]);
	want.v[fx_cidx(nm)] += sign;
	if (k->rec) {
		snprintf(nm, sizeof(nm), "%s_recognized", gname[k->g]);
		want.v[fx_cidx(nm)] += sign;
	}
	rules_apply(&got, &a, sign);
	fx_assert_counters(&got, &want,
	    "group %s pop %d digital %d rec %d out %d sign %d", gname[k->g],
	    k->p, k->d, k->rec, k->out, sign);
}

static void
test_apply_every_combination(void **state)
{
	int n = 0;

	/* 5 groups x 2 populations x 3 digital x recognised x outstanding x
	 * sign, decoded from one counter */
	for (int i = 0; i < GROUP_COUNT * 2 * 3 * 2 * 2 * 2; i++) {
		struct combo k;
		int r = i;

		k.g = r % GROUP_COUNT;
		r /= GROUP_COUNT;
		k.p = r % 2;
		r /= 2;
		k.d = r % 3;
		r /= 3;
		k.rec = r % 2;
		r /= 2;
		k.out = r % 2;
		r /= 2;
		k.sign = r % 2 ? -1 : +1;
		check_combo(&k);
		n++;
	}
	assert_int_equal(n, 240);
}

/* +1 then -1 of the same assessment leaves the counters as they were. */
static void
test_apply_inverse(void **state)
{
	struct cdht_counters c;
	struct assessment a;
	static const int s[RULES_NSCORES] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	set_scores(&a, s);
	rules_score(&a);
	a.group = GROUP_MANAGER;
	a.population = POP_STAFF;
	a.digital = DIGITAL_PROFICIENT;
	a.outstanding = true;
	rules_apply(&c, &a, +1);
	assert_false(cdht_counters_is_zero(&c));
	assert_int_equal(c.v[fx_cidx("manager_recognized")], 1);
	rules_apply(&c, &a, -1);
	assert_true(cdht_counters_is_zero(&c));
}

/* ---------------------------------------------------------------------- */
/* Indicators. */

static void
test_indicator_mapping(void **state)
{
	/* README "Progress" table */
	static const struct {
		const char *ind, *num, *den;
	} map[] = {
	    {"adults", "adult_recognized", "adults"},
	    {"staff", "staff_recognized", "staff"},
	    {"digital", "digital_skilled", "recognized"},
	    {"proficient", "digital_proficient", "digital_skilled"},
	    {"trained", "members_trained", "members_total"},
	    {"families", "families_recognized", "families_total"},
	    {"clans", "clans_recognized", "clans_total"},
	    {"communities", "communities_recognized", "communities_total"},
	    {"units", "units_recognized", "units_total"},
	};
	struct cdht_counters c;
	struct rules_targets t;

	assert_int_equal(sizeof(map) / sizeof(map[0]), IND_COUNT);
	/* a distinct value in every counter */
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		c.v[i] = 1000 + 37 * i;
	rules_targets_default(&t);
	for (int k = 0; k < IND_COUNT; k++) {
		struct rules_progress p;
		int ind = -1;

		for (int j = 0; j < IND_COUNT; j++)
			if (strcmp(rules_indicator_names[j], map[k].ind) == 0)
				ind = j;
		assert_int_equal(ind, k); /* report order = README order */
		memset(&p, 0xa5, sizeof(p));
		rules_indicator(&c, &t, ind, &p);
		if (p.numerator != c.v[fx_cidx(map[k].num)] ||
		    p.denominator != c.v[fx_cidx(map[k].den)])
			fail_msg("%s: %lld/%lld, want %s/%s = %lld/%lld",
			    map[k].ind, (long long)p.numerator,
			    (long long)p.denominator, map[k].num, map[k].den,
			    (long long)c.v[fx_cidx(map[k].num)],
			    (long long)c.v[fx_cidx(map[k].den)]);
		assert_true(p.has_percent);
	}
}

/* Evaluate indicator "units" with numerator n, denominator d, targets
 * t25/t30. */
static void
eval_units(int64_t n, int64_t d, int t25, int t30, struct rules_progress *p)
{
	struct cdht_counters c;
	struct rules_targets t;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.v[fx_cidx("units_recognized")] = n;
	c.v[fx_cidx("units_total")] = d;
	t.pct[IND_UNITS][0] = t25;
	t.pct[IND_UNITS][1] = t30;
	memset(p, 0x5a, sizeof(*p));
	rules_indicator(&c, &t, IND_UNITS, p);
}

static void
test_percent_rounding(void **state)
{
	static const struct {
		int64_t n, d;
		double pct; /* written out by hand */
	} cases[] = {
	    {1, 3, 33.33},
	    {2, 3, 66.67},
	    {1, 8, 12.5},
	    {0, 5, 0.0},
	    {5, 5, 100.0},
	    {1, 6, 16.67},
	    {1, 7, 14.29},
	    {120, 400, 30.0},
	    {1, 200, 0.5},
	    /* exact halves of 1/100 percent round up */
	    {1, 20000, 0.01},         /* 0.005 */
	    {1, 40000, 0.0},          /* 0.0025 */
	    {3, 40000, 0.01},         /* 0.0075 */
	    {1, 16, 6.25},            /* exact */
	    {1, 32, 3.13},            /* 3.125 */
	    {5, 32, 15.63},           /* 15.625 */
	    {7, 9, 77.78},            /* 77.777 */
	    {999999, 1000000, 100.0}, /* 99.9999 */
	    {3, 80000, 0.0},          /* 0.00375 */
	    {5, 80000, 0.01},         /* 0.00625 */
	    {2000000000, 3000000000LL, 66.67},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_progress p;

		eval_units(cases[i].n, cases[i].d, 80, 90, &p);
		assert_true(p.has_percent);
		if (p.percent != cases[i].pct)
			fail_msg("%lld/%lld: percent %.10g, want %.2f",
			    (long long)cases[i].n, (long long)cases[i].d,
			    p.percent, cases[i].pct);
	}
}

/* Every fraction with a small denominator against a recount in decimal text:
 * the exact value to 3 decimals of a percent, then rounded half up by hand. */
static void
test_percent_bruteforce(void **state)
{
	for (int64_t d = 1; d <= 400; d++)
		for (int64_t n = 0; n <= d; n++) {
			struct rules_progress p;
			/* thousandths of a percent, truncated */
			int64_t milli = n * 100000 / d;
			int64_t hund = milli / 10;
			int digit = (int)(milli % 10);
			char want[32], got[32];

			/* half up: a third decimal of 5 or more rounds up
			 * (exactly 5 is the half), 0..4 rounds down */
			if (digit >= 5)
				hund++;
			snprintf(want, sizeof(want), "%lld.%02lld",
			    (long long)(hund / 100), (long long)(hund % 100));
			eval_units(n, d, 80, 90, &p);
			snprintf(got, sizeof(got), "%.2f", p.percent);
			if (strcmp(got, want) != 0)
				fail_msg("%lld/%lld: %s, want %s", (long long)n,
				    (long long)d, got, want);
			/* and the double itself is the 2-decimal value */
			assert_true(p.percent * 100.0 - (double)hund < 1e-6 &&
			            (double)hund - p.percent * 100.0 < 1e-6);
		}
}

static void
test_no_percent_when_den_zero(void **state)
{
	struct rules_progress p;

	eval_units(0, 0, 80, 90, &p);
	assert_false(p.has_percent);
	assert_true(p.percent == 0.0);
	assert_int_equal(p.needed[0], 0);
	assert_int_equal(p.needed[1], 0);
	assert_false(p.met[0]);
	assert_false(p.met[1]);
	/* a numerator without a denominator (staff recognised before the
	 * year's staff count is set) is still no percent and not met */
	eval_units(7, 0, 80, 90, &p);
	assert_false(p.has_percent);
	assert_int_equal(p.numerator, 7);
	assert_false(p.met[0]);
	assert_false(p.met[1]);
	assert_int_equal(p.needed[0], 0);
}

static void
test_needed_examples(void **state)
{
	static const struct {
		int64_t n, d;
		int t;
		int64_t needed;
		int met;
	} cases[] = {
	    /* README example: 120/400 against 40% and 60% */
	    {120, 400, 40, 40, 0},
	    {120, 400, 60, 120, 0},
	    /* t*d/100 integral: 40% of 5 = 2 */
	    {0, 5, 40, 2, 0},
	    {1, 5, 40, 1, 0},
	    {2, 5, 40, 0, 1},
	    {3, 5, 40, 0, 1},
	    /* not integral: 40% of 6 = 2.4 -> 3 */
	    {2, 6, 40, 1, 0},
	    {3, 6, 40, 0, 1},
	    /* 70% of 10 = 7 exactly; 70% of 11 = 7.7 -> 8 */
	    {7, 10, 70, 0, 1},
	    {6, 10, 70, 1, 0},
	    {7, 11, 70, 1, 0},
	    {8, 11, 70, 0, 1},
	    /* 100%: everyone */
	    {6, 7, 100, 1, 0},
	    {7, 7, 100, 0, 1},
	    /* 65% of 20 = 13; of 21 = 13.65 -> 14 */
	    {13, 20, 65, 0, 1},
	    {13, 21, 65, 1, 0},
	    /* 1% of 1 = 0.01 -> 1 */
	    {0, 1, 1, 1, 0},
	    /* 0%: met as soon as there is a denominator */
	    {0, 9, 0, 0, 1},
	    {0, 0, 0, 0, 0},
	    /* a large denominator: 60% of 3 000 000 001 = 1 800 000 000.6 */
	    {1800000000, 3000000001LL, 60, 1, 0},
	    {1800000001, 3000000001LL, 60, 0, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_progress p;

		/* the case's target for 2025, another for 2030 */
		eval_units(cases[i].n, cases[i].d, cases[i].t, 100, &p);
		if (p.needed[0] != cases[i].needed || p.met[0] != cases[i].met)
			fail_msg("%lld/%lld at %d%%: needed %lld met %d, want "
			         "%lld %d",
			    (long long)cases[i].n, (long long)cases[i].d,
			    cases[i].t, (long long)p.needed[0], p.met[0],
			    (long long)cases[i].needed, cases[i].met);
		assert_int_equal(p.target[0], cases[i].t);
		assert_int_equal(p.target[1], 100);
		/* the same case as the 2030 target */
		eval_units(cases[i].n, cases[i].d, 0, cases[i].t, &p);
		assert_int_equal(p.needed[1], cases[i].needed);
		assert_int_equal(p.met[1], cases[i].met);
	}
}

/* needed against the smallest count reaching the target, found by search. */
static void
test_needed_bruteforce(void **state)
{
	for (int t = 0; t <= 100; t++)
		for (int64_t d = 0; d <= 120; d++) {
			int64_t k = 0;

			/* smallest k with k/d >= t/100, i.e. 100k >= t*d */
			while (100 * k < t * d)
				k++;
			for (int64_t n = 0; n <= d + 1; n++) {
				struct rules_progress p;
				int64_t want = k > n ? k - n : 0;

				eval_units(n, d, t, 100 - t, &p);
				if (p.needed[0] != want ||
				    p.met[0] != (want == 0 && d > 0))
					fail_msg("t=%d n=%lld d=%lld: needed "
					         "%lld met %d, want %lld",
					    t, (long long)n, (long long)d,
					    (long long)p.needed[0], p.met[0],
					    (long long)want);
			}
		}
}

/* ---------------------------------------------------------------------- */
/* Totals near the int64 bounds: every result recomputed exactly in unsigned
 * 128-bit arithmetic by other formulas than rules.c's, and cross-checked in
 * long double. */

__extension__ typedef unsigned __int128 u128;

/* The exact expectation for numerator n >= 0, denominator d >= 0, target t
 * 0..100: bp = round half up of 10000 n / d (from quotient and remainder),
 * needed = the smallest k >= 0 with 100 (n + k) >= t d. */
struct wide_want {
	int has_percent;
	u128 bp;
	int64_t needed;
	int met;
};

static struct wide_want
wide_expect(int64_t n, int64_t d, int t)
{
	struct wide_want w = {0};
	u128 td = (u128)t * (u128)d, hn = (u128)100 * (u128)n;

	if (d > 0) {
		u128 q = (u128)10000 * (u128)n / (u128)d;
		u128 r = (u128)10000 * (u128)n % (u128)d;
		w.has_percent = 1;
		w.bp = q + (2 * r >= (u128)d ? 1 : 0);
	}
	if (hn < td) {
		u128 k = (td - hn + 99) / 100;
		assert_true(k <= (u128)INT64_MAX);
		w.needed = (int64_t)k;
	}
	w.met = w.needed == 0 && d > 0;
	return w;
}

/* "%.2f" of bp/100 written from the integer bp. */
static void
wide_bp_text(u128 bp, char *buf, size_t size)
{
	u128 whole = bp / 100;
	char digits[48];
	int i = (int)sizeof(digits) - 1;

	digits[i] = '\0';
	do {
		digits[--i] = (char)('0' + (int)(whole % 10));
		whole /= 10;
	} while (whole > 0);
	snprintf(buf, size, "%s.%02d", digits + i, (int)(bp % 100));
}

static void
wide_check(int64_t n, int64_t d, int t)
{
	struct rules_progress p;
	struct wide_want w = wide_expect(n, d, t);
	char got[64], want[64];

	eval_units(n, d, t, t, &p);
	if (p.numerator != n || p.denominator != d ||
	    p.has_percent != w.has_percent)
		fail_msg("%lld/%lld: numerator, denominator or has_percent",
		    (long long)n, (long long)d);
	for (int k = 0; k < 2; k++)
		if (p.needed[k] != w.needed || p.met[k] != w.met ||
		    p.target[k] != t)
			fail_msg("%lld/%lld at %d%%: needed %lld met %d, want "
			         "%lld %d",
			    (long long)n, (long long)d, t,
			    (long long)p.needed[k], p.met[k],
			    (long long)w.needed, w.met);
	/* needed is the smallest k: 100(n+k) >= t d > 100(n+k-1) */
	if (p.needed[0] > 0)
		assert_true((u128)100 * ((u128)n + (u128)p.needed[0] - 1) <
		            (u128)t * (u128)d);
	assert_true(
	    (u128)100 * ((u128)n + (u128)p.needed[0]) >= (u128)t * (u128)d);
	/* long double (64-bit mantissa) agrees to its own precision */
	{
		long double want_ld =
		    (long double)t * (long double)d / 100.0L - (long double)n;
		long double err =
		    (long double)p.needed[0] - (want_ld > 0 ? want_ld : 0.0L);
		long double tol = 1.0L + (long double)d * 1e-17L;
		if (err > tol || err < -tol)
			fail_msg("%lld/%lld at %d%%: needed %lld, long double "
			         "%.3Lf",
			    (long long)n, (long long)d, t,
			    (long long)p.needed[0], want_ld);
	}
	if (!w.has_percent)
		return;
	/* the double is the one nearest to bp/100 (bp < 2^53: exactly one
	 * rounding) ... */
	if (w.bp < ((u128)1 << 53) && p.percent != (double)w.bp / 100.0)
		fail_msg("%lld/%lld: percent %.17g, want bp %.0Lf / 100",
		    (long long)n, (long long)d, p.percent, (long double)w.bp);
	/* ... printed to 2 decimals, the exact decimal (a double holds 15
	 * significant digits: bp < 10^15) ... */
	if (w.bp < (u128)1000000000000000ull) {
		snprintf(got, sizeof(got), "%.2f", p.percent);
		wide_bp_text(w.bp, want, sizeof(want));
		if (strcmp(got, want) != 0)
			fail_msg("%lld/%lld: %s, want %s", (long long)n,
			    (long long)d, got, want);
	}
	/* ... and within half a unit of the 2nd decimal of the long double
	 * quotient */
	{
		long double q = 100.0L * (long double)n / (long double)d;
		long double e = (long double)p.percent - q;
		long double tol = 0.005L + q * 1e-15L;
		if (e > tol || e < -tol)
			fail_msg("%lld/%lld: percent %.17g, long double %.19Lg",
			    (long long)n, (long long)d, p.percent, q);
	}
}

static void
test_indicator_wide_bounds(void **state)
{
	/* 1000 origins x 2^40 (the largest a report may carry) and beyond */
	const int64_t big[] = {
	    INT64_C(1000) << 40,
	    (INT64_C(1000) << 40) - 1,
	    (INT64_C(1000) << 40) + 1,
	    /* 420 origins at 2^40: the fewest whose sum overflowed the
	     * 20000 x n of the int64 code */
	    INT64_C(420) << 40,
	    INT64_C(1) << 62,
	    (INT64_C(1) << 62) - 1,
	    (INT64_C(1) << 62) + 1,
	    INT64_MAX / 3,
	    INT64_MAX / 2,
	    INT64_MAX - 1,
	    INT64_MAX,
	};
	const int targets[] = {0, 1, 40, 60, 65, 99, 100};
	const size_t nb = sizeof(big) / sizeof(big[0]);
	const size_t nt = sizeof(targets) / sizeof(targets[0]);
	struct rules_progress p;

	(void)state;
	for (size_t i = 0; i < nb; i++)
		for (size_t k = 0; k < nt; k++) {
			int64_t d = big[i];
			int t = targets[k];
			/* numerator = denominator */
			wide_check(d, d, t);
			/* 0, 1, a third, half, all but one */
			wide_check(0, d, t);
			wide_check(1, d, t);
			wide_check(d / 3, d, t);
			wide_check(d / 3 * 2, d, t);
			wide_check(d / 2, d, t);
			wide_check(d - 1, d, t);
			/* no denominator yet */
			wide_check(d, 0, t);
			wide_check(0, 0, t);
			/* numerator above the denominator */
			wide_check(d, 1, t);
			wide_check(d, 7, t);
			for (size_t j = 0; j < nb; j++)
				wide_check(big[j], d, t);
		}

	/* the figures of the report in issue 7, written out */
	eval_units(INT64_C(1000) << 40, INT64_C(1000) << 40, 80, 90, &p);
	assert_true(p.has_percent);
	assert_true(p.percent == 100.0);
	assert_true(p.met[0] && p.met[1]);
	assert_int_equal(p.needed[0], 0);
	eval_units(0, INT64_MAX, 100, 1, &p);
	assert_true(p.percent == 0.0);
	assert_true(p.needed[0] == INT64_MAX);
	/* ceil(9223372036854775807 / 100) */
	assert_true(p.needed[1] == INT64_C(92233720368547759));
	eval_units(INT64_MAX / 3, INT64_MAX, 80, 90, &p);
	assert_true(p.percent == 33.33);
	eval_units(INT64_MAX / 3 * 2 + 1, INT64_MAX, 80, 90, &p);
	assert_true(p.percent == 66.67);
	/* exact halves of 1/100 of a percent at d = 20000 * 2^48 (> 2^62)
	 * round up; a denominator one larger rounds down */
	{
		const int64_t m = INT64_C(1) << 48, d = 20000 * m;

		eval_units(m, d, 80, 90, &p); /* 0.005 % */
		assert_true(p.percent == 0.01);
		eval_units(m, d + 1, 80, 90, &p);
		assert_true(p.percent == 0.0);
		eval_units(13333 * m, d, 80, 90, &p); /* 66.665 % */
		assert_true(p.percent == 66.67);
		eval_units(13333 * m, d + 1, 80, 90, &p);
		assert_true(p.percent == 66.66);
		wide_check(m, d, 50);
		wide_check(13333 * m, d + 1, 67);
	}
}

/* Random totals of every magnitude, with targets 0..100. */
static void
test_indicator_wide_random(void **state)
{
	uint64_t x = 0x243f6a8885a308d3ull;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int64_t n, d;
		int t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		d = (int64_t)((x >> 1) >> (x % 64));
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* mostly n <= d, as in real data; sometimes above */
		n = d > 0 && x % 8 != 0
		        ? (int64_t)((x >> 1) % ((uint64_t)d + 1))
		        : (int64_t)((x >> 1) >> (x % 64));
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t = (int)(x % 101);
		wide_check(n, d, t);
	}
}

/* Either side of 2^40, where rules_indicator leaves int64 for 128 bits:
 * the same exact results on both paths. */
static void
test_indicator_narrow_edges(void **state)
{
	static const int ts[] = {0, 1, 33, 50, 67, 99, 100};
	const int64_t e = (int64_t)1 << 40;
	const int64_t vs[] = {
	    0, 1, 3, e - 7, e - 1, e, e + 1, e + 3, 2 * e, e * 1000 + 17};

	(void)state;
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		for (size_t j = 0; j < sizeof(vs) / sizeof(vs[0]); j++)
			for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++)
				wide_check(vs[i], vs[j], ts[k]);
}

/* ---------------------------------------------------------------------- */
/* Strict targets ("Trên 60%", `>60`): met when num*100 > t*den. */

static void
eval_strict(int64_t n, int64_t d, int t25, int t30, int s25, int s30,
    struct rules_progress *p)
{
	struct cdht_counters c;
	struct rules_targets t;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.v[fx_cidx("units_recognized")] = n;
	c.v[fx_cidx("units_total")] = d;
	t.pct[IND_UNITS][0] = t25;
	t.pct[IND_UNITS][1] = t30;
	t.strict[IND_UNITS][0] = s25;
	t.strict[IND_UNITS][1] = s30;
	memset(p, 0x5a, sizeof(*p));
	rules_indicator(&c, &t, IND_UNITS, p);
}

static void
test_strict_examples(void **state)
{
	static const struct {
		int64_t n, d;
		int t;
		int64_t needed;
		int met;
	} cases[] = {
	    /* 001: staff above 60%; 60 of 100 is not above */
	    {60, 100, 60, 1, 0},
	    {61, 100, 60, 0, 1},
	    {59, 100, 60, 2, 0},
	    /* 60% of 7 = 4.2: 5 is above, as without strict */
	    {4, 7, 60, 1, 0},
	    {5, 7, 60, 0, 1},
	    /* 60% of 10 = 6 exactly: 7 needed */
	    {6, 10, 60, 1, 0},
	    {7, 10, 60, 0, 1},
	    {0, 10, 60, 7, 0},
	    /* above 0%: one person */
	    {0, 9, 0, 1, 0},
	    {1, 9, 0, 0, 1},
	    /* above 99% of 100: all of them */
	    {99, 100, 99, 1, 0},
	    {100, 100, 99, 0, 1},
	    /* no denominator: never met; floor(0) + 1 - n */
	    {0, 0, 60, 1, 0},
	    {3, 0, 60, 0, 0},
	    /* large: 60% of 3 000 000 000 = 1 800 000 000 exactly */
	    {1800000000, 3000000000LL, 60, 1, 0},
	    {1800000001, 3000000000LL, 60, 0, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_progress p;

		eval_strict(cases[i].n, cases[i].d, cases[i].t, 80, 1, 0, &p);
		if (p.needed[0] != cases[i].needed ||
		    p.met[0] != cases[i].met || !p.strict[0] || p.strict[1])
			fail_msg("%lld/%lld above %d%%: needed %lld met %d, "
			         "want %lld %d",
			    (long long)cases[i].n, (long long)cases[i].d,
			    cases[i].t, (long long)p.needed[0], p.met[0],
			    (long long)cases[i].needed, cases[i].met);
		assert_int_equal(p.target[0], cases[i].t);
		/* the same as the 2030 target, 2025 not strict */
		eval_strict(cases[i].n, cases[i].d, 80, cases[i].t, 0, 1, &p);
		assert_int_equal(p.needed[1], cases[i].needed);
		assert_int_equal(p.met[1], cases[i].met);
		assert_true(p.strict[1] && !p.strict[0]);
	}
}

/* needed against the smallest count above the target, found by search;
 * the other year (not strict) against its own search. */
static void
test_strict_bruteforce(void **state)
{
	(void)state;
	for (int t = 0; t <= 100; t++)
		for (int64_t d = 0; d <= 120; d++) {
			int64_t above = 0, atleast = 0;

			/* smallest k with k/d > t/100: 100k > t*d */
			while (100 * above <= t * d)
				above++;
			while (100 * atleast < t * d)
				atleast++;
			for (int64_t n = 0; n <= d + 2; n++) {
				struct rules_progress p;
				int64_t want = above > n ? above - n : 0;
				int64_t want2 = atleast > n ? atleast - n : 0;
				int met = 100 * n > t * d && d > 0;

				eval_strict(n, d, t, t, 1, 0, &p);
				if (p.needed[0] != want || p.met[0] != met ||
				    p.needed[1] != want2 ||
				    p.met[1] != (want2 == 0 && d > 0))
					fail_msg("t=%d n=%lld d=%lld: needed "
					         "%lld/%lld met %d/%d, want "
					         "%lld/%lld %d",
					    t, (long long)n, (long long)d,
					    (long long)p.needed[0],
					    (long long)p.needed[1], p.met[0],
					    p.met[1], (long long)want,
					    (long long)want2, met);
			}
		}
}

/* Strict at the int64 bounds, recomputed in unsigned 128 bits: needed is
 * the smallest k >= 0 with 100 (n + k) > t d. */
static void
strict_wide_check(int64_t n, int64_t d, int t)
{
	struct rules_progress p;
	u128 td = (u128)t * (u128)d, hn = (u128)100 * (u128)n;
	int64_t want = 0;

	if (hn <= td) {
		u128 k = (td - hn) / 100 + 1;
		want = k > (u128)INT64_MAX ? INT64_MAX : (int64_t)k;
	}
	eval_strict(n, d, t, t, 1, 1, &p);
	for (int k = 0; k < 2; k++)
		if (p.needed[k] != want || p.met[k] != (hn > td && d > 0))
			fail_msg("%lld/%lld above %d%%: needed %lld met %d, "
			         "want %lld",
			    (long long)n, (long long)d, t,
			    (long long)p.needed[k], p.met[k], (long long)want);
	if (want > 0 && want < INT64_MAX) {
		assert_true((u128)100 * ((u128)n + (u128)want) > td);
		assert_true((u128)100 * ((u128)n + (u128)want - 1) <= td);
	}
}

static void
test_strict_wide(void **state)
{
	const int64_t big[] = {INT64_C(1000) << 40, (INT64_C(1000) << 40) + 1,
	    INT64_C(1) << 62, INT64_MAX / 3, INT64_MAX - 1, INT64_MAX};
	const int targets[] = {0, 1, 40, 60, 99, 100};
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]);
		     k++) {
			int64_t d = big[i];
			int t = targets[k];

			strict_wide_check(0, d, t);
			strict_wide_check(d, d, t);
			strict_wide_check(d / 100 * t, d, t);
			strict_wide_check(d / 100 * t + 1, d, t);
			strict_wide_check(d / 3, d, t);
			strict_wide_check(d - 1, d, t);
			strict_wide_check(d, 0, t);
			strict_wide_check(0, 0, t);
		}
	/* 100% strict of INT64_MAX: INT64_MAX + 1 would be needed */
	strict_wide_check(0, INT64_MAX, 100);
	for (int i = 0; i < 100000; i++) {
		int64_t n, d;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		d = (int64_t)((x >> 1) >> (x % 64));
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = d > 0 ? (int64_t)((x >> 1) % ((uint64_t)d + 1)) : 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		strict_wide_check(n, d, (int)(x % 101));
	}
}

/* The target counters: percent * 2 + strict, targets_own = 1, and back. */
static void
test_targets_counters(void **state)
{
	struct cdht_counters c;
	struct rules_targets t, back;

	(void)state;
	memset(&c, 0, sizeof(c));
	rules_targets_default(&t);
	t.pct[IND_STAFF][0] = 60;
	t.strict[IND_STAFF][0] = true; /* staff = >60 80 */
	t.pct[IND_UNITS][1] = 100;
	assert_int_equal(rules_targets_of(&c, &back), -1); /* none yet */
	assert_int_equal(rules_targets_stamp(&c, &t), 1);
	assert_int_equal(c.v[fx_cidx("targets_own")], 1);
	assert_int_equal(c.v[fx_cidx("target_adults_2025")], 80);
	assert_int_equal(c.v[fx_cidx("target_adults_2030")], 120);
	assert_int_equal(c.v[fx_cidx("target_staff_2025")], 121);
	assert_int_equal(c.v[fx_cidx("target_staff_2030")], 160);
	assert_int_equal(c.v[fx_cidx("target_units_2030")], 200);
	assert_int_equal(c.v[fx_cidx("target_trained_2025")], 200);
	assert_int_equal(c.v[fx_cidx("assessed")], 0);
	assert_int_equal(c.v[fx_cidx("retired")], 0);
	/* the same again changes nothing */
	assert_int_equal(rules_targets_stamp(&c, &t), 0);
	assert_int_equal(rules_targets_of(&c, &back), 0);
	for (int i = 0; i < IND_COUNT; i++)
		for (int k = 0; k < 2; k++) {
			assert_int_equal(back.pct[i][k], t.pct[i][k]);
			assert_int_equal(back.strict[i][k], t.strict[i][k]);
		}
	/* one target changed: a change */
	t.strict[IND_CLANS][1] = true;
	assert_int_equal(rules_targets_stamp(&c, &t), 1);
	assert_int_equal(c.v[fx_cidx("target_clans_2030")], 151);
	/* targets_own lost (an older copy): a change */
	c.v[fx_cidx("targets_own")] = 0;
	assert_int_equal(rules_targets_of(&c, &back), -1);
	assert_int_equal(rules_targets_stamp(&c, &t), 1);
	/* out of range or a sum of two origins' flags: none */
	c.v[fx_cidx("target_units_2030")] = 202;
	assert_int_equal(rules_targets_of(&c, &back), -1);
	c.v[fx_cidx("target_units_2030")] = -1;
	assert_int_equal(rules_targets_of(&c, &back), -1);
	c.v[fx_cidx("target_units_2030")] = 201;
	assert_int_equal(rules_targets_of(&c, &back), 0);
	assert_true(back.strict[IND_UNITS][1] && back.pct[IND_UNITS][1] == 100);
	c.v[fx_cidx("targets_own")] = 2;
	assert_int_equal(rules_targets_of(&c, &back), -1);
}

static void
test_targets_default(void **state)
{
	/* README "Progress" table, 2025 and 2030 */
	static const struct {
		const char *ind;
		int t25, t30;
	} def[] = {
	    {"adults", 40, 60},
	    {"staff", 60, 80},
	    {"digital", 70, 90},
	    {"proficient", 60, 80},
	    {"trained", 100, 100},
	    {"families", 70, 80},
	    {"clans", 65, 75},
	    {"communities", 65, 75},
	    {"units", 80, 90},
	};
	struct rules_targets t;

	memset(&t, 0xff, sizeof(t));
	rules_targets_default(&t);
	for (size_t k = 0; k < sizeof(def) / sizeof(def[0]); k++) {
		int ind =
		    rules_lookup(rules_indicator_names, IND_COUNT, def[k].ind);

		assert_true(ind >= 0);
		assert_int_equal(t.pct[ind][0], def[k].t25);
		assert_int_equal(t.pct[ind][1], def[k].t30);
		assert_false(t.strict[ind][0] || t.strict[ind][1]);
	}
}

static void
test_lookup(void **state)
{
	assert_int_equal(rules_lookup(rules_group_names, GROUP_COUNT, "farmer"),
	    GROUP_FARMER);
	assert_int_equal(
	    rules_lookup(rules_group_names, GROUP_COUNT, "manager"),
	    GROUP_MANAGER);
	assert_int_equal(
	    rules_lookup(rules_group_names, GROUP_COUNT, "Farmer"), -1);
	assert_int_equal(rules_lookup(rules_group_names, GROUP_COUNT, ""), -1);
	assert_int_equal(
	    rules_lookup(rules_population_names, 2, "staff"), POP_STAFF);
	assert_int_equal(rules_lookup(rules_digital_names, 3, "proficient"),
	    DIGITAL_PROFICIENT);
	assert_int_equal(
	    rules_lookup(rules_level_names, 4, "district"), LEVEL_DISTRICT);
	assert_int_equal(rules_lookup(rules_level_names, 4, "districts"), -1);
}

/* ---------------------------------------------------------------------- */
/* Denominators. */

static void
test_check_population(void **state)
{
	/* README "Population" field order */
	static const char *const names[12] = {"adults", "staff",
	    "families_total", "families_recognized", "clans_total",
	    "clans_recognized", "communities_total", "communities_recognized",
	    "units_total", "units_recognized", "members_total",
	    "members_trained"};
	int64_t den[12];
	const char *bad;

	memset(den, 0, sizeof(den));
	assert_null(rules_check_population(den));
	/* a valid, realistic year */
	{
		static const int64_t ok[12] = {
		    400, 50, 100, 70, 10, 7, 5, 4, 20, 16, 30, 30};
		memcpy(den, ok, sizeof(den));
		assert_null(rules_check_population(den));
	}
	/* each negative field is named */
	for (int i = 0; i < 12; i++) {
		memset(den, 0, sizeof(den));
		den[i] = -1;
		bad = rules_check_population(den);
		assert_non_null(bad);
		assert_string_equal(bad, names[i]);
	}
	/* recognised (or trained) above its total, per pair; equal is fine */
	for (int i = 2; i < 12; i += 2) {
		for (int j = 0; j < 12; j++)
			den[j] = 10;
		assert_null(rules_check_population(den));
		den[i + 1] = 11;
		bad = rules_check_population(den);
		assert_non_null(bad);
		assert_string_equal(bad, names[i + 1]);
		/* a total above its recognised count is fine */
		den[i + 1] = 3;
		assert_null(rules_check_population(den));
	}
	/* trained > total with everything else valid */
	memset(den, 0, sizeof(den));
	den[10] = 5;
	den[11] = 6;
	bad = rules_check_population(den);
	assert_non_null(bad);
	assert_string_equal(bad, "members_trained");
	/* adults and staff have no pair: any non-negative value is fine */
	memset(den, 0, sizeof(den));
	den[0] = 1000000;
	den[1] = 0;
	assert_null(rules_check_population(den));
	/* a pair checked against its own total, not a neighbour's */
	memset(den, 0, sizeof(den));
	den[2] = 100; /* families_total */
	den[5] = 1;   /* clans_recognized above clans_total 0 */
	bad = rules_check_population(den);
	assert_non_null(bad);
	assert_string_equal(bad, "clans_recognized");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_score_examples),
	    cmocka_unit_test(test_score_random),
	    cmocka_unit_test(test_apply_every_combination),
	    cmocka_unit_test(test_apply_inverse),
	    cmocka_unit_test(test_indicator_mapping),
	    cmocka_unit_test(test_percent_rounding),
	    cmocka_unit_test(test_percent_bruteforce),
	    cmocka_unit_test(test_no_percent_when_den_zero),
	    cmocka_unit_test(test_needed_examples),
	    cmocka_unit_test(test_needed_bruteforce),
	    cmocka_unit_test(test_indicator_wide_bounds),
	    cmocka_unit_test(test_indicator_wide_random),
	    cmocka_unit_test(test_indicator_narrow_edges),
	    cmocka_unit_test(test_strict_examples),
	    cmocka_unit_test(test_strict_bruteforce),
	    cmocka_unit_test(test_strict_wide),
	    cmocka_unit_test(test_targets_counters),
	    cmocka_unit_test(test_targets_default),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_check_population),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
