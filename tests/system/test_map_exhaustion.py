"""A child that fills its parent's storage map, played by a keyed fake
child (cdhttest.hier.FakeChild) against a real province with a small map:

- batches too big for the map fail alone: each gets no ACK (it would be
  sent again), while the province's own clerks, writing in the same
  event-loop turns, get 200 for every write, and every one is stored;
- once the map is truly full (clerk writes answer 507), the province still
  restarts: it serves reads and answers writes that do not fit with 507
  until the map is raised; after that, writes work again.
"""

import random
import threading
import time

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import FakeChild, HierTestCase, python_keypair, report

YEAR = 2026
FAKE = "199"


class MapExhaustion(HierTestCase):
    def test_child_cannot_poison_clerks_and_node_restarts(self):
        pub, sec = python_keypair()
        p = self.tree([("14", "province", "Tỉnh Sơn La", None)],
                      node_kw={"14": {"map_size_mb": 2}})["14"]
        p.extra_children.append((FAKE, pub, "Huyện_Lớn"))
        p.start()
        f = FakeChild(p, pub, sec)
        self.addCleanup(f.close)
        f.hello(FAKE)
        rng = random.Random(5)
        items = gen.assessments(rng, 150, (YEAR,), prefix="clerk-",
                                level="province")
        answers = []

        def clerk():
            for a in items:
                answers.append((a, p.post(a)))
                time.sleep(0.01)
        th = threading.Thread(target=clerk)
        th.start()
        # batches of 6000 origins x 1 year: several MB each, never fit
        acks = 0
        for b in range(4):
            batch = [report("F%d%05d" % (b, i), YEAR, 1 + i,
                            [FAKE, "F%d%05d" % (b, i)], {"assessed": 1},
                            name="Xã " + "x" * 100)
                     for i in range(6000)]
            f.seq += 1
            f.send(3, f.seq, batch, [])    # REPORTS
            m = f.recv(3.0)
            acks += m is not None and m[1] == 4
        th.join(60)
        self.assertFalse(th.is_alive())
        self.assertEqual(acks, 0, "a batch that cannot fit was acknowledged")
        self.assertIn("not applied", p.stderr_text())
        bad = [(a["person_id"], r.status) for a, r in answers
               if r.status != 200]
        self.assertEqual(bad, [], "clerk writes failed beside the child")
        for a, _ in answers:
            self.assertEqual(p.get(YEAR, a["person_id"]).status, 200)
        self.assertEqual(p.progress(YEAR).json["counts"]["assessed"],
                         len(items))

        # fill the map with the clerks' own writes until 507
        full = None
        for i in range(20000):
            r = p.post([dict(a, person_id="fill-%d-%d" % (i, k),
                             name="y" * 190)
                        for k, a in enumerate(items[:50])])
            if r.status == 507:
                full = r
                break
            self.assertEqual(r.status, 200, r)
        self.assertIsNotNone(full, "the 2 MB map never filled")
        # a node with a full map must still start
        self.assertEqual(p.stop(), 0)
        p.start()
        self.assertEqual(p.health().status, 200)
        self.assertEqual(p.get(YEAR, items[0]["person_id"]).status, 200)
        r = p.post([dict(a, person_id="after-full-%d" % k, name="y" * 190)
                    for k, a in enumerate(items[:50])])
        self.assertEqual(r.status, 507, r)
        # raise the map: writes work again, nothing was lost
        self.assertEqual(p.stop(), 0)
        p.map_size_mb = 64
        p.start()
        self.assertEqual(p.post(dict(items[0], person_id="after-raise")).status,
                         200)
        self.assertGreaterEqual(
            p.progress(YEAR).json["counts"]["assessed"], len(items))


if __name__ == "__main__":
    main()
