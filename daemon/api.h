/*
 * api.h: what the HTTP API's files share (internal to http_api.c and the
 * api_*.c handler files): the server's state, replies (JSON, errors,
 * replies deferred until the turn's commit), request helpers, and the
 * handlers the route table in http_api.c points at.
 *
 *   http_api.c        routing, bearer-token roles, replies, the listener
 *   api_assess.c      assessments: submit (object, array, CSV), get, withdraw
 *   api_population.c  a year's denominators
 *   api_views.c       read views: progress, nodes, audit, metrics, healthz
 *   api_ui.c          the dashboard page (GET /)
 *   api_report.c      the yearly report: HTML (A4), CSV (Excel), JSON
 *   api_decisions.c   recognition by decision: record, list, revoke
 *   api_titles.c      collective titles as records
 *   api_filings.c     the yearly filing: file, reopen, state
 *   api_lists.c       lists of names (danh sách): JSON, CSV, HTML (A4)
 *   api_history.c     imported results (results from before the system)
 */
#ifndef CDHT_API_H
#define CDHT_API_H

#include <stdint.h>

#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>

#include "auth.h"
#include "commit.h"
#include "conf.h"
#include "records.h"
#include "store.h"
#include "uplink.h"
#include "views.h"

struct http_api {
	struct evhttp *http;
	const struct conf *c;
	struct store *st;
	struct committer *cm;
	const struct auth *auth;
	views_link_fn link;
	void *link_arg;
	const struct uplink *up;
	int64_t started;
	uint64_t requests, writes;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables accepting after EMFILE */
};

/*
 * A route's handler.  rest: what follows a prefix route's path ("" for an
 * exact route); who: the token's label (static lifetime, owned by the auth
 * table), NULL on a route that needs no token.  Sends exactly one reply,
 * now or from a committer callback.
 */
typedef void (*api_handler)(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);

/* -- http_api.c: replies -------------------------------------------------- */

/*
 * Reply with code and body (a reference it steals).  The reply always has a
 * JSON body: when body is NULL or cannot be encoded, it is 500 with the
 * fixed error {"error": {"code": "internal", "message": "error body could
 * not be built", "field": null}}.
 */
void api_send_json(struct evhttp_request *req, int code, json_t *body);
/* The same reply with a body already written as JSON text: text (from
 * jsonw_take, len bytes, without the final newline) is the reply's from
 * now on and is released once sent; NULL answers 500 as a body that cannot
 * be built. */
void api_send_json_text(
    struct evhttp_request *req, int code, char *text, size_t len);

/*
 * A 200 reply of JSON text sent in pieces as it is written (chunked), so
 * that the client reads the first while the next are written: the node
 * holds the pieces the socket has not taken yet (by reference: no copy),
 * not the whole document.  api_stream_piece (a jsonw_sink_fn:
 * arg is the struct api_stream) sends the status line and
 * api_send_json_text's headers with its first piece, and writes each piece
 * to the socket at once, as far as it takes it; it takes text (no copy).
 * api_stream_end sends text (the rest, from jsonw_take; it may be the only
 * piece; NULL aborts) and the final newline, and takes text too.  A
 * failure once pieces went out cannot change the status any more:
 * api_stream_abort closes the connection, so the client sees a reply cut
 * short, never one that looks whole.  Before the first piece it answers as
 * api_send_json_text(req, 500, NULL, 0) does.
 */
struct api_stream {
	struct evhttp_request *req;
	int started;
};
/* Whether req may have a streamed reply: HTTP/1.1 or later (libevent 2.1
 * frames a streamed reply to HTTP/1.0 keep-alive by a length of 0).
 * Otherwise send the whole document (api_send_json_text). */
int api_stream_ok(struct evhttp_request *req);
int api_stream_piece(void *arg, char *text, size_t len);
void api_stream_end(struct api_stream *s, char *text, size_t len);
void api_stream_abort(struct api_stream *s);

/*
 * Reply {"error": {code, message, field}}; field NULL or "" is null.  The
 * message and field go through valid_quote (proto/valid.h), so they are
 * valid text whatever they quote; still quote client input with it at the
 * call, to choose where a long one is cut.
 */
void api_send_error(struct evhttp_request *req, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Reply 400 bad_json for a json_loadb failure, quoting jansson's text. */
void api_send_bad_json(struct evhttp_request *req, const json_error_t *jerr);

/* Reply for a store_err: 507 storage_full, else 500 internal. */
void api_send_store_error(struct evhttp_request *req, int rc);

/*
 * A write's refusal (enum records_refusal): its error code ("year_filed",
 * "decided") and message into buf, naming year, what was refused ("person
 * P1") and the decision number decided (RECORDS_DECIDED).
 */
const char *api_refusal_message(char *buf, size_t cap, int rc, int year,
    const char *what, const char *decided);

/* Reply 409 for a refusal, else as api_send_store_error. */
void api_send_write_error(struct evhttp_request *req, int rc, int year,
    const char *what, const char *decided);

/*
 * Reply with (code, body), stealing body, once the current turn's write
 * transaction has committed (or the store error if it failed); counted as a
 * write in /metrics.
 */
void api_reply_after_commit(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body);

/*
 * The same for a dry run: sent when the turn's outcome is known, so a dry
 * run never shows what a failed commit lost; not counted as a write.
 */
void api_reply_after_turn(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body);

/* The same two with the body as JSON text (stolen: freed with
 * jsonw_text_free; NULL answers 500), sent as api_send_json_text. */
void api_reply_text_after_commit(struct http_api *h, struct evhttp_request *req,
    int code, char *text, size_t len);
void api_reply_text_after_turn(struct http_api *h, struct evhttp_request *req,
    int code, char *text, size_t len);

/* -- http_api.c: requests ------------------------------------------------- */

/*
 * *val = the value of query parameter key, or NULL if absent.  *val points
 * into a static buffer, valid until the next call.  0, or -1 if the query
 * is malformed.
 */
int api_query_flag(
    struct evhttp_request *req, const char *key, const char **val);

/* Parse a programme year (RULES_YEAR_MIN..MAX); 0, or -1. */
int api_parse_year(const char *s, int *year);
/* Parse a year min..RULES_YEAR_MAX (HISTORY_YEAR_MIN: the baseline 2020,
 * for imported results and the views that show them); 0, or -1. */
int api_parse_year_from(const char *s, int min, int *year);

/*
 * The request body as a NUL-terminated view owned by req, its length
 * (without the NUL) in *len; NULL, already replied 413, if it is too big.
 */
const char *api_body_of(
    struct http_api *h, struct evhttp_request *req, size_t *len);

/* The audit actor of a write by token label who, now. */
struct records_actor api_actor(struct http_api *h, const char *who);

/* -- handlers ------------------------------------------------------------- */

/* api_assess.c: POST /v1/assessments[?dry_run=1] (object, array or CSV). */
void api_assess_post(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_assess.c: GET or DELETE /v1/assessments/{year}/{person_id}. */
void api_assess_one(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_population.c: GET or PUT /v1/population/{year}. */
void api_population(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_views.c: GET /v1/progress, /v1/nodes, /v1/audit, /metrics,
 * /healthz. */
void api_progress(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
void api_nodes(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who);
void api_audit(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who);
void api_metrics(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
void api_healthz(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_ui.c: GET /: the dashboard page (no token: it holds no data). */
void api_dashboard(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/*
 * The ?year= and ?depth= of a read view: *year defaults to the node's
 * current year (in its time zone), *depth keeps the caller's default.
 * Returns 0, or -1 after answering the error (400 naming the field).
 */
int api_query_year_depth(
    struct http_api *h, struct evhttp_request *req, int *year, int *depth);
/* The same for the views that show imported results (progress, report):
 * the baseline year HISTORY_YEAR_MIN (2020) is accepted too. */
int api_query_view_year_depth(
    struct http_api *h, struct evhttp_request *req, int *year, int *depth);
/* api_report.c: GET /v1/report?year=Y&format=html|csv|json[&depth=D]
 * [&lang=vi|en]. */
void api_report(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_decisions.c: POST /v1/decisions, GET /v1/decisions?year=Y. */
void api_decisions(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_decisions.c: GET or DELETE /v1/decisions/{year}/{number}. */
void api_decision_one(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_titles.c: POST /v1/titles (object, array or CSV). */
void api_titles_post(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_titles.c: GET or DELETE /v1/titles/{year}/{kind}/{id}. */
void api_title_one(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_titles.c: a title record as the API shows it (new reference). */
struct title;
json_t *api_title_json(const struct title *ti);
/* api_filings.c: GET, POST or DELETE /v1/filings/{year}. */
void api_filings(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);
/* api_lists.c: GET /v1/lists/{year}?status=&group=&kind=&format=&lang=. */
void api_lists(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who);
/* api_history.c: GET, PUT or DELETE /v1/history/{year} (imported
 * results). */
void api_history(struct http_api *h, struct evhttp_request *req,
    const char *rest, const char *who);

#endif
