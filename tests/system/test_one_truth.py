"""One source of truth (issue 6): the conf, the HTTP input, the wire codec
and `cdht import` apply the same rules (proto/valid.c, proto/csv.c).

- A 30,000-row CSV with one stray quote (Tran 5" Van) on a known line,
  through the real `cdht import`: every other row is imported, and the
  error names that line; the same with a quote that opens a field and never
  closes.  The node's chunk limit is small, so a record swallowing the rest
  of the file would be refused as a whole (413).
- A conf whose [node] name holds a UTF-16 surrogate or an overlong form is
  refused by `cdhtd -n` with file:line and the key `name` (the wire encoder
  refuses such a name, so the node could never report).
- A valid Vietnamese name of 3-byte characters, 128 bytes long, passes -n
  and reaches the parent over CURVE.
"""

import os
import re
import subprocess

from cdhttest.case import NodeTestCase, main
from cdhttest.hier import HierTestCase, wait_for
from cdhttest.node import cdhtd_path, free_port

ROWS = 30000
COLUMNS = ("year,person_id,name,birth_year,group,population,"
           "s1,s2,s3,s4,s5,s6,s7,s8,s9,s10,digital")


def csv_rows(year, prefix, bad_line, bad_name):
    """The CSV text of ROWS data rows (file lines 2..ROWS+1); the row on
    file line bad_line gets the name bad_name written as is.  Some names are
    quoted the RFC way (a comma, a doubled quote) so a stray quote has
    partners to pair with."""
    out = [COLUMNS]
    for i in range(ROWS):
        line = i + 2
        if line == bad_line:
            name = bad_name
        elif i % 97 == 0:
            name = '"Lò Văn ""Bình"", bản Nà %d"' % i
        elif i % 89 == 0:
            name = '"Nguyễn, Thị %d"' % i
        else:
            name = "Trần Văn %d" % i
        out.append("%d,%s%05d,%s,1980,farmer,adult,8,8,8,8,8,8,8,8,8,8,"
                   "skilled" % (year, prefix, i, name))
    return "\n".join(out) + "\n"


class ImportStrayQuote(NodeTestCase):
    def import_file(self, node, year, prefix, bad_line, bad_name, what):
        path = os.path.join(node.dir, "%s.csv" % prefix)
        with open(path, "w", encoding="utf-8") as f:
            f.write(csv_rows(year, prefix, bad_line, bad_name))
        p = node.client("import", path, role="clerk", timeout=240)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, "%s: exit %d (one line rejected):"
                         "\n%s" % (what, p.returncode, out[-3000:]))
        self.assertNotIn("413", out, what)
        # the count is computed here, not read back from the import
        want = ROWS - 1
        self.assertIn("accepted %d, rejected 1" % want, p.stdout,
                      "%s:\n%s" % (what, out[-3000:]))
        lines = [int(x) for x in re.findall(re.escape(path) + r":(\d+):", out)]
        self.assertEqual(lines, [bad_line], "%s: reported lines:\n%s"
                         % (what, out[-3000:]))
        self.assertRegex(out, re.escape(path) + r":%d: .*quote" % bad_line,
                         what)
        r = node.progress(year)
        self.assertStatus(r, 200, what)
        self.assertEqual(r.json["counts"]["assessed"], want,
                         "%s: the node's count" % what)
        # the bad row is not stored, its neighbours are
        bad_pid = "%s%05d" % (prefix, bad_line - 2)
        self.assertEqual(node.get(year, bad_pid).status, 404, what)
        for line in (bad_line - 1, bad_line + 1, ROWS + 1):
            pid = "%s%05d" % (prefix, line - 2)
            self.assertEqual(node.get(year, pid).status, 200,
                             "%s: line %d" % (what, line))

    def test_stray_quote_costs_one_line(self):
        # chunks of 1000 rows are ~75 KB; the rest of the file is 1.3 MB
        n = self.make_node(max_body_kb=512)
        self.import_file(n, 2025, "sq", 12345, 'Tran 5" Van', "stray quote")
        self.import_file(n, 2026, "uq", 20001, '"Tran 5 Van',
                         "unclosed quote")
        self.assertAlive(n)


def conf_bytes(node, name_bytes):
    """node's conf with [node] name replaced by raw bytes; returns (bytes,
    line number of the name key)."""
    node.port = free_port()
    lines = node.conf_text().encode("utf-8").split(b"\n")
    idx = [i for i, l in enumerate(lines) if l.startswith(b"name = ")][0]
    lines[idx] = b"name = " + name_bytes
    return b"\n".join(lines), idx + 1


def check_conf(node, data):
    path = os.path.join(node.dir, "check.ini")
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run([cdhtd_path(), "-n", "-c", path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, cwd=node.dir)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


class ConfNames(NodeTestCase):
    def test_unsendable_names_refused(self):
        n = self.make_node(start=False)
        bad = {
            "surrogate U+D800": b"X\xc3\xa3 \xed\xa0\x80",
            "surrogate U+DFFF": b"\xed\xbf\xbf",
            "2-byte overlong": b"A\xc0\xaf",
            "3-byte overlong": b"A\xe0\x80\xaf",
            "4-byte overlong": b"\xf0\x80\x80\xaf",
            "above U+10FFFF": b"\xf4\x90\x80\x80",
        }
        for what, name in bad.items():
            data, line = conf_bytes(n, name)
            rc, out, err = check_conf(n, data)
            self.assertNotEqual(rc, 0, "%s accepted:\n%s" % (what, out))
            self.assertNotIn("configuration OK", out, what)
            self.assertRegex(err, r"check\.ini:%d: node\.name: " % line,
                             "%s: stderr should name file:line and the key:"
                             "\n%s" % (what, err))
        # the same conf with a good name is OK
        data, _ = conf_bytes(n, "Xã Chiềng Sung".encode())
        rc, out, err = check_conf(n, data)
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration OK", out)


def long_vietnamese_name():
    """A name of exactly 128 bytes (WIRE_MAX_NAME), mostly 3-byte letters."""
    name = "Xã Nậm Ẳng"
    while len((name + " Chiềng").encode()) <= 128:
        name += " Chiềng"
    while len((name + "ề").encode()) <= 128:
        name += "ề"
    name += "x" * (128 - len(name.encode()))
    assert len(name.encode()) == 128
    assert sum(len(c.encode()) == 3 for c in name) > 10
    return name


class VietnameseNameReachesParent(HierTestCase):
    def test_name_reaches_parent(self):
        name = long_vietnamese_name()
        nodes = self.tree([("14", "province", "Tỉnh Sơn La", None),
                           ("04108", "commune", "ASCII name in children",
                            "14")])
        p, c = nodes["14"], nodes["04108"]
        p.start()          # its children file holds the ASCII name
        c.name = name      # the commune's own conf holds the real one
        c.port = free_port()
        rc, out, err = check_conf(c, c.conf_text().encode())
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration OK", out)
        c.start()
        r = c.post({"year": 2026, "person_id": "vn-1", "group": "farmer",
                    "population": "adult", "scores": [8] * 10,
                    "digital": "skilled", "name": name[:60]})
        self.assertStatus(r, 200)

        def reached():
            kids = {x["id"]: x for x in p.nodes_doc()["nodes"]}
            k = kids.get("04108")
            return (k is not None and k.get("name") == name
                    and p.assessed(2026) == 1 and k)

        k = wait_for(reached, 15, "the commune's name and record at the "
                     "province")
        self.assertEqual(k["link"], "up", k)
        self.assertNotIn("refused", c.stderr_text())


if __name__ == "__main__":
    main()
