/*
 * cdht.h: what the command-line client's files share: the exit codes of the
 * CLI contract (README "Command line"), the per-invocation state handed to
 * every command, the command functions main.c's table points at, and small
 * argument helpers.
 *
 * Sections: main.c (helpers), lang.c (the language of messages),
 * cmd_assess.c, cmd_import.c, cmd_population.c, cmd_progress.c,
 * cmd_report.c, cmd_nodes.c, cmd_keys.c, cmd_decision.c, cmd_title.c,
 * cmd_list.c, cmd_filing.c, cmd_history.c, cmd_setup.c.
 */
#ifndef CDHT_CLIENT_H
#define CDHT_CLIENT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

/* Exit codes: part of the CLI contract, never renumber. */
enum cdht_exit {
	CDHT_EXIT_OK = 0,
	CDHT_EXIT_REJECTED =
	    1, /* node said 4xx, rows rejected, local failure */
	CDHT_EXIT_USAGE = 2,
	CDHT_EXIT_AUTH = 3,        /* 401, 403 */
	CDHT_EXIT_UNREACHABLE = 4, /* network failure, 5xx, garbled reply */
	CDHT_EXIT_DEGRADED = 5,    /* cdht health: up, but not "ok" (its
	                            * configured uplink is not working) */
};

struct http;

/* The language of what cdht says: Vietnamese unless asked otherwise. */
enum cli_lang { CLI_VI = 0, CLI_EN = 1 };

/* One invocation: global flags, and the command being run. */
struct cli {
	const char *server; /* base URL, no trailing '/' */
	const char *token;  /* NULL when none */
	struct http *http;  /* created on first use by cli_http() */
	const char *name;   /* "cdht submit", for messages */
	const char *usage;  /* the running command's synopsis */
};

/* A command: argv[0] is its name as typed; returns an exit code. */
typedef int cmd_fn(struct cli *cli, int argc, char **argv);

/* main.c */

/*
 * The HTTP client for cli->server and cli->token, created on first call and
 * owned by cli (main frees it).  Never NULL: exits 4 if libcurl cannot start.
 */
struct http *cli_http(struct cli *cli);

/* A subcommand ("population set"): usage as for main.c's table. */
struct cli_sub {
	const char *name;
	cmd_fn *fn;
	const char *usage; /* starts with the subcommand's name */
};

/*
 * Run the subcommand argv names (after options of the command itself: only
 * --help) from subs, a table ended by a NULL name, with cli's name and usage
 * switched to it.  Returns its exit code, or a usage error's.
 */
int cli_dispatch(
    struct cli *cli, int argc, char **argv, const struct cli_sub *subs);

/* Print "usage: ..." for the running command on stdout; returns 0. */
int cli_help(const struct cli *cli);

/*
 * Print "cdht CMD: message" (when fmt is not NULL) and the usage on stderr;
 * returns CDHT_EXIT_USAGE.
 */
/* Bad usage for an argument left over after the options: prints it and
 * the usage, returns the usage exit code. */
int cli_extra_arg(const struct cli *cli, const char *arg);
int cli_bad_usage(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parse s as a whole decimal integer in [min, max] into *out.
 * Returns 0, or -1 (with *out untouched) when s is not such an integer.
 */
int cli_parse_int(const char *s, long long min, long long max, long long *out);

/*
 * The --year (c == 'y') and --depth (c == 'd') options of a read command:
 * arg into *year or *depth.  Returns 0, or the usage exit code after a
 * message naming the option.
 */
int cli_year_depth_opt(
    struct cli *cli, int c, const char *arg, long long *year, long long *depth);

/*
 * A YEAR argument (what names it in the message: "YEAR") into *year.
 * Returns 0, or the usage exit code after a message.
 */
int cli_year_arg(
    const struct cli *cli, const char *what, const char *arg, long long *year);

/*
 * The node's current year (in its time zone), for a command whose year
 * is part of the path and was not given: GET /v1/progress?depth=0.
 * Returns 0, or the exit code after printing why.
 */
int cli_current_year(struct cli *cli, long long *year);

/*
 * Write body[0..len) to path (NULL: stdout) byte for byte.  Returns 0, or
 * CDHT_EXIT_REJECTED after saying why.
 */
int cli_write_output(const char *path, const char *body, size_t len);

/*
 * The API path fmt with each "%s" replaced by the percent-encoding of the
 * next argument (one path segment or query value) and each "%lld" by the
 * next long long; nothing else is interpreted.  Caller frees; NULL after
 * printing "out of memory".
 */
char *cli_api_path(const char *fmt, ...);

/* The string at key of object o, or dflt when absent or not a string. */
const char *cli_str(const json_t *o, const char *key, const char *dflt);

/*
 * Read all of path ("-" is stdin) into a NUL-terminated malloc'd buffer that
 * the caller frees; *len excludes the NUL.  Returns 0, or -1 after printing
 * why on stderr.
 */
int cli_read_file(const char *path, char **buf, size_t *len);

/*
 * Options [--json] (only when json is not NULL: it is set then) and
 * --help, then exactly nargs operands from optind: 0, or -1 with *rc the
 * exit code after the help or a usage error saying need.
 */
int cli_json_operands(struct cli *cli, int argc, char **argv, int *json,
    int nargs, const char *need, int *rc);

/* "[--dry-run] FILE.csv" POSTed whole to path (upload.c); an exit code. */
int cli_import_whole(struct cli *cli, int argc, char **argv, const char *path);

/*
 * Write s to fp with control characters (other than tab) replaced by '?',
 * so a hostile node cannot drive the terminal.
 */
void cli_put_clean(FILE *fp, const char *s);

/* lang.c */

/* The language of this run, set once by main before the command runs. */
extern int cli_lang;

/* The text in the run's language: L("Đã lưu", "stored"). */
#define L(vi, en) (cli_lang == CLI_EN ? (en) : (vi))

/*
 * The language asked for by --lang (arg, may be NULL), else by LC_ALL,
 * else LANG: English when it starts with "en", else Vietnamese.  -1 when
 * arg is neither "vi" nor "en".
 */
int cli_lang_pick(const char *arg);

/*
 * What an error code of the node means, in the run's language, for the
 * message printed before the node's own (which stays as the node wrote
 * it); NULL for a code this client does not know.
 */
const char *cli_error_text(const char *code);

/* cmd_assess.c: POST, GET, DELETE /v1/assessments */
cmd_fn cmd_submit, cmd_show, cmd_withdraw;

/* cmd_import.c: CSV import in chunks */
cmd_fn cmd_import;

/* cmd_population.c: PUT, GET /v1/population/{year} */
cmd_fn cmd_population;

/* cmd_progress.c: GET /v1/progress */
cmd_fn cmd_progress;

/* cmd_report.c: GET /v1/report */
cmd_fn cmd_report;

/* cmd_import.c also: cdht template, the CSV a clerk starts from */
cmd_fn cmd_template;

/* cmd_nodes.c: GET /v1/nodes, GET /healthz */
cmd_fn cmd_nodes, cmd_health;

/* cmd_keys.c: local secrets, no server */
cmd_fn cmd_token, cmd_keygen;

/* An API token's length in hex digits, and its SHA-256's. */
#define CLI_TOKEN_LEN 64

/*
 * A new random API token (CLI_TOKEN_LEN hex digits) into token and the hex
 * SHA-256 of its text, which the tokens file holds, into hash: both the
 * caller's buffers (wipe token after use).  sodium_init() must have run.
 */
void cli_token_make(
    char token[CLI_TOKEN_LEN + 1], char hash[CLI_TOKEN_LEN + 1]);

/*
 * Create path (which must not exist) with exactly mode, holding key and a
 * newline, synced.  Returns 0, or -1 after saying why on stderr (and
 * removing a partial file).
 */
int cli_key_write(const char *path, mode_t mode, const char *key);

/* cmd_setup.c: a node's administration on its host, no server: init (conf,
 * keys, first token), child add/remove (+ reload), backup (cdhtd --backup) */
cmd_fn cmd_init, cmd_child, cmd_backup;

/* cmd_decision.c: POST, GET, DELETE /v1/decisions */
cmd_fn cmd_decision;

/* cmd_title.c: POST, GET, DELETE /v1/titles */
cmd_fn cmd_title;

/*
 * The label of a title code ("family": "gia đình học tập") in the run's
 * language; the code itself when unknown, "-" for NULL.  Static storage.
 */
const char *cli_title_text(const char *code);

/* cmd_list.c: GET /v1/lists/{year} */
cmd_fn cmd_list;

/* cmd_filing.c: POST, DELETE, GET /v1/filings/{year} */
cmd_fn cmd_filing;

/* cmd_history.c: PUT, GET, DELETE /v1/history/{year} */
cmd_fn cmd_history;

#endif
