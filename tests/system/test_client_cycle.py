"""The yearly cycle through cdht against real nodes: decisions (add with
ids or a file, list, show, revoke), title records (add, import, show, rm),
lists of names (table, and json/csv/html byte for byte as the API sends
them), filing (submit, --force, reopen, status) and inspector tokens.

Every output is checked against what the API answers and against the
inputs: an ineligible id makes `decision add` exit 1 and is named with its
reason (and its file line), nothing being recorded; `list --format csv`
equals GET /v1/lists csv; once a year is filed `cdht submit` for it fails
with year_filed.  The tests read cdht's English (node.client sets LANG)
unless they ask for Vietnamese."""

import json
import os
import re
import subprocess

from cdhttest.case import LOW, NOT_REC, REC, NodeTestCase, assessment, main
from cdhttest.hier import HierTestCase, python_keypair
from cdhttest.node import new_token, quote_pid, token_hash

YEAR = 2026
NUM = "45/QĐ-UBND"
NUM_PATH = "45%2FQ%C4%90-UBND"  # the encoding the spec gives
AUTH = "UBND xã Chiềng Sung"


def quote(s):
    return quote_pid(s)


def add_inspector(node):
    """Give node an inspector token (before it starts) unless it has one."""
    if "inspector" in node.tokens:
        return
    tok = new_token()
    node.tokens["inspector"] = tok
    with open(node.tokens_path, "a") as f:
        f.write("inspector %s inspector-test\n" % token_hash(tok))


def decision_mode(node):
    """[programme] recognition = decision in node's conf."""
    base = node.conf_fn

    def conf(port):
        text = base(port) if base else node.conf_text()
        return text + "[programme]\nrecognition = decision\n"
    node.conf_fn = conf


def submit(node, a):
    r = node.post(a)
    assert r.status == 200, r
    return r


def decision_lines(stdout):
    """The rows of `decision list`: the lines after the rule."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line and set(line) == {"-"}:
            return [l for l in lines[i + 1:] if l.strip()]
    return []


class Cycle(NodeTestCase):

    def ok(self, p, what, code=0):
        codes = (code,) if isinstance(code, int) else code
        self.assertIn(p.returncode, codes,
                      "%s: exit %d, want %s\nstdout: %s\nstderr: %s"
                      % (what, p.returncode, codes, p.stdout[-3000:],
                         p.stderr[-3000:]))
        return p

    def node(self, decision=True):
        n = self.make_node(start=False)
        add_inspector(n)
        if decision:
            decision_mode(n)
        n.start()
        return n

    def people(self, n):
        """Eligible E1..E5, not eligible L1 (70) and N1 (a score of 4)."""
        for i in range(1, 6):
            submit(n, assessment(YEAR, "E%d" % i, REC,
                                 name="Lò Văn %d" % i))
        submit(n, assessment(YEAR, "L1", LOW))
        submit(n, assessment(YEAR, "N1", NOT_REC))

    def decisions(self, n, year=YEAR):
        r = n.request("GET", "/v1/decisions?year=%d" % year, role="inspector")
        self.assertStatus(r, 200, "GET /v1/decisions")
        return r.json["decisions"]

    # -- decisions --------------------------------------------------------
    def test_decision_add_show_list_revoke(self):
        n = self.node()
        self.people(n)
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             NUM, "--date", "2026-11-20", "--authority",
                             AUTH, "E1", "E2", role="clerk"), "decision add")
        self.assertIn(NUM, p.stdout)
        self.assertIn(AUTH, p.stdout)
        r = n.request("GET", "/v1/decisions/%d/%s" % (YEAR, NUM_PATH),
                      role="inspector")
        self.assertStatus(r, 200, "GET the decision")
        self.assertEqual(sorted(r.json["ids"]), ["E1", "E2"])
        self.assertEqual(r.json["count"], 2)
        self.assertEqual(r.json["authority"], AUTH)
        self.assertEqual(r.json["date"], "2026-11-20")
        self.assertEqual(r.json["title"], "citizen")
        self.assertRegex(p.stdout, r"count\s+2\b")
        for pid, rec in (("E1", True), ("E2", True), ("E3", False)):
            g = n.get(YEAR, pid).json
            self.assertIs(g["eligible"], True, pid)
            self.assertIs(g["recognized"], rec, pid)
            self.assertEqual(g["decision"], NUM if rec else None, pid)

        # ineligible, unknown, decided and repeated ids: exit 1, each
        # named with its reason, nothing recorded
        bad = ["E3", "L1", "ghost", "E1", "E3", "N1"]
        args = ["decision", "add", "--year", YEAR, "--number", "46/QĐ-UBND",
                "--date", "2026-11-21", "--authority", AUTH] + bad
        p = self.ok(n.client(*args, role="clerk"), "ineligible ids", 1)
        api = n.request("POST", "/v1/decisions",
                        {"year": YEAR, "number": "46/QĐ-UBND",
                         "date": "2026-11-21", "authority": AUTH,
                         "person_ids": bad}, role="clerk")
        err = self.assertError(api, 400, "not_eligible")
        want = {(it["id"], it["reason"]) for it in err["items"]}
        self.assertEqual(want, {("L1", "not_eligible"),
                                ("ghost", "not_assessed"),
                                ("E1", "decided"), ("E3", "duplicate"),
                                ("N1", "not_eligible")})
        english = {"not_eligible": "not eligible",
                   "not_assessed": "not assessed",
                   "decided": "already listed by decision %s" % NUM,
                   "duplicate": "listed twice"}
        for pid, reason in want:
            line = [l for l in p.stderr.splitlines()
                    if re.search(r"(^|\s)%s: " % re.escape(pid), l)]
            self.assertTrue(line, "%s not named:\n%s" % (pid, p.stderr))
            self.assertIn(english[reason], line[0], p.stderr)
        self.assertIn(NUM, p.stderr)  # E1's decision is named
        self.assertEqual(len(self.decisions(n)), 1)
        self.assertFalse(n.get(YEAR, "E3").json["recognized"])
        # the same in Vietnamese
        p = self.ok(n.client(*args, role="clerk", env={"LANG": "vi_VN.UTF-8"}),
                    "ineligible ids, vi", 1)
        self.assertIn("chưa có phiếu đánh giá", p.stderr)
        self.assertIn("chưa đủ điều kiện", p.stderr)
        self.assertIn("lặp lại trong danh sách", p.stderr)

        # --ids-file: a header, blank lines, the errors with their lines
        path = os.path.join(n.dir, "ids.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\ufeffperson_id,name\r\nE3,Lò Văn 3\r\n\r\nL1,x\r\n"
                    "E4,y\r\n")
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             "47/QĐ-UBND", "--date", "2026-11-22",
                             "--authority", AUTH, "--ids-file", path,
                             role="clerk"), "--ids-file with L1", 1)
        self.assertRegex(p.stderr, r"ids\.csv:4: L1: not eligible")
        self.assertNotIn("E3:", p.stderr)
        self.assertEqual(len(self.decisions(n)), 1)
        # one id a line, no header, from stdin
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             "47/QĐ-UBND", "--date", "2026-11-22",
                             "--authority", AUTH, "--ids-file", "-",
                             role="clerk", input="E3\nE4\n  E5  \n"),
                    "--ids-file -")
        r = n.request("GET", "/v1/decisions/%d/%s" % (YEAR,
                      quote("47/QĐ-UBND")), role="inspector")
        self.assertEqual(sorted(r.json["ids"]), ["E3", "E4", "E5"])
        # the number is taken (409 exists); usage errors
        self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                         NUM, "--date", "2026-11-20", "--authority", AUTH,
                         "N1", role="clerk"), "number taken", 1)
        self.ok(n.client("decision", "add", "--year", YEAR, "--number", "x",
                         "--date", "2026-11-20", role="clerk"),
                "no --authority, no ids", 2)
        self.ok(n.client("decision", "add", "--year", YEAR, "--number", "x",
                         "--date", "2026-11-20", "--authority", AUTH,
                         "--ids-file", path, "E1", role="clerk"),
                "ids and --ids-file", 2)
        # a bad field: the node names it
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             "48/QĐ-UBND", "--date", "2026-13-40",
                             "--authority", AUTH, "N1", role="clerk"),
                    "bad date", 1)
        self.assertIn("date", p.stderr)

        # list: every decision of the API, with its count
        listed = self.decisions(n)
        p = self.ok(n.client("decision", "list", "--year", YEAR,
                             role="inspector"), "decision list")
        rows = decision_lines(p.stdout)
        self.assertEqual(len(rows), len(listed), p.stdout)
        for d, row in zip(listed, rows):
            self.assertTrue(row.startswith(d["number"]), row)
            self.assertIn(d["date"], row)
            self.assertTrue(row.endswith(" %d" % d["count"]), row)
        p = self.ok(n.client("decision", "list", "--year", YEAR, "--json",
                             role="inspector"), "decision list --json")
        self.assertEqual(json.loads(p.stdout)["decisions"], listed)
        p = self.ok(n.client("decision", "list", "--year", 2025,
                             role="inspector"), "an empty year")
        self.assertIn("no decisions", p.stdout)

        # show, with its ids
        p = self.ok(n.client("decision", "show", YEAR, "47/QĐ-UBND",
                             role="inspector"), "decision show")
        for pid in ("E3", "E4", "E5"):
            self.assertRegex(p.stdout, r"(?m)^\s*\d+\s+%s$" % pid)
        self.assertIn(AUTH, p.stdout)
        p = self.ok(n.client("decision", "show", "--json", YEAR, NUM,
                             role="inspector"), "decision show --json")
        self.assertEqual(json.loads(p.stdout), n.request(
            "GET", "/v1/decisions/%d/%s" % (YEAR, NUM_PATH),
            role="inspector").json)
        self.ok(n.client("decision", "show", YEAR, "99/QĐ", role="inspector"),
                "no such decision", 1)

        # revoke: admin only; then the people are no longer recognised
        self.ok(n.client("decision", "revoke", YEAR, NUM, role="clerk"),
                "revoke as clerk", 3)
        p = self.ok(n.client("decision", "revoke", YEAR, NUM), "revoke")
        self.assertIn(NUM, p.stdout)
        r = n.request("GET", "/v1/decisions/%d/%s" % (YEAR, NUM_PATH),
                      role="inspector")
        self.assertStatus(r, 404, "revoked")
        g = n.get(YEAR, "E1").json
        self.assertIs(g["recognized"], False)
        self.assertIsNone(g["decision"])
        self.ok(n.client("decision", "revoke", YEAR, NUM), "revoke twice", 1)
        # an inspector writes nothing
        self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                         "50/QĐ", "--date", "2026-11-20", "--authority",
                         AUTH, "E1", role="inspector"), "inspector add", 3)

    # -- title records ------------------------------------------------------
    def test_titles(self):
        n = self.node()
        p = self.ok(n.client("title", "add", "--year", YEAR, "--kind",
                             "family", "--id", "HGD-001", "--name",
                             "Hộ ông A", "--recognized", "--adults", 4,
                             role="clerk"), "title add family")
        self.assertIn("HGD-001", p.stdout)
        g = n.request("GET", "/v1/titles/%d/family/HGD-001" % YEAR,
                      role="inspector")
        self.assertStatus(g, 200, "GET title")
        self.assertEqual(g.json["name"], "Hộ ông A")
        self.assertEqual(g.json["adults"], 4)
        self.assertNotIn("staff", g.json)  # a family counts adults
        self.assertIs(g.json["eligible"], True)
        self.assertIs(g.json["recognized"], False)  # decision mode
        self.ok(n.client("title", "add", "--year", YEAR, "--kind", "unit",
                         "--id", "DV 1/2", "--not-recognized", "--staff", 12,
                         role="clerk"), "title add unit")
        g = n.request("GET", "/v1/titles/%d/unit/%s" % (YEAR, quote("DV 1/2")),
                      role="inspector").json
        self.assertEqual((g["staff"], g["eligible"]), (12, False))
        # usage errors
        for extra, what in ((["--recognized", "--adults", 1, "--staff", 1],
                             "adults and staff"),
                            ([], "neither --recognized nor --not-"),
                            (["--recognized", "--not-recognized"], "both")):
            self.ok(n.client("title", "add", "--year", YEAR, "--kind",
                             "family", "--id", "X", *extra, role="clerk"),
                    what, 2)
        # the node judges the kind
        p = self.ok(n.client("title", "add", "--year", YEAR, "--kind",
                             "house", "--id", "X", "--recognized",
                             role="clerk"), "bad kind", 1)
        self.assertIn("kind", p.stderr)
        # dry run stores nothing
        self.ok(n.client("title", "add", "--dry-run", "--year", YEAR,
                         "--kind", "clan", "--id", "DH-9", "--recognized",
                         role="clerk"), "dry run")
        self.assertStatus(n.request("GET", "/v1/titles/%d/clan/DH-9" % YEAR,
                                    role="inspector"), 404, "dry run")

        # import: good lines stored, each bad one reported with its line
        csv_text = ("year,kind,id,name,recognized,adults,staff\r\n"
                    "2026,family,HGD-002,Hộ bà B,1,3,\r\n"
                    "2026,clan,DH-1,Dòng họ Lò,1,40,\r\n"
                    "2026,house,X-1,?,1,3,\r\n"
                    "2026,community,BAN-1,Bản Hụm,0,120,\r\n"
                    "2031,family,HGD-003,,1,2,\r\n")
        path = os.path.join(n.dir, "titles.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(csv_text)
        api = n.request("POST", "/v1/titles?dry_run=1", csv_text,
                        role="clerk", content_type="text/csv")
        self.assertStatus(api, 200, "dry-run import over HTTP")
        self.assertEqual(api.json["rejected"], 2)
        # (cdht runs in n.dir: the messages name the file as given)
        p = self.ok(n.client("title", "import", "--dry-run", "titles.csv",
                             role="clerk"), "import --dry-run", 1)
        self.assertStatus(n.request("GET", "/v1/titles/%d/clan/DH-1" % YEAR,
                                    role="inspector"), 404, "dry run")
        p = self.ok(n.client("title", "import", "titles.csv", role="clerk"),
                    "import", 1)
        for e in api.json["errors"]:
            self.assertIn("titles.csv:%d: %s" % (e["line"], e["code"]),
                          p.stderr)
        self.assertEqual(len([l for l in p.stderr.splitlines()
                              if l.startswith("titles.csv:")]), 2, p.stderr)
        self.assertIn("accepted 3, rejected 2", p.stdout)
        for kind, tid in (("family", "HGD-002"), ("clan", "DH-1"),
                          ("community", "BAN-1")):
            self.assertStatus(n.request("GET", "/v1/titles/%d/%s/%s"
                                        % (YEAR, kind, tid),
                                        role="inspector"), 200, tid)
        good = csv_text.splitlines()[0] + "\n" + csv_text.splitlines()[1]
        self.ok(n.client("title", "import", "-", role="clerk", input=good),
                "import from stdin")

        # show and rm
        p = self.ok(n.client("title", "show", YEAR, "clan", "DH-1",
                             role="inspector"), "title show")
        self.assertIn("Dòng họ Lò", p.stdout)
        self.assertRegex(p.stdout, r"adults\s+40")
        p = self.ok(n.client("title", "show", "--json", YEAR, "clan", "DH-1",
                             role="inspector"), "title show --json")
        self.assertEqual(json.loads(p.stdout), n.request(
            "GET", "/v1/titles/%d/clan/DH-1" % YEAR, role="inspector").json)
        self.ok(n.client("title", "rm", YEAR, "unit", "DV 1/2",
                         role="inspector"), "rm as inspector", 3)
        self.ok(n.client("title", "rm", YEAR, "unit", "DV 1/2", role="clerk"),
                "title rm")
        self.assertStatus(n.request("GET", "/v1/titles/%d/unit/%s"
                                    % (YEAR, quote("DV 1/2")),
                                    role="inspector"), 404, "removed")
        self.ok(n.client("title", "rm", YEAR, "unit", "DV 1/2", role="clerk"),
                "rm twice", 1)

        # a decision for family titles recognises them
        self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                         "12/QĐ-UBND", "--date", "2026-11-25", "--authority",
                         AUTH, "--title", "family", "HGD-001", "HGD-002",
                         role="clerk"), "decision for families")
        g = n.request("GET", "/v1/titles/%d/family/HGD-001" % YEAR,
                      role="inspector").json
        self.assertIs(g["recognized"], True)
        self.assertEqual(g["decision"], "12/QĐ-UBND")
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             "13/QĐ-UBND", "--date", "2026-11-25",
                             "--authority", AUTH, "--title", "community",
                             "BAN-1", "BAN-9", role="clerk"),
                    "community not eligible, unknown", 1)
        self.assertRegex(p.stderr, r"BAN-1: its record does not meet")
        self.assertRegex(p.stderr, r"BAN-9: no title record")

    # -- lists ----------------------------------------------------------------
    def test_lists(self):
        n = self.node()
        probe = n.request("GET", "/v1/lists/%d" % YEAR, role="inspector")
        if probe.status == 404:
            self.skipTest("GET /v1/lists is not served by this cdhtd")
        self.people(n)
        submit(n, assessment(YEAR, "W1", REC, group="worker",
                             population="staff"))
        self.ok(n.client("decision", "add", "--year", YEAR, "--number", NUM,
                         "--date", "2026-11-20", "--authority", AUTH, "E2",
                         "W1", role="clerk"), "decision")
        self.ok(n.client("title", "add", "--year", YEAR, "--kind", "family",
                         "--id", "HGD-1", "--name", "Hộ ông A",
                         "--recognized", "--adults", 5, role="clerk"),
                "title")
        queries = [("", []), ("status=eligible", ["--status", "eligible"]),
                   ("status=recognized", ["--status", "recognized"]),
                   ("status=eligible&group=worker",
                    ["--status", "eligible", "--group", "worker"]),
                   ("kind=family", ["--kind", "family"])]
        for q, args in queries:
            for fmt in ("csv", "json", "html"):
                for lang in ("en", "vi"):
                    api = n.request("GET", "/v1/lists/%d?format=%s&lang=%s%s"
                                    % (YEAR, fmt, lang, "&" + q if q else ""),
                                    role="inspector")
                    self.assertStatus(api, 200, "%s %s" % (q, fmt))
                    p = subprocess.run(
                        [n.cdht_bin(), "--server", n.url, "--token",
                         n.tokens["inspector"], "--lang", lang, "list",
                         "--year", str(YEAR), "--format", fmt] + args,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        timeout=60)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(p.stdout, api.body,
                                     "list %s --format %s --lang %s"
                                     % (args, fmt, lang))
            # the table: the API's rows, in order, numbered
            doc = n.request("GET", "/v1/lists/%d?format=json%s"
                            % (YEAR, "&" + q if q else ""),
                            role="inspector").json
            p = self.ok(n.client("list", "--year", YEAR, *args,
                                 role="inspector"), "list %s" % args)
            self.assertIn("Count: %d" % len(doc["items"]), p.stdout)
            rows = decision_lines(p.stdout)
            self.assertEqual(len(rows), len(doc["items"]), p.stdout)
            for it, row in zip(doc["items"], rows):
                cells = row.split()
                self.assertEqual(cells[0], str(it["no"]), row)
                self.assertEqual(cells[1], it.get("person_id", it.get("id")))
                if it.get("decision"):
                    self.assertTrue(row.endswith(it["decision"]), row)
                num = it["total"] if "total" in it else it["members"]
                self.assertIn(" %s " % num, row)
        # recognised: only the decided (E2, W1), eligible: E1..E5 and W1
        doc = n.request("GET", "/v1/lists/%d?status=recognized" % YEAR,
                        role="inspector").json
        self.assertEqual([it["person_id"] for it in doc["items"]],
                         ["E2", "W1"])
        # -o FILE: the same bytes
        out = os.path.join(n.dir, "ds.csv")
        self.ok(n.client("list", "--year", YEAR, "--status", "eligible",
                         "--format", "csv", "-o", out, role="inspector"),
                "list -o")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), n.request(
                "GET", "/v1/lists/%d?status=eligible&format=csv&lang=en"
                % YEAR, role="inspector").body)
        # that CSV feeds decision add --ids-file (its id column is found)
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             "46/QĐ-UBND", "--date", "2026-11-21",
                             "--authority", AUTH, "--ids-file", out,
                             role="clerk"), "ids from the list", 1)
        self.assertRegex(p.stderr, r"ds\.csv:\d+: E2: already listed")
        self.assertNotRegex(p.stderr, r"E1: ")
        # the year defaults to the node's current one
        cur = n.progress().json["year"]
        p = self.ok(n.client("list", "--format", "json", role="inspector"),
                    "list without --year")
        self.assertEqual(json.loads(p.stdout)["year"], cur)
        # errors: the node's for a bad filter, usage for a bad format
        p = self.ok(n.client("list", "--year", YEAR, "--status", "famous",
                             role="inspector"), "bad status", 1)
        self.assertIn("status", p.stderr)
        self.ok(n.client("list", "--year", YEAR, "--kind", "family",
                         "--status", "outstanding", role="inspector"),
                "outstanding with kind", 1)
        self.ok(n.client("list", "--format", "xml", role="inspector"),
                "bad format", 2)
        self.ok(n.client("list", "--year", YEAR, role="viewer"),
                "viewer", 3)

    # -- filing ---------------------------------------------------------------
    def test_filing(self):
        n = self.node(decision=False)
        self.people(n)
        p = self.ok(n.client("filing", "status", YEAR, role="viewer"),
                    "status")
        self.assertIn("%d: not filed" % YEAR, p.stdout)
        api = n.request("GET", "/v1/filings/%d" % YEAR, role="viewer").json
        self.assertIn(api["deadline"], p.stdout)
        p = self.ok(n.client("filing", "status", "--json", YEAR,
                             role="viewer"), "status --json")
        self.assertEqual(json.loads(p.stdout), api)
        self.ok(n.client("filing", "submit", YEAR, role="clerk"),
                "submit as clerk", 3)
        p = self.ok(n.client("filing", "submit", YEAR), "submit")
        st = n.request("GET", "/v1/filings/%d" % YEAR, role="viewer").json
        self.assertIs(st["filed"], True)
        self.assertIn(st["filed_at"], p.stdout)
        # the year is closed: every write of it fails with year_filed
        p = self.ok(n.client("submit", "--year", YEAR, "--person", "E9",
                             "--group", "farmer", "--population", "adult",
                             "--scores", "8,8,8,8,8,8,8,8,8,8", "--digital",
                             "skilled", role="clerk"), "submit filed", 1)
        self.assertIn("year_filed", p.stderr)
        self.assertEqual(n.get(YEAR, "E9").status, 404)
        p = self.ok(n.client("withdraw", YEAR, "E1", role="clerk"),
                    "withdraw filed", 1)
        self.assertIn("year_filed", p.stderr)
        p = self.ok(n.client("title", "add", "--year", YEAR, "--kind",
                             "family", "--id", "H", "--recognized",
                             role="clerk"), "title filed", 1)
        self.assertIn("year_filed", p.stderr)
        p = self.ok(n.client("decision", "add", "--year", YEAR, "--number",
                             NUM, "--date", "2026-11-20", "--authority",
                             AUTH, "E1", role="clerk"), "decision filed", 1)
        self.assertIn("year_filed", p.stderr)
        # another year is open
        self.ok(n.client("submit", "--year", 2025, "--person", "E9",
                         "--group", "farmer", "--population", "adult",
                         "--scores", "8,8,8,8,8,8,8,8,8,8", "--digital",
                         "skilled", role="clerk"), "submit 2025")
        self.ok(n.client("filing", "submit", YEAR), "submit twice", 1)
        p = self.ok(n.client("filing", "status", YEAR, role="viewer"),
                    "status filed")
        self.assertIn("%d: filed at %s, by " % (YEAR, st["filed_at"]),
                      p.stdout)
        # reopen: admin only, then writes pass again
        self.ok(n.client("filing", "reopen", YEAR, role="clerk"),
                "reopen as clerk", 3)
        p = self.ok(n.client("filing", "reopen", YEAR), "reopen")
        self.assertIn("times reopened: 1", p.stdout)
        st = n.request("GET", "/v1/filings/%d" % YEAR, role="viewer").json
        self.assertEqual((st["filed"], st["reopened"]), (False, 1))
        self.ok(n.client("filing", "reopen", YEAR), "reopen twice", 1)
        self.ok(n.client("withdraw", YEAR, "E1", role="clerk"),
                "withdraw reopened")
        # usage
        self.ok(n.client("filing", "submit"), "no year", 2)
        self.ok(n.client("filing", "submit", "20x6"), "bad year", 2)
        self.ok(n.client("filing", "status", 2026, 2027), "two years", 2)
        # status without a year: the node's current one
        cur = n.progress().json["year"]
        p = self.ok(n.client("filing", "status", "--json", role="viewer"),
                    "status, current year")
        self.assertEqual(json.loads(p.stdout)["year"], cur)

    # -- tokens -----------------------------------------------------------------
    def test_inspector_token(self):
        n = self.make_node(start=False)
        nowhere = "http://127.0.0.1:1"  # token needs no node
        p = self.ok(n.client("token", "new", "--role", "inspector",
                             "--label", "thanh-tra", server=nowhere),
                    "token new inspector")
        tok, line = p.stdout.splitlines()
        self.assertEqual(line, "inspector %s thanh-tra" % token_hash(tok))
        with open(n.tokens_path, "a") as f:
            f.write(line + "\n")
        self.ok(n.client("token", "new", "--role", "auditor", server=nowhere),
                "bad role", 2)
        n.start()
        submit(n, assessment(YEAR, "E1", REC))
        self.ok(n.client("decision", "list", "--year", YEAR, token=tok),
                "inspector reads")
        self.ok(n.client("show", YEAR, "E1", token=tok), "inspector show")
        self.ok(n.client("submit", "--json", "-", token=tok,
                         input=json.dumps(assessment(YEAR, "E2", REC))),
                "inspector writes", 3)
        self.assertEqual(n.get(YEAR, "E2").status, 404)


class FilingForce(HierTestCase):
    """A unit with a child that has not filed: submit names it and
    suggests --force, which files all the same."""

    def test_not_all_filed(self):
        p = self.make_hier("district", "123", "Huyện Mai Sơn")
        pub, _ = python_keypair()
        p.extra_children.append(("04108", pub, "Xã Chiềng Sung"))
        p.start()
        r = p.request("POST", "/v1/filings/%d" % YEAR)
        err = self.assertError(r, 409, "not_all_filed")
        ids = [it["id"] for it in err["items"]]
        self.assertIn("04108", ids)
        c = p.client("filing", "submit", YEAR)
        self.assertEqual(c.returncode, 1, c.stderr)
        self.assertIn("04108", c.stderr)
        self.assertIn("--force", c.stderr)
        self.assertIs(p.request("GET", "/v1/filings/%d" % YEAR,
                                role="viewer").json["filed"], False)
        c = p.client("filing", "submit", YEAR, "--force")
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertIn("04108", c.stdout)
        st = p.request("GET", "/v1/filings/%d" % YEAR, role="viewer").json
        self.assertIs(st["filed"], True)
        self.assertEqual(st["forced_missing"], len(ids))


if __name__ == "__main__":
    main()
