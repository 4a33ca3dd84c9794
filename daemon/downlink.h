/*
 * downlink.h: the children's side of the links (a ZeroMQ ROUTER, CURVE
 * server) and its ZAP handler: only keys listed in the children file get
 * in, and the key, never the message, names the child.  See downlink.c and
 * proto/PROTOCOL.md.
 */
#ifndef CDHT_DOWNLINK_H
#define CDHT_DOWNLINK_H

#include <stdint.h>

#include <event2/event.h>

#include "commit.h"
#include "conf.h"
#include "store.h"
#include "zlink.h"

struct downlink;

/*
 * Bind the ZAP handler (inproc://zeromq.zap.01, so one downlink per zctx)
 * and then the ROUTER on conf->downlink_listen with the key pair kp (read
 * by preflight_check from [downlink] secret_key; the caller may clear it
 * on return).  c, st and cm are borrowed and must outlive the downlink.
 * Returns the caller-owned downlink (free with downlink_free), or NULL
 * (logged) when c has no downlink or set-up failed.
 */
struct downlink *downlink_new(struct event_base *base, void *zctx,
    const struct conf *c, const struct zlink_keypair *kp, struct store *st,
    struct committer *cm);

/* Close the sockets, cancel timers, free *d and set it to NULL;
 * NULL-tolerant.  Deferred committer callbacks stay safe to run after. */
void downlink_free(struct downlink **d);

/*
 * Per direct child: connected = a message from it within the heartbeat
 * timeout; last_seen = unix time of its last message or 0.  Unknown ids and
 * a NULL d give 0 and 0.
 */
void downlink_child_state(const struct downlink *d, const char *child_id,
    int *connected, int64_t *last_seen);

/*
 * The children of d's conf changed (a reload): old[0..nold) is the list
 * the downlink's state was indexed by.  Children still listed keep their
 * session and link state; removed ones lose them (their messages are then
 * dropped: ZAP no longer admits their key).  0, or -1 when out of memory
 * (nothing changed).
 */
int downlink_reload(
    struct downlink *d, const struct conf_child *old, size_t nold);

#endif
