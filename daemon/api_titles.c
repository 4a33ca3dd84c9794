/*
 * api_titles.c: collective titles as records: POST /v1/titles (one object,
 * a JSON array or CSV, through api_batch.c) and GET / DELETE
 * /v1/titles/{year}/{kind}/{id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api.h"
#include "api_batch.h"
#include "input.h"
#include "titles.h"
#include "valid.h"

json_t *
api_title_json(const struct title *ti)
{
	json_t *o = json_pack("{s:i, s:s, s:s%, s:o, s:b, s:b, s:o}", "year",
	    ti->year, "kind", title_kind_names[ti->kind], "id", ti->id,
	    (size_t)ti->id_len, "name",
	    ti->name[0] ? json_string(ti->name) : json_null(), "eligible",
	    ti->eligible, "recognized", ti->recognized, "decision",
	    ti->decision[0] ? json_string(ti->decision) : json_null());
	char when[32];

	if (o == NULL)
		return NULL;
	json_object_set_new(o, ti->kind == TITLE_UNIT ? "staff" : "adults",
	    ti->members >= 0 ? json_integer(ti->members) : json_null());
	views_iso_time(ti->updated_at, when, sizeof(when));
	json_object_set_new(o, "updated_at", json_string(when));
	return o;
}

static int
title_parse(
    struct http_api *h, const json_t *obj, void *item, struct input_err *e)
{
	return input_title(obj, item, e);
}

static size_t
title_key(const void *item, long *year, char *buf, size_t cap)
{
	const struct title *ti = item;
	int n = snprintf(buf, cap, "%s/%.*s", title_kind_names[ti->kind],
	    (int)ti->id_len, ti->id);

	*year = ti->year;
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static int
title_store(struct store_txn *t, const struct records_actor *act, void *item)
{
	int replaced;

	return titles_put(t, act, item, &replaced);
}

static void
title_refused(const void *item, int rc, struct input_err *e)
{
	const struct title *ti = item;
	char what[3 * VALID_PID_MAX + 32], q[3 * VALID_PID_MAX + 4];
	char msg[sizeof(e->message)];
	const char *code;

	valid_quote(q, sizeof(q), ti->id, ti->id_len);
	snprintf(what, sizeof(what), "%s %s", title_kind_names[ti->kind], q);
	code = api_refusal_message(
	    msg, sizeof(msg), rc, ti->year, what, ti->decision);
	input_fail(e, code, rc != RECORDS_DECIDED ? "year" : "id", "%s", msg);
}

static json_t *
title_result(const void *item)
{
	return api_title_json(item);
}

static const struct batch_kind title_kind = {
    .item_size = sizeof(struct title),
    .csv_header = input_title_csv_header,
    .csv_row = input_title_csv_row,
    .parse = title_parse,
    .key = title_key,
    .store = title_store,
    .refused = title_refused,
    .result = title_result,
};

void
api_titles_post(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who)
{
	api_batch_post(h, req, who, &title_kind);
}

/* /v1/titles/{year}/{kind}/{id}: GET or DELETE. */
void
api_title_one(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	const char *s1 = strchr(rest, '/'),
	           *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	char ybuf[8], kbuf[16], q[3 * VALID_PID_MAX + 4];
	char what[3 * VALID_PID_MAX + 32];
	char *id;
	size_t idlen;
	int year, kind, rc;

	if (s1 == NULL || s2 == NULL || (size_t)(s1 - rest) >= sizeof(ybuf) ||
	    (size_t)(s2 - s1 - 1) >= sizeof(kbuf)) {
		api_send_error(req, 404, "not_found", NULL,
		    "use /v1/titles/{year}/{kind}/{id}");
		return;
	}
	memcpy(ybuf, rest, (size_t)(s1 - rest));
	ybuf[s1 - rest] = '\0';
	memcpy(kbuf, s1 + 1, (size_t)(s2 - s1 - 1));
	kbuf[s2 - s1 - 1] = '\0';
	if (api_parse_year(ybuf, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if ((kind = rules_lookup(title_kind_names, TITLE_NKINDS, kbuf)) < 0) {
		api_send_error(req, 400, "invalid_field", "kind",
		    "kind must be one of: family, clan, community, unit");
		return;
	}
	id = evhttp_uridecode(s2 + 1, 0, &idlen);
	if (id == NULL || valid_person_id(id, idlen) != 0 ||
	    memchr(id, 0, idlen) != NULL) {
		free(id);
		api_send_error(req, 400, "invalid_field", "id",
		    "id must be 1..64 bytes without control characters");
		return;
	}
	valid_quote(q, sizeof(q), id, idlen);
	snprintf(what, sizeof(what), "%s %s", title_kind_names[kind], q);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);
		struct title ti;

		rc = t ? titles_get(t, year, kind, id, idlen, &ti) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, api_title_json(&ti));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no %s record in %d", what, year);
		else
			api_send_store_error(req, rc);
	} else {
		struct records_actor act = api_actor(h, who);
		struct store_txn *t = committer_txn(h->cm);
		char decided[VALID_DECISION_MAX + 1] = "";

		rc = t ? titles_delete(t, &act, year, kind, id, idlen, decided)
		       : STORE_EIO;
		if (rc == STORE_OK)
			api_reply_after_commit(h, req, 200,
			    json_pack("{s:b, s:i, s:s, s:s%}", "deleted", 1,
			        "year", year, "kind", title_kind_names[kind],
			        "id", id, idlen));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no %s record in %d", what, year);
		else
			api_send_write_error(req, rc, year, what, decided);
	}
	free(id);
}
