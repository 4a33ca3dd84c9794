/*
 * reload.c: SIGHUP (systemctl reload): read the conf again and apply what
 * can change while the node runs, without dropping a link: the tokens, the
 * children (an added child may connect, a removed one is cut off and its
 * data forgotten), the retired units (their years kept, aggregate_retire),
 * counts_from (records_counts_from), the targets, the programme settings, the
 * limits of the downlink.  What needs a restart is named in the log; a conf,
 * tokens or children file with errors changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "log.h"
#include "records.h"
#include "reload.h"
#include "titles.h"

/* The settings only a restart applies: section, key, and whether the new
 * conf differs. */
static int
restart_only(const struct conf *a, const struct conf *b)
{
	const struct {
		const char *section, *key;
		int differs;
	} f[] = {
	    {"node", "id", strcmp(a->id, b->id) != 0},
	    {"node", "level", a->level != b->level},
	    {"node", "name", strcmp(a->name, b->name) != 0},
	    {"node", "data_dir", strcmp(a->data_dir, b->data_dir) != 0},
	    {"node", "map_size_mb", a->map_size_mb != b->map_size_mb},
	    {"node", "journal_mb", a->journal_mb != b->journal_mb},
	    {"http", "listen", strcmp(a->http_listen, b->http_listen) != 0},
	    {"http", "max_body_kb", a->max_body_kb != b->max_body_kb},
	    {"http", "request_timeout",
	        a->request_timeout_s != b->request_timeout_s},
	    {"uplink", "parent", strcmp(a->parent, b->parent) != 0},
	    {"uplink", "parent_key", strcmp(a->parent_key, b->parent_key) != 0},
	    {"uplink", "secret_key",
	        strcmp(a->uplink_secret_path, b->uplink_secret_path) != 0},
	    {"uplink", "flush_ms", a->flush_ms != b->flush_ms},
	    {"downlink", "listen",
	        strcmp(a->downlink_listen, b->downlink_listen) != 0},
	    {"downlink", "secret_key",
	        strcmp(a->downlink_secret_path, b->downlink_secret_path) != 0},
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].differs) {
			log_warnx("reload: [%s] %s changed: it takes effect at "
			          "the next restart (systemctl restart)",
			    f[i].section, f[i].key);
			n++;
		}
	return n;
}

static int
same_children(const struct conf *a, const struct conf *b)
{
	if (a->nchildren != b->nchildren)
		return 0;
	for (size_t i = 0; i < a->nchildren; i++)
		if (strcmp(a->children[i].id, b->children[i].id) ||
		    strcmp(
		        a->children[i].public_key, b->children[i].public_key) ||
		    strcmp(a->children[i].name, b->children[i].name))
			return 0;
	return 1;
}

/* Children of a not in b (by id and key). */
static size_t
count_missing(const struct conf *a, const struct conf *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nchildren; i++) {
		int j = conf_child_by_id(b, a->children[i].id);

		n += j < 0 || strcmp(b->children[j].public_key,
		                  a->children[i].public_key) != 0;
	}
	return n;
}

static int
same_retired(const struct conf *a, const struct conf *b)
{
	if (a->nretired != b->nretired)
		return 0;
	for (size_t i = 0; i < a->nretired; i++)
		if (strcmp(a->retired[i].id, b->retired[i].id) ||
		    a->retired[i].last_year != b->retired[i].last_year ||
		    strcmp(a->retired[i].successor, b->retired[i].successor) ||
		    strcmp(a->retired[i].name, b->retired[i].name))
			return 0;
	return 1;
}

int
reload_counts_from(struct store_txn *t, const struct conf *c)
{
	struct records_actor act = {
	    c->id, "cdhtd", (int64_t)time(NULL), c->recognition};
	size_t n = 0;
	int rc = records_counts_from(t, &act, c->counts_from, &n);

	if (rc == STORE_OK && n > 0)
		log_info("counts_from is now %d: %zu years recounted (records "
		         "of earlier years are kept but not counted)",
		    c->counts_from, n);
	return rc;
}

/* The recognition mode changed: recount the years not filed, in the turn's
 * transaction (as the start-up does). */
static int
recount(struct store_txn *t, const struct conf *c)
{
	struct records_actor act = {
	    c->id, "cdhtd", (int64_t)time(NULL), c->recognition};
	int rc = STORE_OK;

	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX && rc == STORE_OK;
	     y++) {
		size_t a, b;

		if ((rc = records_year_filed(t, y)) != 0) {
			rc = rc > 0 ? STORE_OK : rc;
			continue;
		}
		rc = records_recount(t, &act, y, &a);
		if (rc == STORE_OK)
			rc = titles_recount(t, &act, y, &b);
	}
	return rc == STORE_OK ? records_recognition_store(t, c->recognition)
	                      : rc;
}

int
reload_run(struct reload *r)
{
	struct conf *live = r->live, nc;
	struct auth *na = NULL;
	struct store_txn *t;
	char where[4200];
	size_t added, removed;
	int children, retired, rc;

	log_info("reload: reading %s", live->path);
	if (conf_load(live->path, &nc) != 0) {
		log_warnx("reload: %s has errors (above): the running "
		          "configuration is kept",
		    live->path);
		conf_free(&nc);
		return -1;
	}
	if (nc.tokens_path[0] && (na = auth_load(nc.tokens_path,
	                              conf_where(&nc, "http", "tokens", where,
	                                  sizeof(where)))) == NULL) {
		log_warnx("reload: the tokens file has errors (above): the "
		          "running configuration is kept");
		conf_free(&nc);
		return -1;
	}
	restart_only(live, &nc);
	children = !same_children(live, &nc);
	retired = !same_retired(live, &nc);
	added = count_missing(&nc, live);
	removed = count_missing(live, &nc);
	if (children && r->down == NULL && nc.nchildren > 0)
		log_warnx("reload: children are listed but this node has no "
		          "[downlink] listen: they take effect at the next "
		          "restart");

	/* apply: the tokens */
	if (r->http != NULL)
		http_api_set_auth(r->http, na);
	if (r->nold_auth < RELOAD_KEEP_AUTH) /* labels may still be in use */
		r->old_auth[r->nold_auth++] = *r->auth;
	else
		auth_free(r->auth);
	*r->auth = na;
	/* the settings read at each use */
	live->targets = nc.targets;
	live->max_origins_per_child = nc.max_origins_per_child;
	live->stale_after_s = nc.stale_after_s;
	live->deadline_month = nc.deadline_month;
	live->deadline_day = nc.deadline_day;
	memcpy(live->timezone, nc.timezone, sizeof(live->timezone));
	live->utc_offset_min = nc.utc_offset_min;
	memcpy(live->tokens_path, nc.tokens_path, sizeof(live->tokens_path));
	memcpy(
	    live->children_path, nc.children_path, sizeof(live->children_path));
	memcpy(live->key_line, nc.key_line, sizeof(live->key_line));
	/* the children: swap, then remap the downlink's state */
	if (children && r->down != NULL) {
		struct conf_child *old = live->children;
		size_t nold = live->nchildren;

		live->children = nc.children;
		live->nchildren = nc.nchildren;
		if (downlink_reload(r->down, old, nold) != 0) {
			live->children = old; /* out of memory: keep them */
			live->nchildren = nold;
			log_warnx("reload: out of memory: children kept");
			children = 0;
		} else {
			nc.children = old; /* freed with nc */
			nc.nchildren = nold;
		}
	}
	if (retired) { /* swap: the old list is freed with nc */
		struct conf_retired *old = live->retired;
		size_t nold = live->nretired;

		live->retired = nc.retired;
		live->nretired = nc.nretired;
		nc.retired = old;
		nc.nretired = nold;
		memcpy(live->retired_path, nc.retired_path,
		    sizeof(live->retired_path));
	}
	t = committer_txn(r->cm);
	rc = STORE_OK;
	/* retirement first: its kept copies are not a removed child's */
	if ((children || retired) && t != NULL)
		rc = aggregate_retire(t, live);
	if (rc == STORE_OK && ((children && r->down != NULL) || retired) &&
	    t != NULL)
		rc = aggregate_drop_unconfigured(t, live);
	if (rc == STORE_OK && live->counts_from != nc.counts_from) {
		live->counts_from = nc.counts_from;
		if (t != NULL)
			rc = reload_counts_from(t, live);
	}
	if (rc == STORE_OK && live->recognition != nc.recognition) {
		live->recognition = nc.recognition;
		if (t != NULL)
			rc = recount(t, live);
		log_info("reload: recognition is now by %s",
		    live->recognition ? "decision" : "score");
	}
	if (rc == STORE_OK && t != NULL) {
		struct records_actor act = {
		    live->id, "cdhtd", (int64_t)time(NULL), live->recognition};
		int n = 0;

		/* the new targets travel up with every year's report */
		rc = records_stamp_targets(t, &act, &live->targets, &n);
		if (rc == STORE_OK && n > 0)
			log_info("reload: targets stamped into the reports of "
			         "%d years",
			    n);
	}
	if (rc != STORE_OK)
		log_warnx("reload: the store could not be updated (%s): it "
		          "is retried at the next start",
		    store_strerror(rc));
	conf_free(&nc);
	log_info("reload: done: %zu tokens, %zu children (%zu added, %zu "
	         "removed), %zu retired units",
	    auth_count(*r->auth), live->nchildren, added, removed,
	    live->nretired);
	return 0;
}

void
reload_free(struct reload *r)
{
	for (size_t i = 0; i < r->nold_auth; i++)
		auth_free(&r->old_auth[i]);
	r->nold_auth = 0;
}
