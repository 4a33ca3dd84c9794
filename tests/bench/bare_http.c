/*
 * bare_http.c: the ceiling of the HTTP stack for tests/bench/bench.py.
 *
 * A libevent evhttp server, configured as cdhtd's (daemon/http_api.c), that
 * answers every request with a fixed 200 and a small JSON body, storing
 * nothing: what cdht's single submissions cost without scoring, storage or
 * commits.  It reads the request body (evhttp does) and checks the bearer
 * header is present, as cdhtd must.
 *
 * With FLUSH_FILE it is the ceiling of a durable server instead: replies
 * wait for a group flush as cdhtd's do (daemon/commit.c): the first request
 * of a loop turn activates a low-priority event, which writes one 4 KiB
 * block to FLUSH_FILE (64 MiB, zero-filled first, written round-robin, as
 * daemon/journal.c writes its records) and fdatasyncs it, then replies to
 * every request of the turn, each written and finished at once, as
 * cdhtd's deferred replies are (daemon/http_api.c finish_now).  Nothing
 * is parsed, scored or stored: what is left between it and cdhtd is
 * cdht's own work.
 *
 * With PAGES as well, each flush first writes PAGES 4 KiB pages to
 * FLUSH_FILE.pages (not synced), each time at the next offset of a 32 MiB
 * area, and once a second fdatasyncs that file: the page traffic of one
 * LMDB commit under cdhtd's journal (its copy-on-write tree writes pages it
 * has not reused since the checkpoint; `strace` counts 9 to 11 per
 * single submission) and of its checkpoint.  The ceiling of a durable
 * server that commits each turn into LMDB.
 *
 * usage: bare_http PORT [FLUSH_FILE [PAGES]]   (127.0.0.1:PORT until SIGTERM)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <unistd.h>

#define FLUSH_BLOCK 4096
#define FLUSH_SIZE  (64u << 20)
#define PAGES_MAX   64
#define PAGES_AREA  (32ull << 20)

/* The shape and size of cdhtd's reply to one POST /v1/assessments. */
static const char reply[] =
    "{\"year\":2026,\"person_id\":\"p1\",\"total\":85,\"eligible\":true,"
    "\"recognized\":true,\"outstanding\":false,\"decision\":null}";

/* The durable mode's state: the requests of this turn, the flush event. */
static struct {
	int fd; /* -1: not durable */
	unsigned long long off;
	struct event *ev;
	struct evhttp_request **q;
	size_t nq, capq;
	int pfd;    /* FLUSH_FILE.pages, -1: none */
	int npages; /* pages written per flush */
	unsigned long long poff;
	time_t psynced; /* CLOCK_MONOTONIC seconds of the last sync */
} fl = {-1, 0, NULL, NULL, 0, 0, -1, 0, 0, 0};

/* The pages of one LMDB commit, and its checkpoint once a second. */
static void
write_pages(void)
{
	static unsigned char pages[PAGES_MAX][4096];
	struct iovec iov[PAGES_MAX];
	struct timespec now;

	for (int i = 0; i < fl.npages; i++) {
		pages[i][0]++;
		iov[i].iov_base = pages[i];
		iov[i].iov_len = sizeof pages[i];
	}
	if (pwritev(fl.pfd, iov, fl.npages, (off_t)fl.poff) !=
	    (ssize_t)(4096 * fl.npages)) {
		perror("bare_http: pages");
		exit(1);
	}
	fl.poff = (fl.poff + 4096ull * (unsigned)fl.npages) % PAGES_AREA;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - fl.psynced >= 1) {
		if (fdatasync(fl.pfd) != 0) {
			perror("bare_http: pages sync");
			exit(1);
		}
		fl.psynced = now.tv_sec;
	}
}

static void
send_reply(struct evhttp_request *req)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(out, reply, sizeof reply - 1);
	evhttp_send_reply(req, 200, "OK", out);
}

/* The reply just sent on bev written and finished at once, as cdhtd's
 * deferred replies are (daemon/http_api.c finish_now). */
static void
finish_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	static unsigned char block[FLUSH_BLOCK];
	size_t n = fl.nq;

	(void)fd, (void)what, (void)arg;
	block[0]++;
	if (fl.pfd >= 0)
		write_pages();
	if (pwrite(fl.fd, block, sizeof block, (off_t)fl.off) !=
	        (ssize_t)sizeof block ||
	    fdatasync(fl.fd) != 0) {
		perror("bare_http: flush");
		exit(1);
	}
	fl.off = (fl.off + FLUSH_BLOCK) % FLUSH_SIZE;
	fl.nq = 0;
	for (size_t i = 0; i < n; i++) {
		struct evhttp_connection *evcon =
		    evhttp_request_get_connection(fl.q[i]);
		struct bufferevent *bev =
		    evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

		send_reply(fl.q[i]);
		if (bev != NULL)
			finish_now(bev);
	}
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);

	(void)arg;
	if (evhttp_find_header(h, "Authorization") == NULL) {
		evhttp_send_error(req, 401, NULL);
		return;
	}
	evbuffer_drain(evhttp_request_get_input_buffer(req),
	    evbuffer_get_length(evhttp_request_get_input_buffer(req)));
	if (fl.fd < 0) {
		send_reply(req);
		return;
	}
	if (fl.nq == fl.capq) {
		size_t cap = fl.capq ? 2 * fl.capq : 64;
		void *q = realloc(fl.q, cap * sizeof(*fl.q));

		if (q == NULL) {
			evhttp_send_error(req, 503, NULL);
			return;
		}
		fl.q = q;
		fl.capq = cap;
	}
	if (fl.nq++ == 0)
		event_active(fl.ev, 0, 0);
	fl.q[fl.nq - 1] = req;
}

/* Open and zero-fill path as the flush file; 0 or -1 (said). */
static int
flush_open(const char *path)
{
	static unsigned char zero[1 << 20];

	if ((fl.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0) {
		perror(path);
		return -1;
	}
	for (unsigned i = 0; i < FLUSH_SIZE / sizeof zero; i++)
		if (pwrite(fl.fd, zero, sizeof zero, (off_t)i * sizeof zero) !=
		    (ssize_t)sizeof zero) {
			perror(path);
			return -1;
		}
	if (fsync(fl.fd) != 0) {
		perror(path);
		return -1;
	}
	return 0;
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
	struct event_config *cfg;
	struct evhttp *http;
	struct event *sig;
	int port;

	if (argc < 2 || argc > 4 || (port = atoi(argv[1])) <= 0 ||
	    port > 65535 ||
	    (argc == 4 &&
	        ((fl.npages = atoi(argv[3])) <= 0 || fl.npages > PAGES_MAX))) {
		fprintf(stderr,
		    "usage: bare_http PORT [FLUSH_FILE [PAGES]] "
		    "(PAGES 1..%d)\n",
		    PAGES_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* as cdhtd's base (daemon/main.c new_base): epoll's changelist */
	if ((cfg = event_config_new()) == NULL ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) !=
	        0 ||
	    (base = event_base_new_with_config(cfg)) == NULL ||
	    (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "bare_http: libevent set-up failed\n");
		return 1;
	}
	if (argc == 4) {
		char pp[4096];

		snprintf(pp, sizeof pp, "%s.pages", argv[2]);
		if ((fl.pfd = open(pp, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0) {
			perror(pp);
			return 1;
		}
	}
	if (argc >= 3) {
		/* cdhtd's priorities: HTTP at 1, the commit at 2 (main.c) */
		if (flush_open(argv[2]) != 0 ||
		    event_base_priority_init(base, 3) != 0 ||
		    (fl.ev = event_new(base, -1, 0, flush_cb, NULL)) == NULL ||
		    event_priority_set(fl.ev, 2) != 0) {
			fprintf(stderr, "bare_http: durable set-up failed\n");
			return 1;
		}
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
