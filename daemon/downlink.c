/*
 * downlink.c: the children's side of the links.  Owns the ROUTER socket
 * (CURVE server, ZAP domain "cdht"), the ZAP handler (a REP socket on
 * inproc://zeromq.zap.01, bound before the ROUTER, served in the same loop),
 * the session table and each child's liveness.  What children report is
 * applied by aggregate.c in the committer's transaction; WELCOME and ACK go
 * out only from the committer's callbacks, after the commit.
 *
 * Identity: the ZAP handler admits a CURVE key only if it is listed in the
 * children file and answers with the child's id as User-Id; every message's
 * child is read from that property, never from the message.
 *
 * Sessions: a routing id (one connection) gets a session once the WELCOME
 * for its HELLO is committed; each child has at most one (an array indexed
 * like conf->children, so the check per message is O(1)).  Any other message
 * from a routing id without a session (a new connection, or this process
 * restarted) is answered with RESYNC, which makes the child send HELLO.  A
 * HELLO from a child replaces its older sessions; sessions silent for
 * DL_SESSION_IDLE_MS expire.
 *
 * ZMQ_FD is edge-triggered: the ROUTER is read by zlink.c's pump (it drains
 * while ZMQ_EVENTS says POLLIN, every send schedules it again, and after
 * ZLINK_PUMP_MAX messages it yields to the committer so a flood cannot
 * starve commits), which hands each message to dl_on_msg(); the ZAP socket
 * is drained whole by dl_zap_cb().  ev_tick (every second) expires idle
 * sessions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "aggregate.h"
#include "downlink.h"
#include "log.h"
#include "metrics.h"
#include "zlink.h"

/* Set by value when the header hides it behind ZMQ_BUILD_DRAFT_API; the
 * library implements it (measured on libzmq 4.3.4). */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define DL_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define DL_ZAP_DOMAIN   "cdht"
/* version, request id, domain, address, identity, mechanism, key */
#define DL_ZAP_FRAMES      7
#define DL_RID_MAX         255
#define DL_ALIVE_MS        3500 /* children PING every second */
#define DL_HELLO_MS        1000 /* at most one HELLO a second per child */
#define DL_SESSION_IDLE_MS 60000
#define DL_TICK_MS         1000

/* Per configured child (same index as conf->children). */
struct dl_child {
	unsigned char rid[DL_RID_MAX]; /* its session's routing id */
	size_t rid_len;                /* 0: no session */
	int64_t sess_ms;               /* last message of the session */
	int64_t seen_wall;             /* last message at all: unix time */
	int64_t seen_ms;               /* ... monotonic ms, 0 = never */
	int64_t hello_ms;              /* last HELLO reconciled, 0 = never */
};

/* A reply deferred until the commit; link.owner (the downlink) is NULLed
 * if the downlink dies. */
struct dl_pending {
	struct zlink_pending link;
	int type; /* WIRE_WELCOME or WIRE_ACK */
	int child;
	unsigned char rid[DL_RID_MAX];
	size_t rid_len;
	char *buf; /* the encoded WELCOME */
	size_t len;
	size_t nwant;
	uint64_t seq; /* ACK */
	uint32_t refused;
	struct metrics_batch mb; /* ACK: counted once committed */
};

struct downlink {
	struct event_base *base;
	const struct conf *c;
	struct store *st;
	struct committer *cm;
	struct zlink router;
	void *zap;
	struct event *ev_zap;
	struct event *ev_tick;

	struct dl_child *kids; /* conf->nchildren entries */

	struct zlink_pending *pending;
	/* 10 warnings a minute each */
	struct log_ratelimit rl_msg, rl_zap;
};

static const char *
dl_child_id(const struct downlink *d, int child)
{
	return d->c->children[child].id;
}

/* ---------------------------------------------------------------------- */
/* Sessions. */

/* 1 if rid is the session of child (it said HELLO on this connection). */
static int
dl_session_is(struct downlink *d, int child, const void *rid, size_t rid_len)
{
	struct dl_child *k = &d->kids[child];

	return k->rid_len != 0 && k->rid_len == rid_len &&
	       memcmp(k->rid, rid, rid_len) == 0;
}

/* rid now speaks for child (after a committed HELLO); the child's older
 * session, if any, ends. */
static void
dl_session_set(struct downlink *d, int child, const void *rid, size_t rid_len)
{
	struct dl_child *k = &d->kids[child];

	memcpy(k->rid, rid, rid_len);
	k->rid_len = rid_len;
	k->sess_ms = log_now_ms();
}

/* ---------------------------------------------------------------------- */
/* Sending. */

/* Log a failed send (err: a zmq errno, 0 = sent) to child. */
static void
dl_send_failed(struct downlink *d, int child, int err)
{
	if (err == 0)
		return;
	/* ZMQ_ROUTER_MANDATORY: the routing id frame finds no connection */
	if (err == EHOSTUNREACH)
		log_debug("downlink: child %s disconnected before its reply",
		    dl_child_id(d, child));
	else if (log_ratelimit_ok(&d->rl_msg))
		log_warnx("downlink: send to child %s: %s",
		    dl_child_id(d, child), zmq_strerror(err));
}

/* Send buf to routing id rid without blocking. */
static void
dl_send_raw(struct downlink *d, const void *rid, size_t rid_len, int child,
    const void *buf, size_t len)
{
	dl_send_failed(
	    d, child, zlink_send_buf(&d->router, rid, rid_len, buf, len));
}

static void
dl_send(struct downlink *d, const void *rid, size_t rid_len, int child,
    const struct wire_msg *m)
{
	int rc = zlink_send(&d->router, rid, rid_len, m);

	if (rc < 0)
		log_warnx("downlink: cannot encode a reply of type %d: %s",
		    m->type, wire_strerror(rc));
	else
		dl_send_failed(d, child, rc);
}

static void
dl_send_type(
    struct downlink *d, const void *rid, size_t rid_len, int child, int type)
{
	struct wire_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	dl_send(d, rid, rid_len, child, &m);
}

/* ---------------------------------------------------------------------- */
/* Replies after the commit. */

static struct dl_pending *
dl_pending_new(
    struct downlink *d, int type, int child, const void *rid, size_t rid_len)
{
	struct dl_pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_warnx("downlink: out of memory");
		return NULL;
	}
	zlink_pending_add(&d->pending, &p->link, d);
	p->type = type;
	p->child = child;
	memcpy(p->rid, rid, rid_len);
	p->rid_len = rid_len;
	return p;
}

static void
dl_pending_free(struct dl_pending *p)
{
	zlink_pending_unlink(&p->link);
	free(p->buf);
	free(p);
}

static void
dl_commit_cb(void *arg, int status)
{
	struct dl_pending *p = arg;
	struct downlink *d = p->link.owner;
	struct wire_msg ack;

	if (d == NULL || p->child < 0) /* gone, or the child was removed */
		goto out;
	if (status != STORE_OK) {
		/* no reply: the child times out and sends again */
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: %s of child %s not committed: "
			          "%s",
			    p->type == WIRE_WELCOME ? "HELLO" : "batch",
			    dl_child_id(d, p->child), store_strerror(status));
		goto out;
	}
	if (p->type == WIRE_WELCOME) {
		dl_session_set(d, p->child, p->rid, p->rid_len);
		log_info("downlink: child %s said HELLO; %zu entries wanted",
		    dl_child_id(d, p->child), p->nwant);
		dl_send_raw(d, p->rid, p->rid_len, p->child, p->buf, p->len);
	} else {
		memset(&ack, 0, sizeof(ack));
		ack.type = WIRE_ACK;
		ack.seq = p->seq;
		ack.refused = p->refused;
		metrics_batch_commit(&p->mb);
		dl_send(d, p->rid, p->rid_len, p->child, &ack);
		/* what the batch changed goes up through the commit hook
		 * (committer_on_commit -> uplink_kick), run after this */
	}
out:
	dl_pending_free(p);
}

/* ---------------------------------------------------------------------- */
/* Receiving. */

/* A HELLO of child now would come within DL_HELLO_MS of the last one
 * reconciled: logged (rate-limited), to be dropped. */
static int
dl_hello_too_soon(struct downlink *d, int child)
{
	if (d->kids[child].hello_ms == 0 ||
	    log_now_ms() - d->kids[child].hello_ms >= DL_HELLO_MS)
		return 0;
	metrics_dropped(METRICS_DOWNLINK, METRICS_DROP_HELLO_FLOOD);
	if (log_ratelimit_ok(&d->rl_msg))
		log_warnx("downlink: HELLO of child %s within %d ms of the "
		          "last: dropped",
		    dl_child_id(d, child), DL_HELLO_MS);
	return 1;
}

static void
dl_on_hello(struct downlink *d, const void *rid, size_t rid_len, int child,
    const struct wire_msg *m)
{
	struct store_txn *t;
	struct dl_pending *p;
	struct wire_msg w;
	int rc, s;

	if (strcmp(m->id, dl_child_id(d, child)) != 0) {
		metrics_dropped(METRICS_DOWNLINK, METRICS_DROP_WRONG_ID);
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: the key of child %s sent HELLO "
			          "as \"%s\": dropped (check its [node] id)",
			    dl_child_id(d, child), m->id);
		return;
	}
	/* reconciling a HELLO costs up to its inventory (200000 keys): at
	 * most one per child per DL_HELLO_MS, so a flood cannot stall the
	 * loop; a dropped HELLO is resent by the child (PROTOCOL.md 8.6) */
	if (dl_hello_too_soon(d, child))
		return;
	d->kids[child].hello_ms = log_now_ms();
	if (committer_nested(d->cm, &t) != STORE_OK)
		return; /* logged; the child sends HELLO again */
	memset(&w, 0, sizeof(w));
	rc = aggregate_hello(
	    t, d->c, dl_child_id(d, child), m->keys, m->nkeys, &w);
	/* in a transaction of its own within the turn: a failure here (a
	 * full map, no memory) costs this HELLO only, never the turn's other
	 * writes, and none of it is kept */
	if (rc != STORE_OK)
		store_abort(&t);
	else if ((s = committer_sub_end(d->cm, &t)) != STORE_OK)
		rc = s;
	if (rc != STORE_OK) {
		log_warnx("downlink: HELLO of child %s: %s (not answered; "
		          "it will say HELLO again)",
		    dl_child_id(d, child), store_strerror(rc));
		wire_msg_free(&w);
		return;
	}
	w.type = WIRE_WELCOME;
	w.revision = WIRE_REVISION; /* what we accept (PROTOCOL.md 8.9) */
	if ((p = dl_pending_new(d, WIRE_WELCOME, child, rid, rid_len)) ==
	    NULL) {
		wire_msg_free(&w);
		return;
	}
	p->nwant = w.nkeys;
	rc = wire_encode(&w, &p->buf, &p->len);
	wire_msg_free(&w);
	if (rc != WIRE_OK) {
		log_warnx("downlink: cannot encode WELCOME for child %s: %s",
		    dl_child_id(d, child), wire_strerror(rc));
		dl_pending_free(p);
		return;
	}
	if (committer_defer(d->cm, dl_commit_cb, p) != 0) {
		log_warnx("downlink: out of memory");
		dl_pending_free(p);
	}
}

static void
dl_on_reports(struct downlink *d, const void *rid, size_t rid_len, int child,
    const struct wire_msg *m)
{
	const char *via = dl_child_id(d, child);
	struct store_txn *t;
	struct dl_pending *p;
	int64_t now = (int64_t)time(NULL);
	uint32_t refused = 0;
	struct metrics_batch mb;
	int rc;

	if (committer_nested(d->cm, &t) != STORE_OK)
		return; /* no ACK: the child sends the batch again */
	metrics_batch_begin(&mb);
	for (size_t i = 0; i < m->nreports && store_txn_err(t) == STORE_OK; i++)
		if (metrics_batch_add(&mb,
		        aggregate_apply(t, d->c, via, &m->reports[i], now)) ==
		    AGG_REFUSED)
			refused++;
	for (size_t i = 0; i < m->nkeys && store_txn_err(t) == STORE_OK; i++)
		aggregate_remove(
		    t, d->c, via, m->keys[i].origin, m->keys[i].year);
	/* the batch in a transaction of its own within the turn: if it does
	 * not fit (a full map), it alone is lost (no ACK, resent later) and
	 * the turn's other writers (clerks, other children) are unaffected */
	if ((rc = committer_sub_end(d->cm, &t)) != STORE_OK) {
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: batch %" PRIu64 " of child %s not "
			          "applied: %s (no ACK; it is sent again)",
			    m->seq, via, store_strerror(rc));
		return;
	}
	log_debug("downlink: batch %" PRIu64 " of child %s: %zu reports "
	          "(%" PRIu32 " refused), %zu removals",
	    m->seq, via, m->nreports, refused, m->nkeys);
	if ((p = dl_pending_new(d, WIRE_ACK, child, rid, rid_len)) == NULL)
		return;
	p->seq = m->seq;
	p->refused = refused;
	p->mb = mb;
	p->mb.removals = (uint32_t)m->nkeys;
	if (committer_defer(d->cm, dl_commit_cb, p) != 0) {
		log_warnx("downlink: out of memory");
		dl_pending_free(p);
	}
}

static void
dl_handle(struct downlink *d, const void *rid, size_t rid_len, int child,
    const void *buf, size_t len)
{
	struct wire_msg m;
	int rc, s;

	/* a HELLO within DL_HELLO_MS of the last one reconciled is shed
	 * before it is even decoded (up to 200000 keys): a flood costs
	 * nothing but reading the frame */
	if (wire_peek_type(buf, len) == WIRE_HELLO &&
	    dl_hello_too_soon(d, child))
		return;
	if ((rc = wire_decode(buf, len, &m)) != WIRE_OK) {
		metrics_dropped(METRICS_DOWNLINK, METRICS_DROP_MALFORMED);
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: dropped a %zu-byte message from "
			          "child %s: %s",
			    len, dl_child_id(d, child), wire_strerror(rc));
		return;
	}
	if ((s = dl_session_is(d, child, rid, rid_len)))
		d->kids[child].sess_ms = log_now_ms();
	switch (m.type) {
	case WIRE_HELLO:
		dl_on_hello(d, rid, rid_len, child, &m);
		break;
	case WIRE_REPORTS:
	case WIRE_PING:
		if (!s) {
			log_debug("downlink: %s from child %s without a "
			          "session: RESYNC",
			    m.type == WIRE_PING ? "PING" : "REPORTS",
			    dl_child_id(d, child));
			dl_send_type(d, rid, rid_len, child, WIRE_RESYNC);
		} else if (m.type == WIRE_PING)
			dl_send_type(d, rid, rid_len, child, WIRE_PONG);
		else
			dl_on_reports(d, rid, rid_len, child, &m);
		break;
	default:
		metrics_dropped(METRICS_DOWNLINK, METRICS_DROP_UNEXPECTED_TYPE);
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: child %s sent a message of type "
			          "%d, which only parents send: dropped",
			    dl_child_id(d, child), m.type);
		break;
	}
	wire_msg_free(&m);
}

/* One message from the ROUTER: rid is its first frame (the pump's).
 * Returns the size of its body. */
static size_t
dl_on_msg(void *arg, zmq_msg_t *rid)
{
	struct downlink *d = arg;
	zmq_msg_t body;
	const char *uid;
	int child, more;
	size_t size;

	if (!zmq_msg_more(rid)) /* an empty message: nothing */
		return 0;
	zmq_msg_init(&body);
	if (zmq_msg_recv(&body, d->router.sock, 0) < 0) {
		zmq_msg_close(&body);
		return 0;
	}
	size = zmq_msg_size(&body);
	more = zmq_msg_more(&body);
	uid = zmq_msg_gets(&body, "User-Id");
	child = uid != NULL ? conf_child_by_id(d->c, uid) : -1;
	if (child < 0) {
		/* ZAP admits only listed keys: this is a child removed
		 * by a reload, still connected; it gets no answer */
		metrics_dropped(METRICS_DOWNLINK, METRICS_DROP_UNKNOWN_SENDER);
		if (log_ratelimit_ok(&d->rl_msg))
			log_warnx("downlink: message without a known "
			          "User-Id dropped");
	} else {
		d->kids[child].seen_wall = (int64_t)time(NULL);
		d->kids[child].seen_ms = log_now_ms();
		if (more) {
			metrics_dropped(
			    METRICS_DOWNLINK, METRICS_DROP_MULTI_FRAME);
			if (log_ratelimit_ok(&d->rl_msg))
				log_warnx("downlink: child %s sent a "
				          "multi-frame message: dropped",
				    dl_child_id(d, child));
		} else if (zmq_msg_size(rid) <= DL_RID_MAX)
			dl_handle(d, zmq_msg_data(rid), zmq_msg_size(rid),
			    child, zmq_msg_data(&body), zmq_msg_size(&body));
	}
	if (more)
		zlink_drain(d->router.sock);
	zmq_msg_close(&body);
	return size;
}

/* ---------------------------------------------------------------------- */
/* ZAP (RFC 27): one request in, one reply out, in the loop. */

static int
dl_frame_is(zmq_msg_t *f, const char *s)
{
	return zmq_msg_size(f) == strlen(s) &&
	       memcmp(zmq_msg_data(f), s, strlen(s)) == 0;
}

/* A printable copy of a frame for the log. */
static void
dl_frame_str(zmq_msg_t *f, char *out, size_t outsz)
{
	const unsigned char *p = zmq_msg_data(f);
	size_t n = zmq_msg_size(f), j = 0;

	for (size_t i = 0; i < n && j + 1 < outsz; i++)
		out[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[j] = '\0';
}

static void
dl_zap_reply(struct downlink *d, zmq_msg_t *f, size_t nf)
{
	const char *status = "400", *text = "unknown key", *user = "";
	char z85[41], addr[64];
	int child;

	if (nf != DL_ZAP_FRAMES || !dl_frame_is(&f[0], "1.0")) {
		status = "500";
		text = "malformed ZAP request";
		if (log_ratelimit_ok(&d->rl_zap))
			log_warnx("downlink: malformed ZAP request (%zu "
			          "frames)",
			    nf);
	} else if (!dl_frame_is(&f[2], DL_ZAP_DOMAIN) ||
	           !dl_frame_is(&f[5], "CURVE") || zmq_msg_size(&f[6]) != 32) {
		text = "CURVE in domain " DL_ZAP_DOMAIN " only";
		if (log_ratelimit_ok(&d->rl_zap))
			log_warnx("downlink: refused a non-CURVE or foreign "
			          "domain ZAP request");
	} else {
		dl_frame_str(&f[3], addr, sizeof(addr));
		if (zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32) == NULL)
			z85[0] = '\0';
		child = conf_child_by_key(d->c, z85);
		if (child >= 0) {
			status = "200";
			text = "OK";
			user = dl_child_id(d, child);
			log_debug(
			    "downlink: admitted child %s from %s", user, addr);
		} else if (log_ratelimit_ok(&d->rl_zap))
			log_warnx("downlink: refused unknown CURVE key %s from "
			          "%s",
			    z85, addr);
	}
	/* version, request id, status code, status text, user id, metadata */
	zmq_send(d->zap, "1.0", 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (nf >= 2)
		zmq_send(d->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
		    ZMQ_SNDMORE | ZMQ_DONTWAIT);
	else
		zmq_send(d->zap, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->zap, status, 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->zap, text, strlen(text), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->zap, user, strlen(user), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->zap, "", 0, ZMQ_DONTWAIT);
}

static void
dl_zap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct downlink *d = arg;

	(void)fd;
	(void)what;
	for (;;) {
		zmq_msg_t f[DL_ZAP_FRAMES + 1];
		size_t nf = 0;
		int more = 1;

		if (zlink_pollin(d->zap) <= 0)
			break;
		while (more) {
			zmq_msg_t *dst =
			    &f[nf < DL_ZAP_FRAMES ? nf : DL_ZAP_FRAMES];
			zmq_msg_init(dst);
			if (zmq_msg_recv(
			        dst, d->zap, nf == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(dst);
				break;
			}
			more = zmq_msg_more(dst);
			if (nf >= DL_ZAP_FRAMES)
				zmq_msg_close(dst); /* extra: counted only */
			nf++;
		}
		if (nf == 0)
			break; /* EAGAIN: nothing after all */
		dl_zap_reply(d, f, nf);
		for (size_t i = 0; i < nf && i < DL_ZAP_FRAMES; i++)
			zmq_msg_close(&f[i]);
	}
}

/* ---------------------------------------------------------------------- */
/* Timer and life cycle. */

static void
dl_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct downlink *d = arg;
	int64_t now = log_now_ms();

	(void)fd;
	(void)what;
	for (size_t i = 0; i < d->c->nchildren; i++)
		if (d->kids[i].rid_len != 0 &&
		    now - d->kids[i].sess_ms > DL_SESSION_IDLE_MS) {
			log_debug("downlink: session of child %s expired",
			    dl_child_id(d, (int)i));
			d->kids[i].rid_len = 0;
		}
}

static int
dl_setup_sockets(struct downlink *d, void *zctx, const struct zlink_keypair *kp)
{
	unsigned char sk[32];
	void *router;
	int rc = -1;

	if (zmq_z85_decode(sk, kp->secret) == NULL) {
		log_warnx("downlink: the secret key is not Z85");
		return -1;
	}

	/* The ZAP handler first: without one, libzmq 4.3.4 admits any key. */
	if ((d->zap = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zlink_setopt_int(d->zap, ZMQ_LINGER, 0, "ZMQ_LINGER", "downlink") ||
	    zmq_bind(d->zap, DL_ZAP_ENDPOINT) != 0) {
		log_warnx("downlink: ZAP handler on %s: %s", DL_ZAP_ENDPOINT,
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	/* LINGER, MAXMSGSIZE, heartbeats, HANDSHAKE_IVL, IPV6: zlink.c */
	if ((router = d->router.sock = zlink_socket(
	         zctx, ZMQ_ROUTER, d->c->downlink_listen, "downlink")) == NULL)
		goto out;
	if (zlink_setopt_int(
	        router, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER", "downlink") ||
	    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, sk, 32) != 0 ||
	    zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, DL_ZAP_DOMAIN,
	        strlen(DL_ZAP_DOMAIN)) != 0) {
		log_warnx("downlink: CURVE / ZAP options: %s",
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	if (zlink_setopt_int(router, ZMQ_ZAP_ENFORCE_DOMAIN, 1,
	        "ZMQ_ZAP_ENFORCE_DOMAIN", "downlink"))
		log_warnx("downlink: continuing: the ZAP handler is bound");
	if (zlink_setopt_int(router, ZMQ_ROUTER_MANDATORY, 1,
	        "ZMQ_ROUTER_MANDATORY", "downlink"))
		goto out;
	if (zmq_bind(router, d->c->downlink_listen) != 0) {
		log_warnx("downlink: bind %s: %s", d->c->downlink_listen,
		    zmq_strerror(zmq_errno()));
		goto out;
	}
	log_info("downlink: listening on %s for %zu children, public key %s",
	    d->c->downlink_listen, d->c->nchildren, kp->public);
	rc = 0;
out:
	explicit_bzero(sk, sizeof(sk));
	return rc;
}

struct downlink *
downlink_new(struct event_base *base, void *zctx, const struct conf *c,
    const struct zlink_keypair *kp, struct store *st, struct committer *cm)
{
	struct downlink *d;
	struct timeval tick = {DL_TICK_MS / 1000, (DL_TICK_MS % 1000) * 1000};
	size_t n = c->nchildren ? c->nchildren : 1;

	if (c->downlink_listen[0] == '\0') {
		log_debug("downlink: no listen address configured");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->kids = calloc(n, sizeof(*d->kids))) == NULL) {
		log_warnx("downlink: out of memory");
		downlink_free(&d);
		return NULL;
	}
	d->base = base;
	d->c = c;
	d->st = st;
	d->cm = cm;
	d->rl_msg.what = "downlink";
	d->rl_zap.what = "downlink ZAP";
	if (dl_setup_sockets(d, zctx, kp) != 0)
		goto fail;
	if ((d->ev_zap = zlink_fd_event(
	         base, d->zap, dl_zap_cb, d, "downlink")) == NULL ||
	    zlink_start(
	        &d->router, base, dl_on_msg, d, &d->rl_msg, "downlink") != 0 ||
	    (d->ev_tick = event_new(base, -1, EV_PERSIST, dl_tick_cb, d)) ==
	        NULL ||
	    event_add(d->ev_tick, &tick) != 0) {
		log_warnx("downlink: cannot set up events");
		goto fail;
	}
	return d;
fail:
	downlink_free(&d);
	return NULL;
}

void
downlink_free(struct downlink **dp)
{
	struct downlink *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	zlink_pending_orphan(d->pending);
	if (d->ev_zap != NULL)
		event_free(d->ev_zap);
	if (d->ev_tick != NULL)
		event_free(d->ev_tick);
	zlink_close(&d->router); /* its events, then the ROUTER */
	if (d->zap != NULL)
		zmq_close(d->zap);
	free(d->kids);
	free(d);
	*dp = NULL;
}

void
downlink_child_state(const struct downlink *d, const char *child_id,
    int *connected, int64_t *last_seen)
{
	int i;

	*connected = 0;
	*last_seen = 0;
	if (d == NULL || child_id == NULL ||
	    (i = conf_child_by_id(d->c, child_id)) < 0)
		return;
	*last_seen = d->kids[i].seen_wall;
	*connected = d->kids[i].seen_ms != 0 &&
	             log_now_ms() - d->kids[i].seen_ms <= DL_ALIVE_MS;
}

int
downlink_reload(struct downlink *d, const struct conf_child *old, size_t nold)
{
	const struct conf *c = d->c;
	struct dl_child *kids =
	    calloc(c->nchildren ? c->nchildren : 1, sizeof(*kids));
	int *map = calloc(nold ? nold : 1, sizeof(*map));

	if (kids == NULL || map == NULL) {
		free(kids);
		free(map);
		return -1;
	}
	for (size_t i = 0; i < nold; i++) {
		map[i] = conf_child_by_id(c, old[i].id);
		/* the same id with another key is another child */
		if (map[i] >= 0 &&
		    strcmp(c->children[map[i]].public_key, old[i].public_key))
			map[i] = -1;
		if (map[i] >= 0)
			kids[map[i]] = d->kids[i];
		else if (d->kids[i].rid_len != 0)
			log_info("downlink: child %s removed: its session ends",
			    old[i].id);
	}
	for (struct zlink_pending *z = d->pending; z != NULL; z = z->next) {
		struct dl_pending *p = (struct dl_pending *)z;

		if (p->child >= 0 && (size_t)p->child < nold)
			p->child = map[p->child];
	}
	free(d->kids);
	d->kids = kids;
	free(map);
	return 0;
}
