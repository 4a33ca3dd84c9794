"""The manuals, --help and --version against the code, so they cannot drift.

- Every key of daemon/conf.c's options[] table has an entry (".B key" after
  ".TP") under its section (".SS [section]") in daemon/cdhtd.conf.5, and so
  has every [targets] key (daemon/rules.c's rules_indicator_names[]); no
  entry names a key the code does not have.
- Every command of client/main.c's cmds[] table, and "help", has a ".SS"
  entry in client/cdht.1, and the page has no other.
- `cdhtd --version` and `cdht --version` print "NAME VERSION" with the same
  VERSION, the project's (CMakeLists.txt), which every manual's .TH line
  and debian/changelog's first entry carry too; /metrics reports it as
  cdht_build_info{version="VERSION"} 1.
- `cdhtd --help` exits 0 and lists every option; a bad option exits 2.
- Each page renders without warnings when man(1) is installed.
"""

import os
import re
import shutil
import subprocess
import unittest

from cdhttest.case import NodeTestCase, main
from cdhttest.node import cdht_path, cdhtd_path

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def man_entries(text):
    """{section heading: [tagged names]} of a page: '.SS X' opens X; a
    '.TP' followed by '.B name' is an entry of the current X."""
    out, cur, lines = {}, None, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SS "):
            cur = line[4:].strip()
            out.setdefault(cur, [])
        elif line.startswith(".SH "):
            cur = None
        elif line == ".TP" and cur is not None and i + 1 < len(lines):
            m = re.match(r"\.B (\S+)$", lines[i + 1])
            if m:
                out[cur].append(m.group(1))
    return out


def project_version():
    m = re.search(r"project\(cdht VERSION (\S+)", read("CMakeLists.txt"))
    return m.group(1)


class Manuals(NodeTestCase):
    def test_conf_page_covers_the_option_table(self):
        table = read("daemon/conf.c")
        body = table[table.index("options[] = {"):]
        body = body[:body.index("};")]
        want = {}
        for sec, key in re.findall(r'\{"(\w+)",\s*"(\w+)",', body):
            want.setdefault("[%s]" % sec, []).append(key)
        self.assertGreaterEqual(sum(map(len, want.values())), 17)
        rules = read("daemon/rules.c")
        m = re.search(r"rules_indicator_names\[IND_COUNT\] = \{(.*?)\};",
                      rules, re.S)
        want["[targets]"] = re.findall(r'"(\w+)"', m.group(1))
        self.assertEqual(len(want["[targets]"]), 9)
        got = man_entries(read("daemon/cdhtd.conf.5"))
        for sec, keys in want.items():
            self.assertIn(sec, got, "cdhtd.conf.5: no .SS %s" % sec)
            missing = [k for k in keys if k not in got[sec]]
            extra = [k for k in got[sec] if k not in keys]
            self.assertEqual(missing, [], "cdhtd.conf.5 %s lacks" % sec)
            self.assertEqual(extra, [], "cdhtd.conf.5 %s: not in the code"
                             % sec)
        self.assertEqual(sorted(got), sorted(want))

    def test_client_page_covers_the_command_table(self):
        src = read("client/main.c")
        body = src[src.index("cmds[] = {"):]
        body = body[:body.index("\n};")]
        want = re.findall(r'^    \{"(\w+)", cmd_', body, re.M) + ["help"]
        self.assertGreaterEqual(len(want), 11)
        got = list(man_entries(read("client/cdht.1")))
        self.assertEqual(sorted(got), sorted(want))

    def test_versions_agree(self):
        v = project_version()
        for name, path in (("cdhtd", cdhtd_path()), ("cdht", cdht_path())):
            r = subprocess.run([path, "--version"], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual((r.returncode, r.stdout), (0, "%s %s\n"
                                                        % (name, v)))
        for page in ("daemon/cdhtd.8", "daemon/cdhtd.conf.5",
                     "client/cdht.1"):
            th = re.search(r'^\.TH .*"cdht (\S+)"', read(page), re.M)
            self.assertEqual(th and th.group(1), v, page + ": .TH version")
        if os.path.exists(os.path.join(SRC, "debian", "changelog")):
            first = read("debian/changelog").splitlines()[0]
            self.assertRegex(first, r"^cdht \(%s(-\d+)?\) " % re.escape(v))

    def test_build_info_metric(self):
        node = self.make_node()
        text = node.request("GET", "/metrics", role="viewer").body.decode()
        self.assertIn('\ncdht_build_info{version="%s"} 1\n'
                      % project_version(), text)
        self.assertIn("# TYPE cdht_build_info gauge\n", text)

    def test_daemon_help(self):
        r = subprocess.run([cdhtd_path(), "--help"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        for opt in ("-c, --conf FILE", "-n, --check", "-v, --verbose",
                    "-h, --help", "-V, --version"):
            self.assertIn(opt, r.stdout)
        page = read("daemon/cdhtd.8")
        for opt in ("conf", "check", "verbose", "help", "version"):
            self.assertIn("\\-\\-" + opt, page)
        r = subprocess.run([cdhtd_path(), "--bogus"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: cdhtd", r.stderr)

    @unittest.skipUnless(shutil.which("man"), "man(1) not installed")
    def test_pages_render_cleanly(self):
        for page in ("daemon/cdhtd.8", "daemon/cdhtd.conf.5",
                     "client/cdht.1"):
            r = subprocess.run(
                ["man", "--warnings", "-l", os.path.join(SRC, page)],
                capture_output=True, text=True, timeout=30,
                env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8",
                         MAN_KEEP_FORMATTING="0"))
            self.assertEqual(r.returncode, 0, page + r.stderr)
            self.assertEqual(r.stderr, "", page)


if __name__ == "__main__":
    main()
