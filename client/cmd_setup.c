/*
 * cmd_setup.c: a node's administration on its own host, with no server:
 *   init          a new node's files: a commented conf, the CURVE key pair,
 *                 the tokens file with a first admin token, an empty
 *                 children file, and the line for the parent's admin;
 *   child add     a child's line into the children file the conf names,
 *   child remove  and out of it, then reload the running node;
 *   backup        cdhtd --backup (the cdhtd beside this cdht, else PATH).
 *
 * The conf is read with the daemon's own parser (daemon/conf.c, linked into
 * cdht), ids, keys and names are checked with proto/valid.h, and a children
 * line is split into its id and key exactly as conf.c splits it: what this
 * file writes, cdhtd accepts.  Files are written whole into a temporary
 * file and renamed, with the mode (and owner) of the file they replace.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "cdht.h"
#include "conf.h"
#include "rules.h"
#include "valid.h"

#define SETUP_CONF     "/etc/cdht/cdhtd.conf"
#define SETUP_DIR      "/etc/cdht"
#define SETUP_DATA_DIR "/var/lib/cdht"
#define SETUP_USER     "cdht" /* the units' User= */
#define SETUP_PATH_MAX 160    /* conf lines stay below inih's 200 bytes */

/* -- small helpers ---------------------------------------------------- */

static int
setup_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * 1 when path holds a line that is neither blank nor a "#" comment (a
 * token or a child), 0 when it holds none, -1 when it cannot be read
 * (after saying why).
 */
static int
setup_has_entries(const char *path)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	int found = 0;

	if (fp == NULL) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		const char *p = line + strspn(line, " \t");

		found = *p != '\0' && *p != '\n' && *p != '\r' && *p != '#';
	}
	fclose(fp);
	return found;
}

/* Text of a path or value that goes on one conf line: no controls, no
 * inline comment (" ;"), absolute when a path. */
static int
setup_path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) <= SETUP_PATH_MAX &&
	       valid_text(s, strlen(s)) == 0 && strstr(s, " ;") == NULL &&
	       strstr(s, "\t;") == NULL && strchr(s, ' ') == NULL;
}

/* Print s single-quoted for a POSIX shell. */
static void
setup_put_quoted(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs("'\\''", fp);
		else
			fputc(*s, fp);
	fputc('\'', fp);
}

/*
 * Replace path with body[0..len): written to path.tmp in the same
 * directory, synced, then renamed over it.  The new file gets the mode and
 * owner of the file it replaces, else mode and, when gid is not -1, that
 * group.  Returns 0, or -1 after saying why (the old file untouched).
 */
static int
setup_replace(
    const char *path, const char *body, size_t len, mode_t mode, gid_t gid)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd, old = stat(path, &st) == 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		fprintf(stderr, "cdht: %s: path too long\n", path);
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "cdht: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	/* an owner we may not set (not root) is left as it comes */
	if (old)
		(void)!fchown(fd, st.st_uid, st.st_gid);
	else if (gid != (gid_t)-1)
		(void)!fchown(fd, (uid_t)-1, gid);
	if (fchmod(fd, old ? st.st_mode & 07777 : mode) == -1 ||
	    (len > 0 && write(fd, body, len) != (ssize_t)len) ||
	    fsync(fd) == -1 || close(fd) == -1) {
		fprintf(stderr, "cdht: %s: %s\n", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* -- init ------------------------------------------------------------- */

struct setup_init {
	int level; /* index in valid_level_names */
	const char *id, *name, *parent_key, *dir, *data_dir;
	char parent[256], http[256], downlink[256]; /* "" when none */
	int force;
	/* the files, under dir */
	char conf[PATH_MAX], secret[PATH_MAX], public[PATH_MAX];
	char tokens[PATH_MAX], children[PATH_MAX];
	/* as root: the service account, if it exists */
	int root;
	struct passwd *pw;
};

/* valid_level_names: 0 commune, 1 district, 2 province, 3 national and 4
 * agency (a leaf like a commune: a parent, no children). */
#define SETUP_AGENCY  4
#define SETUP_LEAF(l) ((l) == 0 || (l) == SETUP_AGENCY)

/* The map size a level's data needs, as in conf/'s examples. */
static int
setup_map_mb(int level)
{
	return level == 0 || level == SETUP_AGENCY ? 256
	       : level == 1                        ? 512
	                                           : 1024;
}

/* The conf text (the caller frees), or NULL when out of memory. */
static char *
setup_conf_text(const struct setup_init *in)
{
	struct rules_targets t;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	rules_targets_default(&t);
	fprintf(fp,
	    "; cdhtd.conf of %s (%s), written by `cdht init`.\n"
	    "; Every key: cdhtd.conf(5), and the reference "
	    "/usr/share/doc/cdht/examples/\n"
	    "; cdhtd.conf.example. A commented key shows its default. Check "
	    "with\n"
	    ";   cdhtd -n -c %s\n"
	    "; After a change to this file, the tokens or the children:\n"
	    ";   systemctl reload cdhtd   (tokens, children, targets, "
	    "[programme])\n"
	    "; and systemctl restart cdhtd for the listen addresses, "
	    "data_dir, the map\n"
	    "; size, the keys and the parent (cdhtd logs which it needs).\n"
	    "\n",
	    in->name, in->id, in->conf);
	fprintf(fp,
	    "[node]\n"
	    "; The unit's official code: its identity in every report. Never "
	    "reuse or\n"
	    "; change it once the node has reported.\n"
	    "id = %s\n"
	    "; commune | district | province | national | agency\n"
	    "level = %s\n"
	    "name = %s\n"
	    "; The LMDB environment (created if missing, mode 0700). Under "
	    "cdhtd.service\n"
	    "; it must be /var/lib/cdht, the only directory the service may "
	    "write.\n"
	    "data_dir = %s\n"
	    "; LMDB map size in MiB (1..1048576): when it is full, writes get "
	    "507.\n"
	    "map_size_mb = %d\n"
	    "\n",
	    in->id, valid_level_names[in->level], in->name, in->data_dir,
	    setup_map_mb(in->level));
	fprintf(fp,
	    "[http]\n"
	    "; The HTTP/JSON API: plain HTTP with bearer tokens. Keep it on "
	    "127.0.0.1 and\n"
	    "; put a TLS reverse proxy in front of it for clerks on a "
	    "network.\n"
	    "listen = %s\n"
	    "; \"ROLE SHA256HEX LABEL\" lines: `cdht token new` makes one.\n"
	    "tokens = %s\n"
	    "; Largest request body in KiB (bounds a CSV import's chunk).\n"
	    ";max_body_kb = 8192\n"
	    "; Seconds a connection may take per read.\n"
	    ";request_timeout = 30\n"
	    "\n"
	    "; This node's own targets, whole percents for 2025 then 2030, "
	    "measured on\n"
	    "; its totals (its data and everything beneath it). The defaults "
	    "below are\n"
	    "; the national targets: uncomment [targets] and a line to set "
	    "your plan's.\n"
	    ";[targets]\n",
	    in->http, in->tokens);
	for (int i = 0; i < IND_COUNT; i++)
		fprintf(fp, ";%s = %d %d\n", rules_indicator_names[i],
		    t.pct[i][0], t.pct[i][1]);
	fprintf(fp,
	    "\n"
	    "; The programme's settings (uncomment [programme] to change "
	    "one).\n"
	    ";[programme]\n"
	    "; The day each year's filing is due, MM-DD.\n"
	    ";deadline = 12-01\n"
	    "; score: passing the scoring rule recognises; decision: a "
	    "recorded decision\n"
	    "; recognises those who pass.\n"
	    ";recognition = score\n"
	    "; Asia/Ho_Chi_Minh, UTC or a fixed offset such as +07:00.\n"
	    ";timezone = Asia/Ho_Chi_Minh\n"
	    "\n");
	if (in->parent[0] != '\0')
		fprintf(fp,
		    "[uplink]\n"
		    "; The parent's [downlink] listen endpoint and public key, "
		    "as its\n"
		    "; administrator sent them.\n"
		    "parent = %s\n"
		    "parent_key = %s\n"
		    "; This node's secret key (mode 0600, owned by the service "
		    "account). Its\n"
		    "; public half, node.public beside it, is this node's "
		    "identity at the\n"
		    "; parent, whose children file lists it.\n"
		    "secret_key = %s\n"
		    "; Milliseconds to gather changes into one batch before "
		    "sending.\n"
		    ";flush_ms = 50\n"
		    "\n",
		    in->parent, in->parent_key, in->secret);
	else
		fprintf(fp, "; No [uplink]: this node reports to no parent "
		            "(the root of its hierarchy).\n\n");
	if (in->downlink[0] != '\0')
		fprintf(fp,
		    "[downlink]\n"
		    "; Where the children connect. CURVE encrypts the link and "
		    "only the keys\n"
		    "; in the children file get in.\n"
		    "listen = %s\n"
		    "secret_key = %s\n"
		    "; \"ID PUBLIC_KEY NAME\" lines: `cdht child add ID KEY "
		    "NAME` adds one and\n"
		    "; reloads the node, `cdht child remove ID` removes one.\n"
		    "children = %s\n"
		    "; The most units one child may hold (itself and every "
		    "unit "
		    "below it).\n"
		    ";max_origins_per_child = 20000\n"
		    "; Seconds after which a unit's last report is listed as "
		    "stale.\n"
		    ";stale_after = 86400\n",
		    in->downlink, in->secret, in->children);
	else
		fprintf(fp, "; No [downlink]: a commune has no children.\n");
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Every file init would overwrite: named on stderr.  Returns how many.
 * With --force only the conf is rewritten; the key pair, tokens and
 * children are kept (see cmd_init), so only a lone node.public is one.
 */
static int
setup_init_conflicts(const struct setup_init *in)
{
	int n = 0, sec = setup_exists(in->secret),
	    pub = setup_exists(in->public), e;

	if (setup_exists(in->conf) && !in->force) {
		fprintf(stderr, "cdht: %s exists\n", in->conf);
		n++;
	}
	if ((sec || pub) && !in->force) {
		fprintf(stderr, "cdht: %s exists: the node has a key pair\n",
		    sec ? in->secret : in->public);
		n++;
	} else if (pub && !sec) {
		fprintf(stderr,
		    "cdht: %s exists without %s: remove it, or put the "
		    "secret back\n",
		    in->public, in->secret);
		n++;
	}
	if (setup_exists(in->tokens) && !in->force) {
		if ((e = setup_has_entries(in->tokens)) != 0) {
			if (e > 0)
				fprintf(stderr, "cdht: %s holds tokens\n",
				    in->tokens);
			n++;
		}
	}
	if (in->downlink[0] != '\0' && setup_exists(in->children) &&
	    !in->force) {
		if ((e = setup_has_entries(in->children)) != 0) {
			if (e > 0)
				fprintf(stderr, "cdht: %s lists children\n",
				    in->children);
			n++;
		}
	}
	return n;
}

/* Give path to the service account (owner; group too unless group_only)
 * when run as root. */
static void
setup_give(const struct setup_init *in, const char *path, int group_only)
{
	if (!in->root || in->pw == NULL)
		return;
	if (chown(path, group_only ? 0 : in->pw->pw_uid, in->pw->pw_gid) == -1)
		fprintf(stderr, "cdht: chown %s: %s\n", path, strerror(errno));
}

/*
 * The key pair: made new, or with --force the existing secret kept and
 * node.public written again from it.  pub receives the public key.
 * Returns 0 or -1 after saying why.
 */
static int
setup_init_keys(const struct setup_init *in, char pub[VALID_Z85_KEY_LEN + 1])
{
	char sec[VALID_Z85_KEY_LEN + 2] = "";
	int rc = -1;
	FILE *fp;

	if (!setup_exists(in->secret)) {
		if (zmq_curve_keypair(pub, sec) == -1) {
			fprintf(stderr, "cdht: zmq_curve_keypair: %s\n",
			    zmq_strerror(errno));
			return -1;
		}
		if (cli_key_write(in->secret, 0600, sec) == 0 &&
		    cli_key_write(in->public, 0644, pub) == 0)
			rc = 0;
		else
			unlink(in->secret);
		goto out;
	}
	if ((fp = fopen(in->secret, "r")) == NULL) {
		fprintf(stderr, "cdht: %s: %s\n", in->secret, strerror(errno));
		return -1;
	}
	if (fgets(sec, sizeof(sec), fp) == NULL)
		sec[0] = '\0';
	fclose(fp);
	sec[strcspn(sec, "\r\n")] = '\0';
	if (valid_z85_key(sec, strlen(sec)) != 0 ||
	    zmq_curve_public(pub, sec) == -1) {
		fprintf(stderr,
		    "cdht: %s: not a CURVE secret key (40 Z85 characters)\n",
		    in->secret);
		goto out;
	}
	unlink(in->public);
	if (cli_key_write(in->public, 0644, pub) == 0) {
		printf("Kept the key pair of %s\n", in->secret);
		rc = 0;
	}
out:
	sodium_memzero(sec, sizeof(sec));
	if (rc == 0)
		setup_give(in, in->secret, 0);
	return rc;
}

/*
 * The first admin token, appended to the tokens file (made when missing,
 * mode 0640, group cdht as root).  token receives it.  Returns 0 or -1.
 */
static int
setup_init_tokens(const struct setup_init *in, char token[CLI_TOKEN_LEN + 1])
{
	char hash[CLI_TOKEN_LEN + 1], *old = NULL, *body = NULL;
	size_t oldlen = 0;
	int rc = -1, n, more;

	cli_token_make(token, hash);
	if (setup_exists(in->tokens)) {
		if (cli_read_file(in->tokens, &old, &oldlen) == -1)
			return -1;
	} else {
		n = asprintf(&old,
		    "# %s: who may use this node's HTTP API, one token per "
		    "line:\n"
		    "#   ROLE SHA256HEX LABEL   (ROLE viewer, inspector, clerk "
		    "or admin)\n"
		    "# The file holds each token's SHA-256, never a token. "
		    "`cdht token new\n"
		    "# --role clerk --label L` prints a token and its line: "
		    "append the line\n"
		    "# here, then systemctl reload cdhtd. Delete a line (and "
		    "reload) to revoke.\n",
		    in->tokens);
		if (n < 0)
			old = NULL;
		oldlen = n < 0 ? 0 : (size_t)n;
	}
	/* one label per holder: a second admin token (--force) gets its own */
	more = setup_exists(in->tokens) && setup_has_entries(in->tokens) > 0;
	if (old == NULL ||
	    asprintf(&body, "%s%sadmin %s admin-%s%s%.*s\n", old,
	        oldlen > 0 && old[oldlen - 1] != '\n' ? "\n" : "", hash, in->id,
	        more ? "-" : "", more ? 8 : 0, hash) < 0) {
		fprintf(stderr, "cdht: out of memory\n");
		goto out;
	}
	rc = setup_replace(in->tokens, body, strlen(body), 0640,
	    in->root && in->pw ? in->pw->pw_gid : (gid_t)-1);
out:
	free(old);
	free(body);
	return rc;
}

/* An empty children file (comments only) unless one exists. */
static int
setup_init_children(const struct setup_init *in)
{
	char *body = NULL;
	int rc;

	if (setup_exists(in->children))
		return 0;
	if (asprintf(&body,
	        "# %s: the nodes allowed to report to this one, one per "
	        "line:\n"
	        "#   ID PUBLIC_KEY NAME\n"
	        "# ID is the child's [node] id, PUBLIC_KEY the text of its "
	        "node.public.\n"
	        "# `cdht child add ID KEY NAME` adds a line and reloads the "
	        "node;\n"
	        "# `cdht child remove ID` removes one (its data is "
	        "forgotten).\n",
	        in->children) < 0) {
		fprintf(stderr, "cdht: out of memory\n");
		return -1;
	}
	rc = setup_replace(in->children, body, strlen(body), 0640,
	    in->root && in->pw ? in->pw->pw_gid : (gid_t)-1);
	free(body);
	return rc;
}

/* An endpoint option: "tcp://HOST:PORT" or "HOST:PORT" into out. */
static int
setup_endpoint(const char *v, int bind, char *out, size_t size)
{
	int n = snprintf(
	    out, size, "%s%s", strncmp(v, "tcp://", 6) == 0 ? "" : "tcp://", v);

	return n > 0 && (size_t)n < size &&
	               conf_valid_endpoint(out, bind, NULL, 0)
	           ? 0
	           : -1;
}

/*
 * cdht init: see the usage.  Checks every argument and every file first:
 * nothing is written when one is wrong.
 */
int
cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"level", required_argument, NULL, 'l'},
	    {"id", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, 'n'},
	    {"parent", required_argument, NULL, 'p'},
	    {"parent-key", required_argument, NULL, 'k'},
	    {"listen-http", required_argument, NULL, 'H'},
	    {"downlink", required_argument, NULL, 'D'},
	    {"dir", required_argument, NULL, 'd'},
	    {"data-dir", required_argument, NULL, 'a'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct setup_init in = {
	    .level = -1, .dir = SETUP_DIR, .data_dir = SETUP_DATA_DIR};
	const char *level = NULL, *parent = NULL, *http = "127.0.0.1:8470",
	           *down = NULL;
	char pub[VALID_Z85_KEY_LEN + 1], token[CLI_TOKEN_LEN + 1];
	char *conf = NULL;
	size_t nl;
	int c, made_dir = 0, rc = CDHT_EXIT_REJECTED;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			level = optarg;
			break;
		case 'i':
			in.id = optarg;
			break;
		case 'n':
			in.name = optarg;
			break;
		case 'p':
			parent = optarg;
			break;
		case 'k':
			in.parent_key = optarg;
			break;
		case 'H':
			http = optarg;
			break;
		case 'D':
			down = optarg;
			break;
		case 'd':
			in.dir = optarg;
			break;
		case 'a':
			in.data_dir = optarg;
			break;
		case 'f':
			in.force = 1;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	if (level == NULL || in.id == NULL || in.name == NULL)
		return cli_bad_usage(
		    cli, "--level, --id and --name are required");
	if ((in.level = valid_level(level, strlen(level))) < 0)
		return cli_bad_usage(cli,
		    "--level must be commune, district, province, national or "
		    "agency, "
		    "not '%s'",
		    level);
	if (valid_id(in.id, strlen(in.id)) != 0)
		return cli_bad_usage(cli,
		    "--id must be 1..%d characters of [0-9A-Za-z_-] (the "
		    "unit's code)",
		    WIRE_MAX_ID);
	nl = strlen(in.name);
	if (nl == 0 || valid_unit_name(in.name, nl) != 0 ||
	    strchr(" \t", in.name[0]) != NULL ||
	    strchr(" \t", in.name[nl - 1]) != NULL ||
	    strstr(in.name, " ;") != NULL || strstr(in.name, "\t;") != NULL)
		return cli_bad_usage(cli,
		    "--name must be 1..%d bytes of UTF-8 without control "
		    "characters, blanks at either end or \" ;\"",
		    WIRE_MAX_NAME);
	if ((parent == NULL) != (in.parent_key == NULL))
		return cli_bad_usage(
		    cli, "--parent and --parent-key go together");
	if (parent == NULL && (in.level == 1 || SETUP_LEAF(in.level)))
		return cli_bad_usage(cli,
		    "%s %s reports to a parent: give --parent and "
		    "--parent-key",
		    in.level == SETUP_AGENCY ? "an" : "a", level);
	if (parent != NULL && in.level == 3)
		return cli_bad_usage(
		    cli, "the national root has no parent: no --parent");
	if (parent != NULL &&
	    setup_endpoint(parent, 0, in.parent, sizeof(in.parent)) == -1)
		return cli_bad_usage(cli,
		    "--parent must be tcp://HOST:PORT (the parent's downlink), "
		    "not '%s'",
		    parent);
	if (in.parent_key != NULL &&
	    valid_z85_key(in.parent_key, strlen(in.parent_key)) != 0)
		return cli_bad_usage(cli,
		    "--parent-key must be the parent's public key, 40 Z85 "
		    "characters");
	if (conf_hostport(http, 0, NULL, 0, NULL) != 0 ||
	    strlen(http) >= sizeof(in.http))
		return cli_bad_usage(cli,
		    "--listen-http must be HOST:PORT such as 127.0.0.1:8470, "
		    "not '%s'",
		    http);
	snprintf(in.http, sizeof(in.http), "%s", http);
	if (down != NULL && SETUP_LEAF(in.level))
		return cli_bad_usage(cli,
		    "%s %s has no children: no --downlink",
		    in.level == SETUP_AGENCY ? "an" : "a", level);
	if (!SETUP_LEAF(in.level) &&
	    setup_endpoint(down != NULL ? down : "0.0.0.0:9470", 1, in.downlink,
	        sizeof(in.downlink)) == -1)
		return cli_bad_usage(cli,
		    "--downlink must be HOST:PORT such as 0.0.0.0:9470, not "
		    "'%s'",
		    down);
	if (!setup_path_ok(in.dir) || !setup_path_ok(in.data_dir))
		return cli_bad_usage(cli,
		    "--dir and --data-dir must be absolute paths of at most "
		    "%d bytes, without blanks or control characters",
		    SETUP_PATH_MAX);
	snprintf(in.conf, sizeof(in.conf), "%s/cdhtd.conf", in.dir);
	snprintf(in.secret, sizeof(in.secret), "%s/node.secret", in.dir);
	snprintf(in.public, sizeof(in.public), "%s/node.public", in.dir);
	snprintf(in.tokens, sizeof(in.tokens), "%s/tokens", in.dir);
	snprintf(in.children, sizeof(in.children), "%s/children", in.dir);

	if (setup_init_conflicts(&in) > 0) {
		fprintf(stderr,
		    "cdht: nothing written: --force rewrites the conf and "
		    "keeps the key pair,\n"
		    "cdht: the tokens (adding an admin token) and the "
		    "children\n");
		return CDHT_EXIT_REJECTED;
	}
	in.root = geteuid() == 0;
	if (in.root && (in.pw = getpwnam(SETUP_USER)) == NULL)
		fprintf(stderr,
		    "cdht: there is no '%s' account on this host (the "
		    "package makes it):\n"
		    "cdht: %s and the tokens stay root's; chown them to the "
		    "account cdhtd runs as\n",
		    SETUP_USER, in.secret);
	if (sodium_init() < 0) {
		fprintf(stderr, "cdht: libsodium failed to start\n");
		return CDHT_EXIT_REJECTED;
	}
	if (mkdir(in.dir, 0750) == 0)
		made_dir = 1;
	else if (errno != EEXIST) {
		fprintf(stderr, "cdht: %s: %s\n", in.dir, strerror(errno));
		return CDHT_EXIT_REJECTED;
	}
	if (made_dir)
		setup_give(&in, in.dir, 1);
	/* the conf last: until it exists the units skip the node */
	if (setup_init_keys(&in, pub) == -1 ||
	    setup_init_tokens(&in, token) == -1 ||
	    (in.downlink[0] != '\0' && setup_init_children(&in) == -1))
		goto out;
	if ((conf = setup_conf_text(&in)) == NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		goto out;
	}
	if (setup_replace(in.conf, conf, strlen(conf), 0644, (gid_t)-1) == -1)
		goto out;

	printf("Wrote %s, %s (0600%s), %s, %s (0640)%s%s\n", in.conf, in.secret,
	    in.root && in.pw ? ", owner " SETUP_USER : "", in.public, in.tokens,
	    in.downlink[0] ? ", " : "", in.downlink[0] ? in.children : "");
	printf("\nAdmin token (shown only once; the tokens file keeps only "
	       "its hash):\n    %s\n",
	    token);
	if (in.parent[0] != '\0') {
		printf("\nSend this line to the parent's administrator (at "
		       "%s), who runs it there:\n    cdht child add %s ",
		    in.parent, in.id);
		setup_put_quoted(stdout, pub);
		fputc(' ', stdout);
		setup_put_quoted(stdout, in.name);
		fputc('\n', stdout);
	}
	if (in.downlink[0] != '\0') {
		const char *h = in.downlink + 6; /* tcp://HOST:PORT */
		int hl = (int)(strrchr(h, ':') - h);
		/* a wildcard bind names no address to give */
		int any = strncmp(h, "0.0.0.0:", 8) == 0 ||
		          strncmp(h, "*:", 2) == 0 ||
		          strncmp(h, "[::]:", 5) == 0;

		printf("\nEach child's administrator runs cdht init with%s:\n"
		       "    --parent tcp://%.*s:%s --parent-key ",
		    any ? " (HOST: this host's address)" : "", any ? 4 : hl,
		    any ? "HOST" : h, h + hl + 1);
		setup_put_quoted(stdout, pub);
		fputc('\n', stdout);
	}
	printf("\nThen: cdhtd -n -c %s && systemctl enable --now cdhtd\n",
	    in.conf);
	rc = CDHT_EXIT_OK;
out:
	sodium_memzero(token, sizeof(token));
	free(conf);
	return rc;
}

/* -- child add / remove ------------------------------------------------ */

struct setup_child {
	const char *conf_path, *children; /* children: NULL = the conf's */
	int reload;
	long pid; /* --pid, 0 = find it */
	struct conf conf;
	int have_conf;
};

/* The options child add and child remove share, all before ID (a key may
 * start with "-"); returns 0, the exit code of a usage error (> 0), or -1
 * after --help. */
static int
setup_child_opts(struct cli *cli, int argc, char **argv, struct setup_child *s)
{
	static const struct option opts[] = {
	    {"children", required_argument, NULL, 'C'},
	    {"conf", required_argument, NULL, 'c'},
	    {"no-reload", no_argument, NULL, 'N'},
	    {"pid", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long long v;
	int c;

	s->conf_path = SETUP_CONF;
	s->reload = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			s->children = optarg;
			break;
		case 'c':
			s->conf_path = optarg;
			break;
		case 'N':
			s->reload = 0;
			break;
		case 'P':
			if (cli_parse_int(optarg, 1, INT_MAX, &v) == -1)
				return cli_bad_usage(cli,
				    "--pid must be a process id, not '%s'",
				    optarg);
			s->pid = (long)v;
			break;
		case 'h':
			cli_help(cli);
			return -1;
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	return 0;
}

/*
 * Read the conf (the daemon's parser: it checks the children file too)
 * unless --children names the file and nothing needs the conf's data_dir.
 * Returns 0, or -1 after saying why.
 */
static int
setup_child_load(struct setup_child *s)
{
	if (s->children != NULL && (!s->reload || s->pid != 0))
		return 0;
	if (conf_load(s->conf_path, &s->conf) != 0) {
		conf_free(&s->conf);
		fprintf(stderr,
		    "cdht: %s: fix the errors above first (cdhtd -n -c %s)\n",
		    s->conf_path, s->conf_path);
		return -1;
	}
	s->have_conf = 1;
	if (s->children == NULL && s->conf.children_path[0] == '\0') {
		fprintf(stderr,
		    "cdht: %s has no [downlink] children file: this node "
		    "takes no children\n",
		    s->conf_path);
		return -1;
	}
	if (s->children == NULL)
		s->children = s->conf.children_path;
	return 0;
}

/*
 * Split a children-file line as conf.c does: the id and the key, the first
 * two fields.  Returns 1 for such a line, 0 for a blank or comment line
 * (or one conf.c would refuse, which is left to it).
 */
static int
setup_child_line(const char *line, char id[64], char key[64])
{
	const char *p = line + strspn(line, " \t");

	if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
		return 0;
	return sscanf(line, " %63s %63s", id, key) == 2;
}

/*
 * Reload the node that runs on the conf's data_dir: it holds data_dir/lock
 * (a flock) and wrote its pid there.  Run by systemd as cdhtd.service or
 * cdhtd@ID.service (its cgroup says so): `systemctl reload UNIT`; else
 * SIGHUP.  --pid PID: SIGHUP to PID.  No node running: nothing to do.
 * Returns 0, or -1 after saying why.
 */
static int
setup_reload(const struct setup_child *s)
{
	char path[PATH_MAX + 16], buf[4096], unit[256] = "", *p, *end;
	long pid = s->pid;
	ssize_t n;
	FILE *fp;
	int fd;

	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/lock", s->conf.data_dir);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 &&
		    errno == ENOENT) {
			printf("No node has run on %s yet: the change applies "
			       "when it starts.\n",
			    s->conf.data_dir);
			return 0;
		}
		if (fd == -1) {
			fprintf(stderr,
			    "cdht: %s: %s (run as root, give --pid PID, or "
			    "--no-reload and reload it yourself)\n",
			    path, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			flock(fd, LOCK_UN);
			close(fd);
			printf("No node runs on %s: the change applies when it "
			       "starts.\n",
			    s->conf.data_dir);
			return 0;
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, &end, 10);
		if (end == buf || pid <= 0) {
			fprintf(stderr,
			    "cdht: %s is held but names no pid: give --pid "
			    "PID\n",
			    path);
			return -1;
		}
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((fp = fopen(path, "r")) == NULL ||
		    fgets(buf, sizeof(buf), fp) == NULL ||
		    strcmp(buf, "cdhtd\n") != 0) {
			if (fp != NULL)
				fclose(fp);
			fprintf(stderr,
			    "cdht: process %ld (from %s/lock) is not cdhtd: "
			    "give --pid PID\n",
			    pid, s->conf.data_dir);
			return -1;
		}
		fclose(fp);
		/* "0::/system.slice/cdhtd@14.service" */
		snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
		if ((fp = fopen(path, "r")) != NULL) {
			while (fgets(buf, sizeof(buf), fp) != NULL) {
				buf[strcspn(buf, "\n")] = '\0';
				p = strrchr(buf, '/');
				if (p != NULL &&
				    strncmp(p + 1, "cdhtd", 5) == 0 &&
				    strlen(p + 1) > 8 &&
				    strcmp(p + strlen(p) - 8, ".service") ==
				        0 &&
				    strlen(p + 1) < sizeof(unit))
					snprintf(
					    unit, sizeof(unit), "%s", p + 1);
			}
			fclose(fp);
		}
	}
	if (unit[0] != '\0') {
		pid_t child;
		int status;

		fflush(stdout);
		if ((child = fork()) == 0) {
			execlp("systemctl", "systemctl", "reload", unit,
			    (char *)NULL);
			fprintf(
			    stderr, "cdht: systemctl: %s\n", strerror(errno));
			_exit(127);
		}
		if (child == -1 || waitpid(child, &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(
			    stderr, "cdht: systemctl reload %s failed\n", unit);
			return -1;
		}
		printf("Reloaded %s (systemctl reload %s).\n", unit, unit);
		return 0;
	}
	if (kill((pid_t)pid, SIGHUP) == -1) {
		fprintf(
		    stderr, "cdht: SIGHUP to %ld: %s\n", pid, strerror(errno));
		return -1;
	}
	printf("Reloaded cdhtd (SIGHUP to pid %ld); its log says what it "
	       "applied.\n",
	    pid);
	return 0;
}

/*
 * Rewrite the children file: without the lines of id (remove), or with
 * line appended (add; id and key must then be new).  Returns 0, 1 when
 * refused (a duplicate, an id not there: said why), or -1 on an error.
 */
static int
setup_child_edit(const struct setup_child *s, const char *id, const char *key,
    const char *line)
{
	char *old = NULL, *body = NULL, *p, *next, lid[64], lkey[64];
	size_t oldlen = 0, blen = 0;
	int found = 0, rc = -1, lineno = 0;
	FILE *fp;

	if (setup_exists(s->children) &&
	    cli_read_file(s->children, &old, &oldlen) == -1)
		return -1;
	if (old == NULL && line == NULL) {
		fprintf(
		    stderr, "cdht: %s: %s\n", s->children, strerror(ENOENT));
		return -1;
	}
	if ((fp = open_memstream(&body, &blen)) == NULL)
		goto oom;
	for (p = old; p != NULL && *p != '\0'; p = next) {
		size_t n = strcspn(p, "\n");

		next = p[n] == '\n' ? p + n + 1 : p + n;
		lineno++;
		if (n < 1024) {
			char one[1024];

			memcpy(one, p, n);
			one[n] = '\0';
			if (setup_child_line(one, lid, lkey) &&
			    (strcmp(lid, id) == 0 ||
			        (key != NULL && strcmp(lkey, key) == 0))) {
				if (line != NULL) {
					fprintf(stderr,
					    "cdht: %s:%d: %s is there already "
					    "(%s): remove it first\n",
					    s->children, lineno,
					    strcmp(lid, id) == 0 ? "this id"
					                         : "this key",
					    lid);
					rc = 1;
					fclose(fp);
					goto out;
				}
				found++;
				continue;
			}
		}
		fwrite(p, 1, (size_t)(next - p), fp);
		if (p[n] != '\n')
			fputc('\n', fp);
	}
	if (line != NULL)
		fprintf(fp, "%s\n", line);
	if (fclose(fp) != 0)
		goto oom;
	if (line == NULL && found == 0) {
		fprintf(
		    stderr, "cdht: %s lists no child %s\n", s->children, id);
		rc = 1;
		goto out;
	}
	rc = setup_replace(s->children, body, blen, 0640, (gid_t)-1);
	goto out;
oom:
	fprintf(stderr, "cdht: out of memory\n");
out:
	free(old);
	free(body);
	return rc;
}

/* The exit code after a successful edit: reload when asked. */
static int
setup_child_done(struct setup_child *s)
{
	int rc = CDHT_EXIT_OK;

	if (s->reload && setup_reload(s) == -1)
		rc = CDHT_EXIT_REJECTED;
	else if (!s->reload)
		printf("Not reloaded: systemctl reload cdhtd applies it.\n");
	if (s->have_conf)
		conf_free(&s->conf);
	return rc;
}

static int
setup_child_add(struct cli *cli, int argc, char **argv)
{
	struct setup_child s = {0};
	char *name = NULL, *line = NULL;
	const char *id, *key;
	size_t len = 0;
	FILE *fp;
	int rc;

	if ((rc = setup_child_opts(cli, argc, argv, &s)) != 0)
		return rc < 0 ? CDHT_EXIT_OK : rc;
	if (argc - optind < 3)
		return cli_bad_usage(cli, "need ID, KEY and NAME");
	id = argv[optind];
	key = argv[optind + 1];
	/* NAME: the rest of the arguments, joined by blanks */
	if ((fp = open_memstream(&name, &len)) == NULL)
		return CDHT_EXIT_REJECTED;
	for (int i = optind + 2; i < argc; i++) {
		/* options come before ID: a key may start with "-" */
		if (strncmp(argv[i], "--", 2) == 0) {
			fclose(fp);
			free(name);
			return cli_bad_usage(cli,
			    "'%s': options go before ID (cdht child add "
			    "--conf FILE ID KEY NAME)",
			    argv[i]);
		}
		fprintf(fp, "%s%s", i > optind + 2 ? " " : "", argv[i]);
	}
	if (fclose(fp) != 0)
		return CDHT_EXIT_REJECTED;
	rc = CDHT_EXIT_USAGE;
	if (valid_id(id, strlen(id)) != 0)
		cli_bad_usage(cli,
		    "ID must be the child's unit code, 1..%d characters of "
		    "[0-9A-Za-z_-]",
		    WIRE_MAX_ID);
	else if (valid_z85_key(key, strlen(key)) != 0)
		cli_bad_usage(cli,
		    "KEY must be the child's public key (its node.public), 40 "
		    "Z85 characters");
	else if (len == 0 || valid_unit_name(name, len) != 0 ||
	         name[0] == ' ' || name[len - 1] == ' ')
		cli_bad_usage(cli,
		    "NAME must be 1..%d bytes of UTF-8 without control "
		    "characters",
		    WIRE_MAX_NAME);
	else
		rc = CDHT_EXIT_OK;
	if (rc != CDHT_EXIT_OK) {
		free(name);
		return rc;
	}
	rc = CDHT_EXIT_REJECTED;
	if (setup_child_load(&s) == -1)
		goto out;
	if (s.have_conf && strcmp(id, s.conf.id) == 0) {
		fprintf(stderr, "cdht: %s is this node's own id\n", id);
		goto out;
	}
	if (asprintf(&line, "%s %s %s", id, key, name) < 0)
		goto out;
	if (setup_child_edit(&s, id, key, line) != 0)
		goto out;
	printf("Added %s (%s) to %s.\n", id, name, s.children);
	free(name);
	free(line);
	return setup_child_done(&s);
out:
	if (s.have_conf)
		conf_free(&s.conf);
	free(name);
	free(line);
	return rc;
}

static int
setup_child_remove(struct cli *cli, int argc, char **argv)
{
	struct setup_child s = {0};
	const char *id;
	int rc;

	if ((rc = setup_child_opts(cli, argc, argv, &s)) != 0)
		return rc < 0 ? CDHT_EXIT_OK : rc;
	if (argc - optind != 1)
		return cli_bad_usage(cli, "need one ID");
	id = argv[optind];
	if (valid_id(id, strlen(id)) != 0)
		return cli_bad_usage(cli, "ID must be a unit code");
	if (setup_child_load(&s) == -1 ||
	    setup_child_edit(&s, id, NULL, NULL) != 0) {
		if (s.have_conf)
			conf_free(&s.conf);
		return CDHT_EXIT_REJECTED;
	}
	printf("Removed %s from %s.\n", id, s.children);
	return setup_child_done(&s);
}

/* cdht child add | remove. */
int
cmd_child(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", setup_child_add,
	        "add [--conf FILE] [--children FILE] [--no-reload] [--pid "
	        "PID]\n"
	        "                   ID KEY NAME...\n"
	        "  Add a child to the children file the conf (default "
	        "/etc/cdht/cdhtd.conf)\n"
	        "  names, refusing an id or key listed already, then reload "
	        "the node.\n"},
	    {"remove", setup_child_remove,
	        "remove [--conf FILE] [--children FILE] [--no-reload] [--pid "
	        "PID] ID\n"
	        "  Remove a child; the reloaded node disconnects it and "
	        "forgets its data.\n"},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}

/* -- backup ------------------------------------------------------------- */

/*
 * cdht backup DEST [--conf FILE]: exec cdhtd --backup DEST -c FILE, the
 * cdhtd in this program's directory, else the first in PATH.  Its output
 * and exit status are the command's.
 */
int
cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"conf", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = SETUP_CONF;
	char self[PATH_MAX], daemon[PATH_MAX + 8], *slash;
	ssize_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (argc - optind != 1)
		return cli_bad_usage(cli, "need one DEST directory");
	if (argv[optind][0] == '\0')
		return cli_bad_usage(cli, "DEST is empty");
	fflush(stdout);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(daemon, sizeof(daemon), "%s/cdhtd", self);
			if (access(daemon, X_OK) == 0)
				execl(daemon, "cdhtd", "--backup", argv[optind],
				    "-c", conf, (char *)NULL);
		}
	}
	execlp("cdhtd", "cdhtd", "--backup", argv[optind], "-c", conf,
	    (char *)NULL);
	fprintf(stderr, "cdht: cannot run cdhtd (beside cdht or in PATH): %s\n",
	    strerror(errno));
	return CDHT_EXIT_REJECTED;
}
