/*
 * wire.h: the node-to-node messages (protocol version 1) and their msgpack
 * codec.  proto/PROTOCOL.md is the normative description; this header is its
 * C binding, shared by the daemon, the tests and the fuzzer.
 *
 * Every ZeroMQ message is one frame holding one msgpack array whose first
 * element is the protocol version (1) and second the message type.  Decoders
 * never trust input: every count is checked against the bytes left before
 * anything is allocated, and any violation returns WIRE_EMALFORMED.
 */
#ifndef CDHT_WIRE_H
#define CDHT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

#define WIRE_VERSION 1
#define WIRE_MAX_MSG (16u * 1024 * 1024) /* ZMQ_MAXMSGSIZE on every socket */
#define WIRE_MAX_ID 16       /* unit id bytes: "14", "116", "03646" */
#define WIRE_MAX_NAME 128    /* unit name bytes (UTF-8) */
#define WIRE_MAX_PATH 8      /* ids in a path: sender down to origin */
#define WIRE_MAX_ITEMS 200000 /* reports / inventory entries per message */

/* Message types: explicitly numbered, never renumbered. */
enum wire_type {
	WIRE_HELLO = 1,   /* child -> parent: who I am + my full inventory */
	WIRE_WELCOME = 2, /* parent -> child: what I want + your own versions */
	WIRE_REPORTS = 3, /* child -> parent: a batch of reports and removals */
	WIRE_ACK = 4,     /* parent -> child: batch seq committed */
	WIRE_PING = 5,    /* child -> parent: liveness when idle */
	WIRE_PONG = 6,    /* parent -> child: answer to PING */
	WIRE_RESYNC = 7,  /* parent -> child: unknown session, send HELLO */
};

enum wire_err {
	WIRE_OK = 0,
	WIRE_EMALFORMED = -1, /* not msgpack, wrong shape, out of bounds */
	WIRE_EVERSION = -2,   /* well-formed but a protocol version we lack */
	WIRE_ENOMEM = -3,
};

/* (origin, year, version): one inventory / want / removal entry. */
struct wire_key {
	char origin[WIRE_MAX_ID + 1];
	uint16_t year;
	uint64_t version; /* 0 in a WELCOME want list */
};

/* One origin report: an origin's local counters for one year. */
struct wire_report {
	char origin[WIRE_MAX_ID + 1];
	char level[16]; /* commune | district | province | national */
	char name[WIRE_MAX_NAME + 1];
	uint16_t year;
	uint64_t version;    /* grows with every change at the origin */
	int64_t updated_at;  /* origin's unix time of this version */
	uint8_t path_len;    /* 1..WIRE_MAX_PATH */
	char path[WIRE_MAX_PATH][WIRE_MAX_ID + 1]; /* path[0] = sender */
	struct cdht_counters counters;
};

/*
 * A decoded message.  Arrays are heap-allocated by wire_decode and freed by
 * wire_msg_free; strings are copied (nothing points into the input buffer).
 */
struct wire_msg {
	int type;
	uint64_t seq; /* REPORTS, ACK */
	/* HELLO */
	char id[WIRE_MAX_ID + 1];
	char level[16];
	char name[WIRE_MAX_NAME + 1];
	/* HELLO: inventory; WELCOME: want; REPORTS: removed */
	struct wire_key *keys;
	size_t nkeys;
	/* WELCOME: versions the parent holds for the child's own origin */
	struct wire_key *own;
	size_t nown;
	/* REPORTS */
	struct wire_report *reports;
	size_t nreports;
	/* ACK: how many reports of the batch were refused */
	uint32_t refused;
};

/*
 * Encode msg into a malloc'd buffer (*out, *outlen); the caller frees *out.
 * Returns WIRE_OK or WIRE_ENOMEM.
 */
int wire_encode(const struct wire_msg *msg, char **out, size_t *outlen);

/*
 * Decode buf[0..len) into *msg (zeroed first).  On success the caller owns
 * msg's arrays and frees them with wire_msg_free.  On error nothing needs to
 * be freed.  Never aborts, never reads outside buf.
 */
int wire_decode(const char *buf, size_t len, struct wire_msg *msg);

/* Free the arrays of a decoded or built message; msg itself is not freed. */
void wire_msg_free(struct wire_msg *msg);

/* Static string naming a wire_err. */
const char *wire_strerror(int err);

#endif
