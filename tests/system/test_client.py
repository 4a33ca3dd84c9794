"""The cdht command line against a real node: every command's effect and
output reflect the node's numbers (checked against the model), and the exit
codes follow the contract: 0 ok, 1 rejected, 2 usage, 3 auth, 4 unreachable."""

import csv
import io
import json
import os
import random
import re

from cdhttest import gen, model
from cdhttest.case import (LOW, NOT_REC, REC, NodeTestCase, assessment, main,
                           record_diff)
from cdhttest.model import Model
from cdhttest.node import free_port

# Denominators with numbers unlikely to collide in a table.
POP = {"adults": 137, "staff": 23, "families_total": 311,
       "families_recognized": 257, "clans_total": 0, "clans_recognized": 0,
       "communities_total": 96, "communities_recognized": 58,
       "units_total": 44, "units_recognized": 41, "members_total": 75,
       "members_trained": 62}
# English stems that name each indicator in an English table.
STEMS = {"adults": "adult", "staff": "staff", "digital": "digital",
         "proficient": "proficien", "trained": "train", "families": "famil",
         "clans": "clan", "communities": "communit", "units": "unit"}
NUM_RE = re.compile(r"\d+(?:\.\d+)?")


def flags(a):
    args = ["submit", "--year", a["year"], "--person", a["person_id"],
            "--group", a["group"], "--population", a["population"],
            "--scores", ",".join(map(str, a["scores"])),
            "--digital", a["digital"]]
    if "name" in a:
        args += ["--name", a["name"]]
    if "birth_year" in a:
        args += ["--birth-year", a["birth_year"]]
    return args


def dataset():
    subs = []
    for i in range(7):
        subs.append(assessment(2026, "ad-rec-%d" % i, [9] * 10,
                               group=model.GROUPS[i % 5],
                               digital=["skilled", "proficient", "none"][i % 3]))
    subs.append(assessment(2026, "ad-no-1", NOT_REC, digital="proficient"))
    subs.append(assessment(2026, "ad-no-2", LOW))
    for i in range(3):
        subs.append(assessment(2026, "st-rec-%d" % i, REC, group="official",
                               population="staff",
                               digital=["skilled", "none", "skilled"][i]))
    subs.append(assessment(2026, "st-no-1", LOW, group="worker",
                           population="staff", name="Cầm Văn Ơn",
                           birth_year=1985))
    return subs


class ClientTest(NodeTestCase):

    def ok(self, p, what, code=0):
        codes = (code,) if isinstance(code, int) else code
        self.assertIn(p.returncode, codes, "%s: exit %d, want %s\nstdout: %s\n"
                      "stderr: %s" % (what, p.returncode, codes,
                                      p.stdout[-3000:], p.stderr[-3000:]))
        return p

    def loaded(self, with_client=True):
        """A node holding dataset() and POP for 2026, sent with cdht."""
        n = self.make_node()
        m = Model()
        for a in dataset():
            if with_client:
                self.ok(n.client(*flags(a), role="clerk"), "submit %s"
                        % a["person_id"])
            else:
                self.assertStatus(n.post(a), 200)
            m.submit(a)
        args = ["population", "set", 2026] + ["%s=%d" % kv for kv in POP.items()]
        self.ok(n.client(*args, role="clerk"), "population set")
        m.set_population(2026, POP)
        return n, m

    def test_submit_show_withdraw(self):
        n, m = self.loaded()
        self.assertProgress(n, m, [2026])
        for a in dataset():
            self.assertRecord(n.get(2026, a["person_id"]), m, 2026, a["person_id"])
        p = self.ok(n.client("show", 2026, "st-no-1", role="clerk"), "show")
        self.assertIn("st-no-1", p.stdout)
        self.assertIn("70", p.stdout)
        self.assertIn("Cầm Văn Ơn", p.stdout)
        p = self.ok(n.client("show", "--json", 2026, "ad-rec-0", role="clerk"),
                    "show --json")
        self.assertEqual(record_diff(json.loads(p.stdout),
                                     m.expected_record(2026, "ad-rec-0")), [])
        self.ok(n.client("show", 2026, "nobody", role="clerk"), "show missing", 1)
        self.ok(n.client("withdraw", 2026, "ad-no-2", role="clerk"), "withdraw")
        m.withdraw(2026, "ad-no-2")
        self.assertEqual(n.get(2026, "ad-no-2").status, 404)
        self.ok(n.client("withdraw", 2026, "ad-no-2", role="clerk"),
                "withdraw twice", 1)
        self.assertProgress(n, m, [2026])
        # the submit output gives the score
        a = assessment(2026, "out", [10] * 9 + [4])
        p = self.ok(n.client(*flags(a), role="clerk"), "submit")
        self.assertIn("94", p.stdout)
        m.submit(a)
        # a replacement through the client
        a = assessment(2026, "out", [10] * 10, group="manager",
                       population="staff", digital="proficient")
        self.ok(n.client(*flags(a), role="clerk"), "replace")
        m.submit(a)
        self.assertRecord(n.get(2026, "out"), m, 2026, "out")
        self.assertProgress(n, m, [2026])

    def test_submit_json(self):
        n = self.make_node()
        m = Model()
        items = gen.assessments(random.Random(3), 15, [2025, 2026])
        path = os.path.join(n.dir, "batch.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(items, f, ensure_ascii=False)
        self.ok(n.client("submit", "--json", path, role="clerk"), "--json FILE")
        for a in items:
            m.submit(a)
        one = assessment(2026, "stdin", REC, name="Lò Thị Ánh")
        self.ok(n.client("submit", "--json", "-", role="clerk",
                         input=json.dumps(one, ensure_ascii=False)),
                "--json -")
        m.submit(one)
        # an array with one bad item: the rest is stored, exit 1
        mixed = [assessment(2024, "mix-ok", REC),
                 assessment(2024, "mix-bad", [8] * 9)]
        self.ok(n.client("submit", "--json", "-", role="clerk",
                         input=json.dumps(mixed)), "array with a bad item", 1)
        m.submit(mixed[0])
        for a in items + [one] + mixed:
            self.assertRecord(n.get(a["year"], a["person_id"]), m,
                              a["year"], a["person_id"])
        self.assertProgress(n, m, [2024, 2025, 2026])
        # dry runs store nothing
        dry = assessment(2026, "dry", REC)
        self.ok(n.client(*(["submit", "--dry-run"] + flags(dry)[1:]),
                         role="clerk"), "submit --dry-run")
        self.ok(n.client("submit", "--dry-run", "--json", "-", role="clerk",
                         input=json.dumps([dict(dry, person_id="dry2")])),
                "submit --dry-run --json")
        self.assertEqual(n.get(2026, "dry").status, 404)
        self.assertEqual(n.get(2026, "dry2").status, 404)
        self.assertProgress(n, m, [2026])

    def test_population(self):
        n = self.make_node()
        args = ["population", "set", 2025] + ["%s=%d" % kv for kv in POP.items()]
        self.ok(n.client(*args, role="clerk"), "population set")
        g = n.get_population(2025)
        self.assertStatus(g, 200)
        self.assertEqual({k: g.json.get(k) for k in POP}, POP)
        p = self.ok(n.client("population", "show", "--json", 2025,
                             role="clerk"), "population show --json")
        doc = json.loads(p.stdout)
        self.assertEqual({k: doc.get(k) for k in POP}, POP)
        p = self.ok(n.client("population", "show", 2025, role="clerk"),
                    "population show")
        for k, v in POP.items():
            self.assertIn(str(v), p.stdout, k)
        # fields left out are 0
        self.ok(n.client("population", "set", 2024, "staff=9", role="clerk"),
                "set one field")
        g = n.get_population(2024).json
        self.assertEqual(g.get("staff"), 9)
        self.assertEqual(g.get("adults"), 0)
        # rejected by the node: exit 1 and nothing changes
        self.ok(n.client("population", "set", 2025, "families_total=3",
                         "families_recognized=4", role="clerk"),
                "recognised above total", 1)
        self.assertEqual(n.get_population(2025).json.get("families_total"), 311)
        self.ok(n.client("population", "show", 2023, role="clerk"),
                "never set", 1)
        p = n.client("population", "set", 2025, "households=4", role="clerk")
        self.ok(p, "unknown field", (1, 2))
        p = n.client("population", "set", 2025, "adults=abc", role="clerk")
        self.ok(p, "not a number", (1, 2))
        self.assertEqual(n.get_population(2025).json.get("adults"), 137)

    def test_progress_json_csv_tables(self):
        n, m = self.loaded(with_client=False)
        exp = m.progress(2026)
        # --json: the whole document, to the person
        p = self.ok(n.client("progress", "--year", 2026, "--json"),
                    "progress --json")
        self.assertEqual(model.diff_progress(json.loads(p.stdout), exp,
                                             n.info), [])
        p = self.ok(n.client("progress", "--year", 2025, "--json",
                             role="viewer"), "viewer progress --json")
        self.assertEqual(model.diff_progress(json.loads(p.stdout),
                                             m.progress(2025), n.info), [])
        # --csv: one row per indicator
        p = self.ok(n.client("progress", "--year", 2026, "--csv",
                             role="viewer"), "progress --csv")
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        for col in ("indicator", "numerator", "denominator", "percent"):
            self.assertIn(col, rows[0] if rows else {}, "CSV columns: %r"
                          % p.stdout[:300])
        by = {r["indicator"]: r for r in rows}
        for name, e in exp["indicators"].items():
            self.assertIn(name, by, "CSV lacks %s" % name)
            r = by[name]
            self.assertEqual((int(r["numerator"]), int(r["denominator"])),
                             (e["numerator"], e["denominator"]), name)
            if e["percent"] is None:
                self.assertIn(r["percent"].strip(), ("", "null", "-", "NA"))
            else:
                self.assertTrue(any(abs(float(r["percent"]) - c) < 1e-9
                                    for c in e["percent"]), (name, r))
            for yr in ("2025", "2030"):
                for k in ("needed", "met"):
                    col = "%s_%s" % (k, yr)
                    if col in r:
                        want = e[k][yr]
                        want = str(want).lower() if isinstance(want, bool) else str(want)
                        self.assertEqual(r[col].strip().lower(), want,
                                         "%s %s" % (name, col))
        # --lang en: a human table; each indicator's line carries its numbers
        p = self.ok(n.client("progress", "--year", 2026, "--lang", "en",
                             role="viewer"), "progress --lang en")
        self.check_table(p.stdout, exp, english=True)
        # default language is Vietnamese, with the same numbers
        p = self.ok(n.client("progress", "--year", 2026, role="viewer"),
                    "progress")
        self.assertTrue(any(ord(c) > 127 for c in p.stdout),
                        "default output has no Vietnamese: %r" % p.stdout[:300])
        self.check_table(p.stdout, exp, english=False)

    def check_table(self, text, exp, english):
        lines = text.splitlines()
        for name, e in exp["indicators"].items():
            want_ints = {str(e["numerator"]), str(e["denominator"])}
            found = False
            for line in lines:
                if english and STEMS[name] not in line.lower():
                    continue
                nums = NUM_RE.findall(line)
                if not want_ints <= set(nums):
                    continue
                if e["percent"] is not None and not any(
                        abs(float(x) - c) < 1e-9 for x in nums
                        for c in e["percent"]):
                    continue
                found = True
                break
            self.assertTrue(found, "no line shows %s %d/%d (%s):\n%s"
                            % (name, e["numerator"], e["denominator"],
                               e["percent"], text))
        c = exp["counts"]
        for k in ("assessed", "recognized"):
            self.assertIn(str(c[k]), NUM_RE.findall(text), k)

    def test_exit_codes(self):
        n = self.make_node()
        d = self.make_node(level="district", id="116", name="Huyện Mộc Châu")
        a = assessment(2026, "ec", REC)
        # 2: usage
        self.ok(n.client(), "no command", 2)
        self.ok(n.client("frobnicate"), "unknown command", 2)
        self.ok(n.client("submit", "--person", "x"), "submit without flags", 2)
        self.ok(n.client("show", 2026), "show without id", 2)
        self.ok(n.client("progress", "--json", "--csv"), "--json --csv", 2)
        self.ok(n.client("progress", "--lang", "fr"), "--lang fr", 2)
        # 1: the node refused (only the node knows a district refuses adults)
        self.ok(d.client(*flags(a), role="clerk"), "adult at a district", 1)
        self.ok(n.client(*flags(dict(a, scores=[8] * 9 + [11])), role="clerk"),
                "score 11", (1, 2))
        self.assertEqual(n.get(2026, "ec").status, 404)
        # 3: authentication and role
        self.ok(n.client(*flags(a), role=None), "no token", 3)
        self.ok(n.client(*flags(a), token="0" * 48), "unknown token", 3)
        self.ok(n.client(*flags(a), role="viewer"), "viewer submits", 3)
        self.ok(n.client("progress", "--json", token="0" * 48), "bad token", 3)
        self.assertEqual(n.get(2026, "ec").status, 404)
        self.ok(n.client("progress", "--json", role="viewer"), "viewer reads")
        # 0 with the environment instead of flags
        p = self.ok(n.client("progress", "--year", 2026, "--json",
                             role="viewer", use_env=True), "CDHT_* env")
        self.assertEqual(json.loads(p.stdout)["year"], 2026)
        self.ok(n.client(*flags(a), role="clerk", use_env=True), "env submit")
        self.assertStatus(n.get(2026, "ec"), 200)
        self.ok(n.client("health", role=None), "health")
        # 4: unreachable
        dead = "http://127.0.0.1:%d" % free_port()
        self.ok(n.client("progress", "--json", server=dead), "dead server", 4)
        self.ok(n.client(*flags(a), server=dead), "submit to dead server", 4)
        self.ok(n.client("health", role=None, server=dead), "health dead", 4)
        self.assertEqual(n.stop(), 0)
        self.ok(n.client("health", role=None), "health after stop", 4)

    def test_special_person_ids(self):
        """Ids with '/', blanks, '%', '?' and Vietnamese letters go through
        show and withdraw intact (the client percent-encodes them)."""
        n = self.make_node()
        m = Model()
        ids = ["HS/2026 số 1", "a%2Fb", "q?x=1#y", "Lò Văn Ơn"]
        for pid in ids:
            a = assessment(2026, pid, [9] * 10, name="Tên " + pid)
            self.ok(n.client(*flags(a), role="clerk"), "submit %r" % pid)
            m.submit(a)
        for pid in ids:
            self.assertRecord(n.get(2026, pid), m, 2026, pid)
            p = self.ok(n.client("show", "--json", 2026, pid, role="clerk"),
                        "show %r" % pid)
            self.assertEqual(json.loads(p.stdout).get("person_id"), pid)
        self.ok(n.client("show", 2026, "a/b", role="clerk"), "show a/b", 1)
        for pid in ids[:2]:
            self.ok(n.client("withdraw", 2026, pid, role="clerk"),
                    "withdraw %r" % pid)
            m.withdraw(2026, pid)
        for pid in ids:
            self.assertRecord(n.get(2026, pid), m, 2026, pid)
        self.assertProgress(n, m, [2026])

    def test_storage_full_is_exit_4(self):
        """A 507 from the node (its LMDB map is full) is 'failed': exit 4."""
        n = self.make_node(map_size_mb=2)
        i = 0
        for _ in range(400):
            items = [assessment(2026, "f%06d" % (i + k), REC, name="x" * 190)
                     for k in range(100)]
            i += 100
            r = n.post(items)
            if r.status == 507 or r.json.get("rejected"):
                break
            self.assertStatus(r, 200)
        else:
            self.fail("no 507 from a 2 MB map")
        for k in range(3000):  # until a single one is refused too
            r = n.post(assessment(2026, "one-%d" % k, REC, name="x" * 190))
            if r.status == 507:
                break
            self.assertStatus(r, 200)
        else:
            self.fail("single submissions never got 507")
        # LMDB may find room again for a while (pages freed by earlier
        # transactions): submit until the client is refused
        for k in range(300):
            a = assessment(2026, "last-%d" % k, REC, name="x" * 190)
            p = n.client(*flags(a), role="clerk")
            if p.returncode != 0:
                break
        self.ok(p, "submit into a full map", 4)
        self.assertIn("storage_full", p.stdout + p.stderr)

    def test_token_new(self):
        """`cdht token new` prints a token and its tokens-file line; a node
        given that line accepts the token with that role."""
        from cdhttest.node import token_hash
        n = self.make_node(start=False)
        made = {}
        for role in ("clerk", "viewer"):
            p = self.ok(n.client("token", "new", "--role", role, "--label",
                                 "test-" + role, role=None,
                                 server="http://127.0.0.1:9"), "token new")
            lines = [l.strip() for l in p.stdout.splitlines() if l.strip()]
            entry = [l for l in lines
                     if re.match(r"^%s\s+[0-9a-f]{64}(\s|$)" % role, l)]
            self.assertEqual(len(entry), 1, "no tokens-file line in %r"
                             % p.stdout)
            hexhash = entry[0].split()[1]
            toks = [l for l in lines if l != entry[0]
                    and token_hash(l) == hexhash]
            self.assertEqual(len(toks), 1, "no printed token hashes to %s: %r"
                             % (hexhash, p.stdout))
            made[role] = (toks[0], entry[0])
        self.ok(n.client("token", "new", "--role", "root", role=None,
                         server="http://127.0.0.1:9"), "bad role", 2)
        with open(n.tokens_path, "a") as f:
            for tok, line in made.values():
                f.write(line + "\n")
        n.start()
        a = assessment(2026, "tok", REC)
        self.assertStatus(n.post(a, role=None, token=made["clerk"][0]), 200)
        self.assertError(n.post(a, role=None, token=made["viewer"][0]), 403,
                         "forbidden")
        self.assertStatus(n.progress(2026, role=None,
                                     token=made["viewer"][0]), 200)

    def test_import(self):
        n = self.make_node()
        m = Model()
        rng = random.Random(21)
        items = gen.assessments(rng, 320, range(2021, 2027), star_share=0.2)
        self.assertGreater(len(items), 1500)
        rows = list(items)
        # bad lines (file line numbers, header = 1) around the client's
        # chunk boundaries and at both ends
        bad_lines = [2, 500, 1000, 1001, 1002, 1003, 1500, len(rows) + 9]
        for ln in bad_lines:
            bad = dict(items[0], person_id="bad-line-%d" % ln,
                       scores=[8] * 9 + [rng.choice([0, 11])])
            rows.insert(ln - 2, bad)
        self.assertEqual(len(rows) + 1, bad_lines[-1])
        for i, r in enumerate(rows):
            if r["person_id"].startswith("bad-line-"):
                self.assertEqual(r["person_id"], "bad-line-%d" % (i + 2))
        for crlf in (False, True):
            path = os.path.join(n.dir, "import-%s.csv" % ("crlf" if crlf else "lf"))
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(gen.to_csv(rows, gen.shuffled_columns(rng), crlf=crlf))
            p = self.ok(n.client("import", path, role="clerk"),
                        "import with bad lines", 1)
            out = p.stdout + p.stderr
            reported = sorted(int(x) for x in
                              re.findall(re.escape(path) + r":(\d+):", out))
            self.assertEqual(reported, bad_lines, "reported lines:\n%s"
                             % out[-3000:])
        for a in items:
            m.submit(a)
        self.assertProgress(n, m, range(2021, 2027))
        for ln in bad_lines:
            self.assertEqual(n.get(2026, "bad-line-%d" % ln).status, 404)
        # a clean file: exit 0; a dry run: exit 0 and nothing stored
        good = [assessment(2027, "imp-%d" % i, REC) for i in range(30)]
        path = os.path.join(n.dir, "good.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(gen.to_csv(good))
        self.ok(n.client("import", "--dry-run", path, role="clerk"), "dry run")
        self.assertEqual(n.get(2027, "imp-0").status, 404)
        self.ok(n.client("import", path, role="clerk"), "clean import")
        for a in good:
            m.submit(a)
        self.assertProgress(n, m, [2027])
        # importing as a viewer: 3
        self.ok(n.client("import", path, role="viewer"), "viewer import", 3)


if __name__ == "__main__":
    main()
