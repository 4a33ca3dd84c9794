"""cdhtd's configuration: -n checks it; every wrong key, value or missing
file makes cdhtd exit non-zero with a message naming the file and the line
or key; a good conf (with comments) starts a node that says who it is."""

import os
import re
import subprocess
import tempfile

from cdhttest.case import NodeTestCase, main
from cdhttest.node import Node, cdhtd_path, free_port, new_token, token_hash

TIMEOUT = 15


class ConfTest(NodeTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdht-conf-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))
        self.tokens = os.path.join(self.tmp, "tokens")
        with open(self.tokens, "w") as f:
            f.write("# role hash label\nadmin %s ops\n" % token_hash(new_token()))
        self.port = free_port()

    def conf(self, lines, name="conf.ini"):
        """Write lines (a list: line i+1 is lines[i]); return the path."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def base(self, port=None):
        """A valid conf as a list of lines."""
        lines = [
            "# cdhtd test conf",                              # 1
            "[node]",                                         # 2
            "id = 04108            ; unit code string",       # 3
            "level = commune       ; commune | district",     # 4
            "name = Xã Chiềng Sung",                          # 5
            "data_dir = %s" % os.path.join(self.tmp, "data"),  # 6
            "map_size_mb = 64",                               # 7
            "[http]",                                         # 8
            "listen = 127.0.0.1:%d" % (port or self.port),    # 9
            "tokens = %s" % self.tokens,                      # 10
            "max_body_kb = 8192",                             # 11
            "[targets]",                                      # 12
            "families = 75 80",                               # 13
        ]
        return lines

    def run_d(self, *args, timeout=TIMEOUT):
        p = subprocess.run([cdhtd_path()] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=self.tmp)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def assertConfError(self, lines, line=None, key=None, names=None,
                        check_only=True, what=""):
        path = self.conf(lines)
        args = ["-n", "-c", path] if check_only else ["-c", path]
        rc, out, err = self.run_d(*args)
        self.assertNotEqual(rc, 0, "%s: cdhtd accepted it\nstdout: %s\nstderr: %s"
                            % (what, out, err))
        self.assertNotIn("configuration OK", out, what)
        self.assertTrue(err.strip(), "%s: nothing on stderr" % what)
        if line is not None:
            want = (line,) if isinstance(line, int) else line
            self.assertRegex(err, r"conf\.ini:(%s)\b" % "|".join(map(str, want)),
                             "%s: stderr should name conf.ini:%s" % (what, line))
        if key is not None:
            self.assertIn(key, err, "%s: stderr should name %r" % (what, key))
        for s in names or ():
            self.assertIn(s, err, "%s: stderr should name %r" % (what, s))
        return err

    def test_check_ok(self):
        path = self.conf(self.base())
        rc, out, err = self.run_d("-n", "-c", path)
        self.assertEqual(rc, 0, "valid conf: %s" % err)
        self.assertIn("configuration OK", out)

    def test_starts_and_names_itself(self):
        """Inline ';' comments are not part of the values."""
        n = Node(os.path.join(self.tmp, "node"))
        self.addCleanup(n.cleanup)
        n.conf_fn = lambda port: "\n".join(self.base(port)) + "\n"
        n.start()
        r = n.health()
        self.assertEqual(r.json.get("node"), {"id": "04108", "level": "commune",
                                              "name": "Xã Chiềng Sung"}, r)
        self.assertEqual(n.stop(), 0)
        self.assertEqual(n.stdout_text(), "", "cdhtd wrote to stdout")

    def test_programme_and_stale_after(self):
        """[programme] deadline and timezone and [downlink] stale_after go
        through the option table: good values pass -n, bad ones name the
        line and key."""
        good = self.base() + ["[programme]", "deadline = 11-30",
                              "timezone = +07:00"]
        rc, out, err = self.run_d("-n", "-c", self.conf(good))
        self.assertEqual(rc, 0, err)
        for tz in ("Asia/Ho_Chi_Minh", "UTC", "-03:30"):
            lines = self.base() + ["[programme]", "timezone = %s" % tz]
            rc, out, err = self.run_d("-n", "-c", self.conf(lines))
            self.assertEqual(rc, 0, "%s: %s" % (tz, err))
        for bad in ("13-01", "02-30", "02-29", "12-1", "1201", "12-01x", ""):
            lines = self.base() + ["[programme]", "deadline = %s" % bad]
            self.assertConfError(lines, line=15, key="programme.deadline",
                                 what="deadline %r" % bad)
        for bad in ("Mars/Base", "+7:00", "+15:00", "07:00", "+07:60"):
            lines = self.base() + ["[programme]", "timezone = %s" % bad]
            self.assertConfError(lines, line=15, key="programme.timezone",
                                 what="timezone %r" % bad)
        for bad in ("0", "-1", "1d", "99999999999"):
            lines = self.base() + ["[downlink]", "stale_after = %s" % bad]
            self.assertConfError(lines, line=15, key="downlink.stale_after",
                                 what="stale_after %r" % bad)

    def test_unknown_key(self):
        lines = self.base()
        lines.insert(5, "foo = 1")                     # line 6 in [node]
        self.assertConfError(lines, line=6, key="foo", what="unknown key")
        self.assertConfError(lines, line=6, key="foo", check_only=False,
                             what="unknown key, no -n")

    def test_unknown_key_in_http(self):
        lines = self.base()
        lines.insert(10, "listen_backlog = 5")         # line 11 in [http]
        self.assertConfError(lines, line=11, key="listen_backlog")

    def test_bad_level(self):
        lines = self.base()
        lines[3] = "level = village"
        err = self.assertConfError(lines, line=4, key="level", what="bad level")
        lines[3] = "level ="
        self.assertConfError(lines, line=4, key="level", what="empty level")
        del err

    def test_bad_values(self):
        cases = [
            (6, "map_size_mb = lots", "map_size_mb"),
            (6, "map_size_mb = -5", "map_size_mb"),
            (8, "listen = 127.0.0.1:notaport", "listen"),
            (8, "listen = 127.0.0.1:99999", "listen"),
            (10, "max_body_kb = 0x", "max_body_kb"),
            (12, "families = 75", "families"),
            (12, "families = 75 eighty", "families"),
            (12, "families = 75 80 90", "families"),
            (12, "villages = 75 80", "villages"),
        ]
        for idx, text, key in cases:
            lines = self.base()
            lines[idx] = text
            self.assertConfError(lines, line=idx + 1, key=key, what=text)

    def test_unknown_section(self):
        lines = self.base() + ["[uplink2]", "x = 1"]
        self.assertConfError(lines, line=(14, 15), what="unknown section")

    def test_missing_required(self):
        for key in ("id", "level", "data_dir"):
            lines = [l for l in self.base() if not l.startswith(key + " ")]
            self.assertConfError(lines, key=key, what="without %s" % key)
        lines = [l for l in self.base() if not l.startswith("tokens ")]
        self.assertConfError(lines, key="tokens", what="without tokens")

    def test_missing_tokens_file(self):
        missing = os.path.join(self.tmp, "no-such-tokens-file")
        lines = self.base()
        lines[9] = "tokens = %s" % missing
        self.assertConfError(lines, names=[missing], what="missing tokens file")
        self.assertConfError(lines, names=[missing], check_only=False,
                             what="missing tokens file, no -n")

    def test_bad_tokens_file(self):
        cases = [
            "superuser %s x" % token_hash("a"),      # unknown role
            "clerk 1234 x",                           # not a sha256
            "clerk %s" % ("g" * 64),                  # not hex
            "clerk",                                  # no hash
        ]
        for bad in cases:
            with open(self.tokens, "w") as f:
                f.write("# tokens\n%s\n" % bad)
            err = self.assertConfError(self.base(), names=["tokens"],
                                       what="tokens line %r" % bad)
            self.assertRegex(err, r"tokens:2\b", "tokens line %r: stderr "
                             "should name tokens:2" % bad)

    def test_missing_conf_file(self):
        path = os.path.join(self.tmp, "nope.ini")
        rc, out, err = self.run_d("-n", "-c", path)
        self.assertNotEqual(rc, 0)
        self.assertIn("nope.ini", err)
        rc, out, err = self.run_d("-c", path)
        self.assertNotEqual(rc, 0)
        self.assertIn("nope.ini", err)

    def test_bad_flags(self):
        rc, out, err = self.run_d("--no-such-flag")
        self.assertNotEqual(rc, 0)
        self.assertTrue(err.strip())

    def test_port_in_use(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", self.port))
        s.listen(1)
        try:
            rc, out, err = self.run_d("-c", self.conf(self.base()))
        finally:
            s.close()
        self.assertNotEqual(rc, 0, "started on a port in use")
        self.assertTrue(err.strip())


if __name__ == "__main__":
    main()
