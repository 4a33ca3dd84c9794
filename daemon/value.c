/*
 * value.c: the bounded writer and reader of stored values (see value.h).
 */
#include <string.h>

#include "value.h"

void
vw_init(struct vw *w, void *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->err = 0;
}

void
vw_bytes(struct vw *w, const void *s, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = -1;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void
vw_u8(struct vw *w, uint8_t v)
{
	vw_bytes(w, &v, 1);
}

void
vw_uint(struct vw *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	vw_bytes(w, b, n);
}

void
vw_int(struct vw *w, int64_t v)
{
	uint64_t u = (uint64_t)v;

	vw_uint(w, (u << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

void
vw_str(struct vw *w, const char *s)
{
	size_t n = strlen(s);

	vw_uint(w, n);
	vw_bytes(w, s, n);
}

void
vw_counters(struct vw *w, const struct cdht_counters *c, unsigned n)
{
	if (n > CDHT_NCOUNTERS)
		n = CDHT_NCOUNTERS;
	vw_uint(w, n);
	for (unsigned i = 0; i < n; i++)
		vw_int(w, c->v[i]);
}

void
vr_init(struct vr *r, const void *v, size_t vl)
{
	r->p = v;
	r->end = r->p + vl;
	r->err = v == NULL && vl > 0 ? -1 : 0;
}

uint8_t
vr_u8(struct vr *r)
{
	if (r->err || r->p >= r->end) {
		r->err = -1;
		return 0;
	}
	return *r->p++;
}

uint64_t
vr_uint(struct vr *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = vr_u8(r);

		if (r->err)
			return 0;
		/* the tenth byte may hold only the top bit */
		if (shift == 63 && b > 1) {
			r->err = -1;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->err = -1;
	return 0;
}

int64_t
vr_int(struct vr *r)
{
	uint64_t u = vr_uint(r);

	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

size_t
vr_str(struct vr *r, char *dst, size_t cap)
{
	uint64_t n = vr_uint(r);

	dst[0] = '\0';
	if (r->err || n >= cap || n > (uint64_t)(r->end - r->p) ||
	    memchr(r->p, 0, (size_t)n) != NULL) {
		r->err = -1;
		return 0;
	}
	memcpy(dst, r->p, (size_t)n);
	dst[n] = '\0';
	r->p += n;
	return (size_t)n;
}

void
vr_counters(struct vr *r, struct cdht_counters *c, unsigned *np)
{
	uint64_t n = vr_uint(r);

	memset(c, 0, sizeof(*c));
	if (np != NULL)
		*np = 0;
	if (r->err || n > CDHT_NCOUNTERS) {
		r->err = -1;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		c->v[i] = vr_int(r);
	if (np != NULL && !r->err)
		*np = (unsigned)n;
}

int
vr_done(const struct vr *r)
{
	return r->err || r->p != r->end ? -1 : 0;
}

size_t
vw_fmt_uint(void *buf, uint8_t fmt, uint64_t v)
{
	struct vw w;

	vw_init(&w, buf, 11);
	vw_u8(&w, fmt);
	vw_uint(&w, v);
	return w.len;
}

int
vr_fmt_uint(const void *v, size_t vl, uint8_t fmt, uint64_t *out)
{
	struct vr r;

	vr_init(&r, v, vl);
	if (vr_u8(&r) != fmt)
		r.err = -1;
	*out = vr_uint(&r);
	return vr_done(&r);
}
