/*
 * api_lists.c: GET /v1/lists/{year}?status=&group=&kind=&format=&lang=
 * (inspector): the lists of names (danh sách) of this node's own records
 * of one year, as JSON, as CSV for Excel, or as an official A4 list to
 * print and sign.
 *
 * Without kind the list is of people (records_scan, person_id byte order);
 * with kind it is of one kind of title record (titles_scan, id byte
 * order).  status filters inclusively: assessed = every record, eligible =
 * eligible ones (recognised included), recognized = recognised ones
 * (outstanding included), outstanding = outstanding ones; a row's status is
 * the highest it reaches.  The JSON carries the API's codes; the CSV and
 * the HTML are for people to read, so their headers and values (status,
 * group, population) are words of the language asked for (vi by default).
 *
 * Every row is written into the reply's evbuffer as it is scanned, so a
 * list costs memory in proportion to its output and no more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "paper.h"
#include "records.h"
#include "titles.h"

enum list_status {
	LIST_ASSESSED,
	LIST_ELIGIBLE,
	LIST_RECOGNIZED,
	LIST_OUTSTANDING,
	LIST_NSTATUS
};
static const char *const list_status_names[LIST_NSTATUS] = {
    "assessed", "eligible", "recognized", "outstanding"};

enum list_format { LIST_JSON, LIST_CSV, LIST_HTML, LIST_NFORMAT };
static const char *const list_format_names[LIST_NFORMAT] = {
    "json", "csv", "html"};
static const char *const list_ctypes[LIST_NFORMAT] = {
    "application/json; charset=utf-8", "text/csv; charset=utf-8",
    "text/html; charset=utf-8"};

enum list_lang { LIST_VI, LIST_EN, LIST_NLANG };
static const char *const list_lang_names[LIST_NLANG] = {"vi", "en"};

/* The subject of a list: a title kind, or people. */
#define LIST_CITIZEN TITLE_NKINDS

/* The words of a list, per language. */
static const struct list_text {
	const char *country, *motto;
	/* title: noun, status phrase, title's name, year */
	const char *title_fmt;
	/* outstanding: noun, phrase, name, first year, year */
	const char *outstanding_fmt;
	const char *noun[TITLE_NKINDS + 1], *name[TITLE_NKINDS + 1];
	const char *phrase[LIST_NSTATUS];
	const char *group_label;
	const char *col_no, *col_id, *col_name, *col_title_name, *col_birth;
	const char *col_group, *col_population, *col_total, *col_status;
	const char *col_decision, *col_members[TITLE_NKINDS];
	const char *status[LIST_NSTATUS], *group[GROUP_COUNT], *population[2];
	const char *count, *none;
	const char *prepared, *prepared_note, *head, *head_note;
} list_text[LIST_NLANG] = {
    {
        .country = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        .motto = "Độc lập - Tự do - Hạnh phúc",
        .title_fmt = "DANH SÁCH %s %s “%s” NĂM %d",
        .outstanding_fmt = "DANH SÁCH %s %s “%s” 5 NĂM LIÊN TỤC (%d - %d)",
        .noun = {"GIA ĐÌNH", "DÒNG HỌ", "CỘNG ĐỒNG", "ĐƠN VỊ", "CÔNG DÂN"},
        .name = {"GIA ĐÌNH HỌC TẬP", "DÒNG HỌ HỌC TẬP", "CỘNG ĐỒNG HỌC TẬP",
            "ĐƠN VỊ HỌC TẬP", "CÔNG DÂN HỌC TẬP"},
        .phrase = {"ĐƯỢC ĐÁNH GIÁ THEO TIÊU CHÍ", "ĐỦ ĐIỀU KIỆN CÔNG NHẬN",
            "ĐƯỢC CÔNG NHẬN", "ĐẠT DANH HIỆU"},
        .group_label = "Nhóm đối tượng",
        .col_no = "STT",
        .col_id = "Mã định danh",
        .col_name = "Họ và tên",
        .col_title_name = "Tên",
        .col_birth = "Năm sinh",
        .col_group = "Nhóm",
        .col_population = "Đối tượng",
        .col_total = "Tổng điểm",
        .col_status = "Trạng thái",
        .col_decision = "Số quyết định",
        .col_members = {"Số người lớn", "Số người lớn", "Số người lớn",
            "Số CB, CC, VC, NLĐ"},
        .status = {"Đã đánh giá", "Đủ điều kiện", "Được công nhận",
            "5 năm liên tục"},
        .group = {"Nông dân", "Công nhân", "Công chức, viên chức", "Doanh nhân",
            "Cán bộ quản lý"},
        .population = {"Người lớn", "CB, CC, VC, NLĐ"},
        .count = "Tổng số: %zu",
        .none = "(Không có)",
        .prepared = "NGƯỜI LẬP BIỂU",
        .prepared_note = "(Ký, ghi rõ họ tên)",
        .head = "THỦ TRƯỞNG ĐƠN VỊ",
        .head_note = "(Ký tên, đóng dấu)",
    },
    {
        .country = "SOCIALIST REPUBLIC OF VIETNAM",
        .motto = "Independence - Freedom - Happiness",
        .title_fmt = "LIST OF %s %s “%s”, %d",
        .outstanding_fmt = "LIST OF %s %s “%s” FIVE YEARS RUNNING, %d-%d",
        .noun = {"FAMILIES", "CLANS", "COMMUNITIES", "UNITS", "CITIZENS"},
        .name = {"LEARNING FAMILY", "LEARNING CLAN", "LEARNING COMMUNITY",
            "LEARNING UNIT", "LEARNING CITIZEN"},
        .phrase = {"ASSESSED AGAINST THE CRITERIA OF",
            "ELIGIBLE FOR RECOGNITION AS", "RECOGNISED AS", "RECOGNISED AS"},
        .group_label = "Group",
        .col_no = "No.",
        .col_id = "ID",
        .col_name = "Full name",
        .col_title_name = "Name",
        .col_birth = "Year of birth",
        .col_group = "Group",
        .col_population = "Population",
        .col_total = "Total score",
        .col_status = "Status",
        .col_decision = "Decision no.",
        .col_members = {"Adults", "Adults", "Adults", "Staff"},
        .status = {"Assessed", "Eligible", "Recognised", "Outstanding"},
        .group = {"Farmers", "Workers", "Officials", "Business people",
            "Managers"},
        .population = {"Adult", "Staff"},
        .count = "Total: %zu",
        .none = "(None)",
        .prepared = "PREPARED BY",
        .prepared_note = "(Signature, full name)",
        .head = "HEAD OF UNIT",
        .head_note = "(Signature, seal)",
    },
};

/* Append a string literal. */
#define LIST_ADD(out, lit) evbuffer_add((out), (lit), sizeof(lit) - 1)

/* One list being written. */
struct list {
	const struct conf *c;
	const struct list_text *tx;
	int year, status, format, lang;
	int group, kind; /* -1 when not asked for */
	struct evbuffer *out;
	size_t n;    /* rows written */
	int err;     /* a row could not be built (out of memory) */
	int y, m, d; /* today, in the node's time zone */
};

/* names[i], or "" when i is out of range (a record from a newer build). */
static const char *
list_name(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : "";
}

static int
list_person_status(const struct assessment *a)
{
	return a->outstanding  ? LIST_OUTSTANDING
	       : a->recognized ? LIST_RECOGNIZED
	       : a->eligible   ? LIST_ELIGIBLE
	                       : LIST_ASSESSED;
}

static int
list_title_status(const struct title *ti)
{
	return ti->recognized ? LIST_RECOGNIZED
	       : ti->eligible ? LIST_ELIGIBLE
	                      : LIST_ASSESSED;
}

/* -- JSON ----------------------------------------------------------------- */

static int
list_dump_cb(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

/* Append item (stolen) to the items array. */
static void
list_json_item(struct list *l, json_t *item)
{
	if (item == NULL) {
		l->err = 1;
		return;
	}
	if (l->n > 1)
		LIST_ADD(l->out, ",");
	if (json_dump_callback(item, list_dump_cb, l->out, JSON_COMPACT) != 0)
		l->err = 1;
	json_decref(item);
}

/* {"year", "node", "kind", "status", "group", "items": [ -- the rows and
 * then "], "count": N}" follow. */
static void
list_json_begin(struct list *l)
{
	json_t *o = json_pack("{s:i, s:{s:s, s:s, s:s}, s:s, s:s, s:s?}",
	    "year", l->year, "node", "id", l->c->id, "level",
	    list_name(valid_level_names, VALID_NLEVELS, l->c->level), "name",
	    l->c->name, "kind",
	    l->kind < 0 ? "citizen" : title_kind_names[l->kind], "status",
	    list_status_names[l->status], "group",
	    l->group < 0 ? NULL : rules_group_names[l->group]);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len = s ? strlen(s) : 0;

	json_decref(o);
	if (len < 2 || s[len - 1] != '}') {
		l->err = 1;
	} else {
		evbuffer_add(l->out, s, len - 1);
		evbuffer_add_printf(l->out, ",\"items\":[");
	}
	free(s);
}

/* -- CSV and HTML rows ---------------------------------------------------- */

/*
 * The cells of one row, as text: people have 9, titles 6 (the columns of
 * list_header).  Strings point into the record or into buf.
 */
struct list_row {
	const char *id;
	const char *cell[9];
	int ncell;
	char no[24], birth[8], total[8], members[24];
};

static void
list_row_person(
    const struct list *l, const struct assessment *a, struct list_row *r)
{
	snprintf(r->no, sizeof(r->no), "%zu", l->n);
	if (a->birth_year)
		snprintf(r->birth, sizeof(r->birth), "%d", a->birth_year);
	else
		r->birth[0] = '\0';
	snprintf(r->total, sizeof(r->total), "%u", (unsigned)a->total);
	r->id = a->person_id;
	r->cell[0] = r->no;
	r->cell[1] = a->person_id;
	r->cell[2] = a->name;
	r->cell[3] = r->birth;
	r->cell[4] = list_name(l->tx->group, GROUP_COUNT, a->group);
	r->cell[5] = list_name(l->tx->population, 2, a->population);
	r->cell[6] = r->total;
	r->cell[7] = l->tx->status[list_person_status(a)];
	r->cell[8] = a->decision;
	r->ncell = 9;
}

static void
list_row_title(const struct list *l, const struct title *ti, struct list_row *r)
{
	snprintf(r->no, sizeof(r->no), "%zu", l->n);
	if (ti->members >= 0)
		snprintf(r->members, sizeof(r->members), "%lld",
		    (long long)ti->members);
	else
		r->members[0] = '\0';
	r->id = ti->id;
	r->cell[0] = r->no;
	r->cell[1] = ti->id;
	r->cell[2] = ti->name;
	r->cell[3] = r->members;
	r->cell[4] = l->tx->status[list_title_status(ti)];
	r->cell[5] = ti->decision;
	r->ncell = 6;
}

/* The column headers, in list_row's order. */
static int
list_header(const struct list *l, const char *h[9])
{
	const struct list_text *tx = l->tx;

	h[0] = tx->col_no;
	h[1] = tx->col_id;
	if (l->kind >= 0) {
		h[2] = tx->col_title_name;
		h[3] = tx->col_members[l->kind];
		h[4] = tx->col_status;
		h[5] = tx->col_decision;
		return 6;
	}
	h[2] = tx->col_name;
	h[3] = tx->col_birth;
	h[4] = tx->col_group;
	h[5] = tx->col_population;
	h[6] = tx->col_total;
	h[7] = tx->col_status;
	h[8] = tx->col_decision;
	return 9;
}

static void
list_csv_row(struct list *l, const struct list_row *r)
{
	for (int i = 0; i < r->ncell; i++)
		paper_csv_field(l->out, r->cell[i], i == r->ncell - 1);
}

/* Which of list_row's cells are numbers (right-aligned). */
static int
list_numeric(const struct list *l, int i)
{
	return i == 0 || (l->kind < 0 ? i == 3 || i == 6 : i == 3);
}

static void
list_html_row(struct list *l, const struct list_row *r)
{
	paper_html_el(l->out, "<tr data-id=\"", r->id, "\">");
	for (int i = 0; i < r->ncell; i++)
		paper_html_el(l->out,
		    list_numeric(l, i) ? "<td class=\"n\">" : "<td>",
		    r->cell[i], "</td>");
	LIST_ADD(l->out, "</tr>");
}

static void
list_row(struct list *l, struct list_row *r)
{
	if (l->format == LIST_CSV)
		list_csv_row(l, r);
	else
		list_html_row(l, r);
}

/* -- the scans ------------------------------------------------------------ */

static int
list_person_cb(void *arg, const struct assessment *a)
{
	struct list *l = arg;
	struct list_row r;

	if (list_person_status(a) < l->status ||
	    (l->group >= 0 && a->group != l->group))
		return 0;
	l->n++;
	if (l->format == LIST_JSON) {
		list_json_item(
		    l, json_pack("{s:I, s:s%, s:s?, s:o, s:s, s:s, s:i, s:s, "
		                 "s:b, s:b, s:b, s:s?}",
		           "no", (json_int_t)l->n, "person_id", a->person_id,
		           (size_t)a->pid_len, "name",
		           a->name[0] ? a->name : NULL, "birth_year",
		           a->birth_year ? json_integer(a->birth_year)
		                         : json_null(),
		           "group",
		           list_name(rules_group_names, GROUP_COUNT, a->group),
		           "population",
		           list_name(rules_population_names, 2, a->population),
		           "total", (int)a->total, "status",
		           list_status_names[list_person_status(a)], "eligible",
		           a->eligible, "recognized", a->recognized,
		           "outstanding", a->outstanding, "decision",
		           a->decision[0] ? a->decision : NULL));
	} else {
		list_row_person(l, a, &r);
		list_row(l, &r);
	}
	return l->err;
}

static int
list_title_cb(void *arg, const struct title *ti)
{
	struct list *l = arg;
	struct list_row r;

	if (list_title_status(ti) < l->status)
		return 0;
	l->n++;
	if (l->format == LIST_JSON) {
		list_json_item(l,
		    json_pack(
		        "{s:I, s:s, s:s%, s:s?, s:o, s:s, s:b, s:b, s:s?}",
		        "no", (json_int_t)l->n, "kind",
		        list_name(title_kind_names, TITLE_NKINDS, ti->kind),
		        "id", ti->id, (size_t)ti->id_len, "name",
		        ti->name[0] ? ti->name : NULL, "members",
		        ti->members >= 0 ? json_integer(ti->members)
		                         : json_null(),
		        "status", list_status_names[list_title_status(ti)],
		        "eligible", ti->eligible, "recognized", ti->recognized,
		        "decision", ti->decision[0] ? ti->decision : NULL));
	} else {
		list_row_title(l, ti, &r);
		list_row(l, &r);
	}
	return l->err;
}

/* -- the document around the rows ----------------------------------------- */

static const char list_css[] =
    "@page{size:A4 portrait;margin:15mm 12mm 15mm 18mm}"
    "body{font-family:'Times New Roman',Times,serif;font-size:12pt;"
    "color:#000;background:#fff;margin:0}"
    ".head{display:flex;justify-content:space-between;text-align:center}"
    ".head div{width:48%}.head b{display:block}"
    ".motto{text-decoration:underline}"
    "h1{font-size:13pt;text-align:center;margin:8mm 0 2mm}"
    ".sub{text-align:center;margin:0 0 4mm}"
    "table{border-collapse:collapse;width:100%;font-size:10.5pt}"
    "thead{display:table-header-group}"
    "tr{break-inside:avoid;page-break-inside:avoid}"
    "th,td{border:1px solid #000;padding:1mm 1.5mm;vertical-align:top}"
    "th{font-weight:bold;text-align:center}"
    "td.n{text-align:right;white-space:nowrap}"
    "td.empty{text-align:center;font-style:italic}"
    ".count{margin:3mm 0}"
    ".date{text-align:right;font-style:italic;margin:6mm 0 2mm}"
    ".sign{display:flex;justify-content:space-between;text-align:center;"
    "break-inside:avoid;page-break-inside:avoid}"
    ".sign div{width:45%;min-height:35mm}.sign i{display:block}"
    "@media screen{body{max-width:190mm;margin:10mm auto}}";

/* The list's title line into buf. */
static const char *
list_title(const struct list *l, char *buf, size_t size)
{
	const struct list_text *tx = l->tx;
	int subj = l->kind < 0 ? LIST_CITIZEN : l->kind;

	if (l->status == LIST_OUTSTANDING)
		snprintf(buf, size, tx->outstanding_fmt, tx->noun[subj],
		    tx->phrase[l->status], tx->name[subj],
		    l->year - (RULES_OUTSTANDING_YEARS - 1), l->year);
	else
		snprintf(buf, size, tx->title_fmt, tx->noun[subj],
		    tx->phrase[l->status], tx->name[subj], l->year);
	return buf;
}

static void
list_begin(struct list *l)
{
	const struct list_text *tx = l->tx;
	const char *h[9];
	char title[256];
	int n = list_header(l, h);

	if (l->format == LIST_JSON) {
		list_json_begin(l);
		return;
	}
	if (l->format == LIST_CSV) {
		LIST_ADD(l->out, "\xef\xbb\xbf");
		for (int i = 0; i < n; i++)
			paper_csv_field(l->out, h[i], i == n - 1);
		return;
	}
	list_title(l, title, sizeof(title));
	evbuffer_add_printf(l->out,
	    "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<title>",
	    list_lang_names[l->lang]);
	paper_html_text(l->out, l->c->name);
	paper_html_el(l->out, " - ", title, "</title>");
	evbuffer_add_printf(l->out,
	    "<style>%s</style></head><body>"
	    "<div class=\"head\"><div class=\"issuer\"><b>",
	    list_css);
	paper_html_text(l->out, l->c->name);
	evbuffer_add_printf(l->out,
	    "</b></div><div class=\"national\"><b>%s</b><b class=\"motto\">%s"
	    "</b></div></div>",
	    tx->country, tx->motto);
	paper_html_el(l->out, "<h1>", title, "</h1>");
	if (l->group >= 0)
		evbuffer_add_printf(l->out, "<p class=\"sub\">%s: %s</p>",
		    tx->group_label, tx->group[l->group]);
	LIST_ADD(l->out, "<table><thead><tr>");
	for (int i = 0; i < n; i++)
		paper_html_el(l->out, "<th>", h[i], "</th>");
	LIST_ADD(l->out, "</tr></thead><tbody>");
}

static void
list_end(struct list *l)
{
	const struct list_text *tx = l->tx;
	char date[WIRE_MAX_NAME + 64];
	const char *h[9];

	if (l->format == LIST_JSON) {
		evbuffer_add_printf(l->out, "],\"count\":%zu}\n", l->n);
		return;
	}
	if (l->format == LIST_CSV)
		return;
	if (l->n == 0)
		evbuffer_add_printf(l->out,
		    "<tr><td class=\"empty\" colspan=\"%d\">%s</td></tr>",
		    list_header(l, h), tx->none);
	LIST_ADD(l->out, "</tbody></table><p class=\"count\">");
	evbuffer_add_printf(l->out, tx->count, l->n);
	paper_place_date(date, sizeof(date), l->lang == LIST_VI, l->c->name,
	    l->y, l->m, l->d);
	paper_html_el(l->out, "</p><p class=\"date\">", date, "</p>");
	evbuffer_add_printf(l->out,
	    "<div class=\"sign\"><div class=\"prepared\"><b>%s</b>"
	    "<i>%s</i></div><div class=\"head-of-unit\"><b>%s</b><i>%s</i>"
	    "</div></div></body></html>\n",
	    tx->prepared, tx->prepared_note, tx->head, tx->head_note);
}

/* -- the query ------------------------------------------------------------ */

/*
 * Read and check the query into l: each parameter known, given once, with
 * a known value, and the combination valid.  Returns 0, or -1 after
 * answering 400 naming the parameter.
 */
static int
list_query(struct evhttp_request *req, struct list *l)
{
	enum { Q_STATUS, Q_GROUP, Q_KIND, Q_FORMAT, Q_LANG, Q_N };
	static const char *const keys[Q_N] = {
	    "status", "group", "kind", "format", "lang"};
	const char *q =
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *val[Q_N] = {NULL};
	struct evkeyvalq kv;
	struct evkeyval *p;
	int rc = -1;

	TAILQ_INIT(&kv);
	if (q != NULL && evhttp_parse_query_str(q, &kv) != 0) {
		api_send_error(
		    req, 400, "bad_request", NULL, "malformed query");
		return -1;
	}
	TAILQ_FOREACH(p, &kv, next)
	{
		int k = rules_lookup(keys, Q_N, p->key);

		if (k < 0) {
			api_send_error(req, 400, "invalid_field", p->key,
			    "unknown parameter %s (status, group, kind, format "
			    "or lang)",
			    p->key);
			goto out;
		}
		if (val[k] != NULL) {
			api_send_error(req, 400, "invalid_field", p->key,
			    "%s given more than once", p->key);
			goto out;
		}
		val[k] = p->value;
	}
	l->status = LIST_ASSESSED;
	l->group = l->kind = -1;
	l->format = LIST_JSON;
	l->lang = LIST_VI;
	if (val[Q_STATUS] != NULL &&
	    (l->status = rules_lookup(
	         list_status_names, LIST_NSTATUS, val[Q_STATUS])) < 0) {
		api_send_error(req, 400, "invalid_field", "status",
		    "status must be assessed, eligible, recognized or "
		    "outstanding");
		goto out;
	}
	if (val[Q_GROUP] != NULL && (l->group = rules_lookup(rules_group_names,
	                                 GROUP_COUNT, val[Q_GROUP])) < 0) {
		api_send_error(req, 400, "invalid_field", "group",
		    "group must be farmer, worker, official, business or "
		    "manager");
		goto out;
	}
	if (val[Q_KIND] != NULL && (l->kind = rules_lookup(title_kind_names,
	                                TITLE_NKINDS, val[Q_KIND])) < 0) {
		api_send_error(req, 400, "invalid_field", "kind",
		    "kind must be family, clan, community or unit");
		goto out;
	}
	if (val[Q_FORMAT] != NULL &&
	    (l->format = rules_lookup(
	         list_format_names, LIST_NFORMAT, val[Q_FORMAT])) < 0) {
		api_send_error(req, 400, "invalid_field", "format",
		    "format must be json, csv or html");
		goto out;
	}
	if (val[Q_LANG] != NULL && (l->lang = rules_lookup(list_lang_names,
	                                LIST_NLANG, val[Q_LANG])) < 0) {
		api_send_error(
		    req, 400, "invalid_field", "lang", "lang must be vi or en");
		goto out;
	}
	if (l->kind >= 0 && l->status == LIST_OUTSTANDING) {
		api_send_error(req, 400, "invalid_field", "status",
		    "status outstanding is for people: not valid with kind");
		goto out;
	}
	if (l->kind >= 0 && l->group >= 0) {
		api_send_error(req, 400, "invalid_field", "group",
		    "group is for people: not valid with kind");
		goto out;
	}
	rc = 0;
out:
	evhttp_clear_headers(&kv);
	return rc;
}

/* -- the handler ---------------------------------------------------------- */

void
api_lists(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	struct list l = {.c = h->c};
	struct store_txn *t;
	char disp[96];
	int rc;

	(void)who;
	if (api_parse_year(rest, &l.year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if (list_query(req, &l) != 0)
		return;
	l.tx = &list_text[l.lang];
	paper_today(h->c->utc_offset_min, &l.y, &l.m, &l.d);
	if ((t = store_begin(h->st, 0)) == NULL) {
		api_send_store_error(req, STORE_EIO);
		return;
	}
	l.out = evhttp_request_get_output_buffer(req);
	list_begin(&l);
	if (l.kind < 0)
		rc = records_scan(t, l.year, list_person_cb, &l);
	else
		rc = titles_scan(t, l.year, l.kind, list_title_cb, &l);
	store_abort(&t);
	if (rc == STORE_NOTFOUND)
		rc = STORE_OK;
	if (rc == STORE_OK && !l.err)
		list_end(&l);
	if (rc != STORE_OK || l.err) {
		evbuffer_drain(l.out, evbuffer_get_length(l.out));
		if (l.err)
			api_send_error(req, 500, "internal", NULL,
			    "the list could not be built (out of memory)");
		else
			api_send_store_error(req, rc);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", list_ctypes[l.format]);
	if (l.format == LIST_CSV) {
		snprintf(disp, sizeof(disp),
		    "attachment; filename=\"danh-sach-%s-%s-%d.csv\"",
		    l.kind < 0 ? "citizen" : title_kind_names[l.kind],
		    list_status_names[l.status], l.year);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Disposition", disp);
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}
