#!/usr/bin/python3
"""bench.py: cdht's benchmark suite (issue 12), every row side by side in one run.

Runs, on loopback, real cdhtd processes (real LMDB files, real ZeroMQ links
with CURVE keys) beside the baselines: a bare evhttp server answering a fixed
200 (tests/bench/bare_http.c; a second one flushes 4 KiB per loop turn
before replying, the ceiling of a durable HTTP server on the same disk; a
third also writes the pages of one LMDB commit per turn, the ceiling of a
server that commits each submission into LMDB),
raw LMDB (lmdb_put.c), and PostgreSQL 15
(a private cluster, synchronous_commit on).  The HTTP load is wrk (Lua
script wrk_post.lua), the node-to-node load the C generator loadgen.c, which
speaks the real protocol as many children.  Each measurement is repeated
(--reps, at least 3), interleaved across systems so that noise hits all of
them alike; medians, min and max are reported with ratios taken within the
run, and every figure is checked for exactness (acknowledged writes are all
there; a parent's totals equal the generator's sums).  A failed check fails
the run.

usage: bench.py --build-dir DIR --bench-dir DIR [--reps N] [--quick]
                [--rows 1,2,...] [--out PATH] [--perf] [--no-shape2024]
Results: PATH.md and PATH.json (default tests/bench/results/latest); progress
on stderr.  Not part of the normal test run (scripts/bench runs it).
"""
import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(REPO, "tests", "data")
PGBIN = "/usr/lib/postgresql/15/bin"
GROUPS = ["farmer", "worker", "official", "business", "manager"]
T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[%6.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spread(xs):
    """median, min, max of a list of numbers."""
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "n": len(xs), "values": xs}


def curve_keypair(cdht, prefix):
    """(public, secret) Z85 strings made by `cdht keygen PREFIX`."""
    pub = subprocess.run([cdht, "keygen", prefix], check=True,
                         capture_output=True, text=True).stdout.strip()
    with open(prefix + ".secret") as f:
        sec = f.read().split()[0]
    return pub, sec


# --------------------------------------------------------------- cdhtd

class Node:
    """One cdhtd process with its conf, token, keys and data directory."""

    def __init__(self, root, build, uid, level, name, parent=None,
                 extra=None, flush_ms=None):
        self.dir = os.path.join(root, "%s-%s" % (uid, secrets.token_hex(3)))
        os.makedirs(self.dir)
        self.build, self.id, self.level, self.name = build, uid, level, name
        self.port, self.zport = free_port(), free_port()
        self.token = secrets.token_hex(24)
        with open(os.path.join(self.dir, "tokens"), "w") as f:
            f.write("admin %s bench\n"
                    % hashlib.sha256(self.token.encode()).hexdigest())
        self.cdht = os.path.join(build, "client", "cdht")
        self.public, _ = curve_keypair(self.cdht, os.path.join(self.dir, "node"))
        self.secret_path = os.path.join(self.dir, "node.secret")
        self.children = []       # Node or (id, public, name)
        self.parent = parent
        self.extra = extra or {}
        self.flush_ms = flush_ms
        self.env = None  # the daemon's environment (None: ours)
        self.proc = None
        if parent:
            parent.children.append(self)

    def write_conf(self):
        lines = ["[node]", "id = " + self.id, "level = " + self.level,
                 "name = " + self.name,
                 "data_dir = " + os.path.join(self.dir, "data"), "",
                 "[http]", "listen = 127.0.0.1:%d" % self.port,
                 "tokens = " + os.path.join(self.dir, "tokens"), ""]
        if self.parent:
            lines += ["[uplink]",
                      "parent = tcp://127.0.0.1:%d" % self.parent.zport,
                      "parent_key = " + self.parent.public,
                      "secret_key = " + self.secret_path]
            if self.flush_ms:
                lines.append("flush_ms = %d" % self.flush_ms)
            lines.append("")
        if self.children:
            cpath = os.path.join(self.dir, "children")
            with open(cpath, "w") as f:
                for c in self.children:
                    if isinstance(c, Node):
                        c = (c.id, c.public, c.name)
                    f.write("%s %s %s\n" % c)
            lines += ["[downlink]", "listen = tcp://127.0.0.1:%d" % self.zport,
                      "secret_key = " + self.secret_path,
                      "children = " + cpath, ""]
        for sect, kv in self.extra.items():
            lines.append("[%s]" % sect)
            lines += ["%s = %s" % x for x in kv.items()]
        self.conf = os.path.join(self.dir, "cdhtd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.write_conf()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "daemon", "cdhtd"), "-c", self.conf],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
            env=self.env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited; see %s/log" % (self.id, self.dir))
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("%s did not answer" % self.id)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, method, path, body=None, ctype="application/json",
                conn=None):
        c = conn or self.conn()
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            headers["Content-Type"] = ctype
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data

    def progress(self, year, depth=0, conn=None):
        st, data = self.request("GET", "/v1/progress?year=%d&depth=%d"
                                % (year, depth), conn=conn)
        check(st == 200, "%s: progress %d" % (self.id, st))
        return json.loads(data)

    def rss(self):
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[k] = int(line.split()[1])
        return out


# Counters (wire order, proto/counters.h) -> where /v1/progress shows them.
def counts_fields(c):
    """The /v1/progress "counts" object as a flat dict {path: value}."""
    out = {}
    for k in ("assessed", "recognized", "eligible", "outstanding"):
        out[k] = c[k]
    for g in GROUPS:
        for k in ("assessed", "recognized", "eligible"):
            out["%s.%s" % (g, k)] = c["by_group"][g][k]
    for p in ("adult", "staff"):
        for k in ("assessed", "recognized"):
            out["%s.%s" % (p, k)] = c["by_population"][p][k]
    out["digital.skilled"] = c["digital"]["skilled"]
    out["digital.proficient"] = c["digital"]["proficient"]
    return out


def sums_fields(v):
    """The same flat dict from a counters vector (wire order)."""
    out = {"assessed": v[0], "recognized": v[1], "outstanding": v[2],
           "eligible": v[32], "adult.assessed": v[3],
           "adult.recognized": v[4], "staff.assessed": v[5],
           "staff.recognized": v[6], "digital.skilled": v[7],
           "digital.proficient": v[8]}
    for i, g in enumerate(GROUPS):
        out["%s.assessed" % g] = v[9 + 2 * i]
        out["%s.recognized" % g] = v[10 + 2 * i]
        out["%s.eligible" % g] = v[33 + i]
    return out


def check_totals(node, sums, what):
    """node's totals for every year of sums equal the generator's sums."""
    for y, vec in sums.items():
        got = counts_fields(node.progress(int(y))["counts"])
        exp = sums_fields(vec)
        bad = {k: (got[k], exp[k]) for k in exp if got[k] != exp[k]}
        check(not bad, "%s: year %s totals differ from the generator's "
              "sums (got, expected): %s" % (what, y, bad))


# --------------------------------------------------------------- loadgen

class Generator:
    """Children for tests/bench/loadgen: keys, the children file lines, the
    origins file.  children: [(child_id, [(origin, name, counters|None)])]."""

    def __init__(self, root, cdht, children, tag):
        self.dir = os.path.join(root, "gen-%s-%s" % (tag, secrets.token_hex(3)))
        os.makedirs(self.dir)
        self.cpath = os.path.join(self.dir, "children")
        self.opath = os.path.join(self.dir, "origins")
        self.entries = []
        with open(self.cpath, "w") as cf, open(self.opath, "w") as of:
            for cid, origins in children:
                pub, sec = curve_keypair(cdht, os.path.join(self.dir, cid))
                cf.write("%s %s %s\n" % (cid, pub, sec))
                self.entries.append((cid, pub, "Bench " + cid))
                for origin, name, counters in origins:
                    of.write("%s\t%s\t%s" % (cid, origin, name))
                    if counters is not None:
                        of.write("\t" + " ".join(str(x) for x in counters))
                    of.write("\n")

    def popen(self, exe, parent, years="2021-2030", batch=2000,
              level="province", seconds=0, rate=0):
        cmd = [exe, "-e", "tcp://127.0.0.1:%d" % parent.zport,
               "-k", parent.public, "-c", self.cpath, "-o", self.opath,
               "-y", years, "-b", str(batch), "-l", level,
               "-s", str(seconds), "-r", str(rate)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run(self, exe, parent, **kw):
        p = self.popen(exe, parent, **kw)
        out, err = p.communicate(timeout=900)
        for line in err.splitlines():
            log("  " + line)
        check(p.returncode == 0, "loadgen failed (%d): %s" % (p.returncode, err))
        return json.loads(out)


def read_shape(name):
    """{province: [commune, ...]} from tests/data/shape_*.csv."""
    shape = {}
    with open(os.path.join(DATA, name)) as f:
        next(f)
        for line in f:
            p, c = line.strip().split(",")
            shape.setdefault(p, []).append(c)
    return shape


# --------------------------------------------------------------- wrk

WRK_POST = os.path.join(HERE, "wrk_post.lua")
# LMDB pages one single submission's commit writes under cdhtd's journal
# (`strace -e writev` at 1 client: 9 to 11, 4 KiB each)
PAGES_PER_COMMIT = 10


def wrk(url, clients, seconds, script=None, token="", path="/", args=()):
    threads = max(1, min(2, clients))
    cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", "%ds" % seconds,
           "--timeout", "60s", "--latency", "-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    cmd += [url + path]
    if args:
        cmd += ["--"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    check(p.returncode == 0, "wrk failed: %s %s" % (p.stdout, p.stderr))
    m = re.search(r"^JSON (.*)$", p.stdout, re.M)
    if m:
        return json.loads(m.group(1))
    # no script: parse the standard output
    lat = re.search(r"50%\s+([\d.]+)(us|ms|s)", p.stdout)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    req = re.search(r"(\d+) requests in ([\d.]+)(s|m)", p.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    return {"p50_ms": float(lat.group(1)) * scale[lat.group(2)],
            "requests": int(req.group(1)),
            "status_errors": int(non2xx.group(1)) if non2xx else 0}


# --------------------------------------------------------------- PostgreSQL

class Postgres:
    """A private PostgreSQL 15 cluster (run as user postgres: initdb refuses
    root), reached over a Unix socket, synchronous_commit on."""

    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.sock = os.path.join(root, "pgsock")
        self.port = free_port()
        os.makedirs(self.sock)
        self.asuser = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        if self.asuser:
            shutil.chown(root, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.run(self.asuser + [PGBIN + "/initdb", "-D", self.dir, "-A",
                                      "trust", "-U", "postgres", "-E", "UTF8"],
                       check=True, capture_output=True)
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write("\n# tests/bench/bench.py\nlisten_addresses = ''\n"
                    "unix_socket_directories = '%s'\nport = %d\n"
                    "max_connections = 200\nshared_buffers = 256MB\n"
                    "synchronous_commit = on\nfsync = on\n"
                    "work_mem = 64MB\nmax_wal_size = 4GB\n"
                    % (self.sock, self.port))
        subprocess.run(self.asuser + [PGBIN + "/pg_ctl", "-D", self.dir, "-w",
                                      "-l", os.path.join(self.dir, "log"), "start"],
                       check=True, capture_output=True)
        self.psql("CREATE DATABASE bench", db="postgres")

    def conninfo(self):
        return ["-h", self.sock, "-p", str(self.port), "-U", "postgres"]

    def psql(self, sql, db="bench", timing=False):
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"] + \
            self.conninfo() + ["-d", db]
        if timing:
            sql = "\\timing on\n" + sql
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True)
        check(p.returncode == 0, "psql: %s" % p.stderr)
        return p.stdout

    def pid(self):
        with open(os.path.join(self.dir, "postmaster.pid")) as f:
            return int(f.readline())

    def stop(self):
        subprocess.run(self.asuser + [PGBIN + "/pg_ctl", "-D", self.dir, "-m",
                                      "fast", "stop"], capture_output=True)


# --------------------------------------------------------------- perf

@contextlib.contextmanager
def perf(args, pid, name):
    """perf record (CPU samples) on pid while the block runs (--perf); the
    report by library and by function goes to results/perf-NAME.txt next
    to --out."""
    if not args.perf or not shutil.which("perf"):
        yield
        return
    data = os.path.join(args.tmp, "perf-%s.data" % name)
    p = subprocess.Popen(["perf", "record", "-F", "999", "-p", str(pid),
                          "-o", data], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        p.send_signal(signal.SIGINT)
        p.wait()
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(os.path.join(os.path.dirname(args.out), "perf-%s.txt" % name),
                  "w") as f:
            for sort, limit in (("dso", "1"), ("dso,symbol", "1")):
                rep = subprocess.run(["perf", "report", "-i", data, "--stdio",
                                      "--sort", sort, "--percent-limit", limit],
                                     capture_output=True, text=True)
                f.write(rep.stdout)
        log("perf profile of %s: %s" % (name, os.path.join(
            os.path.dirname(args.out), "perf-%s.txt" % name)))


def sectors_written(path):
    """512-byte sectors the block device holding path has written since
    boot (/sys/dev/block/MAJ:MIN/stat, field 7), or None (no such device:
    tmpfs, overlay)."""
    st = os.stat(path)
    try:
        with open("/sys/dev/block/%d:%d/stat" % (os.major(st.st_dev),
                                                 os.minor(st.st_dev))) as f:
            return int(f.read().split()[6])
    except (OSError, IndexError, ValueError):
        return None


# --------------------------------------------------------------- rows

def row_single(args, res, pg):
    """1: single durable submissions at 1, 8, 64 clients: cdht vs bare evhttp
    vs PostgreSQL INSERT; and raw LMDB put+commit."""
    commune = Node(args.tmp, args.build, "04108", "commune", "Xã Chiềng Sung").start()
    bare_port, durable_port, pages_port = free_port(), free_port(), free_port()
    bare = subprocess.Popen([os.path.join(args.bench, "bare_http"), str(bare_port)])
    # the same server with one 4 KiB write + fdatasync per loop turn before
    # its replies: the ceiling of a durable HTTP server on this disk
    durable = subprocess.Popen([os.path.join(args.bench, "bare_http"),
                                str(durable_port),
                                os.path.join(args.tmp, "bare-flush")])
    # and with the page traffic of one LMDB commit per turn (PAGES_PER_COMMIT
    # pages, and a checkpoint's sync once a second): the ceiling of a
    # durable server that commits each turn into LMDB (run at 1 client,
    # where a turn is one submission)
    pages = subprocess.Popen([os.path.join(args.bench, "bare_http"),
                              str(pages_port),
                              os.path.join(args.tmp, "bare-pages"),
                              str(PAGES_PER_COMMIT)])
    for port, proc in ((durable_port, durable), (pages_port, pages)):
        deadline = time.time() + 60  # it zero-fills 64 MiB first
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                check(proc.poll() is None, "bare_http with a flush file exited")
                time.sleep(0.1)
    pg.psql("CREATE TABLE single (year smallint NOT NULL, person_id text NOT NULL,"
            " grp text NOT NULL, population text NOT NULL, scores smallint[] NOT NULL,"
            " digital text NOT NULL, total smallint, eligible boolean,"
            " recognized boolean, outstanding boolean, PRIMARY KEY (year, person_id));"
            " CREATE SEQUENCE pid;")
    script = os.path.join(args.tmp, "insert.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO single VALUES (2026, 'p' || nextval('pid'), 'farmer',"
                " 'adult', '{8,9,8,9,8,9,8,9,8,9}', 'skilled', 85, true, true, false);\n")
    out = {}
    try:
        for rep in range(args.reps):
            for n in (1, 8, 64):
                key = str(n)
                o = out.setdefault(key, {"cdht": [], "bare": [], "durable": [],
                                         "pg": []})
                before = commune.progress(2026)["counts"]["assessed"]
                ctx = perf(args, commune.proc.pid, "single-%d" % n) if rep == 0 \
                    else contextlib.nullcontext()
                sec0 = sectors_written(args.tmp)
                with ctx:
                    w = wrk("http://127.0.0.1:%d" % commune.port, n, args.seconds,
                            WRK_POST, commune.token, "/v1/assessments",
                            ["r%dc%d-" % (rep, n)])
                after = commune.progress(2026)["counts"]["assessed"]
                ok = w["requests"] - w["status_errors"]
                if n == 1 and sec0 is not None:
                    # the device's writes per acknowledged submission, the
                    # last checkpoint's sync of data.mdb included (one more
                    # submission, past its second, makes it due)
                    time.sleep(1.1)
                    check(commune.request("POST", "/v1/assessments", json.dumps(
                        {"year": 2026, "person_id": "r%d-tail" % rep,
                         "group": "farmer", "population": "adult",
                         "scores": [8, 9, 8, 9, 8, 9, 8, 9, 8, 9],
                         "digital": "skilled"}))[0] == 200, "cdht tail submission")
                    o.setdefault("cdht_kib", []).append(
                        (sectors_written(args.tmp) - sec0) / 2 / ok)
                check(w["status_errors"] == 0 and w["socket_errors"] == 0,
                      "cdht single: %s" % w)
                check(ok <= after - before <= ok + n,
                      "cdht single, %d clients: %d acknowledged, %d stored"
                      % (n, ok, after - before))
                o["cdht"].append(ok / (w["duration_us"] / 1e6))
                w = wrk("http://127.0.0.1:%d" % bare_port, n, args.seconds,
                        WRK_POST, "x", "/v1/assessments", ["b%d-" % rep])
                check(w["status_errors"] == 0, "bare: %s" % w)
                o["bare"].append(w["requests"] / (w["duration_us"] / 1e6))
                w = wrk("http://127.0.0.1:%d" % durable_port, n, args.seconds,
                        WRK_POST, "x", "/v1/assessments", ["d%d-" % rep])
                check(w["status_errors"] == 0, "bare with flush: %s" % w)
                o["durable"].append(w["requests"] / (w["duration_us"] / 1e6))
                if n == 1:
                    w = wrk("http://127.0.0.1:%d" % pages_port, n, args.seconds,
                            WRK_POST, "x", "/v1/assessments", ["p%d-" % rep])
                    check(w["status_errors"] == 0, "bare with pages: %s" % w)
                    o.setdefault("pages", []).append(
                        w["requests"] / (w["duration_us"] / 1e6))
                cnt0 = int(pg.psql("SELECT count(*) FROM single"))
                sec0 = sectors_written(args.tmp)
                # 64 connections take about 2 s to open here: pgbench's
                # tps leaves that out, but the run must outlast it
                p = subprocess.run(["pgbench", "-n", "-c", str(n), "-j",
                                    str(min(n, 2)), "-T",
                                    str(args.seconds + (3 if n > 8 else 0)), "-f",
                                    script] + pg.conninfo() + ["bench"],
                                   capture_output=True, text=True)
                check(p.returncode == 0, "pgbench: %s" % p.stderr)
                tx = int(re.search(r"actually processed: (\d+)", p.stdout).group(1))
                tps = float(re.search(r"tps = ([\d.]+)", p.stdout).group(1))
                cnt1 = int(pg.psql("SELECT count(*) FROM single"))
                check(cnt1 - cnt0 == tx, "pg single: %d transactions, %d rows"
                      % (tx, cnt1 - cnt0))
                if n == 1 and sec0 is not None:
                    o.setdefault("pg_kib", []).append(
                        (sectors_written(args.tmp) - sec0) / 2 / tx)
                o["pg"].append(tps)
                log("single %2d clients, rep %d: cdht %.0f/s, bare %.0f/s, "
                    "bare+flush %.0f/s, pg %.0f/s" % (n, rep, o["cdht"][-1],
                                                      o["bare"][-1],
                                                      o["durable"][-1], o["pg"][-1]))
            lm = subprocess.run([os.path.join(args.bench, "lmdb_put"),
                                 os.path.join(args.tmp, "lmdb-%d" % rep),
                                 str(args.lmdb_ops)], capture_output=True, text=True)
            check(lm.returncode == 0, "lmdb_put: %s" % lm.stderr)
            lj = json.loads(lm.stdout)
            check(lj["present"] == lj["ops"], "lmdb_put: %s" % lj)
            out.setdefault("lmdb", []).append(lj["rate"])
            log("raw LMDB put+commit, rep %d: %.0f/s" % (rep, lj["rate"]))
    finally:
        commune.stop()
        for p in (bare, durable, pages):
            p.terminate()
            p.wait()
    res["single"] = {k: ({s: spread(v) for s, v in d.items()} if isinstance(d, dict)
                         else spread(d)) for k, d in out.items()}


def make_csv(path, rows, prefix):
    cols = ["year", "person_id", "group", "population"] + \
        ["s%d" % k for k in range(1, 11)] + ["digital"]
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        dig = ["none", "skilled", "proficient"]
        for i in range(rows):
            f.write("2026,%s%d,%s,adult,%s,%s\n" % (
                prefix, i, GROUPS[i % 5],
                ",".join(str(8 + (i + k) % 3) for k in range(10)), dig[i % 3]))


def row_import(args, res, pg):
    """2: bulk import of the same CSV file: cdht import vs PostgreSQL COPY."""
    path = os.path.join(args.tmp, "import.csv")
    make_csv(path, args.import_rows, "i")
    if pg.asuser:
        shutil.chown(path, "postgres")
    pg.psql("CREATE TABLE imp (year smallint NOT NULL, person_id text NOT NULL,"
            " grp text NOT NULL, population text NOT NULL, s1 smallint, s2 smallint,"
            " s3 smallint, s4 smallint, s5 smallint, s6 smallint, s7 smallint,"
            " s8 smallint, s9 smallint, s10 smallint, digital text NOT NULL,"
            " PRIMARY KEY (year, person_id))")
    out = {"cdht": [], "pg": []}
    cdht = os.path.join(args.build, "client", "cdht")
    for rep in range(args.reps):
        node = Node(args.tmp, args.build, "04108", "commune", "Xã Chiềng Sung").start()
        try:
            env = dict(os.environ, CDHT_SERVER="http://127.0.0.1:%d" % node.port,
                       CDHT_TOKEN=node.token)
            ctx = perf(args, node.proc.pid, "import") if rep == 0 \
                else contextlib.nullcontext()
            with ctx:
                t0 = time.perf_counter()
                p = subprocess.run([cdht, "import", path], env=env,
                                   capture_output=True, text=True)
                dt = time.perf_counter() - t0
            check(p.returncode == 0, "cdht import: %s %s" % (p.stdout, p.stderr[-500:]))
            got = node.progress(2026)["counts"]["assessed"]
            check(got == args.import_rows, "cdht import: %d rows, %d stored"
                  % (args.import_rows, got))
            out["cdht"].append(args.import_rows / dt)
        finally:
            node.stop()
        pg.psql("TRUNCATE imp")
        t = pg.psql("\\copy imp FROM '%s' WITH (FORMAT csv, HEADER true)" % path,
                    timing=True)
        ms = float(re.search(r"Time: ([\d.]+) ms", t).group(1))
        cnt = int(pg.psql("SELECT count(*) FROM imp"))
        check(cnt == args.import_rows, "pg copy: %d rows" % cnt)
        out["pg"].append(args.import_rows / (ms / 1000))
        log("import %d rows, rep %d: cdht %.0f rows/s, pg COPY %.0f rows/s"
            % (args.import_rows, rep, out["cdht"][-1], out["pg"][-1]))
    res["import"] = {k: spread(v) for k, v in out.items()}
    res["import"]["rows"] = args.import_rows


def national_children(shape):
    ch = []
    for p, communes in sorted(shape.items()):
        origins = [(p, "Tỉnh %s" % p, None)]
        origins += [(c, "Xã Đơn vị %s" % c, None) for c in communes]
        ch.append((p, origins))
    return ch


def row_national(args, res, shape_name, tag):
    """3, 5, 6: updates applied at the national root from as many children
    as the shape has provinces; then the full drill-down and the RSS."""
    shape = read_shape(shape_name)
    ncommunes = sum(len(v) for v in shape.values())
    gen = Generator(args.tmp, os.path.join(args.build, "client", "cdht"),
                    national_children(shape), tag)
    out = {"load": [], "update": [], "drill_ms": [], "drill_bytes": [],
           "rss_kib": [], "rss_anon_kib": [], "rss_file_kib": [], "gen_cpu": [],
           "ack_p50_ms": [], "ack_max_ms": []}
    for rep in range(args.reps):
        root = Node(args.tmp, args.build, "VN", "national", "Việt Nam")
        root.children = list(gen.entries)
        root.start()
        try:
            ctx = perf(args, root.proc.pid, "root-%s" % tag) if rep == 0 \
                else contextlib.nullcontext()
            with ctx:
                g = gen.run(os.path.join(args.bench, "loadgen"), root,
                            seconds=args.seconds, batch=2000)
            check(g["refused"] == 0, "root refused %d reports" % g["refused"])
            check_totals(root, g["sums"], "national root (%s)" % tag)
            out["load"].append(g["load"]["rate"])
            out["update"].append(g["update"]["rate"])
            out["gen_cpu"].append(g["cpu_seconds"] /
                                  (g["load"]["seconds"] + g["update"]["seconds"]))
            out["ack_p50_ms"].append(g["ack_ms"]["p50"])
            out["ack_max_ms"].append(g["ack_ms"]["max"])
            out.setdefault("rss_loaded_kib", []).append(root.rss()["VmRSS"])
            st, body = root.request("GET", "/v1/progress?year=2026&depth=2")
            check(st == 200, "drill-down %d" % st)
            d = json.loads(body)
            n = sum(len(c.get("children", [])) for c in d["children"])
            check(len(d["children"]) == len(shape) and n == ncommunes,
                  "drill-down lists %d provinces, %d communes; expected %d, %d"
                  % (len(d["children"]), n, len(shape), ncommunes))
            out["drill_bytes"].append(len(body))
            ctx = perf(args, root.proc.pid, "drill-%s" % tag) if rep == 0 \
                else contextlib.nullcontext()
            with ctx:
                # a slow document still gets a few samples
                w = wrk("http://127.0.0.1:%d" % root.port, 1,
                        max(args.get_seconds, 5), token=root.token,
                        path="/v1/progress?year=2026&depth=2")
            check(w["status_errors"] == 0 and w["requests"] > 0, "drill wrk %s" % w)
            out["drill_ms"].append(w["p50_ms"])
            r = root.rss()
            out["rss_kib"].append(r["VmRSS"])
            out["rss_anon_kib"].append(r["RssAnon"])
            out["rss_file_kib"].append(r["RssFile"])
            log("national %s rep %d: load %.0f/s, updates %.0f/s (gen CPU %.0f%%), "
                "drill-down %.1f ms %d bytes, RSS %.1f MiB"
                % (tag, rep, out["load"][-1], out["update"][-1],
                   100 * out["gen_cpu"][-1], out["drill_ms"][-1],
                   out["drill_bytes"][-1], r["VmRSS"] / 1024))
        finally:
            root.stop()
    res["national_" + tag] = {k: spread(v) for k, v in out.items()}
    res["national_" + tag].update({"provinces": len(shape), "communes": ncommunes,
                                   "keys": g["keys"]})


def row_cost(args, res):
    """4: cost of one update at the root holding 10,000 origins vs 100 (one
    child, ten years each, the same batch size)."""
    communes = [c for cs in read_shape("shape_2024_national.csv").values()
                for c in cs]
    gens = {}
    for n in (100, 10000):
        gens[n] = Generator(args.tmp, os.path.join(args.build, "client", "cdht"),
                            [("01", [(c, "Xã Đơn vị %s" % c, None)
                                     for c in communes[:n]])], "cost%d" % n)
    out = {"100": [], "10000": []}
    for rep in range(args.reps):
        for n in (100, 10000):
            root = Node(args.tmp, args.build, "VN", "national", "Việt Nam")
            root.children = list(gens[n].entries)
            root.start()
            try:
                g = gens[n].run(os.path.join(args.bench, "loadgen"), root,
                                seconds=args.seconds, batch=1000)
                check(g["refused"] == 0, "refused %d" % g["refused"])
                check_totals(root, g["sums"], "root with %d origins" % n)
                out[str(n)].append(1e6 / g["update"]["rate"])  # us per update
                log("cost at %d origins, rep %d: %.2f us per update"
                    % (n, rep, out[str(n)][-1]))
            finally:
                root.stop()
    res["cost"] = {k: spread(v) for k, v in out.items()}


PERIOD = 1155  # lcm of the moduli below


def pg_pred(g):
    """What row g of the 10M-row table holds (the SQL below says the same)."""
    grp = g % 5
    rec = g % 7 < 4
    return grp, grp == 2, rec, g % 11 == 0, g % 3


def expected_communes(nrows, ncom):
    """Per commune index: the counts of its rows, computed without PG."""
    out = []
    for i in range(ncom):
        n = nrows // ncom + (1 if i < nrows % ncom else 0)
        full, rem = divmod(n, PERIOD)
        acc = [0] * 12

        def add(k_range, mult):
            for k in k_range:
                grp, staff, rec, outst, dig = pg_pred(i + ncom * k)
                acc[0] += mult
                acc[1] += mult * rec
                acc[2] += mult * outst
                acc[3 + grp] += mult
                acc[8] += mult * (rec and grp == 0)
                acc[9] += mult * staff
                acc[10] += mult * (rec and dig >= 1)
                acc[11] += mult * (rec and dig == 2)
        # g = i + ncom*k mod PERIOD repeats when k grows by PERIOD
        add(range(PERIOD), full)
        add(range(full * PERIOD, full * PERIOD + rem), 1)
        out.append(acc)
    return out


def counters_of(acc, grp_rec):
    """A wire counters vector for a commune's expected counts."""
    v = [0] * 38
    v[0], v[1], v[2], v[32] = acc[0], acc[1], acc[2], acc[1]
    for gi in range(5):
        v[9 + 2 * gi] = acc[3 + gi]
        v[10 + 2 * gi] = grp_rec[gi]
        v[33 + gi] = grp_rec[gi]
    v[5] = acc[9]
    v[7], v[8] = acc[10], acc[11]
    return v


def row_query(args, res, pg):
    """7: a province query at depth 1 and 2: PostgreSQL GROUP BY over the
    province's rows vs cdht's /v1/progress at a province holding the same
    totals (fed by its districts' reports through the generator)."""
    units = []
    with open(os.path.join(DATA, "units_2024_son_la.csv")) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split(",")
            units.append((p[2], p[4]))  # district, commune
    ncom, nrows = len(units), args.pg_rows
    log("loading %d rows into PostgreSQL (%d communes of Sơn La)" % (nrows, ncom))
    arr_c = "ARRAY[%s]" % ",".join("'%s'" % c for _, c in units)
    arr_d = "ARRAY[%s]" % ",".join("'%s'" % d for d, _ in units)
    t0 = time.perf_counter()
    pg.psql("""CREATE TABLE assessment (unit_id text NOT NULL, district text NOT NULL,
  province text NOT NULL, year smallint NOT NULL, person_id text NOT NULL,
  grp smallint NOT NULL, population smallint NOT NULL, digital smallint NOT NULL,
  total smallint NOT NULL, eligible boolean NOT NULL, recognized boolean NOT NULL,
  outstanding boolean NOT NULL);
INSERT INTO assessment
  SELECT (%s)[g %% %d + 1], (%s)[g %% %d + 1], '14', 2026, 'p' || g,
         g %% 5, (g %% 5 = 2)::int, g %% 3, 60 + g %% 40,
         g %% 7 < 4, g %% 7 < 4, g %% 11 = 0
  FROM generate_series(0, %d) g;
VACUUM ANALYZE assessment;""" % (arr_c, ncom, arr_d, ncom, nrows - 1))
    log("PostgreSQL loaded in %.1f s" % (time.perf_counter() - t0))
    exp = expected_communes(nrows, ncom)
    # recognised per group: a second pass (cheap: periodic)
    grp_rec = []
    for i in range(ncom):
        n = nrows // ncom + (1 if i < nrows % ncom else 0)
        full, rem = divmod(n, PERIOD)
        gr = [0] * 5
        for k in range(PERIOD):
            grp, _, rec, _, _ = pg_pred(i + ncom * k)
            gr[grp] += full * rec
        for k in range(full * PERIOD, full * PERIOD + rem):
            grp, _, rec, _, _ = pg_pred(i + ncom * k)
            gr[grp] += rec
        grp_rec.append(gr)
    check(sum(e[0] for e in exp) == nrows, "expected counts do not add up")

    sel = ("count(*), sum(recognized::int), sum(eligible::int), sum(outstanding::int), "
           + ", ".join("count(*) FILTER (WHERE grp = %d), "
                       "count(*) FILTER (WHERE grp = %d AND recognized)" % (g, g)
                       for g in range(5)))
    q1 = ("SELECT district, %s FROM assessment WHERE province = '14' AND year = 2026 "
          "GROUP BY district ORDER BY district;" % sel)
    q2 = ("SELECT district, unit_id, %s FROM assessment WHERE province = '14' AND "
          "year = 2026 GROUP BY district, unit_id ORDER BY district, unit_id;" % sel)
    # PG's answers are exact
    by_c = {units[i][1]: (units[i][0], exp[i], grp_rec[i]) for i in range(ncom)}
    rows2 = [r.split("|") for r in pg.psql(q2).split("\n") if r]
    check(len(rows2) == ncom, "pg depth 2: %d rows" % len(rows2))
    for r in rows2:
        d, e, gr = by_c[r[1]]
        check(int(r[2]) == e[0] and int(r[3]) == e[1] and int(r[5]) == e[2],
              "pg depth 2 %s: %s vs %s" % (r[1], r[2:6], e[:3]))

    children = {}
    for i, (d, c) in enumerate(units):
        children.setdefault(d, [(d, "Huyện %s" % d, [0] * 38)]).append(
            (c, "Xã Đơn vị %s" % c, counters_of(exp[i], grp_rec[i])))
    gen = Generator(args.tmp, os.path.join(args.build, "client", "cdht"),
                    sorted(children.items()), "query")
    prov = Node(args.tmp, args.build, "14", "province", "Tỉnh Sơn La")
    prov.children = list(gen.entries)
    prov.start()
    out = {"pg1": [], "pg2": [], "cdht1": [], "cdht2": []}
    try:
        g = gen.run(os.path.join(args.bench, "loadgen"), prov, years="2026-2026",
                    level="district", batch=2000)
        check(g["refused"] == 0, "province refused %d" % g["refused"])
        check_totals(prov, g["sums"], "province 14")
        p1 = prov.progress(2026, 1)
        check(len(p1["children"]) == len(children), "depth 1: %d children"
              % len(p1["children"]))
        for ch in p1["children"]:
            d = ch["node"]["id"] if "node" in ch else ch["id"]
            want = sum(by_c[c][1][0] for c in by_c if by_c[c][0] == d)
            check(ch["counts"]["assessed"] == want, "cdht depth 1 %s: %d vs %d"
                  % (d, ch["counts"]["assessed"], want))
        rows1 = [r.split("|") for r in pg.psql(q1).split("\n") if r]
        for r in rows1:
            want = sum(by_c[c][1][0] for c in by_c if by_c[c][0] == r[0])
            check(int(r[1]) == want, "pg depth 1 %s" % r[0])
        for rep in range(args.reps):
            for depth, q in ((1, q1), (2, q2)):
                t = pg.psql(q * args.pg_queries, timing=True)
                ms = [float(x) for x in re.findall(r"Time: ([\d.]+) ms", t)]
                out["pg%d" % depth].append(statistics.median(ms))
                w = wrk("http://127.0.0.1:%d" % prov.port, 1, args.get_seconds,
                        token=prov.token,
                        path="/v1/progress?year=2026&depth=%d" % depth)
                check(w["status_errors"] == 0, "wrk %s" % w)
                out["cdht%d" % depth].append(w["p50_ms"])
                log("province query depth %d, rep %d: PG %.1f ms, cdht %.3f ms"
                    % (depth, rep, out["pg%d" % depth][-1], out["cdht%d" % depth][-1]))
    finally:
        prov.stop()
    pg.psql("DROP TABLE assessment")
    res["query"] = {k: spread(v) for k, v in out.items()}
    res["query"]["rows"] = nrows
    res["query"]["communes"] = ncom
    res["query"]["districts"] = len(children)


def post_one(node, conn, pid, year=2026):
    body = json.dumps({"year": year, "person_id": pid, "group": "farmer",
                       "population": "adult", "scores": [9] * 10,
                       "digital": "skilled"})
    st, _ = node.request("POST", "/v1/assessments", body, conn=conn)
    check(st == 200, "probe write %d" % st)


def probes(com, prov, n, gap, tag):
    """Seconds from the commune's 2xx to the province's 2026 total showing
    each of n writes."""
    cc, pc = com.conn(), prov.conn()
    times = []
    for i in range(n):
        time.sleep(gap)
        before = prov.progress(2026, conn=pc)["counts"]["assessed"]
        post_one(com, cc, "%s%d" % (tag, i))
        t0 = time.perf_counter()
        while prov.progress(2026, conn=pc)["counts"]["assessed"] == before:
            check(time.perf_counter() - t0 < 30, "no propagation within 30 s")
        times.append(time.perf_counter() - t0)
    cc.close()
    pc.close()
    return times


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100 * len(xs))) - 1)]


def row_propagation(args, res):
    """8: commune -> district -> province, real nodes; idle, and under
    load from the generator (fake communes of the district, other years)."""
    prov = Node(args.tmp, args.build, "14", "province", "Tỉnh Sơn La")
    dist = Node(args.tmp, args.build, "116", "district", "Huyện Mai Sơn", prov)
    com = Node(args.tmp, args.build, "04108", "commune", "Xã Chiềng Sung", dist)
    fakes = [("%05d" % (5000 + k), [("%05d" % (5000 + k), "Xã Đơn vị %d" % k, None)])
             for k in range(args.prop_fakes)]
    gen = Generator(args.tmp, os.path.join(args.build, "client", "cdht"), fakes, "prop")
    dist.children += list(gen.entries)
    out = {"idle_p50": [], "load_p50": [], "load_p99": [], "load_rate": [],
           "offered_rate": []}
    for x in (prov, dist, com):
        x.start()
    try:
        # links up and the start-up reports through: one write goes up
        probes(com, prov, 1, 0, "warm")
        time.sleep(1.0)
        for rep in range(args.reps):
            t = probes(com, prov, args.probes, 0.15, "i%d-" % rep)
            out["idle_p50"].append(statistics.median(t) * 1000)
            p = gen.popen(os.path.join(args.bench, "loadgen"), dist,
                          years="2021-2025", level="commune",
                          seconds=args.prop_seconds, rate=args.prop_rate)
            # wait for the load phase to end (loadgen says "loaded")
            for line in p.stderr:
                if "loaded" in line:
                    break
            t = probes(com, prov, args.probes_load, 0.02, "l%d-" % rep)
            o, e = p.communicate(timeout=600)
            check(p.returncode == 0, "loadgen: %s" % e)
            g = json.loads(o)
            check(g["refused"] == 0, "district refused %d" % g["refused"])
            # the province's totals for the generator's years are its sums
            # (the commune's reports of those years are zero)
            time.sleep(1.0)
            t_end = time.time()
            while True:
                try:
                    check_totals(prov, g["sums"], "province under the district")
                    break
                except CheckFailed:
                    if time.time() - t_end > 20:
                        raise
                    time.sleep(0.2)
            out["load_p50"].append(statistics.median(t) * 1000)
            out["load_p99"].append(pct(t, 99) * 1000)
            out["load_rate"].append(g["update"]["acked"] / g["update"]["seconds"])
            out["offered_rate"].append(g["update"]["due"] / g["update"]["seconds"])
            log("propagation rep %d: idle p50 %.2f ms; under %.0f updates/s: "
                "p50 %.1f ms, p99 %.1f ms"
                % (rep, out["idle_p50"][-1], out["load_rate"][-1],
                   out["load_p50"][-1], out["load_p99"][-1]))
        got = com.progress(2026)["counts"]["assessed"]
        check(got == 1 + args.reps * (args.probes + args.probes_load),
              "commune holds %d probe writes" % got)
    finally:
        for x in (com, dist, prov):
            x.stop()
    res["propagation"] = {k: spread(v) for k, v in out.items()}


# --------------------------------------------------------------- report

def fmt(x, unit=""):
    if x >= 100:
        return "%.0f%s" % (x, unit)
    if x >= 10:
        return "%.1f%s" % (x, unit)
    return "%.2f%s" % (x, unit)


def mm(s, unit="", scale=1.0):
    return "%s (%s..%s)" % (fmt(s["median"] * scale, unit), fmt(s["min"] * scale),
                            fmt(s["max"] * scale))


def ratio(a, b):
    """a / b within each repetition (the two ran side by side): median and
    range, as text."""
    rs = [x / y for x, y in zip(a["values"], b["values"])]
    return "%sx (%s..%s)" % (fmt(statistics.median(rs)), fmt(min(rs)),
                             fmt(max(rs))), \
        statistics.median(rs)


def report(res, args):
    rows = []

    def add(job, measured, ratio, goal, met):
        rows.append((job, measured, ratio, goal,
                     "n/a" if met is None else ("met" if met else "**not met**")))
    if "single" in res:
        s = res["single"]
        for n in ("1", "8", "64"):
            tb, rb = ratio(s[n]["cdht"], s[n]["bare"])
            tp, rp = ratio(s[n]["cdht"], s[n]["pg"])
            goal = ("at least 0.7x bare evhttp; above PostgreSQL" if n == "64"
                    else "at least PostgreSQL's rate")
            met = rp > 1 and (rb >= 0.7 if n == "64" else True)
            measured = "cdht %s/s; bare evhttp %s/s" % (mm(s[n]["cdht"]),
                                                         mm(s[n]["bare"]))
            extra = ""
            if "durable" in s[n]:  # results of 0.5.1 and earlier lack it
                measured += "; bare evhttp + flush %s/s" % mm(s[n]["durable"])
                extra = "; %s bare + flush; bare + flush %s bare, %s PG" % (
                    ratio(s[n]["cdht"], s[n]["durable"])[0],
                    ratio(s[n]["durable"], s[n]["bare"])[0],
                    ratio(s[n]["durable"], s[n]["pg"])[0])
            if "pages" in s[n]:  # results before 0.5.2 lack it
                measured += "; + LMDB's pages %s/s" % mm(s[n]["pages"])
                extra += "; %s bare + flush + pages; that one %s bare + flush, %s PG" % (
                    ratio(s[n]["cdht"], s[n]["pages"])[0],
                    ratio(s[n]["pages"], s[n]["durable"])[0],
                    ratio(s[n]["pages"], s[n]["pg"])[0])
            if "cdht_kib" in s[n]:
                extra += ("; the disk wrote %s KiB per submission for cdht, "
                          "%s KiB for PG" % (mm(s[n]["cdht_kib"]),
                                             mm(s[n]["pg_kib"])))
            add("single durable submissions, %s client%s" % (n, "s" * (n != "1")),
                measured + "; PG INSERT %s/s" % mm(s[n]["pg"]),
                "%s bare; %s PG%s" % (tb, tp, extra), goal, met)
        add("raw LMDB, one put + commit per operation (the bare limit)",
            "%s/s" % mm(s["lmdb"]), "cdht at 1 client: %s"
            % ratio(s["1"]["cdht"], s["lmdb"])[0], "(reference)", None)
    if "import" in res:
        s = res["import"]
        t, r = ratio(s["cdht"], s["pg"])
        add("bulk import, %s CSV rows" % format(s["rows"], ","),
            "cdht import %s rows/s; PG COPY %s rows/s" % (mm(s["cdht"]), mm(s["pg"])),
            "%s COPY" % t, "at least 0.5x COPY", r >= 0.5)
    for tag in ("2025", "2024"):
        k = "national_" + tag
        if k not in res:
            continue
        s = res[k]
        add("updates applied at the national root, %d provinces relaying %s "
            "communes (%s)" % (s["provinces"], format(s["communes"], ","), tag),
            "%s/s (load of %s new keys: %s/s)" % (mm(s["update"]),
                                                  format(s["keys"], ","), mm(s["load"])),
            "generator CPU %.0f%%" % (100 * s["gen_cpu"]["median"]),
            "at least 100k/s", s["update"]["median"] >= 100000)
    if "cost" in res:
        s = res["cost"]
        t, r = ratio(s["10000"], s["100"])
        add("cost of one update at 10,000 origins vs 100",
            "%s us vs %s us" % (mm(s["10000"]), mm(s["100"])), t,
            "at most 1.5x", r <= 1.5)
    for tag in ("2025", "2024"):
        k = "national_" + tag
        if k not in res:
            continue
        s = res[k]
        add("full drill-down (every commune) at the national root (%s)" % tag,
            "%s, %.1f MB of JSON" % (mm(s["drill_ms"], " ms"),
                                     s["drill_bytes"]["median"] / 1e6),
            "", "under 10 ms", s["drill_ms"]["median"] < 10)
        add("root resident memory at %s communes (%s)" % (format(s["communes"], ","), tag),
            "%s (anon %s MiB, file %s MiB)%s"
            % (mm(s["rss_kib"], " MiB", 1 / 1024),
               fmt(s["rss_anon_kib"]["median"] / 1024),
               fmt(s["rss_file_kib"]["median"] / 1024),
               "; %s MiB before the drill-down" % fmt(
                   s["rss_loaded_kib"]["median"] / 1024)
               if "rss_loaded_kib" in s else ""),
            "", "under 100 MB", s["rss_kib"]["median"] * 1024 < 100e6)
    if "query" in res:
        s = res["query"]
        t1, r1 = ratio(s["pg1"], s["cdht1"])
        t2, r2 = ratio(s["pg2"], s["cdht2"])
        add("province query vs PostgreSQL GROUP BY over %s rows"
            % format(s["rows"], ","),
            "depth 1: PG %s, cdht %s; depth 2: PG %s, cdht %s"
            % (mm(s["pg1"], " ms"), mm(s["cdht1"], " ms"), mm(s["pg2"], " ms"),
               mm(s["cdht2"], " ms")),
            "depth 1: %s; depth 2: %s" % (t1, t2),
            "at least 100x at every depth", r1 >= 100 and r2 >= 100)
    if "propagation" in res:
        s = res["propagation"]
        add("propagation through two hops (commune -> district -> province)",
            "idle p50 %s; under load (%s updates/s offered, %s/s applied at "
            "the district): p50 %s, p99 %s"
            % (mm(s["idle_p50"], " ms"), fmt(s["offered_rate"]["median"]),
               fmt(s["load_rate"]["median"]),
               mm(s["load_p50"], " ms"), mm(s["load_p99"], " ms")),
            "", "p50 under 5 ms, p99 under 1 s at the province's maximum rate",
            s["idle_p50"]["median"] < 5 and s["load_p99"]["median"] < 1000)
    la = res["meta"].get("load_after") or os.getloadavg()
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    head = ("Measured %s on %s, %d CPUs (%s), Linux %s; load average before %s, "
            "after %.2f %.2f %.2f; %d repetitions; %s.\n"
            % (res["meta"]["date"][:10], os.uname().nodename, os.cpu_count(), cpu,
               os.uname().release, res["meta"]["load_before"], *la, args.reps,
               "git " + res["meta"]["git"]))
    md = [head, "| job | measured: median (min..max) | ratio: median of the repetitions' (min..max) | goal | goal met |",
          "|---|---|---|---|---|"]
    md += ["| %s | %s | %s | %s | %s |" % r for r in rows]
    md.append("")
    md.append("Sizes: single submissions %d s per wrk/pgbench run; raw LMDB %d "
              "commits; national root: %d s of updates after the load, 2000 entries "
              "per batch, one batch in flight per child, years 2021-2030; cost: one "
              "child, 1000 entries per batch; queries: median of %d PG runs and of "
              "wrk -c1 for %d s; propagation: %d idle probes and %d under load per "
              "repetition." % (args.seconds, args.lmdb_ops, args.seconds, args.pg_queries,
                               args.get_seconds, args.probes, args.probes_load))
    res["meta"]["load_after"] = la
    res["table"] = rows
    return "\n".join(md) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True, help="cdht's build (cdhtd, cdht)")
    ap.add_argument("--bench-dir", required=True, help="tests/bench's build")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5,
                    help="per wrk/pgbench run and per update phase")
    ap.add_argument("--get-seconds", type=int, default=3)
    ap.add_argument("--rows", default="1,2,3,4,5,6,7,8",
                    help="rows of the table to run (5 and 6 come with 3)")
    ap.add_argument("--import-rows", type=int, default=1000000)
    ap.add_argument("--pg-rows", type=int, default=10000000)
    ap.add_argument("--pg-queries", type=int, default=3)
    ap.add_argument("--lmdb-ops", type=int, default=2000)
    ap.add_argument("--probes", type=int, default=30)
    ap.add_argument("--probes-load", type=int, default=100)
    ap.add_argument("--prop-rate", type=float, default=10000)
    ap.add_argument("--prop-fakes", type=int, default=200)
    ap.add_argument("--prop-seconds", type=int, default=0,
                    help="default: long enough for the probes")
    ap.add_argument("--no-shape2024", dest="shape2024", action="store_false",
                    help="skip the 2024 shape (63 provinces / 10,595 communes)")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, for trying the suite (not for the README)")
    ap.add_argument("--perf", action="store_true",
                    help="perf record cdhtd in the first repetition of each row")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--report-only", metavar="JSON",
                    help="only render the table of an earlier run's JSON")
    a = ap.parse_args()
    if a.report_only:
        with open(a.report_only) as f:
            res = json.load(f)
        for k, v in res["meta"]["args"].items():
            if k not in ("report_only", "out"):
                setattr(a, k, v)
        res["meta"].setdefault("git", "")
        md = report(res, a)
        with open(a.out + ".md", "w") as f:
            f.write(md)
        sys.stdout.write(md)
        return
    if a.quick:
        a.seconds, a.get_seconds = 2, 1
        a.import_rows, a.pg_rows = 100000, 1000000
        a.probes, a.probes_load, a.pg_queries, a.lmdb_ops = 10, 30, 3, 500
    if a.reps < 3 and not a.quick:
        ap.error("--reps must be at least 3")
    if not a.prop_seconds:
        a.prop_seconds = 8 + a.probes_load // 10
    a.build = os.path.abspath(a.build_dir)
    a.bench = os.path.abspath(a.bench_dir)
    a.out = os.path.abspath(a.out)
    for tool in ("wrk", "pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit("bench.py: %s is missing (scripts/bench installs it)" % tool)
    rows = set(int(x) for x in a.rows.split(","))
    a.tmp = tempfile.mkdtemp(prefix="cdht-bench-", dir="/var/tmp")
    os.chmod(a.tmp, 0o755)
    git = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    res = {"meta": {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "cpus": os.cpu_count(), "load_before": os.getloadavg(),
                    "git": git, "args": {k: v for k, v in vars(a).items()}}}
    res["meta"]["load_before"] = "%.2f %.2f %.2f" % os.getloadavg()
    log("load average %s, %d CPUs; work directory %s"
        % (res["meta"]["load_before"], os.cpu_count(), a.tmp))
    pg = None
    try:
        if rows & {1, 2, 7}:
            pg = Postgres(a.tmp)
        if 1 in rows:
            row_single(a, res, pg)
        if 2 in rows:
            row_import(a, res, pg)
        if rows & {3, 5, 6}:
            row_national(a, res, "shape_2025_national.csv", "2025")
            if a.shape2024:
                row_national(a, res, "shape_2024_national.csv", "2024")
        if 4 in rows:
            row_cost(a, res)
        if 7 in rows:
            row_query(a, res, pg)
        if 8 in rows:
            row_propagation(a, res)
    finally:
        if pg:
            pg.stop()
        if not a.keep:
            shutil.rmtree(a.tmp, ignore_errors=True)
    md = report(res, a)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out + ".md", "w") as f:
        f.write(md)
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=1, default=str)
    sys.stdout.write(md)
    log("results in %s.md and %s.json" % (a.out, a.out))


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        sys.exit("bench.py: exactness check failed: %s" % e)
