"""Two levels (the post-2025 shape): communes report straight to the
province, which also records its own agencies' staff.  Exact totals, a
write shows at the province within 1 s, drill-down and the node list."""

import random

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase

YEARS = (2024, 2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Tô Hiệu", "14"),
    ("03664", "commune", "Phường Chiềng An", "14"),
    ("03670", "commune", "Phường Chiềng Cơi", "14"),
]
COMMUNES = [s[0] for s in SPEC[1:]]


class TwoLevels(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hm = HierModel()
        cls.nodes = cls.class_tree(SPEC, cls.hm)
        # children first: they must find their parent once it is there
        cls.start_all([cls.nodes[i] for i, *_ in reversed(SPEC)])
        rng = random.Random(11)
        for nid, *_ in SPEC:
            node = cls.nodes[nid]
            cls.submit_many(node, cls.hm, gen.assessments(
                rng, 150 if nid != "14" else 50, YEARS, prefix=nid + "-",
                level=node.level, star_share=0.3))
            for y in YEARS:
                cls.set_population(node, cls.hm, y, gen.population(rng))

    def test_1_exact_totals(self):
        self.assertConverges(self.nodes["14"], self.hm, YEARS, timeout=15,
                             what="province")

    def test_2_write_reaches_province_within_1s(self):
        p = self.nodes["14"]
        rng = random.Random(12)
        for cid in COMMUNES:
            want = p.assessed(2025) + 1
            a = gen.assessments(rng, 1, (2025,), prefix="fast-%s-" % cid,
                                attend=1.0)[0]
            self.submit_one(self.nodes[cid], self.hm, a)
            took = self.assertAssessedWithin(p, 2025, want, 5.0)
            self.assertLess(took, 1.0, "write at %s: %.3fs" % (cid, took))
        # a replacement (same person, now not recognised) and new
        # denominators travel too
        a = dict(a, scores=[10] * 9 + [4])
        self.submit_one(self.nodes[COMMUNES[-1]], self.hm, a)
        self.set_population(self.nodes[COMMUNES[0]], self.hm, 2025,
                            gen.population(rng))
        self.assertConverges(p, self.hm, YEARS, timeout=3)

    def test_3_drill_down_and_nodes(self):
        p = self.nodes["14"]
        self.assertConverges(p, self.hm, YEARS, timeout=10)
        doc = p.progress_doc(2026, depth=1)
        kids = {k["node"]["id"]: k for k in doc.get("children", [])}
        self.assertEqual(sorted(kids), sorted(COMMUNES))
        for cid in COMMUNES:
            exp = self.hm.progress(cid, 2026)
            self.assertEqual(kids[cid]["counts"]["assessed"],
                             exp["counts"]["assessed"], cid)
            self.assertEqual(kids[cid]["counts"]["outstanding"],
                             exp["counts"]["outstanding"], cid)
            self.assertEqual(kids[cid]["indicators"]["adults"]["numerator"],
                             exp["indicators"]["adults"]["numerator"], cid)
        self.assertEqual(doc["coverage"]["units"], 4, doc["coverage"])
        self.assertEqual(doc["coverage"]["missing"], [], doc["coverage"])
        nodes = {x["id"]: x for x in p.nodes_doc()["nodes"]}
        self.assertEqual(sorted(nodes), sorted(COMMUNES))
        for cid in COMMUNES:
            self.assertEqual(nodes[cid]["parent"], "14")
            self.assertEqual(nodes[cid]["depth"], 1)
            self.assertEqual(nodes[cid]["link"], "up")


if __name__ == "__main__":
    main()
