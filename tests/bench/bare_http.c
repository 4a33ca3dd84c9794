/*
 * bare_http.c: the ceiling of the HTTP stack for tests/bench/bench.py.
 *
 * A libevent evhttp server, configured as cdhtd's (daemon/http_api.c), that
 * answers every request with a fixed 200 and a small JSON body, storing
 * nothing: what cdht's single submissions cost without scoring, storage or
 * commits.  It reads the request body (evhttp does) and checks the bearer
 * header is present, as cdhtd must.
 *
 * usage: bare_http PORT     (listens on 127.0.0.1:PORT until SIGTERM)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* The shape and size of cdhtd's reply to one POST /v1/assessments. */
static const char reply[] =
    "{\"year\":2026,\"person_id\":\"p1\",\"total\":85,\"eligible\":true,"
    "\"recognized\":true,\"outstanding\":false,\"decision\":null}";

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);

	(void)arg;
	if (evhttp_find_header(h, "Authorization") == NULL) {
		evhttp_send_error(req, 401, NULL);
		return;
	}
	evbuffer_drain(evhttp_request_get_input_buffer(req),
	    evbuffer_get_length(evhttp_request_get_input_buffer(req)));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(out, reply, sizeof reply - 1);
	evhttp_send_reply(req, 200, "OK", out);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct event *sig;
	int port;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: bare_http PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "bare_http: libevent set-up failed\n");
		return 1;
	}
	evhttp_set_allowed_methods(
	    http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
	evhttp_set_timeout(http, 30);
	evhttp_set_max_headers_size(http, 16 * 1024);
	evhttp_set_max_body_size(http, 8192 * 1024);
	evhttp_set_gencb(http, request_cb, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
		fprintf(stderr, "bare_http: cannot bind 127.0.0.1:%d\n", port);
		return 1;
	}
	sig = evsignal_new(base, SIGTERM, stop_cb, base);
	event_add(sig, NULL);
	event_base_dispatch(base);
	event_free(sig);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
