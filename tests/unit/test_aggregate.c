/*
 * test_aggregate.c: daemon/aggregate.c on a real LMDB environment in a
 * temporary directory, for node "14" with children "1401" and "1402":
 * applying reports (totals of this node and of every node on the path,
 * older/equal versions ignored, every refusal rule), the winner of an origin
 * reported under two children (highest version, ties to the lowest child id,
 * promotion on removal), HELLO (drops, want, own), the child-side outbox cycle
 * (collect, acked, WELCOME bumps), the node directory, retirement (kept
 * years re-issued and read-only, later years dropped, a reused code, the
 * successor carried in report field 10 through winners and relays) and
 * counts_from, and a long random
 * sequence of applies/removes/HELLOs checked after every step against winners
 * and totals recomputed here by brute force; the totals cache (the same
 * TBL_TOTALS bytes whether updates share a transaction or not, nested
 * transactions committed and aborted, a scan after store_pending_flush).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"
#include "conf.h"
#include "outbox.h"
#include "counters.h"
#include "filing.h"
#include "records.h"
#include "rules.h"
#include "store.h"
#include "value.h"
#include "wire.h"

#include "fixture.h"

#define SELF "14"

struct fx {
	struct fx_store s;
	struct conf c;
	struct conf_child kids[2];
};

/* ---------------------------------------------------------------------- */
/* Helpers. */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (fx_store_open(&f->s, "aggregate") != 0) {
		free(f);
		return -1;
	}
	strcpy(f->c.id, SELF);
	f->c.level = LEVEL_PROVINCE;
	strcpy(f->c.name, "T\xe1\xbb\x89nh S\xc6\xa1n La");
	rules_targets_default(&f->c.targets);
	/* listed out of id order on purpose: ties go to the lowest id, not
	 * to the first configured */
	strcpy(f->kids[0].id, "1402");
	strcpy(f->kids[1].id, "1401");
	memset(f->kids[0].public_key, 'a', 40);
	memset(f->kids[1].public_key, 'b', 40);
	strcpy(f->kids[0].name, "Huy\xe1\xbb\x87n B");
	strcpy(f->kids[1].name, "Huy\xe1\xbb\x87n A");
	f->c.children = f->kids;
	f->c.nchildren = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fx_store_close(&f->s);
	free(f);
	return 0;
}

/* Deterministic, non-negative counters that differ per seed. */
static void
seed_counters(struct cdht_counters *c, unsigned seed)
{
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		c->v[i] =
		    (int64_t)((seed * 2654435761u + (unsigned)i * 40503u) %
		              1000u);
}

/* A report along path "a/b/c" (sender first, origin last). */
static void
mkrep(struct wire_report *r, const char *path, int year, uint64_t version,
    unsigned seed)
{
	char buf[256], *save = NULL, *tok;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save)) {
		assert_true(r->path_len < WIRE_MAX_PATH);
		snprintf(r->path[r->path_len++], WIRE_MAX_ID + 1, "%s", tok);
	}
	memcpy(r->origin, r->path[r->path_len - 1], sizeof(r->origin));
	snprintf(r->level, sizeof(r->level), "%s",
	    r->path_len == 1 ? "district" : "commune");
	snprintf(r->name, sizeof(r->name), "Unit %s", r->origin);
	r->year = (uint16_t)year;
	r->version = version;
	r->updated_at = 1700000000 + (int64_t)version;
	seed_counters(&r->counters, seed);
}

static int
apply(struct store_txn *t, struct fx *f, const char *via, const char *path,
    int year, uint64_t version, unsigned seed)
{
	struct wire_report r;

	mkrep(&r, path, year, version, seed);
	return aggregate_apply(t, &f->c, via, &r, 1800000000);
}

/* apply() must return want (AGG_APPLIED, AGG_IGNORED or AGG_REFUSED). */
static void
expect_apply(struct store_txn *t, struct fx *f, const char *via,
    const char *path, int year, uint64_t version, unsigned seed, int want)
{
	int rc = apply(t, f, via, path, year, version, seed);

	if (rc != want)
		fail_msg("apply %s/%d v%llu seed %u via %s: %d, want %d", path,
		    year, (unsigned long long)version, seed, via, rc, want);
}

/* apply() must be AGG_APPLIED. */
static void
apply_ok(struct store_txn *t, struct fx *f, const char *via, const char *path,
    int year, uint64_t version, unsigned seed)
{
	expect_apply(t, f, via, path, year, version, seed, AGG_APPLIED);
}

/* aggregate_remove() of via's copy must succeed. */
static void
remove_ok(struct store_txn *t, struct fx *f, const char *via,
    const char *origin, int year)
{
	assert_int_equal(
	    aggregate_remove(t, &f->c, via, origin, year), STORE_OK);
}

static struct cdht_counters
totals(struct store_txn *t, struct fx *f, const char *node, int year)
{
	struct cdht_counters c;

	assert_int_equal(aggregate_totals(t, &f->c, node, year, &c), STORE_OK);
	return c;
}

/* want = the sum of the seeds' counters. */
static void
sum_seeds(struct cdht_counters *want, const unsigned *seeds, int nseeds)
{
	struct cdht_counters one;

	memset(want, 0, sizeof(*want));
	for (int i = 0; i < nseeds; i++) {
		seed_counters(&one, seeds[i]);
		for (int k = 0; k < CDHT_NCOUNTERS; k++)
			want->v[k] += one.v[k];
	}
}

/* Expected: the sum of the seeds' counters (seed 0 = nothing). */
static void
assert_totals(struct store_txn *t, struct fx *f, const char *node, int year,
    const unsigned *seeds, int nseeds)
{
	struct cdht_counters want, got = totals(t, f, node, year);

	sum_seeds(&want, seeds, nseeds);
	fx_assert_counters(&got, &want, "totals of %s/%d", node, year);
}

/* Every node of "a/b/c" totals exactly the one seed's counters. */
static void
assert_seed_along(struct store_txn *t, struct fx *f, const char *nodes,
    int year, unsigned seed)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", nodes);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save))
		assert_totals(t, f, tok, year, &seed, 1);
}

static void
assert_zero(struct store_txn *t, struct fx *f, const char *node, int year)
{
	struct cdht_counters got = totals(t, f, node, year);

	if (!cdht_counters_is_zero(&got))
		fail_msg("totals of %s/%d are not zero", node, year);
}

static int
acked_version(struct store_txn *t, const char *origin, int year, uint64_t *ver)
{
	*ver = outbox_acked_version(t, origin, year);
	assert_int_equal(store_txn_err(t), STORE_OK);
	return *ver != 0;
}

static const struct wire_report *
find_report(const struct wire_msg *m, const char *origin, int year)
{
	for (size_t i = 0; i < m->nreports; i++)
		if (strcmp(m->reports[i].origin, origin) == 0 &&
		    m->reports[i].year == year)
			return &m->reports[i];
	return NULL;
}

static int
has_key(const struct wire_key *k, size_t n, const char *origin, int year,
    uint64_t *ver)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].origin, origin) == 0 && k[i].year == year) {
			if (ver != NULL)
				*ver = k[i].version;
			return 1;
		}
	return 0;
}

/* k[0..n) holds (origin, year) at version ver. */
static void
assert_has_key(const struct wire_key *k, size_t n, const char *origin, int year,
    uint64_t ver)
{
	uint64_t v;

	assert_true(has_key(k, n, origin, year, &v));
	assert_int_equal(v, ver);
}

/* m carries exactly one key, (origin, year). */
static void
assert_one_key(const struct wire_msg *m, const char *origin, int year)
{
	assert_int_equal(m->nkeys, 1);
	assert_string_equal(m->keys[0].origin, origin);
	assert_int_equal(m->keys[0].year, year);
}

/* The parent acknowledged (origin, year) at version ver. */
static void
assert_acked(struct store_txn *t, const char *origin, int year, uint64_t ver)
{
	uint64_t v;

	assert_true(acked_version(t, origin, year, &v));
	assert_int_equal(v, ver);
}

/* The winner of (origin, year) came through via at version ver. */
static void
assert_winner(struct store_txn *t, const char *origin, int year,
    const char *via, uint64_t ver)
{
	struct wire_report w;

	assert_int_equal(aggregate_report_of(t, origin, year, &w), STORE_OK);
	assert_int_equal(w.version, ver);
	assert_string_equal(w.path[0], via);
}

/* r is a report with this path ("a/b/c"), version, level, name, updated_at
 * and the seed's counters. */
static void
assert_report(const struct wire_report *r, const char *path, uint64_t version,
    const char *level, const char *name, int64_t updated_at, unsigned seed)
{
	char buf[256], *save = NULL, *tok, *ids[WIRE_MAX_PATH + 1];
	struct cdht_counters c;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok != NULL && n <= WIRE_MAX_PATH;
	     tok = strtok_r(NULL, "/", &save))
		ids[n++] = tok;
	assert_int_equal(r->version, version);
	assert_int_equal(r->path_len, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->path[i], ids[i]);
	assert_string_equal(r->level, level);
	assert_string_equal(r->name, name);
	assert_int_equal(r->updated_at, updated_at);
	seed_counters(&c, seed);
	assert_memory_equal(&r->counters, &c, sizeof(c));
}

/* An assessment of this node: pid on staff, every score the same. */
static void
local_put(
    struct store_txn *t, struct fx *f, int year, const char *pid, int score)
{
	struct records_actor act = {
	    SELF, "test", 1800000000, RECOGNITION_SCORE};
	struct assessment a;
	int replaced;

	fx_assessment(&a, year, pid, GROUP_FARMER, POP_STAFF, DIGITAL_NONE);
	for (int i = 0; i < RULES_NSCORES; i++)
		a.scores[i] = (uint8_t)score;
	assert_int_equal(records_put(t, &act, &a, &replaced), STORE_OK);
}

/* ---------------------------------------------------------------------- */
/* Applying reports. */

static void
test_apply_totals_along_path(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report got;

	apply_ok(t, f, "1401", "1401/140101", 2025, 5, 1);
	assert_seed_along(t, f, "14/1401/140101", 2025, 1);
	assert_zero(t, f, "1402", 2025);
	assert_zero(t, f, "14", 2024);
	assert_zero(t, f, "140101", 2026);

	/* a newer version replaces, it does not add */
	apply_ok(t, f, "1401", "1401/140101", 2025, 6, 2);
	assert_seed_along(t, f, "14/1401/140101", 2025, 2);
	fx_commit(&t);

	/* older and equal versions are ignored, whatever they carry */
	t = fx_wtxn(&f->s);
	expect_apply(t, f, "1401", "1401/140101", 2025, 4, 3, AGG_IGNORED);
	expect_apply(t, f, "1401", "1401/140101", 2025, 6, 3, AGG_IGNORED);
	expect_apply(t, f, "1401", "1401/140101", 2025, 1, 3, AGG_IGNORED);
	assert_seed_along(t, f, "14/140101", 2025, 2);
	assert_int_equal(
	    aggregate_report_of(t, "140101", 2025, &got), STORE_OK);
	assert_report(
	    &got, "1401/140101", 6, "commune", "Unit 140101", 1700000006, 2);

	/* the district's own report adds to itself and to 14 only */
	apply_ok(t, f, "1401", "1401", 2025, 3, 4);
	assert_totals(t, f, "14", 2025, (unsigned[]){2, 4}, 2);
	assert_totals(t, f, "1401", 2025, (unsigned[]){2, 4}, 2);
	assert_totals(t, f, "140101", 2025, (unsigned[]){2}, 1);

	/* three levels under the other child */
	apply_ok(t, f, "1402", "1402/140201/14020101", 2025, 1, 5);
	assert_totals(t, f, "14", 2025, (unsigned[]){2, 4, 5}, 3);
	assert_seed_along(t, f, "1402/140201/14020101", 2025, 5);
	assert_totals(t, f, "1401", 2025, (unsigned[]){2, 4}, 2);
	/* the same origin in another year is another report */
	apply_ok(t, f, "1402", "1402/140201/14020101", 2026, 1, 6);
	assert_totals(t, f, "14020101", 2026, (unsigned[]){6}, 1);
	assert_totals(t, f, "14020101", 2025, (unsigned[]){5}, 1);
	assert_totals(t, f, "14", 2026, (unsigned[]){6}, 1);
	fx_commit(&t);

	/* this node's own local data is part of its totals, not of the
	 * children's: one recognised staff member on top */
	t = fx_wtxn(&f->s);
	{
		static const char *const plus[] = {"assessed", "recognized",
		    "eligible", "staff_assessed", "staff_recognized",
		    "farmer_assessed", "farmer_recognized", "farmer_eligible"};
		struct cdht_counters with, want;

		local_put(t, f, 2025, "S1", 9);
		with = totals(t, f, "14", 2025);
		sum_seeds(&want, (unsigned[]){2, 4, 5}, 3);
		for (size_t i = 0; i < sizeof(plus) / sizeof(plus[0]); i++)
			want.v[fx_cidx(plus[i])]++;
		fx_assert_counters(&with, &want, "totals of 14/2025 with S1");
		assert_totals(t, f, "1401", 2025, (unsigned[]){2, 4}, 2);
	}
	fx_commit(&t);
}

static void
test_apply_refused(void **state)
{
	static const struct {
		const char *via, *path;
	} refused[] = {
	    /* path[0] is not the sending child */
	    {"1402", "1401/140101"},
	    {"1402", "1401"},
	    /* the path runs through this node (a loop), or is this node */
	    {"1401", "1401/14/140101"},
	    {"1401", "1401/14"},
	    /* the origin is another direct child, or the path runs through
	     * one */
	    {"1401", "1401/1402"},
	    {"1401", "1401/1402/140201"},
	    {"1402", "1402/1401"},
	    /* a full path cannot be forwarded */
	    {"1401", "1401/a/b/c/d/e/f/g"},
	};
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report r;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		expect_apply(t, f, refused[i].via, refused[i].path, 2025, 1, 1,
		    AGG_REFUSED);
	/* the path does not end with the origin */
	mkrep(&r, "1401/140101", 2025, 1, 1);
	strcpy(r.origin, "140199");
	assert_int_equal(aggregate_apply(t, &f->c, "1401", &r, 1), AGG_REFUSED);
	/* an empty path */
	mkrep(&r, "1401", 2025, 1, 1);
	r.path_len = 0;
	assert_int_equal(aggregate_apply(t, &f->c, "1401", &r, 1), AGG_REFUSED);
	/* nothing of the refused reports was kept */
	assert_int_equal(store_txn_err(t), STORE_OK);
	assert_int_equal(fx_count_table(t, TBL_MIRROR), 0);
	assert_int_equal(fx_count_table(t, TBL_WIN), 0);
	assert_int_equal(fx_count_table(t, TBL_TOTALS), 0);
	assert_int_equal(fx_count_table(t, TBL_NODES), 0);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	assert_zero(t, f, "14", 2025);

	/* one id short of full is accepted, and reaches all 7 nodes */
	apply_ok(t, f, "1401", "1401/a/b/c/d/e/f", 2025, 1, 9);
	assert_seed_along(t, f, "14/1401/a/b/c/d/e/f", 2025, 9);
	assert_zero(t, f, "g", 2025);
	assert_zero(t, f, "1402", 2025);
	fx_commit(&t);
}

static void
test_same_origin_two_children(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report w;

	/* X9 is first reported through 1401: it is held via 1401 */
	apply_ok(t, f, "1401", "1401/X9", 2025, 10, 11);
	apply_ok(t, f, "1401", "1401/X9", 2026, 10, 15);
	assert_seed_along(t, f, "14/1401/X9", 2025, 11);
	/* a claim through 1402, even at a higher version, is refused and
	 * moves nothing (an alarm); it is kept for a legitimate move */
	expect_apply(t, f, "1402", "1402/X9", 2025, 12, 12, AGG_REFUSED);
	assert_seed_along(t, f, "14/1401/X9", 2025, 11);
	assert_zero(t, f, "1402", 2025);
	assert_winner(t, "X9", 2025, "1401", 10);
	assert_true(aggregate_claims_refused() >= 1);
	/* nor through a unit held via 1401 */
	expect_apply(t, f, "1402", "1402/X9/X10", 2025, 5, 5, AGG_REFUSED);
	assert_zero(t, f, "1402", 2025);
	assert_int_equal(
	    aggregate_report_of(t, "X10", 2025, &w), STORE_NOTFOUND);
	/* the holder's own newer version wins as usual */
	apply_ok(t, f, "1401", "1401/X9", 2025, 13, 13);
	assert_seed_along(t, f, "14/1401/X9", 2025, 13);
	fx_commit(&t);

	/* the move: 1401 withdraws one year: still held via 1401 */
	t = fx_wtxn(&f->s);
	remove_ok(t, f, "1401", "X9", 2025);
	assert_zero(t, f, "14", 2025);
	assert_seed_along(t, f, "14/1401/X9", 2026, 15);
	expect_apply(t, f, "1402", "1402/X9", 2026, 11, 16, AGG_REFUSED);
	assert_winner(t, "X9", 2026, "1401", 10);
	/* ... then the last: X9 passes to 1402, whose kept copies (2025
	 * v12, 2026 v11) now count, on every year */
	remove_ok(t, f, "1401", "X9", 2026);
	assert_seed_along(t, f, "14/1402/X9", 2025, 12);
	assert_seed_along(t, f, "14/1402/X9", 2026, 16);
	assert_zero(t, f, "1401", 2025);
	assert_zero(t, f, "1401", 2026);
	assert_winner(t, "X9", 2025, "1402", 12);
	assert_winner(t, "X9", 2026, "1402", 11);
	assert_true(fx_outbox_has(t, "X9", 2025));
	assert_true(fx_outbox_has(t, "X9", 2026));
	/* 1401 can no longer take it back */
	expect_apply(t, f, "1401", "1401/X9", 2027, 30, 31, AGG_REFUSED);
	assert_zero(t, f, "14", 2027);
	/* removing what is not there changes nothing */
	remove_ok(t, f, "1401", "nope", 2026);
	assert_totals(t, f, "14", 2026, (unsigned[]){16}, 1);
	fx_commit(&t);

	/* 1402 lets go of everything: the kept 1401 copy (2027) takes over */
	t = fx_wtxn(&f->s);
	remove_ok(t, f, "1402", "X9", 2025);
	assert_zero(t, f, "14", 2025);
	remove_ok(t, f, "1402", "X9", 2026);
	assert_zero(t, f, "14", 2026);
	assert_seed_along(t, f, "14/1401/X9", 2027, 31);
	/* and when nobody holds a copy, the origin is free */
	remove_ok(t, f, "1401", "X9", 2027);
	assert_zero(t, f, "14", 2027);
	assert_int_equal(
	    aggregate_report_of(t, "X9", 2027, &w), STORE_NOTFOUND);
	apply_ok(t, f, "1402", "1402/X9", 2028, 1, 41);
	assert_seed_along(t, f, "14/1402/X9", 2028, 41);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* HELLO, drop_unconfigured. */

static void
set_key(struct wire_key *k, const char *origin, int year, uint64_t ver)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->origin, sizeof(k->origin), "%s", origin);
	k->year = (uint16_t)year;
	k->version = ver;
}

static void
test_hello(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_key inv[5];
	struct wire_msg w;

	apply_ok(t, f, "1401", "1401", 2025, 3, 1);
	apply_ok(t, f, "1401", "1401", 2024, 1, 2);
	apply_ok(t, f, "1401", "1401/140101", 2025, 4, 3);
	apply_ok(t, f, "1401", "1401/140102", 2025, 2, 4);
	apply_ok(t, f, "1402", "1402", 2025, 7, 5);
	/* held via 1401: kept, not counted, until 1401 lets it go */
	expect_apply(t, f, "1402", "1402/140102", 2025, 1, 6, AGG_REFUSED);
	fx_commit(&t);

	/* 1401 reconnects: it no longer holds 140102 (moved away), has a
	 * newer 140101 and a new 140103 */
	t = fx_wtxn(&f->s);
	set_key(&inv[0], "1401", 2025, 3);
	set_key(&inv[1], "140101", 2025, 5);
	set_key(&inv[2], "140103", 2025, 1);
	set_key(&inv[3], "1401", 2024, 1);
	assert_int_equal(
	    aggregate_hello(t, &f->c, "1401", inv, 4, &w), STORE_OK);
	assert_int_equal(w.type, WIRE_WELCOME);
	assert_string_equal(w.id, "14");
	assert_int_equal(w.nkeys, 2);
	assert_true(has_key(w.keys, w.nkeys, "140101", 2025, NULL));
	assert_true(has_key(w.keys, w.nkeys, "140103", 2025, NULL));
	assert_int_equal(w.nown, 2);
	assert_has_key(w.own, w.nown, "1401", 2025, 3);
	assert_has_key(w.own, w.nown, "1401", 2024, 1);
	wire_msg_free(&w);
	/* 1401's copy of 140102 is gone: it passes to 1402, whose copy
	 * wins now */
	assert_totals(t, f, "1401", 2025, (unsigned[]){1, 3}, 2);
	assert_totals(t, f, "140102", 2025, (unsigned[]){6}, 1);
	assert_totals(t, f, "1402", 2025, (unsigned[]){5, 6}, 2);
	assert_totals(t, f, "14", 2025, (unsigned[]){1, 3, 5, 6}, 4);
	assert_totals(t, f, "14", 2024, (unsigned[]){2}, 1);
	fx_commit(&t);

	/* 1402 says hello with its full inventory: nothing dropped, wants
	 * nothing it has */
	t = fx_wtxn(&f->s);
	set_key(&inv[0], "140102", 2025, 1);
	set_key(&inv[1], "1402", 2025, 7);
	assert_int_equal(
	    aggregate_hello(t, &f->c, "1402", inv, 2, &w), STORE_OK);
	assert_string_equal(w.id, "14");
	assert_int_equal(w.nkeys, 0);
	assert_int_equal(w.nown, 1);
	assert_has_key(w.own, w.nown, "1402", 2025, 7);
	wire_msg_free(&w);
	assert_totals(t, f, "14", 2025, (unsigned[]){1, 3, 5, 6}, 4);

	/* 1401 comes back empty (e.g. restored without its data): all of its
	 * reports are forgotten, 1402's stay; `own` still tells it the
	 * versions we held for it, taken before the deletion (PROTOCOL.md
	 * 8.2 step 2), so it never reuses a version */
	assert_int_equal(
	    aggregate_hello(t, &f->c, "1401", NULL, 0, &w), STORE_OK);
	assert_int_equal(w.nkeys, 0);
	assert_int_equal(w.nown, 2);
	assert_has_key(w.own, w.nown, "1401", 2025, 3);
	assert_has_key(w.own, w.nown, "1401", 2024, 1);
	wire_msg_free(&w);
	/* and a second empty HELLO finds nothing left */
	assert_int_equal(
	    aggregate_hello(t, &f->c, "1401", NULL, 0, &w), STORE_OK);
	assert_int_equal(w.nkeys, 0);
	assert_int_equal(w.nown, 0);
	wire_msg_free(&w);
	assert_zero(t, f, "1401", 2025);
	assert_zero(t, f, "140101", 2025);
	assert_zero(t, f, "14", 2024);
	assert_totals(t, f, "14", 2025, (unsigned[]){5, 6}, 2);
	assert_int_equal(fx_count_table(t, TBL_MIRROR), 2);
	/* the removals are queued for our own parent */
	assert_true(fx_outbox_has(t, "140101", 2025));
	assert_true(fx_outbox_has(t, "1401", 2024));
	fx_commit(&t);
}

static void
test_drop_unconfigured(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct agg_node *nodes;
	size_t n;

	apply_ok(t, f, "1401", "1401/140101", 2025, 1, 1);
	apply_ok(t, f, "1402", "1402/140201", 2025, 1, 2);
	expect_apply(t, f, "1402", "1402/140101", 2025, 2, 3, AGG_REFUSED);
	fx_commit(&t);

	/* 1402 is no longer configured */
	t = fx_wtxn(&f->s);
	f->c.nchildren = 1;
	strcpy(f->kids[0].id, "1401");
	assert_int_equal(aggregate_drop_unconfigured(t, &f->c), STORE_OK);
	assert_seed_along(t, f, "14/140101", 2025, 1);
	assert_zero(t, f, "1402", 2025);
	assert_zero(t, f, "140201", 2025);
	assert_int_equal(fx_count_table(t, TBL_MIRROR), 1);
	assert_int_equal(aggregate_nodes(t, &nodes, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].id, "140101");
	assert_string_equal(nodes[0].parent, "1401");
	free(nodes);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* Retirement (PROTOCOL.md 8.8). */

/* apply() with counter retired zero (seed_counters sets every counter). */
static int
apply_live(struct store_txn *t, struct fx *f, const char *via, const char *path,
    int year, uint64_t version, unsigned seed)
{
	struct wire_report r;

	mkrep(&r, path, year, version, seed);
	r.counters.v[CDHT_C_retired] = 0;
	return aggregate_apply(t, &f->c, via, &r, 1800000000);
}

/* want += the seed's counters, counter retired left out. */
static void
add_seed(struct cdht_counters *want, unsigned seed)
{
	struct cdht_counters one;

	seed_counters(&one, seed);
	one.v[CDHT_C_retired] = 0;
	cdht_counters_add(want, &one, +1);
}

/* got == want on every counter but retired (a sum that means nothing). */
static void
assert_counted(struct store_txn *t, struct fx *f, const char *node, int year,
    struct cdht_counters want)
{
	struct cdht_counters got = totals(t, f, node, year);

	got.v[CDHT_C_retired] = 0;
	fx_assert_counters(&got, &want, "totals of %s/%d", node, year);
}

/* (origin, year)'s winner carries counter retired = last and successor
 * succ, above version. */
static void
assert_adopted(struct store_txn *t, const char *origin, int year,
    const char *path0, int last, const char *succ, uint64_t above)
{
	struct wire_report w;

	assert_int_equal(aggregate_report_of(t, origin, year, &w), STORE_OK);
	assert_string_equal(w.path[0], path0);
	assert_int_equal(w.counters.v[CDHT_C_retired], last);
	assert_string_equal(w.successor, succ); /* report field 10 */
	assert_int_equal(w.ncounters, CDHT_NCOUNTERS);
	if (w.version <= above)
		fail_msg("%s/%d: version %llu not above %llu", origin, year,
		    (unsigned long long)w.version, (unsigned long long)above);
}

/*
 * District 1401 (own data and communes 140101, 140102, 140103 below it) is
 * retired at 14 with last year 2024; 140101 is listed itself with 2023 and
 * successor 140201; 140103's code is reused by a new child of 14.  Kept
 * years count at 14 and every node of their path, later ones are gone, the
 * kept years are read-only, a second run changes nothing, and the kept
 * copies survive the dropping of unconfigured children.
 */
static void
test_retire(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct conf_child kids[2];
	struct conf_retired ret[3];
	struct cdht_counters want[10];
	uint64_t v0 = 100;
	char succ[WIRE_MAX_ID + 1];
	int last, y;

	memset(want, 0, sizeof(want));
	for (y = 2021; y <= 2026; y++) {
		int i = y - 2021;

		assert_int_equal(
		    apply_live(t, f, "1401", "1401", y, v0, 10 + i),
		    AGG_APPLIED);
		assert_int_equal(
		    apply_live(t, f, "1401", "1401/140101", y, v0, 20 + i),
		    AGG_APPLIED);
		assert_int_equal(
		    apply_live(t, f, "1401", "1401/140102", y, v0, 30 + i),
		    AGG_APPLIED);
		assert_int_equal(
		    apply_live(t, f, "1401", "1401/140103", y, v0, 40 + i),
		    AGG_APPLIED);
	}
	assert_int_equal(
	    apply_live(t, f, "1402", "1402/140201", 2024, v0, 50), AGG_APPLIED);
	/* a claim on 140101 via 1402: kept, never counted */
	assert_int_equal(
	    apply_live(t, f, "1402", "1402/140101", 2025, v0, 60), AGG_REFUSED);
	fx_commit(&t);

	/* the model: 2021..2023 everything; 2024 without 140101; later only
	 * what lives on */
	for (y = 2021; y <= 2024; y++) {
		int i = y - 2021;

		add_seed(&want[i], 10 + i);
		if (y <= 2023)
			add_seed(&want[i], 20 + i);
		add_seed(&want[i], 30 + i);
		add_seed(&want[i], 40 + i);
	}
	add_seed(&want[3], 50);

	/* the reform: 1401 leaves children, 140103 comes back as a child */
	t = fx_wtxn(&f->s);
	strcpy(kids[0].id, "1402");
	strcpy(kids[1].id, "140103");
	memset(kids[0].public_key, 'a', 40);
	memset(kids[1].public_key, 'c', 40);
	strcpy(kids[0].name, "B");
	strcpy(kids[1].name, "N");
	f->c.children = kids;
	f->c.nchildren = 2;
	memset(ret, 0, sizeof(ret));
	strcpy(ret[0].id, "1401");
	ret[0].last_year = 2024;
	strcpy(ret[1].id, "140101");
	ret[1].last_year = 2023;
	strcpy(ret[1].successor, "140201");
	strcpy(ret[2].id, "140103");
	ret[2].last_year = 2024;
	strcpy(ret[2].successor, "140103");
	f->c.retired = ret;
	f->c.nretired = 3;
	assert_int_equal(aggregate_retire(t, &f->c), STORE_OK);
	assert_int_equal(aggregate_drop_unconfigured(t, &f->c), STORE_OK);
	for (y = 2021; y <= 2026; y++) {
		struct cdht_counters z = {{0}};

		assert_counted(t, f, SELF, y, y <= 2024 ? want[y - 2021] : z);
	}
	/* along the path too: the district's total of 2022 */
	{
		struct cdht_counters d = {{0}};

		add_seed(&d, 11);
		add_seed(&d, 21);
		add_seed(&d, 31);
		add_seed(&d, 41);
		assert_counted(t, f, "1401", 2022, d);
		memset(&d, 0, sizeof(d));
		add_seed(&d, 21);
		assert_counted(t, f, "140101", 2022, d);
	}
	assert_adopted(t, "1401", 2024, "1401", 2024, "", v0);
	assert_adopted(t, "140101", 2023, "1401", 2023, "140201", v0);
	assert_adopted(t, "140102", 2021, "1401", 2024, "", v0);
	assert_adopted(t, "140103", 2024, "1401", 2024, "140103", v0);
	{
		struct wire_report w;

		assert_int_equal(
		    aggregate_report_of(t, "140101", 2024, &w), STORE_NOTFOUND);
		assert_int_equal(
		    aggregate_report_of(t, "1401", 2025, &w), STORE_NOTFOUND);
	}
	fx_commit(&t);

	/* a second run (a restart) re-issues nothing */
	t = fx_wtxn(&f->s);
	{
		struct wire_report a, b;

		assert_int_equal(
		    aggregate_report_of(t, "140102", 2022, &a), STORE_OK);
		assert_int_equal(aggregate_retire(t, &f->c), STORE_OK);
		assert_int_equal(
		    aggregate_drop_unconfigured(t, &f->c), STORE_OK);
		assert_int_equal(
		    aggregate_report_of(t, "140102", 2022, &b), STORE_OK);
		assert_int_equal(a.version, b.version);
	}
	/* read-only: no child may change a kept year, at any version */
	assert_int_equal(apply_live(t, f, "1402", "1402/140102", 2022,
	                     UINT64_C(1) << 50, 70),
	    AGG_REFUSED);
	assert_int_equal(
	    apply_live(t, f, "140103", "140103", 2024, UINT64_C(1) << 50, 71),
	    AGG_REFUSED);
	/* the reused code counts from 2025 on as the new child */
	assert_int_equal(
	    apply_live(t, f, "140103", "140103", 2025, 5, 72), AGG_APPLIED);
	{
		struct cdht_counters n = {{0}};

		add_seed(&n, 72);
		assert_counted(t, f, SELF, 2025, n);
	}
	/* 140101's later years stay uncounted: it is held via 1401 */
	assert_int_equal(
	    apply_live(t, f, "1402", "1402/140101", 2026, 9, 73), AGG_REFUSED);
	for (y = 2021; y <= 2024; y++)
		assert_counted(t, f, SELF, y, want[y - 2021]);
	assert_true(aggregate_retired_of(t, &f->c, "140101", &last, succ));
	assert_int_equal(last, 2023);
	assert_string_equal(succ, "140201");
	assert_true(aggregate_retired_of(t, &f->c, "1401", &last, succ));
	assert_int_equal(last, 2024);
	assert_string_equal(succ, "");
	/* not listed: learnt from the kept copies */
	assert_true(aggregate_retired_of(t, &f->c, "140102", &last, succ));
	assert_int_equal(last, 2024);
	assert_string_equal(succ, "");
	assert_false(aggregate_retired_of(t, &f->c, "140201", &last, succ));
	fx_commit(&t);
	f->c.children = f->kids;
	f->c.nchildren = 2;
	f->c.retired = NULL;
	f->c.nretired = 0;
}

/*
 * Report field 10, successor (PROTOCOL.md 5.3.1, 8.8): a copy re-issued
 * below for a retired unit (district 1401 retired commune 140101 into
 * 140102 at 2023) keeps its successor as the winner, tells this node the
 * unit is retired and into what (it is in no file here), and is forwarded
 * upward with it.  When this node then retires the relay 1401 itself
 * (successor 1402), the unit retired below keeps its own successor, the
 * relay's own years get 1402 and a live commune of its subtree none;
 * naming another successor on a reload re-issues the copy, a second run
 * changes nothing.
 */
static void
test_successor_travels(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct conf_child kids[1];
	struct conf_retired ret[2];
	struct wire_report r, w, a;
	const struct wire_report *up;
	struct wire_msg m;
	char succ[WIRE_MAX_ID + 1];
	int last;

	mkrep(&r, "1401/140101", 2023, 500, 3);
	r.counters.v[CDHT_C_retired] = 2023;
	strcpy(r.successor, "140102");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(
	    apply_live(t, f, "1401", "1401", 2023, 500, 4), AGG_APPLIED);
	assert_int_equal(
	    apply_live(t, f, "1401", "1401/140103", 2023, 500, 5), AGG_APPLIED);
	assert_int_equal(aggregate_report_of(t, "140101", 2023, &w), STORE_OK);
	assert_string_equal(w.successor, "140102");
	assert_int_equal(aggregate_report_of(t, "140103", 2023, &w), STORE_OK);
	assert_string_equal(w.successor, "");
	assert_true(aggregate_retired_of(t, &f->c, "140101", &last, succ));
	assert_int_equal(last, 2023);
	assert_string_equal(succ, "140102");
	assert_false(aggregate_retired_of(t, &f->c, "140103", &last, succ));
	assert_string_equal(succ, "");

	/* the same version with no more counters (another successor):
	 * ignored, the successor too */
	strcpy(r.successor, "140109");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_IGNORED);
	assert_int_equal(aggregate_report_of(t, "140101", 2023, &w), STORE_OK);
	assert_string_equal(w.successor, "140102");

	/* forwarded upward with it, the path prefixed */
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, "140101", 2023);
	assert_non_null(up);
	assert_int_equal(up->path_len, 3);
	assert_string_equal(up->path[0], SELF);
	assert_string_equal(up->successor, "140102");
	assert_int_equal(up->counters.v[CDHT_C_retired], 2023);
	{
		char *buf;
		size_t len;
		struct wire_msg d;

		assert_int_equal(wire_encode(&m, &buf, &len), WIRE_OK);
		assert_int_equal(wire_decode(buf, len, &d), WIRE_OK);
		up = find_report(&d, "140101", 2023);
		assert_non_null(up);
		assert_string_equal(up->successor, "140102");
		up = find_report(&d, "140103", 2023);
		assert_non_null(up);
		assert_string_equal(up->successor, "");
		wire_msg_free(&d);
		free(buf);
	}
	wire_msg_free(&m);
	fx_commit(&t);

	/* this node retires the relay 1401, into 1402 */
	t = fx_wtxn(&f->s);
	kids[0] = f->kids[0]; /* 1402 */
	f->c.children = kids;
	f->c.nchildren = 1;
	memset(ret, 0, sizeof(ret));
	strcpy(ret[0].id, "1401");
	ret[0].last_year = 2023;
	strcpy(ret[0].successor, "1402");
	f->c.retired = ret;
	f->c.nretired = 1;
	assert_int_equal(aggregate_retire(t, &f->c), STORE_OK);
	assert_adopted(t, "1401", 2023, "1401", 2023, "1402", 500);
	/* retired below at the same last year: kept as it came (v500) */
	assert_adopted(t, "140101", 2023, "1401", 2023, "140102", 499);
	assert_adopted(t, "140103", 2023, "1401", 2023, "", 500);
	assert_true(aggregate_retired_of(t, &f->c, "1401", &last, succ));
	assert_string_equal(succ, "1402");
	assert_true(aggregate_retired_of(t, &f->c, "140101", &last, succ));
	assert_string_equal(succ, "140102");
	assert_true(aggregate_retired_of(t, &f->c, "140103", &last, succ));
	assert_string_equal(succ, "");
	/* a second run changes nothing */
	assert_int_equal(aggregate_report_of(t, "140101", 2023, &a), STORE_OK);
	assert_int_equal(aggregate_retire(t, &f->c), STORE_OK);
	assert_int_equal(aggregate_report_of(t, "140101", 2023, &w), STORE_OK);
	assert_int_equal(w.version, a.version);
	fx_commit(&t);

	/* a reload listing 140101 itself with another successor: re-issued
	 * (a new version, so that every ancestor learns it) */
	t = fx_wtxn(&f->s);
	strcpy(ret[1].id, "140101");
	ret[1].last_year = 2023;
	strcpy(ret[1].successor, "140105");
	f->c.nretired = 2;
	assert_int_equal(aggregate_retire(t, &f->c), STORE_OK);
	assert_adopted(t, "140101", 2023, "1401", 2023, "140105", a.version);
	assert_true(aggregate_retired_of(t, &f->c, "140101", &last, succ));
	assert_string_equal(succ, "140105");
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, "140101", 2023);
	assert_non_null(up);
	assert_string_equal(up->successor, "140105");
	assert_true(up->version > a.version);
	up = find_report(&m, "1401", 2023);
	assert_non_null(up);
	assert_string_equal(up->successor, "1402");
	wire_msg_free(&m);
	fx_commit(&t);

	/* and it is stored: still there in a new transaction */
	t = fx_rtxn(&f->s);
	assert_int_equal(aggregate_report_of(t, "140101", 2023, &w), STORE_OK);
	assert_string_equal(w.successor, "140105");
	store_abort(&t);
	f->c.children = f->kids;
	f->c.nchildren = 2;
	f->c.retired = NULL;
	f->c.nretired = 0;
}

/* counts_from: earlier years' records are kept (and make the streak) but
 * add nothing to the local counters; moving it recounts. */
static void
test_counts_from(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct records_actor act = {
	    SELF, "test", 1800000000, RECOGNITION_SCORE};
	struct local_report lr;
	struct assessment a;
	size_t n;

	assert_int_equal(records_counts_from(t, &act, 2025, &n), STORE_OK);
	assert_int_equal(n, 4);
	for (int y = 2021; y <= 2025; y++)
		local_put(t, f, y, "P1", 10);
	for (int y = 2021; y <= 2024; y++) {
		assert_int_equal(records_local(t, y, &lr), STORE_OK);
		assert_int_equal(lr.c.v[CDHT_C_assessed], 0);
		assert_int_equal(records_get(t, y, "P1", 2, &a), STORE_OK);
	}
	assert_int_equal(records_local(t, 2025, &lr), STORE_OK);
	assert_int_equal(lr.c.v[CDHT_C_assessed], 1);
	assert_int_equal(lr.c.v[CDHT_C_recognized], 1);
	assert_int_equal(lr.c.v[CDHT_C_outstanding], 1);
	/* back to 2023: 2023 and 2024 count again */
	assert_int_equal(records_counts_from(t, &act, 2023, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(records_local(t, 2022, &lr), STORE_OK);
	assert_int_equal(lr.c.v[CDHT_C_assessed], 0);
	assert_int_equal(records_local(t, 2023, &lr), STORE_OK);
	assert_int_equal(lr.c.v[CDHT_C_assessed], 1);
	assert_int_equal(records_local(t, 2024, &lr), STORE_OK);
	assert_int_equal(lr.c.v[CDHT_C_recognized], 1);
	/* unchanged: nothing recounted */
	assert_int_equal(records_counts_from(t, &act, 2023, &n), STORE_OK);
	assert_int_equal(n, 0);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* The child side: collect, acked, WELCOME. */

static void
test_outbox_cycle(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_msg m, m2;
	const struct wire_report *r;
	struct local_report lr;
	uint64_t v;

	local_put(t, f, 2025, "A", 9);
	apply_ok(t, f, "1401", "1401/140101", 2025, 5, 7);
	assert_true(fx_outbox_has(t, SELF, 2025));
	assert_true(fx_outbox_has(t, "140101", 2025));
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 2);
	fx_commit(&t);

	t = fx_wtxn(&f->s);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.type, WIRE_REPORTS);
	assert_int_equal(m.nreports, 2);
	assert_int_equal(m.nkeys, 0);
	/* our own report: path is just us, with our level and name */
	r = find_report(&m, SELF, 2025);
	assert_non_null(r);
	assert_int_equal(records_local(t, 2025, &lr), STORE_OK);
	assert_int_equal(r->version, lr.version);
	assert_int_equal(r->updated_at, lr.updated_at);
	assert_int_equal(r->path_len, 1);
	assert_string_equal(r->path[0], SELF);
	assert_string_equal(r->level, "province");
	assert_string_equal(r->name, f->c.name);
	assert_memory_equal(&r->counters, &lr.c, sizeof(lr.c));
	assert_int_equal(r->counters.v[CDHT_C_assessed], 1);
	/* a child's winner: prefixed with our id, unchanged otherwise */
	r = find_report(&m, "140101", 2025);
	assert_non_null(r);
	assert_report(
	    r, SELF "/1401/140101", 5, "commune", "Unit 140101", 1700000005, 7);
	/* collecting does not consume */
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 2);
	store_abort(&t);

	/* acked: both leave the outbox, acked versions are recorded */
	t = fx_wtxn(&f->s);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	assert_acked(t, "140101", 2025, 5);
	assert_acked(t, SELF, 2025, lr.version);
	wire_msg_free(&m);
	fx_commit(&t);

	/* a change after collect keeps the entry queued */
	t = fx_wtxn(&f->s);
	local_put(t, f, 2025, "B", 9);
	apply_ok(t, f, "1401", "1401/140101", 2025, 6, 8);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nreports, 2);
	/* what was collected is committed (uplink.c collects from a read
	 * snapshot): the next change is another transaction's */
	fx_commit(&t);
	t = fx_wtxn(&f->s);
	local_put(t, f, 2025, "C", 9);
	apply_ok(t, f, "1401", "1401/140101", 2025, 7, 9);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	assert_true(fx_outbox_has(t, SELF, 2025));
	assert_true(fx_outbox_has(t, "140101", 2025));
	/* the ack itself is recorded for what was sent */
	assert_acked(t, "140101", 2025, 6);
	wire_msg_free(&m);
	/* the next batch carries the newest versions and then clears */
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nreports, 2);
	r = find_report(&m, "140101", 2025);
	assert_non_null(r);
	assert_int_equal(r->version, 7);
	r = find_report(&m, SELF, 2025);
	assert_non_null(r);
	assert_int_equal(r->version, fx_local(t, 2025).version);
	assert_int_equal(r->counters.v[CDHT_C_assessed], 3);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	wire_msg_free(&m);
	fx_commit(&t);

	/* a removal travels as a key, and its ack clears outbox and acked */
	t = fx_wtxn(&f->s);
	remove_ok(t, f, "1401", "140101", 2025);
	assert_true(fx_outbox_has(t, "140101", 2025));
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nreports, 0);
	assert_one_key(&m, "140101", 2025);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	assert_false(fx_outbox_has(t, "140101", 2025));
	assert_false(acked_version(t, "140101", 2025, &v));
	wire_msg_free(&m);
	/* a removal acked after the origin came back stays queued */
	apply_ok(t, f, "1401", "1401/140102", 2025, 1, 1);
	remove_ok(t, f, "1401", "140102", 2025);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nkeys, 1);
	apply_ok(t, f, "1401", "1401/140102", 2025, 2, 1);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	assert_true(fx_outbox_has(t, "140102", 2025));
	wire_msg_free(&m);
	fx_commit(&t);

	/* max bounds a batch */
	t = fx_wtxn(&f->s);
	local_put(t, f, 2026, "A", 9);
	local_put(t, f, 2027, "A", 9);
	memset(&m2, 0, sizeof(m2));
	assert_int_equal(outbox_collect(t, &f->c, 1, &m2), STORE_OK);
	assert_int_equal(m2.nreports + m2.nkeys, 1);
	wire_msg_free(&m2);
	assert_int_equal(outbox_collect(t, &f->c, 2, &m2), STORE_OK);
	assert_int_equal(m2.nreports + m2.nkeys, 2);
	wire_msg_free(&m2);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m2), STORE_OK);
	assert_int_equal(m2.nreports + m2.nkeys, 3);
	wire_msg_free(&m2);
	fx_commit(&t);
}

/*
 * PROTOCOL.md 8.5: a winner replaced by a copy with a lower version than the
 * one the parent acknowledged goes as a removal first and as the report in a
 * later batch (the parent would ignore the lower version otherwise).
 */
static void
test_collect_lower_than_acked(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_msg m;
	const struct wire_report *r;
	uint64_t v;

	apply_ok(t, f, "1401", "1401/X9", 2025, 13, 13);
	expect_apply(t, f, "1402", "1402/X9", 2025, 12, 12, AGG_REFUSED);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nreports, 1);
	assert_int_equal(m.reports[0].version, 13);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	wire_msg_free(&m);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	fx_commit(&t);

	/* the v13 copy goes away (1401 lets X9 go): X9 passes to 1402,
	 * whose v12 wins, below the acked v13 */
	t = fx_wtxn(&f->s);
	remove_ok(t, f, "1401", "X9", 2025);
	assert_totals(t, f, "14", 2025, (unsigned[]){12}, 1);
	assert_true(fx_outbox_has(t, "X9", 2025));
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_null(find_report(&m, "X9", 2025));
	assert_one_key(&m, "X9", 2025);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	wire_msg_free(&m);
	/* the removal is acknowledged; the report is still to be sent */
	assert_false(acked_version(t, "X9", 2025, &v));
	assert_true(fx_outbox_has(t, "X9", 2025));
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nkeys, 0);
	r = find_report(&m, "X9", 2025);
	assert_non_null(r);
	assert_int_equal(r->version, 12);
	assert_int_equal(r->path_len, 3);
	assert_string_equal(r->path[1], "1402");
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	wire_msg_free(&m);
	assert_acked(t, "X9", 2025, 12);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	fx_commit(&t);
}

/* What collect produces is what the uplink sends: it must encode. */
static void
test_collect_encodes(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_msg m, back;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	local_put(t, f, 2025, "A", 9);
	apply_ok(t, f, "1401", "1401/140101", 2025, 5, 7);
	apply_ok(t, f, "1401", "1401/140102", 2025, 5, 8);
	remove_ok(t, f, "1401", "140102", 2025);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	assert_int_equal(m.nreports, 2);
	assert_int_equal(m.nkeys, 1);
	m.seq = 1;
	rc = wire_encode(&m, &buf, &len);
	if (rc != WIRE_OK) {
		char what[160];

		snprintf(what, sizeof(what),
		    "wire_encode of a collected batch with a removal (%s/%d, "
		    "version %llu): %s",
		    m.keys[0].origin, m.keys[0].year,
		    (unsigned long long)m.keys[0].version, wire_strerror(rc));
		wire_msg_free(&m);
		store_abort(&t);
		fail_msg("%s", what);
	}
	assert_int_equal(wire_decode(buf, len, &back), WIRE_OK);
	assert_int_equal(back.nreports, 2);
	assert_int_equal(back.nkeys, 1);
	assert_string_equal(back.keys[0].origin, "140102");
	wire_msg_free(&back);
	free(buf);
	wire_msg_free(&m);
	store_abort(&t);
}

static void
welcome(struct store_txn *t, struct fx *f, const char *parent,
    struct wire_key *own, size_t nown, struct wire_key *want, size_t nwant)
{
	struct wire_msg w;

	memset(&w, 0, sizeof(w));
	w.type = WIRE_WELCOME;
	snprintf(w.id, sizeof(w.id), "%s", parent);
	w.own = own;
	w.nown = nown;
	w.keys = want;
	w.nkeys = nwant;
	assert_int_equal(outbox_welcome(t, &f->c, &w, 1800000100), STORE_OK);
}

static void
versions(struct store_txn *t, uint64_t v[10])
{
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++)
		v[y - RULES_YEAR_MIN] = fx_local(t, y).version;
}

static uint64_t
max_version(const uint64_t v[10])
{
	uint64_t top = 0;

	for (int i = 0; i < 10; i++)
		if (v[i] > top)
			top = v[i];
	return top;
}

static void
clear_outbox(struct store_txn *t)
{
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++)
		fx_outbox_clear(t, SELF, y);
}

/* A WELCOME from parent with own[0..nown) leaves our versions v0 alone. */
static void
welcome_keeps(struct store_txn *t, struct fx *f, const char *parent,
    struct wire_key *own, size_t nown, const uint64_t v0[10])
{
	uint64_t v1[10];

	welcome(t, f, parent, own, nown, NULL, 0);
	versions(t, v1);
	assert_memory_equal(v0, v1, sizeof(v1));
}

/* A WELCOME from parent with own[0..nown) gives every year a version above
 * `above` (into v1) and queues it. */
static void
welcome_bumps(struct store_txn *t, struct fx *f, const char *parent,
    struct wire_key *own, size_t nown, uint64_t above, uint64_t v1[10])
{
	welcome(t, f, parent, own, nown, NULL, 0);
	versions(t, v1);
	for (int i = 0; i < 10; i++) {
		assert_true(v1[i] > above);
		assert_true(fx_outbox_has(t, SELF, RULES_YEAR_MIN + i));
	}
}

static void
test_welcome(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	uint64_t v0[10], v1[10], top;
	struct wire_key own[2], want[2];

	assert_int_equal(records_ensure_years(t, SELF, 1800000000), STORE_OK);
	local_put(t, f, 2025, "A", 9);
	versions(t, v0);
	clear_outbox(t);
	fx_commit(&t);

	/* the first WELCOME: the parent is remembered, nothing bumped */
	t = fx_wtxn(&f->s);
	welcome_keeps(t, f, "P", NULL, 0, v0);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	/* the parent holds an older version: nothing bumped */
	set_key(&own[0], SELF, 2025, v0[2025 - RULES_YEAR_MIN] - 1);
	welcome_keeps(t, f, "P", own, 1, v0);
	/* someone else's version in `own` is not ours to compare */
	set_key(&own[0], "1401", 2025, 1000000);
	welcome_keeps(t, f, "P", own, 1, v0);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	fx_commit(&t);

	/* the parent holds a version above ours (we were restored from an
	 * old backup): every year gets a version above it and is queued */
	t = fx_wtxn(&f->s);
	/* versions are a hybrid clock (microseconds): go well above ours */
	top = max_version(v0);
	set_key(&own[0], SELF, 2023, top + 5000000);
	set_key(&own[1], SELF, 2025, top + 4000000);
	welcome_bumps(t, f, "P", own, 2, own[0].version, v1);
	top = max_version(v1);
	clear_outbox(t);
	fx_commit(&t);

	/* a different parent (this node was moved): new versions */
	t = fx_wtxn(&f->s);
	versions(t, v0);
	welcome_bumps(t, f, "Q", NULL, 0, top, v1);
	clear_outbox(t);
	/* and the same parent again: nothing */
	versions(t, v0);
	welcome_keeps(t, f, "Q", NULL, 0, v0);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	fx_commit(&t);

	/* the want list is queued and its acks forgotten */
	t = fx_wtxn(&f->s);
	apply_ok(t, f, "1401", "1401/140101", 2025, 5, 7);
	{
		struct wire_msg m;
		uint64_t v;

		assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
		assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
		wire_msg_free(&m);
		assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
		assert_true(acked_version(t, "140101", 2025, &v));
		set_key(&want[0], "140101", 2025, 0);
		set_key(&want[1], SELF, 2024, 0);
		welcome(t, f, "Q", NULL, 0, want, 2);
		assert_true(fx_outbox_has(t, "140101", 2025));
		assert_true(fx_outbox_has(t, SELF, 2024));
		assert_false(acked_version(t, "140101", 2025, &v));
		assert_int_equal(fx_count_table(t, TBL_OUTBOX), 2);
	}
	fx_commit(&t);
}

/*
 * PROTOCOL.md 8.4 step 2: after a WELCOME whose `own` lists [self, year, v],
 * every version we issue from then on is above v, and a year we hold below
 * v (or not at all: restored from a backup that lacks it) is re-issued above
 * v.  Here own equals ours for one year and is above ours for another.
 */
static void
test_welcome_own_rule(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	uint64_t v0[10], v1[10], eq, above;
	struct wire_key own[2];

	local_put(t, f, 2026, "A", 9);
	welcome(t, f, "P", NULL, 0, NULL, 0);
	versions(t, v0);
	/* only 2026 has a report; the others are version 0 */
	assert_true(v0[2026 - RULES_YEAR_MIN] > 0);
	assert_int_equal(v0[2029 - RULES_YEAR_MIN], 0);
	clear_outbox(t);
	fx_commit(&t);

	t = fx_wtxn(&f->s);
	eq = v0[2026 - RULES_YEAR_MIN];
	above = eq + 40;
	set_key(&own[0], SELF, 2026, eq);
	set_key(&own[1], SELF, 2029, above);
	welcome(t, f, "P", own, 2, NULL, 0);
	versions(t, v1);
	/* 2029 was lacking: re-issued above what the parent holds */
	assert_true(v1[2029 - RULES_YEAR_MIN] > above);
	assert_true(fx_outbox_has(t, SELF, 2029));
	/* nothing of ours stays below a version the parent holds */
	assert_true(v1[2026 - RULES_YEAR_MIN] >= eq);
	/* and the next write of any year is above every own version */
	local_put(t, f, 2026, "B", 9);
	assert_true(fx_local(t, 2026).version > above);
	local_put(t, f, 2021, "B", 9);
	assert_true(fx_local(t, 2021).version > above);
	fx_commit(&t);
}

/* ---------------------------------------------------------------------- */
/* Inventory and the node directory. */

static void
test_inventory(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_key *inv;
	size_t n;

	local_put(t, f, 2025, "A", 9);
	apply_ok(t, f, "1401", "1401/140101", 2025, 5, 7);
	/* a higher copy via the child that does not hold 140101: kept,
	 * never a winner, never in the inventory */
	expect_apply(t, f, "1402", "1402/140101", 2025, 8, 7, AGG_REFUSED);
	apply_ok(t, f, "1402", "1402", 2026, 2, 7);
	assert_int_equal(outbox_inventory(t, &f->c, &inv, &n), STORE_OK);
	/* our 2025, the winner of 140101/2025 (v5), 1402/2026 */
	assert_int_equal(n, 3);
	assert_has_key(inv, n, SELF, 2025, fx_local(t, 2025).version);
	assert_has_key(inv, n, "140101", 2025, 5);
	assert_has_key(inv, n, "1402", 2026, 2);
	free(inv);
	store_abort(&t);
}

static const struct agg_node *
find_node(const struct agg_node *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

/* v[0..n) lists id under parent at depth; returns it. */
static const struct agg_node *
assert_node(const struct agg_node *v, size_t n, const char *id,
    const char *parent, int depth)
{
	const struct agg_node *nd = find_node(v, n, id);

	assert_non_null(nd);
	assert_string_equal(nd->parent, parent);
	assert_int_equal(nd->depth, depth);
	return nd;
}

static void
test_nodes(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct agg_node *v;
	const struct agg_node *nd;
	size_t n;

	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	assert_int_equal(n, 0);
	free(v);
	apply_ok(t, f, "1401", "1401", 2025, 3, 1);
	apply_ok(t, f, "1401", "1401", 2026, 9, 1);
	apply_ok(t, f, "1401", "1401/140101", 2025, 4, 1);
	apply_ok(t, f, "1401", "1401/140101/14010101", 2025, 2, 1);
	apply_ok(t, f, "1402", "1402/140201", 2024, 6, 1);
	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	assert_int_equal(n, 4);
	/* in key order */
	assert_string_equal(v[0].id, "1401");
	assert_string_equal(v[1].id, "140101");
	assert_string_equal(v[2].id, "14010101");
	assert_string_equal(v[3].id, "140201");

	nd = assert_node(v, n, "1401", "14", 1);
	assert_string_equal(nd->level, "district");
	assert_string_equal(nd->name, "Unit 1401");
	assert_int_equal(nd->version, 9);
	assert_int_equal(nd->last_report, 1700000009);
	nd = assert_node(v, n, "140101", "1401", 2);
	assert_string_equal(nd->level, "commune");
	nd = assert_node(v, n, "14010101", "140101", 3);
	assert_int_equal(nd->version, 2);
	assert_node(v, n, "140201", "1402", 2);
	/* 1402 itself never reported: not listed */
	assert_null(find_node(v, n, "1402"));
	free(v);

	/* a node is listed while any year has a winner */
	remove_ok(t, f, "1401", "1401", 2025);
	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	assert_non_null(find_node(v, n, "1401"));
	free(v);
	remove_ok(t, f, "1401", "1401", 2026);
	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	assert_null(find_node(v, n, "1401"));
	assert_int_equal(n, 3);
	free(v);

	/* a commune that moves to the other child (the old one lets it
	 * go) gets its new parent */
	expect_apply(t, f, "1402", "1402/140101", 2025, 10, 1, AGG_REFUSED);
	remove_ok(t, f, "1401", "140101", 2025);
	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	nd = assert_node(v, n, "140101", "1402", 2);
	assert_int_equal(nd->version, 10);
	free(v);
	fx_commit(&t);
}

/* Versions are a clock in microseconds: a parent takes one up to 30 days
 * ahead of its own clock and refuses anything later (the wire allows up to
 * 2^64 - 1); a child never raises its clock to a far-future `own`. */
static void
test_far_future_versions(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	const uint64_t horizon =
	    UINT64_C(1800000000) * 1000000 + UINT64_C(30) * 86400 * 1000000;
	struct wire_msg w;
	struct wire_key own;
	uint64_t next;

	expect_apply(t, f, "1401", "1401", 2025, UINT64_MAX, 1, AGG_REFUSED);
	expect_apply(t, f, "1401", "1401", 2025, horizon + 1, 1, AGG_REFUSED);
	assert_zero(t, f, "14", 2025);
	apply_ok(t, f, "1401", "1401", 2025, horizon, 2);
	assert_seed_along(t, f, "14/1401", 2025, 2);

	memset(&w, 0, sizeof(w));
	w.type = WIRE_WELCOME;
	strcpy(w.id, "1");
	set_key(&own, SELF, 2025, UINT64_MAX - 1);
	w.own = &own;
	w.nown = 1;
	assert_int_equal(outbox_welcome(t, &f->c, &w, 1800000000), STORE_OK);
	next = store_next_seq(t);
	assert_true(next < UINT64_C(1) << 62);
	fx_commit(&t);
}

/* A child holds at most max_origins_per_child units: a new one beyond is
 * refused (not stored); letting one go, or handing one over, frees room. */
static void
test_origins_per_child_cap(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	uint64_t over = aggregate_origins_over_cap();

	f->c.max_origins_per_child = 2;
	apply_ok(t, f, "1401", "1401", 2025, 1, 1);
	apply_ok(t, f, "1401", "1401/140101", 2025, 1, 2);
	apply_ok(t, f, "1401", "1401/140101", 2026, 1, 3); /* same unit */
	expect_apply(t, f, "1401", "1401/140102", 2025, 1, 4, AGG_REFUSED);
	assert_int_equal(aggregate_origins_over_cap(), over + 1);
	assert_zero(t, f, "140102", 2025);
	/* the other child has room of its own */
	apply_ok(t, f, "1402", "1402", 2025, 1, 5);
	apply_ok(t, f, "1402", "1402/X9", 2025, 1, 6);
	expect_apply(t, f, "1402", "1402/X8", 2025, 1, 7, AGG_REFUSED);
	/* 1401 lets 140101 go (both years): room for 140102 */
	remove_ok(t, f, "1401", "140101", 2025);
	expect_apply(t, f, "1401", "1401/140102", 2025, 1, 4, AGG_REFUSED);
	remove_ok(t, f, "1401", "140101", 2026);
	apply_ok(t, f, "1401", "1401/140102", 2025, 1, 4);
	assert_seed_along(t, f, "140102", 2025, 4);
	/* X9 handed over from 1402 to 1401 moves its count: 1402 has room
	 * again, 1401 (now at 3: a handover is not refused) has none */
	expect_apply(t, f, "1401", "1401/X9", 2025, 2, 8, AGG_REFUSED);
	remove_ok(t, f, "1402", "X9", 2025);
	assert_seed_along(t, f, "X9", 2025, 8);
	assert_winner(t, "X9", 2025, "1401", 2);
	apply_ok(t, f, "1402", "1402/X8", 2025, 1, 7);
	expect_apply(t, f, "1401", "1401/X7", 2025, 1, 9, AGG_REFUSED);
	fx_commit(&t);
}

/* A node without a parent keeps no outbox: start-up empties what an earlier
 * configuration queued, and nothing is queued after. */
static void
test_root_keeps_no_outbox(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);

	strcpy(f->c.parent, "tcp://127.0.0.1:1"); /* first with a parent */
	assert_int_equal(outbox_startup(t, &f->c), STORE_OK);
	local_put(t, f, 2025, "A", 9);
	apply_ok(t, f, "1401", "1401", 2025, 3, 1);
	assert_true(fx_count_table(t, TBL_OUTBOX) >= 2);
	f->c.parent[0] = '\0'; /* now the root */
	assert_int_equal(outbox_startup(t, &f->c), STORE_OK);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	assert_int_equal(fx_count_table(t, TBL_ACKED), 0);
	local_put(t, f, 2026, "B", 9);
	apply_ok(t, f, "1401", "1401", 2026, 4, 2);
	remove_ok(t, f, "1401", "1401", 2025);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	assert_seed_along(t, f, "1401", 2026, 2);
	/* back to a child: queueing again (the other tests rely on it) */
	strcpy(f->c.parent, "tcp://127.0.0.1:1");
	assert_int_equal(outbox_startup(t, &f->c), STORE_OK);
	local_put(t, f, 2027, "C", 9);
	assert_true(fx_outbox_has(t, SELF, 2027));
	fx_commit(&t);
}

/* Found in review: a fuller copy at the version in flight stays queued;
 * HELLO's step 4 (a relayed copy above the child's) keeps the unit with
 * the child, it does not hand it to a child holding a stale copy. */
static void
test_review_findings(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report r;
	struct wire_msg m, w;
	struct wire_key inv;

	mkrep(&r, "1401/140101", 2024, 1000, 3);
	r.ncounters = CDHT_WIRE_MIN_COUNTERS;
	r.counters.v[CDHT_NCOUNTERS - 1] = 0;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	r.ncounters = 0; /* every counter: the same report, fuller */
	r.counters.v[CDHT_NCOUNTERS - 1] = 5;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(outbox_acked(t, &f->c, &m), STORE_OK);
	wire_msg_free(&m);
	assert_true(fx_outbox_has(t, "140101", 2024));

	apply_ok(t, f, "1401", "1401/9999", 2024, 1000, 4);
	expect_apply(t, f, "1402", "1402/9999", 2024, 500, 5, AGG_REFUSED);
	set_key(&inv, "9999", 2024, 800);
	assert_int_equal(
	    aggregate_hello(t, &f->c, "1401", &inv, 1, &w), STORE_OK);
	assert_true(has_key(w.keys, w.nkeys, "9999", 2024, NULL));
	wire_msg_free(&w);
	assert_zero(
	    t, f, "9999", 2024); /* the stale 1402 copy is not counted */
	apply_ok(t, f, "1401", "1401/9999", 2024, 800, 6);
	assert_seed_along(t, f, "9999", 2024, 6);
	fx_commit(&t);
}

/*
 * Report field 9, filed_by (PROTOCOL.md 5.3.1, 7.1 rule 5): it is kept
 * with the copy, wins with it, comes back from aggregate_report_of, and is
 * forwarded upward with the report; a copy of the same version with more
 * counters replaces it along with the rest; one with no more counters is
 * ignored, its filed_by too; a newer version (a reopened year) clears it.
 */
static void
test_filed_by_travels(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report r, w;
	const struct wire_report *up;
	struct wire_msg m;

	/* through a relay of release 0.2.0: 33 counters, no field 9 */
	mkrep(&r, "1401/140101", 2025, 1000, 7);
	r.ncounters = 33;
	for (int i = 33; i < CDHT_NCOUNTERS; i++)
		r.counters.v[i] = 0;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(aggregate_report_of(t, "140101", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, "");
	assert_int_equal(w.ncounters, 33);

	/* the relay upgraded: the same version, all counters, filed */
	mkrep(&r, "1401/140101", 2025, 1000, 7);
	r.counters.v[CDHT_C_filed] = 1;
	r.counters.v[CDHT_C_filed_at] = 1764547200;
	strcpy(r.filed_by, "Nguy\xe1\xbb\x85n V\xc4\x83n A");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(aggregate_report_of(t, "140101", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, r.filed_by);
	assert_int_equal(w.ncounters, CDHT_NCOUNTERS);
	assert_int_equal(w.counters.v[CDHT_C_filed], 1);
	assert_int_equal(totals(t, f, "1401", 2025).v[CDHT_C_filed], 1);
	assert_int_equal(totals(t, f, SELF, 2025).v[CDHT_C_filed], 1);

	/* forwarded upward with it, the path prefixed */
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, "140101", 2025);
	assert_non_null(up);
	assert_int_equal(up->path_len, 3);
	assert_string_equal(up->path[0], SELF);
	assert_string_equal(up->filed_by, r.filed_by);
	assert_int_equal(up->counters.v[CDHT_C_filed_at], 1764547200);
	{
		char *buf;
		size_t len;
		struct wire_msg d;

		assert_int_equal(wire_encode(&m, &buf, &len), WIRE_OK);
		assert_int_equal(wire_decode(buf, len, &d), WIRE_OK);
		up = find_report(&d, "140101", 2025);
		assert_non_null(up);
		assert_string_equal(up->filed_by, r.filed_by);
		wire_msg_free(&d);
		free(buf);
	}
	wire_msg_free(&m);

	/* the same version with no more counters: ignored, filed_by too */
	strcpy(r.filed_by, "someone else");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_IGNORED);
	assert_int_equal(aggregate_report_of(t, "140101", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, "Nguy\xe1\xbb\x85n V\xc4\x83n A");

	/* reopened: a newer version, open again */
	mkrep(&r, "1401/140101", 2025, 1001, 7);
	r.counters.v[CDHT_C_filed] = 0;
	r.counters.v[CDHT_C_filed_at] = 0;
	r.counters.v[CDHT_C_reopened] = 1;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	assert_int_equal(aggregate_report_of(t, "140101", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, "");
	assert_int_equal(w.counters.v[CDHT_C_reopened], 1);
	assert_int_equal(totals(t, f, SELF, 2025).v[CDHT_C_filed], 0);

	/* a winner's filed_by is the winning copy's: the holder's, at a
	 * higher version than an older copy */
	mkrep(&r, "1401/140102", 2025, 50, 8);
	strcpy(r.filed_by, "old");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	mkrep(&r, "1401/140102", 2025, 60, 8);
	strcpy(r.filed_by, "new");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	mkrep(&r, "1401/140102", 2025, 55, 8);
	strcpy(r.filed_by, "between");
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_IGNORED);
	assert_int_equal(aggregate_report_of(t, "140102", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, "new");
	fx_commit(&t);

	/* and it is stored: still there in a new transaction */
	t = fx_rtxn(&f->s);
	assert_int_equal(aggregate_report_of(t, "140101", 2025, &w), STORE_OK);
	assert_int_equal(w.version, 1001);
	assert_int_equal(aggregate_report_of(t, "140102", 2025, &w), STORE_OK);
	assert_string_equal(w.filed_by, "new");
	store_abort(&t);
}

/* The origin's own filing goes up in its report (outbox.c): field 9 is the
 * filer's label, counters filed, filed_at, filed_missing; a reopening
 * clears the label and counts; a label the wire would refuse (not text)
 * goes quoted rather than holding the report back. */
static void
test_local_filing_goes_up(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct records_actor act = {
	    SELF, "tinh-admin", 1764547200, RECOGNITION_SCORE};
	const struct wire_report *up;
	struct wire_msg m, d;
	char **ids;
	size_t n;
	char *buf;
	size_t len;

	local_put(t, f, 2025, "S1", 9);
	/* neither child has filed (nor reported): forced */
	assert_int_equal(
	    filing_file(t, &f->c, &act, 2025, 1, &ids, &n), STORE_OK);
	assert_int_equal(n, 2);
	filing_ids_free(&ids, &n);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, SELF, 2025);
	assert_non_null(up);
	assert_string_equal(up->filed_by, "tinh-admin");
	assert_int_equal(up->path_len, 1);
	assert_int_equal(up->counters.v[CDHT_C_filed], 1);
	assert_int_equal(up->counters.v[CDHT_C_filed_at], 1764547200);
	assert_int_equal(up->counters.v[CDHT_C_filed_missing], 2);
	assert_int_equal(up->counters.v[CDHT_C_assessed], 1);
	up = find_report(&m, SELF, 2024);
	assert_true(up == NULL || up->filed_by[0] == '\0');
	assert_int_equal(wire_encode(&m, &buf, &len), WIRE_OK);
	assert_int_equal(wire_decode(buf, len, &d), WIRE_OK);
	assert_string_equal(
	    find_report(&d, SELF, 2025)->filed_by, "tinh-admin");
	wire_msg_free(&d);
	free(buf);
	wire_msg_free(&m);

	act.now++;
	assert_int_equal(filing_reopen(t, &act, 2025), STORE_OK);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, SELF, 2025);
	assert_non_null(up);
	assert_string_equal(up->filed_by, "");
	assert_int_equal(up->counters.v[CDHT_C_filed], 0);
	assert_int_equal(up->counters.v[CDHT_C_filed_at], 0);
	assert_int_equal(up->counters.v[CDHT_C_reopened], 1);
	wire_msg_free(&m);

	/* a label with a control character and one cut mid-character */
	act.who = "a\x01\xc3";
	assert_int_equal(
	    filing_file(t, &f->c, &act, 2025, 1, &ids, &n), STORE_OK);
	filing_ids_free(&ids, &n);
	assert_int_equal(outbox_collect(t, &f->c, 100, &m), STORE_OK);
	up = find_report(&m, SELF, 2025);
	assert_non_null(up);
	assert_string_equal(up->filed_by, "a\\x01\\xc3");
	assert_int_equal(wire_encode(&m, &buf, &len), WIRE_OK);
	free(buf);
	wire_msg_free(&m);
	store_abort(&t);
}

/* ---------------------------------------------------------------------- */
/* A random sequence against winners and totals recomputed here. */

#define NVIA 2
static const char *const vias[NVIA] = {"1401", "1402"}; /* id order */

/* Every (via, origin) the sequence uses, with its path. */
static const struct opath {
	int via;
	const char *path;
	const char *origin;
} opaths[] = {
    {0, "1401", "1401"},
    {0, "1401/140101", "140101"},
    {0, "1401/140101/14010101", "14010101"},
    {0, "1401/140102", "140102"},
    {0, "1401/140102/X9", "X9"},
    {1, "1402", "1402"},
    {1, "1402/140201", "140201"},
    {1, "1402/X9", "X9"},
    {1, "1402/140101", "140101"},
    {1, "1402/140101/14010101", "14010101"},
};
#define NOP (sizeof(opaths) / sizeof(opaths[0]))
static const char *const origins[] = {
    "1401", "140101", "14010101", "140102", "X9", "1402", "140201"};
#define NORIG (sizeof(origins) / sizeof(origins[0]))
static const char *const everyone[] = {
    "14", "1401", "140101", "14010101", "140102", "X9", "1402", "140201"};
#define NEVERY (sizeof(everyone) / sizeof(everyone[0]))
#define Y0     2024
#define NY     3

struct mm {
	int has;
	uint64_t ver;
	unsigned seed;
};

struct amodel {
	struct mm m[NVIA][NORIG][NY];
	int pin[NORIG]; /* the via an origin is held through, -1: free */
};

static int
orig_idx(const char *o)
{
	for (size_t i = 0; i < NORIG; i++)
		if (strcmp(origins[i], o) == 0)
			return (int)i;
	fail_msg("no origin %s", o);
	return -1;
}

static int
op_of(int via, int o)
{
	for (size_t i = 0; i < NOP; i++)
		if (opaths[i].via == via &&
		    strcmp(opaths[i].origin, origins[o]) == 0)
			return (int)i;
	return -1;
}

/* The winning via of (o, y), or -1: the copy via the child o is held
 * through (pinned), if it has one. */
static int
winner(const struct amodel *am, int o, int y)
{
	int v = am->pin[o];

	return v >= 0 && am->m[v][o][y].has ? v : -1;
}

static int
holds_any(const struct amodel *am, int v, int o)
{
	for (int y = 0; y < NY; y++)
		if (am->m[v][o][y].has)
			return 1;
	return 0;
}

/* Via v removed a copy of o: once it holds no year of o, o passes to the
 * other child if that one holds a copy (the newest; two vias here). */
static int
model_release(struct amodel *am, int v, int o)
{
	if (am->pin[o] != v || holds_any(am, v, o))
		return 0;
	am->pin[o] = holds_any(am, 1 - v, o) ? 1 - v : -1;
	return am->pin[o] >= 0; /* 1: handed over */
}

/* An id between the sender and the origin held via the other child. */
static int
through_other(const struct amodel *am, int op)
{
	char buf[128], *save = NULL, *tok, *last = NULL;
	int v = opaths[op].via, bad = 0;

	snprintf(buf, sizeof(buf), "%s", opaths[op].path);
	tok = strtok_r(buf, "/", &save); /* the sender */
	while ((tok = strtok_r(NULL, "/", &save)) != NULL) {
		if (last != NULL) {
			for (size_t o = 0; o < NORIG; o++)
				if (strcmp(origins[o], last) == 0 &&
				    am->pin[o] >= 0 && am->pin[o] != v)
					bad = 1;
		}
		last = tok;
	}
	return bad;
}

static int
path_has(const char *path, const char *node)
{
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save))
		if (strcmp(tok, node) == 0)
			return 1;
	return 0;
}

/* aggregate_view_report of r's origin and year shows what r holds. */
static void
expect_view_report(struct store_txn *t, const struct wire_report *r)
{
	struct agg_view_report v;

	memset(&v, 0x5a, sizeof(v)); /* nothing left from before */
	assert_int_equal(
	    aggregate_view_report(t, r->origin, r->year, &v), STORE_OK);
	fx_assert_counters(
	    &v.c, &r->counters, "view report %s/%d", r->origin, r->year);
	assert_int_equal(v.ncounters, r->ncounters);
	assert_int_equal(v.updated_at, r->updated_at);
	assert_string_equal(v.filed_by, r->filed_by);
}

static void
verify_model(struct store_txn *t, struct fx *f, const struct amodel *am,
    const char *when)
{
	for (int y = 0; y < NY; y++) {
		for (size_t e = 0; e < NEVERY; e++) {
			struct cdht_counters want, got, one;

			memset(&want, 0, sizeof(want));
			for (size_t o = 0; o < NORIG; o++) {
				int w = winner(am, (int)o, y);
				int op;

				if (w < 0)
					continue;
				op = op_of(w, (int)o);
				if (strcmp(everyone[e], SELF) != 0 &&
				    !path_has(opaths[op].path, everyone[e]))
					continue;
				seed_counters(&one, am->m[w][o][y].seed);
				cdht_counters_add(&want, &one, +1);
			}
			got = totals(t, f, everyone[e], Y0 + y);
			fx_assert_counters(&got, &want,
			    "%s: totals %s/%d (brute force)", when, everyone[e],
			    Y0 + y);
			if (strcmp(everyone[e], SELF) == 0)
				continue;
			/* the views' read, through the totals cache */
			assert_int_equal(
			    aggregate_view_totals(t, everyone[e], Y0 + y, &got),
			    STORE_OK);
			fx_assert_counters(&got, &want, "%s: view totals %s/%d",
			    when, everyone[e], Y0 + y);
		}
		for (size_t o = 0; o < NORIG; o++) {
			struct wire_report r;
			int w = winner(am, (int)o, y);
			int rc = aggregate_report_of(t, origins[o], Y0 + y, &r);

			if (w < 0) {
				assert_int_equal(rc, STORE_NOTFOUND);
				continue;
			}
			assert_int_equal(rc, STORE_OK);
			expect_view_report(t, &r);
			if (r.version != am->m[w][o][y].ver ||
			    strcmp(r.path[0], vias[w]) != 0)
				fail_msg("%s: winner of %s/%d is v%llu via %s, "
				         "model v%llu via %s",
				    when, origins[o], Y0 + y,
				    (unsigned long long)r.version, r.path[0],
				    (unsigned long long)am->m[w][o][y].ver,
				    vias[w]);
		}
	}
}

static void
verify_nodes(struct store_txn *t, const struct amodel *am, const char *when)
{
	struct agg_node *v;
	size_t n, want = 0;

	assert_int_equal(aggregate_nodes(t, &v, &n), STORE_OK);
	for (size_t o = 0; o < NORIG; o++) {
		int any = 0, paths = 0, op = -1;
		const struct agg_node *nd = find_node(v, n, origins[o]);

		for (int y = 0; y < NY; y++)
			any |= winner(am, (int)o, y) >= 0;
		want += any;
		if (!any) {
			if (nd != NULL)
				fail_msg("%s: node %s listed without a "
				         "winner",
				    when, origins[o]);
			continue;
		}
		if (nd == NULL)
			fail_msg("%s: node %s missing", when, origins[o]);
		for (size_t i = 0; i < NOP; i++)
			if (strcmp(opaths[i].origin, origins[o]) == 0) {
				paths++;
				op = (int)i;
			}
		if (paths == 1) {
			/* one possible path: parent and depth follow */
			const char *p = opaths[op].path, *slash;
			char parent[32] = SELF;
			int depth = 1;

			for (const char *s = p; *s; s++)
				depth += *s == '/';
			if ((slash = strrchr(p, '/')) != NULL) {
				const char *prev = slash;

				while (prev > p && prev[-1] != '/')
					prev--;
				snprintf(parent, sizeof(parent), "%.*s",
				    (int)(slash - prev), prev);
			}
			assert_string_equal(nd->parent, parent);
			assert_int_equal(nd->depth, depth);
		}
	}
	assert_int_equal(n, want);
	free(v);
	/* one index entry by child per copy */
	assert_int_equal(
	    fx_count_table(t, TBL_BYVIA), fx_count_table(t, TBL_MIRROR));
}

static void
test_random_against_model(void **state)
{
	struct fx *f = *state;
	struct amodel *am = calloc(1, sizeof(*am));
	struct store_txn *t = fx_wtxn(&f->s);
	unsigned seed = 677387;
	int applied = 0, ignored = 0, refused = 0, removed = 0, hellos = 0,
	    promoted = 0, claims = 0, handovers = 0;

	assert_non_null(am);
	for (size_t o = 0; o < NORIG; o++)
		am->pin[o] = -1;
	srand(seed);
	for (int step = 0; step < 3000; step++) {
		int kind = rand() % 100;
		char when[64];

		snprintf(when, sizeof(when), "step %d (seed %u)", step, seed);
		if (kind < 60) {
			int op = rand() % (int)NOP, y = rand() % NY;
			int o = orig_idx(opaths[op].origin);
			int v = opaths[op].via;
			uint64_t ver = 1 + (uint64_t)(rand() % 25);
			unsigned cs = (unsigned)rand();
			struct mm *mm = &am->m[v][o][y];
			int newer = !mm->has || mm->ver < ver;
			int want = newer ? AGG_APPLIED : AGG_IGNORED;
			int rc, through = through_other(am, op);

			if (through)
				want = AGG_REFUSED; /* not stored */
			else if (am->pin[o] < 0)
				am->pin[o] = v;
			else if (am->pin[o] != v)
				want = AGG_REFUSED; /* stored, not counted */
			rc = apply(
			    t, f, vias[v], opaths[op].path, Y0 + y, ver, cs);
			if (rc != want)
				fail_msg("%s: apply %s via %s v%llu: %d, model "
				         "%d",
				    when, opaths[op].path, vias[v],
				    (unsigned long long)ver, rc, want);
			if (!through && newer) {
				mm->has = 1;
				mm->ver = ver;
				mm->seed = cs;
			}
			if (want == AGG_APPLIED)
				applied++;
			else if (want == AGG_IGNORED)
				ignored++;
			else
				claims++;
		} else if (kind < 65) {
			/* sent by the wrong child: refused, no change */
			int op = rand() % (int)NOP;

			expect_apply(t, f, vias[1 - opaths[op].via],
			    opaths[op].path, Y0 + rand() % NY, 100, 1,
			    AGG_REFUSED);
			refused++;
		} else if (kind < 90) {
			int v = rand() % NVIA, o = rand() % (int)NORIG;
			int y = rand() % NY, w0 = winner(am, o, y);

			remove_ok(t, f, vias[v], origins[o], Y0 + y);
			removed += am->m[v][o][y].has;
			if (am->m[v][o][y].has) {
				am->m[v][o][y].has = 0;
				handovers += model_release(am, v, o);
			}
			promoted += w0 == v && winner(am, o, y) >= 0;
		} else {
			/* HELLO from one child with a random inventory */
			int v = rand() % NVIA;
			struct wire_key inv[NOP * NY];
			size_t n = 0, nwant = 0;
			struct wire_msg w;
			int inv_has[NORIG][NY];
			uint64_t inv_ver[NORIG][NY], own_ver[NY];

			memset(inv_has, 0, sizeof(inv_has));
			for (size_t i = 0; i < NOP; i++) {
				int o = orig_idx(opaths[i].origin);

				if (opaths[i].via != v)
					continue;
				for (int y = 0; y < NY; y++)
					if (rand() % 10 < 7) {
						inv_ver[o][y] =
						    1 + (uint64_t)(rand() % 25);
						inv_has[o][y] = 1;
						set_key(&inv[n++], origins[o],
						    Y0 + y, inv_ver[o][y]);
					}
			}
			/* own: the winner's version of the child's own origin,
			 * whichever child it came through, before any drop */
			for (int y = 0; y < NY; y++) {
				int o = orig_idx(vias[v]),
				    wv = winner(am, o, y);

				own_ver[y] = wv < 0 ? 0 : am->m[wv][o][y].ver;
			}
			assert_int_equal(
			    aggregate_hello(t, &f->c, vias[v], inv, n, &w),
			    STORE_OK);
			/* model: drop what the inventory lacks, and relayed
			 * copies above the child's (its inventory rules) */
			/* step 3 (what the inventory lacks) lets go of a
			 * unit left without copies; step 4 (a relayed copy
			 * above the child's) keeps holding it: it comes back */
			for (size_t o = 0; o < NORIG; o++) {
				int dropped = 0;

				for (int y = 0; y < NY; y++)
					if (!inv_has[o][y] &&
					    am->m[v][o][y].has) {
						am->m[v][o][y].has = 0;
						dropped = 1;
					}
				if (dropped)
					handovers +=
					    model_release(am, v, (int)o);
			}
			for (size_t o = 0; o < NORIG; o++)
				for (int y = 0; y < NY; y++) {
					struct mm *mm = &am->m[v][o][y];
					if (mm->has &&
					    mm->ver > inv_ver[o][y] &&
					    strcmp(origins[o], vias[v]) != 0)
						mm->has = 0;
				}
			assert_string_equal(w.id, SELF);
			/* want: absent or older here */
			for (size_t o = 0; o < NORIG; o++)
				for (int y = 0; y < NY; y++) {
					const struct mm *mm = &am->m[v][o][y];
					int wants =
					    inv_has[o][y] &&
					    (!mm->has ||
					        mm->ver < inv_ver[o][y]);

					nwant += wants;
					if (wants != has_key(w.keys, w.nkeys,
					                 origins[o], Y0 + y,
					                 NULL))
						fail_msg("%s: HELLO want %s/%d "
						         "= %d",
						    when, origins[o], Y0 + y,
						    !wants);
				}
			assert_int_equal(w.nkeys, nwant);
			/* own, as computed before the call */
			{
				size_t nown = 0;

				for (int y = 0; y < NY; y++) {
					uint64_t ver = 0;
					int has = has_key(w.own, w.nown,
					    vias[v], Y0 + y, &ver);

					assert_int_equal(has, own_ver[y] != 0);
					if (has)
						assert_int_equal(
						    ver, own_ver[y]);
					nown += has;
				}
				assert_int_equal(w.nown, nown);
			}
			wire_msg_free(&w);
			hellos++;
		}
		assert_int_equal(store_txn_err(t), STORE_OK);
		verify_model(t, f, am, when);
		if (step % 50 == 49) {
			verify_nodes(t, am, when);
			fx_commit(&t);
			t = fx_wtxn(&f->s);
		}
	}
	verify_nodes(t, am, "end");
	fx_commit(&t);
	print_message("random: %d applied, %d ignored, %d refused, %d claims, "
	              "%d removed, %d hellos, %d promoted, %d handovers\n",
	    applied, ignored, refused, claims, removed, hellos, promoted,
	    handovers);
	assert_true(applied > 500 && ignored > 100 && refused > 50 &&
	            removed > 100 && hellos > 100 && promoted > 2 &&
	            claims > 50 && handovers > 20);
	free(am);
}

/* ---------------------------------------------------------------------- */
/* The totals cache: totals kept beside a write transaction, written once. */

/* TBL_TOTALS, key and value bytes, as one buffer. */
struct tdump {
	unsigned char *b;
	size_t n, cap;
	int entries;
};

static void
tdump_add(struct tdump *d, const void *p, size_t n)
{
	if (d->n + n + 4 > d->cap) {
		d->cap = 2 * (d->n + n + 4) + 4096;
		assert_non_null(d->b = realloc(d->b, d->cap));
	}
	for (int i = 0; i < 4; i++)
		d->b[d->n++] = (unsigned char)(n >> (8 * i));
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static int
tdump_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct tdump *d = arg;

	tdump_add(d, k, kl);
	tdump_add(d, v, vl);
	d->entries++;
	return 0;
}

static void
tdump_of(struct store_txn *t, struct tdump *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(
	    store_scan(t, TBL_TOTALS, NULL, 0, tdump_cb, d), STORE_OK);
}

static void
tdump_store(struct fx_store *s, struct tdump *d)
{
	struct store_txn *t = fx_rtxn(s);

	tdump_of(t, d);
	store_abort(&t);
}

static void
assert_tdump_equal(const struct tdump *a, const struct tdump *b, const char *w)
{
	if (a->n != b->n || memcmp(a->b, b->b, a->n) != 0)
		fail_msg("%s: TBL_TOTALS differ (%d entries, %zu bytes vs %d, "
		         "%zu)",
		    w, a->entries, a->n, b->entries, b->n);
}

/* A deterministic generator (the same sequence on every store). */
static unsigned
lcg(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 8) & 0xffffff;
}

/* One step of a sequence of applies, removals and HELLOs drawn from *st
 * (the paths of the random test, 3 years). */
static void
cache_step(struct store_txn *t, struct fx *f, unsigned *st)
{
	unsigned kind = lcg(st) % 100;

	if (kind < 65) {
		int op = (int)(lcg(st) % NOP), y = (int)(lcg(st) % NY);
		uint64_t ver = 1 + lcg(st) % 25;

		apply(t, f, vias[opaths[op].via], opaths[op].path, Y0 + y, ver,
		    lcg(st));
	} else if (kind < 93) {
		int v = (int)(lcg(st) % NVIA), o = (int)(lcg(st) % NORIG);

		remove_ok(t, f, vias[v], origins[o], Y0 + (int)(lcg(st) % NY));
	} else {
		int v = (int)(lcg(st) % NVIA);
		struct wire_key inv[NOP * NY];
		struct wire_msg w;
		size_t n = 0;

		for (size_t i = 0; i < NOP; i++)
			for (int y = 0; y < NY; y++)
				if (opaths[i].via == v && lcg(st) % 10 < 6)
					set_key(&inv[n++], opaths[i].origin,
					    Y0 + y, 1 + lcg(st) % 25);
		assert_int_equal(
		    aggregate_hello(t, &f->c, vias[v], inv, n, &w), STORE_OK);
		wire_msg_free(&w);
	}
	assert_int_equal(store_txn_err(t), STORE_OK);
}

/* Every node's totals of every year as t sees them. */
static void
all_totals(struct store_txn *t, struct fx *f, struct cdht_counters *out)
{
	for (int y = 0; y < NY; y++)
		for (size_t e = 0; e < NEVERY; e++)
			out[y * NEVERY + e] = totals(t, f, everyone[e], Y0 + y);
}

#define CACHE_STEPS 400

/*
 * The same sequence (a) in one transaction, (b) one transaction per step
 * without the cache (every totals value written as it changes) and (c) in one
 * transaction with a cache of 2 entries written out early, every 5th step in a
 * nested transaction committed into it and aborted nested runs between: the
 * same TBL_TOTALS, byte for byte, and (a) read its cached totals back before
 * the commit and scans them after store_pending_flush.
 */
static void
test_totals_cache_same_bytes(void **state)
{
	struct fx *f = *state;
	struct fx_store sb, sc;
	struct store_txn *t, *n;
	struct tdump da, da_in, db, db1, dc;
	struct cdht_counters before[NY * NEVERY], after[NY * NEVERY];
	unsigned st, stb;

	assert_int_equal(fx_store_open(&sb, "agg-cache-b"), 0);
	assert_int_equal(fx_store_open(&sc, "agg-cache-c"), 0);
	/* (b): every step committed, and no cache: every change written */
	aggregate_totals_cache_max(-1);
	st = 4242;
	for (int i = 0; i < CACHE_STEPS; i++) {
		t = fx_wtxn(&sb);
		cache_step(t, f, &st);
		fx_commit(&t);
	}
	aggregate_totals_cache_max(0);
	tdump_store(&sb, &db);
	assert_true(db.entries > 10);
	stb = st;
	/* (a): one transaction; reads go through the cache */
	st = 4242;
	t = fx_wtxn(&f->s);
	for (int i = 0; i < CACHE_STEPS; i++)
		cache_step(t, f, &st);
	{
		struct store_txn *r = fx_rtxn(&sb);

		all_totals(r, f, before);
		store_abort(&r);
		all_totals(t, f, after);
		for (size_t i = 0; i < NY * NEVERY; i++)
			fx_assert_counters(&after[i], &before[i],
			    "cached totals %s/%d", everyone[i % NEVERY],
			    Y0 + (int)(i / NEVERY));
	}
	assert_int_equal(store_pending_flush(t), STORE_OK);
	tdump_of(t, &da_in); /* a scan after the flush sees them */
	assert_tdump_equal(&da_in, &db, "scan in the transaction");
	cache_step(t, f, &st); /* and the cache starts again after it */
	fx_commit(&t);
	tdump_store(&f->s, &da);
	/* (b) one step further: the same bytes again */
	aggregate_totals_cache_max(-1);
	t = fx_wtxn(&sb);
	cache_step(t, f, &stb);
	fx_commit(&t);
	aggregate_totals_cache_max(0);
	tdump_store(&sb, &db1);
	assert_tdump_equal(&da, &db1, "a step after the flush");
	/* (c): tiny cache, nested transactions committed and aborted */
	aggregate_totals_cache_max(2);
	st = 4242;
	t = fx_wtxn(&sc);
	for (int i = 0; i < CACHE_STEPS; i++) {
		if (i % 5 == 4) {
			assert_non_null(n = store_begin_nested(t));
			cache_step(n, f, &st);
			assert_int_equal(store_commit(&n), STORE_OK);
		} else
			cache_step(t, f, &st);
		if (i % 7 == 6) {
			unsigned other = (unsigned)i;

			all_totals(t, f, before);
			assert_non_null(n = store_begin_nested(t));
			for (int j = 0; j < 5; j++)
				cache_step(n, f, &other);
			store_abort(&n);
			all_totals(t, f, after);
			for (size_t k = 0; k < NY * NEVERY; k++)
				fx_assert_counters(&after[k], &before[k],
				    "after an aborted nested run, %s/%d",
				    everyone[k % NEVERY],
				    Y0 + (int)(k / NEVERY));
		}
	}
	aggregate_totals_cache_max(0);
	fx_commit(&t);
	tdump_store(&sc, &dc);
	assert_tdump_equal(&dc, &db, "nested, small cache");
	free(da_in.b);
	free(da.b);
	free(db.b);
	free(db1.b);
	free(dc.b);
	fx_store_close(&sb);
	fx_store_close(&sc);
}

/* An aborted nested transaction leaves the parent's cached totals as they
 * were; a committed one adds its own; the child reads the parent's. */
static void
test_totals_cache_nested(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s), *n;
	unsigned char k[64];
	const void *v;
	size_t vl;

	apply_ok(t, f, "1401", "1401/140101", 2025, 1, 1);
	apply_ok(t, f, "1402", "1402/140201", 2025, 1, 2);
	assert_totals(t, f, "14", 2025, (unsigned[]){1, 2}, 2);
	/* the child reads what the parent keeps aside */
	assert_non_null(n = store_begin_nested(t));
	assert_totals(n, f, "14", 2025, (unsigned[]){1, 2}, 2);
	apply_ok(n, f, "1401", "1401/140101", 2025, 2, 3);
	apply_ok(n, f, "1401", "1401/140102", 2025, 1, 4);
	assert_totals(n, f, "14", 2025, (unsigned[]){3, 2, 4}, 3);
	assert_totals(n, f, "1401", 2025, (unsigned[]){3, 4}, 2);
	store_abort(&n);
	/* gone with the abort */
	assert_totals(t, f, "14", 2025, (unsigned[]){1, 2}, 2);
	assert_totals(t, f, "1401", 2025, (unsigned[]){1}, 1);
	assert_totals(t, f, "140101", 2025, (unsigned[]){1}, 1);
	assert_totals(t, f, "140102", 2025, NULL, 0);
	/* a committed child's totals stay */
	assert_non_null(n = store_begin_nested(t));
	apply_ok(n, f, "1402", "1402/140201", 2025, 2, 5);
	assert_int_equal(store_commit(&n), STORE_OK);
	assert_totals(t, f, "14", 2025, (unsigned[]){1, 5}, 2);
	apply_ok(t, f, "1401", "1401/140101", 2025, 3, 6);
	assert_totals(t, f, "14", 2025, (unsigned[]){6, 5}, 2);
	/* a child that empties a node: its totals go (no zero value) */
	assert_non_null(n = store_begin_nested(t));
	remove_ok(n, f, "1402", "140201", 2025);
	assert_totals(n, f, "1402", 2025, NULL, 0);
	assert_int_equal(store_commit(&n), STORE_OK);
	fx_commit(&t);
	t = fx_rtxn(&f->s);
	assert_totals(t, f, "14", 2025, (unsigned[]){6}, 1);
	assert_totals(t, f, "1401", 2025, (unsigned[]){6}, 1);
	assert_totals(t, f, "140101", 2025, (unsigned[]){6}, 1);
	assert_int_equal(
	    store_get(t, TBL_TOTALS, k, fx_ykey(k, "140102", 2025), &v, &vl),
	    STORE_NOTFOUND);
	assert_int_equal(
	    store_get(t, TBL_TOTALS, k, fx_ykey(k, "1402", 2025), &v, &vl),
	    STORE_NOTFOUND);
	assert_int_equal(
	    store_get(t, TBL_TOTALS, k, fx_ykey(k, "140201", 2025), &v, &vl),
	    STORE_NOTFOUND);
	assert_int_equal(fx_count_table(t, TBL_TOTALS), 3);
	store_abort(&t);
}

/*
 * The views' reads (aggregate_view_*) against the full ones, in a read
 * transaction: counters of every varint length (up to the counters'
 * bound), filers and times; the retired years of a subtree in one run,
 * other years and other units not counted; and every value cut short or
 * with a byte flipped in its lengths refused as aggregate_report_of
 * refuses it (STORE_CORRUPT), never read as a shorter value.
 */
static void
test_view_reads(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	const char *origins_v[] = {"1401", "140101", "140102", "1402"};
	const char *paths_v[] = {"1401", "1401/140101", "1401/140102", "1402"};
	struct wire_report r, full;
	struct agg_view_report v;
	struct cdht_counters want, got;
	unsigned char k[WIRE_MAX_ID + 3], *val;
	const void *pv;
	size_t kl, vl;

	for (int o = 0; o < 4; o++)
		for (int y = 2024; y <= 2026; y++) {
			mkrep(&r, paths_v[o], y, 100 + (uint64_t)(o * 10 + y),
			    (unsigned)(o * 7 + y));
			for (int i = 0; i < CDHT_NCOUNTERS; i++)
				r.counters.v[i] =
				    ((int64_t)1 << ((i * 3 + o + y) % 41)) - 1;
			r.counters.v[CDHT_C_retired] = 0;
			r.updated_at = (int64_t)1 << (30 + o + (y - 2024));
			snprintf(r.filed_by, sizeof(r.filed_by), "%s",
			    o == 2 ? "" : "Nguy\xe1\xbb\x85n V\xc4\x83n A");
			if (o == 1 && y == 2025)
				r.counters.v[CDHT_C_retired] = 2025;
			if (o == 2 && y == 2024)
				r.ncounters = CDHT_WIRE_MIN_COUNTERS;
			assert_int_equal(
			    aggregate_apply(t, &f->c, o == 3 ? "1402" : "1401",
			        &r, 1800000000),
			    AGG_APPLIED);
		}
	/* retired counted in the last programme year, and in the baseline
	 * year (2020: before the programme, not asked) */
	mkrep(&r, "1401/140102", 2030, 500, 3);
	r.counters.v[CDHT_C_retired] = 2030;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1401", &r, 1800000000), AGG_APPLIED);
	mkrep(&r, "1402", 2020, 501, 4);
	r.counters.v[CDHT_C_retired] = 2020;
	assert_int_equal(
	    aggregate_apply(t, &f->c, "1402", &r, 1800000000), AGG_APPLIED);
	/* in a write transaction the cache answers and no run is made */
	assert_int_equal(aggregate_view_retired(t, "1401"), -1);
	fx_commit(&t);

	t = fx_rtxn(&f->s);
	for (int o = 0; o < 4; o++)
		for (int y = 2023; y <= 2027; y++) {
			int rc = aggregate_report_of(t, origins_v[o], y, &full);

			assert_int_equal(
			    aggregate_view_report(t, origins_v[o], y, &v), rc);
			if (rc == STORE_OK)
				expect_view_report(t, &full);
			assert_int_equal(
			    aggregate_totals(t, &f->c, origins_v[o], y, &want),
			    STORE_OK);
			memset(&got, 0x5a, sizeof(got));
			assert_int_equal(
			    aggregate_view_totals(t, origins_v[o], y, &got),
			    STORE_OK);
			fx_assert_counters(
			    &got, &want, "view totals %s/%d", origins_v[o], y);
		}
	/* 140101 retired in 2025, 140102 in 2030: they and 1401 above
	 * them; 1402's 2020 is not asked */
	assert_int_equal(aggregate_view_retired(t, "1401"), 1);
	assert_int_equal(aggregate_view_retired(t, "140101"), 1);
	assert_int_equal(aggregate_view_retired(t, "140102"), 1);
	assert_int_equal(aggregate_view_retired(t, "1402"), 0);
	assert_int_equal(aggregate_view_retired(t, "14010"), 0); /* a prefix */
	assert_int_equal(aggregate_view_retired(t, "nobody"), 0);
	/* the stored winner of 1401/2025, to be cut and spoilt below */
	kl = fx_ykey(k, "1401", 2025);
	assert_int_equal(store_get(t, TBL_WIN, k, kl, &pv, &vl), STORE_OK);
	val = malloc(vl);
	assert_non_null(val);
	memcpy(val, pv, vl);
	store_abort(&t);

	/* cut short, a byte too many, a varint's continuation bit flipped */
	for (size_t i = 0; i <= 2 * vl + 1; i++) {
		unsigned char *bad = malloc(vl + 1);
		size_t bl = i < vl ? i : vl + 1;
		int rc_full, rc_view;

		assert_non_null(bad);
		memcpy(bad, val, vl);
		bad[vl] = 0;
		if (i > vl) {
			bl = vl;
			bad[i - vl - 1] ^= 0x80;
		}
		t = fx_wtxn(&f->s);
		assert_int_equal(
		    store_put(t, TBL_WIN, k, kl, bad, bl), STORE_OK);
		fx_commit(&t);
		t = fx_rtxn(&f->s);
		rc_full = aggregate_report_of(t, "1401", 2025, &full);
		store_abort(&t);
		t = fx_rtxn(&f->s);
		rc_view = aggregate_view_report(t, "1401", 2025, &v);
		if (i <= vl)
			assert_int_equal(rc_full, STORE_CORRUPT);
		assert_int_equal(rc_view, rc_full);
		if (rc_full == STORE_OK)
			expect_view_report(t, &full);
		store_abort(&t);
		free(bad);
	}
	/* strings at their bound and one byte past it (a value written by
	 * hand: no report carries them) */
	{
		static const struct {
			int field, len, ok;
		} cases[] = {{0, 16, 1}, {0, 17, 0}, {1, 15, 1}, {1, 16, 0},
		    {2, 128, 1}, {2, 129, 0}, {3, 16, 1}, {3, 17, 0},
		    {4, 63, 1}, {4, 64, 0}, {5, 16, 1}, {5, 17, 0}};
		unsigned char buf[1024];
		char str[6][200];

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct vw w;
			struct cdht_counters cn;
			int rc_full, rc_view;

			for (int i = 0; i < 6; i++)
				snprintf(str[i], sizeof(str[i]), "%s",
				    i == 1   ? "commune"
				    : i == 4 ? ""
				             : "1401");
			memset(str[cases[c].field], 'x', (size_t)cases[c].len);
			str[cases[c].field][cases[c].len] = '\0';
			seed_counters(&cn, 9);
			vw_init(&w, buf, sizeof(buf));
			vw_u8(&w, 3);
			vw_uint(&w, 7000);
			vw_int(&w, 1700000000);
			vw_int(&w, 1700000001);
			vw_str(&w, str[0]); /* via */
			vw_str(&w, str[1]); /* level */
			vw_str(&w, str[2]); /* name */
			vw_uint(&w, 1);
			vw_str(&w, str[3]); /* path[0] */
			vw_counters(&w, &cn, CDHT_NCOUNTERS);
			vw_str(&w, str[4]); /* filed_by */
			vw_str(&w, str[5]); /* successor */
			assert_int_equal(w.err, 0);
			t = fx_wtxn(&f->s);
			assert_int_equal(
			    store_put(t, TBL_WIN, k, kl, buf, w.len), STORE_OK);
			fx_commit(&t);
			t = fx_rtxn(&f->s);
			rc_full = aggregate_report_of(t, "1401", 2025, &full);
			store_abort(&t);
			t = fx_rtxn(&f->s);
			rc_view = aggregate_view_report(t, "1401", 2025, &v);
			if (rc_view !=
			        (cases[c].ok ? STORE_OK : STORE_CORRUPT) ||
			    rc_full != rc_view)
				fail_msg(
				    "field %d of %d bytes: view %d, full %d",
				    cases[c].field, cases[c].len, rc_view,
				    rc_full);
			if (rc_full == STORE_OK)
				expect_view_report(t, &full);
			store_abort(&t);
		}
	}
	/* and totals cut short */
	t = fx_rtxn(&f->s);
	kl = fx_ykey(k, "1401", 2026);
	assert_int_equal(store_get(t, TBL_TOTALS, k, kl, &pv, &vl), STORE_OK);
	free(val);
	val = malloc(vl);
	assert_non_null(val);
	memcpy(val, pv, vl);
	store_abort(&t);
	for (size_t cut = 0; cut < vl; cut++) {
		t = fx_wtxn(&f->s);
		assert_int_equal(
		    store_put(t, TBL_TOTALS, k, kl, val, cut), STORE_OK);
		fx_commit(&t);
		t = fx_rtxn(&f->s);
		assert_int_equal(aggregate_view_totals(t, "1401", 2026, &got),
		    STORE_CORRUPT);
		store_abort(&t);
	}
	free(val);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_apply_totals_along_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_same_origin_two_children, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_drop_unconfigured, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_successor_travels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counts_from, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_cycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_collect_lower_than_acked, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_collect_encodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_welcome, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_welcome_own_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inventory, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_far_future_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_origins_per_child_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_root_keeps_no_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_review_findings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_filed_by_travels, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_local_filing_goes_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_random_against_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_totals_cache_same_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_totals_cache_nested, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_view_reads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
