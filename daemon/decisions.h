/*
 * decisions.h: recognition by decision (owner of TBL_DECISION and
 * TBL_DECIDED): a numbered decision of the competent authority lists the
 * people (or families, clans, communities, units) it recognises.  Adding
 * one marks every listed record as decided and, in decision mode,
 * recognised; revoking it undoes that.  All or nothing.
 */
#ifndef CDHT_DECISIONS_H
#define CDHT_DECISIONS_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"
#include "store.h"
#include "valid.h"

/* What a decision recognises: "citizen", then the title kinds in the
 * order of enum title_kind ("family", "clan", "community", "unit"). */
#define DECISION_CITIZEN 0 /* title 1 + enum title_kind for the others */
#define DECISION_NTITLES 5
extern const char *const decision_title_names[DECISION_NTITLES];

struct decision {
	uint16_t year;
	char number[VALID_DECISION_MAX + 1];
	char date[11]; /* YYYY-MM-DD */
	char authority[VALID_AUTHORITY_MAX + 1];
	uint8_t title; /* index into decision_title_names */
	int64_t count; /* records it lists */
	int64_t recorded_at;
	char by[VALID_WHO_MAX + 1];
};

/* Why one listed id cannot be decided (decisions_add's *bad). */
enum decision_flaw {
	DFLAW_NOT_ASSESSED, /* no record of that id in that year */
	DFLAW_NOT_ELIGIBLE, /* the record does not meet the criteria */
	DFLAW_DECIDED,      /* another decision already lists it */
	DFLAW_DUPLICATE,    /* listed twice in this decision */
};
extern const char *const decision_flaw_names[4]; /* "not_assessed", ... */
struct decision_bad {
	size_t index;                       /* in ids */
	int flaw;                           /* enum decision_flaw */
	char other[VALID_DECISION_MAX + 1]; /* DFLAW_DECIDED: which one */
};

/*
 * Record decision d (year, number, date, authority, title set) listing
 * ids[0..n) (lens[i] bytes each).  When any id cannot be decided, nothing
 * is written, *bad gets a malloc'd array of *nbad flaws (caller frees) and
 * DECISIONS_REFUSED is returned.  Also STORE_* errors, RECORDS_FILED, or
 * DECISIONS_EXISTS when (year, number) is already recorded.
 */
#define DECISIONS_REFUSED 10
#define DECISIONS_EXISTS  11
int decisions_add(struct store_txn *t, const struct records_actor *act,
    struct decision *d, const char *const *ids, const size_t *lens, size_t n,
    struct decision_bad **bad, size_t *nbad);

/* Revoke (year, number): STORE_NOTFOUND, RECORDS_FILED or a store error;
 * *out gets the revoked decision. */
int decisions_revoke(struct store_txn *t, const struct records_actor *act,
    int year, const char *number, size_t nlen, struct decision *out);

/* One decision; STORE_NOTFOUND if none. */
int decisions_get(struct store_txn *t, int year, const char *number,
    size_t nlen, struct decision *out);

/* Every decision of year, in number byte order; cb returns non-zero to
 * stop. */
int decisions_scan(struct store_txn *t, int year,
    int (*cb)(void *arg, const struct decision *d), void *arg);

/* The ids a decision lists, in id byte order. */
int decisions_ids(struct store_txn *t, int year, const char *number,
    size_t nlen, int (*cb)(void *arg, const char *id, size_t idlen), void *arg);

#endif
