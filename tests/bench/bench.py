#!/usr/bin/python3
"""bench.py: cdht's benchmark suite (not a test: it asserts nothing).

Starts real cdhtd processes on loopback (real LMDB files, real ZeroMQ links
with CURVE keys) and reports medians over several rounds, and ratios
measured within the same run, since these machines are shared and noisy.

usage: bench.py --build-dir DIR [--rounds N] [--quick]
"""
import argparse
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

GROUPS = ["farmer", "worker", "official", "business", "manager"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One cdhtd process with its conf, tokens, keys and data dir."""

    def __init__(self, root, build, uid, level, name, parent=None):
        self.dir = os.path.join(root, uid)
        os.makedirs(self.dir)
        self.build, self.id, self.level = build, uid, level
        self.port, self.zport = free_port(), free_port()
        self.token = secrets.token_hex(32)
        with open(os.path.join(self.dir, "tokens"), "w") as f:
            f.write("admin %s bench\n" % hashlib.sha256(self.token.encode()).hexdigest())
        prefix = os.path.join(self.dir, "node")
        self.public = subprocess.run([os.path.join(build, "client", "cdht"), "keygen", prefix],
                                     check=True, capture_output=True, text=True).stdout.strip()
        self.secret_path = prefix + ".secret"
        self.children = []
        self.parent = parent
        self.name = name
        self.proc = None
        if parent:
            parent.children.append(self)

    def write_conf(self):
        lines = ["[node]", "id = " + self.id, "level = " + self.level, "name = " + self.name,
                 "data_dir = " + os.path.join(self.dir, "data"), "",
                 "[http]", "listen = 127.0.0.1:%d" % self.port,
                 "tokens = " + os.path.join(self.dir, "tokens"), ""]
        if self.parent:
            lines += ["[uplink]", "parent = tcp://127.0.0.1:%d" % self.parent.zport,
                      "parent_key = " + self.parent.public, "secret_key = " + self.secret_path, ""]
        if self.children:
            cpath = os.path.join(self.dir, "children")
            with open(cpath, "w") as f:
                for c in self.children:
                    f.write("%s %s %s\n" % (c.id, c.public, c.name))
            lines += ["[downlink]", "listen = tcp://127.0.0.1:%d" % self.zport,
                      "secret_key = " + self.secret_path, "children = " + cpath, ""]
        self.conf = os.path.join(self.dir, "cdhtd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def start(self):
        self.write_conf()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([os.path.join(self.build, "daemon", "cdhtd"), "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited; see %s/log" % (self.id, self.dir))
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s did not answer" % self.id)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, ctype="application/json", conn=None):
        c = conn or self.conn()
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            headers["Content-Type"] = ctype
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data

    def assessed(self, year):
        st, data = self.request("GET", "/v1/progress?year=%d" % year)
        return json.loads(data)["counts"]["assessed"]


def assessment(i, year=2026, population="adult", prefix="p"):
    return {"year": year, "person_id": "%s%d" % (prefix, i), "group": GROUPS[i % 5],
            "population": population, "scores": [8 + (i + k) % 3 for k in range(10)],
            "digital": ["none", "skilled", "proficient"][i % 3]}


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_sequential(node, n, prefix):
    conn = node.conn()
    t0 = time.perf_counter()
    for i in range(n):
        st, _ = node.request("POST", "/v1/assessments", assessment(i, prefix=prefix), conn=conn)
        assert st == 200, st
    conn.close()
    return n / (time.perf_counter() - t0)


def bench_concurrent(node, n, threads, prefix):
    def worker(k):
        conn = node.conn()
        for i in range(k, n, threads):
            st, _ = node.request("POST", "/v1/assessments", assessment(i, prefix=prefix), conn=conn)
            assert st == 200, st
        conn.close()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return n / (time.perf_counter() - t0)


def bench_csv(node, rows, prefix):
    cols = ["year", "person_id", "group", "population"] + ["s%d" % k for k in range(1, 11)] + ["digital"]
    lines = [",".join(cols)]
    for i in range(rows):
        a = assessment(i, prefix=prefix)
        lines.append(",".join([str(a["year"]), a["person_id"], a["group"], a["population"]] +
                              [str(s) for s in a["scores"]] + [a["digital"]]))
    body = ("\n".join(lines) + "\n").encode()
    t0 = time.perf_counter()
    st, data = node.request("POST", "/v1/assessments", body, ctype="text/csv")
    assert st == 200 and json.loads(data)["accepted"] == rows, data[:200]
    return rows / (time.perf_counter() - t0)


def bench_progress(node, n, depth):
    conn = node.conn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        st, _ = node.request("GET", "/v1/progress?year=2026&depth=%d" % depth, conn=conn)
        assert st == 200
        times.append(time.perf_counter() - t0)
    conn.close()
    return statistics.median(times) * 1000


def propagation(leaf, top, trials, prefix):
    """Median seconds from a leaf's 200 to the top's total showing it, for
    isolated writes (bursts are batched per flush_ms instead)."""
    times = []
    for i in range(trials):
        time.sleep(0.2)  # an isolated write: past the uplink's flush window
        before = top.assessed(2026)
        st, _ = leaf.request("POST", "/v1/assessments", assessment(i, prefix=prefix))
        assert st == 200
        t0 = time.perf_counter()
        deadline = t0 + 10
        while top.assessed(2026) == before:
            if time.perf_counter() > deadline:
                raise RuntimeError("no propagation within 10 s")
            time.sleep(0.002)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    n = 300 if a.quick else 1000
    root = tempfile.mkdtemp(prefix="cdht-bench-")
    nodes = []
    try:
        prov = Node(root, build, "14", "province", "Tỉnh Sơn La")
        dist = Node(root, build, "116", "district", "Huyện Mai Sơn", prov)
        com = Node(root, build, "04108", "commune", "Xã Chiềng Sung", dist)
        flat = [Node(root, build, "%05d" % (4200 + k), "commune", "Xã %d" % k, prov) for k in range(20)]
        nodes = [prov, dist, com] + flat
        for x in nodes:
            x.start()
        res = {k: [] for k in ("seq", "conc", "csv", "prog0", "prog2")}
        for r in range(a.rounds):
            res["seq"].append(bench_sequential(flat[0], n, "s%d-" % r))
            res["conc"].append(bench_concurrent(flat[1], n, 8, "c%d-" % r))
            res["csv"].append(bench_csv(flat[2], 10 * n, "v%d-" % r))
            res["prog0"].append(bench_progress(prov, 50, 0))
            res["prog2"].append(bench_progress(prov, 50, 2))
        two = propagation(flat[3], prov, 10 if a.quick else 30, "t")
        three = propagation(com, prov, 10 if a.quick else 30, "u")
        med = {k: statistics.median(v) for k, v in res.items()}
        rss = {x.id: rss_kib(x.proc.pid) for x in (prov, flat[2])}
        print("| measure | median | note |")
        print("|---|---|---|")
        print("| single submissions, 1 client, keep-alive | %.0f /s | one fsync'd commit each |" % med["seq"])
        print("| single submissions, 8 concurrent clients | %.0f /s | %.1fx the 1-client rate (group commit) |"
              % (med["conc"], med["conc"] / med["seq"]))
        print("| CSV import, %d rows in one request | %.0f rows/s | %.0fx single submissions |"
              % (10 * n, med["csv"], med["csv"] / med["seq"]))
        print("| progress at the province, depth 0 | %.2f ms | 23-node subtree |" % med["prog0"])
        print("| progress at the province, depth 2 | %.2f ms | with drill-down and coverage |" % med["prog2"])
        print("| commune write to province total, two levels | %.0f ms | median of trials |" % (two * 1000))
        print("| commune write to province total, via a district | %.0f ms | median of trials |" % (three * 1000))
        print("| resident memory, province (23-node subtree) | %.1f MiB | after the run |" % (rss[prov.id] / 1024))
        print("| resident memory, commune holding %d records | %.1f MiB | LMDB pages are shared file cache |"
              % (10 * n * a.rounds, rss[flat[2].id] / 1024))
        print("\n%d rounds of %d submissions; %s, %d CPUs" % (a.rounds, n, os.uname().machine, os.cpu_count()))
    finally:
        for x in nodes:
            x.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
