/*
 * cmd_import.c: "cdht import": a CSV file sent in chunks of IMPORT_CHUNK
 * records, each a text/csv POST with the file's header repeated, the node's
 * per-chunk line numbers mapped back to lines of the original file.
 *
 * Records are split with quotes tracked, so a quoted field holding a newline
 * never straddles two chunks.  Line numbers are physical lines: the node
 * counts the chunk's header as line 1, and every newline, quoted or not,
 * starts a new line; since a chunk's data lines are one contiguous run of
 * the file, the mapping is an offset.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"

#define IMPORT_CHUNK 1000 /* data records per request */

/*
 * The end of the CSV record starting at p (just past its newline, or end),
 * adding the newlines it holds to *lines.
 */
static const char *
import_record_end(const char *p, const char *end, long *lines)
{
	int quoted = 0;

	for (; p < end; p++) {
		if (*p == '"') {
			quoted = !quoted; /* "" inside quotes toggles twice */
		} else if (*p == '\n') {
			(*lines)++;
			if (!quoted)
				return p + 1;
		}
	}
	return end;
}

struct import {
	struct cli *cli;
	const char *label; /* file name in reports */
	const char *hdr;   /* header record, with its newline */
	size_t hdr_len;
	long hdr_lines; /* physical lines in the header */
	int dry;
	int midline; /* a tty progress line lacks its newline */
	long accepted, rejected;
	long sent;    /* data records sent and answered */
	FILE *report; /* per-line errors, printed at the end */
	char *report_buf;
	size_t report_len;
};

/* Record the errors of one chunk whose first data line is file line first. */
static void
import_errors(struct import *im, const json_t *errs, long first)
{
	const json_t *e, *l;
	char prefix[1024];
	json_int_t line;
	size_t i;

	json_array_foreach(errs, i, e)
	{
		l = json_object_get(e, "line");
		if (json_is_integer(l)) {
			line = json_integer_value(l);
			if (line > im->hdr_lines)
				line = first + (line - im->hdr_lines - 1);
			snprintf(prefix, sizeof(prefix),
			    "%s:%" JSON_INTEGER_FORMAT, im->label, line);
		} else {
			snprintf(prefix, sizeof(prefix), "%s", im->label);
		}
		http_print_error(im->report, prefix, e);
	}
}

/*
 * Send data[0..len) (whole records starting at file line first) with the
 * header.  Returns an exit code; 0 even when rows were rejected.
 */
static int
import_chunk(struct import *im, const char *data, size_t len, long first)
{
	struct http_reply r;
	char *body;
	int rc;

	if ((body = malloc(im->hdr_len + len)) == NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	memcpy(body, im->hdr, im->hdr_len);
	memcpy(body + im->hdr_len, data, len);
	rc = http_request(cli_http(im->cli), "POST",
	    im->dry ? "/v1/assessments?dry_run=1" : "/v1/assessments",
	    "text/csv", body, im->hdr_len + len, 0, &r);
	free(body);
	if (rc == CDHT_EXIT_OK) {
		im->accepted +=
		    json_integer_value(json_object_get(r.json, "accepted"));
		im->rejected +=
		    json_integer_value(json_object_get(r.json, "rejected"));
		import_errors(im, json_object_get(r.json, "errors"), first);
	} else {
		if (im->midline)
			fputc('\n', stderr);
		im->midline = 0;
		http_print_failure(cli_http(im->cli), &r, rc);
	}
	http_reply_clear(&r);
	return rc;
}

/*
 * Find the header and count the data records of buf[0..len): sets im's
 * header, *data (the first data record), *end and *total.  Returns 0, or -1
 * after saying why when there is no header.
 */
static int
import_scan(struct import *im, const char *buf, size_t len, const char **data,
    const char **end, long *total)
{
	const char *p = buf;
	long nl = 0;

	/* Blank lines at the very end are not records. */
	while (len >= 2 && buf[len - 1] == '\n' &&
	       (buf[len - 2] == '\n' ||
	           (len >= 3 && buf[len - 2] == '\r' && buf[len - 3] == '\n')))
		len -= buf[len - 2] == '\r' ? 2 : 1;
	*end = buf + len;
	/* Spreadsheets prepend a UTF-8 byte order mark: not part of a name. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (p == *end) {
		fprintf(stderr, "cdht: %s: empty, expected a header line\n",
		    im->label);
		return -1;
	}
	im->hdr = p;
	p = import_record_end(p, *end, &im->hdr_lines);
	im->hdr_len = (size_t)(p - im->hdr);
	*data = p;
	for (*total = 0; p < *end; (*total)++)
		p = import_record_end(p, *end, &nl);
	return 0;
}

/*
 * Send the records in [p, end) chunk by chunk, showing progress.  Returns
 * the first chunk's failure (and stops there), or 0.
 */
static int
import_send(struct import *im, const char *p, const char *end, long total)
{
	const char *next;
	long line = 1 + im->hdr_lines, done = 0, n, nl;
	int rc = CDHT_EXIT_OK, tty = isatty(STDERR_FILENO);
	int show = tty || total > IMPORT_CHUNK;

	while (p < end) {
		nl = 0;
		for (n = 0, next = p; n < IMPORT_CHUNK && next < end; n++)
			next = import_record_end(next, end, &nl);
		if ((rc = import_chunk(im, p, (size_t)(next - p), line)) != 0)
			break;
		p = next;
		line += nl;
		done += n;
		if (show)
			fprintf(stderr, "%s%s %ld/%ld lines%s", tty ? "\r" : "",
			    im->dry ? "checked" : "imported", done, total,
			    tty ? "" : "\n");
		im->midline = show && tty;
	}
	if (im->midline)
		fputc('\n', stderr);
	if (rc != CDHT_EXIT_OK && done > 0)
		fprintf(stderr,
		    "cdht: %s: stopped at line %ld; the lines before it were "
		    "%s\n",
		    im->label, line, im->dry ? "checked" : "imported");
	im->sent = done;
	return rc;
}

/*
 * cdht import: the whole file is read into memory, checked for a header,
 * then sent; exit 1 when any line was rejected.
 */
int
cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct import im = {.cli = cli};
	const char *path, *data, *end;
	char *buf;
	size_t len;
	long total;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			im.dry = 1;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (argc - optind != 1)
		return cli_bad_usage(cli, "need one FILE.csv");
	path = argv[optind];
	im.label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (cli_read_file(path, &buf, &len) == -1)
		return CDHT_EXIT_REJECTED;
	if (import_scan(&im, buf, len, &data, &end, &total) == -1) {
		free(buf);
		return CDHT_EXIT_REJECTED;
	}
	if (total == 0)
		fprintf(stderr, "cdht: %s: no data lines after the header\n",
		    im.label);
	if ((im.report = open_memstream(&im.report_buf, &im.report_len)) ==
	    NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		free(buf);
		return CDHT_EXIT_REJECTED;
	}
	rc = import_send(&im, data, end, total);
	fclose(im.report);
	/* After a failed first chunk the error says it all. */
	if (rc == CDHT_EXIT_OK || im.sent > 0) {
		fflush(stderr);
		fwrite(im.report_buf, 1, im.report_len, stderr);
		printf("accepted %ld, rejected %ld%s\n", im.accepted,
		    im.rejected, im.dry ? " (dry run: nothing stored)" : "");
	}
	free(im.report_buf);
	free(buf);
	if (rc == CDHT_EXIT_OK && im.rejected > 0)
		rc = CDHT_EXIT_REJECTED;
	return rc;
}
