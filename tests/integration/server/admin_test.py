#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of phenixd's /v1/admin routes (label "server"): tenants, custom roles and
grants, API keys (shown once, never listed with a secret, revocable), the security catalog's
durability across kill -9 and a corrupt catalog refusing to start (decision 0017).

Usage: admin_test.py PATH/TO/phenixd   (stdlib only; reuses phenixd_test.py's Server)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phenixd_test  # noqa: E402
from phenixd_test import Server, error_code  # noqa: E402

KEY_PATTERN = re.compile(r"^phx_([0-9a-f]{16})_([0-9a-f]{64})$")


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-admin-")
        self.data = os.path.join(self.tmp, "data")
        self.server = Server(self.data)

    def tearDown(self):
        self.server.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def req(self, method, path, body=None, headers=None):
        status, _, answer = self.server.request(method, path, body=body, headers=headers)
        return status, answer

    def query(self, text, headers=None):
        return self.req("POST", "/v1/query", {"query": text}, headers)

    def test_phenixql_statements(self):
        acme = {"Phenix-Tenant": "acme"}
        self.assertEqual(self.query("CREATE TENANT acme")[0], 200)
        for statement in ["CREATE ROLE analyst",
                          "CREATE ROLE ingest WITH PERMISSIONS read, write",
                          "GRANT read ON docs TO analyst",
                          "GRANT write, schema ON TENANT TO ingest"]:
            status, body = self.query(statement, acme)
            self.assertEqual(status, 200, (statement, body))
        status, body = self.query("SHOW ROLES", acme)
        self.assertEqual(body["columns"], ["name", "builtin", "permissions"])
        self.assertIn(["ingest", False, ["read", "write"]], body["rows"])
        status, body = self.query("SHOW GRANTS", acme)
        self.assertEqual(sorted(body["rows"]), [["analyst", "read", "docs"],
                                                ["ingest", "schema", None],
                                                ["ingest", "write", None]])
        # The REST view agrees: one catalog.
        status, roles = self.req("GET", "/v1/admin/roles", None, acme)
        self.assertIn("analyst", [r["name"] for r in roles["roles"]])
        status, body = self.query("CREATE API KEY FOR ROLE analyst EXPIRES IN 2 HOURS", acme)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["columns"], ["id", "key", "tenant", "roles", "expires_at_ms"])
        key_id, key, tenant, roles, expires = body["rows"][0]
        self.assertRegex(key, KEY_PATTERN)
        self.assertEqual((tenant, roles), ("acme", ["analyst"]))
        status, body = self.query("SHOW API KEYS", acme)
        self.assertEqual([row[0] for row in body["rows"]], [key_id])
        self.assertNotIn(key.split("_")[2], str(body))
        self.assertEqual(self.query(f"REVOKE API KEY '{key_id}'", acme)[0], 200)
        status, body = self.query("SHOW API KEYS", acme)
        self.assertIsNotNone(body["rows"][0][5])
        self.assertEqual(self.query("REVOKE read ON docs FROM analyst", acme)[0], 200)
        status, body = self.query("REVOKE read ON docs FROM analyst", acme)
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        status, body = self.query("GRANT fly ON docs TO analyst", acme)
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        self.assertEqual(self.query("DROP ROLE analyst", acme)[0], 200)
        self.assertEqual(self.query("DROP TENANT acme")[0], 200)
        status, roles = self.query("SHOW ROLES", acme)
        self.assertEqual(status, 404)  # the tenant is gone

    def test_openapi_describes_every_admin_route(self):
        status, document = self.req("GET", "/openapi.json")
        self.assertEqual(status, 200)
        paths = document["paths"]
        for path, methods in {"/v1/admin/tenants": {"get", "post"},
                              "/v1/admin/tenants/{tenant}": {"delete"},
                              "/v1/admin/keys": {"get", "post"},
                              "/v1/admin/keys/{key_id}": {"delete"},
                              "/v1/admin/roles": {"get"},
                              "/v1/admin/roles/{role}": {"put", "delete"},
                              "/v1/admin/roles/{role}/grants": {"post"},
                              "/v1/admin/roles/{role}/grants/{permission}": {"delete"}}.items():
            self.assertEqual(set(paths[path]), methods, path)

    def test_tenants(self):
        self.assertEqual(self.req("POST", "/v1/admin/tenants", {"name": "acme"}),
                         (201, {"name": "acme"}))
        status, body = self.req("POST", "/v1/admin/tenants", {"name": "acme"})
        self.assertEqual((status, error_code(body)), (409, "ALREADY_EXISTS"))
        status, body = self.req("POST", "/v1/admin/tenants", {"name": "bad name"})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        status, body = self.req("POST", "/v1/admin/tenants", {"name": "x", "extra": 1})
        self.assertEqual(status, 400)
        status, body = self.req("GET", "/v1/admin/tenants")
        self.assertEqual(status, 200)
        self.assertIn("acme", body["tenants"])
        self.assertIn("default", body["tenants"])
        # Deleting needs an empty tenant, and takes its roles and keys with it.
        acme = {"Phenix-Tenant": "acme"}
        self.assertEqual(self.query("CREATE COLLECTION docs", acme)[0], 200)
        self.assertEqual(self.req("PUT", "/v1/admin/roles/analyst", None, acme)[0], 201)
        self.assertEqual(self.req("POST", "/v1/admin/keys", {"roles": ["analyst"]}, acme)[0], 201)
        status, body = self.req("DELETE", "/v1/admin/tenants/acme")
        self.assertEqual((status, error_code(body)), (400, "FAILED_PRECONDITION"))
        self.assertIn("drop them first", body["error"]["message"])
        self.assertEqual(self.query("DROP COLLECTION docs", acme)[0], 200)
        self.assertEqual(self.req("DELETE", "/v1/admin/tenants/acme"),
                         (200, {"dropped": "acme"}))
        self.assertEqual(self.req("DELETE", "/v1/admin/tenants/acme")[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/admin/tenants/default")[0], 400)
        self.assertEqual(self.req("POST", "/v1/admin/tenants", {"name": "acme"})[0], 201)
        status, roles = self.req("GET", "/v1/admin/roles", None, acme)
        self.assertNotIn("analyst", [r["name"] for r in roles["roles"]])
        self.assertEqual(self.req("GET", "/v1/admin/keys", None, acme), (200, {"keys": []}))

    def test_roles_and_grants(self):
        acme = {"Phenix-Tenant": "acme"}
        self.assertEqual(self.req("POST", "/v1/admin/tenants", {"name": "acme"})[0], 201)
        status, role = self.req("PUT", "/v1/admin/roles/analyst",
                                {"permissions": ["read", "read"]}, acme)
        self.assertEqual(status, 201)
        self.assertEqual(role, {"name": "analyst", "builtin": False, "permissions": ["read"],
                                "grants": []})
        self.assertEqual(self.req("PUT", "/v1/admin/roles/analyst", None, acme)[0], 409)
        status, body = self.req("PUT", "/v1/admin/roles/admin", None, acme)
        self.assertEqual(status, 400)
        self.assertIn("built in", body["error"]["message"])
        grant = {"role": "analyst", "permission": "write", "collection": "docs"}
        for _ in range(2):  # granting twice is no error
            self.assertEqual(self.req("POST", "/v1/admin/roles/analyst/grants",
                                      {"permission": "write", "collection": "docs"}, acme),
                             (200, grant))
        self.assertEqual(self.req("POST", "/v1/admin/roles/analyst/grants",
                                  {"permission": "schema"}, acme)[0], 200)
        self.assertEqual(self.req("POST", "/v1/admin/roles/ghost/grants",
                                  {"permission": "read"}, acme)[0], 404)
        status, roles = self.req("GET", "/v1/admin/roles", None, acme)
        self.assertEqual(status, 200)
        by_name = {r["name"]: r for r in roles["roles"]}
        self.assertEqual(by_name["reader"], {"name": "reader", "builtin": True,
                                             "permissions": ["read"], "grants": []})
        self.assertEqual(sorted((g["permission"], g["collection"])
                                for g in by_name["analyst"]["grants"]),
                         [("schema", None), ("write", "docs")])
        # Roles are per tenant: the default tenant does not see acme's.
        status, roles = self.req("GET", "/v1/admin/roles")
        self.assertNotIn("analyst", [r["name"] for r in roles["roles"]])
        self.assertEqual(self.req("DELETE", "/v1/admin/roles/analyst/grants/write?collection=docs",
                                  None, acme), (200, grant))
        self.assertEqual(self.req("DELETE", "/v1/admin/roles/analyst/grants/write?collection=docs",
                                  None, acme)[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/admin/roles/analyst/grants/bogus", None,
                                  acme)[0], 400)
        self.assertEqual(self.req("DELETE", "/v1/admin/roles/analyst", None, acme),
                         (200, {"dropped": "analyst"}))
        self.assertEqual(self.req("DELETE", "/v1/admin/roles/analyst", None, acme)[0], 404)

    def test_api_keys_are_shown_once_and_revocable(self):
        status, created = self.req("POST", "/v1/admin/keys",
                                   {"roles": ["reader"], "expires_in_s": 3600})
        self.assertEqual(status, 201)
        match = KEY_PATTERN.match(created["key"])
        self.assertIsNotNone(match, created["key"])
        self.assertEqual(match.group(1), created["id"])
        secret = match.group(2)
        self.assertEqual(created["tenant"], "default")
        self.assertEqual(created["roles"], ["reader"])
        self.assertEqual(created["expires_at_ms"] - created["created_at_ms"], 3600 * 1000)
        status, _, raw = self.server.request("GET", "/v1/admin/keys")
        self.assertEqual(status, 200)
        self.assertEqual([k["id"] for k in raw["keys"]], [created["id"]])
        self.assertNotIn("key", raw["keys"][0])
        self.assertNotIn(secret, str(raw))
        with open(os.path.join(self.data, "SECURITY")) as f:
            self.assertNotIn(secret, f.read())  # only a salted hash is stored
        self.assertEqual(self.req("DELETE", f"/v1/admin/keys/{created['id']}"),
                         (200, {"revoked": created["id"]}))
        status, listed = self.req("GET", "/v1/admin/keys")
        self.assertIsNotNone(listed["keys"][0]["revoked_at_ms"])
        self.assertEqual(self.req("DELETE", "/v1/admin/keys/0000000000000000")[0], 404)
        status, body = self.req("POST", "/v1/admin/keys", {"roles": ["ghost"]})
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        self.assertEqual(self.req("POST", "/v1/admin/keys", {"roles": []})[0], 400)
        self.assertEqual(self.req("POST", "/v1/admin/keys",
                                  {"roles": ["reader"], "expires_in_s": 0})[0], 400)
        self.assertEqual(self.req("POST", "/v1/admin/keys",
                                  {"roles": ["reader"], "tenant": "nope"})[0], 404)
        # A cluster administrator's key (bootstrap, decision 0017).
        status, cluster = self.req("POST", "/v1/admin/keys", {"roles": ["admin"], "tenant": "*"})
        self.assertEqual((status, cluster["tenant"]), (201, "*"))

    def test_catalog_survives_kill9_and_a_corrupt_one_refuses_to_start(self):
        self.assertEqual(self.req("PUT", "/v1/admin/roles/ingest", {"permissions": ["write"]})[0],
                         201)
        status, created = self.req("POST", "/v1/admin/keys", {"roles": ["ingest"]})
        self.assertEqual(status, 201)
        self.server.kill()  # SIGKILL right after the acknowledgements
        self.server = Server(self.data)
        status, roles = self.req("GET", "/v1/admin/roles")
        self.assertIn("ingest", [r["name"] for r in roles["roles"]])
        status, keys = self.req("GET", "/v1/admin/keys")
        self.assertEqual([k["id"] for k in keys["keys"]], [created["id"]])
        self.server.kill()
        path = os.path.join(self.data, "SECURITY")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("write", "admin"))  # an edit the checksum catches
        proc = subprocess.run([phenixd_test.PHENIXD, "--data", self.data, "--http",
                               "127.0.0.1:0", "--grpc", ""], capture_output=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"security catalog", proc.stderr)
        self.server = Server(os.path.join(self.tmp, "other"))  # for tearDown


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
