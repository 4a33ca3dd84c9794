/*
 * api_report.c: GET /v1/report?year=Y&format=html|csv|json[&depth=D]
 * [&lang=vi|en] (viewer): the yearly report a unit files upward.  Per unit
 * (this node, then the units below it down to depth D, default 1) every
 * indicator with numerator, denominator, percent, the 2025 and 2030
 * targets and the people or titles still needed; the coverage; the date;
 * and the signature block of a Vietnamese official report.
 *
 * The figures are views_progress's document itself, so they equal
 * GET /v1/progress's to the digit; this file only lays them out, writing
 * straight into the reply's evbuffer (with paper.c's escaping, CSV
 * fields and date line, which the lists of names share).  Coverage
 * members that a newer views.c adds (down, stale, never_reported, names)
 * and a "deadline" object are shown when present and skipped when not.
 * Imported results (counts.imported, coverage.imported) are marked as
 * such ("nhập từ báo cáo").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api.h"
#include "paper.h"
#include "wire.h"

enum { REPORT_VI, REPORT_EN, REPORT_NLANG };

/* Indicator labels, in display order (rules_indicator_names' keys). */
static const struct {
	const char *key;
	const char *label[REPORT_NLANG];
} report_ind[] = {
    {"adults", {"Người lớn đạt danh hiệu Công dân học tập",
                   "Adults recognised as Learning Citizens"}},
    {"staff", {"CB, CC, VC, người lao động đạt danh hiệu Công dân học tập",
                  "Staff recognised as Learning Citizens"}},
    {"digital", {"Công dân học tập có kỹ năng số",
                    "Recognised citizens with digital skills"}},
    {"proficient",
        {"Trong đó: thành thạo kỹ năng số", "Of whom: digitally proficient"}},
    {"trained", {"Cán bộ, hội viên Hội Khuyến học được tập huấn",
                    "Association members trained"}},
    {"families", {"Gia đình học tập", "Learning families"}},
    {"clans", {"Dòng họ học tập", "Learning clans"}},
    {"communities", {"Cộng đồng học tập", "Learning communities"}},
    {"units", {"Đơn vị học tập", "Learning units"}},
};
#define REPORT_NIND (sizeof(report_ind) / sizeof(report_ind[0]))

/* The words of the report, per language. */
static const struct report_text {
	const char *html_lang, *country, *motto, *title, *of_year, *unit;
	const char *indicator, *numerator, *denominator, *percent, *target;
	const char *needed, *met, *below, *coverage, *reported, *missing;
	const char *above; /* a strict target: "above P%" (printf, P) */
	const char *no_den, *down, *stale, *never, *deadline, *late;
	const char *days_left, *prepared, *prepared_note, *head, *head_note;
	const char *as_of, *level[VALID_NLEVELS];
	/* imported results (history.c): the mark of a unit's figures, and
	 * the coverage list of the units they come from */
	const char *imported_mark, *imported;
} report_text[REPORT_NLANG] = {
    {
        .html_lang = "vi",
        .country = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        .motto = "Độc lập - Tự do - Hạnh phúc",
        .title = "BÁO CÁO KẾT QUẢ XÂY DỰNG MÔ HÌNH CÔNG DÂN HỌC TẬP",
        .of_year = "Năm",
        .unit = "Đơn vị",
        .indicator = "Chỉ tiêu",
        .numerator = "Số đạt",
        .denominator = "Tổng số",
        .percent = "Tỷ lệ (%)",
        .target = "Mục tiêu",
        .needed = "Còn thiếu",
        .above = "trên %s%%",
        .met = "Đạt",
        .below = "Các đơn vị trực thuộc",
        .coverage = "Tình hình báo cáo",
        .reported = "Đã báo cáo: %lld/%lld đơn vị",
        .missing = "Chưa báo cáo",
        .no_den = "Chưa nhập số liệu mẫu số",
        .down = "Mất kết nối",
        .stale = "Lâu chưa cập nhật",
        .never = "Chưa từng báo cáo",
        .deadline = "Hạn báo cáo",
        .late = "quá hạn",
        .days_left = "còn %lld ngày",
        .prepared = "NGƯỜI LẬP BIỂU",
        .prepared_note = "(Ký, ghi rõ họ tên)",
        .head = "THỦ TRƯỞNG ĐƠN VỊ",
        .head_note = "(Ký tên, đóng dấu)",
        .as_of = "Số liệu lúc",
        .level = {"cấp xã", "cấp huyện", "cấp tỉnh", "trung ương",
            "cơ quan, đơn vị"},
        .imported_mark = "nhập từ báo cáo: %lld đơn vị",
        .imported = "Số liệu nhập từ báo cáo",
    },
    {
        .html_lang = "en",
        .country = "SOCIALIST REPUBLIC OF VIETNAM",
        .motto = "Independence - Freedom - Happiness",
        .title = "REPORT ON BUILDING THE LEARNING CITIZEN MODEL",
        .of_year = "Year",
        .unit = "Unit",
        .indicator = "Indicator",
        .numerator = "Count",
        .denominator = "Of",
        .percent = "Percent",
        .target = "Target",
        .needed = "Needed",
        .above = "&gt; %s%%", /* HTML */
        .met = "Met",
        .below = "Units below",
        .coverage = "Reporting",
        .reported = "Reported: %lld/%lld units",
        .missing = "Not reported",
        .no_den = "No denominators",
        .down = "Link down",
        .stale = "Stale",
        .never = "Never reported",
        .deadline = "Deadline",
        .late = "late",
        .days_left = "%lld days left",
        .prepared = "PREPARED BY",
        .prepared_note = "(Signature, full name)",
        .head = "HEAD OF UNIT",
        .head_note = "(Signature, seal)",
        .as_of = "Figures as of",
        .level = {"commune", "district", "province", "national", "agency"},
        .imported_mark = "imported: %lld units",
        .imported = "Imported results",
    },
};

/* One report being written: the document, its language, the output. */
struct report {
	const json_t *doc; /* views_progress's document */
	const struct report_text *tx;
	int lang;
	struct evbuffer *out;
	int y, m, d; /* the local date */
};

static const char *
report_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static const char *
report_level(const struct report *r, const char *level)
{
	for (int i = 0; i < VALID_NLEVELS; i++)
		if (strcmp(level, valid_level_names[i]) == 0)
			return r->tx->level[i];
	return level;
}

/*
 * A JSON number as the API's figure: integers as such, reals with the two
 * decimals the API rounds percent to; "" for null or absent.
 */
static const char *
report_num(const json_t *v, char *buf, size_t sz)
{
	if (json_is_integer(v))
		snprintf(
		    buf, sz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sz, "%.2f", json_real_value(v));
	else
		buf[0] = '\0';
	return buf;
}

/* The name of unit id: coverage.names when present, else the drill-down. */
static const char *
report_find_name(const json_t *o, const char *id)
{
	const json_t *c;
	const char *name;
	size_t i;

	if (strcmp(report_str(json_object_get(o, "node"), "id", ""), id) == 0)
		return report_str(json_object_get(o, "node"), "name", NULL);
	json_array_foreach(json_object_get(o, "children"), i, c)
	{
		if ((name = report_find_name(c, id)) != NULL)
			return name;
	}
	return NULL;
}

static const char *
report_name_of(const struct report *r, const char *id)
{
	const json_t *names =
	    json_object_get(json_object_get(r->doc, "coverage"), "names");
	const char *s = json_string_value(json_object_get(names, id));

	return s != NULL ? s : report_find_name(r->doc, id);
}

/* Call fn(r, unit, depth) for o and every unit below it, depth first. */
static void
report_walk(struct report *r, const json_t *o, int depth,
    void (*fn)(struct report *, const json_t *, int))
{
	const json_t *c;
	size_t i;

	fn(r, o, depth);
	json_array_foreach(json_object_get(o, "children"), i, c)
	{
		if (json_is_object(c))
			report_walk(r, c, depth + 1, fn);
	}
}

/* -- JSON ----------------------------------------------------------------- */

static int
report_dump_cb(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

/* The progress document with a "report" member: date, place, signature. */
static int
report_json(struct report *r, json_t *doc)
{
	const json_t *node = json_object_get(doc, "node");
	const char *name = report_str(node, "name", "");
	char date[16], place_date[WIRE_MAX_NAME + 64];

	snprintf(date, sizeof(date), "%04d-%02d-%02d", r->y, r->m, r->d);
	paper_place_date(place_date, sizeof(place_date), r->lang == REPORT_VI,
	    name, r->y, r->m, r->d);
	json_object_set_new(doc, "report",
	    json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "date", date, "place",
	        paper_place(name), "place_date", place_date, "signature",
	        "prepared_by", r->tx->prepared, "head", r->tx->head));
	if (json_dump_callback(doc, report_dump_cb, r->out,
	        JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0)
		return -1;
	return evbuffer_add(r->out, "\n", 1);
}

/* -- CSV ------------------------------------------------------------------ */

static void
report_csv_unit(struct report *r, const json_t *o, int depth)
{
	const json_t *node = json_object_get(o, "node");
	const json_t *inds = json_object_get(o, "indicators"), *ind;
	char buf[64], dep[16];

	snprintf(dep, sizeof(dep), "%d", depth);
	for (size_t i = 0; i < REPORT_NIND; i++) {
		if ((ind = json_object_get(inds, report_ind[i].key)) == NULL)
			continue;
		paper_csv_field(r->out, report_str(node, "id", ""), 0);
		paper_csv_field(r->out, report_str(node, "name", ""), 0);
		paper_csv_field(
		    r->out, report_level(r, report_str(node, "level", "")), 0);
		paper_csv_field(r->out, dep, 0);
		paper_csv_field(r->out, report_ind[i].key, 0);
		paper_csv_field(r->out, report_ind[i].label[r->lang], 0);
		paper_csv_field(r->out,
		    report_num(
		        json_object_get(ind, "numerator"), buf, sizeof(buf)),
		    0);
		paper_csv_field(r->out,
		    report_num(
		        json_object_get(ind, "denominator"), buf, sizeof(buf)),
		    0);
		paper_csv_field(r->out,
		    report_num(
		        json_object_get(ind, "percent"), buf, sizeof(buf)),
		    0);
		for (int y = 0; y < 2; y++) {
			const char *yr = y == 0 ? "2025" : "2030";

			paper_csv_field(r->out,
			    report_num(json_object_get(
			                   json_object_get(ind, "targets"), yr),
			        buf, sizeof(buf)),
			    0);
			paper_csv_field(r->out,
			    report_num(json_object_get(
			                   json_object_get(ind, "needed"), yr),
			        buf, sizeof(buf)),
			    y == 1);
		}
	}
}

/* "label,id name; id name" of one coverage list, if not empty. */
static void
report_csv_ids(struct report *r, const char *label, const json_t *ids)
{
	const json_t *v;
	size_t i;
	char *line = NULL;
	size_t len = 0;
	FILE *fp;

	if (json_array_size(ids) == 0 ||
	    (fp = open_memstream(&line, &len)) == NULL)
		return;
	json_array_foreach(ids, i, v)
	{
		const char *id = json_string_value(v), *name;

		if (id == NULL)
			continue;
		fprintf(fp, "%s%s", i ? "; " : "", id);
		if ((name = report_name_of(r, id)) != NULL)
			fprintf(fp, " %s", name);
	}
	fclose(fp);
	paper_csv_field(r->out, label, 0);
	paper_csv_field(r->out, line, 1);
	free(line);
}

/*
 * UTF-8 with a byte order mark and CRLF, as Excel opens it: one table
 * (a header row, one row per unit and indicator), a blank line, then the
 * coverage, the place and date and the signature block, label then value.
 */
static void
report_csv(struct report *r)
{
	const struct report_text *tx = r->tx;
	const json_t *cov = json_object_get(r->doc, "coverage");
	const json_t *node = json_object_get(r->doc, "node");
	char buf[WIRE_MAX_NAME + 128];

	evbuffer_add(r->out, "\xef\xbb\xbf", 3);
	evbuffer_add_printf(r->out,
	    "unit_id,unit_name,level,depth,indicator,indicator_label,"
	    "numerator,denominator,percent,target_2025,needed_2025,"
	    "target_2030,needed_2030\r\n");
	report_walk(r, r->doc, 0, report_csv_unit);
	evbuffer_add(r->out, "\r\n", 2);
	paper_csv_field(r->out, tx->title, 0);
	snprintf(buf, sizeof(buf), "%s %" JSON_INTEGER_FORMAT, tx->of_year,
	    json_integer_value(json_object_get(r->doc, "year")));
	paper_csv_field(r->out, buf, 1);
	if (json_is_object(cov)) {
		snprintf(buf, sizeof(buf), tx->reported,
		    (long long)json_integer_value(
		        json_object_get(cov, "reported")),
		    (long long)json_integer_value(
		        json_object_get(cov, "units")));
		paper_csv_field(r->out, tx->coverage, 0);
		paper_csv_field(r->out, buf, 1);
		report_csv_ids(r, tx->missing, json_object_get(cov, "missing"));
		report_csv_ids(
		    r, tx->no_den, json_object_get(cov, "no_denominators"));
		report_csv_ids(r, tx->down, json_object_get(cov, "down"));
		report_csv_ids(r, tx->stale, json_object_get(cov, "stale"));
		report_csv_ids(
		    r, tx->never, json_object_get(cov, "never_reported"));
		report_csv_ids(
		    r, tx->imported, json_object_get(cov, "imported"));
	}
	paper_csv_field(r->out, tx->as_of, 0);
	paper_csv_field(r->out, report_str(r->doc, "as_of", ""), 1);
	paper_place_date(buf, sizeof(buf), r->lang == REPORT_VI,
	    report_str(node, "name", ""), r->y, r->m, r->d);
	paper_csv_field(r->out, report_str(node, "name", ""), 0);
	paper_csv_field(r->out, buf, 1);
	paper_csv_field(r->out, tx->prepared, 0);
	paper_csv_field(r->out, tx->head, 1);
}

/* -- HTML ----------------------------------------------------------------- */

static const char report_css[] =
    "@page{size:A4 portrait;margin:18mm 15mm 18mm 20mm}"
    "body{font-family:'Times New Roman',Times,serif;font-size:12pt;"
    "color:#000;background:#fff;margin:0}"
    ".head{display:flex;justify-content:space-between;text-align:center}"
    ".head div{width:48%}.head b{display:block}"
    ".motto{text-decoration:underline}"
    ".date{text-align:right;font-style:italic;margin:4mm 0}"
    "h1{font-size:14pt;text-align:center;margin:6mm 0 2mm}"
    "h2{font-size:13pt;margin:5mm 0 2mm}h3{font-size:12pt;margin:4mm 0 "
    "1mm}"
    ".sub{text-align:center;margin:0 0 4mm}"
    "table{border-collapse:collapse;width:100%;font-size:10.5pt}"
    "th,td{border:1px solid #000;padding:1mm 1.5mm;vertical-align:top}"
    "td.n{text-align:right;white-space:nowrap}"
    ".unit{break-inside:avoid;page-break-inside:avoid}"
    "section.below,section.cover{break-before:page;page-break-before:"
    "always}"
    ".sign{display:flex;justify-content:space-between;text-align:center;"
    "margin-top:8mm;break-inside:avoid;page-break-inside:avoid}"
    ".sign div{width:45%;min-height:35mm}.sign i{display:block}"
    "ul{margin:1mm 0 2mm}"
    "@media screen{body{max-width:190mm;margin:10mm auto}}";

/* The indicator table of one unit. */
static void
report_html_table(struct report *r, const json_t *o)
{
	const struct report_text *tx = r->tx;
	const json_t *inds = json_object_get(o, "indicators"), *ind;
	char buf[64];

	evbuffer_add_printf(r->out,
	    "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	    "<th>%s 2025</th><th>%s 2025</th><th>%s 2030</th><th>%s "
	    "2030</th></tr></thead><tbody>",
	    tx->indicator, tx->numerator, tx->denominator, tx->percent,
	    tx->target, tx->needed, tx->target, tx->needed);
	for (size_t i = 0; i < REPORT_NIND; i++) {
		const json_t *v;

		if ((ind = json_object_get(inds, report_ind[i].key)) == NULL)
			continue;
		evbuffer_add_printf(
		    r->out, "<tr data-indicator=\"%s\">", report_ind[i].key);
		paper_html_el(
		    r->out, "<td>", report_ind[i].label[r->lang], "</td>");
		evbuffer_add_printf(r->out, "<td class=\"n\">%s</td>",
		    report_num(
		        json_object_get(ind, "numerator"), buf, sizeof(buf)));
		evbuffer_add_printf(r->out, "<td class=\"n\">%s</td>",
		    report_num(
		        json_object_get(ind, "denominator"), buf, sizeof(buf)));
		v = json_object_get(ind, "percent");
		evbuffer_add_printf(r->out, "<td class=\"n\">%s</td>",
		    json_is_number(v) ? report_num(v, buf, sizeof(buf)) : "-");
		for (int y = 0; y < 2; y++) {
			const char *yr = y == 0 ? "2025" : "2030";
			const json_t *met =
			    json_object_get(json_object_get(ind, "met"), yr);
			const json_t *strict =
			    json_object_get(json_object_get(ind, "strict"), yr);

			report_num(json_object_get(
			               json_object_get(ind, "targets"), yr),
			    buf, sizeof(buf));
			evbuffer_add(r->out, "<td class=\"n\">", 14);
			if (json_is_true(strict)) /* "trên 60%" */
				evbuffer_add_printf(r->out, tx->above, buf);
			else
				evbuffer_add_printf(r->out, "%s", buf);
			evbuffer_add(r->out, "</td>", 5);
			evbuffer_add_printf(r->out, "<td class=\"n\">%s</td>",
			    json_is_true(met)
			        ? tx->met
			        : report_num(
			              json_object_get(
			                  json_object_get(ind, "needed"), yr),
			              buf, sizeof(buf)));
		}
		evbuffer_add(r->out, "</tr>", 5);
	}
	evbuffer_add(r->out, "</tbody></table>", 16);
}

/* After a unit's heading: the mark of its imported figures, if any. */
static void
report_html_imported(struct report *r, const json_t *o)
{
	json_int_t n = json_integer_value(
	    json_object_get(json_object_get(o, "counts"), "imported"));

	if (n <= 0)
		return;
	evbuffer_add_printf(r->out,
	    "<p class=\"imported\" data-imported=\"%" JSON_INTEGER_FORMAT
	    "\"><i>",
	    n);
	evbuffer_add_printf(r->out, r->tx->imported_mark, (long long)n);
	evbuffer_add(r->out, "</i></p>", 8);
}

/* One unit below this node: heading and table. */
static void
report_html_unit(struct report *r, const json_t *o, int depth)
{
	const json_t *node = json_object_get(o, "node");

	if (depth == 0)
		return;
	evbuffer_add(r->out, "<div class=\"unit\" data-unit=\"", 29);
	paper_html_text(r->out, report_str(node, "id", ""));
	evbuffer_add_printf(r->out, "\" data-depth=\"%d\"><h3>", depth);
	paper_html_text(r->out, report_str(node, "name", ""));
	evbuffer_add(r->out, " (", 2);
	paper_html_text(r->out, report_str(node, "id", ""));
	evbuffer_add(r->out, ")</h3>", 6);
	report_html_imported(r, o);
	report_html_table(r, o);
	evbuffer_add(r->out, "</div>", 6);
}

/* One coverage list as "<p>label:</p><ul>...</ul>", if not empty. */
static void
report_html_ids(
    struct report *r, const char *cls, const char *label, const json_t *ids)
{
	const json_t *v,
	    *last = json_object_get(
	        json_object_get(r->doc, "coverage"), "last_report");
	size_t i;

	if (json_array_size(ids) == 0)
		return;
	evbuffer_add_printf(r->out, "<p>%s:</p><ul class=\"%s\">", label, cls);
	json_array_foreach(ids, i, v)
	{
		const char *id = json_string_value(v), *name, *when;

		if (id == NULL)
			continue;
		paper_html_el(r->out, "<li>", id, "");
		if ((name = report_name_of(r, id)) != NULL)
			paper_html_el(r->out, " ", name, "");
		when = json_string_value(json_object_get(last, id));
		if (when != NULL)
			paper_html_el(r->out, " (", when, ")");
		evbuffer_add(r->out, "</li>", 5);
	}
	evbuffer_add(r->out, "</ul>", 5);
}

static void
report_html_coverage(struct report *r)
{
	const struct report_text *tx = r->tx;
	const json_t *cov = json_object_get(r->doc, "coverage");
	const json_t *dl = json_object_get(r->doc, "deadline");

	evbuffer_add_printf(
	    r->out, "<section class=\"cover\"><h2>%s</h2>", tx->coverage);
	if (json_is_object(cov)) {
		evbuffer_add(r->out, "<p class=\"reported\">", 20);
		evbuffer_add_printf(r->out, tx->reported,
		    (long long)json_integer_value(
		        json_object_get(cov, "reported")),
		    (long long)json_integer_value(
		        json_object_get(cov, "units")));
		evbuffer_add(r->out, "</p>", 4);
		report_html_ids(
		    r, "missing", tx->missing, json_object_get(cov, "missing"));
		report_html_ids(r, "no_denominators", tx->no_den,
		    json_object_get(cov, "no_denominators"));
		report_html_ids(
		    r, "down", tx->down, json_object_get(cov, "down"));
		report_html_ids(
		    r, "stale", tx->stale, json_object_get(cov, "stale"));
		report_html_ids(r, "never_reported", tx->never,
		    json_object_get(cov, "never_reported"));
		report_html_ids(r, "imported", tx->imported,
		    json_object_get(cov, "imported"));
	}
	if (json_is_object(dl) && json_is_string(json_object_get(dl, "date"))) {
		evbuffer_add_printf(
		    r->out, "<p class=\"deadline\">%s: ", tx->deadline);
		paper_html_text(r->out, report_str(dl, "date", ""));
		if (json_is_true(json_object_get(dl, "late")))
			evbuffer_add_printf(r->out, " (%s)", tx->late);
		else if (json_is_integer(json_object_get(dl, "days_left"))) {
			evbuffer_add(r->out, " (", 2);
			evbuffer_add_printf(r->out, tx->days_left,
			    (long long)json_integer_value(
			        json_object_get(dl, "days_left")));
			evbuffer_add(r->out, ")", 1);
		}
		evbuffer_add(r->out, "</p>", 4);
	}
	evbuffer_add_printf(r->out, "<p class=\"as-of\">%s ", tx->as_of);
	paper_html_text(r->out, report_str(r->doc, "as_of", ""));
	evbuffer_add(r->out, "</p>", 4);
}

/*
 * The printable report: the national header beside the unit's name, the
 * place and date, the title, this node's table; the units below (a new
 * page); the coverage and the signature block (a new page).
 */
static void
report_html(struct report *r)
{
	const struct report_text *tx = r->tx;
	const json_t *node = json_object_get(r->doc, "node");
	const char *name = report_str(node, "name", "");
	char date[WIRE_MAX_NAME + 64];
	long long year = json_integer_value(json_object_get(r->doc, "year"));

	paper_place_date(
	    date, sizeof(date), r->lang == REPORT_VI, name, r->y, r->m, r->d);
	evbuffer_add_printf(r->out,
	    "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<title>",
	    tx->html_lang);
	paper_html_text(r->out, name);
	evbuffer_add_printf(r->out,
	    " - %s %lld</title><style>%s</style>"
	    "</head><body>",
	    tx->of_year, year, report_css);
	evbuffer_add(
	    r->out, "<div class=\"head\"><div class=\"issuer\"><b>", 41);
	paper_html_text(r->out, name);
	evbuffer_add_printf(r->out,
	    "</b></div><div class=\"national\"><b>%s</b><b class=\"motto\">%s"
	    "</b></div></div><p class=\"date\">",
	    tx->country, tx->motto);
	paper_html_text(r->out, date);
	evbuffer_add_printf(r->out,
	    "</p><h1>%s</h1><p class=\"sub\">%s %lld</p>"
	    "<section class=\"summary\">",
	    tx->title, tx->of_year, year);
	evbuffer_add(r->out, "<div class=\"unit\" data-unit=\"", 29);
	paper_html_text(r->out, report_str(node, "id", ""));
	evbuffer_add(r->out, "\" data-depth=\"0\"><h2>", 21);
	paper_html_text(r->out, name);
	evbuffer_add(r->out, " (", 2);
	paper_html_text(r->out, report_str(node, "id", ""));
	evbuffer_add_printf(r->out, ", %s)</h2>",
	    report_level(r, report_str(node, "level", "")));
	report_html_imported(r, r->doc);
	report_html_table(r, r->doc);
	evbuffer_add(r->out, "</div></section>", 16);
	if (json_array_size(json_object_get(r->doc, "children")) > 0) {
		evbuffer_add_printf(
		    r->out, "<section class=\"below\"><h2>%s</h2>", tx->below);
		report_walk(r, r->doc, 0, report_html_unit);
		evbuffer_add(r->out, "</section>", 10);
	}
	report_html_coverage(r);
	evbuffer_add(r->out, "<p class=\"date\">", 16);
	paper_html_text(r->out, date);
	evbuffer_add_printf(r->out,
	    "</p><div class=\"sign\"><div class=\"prepared\"><b>%s</b>"
	    "<i>%s</i></div><div class=\"head-of-unit\"><b>%s</b><i>%s</i>"
	    "</div></div></section></body></html>\n",
	    tx->prepared, tx->prepared_note, tx->head, tx->head_note);
}

/* -- the handler ---------------------------------------------------------- */

void
api_report(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	static const char *const ctypes[] = {"text/html; charset=utf-8",
	    "text/csv; charset=utf-8", "application/json; charset=utf-8"};
	const char *fs, *ls;
	time_t now = time(NULL);
	struct report r = {.lang = REPORT_VI};
	struct store_txn *t;
	int year, depth = 1, format = 0, rc = 0;
	json_t *doc;

	if (api_query_view_year_depth(h, req, &year, &depth) != 0)
		return;
	api_query_flag(req, "format", &fs);
	if (fs == NULL || strcmp(fs, "html") == 0)
		format = 0;
	else if (strcmp(fs, "csv") == 0)
		format = 1;
	else if (strcmp(fs, "json") == 0)
		format = 2;
	else {
		api_send_error(req, 400, "invalid_field", "format",
		    "format must be html, csv or json");
		return;
	}
	api_query_flag(req, "lang", &ls);
	if (ls != NULL && strcmp(ls, "en") == 0)
		r.lang = REPORT_EN;
	else if (ls != NULL && strcmp(ls, "vi") != 0) {
		api_send_error(
		    req, 400, "invalid_field", "lang", "lang must be vi or en");
		return;
	}
	if ((t = store_begin(h->st, 0)) == NULL) {
		api_send_store_error(req, STORE_EIO);
		return;
	}
	doc = views_progress(t, h->c, year, depth, NULL, (int64_t)now, h->link,
	    h->link_arg, &rc);
	store_abort(&t);
	if (doc == NULL) {
		api_send_store_error(req, rc ? rc : STORE_EIO);
		return;
	}
	/* the report's date in the node's time zone ([programme] timezone) */
	paper_today(h->c->utc_offset_min, &r.y, &r.m, &r.d);
	r.doc = doc;
	r.tx = &report_text[r.lang];
	r.out = evhttp_request_get_output_buffer(req);
	if (format == 0)
		report_html(&r);
	else if (format == 1)
		report_csv(&r);
	else
		rc = report_json(&r, doc);
	json_decref(doc);
	if (rc != 0) {
		evbuffer_drain(r.out, evbuffer_get_length(r.out));
		api_send_error(req, 500, "internal", NULL, "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ctypes[format]);
	if (format == 1)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Disposition",
		    "attachment; filename=\"bao-cao-cdht.csv\"");
	evhttp_send_reply(req, 200, "OK", NULL);
}
