/*
 * paper.h: what the API's printable documents share (api_report.c, the
 * yearly report; api_lists.c, the lists of names): HTML text escaping, CSV
 * fields as Excel reads them, and the place and date of a Vietnamese
 * official document's signature block.  Everything writes into the
 * caller's evbuffer or buffer; nothing here allocates what it returns.
 */
#ifndef CDHT_PAPER_H
#define CDHT_PAPER_H

#include <stddef.h>

#include <event2/buffer.h>

/* Append s with & < > " escaped (for text and for attribute values). */
void paper_html_text(struct evbuffer *out, const char *s);

/* Append open, then text escaped, then close (open, close: markup). */
void paper_html_el(struct evbuffer *out, const char *open, const char *text,
    const char *close);

/*
 * Append one CSV field, quoted when it holds a comma, a quote or a line
 * break, then "," or, when last, CRLF.
 */
void paper_csv_field(struct evbuffer *out, const char *s, int last);

/* The place of a unit: its name without the word for its level ("Xã
 * Chiềng Sung" -> "Chiềng Sung"); points into name. */
const char *paper_place(const char *name);

/* Today's date at a fixed offset of utc_offset_min minutes from UTC. */
void paper_today(int utc_offset_min, int *y, int *m, int *d);

/*
 * The place and date line into buf (size bytes, the caller's): vi
 * "Chiềng Sung, ngày 05 tháng 11 năm 2026", else "Chiềng Sung,
 * 2026-11-05"; the place is paper_place(unit_name).  Returns buf.
 */
char *paper_place_date(
    char *buf, size_t size, int vi, const char *unit_name, int y, int m, int d);

#endif
