/*
 * test_lists_paper.c: daemon/paper.c, what the lists and the report print
 * with.  CSV: random records of fields holding commas, quotes, CR, LF and
 * UTF-8, written with paper_csv_field, read back by the project's one CSV
 * reader (proto/csv.c) cell for cell, every line ending in CRLF.  HTML:
 * random text escaped by paper_html_text holds no raw & < > " and
 * unescapes (here, by hand) to the input.  The place of a unit name and
 * the place-and-date line in both languages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "csv.h"
#include "paper.h"

#define NREC  200
#define NCELL 7

static const char *const pieces[] = {"a", ",", "\"", "\r", "\n", "\r\n", "Ánh",
    " ", "<", ">", "&", "\"\"", "x,y", ""};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

/* A random field of up to 6 pieces into buf (at least 64 bytes). */
static void
random_field(char *buf)
{
	int n = rand() % 7;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(buf, pieces[(size_t)rand() % NPIECES]);
}

/* Take the buffer's bytes as a NUL-terminated malloc'd string. */
static char *
take(struct evbuffer *b, size_t *len)
{
	char *s;

	*len = evbuffer_get_length(b);
	s = malloc(*len + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, *len);
	s[*len] = '\0';
	return s;
}

static void
test_csv_round_trip(void **state)
{
	static char want[NREC][NCELL][64];
	struct evbuffer *b = evbuffer_new();
	char *cells[CSV_MAX_CELLS], *text;
	size_t n, len;
	struct csv r;
	int line, lines = 0;

	(void)state;
	srand(7);
	for (int i = 0; i < NREC; i++)
		for (int c = 0; c < NCELL; c++) {
			random_field(want[i][c]);
			/* a record of empty cells only is a blank line */
			if (c == 0)
				strcat(want[i][c], "r");
			paper_csv_field(b, want[i][c], c == NCELL - 1);
		}
	text = take(b, &len);
	/* every line break outside quotes is CRLF, and the text ends so */
	assert_true(len >= 2 && memcmp(text + len - 2, "\r\n", 2) == 0);
	csv_init(&r, text, len);
	for (int i = 0; i < NREC; i++) {
		assert_int_equal(csv_next(&r, cells, &n, &line), 1);
		assert_true(line > lines);
		lines = line;
		assert_int_equal(n, NCELL);
		for (int c = 0; c < NCELL; c++)
			assert_string_equal(cells[c], want[i][c]);
	}
	assert_int_equal(csv_next(&r, cells, &n, &line), 0);
	csv_free(&r);
	free(text);
	evbuffer_free(b);
}

static void
test_csv_plain_unquoted(void **state)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	(void)state;
	paper_csv_field(b, "Nguyễn Văn An", 0);
	paper_csv_field(b, "", 0);
	paper_csv_field(b, "a,b", 0);
	paper_csv_field(b, "Lò \"Bình\"", 1);
	s = take(b, &len);
	assert_string_equal(
	    s, "Nguyễn Văn An,,\"a,b\",\"Lò \"\"Bình\"\"\"\r\n");
	free(s);
	evbuffer_free(b);
}

/* Undo the four entities paper_html_text writes; NULL on anything else. */
static char *
unescape(const char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}};
	char *out = malloc(strlen(s) + 1), *o = out;

	assert_non_null(out);
	while (*s != '\0') {
		size_t k;

		if (*s != '&') {
			*o++ = *s++;
			continue;
		}
		for (k = 0; k < 4; k++)
			if (strncmp(s, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		if (k == 4) {
			free(out);
			return NULL;
		}
		*o++ = ents[k].c;
		s += strlen(ents[k].ent);
	}
	*o = '\0';
	return out;
}

static void
test_html_escape(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char in[64], *s, *back;
	size_t len;

	(void)state;
	srand(11);
	for (int i = 0; i < 2000; i++) {
		random_field(in);
		paper_html_text(b, in);
		s = take(b, &len);
		assert_null(strpbrk(s, "<>\""));
		back = unescape(s);
		assert_non_null(back);
		assert_string_equal(back, in);
		free(back);
		free(s);
	}
	paper_html_el(b, "<td>", "a<b>&\"c\"", "</td>");
	s = take(b, &len);
	assert_string_equal(s, "<td>a&lt;b&gt;&amp;&quot;c&quot;</td>");
	free(s);
	evbuffer_free(b);
}

static void
test_place_and_date(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(paper_place("Xã Chiềng Sung"), "Chiềng Sung");
	assert_string_equal(paper_place("Tỉnh Sơn La"), "Sơn La");
	assert_string_equal(paper_place("Thành phố Hà Nội"), "Hà Nội");
	assert_string_equal(paper_place("Xã "), "Xã ");
	assert_string_equal(paper_place("Bản Nà"), "Bản Nà");
	assert_string_equal(
	    paper_place_date(buf, sizeof(buf), 1, "Xã Chiềng Sung", 2026, 3, 5),
	    "Chiềng Sung, ngày 05 tháng 03 năm 2026");
	assert_string_equal(
	    paper_place_date(buf, sizeof(buf), 0, "Xã Chiềng Sung", 2026, 3, 5),
	    "Chiềng Sung, 2026-03-05");
}

static void
test_today_offsets(void **state)
{
	int y, m, d, y2, m2, d2;

	(void)state;
	paper_today(0, &y, &m, &d);
	assert_true(y >= 2024 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
	/* a day later: never the same date (even across midnight) */
	paper_today(24 * 60, &y2, &m2, &d2);
	assert_false(y == y2 && m == m2 && d == d2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_round_trip),
	    cmocka_unit_test(test_csv_plain_unquoted),
	    cmocka_unit_test(test_html_escape),
	    cmocka_unit_test(test_place_and_date),
	    cmocka_unit_test(test_today_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
