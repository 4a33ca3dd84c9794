/*
 * value.h: the byte encoding of stored values (schema 2 and later).
 *
 * Every value a table holds starts with a format byte owned by the table's
 * module, then fields written with these helpers: unsigned integers as
 * LEB128 varints, signed ones zigzag-encoded, strings as a varint length and
 * the bytes, counters as a varint count and that many signed varints (a
 * value written when fewer counters existed reads back zero-filled).  The
 * reader never trusts its input: every read is checked against the end, the
 * first failure is sticky, and vr_done() says whether the whole value was a
 * well-formed instance.  proto/PROTOCOL.md "Stored data" is the reference.
 */
#ifndef CDHT_VALUE_H
#define CDHT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

#define VALUE_MAX 2048 /* no stored value (but the audit's) is longer */

/* A writer over a caller-owned buffer; overflow sets err. */
struct vw {
	unsigned char *p;
	size_t len, cap;
	int err;
};

/* A reader over a value owned by the caller (usually the transaction). */
struct vr {
	const unsigned char *p, *end;
	int err;
};

void vw_init(struct vw *w, void *buf, size_t cap);
void vw_u8(struct vw *w, uint8_t v);
void vw_uint(struct vw *w, uint64_t v);
void vw_int(struct vw *w, int64_t v);
void vw_bytes(struct vw *w, const void *s, size_t n);
/* A NUL-terminated string. */
void vw_str(struct vw *w, const char *s);
/* The first n counters of c. */
void vw_counters(struct vw *w, const struct cdht_counters *c, unsigned n);

void vr_init(struct vr *r, const void *v, size_t vl);
uint8_t vr_u8(struct vr *r);
uint64_t vr_uint(struct vr *r);
int64_t vr_int(struct vr *r);
/* A string of at most cap - 1 bytes into dst, NUL-terminated; a longer one
 * or one holding a NUL is an error.  Returns its length. */
size_t vr_str(struct vr *r, char *dst, size_t cap);
/* Counters into *c (zeroed first; counters beyond what this node knows are
 * an error); *n gets how many the value held (may be NULL). */
void vr_counters(struct vr *r, struct cdht_counters *c, unsigned *n);
/* 0 if every read succeeded and the value was read to its end, else -1. */
int vr_done(const struct vr *r);

/* The common one-number value: format byte fmt, then an unsigned integer.
 * vw_fmt_uint writes it into buf (at least 11 bytes) and returns its
 * length; vr_fmt_uint reads it into *out and returns 0, or -1 when v is not
 * exactly that. */
size_t vw_fmt_uint(void *buf, uint8_t fmt, uint64_t v);
int vr_fmt_uint(const void *v, size_t vl, uint8_t fmt, uint64_t *out);

#endif
