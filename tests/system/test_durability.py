"""Durability: a clean restart keeps everything; kill -9 in the middle of a
stream of concurrent submissions loses no acknowledged write; a full LMDB
map answers 507 storage_full and keeps everything acknowledged before."""

import os
import random
import threading
import time

from cdhttest import gen
from cdhttest.case import REC, NodeTestCase, assessment, main, record_diff
from cdhttest.model import Model
from cdhttest.node import Session

STREAM_SECONDS = 1.5
THREADS = 4


class Writer(threading.Thread):
    """Posts (or replaces, or withdraws) assessments as fast as it can until
    told to stop or the node goes away.  Owns its person ids, so the order of
    its operations on a key is the order the node saw them.

    log: [(key, state, acked)] in order; state is the assessment dict or
    None for a withdrawal; acked is True once the node answered 200."""

    def __init__(self, node, tid, stop, batch=0):
        super().__init__(daemon=True)
        self.node, self.tid, self.stop_ev, self.batch = node, tid, stop, batch
        self.log = []
        self.error = None
        self.rng = random.Random(1000 + tid)
        self.present = set()

    def new_op(self):
        rng = self.rng
        key = (rng.randint(2022, 2026), "t%d-p%02d" % (self.tid, rng.randrange(40)))
        if key in self.present and rng.random() < 0.15 and not self.batch:
            return key, None
        sc = gen.scores_recognized(rng) if rng.random() < 0.8 else gen.scores_random(rng)
        a = assessment(key[0], key[1], sc, group=rng.choice(gen.GROUPS),
                       population=rng.choice(("adult", "staff")),
                       digital=rng.choice(gen.DIGITAL))
        return key, a

    def run(self):
        try:
            while not self.stop_ev.is_set():
                if self.batch:
                    ops = {}
                    while len(ops) < self.batch:
                        k, a = self.new_op()
                        ops[k] = a
                    ops = list(ops.items())
                else:
                    ops = [self.new_op()]
                first = len(self.log)
                for k, a in ops:
                    self.log.append([k, a, False])
                try:
                    if self.batch:
                        r = self.node.post([a for _, a in ops], timeout=10)
                    elif ops[0][1] is None:
                        r = self.node.delete(ops[0][0][0], ops[0][0][1],
                                             timeout=10)
                    else:
                        r = self.node.post(ops[0][1], timeout=10)
                except OSError:
                    return  # the node was killed: these stay in flight
                if r.status != 200:
                    return
                if self.batch:
                    doc = r.json
                    for x in doc.get("results", []):
                        i = x["index"]
                        self.log[first + i][2] = True
                        self.present.add(ops[i][0])
                    if doc.get("rejected"):
                        self.error = "batch items rejected: %r" % r
                        return
                else:
                    self.log[first][2] = True
                    if ops[0][1] is None:
                        self.present.discard(ops[0][0])
                    else:
                        self.present.add(ops[0][0])
        except Exception as e:  # reported by the test
            self.error = repr(e)


def same_record(got, a):
    return not [d for d in record_diff(got, dict(a, updated_at=0))
                if not d.startswith("updated_at")]


class DurabilityTest(NodeTestCase):

    def check_all(self, n, m, keys, years, what):
        s = Session(n)
        try:
            for (y, pid) in sorted(keys):
                self.assertRecord(s.get(y, pid), m, y, pid, what)
        finally:
            s.close()
        self.assertProgress(n, m, years)

    def test_restart_keeps_everything(self):
        n = self.make_node()
        m = Model()
        rng = random.Random(5)
        items = gen.assessments(rng, 60, range(2021, 2027), star_share=0.3)
        for i in range(0, len(items), 50):
            r = n.post(items[i:i + 50])
            self.assertStatus(r, 200)
            self.assertEqual(r.json.get("rejected"), 0, r)
        for a in items:
            m.submit(a)
        for y in (2021, 2025, 2026):
            p = gen.population(rng)
            self.assertStatus(n.put_population(y, p), 200)
            m.set_population(y, p)
        gone = items[::7]
        for a in gone:
            self.assertStatus(n.delete(a["year"], a["person_id"]), 200)
            m.withdraw(a["year"], a["person_id"])
        keys = {(a["year"], a["person_id"]) for a in items}
        years = range(2021, 2028)
        self.check_all(n, m, keys, years, "before restart")
        before = {y: n.progress(y).json for y in years}
        rc = n.stop()
        self.assertEqual(rc, 0, "exit code on SIGTERM; stderr:\n%s"
                         % n.stderr_tail())
        self.assertEqual(n.stdout_text(), "", "cdhtd wrote to stdout")
        n.start()
        self.check_all(n, m, keys, years, "after restart")
        for y in years:
            self.assertEqual(n.progress(y).json.get("counts"),
                             before[y].get("counts"), "counts %d" % y)
        for y in (2021, 2025, 2026):
            g = n.get_population(y)
            self.assertStatus(g, 200)
            self.assertEqual({k: g.json.get(k) for k in m.population[y]},
                             m.population[y])
        self.assertEqual(n.get_population(2022).status, 404)
        # and it keeps working
        a = assessment(2027, gone[0]["person_id"], REC)
        self.assertStatus(n.post(a), 200)
        m.submit(a)
        self.assertProgress(n, m, [2027])

    def test_kill9_right_after_ack(self):
        n = self.make_node()
        m = Model()
        a = assessment(2026, "last-words", REC)
        self.assertStatus(n.post(a), 200)
        m.submit(a)
        p = {"adults": 12}
        self.assertStatus(n.put_population(2026, p), 200)
        m.set_population(2026, p)
        n.kill9()
        n.start()
        self.check_all(n, m, [(2026, "last-words")], [2026], "after kill -9")

    def test_kill9_during_stream(self):
        n = self.make_node()
        stop = threading.Event()
        writers = [Writer(n, t, stop) for t in range(THREADS)]
        writers.append(Writer(n, THREADS, stop, batch=10))
        t0 = time.monotonic()
        for w in writers:
            w.start()
        time.sleep(STREAM_SECONDS)
        n.kill9()  # while the writers are mid-request
        stop.set()
        self.check_after_kill9(n, writers, t0)

    def test_kill9_during_stream_slow_disk(self):
        """The same on a slow disk (each flush 2 ms longer, by the
        LD_PRELOAD library tests/bench/slow_fsync.c) with 32 writers: big
        turns' flushes go to the flusher thread while the loop takes the
        next writes (cdht_commit_offloaded_total moves), and kill -9 still
        loses nothing acknowledged."""
        lib = os.environ.get("CDHT_SLOW_FSYNC", "")
        self.assertTrue(os.path.exists(lib), "CDHT_SLOW_FSYNC=%r: run "
                        "through ctest (tests/system/CMakeLists.txt)" % lib)
        n = self.make_node(start=False)
        asan = os.environ.get("ASAN_OPTIONS", "")
        # under ASan the preloaded library comes before its runtime
        n.env = {"LD_PRELOAD": lib, "CDHT_BENCH_FSYNC_US": "2000",
                 "ASAN_OPTIONS": (asan + ":" if asan else "")
                 + "verify_asan_link_order=0"}
        n.start()
        stop = threading.Event()
        writers = [Writer(n, t, stop) for t in range(32)]
        writers.append(Writer(n, 32, stop, batch=10))
        t0 = time.monotonic()
        for w in writers:
            w.start()
        offloaded = 0
        deadline = time.monotonic() + 30
        while offloaded == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            offloaded = n.metrics().get("cdht_commit_offloaded_total", 0)
        self.assertGreater(offloaded, 0, "no flush went to the thread")
        time.sleep(0.5)
        n.kill9()  # while the writers are mid-request
        stop.set()
        n.env = None  # the restart and the checks at the disk's own pace
        self.check_after_kill9(n, writers, t0)

    def check_after_kill9(self, n, writers, t0):
        """Every acknowledged write of writers is there after a restart;
        the counters lie between the acknowledged set and it plus what was
        in flight."""
        for w in writers:
            w.join(30)
            self.assertFalse(w.is_alive(), "a writer thread hung")
            self.assertIsNone(w.error, "writer %d: %s" % (w.tid, w.error))
        acked_ops = sum(1 for w in writers for e in w.log if e[2])
        inflight_ops = sum(1 for w in writers for e in w.log if not e[2])
        self.assertGreater(acked_ops, 50, "the stream hardly ran (%d acked in "
                           "%.1fs)" % (acked_ops, time.monotonic() - t0))
        n.start()

        # per key: the state after its last acknowledged operation, and the
        # states of the operations after it (in flight when the node died)
        acceptable = {}
        for w in writers:
            per_key = {}
            for k, a, acked in w.log:
                per_key.setdefault(k, []).append((a, acked))
            for k, ops in per_key.items():
                last = max([i for i, (_, ok) in enumerate(ops) if ok],
                           default=-1)
                states = [ops[last][0] if last >= 0 else None]
                states += [a for a, _ in ops[last + 1:]]
                acceptable[k] = (states, last >= 0)
        m = Model()
        lost = []
        s = Session(n)
        try:
            for k in sorted(acceptable):
                states, _ = acceptable[k]
                r = s.get(*k)
                if r.status == 404:
                    actual = None
                else:
                    self.assertStatus(r, 200, "GET %r" % (k,))
                    actual = r.json
                ok = False
                for st in states:
                    if st is None and actual is None:
                        ok = True
                    elif st is not None and actual is not None \
                            and same_record(actual, st):
                        ok = True
                        m.submit(st)
                    if ok:
                        break
                if not ok:
                    lost.append("%r: acknowledged %r, found %r (in flight: %r)"
                                % (k, states[0], actual, states[1:]))
        finally:
            s.close()
        self.assertEqual(lost, [], "acknowledged writes lost or corrupted "
                         "after kill -9 (%d acked ops, %d in flight)"
                         % (acked_ops, inflight_ops))
        # the counters equal the model of exactly what is stored...
        years = range(2022, 2027)
        self.assertProgress(n, m, years)
        # ...which lies between the acknowledged set and acked + in flight
        acked_model = Model()
        for k, (states, _) in acceptable.items():
            if states[0] is not None:
                acked_model.submit(states[0])
        n_inflight = len([1 for st, _ in acceptable.values() if len(st) > 1])
        for y in years:
            got = n.progress(y).json["counts"]["assessed"]
            want = acked_model.counts(y)["assessed"]
            self.assertTrue(want - n_inflight <= got <= want + n_inflight,
                            "year %d assessed %d, acknowledged %d, in flight %d"
                            % (y, got, want, n_inflight))
        # and the node takes writes again
        a = assessment(2026, "after-crash", REC)
        self.assertStatus(n.post(a), 200)

    def test_sigterm_during_stream(self):
        """SIGTERM while 16 writers are busy, four times over on the same
        data: every time cdhtd exits 0 promptly and every acknowledged write
        is there after the restart."""
        n = self.make_node()
        bad_exits = []
        all_writers = []
        for rnd in range(4):
            stop = threading.Event()
            writers = [Writer(n, rnd * 100 + t, stop) for t in range(12)]
            writers += [Writer(n, rnd * 100 + 50 + t, stop, batch=10)
                        for t in range(4)]
            for w in writers:
                w.start()
            time.sleep(0.5)
            rc = n.stop()
            stop.set()
            for w in writers:
                w.join(30)
                self.assertFalse(w.is_alive(), "a writer thread hung")
                self.assertIsNone(w.error, "writer %d: %s" % (w.tid, w.error))
            if rc != 0:
                bad_exits.append("round %d: exit %d" % (rnd, rc))
            all_writers += writers
            n.start()
            self.assertEqual(self.lost_writes(n, all_writers), [],
                             "acknowledged writes lost after SIGTERM "
                             "(round %d)" % rnd)
        self.assertEqual(bad_exits, [], "cdhtd did not exit 0 on SIGTERM "
                         "under load; stderr:\n%s" % n.stderr_tail(4000))

    def lost_writes(self, n, writers):
        s = Session(n)
        lost = []
        try:
            for w in writers:
                last = {}
                for k, a, acked in w.log:
                    if acked:
                        last[k] = a
                    else:
                        last.pop(k, None)  # in flight: either is fine
                for k, a in last.items():
                    r = s.get(*k)
                    if a is None:
                        if r.status != 404:
                            lost.append("%r withdrawn but %r" % (k, r))
                    elif r.status != 200 or not same_record(r.json, a):
                        lost.append("%r: want %r, got %r" % (k, a, r))
        finally:
            s.close()
        return lost

    def test_storage_full(self):
        n = self.make_node(map_size_mb=2)
        acked, maybe = {}, {}
        full_resp = None
        deadline = time.monotonic() + 90
        i = 0

        def batch(k):
            nonlocal i
            out = []
            for _ in range(k):
                out.append(assessment(2026, "full-%06d" % i, REC,
                                      name="Nguyễn Văn Đầy %06d " % i + "x" * 150,
                                      birth_year=1980))
                i += 1
            return out

        # fill it with batches, then single submissions until one is refused
        for size in (50, 1):
            for _ in range(3000):
                self.assertLess(time.monotonic(), deadline,
                                "no 507 after %d submissions into a 2 MB map"
                                % i)
                items = batch(size)
                r = n.post(items if size > 1 else items[0])
                if r.status == 507:
                    full_resp = r
                    self.assertError(r, 507, "storage_full")
                    for a in items:
                        maybe[a["person_id"]] = a
                    break
                self.assertStatus(r, 200, "submission %d" % i)
                doc = r.json
                if size == 1:
                    acked[items[0]["person_id"]] = items[0]
                    continue
                for x in doc.get("results", []):
                    acked[items[x["index"]]["person_id"]] = items[x["index"]]
                for e in doc.get("errors", []):
                    self.assertEqual(e.get("code"), "storage_full", e)
                    maybe[items[e["index"]]["person_id"]] = items[e["index"]]
                if doc.get("rejected"):
                    full_resp = r
                    break
        self.assertIsNotNone(full_resp)
        # a few more: refused again, cleanly
        for _ in range(5):
            a = batch(1)[0]
            r = n.post(a)
            if r.status == 200:
                acked[a["person_id"]] = a
            else:
                self.assertError(r, 507, "storage_full")
                maybe[a["person_id"]] = a
        self.assertAlive(n, "after storage_full")
        self.assertGreater(len(acked), 100, "the map filled implausibly fast")

        def check(what):
            m = Model()
            s = Session(n)
            try:
                for pid, a in acked.items():
                    r = s.get(2026, pid)
                    self.assertStatus(r, 200, "%s: acknowledged %s" % (what, pid))
                    self.assertTrue(same_record(r.json, a), "%s: %s: %r"
                                    % (what, pid, r))
                    m.submit(a)
                for pid, a in maybe.items():
                    r = s.get(2026, pid)
                    if r.status == 200:
                        self.assertTrue(same_record(r.json, a))
                        m.submit(a)
                    else:
                        self.assertStatus(r, 404)
            finally:
                s.close()
            self.assertProgress(n, m, [2026])

        check("when full")
        n.restart()
        check("after restart")
        r = n.post(batch(1)[0])
        self.assertIn(r.status, (200, 507), r)
        self.assertAlive(n, "after restart when full")


if __name__ == "__main__":
    main()
