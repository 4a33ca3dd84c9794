/*
 * cmd_decision.c: "cdht decision add|list|show|revoke": the decisions of
 * recognition (quyết định công nhận) of a year, POST, GET and DELETE
 * /v1/decisions.  The node is the one judge of every field and id; this
 * file builds the request (the ids from the command line or a file), and
 * on a refusal names each offending id with its reason in the run's
 * language (and its line, for a file).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cdht.h"
#include "csv.h"
#include "http.h"
#include "table.h"

static const char decision_add_usage[] =
    "add --year Y --number N --date YYYY-MM-DD --authority A\n"
    "           [--title citizen|family|clan|community|unit] "
    "ID...|--ids-file F\n"
    "  Record a decision of recognition listing the ids (people, or "
    "title\n"
    "  records of that kind).  F has one id a line, or is a CSV whose "
    "first\n"
    "  column (or its id / person_id / Mã định danh column) holds "
    "them.\n"
    "  Nothing is recorded when any id cannot be decided: each is "
    "named.\n";

static const char decision_list_usage[] =
    "list [--year Y] [--json]\n"
    "  The decisions recorded for a year (default: the current one).\n";

static const char decision_show_usage[] =
    "show [--json] YEAR NUMBER\n"
    "  One decision and the ids it lists.\n";

static const char decision_revoke_usage[] =
    "revoke YEAR NUMBER\n"
    "  Revoke a decision (admin): the ids it lists are no longer "
    "recognised.\n";

/* The keys of a decision in the order a table shows them. */
static const char *const decision_order[] = {"year", "number", "date",
    "authority", "title", "count", "recorded_at", "by", NULL};

/* The ids of a decision and, when read from a file, the line of each. */
struct decision_ids {
	json_t *ids; /* array of strings */
	int *lines;  /* lines[i]: the file line of ids[i]; NULL: arguments */
	const char *label; /* the file's name in messages */
};

/* The column of a header cell naming the id, or -1 when none does. */
static int
decision_id_column(char **cells, size_t n)
{
	static const char *const names[] = {"id", "ids", "person_id",
	    "person id", "mã định danh", "Mã định danh", "MÃ ĐỊNH DANH", NULL};

	for (size_t i = 0; i < n; i++)
		for (const char *const *k = names; *k != NULL; k++)
			if (strcasecmp(cells[i], *k) == 0)
				return (int)i;
	return -1;
}

/* Trim blanks from both ends of s in place. */
static char *
decision_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/*
 * Read the ids of file path into *d: one a line, or a CSV's id column
 * (the first, unless the first line is a header naming another); blank
 * cells are skipped.  Returns 0, or -1 after saying why.
 */
static int
decision_read_ids(const char *path, struct decision_ids *d)
{
	char *cells[CSV_MAX_CELLS], *buf, *id;
	struct csv r;
	size_t len, n, cap = 0;
	int line, rc, col = 0, first = 1, *p, ret = -1;

	d->label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (cli_read_file(path, &buf, &len) == -1)
		return -1;
	csv_init_sep(&r, buf, len, csv_sniff(buf, len));
	while ((rc = csv_next(&r, cells, &n, &line)) != 0) {
		if (rc == CSV_ENOMEM)
			goto oom;
		if (rc == -1) {
			fprintf(stderr, "cdht: %s:%d: ", d->label, line);
			cli_put_clean(stderr, csv_error(&r, NULL));
			fputc('\n', stderr);
			goto out;
		}
		if (first) {
			first = 0;
			if ((col = decision_id_column(cells, n)) >= 0)
				continue;
			col = 0;
		}
		if ((size_t)col >= n ||
		    *(id = decision_trim(cells[col])) == '\0')
			continue;
		if (json_array_size(d->ids) == cap) {
			cap = cap ? 2 * cap : 64;
			if ((p = realloc(d->lines, cap * sizeof(*p))) == NULL)
				goto oom;
			d->lines = p;
		}
		d->lines[json_array_size(d->ids)] = line;
		if (json_array_append_new(d->ids, json_string(id)) == -1) {
			fprintf(stderr,
			    L("cdht: %s:%d: mã không phải UTF-8 hợp lệ\n",
			        "cdht: %s:%d: the id is not valid UTF-8\n"),
			    d->label, line);
			goto out;
		}
	}
	if (json_array_size(d->ids) == 0) {
		fprintf(stderr,
		    L("cdht: %s: không có mã nào\n", "cdht: %s: no ids\n"),
		    d->label);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	fprintf(stderr, "cdht: out of memory\n");
out:
	csv_free(&r);
	free(buf);
	return ret;
}

/* Why one id cannot be decided, in the run's language. */
static void
decision_print_reason(FILE *fp, const json_t *item, int person)
{
	const char *reason = json_string_value(json_object_get(item, "reason"));
	const char *other =
	    json_string_value(json_object_get(item, "decision"));

	if (reason == NULL)
		reason = "?";
	if (strcmp(reason, "not_assessed") == 0)
		fputs(person ? L("chưa có phiếu đánh giá năm này",
		                   "not assessed that year")
		             : L("chưa có hồ sơ danh hiệu năm này",
		                   "no title record that year"),
		    fp);
	else if (strcmp(reason, "not_eligible") == 0)
		fputs(person ? L("chưa đủ điều kiện (tổng điểm dưới 80 hoặc có "
		                 "tiêu chí dưới 5 điểm)",
		                   "not eligible (total below 80 or a score "
		                   "below 5)")
		             : L("hồ sơ chưa đạt tiêu chí",
		                   "its record does not meet the criteria"),
		    fp);
	else if (strcmp(reason, "decided") == 0 && other != NULL) {
		fputs(
		    L("đã có trong quyết định ", "already listed by decision "),
		    fp);
		cli_put_clean(fp, other);
		other = NULL;
	} else if (strcmp(reason, "decided") == 0)
		fputs(L("đã có trong quyết định khác",
		          "already listed by another decision"),
		    fp);
	else if (strcmp(reason, "duplicate") == 0)
		fputs(L("lặp lại trong danh sách này", "listed twice"), fp);
	else
		cli_put_clean(fp, reason);
	if (other != NULL) {
		fputs(L(" (quyết định ", " (decision "), fp);
		cli_put_clean(fp, other);
		fputc(')', fp);
	}
	fprintf(fp, " [%s]\n", reason);
}

/*
 * After a refused decision: each offending id of the error's items, with
 * its file line when the ids came from a file.
 */
static void
decision_print_items(
    const struct http_reply *r, const struct decision_ids *d, int person)
{
	const json_t *err = json_object_get(r->json, "error");
	const json_t *items = json_object_get(err, "items"), *it, *ix;
	const char *id;
	json_int_t i;
	size_t k;

	if (json_array_size(items) == 0)
		return;
	fprintf(stderr,
	    L("cdht: %zu mã không thể đưa vào quyết định:\n",
	        "cdht: %zu ids cannot be decided:\n"),
	    json_array_size(items));
	json_array_foreach(items, k, it)
	{
		ix = json_object_get(it, "index");
		i = json_is_integer(ix) ? json_integer_value(ix) : -1;
		id = json_string_value(json_object_get(it, "id"));
		fputs("  ", stderr);
		if (d->lines != NULL && i >= 0 &&
		    (size_t)i < json_array_size(d->ids))
			fprintf(stderr, "%s:%d: ", d->label, d->lines[i]);
		cli_put_clean(stderr, id != NULL ? id : "?");
		fputs(": ", stderr);
		decision_print_reason(stderr, it, person);
	}
}

/* cdht decision add: POST /v1/decisions. */
static int
decision_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"number", required_argument, NULL, 'n'},
	    {"date", required_argument, NULL, 'd'},
	    {"authority", required_argument, NULL, 'a'},
	    {"title", required_argument, NULL, 't'},
	    {"ids-file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *number = NULL, *date = NULL, *auth = NULL, *title = NULL;
	const char *file = NULL, *ystr = NULL;
	struct decision_ids d = {0};
	struct http_reply r = {0};
	char missing[64] = "", *body = NULL;
	long long year;
	json_t *o = NULL;
	int c, person, rc = CDHT_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			ystr = optarg;
			break;
		case 'n':
			number = optarg;
			break;
		case 'd':
			date = optarg;
			break;
		case 'a':
			auth = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (ystr == NULL)
		strcat(missing, " --year");
	if (number == NULL)
		strcat(missing, " --number");
	if (date == NULL)
		strcat(missing, " --date");
	if (auth == NULL)
		strcat(missing, " --authority");
	if (missing[0] != '\0')
		return cli_bad_usage(cli, "missing%s", missing);
	if (cli_parse_int(ystr, INT32_MIN, INT32_MAX, &year) == -1)
		return cli_bad_usage(
		    cli, "--year must be a number, not '%s'", ystr);
	if (file != NULL && optind < argc)
		return cli_bad_usage(cli, "give IDs or --ids-file, not both");
	if (file == NULL && optind >= argc)
		return cli_bad_usage(cli, "need IDs or --ids-file F");
	person = title == NULL || strcmp(title, "citizen") == 0;

	if ((d.ids = json_array()) == NULL)
		goto oom;
	if (file != NULL) {
		if (decision_read_ids(file, &d) == -1) {
			rc = CDHT_EXIT_REJECTED;
			goto out;
		}
	} else {
		for (int i = optind; i < argc; i++)
			if (json_array_append_new(
			        d.ids, json_string(argv[i])) == -1) {
				rc = cli_bad_usage(
				    cli, "arguments must be valid UTF-8");
				goto out;
			}
	}
	o = json_pack("{s:I, s:s?, s:s?, s:s?, s:O}", "year", (json_int_t)year,
	    "number", number, "date", date, "authority", auth,
	    person ? "person_ids" : "ids", d.ids);
	if (o == NULL || (title != NULL && json_object_set_new(o, "title",
	                                       json_string(title)) == -1)) {
		rc = cli_bad_usage(cli, "arguments must be valid UTF-8");
		goto out;
	}
	if ((body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto oom;
	rc = http_call(cli_http(cli), "POST", "/v1/decisions",
	    "application/json", body, strlen(body), 0, &r);
	if (rc == CDHT_EXIT_OK) {
		printf(L("Đã ghi quyết định:\n", "decision recorded:\n"));
		table_print_object(stdout, r.json, decision_order);
	} else if (r.status == 400) {
		decision_print_items(&r, &d, person);
	}
	goto out;
oom:
	fprintf(stderr, "cdht: out of memory\n");
	rc = CDHT_EXIT_REJECTED;
out:
	http_reply_clear(&r);
	free(body);
	json_decref(o);
	json_decref(d.ids);
	free(d.lines);
	return rc;
}

/* cdht decision list [--year Y] [--json]: GET /v1/decisions. */
static int
decision_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const json_t *list, *e, *y;
	struct http_reply r;
	struct table *t;
	long long year = -1;
	char *path;
	size_t i;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			if ((rc = cli_year_depth_opt(
			         cli, c, optarg, &year, NULL)) != 0)
				return rc;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	path = year >= 0 ? cli_api_path("/v1/decisions?year=%lld", year)
	                 : cli_api_path("/v1/decisions");
	if (path == NULL)
		return CDHT_EXIT_REJECTED;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc != CDHT_EXIT_OK || json) {
		if (rc == CDHT_EXIT_OK) {
			json_dumpf(r.json, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		http_reply_clear(&r);
		return rc;
	}
	y = json_object_get(r.json, "year");
	list = json_object_get(r.json, "decisions");
	if (json_array_size(list) == 0) {
		printf(
		    L("Năm %" JSON_INTEGER_FORMAT ": chưa có quyết định nào\n",
		        "%" JSON_INTEGER_FORMAT ": no decisions recorded\n"),
		    json_integer_value(y));
		http_reply_clear(&r);
		return CDHT_EXIT_OK;
	}
	printf(L("Năm %" JSON_INTEGER_FORMAT ": %zu quyết định\n\n",
	           "%" JSON_INTEGER_FORMAT ": %zu decisions\n\n"),
	    json_integer_value(y), json_array_size(list));
	if ((t = table_new(5)) == NULL) {
		http_reply_clear(&r);
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	table_right(t, 4);
	table_row(t);
	table_cell(t, "%s", L("Số quyết định", "Number"));
	table_cell(t, "%s", L("Ngày", "Date"));
	table_cell(t, "%s", L("Cơ quan ban hành", "Authority"));
	table_cell(t, "%s", L("Danh hiệu", "Title"));
	table_cell(t, "%s", L("Số lượng", "Count"));
	json_array_foreach(list, i, e)
	{
		const char *title =
		    json_string_value(json_object_get(e, "title"));
		const char *s;

		table_row(t);
		s = json_string_value(json_object_get(e, "number"));
		table_cell(t, "%s", s ? s : "?");
		s = json_string_value(json_object_get(e, "date"));
		table_cell(t, "%s", s ? s : "?");
		s = json_string_value(json_object_get(e, "authority"));
		table_cell(t, "%s", s ? s : "?");
		table_cell(t, "%s", cli_title_text(title));
		table_cell(t, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(e, "count")));
	}
	table_fit(t, 2, 100, 20);
	table_print(t, stdout, 0, 1);
	table_free(&t);
	http_reply_clear(&r);
	return CDHT_EXIT_OK;
}

/* "[--json] YEAR NUMBER" into the decision's path; NULL when over. */
static char *
decision_path(struct cli *cli, int argc, char **argv, int *json, int *rc)
{
	long long year;
	char *path;

	if (cli_json_operands(
	        cli, argc, argv, json, 2, "need YEAR and NUMBER", rc) != 0)
		return NULL;
	if ((*rc = cli_year_arg(cli, "YEAR", argv[optind], &year)) != 0)
		return NULL;
	if (argv[optind + 1][0] == '\0') {
		*rc = cli_bad_usage(cli, "NUMBER is empty");
		return NULL;
	}
	/* "45/QĐ-UBND" goes as 45%2FQ%C4%90-UBND: one path segment */
	if ((path = cli_api_path(
	         "/v1/decisions/%lld/%s", year, argv[optind + 1])) == NULL)
		*rc = CDHT_EXIT_REJECTED;
	return path;
}

/* cdht decision show: GET /v1/decisions/{year}/{number}. */
static int
decision_show(struct cli *cli, int argc, char **argv)
{
	const json_t *ids, *e;
	struct http_reply r;
	json_t *head;
	char *path;
	size_t i;
	int rc, json = 0;

	if ((path = decision_path(cli, argc, argv, &json, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK && json) {
		json_dumpf(r.json, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (rc == CDHT_EXIT_OK) {
		ids = json_object_get(r.json, "ids");
		if ((head = json_copy(r.json)) != NULL) {
			json_object_del(head, "ids");
			table_print_object(stdout, head, decision_order);
			json_decref(head);
		}
		printf(L("\nDanh sách (%zu):\n", "\nids (%zu):\n"),
		    json_array_size(ids));
		json_array_foreach(ids, i, e)
		{
			const char *s = json_string_value(e);

			printf("%6zu  ", i + 1);
			cli_put_clean(stdout, s != NULL ? s : "?");
			putchar('\n');
		}
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht decision revoke: DELETE /v1/decisions/{year}/{number}. */
static int
decision_revoke(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	const char *num;
	char *path;
	int rc;

	if ((path = decision_path(cli, argc, argv, NULL, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "DELETE", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK) {
		num = json_string_value(json_object_get(r.json, "number"));
		printf(L("đã thu hồi quyết định ", "revoked decision "));
		cli_put_clean(stdout, num != NULL ? num : argv[argc - 1]);
		printf(L(" năm %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
		         " mã không còn được công nhận theo quyết định này\n",
		           " of %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
		           " ids no longer decided\n"),
		    json_integer_value(json_object_get(r.json, "year")),
		    json_integer_value(json_object_get(r.json, "count")));
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht decision add|list|show|revoke. */
int
cmd_decision(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", decision_add, decision_add_usage},
	    {"list", decision_list, decision_list_usage},
	    {"show", decision_show, decision_show_usage},
	    {"revoke", decision_revoke, decision_revoke_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}
