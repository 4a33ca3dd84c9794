/*
 * uplink.c: the link to the parent.  Owns the DEALER socket (CURVE client)
 * and its monitor socket, the child side of the protocol (HELLO, REPORTS,
 * PING; proto/PROTOCOL.md) and the one REPORTS batch in flight.  What is
 * sent and what an ACK records live in the store, handled by aggregate.c.
 *
 * Link states: DOWN (no WELCOME: HELLO is retried) -> WELCOMING (the
 * WELCOME is being committed) -> UP.  A RESYNC, a disconnect, a new
 * handshake, an ACK timeout or silence takes the link back to DOWN.
 * Batch states: NONE -> SENT (waiting for its ACK) -> ACKING (the ACK is
 * being committed) -> NONE.  A batch is read from the outbox in a read
 * transaction, so it only ever holds committed data; it stays in the outbox
 * until outbox_acked() commits, so a lost batch is simply sent again.
 *
 * Timers:
 *   ev_flush  one-shot: uplink_kick() arms it for conf->flush_ms unless it
 *             is pending, so a burst of commits costs one batch per
 *             flush_ms (every commit kicks, the ACK's own included); a
 *             committed WELCOME, or the ACK of a full batch (a backlog),
 *             re-arms it for 0 (flush at once);
 *   ev_tick   every UL_TICK_MS, duties: send HELLO when DOWN and due; drop
 *             a batch whose ACK is overdue; PING when idle; declare the
 *             parent dead after UL_DEAD_MS of silence; a safety flush every
 *             UL_SAFETY_FLUSH_MS when idle (a lost kick costs a second);
 *             connect again when a failed handshake made libzmq give up.
 *
 * Timing is tighter than PROTOCOL.md's suggestions (PING after 10 s, dead
 * after 30 s) because every level must see a write within a second: PING
 * after 1 s idle, the parent is dead after 3.5 s of silence, an ACK is
 * overdue after 3 s (doubling up to 60 s while ACKs keep timing out),
 * libzmq heartbeats every 1 s with a 3 s timeout.  A dead link costs a new
 * HELLO on the same socket; libzmq's heartbeats close a half-open TCP
 * connection and reconnect, and every new connection (monitor event
 * HANDSHAKE_SUCCEEDED) starts with HELLO at once.
 *
 * Revisions (PROTOCOL.md 8.9): HELLO is built for the parent's wire
 * revision as last welcomed (outbox.c; 1 at first contact): for revision 1
 * without keys of year 2020 and with level "agency" sent as "commune".  A
 * WELCOME of revision >= 2 answering such a HELLO is recorded and answered
 * with a new, full HELLO at once.  After UL_HELLO_FALLBACK unanswered full
 * HELLOs on one connection (a parent downgraded to an older release drops
 * them as malformed) the next ones are of revision 1, until a WELCOME says
 * what the parent takes.
 *
 * Health (uplink_health, uplink_status, for /healthz): besides the link
 * state, what the socket monitor last said about the connection (enum
 * ul_conn): never connected yet, lost (connecting again), refused by the
 * parent's ZAP handler (with its status code), a failed CURVE handshake, or
 * connected; a handshake's outcome stays until the next one, so the
 * refusal is still shown while we wait to redial.  CONNECT_RETRIED marks
 * the parent unreachable until a TCP connection succeeds.  The link works
 * only when welcomed (UP).
 *
 * The socket options both links share, the edge-triggered ZMQ_FD pump
 * (ZLINK_PUMP_MAX messages, then it yields to the committer), sending and
 * the deferred callbacks' list are zlink.c's; ul_on_msg() takes each
 * message the pump receives.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "aggregate.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "rules.h"
#include "uplink.h"
#include "views.h"
#include "zlink.h"

#define UL_TICK_MS          100
#define UL_HELLO_RETRY_MS   1000 /* HELLO could not be sent (no link) */
#define UL_HELLO_FAST_MS    100  /* ... right after a handshake */
#define UL_HELLO_FAST_TRIES 10
/* HELLO sent, no WELCOME yet: wait, doubling up to the max (a slow parent
 * must not be flooded with HELLOs, each a full reconciliation) */
#define UL_WELCOME_WAIT_MS     2000
#define UL_WELCOME_WAIT_MAX_MS 30000
/* full HELLOs unanswered on one connection before one of revision 1 */
#define UL_HELLO_FALLBACK 2
/* a full HELLO after a WELCOME to one of revision 1: after the parent's
 * HELLO flood limit (1 s, PROTOCOL.md 8.2) */
#define UL_REHELLO_MS 1100
/* no ACK: drop the batch and HELLO again; doubles while ACKs keep
 * timing out (a parent with slow commits), back to 3 s after an ACK */
#define UL_ACK_TIMEOUT_MS     3000
#define UL_ACK_TIMEOUT_MAX_MS 60000
#define UL_PING_MS            1000
#define UL_DEAD_MS            3500 /* silence while idle: the parent is gone */
#define UL_SAFETY_FLUSH_MS    1000
#define UL_BATCH_MAX          2000 /* reports + removals per REPORTS */
#define UL_RECONNECT_MS       100
#define UL_RECONNECT_MAX_MS   2000
/* after a failed handshake libzmq 4.3.4 gives the endpoint up for good:
 * connect again after this, doubling up to the max */
#define UL_REDIAL_MS     5000
#define UL_REDIAL_MAX_MS 60000

enum ul_state { UL_DOWN, UL_WELCOMING, UL_UP };
/* What the socket monitor last said about the connection (for health):
 * a handshake outcome stays until the next one, whatever reconnects. */
enum ul_conn {
	UC_NEVER,     /* no handshake yet since the start */
	UC_LOST,      /* connected before, connecting again */
	UC_REFUSED,   /* the parent's ZAP handler refused our key */
	UC_HANDSHAKE, /* the CURVE handshake failed otherwise */
	UC_CONNECTED, /* handshake done (welcomed or not: ul_state) */
};
enum ul_batch { UL_NONE, UL_SENT, UL_ACKING };
enum ul_send_rc {
	UL_SEND_OK = 0,
	UL_SEND_AGAIN = -1,  /* no connection (ZMQ_IMMEDIATE) or queue full */
	UL_SEND_BAD = -2,    /* any other send failure */
	UL_SEND_ENCODE = -3, /* the message breaks a rule of PROTOCOL.md */
};

/* A callback deferred on the committer; link.owner (the uplink) is NULLed
 * if the uplink dies. */
struct ul_pending {
	struct zlink_pending link;
	int type; /* WIRE_WELCOME or WIRE_ACK */
	uint64_t gen;
	char parent_id[WIRE_MAX_ID + 1];
	uint32_t revision; /* WELCOME: the parent's wire revision */
};

struct uplink {
	struct event_base *base;
	const struct conf *c;
	struct store *st;
	struct committer *cm;
	struct zlink link; /* the DEALER */
	void *mon;
	char mon_ep[64];
	struct event *ev_mon;
	struct event *ev_flush;
	struct event *ev_tick;
	char public_key[41];

	enum ul_state state;
	uint64_t gen; /* bumped whenever the link goes DOWN */
	int64_t next_hello;
	int fast_hello;       /* HELLO tries left at UL_HELLO_FAST_MS */
	uint32_t hello_rev;   /* the revision the last HELLO was built for */
	int hello_unanswered; /* HELLOs sent since a WELCOME or handshake */
	int welcome_wait, ack_timeout; /* ms, see UL_WELCOME_WAIT_MS */
	int64_t redial_at;             /* 0: none due */
	int redial_wait;
	int64_t last_rx, last_tx, last_flush;

	enum ul_batch batch;
	struct wire_msg inflight;
	uint64_t seq;
	int64_t batch_sent;

	int connected;
	int64_t last_ack;
	char parent_id[WIRE_MAX_ID + 1];

	/* health (uplink_health), times in unix seconds, 0 = never */
	enum ul_conn conn;
	int64_t conn_since;
	int64_t down_since;  /* the link last left UP (or WELCOMING) */
	int unreachable;     /* a TCP connect failed since the last success */
	uint32_t zap_status; /* of the last refusal, 0 = none */
	int64_t last_welcome;

	struct zlink_pending *pending;
	struct log_ratelimit rl; /* 10 warnings a minute */
};

/* ---------------------------------------------------------------------- */
/* Sending. */

static void
ul_flush_soon(struct uplink *u, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_del(u->ev_flush);
	evtimer_add(u->ev_flush, &tv);
}

static const char *
ul_type_name(int type)
{
	static const char *const names[] = {"?", "HELLO", "WELCOME", "REPORTS",
	    "ACK", "PING", "PONG", "RESYNC"};

	return type >= 1 && type <= WIRE_RESYNC ? names[type] : "?";
}

/* Encode and send m without blocking; returns an ul_send_rc. */
static int
ul_send(struct uplink *u, const struct wire_msg *m)
{
	int rc = zlink_send(&u->link, NULL, 0, m);

	if (rc < 0) {
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: cannot encode %s: %s%s",
			    ul_type_name(m->type), wire_strerror(rc),
			    m->type == WIRE_HELLO
			        ? " (is [node] name valid UTF-8 without "
			          "control characters?)"
			        : "");
		return UL_SEND_ENCODE;
	}
	if (rc > 0) {
		if (rc == EAGAIN)
			return UL_SEND_AGAIN;
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: send %s: %s", ul_type_name(m->type),
			    zmq_strerror(rc));
		return UL_SEND_BAD;
	}
	u->last_tx = log_now_ms();
	return UL_SEND_OK;
}

static void
ul_drop_batch(struct uplink *u)
{
	if (u->batch == UL_SENT) {
		wire_msg_free(&u->inflight);
		memset(&u->inflight, 0, sizeof(u->inflight));
		u->batch = UL_NONE;
	}
	/* An ACKING batch belongs to its commit callback. */
}

/* The link is not usable until the next WELCOME. */
static void
ul_link_down(struct uplink *u, const char *why)
{
	if (u->state != UL_DOWN || u->connected)
		log_info("uplink: link to parent %s down: %s",
		    u->parent_id[0] ? u->parent_id : u->c->parent, why);
	if (u->state != UL_DOWN)
		u->down_since = (int64_t)time(NULL);
	u->state = UL_DOWN;
	u->connected = 0;
	u->gen++;
	ul_drop_batch(u);
	u->next_hello = log_now_ms();
}

static void
ul_send_hello(struct uplink *u)
{
	struct store_txn *t;
	struct wire_msg m;
	int64_t now = log_now_ms();
	int rc, lvl = u->c->level;
	uint32_t rev;

	memset(&m, 0, sizeof(m));
	if ((t = store_begin(u->st, 0)) == NULL) {
		u->next_hello = now + UL_HELLO_RETRY_MS;
		return;
	}
	rev = outbox_parent_revision(t);
	if (rev >= WIRE_REVISION_2020 &&
	    u->hello_unanswered >= UL_HELLO_FALLBACK) {
		if (u->hello_unanswered == UL_HELLO_FALLBACK)
			log_info("uplink: %d HELLOs unanswered: trying one of "
			         "wire revision 1 (is the parent of an older "
			         "release?)",
			    u->hello_unanswered);
		rev = 1;
	}
	rc = outbox_inventory_rev(t, u->c, rev, &m.keys, &m.nkeys);
	store_abort(&t);
	if (rc != 0) {
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: cannot read the inventory: %s",
			    store_strerror(rc));
		free(m.keys);
		u->next_hello = now + UL_HELLO_RETRY_MS;
		return;
	}
	m.type = WIRE_HELLO;
	snprintf(m.id, sizeof(m.id), "%s", u->c->id);
	snprintf(m.level, sizeof(m.level), "%s",
	    lvl >= 0 && lvl < VALID_NLEVELS
	        ? outbox_wire_level(rev, rules_level_names[lvl])
	        : "");
	snprintf(m.name, sizeof(m.name), "%s", u->c->name);
	rc = ul_send(u, &m);
	if (rc == UL_SEND_OK) {
		log_debug("uplink: HELLO sent (%zu inventory entries, wire "
		          "revision %u)",
		    m.nkeys, (unsigned)rev);
		u->hello_rev = rev;
		u->hello_unanswered++;
		u->next_hello = now + u->welcome_wait;
		u->welcome_wait = u->welcome_wait * 2 > UL_WELCOME_WAIT_MAX_MS
		                      ? UL_WELCOME_WAIT_MAX_MS
		                      : u->welcome_wait * 2;
		u->fast_hello = 0;
	} else if (rc == UL_SEND_AGAIN && u->fast_hello > 0) {
		u->fast_hello--;
		u->next_hello = now + UL_HELLO_FAST_MS;
	} else
		u->next_hello = now + UL_HELLO_RETRY_MS;
	wire_msg_free(&m);
}

/*
 * A batch that cannot be encoded holds an entry breaking PROTOCOL.md's
 * field rules (a bug elsewhere).  Rather than block the link forever on it,
 * find the culprits by encoding each entry alone, log them and leave them
 * out: they stay in the outbox (logged again, rate-limited, at every
 * flush) while everything else gets through.  Returns how many were left
 * out.
 */
static size_t
ul_drop_unencodable(struct uplink *u, struct wire_msg *m)
{
	struct wire_msg one;
	size_t i, k, bad = 0;
	char *buf;
	size_t len;

	memset(&one, 0, sizeof(one));
	one.type = WIRE_REPORTS;
	for (i = k = 0; i < m->nreports; i++) {
		one.reports = &m->reports[i];
		one.nreports = 1;
		if (wire_encode(&one, &buf, &len) == WIRE_OK) {
			free(buf);
			m->reports[k++] = m->reports[i];
			continue;
		}
		bad++;
		if (log_ratelimit_ok(&u->rl))
			log_warnx(
			    "uplink: report %s/%u v%" PRIu64
			    " breaks the protocol's field rules: not sent",
			    m->reports[i].origin, m->reports[i].year,
			    m->reports[i].version);
	}
	m->nreports = k;
	one.reports = NULL;
	one.nreports = 0;
	for (i = k = 0; i < m->nkeys; i++) {
		one.keys = &m->keys[i];
		one.nkeys = 1;
		if (wire_encode(&one, &buf, &len) == WIRE_OK) {
			free(buf);
			m->keys[k++] = m->keys[i];
			continue;
		}
		bad++;
		if (log_ratelimit_ok(&u->rl))
			log_warnx(
			    "uplink: removal of %s/%u v%" PRIu64
			    " breaks the protocol's field rules: not sent",
			    m->keys[i].origin, m->keys[i].year,
			    m->keys[i].version);
	}
	m->nkeys = k;
	return bad;
}

/* Send the next batch from the outbox, if the link is up and idle. */
static void
ul_flush(struct uplink *u)
{
	struct store_txn *t;
	struct wire_msg m;
	int rc;

	if (u->state != UL_UP || u->batch != UL_NONE)
		return;
	u->last_flush = log_now_ms();
	if ((t = store_begin(u->st, 0)) == NULL)
		return;
	memset(&m, 0, sizeof(m));
	rc = outbox_collect(t, u->c, UL_BATCH_MAX, &m);
	store_abort(&t);
	if (rc != 0) {
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: cannot read the outbox: %s",
			    store_strerror(rc));
		wire_msg_free(&m);
		return;
	}
	if (m.nreports == 0 && m.nkeys == 0) {
		wire_msg_free(&m);
		return;
	}
	m.type = WIRE_REPORTS;
	m.seq = ++u->seq;
	rc = ul_send(u, &m);
	if (rc == UL_SEND_ENCODE && ul_drop_unencodable(u, &m) > 0)
		rc = m.nreports + m.nkeys > 0 ? ul_send(u, &m) : UL_SEND_BAD;
	if (rc != UL_SEND_OK) {
		wire_msg_free(&m);
		if (rc == UL_SEND_AGAIN)
			ul_link_down(u, "parent unreachable");
		return;
	}
	log_debug("uplink: batch %" PRIu64 " sent: %zu reports, %zu removals",
	    m.seq, m.nreports, m.nkeys);
	metrics_uplink_sent(m.nreports, m.nkeys);
	u->inflight = m;
	u->batch = UL_SENT;
	u->batch_sent = u->last_tx;
}

/* ---------------------------------------------------------------------- */
/* Commit callbacks. */

static struct ul_pending *
ul_pending_new(struct uplink *u, int type)
{
	struct ul_pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	zlink_pending_add(&u->pending, &p->link, u);
	p->type = type;
	p->gen = u->gen;
	return p;
}

static void
ul_welcome_cb(void *arg, int status)
{
	struct ul_pending *p = arg;
	struct uplink *u = p->link.owner;

	zlink_pending_unlink(&p->link);
	if (u == NULL)
		goto out;
	if (status != STORE_OK) {
		log_warnx(
		    "uplink: WELCOME not recorded: %s", store_strerror(status));
		if (u->gen == p->gen && u->state == UL_WELCOMING) {
			u->state = UL_DOWN;
			u->next_hello = log_now_ms() + UL_HELLO_RETRY_MS;
		}
		goto out;
	}
	if (u->gen != p->gen)
		goto out; /* the link went down meanwhile: HELLO again */
	u->hello_unanswered = 0;
	if (u->state != UL_UP || strcmp(u->parent_id, p->parent_id) != 0)
		log_info("uplink: welcomed by parent %s (wire revision %u)",
		    p->parent_id, (unsigned)p->revision);
	snprintf(u->parent_id, sizeof(u->parent_id), "%s", p->parent_id);
	u->welcome_wait = UL_WELCOME_WAIT_MS;
	if (p->revision >= WIRE_REVISION_2020 &&
	    u->hello_rev < WIRE_REVISION_2020) {
		/* our HELLO left out what the parent takes (2020, agency):
		 * a full one, so that it learns the whole inventory; the
		 * revision is committed, so the HELLO is built for it.  Not
		 * at once: a parent may drop a HELLO within 1 s of the last
		 * (PROTOCOL.md 8.2) */
		log_info("uplink: parent %s speaks wire revision %u: a full "
		         "HELLO",
		    p->parent_id, (unsigned)p->revision);
		u->state = UL_DOWN;
		u->next_hello = log_now_ms() + UL_REHELLO_MS;
		goto out;
	}
	u->state = UL_UP;
	u->connected = 1;
	u->last_welcome = (int64_t)time(NULL);
	u->last_rx = log_now_ms();
	ul_flush_soon(u, 0);
out:
	free(p);
}

static void
ul_ack_cb(void *arg, int status)
{
	struct ul_pending *p = arg;
	struct uplink *u = p->link.owner;
	int full = 0;

	zlink_pending_unlink(&p->link);
	if (u == NULL)
		goto out;
	if (u->batch == UL_ACKING) {
		full = u->inflight.nreports + u->inflight.nkeys >= UL_BATCH_MAX;
		if (status == STORE_OK)
			metrics_uplink_acked(
			    u->inflight.nreports, u->inflight.nkeys);
		wire_msg_free(&u->inflight);
		memset(&u->inflight, 0, sizeof(u->inflight));
		u->batch = UL_NONE;
	}
	if (status != STORE_OK) {
		/* The outbox still holds the batch: the safety flush
		 * sends it again. */
		log_warnx(
		    "uplink: ACK not recorded: %s", store_strerror(status));
		goto out;
	}
	u->last_ack = (int64_t)time(NULL);
	/*
	 * A full batch means a backlog: send the next one at once.  Otherwise
	 * what changed meanwhile waits for the flush timer, which this
	 * commit's hook (committer_on_commit -> uplink_kick) arms: one batch
	 * per flush_ms however fast the parent answers.
	 */
	if (u->state == UL_UP && full)
		ul_flush_soon(u, 0);
out:
	free(p);
}

/* ---------------------------------------------------------------------- */
/* Receiving. */

static void
ul_on_welcome(struct uplink *u, const struct wire_msg *m)
{
	struct store_txn *t;
	struct ul_pending *p;

	if ((t = committer_txn(u->cm)) == NULL)
		return; /* logged; the HELLO retry brings another */
	outbox_welcome(t, u->c, m, (int64_t)time(NULL));
	if ((p = ul_pending_new(u, WIRE_WELCOME)) == NULL) {
		log_warnx("uplink: out of memory");
		return;
	}
	snprintf(p->parent_id, sizeof(p->parent_id), "%s", m->id);
	p->revision = m->revision;
	if (committer_defer(u->cm, ul_welcome_cb, p) != 0) {
		zlink_pending_unlink(&p->link);
		free(p);
		log_warnx("uplink: out of memory");
		return;
	}
	if (u->state == UL_DOWN)
		u->state = UL_WELCOMING;
}

static void
ul_on_ack(struct uplink *u, const struct wire_msg *m)
{
	struct store_txn *t;
	struct ul_pending *p;

	if (u->batch != UL_SENT || m->seq != u->seq) {
		log_debug("uplink: stale ACK %" PRIu64 " ignored", m->seq);
		return;
	}
	u->ack_timeout = UL_ACK_TIMEOUT_MS;
	metrics_uplink_refused(m->refused);
	if (m->refused > 0)
		log_warnx("uplink: parent %s refused %" PRIu32 " of the %zu "
		          "reports of batch %" PRIu64,
		    u->parent_id, m->refused, u->inflight.nreports, m->seq);
	if ((t = committer_txn(u->cm)) == NULL) {
		ul_drop_batch(u); /* still in the outbox */
		return;
	}
	outbox_acked(t, u->c, &u->inflight);
	if ((p = ul_pending_new(u, WIRE_ACK)) == NULL ||
	    committer_defer(u->cm, ul_ack_cb, p) != 0) {
		/* the acked state still commits with the turn */
		if (p != NULL) {
			zlink_pending_unlink(&p->link);
			free(p);
		}
		log_warnx("uplink: out of memory");
		ul_drop_batch(u);
		return;
	}
	u->batch = UL_ACKING;
}

static void
ul_handle(struct uplink *u, const void *buf, size_t len)
{
	struct wire_msg m;
	int rc;

	if ((rc = wire_decode(buf, len, &m)) != WIRE_OK) {
		metrics_dropped(METRICS_UPLINK, METRICS_DROP_MALFORMED);
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: dropped a %zu-byte message from the "
			          "parent: %s",
			    len, wire_strerror(rc));
		return;
	}
	u->last_rx = log_now_ms();
	switch (m.type) {
	case WIRE_WELCOME:
		ul_on_welcome(u, &m);
		break;
	case WIRE_ACK:
		ul_on_ack(u, &m);
		break;
	case WIRE_PONG:
		break;
	case WIRE_RESYNC:
		ul_link_down(u, "the parent asks for a new HELLO");
		ul_send_hello(u);
		break;
	default:
		metrics_dropped(METRICS_UPLINK, METRICS_DROP_UNEXPECTED_TYPE);
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: unexpected %s from the parent",
			    ul_type_name(m.type));
		break;
	}
	wire_msg_free(&m);
}

/* One message from the parent: first is its first frame (the pump's).
 * Returns its size. */
static size_t
ul_on_msg(void *arg, zmq_msg_t *first)
{
	struct uplink *u = arg;

	if (!zmq_msg_more(first)) {
		ul_handle(u, zmq_msg_data(first), zmq_msg_size(first));
		return zmq_msg_size(first);
	}
	/* one frame per message: drop the whole thing */
	zlink_drain(u->link.sock);
	metrics_dropped(METRICS_UPLINK, METRICS_DROP_MULTI_FRAME);
	if (log_ratelimit_ok(&u->rl))
		log_warnx("uplink: dropped a multi-frame message from the "
		          "parent");
	return zmq_msg_size(first);
}

/*
 * A failed handshake (refused key, wrong parent_key) makes libzmq 4.3.4
 * drop the endpoint without reconnecting, so the link would stay dead
 * after the parent's conf is fixed: connect again later (ul_tick_cb).
 */
static void
ul_redial_later(struct uplink *u)
{
	if (u->redial_at != 0)
		return;
	u->redial_at = log_now_ms() + u->redial_wait;
	u->redial_wait = u->redial_wait * 2 > UL_REDIAL_MAX_MS
	                     ? UL_REDIAL_MAX_MS
	                     : u->redial_wait * 2;
}

static void
ul_redial(struct uplink *u)
{
	u->redial_at = 0;
	zmq_disconnect(u->link.sock, u->c->parent); /* may be gone already */
	if (zmq_connect(u->link.sock, u->c->parent) != 0) {
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: connect %s: %s", u->c->parent,
			    zmq_strerror(zmq_errno()));
		ul_redial_later(u);
		return;
	}
	log_info("uplink: connecting to %s again", u->c->parent);
}

static void
ul_conn_set(struct uplink *u, enum ul_conn conn)
{
	if (u->conn != conn)
		u->conn_since = (int64_t)time(NULL);
	u->conn = conn;
}

/* Socket monitor events: connection, handshake outcome, disconnection. */
static void
ul_on_monitor(struct uplink *u, uint16_t event, uint32_t value)
{
	switch (event) {
	case ZMQ_EVENT_CONNECTED:
		u->unreachable = 0;
		break;
	case ZMQ_EVENT_CONNECT_RETRIED:
		u->unreachable = 1;
		break;
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		log_info("uplink: connected to %s", u->c->parent);
		u->unreachable = 0;
		u->zap_status = 0;
		ul_conn_set(u, UC_CONNECTED);
		/* A new connection is a new session at the parent. */
		if (u->state != UL_DOWN)
			ul_link_down(u, "reconnected");
		u->fast_hello = UL_HELLO_FAST_TRIES;
		u->hello_unanswered = 0;
		u->welcome_wait = UL_WELCOME_WAIT_MS;
		u->redial_at = 0;
		u->redial_wait = UL_REDIAL_MS;
		ul_send_hello(u);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		/* after a failed handshake too: keep what it said */
		if (u->conn == UC_CONNECTED)
			ul_conn_set(u, UC_LOST);
		ul_link_down(u, "disconnected");
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: parent %s refused our key %s "
			          "(ZAP status %" PRIu32 "): is it in the "
			          "parent's children file?",
			    u->c->parent, u->public_key, value);
		u->zap_status = value;
		ul_conn_set(u, UC_REFUSED);
		ul_redial_later(u);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		if (log_ratelimit_ok(&u->rl))
			log_warnx("uplink: CURVE handshake with %s failed "
			          "(is parent_key right?)",
			    u->c->parent);
		ul_conn_set(u, UC_HANDSHAKE);
		ul_redial_later(u);
		break;
	default:
		break;
	}
}

static void
ul_mon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;

	(void)fd;
	(void)what;
	for (;;) {
		zmq_msg_t f;
		uint16_t event = 0;
		uint32_t value = 0;
		int more, ok;

		if (zlink_pollin(u->mon) <= 0)
			break;
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, u->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f);
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				continue;
			break;
		}
		ok = zmq_msg_size(&f) == 6;
		if (ok) {
			const unsigned char *p = zmq_msg_data(&f);
			memcpy(&event, p, 2);
			memcpy(&value, p + 2, 4);
		}
		more = zmq_msg_more(&f);
		zmq_msg_close(&f);
		if (more)
			zlink_drain(u->mon); /* the endpoint frame */
		if (ok)
			ul_on_monitor(u, event, value);
	}
}

/* ---------------------------------------------------------------------- */
/* Timers. */

static void
ul_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ul_flush(arg);
}

static void
ul_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;
	int64_t now = log_now_ms();
	struct wire_msg ping;

	(void)fd;
	(void)what;
	if (u->redial_at != 0 && now >= u->redial_at)
		ul_redial(u);
	switch (u->state) {
	case UL_DOWN:
		if (now >= u->next_hello)
			ul_send_hello(u);
		break;
	case UL_WELCOMING:
		break; /* the commit callback decides */
	case UL_UP:
		if (u->batch == UL_SENT &&
		    now - u->batch_sent >= u->ack_timeout) {
			log_warnx("uplink: no ACK for batch %" PRIu64
			          " within %d ms",
			    u->seq, u->ack_timeout);
			u->ack_timeout =
			    u->ack_timeout * 2 > UL_ACK_TIMEOUT_MAX_MS
			        ? UL_ACK_TIMEOUT_MAX_MS
			        : u->ack_timeout * 2;
			ul_link_down(u, "ACK timeout");
			ul_send_hello(u);
			break;
		}
		if (u->batch != UL_NONE)
			break;
		if (now - u->last_rx >= UL_DEAD_MS) {
			ul_link_down(u, "no answer from the parent");
			ul_send_hello(u);
			break;
		}
		if (now - u->last_tx >= UL_PING_MS) {
			memset(&ping, 0, sizeof(ping));
			ping.type = WIRE_PING;
			if (ul_send(u, &ping) == UL_SEND_AGAIN) {
				ul_link_down(u, "parent unreachable");
				break;
			}
		}
		if (now - u->last_flush >= UL_SAFETY_FLUSH_MS)
			ul_flush(u);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* Life cycle. */

static int
ul_setup_socket(struct uplink *u, void *zctx, const char *secret)
{
	unsigned char sk[32], pk[32], srv[32];
	void *sock;
	int rc = -1;

	if (zmq_z85_decode(srv, u->c->parent_key) == NULL) {
		log_warnx("uplink: parent_key is not a Z85 key");
		return -1;
	}
	zmq_z85_decode(sk, secret);
	zmq_z85_decode(pk, u->public_key);
	/* LINGER, MAXMSGSIZE, heartbeats, HANDSHAKE_IVL, IPV6: zlink.c */
	if ((sock = u->link.sock = zlink_socket(
	         zctx, ZMQ_DEALER, u->c->parent, "uplink")) == NULL)
		goto out;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pk, 32) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sk, 32) != 0) {
		log_warnx("uplink: CURVE keys: %s", zmq_strerror(zmq_errno()));
		goto out;
	}
	if (zlink_setopt_int(
	        sock, ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE", "uplink") ||
	    zlink_setopt_int(sock, ZMQ_RECONNECT_IVL, UL_RECONNECT_MS,
	        "ZMQ_RECONNECT_IVL", "uplink") ||
	    zlink_setopt_int(sock, ZMQ_RECONNECT_IVL_MAX, UL_RECONNECT_MAX_MS,
	        "ZMQ_RECONNECT_IVL_MAX", "uplink"))
		goto out;

	/* Monitor before connecting so no event is missed. */
	snprintf(
	    u->mon_ep, sizeof(u->mon_ep), "inproc://cdht-uplink-%p", (void *)u);
	if (zmq_socket_monitor(sock, u->mon_ep,
	        ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
	            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
	            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
	    (u->mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zlink_setopt_int(u->mon, ZMQ_LINGER, 0, "ZMQ_LINGER", "uplink") ||
	    zmq_connect(u->mon, u->mon_ep) != 0) {
		log_warnx(
		    "uplink: socket monitor: %s", zmq_strerror(zmq_errno()));
		goto out;
	}
	if (zmq_connect(sock, u->c->parent) != 0) {
		log_warnx("uplink: connect %s: %s", u->c->parent,
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(sk, sizeof(sk));
	return rc;
}

struct uplink *
uplink_new(struct event_base *base, void *zctx, const struct conf *c,
    const struct zlink_keypair *kp, struct store *st, struct committer *cm)
{
	struct uplink *u;
	struct timeval tick = {0, UL_TICK_MS * 1000};

	if (c->parent[0] == '\0') {
		log_debug("uplink: no parent configured");
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warnx("uplink: out of memory");
		return NULL;
	}
	u->base = base;
	u->c = c;
	u->st = st;
	u->cm = cm;
	u->rl.what = "uplink";
	u->seq = (uint64_t)time(NULL) << 16; /* distinct per run */
	u->conn_since = (int64_t)time(NULL);
	snprintf(u->public_key, sizeof(u->public_key), "%s", kp->public);
	if (ul_setup_socket(u, zctx, kp->secret) != 0)
		goto fail;
	if (zlink_start(&u->link, base, ul_on_msg, u, &u->rl, "uplink") != 0 ||
	    (u->ev_mon = zlink_fd_event(
	         base, u->mon, ul_mon_cb, u, "uplink")) == NULL ||
	    (u->ev_flush = evtimer_new(base, ul_flush_cb, u)) == NULL ||
	    (u->ev_tick = event_new(base, -1, EV_PERSIST, ul_tick_cb, u)) ==
	        NULL ||
	    event_add(u->ev_tick, &tick) != 0) {
		log_warnx("uplink: cannot set up events");
		goto fail;
	}
	u->state = UL_DOWN;
	u->next_hello = log_now_ms();
	u->welcome_wait = UL_WELCOME_WAIT_MS;
	u->ack_timeout = UL_ACK_TIMEOUT_MS;
	u->redial_wait = UL_REDIAL_MS;
	log_info("uplink: %s -> parent %s, our public key %s", c->id, c->parent,
	    u->public_key);
	return u;
fail:
	uplink_free(&u);
	return NULL;
}

void
uplink_kick(struct uplink *u)
{
	struct timeval tv;
	int64_t wait;

	if (u == NULL || evtimer_pending(u->ev_flush, NULL))
		return;
	/* leading edge: a change after a quiet spell goes up at once; the
	 * changes that follow share the batch sent when flush_ms has passed
	 * since the last one */
	wait = u->c->flush_ms - (log_now_ms() - u->last_flush);
	if (wait <= 0 && u->state == UL_UP && u->batch == UL_NONE) {
		ul_flush(u);
		return;
	}
	if (wait < 1)
		wait = 1;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(u->ev_flush, &tv);
}

void
uplink_free(struct uplink **up)
{
	struct uplink *u;

	if (up == NULL || (u = *up) == NULL)
		return;
	zlink_pending_orphan(u->pending);
	if (u->ev_mon != NULL)
		event_free(u->ev_mon);
	if (u->ev_flush != NULL)
		event_free(u->ev_flush);
	if (u->ev_tick != NULL)
		event_free(u->ev_tick);
	if (u->link.sock != NULL && u->mon != NULL)
		zmq_socket_monitor(u->link.sock, NULL, 0);
	zlink_close(&u->link); /* its events, then the DEALER */
	if (u->mon != NULL)
		zmq_close(u->mon);
	wire_msg_free(&u->inflight);
	free(u);
	*up = NULL;
}

void
uplink_state(const struct uplink *u, int *connected, int64_t *last_ack,
    char parent_id[WIRE_MAX_ID + 1])
{
	*connected = u != NULL && u->connected && u->state == UL_UP;
	*last_ack = u != NULL ? u->last_ack : 0;
	snprintf(
	    parent_id, WIRE_MAX_ID + 1, "%s", u != NULL ? u->parent_id : "");
}

/* The state's name and, in words, what it means and what to check. */
static const char *
ul_health_words(const struct uplink *u, const char **detail)
{
	if (u->state == UL_UP) {
		*detail = "welcomed by the parent: reports flow";
		return "welcomed";
	}
	switch (u->conn) {
	case UC_REFUSED:
		*detail = "the parent does not admit our key: is our public "
		          "key in the parent's children file?";
		return "refused";
	case UC_HANDSHAKE:
		*detail = "the CURVE handshake with the parent failed: is "
		          "[uplink] parent_key the parent's public key?";
		return "handshake_failed";
	case UC_CONNECTED:
		*detail = u->state == UL_WELCOMING
		              ? "the parent's WELCOME is being recorded"
		          : u->last_welcome != 0
		              ? "connected, waiting for a new WELCOME (the "
		                "link went down)"
		              : "connected, but the parent has not answered "
		                "HELLO: is [node] id the id the parent's "
		                "children file gives our key?";
		return "not_welcomed";
	case UC_LOST:
		*detail = u->unreachable ? "the connection was lost and the "
		                           "parent is unreachable: retrying"
		                         : "the connection was lost: "
		                           "connecting again";
		return "connecting";
	case UC_NEVER:
	default:
		*detail = u->unreachable
		              ? "the parent is unreachable (is it running? is "
		                "[uplink] parent right?): retrying"
		              : "waiting for the first connection";
		return "never_connected";
	}
}

static json_t *
ul_time_or_null(int64_t t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	views_iso_time(t, buf, sizeof(buf));
	return json_string(buf);
}

/* obj is the caller's; u is only read. */
void
uplink_health(const struct uplink *u, json_t *obj)
{
	const char *state, *detail;
	int64_t now = (int64_t)time(NULL);
	size_t inflight = 0;

	if (u == NULL || obj == NULL)
		return;
	state = ul_health_words(u, &detail);
	if (u->batch != UL_NONE)
		inflight = u->inflight.nreports + u->inflight.nkeys;
	json_object_set_new(obj, "state", json_string(state));
	json_object_set_new(obj, "detail", json_string(detail));
	/* not working since the later of the connection's news and the link
	 * going down */
	json_object_set_new(obj, "since",
	    ul_time_or_null(u->state == UL_UP               ? u->last_welcome
	                    : u->down_since > u->conn_since ? u->down_since
	                                                    : u->conn_since));
	json_object_set_new(obj, "zap_status",
	    u->conn == UC_REFUSED ? json_integer(u->zap_status) : json_null());
	json_object_set_new(obj, "public_key", json_string(u->public_key));
	json_object_set_new(
	    obj, "last_welcome", ul_time_or_null(u->last_welcome));
	json_object_set_new(obj, "last_ack_age_s",
	    u->last_ack > 0 ? json_integer(now - u->last_ack) : json_null());
	json_object_set_new(
	    obj, "in_flight", json_integer((json_int_t)inflight));
}

/* Returns a static string. */
const char *
uplink_status(const struct uplink *u)
{
	return u == NULL || (u->connected && u->state == UL_UP) ? "ok"
	                                                        : "degraded";
}
