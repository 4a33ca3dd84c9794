"""Hierarchy harness: real cdhtd processes linked over ZeroMQ CURVE.

Builds on node.py: a HierNode is a Node whose conf also has [uplink] and
[downlink] sections, with real CURVE keys (from `cdht keygen` or
zmq.curve_keypair()) and a downlink port that stays the same across
restarts so its children find it again.  A HierTestCase owns every node it
makes (killed when the test ends, whatever happened).

Also here:
  HierModel  the expected numbers of any node of the tree, computed with the
             independent model (model.py) from everything submitted below it;
  FakeChild  a Python DEALER with a CURVE key that speaks the wire protocol
             (proto/PROTOCOL.md) itself: for the security tests;
  ByteRelay  a TCP relay that counts the bytes a link carries.

Every wait is a bounded poll with a deadline.
"""

import os
import random
import re
import socket
import subprocess
import threading
import time

import msgpack
import zmq

from . import model
from .case import NodeTestCase, _rmtree, _workdir
from .node import REPO, Node, cdht_path, free_port

WIRE_VERSION = 1
HELLO, WELCOME, REPORTS, ACK, PING, PONG, RESYNC = range(1, 8)



def _counter_names():
    """Counter names in wire order, read from proto/counters.h (the one
    table that defines them) so the tests never drift from it."""
    path = os.path.join(REPO, "proto", "counters.h")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("#define CDHT_COUNTERS(X)"):]
    body = body[:body.index("\n\n")]
    names = tuple(re.findall(r"X\((\w+)\)", body))
    if len(names) < 32:
        raise RuntimeError("cannot read the counters from %s" % path)
    return names


COUNTERS = _counter_names()


# -- keys ---------------------------------------------------------------
def python_keypair():
    pub, sec = zmq.curve_keypair()
    return pub.decode(), sec.decode()


def write_secret(path, secret):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


def cdht_keygen(prefix, cdht=None):
    """`cdht keygen PREFIX` (cdht: the binary, default cdht_path()):
    returns (public, secret path)."""
    p = subprocess.run([cdht or cdht_path(), "keygen", prefix], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise AssertionError("cdht keygen failed (%d): %s"
                             % (p.returncode, p.stderr.decode()))
    with open(prefix + ".public") as f:
        pub = f.read().strip()
    st = os.stat(prefix + ".secret")
    if st.st_mode & 0o077:
        raise AssertionError("cdht keygen: %s.secret is mode %o"
                             % (prefix, st.st_mode & 0o777))
    if len(pub) != 40 or pub not in p.stdout.decode():
        raise AssertionError("cdht keygen: public key %r not printed: %r"
                             % (pub, p.stdout))
    return pub, prefix + ".secret"


# -- polling ------------------------------------------------------------
def wait_for(fn, timeout, what, interval=0.05):
    """Poll fn() until it returns a true value (returned); fail with the
    last value after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except OSError as e:  # a node restarting: keep polling
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s; "
                                 "last: %r" % (timeout, what, last))
        time.sleep(interval)


def link_port():
    """A free port for a downlink, below the kernel's ephemeral range: a
    parent keeps its port across restarts, and a port from that range could
    meanwhile be taken by any outgoing connection (its own children's
    reconnects included: a TCP self-connect)."""
    lo = 20000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        eph = 32768
    hi = max(lo + 1000, eph - 1)
    for _ in range(200):
        port = random.randint(lo, hi)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


class HierNode(Node):
    """A Node with links.  parent: another HierNode (or None); children are
    attached with HierNode.attach()/extra_children.  keygen: "cdht" to make
    keys with `cdht keygen`, else zmq.curve_keypair()."""

    def __init__(self, workdir, level, id, name, keygen="python",
                 flush_ms=None, **kw):
        super().__init__(workdir, level=level, id=id, name=name, **kw)
        self.parent = None
        self.parent_endpoint = None   # override (e.g. a ByteRelay)
        self.children = []
        self.extra_children = []      # (id, public key, name): fake ones
        self.downlink_extra = []      # more "key = value" lines of [downlink]
        self.flush_ms = flush_ms
        self.zmq_port = link_port()
        self.up_pub, self.up_secret = self._keys("uplink", keygen)
        self.down_pub, self.down_secret = self._keys("downlink", keygen)

    def _keys(self, what, keygen):
        prefix = os.path.join(self.dir, what)
        if keygen == "cdht":
            return cdht_keygen(prefix, self.cdht)
        pub, sec = python_keypair()
        write_secret(prefix + ".secret", sec)
        return pub, prefix + ".secret"

    @property
    def endpoint(self):
        return "tcp://127.0.0.1:%d" % self.zmq_port

    def attach(self, child):
        child.parent = self
        self.children.append(child)

    def has_downlink(self):
        return bool(self.children or self.extra_children)

    def conf_text(self):
        text = super().conf_text()
        lines = []
        if self.parent is not None:
            lines += ["[uplink]",
                      "parent = %s" % (self.parent_endpoint
                                       or self.parent.endpoint),
                      "parent_key = %s" % self.parent.down_pub,
                      "secret_key = %s" % self.up_secret]
            if self.flush_ms is not None:
                lines.append("flush_ms = %d" % self.flush_ms)
        if self.has_downlink():
            cpath = os.path.join(self.dir, "children")
            with open(cpath, "w") as f:
                f.write("# ID PUBLIC_KEY NAME\n")
                for c in self.children:
                    f.write("%s %s %s\n" % (c.id, c.up_pub, c.name))
                for cid, pub, name in self.extra_children:
                    f.write("%s %s %s\n" % (cid, pub, name))
            lines += ["[downlink]",
                      "listen = %s" % self.endpoint,
                      "secret_key = %s" % self.down_secret,
                      "children = %s" % cpath]
            lines += self.downlink_extra
        return text + "\n".join(lines) + ("\n" if lines else "")

    # -- reads -----------------------------------------------------------
    def progress_doc(self, year, depth=None):
        path = "/v1/progress?year=%d" % year
        if depth is not None:
            path += "&depth=%d" % depth
        r = self.request("GET", path, role="viewer", timeout=10)
        if r.status != 200:
            raise AssertionError("%s: progress %d: %r" % (self.id, year, r))
        return r.json

    def assessed(self, year):
        return self.progress_doc(year)["counts"]["assessed"]

    def nodes_doc(self):
        r = self.request("GET", "/v1/nodes", role="viewer", timeout=10)
        if r.status != 200:
            raise AssertionError("%s: /v1/nodes: %r" % (self.id, r))
        return r.json

    def stderr_text(self):
        return self.stderr_tail(10 ** 7)


class HierModel:
    """What each node of the tree must show: the independent model applied
    to every assessment and denominator recorded in its subtree.  Person ids
    are unique per node (the tests prefix them with the node id)."""

    def __init__(self):
        self.models = {}    # node id -> model.Model of its local data
        self.parent = {}    # node id -> parent id

    def add_node(self, node_id, parent_id=None):
        self.models.setdefault(node_id, model.Model())
        self.parent[node_id] = parent_id

    def local(self, node_id):
        return self.models[node_id]

    def subtree(self, node_id):
        ids = [node_id]
        for nid in self.parent:
            p = self.parent[nid]
            while p is not None:
                if p == node_id:
                    ids.append(nid)
                    break
                p = self.parent.get(p)
        return ids

    def merged(self, node_id):
        """A Model holding all records below node_id and the sum of its
        units' denominators."""
        m = model.Model()
        pops = {}
        for nid in self.subtree(node_id):
            lm = self.models[nid]
            for k, a in lm.records.items():
                assert (k not in m.records), "person id reused: %r" % (k,)
                m.records[k] = a
            for y, p in lm.population.items():
                s = pops.setdefault(y, {f: 0 for f in model.POP_FIELDS})
                for f in model.POP_FIELDS:
                    s[f] += p[f]
        for y, p in pops.items():
            m.set_population(y, p)
        return m

    def progress(self, node_id, year):
        return self.merged(node_id).progress(year)


def _make_hier(owner, tag, level, id, name, parent, kw):
    d = _workdir("%s-%s" % (tag, id))
    owner(_rmtree, d)
    n = HierNode(d, level, id, name, **kw)
    owner(n.cleanup)
    if parent is not None:
        parent.attach(n)
    return n


def _tree(make, spec, hm, kw):
    nodes = {}
    for nid, level, name, pid in spec:
        nodes[nid] = make(level, nid, name, nodes.get(pid), kw.get(nid, {}))
        if hm is not None:
            hm.add_node(nid, pid)
    return nodes


def _check(r, status, what):
    if r.status != status:
        raise AssertionError("%s: want HTTP %d, got %r" % (what, status, r))


def submit_many(node, hm, items, chunk=500):
    """POST items as JSON arrays; each must be accepted."""
    for i in range(0, len(items), chunk):
        part = items[i:i + chunk]
        r = node.post(part, timeout=60)
        _check(r, 200, "%s: batch POST" % node.id)
        if r.json.get("rejected") != 0:
            raise AssertionError("%s: items rejected: %r" % (node.id, r))
        for a in part:
            hm.local(node.id).submit(a)


def submit_one(node, hm, a, session=None):
    r = (session.request("POST", "/v1/assessments", a) if session
         else node.post(a, timeout=10))
    _check(r, 200, "%s: POST" % node.id)
    hm.local(node.id).submit(a)
    return r


def withdraw(node, hm, year, pid):
    _check(node.delete(year, pid, timeout=10), 200, "%s: DELETE" % node.id)
    hm.local(node.id).withdraw(year, pid)


def set_population(node, hm, year, obj):
    _check(node.put_population(year, obj, timeout=10), 200,
           "%s: PUT population" % node.id)
    hm.local(node.id).set_population(year, obj)


class HierTestCase(NodeTestCase):
    """Nodes made here are killed when the test (make_hier, tree) or the
    class (class_tree) ends, whatever happened."""

    def make_hier(self, level, id, name, parent=None, **kw):
        return _make_hier(self.addCleanup, self.id().rsplit(".", 1)[-1],
                          level, id, name, parent, kw)

    def tree(self, spec, hm=None, node_kw=None):
        """spec: [(id, level, name, parent id or None)], parents first;
        node_kw: {id: HierNode keyword arguments}.  Returns {id: HierNode},
        not started."""
        return _tree(lambda l, i, n, p, kw: self.make_hier(l, i, n, p, **kw),
                     spec, hm, node_kw or {})

    @classmethod
    def class_tree(cls, spec, hm=None, node_kw=None):
        return _tree(lambda l, i, n, p, kw: _make_hier(
            cls.addClassCleanup, cls.__name__, l, i, n, p, kw),
            spec, hm, node_kw or {})

    @staticmethod
    def start_all(nodes):
        for n in nodes.values() if isinstance(nodes, dict) else nodes:
            n.start()

    # -- submissions (recorded in the model once the node accepted) ----
    # (the module functions, usable from setUpClass too)
    submit_many = staticmethod(submit_many)
    submit_one = staticmethod(submit_one)
    withdraw = staticmethod(withdraw)
    set_population = staticmethod(set_population)

    # -- convergence ------------------------------------------------------
    def progress_problems(self, node, hm, years):
        problems = []
        for y in years:
            try:
                doc = node.progress_doc(y)
            except (OSError, AssertionError) as e:
                problems.append("year %d: %s" % (y, e))
                continue
            for p in model.diff_progress(doc, hm.progress(node.id, y),
                                         node.info):
                problems.append("year %d: %s" % (y, p))
        return problems

    def assertConverges(self, node, hm, years, timeout=15.0, what=""):
        """Poll until node's progress equals the model of its subtree for
        every year, to the person; fail with the differences otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            problems = self.progress_problems(node, hm, years)
            if not problems:
                return
            if time.monotonic() >= deadline:
                self.fail("%s %s did not converge within %.0fs (%d problems)"
                          ":\n  %s\nstderr tail:\n%s"
                          % (what, node.id, timeout, len(problems),
                             "\n  ".join(problems[:40]),
                             node.stderr_tail(2500)))
            time.sleep(0.1)

    def assertAssessedWithin(self, node, year, want, timeout, what=""):
        """Poll until counts.assessed == want; returns the seconds taken."""
        t0 = time.monotonic()
        last = None
        while True:
            try:
                last = node.assessed(year)
            except OSError as e:
                last = e
            if last == want:
                return time.monotonic() - t0
            if time.monotonic() - t0 >= timeout:
                self.fail("%s %s: assessed %d is %r after %.2fs, want %d"
                          % (what, node.id, year, last, timeout, want))
            time.sleep(0.01)


# -- a child played by the test ----------------------------------------
def report(origin, year, version, path, counters=None, level="commune",
           name="Xã Giả", updated_at=None):
    """One report as on the wire; counters: {name: value}."""
    vec = [0] * len(COUNTERS)
    for k, v in (counters or {}).items():
        vec[COUNTERS.index(k)] = v
    return [origin, level, name, year, version,
            int(time.time()) if updated_at is None else updated_at,
            list(path), vec]


class FakeChild:
    """A DEALER with a CURVE key speaking the wire protocol to a parent."""

    def __init__(self, parent, public=None, secret=None, ctx=None):
        self.ctx = ctx or zmq.Context.instance()
        if public is None:
            public, secret = python_keypair()
        self.public, self.secret = public, secret
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.curve_serverkey = parent.down_pub.encode()
        self.sock.curve_publickey = public.encode()
        self.sock.curve_secretkey = secret.encode()
        self.sock.connect(parent.endpoint)
        self.seq = 0

    def close(self):
        self.sock.close(0)

    def send_raw(self, data):
        self.sock.send(data)

    def send(self, *fields):
        self.sock.send(msgpack.packb([WIRE_VERSION] + list(fields),
                                     use_bin_type=True))

    def recv(self, timeout):
        """The next message decoded, or None after timeout seconds."""
        if self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            return msgpack.unpackb(self.sock.recv(), raw=False)
        return None

    def expect(self, mtype, timeout=5.0, skip=(PONG,)):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            m = self.recv(max(0.0, left)) if left > 0 else None
            if m is None:
                raise AssertionError("no message of type %d within %.1fs"
                                     % (mtype, timeout))
            if m[1] == mtype:
                return m
            if m[1] not in skip:
                raise AssertionError("want type %d, got %r" % (mtype, m))

    def hello(self, id, inventory=(), level="district", name="Huyện Giả",
              timeout=5.0):
        """HELLO until WELCOME, resending an unanswered one after 1.2 s as
        a child does (a parent drops a HELLO within 1 s of the last one
        from the same child, PROTOCOL.md 8.2)."""
        deadline = time.monotonic() + timeout
        while True:
            self.send(HELLO, id, level, name, [list(k) for k in inventory])
            left = deadline - time.monotonic()
            try:
                return self.expect(WELCOME, min(1.2, max(0.1, left)))
            except AssertionError:
                if time.monotonic() >= deadline:
                    raise

    def reports(self, reports, removed=(), timeout=5.0):
        """Send one REPORTS batch; returns the ACK."""
        self.seq += 1
        self.send(REPORTS, self.seq, reports, [list(k) for k in removed])
        ack = self.expect(ACK, timeout)
        assert ack[2] == self.seq, "ACK for seq %r, want %d" % (ack, self.seq)
        return ack


# -- a TCP relay that counts bytes ---------------------------------------
class ByteRelay:
    """Listens on 127.0.0.1:port and relays each connection to target_port,
    counting bytes per direction (up: client to target)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.up = 0
        self.down = 0
        self.lock = threading.Lock()
        self.closed = False
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self):
        return "tcp://127.0.0.1:%d" % self.port

    def counts(self):
        with self.lock:
            return self.up, self.down

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                t = socket.create_connection(("127.0.0.1", self.target_port),
                                             timeout=5)
                t.settimeout(None)
            except OSError:
                c.close()
                continue
            self.socks += [c, t]
            threading.Thread(target=self._pipe, args=(c, t, True),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(t, c, False),
                             daemon=True).start()

    def _pipe(self, src, dst, up):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        try:
            self.lsock.close()
        except OSError:
            pass
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
