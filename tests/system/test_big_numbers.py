"""Numbers at the bounds, played against a real province by one keyed fake
child (cdhttest.hier.FakeChild, speaking proto/PROTOCOL.md itself):

- 1000 origins under the child, each report with counters of up to 2^40 (the
  largest a parent accepts): every indicator of /v1/progress (numerator,
  denominator, percent, needed, met), at the top and in the drill-down,
  equals the exact value computed here with Python integers and fractions.
  The sums reach 1000 x 2^40, where 20000 x numerator no longer fits an
  int64: before the fix the release build showed 16.11 % for 100 % and the
  sanitizer build (CI runs these tests in it too) died on the request.
- versions: a report version is a hybrid clock (microseconds since 1970,
  PROTOCOL.md 8.4); the largest the wire allows (2^63 - 1, 2^63 + 5,
  2^64 - 1) are refused as far ahead of the parent's clock, so one hostile
  report can never push a child's clock to the end of its range (where it
  would wrap, and every later version would be ignored); a version within
  the tolerance (30 days ahead) is taken, and `/v1/nodes` and `cdht nodes`
  print it exactly."""

import time

import math
from fractions import Fraction

from cdhttest.case import main
from cdhttest.hier import FakeChild, HierTestCase, python_keypair, report

YEAR = 2026
FAKE = "199"
N_ORIGINS = 1000
CAP = 2 ** 40  # the largest counter a parent accepts in a report

# The national default targets (README "Progress"), written out here.
TARGETS = {"adults": (40, 60), "staff": (60, 80), "digital": (70, 90),
           "proficient": (60, 80), "trained": (100, 100),
           "families": (70, 80), "clans": (65, 75), "communities": (65, 75),
           "units": (80, 90)}
# indicator: (numerator counter, denominator counter), README "Progress".
FRACTIONS = {
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
# Versions far ahead of any clock: the largest JSON integer, two above it.
BIG_VERSIONS = {"O0001": 2 ** 63 - 1, "O0002": 2 ** 63 + 5,
                FAKE: 2 ** 64 - 1}
DAY_US = 86400 * 10 ** 6


def origin_id(i):
    return FAKE if i == 0 else "O%04d" % i


def counters_of(i):
    """Origin i's counters: all at most 2^40, chosen so that every
    indicator's sum is large and its percent or needed not trivial."""
    third = CAP // 3
    return {
        "assessed": CAP,
        "recognized": CAP,
        "adult_assessed": CAP,
        "adult_recognized": CAP,          # 100 %: the reported case
        "adults": CAP,
        "staff_recognized": 2 * CAP // 3,  # 66.67 %
        "staff": CAP,
        "digital_skilled": third + i % 2,  # about 33.33 %
        "digital_proficient": i * 2 ** 30,
        "members_trained": CAP - i,       # just short of 100 %
        "members_total": CAP,
        "families_recognized": 7 * CAP // 10,  # just short of 70 %
        "families_total": CAP,
        "clans_recognized": 0,            # no denominator: no percent
        "clans_total": 0,
        "communities_recognized": 0,      # 0 %
        "communities_total": CAP,
        "units_recognized": CAP if i < N_ORIGINS // 2 else 0,  # 50 %
        "units_total": CAP,
        "den_set": 1,
    }


def expected(sums):
    """Each indicator as the daemon must show it, from exact sums:
    percent = 100 n / d rounded half up to 2 decimals (the float nearest
    to it), needed = max(0, ceil(t d / 100) - n), met = needed == 0 and
    d > 0."""
    out = {}
    for name, (nk, dk) in FRACTIONS.items():
        n, d = sums[nk], sums[dk]
        if d > 0:
            hundredths = math.floor(Fraction(10000 * n, d) + Fraction(1, 2))
            percent = hundredths / 100
        else:
            percent = None
        needed = {}
        met = {}
        for yr, t in zip(("2025", "2030"), TARGETS[name]):
            want = math.ceil(Fraction(t * d, 100))
            needed[yr] = max(0, want - n)
            met[yr] = needed[yr] == 0 and d > 0
        out[name] = {"numerator": n, "denominator": d, "percent": percent,
                     "targets": dict(zip(("2025", "2030"), TARGETS[name])),
                     "needed": needed, "met": met}
    return out


class BigNumbers(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pub, cls.sec = python_keypair()
        cls.p = cls.class_tree([("14", "province", "Tỉnh Sơn La", None)])["14"]
        cls.p.extra_children.append((FAKE, cls.pub, "Huyện_Lớn"))
        cls.p.start()
        f = FakeChild(cls.p, cls.pub, cls.sec)
        cls.addClassCleanup(f.close)
        f.hello(FAKE)
        batch, cls.sums = [], {}
        for i in range(N_ORIGINS):
            oid = origin_id(i)
            c = counters_of(i)
            for k, v in c.items():
                cls.sums[k] = cls.sums.get(k, 0) + v
            path = [FAKE] if oid == FAKE else [FAKE, oid]
            # one-word names: `cdht nodes` columns split on blanks
            level, name = (("district", "Huyện_Lớn") if oid == FAKE
                           else ("commune", "Xã_%04d" % i))
            batch.append(report(oid, YEAR, 1 + i, path, c, level=level,
                                name=name))
        ack = f.reports(batch, timeout=30)
        if ack[3] != 0:
            raise AssertionError("ACK %r: nothing may be refused" % (ack,))
        # one counter above the cap is refused: the bound the sums rely on
        over = report("O9999", YEAR, 1, [FAKE, "O9999"],
                      {"assessed": CAP + 1})
        cls.refused = f.reports([over])[3]

    def test_cap_is_enforced(self):
        self.assertEqual(self.refused, 1, "a counter of 2^40 + 1 accepted")

    def assertIndicators(self, got, want, what):
        for name, e in want.items():
            g = got[name]
            for k in ("numerator", "denominator", "targets", "needed",
                      "met"):
                self.assertEqual(g[k], e[k], "%s: %s.%s" % (what, name, k))
            # the exact float (jansson writes 17 significant digits)
            self.assertEqual(g["percent"], e["percent"],
                             "%s: %s.percent (%d/%d)" % (
                                 what, name, e["numerator"],
                                 e["denominator"]))

    def test_progress_is_exact(self):
        s = self.sums
        self.assertEqual(s["adults"], N_ORIGINS * CAP)
        self.assertGreater(20000 * s["adults"], 2 ** 63 - 1,
                           "the test no longer overflows an int64")
        want = expected(s)
        # the figures the test was written for, by hand
        self.assertEqual(want["adults"]["percent"], 100.0)
        self.assertEqual(want["staff"]["percent"], 66.67)
        self.assertEqual(want["units"]["percent"], 50.0)
        self.assertEqual(want["trained"]["needed"]["2025"],
                         sum(range(N_ORIGINS)))
        self.assertIsNone(want["clans"]["percent"])

        # (the reports were committed before the ACK)
        try:
            doc = self.p.progress_doc(YEAR)
        except OSError:
            self.assertAlive(self.p, "GET /v1/progress")
            raise
        self.assertEqual(doc["counts"]["assessed"], N_ORIGINS * CAP)
        self.assertIndicators(doc["indicators"], want, "top")
        self.assertEqual(doc["counts"]["recognized"], N_ORIGINS * CAP)
        self.assertEqual(doc["counts"]["units_with_denominators"], N_ORIGINS)
        # the drill-down evaluates the child's totals (the same sums)
        doc = self.p.progress_doc(YEAR, depth=2)
        kids = doc["children"]
        self.assertEqual([k["node"]["id"] for k in kids], [FAKE])
        self.assertIndicators(kids[0]["indicators"], want, "child " + FAKE)
        self.assertEqual(len(kids[0]["children"]), N_ORIGINS - 1)
        self.assertIndicators(kids[0]["children"][0]["indicators"],
                              expected(counters_of(1)), "origin O0001")
        self.assertAlive(self.p, "after GET /v1/progress")

    def test_far_future_versions(self):
        f = FakeChild(self.p, self.pub, self.sec)
        self.addCleanup(f.close)
        f.hello(FAKE, [(origin_id(i), YEAR, 1 + i) for i in range(N_ORIGINS)])
        before = {n["id"]: n["version"] for n in self.p.nodes_doc()["nodes"]}
        far = [report(oid, YEAR, v, [FAKE] if oid == FAKE else [FAKE, oid],
                      counters_of(1)) for oid, v in BIG_VERSIONS.items()]
        ack = f.reports(far)
        self.assertEqual(ack[3], len(far), "ACK %r: all refused" % (ack,))
        now = {n["id"]: n["version"] for n in self.p.nodes_doc()["nodes"]}
        self.assertEqual(now, before, "a refused version changed a node")
        self.assertIn("ahead of this node's clock", self.p.stderr_text())
        # within the tolerance: taken, and printed exactly
        soon = int(time.time() * 10 ** 6) + 10 * DAY_US
        ack = f.reports([report("O0002", YEAR, soon, [FAKE, "O0002"],
                                counters_of(2), name="Xã_0002")])
        self.assertEqual(ack[3], 0, ack)
        nodes = {n["id"]: n for n in self.p.nodes_doc()["nodes"]}
        self.assertEqual(nodes["O0002"]["version"], soon)
        self.assertIs(type(nodes["O0003"]["version"]), int)
        p = self.p.client("nodes", role="viewer")
        self.assertEqual(p.returncode, 0, p.stderr)
        versions = {}  # NAME ID LEVEL LINK VERSION LAST REPORT
        for line in p.stdout.splitlines():
            cols = line.split()
            if len(cols) == 6 and cols[1] in nodes:
                versions[cols[1]] = cols[4]
        self.assertEqual(len(versions), N_ORIGINS, p.stdout[:2000])
        self.assertEqual(versions["O0002"], str(soon))
        self.assertEqual(versions["O0003"], "4")
        self.assertNotIn("-9223372036854775", p.stdout)


if __name__ == "__main__":
    main()
