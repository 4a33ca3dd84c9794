/*
 * cmd_title.c: "cdht title add|import|show|rm": the collective titles
 * recorded one by one (learning families, clans, communities, units),
 * POST, GET and DELETE /v1/titles; and the label of a title's code in the
 * run's language (cli_title_text), which the decision and list commands
 * share.  The node judges every field.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"
#include "table.h"

static const char title_add_usage[] =
    "add [--dry-run] --year Y --kind K --id I [--name N]\n"
    "           (--recognized|--not-recognized) [--adults N|--staff N]\n"
    "  Record one title record.  K: family clan community unit; --staff "
    "for a\n"
    "  unit, --adults for the others.  With recognition by decision, "
    "--recognized\n"
    "  means it meets the criteria: a decision recognises it.\n";

static const char title_import_usage[] =
    "import [--dry-run] FILE.csv\n"
    "  Send a CSV (columns year,kind,id,name,recognized,adults,staff) "
    "and\n"
    "  report rejected lines as FILE:LINE: code: message.  FILE may be "
    "-.\n";

static const char title_show_usage[] = "show [--json] YEAR KIND ID\n"
                                       "  Print one title record.\n";

static const char title_rm_usage[] = "rm YEAR KIND ID\n"
                                     "  Delete one title record.\n";

/* The keys of a record in the order a table shows them. */
static const char *const title_order[] = {"year", "kind", "id", "name",
    "eligible", "recognized", "adults", "staff", "decision", "updated_at",
    NULL};

const char *
cli_title_text(const char *code)
{
	static const struct {
		const char *code, *text[2];
	} titles[] = {
	    {"citizen", {"công dân học tập", "citizen"}},
	    {"family", {"gia đình học tập", "family"}},
	    {"clan", {"dòng họ học tập", "clan"}},
	    {"community", {"cộng đồng học tập", "community"}},
	    {"unit", {"đơn vị học tập", "unit"}},
	};

	if (code == NULL)
		return "-";
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(code, titles[i].code) == 0)
			return titles[i].text[cli_lang];
	return code;
}

/* cdht title add: POST /v1/titles with one object. */
static int
title_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"kind", required_argument, NULL, 'k'},
	    {"id", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, 'N'},
	    {"recognized", no_argument, NULL, 'r'},
	    {"not-recognized", no_argument, NULL, 'R'},
	    {"adults", required_argument, NULL, 'a'},
	    {"staff", required_argument, NULL, 's'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ystr = NULL, *kind = NULL, *id = NULL, *name = NULL;
	const char *members = NULL, *mkey = NULL;
	struct http_reply r;
	char missing[64] = "", *body;
	long long year, nmem = 0;
	int c, rc, rec = -1, dry = 0;
	json_t *o;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			ystr = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'r':
		case 'R':
			if (rec != -1 && rec != (c == 'r'))
				return cli_bad_usage(cli,
				    "--recognized and --not-recognized "
				    "exclude each other");
			rec = c == 'r';
			break;
		case 'a':
		case 's':
			if (mkey != NULL &&
			    strcmp(mkey, c == 'a' ? "adults" : "staff") != 0)
				return cli_bad_usage(cli,
				    "--adults and --staff exclude each other");
			mkey = c == 'a' ? "adults" : "staff";
			members = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	if (ystr == NULL)
		strcat(missing, " --year");
	if (kind == NULL)
		strcat(missing, " --kind");
	if (id == NULL)
		strcat(missing, " --id");
	if (rec == -1)
		strcat(missing, " --recognized|--not-recognized");
	if (missing[0] != '\0')
		return cli_bad_usage(cli, "missing%s", missing);
	if (cli_parse_int(ystr, INT32_MIN, INT32_MAX, &year) == -1)
		return cli_bad_usage(
		    cli, "--year must be a number, not '%s'", ystr);
	if (members != NULL &&
	    cli_parse_int(members, INT64_MIN, INT64_MAX, &nmem) == -1)
		return cli_bad_usage(
		    cli, "--%s must be a number, not '%s'", mkey, members);

	o = json_pack("{s:I, s:s, s:s, s:b}", "year", (json_int_t)year, "kind",
	    kind, "id", id, "recognized", rec);
	if (o != NULL && name != NULL &&
	    json_object_set_new(o, "name", json_string(name)) == -1)
		json_decref(o), o = NULL;
	if (o != NULL && mkey != NULL)
		json_object_set_new(o, mkey, json_integer(nmem));
	if (o == NULL)
		return cli_bad_usage(cli, "arguments must be valid UTF-8");
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	rc = http_call(cli_http(cli), "POST",
	    dry ? "/v1/titles?dry_run=1" : "/v1/titles", "application/json",
	    body, strlen(body), 0, &r);
	free(body);
	if (rc == CDHT_EXIT_OK) {
		table_print_object(stdout, r.json, title_order);
		if (dry)
			printf(L("chạy thử: không lưu gì\n",
			    "dry run: nothing stored\n"));
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht title import: the whole file in one text/csv POST. */
static int
title_import(struct cli *cli, int argc, char **argv)
{
	return cli_import_whole(cli, argc, argv, "/v1/titles");
}

/* "[--json] YEAR KIND ID" into the record's path; NULL when over. */
static char *
title_path(struct cli *cli, int argc, char **argv, int *json, int *rc)
{
	long long year;
	char *path;

	if (cli_json_operands(
	        cli, argc, argv, json, 3, "need YEAR, KIND and ID", rc) != 0)
		return NULL;
	if ((*rc = cli_year_arg(cli, "YEAR", argv[optind], &year)) != 0)
		return NULL;
	if (argv[optind + 1][0] == '\0' || argv[optind + 2][0] == '\0') {
		*rc = cli_bad_usage(cli, "KIND and ID must not be empty");
		return NULL;
	}
	if ((path = cli_api_path("/v1/titles/%lld/%s/%s", year,
	         argv[optind + 1], argv[optind + 2])) == NULL)
		*rc = CDHT_EXIT_REJECTED;
	return path;
}

/* cdht title show: GET /v1/titles/{year}/{kind}/{id}. */
static int
title_show(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	char *path;
	int rc, json = 0;

	if ((path = title_path(cli, argc, argv, &json, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK && json) {
		json_dumpf(r.json, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (rc == CDHT_EXIT_OK) {
		table_print_object(stdout, r.json, title_order);
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht title rm: DELETE /v1/titles/{year}/{kind}/{id}. */
static int
title_rm(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	char *path;
	int rc;

	if ((path = title_path(cli, argc, argv, NULL, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "DELETE", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK) {
		printf(L("đã xoá: %" JSON_INTEGER_FORMAT " ",
		           "deleted: %" JSON_INTEGER_FORMAT " "),
		    json_integer_value(json_object_get(r.json, "year")));
		cli_put_clean(stdout, argv[argc - 2]);
		putchar(' ');
		cli_put_clean(stdout, argv[argc - 1]);
		putchar('\n');
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht title add|import|show|rm. */
int
cmd_title(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", title_add, title_add_usage},
	    {"import", title_import, title_import_usage},
	    {"show", title_show, title_show_usage},
	    {"rm", title_rm, title_rm_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}
