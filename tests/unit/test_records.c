/*
 * test_records.c: daemon/records.c and daemon/store.c on a real LMDB
 * environment in a temporary directory: assessment round trips (name, birth
 * year), replace and withdraw with exact counters, the outstanding rule over
 * five years (set, cleared and restored from any of the four years before), a
 * long random sequence of puts/replaces/withdraws/population writes checked
 * against a shadow model recounted here by brute force after every step,
 * report versions and the outbox, population and den_set, ensure_years,
 * bump_all, the audit trail, and the store's sticky error on a full map.
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
#include "records.h"
#include "rules.h"
#include "store.h"

#include "fixture.h"

#define SELF   "04108"
#define NYEARS (RULES_YEAR_MAX - RULES_YEAR_MIN + 1)

static const struct records_actor actor = {
    SELF, "clerk-test", 1700000000, RECOGNITION_SCORE};

/* The population counters, in records_put_population's order. */
static const char *const den_names[RECORDS_NPOP] = {"adults", "staff",
    "families_total", "families_recognized", "clans_total", "clans_recognized",
    "communities_total", "communities_recognized", "units_total",
    "units_recognized", "members_total", "members_trained"};

/* ---------------------------------------------------------------------- */
/* Helpers. */

static int
setup(void **state)
{
	return fx_store_setup(state, "records");
}

/* Scores: recognised ones are 8s plus a little, others have a 4 in them. */
static void
fill_scores(uint8_t s[RULES_NSCORES], int recognized, int variant)
{
	for (int i = 0; i < RULES_NSCORES; i++)
		s[i] = (uint8_t)(recognized ? 8 + (i + variant) % 3
		                            : 9 - (i + variant) % 2);
	if (!recognized)
		s[variant % RULES_NSCORES] = 4;
}

static void
mk(struct assessment *a, int year, const char *pid, int group, int pop,
    int digital, int recognized)
{
	fx_assessment(a, year, pid, group, pop, digital);
	fill_scores(a->scores, recognized, year);
}

static int
put(struct store_txn *t, int year, const char *pid, int recognized)
{
	struct assessment a;
	int replaced = -1;

	mk(&a, year, pid, GROUP_FARMER, POP_ADULT, DIGITAL_SKILLED, recognized);
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_OK);
	assert_true(replaced == 0 || replaced == 1);
	assert_int_equal(a.recognized, recognized);
	return replaced;
}

static struct assessment
get(struct store_txn *t, int year, const char *pid)
{
	struct assessment a;

	assert_int_equal(records_get(t, year, pid, strlen(pid), &a), STORE_OK);
	return a;
}

static int64_t
counter(struct store_txn *t, int year, const char *name)
{
	return fx_local(t, year).c.v[fx_cidx(name)];
}

/* ---------------------------------------------------------------------- */
/* The shadow model and its brute-force recount. */

#define NPERSONS 4
static const char *const pids[NPERSONS] = {
    "P0", "P1", "079123456789", "Nguy\xe1\xbb\x85n-42"};

struct mrec {
	int present;
	uint8_t scores[RULES_NSCORES];
	uint8_t group, pop, digital;
};

struct model {
	struct mrec r[NPERSONS][NYEARS];
	int den_set[NYEARS];
	int64_t den[NYEARS][RECORDS_NPOP];
};

static int
m_recognized(const struct mrec *r)
{
	int sum = 0, low = 0;

	for (int i = 0; i < RULES_NSCORES; i++) {
		sum += r->scores[i];
		low |= r->scores[i] < 5;
	}
	return r->present && sum >= 80 && !low;
}

static int
m_total(const struct mrec *r)
{
	int sum = 0;

	for (int i = 0; i < RULES_NSCORES; i++)
		sum += r->scores[i];
	return sum;
}

/* Recognised in year yi and in each of the four years before (all >= 2021).
 */
static int
m_outstanding(const struct model *m, int p, int yi)
{
	if (yi < 4)
		return 0;
	for (int k = 0; k < 5; k++)
		if (!m_recognized(&m->r[p][yi - k]))
			return 0;
	return 1;
}

static void
m_recount(const struct model *m, int yi, struct cdht_counters *c)
{
	static const char *const gname[GROUP_COUNT] = {
	    "farmer", "worker", "official", "business", "manager"};
	char nm[64];

	memset(c, 0, sizeof(*c));
	for (int p = 0; p < NPERSONS; p++) {
		const struct mrec *r = &m->r[p][yi];
		int rec = m_recognized(r);

		if (!r->present)
			continue;
		c->v[fx_cidx("assessed")]++;
		c->v[fx_cidx("recognized")] += rec;
		c->v[fx_cidx("eligible")] += rec; /* by score */
		c->v[fx_cidx("outstanding")] += m_outstanding(m, p, yi);
		snprintf(nm, sizeof(nm), "%s_eligible", gname[r->group]);
		c->v[fx_cidx(nm)] += rec;
		if (r->pop == POP_ADULT) {
			c->v[fx_cidx("adult_assessed")]++;
			c->v[fx_cidx("adult_recognized")] += rec;
		} else {
			c->v[fx_cidx("staff_assessed")]++;
			c->v[fx_cidx("staff_recognized")] += rec;
		}
		c->v[fx_cidx("digital_skilled")] +=
		    rec && r->digital != DIGITAL_NONE;
		c->v[fx_cidx("digital_proficient")] +=
		    rec && r->digital == DIGITAL_PROFICIENT;
		snprintf(nm, sizeof(nm), "%s_assessed", gname[r->group]);
		c->v[fx_cidx(nm)]++;
		snprintf(nm, sizeof(nm), "%s_recognized", gname[r->group]);
		c->v[fx_cidx(nm)] += rec;
	}
	c->v[fx_cidx("den_set")] = m->den_set[yi];
	for (int i = 0; i < RECORDS_NPOP; i++)
		c->v[fx_cidx(den_names[i])] = m->den[yi][i];
}

/* Every year's local counters and every stored record against the model. */
static void
m_verify(struct store_txn *t, const struct model *m, const char *when)
{
	for (int yi = 0; yi < NYEARS; yi++) {
		struct cdht_counters want;
		struct local_report lr = fx_local(t, RULES_YEAR_MIN + yi);

		m_recount(m, yi, &want);
		fx_assert_counters(&lr.c, &want, "%s: year %d (recount)", when,
		    RULES_YEAR_MIN + yi);
		for (int p = 0; p < NPERSONS; p++) {
			const struct mrec *r = &m->r[p][yi];
			struct assessment a;
			int rc = records_get(t, RULES_YEAR_MIN + yi, pids[p],
			    strlen(pids[p]), &a);

			if (!r->present) {
				assert_int_equal(rc, STORE_NOTFOUND);
				continue;
			}
			assert_int_equal(rc, STORE_OK);
			if (a.recognized != m_recognized(r) ||
			    a.outstanding != m_outstanding(m, p, yi) ||
			    a.total != m_total(r) || a.group != r->group ||
			    a.population != r->pop || a.digital != r->digital ||
			    memcmp(a.scores, r->scores, RULES_NSCORES) != 0)
				fail_msg(
				    "%s: record %d/%s: rec %d out %d total "
				    "%d, model %d %d %d",
				    when, RULES_YEAR_MIN + yi, pids[p],
				    a.recognized, a.outstanding, a.total,
				    m_recognized(r), m_outstanding(m, p, yi),
				    m_total(r));
		}
	}
}

/* Put (p, yi) with these fields into the store and the model; records_put
 * must say `replaced`. */
static void
m_set(struct store_txn *t, struct model *m, int p, int yi, int group, int pop,
    int digital, int rec, int replaced)
{
	struct assessment a;
	int got = -1;

	mk(&a, RULES_YEAR_MIN + yi, pids[p], group, pop, digital, rec);
	assert_int_equal(records_put(t, &actor, &a, &got), STORE_OK);
	assert_int_equal(got, replaced);
	m->r[p][yi] = (struct mrec){
	    1, {0}, (uint8_t)group, (uint8_t)pop, (uint8_t)digital};
	memcpy(m->r[p][yi].scores, a.scores, RULES_NSCORES);
}

/* ---------------------------------------------------------------------- */
/* Round trips, replace, withdraw. */

static void
test_put_get_roundtrip(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	struct assessment a, b;
	static const uint8_t sc[RULES_NSCORES] = {
	    9, 8, 7, 10, 6, 9, 8, 9, 8, 7}; /* 81 */
	char longname[RULES_NAME_MAX + 1];
	char pid64[RULES_PID_MAX + 1];
	int replaced = -1;

	memset(&a, 0, sizeof(a));
	a.year = 2024;
	strcpy(a.person_id, "001085012345");
	a.pid_len = 12;
	strcpy(a.name, "Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b Hoa");
	a.birth_year = 1985;
	a.group = GROUP_OFFICIAL;
	a.population = POP_STAFF;
	a.digital = DIGITAL_SKILLED;
	memcpy(a.scores, sc, sizeof(sc));
	a.total = 1;
	a.recognized = false;
	a.outstanding = true; /* the node computes it: must be cleared */
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(replaced, 0);
	assert_int_equal(a.total, 81);
	assert_true(a.recognized);
	assert_false(a.outstanding);
	assert_int_equal(a.updated_at, actor.now);
	fx_commit(&t);
	fx_store_reopen(f);

	t = fx_rtxn(f);
	memset(&b, 0x77, sizeof(b));
	assert_int_equal(
	    records_get(t, 2024, "001085012345", 12, &b), STORE_OK);
	fx_assert_assessment(&b, 2024, "001085012345",
	    "Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b Hoa", 1985, GROUP_OFFICIAL,
	    POP_STAFF, DIGITAL_SKILLED, sc);
	assert_int_equal(b.total, 81);
	assert_true(b.recognized);
	assert_false(b.outstanding);
	assert_int_equal(b.updated_at, actor.now);
	/* other years, prefixes and extensions of the id are not found */
	assert_int_equal(
	    records_get(t, 2025, "001085012345", 12, &b), STORE_NOTFOUND);
	assert_int_equal(
	    records_get(t, 2024, "00108501234", 11, &b), STORE_NOTFOUND);
	assert_int_equal(
	    records_get(t, 2024, "0010850123456", 13, &b), STORE_NOTFOUND);
	assert_int_equal(records_get(t, 2024, "", 0, &b), STORE_NOTFOUND);
	store_abort(&t);
	assert_null(t);

	/* a name of exactly 200 bytes, a 64-byte id, no birth year */
	t = fx_wtxn(f);
	memset(longname, 'x', RULES_NAME_MAX);
	longname[RULES_NAME_MAX] = '\0';
	memset(pid64, 'k', RULES_PID_MAX);
	pid64[RULES_PID_MAX] = '\0';
	mk(&a, 2030, pid64, GROUP_BUSINESS, POP_ADULT, DIGITAL_NONE, 0);
	memcpy(a.name, longname, sizeof(longname));
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(replaced, 0);
	b = get(t, 2030, pid64);
	assert_string_equal(b.name, longname);
	assert_int_equal(b.birth_year, 0);
	assert_int_equal(b.pid_len, RULES_PID_MAX);
	assert_false(b.recognized);
	/* replacing with no name clears the name */
	a.name[0] = '\0';
	a.birth_year = 1990;
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(replaced, 1);
	b = get(t, 2030, pid64);
	assert_string_equal(b.name, "");
	assert_int_equal(b.birth_year, 1990);
	fx_commit(&t);
}

static void
test_replace_and_withdraw_counters(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	struct model m;
	const int yi = 2026 - RULES_YEAR_MIN;

	memset(&m, 0, sizeof(m));
	/* P0: recognised farmer adult, proficient */
	m_set(t, &m, 0, yi, GROUP_FARMER, POP_ADULT, DIGITAL_PROFICIENT, 1, 0);
	m_verify(t, &m, "first put");
	assert_int_equal(counter(t, 2026, "digital_proficient"), 1);
	assert_int_equal(counter(t, 2026, "farmer_recognized"), 1);

	/* replaced by a not recognised worker on staff */
	m_set(t, &m, 0, yi, GROUP_WORKER, POP_STAFF, DIGITAL_PROFICIENT, 0, 1);
	m_verify(t, &m, "replace");
	assert_int_equal(counter(t, 2026, "assessed"), 1);
	assert_int_equal(counter(t, 2026, "recognized"), 0);
	assert_int_equal(counter(t, 2026, "digital_skilled"), 0);
	assert_int_equal(counter(t, 2026, "farmer_assessed"), 0);
	assert_int_equal(counter(t, 2026, "worker_assessed"), 1);
	assert_int_equal(counter(t, 2026, "staff_assessed"), 1);

	/* P1 beside it, recognised manager on staff */
	m_set(t, &m, 1, yi, GROUP_MANAGER, POP_STAFF, DIGITAL_SKILLED, 1, 0);
	m_verify(t, &m, "second person");
	assert_int_equal(counter(t, 2026, "assessed"), 2);
	assert_int_equal(counter(t, 2026, "staff_assessed"), 2);
	assert_int_equal(counter(t, 2026, "staff_recognized"), 1);

	/* withdraw P0: only P1 is left */
	assert_int_equal(
	    records_withdraw(t, &actor, 2026, "P0", 2, NULL), STORE_OK);
	m.r[0][yi].present = 0;
	m_verify(t, &m, "withdraw");
	assert_int_equal(counter(t, 2026, "assessed"), 1);
	assert_int_equal(
	    records_withdraw(t, &actor, 2026, "P0", 2, NULL), STORE_NOTFOUND);
	assert_int_equal(store_txn_err(t), STORE_OK);
	assert_int_equal(
	    records_withdraw(t, &actor, 2027, "P1", 2, NULL), STORE_NOTFOUND);
	/* withdraw P1: the year is empty again */
	assert_int_equal(
	    records_withdraw(t, &actor, 2026, "P1", 2, NULL), STORE_OK);
	m.r[1][yi].present = 0;
	m_verify(t, &m, "all withdrawn");
	{
		struct local_report lr = fx_local(t, 2026);

		assert_true(cdht_counters_is_zero(&lr.c));
	}
	assert_true(fx_local(t, 2026).version > 0);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* The outstanding rule. */

static void
test_outstanding_five_years(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);

	for (int y = 2021; y <= 2025; y++)
		assert_int_equal(put(t, y, "A", 1), 0);
	for (int y = 2021; y <= 2024; y++) {
		assert_false(get(t, y, "A").outstanding);
		assert_int_equal(counter(t, y, "outstanding"), 0);
	}
	assert_true(get(t, 2025, "A").outstanding);
	assert_int_equal(counter(t, 2025, "outstanding"), 1);
	assert_int_equal(counter(t, 2025, "recognized"), 1);
	fx_commit(&t);

	/* withdrawing or un-recognising any of 2021..2024 clears 2025, and
	 * restoring it sets it again */
	for (int y = 2021; y <= 2024; y++) {
		uint64_t v0;

		t = fx_wtxn(f);
		v0 = fx_local(t, 2025).version;
		assert_int_equal(
		    records_withdraw(t, &actor, y, "A", 1, NULL), STORE_OK);
		assert_false(get(t, 2025, "A").outstanding);
		assert_int_equal(counter(t, 2025, "outstanding"), 0);
		assert_int_equal(counter(t, 2025, "recognized"), 1);
		assert_int_equal(counter(t, y, "assessed"), 0);
		assert_true(fx_local(t, 2025).version > v0);
		fx_commit(&t);

		t = fx_wtxn(f);
		assert_int_equal(put(t, y, "A", 1), 0);
		assert_true(get(t, 2025, "A").outstanding);
		assert_int_equal(counter(t, 2025, "outstanding"), 1);

		/* the cached report is written, a later write gets a new
		 * version (one per transaction otherwise) */
		assert_int_equal(store_pending_flush(t), STORE_OK);
		v0 = fx_local(t, 2025).version;
		assert_int_equal(put(t, y, "A", 0), 1);
		assert_false(get(t, 2025, "A").outstanding);
		assert_int_equal(counter(t, 2025, "outstanding"), 0);
		assert_int_equal(counter(t, y, "recognized"), 0);
		assert_int_equal(counter(t, y, "assessed"), 1);
		assert_true(fx_local(t, 2025).version > v0);

		assert_int_equal(put(t, y, "A", 1), 1);
		assert_true(get(t, 2025, "A").outstanding);
		assert_int_equal(counter(t, 2025, "outstanding"), 1);
		fx_commit(&t);
	}

	/* un-recognising 2025 itself */
	t = fx_wtxn(f);
	assert_int_equal(put(t, 2025, "A", 0), 1);
	assert_false(get(t, 2025, "A").outstanding);
	assert_int_equal(counter(t, 2025, "outstanding"), 0);
	assert_int_equal(counter(t, 2025, "recognized"), 0);
	assert_int_equal(put(t, 2025, "A", 1), 1);
	assert_int_equal(counter(t, 2025, "outstanding"), 1);

	/* another person's years do not count */
	for (int y = 2021; y <= 2024; y++)
		put(t, y, "B", 1);
	assert_int_equal(put(t, 2025, "B", 0), 0);
	assert_false(get(t, 2025, "B").outstanding);
	assert_int_equal(counter(t, 2025, "outstanding"), 1);
	assert_int_equal(counter(t, 2025, "assessed"), 2);
	fx_commit(&t);
}

static void
test_outstanding_middle_year(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	static const int years[] = {
	    2021, 2022, 2024, 2025, 2026, 2027, 2029, 2030};
	struct assessment probe;
	uint64_t v[NYEARS];

	for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++)
		put(t, years[i], "M", 1);
	for (int y = 2021; y <= 2030; y++) {
		struct assessment a;

		if (records_get(t, y, "M", 1, &a) == STORE_OK)
			assert_false(a.outstanding);
		assert_int_equal(counter(t, y, "outstanding"), 0);
		v[y - RULES_YEAR_MIN] = fx_local(t, y).version;
	}
	/* what 2028 would be: 2024..2027 recognised, so outstanding */
	mk(&probe, 2028, "M", GROUP_FARMER, POP_ADULT, DIGITAL_NONE, 1);
	rules_score(&probe);
	assert_true(records_outstanding(t, &probe));
	mk(&probe, 2028, "M", GROUP_FARMER, POP_ADULT, DIGITAL_NONE, 0);
	rules_score(&probe);
	assert_false(records_outstanding(t, &probe));
	mk(&probe, 2026, "M", GROUP_FARMER, POP_ADULT, DIGITAL_NONE, 1);
	rules_score(&probe);
	assert_false(records_outstanding(t, &probe)); /* 2023 missing */
	fx_commit(&t);

	/* the missing 2023 arrives: 2025, 2026, 2027 become outstanding */
	t = fx_wtxn(f);
	assert_int_equal(put(t, 2023, "M", 1), 0);
	assert_false(get(t, 2023, "M").outstanding);
	for (int y = 2025; y <= 2027; y++) {
		assert_true(get(t, y, "M").outstanding);
		assert_int_equal(counter(t, y, "outstanding"), 1);
		assert_true(fx_local(t, y).version > v[y - RULES_YEAR_MIN]);
	}
	/* 2024 and 2029/2030 did not change (2028 is missing) */
	assert_false(get(t, 2024, "M").outstanding);
	assert_false(get(t, 2029, "M").outstanding);
	assert_false(get(t, 2030, "M").outstanding);
	assert_int_equal(fx_local(t, 2029).version, v[2029 - RULES_YEAR_MIN]);
	assert_int_equal(fx_local(t, 2030).version, v[2030 - RULES_YEAR_MIN]);
	fx_commit(&t);

	/* and 2028 closes the last gap: 2028, 2029, 2030 outstanding too */
	t = fx_wtxn(f);
	assert_int_equal(put(t, 2028, "M", 1), 0);
	for (int y = 2025; y <= 2030; y++) {
		assert_true(get(t, y, "M").outstanding);
		assert_int_equal(counter(t, y, "outstanding"), 1);
	}
	/* un-recognising 2026 clears 2026..2030 but not 2025 */
	assert_int_equal(put(t, 2026, "M", 0), 1);
	assert_true(get(t, 2025, "M").outstanding);
	for (int y = 2026; y <= 2030; y++) {
		assert_false(get(t, y, "M").outstanding);
		assert_int_equal(counter(t, y, "outstanding"), 0);
	}
	fx_commit(&t);
}

/* ~2000 random operations against the shadow model, checked every step. */
static void
test_random_against_model(void **state)
{
	struct fx_store *f = *state;
	struct model *m = calloc(1, sizeof(*m));
	struct store_txn *t;
	unsigned seed = 20250701;
	int puts = 0, replaces = 0, withdraws = 0, missing = 0, pops = 0;

	assert_non_null(m);
	srand(seed);
	/* the versions and the outbox are checked after every window of
	 * up to 3 steps: the cached local reports are written then */
	struct local_report before[NYEARS];
	int touched[NYEARS], any = 0, open = 0;

	t = fx_wtxn(f);
	for (int step = 0; step < 2000; step++) {
		int p = rand() % NPERSONS, yi = rand() % NYEARS;
		int y = RULES_YEAR_MIN + yi, op = rand() % 20;
		char when[64];
		int changed = 1;

		snprintf(when, sizeof(when), "step %d (seed %u)", step, seed);
		if (!open) {
			for (int k = 0; k < NYEARS; k++) {
				before[k] = fx_local(t, RULES_YEAR_MIN + k);
				fx_outbox_clear(t, SELF, RULES_YEAR_MIN + k);
				touched[k] = 0;
			}
			any = 0;
			open = 1;
		}
		if (op < 12) {
			struct assessment a;
			int replaced = -1, rec = rand() % 3 != 0;
			struct mrec *r = &m->r[p][yi];

			mk(&a, y, pids[p], rand() % GROUP_COUNT, rand() % 2,
			    rand() % 3, rec);
			/* now and then an arbitrary score vector */
			if (rand() % 4 == 0)
				for (int i = 0; i < RULES_NSCORES; i++)
					a.scores[i] = (uint8_t)(3 + rand() % 8);
			assert_int_equal(
			    records_put(t, &actor, &a, &replaced), STORE_OK);
			assert_int_equal(replaced, r->present);
			replaces += r->present;
			puts += !r->present;
			r->present = 1;
			memcpy(r->scores, a.scores, RULES_NSCORES);
			r->group = a.group;
			r->pop = a.population;
			r->digital = a.digital;
			assert_int_equal(a.recognized, m_recognized(r));
			assert_int_equal(
			    a.outstanding, m_outstanding(m, p, yi));
		} else if (op < 19) {
			int rc = records_withdraw(
			    t, &actor, y, pids[p], strlen(pids[p]), NULL);

			if (m->r[p][yi].present) {
				assert_int_equal(rc, STORE_OK);
				withdraws++;
			} else {
				assert_int_equal(rc, STORE_NOTFOUND);
				missing++;
				changed = 0;
			}
			m->r[p][yi].present = 0;
		} else {
			int64_t den[RECORDS_NPOP];

			for (int i = 0; i < RECORDS_NPOP; i++)
				den[i] = rand() % 1000;
			assert_int_equal(
			    records_put_population(t, &actor, y, den, 0),
			    STORE_OK);
			m->den_set[yi] = 1;
			memcpy(m->den[yi], den, sizeof(den));
			pops++;
		}
		assert_int_equal(store_txn_err(t), STORE_OK);
		m_verify(t, m, when);
		touched[yi] |= changed;
		any |= changed;
		if (step % 3 != 2 && step % 37 != 36)
			continue;
		/* the window's touched years get a new, higher version and
		 * are queued; so does every year whose counters moved;
		 * nothing else */
		assert_int_equal(store_pending_flush(t), STORE_OK);
		open = 0;
		for (int k = 0; k < NYEARS; k++) {
			struct local_report lr =
			    fx_local(t, RULES_YEAR_MIN + k);
			int moved =
			    memcmp(&lr.c, &before[k].c, sizeof(lr.c)) != 0;

			if (moved || touched[k]) {
				if (lr.version <= before[k].version ||
				    !fx_outbox_has(t, SELF, RULES_YEAR_MIN + k))
					fail_msg("%s: year %d changed but "
					         "version %llu -> %llu, "
					         "outbox %d",
					    when, RULES_YEAR_MIN + k,
					    (unsigned long long)before[k]
					        .version,
					    (unsigned long long)lr.version,
					    fx_outbox_has(
					        t, SELF, RULES_YEAR_MIN + k));
			}
			if (!any)
				assert_int_equal(lr.version, before[k].version);
		}
		if (step % 37 == 36) {
			fx_commit(&t);
			if (step % 500 == 499)
				fx_store_reopen(f);
			t = fx_wtxn(f);
		}
	}
	fx_commit(&t);
	fx_store_reopen(f);
	t = fx_rtxn(f);
	m_verify(t, m, "after reopen");
	store_abort(&t);
	/* the sequence really exercised every path */
	assert_true(puts > 200 && replaces > 200 && withdraws > 200 &&
	            missing > 50 && pops > 20);
	free(m);
}

/* Put (p, yi) with recognition rec into the store and the model. */
static void
m_put(struct store_txn *t, struct model *m, int p, int yi, int rec)
{
	struct assessment a;
	int replaced = -1;

	mk(&a, RULES_YEAR_MIN + yi, pids[p], rand() % GROUP_COUNT, rand() % 2,
	    rand() % 3, rec);
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_OK);
	assert_int_equal(replaced, m->r[p][yi].present);
	m->r[p][yi].present = 1;
	memcpy(m->r[p][yi].scores, a.scores, RULES_NSCORES);
	m->r[p][yi].group = a.group;
	m->r[p][yi].pop = a.population;
	m->r[p][yi].digital = a.digital;
}

static int64_t
total_outstanding(struct store_txn *t)
{
	int64_t out = 0;

	for (int yi = 0; yi < NYEARS; yi++)
		out += counter(t, RULES_YEAR_MIN + yi, "outstanding");
	return out;
}

/*
 * The outstanding rule against the model on long runs of recognised years
 * (which the random test above rarely builds): every cell filled recognised
 * in a shuffled order, then random flips, then everything withdrawn in a
 * shuffled order; checked after every step.
 */
static void
test_outstanding_against_model(void **state)
{
	struct fx_store *f = *state;
	struct model *m = calloc(1, sizeof(*m));
	struct store_txn *t = fx_wtxn(f);
	int cells[NPERSONS * NYEARS], nc = NPERSONS * NYEARS;

	assert_non_null(m);
	srand(387);
	for (int i = 0; i < nc; i++)
		cells[i] = i;
	for (int i = nc - 1; i > 0; i--) {
		int j = rand() % (i + 1), x = cells[i];

		cells[i] = cells[j];
		cells[j] = x;
	}
	for (int i = 0; i < nc; i++) {
		m_put(t, m, cells[i] / NYEARS, cells[i] % NYEARS, 1);
		m_verify(t, m, "fill");
	}
	/* every person recognised 2021..2030: 2025..2030 outstanding */
	assert_int_equal(total_outstanding(t), NPERSONS * 6);
	fx_commit(&t);

	t = fx_wtxn(f);
	for (int n = 0; n < 300; n++) {
		int p = rand() % NPERSONS, yi = rand() % NYEARS;

		if (rand() % 6 == 0) {
			int rc =
			    records_withdraw(t, &actor, RULES_YEAR_MIN + yi,
			        pids[p], strlen(pids[p]), NULL);

			assert_int_equal(rc,
			    m->r[p][yi].present ? STORE_OK : STORE_NOTFOUND);
			m->r[p][yi].present = 0;
		} else
			m_put(t, m, p, yi, rand() % 5 != 0);
		m_verify(t, m, "flips");
	}
	fx_commit(&t);

	t = fx_wtxn(f);
	for (int i = nc - 1; i > 0; i--) {
		int j = rand() % (i + 1), x = cells[i];

		cells[i] = cells[j];
		cells[j] = x;
	}
	for (int i = 0; i < nc; i++) {
		int p = cells[i] / NYEARS, yi = cells[i] % NYEARS;
		int rc = records_withdraw(t, &actor, RULES_YEAR_MIN + yi,
		    pids[p], strlen(pids[p]), NULL);

		assert_int_equal(
		    rc, m->r[p][yi].present ? STORE_OK : STORE_NOTFOUND);
		m->r[p][yi].present = 0;
		m_verify(t, m, "teardown");
	}
	assert_int_equal(total_outstanding(t), 0);
	fx_commit(&t);
	free(m);
}

/* ---------------------------------------------------------------------- */
/* Versions, outbox, audit. */

/* The newest audit record, as time \t who \t action \t detail. */
static int
audit_last_cb(void *arg, const struct audit_entry *e)
{
	char *out = arg;

	snprintf(out, 512, "%lld\t%s\t%s\t%s", (long long)e->time, e->who,
	    e->action, e->detail);
	return 1;
}

static void
audit_last(struct store_txn *t, char out[512])
{
	out[0] = '\0';
	assert_int_equal(
	    records_audit_tail(t, 1, audit_last_cb, out), STORE_OK);
}

static void
test_versions_outbox_audit(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	char last[512];
	uint64_t v1, v2, v3, v4;
	int64_t den[RECORDS_NPOP] = {0};
	int n0;

	assert_int_equal(fx_local(t, 2027).version, 0);
	assert_false(fx_outbox_has(t, SELF, 2027));
	assert_int_equal(fx_count_table(t, TBL_AUDIT), 0);

	put(t, 2027, "V", 1);
	v1 = fx_local(t, 2027).version;
	assert_true(v1 > 0);
	assert_true(fx_outbox_has(t, SELF, 2027)); /* queued at once */
	assert_int_equal(store_pending_flush(t), STORE_OK);
	assert_int_equal(fx_local(t, 2027).version, v1);
	assert_true(fx_outbox_has(t, SELF, 2027));
	assert_false(fx_outbox_has(t, SELF, 2026));
	assert_int_equal(fx_local(t, 2026).version, 0);
	assert_int_equal(fx_count_table(t, TBL_AUDIT), 1);
	audit_last(t, last);
	assert_string_equal(last, "1700000000\tclerk-test\tsubmit\t2027/V "
	                          "total=91 eligible=1 recognized=1");
	fx_outbox_clear(t, SELF, 2027);
	fx_commit(&t);

	t = fx_wtxn(f);
	put(t, 2027, "V", 0);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	v2 = fx_local(t, 2027).version;
	assert_true(v2 > v1);
	assert_true(fx_outbox_has(t, SELF, 2027));
	audit_last(t, last);
	assert_non_null(strstr(last, "\tclerk-test\treplace\t2027/V total="));
	assert_non_null(strstr(last, "recognized=0"));
	fx_outbox_clear(t, SELF, 2027);

	assert_int_equal(
	    records_withdraw(t, &actor, 2027, "V", 1, NULL), STORE_OK);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	v3 = fx_local(t, 2027).version;
	assert_true(v3 > v2);
	assert_true(fx_outbox_has(t, SELF, 2027));
	audit_last(t, last);
	assert_string_equal(last, "1700000000\tclerk-test\twithdraw\t2027/V");
	fx_outbox_clear(t, SELF, 2027);

	n0 = fx_count_table(t, TBL_AUDIT);
	assert_int_equal(n0, 3);
	den[0] = 10;
	assert_int_equal(
	    records_put_population(t, &actor, 2027, den, 0), STORE_OK);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	v4 = fx_local(t, 2027).version;
	assert_true(v4 > v3);
	assert_true(fx_outbox_has(t, SELF, 2027));
	assert_int_equal(fx_count_table(t, TBL_AUDIT), n0 + 1);
	audit_last(t, last);
	assert_string_equal(
	    last, "1700000000\tclerk-test\tpopulation\tpopulation 2027");
	/* a failed withdraw writes nothing */
	fx_outbox_clear(t, SELF, 2027);
	assert_int_equal(
	    records_withdraw(t, &actor, 2027, "V", 1, NULL), STORE_NOTFOUND);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	assert_int_equal(fx_local(t, 2027).version, v4);
	assert_false(fx_outbox_has(t, SELF, 2027));
	assert_int_equal(fx_count_table(t, TBL_AUDIT), n0 + 1);
	fx_commit(&t);

	/* versions survive a restart and keep growing */
	fx_store_reopen(f);
	t = fx_wtxn(f);
	assert_int_equal(fx_local(t, 2027).version, v4);
	put(t, 2021, "V", 1);
	assert_true(fx_local(t, 2021).version > v4);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* Population, ensure_years, bump_all. */

static void
test_population(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	static const int64_t den[RECORDS_NPOP] = {
	    400, 55, 120, 90, 12, 8, 6, 5, 20, 17, 33, 30};
	int64_t got[RECORDS_NPOP];

	assert_int_equal(records_get_population(t, 2025, got), STORE_NOTFOUND);
	put(t, 2025, "X", 1);
	assert_int_equal(counter(t, 2025, "den_set"), 0);
	/* assessments alone do not make the year's denominators exist */
	assert_int_equal(records_get_population(t, 2025, got), STORE_NOTFOUND);

	assert_int_equal(
	    records_put_population(t, &actor, 2025, den, 0), STORE_OK);
	fx_commit(&t);
	fx_store_reopen(f);
	t = fx_wtxn(f);
	memset(got, 0xff, sizeof(got));
	assert_int_equal(records_get_population(t, 2025, got), STORE_OK);
	assert_memory_equal(got, den, sizeof(den));
	assert_int_equal(counter(t, 2025, "den_set"), 1);
	for (int i = 0; i < RECORDS_NPOP; i++)
		assert_int_equal(counter(t, 2025, den_names[i]), den[i]);
	/* the assessment counters are untouched */
	assert_int_equal(counter(t, 2025, "assessed"), 1);
	assert_int_equal(counter(t, 2025, "recognized"), 1);
	/* other years are not set */
	assert_int_equal(records_get_population(t, 2024, got), STORE_NOTFOUND);
	assert_int_equal(counter(t, 2024, "adults"), 0);

	/* an all-zero year is still "set" (den_set), and overwrites */
	{
		int64_t zero[RECORDS_NPOP] = {0};

		assert_int_equal(
		    records_put_population(t, &actor, 2025, zero, 0), STORE_OK);
		assert_int_equal(
		    records_get_population(t, 2025, got), STORE_OK);
		assert_memory_equal(got, zero, sizeof(zero));
		assert_int_equal(counter(t, 2025, "den_set"), 1);
		assert_int_equal(counter(t, 2025, "adults"), 0);
	}
	/* later assessments leave the denominators alone */
	put(t, 2025, "Y", 0);
	assert_int_equal(counter(t, 2025, "den_set"), 1);
	assert_int_equal(counter(t, 2025, "assessed"), 2);
	fx_commit(&t);
}

struct ver_scan {
	int n;
	uint16_t years[32];
};

static int
outbox_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ver_scan *vs = arg;
	const unsigned char *p = k;

	/* SELF \0 year(2) */
	assert_int_equal(kl, strlen(SELF) + 3);
	assert_memory_equal(p, SELF, strlen(SELF) + 1);
	if (vs->n < 32)
		vs->years[vs->n] = (uint16_t)(p[kl - 2] << 8 | p[kl - 1]);
	vs->n++;
	return 0;
}

static void
test_ensure_years(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	uint64_t v[NYEARS], pre;
	struct ver_scan vs = {0};

	put(t, 2023, "E", 1);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	pre = fx_local(t, 2023).version;
	fx_outbox_clear(t, SELF, 2023);
	assert_int_equal(records_ensure_years(t, SELF, 1700000500), STORE_OK);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	for (int k = 0; k < NYEARS; k++) {
		struct local_report lr = fx_local(t, RULES_YEAR_MIN + k);

		v[k] = lr.version;
		assert_true(v[k] > 0);
		for (int j = 0; j < k; j++)
			assert_true(v[j] != v[k]);
		if (RULES_YEAR_MIN + k == 2023) {
			/* already had a report: left alone */
			assert_int_equal(v[k], pre);
			assert_false(fx_outbox_has(t, SELF, 2023));
		} else {
			assert_int_equal(lr.updated_at, 1700000500);
			assert_true(cdht_counters_is_zero(&lr.c));
		}
	}
	/* nothing outside 2021..2030 */
	assert_int_equal(fx_local(t, RULES_YEAR_MIN - 1).version, 0);
	assert_int_equal(fx_local(t, RULES_YEAR_MAX + 1).version, 0);
	assert_int_equal(
	    store_scan(t, TBL_OUTBOX, NULL, 0, outbox_cb, &vs), STORE_OK);
	assert_int_equal(vs.n, NYEARS - 1);
	for (int i = 0; i < vs.n; i++)
		assert_true(vs.years[i] >= RULES_YEAR_MIN &&
		            vs.years[i] <= RULES_YEAR_MAX &&
		            vs.years[i] != 2023);
	assert_int_equal(fx_count_table(t, TBL_LOCAL), NYEARS);
	fx_commit(&t);

	/* a second call (e.g. the next start) changes nothing */
	fx_store_reopen(f);
	t = fx_wtxn(f);
	for (int k = 0; k < NYEARS; k++)
		fx_outbox_clear(t, SELF, RULES_YEAR_MIN + k);
	assert_int_equal(records_ensure_years(t, SELF, 1700000999), STORE_OK);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	for (int k = 0; k < NYEARS; k++) {
		assert_int_equal(fx_local(t, RULES_YEAR_MIN + k).version, v[k]);
		assert_false(fx_outbox_has(t, SELF, RULES_YEAR_MIN + k));
	}
	assert_int_equal(fx_count_table(t, TBL_LOCAL), NYEARS);
	fx_commit(&t);
}

static void
test_bump_all(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f);
	struct cdht_counters c2024;

	put(t, 2024, "Q", 1);
	c2024 = fx_local(t, 2024).c;
	assert_int_equal(records_bump_all(t, SELF, 5000, 1700000777), STORE_OK);
	assert_int_equal(store_pending_flush(t), STORE_OK);
	for (int k = 0; k < NYEARS; k++) {
		struct local_report lr = fx_local(t, RULES_YEAR_MIN + k);

		assert_true(lr.version > 5000);
		assert_int_equal(lr.updated_at, 1700000777);
		assert_true(fx_outbox_has(t, SELF, RULES_YEAR_MIN + k));
	}
	/* counters are not touched by a bump */
	{
		struct local_report lr = fx_local(t, 2024);

		assert_memory_equal(&lr.c, &c2024, sizeof(c2024));
	}
	/* a floor below the sequence still gives new versions */
	{
		uint64_t top = fx_local(t, 2030).version;

		assert_int_equal(
		    records_bump_all(t, SELF, 1, 1700000778), STORE_OK);
		for (int k = 0; k < NYEARS; k++)
			assert_true(
			    fx_local(t, RULES_YEAR_MIN + k).version > top);
	}
	/* a year written earlier in the same transaction (its version
	 * issued, its report not yet stored) still ends above the floor */
	{
		uint64_t floor;

		assert_int_equal(store_pending_flush(t), STORE_OK);
		put(t, 2024, "R", 1);
		floor = fx_local(t, 2024).version + 1000000;
		assert_int_equal(
		    records_bump_all(t, SELF, floor, 1700000779), STORE_OK);
		assert_true(fx_local(t, 2024).version > floor);
		assert_int_equal(store_pending_flush(t), STORE_OK);
		for (int k = 0; k < NYEARS; k++)
			assert_true(
			    fx_local(t, RULES_YEAR_MIN + k).version > floor);
	}
	fx_commit(&t);
}

/*
 * Many writes of one year in one transaction: every read in it sees the
 * latest counters, the year gets one new version, and the report and its
 * outbox entry are stored once, at commit (or before a nested transaction,
 * which sees them); an abort leaves the stored report as it was.
 */
static void
test_one_version_per_transaction(void **state)
{
	struct fx_store *f = *state;
	struct store_txn *t = fx_wtxn(f), *child;
	uint64_t v0, v1;
	char pid[8];

	put(t, 2026, "base", 1);
	fx_commit(&t);
	t = fx_rtxn(f);
	v0 = fx_local(t, 2026).version;
	store_abort(&t);

	t = fx_wtxn(f);
	fx_outbox_clear(t, SELF, 2026);
	put(t, 2026, "a0", 1);
	v1 = fx_local(t, 2026).version;
	assert_true(v1 > v0);
	for (int i = 1; i < 20; i++) {
		snprintf(pid, sizeof(pid), "a%d", i);
		put(t, 2026, pid, i % 2);
		assert_int_equal(counter(t, 2026, "assessed"), 1 + i + 1);
		assert_int_equal(fx_local(t, 2026).version, v1);
	}
	assert_int_equal(counter(t, 2026, "recognized"), 2 + 10);
	/* queued on the first write (the outbox's readers see it) */
	assert_true(fx_outbox_has(t, SELF, 2026));

	/* a nested transaction sees the cached writes, and its own writes
	 * go with it when it is aborted */
	child = store_begin_nested(t);
	assert_non_null(child);
	assert_int_equal(fx_local(child, 2026).version, v1);
	assert_int_equal(counter(child, 2026, "assessed"), 21);
	assert_true(fx_outbox_has(child, SELF, 2026));
	put(child, 2026, "dry", 1);
	assert_int_equal(counter(child, 2026, "assessed"), 22);
	assert_true(fx_local(child, 2026).version > v1);
	store_abort(&child);
	assert_int_equal(counter(t, 2026, "assessed"), 21);
	assert_int_equal(fx_local(t, 2026).version, v1);
	put(t, 2026, "after", 0);
	assert_int_equal(counter(t, 2026, "assessed"), 22);
	fx_commit(&t);

	t = fx_rtxn(f);
	assert_int_equal(counter(t, 2026, "assessed"), 22);
	assert_int_equal(counter(t, 2026, "recognized"), 12);
	assert_true(fx_local(t, 2026).version > v1); /* after the nesting */
	assert_true(fx_outbox_has(t, SELF, 2026));
	store_abort(&t);

	/* an aborted transaction leaves nothing */
	t = fx_wtxn(f);
	v1 = fx_local(t, 2026).version;
	put(t, 2026, "gone", 1);
	store_abort(&t);
	t = fx_rtxn(f);
	assert_int_equal(counter(t, 2026, "assessed"), 22);
	assert_int_equal(fx_local(t, 2026).version, v1);
	store_abort(&t);
}

/* ---------------------------------------------------------------------- */
/* The store's sticky error. */

static void
test_store_sticky_full(void **state)
{
	struct fx_store s = {.st = NULL};
	struct store_txn *t;
	const void *v;
	size_t vl;
	char big[4000];
	int rc = STORE_OK, n;
	unsigned char k[8];
	int64_t den[RECORDS_NPOP] = {7};
	struct assessment a;
	int replaced;

	/* a 1 MiB map, not FX_MAP_MB: it must fill up */
	assert_int_equal(fx_tmpdir(s.dir, "full"), 0);
	assert_int_equal(store_open(s.dir, 1, &s.st), STORE_OK);

	/* committed before: must survive */
	t = fx_wtxn(&s);
	assert_int_equal(store_put(t, TBL_META, "keep", 4, "me", 2), STORE_OK);
	put(t, 2025, "K", 1);
	fx_commit(&t);

	/* a missing key is not sticky */
	t = fx_wtxn(&s);
	assert_int_equal(
	    store_get(t, TBL_META, "nope", 4, &v, &vl), STORE_NOTFOUND);
	assert_int_equal(store_del(t, TBL_META, "nope", 4), STORE_NOTFOUND);
	assert_int_equal(store_txn_err(t), STORE_OK);

	memset(big, 'z', sizeof(big));
	for (n = 0; n < 1000 && rc == STORE_OK; n++) {
		store_be64(k, (uint64_t)n);
		rc = store_put(t, TBL_AUDIT, k, 8, big, sizeof(big));
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(n > 10); /* it took a few before the map was full */
	assert_int_equal(store_txn_err(t), STORE_FULL);
	/* every later call returns the sticky error */
	assert_int_equal(store_put(t, TBL_META, "x", 1, "y", 1), STORE_FULL);
	assert_int_equal(
	    store_get(t, TBL_META, "keep", 4, &v, &vl), STORE_FULL);
	assert_int_equal(
	    store_get(t, TBL_META, "nope", 4, &v, &vl), STORE_FULL);
	assert_int_equal(store_del(t, TBL_META, "keep", 4), STORE_FULL);
	{
		int cnt = 0;

		assert_int_equal(
		    store_scan(t, TBL_META, NULL, 0, fx_count_cb, &cnt),
		    STORE_FULL);
		assert_int_equal(cnt, 0);
	}
	mk(&a, 2026, "K", GROUP_FARMER, POP_ADULT, DIGITAL_NONE, 1);
	assert_int_equal(records_put(t, &actor, &a, &replaced), STORE_FULL);
	assert_int_equal(
	    records_withdraw(t, &actor, 2025, "K", 1, NULL), STORE_FULL);
	assert_int_equal(
	    records_put_population(t, &actor, 2025, den, 0), STORE_FULL);
	assert_int_equal(records_ensure_years(t, SELF, 1), STORE_FULL);
	assert_int_equal(store_txn_err(t), STORE_FULL);
	assert_int_equal(store_commit(&t), STORE_FULL);
	assert_null(t);

	/* after reopening: the earlier commit is intact, nothing of the
	 * failed transaction is there */
	store_close(&s.st);
	assert_int_equal(store_open(s.dir, 1, &s.st), STORE_OK);
	t = fx_rtxn(&s);
	assert_int_equal(store_get(t, TBL_META, "keep", 4, &v, &vl), STORE_OK);
	assert_int_equal(vl, 2);
	assert_memory_equal(v, "me", 2);
	assert_int_equal(
	    store_get(t, TBL_META, "x", 1, &v, &vl), STORE_NOTFOUND);
	{
		struct assessment b = get(t, 2025, "K");
		int cnt = fx_count_table(t, TBL_AUDIT);

		assert_true(b.recognized);
		/* only the committed submit's audit record */
		assert_int_equal(cnt, 1);
	}
	assert_int_equal(records_get(t, 2026, "K", 1, &a), STORE_NOTFOUND);
	assert_int_equal(counter(t, 2025, "assessed"), 1);
	assert_int_equal(counter(t, 2025, "den_set"), 0);
	store_abort(&t);

	/* and the store still takes small writes */
	t = fx_wtxn(&s);
	put(t, 2026, "K", 1);
	fx_commit(&t);
	fx_store_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_put_get_roundtrip, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_replace_and_withdraw_counters, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_outstanding_five_years, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_outstanding_middle_year, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_random_against_model, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_outstanding_against_model, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_versions_outbox_audit, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_population, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ensure_years, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bump_all, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_one_version_per_transaction, setup, fx_store_teardown),
	    cmocka_unit_test(test_store_sticky_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
