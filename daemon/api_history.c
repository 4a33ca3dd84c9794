/*
 * api_history.c: imported results (results from before the system):
 * GET /v1/history/{year} (viewer), PUT (admin: enter or replace a year's
 * aggregated figures) and DELETE (admin: remove them).  Years 2020 (the
 * baseline) to 2030; history.c validates, stores and refuses.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "api.h"
#include "history.h"

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

void
api_history(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	int method = evhttp_request_get_command(req), year, rc;
	struct records_actor act = api_actor(h, who);
	struct history hi;
	struct store_txn *t;
	const char *unit;

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
		/* offline units (SPEC10's bulk CSV) are not in this release */
		api_send_error(req, 404, "not_found", "unit",
		    "this node holds imported results for itself only (%s)",
		    h->c->id);
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
