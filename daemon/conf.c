/*
 * conf.c: INI parsing (inih) into struct conf, plus the children file.
 * inih does not pass line numbers to the handler, so we feed it through our
 * own line reader and count lines there.  Ids, names, levels and keys are
 * checked with the shared rules of proto/valid.h, so a conf that passes -n
 * holds nothing the wire codec would refuse to send.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ini.h>

#include "conf.h"
#include "valid.h"

struct parse_state {
	struct conf *c;
	FILE *fp;
	int line;
	int errors;
	unsigned seen;         /* bit per option index */
	unsigned seen_targets; /* bit per indicator */
	const char *why;       /* set by a parser: what is wrong, or NULL */
	char why_buf[96];
};

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out);

typedef int (*opt_fn)(
    struct parse_state *, const char *value, void *field, size_t size);

struct option {
	const char *section, *key;
	opt_fn parse;
	size_t offset, size;
	int required;
	const char *hint; /* what a valid value looks like */
};

/* One error at the current line; a and b come from the file and are
 * quoted as valid text (valid_quote: bad bytes and controls as \xNN). */
static void
conf_err(struct parse_state *ps, const char *fmt, const char *a, const char *b)
{
	char qa[512], qb[512];

	valid_quote(qa, sizeof(qa), a, strlen(a));
	valid_quote(qb, sizeof(qb), b, strlen(b));
	fprintf(stderr, "%s:%d: ", ps->c->path, ps->line);
	fprintf(stderr, fmt, qa, qb);
	fputc('\n', stderr);
	ps->errors++;
}

static int
opt_string(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (strlen(v) == 0 || strlen(v) >= size)
		return -1;
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

/* A unit name: the wire format's name rule (valid_unit_name), non-empty. */
static int
opt_name(struct parse_state *ps, const char *v, void *field, size_t size)
{
	size_t at;
	const char *bad = valid_text_why(v, strlen(v), &at);

	if (bad != NULL) {
		snprintf(ps->why_buf, sizeof(ps->why_buf), "%s at byte %zu",
		    bad, at + 1);
		ps->why = ps->why_buf;
		return -1;
	}
	if (valid_unit_name(v, strlen(v)) != 0)
		return -1;
	return opt_string(ps, v, field, size);
}

static int
opt_id(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (valid_id(v, strlen(v)) != 0)
		return -1;
	return opt_string(ps, v, field, size);
}

/* Returns 0 or -1; host is the caller's. */
int
conf_hostport(const char *v, int any, char *host, size_t hostsize, int *port)
{
	const char *colon = strrchr(v, ':'), *h = v, *end;
	uint64_t p;
	size_t n;

	if (colon == NULL || parse_u64(colon + 1, 1, 65535, &p) != 0)
		return -1;
	if (port != NULL)
		*port = (int)p;
	end = colon;
	if (*v == '[') {
		if (colon == v || colon[-1] != ']')
			return -1;
		h = v + 1;
		end = colon - 1;
		n = (size_t)(end - h);
		if (n == 0 || strspn(h, "0123456789abcdefABCDEF:.") < n)
			return -1;
	} else {
		n = (size_t)(end - h);
		if (n == 0 || (n == 1 && *h == '*' && !any) ||
		    (!(n == 1 && *h == '*') &&
		        strspn(h, "0123456789abcdefghijklmnopqrstuvwxyz"
		                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_") < n))
			return -1;
	}
	if (host != NULL) {
		if (n >= hostsize)
			return -1;
		memcpy(host, h, n);
		host[n] = '\0';
	}
	return 0;
}

/* host:port for the HTTP API (resolved and tried by preflight.c). */
static int
opt_listen(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (conf_hostport(v, 0, NULL, 0, NULL) != 0)
		return -1;
	return opt_string(ps, v, field, size);
}

static int
opt_connect(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (!conf_valid_endpoint(v, 0, NULL, 0))
		return -1;
	return opt_string(ps, v, field, size);
}

static int
opt_bind(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (!conf_valid_endpoint(v, 1, NULL, 0))
		return -1;
	return opt_string(ps, v, field, size);
}

static int
opt_level(struct parse_state *ps, const char *v, void *field, size_t size)
{
	int l = valid_level(v, strlen(v));

	if (l < 0)
		return -1;
	*(int *)field = l;
	return 0;
}

static int
parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
opt_mapsize(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return parse_u64(v, 1, 1u << 20, field);
}

/* 0 (off) or 1..4096 MiB (store.h STORE_JOURNAL_MB_MAX). */
static int
opt_journal(struct parse_state *ps, const char *v, void *field, size_t size)
{
	uint64_t n;

	if (parse_u64(v, 0, 4096, &n) != 0)
		return -1;
	*(uint32_t *)field = (uint32_t)n;
	return 0;
}

static int
opt_bodykb(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return parse_u64(v, 1, 1u << 20, field);
}

static int
opt_int(const char *v, int min, int max, int *out)
{
	uint64_t n;

	if (parse_u64(v, (uint64_t)min, (uint64_t)max, &n) != 0)
		return -1;
	*out = (int)n;
	return 0;
}

static int
opt_timeout(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return opt_int(v, 1, 3600, field);
}

static int
opt_flush(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return opt_int(v, 1, 60000, field);
}

static int
opt_maxorig(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return opt_int(v, 1, 10000000, field);
}

static int
opt_stale(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return opt_int(v, 1, 366 * 86400, field);
}

/* score | decision (enum rules_recognition). */
static int
opt_recognition(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (strcmp(v, "score") == 0)
		*(int *)field = RECOGNITION_SCORE;
	else if (strcmp(v, "decision") == 0)
		*(int *)field = RECOGNITION_DECISION;
	else
		return -1;
	return 0;
}

/* MM-DD into deadline_month and deadline_day (a day every year has). */
static int
opt_deadline(struct parse_state *ps, const char *v, void *field, size_t size)
{
	static const int mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int *md = field, m, d, n = 0;

	if (strlen(v) != 5 || sscanf(v, "%2d-%2d%n", &m, &d, &n) != 2 ||
	    n != 5 || !isdigit((unsigned char)v[0]) ||
	    !isdigit((unsigned char)v[3]) || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] || (m == 2 && d == 29))
		return -1;
	md[0] = m;
	md[1] = d;
	return 0;
}

/*
 * A time zone: a fixed offset "+HH:MM" / "-HH:MM" (HH 0..14), "UTC", or
 * one of the names of fixed-offset zones Vietnam uses (Asia/Ho_Chi_Minh,
 * Asia/Saigon, both +07:00, no daylight saving since 1975).  Fills
 * timezone (the text) and utc_offset_min, which follows it in struct conf.
 */
static int
opt_timezone(struct parse_state *ps, const char *v, void *field, size_t size)
{
	static const struct {
		const char *name;
		int offset;
	} zones[] = {{"Asia/Ho_Chi_Minh", 420}, {"Asia/Saigon", 420},
	    {"UTC", 0}, {"Etc/UTC", 0}};
	int *off = (int *)((char *)field + size), h, m, n = 0;

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(v, zones[i].name) == 0) {
			*off = zones[i].offset;
			return opt_string(ps, v, field, size);
		}
	if (strlen(v) != 6 || (v[0] != '+' && v[0] != '-') ||
	    !isdigit((unsigned char)v[1]) || !isdigit((unsigned char)v[4]) ||
	    sscanf(v + 1, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || h > 14 ||
	    m > 59) {
		ps->why = "unknown zone name";
		return -1;
	}
	*off = (v[0] == '-' ? -1 : 1) * (h * 60 + m);
	return opt_string(ps, v, field, size);
}

static int
opt_year(struct parse_state *ps, const char *v, void *field, size_t size)
{
	return opt_int(v, VALID_YEAR_MIN, VALID_YEAR_MAX, field);
}

static int
opt_z85key(struct parse_state *ps, const char *v, void *field, size_t size)
{
	if (valid_z85_key(v, strlen(v)) != 0)
		return -1;
	memcpy(field, v, VALID_Z85_KEY_LEN + 1);
	return 0;
}

#define F(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
static const struct option options[] = {
    {"node", "id", opt_id, F(id), 1,
        "a unit code of 1-16 characters [0-9A-Za-z_-]"},
    {"node", "level", opt_level, F(level), 1,
        "commune, district, province or national"},
    {"node", "name", opt_name, F(name), 1,
        "a non-empty name of at most 128 bytes of UTF-8 without control "
        "characters"},
    {"node", "data_dir", opt_string, F(data_dir), 1, "a directory path"},
    {"node", "map_size_mb", opt_mapsize, F(map_size_mb), 0,
        "megabytes, 1..1048576"},
    {"node", "journal_mb", opt_journal, F(journal_mb), 0,
        "megabytes, 0 (no journal: LMDB syncs every commit) or 1..4096"},
    {"node", "counts_from", opt_year, F(counts_from), 0,
        "a year 2021..2030 (records of earlier years are kept but not "
        "counted)"},
    {"http", "listen", opt_listen, F(http_listen), 1,
        "HOST:PORT such as 127.0.0.1:8470 (HOST a name, an IPv4 "
        "address or [IPv6])"},
    {"http", "tokens", opt_string, F(tokens_path), 1, "a file path"},
    {"http", "max_body_kb", opt_bodykb, F(max_body_kb), 0,
        "kilobytes, 1..1048576"},
    {"http", "request_timeout", opt_timeout, F(request_timeout_s), 0,
        "seconds, 1..3600"},
    {"uplink", "parent", opt_connect, F(parent), 0,
        "a ZeroMQ endpoint tcp://HOST:PORT such as tcp://10.0.0.1:9470"},
    {"uplink", "parent_key", opt_z85key, F(parent_key), 0,
        "a 40-character Z85 public key (cdht keygen)"},
    {"uplink", "secret_key", opt_string, F(uplink_secret_path), 0,
        "a file path"},
    {"uplink", "flush_ms", opt_flush, F(flush_ms), 0, "milliseconds, 1..60000"},
    {"downlink", "listen", opt_bind, F(downlink_listen), 0,
        "a ZeroMQ endpoint tcp://HOST:PORT such as tcp://0.0.0.0:9470"},
    {"downlink", "secret_key", opt_string, F(downlink_secret_path), 0,
        "a file path"},
    {"downlink", "children", opt_string, F(children_path), 0, "a file path"},
    {"downlink", "retired", opt_string, F(retired_path), 0, "a file path"},
    {"downlink", "max_origins_per_child", opt_maxorig, F(max_origins_per_child),
        0, "units, 1..10000000"},
    {"downlink", "stale_after", opt_stale, F(stale_after_s), 0,
        "seconds, 1..31622400 (a unit whose last report is older is "
        "stale)"},
    {"programme", "deadline", opt_deadline,
        offsetof(struct conf, deadline_month), 2 * sizeof(int), 0,
        "MM-DD such as 12-01 (the yearly reports are due that day)"},
    {"programme", "recognition", opt_recognition, F(recognition), 0,
        "score (passing the scoring rule recognises) or decision (a "
        "recorded decision recognises those who pass)"},
    {"programme", "timezone", opt_timezone, F(timezone), 0,
        "Asia/Ho_Chi_Minh, UTC or a fixed offset such as +07:00"},
};
#undef F
_Static_assert(offsetof(struct conf, deadline_day) ==
                       offsetof(struct conf, deadline_month) + sizeof(int) &&
                   offsetof(struct conf, utc_offset_min) ==
                       offsetof(struct conf, timezone) +
                           sizeof(((struct conf *)0)->timezone),
    "conf: opt_deadline and opt_timezone fill adjacent fields");
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(NOPTIONS <= CONF_MAX_OPTIONS && NOPTIONS <= 32,
    "conf: key_line and the seen bits hold one entry per option");

/*
 * One target of [targets]: a whole percent 0..100, optionally prefixed
 * ">" (strict: above it; ">100" could never be met).  Returns NULL, or
 * what is wrong (static storage).
 */
static const char *
parse_one_target(const char *tok, size_t len, int *pct, bool *strict)
{
	size_t i = 0;
	int v = 0;

	*strict = len > 0 && tok[0] == '>';
	i = *strict;
	if (i == len)
		return "a whole percent is missing after \">\"";
	if (tok[i] == '>')
		return "\">\" may appear only once";
	for (; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return "not a whole percent";
		if ((v = v * 10 + (tok[i] - '0')) > 100)
			return "above 100";
	}
	if (*strict && v == 100)
		return "\">100\" can never be met";
	*pct = v;
	return NULL;
}

/* key = [>]P2025 [>]P2030 (`staff = >60 80`: above 60% by 2025, 80%). */
static int
parse_target(struct parse_state *ps, const char *key, const char *v)
{
	static const char *const years[2] = {"2025", "2030"};
	int ind = rules_lookup(rules_indicator_names, IND_COUNT, key);
	int pct[2] = {0, 0};
	bool strict[2] = {false, false};
	const char *p = v, *why = NULL;
	char what[160];
	int k;

	if (ind < 0) {
		conf_err(ps, "unknown key \"%s\" in [targets]%s", key, "");
		return 1;
	}
	if (ps->seen_targets & (1u << ind))
		conf_err(ps, "duplicate key \"%s\" in [%s]", key, "targets");
	ps->seen_targets |= 1u << ind;
	for (k = 0; k < 3 && why == NULL; k++) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (k == 2) {
			if (len > 0)
				why = "more than two values";
			break;
		}
		if (len == 0) {
			why =
			    k == 0 ? "no values" : "the 2030 target is missing";
			break;
		}
		if ((why = parse_one_target(p, len, &pct[k], &strict[k])) !=
		    NULL) {
			snprintf(what, sizeof(what), "the %s target: %s",
			    years[k], why);
			why = what;
		}
		p += len;
	}
	if (why != NULL) {
		char msg[320];

		snprintf(msg, sizeof(msg),
		    "targets.%%s: invalid value \"%%s\": %s; expected two "
		    "whole percents 0..100, 2025 then 2030, each optionally "
		    "prefixed > (above it), such as \"staff = >60 80\"",
		    why);
		conf_err(ps, msg, key, v);
		return 1;
	}
	for (k = 0; k < 2; k++) {
		ps->c->targets.pct[ind][k] = pct[k];
		ps->c->targets.strict[ind][k] = strict[k];
	}
	return 1;
}

/*
 * Write a value as typed, but with control characters and, in a value that
 * is not UTF-8, every byte above 0x7f as \xNN: the terminal shows what the
 * file holds.
 */
static void
conf_put_value(FILE *fp, const char *v)
{
	int utf8 = valid_utf8(v, strlen(v)) == 0;

	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
}

static int
conf_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;

	if (strcmp(section, "targets") == 0)
		return parse_target(ps, name, value);
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option *o = &options[i];
		if (strcmp(o->section, section) || strcmp(o->key, name))
			continue;
		if (ps->seen & (1u << i))
			conf_err(
			    ps, "duplicate key \"%s\" in [%s]", name, section);
		ps->seen |= 1u << i;
		ps->why = NULL;
		ps->c->key_line[i] = ps->line;
		if (o->parse(ps, value, (char *)ps->c + o->offset, o->size)) {
			fprintf(stderr, "%s:%d: %s.%s: invalid value \"",
			    ps->c->path, ps->line, section, name);
			conf_put_value(stderr, value);
			fprintf(stderr, "\": %s%sexpected %s\n",
			    ps->why ? ps->why : "", ps->why ? "; " : "",
			    o->hint);
			ps->errors++;
		}
		return 1;
	}
	conf_err(ps, "unknown key \"%s\" in [%s]", name, section);
	return 1;
}

/*
 * inih's line reader: one physical line per call, counted for error
 * messages.  inih's buffer is 200 bytes in Debian's build: a longer line is
 * an error of its own (never silently split into two).
 */
static char *
conf_reader(char *buf, int size, void *stream)
{
	struct parse_state *ps = stream;
	int ch;

	if (fgets(buf, size, ps->fp) == NULL)
		return NULL;
	ps->line++;
	if (strchr(buf, '\n') == NULL && !feof(ps->fp)) {
		while ((ch = fgetc(ps->fp)) != EOF && ch != '\n')
			;
		fprintf(stderr, "%s:%d: line longer than %d bytes\n",
		    ps->c->path, ps->line, size - 2);
		ps->errors++;
		buf[0] = '\0'; /* hand inih an empty line */
	}
	return buf;
}

static void
conf_defaults(struct conf *c)
{
	c->map_size_mb = 1024;
	c->journal_mb = 64; /* store.h STORE_JOURNAL_MB */
	c->max_body_kb = 8192;
	c->request_timeout_s = 30;
	c->flush_ms = 50;
	/* well above the largest real subtree below one child: 2024's
	 * biggest province had fewer than 700 communes and districts */
	c->max_origins_per_child = 20000;
	c->stale_after_s = 86400;
	c->deadline_month = 12; /* before 1 December (001:93) */
	c->deadline_day = 1;
	snprintf(c->timezone, sizeof(c->timezone), "Asia/Ho_Chi_Minh");
	c->utc_offset_min = 420;
	c->counts_from = VALID_YEAR_MIN;
	rules_targets_default(&c->targets);
}

/* Read "ID PUBLIC_KEY NAME..." lines; returns the number of errors. */
static int
conf_load_children(struct conf *c)
{
	FILE *fp = fopen(c->children_path, "r");
	char line[1024], path[4 * sizeof(c->children_path)];
	int lineno = 0, errors = 0;

	/* the path comes from the conf: quoted as valid text in messages */
	valid_quote(
	    path, sizeof(path), c->children_path, strlen(c->children_path));
	if (fp == NULL) {
		conf_errorf(c, "downlink", "children", "cannot open \"%s\": %s",
		    c->children_path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char id[64], key[64];
		int n = 0;
		const char *name;
		struct conf_child *ch;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			/* longer than any valid line: an error, never read
			 * as two lines */
			int byte;

			while ((byte = fgetc(fp)) != EOF && byte != '\n')
				;
			fprintf(stderr,
			    "%s:%d: line longer than %zu bytes (expected "
			    "\"ID PUBLIC_KEY NAME\")\n",
			    path, lineno, sizeof(line) - 2);
			errors++;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (sscanf(line, " %63s %63s %n", id, key, &n) != 2) {
			fprintf(stderr,
			    "%s:%d: expected \"ID PUBLIC_KEY NAME\"\n", path,
			    lineno);
			errors++;
			continue;
		}
		name = line + n;
		if (valid_id(id, strlen(id)) != 0) {
			char q[4 * sizeof(id)];

			valid_quote(q, sizeof(q), id, strlen(id));
			fprintf(stderr, "%s:%d: invalid unit id \"%s\"\n", path,
			    lineno, q);
			errors++;
			continue;
		}
		if (valid_z85_key(key, strlen(key)) != 0) {
			fprintf(stderr,
			    "%s:%d: public key of \"%s\" is not 40 "
			    "Z85 characters (cdht keygen)\n",
			    path, lineno, id);
			errors++;
			continue;
		}
		if (valid_unit_name(name, strlen(name)) != 0) {
			fprintf(stderr,
			    "%s:%d: name of \"%s\" is not a unit name (at "
			    "most %d bytes of UTF-8 without control "
			    "characters)\n",
			    path, lineno, id, WIRE_MAX_NAME);
			errors++;
			continue;
		}
		if (conf_child_by_id(c, id) >= 0 ||
		    conf_child_by_key(c, key) >= 0 || strcmp(id, c->id) == 0) {
			fprintf(stderr,
			    "%s:%d: duplicate child id or key \"%s\"\n", path,
			    lineno, id);
			errors++;
			continue;
		}
		if (c->nchildren >= CONF_MAX_CHILDREN) {
			fprintf(stderr, "%s:%d: more than %d children\n", path,
			    lineno, CONF_MAX_CHILDREN);
			errors++;
			break;
		}
		ch = realloc(c->children, (c->nchildren + 1) * sizeof(*ch));
		if (ch == NULL) {
			errors++;
			break;
		}
		c->children = ch;
		ch = &c->children[c->nchildren++];
		memset(ch, 0, sizeof(*ch));
		strcpy(ch->id, id);
		strcpy(ch->public_key, key);
		snprintf(ch->name, sizeof(ch->name), "%s", *name ? name : id);
	}
	fclose(fp);
	return errors;
}

static int
retired_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_retired *)a)->id,
	    ((const struct conf_retired *)b)->id);
}

/*
 * Read "ID LAST_YEAR SUCCESSOR NAME..." lines (SUCCESSOR a unit id or
 * "-"), after the children file: a retired unit is no child any more,
 * unless it names itself as its successor (its code is reused by the new
 * unit).  Returns the number of errors; the entries end sorted by id.
 */
static int
conf_load_retired(struct conf *c)
{
	FILE *fp = fopen(c->retired_path, "r");
	char line[1024], path[4 * sizeof(c->retired_path)];
	int lineno = 0, errors = 0;

	valid_quote(
	    path, sizeof(path), c->retired_path, strlen(c->retired_path));
	if (fp == NULL) {
		conf_errorf(c, "downlink", "retired", "cannot open \"%s\": %s",
		    c->retired_path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char id[64], succ[64], q[4 * 64];
		int n = 0, year;
		uint64_t y;
		char ybuf[16];
		const char *name;
		struct conf_retired *r;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			int byte;

			while ((byte = fgetc(fp)) != EOF && byte != '\n')
				;
			fprintf(stderr,
			    "%s:%d: line longer than %zu bytes (expected "
			    "\"ID LAST_YEAR SUCCESSOR NAME\")\n",
			    path, lineno, sizeof(line) - 2);
			errors++;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (sscanf(line, " %63s %15s %63s %n", id, ybuf, succ, &n) !=
		    3) {
			fprintf(stderr,
			    "%s:%d: expected \"ID LAST_YEAR SUCCESSOR NAME\" "
			    "(SUCCESSOR a unit id or -)\n",
			    path, lineno);
			errors++;
			continue;
		}
		name = line + n;
		valid_quote(q, sizeof(q), id, strlen(id));
		if (valid_id(id, strlen(id)) != 0) {
			fprintf(stderr, "%s:%d: invalid unit id \"%s\"\n", path,
			    lineno, q);
			errors++;
			continue;
		}
		if (parse_u64(ybuf, VALID_YEAR_MIN, VALID_YEAR_MAX, &y) != 0) {
			fprintf(stderr,
			    "%s:%d: last year of \"%s\" is not a year "
			    "%d..%d\n",
			    path, lineno, q, VALID_YEAR_MIN, VALID_YEAR_MAX);
			errors++;
			continue;
		}
		year = (int)y;
		if (strcmp(succ, "-") != 0 &&
		    valid_id(succ, strlen(succ)) != 0) {
			char qs[4 * 64];

			valid_quote(qs, sizeof(qs), succ, strlen(succ));
			fprintf(stderr,
			    "%s:%d: successor of \"%s\" is not a unit id or "
			    "-: \"%s\"\n",
			    path, lineno, q, qs);
			errors++;
			continue;
		}
		if (*name != '\0' && valid_unit_name(name, strlen(name)) != 0) {
			fprintf(stderr,
			    "%s:%d: name of \"%s\" is not a unit name (at "
			    "most %d bytes of UTF-8 without control "
			    "characters)\n",
			    path, lineno, q, WIRE_MAX_NAME);
			errors++;
			continue;
		}
		if (strcmp(id, c->id) == 0) {
			fprintf(stderr, "%s:%d: \"%s\" is this node's own id\n",
			    path, lineno, q);
			errors++;
			continue;
		}
		if (conf_child_by_id(c, id) >= 0 && strcmp(succ, id) != 0) {
			fprintf(stderr,
			    "%s:%d: \"%s\" is retired and still in the "
			    "children file: remove it there (its key is then "
			    "refused), or name it as its own successor when "
			    "the new unit reuses its code\n",
			    path, lineno, q);
			errors++;
			continue;
		}
		if (c->nretired >= CONF_MAX_RETIRED) {
			fprintf(stderr, "%s:%d: more than %d retired units\n",
			    path, lineno, CONF_MAX_RETIRED);
			errors++;
			break;
		}
		r = realloc(c->retired, (c->nretired + 1) * sizeof(*r));
		if (r == NULL) {
			errors++;
			break;
		}
		c->retired = r;
		r = &c->retired[c->nretired++];
		memset(r, 0, sizeof(*r));
		strcpy(r->id, id);
		r->last_year = year;
		if (strcmp(succ, "-") != 0)
			strcpy(r->successor, succ);
		snprintf(r->name, sizeof(r->name), "%s", *name ? name : id);
		r->line = lineno;
	}
	fclose(fp);
	if (c->nretired > 1)
		qsort(
		    c->retired, c->nretired, sizeof(*c->retired), retired_cmp);
	for (size_t i = 1; i < c->nretired; i++)
		if (strcmp(c->retired[i - 1].id, c->retired[i].id) == 0) {
			const struct conf_retired *a = &c->retired[i - 1],
			                          *b = &c->retired[i];
			fprintf(stderr,
			    "%s:%d: \"%s\" is retired twice (also line %d)\n",
			    path, a->line > b->line ? a->line : b->line, a->id,
			    a->line < b->line ? a->line : b->line);
			errors++;
		}
	return errors;
}

const struct conf_retired *
conf_retired_by_id(const struct conf *c, const char *id)
{
	struct conf_retired key;

	if (c->nretired == 0 || strlen(id) > WIRE_MAX_ID)
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(
	    &key, c->retired, c->nretired, sizeof(*c->retired), retired_cmp);
}

/* 1 if the conf sets section.key (to any value). */
static int
conf_has(const struct conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].section, section) == 0 &&
		    strcmp(options[i].key, key) == 0)
			return c->key_line[i] > 0;
	return 0;
}

int
conf_load(const char *path, struct conf *c)
{
	struct parse_state ps = {.c = c};
	int rc, n;

	memset(c, 0, sizeof(*c));
	c->path = path;
	conf_defaults(c);
	if ((ps.fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	rc = ini_parse_stream(conf_reader, &ps, conf_handler, &ps);
	fclose(ps.fp);
	if (rc > 0) {
		fprintf(stderr,
		    "%s:%d: syntax error (expected [section] or "
		    "key = value)\n",
		    path, rc);
		ps.errors++;
	} else if (rc < 0) {
		fprintf(stderr, "%s: cannot parse\n", path);
		ps.errors++;
	}
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].required && !(ps.seen & (1u << i))) {
			fprintf(stderr, "%s: missing key \"%s\" in [%s]\n",
			    path, options[i].key, options[i].section);
			ps.errors++;
		}
	/* the sections of a link come whole or not at all (keys given,
	 * valid or not: an invalid value is reported already) */
	n = conf_has(c, "uplink", "parent") +
	    conf_has(c, "uplink", "parent_key") +
	    conf_has(c, "uplink", "secret_key");
	if (n > 0 && n < 3) {
		fprintf(stderr,
		    "%s: [uplink] needs parent, parent_key and "
		    "secret_key\n",
		    path);
		ps.errors++;
	}
	n = conf_has(c, "downlink", "listen") +
	    conf_has(c, "downlink", "secret_key") +
	    conf_has(c, "downlink", "children");
	if (n > 0 && n < 3) {
		fprintf(stderr,
		    "%s: [downlink] needs listen, secret_key and "
		    "children\n",
		    path);
		ps.errors++;
	}
	if (c->children_path[0] && ps.errors == 0)
		ps.errors += conf_load_children(c);
	if (c->retired_path[0] && ps.errors == 0)
		ps.errors += conf_load_retired(c);
	return ps.errors;
}

void
conf_free(struct conf *c)
{
	free(c->children);
	c->children = NULL;
	c->nchildren = 0;
	free(c->retired);
	c->retired = NULL;
	c->nretired = 0;
}

int
conf_child_by_id(const struct conf *c, const char *id)
{
	for (size_t i = 0; i < c->nchildren; i++)
		if (strcmp(c->children[i].id, id) == 0)
			return (int)i;
	return -1;
}

int
conf_child_by_key(const struct conf *c, const char *z85)
{
	for (size_t i = 0; i < c->nchildren; i++)
		if (strcmp(c->children[i].public_key, z85) == 0)
			return (int)i;
	return -1;
}

int
conf_valid_endpoint(const char *s, int bind, char *host, size_t hostsize)
{
	return strncmp(s, "tcp://", 6) == 0 &&
	       conf_hostport(s + 6, bind, host, hostsize, NULL) == 0;
}

/* Returns buf (the caller's). */
const char *
conf_where(const struct conf *c, const char *section, const char *key,
    char *buf, size_t size)
{
	int line = 0;

	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].section, section) == 0 &&
		    strcmp(options[i].key, key) == 0)
			line = c->key_line[i];
	if (line > 0)
		snprintf(
		    buf, size, "%s:%d: %s.%s", c->path, line, section, key);
	else
		snprintf(buf, size, "%s: %s.%s", c->path, section, key);
	return buf;
}

void
conf_errorf(const struct conf *c, const char *section, const char *key,
    const char *fmt, ...)
{
	char where[4200], msg[4200], q[4 * 4200];
	va_list ap;

	/* messages quote paths and values from the file: as valid text */
	conf_where(c, section, key, where, sizeof(where));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	valid_quote(q, sizeof(q), where, strlen(where));
	fprintf(stderr, "%s: ", q);
	valid_quote(q, sizeof(q), msg, strlen(msg));
	fprintf(stderr, "%s\n", q);
}

int
conf_current_year(const struct conf *c, int64_t now)
{
	time_t t = (time_t)(now + (int64_t)c->utc_offset_min * 60);
	struct tm tm;
	int y;

	gmtime_r(&t, &tm);
	y = tm.tm_year + 1900;
	return y < RULES_YEAR_MIN   ? RULES_YEAR_MIN
	       : y > RULES_YEAR_MAX ? RULES_YEAR_MAX
	                            : y;
}
