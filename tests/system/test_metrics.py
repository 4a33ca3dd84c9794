"""GET /metrics (issue 11, "Observability"): real daemons, a province with
two communes on loopback, and a node without links.

- `promtool check metrics` (Debian's prometheus package, installed by
  scripts/setup) exits 0 on every node's output, and every series has its
  HELP and TYPE (checked here too, by the test's own parser); the names of
  earlier releases are all still there.
- The replies by route and status move exactly as this test's requests.
- The commit histogram counts each commit once, its buckets are cumulative,
  and a dry run commits nothing.
- Reports sent and acked at each commune and applied at the province agree
  with what was written (one report per unit and year changed), and the
  province's progress shows it.
- The outbox depth counts keys queued while the parent is down and returns
  to 0 once it is back.
- A commune's link gauge at the province goes 1 -> 0 when it is killed.
- A fake child's batch is counted report by report (applied, ignored,
  refused over the cap, refused invalid), and its garbage by reason
  (malformed, multi-frame, a parent's message type, a HELLO flood, a HELLO
  naming another id).
- The process metrics are present and agree with /proc/PID.

promtool missing is a failure, never a skip: run scripts/setup.
"""

import os
import random
import re
import shutil
import subprocess
import time

import msgpack

from cdhttest import gen
from cdhttest.case import REC, assessment, main
from cdhttest.hier import (ACK, HELLO, PING, FakeChild, HierTestCase,
                           python_keypair, report, wait_for)

SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Tô Hiệu", "14"),
    ("03664", "commune", "Phường Chiềng An", "14"),
]
P, A, B = "14", "03646", "03664"
FAKE = "199"   # listed in the province's children file, played by the test
CAP = 2        # the province's max_origins_per_child

# Every name of the releases before this one (dashboards rely on them).
OLD_NAMES = ("cdht_http_requests_total", "cdht_http_writes_total",
             "cdht_store_used_bytes", "cdht_store_map_bytes",
             "cdht_uptime_seconds", "cdht_claims_refused_total",
             "cdht_origins_over_cap_total", "cdht_build_info")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


class Scrape:
    """One /metrics text, parsed: samples by (name, labels), HELP, TYPE."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.help = {}
        self.type = {}
        self.order = []   # sample names in order of appearance
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, _, h = line[7:].partition(" ")
                self.help[name] = h
            elif line.startswith("# TYPE "):
                name, _, t = line[7:].partition(" ")
                self.type[name] = t
            elif line.startswith("#") or not line:
                continue
            else:
                m = SAMPLE.match(line)
                if m is None:
                    raise AssertionError("unparsable sample %r" % line)
                labels = {}
                if m.group(2):
                    rest = m.group(2)
                    pos = 0
                    while pos < len(rest):
                        lm = LABEL.match(rest, pos)
                        if lm is None:
                            raise AssertionError("bad labels in %r" % line)
                        labels[lm.group(1)] = lm.group(2)
                        pos = lm.end()
                key = (m.group(1), tuple(sorted(labels.items())))
                if key in self.samples:
                    raise AssertionError("duplicate series %r" % line)
                self.samples[key] = float(m.group(3))
                self.order.append((m.group(1), labels))

    def get(self, name, default=None, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))),
                                default)

    def series(self, name):
        """{labels tuple: value} of every sample named name."""
        return {k[1]: v for k, v in self.samples.items() if k[0] == name}


def scrape(node):
    r = node.request("GET", "/metrics", role="viewer", timeout=10)
    if r.status != 200:
        raise AssertionError("%s: /metrics: %r" % (node.id, r))
    return Scrape(r.body.decode())


def family_of(name, types):
    """The family a sample belongs to (histograms: _bucket, _sum, _count)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and \
                types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def responses(s):
    """{(route, status): count} of cdht_http_responses_total."""
    out = {}
    for labels, v in s.series("cdht_http_responses_total").items():
        d = dict(labels)
        out[(d["route"], d["status"])] = v
    return out


def buckets(s, name):
    """[(le, cumulative count)] of histogram name, in le order."""
    out = []
    for labels, v in s.series(name + "_bucket").items():
        le = dict(labels)["le"]
        out.append((float("inf") if le == "+Inf" else float(le), v))
    return sorted(out)


LINK_COUNTERS = ("cdht_uplink_batches_sent_total",
                 "cdht_uplink_reports_sent_total",
                 "cdht_uplink_removals_sent_total",
                 "cdht_uplink_batches_acked_total",
                 "cdht_uplink_reports_acked_total",
                 "cdht_uplink_reports_refused_total",
                 "cdht_downlink_batches_total",
                 "cdht_downlink_reports_applied_total",
                 "cdht_downlink_reports_ignored_total",
                 "cdht_downlink_removals_total")


def link_counts(s):
    d = {n: s.get(n) for n in LINK_COUNTERS}
    for reason in ("claim", "over_cap", "invalid"):
        d["refused_" + reason] = s.get(
            "cdht_downlink_reports_refused_total", reason=reason)
    return d


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


class Metrics(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = cls.class_tree(SPEC)
        cls.fake_pub, cls.fake_sec = python_keypair()
        p = cls.nodes[P]
        p.extra_children.append((FAKE, cls.fake_pub, "Huyện Thử"))
        p.downlink_extra.append("max_origins_per_child = %d" % CAP)
        cls.start_all([cls.nodes[i] for i, *_ in SPEC])
        cls.solo_t0 = time.time()
        cls.solo = cls.make_class_node(id="04108")
        cls.solo_t1 = time.time()
        for cid in (A, B):
            wait_for(lambda cid=cid: cls.settled(cls.nodes[cid]), 20,
                     "%s welcomed, its outbox empty" % cid)

    @staticmethod
    def settled(node):
        """The node's link is up, nothing queued, nothing in flight."""
        s = scrape(node)
        return (s.get("cdht_uplink_up") == 1
                and s.get("cdht_outbox_depth") == 0
                and s.get("cdht_uplink_reports_sent_total")
                == s.get("cdht_uplink_reports_acked_total")
                and s.get("cdht_uplink_batches_sent_total")
                == s.get("cdht_uplink_batches_acked_total"))

    def post_ok(self, node, body, **kw):
        r = node.post(body, timeout=20, **kw)
        self.assertStatus(r, 200, "%s: POST %r" % (node.id, body))
        if isinstance(body, list):
            self.assertEqual(r.json.get("rejected"), 0, r)
        return r

    def test_1_promtool_and_help_type(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is not installed (Debian's "
                             "prometheus package): run scripts/setup")
        for node in [self.solo] + [self.nodes[i] for i, *_ in SPEC]:
            r = node.request("GET", "/metrics", role="viewer", timeout=10)
            self.assertStatus(r, 200, node.id)
            self.assertEqual(r.headers.get("content-type"),
                             "text/plain; version=0.0.4", node.id)
            p = subprocess.run([promtool, "check", "metrics"], input=r.body,
                               capture_output=True, timeout=60)
            self.assertEqual(
                (p.returncode, p.stdout.decode(), p.stderr.decode()),
                (0, "", ""), "%s: promtool check metrics" % node.id)
            s = Scrape(r.body.decode())
            for name, labels in s.order:
                fam = family_of(name, s.type)
                self.assertIn(fam, s.type, "%s: %s has no TYPE" % (node.id,
                                                                    name))
                self.assertTrue(s.help.get(fam), "%s: %s has no HELP"
                                % (node.id, name))
            # a family's samples are together (promtool checks it too)
            fams = [family_of(n, s.type) for n, _ in s.order]
            runs = [f for i, f in enumerate(fams) if i == 0
                    or fams[i - 1] != f]
            self.assertEqual(len(runs), len(set(runs)), node.id)
            for name in OLD_NAMES:
                self.assertTrue(s.series(name), "%s: %s is gone"
                                % (node.id, name))
            for name in ("cdht_http_responses_total",
                         "cdht_commit_duration_seconds",
                         "cdht_commit_writes", "cdht_outbox_depth",
                         "cdht_store_checkpoints_total",
                         "cdht_store_checkpoint_seconds_total",
                         "cdht_downlink_reports_refused_total",
                         "cdht_messages_dropped_total",
                         "process_cpu_seconds_total",
                         "process_resident_memory_bytes",
                         "process_open_fds", "process_start_time_seconds"):
                self.assertIn(name, s.type, "%s: no %s" % (node.id, name))
        # the links' gauges where there are links
        s = scrape(self.nodes[P])
        self.assertEqual(s.get("cdht_child_up", child=A), 1)
        self.assertEqual(s.get("cdht_child_up", child=B), 1)
        self.assertIsNone(s.get("cdht_uplink_up"), "the root has no uplink")
        self.assertEqual(scrape(self.nodes[A]).get("cdht_uplink_up"), 1)
        self.assertEqual(scrape(self.solo).series("cdht_child_up"), {})

    def test_2_requests_by_route_and_status(self):
        n = self.solo
        before = scrape(n)
        for i in range(3):
            self.post_ok(n, assessment(2025, "R%d" % i))
        r = n.request("GET", "/no/such/thing", role="viewer")
        self.assertStatus(r, 404, "unrouted")
        r = n.get(2025, "nobody")
        self.assertStatus(r, 404, "no such assessment")
        r = n.post(assessment(2025, "R9"), role=None)
        self.assertStatus(r, 401, "no token")
        after = scrape(n)
        want = {("/v1/assessments", "200"): 3,
                ("none", "404"): 1,
                ("/v1/assessments/", "404"): 1,
                ("/v1/assessments", "401"): 1,
                ("/metrics", "200"): 1}   # the first scrape itself
        b, a = responses(before), responses(after)
        got = {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)}
        self.assertEqual(got, want)
        self.assertEqual(after.get("cdht_http_requests_total")
                         - before.get("cdht_http_requests_total"), 7)
        self.assertEqual(after.get("cdht_http_writes_total")
                         - before.get("cdht_http_writes_total"), 3)

    def test_3_commit_histogram(self):
        n = self.solo
        before = scrape(n)
        t0 = time.monotonic()
        self.post_ok(n, assessment(2026, "C1"))
        self.post_ok(n, [assessment(2026, "C%d" % i, REC) for i in
                         range(2, 6)])              # one request: one commit
        self.post_ok(n, assessment(2026, "C9"), dry_run=True)   # none
        r = n.put_population(2026, gen.population(random.Random(3)))
        self.assertStatus(r, 200, "population")
        elapsed = time.monotonic() - t0
        after = scrape(n)
        name = "cdht_commit_duration_seconds"
        self.assertEqual(after.get(name + "_count")
                         - before.get(name + "_count"), 3)
        for s in (before, after):
            bk = buckets(s, name)
            self.assertGreaterEqual(len(bk), 5)
            self.assertEqual(bk[-1][0], float("inf"))
            counts = [v for _, v in bk]
            self.assertEqual(counts, sorted(counts), "not cumulative")
            self.assertEqual(counts[-1], s.get(name + "_count"))
        dsum = after.get(name + "_sum") - before.get(name + "_sum")
        self.assertGreater(dsum, 0)
        self.assertLess(dsum, elapsed)
        # each commit carried one writer (the three requests' replies)
        w = "cdht_commit_writes"
        self.assertEqual(after.get(w + "_count") - before.get(w + "_count"),
                         3)
        self.assertEqual(after.get(w + "_sum") - before.get(w + "_sum"), 3)
        self.assertEqual(after.get(w + "_bucket", le="1")
                         - before.get(w + "_bucket", le="1"), 3)
        counts = [v for _, v in buckets(after, w)]
        self.assertEqual(counts, sorted(counts), "not cumulative")
        self.assertEqual(after.get("cdht_commit_failures_total"), 0)
        # one writer per turn: never handed to the flusher thread
        self.assertEqual(after.get("cdht_commit_offloaded_total")
                         - before.get("cdht_commit_offloaded_total"), 0)

    def test_3_checkpoints_counted_and_timed(self):
        n = self.solo
        before = scrape(n)
        t0 = time.monotonic()
        self.post_ok(n, assessment(2026, "K1"))
        time.sleep(1.2)  # the next commit makes a checkpoint due (1 s)
        self.post_ok(n, assessment(2026, "K2"))
        elapsed = time.monotonic() - t0
        after = scrape(n)
        c = "cdht_store_checkpoints_total"
        self.assertGreaterEqual(after.get(c) - before.get(c), 1)
        secs = "cdht_store_checkpoint_seconds_total"
        d = after.get(secs) - before.get(secs)
        self.assertGreater(d, 0)
        self.assertLess(d, elapsed)

    def test_4_reports_sent_acked_applied(self):
        p, a, b = (self.nodes[i] for i in (P, A, B))
        for c in (a, b):
            wait_for(lambda c=c: self.settled(c), 20, "%s settled" % c.id)
        base = {n.id: link_counts(scrape(n)) for n in (p, a, b)}
        prog = {y: p.progress_doc(y)["counts"]["assessed"]
                for y in (2025, 2026)}
        # A: three people in two years, one request: reports A/2025 and
        # A/2026 in one batch
        self.post_ok(a, [assessment(2025, "A1"), assessment(2025, "A2"),
                         assessment(2026, "A3")])
        wait_for(lambda: self.settled(a), 20, "A's batch acked")
        # B: one person: report B/2025
        self.post_ok(b, assessment(2025, "B1"))
        wait_for(lambda: self.settled(b), 20, "B's batch acked")
        got = {n.id: delta(link_counts(scrape(n)), base[n.id])
               for n in (p, a, b)}
        zero = {k: 0 for k in base[P]}
        self.assertEqual(got[A], dict(
            zero, cdht_uplink_batches_sent_total=1,
            cdht_uplink_reports_sent_total=2,
            cdht_uplink_batches_acked_total=1,
            cdht_uplink_reports_acked_total=2))
        self.assertEqual(got[B], dict(
            zero, cdht_uplink_batches_sent_total=1,
            cdht_uplink_reports_sent_total=1,
            cdht_uplink_batches_acked_total=1,
            cdht_uplink_reports_acked_total=1))
        self.assertEqual(got[P], dict(
            zero, cdht_downlink_batches_total=2,
            cdht_downlink_reports_applied_total=3))
        # and the province counts what was written
        self.assertEqual(p.progress_doc(2025)["counts"]["assessed"],
                         prog[2025] + 3)
        self.assertEqual(p.progress_doc(2026)["counts"]["assessed"],
                         prog[2026] + 1)

    def test_5_outbox_depth_while_parent_down(self):
        p, a = self.nodes[P], self.nodes[A]
        wait_for(lambda: self.settled(a), 20, "A settled")
        before = link_counts(scrape(a))
        p.kill9()
        wait_for(lambda: scrape(a).get("cdht_uplink_up") == 0, 15,
                 "A sees its parent down")
        self.post_ok(a, assessment(2024, "D1"))
        self.assertEqual(scrape(a).get("cdht_outbox_depth"), 1)
        self.post_ok(a, assessment(2024, "D2"))   # the same key: A/2024
        self.assertEqual(scrape(a).get("cdht_outbox_depth"), 1)
        self.post_ok(a, assessment(2023, "D3"))
        self.assertEqual(scrape(a).get("cdht_outbox_depth"), 2)
        p.start(keep_port=True)
        wait_for(lambda: self.settled(a), 30, "A's outbox drained")
        got = delta(link_counts(scrape(a)), before)
        self.assertGreaterEqual(got["cdht_uplink_reports_acked_total"], 2)
        self.assertEqual(got["cdht_uplink_reports_sent_total"]
                         - got["cdht_uplink_reports_acked_total"], 0)
        s = scrape(p)
        # the province restarted: it applied (at least) A/2024 and A/2023
        self.assertGreaterEqual(
            s.get("cdht_downlink_reports_applied_total"), 2)

    def test_6_child_link_down(self):
        p, b = self.nodes[P], self.nodes[B]
        wait_for(lambda: scrape(p).get("cdht_child_up", child=B) == 1
                 and scrape(p).get("cdht_child_up", child=A) == 1, 20,
                 "both communes up at the province")
        s = scrape(p)
        self.assertLessEqual(
            s.get("cdht_child_last_contact_seconds", child=B), 2)
        b.kill9()
        t0 = time.monotonic()
        wait_for(lambda: scrape(p).get("cdht_child_up", child=B) == 0, 15,
                 "B down at the province")
        self.assertGreater(time.monotonic() - t0, 1.0, "down too soon")
        s = scrape(p)
        self.assertEqual(s.get("cdht_child_up", child=A), 1)
        self.assertGreaterEqual(
            s.get("cdht_child_last_contact_seconds", child=B), 3)
        self.assertLessEqual(
            s.get("cdht_child_last_contact_seconds", child=A), 2)

    def test_7_process_metrics(self):
        for n in (self.solo, self.nodes[P]):
            s = scrape(n)
            pid = n.proc.pid
            with open("/proc/%d/status" % pid) as f:
                status = dict(line.split(":", 1) for line in f)
            rss = int(status["VmRSS"].split()[0]) * 1024
            fds = len(os.listdir("/proc/%d/fd" % pid))
            with open("/proc/%d/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
            tck = os.sysconf("SC_CLK_TCK")
            cpu = (int(st[11]) + int(st[12])) / tck   # fields 14, 15
            got_rss = s.get("process_resident_memory_bytes")
            self.assertGreater(got_rss, 0, n.id)
            self.assertLess(abs(got_rss - rss), rss / 2 + 1, n.id)
            got_fds = s.get("process_open_fds")
            self.assertGreater(got_fds, 0, n.id)
            self.assertLessEqual(abs(got_fds - fds), 2, n.id)
            got_cpu = s.get("process_cpu_seconds_total")
            self.assertGreaterEqual(got_cpu, 0, n.id)
            self.assertLessEqual(got_cpu, cpu + 0.05, n.id)
            self.assertGreater(s.get("process_max_fds"), got_fds, n.id)
        start = scrape(self.solo).get("process_start_time_seconds")
        self.assertGreaterEqual(start, self.solo_t0 - 2)
        self.assertLessEqual(start, self.solo_t1 + 2)

    def test_8_refused_by_reason_and_dropped(self):
        p = self.nodes[P]
        f = FakeChild(p, self.fake_pub, self.fake_sec)
        self.addCleanup(f.close)
        before = scrape(p)
        f.hello(FAKE)
        f.send(HELLO, FAKE, "district", "Huyện Thử", [])  # within 1 s
        ack = f.reports([
            report(FAKE, 2026, 1, [FAKE], level="district"),  # applied
            report(FAKE, 2026, 1, [FAKE], level="district"),  # ignored
            report("19901", 2026, 1, [FAKE, "19901"]),        # applied
            report("19902", 2026, 1, [FAKE, "19902"]),        # over the cap
            report(A, 2026, 1, [A]),                          # invalid
        ])
        self.assertEqual(ack[3], 2, "ACK: refused")
        f.send_raw(b"\xc1")                         # never valid msgpack
        f.sock.send_multipart([msgpack_ping(), msgpack_ping()])
        f.send(ACK, 1, 0)                            # only parents send it
        time.sleep(1.1)
        f.send(HELLO, "198", "district", "Huyện Khác", [])  # not its id
        names = ("malformed", "multi_frame", "unknown_sender",
                 "unexpected_type", "wrong_id", "hello_flood")

        def dropped(s):
            return {w: s.get("cdht_messages_dropped_total", link="downlink",
                             reason=w) for w in names}

        want = dict({w: 0 for w in names}, malformed=1, multi_frame=1,
                    unexpected_type=1, wrong_id=1, hello_flood=1)
        wait_for(lambda: delta(dropped(scrape(p)), dropped(before)) == want,
                 10, "the dropped messages counted: %r" % want)
        after = scrape(p)
        got = delta(link_counts(after), link_counts(before))
        self.assertEqual(got, dict(
            {k: 0 for k in got}, cdht_downlink_batches_total=1,
            cdht_downlink_reports_applied_total=2,
            cdht_downlink_reports_ignored_total=1, refused_over_cap=1,
            refused_invalid=1))
        self.assertEqual(after.get("cdht_origins_over_cap_total")
                         - before.get("cdht_origins_over_cap_total"), 1)
        self.assertEqual(after.get("cdht_claims_refused_total")
                         - before.get("cdht_claims_refused_total"), 0)
        self.assertEqual(after.get("cdht_child_up", child=FAKE), 1)


def msgpack_ping():
    return msgpack.packb([1, PING])


if __name__ == "__main__":
    main()
