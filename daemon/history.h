/*
 * history.h: results from before the system (imported results): a year's
 * aggregated figures an admin enters from a report or a spreadsheet
 * (PUT /v1/history/{year}) for a year this node kept no person-level
 * records of.  They become the year's local report (every counter of
 * assessments and denominators replaced, den_set = 1, imported = 1), so
 * they count and travel like records do; the entry itself (its source note
 * and the numbers as given) is kept in TBL_HISTORY, which history.c owns.
 *
 * Offline units (POST /v1/history, text/csv): units that will never run a
 * node, whose imported results this node holds and issues itself: each
 * (unit, year) is an entry in TBL_HISTORY and a report of origin = the
 * unit, path [unit], held via the unit (aggregate_offline_put), so it
 * counts here and travels upward like a child's unit.
 */
#ifndef CDHT_HISTORY_H
#define CDHT_HISTORY_H

#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "input.h"
#include "records.h"
#include "rules.h"
#include "store.h"
#include "valid.h"
#include "wire.h"

/* The baseline year (2020) is accepted for imported results only. */
#define HISTORY_YEAR_MIN VALID_REPORT_YEAR_MIN
#define HISTORY_YEAR_MAX RULES_YEAR_MAX
/* A source note: text of 1..HISTORY_SOURCE_MAX bytes. */
#define HISTORY_SOURCE_MAX 200
/* Every number: 0..HISTORY_NUMBER_MAX (as a year's denominators). */
#define HISTORY_NUMBER_MAX 1000000000000LL

/* Refusal of history_put (positive, like enum records_refusal; besides
 * RECORDS_FILED): the year has records at this node. */
#define HISTORY_HAS_RECORDS 30
/* Refusal of history_offline_put: the unit cannot be an offline unit
 * here (this node, a configured child, held via a child, retired); the
 * reason is in the input_err given. */
#define HISTORY_NOT_OFFLINE 31

/* One year's imported results as entered. */
struct history {
	int year;
	char source[HISTORY_SOURCE_MAX + 1];
	int64_t assessed, recognized, outstanding;
	unsigned given; /* bit i: indicator i (enum rules_indicator) given */
	int64_t num[IND_COUNT], den[IND_COUNT];
	int64_t updated_at;
	char by[VALID_WHO_MAX + 1];
	/* an offline unit's entry: its id, name and level; unit "" = this
	 * node's own entry */
	char unit[WIRE_MAX_ID + 1];
	char unit_name[WIRE_MAX_NAME + 1];
	char level[16];
};

/*
 * The consistency rules of every entry, JSON or CSV (the one
 * implementation): numerator <= denominator, outstanding <= recognized <=
 * assessed, digital.denominator == recognized, proficient.denominator ==
 * digital.numerator (or <= recognized without digital).  Fields are named
 * as in JSON (indicators.adults.numerator, counts.recognized) or, with
 * csv, as the CSV columns (adults_num, recognized).  0, or -1 with e.
 */
int history_check(const struct history *h, int csv, struct input_err *e);

/* The CSV header of POST /v1/history: unit_id, unit_name, level, year and
 * source required, the other columns of HISTORY_CSV_COLUMNS optional (an
 * absent column = empty cells), none unknown or repeated.  0 or -1 with
 * e. */
int history_csv_header(char *const *hdr, size_t n, struct input_err *e);

/* The CSV columns, in the order `cdht history import` documents. */
extern const char *const history_csv_columns[];

/*
 * One CSV row (header hdr, cells[0..n)) into *out: an offline unit's
 * entry (unit id, name 1..WIRE_MAX_NAME bytes, level commune|agency|
 * district, year 2020..2030, source, numbers 0..HISTORY_NUMBER_MAX, an
 * empty cell = not given = 0; an indicator is given when either of its
 * cells is), checked by history_check.  0, or -1 with e naming the column.
 */
int history_from_csv(char *const *hdr, char *const *cells, size_t n,
    struct history *out, struct input_err *e);

/*
 * Validate a PUT body into *out (year set by the caller): fields source,
 * indicators (any of the nine, each {numerator, denominator}), counts
 * (assessed, recognized, outstanding).  Checks numerator <= denominator,
 * outstanding <= recognized <= assessed, digital.denominator ==
 * counts.recognized, proficient.denominator == digital.numerator (or <=
 * counts.recognized without digital).  0, or -1 with e naming the field.
 */
int history_from_json(
    const json_t *doc, struct history *out, struct input_err *e);

/* The entry as the API shows it (new reference; "imported": true). */
json_t *history_json(const struct history *h);

/* Year in HISTORY_YEAR_MIN..MAX? */
int history_year_ok(long y);

/* The entry of year, or STORE_NOTFOUND. */
int history_get(struct store_txn *t, int year, struct history *out);

/*
 * Store h as year h->year's imported results (replacing an earlier entry:
 * *replaced) and make them the year's local report.  Refused with
 * RECORDS_FILED, or HISTORY_HAS_RECORDS when the year has assessment or
 * title records here (*nassess, *ntitles say how many).  h->updated_at and
 * h->by are set from act; tg (this node's targets, may be NULL) is stamped
 * into the report as every local report carries them.
 */
int history_put(struct store_txn *t, const struct records_actor *act,
    const struct rules_targets *tg, struct history *h, int *replaced,
    int64_t *nassess, int64_t *ntitles);

/* Remove year's imported results: its counters back to zero, not
 * imported.  STORE_NOTFOUND when there are none, RECORDS_FILED. */
int history_delete(
    struct store_txn *t, const struct records_actor *act, int year);

/*
 * Store h (h->unit set) as the offline unit's entry of h->year and issue
 * its report (aggregate_offline_put: a version of this node's clock).
 * Refused with RECORDS_FILED (the year is filed here) or
 * HISTORY_NOT_OFFLINE (e says why: this node, a configured child, a unit
 * held via a child, a retired unit).  *replaced: an entry was there.
 */
int history_offline_put(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, struct history *h, int *replaced,
    struct input_err *e);

/* The offline unit's entry of year, or STORE_NOTFOUND. */
int history_offline_get(
    struct store_txn *t, const char *unit, int year, struct history *out);

/* Does unit hold an offline entry of year (year 0: of any year)?  1/0. */
int history_offline_has(struct store_txn *t, const char *unit, int year);

/* Remove the offline unit's year (its report is removed upward).
 * STORE_NOTFOUND when there is none, RECORDS_FILED. */
int history_offline_delete(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, const char *unit, int year);

#endif
