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

struct conf_child {
	char id[WIRE_MAX_ID + 1];
	char public_key[VALID_Z85_KEY_LEN + 1];
	char name[WIRE_MAX_NAME + 1];
};

struct conf {
	const char *path;
	/* [node] */
	char id[WIRE_MAX_ID + 1];
	int level; /* enum rules_level */
	char name[WIRE_MAX_NAME + 1];
	char data_dir[4096];
	uint64_t map_size_mb;
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
	struct conf_child *children; /* malloc'd, nchildren entries */
	size_t nchildren;
};

/*
 * Parse path into *c (defaults first).  Prints every error to stderr as
 * "path:line: message" and returns the number of errors (0 = usable).
 * The children file, if named, is read too.  Free with conf_free.
 */
int conf_load(const char *path, struct conf *c);
void conf_free(struct conf *c);

/* Index of the child with this id or Z85 key, or -1. */
int conf_child_by_id(const struct conf *c, const char *id);
int conf_child_by_key(const struct conf *c, const char *z85);

#endif
