/*
 * titles.h: the collective titles recorded one by one (owner of
 * TBL_TITLES): learning families, clans, communities (thôn, bản, tổ dân
 * phố) and units.  For a year in which this node holds records of a kind,
 * that kind's *_total and *_recognized counters are counted from them.
 */
#ifndef CDHT_TITLES_H
#define CDHT_TITLES_H

#include <stdbool.h>
#include <stdint.h>

#include "records.h"
#include "store.h"
#include "valid.h"

enum title_kind {
	TITLE_FAMILY,
	TITLE_CLAN,
	TITLE_COMMUNITY,
	TITLE_UNIT,
	TITLE_NKINDS
};
/* "family", "clan", "community", "unit"; index = enum title_kind. */
extern const char *const title_kind_names[TITLE_NKINDS];

/* One title record of one year. */
struct title {
	uint16_t year;
	uint8_t kind;
	uint8_t id_len;
	char id[VALID_PID_MAX + 1];
	char name[VALID_PERSON_NAME_MAX + 1]; /* "" when absent */
	bool eligible;   /* meets the criteria ("recognized" in a request) */
	bool recognized; /* eligible, and (decision mode) decided */
	int64_t members; /* adults (family, clan, community) or staff (unit);
	                  * -1 when absent */
	char decision[VALID_DECISION_MAX + 1]; /* "" when none */
	int64_t updated_at;
};

/* Store ti (year, kind, id and the request's fields set), replacing any
 * earlier record; 0, a store error or a records_refusal (RECORDS_DECIDED:
 * ti->decision then names the decision). */
int titles_put(struct store_txn *t, const struct records_actor *act,
    struct title *ti, int *replaced);

/* One record into *out; STORE_NOTFOUND if none. */
int titles_get(struct store_txn *t, int year, int kind, const char *id,
    size_t idlen, struct title *out);

/* Delete one record; STORE_NOTFOUND, a store error or a records_refusal
 * (RECORDS_DECIDED: the decision's number copied into decided, of
 * VALID_DECISION_MAX + 1 bytes, when not NULL). */
int titles_delete(struct store_txn *t, const struct records_actor *act,
    int year, int kind, const char *id, size_t idlen, char *decided);

/* Mark a record as listed by decision number ("" to clear), recognising it
 * accordingly; STORE_NOTFOUND if none.  No audit (the decision has one). */
int titles_decide(struct store_txn *t, const struct records_actor *act,
    int year, int kind, const char *id, size_t idlen, const char *number);

/* Re-evaluate recognised of every record of year under act->recognition;
 * *changed: records changed. */
int titles_recount(struct store_txn *t, const struct records_actor *act,
    int year, size_t *changed);

/* Call cb for every record of (year, kind), in id byte order (kind -1: all
 * kinds, kind by kind); cb returns non-zero to stop. */
int titles_scan(struct store_txn *t, int year, int kind,
    int (*cb)(void *arg, const struct title *ti), void *arg);

/* How many records of (year, kind) this node holds. */
int titles_count(struct store_txn *t, int year, int kind, int64_t *n);

#endif
