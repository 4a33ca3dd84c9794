/* rules.c: scoring, counter contributions and indicators; pure functions. */
#include <stdint.h>
#include <string.h>

#include "rules.h"

_Static_assert(
    CDHT_C_manager_eligible == CDHT_C_farmer_eligible + GROUP_MANAGER,
    "the eligible counters follow enum rules_group");
_Static_assert(LEVEL_AGENCY + 1 == VALID_NLEVELS,
    "enum rules_level follows valid_level_names");

const char *const rules_group_names[GROUP_COUNT] = {
    "farmer", "worker", "official", "business", "manager"};
const char *const rules_population_names[2] = {"adult", "staff"};
const char *const rules_digital_names[3] = {"none", "skilled", "proficient"};
const char *const rules_indicator_names[IND_COUNT] = {"adults", "staff",
    "digital", "proficient", "trained", "families", "clans", "communities",
    "units"};

int
rules_lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

void
rules_score(struct assessment *a)
{
	int total = 0, low = 0;

	for (int i = 0; i < RULES_NSCORES; i++) {
		total += a->scores[i];
		if (a->scores[i] < VALID_PASS_MIN_SCORE)
			low = 1;
	}
	a->total = (uint16_t)total;
	a->eligible = total >= VALID_PASS_TOTAL && !low;
	a->recognized = a->eligible;
}

void
rules_apply(struct cdht_counters *c, const struct assessment *a, int sign)
{
	int64_t *v = c->v;
	int rec = a->recognized ? sign : 0, elig = a->eligible ? sign : 0;

	v[CDHT_C_assessed] += sign;
	v[CDHT_C_recognized] += rec;
	v[CDHT_C_eligible] += elig;
	v[CDHT_C_farmer_eligible + a->group] += elig;
	if (a->recognized && a->outstanding)
		v[CDHT_C_outstanding] += sign;
	if (a->population == POP_ADULT) {
		v[CDHT_C_adult_assessed] += sign;
		v[CDHT_C_adult_recognized] += rec;
	} else {
		v[CDHT_C_staff_assessed] += sign;
		v[CDHT_C_staff_recognized] += rec;
	}
	if (a->recognized && a->digital != DIGITAL_NONE)
		v[CDHT_C_digital_skilled] += sign;
	if (a->recognized && a->digital == DIGITAL_PROFICIENT)
		v[CDHT_C_digital_proficient] += sign;
	/* farmer_assessed, farmer_recognized, worker_assessed, ... in order */
	v[CDHT_C_farmer_assessed + 2 * a->group] += sign;
	v[CDHT_C_farmer_recognized + 2 * a->group] += rec;
}

void
rules_targets_default(struct rules_targets *t)
{
	static const int def[IND_COUNT][2] = {
	    [IND_ADULTS] = {40, 60},
	    [IND_STAFF] = {60, 80},
	    [IND_DIGITAL] = {70, 90},
	    [IND_PROFICIENT] = {60, 80},
	    [IND_TRAINED] = {100, 100},
	    [IND_FAMILIES] = {70, 80},
	    [IND_CLANS] = {65, 75},
	    [IND_COMMUNITIES] = {65, 75},
	    [IND_UNITS] = {80, 90},
	};
	memset(t, 0, sizeof(*t)); /* none strict; the padding too */
	memcpy(t->pct, def, sizeof(def));
}

_Static_assert(
    CDHT_C_target_units_2030 == CDHT_C_target_adults_2025 + 2 * IND_COUNT - 1,
    "the target counters follow enum rules_indicator, 2025 then 2030");

int
rules_targets_stamp(struct cdht_counters *c, const struct rules_targets *t)
{
	int changed = c->v[CDHT_C_targets_own] != 1;

	c->v[CDHT_C_targets_own] = 1;
	for (int i = 0; i < IND_COUNT; i++)
		for (int k = 0; k < 2; k++) {
			int64_t *v =
			    &c->v[CDHT_C_target_adults_2025 + 2 * i + k];
			int64_t want = (int64_t)t->pct[i][k] * 2 +
			               (t->strict[i][k] ? 1 : 0);

			changed |= *v != want;
			*v = want;
		}
	return changed;
}

int
rules_targets_of(const struct cdht_counters *c, struct rules_targets *out)
{
	memset(out, 0, sizeof(*out));
	if (c->v[CDHT_C_targets_own] != 1)
		return -1;
	for (int i = 0; i < IND_COUNT; i++)
		for (int k = 0; k < 2; k++) {
			int64_t v = c->v[CDHT_C_target_adults_2025 + 2 * i + k];

			if (v < 0 || v > 201)
				return -1;
			out->pct[i][k] = (int)(v / 2);
			out->strict[i][k] = (v & 1) != 0;
		}
	return 0;
}

/*
 * Wide intermediates: a product of an int64 total and a factor below 2^31
 * needs up to 94 bits.  gcc and clang have 128-bit integers on every 64-bit
 * target; __extension__ keeps -pedantic quiet about them.
 */
#ifndef __SIZEOF_INT128__
#error "rules.c needs __int128 (gcc or clang on a 64-bit target)"
#endif
__extension__ typedef __int128 rules_wide;

/* floor(a / b) for b > 0 (C's "/" truncates toward zero). */
static rules_wide
wide_div_floor(rules_wide a, rules_wide b)
{
	rules_wide q = a / b;

	return a % b != 0 && a < 0 ? q - 1 : q;
}

/* v clamped to the int64 range. */
static int64_t
wide_sat64(rules_wide v)
{
	return v > INT64_MAX   ? INT64_MAX
	       : v < INT64_MIN ? INT64_MIN
	                       : (int64_t)v;
}

/* floor(a / b) for b > 0, in int64 (the narrow path below). */
static int64_t
div_floor64(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return a % b != 0 && a < 0 ? q - 1 : q;
}

/*
 * The narrow path: with |n|, |d| <= 2^40 and |target| <= 2^20 every
 * intermediate below fits in 62 bits, so int64 gives the wide path's
 * results exactly, without its library divisions (a drill-down evaluates
 * nine indicators per unit and year).  Real totals are far below 2^40.
 */
#define NARROW_COUNT  ((int64_t)1 << 40)
#define NARROW_TARGET (1 << 20)

void
rules_indicator(const struct cdht_counters *c, const struct rules_targets *t,
    int ind, struct rules_progress *out)
{
	static const int frac[IND_COUNT][2] = {
	    [IND_ADULTS] = {CDHT_C_adult_recognized, CDHT_C_adults},
	    [IND_STAFF] = {CDHT_C_staff_recognized, CDHT_C_staff},
	    [IND_DIGITAL] = {CDHT_C_digital_skilled, CDHT_C_recognized},
	    [IND_PROFICIENT] = {CDHT_C_digital_proficient,
	        CDHT_C_digital_skilled},
	    [IND_TRAINED] = {CDHT_C_members_trained, CDHT_C_members_total},
	    [IND_FAMILIES] = {CDHT_C_families_recognized,
	        CDHT_C_families_total},
	    [IND_CLANS] = {CDHT_C_clans_recognized, CDHT_C_clans_total},
	    [IND_COMMUNITIES] = {CDHT_C_communities_recognized,
	        CDHT_C_communities_total},
	    [IND_UNITS] = {CDHT_C_units_recognized, CDHT_C_units_total},
	};
	int64_t n = c->v[frac[ind][0]], d = c->v[frac[ind][1]];
	int narrow = n >= -NARROW_COUNT && n <= NARROW_COUNT &&
	             d >= -NARROW_COUNT && d <= NARROW_COUNT;

	memset(out, 0, sizeof(*out));
	out->numerator = n;
	out->denominator = d;
	out->has_percent = d > 0;
	if (d > 0 && narrow)
		out->percent =
		    (double)div_floor64(n * 20000 + d, d * 2) / 100.0;
	else if (d > 0) {
		/* round half up on 1/100 of a percent: |20000 n + d| < 2^79 */
		rules_wide bp = wide_div_floor(
		    (rules_wide)n * 20000 + d, (rules_wide)d * 2);
		out->percent = (double)bp / 100.0;
	}
	for (int k = 0; k < 2; k++) {
		int tg = t->pct[ind][k];
		bool strict = t->strict[ind][k];

		out->target[k] = tg;
		out->strict[k] = strict;
		/* the smallest count that meets the target: at least
		 * tg*d/100, ceil(tg*d/100) = -floor(-tg*d/100); above it
		 * (strict), floor(tg*d/100) + 1; |tg*d| <= 2^60 narrow, < 2^94
		 * wide */
		if (narrow && tg >= -NARROW_TARGET && tg <= NARROW_TARGET) {
			int64_t td = (int64_t)tg * d;
			int64_t lack = (strict ? div_floor64(td, 100) + 1
			                       : -div_floor64(-td, 100)) -
			               n;

			out->needed[k] = lack > 0 ? lack : 0;
		} else {
			rules_wide td = (rules_wide)tg * d;
			rules_wide lack = (strict ? wide_div_floor(td, 100) + 1
			                          : -wide_div_floor(-td, 100)) -
			                  n;

			out->needed[k] = lack > 0 ? wide_sat64(lack) : 0;
		}
		out->met[k] = out->needed[k] == 0 && d > 0;
	}
}

const char *
rules_check_population(const int64_t den[VALID_NDENOMINATORS])
{
	const char *const *names = valid_denominator_names;

	for (int i = 0; i < VALID_NDENOMINATORS; i++)
		if (den[i] < 0)
			return names[i];
	/* after adults and staff, (total, recognised-or-trained) pairs */
	for (int i = 2; i < VALID_NDENOMINATORS; i += 2)
		if (den[i + 1] > den[i])
			return names[i + 1];
	return NULL;
}
