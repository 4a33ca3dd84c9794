"""Replies sent after a commit (a write's deferred reply) are written to
the socket at once and finished in the same loop turn (http_api.c
finish_now), outside evhttp's own callbacks, and the connection reads on
while it waits (keep_reading).  One real commune node,
driven over raw sockets so that the framing is checked, not trusted:

  - pipelined submissions (eight POSTs in one send, then a GET): every
    reply comes, in order, whole (its Content-Length), each naming its own
    person, and every one of them is stored (read back one by one);
  - HTTP/1.0 without keep-alive, and HTTP/1.1 with Connection: close:
    the whole reply, then the connection closes; HTTP/1.0 with
    Connection: keep-alive: the connection answers a second submission;
  - 24 clients at once on keep-alive connections, 25 submissions each:
    every reply 200 and every submission stored, counted by an
    independent tally of what was acknowledged against the node's
    progress totals;
  - clients that send a submission and close (or reset) before its reply,
    a few dozen times: the node goes on answering, its log shows no
    crash, and its open descriptors come back;
  - clients that shut their sending side right after the submission (the
    connection reads on while the commit runs, http_api.c keep_reading):
    each still gets its whole reply, then the close, and the write is
    stored.
"""

import json
import os
import socket
import struct
import threading

from cdhttest.case import NodeTestCase, assessment, main
from cdhttest.hier import wait_for

YEAR = 2026


class Conn:
    """One socket speaking HTTP/1.x with Content-Length replies."""

    def __init__(self, port, timeout=10.0):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def _more(self):
        part = self.s.recv(65536)
        if not part:
            self.eof = True
            return False
        self.buf += part
        return True

    def response(self):
        """(status, headers {lower: value}, body) of the next reply."""
        while b"\r\n\r\n" not in self.buf:
            if self.eof or not self._more():
                raise AssertionError("closed in the head: %r" % self.buf)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            k, sep, v = line.partition(b":")
            assert sep, "bad header line %r" % line
            headers[k.decode().strip().lower()] = v.decode().strip()
        assert "transfer-encoding" not in headers, headers
        n = int(headers["content-length"])
        while len(self.buf) < n:
            if self.eof or not self._more():
                raise AssertionError("closed after %d of %d body bytes"
                                     % (len(self.buf), n))
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed_by_peer(self, wait=5.0):
        """True once the node has closed its end (nothing more came)."""
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.s.close()


class HttpReplies(NodeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = cls.make_class_node()

    def post_bytes(self, pid, version="1.1", extra=""):
        body = json.dumps(assessment(YEAR, pid)).encode()
        return (("POST /v1/assessments HTTP/%s\r\nHost: x\r\n"
                 "Authorization: Bearer %s\r\n"
                 "Content-Type: application/json\r\n%s"
                 "Content-Length: %d\r\n\r\n")
                % (version, self.node.tokens["clerk"], extra, len(body))
                ).encode() + body

    def assertStored(self, pids, what):
        for pid in pids:
            r = self.node.get(YEAR, pid)
            self.assertEqual(r.status, 200, "%s: %s not stored: %r"
                             % (what, pid, r))
            self.assertEqual(r.json["person_id"], pid, what)

    def assertAccepted(self, reply, pid, what):
        status, headers, body = reply
        self.assertEqual(status, 200, "%s: %r" % (what, body))
        self.assertEqual(json.loads(body)["person_id"], pid, what)

    def assertNoCrash(self, what):
        self.assertAlive(self.node, what)
        err = self.node.stderr_tail(10 ** 6)
        for bad in ("Sanitizer", "runtime error", "Assertion", "abort"):
            self.assertNotIn(bad, err, what)

    def test_1_pipelined(self):
        pids = ["pipe-%d" % i for i in range(8)]
        c = Conn(self.node.port)
        try:
            c.send(b"".join(self.post_bytes(p) for p in pids) +
                   b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            for p in pids:
                self.assertAccepted(c.response(), p, "pipelined " + p)
            status, headers, body = c.response()
            self.assertEqual(status, 200, body)
            self.assertEqual(c.buf, b"", "bytes after the last reply")
        finally:
            c.close()
        self.assertStored(pids, "pipelined")
        self.assertNoCrash("after pipelining")

    def test_2_close_and_keep_alive(self):
        for version, extra, what in (("1.0", "", "HTTP/1.0"),
                                     ("1.1", "Connection: close\r\n",
                                      "Connection: close")):
            pid = "close-" + version
            c = Conn(self.node.port)
            try:
                c.send(self.post_bytes(pid, version, extra))
                reply = c.response()
                self.assertAccepted(reply, pid, what)
                self.assertEqual(c.buf, b"", what)
                self.assertTrue(c.eof or c.closed_by_peer(),
                                "%s: the connection stays open" % what)
            finally:
                c.close()
            self.assertStored([pid], what)
        c = Conn(self.node.port)
        try:
            for i in range(2):
                pid = "ka10-%d" % i
                c.send(self.post_bytes(pid, "1.0",
                                       "Connection: keep-alive\r\n"))
                status, headers, body = c.response()
                self.assertAccepted((status, headers, body), pid,
                                    "HTTP/1.0 keep-alive %d" % i)
                self.assertEqual(headers.get("connection", "").lower(),
                                 "keep-alive", headers)
        finally:
            c.close()
        self.assertStored(["ka10-0", "ka10-1"], "HTTP/1.0 keep-alive")

    def test_3_many_clients(self):
        before = self.node.progress(YEAR).json
        acked, errors, lock = [], [], threading.Lock()

        def client(k):
            try:
                c = Conn(self.node.port, timeout=30)
                try:
                    for i in range(25):
                        pid = "many-%d-%d" % (k, i)
                        c.send(self.post_bytes(pid))
                        status, _, body = c.response()
                        if status != 200 or \
                                json.loads(body)["person_id"] != pid:
                            raise AssertionError("%s: %d %r"
                                                 % (pid, status, body))
                        with lock:
                            acked.append(pid)
                finally:
                    c.close()
            except Exception as e:  # reported below, in the test's thread
                with lock:
                    errors.append("client %d: %r" % (k, e))

        ts = [threading.Thread(target=client, args=(k,)) for k in range(24)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(acked), 24 * 25)
        after = self.node.progress(YEAR).json
        self.assertEqual(self.assessed(after) - self.assessed(before),
                         len(acked), "the node's totals against the replies")
        self.assertStored(acked[::37], "many clients (a sample)")
        self.assertNoCrash("after many clients")

    def test_5_half_closed(self):
        # the client sends its submission and shuts its sending side at
        # once: the node still writes the whole reply (it reads the end of
        # the input while the commit runs and leaves it for evhttp), then
        # closes; the write is stored
        for i in range(5):
            pid = "half-%d" % i
            c = Conn(self.node.port)
            try:
                c.send(self.post_bytes(pid))
                c.s.shutdown(socket.SHUT_WR)
                self.assertAccepted(c.response(), pid, "half-closed %d" % i)
                self.assertTrue(c.eof or c.closed_by_peer(),
                                "half-closed %d: the connection stays open"
                                % i)
            finally:
                c.close()
            self.assertStored([pid], "half-closed")
        self.assertNoCrash("after half-closed clients")

    @staticmethod
    def assessed(progress):
        """Persons assessed this year in the node's own totals."""
        return progress["counts"]["assessed"]

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.node.proc.pid))

    def test_4_gone_before_the_reply(self):
        self.assertEqual(self.node.health().status, 200)
        base = self.fds()
        for i in range(40):
            s = socket.create_connection(("127.0.0.1", self.node.port))
            s.sendall(self.post_bytes("gone-%d" % i))
            if i % 2:  # a reset: RST, not FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            s.close()
        wait_for(lambda: self.fds() <= base, 10,
                 "descriptors back to %d" % base)
        self.assertNoCrash("after clients gone before their replies")
        # the node still answers a submission on a fresh connection
        r = self.node.post(assessment(YEAR, "after-gone"))
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    main()
