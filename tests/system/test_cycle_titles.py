"""Collective titles as records (issue 9), real daemons over CURVE (a
province, a district, communes).  Every figure is compared with the
independent model (cdhttest/cycle.py) from the same inputs:

  - title records of a kind drive that kind's indicator (families, clans,
    communities, units): *_total = records, *_recognized = recognised ones,
    at the node and exactly at the province; kinds without records keep the
    typed denominators;
  - PUT /v1/population with a *_total/*_recognized of a kind that has
    records: 409 title_records naming the key; without those keys: 200;
  - replacing, deleting, arrays with a bad item, dry runs;
  - decision mode: a title record is eligible, recognised once a decision
    of its title lists it; flaws refuse the decision; a decided record is
    locked (409 decided) until revoked; the lists by kind.
"""

import random

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.cycle import (KIND_FIELDS, CycleTestCase, CycleTree, decide,
                            decision_obj, delete_title, get_list, get_title,
                            pid_order, post_decision, post_title, put_titles,
                            revoke, set_population, submit_many)

Y = 2026
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
]


def title(kind, id, recognized, members=None, name=None, year=Y):
    t = {"year": year, "kind": kind, "id": id, "recognized": recognized}
    if name is not None:
        t["name"] = name
    if members is not None:
        t["staff" if kind == "unit" else "adults"] = members
    return t


def seed_people(cls, rng, years=(Y,)):
    for nid, *_ in SPEC:
        node, cm = cls.nodes[nid], cls.ct[nid]
        submit_many(node, cm, gen.assessments(rng, 15, years,
                                              prefix=nid + "-",
                                              level=node.level))
        for y in years:
            set_population(node, cm, y, gen.population(rng))


class ScoreTitles(CycleTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ct = CycleTree()
        cls.nodes = cls.cycle_tree(SPEC, cls.ct, inspectors=("03646",))
        cls.start_all(cls.nodes)
        seed_people(cls, random.Random(21), years=(2025, Y))

    def everywhere(self, what="", timeout=15):
        for nid in ("03646", "03649", "116", "14"):
            self.assertCycle(self.nodes[nid], self.ct, (2025, Y),
                             timeout=timeout, what="%s %s" % (what, nid))

    def assertPopulation(self, nid, year, what=""):
        r = self.nodes[nid].get_population(year)
        self.assertStatus(r, 200, what)
        self.assertEqual({f: r.json.get(f) for f in model.POP_FIELDS},
                         self.ct[nid].population(year), "%s %s %d"
                         % (what, nid, year))

    def test_1_records_drive_the_indicators(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        fams = [title("family", "HGD-%03d" % i, i % 7 < 5, 2 + i % 4,
                      "Hộ ông Lò Văn %d" % i) for i in range(1, 8)]
        r = put_titles(c, cm, fams)
        self.assertEqual(len(r.json["results"]), 7)
        # a single object answers with the record itself
        r = put_titles(c, cm, title("clan", "DH-Lò", True, 40,
                                    "Dòng họ Lò"))
        doc = r.json
        self.assertEqual({k: doc.get(k) for k in (
            "year", "kind", "id", "name", "eligible", "recognized", "adults",
            "decision")}, {"year": Y, "kind": "clan", "id": "DH-Lò",
                           "name": "Dòng họ Lò", "eligible": True,
                           "recognized": True, "adults": 40,
                           "decision": None}, doc)
        self.assertIn("updated_at", doc)
        put_titles(c, cm, [title("clan", "DH-Cầm", False, 25),
                           title("clan", "DH-Quàng", True)])
        put_titles(c, cm, [title("community", "Bản Nà/Sự %d" % i, i == 0, 100)
                           for i in range(4)])
        put_titles(c, cm, [title("unit", "DV-%d" % i, True, 30 + i)
                           for i in range(2)])
        # 03649 records units only; the district records its agencies
        put_titles(n["03649"], ct["03649"],
                   [title("unit", "DV-%d" % i, i != 1, 12) for i in range(3)])
        put_titles(n["116"], ct["116"],
                   [title("unit", "SO-%d" % i, i % 2 == 0) for i in range(5)])
        # model sanity: the records replace the typed figures
        p = cm.population(Y)
        self.assertEqual((p["families_total"], p["families_recognized"]),
                         (7, 5))
        self.assertEqual((p["clans_total"], p["clans_recognized"]), (3, 2))
        self.assertEqual((p["communities_total"],
                          p["communities_recognized"]), (4, 1))
        self.assertEqual((p["units_total"], p["units_recognized"]), (2, 2))
        self.everywhere("with title records:")
        for nid in ("03646", "03649", "116"):
            self.assertPopulation(nid, Y)
            for (y, kind, id) in sorted(ct[nid].titles):
                self.assertTitleIs(n[nid], ct[nid], y, kind, id, nid)
        # the province's indicators are the sums
        prov = ct.progress("14", Y)["indicators"]
        self.assertEqual(prov["units"]["denominator"],
                         2 + 3 + 5 + ct["14"].population(Y)["units_total"])

    def test_2_typed_totals_blocked(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        for key in ("families_total", "families_recognized", "clans_total",
                    "clans_recognized", "communities_total",
                    "communities_recognized", "units_total",
                    "units_recognized"):
            # a *_recognized alone is 0, so it is valid but for the records
            body = {"adults": 900, "staff": 50,
                    key: 0 if key.endswith("_recognized") else 5}
            r = c.put_population(Y, body)
            self.assertError(r, 409, "title_records", key, what=key)
            self.assertPopulation("03646", Y, "after " + key)
        # without those keys it succeeds (the records still count)
        body = {"adults": 950, "staff": 60, "members_total": 300,
                "members_trained": 120}
        set_population(c, cm, Y, body)
        self.assertPopulation("03646", Y, "after a PUT without title keys")
        # 03649 holds unit records only: families are typed there
        c2, cm2 = n["03649"], ct["03649"]
        self.assertError(c2.put_population(Y, {"units_total": 9}), 409,
                         "title_records", "units_total")
        body = {"adults": 700, "families_total": 40,
                "families_recognized": 31, "clans_total": 4}
        set_population(c2, cm2, Y, body)
        self.assertPopulation("03649", Y)
        # another year without records: typed as before
        body = gen.population(random.Random(3))
        set_population(c, cm, 2025, body)
        self.assertPopulation("03646", 2025)
        self.everywhere("after the population writes:")

    def test_3_replace_delete_batch_dry_run(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        # replace: a recognised family is no longer
        put_titles(c, cm, title("family", "HGD-001", False, 3))
        self.assertTitleIs(c, cm, Y, "family", "HGD-001")
        # delete
        r = delete_title(c, Y, "family", "HGD-002")
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"deleted": True, "year": Y,
                                  "kind": "family", "id": "HGD-002"})
        cm.delete_title(Y, "family", "HGD-002")
        self.assertTitleIs(c, cm, Y, "family", "HGD-002")
        self.assertError(delete_title(c, Y, "family", "HGD-002"), 404,
                         "not_found")
        r = delete_title(c, Y, "community", "Bản Nà/Sự 0")
        self.assertStatus(r, 200)
        cm.delete_title(Y, "community", "Bản Nà/Sự 0")
        # an array with bad items: the good ones stored, the bad named
        good = [title("family", "HGD-100", True, 5),
                title("unit", "DV-9", False, 7)]
        bad = [dict(title("family", "HGD-101", True), kind="village"),
               title("family", "HGD-102", True, -1),
               dict(title("family", "HGD-103", True), year=1999),
               dict(title("family", "HGD-104", True), recognized="yes")]
        body = [good[0]] + bad + [good[1]]
        r = post_title(c, body)
        self.assertStatus(r, 200)
        doc = r.json
        self.assertEqual((doc["accepted"], doc["rejected"]), (2, 4), doc)
        self.assertEqual(sorted(e["index"] for e in doc["errors"]),
                         [1, 2, 3, 4], doc)
        fields = {e["index"]: e.get("field") for e in doc["errors"]}
        self.assertEqual(fields, {1: "kind", 2: "adults", 3: "year",
                                  4: "recognized"}, doc)
        for t in good:
            cm.put_title(t)
        for t in bad:
            self.assertError(get_title(c, Y, "family", t["id"]), (400, 404))
        # a dry run answers and stores nothing
        dry = [title("family", "HGD-dry", True, 2),
               title("family", "HGD-100", False, 5)]
        r = post_title(c, dry, dry_run=True)
        self.assertStatus(r, 200)
        self.assertIs(r.json["dry_run"], True)
        self.assertEqual(r.json["accepted"], 2)
        self.assertTitleIs(c, cm, Y, "family", "HGD-dry", "dry run")
        self.assertTitleIs(c, cm, Y, "family", "HGD-100", "dry run")
        self.assertPopulation("03646", Y, "after the dry run")
        self.everywhere("after replace/delete/batch:")
        # cleaning up the last unit records of 03649 gives units back to
        # its typed figures: with none left the PUT is accepted
        for (y, kind, id) in sorted(ct["03649"].titles):
            if kind == "unit":
                self.assertStatus(delete_title(n["03649"], y, kind, id), 200)
                ct["03649"].delete_title(y, kind, id)
        set_population(n["03649"], ct["03649"], Y,
                       {"adults": 700, "units_total": 6,
                        "units_recognized": 5})
        self.assertPopulation("03649", Y)
        self.everywhere("03649 without unit records:")


class DecisionTitles(CycleTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ct = CycleTree()
        spec = SPEC[:3]
        cls.nodes = cls.cycle_tree(
            spec, cls.ct, modes={nid: "decision" for nid, *_ in spec},
            inspectors=("03646",))
        cls.start_all(cls.nodes)
        rng = random.Random(22)
        for nid, *_ in spec:
            set_population(cls.nodes[nid], cls.ct[nid], Y,
                           gen.population(rng))

    def everywhere(self, what="", timeout=15):
        for nid in ("03646", "116", "14"):
            self.assertCycle(self.nodes[nid], self.ct, (Y,),
                             timeout=timeout, what="%s %s" % (what, nid))

    def test_1_titles_by_decision(self):
        n, ct = self.nodes, self.ct
        c, cm = n["03646"], ct["03646"]
        fams = [title("family", "HGD-%d" % i, i != 4, 3) for i in range(6)]
        put_titles(c, cm, fams)
        put_titles(c, cm, [title("clan", "DH-%d" % i, True, 20)
                           for i in range(3)])
        put_titles(c, cm, title("unit", "DV-0", True, 15))
        self.assertEqual(cm.population(Y)["families_recognized"], 0)
        self.assertEqual(cm.population(Y)["families_total"], 6)
        for (y, kind, id) in sorted(cm.titles):
            self.assertTitleIs(c, cm, y, kind, id, "undecided")
        self.everywhere("eligible titles, no decision:")
        # a decision of families
        d = decision_obj(Y, "12/QĐ-UBND", ["HGD-0", "HGD-1", "HGD-2"],
                         title="family")
        r = decide(c, cm, d)
        self.assertEqual((r.json["title"], r.json["count"]), ("family", 3))
        # either key is accepted for any title
        decide(c, cm, decision_obj(Y, "13/QĐ-UBND", ["DH-0"], title="clan",
                                   key="person_ids"))
        decide(c, cm, decision_obj(Y, "14/QĐ-UBND", ["DV-0"], title="unit"))
        for (y, kind, id) in sorted(cm.titles):
            self.assertTitleIs(c, cm, y, kind, id, "decided")
        self.everywhere("after the title decisions:")
        # flaws: not eligible, not recorded (a clan id under family, an
        # unknown id), decided, duplicate: nothing changes
        d = decision_obj(Y, "15/QĐ-UBND", ["HGD-3", "HGD-4", "DH-1", "HGD-9",
                                            "HGD-0", "HGD-3", "HGD-5"],
                         title="family")
        r = post_decision(c, d)
        err = self.assertError(r, 400, "not_eligible")
        self.assertEqual(
            [{k: i.get(k) for k in ("index", "id", "reason", "decision")}
             for i in err.get("items", [])], cm.flaws(d))
        self.assertEqual([i["reason"] for i in cm.flaws(d)],
                         ["not_eligible", "not_assessed", "not_assessed",
                          "decided", "duplicate"], "model sanity")
        for i in cm.flaws(d):
            self.assertIn(i["id"], err["message"])
        for id in ("HGD-3", "HGD-5"):
            self.assertTitleIs(c, cm, Y, "family", id, "after the refusal")
        # a decided record is locked
        for body in (title("family", "HGD-0", False, 3),
                     title("family", "HGD-0", True, 4)):
            err = self.assertError(post_title(c, body), 409, "decided")
            self.assertIn("12/QĐ-UBND", err["message"])
        err = self.assertError(delete_title(c, Y, "family", "HGD-0"), 409,
                               "decided")
        self.assertIn("12/QĐ-UBND", err["message"])
        r = post_title(c, [title("family", "HGD-7", True, 2),
                           title("family", "HGD-1", False)])
        self.assertStatus(r, 200)
        self.assertEqual([(e["index"], e["code"]) for e in r.json["errors"]],
                         [(1, "decided")], r.json)
        cm.put_title(title("family", "HGD-7", True, 2))
        self.everywhere("after the refused writes:")
        # revocation
        self.assertError(revoke(c, Y, "12/QĐ-UBND", role="clerk"), 403,
                         "forbidden")
        r = revoke(c, Y, "12/QĐ-UBND")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["count"], 3)
        cm.revoke(Y, "12/QĐ-UBND")
        for id in ("HGD-0", "HGD-1", "HGD-2"):
            self.assertTitleIs(c, cm, Y, "family", id, "revoked")
        put_titles(c, cm, title("family", "HGD-0", False, 3))
        self.assertStatus(delete_title(c, Y, "family", "HGD-1"), 200)
        cm.delete_title(Y, "family", "HGD-1")
        self.everywhere("after the revocation:")
        # typed totals still blocked by the records
        for key in KIND_FIELDS["family"] + KIND_FIELDS["unit"]:
            self.assertError(c.put_population(Y, {key: 0}), 409,
                             "title_records", key)
        # and everything survives kill -9 of the commune
        c.kill9()
        c.start()
        for (y, kind, id) in sorted(cm.titles):
            self.assertTitleIs(c, cm, y, kind, id, "after kill -9")
        self.everywhere("after kill -9:", timeout=20)

    def test_2_lists_by_kind(self):
        c, cm = self.nodes["03646"], self.ct["03646"]
        decide(c, cm, decision_obj(Y, "16/QĐ-UBND", ["HGD-2", "HGD-3"],
                                   title="family"))
        self.assertTrue(cm.title_recognized(Y, "family", "HGD-3"))
        self.assertFalse(cm.title_eligible(Y, "family", "HGD-0"))
        for st in ("assessed", "eligible", "recognized"):
            r = get_list(c, Y, kind="family", status=st)
            self.assertStatus(r, 200, st)
            want = pid_order(
                id for (y, kind, id) in cm.titles if kind == "family" and (
                    st == "assessed"
                    or (st == "eligible" and cm.title_eligible(y, kind, id))
                    or cm.title_recognized(y, kind, id)))
            self.assertEqual([i.get("id") for i in r.json["items"]], want, st)
            self.assertEqual(r.json["count"], len(want))
            for i in r.json["items"]:
                e = cm.expected_title(Y, "family", i["id"])
                self.assertEqual((i["eligible"], i["recognized"],
                                  i["decision"], i["kind"]),
                                 (e["eligible"], e["recognized"],
                                  e["decision"], "family"), i)
        self.assertError(get_list(c, Y, kind="family", group="farmer"), 400)


if __name__ == "__main__":
    main()
