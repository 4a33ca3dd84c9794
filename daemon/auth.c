/* auth.c: the tokens file and bearer-token checks (libsodium SHA-256). */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"

struct token {
	unsigned char hash[crypto_hash_sha256_BYTES];
	int role;
	char label[64];
};

struct auth {
	struct token *t;
	size_t n;
};

static int
role_of(const char *s)
{
	if (strcmp(s, "viewer") == 0)
		return ROLE_VIEWER;
	if (strcmp(s, "inspector") == 0)
		return ROLE_INSPECTOR;
	if (strcmp(s, "clerk") == 0)
		return ROLE_CLERK;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	return ROLE_NONE;
}

struct auth *
auth_load(const char *path, const char *where)
{
	struct auth *a;
	FILE *fp;
	char line[512];
	int lineno = 0, errors = 0;

	if (sodium_init() < 0) {
		fprintf(stderr, "libsodium initialisation failed\n");
		return NULL;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open \"%s\": %s\n", where, path,
		    strerror(errno));
		return NULL;
	}
	{
		struct stat sb;

		/* anyone who can write it can give themselves a token */
		if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & 022) != 0) {
			fprintf(stderr,
			    "%s: tokens file \"%s\" is writable by group or "
			    "others (chmod 640)\n",
			    where, path);
			fclose(fp);
			return NULL;
		}
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		fclose(fp);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char role[32], hex[100], label[64] = "";
		int n;
		struct token *t;
		size_t binlen;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		n = sscanf(line, " %31s %99s %63s", role, hex, label);
		if (n < 2) {
			fprintf(stderr,
			    "%s:%d: expected \"ROLE SHA256HEX "
			    "[label]\"\n",
			    path, lineno);
			errors++;
			continue;
		}
		if (role_of(role) == ROLE_NONE) {
			fprintf(stderr,
			    "%s:%d: unknown role \"%s\" (viewer, "
			    "inspector, clerk or admin)\n",
			    path, lineno, role);
			errors++;
			continue;
		}
		t = realloc(a->t, (a->n + 1) * sizeof(*t));
		if (t == NULL) {
			errors++;
			break;
		}
		a->t = t;
		t = &a->t[a->n];
		if (strlen(hex) != 64 ||
		    sodium_hex2bin(t->hash, sizeof(t->hash), hex, 64, NULL,
		        &binlen, NULL) != 0 ||
		    binlen != sizeof(t->hash)) {
			fprintf(stderr, "%s:%d: hash is not 64 hex digits\n",
			    path, lineno);
			errors++;
			continue;
		}
		t->role = role_of(role);
		if (label[0] == '\0')
			snprintf(label, sizeof(label), "%s:%d", role, lineno);
		snprintf(t->label, sizeof(t->label), "%s", label);
		a->n++;
	}
	fclose(fp);
	if (errors) {
		auth_free(&a);
		return NULL;
	}
	return a;
}

void
auth_free(struct auth **a)
{
	if (a == NULL || *a == NULL)
		return;
	sodium_memzero((*a)->t, (*a)->n * sizeof(*(*a)->t));
	free((*a)->t);
	free(*a);
	*a = NULL;
}

int
auth_check(const struct auth *a, const char *header, const char **label)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	const char *tok;
	int role = ROLE_NONE;

	*label = NULL;
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return ROLE_NONE;
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	if (*tok == '\0' || strlen(tok) > 256)
		return ROLE_NONE;
	crypto_hash_sha256(h, (const unsigned char *)tok, strlen(tok));
	/* compare against every entry: time does not depend on which matched */
	for (size_t i = 0; i < a->n; i++)
		if (sodium_memcmp(h, a->t[i].hash, sizeof(h)) == 0) {
			role = a->t[i].role;
			*label = a->t[i].label;
		}
	return role;
}

size_t
auth_count(const struct auth *a)
{
	return a->n;
}
