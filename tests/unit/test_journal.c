/*
 * test_journal.c: daemon/store.c's write-ahead journal (daemon/journal.c)
 * on real LMDB files, against an independent model (a fixed set of keys
 * per table, each present or not with a value derived from a seed).
 *
 *   - power loss, many seeds: random puts and deletes through the store
 *     API (nested transactions, some aborted); a checkpoint; data.mdb
 *     copied (the disk as of the checkpoint); more transactions; the
 *     journal copied (durable by construction); then a "crashed" data.mdb:
 *     the checkpoint's copy with a random subset of the pages that differ
 *     in the live file laid over it (the meta pages 0 and 1 never, always
 *     or at random, appended pages too, the file sometimes cut short),
 *     opened beside the journal copy: the store must equal the model, and
 *     exactly the transactions after the checkpoint are replayed;
 *   - a torn last record (cut short, a flipped byte, never written) is
 *     dropped and the ones before it kept;
 *   - a damaged newest header falls back to the other one; a damaged
 *     header that records of its own generation follow is refused, and
 *     so are two damaged headers;
 *   - journal_mb = 0: no journal file, LMDB's own syncs; an unclean journal
 *     is still replayed, then removed;
 *   - a transaction bigger than the journal is made durable by a
 *     checkpoint;
 *   - a clean stop leaves a directory LMDB alone (an older cdhtd) opens
 *     and writes, and this cdhtd opens after it;
 *   - a checkpoint whose header write reports an error (but reached the
 *     disk, as a failed fdatasync allows): no record is appended under
 *     the old header after it, so a kill -9 then loses nothing;
 *   - refusals, nothing changed: data.mdb written by another opener after
 *     an unclean stop; a backup of an unclean directory with no cdhtd;
 *   - [node] journal_mb in the conf;
 *   - the CRC32C of the file, against a bitwise one.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "conf.h"
#include "journal.h"
#include "store.h"

#include "fixture.h"

/* --- the model ------------------------------------------------------------ */

#define NT 3  /* tables used */
#define NK 96 /* keys per table */

static const int tables[NT] = {TBL_ASSESS, TBL_MIRROR, TBL_AUDIT};

struct slot {
	int present;
	uint32_t vlen;
	uint64_t vseed;
};

struct model {
	struct slot s[NT][NK];
	uint64_t next_seed;
};

static uint64_t
rnd64(uint64_t *r)
{
	uint64_t x = *r;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *r = x;
}

static unsigned
rnd(uint64_t *r, unsigned n)
{
	return (unsigned)(rnd64(r) % n);
}

/* Key i of a table: 4..39 bytes, fixed by i. */
static size_t
key_of(int i, char *k)
{
	int pad = (i * 7) % 30;

	return (size_t)snprintf(k, 48, "k%03d-%.*s", i, pad,
	    "abcdefghijklmnopqrstuvwxyz0123456789");
}

static void
value_of(uint64_t seed, uint32_t len, unsigned char *v)
{
	uint64_t r = seed * 0x9E3779B97F4A7C15ull | 1;

	for (uint32_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			rnd64(&r);
		v[i] = (unsigned char)(r >> (8 * (i % 8)));
	}
}

static uint32_t
random_vlen(uint64_t *r)
{
	unsigned d = rnd(r, 100);

	if (d < 3)
		return 0;
	if (d < 70)
		return 10 + rnd(r, 290);
	if (d < 95)
		return 300 + rnd(r, 2700);
	return 3000 + rnd(r, 6000); /* overflow pages */
}

/* One random put or delete on t and m; *dirty set if it changed LMDB. */
static void
random_op(struct store_txn *t, struct model *m, uint64_t *r, int *dirty)
{
	int ti = (int)rnd(r, NT), ki = (int)rnd(r, NK);
	struct slot *s = &m->s[ti][ki];
	unsigned char v[9100];
	char k[48];
	size_t kl = key_of(ki, k);

	if (rnd(r, 3) == 0) {
		int rc = store_del(t, tables[ti], k, kl);

		assert_int_equal(rc, s->present ? STORE_OK : STORE_NOTFOUND);
		*dirty |= s->present;
		s->present = 0;
		return;
	}
	s->present = 1;
	s->vlen = random_vlen(r);
	s->vseed = ++m->next_seed;
	value_of(s->vseed, s->vlen, v);
	assert_int_equal(store_put(t, tables[ti], k, kl, v, s->vlen), STORE_OK);
	*dirty = 1;
}

/* One random write transaction, committed; returns whether it changed
 * anything (and so was journaled). */
static int
random_txn(struct store *st, struct model *m, uint64_t *r)
{
	struct store_txn *t = store_begin(st, 1);
	struct model *w = malloc(sizeof(*w)), *cw = malloc(sizeof(*cw));
	int dirty = 0, n = 1 + (int)rnd(r, 12);

	assert_non_null(t);
	assert_non_null(w);
	assert_non_null(cw);
	*w = *m;
	for (int i = 0; i < n; i++) {
		if (rnd(r, 5) == 0) { /* a nested transaction */
			struct store_txn *c = store_begin_nested(t);
			int cd = 0, cn = 1 + (int)rnd(r, 6);

			assert_non_null(c);
			*cw = *w;
			for (int j = 0; j < cn; j++)
				random_op(c, cw, r, &cd);
			if (rnd(r, 2)) {
				assert_int_equal(store_commit(&c), STORE_OK);
				*w = *cw;
				dirty |= cd;
			} else {
				store_abort(&c); /* must leave no trace */
				w->next_seed = cw->next_seed;
			}
		} else
			random_op(t, w, r, &dirty);
	}
	assert_int_equal(store_commit(&t), STORE_OK);
	*m = *w;
	free(w);
	free(cw);
	return dirty;
}

struct count {
	int n;
};

static int
count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	((struct count *)arg)->n++;
	return 0;
}

/* Fail (saying what, with the seed) unless st holds exactly m. */
static void
assert_model(
    struct store *st, const struct model *m, const char *what, uint64_t seed)
{
	struct store_txn *t = store_begin(st, 0);
	unsigned char want[9100];

	assert_non_null(t);
	for (int ti = 0; ti < NT; ti++) {
		struct count c = {0};
		int present = 0;

		for (int ki = 0; ki < NK; ki++) {
			const struct slot *s = &m->s[ti][ki];
			const void *v;
			size_t vl;
			char k[48];
			size_t kl = key_of(ki, k);
			int rc = store_get(t, tables[ti], k, kl, &v, &vl);

			if (!s->present) {
				if (rc != STORE_NOTFOUND)
					fail_msg("%s (seed %llu): table %d key "
					         "%d: present, rc %d",
					    what, (unsigned long long)seed, ti,
					    ki, rc);
				continue;
			}
			present++;
			value_of(s->vseed, s->vlen, want);
			if (rc != STORE_OK || vl != s->vlen ||
			    memcmp(v, want, vl) != 0)
				fail_msg("%s (seed %llu): table %d key %d: rc "
				         "%d, %zu bytes, want %u",
				    what, (unsigned long long)seed, ti, ki, rc,
				    rc == STORE_OK ? vl : 0, s->vlen);
		}
		assert_int_equal(
		    store_scan(t, tables[ti], NULL, 0, count_cb, &c), STORE_OK);
		if (c.n != present)
			fail_msg(
			    "%s (seed %llu): table %d has %d rows, want %d",
			    what, (unsigned long long)seed, ti, c.n, present);
	}
	store_abort(&t);
}

/* --- files -----------------------------------------------------------------
 */

struct blob {
	unsigned char *p;
	size_t n;
};

static struct blob
slurp(const char *dir, const char *name)
{
	char path[256];
	struct blob b = {0};
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	b.n = (size_t)sb.st_size;
	b.p = malloc(b.n ? b.n : 1);
	assert_non_null(b.p);
	assert_true(pread(fd, b.p, b.n, 0) == (ssize_t)b.n);
	close(fd);
	return b;
}

static void
spill(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static int
exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The header slot (0, 1) of journal bytes j holding the newest generation
 * (by the documented layout: magic, version, flags, generation). */
static int
newest_slot(const struct blob *j)
{
	uint64_t g[2] = {0, 0};

	for (int s = 0; s < 2; s++)
		if (memcmp(j->p + s * JOURNAL_BLOCK, "CDHTJRN", 8) == 0)
			g[s] = le64(j->p + s * JOURNAL_BLOCK + 16);
	assert_true(g[0] || g[1]);
	return g[1] > g[0];
}

/* The offset of the last record of the newest generation, and its body
 * length; -1 when there is none. */
static long
last_record(const struct blob *j, uint32_t *len)
{
	int s = newest_slot(j);
	uint64_t gen = le64(j->p + s * JOURNAL_BLOCK + 16);
	size_t off = 2 * JOURNAL_BLOCK;
	long last = -1;

	while (off + JOURNAL_REC_HDR <= j->n && le64(j->p + off + 8) == gen) {
		uint32_t l = le32(j->p + off + 4);

		last = (long)off;
		*len = l;
		off += (JOURNAL_REC_HDR + l + JOURNAL_BLOCK - 1) /
		       JOURNAL_BLOCK * JOURNAL_BLOCK;
	}
	return last;
}

/*
 * dst/data.mdb as a power loss may leave it: the checkpoint's copy ck with
 * some of the pages that differ in live laid over it.  Meta pages 0 and 1:
 * metamode 0 never, 1 always, 2 at random.  Pages past ck: taken or left
 * zero, and sometimes the file stops after the last one taken.
 */
static void
crash_data(const char *dst, const struct blob *ck, const struct blob *live,
    uint64_t *r, int metamode)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = live->n > ck->n ? live->n : ck->n, end = ck->n;
	unsigned char *out = calloc(1, n);

	assert_non_null(out);
	memcpy(out, ck->p, ck->n);
	for (size_t p = 0; p * ps < n; p++) {
		size_t off = p * ps, len = n - off < ps ? n - off : ps;
		int take;

		if (off >= live->n)
			break;
		if (off + len > live->n)
			len = live->n - off;
		if (off + len <= ck->n &&
		    memcmp(ck->p + off, live->p + off, len) == 0)
			continue;
		take = p < 2 ? (metamode == 2 ? (int)rnd(r, 2) : metamode)
		             : (int)rnd(r, 2);
		if (!take)
			continue;
		memcpy(out + off, live->p + off, len);
		if (off + len > end)
			end = off + len;
	}
	spill(dst, "data.mdb", out, rnd(r, 2) ? end : n);
	free(out);
}

static struct store *
open_j(const char *dir, uint32_t mb)
{
	struct store_opts o = {FX_MAP_MB, mb, 3600 * 1000};
	struct store *st = NULL;

	assert_int_equal(store_open_opts(dir, &o, &st), STORE_OK);
	return st;
}

/* --- power loss ------------------------------------------------------------
 */

static void
power_loss(uint64_t seed)
{
	char live[64], crash[64];
	uint64_t r = seed * 2654435761u + 1;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs;
	struct blob ck, ckj, data, jr;
	size_t n1 = 20 + rnd(&r, 60), n2 = 3 + rnd(&r, 25), dirty = 0;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(live, "jlive"), 0);
	assert_int_equal(fx_tmpdir(crash, "jcrash"), 0);
	st = open_j(live, 4);
	assert_true(store_journaled(st));
	for (size_t i = 0; i < n1; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK);
	ck = slurp(live, "data.mdb"); /* the disk as of the checkpoint */
	ckj = slurp(live, JOURNAL_FILE);
	for (size_t i = 0; i < n2; i++)
		dirty += (size_t)random_txn(st, m, &r);
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE); /* every record fdatasync'ed */
	/* the premise: no checkpoint since the copy */
	assert_memory_equal(jr.p, ckj.p, 2 * JOURNAL_BLOCK);

	crash_data(crash, &ck, &data, &r, (int)(seed % 3));
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	rs = open_j(crash, 4);
	assert_model(rs, m, "recovered", seed);
	if (store_replayed(rs) != dirty)
		fail_msg("seed %llu: %zu transactions replayed, want %zu",
		    (unsigned long long)seed, store_replayed(rs), dirty);
	/* the recovered store works on, and restarts cleanly */
	for (int i = 0; i < 5; i++)
		random_txn(rs, m, &r);
	store_close(&rs);
	rs = open_j(crash, 4);
	assert_int_equal(store_replayed(rs), 0);
	assert_model(rs, m, "reopened", seed);
	store_close(&rs);
	store_close(&st);
	free(ck.p);
	free(ckj.p);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

static void
test_power_loss(void **state)
{
	for (uint64_t seed = 1; seed <= 36; seed++)
		power_loss(seed);
}

/* --- a torn last record ----------------------------------------------------
 */

static void
torn(int how, uint64_t seed)
{
	char live[64], crash[64];
	uint64_t r = seed * 7919 + how;
	struct model *m = calloc(1, sizeof(*m)), *before = malloc(sizeof(*m));
	struct store *st, *rs;
	struct blob ck, data, jr;
	size_t n = 2 + rnd(&r, 10), dirty = 0;
	uint32_t len = 0;
	long off;
	struct store_txn *t;

	assert_non_null(m);
	assert_non_null(before);
	assert_int_equal(fx_tmpdir(live, "jtorn"), 0);
	assert_int_equal(fx_tmpdir(crash, "jtornc"), 0);
	st = open_j(live, 4);
	for (int i = 0; i < 30; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK);
	ck = slurp(live, "data.mdb");
	for (size_t i = 0; i < n; i++)
		dirty += (size_t)random_txn(st, m, &r);
	/* the last one changes something, so it has a record */
	*before = *m;
	t = store_begin(st, 1);
	assert_non_null(t);
	{
		unsigned char v[3000];
		char k[48];
		size_t kl = key_of(5, k);

		m->s[1][5].present = 1;
		m->s[1][5].vlen = 3000;
		m->s[1][5].vseed = ++m->next_seed;
		value_of(m->s[1][5].vseed, 3000, v);
		assert_int_equal(
		    store_put(t, tables[1], k, kl, v, 3000), STORE_OK);
	}
	assert_int_equal(store_commit(&t), STORE_OK);
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE);
	off = last_record(&jr, &len);
	assert_true(off > 0);
	switch (how) {
	case 0: /* cut short in its body */
		jr.n = (size_t)off + JOURNAL_REC_HDR + len / 2;
		break;
	case 1: /* a flipped byte at its end */
		jr.p[off + JOURNAL_REC_HDR + len - 1] ^= 0x40;
		break;
	default: /* its first block never written */
		memset(jr.p + off, 0, JOURNAL_BLOCK);
		break;
	}
	crash_data(crash, &ck, &data, &r, (int)rnd(&r, 3));
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	rs = open_j(crash, 4);
	assert_model(rs, before, "torn last record dropped", seed);
	assert_int_equal(store_replayed(rs), dirty);
	store_close(&rs);
	/* the journal is whole again, at its size */
	jr.n = 0;
	free(jr.p);
	jr = slurp(crash, JOURNAL_FILE);
	assert_int_equal(jr.n, 4u << 20);
	store_close(&st);
	free(ck.p);
	free(data.p);
	free(jr.p);
	free(m);
	free(before);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

static void
test_torn_record(void **state)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		for (int how = 0; how < 3; how++)
			torn(how, seed);
}

/* --- a damaged header ------------------------------------------------------
 */

static void
damaged_header(uint64_t seed, int records_after)
{
	char live[64], crash[64];
	uint64_t r = seed * 104729 + 3;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs = NULL;
	struct store_opts o = {FX_MAP_MB, 4, 3600 * 1000};
	struct blob ck, data, jr;
	size_t dirty = 0;
	int s;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(live, "jhdr"), 0);
	assert_int_equal(fx_tmpdir(crash, "jhdrc"), 0);
	st = open_j(live, 4);
	for (int i = 0; i < 25; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK); /* generation g */
	ck = slurp(live, "data.mdb");
	for (int i = 0; i < 12; i++)
		dirty += (size_t)random_txn(st, m, &r);
	/* g + 1, durable, then damaged (say, by the medium) */
	assert_int_equal(store_checkpoint(st), STORE_OK);
	if (records_after)
		random_txn(st, m, &r);
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE);
	s = newest_slot(&jr);
	jr.p[s * JOURNAL_BLOCK + 100] ^= 1; /* inside its meta copy */
	crash_data(crash, &ck, &data, &r, (int)rnd(&r, 3));
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	if (records_after) {
		/* the older header's records are partly overwritten: the
		 * journal cannot be replayed, and nothing is changed */
		struct blob before = slurp(crash, "data.mdb"), after;

		assert_int_equal(
		    store_open_opts(crash, &o, &rs), STORE_CORRUPT);
		assert_null(rs);
		after = slurp(crash, "data.mdb");
		assert_int_equal(after.n, before.n);
		assert_memory_equal(after.p, before.p, before.n);
		free(before.p);
		free(after.p);
	} else {
		rs = open_j(crash, 4);
		assert_model(rs, m, "older header", seed);
		assert_int_equal(store_replayed(rs), dirty);
		store_close(&rs);
	}
	store_close(&st);
	free(ck.p);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

/* Both headers damaged (the medium, or bytes that are no journal): the
 * records cannot be found, so the directory is refused, nothing changed. */
static void
test_both_headers_damaged(void **state)
{
	char live[64], crash[64];
	uint64_t r = 31;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs = NULL;
	struct store_opts o = {FX_MAP_MB, 4, 3600 * 1000};
	struct blob data, jr, after;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(live, "jhdr2"), 0);
	assert_int_equal(fx_tmpdir(crash, "jhdr2c"), 0);
	st = open_j(live, 4);
	for (int i = 0; i < 10; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK); /* two headers */
	for (int i = 0; i < 6; i++)
		random_txn(st, m, &r);
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE);
	jr.p[100] ^= 1;
	jr.p[JOURNAL_BLOCK + 100] ^= 1;
	spill(crash, "data.mdb", data.p, data.n);
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	assert_int_not_equal(store_open_opts(crash, &o, &rs), STORE_OK);
	assert_null(rs);
	after = slurp(crash, JOURNAL_FILE);
	assert_int_equal(after.n, jr.n);
	assert_memory_equal(after.p, jr.p, jr.n);
	free(after.p);
	after = slurp(crash, "data.mdb");
	assert_int_equal(after.n, data.n);
	assert_memory_equal(after.p, data.p, data.n);
	free(after.p);
	store_close(&st);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

static void
test_damaged_header(void **state)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		damaged_header(seed, 0);
		damaged_header(seed, 1);
	}
}

/* --- journal_mb = 0 --------------------------------------------------------
 */

static void
test_journal_off(void **state)
{
	char dir[64], crash[64];
	uint64_t r = 99;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st;
	struct blob data, jr;
	size_t dirty = 0;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(dir, "joff"), 0);
	assert_int_equal(fx_tmpdir(crash, "joffc"), 0);
	/* off: as before, LMDB syncs; no journal file */
	st = open_j(dir, 0);
	assert_false(store_journaled(st));
	for (int i = 0; i < 20; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK);
	store_close(&st);
	assert_false(exists(dir, JOURNAL_FILE));
	st = open_j(dir, 0);
	assert_model(st, m, "journal off, reopened", 0);
	store_close(&st);
	/* turned on: a journal appears */
	st = open_j(dir, 2);
	assert_true(store_journaled(st));
	assert_true(exists(dir, JOURNAL_FILE));
	assert_int_equal(store_checkpoint(st), STORE_OK);
	for (int i = 0; i < 10; i++)
		dirty += (size_t)random_txn(st, m, &r);
	/* a kill -9 (the page cache keeps every write), then off: the
	 * journal is replayed, then removed */
	data = slurp(dir, "data.mdb");
	jr = slurp(dir, JOURNAL_FILE);
	spill(crash, "data.mdb", data.p, data.n);
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	store_close(&st);
	st = open_j(crash, 0);
	assert_int_equal(store_replayed(st), dirty);
	assert_model(st, m, "replayed, journal off", 0);
	assert_false(exists(crash, JOURNAL_FILE));
	random_txn(st, m, &r);
	store_close(&st);
	st = open_j(crash, 0);
	assert_model(st, m, "journal off after replay", 0);
	store_close(&st);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(dir);
	fx_rm_dir(crash);
}

/* --- a transaction bigger than the journal ---------------------------------
 */

static void
test_big_txn(void **state)
{
	char live[64], crash[64];
	uint64_t r = 4242;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs;
	struct store_txn *t;
	struct blob ck, hdr, data, jr;
	size_t dirty = 0;
	unsigned char v[9000];

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(live, "jbig"), 0);
	assert_int_equal(fx_tmpdir(crash, "jbigc"), 0);
	st = open_j(live, 1);
	for (int i = 0; i < 10; i++)
		random_txn(st, m, &r);
	hdr = slurp(live, JOURNAL_FILE);
	/* 2.3 MB of values in one transaction, over a 1 MiB journal */
	t = store_begin(st, 1);
	assert_non_null(t);
	for (int ti = 0; ti < NT; ti++)
		for (int ki = 0; ki < NK; ki++) {
			struct slot *s = &m->s[ti][ki];
			char k[48];
			size_t kl = key_of(ki, k);

			s->present = 1;
			s->vlen = 8000;
			s->vseed = ++m->next_seed;
			value_of(s->vseed, s->vlen, v);
			assert_int_equal(
			    store_put(t, tables[ti], k, kl, v, 8000), STORE_OK);
		}
	assert_int_equal(store_commit(&t), STORE_OK);
	/* it checkpointed: a newer header, and data.mdb is durable now */
	jr = slurp(live, JOURNAL_FILE);
	assert_true(memcmp(jr.p, hdr.p, 2 * JOURNAL_BLOCK) != 0);
	free(jr.p);
	ck = slurp(live, "data.mdb");
	for (int i = 0; i < 6; i++)
		dirty += (size_t)random_txn(st, m, &r);
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE);
	crash_data(crash, &ck, &data, &r, 2);
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	rs = open_j(crash, 1);
	assert_model(rs, m, "after a big transaction", 0);
	assert_int_equal(store_replayed(rs), dirty);
	store_close(&rs);
	store_close(&st);
	free(ck.p);
	free(hdr.p);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

/* --- clean stops, downgrade and upgrade ------------------------------------
 */

/* As an older cdhtd would: LMDB alone, its own syncs; put key "older" into
 * TBL_META. */
static void
older_release_writes(const char *dir, int ntxn)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {5, "older"}, v = {3, "yes"};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, TBL_COUNT), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)FX_MAP_MB << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	for (int i = 0; i < ntxn; i++) {
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(
		    mdb_dbi_open(txn, store_table_name(TBL_META), 0, &dbi), 0);
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	mdb_env_close(env);
}

static int
has_older(struct store *st)
{
	struct store_txn *t = store_begin(st, 0);
	const void *v;
	size_t vl;
	int rc = store_get(t, TBL_META, "older", 5, &v, &vl);

	store_abort(&t);
	return rc == STORE_OK;
}

static void
test_clean_stop(void **state)
{
	char dir[64];
	uint64_t r = 7;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st;
	struct blob jr;
	int s;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(dir, "jclean"), 0);
	st = open_j(dir, 1);
	for (int i = 0; i < 15; i++)
		random_txn(st, m, &r);
	store_close(&st);
	/* the newest header says clean, no record follows it */
	jr = slurp(dir, JOURNAL_FILE);
	s = newest_slot(&jr);
	assert_int_equal(le32(jr.p + s * JOURNAL_BLOCK + 8), JOURNAL_VERSION);
	assert_int_equal(le32(jr.p + s * JOURNAL_BLOCK + 12), 1);
	{
		uint32_t len;

		assert_int_equal(last_record(&jr, &len), -1);
	}
	free(jr.p);
	/* an older cdhtd opens it and writes; this one opens after it */
	older_release_writes(dir, 3);
	st = open_j(dir, 1);
	assert_int_equal(store_replayed(st), 0);
	assert_true(has_older(st));
	assert_model(st, m, "after an older release", 0);
	store_close(&st);
	free(m);
	fx_rm_dir(dir);
}

/* --- a checkpoint whose header write failed --------------------------------
 */

/* Set: the next fdatasync of a file named "journal" syncs, then reports
 * EIO (the header reached the disk; the caller cannot know it). */
static int fail_journal_sync;

static int
is_journal(int fd)
{
	char link[64], path[4200];
	ssize_t n;
	size_t jl = strlen(JOURNAL_FILE);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= (ssize_t)jl)
		return 0;
	path[n] = '\0';
	return path[n - (ssize_t)jl - 1] == '/' &&
	       strcmp(path + n - (ssize_t)jl, JOURNAL_FILE) == 0;
}

/* Interposes libc's for journal.c (linked into this executable). */
int
fdatasync(int fd)
{
	int rc = (int)syscall(SYS_fdatasync, fd);

	if (rc == 0 && fail_journal_sync && is_journal(fd)) {
		fail_journal_sync = 0;
		errno = EIO;
		return -1;
	}
	return rc;
}

static void
test_failed_header(void **state)
{
	char live[64], crash[64];
	uint64_t r = 23;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs = NULL;
	struct store_opts o = {FX_MAP_MB, 4, 3600 * 1000};
	struct blob data, jr;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(live, "jfhdr"), 0);
	assert_int_equal(fx_tmpdir(crash, "jfhdrc"), 0);
	st = open_j(live, 4);
	for (int i = 0; i < 10; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK);
	for (int i = 0; i < 5; i++)
		random_txn(st, m, &r);
	fail_journal_sync = 1;
	assert_int_equal(store_checkpoint(st), STORE_EIO);
	assert_int_equal(fail_journal_sync, 0); /* the header's sync */
	/* acknowledged after the failed checkpoint */
	for (int i = 0; i < 8; i++)
		random_txn(st, m, &r);
	/* kill -9: both files as they are */
	data = slurp(live, "data.mdb");
	jr = slurp(live, JOURNAL_FILE);
	spill(crash, "data.mdb", data.p, data.n);
	spill(crash, JOURNAL_FILE, jr.p, jr.n);
	assert_int_equal(store_open_opts(crash, &o, &rs), STORE_OK);
	assert_model(rs, m, "after a failed header write", 0);
	store_close(&rs);
	store_close(&st);
	free(data.p);
	free(jr.p);
	free(m);
	fx_rm_dir(live);
	fx_rm_dir(crash);
}

/* --- refusals --------------------------------------------------------------
 */

static void
test_refusals(void **state)
{
	char dir[64], crash[64], dest[80];
	uint64_t r = 11;
	struct model *m = calloc(1, sizeof(*m));
	struct store *st, *rs = NULL;
	struct store_opts o = {FX_MAP_MB, 4, 3600 * 1000};
	struct blob data, jr, before, after;

	assert_non_null(m);
	assert_int_equal(fx_tmpdir(dir, "jref"), 0);
	assert_int_equal(fx_tmpdir(crash, "jrefc"), 0);
	st = open_j(dir, 4);
	for (int i = 0; i < 10; i++)
		random_txn(st, m, &r);
	assert_int_equal(store_checkpoint(st), STORE_OK);
	for (int i = 0; i < 5; i++)
		random_txn(st, m, &r);
	data = slurp(dir, "data.mdb");
	jr = slurp(dir, JOURNAL_FILE);
	spill(crash, "data.mdb", data.p, data.n);
	spill(crash, JOURNAL_FILE, jr.p, jr.n);

	/* a backup of an unclean directory no cdhtd runs on: refused */
	snprintf(dest, sizeof(dest), "%s/bk", crash);
	assert_int_equal(store_backup(crash, dest), STORE_EIO);
	assert_false(exists(dest, "data.mdb"));

	/* an older cdhtd wrote to it after the unclean stop: refused,
	 * data.mdb untouched */
	older_release_writes(crash, 6);
	before = slurp(crash, "data.mdb");
	assert_int_equal(store_open_opts(crash, &o, &rs), STORE_CORRUPT);
	assert_null(rs);
	after = slurp(crash, "data.mdb");
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.p, before.p, before.n);

	/* a cleanly stopped one backs up */
	store_close(&st);
	snprintf(dest, sizeof(dest), "%s/bk2", dir);
	assert_int_equal(store_backup(dir, dest), STORE_OK);
	free(data.p);
	free(jr.p);
	free(before.p);
	free(after.p);
	free(m);
	fx_rm_dir(dest);
	fx_rm_dir(dir);
	fx_rm_dir(crash);
}

/* --- the conf key ----------------------------------------------------------
 */

static int
conf_with(const char *dir, const char *line, struct conf *c)
{
	char path[128];
	FILE *fp;
	int rc, saved = dup(2), devnull = open("/dev/null", O_WRONLY);

	snprintf(path, sizeof(path), "%s/cdhtd.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
	    "[node]\nid = 04108\nlevel = commune\nname = N\ndata_dir = /d\n%s\n"
	    "[http]\nlisten = 127.0.0.1:1\ntokens = /t\n",
	    line);
	fclose(fp);
	fflush(stderr);
	dup2(devnull, 2);
	rc = conf_load(path, c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	unlink(path);
	return rc;
}

static void
test_conf_key(void **state)
{
	char dir[64];
	struct conf c;
	static const struct {
		const char *line;
		int errors;
		uint32_t mb;
	} cases[] = {
	    {"", 0, 64},
	    {"journal_mb = 0", 0, 0},
	    {"journal_mb = 1", 0, 1},
	    {"journal_mb = 4096", 0, 4096},
	    {"journal_mb = 4097", 1, 0},
	    {"journal_mb = -1", 1, 0},
	    {"journal_mb = 8x", 1, 0},
	};

	assert_int_equal(fx_tmpdir(dir, "jconf"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = conf_with(dir, cases[i].line, &c);

		if ((rc != 0) != cases[i].errors)
			fail_msg("\"%s\": %d errors", cases[i].line, rc);
		if (rc == 0)
			assert_int_equal(c.journal_mb, cases[i].mb);
		conf_free(&c);
	}
	assert_int_equal(STORE_JOURNAL_MB, 64);
	assert_int_equal(STORE_JOURNAL_MB_MAX, 4096);
	fx_rm_dir(dir);
}

/* CRC32C bit by bit, independent of journal.c's. */
static uint32_t
crc_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* The checksum the file uses: the standard check value, every length and
 * alignment up to 80 bytes, and a checksum continued over two parts. */
static void
test_crc32c(void **state)
{
	unsigned char b[96];
	uint64_t r = 7;

	(void)state;
	assert_int_equal(journal_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(journal_crc32c_table(0, "123456789", 9), 0xE3069283u);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)rnd(&r, 256);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 80; n++) {
			uint32_t want = crc_bitwise(0, b + off, n);

			assert_int_equal(journal_crc32c(0, b + off, n), want);
			assert_int_equal(
			    journal_crc32c_table(0, b + off, n), want);
			assert_int_equal(
			    journal_crc32c(journal_crc32c(0, b + off, n / 3),
			        b + off + n / 3, n - n / 3),
			    want);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_power_loss),
	    cmocka_unit_test(test_torn_record),
	    cmocka_unit_test(test_damaged_header),
	    cmocka_unit_test(test_both_headers_damaged),
	    cmocka_unit_test(test_journal_off),
	    cmocka_unit_test(test_big_txn),
	    cmocka_unit_test(test_clean_stop),
	    cmocka_unit_test(test_failed_header),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_conf_key),
	    cmocka_unit_test(test_crc32c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
