"""Three levels, real daemons linked over CURVE: a province, two districts,
two communes under each.  Communes record residents and commune staff; one
district and the province record their own agencies' staff.  The province
must show exactly the sums computed independently (model.py) from every
submission, to the person; a write at a commune must show at the province
within 1 s; a burst of writes must travel as a few batches, not one message
per write; drill-down and the node list must describe the tree."""

import random
import time

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import (ByteRelay, FakeChild, HierModel, HierTestCase,
                           python_keypair, report, wait_for)
from cdhttest.node import Session

YEARS = (2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("118", "district", "Huyện Quỳnh Nhai", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
    ("03682", "commune", "Xã Mường Chiên", "118"),
    ("03685", "commune", "Xã Cà Nàng", "118"),
]
BURST = 1000
RELAYED = 2500      # more reports than one uplink batch (2000) carries
FAKE = "11899"      # a child of 118 played by the test


def seed(case, node, hm, rng, persons):
    items = gen.assessments(rng, persons, YEARS, prefix=node.id + "-",
                            level=node.level)
    case.submit_many(node, hm, items)
    for y in YEARS:
        case.set_population(node, hm, y, gen.population(rng))


class ThreeLevels(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hm = HierModel()
        # 03685 reaches its district through a relay that counts bytes;
        # its keys come from `cdht keygen`, like a real deployment's.
        cls.nodes = cls.class_tree(SPEC, cls.hm, node_kw={
            "03685": {"keygen": "cdht"}, "118": {"keygen": "cdht"}})
        n = cls.nodes
        cls.fake_keys = python_keypair()
        n["118"].extra_children.append((FAKE, cls.fake_keys[0], "Cụm Thử"))
        cls.relay = ByteRelay(n["118"].zmq_port)
        cls.addClassCleanup(cls.relay.close)
        n["03685"].parent_endpoint = cls.relay.endpoint
        cls.start_all(n)
        rng = random.Random(3)
        for cid in ("03646", "03649", "03682", "03685"):
            seed(cls, n[cid], cls.hm, rng, 120)
        seed(cls, n["116"], cls.hm, rng, 40)   # a district agency
        seed(cls, n["14"], cls.hm, rng, 60)    # a province agency

    def test_1_exact_totals_at_every_level(self):
        n = self.nodes
        self.assertConverges(n["14"], self.hm, YEARS, timeout=15,
                             what="province")
        for nid in ("116", "118"):
            self.assertConverges(n[nid], self.hm, YEARS, timeout=5,
                                 what="district")
        for nid in ("03646", "03649", "03682", "03685"):
            self.assertConverges(n[nid], self.hm, YEARS, timeout=2,
                                 what="commune")
        # the district agency's staff count at 116 and 14, not at 118
        m116 = self.hm.merged("116").progress(2026)["counts"]["assessed"]
        m118 = self.hm.merged("118").progress(2026)["counts"]["assessed"]
        own14 = self.hm.local("14").progress(2026)["counts"]["assessed"]
        self.assertEqual(n["14"].assessed(2026), m116 + m118 + own14)

    def test_2_commune_write_reaches_province_within_1s(self):
        n = self.nodes
        rng = random.Random(5)
        for i, cid in enumerate(("03646", "03682", "03649")):
            want = n["14"].assessed(2026) + 1
            a = gen.assessments(rng, 1, (2026,), attend=1.0,
                                prefix="late%d-%s-" % (i, cid))[0]
            self.submit_one(n[cid], self.hm, a)
            took = self.assertAssessedWithin(n["14"], 2026, want, 5.0,
                                             "province after a write at "
                                             + cid)
            self.assertLess(took, 1.0, "write at %s took %.3fs to reach the "
                            "province" % (cid, took))
        # a withdrawal travels the same way
        want = n["14"].assessed(2026) - 1
        pid = next(p for (y, p) in self.hm.local("03682").records
                   if y == 2026 and p.startswith("late1-"))
        self.withdraw(n["03682"], self.hm, 2026, pid)
        took = self.assertAssessedWithin(n["14"], 2026, want, 5.0,
                                         "province after a withdrawal")
        self.assertLess(took, 1.0)
        self.assertConverges(n["14"], self.hm, YEARS, timeout=5)

    def test_3_burst_travels_in_few_batches(self):
        n = self.nodes
        c = n["03685"]
        rng = random.Random(7)
        # the cost of one write on the link, for scale
        self.assertConverges(n["14"], self.hm, YEARS, timeout=10)
        time.sleep(0.3)
        up0, _ = self.relay.counts()
        a = gen.assessments(rng, 1, (2026,), prefix="one-", attend=1.0)[0]
        want = n["14"].assessed(2026) + 1
        self.submit_one(c, self.hm, a)
        self.assertAssessedWithin(n["14"], 2026, want, 5.0)
        time.sleep(0.2)
        up1, _ = self.relay.counts()
        one = max(up1 - up0, 200)
        # a burst of single writes (each its own HTTP request and commit)
        items = gen.assessments(rng, BURST, (2026,), prefix="burst-",
                                attend=1.0)
        s = Session(c, role="clerk")
        t0 = time.monotonic()
        try:
            for x in items:
                self.submit_one(c, self.hm, x, session=s)
        finally:
            s.close()
        dt = time.monotonic() - t0
        self.assertConverges(n["14"], self.hm, YEARS, timeout=10,
                             what="province after the burst")
        up2, _ = self.relay.counts()
        burst = up2 - up1
        # One message per write would cost about BURST * one bytes.  With
        # batching by flush_ms (50 ms) at most one batch leaves per 50 ms
        # of the burst (plus the tail and a ping a second), whatever the
        # machine's speed; and in any case far fewer than one per write.
        batches = dt / 0.05 + 10
        self.assertLess(burst, batches * one * 1.5 + dt * 200,
                        "%d writes in %.2fs cost %d bytes upstream, more "
                        "than %d batches of %d bytes"
                        % (len(items), dt, burst, batches, one))
        self.assertLess(burst, BURST * one / 4,
                        "%d writes in %.2fs cost %d bytes upstream; one "
                        "write alone cost %d" % (len(items), dt, burst, one))

    def test_4_drill_down_and_coverage(self):
        n = self.nodes
        self.assertConverges(n["14"], self.hm, YEARS, timeout=10)
        doc = n["14"].progress_doc(2026, depth=2)
        kids = {k["node"]["id"]: k for k in doc.get("children", [])}
        self.assertEqual(sorted(kids), ["116", "118"], doc.get("children"))
        for did, communes in (("116", ("03646", "03649")),
                              ("118", ("03682", "03685"))):
            exp = self.hm.progress(did, 2026)
            self.assertEqual(kids[did]["counts"]["assessed"],
                             exp["counts"]["assessed"])
            self.assertEqual(kids[did]["counts"]["recognized"],
                             exp["counts"]["recognized"])
            for ind in ("adults", "staff", "digital"):
                self.assertEqual(kids[did]["indicators"][ind]["numerator"],
                                 exp["indicators"][ind]["numerator"], ind)
                self.assertEqual(kids[did]["indicators"][ind]["denominator"],
                                 exp["indicators"][ind]["denominator"], ind)
            sub = {k["node"]["id"]: k for k in kids[did].get("children", [])}
            self.assertEqual(sorted(sub), sorted(communes))
            for cid in communes:
                self.assertEqual(sub[cid]["counts"]["assessed"],
                                 self.hm.progress(cid, 2026)["counts"]
                                 ["assessed"])
                self.assertEqual(sub[cid]["node"]["level"], "commune")
        cov = doc.get("coverage")
        self.assertIsInstance(cov, dict, doc)
        # every unit reported 2026 except district 118, which records
        # nothing of its own
        self.assertEqual(cov.get("units"), 7, cov)
        self.assertEqual(cov.get("reported"), 6, cov)
        self.assertEqual(cov.get("missing"), ["118"], cov)
        # depth 1 stops at the districts
        doc1 = n["14"].progress_doc(2026, depth=1)
        for k in doc1.get("children", []):
            self.assertFalse(k.get("children"), k)

    def test_5_nodes_lists_the_subtree(self):
        n = self.nodes
        doc = n["14"].nodes_doc()
        got = {x["id"]: x for x in doc["nodes"]}
        self.assertEqual(sorted(got), sorted(i for i, *_ in SPEC[1:]))
        for nid, level, name, pid in SPEC[1:]:
            self.assertEqual(got[nid]["parent"], pid, got[nid])
            self.assertEqual(got[nid]["level"], level, got[nid])
            self.assertEqual(got[nid]["name"], name, got[nid])
            self.assertEqual(got[nid]["depth"], 1 if pid == "14" else 2)
        for nid in ("116", "118"):
            self.assertEqual(got[nid]["link"], "up", got[nid])
        # a district sees its own communes only
        d = {x["id"] for x in n["116"].nodes_doc()["nodes"]}
        self.assertEqual(d, {"03646", "03649"})

    def test_6_backlog_larger_than_a_batch(self):
        """A child of district 118 (played by the test) relays RELAYED
        units at once: 118's outbox then holds more than one uplink batch,
        which must go out in several batches back to back, and the
        province must count every unit once.  When that child reconnects
        holding none of them, 118 forgets them and forwards the removals:
        the province is back to the model."""
        n = self.nodes
        p = n["14"]
        self.assertConverges(p, self.hm, YEARS, timeout=10)
        a0 = p.assessed(2026)
        f = FakeChild(n["118"], *self.fake_keys)
        self.addCleanup(f.close)
        f.hello(FAKE)
        reps = [report("9%04d" % i, 2026, 1, [FAKE, "9%04d" % i],
                       {"assessed": 1, "recognized": i % 2})
                for i in range(RELAYED)]
        for i in range(0, RELAYED, 500):
            self.assertEqual(f.reports(reps[i:i + 500])[3], 0)
        t0 = time.monotonic()
        wait_for(lambda: p.assessed(2026) == a0 + RELAYED, 15,
                 "the province to count %d relayed units" % RELAYED)
        self.assertLess(time.monotonic() - t0, 5.0)
        nodes = {x["id"] for x in p.nodes_doc()["nodes"]}
        self.assertEqual(len([x for x in nodes if x.startswith("9")]),
                         RELAYED)
        # the relayed units leave again
        f.close()
        f2 = FakeChild(n["118"], *self.fake_keys)
        self.addCleanup(f2.close)
        f2.hello(FAKE)
        self.assertConverges(p, self.hm, YEARS, timeout=15,
                             what="after the relayed units left:")


if __name__ == "__main__":
    main()
