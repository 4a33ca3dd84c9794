/*
 * api_batch.c: one POST of records of one kind (api_batch.h): a JSON
 * object, a JSON array or CSV, with ?dry_run=1 (the write runs in a
 * transaction nested in the turn's and is thrown away).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

#include "api_batch.h"
#include "csv.h"
#include "rowset.h"
#include "valid.h"

#define MAX_BATCH 100000

static json_t *
item_error(const char *key, json_int_t pos, const struct input_err *e)
{
	return json_pack("{s:I, s:s, s:s, s:o}", key, pos, "code", e->code,
	    "message", e->message, "field",
	    e->field[0] ? json_string(e->field) : json_null());
}

/*
 * Store item: in the turn's transaction, or for a dry run in *dry, a
 * transaction nested in the turn's (opened here on first use; the caller
 * aborts it once the reply is built).  A dry run is thus the real write,
 * seeing the same data (the turn's earlier writes, the batch's earlier
 * items), and leaves nothing: no record, counter, version, outbox entry or
 * audit record, and a failure in it stays in *dry.
 */
static int
submit_one(struct http_api *h, const struct batch_kind *k, void *item,
    const char *who, int dry_run, struct store_txn **dry)
{
	struct records_actor act = api_actor(h, who);
	struct store_txn *t;
	int rc;

	if (dry_run) {
		if (*dry == NULL &&
		    (rc = committer_nested(h->cm, dry)) != STORE_OK)
			return rc;
		t = *dry;
	} else if ((t = committer_txn(h->cm)) == NULL)
		return STORE_EIO;
	return k->store(t, &act, item);
}

/*
 * A batch (JSON array or CSV) accumulates results and errors here; accepted
 * counts the entries of results and rejected those of errors, always.
 */
struct batch {
	json_t *results, *errors;
	const char *poskey; /* "index" or "line" */
	int accepted, rejected;
	int failed; /* a store error: the whole turn (or dry run) is lost */
	struct store_txn *dry; /* a dry run's transaction, see submit_one */
	struct rowset *rows;   /* CSV: the items' keys of the lines so far */
	const struct batch_kind *k;
	void *item;     /* k->item_size bytes */
	int no_results; /* ?results=0: counts and errors only */
};

/*
 * Add item pos's error e to b's errors and count it.  An error that cannot
 * be added (out of memory: e's text is always valid) fails the batch, so
 * no rejection is counted without its error.
 */
static void
batch_reject(struct batch *b, json_int_t pos, const struct input_err *e)
{
	if (json_array_append_new(b->errors, item_error(b->poskey, pos, e)) !=
	    0)
		b->failed = STORE_ENOMEM;
	else
		b->rejected++;
}

/* Check b->item (just parsed, item pos) for a CSV repeat, store it and
 * count it. */
static void
batch_add(struct http_api *h, struct batch *b, json_int_t pos, const char *who,
    int dry_run)
{
	const struct batch_kind *k = b->k;
	struct input_err e;
	json_t *r;
	int rc;

	if (b->rows != NULL) {
		char key[2 * VALID_PID_MAX + 16];
		long year;
		size_t kl = k->key(b->item, &year, key, sizeof(key));
		long first = rowset_add(b->rows, year, key, kl, (long)pos);

		if (first < 0) {
			b->failed = STORE_ENOMEM;
			return;
		}
		if (first > 0) {
			char msg[sizeof(e.message)];

			input_fail(&e, ROWSET_CODE, "person_id", "%s",
			    rowset_message(
			        msg, sizeof(msg), year, key, kl, first));
			batch_reject(b, pos, &e);
			return;
		}
	}
	rc = submit_one(h, k, b->item, who, dry_run, &b->dry);
	if (rc == RECORDS_FILED || rc == RECORDS_DECIDED ||
	    rc == RECORDS_IMPORTED) {
		k->refused(b->item, rc, &e);
		batch_reject(b, pos, &e);
		return;
	}
	if ((b->failed = rc) != STORE_OK)
		return;
	if (b->no_results) { /* a bulk import needs the counts only */
		b->accepted++;
		return;
	}
	r = k->result(b->item);
	if (r == NULL ||
	    json_object_set_new(r, b->poskey, json_integer(pos)) != 0 ||
	    json_array_append_new(b->results, json_incref(r)) != 0)
		b->failed = STORE_ENOMEM; /* counted only with its result */
	else
		b->accepted++;
	json_decref(r);
}

/* One item of an array (or a CSV row as an object): parsed, then added. */
static void
batch_item(struct http_api *h, struct batch *b, const json_t *obj,
    json_int_t pos, const char *who, int dry_run)
{
	struct input_err e;

	memset(b->item, 0, b->k->item_size);
	if (b->k->parse(h, obj, b->item, &e) != 0) {
		batch_reject(b, pos, &e);
		return;
	}
	batch_add(h, b, pos, who, dry_run);
}

static void
batch_reply(struct http_api *h, struct evhttp_request *req, struct batch *b,
    int dry_run)
{
	json_t *o;

	store_abort(&b->dry); /* what a dry run wrote goes now */
	if (b->failed) {
		json_decref(b->results);
		json_decref(b->errors);
		api_send_store_error(req, b->failed);
		return;
	}
	o = json_pack("{s:i, s:i, s:b, s:o, s:o}", "accepted", b->accepted,
	    "rejected", b->rejected, "dry_run", dry_run, "results", b->results,
	    "errors", b->errors);
	if (b->accepted == 0)
		api_send_json(req, 200, o);
	else if (dry_run)
		api_reply_after_turn(h, req, 200, o);
	else
		api_reply_after_commit(h, req, 200, o);
}

static void
post_csv(struct http_api *h, struct evhttp_request *req, const char *body,
    size_t len, const char *who, int dry_run, struct batch b)
{
	struct csv r;
	char *cells[CSV_MAX_CELLS], **hdr = NULL;
	size_t n, nh = 0;
	int line, rc, items = 0;
	struct input_err e;

	b.poskey = "line";
	b.rows = rowset_new();
	if (b.rows == NULL) {
		json_decref(b.results);
		json_decref(b.errors);
		api_send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	/* ';' as Excel writes it where the decimal mark is a comma */
	csv_init_sep(&r, body, len, csv_sniff(body, len));
	rc = csv_next(&r, cells, &n, &line);
	if (rc <= 0) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		rowset_free(&b.rows);
		api_send_error(req, 400, "bad_request", NULL, "line %d: %s%s",
		    line,
		    rc == 0 ? "empty CSV: a header row is required"
		            : "malformed CSV header: ",
		    rc == 0 ? "" : csv_error(&r, NULL));
		return;
	}
	if (b.k->csv_header(cells, n, &e) != 0) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		rowset_free(&b.rows);
		api_send_error(
		    req, 400, e.code, e.field, "line 1: %s", e.message);
		return;
	}
	hdr = calloc(n, sizeof(*hdr));
	for (size_t i = 0; hdr != NULL && i < n; i++)
		if ((hdr[i] = strdup(cells[i])) == NULL) {
			while (i > 0)
				free(hdr[--i]);
			free(hdr);
			hdr = NULL;
		}
	nh = n;
	csv_expect(&r, nh);
	if (hdr == NULL) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		rowset_free(&b.rows);
		api_send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	while (hdr != NULL && !b.failed &&
	       (rc = csv_next(&r, cells, &n, &line)) != 0) {
		json_t *obj;

		if (++items > MAX_BATCH) {
			input_fail(&e, "too_large", NULL,
			    "more than %d rows in one request", MAX_BATCH);
			batch_reject(&b, line, &e);
			break;
		}
		if (rc < 0) { /* a bad line: the reader reads on after it */
			if (rc == CSV_ENOMEM)
				input_fail(
				    &e, "internal", NULL, "out of memory");
			else
				input_csv_error(&r, hdr, nh, &e);
			batch_reject(&b, line, &e);
			if (rc == CSV_ENOMEM)
				break;
			continue;
		}
		if (n != nh) {
			input_fail(&e, "bad_request", NULL,
			    "%zu columns where the header has %zu", n, nh);
			batch_reject(&b, line, &e);
			continue;
		}
		if (b.k->csv_parse != NULL) {
			memset(b.item, 0, b.k->item_size);
			if (b.k->csv_parse(h, hdr, cells, n, b.item, &e) != 0)
				batch_reject(&b, line, &e);
			else
				batch_add(h, &b, line, who, dry_run);
			continue;
		}
		if ((obj = b.k->csv_row(hdr, cells, n, &e)) == NULL) {
			batch_reject(&b, line, &e);
			continue;
		}
		batch_item(h, &b, obj, line, who, dry_run);
		json_decref(obj);
	}
	for (size_t i = 0; hdr != NULL && i < nh; i++)
		free(hdr[i]);
	free(hdr);
	csv_free(&r);
	rowset_free(&b.rows);
	batch_reply(h, req, &b, dry_run);
}

/* Store the one item of a request and answer it (after the commit). */
static void
single_submit(struct http_api *h, struct evhttp_request *req,
    const struct batch_kind *k, void *item, const char *who, int dry_run)
{
	struct input_err e;
	struct store_txn *dtxn = NULL;
	int rc = submit_one(h, k, item, who, dry_run, &dtxn);

	store_abort(&dtxn);
	if (rc == RECORDS_FILED || rc == RECORDS_DECIDED ||
	    rc == RECORDS_IMPORTED) {
		k->refused(item, rc, &e);
		api_send_error(req, 409, e.code, e.field, "%s", e.message);
	} else if (rc != STORE_OK)
		api_send_store_error(req, rc);
	else if (k->result_text != NULL) {
		size_t n = 0;
		char *text = k->result_text(item, &n);

		if (dry_run)
			api_reply_text_after_turn(h, req, 200, text, n);
		else
			api_reply_text_after_commit(h, req, 200, text, n);
	} else if (dry_run)
		api_reply_after_turn(h, req, 200, k->result(item));
	else
		api_reply_after_commit(h, req, 200, k->result(item));
}

void
api_batch_post(struct http_api *h, struct evhttp_request *req, const char *who,
    const struct batch_kind *k)
{
	const char *ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	const char *dry, *res, *body;
	size_t len;
	int dry_run, no_results;
	json_t *doc;
	json_error_t jerr;
	void *item;

	/* api_query_flag's value lives until its next call */
	if (api_query_flag(req, "dry_run", &dry) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	dry_run = dry != NULL && strcmp(dry, "0") != 0 && strcmp(dry, "false");
	api_query_flag(req, "results", &res);
	no_results =
	    res != NULL && (strcmp(res, "0") == 0 || strcmp(res, "false") == 0);
	if ((body = api_body_of(h, req, &len)) == NULL)
		return;
	if ((item = calloc(1, k->item_size)) == NULL) {
		api_send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	if (ctype != NULL && strncasecmp(ctype, "text/csv", 8) == 0) {
		post_csv(h, req, body, len, who, dry_run,
		    (struct batch){.results = json_array(),
		        .errors = json_array(),
		        .k = k,
		        .item = item,
		        .no_results = no_results});
		free(item);
		return;
	}
	if (ctype != NULL && strncasecmp(ctype, "application/json", 16) != 0) {
		free(item);
		api_send_error(req, 415, "unsupported_media_type", NULL,
		    "Content-Type must be application/json or text/csv");
		return;
	}
	/* the plain form of one object, read without jansson; anything
	 * else (errors too) the jansson way */
	if (k->parse_text != NULL && k->parse_text(h, body, len, item) == 0) {
		single_submit(h, req, k, item, who, dry_run);
		free(item);
		return;
	}
	doc = json_loadb(
	    body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc == NULL) {
		free(item);
		api_send_bad_json(req, &jerr);
		return;
	}
	if (!json_is_object(doc) && !json_is_array(doc)) {
		free(item);
		json_decref(doc);
		api_send_error(req, 400, "bad_request", NULL,
		    "the body must be a JSON object or an array of them");
		return;
	}
	if (json_is_array(doc)) {
		struct batch b = {.results = json_array(),
		    .errors = json_array(),
		    .poskey = "index",
		    .k = k,
		    .item = item,
		    .no_results = no_results};
		size_t i;
		json_t *elem;

		if (json_array_size(doc) > MAX_BATCH) {
			free(item);
			json_decref(doc);
			json_decref(b.results);
			json_decref(b.errors);
			api_send_error(req, 413, "too_large", NULL,
			    "more than %d items in one request", MAX_BATCH);
			return;
		}
		json_array_foreach(doc, i, elem)
		{
			batch_item(h, &b, elem, (json_int_t)i, who, dry_run);
			if (b.failed)
				break;
		}
		json_decref(doc);
		batch_reply(h, req, &b, dry_run);
		free(item);
		return;
	}
	{
		struct input_err e;

		if (k->parse(h, doc, item, &e) != 0) {
			free(item);
			json_decref(doc);
			api_send_error(
			    req, 400, e.code, e.field, "%s", e.message);
			return;
		}
		json_decref(doc);
		single_submit(h, req, k, item, who, dry_run);
		free(item);
	}
}
