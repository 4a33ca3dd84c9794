#!/usr/bin/env python3
"""ab.py: two builds of cdhtd, interleaved, on single durable submissions.

    tests/bench/ab.py BUILD_A BUILD_B [--clients 1,8,64] [--rounds 2]
        [--reps 3] [--seconds 4] [--slow-fsync-us US] [--bench-dir DIR]

For each round and client count, a fresh commune node of A, then of B (real
cdhtd, LMDB and journal in a temporary directory), each warmed for 1 s and
then loaded by wrk with tests/bench/wrk_post.lua for --reps runs of
--seconds.  Prints every run's rate and the daemon's CPU per request, and
per client count the median rate of each build and B/A.  --slow-fsync-us
runs both daemons under libslow_fsync.so (from the bench build,
tests/bench/CMakeLists.txt): every fdatasync and fsync then sleeps that long
after its work, as a slow disk's flush would.  How the README's "What
changed" rows on the commit path were measured; a change is kept when the
numbers support it.  Needs wrk (scripts/bench installs it).
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run(build, clients, args, env, tag):
    tmp = tempfile.mkdtemp(prefix="cdht-ab-")
    node = bench.Node(tmp, build, "04108", "commune", "Xã Chiềng Sung")
    node.env = env
    node.start()
    rates = []
    try:
        url = "http://127.0.0.1:%d" % node.port
        bench.wrk(url, clients, 1, bench.WRK_POST, node.token,
                  "/v1/assessments", ["w%s-" % tag])
        for rep in range(args.reps):
            c0 = cpu_seconds(node.proc.pid)
            w = bench.wrk(url, clients, args.seconds, bench.WRK_POST,
                          node.token, "/v1/assessments", ["%s%d-" % (tag, rep)])
            c1 = cpu_seconds(node.proc.pid)
            bench.check(w["status_errors"] == 0, "errors: %s" % w)
            rate = w["requests"] / (w["duration_us"] / 1e6)
            rates.append(rate)
            print("  %s c=%d rep %d: %.0f/s, %.1f us CPU per request"
                  % (build, clients, rep, rate,
                     (c1 - c0) * 1e6 / max(1, w["requests"])), flush=True)
    finally:
        node.stop()
        bench.shutil.rmtree(tmp, ignore_errors=True)
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--clients", default="1,8,64")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--slow-fsync-us", type=int, default=0)
    ap.add_argument("--bench-dir", default=None,
                    help="the bench build (default: A/bench)")
    args = ap.parse_args()
    env = None
    if args.slow_fsync_us:
        lib = os.path.join(args.bench_dir or os.path.join(args.a, "bench"),
                           "libslow_fsync.so")
        bench.check(os.path.exists(lib), "no %s: build tests/bench" % lib)
        env = dict(os.environ, LD_PRELOAD=lib,
                   CDHT_BENCH_FSYNC_US=str(args.slow_fsync_us))
    clients = [int(c) for c in args.clients.split(",")]
    got = {(b, c): [] for b in (args.a, args.b) for c in clients}
    for r in range(args.rounds):
        for c in clients:
            for i, b in enumerate((args.a, args.b)):
                got[(b, c)] += run(b, c, args, env, "r%d%s" % (r, "ab"[i]))
    print("clients  A median/s  B median/s  B/A")
    for c in clients:
        ma = statistics.median(got[(args.a, c)])
        mb = statistics.median(got[(args.b, c)])
        print("%7d  %10.0f  %10.0f  %.2fx" % (c, ma, mb, mb / ma))


if __name__ == "__main__":
    main()
