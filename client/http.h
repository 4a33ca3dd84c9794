/*
 * http.h: the client's only door to a node.  One libcurl handle per run
 * (connections are reused across requests, e.g. import chunks); every reply
 * is parsed as JSON and every outcome mapped to a CLI exit code.
 */
#ifndef CDHT_HTTP_H
#define CDHT_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct http;

/* What one request brought back. */
struct http_reply {
	long status;  /* HTTP status, 0 when no reply arrived */
	json_t *json; /* parsed body, NULL when absent or not JSON */
	char *body;   /* raw body, NUL-terminated, NULL when empty */
	size_t len;
	char why[256]; /* a transport failure, "" otherwise */
};

/*
 * A client for base URL server (trailing '/' ignored) sending
 * "Authorization: Bearer token" when token is not NULL.  The strings are
 * copied.  Returns NULL if libcurl cannot start; free with http_free().
 */
struct http *http_new(const char *server, const char *token);

/* Free h and NULL the caller's pointer; tolerates NULL. */
void http_free(struct http **hp);

/* Request flags. */
#define HTTP_NO_AUTH 0x1 /* do not send the token (/healthz) */
#define HTTP_RAW     0x2 /* a 2xx body need not be JSON (reports) */

/*
 * Send method to server + path (path starts with '/', already encoded), with
 * body of len bytes as content type ctype when body is not NULL.  Fills *r,
 * which the caller releases with http_reply_clear() whatever the outcome.
 * Returns the exit code the outcome maps to: 0 for 2xx with a JSON body;
 * CDHT_EXIT_AUTH for 401/403; CDHT_EXIT_REJECTED for other 4xx;
 * CDHT_EXIT_UNREACHABLE for no reply, 5xx, other statuses, or a 2xx body that
 * is not JSON.  Prints nothing.
 */
int http_request(struct http *h, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, int flags,
    struct http_reply *r);

/*
 * http_request(), then on failure http_print_failure(); same return value.
 */
int http_call(struct http *h, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, int flags,
    struct http_reply *r);

/*
 * Explain on stderr why the request that produced r and rc failed: the
 * node's {"error": ...} as "cdht: code: message (field F)", or the transport
 * failure, or the bare status.
 */
void http_print_failure(
    const struct http *h, const struct http_reply *r, int rc);

/* Release what r holds and zero it; r itself belongs to the caller. */
void http_reply_clear(struct http_reply *r);

/*
 * Print one API error object {"code", "message", "field"} on fp as
 * "PREFIX: code: message (field F)\n" (no "(field ...)" when field is null).
 */
void http_print_error(FILE *fp, const char *prefix, const json_t *err);

/*
 * The percent-encoding of s (RFC 3986 unreserved characters kept), for one
 * path segment or query value.  Caller frees with free(); NULL on ENOMEM.
 */
char *http_escape(const char *s);

#endif
