/* upload.c: a CSV file sent whole in one request (title and history
 * imports; `cdht import` sends assessments in chunks instead). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdht.h"
#include "http.h"

/*
 * cli_import_whole: "[--dry-run] FILE.csv" sent whole in one text/csv POST
 * to path (the node's line numbers are then the file's), each refused line
 * printed as FILE:LINE: code: message, then the counts.  path is the
 * resource without a query ("/v1/titles"); results are not asked for.
 */
int
cli_import_whole(struct cli *cli, int argc, char **argv, const char *path)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const json_t *errs, *e, *l, *ix;
	const char *label;
	struct http_reply r;
	json_int_t acc, rej;
	char prefix[1024], url[256], *buf;
	size_t len, i;
	int c, rc, dry = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (argc - optind != 1)
		return cli_bad_usage(cli, "need one FILE.csv");
	label = strcmp(argv[optind], "-") == 0 ? "<stdin>" : argv[optind];
	if (cli_read_file(argv[optind], &buf, &len) == -1)
		return CDHT_EXIT_REJECTED;
	snprintf(
	    url, sizeof(url), "%s?results=0%s", path, dry ? "&dry_run=1" : "");
	rc = http_call(cli_http(cli), "POST", url, "text/csv", buf, len, 0, &r);
	free(buf);
	if (rc != CDHT_EXIT_OK) {
		http_reply_clear(&r);
		return rc;
	}
	errs = json_object_get(r.json, "errors");
	json_array_foreach(errs, i, e)
	{
		l = json_object_get(e, "line");
		ix = json_object_get(e, "index");
		if (json_is_integer(l))
			snprintf(prefix, sizeof(prefix),
			    "%s:%" JSON_INTEGER_FORMAT, label,
			    json_integer_value(l));
		else if (json_is_integer(ix))
			snprintf(prefix, sizeof(prefix),
			    "%s: %s %" JSON_INTEGER_FORMAT, label,
			    L("mục", "item"), json_integer_value(ix));
		else
			snprintf(prefix, sizeof(prefix), "%s", label);
		http_print_error(stderr, prefix, e);
	}
	acc = json_integer_value(json_object_get(r.json, "accepted"));
	rej = json_integer_value(json_object_get(r.json, "rejected"));
	fflush(stderr);
	printf(L("đã nhận %" JSON_INTEGER_FORMAT
	         ", bị từ chối %" JSON_INTEGER_FORMAT "%s\n",
	           "accepted %" JSON_INTEGER_FORMAT
	           ", rejected %" JSON_INTEGER_FORMAT "%s\n"),
	    acc, rej,
	    dry ? L(" (chạy thử: không lưu gì)", " (dry run: nothing stored)")
	        : "");
	http_reply_clear(&r);
	return rej > 0 || json_array_size(errs) > 0 ? CDHT_EXIT_REJECTED
	                                            : CDHT_EXIT_OK;
}
