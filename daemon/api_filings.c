/*
 * api_filings.c: the yearly filing: GET /v1/filings/{year} (this node's
 * state), POST /v1/filings/{year}[?force=1] (file it: freeze this node's
 * own data of that year; refused while units below have not filed, unless
 * forced) and DELETE /v1/filings/{year} (reopen it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "api.h"
#include "filing.h"

/* This node's filing of year as GET answers it. */
static json_t *
filing_json(struct http_api *h, int year, const struct filing *f)
{
	const struct conf *c = h->c;
	char when[32], due[16];
	json_t *o;
	int64_t now = (int64_t)time(NULL);
	/* the deadline's end, in the node's time zone */
	struct tm tm = {.tm_year = year - 1900,
	    .tm_mon = c->deadline_month - 1,
	    .tm_mday = c->deadline_day + 1};
	int64_t end = (int64_t)timegm(&tm) - (int64_t)c->utc_offset_min * 60;

	snprintf(due, sizeof(due), "%04d-%02d-%02d", year, c->deadline_month,
	    c->deadline_day);
	views_iso_time(f->filed_at, when, sizeof(when));
	o = json_pack("{s:i, s:b, s:o, s:o, s:I, s:I, s:s, s:b}", "year", year,
	    "filed", f->filed, "filed_at",
	    f->filed ? json_string(when) : json_null(), "by",
	    f->filed ? json_string(f->by) : json_null(), "reopened",
	    (json_int_t)f->reopened, "forced_missing", (json_int_t)f->missing,
	    "deadline", due, "late",
	    f->filed ? f->filed_at >= end : now >= end);
	return o;
}

void
api_filings(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	int method = evhttp_request_get_command(req), year, rc;
	struct records_actor act = api_actor(h, who);
	struct filing f;
	struct store_txn *t;

	if (api_parse_year(rest, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if (method == EVHTTP_REQ_GET) {
		t = store_begin(h->st, 0);
		rc = t ? filing_get(t, year, &f) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, filing_json(h, year, &f));
		else
			api_send_store_error(req, rc);
		return;
	}
	t = committer_txn(h->cm);
	if (method == EVHTTP_REQ_POST) {
		const char *force;
		char **ids = NULL;
		size_t n = 0;
		json_t *arr;

		if (api_query_flag(req, "force", &force) != 0) {
			api_send_error(
			    req, 400, "bad_request", NULL, "malformed query");
			return;
		}
		rc = t ? filing_file(t, h->c, &act, year,
		             force != NULL && strcmp(force, "0") != 0 &&
		                 strcmp(force, "false") != 0,
		             &ids, &n)
		       : STORE_EIO;
		arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_string(ids[i]));
		if (rc == STORE_OK) {
			filing_get(t, year, &f);
			json_t *o = filing_json(h, year, &f);

			json_object_set_new(o, "forced", json_boolean(n > 0));
			json_object_set(o, "not_filed", arr);
			api_reply_after_commit(h, req, 201, o);
		} else if (rc == FILING_UNFILED) {
			json_t *items = json_array();
			char msg[512];
			size_t off = (size_t)snprintf(msg, sizeof(msg),
			    "%zu unit(s) below have not filed %d:", n, year);

			for (size_t i = 0; i < n; i++) {
				json_array_append_new(
				    items, json_pack("{s:s}", "id", ids[i]));
				if (off < sizeof(msg) - 24)
					off += (size_t)snprintf(msg + off,
					    sizeof(msg) - off, " %s", ids[i]);
			}
			if (off < sizeof(msg))
				snprintf(msg + off, sizeof(msg) - off,
				    " (file anyway with ?force=1, which "
				    "records them)");
			api_send_json(req, 409,
			    json_pack("{s:{s:s, s:s, s:n, s:o}}", "error",
			        "code", "not_all_filed", "message", msg,
			        "field", "items", items));
		} else if (rc == RECORDS_FILED)
			api_send_error(req, 409, "year_filed", "year",
			    "%d is already filed at this node", year);
		else
			api_send_store_error(req, rc);
		json_decref(arr);
		filing_ids_free(&ids, &n);
		return;
	}
	rc = t ? filing_reopen(t, &act, year) : STORE_EIO;
	if (rc == STORE_OK && filing_get(t, year, &f) == STORE_OK)
		api_reply_after_commit(h, req, 200,
		    json_pack("{s:i, s:b, s:I}", "year", year, "filed", 0,
		        "reopened", (json_int_t)f.reopened));
	else if (rc == STORE_NOTFOUND)
		api_send_error(req, 409, "not_filed", "year",
		    "%d is not filed at this node", year);
	else
		api_send_store_error(req, rc ? rc : STORE_EIO);
}
