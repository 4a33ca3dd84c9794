/*
 * table.h: aligned text tables for humans.  Cells are UTF-8; columns are
 * aligned by display width (code points, combining marks counting zero), so
 * Vietnamese labels line up whatever their byte length.
 */
#ifndef CDHT_TABLE_H
#define CDHT_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct table;

/*
 * A table of ncols columns, all left-aligned.  Returns NULL on ENOMEM; free
 * with table_free().
 */
struct table *table_new(int ncols);

/* Free t and NULL the caller's pointer; tolerates NULL. */
void table_free(struct table **tp);

/* Right-align column col (numbers). */
void table_right(struct table *t, int col);

/* Start a new row; the cells added next fill it from the left. */
void table_row(struct table *t);

/*
 * Append one cell to the current row (the text is copied; control
 * characters become '?').  Cells beyond ncols are ignored; a row with fewer
 * cells is padded with empty ones.
 */
void table_cell(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Make t at most max display columns wide (as table_print prints it, without
 * its indent) by cutting the cells of column col, each cut ending in an
 * ellipsis, but to no fewer than min_col columns: the table may stay
 * wider than max when the other columns alone are.
 */
void table_fit(struct table *t, int col, size_t max, size_t min_col);

/* The display width table_print gives t, without its indent. */
size_t table_total_width(const struct table *t);

/*
 * Print t on fp, columns separated by two spaces, each row prefixed by
 * indent spaces, no trailing blanks.  With rule set, a line of '-' under the
 * first row (the header).
 */
void table_print(const struct table *t, FILE *fp, int indent, int rule);

/*
 * Print a JSON object as a two-column key/value table on fp: the keys in
 * order (a NULL-terminated list; missing keys skipped) first, then any
 * others in the object's order.  Values: strings as is, numbers, yes/no,
 * arrays comma-joined, null as "-", objects as compact JSON.
 */
void table_print_object(FILE *fp, const json_t *obj, const char *const *order);

/*
 * A JSON value as text by the rules of table_print_object(); caller frees.
 * NULL on ENOMEM.
 */
char *table_json_text(const json_t *v);

/* Display width of a UTF-8 string: code points, combining marks excluded. */
size_t table_width(const char *s);

#endif
