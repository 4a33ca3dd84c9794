/*
 * rules.h: the programme's rules as pure functions (no I/O): enumerations,
 * scoring, what one assessment adds to the counters, the indicators and the
 * progress against the 2025/2030 targets.  Sources: ../README.md tables.
 */
#ifndef CDHT_RULES_H
#define CDHT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "valid.h"

/*
 * The daemon's names for the programme constants; each is defined once, in
 * proto/valid.h, which the client and the wire codec use too.
 */
#define RULES_YEAR_MIN          VALID_YEAR_MIN
#define RULES_YEAR_MAX          VALID_YEAR_MAX
#define RULES_NSCORES           VALID_NSCORES
#define RULES_PID_MAX           VALID_PID_MAX
#define RULES_NAME_MAX          VALID_PERSON_NAME_MAX
#define RULES_OUTSTANDING_YEARS VALID_OUTSTANDING_YEARS

/* Index = valid_level_names (proto/valid.h); the first four are the
 * administrative levels, lowest first; LEVEL_AGENCY (a department, a
 * district agency or a school with a node of its own, recording its staff
 * only) came later: never compare levels by order. */
enum rules_level {
	LEVEL_COMMUNE,
	LEVEL_DISTRICT,
	LEVEL_PROVINCE,
	LEVEL_NATIONAL,
	LEVEL_AGENCY
};
enum rules_group {
	GROUP_FARMER,
	GROUP_WORKER,
	GROUP_OFFICIAL,
	GROUP_BUSINESS,
	GROUP_MANAGER,
	GROUP_COUNT
};
enum rules_population { POP_ADULT, POP_STAFF };
/* [programme] recognition: who recognises a person who passes. */
enum rules_recognition {
	RECOGNITION_SCORE,    /* passing the scoring rule recognises */
	RECOGNITION_DECISION, /* passing makes eligible; a decision recognises
	                       */
};
enum rules_digital { DIGITAL_NONE, DIGITAL_SKILLED, DIGITAL_PROFICIENT };

/* Level names, index = enum rules_level (proto/valid.h). */
#define rules_level_names valid_level_names
extern const char *const rules_group_names[GROUP_COUNT];
extern const char *const rules_population_names[2];
extern const char *const rules_digital_names[3];

/* Index of name in names[0..n), or -1. */
int rules_lookup(const char *const *names, int n, const char *name);

/* One person's assessment for one year at this node. */
struct assessment {
	uint16_t year;
	uint8_t pid_len;
	char person_id[RULES_PID_MAX + 1];
	char name[RULES_NAME_MAX + 1]; /* "" when absent */
	int16_t birth_year;            /* 0 when absent */
	uint8_t group;
	uint8_t population;
	uint8_t digital;
	uint8_t scores[RULES_NSCORES];
	/* computed by the node */
	uint16_t total;
	bool eligible; /* passed the scoring rule */
	bool
	    recognized; /* eligible, and (decision mode) listed by a decision */
	bool outstanding;
	int64_t updated_at;
	/* the decision that recognised this person, "" when none */
	char decision[VALID_DECISION_MAX + 1];
};

/* Fill a->total and a->eligible from a->scores, and a->recognized as the
 * score rule has it (= eligible); records.c applies the decision rule. */
void rules_score(struct assessment *a);

/* c += sign * (what assessment a contributes to its year's counters). */
void rules_apply(struct cdht_counters *c, const struct assessment *a, int sign);

/* The nine indicators, in report order. */
enum rules_indicator {
	IND_ADULTS,
	IND_STAFF,
	IND_DIGITAL,
	IND_PROFICIENT,
	IND_TRAINED,
	IND_FAMILIES,
	IND_CLANS,
	IND_COMMUNITIES,
	IND_UNITS,
	IND_COUNT
};
extern const char *const rules_indicator_names[IND_COUNT];

/*
 * Whole-percent targets: pct[indicator][0] for 2025, [1] for 2030; strict:
 * the target is "above" the percent ("Trên 60%", `>60` in [targets]), so
 * reaching it exactly is not enough.
 */
struct rules_targets {
	int pct[IND_COUNT][2];
	bool strict[IND_COUNT][2];
};
/* The national defaults (Decisions 677 and 387), none strict. */
void rules_targets_default(struct rules_targets *t);

/* Write t into c as an origin's own targets: targets_own = 1 and each
 * target_<indicator>_<year> = percent * 2 + strict (counters.h).  Returns 1
 * if that changed c, else 0. */
int rules_targets_stamp(struct cdht_counters *c, const struct rules_targets *t);

/* Read an origin's own targets from its (unsummed) report counters c: 0,
 * or -1 when c carries none (targets_own != 1: an older release) or a
 * target counter is outside 0..201 (percent 0..100, strict bit). */
int rules_targets_of(const struct cdht_counters *c, struct rules_targets *out);

struct rules_progress {
	int64_t numerator, denominator;
	bool has_percent; /* false when denominator <= 0 */
	/* 100*num/den rounded half up to 2 decimals: bp = round(10000*num/den)
	 * computed exactly, then the double nearest to bp/100 (when bp < 2^53;
	 * within an ulp above), which prints back as bp/100 with 2 decimals
	 * while bp < 10^15, i.e. num/den < 10^11 */
	double percent;
	int target[2];
	bool strict[2]; /* the target is "above": num*100 > target*den */
	bool met[2];    /* needed == 0 && denominator > 0 */
	/* exact: max(0, ceil(target*den/100) - num), or when strict
	 * max(0, floor(target*den/100) + 1 - num) */
	int64_t needed[2];
};

/*
 * Evaluate one indicator of counters c against targets t (strict ones
 * included: met then means num*100 > target*den, with den > 0 as for every
 * target).  Exact, with no
 * overflow, for every int64 numerator and denominator (the intermediates are
 * 128 bits wide) and every int target: so nothing here depends on how large
 * a total gets.  needed cannot exceed the denominator when the numerator is
 * >= 0 and the target <= 100 (what the conf allows); it saturates at
 * INT64_MAX otherwise.
 *
 * The totals themselves are int64 sums of reports (aggregate.c), each
 * counter of a report at most 2^40 (AGG_MAX_COUNTER): a total stays exact
 * while fewer than 2^23 reports of one year are summed into it, at the cap.
 * That bound (8.4 million origins per year, against some 11 000 units in
 * the country) is documented in README "Limits" rather than enforced here.
 */
void rules_indicator(const struct cdht_counters *c,
    const struct rules_targets *t, int ind, struct rules_progress *out);

/* Validate a year's denominators in c (indices adults..members_trained):
 * returns NULL when valid, else the name of the first offending field
 * (static storage). */
const char *rules_check_population(const int64_t den[VALID_NDENOMINATORS]);

#endif
