/*
 * jsonw.h: a direct JSON writer.  Values are appended as text to one
 * growing buffer, with no value tree: what jansson's json_dumps(...,
 * JSON_COMPACT | JSON_REAL_PRECISION(10)) would print for the same values
 * (no spaces, UTF-8 passed through, '"' '\\' and control characters
 * escaped, reals as "%.10g" with ".0" when that has no '.' or 'e').
 *
 * The writer tracks commas itself: keys and values are written in order
 * and jsonw_key / a value in an array put the comma before them.  A
 * failure (out of memory, nesting beyond JSONW_MAX_DEPTH, a non-finite
 * real) is sticky: jsonw_failed says so and jsonw_take answers NULL.
 * The buffer is the writer's until jsonw_take hands it to the caller
 * (release it with jsonw_text_free, not free()); jsonw_free releases it
 * otherwise.
 */
#ifndef CDHT_JSONW_H
#define CDHT_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSONW_MAX_DEPTH 64

/* Where a streamed document's pieces go (jsonw_set_sink): the sink takes
 * text (len bytes; released with jsonw_text_free) even when it fails;
 * 0, or -1 to fail the writer. */
typedef int (*jsonw_sink_fn)(void *arg, char *text, size_t len);
/* The text bytes of a streamed writer's pieces. */
#define JSONW_PIECE ((size_t)256 * 1024)

struct jsonw {
	char *buf;
	size_t len, cap;
	jsonw_sink_fn sink; /* NULL: the whole text stays in buf */
	void *sink_arg;
	int failed;
	int depth;
	int after_key; /* a key was written: its value takes no comma */
	/* per open container: 1 once it holds an element (a comma is due) */
	unsigned char more[JSONW_MAX_DEPTH + 1];
};

/* An empty writer; hint: the bytes expected (0: a small default). */
void jsonw_init(struct jsonw *w, size_t hint);
void jsonw_free(struct jsonw *w);
/* The text (NUL-terminated, *len without it) or NULL when it failed; the
 * writer is empty afterwards. */
char *jsonw_take(struct jsonw *w, size_t *len);
/* Release a text jsonw_take gave (NULL: nothing).  A large one (a
 * mapping of its own, from 1 MiB) is kept as the spare for the next large
 * buffer, the spare kept before it unmapped. */
void jsonw_text_free(char *text);
/* Unmap the spare (none: nothing), when no large document is expected
 * soon, so that its memory goes back to the system.  Returns how many
 * large buffers are in use still (each becomes the spare when freed). */
int jsonw_spare_release(void);
/* 1 while there is a spare or a large buffer that will become it. */
int jsonw_spare_held(void);

static inline int
jsonw_failed(const struct jsonw *w)
{
	return w->failed;
}

/*
 * Stream the document (w fresh from jsonw_init): it is written into
 * pieces of JSONW_PIECE bytes, and each piece that needs room goes to
 * fn(arg, text, len) as it is, the next piece taking over; a value larger
 * than a piece grows the buffer as usual.  The pieces are in order and end
 * anywhere in the text; jsonw_take answers the rest.  Pieces freed are
 * kept for the next ones (jsonw_spare_release lets them go).  A failed fn
 * fails the writer.
 */
void jsonw_set_sink(struct jsonw *w, jsonw_sink_fn fn, void *arg);

static inline int
jsonw_streamed(const struct jsonw *w)
{
	return w->sink != NULL;
}

/* Room for n more bytes; 0, or -1 (failed) when out of memory or when the
 * sink failed. */
int jsonw_grow(struct jsonw *w, size_t n);

static inline int
jsonw_reserve(struct jsonw *w, size_t n)
{
	return w->cap - w->len > n ? 0 : jsonw_grow(w, n);
}

/* Bytes as they are (a prepared fragment of JSON). */
static inline void
jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_reserve(w, n) != 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* The comma before a value or key, if one is due (for the inline writers
 * below). */
static inline void
jsonw_sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->more[w->depth])
		jsonw_raw(w, ",", 1);
	w->more[w->depth] = 1;
}

/* A prepared key: s is "\"key\":" of n bytes (JSONW_KEY builds it from a
 * literal, its length known when compiled). */
static inline void
jsonw_key_raw(struct jsonw *w, const char *s, size_t n)
{
	jsonw_sep(w);
	jsonw_raw(w, s, n);
	w->after_key = 1;
}
#define JSONW_KEY(w, lit) \
	jsonw_key_raw((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)

/* A prepared value (a literal of JSON text, e.g. a constant object). */
static inline void
jsonw_value_lit(struct jsonw *w, const char *s, size_t n)
{
	jsonw_sep(w);
	jsonw_raw(w, s, n);
}

/*
 * A value of known shape written in one go: jsonw_open_raw takes the
 * comma due and room for max bytes, and answers where to write (NULL when
 * the writer failed: write nothing); jsonw_close_raw(w, end) ends it.
 * JSONW_LIT, jsonw_put_int and jsonw_put_real append to such a cursor
 * (they check nothing: max must hold them).
 */
static inline char *
jsonw_open_raw(struct jsonw *w, size_t max)
{
	jsonw_sep(w);
	return jsonw_reserve(w, max) == 0 ? w->buf + w->len : NULL;
}

static inline void
jsonw_close_raw(struct jsonw *w, char *end)
{
	w->len = (size_t)(end - w->buf);
}

static inline char *
jsonw_put(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}
#define JSONW_LIT(o, lit) jsonw_put((o), (lit), sizeof(lit) - 1)

size_t jsonw_fmt_int(char *buf, int64_t v);
/* "%.10g" as jansson prints it into buf (>= 40 bytes): the length, 0 for
 * a non-finite v. */
size_t jsonw_fmt_real(char *buf, double v);

/* 0..99 (most counts of a unit) inline, the rest by jsonw_fmt_int. */
static inline char *
jsonw_put_int(char *o, int64_t v)
{
	if (v >= 0 && v < 10) {
		*o = (char)('0' + v);
		return o + 1;
	}
	if (v >= 10 && v < 100) {
		o[0] = (char)('0' + v / 10);
		o[1] = (char)('0' + v % 10);
		return o + 2;
	}
	return o + jsonw_fmt_int(o, v);
}

void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);

/* "key": inside an object.  key must need no escaping (a literal of
 * [0-9A-Za-z_]) unless written with jsonw_key_str. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_key_str(struct jsonw *w, const char *key);

/* Values: in an array each takes its comma; after jsonw_key none. */
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
/* s, or null when s is NULL */
void jsonw_str_or_null(struct jsonw *w, const char *s);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_bool(struct jsonw *w, int v);
void jsonw_null(struct jsonw *w);
/* "%.10g" as jansson prints it; a non-finite v fails the writer (jansson
 * refuses to make such a real). */
void jsonw_real(struct jsonw *w, double v);
/* A value already written as JSON text (e.g. another writer's buffer). */
void jsonw_value_raw(struct jsonw *w, const char *s, size_t n);

/* jsonw_fmt_int: the decimal digits of v into buf (>= 21 bytes); the
 * length.  Not terminated. */

#endif
