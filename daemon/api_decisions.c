/*
 * api_decisions.c: recognition by decision: POST /v1/decisions (all or
 * nothing), GET /v1/decisions?year=Y, and GET / DELETE
 * /v1/decisions/{year}/{number} (the number percent-encoded, or not: it is
 * everything after the year).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api.h"
#include "decisions.h"
#include "input.h"
#include "valid.h"

static json_t *
decision_json(const struct decision *d)
{
	char when[32];

	views_iso_time(d->recorded_at, when, sizeof(when));
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "year",
	    d->year, "number", d->number, "date", d->date, "authority",
	    d->authority, "title", decision_title_names[d->title], "count",
	    (json_int_t)d->count, "recorded_at", when, "by", d->by);
}

/* 400 not_eligible: every id that cannot be decided, in list order. */
static void
send_refused(struct evhttp_request *req, const struct decision *d,
    const json_t *ids, const struct decision_bad *bad, size_t nbad)
{
	static const char *const why[] = {"not assessed that year",
	    "does not meet the criteria", "already recognised by decision",
	    "listed twice"};
	json_t *items = json_array();
	char msg[1024];
	size_t off;

	off = (size_t)snprintf(msg, sizeof(msg),
	    "%zu of the %zu listed cannot be recognised by this decision in "
	    "%d, so nothing was recorded:",
	    nbad, json_array_size(ids), d->year);
	for (size_t i = 0; i < nbad; i++) {
		const json_t *v = json_array_get(ids, bad[i].index);
		char q[3 * VALID_PID_MAX + 4],
		    other[3 * VALID_DECISION_MAX + 4];

		valid_quote(
		    q, sizeof(q), json_string_value(v), json_string_length(v));
		valid_quote(
		    other, sizeof(other), bad[i].other, strlen(bad[i].other));
		json_array_append_new(items,
		    json_pack("{s:I, s:s%, s:s, s:o}", "index",
		        (json_int_t)bad[i].index, "id", json_string_value(v),
		        json_string_length(v), "reason",
		        decision_flaw_names[bad[i].flaw], "decision",
		        bad[i].flaw == DFLAW_DECIDED ? json_string(bad[i].other)
		                                     : json_null()));
		if (off < sizeof(msg) - 64 && i < 50)
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    "%s %s (%s%s%s)", i ? "," : "", q, why[bad[i].flaw],
			    bad[i].flaw == DFLAW_DECIDED ? " " : "",
			    bad[i].flaw == DFLAW_DECIDED ? other : "");
		else if (off < sizeof(msg) - 16) {
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    " and %zu more", nbad - i);
			break;
		}
	}
	api_send_json(req, 400,
	    json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code",
	        "not_eligible", "message", msg, "field",
	        d->title == DECISION_CITIZEN ? "person_ids" : "ids", "items",
	        items));
}

static void
post_decision(struct http_api *h, struct evhttp_request *req, const char *who)
{
	struct records_actor act = api_actor(h, who);
	struct decision d;
	struct decision_bad *bad = NULL;
	struct input_err e;
	const json_t *ids;
	const char **idv = NULL;
	size_t *lens = NULL, n, nbad = 0, len;
	struct store_txn *t;
	json_error_t jerr;
	const char *body = api_body_of(h, req, &len);
	json_t *doc;
	int rc;

	if (body == NULL)
		return;
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		api_send_bad_json(req, &jerr);
		return;
	}
	if (input_decision(doc, &d, &ids, &e) != 0) {
		json_decref(doc);
		api_send_error(req, 400, e.code, e.field, "%s", e.message);
		return;
	}
	n = json_array_size(ids);
	idv = calloc(n, sizeof(*idv));
	lens = calloc(n, sizeof(*lens));
	if (idv == NULL || lens == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		idv[i] = json_string_value(json_array_get(ids, i));
		lens[i] = json_string_length(json_array_get(ids, i));
	}
	t = committer_txn(h->cm);
	rc = t ? decisions_add(t, &act, &d, idv, lens, n, &bad, &nbad)
	       : STORE_EIO;
out:
	if (rc == STORE_OK)
		api_reply_after_commit(h, req, 201, decision_json(&d));
	else if (rc == DECISIONS_REFUSED)
		send_refused(req, &d, ids, bad, nbad);
	else if (rc == DECISIONS_EXISTS) {
		char q[3 * VALID_DECISION_MAX + 4];

		valid_quote(q, sizeof(q), d.number, strlen(d.number));
		api_send_error(req, 409, "exists", "number",
		    "decision %s of %d is already recorded (revoke it first "
		    "to record it again)",
		    q, d.year);
	} else
		api_send_write_error(req, rc, d.year, "", NULL);
	free(bad);
	free(idv);
	free(lens);
	json_decref(doc);
}

static int
list_cb(void *arg, const struct decision *d)
{
	return json_array_append_new(arg, decision_json(d)) != 0;
}

void
api_decisions(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	struct store_txn *t;
	json_t *arr;
	int year, depth = 0, rc;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		post_decision(h, req, who);
		return;
	}
	if (api_query_year_depth(h, req, &year, &depth) != 0)
		return;
	t = store_begin(h->st, 0);
	arr = json_array();
	rc = t ? decisions_scan(t, year, list_cb, arr) : STORE_EIO;
	store_abort(&t);
	if (rc != STORE_OK) {
		json_decref(arr);
		api_send_store_error(req, rc);
		return;
	}
	api_send_json(
	    req, 200, json_pack("{s:i, s:o}", "year", year, "decisions", arr));
}

static int
ids_cb(void *arg, const char *id, size_t idlen)
{
	return json_array_append_new(arg, json_stringn(id, idlen)) != 0;
}

void
api_decision_one(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who)
{
	const char *slash = strchr(rest, '/');
	char ybuf[8], q[3 * VALID_DECISION_MAX + 4];
	struct decision d;
	char *num;
	size_t nlen;
	int year, rc;

	if (slash == NULL || (size_t)(slash - rest) >= sizeof(ybuf)) {
		api_send_error(req, 404, "not_found", NULL,
		    "use /v1/decisions/{year}/{number}");
		return;
	}
	memcpy(ybuf, rest, (size_t)(slash - rest));
	ybuf[slash - rest] = '\0';
	if (api_parse_year(ybuf, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	num = evhttp_uridecode(slash + 1, 0, &nlen);
	if (num == NULL || valid_decision_number(num, nlen) != 0) {
		free(num);
		api_send_error(req, 400, "invalid_field", "number",
		    "the decision number must be 1..64 bytes without control "
		    "characters (percent-encoded in the path)");
		return;
	}
	valid_quote(q, sizeof(q), num, nlen);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);
		json_t *o = NULL, *ids = json_array();

		rc = t ? decisions_get(t, year, num, nlen, &d) : STORE_EIO;
		if (rc == STORE_OK)
			rc = decisions_ids(t, year, num, nlen, ids_cb, ids);
		store_abort(&t);
		if (rc == STORE_OK && (o = decision_json(&d)) != NULL &&
		    json_object_set(o, "ids", ids) == 0)
			api_send_json(req, 200, o);
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no decision %s in %d", q, year);
		else {
			json_decref(o);
			api_send_store_error(req, rc ? rc : STORE_ENOMEM);
		}
		json_decref(ids);
	} else {
		struct records_actor act = api_actor(h, who);
		struct store_txn *t = committer_txn(h->cm);

		rc = t ? decisions_revoke(t, &act, year, num, nlen, &d)
		       : STORE_EIO;
		if (rc == STORE_OK)
			api_reply_after_commit(h, req, 200,
			    json_pack("{s:b, s:i, s:s, s:I}", "revoked", 1,
			        "year", year, "number", d.number, "count",
			        (json_int_t)d.count));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no decision %s in %d", q, year);
		else
			api_send_write_error(req, rc, year, "", NULL);
	}
	free(num);
}
