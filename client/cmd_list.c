/*
 * cmd_list.c: "cdht list": the lists of names (danh sách) of a year, GET
 * /v1/lists/{year}: people, or the title records of a kind, filtered by
 * status and group.  As a table for the terminal (from the JSON), or the
 * node's JSON, CSV (Excel) or HTML (A4) written byte for byte to stdout or
 * a file.  The node judges the filters.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"
#include "table.h"

/* A status's label in the run's language; the code when unknown. */
static const char *
list_status_text(const char *code)
{
	static const struct {
		const char *code, *text[2];
	} st[] = {
	    {"assessed", {"đã đánh giá", "assessed"}},
	    {"eligible", {"đủ điều kiện", "eligible"}},
	    {"recognized", {"đã công nhận", "recognized"}},
	    {"outstanding", {"tiêu biểu (5 năm liền)", "outstanding"}},
	};

	if (code == NULL)
		return "-";
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		if (strcmp(code, st[i].code) == 0)
			return st[i].text[cli_lang];
	return code;
}

/* Append "&key=value" (value encoded) to *path; -1 when out of memory. */
static int
list_query(char **path, const char *key, const char *value)
{
	char *more, *p;

	if (value == NULL)
		return 0;
	if ((more = cli_api_path("&%s=%s", key, value)) == NULL)
		return -1;
	if (asprintf(&p, "%s%s", *path, more) < 0) {
		free(more);
		fprintf(stderr, "cdht: out of memory\n");
		return -1;
	}
	free(more);
	free(*path);
	*path = p;
	return 0;
}

/* A number (or "-" for null) of o at key into a table cell. */
static void
list_num_cell(struct table *t, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		table_cell(t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		table_cell(t, "-");
}

/* Print the list document doc as a heading and a table on fp. */
static int
list_print_table(FILE *fp, const json_t *doc)
{
	const json_t *items = json_object_get(doc, "items"), *node, *e;
	const char *kind = cli_str(doc, "kind", "citizen");
	int people = strcmp(kind, "citizen") == 0;
	struct table *t;
	size_t i;

	node = json_object_get(doc, "node");
	fputs(L("Danh sách ", "List: "), fp);
	cli_put_clean(fp, cli_title_text(kind));
	fputs(" (", fp);
	cli_put_clean(fp, list_status_text(cli_str(doc, "status", NULL)));
	if (json_is_string(json_object_get(doc, "group"))) {
		fprintf(fp, ", %s ", L("nhóm", "group"));
		cli_put_clean(fp, cli_str(doc, "group", ""));
	}
	fputc(')', fp);
	fprintf(fp,
	    L(", năm %" JSON_INTEGER_FORMAT "\n",
	        ", %" JSON_INTEGER_FORMAT "\n"),
	    json_integer_value(json_object_get(doc, "year")));
	if (node != NULL) {
		cli_put_clean(fp, cli_str(node, "name", "?"));
		fputs(" (", fp);
		cli_put_clean(fp, cli_str(node, "id", "?"));
		fputs(")\n", fp);
	}
	fprintf(
	    fp, L("Số lượng: %zu\n", "Count: %zu\n"), json_array_size(items));
	if (json_array_size(items) == 0)
		return CDHT_EXIT_OK;
	fputc('\n', fp);
	if ((t = table_new(6)) == NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	table_right(t, 0);
	table_right(t, 3);
	table_row(t);
	table_cell(t, "%s", L("STT", "No."));
	table_cell(
	    t, "%s", people ? L("Mã định danh", "Person ID") : L("Mã", "ID"));
	table_cell(t, "%s", people ? L("Họ và tên", "Name") : L("Tên", "Name"));
	table_cell(t, "%s",
	    people ? L("Tổng điểm", "Total") : L("Thành viên", "Members"));
	table_cell(t, "%s", L("Trạng thái", "Status"));
	table_cell(t, "%s", L("Số quyết định", "Decision"));
	json_array_foreach(items, i, e)
	{
		table_row(t);
		list_num_cell(t, e, "no");
		table_cell(
		    t, "%s", cli_str(e, people ? "person_id" : "id", "?"));
		table_cell(t, "%s", cli_str(e, "name", ""));
		list_num_cell(t, e, people ? "total" : "members");
		table_cell(
		    t, "%s", list_status_text(cli_str(e, "status", NULL)));
		table_cell(t, "%s", cli_str(e, "decision", "-"));
	}
	table_fit(t, 2, 110, 12);
	table_print(t, fp, 0, 1);
	table_free(&t);
	return CDHT_EXIT_OK;
}

/*
 * cdht list [--year Y] [--status S] [--group G] [--kind K] [--format F]
 * [-o FILE]
 */
int
cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"status", required_argument, NULL, 's'},
	    {"group", required_argument, NULL, 'g'},
	    {"kind", required_argument, NULL, 'k'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *status = NULL, *group = NULL, *kind = NULL;
	const char *format = "table", *output = NULL;
	struct http_reply r;
	long long year = -1;
	char *path;
	FILE *fp;
	int c, rc, table;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			if ((rc = cli_year_depth_opt(
			         cli, c, optarg, &year, NULL)) != 0)
				return rc;
			break;
		case 's':
			status = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") != 0 &&
			    strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "csv") != 0 &&
			    strcmp(optarg, "html") != 0)
				return cli_bad_usage(cli,
				    "--format must be table, json, csv or "
				    "html, not '%s'",
				    optarg);
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	if (year < 0 && (rc = cli_current_year(cli, &year)) != 0)
		return rc;
	table = strcmp(format, "table") == 0;
	path = cli_api_path("/v1/lists/%lld?format=%s&lang=%s", year,
	    table ? "json" : format, cli_lang == CLI_EN ? "en" : "vi");
	if (path == NULL || list_query(&path, "status", status) == -1 ||
	    list_query(&path, "group", group) == -1 ||
	    list_query(&path, "kind", kind) == -1) {
		free(path);
		return CDHT_EXIT_REJECTED;
	}
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0,
	    table ? 0 : HTTP_RAW, &r);
	free(path);
	if (rc == CDHT_EXIT_OK && !table) {
		rc = cli_write_output(output, r.body, r.len);
	} else if (rc == CDHT_EXIT_OK) {
		if ((fp = output != NULL ? fopen(output, "w") : stdout) ==
		    NULL) {
			fprintf(
			    stderr, "cdht: %s: %s\n", output, strerror(errno));
			rc = CDHT_EXIT_REJECTED;
		} else {
			rc = list_print_table(fp, r.json);
			if (fp != stdout && fclose(fp) != 0) {
				fprintf(stderr, "cdht: %s: %s\n", output,
				    strerror(errno));
				rc = CDHT_EXIT_REJECTED;
			}
		}
	}
	http_reply_clear(&r);
	return rc;
}
