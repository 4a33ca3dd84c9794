"""Rolling upgrade: a hierarchy started with the binaries of an earlier
release is upgraded node by node to the binaries under test, on the same
LMDB data directories, confs and CURVE keys, children first.

The tree: province 14 with districts 116 and 118 (two communes each) and
commune 04108 straight under the province.  Every node records its own data
(communes their residents, districts and the province their agencies'
staff), seeded through the old nodes' HTTP API with replacements and
withdrawals; the expected numbers come from the independent model
(cdhttest/model.py) applied to the same inputs.

After every single-node upgrade:
  - the province's GET /v1/progress (every counter and indicator, and the
    drill-down to the communes) equals the model exactly;
  - every record the node held answers GET exactly as the old binary
    answered it just before the upgrade (and as the model says), withdrawn
    ones 404; its denominators too;
  - new writes at the upgraded node (JSON, CSV, a replacement and a
    withdrawal of old records, denominators) reach the province exactly,
    while the nodes above it still run the old binary.

The old node is stopped cleanly (SIGTERM), except one of a release with the
write-ahead journal DATA_DIR/journal (WITH_JOURNAL: 0.4.0, 0.5.0, 0.5.1): it is
killed
(kill -9) while single writes of new records still arrive, a few of them
acknowledged.  The stream begins once the journal has had no write for a
second, so its first commit checkpoints and the acknowledged writes after
it, all within well under a second, are only in the journal: the binaries
under test must log the replay of at least those (then migrate), and the
checks above include every acknowledged write (each of the stream answers
GET as the model says), and the one in flight if it was kept.  The
directory of a release without the journal has no such file.  The first
node upgraded is killed once more, under the binaries under test, after
its new writes, and keeps everything again.

Then the downgrade (DOWNGRADE_TO: 0.5.0 and 0.5.1, with 0.5.2's schema and
journal format): the whole tree on the binaries under test, district DOWNGRADE_NODE
(its directory written by the old release, then by the binaries under test)
goes back to the old release's binaries while its parent and children stay
new: (a) after a clean stop (SIGTERM), with no replay and no schema step in
its log; (b) after the binaries under test, started once more, are killed
(kill -9) mid-stream as above, their acknowledged writes past the
checkpoint only in their journal: the old cdhtd must log the replay of at
least those.  Each time every record answers GET as just before (and as the
model says), the province's progress equals the model, and new writes at
the downgraded node reach the province exactly.

UPGRADE_FROM lists the releases a node may be upgraded from (0.1.0, 0.2.0,
0.3.0, 0.3.1, 0.4.0, 0.5.0 and 0.5.1, with data schemas 1, 2, 3, 3, 3, 4
and 4; 0.4.0 added the journal file, 0.5.0 schema 4's year-first keys,
0.5.1 and 0.5.2 no change to the data, 0.5.2 commits that are in the
journal but not yet in data.mdb, which 0.5.1 replays as its own): keep
each one for as long
as upgrades from it are supported.  A node of an older release shows the
counts of its release exactly and none added later (ADDED_COUNTS); the
binaries under test show every count, for every unit below, once the
subtree is upgraded: eligible by group (= recognized by group: recognition
by score) and the filing counts (nothing is filed).  Each is built from this
repository's history into BUILD_DIR/old-<rev> (reused when already built);
without git or without the commit the test fails, it never skips.
"""

import fcntl
import http.client
import os
import random
import re
import shutil
import subprocess
import threading
import time

from cdhttest import gen, model
from cdhttest.case import main, record_diff
from cdhttest.hier import HierModel, HierTestCase, wait_for
from cdhttest.node import REPO, Session, cdht_path, cdhtd_path

# Releases a node may be upgraded from (commit: release); c7401c9 is the
# first release (schema 1), c816ee6 the second (schema 2), 8907b70 the
# third (schema 3), 65308d9 the fourth (schema 3, no journal), 93cfe4f the
# fifth (schema 3 and a journal, which it may leave unreplayed after kill -9),
# c5a5c57 the sixth (schema 4 and the journal: the data directory as is),
# 7f339ed the seventh (the same).
RELEASE_OF = {"c7401c9": "0.1.0", "c816ee6": "0.2.0", "8907b70": "0.3.0",
              "65308d9": "0.3.1", "93cfe4f": "0.4.0", "c5a5c57": "0.5.0",
              "7f339ed": "0.5.1"}
UPGRADE_FROM = ["c7401c9", "c816ee6", "8907b70", "65308d9", "93cfe4f",
                "c5a5c57", "7f339ed"]
# Releases of UPGRADE_FROM whose nodes keep the write-ahead journal
# DATA_DIR/journal: the node being upgraded is stopped by kill -9 with an
# unreplayed journal (kill_mid_stream), the others cleanly.
WITH_JOURNAL = {"93cfe4f", "c5a5c57", "7f339ed"}
# Releases of UPGRADE_FROM that open a data directory of the binaries under
# test as it is (the same schema and journal format): once the whole tree
# is upgraded, DOWNGRADE_NODE goes back to such a release, after a clean
# stop and after kill -9 (downgrade).  A release leaves this set when the
# binaries under test change the schema or the journal.
DOWNGRADE_TO = {"c5a5c57", "7f339ed"}
DOWNGRADE_NODE = "116"   # a district: its parent and children stay new
CURRENT = "0.5.2"   # the release under test

YEARS = tuple(range(2021, 2027))   # six years: outstanding chains form
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("118", "district", "Huyện Quỳnh Nhai", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
    ("03682", "commune", "Xã Mường Chiên", "118"),
    ("03685", "commune", "Xã Cà Nàng", "118"),
    ("04108", "commune", "Xã Chiềng Sung", "14"),
]
INFO = {nid: {"id": nid, "level": lvl, "name": name}
        for nid, lvl, name, _ in SPEC}
# Children first, then the districts, then the province.
ORDER = ["03646", "03649", "03682", "03685", "04108", "116", "118", "14"]
PERSONS = {"commune": 50, "district": 15, "province": 15}
CONVERGE = 30.0
BUILD_TIMEOUT = 600
# A journaled release checkpoints at a commit once its last checkpoint is
# this old (STORE_CHECKPOINT_MS of 0.4.0); and the acknowledged writes of
# the stream before its kill -9.
CHECKPOINT_S = 1.0
KILL_AFTER = 5
REPLAYED = re.compile(r"not stopped cleanly: (\d+) transactions replayed")


# -- the old binaries ---------------------------------------------------
def build_dir():
    """The build tree the binaries under test come from (CTest passes it;
    otherwise the directory two levels above cdhtd)."""
    d = os.environ.get("CDHT_BUILD_DIR")
    if d:
        return d
    return os.path.dirname(os.path.dirname(os.path.abspath(cdhtd_path())))


def _git(*args):
    return subprocess.run(["git", "-C", REPO] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


def _tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def old_binaries(rev):
    """(cdhtd, cdht) of commit rev, built into BUILD_DIR/old-<rev> unless a
    complete build of the same commit is there already.  Raises
    AssertionError, saying why, when git or the commit is missing or the
    build fails."""
    if shutil.which("git") is None:
        raise AssertionError("git is not installed: the upgrade test builds "
                             "release %s from the history of %s" % (rev, REPO))
    p = _git("rev-parse", "--verify", "--quiet", rev + "^{commit}")
    if p.returncode != 0:
        raise AssertionError(
            "release %s (UPGRADE_FROM) is not a commit of %s (%s): a shallow "
            "clone or an export without history? Fetch it (git fetch "
            "--unshallow) and run again" % (rev, REPO,
                                            p.stderr.decode().strip()
                                            or "rev-parse failed"))
    sha = p.stdout.decode().strip()
    cache = os.path.join(build_dir(), "old-%s" % rev)
    src, bld = os.path.join(cache, "src"), os.path.join(cache, "build")
    bins = (os.path.join(bld, "daemon", "cdhtd"),
            os.path.join(bld, "client", "cdht"))
    stamp = os.path.join(cache, "built")
    os.makedirs(cache, exist_ok=True)
    with open(cache + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # another run building it
        try:
            with open(stamp) as f:
                done = f.read().strip() == sha
        except OSError:
            done = False
        if done and all(os.access(b, os.X_OK) for b in bins):
            return bins
        if os.path.exists(stamp):
            os.unlink(stamp)
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(bld, ignore_errors=True)
        os.makedirs(src)
        log = os.path.join(cache, "build.log")
        with open(log, "wb") as out:
            arch = subprocess.Popen(["git", "-C", REPO, "archive", sha],
                                    stdout=subprocess.PIPE, stderr=out)
            tar = subprocess.run(["tar", "-x", "-C", src], stdin=arch.stdout,
                                 stdout=out, stderr=out, timeout=120)
            arch.stdout.close()
            if arch.wait(120) != 0 or tar.returncode != 0:
                raise AssertionError("git archive %s | tar failed:\n%s"
                                     % (sha, _tail(log)))
            # The release as its authors built it, without the caller's
            # compiler flags; nice, so that tests running alongside keep
            # their timing.
            env = {k: v for k, v in os.environ.items()
                   if k not in ("CFLAGS", "CPPFLAGS", "LDFLAGS",
                                "MAKEFLAGS")}
            cmake = os.environ.get("CDHT_CMAKE") or "cmake"
            for argv in ([cmake, "-S", src, "-B", bld,
                          "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                          "-DCDHT_WERROR=OFF", "-DBUILD_TESTING=OFF"],
                         [cmake, "--build", bld, "--target", "cdhtd", "cdht",
                          "-j%d" % (os.cpu_count() or 2)]):
                out.write(("$ %s\n" % " ".join(argv)).encode())
                out.flush()
                r = subprocess.run(argv, stdout=out, stderr=out, env=env,
                                   timeout=BUILD_TIMEOUT,
                                   preexec_fn=lambda: os.nice(10))
                if r.returncode != 0:
                    raise AssertionError("building release %s failed (%s):"
                                         "\n%s" % (rev, " ".join(argv),
                                                   _tail(log)))
        for b in bins:
            if not os.access(b, os.X_OK):
                raise AssertionError("building release %s made no %s:\n%s"
                                     % (rev, b, _tail(log)))
        with open(stamp, "w") as f:
            f.write(sha + "\n")
    return bins


# -- what the province must show ----------------------------------------
def _ver(release):
    return tuple(int(x) for x in release.split("."))


def knows(release, added):
    """Whether a node of `release` shows what `added` introduced."""
    return _ver(release) >= _ver(added)


# Counts that releases added after the first, with the first release that
# reports them: a node of an older release shows none of them, a newer one
# shows them exactly, for every unit below (PROTOCOL.md section 7.1).
ADDED_COUNTS = {"eligible": "0.2.0", "filed": "0.3.0"}
# ... and likewise inside counts.by_group.<group>
ADDED_GROUP_COUNTS = {"eligible": "0.3.0"}
# Fields of an assessment (GET /v1/assessments/Y/P) added by later
# releases: "eligible" (= recognized, by score) and "decision" (null).
ADDED_RECORD_FIELDS = {"eligible": "0.3.0", "decision": "0.3.0"}


def extra_counter_problems(got, hm, nid, year, release=CURRENT):
    """The counters of a progress document that model.diff_progress does
    not compare (by_population, digital, units_with_denominators, eligible
    by group, filed), from the model's inputs: with diff_progress, every
    counter of the report, as the node's release shows them."""
    m = hm.merged(nid)
    pop = {p: {"assessed": 0, "recognized": 0} for p in model.POPULATIONS}
    dig = {"skilled": 0, "proficient": 0}
    grp = {g: 0 for g in model.GROUPS}
    for (y, _), a in m.records.items():
        if y != year:
            continue
        rec = model.score(a["scores"])[1]
        pop[a["population"]]["assessed"] += 1
        pop[a["population"]]["recognized"] += rec
        dig["skilled"] += rec and a["digital"] in ("skilled", "proficient")
        dig["proficient"] += rec and a["digital"] == "proficient"
        grp[a["group"]] += rec   # score era: eligible = recognized
    units = sum(1 for x in hm.subtree(nid) if year in hm.models[x].population)
    c = got.get("counts") or {}
    bad = []
    for p, e in pop.items():
        g = (c.get("by_population") or {}).get(p)
        if g != e:
            bad.append("counts.by_population.%s: got %r, want %r" % (p, g, e))
    if c.get("digital") != dig:
        bad.append("counts.digital: got %r, want %r" % (c.get("digital"), dig))
    if c.get("units_with_denominators") != units:
        bad.append("counts.units_with_denominators: got %r, want %d"
                   % (c.get("units_with_denominators"), units))
    by = c.get("by_group") or {}
    for k, since in ADDED_GROUP_COUNTS.items():
        for g, want in grp.items():
            have = (by.get(g) or {}).get(k, "<absent>")
            if not knows(release, since):
                if have != "<absent>":
                    bad.append("counts.by_group.%s.%s shown by release %s"
                               % (g, k, release))
            elif g in by or want:
                if have != want:
                    bad.append("counts.by_group.%s.%s: got %r, want %d (its "
                               "recognized)" % (g, k, have, want))
    if knows(release, ADDED_COUNTS["filed"]) and c.get("filed") != 0:
        bad.append("counts.filed: got %r, want 0 (nothing filed)"
                   % (c.get("filed"),))
    return bad


def expected(hm, nid, year, release):
    e = hm.progress(nid, year)
    return dict(e, counts={k: v for k, v in e["counts"].items()
                           if k not in ADDED_COUNTS
                           or knows(release, ADDED_COUNTS[k])})


def tree_problems(doc, hm, nid, year, path, release=CURRENT):
    """Mismatches of a progress document (or a drill-down entry) and of its
    children, recursively, against the model of each subtree; release: the
    release of the node that answered."""
    d = dict(doc)
    d.setdefault("year", year)   # drill-down entries carry no year
    bad = ["%s: %s" % (path, p)
           for p in model.diff_progress(d, expected(hm, nid, year, release),
                                        INFO[nid])
           + extra_counter_problems(d, hm, nid, year, release)]
    bad += ["%s: counts.%s shown by release %s, which lacks it"
            % (path, k, release)
            for k, since in ADDED_COUNTS.items()
            if not knows(release, since) and k in (d.get("counts") or {})]
    if "children" in doc:
        kids = {k.get("node", {}).get("id"): k for k in doc["children"]}
        want = sorted(c for c, p in hm.parent.items() if p == nid)
        if sorted(kids) != want:
            bad.append("%s: children %r, want %r" % (path, sorted(kids), want))
        for cid in want:
            if cid in kids:
                bad += tree_problems(kids[cid], hm, cid, year,
                                     "%s/%s" % (path, cid), release)
    return bad


def filing_problems(cov, year):
    """Coverage of a node of this release where nothing is filed: every
    unit in not_filed, no filer, no reopening, the default deadline."""
    bad = []
    units = sorted(INFO)
    if sorted(cov.get("not_filed") or []) != units:
        bad.append("coverage.not_filed: got %r, want every unit %r"
                   % (cov.get("not_filed"), units))
    for k in ("filed", "filed_by", "reopened"):
        if cov.get(k) != {}:
            bad.append("coverage.%s: got %r, want {}" % (k, cov.get(k)))
    if cov.get("deadline") != "%d-12-01" % year:
        bad.append("coverage.deadline: got %r, want %d-12-01"
                   % (cov.get("deadline"), year))
    return bad


def log_since(n, at):
    """What n's stderr gained after offset `at`."""
    with open(n.stderr_path, "rb") as f:
        f.seek(at)
        return f.read().decode("utf-8", "replace")


class Stream(threading.Thread):
    """Posts items one by one, as fast as the node answers, until told to
    stop or the node goes away; sets `enough` once KILL_AFTER of them are
    acknowledged.  acked: the items answered 200, in order; doubt: those
    sent without an answer (in flight at the kill, or after it)."""

    def __init__(self, node, items):
        super().__init__(daemon=True)
        self.node, self.items = node, items
        self.acked, self.doubt = [], []
        self.enough, self.stop = threading.Event(), threading.Event()
        self.error = None

    def run(self):
        try:
            for a in self.items:
                if self.stop.is_set():
                    return
                try:
                    r = self.node.post(a, timeout=10)
                except (OSError, http.client.HTTPException):
                    self.doubt.append(a)   # the node was killed
                    return
                if r.status != 200:
                    self.error = "POST: %r" % r
                    return
                self.acked.append(a)
                if len(self.acked) >= KILL_AFTER:
                    self.enough.set()
        except Exception as e:   # reported by the test
            self.error = repr(e)
        finally:
            self.enough.set()


class Upgrade(HierTestCase):
    maxDiff = None

    def province_problems(self, p, hm):
        release = self.release_of(p.cdhtd)
        new = release == CURRENT
        bad = []
        for y in YEARS:
            try:
                doc = p.progress_doc(y, depth=2)
            except (OSError, AssertionError) as e:
                bad.append("year %d: %s" % (y, e))
                continue
            bad += tree_problems(doc, hm, p.id, y, "%d:%s" % (y, p.id),
                                 release)
            cov = doc.get("coverage") or {}
            if cov.get("units") != len(SPEC) or cov.get("missing") != []:
                bad.append("%d: coverage %r, want %d units, none missing"
                           % (y, cov, len(SPEC)))
            if new:
                bad += ["%d: %s" % (y, x) for x in filing_problems(cov, y)]
                if doc.get("recognition") != "score":
                    bad.append("%d: recognition %r, want \"score\""
                               % (y, doc.get("recognition")))
        return bad

    def assertProvince(self, p, hm, what):
        """Poll until the province's progress of every year, drilled down
        to the communes, equals the model; fail with the differences."""
        last = []

        def ok():
            last[:] = self.province_problems(p, hm)
            return not last
        try:
            wait_for(ok, CONVERGE, "the province to equal the model",
                     interval=0.1)
        except AssertionError:
            self.fail("%s: the province differs from the model (%d "
                      "problems):\n  %s\nprovince stderr:\n%s"
                      % (what, len(last), "\n  ".join(last[:40]),
                         p.stderr_tail(2000)))

    # -- records ----------------------------------------------------------
    def snapshot(self, n, keys):
        """{key: (status, body)} of GET for every key, and {year: (status,
        body)} of GET /v1/population."""
        s = Session(n, role="clerk")
        try:
            recs = {}
            for y, pid in sorted(keys):
                r = s.get(y, pid)
                recs[(y, pid)] = (r.status,
                                  r.json if r.status == 200 else None)
            pops = {}
            for y in YEARS:
                r = s.request("GET", "/v1/population/%d" % y)
                pops[y] = (r.status, r.json if r.status == 200 else None)
        finally:
            s.close()
        return recs, pops

    def assertSameRecords(self, n, hm, before, keys, what):
        """Every record answers as before the upgrade and as the model;
        fields a later release added to a record are left out of the
        comparison with the old answer (the model checks them)."""
        recs, pops = self.snapshot(n, keys)
        m = hm.local(n.id)
        bad = []
        for k in sorted(keys):
            st, body = recs[k]
            old = before[0][k][1]
            if body is not None and old is not None:
                body_as_old = {f: v for f, v in body.items()
                               if f in old or f not in ADDED_RECORD_FIELDS
                               or knows(self.release,
                                        ADDED_RECORD_FIELDS[f])}
            else:
                body_as_old = body
            if (st, body_as_old) != before[0][k]:
                bad.append("%s/%s: got %d %r, before the upgrade %d %r"
                           % (k + (st, body) + before[0][k]))
                continue
            exp = m.expected_record(*k)
            if exp is None:
                if st != 404:
                    bad.append("%s/%s: withdrawn, but HTTP %d" % (k + (st,)))
            elif st != 200:
                bad.append("%s/%s: HTTP %d" % (k + (st,)))
            else:
                bad += ["%s/%s: %s" % (k + (x,))
                        for x in record_diff(body, exp)]
        for y in YEARS:
            if pops[y] != before[1][y]:
                bad.append("population %d: got %r, before %r"
                           % (y, pops[y], before[1][y]))
            elif pops[y][0] != 200 or any(
                    pops[y][1].get(f) != v
                    for f, v in m.population[y].items()):
                bad.append("population %d: %r, want %r"
                           % (y, pops[y], m.population[y]))
        if bad:
            self.fail("%s: %d of %d records differ:\n  %s"
                      % (what, len(bad), len(keys), "\n  ".join(bad[:40])))

    # -- the scenario -----------------------------------------------------
    def seed(self, n, hm, rng):
        items = gen.assessments(rng, PERSONS[n.level], YEARS,
                                prefix=n.id + "-", level=n.level)
        self.submit_many(n, hm, items, chunk=200)
        for y in YEARS:
            self.set_population(n, hm, y, gen.population(rng))
        self.churn(n, hm, rng)

    def churn(self, n, hm, rng):
        """Replace two records and withdraw one (remembered in self.ever)."""
        keys = sorted(hm.local(n.id).records)
        for k in rng.sample(keys, 2):
            a = dict(hm.local(n.id).records[k])
            a["scores"] = (gen.scores_random(rng) if model.score(a["scores"])[1]
                           else gen.scores_recognized(rng))
            a["digital"] = rng.choice(model.DIGITAL)
            self.submit_one(n, hm, a)
        y, pid = rng.choice(sorted(hm.local(n.id).records))
        self.withdraw(n, hm, y, pid)
        self.ever[n.id].add((y, pid))

    def new_writes(self, n, hm, rng, step):
        """Writes at an upgraded node through every channel; returns the
        keys they touched."""
        pfx = "new%d-%s-" % (step, n.id)
        items = gen.assessments(rng, 6, YEARS[-3:], prefix=pfx + "j",
                                level=n.level)
        self.submit_many(n, hm, items)
        csv_items = gen.assessments(rng, 4, YEARS[-2:], prefix=pfx + "c",
                                    level=n.level, attend=1.0)
        r = n.post_csv(gen.to_csv(csv_items), timeout=30)
        self.assertEqual((r.status, r.json.get("accepted"),
                          r.json.get("rejected")),
                         (200, len(csv_items), 0), "%s: CSV: %r" % (n.id, r))
        for a in csv_items:
            hm.local(n.id).submit(a)
        self.submit_one(n, hm, dict(items[0], scores=[9] * 10))
        self.churn(n, hm, rng)
        self.set_population(n, hm, YEARS[-1], gen.population(rng))
        return [k for k in hm.local(n.id).records if k[1].startswith(pfx)]

    def wait_linked(self, nodes, n):
        """Until n is linked to its parent again and each of its children
        to n (a HELLO answered by the new process)."""
        if n.parent is not None:
            wait_for(lambda: n.health().json["uplink"]["connected"],
                     CONVERGE, "%s to link to its parent %s"
                     % (n.id, n.parent.id))
        kids = [c.id for c in n.children]
        if kids:
            def up():
                got = {x["id"]: x.get("link") for x in n.nodes_doc()["nodes"]}
                return all(got.get(c) == "up" for c in kids)
            wait_for(up, CONVERGE, "the children of %s to link to it" % n.id)

    def release_of(self, cdhtd):
        """The release of a cdhtd binary of this test: CURRENT for the
        binaries under test, else the release upgraded from."""
        new = os.path.realpath(cdhtd) == os.path.realpath(cdhtd_path())
        return CURRENT if new else self.release

    def kill_mid_stream(self, n, hm, rng, step, what):
        """Stop n, a node of a release with a journal, by kill -9 while new
        records arrive one by one, and start it with n.cdhtd (the binaries
        under test for an upgrade, an old release's for a downgrade): it
        must replay the acknowledged ones from the journal.  Updates hm
        with what the node holds; returns the keys of the stream."""
        journal = os.path.join(n.data_dir, "journal")
        killed = self.release_of("/proc/%d/exe" % n.proc.pid)
        started = self.release_of(n.cdhtd_bin())
        self.assertTrue(os.path.exists(journal), "%s: release %s keeps no "
                        "%s (WITH_JOURNAL)" % (what, killed, journal))
        items = gen.assessments(rng, 2 * KILL_AFTER, YEARS[-2:],
                                prefix="kill%d-%s-" % (step, n.id),
                                level=n.level, attend=1.0)
        t0 = []

        def quiet():
            # No journal write for CHECKPOINT_S (and a margin for the
            # coarse mtime) before t0: the last checkpoint is older, so
            # the stream's first commit checkpoints, and the next ones,
            # before t0 + CHECKPOINT_S, are only in the journal.
            t0[:] = [time.monotonic()]
            return (time.time() - os.stat(journal).st_mtime
                    > CHECKPOINT_S + 0.1)
        wait_for(quiet, CONVERGE, "%s: the journal of %s to rest"
                 % (what, n.id))
        t0 = t0[0]
        w = Stream(n, items)
        w.start()
        w.enough.wait(CHECKPOINT_S * 0.6)
        n.kill9()   # while the next write is in flight
        late = time.monotonic() - t0
        w.stop.set()
        w.join(30)
        self.assertFalse(w.is_alive(), "%s: the stream hung" % what)
        self.assertIsNone(w.error, "%s: the stream: %s" % (what, w.error))
        self.assertGreaterEqual(
            len(w.acked), 2, "%s: %d writes acknowledged in %.2fs: too slow "
            "to leave one in the journal only" % (what, len(w.acked), late))
        self.assertLess(late, CHECKPOINT_S, "%s: killed %.2fs after the "
                        "stream began: a checkpoint may follow the last "
                        "acknowledged write" % (what, late))
        self.assertTrue(os.path.exists(journal), what)
        log_at = os.path.getsize(n.stderr_path)
        n.start(keep_port=True)
        log = log_since(n, log_at)
        m = REPLAYED.search(log)
        self.assertTrue(m and int(m.group(1)) >= len(w.acked) - 1,
                        "%s: after kill -9 of release %s %d writes were "
                        "acknowledged, %d of them past the checkpoint, but "
                        "the cdhtd of release %s started then replayed "
                        "%s:\n%s"
                        % (what, killed, len(w.acked), len(w.acked) - 1,
                           started, m.group(1) if m else "nothing",
                           log[-2000:]))
        for a in w.acked:
            hm.local(n.id).submit(a)
        for a in w.doubt:   # there or not, all of it
            r = n.get(a["year"], a["person_id"])
            self.assertIn(r.status, (200, 404), "%s: in flight: %r"
                          % (what, r))
            if r.status == 200:
                hm.local(n.id).submit(a)
        return [(a["year"], a["person_id"]) for a in w.acked + w.doubt]

    def assertRunning(self, n, cdhtd, what):
        self.assertEqual(os.path.realpath("/proc/%d/exe" % n.proc.pid),
                         os.path.realpath(cdhtd), what)

    def downgrade(self, nodes, hm, rng, old, new):
        """DOWNGRADE_NODE, its directory written by release self.release,
        then by the binaries under test (the whole tree upgraded, new
        writes acknowledged), is started with the old release's binaries
        (old, new: (cdhtd, cdht)) again: (a) after a clean stop, (b) after
        the binaries under test, started once more, are killed (kill -9)
        with acknowledged writes only in their journal.  Each time every
        record and the province equal the model, and the old release's new
        writes reach the province exactly."""
        n, p = nodes[DOWNGRADE_NODE], nodes["14"]
        step = len(ORDER)   # record prefixes no step of the loop used

        # (a) SIGTERM, then the old release: no replay, no migration
        what = "%s downgraded from %s to %s after a clean stop" % (
            n.id, CURRENT, self.release)
        keys = self.ever[n.id] | set(hm.local(n.id).records)
        before = self.snapshot(n, keys)
        log_at = os.path.getsize(n.stderr_path)
        n.cdhtd, n.cdht = old
        n.restart(keep_port=True)
        self.assertRunning(n, old[0], what)
        self.assertEqual([l for l in log_since(n, log_at).splitlines()
                          if REPLAYED.search(l) or "schema" in l], [],
                         "%s: a replay or a schema step after a clean stop"
                         % what)
        self.wait_linked(nodes, n)
        self.assertSameRecords(n, hm, before, keys, what)
        self.assertProvince(p, hm, what)
        for k in self.new_writes(n, hm, rng, step):
            self.assertRecord(n.get(*k), hm.local(n.id), *k,
                              what="%s: new write" % what)
        self.assertConverges(n, hm, YEARS, timeout=CONVERGE,
                             what="%s: the downgraded node" % what)
        self.assertProvince(p, hm, what + ", after new writes there")

        # (b) the binaries under test again, killed mid-stream: the old
        # release replays their journal
        n.cdhtd, n.cdht = new
        n.restart(keep_port=True)
        self.assertRunning(n, new[0], what + ", then upgraded again")
        what = "%s downgraded from %s to %s after kill -9" % (
            n.id, CURRENT, self.release)
        self.wait_linked(nodes, n)
        keys = self.ever[n.id] | set(hm.local(n.id).records)
        before = self.snapshot(n, keys)
        n.cdhtd, n.cdht = old
        killed = self.kill_mid_stream(n, hm, rng, step + 1, what)
        self.assertRunning(n, old[0], what)
        self.wait_linked(nodes, n)
        self.assertSameRecords(n, hm, before, keys, what)
        for k in killed:
            self.assertRecord(n.get(*k), hm.local(n.id), *k,
                              what="%s: written just before kill -9" % what)
        self.assertProvince(p, hm, what)
        for k in self.new_writes(n, hm, rng, step + 1):
            self.assertRecord(n.get(*k), hm.local(n.id), *k,
                              what="%s: new write" % what)
        self.assertConverges(n, hm, YEARS, timeout=CONVERGE,
                             what="%s: the downgraded node" % what)
        self.assertProvince(p, hm, what + ", after new writes there")

    release = CURRENT   # the release of the old binaries (upgrade_from)

    def upgrade_from(self, rev):
        self.release = RELEASE_OF[rev]
        old_cdhtd, old_cdht = old_binaries(rev)
        new_cdhtd, new_cdht = cdhtd_path(), cdht_path()
        hm = HierModel()
        kw = {nid: {"cdhtd": old_cdhtd, "cdht": old_cdht} for nid in INFO}
        for nid in ("118", "03685"):   # keys from the old `cdht keygen`
            kw[nid]["keygen"] = "cdht"
        nodes = self.tree(SPEC, hm, node_kw=kw)
        p = nodes["14"]
        self.start_all(nodes)
        rng = random.Random(int(os.environ.get("CDHT_SEED", "61")))
        self.ever = {nid: set() for nid in INFO}  # keys withdrawn so far
        for nid in ORDER:
            self.seed(nodes[nid], hm, rng)
        self.assertProvince(p, hm, "release %s before any upgrade" % rev)

        for step, nid in enumerate(ORDER):
            n = nodes[nid]
            what = "release %s, %s upgraded (step %d)" % (rev, nid, step + 1)
            keys = self.ever[nid] | set(hm.local(nid).records)
            before = self.snapshot(n, keys)
            with open(n.conf_path) as f:
                conf = f.read()
            port = n.port
            journal = os.path.join(n.data_dir, "journal")
            n.cdhtd, n.cdht = new_cdhtd, new_cdht
            if rev in WITH_JOURNAL:
                killed = self.kill_mid_stream(n, hm, rng, step, what)
            else:
                self.assertFalse(os.path.exists(journal),
                                 "%s: a journal, release %s is not in "
                                 "WITH_JOURNAL" % (what, self.release))
                killed = []
                n.restart(keep_port=True)
            self.assertEqual(os.path.realpath("/proc/%d/exe" % n.proc.pid),
                             os.path.realpath(new_cdhtd), what)
            with open(n.conf_path) as f:
                now = f.read()
            if n.port == port:   # else a port race: only listen differs
                self.assertEqual(now, conf, "%s: the conf changed" % what)
            self.wait_linked(nodes, n)
            self.assertProvince(p, hm, what)
            self.assertSameRecords(n, hm, before, keys, what)
            for k in killed:
                self.assertRecord(n.get(*k), hm.local(nid), *k,
                                  what="%s: written just before kill -9"
                                  % what)
            for k in self.new_writes(n, hm, rng, step):
                self.assertRecord(n.get(*k), hm.local(nid), *k,
                                  what="%s: new write" % what)
            self.assertConverges(n, hm, YEARS, timeout=CONVERGE,
                                 what="%s: the upgraded node" % what)
            self.assertProvince(p, hm, what + ", after new writes there")
            if step == 0:
                # the upgraded directory has a journal, and a kill -9 there
                # recovers through it with every acknowledged write kept
                self.assertTrue(os.path.exists(
                    os.path.join(n.data_dir, "journal")), what)
                keys = self.ever[nid] | set(hm.local(nid).records)
                before = self.snapshot(n, keys)
                n.kill9()
                n.start(keep_port=True)
                self.wait_linked(nodes, n)
                self.assertSameRecords(n, hm, before, keys,
                                       what + ", then kill -9")
                self.assertProvince(p, hm, what + ", then kill -9")

        for nid in ORDER:   # the whole tree, every node new
            self.assertConverges(nodes[nid], hm, YEARS, timeout=CONVERGE,
                                 what="after the upgrade")
            self.assertRunning(nodes[nid], new_cdhtd, "after the upgrade")
        if rev in DOWNGRADE_TO:
            self.downgrade(nodes, hm, rng, (old_cdhtd, old_cdht),
                           (new_cdhtd, new_cdht))


def _releases_listed(self):
    self.assertTrue(UPGRADE_FROM, "UPGRADE_FROM is empty: nothing tested")
    for rev in UPGRADE_FROM:
        self.assertIn(rev, RELEASE_OF, "UPGRADE_FROM %s: which release?" % rev)
    for rev in WITH_JOURNAL:
        self.assertIn(rev, UPGRADE_FROM, "WITH_JOURNAL %s: not upgraded from"
                      % rev)
    for rev in DOWNGRADE_TO:   # the downgrade kills the new node mid-stream
        self.assertIn(rev, WITH_JOURNAL, "DOWNGRADE_TO %s: not in "
                      "WITH_JOURNAL" % rev)
    self.assertIn(DOWNGRADE_NODE, INFO)


Upgrade.test_releases_listed = _releases_listed
for _rev in UPGRADE_FROM:
    setattr(Upgrade, "test_upgrade_from_%s" % _rev,
            lambda self, rev=_rev: self.upgrade_from(rev))


if __name__ == "__main__":
    main()
