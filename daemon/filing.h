/*
 * filing.h: the yearly filing (the local report's counters filed,
 * filed_at, reopened, filed_missing and its filed_by): filing a year
 * freezes this node's own data for it and travels upward with the year's
 * report; reopening it is audited and counted.
 */
#ifndef CDHT_FILING_H
#define CDHT_FILING_H

#include <stdint.h>

#include "conf.h"
#include "records.h"
#include "store.h"

/* This node's filing state of one year. */
struct filing {
	int filed;        /* 1 when filed */
	int64_t filed_at; /* Unix time, 0 when open */
	char by[VALID_WHO_MAX + 1];
	int64_t reopened; /* times reopened */
	int64_t missing;  /* units below not filed, when forced */
};

/* The filing state of year. */
int filing_get(struct store_txn *t, int year, struct filing *out);

/*
 * The units of this node's subtree (not itself) whose report of year is
 * not filed: a malloc'd array of *n NUL-terminated ids (free each and the
 * array), including configured children never heard from.
 */
int filing_unfiled_below(struct store_txn *t, const struct conf *c, int year,
    char ***ids, size_t *n);

/*
 * File year: RECORDS_FILED when it is already filed; FILING_UNFILED when
 * units below have not filed and force is 0 (then *ids and *n name them, as
 * filing_unfiled_below gives them).  With force, the filing records how
 * many had not (and the audit names them).
 */
#define FILING_UNFILED 20
int filing_file(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, int year, int force, char ***ids,
    size_t *n);

/* Free what filing_unfiled_below or filing_file gave (*ids, *n zeroed). */
void filing_ids_free(char ***ids, size_t *n);

/* Reopen year: STORE_NOTFOUND when it is not filed. */
int filing_reopen(
    struct store_txn *t, const struct records_actor *act, int year);

#endif
