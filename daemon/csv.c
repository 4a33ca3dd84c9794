/* csv.c: RFC 4180 reader; cells are copied into one growing buffer. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void
csv_init(struct csv *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = buf;
	r->end = buf + len;
	r->line = 1;
	/* skip a UTF-8 byte order mark, as spreadsheets write one */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

void
csv_free(struct csv *r)
{
	free(r->buf);
	r->buf = NULL;
}

int
csv_next(struct csv *r, char **cells, size_t *ncells, int *line)
{
	size_t len = 0, starts[CSV_MAX_CELLS], n = 0;
	int quoted = 0, in_cell_start = 1;

	/* skip blank lines */
	while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
		if (*r->p == '\n')
			r->line++;
		r->p++;
	}
	*line = r->line;
	if (r->p >= r->end)
		return 0;
	/* the record is at most the rest of the input plus NULs */
	if ((size_t)(r->end - r->p) + CSV_MAX_CELLS + 1 > r->cap) {
		size_t cap = (size_t)(r->end - r->p) + CSV_MAX_CELLS + 1;
		char *b = realloc(r->buf, cap);
		if (b == NULL)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	starts[n++] = 0;
	while (r->p < r->end) {
		char ch = *r->p++;

		if (ch == '\0')
			return -1;
		if (quoted) {
			if (ch == '"') {
				if (r->p < r->end && *r->p == '"') {
					r->buf[len++] = '"';
					r->p++;
				} else
					quoted = 0;
			} else {
				if (ch == '\n')
					r->line++;
				r->buf[len++] = ch;
			}
			continue;
		}
		if (ch == '"' && in_cell_start) {
			quoted = 1;
			in_cell_start = 0;
			continue;
		}
		in_cell_start = 0;
		if (ch == ',') {
			if (n == CSV_MAX_CELLS)
				return -1;
			r->buf[len++] = '\0';
			starts[n++] = len;
			in_cell_start = 1;
		} else if (ch == '\n' || ch == '\r') {
			if (ch == '\r' && r->p < r->end && *r->p == '\n')
				r->p++;
			r->line++;
			break;
		} else
			r->buf[len++] = ch;
	}
	if (quoted)
		return -1;
	r->buf[len] = '\0';
	for (size_t i = 0; i < n; i++)
		cells[i] = r->buf + starts[i];
	*ncells = n;
	return 1;
}
