/*
 * service.c: the sd_notify protocol (READY, WATCHDOG, STATUS, STOPPING)
 * spoken directly over $NOTIFY_SOCKET, and the timer in the event loop
 * that pings the watchdog and refreshes the status: a ping proves the loop
 * turns, not merely that the process exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "filing.h"
#include "log.h"
#include "outbox.h"
#include "records.h"
#include "service.h"

#define STATUS_EVERY_MS 5000

struct service {
	struct event_base *base;
	const struct conf *c;
	struct store *st;
	const struct downlink *down;
	const struct uplink *up;
	struct event *ev;
	int64_t watchdog_ms; /* ping every this many ms; 0: no watchdog */
	int64_t status_due;  /* monotonic ms of the next status line */
};

int
service_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n;
	socklen_t len;
	int fd, rc;

	if (path == NULL || path[0] == '\0')
		return 1;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                  (path[0] == '/' ? 1 : 0));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	rc = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	         len) < 0
	         ? -1
	         : 0;
	close(fd);
	return rc;
}

/* The watchdog interval systemd asked for (half of it), or 0. */
static int64_t
watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"),
	           *pid = getenv("WATCHDOG_PID");
	long long us;
	char *end;

	if (usec == NULL)
		return 0;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return 0; /* meant for another process */
	errno = 0;
	us = strtoll(usec, &end, 10);
	if (errno || *end != '\0' || us <= 0)
		return 0;
	return us / 2000 > 0 ? us / 2000 : 1;
}

/* "STATUS=75 children, 73 up; outbox 0; 2026 open" into buf. */
static void
status_line(struct service *s, char *buf, size_t cap, const char *extra)
{
	const struct conf *c = s->c;
	size_t off, queued = 0;
	struct store_txn *t = store_begin(s->st, 0);
	int year = conf_current_year(c, (int64_t)time(NULL)), filed = -1;
	size_t up = 0;

	if (t != NULL) {
		if (outbox_count(t, &queued) != STORE_OK)
			queued = (size_t)-1;
		filed = records_year_filed(t, year);
	}
	store_abort(&t);
	for (size_t i = 0; s->down != NULL && i < c->nchildren; i++) {
		int connected = 0;
		int64_t seen = 0;

		downlink_child_state(
		    s->down, c->children[i].id, &connected, &seen);
		up += connected != 0;
	}
	off = (size_t)snprintf(buf, cap, "STATUS=");
	if (c->downlink_listen[0] && off < cap)
		off += (size_t)snprintf(buf + off, cap - off,
		    "%zu children, %zu up; ", c->nchildren, up);
	if (c->parent[0] && off < cap)
		off += (size_t)snprintf(buf + off, cap - off,
		    "uplink %s; outbox %zu; ",
		    strcmp(uplink_status(s->up), "ok") == 0 ? "up" : "down",
		    queued);
	if (off < cap)
		off += (size_t)snprintf(buf + off, cap - off, "%d %s%s%s", year,
		    filed > 0    ? "filed"
		    : filed == 0 ? "open"
		                 : "unknown",
		    extra ? "; " : "", extra ? extra : "");
}

void
service_status(struct service *s, const char *extra)
{
	char line[512];

	status_line(s, line, sizeof(line), extra);
	service_notify(line);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *s = arg;
	int64_t now = log_now_ms();

	if (s->watchdog_ms > 0)
		service_notify("WATCHDOG=1");
	if (now >= s->status_due) {
		service_status(s, NULL);
		s->status_due = now + STATUS_EVERY_MS;
	}
}

struct service *
service_new(struct event_base *base, const struct conf *c, struct store *st,
    const struct downlink *down, const struct uplink *up)
{
	struct service *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->c = c;
	s->st = st;
	s->down = down;
	s->up = up;
	s->watchdog_ms = watchdog_ms();
	return s;
}

void
service_ready(struct service *s)
{
	int64_t every = s->watchdog_ms > 0 && s->watchdog_ms < STATUS_EVERY_MS
	                    ? s->watchdog_ms
	                    : STATUS_EVERY_MS;
	struct timeval tv = {
	    (time_t)(every / 1000), (suseconds_t)(every % 1000 * 1000)};
	char line[512] = "READY=1\n";

	status_line(s, line + 8, sizeof(line) - 8, NULL);
	if (service_notify(line) == 0 && s->watchdog_ms > 0)
		log_info("watchdog: pinging every %lld ms",
		    (long long)s->watchdog_ms);
	s->status_due = log_now_ms() + STATUS_EVERY_MS;
	if (getenv("NOTIFY_SOCKET") == NULL)
		return; /* nobody listens */
	s->ev = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	if (s->ev == NULL || event_add(s->ev, &tv) != 0)
		log_warnx("service: cannot start the watchdog timer");
}

void
service_stopping(struct service *s)
{
	service_notify("STOPPING=1");
}

void
service_free(struct service **sp)
{
	if (*sp == NULL)
		return;
	if ((*sp)->ev != NULL)
		event_free((*sp)->ev);
	free(*sp);
	*sp = NULL;
}
