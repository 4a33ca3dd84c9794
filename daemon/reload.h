/*
 * reload.h: applying a changed configuration on SIGHUP (reload.c).
 */
#ifndef CDHT_RELOAD_H
#define CDHT_RELOAD_H

#include "auth.h"
#include "commit.h"
#include "conf.h"
#include "downlink.h"
#include "http_api.h"

#define RELOAD_KEEP_AUTH 64 /* replaced token tables kept until exit */

/* What a reload changes; all borrowed from main, which owns them. */
struct reload {
	struct conf *live;     /* the running conf, updated in place */
	struct auth **auth;    /* the running tokens, replaced */
	struct http_api *http; /* told the new tokens */
	struct downlink *down; /* told the new children (NULL: none) */
	struct committer *cm;  /* the turn's transaction */
	/* token tables replaced by reloads: a request's label points into
	 * one, so they are freed at exit (reload_free) */
	struct auth *old_auth[RELOAD_KEEP_AUTH];
	size_t nold_auth;
};

/* Reload r->live->path; 0 when applied, -1 when the files had errors and
 * nothing changed (all logged). */
int reload_run(struct reload *r);

/* Start-up and reload: make the stored figures follow [node]
 * counts_from (records_counts_from), logging what it recounted. */
int reload_counts_from(struct store_txn *t, const struct conf *c);

/* Free the replaced token tables. */
void reload_free(struct reload *r);

#endif
