/*
 * service.h: telling the service manager how the node is (the sd_notify
 * protocol, spoken directly: a datagram to $NOTIFY_SOCKET): READY=1 once
 * serving, WATCHDOG=1 from the event loop every half $WATCHDOG_USEC, a
 * STATUS= line a person can read in `systemctl status`, STOPPING=1.
 * Without $NOTIFY_SOCKET (a terminal, a test) all of it is a no-op.
 */
#ifndef CDHT_SERVICE_H
#define CDHT_SERVICE_H

#include <event2/event.h>

#include "conf.h"
#include "downlink.h"
#include "store.h"
#include "uplink.h"

struct service;

/*
 * A service reporter for this node; down and up may be NULL.  Returns the
 * caller-owned reporter (free with service_free), or NULL when out of
 * memory.  The watchdog and status timer start with service_ready.
 */
struct service *service_new(struct event_base *base, const struct conf *c,
    struct store *st, const struct downlink *down, const struct uplink *up);

/* READY=1 with the first STATUS=, and start the timer. */
void service_ready(struct service *s);

/* Send a status line now (after a reload, say). */
void service_status(struct service *s, const char *extra);

/* STOPPING=1. */
void service_stopping(struct service *s);

void service_free(struct service **s);

/*
 * Send one notification (the lines of msg) to $NOTIFY_SOCKET; 0 when sent,
 * 1 when there is no socket to send to, -1 on error.
 */
int service_notify(const char *msg);

#endif
