/*
 * csv.h: the one CSV reader, shared by the node (POST /v1/assessments with
 * text/csv) and `cdht import` (which cuts a file into requests at the
 * record boundaries this reader finds, so both sides split a file the same
 * way).  RFC 4180 with these exact rules:
 *
 *  - A line ends at LF, CRLF or a lone CR; lines count from 1.  A UTF-8 byte
 *    order mark at the very start is skipped.  Blank lines are not records.
 *  - A record is fields separated by commas (or by the separator given to
 *    csv_init_sep: ';' is what Excel writes where the decimal mark is a
 *    comma), ended by a line break outside quotes or by the end of the
 *    input.  Read "comma" below as "the separator".
 *  - An unquoted field holds any bytes but comma, quote, CR and LF.  A quoted
 *    field starts with a quote as its first byte, holds anything (commas and
 *    line breaks included; "" stands for one quote), and its closing quote
 *    is followed by a comma, a line break or the end of the input.
 *  - A bad record is an error of that record alone: a quote inside an
 *    unquoted field (Tran 5" Van), text after a closing quote, a quoted
 *    field still open at the end of the input, a NUL byte, more than
 *    CSV_MAX_CELLS fields, or (after csv_expect) a field count other than
 *    the header's.  It is reported with the line it starts on and costs that
 *    one line: reading resumes at the next line, which is read as a record
 *    of its own even if it lay inside the bad record's quotes.  So a stray
 *    quote never swallows the lines after it.
 */
#ifndef CDHT_CSV_H
#define CDHT_CSV_H

#include <stddef.h>

#define CSV_MAX_CELLS 64
#define CSV_ENOMEM    (-2) /* csv_next: out of memory; stop reading */

/* A reader over one buffer; the fields are private to csv.c. */
struct csv {
	const char *base, *p, *end;
	char sep;      /* the field separator: ',' unless csv_init_sep */
	int line;      /* line of p, from 1 */
	size_t expect; /* fields per record, 0 = any (csv_expect) */
	char *buf;     /* the cells of the last record */
	size_t cap;
	const char *why; /* the last error, static or why_buf */
	size_t why_cell; /* its field index, or (size_t)-1 */
	char why_buf[64];
};

/* Start reading buf[0..len); buf must outlive the reader. */
void csv_init(struct csv *r, const char *buf, size_t len);

/* The same with separator sep (',' or ';'). */
void csv_init_sep(struct csv *r, const char *buf, size_t len, char sep);

/*
 * The separator of the CSV in buf[0..len): ';' when its first line (the
 * header) holds more semicolons than commas outside quotes, else ','.
 * Node and client both call this, so they read a file alike.
 */
char csv_sniff(const char *buf, size_t len);

/* From now on, a record with other than n fields is an error (n = 0: any). */
void csv_expect(struct csv *r, size_t n);

/*
 * Read the next record: *ncells cells in cells[] (NUL-terminated, owned by
 * r, valid until the next call), *line the line it starts on.  Returns 1 for
 * a record; 0 at the end; -1 for a bad record (see above; *line is set,
 * csv_error says why, and the next call reads on from the following line);
 * CSV_ENOMEM when out of memory.
 */
int csv_next(struct csv *r, char **cells, size_t *ncells, int *line);

/*
 * Why the last csv_next returned -1: a static or reader-owned string, valid
 * until the next call; *cell (may be NULL) gets the index of the field at
 * fault, or (size_t)-1 when no single field is.
 */
const char *csv_error(const struct csv *r, size_t *cell);

/*
 * Where the next csv_next starts reading: a byte offset into the buffer
 * given to csv_init, and (when line is not NULL) the line it is on.
 * Record i spans from the offset before its csv_next to the offset after.
 */
size_t csv_offset(const struct csv *r, int *line);

/* Free the reader's buffer (r itself belongs to the caller). */
void csv_free(struct csv *r);

#endif
