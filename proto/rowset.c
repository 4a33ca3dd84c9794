/*
 * rowset.c: the set of rowset.h, a chained hash table (FNV-1a) that
 * doubles when it is as full as it has buckets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowset.h"
#include "valid.h"

struct rowset_entry {
	struct rowset_entry *next;
	long year, line;
	size_t n;
	char pid[]; /* n bytes, not NUL-terminated */
};

struct rowset {
	struct rowset_entry **b;
	size_t nb, count;
};

static uint64_t
rowset_hash(long year, const char *pid, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)year;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)pid[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct rowset *
rowset_new(void)
{
	struct rowset *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->nb = 64;
	if ((s->b = calloc(s->nb, sizeof(*s->b))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
rowset_free(struct rowset **sp)
{
	struct rowset *s;
	struct rowset_entry *e, *next;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	for (size_t i = 0; i < s->nb; i++)
		for (e = s->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(s->b);
	free(s);
	*sp = NULL;
}

/* Double the buckets; on ENOMEM keep the old ones (slower, still right). */
static void
rowset_grow(struct rowset *s)
{
	size_t nb = 2 * s->nb;
	struct rowset_entry **b = calloc(nb, sizeof(*b)), *e, *next;

	if (b == NULL)
		return;
	for (size_t i = 0; i < s->nb; i++)
		for (e = s->b[i]; e != NULL; e = next) {
			size_t k = rowset_hash(e->year, e->pid, e->n) % nb;

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(s->b);
	s->b = b;
	s->nb = nb;
}

long
rowset_add(struct rowset *s, long year, const char *pid, size_t n, long line)
{
	size_t k = rowset_hash(year, pid, n) % s->nb;
	struct rowset_entry *e;

	for (e = s->b[k]; e != NULL; e = e->next)
		if (e->year == year && e->n == n && memcmp(e->pid, pid, n) == 0)
			return e->line > 0 ? e->line : 1;
	if ((e = malloc(sizeof(*e) + n)) == NULL)
		return -1;
	e->year = year;
	e->line = line;
	e->n = n;
	memcpy(e->pid, pid, n);
	e->next = s->b[k];
	s->b[k] = e;
	if (++s->count > s->nb)
		rowset_grow(s);
	return 0;
}

const char *
rowset_message(
    char *buf, size_t cap, long year, const char *pid, size_t n, long first)
{
	char q[3 * VALID_PID_MAX + 8];

	valid_quote(q, sizeof(q), pid, n);
	snprintf(buf, cap,
	    "year %ld, person_id \"%s\" is already on line %ld of this file; "
	    "this line is not stored",
	    year, q, first);
	return buf;
}
