/* views.c: JSON documents for progress, nodes and assessments.  Units
 * retired at this node or below carry "retired" (PROTOCOL.md 8.8). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "history.h"
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

/* Indicator ind of totals c against a unit's own targets (drill-down's
 * own_targets). */
static json_t *
own_targets_obj(
    const struct cdht_counters *c, const struct rules_targets *own, int ind)
{
	struct rules_progress p;

	rules_indicator(c, own, ind, &p);
	return json_pack("{s:i, s:i, s:{s:b, s:b}, s:{s:b, s:b}, s:{s:I, s:I}}",
	    "2025", p.target[0], "2030", p.target[1], "strict", "2025",
	    p.strict[0], "2030", p.strict[1], "met", "2025", p.met[0], "2030",
	    p.met[1], "needed", "2025", (json_int_t)p.needed[0], "2030",
	    (json_int_t)p.needed[1]);
}

/*
 * The indicators of totals c against targets tg (the asking node's).  With
 * with_own (a drill-down child), each also carries own_targets: the same
 * totals against own, the unit's own targets, or null when own is NULL
 * (its release does not send them).
 */
static json_t *
indicators_obj(const struct cdht_counters *c, const struct rules_targets *tg,
    int with_own, const struct rules_targets *own)
{
	json_t *o = json_object();

	for (int i = 0; i < IND_COUNT; i++) {
		struct rules_progress p;
		json_t *e;

		rules_indicator(c, tg, i, &p);
		e = json_pack("{s:I, s:I, s:o, s:{s:i, s:i}, s:{s:b, s:b}, "
		              "s:{s:b, s:b}, s:{s:I, s:I}}",
		    "numerator", (json_int_t)p.numerator, "denominator",
		    (json_int_t)p.denominator, "percent",
		    p.has_percent ? json_real(p.percent) : json_null(),
		    "targets", "2025", p.target[0], "2030", p.target[1],
		    "strict", "2025", p.strict[0], "2030", p.strict[1], "met",
		    "2025", p.met[0], "2030", p.met[1], "needed", "2025",
		    (json_int_t)p.needed[0], "2030", (json_int_t)p.needed[1]);
		if (e != NULL && with_own)
			json_object_set_new(e, "own_targets",
			    own != NULL ? own_targets_obj(c, own, i)
			                : json_null());
		json_object_set_new(o, rules_indicator_names[i], e);
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
		    json_pack("{s:I, s:I, s:I}", "assessed",
		        (json_int_t)v[CDHT_C_farmer_assessed + 2 * g],
		        "recognized",
		        (json_int_t)v[CDHT_C_farmer_recognized + 2 * g],
		        "eligible", (json_int_t)v[CDHT_C_farmer_eligible + g]));
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:o, s:{s:{s:I, s:I}, s:{s:I, s:I}}, "
	    "s:{s:I, s:I}, s:I, s:I, s:I}",
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
	    (json_int_t)v[CDHT_C_den_set], "filed", (json_int_t)v[CDHT_C_filed],
	    "imported", (json_int_t)v[CDHT_C_imported]);
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct agg_node *)a)->id, ((const struct agg_node *)b)->id);
}

/* "retired": {"last_year", "successor"} on o when id is a retired unit
 * (aggregate_retired_of: at every ancestor, the successor comes with the
 * reports); nothing otherwise. */
static void
set_retired(
    struct store_txn *t, const struct conf *c, json_t *o, const char *id)
{
	char succ[WIRE_MAX_ID + 1];
	int last;

	if (o != NULL && aggregate_retired_of(t, c, id, &last, succ))
		json_object_set_new(o, "retired",
		    json_pack("{s:i, s:o}", "last_year", last, "successor",
		        succ[0] ? json_string(succ) : json_null()));
}

/* "offline": true on o when id is an offline unit of this node (a child
 * in the directory that no node runs: history.c's bulk CSV). */
static void
set_offline(struct store_txn *t, const struct conf *c, json_t *o,
    const struct agg_node *nd)
{
	if (o != NULL && nd->depth == 1 && conf_child_by_id(c, nd->id) < 0 &&
	    history_offline_has(t, nd->id, 0))
		json_object_set_new(o, "offline", json_true());
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
		struct wire_report r;
		struct rules_targets own;
		int have_own;
		json_t *o;

		if (strcmp(nodes[i].parent, parent) != 0)
			continue;
		if (aggregate_totals(t, c, nodes[i].id, year, &sum) != STORE_OK)
			continue;
		/* the unit's own targets: from its own report, not the sum */
		have_own =
		    aggregate_report_of(t, nodes[i].id, year, &r) == STORE_OK &&
		    rules_targets_of(&r.counters, &own) == 0;
		o = json_pack("{s:o, s:o, s:o}", "node",
		    node_obj(nodes[i].id, nodes[i].level, nodes[i].name),
		    "indicators",
		    indicators_obj(
		        &sum, &c->targets, 1, have_own ? &own : NULL),
		    "counts", counts_obj(&sum));
		set_retired(t, c, o, nodes[i].id);
		set_offline(t, c, o, &nodes[i]);
		if (depth > 1)
			json_object_set_new(o, "children",
			    children_arr(
			        t, c, nodes, n, nodes[i].id, year, depth - 1));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The day (since 1970-01-01) of Unix time t in the node's time zone. */
static int64_t
local_day(const struct conf *c, int64_t t)
{
	int64_t local = t + (int64_t)c->utc_offset_min * 60;

	return (local >= 0 ? local : local - 86399) / 86400;
}

/* What coverage needs to judge a filing: the deadline's day and today. */
struct filing_clock {
	const struct conf *c;
	int64_t due, today;
};

/* Add one unit's filing state of year (c: its counters, NULL when it never
 * reported) to the coverage lists. */
static void
cover_filing(json_t *cov, const struct filing_clock *fc, const char *id,
    const struct cdht_counters *c, const char *filed_by)
{
	int late;

	/* imported results are that year's official figures, entered from
	 * the report the unit filed then: neither to file nor late */
	if (c != NULL && c->v[CDHT_C_imported] != 0 && c->v[CDHT_C_filed] == 0)
		return;
	if (c != NULL && c->v[CDHT_C_filed] != 0) {
		json_object_set_new(json_object_get(cov, "filed"), id,
		    iso_or_null(c->v[CDHT_C_filed_at]));
		json_object_set_new(json_object_get(cov, "filed_by"), id,
		    json_string(filed_by ? filed_by : ""));
		late = local_day(fc->c, c->v[CDHT_C_filed_at]) > fc->due;
	} else {
		json_array_append_new(
		    json_object_get(cov, "not_filed"), json_string(id));
		late = fc->today > fc->due;
	}
	if (c != NULL && c->v[CDHT_C_reopened] > 0)
		json_object_set_new(json_object_get(cov, "reopened"), id,
		    json_integer(c->v[CDHT_C_reopened]));
	if (late)
		json_array_append_new(
		    json_object_get(cov, "late"), json_string(id));
}

/* Add one unit's report of year to the coverage lists. */
static void
cover(json_t *cov, const struct filing_clock *fc, const char *id,
    const char *name, const struct cdht_counters *c, int64_t updated_at,
    int have, const char *filed_by)
{
	cover_filing(cov, fc, id, have ? c : NULL, filed_by);
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
	if (have && c->v[CDHT_C_imported] != 0)
		json_array_append_new(
		    json_object_get(cov, "imported"), json_string(id));
	json_object_set_new(json_object_get(cov, "last_report"), id,
	    have ? iso_or_null(updated_at) : json_null());
	json_object_set_new(
	    json_object_get(cov, "names"), id, json_string(name));
}

static const struct agg_node *
dir_find(const struct agg_node *nodes, size_t n, const char *id)
{
	struct agg_node key;

	if (n == 0) /* nodes is NULL when n == 0 */
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(&key, nodes, n, sizeof(*nodes), node_cmp);
}

/* 1 if id is root or lies below root, by the directory's parent links. */
static int
dir_below(
    const struct agg_node *nodes, size_t n, const char *id, const char *root)
{
	const struct agg_node *a;

	for (int hops = 0; hops <= WIRE_MAX_PATH + 1; hops++) {
		if (strcmp(id, root) == 0)
			return 1;
		if ((a = dir_find(nodes, n, id)) == NULL)
			return 0;
		id = a->parent;
	}
	return 0;
}

/*
 * Coverage of root's subtree (root: this node or a unit below it) for
 * year: every unit's report, which direct children's links are down, who
 * is stale (last report of any year older than stale_after) and which
 * configured children were never heard from.
 */
static json_t *
coverage_obj(struct store_txn *t, const struct conf *c,
    const struct agg_node *nodes, size_t n, const struct agg_node *root,
    int year, int64_t now, views_link_fn link, void *link_arg)
{
	json_t *cov = json_pack(
	    "{s:i, s:i, s:[], s:[], s:{}, s:[], s:[], s:[], s:{}, s:i, s:{}, "
	    "s:{}, s:[], s:{}, s:[]}",
	    "units", 0, "reported", 0, "missing", "no_denominators",
	    "last_report", "down", "stale", "never_reported", "names",
	    "stale_after", c->stale_after_s, "filed", "filed_by", "not_filed",
	    "reopened", "late");
	struct filing_clock fc = {c,
	    days_from_civil(year, c->deadline_month, c->deadline_day),
	    local_day(c, now)};
	struct wire_report r;
	char due[16];

	snprintf(due, sizeof(due), "%04d-%02d-%02d", year, c->deadline_month,
	    c->deadline_day);
	json_object_set_new(cov, "deadline", json_string(due));
	/* units whose figures of year are imported results (history.c) */
	json_object_set_new(cov, "imported", json_array());
	if (root == NULL) {
		struct local_report lr;

		records_local(t, year, &lr);
		cover(cov, &fc, c->id, c->name, &lr.c, lr.updated_at, 1,
		    lr.filed_by);
	} else {
		int have =
		    aggregate_report_of(t, root->id, year, &r) == STORE_OK;
		cover(cov, &fc, root->id, root->name, &r.counters, r.updated_at,
		    have, r.filed_by);
	}
	for (size_t i = 0; i < n; i++) {
		int have, connected = 0;
		int64_t seen = 0;

		if (root != NULL && !dir_below(nodes, n, nodes[i].id, root->id))
			continue;
		have = 0;
		if (&nodes[i] != root) {
			have = aggregate_report_of(t, nodes[i].id, year, &r) ==
			       STORE_OK;
			cover(cov, &fc, nodes[i].id, nodes[i].name, &r.counters,
			    r.updated_at, have, r.filed_by);
		}
		/* a unit known by imported results runs no node: not stale */
		if (nodes[i].last_report < now - c->stale_after_s &&
		    !(have && r.counters.v[CDHT_C_imported] != 0))
			json_array_append_new(json_object_get(cov, "stale"),
			    json_string(nodes[i].id));
		if (conf_child_by_id(c, nodes[i].id) >= 0 && link != NULL) {
			link(link_arg, nodes[i].id, &connected, &seen);
			if (!connected)
				json_array_append_new(
				    json_object_get(cov, "down"),
				    json_string(nodes[i].id));
		}
	}
	if (root != NULL)
		return cov;
	/* configured children never heard from: missing, and named by the
	 * children file */
	for (size_t i = 0; i < c->nchildren; i++) {
		int connected = 0;
		int64_t seen = 0;

		if (dir_find(nodes, n, c->children[i].id) != NULL)
			continue;
		cover(cov, &fc, c->children[i].id, c->children[i].name, NULL, 0,
		    0, NULL);
		json_array_append_new(json_object_get(cov, "never_reported"),
		    json_string(c->children[i].id));
		if (link != NULL)
			link(link_arg, c->children[i].id, &connected, &seen);
		if (!connected)
			json_array_append_new(json_object_get(cov, "down"),
			    json_string(c->children[i].id));
	}
	return cov;
}

/* The deadline of year's filings: its date, days left from today (in the
 * node's time zone; negative once passed) and the late units: those of
 * coverage not filed by it (coverage's "late"). */
static json_t *
deadline_obj(const struct conf *c, int year, int64_t now, json_t *cov)
{
	int64_t today = local_day(c, now);
	int64_t due = days_from_civil(year, c->deadline_month, c->deadline_day);
	char date[16];
	json_t *late = json_array();

	snprintf(date, sizeof(date), "%04d-%02d-%02d", year, c->deadline_month,
	    c->deadline_day);
	if (cov != NULL)
		json_array_extend(late, json_object_get(cov, "late"));
	return json_pack("{s:s, s:I, s:b, s:o}", "date", date, "days_left",
	    (json_int_t)(due - today), "passed", today > due, "late", late);
}

/* The chain of units from this node down to (not including) node. */
static json_t *
ancestors_arr(const struct conf *c, const struct agg_node *nodes, size_t n,
    const struct agg_node *node)
{
	json_t *arr = json_array();
	const char *id = node->parent;
	const struct agg_node *a;

	for (int hops = 0; hops <= WIRE_MAX_PATH; hops++) {
		if (strcmp(id, c->id) == 0) {
			json_array_insert_new(arr, 0,
			    node_obj(
			        c->id, rules_level_names[c->level], c->name));
			break;
		}
		if ((a = dir_find(nodes, n, id)) == NULL)
			break;
		json_array_insert_new(
		    arr, 0, node_obj(a->id, a->level, a->name));
		id = a->parent;
	}
	return arr;
}

json_t *
views_progress(struct store_txn *t, const struct conf *c, int year, int depth,
    const char *node, int64_t now, views_link_fn link, void *link_arg, int *rc)
{
	struct cdht_counters sum;
	struct agg_node *nodes = NULL;
	const struct agg_node *root = NULL;
	size_t n = 0;
	char asof[32], off[16];
	json_t *o, *cov;
	int m = c->utc_offset_min < 0 ? -c->utc_offset_min : c->utc_offset_min;

	*rc = STORE_EIO;
	if (node != NULL && strcmp(node, c->id) == 0)
		node = NULL;
	if ((node != NULL || depth >= 0) &&
	    aggregate_nodes(t, &nodes, &n) != STORE_OK)
		return NULL;
	if (n > 0) /* nodes is NULL when n == 0 */
		qsort(nodes, n, sizeof(*nodes), node_cmp);
	if (node != NULL && (root = dir_find(nodes, n, node)) == NULL) {
		free(nodes);
		*rc = STORE_NOTFOUND;
		return NULL;
	}
	if (aggregate_totals(t, c, root ? root->id : c->id, year, &sum) !=
	    STORE_OK) {
		free(nodes);
		return NULL;
	}
	views_iso_time(now, asof, sizeof(asof));
	snprintf(off, sizeof(off), "%c%02d:%02d",
	    c->utc_offset_min < 0 ? '-' : '+', m / 60, m % 60);
	o = json_pack("{s:o, s:i, s:s, s:o, s:o, s:{s:s, s:s, s:i}}", "node",
	    root ? node_obj(root->id, root->level, root->name)
	         : node_obj(c->id, rules_level_names[c->level], c->name),
	    "year", year, "as_of", asof, "indicators",
	    indicators_obj(&sum, &c->targets, 0, NULL), "counts",
	    counts_obj(&sum), "timezone", "name", c->timezone, "utc_offset",
	    off, "utc_offset_minutes", c->utc_offset_min);
	if (o != NULL)
		json_object_set_new(o, "recognition",
		    json_string(c->recognition == RECOGNITION_DECISION
		                    ? "decision"
		                    : "score"));
	if (o != NULL && root != NULL)
		json_object_set_new(
		    o, "ancestors", ancestors_arr(c, nodes, n, root));
	if (o == NULL || depth < 0) {
		free(nodes);
		*rc = o ? STORE_OK : STORE_EIO;
		return o;
	}
	if (depth > 0)
		json_object_set_new(o, "children",
		    children_arr(
		        t, c, nodes, n, root ? root->id : c->id, year, depth));
	cov = coverage_obj(t, c, nodes, n, root, year, now, link, link_arg);
	json_object_set_new(o, "coverage", cov);
	json_object_set_new(o, "deadline", deadline_obj(c, year, now, cov));
	free(nodes);
	*rc = STORE_OK;
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
		set_retired(t, c, e, nodes[i].id);
		set_offline(t, c, e, &nodes[i]);
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
	return json_pack("{s:i, s:s%, s:i, s:b, s:b, s:b, s:o}", "year",
	    a->year, "person_id", a->person_id, (size_t)a->pid_len, "total",
	    a->total, "eligible", a->eligible, "recognized", a->recognized,
	    "outstanding", a->outstanding, "decision",
	    a->decision[0] ? json_string(a->decision) : json_null());
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
