#!/usr/bin/python3
"""demo.py: a live cdht hierarchy for Sơn La province on this machine.

Starts one real `cdhtd` per administrative unit on loopback, links them with
CURVE keys, records realistic assessments and population denominators at the
communes (and the staff of one agency at the province, or at each district),
then waits until the province's totals equal the sum of everything recorded
and prints the province's progress with the real `cdht` client.

    scripts/demo.py --build-dir build                  # 1 province + 75 communes
    scripts/demo.py --build-dir build --communes 5 --once
    scripts/demo.py --build-dir build --shape three-level --districts 3 --communes 4

Shapes (units from tests/data/, see its README for sources and licenses):
  two-level    Tỉnh Sơn La (14) and its 75 communes after the 1 July 2025 reform
               (units_2025_son_la.csv); --communes N keeps the first N.
  three-level  Sơn La's 12 districts and 204 communes as of 2024
               (units_2024_son_la.csv); --districts N keeps the first N
               districts, --communes N the first N communes of each.

Everything lives in the work directory (default: a fresh temporary one,
printed at start, removed at exit after a successful run unless --keep):
WORKDIR/<unit id>/ holds the node's cdhtd.conf, tokens, children, key pair,
LMDB data and cdhtd.log; WORKDIR/clerk.env exports a commune's URL and its
clerk token (act as that commune's clerk); WORKDIR/env exports CDHT_SERVER and CDHT_TOKEN for
the province; WORKDIR/expected.json the seeded sums.

Exit status: 0 the province converged (with --once: then stops); 1 anything
failed, including "the province did not converge" (the demo never fakes it);
2 usage. Every process the demo starts is stopped on exit (SIGTERM, then
SIGKILL after a grace period), on Ctrl-C and on SIGTERM; each daemon also gets
PR_SET_PDEATHSIG so that not even `kill -9` of the demo leaves one running.

Only the Python standard library is used; only 127.0.0.1 is bound.
"""

import argparse
import csv
import ctypes
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
PROVINCE = "14"
HOST = "127.0.0.1"

GROUPS = ("farmer", "worker", "official", "business", "manager")
INDICATORS = ("adults", "staff", "digital", "proficient", "trained",
              "families", "clans", "communities", "units")
POPULATION_FIELDS = (
    "adults", "staff", "families_total", "families_recognized", "clans_total",
    "clans_recognized", "communities_total", "communities_recognized",
    "units_total", "units_recognized", "members_total", "members_trained")
CSV_COLUMNS = (["year", "person_id", "name", "birth_year", "group",
                "population"] + ["s%d" % i for i in range(1, 11)] + ["digital"])

T0 = time.monotonic()


def nfc(s):
    return unicodedata.normalize("NFC", s)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def say(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


class DemoError(Exception):
    """A failure worth one clear message; the demo stops and exits 1."""


class Stop(Exception):
    """SIGTERM / SIGHUP: stop like Ctrl-C."""


# --------------------------------------------------------------------------
# Topology


class Node:
    def __init__(self, uid, level, name, parent=None, agency=None):
        self.id = uid
        self.level = level
        self.name = name
        self.parent = parent
        self.children = []
        if parent:
            parent.children.append(self)
        # Local data: "commune" (adults + the commune agency's staff) or the
        # name of the one agency whose staff this district/province records.
        self.agency = agency
        self.http_port = None
        self.zmq_port = None
        self.dir = None
        self.proc = None
        self.log = None
        self.public_key = None
        self.clerk_token = None

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.http_port)

    @property
    def label(self):
        return "%s %s" % (self.id, self.name)


def read_units(fname):
    path = DATA / fname
    if not path.is_file():
        raise DemoError("%s is missing (see tests/data/README.md)" % path)
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["province_code"] == PROVINCE]


def build_two_level(ncommunes):
    rows = read_units("units_2025_son_la.csv")
    prov = Node(PROVINCE, "province", rows[0]["province_name"],
                agency="Sở Giáo dục và Đào tạo tỉnh Sơn La")
    for r in rows[:ncommunes]:
        Node(r["commune_code"], "commune", r["commune_name"], prov, "commune")
    return prov


def lower_first(s):
    return s[:1].lower() + s[1:]


def build_three_level(ndistricts, ncommunes):
    rows = read_units("units_2024_son_la.csv")
    prov = Node(PROVINCE, "province", rows[0]["province_name"],
                agency="Sở Giáo dục và Đào tạo tỉnh Sơn La")
    districts = {}
    for r in rows:
        d = districts.get(r["district_code"])
        if d is None:
            if len(districts) >= ndistricts:
                continue
            d = districts[r["district_code"]] = Node(
                r["district_code"], "district", r["district_name"], prov,
                "Phòng Giáo dục và Đào tạo " + lower_first(r["district_name"]))
        if r["commune_code"] and len(d.children) < ncommunes:
            Node(r["commune_code"], "commune", r["commune_name"], d, "commune")
    return prov


def walk(node):
    """Pre-order: every parent before its children."""
    yield node
    for c in node.children:
        yield from walk(c)


# --------------------------------------------------------------------------
# Generated data: realistic, deterministic per (seed, unit id)

# Sơn La is mostly Thái and H'Mông, with Kinh in the towns.
NAMES = {
    "thai": (("Lò", "Lường", "Quàng", "Cầm", "Tòng", "Vì", "Hà", "Lù", "Điêu",
              "Bạc", "Sa", "Lèo"),
             ("Văn",), ("Thị",),
             ("Phanh", "Khánh", "Xuân", "Ươi", "Inh", "Chiến", "Hom", "Pọm",
              "Thanh", "Biên", "Tiến", "Lả"),
             ("Ún", "Ọng", "Bun", "Hươn", "Xiêng", "Piêng", "Lả", "Đôi",
              "Hoa", "Ngoan", "Thoan", "Yến")),
    "hmong": (("Giàng", "Mùa", "Sùng", "Thào", "Vàng", "Lầu", "Hờ", "Sồng",
               "Lý", "Cứ"),
              ("A",), ("Thị",),
              ("Páo", "Chư", "Dình", "Sình", "Lử", "Pó", "Tủa", "Chống",
               "Vàng", "Nhìa"),
              ("Dợ", "Mỷ", "Chá", "Mai", "Sua", "Pằng", "Dua", "Ly", "Xúa",
               "Chu")),
    "kinh": (("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đỗ", "Vũ", "Bùi",
              "Đinh", "Đặng", "Ngô", "Phan"),
             ("Văn", "Đức", "Minh", "Quang"), ("Thị", "Thu", "Ngọc"),
             ("Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Hải", "Long", "Thắng",
              "Sơn", "Cường"),
             ("Lan", "Hương", "Mai", "Hoa", "Thu", "Hằng", "Nga", "Thảo",
              "Trang", "Huyền")),
}


def clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


class Person:
    def __init__(self, rng, pids, population, group, year0, ethnic_mix):
        self.population = population
        self.group = group
        female = rng.random() < 0.5
        if population == "staff":
            self.birth_year = rng.randint(year0 - 58, year0 - 22)
        else:
            self.birth_year = rng.randint(year0 - 70, year0 - 18)
        ethnic = rng.choices(("thai", "hmong", "kinh"), ethnic_mix)[0]
        fam, mid_m, mid_f, giv_m, giv_f = NAMES[ethnic]
        self.name = nfc("%s %s %s" % (
            rng.choice(fam), rng.choice(mid_f if female else mid_m),
            rng.choice(giv_f if female else giv_m)))
        # A citizen identity number's shape: province of birth (014 Sơn La),
        # century and sex, year of birth, six digits.  Fake, never real.
        while True:
            birth_prov = "014" if rng.random() < 0.85 else rng.choice(
                ("001", "011", "017", "019", "025", "036", "038"))
            digit = (0 if self.birth_year < 2000 else 2) + (1 if female else 0)
            pid = "%s%d%02d%06d" % (birth_prov, digit, self.birth_year % 100,
                                    rng.randrange(10 ** 6))
            if pid not in pids:
                pids.add(pid)
                break
        self.pid = pid
        self.skill = rng.gauss(0.5 if population == "staff" else 0.0, 1.0)
        self.offsets = [rng.gauss(0, 0.5) for _ in range(10)]
        young = (self.birth_year - 1975) / 30.0
        self.dig = rng.gauss(-0.3 + young + (0.8 if population == "staff"
                                              else 0.0), 0.9)
        self.recognized = {}  # year -> bool

    def assess(self, rng, year, y0):
        """One year's assessment (the dict the API takes) plus the expected
        total / recognized / outstanding per the README's rules."""
        t = year - y0
        base = 6.4 + 0.9 * self.skill + 0.36 * t   # the programme works
        scores = [int(clamp(round(base + off + rng.gauss(0, 0.6)), 1, 10))
                  for off in self.offsets]
        d = self.dig + 0.35 * t + rng.gauss(0, 0.5)
        digital = "none" if d < 0 else "skilled" if d < 1.2 else "proficient"
        total = sum(scores)
        rec = total >= 80 and min(scores) >= 5
        self.recognized[year] = rec
        out = rec and all(self.recognized.get(year - k) for k in range(1, 5))
        item = {"year": year, "person_id": self.pid, "name": self.name,
                "birth_year": self.birth_year, "group": self.group,
                "population": self.population, "scores": scores,
                "digital": digital}
        return item, {"total": total, "recognized": rec, "outstanding": out}


def zero_counts():
    c = {k: 0 for k in ("assessed", "recognized", "outstanding",
                        "adult_recognized", "staff_recognized",
                        "digital_skilled", "digital_proficient")}
    for g in GROUPS:
        c[g + "_assessed"] = 0
        c[g + "_recognized"] = 0
    for k in POPULATION_FIELDS:
        c[k] = 0
    return c


def add_counts(dst, src):
    for k, v in src.items():
        dst[k] += v


def count(items, expect, population):
    c = zero_counts()
    for item, e in zip(items, expect):
        c["assessed"] += 1
        c[item["group"] + "_assessed"] += 1
        if e["recognized"]:
            c["recognized"] += 1
            c[item["group"] + "_recognized"] += 1
            c[item["population"] + "_recognized"] += 1
            if item["digital"] != "none":
                c["digital_skilled"] += 1
            if item["digital"] == "proficient":
                c["digital_proficient"] += 1
        if e["outstanding"]:
            c["outstanding"] += 1
    for k, v in population.items():
        c[k] += v
    return c


def frac(rng, lo, hi, t, step, cap=0.97):
    """A recognised share that improves by `step` a year from [lo, hi)."""
    return min(cap, rng.uniform(lo, hi) + step * t)


def gen_node(node, years, seed):
    """{year: (items, expected, population)} for one node's local data."""
    rng = random.Random("cdht-demo:%s:%s" % (seed, node.id))
    y0 = years[0]
    pids = set()
    out = {}
    if node.agency == "commune":
        mix = (rng.uniform(0.4, 0.75), rng.uniform(0.1, 0.4), 0.15)
        # The commune agency's staff (Ủy ban nhân dân xã, Đảng ủy, ...).
        roster = [Person(rng, pids, "staff",
                         rng.choices(("official", "worker", "manager"),
                                     (6, 2, 2))[0], y0, mix)
                  for _ in range(rng.randint(12, 25))]
        n_first = rng.randint(38, 130)
        growth = rng.uniform(1.05, 1.2)
        ratio = rng.uniform(2.0, 3.0)       # adults per assessed adult
        house = rng.uniform(2.8, 3.6)       # adults per household
        clans = rng.randint(4, 16)
        communities = rng.randint(8, 30)    # bản, tổ dân phố
        units = rng.randint(5, 14)          # schools, health station, ...
        members_share = rng.uniform(0.15, 0.3)
        adults_prev = []
        for y in years:
            t = y - y0
            # Staff: nearly all assessed; one or two replaced each year.
            if t:
                for _ in range(rng.randint(0, 2)):
                    roster[rng.randrange(len(roster))] = Person(
                        rng, pids, "staff", rng.choice(("official", "worker")),
                        y0, mix)
            staff = [p for p in roster if rng.random() < 0.95]
            want = min(300 - len(staff), round(n_first * growth ** t))
            keep = [p for p in adults_prev
                    if rng.random() < (0.95 if p.recognized.get(y - 1)
                                       else 0.8)]
            rng.shuffle(keep)
            keep = keep[:want]
            while len(keep) < want:
                keep.append(Person(rng, pids, "adult", rng.choices(
                    GROUPS, (55, 15, 8, 14, 8))[0], y0, mix))
            adults_prev = keep
            items, expect = [], []
            for p in keep + staff:
                i, e = p.assess(rng, y, y0)
                items.append(i)
                expect.append(e)
            adults = round(len(keep) * ratio)
            fam = round(adults / house)
            members = round(adults * members_share)
            pop = {
                "adults": adults,
                "staff": len(staff) + rng.randint(0, 3),
                "families_total": fam,
                "families_recognized": round(fam * frac(rng, .55, .68, t, .035)),
                "clans_total": clans,
                "clans_recognized": round(clans * frac(rng, .45, .65, t, .05)),
                "communities_total": communities,
                "communities_recognized":
                    round(communities * frac(rng, .5, .7, t, .04)),
                "units_total": units,
                "units_recognized": round(units * frac(rng, .6, .8, t, .04)),
                "members_total": members,
                "members_trained": round(members * frac(rng, .3, .5, t, .15,
                                                       cap=1.0)),
            }
            out[y] = (items, expect, pop)
    else:
        # One district or provincial agency: staff only.
        mix = (0.35, 0.1, 0.55)
        size = rng.randint(40, 80) if node.level == "province" \
            else rng.randint(15, 40)
        roster = [Person(rng, pids, "staff", rng.choices(
            ("official", "manager", "worker"), (7, 2, 1))[0], y0, mix)
            for _ in range(size)]
        units = rng.randint(18, 30) if node.level == "province" \
            else rng.randint(8, 16)
        members = rng.randint(20, 60)
        for y in years:
            t = y - y0
            staff = [p for p in roster if rng.random() < 0.97]
            items, expect = [], []
            for p in staff:
                i, e = p.assess(rng, y, y0)
                items.append(i)
                expect.append(e)
            pop = {"staff": size, "units_total": units,
                   "units_recognized": round(units * frac(rng, .6, .75, t, .04)),
                   "members_total": members,
                   "members_trained": round(members * frac(rng, .4, .6, t, .15,
                                                           cap=1.0))}
            out[y] = (items, expect, pop)
    return out


def to_csv(items):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i in items:
        w.writerow([i["year"], i["person_id"], i["name"], i["birth_year"],
                    i["group"], i["population"]] + i["scores"] + [i["digital"]])
    return buf.getvalue()


# --------------------------------------------------------------------------
# Processes


def port_free(port):
    """True when nothing listens on 127.0.0.1:port (or on the wildcard).
    SO_REUSEADDR as the daemons use it: a port in TIME_WAIT is free."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Ports:
    def __init__(self, base):
        self.next = base
        self.skipped = []

    def take(self):
        while self.next < 65536:
            p = self.next
            self.next += 1
            if port_free(p):
                return p
            self.skipped.append(p)
        raise DemoError("no free port left at or above --base-port")


_libc = None


def _child_setup(parent_pid):
    # Runs in the child between fork and exec: die with the demo even if the
    # demo itself is killed with SIGKILL (PR_SET_PDEATHSIG = 1).
    try:
        if _libc is not None:
            _libc.prctl(1, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
    except Exception:
        pass


class Procs:
    """Every daemon the demo started; stop_all() leaves nothing running."""

    def __init__(self):
        self.nodes = []
        self.workdir = None

    def start(self, node, cdhtd):
        global _libc
        if _libc is None:
            try:
                _libc = ctypes.CDLL(None, use_errno=True)
            except OSError:
                pass
        log = open(node.log, "ab")
        try:
            node.proc = subprocess.Popen(
                [str(cdhtd), "-c", str(node.dir / "cdhtd.conf")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=str(node.dir), start_new_session=True,
                preexec_fn=lambda pid=os.getpid(): _child_setup(pid))
        finally:
            log.close()
        self.nodes.append(node)

    def dead(self):
        return [n for n in self.nodes if n.proc.poll() is not None]

    @staticmethod
    def _signal_group(node, sig):
        # Each daemon leads its own process group (start_new_session), so
        # this reaches it and anything it forked (a wrapper's children too).
        try:
            os.killpg(node.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self, grace=5.0):
        """SIGTERM every daemon, wait up to `grace` s, SIGKILL stragglers.
        Returns (were live, needed SIGKILL, exited with an error)."""
        live = [n for n in self.nodes if n.proc.poll() is None]
        for n in self.nodes:
            self._signal_group(n, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for n in live:
            try:
                n.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        killed = [n for n in live if n.proc.poll() is None]
        for n in self.nodes:
            self._signal_group(n, signal.SIGKILL)
        for n in killed:
            n.proc.wait()
        # Killed by our SIGTERM = stopped before installing its handler.
        bad = [n for n in live if n not in killed and
               n.proc.returncode not in (0, -signal.SIGTERM)]
        return live, killed, bad


def tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "    (no log: %s)" % e
    rows = text.splitlines()[-lines:] or ["(empty)"]
    return "\n".join("    | " + r for r in rows)


def describe_exit(code):
    if code is None:
        return "running"
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit status %d" % code


def run_client(cdht, args, token=None, server=None, check=True, timeout=30):
    cmd = [str(cdht)]
    if server:
        cmd += ["--server", server]
    if token:
        cmd += ["--token", token]
    cmd += args
    env = dict(os.environ)
    env.pop("CDHT_SERVER", None)
    env.pop("CDHT_TOKEN", None)
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise DemoError("`%s` hung for %d s" % (" ".join(cmd[:1] + args),
                                                 timeout))
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    if check and r.returncode != 0:
        raise DemoError("`cdht %s` failed (%s):\n%s%s" % (
            " ".join(args), describe_exit(r.returncode), out, err))
    return r.returncode, out, err


# --------------------------------------------------------------------------
# HTTP


def api(node, method, path, body=None, ctype=None, token=None, timeout=20):
    """(status, parsed JSON or raw text).  Raises OSError when unreachable."""
    conn = http.client.HTTPConnection(HOST, node.http_port, timeout=timeout)
    try:
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            if not isinstance(body, bytes):
                body = body.encode("utf-8")
            headers["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read().decode("utf-8", "replace")
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw
    finally:
        conn.close()


def short(body, limit=600):
    s = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + "..."


# --------------------------------------------------------------------------
# Set-up: binaries, keys, tokens, confs


def find_binaries(build_dir):
    b = Path(build_dir).resolve()
    found = []
    for name, sub in (("cdhtd", "daemon"), ("cdht", "client")):
        cands = [b / sub / name, b / name, b / "bin" / name]
        hit = next((c for c in cands if c.is_file() and os.access(c, os.X_OK)),
                   None)
        if hit is None:
            raise DemoError("no %s executable in %s (looked at %s); build "
                            "first: %s/scripts/build %s" % (
                                name, b, ", ".join(str(c) for c in cands),
                                REPO, b))
        found.append(hit)
    return found


TOKEN_LINE = re.compile(r"^(clerk|viewer|admin)\s+[0-9A-Fa-f]{64}(\s.*)?$")


def new_token(cdht, role, label):
    _, out, _ = run_client(cdht, ["token", "new", "--role", role,
                                  "--label", label])
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    if len(lines) != 2 or not TOKEN_LINE.match(lines[1]) or \
            not lines[1].startswith(role):
        raise DemoError("`cdht token new --role %s` printed %r; expected the "
                        "token, then \"%s SHA256HEX LABEL\"" % (role, out, role))
    return lines[0], lines[1]


def keygen(cdht, node):
    prefix = node.dir / "node"
    _, out, _ = run_client(cdht, ["keygen", str(prefix)])
    pub, sec = Path(str(prefix) + ".public"), Path(str(prefix) + ".secret")
    if not pub.is_file() or not sec.is_file():
        raise DemoError("`cdht keygen %s` did not write %s and %s" % (
            prefix, pub, sec))
    key = pub.read_text(encoding="ascii").strip()
    if len(key) != 40:
        raise DemoError("%s holds %r, not a 40-character Z85 key" % (pub, key))
    if out.strip() and out.strip() != key:
        say("note: `cdht keygen` printed %r but %s holds %r" % (
            out.strip(), pub.name, key))
    mode = sec.stat().st_mode & 0o777
    if mode != 0o600:
        say("note: %s has mode %o, README says 0600" % (sec, mode))
    node.public_key = key


def write_conf(node):
    d = node.dir
    lines = [
        "; cdhtd.conf of %s (%s), written by scripts/demo.py" % (
            node.label, node.level),
        "", "[node]",
        "id = %s" % node.id,
        "level = %s" % node.level,
        "name = %s" % node.name,
        "data_dir = %s" % (d / "data"),
        "map_size_mb = 64",
        "", "[http]",
        "listen = %s:%d" % (HOST, node.http_port),
        "tokens = %s" % (d / "tokens"),
    ]
    if node.parent:
        lines += ["", "[uplink]",
                  "parent = tcp://%s:%d" % (HOST, node.parent.zmq_port),
                  "parent_key = %s" % node.parent.public_key,
                  "secret_key = %s" % (d / "node.secret")]
    if node.children:
        lines += ["", "[downlink]",
                  "listen = tcp://%s:%d" % (HOST, node.zmq_port),
                  "secret_key = %s" % (d / "node.secret"),
                  "children = %s" % (d / "children")]
        with open(d / "children", "w", encoding="utf-8") as f:
            f.write("# children of %s: ID PUBLIC_KEY_Z85 NAME\n" % node.label)
            for c in node.children:
                f.write("%s %s %s\n" % (c.id, c.public_key, c.name))
    with open(d / "cdhtd.conf", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def set_up(args, nodes, cdht, work):
    ports = Ports(args.base_port)
    for n in nodes:
        n.dir = work / n.id
        (n.dir / "data").mkdir(parents=True)
        n.log = n.dir / "cdhtd.log"
        n.http_port = ports.take()
        if n.children:
            n.zmq_port = ports.take()
    if ports.skipped:
        say("ports in use, skipped: %s" % ", ".join(map(str, ports.skipped)))

    with ThreadPoolExecutor(8) as ex:
        for f in [ex.submit(keygen, cdht, n) for n in nodes]:
            f.result()
        viewer = ex.submit(new_token, cdht, "viewer", "demo-viewer")
        admin = ex.submit(new_token, cdht, "admin", "demo-admin")
        clerks = [ex.submit(new_token, cdht, "clerk", "clerk-%s" % n.id)
                  for n in nodes]
        viewer, admin = viewer.result(), admin.result()
        for n, f in zip(nodes, clerks):
            n.clerk_token, line = f.result()
            with open(n.dir / "tokens", "w", encoding="utf-8") as t:
                t.write("# ROLE SHA256HEX LABEL (cdht token new)\n")
                t.write("%s\n%s\n%s\n" % (line, viewer[1], admin[1]))
            os.chmod(n.dir / "tokens", 0o600)
    for n in nodes:
        write_conf(n)
    with open(work / "nodes.tsv", "w", encoding="utf-8") as f:
        f.write("id\tlevel\tname\tparent\thttp\tzmq\n")
        for n in nodes:
            f.write("%s\t%s\t%s\t%s\t%s\t%s\n" % (
                n.id, n.level, n.name, n.parent.id if n.parent else "",
                n.url, "tcp://%s:%d" % (HOST, n.zmq_port) if n.zmq_port
                else ""))
    return viewer[0], admin[0]


# --------------------------------------------------------------------------
# Start, health


def check_alive(procs, when):
    dead = procs.dead()
    if dead:
        msg = ["%d cdhtd died %s:" % (len(dead), when)]
        for n in dead[:3]:
            msg.append("  %s: %s; last lines of %s:\n%s" % (
                n.label, describe_exit(n.proc.returncode), n.log, tail(n.log)))
        if len(dead) > 3:
            msg.append("  ... and %s" % ", ".join(n.id for n in dead[3:]))
        raise DemoError("\n".join(msg))


def wait_healthy(procs, nodes, timeout):
    deadline = time.monotonic() + timeout
    pending = list(nodes)
    while pending:
        check_alive(procs, "during start-up")
        still = []
        for n in pending:
            try:
                st, body = api(n, "GET", "/healthz", timeout=2)
            except OSError:
                still.append(n)
                continue
            if st == 200 and isinstance(body, dict) and \
                    body.get("status") == "ok":
                got = (body.get("node") or {}).get("id")
                if got is not None and str(got) != n.id:
                    raise DemoError("%s answers /healthz as node %r" % (
                        n.label, got))
            else:
                still.append(n)
        pending = still
        if pending and time.monotonic() > deadline:
            msg = ["%d of %d nodes not healthy after %.0f s: %s" % (
                len(pending), len(nodes), timeout,
                ", ".join(n.id for n in pending[:20]))]
            for n in pending[:2]:
                msg.append("  last lines of %s:\n%s" % (n.log, tail(n.log)))
            raise DemoError("\n".join(msg))
        if pending:
            time.sleep(0.05)


# --------------------------------------------------------------------------
# Seeding


def seed_node(node, data, use_csv, lock, stats):
    fmt = "csv" if use_csv else "json"
    mismatches = []
    for year in sorted(data):
        items, expect, pop = data[year]
        if use_csv:
            body, ctype = to_csv(items), "text/csv"
        else:
            body, ctype = json.dumps(items, ensure_ascii=False), \
                "application/json"
        try:
            st, res = api(node, "POST", "/v1/assessments", body, ctype,
                          node.clerk_token, timeout=60)
        except OSError as e:
            raise DemoError("POST /v1/assessments to %s: %s (process: %s)" % (
                node.label, e, describe_exit(node.proc.poll())))
        if st != 200 or not isinstance(res, dict):
            raise DemoError("POST /v1/assessments (%s, %d items, %d) to %s "
                            "answered %d: %s" % (fmt, len(items), year,
                                                 node.label, st, short(res)))
        if res.get("accepted") != len(items) or res.get("rejected"):
            raise DemoError(
                "%s accepted %r of %d %s items for %d, rejected %r; first "
                "errors: %s" % (node.label, res.get("accepted"), len(items),
                                fmt, year, res.get("rejected"),
                                short(res.get("errors", [])[:3])))
        results = res.get("results")
        if isinstance(results, list):
            by_pid = {r.get("person_id"): r for r in results
                      if isinstance(r, dict)}
            for item, e in zip(items, expect):
                r = by_pid.get(item["person_id"])
                got = r and {"total": r.get("total"),
                             "recognized": r.get("recognized"),
                             "outstanding": r.get("outstanding")}
                if got != e:
                    mismatches.append((node.id, year, item["person_id"], e,
                                       got))
        else:
            mismatches.append((node.id, year, None, "a results array",
                               short(res, 100)))
        try:
            st, res = api(node, "PUT", "/v1/population/%d" % year,
                          json.dumps(pop), "application/json",
                          node.clerk_token)
        except OSError as e:
            raise DemoError("PUT /v1/population/%d to %s: %s" % (
                year, node.label, e))
        if st != 200:
            raise DemoError("PUT /v1/population/%d %s to %s answered %d: %s"
                            % (year, json.dumps(pop), node.label, st,
                               short(res)))
        with lock:
            stats[fmt] += len(items)
            stats["requests"] += 2
            stats["population"] += 1
    with lock:
        stats["mismatches"] += mismatches


def seed(nodes, data, procs):
    lock = threading.Lock()
    stats = {"json": 0, "csv": 0, "requests": 0, "population": 0,
             "mismatches": []}
    ex = ThreadPoolExecutor(min(8, len(nodes)))
    try:
        futs = [ex.submit(seed_node, n, data[n.id], i % 2 == 1, lock, stats)
                for i, n in enumerate(nodes)]
        for f in futs:
            try:
                f.result()
            except DemoError:
                check_alive(procs, "while seeding")
                raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    return stats


# --------------------------------------------------------------------------
# Expected sums, progress comparison


def expected_sums(nodes, data, years):
    """{node id: {year: counts of its whole subtree}}, children first."""
    sub = {}
    for n in reversed(nodes):
        sub[n.id] = {}
        for y in years:
            items, expect, pop = data[n.id][y]
            c = count(items, expect, pop)
            for ch in n.children:
                add_counts(c, sub[ch.id][y])
            sub[n.id][y] = c
    return sub


def indicator_terms(c):
    return {
        "adults": (c["adult_recognized"], c["adults"]),
        "staff": (c["staff_recognized"], c["staff"]),
        "digital": (c["digital_skilled"], c["recognized"]),
        "proficient": (c["digital_proficient"], c["digital_skilled"]),
        "trained": (c["members_trained"], c["members_total"]),
        "families": (c["families_recognized"], c["families_total"]),
        "clans": (c["clans_recognized"], c["clans_total"]),
        "communities": (c["communities_recognized"], c["communities_total"]),
        "units": (c["units_recognized"], c["units_total"]),
    }


def compare(progress, c):
    """[(what, expected, got)] where a node's progress differs from c."""
    if not isinstance(progress, dict):
        return [("progress", "a JSON object", short(progress, 80))]
    diff = []
    counts = progress.get("counts") or {}
    for k in ("assessed", "recognized", "outstanding"):
        if counts.get(k) != c[k]:
            diff.append(("counts." + k, c[k], counts.get(k)))
    by_group = counts.get("by_group")
    if isinstance(by_group, dict):
        for g in GROUPS:
            for k in ("assessed", "recognized"):
                got = (by_group.get(g) or {}).get(k, 0)
                if got != c["%s_%s" % (g, k)]:
                    diff.append(("by_group.%s.%s" % (g, k),
                                 c["%s_%s" % (g, k)], got))
    else:
        diff.append(("counts.by_group", "an object", by_group))
    ind = progress.get("indicators") or {}
    for name, (num, den) in indicator_terms(c).items():
        i = ind.get(name) or {}
        if i.get("numerator") != num:
            diff.append((name + ".numerator", num, i.get("numerator")))
        if i.get("denominator") != den:
            diff.append((name + ".denominator", den, i.get("denominator")))
    return diff


def province_diff(prov, token, years, exp):
    diffs = {}
    for y in years:
        try:
            st, body = api(prov, "GET", "/v1/progress?year=%d" % y,
                           token=token, timeout=5)
        except OSError as e:
            diffs[y] = [("GET /v1/progress", "200", str(e))]
            continue
        if st != 200:
            diffs[y] = [("GET /v1/progress status", 200,
                         "%d %s" % (st, short(body, 200)))]
            continue
        d = compare(body, exp[prov.id][y])
        if d:
            diffs[y] = d
    return diffs


def wait_converged(prov, token, years, exp, procs, timeout):
    t = time.monotonic()
    deadline = t + timeout
    while True:
        diffs = province_diff(prov, token, years, exp)
        if not diffs:
            return time.monotonic() - t, {}
        check_alive(procs, "while waiting for the province")
        if time.monotonic() > deadline:
            return None, diffs
        time.sleep(0.02)


def diagnose(prov, nodes, token, years, exp, data, diffs):
    """Say clearly why the province has not converged."""
    y = years[-1] if years[-1] in diffs else min(diffs)
    print("\nNOT CONVERGED: %s's progress differs from what was seeded "
          "(%d of %d years differ). For %d, expected vs got:" % (
              prov.label, len(diffs), len(years), y))
    for what, e, g in diffs[y][:14]:
        print("    %-34s expected %-10s got %s" % (what, e, g))
    if len(diffs[y]) > 14:
        print("    ... %d more" % (len(diffs[y]) - 14))
    local = count(*data[prov.id][y])
    if not compare_quiet(prov, token, y, local):
        print("  The province shows exactly its own agency's data and nothing "
              "from below.")
    ok = {}
    for n in nodes[1:]:
        ok.setdefault(n.level, ([], []))
        good = not compare_quiet(n, token, y, exp[n.id][y])
        ok[n.level][0 if good else 1].append(n)
    for level in ("commune", "district"):
        if level in ok:
            g, b = ok[level]
            print("  %d of %d %ss show exactly what was seeded beneath them "
                  "for %d%s." % (
                      len(g), len(g) + len(b), level, y,
                      "" if not b else "; not: " + ", ".join(
                          n.id for n in b[:10]) + (" ..." if len(b) > 10
                                                   else "")))
    if not ok.get("commune", ([], [1]))[1]:
        print("  So recording works at every commune and the counts did not "
              "(all) travel up: the uplink/downlink replication (ZeroMQ + "
              "CURVE) is missing or broken. Logs: %s/*/cdhtd.log." %
              prov.dir.parent)


def compare_quiet(node, token, year, c):
    try:
        st, body = api(node, "GET", "/v1/progress?year=%d" % year,
                       token=token, timeout=5)
    except OSError:
        return ["unreachable"]
    return compare(body, c) if st == 200 else ["status %d" % st]


# --------------------------------------------------------------------------
# Main


def parse_years(s):
    m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", s.strip())
    if not m:
        raise argparse.ArgumentTypeError("expected YEAR or FIRST-LAST")
    a = int(m.group(1))
    b = int(m.group(2) or a)
    if not 2021 <= a <= b <= 2030:
        raise argparse.ArgumentTypeError("years must lie in 2021..2030")
    return list(range(a, b + 1))


def positive(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Start a local cdht hierarchy for Sơn La (one cdhtd per "
        "unit), seed it, and show the province's progress.",
        epilog="Example: scripts/demo.py --build-dir build --communes 5 --once")
    p.add_argument("--build-dir", required=True,
                   help="CMake build directory holding daemon/cdhtd and "
                   "client/cdht")
    p.add_argument("--shape", choices=("two-level", "three-level"),
                   default="two-level",
                   help="two-level: province 14 + its 2025 communes "
                   "(default); three-level: province + 2024 districts + "
                   "communes")
    p.add_argument("--communes", type=positive, default=None, metavar="N",
                   help="two-level: the first N communes (default all 75); "
                   "three-level: the first N communes of each district "
                   "(default all)")
    p.add_argument("--districts", type=positive, default=None, metavar="N",
                   help="three-level: the first N districts (default all 12)")
    p.add_argument("--years", type=parse_years, default=parse_years("2021-2026"),
                   metavar="FIRST-LAST", help="default 2021-2026")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed of the generated data (default 1)")
    p.add_argument("--once", action="store_true",
                   help="stop everything and exit after printing the progress")
    p.add_argument("--base-port", type=int, default=18470, metavar="P",
                   help="first loopback port to use; HTTP and ZeroMQ ports "
                   "are taken upward from it, skipping busy ones (default "
                   "18470)")
    p.add_argument("--workdir", default=None, metavar="DIR",
                   help="empty or new directory for confs, keys, data, logs "
                   "(default: a fresh temporary directory)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary work directory after a "
                   "successful run (it is always kept after a failure, and "
                   "a --workdir is never removed)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds to wait for the province to converge "
                   "(default 30)")
    a = p.parse_args(argv)
    if not 1024 <= a.base_port <= 65000:
        p.error("--base-port must lie in 1024..65000")
    if a.districts and a.shape != "three-level":
        p.error("--districts applies to --shape three-level only")
    return a


def make_workdir(arg):
    if arg is None:
        return Path(tempfile.mkdtemp(prefix="cdht-demo-"))
    w = Path(arg).resolve()
    if w.exists() and (not w.is_dir() or any(w.iterdir())):
        raise DemoError("--workdir %s exists and is not an empty directory; "
                        "the demo needs a fresh one" % w)
    w.mkdir(parents=True, exist_ok=True)
    return w


def run(args, procs):
    cdhtd, cdht = find_binaries(args.build_dir)
    if args.shape == "two-level":
        prov = build_two_level(args.communes or 10 ** 6)
    else:
        prov = build_three_level(args.districts or 10 ** 6,
                                 args.communes or 10 ** 6)
    nodes = list(walk(prov))
    levels = {}
    for n in nodes:
        levels[n.level] = levels.get(n.level, 0) + 1
    shape = ", ".join("%d %s%s" % (levels[l], l, "s" if levels[l] > 1 else "")
                      for l in ("province", "district", "commune")
                      if l in levels)
    years = args.years
    work = make_workdir(args.workdir)
    procs.workdir = work
    print("cdht demo: %s, %s (%s), years %d-%d, seed %d" % (
        args.shape, prov.name, shape, years[0], years[-1], args.seed))
    print("workdir: %s  (per node: <id>/cdhtd.conf, tokens, children, "
          "node.public, data/, cdhtd.log)" % work)
    print("binaries: %s, %s" % (cdhtd, cdht), flush=True)

    viewer, admin = set_up(args, nodes, cdht, work)
    say("%d key pairs and %d tokens made, confs written" % (
        len(nodes), len(nodes) + 2))
    with open(work / "env", "w", encoding="utf-8") as f:
        f.write("# . %s/env   then: %s progress --depth 1\n" % (work, cdht))
        f.write("export CDHT_SERVER=%s\nexport CDHT_TOKEN=%s\n" % (prov.url,
                                                                 viewer))
        f.write("# admin token: %s\n" % admin)
    os.chmod(work / "env", 0o600)
    # acting as a clerk: a commune's URL and its clerk token
    clerk_at = next(n for n in nodes if n.agency == "commune")
    with open(work / "clerk.env", "w", encoding="utf-8") as f:
        f.write("# clerk of %s: . %s/clerk.env   then: %s template mau.csv; "
                "%s import mau.csv\n" % (clerk_at.label, work, cdht, cdht))
        f.write("export CDHT_SERVER=%s\nexport CDHT_TOKEN=%s\n" % (
            clerk_at.url, clerk_at.clerk_token))
    os.chmod(work / "clerk.env", 0o600)

    # Start first: forking is cheaper before the generated data fills memory,
    # and the daemons boot while the data is generated.
    for n in nodes:
        procs.start(n, cdhtd)
    zmq_ports = [n.zmq_port for n in nodes if n.zmq_port]
    say("started %d cdhtd on %s ports %d..%d (HTTP; ZeroMQ downlink%s %s); "
        "all listed in %s" % (
            len(nodes), HOST, min(n.http_port for n in nodes),
            max(n.http_port for n in nodes), "s" if len(zmq_ports) > 1 else "",
            ", ".join(map(str, zmq_ports[:4])) + (
                " ..." if len(zmq_ports) > 4 else ""), work / "nodes.tsv"))
    data = {n.id: gen_node(n, years, args.seed) for n in nodes}
    exp = expected_sums(nodes, data, years)
    with open(work / "expected.json", "w", encoding="utf-8") as f:
        json.dump({nid: {str(y): c for y, c in per.items()}
                   for nid, per in exp.items()}, f, indent=1, sort_keys=True)
    t = time.monotonic()
    wait_healthy(procs, nodes, 15 + 0.2 * len(nodes))
    say("all %d nodes answer /healthz (%.2f s)" % (len(nodes),
                                                    time.monotonic() - t))

    t = time.monotonic()
    stats = seed(nodes, data, procs)
    seeded = stats["json"] + stats["csv"]
    t_seed = time.monotonic() - t
    agencies = [n for n in nodes if n.agency != "commune"]
    say("seeded %d assessments (%d as JSON arrays, %d as CSV; adults and "
        "commune staff at %s, agency staff at %s) and %s in %d requests: "
        "%.2f s, %.0f assessments/s" % (
            seeded, stats["json"], stats["csv"],
            plural(len(nodes) - len(agencies), "commune"),
            "the province" if len(agencies) == 1 else
            "the province and %s" % plural(len(agencies) - 1, "district"),
            plural(stats["population"], "population year"),
            stats["requests"], t_seed, seeded / max(t_seed, 1e-6)))
    mism = stats["mismatches"]
    if mism:
        say("WARNING: %d assessments scored differently from the README's "
            "rules; first: %s" % (len(mism), "; ".join(
                "%s %s %s expected %s got %s" % m for m in mism[:3])))

    last = years[-1]
    pe = exp[prov.id][last]
    say("waiting up to %.0f s for %s to show the sums (%d: %d assessed, %d "
        "recognised, %d outstanding) ..." % (
            args.timeout, prov.label, last, pe["assessed"], pe["recognized"],
            pe["outstanding"]))
    secs, diffs = wait_converged(prov, viewer, years, exp, procs, args.timeout)
    if secs is not None:
        say("province converged: %s, %.2f s after the last write" % (
            "all %d years match" % len(years) if len(years) > 1 else
            "year %d matches" % years[0], secs))
    else:
        diagnose(prov, nodes, viewer, years, exp, data, diffs)

    print("\n$ cdht --server %s --token %s... progress --year %d --depth 1" % (
        prov.url, viewer[:8], last), flush=True)
    rc_c, out, err = run_client(cdht, ["progress", "--year", str(last),
                                       "--depth", "1"],
                                token=viewer, server=prov.url, check=False)
    sys.stdout.write(out)
    if err:
        sys.stdout.write(err)
    if rc_c != 0:
        print("(cdht progress failed: %s)" % describe_exit(rc_c))
    if secs is None:
        print("`cdht nodes` at the province:")
        _, out, err = run_client(cdht, ["nodes"], token=viewer,
                                 server=prov.url, check=False)
        print("\n".join((out + err).splitlines()[:25]))

    ok = secs is not None and rc_c == 0 and not mism
    print("\nsummary: %d nodes, %d assessments, %s%s" % (
        len(nodes), seeded,
        "converged in %.2f s" % secs if secs is not None else
        "NOT converged within %.0f s" % args.timeout,
        "" if not mism else ", %d scoring mismatches" % len(mism)))
    print("province: %s   viewer token: %s" % (prov.url, viewer))
    print("explore:  . %s/env && %s progress --depth 1 --lang en" % (work, cdht))
    print("report:   . %s/env && %s report --format html -o bao-cao.html" % (
        work, cdht))
    print("clerk:    . %s/clerk.env && %s template mau.csv && %s import "
          "mau.csv   (%s)" % (work, cdht, cdht, clerk_at.label))
    if args.once:
        return 0 if ok else 1

    print("running; Ctrl-C to stop.", flush=True)
    reported = set()
    try:
        while True:
            time.sleep(1)
            for n in procs.dead():
                if n.id not in reported:
                    reported.add(n.id)
                    print("cdhtd %s stopped: %s; last lines of %s:\n%s" % (
                        n.label, describe_exit(n.proc.returncode), n.log,
                        tail(n.log)), flush=True)
    except (KeyboardInterrupt, Stop):
        print()
    return 0 if ok else 1


def on_signal(signum, frame):
    raise Stop()


def main(argv):
    args = parse_args(argv)
    procs = Procs()
    # Ctrl-C raises KeyboardInterrupt even when started from a shell that
    # ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    rc = 1
    try:
        rc = run(args, procs)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        rc = 130
    except Stop:
        print("\nstopped by signal", file=sys.stderr)
        rc = 143
    except DemoError as e:
        print("demo: error: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if procs.nodes:
            live, killed, bad = procs.stop_all()
            msg = "stopped %d cdhtd" % len(live)
            if killed:
                msg += "; %d ignored SIGTERM for 5 s and got SIGKILL (%s)" % (
                    len(killed), ", ".join(n.id for n in killed[:10]))
            if bad:
                msg += "; %d exited uncleanly: %s" % (len(bad), ", ".join(
                    "%s %s" % (n.id, describe_exit(n.proc.returncode))
                    for n in bad[:10]))
            say(msg)
            if bad:
                n = bad[0]
                print("  last lines of %s:\n%s" % (n.log, tail(n.log)),
                      file=sys.stderr)
        if procs.workdir is not None and args.workdir is None:
            if rc == 0 and not args.keep:
                shutil.rmtree(procs.workdir, ignore_errors=True)
                say("removed %s (--keep keeps it)" % procs.workdir)
            else:
                say("kept %s (logs: <id>/cdhtd.log)" % procs.workdir)
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
