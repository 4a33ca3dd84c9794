"""Lists of names (GET /v1/lists/{year}): on a commune in each recognition
mode, a random set of assessments over six years (some pass, some do not,
every group; some persons pass every year and become outstanding) and
title records of every kind, with decisions recorded in decision mode.
Every list (each status, group, kind; JSON, CSV and HTML; vi and en) is
compared with a model computed here from the inputs: the scoring rule
(total >= 80, every score >= 5), recognition (score mode: passing; decision
mode: passing and listed by a decision), outstanding (recognised this year
and each of the four before).  The CSV is parsed with the csv module after
its BOM; the HTML is checked for its rows, their order and the parts of an
official A4 list.  Roles: inspector and clerk read, viewer gets 403."""

import csv
import html
import io
import random
import re
import urllib.parse

from cdhttest import gen
from cdhttest.case import NodeTestCase, main
from cdhttest.model import GROUPS, score
from cdhttest.node import new_token, token_hash

YEARS = range(2021, 2027)
LIST_YEARS = (2025, 2026)
KINDS = ("family", "clan", "community", "unit")
STATUSES = ("assessed", "eligible", "recognized", "outstanding")
RANK = {s: i for i, s in enumerate(STATUSES)}
MARKUP_NAME = "Lò Văn <b>Ánh</b> & \"Em\""

# The words of the CSV and the HTML (api_lists.c's tables)
VI = {
    "people_header": ["STT", "Mã định danh", "Họ và tên", "Năm sinh",
                      "Nhóm", "Đối tượng", "Tổng điểm", "Trạng thái",
                      "Số quyết định"],
    "title_header": ["STT", "Mã định danh", "Tên", None, "Trạng thái",
                     "Số quyết định"],
    "members": {"family": "Số người lớn", "clan": "Số người lớn",
                "community": "Số người lớn", "unit": "Số CB, CC, VC, NLĐ"},
    "status": {"assessed": "Đã đánh giá", "eligible": "Đủ điều kiện",
               "recognized": "Được công nhận",
               "outstanding": "5 năm liên tục"},
    "group": {"farmer": "Nông dân", "worker": "Công nhân",
              "official": "Công chức, viên chức", "business": "Doanh nhân",
              "manager": "Cán bộ quản lý"},
    "population": {"adult": "Người lớn", "staff": "CB, CC, VC, NLĐ"},
}
EN = {
    "people_header": ["No.", "ID", "Full name", "Year of birth", "Group",
                      "Population", "Total score", "Status", "Decision no."],
    "title_header": ["No.", "ID", "Name", None, "Status", "Decision no."],
    "members": {"family": "Adults", "clan": "Adults", "community": "Adults",
                "unit": "Staff"},
    "status": {"assessed": "Assessed", "eligible": "Eligible",
               "recognized": "Recognised", "outstanding": "Outstanding"},
    "group": {"farmer": "Farmers", "worker": "Workers",
              "official": "Officials", "business": "Business people",
              "manager": "Managers"},
    "population": {"adult": "Adult", "staff": "Staff"},
}
VI_TITLES = {
    "assessed": "DANH SÁCH CÔNG DÂN ĐƯỢC ĐÁNH GIÁ THEO TIÊU CHÍ "
                "“CÔNG DÂN HỌC TẬP” NĂM %d",
    "eligible": "DANH SÁCH CÔNG DÂN ĐỦ ĐIỀU KIỆN CÔNG NHẬN "
                "“CÔNG DÂN HỌC TẬP” NĂM %d",
    "recognized": "DANH SÁCH CÔNG DÂN ĐƯỢC CÔNG NHẬN “CÔNG DÂN HỌC TẬP” "
                  "NĂM %d",
}
VI_KIND_TITLE = {"family": ("GIA ĐÌNH", "GIA ĐÌNH HỌC TẬP"),
                 "clan": ("DÒNG HỌ", "DÒNG HỌ HỌC TẬP"),
                 "community": ("CỘNG ĐỒNG", "CỘNG ĐỒNG HỌC TẬP"),
                 "unit": ("ĐƠN VỊ", "ĐƠN VỊ HỌC TẬP")}


def byte_order(ids):
    return sorted(ids, key=lambda s: s.encode("utf-8"))


class ListModel:
    """What a node's lists must hold, from what was sent to it."""

    def __init__(self, decision_mode):
        self.decision_mode = decision_mode
        self.people = {}   # (year, pid) -> assessment
        self.titles = {}   # (year, kind, id) -> title object
        self.decided = {}  # (year, "citizen"|kind, id) -> decision number

    def eligible(self, year, pid):
        a = self.people.get((year, pid))
        return a is not None and score(a["scores"])[1]

    def recognized(self, year, pid):
        if not self.eligible(year, pid):
            return False
        return (not self.decision_mode
                or (year, "citizen", pid) in self.decided)

    def outstanding(self, year, pid):
        return all(self.recognized(y, pid) for y in range(year - 4, year + 1))

    def person_row(self, year, pid):
        a = self.people[(year, pid)]
        el, rec, out = (self.eligible(year, pid), self.recognized(year, pid),
                        self.outstanding(year, pid))
        st = ("outstanding" if out else "recognized" if rec
              else "eligible" if el else "assessed")
        return {"person_id": pid, "name": a.get("name"),
                "birth_year": a.get("birth_year"), "group": a["group"],
                "population": a["population"],
                "total": score(a["scores"])[0], "status": st,
                "eligible": el, "recognized": rec, "outstanding": out,
                "decision": self.decided.get((year, "citizen", pid))}

    def title_row(self, year, kind, tid):
        t = self.titles[(year, kind, tid)]
        el = t["recognized"]
        dec = self.decided.get((year, kind, tid))
        rec = el and (not self.decision_mode or dec is not None)
        members = t.get("staff" if kind == "unit" else "adults")
        return {"kind": kind, "id": tid, "name": t.get("name"),
                "members": members,
                "status": "recognized" if rec else
                          "eligible" if el else "assessed",
                "eligible": el, "recognized": rec, "decision": dec}

    def people_list(self, year, status, group=None):
        rows = []
        for pid in byte_order(p for (y, p) in self.people if y == year):
            r = self.person_row(year, pid)
            if RANK[r["status"]] < RANK[status]:
                continue
            if group is not None and r["group"] != group:
                continue
            rows.append(r)
        for i, r in enumerate(rows):
            r["no"] = i + 1
        return rows

    def title_list(self, year, kind, status):
        rows = []
        for tid in byte_order(i for (y, k, i) in self.titles
                              if y == year and k == kind):
            r = self.title_row(year, kind, tid)
            if RANK[r["status"]] >= RANK[status]:
                rows.append(r)
        for i, r in enumerate(rows):
            r["no"] = i + 1
        return rows


def random_titles(rng, year):
    out = []
    for kind in KINDS:
        for i in range(rng.randint(0, 9)):
            tid = rng.choice(["%s-%03d" % (kind[:3].upper(), i),
                              "Bản Nà, số %d" % i, "Tổ \"%d\"" % i])
            if any(t["id"] == tid and t["kind"] == kind for t in out):
                continue
            t = {"year": year, "kind": kind, "id": tid,
                 "recognized": rng.random() < 0.6}
            if rng.random() < 0.8:
                t["name"] = rng.choice(["Hộ ông Lò Văn A", "Họ Cầm",
                                        "Thôn <Bản> & Mường", "Trường TH"])
            if rng.random() < 0.7:
                t["staff" if kind == "unit" else "adults"] = rng.randint(0, 60)
            out.append(t)
    return out


class ListsTest(NodeTestCase):
    @classmethod
    def make(cls, decision_mode, seed):
        n = cls.make_class_node(start=False)
        if "inspector" not in n.tokens:
            n.tokens["inspector"] = new_token()
            with open(n.tokens_path, "a") as f:
                f.write("inspector %s inspector-test\n"
                        % token_hash(n.tokens["inspector"]))
        if decision_mode:
            n.conf_fn = lambda port: (n.conf_text()
                                      + "[programme]\nrecognition = decision\n")
        n.start()
        m = ListModel(decision_mode)
        rng = random.Random(seed)
        items = gen.assessments(rng, 90, YEARS, prefix="P",
                                star_share=0.3)
        # a name that HTML must escape, in every year of a person
        for a in items:
            if a["person_id"] == items[0]["person_id"]:
                a["name"] = MARKUP_NAME
        for i in range(0, len(items), 400):
            r = n.post(items[i:i + 400])
            assert r.status == 200 and r.json["rejected"] == 0, r
        for a in items:
            m.people[(a["year"], a["person_id"])] = a
        titles = [t for y in LIST_YEARS for t in random_titles(rng, y)]
        r = n.request("POST", "/v1/titles", titles, role="clerk")
        assert r.status == 200 and r.json["rejected"] == 0, r
        for t in titles:
            m.titles[(t["year"], t["kind"], t["id"])] = t
        if decision_mode:
            cls.decide(n, m, rng)
        return n, m

    @classmethod
    def decide(cls, n, m, rng):
        """Decisions, year by year: most eligible persons and titles, in
        two decisions a year; the rest stay eligible only."""
        for y in YEARS:
            pids = [p for (yy, p) in m.people
                    if yy == y and m.eligible(y, p) and rng.random() < 0.85]
            rng.shuffle(pids)
            half = len(pids) // 2
            for k, part in enumerate((pids[:half], pids[half:])):
                if not part:
                    continue
                num = "%d/QĐ-UBND-%d" % (40 + k, y)
                r = n.request("POST", "/v1/decisions", {
                    "year": y, "number": num, "date": "%d-11-20" % y,
                    "authority": "UBND xã Chiềng Sung", "title": "citizen",
                    "person_ids": part}, role="clerk")
                assert r.status == 201, r
                for p in part:
                    m.decided[(y, "citizen", p)] = num
            for kind in KINDS:
                ids = [i for (yy, k, i), t in m.titles.items()
                       if yy == y and k == kind and t["recognized"]
                       and rng.random() < 0.7]
                if not ids:
                    continue
                num = "%d/QĐ-UBND-%s" % (y, kind)
                r = n.request("POST", "/v1/decisions", {
                    "year": y, "number": num, "date": "%d-11-21" % y,
                    "authority": "UBND xã Chiềng Sung", "title": kind,
                    "ids": ids}, role="clerk")
                assert r.status == 201, r
                for i in ids:
                    m.decided[(y, kind, i)] = num

    @classmethod
    def setUpClass(cls):
        cls.nodes = [cls.make(False, 91), cls.make(True, 92)]

    # -- helpers ----------------------------------------------------------
    def get(self, n, year, role="inspector", **q):
        path = "/v1/lists/%s" % year
        if q:
            path += "?" + urllib.parse.urlencode(q)
        return n.request("GET", path, role=role)

    def get_ok(self, n, year, **q):
        r = self.get(n, year, **q)
        self.assertEqual(r.status, 200, "%s: %r" % (q, r))
        return r

    def each_list(self):
        """(node, model, year, query, expected rows) of every list."""
        for n, m in self.nodes:
            for y in LIST_YEARS:
                for st in STATUSES:
                    for g in (None,) + GROUPS:
                        q = {"status": st}
                        if g:
                            q["group"] = g
                        yield n, m, y, q, m.people_list(y, st, g)
                for kind in KINDS:
                    for st in STATUSES[:3]:
                        yield (n, m, y, {"status": st, "kind": kind},
                               m.title_list(y, kind, st))

    # -- the model is not trivial ------------------------------------------
    def test_model_has_every_case(self):
        for n, m in self.nodes:
            y = 2026
            rows = m.people_list(y, "assessed")
            st = {r["status"] for r in rows}
            want = {"assessed", "recognized", "outstanding"}
            if m.decision_mode:
                want.add("eligible")
            self.assertTrue(want <= st, (m.decision_mode, st))
            self.assertEqual({r["group"] for r in rows}, set(GROUPS))
            for kind in KINDS:
                self.assertTrue(m.title_list(y, kind, "assessed")
                                or m.title_list(2025, kind, "assessed"))

    # -- JSON ---------------------------------------------------------------
    def test_json_equals_model(self):
        for n, m, y, q, rows in self.each_list():
            doc = self.get_ok(n, y, format="json", **q).json
            kind = q.get("kind", "citizen")
            what = "%s %d %r" % (m.decision_mode, y, q)
            self.assertEqual(doc["year"], y, what)
            self.assertEqual(doc["node"], n.info, what)
            self.assertEqual(doc["kind"], kind, what)
            self.assertEqual(doc["status"], q["status"], what)
            self.assertEqual(doc["group"], q.get("group"), what)
            self.assertEqual(doc["count"], len(rows), what)
            self.assertEqual(doc["items"], rows, what)

    def test_json_is_default_and_status_defaults_to_assessed(self):
        n, m = self.nodes[1]
        r = self.get_ok(n, 2026)
        self.assertTrue(r.headers["content-type"].startswith(
            "application/json"), r.headers)
        self.assertEqual(r.json["status"], "assessed")
        self.assertEqual(r.json["items"], m.people_list(2026, "assessed"))

    def test_empty_year(self):
        n, m = self.nodes[0]
        doc = self.get_ok(n, 2030).json
        self.assertEqual((doc["count"], doc["items"]), (0, []))
        body = self.get_ok(n, 2030, format="csv").body
        self.assertEqual(body, ("\ufeff" + ",".join(VI["people_header"])
                                + "\r\n").encode("utf-8"))
        page = self.get_ok(n, 2030, format="html").body.decode("utf-8")
        self.assertNotIn("data-id=", page)
        self.assertIn("Tổng số: 0", page)

    # -- CSV ----------------------------------------------------------------
    def csv_rows(self, body):
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), body[:10])
        text = body[3:].decode("utf-8")
        self.assertTrue(text.endswith("\r\n"))
        self.assertNotIn("\n", text.replace("\r\n", ""), "bare LF")
        return list(csv.reader(io.StringIO(text, newline="")))

    def expected_csv(self, words, q, rows):
        kind = q.get("kind")
        if kind is None:
            head = list(words["people_header"])
            body = [[str(r["no"]), r["person_id"], r["name"] or "",
                     "" if r["birth_year"] is None else str(r["birth_year"]),
                     words["group"][r["group"]],
                     words["population"][r["population"]], str(r["total"]),
                     words["status"][r["status"]], r["decision"] or ""]
                    for r in rows]
        else:
            head = list(words["title_header"])
            head[3] = words["members"][kind]
            body = [[str(r["no"]), r["id"], r["name"] or "",
                     "" if r["members"] is None else str(r["members"]),
                     words["status"][r["status"]], r["decision"] or ""]
                    for r in rows]
        return [head] + body

    def test_csv_equals_model(self):
        for n, m, y, q, rows in self.each_list():
            r = self.get_ok(n, y, format="csv", **q)
            self.assertTrue(r.headers["content-type"].startswith("text/csv"))
            self.assertIn("attachment", r.headers["content-disposition"])
            got = self.csv_rows(r.body)
            self.assertEqual(got, self.expected_csv(VI, q, rows),
                             "%s %d %r" % (m.decision_mode, y, q))

    def test_csv_english(self):
        n, m = self.nodes[1]
        for q in ({"status": "eligible"},
                  {"status": "recognized", "kind": "unit"}):
            rows = (m.title_list(2026, q["kind"], q["status"]) if "kind" in q
                    else m.people_list(2026, q["status"]))
            got = self.csv_rows(self.get_ok(n, 2026, format="csv", lang="en",
                                            **q).body)
            self.assertEqual(got, self.expected_csv(EN, q, rows), q)

    # -- HTML ---------------------------------------------------------------
    def html_ids(self, page):
        return [html.unescape(s) for s in re.findall(r'<tr data-id="([^"]*)">',
                                                     page)]

    def test_html_rows_equal_model(self):
        for n, m, y, q, rows in self.each_list():
            page = self.get_ok(n, y, format="html", **q).body.decode("utf-8")
            what = "%s %d %r" % (m.decision_mode, y, q)
            key = "id" if "kind" in q else "person_id"
            self.assertEqual(self.html_ids(page), [r[key] for r in rows],
                             what)
            # numbered rows: the first cell of each is its STT
            nos = re.findall(r'<tr data-id="[^"]*"><td class="n">(\d+)</td>',
                             page)
            self.assertEqual(nos, [str(i + 1) for i in range(len(rows))],
                             what)
            self.assertIn("<p class=\"count\">Tổng số: %d</p>" % len(rows),
                          page, what)
            if "kind" in q:
                noun, name = VI_KIND_TITLE[q["kind"]]
                self.assertIn("DANH SÁCH %s " % noun, page, what)
                self.assertIn("“%s” NĂM %d" % (name, y), page, what)
            elif q["status"] == "outstanding":
                self.assertIn("DANH SÁCH CÔNG DÂN ĐẠT DANH HIỆU “CÔNG DÂN "
                              "HỌC TẬP” 5 NĂM LIÊN TỤC (%d - %d)"
                              % (y - 4, y), page, what)
            else:
                self.assertIn(VI_TITLES[q["status"]] % y, page, what)
            if q.get("group"):
                self.assertIn("Nhóm đối tượng: %s"
                              % VI["group"][q["group"]], page, what)

    def test_html_is_an_official_a4_list(self):
        n, m = self.nodes[0]
        page = self.get_ok(n, 2026, format="html",
                           status="eligible").body.decode("utf-8")
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertIn('<html lang="vi">', page)
        self.assertRegex(page, r"@page\{size:A4")
        for s in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  "Độc lập - Tự do - Hạnh phúc", "Xã Chiềng Sung",
                  "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ",
                  "DANH SÁCH CÔNG DÂN ĐỦ ĐIỀU KIỆN CÔNG NHẬN "
                  "“CÔNG DÂN HỌC TẬP” NĂM 2026"):
            self.assertIn(s, page)
        self.assertRegex(page, r"Chiềng Sung, ngày \d\d tháng \d\d năm "
                               r"20\d\d")
        for h in VI["people_header"]:
            self.assertIn("<th>%s</th>" % html.escape(h, quote=True), page)
        # the names that need escaping are escaped, never raw markup
        y = min(y for (y, p), a in m.people.items()
                if a.get("name") == MARKUP_NAME)
        page = self.get_ok(n, y, format="html").body.decode("utf-8")
        self.assertNotIn("<b>Ánh</b>", page)
        self.assertIn("<td>Lò Văn &lt;b&gt;Ánh&lt;/b&gt; &amp; &quot;Em&quot;"
                      "</td>", page)
        en = self.get_ok(n, 2026, format="html", status="recognized",
                         lang="en").body.decode("utf-8")
        self.assertIn('<html lang="en">', en)
        self.assertIn("LIST OF CITIZENS RECOGNISED AS “LEARNING CITIZEN”, "
                      "2026", en)
        self.assertIn("HEAD OF UNIT", en)
        self.assertEqual(self.html_ids(en),
                         [r["person_id"]
                          for r in m.people_list(2026, "recognized")])

    # -- errors and roles ----------------------------------------------------
    def test_bad_parameters(self):
        n, _ = self.nodes[0]
        cases = [
            ("2020", {}, "year"), ("2031", {}, "year"), ("x", {}, "year"),
            ("", {}, "year"), ("2026/1", {}, "year"),
            ("2026", {"status": "passed"}, "status"),
            ("2026", {"status": ""}, "status"),
            ("2026", {"group": "farmers"}, "group"),
            ("2026", {"kind": "citizen"}, "kind"),
            ("2026", {"kind": "village"}, "kind"),
            ("2026", {"format": "xlsx"}, "format"),
            ("2026", {"lang": "fr"}, "lang"),
            ("2026", {"kind": "family", "status": "outstanding"}, "status"),
            ("2026", {"kind": "unit", "group": "worker"}, "group"),
            ("2026", {"sort": "name"}, "sort"),
        ]
        for year, q, field in cases:
            r = self.get(n, year, **q)
            self.assertError(r, 400, "invalid_field", field,
                             what="%s %r" % (year, q))
        r = n.request("GET", "/v1/lists/2026?status=eligible&status=assessed",
                      role="inspector")
        self.assertError(r, 400, "invalid_field", "status")

    def test_roles(self):
        n, m = self.nodes[0]
        want = m.people_list(2026, "recognized")
        for role in ("inspector", "clerk", "admin"):
            r = self.get(n, 2026, role=role, status="recognized")
            self.assertEqual(r.status, 200, "%s: %r" % (role, r))
            self.assertEqual(r.json["items"], want)
        self.assertError(self.get(n, 2026, role="viewer"), 403, "forbidden")
        self.assertError(self.get(n, 2026, role=None), 401, "unauthorized")
        r = n.request("POST", "/v1/lists/2026", {}, role="admin")
        self.assertError(r, 405)


if __name__ == "__main__":
    main()
