/*
 * http_api.c: the HTTP server: the route table (path, methods, role,
 * handler), the bearer-token check, replies (JSON, errors, replies sent
 * after the group commit), request helpers the handlers share, and the
 * listener.  The handlers live in api_assess.c, api_population.c and
 * api_views.c (see api.h).  Every handler sends exactly one reply: writes
 * are answered from their committer callback, after the LMDB commit, so a
 * 2xx always means durable.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* major, minor: no getter in 2.1 */
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "api.h"
#include "http_api.h"
#include "input.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "valid.h"

/* A reply waiting for the outcome of the turn's transaction: body, or
 * text (len bytes) when body is NULL. */
struct pending {
	struct evhttp_request *req;
	int code;
	json_t *body;
	char *text;
	size_t len;
};

/* What a reply whose body cannot be built answers instead: never empty. */
static const char internal_body[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"error body could "
    "not be built\",\"field\":null}}\n";

/* Content-Length of the body in out, whatever the request's version:
 * libevent 2.1 sends none to an HTTP/1.0 client (the reply then ends
 * where the connection does, and one cut short would look whole). */
static void
set_length(struct evhttp_request *req, struct evbuffer *out)
{
	char n[32];
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	snprintf(n, sizeof(n), "%zu", evbuffer_get_length(out));
	evhttp_remove_header(h, "Content-Length");
	evhttp_add_header(h, "Content-Length", n);
}

void
api_send_json(struct evhttp_request *req, int code, json_t *body)
{
	/* req's own buffer: no allocation that could fail before the reply */
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	char *s = body
	              ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10))
	              : NULL;
	const char *reason = code == 200   ? "OK"
	                     : code == 507 ? "Insufficient Storage"
	                                   : NULL;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	if (s == NULL || evbuffer_add(out, s, strlen(s)) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0) {
		log_warnx("http: reply %d: body could not be built", code);
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(out, internal_body, sizeof(internal_body) - 1);
		code = 500;
		reason = NULL;
	}
	set_length(req, out);
	evhttp_send_reply(req, code, reason, NULL);
	free(s);
	json_decref(body);
}

/* The connection's bufferevent, writing in pieces of up to 4 MiB, not
 * libevent's default 16 KiB (one loop turn and syscall each); NULL if
 * none. */
/* req's connection's bufferevent (evhttp's), NULL if it has none. */
static struct bufferevent *
req_bev(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	return evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
}

/* What bev's output holds, written to its socket as far as it takes it;
 * what it does not take the loop writes later (an error there is the
 * loop's too).  A bufferevent's output is frozen at its start but while
 * its own write callback runs: this is one such write. */
static void
write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
}

static struct bufferevent *
big_writes(struct evhttp_request *req)
{
	struct bufferevent *bev = req_bev(req);

	if (bev != NULL)
		bufferevent_set_max_single_write(bev, (size_t)4 << 20);
	return bev;
}

static void
free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	jsonw_text_free((char *)data);
}

void
api_send_json_text(struct evhttp_request *req, int code, char *text, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	const char *reason = code == 200   ? "OK"
	                     : code == 507 ? "Insufficient Storage"
	                                   : NULL;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	if (len > 65536)
		(void)big_writes(req);
	/* the text itself goes out: no copy of a large document */
	if (text == NULL ||
	    evbuffer_add_reference(out, text, len, free_text, NULL) != 0) {
		jsonw_text_free(text);
		log_warnx("http: reply %d: body could not be built", code);
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(out, internal_body, sizeof(internal_body) - 1);
		code = 500;
		reason = NULL;
	} else if (evbuffer_add(out, "\n", 1) != 0) {
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(out, internal_body, sizeof(internal_body) - 1);
		code = 500;
		reason = NULL;
	}
	set_length(req, out);
	evhttp_send_reply(req, code, reason, NULL);
}

/* One piece of s: text by reference, released with jsonw_text_free once
 * sent (owned) or a copy of a literal; now: written to the socket at
 * once as far as it takes it (else the loop writes it, as any reply). */
static int
stream_chunk(struct api_stream *s, char *text, size_t len, int owned, int now)
{
	struct evbuffer *b;
	struct bufferevent *bev;
	int rc;

	if (!s->started) {
		evhttp_add_header(evhttp_request_get_output_headers(s->req),
		    "Content-Type", "application/json; charset=utf-8");
		evhttp_send_reply_start(s->req, 200, "OK");
		s->started = 1;
	}
	if ((b = evbuffer_new()) == NULL) {
		if (owned)
			jsonw_text_free(text);
		return -1;
	}
	rc = owned ? evbuffer_add_reference(b, text, len, free_text, NULL)
	           : evbuffer_add(b, text, len);
	if (rc != 0 && owned)
		jsonw_text_free(text);
	if (rc == 0)
		evhttp_send_reply_chunk(s->req, b); /* moves it: no copy */
	evbuffer_free(b); /* what it still holds (no body wanted) is freed */
	/* out now, while the next piece is written */
	if (rc == 0 && (bev = big_writes(s->req)) != NULL && now)
		write_now(bev);
	return rc;
}

int
api_stream_ok(struct evhttp_request *req)
{
	return req->major > 1 || (req->major == 1 && req->minor >= 1);
}

int
api_stream_piece(void *arg, char *text, size_t len)
{
	return stream_chunk(arg, text, len, 1, 1);
}

void
api_stream_end(struct api_stream *s, char *text, size_t len)
{
	/* the end goes through the loop, so that the reply is done (and the
	 * connection maybe closed) in its write callback, as any reply */
	if (text == NULL || stream_chunk(s, text, len, 1, 0) != 0 ||
	    stream_chunk(s, "\n", 1, 0, 0) != 0) {
		api_stream_abort(s);
		return;
	}
	evhttp_send_reply_end(s->req);
}

void
api_stream_abort(struct api_stream *s)
{
	struct bufferevent *bev;

	if (!s->started) {
		api_send_json_text(s->req, 500, NULL, 0);
		return;
	}
	log_warnx("http: a streamed reply failed after its first piece: "
	          "connection closed");
	/* the loop sees the socket fail and frees the connection */
	if ((bev = req_bev(s->req)) != NULL)
		shutdown(bufferevent_getfd(bev), SHUT_RDWR);
}

static json_t *
error_obj(const char *code, const char *message, const char *field)
{
	return json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code,
	    "message", message, "field",
	    field && *field ? json_string(field) : json_null());
}

void
api_send_error(struct evhttp_request *req, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	char raw[1024], msg[512], fq[128];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		raw[0] = '\0';
	va_end(ap);
	/* valid text whatever the message quotes, cut on a character */
	valid_quote(msg, sizeof(msg), raw, strlen(raw));
	if (field != NULL)
		valid_quote(fq, sizeof(fq), field, strlen(field));
	api_send_json(req, status, error_obj(code, msg, field ? fq : NULL));
}

void
api_send_bad_json(struct evhttp_request *req, const json_error_t *jerr)
{
	char msg[512];

	api_send_error(req, 400, "bad_json", NULL, "%s",
	    input_bad_json_message(msg, sizeof(msg), jerr));
}

void
api_send_store_error(struct evhttp_request *req, int rc)
{
	if (rc == STORE_FULL)
		api_send_error(req, 507, "storage_full", NULL,
		    "the node's storage map is full; nothing of this request "
		    "was stored (raise map_size_mb)");
	else
		api_send_error(req, 500, "internal", NULL, "storage error: %s",
		    store_strerror(rc));
}

const char *
api_refusal_message(char *buf, size_t cap, int rc, int year, const char *what,
    const char *decided)
{
	char q[3 * VALID_DECISION_MAX + 4];

	if (rc == RECORDS_FILED)
		snprintf(buf, cap,
		    "%d is filed at this node: its data is frozen (an admin "
		    "may reopen it: DELETE /v1/filings/%d)",
		    year, year);
	else if (rc == RECORDS_IMPORTED)
		snprintf(buf, cap,
		    "%d holds imported results at this node (GET "
		    "/v1/history/%d): it takes no records, titles or "
		    "population; an admin may remove them first (DELETE "
		    "/v1/history/%d)",
		    year, year, year);
	else {
		valid_quote(q, sizeof(q), decided ? decided : "",
		    decided ? strlen(decided) : 0);
		snprintf(buf, cap,
		    "%s was recognised in %d by decision %s: revoke that "
		    "decision first",
		    what, year, q);
	}
	return rc == RECORDS_FILED      ? "year_filed"
	       : rc == RECORDS_IMPORTED ? "history_imported"
	                                : "decided";
}

void
api_send_write_error(struct evhttp_request *req, int rc, int year,
    const char *what, const char *decided)
{
	char msg[400];
	const char *code;

	if (rc != RECORDS_FILED && rc != RECORDS_DECIDED &&
	    rc != RECORDS_IMPORTED) {
		api_send_store_error(req, rc);
		return;
	}
	code = api_refusal_message(msg, sizeof(msg), rc, year, what, decided);
	api_send_error(
	    req, 409, code, rc != RECORDS_DECIDED ? "year" : NULL, "%s", msg);
}

/*
 * The reply just sent on bev, written to the socket now rather than when
 * the loop next finds it writable, and, if the socket took all of it, the
 * reply finished (evhttp's write callback: the request freed, the next one
 * read, or the connection closed) before the loop polls again, so that its
 * read and write interest are set back once, not changed twice.  Only
 * outside evhttp's own callbacks (a commit's deferred reply): within them
 * the request may be freed under evhttp's feet.  What the socket does not
 * take, or a write error, the loop handles, as for any reply.
 */
static void
finish_now(struct bufferevent *bev)
{
	write_now(bev);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0);
}

static void
pending_cb(void *arg, int status)
{
	struct pending *p = arg;
	struct bufferevent *bev = req_bev(p->req);

	if (status == STORE_OK && p->body == NULL)
		api_send_json_text(p->req, p->code, p->text, p->len);
	else if (status == STORE_OK)
		api_send_json(p->req, p->code, p->body);
	else {
		json_decref(p->body);
		jsonw_text_free(p->text);
		api_send_store_error(p->req, status);
	}
	free(p);
	if (bev != NULL) /* p->req may be gone: bev is the connection's */
		finish_now(bev);
}

/* evhttp's event callback, the same for every connection it serves:
 * what waiting_event_cb hands on. */
static bufferevent_event_cb evhttp_event_cb;

/* A connection's events while its request waits for its commit: the peer
 * done sending, or no bytes for a while, are for evhttp to meet when it
 * writes the reply (as it would without keep_reading: reading stops);
 * an error goes to evhttp at once (it drops the connection and detaches
 * the request, whose reply is then freed unsent). */
static void
waiting_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if ((what & BEV_EVENT_READING) &&
	    (what & (BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)))
		return; /* bufferevent stopped reading already */
	evhttp_event_cb(bev, what, arg);
}

/*
 * While req's reply waits for the commit, its connection goes on reading,
 * with no read callback: evhttp stopped reading when the request ended, in
 * this turn, and the two changes make one epoll_ctl; evhttp's enabling of
 * reading again when the reply is finished (finish_now) then changes
 * nothing, so a deferred reply costs one epoll_ctl, not two.  Bytes that
 * come meanwhile (a pipelined request) wait in the input buffer for evhttp
 * to read after the reply, as they would.
 */
static void
keep_reading(struct evhttp_request *req)
{
	struct bufferevent *bev = req_bev(req);
	bufferevent_data_cb wcb;
	bufferevent_event_cb ecb;
	void *arg;

	if (bev == NULL)
		return;
	bufferevent_getcb(bev, NULL, &wcb, &ecb, &arg);
	if (ecb == NULL ||
	    (ecb != waiting_event_cb && evhttp_event_cb != NULL &&
	        ecb != evhttp_event_cb))
		return; /* not evhttp's as first seen: left as it is */
	if (ecb != waiting_event_cb)
		evhttp_event_cb = ecb;
	bufferevent_setcb(bev, NULL, wcb, waiting_event_cb, arg);
	bufferevent_enable(bev, EV_READ);
}

/* Defer reply v until the turn's transaction commits or fails; v's body or
 * text is freed on every path. */
static void
defer(struct http_api *h, struct pending v)
{
	struct pending *p = malloc(sizeof(*p));

	if (p != NULL) {
		*p = v;
		if (committer_defer(h->cm, pending_cb, p) == 0) {
			keep_reading(v.req);
			return;
		}
		free(p);
	}
	json_decref(v.body);
	jsonw_text_free(v.text);
	api_send_error(v.req, 500, "internal", NULL, "out of memory");
}

static void
defer_reply(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body)
{
	defer(h, (struct pending){req, code, body, NULL, 0});
}

static void
defer_text(struct http_api *h, struct evhttp_request *req, int code, char *text,
    size_t len)
{
	defer(h, (struct pending){req, code, NULL, text, len});
}

void
api_reply_after_commit(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body)
{
	defer_reply(h, req, code, body);
	h->writes++;
}

void
api_reply_after_turn(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body)
{
	defer_reply(h, req, code, body);
}

void
api_reply_text_after_commit(struct http_api *h, struct evhttp_request *req,
    int code, char *text, size_t len)
{
	defer_text(h, req, code, text, len);
	h->writes++;
}

void
api_reply_text_after_turn(struct http_api *h, struct evhttp_request *req,
    int code, char *text, size_t len)
{
	defer_text(h, req, code, text, len);
}

void
http_api_set_auth(struct http_api *h, const struct auth *a)
{
	h->auth = a;
}

struct records_actor
api_actor(struct http_api *h, const char *who)
{
	return (struct records_actor){
	    h->c->id, who, (int64_t)time(NULL), h->c->recognition};
}

int
api_query_flag(struct evhttp_request *req, const char *key, const char **val)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = evhttp_uri_get_query(uri);
	struct evkeyvalq kv;
	static char buf[64];
	const char *v;

	*val = NULL;
	if (q == NULL)
		return 0;
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) != 0)
		return -1;
	v = evhttp_find_header(&kv, key);
	if (v != NULL) {
		snprintf(buf, sizeof(buf), "%s", v);
		*val = buf;
	}
	evhttp_clear_headers(&kv);
	return 0;
}

int
api_parse_year_from(const char *s, int min, int *year)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno || v < min || v > RULES_YEAR_MAX)
		return -1;
	*year = (int)v;
	return 0;
}

int
api_parse_year(const char *s, int *year)
{
	return api_parse_year_from(s, RULES_YEAR_MIN, year);
}

const char *
api_body_of(struct http_api *h, struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);

	if (n > h->c->max_body_kb * 1024) {
		api_send_error(req, 413, "too_large", NULL,
		    "request body of %zu bytes exceeds max_body_kb = %llu", n,
		    (unsigned long long)h->c->max_body_kb);
		return NULL;
	}
	evbuffer_add(in, "", 1); /* NUL terminator, not counted */
	*len = n;
	return (const char *)evbuffer_pullup(in, -1);
}

/*
 * The route table: path (exact, or a prefix when it ends in '/' after its
 * first character: "/" itself is exact), the methods it answers, the role
 * GET needs and the role its other methods need, and its handler.
 */
static const struct route {
	const char *path;
	int methods;
	int read_role, write_role;
	api_handler handler;
} routes[] = {
    {"/", EVHTTP_REQ_GET, ROLE_NONE, ROLE_NONE, api_dashboard},
    {"/healthz", EVHTTP_REQ_GET, ROLE_NONE, ROLE_NONE, api_healthz},
    {"/metrics", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_NONE, api_metrics},
    {"/v1/assessments", EVHTTP_REQ_GET | EVHTTP_REQ_POST, ROLE_CLERK,
        ROLE_CLERK, api_assess_post},
    {"/v1/assessments/", EVHTTP_REQ_GET | EVHTTP_REQ_DELETE, ROLE_INSPECTOR,
        ROLE_CLERK, api_assess_one},
    {"/v1/population/", EVHTTP_REQ_GET | EVHTTP_REQ_PUT, ROLE_INSPECTOR,
        ROLE_CLERK, api_population},
    {"/v1/progress", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_NONE, api_progress},
    {"/v1/report", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_NONE, api_report},
    {"/v1/nodes", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_NONE, api_nodes},
    {"/v1/audit", EVHTTP_REQ_GET, ROLE_ADMIN, ROLE_NONE, api_audit},
    {"/v1/decisions", EVHTTP_REQ_GET | EVHTTP_REQ_POST, ROLE_INSPECTOR,
        ROLE_CLERK, api_decisions},
    {"/v1/decisions/", EVHTTP_REQ_GET | EVHTTP_REQ_DELETE, ROLE_INSPECTOR,
        ROLE_ADMIN, api_decision_one},
    {"/v1/titles", EVHTTP_REQ_POST, ROLE_NONE, ROLE_CLERK, api_titles_post},
    {"/v1/titles/", EVHTTP_REQ_GET | EVHTTP_REQ_DELETE, ROLE_INSPECTOR,
        ROLE_CLERK, api_title_one},
    {"/v1/filings/", EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE,
        ROLE_VIEWER, ROLE_ADMIN, api_filings},
    {"/v1/lists/", EVHTTP_REQ_GET, ROLE_INSPECTOR, ROLE_NONE, api_lists},
    {"/v1/history/", EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE,
        ROLE_VIEWER, ROLE_ADMIN, api_history},
    {"/v1/history", EVHTTP_REQ_POST, ROLE_NONE, ROLE_ADMIN, api_history},
};

/*
 * How many Content-Length headers req has.  RFC 9112 section 6.3: a message
 * with differing ones cannot be framed, and a proxy in front of us may have
 * framed it by another one than libevent (which uses the first): request
 * smuggling.  Identical duplicates are refused too: simplest, and safe, as
 * no client needs to send them.
 */
static int
content_length_count(struct evhttp_request *req)
{
	struct evkeyvalq *hs = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	int n = 0;

	TAILQ_FOREACH(kv, hs, next)
	{
		if (strcasecmp(kv->key, "Content-Length") == 0)
			n++;
	}
	return n;
}

/* A reply went out: counted by route (the arg: a route's path, or NULL)
 * and status.  Replies sent later, from a commit callback, count then. */
static void
reply_done_cb(struct evhttp_request *req, void *route)
{
	metrics_http_reply(route, evhttp_request_get_response_code(req));
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct http_api *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri), *label = NULL;
	int method = evhttp_request_get_command(req), role, need;
	const struct route *r = NULL;
	size_t i;

	h->requests++;
	evhttp_request_set_on_complete_cb(req, reply_done_cb, NULL);
	if (content_length_count(req) > 1) {
		/* libevent read the body by the first: the rest is untrusted */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		api_send_error(req, 400, "bad_request", NULL,
		    "more than one Content-Length header");
		return;
	}
	if (path == NULL)
		path = "/";
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);
		if (n > 1 && routes[i].path[n - 1] == '/'
		        ? strncmp(path, routes[i].path, n) == 0
		        : strcmp(path, routes[i].path) == 0) {
			r = &routes[i];
			break;
		}
	}
	if (r == NULL) {
		char q[101];

		valid_quote(q, sizeof(q), path, strlen(path));
		api_send_error(
		    req, 404, "not_found", NULL, "no such resource: %s", q);
		return;
	}
	evhttp_request_set_on_complete_cb(req, reply_done_cb, (void *)r->path);
	if (!(r->methods & method)) {
		api_send_error(req, 405, "method_not_allowed", NULL,
		    "method not allowed on %s", r->path);
		return;
	}
	need = method == EVHTTP_REQ_GET ? r->read_role : r->write_role;
	if (need != ROLE_NONE) {
		role = auth_check(h->auth,
		    evhttp_find_header(
		        evhttp_request_get_input_headers(req), "Authorization"),
		    &label);
		if (role == ROLE_NONE) {
			evhttp_add_header(
			    evhttp_request_get_output_headers(req),
			    "WWW-Authenticate", "Bearer realm=\"cdht\"");
			api_send_error(req, 401, "unauthorized", NULL,
			    "a valid bearer token is required");
			return;
		}
		if (role < need) {
			api_send_error(req, 403, "forbidden", NULL,
			    "this token's role may not do this");
			return;
		}
	}
	r->handler(h, req, path + strlen(r->path), label);
}

/*
 * The listener's error callback gets evhttp's argument, not ours; there is
 * one HTTP server per process, so it finds it here.
 */
static struct http_api *accept_owner;

/* Out of file descriptors: stop accepting for a second, keep serving. */
static void
accept_error_cb(struct evconnlistener *l, void *unused)
{
	struct http_api *h = accept_owner;
	struct timeval tv = {1, 0};
	int err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warnx("http: accept: %s; pausing new connections for 1 s",
		    evutil_socket_error_to_string(err));
		evconnlistener_disable(l);
		evtimer_add(h->resume, &tv);
	} else
		log_warnx(
		    "http: accept: %s", evutil_socket_error_to_string(err));
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_api *h = arg;

	evconnlistener_enable(h->listener);
}

struct http_api *
http_api_new(struct event_base *base, const struct conf *c, struct store *st,
    struct committer *cm, const struct auth *auth, views_link_fn link,
    void *link_arg, const struct uplink *up)
{
	struct http_api *h = calloc(1, sizeof(*h));
	char host[256];
	const char *colon = strrchr(c->http_listen, ':');
	char *end;
	long port;
	struct evhttp_bound_socket *bound;
	int one = 1;

	if (h == NULL)
		return NULL;
	*h = (struct http_api){.c = c,
	    .st = st,
	    .cm = cm,
	    .auth = auth,
	    .link = link,
	    .link_arg = link_arg,
	    .up = up,
	    .started = time(NULL)};
	if (colon == NULL || (size_t)(colon - c->http_listen) >= sizeof(host)) {
		log_warnx(
		    "http.listen \"%s\": expected host:port", c->http_listen);
		free(h);
		return NULL;
	}
	memcpy(host, c->http_listen, (size_t)(colon - c->http_listen));
	host[colon - c->http_listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		log_warnx("http.listen \"%s\": bad port", c->http_listen);
		free(h);
		return NULL;
	}
	if ((h->http = evhttp_new(base)) == NULL) {
		free(h);
		return NULL;
	}
	/* accept every method so the router answers 405 in JSON */
	evhttp_set_allowed_methods(h->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	        EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(h->http, c->request_timeout_s);
	evhttp_set_max_headers_size(h->http, 16 * 1024);
	/* above our own limit, so most oversize bodies get our JSON 413 */
	evhttp_set_max_body_size(
	    h->http, (ev_ssize_t)(c->max_body_kb * 1024 * 2 + 65536));
	evhttp_set_gencb(h->http, request_cb, h);
	if ((bound = evhttp_bind_socket_with_handle(
	         h->http, host, (unsigned short)port)) == NULL) {
		log_warn("http: cannot listen on %s", c->http_listen);
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	h->resume = evtimer_new(base, resume_cb, h);
	if (h->resume == NULL) {
		evhttp_free(h->http);
		free(h);
		return NULL;
	}
	accept_owner = h;
	evconnlistener_set_error_cb(h->listener, accept_error_cb);
	/* accepted sockets inherit it: no 40 ms delayed-ACK stalls */
	setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
	log_info("http: listening on %s", c->http_listen);
	return h;
}

void
http_api_free(struct http_api **h)
{
	if (h == NULL || *h == NULL)
		return;
	evhttp_free((*h)->http);
	event_free((*h)->resume);
	accept_owner = NULL;
	free(*h);
	*h = NULL;
}
