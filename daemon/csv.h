/*
 * csv.h: an RFC 4180 reader (quotes, doubled quotes, CRLF, embedded
 * newlines) that remembers the line each record starts on.
 */
#ifndef CDHT_CSV_H
#define CDHT_CSV_H

#include <stddef.h>

#define CSV_MAX_CELLS 64

struct csv {
	const char *p, *end;
	int line; /* line the next record starts on, from 1 */
	char *buf;
	size_t cap;
};

/* Start reading buf[0..len); buf must outlive the reader. */
void csv_init(struct csv *r, const char *buf, size_t len);

/*
 * Read the next record: *ncells cells in cells[] (NUL-terminated, owned by
 * r, valid until the next call), *line its first line.  Returns 1 for a
 * record, 0 at the end, -1 on a syntax error (unterminated quote, too many
 * cells, NUL byte, out of memory) with *line set.
 */
int csv_next(struct csv *r, char **cells, size_t *ncells, int *line);

void csv_free(struct csv *r);

#endif
