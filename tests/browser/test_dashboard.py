"""The dashboard in a real Chromium: starts a real hierarchy (a province,
three communes reporting to it over CURVE, and a configured commune that
never connects), seeds 2021-2026, then runs dashboard.test.js (Node,
playwright-core, /usr/bin/chromium) against the province's page.  A fourth
commune recognises by decision ([programme] recognition = decision) and is
seeded with 2026 only once the others have converged (the hierarchy model
knows recognition by score only): its own page and the province's show
eligible above recognised.  The province's deadline is 12-31 (so, in
December, 2026's is ahead and 2025's has passed; the script computes what
is late from the clock); the script files years at communes, reopens one,
and reads every unit's filing state on the province's page.

Run by tests/browser/run (CTest: browser_dashboard), which installs the
Node packages with `npm ci` first.  Environment: CDHTD, CDHT (binaries),
CDHT_BUILD_DIR (screenshots go to CDHT_BUILD_DIR/browser/screenshots),
CDHT_BROWSER_DIR (where npm ci installed playwright-core)."""

import json
import os
import random
import subprocess
import sys
import tempfile

from cdhttest import gen, model
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase, python_keypair

YEARS = tuple(range(2021, 2027))
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Tô Hiệu", "14"),
    ("03664", "commune", "Phường Chiềng An", "14"),
    ("04108", "commune", "Xã Chiềng Sung", "14"),
]
NEVER = ("04114", "Xã Mường Bằng")
DECIDER = ("04111", "Xã Mường Bú")   # recognises by decision
DEADLINE = "12-31"                  # the province's [programme] deadline


def eligible_counts(items, year):
    """{"eligible": n, "by_group": {g: n}} of year's items, by the scoring
    rule (model.score), independently of the daemon."""
    c = {"eligible": 0, "by_group": {g: 0 for g in model.GROUPS}}
    for a in items:
        if a["year"] == year and model.score(a["scores"])[1]:
            c["eligible"] += 1
            c["by_group"][a["group"]] += 1
    return c


def seed_population(rng, items, year, growth):
    """Denominators that make the indicators look like a real commune's:
    the assessed are a share of the population, collective titles grow
    with the years."""
    ad = sum(1 for a in items if a["year"] == year and a["population"] == "adult")
    st = sum(1 for a in items if a["year"] == year and a["population"] == "staff")
    p = {"adults": int(ad * rng.uniform(1.3, 2.0)) + 1,
         "staff": int(st * rng.uniform(1.1, 1.6)) + 1}
    for rec, tot, base in (("families_recognized", "families_total", 0.55),
                           ("clans_recognized", "clans_total", 0.5),
                           ("communities_recognized", "communities_total", 0.5),
                           ("units_recognized", "units_total", 0.6),
                           ("members_trained", "members_total", 0.6)):
        t = rng.randint(40, 400)
        p[tot] = t
        p[rec] = min(t, int(t * min(1.0, base + growth * rng.uniform(0.6, 1.2))))
    return p


class Dashboard(HierTestCase):
    def test_dashboard_in_chromium(self):
        hm = HierModel()
        nodes = self.tree(SPEC, hm)
        p = nodes["14"]
        p.extra_children.append((NEVER[0], python_keypair()[0], NEVER[1]))
        p.conf_fn = lambda port: (p.conf_text() +
                                  "[programme]\ndeadline = %s\n" % DEADLINE)
        dec = self.make_hier("commune", DECIDER[0], DECIDER[1], p)
        dec.conf_fn = lambda port: (dec.conf_text() +
                                    "[programme]\nrecognition = decision\n")
        self.start_all([dec] + [nodes[i] for i, *_ in reversed(SPEC)])
        rng = random.Random(2026)
        everything = []
        for nid, *_ in SPEC:
            node = nodes[nid]
            n = 30 if nid == "14" else rng.randint(40, 90)
            items = gen.assessments(rng, n, YEARS, prefix=nid + "-",
                                    level=node.level,
                                    star_share=rng.uniform(0.2, 0.45))
            self.submit_many(node, hm, items)
            everything += items
            for i, y in enumerate(YEARS):
                if nid == "04108" and y == 2026:
                    continue  # one commune without denominators this year
                self.set_population(node, hm, y,
                                    seed_population(rng, items, y, i * 0.06))
        self.assertConverges(p, hm, YEARS, timeout=20, what="province")

        # the commune that recognises by decision: 2026 only, not in the
        # model; the province must count its assessments
        ditems = gen.assessments(rng, 60, (2026,), prefix=DECIDER[0] + "-",
                                 star_share=0.4)
        for i in range(0, len(ditems), 500):
            r = dec.post(ditems[i:i + 500], timeout=60)
            self.assertEqual((r.status, r.json.get("rejected")), (200, 0),
                             "decision commune: batch POST: %r" % r)
        r = dec.put_population(2026, seed_population(rng, ditems, 2026, 0.3))
        self.assertEqual(r.status, 200, "decision commune: population")
        want = sum(1 for a in everything + ditems if a["year"] == 2026)
        self.assertAssessedWithin(p, 2026, want, timeout=20,
                                  what="province with the decision commune")
        dcounts = eligible_counts(ditems, 2026)
        all_counts = eligible_counts(everything + ditems, 2026)
        self.assertGreater(dcounts["eligible"], 3,
                           "the decision commune has people to decide")

        build = os.environ.get("CDHT_BUILD_DIR") or tempfile.mkdtemp()
        shots = os.path.join(build, "browser", "screenshots")
        os.makedirs(shots, exist_ok=True)
        conf = {
            "url": p.url, "viewer": p.tokens["viewer"], "year": 2026,
            "province": "14", "never": NEVER[0], "never_name": NEVER[1],
            "communes": {nid: {"url": nodes[nid].url,
                               "clerk": nodes[nid].tokens["clerk"]}
                         for nid, *_ in SPEC[1:]},
            "screenshots": shots,
            "deadline": DEADLINE,
            "decider": {"id": DECIDER[0], "name": DECIDER[1],
                        "url": dec.url, "viewer": dec.tokens["viewer"],
                        "clerk": dec.tokens["clerk"],
                        "counts": dcounts,
                        # eligible ids in byte order, to decide some
                        "eligible": sorted(
                            ([a["person_id"], a["group"]] for a in ditems
                             if model.score(a["scores"])[1]),
                            key=lambda x: x[0].encode())},
            # 2026 at the province before the page's live submission
            # (an eligible farmer): eligible by the scoring rule
            "province_counts": all_counts,
            "admins": {nid: nodes[nid].tokens["admin"]
                       for nid, *_ in SPEC[1:]},
            "admin_label": "admin-test",
            "chromium": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        }
        cpath = os.path.join(p.dir, "browser.json")
        with open(cpath, "w") as f:
            json.dump(conf, f)
        here = os.environ.get("CDHT_BROWSER_DIR") or os.path.dirname(
            os.path.abspath(__file__))
        script = os.path.join(here, "dashboard.test.js")
        r = subprocess.run(["node", script, cpath], cwd=here, timeout=240)
        self.assertEqual(r.returncode, 0, "dashboard.test.js failed "
                         "(see its output above)")
        for n in list(nodes.values()) + [dec]:
            self.assertAlive(n)


if __name__ == "__main__":
    main()
