/*
 * test_conf.c: daemon/conf.c, the INI conf and the children file: a valid
 * file with every section (every field and default checked), and the errors:
 * unknown key or section, bad level, bad targets ("75", out of range,
 * unknown indicator), duplicate keys, missing required keys, bad numbers,
 * ids and keys, incomplete link sections, syntax errors, children file
 * errors; endpoints (tcp:// required), HTTP listen addresses, Z85 keys and
 * conf_where.  conf_load's stderr is captured into a temporary file and every
 * message is checked to name file:line.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "rules.h"

#include "fixture.h"

#define KEY_A "rq:rM>}U?@Lns47E1.kR.o@n.FcmmsL/@{H8]yf7"
#define KEY_B "JTKVSB&&)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define KEY_C "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"

struct fx {
	char dir[64];
	char path[128];     /* the conf */
	char children[128]; /* the children file */
	char err[8192];     /* what conf_load printed */
	struct conf c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (fx_tmpdir(f->dir, "conf") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/cdhtd.conf", f->dir);
	snprintf(f->children, sizeof(f->children), "%s/children", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	conf_free(&f->c);
	fx_rm_dir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* conf_load(f->path) with stderr captured into f->err; returns its result.
 */
static int
load(struct fx *f, const char *text)
{
	char cap[160];
	int fd, saved, rc;
	ssize_t n;

	if (text != NULL)
		write_file(f->path, text);
	conf_free(&f->c);
	snprintf(cap, sizeof(cap), "%s/stderr", f->dir);
	fd = open(cap, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fd, 2) == 2);
	rc = conf_load(f->path, &f->c);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	n = read(fd, f->err, sizeof(f->err) - 1);
	assert_true(n >= 0);
	f->err[n] = '\0';
	close(fd);
	unlink(cap);
	return rc;
}

/* The captured stderr holds "PATH:LINE: " followed (on that line) by what. */
static void
assert_msg(const struct fx *f, const char *path, int line, const char *what)
{
	char pre[256];
	const char *p = f->err;

	if (line > 0)
		snprintf(pre, sizeof(pre), "%s:%d: ", path, line);
	else
		snprintf(pre, sizeof(pre), "%s: ", path);
	while ((p = strstr(p, pre)) != NULL) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char one[1024];

		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		if (strstr(one, what) != NULL)
			return;
		p += strlen(pre);
	}
	fail_msg("no message \"%s...%s\" on stderr:\n%s", pre, what, f->err);
}

/* A complete, valid conf; %s is the children file. */
static const char valid_fmt[] =
    "; cdhtd.conf for a district\n"            /* 1 */
    "[node]\n"                                 /* 2 */
    "id = 116\n"                               /* 3 */
    "level = district\n"                       /* 4 */
    "name = Huy\xe1\xbb\x87n Mai S\xc6\xa1n\n" /* 5 */
    "data_dir = /var/lib/cdht\n"               /* 6 */
    "map_size_mb = 2048\n"                     /* 7 */
    "\n"                                       /* 8 */
    "[http]\n"                                 /* 9 */
    "listen = 127.0.0.1:8470\n"                /* 10 */
    "tokens = /etc/cdht/tokens\n"              /* 11 */
    "max_body_kb = 4096\n"                     /* 12 */
    "; a comment line\n"                       /* 13 */
    "request_timeout = 12\n"                   /* 14 */
    "[targets]\n"                              /* 15 */
    "families = 75 80\n"                       /* 16 */
    "adults = 45 65\n"                         /* 17 */
    "[uplink]\n"                               /* 18 */
    "parent = tcp://10.14.0.1:9470\n"          /* 19 */
    "parent_key = " KEY_A "\n"                 /* 20 */
    "secret_key = /etc/cdht/node.secret\n"     /* 21 */
    "flush_ms = 200\n"                         /* 22 */
    "[downlink]\n"                             /* 23 */
    "listen = tcp://0.0.0.0:9470\n"            /* 24 */
    "secret_key = /etc/cdht/node.secret\n"     /* 25 */
    "children = %s\n";                         /* 26 */

/* The minimal conf: required keys only. */
static const char minimal[] = "[node]\n"
                              "id = 04108\n"
                              "level = commune\n"
                              "name = X\xc3\xa3 Chi\xe1\xbb\x81ng Sung\n"
                              "data_dir = /tmp/x\n"
                              "[http]\n"
                              "listen = 127.0.0.1:8470\n"
                              "tokens = /tmp/tokens\n";

static void
test_valid_every_section(void **state)
{
	struct fx *f = *state;
	char text[2048];
	struct rules_targets def;

	write_file(f->children,
	    "# ID PUBLIC_KEY NAME\n"
	    "\n"
	    "04108 " KEY_B " X\xc3\xa3 Chi\xe1\xbb\x81ng Sung\n"
	    "  04111   " KEY_C "\n");
	snprintf(text, sizeof(text), valid_fmt, f->children);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.path, f->path);
	assert_string_equal(f->c.id, "116");
	assert_int_equal(f->c.level, LEVEL_DISTRICT);
	assert_string_equal(f->c.name, "Huy\xe1\xbb\x87n Mai S\xc6\xa1n");
	assert_string_equal(f->c.data_dir, "/var/lib/cdht");
	assert_int_equal(f->c.map_size_mb, 2048);
	assert_string_equal(f->c.http_listen, "127.0.0.1:8470");
	assert_string_equal(f->c.tokens_path, "/etc/cdht/tokens");
	assert_int_equal(f->c.max_body_kb, 4096);
	assert_int_equal(f->c.request_timeout_s, 12);
	assert_string_equal(f->c.parent, "tcp://10.14.0.1:9470");
	assert_string_equal(f->c.parent_key, KEY_A);
	assert_string_equal(f->c.uplink_secret_path, "/etc/cdht/node.secret");
	assert_int_equal(f->c.flush_ms, 200);
	assert_string_equal(f->c.downlink_listen, "tcp://0.0.0.0:9470");
	assert_string_equal(f->c.downlink_secret_path, "/etc/cdht/node.secret");
	assert_string_equal(f->c.children_path, f->children);
	/* targets: the two set, the rest the national defaults */
	rules_targets_default(&def);
	assert_int_equal(def.pct[IND_FAMILIES][0], 70); /* not what we set */
	for (int i = 0; i < IND_COUNT; i++) {
		int want25 = i == IND_FAMILIES ? 75
		             : i == IND_ADULTS ? 45
		                               : def.pct[i][0];
		int want30 = i == IND_FAMILIES ? 80
		             : i == IND_ADULTS ? 65
		                               : def.pct[i][1];

		assert_int_equal(f->c.targets.pct[i][0], want25);
		assert_int_equal(f->c.targets.pct[i][1], want30);
	}
	/* the children file: comments and blank lines skipped */
	assert_int_equal(f->c.nchildren, 2);
	assert_string_equal(f->c.children[0].id, "04108");
	assert_string_equal(f->c.children[0].public_key, KEY_B);
	assert_string_equal(
	    f->c.children[0].name, "X\xc3\xa3 Chi\xe1\xbb\x81ng Sung");
	assert_string_equal(f->c.children[1].id, "04111");
	assert_string_equal(f->c.children[1].public_key, KEY_C);
	assert_string_equal(f->c.children[1].name, "04111"); /* no name */
	assert_int_equal(conf_child_by_id(&f->c, "04111"), 1);
	assert_int_equal(conf_child_by_id(&f->c, "0411"), -1);
	assert_int_equal(conf_child_by_key(&f->c, KEY_B), 0);
	assert_int_equal(conf_child_by_key(&f->c, KEY_A), -1);
}

static void
test_minimal_defaults(void **state)
{
	struct fx *f = *state;
	struct rules_targets def;

	assert_int_equal(load(f, minimal), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.id, "04108");
	assert_int_equal(f->c.level, LEVEL_COMMUNE);
	assert_int_equal(f->c.map_size_mb, 1024);
	assert_int_equal(f->c.max_body_kb, 8192);
	assert_int_equal(f->c.request_timeout_s, 30);
	assert_int_equal(f->c.flush_ms, 50);
	assert_string_equal(f->c.parent, "");
	assert_string_equal(f->c.downlink_listen, "");
	assert_int_equal(f->c.nchildren, 0);
	rules_targets_default(&def);
	assert_memory_equal(&f->c.targets, &def, sizeof(def));
	/* every level name */
	{
		static const char *const lv[] = {
		    "commune", "district", "province", "national"};
		char text[512];

		for (int i = 0; i < 4; i++) {
			snprintf(text, sizeof(text),
			    "[node]\nid = 14\nlevel = %s\nname = N\n"
			    "data_dir = /d\n[http]\nlisten = h:1\n"
			    "tokens = /t\n",
			    lv[i]);
			assert_int_equal(load(f, text), 0);
			assert_int_equal(f->c.level, i);
		}
	}
}

/* README's example: comments after values are not part of them. */
static void
test_inline_comments(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    load(f, "[node]\n"
	            "id = 04108                 ; official unit code\n"
	            "level = commune            ; commune | district\n"
	            "name = X\xc3\xa3 Chi\xe1\xbb\x81ng Sung\n"
	            "data_dir = /var/lib/cdht\n"
	            "map_size_mb = 1024         ; LMDB map size\n"
	            "[http]\n"
	            "listen = 127.0.0.1:8470\n"
	            "tokens = /etc/cdht/tokens\n"
	            "[targets]                  ; optional\n"
	            "families = 75 80\n"),
	    0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.id, "04108");
	assert_int_equal(f->c.level, LEVEL_COMMUNE);
	assert_int_equal(f->c.map_size_mb, 1024);
	assert_int_equal(f->c.targets.pct[IND_FAMILIES][0], 75);
}

/* ---------------------------------------------------------------------- */
/* Errors, each naming file:line. */

/* minimal with extra lines appended (so they start at line 9). */
static int
load_extra(struct fx *f, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", minimal, extra);
	return load(f, text);
}

static void
test_unknown_key(void **state)
{
	struct fx *f = *state;

	assert_true(load(f, "[node]\n"
	                    "id = 04108\n"
	                    "colour = red\n"
	                    "level = commune\n"
	                    "name = N\n"
	                    "data_dir = /d\n"
	                    "[http]\n"
	                    "listen = h:1\n"
	                    "tokens = /t\n") > 0);
	assert_msg(f, f->path, 3, "unknown key \"colour\" in [node]");
	/* the rest was still read */
	assert_string_equal(f->c.data_dir, "/d");

	/* a key of another section, an unknown section */
	assert_true(
	    load_extra(f, "[http]\nflush_ms = 5\n[foo]\nbar = 1\n") > 0);
	assert_msg(f, f->path, 10, "unknown key \"flush_ms\" in [http]");
	assert_msg(f, f->path, 12, "unknown key \"bar\" in [foo]");
	/* an unknown indicator in [targets] */
	assert_true(load_extra(f, "[targets]\nhappiness = 50 60\n") > 0);
	assert_msg(f, f->path, 10, "happiness");
}

static void
test_bad_level(void **state)
{
	struct fx *f = *state;

	assert_true(load(f, "[node]\n"
	                    "id = 14\n"
	                    "level = town\n"
	                    "name = N\n"
	                    "data_dir = /d\n"
	                    "[http]\n"
	                    "listen = h:1\n"
	                    "tokens = /t\n") > 0);
	assert_msg(f, f->path, 3, "node.level: invalid value \"town\"");
	assert_true(load(f, "[node]\n"
	                    "id = 14\n"
	                    "name = N\n"
	                    "level = Province\n"
	                    "data_dir = /d\n"
	                    "[http]\n"
	                    "listen = h:1\n"
	                    "tokens = /t\n") > 0);
	assert_msg(f, f->path, 4, "node.level");
}

static void
test_bad_targets(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"75", "75 80 90", "101 50", "50 101",
	    "-1 50", "75% 80%", "seventy eighty", "75.5 80", ""};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char extra[128];

		snprintf(extra, sizeof(extra),
		    "[targets]\nclans = 70 75\n"
		    "adults = %s\n",
		    bad[i]);
		if (load_extra(f, extra) <= 0)
			fail_msg("targets \"%s\" accepted", bad[i]);
		assert_msg(f, f->path, 11, "targets.adults");
	}
	/* the edges are fine */
	assert_int_equal(load_extra(f, "[targets]\nadults = 0 100\n"), 0);
	assert_int_equal(f->c.targets.pct[IND_ADULTS][0], 0);
	assert_int_equal(f->c.targets.pct[IND_ADULTS][1], 100);
}

static void
test_duplicate_key(void **state)
{
	struct fx *f = *state;

	assert_true(load(f, "[node]\n"
	                    "id = 04108\n"
	                    "level = commune\n"
	                    "name = N\n"
	                    "id = 04109\n"
	                    "data_dir = /d\n"
	                    "[http]\n"
	                    "listen = h:1\n"
	                    "tokens = /t\n") > 0);
	assert_msg(f, f->path, 5, "duplicate key \"id\" in [node]");
	/* a section opened twice is the same section */
	assert_true(load_extra(f, "[http]\ntokens = /other\n") > 0);
	assert_msg(f, f->path, 10, "duplicate key \"tokens\" in [http]");
}

/* A target given twice silently takes the last value unless reported. */
static void
test_duplicate_target(void **state)
{
	struct fx *f = *state;

	if (load_extra(f, "[targets]\nfamilies = 75 80\nclans = 70 75\n"
	                  "families = 60 70\n") <= 0)
		fail_msg("duplicate targets.families accepted; families = "
		         "%d %d; stderr: \"%s\"",
		    f->c.targets.pct[IND_FAMILIES][0],
		    f->c.targets.pct[IND_FAMILIES][1], f->err);
	assert_msg(f, f->path, 12, "families");
}

static void
test_missing_required(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *section, *key;
	} req[] = {{"node", "id"}, {"node", "level"}, {"node", "name"},
	    {"node", "data_dir"}, {"http", "listen"}, {"http", "tokens"}};

	/* minimal's lines; the required keys are on lines 2-5, 7, 8 */
	static const int at[] = {1, 2, 3, 4, 6, 7};

	for (size_t r = 0; r < sizeof(req) / sizeof(req[0]); r++) {
		char text[1024], what[128];
		const char *p = minimal;
		size_t n = 0;
		int line = 0;

		/* minimal without that key's line */
		while (*p) {
			const char *eol = strchr(p, '\n');
			size_t len = (size_t)(eol - p) + 1;

			if (line++ != at[r]) {
				memcpy(text + n, p, len);
				n += len;
			}
			p += len;
		}
		text[n] = '\0';
		snprintf(what, sizeof(what), "%s = ", req[r].key);
		assert_null(strstr(text, what));
		assert_true(load(f, text) > 0);
		snprintf(what, sizeof(what), "missing key \"%s\" in [%s]",
		    req[r].key, req[r].section);
		assert_msg(f, f->path, 0, what);
	}
	/* an empty file misses all six */
	assert_int_equal(load(f, ""), 6);
	/* a file that does not exist */
	unlink(f->path);
	assert_true(load(f, NULL) > 0);
	assert_msg(f, f->path, 0, "cannot open");
}

static void
test_bad_values(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *section, *line, *what;
	} bad[] = {
	    {"node", "map_size_mb = 0", "node.map_size_mb"},
	    {"node", "map_size_mb = abc", "node.map_size_mb"},
	    {"node", "map_size_mb = -5", "node.map_size_mb"},
	    {"node", "map_size_mb = 10x", "node.map_size_mb"},
	    {"node", "map_size_mb = 1048577", "node.map_size_mb"},
	    {"http", "request_timeout = 0", "http.request_timeout"},
	    {"uplink", "flush_ms = 60001", "uplink.flush_ms"},
	    {"http", "request_timeout = 3601", "http.request_timeout"},
	    {"http", "max_body_kb = 99999999999999999999", "http.max_body_kb"},
	    {"uplink", "flush_ms = 0", "uplink.flush_ms"},
	    {"uplink", "parent_key = tooshort", "uplink.parent_key"},
	    {"uplink", "parent_key = " KEY_A "x", "uplink.parent_key"},
	    {"uplink", "parent_key = rq:rM>}U?@Lns47E1.kR.o@n.FcmmsL/@{H8]yf\"",
	        "uplink.parent_key"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char extra[256];

		snprintf(extra, sizeof(extra), "[%s]\n%s\n", bad[i].section,
		    bad[i].line);
		if (load_extra(f, extra) <= 0)
			fail_msg("\"%s\" accepted", bad[i].line);
		assert_msg(f, f->path, 10, bad[i].what);
	}
	/* the edges of the ranges are fine */
	assert_int_equal(load_extra(f, "[node]\nmap_size_mb = 1048576\n"
	                               "[http]\nrequest_timeout = 1\n"),
	    0);
	assert_int_equal(f->c.map_size_mb, 1048576);
	assert_int_equal(f->c.request_timeout_s, 1);
}

/* A small valid conf but for the node's name; conf_load's result. */
static int
load_named(struct fx *f, const char *name)
{
	char text[512];

	snprintf(text, sizeof(text),
	    "[node]\nid = 14\nlevel = commune\nname = %s\n"
	    "data_dir = /d\n[http]\nlisten = h:1\ntokens = /t\n",
	    name);
	return load(f, text);
}

static void
test_bad_node_fields(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *id, *name, *listen, *what;
	} bad[] = {
	    {"04.108", "N", "h:1", "node.id"},
	    {"12345678901234567", "N", "h:1", "node.id"}, /* 17 */
	    {"14 15", "N", "h:1", "node.id"},
	    {"14", "N", "127.0.0.1", "http.listen"},
	    {"14", "N", "127.0.0.1:0", "http.listen"},
	    {"14", "N", "127.0.0.1:65536", "http.listen"},
	    {"14", "N", ":8470", "http.listen"},
	};
	char text[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "[node]\nid = %s\nlevel = commune\nname = %s\n"
		    "data_dir = /d\n[http]\nlisten = %s\ntokens = /t\n",
		    bad[i].id, bad[i].name, bad[i].listen);
		if (load(f, text) <= 0)
			fail_msg("accepted: id %s listen %s", bad[i].id,
			    bad[i].listen);
		assert_msg(f, f->path, strcmp(bad[i].what, "node.id") ? 7 : 2,
		    bad[i].what);
	}
	/* 16 characters of every allowed class is a valid id */
	snprintf(text, sizeof(text),
	    "[node]\nid = aZ09_-aZ09_-aZ09\nlevel = commune\nname = N\n"
	    "data_dir = /d\n[http]\nlisten = [::1]:8470\ntokens = /t\n");
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.id, "aZ09_-aZ09_-aZ09");
	assert_string_equal(f->c.http_listen, "[::1]:8470");
	/* a 129-byte name is too long; 128 is fine */
	{
		char name[130];

		memset(name, 'n', 129);
		name[129] = '\0';
		assert_true(load_named(f, name) > 0);
		assert_msg(f, f->path, 4, "node.name");
		name[128] = '\0';
		assert_int_equal(load_named(f, name), 0);
		assert_int_equal(strlen(f->c.name), 128);
	}
}

/*
 * The node's name travels in every HELLO and report, where PROTOCOL.md 3.3
 * allows only well-formed UTF-8 without control characters: a conf that
 * passes with any other name gives a node that can never say HELLO.
 */
static void
test_name_must_be_sendable(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"X\xe3 A", "\xff\xfe", "N\x01",
	    "Caf\xc3",
	    /* well-formed-looking but refused by the wire encoder */
	    "\xed\xa0\x80", "X\xed\xbf\xbf", "\xc0\xaf", "\xe0\x80\xaf",
	    "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "N\x7f"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_named(f, bad[i]) <= 0)
			fail_msg("name \"%s\" (not sendable UTF-8) accepted",
			    bad[i]);
		assert_msg(f, f->path, 4, "node.name");
	}
}

static void
test_all_errors_reported(void **state)
{
	struct fx *f = *state;
	int rc = load(f, "[node]\n"
	                 "id = 04108\n"
	                 "level = hamlet\n"
	                 "name = N\n"
	                 "data_dir = /d\n"
	                 "bogus = 1\n"
	                 "[http]\n"
	                 "listen = h:1\n"
	                 "tokens = /t\n"
	                 "request_timeout = lots\n"
	                 "[targets]\n"
	                 "units = 75\n");

	assert_int_equal(rc, 4);
	assert_msg(f, f->path, 3, "node.level");
	assert_msg(f, f->path, 6, "unknown key \"bogus\" in [node]");
	assert_msg(f, f->path, 10, "http.request_timeout");
	assert_msg(f, f->path, 12, "targets.units");
}

static void
test_syntax_error(void **state)
{
	struct fx *f = *state;

	assert_true(
	    load_extra(f, "[uplink]\nthis line has no equals sign\n") > 0);
	assert_msg(f, f->path, 10, "syntax error");
	assert_true(load_extra(f, "[unclosed\nkey = 1\n") > 0);
	assert_msg(f, f->path, 9, "syntax error");
}

/* A long value (data_dir is char[4096]) keeps later line numbers right. */
static void
test_long_line(void **state)
{
	struct fx *f = *state;
	char dir[301], text[2048];

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	snprintf(text, sizeof(text),
	    "[node]\nid = 14\nlevel = commune\nname = N\n"
	    "data_dir = %s\n"
	    "[http]\nlisten = h:1\ntokens = /t\nbogus = 1\n",
	    dir);
	assert_true(load(f, text) > 0);
	assert_msg(f, f->path, 9, "unknown key \"bogus\" in [http]");
	/* and the value was taken whole, or refused: never cut short */
	if (strcmp(f->c.data_dir, dir) != 0 && f->c.data_dir[0] != '\0')
		fail_msg("data_dir cut to %zu bytes: %s", strlen(f->c.data_dir),
		    f->err);
}

static void
test_link_sections(void **state)
{
	struct fx *f = *state;
	char extra[512];

	assert_true(load_extra(f, "[uplink]\nparent = tcp://h:1\n") > 0);
	assert_msg(
	    f, f->path, 0, "[uplink] needs parent, parent_key and secret_key");
	assert_true(
	    load_extra(
	        f, "[uplink]\nsecret_key = /s\nparent_key = " KEY_A "\n") > 0);
	assert_msg(f, f->path, 0, "[uplink] needs");
	assert_true(load_extra(f, "[downlink]\nlisten = tcp://*:1\n") > 0);
	assert_msg(
	    f, f->path, 0, "[downlink] needs listen, secret_key and children");
	/* a children file that does not exist */
	snprintf(extra, sizeof(extra),
	    "[downlink]\nlisten = tcp://*:1\nsecret_key = /s\n"
	    "children = %s/none\n",
	    f->dir);
	assert_true(load_extra(f, extra) > 0);
	assert_msg(f, f->path, 12, "downlink.children: cannot open");
}

/* Endpoints: tcp://HOST:PORT, "*" only to bind; errors name file:line. */
static void
test_endpoints(void **state)
{
	struct fx *f = *state;
	static const char *const bad_parent[] = {
	    "10.0.0.1:9470", /* no tcp:// (failed only at start before) */
	    "tcp://10.0.0.1", "tcp://10.0.0.1:", "tcp://10.0.0.1:0",
	    "tcp://10.0.0.1:65536", "tcp://:9470", "tcp://*:9470",
	    "tcp://::1:9470", "tcp://[::1:9470", "tcp://[]:9470",
	    "tcp://a b:9470", "udp://10.0.0.1:9470", "ipc:///tmp/x",
	    "tcp://10.0.0.1:9470x"};
	char extra[512], host[64];

	for (size_t i = 0; i < sizeof(bad_parent) / sizeof(bad_parent[0]);
	     i++) {
		snprintf(extra, sizeof(extra),
		    "[uplink]\nparent = %s\nparent_key = " KEY_A
		    "\nsecret_key = /s\n",
		    bad_parent[i]);
		if (load_extra(f, extra) <= 0)
			fail_msg("parent \"%s\" accepted", bad_parent[i]);
		assert_msg(f, f->path, 10, "uplink.parent: invalid value");
	}
	snprintf(extra, sizeof(extra),
	    "[downlink]\nlisten = 0.0.0.0:9470\nsecret_key = /s\n"
	    "children = %s\n",
	    f->children);
	write_file(f->children, "");
	assert_true(load_extra(f, extra) > 0);
	assert_msg(f, f->path, 10, "downlink.listen: invalid value");

	assert_true(conf_valid_endpoint("tcp://10.0.0.1:9470", 0, NULL, 0));
	assert_true(conf_valid_endpoint("tcp://parent.example:1", 0, NULL, 0));
	assert_true(conf_valid_endpoint("tcp://*:9470", 1, host, sizeof(host)));
	assert_string_equal(host, "*");
	assert_true(
	    conf_valid_endpoint("tcp://[::1]:9470", 0, host, sizeof(host)));
	assert_string_equal(host, "::1");
	assert_false(conf_valid_endpoint("tcp://*:9470", 0, NULL, 0));
	assert_false(conf_valid_endpoint("tcp://*:*", 1, NULL, 0));
	assert_false(conf_valid_endpoint("10.0.0.1:9470", 1, NULL, 0));
}

/* HTTP listen: HOST:PORT with a host that getaddrinfo could take. */
static void
test_http_listen(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"8470", ":8470",
	    "127.0.0.1:", "127.0.0.1:0", "*:8470", "::1:8470", "[::1:8470",
	    "a b:8470", "tcp://127.0.0.1:8470", "127.0.0.1:8470:1"};
	char extra[256], host[64];
	int port = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(extra, sizeof(extra), "[http]\nlisten = %s\n", bad[i]);
		if (load_extra(f, extra) <= 0)
			fail_msg("listen \"%s\" accepted", bad[i]);
		assert_msg(f, f->path, 10, "http.listen: invalid value");
	}
	assert_int_equal(
	    conf_hostport("[::1]:8470", 0, host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8470);
	assert_int_equal(
	    conf_hostport("localhost:1", 0, host, sizeof(host), &port), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 1);
}

/* Z85 keys: the alphabet, the length, and 32 bits per 5 characters. */
static void
test_z85_keys(void **state)
{
	char key[41];

	(void)state;
	assert_int_equal(valid_z85_key(KEY_A, strlen(KEY_A)), 0);
	assert_int_equal(valid_z85_key("", strlen("")), -1);
	assert_int_equal(valid_z85_key(KEY_A "x", strlen(KEY_A "x")), -1);
	memcpy(key, KEY_A, 41);
	key[39] = '"'; /* not in the alphabet */
	assert_int_equal(valid_z85_key(key, strlen(key)), -1);
	memcpy(key, KEY_A, 41);
	memcpy(key, "#####", 5); /* 85^5 - 1 > 2^32 - 1 */
	assert_int_equal(valid_z85_key(key, strlen(key)), -1);
	memcpy(key, "%nSc0", 5); /* 2^32 - 1, the largest group */
	assert_int_equal(valid_z85_key(key, strlen(key)), 0);
	memcpy(key, "%nSc1", 5); /* 2^32 */
	assert_int_equal(valid_z85_key(key, strlen(key)), -1);
}

/* conf_where names the line a key was set on, or only the file. */
static void
test_where(void **state)
{
	struct fx *f = *state;
	char buf[512], want[256];

	assert_int_equal(load(f, minimal), 0);
	snprintf(want, sizeof(want), "%s:5: node.data_dir", f->path);
	assert_string_equal(
	    conf_where(&f->c, "node", "data_dir", buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "%s: uplink.parent", f->path);
	assert_string_equal(
	    conf_where(&f->c, "uplink", "parent", buf, sizeof(buf)), want);
}

static void
test_children_errors(void **state)
{
	struct fx *f = *state;
	char extra[512];

	write_file(f->children,
	    "1401 " KEY_A " Huy\xe1\xbb\x87n A\n" /* 1 */
	    "14.02 " KEY_B " bad id\n"            /* 2 */
	    "1403 shortkey\n"                     /* 3 */
	    "1401 " KEY_C " same id\n"            /* 4 */
	    "1404 " KEY_A " same key\n"           /* 5 */
	    "lonely\n"                            /* 6 */
	    "04108 " KEY_B " this node itself\n"  /* 7 */
	    "# 1405 commented out\n"              /* 8 */
	    "1406 " KEY_C "\n"                    /* 9 */
	    "1407 0123456789abcdefghijklmnopqrstuvwxyzABCD "
	    "N\xed\xa0\x80\n" /* 10: surrogate */
	    "1408 0123456789abcdefghijklmnopqrstuvwxyzABC\" "
	    "N\n"); /* 11: '"' is not Z85 */
	snprintf(extra, sizeof(extra),
	    "[downlink]\nlisten = tcp://*:1\nsecret_key = /s\n"
	    "children = %s\n",
	    f->children);
	assert_int_equal(load_extra(f, extra), 8);
	assert_msg(f, f->children, 2, "invalid unit id \"14.02\"");
	assert_msg(f, f->children, 10, "name of \"1407\" is not a unit name");
	assert_msg(f, f->children, 11, "not 40 Z85");
	assert_msg(f, f->children, 3, "not 40");
	assert_msg(f, f->children, 4, "duplicate");
	assert_msg(f, f->children, 5, "duplicate");
	assert_msg(f, f->children, 6, "expected \"ID PUBLIC_KEY NAME\"");
	assert_msg(f, f->children, 7, "duplicate");
	/* the good lines were kept */
	assert_int_equal(conf_child_by_id(&f->c, "1401"), 0);
	assert_int_equal(conf_child_by_id(&f->c, "1406"), 1);
	assert_int_equal(conf_child_by_id(&f->c, "1405"), -1);
	assert_int_equal(f->c.nchildren, 2);
}

/* A line longer than the reader's buffer is one error on its own line,
 * never read as two (the second hidden in the first's name). */
static void
test_children_long_line(void **state)
{
	struct fx *f = *state;
	char extra[512], *text = malloc(4096);
	size_t n = 0;

	assert_non_null(text);
	n += (size_t)sprintf(text + n, "1401 %s ", KEY_A);
	memset(text + n, 'x', 1030);
	n += 1030;
	n += (size_t)sprintf(
	    text + n, " 1402 %s Tail\n1403 %s Ok\n", KEY_B, KEY_C);
	write_file(f->children, text);
	free(text);
	snprintf(extra, sizeof(extra),
	    "[downlink]\nlisten = tcp://*:1\nsecret_key = /s\n"
	    "children = %s\n",
	    f->children);
	assert_int_equal(load_extra(f, extra), 1);
	assert_msg(f, f->children, 1, "line longer than");
	assert_int_equal(f->c.nchildren, 1);
	assert_int_equal(conf_child_by_id(&f->c, "1403"), 0);
	assert_int_equal(conf_child_by_id(&f->c, "1402"), -1);
}

static void
test_valid_id(void **state)
{
	assert_int_equal(strlen(KEY_A), 40);
	assert_int_equal(strlen(KEY_B), 40);
	assert_int_equal(strlen(KEY_C), 40);
	assert_int_equal(valid_id("14", strlen("14")), 0);
	assert_int_equal(valid_id("03646", strlen("03646")), 0);
	assert_int_equal(valid_id("a-B_9", strlen("a-B_9")), 0);
	assert_int_equal(
	    valid_id("1234567890123456", strlen("1234567890123456")), 0);
	assert_int_equal(
	    valid_id("12345678901234567", strlen("12345678901234567")), -1);
	assert_int_equal(valid_id("", strlen("")), -1);
	assert_int_equal(valid_id("14 ", strlen("14 ")), -1);
	assert_int_equal(valid_id("1.4", strlen("1.4")), -1);
	assert_int_equal(valid_id("x\xc3\xa3", strlen("x\xc3\xa3")), -1);
	assert_int_equal(valid_id("a/b", strlen("a/b")), -1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_valid_every_section),
	    T(test_minimal_defaults),
	    T(test_inline_comments),
	    T(test_unknown_key),
	    T(test_bad_level),
	    T(test_bad_targets),
	    T(test_duplicate_key),
	    T(test_duplicate_target),
	    T(test_missing_required),
	    T(test_bad_values),
	    T(test_bad_node_fields),
	    T(test_name_must_be_sendable),
	    T(test_all_errors_reported),
	    T(test_syntax_error),
	    T(test_long_line),
	    T(test_link_sections),
	    T(test_children_errors),
	    T(test_children_long_line),
	    T(test_endpoints),
	    T(test_http_listen),
	    T(test_where),
	    cmocka_unit_test(test_z85_keys),
	    cmocka_unit_test(test_valid_id),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
