"""Running under a service manager: the sd_notify protocol on a fake
NOTIFY_SOCKET (READY=1 with a STATUS= line, WATCHDOG=1 from the event loop
at half WATCHDOG_USEC, none while the loop is stopped, STOPPING=1), and
SIGHUP (systemctl reload): tokens, targets and programme settings change
without a restart; a conf with errors changes nothing; a restart-only key
is named; a child added to the children file can connect and one removed
is forgotten, while the other links stay up."""

import os
import signal
import socket
import time

from cdhttest.case import assessment, main
from cdhttest.hier import HierTestCase, wait_for
from cdhttest.node import new_token, token_hash

YEAR = 2026


class Notify:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.got = []  # (monotonic time, message)

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.got.append((time.monotonic(),
                                 self.sock.recv(4096).decode()))
            except socket.timeout:
                pass
        return self.got

    def messages(self, since=0.0):
        return [m for t, m in self.got if t >= since]

    def close(self):
        self.sock.close()


class Service(HierTestCase):
    def test_watchdog_and_status(self):
        n = self.make_hier("commune", "04108", "Xã Chiềng Sung")
        ns = Notify(os.path.join(n.dir, "notify.sock"))
        self.addCleanup(ns.close)
        n.env = {"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "300000"}
        n.start()
        ns.drain(1.5)
        msgs = ns.messages()
        self.assertTrue(msgs and msgs[0].startswith("READY=1\nSTATUS="),
                        msgs[:3])
        self.assertIn("%d open" % YEAR, msgs[0])
        pings = [m for m in msgs if m == "WATCHDOG=1"]
        # every 150 ms: about 10 in 1.5 s; a loaded machine may miss some
        self.assertGreaterEqual(len(pings), 4, msgs)

        # a stopped loop sends nothing: the ping proves the loop turns
        os.kill(n.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            ns.drain(0.8)
            self.assertEqual(ns.messages(since=t0 + 0.1), [],
                             "pings while stopped")
        finally:
            os.kill(n.proc.pid, signal.SIGCONT)
        t1 = time.monotonic()
        ns.drain(1.0)
        self.assertIn("WATCHDOG=1", ns.messages(since=t1))

        # the status follows the year's filing; a reload refreshes it
        r = n.request("POST", "/v1/filings/%d" % YEAR, role="admin")
        self.assertStatus(r, 201, "file")
        t2 = time.monotonic()
        n.reload()
        wait_for(lambda: any("%d filed" % YEAR in m and "reloaded" in m
                             for m in (ns.drain(0.2) and
                                       ns.messages(since=t2))),
                 10, "a status line saying filed and reloaded")
        t3 = time.monotonic()
        self.assertEqual(n.stop(), 0)
        ns.drain(0.3)
        self.assertIn("STOPPING=1", ns.messages(since=t3))

    def test_no_notify_socket(self):
        """Without NOTIFY_SOCKET (a terminal) nothing is sent and nothing
        breaks; WATCHDOG_USEC for another pid is ignored."""
        n = self.make_hier("commune", "04108", "Xã Chiềng Sung")
        n.env = {"WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"}
        n.start()
        self.assertStatus(n.progress(YEAR), 200)
        self.assertEqual(n.stop(), 0)

    def test_reload_tokens_targets_programme(self):
        n = self.make_hier("commune", "04108", "Xã Chiềng Sung")
        n.start()
        self.assertStatus(n.progress(YEAR), 200, "viewer before")
        # the admin replaces the viewer token by an inspector's and
        # changes a target and the deadline
        insp = new_token()
        with open(n.tokens_path, "w") as f:
            for role in ("admin", "clerk"):
                f.write("%s %s %s-test\n" % (role, token_hash(n.tokens[role]),
                                             role))
            f.write("inspector %s new-inspector\n" % token_hash(insp))
        n.targets = {"adults": (50, 70)}
        base = n.conf_text
        n.conf_fn = lambda port: base() + "[programme]\ndeadline = 11-15\n"
        n.rewrite_conf()
        n.reload()
        wait_for(lambda: n.request("GET", "/v1/lists/%d" % YEAR, role=None,
                                   token=insp).status == 200,
                 10, "the new inspector token accepted")
        self.assertEqual(n.progress(YEAR).status, 401,
                         "the removed viewer token still works")
        doc = n.request("GET", "/v1/progress?year=%d&depth=0" % YEAR,
                        role="admin").json
        self.assertEqual(doc["indicators"]["adults"]["targets"],
                         {"2025": 50, "2030": 70}, doc["indicators"])
        self.assertEqual(doc["deadline"]["date"], "%d-11-15" % YEAR)
        self.assertIn("reload: done", n.stderr_text())
        self.assertAlive(n)

    def test_reload_broken_conf_kept(self):
        n = self.make_hier("commune", "04108", "Xã Chiềng Sung")
        n.start()
        with open(n.conf_path, "a") as f:
            f.write("[http]\nno_such_key = 1\n")
        n.reload()
        wait_for(lambda: "configuration is kept" in n.stderr_text(), 10,
                 "the reload refused")
        self.assertIn("no_such_key", n.stderr_text())
        self.assertStatus(n.progress(YEAR), 200, "old tokens still work")
        # a restart-only key is named, the rest applies
        n.rewrite_conf()
        with open(n.conf_path) as f:
            text = f.read().replace(
                "name = Xã Chiềng Sung", "name = Xã Chiềng Sung Mới")
        with open(n.conf_path, "w") as f:
            f.write(text)
        n.reload()
        wait_for(lambda: "[node] name changed" in n.stderr_text(), 10,
                 "the restart-only key named")
        self.assertEqual(n.request("GET", "/healthz", role=None)
                         .json["node"]["name"], "Xã Chiềng Sung")
        self.assertAlive(n)

    def test_reload_children(self):
        p = self.make_hier("province", "14", "Tỉnh Sơn La")
        a = self.make_hier("commune", "04108", "Xã A", parent=p)
        b = self.make_hier("commune", "04111", "Xã B")
        b.parent = p  # links to p, but p does not list it yet
        for node in (p, a, b):
            node.start()
        for node, k in ((a, 5), (b, 7)):
            items = [assessment(YEAR, "%s-%d" % (node.id, i))
                     for i in range(k)]
            r = node.post(items)
            self.assertStatus(r, 200)
            self.assertEqual(r.json["accepted"], k, r)
        self.assertAssessedWithin(p, YEAR, 5, 15, "A only")
        time.sleep(1.0)
        self.assertEqual(p.assessed(YEAR), 5, "B counted while unlisted")

        p.children.append(b)  # the admin adds B to the children file
        p.rewrite_conf()
        p.reload()
        self.assertAssessedWithin(p, YEAR, 12, 20, "B after the reload")

        p.children.remove(a)  # ... and removes A
        p.rewrite_conf()
        p.reload()
        self.assertAssessedWithin(p, YEAR, 7, 15, "A forgotten")
        # B's link stayed up through both reloads: a new write arrives
        r = b.post(assessment(YEAR, "04111-new"))
        self.assertStatus(r, 200)
        self.assertAssessedWithin(p, YEAR, 8, 15, "B still linked")
        # A's writes no longer count at P
        self.assertStatus(a.post(assessment(YEAR, "04108-new")), 200)
        time.sleep(1.5)
        self.assertEqual(p.assessed(YEAR), 8, "A counted after removal")
        for node in (p, a, b):
            self.assertAlive(node)


if __name__ == "__main__":
    main()
