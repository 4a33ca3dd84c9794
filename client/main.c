/*
 * main.c: cdht's entry point: global flags and environment, the command
 * table with each command's synopsis, usage output, and the small argument
 * and file helpers every command shares (cdht.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdht.h"
#include "http.h"

#define CDHT_DEFAULT_SERVER "http://127.0.0.1:8470"

struct cmd {
	const char *name;
	cmd_fn *fn;
	const char *usage; /* after "usage: cdht " */
};

static const struct cmd cmds[] = {
    {"submit", cmd_submit,
        "submit [--dry-run] --year Y --person ID --group G --population P\n"
        "                   --scores s1,...,s10 --digital D [--name N] "
        "[--birth-year B]\n"
        "       cdht submit [--dry-run] --json FILE|-\n"
        "  Record one assessment from flags, or send FILE (a JSON object "
        "or an\n"
        "  array of them) as is.  --dry-run validates and scores without "
        "storing.\n"
        "  G: farmer worker official business manager;  P: adult staff;\n"
        "  D: none skilled proficient\n"},
    {"import", cmd_import,
        "import [--dry-run] FILE.csv\n"
        "  Send a CSV file (header row first) in chunks of 1000 lines; "
        "report\n"
        "  rejected lines as FILE:LINE: code: message.  FILE may be - "
        "(stdin).\n"
        "  Separator , or ; (found from the header); group, population "
        "and\n"
        "  digital take codes or Vietnamese labels (nông dân, người lớn, "
        "...);\n"
        "  a repeated (year, person_id) is refused on its later line.\n"},
    {"show", cmd_show,
        "show [--json] YEAR PERSON_ID\n"
        "  Print the stored assessment.\n"},
    {"withdraw", cmd_withdraw,
        "withdraw YEAR PERSON_ID\n"
        "  Delete the stored assessment.\n"},
    {"population", cmd_population,
        "population set YEAR FIELD=N ...\n"
        "       cdht population show [--json] YEAR\n"
        "  Set or show a year's denominators.  Fields left out are stored "
        "as 0.\n"},
    {"progress", cmd_progress,
        "progress [--year Y] [--depth D] [--json|--csv]\n"
        "  Indicators against the 2025 and 2030 targets; --depth D adds "
        "the\n"
        "  units D levels below.\n"},
    {"report", cmd_report,
        "report [--year Y] [--format html|csv|json] [--depth D] "
        "[--output FILE]\n"
        "  The yearly report this unit files upward: every indicator per "
        "unit,\n"
        "  the coverage, the date and the signature block.  html prints on "
        "A4,\n"
        "  csv opens in Excel; written to stdout as the node sent it.\n"},
    {"template", cmd_template,
        "template [--separator ,|;] [FILE]\n"
        "  Write an empty import CSV for Excel (UTF-8 with BOM): the "
        "header and\n"
        "  one example row.  No server needed.\n"},
    {"nodes", cmd_nodes,
        "nodes [--json]\n"
        "  This node, its parent and its subtree, with link status.\n"},
    {"health", cmd_health,
        "health\n"
        "  Ask the node whether it is up and, when it has a parent, whether "
        "its\n"
        "  uplink works (no token needed).  Exit 0 ok, 5 up but degraded "
        "(the\n"
        "  uplink is refused, unreachable or not welcomed), 4 "
        "unreachable.\n"},
    {"decision", cmd_decision,
        "decision add --year Y --number N --date YYYY-MM-DD --authority A\n"
        "                   [--title citizen|family|clan|community|unit]\n"
        "                   ID...|--ids-file F\n"
        "       cdht decision list [--year Y] [--json]\n"
        "       cdht decision show [--json] YEAR NUMBER\n"
        "       cdht decision revoke YEAR NUMBER\n"
        "  Decisions of recognition (quyết định công nhận): record one "
        "listing\n"
        "  people (or title records of a kind), list a year's, show one "
        "with its\n"
        "  ids, revoke one (admin).  An id that cannot be decided is named "
        "with\n"
        "  its reason, and nothing is recorded.\n"},
    {"title", cmd_title,
        "title add [--dry-run] --year Y --kind K --id I [--name N]\n"
        "                   (--recognized|--not-recognized) [--adults "
        "N|--staff N]\n"
        "       cdht title import [--dry-run] FILE.csv\n"
        "       cdht title show [--json] YEAR KIND ID\n"
        "       cdht title rm YEAR KIND ID\n"
        "  Collective titles as records: K is family, clan, community or "
        "unit.\n"
        "  The CSV has the columns year,kind,id,name,recognized,adults,"
        "staff.\n"},
    {"list", cmd_list,
        "list [--year Y] [--status assessed|eligible|recognized|"
        "outstanding]\n"
        "                   [--group G] [--kind K] [--format "
        "table|json|csv|html]\n"
        "                   [-o FILE]\n"
        "  A list of names (danh sách) of a year: people, or with --kind "
        "the title\n"
        "  records of a kind.  A table by default; csv opens in Excel, "
        "html\n"
        "  prints on A4 (written as the node sent them).\n"},
    {"filing", cmd_filing,
        "filing submit YEAR [--force]\n"
        "       cdht filing reopen YEAR\n"
        "       cdht filing status [--json] [YEAR]\n"
        "  File a year (chốt sổ, admin): its records here can no longer "
        "change;\n"
        "  refused while units below have not filed, unless --force.  "
        "reopen\n"
        "  undoes it; status tells whether and when it was filed.\n"},
    {"history", cmd_history,
        "history set YEAR --source S [--json FILE] [--assessed N]\n"
        "                   [--recognized N] [--outstanding N] "
        "[--INDICATOR NUM/DEN ...]\n"
        "       cdht history show [--json] YEAR\n"
        "       cdht history delete YEAR\n"
        "  Results from before the system (admin): a year's aggregated "
        "figures\n"
        "  from a report or spreadsheet (2020, the baseline, to 2030), for "
        "a\n"
        "  year without records here; they count like records and are "
        "marked\n"
        "  as imported.\n"},
    {"token", cmd_token,
        "token new --role viewer|inspector|clerk|admin [--label L]\n"
        "  Make an API token: prints the token, then the line for the "
        "node's\n"
        "  tokens file.  No server needed.\n"},
    {"keygen", cmd_keygen,
        "keygen PREFIX\n"
        "  Make a CURVE key pair for node links: PREFIX.secret (0600) and\n"
        "  PREFIX.public; prints the public key.\n"},
    {"init", cmd_init,
        "init --level L --id ID --name NAME [--parent ENDPOINT "
        "--parent-key KEY]\n"
        "                   [--listen-http HOST:PORT] [--downlink "
        "HOST:PORT]\n"
        "                   [--dir /etc/cdht] [--data-dir /var/lib/cdht] "
        "[--force]\n"
        "  Write a new node's files into the --dir: cdhtd.conf "
        "(commented), node.secret\n"
        "  (0600; as root owned by the cdht account) and node.public, "
        "tokens (0640)\n"
        "  with a first admin token (printed once), and an empty children "
        "file when\n"
        "  the node has a downlink; then print the line to send to the "
        "parent's\n"
        "  administrator (cdht child add ...).  L: commune, district, "
        "province or\n"
        "  national; a commune and a district need --parent, the national "
        "root has\n"
        "  none; a commune has no downlink, the others listen on "
        "--downlink (default\n"
        "  0.0.0.0:9470); the API on --listen-http (default "
        "127.0.0.1:8470).  Nothing\n"
        "  is overwritten; --force rewrites the conf and keeps the key "
        "pair, the\n"
        "  tokens (adding a new admin token) and the children.  No server "
        "needed.\n"},
    {"child", cmd_child,
        "child add [--conf FILE] [--children FILE] [--no-reload] [--pid "
        "PID]\n"
        "                   ID KEY NAME...\n"
        "       cdht child remove [--conf FILE] [--children FILE] "
        "[--no-reload]\n"
        "                   [--pid PID] ID\n"
        "  Add a child (its id, public key and name) to the children file "
        "the conf\n"
        "  (default /etc/cdht/cdhtd.conf) names, refusing an id or a key "
        "listed\n"
        "  already, or remove one; then reload the node running on the "
        "conf's\n"
        "  data_dir (its pid is in data_dir/lock): systemctl reload when "
        "systemd runs\n"
        "  it, else SIGHUP (to --pid PID if given).  Options go before "
        "ID (a key\n"
        "  may start with -).  No server needed.\n"},
    {"backup", cmd_backup,
        "backup [--conf FILE] DEST\n"
        "  A consistent, compacted copy of the node's data into "
        "DEST/data.mdb (0600)\n"
        "  while it runs: cdhtd --backup DEST -c FILE (default "
        "/etc/cdht/cdhtd.conf),\n"
        "  the cdhtd beside cdht, else in PATH.  No server needed.\n"},
};

/*
 * Print the synopsis lines of a usage text (those before its first
 * description line, which starts with exactly two blanks) for the list of
 * commands.
 */
static void
main_synopsis(FILE *fp, const char *u)
{
	for (int first = 1; *u != '\0'; first = 0) {
		size_t n = strcspn(u, "\n");

		if (u[0] == ' ' && u[1] == ' ' && u[2] != ' ')
			return;
		if (first)
			fprintf(fp, "  %.*s\n", (int)n, u);
		else if (strncmp(u, "       cdht ", 12) == 0)
			fprintf(fp, "  %.*s\n", (int)n - 12, u + 12);
		else
			fprintf(fp, "%9s%.*s\n", "", (int)(n - strspn(u, " ")),
			    u + strspn(u, " "));
		u += n + (u[n] == '\n');
	}
}

static void
main_usage(FILE *fp)
{
	fprintf(fp, "usage: cdht [--server URL] [--token TOKEN] [--lang vi|en] "
	            "COMMAND [ARGS]\n"
	            "       cdht COMMAND --help\n"
	            "\n"
	            "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		main_synopsis(fp, cmds[i].usage);
	fprintf(fp,
	    "\n"
	    "Environment: CDHT_SERVER (default " CDHT_DEFAULT_SERVER "), "
	    "CDHT_TOKEN;\n"
	    "messages in Vietnamese, or English with --lang en (anywhere "
	    "on the line)\n"
	    "or LC_ALL/LANG starting with \"en\".\n"
	    "Prefer CDHT_TOKEN to --token: other users can see a command "
	    "line.\n"
	    "Exit: 0 ok, 1 rejected by the node, 2 usage, 3 authentication, "
	    "4 node\n"
	    "unreachable or failed, 5 node degraded (health: its uplink is "
	    "not working).\n");
}

int
cli_help(const struct cli *cli)
{
	printf("usage: %s", cli->name);
	/* The synopsis starts after the command word. */
	fputs(cli->usage + strcspn(cli->usage, " \n"), stdout);
	return CDHT_EXIT_OK;
}

int
cli_json_operands(struct cli *cli, int argc, char **argv, int *json, int nargs,
    const char *need, int *rc)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*rc = CDHT_EXIT_USAGE;
	/* Without --json, the table starts after its entry. */
	while ((c = getopt_long(
	            argc, argv, "h", json ? opts : opts + 1, NULL)) != -1) {
		if (c == 'j') {
			*json = 1;
			continue;
		}
		*rc = c == 'h' ? cli_help(cli) : cli_bad_usage(cli, NULL);
		return -1;
	}
	if (argc - optind != nargs) {
		*rc = cli_bad_usage(cli, "%s", need);
		return -1;
	}
	return 0;
}

int
cli_bad_usage(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", cli->name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: %s", cli->name);
	fputs(cli->usage + strcspn(cli->usage, " \n"), stderr);
	return CDHT_EXIT_USAGE;
}

int
cli_parse_int(const char *s, long long min, long long max, long long *out)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_year_depth_opt(
    struct cli *cli, int c, const char *arg, long long *year, long long *depth)
{
	if (c == 'y' && cli_parse_int(arg, 0, 9999, year) == -1)
		return cli_bad_usage(
		    cli, "--year must be a number, not '%s'", arg);
	if (c == 'd' && cli_parse_int(arg, 0, 99, depth) == -1)
		return cli_bad_usage(
		    cli, "--depth must be a number 0..99, not '%s'", arg);
	return 0;
}

int
cli_year_arg(
    const struct cli *cli, const char *what, const char *arg, long long *year)
{
	if (cli_parse_int(arg, 0, 9999, year) == 0)
		return 0;
	return cli_bad_usage(cli, "%s must be a number, not '%s'", what, arg);
}

int
cli_current_year(struct cli *cli, long long *year)
{
	struct http_reply r;
	const json_t *y;
	int rc;

	rc = http_call(
	    cli_http(cli), "GET", "/v1/progress?depth=0", NULL, NULL, 0, 0, &r);
	if (rc == CDHT_EXIT_OK) {
		y = json_object_get(r.json, "year");
		if (json_is_integer(y))
			*year = json_integer_value(y);
		else {
			fprintf(stderr, "%s",
			    L("cdht: máy chủ không cho biết năm hiện tại\n",
			        "cdht: the node did not say its current "
			        "year\n"));
			rc = CDHT_EXIT_UNREACHABLE;
		}
	}
	http_reply_clear(&r);
	return rc;
}

int
cli_write_output(const char *path, const char *body, size_t len)
{
	FILE *fp = path != NULL ? fopen(path, "wb") : stdout;

	if (fp == NULL || (len > 0 && fwrite(body, 1, len, fp) != len) ||
	    (fp != stdout && fclose(fp) != 0)) {
		fprintf(stderr, "cdht: %s: %s\n", path ? path : "stdout",
		    strerror(errno));
		return CDHT_EXIT_REJECTED;
	}
	return CDHT_EXIT_OK;
}

const char *
cli_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

char *
cli_api_path(const char *fmt, ...)
{
	va_list ap;
	char *buf = NULL, *e;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		goto oom;
	va_start(ap, fmt);
	while (*fmt != '\0') {
		if (strncmp(fmt, "%s", 2) == 0) {
			if ((e = http_escape(va_arg(ap, const char *))) == NULL)
				break;
			fputs(e, fp);
			free(e);
			fmt += 2;
		} else if (strncmp(fmt, "%lld", 4) == 0) {
			fprintf(fp, "%lld", va_arg(ap, long long));
			fmt += 4;
		} else {
			fputc(*fmt++, fp);
		}
	}
	va_end(ap);
	if (fclose(fp) != 0 || *fmt != '\0') {
		free(buf);
		goto oom;
	}
	return buf;
oom:
	fprintf(stderr, "cdht: out of memory\n");
	return NULL;
}

int
cli_read_file(const char *path, char **bufp, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL, *p;
	size_t len = 0, cap = 0, n;
	int stdin_ = strcmp(path, "-") == 0;

	if ((fp = stdin_ ? stdin : fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 262144;
			if ((p = realloc(buf, cap + 1)) == NULL) {
				fprintf(
				    stderr, "cdht: %s: out of memory\n", path);
				goto fail;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (!stdin_)
		fclose(fp);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	if (!stdin_)
		fclose(fp);
	free(buf);
	return -1;
}

void
cli_put_clean(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f
		          ? '?'
		          : *s,
		    fp);
}

int
cli_dispatch(struct cli *cli, int argc, char **argv, const struct cli_sub *subs)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *parent = cli->name;
	char *name;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		return c == 'h' ? cli_help(cli) : cli_bad_usage(cli, NULL);
	if (optind >= argc)
		return cli_bad_usage(cli, "missing subcommand");
	for (; subs->name != NULL; subs++) {
		if (strcmp(argv[optind], subs->name) != 0)
			continue;
		if (asprintf(&name, "%s %s", parent, subs->name) < 0) {
			fprintf(stderr, "cdht: out of memory\n");
			return CDHT_EXIT_REJECTED;
		}
		cli->name = name;
		cli->usage = subs->usage;
		argv += optind;
		argc -= optind;
		argv[0] = name;
		optind = 0;
		rc = subs->fn(cli, argc, argv);
		cli->name = parent;
		free(name);
		return rc;
	}
	return cli_bad_usage(cli, "unknown subcommand '%s'", argv[optind]);
}

struct http *
cli_http(struct cli *cli)
{
	if (cli->http == NULL &&
	    (cli->http = http_new(cli->server, cli->token)) == NULL) {
		fprintf(stderr, "cdht: cannot start libcurl\n");
		exit(CDHT_EXIT_UNREACHABLE);
	}
	return cli->http;
}

static const struct cmd *
main_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* The token may not carry anything that would split the header. */
static int
main_token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t != '\0'; t++)
		if ((unsigned char)*t <= 0x20 || *t == 0x7f)
			return 0;
	return 1;
}

/*
 * "cdht help [COMMAND]": the overview, or one command's usage.
 */
static int
main_help(int argc, char **argv)
{
	const struct cmd *cmd;

	if (argc < 2) {
		main_usage(stdout);
		return CDHT_EXIT_OK;
	}
	if ((cmd = main_find(argv[1])) == NULL) {
		fprintf(stderr, "cdht: unknown command '%s'\n", argv[1]);
		main_usage(stderr);
		return CDHT_EXIT_USAGE;
	}
	printf("usage: cdht %s", cmd->usage);
	return CDHT_EXIT_OK;
}

/*
 * Take "--lang X" or "--lang=X" out of argv[1..argc) (up to a "--"), so
 * every command accepts it; *lang gets the last X.  Returns the new argc,
 * or -1 when --lang lacks its value.
 */
static int
main_take_lang(int argc, char **argv, const char **lang)
{
	int i, j;

	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strncmp(argv[i], "--lang=", 7) == 0) {
			*lang = argv[i] + 7;
		} else if (strcmp(argv[i], "--lang") == 0) {
			if (i + 1 >= argc)
				return -1;
			*lang = argv[++i];
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	return j;
}

/*
 * Run cmd with argv (argv[0] its name): the server and token come from the
 * flags, else the environment.
 */
static int
main_run(const struct cmd *cmd, const char *server, const char *token, int argc,
    char **argv)
{
	struct cli cli = {0};
	const char *env;
	char *name;
	int rc;

	if (server == NULL && (env = getenv("CDHT_SERVER")) != NULL &&
	    *env != '\0')
		server = env;
	if (server == NULL)
		server = CDHT_DEFAULT_SERVER;
	if (token == NULL && (env = getenv("CDHT_TOKEN")) != NULL &&
	    *env != '\0')
		token = env;
	if (*server == '\0') {
		fprintf(stderr, "cdht: --server: empty URL\n");
		return CDHT_EXIT_USAGE;
	}
	if (token != NULL && !main_token_ok(token)) {
		fprintf(stderr, "cdht: the token contains blanks or control "
		                "characters\n");
		return CDHT_EXIT_USAGE;
	}
	if (asprintf(&name, "cdht %s", cmd->name) < 0) {
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	cli.server = server;
	cli.token = token;
	cli.name = name;
	cli.usage = cmd->usage;

	/* Each command parses its own argv from scratch. */
	argv[0] = name;
	optind = 0;
	rc = cmd->fn(&cli, argc, argv);

	http_free(&cli.http);
	free(name);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"token", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"lang", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	const struct cmd *cmd;
	char *server = NULL, *token = NULL;
	const char *lang = NULL;
	int c, rc = -1;

	while (
	    rc == -1 && (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			free(server);
			server = strdup(optarg);
			break;
		case 't':
			if (token != NULL)
				explicit_bzero(token, strlen(token));
			free(token);
			token = strdup(optarg);
			/* Hide it from ps(1) now that it is copied. */
			memset(optarg, 'x', strlen(optarg));
			break;
		case 'l':
			lang = optarg;
			break;
		case 'h':
			main_usage(stdout);
			rc = CDHT_EXIT_OK;
			break;
		case 'V':
			printf("cdht %s\n", CDHT_VERSION);
			rc = CDHT_EXIT_OK;
			break;
		default:
			main_usage(stderr);
			rc = CDHT_EXIT_USAGE;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (rc == -1 && argc > 0 &&
	    (argc = main_take_lang(argc, argv, &lang)) == -1) {
		fprintf(stderr, "cdht: --lang needs vi or en\n");
		rc = CDHT_EXIT_USAGE;
	}
	if (rc == -1 && (cli_lang = cli_lang_pick(lang)) == -1) {
		cli_lang = CLI_VI;
		fprintf(
		    stderr, "cdht: --lang must be vi or en, not '%s'\n", lang);
		rc = CDHT_EXIT_USAGE;
	}
	if (rc != -1) {
		/* --help, --version or a bad flag */
	} else if (argc == 0) {
		fprintf(stderr, "cdht: no command\n");
		main_usage(stderr);
		rc = CDHT_EXIT_USAGE;
	} else if (strcmp(argv[0], "help") == 0) {
		rc = main_help(argc, argv);
	} else if ((cmd = main_find(argv[0])) == NULL) {
		fprintf(stderr, "cdht: unknown command '%s'\n", argv[0]);
		main_usage(stderr);
		rc = CDHT_EXIT_USAGE;
	} else {
		rc = main_run(cmd, server, token, argc, argv);
	}

	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	free(server);
	if (fflush(stdout) == EOF && rc == CDHT_EXIT_OK) {
		fprintf(stderr, "cdht: writing output: %s\n", strerror(errno));
		rc = CDHT_EXIT_REJECTED;
	}
	return rc;
}

int
cli_extra_arg(const struct cli *cli, const char *arg)
{
	return cli_bad_usage(cli, "unexpected argument '%s'", arg);
}
