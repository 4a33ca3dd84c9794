/*
 * api_history.c: imported results (results from before the system):
 * GET /v1/history/{year} (viewer), PUT (admin: enter or replace a year's
 * aggregated figures) and DELETE (admin: remove them).  Years 2020 (the
 * baseline) to 2030; history.c validates, stores and refuses.  Offline
 * units: POST /v1/history (admin, text/csv: one row per unit and year)
 * and GET / DELETE /v1/history/{year}?unit=ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

#include "api.h"
#include "csv.h"
#include "history.h"
#include "rowset.h"
#include "valid.h"

#define HISTORY_MAX_ROWS 100000

/* One line's error into errors (a store of its own: out of memory fails
 * the batch). */
static int
row_error(json_t *errors, int line, const struct input_err *e)
{
	return json_array_append_new(
	    errors, json_pack("{s:i, s:s, s:s, s:o}", "line", line, "code",
	                e->code, "message", e->message, "field",
	                e->field[0] ? json_string(e->field) : json_null()));
}

/*
 * POST /v1/history (text/csv; ?dry_run=1, ?results=0 as the other
 * batches): every good line is stored, every bad one reported by line and
 * field; one reply after the turn's commit.
 */
static void
history_post(struct http_api *h, struct evhttp_request *req, const char *who)
{
	const char *ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	struct records_actor act = api_actor(h, who);
	const char *body, *dry, *res;
	char *cells[CSV_MAX_CELLS], **hdr = NULL;
	struct store_txn *dtxn = NULL, *t;
	struct rowset *rows = NULL;
	json_t *results, *errors;
	struct input_err e;
	struct csv r;
	size_t len, n, nh = 0;
	int dry_run, no_results, line, rc, items = 0, accepted = 0,
	                                   rejected = 0, failed = 0;

	if (api_query_flag(req, "dry_run", &dry) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	dry_run = dry != NULL && strcmp(dry, "0") != 0 && strcmp(dry, "false");
	api_query_flag(req, "results", &res);
	no_results =
	    res != NULL && (strcmp(res, "0") == 0 || strcmp(res, "false") == 0);
	if (ctype == NULL || strncasecmp(ctype, "text/csv", 8) != 0) {
		api_send_error(req, 415, "unsupported_media_type", NULL,
		    "Content-Type must be text/csv (one row per unit and year: "
		    "unit_id,unit_name,level,year,source,assessed,...)");
		return;
	}
	if ((body = api_body_of(h, req, &len)) == NULL)
		return;
	csv_init_sep(&r, body, len, csv_sniff(body, len));
	rc = csv_next(&r, cells, &n, &line);
	if (rc <= 0) {
		api_send_error(req, 400, "bad_request", NULL, "line %d: %s%s",
		    line,
		    rc == 0 ? "empty CSV: a header row is required"
		            : "malformed CSV header: ",
		    rc == 0 ? "" : csv_error(&r, NULL));
		csv_free(&r);
		return;
	}
	if (history_csv_header(cells, n, &e) != 0) {
		csv_free(&r);
		api_send_error(
		    req, 400, e.code, e.field, "line 1: %s", e.message);
		return;
	}
	nh = n;
	hdr = calloc(nh, sizeof(*hdr));
	for (size_t i = 0; hdr != NULL && i < nh; i++)
		if ((hdr[i] = strdup(cells[i])) == NULL) {
			while (i > 0)
				free(hdr[--i]);
			free(hdr);
			hdr = NULL;
		}
	results = json_array();
	errors = json_array();
	rows = rowset_new();
	if (hdr == NULL || results == NULL || errors == NULL || rows == NULL)
		failed = STORE_ENOMEM;
	csv_expect(&r, nh);
	while (!failed && (rc = csv_next(&r, cells, &n, &line)) != 0) {
		struct history hi;
		int replaced;
		long first;

		if (rc == CSV_ENOMEM) {
			failed = STORE_ENOMEM;
			break;
		}
		if (++items > HISTORY_MAX_ROWS) {
			input_fail(&e, "too_large", NULL,
			    "more than %d rows in one request",
			    HISTORY_MAX_ROWS);
			failed = row_error(errors, line, &e) ? STORE_ENOMEM : 0;
			rejected++;
			break;
		}
		if (rc < 0) { /* a bad line: the reader reads on after it */
			input_csv_error(&r, hdr, nh, &e);
			goto reject;
		}
		if (history_from_csv(hdr, cells, n, &hi, &e) != 0)
			goto reject;
		first =
		    rowset_add(rows, hi.year, hi.unit, strlen(hi.unit), line);
		if (first < 0) {
			failed = STORE_ENOMEM;
			break;
		}
		if (first > 0) {
			input_fail(&e, ROWSET_CODE, "unit_id",
			    "year %d, unit_id %s is already on line %ld of "
			    "this file; this line is not stored",
			    hi.year, hi.unit, first);
			goto reject;
		}
		if (dry_run) {
			if (dtxn == NULL &&
			    (failed = committer_nested(h->cm, &dtxn)) != 0)
				break;
			t = dtxn;
		} else if ((t = committer_txn(h->cm)) == NULL) {
			failed = STORE_EIO;
			break;
		}
		rc = history_offline_put(t, h->c, &act, &hi, &replaced, &e);
		if (rc == RECORDS_FILED) {
			char msg[sizeof(e.message)];

			input_fail(&e,
			    api_refusal_message(
			        msg, sizeof(msg), rc, hi.year, "", NULL),
			    "year", "%s", msg);
			goto reject;
		}
		if (rc == HISTORY_NOT_OFFLINE)
			goto reject;
		if ((failed = rc) != STORE_OK)
			break;
		if (!no_results) {
			json_t *o = history_json(&hi);

			if (o == NULL ||
			    json_object_set_new(
			        o, "line", json_integer(line)) ||
			    json_object_set_new(
			        o, "replaced", json_boolean(replaced)) ||
			    json_array_append_new(results, o)) {
				failed = STORE_ENOMEM;
				break;
			}
		}
		accepted++;
		continue;
	reject:
		if (row_error(errors, line, &e) != 0)
			failed = STORE_ENOMEM;
		rejected++;
	}
	for (size_t i = 0; hdr != NULL && i < nh; i++)
		free(hdr[i]);
	free(hdr);
	csv_free(&r);
	rowset_free(&rows);
	store_abort(&dtxn); /* what a dry run wrote goes now */
	if (failed) {
		json_decref(results);
		json_decref(errors);
		if (failed == STORE_ENOMEM)
			api_send_error(
			    req, 500, "internal", NULL, "out of memory");
		else
			api_send_store_error(req, failed);
		return;
	}
	{
		json_t *o = json_pack("{s:i, s:i, s:b, s:o, s:o}", "accepted",
		    accepted, "rejected", rejected, "dry_run", dry_run,
		    "results", results, "errors", errors);

		if (accepted == 0)
			api_send_json(req, 200, o);
		else if (dry_run)
			api_reply_after_turn(h, req, 200, o);
		else
			api_reply_after_commit(h, req, 200, o);
	}
}

static void
history_bad_year(struct evhttp_request *req)
{
	api_send_error(req, 400, "invalid_field", "year",
	    "year must be %d..%d (%d: the baseline)", HISTORY_YEAR_MIN,
	    HISTORY_YEAR_MAX, HISTORY_YEAR_MIN);
}

/* PUT: validate, store, answer with the stored entry once committed. */
static void
history_put_req(
    struct http_api *h, struct evhttp_request *req, int year, const char *who)
{
	struct records_actor act = api_actor(h, who);
	struct history hi = {.year = year};
	struct input_err e;
	json_error_t jerr;
	int64_t na = 0, nt = 0;
	size_t len;
	const char *body = api_body_of(h, req, &len);
	struct store_txn *t;
	json_t *doc;
	int rc, replaced = 0;

	if (body == NULL)
		return;
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		api_send_bad_json(req, &jerr);
		return;
	}
	rc = history_from_json(doc, &hi, &e);
	json_decref(doc);
	if (rc != 0) {
		api_send_error(req, 400, e.code, e.field, "%s", e.message);
		return;
	}
	t = committer_txn(h->cm);
	rc = t ? history_put(t, &act, &h->c->targets, &hi, &replaced, &na, &nt)
	       : STORE_EIO;
	if (rc == STORE_OK)
		api_reply_after_commit(h, req, 200, history_json(&hi));
	else if (rc == HISTORY_HAS_RECORDS)
		api_send_error(req, 409, "has_records", "year",
		    "%d has %lld assessment record(s) and %lld title "
		    "record(s) at this node: a year is either recorded or "
		    "imported, not both (withdraw its records first, or keep "
		    "them)",
		    year, (long long)na, (long long)nt);
	else if (rc == RECORDS_FILED)
		api_send_write_error(req, rc, year, "", NULL);
	else
		api_send_store_error(req, rc);
}

/* GET, PUT or DELETE /v1/history/{year}?unit=ID: an offline unit's year.
 * PUT takes the JSON of the node's own PUT and keeps the unit's name and
 * level (from any of its years: a unit comes in by CSV first). */
static void
history_unit(struct http_api *h, struct evhttp_request *req, int year,
    const char *unit, const char *who)
{
	int method = evhttp_request_get_command(req), rc, replaced = 0;
	struct records_actor act = api_actor(h, who);
	char u[WIRE_MAX_ID + 1], q[3 * WIRE_MAX_ID + 4];
	struct history hi;
	struct store_txn *t;
	struct input_err e;

	valid_quote(q, sizeof(q), unit, strlen(unit));
	if (valid_id(unit, strlen(unit)) != 0) {
		api_send_error(req, 400, "invalid_field", "unit",
		    "unit must be a unit id (1..%d of [0-9A-Za-z_-]), not "
		    "\"%s\"",
		    WIRE_MAX_ID, q);
		return;
	}
	snprintf(u, sizeof(u), "%s", unit); /* the query's value is brief */
	if (method == EVHTTP_REQ_GET) {
		t = store_begin(h->st, 0);
		rc = t ? history_offline_get(t, u, year, &hi) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, history_json(&hi));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", "unit",
			    "no imported results for %d of offline unit %s at "
			    "this node",
			    year, q);
		else
			api_send_store_error(req, rc);
		return;
	}
	if (method == EVHTTP_REQ_DELETE) {
		t = committer_txn(h->cm);
		rc = t ? history_offline_delete(t, h->c, &act, u, year)
		       : STORE_EIO;
		if (rc == STORE_OK)
			api_reply_after_commit(h, req, 200,
			    json_pack("{s:i, s:s, s:b}", "year", year, "unit",
			        u, "deleted", 1));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", "unit",
			    "no imported results for %d of offline unit %s at "
			    "this node",
			    year, q);
		else if (rc == RECORDS_FILED)
			api_send_write_error(req, rc, year, "", NULL);
		else
			api_send_store_error(req, rc);
		return;
	}
	{ /* PUT */
		struct history known;
		json_error_t jerr;
		json_t *doc;
		size_t len;
		const char *body = api_body_of(h, req, &len);
		int found = 0;

		if (body == NULL)
			return;
		if ((doc = json_loadb(
		         body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			api_send_bad_json(req, &jerr);
			return;
		}
		hi.year = year;
		rc = history_from_json(doc, &hi, &e);
		json_decref(doc);
		if (rc != 0) {
			api_send_error(
			    req, 400, e.code, e.field, "%s", e.message);
			return;
		}
		if ((t = committer_txn(h->cm)) == NULL) {
			api_send_store_error(req, STORE_EIO);
			return;
		}
		for (int y = HISTORY_YEAR_MIN; !found && y <= HISTORY_YEAR_MAX;
		     y++)
			found =
			    history_offline_get(t, u, y, &known) == STORE_OK;
		if (!found) {
			api_send_error(req, 404, "not_found", "unit",
			    "%s is no offline unit of this node: add it with "
			    "POST /v1/history (text/csv, its name and level)",
			    q);
			return;
		}
		memcpy(hi.unit, u, sizeof(hi.unit));
		memcpy(hi.unit_name, known.unit_name, sizeof(hi.unit_name));
		memcpy(hi.level, known.level, sizeof(hi.level));
		rc = history_offline_put(t, h->c, &act, &hi, &replaced, &e);
		if (rc == STORE_OK)
			api_reply_after_commit(h, req, 200, history_json(&hi));
		else if (rc == HISTORY_NOT_OFFLINE)
			api_send_error(
			    req, 409, "not_offline", "unit", "%s", e.message);
		else if (rc == RECORDS_FILED)
			api_send_write_error(req, rc, year, "", NULL);
		else
			api_send_store_error(req, rc);
	}
}

void
api_history(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	int method = evhttp_request_get_command(req), year, rc;
	struct records_actor act = api_actor(h, who);
	struct history hi;
	struct store_txn *t;
	const char *unit;

	if (rest[0] == '\0') { /* POST /v1/history: offline units */
		history_post(h, req, who);
		return;
	}
	if (api_parse_year_from(rest, HISTORY_YEAR_MIN, &year) != 0) {
		history_bad_year(req);
		return;
	}
	if (api_query_flag(req, "unit", &unit) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	if (unit != NULL && strcmp(unit, h->c->id) != 0) {
		history_unit(h, req, year, unit, who);
		return;
	}
	if (method == EVHTTP_REQ_GET) {
		t = store_begin(h->st, 0);
		rc = t ? history_get(t, year, &hi) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, history_json(&hi));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no imported results for %d at this node", year);
		else
			api_send_store_error(req, rc);
		return;
	}
	if (method == EVHTTP_REQ_PUT) {
		history_put_req(h, req, year, who);
		return;
	}
	t = committer_txn(h->cm);
	rc = t ? history_delete(t, &act, year) : STORE_EIO;
	if (rc == STORE_OK)
		api_reply_after_commit(h, req, 200,
		    json_pack("{s:i, s:b}", "year", year, "deleted", 1));
	else if (rc == STORE_NOTFOUND)
		api_send_error(req, 404, "not_found", NULL,
		    "no imported results for %d at this node", year);
	else if (rc == RECORDS_FILED)
		api_send_write_error(req, rc, year, "", NULL);
	else
		api_send_store_error(req, rc);
}
