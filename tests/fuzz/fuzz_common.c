/*
 * fuzz_common.c: shared helpers of the libFuzzer targets (fuzz_common.h).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "valid.h"

/* Whether check is listed in CDHT_FUZZ_KNOWN_OPEN. */
static int
known_open(const char *check)
{
	const char *list = getenv("CDHT_FUZZ_KNOWN_OPEN"), *p;
	size_t n = strlen(check);

	if (list == NULL)
		return 0;
	for (p = list; (p = strstr(p, check)) != NULL; p += n)
		if ((p == list || strchr(" ,\t", p[-1]) != NULL) &&
		    (p[n] == '\0' || strchr(" ,\t", p[n]) != NULL))
			return 1;
	return 0;
}

static unsigned long tolerated;

/* At exit (libFuzzer's too): how often known-open checks failed. */
static void
report_tolerated(void)
{
	fprintf(
	    stderr, "fuzz: known-open checks failed %lu times\n", tolerated);
}

void
fuzz_fail(const char *check, const char *fmt, ...)
{
	va_list ap;
	int open = known_open(check);

	if (open && tolerated++ == 0)
		atexit(report_tolerated);
	if (open && tolerated > 5)
		return;
	fprintf(stderr, "fuzz: check %s failed%s: ", check,
	    open ? " (known-open, going on)" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (!open)
		abort();
}

/* README "HTTP API": every code an error may carry. */
static const char *const error_codes[] = {"bad_json", "bad_request",
    "unknown_field", "missing_field", "invalid_field", "unauthorized",
    "forbidden", "not_found", "method_not_allowed", "too_large",
    "unsupported_media_type", "storage_full", "internal"};

/* s with bytes >= 0x80 and controls as \xNN, for a failure message. */
static const char *
shown(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

void
fuzz_check_error(
    const char *what, const char *code, const char *message, const char *field)
{
	char m[1200], f[300];
	size_t i, nc = sizeof(error_codes) / sizeof(error_codes[0]);
	json_t *o;
	char *dump = NULL;

	if (field == NULL)
		field = "";
	for (i = 0; code != NULL && i < nc; i++)
		if (strcmp(code, error_codes[i]) == 0)
			break;
	FUZZ_CHECK(code != NULL && i < nc, "error-code",
	    "%s: code \"%s\" is not a documented error code", what,
	    code ? code : "(null)");
	if (code == NULL)
		return;
	FUZZ_CHECK(message != NULL && message[0] != '\0', "error-code",
	    "%s: %s error without a message", what, code);
	if (message == NULL)
		return;
	/* (unknown_field may name the key "", which reads as no field) */
	FUZZ_CHECK(field[0] != '\0' || (strcmp(code, "missing_field") != 0 &&
	                                   strcmp(code, "invalid_field") != 0),
	    "error-field", "%s: %s error names no field: \"%s\"", what, code,
	    shown(message, m, sizeof(m)));
	/* not UTF-8 is one finding, not also error-json's */
	if (!FUZZ_CHECK(valid_utf8(message, strlen(message)) == 0 &&
	                    valid_utf8(field, strlen(field)) == 0,
	        "error-utf8",
	        "%s: %s error is not UTF-8: message \"%s\" field \"%s\"", what,
	        code, shown(message, m, sizeof(m)), shown(field, f, sizeof(f))))
		return;
	o = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message",
	    message, "field", field[0] ? json_string(field) : json_null());
	if (o != NULL)
		dump = json_dumps(o, JSON_COMPACT);
	FUZZ_CHECK(dump != NULL, "error-json",
	    "%s: jansson cannot build the %s error: message \"%s\" field "
	    "\"%s\"",
	    what, code, shown(message, m, sizeof(m)),
	    shown(field, f, sizeof(f)));
	free(dump);
	json_decref(o);
}

void
fuzz_tmpdir(char dir[128], const char *tag)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, 128, "%s/cdht-fuzz-%s-XXXXXX", base, tag);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
}

void
fuzz_rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void
fuzz_write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || (len > 0 && fwrite(data, 1, len, fp) != len) ||
	    fclose(fp) != 0) {
		perror(path);
		abort();
	}
}
