/*
 * fuzz_csv.c: libFuzzer target for CSV imports (POST /v1/assessments with
 * text/csv): the one CSV reader (proto/csv.h) and the row validation of
 * daemon/input.h, driven as daemon/api_assess.c drives them: the header
 * row through input_csv_header, then csv_expect, then every record through
 * input_csv_error (bad records) and input_csv_assessment.
 *
 * Checks on every input:
 *  - every rejection (header, bad record, cell, assessment) passes
 *    fuzz_check_error, with the messages the handler builds;
 *  - csv-bounds: the reader never reads outside its input (the input is
 *    libFuzzer's exact-size heap copy, so AddressSanitizer catches a read
 *    past the end) and never returns more cells than CSV_MAX_CELLS or (after
 *    csv_expect) other than the header's count, nor a cell longer than the
 *    input;
 *  - csv-progress: every csv_next that returns a record or an error moves
 *    its offset forward and starts on a later line than the record before,
 *    never past the input's last line; so the loop ends within size + 1
 *    records;
 *  - input-accept: an accepted row holds what the rules allow (year,
 *    person id, scores...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "csv.h"
#include "fuzz_common.h"
#include "input.h"
#include "rules.h"
#include "valid.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

/* Lines in data[0..size): 1 + the line breaks (LF, CRLF, lone CR). */
static int
count_lines(const uint8_t *data, size_t size)
{
	int n = 1;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n' ||
		    (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
			n++;
	return n;
}

/* Checks of one csv_next: offset and line move on, cells in bounds. */
static void
check_step(const struct csv *r, size_t size, int rc, char **cells, size_t n,
    size_t expect, int line, int prev_line, size_t off0, int nlines)
{
	size_t off = csv_offset(r, NULL);

	FUZZ_CHECK(off <= size, "csv-bounds", "offset %zu past %zu", off, size);
	if (rc == 0)
		return;
	FUZZ_CHECK(off > off0, "csv-progress",
	    "csv_next returned %d at offset %zu without moving", rc, off0);
	FUZZ_CHECK(line > prev_line && line >= 1 && line <= nlines,
	    "csv-progress", "record on line %d after line %d (input has %d)",
	    line, prev_line, nlines);
	if (rc != 1)
		return;
	FUZZ_CHECK(n >= 1 && n <= CSV_MAX_CELLS && (expect == 0 || n == expect),
	    "csv-bounds", "%zu cells (expected %zu)", n, expect);
	for (size_t i = 0; i < n && i < CSV_MAX_CELLS; i++)
		FUZZ_CHECK(strlen(cells[i]) <= size, "csv-bounds",
		    "cell %zu longer than the input", i);
}

static void
check_row(char *const *hdr, char *const *cells, size_t n, int line)
{
	struct assessment a;
	struct input_err e;
	char what[64];

	snprintf(what, sizeof(what), "input_csv_assessment of line %d", line);
	memset(&e, 0, sizeof(e));
	if (input_csv_assessment(hdr, cells, n, LEVEL_COMMUNE, &a, &e) != 0) {
		fuzz_check_error(what, e.code, e.message, e.field);
		return;
	}
	FUZZ_CHECK(valid_year(a.year) == 0 &&
	               valid_person_id(a.person_id, a.pid_len) == 0 &&
	               valid_person_name(a.name, strlen(a.name)) == 0,
	    "input-accept", "line %d: year, person_id or name not valid", line);
	for (int i = 0; i < RULES_NSCORES; i++)
		FUZZ_CHECK(valid_score(a.scores[i]) == 0, "input-accept",
		    "line %d: scores[%d] = %d", line, i, a.scores[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv r;
	char *cells[CSV_MAX_CELLS], **hdr = NULL, msg[512], what[64];
	size_t n = 0, nh, off0, records = 0;
	int line = -1, prev_line = 0, rc, nlines = count_lines(data, size);
	struct input_err e;

	csv_init(&r, (const char *)data, size);
	off0 = csv_offset(&r, NULL);
	rc = csv_next(&r, cells, &n, &line);
	check_step(&r, size, rc, cells, n, 0, line, prev_line, off0, nlines);
	if (rc <= 0) {
		/* api_assess.c post_csv: the header's error */
		snprintf(msg, sizeof(msg), "line %d: %s%s", line,
		    rc == 0 ? "empty CSV: a header row is required"
		            : "malformed CSV header: ",
		    rc == 0 ? "" : csv_error(&r, NULL));
		fuzz_check_error("CSV header", "bad_request", msg, NULL);
		csv_free(&r);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	if (input_csv_header(cells, n, &e) != 0) {
		snprintf(msg, sizeof(msg), "line 1: %s", e.message);
		fuzz_check_error("input_csv_header", e.code, msg, e.field);
		csv_free(&r);
		return 0;
	}
	nh = n;
	if ((hdr = calloc(nh, sizeof(*hdr))) == NULL)
		abort();
	for (size_t i = 0; i < nh; i++)
		if ((hdr[i] = strdup(cells[i])) == NULL)
			abort();
	csv_expect(&r, nh);
	prev_line = line;
	for (;;) {
		off0 = csv_offset(&r, NULL);
		rc = csv_next(&r, cells, &n, &line);
		check_step(
		    &r, size, rc, cells, n, nh, line, prev_line, off0, nlines);
		if (rc == 0 || rc == CSV_ENOMEM)
			break;
		prev_line = line;
		if (!FUZZ_CHECK(++records <= size + 1, "csv-progress",
		        "more records than bytes"))
			break;
		snprintf(what, sizeof(what), "CSV line %d", line);
		memset(&e, 0, sizeof(e));
		if (rc < 0) {
			size_t cell;

			csv_error(&r, &cell);
			FUZZ_CHECK(cell == (size_t)-1 || cell < CSV_MAX_CELLS,
			    "csv-bounds", "error in cell %zu", cell);
			input_csv_error(&r, hdr, nh, &e);
			fuzz_check_error(what, e.code, e.message, e.field);
			continue;
		}
		if (n != nh) /* the handler's own check; csv_expect's job */
			continue;
		check_row(hdr, cells, n, line);
	}
	for (size_t i = 0; i < nh; i++)
		free(hdr[i]);
	free(hdr);
	csv_free(&r);
	return 0;
}
