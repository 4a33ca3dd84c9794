/*
 * valid.h: the field rules and names every part of cdht checks, defined
 * once: the conf parser (daemon/conf.c), the HTTP input (daemon/input.c),
 * the wire codec (proto/wire.c) and the client (client/) all call these, so
 * what one accepts the others accept too.  proto/PROTOCOL.md "Field rules"
 * and README "HTTP API" state the same rules in prose.
 *
 * Predicates return 0 when the value is valid and -1 when it is not; the
 * caller builds its own message naming the field, line or key.  The *_why
 * variants say what is wrong, as a static string.  Pure functions, no I/O.
 */
#ifndef CDHT_VALID_H
#define CDHT_VALID_H

#include <stddef.h>

#include "counters.h"
#include "wire.h" /* WIRE_MAX_ID, WIRE_MAX_NAME: unit id and name bytes */

/* The programme's years (assessments, population, a node's records). */
#define VALID_YEAR_MIN 2021
#define VALID_YEAR_MAX 2030
/*
 * The years of a report on the wire (and of a node's local reports): the
 * programme's years and 2020, the baseline, whose reports hold imported
 * results only (PROTOCOL.md 3.3; sent to a parent of wire revision >= 2
 * only, 8.9).
 */
#define VALID_REPORT_YEAR_MIN 2020

/*
 * Scoring: ten indicators scored 1..10; recognised when the total reaches
 * VALID_PASS_TOTAL and no score is below VALID_PASS_MIN_SCORE; outstanding
 * when recognised this year and each of the four before.
 */
#define VALID_NSCORES           10
#define VALID_SCORE_MIN         1
#define VALID_SCORE_MAX         10
#define VALID_PASS_TOTAL        80
#define VALID_PASS_MIN_SCORE    5
#define VALID_OUTSTANDING_YEARS 5

/* A person: id 1..64 bytes, optional name 0..200 bytes (both text). */
#define VALID_PID_MAX         64
#define VALID_PERSON_NAME_MAX 200

/* A decision: its number ("45/QĐ-UBND", text of 1..64 bytes), its
 * authority (text of 1..200 bytes), its date YYYY-MM-DD. */
#define VALID_DECISION_MAX  64
#define VALID_AUTHORITY_MAX 200

/* Who did a write (a token's label): text of 0..63 bytes. */
#define VALID_WHO_MAX 63

/* A CURVE public or secret key in Z85 (cdht keygen): 40 characters. */
#define VALID_Z85_KEY_LEN 40

/*
 * Unit levels; index = enum rules_level.  The first four are the
 * administrative levels, lowest first; "agency" (index 4: a department,
 * district agency or school running its own node, recording its staff) was
 * added in wire revision 2 and is sent as "commune" to an older parent
 * (PROTOCOL.md 3.3): never compare levels by index.
 */
#define VALID_NLEVELS 5
extern const char *const valid_level_names[VALID_NLEVELS];

/*
 * A year's denominators (the population object's fields), in counter order:
 * the slice of cdht_counter_names from adults to members_trained.
 */
#define VALID_NDENOMINATORS \
	(CDHT_C_LAST_DENOMINATOR - CDHT_C_FIRST_DENOMINATOR + 1)
extern const char *const *const valid_denominator_names;

/*
 * Well-formed UTF-8: no overlong form, no UTF-16 surrogate (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequence.  valid_utf8_why returns
 * NULL when s[0..n) is valid, else a static reason, and sets *at (may be
 * NULL) to the offset of the first bad byte.
 */
int valid_utf8(const char *s, size_t n);
const char *valid_utf8_why(const char *s, size_t n, size_t *at);

/*
 * Text, the rule of every name and person id: well-formed UTF-8 with no C0
 * control character (U+0000..U+001F) and no DEL (U+007F).  Same contract
 * as valid_utf8 / valid_utf8_why.
 */
int valid_text(const char *s, size_t n);
const char *valid_text_why(const char *s, size_t n, size_t *at);

/*
 * Quote client input (or any bytes) as text that is always valid, for an
 * error message, field name or line that quotes it: JSON encoders refuse
 * invalid UTF-8, and a copy cut inside a character is invalid.  Copies
 * src[0..n) into dst (cap bytes; NUL-terminated when cap >= 1): each
 * well-formed character as it is, each byte that is not part of one and
 * each control character (C0, DEL) as the four characters \xNN (lower-case
 * hex).  When the copy does not fit it is cut on a character or escape
 * boundary and ends in "..." (if cap >= 4).  Valid text without controls
 * that fits is copied unchanged.  Returns the length written, without the
 * NUL.
 */
size_t valid_quote(char *dst, size_t cap, const char *src, size_t n);

/* A unit id: 1..WIRE_MAX_ID bytes, each in [0-9A-Za-z_-]. */
int valid_id(const char *s, size_t n);

/* A unit name: text of 0..WIRE_MAX_NAME bytes. */
int valid_unit_name(const char *s, size_t n);

/* A person id (text of 1..VALID_PID_MAX bytes) and a person's name (text
 * of 0..VALID_PERSON_NAME_MAX bytes). */
int valid_person_id(const char *s, size_t n);
int valid_person_name(const char *s, size_t n);

/* A decision number: text of 1..VALID_DECISION_MAX bytes. */
int valid_decision_number(const char *s, size_t n);

/* A calendar date "YYYY-MM-DD" (a day that exists, years 2000..2099). */
int valid_date(const char *s, size_t n);

/* The index of level name s[0..n) in valid_level_names, or -1. */
int valid_level(const char *s, size_t n);

/*
 * The Vietnamese labels a clerk may write in a CSV import instead of the
 * codes of columns group, population and digital (DOMAIN.md, README
 * "Clerks' CSV"): the one table, read by the node's CSV input and by
 * `cdht template`.  The first label of each code is its name in a
 * spreadsheet; the others are other spellings clerks use (kỹ / kĩ).
 * Ended by an entry with a NULL column.
 */
struct valid_label {
	const char *column, *code, *label;
};
extern const struct valid_label valid_labels[];

/*
 * The code that s[0..n) names in column ("group", "population",
 * "digital"): the code itself, or one of its labels compared ignoring
 * blanks around it and the case of ASCII letters (labels are in NFC, as
 * Excel and every phone keyboard write them).  NULL when it names none.
 */
const char *valid_label_code(const char *column, const char *s, size_t n);

/* The spreadsheet label (first label) of code in column, or NULL. */
const char *valid_label_of(const char *column, const char *code);

/* A programme year: VALID_YEAR_MIN..VALID_YEAR_MAX. */
int valid_year(long long y);

/* A report's year (wire, local reports): VALID_REPORT_YEAR_MIN..
 * VALID_YEAR_MAX. */
int valid_report_year(long long y);

/* One score: VALID_SCORE_MIN..VALID_SCORE_MAX. */
int valid_score(long long v);

/* A Z85 CURVE key: exactly VALID_Z85_KEY_LEN characters of the Z85 set. */
int valid_z85_key(const char *s, size_t n);

#endif
