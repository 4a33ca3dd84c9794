/*
 * fuzz_reports.c: libFuzzer target for the parent's apply path of a REPORTS
 * batch (daemon/aggregate.h), on a real LMDB store in a temporary directory.
 *
 * The input is one wire message; anything but a valid REPORTS message is
 * skipped (the daemon drops it before any state change).  This node is
 * province "14" with children "1401" and "1402" (listed out of id order, so
 * ties must go to the lowest id, not the first listed).  The batch's seq
 * chooses how it is applied, so the fuzzer explores every way:
 *   bit 0: the sending child (0: "1401", 1: "1402");
 *   bit 1: also apply the batch as relayed by the other child (path[0]
 *          replaced; a child's own report becomes the other child's own);
 *   bit 2: commit, and check again in a new transaction (else abort).
 * In one write transaction, as downlink.c does: every report through
 * aggregate_apply, then every removal through aggregate_remove; then the
 * reports once more (a re-sent batch); then (bit 1) the other child's copy;
 * then, at the end, every copy removed again.
 *
 * A model kept here (the copies per child, PROTOCOL.md 8.3) checks:
 *  - agg-refuse: a report is refused exactly when 8.3 rule 1 says (path not
 *    from the sender, through this node or another child, 8 ids long, a
 *    counter above 2^40, a version more than 30 days ahead, through a unit
 *    or of an origin held via the other child, 8.7);
 *  - agg-version: a copy is replaced exactly when the version is higher, or
 *    equal with more counters; a re-sent batch changes nothing;
 *  - agg-winner: the winner of every (origin, year) (aggregate_winners,
 *    aggregate_report_of) is the copy via the child the origin is held
 *    through (8.7: the first to report it, until it lets go of every year;
 *    then the other child if it kept a copy), with its counters, path,
 *    filed_by and successor;
 *  - agg-totals: the totals of this node, and of every node in any path,
 *    equal the sum of the winners through it (aggregate_totals), and no
 *    counter is negative;
 *  - agg-nodes: the node directory (aggregate_nodes) lists exactly the
 *    winners' origins, at depths 1..8;
 *  - agg-store: no call fails but for a full map, and nothing stored is
 *    undecodable (STORE_CORRUPT); removing every copy leaves no winner, no
 *    node and zero totals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "conf.h"
#include "fuzz_common.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "wire.h"

#define SELF    "14"
#define NOW     1800000000
#define MAP_MB  32
#define MAX_BND (INT64_C(1) << 40)

static char dir[128];
static struct store *st;
static struct conf cf;
static struct conf_child kids[2];
static const char *const via_of[2] = {"1401", "1402"};

/* One copy the model holds: report r as kept via child via. */
struct copy {
	int via;
	struct wire_report r;
};

static struct model {
	struct copy *v;
	size_t n, cap;
	/* every id seen in the batch (paths, origins), for the totals */
	char (*ids)[WIRE_MAX_ID + 1];
	size_t nids, capids;
	unsigned years; /* bit (year - VALID_REPORT_YEAR_MIN) */
	/* pins: origin -> the child it is held via (PROTOCOL.md 8.7) */
	struct pin {
		char origin[WIRE_MAX_ID + 1];
		int via;
	} * pins;
	size_t npins, cappins;
} md;

/* The child origin is held via, or -1. */
static int
model_pin(const char *origin)
{
	for (size_t i = 0; i < md.npins; i++)
		if (strcmp(md.pins[i].origin, origin) == 0)
			return md.pins[i].via;
	return -1;
}

static void
set_pin(const char *origin, int via)
{
	for (size_t i = 0; i < md.npins; i++)
		if (strcmp(md.pins[i].origin, origin) == 0) {
			if (via < 0)
				md.pins[i] = md.pins[--md.npins];
			else
				md.pins[i].via = via;
			return;
		}
	if (via < 0)
		return;
	if (md.npins == md.cappins) {
		md.cappins = md.cappins ? 2 * md.cappins : 64;
		if ((md.pins = realloc(
		         md.pins, md.cappins * sizeof(*md.pins))) == NULL)
			abort();
	}
	snprintf(
	    md.pins[md.npins].origin, sizeof(md.pins[0].origin), "%s", origin);
	md.pins[md.npins++].via = via;
}

static void
cleanup(void)
{
	store_close(&st);
	fuzz_rm_dir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(0);
	fuzz_tmpdir(dir, "reports");
	atexit(cleanup);
	if (store_open(dir, MAP_MB, &st) != STORE_OK)
		abort();
	strcpy(cf.id, SELF);
	cf.level = LEVEL_PROVINCE;
	strcpy(cf.name, "T\xe1\xbb\x89nh S\xc6\xa1n La");
	rules_targets_default(&cf.targets);
	strcpy(kids[0].id, "1402");
	strcpy(kids[1].id, "1401");
	memset(kids[0].public_key, 'a', 40);
	memset(kids[1].public_key, 'b', 40);
	strcpy(kids[0].name, "Huy\xe1\xbb\x87n B");
	strcpy(kids[1].name, "Huy\xe1\xbb\x87n A");
	cf.children = kids;
	cf.nchildren = 2;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The model. */

static void
add_id(const char *id)
{
	for (size_t i = 0; i < md.nids; i++)
		if (strcmp(md.ids[i], id) == 0)
			return;
	if (md.nids == md.capids) {
		md.capids = md.capids ? 2 * md.capids : 64;
		if ((md.ids = realloc(md.ids, md.capids * sizeof(*md.ids))) ==
		    NULL)
			abort();
	}
	snprintf(md.ids[md.nids++], sizeof(md.ids[0]), "%s", id);
}

static void
note_report(const struct wire_report *r)
{
	add_id(r->origin);
	for (int i = 0; i < r->path_len; i++)
		add_id(r->path[i]);
	if (r->year >= VALID_REPORT_YEAR_MIN && r->year <= RULES_YEAR_MAX)
		md.years |= 1u << (r->year - VALID_REPORT_YEAR_MIN);
}

static struct copy *
find_copy(int via, const char *origin, int year)
{
	for (size_t i = 0; i < md.n; i++)
		if (md.v[i].via == via && md.v[i].r.year == year &&
		    strcmp(md.v[i].r.origin, origin) == 0)
			return &md.v[i];
	return NULL;
}

static void
put_copy(int via, const struct wire_report *r)
{
	struct copy *c = find_copy(via, r->origin, r->year);

	if (c == NULL) {
		if (md.n == md.cap) {
			md.cap = md.cap ? 2 * md.cap : 64;
			if ((md.v = realloc(md.v, md.cap * sizeof(*md.v))) ==
			    NULL)
				abort();
		}
		c = &md.v[md.n++];
	}
	c->via = via;
	c->r = *r;
}

static void
del_copy(int via, const char *origin, int year)
{
	struct copy *c = find_copy(via, origin, year);

	if (c != NULL)
		*c = md.v[--md.n];
}

/* The model's winner of (origin, year): the copy via the child the origin
 * is held through (one copy per child and key). */
static const struct copy *
model_winner(const char *origin, int year)
{
	int pin = model_pin(origin);

	return pin < 0 ? NULL : find_copy(pin, origin, year);
}

static int
holds_any(int via, const char *origin)
{
	for (size_t i = 0; i < md.n; i++)
		if (md.v[i].via == via && strcmp(md.v[i].r.origin, origin) == 0)
			return 1;
	return 0;
}

/* PROTOCOL.md 8.3 rule 1, written from the document. */
static const char *
refusal(const char *via, const struct wire_report *r)
{
	if (strcmp(r->path[0], via) != 0)
		return "path not from the sender";
	if (strcmp(r->path[r->path_len - 1], r->origin) != 0)
		return "path does not end at the origin";
	if (r->path_len >= WIRE_MAX_PATH)
		return "path of 8 ids";
	for (int i = 0; i < r->path_len; i++) {
		if (strcmp(r->path[i], SELF) == 0)
			return "path through this node";
		if (i > 0 && (strcmp(r->path[i], "1401") == 0 ||
		                 strcmp(r->path[i], "1402") == 0))
			return "path through another child";
	}
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		if (r->counters.v[i] > MAX_BND)
			return "counter above 2^40";
	if (r->version > (uint64_t)NOW * 1000000 + UINT64_C(2592000000000))
		return "version more than 30 days ahead";
	for (int i = 1; i < r->path_len - 1; i++) {
		int pin = model_pin(r->path[i]);

		if (pin >= 0 && strcmp(via_of[pin], via) != 0)
			return "path through a unit held via the other child";
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Driving aggregate.c. */

/* Whether t is still healthy; a full map ends the run quietly, anything
 * else is a finding. */
static int
healthy(struct store_txn *t, const char *where)
{
	int err = store_txn_err(t);

	FUZZ_CHECK(err == STORE_OK || err == STORE_FULL || err == STORE_ENOMEM,
	    "agg-store", "%s: %s", where, store_strerror(err));
	return err == STORE_OK;
}

/* Apply r via child vi, checking the outcome against the model;
 * resend = this exact report was applied before. */
static int
apply(struct store_txn *t, int vi, const struct wire_report *r, int resend)
{
	const char *why = refusal(via_of[vi], r);
	const struct copy *cur = find_copy(vi, r->origin, r->year);
	int want, rc, newer, pin = why == NULL ? model_pin(r->origin) : -1;

	newer = cur == NULL || r->version > cur->r.version ||
	        (r->version == cur->r.version &&
	            wire_ncounters(r) > wire_ncounters(&cur->r));
	want = why != NULL ? AGG_REFUSED : newer ? AGG_APPLIED : AGG_IGNORED;
	if (why == NULL && pin < 0)
		set_pin(r->origin, vi);
	else if (why == NULL && pin != vi) {
		/* held via the other child: kept, uncounted, refused */
		why = "origin held via the other child";
		want = AGG_REFUSED;
		if (newer)
			put_copy(vi, r);
	}
	rc = aggregate_apply(t, &cf, via_of[vi], r, NOW);
	if (!healthy(t, "aggregate_apply"))
		return -1;
	FUZZ_CHECK((rc == AGG_REFUSED) == (want == AGG_REFUSED), "agg-refuse",
	    "%s/%d v%llu via %s: %d, model says %s", r->origin, r->year,
	    (unsigned long long)r->version, via_of[vi], rc,
	    why ? why : "accept");
	FUZZ_CHECK(rc == want || want == AGG_REFUSED || rc == AGG_REFUSED,
	    "agg-version", "%s/%d v%llu via %s%s: %d, want %d", r->origin,
	    r->year, (unsigned long long)r->version, via_of[vi],
	    resend ? " (re-sent)" : "", rc, want);
	FUZZ_CHECK(!resend || rc != AGG_APPLIED, "agg-version",
	    "re-sent %s/%d v%llu via %s applied again", r->origin, r->year,
	    (unsigned long long)r->version, via_of[vi]);
	if (rc == AGG_APPLIED)
		put_copy(vi, r);
	return 0;
}

static int
remove_one(struct store_txn *t, int vi, const char *origin, int year)
{
	int rc = aggregate_remove(t, &cf, via_of[vi], origin, year);

	if (!healthy(t, "aggregate_remove"))
		return -1;
	FUZZ_CHECK(rc == STORE_OK, "agg-store", "aggregate_remove %s/%d: %d",
	    origin, year, rc);
	int had = find_copy(vi, origin, year) != NULL;

	del_copy(vi, origin, year);
	/* the holder let go of every year: the other child's kept copy (if
	 * any) takes over */
	if (had && model_pin(origin) == vi && !holds_any(vi, origin))
		set_pin(origin, holds_any(!vi, origin) ? !vi : -1);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Checking the store against the model. */

struct winners {
	struct wire_key *k;
	size_t n, cap;
};

static int
winner_cb(void *arg, const char *origin, int year, uint64_t version)
{
	struct winners *w = arg;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		if ((w->k = realloc(w->k, w->cap * sizeof(*w->k))) == NULL)
			abort();
	}
	memset(&w->k[w->n], 0, sizeof(w->k[0]));
	snprintf(w->k[w->n].origin, sizeof(w->k[0].origin), "%s", origin);
	w->k[w->n].year = (uint16_t)year;
	w->k[w->n].version = version;
	w->n++;
	return 0;
}

static int
on_path(const struct wire_report *r, const char *id)
{
	for (int i = 0; i < r->path_len; i++)
		if (strcmp(r->path[i], id) == 0)
			return 1;
	return 0;
}

static void
check_state(struct store_txn *t, const char *when)
{
	struct winners w = {0};
	struct agg_node *nodes = NULL;
	size_t nn = 0, nwant = 0;
	int rc;

	/* winners: every one is the model's, and the model has no other */
	rc = aggregate_winners(t, winner_cb, &w);
	FUZZ_CHECK(
	    rc == STORE_OK, "agg-store", "%s: aggregate_winners %d", when, rc);
	for (size_t i = 0; i < w.n; i++) {
		const struct copy *want =
		    model_winner(w.k[i].origin, w.k[i].year);
		struct wire_report got;

		if (!FUZZ_CHECK(want != NULL, "agg-winner",
		        "%s: %s/%d has a winner the model lacks", when,
		        w.k[i].origin, w.k[i].year))
			continue;
		rc = aggregate_report_of(t, w.k[i].origin, w.k[i].year, &got);
		if (!FUZZ_CHECK(rc == STORE_OK, "agg-store",
		        "%s: aggregate_report_of %s/%d: %d", when,
		        w.k[i].origin, w.k[i].year, rc))
			continue;
		FUZZ_CHECK(
		    got.version == want->r.version &&
		        w.k[i].version == want->r.version &&
		        wire_ncounters(&got) == wire_ncounters(&want->r) &&
		        got.path_len == want->r.path_len &&
		        memcmp(got.path, want->r.path, sizeof(got.path)) == 0 &&
		        memcmp(&got.counters, &want->r.counters,
		            sizeof(got.counters)) == 0 &&
		        strcmp(got.filed_by, want->r.filed_by) == 0 &&
		        strcmp(got.successor, want->r.successor) == 0,
		    "agg-winner",
		    "%s: %s/%d: winner v%llu via %s, model says v%llu via %s",
		    when, w.k[i].origin, w.k[i].year,
		    (unsigned long long)got.version, got.path[0],
		    (unsigned long long)want->r.version, via_of[want->via]);
	}
	for (size_t i = 0; i < md.n; i++)
		if (model_winner(md.v[i].r.origin, md.v[i].r.year) == &md.v[i])
			nwant++;
	FUZZ_CHECK(w.n == nwant, "agg-winner", "%s: %zu winners, model %zu",
	    when, w.n, nwant);

	/* totals of this node and of every id seen, for every year seen */
	add_id(SELF);
	for (int y = VALID_REPORT_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		if (!(md.years & (1u << (y - VALID_REPORT_YEAR_MIN))))
			continue;
		for (size_t i = 0; i < md.nids; i++) {
			struct cdht_counters got, want;
			int self = strcmp(md.ids[i], SELF) == 0;

			memset(&want, 0, sizeof(want));
			for (size_t j = 0; j < md.n; j++) {
				const struct copy *c = &md.v[j];
				if (c->r.year == y &&
				    model_winner(c->r.origin, y) == c &&
				    (self || on_path(&c->r, md.ids[i])))
					cdht_counters_add(
					    &want, &c->r.counters, +1);
			}
			rc = aggregate_totals(t, &cf, md.ids[i], y, &got);
			if (!FUZZ_CHECK(rc == STORE_OK, "agg-store",
			        "%s: aggregate_totals %s/%d: %d", when,
			        md.ids[i], y, rc))
				continue;
			for (int k = 0; k < CDHT_NCOUNTERS; k++) {
				FUZZ_CHECK(got.v[k] >= 0, "agg-totals",
				    "%s: %s/%d %s = %lld < 0", when, md.ids[i],
				    y, cdht_counter_names[k],
				    (long long)got.v[k]);
				FUZZ_CHECK(got.v[k] == want.v[k], "agg-totals",
				    "%s: totals of %s/%d: %s = %lld, sum of "
				    "winners %lld",
				    when, md.ids[i], y, cdht_counter_names[k],
				    (long long)got.v[k], (long long)want.v[k]);
			}
		}
	}

	/* the node directory: exactly the winners' origins */
	rc = aggregate_nodes(t, &nodes, &nn);
	FUZZ_CHECK(
	    rc == STORE_OK, "agg-store", "%s: aggregate_nodes %d", when, rc);
	for (size_t i = 0; i < nn; i++) {
		int found = 0;
		for (size_t j = 0; j < w.n && !found; j++)
			found = strcmp(w.k[j].origin, nodes[i].id) == 0;
		FUZZ_CHECK(found && nodes[i].depth >= 1 &&
		               nodes[i].depth <= WIRE_MAX_PATH,
		    "agg-nodes", "%s: node %s (depth %d) is no winner's origin",
		    when, nodes[i].id, nodes[i].depth);
	}
	for (size_t j = 0; j < w.n; j++) {
		int found = 0;
		for (size_t i = 0; i < nn && !found; i++)
			found = strcmp(w.k[j].origin, nodes[i].id) == 0;
		FUZZ_CHECK(found, "agg-nodes",
		    "%s: winner %s/%d missing from the node directory", when,
		    w.k[j].origin, w.k[j].year);
	}
	free(nodes);
	free(w.k);
}

/* ---------------------------------------------------------------------- */

/* Remove every copy the model holds (the store is empty after). */
static int
remove_all(struct store_txn *t)
{
	while (md.n > 0) {
		struct copy c = md.v[md.n - 1];
		if (remove_one(t, c.via, c.r.origin, c.r.year) != 0)
			return -1;
	}
	return 0;
}

/* After a failed commit the store may hold anything: start afresh. */
static void
reset_store(void)
{
	store_close(&st);
	fuzz_rm_dir(dir);
	fuzz_tmpdir(dir, "reports");
	if (store_open(dir, MAP_MB, &st) != STORE_OK)
		abort();
}

static int
run(struct store_txn **t, const struct wire_msg *m)
{
	int v1 = (int)(m->seq & 1), v2 = !v1, commit = (m->seq & 4) != 0;

	for (size_t i = 0; i < m->nreports; i++)
		if (apply(*t, v1, &m->reports[i], 0) != 0)
			return -1;
	for (size_t i = 0; i < m->nreports; i++)
		if (apply(*t, v1, &m->reports[i], 1) != 0)
			return -1;
	for (size_t i = 0; i < m->nkeys; i++)
		if (remove_one(*t, v1, m->keys[i].origin, m->keys[i].year) != 0)
			return -1;
	if (m->seq & 2)
		for (size_t i = 0; i < m->nreports; i++) {
			struct wire_report r = m->reports[i];

			snprintf(
			    r.path[0], sizeof(r.path[0]), "%s", via_of[v2]);
			if (r.path_len == 1)
				snprintf(r.origin, sizeof(r.origin), "%s",
				    via_of[v2]);
			note_report(&r);
			if (apply(*t, v2, &r, 0) != 0)
				return -1;
		}
	check_state(*t, "after the batch");
	if (commit) {
		if (store_commit(t) != STORE_OK) {
			reset_store();
			return -1;
		}
		if ((*t = store_begin(st, 1)) == NULL)
			abort();
		check_state(*t, "after commit");
	}
	if (remove_all(*t) != 0)
		return -1;
	check_state(*t, "after removing every copy");
	FUZZ_CHECK(md.n == 0, "agg-store", "copies left");
	if (commit) {
		if (store_commit(t) != STORE_OK) {
			reset_store();
			return -1;
		}
		if ((*t = store_begin(st, 0)) == NULL)
			abort();
		check_state(*t, "after committing the removals");
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	struct store_txn *t;

	if (wire_decode((const char *)data, size, &m) != WIRE_OK)
		return 0;
	if (m.type != WIRE_REPORTS) {
		wire_msg_free(&m);
		return 0;
	}
	md.n = 0;
	md.nids = 0;
	md.years = 0;
	md.npins = 0;
	add_id(SELF);
	add_id("1401");
	add_id("1402");
	for (size_t i = 0; i < m.nreports; i++)
		note_report(&m.reports[i]);
	for (size_t i = 0; i < m.nkeys; i++) {
		add_id(m.keys[i].origin);
		if (m.keys[i].year >= VALID_REPORT_YEAR_MIN &&
		    m.keys[i].year <= RULES_YEAR_MAX)
			md.years |= 1u
			            << (m.keys[i].year - VALID_REPORT_YEAR_MIN);
	}
	if ((t = store_begin(st, 1)) == NULL)
		abort();
	if (run(&t, &m) != 0 && (m.seq & 4)) {
		/* stopped after a commit: what it stored would stay */
		store_abort(&t);
		reset_store();
	}
	store_abort(&t);
	wire_msg_free(&m);
	return 0;
}
