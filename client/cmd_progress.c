/*
 * cmd_progress.c: "cdht progress": GET /v1/progress, shown as pretty JSON,
 * as CSV (one row per node and indicator, drill-down children included), or
 * as human tables in Vietnamese (default) or English: the indicators against
 * the 2025 and 2030 targets, the counts, one row per child unit, and which
 * units have not reported.
 *
 * The tables fit the terminal: COLUMNS, else the terminal's width, else 80
 * columns; the indicator labels and the unit names are cut (with an
 * ellipsis) when they would not.  Units whose link is down, whose last
 * report is stale or that never reported (coverage.down, .stale,
 * .never_reported, when the node sends them) are marked in the unit table
 * and named below it.
 *
 * The reply is read tolerantly: a missing member prints as "-" (or an empty
 * CSV field), unknown indicators and groups are shown by their key, so an
 * older client still shows a newer node's answer.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "cdht.h"
#include "http.h"
#include "table.h"

enum { PROGRESS_VI, PROGRESS_EN, PROGRESS_NLANG };

static const char *const progress_years[] = {"2025", "2030"};
#define PROGRESS_NYEARS 2

/* Indicators in display order; brief is the child table's column or NULL. */
static const struct {
	const char *key;
	const char *label[PROGRESS_NLANG];
	const char *brief[PROGRESS_NLANG];
} progress_ind[] = {
    {"adults", {"Người lớn đạt CDHT", "Adults recognised"},
        {"Người lớn", "Adults"}},
    {"staff", {"CB,CC,VC,NLĐ đạt CDHT", "Staff recognised"},
        {"CB,CC,VC,NLĐ", "Staff"}},
    {"digital", {"CDHT có kỹ năng số", "Recognised, digital skills"},
        {"Kỹ năng số", "Digital"}},
    {"proficient", {"Thành thạo kỹ năng số", "Digitally proficient"},
        {NULL, NULL}},
    {"trained", {"Hội viên được tập huấn", "Members trained"}, {NULL, NULL}},
    {"families", {"Gia đình học tập", "Learning families"},
        {"Gia đình", "Families"}},
    {"clans", {"Dòng họ học tập", "Learning clans"}, {NULL, NULL}},
    {"communities", {"Cộng đồng học tập", "Learning communities"},
        {NULL, NULL}},
    {"units", {"Đơn vị học tập", "Learning units"}, {"Đơn vị", "Units"}},
};
#define PROGRESS_NIND (sizeof(progress_ind) / sizeof(progress_ind[0]))

static const struct {
	const char *key;
	const char *label[PROGRESS_NLANG];
} progress_groups[] = {
    {"farmer", {"Nông dân", "Farmers"}},
    {"worker", {"Công nhân", "Workers"}},
    {"official", {"Công chức, viên chức", "Officials"}},
    {"business", {"Doanh nhân", "Business people"}},
    {"manager", {"Cán bộ quản lý", "Managers"}},
};
#define PROGRESS_NGROUPS (sizeof(progress_groups) / sizeof(progress_groups[0]))

static const struct {
	const char *key;
	const char *label[PROGRESS_NLANG];
} progress_levels[] = {
    {"commune", {"cấp xã", "commune"}},
    {"district", {"cấp huyện", "district"}},
    {"province", {"cấp tỉnh", "province"}},
    {"national", {"trung ương", "national"}},
};

/* The words of the tables, per language. */
static const struct progress_text {
	const char *year, *as_of;
	const char *indicator, *numerator, *denominator, *percent, *target;
	const char *met, *short_;
	const char *assessed, *recognized, *outstanding, *group;
	const char *children, *id, *name;
	const char *reported, *missing, *no_den;
	const char *status, *down, *stale, *never;
	const char *mark_down, *mark_stale, *mark_never;
} progress_text[PROGRESS_NLANG] = {
    {
        .year = "năm",
        .as_of = "số liệu lúc",
        .indicator = "Chỉ tiêu",
        .numerator = "Số đạt",
        .denominator = "Tổng số",
        .percent = "Tỷ lệ",
        .target = "Mục tiêu",
        .met = "đạt",
        .short_ = "thiếu",
        .assessed = "Đã đánh giá",
        .recognized = "Đạt CDHT",
        .outstanding = "Tiêu biểu xuất sắc",
        .group = "Nhóm",
        .children = "Đơn vị trực thuộc",
        .id = "Mã",
        .name = "Tên",
        .reported = "Đã báo cáo %lld/%lld đơn vị",
        .missing = "Chưa báo cáo",
        .no_den = "Chưa nhập số liệu mẫu số",
        .status = "Ghi chú",
        .down = "Mất kết nối",
        .stale = "Lâu chưa cập nhật",
        .never = "Chưa từng báo cáo",
        .mark_down = "mất KN",
        .mark_stale = "cũ",
        .mark_never = "chưa BC",
    },
    {
        .year = "year",
        .as_of = "as of",
        .indicator = "Indicator",
        .numerator = "Count",
        .denominator = "Of",
        .percent = "Percent",
        .target = "Target",
        .met = "met",
        .short_ = "short",
        .assessed = "Assessed",
        .recognized = "Recognised",
        .outstanding = "Outstanding",
        .group = "Group",
        .children = "Units below",
        .id = "ID",
        .name = "Name",
        .reported = "Reported %lld/%lld units",
        .missing = "Not reported",
        .no_den = "No denominators",
        .status = "Note",
        .down = "Link down",
        .stale = "Stale",
        .never = "Never reported",
        .mark_down = "down",
        .mark_stale = "stale",
        .mark_never = "never",
    },
};

/* The node described by a progress object (its "node" member). */
static const json_t *
progress_node(const json_t *o)
{
	return json_object_get(o, "node");
}

static const char *
progress_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* The width to fit: COLUMNS, else the terminal's, else 80. */
static size_t
progress_columns(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	long long v;

	if (env != NULL && cli_parse_int(env, 20, 100000, &v) == 0)
		return (size_t)v;
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* 1 if id is in the array coverage[key] of the answer res. */
static int
progress_listed(const json_t *res, const char *key, const char *id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(
	    json_object_get(json_object_get(res, "coverage"), key), i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return 1;
	}
	return 0;
}

/*
 * The mark of unit id in the unit table: never reported, down or stale,
 * or NULL.  A node without coverage.never_reported (older) still shows a
 * unit it has no report time for as never reported.
 */
static const char *
progress_mark(const json_t *res, const struct progress_text *tx, const char *id)
{
	const json_t *cov = json_object_get(res, "coverage");
	const json_t *last = json_object_get(cov, "last_report");

	/* never heard from says more than down (it is both) */
	if (progress_listed(res, "never_reported", id))
		return tx->mark_never;
	if (progress_listed(res, "down", id))
		return tx->mark_down;
	if (json_object_get(cov, "never_reported") == NULL &&
	    json_is_object(last) && json_is_null(json_object_get(last, id)))
		return tx->mark_never;
	if (progress_listed(res, "stale", id))
		return tx->mark_stale;
	return NULL;
}

/*
 * A JSON number as text into buf: integers as such, reals with 2 decimals
 * (always, with pct), or dflt when v is not a number.
 */
static const char *
progress_num(const json_t *v, int pct, const char *dflt, char *buf, size_t sz)
{
	double d;

	if (json_is_integer(v) && !pct) {
		snprintf(
		    buf, sz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_number(v)) {
		d = json_number_value(v);
		if (!pct && d == floor(d) && fabs(d) < 1e15)
			snprintf(buf, sz, "%.0f", d);
		else
			snprintf(buf, sz, "%.2f", d);
	} else {
		return dflt;
	}
	return buf;
}

/* Call fn for each child of a progress object (its "children" array). */
static void
progress_children(const json_t *o, int depth,
    void (*fn)(const json_t *child, int depth, void *arg), void *arg)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(o, "children"), i, c)
	{
		if (json_is_object(c))
			fn(c, depth, arg);
	}
}

/* CSV */

/* Write s as one CSV field, quoted when it needs to be. */
static void
progress_csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void
progress_csv_row(
    const char *id, const char *name, const char *key, const json_t *ind)
{
	const json_t *v;
	char buf[64];

	progress_csv_field(id);
	putchar(',');
	progress_csv_field(name);
	putchar(',');
	progress_csv_field(key);
	printf(",%s", progress_num(json_object_get(ind, "numerator"), 0, "",
	                  buf, sizeof(buf)));
	printf(",%s", progress_num(json_object_get(ind, "denominator"), 0, "",
	                  buf, sizeof(buf)));
	printf(",%s", progress_num(json_object_get(ind, "percent"), 1, "", buf,
	                  sizeof(buf)));
	for (int y = 0; y < PROGRESS_NYEARS; y++) {
		const char *yr = progress_years[y];

		printf(",%s",
		    progress_num(
		        json_object_get(json_object_get(ind, "targets"), yr), 0,
		        "", buf, sizeof(buf)));
		v = json_object_get(json_object_get(ind, "met"), yr);
		printf(",%s", json_is_boolean(v)
		                  ? json_is_true(v) ? "true" : "false"
		                  : "");
		printf(",%s",
		    progress_num(
		        json_object_get(json_object_get(ind, "needed"), yr), 0,
		        "", buf, sizeof(buf)));
	}
	putchar('\n');
}

/* All indicator rows of one progress object, then of its children. */
static void
progress_csv_node(const json_t *o, int depth, void *arg)
{
	const json_t *node = progress_node(o), *inds, *ind;
	const char *id = progress_str(node, "id", "");
	const char *name = progress_str(node, "name", "");
	const char *key;

	inds = json_object_get(o, "indicators");
	for (size_t i = 0; i < PROGRESS_NIND; i++)
		if ((ind = json_object_get(inds, progress_ind[i].key)) != NULL)
			progress_csv_row(id, name, progress_ind[i].key, ind);
	json_object_foreach((json_t *)inds, key, ind)
	{
		size_t i;

		for (i = 0; i < PROGRESS_NIND; i++)
			if (strcmp(key, progress_ind[i].key) == 0)
				break;
		if (i == PROGRESS_NIND)
			progress_csv_row(id, name, key, ind);
	}
	progress_children(o, depth + 1, progress_csv_node, arg);
}

static void
progress_csv(const json_t *res)
{
	printf("node_id,node_name,indicator,numerator,denominator,percent,"
	       "target_2025,met_2025,needed_2025,target_2030,met_2030,"
	       "needed_2030\n");
	progress_csv_node(res, 0, NULL);
}

/* Human tables */

static void
progress_ind_row(struct table *t, const struct progress_text *tx,
    const char *label, const json_t *ind)
{
	const json_t *target, *met, *needed;
	char buf[64], tbuf[64];

	table_row(t);
	table_cell(t, "%s", label);
	table_cell(t, "%s",
	    progress_num(
	        json_object_get(ind, "numerator"), 0, "-", buf, sizeof(buf)));
	table_cell(t, "%s",
	    progress_num(
	        json_object_get(ind, "denominator"), 0, "-", buf, sizeof(buf)));
	if (json_is_number(json_object_get(ind, "percent")))
		table_cell(t, "%s%%",
		    progress_num(json_object_get(ind, "percent"), 1, "-", buf,
		        sizeof(buf)));
	else
		table_cell(t, "-");
	for (int y = 0; y < PROGRESS_NYEARS; y++) {
		const char *yr = progress_years[y];

		target = json_object_get(json_object_get(ind, "targets"), yr);
		met = json_object_get(json_object_get(ind, "met"), yr);
		needed = json_object_get(json_object_get(ind, "needed"), yr);
		progress_num(target, 0, "-", tbuf, sizeof(tbuf));
		if (!json_is_number(target))
			table_cell(t, "-");
		else if (json_is_true(met))
			table_cell(t, "%3s%% %s", tbuf, tx->met);
		else if (json_is_number(needed) &&
		         json_number_value(needed) > 0)
			table_cell(t, "%3s%% %s %s", tbuf, tx->short_,
			    progress_num(needed, 0, "-", buf, sizeof(buf)));
		else /* no denominator yet: nothing to meet */
			table_cell(t, "%3s%% -", tbuf);
	}
}

static void
progress_print_indicators(
    const json_t *res, const struct progress_text *tx, int lang)
{
	const json_t *inds = json_object_get(res, "indicators"), *ind;
	struct table *t;
	const char *key;

	if (!json_is_object(inds) || (t = table_new(6)) == NULL)
		return;
	for (int c = 1; c <= 3; c++)
		table_right(t, c);
	table_row(t);
	table_cell(t, "%s", tx->indicator);
	table_cell(t, "%s", tx->numerator);
	table_cell(t, "%s", tx->denominator);
	table_cell(t, "%s", tx->percent);
	table_cell(t, "%s %s", tx->target, progress_years[0]);
	table_cell(t, "%s %s", tx->target, progress_years[1]);
	for (size_t i = 0; i < PROGRESS_NIND; i++)
		if ((ind = json_object_get(inds, progress_ind[i].key)) != NULL)
			progress_ind_row(
			    t, tx, progress_ind[i].label[lang], ind);
	json_object_foreach((json_t *)inds, key, ind)
	{
		size_t i;

		for (i = 0; i < PROGRESS_NIND; i++)
			if (strcmp(key, progress_ind[i].key) == 0)
				break;
		if (i == PROGRESS_NIND)
			progress_ind_row(t, tx, key, ind);
	}
	table_fit(t, 0, progress_columns(), 12);
	table_print(t, stdout, 0, 1);
	table_free(&t);
}

static void
progress_print_counts(
    const json_t *res, const struct progress_text *tx, int lang)
{
	const json_t *counts = json_object_get(res, "counts"), *groups, *g;
	struct table *t;
	const char *key;
	char buf[64];
	size_t i;

	if (!json_is_object(counts) || (t = table_new(2)) == NULL)
		return;
	table_right(t, 1);
	table_row(t);
	table_cell(t, "%s", tx->assessed);
	table_cell(t, "%s",
	    progress_num(
	        json_object_get(counts, "assessed"), 0, "-", buf, sizeof(buf)));
	table_row(t);
	table_cell(t, "%s", tx->recognized);
	table_cell(t, "%s",
	    progress_num(json_object_get(counts, "recognized"), 0, "-", buf,
	        sizeof(buf)));
	table_row(t);
	table_cell(t, "%s", tx->outstanding);
	table_cell(t, "%s",
	    progress_num(json_object_get(counts, "outstanding"), 0, "-", buf,
	        sizeof(buf)));
	putchar('\n');
	table_print(t, stdout, 0, 0);
	table_free(&t);

	groups = json_object_get(counts, "by_group");
	if (!json_is_object(groups) || json_object_size(groups) == 0 ||
	    (t = table_new(3)) == NULL)
		return;
	table_right(t, 1);
	table_right(t, 2);
	table_row(t);
	table_cell(t, "%s", tx->group);
	table_cell(t, "%s", tx->assessed);
	table_cell(t, "%s", tx->recognized);
	for (i = 0; i < PROGRESS_NGROUPS; i++) {
		if ((g = json_object_get(groups, progress_groups[i].key)) ==
		    NULL)
			continue;
		table_row(t);
		table_cell(t, "%s", progress_groups[i].label[lang]);
		table_cell(t, "%s",
		    progress_num(json_object_get(g, "assessed"), 0, "-", buf,
		        sizeof(buf)));
		table_cell(t, "%s",
		    progress_num(json_object_get(g, "recognized"), 0, "-", buf,
		        sizeof(buf)));
	}
	json_object_foreach((json_t *)groups, key, g)
	{
		for (i = 0; i < PROGRESS_NGROUPS; i++)
			if (strcmp(key, progress_groups[i].key) == 0)
				break;
		if (i < PROGRESS_NGROUPS)
			continue;
		table_row(t);
		table_cell(t, "%s", key);
		table_cell(t, "%s",
		    progress_num(json_object_get(g, "assessed"), 0, "-", buf,
		        sizeof(buf)));
		table_cell(t, "%s",
		    progress_num(json_object_get(g, "recognized"), 0, "-", buf,
		        sizeof(buf)));
	}
	putchar('\n');
	table_print(t, stdout, 0, 1);
	table_free(&t);
}

/* The unit table being filled, and the answer it is of (for marks). */
struct progress_units {
	struct table *t;
	const json_t *res;
	const struct progress_text *tx;
	int marks; /* the table has a status column */
};

/* One child row, then its own children one level deeper. */
static void
progress_child_row(const json_t *o, int depth, void *arg)
{
	struct progress_units *u = arg;
	struct table *t = u->t;
	const json_t *node = progress_node(o), *inds, *v;
	const char *mark;
	char buf[64];
	int indent = 2 * (depth - 1);

	inds = json_object_get(o, "indicators");
	table_row(t);
	table_cell(t, "%*s%s", indent, "", progress_str(node, "id", "?"));
	table_cell(t, "%s", progress_str(node, "name", "?"));
	for (size_t i = 0; i < PROGRESS_NIND; i++) {
		if (progress_ind[i].brief[0] == NULL)
			continue;
		v = json_object_get(
		    json_object_get(inds, progress_ind[i].key), "percent");
		if (json_is_number(v))
			table_cell(t, "%s%%",
			    progress_num(v, 1, "-", buf, sizeof(buf)));
		else
			table_cell(t, "-");
	}
	if (u->marks) {
		mark =
		    progress_mark(u->res, u->tx, progress_str(node, "id", ""));
		table_cell(t, "%s", mark != NULL ? mark : "");
	}
	progress_children(o, depth + 1, progress_child_row, arg);
}

/* 1 if unit id is a direct child in res's drill-down. */
static int
progress_is_child(const json_t *res, const char *id)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(res, "children"), i, c)
	{
		if (strcmp(progress_str(progress_node(c), "id", ""), id) == 0)
			return 1;
	}
	return 0;
}

/*
 * A row for each unit the coverage knows but the drill-down has none for
 * (configured, never heard from): its id, its name when coverage.names
 * has it, no figures, and its mark.
 */
static void
progress_unseen_rows(struct progress_units *u, int ncols)
{
	const json_t *cov = json_object_get(u->res, "coverage");
	const json_t *names = json_object_get(cov, "names");
	const char *id, *mark;
	const json_t *v;

	json_object_foreach(json_object_get(cov, "last_report"), id, v)
	{
		if (strcmp(id, progress_str(progress_node(u->res), "id", "")) ==
		        0 ||
		    progress_is_child(u->res, id) ||
		    (mark = progress_mark(u->res, u->tx, id)) == NULL)
			continue;
		table_row(u->t);
		table_cell(u->t, "%s", id);
		table_cell(u->t, "%s", progress_str(names, id, "?"));
		for (int c = 2; c < ncols; c++)
			table_cell(u->t, "-");
		table_cell(u->t, "%s", mark);
	}
}

/* 1 if some unit of the coverage outside the drill-down has a mark. */
static int
progress_unseen_any(const json_t *res, const struct progress_text *tx)
{
	const json_t *v;
	const char *id;

	json_object_foreach(
	    json_object_get(json_object_get(res, "coverage"), "last_report"),
	    id, v)
	{
		if (strcmp(id, progress_str(progress_node(res), "id", "")) !=
		        0 &&
		    !progress_is_child(res, id) &&
		    progress_mark(res, tx, id) != NULL)
			return 1;
	}
	return 0;
}

/* 1 if some unit below o has a mark. */
static int
progress_any_mark(
    const json_t *res, const struct progress_text *tx, const json_t *o)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(o, "children"), i, c)
	{
		if (progress_mark(res, tx,
		        progress_str(progress_node(c), "id", "")) != NULL ||
		    progress_any_mark(res, tx, c))
			return 1;
	}
	return 0;
}

static void
progress_print_children(
    const json_t *res, const struct progress_text *tx, int lang)
{
	struct progress_units u = {.res = res, .tx = tx};
	struct table *t;
	int ncols = 2;

	if (json_object_get(res, "children") == NULL)
		return;
	for (size_t i = 0; i < PROGRESS_NIND; i++)
		ncols += progress_ind[i].brief[0] != NULL;
	u.marks =
	    progress_any_mark(res, tx, res) || progress_unseen_any(res, tx);
	if ((t = table_new(ncols + u.marks)) == NULL)
		return;
	u.t = t;
	for (int c = 2; c < ncols; c++)
		table_right(t, c);
	table_row(t);
	table_cell(t, "%s", tx->id);
	table_cell(t, "%s", tx->name);
	for (size_t i = 0; i < PROGRESS_NIND; i++)
		if (progress_ind[i].brief[0] != NULL)
			table_cell(t, "%s", progress_ind[i].brief[lang]);
	if (u.marks)
		table_cell(t, "%s", tx->status);
	progress_children(res, 1, progress_child_row, &u);
	progress_unseen_rows(&u, ncols);
	table_fit(t, 1, progress_columns(), 8);
	printf("\n%s\n", tx->children);
	table_print(t, stdout, 0, 1);
	table_free(&t);
}

/* The name of unit id somewhere in the drill-down, or NULL. */
static const char *
progress_find_name(const json_t *o, const char *id)
{
	const json_t *c;
	const char *name;
	size_t i;

	if (strcmp(progress_str(progress_node(o), "id", ""), id) == 0)
		return progress_str(progress_node(o), "name", NULL);
	json_array_foreach(json_object_get(o, "children"), i, c)
	{
		if ((name = progress_find_name(c, id)) != NULL)
			return name;
	}
	return NULL;
}

/* "label: id (name), id, ..." for a list of unit ids; nothing if empty. */
static void
progress_print_ids(const json_t *res, const char *label, const json_t *ids)
{
	const json_t *v;
	const char *id, *name;
	size_t i;

	const json_t *names =
	    json_object_get(json_object_get(res, "coverage"), "names");

	if (json_array_size(ids) == 0)
		return;
	printf("%s:", label);
	json_array_foreach(ids, i, v)
	{
		if ((id = json_string_value(v)) == NULL)
			continue;
		printf("%s ", i ? "," : "");
		cli_put_clean(stdout, id);
		if ((name = json_string_value(json_object_get(names, id))) !=
		        NULL ||
		    (name = progress_find_name(res, id)) != NULL) {
			fputs(" (", stdout);
			cli_put_clean(stdout, name);
			putchar(')');
		}
	}
	putchar('\n');
}

static void
progress_print_coverage(const json_t *res, const struct progress_text *tx)
{
	const json_t *cov = json_object_get(res, "coverage");

	if (!json_is_object(cov))
		return;
	putchar('\n');
	printf(tx->reported,
	    (long long)json_integer_value(json_object_get(cov, "reported")),
	    (long long)json_integer_value(json_object_get(cov, "units")));
	putchar('\n');
	progress_print_ids(res, tx->missing, json_object_get(cov, "missing"));
	progress_print_ids(
	    res, tx->no_den, json_object_get(cov, "no_denominators"));
	progress_print_ids(res, tx->down, json_object_get(cov, "down"));
	progress_print_ids(res, tx->stale, json_object_get(cov, "stale"));
	progress_print_ids(
	    res, tx->never, json_object_get(cov, "never_reported"));
}

static void
progress_print(const json_t *res, int lang)
{
	const struct progress_text *tx = &progress_text[lang];
	const json_t *node = progress_node(res), *year;
	const char *level = progress_str(node, "level", NULL);

	cli_put_clean(stdout, progress_str(node, "name", "?"));
	fputs(" (", stdout);
	cli_put_clean(stdout, progress_str(node, "id", "?"));
	if (level != NULL) {
		for (size_t i = 0;
		     i < sizeof(progress_levels) / sizeof(progress_levels[0]);
		     i++)
			if (strcmp(level, progress_levels[i].key) == 0)
				level = progress_levels[i].label[lang];
		fputs(", ", stdout);
		cli_put_clean(stdout, level);
	}
	putchar(')');
	year = json_object_get(res, "year");
	if (json_is_integer(year))
		printf(", %s %" JSON_INTEGER_FORMAT, tx->year,
		    json_integer_value(year));
	if (json_object_get(res, "as_of") != NULL) {
		printf(", %s ", tx->as_of);
		cli_put_clean(stdout, progress_str(res, "as_of", "-"));
	}
	printf("\n\n");
	progress_print_indicators(res, tx, lang);
	progress_print_counts(res, tx, lang);
	progress_print_children(res, tx, lang);
	progress_print_coverage(res, tx);
}

/* cdht progress: GET /v1/progress?year=Y&depth=D in the chosen format. */
int
cmd_progress(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"year", required_argument, NULL, 'y'},
	    {"depth", required_argument, NULL, 'd'},
	    {"lang", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},
	    {"csv", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_reply r;
	long long year = -1, depth = -1;
	char path[96];
	int c, rc, lang = cli_lang, format = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
		case 'd':
			if ((rc = cli_year_depth_opt(
			         cli, c, optarg, &year, &depth)) != 0)
				return rc;
			break;
		case 'l':
			if (strcmp(optarg, "vi") == 0)
				lang = PROGRESS_VI;
			else if (strcmp(optarg, "en") == 0)
				lang = PROGRESS_EN;
			else
				return cli_bad_usage(cli,
				    "--lang must be vi or en, not '%s'",
				    optarg);
			break;
		case 'j':
		case 'c':
			if (format != 0 && format != c)
				return cli_bad_usage(
				    cli, "--json and --csv exclude each other");
			format = c;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);

	snprintf(path, sizeof(path), "/v1/progress");
	if (year >= 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "?year=%lld", year);
	if (depth >= 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "%cdepth=%lld", year >= 0 ? '&' : '?', depth);

	rc = http_call(cli_http(cli), "GET", path, NULL, NULL, 0, 0, &r);
	if (rc == CDHT_EXIT_OK) {
		if (format == 'j') {
			/* the node's bytes: numbers exactly as it wrote them */
			fwrite(r.body, 1, r.len, stdout);
			if (r.len == 0 || r.body[r.len - 1] != '\n')
				putchar('\n');
		} else if (format == 'c') {
			progress_csv(r.json);
		} else {
			progress_print(r.json, lang);
		}
	}
	http_reply_clear(&r);
	return rc;
}
