/*
 * cmd_history.c: "cdht history set|show|delete|import": imported results
 * (results from before the system), PUT, GET and DELETE
 * /v1/history/{year} (--unit ID: an offline unit's year, ?unit=ID), and
 * POST /v1/history (import: a CSV of offline units, sent as it is).  set builds
 * the body from --json FILE and/or flags (a flag wins over the file); the node
 * validates it and names the field at fault.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"

/* The nine indicators, in the API's order (rules.h). */
static const char *const history_inds[] = {"adults", "staff", "digital",
    "proficient", "trained", "families", "clans", "communities", "units"};
#define HISTORY_NIND (sizeof(history_inds) / sizeof(history_inds[0]))
static const char *const history_counts[] = {
    "assessed", "recognized", "outstanding"};

static const char history_set_usage[] =
    "set YEAR --source S [--json FILE] [--assessed N] [--recognized N]\n"
    "      [--outstanding N] [--INDICATOR NUM/DEN ...]\n"
    "  Enter a year's aggregated results from before the system (admin;\n"
    "  2020, the baseline, to 2030) for a year without records here.\n"
    "  INDICATOR: adults staff digital proficient trained families clans\n"
    "  communities units.  --json FILE: the body (see README), flags\n"
    "  override it.\n";

static const char history_show_usage[] =
    "show [--json] [--unit ID] YEAR\n"
    "  Print a year's imported results and their source (--unit: an\n"
    "  offline unit's).\n";

static const char history_delete_usage[] =
    "delete [--unit ID] YEAR\n"
    "  Remove a year's imported results (admin): its figures go back to "
    "zero\n"
    "  (--unit: an offline unit's year, removed upward too).\n";

static const char history_import_usage[] =
    "import [--dry-run] FILE.csv\n"
    "  Enter the results of units that never run a node (offline units,\n"
    "  admin): one row per unit and year, header\n"
    "  unit_id,unit_name,level,year,source,assessed,recognized,outstanding,\n"
    "  adults_num,adults_den,...,units_num,units_den (an empty cell: not\n"
    "  given).  Bad lines are reported by line; the others are stored.\n";

/* The path of year, with ?unit=ID when unit is set; NULL when over. */
static char *
history_path(long long year, const char *unit)
{
	return unit ? cli_api_path("/v1/history/%lld?unit=%s", year, unit)
	            : cli_api_path("/v1/history/%lld", year);
}

/* YEAR (2020..2030) of argv[optind] into *year; 0 or the usage exit. */
static int
history_year(struct cli *cli, int argc, char **argv, long long *year)
{
	if (optind >= argc)
		return cli_bad_usage(cli, "need YEAR");
	if (optind + 1 < argc)
		return cli_extra_arg(cli, argv[optind + 1]);
	if (cli_parse_int(argv[optind], 2020, 2030, year) != 0)
		return cli_bad_usage(
		    cli, "YEAR must be 2020..2030, not '%s'", argv[optind]);
	return 0;
}

/* "NUM/DEN" into obj as {"numerator", "denominator"}; 0 or -1. */
static int
history_fraction(const char *s, json_t **out)
{
	char buf[64], *slash;
	long long n, d;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (cli_parse_int(buf, 0, 1000000000000LL, &n) != 0 ||
	    cli_parse_int(slash + 1, 0, 1000000000000LL, &d) != 0)
		return -1;
	*out = json_pack("{s:I, s:I}", "numerator", (json_int_t)n,
	    "denominator", (json_int_t)d);
	return *out ? 0 : -1;
}

/* The object at key of o, created when absent. */
static json_t *
history_member(json_t *o, const char *key)
{
	json_t *m = json_object_get(o, key);

	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(o, key, m);
	}
	return m;
}

/* Print an entry as GET answers it. */
static void
history_print(const json_t *d)
{
	const json_t *inds = json_object_get(d, "indicators"), *x;
	const json_t *c = json_object_get(d, "counts");

	printf(L("năm %" JSON_INTEGER_FORMAT ": số liệu nhập từ báo cáo\n",
	           "%" JSON_INTEGER_FORMAT ": imported results\n"),
	    json_integer_value(json_object_get(d, "year")));
	fputs(L("nguồn: ", "source: "), stdout);
	cli_put_clean(stdout, cli_str(d, "source", "?"));
	putchar('\n');
	for (size_t i = 0; i < 3; i++)
		printf("  %-12s %" JSON_INTEGER_FORMAT "\n", history_counts[i],
		    json_integer_value(json_object_get(c, history_counts[i])));
	for (size_t i = 0; i < HISTORY_NIND; i++) {
		if ((x = json_object_get(inds, history_inds[i])) == NULL)
			continue;
		printf("  %-12s %" JSON_INTEGER_FORMAT
		       " / %" JSON_INTEGER_FORMAT "\n",
		    history_inds[i],
		    json_integer_value(json_object_get(x, "numerator")),
		    json_integer_value(json_object_get(x, "denominator")));
	}
	fputs(L("nhập lúc ", "entered at "), stdout);
	cli_put_clean(stdout, cli_str(d, "updated_at", "?"));
	fputs(L(", người nhập: ", ", by "), stdout);
	cli_put_clean(stdout, cli_str(d, "by", "?"));
	putchar('\n');
}

/* cdht history set: PUT /v1/history/{year}. */
static int
history_set(struct cli *cli, int argc, char **argv)
{
	enum { OPT_SOURCE = 256, OPT_JSON, OPT_COUNT, OPT_IND = 300 };
	struct option opts[4 + 3 + HISTORY_NIND + 1];
	const char *source = NULL, *file = NULL;
	json_t *body = NULL, *given = json_object(), *frac;
	struct http_reply r;
	long long year, v;
	char *text, *path;
	size_t len, k = 0;
	int c, rc;

	opts[k++] =
	    (struct option){"source", required_argument, NULL, OPT_SOURCE};
	opts[k++] = (struct option){"json", required_argument, NULL, OPT_JSON};
	opts[k++] = (struct option){"help", no_argument, NULL, 'h'};
	for (size_t i = 0; i < 3; i++)
		opts[k++] = (struct option){history_counts[i],
		    required_argument, NULL, OPT_COUNT + (int)i};
	for (size_t i = 0; i < HISTORY_NIND; i++)
		opts[k++] = (struct option){
		    history_inds[i], required_argument, NULL, OPT_IND + (int)i};
	opts[k] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			json_decref(given);
			return cli_help(cli);
		}
		if (c == OPT_SOURCE)
			source = optarg;
		else if (c == OPT_JSON)
			file = optarg;
		else if (c >= OPT_COUNT && c < OPT_COUNT + 3) {
			if (cli_parse_int(optarg, 0, 1000000000000LL, &v) !=
			    0) {
				json_decref(given);
				return cli_bad_usage(cli,
				    "--%s must be a whole number, not '%s'",
				    history_counts[c - OPT_COUNT], optarg);
			}
			json_object_set_new(history_member(given, "counts"),
			    history_counts[c - OPT_COUNT], json_integer(v));
		} else if (c >= OPT_IND && c < OPT_IND + (int)HISTORY_NIND) {
			if (history_fraction(optarg, &frac) != 0) {
				json_decref(given);
				return cli_bad_usage(cli,
				    "--%s must be NUM/DEN (e.g. 120/300), not "
				    "'%s'",
				    history_inds[c - OPT_IND], optarg);
			}
			json_object_set_new(history_member(given, "indicators"),
			    history_inds[c - OPT_IND], frac);
		} else {
			json_decref(given);
			return cli_bad_usage(cli, NULL);
		}
	}
	if ((rc = history_year(cli, argc, argv, &year)) != 0) {
		json_decref(given);
		return rc;
	}
	if (file != NULL) {
		json_error_t jerr;

		if (cli_read_file(file, &text, &len) != 0) {
			json_decref(given);
			return CDHT_EXIT_REJECTED;
		}
		body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		free(text);
		if (!json_is_object(body)) {
			fprintf(stderr, "%s: %s: line %d: %s\n", cli->name,
			    file, jerr.line,
			    body ? L("không phải một đối tượng JSON",
			               "not a JSON object")
			         : jerr.text);
			json_decref(body);
			json_decref(given);
			return CDHT_EXIT_REJECTED;
		}
	} else
		body = json_object();
	/* flags win over the file, member by member */
	json_object_update_recursive(body, given);
	json_decref(given);
	if (source != NULL)
		json_object_set_new(body, "source", json_string(source));
	if (json_object_get(body, "source") == NULL) {
		json_decref(body);
		return cli_bad_usage(cli, "need --source (where the figures "
		                          "come from)");
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if ((path = cli_api_path("/v1/history/%lld", year)) == NULL) {
		free(text);
		return CDHT_EXIT_REJECTED;
	}
	rc = http_call(cli_http(cli), "PUT", path, "application/json", text,
	    text ? strlen(text) : 0, 0, &r);
	free(text);
	free(path);
	if (rc == CDHT_EXIT_OK)
		history_print(r.json);
	http_reply_clear(&r);
	return rc;
}

/* cdht history show: GET /v1/history/{year}. */
static int
history_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"unit", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_reply r;
	long long year;
	const char *unit = NULL;
	char *path;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'u')
			unit = optarg;
		else
			return c == 'h' ? cli_help(cli)
			                : cli_bad_usage(cli, NULL);
	}
	if ((rc = history_year(cli, argc, argv, &year)) != 0)
		return rc;
	if ((path = history_path(year, unit)) == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK && json) {
		json_dumpf(r.json, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (rc == CDHT_EXIT_OK)
		history_print(r.json);
	http_reply_clear(&r);
	return rc;
}

/* cdht history delete: DELETE /v1/history/{year}. */
static int
history_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"unit", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_reply r;
	long long year;
	const char *unit = NULL;
	char *path;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'u')
			unit = optarg;
		else
			return c == 'h' ? cli_help(cli)
			                : cli_bad_usage(cli, NULL);
	}
	if ((rc = history_year(cli, argc, argv, &year)) != 0)
		return rc;
	if ((path = history_path(year, unit)) == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "DELETE", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK)
		printf(L("đã xoá số liệu nhập năm %lld\n",
		           "removed the imported results of %lld\n"),
		    year);
	http_reply_clear(&r);
	return rc;
}

/* cdht history import: the whole file in one text/csv POST (the node's
 * lines are the file's). */
static int
history_import(struct cli *cli, int argc, char **argv)
{
	return cli_import_whole(cli, argc, argv, "/v1/history");
}

/* cdht history set|show|delete|import. */
int
cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"set", history_set, history_set_usage},
	    {"show", history_show, history_show_usage},
	    {"delete", history_delete, history_delete_usage},
	    {"import", history_import, history_import_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}
