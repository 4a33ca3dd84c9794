"""Bearer tokens and roles: 401 without or with an unknown token, 403 for
a role that may not, and a refused request changes nothing."""

from cdhttest.case import REC, NodeTestCase, assessment, main
from cdhttest.node import new_token, token_hash


class AuthTest(NodeTestCase):

    @classmethod
    def setUpClass(cls):
        cls.node = cls.make_class_node()

    def tearDown(self):
        self.assertAlive(self.node)

    def requests(self):
        """(what, method, path, body) for every kind of request."""
        return [
            ("submit", "POST", "/v1/assessments",
             assessment(2026, "auth-submit", REC)),
            ("read record", "GET", "/v1/assessments/2026/auth-seed", None),
            ("withdraw", "DELETE", "/v1/assessments/2026/auth-seed", None),
            ("set population", "PUT", "/v1/population/2026", {"adults": 5}),
            ("read population", "GET", "/v1/population/2026", None),
            ("progress", "GET", "/v1/progress?year=2026", None),
        ]

    def seed(self):
        n = self.node
        self.assertStatus(n.post(assessment(2026, "auth-seed", REC),
                                 role="admin"), 200)
        self.assertStatus(n.put_population(2026, {"adults": 100},
                                           role="admin"), 200)

    def assertUnchanged(self):
        n = self.node
        self.assertStatus(n.get(2026, "auth-seed", role="admin"), 200,
                          "a refused request withdrew the seed")
        self.assertEqual(n.get(2026, "auth-submit", role="admin").status, 404,
                         "a refused request stored a record")
        self.assertEqual(n.get_population(2026, role="admin").json.get("adults"),
                         100, "a refused request changed the population")

    def test_no_token(self):
        self.seed()
        n = self.node
        for what, method, path, body in self.requests():
            r = n.request(method, path, body, role=None)
            self.assertError(r, 401, "unauthorized", what="%s without token" % what)
        self.assertUnchanged()

    def test_bad_tokens(self):
        self.seed()
        n = self.node
        bad = [
            {"Authorization": "Bearer " + new_token()},          # unknown
            {"Authorization": "Bearer " + token_hash(n.tokens["admin"])},
            {"Authorization": "Bearer " + n.tokens["admin"][:-1]},
            {"Authorization": "Bearer " + n.tokens["admin"] + "x"},
            {"Authorization": "Bearer "},
            {"Authorization": "Bearer"},
            {"Authorization": "Basic " + n.tokens["admin"]},
            {"Authorization": n.tokens["admin"]},
        ]
        for h in bad:
            for what, method, path, body in self.requests():
                r = n.request(method, path, body, role=None, headers=h)
                self.assertError(r, 401, "unauthorized",
                                 what="%s with %r" % (what, h))
        self.assertUnchanged()

    def test_viewer(self):
        self.seed()
        n = self.node
        allowed = {"progress"}
        for what, method, path, body in self.requests():
            r = n.request(method, path, body, role="viewer")
            if what in allowed:
                self.assertStatus(r, 200, "viewer %s" % what)
            else:
                self.assertError(r, 403, "forbidden", what="viewer %s" % what)
        # an array and a CSV are writes too
        r = n.post([assessment(2026, "auth-submit", REC)], role="viewer")
        self.assertError(r, 403, "forbidden", what="viewer array")
        r = n.post_csv("year,person_id,group,population,s1,s2,s3,s4,s5,s6,s7,"
                       "s8,s9,s10,digital\n2026,auth-submit,farmer,adult,"
                       "8,8,8,8,8,8,8,8,8,8,none\n", role="viewer")
        self.assertError(r, 403, "forbidden", what="viewer CSV")
        r = n.post(assessment(2026, "auth-submit", REC), role="viewer",
                   dry_run=True)
        self.assertError(r, 403, "forbidden", what="viewer dry run")
        self.assertUnchanged()

    def test_clerk_and_admin(self):
        n = self.node
        for role in ("clerk", "admin"):
            self.seed()
            for what, method, path, body in self.requests():
                r = n.request(method, path, body, role=role)
                self.assertStatus(r, 200, "%s %s" % (role, what))
            # what they did took effect
            self.assertStatus(n.get(2026, "auth-submit", role=role), 200)
            self.assertEqual(n.get(2026, "auth-seed", role=role).status, 404)
            self.assertEqual(n.get_population(2026, role=role).json["adults"], 5)
            self.assertStatus(n.delete(2026, "auth-submit", role=role), 200)

    def test_healthz_needs_no_token(self):
        n = self.node
        self.assertStatus(n.request("GET", "/healthz", role=None), 200)
        self.assertStatus(n.request("GET", "/healthz", role=None,
                                    headers={"Authorization": "Bearer nope"}),
                          200)

    def test_tokens_file_forms(self):
        """Comments, blank lines, labels with spaces, and no label; the
        role is taken from the line, not guessed."""
        n = self.make_node(start=False)
        toks = {k: new_token() for k in ("c1", "c2", "v1", "a1")}
        with open(n.tokens_path, "w") as f:
            f.write("# tokens\n\n")
            f.write("clerk %s commune-clerk-Nguyễn\n" % token_hash(toks["c1"]))
            f.write("clerk %s\n" % token_hash(toks["c2"]))
            f.write("# another comment\n")
            f.write("viewer %s viewer\n" % token_hash(toks["v1"]))
            f.write("admin %s ops\n" % token_hash(toks["a1"]))
        n.start()
        a = assessment(2026, "tf", REC)
        for t in ("c1", "c2", "a1"):
            self.assertStatus(n.post(a, role=None, token=toks[t]), 200, t)
        self.assertError(n.post(a, role=None, token=toks["v1"]), 403,
                         "forbidden")
        self.assertStatus(n.progress(2026, role=None, token=toks["v1"]), 200)
        # the harness's own tokens are not in this file any more
        self.assertError(n.post(a, role=None, token=n.tokens["admin"]), 401,
                         "unauthorized")

    def test_audit_trail(self):
        """Every write is audited with its token's label; only admin reads
        the trail, newest first."""
        n = self.node
        self.assertStatus(n.post(assessment(2026, "audit-1", REC)), 200)
        self.assertStatus(n.put_population(2026, {"adults": 7}), 200)
        self.assertStatus(n.delete(2026, "audit-1"), 200)
        for role in ("clerk", "viewer"):
            self.assertError(n.request("GET", "/v1/audit", role=role), 403,
                             "forbidden", what=role)
        r = n.request("GET", "/v1/audit?limit=3", role="admin")
        self.assertStatus(r, 200)
        rows = r.json["audit"]
        self.assertEqual([x["action"] for x in rows],
                         ["withdraw", "population", "submit"])
        self.assertEqual({x["who"] for x in rows}, {"clerk-test"})
        self.assertIn("2026/audit-1", rows[0]["detail"])
        self.assertGreater(rows[0]["id"], rows[2]["id"])
        self.assertError(n.request("GET", "/v1/audit?limit=0", role="admin"),
                         400, "invalid_field", field="limit")


if __name__ == "__main__":
    main()
