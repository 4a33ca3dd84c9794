/*
 * uplink.h: the link to the parent (a ZeroMQ DEALER, CURVE client): HELLO /
 * WELCOME on every (re)connect, batched REPORTS from the outbox with one
 * batch in flight, ACKs recorded after they commit, PING when idle.
 * See uplink.c and proto/PROTOCOL.md.
 */
#ifndef CDHT_UPLINK_H
#define CDHT_UPLINK_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "commit.h"
#include "conf.h"
#include "store.h"
#include "wire.h"
#include "zlink.h"

struct uplink;

/*
 * Create the uplink of conf c (which must name a parent) on zctx and start
 * connecting with the key pair kp (read by preflight_check from [uplink]
 * secret_key; copied where needed, the caller may clear it on return).  c,
 * st and cm are borrowed and must outlive the uplink.  Returns the
 * caller-owned uplink (free with uplink_free), or NULL (logged) when c has
 * no parent or set-up failed.
 */
struct uplink *uplink_new(struct event_base *base, void *zctx,
    const struct conf *c, const struct zlink_keypair *kp, struct store *st,
    struct committer *cm);

/*
 * The outbox changed: flush within conf->flush_ms (coalesced: one timer).
 * NULL-tolerant, so it can be registered with committer_on_commit even when
 * there is no parent.
 */
void uplink_kick(struct uplink *u);

/* Close the socket, cancel timers, free *u and set it to NULL; NULL-tolerant.
 * Callbacks already deferred on the committer stay safe to run after. */
void uplink_free(struct uplink **u);

/*
 * Link state for GET /v1/nodes and /healthz: connected = WELCOME received
 * and no timeout since; last_ack unix time of the last committed ACK or 0;
 * parent_id the id the parent gave in its last WELCOME ("" before any).
 * All outputs are written (zero / "" when u is NULL).
 */
void uplink_state(const struct uplink *u, int *connected, int64_t *last_ack,
    char parent_id[WIRE_MAX_ID + 1]);

/*
 * The link's health, for /healthz and /v1/nodes: sets in obj (the caller's
 * JSON object; u borrowed) "state" (never_connected, connecting, refused,
 * handshake_failed, not_welcomed or welcomed), "detail" (the state in
 * words, with what to check), "since" (when the state began), "zap_status"
 * (the status code of the parent's last refusal, or null), "public_key"
 * (ours, for the parent's children file), "last_welcome", "last_ack_age_s"
 * and "in_flight" (reports and removals waiting for their ACK).  A NULL u
 * adds nothing.  Returns nothing.
 */
void uplink_health(const struct uplink *u, json_t *obj);

/* "ok" when there is no uplink (u NULL) or it is welcomed, "degraded"
 * otherwise: the /healthz status.  Returns a static string. */
const char *uplink_status(const struct uplink *u);

#endif
