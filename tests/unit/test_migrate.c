/*
 * test_migrate.c: the data directory's schema: a schema-1 directory (the
 * raw structs of release 0.1.0, written here byte for byte from the frozen
 * layouts below, independently of the daemon's own copies) migrates to the
 * current schema in one transaction with every value intact; a failed
 * migration changes nothing; a newer schema is refused; an undecodable
 * value is an error that stops the write, never "absent".  Also the value
 * codec's bounds.
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
#include "migrate.h"
#include "outbox.h"
#include "records.h"
#include "store.h"
#include "value.h"
#include "wire.h"

#include "fixture.h"

#define SELF "14"

/* Release 0.1.0's stored layouts (x86-64, gcc), as the test's reference. */
struct ref_assessment {
	uint8_t format, group, population, digital, scores[10];
	uint8_t recognized, outstanding;
	uint16_t total;
	int16_t birth_year;
	int64_t updated_at;
};
struct ref_local {
	uint64_t version;
	int64_t updated_at;
	int64_t v[32];
};
struct ref_rec {
	uint64_t version;
	int64_t updated_at, received_at;
	char via[17], level[16], name[129];
	uint8_t path_len;
	char path[8][17];
	int64_t c[32];
};
struct ref_node {
	char id[17], level[16], name[129], parent[17];
	int depth;
	uint64_t version;
	int64_t last_report;
	int32_t nyears;
};

static void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->id, SELF);
	c->level = LEVEL_PROVINCE;
	strcpy(c->name, "Son La");
	rules_targets_default(&c->targets);
}

/* A write transaction that bypasses the schema check (migration's). */
static struct store_txn *
raw_txn(struct fx_store *s)
{
	uint32_t from;
	struct store_txn *t = store_begin_migration(s->st, &from);

	assert_non_null(t);
	return t;
}

/* Mark the (fresh, schema 2) directory as schema `schema` and reopen. */
static void
set_schema(struct fx_store *s, uint32_t schema)
{
	struct store_txn *t = fx_wtxn(s);
	unsigned char b[4] = {(unsigned char)schema,
	    (unsigned char)(schema >> 8), (unsigned char)(schema >> 16),
	    (unsigned char)(schema >> 24)};

	assert_int_equal(store_put(t, TBL_META, "schema", 6, b, 4), STORE_OK);
	fx_commit(&t);
}

static size_t
okey(unsigned char *k, const char *origin, int year)
{
	size_t n = strlen(origin);

	memcpy(k, origin, n + 1);
	k[n + 1] = (unsigned char)(year >> 8);
	k[n + 2] = (unsigned char)year;
	return n + 3;
}

/* Write a complete schema-1 directory: one assessment, the local reports,
 * an audit record, a mirrored + winning copy of child 1401's 2025 report
 * with its totals and node entry, an acked version, a queued key. */
static void
write_v1(struct fx_store *s, int bad_local)
{
	struct store_txn *t;
	unsigned char k[64], buf[512];
	struct ref_assessment a = {.format = 1,
	    .group = 2,
	    .population = 1,
	    .digital = 2,
	    .recognized = 1,
	    .outstanding = 0,
	    .total = 91,
	    .birth_year = 1980,
	    .updated_at = 1700000000};
	struct ref_local lr;
	struct ref_rec r;
	struct ref_node nd;
	uint64_t seq = 1750000000000000ull, acked = 77;
	const char *name = "Nguy\xe1\xbb\x85n V\xc4\x83n A";
	const char *audit = "1700000000\tclerk-x\tsubmit\t2025/P1 total=91";
	size_t kl;

	set_schema(s, 1);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 1);
	assert_null(store_begin(s->st, 1));
	t = raw_txn(s);
	store_put(t, TBL_META, "seq", 3, &seq, 8);
	for (int i = 0; i < 10; i++)
		a.scores[i] = (uint8_t)(9 + (i & 1));
	memcpy(buf, &a, sizeof(a));
	memcpy(buf + sizeof(a), name, strlen(name));
	k[0] = 2025 >> 8;
	k[1] = 2025 & 0xff;
	memcpy(k + 2, "P1", 2);
	store_put(t, TBL_ASSESS, k, 4, buf, sizeof(a) + strlen(name));
	for (int y = 2021; y <= 2030; y++) {
		memset(&lr, 0, sizeof(lr));
		lr.version = seq - 100 + (uint64_t)y;
		lr.updated_at = 1700000000 + y;
		for (int i = 0; i < 32; i++)
			lr.v[i] = y == 2025 ? i + 1 : 0;
		k[0] = (unsigned char)(y >> 8);
		k[1] = (unsigned char)y;
		if (bad_local && y == 2027) { /* longer than schema 1's */
			unsigned char big[300] = {0};

			memcpy(big, &lr, sizeof(lr));
			store_put(t, TBL_LOCAL, k, 2, big, sizeof(big));
		} else
			store_put(t, TBL_LOCAL, k, 2, &lr, sizeof(lr));
	}
	store_be64(k, seq);
	store_put(t, TBL_AUDIT, k, 8, audit, strlen(audit));
	memset(&r, 0, sizeof(r));
	r.version = 42;
	r.updated_at = 1700000500;
	r.received_at = 1700000501;
	strcpy(r.via, "1401");
	strcpy(r.level, "district");
	strcpy(r.name, "Huy\xe1\xbb\x87n A");
	r.path_len = 1;
	strcpy(r.path[0], "1401");
	for (int i = 0; i < 32; i++)
		r.c[i] = 100 + i;
	kl = okey(k, "1401", 2025);
	memcpy(k + kl, "1401", 5);
	store_put(t, TBL_MIRROR, k, kl + 5, &r, sizeof(r));
	store_put(t, TBL_WIN, k, kl, &r, sizeof(r));
	store_put(t, TBL_TOTALS, k, kl, r.c, sizeof(r.c));
	kl = okey(k, SELF, 2025);
	store_put(t, TBL_TOTALS, k, kl, r.c, sizeof(r.c));
	memset(&nd, 0, sizeof(nd));
	strcpy(nd.id, "1401");
	strcpy(nd.level, "district");
	strcpy(nd.name, r.name);
	strcpy(nd.parent, SELF);
	nd.depth = 1;
	nd.version = 42;
	nd.last_report = 1700000500;
	nd.nyears = 1;
	store_put(t, TBL_NODES, "1401", 4, &nd, sizeof(nd));
	kl = okey(k, "1401", 2025);
	store_put(t, TBL_ACKED, k, kl, &acked, 8);
	store_put(t, TBL_OUTBOX, k, kl, "", 0);
	assert_int_equal(store_commit(&t), STORE_OK);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 1);
}

static int
audit_cb(void *arg, const struct audit_entry *e)
{
	*(struct audit_entry *)arg = *e;
	return 1;
}

static void
test_fresh_is_current(void **state)
{
	struct fx_store *s = *state;
	struct conf c;

	conf_init(&c);
	assert_int_equal(store_schema(s->st), STORE_SCHEMA_VERSION);
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);
	assert_int_equal(store_schema(s->st), STORE_SCHEMA_VERSION);
}

static void
test_v1_migrates(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	struct assessment a;
	struct local_report lr;
	struct wire_report w;
	struct cdht_counters tot;
	struct agg_node *nodes;
	struct audit_entry e;
	size_t n;

	conf_init(&c);
	write_v1(s, 0);
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);
	assert_int_equal(store_schema(s->st), STORE_SCHEMA_VERSION);
	fx_store_reopen(s); /* what was committed, as the next start sees it */
	assert_int_equal(store_schema(s->st), STORE_SCHEMA_VERSION);

	t = fx_wtxn(s);
	assert_int_equal(records_get(t, 2025, "P1", 2, &a), STORE_OK);
	assert_string_equal(a.name, "Nguy\xe1\xbb\x85n V\xc4\x83n A");
	assert_int_equal(a.group, 2);
	assert_int_equal(a.population, 1);
	assert_int_equal(a.digital, 2);
	assert_int_equal(a.total, 91);
	assert_int_equal(a.birth_year, 1980);
	assert_int_equal(a.updated_at, 1700000000);
	assert_true(a.recognized);
	assert_false(a.outstanding);
	for (int i = 0; i < 10; i++)
		assert_int_equal(a.scores[i], 9 + (i & 1));

	for (int y = 2021; y <= 2030; y++) {
		assert_int_equal(records_local(t, y, &lr), STORE_OK);
		assert_int_equal(lr.version, 1750000000000000ull - 100 + y);
		assert_int_equal(lr.updated_at, 1700000000 + y);
		for (int i = 0; i < 32; i++)
			assert_int_equal(lr.c.v[i], y == 2025 ? i + 1 : 0);
		/* counters added since: computed from what they count */
		assert_int_equal(
		    lr.c.v[fx_cidx("eligible")], lr.c.v[fx_cidx("recognized")]);
		/* queued, so an upgraded parent gets the fuller report */
		assert_true(fx_outbox_has(t, SELF, y));
	}

	assert_int_equal(aggregate_report_of(t, "1401", 2025, &w), STORE_OK);
	assert_int_equal(w.version, 42);
	assert_int_equal(w.updated_at, 1700000500);
	assert_string_equal(w.level, "district");
	assert_string_equal(w.name, "Huy\xe1\xbb\x87n A");
	assert_int_equal(w.path_len, 1);
	assert_string_equal(w.path[0], "1401");
	assert_int_equal(w.ncounters, 32); /* what release 0.1.0 sent */
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		assert_int_equal(w.counters.v[i], i < 32 ? 100 + i : 0);

	assert_int_equal(aggregate_totals(t, &c, "1401", 2025, &tot), STORE_OK);
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		assert_int_equal(tot.v[i], i < 32 ? 100 + i : 0);
	/* this node: the children's totals plus its own local report */
	assert_int_equal(aggregate_totals(t, &c, SELF, 2025, &tot), STORE_OK);
	for (int i = 0; i < 32; i++)
		assert_int_equal(tot.v[i], 100 + i + i + 1);

	assert_int_equal(aggregate_nodes(t, &nodes, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].id, "1401");
	assert_string_equal(nodes[0].parent, SELF);
	assert_string_equal(nodes[0].name, "Huy\xe1\xbb\x87n A");
	assert_int_equal(nodes[0].depth, 1);
	assert_int_equal(nodes[0].version, 42);
	assert_int_equal(nodes[0].last_report, 1700000500);
	assert_int_equal(nodes[0].ncounters, 32);
	free(nodes);

	/* schema 1 had no pins: each origin is held via its winner's child */
	{
		const void *v;
		size_t vl;

		assert_int_equal(
		    store_get(t, TBL_PIN, "1401", 4, &v, &vl), STORE_OK);
		assert_int_equal(vl, 6);
		assert_memory_equal(v,
		    "\x02\x04"
		    "1401",
		    6);
	}
	assert_int_equal(fx_count_table(t, TBL_BYVIA), 1);
	assert_int_equal(outbox_acked_version(t, "1401", 2025), 77);
	assert_true(fx_outbox_has(t, "1401", 2025));
	memset(&e, 0, sizeof(e));
	assert_int_equal(records_audit_tail(t, 1, audit_cb, &e), STORE_OK);
	assert_int_equal(e.id, 1750000000000000ull);
	assert_int_equal(e.time, 1700000000);
	assert_string_equal(e.who, "clerk-x");
	assert_string_equal(e.action, "submit");
	assert_string_equal(e.detail, "2025/P1 total=91");
	/* the sequence survived: new versions are above the old ones */
	assert_true(store_next_seq(t) > 1750000000000000ull);
	fx_commit(&t);
}

/* After the migration the copy from 1401 has 32 counters: the same
 * version with every counter (an upgraded child) replaces it and moves the
 * totals; HELLO asks for it at an equal version. */
static void
test_equal_version_more_counters(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	struct conf_child kid = {.id = "1401"};
	struct wire_report r;
	struct wire_key inv = {.origin = "1401", .year = 2025, .version = 42};
	struct wire_msg w;
	struct cdht_counters tot;

	conf_init(&c);
	c.children = &kid;
	c.nchildren = 1;
	write_v1(s, 0);
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);

	t = fx_wtxn(s);
	assert_int_equal(aggregate_hello(t, &c, "1401", &inv, 1, &w), STORE_OK);
	assert_int_equal(w.nkeys, 1);
	assert_string_equal(w.keys[0].origin, "1401");
	wire_msg_free(&w);

	assert_int_equal(aggregate_report_of(t, "1401", 2025, &r), STORE_OK);
	r.ncounters = 32; /* a resend by an old child: ignored */
	assert_int_equal(aggregate_apply(t, &c, "1401", &r, 1), AGG_IGNORED);
	r.ncounters = CDHT_NCOUNTERS;
	r.counters.v[fx_cidx("eligible")] = 5;
	assert_int_equal(aggregate_apply(t, &c, "1401", &r, 1), AGG_APPLIED);
	assert_int_equal(aggregate_apply(t, &c, "1401", &r, 1), AGG_IGNORED);
	assert_int_equal(aggregate_totals(t, &c, "1401", 2025, &tot), STORE_OK);
	assert_int_equal(tot.v[fx_cidx("eligible")], 5);
	assert_int_equal(tot.v[fx_cidx("assessed")], 100);
	assert_int_equal(aggregate_totals(t, &c, SELF, 2025, &tot), STORE_OK);
	assert_int_equal(
	    tot.v[fx_cidx("eligible")], 5 + 2 /* own: recognized, counter 1 */);
	assert_true(fx_outbox_has(t, "1401", 2025));
	/* now complete: HELLO no longer asks for it */
	assert_int_equal(aggregate_hello(t, &c, "1401", &inv, 1, &w), STORE_OK);
	assert_int_equal(w.nkeys, 0);
	wire_msg_free(&w);
	fx_commit(&t);
}

/* One undecodable value: the migration fails, nothing changes, the
 * directory stays at schema 1 (and stays unwritable). */
static void
test_v1_corrupt_changes_nothing(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	const void *v;
	size_t vl;
	unsigned char k[2] = {2021 >> 8, 2021 & 0xff};

	conf_init(&c);
	write_v1(s, 1);
	assert_int_equal(migrate_run(s->st, &c), STORE_CORRUPT);
	assert_int_equal(store_schema(s->st), 1);
	assert_null(store_begin(s->st, 1));
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 1);
	t = raw_txn(s);
	assert_int_equal(store_get(t, TBL_LOCAL, k, 2, &v, &vl), STORE_OK);
	assert_int_equal(vl, sizeof(struct ref_local)); /* still schema 1 */
	store_abort(&t);
	assert_int_equal(migrate_run(s->st, &c), STORE_CORRUPT);
}

static void
test_newer_schema_refused(void **state)
{
	struct fx_store *s = *state;
	struct store *st = NULL;

	set_schema(s, STORE_SCHEMA_VERSION + 1);
	store_close(&s->st);
	assert_int_equal(store_open(s->dir, FX_MAP_MB, &st), STORE_SCHEMA);
	assert_null(st);
	/* a fresh store for the fixture to close */
	fx_rm_dir(s->dir);
	assert_int_equal(fx_store_open(s, "migrate"), 0);
}

/* An undecodable value is an error that stops the write, never absent. */
static void
test_corrupt_value_is_an_error(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	struct records_actor act = {SELF, "clerk", 1700000000, RECOGNITION_SCORE};
	struct assessment a;
	struct local_report lr;
	struct wire_report r;
	unsigned char k[64];
	int replaced;
	size_t kl;

	conf_init(&c);
	t = fx_wtxn(s);
	k[0] = 2025 >> 8;
	k[1] = 2025 & 0xff;
	store_put(t, TBL_LOCAL, k, 2, "\x02\x01", 2); /* cut short */
	fx_commit(&t);

	t = fx_wtxn(s);
	assert_int_equal(records_local(t, 2025, &lr), STORE_CORRUPT);
	assert_int_equal(store_txn_err(t), STORE_CORRUPT);
	store_abort(&t);
	t = fx_wtxn(s);
	fx_assessment(&a, 2025, "P9", GROUP_FARMER, POP_ADULT, DIGITAL_NONE);
	memset(a.scores, 9, sizeof(a.scores));
	assert_int_equal(records_put(t, &act, &a, &replaced), STORE_CORRUPT);
	assert_int_equal(store_commit(&t), STORE_CORRUPT);
	t = fx_rtxn(s);
	assert_int_equal(records_get(t, 2025, "P9", 2, &a), STORE_NOTFOUND);
	store_abort(&t);

	/* a well-formed value whose group is out of range (it would count in
	 * another counter, or past the array) is corrupt too */
	t = fx_wtxn(s);
	k[0] = 2025 >> 8;
	k[1] = 2025 & 0xff;
	memcpy(k + 2, "G1", 2);
	store_put(t, TBL_ASSESS, k, 4,
	    "\x02\x0c\x00\x00\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x01\x00"
	    "\x5a\xf8\x1e\x00\x00",
	    21);
	assert_int_equal(records_get(t, 2025, "G1", 2, &a), STORE_CORRUPT);
	store_abort(&t);

	/* a corrupt copy is not "no copy": the report is not applied */
	t = fx_wtxn(s);
	kl = okey(k, "1401", 2026);
	memcpy(k + kl, "1401", 5);
	store_put(t, TBL_MIRROR, k, kl + 5, "\x09", 1);
	fx_commit(&t);
	{
		struct conf_child kid = {.id = "1401"};

		c.children = &kid;
		c.nchildren = 1;
		memset(&r, 0, sizeof(r));
		strcpy(r.origin, "1401");
		strcpy(r.level, "district");
		r.year = 2026;
		r.version = 1000;
		r.path_len = 1;
		strcpy(r.path[0], "1401");
		t = fx_wtxn(s);
		assert_int_equal(
		    aggregate_apply(t, &c, "1401", &r, 1), STORE_CORRUPT);
		assert_int_equal(store_commit(&t), STORE_CORRUPT);
	}
}

/* The version clock saturates at its maximum, never wraps to 0. */
static void
test_seq_saturates(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t = fx_wtxn(s);
	unsigned char b[8];
	uint64_t max = UINT64_MAX - 1;

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(max >> (8 * i));
	assert_int_equal(store_put(t, TBL_META, "seq", 3, b, 8), STORE_OK);
	assert_true(store_next_seq(t) == UINT64_MAX);
	assert_true(store_next_seq(t) == UINT64_MAX);
	store_raise_seq(t, 5);
	assert_true(store_next_seq(t) == UINT64_MAX);
	fx_commit(&t);
}

static void
test_value_codec(void **state)
{
	static const uint64_t u[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX,
	    (uint64_t)INT64_MAX, UINT64_MAX};
	static const int64_t sv[] = {
	    0, 1, -1, 63, -64, 64, -65, INT64_MAX, INT64_MIN};
	unsigned char buf[256];
	struct vw w;
	struct vr r;
	char str[8];
	struct cdht_counters c, d;
	unsigned n;

	(void)state;
	vw_init(&w, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		vw_uint(&w, u[i]);
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++)
		vw_int(&w, sv[i]);
	vw_str(&w, "abc");
	assert_int_equal(w.err, 0);
	vr_init(&r, buf, w.len);
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		assert_true(vr_uint(&r) == u[i]);
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++)
		assert_true(vr_int(&r) == sv[i]);
	assert_int_equal(vr_str(&r, str, sizeof(str)), 3);
	assert_string_equal(str, "abc");
	assert_int_equal(vr_done(&r), 0);

	/* every truncation fails */
	for (size_t cut = 0; cut < w.len; cut++) {
		vr_init(&r, buf, cut);
		for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
			vr_uint(&r);
		for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++)
			vr_int(&r);
		vr_str(&r, str, sizeof(str));
		assert_int_equal(vr_done(&r), -1);
	}
	/* trailing bytes, an 11-byte varint, a 10th byte above 1 */
	vr_init(&r, "\x01\x00", 2);
	vr_uint(&r);
	assert_int_equal(vr_done(&r), -1);
	vr_init(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	vr_uint(&r);
	assert_int_equal(vr_done(&r), -1);
	vr_init(&r, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	vr_uint(&r);
	assert_int_equal(vr_done(&r), -1);
	/* a string longer than its room, or holding a NUL */
	vr_init(&r, "\x08xxxxxxxx", 9);
	vr_str(&r, str, sizeof(str));
	assert_int_equal(vr_done(&r), -1);
	vr_init(&r, "\x02x\x00", 3);
	vr_str(&r, str, sizeof(str));
	assert_int_equal(vr_done(&r), -1);
	/* the writer never overflows its buffer */
	vw_init(&w, buf, 3);
	vw_str(&w, "abcd");
	assert_int_equal(w.err, -1);
	assert_true(w.len <= 3);

	/* counters: fewer read back zero-filled; more than known fail */
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		c.v[i] = (int64_t)i * 1000003;
	vw_init(&w, buf, sizeof(buf));
	vw_counters(&w, &c, 32);
	vr_init(&r, buf, w.len);
	vr_counters(&r, &d, &n);
	assert_int_equal(vr_done(&r), 0);
	assert_int_equal(n, 32);
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		assert_true(d.v[i] == (i < 32 ? c.v[i] : 0));
	buf[0] = CDHT_NCOUNTERS + 1;
	vr_init(&r, buf, w.len);
	vr_counters(&r, &d, &n);
	assert_int_equal(vr_done(&r), -1);
}

static int
setup(void **state)
{
	return fx_store_setup(state, "migrate");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_fresh_is_current, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v1_migrates, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_equal_version_more_counters, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v1_corrupt_changes_nothing, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_newer_schema_refused, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_corrupt_value_is_an_error, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_seq_saturates, setup, fx_store_teardown),
	    cmocka_unit_test(test_value_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
