/*
 * auth.h: bearer tokens.  The tokens file holds "ROLE SHA256HEX [label]"
 * lines; only hashes are stored, compared in constant time.
 */
#ifndef CDHT_AUTH_H
#define CDHT_AUTH_H

#include <stddef.h>

enum auth_role {
	ROLE_NONE = 0,
	ROLE_VIEWER = 1,    /* progress, reports, nodes, metrics */
	ROLE_INSPECTOR = 2, /* + reads records, lists, decisions, titles */
	ROLE_CLERK = 3,     /* + writes records, titles, decisions */
	ROLE_ADMIN = 4      /* + revokes decisions, files years, audit */
};

struct auth;

/*
 * Load the tokens file at path; on error print "path:line: message" for
 * every bad line, or "where: cannot open ..." when it cannot be opened
 * (where names the conf key that gave the path, as conf_where() writes
 * it), and return NULL.  Returns an auth the caller owns: free with
 * auth_free.
 */
struct auth *auth_load(const char *path, const char *where);
void auth_free(struct auth **a);

/* Role of the token in an "Authorization" header value ("Bearer T"); sets
 * *label to a static-lifetime (owned by a) label.  ROLE_NONE if unknown. */
int auth_check(const struct auth *a, const char *header, const char **label);

/* Number of tokens loaded. */
size_t auth_count(const struct auth *a);

#endif
