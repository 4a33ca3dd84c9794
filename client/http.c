/*
 * http.c: libcurl requests to a node, replies parsed with jansson, outcomes
 * mapped to exit codes, and the one printer of the API's error objects.
 * The token only ever goes into the Authorization header: no verbose mode,
 * never in a message.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cdht.h"
#include "http.h"

#define HTTP_TIMEOUT_S 30
#define HTTP_MAX_REPLY (256u * 1024 * 1024) /* refuse a runaway body */

struct http {
	CURL *curl;
	char *server;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	char errbuf[CURL_ERROR_SIZE];
};

static int http_curl_started;

struct http *
http_new(const char *server, const char *token)
{
	struct http *h;
	size_t n;

	if (!http_curl_started) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return NULL;
		http_curl_started = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->server = strdup(server)) == NULL)
		goto fail;
	n = strlen(h->server);
	while (n > 0 && h->server[n - 1] == '/')
		h->server[--n] = '\0';
	if (token != NULL &&
	    asprintf(&h->auth, "Authorization: Bearer %s", token) < 0) {
		h->auth = NULL;
		goto fail;
	}
	if ((h->curl = curl_easy_init()) == NULL)
		goto fail;
	return h;
fail:
	http_free(&h);
	return NULL;
}

void
http_free(struct http **hp)
{
	struct http *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->server);
	if (h->auth != NULL) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h);
	*hp = NULL;
}

void
http_reply_clear(struct http_reply *r)
{
	if (r->json != NULL)
		json_decref(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* libcurl write callback: append to the reply body. */
static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_reply *r = arg;
	size_t n = size * nmemb;
	char *p;

	if (r->len + n + 1 > HTTP_MAX_REPLY)
		return 0; /* curl fails with CURLE_WRITE_ERROR */
	if ((p = realloc(r->body, r->len + n + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, n);
	r->len += n;
	p[r->len] = '\0';
	r->body = p;
	return n;
}

static int
http_add_header(struct curl_slist **hdrs, const char *line)
{
	struct curl_slist *l;

	if ((l = curl_slist_append(*hdrs, line)) == NULL)
		return -1;
	*hdrs = l;
	return 0;
}

static int
http_status_exit(long status)
{
	if (status >= 200 && status < 300)
		return CDHT_EXIT_OK;
	if (status == 401 || status == 403)
		return CDHT_EXIT_AUTH;
	if (status >= 400 && status < 500)
		return CDHT_EXIT_REJECTED;
	return CDHT_EXIT_UNREACHABLE;
}

int
http_request(struct http *h, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, int flags,
    struct http_reply *r)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *ct = NULL;
	CURLcode cc;
	int rc = CDHT_EXIT_UNREACHABLE;

	memset(r, 0, sizeof(*r));
	if (asprintf(&url, "%s%s", h->server, path) < 0) {
		url = NULL;
		snprintf(r->why, sizeof(r->why), "out of memory");
		goto out;
	}
	if (ctype != NULL && asprintf(&ct, "Content-Type: %s", ctype) < 0) {
		ct = NULL;
		snprintf(r->why, sizeof(r->why), "out of memory");
		goto out;
	}

	curl_easy_reset(h->curl); /* keeps the connection cache */
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "cdht/" CDHT_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);

	if (http_add_header(&hdrs, "Accept: application/json") == -1 ||
	    http_add_header(&hdrs, "Expect:") == -1 ||
	    (ct != NULL && http_add_header(&hdrs, ct) == -1) ||
	    (h->auth != NULL && !(flags & HTTP_NO_AUTH) &&
	        http_add_header(&hdrs, h->auth) == -1)) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		goto out;
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);

	if (body != NULL) {
		curl_easy_setopt(
		    h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	}
	if (strcmp(method, "GET") != 0 &&
	    !(strcmp(method, "POST") == 0 && body != NULL))
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR)
			snprintf(r->why, sizeof(r->why), "reply too large");
		else
			snprintf(r->why, sizeof(r->why), "%s",
			    h->errbuf[0] != '\0' ? h->errbuf
			                         : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body != NULL)
		r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
	rc = http_status_exit(r->status);
	if (rc == CDHT_EXIT_OK && r->json == NULL && !(flags & HTTP_RAW)) {
		snprintf(r->why, sizeof(r->why), "HTTP %ld without a JSON body",
		    r->status);
		rc = CDHT_EXIT_UNREACHABLE;
	}
out:
	curl_slist_free_all(hdrs);
	free(ct);
	free(url);
	return rc;
}

int
http_call(struct http *h, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, int flags,
    struct http_reply *r)
{
	int rc;

	rc = http_request(h, method, path, ctype, body, len, flags, r);
	if (rc != CDHT_EXIT_OK)
		http_print_failure(h, r, rc);
	return rc;
}

void
http_print_error(FILE *fp, const char *prefix, const json_t *err)
{
	const char *code, *msg, *field;

	code = json_string_value(json_object_get(err, "code"));
	msg = json_string_value(json_object_get(err, "message"));
	field = json_string_value(json_object_get(err, "field"));
	fprintf(fp, "%s: ", prefix);
	cli_put_clean(fp, code != NULL ? code : "error");
	/* English keeps the node's words alone: they are English already */
	if (cli_lang != CLI_EN && cli_error_text(code) != NULL)
		fprintf(fp, ": %s", cli_error_text(code));
	if (msg != NULL) {
		fputs(": ", fp);
		cli_put_clean(fp, msg);
	}
	if (field != NULL) {
		fputs(L(" (trường ", " (field "), fp);
		cli_put_clean(fp, field);
		fputc(')', fp);
	}
	fputc('\n', fp);
}

void
http_print_failure(const struct http *h, const struct http_reply *r, int rc)
{
	const json_t *err;

	if (r->status == 0) {
		fprintf(stderr, "%s",
		    L("cdht: không kết nối được ", "cdht: cannot reach "));
		cli_put_clean(stderr, h->server);
		fprintf(stderr, ": %s\n", r->why);
		return;
	}
	err = json_object_get(r->json, "error");
	if (json_is_object(err))
		http_print_error(stderr, "cdht", err);
	else if (r->why[0] != '\0')
		fprintf(stderr, "cdht: %s\n", r->why);
	else
		fprintf(stderr,
		    L("cdht: máy chủ trả lời HTTP %ld\n",
		        "cdht: the node answered HTTP %ld\n"),
		    r->status);
	if (r->status == 401 && h->auth == NULL)
		fprintf(stderr, "%s",
		    L("cdht: chưa có mã truy cập: đặt CDHT_TOKEN hoặc dùng "
		      "--token\n",
		        "cdht: no token given: set CDHT_TOKEN or use "
		        "--token\n"));
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *p;

	if ((out = malloc(3 * strlen(s) + 1)) == NULL)
		return NULL;
	for (p = out; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}
