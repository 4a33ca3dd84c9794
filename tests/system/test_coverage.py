"""Coverage that tells the truth: GET /v1/progress's coverage names the
direct children whose link is down, the units whose last report is older
than [downlink] stale_after, the configured children never heard from
(with their names from the children file); the reporting deadline with the
days left in the node's time zone and the late units; progress for a unit
below (?node=ID) with its ancestors."""

import datetime
import random

from cdhttest import gen
from cdhttest.case import main
from cdhttest.hier import HierModel, HierTestCase, python_keypair, wait_for

SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Tô Hiệu", "14"),
    ("03664", "commune", "Phường Chiềng An", "14"),
]
NEVER = ("03670", "Phường Chiềng Cơi")
STALE_AFTER = 4


def local_today(offset_min):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (now + datetime.timedelta(minutes=offset_min)).date()


class Coverage(HierTestCase):
    def setUp(self):
        self.hm = HierModel()
        self.nodes = self.tree(SPEC, self.hm)
        p = self.nodes["14"]
        p.extra_children.append((NEVER[0], python_keypair()[0], NEVER[1]))
        base = p.conf_text
        p.conf_text = lambda: base() + (
            "[downlink]\nstale_after = %d\n"
            "[programme]\ndeadline = 01-15\ntimezone = +07:00\n" % STALE_AFTER)
        self.start_all([self.nodes[i] for i, *_ in reversed(SPEC)])
        rng = random.Random(5)
        self.submit_many(self.nodes["03646"], self.hm, gen.assessments(
            rng, 20, (2026,), prefix="a-"))
        self.set_population(self.nodes["03664"], self.hm, 2026,
                            gen.population(rng))
        self.assertConverges(p, self.hm, (2026,), timeout=15)

    def cov(self, year=2026, **q):
        path = "/v1/progress?year=%d&depth=1" % year
        for k, v in q.items():
            path += "&%s=%s" % (k, v)
        r = self.nodes["14"].request("GET", path, role="viewer", timeout=10)
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_down_stale_never_reported(self):
        doc = self.cov()
        c = doc["coverage"]
        self.assertEqual(c["units"], 4, c)
        self.assertEqual(c["reported"], 2, c)
        self.assertEqual(sorted(c["missing"]), sorted(["14", NEVER[0]]), c)
        self.assertEqual(c["never_reported"], [NEVER[0]], c)
        self.assertEqual(c["down"], [NEVER[0]], c)
        self.assertEqual(c["stale"], [], c)
        self.assertEqual(c["stale_after"], STALE_AFTER, c)
        self.assertEqual(c["names"], {
            "14": "Tỉnh Sơn La", "03646": "Phường Tô Hiệu",
            "03664": "Phường Chiềng An", NEVER[0]: NEVER[1]}, c)
        # a stopped commune is down within the heartbeat timeout, and
        # stale once its last report is older than stale_after
        self.nodes["03646"].stop()
        wait_for(lambda: "03646" in self.cov()["coverage"]["down"], 10,
                 "03646 down")
        c = wait_for(lambda: (lambda c: c if len(c["stale"]) == 2 else None)(
            self.cov()["coverage"]), STALE_AFTER + 5, "both communes stale")
        self.assertEqual(sorted(c["stale"]), ["03646", "03664"], c)
        self.assertEqual(sorted(c["down"]), sorted(["03646", NEVER[0]]), c)
        # cdht progress marks them in its unit table, and names them
        for lang, marks in (("en", {"03646": "down", "03664": "stale",
                                    NEVER[0]: "never"}),
                            ("vi", {"03646": "mất KN", "03664": "cũ",
                                    NEVER[0]: "chưa BC"})):
            p = self.nodes["14"].client("progress", "--year", 2026,
                                        "--depth", 1, "--lang", lang,
                                        role="viewer", env={"COLUMNS": "80"})
            self.assertEqual(p.returncode, 0, p.stderr)
            for uid, mark in marks.items():
                rows = [l for l in p.stdout.splitlines() if uid in l]
                self.assertTrue(any(mark in l for l in rows),
                                "%s: %s not marked %r:\n%s"
                                % (lang, uid, mark, p.stdout))
        # a fresh report is no longer stale
        self.set_population(self.nodes["03664"], self.hm, 2026,
                            gen.population(random.Random(6)))
        c = wait_for(lambda: (lambda c: c if c["stale"] == ["03646"] else
                              None)(self.cov()["coverage"]), 5,
                     "03664 fresh again")
        # without depth there is no coverage (unchanged)
        r = self.nodes["14"].request("GET", "/v1/progress?year=2026",
                                     role="viewer", timeout=10)
        self.assertNotIn("coverage", r.json)
        self.assertNotIn("deadline", r.json)

    def test_deadline(self):
        today = local_today(7 * 60)
        for year in (2021, 2026, 2030):
            d = self.cov(year)["deadline"]
            due = datetime.date(year, 1, 15)
            self.assertEqual(d["date"], due.isoformat(), d)
            self.assertEqual(d["days_left"], (due - today).days, d)
            self.assertEqual(d["passed"], today > due, d)
            cov = self.cov(year)["coverage"]
            # nobody has filed: once the deadline has passed, every unit
            # is late (not filed by it)
            self.assertEqual(cov["deadline"], due.isoformat(), cov)
            self.assertEqual(cov["filed"], {}, cov)
            self.assertEqual(sorted(cov["not_filed"]),
                             sorted(cov["last_report"]), cov)
            self.assertEqual(sorted(cov["late"]),
                             sorted(cov["not_filed"]) if today > due else [],
                             cov)
            self.assertEqual(sorted(d["late"]), sorted(cov["late"]), d)
        doc = self.cov(2026)
        self.assertEqual(doc["timezone"], {
            "name": "+07:00", "utc_offset": "+07:00",
            "utc_offset_minutes": 420}, doc)

    def test_node_query(self):
        doc = self.cov(node="03646")
        self.assertEqual(doc["node"], {"id": "03646", "level": "commune",
                                       "name": "Phường Tô Hiệu"})
        self.assertEqual(doc["ancestors"], [
            {"id": "14", "level": "province", "name": "Tỉnh Sơn La"}])
        exp = self.hm.progress("03646", 2026)
        self.assertEqual(doc["counts"]["assessed"], exp["counts"]["assessed"])
        self.assertEqual(doc["indicators"]["adults"]["numerator"],
                         exp["indicators"]["adults"]["numerator"])
        self.assertEqual(doc["children"], [])
        self.assertEqual(doc["coverage"]["units"], 1, doc["coverage"])
        self.assertEqual(doc["coverage"]["names"],
                         {"03646": "Phường Tô Hiệu"})
        # this node's own id is the plain view
        self.assertEqual(self.cov(node="14")["coverage"]["units"], 4)
        r = self.nodes["14"].request(
            "GET", "/v1/progress?year=2026&node=99999", role="viewer")
        self.assertError(r, 404, "not_found", "node")
        r = self.nodes["14"].request(
            "GET", "/v1/progress?year=2026&node=a%20b", role="viewer")
        self.assertError(r, 400, "invalid_field", "node")


if __name__ == "__main__":
    main()
