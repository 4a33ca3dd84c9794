/*
 * api_assess.c: the assessment handlers: POST /v1/assessments (one object,
 * a JSON array, or CSV, through api_batch.c), GET /v1/assessments?format=csv
 * (every record, or one year's, in the import format: what a successor
 * imports after a merge), and GET / DELETE
 * /v1/assessments/{year}/{person_id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api.h"
#include "api_batch.h"
#include "input.h"
#include "paper.h"
#include "records.h"
#include "valid.h"

/* The assessment kind of api_batch.h. */

static int
assess_parse(
    struct http_api *h, const json_t *obj, void *item, struct input_err *e)
{
	return input_assessment(obj, h->c->level, item, e);
}

static int
assess_csv_parse(struct http_api *h, char *const *hdr, char *const *cells,
    size_t n, void *item, struct input_err *e)
{
	return input_csv_assessment(hdr, cells, n, h->c->level, item, e);
}

static size_t
assess_key(const void *item, long *year, char *buf, size_t cap)
{
	const struct assessment *a = item;
	size_t n = a->pid_len < cap ? a->pid_len : cap;

	*year = a->year;
	memcpy(buf, a->person_id, n);
	return n;
}

static int
assess_store(struct store_txn *t, const struct records_actor *act, void *item)
{
	int replaced;

	return records_put(t, act, item, &replaced);
}

static void
assess_refused(const void *item, int rc, struct input_err *e)
{
	const struct assessment *a = item;
	char what[3 * RULES_PID_MAX + 16], q[3 * RULES_PID_MAX + 4];
	char msg[sizeof(e->message)];
	const char *code;

	valid_quote(q, sizeof(q), a->person_id, a->pid_len);
	snprintf(what, sizeof(what), "person %s", q);
	code = api_refusal_message(
	    msg, sizeof(msg), rc, a->year, what, a->decision);
	input_fail(
	    e, code, rc != RECORDS_DECIDED ? "year" : "person_id", "%s", msg);
}

static json_t *
assess_result(const void *item)
{
	return views_result(item);
}

static int
assess_parse_text(struct http_api *h, const char *body, size_t len, void *item)
{
	return input_assessment_text(body, len, h->c->level, item);
}

static char *
assess_result_text(const void *item, size_t *len)
{
	return views_result_text(item, len);
}

static const struct batch_kind assess_kind = {
    .item_size = sizeof(struct assessment),
    .csv_header = input_csv_header,
    .csv_parse = assess_csv_parse,
    .parse = assess_parse,
    .parse_text = assess_parse_text,
    .key = assess_key,
    .store = assess_store,
    .refused = assess_refused,
    .result = assess_result,
    .result_text = assess_result_text,
};

/* The columns of the import (input.c's csv_columns), in that order. */
static const char *const export_columns[] = {"year", "person_id", "name",
    "birth_year", "group", "population", "s1", "s2", "s3", "s4", "s5", "s6",
    "s7", "s8", "s9", "s10", "digital"};
#define NEXPORT (sizeof(export_columns) / sizeof(export_columns[0]))

/* One record as a CSV row of export_columns. */
static int
export_cb(void *arg, const struct assessment *a)
{
	struct evbuffer *out = arg;
	char num[16], pid[RULES_PID_MAX + 1];

	snprintf(num, sizeof(num), "%d", a->year);
	paper_csv_field(out, num, 0);
	memcpy(pid, a->person_id, a->pid_len);
	pid[a->pid_len] = '\0';
	paper_csv_field(out, pid, 0);
	paper_csv_field(out, a->name, 0);
	if (a->birth_year != 0)
		snprintf(num, sizeof(num), "%d", a->birth_year);
	else
		num[0] = '\0';
	paper_csv_field(out, num, 0);
	paper_csv_field(out, rules_group_names[a->group], 0);
	paper_csv_field(out, rules_population_names[a->population], 0);
	for (int i = 0; i < RULES_NSCORES; i++) {
		snprintf(num, sizeof(num), "%d", a->scores[i]);
		paper_csv_field(out, num, 0);
	}
	paper_csv_field(out, rules_digital_names[a->digital], 1);
	return 0;
}

/* GET /v1/assessments?format=csv[&year=Y]: every record, or one year's. */
static void
assess_export(struct http_api *h, struct evhttp_request *req)
{
	const char *v;
	char fmt[16] = "", disp[96];
	int year = 0, rc = STORE_OK;
	struct evbuffer *out;
	struct store_txn *t;

	if (api_query_flag(req, "format", &v) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query string");
		return;
	}
	if (v != NULL)
		snprintf(fmt, sizeof(fmt), "%s", v);
	if (strcmp(fmt, "csv") != 0) {
		api_send_error(req, 400, "invalid_field", "format",
		    "format must be csv (the import format of POST "
		    "/v1/assessments)");
		return;
	}
	api_query_flag(req, "year", &v);
	if (v != NULL && api_parse_year(v, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		api_send_store_error(req, STORE_EIO);
		return;
	}
	out = evhttp_request_get_output_buffer(req);
	for (size_t i = 0; i < NEXPORT; i++)
		paper_csv_field(out, export_columns[i], i == NEXPORT - 1);
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX && rc == STORE_OK; y++)
		if (year == 0 || y == year) {
			rc = records_scan(t, y, export_cb, out);
			if (rc == STORE_NOTFOUND)
				rc = STORE_OK;
		}
	store_abort(&t);
	if (rc != STORE_OK) {
		evbuffer_drain(out, evbuffer_get_length(out));
		api_send_store_error(req, rc);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/csv; charset=utf-8");
	if (year != 0)
		snprintf(disp, sizeof(disp),
		    "attachment; filename=\"assessments-%s-%d.csv\"", h->c->id,
		    year);
	else
		snprintf(disp, sizeof(disp),
		    "attachment; filename=\"assessments-%s.csv\"", h->c->id);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Disposition", disp);
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* /v1/assessments: POST submits, GET exports (format=csv). */
void
api_assess_post(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		assess_export(h, req);
	else
		api_batch_post(h, req, who, &assess_kind);
}

/* /v1/assessments/{year}/{person_id}: GET or DELETE. */
void
api_assess_one(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	const char *slash = strchr(rest, '/');
	char ybuf[8], *pid;
	size_t plen;
	int year, rc;

	if (slash == NULL || (size_t)(slash - rest) >= sizeof(ybuf)) {
		api_send_error(req, 404, "not_found", NULL,
		    "use /v1/assessments/{year}/{person_id}");
		return;
	}
	memcpy(ybuf, rest, (size_t)(slash - rest));
	ybuf[slash - rest] = '\0';
	if (api_parse_year(ybuf, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	pid = evhttp_uridecode(slash + 1, 0, &plen);
	if (pid == NULL || valid_person_id(pid, plen) != 0 ||
	    memchr(pid, 0, plen) != NULL) {
		free(pid);
		api_send_error(req, 400, "invalid_field", "person_id",
		    "person_id must be 1..64 bytes without control characters");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);
		struct assessment a;

		rc = t ? records_get(t, year, pid, plen, &a) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, views_assessment(&a));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no assessment for %d/%s", year, pid);
		else
			api_send_store_error(req, rc);
	} else {
		struct records_actor act = api_actor(h, who);
		struct store_txn *t = committer_txn(h->cm);
		char decided[VALID_DECISION_MAX + 1] = "";
		char what[3 * RULES_PID_MAX + 16], q[3 * RULES_PID_MAX + 4];

		valid_quote(q, sizeof(q), pid, plen);
		snprintf(what, sizeof(what), "person %s", q);
		rc = t ? records_withdraw(t, &act, year, pid, plen, decided)
		       : STORE_EIO;
		if (rc == STORE_OK)
			api_reply_after_commit(h, req, 200,
			    json_pack("{s:b, s:i, s:s%}", "deleted", 1, "year",
			        year, "person_id", pid, plen));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no assessment for %d/%s", year, q);
		else
			api_send_write_error(req, rc, year, what, decided);
	}
	free(pid);
}
