#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The enumerated tenant-isolation test (issue 15; docs/security.md, decision 0016).

phenixd runs with --auth jwt and a JWKS of a key made here (RS256 tokens minted with
jwt_tokens.py, python3-cryptography). A cluster administrator creates tenants A and B and puts data in B whose
names and values carry markers. Then, with A's tokens (admin, writer, reader of A), the test tries

  - EVERY REST route read from /openapi.json (each path and method, B's names substituted),
  - EVERY gRPC method read from proto/phenix/v1/phenix.proto,
  - EVERY PhenixQL statement kind (`phenixd --print-access-table`, the server's own table),

against B, three ways: naming B's objects from A's tenant, with Phenix-Tenant / phenix-tenant
naming B, and (PhenixQL) after USE TENANT B. Each answer must be 401/403/404 (or the gRPC
equivalents) where it reaches for B, must equal the answer for a name that exists nowhere (so it
is no oracle for B's existence), and must hold none of B's hidden markers (ids, values, collection
names the request did not send). The test fails when a route, method or statement kind exists that
it has no case for. Positive controls: the same calls inside A's own tenant succeed, a reader
cannot write, a writer cannot create a collection, and a cluster administrator does see B's data.

Usage: isolation_test.py PHENIXD PROTOC GRPC_PYTHON_PLUGIN
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402
import grpc_test  # noqa: E402  (stub generation, GrpcServer)

import jwt_tokens  # noqa: E402  (keys and tokens, python3-cryptography)

import grpc  # noqa: E402

ISSUER = "phenix-isolation-test"
AUDIENCE = "phenixd"
TENANT_A = "tena"
TENANT_B = "tenb"
# B's names: sent by the requests (they may be echoed back as the caller's own words) ...
B_COLLECTION = "bsecretcoll"
B_ID = "bsecretid1"
B_PATH = "bsecretpath"
# ... and B's hidden markers, which no request sends: no answer to A may contain them.
B_HIDDEN = ["bhiddencoll", "bhiddenid2", "bhiddenvalue", "bhiddenlabel"]
B_ENTITIES = 7  # how many entities B's collection holds: no answer to A may count them
# Names that exist in no tenant (as long as B's, so positions in messages match): B's names must
# be answered exactly as these are.
NOWHERE_COLLECTION = "nowherecoll"
NOWHERE_ID = "nowhereid1"
NOWHERE_TENANT = "tenz"
# B's custom role and API key (made in seed), and names of the same length that exist nowhere.
B_ROLE = "bsecretrole"
NOWHERE_ROLE = "nowhererol1"
NOWHERE_KEY_ID = "0123456789abcdef"

KEYS = jwt_tokens.KeySet()


def write_jwks(path):
    KEYS.write_jwks(path)


def mint(subject, tenant, roles, expires_in=3600):
    return KEYS.token(sub=subject, tenant=tenant, roles=list(roles), kid="rsa-1",
                      exp_in=expires_in, iss=ISSUER, aud=AUDIENCE)


def substitute(text, names):
    for old, new in names.items():
        text = text.replace(old, new)
    return text


B_NAMES = {"{name}": B_COLLECTION, "{id}": B_ID, "{path}": B_PATH, "{tenant}": TENANT_B,
           "{role}": B_ROLE, "{permission}": "read"}  # "{key_id}": B's key id, set by seed
NOWHERE_NAMES = {"{name}": NOWHERE_COLLECTION, "{id}": NOWHERE_ID, "{path}": B_PATH,
                 "{tenant}": NOWHERE_TENANT, "{role}": NOWHERE_ROLE, "{permission}": "read",
                 "{key_id}": NOWHERE_KEY_ID}

# A body for each REST route: what would succeed if the caller were allowed. Keys are
# "METHOD PATTERN" as /openapi.json lists them; a route without a case fails the test.
REST_BODIES = {
    "GET /health": None,
    "GET /ready": None,
    "GET /openapi.json": None,
    "GET /metrics": None,
    "POST /v1/query": {"query": "SELECT id, metadata FROM {name}"},
    "POST /v1/transactions": {},
    "POST /v1/transactions/{id}/commit": None,
    "POST /v1/transactions/{id}/rollback": None,
    "GET /v1/collections": None,
    "PUT /v1/collections/{name}": {"dimension": 2},
    "GET /v1/collections/{name}": None,
    "DELETE /v1/collections/{name}": None,
    "PUT /v1/collections/{name}/indexes/{path}": None,
    "DELETE /v1/collections/{name}/indexes/{path}": None,
    "POST /v1/collections/{name}/entities": {"entities": [{"id": "{id}", "vector": [1, 2]}]},
    "GET /v1/collections/{name}/entities/{id}": None,
    "DELETE /v1/collections/{name}/entities/{id}": None,
    "PATCH /v1/collections/{name}/entities/{id}": {"x": 1},
    "POST /v1/collections/{name}/import": "RAW",
    "POST /v1/collections/{name}/search": {"vector": [1, 2], "k": 10},
    # Administration (decision 0017): tenants are the cluster's; keys, roles and grants the
    # caller's own tenant's.
    "POST /v1/admin/tenants": {"name": "{tenant}"},
    "GET /v1/admin/tenants": None,
    "DELETE /v1/admin/tenants/{tenant}": None,
    "GET /v1/admin/tenants/{tenant}/quota": None,
    "PUT /v1/admin/tenants/{tenant}/quota": {"max_entities": 5},
    "GET /v1/admin/tenants/{tenant}/key-rotation": None,
    "POST /v1/admin/tenants/{tenant}/key-rotation": None,
    "GET /v1/admin/keys": None,
    "POST /v1/admin/keys": {"roles": ["reader"]},
    "DELETE /v1/admin/keys/{key_id}": None,
    "GET /v1/admin/roles": None,
    "PUT /v1/admin/roles/{role}": None,
    "DELETE /v1/admin/roles/{role}": None,
    "POST /v1/admin/roles/{role}/grants": {"permission": "read", "collection": "{name}"},
    "DELETE /v1/admin/roles/{role}/grants/{permission}": None,
}
# Routes that need no credential and hold no tenant's data.
OPEN_ROUTES = {"GET /health", "GET /ready", "GET /openapi.json"}
# Routes that act in the caller's own tenant only (no name of B in them): they must succeed
# without a word of B (GET /v1/collections lists A's collections).
OWN_TENANT_ROUTES = {"POST /v1/transactions", "GET /v1/collections"}
# Routes that, given B's names from A's tenant, may succeed by acting on A's own objects of the
# same names (an A administrator creating A's collection 'bsecretcoll'): they must still answer
# exactly as for a name that exists nowhere.
MAY_ACT_IN_OWN_TENANT = {"PUT /v1/collections/{name}", "POST /v1/collections/{name}/import",
                         "GET /v1/admin/keys", "POST /v1/admin/keys", "GET /v1/admin/roles",
                         "PUT /v1/admin/roles/{role}", "DELETE /v1/admin/roles/{role}",
                         "POST /v1/admin/roles/{role}/grants",
                         "DELETE /v1/admin/roles/{role}/grants/{permission}"}
# Of those, the ones whose answer differs between two calls by design (a new key's random id and
# secret): only the status is compared.
NOT_REPEATABLE = {"POST /v1/admin/keys"}

# One statement per PhenixQL statement kind, reaching for B's objects by name. A kind without a
# case fails the test (the list of kinds comes from phenixd itself).
STATEMENTS = {
    "select": "SELECT id, metadata FROM {name} WHERE metadata.v = 'x'",
    "create_collection": "CREATE COLLECTION {name} (DIMENSION 2)",
    "drop_collection": "DROP COLLECTION {name}",
    "create_index": "CREATE INDEX ON {name} (metadata.v)",
    "drop_index": "DROP INDEX ON {name} (metadata.v)",
    "show_collections": "SHOW COLLECTIONS",
    "describe": "DESCRIBE {name}",
    "insert": "INSERT INTO {name} (id, vector) VALUES ('{id}', [1, 2])",
    "update": "UPDATE {name} SET metadata.v = 1 WHERE id = '{id}'",
    "delete": "DELETE FROM {name} WHERE id = '{id}'",
    "begin": "BEGIN",
    "commit": "COMMIT",
    "rollback": "ROLLBACK",
    "copy_from": "COPY {name} FROM 'bsecret.jsonl'",
    "copy_to": "COPY {name} TO 'a-export.jsonl'",
    "show_indexes": "SHOW INDEXES ON {name}",
    "show_tenants": "SHOW TENANTS",
    "show_timestamp": "SHOW TIMESTAMP",
    "analyze": "ANALYZE {name}",
    "reindex": "REINDEX {name}",
    "verify": "VERIFY",  # it takes no collection: it checks every tenant (cluster administration)
    "create_tenant": "CREATE TENANT {tenant}",
    "use_tenant": "USE TENANT {tenant}",
    "security_admin": "GRANT read ON {name} TO {role}",
    "drop_tenant": "DROP TENANT {tenant}",
    "alter_tenant": "ALTER TENANT {tenant} SET QUOTA (max_entities = 5)",
    "show_stats": "SHOW STATS FOR {name}",
    "rotate_tenant_key": "ALTER TENANT {tenant} ROTATE KEY",
    "show_key_rotation": "SHOW KEY ROTATION FOR TENANT {tenant}",
}
# Kinds that do not name B and act inside the caller's own tenant: allowed, but must not say a
# word of B. (BEGIN/COMMIT/ROLLBACK and SHOW COLLECTIONS/TIMESTAMP.)
OWN_TENANT_KINDS = {"begin", "commit", "rollback", "show_collections", "show_timestamp"}

DENIED_HTTP = {401, 403, 404}
DENIED_GRPC = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
               grpc.StatusCode.NOT_FOUND}


class IsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-isolation-")
        cls.pb = grpc_test.generate_stubs(PROTOC, PLUGIN, os.path.join(cls.tmp, "stubs"))
        jwks = os.path.join(cls.tmp, "jwks.json")
        write_jwks(jwks)
        cls.server = grpc_test.GrpcServer(
            os.path.join(cls.tmp, "data"), "--auth", "jwt", "--jwt-jwks", jwks, "--jwt-issuer",
            ISSUER, "--jwt-audience", AUDIENCE)
        cls.root = mint("root", "*", ["admin"])
        cls.tokens = {role: mint(f"a-{role}", TENANT_A, [role])
                      for role in ("admin", "writer", "reader")}
        cls.b_admin = mint("b-admin", TENANT_B, ["admin"])
        cls.table = json.loads(subprocess.run([PHENIXD, "--print-access-table"], check=True,
                                              capture_output=True, text=True).stdout)
        cls.seed()

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    @classmethod
    def req(cls, method, path, body=None, token=None, tenant=None, raw=None, headers=None):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if tenant is not None:
            hdrs["Phenix-Tenant"] = tenant
        return cls.server.request(method, path, body=body, headers=hdrs, raw=raw)

    @classmethod
    def query(cls, text, token, tenant=None):
        return cls.req("POST", "/v1/query", {"query": text}, token=token, tenant=tenant)

    @classmethod
    def seed(cls):
        for tenant in (TENANT_A, TENANT_B):
            status, _, body = cls.query(f"CREATE TENANT {tenant}", cls.root)
            assert status == 200, body
        # B's data, written by B's own administrator.
        b = cls.b_admin
        for name in (B_COLLECTION, "bhiddencoll"):
            status, _, body = cls.req("PUT", f"/v1/collections/{name}", {"dimension": 2}, token=b)
            assert status == 201, body
        entities = [{"id": B_ID, "vector": [1, 2], "metadata": {"v": "bhiddenvalue"},
                     "edges": [{"label": "bhiddenlabel", "target": "bhiddenid2",
                                "target_collection": B_COLLECTION}]}]
        entities += [{"id": "bhiddenid2" if i == 0 else f"bhiddenid2-{i}", "vector": [i, 1],
                      "metadata": {"v": "bhiddenvalue"}} for i in range(B_ENTITIES - 1)]
        status, _, body = cls.req("POST", f"/v1/collections/{B_COLLECTION}/entities",
                                  {"entities": entities}, token=b)
        assert status == 200, body
        status, _, body = cls.req("PUT", f"/v1/collections/{B_COLLECTION}/indexes/{B_PATH}",
                                  token=b)
        assert status in (200, 201), body
        # An interactive transaction of B's: A must not be able to use it.
        status, _, body = cls.req("POST", "/v1/transactions", {}, token=b)
        assert status == 201, body
        cls.b_transaction = body["id"]
        # B's custom role and API key: A must not be able to see, revoke or grant to them.
        status, _, body = cls.req("PUT", f"/v1/admin/roles/{B_ROLE}", token=b)
        assert status == 201, body
        status, _, body = cls.req("POST", "/v1/admin/keys", {"roles": [B_ROLE]}, token=b)
        assert status == 201, body
        B_NAMES["{key_id}"] = body["id"]
        # A's own data (the positive controls).
        a = cls.tokens["admin"]
        status, _, body = cls.req("PUT", "/v1/collections/acoll", {"dimension": 2}, token=a)
        assert status == 201, body
        status, _, body = cls.req("POST", "/v1/collections/acoll/entities",
                                  {"entities": [{"id": "a1", "vector": [1, 2]}]}, token=a)
        assert status == 200, body

    def assert_no_b(self, text, what):
        # B's names the request itself sent may be echoed (the oracle checks say that the echo
        # is the same as for a name that exists nowhere); B's other names and values may not.
        for marker in B_HIDDEN:
            self.assertNotIn(marker, text, f"{what}: the answer holds B's {marker!r}: {text[:400]}")
        self.assertNotRegex(text, rf'"entities"\s*:\s*{B_ENTITIES}\b', f"{what}: counts B: {text}")

    @staticmethod
    def text_of(body):
        # Times and commit timestamps differ between two otherwise equal answers.
        text = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
        return re.sub(r'"(created_at_ms|timestamp|snapshot)": \d+', r'"\1": 0', text)

    def rest_case(self, key, names, token, tenant=None):
        method, pattern = key.split(" ", 1)
        path = substitute(pattern, names)
        if "/transactions/" in pattern:
            path = pattern.replace("{id}", names["txn"])
        body = REST_BODIES[key]
        raw = None
        headers = None
        if body == "RAW":
            body = None
            raw = json.dumps({"id": names["{id}"], "vector": [1, 2]}).encode() + b"\n"
            headers = {"Content-Type": "application/x-ndjson"}
        elif body is not None:
            body = json.loads(substitute(json.dumps(body), names))
        status, _, answer = self.req(method, path, body, token=token, tenant=tenant, raw=raw,
                                     headers=headers)
        return status, self.text_of(answer)

    # ------------------------------------------------------------ coverage

    def test_every_route_and_method_has_a_case(self):
        status, _, doc = self.req("GET", "/openapi.json")
        self.assertEqual(status, 200)
        routes = {f"{method.upper()} {path}" for path, item in doc["paths"].items()
                  for method in item if method in ("get", "put", "post", "delete", "patch")}
        self.assertTrue(routes)
        self.assertEqual(routes - set(REST_BODIES), set(), "routes without an isolation case")
        table_routes = {f"{r['method']} {r['pattern']}" for r in self.table["routes"]}
        self.assertEqual(routes, table_routes, "/openapi.json and the access table disagree")
        self.assertEqual(set(self.table["statement_kinds"]) - set(STATEMENTS), set(),
                         "statement kinds without an isolation case")
        self.assertEqual({s["kind"] for s in self.table["statements"]},
                         set(self.table["statement_kinds"]), "statement kinds not mapped")
        self.assertEqual(set(self.grpc_methods()) - set(GRPC_CASES), set(),
                         "gRPC methods without an isolation case")

    # ------------------------------------------------------------ authentication

    def test_missing_bad_and_expired_credentials_are_one_generic_401(self):
        expired = mint("a-admin", TENANT_A, ["admin"], expires_in=-3600)
        answers = []
        for headers in ({}, {"Authorization": "Bearer garbage"},
                        {"Authorization": "Bearer " + expired},
                        {"Authorization": "Basic YTpi"}):
            status, hdrs, body = self.server.request("GET", "/v1/collections", headers=headers)
            self.assertEqual(status, 401, body)
            self.assertEqual(hdrs.get("WWW-Authenticate"), "Bearer")
            self.assertEqual(body["error"]["code"], "UNAUTHENTICATED")
            answers.append(body["error"]["message"])
        self.assertEqual(answers[0], "authentication required")
        self.assertEqual(set(answers[1:]), {"invalid credentials"})
        # Probes stay open.
        self.assertEqual(self.req("GET", "/health")[0], 200)
        self.assertEqual(self.req("GET", "/ready")[0], 200)

    def test_protected_mode(self):
        # Auth off on a non-loopback address: refused at startup, naming the flag.
        for args in (["--http", "0.0.0.0:0", "--grpc", ""],
                     ["--http", "127.0.0.1:0", "--grpc", "0.0.0.0:0"]):
            done = subprocess.run([PHENIXD, "--data", os.path.join(self.tmp, "protected"), *args],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertIn("--insecure-no-auth", done.stderr)
        done = subprocess.run([PHENIXD, "--data", os.path.join(self.tmp, "protected"), "--auth",
                               "jwt", "--http", "127.0.0.1:0", "--grpc", ""],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("--jwt-jwks", done.stderr)

    # ------------------------------------------------------------ REST

    def test_rest_routes_reveal_nothing_of_b(self):
        status, _, doc = self.req("GET", "/openapi.json")
        routes = sorted(f"{method.upper()} {path}" for path, item in doc["paths"].items()
                        for method in item if method in ("get", "put", "post", "delete", "patch"))
        b_names = dict(B_NAMES, txn=self.b_transaction)
        nowhere = dict(NOWHERE_NAMES, txn="0123456789abcdef0123456789abcdef")
        checked = 0
        for key in routes:
            if key in OPEN_ROUTES:
                continue
            for role, token in self.tokens.items():
                what = f"{key} as A's {role}"
                # 1. Phenix-Tenant naming B: refused, exactly as naming a tenant that does not exist.
                status, text = self.rest_case(key, b_names, token, tenant=TENANT_B)
                status_x, text_x = self.rest_case(key, b_names, token, tenant=NOWHERE_TENANT)
                self.assertEqual(status, 403, f"{what} with Phenix-Tenant B: {text}")
                self.assertEqual((status, text.replace(TENANT_B, NOWHERE_TENANT)),
                                 (status_x, text_x), what)
                self.assert_no_b(text, what)
                # 2. B's names from A's own tenant: answered as names that exist nowhere.
                if key in OWN_TENANT_ROUTES:
                    status, text = self.rest_case(key, b_names, token)
                    self.assertLess(status, 300, f"{what}: {text}")
                    self.assert_no_b(text, what)
                    checked += 1
                    continue
                status, text = self.rest_case(key, b_names, token)
                status_x, text_x = self.rest_case(key, nowhere, token)
                if status < 300 and key == "PUT /v1/collections/{name}":
                    for name in (B_COLLECTION, NOWHERE_COLLECTION):
                        self.req("DELETE", f"/v1/collections/{name}", token=self.tokens["admin"])
                if key not in MAY_ACT_IN_OWN_TENANT:
                    self.assertIn(status, DENIED_HTTP, f"{what}: {text}")
                echo = {B_COLLECTION: NOWHERE_COLLECTION, B_ID: NOWHERE_ID,
                        self.b_transaction: nowhere["txn"], B_ROLE: NOWHERE_ROLE,
                        B_NAMES["{key_id}"]: NOWHERE_KEY_ID, TENANT_B: NOWHERE_TENANT}
                if key in NOT_REPEATABLE:
                    self.assertEqual(status, status_x, what)
                else:
                    self.assertEqual((status, substitute(text, echo)), (status_x, text_x), what)
                self.assert_no_b(text, what)
                checked += 1
        self.assertGreater(checked, 40)
        # B's data is untouched and there (the cluster administrator sees it).
        status, _, body = self.req("GET", f"/v1/collections/{B_COLLECTION}/entities/{B_ID}",
                                   token=self.root, tenant=TENANT_B)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["metadata"]["v"], "bhiddenvalue")
        status, _, body = self.req("GET", f"/v1/collections/{B_COLLECTION}", token=self.b_admin)
        self.assertEqual((status, body["entities"]), (200, B_ENTITIES), body)

    def test_metrics_is_for_cluster_administrators(self):
        for token in self.tokens.values():
            self.assertEqual(self.req("GET", "/metrics", token=token)[0], 403)
        status, _, text = self.req("GET", "/metrics", token=self.root)
        self.assertEqual(status, 200)

    def test_show_stats_is_the_callers_tenant_and_database_stats_is_for_administrators(self):
        for role, token in self.tokens.items():
            status, _, body = self.query("SHOW STATS", token)
            self.assertEqual(status, 200, f"SHOW STATS as A's {role}: {body}")
            self.assertTrue(body["rows"], body)
            scopes = {row[0] for row in body["rows"]}
            self.assertIn("collection acoll", scopes, body)
            # A's tenant and A's collections (named without a tenant) only.
            others = {scope for scope in scopes if scope != f"tenant {TENANT_A}" and
                      not (scope.startswith("collection ") and "/" not in scope)}
            self.assertEqual(others, set(), body)
            text = json.dumps(body)
            for marker in [B_COLLECTION, TENANT_B] + B_HIDDEN:
                self.assertNotIn(marker, text, f"SHOW STATS as A's {role}: {text[:400]}")
            # The engine-wide figures (every tenant's activity): cluster administration.
            status, _, body = self.query("SHOW DATABASE STATS", token)
            self.assertEqual(status, 403, f"SHOW DATABASE STATS as A's {role}: {body}")
            self.assert_no_b(self.text_of(body), f"SHOW DATABASE STATS as A's {role}")
        status, _, body = self.query("SHOW DATABASE STATS", self.root)
        self.assertEqual(status, 200, body)
        scopes = {row[0] for row in body["rows"]}
        self.assertIn(f"collection {TENANT_B}/{B_COLLECTION}", scopes, body)
        self.assertIn("storage", scopes, body)

    # ------------------------------------------------------------ PhenixQL

    def test_every_statement_kind_reveals_nothing_of_b(self):
        kinds = self.table["statement_kinds"]
        # CREATE COLLECTION last: it creates A's own collections of the names it is given.
        kinds = sorted(kinds, key=lambda kind: kind == "create_collection")
        for kind in kinds:
            template = STATEMENTS[kind]
            for role, token in self.tokens.items():
                what = f"{kind} as A's {role}"

                def run(names, tenant_name, header=None, prefix=""):
                    text = substitute(template, names).replace("{tenant}", tenant_name)
                    status, _, body = self.query(prefix + text, token, tenant=header)
                    return status, self.text_of(body)

                # 1. Phenix-Tenant naming B.
                status, text = run(B_NAMES, TENANT_B, header=TENANT_B)
                self.assertEqual(status, 403, f"{what} with Phenix-Tenant B: {text}")
                self.assert_no_b(text, what)
                # 2. USE TENANT B first (one request, two statements).
                status, text = run(B_NAMES, TENANT_B, prefix=f"USE TENANT {TENANT_B}; ")
                status_x, text_x = run(B_NAMES, TENANT_B,
                                       prefix=f"USE TENANT {NOWHERE_TENANT}; ")
                self.assertEqual(status, 403, f"{what} after USE TENANT B: {text}")
                self.assertEqual(text.replace(TENANT_B, NOWHERE_TENANT), text_x, what)
                self.assert_no_b(text, what)
                # 3. B's names from A's own tenant: as names that exist nowhere.
                status, text = run(B_NAMES, TENANT_B)
                status_x, text_x = run(NOWHERE_NAMES, NOWHERE_TENANT)
                self.assert_no_b(text, what)
                if kind in OWN_TENANT_KINDS:
                    continue
                if kind == "create_collection" and status == 200:
                    # A's administrator made A's own collections: drop them again.
                    for name in (B_COLLECTION, NOWHERE_COLLECTION):
                        self.query(f"DROP COLLECTION {name}", token)
                self.assertEqual((status, substitute(text, {B_COLLECTION: NOWHERE_COLLECTION,
                                                            B_ID: NOWHERE_ID,
                                                            B_ROLE: NOWHERE_ROLE,
                                                            TENANT_B: NOWHERE_TENANT})),
                                 (status_x, text_x), what)
        status, _, body = self.req("GET", f"/v1/collections/{B_COLLECTION}", token=self.b_admin)
        self.assertEqual((status, body["entities"]), (200, B_ENTITIES), body)

    def test_role_limits_and_own_tenant_controls(self):
        admin, writer, reader = (self.tokens[r] for r in ("admin", "writer", "reader"))
        # Inside A: reads work for all, writes for writer and admin, schema for admin only.
        for token in (admin, writer, reader):
            status, _, body = self.query("SELECT id FROM acoll", token)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["rows"], [["a1"]])
            status, _, body = self.req("POST", "/v1/collections/acoll/search",
                                       {"vector": [1, 2], "k": 1}, token=token)
            self.assertEqual(status, 200, body)
            status, _, body = self.req("GET", "/v1/collections", token=token)
            self.assertEqual([c["name"] for c in body["collections"]], ["acoll"], body)
        status, _, body = self.query("INSERT INTO acoll (id, vector) VALUES ('r', [1, 1])", reader)
        self.assertEqual(status, 403, body)
        self.assertIn("'write'", body["error"]["message"])
        status, _, body = self.req("POST", "/v1/collections/acoll/entities",
                                   {"entities": [{"id": "r", "vector": [1, 1]}]}, token=reader)
        self.assertEqual(status, 403, body)
        status, _, body = self.query("INSERT INTO acoll (id, vector) VALUES ('w', [1, 1])", writer)
        self.assertEqual(status, 200, body)
        status, _, body = self.query("CREATE COLLECTION wcoll (DIMENSION 2)", writer)
        self.assertEqual(status, 403, body)
        self.assertIn("'schema'", body["error"]["message"])
        status, _, body = self.req("PUT", "/v1/collections/wcoll", {"dimension": 2}, token=writer)
        self.assertEqual(status, 403, body)
        status, _, body = self.query("CREATE COLLECTION admcoll (DIMENSION 2)", admin)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.query("DROP COLLECTION admcoll", admin)[0], 200)
        # Tenant administration is not cluster administration.
        self.assertEqual(self.query("CREATE TENANT tenc", admin)[0], 403)
        self.assertEqual(self.query("SHOW TENANTS", admin)[0], 403)
        self.assertEqual(self.query(f"USE TENANT {TENANT_A}", admin)[0], 200)
        # A transaction of A's is A's alone.
        status, _, body = self.req("POST", "/v1/transactions", {}, token=writer)
        self.assertEqual(status, 201, body)
        txn = body["id"]
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id FROM acoll"},
                                   token=reader, headers={"Phenix-Transaction": txn})
        self.assertEqual(status, 404, body)
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id FROM acoll"},
                                   token=writer, headers={"Phenix-Transaction": txn})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.req("POST", f"/v1/transactions/{txn}/commit", token=admin)[0], 404)
        self.assertEqual(self.req("POST", f"/v1/transactions/{txn}/commit", token=writer)[0],
                         200)
        # B's transaction is not A's.
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id FROM acoll"},
                                   token=admin, headers={"Phenix-Transaction": self.b_transaction})
        self.assertEqual(status, 404, body)
        self.assert_no_b(self.text_of(body), "B's transaction")

    # ------------------------------------------------------------ gRPC

    @staticmethod
    def grpc_methods():
        with open(os.path.join(ROOT, "proto", "phenix", "v1", "phenix.proto")) as f:
            return re.findall(r"^\s*rpc\s+(\w+)\s*\(", f.read(), re.M)

    def grpc_call(self, method, names, token, tenant=None):
        metadata = []
        if token is not None:
            metadata.append(("authorization", "Bearer " + token))
        if tenant is not None:
            metadata.append(("phenix-tenant", tenant))
        stub = self.server.stub
        request = GRPC_CASES[method](self.pb, names, names.get("txn"))
        try:
            call = getattr(stub, method)
            if method == "UpsertStream":
                answer = call(iter([request]), metadata=metadata, timeout=30)
            elif method == "Query":
                answer = list(call(request, metadata=metadata, timeout=30))
            else:
                answer = call(request, metadata=metadata, timeout=30)
            return grpc.StatusCode.OK, str(answer)
        except grpc.RpcError as error:
            return error.code(), error.details() or ""

    def test_grpc_methods_reveal_nothing_of_b(self):
        b_names = dict(B_NAMES, txn=self.b_transaction)
        nowhere = dict(NOWHERE_NAMES, txn="0123456789abcdef0123456789abcdef")
        for method in self.grpc_methods():
            if method == "Health":
                continue
            for role, token in self.tokens.items():
                what = f"gRPC {method} as A's {role}"
                code, text = self.grpc_call(method, b_names, token, tenant=TENANT_B)
                self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, f"{what}: {text}")
                self.assert_no_b(text, what)
                code, text = self.grpc_call(method, b_names, token)
                self.assert_no_b(text, what)
                if method in ("ListCollections", "BeginTransaction"):
                    self.assertEqual(code, grpc.StatusCode.OK, f"{what}: {text}")
                    continue
                code_x, text_x = self.grpc_call(method, nowhere, token)
                if method == "CreateCollection" and code == grpc.StatusCode.OK:
                    # A's administrator made A's own collections of these names.
                    for name in (B_COLLECTION, NOWHERE_COLLECTION):
                        self.req("DELETE", f"/v1/collections/{name}", token=self.tokens["admin"])
                    text, text_x = "created", "created"
                else:
                    self.assertIn(code, DENIED_GRPC, f"{what}: {text}")
                echo = {B_COLLECTION: NOWHERE_COLLECTION, B_ID: NOWHERE_ID,
                        self.b_transaction: nowhere["txn"]}
                self.assertEqual((code, substitute(text, echo)), (code_x, text_x), what)
        # No credential: UNAUTHENTICATED; Health stays open.
        code, text = self.grpc_call("ListCollections", b_names, None)
        self.assertEqual((code, text), (grpc.StatusCode.UNAUTHENTICATED,
                                        "authentication required"))
        self.assertEqual(self.grpc_call("Health", b_names, None)[0], grpc.StatusCode.OK)
        # Positive control: A's own collection over gRPC.
        code, text = self.grpc_call("GetCollection", {"{name}": "acoll", "{id}": "a1",
                                                      "{path}": "x"}, self.tokens["reader"])
        self.assertEqual(code, grpc.StatusCode.OK, text)


def _struct(value):
    return grpc_test.struct(value)


# One request per gRPC method (names: B's or nowhere's; txn: a transaction id). A method without
# a case fails the test.
GRPC_CASES = {
    "Health": lambda pb, n, t: pb.HealthRequest(),
    "CreateCollection": lambda pb, n, t: pb.CreateCollectionRequest(name=n["{name}"],
                                                                    dimension=2),
    "GetCollection": lambda pb, n, t: pb.GetCollectionRequest(name=n["{name}"]),
    "ListCollections": lambda pb, n, t: pb.ListCollectionsRequest(),
    "DeleteCollection": lambda pb, n, t: pb.DeleteCollectionRequest(name=n["{name}"]),
    "Upsert": lambda pb, n, t: pb.UpsertRequest(
        collection=n["{name}"], entities=[pb.Entity(id=n["{id}"], vector=[1, 2])]),
    "UpsertStream": lambda pb, n, t: pb.UpsertRequest(
        collection=n["{name}"], entities=[pb.Entity(id=n["{id}"], vector=[1, 2])]),
    "GetEntity": lambda pb, n, t: pb.GetEntityRequest(collection=n["{name}"], id=n["{id}"]),
    "DeleteEntity": lambda pb, n, t: pb.DeleteEntityRequest(collection=n["{name}"],
                                                            id=n["{id}"]),
    "Search": lambda pb, n, t: pb.SearchRequest(collection=n["{name}"],
                                                query=_struct({"vector": [1, 2], "k": 10})),
    "Query": lambda pb, n, t: pb.QueryRequest(query=f"SELECT id, metadata FROM {n['{name}']}"),
    "BeginTransaction": lambda pb, n, t: pb.BeginTransactionRequest(),
    "CommitTransaction": lambda pb, n, t: pb.CommitTransactionRequest(id=t or ""),
    "RollbackTransaction": lambda pb, n, t: pb.RollbackTransactionRequest(id=t or ""),
}


PHENIXD = PROTOC = PLUGIN = None

if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    PHENIXD, PROTOC, PLUGIN = sys.argv[1:4]
    phenixd_test.PHENIXD = PHENIXD
    del sys.argv[1:4]
    unittest.main(verbosity=2)
