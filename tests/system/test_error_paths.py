"""Error paths always answer JSON (issue 7).

A message, field name or line that quotes client input (a URL person id or
path, a JSON key or value, jansson's parse error text, a CSV header cell or
cell) may quote any bytes: every reply is a JSON body, with the error shape
{"error": {"code", "message", "field"}} and a 4xx, or a 2xx where the input
is valid; never an empty 500; a batch counts a rejection only with its
error; and the node keeps answering.  Also: more than one Content-Length
header is refused (request smuggling), and a children-file name longer than
a unit name is a conf error naming file:line.
"""

import json
import os
import re
import socket
import subprocess
import time
import urllib.parse

from cdhttest.case import REC, NodeTestCase, assessment, main
from cdhttest.hier import HierTestCase, python_keypair
from cdhttest.node import Session, cdhtd_path, raw_http

YEAR = 2027  # no other test in this file stores anything for it

CSV_COLUMNS = ["year", "person_id", "name", "birth_year", "group",
               "population"] + ["s%d" % i for i in range(1, 11)] + ["digital"]
CSV_GOOD = ["%d" % YEAR, "p", "Nguyễn Văn A", "1980", "farmer", "adult"] + \
    ["8"] * 10 + ["skilled"]
JSON_FIELDS = ["year", "person_id", "name", "birth_year", "group",
               "population", "scores", "digital"]


def good(pid="ok", **kw):
    return assessment(YEAR, pid, REC, **kw)


def nasty_strings():
    """Byte strings that break a careless quote: invalid UTF-8 of every
    kind, overlong forms, surrogates, NUL and controls, characters cut at
    every offset, and 1..300 bytes with a multibyte character or a bad byte
    straddling each buffer a message uses."""
    out = [b"\xff", b"\xfe\xff", b"\x80", b"\xbf\xbf", b"\xc0\xae\xc0\xae",
           b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
           b"\xf8\x88\x80\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf",
           b"\xed\xa0\xbd\xed\xb8\x80", b"\xf4\x90\x80\x80", b"\xf5\x80",
           b"\xeb\x39", b"\xc3\x28", b"\x00", b"a\x00b", b"\x01", b"\x1f",
           b"\x7f", b"\t", b"\n", b"\r\n", b"\x1b[31m", b'"', b"\\", b"'",
           b"\\u0000", b"\\ud800", b",", b"%ff", b'"\\\xe1\xbb\x85',
           "Xã Chiềng Sung".encode(), "😀".encode()]
    for ch in ("ã", "ễ", "😀"):
        e = ch.encode()
        for k in range(1, len(e)):
            out += [e[:k], e[:k] + b"z", b"z" + e[:k]]
    for n in (1, 15, 16, 30, 31, 32, 33, 60, 61, 62, 63, 64, 98, 99, 100,
              126, 127, 128, 159, 160, 200, 254, 255, 256, 297):
        for tail in ("ã".encode(), "ễ".encode(), "😀".encode(), b"\xff"):
            out.append(b"a" * n + tail)
    out += [b"\xff" * 300, "ã".encode() * 150, b"\x01" * 300, b"a" * 300,
            "ễ".encode() * 100]
    return out


def json_str(b):
    """b as the inside of a JSON string: raw bytes, and when b is text also
    its escaped form (so control characters reach the validator)."""
    forms = [b]
    try:
        forms.append(json.dumps(b.decode("utf-8"))[1:-1].encode())
    except UnicodeDecodeError:
        pass
    return forms


class Checker:
    """Sends requests and records every reply that breaks the contract."""

    def __init__(self, tc, node):
        self.tc, self.node = tc, node
        self.s = Session(node, role="admin")
        self.problems = []
        self.count = 0

    def check(self, what, method, path, body=None, content_type=None):
        self.count += 1
        try:
            r = self.s.request(method, path, body, content_type=content_type)
        except Exception as e:  # a dropped connection is a problem too
            self.s.close()
            self.problems.append("%s: %s" % (what, e))
            return None
        p = reply_problem(r)
        if p:
            self.problems.append("%s: %s" % (what, p))
        return r

    def done(self):
        self.s.close()
        self.tc.assertAlive(self.node, "after %d requests" % self.count)
        self.tc.assertGreater(self.count, 5000)
        if self.problems:
            self.tc.fail("%d of %d replies break the contract:\n  %s"
                         % (len(self.problems), self.count,
                            "\n  ".join(self.problems[:40])))


def reply_problem(r):
    """What is wrong with reply r, or None: a JSON body (strict UTF-8) with
    a 4xx and the error shape, or a 2xx (a batch with consistent counts)."""
    if not r.body:
        return "HTTP %d with an empty body" % r.status
    try:
        doc = json.loads(r.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        return "HTTP %d, not JSON (%s): %r" % (r.status, e, r.body[:200])
    if 400 <= r.status < 500:
        err = doc.get("error") if isinstance(doc, dict) else None
        if not isinstance(err, dict) or set(err) != {"code", "message",
                                                       "field"}:
            return "HTTP %d without the error shape: %r" % (r.status, doc)
        if not isinstance(err["code"], str) or \
                not isinstance(err["message"], str) or \
                not (err["field"] is None or isinstance(err["field"], str)):
            return "HTTP %d, error of the wrong types: %r" % (r.status, doc)
        return None
    if 200 <= r.status < 300:
        if isinstance(doc, dict) and "accepted" in doc:
            if doc["rejected"] != len(doc["errors"]) or \
                    doc["accepted"] != len(doc["results"]):
                return "counts differ from the lists: %r" % doc
            for e in doc["errors"]:
                if not isinstance(e.get("message"), str) or "code" not in e \
                        or "field" not in e:
                    return "a batch error without its shape: %r" % e
        return None
    return "HTTP %d: %r" % (r.status, doc)


def csv_body(header, rows):
    return b"\n".join(b",".join(c if isinstance(c, bytes) else c.encode()
                                for c in line)
                      for line in [header] + rows) + b"\n"


class ErrorPathsTest(NodeTestCase):

    @classmethod
    def setUpClass(cls):
        cls.node = cls.make_class_node()

    def tearDown(self):
        self.assertAlive(self.node, "after %s" % self.id())

    def post_json(self, body):
        return self.node.request("POST", "/v1/assessments", body,
                                 role="clerk",
                                 content_type="application/json")

    # -- the inputs the issue lists, each checked exactly ----------------
    def test_url_person_id(self):
        n = self.node
        for pid in ("%ff", "%c0%ae%c0%ae", "%ed%a0%80", "a%00b", "%e1%bb"):
            for m in ("GET", "DELETE"):
                r = n.request(m, "/v1/assessments/2025/" + pid, role="clerk")
                self.assertError(r, 400, "invalid_field", "person_id",
                                 what="%s %s" % (m, pid))

    def test_raw_path(self):
        """The 404 for an unknown path quotes it: raw bytes too."""
        n = self.node
        for path in (b"/\xff\xfe", b"/v1/x\xe1\xbb", b"/" + b"a" * 98 + b"\xc3\xa3",
                     b"/a\x01b"):
            r = raw_http(n.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n")
            self.assertIsNotNone(r, "no answer for %r" % path)
            if r.status == 400 and not r.body.startswith(b"{"):
                continue  # libevent refused the request line itself
            self.assertError(r, 404, "not_found", what="path %r" % path)

    def test_csv_header_invalid_utf8(self):
        body = csv_body(CSV_COLUMNS + [b"\xeb\x39"], [CSV_GOOD + ["1"]])
        err = self.assertError(self.node.post_csv(body), 400, "unknown_field",
                               what="header cell eb 39")
        self.assertIsInstance(err["field"], str)
        self.assertIn("line 1", err["message"])

    def test_json_key_62_plus_multibyte(self):
        a = good("key62")
        a["k" * 62 + "ã"] = 1
        err = self.assertError(self.node.post(a), 400, "unknown_field")
        self.assertTrue(err["field"].startswith("k" * 32), err)
        self.assertEqual(self.node.get(YEAR, "key62").status, 404)

    def test_csv_column_63_plus_multibyte(self):
        body = csv_body(CSV_COLUMNS + ["c" * 63 + "ã"], [CSV_GOOD + ["1"]])
        err = self.assertError(self.node.post_csv(body), 400, "unknown_field")
        self.assertTrue(err["field"].startswith("c" * 32), err)

    def test_json_parse_error_quotes_input(self):
        for body in ('{"a": "\\ễ"}'.encode(), b'{"a": "\\\xe1',
                     b'{"' + "ễ".encode() * 80 + b'\\q"}', b'\xff\xfe{}',
                     b'{"a": \xc3}', b'{"a": ' + "ã".encode() * 100 + b'}'):
            self.assertError(self.post_json(body), 400, "bad_json",
                             what="body %r" % body[:40])
            r = self.node.request("PUT", "/v1/population/%d" % YEAR, body,
                                  role="clerk",
                                  content_type="application/json")
            self.assertError(r, 400, "bad_json",
                             what="population body %r" % body[:40])

    def test_population_unknown_key(self):
        r = self.node.put_population(YEAR, {"k" * 62 + "ã": 1})
        self.assertError(r, 400, "unknown_field")

    def test_csv_year_cell_counted_with_its_error(self):
        row = list(CSV_GOOD)
        row[0] = "2" * 31 + "ã"
        row2 = list(CSV_GOOD)
        row2[1] = "second"
        r = self.node.post_csv(csv_body(CSV_COLUMNS, [row, row2]),
                               dry_run=True)
        self.assertStatus(r, 200)
        doc = r.json
        self.assertEqual(doc["rejected"], 1, doc)
        self.assertEqual(doc["rejected"], len(doc["errors"]), doc)
        self.assertEqual(doc["accepted"], 1, doc)
        e = doc["errors"][0]
        self.assertEqual((e["line"], e["code"], e["field"]),
                         (2, "invalid_field", "year"), doc)
        self.assertIn("year must be an integer", e["message"])

    # -- Content-Length ---------------------------------------------------
    def raw_exchange(self, data, timeout=5.0):
        """Send data on one connection; read until the server closes.
        Returns (bytes read, closed by the server)."""
        s = socket.create_connection(("127.0.0.1", self.node.port),
                                     timeout=timeout)
        buf, closed = b"", False
        try:
            s.sendall(data)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    part = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not part:
                    closed = True
                    break
                buf += part
        finally:
            s.close()
        return buf, closed

    def test_duplicate_content_length(self):
        n = self.node
        for i, (l1, l2, name) in enumerate(
                ((None, 5, "Content-Length"), (5, None, "Content-Length"),
                 (None, None, "Content-Length"),
                 (None, 3, "content-length"))):
            pid = "cl%d" % i
            body = json.dumps(good(pid)).encode()
            # what a proxy framing by the other header would see next
            smuggled = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
            head = ("POST /v1/assessments HTTP/1.1\r\nHost: x\r\n"
                    "Authorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: %d\r\n%s: %d\r\n\r\n"
                    % (n.tokens["clerk"], l1 or len(body), name,
                       l2 or len(body))).encode()
            buf, closed = self.raw_exchange(head + body + smuggled)
            what = "Content-Length %s, %s" % (l1 or len(body), l2 or len(body))
            self.assertTrue(closed, "%s: the connection stayed open" % what)
            self.assertEqual(buf.count(b"HTTP/1.1 "), 1,
                             "%s: want one reply: %r" % (what, buf))
            r = raw_http(n.port, head + body)
            self.assertIsNotNone(r, what)
            self.assertError(r, 400, "bad_request", what=what)
            self.assertIn("content-length", r.json["error"]["message"].lower())
            self.assertEqual(n.get(YEAR, pid).status, 404, "%s: stored" % what)
        # one Content-Length is an ordinary request
        body = json.dumps(good("cl-one")).encode()
        r = raw_http(n.port, ("POST /v1/assessments HTTP/1.1\r\nHost: x\r\n"
                              "Authorization: Bearer %s\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: %d\r\nConnection: close\r\n\r\n"
                              % (n.tokens["clerk"], len(body))).encode()
                     + body)
        self.assertStatus(r, 200, "one Content-Length")
        self.assertStatus(n.get(YEAR, "cl-one"), 200)

    # -- the broad loop -------------------------------------------------
    def test_every_quoted_position(self):
        """Each nasty string in each position that a reply may quote."""
        c = Checker(self, self.node)
        base = json.dumps(good("nasty"), ensure_ascii=False).encode()
        pop_base = b'{"adults": 10'
        for x in nasty_strings():
            q = urllib.parse.quote_from_bytes(x, safe="")
            # the URL: person id, year, an unknown path
            c.check("GET pid %r" % x, "GET",
                    "/v1/assessments/%d/%s" % (YEAR, q))
            c.check("DELETE pid %r" % x, "DELETE",
                    "/v1/assessments/%d/%s" % (YEAR, q))
            c.check("GET year %r" % x, "GET", "/v1/assessments/%s/p" % q)
            c.check("GET population %r" % x, "GET", "/v1/population/%s" % q)
            c.check("GET path %r" % x, "GET", "/v1/" + q)
            c.check("GET progress %r" % x, "GET", "/v1/progress?year=" + q)
            for s in json_str(x):
                # a JSON key, in an assessment and in a population
                c.check("JSON key %r" % s, "POST", "/v1/assessments",
                        base[:-1] + b', "' + s + b'": 1}', "application/json")
                c.check("population key %r" % s, "PUT",
                        "/v1/population/%d" % YEAR,
                        pop_base + b', "' + s + b'": 1}', "application/json")
                # a JSON value of each field, as a string
                for f in JSON_FIELDS:
                    a = good("nasty-" + f)
                    a[f] = "\x00MARK\x00"
                    body = json.dumps(a, ensure_ascii=False).encode() \
                        .replace(b"\\u0000MARK\\u0000", s)
                    c.check("JSON %s = \"%r\"" % (f, s), "POST",
                            "/v1/assessments", body, "application/json")
                a = good("nasty-score")
                a["scores"] = [8] * 9 + ["\x00MARK\x00"]
                body = json.dumps(a).encode().replace(b"\\u0000MARK\\u0000", s)
                c.check("JSON scores[9] = \"%r\"" % s, "POST",
                        "/v1/assessments", body, "application/json")
                # and in an array: the batch path
                c.check("JSON [key %r]" % s, "POST", "/v1/assessments",
                        b"[" + base[:-1] + b', "' + s + b'": 1}]',
                        "application/json")
            # a raw, unquoted JSON value: a parse error quoting it
            c.check("JSON raw value %r" % x, "POST", "/v1/assessments",
                    base.replace(b'"year": %d' % YEAR, b'"year": ' + x),
                    "application/json")
            # a CSV header cell: an extra one, and in place of a column
            c.check("CSV header cell %r" % x, "POST", "/v1/assessments",
                    csv_body(CSV_COLUMNS + [x], [CSV_GOOD + ["1"]]), "text/csv")
            c.check("CSV header first %r" % x, "POST", "/v1/assessments",
                    csv_body([x] + CSV_COLUMNS[1:], [CSV_GOOD]), "text/csv")
            # a CSV cell of each column
            for i, col in enumerate(CSV_COLUMNS):
                row = list(CSV_GOOD)
                row[1] = "nasty-csv-" + col
                row[i] = x
                c.check("CSV %s = %r" % (col, x), "POST",
                        "/v1/assessments?dry_run=1",
                        csv_body(CSV_COLUMNS, [row]), "text/csv")
        c.done()


class ChildrenNamesTest(HierTestCase):
    """Children-file names: a unit name (at most 128 bytes) is kept whole;
    a longer one is a conf error naming the file and line."""

    def test_names(self):
        long_ok = "Huyện " + "ề" * 38 + "abcdef"  # 128 bytes
        self.assertEqual(len(long_ok.encode()), 128)
        d = self.make_hier("district", "1401", "Huyện Thử")
        pub1, _ = python_keypair()
        d.extra_children.append(("04101", pub1, long_ok))
        d.start()
        nodes = {x["id"]: x for x in d.nodes_doc()["nodes"]}
        self.assertIn("04101", nodes, nodes)
        self.assertEqual(nodes["04101"]["name"], long_ok)
        d.stop()
        # 143 bytes, the last character straddling byte 128
        too_long = "a" * 127 + "ễ" + "b" * 13
        self.assertEqual(len(too_long.encode()), 143)
        pub2, _ = python_keypair()
        d.extra_children.append(("04102", pub2, too_long))
        with open(d.conf_path, "w") as f:
            f.write(d.conf_text())
        p = subprocess.run([cdhtd_path(), "-n", "-c", d.conf_path],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=15)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, err)
        # line 1 is the harness's comment, line 2 the good child
        cpath = os.path.join(d.dir, "children")
        self.assertRegex(err, re.escape(cpath) + r":3: .*04102", err)


if __name__ == "__main__":
    main()
