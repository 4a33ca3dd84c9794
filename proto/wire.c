/*
 * wire.c: the msgpack codec of the node-to-node messages (proto/PROTOCOL.md).
 *
 * The encoder packs with msgpack-c's packer.  The decoder does not use
 * msgpack-c at all: it is a small bounded reader over the subset of msgpack
 * the protocol uses, in the CZMQ codec style (every read checks the end of the
 * buffer; any violation jumps to `malformed`).  Every declared count is checked
 * against WIRE_MAX_ITEMS and against the bytes left (times the smallest
 * encoding of one element) before anything is allocated, so a decode
 * allocates at most about 17 times the input length (a struct wire_report
 * per 55 bytes).  The encoder and the
 * decoder share the same validators, so a node never sends what a peer would
 * drop.
 */
#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"
#include "wire.h"

_Static_assert(WIRE_MAX_WHO == VALID_WHO_MAX, "filed_by is a who (valid.h)");
/* The promise of wire.h: these batches always fit one message. */
_Static_assert((uint64_t)WIRE_BATCH_REPORTS *WIRE_MAX_REPORT +
                       (uint64_t)WIRE_BATCH_REMOVALS * WIRE_MAX_KEY +
                       WIRE_MAX_ENVELOPE <=
                   WIRE_MAX_MSG,
    "WIRE_BATCH_REPORTS reports and WIRE_BATCH_REMOVALS removals must fit");
_Static_assert(
    (uint64_t)WIRE_BATCH_ENTRIES *WIRE_MAX_REPORT + WIRE_MAX_ENVELOPE <=
        WIRE_MAX_MSG,
    "WIRE_BATCH_ENTRIES entries must fit WIRE_MAX_MSG");

/*
 * Deepest nesting accepted, the top-level array counting as 1.  Version 1
 * needs 4 (message > report list > report > path); the margin is for trailing
 * fields added by later revisions.
 */
#define WIRE_MAX_DEPTH 6

/* Smallest valid encodings, used to bound a declared count by bytes left. */
#define MIN_KEY_BYTES 6 /* [origin, year]: 1 + 2 + 3 */
/* 1 + origin 2 + "commune" 8 + "" 1 + year 3 + version 1 + updated_at 1
 * + path [id] 3 + counters (array16 header 3 + 32 x 1), and no filed_by
 * nor successor (an 8-field report of release 0.1.0 or 0.2.0) */
#define MIN_REPORT_BYTES 55

/* Fields of a report: 8 in releases 0.1.0 and 0.2.0, 10 (9 filed_by, 10
 * successor) since 0.3.0; this release sends REPORT_FIELDS and skips any
 * after them (a 9-field report, of a 0.3.0 development build, is read with
 * successor ""). */
#define REPORT_MIN_FIELDS   8
#define REPORT_FILED_FIELDS 9
#define REPORT_FIELDS       10

/* Fields of a WELCOME: 5 in releases 0.1.0 and 0.2.0, 6 (revision) since
 * 0.3.0; this release sends WELCOME_FIELDS and skips any after them. */
#define WELCOME_FIELDS 6

/* Fields each message type needs (counting version and type). */
static const unsigned wire_arity[] = {
    [WIRE_HELLO] = 6,
    [WIRE_WELCOME] = 5,
    [WIRE_REPORTS] = 5,
    [WIRE_ACK] = 4,
    [WIRE_PING] = 2,
    [WIRE_PONG] = 2,
    [WIRE_RESYNC] = 2,
};
#define WIRE_TYPE_MAX WIRE_RESYNC

/* ---------------------------------------------------------------------- */
/*
 * Validators shared by the encoder and the decoder: the field rules of
 * PROTOCOL.md 3.3, which are those of valid.h (the conf and the HTTP input
 * check names and ids with the same functions).
 */

/* A NUL-terminated string field of a struct, at most max bytes long. */
static bool
cstr_len(const char *s, size_t cap, size_t *n)
{
	*n = strnlen(s, cap);
	return *n < cap;
}

static bool
valid_cid(const char *s)
{
	size_t n;
	return cstr_len(s, WIRE_MAX_ID + 1, &n) && valid_id(s, n) == 0;
}

static bool
valid_clevel(const char *s)
{
	size_t n;
	return cstr_len(s, 16, &n) && valid_level(s, n) >= 0;
}

static bool
valid_cname(const char *s)
{
	size_t n;
	return cstr_len(s, WIRE_MAX_NAME + 1, &n) && valid_unit_name(s, n) == 0;
}

/* filed_by: text of 0..WIRE_MAX_WHO bytes. */
static bool
valid_who(const char *s, size_t n)
{
	return n <= WIRE_MAX_WHO && valid_text(s, n) == 0;
}

static bool
valid_cwho(const char *s)
{
	size_t n;
	return cstr_len(s, WIRE_MAX_WHO + 1, &n) && valid_who(s, n);
}

/* successor: "" or an id. */
static bool
valid_csucc(const char *s)
{
	size_t n;
	return cstr_len(s, WIRE_MAX_ID + 1, &n) &&
	       (n == 0 || valid_id(s, n) == 0);
}

unsigned
wire_ncounters(const struct wire_report *r)
{
	return r->ncounters ? r->ncounters : CDHT_NCOUNTERS;
}

/* The parts of a report not checked while reading its strings. */
static bool
valid_report_rest(const struct wire_report *r)
{
	if (valid_report_year(r->year) != 0 || r->version < 1 ||
	    r->updated_at < 0)
		return false;
	if (r->path_len < 1 || r->path_len > WIRE_MAX_PATH)
		return false;
	if (strcmp(r->path[r->path_len - 1], r->origin) != 0)
		return false;
	for (unsigned i = 0; i < r->path_len; i++)
		for (unsigned j = i + 1; j < r->path_len; j++)
			if (strcmp(r->path[i], r->path[j]) == 0)
				return false;
	if (r->ncounters != 0 && (r->ncounters < CDHT_WIRE_MIN_COUNTERS ||
	                             r->ncounters > CDHT_NCOUNTERS))
		return false;
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		if (r->counters.v[i] < 0 ||
		    (i >= (int)wire_ncounters(r) && r->counters.v[i] != 0))
			return false;
	return true;
}

static bool
valid_report(const struct wire_report *r)
{
	if (!valid_cid(r->origin) || !valid_clevel(r->level) ||
	    !valid_cname(r->name) || !valid_cwho(r->filed_by) ||
	    !valid_csucc(r->successor))
		return false;
	if (r->path_len < 1 || r->path_len > WIRE_MAX_PATH)
		return false;
	for (unsigned i = 0; i < r->path_len; i++)
		if (!valid_cid(r->path[i]))
			return false;
	return valid_report_rest(r);
}

static bool
valid_keys(const struct wire_key *k, size_t n, bool want)
{
	if (n > WIRE_MAX_ITEMS || (n > 0 && k == NULL))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!valid_cid(k[i].origin) ||
		    valid_report_year(k[i].year) != 0 ||
		    (!want && k[i].version < 1))
			return false;
	return true;
}

static bool
valid_msg(const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_HELLO:
		return valid_cid(m->id) && valid_clevel(m->level) &&
		       valid_cname(m->name) &&
		       valid_keys(m->keys, m->nkeys, false);
	case WIRE_WELCOME:
		return valid_cid(m->id) &&
		       valid_keys(m->keys, m->nkeys, true) &&
		       valid_keys(m->own, m->nown, false);
	case WIRE_REPORTS:
		if (m->nreports > WIRE_MAX_ITEMS ||
		    (m->nreports > 0 && m->reports == NULL))
			return false;
		for (size_t i = 0; i < m->nreports; i++)
			if (!valid_report(&m->reports[i]))
				return false;
		return valid_keys(m->keys, m->nkeys, false);
	case WIRE_ACK:
	case WIRE_PING:
	case WIRE_PONG:
	case WIRE_RESYNC:
		return true;
	default:
		return false;
	}
}

/* ---------------------------------------------------------------------- */
/* Encoder. */

static int
pack_cstr(msgpack_packer *pk, const char *s)
{
	return msgpack_pack_str_with_body(pk, s, strlen(s));
}

static int
pack_keys(msgpack_packer *pk, const struct wire_key *k, size_t n, bool want)
{
	int rc = msgpack_pack_array(pk, n);

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc |= msgpack_pack_array(pk, want ? 2 : 3);
		rc |= pack_cstr(pk, k[i].origin);
		rc |= msgpack_pack_uint16(pk, k[i].year);
		if (!want)
			rc |= msgpack_pack_uint64(pk, k[i].version);
	}
	return rc;
}

static int
pack_report(msgpack_packer *pk, const struct wire_report *r)
{
	int rc = msgpack_pack_array(pk, REPORT_FIELDS);

	rc |= pack_cstr(pk, r->origin);
	rc |= pack_cstr(pk, r->level);
	rc |= pack_cstr(pk, r->name);
	rc |= msgpack_pack_uint16(pk, r->year);
	rc |= msgpack_pack_uint64(pk, r->version);
	rc |= msgpack_pack_int64(pk, r->updated_at);
	rc |= msgpack_pack_array(pk, r->path_len);
	for (unsigned i = 0; i < r->path_len; i++)
		rc |= pack_cstr(pk, r->path[i]);
	rc |= msgpack_pack_array(pk, wire_ncounters(r));
	for (unsigned i = 0; i < wire_ncounters(r); i++)
		rc |= msgpack_pack_int64(pk, r->counters.v[i]);
	rc |= pack_cstr(pk, r->filed_by);
	rc |= pack_cstr(pk, r->successor);
	return rc;
}

int
wire_encode(const struct wire_msg *msg, char **out, size_t *outlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (msg == NULL || !valid_msg(msg))
		return WIRE_EMALFORMED;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = msgpack_pack_array(&pk,
	    msg->type == WIRE_WELCOME ? WELCOME_FIELDS : wire_arity[msg->type]);
	rc |= msgpack_pack_uint8(&pk, WIRE_VERSION);
	rc |= msgpack_pack_uint8(&pk, (uint8_t)msg->type);
	switch (msg->type) {
	case WIRE_HELLO:
		rc |= pack_cstr(&pk, msg->id);
		rc |= pack_cstr(&pk, msg->level);
		rc |= pack_cstr(&pk, msg->name);
		rc |= pack_keys(&pk, msg->keys, msg->nkeys, false);
		break;
	case WIRE_WELCOME:
		rc |= pack_cstr(&pk, msg->id);
		rc |= pack_keys(&pk, msg->keys, msg->nkeys, true);
		rc |= pack_keys(&pk, msg->own, msg->nown, false);
		rc |= msgpack_pack_uint32(
		    &pk, msg->revision ? msg->revision : WIRE_REVISION);
		break;
	case WIRE_REPORTS:
		rc |= msgpack_pack_uint64(&pk, msg->seq);
		rc |= msgpack_pack_array(&pk, msg->nreports);
		for (size_t i = 0; i < msg->nreports && rc == 0; i++) {
			rc |= pack_report(&pk, &msg->reports[i]);
			if (sb.size > WIRE_MAX_MSG)
				goto toobig;
		}
		rc |= pack_keys(&pk, msg->keys, msg->nkeys, false);
		break;
	case WIRE_ACK:
		rc |= msgpack_pack_uint64(&pk, msg->seq);
		rc |= msgpack_pack_uint32(&pk, msg->refused);
		break;
	default: /* PING, PONG, RESYNC: no fields */
		break;
	}
	if (rc != 0) {
		msgpack_sbuffer_destroy(&sb);
		return WIRE_ENOMEM;
	}
	if (sb.size > WIRE_MAX_MSG)
		goto toobig;
	*outlen = sb.size;
	*out = msgpack_sbuffer_release(&sb);
	return WIRE_OK;
toobig:
	msgpack_sbuffer_destroy(&sb);
	return WIRE_EMALFORMED;
}

/* ---------------------------------------------------------------------- */
/* Decoder: a bounded reader.  Every rd_* returns 0 or -1 (malformed). */

struct rd {
	const unsigned char *p;
	const unsigned char *end;
};

static size_t
rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

/* Big-endian unsigned of n (1, 2, 4 or 8) bytes. */
static int
rd_be(struct rd *r, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (rd_left(r) < n)
		return -1;
	for (size_t i = 0; i < n; i++)
		x = x << 8 | r->p[i];
	r->p += n;
	*v = x;
	return 0;
}

/*
 * Any msgpack integer, in any width.  Sets *neg and either *u (when
 * non-negative) or *s (when negative).
 */
static int
rd_num(struct rd *r, bool *neg, uint64_t *u, int64_t *s)
{
	unsigned char c;
	uint64_t v;

	if (rd_left(r) < 1)
		return -1;
	c = *r->p++;
	*neg = false;
	if (c <= 0x7f) {
		*u = c;
		return 0;
	}
	if (c >= 0xe0) {
		*neg = true;
		*s = (int64_t)c - 256;
		return 0;
	}
	switch (c) {
	case 0xcc: /* uint 8, 16, 32, 64 */
	case 0xcd:
	case 0xce:
	case 0xcf:
		return rd_be(r, (size_t)1 << (c - 0xcc), u);
	case 0xd0: /* int 8, 16, 32, 64 */
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		size_t n = (size_t)1 << (c - 0xd0);
		if (rd_be(r, n, &v) < 0)
			return -1;
		if (n < 8 && (v >> (8 * n - 1)) != 0) /* sign-extend */
			v |= ~(uint64_t)0 << (8 * n);
		if ((v >> 63) == 0) {
			*u = v;
			return 0;
		}
		*neg = true;
		/* Two's complement to int64 without implementation-defined
		 * conversion: -(~v) - 1. */
		*s = -(int64_t)(~v) - 1;
		return 0;
	}
	default:
		return -1;
	}
}

static int
rd_u64(struct rd *r, uint64_t *u)
{
	bool neg;
	int64_t s;

	if (rd_num(r, &neg, u, &s) < 0 || neg)
		return -1;
	return 0;
}

static int
rd_i64(struct rd *r, int64_t *s)
{
	bool neg;
	uint64_t u;

	if (rd_num(r, &neg, &u, s) < 0)
		return -1;
	if (!neg) {
		if (u > INT64_MAX)
			return -1;
		*s = (int64_t)u;
	}
	return 0;
}

/* A str of any width; *s points into the input. */
static int
rd_str(struct rd *r, const char **s, size_t *n)
{
	unsigned char c;
	uint64_t len;

	if (rd_left(r) < 1)
		return -1;
	c = *r->p++;
	if (c >= 0xa0 && c <= 0xbf)
		len = c & 0x1f;
	else if (c >= 0xd9 && c <= 0xdb) {
		if (rd_be(r, (size_t)1 << (c - 0xd9), &len) < 0)
			return -1;
	} else
		return -1;
	if (len > rd_left(r))
		return -1;
	*s = (const char *)r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

/*
 * An array header.  Rejects counts above WIRE_MAX_ITEMS and counts whose
 * elements, at min_bytes each, cannot fit in the bytes left.
 */
static int
rd_array(struct rd *r, size_t min_bytes, size_t *n)
{
	unsigned char c;
	uint64_t len;

	if (rd_left(r) < 1)
		return -1;
	c = *r->p++;
	if (c >= 0x90 && c <= 0x9f)
		len = c & 0x0f;
	else if (c == 0xdc || c == 0xdd) {
		if (rd_be(r, c == 0xdc ? 2 : 4, &len) < 0)
			return -1;
	} else
		return -1;
	if (len > WIRE_MAX_ITEMS || len * min_bytes > rd_left(r))
		return -1;
	*n = (size_t)len;
	return 0;
}

/*
 * Skip one value of any type (a trailing field from a later revision).  depth
 * is the nesting depth a container here would have.
 */
static int
rd_skip(struct rd *r, int depth)
{
	unsigned char c;
	uint64_t n, count;

	if (rd_left(r) < 1)
		return -1;
	c = *r->p;
	if (c <= 0x7f || c >= 0xe0 || (c >= 0xc0 && c <= 0xc3 && c != 0xc1)) {
		r->p++; /* fixint, nil, false, true */
		return 0;
	}
	if ((c >= 0xcc && c <= 0xd3)) {
		bool neg;
		uint64_t u;
		int64_t s;
		return rd_num(r, &neg, &u, &s);
	}
	if ((c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb)) {
		const char *s;
		size_t len;
		return rd_str(r, &s, &len);
	}
	r->p++;
	switch (c) {
	case 0xc4: /* bin 8, 16, 32 */
	case 0xc5:
	case 0xc6:
		if (rd_be(r, (size_t)1 << (c - 0xc4), &n) < 0 || n > rd_left(r))
			return -1;
		r->p += n;
		return 0;
	case 0xc7: /* ext 8, 16, 32: length, type byte, data */
	case 0xc8:
	case 0xc9:
		if (rd_be(r, (size_t)1 << (c - 0xc7), &n) < 0 ||
		    n >= rd_left(r))
			return -1;
		r->p += n + 1;
		return 0;
	case 0xca: /* float 32, 64 */
	case 0xcb:
		n = c == 0xca ? 4 : 8;
		break;
	case 0xd4: /* fixext 1, 2, 4, 8, 16 */
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		n = 1 + ((uint64_t)1 << (c - 0xd4));
		break;
	default: /* containers */
		if (depth > WIRE_MAX_DEPTH)
			return -1;
		/* count: the declared elements (of a map: entries), at most
		 * WIRE_MAX_ITEMS like every array (PROTOCOL.md 3.3) ... */
		if (c >= 0x80 && c <= 0x9f) { /* fixmap, fixarray */
			count = c & 0x0f;
		} else if (c == 0xdc || c == 0xdd) {
			if (rd_be(r, c == 0xdc ? 2 : 4, &count) < 0)
				return -1;
		} else if (c == 0xde || c == 0xdf) {
			if (rd_be(r, c == 0xde ? 2 : 4, &count) < 0)
				return -1;
		} else
			return -1; /* 0xc1: never used */
		if (count > WIRE_MAX_ITEMS)
			return -1;
		/* ... then the values to skip, each at least one byte */
		if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf)
			count *= 2; /* a map: key and value per entry */
		if (count > rd_left(r))
			return -1;
		for (uint64_t i = 0; i < count; i++)
			if (rd_skip(r, depth + 1) < 0)
				return -1;
		return 0;
	}
	if (n > rd_left(r))
		return -1;
	r->p += n;
	return 0;
}

/* Skip fields [from, n) of an array at the given depth. */
static int
rd_skip_tail(struct rd *r, size_t from, size_t n, int depth)
{
	for (size_t i = from; i < n; i++)
		if (rd_skip(r, depth) < 0)
			return -1;
	return 0;
}

static int
rd_id(struct rd *r, char out[WIRE_MAX_ID + 1])
{
	const char *s;
	size_t n;

	if (rd_str(r, &s, &n) < 0 || valid_id(s, n) != 0)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
rd_level(struct rd *r, char out[16])
{
	const char *s;
	size_t n;

	if (rd_str(r, &s, &n) < 0 || valid_level(s, n) < 0)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
rd_name(struct rd *r, char out[WIRE_MAX_NAME + 1])
{
	const char *s;
	size_t n;

	if (rd_str(r, &s, &n) < 0 || valid_unit_name(s, n) != 0)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
rd_who(struct rd *r, char out[WIRE_MAX_WHO + 1])
{
	const char *s;
	size_t n;

	if (rd_str(r, &s, &n) < 0 || !valid_who(s, n))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* successor: "" or an id. */
static int
rd_succ(struct rd *r, char out[WIRE_MAX_ID + 1])
{
	const char *s;
	size_t n;

	if (rd_str(r, &s, &n) < 0 || (n > 0 && valid_id(s, n) != 0))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
rd_year(struct rd *r, uint16_t *year)
{
	uint64_t y;

	if (rd_u64(r, &y) < 0 || valid_report_year((long long)y) != 0)
		return -1;
	*year = (uint16_t)y;
	return 0;
}

/* A report; the list holding it is at depth 2, so the report is at 3. */
static int
rd_report(struct rd *r, struct wire_report *rep)
{
	size_t n, npath, ncnt;
	uint64_t ver;

	if (rd_array(r, 1, &n) < 0 || n < REPORT_MIN_FIELDS)
		return -1;
	if (rd_id(r, rep->origin) < 0 || rd_level(r, rep->level) < 0 ||
	    rd_name(r, rep->name) < 0 || rd_year(r, &rep->year) < 0 ||
	    rd_u64(r, &ver) < 0 || rd_i64(r, &rep->updated_at) < 0)
		return -1;
	rep->version = ver;
	if (rd_array(r, 2, &npath) < 0 || npath < 1 || npath > WIRE_MAX_PATH)
		return -1;
	rep->path_len = (uint8_t)npath;
	for (size_t i = 0; i < npath; i++)
		if (rd_id(r, rep->path[i]) < 0)
			return -1;
	if (rd_array(r, 1, &ncnt) < 0 || ncnt < CDHT_WIRE_MIN_COUNTERS)
		return -1;
	rep->ncounters =
	    (uint8_t)(ncnt < CDHT_NCOUNTERS ? ncnt : CDHT_NCOUNTERS);
	for (size_t i = 0; i < ncnt; i++) {
		int64_t v;
		if (rd_i64(r, &v) < 0 || v < 0)
			return -1;
		if (i < CDHT_NCOUNTERS)
			rep->counters.v[i] = v;
	}
	/* field 9, filed_by, and 10, successor: absent from an older
	 * sender's report ("") */
	if (n >= REPORT_FILED_FIELDS && rd_who(r, rep->filed_by) < 0)
		return -1;
	if (n >= REPORT_FIELDS && rd_succ(r, rep->successor) < 0)
		return -1;
	if (rd_skip_tail(r, n < REPORT_FIELDS ? n : REPORT_FIELDS, n, 4) < 0 ||
	    !valid_report_rest(rep))
		return -1;
	return 0;
}

/* A key list at depth 2 ([origin, year] or [origin, year, version]). */
static int
rd_keys(struct rd *r, bool want, struct wire_key **out, size_t *nout)
{
	size_t n, arity = want ? 2 : 3;
	struct wire_key *k;

	if (rd_array(r, MIN_KEY_BYTES, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	if ((k = calloc(n, sizeof *k)) == NULL)
		return -2;
	*out = k; /* owned by the message from here on */
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		size_t m;
		if (rd_array(r, 1, &m) < 0 || m < arity ||
		    rd_id(r, k[i].origin) < 0 || rd_year(r, &k[i].year) < 0)
			return -1;
		if (!want && (rd_u64(r, &k[i].version) < 0 || k[i].version < 1))
			return -1;
		if (rd_skip_tail(r, arity, m, 4) < 0)
			return -1;
	}
	return 0;
}

static int
rd_reports(struct rd *r, struct wire_msg *msg)
{
	size_t n;

	if (rd_array(r, MIN_REPORT_BYTES, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	if ((msg->reports = calloc(n, sizeof *msg->reports)) == NULL)
		return -2;
	msg->nreports = n;
	for (size_t i = 0; i < n; i++)
		if (rd_report(r, &msg->reports[i]) < 0)
			return -1;
	return 0;
}

int
wire_decode(const char *buf, size_t len, struct wire_msg *msg)
{
	struct rd r;
	size_t n;
	bool neg;
	uint64_t version, type;
	int64_t sversion;
	int rc = 0;

	memset(msg, 0, sizeof *msg);
	if (buf == NULL || len == 0 || len > WIRE_MAX_MSG)
		return WIRE_EMALFORMED;
	r.p = (const unsigned char *)buf;
	r.end = r.p + len;

	if (rd_array(&r, 1, &n) < 0 || n < 1 ||
	    rd_num(&r, &neg, &version, &sversion) < 0)
		goto malformed;
	if (neg || version != WIRE_VERSION) {
		/* Only the version's position is fixed forever; the rest must
		 * merely be well-formed msgpack. */
		if (rd_skip_tail(&r, 1, n, 2) < 0 || r.p != r.end)
			goto malformed;
		return WIRE_EVERSION;
	}
	if (n < 2 || rd_u64(&r, &type) < 0 || type < 1 ||
	    type > WIRE_TYPE_MAX || n < wire_arity[type])
		goto malformed;
	msg->type = (int)type;

	switch (type) {
	case WIRE_HELLO:
		if (rd_id(&r, msg->id) < 0 || rd_level(&r, msg->level) < 0 ||
		    rd_name(&r, msg->name) < 0)
			goto malformed;
		rc = rd_keys(&r, false, &msg->keys, &msg->nkeys);
		break;
	case WIRE_WELCOME:
		if (rd_id(&r, msg->id) < 0)
			goto malformed;
		rc = rd_keys(&r, true, &msg->keys, &msg->nkeys);
		if (rc == 0)
			rc = rd_keys(&r, false, &msg->own, &msg->nown);
		msg->revision = 1; /* absent: release 0.1.0 or 0.2.0 */
		if (rc == 0 && n >= WELCOME_FIELDS) {
			uint64_t rev;
			if (rd_u64(&r, &rev) < 0 || rev < 1 || rev > UINT32_MAX)
				goto malformed;
			msg->revision = (uint32_t)rev;
		}
		break;
	case WIRE_REPORTS:
		if (rd_u64(&r, &msg->seq) < 0)
			goto malformed;
		rc = rd_reports(&r, msg);
		if (rc == 0)
			rc = rd_keys(&r, false, &msg->keys, &msg->nkeys);
		break;
	case WIRE_ACK: {
		uint64_t refused;
		if (rd_u64(&r, &msg->seq) < 0 || rd_u64(&r, &refused) < 0 ||
		    refused > UINT32_MAX)
			goto malformed;
		msg->refused = (uint32_t)refused;
		break;
	}
	default: /* PING, PONG, RESYNC: no fields */
		break;
	}
	if (rc == -2)
		goto nomem;
	if (rc < 0 ||
	    rd_skip_tail(&r,
	        type == WIRE_WELCOME && n >= WELCOME_FIELDS ? WELCOME_FIELDS
	                                                    : wire_arity[type],
	        n, 2) < 0 ||
	    r.p != r.end)
		goto malformed;
	return WIRE_OK;

malformed:
	wire_msg_free(msg);
	memset(msg, 0, sizeof *msg);
	return WIRE_EMALFORMED;
nomem:
	wire_msg_free(msg);
	memset(msg, 0, sizeof *msg);
	return WIRE_ENOMEM;
}

void
wire_msg_free(struct wire_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->keys);
	free(msg->own);
	free(msg->reports);
	msg->keys = NULL;
	msg->own = NULL;
	msg->reports = NULL;
	msg->nkeys = 0;
	msg->nown = 0;
	msg->nreports = 0;
}

const char *
wire_strerror(int err)
{
	switch (err) {
	case WIRE_OK:
		return "success";
	case WIRE_EMALFORMED:
		return "malformed message";
	case WIRE_EVERSION:
		return "unsupported protocol version";
	case WIRE_ENOMEM:
		return "out of memory";
	default:
		return "unknown wire error";
	}
}

int
wire_peek_type(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i;

	if (len < 3)
		return -1;
	if (p[0] >= 0x92 && p[0] <= 0x9f)
		i = 1;
	else if (p[0] == 0xdc && len >= 5)
		i = 3;
	else if (p[0] == 0xdd && len >= 7)
		i = 5;
	else
		return -1;
	if (p[i] != WIRE_VERSION || p[i + 1] < WIRE_HELLO ||
	    p[i + 1] > WIRE_RESYNC)
		return -1;
	return p[i + 1];
}
