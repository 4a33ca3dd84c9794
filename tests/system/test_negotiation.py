"""Wire revision negotiation (PROTOCOL.md 5.2 and 8.9) with real daemons:
agency nodes (`level = agency`) under a parent of this release and under
one of release 0.2.0, and a 0.2.0 child under a parent of this release.

- Under a new province, agency 1405 shows as level "agency" in the
  drill-down and in /v1/nodes, with its staff exactly (the independent
  model of cdhttest/model.py), next to a commune of release 0.2.0, which
  reads this release's WELCOME (with its field 6) and reports as before.
- Under a 0.2.0 province (built from commit c816ee6 by test_upgrade.py's
  cached build), the agency arrives as a commune with exact counts (the
  old decoder refuses level "agency"); once the province runs this
  release, the agency learns revision 2 from the WELCOME, issues new
  versions and the province shows it as "agency", with the same counts.

A report of year 2020 (imported results, helper "history") is not
written here: the rule that holds it for a revision-1 parent is tested at
the unit level (tests/unit/test_negotiation.c).
"""

import os
import random

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase, wait_for
from cdhttest.node import cdht_path, cdhtd_path

from test_upgrade import expected, old_binaries

OLD = "c816ee6"     # release 0.2.0
OLD_RELEASE = "0.2.0"
NEW_RELEASE = "0.3.0"
YEARS = (2024, 2025)
CONVERGE = 30.0
AGENCY = ("1405", "Sở Giáo dục và Đào tạo")


def child_problems(doc, hm, cid, year, level, name, release):
    """Mismatches of the drill-down entry of child cid in a province's
    progress document against the model, the child shown as level."""
    kids = {k.get("node", {}).get("id"): k for k in doc.get("children", [])}
    if cid not in kids:
        return ["%d: child %s missing (children %r)"
                % (year, cid, sorted(kids))]
    d = dict(kids[cid])
    d.setdefault("year", year)
    return ["%d/%s: %s" % (year, cid, p) for p in model.diff_progress(
        d, expected(hm, cid, year, release),
        {"id": cid, "level": level, "name": name})]


class Negotiation(HierTestCase):
    maxDiff = None

    def seed(self, n, hm, rng, persons=12):
        items = gen.assessments(rng, persons, YEARS, prefix=n.id + "-",
                                level=n.level)
        if n.level == "agency":   # staff only, like any non-commune
            self.assertTrue(all(a["population"] == "staff" for a in items))
        self.submit_many(n, hm, items)
        for y in YEARS:
            self.set_population(n, hm, y, gen.population(rng))

    def assertTree(self, p, hm, kids, release, what):
        """Poll until the province's progress (whole subtree) and each
        child's drill-down entry (id, level, name, counts) equal the
        model."""
        last = []

        def ok():
            bad = []
            for y in YEARS:
                try:
                    doc = p.progress_doc(y, depth=1)
                except (OSError, AssertionError) as e:
                    bad.append("%d: %s" % (y, e))
                    continue
                d = dict(doc)
                bad += ["%d: %s" % (y, x) for x in model.diff_progress(
                    d, expected(hm, p.id, y, release), p.info)]
                for cid, level, name in kids:
                    bad += child_problems(doc, hm, cid, y, level, name,
                                          release)
            last[:] = bad
            return not bad
        try:
            wait_for(ok, CONVERGE, "the province to equal the model",
                     interval=0.2)
        except AssertionError:
            self.fail("%s: %d problems:\n  %s\nprovince stderr:\n%s"
                      % (what, len(last), "\n  ".join(last[:30]),
                         p.stderr_tail(2000)))

    def node_level(self, p, nid):
        for x in p.nodes_doc()["nodes"]:
            if x["id"] == nid:
                return x.get("level")
        return None

    def test_agency_under_new_province(self):
        old_cdhtd, old_cdht = old_binaries(OLD)
        hm = HierModel()
        spec = [("14", "province", "Tỉnh Sơn La", None),
                (AGENCY[0], "agency", AGENCY[1], "14"),
                ("04108", "commune", "Xã Chiềng Sung", "14")]
        nodes = self.tree(spec, hm, node_kw={
            "04108": {"cdhtd": old_cdhtd, "cdht": old_cdht}})
        self.start_all([nodes[i] for i, *_ in reversed(spec)])
        rng = random.Random(int(os.environ.get("CDHT_SEED", "10")))
        for nid, *_ in spec:
            self.seed(nodes[nid], hm, rng)
        p = nodes["14"]
        self.assertTree(p, hm, [(AGENCY[0], "agency", AGENCY[1])],
                        NEW_RELEASE, "agency under a new province")
        # the 0.2.0 commune: welcomed (it skips field 6), counted exactly
        wait_for(lambda: nodes["04108"].health().json["uplink"]["connected"],
                 CONVERGE, "the 0.2.0 commune to be welcomed")
        self.assertConverges(p, hm, YEARS, timeout=CONVERGE,
                             what="with a 0.2.0 commune")
        for y in YEARS:
            got = {k["node"]["id"]: k["counts"]["assessed"]
                   for k in p.progress_doc(y, depth=1)["children"]}
            self.assertEqual(got["04108"],
                             hm.progress("04108", y)["counts"]["assessed"])
        self.assertEqual(self.node_level(p, AGENCY[0]), "agency")
        # the agency itself says what it is, and that its parent speaks 2
        a = nodes[AGENCY[0]]
        self.assertEqual(a.progress_doc(YEARS[0])["node"]["level"], "agency")
        self.assertIn("wire revision 2", a.stderr_text())
        for n in nodes.values():   # nothing dropped on the way
            self.assertNotIn("malformed", n.stderr_text(), n.id)
        self.assertNotIn("within 1000 ms", p.stderr_text())

    def test_agency_under_old_province(self):
        old_cdhtd, old_cdht = old_binaries(OLD)
        hm = HierModel()
        spec = [("14", "province", "Tỉnh Sơn La", None),
                (AGENCY[0], "agency", AGENCY[1], "14"),
                ("03646", "commune", "Phường Chiềng Lề", "14")]
        nodes = self.tree(spec, hm, node_kw={
            "14": {"cdhtd": old_cdhtd, "cdht": old_cdht}})
        self.start_all([nodes[i] for i, *_ in reversed(spec)])
        rng = random.Random(int(os.environ.get("CDHT_SEED", "20")))
        for nid, *_ in spec:
            self.seed(nodes[nid], hm, rng)
        p, a = nodes["14"], nodes[AGENCY[0]]
        self.assertTree(p, hm, [(AGENCY[0], "commune", AGENCY[1])],
                        OLD_RELEASE, "agency under a 0.2.0 province")
        self.assertEqual(self.node_level(p, AGENCY[0]), "commune")
        self.assertNotIn("malformed", p.stderr_text())
        # the agency keeps what it is at home
        self.assertEqual(a.progress_doc(YEARS[0])["node"]["level"], "agency")

        # new writes still reach the old province exactly
        self.submit_many(a, hm, gen.assessments(rng, 3, YEARS[-1:],
                                                prefix="late-",
                                                level="agency"))
        self.assertTree(p, hm, [(AGENCY[0], "commune", AGENCY[1])],
                        OLD_RELEASE, "a new write under a 0.2.0 province")

        # the province is upgraded: the agency learns revision 2 and
        # re-issues its reports, which now say "agency"
        p.cdhtd, p.cdht = cdhtd_path(), cdht_path()
        p.restart(keep_port=True)
        self.assertTree(p, hm, [(AGENCY[0], "agency", AGENCY[1])],
                        NEW_RELEASE, "after the province's upgrade")
        self.assertEqual(self.node_level(p, AGENCY[0]), "agency")
        self.assertIn("now takes level agency", a.stderr_text())


if __name__ == "__main__":
    main()
