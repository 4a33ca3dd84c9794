#!/usr/bin/env python3
"""compare_views.py NEW_CDHTD BASE_CDHTD GLOB: the read-only JSON of two
cdhtd builds on the same stored data, byte for byte (issue 12's direct
writer against the jansson documents of the release before it).

GLOB names node directories with a conf.ini, e.g. those the system tests
leave with CDHT_KEEP=1 TMPDIR=DIR (DIR/*/conf.ini).  Each node is started
alone with NEW, then with BASE, on its own data (its tokens file is
replaced by an admin token of this script), and the same GETs are sent:
/v1/nodes and /v1/progress for several years, depths and units.  "as_of"
(the second of the request) and /v1/nodes' "uplink" (the link's state of
the moment) are masked; everything else, headers included, must be equal.
Exit status 1 when any response differs.
"""
import glob
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import time

TOK = "drilltoken"
new, base, pattern = sys.argv[1], sys.argv[2], sys.argv[3]
def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers={"Authorization": "Bearer " + TOK})
    r = c.getresponse(); d = r.read(); c.close()
    return r.status, d, sorted((k, v) for k, v in r.getheaders() if k.lower() not in ("date", "content-length"))
def start(binary, conf, port):
    log = open(os.devnull, "w")
    p = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    for _ in range(200):
        if p.poll() is not None: return None
        try:
            if get(port, "/healthz")[0] == 200: return p
        except OSError: pass
        time.sleep(0.05)
    p.kill(); return None
def norm(d):
    d = re.sub(rb'"as_of":"[^"]*"', b'"as_of":""', d)
    d = re.sub(rb',"uplink":\{.*\}\}$', b'}', d.strip())
    d = re.sub(rb',"uplink":null\}$', b'}', d.strip())
    return d
total = bad = 0
for conf in sorted(glob.glob(pattern)):
    dr = os.path.dirname(conf)
    text = open(conf).read()
    m = re.search(r"\[http\]\s*listen = 127.0.0.1:(\d+)", text)
    if not m: continue
    port = int(m.group(1))
    with open(os.path.join(dr, "tokens"), "w") as f:
        f.write("admin %s drill\n" % hashlib.sha256(TOK.encode()).hexdigest())
    res = {}
    for b in (new, base):
        p = start(b, conf, port)
        if p is None:
            print("skip", dr, "(did not start)"); res = None; break
        try:
            st, d, h = get(port, "/v1/nodes")
            ids = [n["id"] for n in json.loads(d)["nodes"]] if st == 200 else []
            urls = ["/v1/nodes"]
            for y in (2020, 2024, 2025, 2026):
                urls.append("/v1/progress?year=%d" % y)
                for dep in (0, 1, 2, 3, 8):
                    urls.append("/v1/progress?year=%d&depth=%d" % (y, dep))
                for i in ids[:12]:
                    urls += ["/v1/progress?year=%d&node=%s" % (y, i), "/v1/progress?year=%d&depth=2&node=%s" % (y, i)]
            for u in urls:
                res.setdefault(u, []).append(get(port, u))
        finally:
            p.terminate(); p.wait()
    if res is None: continue
    for u, v in res.items():
        if len(v) != 2: continue
        total += 1
        (s1, d1, h1), (s2, d2, h2) = v
        if (s1, norm(d1), h1) != (s2, norm(d2), h2):
            bad += 1
            print("DIFFER", dr, u, s1, s2, len(d1), len(d2))
            a, b2 = norm(d1), norm(d2)
            for i in range(min(len(a), len(b2))):
                if a[i] != b2[i]:
                    print("  new :", a[max(0, i-150):i+80]); print("  base:", b2[max(0, i-150):i+80]); break
    print("%s: %d urls" % (os.path.basename(dr), len(res)))
print("compared %d responses, %d differ" % (total, bad))
sys.exit(1 if bad or not total else 0)
