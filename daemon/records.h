/*
 * records.h: this node's own data in the store: assessments (with the
 * outstanding rule across years), each year's denominators, the node's local
 * report (counters + version) kept incrementally in the same transaction as
 * every write, and the audit trail.
 */
#ifndef CDHT_RECORDS_H
#define CDHT_RECORDS_H

#include <stdint.h>

#include "counters.h"
#include "rules.h"
#include "store.h"

#define RECORDS_NPOP 12 /* denominators: counters adults..members_trained */

/* This node's report of its own data for one year (TBL_LOCAL value). */
struct local_report {
	uint64_t version; /* 0: never written */
	int64_t updated_at;
	struct cdht_counters c;
	/* who filed the year (counters filed, filed_at), "" when open */
	char filed_by[VALID_WHO_MAX + 1];
};

/*
 * Refusals of a write (positive, unlike the store's errors): the records
 * functions return them without writing anything.
 *   RECORDS_FILED    the year is filed (409 year_filed)
 *   RECORDS_DECIDED  the record was recognised by a decision (409 decided)
 *   RECORDS_IMPORTED the year holds imported results (history.c; 409
 *                    history_imported)
 */
enum records_refusal {
	RECORDS_FILED = 1,
	RECORDS_DECIDED = 2,
	RECORDS_IMPORTED = 3,
};

/* Who did a write, for the audit trail. */
struct records_actor {
	const char *self; /* this node's id (outbox key) */
	const char *who;  /* token label */
	int64_t now;
	int recognition; /* enum rules_recognition */
};

/*
 * Store assessment a (year, person_id and fields set; total, recognized and
 * outstanding are computed here), replacing any earlier one; updates the
 * outstanding flag of the same person's next four years and the counters of
 * every year touched.  *replaced is set to 1 if a record existed.
 */
int records_put(struct store_txn *t, const struct records_actor *act,
    struct assessment *a, int *replaced);

/*
 * Call cb for every assessment of year, in person_id byte order; cb returns
 * non-zero to stop.  The assessment is only valid during the call.
 */
int records_scan(struct store_txn *t, int year,
    int (*cb)(void *arg, const struct assessment *a), void *arg);

/* Read one assessment into *out; STORE_NOTFOUND if none. */
int records_get(struct store_txn *t, int year, const char *pid, size_t plen,
    struct assessment *out);

/*
 * Withdraw one assessment; STORE_NOTFOUND if none, RECORDS_FILED, or
 * RECORDS_DECIDED (the decision's number then copied into decided, of
 * VALID_DECISION_MAX + 1 bytes, when not NULL).
 */
int records_withdraw(struct store_txn *t, const struct records_actor *act,
    int year, const char *pid, size_t plen, char *decided);

/*
 * Mark (year, pid) as listed by decision number ("" to clear it) and
 * recognise it accordingly (act->recognition), with its counters and the
 * outstanding flag of its later years.  No audit record: the decision has
 * one.  STORE_NOTFOUND if there is no such assessment.
 */
int records_decide(struct store_txn *t, const struct records_actor *act,
    int year, const char *pid, size_t plen, const char *number);

/* Re-evaluate recognised and outstanding of every assessment of year under
 * act->recognition (after the mode changed); *changed: records changed. */
int records_recount(struct store_txn *t, const struct records_actor *act,
    int year, size_t *changed);

/* 1 when year is filed at this node (its own data frozen), 0, or a store
 * error. */
int records_year_filed(struct store_txn *t, int year);

/* 0 when this node's records of year may be written, RECORDS_FILED,
 * RECORDS_IMPORTED (the year holds imported results), or a store error. */
int records_writable(struct store_txn *t, int year);

/* The recognition mode the stored figures follow (RECOGNITION_SCORE when
 * never recorded), and recording it. */
int records_recognition_stored(struct store_txn *t, int *mode);
int records_recognition_store(struct store_txn *t, int mode);

/* Outstanding status a would have if stored now (reads earlier years). */
int records_outstanding(struct store_txn *t, const struct assessment *a);

/*
 * [node] counts_from is now year: records of earlier years are kept
 * (streaks, lists) but not counted in the local reports.  Recounts the
 * years between the stored value and year and stores year; *changed:
 * local reports rewritten.
 */
int records_counts_from(struct store_txn *t, const struct records_actor *act,
    int year, size_t *changed);

/*
 * Set / read a year's denominators (order of counters.h from adults).  Bit
 * k of keep (enum title_kind) keeps that kind's total and recognised as
 * they are (counted from title records).  Put: 0, RECORDS_FILED or a store
 * error.
 */
int records_put_population(struct store_txn *t, const struct records_actor *act,
    int year, const int64_t den[RECORDS_NPOP], unsigned keep);
int records_get_population(
    struct store_txn *t, int year, int64_t den[RECORDS_NPOP]);

/* The local report of one year (zeroed with version 0 if never written). */
int records_local(struct store_txn *t, int year, struct local_report *out);

/* Write lr as year's local report with a new version and queue it upward
 * (for the modules that count into it: titles.c, filing.c). */
int records_local_put(struct store_txn *t, const struct records_actor *act,
    int year, struct local_report *lr);

/* Make sure every programme year has a local report (so parents learn this
 * node's name and level even before it has data). */
int records_ensure_years(struct store_txn *t, const char *self, int64_t now);

/* Stamp this node's own targets tg into every year's local report (the
 * years that have one): where targets_own or a target_* counter differs,
 * write them with a new version (queued upward); *stamped: years written.
 * Filed years too: the targets are not the year's figures. */
int records_stamp_targets(struct store_txn *t, const struct records_actor *act,
    const struct rules_targets *tg, int *stamped);

/* Give every local report a new version (e.g. after a move or a restore). */
int records_bump_all(
    struct store_txn *t, const char *self, uint64_t floor, int64_t now);

/* Append an audit record: time, token label, action, detail. */
void records_audit(struct store_txn *t, const struct records_actor *act,
    const char *action, const char *detail);

/* One audit record as stored: time, token label, action, detail. */
struct audit_entry {
	uint64_t id;
	int64_t time;
	char who[64];
	char action[32];
	char detail[400];
};

/* Call cb for the newest max audit records, newest first; cb returns
 * non-zero to stop.  The entry is only valid during the call. */
int records_audit_tail(struct store_txn *t, size_t max,
    int (*cb)(void *arg, const struct audit_entry *e), void *arg);

/* The key origin \0 year(2) (outbox, acked, winners, totals) into buf
 * (WIRE_MAX_ID + 3 bytes); returns its length. */
size_t records_okey(unsigned char *buf, const char *origin, int year);

/* Schema 1 -> 2 of this module's tables, inside the migration transaction
 * (migrate.c); self is this node's id. */
int records_migrate_v1(struct store_txn *t, const char *self);
/* Schema 2 -> 3 of this module's tables (assessments gain eligible and
 * decision, local reports filed_by and the eligible counters by group). */
int records_migrate_v2(struct store_txn *t, const char *self);

#endif
