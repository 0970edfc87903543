#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Authentication, API keys, RBAC and the audit log end to end (issue 15; docs/security.md).

One real phenixd with --auth jwt --jwt-jwks F (plus issuer and audience) and --audit-dir D,
tenants A ("acme") and B ("beta"), tokens minted by jwt_tokens.py. Four parts:

  1. The credential negative suite through the server: jwt_tokens.bad_tokens() and some thirty
     more bad JWTs, malformed / unknown / wrong-secret / revoked / expired API keys, a missing
     header, "Bearer" with nothing, "Basic ...", each on a REST read route, a REST write route and
     a gRPC method: every one 401 / UNAUTHENTICATED with the same generic body (and
     `WWW-Authenticate: Bearer`), each attempt in the audit log with outcome "unauthenticated" and
     a precise reason, and no credential ever in the audit log or phenixd's stdout/stderr.
  2. API keys: a tenant administrator (JWT) makes keys over REST and PhenixQL; a key is a bearer
     with exactly its roles; REVOKE and EXPIRES IN take effect on the next request; a key of A
     cannot reach B; the secret is shown once; keys and revocations survive a restart.
  3. The RBAC matrix, generated: roles (built-in and custom, ROLES below) x permissions x
     resources (the tenant, the collection a custom role is granted, another collection) x
     protocols (REST, PhenixQL over /v1/query, gRPC, PhenixQL over gRPC Query). The expected
     answer of every cell comes from ROLES and the documented permission tables, never from
     phenixd's answers.
  4. Audit completeness: a scripted sequence of denials, writes, schema and admin changes, each
     found in the log with its principal, tenant, action, target and outcome; `phenix audit
     verify D` accepts the log and, after one record of a copy is edited, names that record.

Usage: auth_e2e_test.py PHENIXD PHENIX PROTOC GRPC_PYTHON_PLUGIN
"""
import itertools
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402
import grpc_test  # noqa: E402  (stub generation, GrpcServer)

import jwt_tokens  # noqa: E402  (keys and tokens, python3-cryptography)

import grpc  # noqa: E402

ISSUER = "phenix-auth-e2e"
AUDIENCE = "phenixd"
TENANT_A = "acme"
TENANT_B = "beta"
GRANTED = "granted"  # the collection the custom roles are granted on
OTHER = "other"      # a collection of A no custom role is granted on
B_COLLECTION = "betasecret"
B_ID = "betahidden1"
B_MARKERS = ["betahidden", "betamarker"]
KEY_PATTERN = re.compile(r"^phx_([0-9a-f]{16})_([0-9a-f]{64})$")

KEYS = jwt_tokens.KeySet()
KEYS.add_key("rsa-9", "rsa")  # a real key whose kid the server's JWKS does not hold
JWKS_KIDS = ["rsa-1", "ec-1", "ed-1"]

PERMISSIONS = ["read", "write", "schema", "admin"]
# PhenixQL runs over POST /v1/query ("phenixql") and over gRPC's Query ("grpc-phenixql").
PROTOCOLS = ["rest", "phenixql", "grpc", "grpc-phenixql"]
# The roles of the matrix: (tenant-wide permissions, {collection: permissions granted on it}).
# The built-in ones as docs/security.md defines them; the custom ones are created in tenant A
# from these very definitions (setUpClass), so the expectations and the server's catalog cannot
# drift apart.
ROLES = {
    "admin": ({"read", "write", "schema", "admin"}, {}),
    "writer": ({"read", "write"}, {}),
    "reader": ({"read"}, {}),
    # The custom role of the issue: one grant on one collection, nothing tenant-wide.
    "narrow": (set(), {GRANTED: {"read"}}),
    # A custom role reading the tenant, writing and changing the schema of one collection.
    "scoped": ({"read"}, {GRANTED: {"write", "schema"}}),
    # A custom role holding nothing: not even POST /v1/query or gRPC Query admits it.
    "bare": (set(), {}),
}
BUILTIN_ROLES = {"admin", "writer", "reader"}

GENERIC_401 = {"error": {"code": "UNAUTHENTICATED", "message": "invalid credentials"}}
MISSING_401 = {"error": {"code": "UNAUTHENTICATED", "message": "authentication required"}}

PHENIXD = PHENIX = PROTOC = PLUGIN = None


def mint(subject, tenant, roles, **kwargs):
    kwargs.setdefault("iss", ISSUER)
    kwargs.setdefault("aud", AUDIENCE)
    return KEYS.token(sub=subject, tenant=tenant, roles=list(roles), **kwargs)


def denied_message(permission, scope):
    """The text of a denial (security::PermissionDeniedStatus) for a scope of tenant A;
    permission "any": the entry check of PhenixQL (security::AnyPermissionDeniedStatus)."""
    if permission == "any":
        return f"a permission on tenant '{TENANT_A}' or one of its collections is required"
    if scope == "tenant":
        return f"permission '{permission}' on tenant '{TENANT_A}' is required"
    return f"permission '{permission}' on collection '{scope}' is required"


def role_allows(role, permission, scope):
    """The role model of docs/security.md: tenant-wide permissions, plus grants on a collection
    (which never reach a tenant-level action). "any": some permission on the tenant or on one
    of its collections (what POST /v1/query and gRPC Query need to enter)."""
    tenant_wide, grants = ROLES[role]
    if permission == "any":
        return bool(tenant_wide) or any(grants.values())
    if permission in tenant_wide:
        return True
    return scope != "tenant" and permission in grants.get(scope, set())


class AuthServer(grpc_test.GrpcServer):
    """phenixd whose whole stdout is kept (stop reads what it wrote after the listener lines)."""

    def stop_collect(self, timeout=60):
        """SIGTERM; (exit status, the rest of stdout). The audit log is flushed once it exits."""
        os.kill(self.proc.pid, signal.SIGTERM)
        out = b""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
        try:
            return self.proc.wait(timeout=max(1.0, deadline - time.monotonic())), out.decode(
                errors="replace")
        finally:
            self.channel.close()
            self.log.close()
            self.proc.stdout.close()


def audit_records(audit_dir):
    """Every complete record of the log, in order (a line being written is left out)."""
    out = []
    names = sorted(n for n in os.listdir(audit_dir) if re.match(r"^audit-\d+\.jsonl$", n))
    for name in names:
        with open(os.path.join(audit_dir, name), "rb") as f:
            data = f.read()
        for number, line in enumerate(data.split(b"\n")[:-1], start=1):
            record = json.loads(line)
            record["_file"], record["_line"] = name, number
            out.append(record)
    return out


def audit_text(audit_dir):
    text = ""
    for name in sorted(os.listdir(audit_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(audit_dir, name), "rb") as f:
                text += f.read().decode(errors="replace")
    return text


class AuthE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        started = time.monotonic()
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-auth-e2e-")
        cls.pb = grpc_test.generate_stubs(PROTOC, PLUGIN, os.path.join(cls.tmp, "stubs"))
        cls.jwks = KEYS.write_jwks(os.path.join(cls.tmp, "jwks.json"), kids=JWKS_KIDS)
        cls.data = os.path.join(cls.tmp, "data")
        cls.audit = os.path.join(cls.tmp, "audit")
        cls.outputs = []  # (what, text) of every phenixd's stdout and stderr
        cls.server = None
        cls.start_server()
        cls.root = mint("root", "*", ["admin"])
        cls.a_admin = mint("acme-admin", TENANT_A, ["admin"])
        cls.seed()
        print(f"setup: {time.monotonic() - started:.1f} s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------ the server

    @classmethod
    def start_server(cls):
        cls.server = AuthServer(cls.data, "--auth", "jwt", "--jwt-jwks", cls.jwks, "--jwt-issuer",
                                ISSUER, "--jwt-audience", AUDIENCE, "--audit-dir", cls.audit)

    @classmethod
    def stop_server(cls):
        """SIGTERM and wait: the audit log is complete on disk afterwards."""
        server, cls.server = cls.server, None
        status, stdout = server.stop_collect()
        cls.outputs.append(("stdout", stdout))
        cls.outputs.append(("stderr", server.log_text()))
        assert status == 0, f"phenixd exited {status}: {server.log_text()[-3000:]}"

    @classmethod
    def restart_server(cls):
        cls.stop_server()
        cls.start_server()

    # ------------------------------------------------------------ requests

    @classmethod
    def call(cls, method, path, body=None, token=None, auth=None, tenant=None, rid=None,
             headers=None):
        """(status, headers, body). token: a bearer; auth: the whole Authorization value."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if auth is not None:
            hdrs["Authorization"] = auth
        if tenant is not None:
            hdrs["Phenix-Tenant"] = tenant
        if rid is not None:
            hdrs["Phenix-Request-Id"] = rid
        return cls.server.request(method, path, body=body, headers=hdrs)

    @classmethod
    def query(cls, text, token=None, tenant=None, rid=None, auth=None):
        status, _, body = cls.call("POST", "/v1/query", {"query": text}, token=token, auth=auth,
                                   tenant=tenant, rid=rid)
        return status, body

    @classmethod
    def rpc(cls, method, request, token=None, auth=None, tenant=None):
        """(code, details, answer) of a unary gRPC call."""
        metadata = []
        if token is not None:
            metadata.append(("authorization", "Bearer " + token))
        if auth is not None:
            metadata.append(("authorization", auth))
        if tenant is not None:
            metadata.append(("phenix-tenant", tenant))
        try:
            answer = getattr(cls.server.stub, method)(request, metadata=metadata, timeout=30)
            if method == "Query":
                answer = list(answer)
            return grpc.StatusCode.OK, "", answer
        except grpc.RpcError as error:
            return error.code(), error.details() or "", None

    @classmethod
    def seed(cls):
        for tenant in (TENANT_A, TENANT_B):
            status, body = cls.query(f"CREATE TENANT {tenant}", cls.root)
            assert status == 200, body
        a = cls.a_admin
        for name in (GRANTED, OTHER):
            status, _, body = cls.call("PUT", f"/v1/collections/{name}", {"dimension": 2}, a)
            assert status == 201, body
            status, _, body = cls.call("POST", f"/v1/collections/{name}/entities",
                                       {"entities": [{"id": "e1", "vector": [1, 2],
                                                      "metadata": {"v": "acme"}}]}, a)
            assert status == 200, body
        # The custom roles, from ROLES: "narrow" over REST, the others over PhenixQL.
        for role, (tenant_wide, grants) in ROLES.items():
            if role in BUILTIN_ROLES:
                continue
            if role == "narrow":
                status, _, body = cls.call("PUT", f"/v1/admin/roles/{role}",
                                           {"permissions": sorted(tenant_wide)}, a)
                assert status == 201, body
                for collection, permissions in grants.items():
                    for permission in sorted(permissions):
                        status, _, body = cls.call("POST", f"/v1/admin/roles/{role}/grants",
                                                   {"permission": permission,
                                                    "collection": collection}, a)
                        assert status == 200, body
                continue
            with_permissions = (" WITH PERMISSIONS " + ", ".join(sorted(tenant_wide))
                                if tenant_wide else "")
            status, body = cls.query(f"CREATE ROLE {role}{with_permissions}", a)
            assert status == 200, body
            for collection, permissions in grants.items():
                status, body = cls.query(
                    f"GRANT {', '.join(sorted(permissions))} ON {collection} TO {role}", a)
                assert status == 200, body
        # B's data, with markers no answer to A may hold.
        b = mint("beta-admin", TENANT_B, ["admin"])
        status, _, body = cls.call("PUT", f"/v1/collections/{B_COLLECTION}", {"dimension": 2}, b)
        assert status == 201, body
        status, _, body = cls.call("POST", f"/v1/collections/{B_COLLECTION}/entities",
                                   {"entities": [{"id": B_ID, "vector": [1, 2],
                                                  "metadata": {"v": "betamarker"}}]}, b)
        assert status == 200, body

    def wait_audit(self, predicate, what, timeout=10):
        """Polls the log (group commit: about 10 ms plus an fsync) until predicate(records)."""
        deadline = time.monotonic() + timeout
        while True:
            records = audit_records(self.audit)
            if predicate(records):
                return records
            if time.monotonic() > deadline:
                self.fail(f"audit log: {what} did not appear; last records: "
                          f"{json.dumps(records[-5:], indent=1)}")
            time.sleep(0.05)

    def assert_no_b(self, text, what):
        text = text if isinstance(text, str) else json.dumps(text)
        for marker in B_MARKERS:
            self.assertNotIn(marker, text, f"{what}: B's {marker!r} in {text[:300]}")

    # ------------------------------------------------------------ 1. bad credentials

    @classmethod
    def make_key(cls, roles, expires_in_s=None):
        body = {"roles": list(roles)}
        if expires_in_s is not None:
            body["expires_in_s"] = expires_in_s
        status, _, created = cls.call("POST", "/v1/admin/keys", body, cls.a_admin)
        assert status == 201, created
        return created

    def bad_credentials(self):
        """[(name, Authorization value, reason fragment or None)]: every one must be refused.
        The fragment, when given, is what the audit record's reason must hold."""
        good = dict(sub="neg", tenant=TENANT_A, roles=["admin"], iss=ISSUER, aud=AUDIENCE)
        payload = KEYS.claims(**good)
        rs = {"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}
        sign_rsa = KEYS.signer("rsa-1")
        now = int(time.time())

        def signed(header=rs, body=None, **changes):
            claims = dict(payload) if body is None else body
            if isinstance(claims, dict):
                for name, value in changes.items():
                    if value is None:
                        claims.pop(name, None)
                    else:
                        claims[name] = value
            return jwt_tokens.mint(header, claims, sign_rsa)

        token = KEYS.token(**good)
        head, body, signature = token.split(".")
        expectations = {
            "alg_none": "unsigned tokens are refused",
            "alg_none_with_kid": "unsigned tokens are refused",
            "hs256_with_rsa_public_pem": "header alg 'HS256' does not match JWKS key 'rsa-1'",
            "rs256_header_on_ec_key": "header alg 'RS256' does not match JWKS key 'ec-1'",
            "unknown_kid": "unknown kid 'nope'",
            "bad_signature": "signature does not verify",
            "other_key": "signature does not verify",
            "es256_der_signature": "ES256 signature of",
            "expired": "token expired at", "not_yet_valid": "token not valid before",
            "no_exp": "claim 'exp' is missing", "duplicate_tenant": 'duplicate JSON key "tenant"',
            "two_segments": "fewer than three segments", "garbage": "fewer than three segments",
        }
        out = [(f"jwt_tokens.{name}", "Bearer " + value, expectations.get(name))
               for name, value in KEYS.bad_tokens(iss=ISSUER, aud=AUDIENCE, sub="neg",
                                                  tenant=TENANT_A).items()]
        large = dict(payload, pad="x" * 3000)
        more = [
            ("wrong_issuer", mint("neg", TENANT_A, ["admin"], iss="https://evil.example"),
             "is not the configured one"),
            ("no_issuer", signed(iss=None), "'iss'"),
            ("wrong_audience", mint("neg", TENANT_A, ["admin"], aud="someone-else"), "audience"),
            ("audience_array_without_ours", mint("neg", TENANT_A, ["admin"], aud=["a", "b"]),
             "audience"),
            ("no_audience", signed(aud=None), "'aud'"),
            ("expired_past_leeway", mint("neg", TENANT_A, ["admin"], exp_in=-120), "expired at"),
            ("issued_in_the_future", signed(iat=now + 3600), "future"),
            ("exp_not_a_number", signed(exp=str(now + 3600)), "'exp'"),
            ("hs256_without_a_configured_secret", mint("neg", TENANT_A, ["admin"], kid=None,
                                                       alg="HS256"), "no kid"),
            ("unknown_kid_real_key", mint("neg", TENANT_A, ["admin"], kid="rsa-9"),
             "unknown kid 'rsa-9'"),
            ("kid_of_another_key", jwt_tokens.mint(rs, payload, KEYS.signer("rsa-9")),
             "signature does not verify"),
            ("rs384_header", signed({"alg": "RS384", "kid": "rsa-1"}),
             "header alg 'RS384' is not supported"),
            ("es256_signed_by_ed25519", jwt_tokens.mint({"alg": "ES256", "kid": "ec-1"}, payload,
                                                        KEYS.signer("ed-1")),
             "signature does not verify"),
            ("crit_header", signed(dict(rs, crit=["exp"])), "crit"),
            ("no_sub", signed(sub=None), "'sub'"),
            ("empty_sub", signed(sub=""), "'sub'"),
            ("no_tenant", signed(tenant=None), "'tenant'"),
            ("empty_tenant", signed(tenant=""), "'tenant'"),
            ("roles_not_an_array", signed(roles="admin"), "'roles'"),
            ("roles_holding_a_number", signed(roles=["admin", 7]), "'roles'"),
            ("payload_not_json", signed(body="this is not json"), "payload: malformed JSON"),
            ("payload_an_array", signed(body="[1,2]"), "not a JSON object"),
            ("header_not_json", jwt_tokens.b64url("{alg") + "." + body + "." + signature,
             "header: malformed JSON"),
            ("truncated_signature", token[:-8], "signature"),
            ("four_segments", token + ".e30", "more than three segments"),
            ("padded_segment", head + "=." + body + "." + signature, "padding"),
            ("empty_signature", head + "." + body + ".", "empty signature"),
            ("large_and_forged", jwt_tokens.mint(rs, large, KEYS.signer("rsa-9")),
             "signature does not verify"),
            ("bad_base64", head + "." + body + "!." + signature, "signature"),
        ]
        out += [(name, "Bearer " + value, fragment) for name, value, fragment in more]
        out += [
            ("bearer_with_nothing", "Bearer", "not 'Bearer"),
            ("basic_auth", "Basic YTpi", "not 'Bearer"),
            ("token_without_scheme", token, "not 'Bearer"),
            ("api_key_malformed", "Bearer phx_nothex", "malformed API key"),
            ("api_key_unknown_id", "Bearer phx_%s_%s" % (secrets.token_hex(8),
                                                         secrets.token_hex(32)),
             "unknown API key id"),
            ("api_key_bad_secret", "Bearer phx_%s_%s" % (self.live_key["id"],
                                                         secrets.token_hex(32)), "bad secret"),
            ("api_key_revoked", "Bearer " + self.revoked_key["key"], "was revoked"),
            ("api_key_expired", "Bearer " + self.expired_key["key"], "expired"),
        ]
        return out

    def test_every_bad_credential_is_one_generic_401_and_audited(self):
        self.live_key = self.make_key(["admin"])
        self.revoked_key = self.make_key(["admin"])
        self.expired_key = self.make_key(["admin"], expires_in_s=1)
        status, _, body = self.call("DELETE", f"/v1/admin/keys/{self.revoked_key['id']}",
                                    token=self.a_admin)
        self.assertEqual(status, 200, body)
        credentials = self.bad_credentials()
        names = [name for name, _, _ in credentials]
        self.assertEqual(len(set(names)), len(names))
        self.assertEqual(len(set(value for _, value, _ in credentials)), len(credentials),
                         "two cases send the same credential")
        self.assertGreaterEqual(len(credentials), 40)
        # Positive controls: the same server accepts good tokens of each algorithm and a live key.
        for kid in JWKS_KIDS:
            status, _, body = self.call("GET", "/v1/collections",
                                        token=mint("neg", TENANT_A, ["reader"], kid=kid))
            self.assertEqual(status, 200, (kid, body))
        self.assertEqual(self.call("GET", "/v1/collections", token=self.live_key["key"])[0], 200)
        time.sleep(max(0.0, self.expired_key["expires_at_ms"] / 1000 + 0.2 - time.time()))

        write_body = {"entities": [{"id": "neg1", "vector": [1, 2]}]}
        attempts = []  # (request id or None for gRPC, case name, reason fragment)
        first_headers = None
        for protocol in ("rest-read", "rest-write"):
            cases = [("missing_header", None, "no credential")] + credentials
            for number, (name, auth, fragment) in enumerate(cases):
                rid = f"neg-{protocol}-{number:03d}"
                if protocol == "rest-read":
                    status, headers, body = self.call("GET", "/v1/collections", auth=auth,
                                                      rid=rid)
                else:
                    status, headers, body = self.call("POST", f"/v1/collections/{GRANTED}/"
                                                      "entities", write_body, auth=auth, rid=rid)
                what = f"{protocol} {name}"
                self.assertEqual(status, 401, f"{what}: {body}")
                self.assertEqual(body, MISSING_401 if auth is None else GENERIC_401, what)
                self.assertEqual(headers.get("WWW-Authenticate"), "Bearer", what)
                # Nothing else differs either: the same headers for every refused credential.
                shape = {k: v for k, v in headers.items()
                         if k not in ("Phenix-Request-Id", "Date", "Content-Length")}
                if auth is not None:
                    first_headers = first_headers or shape
                    self.assertEqual(shape, first_headers, what)
                attempts.append((rid, name, fragment))
        # gRPC: between two REST markers, so the i-th record in between is the i-th call.
        self.call("GET", "/v1/collections", rid="neg-grpc-begin")
        grpc_cases = [("missing_header", None, "no credential")] + credentials
        for name, auth, fragment in grpc_cases:
            code, details, _ = self.rpc("ListCollections", self.pb.ListCollectionsRequest(),
                                        auth=auth)
            self.assertEqual((code, details),
                             (grpc.StatusCode.UNAUTHENTICATED,
                              "authentication required" if auth is None
                              else "invalid credentials"), f"gRPC {name}")
            attempts.append((None, name, fragment))
        self.call("GET", "/v1/collections", rid="neg-grpc-end")
        # Past the header limits a credential never reaches the verifier: REST answers 431 (16 KiB
        # of headers), gRPC's own metadata limit (8 KiB) refuses the call; neither reflects it.
        huge = mint("neg", TENANT_A, ["admin"], claims={"pad": "x" * 20000})
        status, _, body = self.call("GET", "/v1/collections", token=huge)
        self.assertEqual(status, 431, body)
        self.assertNotIn(huge.split(".")[2], json.dumps(body))
        code, details, _ = self.rpc("ListCollections", self.pb.ListCollectionsRequest(),
                                    token=mint("neg", TENANT_A, ["admin"],
                                               claims={"pad": "x" * 9000}))
        self.assertNotEqual(code, grpc.StatusCode.OK, details)
        total = len(attempts)
        print(f"negative suite: {len(credentials)} bad credentials + a missing one, "
              f"{total} attempts (REST read, REST write, gRPC), all refused", file=sys.stderr)

        # The audit log: one record per attempt, with the precise reason.
        records = self.wait_audit(
            lambda rs: any(r["request_id"] == "neg-grpc-end" for r in rs), "neg-grpc-end")
        by_rid = {}
        for record in records:
            by_rid.setdefault(record["request_id"], []).append(record)
        begin = by_rid["neg-grpc-begin"][0]["seq"]
        end = by_rid["neg-grpc-end"][0]["seq"]
        grpc_records = [r for r in records if begin < r["seq"] < end]
        grpc_attempts = [a for a in attempts if a[0] is None]
        self.assertEqual(len(grpc_records), len(grpc_attempts),
                         "one audit record per refused gRPC call")
        grpc_iter = iter(grpc_records)
        reasons = set()
        for rid, name, fragment in attempts:
            if rid is None:
                record = next(grpc_iter)
                self.assertIn("127.0.0.1", record["client"], record)
            else:
                self.assertEqual(len(by_rid.get(rid, [])), 1, f"{rid} ({name}): records")
                record = by_rid[rid][0]
            what = f"audit of {rid or 'gRPC'} {name}"
            self.assertEqual((record["action"], record["outcome"], record["principal"],
                              record["tenant"]), ("auth", "unauthenticated", "", ""), what)
            self.assertTrue(record["reason"], what)
            self.assertNotIn(record["reason"], ("invalid credentials",
                                                "authentication required"), what)
            if fragment is not None:
                self.assertIn(fragment, record["reason"], what)
            reasons.add(record["reason"])
        self.assertGreaterEqual(len(reasons), 25, f"the reasons are not precise: {reasons}")

        # No credential in the audit log or in phenixd's output (stopped: all of it is there).
        self.restart_server()
        secrets_sent = []
        for name, auth, _ in credentials:
            value = auth.split(" ", 1)[1] if " " in auth else auth
            secrets_sent.append((name, value))
            if value.startswith("phx_") and len(value) > 70:
                secrets_sent.append((name + " (secret)", value.split("_")[2]))
            elif value.count(".") == 2 and len(value.split(".")[2]) >= 16:
                secrets_sent.append((name + " (signature)", value.split(".")[2]))
        secrets_sent.append(("live key", self.live_key["key"].split("_")[2]))
        secrets_sent.append(("huge token (signature)", huge.split(".")[2]))
        logs = [("audit log", audit_text(self.audit))] + self.outputs
        for what, text in logs:
            self.assertTrue(what == "stdout" or text, what)
            for name, value in secrets_sent:
                if value in ("Bearer",):
                    continue
                self.assertNotIn(value, text, f"{name}: the credential is in the {what}")

    # ------------------------------------------------------------ 2. API keys

    def test_api_keys_end_to_end(self):
        admin = self.a_admin
        # Made over REST and over PhenixQL by the tenant administrator (a JWT).
        status, _, reader = self.call("POST", "/v1/admin/keys", {"roles": ["reader"]}, admin)
        self.assertEqual(status, 201, reader)
        self.assertRegex(reader["key"], KEY_PATTERN)
        self.assertEqual((reader["tenant"], reader["roles"]), (TENANT_A, ["reader"]))
        status, body = self.query("CREATE API KEY FOR ROLE writer", admin)
        self.assertEqual(status, 200, body)
        writer_id, writer_key, tenant, roles, _ = body["rows"][0]
        self.assertRegex(writer_key, KEY_PATTERN)
        self.assertEqual((tenant, roles), (TENANT_A, ["writer"]))
        status, body = self.query("CREATE API KEY FOR ROLE narrow", admin)
        self.assertEqual(status, 200, body)
        narrow_id, narrow_key = body["rows"][0][:2]
        reader_key = reader["key"]

        # A key is a bearer with exactly its roles, on REST, PhenixQL and gRPC.
        status, _, body = self.call("GET", f"/v1/collections/{GRANTED}/entities/e1",
                                    token=reader_key)
        self.assertEqual((status, body.get("id")), (200, "e1"), body)
        status, body = self.query(f"SELECT id FROM {OTHER} WHERE id = 'e1'", reader_key)
        self.assertEqual((status, body.get("rows")), (200, [["e1"]]), body)
        code, details, answer = self.rpc("GetEntity", self.pb.GetEntityRequest(
            collection=GRANTED, id="e1"), token=reader_key)
        self.assertEqual((code, answer.id if answer else None), (grpc.StatusCode.OK, "e1"),
                         details)
        status, _, body = self.call("POST", f"/v1/collections/{GRANTED}/entities",
                                    {"entities": [{"id": "k1", "vector": [1, 2]}]},
                                    token=reader_key)
        self.assertEqual((status, body["error"]["code"]), (403, "PERMISSION_DENIED"), body)
        self.assertEqual(body["error"]["message"], denied_message("write", GRANTED))
        status, body = self.query(f"INSERT INTO {GRANTED} (id, vector) VALUES ('k1', [1, 2])",
                                  reader_key)
        self.assertEqual((status, body["error"]["message"]),
                         (403, denied_message("write", GRANTED)), body)
        code, details, _ = self.rpc("Upsert", self.pb.UpsertRequest(
            collection=GRANTED, entities=[self.pb.Entity(id="k1", vector=[1, 2])]),
            token=reader_key)
        self.assertEqual((code, details), (grpc.StatusCode.PERMISSION_DENIED,
                                           denied_message("write", GRANTED)))
        status, _, body = self.call("GET", "/v1/admin/keys", token=reader_key)
        self.assertEqual((status, body["error"]["message"]),
                         (403, denied_message("admin", "tenant")), body)
        status, _, body = self.call("POST", f"/v1/collections/{GRANTED}/entities",
                                    {"entities": [{"id": "k2", "vector": [1, 2]}]},
                                    token=writer_key)
        self.assertEqual(status, 200, body)
        status, body = self.query(f"CREATE INDEX ON {GRANTED} (metadata.v)", writer_key)
        self.assertEqual((status, body["error"]["message"]),
                         (403, denied_message("schema", GRANTED)), body)
        # A key holding a custom role: its one grant and nothing else.
        status, _, body = self.call("GET", f"/v1/collections/{GRANTED}/entities/e1",
                                    token=narrow_key)
        self.assertEqual(status, 200, body)
        status, _, body = self.call("GET", f"/v1/collections/{OTHER}/entities/e1",
                                    token=narrow_key)
        self.assertEqual((status, body["error"]["message"]),
                         (403, denied_message("read", OTHER)), body)

        # A key of A cannot reach B: 403 naming B, 404 naming B's objects, no byte of B.
        for tenant in (TENANT_B, "nowhere"):
            status, _, body = self.call("GET", f"/v1/collections/{B_COLLECTION}/entities/{B_ID}",
                                        token=reader_key, tenant=tenant)
            self.assertEqual(status, 403, body)
            self.assertIn("own tenant only", body["error"]["message"])
            self.assert_no_b(body, "Phenix-Tenant B")
            code, details, _ = self.rpc("GetEntity", self.pb.GetEntityRequest(
                collection=B_COLLECTION, id=B_ID), token=reader_key, tenant=tenant)
            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
            self.assert_no_b(details, "phenix-tenant B")
        status, _, body = self.call("GET", f"/v1/collections/{B_COLLECTION}/entities/{B_ID}",
                                    token=reader_key)
        self.assertEqual(status, 404, body)
        self.assert_no_b(body, "B's names from A")
        status, body = self.query(f"USE TENANT {TENANT_B}; SELECT id, metadata FROM "
                                  f"{B_COLLECTION}", reader_key)
        self.assertEqual(status, 403, body)
        self.assert_no_b(body, "USE TENANT B")
        status, body = self.query(f"SELECT id, metadata FROM {B_COLLECTION}", writer_key)
        self.assertEqual(status, 404, body)
        self.assert_no_b(body, "SELECT from B's collection name")
        code, details, _ = self.rpc("Query", self.pb.QueryRequest(
            query=f"SELECT id, metadata FROM {B_COLLECTION}"), token=reader_key)
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND, details)
        self.assert_no_b(details, "gRPC Query of B's collection name")

        # A tenant administrator cannot mint a key for the cluster or for another tenant (the
        # same answer whether that tenant exists or not), over REST or PhenixQL.
        answers = {}
        for tenant in ("*", TENANT_B, "nowhere"):
            status, _, body = self.call("POST", "/v1/admin/keys",
                                        {"roles": ["admin"], "tenant": tenant}, admin)
            self.assertEqual((status, body["error"]["message"]),
                             (403, f"permission 'admin' on tenant '{tenant}' is required"), body)
            answers[tenant] = json.dumps(body).replace(f"'{tenant}'", "'T'")
        self.assertEqual(answers[TENANT_B], answers["nowhere"])
        status, body = self.query("CREATE API KEY FOR ROLE admin", mint("w", TENANT_A,
                                                                        ["writer"]))
        self.assertEqual((status, body["error"]["message"]),
                         (403, denied_message("admin", "tenant")), body)

        # The secret is shown once: never in a listing.
        status, _, listed = self.call("GET", "/v1/admin/keys", token=admin)
        self.assertEqual(status, 200, listed)
        status, shown = self.query("SHOW API KEYS", admin)
        self.assertEqual(status, 200, shown)
        listed_ids = {k["id"] for k in listed["keys"]}
        self.assertLessEqual({reader["id"], writer_id, narrow_id}, listed_ids)
        self.assertEqual({row[0] for row in shown["rows"]}, listed_ids)
        for key in (reader_key, writer_key, narrow_key):
            secret = key.split("_")[2]
            for text in (json.dumps(listed), json.dumps(shown)):
                self.assertNotIn(secret, text)
            self.assertFalse(any("key" in k for k in listed["keys"]), listed)
        with open(os.path.join(self.data, "SECURITY"), "rb") as f:
            catalog = f.read().decode(errors="replace")
        for key in (reader_key, writer_key, narrow_key):
            self.assertNotIn(key.split("_")[2], catalog, "a secret in the catalog file")

        # Revocation (PhenixQL and REST) and expiry take effect on the next request.
        status, body = self.query(f"REVOKE API KEY '{writer_id}'", admin)
        self.assertEqual(status, 200, body)
        status, _, body = self.call("GET", "/v1/collections", token=writer_key)
        self.assertEqual((status, body), (401, GENERIC_401))
        status, _, body = self.call("DELETE", f"/v1/admin/keys/{narrow_id}", token=admin)
        self.assertEqual((status, body), (200, {"revoked": narrow_id}))
        code, details, _ = self.rpc("ListCollections", self.pb.ListCollectionsRequest(),
                                    token=narrow_key)
        self.assertEqual((code, details), (grpc.StatusCode.UNAUTHENTICATED,
                                           "invalid credentials"))
        status, body = self.query("CREATE API KEY FOR ROLE reader EXPIRES IN 1 SECONDS", admin)
        self.assertEqual(status, 200, body)
        expiring_id, expiring_key, _, _, expires_at_ms = body["rows"][0]
        status, _, body = self.call("GET", "/v1/collections", token=expiring_key)
        if time.time() * 1000 < expires_at_ms - 100:
            self.assertEqual(status, 200, body)  # alive while young
        time.sleep(max(0.0, expires_at_ms / 1000 + 1.0 - time.time()))
        status, _, body = self.call("GET", "/v1/collections", token=expiring_key)
        self.assertEqual((status, body), (401, GENERIC_401))
        records = self.wait_audit(
            lambda rs: any(f"API key '{expiring_id}' expired" in r["reason"] for r in rs),
            "the expired key's refusal")
        self.assertTrue(any(f"API key '{writer_id}' was revoked" in r["reason"]
                            for r in records))

        # Keys, revocations and expiries survive a restart (the catalog is durable).
        self.restart_server()
        status, _, body = self.call("GET", f"/v1/collections/{GRANTED}/entities/e1",
                                    token=reader_key)
        self.assertEqual(status, 200, body)
        code, _, answer = self.rpc("ListCollections", self.pb.ListCollectionsRequest(),
                                   token=reader_key)
        self.assertEqual(code, grpc.StatusCode.OK)
        self.assertEqual(sorted(c.name for c in answer.collections), [GRANTED, OTHER])
        status, _, body = self.call("POST", f"/v1/collections/{GRANTED}/entities",
                                    {"entities": [{"id": "k3", "vector": [1, 2]}]},
                                    token=reader_key)
        self.assertEqual(status, 403, body)
        for key in (writer_key, narrow_key, expiring_key):
            self.assertEqual(self.call("GET", "/v1/collections", token=key)[0], 401)
        status, _, listed = self.call("GET", "/v1/admin/keys", token=admin)
        by_id = {k["id"]: k for k in listed["keys"]}
        self.assertIsNone(by_id[reader["id"]]["revoked_at_ms"])
        self.assertIsNotNone(by_id[writer_id]["revoked_at_ms"])
        self.assertIsNotNone(by_id[narrow_id]["revoked_at_ms"])
        self.assertEqual(by_id[expiring_id]["expires_at_ms"], expires_at_ms)

    # ------------------------------------------------------------ 3. the RBAC matrix

    # One representative operation per (permission, protocol, resource kind); None where the
    # protocol has no such operation (no tenant-wide write or schema route, no gRPC
    # administration). Each returns ("http", status, body) or ("grpc", code, details).
    def op(self, permission, protocol, scope, token, rid):
        pb = self.pb
        unique = f"m{next(self.counter)}"
        if protocol == "rest":
            if permission == "read":
                path = ("/v1/collections" if scope == "tenant"
                        else f"/v1/collections/{scope}/entities/e1")
                status, _, body = self.call("GET", path, token=token, rid=rid)
            elif permission == "write" and scope != "tenant":
                status, _, body = self.call("POST", f"/v1/collections/{scope}/entities",
                                            {"entities": [{"id": unique, "vector": [1, 2]}]},
                                            token=token, rid=rid)
            elif permission == "schema" and scope != "tenant":
                # Idempotent: 201 the first time, 200 after.
                status, _, body = self.call("PUT", f"/v1/collections/{scope}/indexes/tag",
                                            token=token, rid=rid)
            elif permission == "admin" and scope == "tenant":
                status, _, body = self.call("GET", "/v1/admin/keys", token=token, rid=rid)
            else:
                return None
            return "http", status, body
        if protocol in ("phenixql", "grpc-phenixql"):
            statements = {
                ("read", True): "SHOW COLLECTIONS",
                ("read", False): f"SELECT id FROM {scope} WHERE id = 'e1'",
                ("write", False): f"INSERT INTO {scope} (id, vector) VALUES ('{unique}', [1, 2])",
                ("schema", False): f"ANALYZE {scope}",
                # No statement needs admin on one collection: VERIFY takes none (it checks
                # every tenant: cluster administration).
                ("admin", True): "SHOW ROLES",
            }
            statement = statements.get((permission, scope == "tenant"))
            if statement is None:
                return None
            if protocol == "grpc-phenixql":
                code, details, _ = self.rpc("Query", pb.QueryRequest(query=statement),
                                            token=token)
                return "grpc", code, details
            status, body = self.query(statement, token, rid=rid)
            return "http", status, body
        # gRPC
        if permission == "read":
            if scope == "tenant":
                method, request = "ListCollections", pb.ListCollectionsRequest()
            else:
                method, request = "GetEntity", pb.GetEntityRequest(collection=scope, id="e1")
        elif permission == "write" and scope != "tenant":
            method, request = "Upsert", pb.UpsertRequest(
                collection=scope, entities=[pb.Entity(id=unique, vector=[1, 2])])
        elif permission == "schema" and scope != "tenant":
            # The collection exactly as it is: idempotent (created: false).
            method, request = "CreateCollection", pb.CreateCollectionRequest(name=scope,
                                                                             dimension=2)
        else:
            return None
        code, details, _ = self.rpc(method, request, token=token)
        return "grpc", code, details

    @staticmethod
    def expected(role, permission, protocol, scope):
        """None when allowed, else the permission and scope the first failing check names.
        The checks come from docs/security.md's tables: a REST route or gRPC method needs its
        permission on its resource; POST /v1/query and gRPC Query need some permission in the
        tenant to enter (a grant on one collection is enough), then each statement its own
        permission on its collection (or the tenant)."""
        checks = [(permission, scope)]
        if protocol in ("phenixql", "grpc-phenixql"):
            checks = [("any", "tenant")] + checks
        for needed, on in checks:
            if not role_allows(role, needed, on):
                return needed, on
        return None

    def test_rbac_matrix(self):
        self.counter = itertools.count()
        tokens = {role: mint(f"m-{role}", TENANT_A, [role]) for role in ROLES}
        cells = []
        failures = []
        skipped = 0
        for role, permission, scope, protocol in itertools.product(
                ROLES, PERMISSIONS, ["tenant", GRANTED, OTHER], PROTOCOLS):
            rid = f"rbac-{role}-{permission}-{scope}-{protocol}"
            answer = self.op(permission, protocol, scope, tokens[role], rid)
            if answer is None:
                skipped += 1
                continue
            kind, status, body = answer
            denial = self.expected(role, permission, protocol, scope)
            cell = f"{role:7} {permission:6} {scope:8} {protocol:8}"
            cells.append((rid, role, protocol, permission, denial))
            if denial is None:
                ok = (status == grpc.StatusCode.OK if kind == "grpc" else 200 <= status < 300)
                if not ok:
                    failures.append(f"{cell}: expected allowed, got {status} {body}")
                continue
            message = denied_message(*denial)
            if kind == "grpc":
                got = (status, body)
                want = (grpc.StatusCode.PERMISSION_DENIED, message)
            else:
                got = (status, body.get("error", {}).get("code"),
                       body.get("error", {}).get("message"))
                want = (403, "PERMISSION_DENIED", message)
            if got != want:
                failures.append(f"{cell}: expected {want}, got {got}")
        allowed = sum(1 for c in cells if c[4] is None)
        print(f"RBAC matrix: {len(cells)} cells ({len(ROLES)} roles x {len(PERMISSIONS)} "
              f"permissions x 3 resources x {len(PROTOCOLS)} protocols, {skipped} without an "
              f"operation): {allowed} allowed, {len(cells) - allowed} denied", file=sys.stderr)
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertGreaterEqual(len(cells), 60)
        self.assertGreater(allowed, 20)
        self.assertGreater(len(cells) - allowed, 20)

        # Every REST / PhenixQL cell is in the audit log: denials with the message the client
        # got, allowed writes, schema and admin changes as "ok" (reads are not audited).
        rest = [c for c in cells if c[2] in ("rest", "phenixql")]
        last = rest[-1][0]
        records = self.wait_audit(lambda rs: any(r["request_id"] == last for r in rs), last)
        by_rid = {}
        for record in records:
            by_rid.setdefault(record["request_id"], []).append(record)
        for rid, role, protocol, permission, denial in rest:
            got = by_rid.get(rid, [])
            for record in got:
                self.assertEqual((record["principal"], record["tenant"]),
                                 (f"m-{role}", TENANT_A), record)
            if denial is not None:
                self.assertEqual([(r["outcome"], r["reason"]) for r in got],
                                 [("denied", denied_message(*denial))], rid)
            elif permission != "read":
                self.assertEqual([r["outcome"] for r in got], ["ok"], rid)
            else:
                self.assertEqual(got, [], f"{rid}: a read is not audited")

    # ------------------------------------------------------------ 4. audit completeness

    def test_audit_log_holds_every_action_and_verify_names_an_edited_record(self):
        admin = self.a_admin
        writer = mint("aud-writer", TENANT_A, ["writer"])
        reader = mint("aud-reader", TENANT_A, ["reader"])
        grpc_writer = mint("aud-grpc-writer", TENANT_A, ["writer"])
        grpc_reader = mint("aud-grpc-reader", TENANT_A, ["reader"])
        status, _, key = self.call("POST", "/v1/admin/keys", {"roles": ["writer"]}, admin)
        self.assertEqual(status, 201, key)
        script = []  # (request id, expected record fields)

        def rest(rid, method, path, body, token, expect_status, record, tenant=None):
            status, _, answer = self.call(method, path, body, token=token, tenant=tenant,
                                          rid=rid)
            self.assertEqual(status, expect_status, (rid, answer))
            script.append((rid, record))
            return answer

        def ql(rid, text, token, expect_status, record):
            status, answer = self.query(text, token, rid=rid)
            self.assertEqual(status, expect_status, (rid, answer))
            script.append((rid, record))
            return answer

        def rec(principal, tenant, action, target, outcome):
            return {"principal": principal, "tenant": tenant, "action": action,
                    "target": target, "outcome": outcome}

        entities = {"entities": [{"id": "aud1", "vector": [1, 2]}]}
        # Denials.
        rest("aud-01", "POST", f"/v1/collections/{GRANTED}/entities", entities, reader, 403,
             rec("aud-reader", TENANT_A, "entity.upsert", GRANTED, "denied"))
        ql("aud-02", "CREATE COLLECTION audx (DIMENSION 2)", writer, 403,
           rec("aud-writer", TENANT_A, "collection.create", "audx", "denied"))
        rest("aud-03", "GET", "/v1/collections", None, admin, 403,
             rec("acme-admin", TENANT_A, "tenant.select", TENANT_B, "denied"), tenant=TENANT_B)
        rest("aud-04", "GET", "/v1/admin/keys", None, writer, 403,
             rec("aud-writer", TENANT_A, "key.list", "", "denied"))
        ql("aud-05", "CREATE TENANT gamma", admin, 403,
           rec("acme-admin", "*", "tenant.create", "", "denied"))
        rest("aud-06", "GET", "/v1/collections", None, None, 401,
             rec("", "", "auth", "", "unauthenticated"))
        # Writes.
        rest("aud-07", "POST", f"/v1/collections/{GRANTED}/entities", entities, writer, 200,
             rec("aud-writer", TENANT_A, "entity.upsert", GRANTED, "ok"))
        ql("aud-08", f"INSERT INTO {GRANTED} (id, vector) VALUES ('aud2', [1, 2])", writer, 200,
           rec("aud-writer", TENANT_A, "entity.insert", GRANTED, "ok"))
        rest("aud-09", "PATCH", f"/v1/collections/{GRANTED}/entities/aud1", {"v": 1}, writer,
             200, rec("aud-writer", TENANT_A, "entity.patch", f"{GRANTED}/aud1", "ok"))
        rest("aud-10", "DELETE", f"/v1/collections/{GRANTED}/entities/aud1", None, writer, 200,
             rec("aud-writer", TENANT_A, "entity.delete", f"{GRANTED}/aud1", "ok"))
        rest("aud-11", "POST", f"/v1/collections/{GRANTED}/entities", entities, key["key"], 200,
             rec(f"apikey:{key['id']}", TENANT_A, "entity.upsert", GRANTED, "ok"))
        # Schema changes.
        rest("aud-12", "PUT", "/v1/collections/audcoll", {"dimension": 2}, admin, 201,
             rec("acme-admin", TENANT_A, "collection.create", "audcoll", "ok"))
        ql("aud-13", "CREATE INDEX ON audcoll (metadata.v)", admin, 200,
           rec("acme-admin", TENANT_A, "index.create", "audcoll", "ok"))
        rest("aud-14", "PUT", "/v1/collections/audcoll/indexes/tag", None, admin, 201,
             rec("acme-admin", TENANT_A, "index.create", "audcoll/tag", "ok"))
        ql("aud-15", "DROP COLLECTION audcoll", admin, 200,
           rec("acme-admin", TENANT_A, "collection.drop", "audcoll", "ok"))
        # Administration.
        rest("aud-16", "PUT", "/v1/admin/roles/audrole", None, admin, 201,
             rec("acme-admin", TENANT_A, "role.put", None, "ok"))
        ql("aud-17", f"GRANT read ON {GRANTED} TO audrole", admin, 200,
           rec("acme-admin", TENANT_A, "security.admin", None, "ok"))
        made = rest("aud-18", "POST", "/v1/admin/keys", {"roles": ["audrole"]}, admin, 201,
                    rec("acme-admin", TENANT_A, "key.create", None, "ok"))
        rest("aud-19", "DELETE", f"/v1/admin/keys/{made['id']}", None, admin, 200,
             rec("acme-admin", TENANT_A, "key.revoke", None, "ok"))
        rest("aud-20", "DELETE", "/v1/admin/roles/audrole", None, admin, 200,
             rec("acme-admin", TENANT_A, "role.drop", None, "ok"))
        rest("aud-21", "POST", "/v1/admin/tenants", {"name": "gamma"}, self.root, 201,
             rec("root", "gamma", "tenant.create", None, "ok"))
        rest("aud-22", "DELETE", "/v1/admin/tenants/gamma", None, self.root, 200,
             rec("root", "gamma", "tenant.drop", None, "ok"))
        # gRPC (found by their principal: these calls send no phenix-request-id).
        code, details, _ = self.rpc("Upsert", self.pb.UpsertRequest(
            collection=GRANTED, entities=[self.pb.Entity(id="aud3", vector=[1, 2])]),
            token=grpc_writer)
        self.assertEqual(code, grpc.StatusCode.OK, details)
        code, details, _ = self.rpc("DeleteEntity", self.pb.DeleteEntityRequest(
            collection=GRANTED, id="aud3"), token=grpc_reader)
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
        self.rpc("ListCollections", self.pb.ListCollectionsRequest(), auth="Bearer x.y.z")

        self.stop_server()  # SIGTERM: everything is on disk, the last record is server.stop
        try:
            records = audit_records(self.audit)
            self.assertEqual(records[-1]["action"], "server.stop")
            by_rid = {}
            for record in records:
                by_rid.setdefault(record["request_id"], []).append(record)
            for rid, want in script:
                got = by_rid.get(rid, [])
                self.assertEqual(len(got), 1, f"{rid}: {got}")
                fields = {name: got[0][name] for name in want if want[name] is not None}
                self.assertEqual(fields, {k: v for k, v in want.items() if v is not None}, rid)
                if want["outcome"] in ("denied", "unauthenticated"):
                    self.assertTrue(got[0]["reason"], rid)
                self.assertIn("127.0.0.1", got[0]["client"], rid)
                self.assertRegex(got[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            grpc_seen = {(r["principal"], r["action"], r["target"], r["outcome"])
                         for r in records}
            self.assertIn(("aud-grpc-writer", "entity.upsert", GRANTED, "ok"), grpc_seen)
            self.assertIn(("aud-grpc-reader", "entity.delete", GRANTED, "denied"), grpc_seen)
            self.assertEqual(records[-2]["action"], "auth")  # the last gRPC call

            # The whole log (every run of this test's server so far) verifies.
            done = subprocess.run([PHENIX, "audit", "verify", self.audit], capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            self.assertTrue(done.stdout.startswith(f"ok: {len(records)} records in "),
                            done.stdout)
            self.assertTrue(done.stdout.strip().endswith(records[-1]["hash"]), done.stdout)

            # Edit one record of a copy (the API key's write: its principal), same length.
            copy = os.path.join(self.tmp, "audit-edited")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(self.audit, copy)
            target = by_rid["aud-11"][0]
            path = os.path.join(copy, target["_file"])
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")
            original = lines[target["_line"] - 1]
            edited = original.replace(b'"principal":"apikey:', b'"principal":"apikez:')
            self.assertNotEqual(edited, original)
            lines[target["_line"] - 1] = edited
            with open(path, "wb") as f:
                f.write(b"\n".join(lines))
            done = subprocess.run([PHENIX, "audit", "verify", copy], capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
            self.assertIn(f"broken: {target['_file']} line {target['_line']} (seq "
                          f"{target['seq']}): hash does not match", done.stderr)
            self.assertIn(f"({target['seq'] - 1} records before it verified)", done.stderr)
        finally:
            self.start_server()

    def test_admin_changes_name_what_they_changed(self):
        """Administration records name what they changed (the role, key or tenant): from the
        route's {role}/{key_id}/{tenant}, a create's answer, or the security statement."""
        admin = self.a_admin
        expected = []  # (request id, what the target must name)

        def rest(rid, method, path, body, token, name):
            status, _, answer = self.call(method, path, body, token=token, rid=rid)
            self.assertLess(status, 300, (rid, answer))
            expected.append((rid, name))
            return answer

        def ql(rid, text, name):
            status, answer = self.query(text, admin, rid=rid)
            self.assertEqual(status, 200, (rid, answer))
            expected.append((rid, name))
            return answer

        rest("tgt-01", "PUT", "/v1/admin/roles/tgtrole", None, admin, "tgtrole")
        rest("tgt-02", "POST", "/v1/admin/roles/tgtrole/grants",
             {"permission": "read", "collection": GRANTED}, admin, "tgtrole")
        made = self.call("POST", "/v1/admin/keys", {"roles": ["tgtrole"]}, admin,
                         rid="tgt-03")[2]
        expected.append(("tgt-03", made["id"]))
        rest("tgt-04", "DELETE", f"/v1/admin/keys/{made['id']}", None, admin, made["id"])
        rest("tgt-05", "DELETE", f"/v1/admin/roles/tgtrole/grants/read?collection={GRANTED}",
             None, admin, "tgtrole")
        rest("tgt-06", "DELETE", "/v1/admin/roles/tgtrole", None, admin, "tgtrole")
        rest("tgt-07", "POST", "/v1/admin/tenants", {"name": "tgtten"}, self.root, "tgtten")
        rest("tgt-08", "DELETE", "/v1/admin/tenants/tgtten", None, self.root, "tgtten")
        ql("tgt-09", "CREATE ROLE tgtql", "tgtql")
        ql("tgt-10", f"GRANT read ON {GRANTED} TO tgtql", "tgtql")
        # The statement is authorized (and audited) before the key exists: its roles name it.
        key_id = ql("tgt-11", "CREATE API KEY FOR ROLE tgtql", "tgtql")["rows"][0][0]
        ql("tgt-12", f"REVOKE API KEY '{key_id}'", key_id)
        ql("tgt-13", "DROP ROLE tgtql", "tgtql")
        last = expected[-1][0]
        records = self.wait_audit(lambda rs: any(r["request_id"] == last for r in rs), last)
        by_rid = {r["request_id"]: r for r in records if r["request_id"].startswith("tgt-")}
        missing = [f"{rid} {by_rid[rid]['action']}: target {by_rid[rid]['target']!r} does not "
                   f"name {name!r}" for rid, name in expected if name not in by_rid[rid]["target"]]
        self.assertEqual(missing, [], "\n".join(missing))
        # Cluster administration records the tenant it acted on, not the default tenant.
        self.assertEqual([(by_rid[rid]["tenant"], by_rid[rid]["principal"])
                          for rid in ("tgt-07", "tgt-08")], [("tgtten", "root")] * 2)

    def test_a_key_for_another_tenant_is_audited_as_a_denial(self):
        """A tenant administrator asking for a key of the cluster ({"tenant": "*"}) or of another
        tenant is refused by the handler; the record is a denial with the message, like the
        enforcement point's (docs/security.md)."""
        for number, tenant in enumerate(("*", TENANT_B)):
            rid = f"esc-{number}"
            status, _, body = self.call("POST", "/v1/admin/keys",
                                        {"roles": ["admin"], "tenant": tenant}, self.a_admin,
                                        rid=rid)
            self.assertEqual(status, 403, body)
            records = self.wait_audit(lambda rs: any(r["request_id"] == rid for r in rs), rid)
            got = [(r["principal"], r["action"], r["outcome"], r["reason"])
                   for r in records if r["request_id"] == rid]
            self.assertEqual(got, [("acme-admin", "key.create", "denied",
                                    f"permission 'admin' on tenant '{tenant}' is required")])

    def test_openapi_describes_the_credentials_each_operation_needs(self):
        """With auth on, /openapi.json (itself open) names the two credentials and asks each
        operation but the open ones for one of them."""
        status, _, document = self.call("GET", "/openapi.json")
        self.assertEqual(status, 200)
        schemes = document["components"]["securitySchemes"]
        self.assertEqual((schemes["bearerJwt"]["scheme"], schemes["bearerJwt"]["bearerFormat"]),
                         ("bearer", "JWT"))
        self.assertEqual(schemes["apiKey"]["scheme"], "bearer")
        either = [{"bearerJwt": []}, {"apiKey": []}]
        self.assertEqual(document["paths"]["/v1/query"]["post"]["security"], either)
        self.assertEqual(document["paths"]["/v1/admin/keys"]["post"]["security"], either)
        self.assertEqual(document["paths"]["/health"]["get"]["security"], [])
        self.assertIn("401", document["paths"]["/v1/collections"]["get"]["responses"])

    def test_a_repeated_authorization_or_tenant_header_is_refused_and_audited(self):
        """Two Authorization or Phenix-Tenant headers (or gRPC metadata entries) are an
        ambiguity a proxy and the server could resolve differently: 400 (INVALID_ARGUMENT),
        whichever copy is valid, and a denial in the audit log (docs/security.md)."""
        good = "Bearer " + self.a_admin
        cases = [("dup-auth", [("Authorization", good), ("Authorization", good)],
                  "Authorization", "auth"),
                 ("dup-auth-mixed", [("Authorization", good), ("Authorization", "Bearer x")],
                  "Authorization", "auth"),
                 ("dup-tenant", [("Authorization", "Bearer " + self.root),
                                 ("Phenix-Tenant", TENANT_A), ("Phenix-Tenant", TENANT_B)],
                  "Phenix-Tenant", "tenant.select")]
        for rid, headers, name, action in cases:
            conn = self.server.connection()
            try:
                conn.putrequest("GET", "/v1/collections")
                for header, value in headers + [("Phenix-Request-Id", rid)]:
                    conn.putheader(header, value)
                conn.endheaders()
                response = conn.getresponse()
                body = json.loads(response.read())
            finally:
                conn.close()
            self.assertEqual(response.status, 400, body)
            message = f"{name} was sent more than once; send it once"
            self.assertEqual(body["error"], {"code": "INVALID_ARGUMENT", "message": message})
            records = self.wait_audit(lambda rs: any(r["request_id"] == rid for r in rs), rid)
            got = [(r["principal"], r["action"], r["outcome"], r["reason"])
                   for r in records if r["request_id"] == rid]
            self.assertEqual(got, [("", action, "denied", message)], rid)
        # One copy of each is fine.
        status, _, body = self.call("GET", "/v1/collections", token=self.root, tenant=TENANT_A)
        self.assertEqual(status, 200, body)
        for key, value in (("authorization", good), ("phenix-tenant", TENANT_A)):
            metadata = [("authorization", good)] + [(key, value)] * (1 if key == "authorization"
                                                                     else 2)
            with self.assertRaises(grpc.RpcError) as raised:
                self.server.stub.ListCollections(self.pb.ListCollectionsRequest(),
                                                 metadata=metadata, timeout=30)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertEqual(raised.exception.details(),
                             f"the {key} metadata was sent more than once; send it once")

    def test_grpc_audit_records_name_the_client_as_ip_and_port(self):
        """gRPC records spell the client "ip:port" as REST records do, not gRPC's
        "ipv4:ip:port"."""
        self.call("GET", "/v1/collections", rid="client-begin")
        self.rpc("ListCollections", self.pb.ListCollectionsRequest(), auth="Bearer x.y.z")
        self.call("GET", "/v1/collections", rid="client-end")
        records = self.wait_audit(lambda rs: any(r["request_id"] == "client-end" for r in rs),
                                  "client-end")
        seqs = {r["request_id"]: r["seq"] for r in records if r["request_id"].startswith("client")}
        between = [r for r in records if seqs["client-begin"] < r["seq"] < seqs["client-end"]]
        self.assertEqual(len(between), 1, between)
        self.assertRegex(between[0]["client"], r"^127\.0\.0\.1:\d+$")

    def test_grpc_audit_records_carry_the_request_id(self):
        """A gRPC call's records carry its phenix-request-id metadata (a new id without one), as
        REST's carry Phenix-Request-Id: denials, changes and each PhenixQL statement."""
        pb = self.pb
        writer = mint("rid-writer", TENANT_A, ["writer"])
        reader = mint("rid-reader", TENANT_A, ["reader"])
        calls = [
            ("grpc-rid-1", "Upsert", pb.UpsertRequest(
                collection=GRANTED, entities=[pb.Entity(id="rid1", vector=[1, 2])]), writer,
             ("entity.upsert", "ok")),
            ("grpc-rid-2", "Upsert", pb.UpsertRequest(
                collection=GRANTED, entities=[pb.Entity(id="rid2", vector=[1, 2])]), reader,
             ("entity.upsert", "denied")),
            ("grpc-rid-3", "Query", pb.QueryRequest(
                query=f"INSERT INTO {GRANTED} (id, vector) VALUES ('rid3', [1, 2])"), writer,
             ("entity.insert", "ok")),
        ]
        for rid, method, request, token, _ in calls:
            metadata = [("authorization", "Bearer " + token), ("phenix-request-id", rid)]
            try:
                answer = getattr(self.server.stub, method)(request, metadata=metadata, timeout=30)
                if method == "Query":
                    list(answer)
            except grpc.RpcError:
                pass
        records = self.wait_audit(lambda rs: any(r["request_id"] == "grpc-rid-3" for r in rs),
                                  "grpc-rid-3")
        for rid, _, _, _, (action, outcome) in calls:
            got = [(r["action"], r["outcome"]) for r in records if r["request_id"] == rid]
            self.assertEqual(got, [(action, outcome)], rid)
        # Without the metadata: a fresh id, not an empty one.
        self.rpc("ListCollections", pb.ListCollectionsRequest(), auth="Bearer x.y.z")
        self.call("GET", "/v1/collections", rid="grpc-rid-end")
        records = self.wait_audit(lambda rs: any(r["request_id"] == "grpc-rid-end" for r in rs),
                                  "grpc-rid-end")
        before_end = [r for r in records if r["action"] == "auth" and
                      r["seq"] < next(x["seq"] for x in records
                                      if x["request_id"] == "grpc-rid-end")]
        self.assertRegex(before_end[-1]["request_id"], r"^[0-9a-f]{16}$")


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    PHENIXD, PHENIX, PROTOC, PLUGIN = (os.path.abspath(a) for a in sys.argv[1:5])
    phenixd_test.PHENIXD = PHENIXD
    del sys.argv[1:5]
    unittest.main(verbosity=2)
