/*
 * fuzz_conf.c: libFuzzer target for the daemon's configuration
 * (daemon/conf.h): the INI conf and the children file.
 *
 * Input: the conf's text, optionally followed by the line
 * "==> children <==" and the children file's text.  Every "@CHILDREN@" in
 * the conf is replaced by the path the children file is written to, so
 * `children = @CHILDREN@` in [downlink] makes conf_load read it.  Both go to
 * files in a temporary directory; conf_load's stderr is captured.
 *
 * Checks on every input:
 *  - conf-accept: an accepted conf (no errors) has a valid id, level and
 *    name, and a HELLO built from them (struct wire_msg with the conf's id,
 *    level and name) encodes (wire_encode returns WIRE_OK) and decodes back
 *    to the same id, level and name; every child has a valid id, key and
 *    name;
 *  - conf-children-lines: an accepted children file gives no more children
 *    than it has lines that can hold one;
 *  - conf-error-count: conf_load returns as many errors as it printed lines;
 *  - conf-error-line: every error starts with "FILE:LINE: " naming the conf
 *    or the children file and a line the file has, except the errors about
 *    a whole file ("FILE: missing key ...", "FILE: [uplink] needs ...",
 *    "FILE: cannot open: ...");
 *  - error-utf8: every error message is well-formed UTF-8 (an operator's
 *    terminal and the journal show it);
 *  - error-ctrl: no error message holds a control character (conf.c prints
 *    those as \xNN, so a hostile file cannot drive the terminal).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz_common.h"
#include "rules.h"
#include "valid.h"
#include "wire.h"

#define SEP      "\n==> children <==\n"
#define SLOT     "@CHILDREN@"
#define MAX_TEXT (1u << 20)

static char dir[128], conf_path[160], children_path[160];
static int capture_fd = -1;

static void
cleanup(void)
{
	fuzz_rm_dir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_tmpdir(dir, "conf");
	atexit(cleanup);
	snprintf(conf_path, sizeof(conf_path), "%s/cdhtd.conf", dir);
	snprintf(children_path, sizeof(children_path), "%s/children", dir);
	if ((capture_fd = memfd_create("conf-stderr", 0)) < 0) {
		perror("memfd_create");
		abort();
	}
	return 0;
}

/* Lines of data[0..n) as fgets counts them. */
static int
count_lines(const char *data, size_t n)
{
	int lines = 0;

	for (size_t i = 0; i < n; i++)
		if (data[i] == '\n')
			lines++;
	return lines + (n > 0 && data[n - 1] != '\n');
}

/* Run conf_load with stderr into capture_fd; *err gets what it printed
 * (malloc'd, NUL-terminated). */
static int
load(struct conf *c, char **err)
{
	int saved, rc;
	off_t len;

	if (ftruncate(capture_fd, 0) != 0 ||
	    lseek(capture_fd, 0, SEEK_SET) != 0)
		abort();
	fflush(stderr);
	if ((saved = dup(2)) < 0 || dup2(capture_fd, 2) != 2)
		abort();
	rc = conf_load(conf_path, c);
	fflush(stderr);
	if (dup2(saved, 2) != 2)
		abort();
	close(saved);
	len = lseek(capture_fd, 0, SEEK_END);
	if (len < 0 || (*err = calloc(1, (size_t)len + 1)) == NULL ||
	    pread(capture_fd, *err, (size_t)len, 0) != len)
		abort();
	return rc;
}

/* Whether msg (after "FILE: ") is one of the whole-file errors. */
static int
whole_file(const char *msg)
{
	return strncmp(msg, "missing key ", 12) == 0 ||
	       strncmp(msg, "[uplink] needs ", 15) == 0 ||
	       strncmp(msg, "[downlink] needs ", 17) == 0 ||
	       strncmp(msg, "cannot open: ", 13) == 0 ||
	       strncmp(msg, "cannot parse", 12) == 0 ||
	       strncmp(msg, "downlink.children: cannot open ", 31) == 0;
}

/* The length of line's FILE part (up to its first ':') when it names the
 * file at path (as written in the conf it may be spelt another way, as
 * "//dev/shm/..." for "children = /@CHILDREN@"), else 0. */
static size_t
names_file(const char *line, const char *path)
{
	const char *colon = strchr(line, ':');
	char name[4200];
	struct stat a, b;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - line)) == 0 ||
	    n >= sizeof(name))
		return 0;
	memcpy(name, line, n);
	name[n] = '\0';
	if (strcmp(name, path) == 0)
		return n;
	return stat(name, &a) == 0 && stat(path, &b) == 0 &&
	               a.st_dev == b.st_dev && a.st_ino == b.st_ino
	           ? n
	           : 0;
}

/* One line of conf_load's stderr. */
static void
check_error_line(const char *line, int conf_lines, int children_lines)
{
	const char *files[2] = {conf_path, children_path};
	int nlines[2] = {conf_lines, children_lines}, ok = 0;

	FUZZ_CHECK(valid_utf8(line, strlen(line)) == 0, "error-utf8",
	    "conf error is not UTF-8: %s", line);
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (!FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "error-ctrl",
		        "conf error holds byte 0x%02x: %s", *p, line))
			break;
	for (int f = 0; f < 2 && !ok; f++) {
		size_t pl = names_file(line, files[f]);
		const char *p = line + pl;
		char *end;
		long n;

		if (pl == 0)
			continue;
		if (p[1] == ' ') {
			ok = f == 0 && whole_file(p + 2);
			continue;
		}
		n = strtol(p + 1, &end, 10);
		ok = end != p + 1 && end[0] == ':' && end[1] == ' ' && n >= 1 &&
		     n <= nlines[f];
	}
	FUZZ_CHECK(ok, "conf-error-line",
	    "conf error does not name FILE:LINE of a line the file has (conf "
	    "%d lines, children %d): %s",
	    conf_lines, children_lines, line);
}

/* Lines of the children file that can hold a child (not blank, not #). */
static size_t
child_lines(const char *data, size_t n)
{
	size_t lines = 0, i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && (data[j] == ' ' || data[j] == '\t'))
			j++;
		if (j < n && data[j] != '\n' && data[j] != '\r' &&
		    data[j] != '#')
			lines++;
		while (i < n && data[i] != '\n')
			i++;
		i++;
	}
	return lines;
}

static void
check_accepted(const struct conf *c, size_t max_children)
{
	struct wire_msg m, back;
	char *buf = NULL;
	size_t len;
	int rc;

	FUZZ_CHECK(valid_id(c->id, strlen(c->id)) == 0 && c->level >= 0 &&
	               c->level < VALID_NLEVELS &&
	               valid_unit_name(c->name, strlen(c->name)) == 0 &&
	               c->name[0] != '\0',
	    "conf-accept", "accepted conf with id \"%s\" level %d", c->id,
	    c->level);
	if (c->level < 0 || c->level >= VALID_NLEVELS)
		return;
	memset(&m, 0, sizeof(m));
	m.type = WIRE_HELLO;
	snprintf(m.id, sizeof(m.id), "%s", c->id);
	snprintf(m.level, sizeof(m.level), "%s", valid_level_names[c->level]);
	snprintf(m.name, sizeof(m.name), "%s", c->name);
	rc = wire_encode(&m, &buf, &len);
	FUZZ_CHECK(rc == WIRE_OK, "conf-accept",
	    "accepted conf gives a HELLO wire_encode refuses (%d): id \"%s\"",
	    rc, c->id);
	if (rc == WIRE_OK) {
		rc = wire_decode(buf, len, &back);
		FUZZ_CHECK(rc == WIRE_OK && back.type == WIRE_HELLO &&
		               strcmp(back.id, m.id) == 0 &&
		               strcmp(back.level, m.level) == 0 &&
		               strcmp(back.name, m.name) == 0,
		    "conf-accept", "the conf's HELLO does not decode back");
		wire_msg_free(&back);
	}
	free(buf);
	FUZZ_CHECK(c->nchildren <= max_children, "conf-children-lines",
	    "%zu children from a file of %zu child lines", c->nchildren,
	    max_children);
	for (size_t i = 0; i < c->nchildren; i++) {
		const struct conf_child *ch = &c->children[i];
		FUZZ_CHECK(valid_id(ch->id, strlen(ch->id)) == 0 &&
		               valid_z85_key(ch->public_key,
		                   strlen(ch->public_key)) == 0 &&
		               valid_unit_name(ch->name, strlen(ch->name)) == 0,
		    "conf-accept", "child %zu (\"%s\") not valid", i, ch->id);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *sep;
	size_t conf_len = size, slot = strlen(SLOT), cl = strlen(children_path);
	char *text, *err, *line, *save = NULL;
	size_t tl = 0;
	int rc, errors = 0;
	struct conf c;

	if (size > MAX_TEXT)
		return 0;
	sep = memmem(in, size, SEP, strlen(SEP));
	if (sep != NULL)
		conf_len = (size_t)(sep - in) + 1; /* keep the conf's newline */
	/* the conf with every @CHILDREN@ replaced by the children file */
	if ((text = malloc(conf_len * (cl + 1) + 1)) == NULL)
		abort();
	for (size_t i = 0; i < conf_len;)
		if (conf_len - i >= slot && memcmp(in + i, SLOT, slot) == 0) {
			memcpy(text + tl, children_path, cl);
			tl += cl;
			i += slot;
		} else
			text[tl++] = in[i++];
	fuzz_write_file(conf_path, text, tl);
	if (sep != NULL)
		fuzz_write_file(children_path, sep + strlen(SEP),
		    size - (size_t)(sep - in) - strlen(SEP));
	else
		unlink(children_path);

	rc = load(&c, &err);
	for (line = strtok_r(err, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		errors++;
		check_error_line(line, count_lines(text, tl),
		    sep ? count_lines(sep + strlen(SEP),
		              size - (size_t)(sep - in) - strlen(SEP))
		        : 0);
	}
	FUZZ_CHECK(rc == errors, "conf-error-count",
	    "conf_load counted %d errors and printed %d lines", rc, errors);
	if (rc == 0)
		check_accepted(
		    &c, sep ? child_lines(sep + strlen(SEP),
		                  size - (size_t)(sep - in) - strlen(SEP))
		            : 0);
	conf_free(&c);
	free(err);
	free(text);
	return 0;
}
