/*
 * api_batch.h: one POST of records of one kind (assessments, title
 * records): a JSON object, a JSON array, or CSV, with ?dry_run=1.  The
 * kind says how to read, store and show one item; api_batch.c does the
 * rest, the same way for every kind: per-item errors naming the index or
 * line, CSV repeats refused, one reply after the turn's commit.
 */
#ifndef CDHT_API_BATCH_H
#define CDHT_API_BATCH_H

#include "api.h"
#include "input.h"

struct batch_kind {
	size_t item_size; /* bytes of one parsed item */
	/* the CSV header is valid for this kind: 0, or -1 with e */
	int (*csv_header)(char *const *hdr, size_t n, struct input_err *e);
	/* a CSV row as the object parse takes (new reference), NULL with e;
	 * unused when csv_parse is set */
	json_t *(*csv_row)(char *const *hdr, char *const *cells, size_t n,
	    struct input_err *e);
	/* or a CSV row straight into item (no JSON between): 0, -1 with e */
	int (*csv_parse)(struct http_api *h, char *const *hdr,
	    char *const *cells, size_t n, void *item, struct input_err *e);
	/* the object into item: 0, or -1 with e */
	int (*parse)(struct http_api *h, const json_t *obj, void *item,
	    struct input_err *e);
	/* optional: a body of one object read straight into item, 0; or 1:
	 * read it with json_loadb and parse instead (never an error) */
	int (*parse_text)(
	    struct http_api *h, const char *body, size_t len, void *item);
	/* the identity of item for CSV repeats: year, key bytes into buf */
	size_t (*key)(const void *item, long *year, char *buf, size_t cap);
	/* store item in t: STORE_OK, a records_refusal or a store error */
	int (*store)(
	    struct store_txn *t, const struct records_actor *act, void *item);
	/* e for a refusal rc of item (409 when it is the whole request) */
	void (*refused)(const void *item, int rc, struct input_err *e);
	/* the stored item as the reply shows it (new reference) */
	json_t *(*result)(const void *item);
	/* optional: the same as JSON text (the caller frees it with
	 * jsonw_text_free), NULL if out of memory */
	char *(*result_text)(const void *item, size_t *len);
};

/* POST of kind k: answers the request (now or after the commit). */
void api_batch_post(struct http_api *h, struct evhttp_request *req,
    const char *who, const struct batch_kind *k);

#endif
