/*
 * cmd_filing.c: "cdht filing submit|reopen|status": the yearly filing
 * (chốt sổ) of this unit, POST, DELETE and GET /v1/filings/{year}.  While
 * a year is filed the node refuses every write of it; an administrator
 * files it (--force when units below have not), and may reopen it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"

static const char filing_submit_usage[] =
    "submit YEAR [--force]\n"
    "  File the year (admin): from now on its records cannot change "
    "here.\n"
    "  Refused while units below have not filed, unless --force.\n";

static const char filing_reopen_usage[] =
    "reopen YEAR\n"
    "  Reopen a filed year (admin) so that it can be corrected.\n";

static const char filing_status_usage[] =
    "status [--json] [YEAR]\n"
    "  Whether the year (default: the current one) is filed, when and "
    "by whom,\n"
    "  and its deadline.\n";

/* Print the ids of an array of {"id"} objects (or of strings), blank-led. */
static void
filing_print_ids(FILE *fp, const json_t *a)
{
	const json_t *e;
	const char *id;
	size_t i;

	json_array_foreach(a, i, e)
	{
		id = json_is_string(e)
		         ? json_string_value(e)
		         : json_string_value(json_object_get(e, "id"));
		fputc(' ', fp);
		cli_put_clean(fp, id != NULL ? id : "?");
	}
	fputc('\n', fp);
}

/*
 * Parse "[--FLAG] YEAR" (flag NULL: no such option; *set becomes 1 when
 * given), YEAR optional when optional is set (then *year stays -1 when
 * absent).
 * Returns 0, or the exit code when the command is over.
 */
static int
filing_args(struct cli *cli, int argc, char **argv, const char *flag, int *set,
    int optional, long long *year)
{
	struct option opts[] = {
	    {flag, no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*year = -1;
	while ((c = getopt_long(argc, argv, "h", flag != NULL ? opts : opts + 1,
	            NULL)) != -1) {
		if (c == 'f') {
			*set = 1;
			continue;
		}
		return c == 'h' ? cli_help(cli) : cli_bad_usage(cli, NULL);
	}
	if (argc - optind > 1)
		return cli_extra_arg(cli, argv[optind + 1]);
	if (argc - optind == 0)
		return optional ? 0 : cli_bad_usage(cli, "need YEAR");
	return cli_year_arg(cli, "YEAR", argv[optind], year);
}

/* cdht filing submit: POST /v1/filings/{year}[?force=1]. */
static int
filing_submit(struct cli *cli, int argc, char **argv)
{
	const json_t *err, *nf;
	struct http_reply r;
	long long year;
	const char *code, *by;
	char *path;
	int rc, force = 0;

	if ((rc = filing_args(cli, argc, argv, "force", &force, 0, &year)) !=
	        0 ||
	    year < 0)
		return rc;
	if ((path = cli_api_path(
	         force ? "/v1/filings/%lld?force=1" : "/v1/filings/%lld",
	         year)) == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "POST", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK) {
		by = json_string_value(json_object_get(r.json, "by"));
		printf(L("đã chốt sổ năm %lld lúc ", "filed %lld at "), year);
		cli_put_clean(stdout, cli_str(r.json, "filed_at", "?"));
		if (by != NULL) {
			fputs(L(", người chốt: ", ", by "), stdout);
			cli_put_clean(stdout, by);
		}
		putchar('\n');
		nf = json_object_get(r.json, "not_filed");
		if (json_array_size(nf) > 0) {
			printf(L("chốt khi còn %zu đơn vị chưa chốt sổ:",
			           "filed with %zu units not filed:"),
			    json_array_size(nf));
			filing_print_ids(stdout, nf);
		}
	} else {
		err = json_object_get(r.json, "error");
		code = json_string_value(json_object_get(err, "code"));
		if (code != NULL && strcmp(code, "not_all_filed") == 0) {
			fprintf(stderr,
			    L("cdht: %zu đơn vị chưa chốt sổ:",
			        "cdht: %zu units have not filed:"),
			    json_array_size(json_object_get(err, "items")));
			filing_print_ids(stderr, json_object_get(err, "items"));
			fprintf(stderr,
			    L("cdht: để chốt sổ vẫn cứ chốt, dùng: %s --force "
			      "%lld\n",
			        "cdht: to file all the same: %s --force "
			        "%lld\n"),
			    cli->name, year);
		}
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht filing reopen: DELETE /v1/filings/{year}. */
static int
filing_reopen(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	long long year;
	char *path;
	int rc;

	if ((rc = filing_args(cli, argc, argv, NULL, NULL, 0, &year)) != 0 ||
	    year < 0)
		return rc;
	if ((path = cli_api_path("/v1/filings/%lld", year)) == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "DELETE", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK)
		printf(
		    L("đã mở lại năm %lld (số lần mở lại: %" JSON_INTEGER_FORMAT
		      ")\n",
		        "reopened %lld (times reopened: %" JSON_INTEGER_FORMAT
		        ")\n"),
		    year,
		    json_integer_value(json_object_get(r.json, "reopened")));
	http_reply_clear(&r);
	return rc;
}

/* cdht filing status: GET /v1/filings/{year}. */
static int
filing_status(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	const json_t *d;
	long long year;
	char *path;
	int rc, json = 0;

	if ((rc = filing_args(cli, argc, argv, "json", &json, 1, &year)) != 0)
		return rc;
	if (year < 0 && (rc = cli_current_year(cli, &year)) != 0)
		return rc;
	if ((path = cli_api_path("/v1/filings/%lld", year)) == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK && json) {
		json_dumpf(r.json, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (rc == CDHT_EXIT_OK) {
		d = r.json;
		if (json_is_true(json_object_get(d, "filed"))) {
			printf(
			    L("năm %lld: đã chốt sổ lúc ", "%lld: filed at "),
			    year);
			cli_put_clean(stdout, cli_str(d, "filed_at", "?"));
			fputs(L(", người chốt: ", ", by "), stdout);
			cli_put_clean(stdout, cli_str(d, "by", "?"));
			putchar('\n');
		} else {
			printf(
			    L("năm %lld: chưa chốt sổ\n", "%lld: not filed\n"),
			    year);
		}
		fputs(L("hạn nộp: ", "deadline: "), stdout);
		cli_put_clean(stdout, cli_str(d, "deadline", "?"));
		if (json_is_true(json_object_get(d, "late")))
			fputs(L(" (trễ hạn)", " (late)"), stdout);
		putchar('\n');
		printf(L("số lần mở lại: %" JSON_INTEGER_FORMAT "\n",
		           "times reopened: %" JSON_INTEGER_FORMAT "\n"),
		    json_integer_value(json_object_get(d, "reopened")));
		if (json_integer_value(json_object_get(d, "forced_missing")) >
		    0)
			printf(L("chốt khi còn %" JSON_INTEGER_FORMAT
			         " đơn vị chưa chốt sổ\n",
			           "filed with %" JSON_INTEGER_FORMAT
			           " units not filed\n"),
			    json_integer_value(
			        json_object_get(d, "forced_missing")));
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht filing submit|reopen|status. */
int
cmd_filing(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"submit", filing_submit, filing_submit_usage},
	    {"reopen", filing_reopen, filing_reopen_usage},
	    {"status", filing_status, filing_status_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}
