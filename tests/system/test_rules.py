"""Scoring, recognition, outstanding, replacement, withdrawal, denominators
and indicators on one commune node, against the independent model."""

import datetime

from cdhttest import model
from cdhttest.case import (LOW, NOT_REC, REC, NodeTestCase, assessment, main,
                           record_diff)
from cdhttest.model import Model


class RulesTest(NodeTestCase):

    def submit(self, node, m, a, role="clerk"):
        r = node.post(a, role=role)
        self.assertStatus(r, 200, "POST %s/%s" % (a["year"], a["person_id"]))
        m.submit(a)
        doc = r.json
        exp = m.expected_record(a["year"], a["person_id"])
        for k in ("year", "person_id", "total", "recognized", "outstanding"):
            self.assertIn(k, doc, "POST response lacks %r: %r" % (k, r))
            if isinstance(exp[k], bool):
                self.assertIs(doc[k], exp[k], "%s in %r" % (k, r))
            else:
                self.assertEqual(doc[k], exp[k], "%s in %r" % (k, r))
        return doc

    def check_records(self, node, m, keys):
        for (y, pid) in keys:
            self.assertRecord(node.get(y, pid), m, y, pid)

    def test_healthz(self):
        n = self.make_node()
        r = n.health()
        self.assertStatus(r, 200)
        doc = r.json
        self.assertEqual(doc.get("status"), "ok", r)
        for k, v in n.info.items():
            self.assertEqual((doc.get("node") or {}).get(k), v, r)

    def test_progress_shape(self):
        n = self.make_node()
        r = n.progress(2026)
        self.assertStatus(r, 200)
        doc = r.json
        for k in ("node", "year", "as_of", "indicators", "counts"):
            self.assertIn(k, doc, r)
        self.assertRegex(doc["as_of"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual(sorted(doc["indicators"]), sorted(model.INDICATORS))
        # an empty node: zeros everywhere, percent null, nothing met
        self.assertEqual(model.diff_progress(doc, Model().progress(2026),
                                             n.info), [])

    def test_scoring_boundaries(self):
        n = self.make_node()
        m = Model()
        cases = {
            "nine-10s-one-4": NOT_REC,                 # 94, a 4: no
            "all-8": REC,                              # 80: yes
            "79": [8] * 9 + [7],                       # 79: no
            "80-with-7": [8] * 8 + [7, 9],             # 80, min 7: yes
            "fives": [5, 5] + [10] * 8,                # 90, min 5: yes
            "all-10": [10] * 10,                       # 100: yes
            "all-1": [1] * 10,                         # 10: no
            "86": [9] * 9 + [5],                       # 86: yes
            "all-7": LOW,                              # 70: no
            "one-4-at-80": [4] + [9] * 8 + [4 + 4],    # 84 with a 4: no
        }
        for pid, sc in cases.items():
            self.submit(n, m, assessment(2026, pid, sc))
        # The model itself, by hand: the example in the rules.
        self.assertEqual(model.score(NOT_REC), (94, False))
        self.assertEqual(model.score(REC), (80, True))
        self.assertEqual(model.score([8] * 9 + [7]), (79, False))
        self.check_records(n, m, [(2026, p) for p in cases])
        self.assertProgress(n, m, [2026])
        doc = n.progress(2026).json
        self.assertEqual(doc["counts"]["recognized"], 5)  # by hand
        self.assertEqual(doc["counts"]["assessed"], len(cases))

    def test_replace_adjusts_counts(self):
        n = self.make_node()
        m = Model()
        self.assertStatus(n.put_population(2026, {"adults": 10, "staff": 4}),
                          200)
        m.set_population(2026, {"adults": 10, "staff": 4})
        steps = [
            assessment(2026, "P1", REC, group="farmer", digital="proficient"),
            assessment(2026, "P1", NOT_REC, group="farmer"),
            assessment(2026, "P1", REC, group="worker", digital="none"),
            assessment(2026, "P1", REC, group="worker", population="staff",
                       digital="skilled"),
            assessment(2026, "P1", [10] * 10, group="manager",
                       population="staff", digital="proficient"),
        ]
        for a in steps:
            self.submit(n, m, a)
            self.assertProgress(n, m, [2026])
            self.check_records(n, m, [(2026, "P1")])
        doc = n.progress(2026).json
        self.assertEqual(doc["counts"]["assessed"], 1)
        self.assertEqual(doc["indicators"]["staff"]["numerator"], 1)
        self.assertEqual(doc["indicators"]["adults"]["numerator"], 0)

    def test_withdraw(self):
        n = self.make_node()
        m = Model()
        for i in range(4):
            self.submit(n, m, assessment(2025, "W%d" % i,
                                         REC if i % 2 == 0 else LOW,
                                         group=model.GROUPS[i]))
        r = n.delete(2025, "W0")
        self.assertStatus(r, 200, "DELETE")
        doc = r.json
        self.assertIs(doc.get("deleted"), True, r)
        self.assertEqual(doc.get("year"), 2025, r)
        self.assertEqual(doc.get("person_id"), "W0", r)
        m.withdraw(2025, "W0")
        self.assertError(n.get(2025, "W0"), 404, "not_found", what="GET withdrawn")
        self.assertError(n.delete(2025, "W0"), 404, "not_found",
                         what="DELETE twice")
        self.assertError(n.delete(2025, "never"), 404, "not_found")
        self.assertError(n.delete(2024, "W1"), 404, "not_found",
                         what="other year")
        self.assertProgress(n, m, [2025])
        self.check_records(n, m, [(2025, "W%d" % i) for i in range(4)])
        # resubmitting after a withdrawal counts once
        self.submit(n, m, assessment(2025, "W0", REC))
        self.assertProgress(n, m, [2025])

    def test_outstanding_five_years(self):
        n = self.make_node()
        m = Model()
        # A: recognised 2021..2026, submitted in order
        for y in range(2021, 2027):
            doc = self.submit(n, m, assessment(y, "A", REC))
            self.assertIs(doc["outstanding"], y >= 2025, "A %d" % y)
        # B: submitted newest first; 2026 becomes outstanding at the end
        for y in range(2026, 2021, -1):
            self.submit(n, m, assessment(y, "B", REC))
        self.assertIs(n.get(2026, "B").json.get("outstanding"), True)
        # C: a 94 with a 4 in 2023 breaks the run
        for y in range(2021, 2027):
            self.submit(n, m, assessment(y, "C", NOT_REC if y == 2023 else REC))
        # D: 2024 missing altogether
        for y in (2021, 2022, 2023, 2025, 2026):
            self.submit(n, m, assessment(y, "D", REC))
        # E: only four years
        for y in range(2023, 2027):
            self.submit(n, m, assessment(y, "E", REC))
        # F: five years in one array, in order: the last one is outstanding
        body = [assessment(y, "F", REC) for y in range(2021, 2026)]
        r = n.post(body)
        self.assertStatus(r, 200)
        for a in body:
            m.submit(a)
        res = {x["year"]: x for x in r.json["results"]}
        self.assertIs(res[2025].get("outstanding"), True, r)
        self.assertIs(res[2024].get("outstanding"), False, r)
        years = list(range(2021, 2028))
        keys = [(y, p) for y in years for p in "ABCDEF"]
        self.check_records(n, m, keys)
        self.assertProgress(n, m, years)
        # by hand: 2025 {A, F}, 2026 {A, B}
        self.assertEqual(n.progress(2025).json["counts"]["outstanding"], 2)
        self.assertEqual(n.progress(2026).json["counts"]["outstanding"], 2)

        # withdraw A's 2023: A is no longer outstanding in 2025 nor 2026
        self.assertStatus(n.delete(2023, "A"), 200)
        m.withdraw(2023, "A")
        for y in (2025, 2026):
            self.assertIs(n.get(y, "A").json.get("outstanding"), False,
                          "A %d after withdrawing 2023" % y)
        self.assertProgress(n, m, years)
        self.assertEqual(n.progress(2026).json["counts"]["outstanding"], 1)
        # put it back: outstanding again
        self.submit(n, m, assessment(2023, "A", REC))
        self.assertIs(n.get(2026, "A").json.get("outstanding"), True)
        # replace B's 2022 with a non-recognised one: B 2026 drops
        self.submit(n, m, assessment(2022, "B", LOW))
        self.assertIs(n.get(2026, "B").json.get("outstanding"), False)
        # replace A's 2021 with a non-recognised one: 2025 drops, 2026 stays
        self.submit(n, m, assessment(2021, "A", LOW))
        self.assertIs(n.get(2025, "A").json.get("outstanding"), False)
        self.assertIs(n.get(2026, "A").json.get("outstanding"), True)
        # fill D's gap: D becomes outstanding in 2025 and 2026
        self.submit(n, m, assessment(2024, "D", REC))
        self.assertIs(n.get(2026, "D").json.get("outstanding"), True)
        self.check_records(n, m, keys)
        self.assertProgress(n, m, years)

    def test_indicators_by_hand(self):
        """A small case computed by hand, which also checks the model."""
        n = self.make_node()
        m = Model()
        subs = [
            # adults: 3 recognised (2 skilled/proficient), 1 not
            assessment(2026, "a1", REC, population="adult", digital="proficient"),
            assessment(2026, "a2", REC, population="adult", digital="skilled"),
            assessment(2026, "a3", REC, population="adult", digital="none"),
            assessment(2026, "a4", NOT_REC, population="adult",
                       digital="proficient"),
            # staff: 1 recognised proficient, 1 not
            assessment(2026, "s1", [9] * 10, group="official",
                       population="staff", digital="proficient"),
            assessment(2026, "s2", LOW, group="official", population="staff",
                       digital="skilled"),
        ]
        for a in subs:
            self.submit(n, m, a)
        pop = {"adults": 10, "staff": 3, "families_total": 7,
               "families_recognized": 5, "clans_total": 0,
               "clans_recognized": 0, "communities_total": 3,
               "communities_recognized": 2, "units_total": 1,
               "units_recognized": 1, "members_total": 9,
               "members_trained": 9}
        r = n.put_population(2026, pop)
        self.assertStatus(r, 200)
        m.set_population(2026, pop)
        self.assertProgress(n, m, [2026])
        ind = n.progress(2026).json["indicators"]
        hand = {
            # name: (num, den, percent, needed25, needed30, met25, met30)
            "adults": (3, 10, 30.0, 1, 3, False, False),
            "staff": (1, 3, 33.33, 1, 2, False, False),
            "digital": (3, 4, 75.0, 0, 1, True, False),
            "proficient": (2, 3, 66.67, 0, 1, True, False),
            "trained": (9, 9, 100.0, 0, 0, True, True),
            "families": (5, 7, 71.43, 0, 1, True, False),
            "clans": (0, 0, None, 0, 0, False, False),
            "communities": (2, 3, 66.67, 0, 1, True, False),
            "units": (1, 1, 100.0, 0, 0, True, True),
        }
        for name, (num, den, pct, n25, n30, m25, m30) in hand.items():
            g = ind[name]
            got = (g["numerator"], g["denominator"], g["percent"],
                   g["needed"]["2025"], g["needed"]["2030"],
                   g["met"]["2025"], g["met"]["2030"])
            self.assertEqual(got, (num, den, pct, n25, n30, m25, m30), name)

    def test_population(self):
        n = self.make_node()
        self.assertError(n.get_population(2026), 404, "not_found",
                         what="never set")
        r = n.put_population(2026, {"adults": 400, "families_total": 50,
                                    "families_recognized": 50})
        self.assertStatus(r, 200)
        want = {f: 0 for f in model.POP_FIELDS}
        want.update(adults=400, families_total=50, families_recognized=50)
        self.assertEqual({k: r.json.get(k) for k in model.POP_FIELDS}, want)
        g = n.get_population(2026)
        self.assertStatus(g, 200)
        self.assertEqual({k: g.json.get(k) for k in model.POP_FIELDS}, want)
        # rejections leave the stored object intact
        bad = [
            ({"adults": -1}, "invalid_field", "adults"),
            ({"staff": "12"}, "invalid_field", "staff"),
            ({"staff": 1.5}, "invalid_field", "staff"),
            ({"staff": True}, "invalid_field", "staff"),
            ({"staff": None}, "invalid_field", "staff"),
            ({"families_total": 3, "families_recognized": 4},
             "invalid_field", "families_recognized"),
            ({"clans_recognized": 1}, "invalid_field", "clans_recognized"),
            ({"communities_total": 2, "communities_recognized": 3},
             "invalid_field", "communities_recognized"),
            ({"units_total": 0, "units_recognized": 1},
             "invalid_field", "units_recognized"),
            ({"members_total": 5, "members_trained": 6},
             "invalid_field", "members_trained"),
            ({"households": 3}, "unknown_field", "households"),
        ]
        for body, code, field in bad:
            self.assertError(n.put_population(2026, body), 400, code, field,
                             what="PUT %r" % body)
        self.assertError(n.put_population(2026, [1, 2]), 400,
                         ("bad_request", "invalid_field"), what="array body")
        self.assertError(n.put_population(2026, b"{", content_type="application/json"),
                         400, "bad_json", what="bad JSON")
        g = n.get_population(2026)
        self.assertEqual({k: g.json.get(k) for k in model.POP_FIELDS}, want,
                         "rejected PUTs changed the stored population")
        r = n.put_population(2027, {})
        self.assertStatus(r, 200, "empty object")
        self.assertEqual({k: r.json.get(k) for k in model.POP_FIELDS},
                         {f: 0 for f in model.POP_FIELDS})
        # a PUT replaces the whole object: fields left out become 0
        r = n.put_population(2026, {"staff": 7})
        self.assertStatus(r, 200)
        want = {f: 0 for f in model.POP_FIELDS}
        want["staff"] = 7
        self.assertEqual({k: n.get_population(2026).json.get(k)
                          for k in model.POP_FIELDS}, want)
        for y in ("2020", "2031", "abc"):
            r = n.put_population(y, {"adults": 1})
            self.assertTrue(400 <= r.status < 500, "PUT year %s: %r" % (y, r))
        self.assertAlive(n)

    def test_district_level(self):
        n = self.make_node(level="district", id="116", name="Huyện Mộc Châu")
        m = Model()
        r = n.post(assessment(2026, "x", REC, population="adult"))
        self.assertError(r, 400, "invalid_field", "population",
                         what="adult at a district")
        self.submit(n, m, assessment(2026, "y", REC, group="official",
                                     population="staff"))
        self.assertRecord(n.get(2026, "x"), m, 2026, "x")
        self.assertProgress(n, m, [2026])

    def test_province_level(self):
        n = self.make_node(level="province", id="14", name="Tỉnh Sơn La")
        m = Model()
        self.assertError(n.post(assessment(2026, "x", population="adult")),
                         400, "invalid_field", "population")
        self.submit(n, m, assessment(2026, "y", population="staff"))
        self.assertProgress(n, m, [2026])

    def test_dry_run(self):
        n = self.make_node()
        m = Model()
        r = n.post(assessment(2026, "dry", REC), dry_run=True)
        self.assertStatus(r, 200, "dry run")
        self.assertEqual(r.json.get("total"), 80, r)
        self.assertIs(r.json.get("recognized"), True, r)
        self.assertError(n.get(2026, "dry"), 404, "not_found",
                         what="dry run stored")
        r = n.post([assessment(2026, "dry%d" % i, LOW) for i in range(3)]
                   + [assessment(2099, "bad")], dry_run=True)
        self.assertStatus(r, 200)
        self.assertEqual((r.json.get("accepted"), r.json.get("rejected")),
                         (3, 1), r)
        self.assertEqual([x.get("total") for x in r.json["results"]],
                         [70, 70, 70])
        self.assertEqual(r.json["errors"][0].get("index"), 3, r)
        for i in range(3):
            self.assertEqual(n.get(2026, "dry%d" % i).status, 404)
        # dry run of a replacement leaves the old record
        self.submit(n, m, assessment(2026, "kept", REC))
        self.assertStatus(n.post(assessment(2026, "kept", LOW), dry_run=True),
                          200)
        self.assertRecord(n.get(2026, "kept"), m, 2026, "kept")
        self.assertProgress(n, m, [2026])

    def test_array(self):
        n = self.make_node()
        m = Model()
        items = [
            assessment(2026, "g0", REC),
            assessment(2026, "b1", [8] * 9),                   # 9 scores
            assessment(2026, "g2", LOW, group="business"),
            {"year": 2026, "person_id": "b3"},                 # missing
            assessment(2031, "b4", REC),                       # year
            assessment(2026, "g5", [10] * 10, population="staff",
                       group="manager", digital="proficient"),
            assessment(2026, "b6", REC, colour="red"),         # unknown
            "not an object",
            assessment(2026, "b8", REC, digital="expert"),
            assessment(2026, "g0", NOT_REC),                   # replaces g0
        ]
        r = n.post(items)
        self.assertStatus(r, 200)
        doc = r.json
        good = [0, 2, 5, 9]
        self.assertEqual((doc.get("accepted"), doc.get("rejected")),
                         (len(good), len(items) - len(good)), r)
        self.assertEqual([x.get("index") for x in doc["results"]], good, r)
        for x in doc["results"]:
            a = items[x["index"]]
            m.submit(a)
            self.assertEqual(x.get("person_id"), a["person_id"])
            self.assertEqual(x.get("total"), sum(a["scores"]))
            self.assertIs(x.get("recognized"), model.score(a["scores"])[1])
        errs = {e.get("index"): e for e in doc["errors"]}
        self.assertEqual(sorted(errs), [1, 3, 4, 6, 7, 8], r)
        self.assertTrue(str(errs[1].get("field", "")).startswith("scores"), errs[1])
        self.assertEqual(errs[3].get("code"), "missing_field", errs[3])
        self.assertEqual(errs[4].get("field"), "year", errs[4])
        self.assertEqual((errs[6].get("code"), errs[6].get("field")),
                         ("unknown_field", "colour"), errs[6])
        self.assertEqual(errs[8].get("field"), "digital", errs[8])
        for e in doc["errors"]:
            self.assertIn("message", e)
        for p in ("g0", "b1", "g2", "b3", "b4", "g5", "b6", "b8"):
            self.assertRecord(n.get(2026, p), m, 2026, p)
        self.assertProgress(n, m, [2026])
        # an empty array stores nothing and is not an error
        r = n.post([])
        self.assertStatus(r, 200)
        self.assertEqual((r.json.get("accepted"), r.json.get("rejected")),
                         (0, 0))

    def test_person_ids_and_fields(self):
        n = self.make_node()
        m = Model()
        ids = ["HS/2026 số 1", "a%2Fb", "q?x=1&y#z", "Nguyễn Thị Ánh",
               "x" * 64, "ệ" * 21, "+plus+", "a.b-c_d~e"]
        for pid in ids:
            self.submit(n, m, assessment(2026, pid, REC, name="Tên " + pid[:10],
                                         birth_year=1980))
        for pid in ids:
            self.assertRecord(n.get(2026, pid), m, 2026, pid, "GET")
        for bad in ["", "x" * 65, "ệ" * 22, "a\nb", "tab\there", "nul\x01"]:
            self.assertError(n.post(assessment(2026, bad, REC)), 400,
                             "invalid_field", "person_id",
                             what="person_id %r" % bad)
        r = n.delete(2026, "HS/2026 số 1")
        self.assertStatus(r, 200)
        m.withdraw(2026, "HS/2026 số 1")
        self.assertRecord(n.get(2026, "HS/2026 số 1"), m, 2026, "HS/2026 số 1")
        # name and birth_year bounds
        self.submit(n, m, assessment(2026, "n200", name="n" * 200,
                                     birth_year=2026))
        self.submit(n, m, assessment(2026, "n-vi", name="Đặng Văn Ấu " * 10,
                                     birth_year=1900))
        self.assertError(n.post(assessment(2026, "n201", name="n" * 201)),
                         400, "invalid_field", "name")
        self.assertError(n.post(assessment(2026, "by", birth_year=2027)),
                         400, "invalid_field", "birth_year")
        self.assertError(n.post(assessment(2024, "by", birth_year=2025)),
                         400, "invalid_field", "birth_year")
        self.assertError(n.post(assessment(2026, "by", birth_year=1899)),
                         400, "invalid_field", "birth_year")
        self.assertRecord(n.get(2026, "n200"), m, 2026, "n200")
        self.assertRecord(n.get(2026, "n-vi"), m, 2026, "n-vi")
        self.assertProgress(n, m, [2026])
        self.assertAlive(n)

    def test_person_ids_are_opaque(self):
        """NFC and NFD spellings, case and surrounding blanks are different
        person ids: the node compares bytes."""
        n = self.make_node()
        m = Model()
        import unicodedata
        nfc = unicodedata.normalize("NFC", "Nguyễn")
        nfd = unicodedata.normalize("NFD", "Nguyễn")
        self.assertNotEqual(nfc.encode(), nfd.encode())
        ids = [nfc, nfd, "abc", "ABC", " abc", "abc "]
        for pid in ids:
            self.submit(n, m, assessment(2026, pid, REC))
        for pid in ids:
            self.assertRecord(n.get(2026, pid), m, 2026, pid)
        self.assertEqual(n.progress(2026).json["counts"]["assessed"], len(ids))

    def test_huge_denominators(self):
        """A denominator the node accepts must give exact integers (no
        floating point, no overflow); it may instead refuse it with 400."""
        n = self.make_node()
        m = Model()
        for i in range(3):
            self.submit(n, m, assessment(2026, "h%d" % i, REC,
                                         digital="proficient"))
        for big in (2 ** 53 + 1, 10 ** 17 + 3, 4 * 10 ** 18 + 1):
            pop = {"adults": big, "staff": big - 1, "families_total": big,
                   "families_recognized": big - 2, "members_total": big,
                   "members_trained": big // 3}
            r = n.put_population(2026, pop)
            if r.status == 400:
                self.assertError(r, 400, "invalid_field")
                continue
            self.assertStatus(r, 200, "population %d" % big)
            m.set_population(2026, pop)
            self.assertProgress(n, m, [2026])

    def test_big_array(self):
        """20000 items in one array (under the default 8 MB limit)."""
        n = self.make_node()
        m = Model()
        import random
        from cdhttest import gen
        items = [dict(a, person_id="%s-%d" % (a["person_id"], i))
                 for i, a in enumerate(gen.assessments(random.Random(7), 3400,
                                                       range(2021, 2027),
                                                       attend=1.0))][:20000]
        self.assertEqual(len(items), 20000)
        r = n.post(items, timeout=120)
        self.assertStatus(r, 200, "20000 items")
        self.assertEqual((r.json.get("accepted"), r.json.get("rejected")),
                         (20000, 0))
        self.assertEqual(len(r.json.get("results", [])), 20000)
        for a in items:
            m.submit(a)
        self.assertProgress(n, m, range(2021, 2027))

    def test_progress_year_param(self):
        n = self.make_node()
        m = Model()
        this_year = datetime.datetime.now(datetime.timezone.utc).year
        if 2021 <= this_year <= 2030:
            self.submit(n, m, assessment(this_year, "now", REC))
            r = n.progress(None)
            self.assertStatus(r, 200, "progress without year")
            self.assertEqual(model.diff_progress(r.json, m.progress(this_year),
                                                 n.info), [])
        # 2020, the baseline year, has imported results only (GET
        # /v1/progress reads it, empty here); before it nothing
        for y in ("abc", "2019", "2031", "2026x"):
            r = n.request("GET", "/v1/progress?year=" + y, role="viewer")
            self.assertError(r, 400, what="year=%r" % y)
        r = n.request("GET", "/v1/progress?year=2020", role="viewer")
        self.assertStatus(r, 200, "the baseline year")
        self.assertEqual(r.json["counts"]["assessed"], 0, r)
        self.assertAlive(n)

    def test_targets_override(self):
        targets = {"adults": (45, 65), "families": (75, 80),
                   "digital": (71, 91), "trained": (90, 100)}
        n = self.make_node(targets=targets)
        m = Model(targets)
        for i in range(7):
            self.submit(n, m, assessment(2026, "t%d" % i,
                                         REC if i < 5 else LOW,
                                         digital=model.DIGITAL[i % 3]))
        pop = {"adults": 11, "families_total": 13, "families_recognized": 10,
               "members_total": 10, "members_trained": 9}
        self.assertStatus(n.put_population(2026, pop), 200)
        m.set_population(2026, pop)
        self.assertProgress(n, m, [2026])
        ind = n.progress(2026).json["indicators"]
        self.assertEqual(ind["adults"]["targets"], {"2025": 45, "2030": 65})
        self.assertEqual(ind["families"]["targets"], {"2025": 75, "2030": 80})
        self.assertEqual(ind["staff"]["targets"], {"2025": 60, "2030": 80})
        # by hand: trained 9/10 with a 90% 2025 target is met
        self.assertIs(ind["trained"]["met"]["2025"], True)
        self.assertEqual(ind["trained"]["needed"]["2030"], 1)
        # families 10/13: ceil(75*13/100) = 10 -> met; ceil(80*13/100) = 11
        self.assertEqual(ind["families"]["needed"], {"2025": 0, "2030": 1})


if __name__ == "__main__":
    main()
