"""The yearly cycle (issue 9) for the system tests: decisions, title
records and filings.

  - request helpers for /v1/decisions, /v1/titles, /v1/filings, /v1/lists;
  - add_token(), programme(): an extra role in a node's tokens file (the
    inspector) and a [programme] section in its conf, both before start();
  - CycleModel / CycleTree: the independent model of one node / a tree,
    written from the contract (score mode: recognised = eligible; decision
    mode: recognised = eligible and listed by a recorded, unrevoked
    decision; outstanding = recognised this year and the four before; the
    collective indicators of a kind counted from the title records when
    the node holds some of that kind that year), never from the daemon's
    output;
  - diff_cycle(): model.diff_progress plus the cycle's fields;
  - CycleTestCase: HierTestCase with a bounded convergence poll on it.

Nothing here changes how the older harness modules behave.
"""

import datetime
import time
import urllib.parse

from . import model
from .hier import HierTestCase
from .node import new_token, token_hash

TITLE_KINDS = ("family", "clan", "community", "unit")
KIND_FIELDS = {
    "family": ("families_total", "families_recognized"),
    "clan": ("clans_total", "clans_recognized"),
    "community": ("communities_total", "communities_recognized"),
    "unit": ("units_total", "units_recognized"),
}
TITLES = ("citizen",) + TITLE_KINDS


def q(s):
    """A path segment percent-encoded (a decision number has '/')."""
    return urllib.parse.quote(str(s), safe="")


# -- set-up before start() -----------------------------------------------
def add_token(node, role, label=None):
    """Append a token of role (e.g. "inspector") to node's tokens file; the
    token is node.tokens[role] afterwards, so node.request(role=role)
    works.  Call before start()."""
    tok = new_token()
    with open(node.tokens_path, "a") as f:
        f.write("%s %s %s\n" % (role, token_hash(tok), label or role + "-test"))
    node.tokens[role] = tok
    return tok


def programme(node, recognition=None, deadline=None, timezone=None):
    """Give node's conf a [programme] section (recognition = score|decision,
    deadline = MM-DD, timezone).  Call before start()."""
    base = node.conf_text
    lines = ["[programme]"]
    if recognition is not None:
        lines.append("recognition = %s" % recognition)
    if deadline is not None:
        lines.append("deadline = %s" % deadline)
    if timezone is not None:
        lines.append("timezone = %s" % timezone)
    extra = "\n".join(lines) + "\n"
    node.conf_text = lambda: base() + extra
    return node


# -- requests ---------------------------------------------------------------
def post_decision(node, obj, role="clerk", **kw):
    return node.request("POST", "/v1/decisions", obj, role=role, **kw)


def list_decisions(node, year=None, role="inspector", **kw):
    path = "/v1/decisions" + ("" if year is None else "?year=%d" % year)
    return node.request("GET", path, role=role, **kw)


def get_decision(node, year, number, role="inspector", **kw):
    return node.request("GET", "/v1/decisions/%s/%s" % (year, q(number)),
                        role=role, **kw)


def revoke(node, year, number, role="admin", **kw):
    return node.request("DELETE", "/v1/decisions/%s/%s" % (year, q(number)),
                        role=role, **kw)


def post_title(node, obj, role="clerk", dry_run=False, **kw):
    path = "/v1/titles" + ("?dry_run=1" if dry_run else "")
    return node.request("POST", path, obj, role=role, **kw)


def get_title(node, year, kind, id, role="inspector", **kw):
    return node.request("GET", "/v1/titles/%s/%s/%s" % (year, kind, q(id)),
                        role=role, **kw)


def delete_title(node, year, kind, id, role="clerk", **kw):
    return node.request("DELETE", "/v1/titles/%s/%s/%s" % (year, kind, q(id)),
                        role=role, **kw)


def file_year(node, year, force=False, role="admin", **kw):
    return node.request("POST", "/v1/filings/%d%s"
                        % (year, "?force=1" if force else ""), role=role, **kw)


def reopen(node, year, role="admin", **kw):
    return node.request("DELETE", "/v1/filings/%d" % year, role=role, **kw)


def get_filing(node, year, role="viewer", **kw):
    return node.request("GET", "/v1/filings/%d" % year, role=role, **kw)


def get_list(node, year, role="inspector", **query):
    path = "/v1/lists/%d" % year
    if query:
        path += "?" + urllib.parse.urlencode(query)
    return node.request("GET", path, role=role)


def progress_at(node, year, depth=None, role="viewer"):
    path = "/v1/progress?year=%d" % year
    if depth is not None:
        path += "&depth=%d" % depth
    r = node.request("GET", path, role=role, timeout=10)
    if r.status != 200:
        raise AssertionError("%s: progress %d: %r" % (node.id, year, r))
    return r.json


def parse_iso(s):
    """An ISO 8601 time ('Z' or an offset) as an aware datetime."""
    if not isinstance(s, str):
        raise AssertionError("not an ISO time: %r" % (s,))
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    t = datetime.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise AssertionError("ISO time without a zone: %r" % s)
    return t


def iso_near(s, t0, t1, slack=5):
    """s is an ISO time between the Unix times t0 and t1 (+/- slack s)."""
    u = parse_iso(s).timestamp()
    return t0 - slack <= u <= t1 + slack


def pid_order(ids):
    """ids in byte order (the lists' order)."""
    return sorted(ids, key=lambda s: s.encode("utf-8"))


# -- writes recorded in a model once the node accepted them -----------------
def _check(r, status, what):
    if r.status != status:
        raise AssertionError("%s: want HTTP %d, got %r" % (what, status, r))
    return r


def submit_many(node, cm, items, chunk=500):
    """POST items as JSON arrays; every one must be accepted."""
    for i in range(0, len(items), chunk):
        part = items[i:i + chunk]
        r = _check(node.post(part, timeout=60), 200,
                   "%s: batch POST" % node.id)
        if r.json.get("rejected") != 0:
            raise AssertionError("%s: items rejected: %r" % (node.id, r))
        for a in part:
            cm.submit(a)


def set_population(node, cm, year, obj):
    _check(node.put_population(year, obj, timeout=10), 200,
           "%s: PUT population %d" % (node.id, year))
    cm.set_population(year, obj)


def decide(node, cm, obj, role="clerk"):
    """POST a decision that must be recorded (201)."""
    r = _check(post_decision(node, obj, role=role, timeout=10), 201,
               "%s: POST decision %s" % (node.id, obj.get("number")))
    cm.add_decision(obj)
    return r


def put_titles(node, cm, items):
    """POST title records (one object or an array) that must be stored."""
    r = _check(post_title(node, items, timeout=10), 200,
               "%s: POST titles" % node.id)
    if isinstance(items, list):
        if r.json.get("rejected") != 0 or r.json.get("accepted") != len(items):
            raise AssertionError("%s: titles rejected: %r" % (node.id, r))
        for t in items:
            cm.put_title(t)
    else:
        cm.put_title(items)
    return r


def decision_obj(year, number, ids, title="citizen", key=None,
                 date=None, authority="UBND xã Chiềng Sung"):
    """A decision body; key: "person_ids" or "ids" (default: person_ids
    for citizens, ids for titles)."""
    if key is None:
        key = "person_ids" if title == "citizen" else "ids"
    d = {"year": year, "number": number,
         "date": date or "%d-11-20" % year, "authority": authority,
         key: list(ids)}
    if title != "citizen" or key == "ids":
        d["title"] = title
    return d


# -- the model --------------------------------------------------------------
class CycleModel:
    """One node's own data: assessments, denominators, title records and
    decisions, and its recognition mode."""

    def __init__(self, mode="score", targets=None):
        assert mode in ("score", "decision")
        self.mode = mode
        self.people = model.Model(targets)   # records and population
        self.targets = self.people.targets
        self.titles = {}     # (year, kind, id) -> request object
        self.decisions = {}  # (year, number) -> {"title", "ids", ...}

    # -- changes (call once the node accepted them) --------------------
    def submit(self, a):
        self.people.submit(a)

    def withdraw(self, year, pid):
        return self.people.withdraw(year, pid)

    def set_population(self, year, obj):
        self.people.set_population(year, obj)

    def put_title(self, t):
        """The first record of a kind in a year replaces the totals typed
        for that kind (they do not come back when the records go: the
        contract leaves it open, the daemon's titles.c says so)."""
        y, kind = t["year"], t["kind"]
        if not any(k[0] == y and k[1] == kind for k in self.titles):
            pop = self.people.population.get(y)
            if pop is not None:
                for f in KIND_FIELDS[kind]:
                    pop[f] = 0
        self.titles[(y, kind, t["id"])] = dict(t)

    def delete_title(self, year, kind, id):
        return self.titles.pop((year, kind, id), None) is not None

    def add_decision(self, d):
        ids = d.get("person_ids", d.get("ids"))
        self.decisions[(d["year"], d["number"])] = dict(
            d, title=d.get("title", "citizen"), ids=list(ids))

    def revoke(self, year, number):
        return self.decisions.pop((year, number), None) is not None

    # -- per record ----------------------------------------------------
    def decision_of(self, year, title, id):
        """The number of the decision of year listing id for title."""
        for (y, number), d in self.decisions.items():
            if y == year and d["title"] == title and id in d["ids"]:
                return number
        return None

    def eligible(self, year, pid):
        a = self.people.records.get((year, pid))
        return a is not None and model.score(a["scores"])[1]

    def recognized(self, year, pid):
        if not self.eligible(year, pid):
            return False
        return (self.mode == "score"
                or self.decision_of(year, "citizen", pid) is not None)

    def outstanding(self, year, pid):
        return all(self.recognized(y, pid)
                   for y in range(year - model.OUTSTANDING_SPAN + 1, year + 1))

    def title_eligible(self, year, kind, id):
        t = self.titles.get((year, kind, id))
        return t is not None and bool(t.get("recognized"))

    def title_recognized(self, year, kind, id):
        if not self.title_eligible(year, kind, id):
            return False
        return (self.mode == "score"
                or self.decision_of(year, kind, id) is not None)

    def expected_record(self, year, pid):
        """What GET /v1/assessments/{year}/{pid} must say, or None."""
        a = self.people.records.get((year, pid))
        if a is None:
            return None
        out = dict(a)
        out.update(total=sum(a["scores"]),
                   eligible=self.eligible(year, pid),
                   recognized=self.recognized(year, pid),
                   outstanding=self.outstanding(year, pid),
                   decision=self.decision_of(year, "citizen", pid))
        return out

    def expected_title(self, year, kind, id):
        t = self.titles.get((year, kind, id))
        if t is None:
            return None
        mk = "staff" if kind == "unit" else "adults"
        return {"year": year, "kind": kind, "id": id,
                "eligible": self.title_eligible(year, kind, id),
                "recognized": self.title_recognized(year, kind, id),
                mk: t.get(mk),
                "decision": self.decision_of(year, kind, id)}

    def flaws(self, d):
        """The items a refused decision must name, in list order."""
        title = d.get("title", "citizen")
        ids = d.get("person_ids", d.get("ids"))
        year = d["year"]
        out, seen = [], set()
        for i, id in enumerate(ids):
            if id in seen:
                out.append({"index": i, "id": id, "reason": "duplicate",
                            "decision": None})
                continue
            seen.add(id)
            if title == "citizen":
                known = (year, id) in self.people.records
                elig = self.eligible(year, id)
            else:
                known = (year, title, id) in self.titles
                elig = self.title_eligible(year, title, id)
            other = self.decision_of(year, title, id)
            if not known:
                out.append({"index": i, "id": id, "reason": "not_assessed",
                            "decision": None})
            elif not elig:
                out.append({"index": i, "id": id, "reason": "not_eligible",
                            "decision": None})
            elif other is not None:
                out.append({"index": i, "id": id, "reason": "decided",
                            "decision": other})
        return out

    # -- sums ----------------------------------------------------------
    def counters(self, year):
        """This node's own counters of year (people and denominators)."""
        c = {"assessed": 0, "eligible": 0, "recognized": 0, "outstanding": 0,
             "by_group": {g: {"assessed": 0, "eligible": 0, "recognized": 0}
                          for g in model.GROUPS},
             "adult_recognized": 0, "staff_recognized": 0,
             "digital_skilled": 0, "digital_proficient": 0}
        for (y, pid), a in self.people.records.items():
            if y != year:
                continue
            g = c["by_group"][a["group"]]
            c["assessed"] += 1
            g["assessed"] += 1
            if self.eligible(y, pid):
                c["eligible"] += 1
                g["eligible"] += 1
            if not self.recognized(y, pid):
                continue
            c["recognized"] += 1
            g["recognized"] += 1
            c[a["population"] + "_recognized"] += 1
            if a["digital"] in ("skilled", "proficient"):
                c["digital_skilled"] += 1
            if a["digital"] == "proficient":
                c["digital_proficient"] += 1
            if self.outstanding(y, pid):
                c["outstanding"] += 1
        pop = dict(self.people.population.get(
            year, {f: 0 for f in model.POP_FIELDS}))
        for kind, (tot, rec) in KIND_FIELDS.items():
            keys = [k for k in self.titles if k[0] == year and k[1] == kind]
            if keys:
                pop[tot] = len(keys)
                pop[rec] = sum(1 for k in keys
                               if self.title_recognized(*k))
        c["population"] = pop
        return c

    def population(self, year):
        """What GET /v1/population/{year} must hold."""
        return self.counters(year)["population"]

    def progress(self, year):
        return progress_from(sum_counters([self.counters(year)]), year,
                             self.targets)


def sum_counters(cs):
    out = {"assessed": 0, "eligible": 0, "recognized": 0, "outstanding": 0,
           "by_group": {g: {"assessed": 0, "eligible": 0, "recognized": 0}
                        for g in model.GROUPS},
           "adult_recognized": 0, "staff_recognized": 0,
           "digital_skilled": 0, "digital_proficient": 0,
           "population": {f: 0 for f in model.POP_FIELDS}}
    for c in cs:
        for k, v in c.items():
            if k == "by_group":
                for g, d in v.items():
                    for kk, vv in d.items():
                        out["by_group"][g][kk] += vv
            elif k == "population":
                for f, vv in v.items():
                    out["population"][f] += vv
            else:
                out[k] += v
    return out


class _Sums(model.Model):
    """model.Model's indicator arithmetic over given sums."""

    def __init__(self, c, year, targets):
        super().__init__(targets)
        self._c = c
        self.population = {year: c["population"]}

    def counts(self, year):
        return self._c


def progress_from(c, year, targets=None):
    p = _Sums(c, year, targets).progress(year)
    p["counts"]["eligible"] = c["eligible"]
    return p


class CycleTree:
    """Every node's CycleModel and the tree's shape; the expected progress
    of a node is the sum over its subtree."""

    def __init__(self):
        self.models = {}
        self.parent = {}

    def add_node(self, node_id, parent_id=None, mode="score"):
        self.models[node_id] = CycleModel(mode)
        self.parent[node_id] = parent_id

    def __getitem__(self, node_id):
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

    def progress(self, node_id, year):
        c = sum_counters([self.models[n].counters(year)
                          for n in self.subtree(node_id)])
        return progress_from(c, year, self.models[node_id].targets)


def diff_cycle(got, exp, node_info=None, recognition=None, filed=None):
    """model.diff_progress plus counts.by_group.<g>.eligible, the progress's
    recognition mode and counts.filed (when given)."""
    bad = model.diff_progress(got, exp, node_info)
    gc = got.get("counts") if isinstance(got, dict) else None
    if not isinstance(gc, dict):
        return bad
    gb = gc.get("by_group") if isinstance(gc.get("by_group"), dict) else {}
    for grp, e in exp["counts"]["by_group"].items():
        g = gb.get(grp)
        if g is None and e["assessed"] == 0:
            continue
        if not isinstance(g, dict):
            continue  # reported by diff_progress
        if not model.is_int(g.get("eligible")) or g["eligible"] != e["eligible"]:
            bad.append("counts.by_group.%s.eligible: got %r, want %r"
                       % (grp, g.get("eligible"), e["eligible"]))
    if recognition is not None and got.get("recognition") != recognition:
        bad.append("recognition: got %r, want %r"
                   % (got.get("recognition"), recognition))
    if filed is not None and gc.get("filed") != filed:
        bad.append("counts.filed: got %r, want %r" % (gc.get("filed"), filed))
    return bad


class CycleTestCase(HierTestCase):
    """HierTestCase with the cycle's model: nodes built with cycle_tree()
    get a [programme] section and, optionally, an inspector token."""

    @classmethod
    def cycle_tree(cls, spec, ct, modes=None, deadline=None, timezone=None,
                   inspectors=(), node_kw=None):
        """class_tree(spec) whose nodes are added to ct with their mode
        (modes: {id: "score"|"decision"}; a node left out gets no
        recognition key, i.e. the default, score)."""
        modes = modes or {}
        nodes = cls.class_tree(spec, None, node_kw)
        for nid, _, _, pid in spec:
            ct.add_node(nid, pid, modes.get(nid, "score"))
            if (nid in modes or deadline is not None
                    or timezone is not None):
                programme(nodes[nid], modes.get(nid), deadline, timezone)
            if nid in inspectors:
                add_token(nodes[nid], "inspector")
        return nodes

    def cycle_problems(self, node, ct, years, filed=None):
        problems = []
        for y in years:
            try:
                doc = progress_at(node, y)
            except (OSError, AssertionError) as e:
                problems.append("year %d: %s" % (y, e))
                continue
            f = None if filed is None else filed.get(y)
            for p in diff_cycle(doc, ct.progress(node.id, y), node.info,
                                ct[node.id].mode, f):
                problems.append("year %d: %s" % (y, p))
        return problems

    def assertCycle(self, node, ct, years, timeout=15.0, what="",
                    filed=None):
        """Poll (bounded) until node's progress equals the model of its
        subtree for every year; filed: {year: expected counts.filed}."""
        deadline = time.monotonic() + timeout
        while True:
            problems = self.cycle_problems(node, ct, years, filed)
            if not problems:
                return
            if time.monotonic() >= deadline:
                self.fail("%s %s did not match the model within %.0fs "
                          "(%d problems):\n  %s\nstderr tail:\n%s"
                          % (what, node.id, timeout, len(problems),
                             "\n  ".join(problems[:40]),
                             node.stderr_tail(2000)))
            time.sleep(0.1)

    def assertRecordIs(self, node, cm, year, pid, what=""):
        """GET the assessment (inspector if the node has one) and compare
        with the model, eligible, recognized, outstanding and decision
        included."""
        role = "inspector" if "inspector" in node.tokens else "clerk"
        r = node.get(year, pid, role=role)
        exp = cm.expected_record(year, pid)
        if exp is None:
            self.assertEqual(r.status, 404, "%s: %d/%s: %r"
                             % (what, year, pid, r))
            return
        self.assertEqual(r.status, 200, "%s: %d/%s: %r" % (what, year, pid, r))
        got = r.json
        bad = []
        for k in ("total", "eligible", "recognized", "outstanding",
                  "decision", "group", "population", "scores"):
            if got.get(k, "<absent>") != exp[k] or (
                    isinstance(exp[k], bool) and got.get(k) is not exp[k]):
                bad.append("%s: got %r, want %r"
                           % (k, got.get(k, "<absent>"), exp[k]))
        self.assertEqual(bad, [], "%s: %d/%s: %r" % (what, year, pid, got))

    def assertTitleIs(self, node, cm, year, kind, id, what=""):
        role = "inspector" if "inspector" in node.tokens else "clerk"
        r = get_title(node, year, kind, id, role=role)
        exp = cm.expected_title(year, kind, id)
        if exp is None:
            self.assertEqual(r.status, 404, "%s: %d/%s/%s: %r"
                             % (what, year, kind, id, r))
            return
        self.assertEqual(r.status, 200, "%s: %d/%s/%s: %r"
                         % (what, year, kind, id, r))
        got = r.json
        bad = ["%s: got %r, want %r" % (k, got.get(k, "<absent>"), v)
               for k, v in exp.items()
               if got.get(k, "<absent>") != v
               or (isinstance(v, bool) and got.get(k) is not v)]
        self.assertEqual(bad, [], "%s: %d/%s/%s: %r"
                         % (what, year, kind, id, got))
