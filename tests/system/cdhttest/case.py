"""unittest glue: a TestCase that owns its nodes and common assertions."""

import os
import shutil
import sys
import tempfile
import unittest

from . import model
from .node import Node

KEEP = os.environ.get("CDHT_KEEP") == "1"  # keep work dirs for post-mortem


def _workdir(prefix):
    d = tempfile.mkdtemp(prefix="cdht-%s-" % prefix)
    return d


def _rmtree(d):
    if KEEP:
        sys.stderr.write("kept %s\n" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def assessment(year, pid, scores=None, group="farmer", population="adult",
               digital="skilled", **extra):
    """An assessment body; default scores are recognised (8 x 10)."""
    a = {"year": year, "person_id": pid, "group": group,
         "population": population,
         "scores": list(scores if scores is not None else [8] * 10),
         "digital": digital}
    a.update(extra)
    return a


REC = [8] * 10                       # 80, recognised
NOT_REC = [10] * 9 + [4]             # 94, one below 5: not recognised
LOW = [7] * 10                       # 70: not recognised


class NodeTestCase(unittest.TestCase):
    """Nodes made with make_node() are killed when the test ends, whatever
    happened; make_class_node() does the same for the whole class."""

    maxDiff = 4000

    def make_node(self, start=True, **kw):
        d = _workdir(self.id().rsplit(".", 1)[-1])
        self.addCleanup(_rmtree, d)
        n = Node(d, **kw)
        self.addCleanup(n.cleanup)
        if start:
            n.start()
        return n

    @classmethod
    def make_class_node(cls, start=True, **kw):
        d = _workdir(cls.__name__)
        cls.addClassCleanup(_rmtree, d)
        n = Node(d, **kw)
        cls.addClassCleanup(n.cleanup)
        if start:
            n.start()
        return n

    # -- assertions ----------------------------------------------------
    def assertStatus(self, resp, status, what=""):
        self.assertEqual(resp.status, status,
                         "%s: want HTTP %d, got %r" % (what, status, resp))

    def assertError(self, resp, status, code=None, field=None, what="",
                    field_prefix=None):
        """resp is a JSON error {"error": {"code", "message", "field"}}."""
        if isinstance(status, int):
            status = (status,)
        self.assertIn(resp.status, status,
                      "%s: want HTTP %s, got %r" % (what, status, resp))
        doc = resp.json
        self.assertIsInstance(doc, dict, "%s: %r" % (what, resp))
        err = doc.get("error")
        self.assertIsInstance(err, dict, "%s: no error object: %r" % (what, resp))
        for k in ("code", "message", "field"):
            self.assertIn(k, err, "%s: error lacks %r: %r" % (what, k, resp))
        self.assertIsInstance(err["message"], str)
        if code is not None:
            codes = (code,) if isinstance(code, str) else tuple(code)
            self.assertIn(err["code"], codes, "%s: %r" % (what, resp))
        if field is not None:
            self.assertEqual(err["field"], field, "%s: %r" % (what, resp))
        if field_prefix is not None:
            self.assertTrue(isinstance(err["field"], str)
                            and err["field"].startswith(field_prefix),
                            "%s: field should name %r: %r"
                            % (what, field_prefix, resp))
        return err

    def assertAlive(self, node, what=""):
        self.assertTrue(node.alive(), "%s: cdhtd died; stderr:\n%s"
                        % (what, node.stderr_tail()))
        r = node.health()
        self.assertStatus(r, 200, "%s: /healthz" % what)

    def assertProgress(self, node, m, years, role="viewer"):
        """GET /v1/progress for each year equals the model, to the person."""
        problems = []
        for y in years:
            r = node.progress(y, role=role)
            if r.status != 200:
                problems.append("year %d: HTTP %r" % (y, r))
                continue
            for p in model.diff_progress(r.json, m.progress(y), node.info):
                problems.append("year %d: %s" % (y, p))
        if problems:
            self.fail("progress differs from the model (%d problems):\n  %s"
                      % (len(problems), "\n  ".join(problems[:60])))

    def assertRecord(self, got_resp, m, year, pid, what=""):
        """A GET response matches the model's record (or 404 if none)."""
        exp = m.expected_record(year, pid)
        if exp is None:
            self.assertEqual(got_resp.status, 404,
                             "%s: %d/%s should be absent: %r"
                             % (what, year, pid, got_resp))
            return
        self.assertEqual(got_resp.status, 200, "%s: %d/%s: %r"
                         % (what, year, pid, got_resp))
        self.assertEqual(record_diff(got_resp.json, exp), [],
                         "%s: %d/%s" % (what, year, pid))


def record_diff(got, exp):
    """Mismatches between a stored record and the expected one."""
    bad = []
    for k, v in exp.items():
        g = got.get(k, "<absent>")
        if k == "birth_year" and v in (None, ""):
            if g not in (None, "<absent>"):
                bad.append("%s: got %r, want absent/null" % (k, g))
            continue
        if k == "name" and v in (None, ""):
            if g not in (None, "", "<absent>"):
                bad.append("%s: got %r, want absent/empty" % (k, g))
            continue
        if isinstance(v, bool):
            if g is not v:
                bad.append("%s: got %r, want %r" % (k, g, v))
        elif g != v:
            bad.append("%s: got %r, want %r" % (k, g, v))
    if "updated_at" not in got:
        bad.append("updated_at missing")
    return bad


def main():
    unittest.main(verbosity=2)
