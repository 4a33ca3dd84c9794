"""What one keyed child can cost its parent, played by a fake child
(cdhttest.hier.FakeChild) against a real province:

- units: at most `[downlink] max_origins_per_child` (here 500) new units
  per child; 20,000 more are refused (ACK refused, an alarm, counted in
  /metrics), never stored (they do not appear in /v1/nodes), and the
  province's memory stays bounded after a drill-down and /v1/nodes;
- HELLO floods: 40 HELLOs with 200,000-entry inventories in a row; the
  province reconciles at most one a second per child, keeps answering
  /healthz throughout (each within 5 s, on a machine that may be slow),
  and still counts exactly the units it accepted.
"""

import threading
import time

from cdhttest.case import main
from cdhttest.hier import (HELLO, FakeChild, HierTestCase, python_keypair,
                           report)

YEAR = 2026
FAKE = "199"
CAP = 500


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class ChildBounds(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pub, cls.sec = python_keypair()
        cls.p = cls.class_tree([("14", "province", "Tỉnh Sơn La", None)])["14"]
        cls.p.extra_children.append((FAKE, cls.pub, "Huyện_Lớn"))
        cls.p.downlink_extra.append("max_origins_per_child = %d" % CAP)
        cls.p.start()

    def test_1_units_beyond_the_cap_are_refused(self):
        f = FakeChild(self.p, self.pub, self.sec)
        self.addCleanup(f.close)
        f.hello(FAKE)
        before = self.p.metrics().get("cdht_origins_over_cap_total", 0)
        refused = 0
        n = 0
        for b in range(10):
            batch = []
            for i in range(2050):
                oid = "U%05d" % n
                n += 1
                batch.append(report(oid, YEAR, 1, [FAKE, oid],
                                    {"assessed": 1}))
            refused += f.reports(batch, timeout=60)[3]
        self.assertEqual(refused, n - CAP, "refused past the cap")
        after = self.p.metrics()["cdht_origins_over_cap_total"]
        self.assertEqual(after - before, n - CAP)
        self.assertIn("max_origins_per_child", self.p.stderr_text())
        self.assertEqual(self.p.progress(YEAR).json["counts"]["assessed"],
                         CAP)
        nodes = self.p.nodes_doc()["nodes"]
        self.assertEqual(len([x for x in nodes if x["id"] != FAKE]), CAP)
        self.p.progress_doc(YEAR, depth=2)
        self.assertLess(rss_kb(self.p.proc.pid), 200 * 1024,
                        "the province grew past 200 MB")

    def test_2_hello_flood(self):
        inv = [["H%06d" % i, YEAR, 1] for i in range(200000)]
        f = FakeChild(self.p, self.pub, self.sec)
        self.addCleanup(f.close)
        slow = []
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                t0 = time.monotonic()
                self.assertEqual(self.p.health().status, 200)
                slow.append(time.monotonic() - t0)
                time.sleep(0.05)
        th = threading.Thread(target=probe)
        th.start()
        try:
            for _ in range(40):
                f.send(HELLO, FAKE, "district", "Huyện_Lớn", inv)
            time.sleep(3)
        finally:
            stop.set()
            th.join(30)
        self.assertGreater(len(slow), 10)
        # liveness, not speed (that is the benchmark's): no probe waits for
        # the flood to end.  HELLOs within a second of the last are dropped
        # before they are decoded and one reconciled costs well under a
        # second here, but a shared machine under load stretches that, so
        # only a stall of the flood's length fails
        self.assertLess(max(slow), 5.0, "healthz stalled by HELLOs")
        self.assertIn("within 1000 ms of the last: dropped",
                      self.p.stderr_text())
        self.assertAlive(self.p, "after the flood")
        self.assertLess(rss_kb(self.p.proc.pid), 400 * 1024)


if __name__ == "__main__":
    main()
