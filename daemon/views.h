/*
 * views.h: the JSON documents the API answers with, built from the store:
 * progress (with drill-down and coverage), the node list, one assessment.
 * The *_write functions append the document as JSON text to a writer the
 * caller owns (jsonw.h); the others return a new jansson reference the
 * caller owns, or NULL when out of memory or the store failed.
 */
#ifndef CDHT_VIEWS_H
#define CDHT_VIEWS_H

#include <jansson.h>

#include "conf.h"
#include "jsonw.h"
#include "rules.h"
#include "store.h"

/* Link state of one direct child, as the downlink sees it. */
typedef void (*views_link_fn)(
    void *arg, const char *child, int *connected, int64_t *last_seen);

/* "2026-11-21T10:00:00Z" into buf (>= 21 bytes). */
void views_iso_time(int64_t t, char *buf, size_t size);

/*
 * GET /v1/progress?year=Y[&depth=D][&node=ID]; depth < 0: no drill-down,
 * coverage or deadline.  node: a unit of this node's subtree to answer
 * for (NULL or this node's id: this node).  link gives the direct
 * children's link state (NULL: none).  On NULL, *rc says why:
 * STORE_NOTFOUND when node is not in the subtree, else a store error.
 */
json_t *views_progress(struct store_txn *t, const struct conf *c, int year,
    int depth, const char *node, int64_t now, views_link_fn link,
    void *link_arg, int *rc);

/* The same document written to w: STORE_OK, STORE_NOTFOUND (node is not
 * in the subtree) or STORE_EIO (the store, or w failed).  On an error w
 * may hold part of a document: free it. */
int views_progress_write(struct jsonw *w, struct store_txn *t,
    const struct conf *c, int year, int depth, const char *node, int64_t now,
    views_link_fn link, void *link_arg);

/* GET /v1/nodes. */
json_t *views_nodes(struct store_txn *t, const struct conf *c,
    views_link_fn link, void *link_arg);

/* The same written to w, with "uplink": uplink last when not NULL (the
 * caller keeps it): STORE_OK or STORE_EIO. */
int views_nodes_write(struct jsonw *w, struct store_txn *t,
    const struct conf *c, views_link_fn link, void *link_arg, json_t *uplink);

/* One stored assessment as the API shows it. */
json_t *views_assessment(const struct assessment *a);

/* The result of a submission: year, person_id, total, recognized, outstanding.
 */
json_t *views_result(const struct assessment *a);
/* views_result as the text json_dumps (JSON_COMPACT) makes of it, written
 * without jansson: the caller frees it with jsonw_text_free; NULL if out
 * of memory.  *len gets its length. */
char *views_result_text(const struct assessment *a, size_t *len);

#endif
