/*
 * csv.c: the CSV reader of csv.h; cells are copied into one buffer that
 * grows to the largest record read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void
csv_init(struct csv *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->base = r->p = buf;
	r->end = buf + len;
	r->line = 1;
	r->why_cell = (size_t)-1;
	r->sep = ',';
	/* skip a UTF-8 byte order mark, as spreadsheets write one */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

void
csv_init_sep(struct csv *r, const char *buf, size_t len, char sep)
{
	csv_init(r, buf, len);
	r->sep = sep;
}

char
csv_sniff(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	long commas = 0, semis = 0;
	int quoted = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (*p == '\n' || *p == '\r'))
		p++;
	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

void
csv_expect(struct csv *r, size_t n)
{
	r->expect = n;
}

void
csv_free(struct csv *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

const char *
csv_error(const struct csv *r, size_t *cell)
{
	if (cell != NULL)
		*cell = r->why_cell;
	return r->why != NULL ? r->why : "no error";
}

size_t
csv_offset(const struct csv *r, int *line)
{
	if (line != NULL)
		*line = r->line;
	return (size_t)(r->p - r->base);
}

/* Bytes of the line break at p: 2 for CRLF, 1 for LF or CR, else 0. */
static size_t
csv_eol(const char *p, const char *end)
{
	if (p >= end)
		return 0;
	if (*p == '\n')
		return 1;
	if (*p == '\r')
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	return 0;
}

/* Append ch to the cell buffer; -1 when out of memory. */
static int
csv_put(struct csv *r, size_t *len, char ch)
{
	if (*len == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		char *b = realloc(r->buf, cap);

		if (b == NULL)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	r->buf[(*len)++] = ch;
	return 0;
}

/* Room for need more bytes in the cell buffer; -1 when out of memory. */
static int
csv_reserve(struct csv *r, size_t len, size_t need)
{
	size_t cap = r->cap ? r->cap : 256;
	char *b;

	while (cap - len < need)
		cap *= 2;
	if (cap == r->cap)
		return 0;
	if ((b = realloc(r->buf, cap)) == NULL)
		return -1;
	r->buf = b;
	r->cap = cap;
	return 0;
}

/*
 * The record starting at rec (on line first) is bad: note why and resume at
 * the line after its first.
 */
static int
csv_bad(struct csv *r, const char *rec, int first, const char *why, size_t cell)
{
	size_t e;

	r->why = why;
	r->why_cell = cell;
	for (r->p = rec; r->p < r->end && csv_eol(r->p, r->end) == 0; r->p++)
		;
	e = csv_eol(r->p, r->end);
	r->p += e;
	r->line = first + (e > 0);
	return -1;
}

int
csv_next(struct csv *r, char **cells, size_t *ncells, int *line)
{
	size_t len = 0, starts[CSV_MAX_CELLS], n = 0, e;
	const char *rec;

	r->why = NULL;
	r->why_cell = (size_t)-1;
	/* skip blank lines */
	while ((e = csv_eol(r->p, r->end)) > 0) {
		r->p += e;
		r->line++;
	}
	*line = r->line;
	if (r->p >= r->end)
		return 0;
	rec = r->p;
	starts[n++] = 0;
	for (;;) {
		if (r->p < r->end && *r->p == '"') {
			for (r->p++;; r->p++) {
				char ch;

				if (r->p >= r->end)
					return csv_bad(r, rec, *line,
					    "a quoted field never closes",
					    n - 1);
				ch = *r->p;
				if (ch == '"') {
					if (r->p + 1 < r->end && r->p[1] == '"')
						r->p++;
					else
						break;
				} else if (ch == '\0')
					return csv_bad(
					    r, rec, *line, "a NUL byte", n - 1);
				else if (ch == '\n' ||
				         (ch == '\r' &&
				             csv_eol(r->p, r->end) == 1))
					r->line++;
				if (csv_put(r, &len, ch) == -1)
					return CSV_ENOMEM;
			}
			r->p++; /* the closing quote */
			if (r->p < r->end && *r->p != r->sep &&
			    csv_eol(r->p, r->end) == 0)
				return csv_bad(r, rec, *line,
				    "text after the closing quote of a field",
				    n - 1);
		} else {
			/* up to the separator or a line break, copied at once
			 */
			const char *q = r->p;
			char sep = r->sep;

			while (q < r->end && *q != sep && *q != '\n' &&
			       *q != '\r' && *q != '"' && *q != '\0')
				q++;
			if (q < r->end && *q == '"')
				return csv_bad(r, rec, *line,
				    "a quote inside an unquoted field "
				    "(to keep it, quote the whole field "
				    "and double the quote)",
				    n - 1);
			if (q < r->end && *q == '\0')
				return csv_bad(
				    r, rec, *line, "a NUL byte", n - 1);
			if (csv_reserve(r, len, (size_t)(q - r->p)) == -1)
				return CSV_ENOMEM;
			memcpy(r->buf + len, r->p, (size_t)(q - r->p));
			len += (size_t)(q - r->p);
			r->p = q;
		}
		if (csv_put(r, &len, '\0') == -1)
			return CSV_ENOMEM;
		if (r->p < r->end && *r->p == r->sep) {
			r->p++;
			if (n == CSV_MAX_CELLS) {
				snprintf(r->why_buf, sizeof(r->why_buf),
				    "more than %d fields", CSV_MAX_CELLS);
				return csv_bad(
				    r, rec, *line, r->why_buf, (size_t)-1);
			}
			starts[n++] = len;
			continue;
		}
		e = csv_eol(r->p, r->end);
		r->p += e;
		r->line += e > 0;
		break;
	}
	if (r->expect != 0 && n != r->expect) {
		snprintf(r->why_buf, sizeof(r->why_buf),
		    "%zu fields where the header has %zu", n, r->expect);
		return csv_bad(r, rec, *line, r->why_buf, (size_t)-1);
	}
	for (size_t i = 0; i < n; i++)
		cells[i] = r->buf + starts[i];
	*ncells = n;
	return 1;
}
