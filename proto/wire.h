/*
 * wire.h: the node-to-node messages (protocol version 1) and their msgpack
 * codec.  proto/PROTOCOL.md is the normative description; this header is its
 * C binding, shared by the daemon, the tests and the fuzzer.
 *
 * Every ZeroMQ message is one frame holding one msgpack array whose first
 * element is the protocol version (1) and second the message type; the other
 * positions are listed in PROTOCOL.md and next to struct wire_msg below.
 * Decoders never trust input: every count is checked against WIRE_MAX_ITEMS
 * and the bytes left before anything is allocated (a decode allocates at most
 * about 17 times the input length), and any violation returns
 * WIRE_EMALFORMED.  A successfully decoded message satisfies every rule of
 * PROTOCOL.md "Field rules", so the daemon may trust it as is.
 */
#ifndef CDHT_WIRE_H
#define CDHT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

#define WIRE_VERSION   1
#define WIRE_MAX_MSG   (16u * 1024 * 1024) /* ZMQ_MAXMSGSIZE on every socket */
#define WIRE_MAX_ID    16     /* unit id bytes: "14", "116", "03646" */
#define WIRE_MAX_NAME  128    /* unit name bytes (UTF-8) */
#define WIRE_MAX_PATH  8      /* ids in a path: sender down to origin */
#define WIRE_MAX_ITEMS 200000 /* reports / inventory entries per message */
#define WIRE_MAX_WHO   63     /* filed_by bytes (= VALID_WHO_MAX, valid.h) */

/*
 * The wire revision of this release (WELCOME field 6, PROTOCOL.md 5.2 and
 * 8.9): what a parent of this release accepts within version 1.  1: release
 * 0.1.0 and 0.2.0 (no field 6); 2: report year 2020 and level "agency".
 * WIRE_REVISION_2020: the first revision that takes both.
 */
#define WIRE_REVISION      2
#define WIRE_REVISION_2020 2

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
	uint64_t version; /* >= 1; 0 in a WELCOME want list (not on the wire) */
};

/* One origin report: an origin's local counters for one year. */
struct wire_report {
	char origin[WIRE_MAX_ID + 1];
	char level[16]; /* commune | district | province | national | agency */
	char name[WIRE_MAX_NAME + 1];
	uint16_t year;
	uint64_t version;   /* grows with every change at the origin */
	int64_t updated_at; /* origin's unix time of this version */
	uint8_t path_len;   /* 1..WIRE_MAX_PATH */
	/* [0] = the sending child, [path_len - 1] = origin; no id twice */
	char path[WIRE_MAX_PATH][WIRE_MAX_ID + 1];
	/* How many of counters the origin's release knew: decoding sets it
	 * to min(counters sent, CDHT_NCOUNTERS), the rest being zero; the
	 * encoder sends that many (0 means CDHT_NCOUNTERS). */
	uint8_t ncounters;
	struct cdht_counters counters;
	/* Field 9 (release 0.3.0): the label of whoever filed the origin's
	 * year, "" while it is open; text of 0..WIRE_MAX_WHO bytes.  "" when
	 * decoded from an older sender's 8-field report; always sent. */
	char filed_by[WIRE_MAX_WHO + 1];
	/* Field 10 (release 0.3.0): the unit a retired origin merged into,
	 * an id, "" for none (every report but the copies a parent
	 * re-issues for a unit it retired with a successor, PROTOCOL.md
	 * 8.8).  "" when decoded from a report of 8 or 9 fields; always
	 * sent. */
	char successor[WIRE_MAX_ID + 1];
};

/*
 * A decoded message.  Arrays are heap-allocated by wire_decode and freed by
 * wire_msg_free; strings are copied (nothing points into the input buffer).
 * Fields a type does not use are zero after wire_decode and ignored by
 * wire_encode.  Positions on the wire:
 *   HELLO    [1, 1, id, level, name, keys (inventory: [origin, year, ver])]
 *   WELCOME  [1, 2, id (parent's), keys (want: [origin, year]),
 *             own ([origin, year, ver]), revision]
 *   REPORTS  [1, 3, seq, reports, keys (removed: [origin, year, ver])]
 *            report = [origin, level, name, year, version, updated_at,
 *                      [path...], [counters...], filed_by,
 *                      successor]
 *   ACK      [1, 4, seq, refused]
 *   PING [1, 5]   PONG [1, 6]   RESYNC [1, 7]
 */
struct wire_msg {
	int type;
	uint64_t seq; /* REPORTS, ACK */
	/* HELLO: the sending child's id; WELCOME: the sending parent's id */
	char id[WIRE_MAX_ID + 1];
	/* HELLO: the child's level and name */
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
	/* WELCOME field 6: the parent's wire revision, >= 1.  Decoding sets
	 * it to 1 when the field is absent (release 0.1.0 or 0.2.0); the
	 * encoder sends it always, WIRE_REVISION when 0. */
	uint32_t revision;
};

/* Encoded size bounds (PROTOCOL.md 4.1; tests/unit/test_wire.c checks
 * them against the encoder).  A report: array header 1, origin 17, level 9,
 * name 130, year 3, version 9, updated_at 9, path 1 + 8 x 17, counters
 * 3 + CDHT_NCOUNTERS x 9, filed_by 2 + 63, successor 1 + 16. */
#define WIRE_MAX_REPORT   (397 + 3 + 9 * CDHT_NCOUNTERS) /* 967 */
#define WIRE_MAX_KEY      30 /* [origin, year, version]: 1 + 17 + 3 + 9 */
#define WIRE_MAX_ENVELOPE 32 /* array, version, type, seq, two list headers */

/* Batches that always fit one message (wire.c checks it at compile time):
 * WIRE_BATCH_REPORTS reports with WIRE_BATCH_REMOVALS removals, or any
 * WIRE_BATCH_ENTRIES entries, reports and removals together. */
#define WIRE_BATCH_REPORTS  15000
#define WIRE_BATCH_REMOVALS 50000
#define WIRE_BATCH_ENTRIES  17000

/*
 * Encode msg into a malloc'd buffer (*out, *outlen); the caller frees *out.
 * Returns WIRE_OK, WIRE_ENOMEM, or WIRE_EMALFORMED when msg breaks a field
 * rule of PROTOCOL.md (the same checks as wire_decode, so nothing is sent
 * that the peer would drop) or would encode to more than WIRE_MAX_MSG bytes.
 * Only REPORTS can grow that big: a report encodes to at most WIRE_MAX_REPORT
 * bytes and a key to at most WIRE_MAX_KEY, plus WIRE_MAX_ENVELOPE per
 * message, so a batch of up to WIRE_BATCH_REPORTS reports and
 * WIRE_BATCH_REMOVALS removals (or any WIRE_BATCH_ENTRIES entries, reports
 * and removals together) always fits.  On error
 * *out is NULL.
 */
int wire_encode(const struct wire_msg *msg, char **out, size_t *outlen);

/*
 * Decode buf[0..len) into *msg (zeroed first).  On success the caller owns
 * msg's arrays and frees them with wire_msg_free.  On error nothing needs to
 * be freed and *msg is zeroed.  Never aborts, never reads outside buf.
 * Returns WIRE_OK; WIRE_EVERSION for a well-formed msgpack array whose first
 * element is an integer other than 1; WIRE_EMALFORMED for anything else that
 * is not a valid version-1 message (including an unknown type); or
 * WIRE_ENOMEM.
 */
int wire_decode(const char *buf, size_t len, struct wire_msg *msg);

/* How many counters r carries on the wire (its ncounters, 0 = all). */
unsigned wire_ncounters(const struct wire_report *r);

/*
 * The type of the message in buf without decoding it, when its first bytes
 * are in the shortest encoding (an array header, version 1 and the type as
 * positive fixints, as every reference encoder writes them); -1 otherwise.
 * Only a hint, to shed work early: the message must still be decoded.
 */
int wire_peek_type(const char *buf, size_t len);

/* Free the arrays of a decoded or built message; msg itself is not freed. */
void wire_msg_free(struct wire_msg *msg);

/* Static string naming a wire_err. */
const char *wire_strerror(int err);

#endif
