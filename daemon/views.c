/* views.c: JSON documents for progress, nodes and assessments.  Units
 * retired at this node or below carry "retired" (PROTOCOL.md 8.8).  The
 * large ones (progress with its drill-down and coverage, the node list)
 * are written as text by jsonw.c, with no jansson value tree; their
 * jansson forms are that text parsed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "history.h"
#include "jsonw.h"
#include "records.h"
#include "views.h"

/* Two digits of v (0..99) at o. */
static char *
put2(char *o, unsigned v)
{
	*o++ = (char)('0' + v / 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

/*
 * The date of t as gmtime_r and strftime "%Y-%m-%dT%H:%M:%SZ" print it.
 * Times of the years 1970..9999 (every report's; one per unit in a
 * coverage) are done here (the inverse of days_from_civil below,
 * Hinnant's civil_from_days), the rest by the C library.
 */
void
views_iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t >= 0 && t <= INT64_C(253402300799) && size >= 21) {
		int64_t z = t / 86400 + 719468, sec = t % 86400;
		int64_t era = z / 146097, doe = z - era * 146097;
		int64_t yoe =
		    (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153;
		unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
		unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
		unsigned y = (unsigned)(yoe + era * 400 + (m <= 2));
		char *o = buf;

		o = put2(o, y / 100);
		o = put2(o, y % 100);
		*o++ = '-';
		o = put2(o, m);
		*o++ = '-';
		o = put2(o, d);
		*o++ = 'T';
		o = put2(o, (unsigned)(sec / 3600));
		*o++ = ':';
		o = put2(o, (unsigned)(sec / 60 % 60));
		*o++ = ':';
		o = put2(o, (unsigned)(sec % 60));
		*o++ = 'Z';
		*o = '\0';
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2026-11-21T10:00:00Z", or null when t <= 0. */
static void
w_iso_or_null(struct jsonw *w, int64_t t)
{
	char buf[32];

	if (t <= 0) {
		jsonw_null(w);
		return;
	}
	views_iso_time(t, buf, sizeof(buf));
	jsonw_str(w, buf);
}

/*
 * A report version (1..2^64-1) as JSON, exactly: an integer up to INT64_MAX
 * (as jansson's signed json_int_t held it), above it a string of its
 * decimal digits (no JSON integer type would hold it in most parsers).
 */
static void
w_version(struct jsonw *w, uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX) {
		jsonw_uint(w, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	jsonw_str(w, buf);
}

static void
w_node(struct jsonw *w, const char *id, const char *level, const char *name)
{
	jsonw_obj_begin(w);
	JSONW_KEY(w, "id");
	jsonw_str(w, id);
	JSONW_KEY(w, "level");
	jsonw_str(w, level);
	JSONW_KEY(w, "name");
	jsonw_str(w, name);
	jsonw_obj_end(w);
}

/* {"2025":a,"2030":b} of two booleans or two integers at o. */
static inline char *
put_bools(char *o, bool a, bool b)
{
	o = a ? JSONW_LIT(o, "{\"2025\":true,")
	      : JSONW_LIT(o, "{\"2025\":false,");
	return b ? JSONW_LIT(o, "\"2030\":true}")
	         : JSONW_LIT(o, "\"2030\":false}");
}

static inline char *
put_ints(char *o, int64_t a, int64_t b)
{
	o = JSONW_LIT(o, "{\"2025\":");
	o = jsonw_put_int(o, a);
	o = JSONW_LIT(o, ",\"2030\":");
	o = jsonw_put_int(o, b);
	*o++ = '}';
	return o;
}

/* ,"strict":{..},"met":{..},"needed":{..} of an indicator at o. */
static inline char *
put_state(char *o, const struct rules_progress *p)
{
	o = JSONW_LIT(o, ",\"strict\":");
	o = put_bools(o, p->strict[0], p->strict[1]);
	o = JSONW_LIT(o, ",\"met\":");
	o = put_bools(o, p->met[0], p->met[1]);
	o = JSONW_LIT(o, ",\"needed\":");
	return put_ints(o, p->needed[0], p->needed[1]);
}

/* The most one indicator takes: its name (at most 64 bytes written), 9
 * integers of up to 20 bytes, a real of up to 40 and the keys. */
#define IND_MAX 768

/*
 * The indicators of totals c against targets tg (the asking node's).  With
 * with_own (a drill-down child), each also carries own_targets: the same
 * totals against own, the unit's own targets, or null when own is NULL
 * (its release does not send them).  Written in one go: the shape is
 * fixed.
 */
static void
w_indicators(struct jsonw *w, const struct cdht_counters *c,
    const struct rules_targets *tg, int with_own,
    const struct rules_targets *own)
{
	char *o = jsonw_open_raw(w, IND_COUNT * IND_MAX + 2);

	if (o == NULL)
		return;
	*o++ = '{';
	for (int i = 0; i < IND_COUNT; i++) {
		struct rules_progress p;
		const char *name = rules_indicator_names[i];
		size_t nl = strlen(name);
		size_t r;

		rules_indicator(c, tg, i, &p);
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		o = jsonw_put(o, name, nl < 64 ? nl : 64);
		o = JSONW_LIT(o, "\":{\"numerator\":");
		o = jsonw_put_int(o, p.numerator);
		o = JSONW_LIT(o, ",\"denominator\":");
		o = jsonw_put_int(o, p.denominator);
		o = JSONW_LIT(o, ",\"percent\":");
		if (!p.has_percent)
			o = JSONW_LIT(o, "null");
		else if ((r = jsonw_fmt_real(o, p.percent)) > 0)
			o += r;
		else {
			w->failed = 1; /* jansson makes no such real */
			return;
		}
		o = JSONW_LIT(o, ",\"targets\":");
		o = put_ints(o, p.target[0], p.target[1]);
		o = put_state(o, &p);
		if (with_own && own == NULL)
			o = JSONW_LIT(o, ",\"own_targets\":null");
		else if (with_own) {
			rules_indicator(c, own, i, &p);
			o = JSONW_LIT(o, ",\"own_targets\":{\"2025\":");
			o = jsonw_put_int(o, p.target[0]);
			o = JSONW_LIT(o, ",\"2030\":");
			o = jsonw_put_int(o, p.target[1]);
			o = put_state(o, &p);
			*o++ = '}';
		}
		*o++ = '}';
	}
	*o++ = '}';
	jsonw_close_raw(w, o);
}

#define W_KINT(w, key, v)          \
	do {                       \
		JSONW_KEY(w, key); \
		jsonw_int(w, v);   \
	} while (0)

/* key (a literal of JSON text ending in ':') and the integer v at o */
#define PUT_KINT(o, key, v) ((o) = jsonw_put_int(JSONW_LIT((o), key), (v)))

/* The counts of totals c, in one go (a fixed shape of integers). */
static void
w_counts(struct jsonw *w, const struct cdht_counters *c)
{
	const int64_t *v = c->v;
	char *o = jsonw_open_raw(w, 1024 + GROUP_COUNT * 256);

	if (o == NULL)
		return;
	PUT_KINT(o, "{\"assessed\":", v[CDHT_C_assessed]);
	PUT_KINT(o, ",\"recognized\":", v[CDHT_C_recognized]);
	PUT_KINT(o, ",\"eligible\":", v[CDHT_C_eligible]);
	PUT_KINT(o, ",\"outstanding\":", v[CDHT_C_outstanding]);
	o = JSONW_LIT(o, ",\"by_group\":{");
	for (int g = 0; g < GROUP_COUNT; g++) {
		const char *name = rules_group_names[g];
		size_t nl = strlen(name);

		if (g > 0)
			*o++ = ',';
		*o++ = '"';
		o = jsonw_put(o, name, nl < 64 ? nl : 64);
		PUT_KINT(
		    o, "\":{\"assessed\":", v[CDHT_C_farmer_assessed + 2 * g]);
		PUT_KINT(
		    o, ",\"recognized\":", v[CDHT_C_farmer_recognized + 2 * g]);
		PUT_KINT(o, ",\"eligible\":", v[CDHT_C_farmer_eligible + g]);
		*o++ = '}';
	}
	PUT_KINT(o, "},\"by_population\":{\"adult\":{\"assessed\":",
	    v[CDHT_C_adult_assessed]);
	PUT_KINT(o, ",\"recognized\":", v[CDHT_C_adult_recognized]);
	PUT_KINT(o, "},\"staff\":{\"assessed\":", v[CDHT_C_staff_assessed]);
	PUT_KINT(o, ",\"recognized\":", v[CDHT_C_staff_recognized]);
	PUT_KINT(o, "}},\"digital\":{\"skilled\":", v[CDHT_C_digital_skilled]);
	PUT_KINT(o, ",\"proficient\":", v[CDHT_C_digital_proficient]);
	PUT_KINT(o, "},\"units_with_denominators\":", v[CDHT_C_den_set]);
	PUT_KINT(o, ",\"filed\":", v[CDHT_C_filed]);
	PUT_KINT(o, ",\"imported\":", v[CDHT_C_imported]);
	*o++ = '}';
	jsonw_close_raw(w, o);
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct agg_node *)a)->id, ((const struct agg_node *)b)->id);
}

/*
 * 1 when some unit of id's subtree (id included) may be retired: when a
 * winning copy of any programme year counts "retired".  Counters are never
 * negative (wire.c refuses them), so the subtree's totals of a year count
 * 0 exactly when none of its copies does: a unit's 10 years of totals
 * (aggregate_view_retired) answer for its whole subtree
 * what aggregate_retired_of answers with 10 reads per unit.  A store
 * error answers 1 (ask each unit then).
 */
static int
subtree_may_retire(struct store_txn *t, const struct conf *c, const char *id)
{
	int any;

	/* a unit below: its years in one run of the store's keys */
	if (strcmp(id, c->id) != 0 &&
	    (any = aggregate_view_retired(t, id)) >= 0)
		return any;
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX; y++) {
		struct cdht_counters s;

		if (aggregate_totals(t, c, id, y, &s) != STORE_OK ||
		    s.v[CDHT_C_retired] != 0)
			return 1;
	}
	return 0;
}

/* "retired": {"last_year", "successor"} in the open object when id is a
 * retired unit (aggregate_retired_of: at every ancestor, the successor
 * comes with the reports); nothing otherwise.  may: 0 when no copy of
 * id's subtree counts retired (subtree_may_retire), so only this node's
 * retired file can retire it. */
static void
w_retired(struct jsonw *w, struct store_txn *t, const struct conf *c,
    const char *id, int may)
{
	char succ[WIRE_MAX_ID + 1];
	int last;

	if (!may && (c->nretired == 0 || conf_retired_by_id(c, id) == NULL))
		return;
	if (!aggregate_retired_of(t, c, id, &last, succ))
		return;
	JSONW_KEY(w, "retired");
	jsonw_obj_begin(w);
	W_KINT(w, "last_year", last);
	JSONW_KEY(w, "successor");
	jsonw_str_or_null(w, succ[0] ? succ : NULL);
	jsonw_obj_end(w);
}

/* "offline": true in the open object when id is an offline unit of this
 * node (a child in the directory that no node runs: history.c's bulk
 * CSV). */
static void
w_offline(struct jsonw *w, struct store_txn *t, const struct conf *c,
    const struct agg_node *nd)
{
	if (nd->depth == 1 && conf_child_by_id(c, nd->id) < 0 &&
	    history_offline_has(t, nd->id, 0)) {
		JSONW_KEY(w, "offline");
		jsonw_bool(w, 1);
	}
}

/* What coverage needs of a unit's report of the year: state 0 not read
 * yet, 1 read, 2 none (never reported). */
enum { U_ASSESSED, U_DEN, U_IMPORTED, U_FILED, U_FILED_AT, U_REOPENED, U_N };

struct urep {
	int state;
	int64_t v[U_N];
	int64_t updated_at;
	char filed_by[WIRE_MAX_WHO + 1];
};

static void
urep_set(struct urep *u, const struct cdht_counters *c, int64_t updated_at,
    const char *filed_by)
{
	size_t fl = strnlen(filed_by, sizeof(u->filed_by) - 1);

	u->state = 1;
	u->v[U_ASSESSED] = c->v[CDHT_C_assessed];
	u->v[U_DEN] = c->v[CDHT_C_den_set];
	u->v[U_IMPORTED] = c->v[CDHT_C_imported];
	u->v[U_FILED] = c->v[CDHT_C_filed];
	u->v[U_FILED_AT] = c->v[CDHT_C_filed_at];
	u->v[U_REOPENED] = c->v[CDHT_C_reopened];
	u->updated_at = updated_at;
	memcpy(u->filed_by, filed_by, fl);
	u->filed_by[fl] = '\0';
}

/* u: the report of origin in year, read once (reps[i] for nodes[i]: the
 * drill-down reads it, coverage again).  own (NULL: not asked): the
 * unit's own targets, from its own report; *have_own 0 when it carries
 * none. */
static const struct urep *
urep_read(struct store_txn *t, const char *origin, int year, struct urep *u,
    struct rules_targets *own, int *have_own)
{
	struct agg_view_report r;

	if (u->state == 0) {
		if (aggregate_view_report(t, origin, year, &r) == STORE_OK) {
			urep_set(u, &r.c, r.updated_at, r.filed_by);
			if (own != NULL)
				*have_own = rules_targets_of(&r.c, own) == 0;
		} else
			u->state = 2;
	}
	return u->state == 1 ? u : NULL;
}

static const struct urep *
urep_of(struct store_txn *t, const char *origin, int year, struct urep *u)
{
	return urep_read(t, origin, year, u, NULL, NULL);
}

/* A drill-down being written: the sorted directory with its children
 * lists (child_links) and each unit's report, kept for coverage. */
struct drill {
	struct store_txn *t;
	const struct conf *c;
	const struct agg_node *nodes;
	const size_t *first, *next;
	int year;
	struct urep *reps;
};

/* A listed unit's totals of the year (ok: read, else a store error) and
 * its own targets (have_own: its report carries them). */
struct sib {
	struct cdht_counters sum;
	int ok, have_own;
	struct rules_targets own;
};

/*
 * Children down to depth levels: head, the first of them, and its
 * siblings by next.  Siblings are in the directory's order, which is the
 * store's key order: their totals, then their reports, are read in one
 * run each before any of them is written.
 */
static void
w_children(
    struct jsonw *w, const struct drill *d, size_t head, int depth, int may)
{
	const struct agg_node *nodes = d->nodes;
	struct sib *sib;
	size_t k = 0, i;

	for (i = head; i != SIZE_MAX; i = d->next[i])
		k++;
	if ((sib = malloc(k * sizeof(*sib) + 1)) == NULL) {
		w->failed = 1;
		return;
	}
	for (i = head, k = 0; i != SIZE_MAX; i = d->next[i], k++)
		sib[k].ok = aggregate_view_totals(d->t, nodes[i].id, d->year,
		                &sib[k].sum) == STORE_OK;
	for (i = head, k = 0; i != SIZE_MAX; i = d->next[i], k++) {
		sib[k].have_own = 0;
		if (sib[k].ok)
			urep_read(d->t, nodes[i].id, d->year, &d->reps[i],
			    &sib[k].own, &sib[k].have_own);
	}
	jsonw_arr_begin(w);
	for (i = head, k = 0; i != SIZE_MAX; i = d->next[i], k++) {
		int may_i = may;

		if (!sib[k].ok)
			continue;
		/* a unit with children listed answers for its subtree once */
		if (may && depth > 1 && d->first[i] != SIZE_MAX)
			may_i = subtree_may_retire(d->t, d->c, nodes[i].id);
		jsonw_obj_begin(w);
		JSONW_KEY(w, "node");
		w_node(w, nodes[i].id, nodes[i].level, nodes[i].name);
		JSONW_KEY(w, "indicators");
		w_indicators(w, &sib[k].sum, &d->c->targets, 1,
		    sib[k].have_own ? &sib[k].own : NULL);
		JSONW_KEY(w, "counts");
		w_counts(w, &sib[k].sum);
		w_retired(w, d->t, d->c, nodes[i].id, may_i);
		w_offline(w, d->t, d->c, &nodes[i]);
		if (depth > 1) {
			JSONW_KEY(w, "children");
			w_children(w, d, d->first[i], depth - 1, may_i);
		}
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	free(sib);
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

/*
 * Coverage being gathered: each list's elements (an array's values or an
 * object's "key":value pairs, commas included) in a writer of its own,
 * joined in the document's order at the end.
 */
enum {
	COV_MISSING,
	COV_NO_DEN,
	COV_LAST_REPORT,
	COV_DOWN,
	COV_STALE,
	COV_NEVER,
	COV_NAMES,
	COV_FILED,
	COV_FILED_BY,
	COV_NOT_FILED,
	COV_REOPENED,
	COV_LATE,
	COV_IMPORTED,
	COV_LISTS
};

struct cov {
	const struct conf *c;
	int64_t due, today; /* the deadline's day and today */
	int64_t units, reported;
	struct jsonw l[COV_LISTS];
};

static void
cov_id(struct cov *cv, int list, const char *id)
{
	jsonw_str(&cv->l[list], id);
}

/* Add one unit's filing state of year (u: its report, NULL when it never
 * reported) to the coverage lists. */
static void
cover_filing(struct cov *cv, const char *id, const struct urep *u)
{
	int late;

	/* imported results are that year's official figures, entered from
	 * the report the unit filed then: neither to file nor late */
	if (u != NULL && u->v[U_IMPORTED] != 0 && u->v[U_FILED] == 0)
		return;
	if (u != NULL && u->v[U_FILED] != 0) {
		jsonw_key_str(&cv->l[COV_FILED], id);
		w_iso_or_null(&cv->l[COV_FILED], u->v[U_FILED_AT]);
		jsonw_key_str(&cv->l[COV_FILED_BY], id);
		jsonw_str(&cv->l[COV_FILED_BY], u->filed_by);
		late = local_day(cv->c, u->v[U_FILED_AT]) > cv->due;
	} else {
		cov_id(cv, COV_NOT_FILED, id);
		late = cv->today > cv->due;
	}
	if (u != NULL && u->v[U_REOPENED] > 0) {
		jsonw_key_str(&cv->l[COV_REOPENED], id);
		jsonw_int(&cv->l[COV_REOPENED], u->v[U_REOPENED]);
	}
	if (late)
		cov_id(cv, COV_LATE, id);
}

/* Add one unit's report of year (u; NULL: none) to the coverage lists. */
static void
cover(struct cov *cv, const char *id, const char *name, const struct urep *u)
{
	cover_filing(cv, id, u);
	int reported = u != NULL && (u->v[U_ASSESSED] > 0 || u->v[U_DEN] > 0);

	cv->units++;
	if (reported)
		cv->reported++;
	else
		cov_id(cv, COV_MISSING, id);
	if (u == NULL || u->v[U_DEN] == 0)
		cov_id(cv, COV_NO_DEN, id);
	if (u != NULL && u->v[U_IMPORTED] != 0)
		cov_id(cv, COV_IMPORTED, id);
	jsonw_key_str(&cv->l[COV_LAST_REPORT], id);
	if (u != NULL)
		w_iso_or_null(&cv->l[COV_LAST_REPORT], u->updated_at);
	else
		jsonw_null(&cv->l[COV_LAST_REPORT]);
	jsonw_key_str(&cv->l[COV_NAMES], id);
	jsonw_str(&cv->l[COV_NAMES], name);
}

/* bsearch's comparison of an id (the key) with a node. */
static int
id_node_cmp(const void *id, const void *node)
{
	return strcmp(id, ((const struct agg_node *)node)->id);
}

static const struct agg_node *
dir_find(const struct agg_node *nodes, size_t n, const char *id)
{
	if (n == 0) /* nodes is NULL when n == 0 */
		return NULL;
	return bsearch(id, nodes, n, sizeof(*nodes), id_node_cmp);
}

/* Sort the directory by id; aggregate_nodes gives it in key order, which
 * is that order already (checked: no sort then). */
static void
dir_sort(struct agg_node *nodes, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(nodes[i - 1].id, nodes[i].id) > 0) {
			qsort(nodes, n, sizeof(*nodes), node_cmp);
			return;
		}
}

/* The configured children's ids, sorted: conf_child_by_id for every unit
 * of a large directory (the children file is not sorted), asked in the
 * directory's order: at is how far kid_is has gone. */
struct kid_index {
	const char **id;
	size_t n, at;
};

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
kid_index_init(struct kid_index *k, const struct conf *c)
{
	k->n = k->at = 0;
	if (c->nchildren == 0 ||
	    (k->id = malloc(c->nchildren * sizeof(*k->id))) == NULL) {
		k->id = NULL;
		return;
	}
	for (size_t i = 0; i < c->nchildren; i++)
		k->id[i] = c->children[i].id;
	k->n = c->nchildren;
	qsort(k->id, k->n, sizeof(*k->id), str_cmp);
}

/* 1 when id is a configured child (k failed to build: conf's answer);
 * ids asked in increasing order (the sorted directory's), so the sorted
 * children are walked once. */
static int
kid_is(struct kid_index *k, const struct conf *c, const char *id)
{
	int cmp = 1;

	if (k->id == NULL)
		return conf_child_by_id(c, id) >= 0;
	while (k->at < k->n && (cmp = strcmp(k->id[k->at], id)) < 0)
		k->at++;
	return k->at < k->n && cmp == 0;
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

/* One list of cv as "key":[...] or "key":{...}. */
static void
w_cov_list(
    struct jsonw *w, struct cov *cv, const char *key, int list, int object)
{
	struct jsonw *l = &cv->l[list];

	jsonw_key(w, key);
	if (jsonw_failed(l)) {
		w->failed = 1;
		return;
	}
	jsonw_value_raw(w, object ? "{" : "[", 1);
	jsonw_raw(w, l->buf, l->len);
	jsonw_raw(w, object ? "}" : "]", 1);
}

/*
 * Coverage of root's subtree (root: this node or a unit below it) for
 * year: every unit's report, which direct children's links are down, who
 * is stale (last report of any year older than stale_after) and which
 * configured children were never heard from.  Then the deadline of year's
 * filings: its date, days left from today (in the node's time zone;
 * negative once passed) and the late units: those of coverage not filed
 * by it (coverage's "late").  Writes "coverage":{...},"deadline":{...}.
 */
static void
w_coverage_deadline(struct jsonw *w, struct store_txn *t, const struct conf *c,
    const struct agg_node *nodes, size_t n, const struct agg_node *root,
    int year, int64_t now, views_link_fn link, void *link_arg,
    struct urep *reps)
{
	struct cov cv = {c,
	    days_from_civil(year, c->deadline_month, c->deadline_day),
	    local_day(c, now), 0, 0, {{0}}};
	struct urep one = {0};
	struct kid_index kids;
	char due[16];

	for (int l = 0; l < COV_LISTS; l++)
		jsonw_init(&cv.l[l],
		    l == COV_LAST_REPORT || l == COV_NAMES ? 64 * (n + 1) : 0);
	snprintf(due, sizeof(due), "%04d-%02d-%02d", year, c->deadline_month,
	    c->deadline_day);
	kid_index_init(&kids, c);
	if (root == NULL) {
		struct local_report lr;

		records_local(t, year, &lr);
		urep_set(&one, &lr.c, lr.updated_at, lr.filed_by);
		cover(&cv, c->id, c->name, &one);
	} else
		cover(&cv, root->id, root->name,
		    urep_of(t, root->id, year, &reps[root - nodes]));
	for (size_t i = 0; i < n; i++) {
		int connected = 0;
		int64_t seen = 0;
		const struct urep *u = NULL;

		if (root != NULL && !dir_below(nodes, n, nodes[i].id, root->id))
			continue;
		if (&nodes[i] != root) {
			u = urep_of(t, nodes[i].id, year, &reps[i]);
			cover(&cv, nodes[i].id, nodes[i].name, u);
		}
		/* a unit known by imported results runs no node: not stale */
		if (nodes[i].last_report < now - c->stale_after_s &&
		    !(u != NULL && u->v[U_IMPORTED] != 0))
			cov_id(&cv, COV_STALE, nodes[i].id);
		if (link != NULL && kid_is(&kids, c, nodes[i].id)) {
			link(link_arg, nodes[i].id, &connected, &seen);
			if (!connected)
				cov_id(&cv, COV_DOWN, nodes[i].id);
		}
	}
	/* configured children never heard from: missing, and named by the
	 * children file */
	for (size_t i = 0; root == NULL && i < c->nchildren; i++) {
		int connected = 0;
		int64_t seen = 0;

		if (dir_find(nodes, n, c->children[i].id) != NULL)
			continue;
		cover(&cv, c->children[i].id, c->children[i].name, NULL);
		cov_id(&cv, COV_NEVER, c->children[i].id);
		if (link != NULL)
			link(link_arg, c->children[i].id, &connected, &seen);
		if (!connected)
			cov_id(&cv, COV_DOWN, c->children[i].id);
	}
	free(kids.id);
	JSONW_KEY(w, "coverage");
	jsonw_obj_begin(w);
	W_KINT(w, "units", cv.units);
	W_KINT(w, "reported", cv.reported);
	w_cov_list(w, &cv, "missing", COV_MISSING, 0);
	w_cov_list(w, &cv, "no_denominators", COV_NO_DEN, 0);
	w_cov_list(w, &cv, "last_report", COV_LAST_REPORT, 1);
	w_cov_list(w, &cv, "down", COV_DOWN, 0);
	w_cov_list(w, &cv, "stale", COV_STALE, 0);
	w_cov_list(w, &cv, "never_reported", COV_NEVER, 0);
	w_cov_list(w, &cv, "names", COV_NAMES, 1);
	W_KINT(w, "stale_after", c->stale_after_s);
	w_cov_list(w, &cv, "filed", COV_FILED, 1);
	w_cov_list(w, &cv, "filed_by", COV_FILED_BY, 1);
	w_cov_list(w, &cv, "not_filed", COV_NOT_FILED, 0);
	w_cov_list(w, &cv, "reopened", COV_REOPENED, 1);
	w_cov_list(w, &cv, "late", COV_LATE, 0);
	JSONW_KEY(w, "deadline");
	jsonw_str(w, due);
	w_cov_list(w, &cv, "imported", COV_IMPORTED, 0);
	jsonw_obj_end(w);
	JSONW_KEY(w, "deadline");
	jsonw_obj_begin(w);
	JSONW_KEY(w, "date");
	jsonw_str(w, due);
	W_KINT(w, "days_left", cv.due - cv.today);
	JSONW_KEY(w, "passed");
	jsonw_bool(w, cv.today > cv.due);
	w_cov_list(w, &cv, "late", COV_LATE, 0);
	jsonw_obj_end(w);
	for (int l = 0; l < COV_LISTS; l++)
		jsonw_free(&cv.l[l]);
}

/* The chain of units from this node down to (not including) node. */
static void
w_ancestors(struct jsonw *w, const struct conf *c, const struct agg_node *nodes,
    size_t n, const struct agg_node *node)
{
	const struct agg_node *chain[WIRE_MAX_PATH + 1];
	const char *id = node->parent;
	const struct agg_node *a;
	int k = 0, self = 0;

	for (int hops = 0; hops <= WIRE_MAX_PATH; hops++) {
		if (strcmp(id, c->id) == 0) {
			self = 1;
			break;
		}
		if ((a = dir_find(nodes, n, id)) == NULL)
			break;
		chain[k++] = a;
		id = a->parent;
	}
	jsonw_arr_begin(w);
	if (self)
		w_node(w, c->id, rules_level_names[c->level], c->name);
	while (k-- > 0)
		w_node(w, chain[k]->id, chain[k]->level, chain[k]->name);
	jsonw_arr_end(w);
}

/*
 * The children lists of the sorted directory, in its order: first[i] the
 * index of node i's first child (a node whose parent is nodes[i].id),
 * first[n] the first of self's (parent self), next[i] node i's next
 * sibling; SIZE_MAX: none.  NULL when out of memory; first and next are
 * one allocation (free first).
 */
static size_t *
child_links(
    const struct agg_node *nodes, size_t n, const char *self, size_t **next)
{
	size_t *first = malloc(sizeof(size_t) * (3 * n + 2)), *last;

	if (first == NULL)
		return NULL;
	*next = first + n + 1;
	last = *next + n;
	for (size_t i = 0; i <= n; i++)
		first[i] = last[i] = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		(*next)[i] = SIZE_MAX;
	for (size_t i = 0, lp = SIZE_MAX; i < n; i++) {
		const struct agg_node *p;
		size_t pi;

		/* siblings often follow each other: their parent is lp's */
		if (lp != SIZE_MAX &&
		    strcmp(nodes[i].parent, nodes[lp].id) == 0)
			pi = lp;
		else if (strcmp(nodes[i].parent, self) == 0)
			pi = n;
		else if ((p = dir_find(nodes, n, nodes[i].parent)) != NULL)
			pi = lp = (size_t)(p - nodes);
		else
			continue; /* a parent outside the directory */
		if (last[pi] == SIZE_MAX)
			first[pi] = i;
		else
			(*next)[last[pi]] = i;
		last[pi] = i;
	}
	return first;
}

int
views_progress_write(struct jsonw *w, struct store_txn *t, const struct conf *c,
    int year, int depth, const char *node, int64_t now, views_link_fn link,
    void *link_arg)
{
	struct cdht_counters sum;
	struct agg_node *nodes = NULL;
	const struct agg_node *root = NULL;
	size_t n = 0, *first = NULL, *next = NULL;
	struct urep *reps = NULL;
	char asof[32], off[16];
	int m = c->utc_offset_min < 0 ? -c->utc_offset_min : c->utc_offset_min;

	if (node != NULL && strcmp(node, c->id) == 0)
		node = NULL;
	if ((node != NULL || depth >= 0) &&
	    aggregate_nodes(t, &nodes, &n) != STORE_OK)
		return STORE_EIO;
	dir_sort(nodes, n);
	if (node != NULL && (root = dir_find(nodes, n, node)) == NULL) {
		free(nodes);
		return STORE_NOTFOUND;
	}
	if (aggregate_totals(t, c, root ? root->id : c->id, year, &sum) !=
	    STORE_OK) {
		free(nodes);
		return STORE_EIO;
	}
	views_iso_time(now, asof, sizeof(asof));
	snprintf(off, sizeof(off), "%c%02d:%02d",
	    c->utc_offset_min < 0 ? '-' : '+', m / 60, m % 60);
	jsonw_obj_begin(w);
	JSONW_KEY(w, "node");
	if (root != NULL)
		w_node(w, root->id, root->level, root->name);
	else
		w_node(w, c->id, rules_level_names[c->level], c->name);
	W_KINT(w, "year", year);
	JSONW_KEY(w, "as_of");
	jsonw_str(w, asof);
	JSONW_KEY(w, "indicators");
	w_indicators(w, &sum, &c->targets, 0, NULL);
	JSONW_KEY(w, "counts");
	w_counts(w, &sum);
	JSONW_KEY(w, "timezone");
	jsonw_obj_begin(w);
	JSONW_KEY(w, "name");
	jsonw_str(w, c->timezone);
	JSONW_KEY(w, "utc_offset");
	jsonw_str(w, off);
	W_KINT(w, "utc_offset_minutes", c->utc_offset_min);
	jsonw_obj_end(w);
	JSONW_KEY(w, "recognition");
	jsonw_str(
	    w, c->recognition == RECOGNITION_DECISION ? "decision" : "score");
	if (root != NULL) {
		JSONW_KEY(w, "ancestors");
		w_ancestors(w, c, nodes, n, root);
	}
	/* each unit's report of year, read once for drill-down and coverage */
	if (depth >= 0 && (reps = calloc(n + 1, sizeof(*reps))) == NULL) {
		free(nodes);
		return STORE_EIO;
	}
	if (depth > 0) {
		struct drill d = {t, c, nodes, NULL, NULL, year, reps};

		if ((first = child_links(nodes, n, c->id, &next)) == NULL) {
			free(reps);
			free(nodes);
			return STORE_EIO;
		}
		d.first = first;
		d.next = next;
		/* about 2,600 bytes per unit listed: one mapping from the
		 * start rather than growing it (this node's drill-down),
		 * unless the text leaves in pieces */
		if (root == NULL && !jsonw_streamed(w)) {
			size_t listed = 0;

			for (size_t i = 0; i < n; i++)
				listed += nodes[i].depth <= depth;
			jsonw_reserve(w, 2700 * listed);
		}
		JSONW_KEY(w, "children");
		w_children(w, &d, first[root ? (size_t)(root - nodes) : n],
		    depth, subtree_may_retire(t, c, root ? root->id : c->id));
		free(first);
	}
	if (depth >= 0)
		w_coverage_deadline(
		    w, t, c, nodes, n, root, year, now, link, link_arg, reps);
	jsonw_obj_end(w);
	free(reps);
	free(nodes);
	return jsonw_failed(w) ? STORE_EIO : STORE_OK;
}

json_t *
views_progress(struct store_txn *t, const struct conf *c, int year, int depth,
    const char *node, int64_t now, views_link_fn link, void *link_arg, int *rc)
{
	struct jsonw w;
	json_t *o = NULL;
	char *s;
	size_t len;

	jsonw_init(&w, 0);
	*rc = views_progress_write(
	    &w, t, c, year, depth, node, now, link, link_arg);
	if (*rc != STORE_OK) {
		jsonw_free(&w);
		jsonw_spare_release();
		return NULL;
	}
	if ((s = jsonw_take(&w, &len)) != NULL)
		o = json_loadb(s, len, 0, NULL);
	jsonw_text_free(s);
	jsonw_spare_release(); /* no reply to come: keep no spare */
	if (o == NULL)
		*rc = STORE_EIO;
	return o;
}

int
views_nodes_write(struct jsonw *w, struct store_txn *t, const struct conf *c,
    views_link_fn link, void *link_arg, json_t *uplink)
{
	struct agg_node *nodes = NULL;
	size_t n = 0;
	int may = subtree_may_retire(t, c, c->id);

	if (aggregate_nodes(t, &nodes, &n) != STORE_OK)
		return STORE_EIO;
	dir_sort(nodes, n);
	jsonw_obj_begin(w);
	JSONW_KEY(w, "node");
	w_node(w, c->id, rules_level_names[c->level], c->name);
	JSONW_KEY(w, "nodes");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		int connected = 0;
		int64_t seen = 0;

		jsonw_obj_begin(w);
		JSONW_KEY(w, "id");
		jsonw_str(w, nodes[i].id);
		JSONW_KEY(w, "level");
		jsonw_str(w, nodes[i].level);
		JSONW_KEY(w, "name");
		jsonw_str(w, nodes[i].name);
		JSONW_KEY(w, "parent");
		jsonw_str(w, nodes[i].parent);
		W_KINT(w, "depth", nodes[i].depth);
		JSONW_KEY(w, "version");
		w_version(w, nodes[i].version);
		JSONW_KEY(w, "last_report");
		w_iso_or_null(w, nodes[i].last_report);
		/* counters: how many its release reports (fewer than this
		 * node knows: the missing ones count as zero for it) */
		W_KINT(w, "counters", nodes[i].ncounters);
		JSONW_KEY(w, "link");
		if (conf_child_by_id(c, nodes[i].id) >= 0 && link != NULL) {
			link(link_arg, nodes[i].id, &connected, &seen);
			jsonw_str(w, connected ? "up" : "down");
		} else
			jsonw_null(w);
		w_retired(w, t, c, nodes[i].id, may);
		w_offline(w, t, c, &nodes[i]);
		jsonw_obj_end(w);
	}
	for (size_t i = 0; i < c->nchildren; i++) {
		int connected = 0;
		int64_t seen = 0;

		if (dir_find(nodes, n, c->children[i].id) != NULL)
			continue;
		if (link != NULL)
			link(link_arg, c->children[i].id, &connected, &seen);
		jsonw_obj_begin(w);
		JSONW_KEY(w, "id");
		jsonw_str(w, c->children[i].id);
		JSONW_KEY(w, "level");
		jsonw_null(w);
		JSONW_KEY(w, "name");
		jsonw_str(w, c->children[i].name);
		JSONW_KEY(w, "parent");
		jsonw_str(w, c->id);
		W_KINT(w, "depth", 1);
		W_KINT(w, "version", 0);
		JSONW_KEY(w, "last_report");
		jsonw_null(w);
		JSONW_KEY(w, "link");
		jsonw_str(w, connected ? "up" : "down");
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	free(nodes);
	if (uplink != NULL) {
		char *u = json_dumps(uplink,
		    JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY);

		if (u == NULL) {
			w->failed = 1;
			return STORE_EIO;
		}
		JSONW_KEY(w, "uplink");
		jsonw_value_raw(w, u, strlen(u));
		free(u);
	}
	jsonw_obj_end(w);
	return jsonw_failed(w) ? STORE_EIO : STORE_OK;
}

json_t *
views_nodes(struct store_txn *t, const struct conf *c, views_link_fn link,
    void *link_arg)
{
	struct jsonw w;
	json_t *o = NULL;
	char *s;
	size_t len;

	jsonw_init(&w, 0);
	if (views_nodes_write(&w, t, c, link, link_arg, NULL) != STORE_OK) {
		jsonw_free(&w);
		jsonw_spare_release();
		return NULL;
	}
	if ((s = jsonw_take(&w, &len)) != NULL)
		o = json_loadb(s, len, 0, NULL);
	jsonw_text_free(s);
	jsonw_spare_release(); /* no reply to come: keep no spare */
	return o;
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

json_t *
views_result(const struct assessment *a)
{
	return json_pack("{s:i, s:s%, s:i, s:b, s:b, s:b, s:o}", "year",
	    a->year, "person_id", a->person_id, (size_t)a->pid_len, "total",
	    a->total, "eligible", a->eligible, "recognized", a->recognized,
	    "outstanding", a->outstanding, "decision",
	    a->decision[0] ? json_string(a->decision) : json_null());
}

char *
views_result_text(const struct assessment *a, size_t *len)
{
	struct jsonw w;

	jsonw_init(&w, 0);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "year");
	jsonw_int(&w, a->year);
	jsonw_key(&w, "person_id");
	jsonw_strn(&w, a->person_id, a->pid_len);
	jsonw_key(&w, "total");
	jsonw_int(&w, a->total);
	jsonw_key(&w, "eligible");
	jsonw_bool(&w, a->eligible);
	jsonw_key(&w, "recognized");
	jsonw_bool(&w, a->recognized);
	jsonw_key(&w, "outstanding");
	jsonw_bool(&w, a->outstanding);
	jsonw_key(&w, "decision");
	jsonw_str_or_null(&w, a->decision[0] ? a->decision : NULL);
	jsonw_obj_end(&w);
	return jsonw_take(&w, len);
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
