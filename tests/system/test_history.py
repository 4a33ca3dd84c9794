"""Results from before the system (issue 10, SPEC10 H1), real daemons over
CURVE: a province and two communes.  Commune A imports 2020 (the
baseline) and 2021..2024, commune B imports 2021..2022, with random but
consistent numbers (random subsets of the nine indicators):

  - each commune's progress, and the province's for 2021..2024, equals an
    independent model (the sum over the units of the numbers as entered),
    indicators' percent, needed and met recomputed here; counts.imported
    and coverage.imported name the imported units; 2020 works at the
    node itself (progress, report) and travels upward (wire revision 2,
    PROTOCOL.md 8.9): the province's 2020 is A's, removed when A removes
    it;
  - conflicts: a year with records (assessments, titles) refuses PUT
    history with 409 has_records naming how many; an imported year
    refuses assessments (single and in arrays), titles and population
    with 409 history_imported; a filed year refuses PUT and DELETE with
    409 year_filed;
  - DELETE restores the year (zero, records accepted again), upward too;
  - restarts keep it all; validation errors name the field; roles;
  - cdht history set/show/delete.
"""

import json
import os
import random
from fractions import Fraction

from cdhttest.case import REC, assessment, main
from cdhttest.hier import HierTestCase, wait_for
from cdhttest.model import DEFAULT_TARGETS, INDICATORS, needed

SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Chiềng Lề", "14"),
    ("03649", "commune", "Phường Tô Hiệu", "14"),
]
A, B, P = "03646", "03649", "14"
UPWARD_YEARS = (2021, 2022, 2023, 2024)

# indicator -> (numerator counter, denominator counter), as PROTOCOL.md 5.6
IND_COUNTERS = {
    "adults": ("adult_recognized", "adults"),
    "staff": ("staff_recognized", "staff"),
    "digital": ("digital_skilled", "recognized"),
    "proficient": ("digital_proficient", "digital_skilled"),
    "trained": ("members_trained", "members_total"),
    "families": ("families_recognized", "families_total"),
    "clans": ("clans_recognized", "clans_total"),
    "communities": ("communities_recognized", "communities_total"),
    "units": ("units_recognized", "units_total"),
}


def random_body(rng, year):
    """A consistent PUT body with a random subset of the indicators."""
    assessed = rng.randint(0, 5000)
    recognized = rng.randint(0, assessed)
    outstanding = rng.randint(0, recognized)
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
            den = rng.randint(0, 4000)
        if rng.random() < 0.1:
            den = 0
        inds[name] = {"numerator": rng.randint(0, den), "denominator": den}
    return {"source": "Báo cáo năm %d của UBND (bảng tổng hợp)" % year,
            "indicators": inds,
            "counts": {"assessed": assessed, "recognized": recognized,
                       "outstanding": outstanding}}


def counters_of(body):
    """The counters an imported body stands for (the model's own rule)."""
    c = {"assessed": body["counts"]["assessed"],
         "recognized": body["counts"]["recognized"],
         "eligible": body["counts"]["recognized"],
         "outstanding": body["counts"]["outstanding"],
         "den_set": 1, "imported": 1}
    for name, f in body["indicators"].items():
        num, den = IND_COUNTERS[name]
        c[num] = f["numerator"]
        c[den] = f["denominator"]
    return c


def percent(num, den):
    """100 num / den rounded half up to 2 decimals (None when den == 0)."""
    if den == 0:
        return None
    x = Fraction(100 * 100 * num, den)  # hundredths of a percent
    return int(x + Fraction(1, 2)) / 100


def expected(bodies):
    """Progress of a sum of units: {indicators, counts} from bodies."""
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
                      "needed": {"2025": n25, "2030": n30},
                      "met": {"2025": n25 == 0 and den > 0,
                              "2030": n30 == 0 and den > 0}}
    counts = {k: g(k) for k in ("assessed", "recognized", "eligible",
                                "outstanding", "imported")}
    counts["units_with_denominators"] = g("den_set")
    return {"indicators": inds, "counts": counts}


def diff(doc, exp):
    bad = []
    for name, e in exp["indicators"].items():
        got = doc["indicators"][name]
        for k in ("numerator", "denominator", "needed", "met"):
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


class History(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = cls.class_tree(SPEC)
        cls.start_all([cls.nodes[i] for i, *_ in reversed(SPEC)])
        rng = random.Random(1010)
        cls.bodies = {}   # (unit, year) -> body as entered
        for y in (2020,) + UPWARD_YEARS:
            cls.bodies[(A, y)] = random_body(rng, y)
        for y in (2021, 2022):
            cls.bodies[(B, y)] = random_body(rng, y)
        for (u, y), body in sorted(cls.bodies.items()):
            r = cls.nodes[u].request("PUT", "/v1/history/%d" % y, body)
            assert r.status == 200, (u, y, r)

    # -- helpers ---------------------------------------------------------
    def put(self, unit, year, body, role="admin"):
        return self.nodes[unit].request("PUT", "/v1/history/%d" % year, body,
                                        role=role)

    def units_of(self, node_id, year):
        if node_id == P:
            return sorted(u for (u, y) in self.bodies if y == year)
        return [node_id] if (node_id, year) in self.bodies else []

    def check_node(self, node_id, year, depth=None):
        """Progress of node_id for year equals the model: [] or problems."""
        node = self.nodes[node_id]
        doc = node.progress_doc(year, depth=depth)
        units = self.units_of(node_id, year)
        bad = diff(doc, expected([self.bodies[(u, year)] for u in units]))
        if depth is not None:
            cov = sorted(doc["coverage"].get("imported", ["<absent>"]))
            if cov != units:
                bad.append("coverage.imported: got %r want %r"
                           % (cov, units))
        return bad

    def assertModel(self, node_id, years, depth=1, timeout=15):
        last = {}

        def ok():
            last.clear()
            for y in years:
                b = self.check_node(node_id, y, depth)
                if b:
                    last[y] = b
            return not last
        try:
            wait_for(ok, timeout, "%s to equal the model" % node_id, 0.1)
        except AssertionError:
            self.fail("%s differs from the model: %s" % (node_id, last))

    # -- the tests ---------------------------------------------------------
    def test_1_progress_equals_model(self):
        self.assertModel(A, (2020,) + UPWARD_YEARS)
        self.assertModel(B, UPWARD_YEARS)
        self.assertModel(P, (2020,) + UPWARD_YEARS)
        # drill-down: each child's figures are its own entry's
        doc = self.nodes[P].progress_doc(2022, depth=1)
        kids = {k["node"]["id"]: k for k in doc["children"]}
        for u in (A, B):
            self.assertEqual(diff(kids[u], expected([self.bodies[(u, 2022)]])),
                             [], u)
        # GET answers what was entered, marked as imported
        for (u, y), body in self.bodies.items():
            r = self.nodes[u].request("GET", "/v1/history/%d" % y,
                                      role="viewer")
            self.assertStatus(r, 200)
            got = r.json
            self.assertEqual({k: got[k] for k in body}, body)
            self.assertIs(got["imported"], True)
            self.assertEqual(got["year"], y)
        self.assertError(self.nodes[B].request(
            "GET", "/v1/history/2023", role="viewer"), 404, "not_found")

    def test_2_baseline_2020_at_the_node(self):
        a = self.nodes[A]
        self.assertEqual(self.check_node(A, 2020, depth=1), [])
        r = a.request("GET", "/v1/report?year=2020&format=json",
                      role="viewer")
        self.assertStatus(r, 200)
        self.assertEqual(diff(r.json, expected([self.bodies[(A, 2020)]])),
                         [])
        r = a.request("GET", "/v1/report?year=2020&format=html&lang=en",
                      role="viewer")
        self.assertStatus(r, 200)
        self.assertIn(b'class="imported"', r.body)
        self.assertIn(b"imported: 1 units", r.body)
        # 2020 is for imported results and their views only
        self.assertError(a.put_population(2020, {"adults": 1}), 400,
                         "invalid_field", "year")
        self.assertError(a.post(assessment(2020, "P-2020")), 400,
                         "invalid_field", "year")
        self.assertError(a.progress(2019), 400, "invalid_field", "year")
        self.assertError(self.put(A, 2019, self.bodies[(A, 2020)]), 400,
                         "invalid_field", "year")

    def test_3_conflicts(self):
        a, b = self.nodes[A], self.nodes[B]
        # history then records: every write of an imported year is refused
        self.assertError(a.post(assessment(2023, "P-1")), 409,
                         "history_imported", "year")
        r = a.post([assessment(2023, "P-1"), assessment(2025, "P-2")])
        self.assertStatus(r, 200)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (1, 1),
                         r.json)
        self.assertEqual(r.json["errors"][0]["code"], "history_imported")
        self.assertEqual(r.json["errors"][0]["index"], 0)
        self.assertError(a.put_population(2023, {"adults": 10}), 409,
                         "history_imported", "year")
        self.assertError(a.request("POST", "/v1/titles", {
            "year": 2024, "kind": "family", "id": "GD-1",
            "recognized": True}, role="clerk"), 409, "history_imported",
            "year")
        # records then history: has_records says how many
        self.assertStatus(b.post([assessment(2025, "Q-%d" % i)
                                  for i in range(3)]), 200)
        err = self.assertError(self.put(B, 2025, self.bodies[(A, 2023)]),
                               409, "has_records", "year")
        self.assertIn("3 assessment record", err["message"])
        self.assertStatus(b.request("POST", "/v1/titles", {
            "year": 2026, "kind": "clan", "id": "DH-1", "recognized": True},
            role="clerk"), 200)
        err = self.assertError(self.put(B, 2026, self.bodies[(A, 2023)]),
                               409, "has_records", "year")
        self.assertIn("1 title record", err["message"])
        self.assertError(b.request("GET", "/v1/history/2025", role="viewer"),
                         404, "not_found")
        # the imported years are as they were
        self.assertModel(A, UPWARD_YEARS)
        self.assertModel(P, UPWARD_YEARS)

    def test_4_delete_restores(self):
        a = self.nodes[A]
        body = self.bodies.pop((A, 2023))
        r = a.request("DELETE", "/v1/history/2023")
        self.assertStatus(r, 200)
        self.assertError(a.request("DELETE", "/v1/history/2023"), 404,
                         "not_found")
        self.assertModel(A, (2023,))
        self.assertModel(P, UPWARD_YEARS)   # the province without A's 2023
        doc = a.progress_doc(2023)
        self.assertEqual((doc["counts"]["imported"],
                          doc["counts"]["units_with_denominators"]), (0, 0))
        # records are accepted again; then the year cannot be imported
        self.assertStatus(a.post(assessment(2023, "P-9", scores=REC)), 200)
        self.assertError(self.put(A, 2023, body), 409, "has_records")
        self.assertStatus(a.delete(2023, "P-9"), 200)
        self.assertStatus(self.put(A, 2023, body), 200)
        self.bodies[(A, 2023)] = body
        self.assertModel(A, UPWARD_YEARS)
        self.assertModel(P, UPWARD_YEARS)

    def test_5_filed_year(self):
        a = self.nodes[A]
        r = a.request("POST", "/v1/filings/2022")
        self.assertStatus(r, 201)
        self.assertError(self.put(A, 2022, self.bodies[(A, 2021)]), 409,
                         "year_filed", "year")
        self.assertError(a.request("DELETE", "/v1/history/2022"), 409,
                         "year_filed", "year")
        self.assertStatus(a.request("DELETE", "/v1/filings/2022"), 200)
        # a full PUT replaces the year's figures
        new = random_body(random.Random(7), 2022)
        self.assertStatus(self.put(A, 2022, new), 200)
        self.bodies[(A, 2022)] = new
        self.assertModel(A, (2022,))
        self.assertModel(P, UPWARD_YEARS)

    def test_6_validation_names_the_field(self):
        base = {"source": "x", "counts": {"assessed": 10, "recognized": 8,
                                          "outstanding": 2},
                "indicators": {"digital": {"numerator": 5,
                                           "denominator": 8},
                               "proficient": {"numerator": 1,
                                              "denominator": 5}}}

        def bad(mutate, code, field):
            body = json.loads(json.dumps(base))
            mutate(body)
            self.assertError(self.put(B, 2027, body), 400, code, field,
                             what=field)
        bad(lambda b: b["indicators"].update(
            adults={"numerator": 11, "denominator": 10}),
            "invalid_field", "indicators.adults.numerator")
        bad(lambda b: b["indicators"]["digital"].update(denominator=9),
            "invalid_field", "indicators.digital.denominator")
        bad(lambda b: b["indicators"]["proficient"].update(denominator=4),
            "invalid_field", "indicators.proficient.denominator")
        bad(lambda b: b["indicators"].update(bogus={"numerator": 1,
                                                    "denominator": 1}),
            "unknown_field", "indicators.bogus")
        bad(lambda b: b["counts"].update(outstanding=9),
            "invalid_field", "counts.outstanding")
        bad(lambda b: b["counts"].update(recognized=11),
            "invalid_field", "counts.recognized")
        bad(lambda b: b["indicators"]["staff"].update(numerator=-1)
            if "staff" in b["indicators"] else b["indicators"].update(
                staff={"numerator": -1, "denominator": 3}),
            "invalid_field", "indicators.staff.numerator")
        bad(lambda b: b.pop("source"), "missing_field", "source")
        bad(lambda b: b.update(extra=1), "unknown_field", "extra")
        self.assertStatus(self.put(B, 2027, base), 200)
        self.assertStatus(self.nodes[B].request("DELETE",
                                                "/v1/history/2027"), 200)
        # roles: admin writes, a viewer reads
        for role in ("clerk", "viewer"):
            self.assertError(self.put(B, 2027, base, role=role), 403,
                             "forbidden")

    def test_7_client(self):
        a = self.nodes[A]
        path = os.path.join(a.dir, "h.json")
        with open(path, "w") as f:
            json.dump({"indicators": {"adults": {"numerator": 3,
                                                 "denominator": 30}},
                       "counts": {"assessed": 9, "recognized": 4}}, f)
        r = a.client("history", "set", "2028", "--source", "Sổ 2028",
                     "--json", path, "--staff", "2/20", "--recognized", "5",
                     "--digital", "1/5")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = a.request("GET", "/v1/history/2028", role="viewer").json
        self.assertEqual(got["counts"], {"assessed": 9, "recognized": 5,
                                         "outstanding": 0})
        self.assertEqual(sorted(got["indicators"]),
                         ["adults", "digital", "staff"])
        r = a.client("history", "show", "2028", role="viewer")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Sổ 2028", r.stdout)
        r = a.client("history", "set", "2028", "--source", "x",
                     "--assessed", "1", "--recognized", "1",
                     "--adults", "5/4")
        self.assertEqual(r.returncode, 1)
        self.assertIn("indicators.adults.numerator", r.stderr)
        r = a.client("history", "delete", "2028")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = a.client("history", "show", "2028", role="viewer")
        self.assertEqual(r.returncode, 1)

    def test_8_restart_keeps_it(self):
        for nid in (A, B, P):
            self.nodes[nid].restart(keep_port=True)
        self.assertModel(A, (2020,) + UPWARD_YEARS, timeout=20)
        self.assertModel(B, UPWARD_YEARS, timeout=20)
        self.assertModel(P, (2020,) + UPWARD_YEARS, timeout=20)
        r = self.nodes[A].request("GET", "/v1/history/2020", role="viewer")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["source"], self.bodies[(A, 2020)]["source"])
        self.assertError(self.nodes[A].post(assessment(2021, "P-x")), 409,
                         "history_imported")

    def test_9_baseline_upward(self):
        a, p = self.nodes[A], self.nodes[P]
        self.assertModel(P, (2020,), timeout=15)
        doc = p.progress_doc(2020, depth=1)
        kids = {k["node"]["id"]: k for k in doc["children"]}
        self.assertEqual(diff(kids[A], expected([self.bodies[(A, 2020)]])),
                         [])
        r = p.request("GET", "/v1/report?year=2020&format=csv",
                      role="viewer")
        self.assertStatus(r, 200)
        self.assertIn("Số liệu nhập từ báo cáo", r.body.decode("utf-8"))
        # removing the baseline at A removes it above (zero counters)
        body = self.bodies.pop((A, 2020))
        self.assertStatus(a.request("DELETE", "/v1/history/2020"), 200)
        self.assertModel(P, (2020,), timeout=15)
        self.assertEqual(p.progress_doc(2020)["counts"]["imported"], 0)
        # a new entry replaces it there too
        body = dict(body, counts=dict(body["counts"],
                                      assessed=body["counts"]["assessed"] + 7))
        self.assertStatus(self.put(A, 2020, body), 200)
        self.bodies[(A, 2020)] = body
        self.assertModel(P, (2020,), timeout=15)


if __name__ == "__main__":
    main()
