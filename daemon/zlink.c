/*
 * zlink.c: the ZeroMQ plumbing shared by uplink.c and downlink.c, the only
 * other files allowed to touch ZeroMQ, and the CURVE key files both links
 * read.  See zlink.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zlink.h"

#define ZLINK_KEY_FILE_MAX 256

/* kp and err are the caller's; returns a zlink_key_rc. */
int
zlink_load_key(
    const char *path, struct zlink_keypair *kp, char *err, size_t errsize)
{
	char buf[ZLINK_KEY_FILE_MAX];
	unsigned char bin[32];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd, rc = ZLINK_KEY_ERR;

	memset(kp, 0, sizeof(*kp));
	err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsize, "cannot open secret key \"%s\": %s",
		    path, strerror(errno));
		return ZLINK_KEY_ERR;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errsize, "secret key \"%s\" is not a file", path);
		close(fd);
		return ZLINK_KEY_ERR;
	}
	if ((sb.st_mode & 022) != 0) {
		/* anyone who can write it can replace this node's key */
		snprintf(err, errsize,
		    "secret key \"%s\" is writable by group or others "
		    "(chmod 600)",
		    path);
		close(fd);
		return ZLINK_KEY_ERR;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errsize, "cannot read secret key \"%s\": %s",
		    path, strerror(errno));
		return ZLINK_KEY_ERR;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	                      buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (len != 40 || strlen(buf) != 40 ||
	    zmq_z85_decode(bin, buf) == NULL) {
		snprintf(err, errsize,
		    "secret key \"%s\": expected 40 Z85 characters and a "
		    "newline (cdht keygen)",
		    path);
		goto out;
	}
	memcpy(kp->secret, buf, 41);
	if (zmq_curve_public(kp->public, kp->secret) != 0) {
		snprintf(err, errsize,
		    "secret key \"%s\": cannot derive the public key: %s", path,
		    zmq_strerror(zmq_errno()));
		explicit_bzero(kp, sizeof(*kp));
		goto out;
	}
	rc = ZLINK_KEY_OK;
	if ((sb.st_mode & 077) != 0) {
		snprintf(err, errsize,
		    "secret key \"%s\" is readable by group or others "
		    "(chmod 600)",
		    path);
		rc = ZLINK_KEY_LOOSE;
	}
out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(bin, sizeof(bin));
	return rc;
}

/* err is the caller's; returns 0 or -1. */
int
zlink_check_bind(const char *endpoint, char *err, size_t errsize)
{
	char ep[300];
	const char *colon = strrchr(endpoint, ':');
	void *zctx, *sock = NULL;
	int rc = -1, one = 1;

	err[0] = '\0';
	if (colon == NULL ||
	    snprintf(ep, sizeof(ep), "%.*s:*", (int)(colon - endpoint),
	        endpoint) >= (int)sizeof(ep)) {
		snprintf(err, errsize, "not tcp://HOST:PORT");
		return -1;
	}
	if ((zctx = zmq_ctx_new()) == NULL) {
		snprintf(
		    err, errsize, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	if ((sock = zmq_socket(zctx, ZMQ_ROUTER)) == NULL ||
	    (strchr(endpoint, '[') != NULL &&
	        zmq_setsockopt(sock, ZMQ_IPV6, &one, sizeof(one)) != 0))
		snprintf(err, errsize, "socket: %s", zmq_strerror(zmq_errno()));
	else if (zmq_bind(sock, ep) != 0)
		snprintf(err, errsize, "cannot bind %.*s: %s",
		    (int)(colon - endpoint), endpoint,
		    zmq_strerror(zmq_errno()));
	else
		rc = 0;
	if (sock != NULL) {
		int zero = 0;
		zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(sock);
	}
	zmq_ctx_term(zctx);
	return rc;
}

/* sock is borrowed; returns 0 or -1 (logged). */
int
zlink_setopt_int(void *sock, int opt, int v, const char *name, const char *who)
{
	if (zmq_setsockopt(sock, opt, &v, sizeof(v)) != 0) {
		log_warnx("%s: setsockopt %s: %s", who, name,
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* Returns a socket the caller owns, or NULL (logged). */
void *
zlink_socket(void *zctx, int type, const char *endpoint, const char *who)
{
	int64_t maxmsg = WIRE_MAX_MSG;
	void *sock;

	if ((sock = zmq_socket(zctx, type)) == NULL) {
		log_warnx("%s: socket: %s", who, zmq_strerror(zmq_errno()));
		return NULL;
	}
	if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) !=
	    0) {
		log_warnx("%s: setsockopt ZMQ_MAXMSGSIZE: %s", who,
		    zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* bounded queues: at most ZLINK_HWM messages per peer wait in
	 * memory (each at most WIRE_MAX_MSG), the rest wait in the peer */
	if (zlink_setopt_int(sock, ZMQ_LINGER, 0, "ZMQ_LINGER", who) ||
	    zlink_setopt_int(sock, ZMQ_RCVHWM, ZLINK_HWM, "ZMQ_RCVHWM", who) ||
	    zlink_setopt_int(sock, ZMQ_HEARTBEAT_IVL, ZLINK_HB_IVL_MS,
	        "ZMQ_HEARTBEAT_IVL", who) ||
	    zlink_setopt_int(sock, ZMQ_HEARTBEAT_TIMEOUT, ZLINK_HB_TIMEOUT_MS,
	        "ZMQ_HEARTBEAT_TIMEOUT", who) ||
	    zlink_setopt_int(sock, ZMQ_HEARTBEAT_TTL, ZLINK_HB_TIMEOUT_MS,
	        "ZMQ_HEARTBEAT_TTL", who) ||
	    zlink_setopt_int(sock, ZMQ_HANDSHAKE_IVL, ZLINK_HANDSHAKE_MS,
	        "ZMQ_HANDSHAKE_IVL", who) ||
	    (strchr(endpoint, '[') != NULL &&
	        zlink_setopt_int(sock, ZMQ_IPV6, 1, "ZMQ_IPV6", who)))
		goto fail;
	return sock;
fail:
	zmq_close(sock);
	return NULL;
}

/* Returns an event the caller owns, or NULL. */
struct event *
zlink_fd_event(struct event_base *base, void *sock, event_callback_fn cb,
    void *arg, const char *who)
{
	struct event *ev;
	int fd;
	size_t sz = sizeof(fd);

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) != 0) {
		log_warnx("%s: ZMQ_FD: %s", who, zmq_strerror(zmq_errno()));
		return NULL;
	}
	if ((ev = event_new(base, fd, EV_READ | EV_PERSIST, cb, arg)) == NULL)
		return NULL;
	if (event_add(ev, NULL) != 0) {
		event_free(ev);
		return NULL;
	}
	event_active(ev, EV_READ, 0); /* an edge may predate the event */
	return ev;
}

/* Returns a plain value: 1 POLLIN, 0 not, -1 error. */
int
zlink_pollin(void *sock)
{
	int events;
	size_t sz = sizeof(events);

	if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &sz) != 0)
		return -1;
	return (events & ZMQ_POLLIN) != 0;
}

/* Returns nothing; the frames are dropped. */
void
zlink_drain(void *sock)
{
	zmq_msg_t f;
	int more = 1;

	while (more) {
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, sock, 0) < 0)
			more = 0;
		else
			more = zmq_msg_more(&f);
		zmq_msg_close(&f);
	}
}

/* ---------------------------------------------------------------------- */
/* The pump. */

static void
zlink_pump(struct zlink *z)
{
	int n, in;
	size_t bytes = 0;

	if (z->pumping)
		return;
	z->pumping = 1;
	for (n = 0;; n++) {
		zmq_msg_t first;

		if ((in = zlink_pollin(z->sock)) < 0) {
			if (log_ratelimit_ok(z->rl))
				log_warnx("%s: ZMQ_EVENTS: %s", z->who,
				    zmq_strerror(zmq_errno()));
			break;
		}
		if (!in)
			break;
		if (n >= ZLINK_PUMP_MAX || bytes >= ZLINK_PUMP_BYTES) {
			event_active(z->ev_resume, 0, 0); /* yield */
			break;
		}
		zmq_msg_init(&first);
		if (zmq_msg_recv(&first, z->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&first);
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				continue;
			if (log_ratelimit_ok(z->rl))
				log_warnx("%s: recv: %s", z->who,
				    zmq_strerror(zmq_errno()));
			break;
		}
		bytes += z->on_msg(z->arg, &first);
		zmq_msg_close(&first);
	}
	z->pumping = 0;
}

/* ev_read and ev_resume */
static void
zlink_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	zlink_pump(arg);
}

/* The events it creates are z's (zlink_close); returns 0 or -1. */
int
zlink_start(struct zlink *z, struct event_base *base, zlink_msg_fn *on_msg,
    void *arg, struct log_ratelimit *rl, const char *who)
{
	z->on_msg = on_msg;
	z->arg = arg;
	z->rl = rl;
	z->who = who;
	z->pumping = 0;
	if ((z->ev_read = zlink_fd_event(
	         base, z->sock, zlink_read_cb, z, who)) == NULL ||
	    (z->ev_resume = event_new(base, -1, 0, zlink_read_cb, z)) == NULL)
		return -1;
	if (event_base_get_npriorities(base) > 1)
		event_priority_set(
		    z->ev_resume, event_base_get_npriorities(base) - 1);
	return 0;
}

/* rid and buf stay the caller's; returns 0 or a zmq errno. */
int
zlink_send_buf(struct zlink *z, const void *rid, size_t rid_len,
    const void *buf, size_t len)
{
	int err = 0;

	if ((rid != NULL && zmq_send(z->sock, rid, rid_len,
	                        ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) ||
	    zmq_send(z->sock, buf, len, ZMQ_DONTWAIT) < 0)
		err = zmq_errno();
	/* The send may have consumed the ZMQ_FD edge: look again soon. */
	event_active(z->ev_read, EV_READ, 0);
	return err;
}

/* m stays the caller's, the encoding is freed here; returns 0, a wire_err
 * (< 0) or a zmq errno (> 0). */
int
zlink_send(
    struct zlink *z, const void *rid, size_t rid_len, const struct wire_msg *m)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = wire_encode(m, &buf, &len)) != WIRE_OK)
		return rc;
	rc = zlink_send_buf(z, rid, rid_len, buf, len);
	free(buf);
	return rc;
}

/* z stays the caller's; its events and socket are released. */
void
zlink_close(struct zlink *z)
{
	if (z->ev_read != NULL)
		event_free(z->ev_read);
	if (z->ev_resume != NULL)
		event_free(z->ev_resume);
	if (z->sock != NULL)
		zmq_close(z->sock);
	z->ev_read = NULL;
	z->ev_resume = NULL;
	z->sock = NULL;
}

/* ---------------------------------------------------------------------- */
/* Deferred callbacks. */

/* p and owner stay the caller's. */
void
zlink_pending_add(
    struct zlink_pending **head, struct zlink_pending *p, void *owner)
{
	p->owner = owner;
	p->head = head;
	p->next = *head;
	*head = p;
}

/* p stays the caller's to free. */
void
zlink_pending_unlink(struct zlink_pending *p)
{
	struct zlink_pending **pp;

	if (p->owner == NULL)
		return;
	for (pp = p->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
}

/* The entries stay their callbacks' to free. */
void
zlink_pending_orphan(struct zlink_pending *first)
{
	for (struct zlink_pending *p = first; p != NULL; p = p->next)
		p->owner = NULL;
}
