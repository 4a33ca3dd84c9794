/*
 * test_csv.c: proto/csv.c, the CSV reader shared by the node and cdht
 * import: plain records, quoted cells with commas, doubled quotes and
 * embedded newlines (and the line numbers of the records after them), CRLF,
 * a UTF-8 BOM, blank lines, empty cells, a last record without a newline,
 * and the errors (unterminated quote, stray quote, text after a closing
 * quote, too many cells, NUL byte, field count), each costing its own line
 * only, with the reader going on from the next line.  A random round trip
 * encodes random records the RFC way here and checks every cell and every
 * start line; a random file with stray quotes on random lines must give
 * back every other line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* Read the next record and check its line and cells (NULL-terminated). */
static void
expect(struct csv *r, int line, const char *const *want)
{
	char *cells[CSV_MAX_CELLS];
	size_t n = 0, k = 0;
	int got_line = -1;

	assert_int_equal(csv_next(r, cells, &n, &got_line), 1);
	assert_int_equal(got_line, line);
	while (want[k] != NULL)
		k++;
	assert_int_equal(n, k);
	for (size_t i = 0; i < k; i++)
		assert_string_equal(cells[i], want[i]);
}

static void
expect_end(struct csv *r)
{
	char *cells[CSV_MAX_CELLS];
	size_t n;
	int line;

	assert_int_equal(csv_next(r, cells, &n, &line), 0);
	/* and it stays at the end */
	assert_int_equal(csv_next(r, cells, &n, &line), 0);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
test_plain(void **state)
{
	static const char in[] = "year,person_id,s1\n2025,P1,8\n2026,P2,9\n";
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("year", "person_id", "s1"));
	expect(&r, 2, W("2025", "P1", "8"));
	expect(&r, 3, W("2026", "P2", "9"));
	expect_end(&r);
	csv_free(&r);
}

static void
test_quotes(void **state)
{
	static const char in[] = "\"a,b\",c,\"\"\n"
	                         "\"he said \"\"hi\"\"\",\"\"\"\"\n"
	                         "x,\"quoted\",\"  spaced  \"\n";
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("a,b", "c", ""));
	expect(&r, 2, W("he said \"hi\"", "\""));
	expect(&r, 3, W("x", "quoted", "  spaced  "));
	expect_end(&r);
	csv_free(&r);
}

static void
test_embedded_newline(void **state)
{
	static const char in[] = "1,\"line one\nline two\",3\n"
	                         "4,5,6\n"
	                         "\"a\n\nb\n\",7\n"
	                         "8,\"crlf\r\ninside\"\r\n"
	                         "last,row\n";
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("1", "line one\nline two", "3"));
	/* the record after a two-line record starts on line 3 */
	expect(&r, 3, W("4", "5", "6"));
	expect(&r, 4, W("a\n\nb\n", "7"));
	expect(&r, 8, W("8", "crlf\r\ninside"));
	expect(&r, 10, W("last", "row"));
	expect_end(&r);
	csv_free(&r);
}

static void
test_crlf_bom_blank(void **state)
{
	static const char in[] = "\xef\xbb\xbfyear,name\r\n"
	                         "\r\n"
	                         "2025,Nguy\xe1\xbb\x85n\r\n"
	                         "\n"
	                         "\n"
	                         "2026,\"Tr\xe1\xba\xa7n\"\r\n"
	                         "\r\n";
	struct csv r;

	csv_init(&r, in, strlen(in));
	/* the BOM is not part of the first cell */
	expect(&r, 1, W("year", "name"));
	expect(&r, 3, W("2025", "Nguy\xe1\xbb\x85n"));
	expect(&r, 6, W("2026", "Tr\xe1\xba\xa7n"));
	expect_end(&r);
	csv_free(&r);
}

static void
test_empty_cells_and_no_final_newline(void **state)
{
	static const char in[] = ",,\na,\n,b\nlast";
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("", "", ""));
	expect(&r, 2, W("a", ""));
	expect(&r, 3, W("", "b"));
	expect(&r, 4, W("last"));
	expect_end(&r);
	csv_free(&r);
}

static void
test_empty_inputs(void **state)
{
	struct csv r;
	char *cells[CSV_MAX_CELLS];
	size_t n;
	int line;

	csv_init(&r, "", 0);
	assert_int_equal(csv_next(&r, cells, &n, &line), 0);
	csv_free(&r);
	csv_init(&r, "\xef\xbb\xbf", 3);
	assert_int_equal(csv_next(&r, cells, &n, &line), 0);
	csv_free(&r);
	csv_init(&r, "\n\r\n\n", 4);
	assert_int_equal(csv_next(&r, cells, &n, &line), 0);
	csv_free(&r);
	/* a BOM only counts at the very start */
	{
		static const char bom2[] = "a\n\xef\xbb\xbf"
		                           "b\n";

		csv_init(&r, bom2, sizeof(bom2) - 1);
	}
	expect(&r, 1, W("a"));
	expect(&r, 2,
	    W("\xef\xbb\xbf"
	      "b"));
	expect_end(&r);
	csv_free(&r);
	/* the length is honoured: nothing after len is read */
	csv_init(&r, "a,b\nc,d\n", 4);
	expect(&r, 1, W("a", "b"));
	expect_end(&r);
	csv_free(&r);
}

static void
test_unterminated_quote(void **state)
{
	static const char in[] = "year,name\n"
	                         "2025,ok\n"
	                         "2026,\"never closed\n"
	                         "2027,x\n";
	struct csv r;
	char *cells[CSV_MAX_CELLS];
	size_t n;
	int line = 0;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("year", "name"));
	expect(&r, 2, W("2025", "ok"));
	assert_int_equal(csv_next(&r, cells, &n, &line), -1);
	assert_int_equal(line, 3); /* where the bad record starts */
	assert_non_null(strstr(csv_error(&r, NULL), "never closes"));
	/* it costs its own line only: the next line is a record again */
	expect(&r, 4, W("2027", "x"));
	expect_end(&r);
	csv_free(&r);

	csv_init(&r, "\"", 1);
	assert_int_equal(csv_next(&r, cells, &n, &line), -1);
	assert_int_equal(line, 1);
	csv_free(&r);
}

/* Expect a bad record on line, at fault in cell (or (size_t)-1), whose
 * reason contains what. */
static void
expect_bad(struct csv *r, int line, size_t cell, const char *what)
{
	char *cells[CSV_MAX_CELLS];
	size_t n, got_cell = 0;
	int got_line = -1;

	assert_int_equal(csv_next(r, cells, &n, &got_line), -1);
	assert_int_equal(got_line, line);
	if (strstr(csv_error(r, &got_cell), what) == NULL)
		fail_msg("line %d: error \"%s\" lacks \"%s\"", line,
		    csv_error(r, NULL), what);
	assert_int_equal(got_cell, cell);
}

/* RFC 4180: a quote inside an unquoted field is an error of that line. */
static void
test_stray_quote(void **state)
{
	static const char in[] = "year,name,s1\n"
	                         "2025,Tran 5\" Van,8\n"
	                         "2025,Le Thi,9\n"
	                         "2026,x\",7\r\n"
	                         "2026,\"Tran 5\"\" Van\",6\n"
	                         "end\"\n";
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("year", "name", "s1"));
	expect_bad(&r, 2, 1, "quote inside an unquoted field");
	expect(&r, 3, W("2025", "Le Thi", "9"));
	expect_bad(&r, 4, 1, "quote inside an unquoted field");
	/* the same name written the RFC way is fine */
	expect(&r, 5, W("2026", "Tran 5\" Van", "6"));
	expect_bad(&r, 6, 0, "quote inside an unquoted field");
	expect_end(&r);
	csv_free(&r);
}

/*
 * A quote that opens a field and never closes on its line: the quoted field
 * runs on to the next quote, whatever follows is an error, and only the
 * line it started on is lost.
 */
static void
test_unclosed_quote_costs_one_line(void **state)
{
	static const char in[] =
	    "h1,h2\n"
	    "1,\"Tran 5 Van\n" /* 2: opens, never closes */
	    "2,ok\n"
	    "3,\"L\xc3\xaa V\xc4\x83n\"\n" /* 4: pairs with 2 */
	    "4,\"a\nb\"\n"                 /* 5-6: legitimate */
	    "5,\"ab\"c\n"                  /* 7: text after */
	    "6,\"x\"\"\n";                 /* 8: "" then end */
	struct csv r;

	csv_init(&r, in, strlen(in));
	expect(&r, 1, W("h1", "h2"));
	expect_bad(&r, 2, 1, "after the closing quote");
	expect(&r, 3, W("2", "ok"));
	expect(&r, 4, W("3", "L\xc3\xaa V\xc4\x83n"));
	expect(&r, 5, W("4", "a\nb"));
	expect_bad(&r, 7, 1, "after the closing quote");
	expect_bad(&r, 8, 1, "never closes");
	expect_end(&r);
	csv_free(&r);
}

/*
 * The continuation lines of a bad multi-line record are read again as
 * records of their own; csv_expect makes a short or long record an error;
 * csv_offset gives where each record ends.
 */
static void
test_bad_multiline_and_expect(void **state)
{
	static const char in[] = "a,b,c\n"          /* 1 */
	                         "1,\"x\ny\"z,3\n"  /* 2-3: text after quote */
	                         "4,5\n"            /* 4: short */
	                         "6,\"p\nq\",r,s\n" /* 5-6: long */
	                         "7,8,9\n";         /* 7 */
	struct csv r;
	char *cells[CSV_MAX_CELLS];
	size_t n;
	int line;

	csv_init(&r, in, strlen(in));
	assert_int_equal(csv_offset(&r, &line), 0);
	assert_int_equal(line, 1);
	expect(&r, 1, W("a", "b", "c"));
	assert_int_equal(csv_offset(&r, &line), 6);
	assert_int_equal(line, 2);
	csv_expect(&r, 3);
	expect_bad(&r, 2, 1, "after the closing quote");
	assert_int_equal(csv_offset(&r, &line), 11); /* line 3 */
	assert_int_equal(line, 3);
	expect_bad(&r, 3, 0, "quote inside an unquoted field"); /* y"z,3 */
	expect_bad(&r, 4, (size_t)-1, "2 fields where the header has 3");
	expect_bad(&r, 5, (size_t)-1, "4 fields where the header has 3");
	expect_bad(&r, 6, 0, "quote inside an unquoted field"); /* q",r,s */
	expect(&r, 7, W("7", "8", "9"));
	assert_int_equal(csv_offset(&r, &line), strlen(in));
	assert_int_equal(line, 8);
	expect_end(&r);
	csv_free(&r);
	/* csv_expect(0): any count again */
	csv_init(&r, "a\nb,c\n", 6);
	csv_expect(&r, 1);
	expect(&r, 1, W("a"));
	assert_int_equal(csv_next(&r, cells, &n, &line), -1);
	csv_free(&r);
	csv_init(&r, "a\nb,c\n", 6);
	csv_expect(&r, 0);
	expect(&r, 1, W("a"));
	expect(&r, 2, W("b", "c"));
	csv_free(&r);
}

static void
test_too_many_cells(void **state)
{
	char in[4 * (CSV_MAX_CELLS + 2) + 8];
	struct csv r;
	char *cells[CSV_MAX_CELLS];
	size_t n, len = 0;
	int line = 0;

	/* exactly CSV_MAX_CELLS cells is fine */
	for (int i = 0; i < CSV_MAX_CELLS; i++)
		len += (size_t)snprintf(
		    in + len, sizeof(in) - len, "%s%d", i ? "," : "", i % 10);
	in[len++] = '\n';
	csv_init(&r, in, len);
	assert_int_equal(csv_next(&r, cells, &n, &line), 1);
	assert_int_equal(n, CSV_MAX_CELLS);
	assert_int_equal(
	    cells[CSV_MAX_CELLS - 1][0], '0' + (CSV_MAX_CELLS - 1) % 10);
	assert_int_equal(cells[CSV_MAX_CELLS - 1][1], '\0');
	csv_free(&r);

	/* one more is an error, on the second line */
	len = 0;
	len += (size_t)snprintf(in, sizeof(in), "h\n");
	for (int i = 0; i < CSV_MAX_CELLS + 1; i++)
		len += (size_t)snprintf(
		    in + len, sizeof(in) - len, "%sx", i ? "," : "");
	in[len++] = '\n';
	memcpy(in + len, "y\n", 2);
	len += 2;
	csv_init(&r, in, len);
	expect(&r, 1, W("h"));
	assert_int_equal(csv_next(&r, cells, &n, &line), -1);
	assert_int_equal(line, 2);
	assert_non_null(strstr(csv_error(&r, NULL), "more than 64 fields"));
	expect(&r, 3, W("y"));
	csv_free(&r);

	/* commas inside quotes are not cell separators */
	len = 0;
	in[len++] = '"';
	for (int i = 0; i < CSV_MAX_CELLS + 5; i++)
		in[len++] = ',';
	in[len++] = '"';
	csv_init(&r, in, len);
	assert_int_equal(csv_next(&r, cells, &n, &line), 1);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(cells[0]), CSV_MAX_CELLS + 5);
	csv_free(&r);
}

static void
test_nul_byte(void **state)
{
	static const char in[] = "a,b\nc,\0d\n";
	struct csv r;
	char *cells[CSV_MAX_CELLS];
	size_t n;
	int line = 0;

	csv_init(&r, in, sizeof(in) - 1);
	expect(&r, 1, W("a", "b"));
	assert_int_equal(csv_next(&r, cells, &n, &line), -1);
	assert_int_equal(line, 2);
	expect_end(&r);
	csv_free(&r);
}

/*
 * A random file of 20000 records, some with quoted multi-line cells,
 * where random lines get a stray quote inside an unquoted cell: exactly
 * those lines are bad, every other record comes back whole on its line.
 */
static void
test_random_stray_quotes(void **state)
{
	enum { NREC = 20000 };
	char *buf = malloc(NREC * 40), *cells[CSV_MAX_CELLS];
	int *bad = calloc(2 * NREC + 2, sizeof(int)), line, nbad = 0, got = 0;
	size_t len = 0, n;
	struct csv r;

	assert_non_null(buf);
	assert_non_null(bad);
	srand(5);
	len += (size_t)sprintf(buf, "id,name,s1\n");
	line = 2;
	for (int i = 0; i < NREC; i++) {
		int kind = rand() % 50;

		if (kind == 0) { /* a stray quote: line is bad */
			len += (size_t)sprintf(
			    buf + len, "%d,Tran %d\" Van,8\n", i, i % 10);
			bad[line++] = 1;
			nbad++;
		} else if (kind == 1) { /* a legitimate two-line cell */
			len += (size_t)sprintf(
			    buf + len, "%d,\"Le\nThi \"\"%d\"\"\",9\n", i, i);
			line += 2;
		} else {
			len += (size_t)sprintf(buf + len, "%d,N%d,7\n", i, i);
			line++;
		}
	}
	csv_init(&r, buf, len);
	csv_expect(&r, 3);
	expect(&r, 1, W("id", "name", "s1"));
	for (;;) {
		int rc = csv_next(&r, cells, &n, &line);

		if (rc == 0)
			break;
		if (rc == -1) {
			if (!bad[line])
				fail_msg("line %d: unexpected error %s", line,
				    csv_error(&r, NULL));
			bad[line] = 2;
			continue;
		}
		assert_int_equal(rc, 1);
		if (bad[line])
			fail_msg("bad line %d read as a record", line);
		got++;
	}
	for (int l = 0; l < 2 * NREC + 2; l++)
		if (bad[l] == 1)
			fail_msg("bad line %d not reported", l);
	assert_int_equal(got, NREC - nbad);
	assert_true(nbad > 100);
	csv_free(&r);
	free(bad);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Random round trip. */

#define RT_RECORDS  3000
#define RT_MAXCELLS 8
#define RT_MAXLEN   12

struct rt_rec {
	int ncells, line;
	char cell[RT_MAXCELLS][RT_MAXLEN + 1];
};

static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
}

/* Line breaks in s[0..n): LF, CRLF, or a CR alone (csv.h). */
static int
count_nl(const char *s, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n' ||
		     (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'));
	return k;
}

static void
test_random_round_trip(void **state)
{
	static const char alphabet[] = "ab9 ,\"\n\r;\t";
	struct rt_rec *recs = calloc(RT_RECORDS, sizeof(*recs));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct csv r;
	int crlf_cells = 0;

	assert_non_null(recs);
	srand(4180);
	for (int i = 0; i < RT_RECORDS; i++) {
		struct rt_rec *rec = &recs[i];

		/* blank lines before some records */
		for (int b = rand() % 6 == 0 ? 1 + rand() % 2 : 0; b > 0; b--) {
			int crlf = rand() % 2;

			append(&buf, &len, &cap, crlf ? "\r\n" : "\n",
			    crlf ? 2 : 1);
		}
		rec->line = 1 + count_nl(buf ? buf : "", len);
		rec->ncells = 1 + rand() % RT_MAXCELLS;
		for (int c = 0; c < rec->ncells; c++) {
			int cl = rand() % (RT_MAXLEN + 1), quote;
			char *s = rec->cell[c];

			/* mostly plain text, sometimes the special
			 * characters */
			for (int k = 0; k < cl; k++)
				s[k] = rand() % 3 ? alphabet[rand() % 3]
				                  : alphabet[rand() % 10];
			s[cl] = '\0';
			crlf_cells += strstr(s, "\r\n") != NULL;
			quote = strpbrk(s, ",\"\n\r") != NULL ||
			        rand() % 4 == 0 ||
			        /* a lone empty cell would be a blank line */
			        (rec->ncells == 1 && cl == 0);
			if (c > 0)
				append(&buf, &len, &cap, ",", 1);
			if (!quote) {
				append(&buf, &len, &cap, s, (size_t)cl);
				continue;
			}
			append(&buf, &len, &cap, "\"", 1);
			for (int k = 0; k < cl; k++)
				append(&buf, &len, &cap,
				    s[k] == '"' ? "\"\"" : &s[k],
				    s[k] == '"' ? 2 : 1);
			append(&buf, &len, &cap, "\"", 1);
		}
		/* the last record may end without a newline */
		if (i + 1 < RT_RECORDS || rand() % 2) {
			int crlf = rand() % 2;

			append(&buf, &len, &cap, crlf ? "\r\n" : "\n",
			    crlf ? 2 : 1);
		}
	}
	assert_true(crlf_cells > 0);

	csv_init(&r, buf, len);
	for (int i = 0; i < RT_RECORDS; i++) {
		char *cells[CSV_MAX_CELLS];
		size_t n = 0;
		int line = -1, rc = csv_next(&r, cells, &n, &line);

		if (rc != 1 || line != recs[i].line || (int)n != recs[i].ncells)
			fail_msg("record %d: rc %d line %d (want %d) cells %zu "
			         "(want %d)",
			    i, rc, line, recs[i].line, n, recs[i].ncells);
		for (size_t c = 0; c < n; c++)
			if (strcmp(cells[c], recs[i].cell[c]) != 0)
				fail_msg(
				    "record %d (line %d) cell %zu: \"%s\", "
				    "want \"%s\"",
				    i, line, c, cells[c], recs[i].cell[c]);
	}
	{
		char *cells[CSV_MAX_CELLS];
		size_t n;
		int line;

		assert_int_equal(csv_next(&r, cells, &n, &line), 0);
	}
	csv_free(&r);
	free(buf);
	free(recs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_embedded_newline),
	    cmocka_unit_test(test_crlf_bom_blank),
	    cmocka_unit_test(test_empty_cells_and_no_final_newline),
	    cmocka_unit_test(test_empty_inputs),
	    cmocka_unit_test(test_unterminated_quote),
	    cmocka_unit_test(test_stray_quote),
	    cmocka_unit_test(test_unclosed_quote_costs_one_line),
	    cmocka_unit_test(test_bad_multiline_and_expect),
	    cmocka_unit_test(test_random_stray_quotes),
	    cmocka_unit_test(test_too_many_cells),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_random_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
