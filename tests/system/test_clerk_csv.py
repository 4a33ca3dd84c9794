"""The clerks' side of cdht: messages in Vietnamese by default and English
with --lang en or LANG=en..., the CSV as Excel writes it (';' separator,
BOM, CRLF, Vietnamese labels of groups, populations and digital levels),
a repeated (year, person_id) refused on its later line by cdht import and
by the node, and cdht template's file read back by the node."""

import os

from cdhttest import gen
from cdhttest.case import REC, NodeTestCase, assessment, main
from cdhttest.model import Model

VI = {"LANG": "vi_VN.UTF-8"}
HEADER = ["year", "person_id", "name", "birth_year", "group", "population",
          "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10",
          "digital"]


def row(year, pid, group, population, digital, scores=REC, name=""):
    return [str(year), pid, name, "", group, population] + \
        [str(s) for s in scores] + [digital]


def excel(rows, sep=";"):
    """What Excel writes in a decimal-comma locale: BOM, sep, CRLF."""
    def field(v):
        return '"%s"' % v if sep in v else v
    lines = [sep.join(field(v) for v in r) for r in [HEADER] + rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


class ClerkCsvTest(NodeTestCase):
    def write(self, n, name, data):
        path = os.path.join(n.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_semicolons_and_labels(self):
        n = self.make_node()
        m = Model()
        rows = [row(2026, "vi-1", "nông dân", "người lớn", "có kỹ năng số"),
                row(2026, "vi-2", "Công nhân", "người lớn", "thành thạo kĩ năng số"),
                row(2026, "vi-3", "công chức, viên chức", "người lớn", "không"),
                row(2026, "vi-4", "doanh nhân", "người lớn", "skilled"),
                row(2026, "vi-5", "cán bộ quản lý", "adult", "chưa có",
                    name="Lò Thị Ánh")]
        codes = [("farmer", "skilled"), ("worker", "proficient"),
                 ("official", "none"), ("business", "skilled"),
                 ("manager", "none")]
        path = self.write(n, "xa.csv", excel(rows))
        p = n.client("import", path, role="clerk", env=VI)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("dấu phân cách là ';'", p.stderr)
        self.assertIn("đã nhận 5, bị từ chối 0", p.stdout)
        for i, (g, d) in enumerate(codes):
            m.submit(assessment(2026, "vi-%d" % (i + 1), REC, group=g,
                                digital=d))
        self.assertProgress(n, m, [2026])
        rec = n.get(2026, "vi-3").json
        self.assertEqual((rec["group"], rec["digital"]), ("official", "none"))
        # the node reads ';' itself too (curl, a browser upload)
        r = n.post_csv(excel([row(2025, "x", "nông dân", "người lớn",
                                  "không")]).decode("utf-8"))
        self.assertEqual(r.json["accepted"], 1, r)
        m.submit(assessment(2025, "x", REC, digital="none"))
        self.assertProgress(n, m, [2025, 2026])
        # an unknown label is still refused, naming its column
        r = n.post_csv(excel([row(2025, "y", "thợ mộc", "người lớn",
                                  "không")]).decode("utf-8"))
        self.assertEqual(r.json["errors"][0]["field"], "group", r)

    def test_repeated_rows_in_a_file(self):
        n = self.make_node()
        rows = [row(2026, "a", "farmer", "adult", "skilled"),
                row(2026, "b", "farmer", "adult", "skilled"),
                row(2026, "a", "worker", "adult", "none", scores=[7] * 10),
                row(2025, "a", "worker", "adult", "none")]
        # more than one chunk of the client apart, too
        rows += [row(2024, "f%d" % i, "farmer", "adult", "none")
                 for i in range(1100)]
        rows.append(row(2026, "b", "farmer", "adult", "none"))
        path = self.write(n, "dup.csv", excel(rows, sep=","))
        p = n.client("import", path, role="clerk")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("dup.csv:4: duplicate_row", p.stderr)
        self.assertIn("line 2", p.stderr)
        self.assertIn("dup.csv:%d: duplicate_row" % (len(rows) + 1), p.stderr)
        self.assertIn("accepted 1103, rejected 2", p.stdout)
        rec = n.get(2026, "a").json
        self.assertEqual(rec["group"], "farmer")  # the first line won
        self.assertEqual(n.get(2026, "b").json["digital"], "skilled")

    def test_messages_vi_and_en(self):
        n = self.make_node()
        bad = ["submit", "--year", 2026, "--person", "p", "--group",
               "farmer", "--population", "adult", "--scores",
               "8,8,8,8,8,8,8,8,8,11", "--digital", "none"]
        p = n.client(*bad, role="clerk", env=VI)
        self.assertEqual(p.returncode, 1)
        self.assertIn("invalid_field: giá trị không hợp lệ", p.stderr)
        self.assertIn("(trường scores[9])", p.stderr)
        p = n.client("--lang", "en", *bad, role="clerk", env=VI)
        self.assertIn("invalid_field: scores[9] must be", p.stderr)
        self.assertIn("(field scores[9])", p.stderr)
        p = n.client(*bad, "--lang", "en", role="clerk", env=VI)
        self.assertIn("(field scores[9])", p.stderr)
        p = n.client(*bad, role="clerk", env={"LC_ALL": "en_GB.UTF-8"})
        self.assertIn("(field scores[9])", p.stderr)
        p = n.client("withdraw", 2026, "nobody", role="clerk", env=VI)
        self.assertIn("not_found: không tìm thấy", p.stderr)
        p = n.client("population", "show", 2026, role="viewer", env=VI)
        self.assertEqual(p.returncode, 3)
        self.assertIn("forbidden: mã truy cập không có quyền này", p.stderr)
        p = n.client("progress", "--lang", "xx", env=VI)
        self.assertEqual(p.returncode, 2)
        # what a clerk reads after a write, in both languages
        good = ["submit", "--year", 2026, "--person", "p", "--group",
                "farmer", "--population", "adult", "--scores",
                "9,9,9,9,9,9,9,9,9,9", "--digital", "none"]
        p = n.client(*good, role="clerk", env=VI)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2026 p: tổng điểm 90, đạt danh hiệu có", p.stdout)
        p = n.client(*good, "--lang", "en", role="clerk", env=VI)
        self.assertIn("2026 p: total 90, recognized yes", p.stdout)
        p = n.client("withdraw", 2026, "p", role="clerk", env=VI)
        self.assertIn("đã rút: 2026 p", p.stdout)

    def test_template_reads_back(self):
        n = self.make_node()
        for sep in (",", ";"):
            out = os.path.join(n.dir, "mau%s.csv" % (sep == ";"))
            p = n.client("template", "--separator", sep, out, role=None)
            self.assertEqual(p.returncode, 0, p.stderr)
            data = open(out, "rb").read()
            self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
            self.assertEqual(data.count(b"\r\n"), 2)
            self.assertIn("nông dân", data.decode("utf-8"))
            p = n.client("import", "--dry-run", out, role="clerk")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("accepted 1, rejected 0", p.stdout)


if __name__ == "__main__":
    main()
