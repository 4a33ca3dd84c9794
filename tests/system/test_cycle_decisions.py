"""Recognition by decision (issue 9), real daemons linked over CURVE: a
province, a district and two communes.  Every figure is compared with the
independent model (cdhttest/cycle.py) computed from the same inputs:

  - score mode (the default): recognised = eligible, in counts and
    counts.by_group.<g>.eligible, at the commune and exactly at the province;
  - decision mode ([programme] recognition = decision): eligible people are
    recognised only once a recorded decision lists them;
  - a decision naming one ineligible, unassessed, duplicate or already
    decided id is refused whole (400 not_eligible, error.items), changing
    nothing; 409 exists; 400 invalid_field;
  - a decided person cannot be re-scored or withdrawn (409 decided naming the
    decision; item code decided in a batch); revocation (admin only) makes
    them re-scorable and unrecognised;
  - outstanding across decided years, and revoking an earlier year's
    decision;
  - the lists (danh sách) by status; the inspector reads and writes nothing;
  - kill -9 right after an acknowledged decision and SIGTERM keep it all.
"""

import datetime
import random

from cdhttest import gen, model
from cdhttest.case import LOW, NOT_REC, REC, assessment, main
from cdhttest.cycle import (CycleTestCase, CycleTree, decide, decision_obj,
                            delete_title, get_decision, get_filing,
                            get_list, get_title, list_decisions, pid_order,
                            post_decision, post_title, q, revoke,
                            set_population, submit_many)

YEARS = (2022, 2023, 2024, 2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
]
COMMUNES = ("03646", "03649")


def seed(cls, rng):
    """Random people (some recognised every year) at both communes and a
    district agency, and each year's denominators everywhere."""
    n, ct = cls.nodes, cls.ct
    for nid, persons in (("03646", 70), ("03649", 70), ("116", 25)):
        items = gen.assessments(rng, persons, YEARS, prefix=nid + "-",
                                level=n[nid].level, star_share=0.2)
        submit_many(n[nid], ct[nid], items)
    for nid, *_ in SPEC:
        for y in YEARS:
            set_population(n[nid], ct[nid], y, gen.population(rng))


def eligible_ids(cm, year, undecided=True):
    return pid_order(pid for (y, pid) in cm.people.records
                     if y == year and cm.eligible(y, pid)
                     and not (undecided and cm.decision_of(y, "citizen", pid)))


class ScoreMode(CycleTestCase):
    """Recognition by score; the district says so explicitly, the others
    leave the key out (the default)."""

    @classmethod
    def setUpClass(cls):
        cls.ct = CycleTree()
        cls.nodes = cls.cycle_tree(SPEC, cls.ct, modes={"116": "score"},
                                   inspectors=("03646",))
        cls.start_all(cls.nodes)
        seed(cls, random.Random(11))

    def test_1_recognised_is_eligible(self):
        n, ct = self.nodes, self.ct
        for y in YEARS:
            c = ct.progress("14", y)["counts"]
            self.assertGreater(c["eligible"], 20, "model sanity %d" % y)
            self.assertEqual(c["eligible"], c["recognized"])
            self.assertGreater(sum(g["eligible"] for g in
                                   c["by_group"].values()), 0)
        self.assertGreater(ct.progress("14", 2026)["counts"]["outstanding"], 0,
                           "model sanity: outstanding people in 2026")
        for nid in COMMUNES + ("116", "14"):
            self.assertCycle(n[nid], ct, YEARS, timeout=15, what=nid)
        cm = ct["03646"]
        for (y, pid) in sorted(cm.people.records)[:40]:
            self.assertRecordIs(n["03646"], cm, y, pid)

    def test_2_decision_in_score_mode(self):
        """A decision is recorded in score mode too: counts stay those of
        the score, the record names the decision and is locked."""
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        ids = eligible_ids(cm, 2026)[:5]
        d = decision_obj(2026, "7/QĐ-UBND", ids)
        decide(c, cm, d)
        for pid in ids:
            self.assertRecordIs(c, cm, 2026, pid)
        self.assertCycle(n["14"], ct, YEARS, timeout=10, what="province")
        r = c.post(assessment(2026, ids[0], LOW))
        err = self.assertError(r, 409, "decided")
        self.assertIn("7/QĐ-UBND", err["message"])
        self.assertStatus(revoke(c, 2026, "7/QĐ-UBND"), 200)
        cm.revoke(2026, "7/QĐ-UBND")
        self.assertRecordIs(c, cm, 2026, ids[0])
        self.assertCycle(n["14"], ct, YEARS, timeout=10, what="province")


class DecisionMode(CycleTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ct = CycleTree()
        cls.nodes = cls.cycle_tree(
            SPEC, cls.ct, modes={nid: "decision" for nid, *_ in SPEC},
            inspectors=("03646", "03649", "14"))
        cls.start_all(cls.nodes)
        seed(cls, random.Random(12))

    def everywhere(self, what="", timeout=15):
        for nid in COMMUNES + ("116", "14"):
            self.assertCycle(self.nodes[nid], self.ct, YEARS,
                             timeout=timeout, what="%s %s" % (what, nid))

    def test_1_eligible_not_yet_recognised(self):
        ct = self.ct
        for y in YEARS:
            c = ct.progress("14", y)["counts"]
            self.assertGreater(c["eligible"], 20, "model sanity %d" % y)
            self.assertEqual(c["recognized"], 0)
            self.assertEqual(c["outstanding"], 0)
        self.everywhere("before any decision:")
        for cid in COMMUNES:
            cm = self.ct[cid]
            for pid in eligible_ids(cm, 2026)[:10]:
                self.assertRecordIs(self.nodes[cid], cm, 2026, pid)

    def test_2_decisions_recognise(self):
        n, ct = self.nodes, self.ct
        for cid in COMMUNES:
            c, cm = n[cid], ct[cid]
            for k, y in enumerate(YEARS):
                ids = eligible_ids(cm, y)
                ids = ids[:max(1, len(ids) * 2 // 3)]
                number = "%d/QĐ-UBND" % (100 + k)
                # one decision per commune lists its people under "ids"
                d = decision_obj(y, number, ids,
                                 key="ids" if (y == 2024) else None)
                r = decide(c, cm, d)
                doc = r.json
                self.assertEqual(
                    {k2: doc.get(k2) for k2 in ("year", "number", "date",
                                                "authority", "title", "count",
                                                "by")},
                    {"year": y, "number": number, "date": d["date"],
                     "authority": d["authority"], "title": "citizen",
                     "count": len(ids), "by": "clerk-test"}, doc)
                self.assertIn("recorded_at", doc)
            # a second, smaller decision in 2026
            ids = eligible_ids(cm, 2026)[:3]
            self.assertTrue(ids, "model sanity: eligible left in 2026")
            decide(c, cm, decision_obj(2026, "9/QĐ-UBND", ids))
            self.assertGreater(eligible_ids(cm, 2026), [],
                               "model sanity: some eligible stay undecided")
        self.everywhere("after the decisions:")
        # the decisions read back
        for cid in COMMUNES:
            c, cm = n[cid], ct[cid]
            r = list_decisions(c, 2026)
            self.assertStatus(r, 200)
            got = r.json
            self.assertEqual(got.get("year"), 2026, got)
            want = pid_order(num for (y, num) in cm.decisions if y == 2026)
            self.assertEqual([x["number"] for x in got["decisions"]], want,
                             got)
            for x in got["decisions"]:
                self.assertEqual(x["count"],
                                 len(cm.decisions[(2026, x["number"])]["ids"]))
            # without ?year= the list is this year's (the node's zone,
            # Asia/Ho_Chi_Minh by default)
            this_year = (datetime.datetime.now(datetime.timezone.utc)
                         + datetime.timedelta(hours=7)).year
            r = list_decisions(c)
            self.assertStatus(r, 200)
            self.assertEqual(r.json.get("year"), this_year, r.json)
            for (y, num), d in cm.decisions.items():
                r = get_decision(c, y, num)
                self.assertStatus(r, 200, "GET decision %d %s" % (y, num))
                self.assertEqual(r.json.get("ids"), pid_order(d["ids"]),
                                 "%d %s" % (y, num))
                self.assertEqual(r.json.get("number"), num)
                self.assertEqual(r.json.get("count"), len(d["ids"]))
            for (y, pid) in sorted(cm.people.records):
                if y == 2026:
                    self.assertRecordIs(c, cm, y, pid)
        r = get_decision(n["03646"], 2026, "999/QĐ-UBND")
        self.assertError(r, 404, "not_found")

    def test_3_refused_decision_changes_nothing(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03649"], ct["03649"]
        y = 2026
        valid = eligible_ids(cm, y)[:2]
        self.assertEqual(len(valid), 2, "model sanity: two undecided")
        inel = next(pid for (yy, pid) in sorted(cm.people.records)
                    if yy == y and not cm.eligible(yy, pid))
        decided = next(pid for (yy, pid) in sorted(cm.people.records)
                       if yy == y and cm.decision_of(yy, "citizen", pid))
        cases = {
            "ineligible": valid[:1] + [inel] + valid[1:],
            "unassessed": valid + ["03649-nobody"],
            "duplicate": valid + valid[:1],
            "decided": [decided] + valid,
            "all": [inel, valid[0], "03649-nobody", decided, valid[0],
                    valid[1]],
        }
        before = list_decisions(c, y).json
        for what, ids in cases.items():
            d = decision_obj(y, "50/QĐ-UBND", ids)
            r = post_decision(c, d)
            err = self.assertError(r, 400, "not_eligible", what=what)
            want = cm.flaws(d)
            self.assertTrue(want, "model sanity: %s has a flaw" % what)
            got = err.get("items")
            self.assertIsInstance(got, list, "%s: %r" % (what, r))
            self.assertEqual(
                [{k: i.get(k) for k in ("index", "id", "reason", "decision")}
                 for i in got], want, what)
            for i in want:
                self.assertIn(i["id"], err["message"], what)
            # nothing changed
            self.assertError(get_decision(c, y, "50/QĐ-UBND"), 404,
                             "not_found", what=what)
            for pid in valid:
                self.assertRecordIs(c, cm, y, pid, what)
        self.assertEqual(list_decisions(c, y).json, before)
        # the same under "ids" with title citizen
        d = decision_obj(y, "51/QĐ-UBND", [inel] + valid, key="ids")
        err = self.assertError(post_decision(c, d), 400, "not_eligible")
        self.assertEqual([i.get("index") for i in err["items"]], [0])
        # a number already recorded that year: 409 exists
        taken = next(num for (yy, num) in sorted(cm.decisions) if yy == y)
        r = post_decision(c, decision_obj(y, taken, valid))
        self.assertError(r, 409, "exists")
        # bad fields name themselves
        for field, d in (
                ("date", dict(decision_obj(y, "52/QĐ-UBND", valid),
                              date="2026-13-01")),
                ("title", dict(decision_obj(y, "52/QĐ-UBND", valid),
                               title="village")),
                ("number", dict(decision_obj(y, "", valid))),
                ("year", dict(decision_obj(y, "52/QĐ-UBND", valid),
                              year=1999))):
            self.assertError(post_decision(c, d), 400, "invalid_field",
                             field, what=field)
        both = dict(decision_obj(y, "52/QĐ-UBND", valid), ids=valid)
        self.assertError(post_decision(c, both), 400, "invalid_field")
        for pid in valid:
            self.assertRecordIs(c, cm, y, pid, "after the bad requests")
        self.assertEqual(list_decisions(c, y).json, before)
        self.everywhere("after the refused decisions:", timeout=10)

    def test_4_decided_locked_until_revoked(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        y = 2026
        number = "104/QĐ-UBND"
        ids = list(cm.decisions[(y, number)]["ids"])
        self.assertGreater(len(ids), 2)
        p = ids[0]
        old = dict(cm.people.records[(y, p)])
        # re-scoring and withdrawing: 409 decided, naming the decision
        for body in (dict(old, scores=LOW), dict(old, scores=REC,
                                                  digital="none")):
            err = self.assertError(c.post(body), 409, "decided")
            self.assertIn(number, err["message"])
        err = self.assertError(c.delete(y, p), 409, "decided")
        self.assertIn(number, err["message"])
        # in a batch: that item's error code, the others stored
        fresh = assessment(y, "03646-fresh", REC, group="worker")
        r = c.post([dict(old, scores=LOW), fresh])
        self.assertStatus(r, 200)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (1, 1),
                         r.json)
        self.assertEqual([(e["index"], e["code"]) for e in r.json["errors"]],
                         [(0, "decided")])
        cm.submit(fresh)
        text = gen.to_csv([dict(old, scores=LOW)])
        r = c.post_csv(text)
        self.assertStatus(r, 200)
        self.assertEqual([(e["line"], e["code"]) for e in r.json["errors"]],
                         [(2, "decided")], r.json)
        self.assertRecordIs(c, cm, y, p, "after the refused writes")
        self.everywhere("decided, refused:", timeout=10)
        # only an admin revokes
        for role in ("clerk", "inspector", "viewer"):
            self.assertError(revoke(c, y, number, role=role), 403,
                             "forbidden", what=role)
        self.assertRecordIs(c, cm, y, p)
        r = revoke(c, y, number)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"revoked": True, "year": y,
                                  "number": number, "count": len(ids)})
        cm.revoke(y, number)
        for pid in ids:
            self.assertRecordIs(c, cm, y, pid, "after the revocation")
        self.assertError(revoke(c, y, number), 404, "not_found")
        self.assertError(get_decision(c, y, number), 404, "not_found")
        self.everywhere("after the revocation:")
        # re-scorable and withdrawable again
        body = dict(old, scores=NOT_REC)
        self.assertStatus(c.post(body), 200)
        cm.submit(body)
        self.assertStatus(c.delete(y, ids[1]), 200)
        cm.withdraw(y, ids[1])
        # and decidable again (ids[2] is eligible and undecided now)
        decide(c, cm, decision_obj(y, "105/QĐ-UBND", ids[2:]))
        self.everywhere("after re-scoring:")

    def test_5_outstanding_across_decided_years(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03649"], ct["03649"]
        star = "03649-ngôi-sao"
        items = [assessment(y, star, REC, group="official",
                            population="staff", digital="proficient")
                 for y in YEARS]
        submit_many(c, cm, items)
        for y in YEARS[:-1]:
            decide(c, cm, decision_obj(y, "S%d/QĐ-UBND" % y, [star]))
        self.assertFalse(cm.outstanding(2026, star))
        self.assertRecordIs(c, cm, 2026, star, "four decided years")
        self.assertRecordIs(c, cm, 2025, star, "four decided years")
        self.everywhere("four decided years:")
        decide(c, cm, decision_obj(2026, "S2026/QĐ-UBND", [star]))
        self.assertTrue(cm.outstanding(2026, star), "model sanity")
        self.assertRecordIs(c, cm, 2026, star, "five decided years")
        self.everywhere("five decided years:")
        # revoking an earlier year's decision: no longer outstanding
        self.assertStatus(revoke(c, 2023, "S2023/QĐ-UBND"), 200)
        cm.revoke(2023, "S2023/QĐ-UBND")
        self.assertFalse(cm.outstanding(2026, star), "model sanity")
        for y in YEARS:
            self.assertRecordIs(c, cm, y, star, "2023 revoked")
        self.everywhere("2023 revoked:")
        # decided again
        decide(c, cm, decision_obj(2023, "S2023b/QĐ-UBND", [star]))
        self.assertRecordIs(c, cm, 2026, star, "2023 decided again")
        self.everywhere("2023 decided again:")

    def test_6_lists(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        y = 2026
        recs = {pid: cm.expected_record(y, pid)
                for (yy, pid) in cm.people.records if yy == y}

        def status(e):
            return ("outstanding" if e["outstanding"] else "recognized"
                    if e["recognized"] else "eligible" if e["eligible"]
                    else "assessed")
        rank = ("assessed", "eligible", "recognized", "outstanding")
        for st in rank:
            for group in (None, "farmer"):
                query = {"status": st}
                if group:
                    query["group"] = group
                r = get_list(c, y, **query)
                self.assertStatus(r, 200, "list %r" % query)
                doc = r.json
                want = pid_order(
                    pid for pid, e in recs.items()
                    if rank.index(status(e)) >= rank.index(st)
                    and (group is None or e["group"] == group))
                if st != "outstanding":
                    self.assertTrue(want, "model sanity: list %r" % query)
                self.assertEqual(doc.get("count"), len(want), query)
                self.assertEqual(doc.get("status"), st)
                self.assertEqual(doc.get("kind"), "citizen")
                items = doc.get("items", [])
                self.assertEqual([i.get("person_id") for i in items], want,
                                 query)
                self.assertEqual([i.get("no") for i in items],
                                 list(range(1, len(want) + 1)))
                for i in items:
                    e = recs[i["person_id"]]
                    self.assertEqual(
                        {k: i.get(k) for k in ("total", "eligible",
                                               "recognized", "outstanding",
                                               "decision", "status",
                                               "group")},
                        {"total": e["total"], "eligible": e["eligible"],
                         "recognized": e["recognized"],
                         "outstanding": e["outstanding"],
                         "decision": e["decision"], "status": status(e),
                         "group": e["group"]}, i["person_id"])
        # outstanding at 03649 (the star of test_5)
        c2, cm2 = n["03649"], ct["03649"]
        want = pid_order(pid for (yy, pid) in cm2.people.records
                         if yy == y and cm2.outstanding(yy, pid))
        r = get_list(c2, y, status="outstanding")
        self.assertStatus(r, 200)
        self.assertEqual([i["person_id"] for i in r.json["items"]], want)
        self.assertError(get_list(c, y, status="outstanding", kind="family"),
                         400)
        self.assertError(get_list(c, y, status="famous"), 400,
                         "invalid_field", "status")

    def test_7_inspector_reads_and_writes_nothing(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        y = 2026
        pid = next(p for (yy, p) in sorted(cm.people.records) if yy == y)
        number = next(num for (yy, num) in sorted(cm.decisions) if yy == y)
        title = {"year": y, "kind": "family", "id": "HGD-insp",
                 "name": "Hộ bà B", "recognized": True, "adults": 3}
        self.assertStatus(post_title(c, title), 200)
        cm.put_title(title)
        reads = [
            ("GET", "/v1/assessments/%d/%s" % (y, q(pid))),
            ("GET", "/v1/population/%d" % y),
            ("GET", "/v1/decisions?year=%d" % y),
            ("GET", "/v1/decisions/%d/%s" % (y, q(number))),
            ("GET", "/v1/titles/%d/family/HGD-insp" % y),
            ("GET", "/v1/progress?year=%d" % y),
            ("GET", "/v1/filings/%d" % y),
        ]
        lists = [("GET", "/v1/lists/%d" % y),
                 ("GET", "/v1/lists/%d?status=eligible&format=csv" % y)]
        for method, path in reads:
            r = c.request(method, path, role="inspector")
            self.assertStatus(r, 200, "inspector %s %s" % (method, path))
        # the viewer reads none of the records
        for method, path in reads[:5]:
            r = c.request(method, path, role="viewer")
            self.assertError(r, 403, "forbidden",
                             what="viewer %s %s" % (method, path))
        other = eligible_ids(cm, y)[:1]
        writes = [
            ("POST", "/v1/assessments", assessment(y, "insp-new", REC)),
            ("POST", "/v1/assessments", [assessment(y, "insp-new", REC)]),
            ("POST", "/v1/assessments?dry_run=1",
             assessment(y, "insp-new", REC)),
            ("DELETE", "/v1/assessments/%d/%s" % (y, q(pid)), None),
            ("PUT", "/v1/population/%d" % y, {"adults": 1}),
            ("POST", "/v1/decisions", decision_obj(y, "77/QĐ-UBND", other)),
            ("DELETE", "/v1/decisions/%d/%s" % (y, q(number)), None),
            ("POST", "/v1/titles", dict(title, recognized=False)),
            ("DELETE", "/v1/titles/%d/family/HGD-insp" % y, None),
            ("POST", "/v1/filings/%d" % y, None),
            ("POST", "/v1/filings/%d?force=1" % y, None),
            ("DELETE", "/v1/filings/%d" % y, None),
            ("GET", "/v1/audit", None),
        ]
        for method, path, body in writes:
            r = c.request(method, path, body, role="inspector")
            self.assertError(r, 403, "forbidden",
                             what="inspector %s %s" % (method, path))
        # nothing changed
        self.assertRecordIs(c, cm, y, pid, "after the inspector")
        self.assertRecordIs(c, cm, y, "insp-new", "after the inspector")
        self.assertTitleIs(c, cm, y, "family", "HGD-insp")
        self.assertStatus(get_decision(c, y, number), 200)
        self.assertFalse(get_filing(c, y).json.get("filed"))
        pop = c.get_population(y, role="inspector").json
        self.assertEqual({f: pop.get(f) for f in model.POP_FIELDS},
                         cm.population(y))
        self.everywhere("after the inspector:", timeout=10)
        self.assertStatus(delete_title(c, y, "family", "HGD-insp"), 200)
        cm.delete_title(y, "family", "HGD-insp")
        self.assertError(get_title(c, y, "family", "HGD-insp"), 404)
        # the lists (danh sách): the inspector reads them, the viewer not
        for method, path in lists:
            self.assertStatus(c.request(method, path, role="inspector"), 200,
                              "inspector %s" % path)
            self.assertError(c.request(method, path, role="viewer"), 403,
                             "forbidden", what="viewer %s" % path)

    def test_8_restart_keeps_decisions(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        ids = eligible_ids(cm, 2025)[:4]
        self.assertTrue(ids, "model sanity")
        decide(c, cm, decision_obj(2025, "88/QĐ-UBND", ids))
        c.kill9()                       # right after the acknowledged write
        c.start()
        n["14"].restart()               # SIGTERM
        n["03649"].restart()
        for (y, num), d in cm.decisions.items():
            r = get_decision(c, y, num)
            self.assertStatus(r, 200, "%d %s after kill -9" % (y, num))
            self.assertEqual(r.json["ids"], pid_order(d["ids"]))
        for (y, pid) in sorted(cm.people.records):
            if y in (2025, 2026):
                self.assertRecordIs(c, cm, y, pid, "after kill -9")
        self.assertError(c.post(dict(cm.people.records[(2025, ids[0])],
                                     scores=LOW)), 409, "decided")
        self.everywhere("after the restarts:", timeout=20)

    def test_9_mode_change_recounts(self):
        """A commune switches to recognition by score and back: each start
        recounts every year (none is filed here) under the new rule, and
        the district and province follow."""
        c, cm = self.nodes["03646"], self.ct["03646"]
        conf = c.conf_text
        c.conf_text = lambda: conf().replace("recognition = decision",
                                             "recognition = score")
        cm.mode = "score"
        c.restart()
        self.assertIn("recognition is now by score", c.stderr_text())
        self.everywhere("by score at 03646:", timeout=20)
        c.conf_text = conf
        cm.mode = "decision"
        c.restart()
        self.assertIn("recognition is now by decision", c.stderr_text())
        self.everywhere("by decision again:", timeout=20)


if __name__ == "__main__":
    main()
