/* views.c: JSON documents for progress, nodes and assessments. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "records.h"
#include "views.h"

void
views_iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
iso_or_null(int64_t t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	views_iso_time(t, buf, sizeof(buf));
	return json_string(buf);
}

/*
 * A report version (1..2^64-1) as JSON, exactly: an integer up to INT64_MAX
 * (json_int_t is signed), above it a string of its decimal digits (no JSON
 * integer type would hold it in jansson, nor in most parsers).
 */
static json_t *
version_json(uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

static json_t *
node_obj(const char *id, const char *level, const char *name)
{
	return json_pack(
	    "{s:s, s:s, s:s}", "id", id, "level", level, "name", name);
}

static json_t *
indicators_obj(const struct cdht_counters *c, const struct rules_targets *tg)
{
	json_t *o = json_object();

	for (int i = 0; i < IND_COUNT; i++) {
		struct rules_progress p;

		rules_indicator(c, tg, i, &p);
		json_object_set_new(o, rules_indicator_names[i],
		    json_pack("{s:I, s:I, s:o, s:{s:i, s:i}, s:{s:b, s:b}, "
		              "s:{s:I, s:I}}",
		        "numerator", (json_int_t)p.numerator, "denominator",
		        (json_int_t)p.denominator, "percent",
		        p.has_percent ? json_real(p.percent) : json_null(),
		        "targets", "2025", p.target[0], "2030", p.target[1],
		        "met", "2025", p.met[0], "2030", p.met[1], "needed",
		        "2025", (json_int_t)p.needed[0], "2030",
		        (json_int_t)p.needed[1]));
	}
	return o;
}

static json_t *
counts_obj(const struct cdht_counters *c)
{
	const int64_t *v = c->v;
	json_t *groups = json_object();

	for (int g = 0; g < GROUP_COUNT; g++)
		json_object_set_new(groups, rules_group_names[g],
		    json_pack("{s:I, s:I}", "assessed",
		        (json_int_t)v[CDHT_C_farmer_assessed + 2 * g],
		        "recognized",
		        (json_int_t)v[CDHT_C_farmer_recognized + 2 * g]));
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:o, s:{s:{s:I, s:I}, s:{s:I, s:I}}, "
	    "s:{s:I, s:I}, s:I}",
	    "assessed", (json_int_t)v[CDHT_C_assessed], "recognized",
	    (json_int_t)v[CDHT_C_recognized], "eligible",
	    (json_int_t)v[CDHT_C_eligible], "outstanding",
	    (json_int_t)v[CDHT_C_outstanding], "by_group", groups,
	    "by_population", "adult", "assessed",
	    (json_int_t)v[CDHT_C_adult_assessed], "recognized",
	    (json_int_t)v[CDHT_C_adult_recognized], "staff", "assessed",
	    (json_int_t)v[CDHT_C_staff_assessed], "recognized",
	    (json_int_t)v[CDHT_C_staff_recognized], "digital", "skilled",
	    (json_int_t)v[CDHT_C_digital_skilled], "proficient",
	    (json_int_t)v[CDHT_C_digital_proficient], "units_with_denominators",
	    (json_int_t)v[CDHT_C_den_set]);
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct agg_node *)a)->id, ((const struct agg_node *)b)->id);
}

/* Children of parent down to depth levels, from the sorted directory. */
static json_t *
children_arr(struct store_txn *t, const struct conf *c,
    const struct agg_node *nodes, size_t n, const char *parent, int year,
    int depth)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		struct cdht_counters sum;
		json_t *o;

		if (strcmp(nodes[i].parent, parent) != 0)
			continue;
		if (aggregate_totals(t, c, nodes[i].id, year, &sum) != STORE_OK)
			continue;
		o = json_pack("{s:o, s:o, s:o}", "node",
		    node_obj(nodes[i].id, nodes[i].level, nodes[i].name),
		    "indicators", indicators_obj(&sum, &c->targets), "counts",
		    counts_obj(&sum));
		if (depth > 1)
			json_object_set_new(o, "children",
			    children_arr(
			        t, c, nodes, n, nodes[i].id, year, depth - 1));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Add one unit's report of year to the coverage lists. */
static void
cover(json_t *cov, const char *id, const struct cdht_counters *c,
    int64_t updated_at, int have)
{
	int reported =
	    have && (c->v[CDHT_C_assessed] > 0 || c->v[CDHT_C_den_set] > 0);

	json_object_set_new(cov, "units",
	    json_integer(
	        json_integer_value(json_object_get(cov, "units")) + 1));
	if (reported)
		json_object_set_new(cov, "reported",
		    json_integer(
		        json_integer_value(json_object_get(cov, "reported")) +
		        1));
	else
		json_array_append_new(
		    json_object_get(cov, "missing"), json_string(id));
	if (!have || c->v[CDHT_C_den_set] == 0)
		json_array_append_new(
		    json_object_get(cov, "no_denominators"), json_string(id));
	json_object_set_new(json_object_get(cov, "last_report"), id,
	    have ? iso_or_null(updated_at) : json_null());
}

static json_t *
coverage_obj(struct store_txn *t, const struct conf *c,
    const struct agg_node *nodes, size_t n, int year)
{
	json_t *cov = json_pack("{s:i, s:i, s:[], s:[], s:{}}", "units", 0,
	    "reported", 0, "missing", "no_denominators", "last_report");
	struct local_report lr;

	records_local(t, year, &lr);
	cover(cov, c->id, &lr.c, lr.updated_at, 1);
	for (size_t i = 0; i < n; i++) {
		struct wire_report r;
		int have =
		    aggregate_report_of(t, nodes[i].id, year, &r) == STORE_OK;
		cover(cov, nodes[i].id, &r.counters, r.updated_at, have);
	}
	/* configured children never heard from count as missing units */
	for (size_t i = 0; i < c->nchildren; i++) {
		struct agg_node key;
		snprintf(key.id, sizeof(key.id), "%s", c->children[i].id);
		if (n == 0 ||
		    bsearch(&key, nodes, n, sizeof(*nodes), node_cmp) == NULL)
			cover(cov, c->children[i].id, NULL, 0, 0);
	}
	return cov;
}

json_t *
views_progress(
    struct store_txn *t, const struct conf *c, int year, int depth, int64_t now)
{
	struct cdht_counters sum;
	struct agg_node *nodes = NULL;
	size_t n = 0;
	char asof[32];
	json_t *o;

	if (aggregate_totals(t, c, c->id, year, &sum) != STORE_OK)
		return NULL;
	views_iso_time(now, asof, sizeof(asof));
	o = json_pack("{s:o, s:i, s:s, s:o, s:o}", "node",
	    node_obj(c->id, rules_level_names[c->level], c->name), "year", year,
	    "as_of", asof, "indicators", indicators_obj(&sum, &c->targets),
	    "counts", counts_obj(&sum));
	if (o == NULL || depth < 0)
		return o;
	if (aggregate_nodes(t, &nodes, &n) != STORE_OK) {
		json_decref(o);
		return NULL;
	}
	if (n > 0) /* nodes is NULL when n == 0 */
		qsort(nodes, n, sizeof(*nodes), node_cmp);
	if (depth > 0)
		json_object_set_new(o, "children",
		    children_arr(t, c, nodes, n, c->id, year, depth));
	json_object_set_new(o, "coverage", coverage_obj(t, c, nodes, n, year));
	free(nodes);
	return o;
}

json_t *
views_nodes(struct store_txn *t, const struct conf *c, views_link_fn link,
    void *link_arg)
{
	struct agg_node *nodes = NULL;
	size_t n = 0;
	json_t *arr, *o;

	if (aggregate_nodes(t, &nodes, &n) != STORE_OK)
		return NULL;
	if (n > 0) /* nodes is NULL when n == 0 */
		qsort(nodes, n, sizeof(*nodes), node_cmp);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		/* counters: how many its release reports (fewer than this
		 * node knows: the missing ones count as zero for it) */
		json_t *e = json_pack(
		    "{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:i}", "id",
		    nodes[i].id, "level", nodes[i].level, "name", nodes[i].name,
		    "parent", nodes[i].parent, "depth", nodes[i].depth,
		    "version", version_json(nodes[i].version), "last_report",
		    iso_or_null(nodes[i].last_report), "counters",
		    nodes[i].ncounters);
		int connected = 0;
		int64_t seen = 0;

		if (conf_child_by_id(c, nodes[i].id) >= 0 && link != NULL) {
			link(link_arg, nodes[i].id, &connected, &seen);
			json_object_set_new(
			    e, "link", json_string(connected ? "up" : "down"));
		} else
			json_object_set_new(e, "link", json_null());
		json_array_append_new(arr, e);
	}
	for (size_t i = 0; i < c->nchildren; i++) {
		struct agg_node key;
		int connected = 0;
		int64_t seen = 0;

		snprintf(key.id, sizeof(key.id), "%s", c->children[i].id);
		if (n > 0 &&
		    bsearch(&key, nodes, n, sizeof(*nodes), node_cmp) != NULL)
			continue;
		if (link != NULL)
			link(link_arg, key.id, &connected, &seen);
		json_array_append_new(
		    arr, json_pack("{s:s, s:n, s:s, s:s, s:i, s:i, s:n, s:s}",
		             "id", key.id, "level", "name", c->children[i].name,
		             "parent", c->id, "depth", 1, "version", 0,
		             "last_report", "link", connected ? "up" : "down"));
	}
	free(nodes);
	o = json_pack("{s:o, s:o}", "node",
	    node_obj(c->id, rules_level_names[c->level], c->name), "nodes",
	    arr);
	return o;
}

json_t *
views_result(const struct assessment *a)
{
	return json_pack("{s:i, s:s%, s:i, s:b, s:b}", "year", a->year,
	    "person_id", a->person_id, (size_t)a->pid_len, "total", a->total,
	    "recognized", a->recognized, "outstanding", a->outstanding);
}

json_t *
views_assessment(const struct assessment *a)
{
	json_t *o = views_result(a), *scores = json_array();

	for (int i = 0; i < RULES_NSCORES; i++)
		json_array_append_new(scores, json_integer(a->scores[i]));
	json_object_set_new(
	    o, "name", a->name[0] ? json_string(a->name) : json_null());
	json_object_set_new(o, "birth_year",
	    a->birth_year ? json_integer(a->birth_year) : json_null());
	json_object_set_new(
	    o, "group", json_string(rules_group_names[a->group]));
	json_object_set_new(o, "population",
	    json_string(rules_population_names[a->population]));
	json_object_set_new(o, "scores", scores);
	json_object_set_new(
	    o, "digital", json_string(rules_digital_names[a->digital]));
	json_object_set_new(o, "updated_at", iso_or_null(a->updated_at));
	return o;
}
