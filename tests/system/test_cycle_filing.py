"""The yearly filing (issue 9), real daemons over CURVE: a province, a
district and two communes, recognition by decision, deadline 01-01 in
+07:00 (so this year's has passed and next year's has not).  Every figure
is compared with the independent model (cdhttest/cycle.py):

  - filing freezes the year at that node: every write of it answers 409
    year_filed (assessments single, in arrays and CSV, withdrawals,
    population, titles, decisions and their revocation); another year stays
    writable; nothing changes;
  - the province shows it: coverage.filed (time), filed_by, not_filed,
    reopened, deadline, late (filed after the deadline, or not filed once
    it has passed), counts.filed;
  - a parent's filing is refused (409 not_all_filed naming the unfiled
    units below) unless forced, and a forced filing records how many had
    not (forced_missing);
  - reopening (DELETE) counts, and shows at the province;
  - kill -9 right after acknowledged writes and SIGTERM keep it all, and
    the province's numbers stay exact throughout.
"""

import datetime
import random
import time

from cdhttest import gen
from cdhttest.case import REC, assessment, main
from cdhttest.cycle import (CycleTestCase, CycleTree, decide, decision_obj,
                            delete_title, file_year, get_filing, parse_iso,
                            pid_order, post_title, progress_at,
                            put_titles, q, reopen, revoke, set_population,
                            submit_many)

Y, NEXT = 2026, 2027
YEARS = (Y, NEXT)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
]
UNITS = [nid for nid, *_ in SPEC]
TZ = datetime.timezone(datetime.timedelta(hours=7))
WHO = "admin-test"   # the admin token's label


def due(year):
    return datetime.date(year, 1, 1)


def passed(year):
    return datetime.datetime.now(TZ).date() > due(year)


def late_when_filed(year, filed_at_unix):
    """Filed after the deadline's day (in +07:00)."""
    return datetime.datetime.fromtimestamp(filed_at_unix, TZ).date() > due(year)


def missing_count(v):
    """forced_missing: a number of units, or the list of them."""
    return len(v) if isinstance(v, list) else v


class Filing(CycleTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ct = CycleTree()
        cls.nodes = cls.cycle_tree(
            SPEC, cls.ct, modes={nid: "decision" for nid in UNITS},
            deadline="01-01", timezone="+07:00", inspectors=("03646",))
        cls.start_all(cls.nodes)
        rng = random.Random(31)
        n, ct = cls.nodes, cls.ct
        for nid in UNITS:
            submit_many(n[nid], ct[nid], gen.assessments(
                rng, 30, YEARS, prefix=nid + "-", level=n[nid].level))
            for y in YEARS:
                set_population(n[nid], ct[nid], y, gen.population(rng))
        c, cm = n["03646"], ct["03646"]
        put_titles(c, cm, [{"year": y, "kind": "family", "id": "HGD-%d" % i,
                            "recognized": i != 2, "adults": 3}
                           for i in range(4) for y in YEARS])
        for y in YEARS:
            ids = cls.eligible(cm, y)[:5]
            decide(c, cm, decision_obj(y, "1/QĐ-UBND", ids))
            decide(c, cm, decision_obj(y, "2/QĐ-UBND", ["HGD-0"],
                                       title="family"))
        # who filed which year, when (Unix time), as the test knows it
        cls.filed = {}      # (unit, year) -> filed_at (Unix seconds)
        cls.reopened = {}   # (unit, year) -> n

    @staticmethod
    def eligible(cm, year):
        return pid_order(pid for (y, pid) in cm.people.records
                         if y == year and cm.eligible(y, pid)
                         and not cm.decision_of(y, "citizen", pid))

    def filed_counts(self, nid):
        sub = self.ct.subtree(nid)
        return {y: sum(1 for u in sub if (u, y) in self.filed) for y in YEARS}

    def everywhere(self, what="", timeout=15):
        for nid in ("03646", "03649", "116", "14"):
            self.assertCycle(self.nodes[nid], self.ct, YEARS, timeout=timeout,
                             what="%s %s" % (what, nid),
                             filed=self.filed_counts(nid))

    def do_file(self, nid, year, force=False, not_filed=()):
        t0 = time.time()
        r = file_year(self.nodes[nid], year, force=force)
        t1 = time.time()
        self.assertStatus(r, 201, "file %s %d" % (nid, year))
        doc = r.json
        self.assertEqual({k: doc.get(k) for k in ("year", "filed", "by",
                                                  "forced")},
                         {"year": year, "filed": True, "by": WHO,
                          "forced": force}, doc)
        self.assertEqual(sorted(doc.get("not_filed", ["<absent>"])),
                         sorted(not_filed), doc)
        at = parse_iso(doc["filed_at"]).timestamp()
        self.assertTrue(t0 - 2 <= at <= t1 + 2, doc)
        self.filed[(nid, year)] = at
        return doc

    def assertFiling(self, nid, year, forced_missing=0):
        r = get_filing(self.nodes[nid], year)
        self.assertStatus(r, 200)
        doc = r.json
        at = self.filed.get((nid, year))
        self.assertEqual(doc.get("year"), year, doc)
        self.assertIs(doc.get("filed"), at is not None, doc)
        self.assertEqual(doc.get("deadline"), due(year).isoformat(), doc)
        self.assertEqual(doc.get("reopened"),
                         self.reopened.get((nid, year), 0), doc)
        if at is None:
            self.assertIsNone(doc.get("filed_at", "<absent>"), doc)
            self.assertIsNone(doc.get("by", "<absent>"), doc)
            self.assertIs(doc.get("late"), passed(year), doc)
        else:
            self.assertAlmostEqual(parse_iso(doc["filed_at"]).timestamp(),
                                   at, delta=1.0, msg=repr(doc))
            self.assertEqual(doc.get("by"), WHO, doc)
            self.assertIs(doc.get("late"), late_when_filed(year, at), doc)
            self.assertEqual(missing_count(doc.get("forced_missing")),
                             forced_missing, doc)
        return doc

    def expected_coverage(self, nid, year):
        sub = self.ct.subtree(nid)
        filed = {u: self.filed[(u, year)] for u in sub if (u, year) in
                 self.filed}
        late = sorted(u for u in sub
                      if (u in filed and late_when_filed(year, filed[u]))
                      or (u not in filed and passed(year)))
        return {"filed": filed,
                "not_filed": sorted(u for u in sub if u not in filed),
                "reopened": {u: self.reopened[(u, year)] for u in sub
                             if self.reopened.get((u, year), 0) > 0},
                "late": late}

    def coverage_problems(self, nid, year):
        doc = progress_at(self.nodes[nid], year, depth=2)
        cov = doc.get("coverage") or {}
        exp = self.expected_coverage(nid, year)
        bad = []
        gf = cov.get("filed")
        if not isinstance(gf, dict) or sorted(gf) != sorted(exp["filed"]):
            bad.append("filed: got %r, want units %r" % (gf, sorted(
                exp["filed"])))
        else:
            for u, at in exp["filed"].items():
                try:
                    t = parse_iso(gf[u]).timestamp()
                except (AssertionError, ValueError) as e:
                    bad.append("filed.%s: %s" % (u, e))
                    continue
                if abs(t - at) > 1.0:
                    bad.append("filed.%s: got %r, want about %s" % (
                        u, gf[u], datetime.datetime.fromtimestamp(
                            at, datetime.timezone.utc).isoformat()))
        want_by = {u: WHO for u in exp["filed"]}
        by_bad = []
        if cov.get("filed_by") != want_by:
            by_bad.append("filed_by: got %r, want %r"
                          % (cov.get("filed_by"), want_by))
        gnf = cov.get("not_filed")
        if not isinstance(gnf, list) or sorted(gnf) != exp["not_filed"]:
            bad.append("not_filed: got %r, want %r" % (gnf, exp["not_filed"]))
        if cov.get("reopened") != exp["reopened"]:
            bad.append("reopened: got %r, want %r" % (cov.get("reopened"),
                                                      exp["reopened"]))
        if cov.get("deadline") != due(year).isoformat():
            bad.append("deadline: got %r" % cov.get("deadline"))
        gl = cov.get("late")
        if not isinstance(gl, list) or sorted(gl) != exp["late"]:
            bad.append("late: got %r, want %r" % (gl, exp["late"]))
        dl = (doc.get("deadline") or {}).get("late")
        if not isinstance(dl, list) or sorted(dl) != exp["late"]:
            bad.append("deadline.late: got %r, want %r" % (dl, exp["late"]))
        want_filed = self.filed_counts(nid)[year]
        if (doc.get("counts") or {}).get("filed") != want_filed:
            bad.append("counts.filed: got %r, want %d"
                       % ((doc.get("counts") or {}).get("filed"), want_filed))
        return bad, by_bad

    def assertCoverage(self, nid="14", years=YEARS, timeout=15, what=""):
        """Poll (bounded) until the coverage of nid's subtree is the
        expected one.  filed_by is judged apart (a subTest) so that a wrong
        label does not hide what follows."""
        deadline = time.monotonic() + timeout
        grace = None
        while True:
            bad, by_bad = [], []
            for y in years:
                try:
                    b, bb = self.coverage_problems(nid, y)
                except (OSError, AssertionError) as e:
                    b, bb = [str(e)], []
                bad += ["%d: %s" % (y, x) for x in b]
                by_bad += ["%d: %s" % (y, x) for x in bb]
            if not bad and not by_bad:
                return
            now = time.monotonic()
            if not bad:
                grace = grace or now + 2.0
            if bad and now >= deadline:
                self.fail("%s coverage at %s (%d problems):\n  %s"
                          % (what, nid, len(bad), "\n  ".join(bad[:30])))
            if not bad and (now >= grace or now >= deadline):
                with self.subTest("coverage.filed_by", unit=nid, what=what):
                    self.fail("%s coverage at %s:\n  %s"
                              % (what, nid, "\n  ".join(by_bad)))
                return
            time.sleep(0.1)

    def frozen_writes(self, node, cm, year):
        """(what, method, path, body, role) of writes of year at node that
        would each change something if the year were open."""
        pid = next(p for (y, p) in sorted(cm.people.records)
                   if y == year and not cm.decision_of(y, "citizen", p))
        rec = cm.people.records[(year, pid)]
        writes = [
            ("new assessment", "POST", "/v1/assessments",
             assessment(year, node.id + "-new", REC, population="adult"
                        if node.level == "commune" else "staff"), "clerk"),
            ("re-score", "POST", "/v1/assessments",
             dict(rec, scores=[10] * 10), "clerk"),
            ("withdraw", "DELETE", "/v1/assessments/%d/%s"
             % (year, q(pid)), None, "clerk"),
            ("population", "PUT", "/v1/population/%d" % year,
             {"adults": 12345}, "clerk"),
        ]
        fam = [k for k in sorted(cm.titles) if k[0] == year]
        if fam:
            _, kind, tid = fam[-1]
            writes += [
                ("title", "POST", "/v1/titles",
                 {"year": year, "kind": "family", "id": "HGD-new",
                  "recognized": True}, "clerk"),
                ("title replace", "POST", "/v1/titles",
                 {"year": year, "kind": kind, "id": tid,
                  "recognized": False}, "clerk"),
                ("title delete", "DELETE", "/v1/titles/%d/%s/%s"
                 % (year, kind, q(tid)), None, "clerk"),
            ]
        ids = self.eligible(cm, year)[:2]
        if ids:
            writes.append(("decision", "POST", "/v1/decisions",
                           decision_obj(year, "99/QĐ-UBND", ids), "clerk"))
        decided = sorted(n for (y, n) in cm.decisions if y == year)
        if decided:
            writes.append(("revoke", "DELETE", "/v1/decisions/%d/%s"
                           % (year, q(decided[0])), None, "admin"))
        return writes

    def assertFrozen(self, nid, year, what=""):
        node, cm = self.nodes[nid], self.ct[nid]
        for w, method, path, body, role in self.frozen_writes(node, cm, year):
            r = node.request(method, path, body, role=role)
            self.assertError(r, 409, "year_filed", what="%s %s: %s"
                             % (what, nid, w))

    def test_1_file_a_commune(self):
        c = self.nodes["03646"]
        self.assertError(file_year(c, Y, role="clerk"), 403, "forbidden")
        self.assertFiling("03646", Y)
        doc = self.do_file("03646", Y)
        self.assertEqual(doc["not_filed"], [])
        self.assertFiling("03646", Y)
        self.assertFiling("03646", NEXT)
        self.assertError(file_year(c, Y), 409, "year_filed")
        self.assertFiling("03646", Y)
        self.everywhere("03646 filed:")

    def test_2_filed_year_frozen(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        self.assertFrozen("03646", Y, "filed:")
        # a batch: the item of the filed year is refused, the other stored
        a_next = assessment(NEXT, "03646-batch", REC, group="business")
        r = c.post([assessment(Y, "03646-batch", REC), a_next])
        self.assertStatus(r, 200)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (1, 1),
                         r.json)
        self.assertEqual([(e["index"], e["code"]) for e in r.json["errors"]],
                         [(0, "year_filed")], r.json)
        cm.submit(a_next)
        b_next = assessment(NEXT, "03646-csv", REC)
        r = c.post_csv(gen.to_csv([assessment(Y, "03646-csv", REC), b_next]))
        self.assertStatus(r, 200)
        self.assertEqual([(e["line"], e["code"]) for e in r.json["errors"]],
                         [(2, "year_filed")], r.json)
        cm.submit(b_next)
        t_next = {"year": NEXT, "kind": "family", "id": "HGD-9",
                  "recognized": True, "adults": 2}
        r = post_title(c, [{"year": Y, "kind": "family", "id": "HGD-9",
                            "recognized": True, "adults": 2}, t_next])
        self.assertStatus(r, 200)
        self.assertEqual([(e["index"], e["code"]) for e in r.json["errors"]],
                         [(0, "year_filed")], r.json)
        cm.put_title(t_next)
        # a dry run of the filed year says so too
        r = c.post(assessment(Y, "03646-dry", REC), dry_run=True)
        self.assertError(r, 409, "year_filed", what="dry run")
        # the other year stays writable
        set_population(c, cm, NEXT, {"adults": 777, "staff": 55})
        decide(c, cm, decision_obj(NEXT, "3/QĐ-UBND",
                                   self.eligible(cm, NEXT)[:2]))
        self.assertStatus(revoke(c, NEXT, "3/QĐ-UBND"), 200)
        cm.revoke(NEXT, "3/QĐ-UBND")
        self.assertStatus(delete_title(c, NEXT, "family", "HGD-9"), 200)
        cm.delete_title(NEXT, "family", "HGD-9")
        # the filed year reads as before
        for (y, pid) in sorted(cm.people.records):
            if y == Y:
                self.assertRecordIs(c, cm, y, pid, "filed year")
        for (y, kind, id) in sorted(cm.titles):
            self.assertTitleIs(c, cm, y, kind, id, "filed year")
        self.assertFiling("03646", Y)
        self.everywhere("after the refused writes:")

    def test_3_province_coverage(self):
        self.assertCoverage("14", what="03646 filed:")
        self.assertCoverage("116", what="03646 filed:")
        # model sanity: this year's deadline has passed, next year's not
        self.assertTrue(passed(Y))
        self.assertFalse(passed(NEXT))

    def test_4_parents_need_every_unit_filed(self):
        n, ct = self.nodes, self.ct
        d, dm = n["116"], ct["116"]
        r = file_year(d, Y)
        err = self.assertError(r, 409, "not_all_filed")
        self.assertEqual(sorted(i.get("id") for i in err.get("items", [])),
                         ["03649"], r)
        self.assertIn("03649", err["message"])
        self.assertFiling("116", Y)
        # the district's own data stays writable
        set_population(d, dm, Y, {"adults": 10, "staff": 900})
        # 03649 files next year before its deadline: not late
        self.do_file("03649", NEXT)
        self.assertFalse(self.assertFiling("03649", NEXT)["late"])
        # forced: who had not is recorded
        self.do_file("116", Y, force=True, not_filed=["03649"])
        self.assertFiling("116", Y, forced_missing=1)
        self.assertFrozen("116", Y, "forced:")
        # the unfiled commune below still writes that year
        c2, cm2 = n["03649"], ct["03649"]
        extra = [assessment(Y, "03649-late-%d" % i, REC, group="manager",
                            population="staff") for i in range(3)]
        submit_many(c2, cm2, extra)
        decide(c2, cm2, decision_obj(Y, "5/QĐ-UBND",
                                     [a["person_id"] for a in extra]))
        # the province (once 116's filing reached it): only 03649 is
        # missing below it
        self.assertCoverage("14", what="116 forced:")
        r = file_year(n["14"], Y)
        err = self.assertError(r, 409, "not_all_filed")
        self.assertEqual(sorted(i.get("id") for i in err.get("items", [])),
                         ["03649"], r)
        self.assertFiling("14", Y)
        r = file_year(n["14"], NEXT)
        err = self.assertError(r, 409, "not_all_filed")
        self.assertEqual(sorted(i.get("id") for i in err.get("items", [])),
                         ["03646", "116"], r)
        self.assertCoverage("14", what="116 forced:")
        self.everywhere("116 forced:")

    def test_5_reopen(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        self.assertError(reopen(c, Y, role="clerk"), 403, "forbidden")
        r = reopen(c, Y)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"year": Y, "filed": False, "reopened": 1})
        del self.filed[("03646", Y)]
        self.reopened[("03646", Y)] = 1
        self.assertError(reopen(c, Y), 409, "not_filed")
        self.assertError(reopen(c, NEXT), 409, "not_filed")
        self.assertFiling("03646", Y)
        # writable again
        a = assessment(Y, "03646-after-reopen", REC)
        self.assertStatus(c.post(a), 200)
        cm.submit(a)
        self.assertCoverage("14", what="03646 reopened:")
        self.everywhere("03646 reopened:")
        # filed again; the reopening stays counted
        self.do_file("03646", Y)
        self.assertFiling("03646", Y)
        self.do_file("03649", Y)
        self.assertCoverage("14", what="every unit below filed:")
        self.do_file("14", Y, not_filed=[])
        self.assertFiling("14", Y)
        self.assertFrozen("14", Y, "province filed:")
        self.assertFrozen("03649", Y, "03649 filed:")
        self.assertCoverage("14", what="all filed:")
        self.everywhere("all filed:")

    def test_6_restart_keeps_it_all(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        # acknowledged writes, then kill -9 at once
        t = {"year": NEXT, "kind": "clan", "id": "DH-Lò", "recognized": True,
             "adults": 30}
        put_titles(c, cm, t)
        self.do_file("03646", NEXT)
        c.kill9()
        c.start()
        self.assertFiling("03646", NEXT)
        self.assertFiling("03646", Y)
        self.assertTitleIs(c, cm, NEXT, "clan", "DH-Lò", "after kill -9")
        self.assertFrozen("03646", NEXT, "after kill -9:")
        # SIGTERM the others
        for nid in ("14", "116", "03649"):
            n[nid].restart()
        for nid in UNITS:
            for y in YEARS:
                self.assertFiling(nid, y, forced_missing=1
                                  if (nid, y) == ("116", Y) else 0)
        self.assertFrozen("14", Y, "after SIGTERM:")
        self.assertFrozen("116", Y, "after SIGTERM:")
        for (y, pid) in sorted(cm.people.records):
            self.assertRecordIs(c, cm, y, pid, "after the restarts")
        for (y, kind, id) in sorted(cm.titles):
            self.assertTitleIs(c, cm, y, kind, id, "after the restarts")
        # kill -9 of the province right after its own acknowledged write
        p, pm = n["14"], ct["14"]
        set_population(p, pm, NEXT, {"adults": 5, "staff": 6000})
        p.kill9()
        p.start()
        self.assertCoverage("14", what="after the restarts:", timeout=20)
        self.everywhere("after the restarts:", timeout=20)


if __name__ == "__main__":
    main()
