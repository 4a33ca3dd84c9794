"""A child that fills its parent's storage map, played by a keyed fake
child (cdhttest.hier.FakeChild) against a real province with a small map:

- batches too big for the map fail alone: each gets no ACK (it would be
  sent again), while the province's own clerks, writing in the same
  event-loop turns (four clerks writing 320 assessments while twenty such
  batches arrive), get 200 for every write, and every one is stored;
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
        items = gen.assessments(rng, 320, (YEAR,), prefix="clerk-",
                                level="province")
        answers = []
        lock = threading.Lock()

        def clerk(part):
            for a in part:
                r = p.post(a)
                with lock:
                    answers.append((a, r))
        threads = [threading.Thread(target=clerk, args=(items[k::4],))
                   for k in range(4)]
        for th in threads:
            th.start()
        # batches of 4000 origins, each more than the 2 MB map holds, sent
        # back to back while the clerks write: the node reads several in one
        # event-loop turn, beside clerk requests that arrived meanwhile
        for b in range(20):
            batch = [report("F%02d%05d" % (b, i), YEAR, 1 + i,
                            [FAKE, "F%02d%05d" % (b, i)], {"assessed": 1},
                            name="Xã " + "x" * 100)
                     for i in range(4000)]
            f.seq += 1
            f.send(3, f.seq, batch, [])    # REPORTS
        acks = 0
        deadline = time.monotonic() + 20
        while any(th.is_alive() for th in threads) and \
                time.monotonic() < deadline:
            m = f.recv(0.2)
            acks += m is not None and m[1] == 4
        for th in threads:
            th.join(60)
            self.assertFalse(th.is_alive())
        self.assertEqual(acks, 0, "a batch that cannot fit was acknowledged")
        bad = [(a["person_id"], r.status) for a, r in answers
               if r.status != 200]
        self.assertEqual(bad, [], "clerk writes failed beside the child")
        self.assertIn("not applied", p.stderr_text())
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
