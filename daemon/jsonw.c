/*
 * jsonw.c: the direct JSON writer (see jsonw.h): one buffer grown by
 * doubling (large ones mapped on their own, with huge pages, the last one
 * freed kept for the next), or for a streamed document a run of pieces
 * handed to its sink (pieces freed kept for the next ones), commas
 * tracked per open container, integers written in place, strings escaped
 * as jansson's dump does.  The buffer is the writer's until jsonw_take
 * (a piece, until its sink takes it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "jsonw.h"

/*
 * Every buffer starts JSONW_HDR bytes into its allocation, after a header
 * that says how it was made, so jsonw_text_free needs only the text.
 * From JSONW_MAP_MIN on a buffer is a mapping of its own (grown by
 * mremap, no copy) that asks for transparent huge pages: a drill-down of
 * megabytes then takes a few page faults instead of thousands, and its
 * memory goes back to the system when it is freed instead of staying in
 * malloc's heap.  The last such mapping freed is kept (spare) for the
 * next large buffer, until jsonw_spare_release: a fresh mapping costs the
 * kernel a fault and the zeroing of every page (about a millisecond per
 * 9 MB drill-down), a kept one nothing.
 */
#define JSONW_HDR     64
#define JSONW_MAP_MIN ((size_t)1 << 20)
#define JSONW_HUGE    ((size_t)2 << 20)

struct hdr {
	size_t size; /* of the allocation, header included */
	int mapped;  /* 1: a mapping; 2: a piece (malloc'd, see below) */
};

static char *
hdr_text(void *base)
{
	return (char *)base + JSONW_HDR;
}

static struct hdr *
text_hdr(const char *text)
{
	return (struct hdr *)(void *)(text - JSONW_HDR);
}

/* The spare mapping (a header with mapped = 1), or NULL; how many
 * mappings are buffers or texts now (not the spare). */
static _Atomic(struct hdr *) spare;
static atomic_int live_maps;

/*
 * A streamed writer's pieces (jsonw_set_sink) are buffers of JSONW_PIECE
 * text bytes, kept when freed (up to PIECE_KEEP) for the next piece: the
 * reply holds a piece until the socket took it, and fresh memory would
 * cost a fault per page of every piece.  live_pieces: pieces in use.
 */
#define PIECE_KEEP 64

static struct hdr *pieces[PIECE_KEEP];
static int npieces;
static atomic_flag pieces_lock = ATOMIC_FLAG_INIT;
static atomic_int live_pieces;

static void
pieces_lock_take(void)
{
	while (atomic_flag_test_and_set(&pieces_lock))
		;
}

/* A piece, kept or new; its text's address, NULL when out of memory. */
static char *
piece_get(void)
{
	struct hdr *h = NULL;

	pieces_lock_take();
	if (npieces > 0)
		h = pieces[--npieces];
	atomic_flag_clear(&pieces_lock);
	if (h == NULL && (h = malloc(JSONW_PIECE + JSONW_HDR)) != NULL) {
		h->size = JSONW_PIECE + JSONW_HDR;
		h->mapped = 2;
	}
	if (h == NULL)
		return NULL;
	atomic_fetch_add(&live_pieces, 1);
	return hdr_text(h);
}

static void
piece_put(struct hdr *h)
{
	atomic_fetch_sub(&live_pieces, 1);
	pieces_lock_take();
	if (npieces < PIECE_KEEP) {
		pieces[npieces++] = h;
		h = NULL;
	}
	atomic_flag_clear(&pieces_lock);
	free(h);
}

int
jsonw_spare_release(void)
{
	struct hdr *h = atomic_exchange(&spare, NULL);
	struct hdr *kept[PIECE_KEEP];
	int n;

	if (h != NULL)
		munmap(h, h->size);
	pieces_lock_take();
	n = npieces;
	memcpy(kept, pieces, (size_t)n * sizeof(*kept));
	npieces = 0;
	atomic_flag_clear(&pieces_lock);
	while (n > 0)
		free(kept[--n]);
	return atomic_load(&live_maps) + atomic_load(&live_pieces);
}

int
jsonw_spare_held(void)
{
	int kept;

	pieces_lock_take();
	kept = npieces;
	atomic_flag_clear(&pieces_lock);
	return atomic_load(&spare) != NULL || atomic_load(&live_maps) > 0 ||
	       kept > 0 || atomic_load(&live_pieces) > 0;
}

/* A mapping of at least *size bytes (*size: what it holds), the spare
 * when it is large enough; NULL when out of memory. */
static void *
map_new(size_t *size)
{
	struct hdr *h = atomic_exchange(&spare, NULL);
	void *p;

	if (h != NULL && h->size >= *size) {
		*size = h->size;
		return h;
	}
	if (h != NULL)
		munmap(h, h->size);
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, *size, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
	return p;
}

/* A buffer of at least cap text bytes: the text's address, NULL when out
 * of memory.  old (a text or NULL) keeps its first len bytes. */
static char *
buf_realloc(char *old, size_t len, size_t cap)
{
	size_t size = cap + JSONW_HDR;
	struct hdr *h = old ? text_hdr(old) : NULL;
	void *base;

	if (cap > SIZE_MAX - JSONW_HDR - JSONW_HUGE)
		return NULL;
	if (size < JSONW_MAP_MIN) {
		int was_piece = h != NULL && h->mapped == 2;

		if ((base = realloc(h, size)) == NULL)
			return NULL;
		if (was_piece)
			atomic_fetch_sub(&live_pieces, 1); /* a piece no more */
		((struct hdr *)base)->size = size;
		((struct hdr *)base)->mapped = 0;
		return hdr_text(base);
	}
	size = (size + JSONW_HUGE - 1) / JSONW_HUGE * JSONW_HUGE;
	if (h != NULL && h->mapped == 1 && h->size >= size)
		return old; /* the spare it came from holds it already */
	if (h != NULL && h->mapped == 1) {
		base = mremap(h, h->size, size, MREMAP_MAYMOVE);
		if (base == MAP_FAILED)
			return NULL;
#ifdef MADV_HUGEPAGE
		madvise(base, size, MADV_HUGEPAGE);
#endif
	} else {
		if ((base = map_new(&size)) == NULL)
			return NULL;
		atomic_fetch_add(&live_maps, 1);
		if (h != NULL) {
			memcpy(hdr_text(base), old, len);
			jsonw_text_free(old);
		}
	}
	((struct hdr *)base)->size = size;
	((struct hdr *)base)->mapped = 1;
	return hdr_text(base);
}

void
jsonw_text_free(char *text)
{
	struct hdr *h;

	if (text == NULL)
		return;
	h = text_hdr(text);
	if (h->mapped == 2)
		piece_put(h);
	else if (h->mapped) {
		/* kept for the next; the one kept before goes */
		struct hdr *old = atomic_exchange(&spare, h);

		atomic_fetch_sub(&live_maps, 1);

		if (old != NULL)
			munmap(old, old->size);
	} else
		free(h);
}

void
jsonw_init(struct jsonw *w, size_t hint)
{
	memset(w, 0, sizeof(*w));
	w->cap = hint > 256 ? hint : 256;
	if ((w->buf = buf_realloc(NULL, 0, w->cap)) == NULL) {
		w->cap = 0;
		w->failed = 1;
	}
}

void
jsonw_free(struct jsonw *w)
{
	jsonw_text_free(w->buf);
	memset(w, 0, sizeof(*w));
	w->failed = 1;
}

void
jsonw_set_sink(struct jsonw *w, jsonw_sink_fn fn, void *arg)
{
	char *b;

	if (w->failed || w->len != 0 || (b = piece_get()) == NULL) {
		w->failed = 1;
		return;
	}
	jsonw_text_free(w->buf);
	w->buf = b;
	w->cap = JSONW_PIECE;
	w->sink = fn;
	w->sink_arg = arg;
}

char *
jsonw_take(struct jsonw *w, size_t *len)
{
	char *s = NULL;

	if (!w->failed && w->depth == 0 && !w->after_key &&
	    jsonw_reserve(w, 1) == 0) {
		w->buf[w->len] = '\0';
		s = w->buf;
		if (len != NULL)
			*len = w->len;
		w->buf = NULL;
	}
	jsonw_free(w);
	return s;
}

int
jsonw_grow(struct jsonw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;
	char *b;

	if (w->failed)
		return -1;
	if (w->sink != NULL && w->len > 0) {
		/* the piece goes (the sink's now, even when it fails) */
		char *full = w->buf;
		size_t len = w->len;

		w->buf = piece_get();
		w->len = 0;
		w->cap = w->buf != NULL ? JSONW_PIECE : 0;
		if (w->sink(w->sink_arg, full, len) != 0 || w->buf == NULL) {
			w->failed = 1;
			return -1;
		}
		if (w->cap > n)
			return 0;
		cap = w->cap;
	}
	while (cap - w->len <= n) {
		if (cap > SIZE_MAX / 4) {
			w->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	if ((b = buf_realloc(w->buf, w->len, cap)) == NULL) {
		w->failed = 1;
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

static inline void
put1(struct jsonw *w, char c)
{
	if (jsonw_reserve(w, 1) == 0)
		w->buf[w->len++] = c;
}

static inline void
sep(struct jsonw *w)
{
	jsonw_sep(w);
}

static void
open_c(struct jsonw *w, char c)
{
	sep(w);
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	put1(w, c);
	w->more[++w->depth] = 0;
}

static void
close_c(struct jsonw *w, char c)
{
	if (w->depth <= 0 || w->after_key) {
		w->failed = 1;
		return;
	}
	w->depth--;
	put1(w, c);
}

void
jsonw_obj_begin(struct jsonw *w)
{
	open_c(w, '{');
}

void
jsonw_obj_end(struct jsonw *w)
{
	close_c(w, '}');
}

void
jsonw_arr_begin(struct jsonw *w)
{
	open_c(w, '[');
}

void
jsonw_arr_end(struct jsonw *w)
{
	close_c(w, ']');
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	size_t n = strlen(key);

	sep(w);
	if (jsonw_reserve(w, n + 3) != 0)
		return;
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, key, n);
	w->len += n;
	w->buf[w->len++] = '"';
	w->buf[w->len++] = ':';
	w->after_key = 1;
}

/* Length of the valid UTF-8 sequence at s (lim: its end), as jansson's
 * utf8_iterate accepts it (no overlong forms, surrogates or code points
 * above U+10FFFF); 0 when invalid. */
static size_t
utf8_len(const unsigned char *s, const unsigned char *lim)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(lim - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* The string s[0..n) quoted; bytes that are not valid UTF-8 become
 * U+FFFD (jansson would refuse the string). */
static void
put_string(struct jsonw *w, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *lim = s + n;
	const unsigned char *run;

	/* worst case 6 bytes out per byte in, plus the quotes */
	if (n > (SIZE_MAX - 2) / 6 || jsonw_reserve(w, 6 * n + 2) != 0) {
		w->failed = 1;
		return;
	}
	char *o = w->buf + w->len;
	*o++ = '"';
	while (s < lim) {
		run = s;
		while (s < lim && *s >= 0x20 && *s < 0x80 && *s != '"' &&
		       *s != '\\')
			s++;
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		if (s == lim)
			break;
		if (*s >= 0x80) {
			size_t k = utf8_len(s, lim);
			if (k == 0) {
				/* EF BF BD: 3 bytes for 1 in, within 6 */
				memcpy(o, "\xEF\xBF\xBD", 3);
				o += 3;
				s++;
			} else {
				memcpy(o, s, k);
				o += k;
				s += k;
			}
			continue;
		}
		*o++ = '\\';
		switch (*s) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		}
		s++;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void
jsonw_key_str(struct jsonw *w, const char *key)
{
	sep(w);
	put_string(w, key, strlen(key));
	put1(w, ':');
	w->after_key = 1;
}

void
jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	sep(w);
	put_string(w, s, n);
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_strn(w, s, strlen(s));
}

void
jsonw_str_or_null(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_str(w, s);
}

static const char digits2[] = "00010203040506070809"
                              "10111213141516171819"
                              "20212223242526272829"
                              "30313233343536373839"
                              "40414243444546474849"
                              "50515253545556575859"
                              "60616263646566676869"
                              "70717273747576777879"
                              "80818283848586878889"
                              "90919293949596979899";

/* The number of decimal digits of v. */
static unsigned
ndigits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* The digits of v written in place, last pair first: no copy. */
static size_t
fmt_uint(char *buf, uint64_t v)
{
	size_t n = ndigits(v);
	char *p = buf + n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, digits2 + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(p - 2, digits2 + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return n;
}

size_t
jsonw_fmt_int(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		/* -(v + 1) + 1: no overflow at INT64_MIN */
		return 1 + fmt_uint(buf + 1, (uint64_t)(-(v + 1)) + 1);
	}
	return fmt_uint(buf, (uint64_t)v);
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	sep(w);
	if (jsonw_reserve(w, 21) == 0)
		w->len += jsonw_fmt_int(w->buf + w->len, v);
}

void
jsonw_uint(struct jsonw *w, uint64_t v)
{
	sep(w);
	if (jsonw_reserve(w, 21) == 0)
		w->len += fmt_uint(w->buf + w->len, v);
}

void
jsonw_bool(struct jsonw *w, int v)
{
	sep(w);
	if (v)
		jsonw_raw(w, "true", 4);
	else
		jsonw_raw(w, "false", 5);
}

void
jsonw_null(struct jsonw *w)
{
	sep(w);
	jsonw_raw(w, "null", 4);
}

/* jansson's jsonp_dtostr with precision 10 ("C" locale: the daemon never
 * calls setlocale). */
static size_t
real_slow(char *buf, size_t size, double v)
{
	int r = snprintf(buf, size, "%.10g", v);
	size_t len;
	char *start, *end;

	if (r < 0 || (size_t)r >= size - 3)
		return 0;
	len = (size_t)r;
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		buf[len++] = '.';
		buf[len++] = '0';
		buf[len] = '\0';
	}
	/* no '+' or leading zeros in the exponent */
	if ((start = strchr(buf, 'e')) != NULL) {
		start++;
		end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - buf) + 1);
			len -= (size_t)(end - start);
		}
	}
	return len;
}

size_t
jsonw_fmt_real(char *buf, double v)
{
	size_t n = 0;

	if (!isfinite(v))
		return 0;
	/* the fast path: hundredths below 1e7 (a percent from rules.c), which
	 * "%.10g" prints exactly, trailing zeros dropped */
	if (fabs(v) < 1e7) {
		double h = v * 100.0;
		int64_t c = (int64_t)(h < 0 ? h - 0.5 : h + 0.5);

		if ((double)c / 100.0 == v) {
			uint64_t a = c < 0 ? (uint64_t)(-c) : (uint64_t)c;
			unsigned frac = (unsigned)(a % 100);

			if (c < 0 || (c == 0 && signbit(v)))
				buf[n++] = '-';
			n += fmt_uint(buf + n, a / 100);
			buf[n++] = '.';
			buf[n++] = (char)('0' + frac / 10);
			if (frac % 10 != 0)
				buf[n++] = (char)('0' + frac % 10);
			return n;
		}
	}
	return real_slow(buf, 40, v);
}

void
jsonw_real(struct jsonw *w, double v)
{
	char buf[40];
	size_t n;

	sep(w);
	if ((n = jsonw_fmt_real(buf, v)) == 0) {
		w->failed = 1;
		return;
	}
	jsonw_raw(w, buf, n);
}

void
jsonw_value_raw(struct jsonw *w, const char *s, size_t n)
{
	sep(w);
	jsonw_raw(w, s, n);
}
