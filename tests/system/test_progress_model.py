"""The acceptance test: a few thousand random assessments (fixed seed) sent
through every channel (single JSON, JSON arrays, CSV over HTTP, `cdht
import`), then replaced and withdrawn in part, plus denominators; GET
/v1/progress for every year must equal the independent model to the person,
and every record must read back as the model says."""

import os
import random

from cdhttest import gen, model
from cdhttest.case import NodeTestCase, main, record_diff
from cdhttest.model import Model
from cdhttest.node import Session

SEED = int(os.environ.get("CDHT_SEED", "20261121"))
YEARS = range(2021, 2027)
TARGETS = {"adults": (45, 65), "families": (75, 80), "units": (85, 95)}


class ProgressModelTest(NodeTestCase):

    def send(self, n, m, items, channel, rng, tmpdir, counter):
        """Send items through one channel; check the node's per-item answer
        and update the model with what it accepted (all of them, they are
        valid).  Bad items are mixed into arrays and CSV to prove they are
        left out."""
        if channel == "single":
            for a in items:
                r = n.post(a)
                self.assertStatus(r, 200, "single %s/%s" % (a["year"], a["person_id"]))
                self.assertEqual(r.json.get("total"), sum(a["scores"]), r)
                m.submit(a)
            return
        bad = dict(items[0], person_id="bad-%d" % counter, scores=[8] * 9)
        if channel == "array":
            body = list(items)
            pos = rng.randrange(len(body) + 1)
            body.insert(pos, bad)
            r = n.post(body)
            self.assertStatus(r, 200, "array")
            doc = r.json
            self.assertEqual((doc.get("accepted"), doc.get("rejected")),
                             (len(items), 1), "array: %r" % r)
            self.assertEqual([e.get("index") for e in doc["errors"]], [pos])
            for x in doc["results"]:
                a = body[x["index"]]
                self.assertEqual((x.get("year"), x.get("person_id"),
                                  x.get("total")),
                                 (a["year"], a["person_id"], sum(a["scores"])))
            for a in items:
                m.submit(a)
            return
        rows = list(items)
        pos = rng.randrange(len(rows) + 1)
        rows.insert(pos, dict(bad, scores=[8] * 9 + [11]))
        text = gen.to_csv(rows, gen.shuffled_columns(rng),
                          crlf=rng.random() < 0.5)
        if channel == "csv":
            r = n.post_csv(text)
            self.assertStatus(r, 200, "csv")
            doc = r.json
            self.assertEqual((doc.get("accepted"), doc.get("rejected")),
                             (len(items), 1), "csv: %r" % r)
            self.assertEqual([e.get("line") for e in doc["errors"]], [pos + 2])
            for x in doc["results"]:
                a = rows[x["line"] - 2]
                self.assertEqual((x.get("year"), x.get("person_id"),
                                  x.get("total")),
                                 (a["year"], a["person_id"], sum(a["scores"])))
        else:  # cdht import
            path = os.path.join(tmpdir, "import-%d.csv" % counter)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            p = n.client("import", path, role="clerk")
            self.assertEqual(p.returncode, 1, "cdht import of a file with one "
                             "bad line: exit code\nstdout: %s\nstderr: %s"
                             % (p.stdout[-2000:], p.stderr[-2000:]))
            self.assertIn("%s:%d:" % (path, pos + 2), p.stdout + p.stderr)
        for a in items:
            m.submit(a)

    def test_random_assessments_match_model(self):
        rng = random.Random(SEED)
        n = self.make_node(targets=TARGETS)
        m = Model(TARGETS)
        initial = gen.assessments(rng, 650, YEARS, star_share=0.12)
        rng.shuffle(initial)
        self.assertGreater(len(initial), 2500)
        tmpdir = n.dir

        # 1. every assessment once, through the four channels
        plan = [("single", 150), ("array", 1300), ("csv", 1000),
                ("import", len(initial))]
        pos, counter = 0, 0
        for channel, upto in plan:
            chunk = {"single": 1, "array": 250, "csv": 400, "import": 10 ** 6}[channel]
            while pos < min(upto, len(initial)):
                items = initial[pos:min(pos + chunk, upto, len(initial))]
                self.send(n, m, items, channel, rng, tmpdir, counter)
                pos += len(items)
                counter += 1
        self.assertEqual(len(m.records), len(initial))
        self.assertProgress(n, m, YEARS)

        # 2. replacements (new scores, group, digital...) of ~10%
        keys = sorted(m.records)
        repl = []
        for k in rng.sample(keys, len(keys) // 10):
            a = dict(m.records[k])
            a["scores"] = gen.scores_random(rng)
            a["digital"] = rng.choice(model.DIGITAL)
            if rng.random() < 0.3:
                a["group"] = rng.choice(model.GROUPS)
            if rng.random() < 0.2:
                a["population"] = rng.choice(model.POPULATIONS)
            repl.append(a)
        third = len(repl) // 3
        self.send(n, m, repl[:40], "single", rng, tmpdir, counter + 1)
        self.send(n, m, repl[40:third], "array", rng, tmpdir, counter + 2)
        self.send(n, m, repl[third:2 * third], "csv", rng, tmpdir, counter + 3)
        self.send(n, m, repl[2 * third:], "import", rng, tmpdir, counter + 4)

        # 3. withdrawals: random ones, and early years of outstanding people
        stars = sorted({pid for (y, pid) in m.records
                        if m.outstanding(2026, pid) or m.outstanding(2025, pid)})
        self.assertGreater(len(stars), 20, "the data has too few outstanding people")
        gone = set(rng.sample(sorted(m.records), 150))
        for pid in rng.sample(stars, 12):
            gone.add((rng.choice([2022, 2023, 2024]), pid))
        gone &= set(m.records)
        for i, (y, pid) in enumerate(sorted(gone)):
            if i % 10 == 0:
                p = n.client("withdraw", y, pid, role="clerk")
                self.assertEqual(p.returncode, 0, "cdht withdraw %d %s: %s%s"
                                 % (y, pid, p.stdout, p.stderr))
            else:
                r = n.delete(y, pid)
                self.assertStatus(r, 200, "DELETE %d/%s" % (y, pid))
            m.withdraw(y, pid)
        # some come back
        back = [a for a in repl if (a["year"], a["person_id"]) in gone][:15]
        self.send(n, m, back, "single", rng, tmpdir, counter + 5)

        # 4. denominators: every year but 2022, one set twice
        for y in YEARS:
            if y == 2022:
                continue
            p = gen.population(rng)
            r = n.put_population(y, p)
            self.assertStatus(r, 200, "population %d" % y)
            m.set_population(y, p)
        p = gen.population(rng)
        self.assertStatus(n.put_population(2026, p), 200)
        m.set_population(2026, p)

        # 5. the comparison, year by year, to the person
        self.assertProgress(n, m, list(YEARS) + [2027])
        for y in YEARS:
            c = m.counts(y)
            self.assertGreater(c["assessed"], 100)
            if y >= 2025:
                self.assertGreater(c["outstanding"], 5,
                                   "model sanity: outstanding in %d" % y)
        # every record ever touched reads back as the model says
        touched = set(k for k in keys) | gone
        s = Session(n)
        try:
            bad = []
            for (y, pid) in sorted(touched):
                r = s.get(y, pid)
                exp = m.expected_record(y, pid)
                if exp is None:
                    if r.status != 404:
                        bad.append("%d/%s: want 404, got %r" % (y, pid, r))
                    continue
                if r.status != 200:
                    bad.append("%d/%s: want 200, got %r" % (y, pid, r))
                    continue
                d = record_diff(r.json, exp)
                if d:
                    bad.append("%d/%s: %s" % (y, pid, "; ".join(d)))
        finally:
            s.close()
        self.assertEqual(bad[:30], [], "%d records differ" % len(bad))
        # the viewer, the clerk and the admin all see the same
        for role in ("clerk", "admin"):
            self.assertProgress(n, m, [2025, 2026], role=role)


    def test_random_walk_all_years(self):
        """Hundreds of small random changes (submit, replace, withdraw,
        arrays holding the same person in several years, population) on a
        small key space over every year 2021-2030, so that the node's
        incremental counters, and outstanding chains up to 2030, are
        compared with the model after many different change sequences."""
        rng = random.Random(SEED + 1)
        n = self.make_node()
        m = Model()
        persons = ["w%02d" % i for i in range(14)]
        years = list(range(2021, 2031))
        attrs = {p: (rng.choice(model.GROUPS), rng.choice(model.POPULATIONS))
                 for p in persons}

        def item(y, p):
            g, pop = attrs[p]
            if rng.random() < 0.15:  # move them to another group/population
                g, pop = rng.choice(model.GROUPS), rng.choice(model.POPULATIONS)
            sc = (gen.scores_recognized(rng) if rng.random() < 0.75
                  else gen.scores_random(rng))
            return {"year": y, "person_id": p, "group": g, "population": pop,
                    "scores": sc, "digital": rng.choice(model.DIGITAL)}

        checks = 0
        for step in range(700):
            r = rng.random()
            if r < 0.45:
                a = item(rng.choice(years), rng.choice(persons))
                self.assertStatus(n.post(a), 200, "step %d" % step)
                m.submit(a)
            elif r < 0.65:
                # one person, a run of consecutive years, in one array
                p = rng.choice(persons)
                y0 = rng.choice(years)
                body = [item(y, p) for y in range(y0, min(2030, y0 + rng.randint(1, 6)) + 1)]
                rr = n.post(body)
                self.assertStatus(rr, 200, "step %d" % step)
                self.assertEqual(rr.json.get("accepted"), len(body), rr)
                for a in body:
                    m.submit(a)
            elif r < 0.72:
                # a dry run of anything changes nothing
                p = rng.choice(persons)
                y0 = rng.choice(years)
                body = [item(y, p) for y in range(y0, min(2030, y0 + 4) + 1)]
                if rng.random() < 0.5:
                    rr = n.post(body, dry_run=True)
                else:
                    rr = n.post_csv(gen.to_csv(body), dry_run=True)
                self.assertStatus(rr, 200, "dry run, step %d" % step)
                self.assertEqual(rr.json.get("accepted"), len(body), rr)
            elif r < 0.78:
                # one line per (year, person): a repeat in one file is an
                # error on its later line (test_clerk_csv.py)
                body = list({(a["year"], a["person_id"]): a for a in (
                    item(rng.choice(years), rng.choice(persons))
                    for _ in range(rng.randint(1, 8)))}.values())
                rr = n.post_csv(gen.to_csv(body, gen.shuffled_columns(rng)))
                self.assertStatus(rr, 200, "csv, step %d" % step)
                self.assertEqual(rr.json.get("accepted"), len(body), rr)
                for a in body:
                    m.submit(a)
            elif r < 0.93:
                present = sorted(m.records)
                if not present:
                    continue
                y, p = rng.choice(present)
                self.assertStatus(n.delete(y, p), 200, "step %d" % step)
                m.withdraw(y, p)
            else:
                y = rng.choice(years)
                pop = gen.population(rng)
                self.assertStatus(n.put_population(y, pop), 200)
                m.set_population(y, pop)
            if step % 25 == 24:
                self.assertProgress(n, m, years)
                checks += 1
        self.assertProgress(n, m, years)
        s = Session(n)
        try:
            for y in years:
                for p in persons:
                    self.assertRecord(s.get(y, p), m, y, p, "random walk")
        finally:
            s.close()
        self.assertGreater(sum(m.counts(y)["outstanding"] for y in years), 0,
                           "model sanity: the walk made nobody outstanding")
        # the counters survive a restart
        n.restart()
        self.assertProgress(n, m, years)


if __name__ == "__main__":
    main()
