"""Faults in a three-level tree (province 14; district 116 with communes
03646 and 03649; district 118 with commune 03682): every scenario must end
in exact convergence, to the person, with the independent model.

- kill -9 of a district while its communes keep taking writes, restart;
- the province down for a while, the rest keeps working, then back;
- a relay (and a commune) restarted from an older copy of its data
  directory: everything newer is re-sent or re-issued above what the
  parent holds;
- a district hung (SIGSTOP) for longer than every timeout, then resumed;
- a commune moved to another district (the 2025 reorganisation): counted
  once, through its new district;
- a commune removed from its district's children: every ancestor forgets
  it, nothing stale remains.
"""

import os
import random
import shutil
import signal
import threading
import time

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase, wait_for
from cdhttest.node import Session

YEARS = (2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("118", "district", "Huyện Quỳnh Nhai", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
    ("03682", "commune", "Xã Mường Chiên", "118"),
]


class Writer(threading.Thread):
    """Submits single assessments to one node as fast as it can until
    stopped; only answered (200) ones enter the model."""

    def __init__(self, node, hm, seed):
        super().__init__(daemon=True)
        self.node, self.hm = node, hm
        self.rng = random.Random(seed)
        self.stop_ev = threading.Event()
        self.n = 0
        self.error = None

    def run(self):
        s = Session(self.node, role="clerk")
        try:
            while not self.stop_ev.is_set():
                a = gen.assessments(self.rng, 1, (self.rng.choice(YEARS),),
                                    prefix="w%d-" % self.n, attend=1.0)[0]
                r = s.request("POST", "/v1/assessments", a, timeout=10)
                if r.status != 200:
                    self.error = repr(r)
                    return
                self.hm.local(self.node.id).submit(a)
                self.n += 1
        except Exception as e:  # surfaced by the test
            self.error = repr(e)
        finally:
            s.close()

    def finish(self, case):
        self.stop_ev.set()
        self.join(20)
        case.assertFalse(self.is_alive(), "writer stuck")
        case.assertIsNone(self.error, "writer at %s" % self.node.id)
        case.assertGreater(self.n, 0)


class Faults(HierTestCase):
    def build(self):
        hm = HierModel()
        n = self.tree(SPEC, hm)
        self.start_all(n)
        rng = random.Random(21)
        for nid in ("03646", "03649", "03682", "116", "14"):
            items = gen.assessments(rng, 60, YEARS, prefix=nid + "-",
                                    level=n[nid].level)
            self.submit_many(n[nid], hm, items)
            self.set_population(n[nid], hm, 2026, gen.population(rng))
        self.assertConverges(n["14"], hm, YEARS, timeout=15, what="start:")
        return hm, n, rng

    def more_writes(self, n, hm, rng, ids, tag, persons=25):
        for nid in ids:
            items = gen.assessments(rng, persons, YEARS,
                                    prefix="%s-%s-" % (tag, nid),
                                    level=n[nid].level)
            self.submit_many(n[nid], hm, items)
            # replace one earlier record and withdraw another
            old = sorted(k for k in hm.local(nid).records
                         if not k[1].startswith(tag))
            if len(old) >= 2:
                y, pid = old[rng.randrange(len(old))]
                a = dict(hm.local(nid).records[(y, pid)],
                         scores=gen.scores_random(rng))
                self.submit_one(n[nid], hm, a)
                y, pid = old[rng.randrange(len(old))]
                if (y, pid) in hm.local(nid).records:
                    self.withdraw(n[nid], hm, y, pid)
            self.set_population(n[nid], hm, 2025, gen.population(rng))

    def link_of(self, parent, child_id):
        for x in parent.nodes_doc()["nodes"]:
            if x["id"] == child_id:
                return x.get("link")
        return None

    def test_kill9_district_while_communes_write(self):
        hm, n, rng = self.build()
        w = Writer(n["03646"], hm, 1)
        w.start()
        try:
            time.sleep(0.4)
            n["116"].kill9()
            self.more_writes(n, hm, rng, ("03649", "03682"), "down")
            # the rest of the province is unaffected
            self.assertConverges(n["118"], hm, YEARS, timeout=5)
            # the province notices the dead link (heartbeat timeout)
            wait_for(lambda: self.link_of(n["14"], "116") == "down", 10,
                     "province to see 116 down")
            self.assertEqual(self.link_of(n["14"], "118"), "up")
            time.sleep(0.5)
        finally:
            w.finish(self)
        self.assertConverges(n["03646"], hm, YEARS, timeout=2,
                             what="commune (local writes)")
        n["116"].start()
        self.assertConverges(n["116"], hm, YEARS, timeout=15,
                             what="district after restart:")
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="province after restart:")
        wait_for(lambda: self.link_of(n["14"], "116") == "up", 5,
                 "province to see 116 up")
        # and the link carries new writes again
        self.more_writes(n, hm, rng, ("03646", "116"), "after", persons=3)
        self.assertConverges(n["14"], hm, YEARS, timeout=5, what="after:")

    def test_parent_down_for_a_while(self):
        hm, n, rng = self.build()
        self.assertEqual(n["14"].stop(), 0)
        self.more_writes(n, hm, rng, ("03646", "03649", "03682", "116"),
                         "nop")
        # the districts keep aggregating their subtrees meanwhile
        self.assertConverges(n["116"], hm, YEARS, timeout=5,
                             what="district while the province is down:")
        self.assertConverges(n["118"], hm, YEARS, timeout=5)
        time.sleep(1.5)
        self.more_writes(n, hm, rng, ("03649",), "nop2", persons=5)
        n["14"].start()
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="province back:")
        # kill -9 of the province in the middle of a stream of writes
        w = Writer(n["03682"], hm, 2)
        w.start()
        try:
            time.sleep(0.3)
            n["14"].kill9()
            time.sleep(0.5)
            n["14"].start()
            time.sleep(0.3)
        finally:
            w.finish(self)
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="province after kill -9:")

    def test_hung_district(self):
        """SIGSTOP keeps the TCP connections open while nothing answers:
        the communes' ACKs and PONGs time out and libzmq's heartbeats close
        the links; after SIGCONT everything converges."""
        hm, n, rng = self.build()
        d = n["116"]
        w = Writer(n["03646"], hm, 3)
        w.start()
        d.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(0.3)
            self.more_writes(n, hm, rng, ("03649",), "hung", persons=10)
            wait_for(lambda: self.link_of(n["14"], "116") == "down", 10,
                     "province to see the hung district down")
            time.sleep(1.0)
        finally:
            d.proc.send_signal(signal.SIGCONT)
            w.finish(self)
        self.assertConverges(n["14"], hm, YEARS, timeout=20,
                             what="after SIGCONT:")
        self.assertIn("link to parent 116 down",
                      n["03649"].stderr_text())

    def restore_old_copy(self, n, hm, rng, victim, writers):
        """Stop victim, keep a copy of its data directory, restart, write
        more everywhere, then put the old copy back and restart."""
        node = n[victim]
        self.assertEqual(node.stop(), 0)
        old = node.data_dir + ".old"
        shutil.copytree(node.data_dir, old)
        snap = hm.local(victim).copy()
        node.start()
        self.more_writes(n, hm, rng, writers, "new")
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="before the restore:")
        self.assertEqual(node.stop(), 0)
        shutil.rmtree(node.data_dir)
        os.rename(old, node.data_dir)
        # what the victim recorded after the copy is gone with it
        hm.models[victim] = snap
        node.start()
        return node

    def test_relay_restored_from_older_copy(self):
        hm, n, rng = self.build()
        d = self.restore_old_copy(n, hm, rng, "116",
                                  ("03646", "03649", "116"))
        self.assertConverges(d, hm, YEARS, timeout=15,
                             what="restored district:")
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="province after the restore:")
        # new local writes at the restored relay must win over the
        # versions the province saw before the restore
        self.more_writes(n, hm, rng, ("116", "03649"), "later", persons=4)
        self.assertConverges(n["14"], hm, YEARS, timeout=10,
                             what="province, writes after the restore:")

    def test_commune_restored_from_older_copy(self):
        hm, n, rng = self.build()
        self.restore_old_copy(n, hm, rng, "03649", ("03649", "03646"))
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="province after the restore:")
        self.more_writes(n, hm, rng, ("03649",), "later", persons=4)
        self.assertConverges(n["14"], hm, YEARS, timeout=10,
                             what="province, writes after the restore:")

    def test_commune_moves_to_another_district(self):
        hm, n, rng = self.build()
        c, old, new = n["03649"], n["116"], n["118"]
        for x in (c, old, new):
            self.assertEqual(x.stop(), 0)
        old.children.remove(c)
        new.attach(c)
        hm.parent["03649"] = "118"
        for x in (old, new, c):
            x.start()
        # 116 now sends the removal of 03649 upward; its own later writes
        # must still get through
        self.more_writes(n, hm, rng, ("03649", "116"), "moved", persons=4)
        for x in (old, new, n["14"]):
            self.assertConverges(x, hm, YEARS, timeout=15,
                                 what="after the move:")
        doc = n["14"].progress_doc(2026, depth=2)
        where = {k["node"]["id"]: [g["node"]["id"]
                                   for g in k.get("children", [])]
                 for k in doc["children"]}
        self.assertEqual(sorted(where.get("118", [])), ["03649", "03682"])
        self.assertEqual(where.get("116"), ["03646"])

    def test_commune_removed(self):
        hm, n, rng = self.build()
        c, d = n["03682"], n["118"]
        self.assertIn("03682", [x["id"] for x in n["14"].nodes_doc()["nodes"]])
        for x in (c, d):
            self.assertEqual(x.stop(), 0)
        d.children.remove(c)
        hm.parent["03682"] = "gone"  # detached: no longer under 14
        hm.add_node("gone")
        d.start()
        self.more_writes(n, hm, rng, ("118",), "after", persons=3)
        for x in (d, n["14"]):
            self.assertConverges(x, hm, YEARS, timeout=15,
                                 what="after the removal:")
        ids = [x["id"] for x in n["14"].nodes_doc()["nodes"]]
        self.assertNotIn("03682", ids)
        self.assertIn("03646", ids)


if __name__ == "__main__":
    main()
