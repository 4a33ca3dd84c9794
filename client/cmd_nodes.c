/*
 * cmd_nodes.c: "cdht nodes" (GET /v1/nodes: this node, its parent and its
 * subtree with link status) and "cdht health" (GET /healthz, no token: the
 * status, the node, and the uplink's state in words).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"
#include "table.h"

/* Print "NAME (ID, LEVEL)" of a node object. */
static void
nodes_print_node(const json_t *node)
{
	const char *name = json_string_value(json_object_get(node, "name"));
	const char *id = json_string_value(json_object_get(node, "id"));
	const char *level = json_string_value(json_object_get(node, "level"));

	cli_put_clean(stdout, name != NULL ? name : "?");
	fputs(" (", stdout);
	cli_put_clean(stdout, id != NULL ? id : "?");
	if (level != NULL) {
		fputs(", ", stdout);
		cli_put_clean(stdout, level);
	}
	fputs(")\n", stdout);
}

/* A string member, or "-" when absent or null. */
static const char *
nodes_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

/*
 * A node's version (1..2^64-1) as decimal text in buf: the daemon sends an
 * integer up to 2^63-1 and a string of decimal digits above (README
 * "Nodes"); earlier daemons sent those as negative integers (the version
 * cast to int64), which give the version back cast to uint64.  Anything
 * else is "-".  Returns buf.
 */
static const char *
nodes_version(const json_t *v, char *buf, size_t size)
{
	const char *s = json_string_value(v);
	size_t len = s != NULL ? strlen(s) : 0;

	if (json_is_integer(v))
		snprintf(buf, size, "%llu",
		    (unsigned long long)(uint64_t)json_integer_value(v));
	else if (len > 0 && len < size && strspn(s, "0123456789") == len)
		memcpy(buf, s, len + 1);
	else
		snprintf(buf, size, "-");
	return buf;
}

/* cdht nodes: GET /v1/nodes as a table (names indented by depth) or JSON. */
int
cmd_nodes(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_reply r;
	struct table *t;
	const json_t *n;
	char vbuf[24];
	json_int_t depth, top = 0;
	size_t i;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
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
	rc = http_call(cli_http(cli), "GET", "/v1/nodes", NULL, NULL, 0, 0, &r);
	if (rc != CDHT_EXIT_OK || json) {
		if (rc == CDHT_EXIT_OK) {
			json_dumpf(r.json, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		http_reply_clear(&r);
		return rc;
	}

	if (json_is_object(json_object_get(r.json, "node"))) {
		fputs("node: ", stdout);
		nodes_print_node(json_object_get(r.json, "node"));
	}
	if ((t = table_new(6)) == NULL) {
		http_reply_clear(&r);
		return CDHT_EXIT_REJECTED;
	}
	table_right(t, 4);
	table_row(t);
	table_cell(t, "NAME");
	table_cell(t, "ID");
	table_cell(t, "LEVEL");
	table_cell(t, "LINK");
	table_cell(t, "VERSION");
	table_cell(t, "LAST REPORT");
	/* Indent relative to the shallowest node listed. */
	json_array_foreach(json_object_get(r.json, "nodes"), i, n)
	{
		depth = json_integer_value(json_object_get(n, "depth"));
		if (i == 0 || depth < top)
			top = depth;
	}
	json_array_foreach(json_object_get(r.json, "nodes"), i, n)
	{
		depth = json_integer_value(json_object_get(n, "depth")) - top;
		if (depth > 20)
			depth = 20;
		table_row(t);
		table_cell(
		    t, "%*s%s", (int)(2 * depth), "", nodes_str(n, "name"));
		table_cell(t, "%s", nodes_str(n, "id"));
		table_cell(t, "%s", nodes_str(n, "level"));
		table_cell(t, "%s", nodes_str(n, "link"));
		table_cell(t, "%s",
		    nodes_version(
		        json_object_get(n, "version"), vbuf, sizeof(vbuf)));
		table_cell(t, "%s", nodes_str(n, "last_report"));
	}
	table_print(t, stdout, 0, 1);
	table_free(&t);
	http_reply_clear(&r);
	return CDHT_EXIT_OK;
}

/* Print the uplink object of /healthz as one line: its state in words. */
static void
nodes_print_uplink(const json_t *up)
{
	const char *state = json_string_value(json_object_get(up, "state"));
	const char *detail = json_string_value(json_object_get(up, "detail"));
	const json_t *zap = json_object_get(up, "zap_status");
	const json_t *age = json_object_get(up, "last_ack_age_s");

	fputs("uplink to ", stdout);
	cli_put_clean(stdout, nodes_str(up, "endpoint"));
	fputs(": ", stdout);
	if (state == NULL) /* an older node: only "connected" */
		state = json_is_true(json_object_get(up, "connected"))
		            ? "welcomed"
		            : "not welcomed";
	if (strcmp(state, "welcomed") == 0) {
		fputs("welcomed by parent ", stdout);
		cli_put_clean(stdout, nodes_str(up, "parent"));
		if (json_is_integer(age))
			printf(", last ACK %" JSON_INTEGER_FORMAT " s ago",
			    json_integer_value(age));
	} else {
		for (const char *p = state; *p != '\0'; p++)
			putchar(*p == '_' ? ' ' : *p);
		if (json_is_integer(zap))
			printf(" (ZAP status %" JSON_INTEGER_FORMAT ")",
			    json_integer_value(zap));
		if (detail != NULL) {
			fputs(": ", stdout);
			cli_put_clean(stdout, detail);
		}
		if (strcmp(state, "refused") == 0 &&
		    json_object_get(up, "public_key") != NULL) {
			fputs(" (our key ", stdout);
			cli_put_clean(stdout, nodes_str(up, "public_key"));
			putchar(')');
		}
	}
	putchar('\n');
}

/*
 * cdht health: GET /healthz without the token; prints the status, the node
 * and its uplink.  Returns CDHT_EXIT_DEGRADED when the node answers with a
 * status other than "ok".
 */
int
cmd_health(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_reply r;
	const json_t *node, *up;
	const char *status;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		return c == 'h' ? cli_help(cli) : cli_bad_usage(cli, NULL);
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	rc = http_request(
	    cli_http(cli), "GET", "/healthz", NULL, NULL, 0, HTTP_NO_AUTH, &r);
	if (rc == CDHT_EXIT_OK) {
		status = json_string_value(json_object_get(r.json, "status"));
		cli_put_clean(stdout, status != NULL ? status : "?");
		node = json_object_get(r.json, "node");
		if (json_is_object(node)) {
			fputs(": ", stdout);
			nodes_print_node(node);
		} else {
			putchar('\n');
		}
		up = json_object_get(r.json, "uplink");
		if (json_is_object(up))
			nodes_print_uplink(up);
		if (status == NULL || strcmp(status, "ok") != 0)
			rc = CDHT_EXIT_DEGRADED;
	} else
		http_print_failure(cli_http(cli), &r, rc);
	http_reply_clear(&r);
	return rc;
}
