/*
 * rowset.h: the (year, person_id) pairs of one CSV file, to refuse a
 * repeated row on its later line instead of letting it silently replace
 * the earlier one.  One implementation for the node (a CSV request) and
 * `cdht import` (a whole file, sent in several requests), with the one
 * message both report.
 */
#ifndef CDHT_ROWSET_H
#define CDHT_ROWSET_H

#include <stddef.h>

struct rowset;

/* An empty set; NULL when out of memory.  Free with rowset_free(). */
struct rowset *rowset_new(void);

/* Free s and NULL the caller's pointer; tolerates NULL. */
void rowset_free(struct rowset **sp);

/*
 * Add (year, pid[0..n)) first seen on line.  Returns 0 when new, the line
 * it was first seen on when it is a repeat (the set is unchanged), or -1
 * when out of memory.
 */
long rowset_add(
    struct rowset *s, long year, const char *pid, size_t n, long line);

/*
 * The error message for a repeat of (year, pid) first seen on line first,
 * into buf (cap bytes); pid is quoted as valid text.  Returns buf.  The
 * error's code is ROWSET_CODE and its field "person_id".
 */
#define ROWSET_CODE "duplicate_row"
const char *rowset_message(
    char *buf, size_t cap, long year, const char *pid, size_t n, long first);

#endif
