/*
 * history.h: results from before the system (imported results): a year's
 * aggregated figures an admin enters from a report or a spreadsheet
 * (PUT /v1/history/{year}) for a year this node kept no person-level
 * records of.  They become the year's local report (every counter of
 * assessments and denominators replaced, den_set = 1, imported = 1), so
 * they count and travel like records do; the entry itself (its source note
 * and the numbers as given) is kept in TBL_HISTORY, which history.c owns.
 */
#ifndef CDHT_HISTORY_H
#define CDHT_HISTORY_H

#include <stdint.h>

#include <jansson.h>

#include "input.h"
#include "records.h"
#include "rules.h"
#include "store.h"
#include "valid.h"

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

/* One year's imported results as entered. */
struct history {
	int year;
	char source[HISTORY_SOURCE_MAX + 1];
	int64_t assessed, recognized, outstanding;
	unsigned given; /* bit i: indicator i (enum rules_indicator) given */
	int64_t num[IND_COUNT], den[IND_COUNT];
	int64_t updated_at;
	char by[VALID_WHO_MAX + 1];
};

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

#endif
