/*
 * test_negotiation.c: what a child sends a parent of each wire revision
 * (PROTOCOL.md 8.9), on a real LMDB store: daemon/outbox.c (the recorded
 * revision, HELLO inventories, batches, the WELCOME rules) and the parent's
 * side of daemon/aggregate.c for year 2020 and level "agency".
 *
 *   - agency "1405" (own reports): a report of year 2020 (as the history
 *     import writes one: imported results) stays queued, and out of the
 *     inventory, for a parent of revision 1 (first contact, an old parent,
 *     a parent downgraded); level "agency" goes as "commune"; a WELCOME of
 *     revision 2 lets both through, and new versions replace the commune
 *     copies (an agency whose parent was upgraded);
 *   - relay "116" (district) with child agency "11605": the parent side
 *     takes 2020 and agency; the forwarded copies obey the same rules; the
 *     WELCOME own list carries 2020 only to a child that listed it.
 *
 * Expected values are written out here, not taken from the code under test.
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
#include "records.h"
#include "rules.h"
#include "store.h"
#include "wire.h"

#include "fixture.h"

#define NOW 1800000000

struct fx {
	struct fx_store s;
	struct conf c;
	struct conf_child kid;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || fx_store_open(&f->s, "negotiation") != 0) {
		free(f);
		return -1;
	}
	rules_targets_default(&f->c.targets);
	strcpy(f->c.parent, "tcp://127.0.0.1:9470");
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

static void
as_agency(struct fx *f)
{
	strcpy(f->c.id, "1405");
	f->c.level = LEVEL_AGENCY;
	strcpy(f->c.name, "S\xe1\xbb\x9f Gi\xc3\xa1o d\xe1\xbb\xa5\x63");
}

static void
as_district(struct fx *f)
{
	strcpy(f->c.id, "116");
	f->c.level = LEVEL_DISTRICT;
	strcpy(f->c.name, "Huy\xe1\xbb\x87n A");
	strcpy(f->kid.id, "11605");
	memset(f->kid.public_key, 'a', 40);
	strcpy(f->kid.name, "Ph\xc3\xb2ng GD");
	f->c.children = &f->kid;
	f->c.nchildren = 1;
}

/* A local report of year with staff counters (what the history import of
 * an agency writes: imported = 1). */
static uint64_t
local_year(struct store_txn *t, struct fx *f, int year, int64_t staff)
{
	struct records_actor act = {f->c.id, "test", NOW, RECOGNITION_SCORE};
	struct local_report lr;

	assert_int_equal(records_local(t, year, &lr), STORE_OK);
	lr.c.v[fx_cidx("staff")] = staff;
	lr.c.v[fx_cidx("staff_recognized")] = staff / 2;
	lr.c.v[fx_cidx("imported")] = year == 2020;
	assert_int_equal(records_local_put(t, &act, year, &lr), STORE_OK);
	return fx_local(t, year).version;
}

static void
welcome(struct store_txn *t, struct fx *f, const char *parent, uint32_t rev)
{
	struct wire_msg w;

	memset(&w, 0, sizeof(w));
	w.type = WIRE_WELCOME;
	snprintf(w.id, sizeof(w.id), "%s", parent);
	w.revision = rev;
	assert_int_equal(outbox_welcome(t, &f->c, &w, NOW + 100), STORE_OK);
}

static const struct wire_report *
find(const struct wire_msg *m, const char *origin, int year)
{
	for (size_t i = 0; i < m->nreports; i++)
		if (strcmp(m->reports[i].origin, origin) == 0 &&
		    m->reports[i].year == year)
			return &m->reports[i];
	return NULL;
}

static int
inv_has(const struct wire_key *k, size_t n, const char *origin, int year)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].origin, origin) == 0 && k[i].year == year)
			return 1;
	return 0;
}

/* The inventory for the recorded revision (and for rev) has (origin,
 * 2020) or not; it always has (origin, 2025). */
static void
assert_inventory(
    struct store_txn *t, struct fx *f, const char *origin, int with2020)
{
	struct wire_key *inv;
	size_t n;

	assert_int_equal(outbox_inventory(t, &f->c, &inv, &n), STORE_OK);
	assert_int_equal(inv_has(inv, n, origin, 2020), with2020);
	assert_true(inv_has(inv, n, origin, 2025));
	free(inv);
	assert_int_equal(outbox_inventory_rev(t, &f->c, 1, &inv, &n), STORE_OK);
	assert_false(inv_has(inv, n, origin, 2020));
	assert_true(inv_has(inv, n, origin, 2025));
	free(inv);
	assert_int_equal(outbox_inventory_rev(t, &f->c, 2, &inv, &n), STORE_OK);
	assert_true(inv_has(inv, n, origin, 2020));
	free(inv);
}

/* Collect a batch, check it encodes, ACK it; returns it (free it). */
static void
collect(struct store_txn *t, struct fx *f, struct wire_msg *m, int ack)
{
	char *buf;
	size_t len;

	assert_int_equal(outbox_collect(t, &f->c, 100, m), STORE_OK);
	if (m->nreports + m->nkeys > 0) {
		assert_int_equal(wire_encode(m, &buf, &len), WIRE_OK);
		free(buf);
	}
	if (ack)
		assert_int_equal(outbox_acked(t, &f->c, m), STORE_OK);
}

static void
test_agency_own_reports(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_msg m;
	const struct wire_report *r;
	uint64_t v2020, v2025, before[11];

	as_agency(f);
	assert_int_equal(records_ensure_years(t, f->c.id, NOW), STORE_OK);
	/* records never make a 2020 report of their own */
	assert_int_equal(fx_local(t, 2020).version, 0);
	v2020 = local_year(t, f, 2020, 40);
	v2025 = local_year(t, f, 2025, 60);
	assert_true(fx_outbox_has(t, "1405", 2020));
	fx_commit(&t);

	/* first contact: nothing recorded, revision 1 */
	t = fx_wtxn(&f->s);
	assert_int_equal(outbox_parent_revision(t), 1);
	assert_inventory(t, f, "1405", 0);
	collect(t, f, &m, 1);
	assert_int_equal(m.nkeys, 0);
	assert_int_equal(m.nreports, 10); /* 2021..2030; 2020 held */
	assert_null(find(&m, "1405", 2020));
	r = find(&m, "1405", 2025);
	assert_non_null(r);
	assert_string_equal(r->level, "commune");
	assert_true(r->version == v2025);
	assert_true(r->counters.v[fx_cidx("staff")] == 60);
	wire_msg_free(&m);
	assert_true(fx_outbox_has(t, "1405", 2020));
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 1);

	/* an old parent (no field 6 decodes as 1): still held, nothing to
	 * send however often the outbox is read */
	welcome(t, f, "14", 1);
	assert_int_equal(outbox_parent_revision(t), 1);
	for (int i = 0; i < 3; i++) {
		collect(t, f, &m, 1);
		assert_int_equal(m.nreports + m.nkeys, 0);
		wire_msg_free(&m);
	}
	assert_true(fx_outbox_has(t, "1405", 2020));
	assert_true(fx_local(t, 2020).version == v2020);
	for (int y = 2020; y <= 2030; y++)
		before[y - 2020] = fx_local(t, y).version;

	/* the parent is upgraded: revision 2 is recorded, every year gets a
	 * new version (its copies say "commune"), 2020 included */
	welcome(t, f, "14", 2);
	assert_int_equal(outbox_parent_revision(t), 2);
	for (int y = 2020; y <= 2030; y++) {
		assert_true(fx_local(t, y).version > before[y - 2020]);
		assert_true(fx_outbox_has(t, "1405", y));
	}
	assert_inventory(t, f, "1405", 1);
	collect(t, f, &m, 1);
	assert_int_equal(m.nreports, 11);
	r = find(&m, "1405", 2020);
	assert_non_null(r);
	assert_string_equal(r->level, "agency");
	assert_true(r->counters.v[fx_cidx("imported")] == 1);
	assert_true(r->counters.v[fx_cidx("staff")] == 40);
	assert_true(r->counters.v[fx_cidx("staff_recognized")] == 20);
	assert_string_equal(find(&m, "1405", 2025)->level, "agency");
	wire_msg_free(&m);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	fx_commit(&t);

	/* the recorded revision survives a restart */
	fx_store_reopen(&f->s);
	t = fx_wtxn(&f->s);
	assert_int_equal(outbox_parent_revision(t), 2);
	/* a second WELCOME of revision 2 changes nothing */
	for (int y = 2020; y <= 2030; y++)
		before[y - 2020] = fx_local(t, y).version;
	welcome(t, f, "14", 2);
	for (int y = 2020; y <= 2030; y++)
		assert_true(fx_local(t, y).version == before[y - 2020]);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);

	/* the parent goes back to an older release: revision 1 again, so a
	 * new 2020 version is held (a batch it would drop as malformed would
	 * block the link) */
	welcome(t, f, "14", 1);
	assert_int_equal(outbox_parent_revision(t), 1);
	v2020 = local_year(t, f, 2020, 44);
	collect(t, f, &m, 1);
	assert_int_equal(m.nreports, 0);
	wire_msg_free(&m);
	assert_true(fx_outbox_has(t, "1405", 2020));

	/* another parent of revision 2: new versions (the move), and 2020
	 * goes at once */
	welcome(t, f, "15", 2);
	assert_int_equal(outbox_parent_revision(t), 2);
	assert_true(fx_local(t, 2020).version > v2020);
	collect(t, f, &m, 1);
	assert_int_equal(m.nreports, 11);
	assert_true(find(&m, "1405", 2020)->counters.v[fx_cidx("staff")] == 44);
	wire_msg_free(&m);

	/* and moving to a parent of revision 1 holds 2020 again, whatever
	 * was recorded for the last one */
	welcome(t, f, "16", 1);
	assert_int_equal(outbox_parent_revision(t), 1);
	collect(t, f, &m, 1);
	assert_int_equal(m.nreports, 10);
	assert_null(find(&m, "1405", 2020));
	assert_string_equal(find(&m, "1405", 2021)->level, "commune");
	wire_msg_free(&m);
	assert_true(fx_outbox_has(t, "1405", 2020));
	store_abort(&t);
}

/* First contact with a parent of revision 2: recorded, no new versions. */
static void
test_first_contact_new_parent(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_msg m;
	uint64_t before[11];

	as_agency(f);
	assert_int_equal(records_ensure_years(t, f->c.id, NOW), STORE_OK);
	local_year(t, f, 2020, 8);
	for (int y = 2020; y <= 2030; y++)
		before[y - 2020] = fx_local(t, y).version;
	welcome(t, f, "14", 2);
	for (int y = 2020; y <= 2030; y++)
		assert_true(fx_local(t, y).version == before[y - 2020]);
	collect(t, f, &m, 1);
	assert_int_equal(m.nreports, 11);
	assert_string_equal(find(&m, "1405", 2020)->level, "agency");
	wire_msg_free(&m);
	/* a commune is never sent as anything else, nor bumped */
	f->c.level = LEVEL_COMMUNE;
	welcome(t, f, "14", 1);
	welcome(t, f, "14", 2);
	assert_int_equal(fx_count_table(t, TBL_OUTBOX), 0);
	store_abort(&t);
}

/* A relay: the parent side takes 2020 and agency; forwarding obeys the
 * revision of its own parent. */
static void
test_relay(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = fx_wtxn(&f->s);
	struct wire_report rep;
	struct wire_msg m, w;
	struct wire_key inv[3];
	struct cdht_counters tot;
	const struct wire_report *r;

	as_district(f);
	for (int y = 2020; y <= 2025; y += 5) {
		memset(&rep, 0, sizeof(rep));
		strcpy(rep.origin, "11605");
		strcpy(rep.level, "agency");
		strcpy(rep.name, "Ph\xc3\xb2ng GD");
		rep.year = (uint16_t)y;
		rep.version = (uint64_t)y;
		rep.updated_at = NOW;
		rep.path_len = 1;
		strcpy(rep.path[0], "11605");
		rep.counters.v[fx_cidx("staff")] = y - 2000;
		assert_int_equal(
		    aggregate_apply(t, &f->c, "11605", &rep, NOW), AGG_APPLIED);
	}
	/* counted at the relay, for 2020 too */
	assert_int_equal(
	    aggregate_totals(t, &f->c, "116", 2020, &tot), STORE_OK);
	assert_true(tot.v[fx_cidx("staff")] == 20);
	assert_int_equal(
	    aggregate_totals(t, &f->c, "11605", 2025, &tot), STORE_OK);
	assert_true(tot.v[fx_cidx("staff")] == 25);
	fx_commit(&t);

	/* to a parent of revision 1: 2025 as a commune, 2020 held */
	t = fx_wtxn(&f->s);
	assert_inventory(t, f, "11605", 0);
	assert_true(fx_outbox_has(t, "11605", 2020));
	collect(t, f, &m, 1);
	assert_null(find(&m, "11605", 2020));
	r = find(&m, "11605", 2025);
	assert_non_null(r);
	assert_string_equal(r->level, "commune");
	assert_int_equal(r->path_len, 2);
	assert_string_equal(r->path[0], "116");
	wire_msg_free(&m);
	assert_true(fx_outbox_has(t, "11605", 2020));
	assert_false(fx_outbox_has(t, "11605", 2025));

	/* revision 2: 2020 goes up, as an agency's */
	welcome(t, f, "14", 2);
	assert_inventory(t, f, "11605", 1);
	collect(t, f, &m, 1);
	r = find(&m, "11605", 2020);
	assert_non_null(r);
	assert_string_equal(r->level, "agency");
	assert_true(r->counters.v[fx_cidx("staff")] == 20);
	wire_msg_free(&m);
	assert_false(fx_outbox_has(t, "11605", 2020));

	/* HELLO of the child: own holds 2020 only when it listed 2020 */
	memset(inv, 0, sizeof(inv));
	strcpy(inv[0].origin, "11605");
	inv[0].year = 2020;
	inv[0].version = 2020;
	strcpy(inv[1].origin, "11605");
	inv[1].year = 2025;
	inv[1].version = 2025;
	assert_int_equal(
	    aggregate_hello(t, &f->c, "11605", inv, 2, &w), STORE_OK);
	assert_int_equal(w.nkeys, 0);
	assert_int_equal(w.nown, 2);
	assert_true(inv_has(w.own, w.nown, "11605", 2020));
	wire_msg_free(&w);
	assert_int_equal(
	    aggregate_hello(t, &f->c, "11605", inv + 1, 1, &w), STORE_OK);
	assert_int_equal(w.nown, 1); /* an older child would drop 2020 */
	assert_false(inv_has(w.own, w.nown, "11605", 2020));
	wire_msg_free(&w);
	/* ... and the copy it no longer lists is gone (8.2 step 3) */
	assert_int_equal(
	    aggregate_totals(t, &f->c, "116", 2020, &tot), STORE_OK);
	assert_true(tot.v[fx_cidx("staff")] == 0);
	store_abort(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_agency_own_reports, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_first_contact_new_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
