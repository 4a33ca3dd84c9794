/*
 * api_views.c: the read-only handlers: GET /v1/progress, /v1/nodes,
 * /v1/audit, /metrics and /healthz.  The documents themselves are built in
 * views.c; here are the query parameters, the read transaction and the
 * parts that are not in the store (the uplink's state, counters of this
 * process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "aggregate.h"
#include "api.h"
#include "cdht_version.h"
#include "history.h"
#include "jsonw.h"
#include "metrics.h"
#include "outbox.h"
#include "records.h"
#include "valid.h"
#include "wire.h"

/*
 * The writer's spare buffer (jsonw.c: the last large document's memory,
 * kept so that the next one needs no fresh pages) goes back to the system
 * once no large document was written for SPARE_IDLE_S seconds; a document
 * still being sent then is let go at the next turn.  One timer per process
 * (the daemon runs one event base), re-armed by every large document.
 */
#define SPARE_IDLE_S 1

static struct event *spare_timer;

static void
spare_idle(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {SPARE_IDLE_S, 0};

	(void)fd;
	(void)what;
	(void)arg;
	if (jsonw_spare_release() > 0)
		evtimer_add(spare_timer, &tv);
}

/* After a document of req was written (whether it is sent or not). */
static void
spare_arm(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct event_base *base =
	    evcon != NULL ? evhttp_connection_get_base(evcon) : NULL;
	struct timeval tv = {SPARE_IDLE_S, 0};

	if (!jsonw_spare_held())
		return;
	if (spare_timer == NULL && base != NULL)
		spare_timer = evtimer_new(base, spare_idle, NULL);
	if (spare_timer != NULL)
		evtimer_add(spare_timer, &tv);
}

/* This year in the node's time zone ([programme] timezone). */

static int
query_year_depth(struct http_api *h, struct evhttp_request *req, int min,
    int *year, int *depth)
{
	const char *ys, *ds;

	*year = conf_current_year(h->c, (int64_t)time(NULL));
	if (api_query_flag(req, "year", &ys) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return -1;
	}
	if (ys != NULL && api_parse_year_from(ys, min, year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d%s", min, RULES_YEAR_MAX,
		    min < RULES_YEAR_MIN ? " (the baseline year: imported "
		                           "results only)"
		                         : "");
		return -1;
	}
	api_query_flag(req, "depth", &ds);
	if (ds != NULL) {
		char *end;
		long d = strtol(ds, &end, 10);
		if (*ds == '\0' || *end != '\0' || d < 0 || d > WIRE_MAX_PATH) {
			api_send_error(req, 400, "invalid_field", "depth",
			    "depth must be 0..%d", WIRE_MAX_PATH);
			return -1;
		}
		*depth = (int)d;
	}
	return 0;
}

int
api_query_year_depth(
    struct http_api *h, struct evhttp_request *req, int *year, int *depth)
{
	return query_year_depth(h, req, RULES_YEAR_MIN, year, depth);
}

int
api_query_view_year_depth(
    struct http_api *h, struct evhttp_request *req, int *year, int *depth)
{
	return query_year_depth(h, req, HISTORY_YEAR_MIN, year, depth);
}

void
api_progress(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	const char *ns;
	char node[WIRE_MAX_ID + 1];
	int year, depth = -1, rc;
	struct store_txn *t;
	struct jsonw w;
	struct api_stream s = {req, 0};
	char *text;
	size_t len = 0;

	if (api_query_view_year_depth(h, req, &year, &depth) != 0)
		return;
	api_query_flag(req, "node", &ns);
	if (ns != NULL) {
		if (valid_id(ns, strlen(ns)) != 0) {
			api_send_error(req, 400, "invalid_field", "node",
			    "node must be a unit code of 1-%d characters "
			    "[0-9A-Za-z_-]",
			    WIRE_MAX_ID);
			return;
		}
		snprintf(node, sizeof(node), "%s", ns);
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		api_send_store_error(req, STORE_EIO);
		return;
	}
	/* the document as text, written straight from the store: a full
	 * drill-down is megabytes, no value tree is built for it, and it
	 * leaves in pieces (JSONW_PIECE: about 100 units) while the rest is
	 * written (the unit is looked up before the first piece: a 404 is
	 * still one) */
	jsonw_init(&w, 0);
	if (depth > 0 && api_stream_ok(req))
		jsonw_set_sink(&w, api_stream_piece, &s);
	rc = views_progress_write(&w, t, h->c, year, depth, ns ? node : NULL,
	    (int64_t)time(NULL), h->link, h->link_arg);
	store_abort(&t);
	spare_arm(req);
	if (rc == STORE_OK && (text = jsonw_take(&w, &len)) == NULL)
		rc = STORE_EIO; /* out of memory: 500, as any text not built */
	if (s.started) {
		if (rc == STORE_OK)
			api_stream_end(&s, text, len);
		else {
			jsonw_free(&w);
			api_stream_abort(&s);
		}
	} else if (rc == STORE_NOTFOUND) {
		jsonw_free(&w);
		api_send_error(req, 404, "not_found", "node",
		    "no unit %s in this node's subtree", node);
	} else if (rc != STORE_OK) {
		jsonw_free(&w);
		api_send_store_error(req, rc);
	} else
		api_send_json_text(req, 200, text, len);
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

void
api_nodes(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	struct store_txn *t = store_begin(h->st, 0);
	json_t *up = uplink_obj(h);
	struct jsonw w;
	char *text;
	size_t len = 0;
	int rc = STORE_EIO;

	jsonw_init(&w, 0);
	if (t != NULL)
		rc = views_nodes_write(
		    &w, t, h->c, h->link, h->link_arg, up ? up : json_null());
	store_abort(&t);
	json_decref(up);
	spare_arm(req);
	if (rc != STORE_OK) {
		jsonw_free(&w);
		api_send_store_error(req, STORE_EIO);
		return;
	}
	text = jsonw_take(&w, &len);
	api_send_json_text(req, 200, text, len);
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
void
api_audit(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	const char *ls;
	long limit = 100;
	struct store_txn *t;
	json_t *rows;
	int rc;

	if (api_query_flag(req, "limit", &ls) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return;
	}
	if (ls != NULL) {
		char *end;
		limit = strtol(ls, &end, 10);
		if (*ls == '\0' || *end != '\0' || limit < 1 || limit > 10000) {
			api_send_error(req, 400, "invalid_field", "limit",
			    "limit must be 1..10000");
			return;
		}
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		api_send_store_error(req, STORE_EIO);
		return;
	}
	rows = json_array();
	rc = records_audit_tail(t, (size_t)limit, audit_row_cb, rows);
	store_abort(&t);
	if (rc != STORE_OK) {
		json_decref(rows);
		api_send_store_error(req, rc);
		return;
	}
	api_send_json(req, 200, json_pack("{s:o}", "audit", rows));
}

/*
 * GET /metrics: Prometheus text format 0.0.4.  Here the series read from
 * this request's own view of the node (the store, the outbox, the links);
 * metrics.c writes what it counts.  Every family has HELP and TYPE, and
 * the names of earlier releases stay as they were (dashboards use them).
 */
void
api_metrics(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	struct evbuffer *buf = evbuffer_new();
	uint64_t used, size, ckpts;
	int64_t ckpt_ns;
	struct store_txn *t;
	size_t depth = 0;
	int outbox_ok = 0, connected;
	int64_t last, now = (int64_t)time(NULL);
	char parent[WIRE_MAX_ID + 1];

	if (buf == NULL) {
		api_send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	store_usage(h->st, &used, &size);
	if ((t = store_begin(h->st, 0)) != NULL) {
		outbox_ok = outbox_count(t, &depth) == STORE_OK;
		store_abort(&t);
	}
	evbuffer_add_printf(buf,
	    "# HELP cdht_http_requests_total HTTP requests received\n"
	    "# TYPE cdht_http_requests_total counter\n"
	    "cdht_http_requests_total %llu\n"
	    "# HELP cdht_http_writes_total HTTP writes accepted for the group "
	    "commit\n"
	    "# TYPE cdht_http_writes_total counter\n"
	    "cdht_http_writes_total %llu\n"
	    "# HELP cdht_store_used_bytes bytes of the LMDB map in use\n"
	    "# TYPE cdht_store_used_bytes gauge\n"
	    "cdht_store_used_bytes %llu\n"
	    "# HELP cdht_store_map_bytes size of the LMDB map (map_size_mb)\n"
	    "# TYPE cdht_store_map_bytes gauge\n"
	    "cdht_store_map_bytes %llu\n"
	    "# HELP cdht_uptime_seconds seconds since the HTTP server started\n"
	    "# TYPE cdht_uptime_seconds gauge\n"
	    "cdht_uptime_seconds %lld\n"
	    "# HELP cdht_claims_refused_total reports of a unit held via "
	    "another child\n"
	    "# TYPE cdht_claims_refused_total counter\n"
	    "cdht_claims_refused_total %llu\n"
	    "# HELP cdht_origins_over_cap_total reports of a new unit beyond "
	    "max_origins_per_child\n"
	    "# TYPE cdht_origins_over_cap_total counter\n"
	    "cdht_origins_over_cap_total %llu\n"
	    "# HELP cdht_build_info the version of this cdhtd\n"
	    "# TYPE cdht_build_info gauge\n"
	    "cdht_build_info{version=\"" CDHT_VERSION "\"} 1\n",
	    (unsigned long long)h->requests, (unsigned long long)h->writes,
	    (unsigned long long)used, (unsigned long long)size,
	    (long long)(now - h->started),
	    (unsigned long long)aggregate_claims_refused(),
	    (unsigned long long)aggregate_origins_over_cap());
	store_checkpoint_stats(h->st, &ckpts, &ckpt_ns);
	metrics_family(buf, "cdht_store_checkpoints_total", "counter",
	    "checkpoints (data.mdb synced, the journal started over)");
	evbuffer_add_printf(buf, "cdht_store_checkpoints_total %llu\n",
	    (unsigned long long)ckpts);
	metrics_family(buf, "cdht_store_checkpoint_seconds_total", "counter",
	    "time spent in checkpoints, which the event loop waits for");
	evbuffer_add_printf(buf,
	    "cdht_store_checkpoint_seconds_total %lld.%09lld\n",
	    (long long)(ckpt_ns / 1000000000),
	    (long long)(ckpt_ns % 1000000000));
	if (outbox_ok) {
		metrics_family(buf, "cdht_outbox_depth", "gauge",
		    "keys queued for the parent (0 at the root)");
		evbuffer_add_printf(buf, "cdht_outbox_depth %zu\n", depth);
	}
	if (h->up != NULL) {
		uplink_state(h->up, &connected, &last, parent);
		metrics_family(buf, "cdht_uplink_up", "gauge",
		    "1 while the parent has welcomed this node, else 0");
		evbuffer_add_printf(buf, "cdht_uplink_up %d\n", connected);
	}
	if (h->c->nchildren > 0 && h->link != NULL) {
		metrics_family(buf, "cdht_child_up", "gauge",
		    "1 while a direct child was heard from within the "
		    "heartbeat timeout, else 0");
		for (size_t i = 0; i < h->c->nchildren; i++) {
			h->link(h->link_arg, h->c->children[i].id, &connected,
			    &last);
			evbuffer_add_printf(buf,
			    "cdht_child_up{child=\"%s\"} %d\n",
			    h->c->children[i].id, connected);
		}
		metrics_family(buf, "cdht_child_last_contact_seconds", "gauge",
		    "seconds since a direct child's last message (absent "
		    "before the first)");
		for (size_t i = 0; i < h->c->nchildren; i++) {
			h->link(h->link_arg, h->c->children[i].id, &connected,
			    &last);
			if (last > 0)
				evbuffer_add_printf(buf,
				    "cdht_child_last_contact_seconds{child="
				    "\"%s\"} %lld\n",
				    h->c->children[i].id,
				    (long long)(now > last ? now - last : 0));
		}
	}
	metrics_write(buf);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

void
api_healthz(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	api_send_json(req, 200,
	    json_pack("{s:s, s:o, s:o}", "status", uplink_status(h->up), "node",
	        json_pack("{s:s, s:s, s:s}", "id", h->c->id, "level",
	            rules_level_names[h->c->level], "name", h->c->name),
	        "uplink", uplink_obj(h)));
}
