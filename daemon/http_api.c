/*
 * http_api.c: routes, handlers and replies.  Every handler sends exactly
 * one reply: writes are answered from their committer callback, after the
 * LMDB commit, so a 2xx always means durable.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "csv.h"
#include "http_api.h"
#include "input.h"
#include "log.h"
#include "records.h"

#define MAX_BATCH 100000

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

static json_t *uplink_obj(struct http_api *h);

/* A reply waiting for the commit of its writes. */
struct pending {
	struct http_api *h;
	struct evhttp_request *req;
	int code;
	json_t *body;
};

static void
send_json(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *s = body
	              ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10))
	              : NULL;
	const char *reason = code == 200   ? "OK"
	                     : code == 507 ? "Insufficient Storage"
	                                   : NULL;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	if (buf != NULL && s != NULL) {
		evbuffer_add(buf, s, strlen(s));
		evbuffer_add(buf, "\n", 1);
	}
	evhttp_send_reply(req, s ? code : 500, reason, buf);
	free(s);
	if (buf != NULL)
		evbuffer_free(buf);
	json_decref(body);
}

static json_t *
error_obj(const char *code, const char *message, const char *field)
{
	return json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code,
	    "message", message, "field",
	    field && *field ? json_string(field) : json_null());
}

static void send_error(struct evhttp_request *req, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
send_error(struct evhttp_request *req, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_json(req, status, error_obj(code, msg, field));
}

static void
send_store_error(struct evhttp_request *req, int rc)
{
	if (rc == STORE_FULL)
		send_error(req, 507, "storage_full", NULL,
		    "the node's storage map is full; nothing of this request "
		    "was stored (raise map_size_mb)");
	else
		send_error(req, 500, "internal", NULL, "storage error: %s",
		    store_strerror(rc));
}

static void
pending_cb(void *arg, int status)
{
	struct pending *p = arg;

	if (status == STORE_OK)
		send_json(p->req, p->code, p->body);
	else {
		json_decref(p->body);
		send_store_error(p->req, status);
	}
	free(p);
}

/* Reply with (code, body) once the current write transaction commits. */
static void
reply_after_commit(
    struct http_api *h, struct evhttp_request *req, int code, json_t *body)
{
	struct pending *p = malloc(sizeof(*p));

	if (p == NULL) {
		json_decref(body);
		send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	*p = (struct pending){h, req, code, body};
	if (committer_defer(h->cm, pending_cb, p) != 0) {
		free(p);
		json_decref(body);
		send_error(req, 500, "internal", NULL, "out of memory");
	}
	h->writes++;
}

static struct records_actor
actor(struct http_api *h, const char *who)
{
	return (struct records_actor){h->c->id, who, (int64_t)time(NULL)};
}

static int
query_flag(struct evhttp_request *req, const char *key, const char **val)
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

static int
parse_year(const char *s, int *year)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno || v < RULES_YEAR_MIN || v > RULES_YEAR_MAX)
		return -1;
	*year = (int)v;
	return 0;
}

/* The request body as a NUL-terminated view; NULL (replied) if too big. */
static const char *
body_of(struct http_api *h, struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);

	if (n > h->c->max_body_kb * 1024) {
		send_error(req, 413, "too_large", NULL,
		    "request body of %zu bytes exceeds max_body_kb = %llu", n,
		    (unsigned long long)h->c->max_body_kb);
		return NULL;
	}
	evbuffer_add(in, "", 1); /* NUL terminator, not counted */
	*len = n;
	return (const char *)evbuffer_pullup(in, -1);
}

static json_t *
item_error(const char *key, json_int_t pos, const struct input_err *e)
{
	return json_pack("{s:I, s:s, s:s, s:o}", key, pos, "code", e->code,
	    "message", e->message, "field",
	    e->field[0] ? json_string(e->field) : json_null());
}

/* Score a and, unless dry_run, store it in the turn's transaction. */
static int
submit_one(
    struct http_api *h, struct assessment *a, const char *who, int dry_run)
{
	struct records_actor act = actor(h, who);
	struct store_txn *t;
	int replaced, rc;

	if (dry_run) {
		if ((t = store_begin(h->st, 0)) == NULL)
			return STORE_EIO;
		rules_score(a);
		a->outstanding = records_outstanding(t, a);
		rc = store_txn_err(t);
		store_abort(&t);
		return rc;
	}
	if ((t = committer_txn(h->cm)) == NULL)
		return STORE_EIO;
	return records_put(t, &act, a, &replaced);
}

/* A batch (JSON array or CSV) accumulates results and errors here. */
struct batch {
	json_t *results, *errors;
	const char *poskey; /* "index" or "line" */
	int accepted, rejected;
	int failed; /* a store error: the whole turn is lost */
};

static void
batch_item(struct http_api *h, struct batch *b, const json_t *obj,
    json_int_t pos, const char *who, int dry_run)
{
	struct assessment a;
	struct input_err e;
	json_t *r;
	int si;

	if (input_assessment(obj, h->c->level, &a, &e) != 0) {
		/* a CSV row names its score columns s1..s10 */
		if (strcmp(b->poskey, "line") == 0 &&
		    sscanf(e.field, "scores[%d]", &si) == 1) {
			snprintf(e.field, sizeof(e.field), "s%d", si + 1);
			snprintf(e.message, sizeof(e.message),
			    "s%d must be an integer 1..10", si + 1);
		}
		json_array_append_new(
		    b->errors, item_error(b->poskey, pos, &e));
		b->rejected++;
		return;
	}
	if ((b->failed = submit_one(h, &a, who, dry_run)) != STORE_OK)
		return;
	r = views_result(&a);
	json_object_set_new(r, b->poskey, json_integer(pos));
	json_array_append_new(b->results, r);
	b->accepted++;
}

static void
batch_reply(struct http_api *h, struct evhttp_request *req, struct batch *b,
    int dry_run)
{
	json_t *o;

	if (b->failed) {
		json_decref(b->results);
		json_decref(b->errors);
		send_store_error(req, b->failed);
		return;
	}
	o = json_pack("{s:i, s:i, s:b, s:o, s:o}", "accepted", b->accepted,
	    "rejected", b->rejected, "dry_run", dry_run, "results", b->results,
	    "errors", b->errors);
	if (dry_run || b->accepted == 0)
		send_json(req, 200, o);
	else
		reply_after_commit(h, req, 200, o);
}

static void
post_csv(struct http_api *h, struct evhttp_request *req, const char *body,
    size_t len, const char *who, int dry_run)
{
	struct batch b = {json_array(), json_array(), "line", 0, 0, 0};
	struct csv r;
	char *cells[CSV_MAX_CELLS], **hdr = NULL;
	size_t n, nh = 0;
	int line, rc, items = 0;
	struct input_err e;

	csv_init(&r, body, len);
	rc = csv_next(&r, cells, &n, &line);
	if (rc <= 0) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		send_error(req, 400, "bad_request", NULL, "line 1: %s",
		    rc == 0 ? "empty CSV: a header row is required"
		            : "malformed CSV header");
		return;
	}
	if (input_csv_header(cells, n, &e) != 0) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		send_error(req, 400, e.code, e.field, "line 1: %s", e.message);
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
	if (hdr == NULL) {
		csv_free(&r);
		json_decref(b.results);
		json_decref(b.errors);
		send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	while (hdr != NULL && !b.failed &&
	       (rc = csv_next(&r, cells, &n, &line)) != 0) {
		json_t *obj;

		if (++items > MAX_BATCH) {
			input_fail(&e, "too_large", NULL,
			    "more than %d rows in one request", MAX_BATCH);
			json_array_append_new(
			    b.errors, item_error("line", line, &e));
			b.rejected++;
			break;
		}
		if (rc < 0) {
			input_fail(&e, "bad_request", NULL,
			    "malformed CSV (unterminated quote or too many "
			    "columns)");
			json_array_append_new(
			    b.errors, item_error("line", line, &e));
			b.rejected++;
			break;
		}
		if (n != nh) {
			input_fail(&e, "bad_request", NULL,
			    "%zu columns where the header has %zu", n, nh);
			json_array_append_new(
			    b.errors, item_error("line", line, &e));
			b.rejected++;
			continue;
		}
		if ((obj = input_csv_row(hdr, cells, n, &e)) == NULL) {
			json_array_append_new(
			    b.errors, item_error("line", line, &e));
			b.rejected++;
			continue;
		}
		batch_item(h, &b, obj, line, who, dry_run);
		json_decref(obj);
	}
	for (size_t i = 0; hdr != NULL && i < nh; i++)
		free(hdr[i]);
	free(hdr);
	csv_free(&r);
	batch_reply(h, req, &b, dry_run);
}

static void
post_assessments(
    struct http_api *h, struct evhttp_request *req, const char *who)
{
	const char *ctype = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	const char *dry, *body;
	size_t len;
	int dry_run;
	json_t *doc;
	json_error_t jerr;

	if (query_flag(req, "dry_run", &dry) != 0) {
		send_error(req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	dry_run = dry != NULL && strcmp(dry, "0") != 0 && strcmp(dry, "false");
	if ((body = body_of(h, req, &len)) == NULL)
		return;
	if (ctype != NULL && strncasecmp(ctype, "text/csv", 8) == 0) {
		post_csv(h, req, body, len, who, dry_run);
		return;
	}
	if (ctype != NULL && strncasecmp(ctype, "application/json", 16) != 0) {
		send_error(req, 415, "unsupported_media_type", NULL,
		    "Content-Type must be application/json or text/csv");
		return;
	}
	doc = json_loadb(
	    body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc == NULL) {
		send_error(req, 400, "bad_json", NULL, "line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return;
	}
	if (!json_is_object(doc) && !json_is_array(doc)) {
		json_decref(doc);
		send_error(req, 400, "bad_request", NULL,
		    "the body must be a JSON object or an array of them");
		return;
	}
	if (json_is_array(doc)) {
		struct batch b = {json_array(), json_array(), "index", 0, 0, 0};
		size_t i;
		json_t *item;

		if (json_array_size(doc) > MAX_BATCH) {
			json_decref(doc);
			json_decref(b.results);
			json_decref(b.errors);
			send_error(req, 413, "too_large", NULL,
			    "more than %d items in one request", MAX_BATCH);
			return;
		}
		json_array_foreach(doc, i, item)
		{
			batch_item(h, &b, item, (json_int_t)i, who, dry_run);
			if (b.failed)
				break;
		}
		json_decref(doc);
		batch_reply(h, req, &b, dry_run);
		return;
	}
	{
		struct assessment a;
		struct input_err e;
		int rc;

		if (input_assessment(doc, h->c->level, &a, &e) != 0) {
			json_decref(doc);
			send_error(req, 400, e.code, e.field, "%s", e.message);
			return;
		}
		json_decref(doc);
		if ((rc = submit_one(h, &a, who, dry_run)) != STORE_OK) {
			send_store_error(req, rc);
			return;
		}
		if (dry_run)
			send_json(req, 200, views_result(&a));
		else
			reply_after_commit(h, req, 200, views_result(&a));
	}
}

/* /v1/assessments/{year}/{person_id}: GET or DELETE. */
static void
one_assessment(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	const char *slash = strchr(rest, '/');
	char ybuf[8], *pid;
	size_t plen;
	int year, rc;

	if (slash == NULL || (size_t)(slash - rest) >= sizeof(ybuf)) {
		send_error(req, 404, "not_found", NULL,
		    "use /v1/assessments/{year}/{person_id}");
		return;
	}
	memcpy(ybuf, rest, (size_t)(slash - rest));
	ybuf[slash - rest] = '\0';
	if (parse_year(ybuf, &year) != 0) {
		send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	pid = evhttp_uridecode(slash + 1, 0, &plen);
	if (pid == NULL || !input_valid_pid(pid, plen) ||
	    memchr(pid, 0, plen) != NULL) {
		free(pid);
		send_error(req, 400, "invalid_field", "person_id",
		    "person_id must be 1..64 bytes without control characters");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);
		struct assessment a;

		rc = t ? records_get(t, year, pid, plen, &a) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			send_json(req, 200, views_assessment(&a));
		else if (rc == STORE_NOTFOUND)
			send_error(req, 404, "not_found", NULL,
			    "no assessment for %d/%s", year, pid);
		else
			send_store_error(req, rc);
	} else {
		struct records_actor act = actor(h, who);
		struct store_txn *t = committer_txn(h->cm);

		rc = t ? records_withdraw(t, &act, year, pid, plen) : STORE_EIO;
		if (rc == STORE_OK)
			reply_after_commit(h, req, 200,
			    json_pack("{s:b, s:i, s:s%}", "deleted", 1, "year",
			        year, "person_id", pid, plen));
		else if (rc == STORE_NOTFOUND)
			send_error(req, 404, "not_found", NULL,
			    "no assessment for %d/%s", year, pid);
		else
			send_store_error(req, rc);
	}
	free(pid);
}

static json_t *
population_obj(int year, const int64_t den[RECORDS_NPOP])
{
	json_t *o = json_object();

	json_object_set_new(o, "year", json_integer(year));
	for (int i = 0; i < RECORDS_NPOP; i++)
		json_object_set_new(
		    o, input_population_fields[i], json_integer(den[i]));
	return o;
}

static void
population(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	int64_t den[RECORDS_NPOP];
	int year, rc;

	if (parse_year(rest, &year) != 0) {
		send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);

		rc = t ? records_get_population(t, year, den) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			send_json(req, 200, population_obj(year, den));
		else if (rc == STORE_NOTFOUND)
			send_error(req, 404, "not_found", NULL,
			    "no population recorded for %d", year);
		else
			send_store_error(req, rc);
	} else {
		struct records_actor act = actor(h, who);
		struct store_txn *t;
		struct input_err e;
		json_error_t jerr;
		size_t len;
		const char *body = body_of(h, req, &len);
		json_t *doc;

		if (body == NULL)
			return;
		if ((doc = json_loadb(
		         body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			send_error(req, 400, "bad_json", NULL,
			    "line %d, column %d: %s", jerr.line, jerr.column,
			    jerr.text);
			return;
		}
		rc = input_population(doc, den, &e);
		json_decref(doc);
		if (rc != 0) {
			send_error(req, 400, e.code, e.field, "%s", e.message);
			return;
		}
		t = committer_txn(h->cm);
		rc = t ? records_put_population(t, &act, year, den) : STORE_EIO;
		if (rc == STORE_OK)
			reply_after_commit(
			    h, req, 200, population_obj(year, den));
		else
			send_store_error(req, rc);
	}
}

static int
current_year(void)
{
	time_t now = time(NULL);
	struct tm tm;
	int y;

	gmtime_r(&now, &tm);
	y = tm.tm_year + 1900;
	return y < RULES_YEAR_MIN   ? RULES_YEAR_MIN
	       : y > RULES_YEAR_MAX ? RULES_YEAR_MAX
	                            : y;
}

static void
progress(struct http_api *h, struct evhttp_request *req)
{
	const char *ys, *ds;
	int year = current_year(), depth = -1;
	struct store_txn *t;
	json_t *o;

	if (query_flag(req, "year", &ys) != 0) {
		send_error(req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	if (ys != NULL && parse_year(ys, &year) != 0) {
		send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	query_flag(req, "depth", &ds);
	if (ds != NULL) {
		char *end;
		long d = strtol(ds, &end, 10);
		if (*ds == '\0' || *end != '\0' || d < 0 || d > WIRE_MAX_PATH) {
			send_error(req, 400, "invalid_field", "depth",
			    "depth must be 0..%d", WIRE_MAX_PATH);
			return;
		}
		depth = (int)d;
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		send_store_error(req, STORE_EIO);
		return;
	}
	o = views_progress(t, h->c, year, depth, (int64_t)time(NULL));
	store_abort(&t);
	if (o == NULL)
		send_store_error(req, STORE_EIO);
	else
		send_json(req, 200, o);
}

static void
nodes(struct http_api *h, struct evhttp_request *req)
{
	struct store_txn *t = store_begin(h->st, 0);
	json_t *o = t ? views_nodes(t, h->c, h->link, h->link_arg) : NULL;

	store_abort(&t);
	if (o != NULL)
		json_object_set_new(o, "uplink", uplink_obj(h));
	if (o == NULL)
		send_store_error(req, STORE_EIO);
	else
		send_json(req, 200, o);
}

/* The link to the parent, or null at the root. */
static json_t *
uplink_obj(struct http_api *h)
{
	char parent[WIRE_MAX_ID + 1] = "", when[32];
	int connected = 0;
	int64_t last_ack = 0;
	json_t *o;

	if (h->up == NULL)
		return json_null();
	uplink_state(h->up, &connected, &last_ack, parent);
	views_iso_time(last_ack, when, sizeof(when));
	o = json_pack("{s:s, s:o, s:b, s:o}", "endpoint", h->c->parent,
	    "parent", parent[0] ? json_string(parent) : json_null(),
	    "connected", connected, "last_ack",
	    last_ack > 0 ? json_string(when) : json_null());
	uplink_health(h->up, o); /* state, detail, zap_status, ... */
	return o;
}

static int
audit_row_cb(void *arg, const struct audit_entry *e)
{
	char when[32];

	views_iso_time(e->time, when, sizeof(when));
	json_array_append_new(
	    arg, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id,
	             "time", when, "who", e->who, "action", e->action, "detail",
	             e->detail));
	return 0;
}

/* GET /v1/audit?limit=N (admin): the newest N audit records. */
static void
audit(struct http_api *h, struct evhttp_request *req)
{
	const char *ls;
	long limit = 100;
	struct store_txn *t;
	json_t *rows;
	int rc;

	if (query_flag(req, "limit", &ls) != 0) {
		send_error(req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	if (ls != NULL) {
		char *end;
		limit = strtol(ls, &end, 10);
		if (*ls == '\0' || *end != '\0' || limit < 1 || limit > 10000) {
			send_error(req, 400, "invalid_field", "limit",
			    "limit must be 1..10000");
			return;
		}
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		send_store_error(req, STORE_EIO);
		return;
	}
	rows = json_array();
	rc = records_audit_tail(t, (size_t)limit, audit_row_cb, rows);
	store_abort(&t);
	if (rc != STORE_OK) {
		json_decref(rows);
		send_store_error(req, rc);
		return;
	}
	send_json(req, 200, json_pack("{s:o}", "audit", rows));
}

static void
metrics(struct http_api *h, struct evhttp_request *req)
{
	struct evbuffer *buf = evbuffer_new();
	uint64_t used, size;

	store_usage(h->st, &used, &size);
	evbuffer_add_printf(buf,
	    "# TYPE cdht_http_requests_total counter\n"
	    "cdht_http_requests_total %llu\n"
	    "# TYPE cdht_http_writes_total counter\n"
	    "cdht_http_writes_total %llu\n"
	    "# TYPE cdht_store_used_bytes gauge\n"
	    "cdht_store_used_bytes %llu\n"
	    "# TYPE cdht_store_map_bytes gauge\n"
	    "cdht_store_map_bytes %llu\n"
	    "# TYPE cdht_uptime_seconds gauge\n"
	    "cdht_uptime_seconds %lld\n",
	    (unsigned long long)h->requests, (unsigned long long)h->writes,
	    (unsigned long long)used, (unsigned long long)size,
	    (long long)(time(NULL) - h->started));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/* Route table: path (exact, or prefix when it ends in '/'), methods, role. */
enum route_id {
	R_HEALTH,
	R_METRICS,
	R_ASSESS,
	R_ASSESS_ONE,
	R_POP,
	R_PROGRESS,
	R_NODES,
	R_AUDIT
};
static const struct route {
	const char *path;
	int methods;
	int read_role, write_role; /* for GET, for other methods */
	enum route_id id;
} routes[] = {
    {"/healthz", EVHTTP_REQ_GET, ROLE_NONE, ROLE_NONE, R_HEALTH},
    {"/metrics", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_VIEWER, R_METRICS},
    {"/v1/assessments", EVHTTP_REQ_POST, ROLE_CLERK, ROLE_CLERK, R_ASSESS},
    {"/v1/assessments/", EVHTTP_REQ_GET | EVHTTP_REQ_DELETE, ROLE_CLERK,
        ROLE_CLERK, R_ASSESS_ONE},
    {"/v1/population/", EVHTTP_REQ_GET | EVHTTP_REQ_PUT, ROLE_CLERK, ROLE_CLERK,
        R_POP},
    {"/v1/progress", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_VIEWER, R_PROGRESS},
    {"/v1/nodes", EVHTTP_REQ_GET, ROLE_VIEWER, ROLE_VIEWER, R_NODES},
    {"/v1/audit", EVHTTP_REQ_GET, ROLE_ADMIN, ROLE_ADMIN, R_AUDIT},
};

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
	if (path == NULL)
		path = "/";
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);
		if (routes[i].path[n - 1] == '/'
		        ? strncmp(path, routes[i].path, n) == 0
		        : strcmp(path, routes[i].path) == 0) {
			r = &routes[i];
			break;
		}
	}
	if (r == NULL) {
		send_error(req, 404, "not_found", NULL,
		    "no such resource: %.100s", path);
		return;
	}
	if (!(r->methods & method)) {
		send_error(req, 405, "method_not_allowed", NULL,
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
			send_error(req, 401, "unauthorized", NULL,
			    "a valid bearer token is required");
			return;
		}
		if (role < need) {
			send_error(req, 403, "forbidden", NULL,
			    "this token's role may not do this");
			return;
		}
	}
	switch (r->id) {
	case R_HEALTH:
		send_json(req, 200,
		    json_pack("{s:s, s:o, s:o}", "status", uplink_status(h->up),
		        "node",
		        json_pack("{s:s, s:s, s:s}", "id", h->c->id, "level",
		            rules_level_names[h->c->level], "name", h->c->name),
		        "uplink", uplink_obj(h)));
		break;
	case R_METRICS:
		metrics(h, req);
		break;
	case R_ASSESS:
		post_assessments(h, req, label);
		break;
	case R_ASSESS_ONE:
		one_assessment(h, req, path + strlen(r->path), label);
		break;
	case R_POP:
		population(h, req, path + strlen(r->path), label);
		break;
	case R_PROGRESS:
		progress(h, req);
		break;
	case R_AUDIT:
		audit(h, req);
		break;
	case R_NODES:
		nodes(h, req);
		break;
	}
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
