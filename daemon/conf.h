/*
 * conf.h: the daemon's configuration: one table of options (section, key,
 * parser, field) so parsing, defaults and checks come from one place.
 * Errors name file:line and key; all of them are reported, not just the first.
 */
#ifndef CDHT_CONF_H
#define CDHT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "wire.h"

#define CONF_MAX_CHILDREN 4096
#define CONF_MAX_RETIRED  100000
#define CONF_MAX_OPTIONS  32 /* keys of conf.c's option table, at most */

struct conf_child {
	char id[WIRE_MAX_ID + 1];
	char public_key[VALID_Z85_KEY_LEN + 1];
	char name[WIRE_MAX_NAME + 1];
};

/* One line of the [downlink] retired file: "ID LAST_YEAR SUCCESSOR NAME...".
 * A unit retired at this node: its years up to last_year stay counted,
 * read-only; later ones are dropped (aggregate_retire). */
struct conf_retired {
	char id[WIRE_MAX_ID + 1];
	int last_year;                   /* VALID_YEAR_MIN..VALID_YEAR_MAX */
	char successor[WIRE_MAX_ID + 1]; /* "" for "-" */
	char name[WIRE_MAX_NAME + 1];
	int line; /* its line in the file (messages) */
};

struct conf {
	const char *path;
	/* [node] */
	char id[WIRE_MAX_ID + 1];
	int level; /* enum rules_level */
	char name[WIRE_MAX_NAME + 1];
	char data_dir[4096];
	uint64_t map_size_mb;
	uint32_t journal_mb; /* write-ahead journal, MiB; 0: off (64) */
	int counts_from; /* records of earlier years are not counted (2021) */
	/* [http] */
	char http_listen[256];
	char tokens_path[4096];
	uint64_t max_body_kb;
	int request_timeout_s;
	/* [targets] */
	struct rules_targets targets;
	/* [uplink] */
	char parent[256];
	char parent_key[VALID_Z85_KEY_LEN + 1];
	char uplink_secret_path[4096];
	int flush_ms;
	/* [downlink] */
	char downlink_listen[256];
	char downlink_secret_path[4096];
	char children_path[4096];
	int max_origins_per_child; /* units one child may hold (default 20000)
	                            */
	int stale_after_s;         /* a unit whose last report is older is stale
	                            * (default 86400) */
	struct conf_child *children; /* malloc'd, nchildren entries */
	size_t nchildren;
	char retired_path[4096];
	struct conf_retired *retired; /* malloc'd, sorted by id */
	size_t nretired;
	/* [programme] */
	int deadline_month, deadline_day; /* yearly reports due (12-01) */
	int recognition;   /* enum rules_recognition: score (default) | decision
	                    */
	char timezone[64]; /* as configured ("Asia/Ho_Chi_Minh") */
	int utc_offset_min; /* its fixed offset from UTC (+420) */
	/* the line of each key of conf.c's option table, 0 = not set */
	int key_line[CONF_MAX_OPTIONS];
};

/*
 * Parse path into *c (defaults first).  Prints every error to stderr as
 * "path:line: message" and returns the number of errors (0 = usable).
 * The children file, if named, is read too.  Free with conf_free.
 */
int conf_load(const char *path, struct conf *c);
void conf_free(struct conf *c);

/* The programme year of Unix time now in the node's time zone, clamped to
 * the programme's years. */
int conf_current_year(const struct conf *c, int64_t now);

/* Index of the child with this id or Z85 key, or -1. */
int conf_child_by_id(const struct conf *c, const char *id);
int conf_child_by_key(const struct conf *c, const char *z85);

/* The retired file's entry for id, or NULL (points into c). */
const struct conf_retired *conf_retired_by_id(
    const struct conf *c, const char *id);

/*
 * Split v, "HOST:PORT" (HOST a name, an IPv4 address or a bracketed IPv6
 * one; "*" too when any), into host (hostsize bytes, the caller's; HOST
 * without brackets; unless NULL) and *port (1..65535; unless NULL).
 * Returns 0, or -1 when v is not of that form.
 */
int conf_hostport(
    const char *v, int any, char *host, size_t hostsize, int *port);

/*
 * 1 if s is a ZeroMQ TCP endpoint "tcp://HOST:PORT": HOST a name, an IPv4
 * address or a bracketed IPv6 one ("*" too when bind, for every
 * interface), PORT 1..65535.  host (hostsize bytes, the caller's) receives
 * HOST without brackets unless NULL.  Returns a plain value.
 */
int conf_valid_endpoint(const char *s, int bind, char *host, size_t hostsize);

/*
 * Where section.key was set: "path:line: section.key", or "path:
 * section.key" when the conf does not set it, into the caller's buf (size
 * bytes).  Returns buf, for use as a message prefix.
 */
const char *conf_where(const struct conf *c, const char *section,
    const char *key, char *buf, size_t size);

/* Print one error about section.key of c to stderr as "path:line:
 * section.key: message" (see conf_where).  Returns nothing. */
void conf_errorf(const struct conf *c, const char *section, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
