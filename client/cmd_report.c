/*
 * cmd_report.c: "cdht report": GET /v1/report, the yearly filing, written
 * to stdout (or --output FILE) byte for byte as the node sent it: HTML for
 * A4, CSV for Excel (UTF-8 with BOM, CRLF), or JSON.  The report's
 * language is the run's (--lang).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cdht.h"
#include "http.h"

/* cdht report [--year Y] [--format F] [--depth D] [--output FILE] */
int
cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"format", required_argument, NULL, 'f'},
	    {"depth", required_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *format = "html", *output = NULL;
	long long year = -1, depth = -1;
	struct http_reply r;
	char path[128];
	int c, rc;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
		case 'd':
			if ((rc = cli_year_depth_opt(
			         cli, c, optarg, &year, &depth)) != 0)
				return rc;
			break;
		case 'f':
			if (strcmp(optarg, "html") != 0 &&
			    strcmp(optarg, "csv") != 0 &&
			    strcmp(optarg, "json") != 0)
				return cli_bad_usage(cli,
				    "--format must be html, csv or json, not "
				    "'%s'",
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
	snprintf(path, sizeof(path), "/v1/report?format=%s&lang=%s", format,
	    cli_lang == CLI_EN ? "en" : "vi");
	if (year >= 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&year=%lld", year);
	if (depth >= 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&depth=%lld", depth);
	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, HTTP_RAW, &r);
	if (rc == CDHT_EXIT_OK)
		rc = cli_write_output(output, r.body, r.len);
	http_reply_clear(&r);
	return rc;
}
