"""Security of the node links, played against a real province with a real
district and commune under it:

- a key the province does not list is refused by ZAP and changes nothing;
- a listed child is identified by its key, not by what it claims: a report
  whose path does not start with the child's own id (or runs through
  another child, or loops back) is refused (ACK refused > 0), totals stay;
- truncated and random msgpack, version 2, unknown types, multi-frame and
  oversize messages from a listed key: the node stays up, totals stay, the
  links keep working;
- the same batch delivered twice and an old version after a new one change
  nothing; a removal takes a report back out.

The fake children are Python DEALER sockets with CURVE keys
(cdhttest.hier.FakeChild) speaking proto/PROTOCOL.md directly."""

import os
import random
import time

import msgpack
import zmq

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import (ACK, HELLO, PING, REPORTS, RESYNC, WELCOME,
                           FakeChild, HierModel, HierTestCase, python_keypair,
                           report, wait_for)

YEAR = 2026
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
]
FAKE = "199"  # listed in the province's children file, played by the test


class Security(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hm = HierModel()
        cls.fake_pub, cls.fake_sec = python_keypair()
        cls.nodes = cls.class_tree(SPEC, cls.hm)
        cls.p = cls.nodes["14"]
        cls.p.extra_children.append((FAKE, cls.fake_pub, "Huyện Thử"))
        cls.start_all(cls.nodes)
        rng = random.Random(31)
        for nid in ("03646", "116", "14"):
            node = cls.nodes[nid]
            cls.submit_many(node, cls.hm, gen.assessments(
                rng, 50, (YEAR,), prefix=nid + "-", level=node.level))
            cls.set_population(node, cls.hm, YEAR, gen.population(rng))

    def setUp(self):
        self.assertConverges(self.p, self.hm, (YEAR,), timeout=15,
                             what="before the test:")
        self.base = self.p.progress_doc(YEAR)

    def fake(self, public=None, secret=None):
        f = FakeChild(self.p, public or self.fake_pub,
                      secret or self.fake_sec)
        self.addCleanup(f.close)
        return f

    def assertUnchanged(self, what):
        """Totals equal the model (and the snapshot of setUp)."""
        self.assertAlive(self.p, what)
        self.assertConverges(self.p, self.hm, (YEAR,), timeout=3, what=what)
        now = self.p.progress_doc(YEAR)
        self.assertEqual(now["counts"], self.base["counts"], what)
        self.assertEqual(now["indicators"], self.base["indicators"], what)

    def test_unlisted_key_is_refused(self):
        pub, sec = python_keypair()
        f = self.fake(pub, sec)
        f.send(HELLO, FAKE, "district", "Kẻ Lạ", [])
        f.send(REPORTS, 1, [report("116", YEAR, 10 ** 12, ["116"],
                                   {"assessed": 99999})], [])
        f.send(PING)
        self.assertIsNone(f.recv(2.0), "an unlisted key got an answer")
        wait_for(lambda: ("refused unknown CURVE key " + pub)
                 in self.p.stderr_text(), 5,
                 "the province to log the refused key")
        # a listed id with the wrong key is no better
        f2 = self.fake(*python_keypair())
        f2.send(HELLO, "116", "district", "Thành phố Sơn La", [])
        self.assertIsNone(f2.recv(1.0))
        # nor is a peer without CURVE at all
        ctx = zmq.Context.instance()
        plain = ctx.socket(zmq.DEALER)
        plain.setsockopt(zmq.LINGER, 0)
        self.addCleanup(plain.close, 0)
        plain.connect(self.p.endpoint)
        plain.send(msgpack.packb([1, HELLO, FAKE, "district", "x", []]))
        self.assertEqual(plain.poll(1000), 0)
        self.assertUnchanged("after unlisted keys")
        self.assertNotIn("Kẻ Lạ", str(self.p.nodes_doc()))

    def test_listed_child_cannot_speak_for_others(self):
        f = self.fake()
        w = f.hello(FAKE)
        self.assertEqual(w[2], "14", w)
        self.assertEqual(w[3], [], w)  # nothing wanted: empty inventory
        huge = {"assessed": 100000, "recognized": 100000}
        bad = [
            # path does not start with the sender (it claims to be 116)
            report("03646", YEAR, 10 ** 12, ["116", "03646"], huge),
            report("116", YEAR, 10 ** 12, ["116"], huge, level="district"),
            # runs through another direct child of the province
            report("03646", YEAR, 10 ** 12, [FAKE, "116", "03646"], huge),
            # loops back through the province itself
            report("14", YEAR, 10 ** 12, [FAKE, "14"], huge,
                   level="province"),
        ]
        ack = f.reports(bad)
        self.assertEqual(ack[3], len(bad), "ACK %r: all must be refused" % ack)
        self.assertUnchanged("after refused reports")
        # the same, mixed with a valid one: only the bad ones are refused
        ack = f.reports(bad[:1] + [report(FAKE, YEAR, 1, [FAKE],
                                          {"assessed": 0}, level="district")])
        self.assertEqual(ack[3], 1, ack)
        # a HELLO claiming another id with this key is dropped
        f.send(HELLO, "116", "district", "Thành phố Sơn La", [])
        self.assertIsNone(f.recv(1.0), "HELLO under a foreign id answered")
        self.assertUnchanged("after a foreign HELLO")

    def test_foreign_grandchild_claim_is_refused(self):
        """A keyed child cannot take over a unit held via another child:
        commune 03646 is held via district 116; the fake district claims
        it straight under itself, and under 116's own path through itself,
        at the highest version a parent takes. The province refuses it
        (ACK refused, an alarm in the log, counted in /metrics), nothing
        moves, and 116's later versions keep counting."""
        f = self.fake()
        f.hello(FAKE)
        # the highest version a parent takes: a day ahead of its clock
        top = int(time.time() * 10 ** 6) + 86400 * 10 ** 6
        huge = {"assessed": 100000, "recognized": 100000}
        claims = [
            report("03646", YEAR, top, [FAKE, "03646"], huge),
            report("03699", YEAR, top, [FAKE, "03646", "03699"], huge),
        ]
        before = self.p.metrics()
        ack = f.reports(claims)
        self.assertEqual(ack[3], len(claims), "ACK %r: all refused" % ack)
        self.assertUnchanged("after a claim on another child's commune")
        wait_for(lambda: "ALARM: child %s claims 03646" % FAKE
                 in self.p.stderr_text(), 5, "the alarm in the log")
        after = self.p.metrics()
        self.assertGreaterEqual(
            after.get("cdht_claims_refused_total", 0)
            - before.get("cdht_claims_refused_total", 0), 2, after)
        self.assertNotIn("03699", str(self.p.nodes_doc()))
        kids = {k["node"]["id"]: k for k in
                self.p.progress_doc(YEAR, depth=1)["children"]}
        self.assertNotIn(FAKE, [k for k in kids
                                if kids[k]["counts"]["assessed"] > 0])
        # the honest commune writes again: its new version still wins
        rng = random.Random(7)
        self.submit_many(self.nodes["03646"], self.hm, gen.assessments(
            rng, 3, (YEAR,), prefix="after-claim-", level="commune"))
        self.assertConverges(self.p, self.hm, (YEAR,), timeout=10,
                             what="honest writes after the claim:")
        self.base = self.p.progress_doc(YEAR)
        # the fake child withdraws what it claimed: still nothing moves
        ack = f.reports([], [("03646", YEAR, top), ("03699", YEAR, top)])
        self.assertEqual(ack[3], 0, ack)
        self.assertUnchanged("after the claim was withdrawn")

    def test_duplicates_and_old_versions_change_nothing(self):
        f = self.fake()
        f.hello(FAKE)
        a0 = self.base["counts"]["assessed"]
        v5 = [report(FAKE, YEAR, 5, [FAKE], {"assessed": 7, "recognized": 3},
                     level="district", name="Huyện Thử")]
        self.assertEqual(f.reports(v5)[3], 0)
        wait_for(lambda: self.p.assessed(YEAR) == a0 + 7, 3, "+7")
        # the same batch again (a re-send), twice
        self.assertEqual(f.reports(v5)[3], 0)
        self.assertEqual(f.reports(v5)[3], 0)
        self.assertEqual(self.p.assessed(YEAR), a0 + 7)
        # a newer version replaces, never adds
        v6 = [report(FAKE, YEAR, 6, [FAKE], {"assessed": 9},
                     level="district", name="Huyện Thử")]
        self.assertEqual(f.reports(v6)[3], 0)
        self.assertEqual(self.p.assessed(YEAR), a0 + 9)
        # an old version after the new one, alone and in one batch with it
        self.assertEqual(f.reports(v5)[3], 0)
        self.assertEqual(f.reports(v6 + v5)[3], 0)
        self.assertEqual(self.p.assessed(YEAR), a0 + 9)
        # a new session (reconnect) re-sending old versions: still nothing
        f.close()
        f2 = self.fake()
        w = f2.hello(FAKE, inventory=[(FAKE, YEAR, 5)])
        self.assertEqual(w[3], [], "v5 < held v6: nothing wanted: %r" % (w,))
        self.assertIn([FAKE, YEAR, 6], w[4], "own versions held: %r" % (w,))
        self.assertEqual(f2.reports(v5)[3], 0)
        self.assertEqual(self.p.assessed(YEAR), a0 + 9)
        # removal takes it back out
        self.assertEqual(f2.reports([], removed=[(FAKE, YEAR, 6)])[3], 0)
        self.assertUnchanged("after the removal")

    def test_resync_without_hello(self):
        f = self.fake()
        f.send(PING)
        self.assertEqual(f.expect(RESYNC, 3.0)[1], RESYNC)
        f.send(REPORTS, 1, [report(FAKE, YEAR, 50, [FAKE], {"assessed": 5},
                                   level="district")], [])
        self.assertEqual(f.expect(RESYNC, 3.0)[1], RESYNC)
        self.assertUnchanged("REPORTS without HELLO")

    def test_garbage_from_a_listed_key(self):
        f = self.fake()
        rng = random.Random(41)
        good = msgpack.packb([1, REPORTS, 1, [report(
            FAKE, YEAR, 1000, [FAKE], {"assessed": 500}, level="district")],
            []])
        hello = msgpack.packb([1, HELLO, FAKE, "district", "x",
                               [[FAKE, YEAR, 1]]])
        f.hello(FAKE)
        junk = [
            b"", b"\xc1", b"\x92\x01", hello[:-1], good[:-1],
            good[: len(good) // 2], good + b"\x00",
            b"\xdd\xff\xff\xff\xff",                # array32 of 4G
            b"\x95\x01\x03\x01\xdd\xff\xff\xff\xff\x90",
            b"\x91" * 100 + b"\x01",               # nested 100 deep
            msgpack.packb([2, REPORTS, 1, [], []]),  # version 2
            msgpack.packb([1, 99]),                 # unknown type
            msgpack.packb([1, ACK, 1, 0]),          # a parent's message
            msgpack.packb({"v": 1}),
            msgpack.packb([1, REPORTS, 2, [[FAKE, "district", "x", 2031, 1,
                                            0, [FAKE], [1] * 32]], []]),
            msgpack.packb([1, REPORTS, 3, [[FAKE, "district", "x", YEAR, 1,
                                            0, [FAKE], [-1] * 32]], []]),
            msgpack.packb([1, REPORTS, 4, [[FAKE, "district", "x", YEAR, 1,
                                            0, [FAKE], [1] * 31]], []]),
            msgpack.packb([1, REPORTS, 5, [[FAKE, "district", "x\x01", YEAR,
                                            1, 0, [FAKE], [1] * 32]], []]),
        ]
        for _ in range(300):
            junk.append(os.urandom(rng.randrange(1, 300)))
            b = bytearray(good)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            junk.append(bytes(b))
        for j in junk:
            f.send_raw(j)
        f.sock.send_multipart([good, good])  # two frames: dropped whole
        # whatever was answered, nothing but ACKs (of mutants that happened
        # to stay valid) or RESYNC may come back; then the link still works
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            m = f.recv(0.2)
            if m is not None:
                self.assertIn(m[1], (ACK, RESYNC, WELCOME), m)
        self.assertAlive(self.p, "after garbage")
        # mutants could be valid reports of FAKE: clear them with a HELLO
        # that lists nothing, then everything must be as before
        f2 = self.fake()
        f2.hello(FAKE)
        self.assertUnchanged("after garbage")
        # an oversize message makes libzmq drop the connection; the node
        # stays, the child reconnects and is welcome again
        f2.send_raw(b"\x00" * (16 * 1024 * 1024 + 1))
        time.sleep(0.3)
        self.assertAlive(self.p, "after an oversize message")
        wait_for(lambda: self._hello_ok(), 10, "a HELLO after the oversize "
                 "message")
        self.assertIn("dropped a", self.p.stderr_text())
        # the real links are fine: a commune write reaches the province
        c = self.nodes["03646"]
        self.submit_one(c, self.hm, gen.assessments(
            rng, 1, (YEAR,), prefix="after-junk-", attend=1.0)[0])
        self.assertConverges(self.p, self.hm, (YEAR,), timeout=5,
                             what="commune write after the garbage")

    def _hello_ok(self):
        f = self.fake()
        try:
            f.hello(FAKE, timeout=1.0)
            return True
        except AssertionError:
            return False


class UnlistedDaemon(HierTestCase):
    def test_unlisted_daemon_refused_until_listed(self):
        """A real cdhtd whose key the province does not list: refused by
        ZAP, both sides say so in their logs, nothing of it is counted.
        Once the province lists it (and restarts), it joins by itself."""
        hm = HierModel()
        p = self.make_hier("province", "14", "Tỉnh Sơn La")
        c = self.make_hier("commune", "03646", "Phường Chiềng Lề")
        c.parent = p               # knows its parent; the parent not it
        p.extra_children.append(("777", python_keypair()[0], "Xã Khác"))
        hm.add_node("14")
        hm.add_node("03646", "14")
        p.start()
        c.start()
        rng = random.Random(51)
        self.submit_many(c, hm, gen.assessments(rng, 30, (YEAR,),
                                                prefix="u-"))
        wait_for(lambda: "refused our key " + c.up_pub in c.stderr_text(),
                 5, "the child to log the refusal")
        self.assertIn("refused unknown CURVE key " + c.up_pub,
                      p.stderr_text())
        time.sleep(0.5)
        self.assertEqual(p.assessed(YEAR), 0)
        self.assertNotIn("03646", str(p.nodes_doc()["nodes"]))
        # listed now: the child redials by itself (libzmq would not)
        self.assertEqual(p.stop(), 0)
        p.children.append(c)
        p.start()
        self.assertConverges(p, hm, (YEAR,), timeout=20,
                             what="after listing the child:")


if __name__ == "__main__":
    main()
