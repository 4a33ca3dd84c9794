/*
 * views.h: the JSON documents the API answers with, built from the store:
 * progress (with drill-down and coverage), the node list, one assessment.
 * Every function returns a new jansson reference the caller owns, or NULL
 * when out of memory or the store failed.
 */
#ifndef CDHT_VIEWS_H
#define CDHT_VIEWS_H

#include <jansson.h>

#include "conf.h"
#include "rules.h"
#include "store.h"

/* Link state of one direct child, as the downlink sees it. */
typedef void (*views_link_fn)(
    void *arg, const char *child, int *connected, int64_t *last_seen);

/* "2026-11-21T10:00:00Z" into buf (>= 21 bytes). */
void views_iso_time(int64_t t, char *buf, size_t size);

/* GET /v1/progress?year=Y[&depth=D]; depth < 0: no drill-down/coverage. */
json_t *views_progress(struct store_txn *t, const struct conf *c, int year,
    int depth, int64_t now);

/* GET /v1/nodes. */
json_t *views_nodes(struct store_txn *t, const struct conf *c,
    views_link_fn link, void *link_arg);

/* One stored assessment as the API shows it. */
json_t *views_assessment(const struct assessment *a);

/* The result of a submission: year, person_id, total, recognized, outstanding.
 */
json_t *views_result(const struct assessment *a);

#endif
