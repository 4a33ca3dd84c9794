/*
 * input.h: validation of what clients send: an assessment as a JSON object
 * or a CSV row, and a year's denominators.  Every error names its field.
 */
#ifndef CDHT_INPUT_H
#define CDHT_INPUT_H

#include <jansson.h>

#include "csv.h"
#include "records.h"
#include "rules.h"
#include "valid.h"

/* message and field are always valid text (valid_quote), safe for JSON. */
struct input_err {
	const char *code; /* static: missing_field, invalid_field, ... */
	char message[256];
	char field[64]; /* "" when no single field is at fault */
};

/*
 * Fill e (printf-style message) and return -1.  field and the message are
 * passed through valid_quote, so a name or message quoting client input is
 * valid text, cut on a character if it is too long; a message should still
 * quote client input with valid_quote itself, to choose where it is cut.
 */
int input_fail(struct input_err *e, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Validate obj into *a for a node of the given level; 0 or -1 with e. */
int input_assessment(
    const json_t *obj, int level, struct assessment *a, struct input_err *e);

/*
 * The same for the body of a POST holding one assessment object in its
 * plain form (no escapes, integers without sign, fraction or exponent, each
 * field once, none unknown), read without jansson: 0 with *a, exactly what
 * json_loadb + input_assessment give; or 1 for anything else, valid or
 * not, which the caller then reads with them (its error comes from there).
 */
int input_assessment_text(
    const char *body, size_t len, int level, struct assessment *a);

/*
 * Validate one CSV row (cells under header hdr, n columns; hdr accepted by
 * input_csv_header) into *a for a node of the given level: each cell read
 * as its column's type (an integer, UTF-8 text, a code or its label, an
 * empty name or birth_year absent), in the header's order, then the field
 * rules of input_assessment, through the same functions and in its order,
 * so a row and the object of the same values give the same *a or the same
 * error; only a score is named by its column (s3, not scores[2]).
 * 0, or -1 with e.
 */
int input_csv_assessment(char *const *hdr, char *const *cells, size_t n,
    int level, struct assessment *a, struct input_err *e);

/* Check a CSV header row: known columns, no duplicates, required present. */
int input_csv_header(char *const *hdr, size_t n, struct input_err *e);

/*
 * Fill e for the bad record csv_next just returned -1 for (reader r, header
 * hdr of nh columns): code bad_request, the reader's reason, and the column
 * at fault when there is one.  Returns -1.
 */
int input_csv_error(
    const struct csv *r, char *const *hdr, size_t nh, struct input_err *e);

/* Validate a title record object into *ti (members -1 when absent); 0 or
 * -1 with e. */
struct title;
int input_title(const json_t *obj, struct title *ti, struct input_err *e);

/* The CSV header and rows of title records (columns year, kind, id, name,
 * recognized, adults, staff; recognized as 1/0, có/không). */
int input_title_csv_header(char *const *hdr, size_t n, struct input_err *e);
json_t *input_title_csv_row(
    char *const *hdr, char *const *cells, size_t n, struct input_err *e);

/* Validate a decision object into *d; *ids gets its id array (borrowed
 * from obj, every element a valid id).  0 or -1 with e. */
struct decision;
int input_decision(const json_t *obj, struct decision *d, const json_t **ids,
    struct input_err *e);

/* Validate a population object (fields left out are 0). */
int input_population(
    const json_t *obj, int64_t den[RECORDS_NPOP], struct input_err *e);

/* Field names of the population object, in counter order (valid.h). */
#define input_population_fields valid_denominator_names

/*
 * The message of a bad_json error for jansson's error e: "line L, column
 * C: text", the text (which quotes the input near the error, cut anywhere)
 * made valid by valid_quote.  Written into the caller's msg (cap bytes);
 * returns msg.
 */
const char *input_bad_json_message(
    char *msg, size_t cap, const json_error_t *e);

#endif
