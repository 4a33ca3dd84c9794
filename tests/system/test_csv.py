"""CSV submissions over HTTP: any column order, optional columns, quoting,
CRLF; bad lines reported with their line (header = line 1) while good lines
are stored; header errors reject the whole upload; dry_run stores nothing."""

import random

from cdhttest import gen, model
from cdhttest.case import REC, NodeTestCase, assessment, main
from cdhttest.model import Model


class CsvTest(NodeTestCase):

    def post_and_check(self, n, m, text, items, dry_run=False,
                       content_type="text/csv"):
        """items[i] is data line i+2: an assessment dict (must be accepted)
        or a (code|None, field-prefix|None) tuple (must be rejected)."""
        r = n.request("POST", "/v1/assessments" + ("?dry_run=1" if dry_run else ""),
                      text, role="clerk", content_type=content_type)
        self.assertStatus(r, 200, "CSV upload")
        doc = r.json
        good = {i + 2: a for i, a in enumerate(items) if isinstance(a, dict)}
        bad = {i + 2: e for i, e in enumerate(items) if isinstance(e, tuple)}
        self.assertEqual((doc.get("accepted"), doc.get("rejected")),
                         (len(good), len(bad)), r)
        got_lines = [x.get("line") for x in doc.get("results", [])]
        self.assertEqual(sorted(got_lines), sorted(good), "result lines: %r" % r)
        for x in doc["results"]:
            a = good[x["line"]]
            self.assertEqual((x.get("year"), x.get("person_id")),
                             (a["year"], a["person_id"]), x)
            total, rec = model.score(a["scores"])
            self.assertEqual(x.get("total"), total, x)
            self.assertIs(x.get("recognized"), rec, x)
        errs = {e.get("line"): e for e in doc.get("errors", [])}
        self.assertEqual(sorted(errs), sorted(bad), "error lines: %r" % r)
        for line, (code, field) in bad.items():
            e = errs[line]
            self.assertIsInstance(e.get("message"), str, e)
            self.assertIn("code", e)
            self.assertIn("field", e)
            if code is not None:
                self.assertEqual(e.get("code"), code, "line %d: %r" % (line, e))
            if field is not None:
                f = e.get("field")
                ok = isinstance(f, str) and any(f.startswith(p)
                                                for p in field.split("|"))
                self.assertTrue(ok, "line %d: field should be %s: %r"
                                % (line, field, e))
        if not dry_run:
            for line in sorted(good):
                m.submit(good[line])
        return doc

    def test_any_column_order_quoting_crlf(self):
        n = self.make_node()
        m = Model()
        rng = random.Random(11)
        items = gen.assessments(rng, 60, [2025, 2026])
        # names and ids that need quoting
        items.append(assessment(2026, "a,b", REC, name='Lò Văn "Bình", bản Nà'))
        items.append(assessment(2026, 'q"uote', REC, name="Cầm Thị Ánh"))
        for crlf, cols in ((True, gen.shuffled_columns(rng)),
                           (False, gen.shuffled_columns(rng))):
            text = gen.to_csv(items, cols, crlf=crlf)
            self.post_and_check(n, m, text, items)
        for a in items:
            self.assertRecord(n.get(a["year"], a["person_id"]), m,
                              a["year"], a["person_id"])
        self.assertProgress(n, m, [2025, 2026])

    def test_optional_columns(self):
        n = self.make_node()
        m = Model()
        rng = random.Random(12)
        items = [dict(a) for a in gen.assessments(rng, 20, [2026])]
        for a in items:
            a.pop("name", None)
            a.pop("birth_year", None)
        text = gen.to_csv(items, gen.shuffled_columns(rng, drop_optional=True))
        self.post_and_check(n, m, text, items)
        # present but empty
        items2 = [dict(a, person_id=a["person_id"] + "-e") for a in items]
        self.post_and_check(n, m, gen.to_csv(items2), items2)
        for a in items + items2:
            self.assertRecord(n.get(2026, a["person_id"]), m, 2026,
                              a["person_id"])
        self.assertProgress(n, m, [2026])

    def test_bad_lines(self):
        n = self.make_node()
        m = Model()
        cols = gen.CSV_COLUMNS

        def row(**over):
            a = {"year": 2026, "person_id": "x", "name": "", "birth_year": "",
                 "group": "farmer", "population": "adult", "digital": "none"}
            for i in range(1, 11):
                a["s%d" % i] = 8
            a.update(over)
            return [a[c] for c in cols]

        rows, items = [], []

        def good(pid, scores=REC, **kw):
            a = assessment(2026, pid, scores, **kw)
            rows.append(a)
            items.append(a)

        def bad(cells, code, field):
            rows.append(cells)
            items.append((code, field))

        good("g1")
        bad(row(person_id="b-few")[:-3], None, None)          # too few cells
        good("g2", [10] * 9 + [4], group="worker")
        bad(row(person_id="b-many") + ["extra"], None, None)  # too many cells
        bad(row(person_id="b-s3", s3="abc"), "invalid_field", "s3|scores")
        bad(row(person_id="b-s5", s5=11), "invalid_field", "s5|scores")
        bad(row(person_id="b-s7", s7=0), "invalid_field", "s7|scores")
        bad(row(person_id="b-s9", s9="8.5"), "invalid_field", "s9|scores")
        good("g3", [9] * 10, population="staff", digital="proficient")
        bad(row(person_id="b-year", year=2035), "invalid_field", "year")
        bad(row(person_id="b-year2", year="20x6"), "invalid_field", "year")
        bad(row(person_id="b-group", group="teacher"), "invalid_field", "group")
        bad(row(person_id="b-pop", population="adults"), "invalid_field",
            "population")
        bad(row(person_id="b-dig", digital="expert"), "invalid_field", "digital")
        bad(row(person_id="b-dig2", digital=""), None, "digital")
        bad(row(person_id=""), None, "person_id")
        bad(row(person_id="b-by", birth_year="19x0"), "invalid_field",
            "birth_year")
        bad(row(person_id="b-by2", birth_year=2027), "invalid_field",
            "birth_year")
        bad(row(person_id="b-name", name="n" * 201), "invalid_field", "name")
        good("g4", LOW_SCORES, group="business", digital="skilled")
        bad(row(person_id="b-s1", s1=""), None, "s1|scores")
        good("g5", name="Vì Thị Yến, bản Mòng", birth_year=1990)
        text = gen.to_csv(rows, cols)
        self.post_and_check(n, m, text, items)
        for p in ["g%d" % i for i in range(1, 6)] + [
                "b-few", "b-many", "b-s3", "b-s5", "b-s7", "b-s9", "b-year",
                "b-year2", "b-group", "b-pop", "b-dig", "b-dig2", "b-by",
                "b-by2", "b-name", "b-s1"]:
            self.assertRecord(n.get(2026, p), m, 2026, p)
        self.assertProgress(n, m, [2026])
        self.assertAlive(n)

    def test_header_errors(self):
        n = self.make_node()
        line = "2026,hx,,,farmer,adult,8,8,8,8,8,8,8,8,8,8,none\n"
        full = ",".join(gen.CSV_COLUMNS) + "\n"
        headers = {
            "missing s10": full.replace(",s10", ""),
            "missing digital": full.replace(",digital", ""),
            "missing year": full.replace("year,", "", 1),
            "unknown column": full.replace("\n", ",colour\n"),
            "duplicate column": full.replace("s2,", "s1,"),
        }
        for what, head in headers.items():
            r = n.post_csv(head + line)
            self.assertError(r, 400, what=what)
            self.assertEqual(n.get(2026, "hx").status, 404,
                             "%s: a line was stored" % what)
        r = n.post_csv("")
        self.assertError(r, 400, what="empty CSV")
        self.assertAlive(n)

    def test_header_only(self):
        n = self.make_node()
        r = n.post_csv(",".join(gen.CSV_COLUMNS) + "\n")
        self.assertStatus(r, 200, "header only")
        self.assertEqual((r.json.get("accepted"), r.json.get("rejected")),
                         (0, 0), r)

    def test_dry_run(self):
        n = self.make_node()
        m = Model()
        items = gen.assessments(random.Random(13), 30, [2026])
        text = gen.to_csv(items)
        self.post_and_check(n, m, text, items, dry_run=True)
        for a in items:
            self.assertEqual(n.get(2026, a["person_id"]).status, 404,
                             "dry run stored %s" % a["person_id"])
        self.assertProgress(n, m, [2026])

    def test_counts_only(self):
        """?results=0 (what cdht import asks): the counts and the errors,
        no result per line; every accepted row is stored all the same."""
        n = self.make_node()
        m = Model()
        items = gen.assessments(random.Random(21), 40, [2026])
        bad = dict(items[3], scores=[11] * 10)
        text = gen.to_csv(items + [bad])
        r = n.request("POST", "/v1/assessments?results=0", text,
                      role="clerk", content_type="text/csv")
        self.assertStatus(r, 200, "counts-only upload")
        self.assertEqual((r.json["accepted"], r.json["rejected"]),
                         (len(items), 1), r)
        self.assertEqual(r.json["results"], [], r)
        self.assertEqual([e["line"] for e in r.json["errors"]],
                         [len(items) + 2], r)
        for a in items:
            m.submit(a)
        self.assertProgress(n, m, [2026])
        self.assertRecord(n.get(2026, items[0]["person_id"]), m, 2026,
                          items[0]["person_id"])

    def test_repeat_within_one_file(self):
        """A repeated (year, person_id) is an error on the later line; the
        earlier one is stored (it used to replace it silently)."""
        n = self.make_node()
        m = Model()
        items = [assessment(2026, "same", REC),
                 assessment(2026, "other", REC),
                 assessment(2026, "same", LOW_SCORES, group="manager")]
        r = n.post_csv(gen.to_csv(items))
        self.assertStatus(r, 200)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (2, 1))
        err = r.json["errors"][0]
        self.assertEqual((err["line"], err["code"], err["field"]),
                         (4, "duplicate_row", "person_id"))
        self.assertIn("line 2", err["message"])
        for a in items[:2]:
            m.submit(a)
        self.assertRecord(n.get(2026, "same"), m, 2026, "same")
        self.assertProgress(n, m, [2026])

    def test_charset_parameter(self):
        n = self.make_node()
        m = Model()
        items = [assessment(2026, "cs", REC, name="Quàng Văn Ơn")]
        self.post_and_check(n, m, gen.to_csv(items), items,
                            content_type="text/csv; charset=utf-8")
        self.assertRecord(n.get(2026, "cs"), m, 2026, "cs")


LOW_SCORES = [7] * 10


if __name__ == "__main__":
    main()
