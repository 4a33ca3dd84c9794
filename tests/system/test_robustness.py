"""Resource exhaustion: a node that runs out of file descriptors (a client
holding many idle connections) degrades and recovers: it neither crashes
nor spins nor floods its log, and answers again once the connections go
(STYLE.md: "too many files: pause accepting, keep serving")."""

import os
import socket
import time

from cdhttest.case import REC, NodeTestCase, assessment, main

NOFILE = 128


class RobustnessTest(NodeTestCase):

    def test_out_of_file_descriptors(self):
        n = self.make_node(nofile=NOFILE)
        self.assertStatus(n.post(assessment(2026, "before", REC)), 200)
        socks = []
        try:
            for _ in range(NOFILE + 60):
                try:
                    socks.append(socket.create_connection(
                        ("127.0.0.1", n.port), timeout=2))
                except OSError:
                    break  # the backlog is full too: enough
            time.sleep(0.5)
            self.assertTrue(n.alive(), "cdhtd died when out of descriptors:\n"
                            + n.stderr_tail())
            c0, e0, t0 = (n.cpu_seconds(), os.path.getsize(n.stderr_path),
                          time.monotonic())
            time.sleep(3)
            c1, e1, t1 = (n.cpu_seconds(), os.path.getsize(n.stderr_path),
                          time.monotonic())
            cpu = (c1 - c0) / (t1 - t0)
            log_rate = (e1 - e0) / (t1 - t0)
            self.assertTrue(n.alive(), "cdhtd died when out of descriptors")
        finally:
            for s in socks:
                s.close()
        # it must answer again once the connections are gone
        deadline = time.monotonic() + 10
        ok = False
        while time.monotonic() < deadline and not ok:
            try:
                ok = n.request("GET", "/healthz", role=None,
                               timeout=2).status == 200
            except OSError:
                time.sleep(0.1)
        self.assertTrue(ok, "no /healthz within 10 s of closing the "
                        "connections")
        self.assertStatus(n.get(2026, "before"), 200)
        self.assertLess(cpu, 0.5, "cdhtd used %.0f%% of a CPU while out of "
                        "descriptors with nothing to do (busy accept loop?)"
                        % (100 * cpu))
        self.assertLess(log_rate, 100 * 1024, "cdhtd logged %.0f bytes/s "
                        "while out of descriptors; last lines:\n%s"
                        % (log_rate, n.stderr_tail(400)))


if __name__ == "__main__":
    main()
