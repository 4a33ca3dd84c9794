"""`cdht backup` under a write load, and a restore that converges.

A province 14 with communes 04108 and 04105 (two levels).  A thread posts
new assessments (one new person each) to 04108 as fast as it is answered,
recording when each request was sent and when its 200 came back, while
`cdht backup DEST` runs (the README's command, with --conf naming the
test's conf).  The copy must:
- be DEST/data.mdb, mode 0600, in DEST 0700;
- open: a node started on it (an empty data_dir holding only data.mdb,
  README "Backup and restore") serves it;
- hold every assessment acknowledged before the backup started and none
  sent after it finished (the snapshot lies between), and its counters
  must equal the independent model of exactly the records it holds.
Then 04108 is restored from that copy while the province holds newer
versions of 04108's reports (everything written after the backup): with
no manual step the province's figures and 04108's own must both equal the
model of the copy, and writes made after the restore must reach the
province.  Every wait is bounded.

And a node frozen (SIGSTOP) right after a stream of writes, its last
acknowledged turns still only in its journal and open transaction: the
backup asks it for its backup mark and waits; once the node runs again
the copy holds every write acknowledged before the freeze.  Without the
mark the copy lacks them.
"""

import os
import random
import shutil
import signal
import stat
import subprocess
import threading
import time

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase, submit_many
from cdhttest.node import (REPO, Node, Session, cdht_path, cdhtd_path,
                           quote_pid)

YEARS = (2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("04108", "commune", "Xã Chiềng Sung", "14"),
    ("04105", "commune", "Xã Mai Sơn", "14"),
]


class Writer(threading.Thread):
    """New persons, one POST each, until stopped: (assessment, sent, acked)
    with monotonic times; only answered (200) ones are kept."""

    def __init__(self, node, seed):
        super().__init__(daemon=True)
        self.node = node
        self.rng = random.Random(seed)
        self.stop_ev = threading.Event()
        self.done = []
        self.error = None

    def run(self):
        s = Session(self.node, role="clerk")
        try:
            while not self.stop_ev.is_set():
                a = gen.assessments(self.rng, 1, (self.rng.choice(YEARS),),
                                    prefix="w%d-" % len(self.done),
                                    attend=1.0)[0]
                sent = time.monotonic()
                r = s.request("POST", "/v1/assessments", a, timeout=10)
                acked = time.monotonic()
                if r.status != 200:
                    self.error = repr(r)
                    return
                self.done.append((a, sent, acked))
        except Exception as e:  # surfaced by finish()
            self.error = repr(e)
        finally:
            s.close()

    def finish(self, case):
        self.stop_ev.set()
        self.join(20)
        case.assertFalse(self.is_alive(), "writer stuck")
        case.assertIsNone(self.error, "writer")


class Backup(HierTestCase):
    def test_backup_under_load_then_restore(self):
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertIn("\ncdht backup /var/backups/cdht/", readme)

        hm = HierModel()
        n = self.tree(SPEC, hm)
        self.start_all(n)
        c = n["04108"]
        rng = random.Random(11)
        seed = gen.assessments(rng, 300, YEARS, prefix="s-", attend=1.0)
        submit_many(c, hm, seed)
        submit_many(n["04105"], hm,
                    gen.assessments(rng, 50, YEARS, prefix="o-", attend=1.0))

        w = Writer(c, 5)
        w.start()
        dest = os.path.join(c.dir, "backup-1")
        try:
            time.sleep(0.5)
            env = dict(os.environ, PATH=os.path.dirname(cdhtd_path()) +
                       os.pathsep + os.environ.get("PATH", ""))
            t0 = time.monotonic()
            p = subprocess.run([cdht_path(), "backup", "--conf",
                                c.conf_path, dest], capture_output=True,
                               text=True, timeout=60, env=env)
            t1 = time.monotonic()
            time.sleep(0.5)
        finally:
            w.finish(self)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        copy = os.path.join(dest, "data.mdb")
        self.assertIn("written to %s" % copy, p.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(copy).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o700)
        before = [a for a, sent, acked in w.done if acked < t0]
        after = [a for a, sent, acked in w.done if sent > t1]
        self.assertGreater(len(before), 20, "too little load before")
        self.assertGreater(len(after), 20, "too little load after")
        for a, _, _ in w.done:
            hm.local("04108").submit(a)

        # a second backup into the same DEST is refused: nothing replaced
        p2 = subprocess.run([cdht_path(), "backup", "--conf", c.conf_path,
                             dest], capture_output=True, text=True,
                            timeout=60, env=env)
        self.assertEqual(p2.returncode, 1)

        # the copy opens: a node on an empty data_dir holding data.mdb
        d = os.path.join(c.dir, "opened")
        os.makedirs(d)
        probe = Node(d, level="commune", id="04108", name="Xã Chiềng Sung")
        self.addCleanup(probe.cleanup)
        os.makedirs(probe.data_dir, mode=0o700)
        shutil.copy(copy, os.path.join(probe.data_dir, "data.mdb"))
        probe.start()
        held = model.Model()
        s = Session(probe, role="clerk")
        present = set()
        try:
            for a in seed:
                held.submit(a)
            for a, _, _ in w.done:
                r = s.request("GET", "/v1/assessments/%d/%s"
                              % (a["year"], quote_pid(a["person_id"])),
                              timeout=10)
                self.assertIn(r.status, (200, 404), r)
                if r.status == 200:
                    present.add(a["person_id"])
                    held.submit(a)
        finally:
            s.close()
        missing = [a["person_id"] for a in before
                   if a["person_id"] not in present]
        extra = [a["person_id"] for a in after if a["person_id"] in present]
        self.assertEqual(missing, [], "acknowledged before the backup")
        self.assertEqual(extra, [], "sent after the backup")
        self.assertProgress(probe, held, YEARS)
        self.assertEqual(probe.stop(), 0)

        # the province holds every write, the copy's and the later ones
        self.assertConverges(n["14"], hm, YEARS, timeout=20,
                             what="before the restore:")
        self.assertLess(len(present), len(w.done))

        # restore 04108 from the copy: stop, an empty data_dir with
        # data.mdb only, start
        self.assertEqual(c.stop(), 0)
        shutil.rmtree(c.data_dir)
        os.makedirs(c.data_dir, mode=0o700)
        shutil.copy(copy, os.path.join(c.data_dir, "data.mdb"))
        hm.models["04108"] = held
        c.start()
        self.assertConverges(c, hm, YEARS, timeout=10,
                             what="the restored commune:")
        self.assertConverges(n["14"], hm, YEARS, timeout=20,
                             what="the province after the restore:")

        # and it goes on: new writes at the restored commune go up
        submit_many(c, hm, gen.assessments(rng, 40, YEARS, prefix="n-",
                                           attend=1.0))
        self.assertConverges(n["14"], hm, YEARS, timeout=15,
                             what="the province, writes after the restore:")

    def test_backup_waits_for_a_frozen_node(self):
        hm = HierModel()
        n = self.tree(SPEC, hm)
        self.start_all(n)
        c = n["04108"]
        w = Writer(c, 7)
        w.start()
        dest = os.path.join(c.dir, "backup-frozen")
        env = dict(os.environ, PATH=os.path.dirname(cdhtd_path()) +
                   os.pathsep + os.environ.get("PATH", ""))
        try:
            time.sleep(0.7)
            os.kill(c.proc.pid, signal.SIGSTOP)
            time.sleep(0.2)  # answers already on their way are read
            acked = [a for a, _, _ in w.done]
            p = subprocess.Popen([cdht_path(), "backup", "--conf",
                                  c.conf_path, dest], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True,
                                 env=env)
            time.sleep(0.5)
            # it waits for the frozen node's mark
            self.assertIsNone(p.poll(), "the backup did not wait")
        finally:
            os.kill(c.proc.pid, signal.SIGCONT)
        out, _ = p.communicate(timeout=60)
        w.finish(self)
        self.assertEqual(p.returncode, 0, out)
        self.assertGreater(len(acked), 20, "too little load before")
        self.assertIn("backup mark written", c.stderr_text())

        d = os.path.join(c.dir, "opened-frozen")
        os.makedirs(d)
        probe = Node(d, level="commune", id="04108", name="Xã Chiềng Sung")
        self.addCleanup(probe.cleanup)
        os.makedirs(probe.data_dir, mode=0o700)
        shutil.copy(os.path.join(dest, "data.mdb"),
                    os.path.join(probe.data_dir, "data.mdb"))
        probe.start()
        s = Session(probe, role="clerk")
        try:
            missing = [a["person_id"] for a in acked
                       if s.request("GET", "/v1/assessments/%d/%s"
                                    % (a["year"], quote_pid(a["person_id"])),
                                    timeout=10).status != 200]
        finally:
            s.close()
        self.assertEqual(missing, [], "acknowledged before the freeze")
        self.assertEqual(probe.stop(), 0)


if __name__ == "__main__":
    main()
