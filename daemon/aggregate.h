/*
 * aggregate.h: the replicated state of a node's subtree, kept in the store.
 *
 * Each child's reports are mirrored per (via child, origin, year) with the
 * highest version seen; per (origin, year) the report with the highest
 * version across children wins (ties: lowest child id).  Totals for every
 * node below are sums of winners, updated incrementally along the winner's
 * path (O(depth)), in the same transaction.  Every change of a winner
 * queues (origin, year) in the outbox (outbox.c) for the parent.
 * See proto/PROTOCOL.md for the protocol these functions implement.
 */
#ifndef CDHT_AGGREGATE_H
#define CDHT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "counters.h"
#include "store.h"
#include "wire.h"

enum agg_result { AGG_APPLIED = 1, AGG_IGNORED = 0, AGG_REFUSED = -1 };

/*
 * Parent side: apply one report r received from child `via` (the id bound
 * to its CURVE key).  Refused (logged) when r.path[0] != via, when the path
 * contains this node, when the origin is another configured child, when
 * the path is full, or when it runs through a unit held via another child.
 * Each origin is held (pinned) via the child it was first reported through;
 * a report of it via another child is refused too (an alarm, counted in
 * aggregate_claims_refused) but kept, uncounted, so that it takes over
 * once the holder withdraws every year of the origin (a move).  Equal or
 * older versions are ignored.
 */
int aggregate_apply(struct store_txn *t, const struct conf *c, const char *via,
    const struct wire_report *r, int64_t now);

/* Claims refused since start: reports of an origin held via another
 * child (for /metrics). */
uint64_t aggregate_claims_refused(void);

/* Reports of a new unit refused since start because their child already
 * holds [downlink] max_origins_per_child units (for /metrics). */
uint64_t aggregate_origins_over_cap(void);

/* Parent side: child `via` no longer holds (origin, year): forget it (and
 * release the origin when via held it and holds no year of it now). */
int aggregate_remove(struct store_txn *t, const struct conf *c, const char *via,
    const char *origin, int year);

/*
 * Parent side, on HELLO from `via` with inventory inv[0..n): forget every
 * mirrored (origin, year) of via that inv lacks; fill welcome->keys with what
 * the parent wants (absent or older), welcome->own with the versions held for
 * via's own origin, welcome->id with this node's id.  welcome's arrays are
 * malloc'd (free with wire_msg_free).
 */
int aggregate_hello(struct store_txn *t, const struct conf *c, const char *via,
    const struct wire_key *inv, size_t n, struct wire_msg *welcome);

/* Start-up: forget reports mirrored from children no longer configured
 * (the kept copies of retired units excepted: call aggregate_retire
 * first; and offline units' reports, which no child sends). */
int aggregate_drop_unconfigured(struct store_txn *t, const struct conf *c);

/*
 * Start-up and reload: apply the [downlink] retired file (PROTOCOL.md
 * 8.8).  For every listed unit R that is no configured child, every copy
 * via R (R's own reports and those of the units it relayed) of a year up
 * to the unit's last year (its own line's, else R's) is re-issued with a
 * version of this node's clock and counter retired = that year (once:
 * idempotent), and every later year is dropped.  A unit held via R that
 * is a configured child again (a reused code) is let go.  Adopted copies
 * win whatever the pins say and refuse every later report of their key.
 */
int aggregate_retire(struct store_txn *t, const struct conf *c);

/*
 * Is origin retired, as this node knows it: from its retired file (last
 * year and successor, "" for "-"), else from counter retired and field
 * successor of its winning reports (the copy of the highest last year)?
 * 1 or 0; successor is "" when none is named.
 */
int aggregate_retired_of(struct store_txn *t, const struct conf *c,
    const char *origin, int *last_year, char successor[WIRE_MAX_ID + 1]);

/* Call cb for every winner (origin, year, version), in key order; cb
 * returns non-zero to stop.  Returns the sticky error. */
int aggregate_winners(struct store_txn *t,
    int (*cb)(void *arg, const char *origin, int year, uint64_t version),
    void *arg);

/* Totals for node (this node: its local data plus everything below). */
int aggregate_totals(struct store_txn *t, const struct conf *c,
    const char *node, int year, struct cdht_counters *out);

/* Tests: how many totals a write transaction keeps in memory before it
 * writes them out early (1..65536; 0: the default, 65536; -1: none, every
 * change written at once, as without the cache). */
void aggregate_totals_cache_max(long n);

/* One node of the subtree as known from the winners' paths. */
struct agg_node {
	char id[WIRE_MAX_ID + 1];
	char level[16];
	char name[WIRE_MAX_NAME + 1];
	char parent[WIRE_MAX_ID + 1];
	int depth;           /* 1 = direct child */
	uint64_t version;    /* highest winning version, any year */
	int64_t last_report; /* latest updated_at, any year */
	int ncounters;       /* counters its latest winning report carried */
};

/* Every node below this one (malloc'd array, caller frees), in key order. */
int aggregate_nodes(struct store_txn *t, struct agg_node **out, size_t *n);

/* Schema 1 -> 3 of this module's tables (migrate.c): the raw structs of
 * release 0.1.0 rewritten in this release's formats. */
int aggregate_migrate_v1(struct store_txn *t, const struct conf *c);

/* Schema 2 -> 3 (migrate.c): every TBL_MIRROR and TBL_WIN value rewritten
 * in format 3 (filed_by "" for a format-2 value); other tables keep their
 * format 2. */
int aggregate_migrate_v2(struct store_txn *t);

/* Schema 3 -> 4 (migrate.c, before every other step): TBL_WIN and
 * TBL_TOTALS keys move from origin 0 year(2) to year(2) origin, values
 * unchanged (a key of schema 1 has schema 3's form too). */
int aggregate_migrate_v3(struct store_txn *t);

/*
 * Offline units (history.c: units that never run a node, whose imported
 * results this node issues itself).  An offline unit's report of a year
 * is a copy of origin = unit, path [unit], held via the unit itself
 * (pinned to it), with a version of this node's clock: it wins, counts
 * here and goes upward as [self, unit] like a child's unit.
 * aggregate_drop_unconfigured keeps them (history_offline_has).
 */
enum agg_offline {
	AGG_OFFLINE_OK = 0,    /* may be an offline unit here */
	AGG_OFFLINE_SELF,      /* this node */
	AGG_OFFLINE_CHILD,     /* a configured child */
	AGG_OFFLINE_HELD,      /* held via a child (*holder) */
	AGG_OFFLINE_RETIRED,   /* listed in [downlink] retired */
	AGG_OFFLINE_ERROR = -1 /* a store error (store_txn_err) */
};

/* May unit be an offline unit of this node?  holder gets the child it is
 * held via for AGG_OFFLINE_HELD. */
enum agg_offline aggregate_offline_check(struct store_txn *t,
    const struct conf *c, const char *unit, char holder[WIRE_MAX_ID + 1]);

/* Issue (create or replace) the offline unit's report of year with
 * counters cn (a new version of this node's clock); checked first with
 * aggregate_offline_check.  STORE_OK or a store error. */
int aggregate_offline_put(struct store_txn *t, const struct conf *c,
    const char *unit, int year, const char *level, const char *name,
    const struct cdht_counters *cn, int64_t now);

/* Remove the offline unit's report of year (removed upward); the unit is
 * released with its last year.  STORE_NOTFOUND when there is none. */
int aggregate_offline_remove(
    struct store_txn *t, const struct conf *c, const char *unit, int year);

/* The winning report of (origin, year), filed_by included, or
 * STORE_NOTFOUND. */
int aggregate_report_of(
    struct store_txn *t, const char *origin, int year, struct wire_report *out);

/* A unit's winning report of a year as the views show it: its counters
 * (ncounters of them reported, the rest zero), its update time and its
 * filer; the report's other fields are not decoded. */
struct agg_view_report {
	struct cdht_counters c;
	unsigned ncounters;
	int64_t updated_at;
	char filed_by[WIRE_MAX_WHO + 1];
};

/* The winning report of (origin, year) into *out: STORE_OK,
 * STORE_NOTFOUND, or a store error (an undecodable value: STORE_CORRUPT,
 * logged and sticky, as aggregate_report_of). */
int aggregate_view_report(struct store_txn *t, const char *origin, int year,
    struct agg_view_report *out);

/* The totals of node, a unit below this node (this node's own, with its
 * local report: aggregate_totals), for year into *out, zero when it has
 * none: STORE_OK or a store error. */
int aggregate_view_totals(
    struct store_txn *t, const char *node, int year, struct cdht_counters *out);

/* 1 when node's totals (node: a unit below this node) of some year
 * RULES_YEAR_MIN..RULES_YEAR_MAX count retired, 0 when none does, -1 on
 * a store error or in a write transaction (ask aggregate_totals then).
 * Its ten years' totals, read without the write path's decoding. */
int aggregate_view_retired(struct store_txn *t, const char *node);

#endif
