/*
 * cmd_import.c: "cdht import": a CSV file sent in chunks of IMPORT_CHUNK
 * records, each a text/csv POST with the file's header repeated, the node's
 * per-chunk line numbers mapped back to lines of the original file.
 *
 * Records are found with the node's own CSV reader (proto/csv.h), so a
 * chunk always ends where the node's reader ends a record: a quoted field
 * holding a newline never straddles two chunks, and a bad record (a stray
 * quote) is one line here as there, reported by the node with its line
 * while every other line is imported.  Bad records are sent like the others:
 * the node is the one judge of every line.  Both sides count lines the same
 * way; the chunk's header is the file's first lines and its data lines one
 * contiguous run of the file, so the mapping is an offset.
 *
 * The separator is found once (csv_sniff) and the file is sent as it is:
 * the node sniffs the same header line the same way.  A repeated
 * (year, person_id) is found here over the whole file (the node finds it
 * too, but only within one request): the later line is reported with the
 * node's message and blanked before sending (its line breaks kept, so
 * every line keeps its number).
 *
 * The first chunk goes alone (a refused header or token is said once);
 * then up to IMPORT_INFLIGHT chunks are on the wire at once, each sender a
 * thread with its own connection, so the node reads the next chunks while
 * it commits one (and commits those that arrived meanwhile together).  The
 * replies are taken in file order: progress, counts and errors are those of
 * one chunk at a time.  At the first failed chunk nothing more is sent; the
 * chunks already sent (at most IMPORT_INFLIGHT - 1 past it) are waited for,
 * and those stored are counted, their errors reported and their lines
 * named: no line is sent twice, nor stored without being counted.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cdht.h"
#include "csv.h"
#include "http.h"
#include "rowset.h"
#include "valid.h"

#define IMPORT_CHUNK    1000 /* data records per request */
#define IMPORT_INFLIGHT 4    /* requests on the wire at once */

/* Where a chunk starts: a byte offset into the file and its line. */
struct import_cut {
	size_t off;
	long line;
};

struct import {
	struct cli *cli;
	const char *label; /* file name in reports */
	const char *hdr;   /* the file up to the first data line */
	size_t hdr_len;
	long hdr_lines;          /* lines in hdr */
	struct import_cut *cuts; /* ncuts chunk starts, then the end */
	size_t ncuts;
	int dry;
	int midline; /* a tty progress line lacks its newline */
	char sep;    /* the file's field separator */
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
 * POST data[0..len) (whole records) with the header through h, into *r.
 * Returns the exit code http_request maps the outcome to.
 */
static int
import_post(const struct import *im, struct http *h, const char *data,
    size_t len, struct http_reply *r)
{
	char *body;
	int rc;

	if ((body = malloc(im->hdr_len + len)) == NULL) {
		memset(r, 0, sizeof(*r));
		r->status =
		    -1; /* not "cannot reach": http_print_failure says why */
		snprintf(r->why, sizeof(r->why), "out of memory");
		return CDHT_EXIT_REJECTED;
	}
	memcpy(body, im->hdr, im->hdr_len);
	memcpy(body + im->hdr_len, data, len);
	rc = http_request(h, "POST",
	    im->dry ? "/v1/assessments?dry_run=1&results=0"
	            : "/v1/assessments?results=0",
	    "text/csv", body, im->hdr_len + len, 0, r);
	free(body);
	return rc;
}

/*
 * Take the reply r (outcome rc) of the chunk whose first data line is file
 * line first: count it and record its errors, or print why it failed.
 * Returns rc; 0 even when rows were rejected.
 */
static int
import_reply(struct import *im, struct http_reply *r, int rc, long first)
{
	if (rc == CDHT_EXIT_OK) {
		im->accepted +=
		    json_integer_value(json_object_get(r->json, "accepted"));
		im->rejected +=
		    json_integer_value(json_object_get(r->json, "rejected"));
		import_errors(im, json_object_get(r->json, "errors"), first);
	} else {
		if (im->midline)
			fputc('\n', stderr);
		im->midline = 0;
		http_print_failure(cli_http(im->cli), r, rc);
	}
	http_reply_clear(r);
	return rc;
}

/* Append a chunk start; -1 when out of memory. */
static int
import_cut(struct import *im, const struct csv *r)
{
	struct import_cut *c;
	int line;

	c = realloc(im->cuts, (im->ncuts + 1) * sizeof(*c));
	if (c == NULL)
		return -1;
	im->cuts = c;
	c[im->ncuts].off = csv_offset(r, &line);
	c[im->ncuts++].line = line;
	return 0;
}

/*
 * Read buf[0..len) with the CSV reader: the header (im->hdr: everything
 * before the first data line, byte order mark left out), the chunk starts
 * (every IMPORT_CHUNK records, then the end of the last record) and
 * *total, the data records, bad ones included.  Returns 0, or -1 after
 * saying why (no header, out of memory).
 */
static int
import_scan(struct import *im, const char *buf, size_t len, long *total)
{
	char *cells[CSV_MAX_CELLS];
	struct csv r;
	size_t n, start;
	int line, rc;

	csv_init_sep(&r, buf, len, im->sep);
	start = csv_offset(&r, NULL); /* past a byte order mark */
	if ((rc = csv_next(&r, cells, &n, &line)) == 0) {
		fprintf(stderr,
		    L("cdht: %s: tệp rỗng, cần dòng tiêu đề\n",
		        "cdht: %s: empty, expected a header line\n"),
		    im->label);
		goto fail;
	}
	/* a bad header is sent all the same: the node says why */
	im->hdr = buf + start;
	im->hdr_len = csv_offset(&r, &line) - start;
	im->hdr_lines = line - 1;
	if (rc == 1)
		csv_expect(&r, n); /* as the node does after the header */
	*total = 0;
	if (rc == CSV_ENOMEM || import_cut(im, &r) == -1)
		goto oom;
	while ((rc = csv_next(&r, cells, &n, &line)) != 0) {
		if (rc == CSV_ENOMEM)
			goto oom;
		if (++*total % IMPORT_CHUNK == 0 && import_cut(im, &r) == -1)
			goto oom;
	}
	if (*total % IMPORT_CHUNK != 0 && import_cut(im, &r) == -1)
		goto oom;
	csv_free(&r);
	return 0;
oom:
	fprintf(stderr, "cdht: out of memory\n");
fail:
	csv_free(&r);
	return -1;
}

/* The index of column name in the header cells, or -1. */
static int
import_column(char **cells, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cells[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Find the lines of buf[0..len) that repeat an earlier line's year and
 * person_id: report each (as the node would) and blank it in place, its
 * line breaks kept.  Returns 0, or -1 when out of memory.
 */
static int
import_dups(struct import *im, char *buf, size_t *len)
{
	struct import_cut *cuts = NULL, *cut; /* dup records: [off, line) */
	size_t ncuts = 0;
	char *cells[CSV_MAX_CELLS], *end, msg[512];
	struct rowset *seen = rowset_new();
	struct csv r;
	size_t n, off;
	int line, rc, cy, cp;
	long year, first;

	if (seen == NULL)
		return -1;
	csv_init_sep(&r, buf, *len, im->sep);
	if (csv_next(&r, cells, &n, &line) != 1) {
		csv_free(&r);
		rowset_free(&seen);
		return 0; /* the node says what is wrong with the header */
	}
	cy = import_column(cells, n, "year");
	cp = import_column(cells, n, "person_id");
	csv_expect(&r, n);
	for (;;) {
		off = csv_offset(&r, NULL);
		if ((rc = csv_next(&r, cells, &n, &line)) == 0)
			break;
		if (rc == CSV_ENOMEM)
			goto oom;
		if (rc != 1 || cy < 0 || cp < 0)
			continue;
		year = strtol(cells[cy], &end, 10);
		if (*cells[cy] == '\0' || *end != '\0')
			continue; /* the node rejects it */
		first = rowset_add(
		    seen, year, cells[cp], strlen(cells[cp]), (long)line);
		if (first < 0)
			goto oom;
		if (first == 0)
			continue;
		fprintf(
		    im->report, "%s:%d: %s: ", im->label, line, ROWSET_CODE);
		if (cli_lang != CLI_EN)
			fprintf(
			    im->report, "%s: ", cli_error_text(ROWSET_CODE));
		rowset_message(msg, sizeof(msg), year, cells[cp],
		    strlen(cells[cp]), first);
		cli_put_clean(im->report, msg);
		fprintf(im->report, "%s\n",
		    L(" (trường person_id)", " (field person_id)"));
		im->rejected++;
		if ((cut = realloc(cuts, (ncuts + 1) * sizeof(*cuts))) == NULL)
			goto oom;
		cuts = cut;
		cuts[ncuts].off = off;
		cuts[ncuts++].line = (long)csv_offset(&r, NULL);
	}
	/* blank those records: their line breaks stay, so numbers hold */
	for (size_t i = 0, o = 0, k = 0; i <= *len; i++) {
		if (i == *len) {
			*len = o;
			break;
		}
		while (k < ncuts && i >= (size_t)cuts[k].line)
			k++;
		if (k < ncuts && i >= cuts[k].off && buf[i] != '\n' &&
		    buf[i] != '\r')
			continue;
		buf[o++] = buf[i];
	}
	buf[*len] = '\0';
	free(cuts);
	csv_free(&r);
	rowset_free(&seen);
	return 0;
oom:
	free(cuts);
	csv_free(&r);
	rowset_free(&seen);
	return -1;
}

/* One chunk's request and its outcome, for the senders (import_sender). */
struct import_job {
	int done, rc;
	struct http_reply r;
};

/*
 * The chunks im->cuts[from..] in flight: IMPORT_INFLIGHT senders, each a
 * thread with its own connection, take the next chunk not yet taken (in
 * file order) until every chunk is taken or stop is set; the main thread
 * takes the replies in file order (import_send).  So the next chunks are
 * on the wire, and queued at the node, while it stores and commits one.
 */
struct import_flight {
	struct import *im;
	const char *buf;
	struct import_job *jobs; /* one per chunk */
	size_t next, njobs;      /* the next chunk to take; chunks in all */
	size_t taken;            /* chunks whose replies the main thread took */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a job is done */
};

struct import_sender {
	struct import_flight *f;
	struct http *h; /* this sender's connection (owned) */
	pthread_t tid;
};

static void *
import_sender(void *arg)
{
	struct import_sender *s = arg;
	struct import_flight *f = s->f;

	for (;;) {
		const struct import_cut *c;
		struct http_reply r;
		size_t i;
		int rc;

		pthread_mutex_lock(&f->mu);
		/* never more than IMPORT_INFLIGHT chunks past the last reply
		 * taken: what a failure leaves stored beyond it is bounded */
		while (!f->stop && f->next < f->njobs &&
		       f->next >= f->taken + IMPORT_INFLIGHT)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop || f->next >= f->njobs) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		i = f->next++;
		pthread_mutex_unlock(&f->mu);
		c = &f->im->cuts[i];
		rc = import_post(
		    f->im, s->h, f->buf + c->off, c[1].off - c->off, &r);
		pthread_mutex_lock(&f->mu);
		f->jobs[i].r = r;
		f->jobs[i].rc = rc;
		f->jobs[i].done = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
}

/* Show the progress after done of total lines. */
static void
import_progress(struct import *im, long done, long total, int show, int tty)
{
	if (show)
		fprintf(stderr,
		    L("%s%s %ld/%ld dòng%s", "%s%s %ld/%ld lines%s"),
		    tty ? "\r" : "",
		    im->dry ? L("đã kiểm tra", "checked")
		            : L("đã nhập", "imported"),
		    done, total, tty ? "" : "\n");
	im->midline = show && tty;
}

/* The data lines of chunk i (of total data records). */
static long
import_rows(const struct import *im, size_t i, long total)
{
	return i + 2 < im->ncuts ? IMPORT_CHUNK
	                         : total - (long)i * IMPORT_CHUNK;
}

/*
 * Send the chunks im->cuts of buf, showing progress: the first alone (a
 * refused header or token is said once), then the others IMPORT_INFLIGHT
 * at a time, their replies taken in file order.  At the first chunk that
 * fails no further chunk is sent; the chunks then still in flight are
 * waited for and those stored are counted (their errors reported) and
 * said.  Returns the first failure, or 0.
 */
static int
import_send(struct import *im, const char *buf, long total)
{
	struct import_sender snd[IMPORT_INFLIGHT];
	struct import_flight f = {.im = im, .buf = buf};
	long done = 0;
	int rc = CDHT_EXIT_OK, tty = isatty(STDERR_FILENO);
	int show = tty || total > IMPORT_CHUNK;
	size_t nsnd = 0, i = 0, nchunks = im->ncuts ? im->ncuts - 1 : 0;

	if (nchunks > 0) {
		struct http_reply r;
		const struct import_cut *c = &im->cuts[0];

		rc = import_reply(im, &r,
		    import_post(im, cli_http(im->cli), buf + c->off,
		        c[1].off - c->off, &r),
		    c->line);
		if (rc == CDHT_EXIT_OK) {
			done = import_rows(im, 0, total);
			import_progress(im, done, total, show, tty);
			i = 1;
		}
	}
	if (rc == CDHT_EXIT_OK && i < nchunks) {
		f.next = f.taken = i;
		f.njobs = nchunks;
		if ((f.jobs = calloc(nchunks, sizeof(*f.jobs))) == NULL) {
			fprintf(stderr, "cdht: out of memory\n");
			rc = CDHT_EXIT_REJECTED;
			goto out;
		}
		pthread_mutex_init(&f.mu, NULL);
		pthread_cond_init(&f.cv, NULL);
		for (nsnd = 0; nsnd < IMPORT_INFLIGHT && nsnd + i < nchunks;
		     nsnd++) {
			snd[nsnd].f = &f;
			snd[nsnd].h = http_new(im->cli->server, im->cli->token);
			if (snd[nsnd].h == NULL ||
			    pthread_create(&snd[nsnd].tid, NULL, import_sender,
			        &snd[nsnd]) != 0) {
				http_free(&snd[nsnd].h);
				break;
			}
		}
		if (nsnd == 0) {
			fprintf(stderr, "cdht: cannot start libcurl\n");
			rc = CDHT_EXIT_UNREACHABLE;
		}
		for (; nsnd > 0 && i < nchunks; i++) {
			struct import_job *j = &f.jobs[i];

			pthread_mutex_lock(&f.mu);
			while (!j->done)
				pthread_cond_wait(&f.cv, &f.mu);
			pthread_mutex_unlock(&f.mu);
			if (j->rc == CDHT_EXIT_OK) {
				pthread_mutex_lock(&f.mu);
				f.taken = i + 1;
				pthread_cond_broadcast(&f.cv);
				pthread_mutex_unlock(&f.mu);
			}
			if ((rc = import_reply(
			         im, &j->r, j->rc, im->cuts[i].line)) != 0)
				break;
			done += import_rows(im, i, total);
			import_progress(im, done, total, show, tty);
		}
		pthread_mutex_lock(&f.mu);
		f.stop = 1;
		pthread_cond_broadcast(&f.cv);
		pthread_mutex_unlock(&f.mu);
		for (size_t k = 0; k < nsnd; k++) {
			pthread_join(snd[k].tid, NULL);
			http_free(&snd[k].h);
		}
	}
	if (im->midline)
		fputc('\n', stderr);
	im->midline = 0;
	if (rc != CDHT_EXIT_OK && done > 0)
		fprintf(stderr,
		    L("cdht: %s: dừng ở dòng %ld; các dòng trước đó đã được "
		      "%s\n",
		        "cdht: %s: stopped at line %ld; the lines before it "
		        "were "
		        "%s\n"),
		    im->label, im->cuts[done / IMPORT_CHUNK].line,
		    im->dry ? L("kiểm tra", "checked") : L("nhập", "imported"));
	/* chunks sent before the failure was known, answered after it */
	for (size_t k = i + 1; f.jobs != NULL && rc != CDHT_EXIT_OK &&
	                       k < nchunks && f.jobs[k].done;
	     k++) {
		struct import_job *j = &f.jobs[k];

		if (j->rc == CDHT_EXIT_OK) {
			fprintf(stderr,
			    L("cdht: %s: các dòng %ld..%ld sau đó cũng đã được "
			      "%s\n",
			        "cdht: %s: lines %ld..%ld after it were %s "
			        "too\n"),
			    im->label, im->cuts[k].line,
			    im->cuts[k + 1].line - 1,
			    im->dry ? L("kiểm tra", "checked")
			            : L("nhập", "imported"));
			import_errors(im, json_object_get(j->r.json, "errors"),
			    im->cuts[k].line);
			im->accepted += json_integer_value(
			    json_object_get(j->r.json, "accepted"));
			im->rejected += json_integer_value(
			    json_object_get(j->r.json, "rejected"));
			done += import_rows(im, k, total);
		}
	}
	for (size_t k = 0; f.jobs != NULL && k < nchunks; k++)
		if (f.jobs[k].done)
			http_reply_clear(&f.jobs[k].r);
	if (f.jobs != NULL) {
		pthread_mutex_destroy(&f.mu);
		pthread_cond_destroy(&f.cv);
	}
out:
	free(f.jobs);
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
	const char *path;
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
	if ((im.report = open_memstream(&im.report_buf, &im.report_len)) ==
	    NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		free(buf);
		return CDHT_EXIT_REJECTED;
	}
	if ((im.sep = csv_sniff(buf, len)) != ',')
		fprintf(stderr,
		    L("cdht: %s: dấu phân cách là '%c' (như Excel ghi khi "
		      "dấu thập phân là dấu phẩy)\n",
		        "cdht: %s: the separator is '%c' (as Excel writes it "
		        "where the decimal mark is a comma)\n"),
		    im.label, im.sep);
	if (import_dups(&im, buf, &len) == -1 ||
	    import_scan(&im, buf, len, &total) == -1) {
		fclose(im.report);
		free(im.report_buf);
		free(im.cuts);
		free(buf);
		return CDHT_EXIT_REJECTED;
	}
	if (total == 0)
		fprintf(stderr,
		    L("cdht: %s: không có dòng dữ liệu nào sau dòng tiêu đề\n",
		        "cdht: %s: no data lines after the header\n"),
		    im.label);
	rc = import_send(&im, buf, total);
	fclose(im.report);
	/* After a failed first chunk the error says it all. */
	if (rc == CDHT_EXIT_OK || im.sent > 0) {
		fflush(stderr);
		fwrite(im.report_buf, 1, im.report_len, stderr);
		printf(L("đã nhận %ld, bị từ chối %ld%s\n",
		           "accepted %ld, rejected %ld%s\n"),
		    im.accepted, im.rejected,
		    im.dry ? L(" (chạy thử: không lưu gì)",
		                 " (dry run: nothing stored)")
		           : "");
	}
	free(im.report_buf);
	free(im.cuts);
	free(buf);
	if (rc == CDHT_EXIT_OK && im.rejected > 0)
		rc = CDHT_EXIT_REJECTED;
	return rc;
}

/*
 * cdht template [--separator ;] [FILE]: the CSV a clerk fills in Excel:
 * UTF-8 with a byte order mark (so Excel reads the diacritics), CRLF, the
 * header and one example row written with the Vietnamese labels.
 */
int
cmd_template(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"separator", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const cols[] = {"year", "person_id", "name",
	    "birth_year", "group", "population", "s1", "s2", "s3", "s4", "s5",
	    "s6", "s7", "s8", "s9", "s10", "digital"};
	const char *ex[] = {"2026", "001-0001", "Lò Văn Minh", "1980",
	    valid_label_of("group", "farmer"),
	    valid_label_of("population", "adult"), "9", "8", "8", "9", "8", "8",
	    "9", "8", "8", "9", valid_label_of("digital", "skilled")};
	char sep = ',';
	FILE *fp = stdout;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((optarg[0] != ',' && optarg[0] != ';') ||
			    optarg[1] != '\0')
				return cli_bad_usage(
				    cli, "--separator must be , or ;");
			sep = optarg[0];
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (argc - optind > 1)
		return cli_extra_arg(cli, argv[optind + 1]);
	if (argc - optind == 1 && (fp = fopen(argv[optind], "wb")) == NULL) {
		fprintf(
		    stderr, "cdht: %s: %s\n", argv[optind], strerror(errno));
		return CDHT_EXIT_REJECTED;
	}
	fputs("\xef\xbb\xbf", fp);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		fprintf(fp, "%s%c", cols[i],
		    i + 1 < sizeof(cols) / sizeof(cols[0]) ? sep : '\r');
	fputc('\n', fp);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		/* a label with the separator in it is quoted */
		if (strchr(ex[i], sep) != NULL)
			fprintf(fp, "\"%s\"", ex[i]);
		else
			fputs(ex[i], fp);
		fputc(i + 1 < sizeof(ex) / sizeof(ex[0]) ? sep : '\r', fp);
	}
	fputc('\n', fp);
	if (fp != stdout && fclose(fp) != 0) {
		fprintf(
		    stderr, "cdht: %s: %s\n", argv[optind], strerror(errno));
		return CDHT_EXIT_REJECTED;
	}
	return CDHT_EXIT_OK;
}
