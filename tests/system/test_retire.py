"""The 2025 reform replayed on a slice of Sơn La (tests/system/data): a
province, two districts and four communes record 2021-2024; then the
districts are retired and the communes merged into two new ones per
merges_2025.csv (04012 Chiềng Hắc is `partial`: its people are split
between both successors; the new 04078 reuses the code of an old one),
following the README's procedure: export CSV at the old communes, import
into the successors (counts_from = 2025), the retired file at the province,
reload.  After convergence the province's figures for 2021-2024 equal the
model of what was recorded before the merge, to the person, 2025 equals the
new communes' sum, the five-year streak holds across the merge and nothing
is counted twice at any level; again after restarting every node and after
restoring the province from a backup taken after the retirement.  A
national node above the province learns every retirement, successor
included, from the reports alone (PROTOCOL.md 8.8: report field 10)."""

import csv
import os
import random
import shutil
import subprocess

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.hier import HierModel, HierNode, HierTestCase, wait_for
from cdhttest.node import cdht_path, cdhtd_path, quote_pid

HERE = os.path.dirname(os.path.abspath(__file__))
OLD_YEARS = (2021, 2022, 2023, 2024)
YEARS = OLD_YEARS + (2025,)


def read_csv(name):
    with open(os.path.join(HERE, "data", name), encoding="utf-8") as f:
        return list(csv.DictReader(l for l in f if not l.startswith("#")))


class Node(HierNode):
    """A HierNode with more [node] lines (counts_from)."""
    node_extra = ()

    def conf_text(self):
        text = super().conf_text()
        if self.node_extra:
            at = text.index("[http]")
            text = text[:at] + "".join(l + "\n" for l in self.node_extra) \
                + text[at:]
        return text


def model_of(records):
    m = model.Model()
    for a in records:
        m.submit(a)
    return m


def counts(doc):
    c = doc["counts"]
    return (c["assessed"], c["recognized"], c["outstanding"])


class Retire(HierTestCase):
    def make(self, level, id, name, parent=None):
        n = self.make_hier(level, id, name, parent)
        n.__class__ = Node
        return n

    def converge(self, node, want, years, what, timeout=30.0):
        """node's progress of each year equals the Model want[year]."""
        def problems():
            bad = []
            for y in years:
                doc = node.progress_doc(y)
                bad += ["%d: %s" % (y, p) for p in model.diff_progress(
                    doc, want[y].progress(y), node.info)]
            return bad
        try:
            wait_for(lambda: not problems(), timeout, what)
        except AssertionError:
            self.fail("%s: %s\n%s" % (what, problems()[:20],
                                       node.stderr_tail(2000)))

    def test_reform(self):
        units = read_csv("sonla_units_2024.csv")
        merges = read_csv("sonla_merges_2025.csv")
        self.assertTrue(any(m["type"] == "partial" for m in merges))
        rng = random.Random(2025)
        nat = self.make("national", "VN", "Vi\u1ec7t Nam")
        prov = self.make("province", "14", units[0]["province_name"], nat)
        districts, communes = {}, {}
        for u in units:
            d = u["district_code"]
            if d not in districts:
                districts[d] = self.make("district", d, u["district_name"],
                                         prov)
            communes[u["commune_code"]] = self.make(
                "commune", u["commune_code"], u["commune_name"], districts[d])
        old = [nat, prov] + list(districts.values()) + \
            list(communes.values())
        for n in old:
            n.start()

        # -- 2021-2024 under the 2024 shape ---------------------------
        recorded = {}     # unit -> its records (dicts as submitted)
        for cid, n in communes.items():
            items = gen.assessments(rng, 50, OLD_YEARS, prefix=cid + "-",
                                    star_share=0.3)
            # one person certainly recognised every year
            items += [dict(year=y, person_id=cid + "-star", group="farmer",
                           population="adult", scores=[9] * 10,
                           digital="skilled") for y in OLD_YEARS]
            recorded[cid] = items
        recorded["123"] = gen.assessments(rng, 10, OLD_YEARS,
                                          prefix="123-", level="district")
        for uid, items in recorded.items():
            n = communes.get(uid) or districts[uid]
            r = n.post(items, timeout=60)
            self.assertStatus(r, 200)
            self.assertEqual(r.json["rejected"], 0, r)
        everything = [a for items in recorded.values() for a in items]
        before = {y: model_of(everything) for y in OLD_YEARS}
        self.converge(prov, before, OLD_YEARS, "before the merge")
        docs_before = {y: prov.progress_doc(y) for y in OLD_YEARS}

        # -- the old communes export their records ---------------------
        exports = {}
        for cid, n in communes.items():
            r = n.request("GET", "/v1/assessments?format=csv", role="clerk")
            self.assertStatus(r, 200)
            self.assertIn("text/csv", r.headers["content-type"])
            rows = list(csv.DictReader(r.body.decode("utf-8").splitlines()))
            self.assertEqual(len(rows), len(recorded[cid]))
            self.assertEqual(
                sorted((int(x["year"]), x["person_id"]) for x in rows),
                sorted((a["year"], a["person_id"]) for a in recorded[cid]))
            exports[cid] = r.body.decode("utf-8")
            r = n.request("GET", "/v1/assessments?format=csv&year=2022",
                          role="clerk")
            self.assertStatus(r, 200)
            self.assertTrue(all(
                row["year"] == "2022" for row in
                csv.DictReader(r.body.decode("utf-8").splitlines())))
            self.assertError(n.request("GET", "/v1/assessments?format=json",
                                       role="clerk"), 400, "invalid_field",
                             "format")
            self.assertStatus(n.request("GET", "/v1/assessments?format=csv",
                                        role="viewer"), 403)
        for n in list(communes.values()) + list(districts.values()):
            self.assertEqual(n.stop(), 0)

        # -- the reform: the province first ----------------------------
        new = {}
        for m in merges:
            if m["commune_code"] not in new:
                nn = self.make("commune", m["commune_code"],
                               m["commune_name"], None)
                nn.node_extra = ("counts_from = 2025",)
                nn.parent = prov
                new[m["commune_code"]] = nn
        prov.children = list(new.values())
        succ = {}
        for m in merges:
            succ.setdefault(m["old_commune_code"], []).append(
                m["commune_code"])
        rpath = os.path.join(prov.dir, "retired")
        with open(rpath, "w") as f:
            f.write("# ID LAST_YEAR SUCCESSOR NAME\n")
            for d, n in districts.items():
                f.write("%s 2024 - %s\n" % (d, n.name))
            for cid, n in communes.items():
                s = succ[cid]
                f.write("%s 2024 %s %s\n"
                        % (cid, s[0] if len(s) == 1 else "-", n.name))
        prov.downlink_extra = ["retired = %s" % rpath]
        prov.rewrite_conf()
        prov.reload()
        wait_for(lambda: "reload: done" in prov.stderr_text(), 10,
                 "the province's reload")
        # nothing lost, nothing new: the kept years count as before
        self.converge(prov, before, OLD_YEARS, "after the retirement")

        # -- the new communes: counts_from, import, 2025 ---------------
        for nn in new.values():
            nn.start()
        share = {c: [] for c in new}   # successor -> imported rows
        split = {}                     # person of a partial unit -> successor
        for cid, text in exports.items():
            for row in csv.DictReader(text.splitlines()):
                s = succ[cid]
                if len(s) > 1:
                    to = split.setdefault(row["person_id"],
                                          s[len(split) % len(s)])
                else:
                    to = s[0]
                share[to].append(row)
        self.assertTrue(len(set(split.values())) == 2, "partial split")
        header = list(csv.DictReader(exports["04012"].splitlines()).fieldnames)
        later = {}
        for c, rows in share.items():
            lines = [",".join(header)]
            for row in rows:
                lines.append(",".join('"%s"' % row[h].replace('"', '""')
                                      for h in header))
            r = new[c].post_csv("\r\n".join(lines) + "\r\n", timeout=60)
            self.assertStatus(r, 200)
            self.assertEqual(r.json["rejected"], 0, r)
            # 2025: everyone of its share attends, stars stay recognised
            people = sorted({row["person_id"] for row in rows})
            items = []
            for pid in people:
                star = pid.endswith("-star") or rng.random() < 0.3
                a = {"year": 2025, "person_id": pid, "group": "worker",
                     "population": "adult",
                     "scores": [9] * 10 if star else gen.scores_random(rng),
                     "digital": "proficient"}
                items.append(a)
            items += gen.assessments(rng, 10, (2025,), prefix=c + "-new-")
            r = new[c].post(items, timeout=60)
            self.assertStatus(r, 200)
            self.assertEqual(r.json["rejected"], 0, r)
            later[c] = items

        def imported(c):
            return [{"year": int(x["year"]), "person_id": x["person_id"],
                     "group": x["group"], "population": x["population"],
                     "scores": [int(x["s%d" % i]) for i in range(1, 11)],
                     "digital": x["digital"]} for x in share[c]]

        after = model_of(everything + [a for v in later.values() for a in v])
        want_prov = dict(before)
        want_prov[2025] = after
        empty = model.Model()

        def retired_at(node, where):
            """node shows every retirement as the province's file says:
            the districts dissolved, 04027 merged into 03980, 04012 split
            (no successor), 04078's old years into the new 04078."""
            nodes = {n["id"]: n for n in node.nodes_doc()["nodes"]}
            self.assertEqual(nodes["04027"]["retired"],
                             {"last_year": 2024, "successor": "03980"},
                             where)
            self.assertEqual(nodes["04012"]["retired"],
                             {"last_year": 2024, "successor": None}, where)
            self.assertEqual(nodes["04078"]["retired"],
                             {"last_year": 2024, "successor": "04078"},
                             where)
            for cid in communes:
                s = succ[cid]
                self.assertEqual(
                    nodes[cid]["retired"],
                    {"last_year": 2024,
                     "successor": s[0] if len(s) == 1 else None},
                    (where, cid))
            for d in districts:
                self.assertEqual(nodes[d]["retired"],
                                 {"last_year": 2024, "successor": None},
                                 (where, d))
            self.assertNotIn("retired", nodes["03980"], where)
            return nodes

        def check(what):
            self.converge(prov, want_prov, YEARS, what, timeout=40.0)
            # the national node: the same figures, and every retirement
            # learnt from the reports (it has no retired file)
            self.converge(nat, want_prov, YEARS, what + " (national)",
                          timeout=40.0)
            retired_at(nat, what + " (national)")
            doc = nat.progress_doc(2024, depth=3)
            below = {}
            todo = list(doc["children"])
            while todo:
                k = todo.pop()
                below[k["node"]["id"]] = k
                todo += k.get("children") or []
            self.assertEqual(below["04027"]["retired"],
                             {"last_year": 2024, "successor": "03980"},
                             what + " (national drill-down)")
            self.assertNotIn("retired", below["14"], what)
            for y in OLD_YEARS:
                self.assertEqual(counts(prov.progress_doc(y)),
                                 counts(docs_before[y]), "%s %d" % (what, y))
            for c, nn in new.items():
                mine = model_of(imported(c) + later[c])
                self.converge(nn, {2025: mine}, (2025,), what + " " + c)
                # imported years are kept, not counted: nothing twice
                self.converge(nn, {y: empty for y in OLD_YEARS}, OLD_YEARS,
                              what + " " + c)
                # the streak: recognised 2021-2024 at an old commune
                for pid in (p for p in {x["person_id"] for x in share[c]}
                            if p.endswith("-star")):
                    r = nn.get(2025, pid)
                    self.assertStatus(r, 200)
                    self.assertTrue(r.json["outstanding"], (c, pid))
                    r = nn.get(2022, pid)
                    self.assertStatus(r, 200)
            # drill-down: each unit's share, each counted once (a reused
            # code, 04078, shows the old unit's years under its own id too)
            for y in YEARS:
                doc = prov.progress_doc(y, depth=1)
                kids = {k["node"]["id"]: k for k in doc["children"]}

                def got(i):
                    return kids[i]["counts"]["assessed"] if i in kids else 0
                want = {}
                for u in units:
                    d, cid = u["district_code"], u["commune_code"]
                    n = len([a for a in recorded[cid] if a["year"] == y])
                    want[d] = want.get(d, 0) + n
                want["123"] += len([a for a in recorded["123"]
                                    if a["year"] == y])
                for c in new:
                    want[c] = len([a for a in later[c] if a["year"] == y])
                want["04078"] += len([a for a in recorded["04078"]
                                      if a["year"] == y])
                self.assertEqual({i: got(i) for i in want}, want, (what, y))
                self.assertEqual(doc["counts"]["assessed"],
                                 sum(want[d] for d in districts) +
                                 sum(len([a for a in later[c]
                                          if a["year"] == y]) for c in new),
                                 (what, y))
                for d in districts:
                    if d in kids:
                        self.assertEqual(kids[d]["retired"],
                                         {"last_year": 2024,
                                          "successor": None})
            retired_at(prov, what)

        check("after the merge")

        # -- every node restarts ----------------------------------------
        for n in [nat, prov] + list(new.values()):
            n.restart(keep_port=True)
        check("after restarting every node")

        # -- the province restored from a backup taken after retirement --
        dest = os.path.join(prov.dir, "backup")
        env = dict(os.environ, PATH=os.path.dirname(cdhtd_path()) +
                   os.pathsep + os.environ.get("PATH", ""))
        p = subprocess.run([cdht_path(), "backup", "--conf", prov.conf_path,
                            dest], capture_output=True, text=True,
                           timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # written after the backup: the restored province must learn it
        c0 = sorted(new)[0]
        extra = gen.assessments(rng, 5, (2025,), prefix=c0 + "-late-")
        self.assertStatus(new[c0].post(extra, timeout=30), 200)
        later[c0] += extra
        want_prov[2025] = model_of(
            everything + [a for v in later.values() for a in v])
        self.converge(prov, want_prov, (2025,), "before the restore")
        self.assertEqual(prov.stop(), 0)
        shutil.rmtree(prov.data_dir)
        os.makedirs(prov.data_dir)
        shutil.copy(os.path.join(dest, "data.mdb"), prov.data_dir)
        prov.start(keep_port=True)
        check("after restoring the province")
        self.assertNotIn("ALARM", "".join(
            n.stderr_text() for n in new.values()))


if __name__ == "__main__":
    main()
