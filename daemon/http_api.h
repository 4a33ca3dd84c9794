/*
 * http_api.h: the HTTP/JSON API (libevent evhttp): routing, bearer-token
 * roles, validation, and replies that are sent only after the group commit.
 */
#ifndef CDHT_HTTP_API_H
#define CDHT_HTTP_API_H

#include <event2/event.h>

#include "auth.h"
#include "commit.h"
#include "conf.h"
#include "store.h"
#include "uplink.h"
#include "views.h"

struct http_api;

/*
 * Bind conf->http_listen and serve.  link/link_arg give the direct
 * children's link state for /v1/nodes (may be NULL); up the link to the
 * parent for /healthz and /v1/nodes (NULL at the root).  NULL on failure
 * (logged).  The caller keeps ownership of everything passed in.
 */
struct http_api *http_api_new(struct event_base *base, const struct conf *c,
    struct store *st, struct committer *cm, const struct auth *auth,
    views_link_fn link, void *link_arg, const struct uplink *up);
void http_api_free(struct http_api **h);

/* Check bearer tokens against a from now on (a reload); a stays the
 * caller's and must outlive every request that used it. */
void http_api_set_auth(struct http_api *h, const struct auth *a);

#endif
