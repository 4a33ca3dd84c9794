"""Start-up checks and the truth about the uplink.

- `cdhtd -n` checks everything the start would, and the start checks the
  same way: key files (missing, malformed), parent_key and children keys
  (Z85), endpoints without tcp://, HTTP and downlink addresses this host
  cannot bind, a data_dir that cannot be created; every error names
  conf.ini:LINE and the key, all of them are reported, and -n beside a
  running node of the same conf still says "configuration OK".
- One daemon per data_dir: a second one exits non-zero naming the first's
  pid and the directory; the first keeps serving; the lock does not outlive
  its holder (SIGTERM or kill -9).
- /healthz and `cdht health` tell whether the uplink works: a commune whose
  key the parent does not list is "refused" (ZAP status 400), degraded, exit
  5; once the parent lists it (children file, parent restarted) it is
  welcomed, ok, exit 0; a commune whose parent is down is not ok either.
"""

import os
import re
import signal
import subprocess
import tempfile
import time

from cdhttest import gen
from cdhttest.case import NodeTestCase, assessment, main
from cdhttest.hier import (HierTestCase, link_port, python_keypair, wait_for,
                           write_secret)
from cdhttest.node import Node, cdhtd_path, free_port, new_token, token_hash

TIMEOUT = 15
BAD_Z85 = "#" * 40  # the Z85 alphabet, but each group overflows 32 bits


class Preflight(NodeTestCase):
    """-n and the start on confs with links (real CURVE keys)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdht-startup-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))
        self.tokens = self.path("tokens")
        with open(self.tokens, "w") as f:
            f.write("admin %s ops\n" % token_hash(new_token()))
        self.pub, sec = python_keypair()
        self.secret = self.path("node.secret")
        write_secret(self.secret, sec)
        self.parent_pub, _ = python_keypair()
        self.child_pub, _ = python_keypair()
        self.children = self.path("children")
        with open(self.children, "w") as f:
            f.write("# ID PUBLIC_KEY NAME\n03646 %s Phường Tô Hiệu\n"
                    % self.child_pub)
        self.port = free_port()
        self.zport = link_port()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def base(self):
        """A valid district conf with both links, as a list of lines."""
        return [
            "[node]",                                            # 1
            "id = 116",                                          # 2
            "level = district",                                  # 3
            "name = Thành phố Sơn La",                           # 4
            "data_dir = %s" % self.path("data"),                 # 5
            "[http]",                                            # 6
            "listen = 127.0.0.1:%d" % self.port,                 # 7
            "tokens = %s" % self.tokens,                         # 8
            "[uplink]",                                          # 9
            "parent = tcp://127.0.0.1:%d" % free_port(),         # 10
            "parent_key = %s" % self.parent_pub,                 # 11
            "secret_key = %s" % self.secret,                     # 12
            "[downlink]",                                        # 13
            "listen = tcp://127.0.0.1:%d" % self.zport,          # 14
            "secret_key = %s" % self.secret,                     # 15
            "children = %s" % self.children,                     # 16
        ]

    def conf(self, lines):
        p = self.path("conf.ini")
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        return p

    def run_d(self, *args, timeout=TIMEOUT):
        p = subprocess.run([cdhtd_path()] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           cwd=self.tmp)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def assertRefused(self, lines, errors, start_too=True, what=""):
        """-n (and the start, unless start_too is false) refuse the conf;
        errors: [(line, key, text)], each on one line of stderr as
        conf.ini:LINE: KEY: ...TEXT (text may be None)."""
        path = self.conf(lines)
        modes = (["-n", "-c", path], ["-c", path]) if start_too \
            else (["-n", "-c", path],)
        for args in modes:
            how = "%s (%s)" % (what, " ".join(args[:-1]))
            rc, out, err = self.run_d(*args)
            self.assertNotEqual(rc, 0, "%s: accepted\nstderr: %s" % (how, err))
            self.assertNotIn("configuration OK", out, how)
            for line, key, text in errors:
                pat = r"conf\.ini:%d: %s: [^\n]*%s" % (
                    line, re.escape(key), re.escape(text) if text else "")
                self.assertRegex(err, pat, "%s: stderr should say %s:%d "
                                 "%s %r" % (how, "conf.ini", line, key, text))
            self.assertFalse(os.path.exists(self.path("data")) and
                             args[0] == "-n", "%s: -n created data_dir" % how)
        return err

    def test_full_conf_ok(self):
        rc, out, err = self.run_d("-n", "-c", self.conf(self.base()))
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration OK", out)
        self.assertFalse(os.path.exists(self.path("data")),
                         "-n created data_dir")

    def test_missing_key_file(self):
        lines = self.base()
        lines[11] = "secret_key = %s" % self.path("no-such.secret")
        self.assertRefused(lines, [(12, "uplink.secret_key", "no-such.secret")],
                           what="missing uplink key")
        lines = self.base()
        lines[14] = "secret_key = %s" % self.path("gone.secret")
        self.assertRefused(lines, [(15, "downlink.secret_key", "gone.secret")],
                           what="missing downlink key")

    def test_malformed_key_file(self):
        for text in ("not a key\n", self.pub[:39] + "\n", BAD_Z85 + "\n", ""):
            bad = self.path("bad.secret")
            write_secret(bad, text.rstrip("\n"))
            lines = self.base()
            lines[11] = "secret_key = %s" % bad
            self.assertRefused(lines, [(12, "uplink.secret_key", "40 Z85")],
                               what="key file %r" % text)

    def test_key_directory(self):
        lines = self.base()
        lines[14] = "secret_key = %s" % self.tmp
        self.assertRefused(lines, [(15, "downlink.secret_key", None)],
                           what="a directory as key")

    def test_loose_key_is_a_warning(self):
        os.chmod(self.secret, 0o644)
        rc, out, err = self.run_d("-n", "-c", self.conf(self.base()))
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"conf\.ini:12: uplink\.secret_key: warning: "
                         r".*readable by group or others")

    def test_writable_secrets_are_refused(self):
        os.chmod(self.secret, 0o620)
        self.assertRefused(self.base(), [
            (12, "uplink.secret_key", "writable by group or others"),
            (15, "downlink.secret_key", "writable by group or others")],
            what="a group-writable key")
        os.chmod(self.secret, 0o600)
        os.chmod(self.tokens, 0o666)
        self.assertRefused(self.base(), [
            (8, "http.tokens", "writable by group or others")],
            what="a world-writable tokens file")
        os.chmod(self.tokens, 0o640)
        rc, out, err = self.run_d("-n", "-c", self.conf(self.base()))
        self.assertEqual(rc, 0, err)

    def test_parent_key_not_z85(self):
        lines = self.base()
        lines[10] = "parent_key = " + BAD_Z85
        self.assertRefused(lines, [(11, "uplink.parent_key", "invalid value")],
                           what="parent_key overflowing Z85")

    def test_children_key_not_z85(self):
        with open(self.children, "a") as f:
            f.write("03664 %s Phường Chiềng An\n" % BAD_Z85)
        err = self.assertRefused(self.base(), [], what="children key")
        self.assertRegex(err, r"children:3: public key of \"03664\"")

    def test_endpoint_without_tcp(self):
        lines = self.base()
        lines[9] = "parent = 127.0.0.1:%d" % free_port()
        self.assertRefused(lines, [(10, "uplink.parent", "tcp://")],
                           what="parent without tcp://")
        lines = self.base()
        lines[13] = "listen = 127.0.0.1:%d" % self.zport
        self.assertRefused(lines, [(14, "downlink.listen", "tcp://")],
                           what="downlink listen without tcp://")
        lines = self.base()
        lines[9] = "parent = tcp://127.0.0.1"
        self.assertRefused(lines, [(10, "uplink.parent", "tcp://")],
                           what="parent without a port")

    def test_bad_listen_address(self):
        # 192.0.2.1 (TEST-NET-1) is a valid address no host of ours has
        lines = self.base()
        lines[6] = "listen = 192.0.2.1:%d" % self.port
        self.assertRefused(lines, [(7, "http.listen", "192.0.2.1")],
                           what="HTTP on a foreign address")
        lines = self.base()
        lines[6] = "listen = [::1:%d" % self.port
        self.assertRefused(lines, [(7, "http.listen", "invalid value")],
                           what="HTTP unbalanced bracket")
        lines = self.base()
        lines[13] = "listen = tcp://192.0.2.1:%d" % self.zport
        self.assertRefused(lines, [(14, "downlink.listen", "192.0.2.1")],
                           what="downlink on a foreign address")

    def test_uncreatable_data_dir(self):
        afile = self.path("afile")
        with open(afile, "w") as f:
            f.write("x\n")
        for d, text in ((os.path.join(afile, "data"), "Not a directory"),
                        (afile, "not a directory"),
                        (self.path("no/such/parent"), "No such file")):
            lines = self.base()
            lines[4] = "data_dir = %s" % d
            self.assertRefused(lines, [(5, "node.data_dir", text)],
                               what="data_dir %s" % d)

    def test_every_error_reported(self):
        lines = self.base()
        lines[4] = "data_dir = %s" % os.path.join(self.tokens, "data")
        lines[6] = "listen = 192.0.2.1:%d" % self.port
        lines[9] = "parent = 10.0.0.1:9470"
        lines[14] = "secret_key = %s" % self.path("gone.secret")
        self.assertRefused(lines, [(5, "node.data_dir", None),
                                   (7, "http.listen", None),
                                   (10, "uplink.parent", None),
                                   (15, "downlink.secret_key", None)],
                           start_too=False, what="four errors")

    def test_check_beside_a_running_node(self):
        """-n on the conf of a running node: its ports and its data_dir's
        lock are taken, and that is no error of the conf."""
        path = self.conf(self.base())
        log = open(self.path("d.log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen([cdhtd_path(), "-c", path], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, cwd=self.tmp)
        self.addCleanup(lambda: (p.kill(), p.wait(10)))
        wait_for(lambda: os.path.exists(self.path("data/lock")) and
                 os.path.getsize(self.path("data/lock")) > 0, 10,
                 "the node to lock data_dir")
        rc, out, err = self.run_d("-n", "-c", path)
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration OK", out)
        self.assertIsNone(p.poll(), "the running node died")


class DirLock(NodeTestCase):

    def second(self, n, port=None):
        """Run a second cdhtd on n's data_dir (HTTP on port, default a new
        one); returns (exit code, stderr)."""
        conf = os.path.join(n.dir, "second.ini")
        text = n.conf_text().replace(
            "127.0.0.1:%d" % n.port, "127.0.0.1:%d" % (port or free_port()))
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.run([cdhtd_path(), "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, cwd=n.dir)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_second_daemon_refused(self):
        n = self.make_node()
        self.assertStatus(n.post(assessment(2026, "first")), 200)
        for port in (None, n.port):  # its own HTTP port, or the same
            rc, err = self.second(n, port)
            self.assertNotEqual(rc, 0, "a second daemon ran: %s" % err)
            self.assertIn("pid %d" % n.proc.pid, err)
            self.assertIn(n.data_dir, err)
            self.assertRegex(err, r"second\.ini:\d+: node\.data_dir: ")
            self.assertAlive(n, "the first, after the second tried")
            self.assertStatus(n.post(assessment(2026, "after-%s" % port)),
                              200)
            self.assertStatus(n.get(2026, "first"), 200)
        # its pid, then that it answers cdhtd --backup's SIGUSR1
        with open(os.path.join(n.data_dir, "lock")) as f:
            self.assertEqual(f.read(), "%d\nsigusr1 backup-mark\n"
                             % n.proc.pid)

    def test_lock_goes_with_its_holder(self):
        n = self.make_node()
        self.assertStatus(n.post(assessment(2026, "kept")), 200)
        n.restart()                       # SIGTERM, then a new start
        n.kill9()
        n.start()                         # after kill -9 too
        self.assertStatus(n.get(2026, "kept"), 200)
        rc, err = self.second(n)
        self.assertNotEqual(rc, 0)
        self.assertIn("pid %d" % n.proc.pid, err)


def health(node):
    r = node.health()
    if r.status != 200:
        raise AssertionError("%s: /healthz %r" % (node.id, r))
    return r.json


class UplinkHealth(HierTestCase):

    def pair(self):
        """A province and a commune pointing at it that the province does
        not list yet (the province lists one other, fake child)."""
        p = self.make_hier("province", "14", "Tỉnh Sơn La")
        p.extra_children.append(("03664", python_keypair()[0], "Giả"))
        c = self.make_hier("commune", "03646", "Phường Tô Hiệu")
        c.parent = p                      # not p.attach(c): not listed
        return p, c

    def assertHealth(self, c, want_ok, words, what):
        doc = health(c)
        p = c.client("health", role=None)
        if want_ok:
            self.assertEqual(doc["status"], "ok", "%s: %r" % (what, doc))
            self.assertEqual(p.returncode, 0, "%s: %s%s"
                             % (what, p.stdout, p.stderr))
        else:
            self.assertNotEqual(doc["status"], "ok", "%s: %r" % (what, doc))
            self.assertEqual(p.returncode, 5, "%s: exit %d: %s%s"
                             % (what, p.returncode, p.stdout, p.stderr))
        for w in words:
            self.assertIn(w, p.stdout, what)
        return doc

    def test_refused_then_listed(self):
        p, c = self.pair()
        p.start()
        c.start()
        doc = wait_for(lambda: (lambda d: d if d["uplink"].get("state") ==
                                "refused" else None)(health(c)), 10,
                       "the commune to see the refusal")
        up = doc["uplink"]
        self.assertEqual(doc["status"], "degraded", doc)
        self.assertEqual(up["zap_status"], 400, doc)
        self.assertEqual(up["public_key"], c.up_pub, doc)
        self.assertIs(up["connected"], False, doc)
        self.assertEqual(up["endpoint"], p.endpoint, doc)
        self.assertIn("children file", up["detail"], doc)
        self.assertHealth(c, False, ["degraded", "refused", "ZAP status 400",
                                     c.up_pub], "refused")
        # the parent lists it now: its children file, then a restart
        p.attach(c)
        p.restart()
        wait_for(lambda: health(c)["status"] == "ok", 45,
                 "the commune to be welcomed after the parent listed it")
        doc = self.assertHealth(c, True, ["ok", "welcomed by parent 14"],
                                "listed")
        self.assertEqual(doc["uplink"]["state"], "welcomed", doc)
        self.assertEqual(doc["uplink"]["parent"], "14", doc)
        self.assertIsNotNone(doc["uplink"]["last_welcome"], doc)
        self.assertIsNone(doc["uplink"]["zap_status"], doc)
        # and reports flow
        self.assertStatus(c.post(assessment(2026, "c-1")), 200)
        wait_for(lambda: p.assessed(2026) == 1, 10, "the report at 14")
        wait_for(lambda: health(c)["uplink"]["last_ack_age_s"] is not None,
                 10, "an ACK")
        self.assertEqual(health(p)["status"], "ok")  # the root: no uplink
        self.assertIsNone(health(p)["uplink"])

    def test_parent_down(self):
        p, c = self.pair()
        p.attach(c)
        c.start()                          # the parent never started
        doc = wait_for(lambda: (lambda d: d if "unreachable" in
                                d["uplink"]["detail"] else None)(health(c)),
                       10, "the commune to find its parent unreachable")
        self.assertEqual(doc["uplink"]["state"], "never_connected", doc)
        self.assertHealth(c, False, ["degraded", "never connected"],
                          "parent never up")
        p.start()
        wait_for(lambda: health(c)["status"] == "ok", 15,
                 "welcomed once the parent is up")
        self.assertHealth(c, True, ["welcomed"], "parent up")
        p.stop()
        doc = wait_for(lambda: (lambda d: d if d["status"] != "ok"
                                else None)(health(c)), 15,
                       "the commune to notice its parent went down")
        self.assertIn(doc["uplink"]["state"], ("connecting", "not_welcomed"),
                      doc)
        self.assertHealth(c, False, ["degraded"], "parent down again")

    def test_listed_under_another_id(self):
        """The key is admitted but the HELLO's id is not the one the parent
        gives the key: connected, never welcomed, not ok."""
        p, c = self.pair()
        p.extra_children.append(("03670", c.up_pub, "Tên khác"))
        p.start()
        c.start()
        doc = wait_for(lambda: (lambda d: d if d["uplink"]["state"] ==
                                "not_welcomed" else None)(health(c)), 10,
                       "connected, not welcomed")
        time.sleep(1.0)
        doc = health(c)
        self.assertEqual(doc["uplink"]["state"], "not_welcomed", doc)
        self.assertIn("[node] id", doc["uplink"]["detail"], doc)
        self.assertHealth(c, False, ["not welcomed"], "wrong id")


if __name__ == "__main__":
    main()
