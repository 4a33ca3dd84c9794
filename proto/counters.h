/*
 * counters.h: the per-origin, per-year counters that travel in a report.
 *
 * One table (CDHT_COUNTERS) defines every counter once; the enum, the name
 * array, the wire codec, the JSON output and the sums are all generated from
 * it.  The order is the wire order (proto/PROTOCOL.md section 5.6, pinned
 * by tests/unit/test_protocol_doc.c): append only, never reorder or remove,
 * and never change what an existing counter means, or old and new nodes
 * will disagree.  A node receiving fewer counters than it knows (from an
 * older node) takes the missing ones as zero; one receiving more ignores
 * the rest (PROTOCOL.md section 7).
 */
#ifndef CDHT_COUNTERS_H
#define CDHT_COUNTERS_H

#include <stdint.h>

/* X(name): assessment counts first, then the year's denominators. */
#define CDHT_COUNTERS(X)                                                  \
	X(assessed)                                                       \
	X(recognized)                                                     \
	X(outstanding)                                                    \
	X(adult_assessed)                                                 \
	X(adult_recognized)                                               \
	X(staff_assessed)                                                 \
	X(staff_recognized)                                               \
	X(digital_skilled)    /* recognised, skilled or proficient */     \
	X(digital_proficient) /* recognised, proficient */                \
	X(farmer_assessed)                                                \
	X(farmer_recognized)                                              \
	X(worker_assessed)                                                \
	X(worker_recognized)                                              \
	X(official_assessed)                                              \
	X(official_recognized)                                            \
	X(business_assessed)                                              \
	X(business_recognized)                                            \
	X(manager_assessed)                                               \
	X(manager_recognized)                                             \
	X(den_set) /* units that recorded this year's denominators */     \
	X(adults)                                                         \
	X(staff)                                                          \
	X(families_total)                                                 \
	X(families_recognized)                                            \
	X(clans_total)                                                    \
	X(clans_recognized)                                               \
	X(communities_total)                                              \
	X(communities_recognized)                                         \
	X(units_total)                                                    \
	X(units_recognized)                                               \
	X(members_total)                                                  \
	X(members_trained)                                                \
	X(eligible) /* passed the scoring rule (= recognized by score) */ \
	X(farmer_eligible)                                                \
	X(worker_eligible)                                                \
	X(official_eligible)                                              \
	X(business_eligible)                                              \
	X(manager_eligible)                                               \
	X(filed)         /* 1: the origin filed this year (units) */      \
	X(filed_at)      /* origin's Unix time of filing; 0: open */      \
	X(reopened)      /* times the origin reopened a filing */         \
	X(filed_missing) /* units below not filed, when forced */         \
	X(imported)      /* 1: the year holds imported results */         \
	X(targets_own)   /* 1: the target_* counters are set */           \
	CDHT_TARGET_COUNTERS(X)                                           \
	X(retired) /* the last year counted, in a retired unit's copy */

/* The origin's own targets (its [targets]), per indicator of rules.h in
 * order, 2025 then 2030: whole percent * 2, + 1 when strict ("above"). */
#define CDHT_TARGET_COUNTERS(X)    \
	X(target_adults_2025)      \
	X(target_adults_2030)      \
	X(target_staff_2025)       \
	X(target_staff_2030)       \
	X(target_digital_2025)     \
	X(target_digital_2030)     \
	X(target_proficient_2025)  \
	X(target_proficient_2030)  \
	X(target_trained_2025)     \
	X(target_trained_2030)     \
	X(target_families_2025)    \
	X(target_families_2030)    \
	X(target_clans_2025)       \
	X(target_clans_2030)       \
	X(target_communities_2025) \
	X(target_communities_2030) \
	X(target_units_2025)       \
	X(target_units_2030)

enum cdht_counter {
#define CDHT_X_ENUM(n) CDHT_C_##n,
	CDHT_COUNTERS(CDHT_X_ENUM)
#undef CDHT_X_ENUM
	    CDHT_NCOUNTERS
};

/* Counters every report carries: the 32 of release 0.1.0 (protocol 1). */
#define CDHT_WIRE_MIN_COUNTERS 32

/* The denominators (a year's population object): adults..members_trained;
 * den_set precedes them, counters added later follow them. */
#define CDHT_C_FIRST_DENOMINATOR CDHT_C_adults
#define CDHT_C_LAST_DENOMINATOR  CDHT_C_members_trained

struct cdht_counters {
	int64_t v[CDHT_NCOUNTERS];
};

/* Counter names in wire order; static storage, never freed. */
extern const char *const cdht_counter_names[CDHT_NCOUNTERS];

/* dst += sign * src, element-wise. */
void cdht_counters_add(
    struct cdht_counters *dst, const struct cdht_counters *src, int sign);

/* 1 when every counter is zero. */
int cdht_counters_is_zero(const struct cdht_counters *c);

#endif
