"""README "Deploying a node", followed on loopback.

The commands are read from the README's own code blocks (section
"Deploying a node"), so the test fails when the README drifts from what
works: every `cdht init` there is run as written, with only what a test on
one host must change (--dir and --data-dir under a temporary directory
instead of /etc/cdht and /var/lib/cdht, the API and downlink on 127.0.0.1
ports, the parent's README address replaced by its loopback endpoint and
the KEY placeholder by the key the parent's `cdht init` printed).  The tree
is the README's: province 14; commune 04108 straight under it (two
levels); district 125 under it with commune 04105 (three levels); the
province's agency gets a clerk token with the README's `cdht token new`.

Checked: the files and their modes, `cdhtd -n -c` on every written conf,
that init refuses to overwrite, `cdht child add` with the very lines init
printed (and its refusal of a duplicate id or key), the reload it sends,
the children connecting, an assessment at each commune and at the agency
reaching the province, and `cdht child remove` making the province forget a
commune.
"""

import hashlib
import os
import pwd
import re
import shlex
import signal
import stat
import subprocess
import time

from cdhttest.case import NodeTestCase, _rmtree, _workdir, assessment, main
from cdhttest.hier import link_port, wait_for
from cdhttest.node import REPO, Node, cdht_path, cdhtd_path, free_port

README = os.path.join(REPO, "README.md")
YEAR = 2025
# the README's hosts: whose downlink each --parent names
HOSTS = {"10.14.0.1": "14", "10.125.0.1": "125"}


def readme_section(title):
    with open(README, encoding="utf-8") as f:
        text = f.read()
    a = text.index("\n## " + title)
    b = text.find("\n## ", a + 1)
    return text[a:b if b != -1 else len(text)]


def code_commands(section):
    """Every command of the section's sh blocks, as argv lists: lines
    continued with a backslash joined, comments dropped."""
    cmds = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                cmds.append(argv)
    return cmds


def options(argv):
    """{--option: value} of a `cdht init` argv (every option takes one)."""
    out, i = {}, 2
    while i < len(argv):
        assert argv[i].startswith("--") and i + 1 < len(argv), argv
        out[argv[i]] = argv[i + 1]
        i += 2
    return out


def snapshot(d):
    """{name: bytes} of the files in d."""
    out = {}
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out[n] = f.read()
    return out


def run(argv, **kw):
    e = dict(os.environ, LANG="en_US.UTF-8")
    e.pop("LC_ALL", None)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env=e, **kw)


class InitNode(Node):
    """A cdhtd started on the files `cdht init` wrote (not the harness's
    conf): HTTP on the port given to init, the printed admin token."""

    def __init__(self, rundir, level, id, name, conf, port, token):
        super().__init__(rundir, level=level, id=id, name=name)
        self.conf_path, self.port = conf, port
        self.tokens = {r: token for r in ("admin", "clerk", "viewer")}

    def assessed(self, year):
        r = self.progress(year)
        assert r.status == 200, r
        return r.json["counts"]["assessed"]

    def start(self, timeout=20.0):
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [cdhtd_path(), "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("cdhtd %s exited %s:\n%s" % (
                    self.id, self.proc.returncode, self.stderr_tail()))
            try:
                if self.health().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise AssertionError("cdhtd %s did not answer:\n%s"
                             % (self.id, self.stderr_tail()))


class Setup(NodeTestCase):
    def setUp(self):
        self.root = _workdir("setup")
        self.addCleanup(_rmtree, self.root)
        section = readme_section("Deploying a node")
        self.cmds = code_commands(section)
        self.assertTrue(self.cmds, "README: no sh blocks under Deploying")

    def readme_has(self, argv):
        self.assertIn(argv, self.cmds, "README Deploying a node lacks: %s"
                      % " ".join(argv))

    def init(self, argv, info):
        """Run one README `cdht init` with the loopback substitutions;
        returns what it printed, parsed, and checks the files."""
        o = options(argv)
        nid, level = o["--id"], o["--level"]
        base = os.path.join(self.root, nid)
        etc, data = os.path.join(base, "etc"), os.path.join(base, "data")
        os.makedirs(base)
        http = free_port()
        sub = dict(o)
        sub.update({"--dir": etc, "--data-dir": data,
                    "--listen-http": "127.0.0.1:%d" % http})
        if level not in ("commune", "agency"):
            sub["--downlink"] = "127.0.0.1:%d" % link_port()
        parent_id = None
        if "--parent" in o:
            host = re.match(r"tcp://([^:]+):9470$", o["--parent"])
            self.assertTrue(host and host.group(1) in HOSTS,
                            "README: --parent %s is not a README host"
                            % o["--parent"])
            parent_id = HOSTS[host.group(1)]
            parent = info[parent_id]
            sub["--parent"] = parent["endpoint"]
            sub["--parent-key"] = parent["public"]
        full = [cdht_path(), "init"]
        for k, v in sub.items():
            full += [k, v]
        p = run(full)
        self.assertEqual(p.returncode, 0, "cdht init %s: %s%s"
                         % (nid, p.stdout, p.stderr))
        with open(os.path.join(etc, "node.public")) as f:
            public = f.read().strip()
        self.assertEqual(len(public), 40)
        m = re.search(r"Admin token[^\n]*\n\s+([0-9a-f]{64})\n", p.stdout)
        self.assertTrue(m, "no admin token printed: %s" % p.stdout)
        rec = {"id": nid, "level": level, "name": o["--name"], "etc": etc,
               "data": data, "http": http, "token": m.group(1),
               "public": public, "conf": os.path.join(etc, "cdhtd.conf"),
               "parent": parent_id, "out": p.stdout}
        # the line for the parent's admin: this node's values, quoted
        line = [ln.strip() for ln in p.stdout.splitlines()
                if ln.strip().startswith("cdht child add ")]
        if "--parent" in o:
            self.assertEqual(len(line), 1, p.stdout)
            self.assertEqual(shlex.split(line[0]),
                             ["cdht", "child", "add", nid, public,
                              o["--name"]])
            rec["line"] = line[0]
        else:
            self.assertEqual(line, [])
        if level not in ("commune", "agency"):
            hint = re.search(r"--parent (tcp://\S+) --parent-key (\S+)\n",
                             p.stdout)
            self.assertTrue(hint, p.stdout)
            self.assertEqual(hint.group(1), "tcp://" + sub["--downlink"])
            self.assertEqual(shlex.split(hint.group(2)), [public])
            rec["endpoint"] = hint.group(1)
        self.check_files(rec, sub, p)
        return rec

    def check_files(self, rec, sub, p):
        etc = rec["etc"]

        def mode(name):
            return stat.S_IMODE(os.stat(os.path.join(etc, name)).st_mode)

        self.assertEqual(mode("node.secret"), 0o600)
        self.assertEqual(mode("tokens"), 0o640)
        has_down = rec["level"] not in ("commune", "agency")
        self.assertEqual(os.path.exists(os.path.join(etc, "children")),
                         has_down)
        if has_down:
            self.assertEqual(mode("children"), 0o640)
        with open(rec["conf"], encoding="utf-8") as f:
            conf = f.read()
        self.assertEqual("\n[downlink]\n" in conf, has_down)
        self.assertEqual("\n[uplink]\n" in conf, "--parent" in sub)
        self.assertIn("\nid = %s\n" % rec["id"], conf)
        self.assertIn("\nname = %s\n" % rec["name"], conf)
        with open(os.path.join(etc, "tokens")) as f:
            lines = [ln.split() for ln in f if not ln.startswith("#")]
        self.assertEqual(lines, [["admin", hashlib.sha256(
            rec["token"].encode()).hexdigest(), "admin-" + rec["id"]]])
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("cdht")
            except KeyError:
                self.assertIn("there is no 'cdht' account", p.stderr)
            else:
                self.assertEqual(os.stat(os.path.join(
                    etc, "node.secret")).st_uid, pw.pw_uid)
        # the written conf passes the daemon's own check
        c = run([cdhtd_path(), "-n", "-c", rec["conf"]])
        self.assertEqual((c.returncode, c.stdout), (0, "configuration OK\n"),
                         c.stderr)

    def test_readme_walkthrough(self):
        with open(os.path.join(REPO, "CMakeLists.txt")) as f:
            v = re.search(r"project\(cdht VERSION (\S+)", f.read())
        self.readme_has(["apt", "install", "./cdht_%s_amd64.deb" % v.group(1)])
        self.readme_has(["cdhtd", "-n", "-c", "/etc/cdht/cdhtd.conf"])
        self.readme_has(["systemctl", "enable", "--now", "cdhtd"])
        self.readme_has(["systemctl", "reload", "cdhtd"])
        inits = [c for c in self.cmds if c[:2] == ["cdht", "init"]]
        self.assertEqual([options(c)["--id"] for c in inits],
                         ["14", "04108", "SGDDT14", "125", "04105"],
                         "README: the walkthrough's nodes")

        info = {}
        for argv in inits:
            rec = self.init(argv, info)
            info[rec["id"]] = rec

        # init never overwrites: the same command again changes nothing
        prov = info["14"]
        before = snapshot(prov["etc"])
        again = run([cdht_path(), "init", "--level", "province", "--id", "14",
                     "--name", "Tỉnh Sơn La", "--dir", prov["etc"],
                     "--data-dir", prov["data"]])
        self.assertEqual(again.returncode, 1)
        self.assertIn(prov["conf"] + " exists", again.stderr)
        self.assertIn("nothing written", again.stderr)
        self.assertEqual(snapshot(prov["etc"]), before)

        # systemctl enable --now cdhtd, on each host
        nodes = {}
        for nid, rec in info.items():
            n = InitNode(os.path.join(self.root, nid, "run"), rec["level"],
                         nid, rec["name"], rec["conf"], rec["http"],
                         rec["token"])
            self.addCleanup(n.cleanup)
            nodes[nid] = n.start()

        # the parents' admins run the lines their children sent
        readme_adds = [c[3] for c in self.cmds if c[:3] == ["cdht", "child",
                                                             "add"]]
        self.assertEqual(readme_adds, ["04108", "04105"])
        for nid in ("04108", "SGDDT14", "125", "04105"):
            rec, parent = info[nid], info[info[nid]["parent"]]
            argv = shlex.split(rec["line"])
            # options go before ID (a key may start with "-")
            argv[0:3] = [cdht_path(), "child", "add", "--conf",
                         parent["conf"]]
            p = run(argv)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("SIGHUP to pid %d" % nodes[parent["id"]].proc.pid,
                          p.stdout)
            # a duplicate id, and another id with the same key, are refused
            dup = run(argv)
            self.assertEqual(dup.returncode, 1)
            self.assertIn("this id is there already", dup.stderr)
            other = argv[:5] + ["--no-reload", "99999", argv[6], "Xã Khác"]
            dup = run(other)
            self.assertEqual(dup.returncode, 1)
            self.assertIn("this key is there already", dup.stderr)
            # an option after NAME would end up in it: refused
            late = run(other[:3] + other[6:] + ["--conf", parent["conf"]])
            self.assertEqual(late.returncode, 2)
            self.assertIn("options go before ID", late.stderr)

        for nid in ("04108", "SGDDT14", "125", "04105"):
            wait_for(lambda: nodes[nid].client(
                "health", role=None).returncode == 0, 20,
                "%s linked to its parent (cdht health 0)" % nid)

        # the agency: a clerk token at the province, reloaded in
        tok = [c for c in self.cmds if c[:3] == ["cdht", "token", "new"]]
        self.assertEqual(len(tok), 1)
        p = run([cdht_path()] + tok[0][1:])
        self.assertEqual(p.returncode, 0, p.stderr)
        agency_token, line = p.stdout.splitlines()
        self.assertTrue(line.startswith("clerk "), line)
        r = nodes["14"].post(assessment(YEAR, "so-1", population="staff",
                                        group="official"),
                             token=agency_token)
        self.assertEqual(r.status, 401, r)
        with open(os.path.join(prov["etc"], "tokens"), "a") as f:
            f.write(line + "\n")
        nodes["14"].proc.send_signal(signal.SIGHUP)  # systemctl reload
        wait_for(lambda: nodes["14"].post(
            assessment(YEAR, "so-1", population="staff", group="official"),
            token=agency_token).status == 200, 10, "the agency's token")

        # a clerk's write at each commune reaches the province
        for nid in ("04108", "04105"):
            r = nodes[nid].post(assessment(YEAR, "p-" + nid), role="admin")
            self.assertEqual(r.status, 200, r)
        # and the agency node's own staff
        r = nodes["SGDDT14"].post(assessment(YEAR, "sgd-1", population="staff",
                                             group="official"), role="admin")
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: nodes["14"].assessed(YEAR) == 4, 15,
                 "the province to count both communes and both agencies")
        levels = {x["id"]: x["level"] for x in nodes["14"].request(
            "GET", "/v1/nodes", role="admin").json["nodes"]}
        self.assertEqual(levels.get("SGDDT14"), "agency", levels)
        self.assertEqual(nodes["125"].assessed(YEAR), 1)
        self.assertEqual(nodes["04108"].assessed(YEAR), 1)

        # cdht child remove: the province forgets the commune
        p = run([cdht_path(), "child", "remove", "--conf", prov["conf"],
                 "04108"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        wait_for(lambda: nodes["14"].assessed(YEAR) == 3, 15,
                 "the province to forget 04108")
        with open(os.path.join(prov["etc"], "children")) as f:
            ids = [ln.split()[0] for ln in f if ln.strip()
                   and not ln.startswith("#")]
        self.assertEqual(ids, ["SGDDT14", "125"])
        p = run([cdht_path(), "child", "remove", "--conf", prov["conf"],
                 "04108"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("lists no child 04108", p.stderr)

    def test_init_refusals(self):
        d = os.path.join(self.root, "x")
        base = [cdht_path(), "init", "--dir", d, "--data-dir", d + "-data"]
        key = "rj-0e=7u:n:06+{c>&esB3]g8Ppb1CzL>yGXJgjF"
        for args, msg in (
                (["--level", "commune", "--id", "04108", "--name", "X"],
                 "give --parent"),
                (["--level", "national", "--id", "VN", "--name", "V",
                  "--parent", "tcp://127.0.0.1:1", "--parent-key", key],
                 "no parent"),
                (["--level", "commune", "--id", "04108", "--name", "X",
                  "--parent", "tcp://127.0.0.1:1", "--parent-key", key,
                  "--downlink", "0.0.0.0:9470"], "no children"),
                (["--level", "town", "--id", "1", "--name", "X"],
                 "--level must be"),
                (["--level", "province", "--id", "1 4", "--name", "X"],
                 "--id must be"),
                (["--level", "province", "--id", "14", "--name", "a ; b"],
                 "--name must be"),
                (["--level", "district", "--id", "125", "--name", "M",
                  "--parent", "tcp://127.0.0.1:1", "--parent-key", "short"],
                 "--parent-key must be"),
                (["--level", "province", "--id", "14", "--name", "S",
                  "--dir", "relative"], "absolute")):
            p = run(base + args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(msg, p.stderr, args)
            self.assertFalse(os.path.exists(d), args)


if __name__ == "__main__":
    main()
