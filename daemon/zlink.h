/*
 * zlink.h: the ZeroMQ plumbing shared by uplink.c (the child's DEALER) and
 * downlink.c (the parent's ROUTER and ZAP handler), the only other files
 * allowed to touch ZeroMQ (main.c just creates and terminates the context
 * it hands them).  What both ends do the same way lives here: link
 * sockets with the common options, ZMQ_FD events, the edge-triggered pump,
 * sending one encoded wire message, and the list of callbacks deferred on
 * the committer that stays safe after its owner is freed.  The protocol
 * itself (what to send, what a message means) stays in the two links.
 *
 * ZMQ_FD is edge-triggered: the pump drains while ZMQ_EVENTS says POLLIN,
 * every send schedules the pump (event_active) because a send may consume
 * the edge, and the pump is never re-entered.  After ZLINK_PUMP_MAX messages,
 * or once the messages it handed over hold ZLINK_PUMP_BYTES, it yields
 * through ev_resume, an event at the lowest priority (the committer's): the
 * turn's transaction commits first, so a flood from the peer cannot starve
 * commits and one transaction takes a bounded share of the children's
 * batches (the pages one commit dirties, which LMDB keeps allocated after it
 * and adds to its free list, grow with it).
 *
 * who ("uplink" / "downlink") prefixes every log line written here, so they
 * read as the caller's own.
 */
#ifndef CDHT_ZLINK_H
#define CDHT_ZLINK_H

#include <stddef.h>

#include <event2/event.h>
#include <zmq.h>

#include "log.h"
#include "wire.h"

#define ZLINK_HB_IVL_MS     1000
#define ZLINK_HWM           16   /* messages queued per peer on receive */
#define ZLINK_HB_TIMEOUT_MS 3000 /* also ZMQ_HEARTBEAT_TTL */
#define ZLINK_HANDSHAKE_MS  5000
#define ZLINK_PUMP_MAX      256 /* messages per pump call, then yield */
#define ZLINK_PUMP_BYTES    (256u << 10) /* bytes of messages, then yield */

/* A CURVE key pair as NUL-terminated Z85 text. */
struct zlink_keypair {
	char secret[41];
	char public[41];
};

enum zlink_key_rc {
	ZLINK_KEY_OK = 0,
	ZLINK_KEY_LOOSE = 1, /* loaded, but readable by group or others */
	ZLINK_KEY_ERR = -1,
};

/*
 * Read the secret key file at path (40 Z85 characters and a newline, as
 * written by `cdht keygen`) into kp->secret and derive kp->public (kp is
 * the caller's; zero it with explicit_bzero when done).  Logs nothing: on
 * ZLINK_KEY_ERR (kp cleared) or ZLINK_KEY_LOOSE, err (errsize bytes, the
 * caller's) says what is wrong, naming path, for the caller to print with
 * the conf key that named the file.  Returns a zlink_key_rc.
 */
int zlink_load_key(
    const char *path, struct zlink_keypair *kp, char *err, size_t errsize);

/*
 * Check that libzmq can bind endpoint ("tcp://HOST:PORT", only read) on
 * this host, without taking PORT: bind HOST on an ephemeral port on a
 * throwaway context, then close it.  Returns 0, or -1 with err (errsize
 * bytes, the caller's) saying why; logs nothing.
 */
int zlink_check_bind(const char *endpoint, char *err, size_t errsize);

/*
 * Set the int option opt (named name in the log) on sock.  sock is
 * borrowed.  Returns 0, or -1 (logged).
 */
int zlink_setopt_int(
    void *sock, int opt, int v, const char *name, const char *who);

/*
 * A new socket of type on zctx with the options both links share: LINGER
 * 0, MAXMSGSIZE WIRE_MAX_MSG, heartbeats every ZLINK_HB_IVL_MS with a
 * ZLINK_HB_TIMEOUT_MS timeout and TTL, HANDSHAKE_IVL ZLINK_HANDSHAKE_MS,
 * and IPV6 when endpoint (the address it will bind or connect to, only
 * read) is a bracketed IPv6 one.  Returns the socket, owned by the caller
 * (zmq_close, or hand it to a struct zlink), or NULL (logged).
 */
void *zlink_socket(void *zctx, int type, const char *endpoint, const char *who);

/*
 * A persistent EV_READ event on sock's ZMQ_FD calling cb(fd, what, arg),
 * added and activated once (an edge may predate it).  sock and arg are
 * borrowed and must outlive the event.  Returns the event, owned by the
 * caller (event_free before closing sock), or NULL (a ZMQ_FD failure is
 * logged).
 */
struct event *zlink_fd_event(struct event_base *base, void *sock,
    event_callback_fn cb, void *arg, const char *who);

/* 1 if ZMQ_EVENTS of the borrowed sock says POLLIN, 0 if not, -1 if it
 * cannot be read (zmq_errno() tells why).  Returns a plain value. */
int zlink_pollin(void *sock);

/* Receive and drop the remaining frames of a multi-frame message on the
 * borrowed sock (at least one).  Returns nothing. */
void zlink_drain(void *sock);

/*
 * One message for the link: first is its first frame, received by the pump,
 * which owns it and closes it on return; the handler may receive the
 * message's further frames itself.  Returns the bytes of the message it
 * handled (for ZLINK_PUMP_BYTES).
 */
typedef size_t zlink_msg_fn(void *arg, zmq_msg_t *first);

/* A socket read by an edge-triggered pump (see the top of this file). */
struct zlink {
	void *sock;               /* owned: closed by zlink_close */
	struct event *ev_read;    /* ZMQ_FD, owned */
	struct event *ev_resume;  /* the pump after a yield, owned */
	zlink_msg_fn *on_msg;     /* called with each message */
	void *arg;                /* for on_msg, borrowed */
	struct log_ratelimit *rl; /* for receive warnings, borrowed */
	const char *who;          /* log prefix, borrowed */
	int pumping;
};

/*
 * Start pumping z->sock (set by the caller, now owned by z): create the
 * ZMQ_FD event and the resume event (lowest priority of base) and schedule
 * a first pump.  arg, rl and who are borrowed and must outlive z.  Returns
 * 0, or -1 (a ZMQ_FD failure is logged; the caller logs the rest); either
 * way release z with zlink_close.
 */
int zlink_start(struct zlink *z, struct event_base *base, zlink_msg_fn *on_msg,
    void *arg, struct log_ratelimit *rl, const char *who);

/*
 * Send buf (len bytes, borrowed) on z->sock without blocking, preceded by
 * the routing id frame rid (rid_len bytes, borrowed) unless rid is NULL,
 * then schedule the pump.  Returns 0, or the zmq errno of the failed send
 * (> 0); nothing is logged.
 */
int zlink_send_buf(struct zlink *z, const void *rid, size_t rid_len,
    const void *buf, size_t len);

/*
 * Encode m (borrowed) as one msgpack message and zlink_send_buf it.
 * Returns 0; a wire_err (< 0) when m cannot be encoded (nothing sent); or
 * the zmq errno of the failed send (> 0).  Nothing is logged.
 */
int zlink_send(
    struct zlink *z, const void *rid, size_t rid_len, const struct wire_msg *m);

/* Free z's events, then close its socket; NULL members are skipped and the
 * freed ones NULLed.  z itself is the caller's.  Returns nothing. */
void zlink_close(struct zlink *z);

/*
 * A callback deferred on the committer that may outlive its link: embed it
 * in the callback's argument.  The owner keeps a list head (a struct
 * zlink_pending * initialised to NULL) and orphans the list when it is
 * freed; the callback reads owner (NULL: the link is gone), unlinks and
 * frees its argument.
 */
struct zlink_pending {
	void *owner; /* borrowed; NULL once the owner is freed */
	struct zlink_pending **head;
	struct zlink_pending *next;
};

/* Put p (the caller's) on the list at *head of owner (borrowed); returns
 * nothing. */
void zlink_pending_add(
    struct zlink_pending **head, struct zlink_pending *p, void *owner);

/* Take p off its owner's list, if the owner still lives.  p stays the
 * caller's to free.  Returns nothing. */
void zlink_pending_unlink(struct zlink_pending *p);

/* The owner is being freed: NULL the owner of every entry of the list
 * starting at first.  The entries stay their callbacks' to free. */
void zlink_pending_orphan(struct zlink_pending *first);

#endif
