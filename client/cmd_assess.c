/*
 * cmd_assess.c: the assessment commands: submit (one object from flags, or a
 * JSON file as is), show and withdraw.  Each sends one request and maps the
 * answer to an exit code.
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

/*
 * Parse "a,b,...,j" into a new JSON array of ten integers (the caller owns
 * it); NULL when arg is not that.
 */
static json_t *
assess_scores(const char *arg)
{
	json_t *a;
	long long v;
	char buf[32];
	const char *p = arg;
	size_t n;

	if ((a = json_array()) == NULL)
		return NULL;
	for (;;) {
		n = strcspn(p, ",");
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(buf))
			goto bad;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (cli_parse_int(buf, INT32_MIN, INT32_MAX, &v) == -1 ||
		    json_array_append_new(a, json_integer(v)) == -1)
			goto bad;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	if (json_array_size(a) != VALID_NSCORES)
		goto bad;
	return a;
bad:
	json_decref(a);
	return NULL;
}

/* Print a single-object result: year, person, total, recognized... */
static void
assess_print_result(const json_t *res)
{
	const json_t *y = json_object_get(res, "year");
	const char *id = json_string_value(json_object_get(res, "person_id"));

	if (json_is_integer(y))
		printf("%" JSON_INTEGER_FORMAT " ", json_integer_value(y));
	cli_put_clean(stdout, id != NULL ? id : "?");
	printf(L(": tổng điểm %" JSON_INTEGER_FORMAT ", đạt danh hiệu %s, "
	         "tiêu biểu (5 năm liền) %s\n",
	           ": total %" JSON_INTEGER_FORMAT ", recognized %s, "
	           "outstanding %s\n"),
	    json_integer_value(json_object_get(res, "total")),
	    json_is_true(json_object_get(res, "recognized")) ? L("có", "yes")
	                                                     : L("không", "no"),
	    json_is_true(json_object_get(res, "outstanding"))
	        ? L("có", "yes")
	        : L("không", "no"));
}

/*
 * Print a batch answer {"accepted", "rejected", "errors": [{"index"}...]}:
 * the counts on stdout, each error on stderr.  Returns the exit code.
 */
static int
assess_print_batch(const json_t *res)
{
	json_int_t acc, rej;
	const json_t *errs, *e, *ix;
	char prefix[64];
	size_t i;

	acc = json_integer_value(json_object_get(res, "accepted"));
	rej = json_integer_value(json_object_get(res, "rejected"));
	errs = json_object_get(res, "errors");
	json_array_foreach(errs, i, e)
	{
		ix = json_object_get(e, "index");
		if (json_is_integer(ix))
			snprintf(prefix, sizeof(prefix),
			    L("mục %" JSON_INTEGER_FORMAT,
			        "item %" JSON_INTEGER_FORMAT),
			    json_integer_value(ix));
		else
			snprintf(prefix, sizeof(prefix), L("mục ?", "item ?"));
		http_print_error(stderr, prefix, e);
	}
	printf(L("đã nhận %" JSON_INTEGER_FORMAT
	         ", bị từ chối %" JSON_INTEGER_FORMAT "\n",
	           "accepted %" JSON_INTEGER_FORMAT
	           ", rejected %" JSON_INTEGER_FORMAT "\n"),
	    acc, rej);
	return rej > 0 || json_array_size(errs) > 0 ? CDHT_EXIT_REJECTED
	                                            : CDHT_EXIT_OK;
}

/* The assessment fields given as flags. */
struct assess_flags {
	const char *year, *person, *group, *population, *scores, *digital;
	const char *name, *birth_year;
};

/* Build the JSON body from flags; NULL after a usage message. */
static json_t *
assess_from_flags(const struct cli *cli, const struct assess_flags *f)
{
	json_t *o = NULL, *scores;
	long long year, birth;
	char missing[160] = "";

	if (f->year == NULL)
		strcat(missing, " --year");
	if (f->person == NULL)
		strcat(missing, " --person");
	if (f->group == NULL)
		strcat(missing, " --group");
	if (f->population == NULL)
		strcat(missing, " --population");
	if (f->scores == NULL)
		strcat(missing, " --scores");
	if (f->digital == NULL)
		strcat(missing, " --digital");
	if (missing[0] != '\0') {
		cli_bad_usage(cli, "missing%s (or use --json FILE)", missing);
		return NULL;
	}
	if (cli_parse_int(f->year, INT32_MIN, INT32_MAX, &year) == -1) {
		cli_bad_usage(
		    cli, "--year must be a number, not '%s'", f->year);
		return NULL;
	}
	if (f->birth_year != NULL &&
	    cli_parse_int(f->birth_year, INT32_MIN, INT32_MAX, &birth) == -1) {
		cli_bad_usage(cli, "--birth-year must be a number, not '%s'",
		    f->birth_year);
		return NULL;
	}
	if ((scores = assess_scores(f->scores)) == NULL) {
		cli_bad_usage(cli,
		    "--scores must be %d comma-separated integers, not '%s'",
		    VALID_NSCORES, f->scores);
		return NULL;
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s}", "year",
	    (json_int_t)year, "person_id", f->person, "group", f->group,
	    "population", f->population, "scores", scores, "digital",
	    f->digital);
	if (o != NULL && f->name != NULL)
		json_object_set_new(o, "name", json_string(f->name));
	if (o != NULL && f->birth_year != NULL)
		json_object_set_new(o, "birth_year", json_integer(birth));
	if (o == NULL)
		/* json_pack fails on strings that are not UTF-8 */
		cli_bad_usage(cli, "arguments must be valid UTF-8");
	return o;
}

/*
 * cdht submit: POST /v1/assessments, one object built from flags or a JSON
 * file as is; prints the scored result, or the batch counts and errors.
 */
int
cmd_submit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"json", required_argument, NULL, 'j'},
	    {"year", required_argument, NULL, 'y'},
	    {"person", required_argument, NULL, 'p'},
	    {"group", required_argument, NULL, 'g'},
	    {"population", required_argument, NULL, 'P'},
	    {"scores", required_argument, NULL, 's'},
	    {"digital", required_argument, NULL, 'd'},
	    {"name", required_argument, NULL, 'N'},
	    {"birth-year", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct assess_flags f = {0};
	struct http_reply r;
	const char *file = NULL;
	char *body = NULL;
	size_t len;
	json_t *obj;
	int c, dry = 0, nflags = 0, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			continue;
		case 'j':
			file = optarg;
			continue;
		case 'h':
			return cli_help(cli);
		case 'y':
			f.year = optarg;
			break;
		case 'p':
			f.person = optarg;
			break;
		case 'g':
			f.group = optarg;
			break;
		case 'P':
			f.population = optarg;
			break;
		case 's':
			f.scores = optarg;
			break;
		case 'd':
			f.digital = optarg;
			break;
		case 'N':
			f.name = optarg;
			break;
		case 'b':
			f.birth_year = optarg;
			break;
		default:
			return cli_bad_usage(cli, NULL);
		}
		nflags++;
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	if (file != NULL && nflags > 0)
		return cli_bad_usage(
		    cli, "--json cannot be combined with assessment flags");

	if (file != NULL) {
		if (cli_read_file(file, &body, &len) == -1)
			return CDHT_EXIT_REJECTED;
	} else {
		if ((obj = assess_from_flags(cli, &f)) == NULL)
			return CDHT_EXIT_USAGE;
		body = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
		if (body == NULL) {
			fprintf(stderr, "cdht: out of memory\n");
			return CDHT_EXIT_REJECTED;
		}
		len = strlen(body);
	}

	rc = http_call(cli_http(cli), "POST",
	    dry ? "/v1/assessments?dry_run=1" : "/v1/assessments",
	    "application/json", body, len, 0, &r);
	free(body);
	if (rc == CDHT_EXIT_OK) {
		if (json_object_get(r.json, "accepted") != NULL)
			rc = assess_print_batch(r.json);
		else
			assess_print_result(r.json);
		if (dry)
			printf(L("chạy thử: không lưu gì\n",
			    "dry run: nothing stored\n"));
	}
	http_reply_clear(&r);
	return rc;
}

/* Parse "[--json] YEAR PERSON_ID" into an API path; NULL after usage. */
static char *
assess_path(
    struct cli *cli, int argc, char **argv, int with_json, int *json, int *rc)
{
	long long year;
	char *id, *path = NULL;

	if (cli_json_operands(cli, argc, argv, with_json ? json : NULL, 2,
	        "need YEAR and PERSON_ID", rc) != 0)
		return NULL;
	if (cli_year_arg(cli, "YEAR", argv[optind], &year) != 0)
		return NULL;
	if (argv[optind + 1][0] == '\0') {
		cli_bad_usage(cli, "PERSON_ID is empty");
		return NULL;
	}
	if ((id = http_escape(argv[optind + 1])) == NULL ||
	    asprintf(&path, "/v1/assessments/%lld/%s", year, id) < 0)
		path = NULL;
	free(id);
	if (path == NULL) {
		fprintf(stderr, "cdht: out of memory\n");
		*rc = CDHT_EXIT_REJECTED;
	}
	return path;
}

/* cdht show: GET /v1/assessments/{year}/{id}, as a table or JSON. */
int
cmd_show(struct cli *cli, int argc, char **argv)
{
	static const char *const order[] = {"year", "person_id", "name",
	    "birth_year", "group", "population", "scores", "digital", "total",
	    "recognized", "outstanding", "updated_at", NULL};
	struct http_reply r;
	char *path;
	int rc, json = 0;

	if ((path = assess_path(cli, argc, argv, 1, &json, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK) {
		if (json) {
			json_dumpf(r.json, stdout, JSON_INDENT(2));
			putchar('\n');
		} else
			table_print_object(stdout, r.json, order);
	}
	http_reply_clear(&r);
	return rc;
}

/* cdht withdraw: DELETE /v1/assessments/{year}/{id}. */
int
cmd_withdraw(struct cli *cli, int argc, char **argv)
{
	struct http_reply r;
	const char *id;
	char *path;
	int rc, json = 0;

	if ((path = assess_path(cli, argc, argv, 0, &json, &rc)) == NULL)
		return rc;
	rc = http_call(cli_http(cli), "DELETE", path, NULL, NULL, 0, 0, &r);
	free(path);
	if (rc == CDHT_EXIT_OK) {
		id = json_string_value(json_object_get(r.json, "person_id"));
		printf(L("đã rút: %" JSON_INTEGER_FORMAT " ",
		           "withdrawn: %" JSON_INTEGER_FORMAT " "),
		    json_integer_value(json_object_get(r.json, "year")));
		cli_put_clean(stdout, id != NULL ? id : argv[argc - 1]);
		putchar('\n');
	}
	http_reply_clear(&r);
	return rc;
}
