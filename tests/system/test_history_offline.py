"""Offline units (issue 10, SPEC10 H1 "Bulk CSV"): units that will never
run a node, whose imported results their parent enters by CSV (POST
/v1/history, text/csv, one row per unit and year).  Real daemons over
CURVE: a national root, a province, one live commune under it; the
province imports 3 offline units x 3 years (random but consistent
numbers, random subsets of the columns, empty cells = not given):

  - the province's progress and the national root's equal an independent
    model (the sum over the live commune's own imported years and the
    offline rows as written in the CSV); coverage.imported names them;
  - drill-down at the province lists them as its children, level as
    given, marked "offline": true; /v1/nodes too;
  - bad lines are named by line and field (this node, a configured child,
    a unit held via a child, consistency rules, level, year, numbers,
    repeats) while the good lines are stored; GET ?unit shows one; a
    later row replaces a year; DELETE ?unit removes one year, upward too;
  - a restart keeps them, a reload that changes the children does not
    drop them; cdht history import reports bad lines by line.
"""

import os
import random
import zmq

from cdhttest.case import main
from cdhttest.hier import HierTestCase, wait_for
from cdhttest.model import DEFAULT_TARGETS, INDICATORS, needed

# the same helpers as test_history (its model of an imported year); the
# module, not its names, so that its test class is not run here
import test_history as th

IND_COUNTERS, counters_of = th.IND_COUNTERS, th.counters_of
percent = th.percent


def random_body(rng, year):
    """A consistent entry with a random subset of the indicators (some
    denominators 0; digital's is the recognised, proficient's digital's
    numerator)."""
    assessed = rng.randint(0, 5000)
    recognized = rng.randint(0, assessed)
    outstanding = rng.choice([0, rng.randint(0, recognized)])
    inds = {}
    for name in INDICATORS:
        if rng.random() < 0.3:
            continue
        if name == "digital":
            den = recognized
        elif name == "proficient":
            den = inds["digital"]["numerator"] if "digital" in inds \
                else rng.randint(0, recognized)
        else:
            den = 0 if rng.random() < 0.1 else rng.randint(0, 4000)
        inds[name] = {"numerator": rng.randint(0, den), "denominator": den}
    return {"source": "Báo cáo năm %d, \"bảng tổng hợp\"" % year,
            "indicators": inds,
            "counts": {"assessed": assessed, "recognized": recognized,
                       "outstanding": outstanding}}

SPEC = [
    ("VN", "national", "Việt Nam", None),
    ("14", "province", "Tỉnh Sơn La", "VN"),
    ("03646", "commune", "Phường Chiềng Lề", "14"),
]
N, P, A = "VN", "14", "03646"
YEARS = (2021, 2022, 2023)
OFFLINE = {  # id -> (name, level as given)
    "03650": ("Xã Chiềng Ngần", "commune"),
    "03652": ("Xã Hua La, nơi có dấu phẩy", "commune"),
    "SOGD": ("Sở Giáo dục và Đào tạo", "agency"),
}
COLUMNS = ("unit_id,unit_name,level,year,source,assessed,recognized,"
           "outstanding," + ",".join("%s_num,%s_den" % (i, i)
                                     for i in INDICATORS)).split(",")


def csv_cell(v):
    s = "" if v is None else str(v)
    if any(ch in s for ch in ',"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def csv_row(unit, year, body, cols=COLUMNS):
    """The CSV row of an offline unit's year (body: a PUT body)."""
    name, level = OFFLINE.get(unit, ("Đơn vị %s" % unit, "commune"))
    cells = {"unit_id": unit, "unit_name": name, "level": level,
             "year": year, "source": body["source"]}
    for k, v in body["counts"].items():
        cells[k] = v
    for i, f in body["indicators"].items():
        cells[i + "_num"] = f["numerator"]
        cells[i + "_den"] = f["denominator"]
    # outstanding 0 may be written as an empty cell: not given = 0
    if cells.get("outstanding") == 0:
        cells["outstanding"] = None
    return ",".join(csv_cell(cells.get(c)) for c in cols)


def expected(bodies):
    """Progress of a sum of units: {indicators, counts}."""
    tot = {}
    for b in bodies:
        for k, v in counters_of(b).items():
            tot[k] = tot.get(k, 0) + v
    g = lambda k: tot.get(k, 0)
    inds = {}
    for name in INDICATORS:
        num, den = (g(k) for k in IND_COUNTERS[name])
        t25, t30 = DEFAULT_TARGETS[name]
        n25, n30 = needed(t25, num, den), needed(t30, num, den)
        inds[name] = {"numerator": num, "denominator": den,
                      "percent": percent(num, den),
                      "needed": {"2025": n25, "2030": n30}}
    counts = {k: g(k) for k in ("assessed", "recognized", "eligible",
                                "outstanding", "imported")}
    counts["units_with_denominators"] = g("den_set")
    return {"indicators": inds, "counts": counts}


def diff(doc, exp):
    bad = []
    for name, e in exp["indicators"].items():
        got = doc["indicators"][name]
        for k in ("numerator", "denominator", "needed"):
            if got.get(k) != e[k]:
                bad.append("%s.%s: got %r want %r" % (name, k, got.get(k),
                                                      e[k]))
        gp, ep = got.get("percent"), e["percent"]
        if (gp is None) != (ep is None) or (ep is not None
                                            and abs(gp - ep) > 1e-9):
            bad.append("%s.percent: got %r want %r" % (name, gp, ep))
    for k, v in exp["counts"].items():
        if doc["counts"].get(k) != v:
            bad.append("counts.%s: got %r want %r"
                       % (k, doc["counts"].get(k), v))
    return bad


class HistoryOffline(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = cls.class_tree(SPEC)
        cls.start_all([cls.nodes[i] for i, *_ in reversed(SPEC)])
        rng = random.Random(1011)
        cls.bodies = {}   # (unit, year) -> body as entered
        for y in YEARS:
            cls.bodies[(A, y)] = random_body(rng, y)
            r = cls.nodes[A].request("PUT", "/v1/history/%d" % y,
                                     cls.bodies[(A, y)])
            assert r.status == 200, r
        rows = []
        for u in sorted(OFFLINE):
            for y in YEARS:
                cls.bodies[(u, y)] = random_body(rng, y)
                rows.append(csv_row(u, y, cls.bodies[(u, y)]))
        rng.shuffle(rows)
        cls.first = cls.nodes[P].request(
            "POST", "/v1/history", ",".join(COLUMNS) + "\r\n" +
            "\r\n".join(rows) + "\r\n", content_type="text/csv")

    # -- helpers ---------------------------------------------------------
    def post_csv(self, node, text, role="admin"):
        return self.nodes[node].request("POST", "/v1/history", text,
                                        role=role, content_type="text/csv")

    def units_of(self, node_id, year):
        return sorted(u for (u, y) in self.bodies if y == year)

    def check_node(self, node_id, year):
        doc = self.nodes[node_id].progress_doc(year, depth=1)
        units = self.units_of(node_id, year)
        bad = diff(doc, expected([self.bodies[(u, year)] for u in units]))
        cov = sorted(doc["coverage"].get("imported", ["<absent>"]))
        if cov != units:
            bad.append("coverage.imported: got %r want %r" % (cov, units))
        return bad

    def assertModel(self, node_id, years=YEARS, timeout=20):
        last = {}

        def ok():
            last.clear()
            for y in years:
                b = self.check_node(node_id, y)
                if b:
                    last[y] = b
            return not last
        try:
            wait_for(ok, timeout, "%s to equal the model" % node_id, 0.1)
        except AssertionError:
            self.fail("%s differs from the model: %s" % (node_id, last))

    def assertBoth(self, years=YEARS):
        self.assertModel(P, years)
        self.assertModel(N, years)

    # -- the tests -------------------------------------------------------
    def test_1_import_equals_model(self):
        r = self.first
        self.assertStatus(r, 200)
        self.assertEqual((r.json["accepted"], r.json["rejected"]),
                         (len(OFFLINE) * len(YEARS), 0), r.json)
        self.assertEqual(len(r.json["results"]), len(OFFLINE) * len(YEARS))
        self.assertTrue(all(x["offline"] and not x["replaced"]
                            for x in r.json["results"]))
        self.assertBoth()

    def test_2_drill_down_and_nodes(self):
        self.assertModel(P)
        for y in YEARS:
            doc = self.nodes[P].progress_doc(y, depth=1)
            kids = {k["node"]["id"]: k for k in doc["children"]}
            self.assertEqual(sorted(kids), sorted([A] + list(OFFLINE)))
            self.assertNotIn("offline", kids[A])
            for u, (name, level) in OFFLINE.items():
                k = kids[u]
                self.assertIs(k.get("offline"), True, u)
                self.assertEqual((k["node"]["name"], k["node"]["level"]),
                                 (name, level))
                self.assertEqual(diff(k, expected([self.bodies[(u, y)]])),
                                 [], u)
            cov = doc["coverage"]
            for u in OFFLINE:
                self.assertNotIn(u, cov.get("never_reported", []))
                if (u, y) in self.bodies:
                    # known by imported results: nothing to file, never
                    # late, not a stale link
                    for lst in ("not_filed", "late", "stale"):
                        self.assertNotIn(u, cov[lst], (lst, y, cov))
        # the national root sees them below the province, level as given
        self.assertModel(N)
        doc = self.nodes[N].progress_doc(2022, depth=2)
        prov = [k for k in doc["children"] if k["node"]["id"] == P][0]
        below = {k["node"]["id"]: k["node"]["level"]
                 for k in prov["children"]}
        self.assertEqual(below, dict({A: "commune"},
                                     **{u: v[1] for u, v in OFFLINE.items()}))
        r = self.nodes[P].request("GET", "/v1/nodes", role="viewer")
        self.assertStatus(r, 200)
        listed = r.json if isinstance(r.json, list) else r.json["nodes"]
        off = {e["id"]: e for e in listed if e.get("offline")}
        self.assertEqual(sorted(off), sorted(OFFLINE))
        self.assertTrue(all(e["parent"] == P for e in off.values()))

    def test_3_bad_lines_named(self):
        hdr = ",".join(COLUMNS)
        good = self.bodies[("03650", 2021)]
        base = csv_row("03650", 2021, good).split(",")

        def row(**kw):
            cells = dict(zip(COLUMNS, [""] * len(COLUMNS)))
            cells.update(unit_id="X1", unit_name="Xã Mới", level="commune",
                         year="2024", source="Sổ 2024", assessed="10",
                         recognized="8", outstanding="2")
            cells.update({k: str(v) for k, v in kw.items()})
            return ",".join(csv_cell(cells[c]) for c in COLUMNS)
        lines = [
            hdr,
            row(unit_id=P),                                     # 2: self
            row(unit_id=A),                                     # 3: child
            row(recognized="11"),                               # 4
            row(adults_num="5", adults_den="4"),                # 5
            row(digital_num="1", digital_den="7"),              # 6
            row(level="province"),                              # 7
            row(year="2019"),                                   # 8
            row(staff_den="abc"),                               # 9
            row(unit_id="X 2"),                                 # 10
            row(source=""),                                     # 11
            row(unit_id="X9", digital_num="3", digital_den="8",
                proficient_num="1", proficient_den="2"),        # 12
            row(unit_id="X3", adults_den="40", adults_num=""),  # 13: good
            row(unit_id="X3", assessed="12"),                   # 14: repeat
        ]
        del base
        r = self.post_csv(P, "\n".join(lines) + "\n")
        self.assertStatus(r, 200)
        errs = {e["line"]: (e["code"], e["field"]) for e in r.json["errors"]}
        self.assertEqual(errs, {
            2: ("invalid_field", "unit_id"),
            3: ("invalid_field", "unit_id"),
            4: ("invalid_field", "recognized"),
            5: ("invalid_field", "adults_num"),
            6: ("invalid_field", "digital_den"),
            7: ("invalid_field", "level"),
            8: ("invalid_field", "year"),
            9: ("invalid_field", "staff_den"),
            10: ("invalid_field", "unit_id"),
            11: ("missing_field", "source"),
            12: ("invalid_field", "proficient_den"),
            14: ("duplicate_row", "unit_id"),
        }, r.json["errors"])
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (1, 12))
        self.assertEqual(r.json["results"][0]["line"], 13)
        # line 13 was stored: adults 0/40 given, outstanding 2
        g = self.nodes[P].request("GET", "/v1/history/2024?unit=X3",
                                  role="viewer")
        self.assertStatus(g, 200)
        self.assertEqual(g.json["indicators"],
                         {"adults": {"numerator": 0, "denominator": 40}})
        self.assertEqual(g.json["unit"], {"id": "X3", "name": "Xã Mới",
                                          "level": "commune"})
        self.bodies[("X3", 2024)] = {
            "source": "Sổ 2024", "indicators": {"adults": {
                "numerator": 0, "denominator": 40}},
            "counts": {"assessed": 10, "recognized": 8, "outstanding": 2}}
        self.assertBoth((2024,))
        # a unit held via a child, seen from the national root
        r = self.post_csv(N, hdr + "\n" + row(unit_id="03650") + "\n" +
                          row(unit_id=A) + "\n")
        self.assertStatus(r, 200)
        self.assertEqual([(e["line"], e["field"]) for e in r.json["errors"]],
                         [(2, "unit_id"), (3, "unit_id")])
        self.assertIn("held via child 14", r.json["errors"][0]["message"])
        # header errors, content type, roles
        self.assertError(self.post_csv(P, "unit_id,unit_name,level,year\n"),
                         400, "missing_field", "source")
        self.assertError(self.post_csv(P, hdr + ",bogus\n"), 400,
                         "unknown_field", "bogus")
        self.assertError(self.nodes[P].request(
            "POST", "/v1/history", {"x": 1}), 415, "unsupported_media_type")
        self.assertError(self.post_csv(P, hdr + "\n", role="clerk"), 403,
                         "forbidden")
        # and the rest is as it was
        self.assertBoth()

    def test_4_get_replace_delete(self):
        p = self.nodes[P]
        u = "SOGD"
        r = p.request("GET", "/v1/history/2022?unit=%s" % u, role="viewer")
        self.assertStatus(r, 200)
        body = self.bodies[(u, 2022)]
        self.assertEqual({k: r.json[k] for k in body}, body)
        self.assertIs(r.json["offline"], True)
        self.assertError(p.request("GET", "/v1/history/2024?unit=SOGD",
                                   role="viewer"), 404, "not_found")
        # a later row replaces the year
        new = random_body(random.Random(5), 2022)
        r = self.post_csv(P, ",".join(COLUMNS) + "\n" +
                          csv_row(u, 2022, new) + "\n")
        self.assertStatus(r, 200)
        self.assertIs(r.json["results"][0]["replaced"], True)
        self.bodies[(u, 2022)] = new
        self.assertBoth()
        # DELETE ?unit removes one unit's year, upward too
        r = p.request("DELETE", "/v1/history/2023?unit=03652")
        self.assertStatus(r, 200)
        del self.bodies[("03652", 2023)]
        self.assertError(p.request("DELETE", "/v1/history/2023?unit=03652"),
                         404, "not_found")
        self.assertBoth()
        # the unit stays for its other years
        kids = {k["node"]["id"] for k in
                p.progress_doc(2021, depth=1)["children"]}
        self.assertIn("03652", kids)

    def test_5_restart_and_reload_keep_them(self):
        p = self.nodes[P]
        p.restart(keep_port=True)
        self.assertBoth()
        r = p.request("GET", "/v1/history/2021?unit=03650", role="viewer")
        self.assertStatus(r, 200)
        # a reload that changes the children runs the drop of unconfigured
        # children's copies: the offline units are none of those
        pub, _ = zmq.curve_keypair()
        p.extra_children = [("03699", pub.decode(), "Xã Thêm")]
        p.rewrite_conf()
        mark = len(p.stderr_text())
        p.reload()
        wait_for(lambda: "reload: done" in p.stderr_text()[mark:], 10,
                 "the province's reload")
        self.assertBoth()
        self.assertIn("03652", {k["node"]["id"] for k in
                                p.progress_doc(2021, depth=1)["children"]})
        # a newly configured child cannot be imported as an offline unit
        r = self.post_csv(P, ",".join(COLUMNS) + "\n" +
                          csv_row("03699", 2021, self.bodies[(A, 2021)]) +
                          "\n")
        self.assertEqual(r.json["errors"][0]["field"], "unit_id")
        self.assertIn("configured child", r.json["errors"][0]["message"])
        p.extra_children = []
        p.rewrite_conf()
        mark = len(p.stderr_text())
        p.reload()
        wait_for(lambda: "reload: done" in p.stderr_text()[mark:], 10,
                 "the province's reload")
        self.assertBoth()

    def test_6_client_import(self):
        p = self.nodes[P]
        path = os.path.join(p.dir, "offline.csv")
        body = random_body(random.Random(9), 2025)
        with open(path, "w", encoding="utf-8") as f:
            f.write(",".join(COLUMNS) + "\n")
            f.write(csv_row("03650", 2025, body) + "\n")
            f.write(csv_row(P, 2025, body) + "\n")
        r = p.client("history", "import", path)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("offline.csv:3", r.stderr)
        self.assertIn("1", r.stdout)
        self.bodies[("03650", 2025)] = body
        self.assertBoth((2025,))
        r = p.client("history", "show", "--unit", "03650", "2025",
                     role="viewer")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(body["source"], r.stdout)
        r = p.client("history", "delete", "--unit", "03650", "2025")
        self.assertEqual(r.returncode, 0, r.stderr)
        del self.bodies[("03650", 2025)]
        self.assertBoth((2025,))


if __name__ == "__main__":
    main()
