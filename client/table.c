/*
 * table.c: aligned text tables.  A table owns copies of its cells; widths
 * are computed at print time from the UTF-8 display width of each cell.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct table {
	int ncols;
	char *right;  /* per column: 1 = right-aligned */
	char **cells; /* nrows * ncols, NULL = empty */
	size_t nrows, cap;
	int cur; /* next column of the last row */
};

struct table *
table_new(int ncols)
{
	struct table *t;

	if (ncols < 1 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	if ((t->right = calloc((size_t)ncols, 1)) == NULL) {
		free(t);
		return NULL;
	}
	t->cur = ncols;
	return t;
}

void
table_free(struct table **tp)
{
	struct table *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
	*tp = NULL;
}

void
table_right(struct table *t, int col)
{
	if (t != NULL && col >= 0 && col < t->ncols)
		t->right[col] = 1;
}

void
table_row(struct table *t)
{
	char **p;
	size_t n;

	if (t == NULL)
		return;
	if (t->nrows == t->cap) {
		n = t->cap ? 2 * t->cap : 16;
		p = realloc(t->cells, n * (size_t)t->ncols * sizeof(*p));
		if (p == NULL) {
			t->cur = t->ncols; /* drop this row's cells */
			return;
		}
		t->cells = p;
		t->cap = n;
	}
	memset(t->cells + t->nrows * (size_t)t->ncols, 0,
	    (size_t)t->ncols * sizeof(*t->cells));
	t->nrows++;
	t->cur = 0;
}

void
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t == NULL || t->cur >= t->ncols)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		for (char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	t->cells[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->cur++] = s;
}

size_t
table_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	unsigned cp;

	while (*p != '\0') {
		if (*p < 0x80) {
			w++;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 &&
		           (p[2] & 0xc0) == 0x80) {
			cp = (unsigned)(p[0] & 0x0f) << 12 |
			     (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
			p += 3;
		} else {
			/* 4-byte sequences, and stray bytes: one column each */
			cp = 0;
			p++;
			while ((*p & 0xc0) == 0x80)
				p++;
		}
		/* Combining diacritics (decomposed Vietnamese) take no column.
		 */
		if ((cp >= 0x300 && cp <= 0x36f) ||
		    (cp >= 0x1dc0 && cp <= 0x1dff))
			continue;
		w++;
	}
	return w;
}

/* The display widths of t's columns into width[] (ncols entries). */
static void
table_widths(const struct table *t, size_t *width)
{
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			const char *s =
			    t->cells[r * (size_t)t->ncols + (size_t)c];
			size_t w = s != NULL ? table_width(s) : 0;

			if (w > width[c])
				width[c] = w;
		}
}

/*
 * Cut s in place to at most max display columns, the last being an
 * ellipsis when anything was cut; the cut falls between characters, and
 * combining marks stay with their letter.
 */
static void
table_cut(char **sp, size_t max)
{
	char *s = *sp, *p, *out;
	size_t w = 0;

	if (s == NULL || max < 1 || table_width(s) <= max)
		return;
	for (p = s; *p != '\0';) {
		char *q = p + 1;
		char save;

		while ((*q & 0xc0) == 0x80)
			q++;
		save = *q;
		*q = '\0';
		w += table_width(p);
		*q = save;
		if (w > max - 1)
			break;
		p = q;
	}
	if ((out = malloc((size_t)(p - s) + 4)) == NULL)
		return;
	memcpy(out, s, (size_t)(p - s));
	memcpy(out + (p - s), "\xe2\x80\xa6", 4); /* U+2026 and NUL */
	free(s);
	*sp = out;
}

void
table_fit(struct table *t, int col, size_t max, size_t min_col)
{
	size_t *width, total = 0, limit;

	if (t == NULL || col < 0 || col >= t->ncols || t->nrows == 0)
		return;
	if ((width = calloc((size_t)t->ncols, sizeof(*width))) == NULL)
		return;
	table_widths(t, width);
	for (int c = 0; c < t->ncols; c++)
		total += width[c] + (c > 0 ? 2 : 0);
	if (total > max) {
		limit =
		    total - max >= width[col] ? 0 : width[col] - (total - max);
		if (limit < min_col)
			limit = min_col;
		for (size_t r = 0; r < t->nrows; r++)
			table_cut(&t->cells[r * (size_t)t->ncols + (size_t)col],
			    limit);
	}
	free(width);
}

size_t
table_total_width(const struct table *t)
{
	size_t *width, total = 0;

	if (t == NULL ||
	    (width = calloc((size_t)t->ncols, sizeof(*width))) == NULL)
		return 0;
	table_widths(t, width);
	for (int c = 0; c < t->ncols; c++)
		total += width[c] + (c > 0 ? 2 : 0);
	free(width);
	return total;
}

static void
table_pad(FILE *fp, size_t n)
{
	while (n-- > 0)
		fputc(' ', fp);
}

void
table_print(const struct table *t, FILE *fp, int indent, int rule)
{
	size_t *width, total = 0;
	int last;

	if (t == NULL || t->nrows == 0)
		return;
	if ((width = calloc((size_t)t->ncols, sizeof(*width))) == NULL)
		return;
	table_widths(t, width);
	for (int c = 0; c < t->ncols; c++)
		total += width[c] + (c > 0 ? 2 : 0);

	for (size_t r = 0; r < t->nrows; r++) {
		/* The last non-empty cell ends the line: no trailing blanks. */
		last = -1;
		for (int c = 0; c < t->ncols; c++) {
			const char *s =
			    t->cells[r * (size_t)t->ncols + (size_t)c];

			if (s != NULL && *s != '\0')
				last = c;
		}
		table_pad(fp, (size_t)indent);
		for (int c = 0; c <= last; c++) {
			const char *s =
			    t->cells[r * (size_t)t->ncols + (size_t)c];
			size_t w;

			if (s == NULL)
				s = "";
			w = table_width(s);
			if (c > 0)
				fputs("  ", fp);
			if (t->right[c])
				table_pad(fp, width[c] - w);
			fputs(s, fp);
			if (!t->right[c] && c < last)
				table_pad(fp, width[c] - w);
		}
		fputc('\n', fp);
		if (r == 0 && rule) {
			table_pad(fp, (size_t)indent);
			for (size_t i = 0; i < total; i++)
				fputc('-', fp);
			fputc('\n', fp);
		}
	}
	free(width);
}

char *
table_json_text(const json_t *v)
{
	char *s = NULL, *p;
	size_t i;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(
		        &s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			return NULL;
		return s;
	case JSON_REAL:
		if (asprintf(&s, "%.2f", json_real_value(v)) < 0)
			return NULL;
		return s;
	case JSON_TRUE:
		return strdup("yes");
	case JSON_FALSE:
		return strdup("no");
	case JSON_NULL:
		return strdup("-");
	case JSON_ARRAY:
		if ((s = strdup("")) == NULL)
			return NULL;
		json_array_foreach(v, i, e)
		{
			char *t = table_json_text(e);

			if (t == NULL ||
			    asprintf(&p, "%s%s%s", s, i ? "," : "", t) < 0) {
				free(t);
				free(s);
				return NULL;
			}
			free(t);
			free(s);
			s = p;
		}
		return s;
	default:
		return json_dumps(v, JSON_COMPACT);
	}
}

static int
table_in(const char *key, const char *const *order)
{
	for (; *order != NULL; order++)
		if (strcmp(key, *order) == 0)
			return 1;
	return 0;
}

static void
table_object_row(struct table *t, const char *key, const json_t *v)
{
	char *s = table_json_text(v);

	table_row(t);
	table_cell(t, "%s", key);
	table_cell(t, "%s", s != NULL ? s : "?");
	free(s);
}

void
table_print_object(FILE *fp, const json_t *obj, const char *const *order)
{
	struct table *t;
	const char *key;
	json_t *v;

	if ((t = table_new(2)) == NULL)
		return;
	for (const char *const *k = order; *k != NULL; k++)
		if ((v = json_object_get(obj, *k)) != NULL)
			table_object_row(t, *k, v);
	json_object_foreach((json_t *)obj, key, v)
	{
		if (!table_in(key, order))
			table_object_row(t, key, v);
	}
	table_print(t, fp, 0, 0);
	table_free(&t);
}
