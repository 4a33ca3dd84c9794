/*
 * paper.c: the pieces the API's printable documents share: HTML escaping,
 * CSV fields, the place and the date of the signature block (paper.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "paper.h"

/* Prefixes of unit names dropped to name the place ("Xã Chiềng Sung"). */
static const char *const paper_place_prefixes[] = {"Xã ", "Phường ",
    "Thị trấn ", "Đặc khu ", "Huyện ", "Quận ", "Thị xã ", "Thành phố ",
    "Tỉnh ", NULL};

void
paper_html_text(struct evbuffer *out, const char *s)
{
	const char *run = s;

	/* copy runs of plain bytes in one call */
	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		default:
			continue;
		}
		if (s > run)
			evbuffer_add(out, run, (size_t)(s - run));
		evbuffer_add(out, rep, strlen(rep));
		run = s + 1;
	}
	if (s > run)
		evbuffer_add(out, run, (size_t)(s - run));
}

void
paper_html_el(
    struct evbuffer *out, const char *open, const char *text, const char *close)
{
	evbuffer_add(out, open, strlen(open));
	paper_html_text(out, text);
	evbuffer_add(out, close, strlen(close));
}

void
paper_csv_field(struct evbuffer *out, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		evbuffer_add(out, s, strlen(s));
	} else {
		evbuffer_add(out, "\"", 1);
		/* each quote doubled: up to and including it, then one more */
		for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
			evbuffer_add(out, s, (size_t)(q - s) + 1);
			evbuffer_add(out, "\"", 1);
		}
		evbuffer_add(out, s, strlen(s));
		evbuffer_add(out, "\"", 1);
	}
	evbuffer_add(out, last ? "\r\n" : ",", last ? 2 : 1);
}

const char *
paper_place(const char *name)
{
	for (int i = 0; paper_place_prefixes[i] != NULL; i++) {
		size_t n = strlen(paper_place_prefixes[i]);

		if (strncmp(name, paper_place_prefixes[i], n) == 0 &&
		    name[n] != '\0')
			return name + n;
	}
	return name;
}

void
paper_today(int utc_offset_min, int *y, int *m, int *d)
{
	time_t local = time(NULL) + (time_t)utc_offset_min * 60;
	struct tm tm;

	gmtime_r(&local, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

char *
paper_place_date(
    char *buf, size_t size, int vi, const char *unit_name, int y, int m, int d)
{
	if (vi)
		snprintf(buf, size, "%s, ngày %02d tháng %02d năm %d",
		    paper_place(unit_name), d, m, y);
	else
		snprintf(buf, size, "%s, %04d-%02d-%02d",
		    paper_place(unit_name), y, m, d);
	return buf;
}
