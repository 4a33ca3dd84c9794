/*
 * cmd_population.c: "cdht population set|show": a year's denominators
 * (PUT and GET /v1/population/{year}).  The field list is the API's; names
 * are checked here so a typo is a usage error, not a silent 0.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"
#include "table.h"
#include "valid.h"

/* The API's field names (proto/valid.h), NULL-terminated. */
static const char *const *
population_fields(void)
{
	static const char *f[VALID_NDENOMINATORS + 1];

	if (f[0] == NULL)
		for (int i = 0; i < VALID_NDENOMINATORS; i++)
			f[i] = valid_denominator_names[i];
	return f;
}

static const char population_set_usage[] =
    "set YEAR FIELD=N ...\n"
    "  Store a year's denominators; fields left out are stored as 0.\n"
    "  FIELD: adults staff families_total families_recognized clans_total\n"
    "         clans_recognized communities_total communities_recognized\n"
    "         units_total units_recognized members_total members_trained\n";

static const char population_show_usage[] =
    "show [--json] YEAR\n"
    "  Print a year's stored denominators.\n";

static int
population_known(const char *name, size_t n)
{
	for (const char *const *f = population_fields(); *f != NULL; f++)
		if (strlen(*f) == n && strncmp(*f, name, n) == 0)
			return 1;
	return 0;
}

/*
 * Parse "[--json] YEAR" (json NULL: no --json) into the path; the
 * arguments after YEAR start at argv[optind + 1].  Returns -1 when the
 * command is over (help shown, bad usage) with its exit code in *rc.
 */
static int
population_args(struct cli *cli, int argc, char **argv, int *json, char *path,
    size_t pathsz, int *rc)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long long year;
	int c;

	/* Without --json, the table starts after its entry. */
	while ((c = getopt_long(
	            argc, argv, "h", json ? opts : opts + 1, NULL)) != -1) {
		if (c == 'h') {
			*rc = cli_help(cli);
			return -1;
		}
		if (c == 'j') {
			*json = 1;
			continue;
		}
		*rc = cli_bad_usage(cli, NULL);
		return -1;
	}
	if (optind >= argc) {
		*rc = cli_bad_usage(cli, "need YEAR");
		return -1;
	}
	if (cli_parse_int(argv[optind], 0, 9999, &year) == -1) {
		*rc = cli_bad_usage(
		    cli, "YEAR must be a number, not '%s'", argv[optind]);
		return -1;
	}
	snprintf(path, pathsz, "/v1/population/%lld", year);
	return 0;
}

static int
population_set(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	char path[64], *body, *eq;
	const char *const *f;
	json_t *obj;
	long long v;
	int rc, first;

	if (population_args(cli, argc, argv, NULL, path, sizeof(path), &rc) ==
	    -1)
		return rc;
	if (optind + 1 >= argc)
		return cli_bad_usage(cli, "need at least one FIELD=N");
	if ((obj = json_object()) == NULL)
		return CDHT_EXIT_REJECTED;
	for (int i = optind + 1; i < argc; i++) {
		const char *a = argv[i];

		eq = strchr(a, '=');
		if (eq == NULL || !population_known(a, (size_t)(eq - a))) {
			json_decref(obj);
			fprintf(stderr,
			    "%s: unknown field '%.*s'; valid "
			    "fields:\n ",
			    cli->name, (int)(eq ? eq - a : (long)strlen(a)), a);
			for (f = population_fields(); *f != NULL; f++)
				fprintf(stderr, " %s", *f);
			fputc('\n', stderr);
			return cli_bad_usage(cli, NULL);
		}
		*eq = '\0';
		if (json_object_get(obj, a) != NULL) {
			json_decref(obj);
			return cli_bad_usage(cli, "%s given twice", a);
		}
		if (cli_parse_int(eq + 1, INT64_MIN, INT64_MAX, &v) == -1) {
			json_decref(obj);
			return cli_bad_usage(
			    cli, "%s: '%s' is not an integer", a, eq + 1);
		}
		json_object_set_new(obj, a, json_integer(v));
	}
	body = json_dumps(obj, JSON_COMPACT);
	rc = http_call(cli_http(cli), "PUT", path, "application/json", body,
	    body ? strlen(body) : 0, 0, &r);
	free(body);
	if (rc == CDHT_EXIT_OK) {
		table_print_object(stdout, r.json, population_fields());
		first = 1;
		for (f = population_fields(); *f != NULL; f++) {
			if (json_object_get(obj, *f) != NULL)
				continue;
			if (first)
				fputs(L("cdht: không nhập, lưu là 0:",
				          "cdht: not given, stored as 0:"),
				    stderr);
			fprintf(stderr, " %s", *f);
			first = 0;
		}
		if (!first)
			fputc('\n', stderr);
	}
	json_decref(obj);
	http_reply_clear(&r);
	return rc;
}

static int
population_show(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	char path[64];
	int rc, json = 0;

	if (population_args(cli, argc, argv, &json, path, sizeof(path), &rc) ==
	    -1)
		return rc;
	if (optind + 1 < argc)
		return cli_extra_arg(cli, argv[optind + 1]);
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	if (rc == CDHT_EXIT_OK) {
		if (json) {
			json_dumpf(r.json, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			table_print_object(stdout, r.json, population_fields());
		}
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht population set|show. */
int
cmd_population(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"set", population_set, population_set_usage},
	    {"show", population_show, population_show_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}
