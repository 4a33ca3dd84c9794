/*
 * test_protocol_doc.c: proto/PROTOCOL.md section 5.6 ("Counters, in wire
 * order") against proto/counters.h.  The table is what a second
 * implementation is built from, so every index must name the counter that
 * cdht_counter_names[] has at that index, and the table must list exactly
 * CDHT_NCOUNTERS counters: reordering counters.h or the table fails here.
 *
 * The path of PROTOCOL.md comes from argv[1], else from CDHT_PROTOCOL_MD
 * (set by tests/unit/CMakeLists.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"

#ifndef CDHT_PROTOCOL_MD
#define CDHT_PROTOCOL_MD "proto/PROTOCOL.md"
#endif

#define SECTION     "### 5.6 Counters, in wire order"
#define MAX_ENTRIES 256
#define MAX_NAME    64

static const char *doc_path = CDHT_PROTOCOL_MD;

/* One (index, counter) pair of the table. */
struct entry {
	int index;
	char name[MAX_NAME];
	int line;
};

struct table {
	struct entry e[MAX_ENTRIES];
	int n;
};

/* The whole file as a NUL-terminated string (caller frees), or NULL. */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(len + 1)) != NULL) {
		if (fread(buf, 1, len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else
			buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* s without leading and trailing blanks, in place. */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (
	    end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One pair of cells: a decimal index and a cell whose first `...` is the
 * name.  Both empty: nothing (the last row of an odd count).  0 or -1. */
static int
parse_pair(struct table *t, char *icell, char *ncell, int line, char *err,
    size_t errlen)
{
	char *i = trim(icell), *n = trim(ncell), *open, *close, *end;
	long idx;
	struct entry *e;

	if (*i == '\0' && *n == '\0')
		return 0;
	idx = strtol(i, &end, 10);
	if (*i == '\0' || *end != '\0' || idx < 0 || idx >= MAX_ENTRIES) {
		snprintf(err, errlen, "line %d: index \"%s\" is not a number",
		    line, i);
		return -1;
	}
	if ((open = strchr(n, '`')) == NULL ||
	    (close = strchr(open + 1, '`')) == NULL || close == open + 1 ||
	    close - open - 1 >= MAX_NAME) {
		snprintf(err, errlen,
		    "line %d: counter \"%s\" has no name in backticks", line,
		    n);
		return -1;
	}
	if (t->n == MAX_ENTRIES) {
		snprintf(err, errlen, "line %d: more than %d counters", line,
		    MAX_ENTRIES);
		return -1;
	}
	e = &t->e[t->n++];
	e->index = (int)idx;
	e->line = line;
	memcpy(e->name, open + 1, close - open - 1);
	e->name[close - open - 1] = '\0';
	return 0;
}

/*
 * Read the table of section 5.6 of text into t: rows "| i | `name` | j |
 * `name` |" after a header row and a separator row, up to the end of the
 * table.  0, or -1 with err set (no section, no table, a malformed row).
 * text is modified (rows are split in place).
 */
static int
parse_table(char *text, struct table *t, char *err, size_t errlen)
{
	char *p = strstr(text, "\n" SECTION "\n"), *next, *cell[6];
	int line = 1, in_table = 0, rows = 0;

	t->n = 0;
	if (p == NULL) {
		snprintf(err, errlen, "no section \"%s\"", SECTION);
		return -1;
	}
	p++;
	for (char *q = text; q < p; q++)
		line += *q == '\n';
	/* From the line after the heading to the end of the table. */
	for (p = strchr(p, '\n') + 1, line++; *p != '\0'; p = next, line++) {
		int nc = 0;

		next = strchr(p, '\n');
		if (next == NULL)
			next = p + strlen(p);
		else
			*next++ = '\0';
		if (*p == '#')
			break; /* the next section */
		if (*p != '|') {
			if (in_table)
				break; /* the end of the table */
			continue;
		}
		in_table = 1;
		/* "| a | b | c | d |": cells between the bars. */
		for (char *c = p + 1; nc < 6;) {
			char *bar = strchr(c, '|');

			if (bar == NULL)
				break;
			*bar = '\0';
			cell[nc++] = c;
			c = bar + 1;
		}
		if (nc != 4) {
			snprintf(err, errlen,
			    "line %d: want 4 cells (index, counter, index, "
			    "counter), got %d",
			    line, nc);
			return -1;
		}
		if (rows++ < 2)
			continue; /* the header and the |---| row */
		if (parse_pair(t, cell[0], cell[1], line, err, errlen) < 0 ||
		    parse_pair(t, cell[2], cell[3], line, err, errlen) < 0)
			return -1;
	}
	if (rows < 3) {
		snprintf(err, errlen, "section 5.6 has no table of counters");
		return -1;
	}
	return 0;
}

/*
 * Whether t lists exactly names[0..n-1]: each index once, each index with
 * the name at that index, every index below n.  0, or -1 with err naming
 * the first difference.
 */
static int
check_table(const struct table *t, const char *const *names, int n, char *err,
    size_t errlen)
{
	const struct entry *seen[MAX_ENTRIES] = {0};

	for (int k = 0; k < t->n; k++) {
		const struct entry *e = &t->e[k];

		if (e->index >= n) {
			snprintf(err, errlen,
			    "line %d: index %d (`%s`) but counters.h defines "
			    "%d counters",
			    e->line, e->index, e->name, n);
			return -1;
		}
		if (seen[e->index] != NULL) {
			snprintf(err, errlen,
			    "line %d: index %d listed twice (also line %d)",
			    e->line, e->index, seen[e->index]->line);
			return -1;
		}
		seen[e->index] = e;
		if (strcmp(e->name, names[e->index]) != 0) {
			snprintf(err, errlen,
			    "line %d: index %d is `%s` in PROTOCOL.md but `%s` "
			    "in counters.h",
			    e->line, e->index, e->name, names[e->index]);
			return -1;
		}
	}
	for (int i = 0; i < n; i++)
		if (seen[i] == NULL) {
			snprintf(err, errlen,
			    "index %d (`%s`) is missing from the table", i,
			    names[i]);
			return -1;
		}
	if (t->n != n) {
		snprintf(err, errlen, "the table lists %d counters, want %d",
		    t->n, n);
		return -1;
	}
	return 0;
}

/* Parse the real PROTOCOL.md into t (asserting it parses). */
static void
load(struct table *t)
{
	char err[512] = "";
	char *text = read_file(doc_path);

	if (text == NULL)
		fail_msg("cannot read %s", doc_path);
	if (parse_table(text, t, err, sizeof err) < 0) {
		free(text);
		fail_msg("%s: %s", doc_path, err);
	}
	free(text);
}

static void
test_table_matches_counters_h(void **state)
{
	static struct table t;
	char err[512] = "";

	load(&t);
	if (check_table(
	        &t, cdht_counter_names, CDHT_NCOUNTERS, err, sizeof err) < 0)
		fail_msg("%s section 5.6 disagrees with proto/counters.h: %s",
		    doc_path, err);
	assert_int_equal(t.n, CDHT_NCOUNTERS);
}

/* The check itself: it notices two swapped names, a missing counter, an
 * extra one and a duplicate index. */
static void
test_check_notices_differences(void **state)
{
	static struct table t, u;
	char err[512];
	char tmp[MAX_NAME];

	load(&t);
	assert_true(t.n >= 2);

	u = t;
	memcpy(tmp, u.e[0].name, MAX_NAME);
	memcpy(u.e[0].name, u.e[1].name, MAX_NAME);
	memcpy(u.e[1].name, tmp, MAX_NAME);
	assert_int_equal(check_table(&u, cdht_counter_names, CDHT_NCOUNTERS,
	                     err, sizeof err),
	    -1);

	u = t;
	u.n--;
	assert_int_equal(check_table(&u, cdht_counter_names, CDHT_NCOUNTERS,
	                     err, sizeof err),
	    -1);

	assert_int_equal(check_table(&t, cdht_counter_names, CDHT_NCOUNTERS - 1,
	                     err, sizeof err),
	    -1);

	u = t;
	u.e[1].index = u.e[0].index;
	memcpy(u.e[1].name, u.e[0].name, MAX_NAME);
	assert_int_equal(check_table(&u, cdht_counter_names, CDHT_NCOUNTERS,
	                     err, sizeof err),
	    -1);
}

/* The parser on a small document: two pairs a row, an empty last pair,
 * notes after the name, the table ending at the next heading. */
static void
test_parse_small_doc(void **state)
{
	static struct table t;
	char err[512] = "";
	char doc[] = "# x\n\n" SECTION "\n\nText.\n\n"
	             "| index | counter | index | counter |\n"
	             "|---|---|---|---|\n"
	             "| 0 | `a` | 2 | `c` (a note) |\n"
	             "| 1 | `b` | | |\n"
	             "\nAfter.\n\n## 6. Next\n\n| 9 | `z` | 8 | `y` |\n";
	char bad[] = "\n" SECTION "\n\n| index | counter | index | counter |\n"
	             "|---|---|---|---|\n| 0 | a | 1 | `b` |\n";
	static const char *const names[] = {"a", "b", "c"};

	assert_int_equal(parse_table(doc, &t, err, sizeof err), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.e[0].name, "a");
	assert_int_equal(t.e[1].index, 2);
	assert_string_equal(t.e[1].name, "c");
	assert_int_equal(t.e[2].line, 10);
	assert_int_equal(check_table(&t, names, 3, err, sizeof err), 0);
	assert_int_equal(parse_table(bad, &t, err, sizeof err), -1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_matches_counters_h),
	    cmocka_unit_test(test_check_notices_differences),
	    cmocka_unit_test(test_parse_small_doc),
	};

	if (argc > 1)
		doc_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
