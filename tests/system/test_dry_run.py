"""?dry_run=1 answers exactly what the real write would, and leaves nothing.

Each check compares whole response objects: the dry run's answer with the
real write's answer to the same body (and with what GET then shows), on the
same data.  The outstanding rule (recognised in each of 5 consecutive years)
makes a batch depend on its own earlier items, so five recognised years of
one person in one batch (JSON array and CSV) are the case that matters.  A
dry run must leave the node's counters (GET /v1/progress), the versions it
reports upward (the parent's /v1/nodes), /v1/audit and the write counter in
/metrics as they were, also when a dry run and real writes arrive in the
same event-loop turn and so share its write transaction."""

import http.client
import json
import random
import time

from cdhttest import gen
from cdhttest.case import LOW, NOT_REC, REC, assessment, main
from cdhttest.hier import HierModel, HierTestCase
from cdhttest.model import Model

YEARS = list(range(2021, 2031))
SPEC = [
    ("14", "province", "Tỉnh Sơn La", None),
    ("03646", "commune", "Phường Tô Hiệu", "14"),
]


def without(doc, *keys):
    return {k: v for k, v in doc.items() if k not in keys}


def writes_total(node):
    r = node.request("GET", "/metrics", role="viewer")
    for line in r.body.decode().splitlines():
        if line.startswith("cdht_http_writes_total "):
            return int(line.split()[1])
    raise AssertionError("no cdht_http_writes_total in %r" % r)


def snapshot(node):
    """What a dry run must not change on node, as comparable values."""
    prog = {}
    for y in YEARS:
        r = node.progress(y)
        assert r.status == 200, r
        prog[y] = without(r.json, "as_of")
    audit = node.request("GET", "/v1/audit?limit=10000", role="admin")
    assert audit.status == 200, audit
    return {"progress": prog, "audit": audit.json,
            "writes": writes_total(node)}


def audit_rows(node):
    """The audit trail without ids and times (they differ between nodes)."""
    r = node.request("GET", "/v1/audit?limit=10000", role="admin")
    assert r.status == 200, r
    return [(e["who"], e["action"], e["detail"]) for e in r.json["audit"]]


def send(node, items, dry_run, fmt):
    if fmt == "csv":
        return node.post_csv(gen.to_csv(items), dry_run=dry_run, timeout=60)
    return node.post(items, dry_run=dry_run, timeout=60)


class DryRunTest(HierTestCase):

    def two_levels(self):
        hm = HierModel()
        nodes = self.tree(SPEC, hm)
        self.start_all([nodes["03646"], nodes["14"]])
        return nodes["14"], nodes["03646"], hm

    def parent_view(self, parent, cid):
        """The commune's version and figures as its parent shows them."""
        nodes = {x["id"]: x for x in parent.nodes_doc()["nodes"]}
        prog = {y: parent.progress_doc(y, depth=1).get("children")
                for y in YEARS}
        return nodes.get(cid, {}).get("version"), prog

    def check_batch(self, fmt):
        parent, c, hm = self.two_levels()
        m = hm.local(c.id)
        # earlier data the batch meets: a replacement, a neighbour, a year
        # with denominators
        self.submit_one(c, hm, assessment(2023, "P", NOT_REC))
        self.submit_one(c, hm, assessment(2024, "Q", REC, group="worker"))
        self.set_population(c, hm, 2025, {"adults": 40, "staff": 3})
        self.assertConverges(parent, hm, YEARS, what="before the dry run")
        before = snapshot(c)
        seen_above = self.parent_view(parent, c.id)
        self.assertIsNotNone(seen_above[0], "parent lacks the commune")

        batch = [assessment(y, "P", REC) for y in range(2021, 2026)]
        batch += [assessment(2099, "bad"),                  # rejected
                  assessment(2025, "Q", REC, group="worker"),
                  assessment(2025, "R", LOW, digital="none")]
        dry = send(c, batch, True, fmt)
        self.assertStatus(dry, 200, "dry run")
        self.assertIs(dry.json.get("dry_run"), True, dry)
        key = "line" if fmt == "csv" else "index"
        res = {(x["year"], x["person_id"]): x for x in dry.json["results"]}
        # the case of the issue: the fifth year is outstanding
        self.assertIs(res[(2025, "P")]["outstanding"], True, dry)
        self.assertIs(res[(2024, "P")]["outstanding"], False, dry)

        # nothing of the dry run is anywhere, here or above
        time.sleep(0.3)  # an uplink flush would have happened by now
        self.assertEqual(snapshot(c), before, "the dry run changed the node")
        self.assertEqual(self.parent_view(parent, c.id), seen_above,
                         "the dry run reached the parent")
        for a in batch[:5]:
            if a["year"] != 2023:
                self.assertEqual(c.get(a["year"], "P").status, 404)
        self.assertIs(c.get(2023, "P").json["recognized"], False)

        real = send(c, batch, False, fmt)
        self.assertStatus(real, 200, "real write")
        self.assertIs(real.json.get("dry_run"), False, real)
        self.assertEqual(without(dry.json, "dry_run"),
                         without(real.json, "dry_run"),
                         "the dry run answered otherwise than the write")
        self.assertEqual(dry.json["accepted"], 7, dry)
        self.assertEqual(dry.json["rejected"], 1, dry)

        # every result is what the model says and what GET then shows
        for a, r in zip([a for a in batch if a["year"] != 2099],
                        real.json["results"]):
            m.submit(a)
            exp = m.expected_record(a["year"], a["person_id"])
            got = c.get(a["year"], a["person_id"]).json
            result = without(r, key)
            self.assertEqual(result, {k: got[k] for k in result},
                             "POST result vs GET %r" % (r,))
            self.assertEqual(result, {k: exp[k] for k in result},
                             "POST result vs model %r" % (r,))
        self.assertProgress(c, m, YEARS)
        self.assertConverges(parent, hm, YEARS, what="after the write")
        self.assertNotEqual(self.parent_view(parent, c.id)[0],
                            seen_above[0], "the real write did not go up")
        self.assertEqual(writes_total(c), before["writes"] + 1)

    def test_json_array_five_years(self):
        self.check_batch("json")

    def test_csv_five_years(self):
        self.check_batch("csv")

    def test_single_object(self):
        n = self.make_node()
        for y in range(2021, 2025):
            self.assertStatus(n.post(assessment(y, "S", REC)), 200)
        before = snapshot(n)
        for a in (assessment(2025, "S", REC),        # outstanding
                  assessment(2023, "S", LOW),        # breaks 2024's run
                  assessment(2026, "T", NOT_REC)):   # new, not recognised
            dry = n.post(a, dry_run=True)
            self.assertStatus(dry, 200, "dry %r" % a)
            self.assertEqual(snapshot(n), before, "dry %r" % a)
            real = n.post(a)
            self.assertStatus(real, 200, "real %r" % a)
            self.assertEqual(dry.json, real.json, a)
            got = n.get(a["year"], a["person_id"]).json
            self.assertEqual(real.json, {k: got[k] for k in real.json})
            before = snapshot(n)
        self.assertIs(n.get(2025, "S").json["outstanding"], False)

    def test_same_turn(self):
        """A big dry run keeps the loop busy while a real write and a
        second dry run arrive: all three are handled in one turn, sharing
        its transaction.  The real write is exactly what it is on a node
        that saw no dry run, and each dry run is what its real write
        answers there."""
        n, ctl = self.make_node(), self.make_node()
        rng = random.Random(7)
        big = gen.assessments(rng, 20000, (2025, 2026), prefix="big-")[:20000]
        a_body = gen.to_csv(big)
        b_body = [assessment(y, "R", REC) for y in range(2021, 2026)]
        c_body = [assessment(2026, "R", REC), assessment(2023, "R", NOT_REC)]

        def start(path, body, ctype):
            conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=60)
            h = n.auth_header("clerk")
            h["Content-Type"] = ctype
            conn.request("POST", path, body=body.encode(), headers=h)
            return conn

        def finish(conn):
            r = conn.getresponse()
            body = r.read()
            conn.close()
            self.assertEqual(r.status, 200, body[:300])
            return json.loads(body)

        ca = start("/v1/assessments?dry_run=1", a_body, "text/csv")
        time.sleep(0.1)  # A is in and being scored
        cb = start("/v1/assessments", json.dumps(b_body), "application/json")
        time.sleep(0.02)
        cc = start("/v1/assessments?dry_run=1", json.dumps(c_body),
                   "application/json")
        a_dry, b_real, c_dry = finish(ca), finish(cb), finish(cc)

        # the real write as on a node without dry runs, and nothing else
        b_ctl = ctl.post(b_body)
        self.assertStatus(b_ctl, 200)
        self.assertEqual(b_real, b_ctl.json, "the real write was affected")
        for node in (n, ctl):
            self.assertIs(node.get(2025, "R").json["outstanding"], True)
            self.assertIs(node.get(2023, "R").json["recognized"], True)
            self.assertEqual(node.get(2026, "R").status, 404)
            self.assertEqual(node.get(2025, big[0]["person_id"]).status, 404)
        for y in range(2021, 2026):
            self.assertEqual(without(n.get(y, "R").json, "updated_at"),
                             without(ctl.get(y, "R").json, "updated_at"))
        self.assertEqual(without(snapshot(n), "audit"),
                         without(snapshot(ctl), "audit"))
        self.assertEqual(audit_rows(n), audit_rows(ctl))
        m = Model()
        for a in b_body:
            m.submit(a)
        self.assertProgress(n, m, YEARS)

        # each dry run answered what its real write answers after B
        self.assertIs(c_dry["dry_run"], True)
        self.assertIs(c_dry["results"][0]["outstanding"], True, c_dry)
        c_ctl = ctl.post(c_body)
        self.assertStatus(c_ctl, 200)
        self.assertEqual(without(c_dry, "dry_run"),
                         without(c_ctl.json, "dry_run"))
        a_ctl = ctl.post_csv(a_body, timeout=60)
        self.assertStatus(a_ctl, 200)
        self.assertEqual(without(a_dry, "dry_run"),
                         without(a_ctl.json, "dry_run"))

    def test_storage_full_inside_dry_run(self):
        """A dry run too big for the map answers 507 like its real write;
        the real write that shares its turn is stored all the same."""
        n = self.make_node(map_size_mb=2)
        rng = random.Random(8)
        big = gen.assessments(rng, 20000, (2025, 2026), prefix="big-")[:20000]
        a_body = gen.to_csv(big)
        r = n.post_csv(a_body, dry_run=True, timeout=60)
        self.assertError(r, 507, "storage_full", what="dry run alone")
        before = snapshot(n)
        # S keeps the loop busy (every row rejected: nothing is written)
        # until A and B are both in: they share a turn
        s_body = gen.to_csv([dict(a, year=2099) for a in big])
        b = assessment(2025, "kept", REC)
        h = n.auth_header("clerk")
        conns = []
        for path, body, ctype in (
                ("/v1/assessments", s_body, "text/csv"),
                ("/v1/assessments?dry_run=1", a_body, "text/csv"),
                ("/v1/assessments", json.dumps(b), "application/json")):
            conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=60)
            conn.request("POST", path, body=body.encode(),
                         headers=dict(h, **{"Content-Type": ctype}))
            conns.append(conn)
            time.sleep(0.02)
        replies = []
        for conn in conns:
            r = conn.getresponse()
            replies.append((r.status, r.read()))
            conn.close()
        (ss, _), (sa, body_a), (sb, body_b) = replies
        self.assertEqual(ss, 200)
        self.assertEqual(sa, 507, body_a[:300])
        self.assertEqual(sb, 200, body_b[:300])
        got = n.get(2025, "kept")
        self.assertStatus(got, 200, "the real write was lost")
        self.assertEqual(json.loads(body_b),
                         {k: got.json[k] for k in json.loads(body_b)})
        after = snapshot(n)
        self.assertEqual(after["writes"], before["writes"] + 1)
        self.assertEqual(len(after["audit"]["audit"]),
                         len(before["audit"]["audit"]) + 1)
        self.assertEqual(n.progress(2025).json["counts"]["assessed"], 1)
        self.assertAlive(n)

if __name__ == "__main__":
    main()
