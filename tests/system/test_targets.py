"""Targets at every level (SPEC10 H2), real daemons linked over CURVE.

A province (targets adults 50 70) over a district (staff = >60 80, the
department of 001 reporting "above 60%", and families above 70 / 80) and
communes with targets of their own; one unit under the district is played
by the test as a node of release 0.1.0 (32 counters: no targets of its
own).  Random assessments and denominators, plus denominators set exactly
on a target (70 of 100, 9 of 10) where strict and not differ.

Checked against an independent model (exact integers, below): every
drill-down child's indicators against the asking node's targets and against
its own (`own_targets`: targets, strict, met, needed; null for the old
release), the top level of every node with its strict flags, a reload that
changes a commune's targets reaching the province's drill-down, a restart
that stamps nothing when nothing changed, and `cdhtd -n` naming the line of
every bad target."""

import os
import random
import subprocess

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.hier import (FakeChild, HierModel, HierTestCase,
                           python_keypair, report, wait_for)
from cdhttest.node import Node, free_port

YEARS = (2025, 2026)
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("116", "district", "Thành phố Sơn La", "14"),
    ("03646", "commune", "Phường Chiềng Lề", "116"),
    ("03649", "commune", "Phường Tô Hiệu", "116"),
    ("03682", "commune", "Xã Mường Chiên", "14"),
]
# [targets] lines as an admin writes them (03649: none, the defaults)
TARGETS = {
    "14": ["adults = 50 70"],
    "116": ["staff = >60 80", "families = >70 >80"],
    "03646": ["adults = >45 65", "units = 80 >90", "staff = >0 100"],
    "03649": [],
    "03682": ["families = >70 80", "clans = 65 >75", "digital = >50 >70"],
}
RELOADED = ["adults = 30 >50", "staff = >10 20", "units = >80 90",
            "families = >69 70"]
# 2025 denominators set on a boundary: (recognised, total) per unit
EXACT = {
    "03646": {"families": (7, 10), "units": (9, 10)},
    "03649": {"families": (21, 30)},
    "116": {"families": (42, 60)},     # 116's subtree: 70 of 100 exactly
    "03682": {"families": (14, 20), "clans": (13, 20)},
}
# a unit under 116 of release 0.1.0 (32 counters), played by the test
OLD = "03652"
OLD_COUNTERS = {"assessed": 40, "recognized": 30, "staff_assessed": 40,
                "staff_recognized": 30, "den_set": 1, "staff": 50}
OLD_ADDS = {"staff": (30, 50), "digital": (0, 30)}  # what it adds


# -- the independent model of targets -----------------------------------
def parse_targets(lines):
    """{indicator: ((pct, strict) 2025, (pct, strict) 2030)}, defaults for
    the rest."""
    t = {k: ((a, False), (b, False))
         for k, (a, b) in model.DEFAULT_TARGETS.items()}
    for line in lines:
        key, value = (x.strip() for x in line.split("=", 1))
        vals = []
        for tok in value.split():
            vals.append((int(tok.lstrip(">")), tok.startswith(">")))
        assert len(vals) == 2, line
        t[key] = tuple(vals)
    return t


def against(num, den, target):
    """(needed, met) of num/den against (pct, strict), exact integers:
    at least pct% (needed: the smallest k with 100(num+k) >= pct*den), or
    above it when strict (100(num+k) > pct*den); met needs a denominator."""
    pct, strict = target
    k = 0
    if strict:
        # smallest k >= 0 with 100*(num+k) > pct*den
        if 100 * num <= pct * den:
            k = (pct * den - 100 * num) // 100 + 1
        met = 100 * num > pct * den
    else:
        if 100 * num < pct * den:
            k = -(-(pct * den - 100 * num) // 100)
        met = 100 * num >= pct * den
    return k, met and den > 0


def expect_targets(num, den, targets):
    """The (targets, strict, met, needed) objects of one indicator."""
    out = {"targets": {}, "strict": {}, "met": {}, "needed": {}}
    for i, yr in enumerate(("2025", "2030")):
        need, met = against(num, den, targets[i])
        out["targets"][yr] = targets[i][0]
        out["strict"][yr] = targets[i][1]
        out["met"][yr] = met
        out["needed"][yr] = need
    return out


def is_bool_equal(a, b):
    return isinstance(a, bool) and a is b


def compare(got, want, where):
    """Mismatches of {"2025": v, "2030": v} objects, bools compared as
    bools and integers as integers."""
    bad = []
    for yr in ("2025", "2030"):
        g = got.get(yr, "<absent>") if isinstance(got, dict) else "<absent>"
        w = want[yr]
        ok = (is_bool_equal(g, w) if isinstance(w, bool)
              else model.is_int(g) and g == w)
        if not ok:
            bad.append("%s.%s: got %r, want %r" % (where, yr, g, w))
    return bad


class Targets(HierTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hm = HierModel()
        cls.targets = {nid: parse_targets(lines)
                       for nid, lines in TARGETS.items()}
        cls.lines = dict(TARGETS)
        cls.nodes = cls.class_tree(SPEC, cls.hm)
        n = cls.nodes
        for nid, node in n.items():
            # conf_text writes [targets] as two plain integers: ours go
            # after the rest, as typed
            node.conf_fn = (lambda port, node=node, nid=nid:
                            node.conf_text() + cls.targets_text(nid))
        cls.old_keys = python_keypair()
        n["116"].extra_children.append((OLD, cls.old_keys[0], "Phường Cũ"))
        cls.start_all(n)
        rng = random.Random(10)
        for nid, persons in (("03646", 120), ("03649", 90), ("03682", 100),
                             ("116", 50), ("14", 40)):
            node = n[nid]
            items = gen.assessments(rng, persons, YEARS, prefix=nid + "-",
                                    level=node.level)
            cls.submit_many(node, cls.hm, items)
            for y in YEARS:
                pop = gen.population(rng)
                if y == 2025:
                    for ind, (rec, tot) in EXACT.get(nid, {}).items():
                        f = {"families": "families", "units": "units",
                             "clans": "clans"}[ind]
                        pop[f + "_total"], pop[f + "_recognized"] = tot, rec
                cls.set_population(node, cls.hm, y, pop)
        # the old release's unit: 32 counters, no targets_own
        f = FakeChild(n["116"], *cls.old_keys)
        cls.addClassCleanup(f.close)
        f.hello(OLD, level="commune", name="Phường Cũ")
        for y in YEARS:
            r = report(OLD, y, 1, [OLD], OLD_COUNTERS, level="commune",
                       name="Phường Cũ")
            r[7] = r[7][:32]
            f.reports([r])

    @classmethod
    def targets_text(cls, nid):
        if not cls.lines.get(nid):
            return ""
        return "[targets]\n" + "\n".join(cls.lines[nid]) + "\n"

    # -- expectations -------------------------------------------------
    def subtree_fracs(self, nid, year):
        """{indicator: (numerator, denominator)} of nid's subtree."""
        e = self.hm.progress(nid, year)["indicators"] if nid != OLD else {}
        out = {}
        for ind in model.INDICATORS:
            num, den = ((e[ind]["numerator"], e[ind]["denominator"])
                        if ind in e else (0, 0))
            if nid in ("14", "116", OLD) and ind in OLD_ADDS:
                num += OLD_ADDS[ind][0]
                den += OLD_ADDS[ind][1]
            out[ind] = (num, den)
        return out

    def entry_problems(self, doc, nid, year, asking, child, path):
        """An entry's (top level or child) indicators: numerator and
        denominator of nid's subtree, against the asking node's targets;
        a child's own_targets against nid's targets (null for OLD)."""
        bad = []
        fr = self.subtree_fracs(nid, year)
        inds = doc.get("indicators") or {}
        for ind in model.INDICATORS:
            g = inds.get(ind) or {}
            where = "%s %s" % (path, ind)
            num, den = fr[ind]
            if (g.get("numerator"), g.get("denominator")) != (num, den):
                bad.append("%s: %r/%r, want %d/%d"
                           % (where, g.get("numerator"), g.get("denominator"),
                              num, den))
                continue
            w = expect_targets(num, den, self.targets[asking][ind])
            for k in ("targets", "strict", "met", "needed"):
                bad += compare(g.get(k), w[k], "%s.%s" % (where, k))
            if not child:
                if "own_targets" in g:
                    bad.append("%s: own_targets at the top level" % where)
                continue
            own = g.get("own_targets", "<absent>")
            if nid == OLD:
                if own is not None:
                    bad.append("%s.own_targets: got %r, want null (release "
                               "0.1.0)" % (where, own))
                continue
            if not isinstance(own, dict):
                bad.append("%s.own_targets: got %r" % (where, own))
                continue
            w = expect_targets(num, den, self.targets[nid][ind])
            bad += compare(own, w["targets"], where + ".own_targets")
            for k in ("strict", "met", "needed"):
                bad += compare(own.get(k), w[k],
                               "%s.own_targets.%s" % (where, k))
        return bad

    def tree_problems(self, doc, nid, year, asking, child, path):
        bad = self.entry_problems(doc, nid, year, asking, child, path)
        if "children" not in doc:
            return bad
        kids = {k.get("node", {}).get("id"): k for k in doc["children"]}
        want = sorted([c for c, p in self.hm.parent.items() if p == nid]
                      + ([OLD] if nid == "116" else []))
        if sorted(kids) != want:
            return bad + ["%s: children %r, want %r"
                          % (path, sorted(kids), want)]
        for cid in want:
            bad += self.tree_problems(kids[cid], cid, year, asking, True,
                                      "%s/%s" % (path, cid))
        return bad

    def all_problems(self):
        n = self.nodes
        bad = []
        for y in YEARS:
            for nid, depth in (("14", 2), ("116", 1), ("03682", None),
                               ("03646", None)):
                try:
                    doc = n[nid].progress_doc(y, depth)
                except (OSError, AssertionError) as e:
                    bad.append("%s %d: %s" % (nid, y, e))
                    continue
                bad += self.tree_problems(doc, nid, y, nid, False,
                                          "%s@%d" % (nid, y))
            # a unit below as the root: the province's targets on top,
            # the communes' own in its children
            r = n["14"].request("GET", "/v1/progress?year=%d&depth=1&node=116"
                                % y, role="viewer", timeout=10)
            if r.status != 200:
                bad.append("14?node=116: %r" % (r,))
            else:
                bad += self.tree_problems(r.json, "116", y, "14", False,
                                          "14?node=116@%d" % y)
        return bad

    def assertTreeConverges(self, timeout=20.0, what=""):
        last = []

        def ok():
            last[:] = self.all_problems()
            return not last
        try:
            wait_for(ok, timeout, what or "the drill-down to converge")
        except AssertionError:
            self.fail("%s: %d problems:\n  %s" % (what, len(last),
                                                    "\n  ".join(last[:40])))

    # -- the tests ----------------------------------------------------
    def test_1_own_targets_everywhere(self):
        self.assertTreeConverges(what="own targets")
        # the boundaries the model relies on were really reached
        d = self.nodes["14"].progress_doc(2025, 2)
        kids = {k["node"]["id"]: k for k in d["children"]}
        fam = kids["116"]["indicators"]["families"]
        self.assertEqual((fam["numerator"], fam["denominator"]), (70, 100))
        # against the province's (default, not strict) 70: met; against
        # the district's own "above 70": one family short
        self.assertIs(fam["met"]["2025"], True)
        self.assertEqual(fam["own_targets"]["needed"]["2025"], 1)
        self.assertIs(fam["own_targets"]["met"]["2025"], False)
        self.assertIs(fam["own_targets"]["strict"]["2030"], True)
        # staff = >60 80 at the district's top level
        top = self.nodes["116"].progress_doc(2025)["indicators"]["staff"]
        self.assertEqual(top["strict"], {"2025": True, "2030": False})
        self.assertEqual(top["targets"], {"2025": 60, "2030": 80})
        grand = {k["node"]["id"]: k for k in kids["116"]["children"]}
        self.assertIsNone(grand[OLD]["indicators"]["adults"]["own_targets"])

    def test_1b_report_shows_strict(self):
        """The printed report writes a strict target "trên 60%" / "> 60%",
        the others as the plain percent."""
        d = self.nodes["116"]
        for lang, want in (("vi", "trên 60%"), ("en", "&gt; 60%")):
            r = d.request("GET", "/v1/report?year=2025&format=html&lang=%s"
                          % lang, role="viewer", timeout=10)
            self.assertEqual(r.status, 200, r)
            html = r.body.decode()
            row = html[html.index('data-indicator="staff"'):]
            row = row[:row.index("</tr>")]
            self.assertIn(want, row)
            self.assertIn(">80<", row)          # 2030: not strict
            row = html[html.index('data-indicator="adults"'):]
            row = row[:row.index("</tr>")]
            self.assertNotIn("%", row.split("</td>", 4)[-1])

    def test_2_reload_reaches_the_province(self):
        self.assertTreeConverges(what="before the reload")
        c = self.nodes["03646"]
        type(self).lines["03646"] = RELOADED
        self.targets["03646"] = parse_targets(RELOADED)
        c.rewrite_conf()
        c.reload()
        self.assertTreeConverges(what="after 03646's reload")
        wait_for(lambda: "targets stamped" in c.stderr_text(), 5,
                 "the reload to log the stamping")

    def test_3_restart_stamps_nothing_new(self):
        self.assertTreeConverges(what="before the restart")
        c = self.nodes["03682"]
        before = c.stderr_text()
        self.assertIn("targets: stamped into the reports of", before)
        c.restart(keep_port=True)
        after = c.stderr_text()[len(before):]
        self.assertNotIn("targets: stamped", after)
        self.assertTreeConverges(what="after the restart")

    def test_4_conf_errors_name_the_line(self):
        d = self.nodes["14"].dir + "-conf"
        os.makedirs(d, exist_ok=True)
        node = Node(d, id="04108")
        node.port = free_port()
        base = node.conf_text() + "[targets]\n"
        first = base.count("\n") + 1
        bad = ["staff = >>60 80", "adults = 101 80", "digital = >60",
               "units = 60 80 90", "clans = >100 80", "trained = 6o 80"]
        path = os.path.join(d, "bad.ini")
        with open(path, "w") as f:
            f.write(base + "\n".join(bad) + "\n")
        p = subprocess.run([node.cdhtd_bin(), "-n", "-c", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        for i, line in enumerate(bad):
            key = line.split()[0]
            want = "%s:%d: targets.%s: invalid value" % (path, first + i, key)
            self.assertIn(want, err)
        self.assertIn('">" may appear only once', err)
        self.assertIn("the 2030 target is missing", err)
        # good ones pass
        path = os.path.join(d, "good.ini")
        with open(path, "w") as f:
            f.write(base + "staff = >60 80\nadults = >0 >99\n"
                    "units = 0 100\n")
        p = subprocess.run([node.cdhtd_bin(), "-n", "-c", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertIn("configuration OK", p.stdout.decode())


if __name__ == "__main__":
    main()
