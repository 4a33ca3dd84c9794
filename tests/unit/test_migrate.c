/*
 * test_migrate.c: the data directory's schema: a schema-1 directory (the
 * raw structs of release 0.1.0, written here byte for byte from the frozen
 * layouts below, independently of the daemon's own copies) and a schema-2
 * directory (release 0.2.0's encoded values, written with the test's own
 * varint writer) migrate to the current schema in one transaction with
 * every value intact; a failed
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

/* s made a schema 3 directory, reopened, and a migration transaction on
 * it to write the old forms into. */
static struct store_txn *
v3_txn(struct fx_store *s)
{
	set_schema(s, 3);
	fx_store_reopen(s);
	return raw_txn(s);
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

static int audit_cb(void *arg, const struct audit_entry *e);

/* ---------------------------------------------------------------------- */
/*
 * Release 0.2.0's stored values (schema 2, PROTOCOL.md 7.2), written here
 * with a varint writer of the test's own (LEB128; signed ones zigzag), not
 * the daemon's value.c: a format byte 2 then the fields, counters as a count
 * (33 in that release) and that many signed varints.
 */
#define V2_NCOUNTERS 33

struct tb {
	unsigned char b[1024];
	size_t n;
};

static void
tb_u8(struct tb *t, unsigned v)
{
	assert_true(t->n < sizeof(t->b));
	t->b[t->n++] = (unsigned char)v;
}

static void
tb_uint(struct tb *t, uint64_t v)
{
	do {
		tb_u8(t, (unsigned)(v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

static void
tb_int(struct tb *t, int64_t v)
{
	tb_uint(t, ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

static void
tb_str(struct tb *t, const char *s)
{
	size_t n = strlen(s);

	tb_uint(t, n);
	assert_true(t->n + n <= sizeof(t->b));
	memcpy(t->b + t->n, s, n);
	t->n += n;
}

static void
tb_counters(struct tb *t, const int64_t *c, unsigned n)
{
	tb_uint(t, n);
	for (unsigned i = 0; i < n; i++)
		tb_int(t, c[i]);
}

/* The schema-2 assessments: P1 an official who passed (95), P2 a farmer
 * who did not (40). */
static void
v2_assessments(struct assessment a[2])
{
	fx_assessment(
	    &a[0], 2025, "P1", GROUP_OFFICIAL, POP_ADULT, DIGITAL_SKILLED);
	for (int i = 0; i < 10; i++)
		a[0].scores[i] = (uint8_t)(9 + (i & 1));
	a[0].total = 95;
	a[0].eligible = a[0].recognized = true;
	a[0].birth_year = 1980;
	a[0].updated_at = 1700000000;
	strcpy(a[0].name, "Nguy\xe1\xbb\x85n V\xc4\x83n A");
	fx_assessment(&a[1], 2025, "P2", GROUP_FARMER, POP_STAFF, DIGITAL_NONE);
	memset(a[1].scores, 4, sizeof(a[1].scores));
	a[1].total = 40;
	a[1].birth_year = -1; /* signed: zigzag */
	a[1].updated_at = 1700000001;
}

/* The 2025 local counters of release 0.2.0: those two assessments. */
static void
v2_local_counters(int64_t c[CDHT_NCOUNTERS])
{
	struct assessment a[2];
	struct cdht_counters cc;

	v2_assessments(a);
	memset(&cc, 0, sizeof(cc));
	rules_apply(&cc, &a[0], +1);
	rules_apply(&cc, &a[1], +1);
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		c[i] = i < V2_NCOUNTERS ? cc.v[i] : 0;
	c[fx_cidx("adults")] = 500; /* denominators: den_set, adults */
	c[fx_cidx("den_set")] = 1;
}

/* 1401's copy / winner of 2025 (format 2) into *t. */
static void
v2_rec(struct tb *t)
{
	int64_t c[V2_NCOUNTERS];

	for (int i = 0; i < V2_NCOUNTERS; i++)
		c[i] = 200 + i;
	tb_u8(t, 2);
	tb_uint(t, 1750000000000042ull); /* version */
	tb_int(t, 1750000000);           /* updated_at */
	tb_int(t, 1750000001);           /* received_at */
	tb_str(t, "1401");               /* via */
	tb_str(t, "district");
	tb_str(t, "Huy\xe1\xbb\x87n A");
	tb_uint(t, 1); /* path */
	tb_str(t, "1401");
	tb_counters(t, c, V2_NCOUNTERS);
}

#define V2_SEQ 1760000000000000ull

/* Write a complete schema-2 directory; bad_rec: 1401's winner cut short. */
static void
write_v2(struct fx_store *s, int bad_rec)
{
	struct store_txn *t;
	struct assessment a[2];
	unsigned char k[64], seq[8];
	int64_t lc[CDHT_NCOUNTERS], tc[V2_NCOUNTERS];
	struct tb v;
	size_t kl;

	set_schema(s, 2);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 2);
	t = raw_txn(s);
	for (int i = 0; i < 8; i++)
		seq[i] = (unsigned char)(V2_SEQ >> (8 * i));
	store_put(t, TBL_META, "seq", 3, seq, 8);
	store_put(t, TBL_META, "parent", 6, "1", 1);

	v2_assessments(a);
	for (int i = 0; i < 2; i++) {
		memset(&v, 0, sizeof(v));
		tb_u8(&v, 2);
		tb_u8(&v, a[i].group);
		tb_u8(&v, a[i].population);
		tb_u8(&v, a[i].digital);
		for (int j = 0; j < 10; j++)
			tb_u8(&v, a[i].scores[j]);
		tb_u8(&v, a[i].recognized);
		tb_u8(&v, a[i].outstanding);
		tb_uint(&v, a[i].total);
		tb_int(&v, a[i].birth_year);
		tb_int(&v, a[i].updated_at);
		tb_str(&v, a[i].name);
		k[0] = 2025 >> 8;
		k[1] = 2025 & 0xff;
		memcpy(k + 2, a[i].person_id, 2);
		store_put(t, TBL_ASSESS, k, 4, v.b, v.n);
	}
	v2_local_counters(lc);
	for (int y = 2021; y <= 2030; y++) {
		int64_t zero[V2_NCOUNTERS] = {0};

		memset(&v, 0, sizeof(v));
		tb_u8(&v, 2);
		tb_uint(&v, V2_SEQ - 100 + (uint64_t)y);
		tb_int(&v, 1700000000 + y);
		tb_counters(&v, y == 2025 ? lc : zero, V2_NCOUNTERS);
		k[0] = (unsigned char)(y >> 8);
		k[1] = (unsigned char)y;
		store_put(t, TBL_LOCAL, k, 2, v.b, v.n);
		/* acknowledged by the parent: nothing queued before */
		memset(&v, 0, sizeof(v));
		tb_u8(&v, 2);
		tb_uint(&v, V2_SEQ - 100 + (uint64_t)y);
		store_put(t, TBL_ACKED, k, okey(k, SELF, y), v.b, v.n);
	}
	memset(&v, 0, sizeof(v));
	tb_u8(&v, 2);
	tb_int(&v, 1700000000);
	tb_str(&v, "clerk-x");
	tb_str(&v, "submit");
	tb_str(&v, "2025/P1 total=95");
	store_be64(k, V2_SEQ);
	store_put(t, TBL_AUDIT, k, 8, v.b, v.n);

	memset(&v, 0, sizeof(v));
	v2_rec(&v);
	kl = okey(k, "1401", 2025);
	memcpy(k + kl, "1401", 5);
	store_put(t, TBL_MIRROR, k, kl + 5, v.b, v.n);
	store_put(t, TBL_WIN, k, kl, v.b, bad_rec ? v.n - 1 : v.n);
	for (int i = 0; i < V2_NCOUNTERS; i++)
		tc[i] = 200 + i;
	memset(&v, 0, sizeof(v));
	tb_u8(&v, 2);
	tb_counters(&v, tc, V2_NCOUNTERS);
	store_put(t, TBL_TOTALS, k, kl, v.b, v.n);
	kl = okey(k, SELF, 2025);
	store_put(t, TBL_TOTALS, k, kl, v.b, v.n);
	memset(&v, 0, sizeof(v));
	tb_u8(&v, 2);
	tb_str(&v, "district");
	tb_str(&v, "Huy\xe1\xbb\x87n A");
	tb_str(&v, SELF);                 /* parent */
	tb_uint(&v, 1);                   /* depth */
	tb_uint(&v, 1750000000000042ull); /* version */
	tb_int(&v, 1750000000);           /* last_report */
	tb_uint(&v, V2_NCOUNTERS);
	tb_int(&v, 1); /* years */
	store_put(t, TBL_NODES, "1401", 4, v.b, v.n);
	store_put(t, TBL_PIN, "1401", 4,
	    "\x02\x04"
	    "1401",
	    6);
	store_put(t, TBL_PIN,
	    "\0"
	    "1401",
	    5, "\x02\x01", 2);
	memcpy(k, "1401", 5);
	kl = 5 + okey(k + 5, "1401", 2025);
	store_put(t, TBL_BYVIA, k, kl, "", 0);
	kl = okey(k, "1401", 2025);
	memset(&v, 0, sizeof(v));
	tb_u8(&v, 2);
	tb_uint(&v, 1750000000000042ull);
	store_put(t, TBL_ACKED, k, kl, v.b, v.n);
	assert_int_equal(store_commit(&t), STORE_OK);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 2);
}

/* Copy the value of tbl at key k into out[0..cap); returns its length. */
static size_t
raw_value(struct store_txn *t, int tbl, const void *k, size_t kl,
    unsigned char *out, size_t cap)
{
	const void *v;
	size_t vl;

	assert_int_equal(store_get(t, tbl, k, kl, &v, &vl), STORE_OK);
	assert_true(vl <= cap);
	memcpy(out, v, vl);
	return vl;
}

/* What 1401's copy and winner must be after the migration: format 3, the
 * same fields, then filed_by "" and successor "" (length 0 each). */
static void
assert_rec_v3(struct store_txn *t)
{
	unsigned char k[64], got[1024];
	struct tb want = {{0}, 0};
	size_t kl = okey(k, "1401", 2025), n;

	v2_rec(&want);
	want.b[0] = 3;
	tb_uint(&want, 0);
	tb_uint(&want, 0);
	memcpy(k + kl, "1401", 5);
	n = raw_value(t, TBL_MIRROR, k, kl + 5, got, sizeof(got));
	assert_int_equal(n, want.n);
	assert_memory_equal(got, want.b, n);
	kl = fx_ykey(k, "1401", 2025);
	n = raw_value(t, TBL_WIN, k, kl, got, sizeof(got));
	assert_int_equal(n, want.n);
	assert_memory_equal(got, want.b, n);
}

/* 1401's winner as the daemon reads it (before or after migrating). */
static void
assert_rec_read(struct store_txn *t)
{
	struct wire_report w;

	memset(&w, 'x', sizeof(w));
	assert_int_equal(aggregate_report_of(t, "1401", 2025, &w), STORE_OK);
	assert_true(w.version == 1750000000000042ull);
	assert_int_equal(w.updated_at, 1750000000);
	assert_string_equal(w.level, "district");
	assert_string_equal(w.name, "Huy\xe1\xbb\x87n A");
	assert_int_equal(w.path_len, 1);
	assert_string_equal(w.path[0], "1401");
	assert_int_equal(w.ncounters, V2_NCOUNTERS);
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		assert_int_equal(
		    w.counters.v[i], i < V2_NCOUNTERS ? 200 + i : 0);
	assert_string_equal(w.filed_by, "");
}

/* aggregate.c's step 2 -> 3 alone: a format-2 copy and winner read as
 * filed_by "", then are rewritten in format 3; the other tables of
 * aggregate.c are left byte for byte as they were. */
static void
test_v2_aggregate_step(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	unsigned char k[64], before[3][256], after[256];
	size_t kl, nb[3];
	const void *pk[3] = {NULL, "1401",
	    "\0"
	    "1401"};
	size_t pkl[3] = {0, 4, 5};
	int ptbl[3] = {TBL_TOTALS, TBL_NODES, TBL_PIN};

	write_v2(s, 0);
	t = raw_txn(s);
	/* the keys first (schema 4's, migrate_run's first step) */
	assert_int_equal(aggregate_migrate_v3(t), STORE_OK);
	assert_rec_read(t); /* format 2 is read as it is */
	kl = fx_ykey(k, SELF, 2025);
	pk[0] = k;
	pkl[0] = kl;
	for (int i = 0; i < 3; i++)
		nb[i] = raw_value(
		    t, ptbl[i], pk[i], pkl[i], before[i], sizeof(before[i]));
	assert_int_equal(aggregate_migrate_v2(t), STORE_OK);
	assert_rec_v3(t);
	assert_rec_read(t);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    raw_value(t, ptbl[i], pk[i], pkl[i], after, sizeof(after)),
		    nb[i]);
		assert_memory_equal(after, before[i], nb[i]);
	}
	/* twice is the same (format 3 is read and written back as is) */
	assert_int_equal(aggregate_migrate_v2(t), STORE_OK);
	assert_rec_v3(t);
	store_abort(&t);

	/* a value of neither format stops it */
	t = raw_txn(s);
	kl = okey(k, "1401", 2025);
	store_put(t, TBL_WIN, k, kl, "\x04\x01", 2);
	assert_int_equal(aggregate_migrate_v2(t), STORE_CORRUPT);
	store_abort(&t);
}

/* The whole migration from schema 2 (release 0.2.0) to 3 through
 * migrate_run: assessments gain eligible (= recognized) and decision "",
 * local reports gain eligible by group (= recognized by group) and
 * filed_by "" and are queued at their versions, copies gain filed_by "";
 * nothing else changes. */
static void
test_v2_migrates(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	struct conf_child kid = {.id = "1401"};
	struct assessment a, want[2];
	struct local_report lr;
	struct audit_entry e;
	struct cdht_counters tot;
	struct wire_key inv = {
	    .origin = "1401", .year = 2025, .version = 1750000000000042ull};
	struct wire_msg w;
	int64_t lc[CDHT_NCOUNTERS];
	static const char *const groups[] = {
	    "farmer", "worker", "official", "business", "manager"};

	conf_init(&c);
	strcpy(c.parent, "1");
	c.children = &kid;
	c.nchildren = 1;
	write_v2(s, 0);
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);
	assert_int_equal(store_schema(s->st), STORE_SCHEMA_VERSION);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 4);

	t = fx_wtxn(s);
	v2_assessments(want);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    records_get(t, 2025, want[i].person_id, 2, &a), STORE_OK);
		fx_assert_assessment(&a, 2025, want[i].person_id, want[i].name,
		    want[i].birth_year, want[i].group, want[i].population,
		    want[i].digital, want[i].scores);
		assert_int_equal(a.total, want[i].total);
		assert_int_equal(a.recognized, want[i].recognized);
		assert_int_equal(a.eligible, want[i].recognized);
		assert_false(a.outstanding);
		assert_int_equal(a.updated_at, want[i].updated_at);
		assert_string_equal(a.decision, "");
	}

	v2_local_counters(lc);
	for (int y = 2021; y <= 2030; y++) {
		assert_int_equal(records_local(t, y, &lr), STORE_OK);
		assert_true(lr.version == V2_SEQ - 100 + (uint64_t)y);
		assert_int_equal(lr.updated_at, 1700000000 + y);
		for (int i = 0; i < V2_NCOUNTERS; i++)
			if (lr.c.v[i] != (y == 2025 ? lc[i] : 0))
				fail_msg("%d: counter %d is %lld, want %lld", y,
				    i, (long long)lr.c.v[i],
				    (long long)(y == 2025 ? lc[i] : 0));
		for (int g = 0; g < 5; g++) {
			char el[32], rec[32];

			snprintf(el, sizeof(el), "%s_eligible", groups[g]);
			snprintf(rec, sizeof(rec), "%s_recognized", groups[g]);
			assert_int_equal(
			    lr.c.v[fx_cidx(el)], lr.c.v[fx_cidx(rec)]);
		}
		assert_int_equal(lr.c.v[fx_cidx("filed")], 0);
		assert_int_equal(lr.c.v[fx_cidx("filed_at")], 0);
		assert_int_equal(lr.c.v[fx_cidx("reopened")], 0);
		assert_int_equal(lr.c.v[fx_cidx("filed_missing")], 0);
		assert_string_equal(lr.filed_by, "");
		/* queued at its version though the parent acknowledged it */
		assert_true(fx_outbox_has(t, SELF, y));
		assert_true(outbox_acked_version(t, SELF, y) ==
		            V2_SEQ - 100 + (uint64_t)y);
	}
	/* computed independently: one official eligible, no farmer */
	assert_int_equal(
	    fx_local(t, 2025).c.v[fx_cidx("official_eligible")], 1);
	assert_int_equal(fx_local(t, 2025).c.v[fx_cidx("farmer_eligible")], 0);
	assert_int_equal(fx_local(t, 2025).c.v[fx_cidx("farmer_assessed")], 1);

	assert_rec_v3(t);
	assert_rec_read(t);
	assert_int_equal(aggregate_totals(t, &c, "1401", 2025, &tot), STORE_OK);
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		assert_int_equal(tot.v[i], i < V2_NCOUNTERS ? 200 + i : 0);
	assert_true(
	    outbox_acked_version(t, "1401", 2025) == 1750000000000042ull);
	memset(&e, 0, sizeof(e));
	assert_int_equal(records_audit_tail(t, 1, audit_cb, &e), STORE_OK);
	assert_true(e.id == V2_SEQ);
	assert_string_equal(e.who, "clerk-x");
	assert_string_equal(e.detail, "2025/P1 total=95");
	assert_true(store_next_seq(t) > V2_SEQ);
	assert_int_equal(fx_count_table(t, TBL_TITLES), 0);
	assert_int_equal(fx_count_table(t, TBL_DECISION), 0);
	assert_int_equal(fx_count_table(t, TBL_DECIDED), 0);
	/* the copy has 33 counters: HELLO asks 1401 for the fuller one */
	assert_int_equal(aggregate_hello(t, &c, "1401", &inv, 1, &w), STORE_OK);
	assert_int_equal(w.nkeys, 1);
	assert_string_equal(w.keys[0].origin, "1401");
	wire_msg_free(&w);
	fx_commit(&t);
}

/* A schema-2 value that cannot be read: nothing changes, schema 2 stays. */
static void
test_v2_corrupt_changes_nothing(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	struct conf c;
	unsigned char k[64], got[256];
	struct tb want = {{0}, 0};
	size_t kl;

	conf_init(&c);
	write_v2(s, 1);
	assert_int_equal(migrate_run(s->st, &c), STORE_CORRUPT);
	assert_int_equal(store_schema(s->st), 2);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 2);
	t = raw_txn(s);
	v2_rec(&want);
	kl = okey(k, "1401", 2025);
	memcpy(k + kl, "1401", 5);
	/* still format 2, byte for byte */
	assert_int_equal(
	    raw_value(t, TBL_MIRROR, k, kl + 5, got, sizeof(got)), want.n);
	assert_memory_equal(got, want.b, want.n);
	k[0] = 2025 >> 8;
	k[1] = 2025 & 0xff;
	raw_value(t, TBL_LOCAL, k, 2, got, sizeof(got));
	assert_int_equal(got[0], 2);
	memcpy(k + 2, "P1", 2);
	raw_value(t, TBL_ASSESS, k, 4, got, sizeof(got));
	assert_int_equal(got[0], 2);
	store_abort(&t);
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
	assert_string_equal(w.filed_by, "");
	{ /* written straight in format 3: filed_by "" at the end */
		unsigned char k[64];
		const void *v;
		size_t kl = fx_ykey(k, "1401", 2025), vl;

		assert_int_equal(
		    store_get(t, TBL_WIN, k, kl, &v, &vl), STORE_OK);
		assert_int_equal(((const unsigned char *)v)[0], 3);
		assert_int_equal(((const unsigned char *)v)[vl - 1], 0);
		kl = okey(k, "1401", 2025);
		memcpy(k + kl, "1401", 5);
		assert_int_equal(
		    store_get(t, TBL_MIRROR, k, kl + 5, &v, &vl), STORE_OK);
		assert_int_equal(((const unsigned char *)v)[0], 3);
		assert_int_equal(((const unsigned char *)v)[vl - 1], 0);
	}
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
	struct records_actor act = {
	    SELF, "clerk", 1700000000, RECOGNITION_SCORE};
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

/* A table's entries, key and value, in the order a scan gives them. */
struct kvlist {
	size_t n;
	unsigned char k[16000][24];
	size_t kl[16000];
	unsigned char v[16000][24];
	size_t vl[16000];
};

static int
kv_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct kvlist *l = arg;

	assert_true(l->n < 16000 && kl <= 24 && vl <= 24);
	memcpy(l->k[l->n], k, kl);
	l->kl[l->n] = kl;
	memcpy(l->v[l->n], v, vl);
	l->vl[l->n++] = vl;
	return 0;
}

static int
kv_key_cmp(const void *a, const void *b)
{
	const unsigned char *x = a, *y = b;

	/* keys here are year(2) then an id of 5 bytes: fixed width */
	return memcmp(x, y, 7);
}

/* l (schema 3 keys: id 0 year(2)) as schema 4 must hold it: each key
 * rewritten year(2) id, in the new keys' order. */
static void
expect_moved(struct kvlist *l)
{
	static unsigned char rec[16000][48];

	for (size_t j = 0; j < l->n; j++) {
		char id[24];
		size_t ol = strlen((const char *)l->k[j]);
		int y = l->k[j][ol + 1] << 8 | l->k[j][ol + 2];

		memcpy(id, l->k[j], ol + 1);
		assert_int_equal(fx_ykey(rec[j], id, y), 7);
		memcpy(rec[j] + 24, l->v[j], 23);
		rec[j][47] = (unsigned char)l->vl[j];
	}
	qsort(rec, l->n, 48, kv_key_cmp);
	for (size_t j = 0; j < l->n; j++) {
		memcpy(l->k[j], rec[j], 7);
		l->kl[j] = 7;
		memcpy(l->v[j], rec[j] + 24, 23);
		l->vl[j] = rec[j][47];
	}
}

/* Schema 3 -> 4 with more entries than one chunk of the migration: every
 * win and totals entry moves from origin 0 year(2) to year(2) origin, its
 * value byte for byte, none lost or doubled; the daemon reads them. */
static void
test_v3_keys_move(void **state)
{
	struct fx_store *s = *state;
	static struct kvlist before[2], after;
	int tbls[2] = {TBL_WIN, TBL_TOTALS};
	struct store_txn *t;
	struct conf c;

	t = v3_txn(s);
	for (int o = 0; o < 700; o++) /* 7,700 totals, 6,300 winners */
		for (int y = 2020; y <= 2030; y++) {
			char id[8];
			unsigned char k[16], buf[64];
			struct cdht_counters cs = {{0}};
			struct vw w;
			size_t kl;

			snprintf(id, sizeof(id), "U%04d", o);
			kl = okey(k, id, y);
			cs.v[0] = o * 100 + (y - 2000);
			vw_init(&w, buf, sizeof(buf));
			vw_u8(&w, 2);
			vw_counters(&w, &cs, 1);
			assert_int_equal(
			    store_put(t, TBL_TOTALS, k, kl, buf, w.len),
			    STORE_OK);
			if (o % 10 != 9 && y > 2020)
				assert_int_equal(store_put(t, TBL_WIN, k, kl,
				                     id, strlen(id) + 1),
				    STORE_OK);
		}
	fx_commit(&t);

	conf_init(&c);
	for (int i = 0; i < 2; i++) {
		struct kvlist *b = &before[i];

		t = raw_txn(s);
		b->n = 0;
		assert_int_equal(
		    store_scan(t, tbls[i], NULL, 0, kv_cb, b), STORE_OK);
		store_abort(&t);
		assert_int_equal(b->n, i == 0 ? 6300 : 7700);
		expect_moved(b);
	}
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 4);
	t = fx_rtxn(s);
	for (int i = 0; i < 2; i++) {
		struct kvlist *b = &before[i];

		after.n = 0;
		assert_int_equal(
		    store_scan(t, tbls[i], NULL, 0, kv_cb, &after), STORE_OK);
		assert_int_equal(after.n, b->n);
		for (size_t j = 0; j < after.n; j++) {
			assert_int_equal(after.kl[j], b->kl[j]);
			assert_memory_equal(after.k[j], b->k[j], after.kl[j]);
			assert_int_equal(after.vl[j], b->vl[j]);
			assert_memory_equal(after.v[j], b->v[j], after.vl[j]);
		}
	}
	store_abort(&t);
	/* the daemon reads them where schema 4 keeps them */
	t = fx_rtxn(s);
	for (int o = 0; o < 700; o += 77)
		for (int y = 2021; y <= 2030; y += 3) {
			char id[8];
			struct cdht_counters got;

			snprintf(id, sizeof(id), "U%04d", o);
			assert_int_equal(
			    aggregate_view_totals(t, id, y, &got), STORE_OK);
			assert_int_equal(got.v[0], o * 100 + (y - 2000));
		}
	store_abort(&t);
}

/* A key already in schema 4's form is left as it is, not taken for a
 * damaged one, beside one that moves. */
static void
test_v3_moved_key_is_kept(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	unsigned char k[16];
	const void *v;
	size_t kl, vl;
	struct conf c;

	t = v3_txn(s);
	kl = okey(k, "1401", 2025);
	assert_int_equal(
	    store_put(t, TBL_TOTALS, k, kl, "\x02\x01\x02", 3), STORE_OK);
	kl = fx_ykey(k, "1402", 2025);
	assert_int_equal(
	    store_put(t, TBL_TOTALS, k, kl, "\x02\x01\x04", 3), STORE_OK);
	fx_commit(&t);
	conf_init(&c);
	assert_int_equal(migrate_run(s->st, &c), STORE_OK);
	t = fx_rtxn(s);
	assert_int_equal(fx_count_table(t, TBL_TOTALS), 2);
	kl = fx_ykey(k, "1401", 2025);
	assert_int_equal(store_get(t, TBL_TOTALS, k, kl, &v, &vl), STORE_OK);
	assert_memory_equal(v, "\x02\x01\x02", 3);
	kl = fx_ykey(k, "1402", 2025);
	assert_int_equal(store_get(t, TBL_TOTALS, k, kl, &v, &vl), STORE_OK);
	assert_memory_equal(v, "\x02\x01\x04", 3);
	store_abort(&t);
}

/* A win key of neither form: the migration fails and changes nothing. */
static void
test_v3_bad_key_changes_nothing(void **state)
{
	struct fx_store *s = *state;
	struct store_txn *t;
	unsigned char k[16];
	size_t kl;
	struct conf c;

	t = v3_txn(s);
	kl = okey(k, "1401", 2025);
	assert_int_equal(
	    store_put(t, TBL_TOTALS, k, kl, "\x02\x00", 2), STORE_OK);
	assert_int_equal(store_put(t, TBL_WIN, "1402", 4, "x", 1), STORE_OK);
	fx_commit(&t);
	conf_init(&c);
	assert_int_equal(migrate_run(s->st, &c), STORE_CORRUPT);
	fx_store_reopen(s);
	assert_int_equal(store_schema(s->st), 3);
	t = raw_txn(s);
	{
		const void *v;
		size_t vl;

		assert_int_equal(store_get(t, TBL_TOTALS, k, kl, &v, &vl),
		    STORE_OK); /* not moved */
		assert_int_equal(
		    store_get(t, TBL_WIN, "1402", 4, &v, &vl), STORE_OK);
	}
	store_abort(&t);
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
	        test_v2_aggregate_step, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v2_migrates, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v2_corrupt_changes_nothing, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v3_keys_move, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v3_moved_key_is_kept, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_v3_bad_key_changes_nothing, setup, fx_store_teardown),
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
