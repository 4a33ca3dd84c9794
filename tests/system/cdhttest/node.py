"""A real cdhtd process on a loopback port, for the system tests.

memcached-style: write a conf and a tokens file into a private directory,
start the daemon on a free port, poll /healthz until it answers (failing fast
if the child died), and always kill what we started.  Every wait has a
deadline.
"""

import glob
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 30.0


def _find_binary(env, subdir, name):
    p = os.environ.get(env)
    if p:
        if not os.access(p, os.X_OK):
            raise RuntimeError("%s=%s is not an executable" % (env, p))
        return p
    cands = [c for c in glob.glob(os.path.join(REPO, "build*", subdir, name))
             if os.access(c, os.X_OK)]
    if not cands:
        raise RuntimeError("no %s binary: set %s or build into %s/build*/%s/"
                           % (name, env, REPO, subdir))
    return max(cands, key=os.path.getmtime)


def cdhtd_path():
    return _find_binary("CDHTD", "daemon", "cdhtd")


def cdht_path():
    return _find_binary("CDHT", "client", "cdht")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    return secrets.token_hex(24)


def quote_pid(pid):
    return urllib.parse.quote(pid, safe="")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise AssertionError("response %d is not JSON (%s): %r"
                                 % (self.status, e, self.body[:500]))

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status,
                                 self.body[:600].decode("utf-8", "replace"))


class Node:
    """One cdhtd under test.

    workdir: a private directory (created); holds conf.ini, tokens, data/,
    stdout.log and stderr.log.  tokens: {"admin"|"clerk"|"viewer": token}.
    cdhtd, cdht: the binaries this node runs (default: cdhtd_path() and
    cdht_path()); attributes, so a test may switch them between a stop and
    a start (an upgrade).
    """

    def __init__(self, workdir, level="commune", id="04108",
                 name="Xã Chiềng Sung", targets=None, map_size_mb=None,
                 max_body_kb=None, nofile=None, cdhtd=None, cdht=None):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.level, self.id, self.name = level, id, name
        self.targets = dict(targets or {})
        self.map_size_mb = map_size_mb
        self.max_body_kb = max_body_kb
        self.nofile = nofile  # RLIMIT_NOFILE for the daemon, or None
        self.cdhtd = cdhtd
        self.cdht = cdht
        self.data_dir = os.path.join(workdir, "data")
        self.conf_path = os.path.join(workdir, "conf.ini")
        self.tokens_path = os.path.join(workdir, "tokens")
        self.stdout_path = os.path.join(workdir, "stdout.log")
        self.stderr_path = os.path.join(workdir, "stderr.log")
        self.tokens = {r: new_token() for r in ("admin", "clerk", "viewer")}
        with open(self.tokens_path, "w") as f:
            f.write("# tokens for the system tests: ROLE SHA256HEX [label]\n")
            for role, tok in self.tokens.items():
                f.write("%s %s %s-test\n" % (role, token_hash(tok), role))
        self.port = None
        self.proc = None
        self.starts = 0
        self.conf_fn = None  # optional: port -> conf text, replaces conf_text
        self.env = None      # optional: more environment for the daemon

    @property
    def info(self):
        return {"id": self.id, "level": self.level, "name": self.name}

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def conf_text(self):
        lines = ["[node]",
                 "id = %s" % self.id,
                 "level = %s" % self.level,
                 "name = %s" % self.name,
                 "data_dir = %s" % self.data_dir]
        if self.map_size_mb is not None:
            lines.append("map_size_mb = %d" % self.map_size_mb)
        lines += ["[http]",
                  "listen = 127.0.0.1:%d" % self.port,
                  "tokens = %s" % self.tokens_path]
        if self.max_body_kb is not None:
            lines.append("max_body_kb = %d" % self.max_body_kb)
        if self.targets:
            lines.append("[targets]")
            for k, (a, b) in self.targets.items():
                lines.append("%s = %d %d" % (k, a, b))
        return "\n".join(lines) + "\n"

    # -- process control ----------------------------------------------
    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-n:].decode("utf-8", "replace")

    def stdout_text(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cdhtd_bin(self):
        return self.cdhtd or cdhtd_path()

    def cdht_bin(self):
        return self.cdht or cdht_path()

    def start(self, timeout=START_TIMEOUT, keep_port=False):
        """Start cdhtd and wait until /healthz answers 200.  keep_port: try
        the HTTP port of the last start first (the conf stays the same)."""
        assert not self.alive(), "node already running"
        last_err = ""
        for attempt in range(3):
            if not (keep_port and attempt == 0 and self.port):
                self.port = free_port()
            with open(self.conf_path, "w") as f:
                f.write(self.conf_fn(self.port) if self.conf_fn
                        else self.conf_text())
            with open(self.stdout_path, "ab") as out, \
                    open(self.stderr_path, "ab") as err:
                err.write(("--- start %d (port %d)\n"
                           % (self.starts, self.port)).encode())
                err.flush()
                self.proc = subprocess.Popen(
                    [self.cdhtd_bin(), "-c", self.conf_path],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    cwd=self.dir, preexec_fn=self._limits,
                    env=dict(os.environ, **self.env) if self.env else None)
            self.starts += 1
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                rc = self.proc.poll()
                if rc is not None:
                    break
                try:
                    r = self.request("GET", "/healthz", role=None, timeout=2)
                    if r.status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                self.kill9()
                raise AssertionError("cdhtd did not answer /healthz within "
                                     "%.0fs; stderr:\n%s"
                                     % (timeout, self.stderr_tail()))
            last_err = self.stderr_tail()
            self.proc = None
            low = last_err.lower()
            if "in use" in low or "bind" in low:
                continue  # lost a port race with another test: retry
            break
        raise AssertionError("cdhtd exited with %s during start-up; stderr:\n%s"
                             % (rc, last_err))

    def _limits(self):
        if self.nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (self.nofile, self.nofile))

    def cpu_seconds(self):
        """User + system CPU time the daemon has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; wait for the exit; return the exit code."""
        assert self.proc is not None, "node not started"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError("cdhtd ignored SIGTERM for %.0fs" % timeout)
        return rc

    def rewrite_conf(self):
        """Write the conf (and what conf_text writes beside it) again for
        the running node's port, as an admin edits it before a reload."""
        with open(self.conf_path, "w") as f:
            f.write(self.conf_fn(self.port) if self.conf_fn
                    else self.conf_text())

    def reload(self):
        """SIGHUP: the node reads its conf again."""
        self.proc.send_signal(signal.SIGHUP)

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def restart(self, keep_port=False):
        rc = self.stop()
        if rc != 0:
            raise AssertionError("cdhtd exited %s on SIGTERM; stderr:\n%s"
                                 % (rc, self.stderr_tail()))
        return self.start(keep_port=keep_port)

    def cleanup(self):
        self.kill9()

    # -- HTTP ----------------------------------------------------------
    def auth_header(self, role="admin", token=None):
        if token is not None:
            return {"Authorization": "Bearer " + token}
        if role is None:
            return {}
        return {"Authorization": "Bearer " + self.tokens[role]}

    def request(self, method, path, body=None, role="admin", token=None,
                headers=None, content_type=None, timeout=REQUEST_TIMEOUT):
        """One HTTP request on a fresh connection.  body: dict/list (sent as
        JSON), str or bytes.  role None and token None: no Authorization."""
        h = self.auth_header(role, token)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, ensure_ascii=False)
            if content_type is None:
                content_type = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            h["Content-Type"] = content_type
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                            data)
        finally:
            conn.close()

    def metrics(self):
        """GET /metrics as {name: number}."""
        r = self.request("GET", "/metrics", role="viewer")
        assert r.status == 200, r
        out = {}
        for line in r.body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.split()
                out[name] = float(value) if "." in value else int(value)
        return out

    def health(self):
        return self.request("GET", "/healthz", role=None, timeout=5)

    def post(self, obj, role="clerk", dry_run=False, **kw):
        path = "/v1/assessments" + ("?dry_run=1" if dry_run else "")
        return self.request("POST", path, obj, role=role, **kw)

    def post_csv(self, text, role="clerk", dry_run=False, **kw):
        path = "/v1/assessments" + ("?dry_run=1" if dry_run else "")
        return self.request("POST", path, text, role=role,
                            content_type="text/csv", **kw)

    def get(self, year, pid, role="clerk", **kw):
        return self.request("GET", "/v1/assessments/%s/%s"
                            % (year, quote_pid(pid)), role=role, **kw)

    def delete(self, year, pid, role="clerk", **kw):
        return self.request("DELETE", "/v1/assessments/%s/%s"
                            % (year, quote_pid(pid)), role=role, **kw)

    def put_population(self, year, obj, role="clerk", **kw):
        return self.request("PUT", "/v1/population/%s" % year, obj,
                            role=role, **kw)

    def get_population(self, year, role="clerk", **kw):
        return self.request("GET", "/v1/population/%s" % year, role=role, **kw)

    def progress(self, year=None, role="viewer", **kw):
        path = "/v1/progress" + ("" if year is None else "?year=%s" % year)
        return self.request("GET", path, role=role, **kw)

    # -- the cdht client ------------------------------------------------
    def client(self, *args, role="admin", token=None, input=None,
               timeout=120, env=None, server=None, use_env=False):
        """Run cdht against this node: --server/--token before the command
        (or CDHT_SERVER/CDHT_TOKEN when use_env).  Returns CompletedProcess
        with text stdout/stderr."""
        tok = token if token is not None else (
            self.tokens[role] if role else None)
        srv = server or self.url
        e = dict(os.environ)
        e.pop("CDHT_SERVER", None)
        e.pop("CDHT_TOKEN", None)
        # the tests read cdht's English unless they set LANG themselves
        # (cdht speaks Vietnamese by default)
        e.pop("LC_ALL", None)
        e["LANG"] = "en_US.UTF-8"
        argv = [self.cdht_bin()]
        if use_env:
            e["CDHT_SERVER"] = srv
            if tok is not None:
                e["CDHT_TOKEN"] = tok
        else:
            argv += ["--server", srv]
            if tok is not None:
                argv += ["--token", tok]
        if env:
            e.update(env)
        argv += [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode("utf-8")
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=e,
                           cwd=self.dir,
                           stdin=None if input is not None else subprocess.DEVNULL)
        p.stdout = p.stdout.decode("utf-8", "replace")
        p.stderr = p.stderr.decode("utf-8", "replace")
        return p


class Session:
    """A keep-alive HTTP connection to a node, reconnecting when the node
    closes it: for tests that send thousands of requests."""

    def __init__(self, node, role="admin"):
        self.node = node
        self.role = role
        self.conn = None

    def request(self, method, path, body=None, content_type=None,
                timeout=REQUEST_TIMEOUT):
        h = self.node.auth_header(self.role)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, ensure_ascii=False)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type:
            h["Content-Type"] = content_type
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.node.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return Response(r.status,
                                {k.lower(): v for k, v in r.getheaders()}, data)
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest):
                self.close()
                if attempt == 1 or method not in ("GET",):
                    raise
        raise AssertionError("unreachable")

    def get(self, year, pid):
        return self.request("GET", "/v1/assessments/%s/%s"
                            % (year, quote_pid(pid)))

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw_http(port, data, timeout=10.0, chunks=None):
    """Send raw bytes (then each of `chunks`) on a fresh connection and read
    one response until the server closes or Content-Length is satisfied.
    A reset while sending is tolerated (the server may answer early).
    Returns a Response, or None when the server closed without answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            for c in chunks or ():
                s.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                part = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not part:
                break
            buf += part
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                m = [l for l in head.split(b"\r\n")[1:]
                     if l.lower().startswith(b"content-length:")]
                if m and len(body) >= int(m[0].split(b":", 1)[1]):
                    break
    finally:
        s.close()
    if not buf:
        return None
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Response(0, {}, buf)  # not an HTTP/1.x response
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        headers[k.decode().strip().lower()] = v.decode().strip()
    m = headers.get("content-length")
    if m is not None:
        body = body[:int(m)]
    return Response(status, headers, body)
