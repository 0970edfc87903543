#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""No secrets, tokens or vector payloads in any log (issue 16 item 3; docs/observability.md).

One phenixd with everything that writes logs turned up: --auth jwt, an audit log with reads,
tracing (every request sampled, exported to a local receiver), --log-level debug, the access
log, and the slow-query log at threshold 0 (every statement) in its own file. A session uses a
marker JWT and an API key made over the admin API (its secret is shown once), sends bad
credentials, writes vectors with distinctive values and metadata with marker strings, and runs
statements holding them as literals and parameters over REST (JSON and NDJSON) and gRPC,
including failing ones. Then stderr, stdout, the slow-query log and the audit log are scanned
for the JWT, the key's secret, the bad credentials, the vector values (as sent and as the server
prints them) and the markers.

The scan is only meaningful when the logs hold what they should: it first checks that the
slow-query log has a redacted record of every path (REST JSON, NDJSON, gRPC) with the plan's
actual rows, trace ids on REST and the failing statements' error codes, that stderr has access
lines with trace ids, and that the audit log recorded the session.

The audit log may name principals (a JWT's `sub`, an API key's id), tenants, actions, targets
(collection, role, key ids) and outcomes with a denial's reason; it never holds a request's
payload or a credential, so the same absence check applies to it. A second server with
slow_query_log_parameters on logs to stderr: there the markers of the statements do appear
(the check can fail), and the credentials and vectors sent as entity payloads still do not.

Usage: log_secrets_test.py PHENIXD PROTOC GRPC_PYTHON_PLUGIN
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
OTLP_SINK = os.path.join(HERE, "..", "..", "..", "bench", "server", "otlp_sink.py")
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402
import grpc_test  # noqa: E402  (stub generation, GrpcServer)

import jwt_tokens  # noqa: E402  (keys and tokens, python3-cryptography)

import grpc  # noqa: E402

ISSUER = "phenix-log-secrets"
AUDIENCE = "phenixd"
TENANT = "acme"
KEYS = jwt_tokens.KeySet()
KEYS.add_key("rsa-9", "rsa")  # a real key the server's JWKS does not hold (a forged token)

# Markers: each must never appear in a log (redacted by default).
PAYLOAD_MARKER = "PayloadMarkerKiwi"    # metadata of an entity written over REST (a body)
META_MARKER = "MetaMarkerQuokka"        # metadata of an entity written by INSERT (a literal)
LITERAL_MARKER = "LiteralMarkerOkapi"   # a string literal in a statement
PARAM_MARKER = "ParamMarkerNumbat"      # a parameter's value
FAIL_MARKER = "FailMarkerTakahe"        # a literal in a statement that fails
SYNTAX_MARKER = "SyntaxMarkerKakapo"    # a literal in a statement that does not parse
NUMBER_MARKER = 918273645               # an integer literal
# Vectors with distinctive digits (dimension 4); the server prints float32 values.
VECTORS = {
    "v1": [0.7315926, -3.8642097, 17.290463, 0.00271828],
    "v2": [-0.5772156, 1.6180339, 4.6692016, -2.5029078],
}
QUERY_VECTOR = [0.8414709, -0.9092974, 0.1411200, -0.7568025]

PHENIXD = PROTOC = PLUGIN = None


def mint(subject, tenant, roles, **kwargs):
    kwargs.setdefault("iss", ISSUER)
    kwargs.setdefault("aud", AUDIENCE)
    return KEYS.token(sub=subject, tenant=tenant, roles=list(roles), **kwargs)


class TraceReceiver:
    """An OTLP/HTTP endpoint that accepts and discards every POST (bench/server/otlp_sink.py, run
    as a process of its own and stopped by its pid): the spans are not this test's subject."""

    def __init__(self, tmp):
        port_file = os.path.join(tmp, "otlp-port")
        self.proc = subprocess.Popen([sys.executable, OTLP_SINK, port_file])
        deadline = time.monotonic() + 30
        port = ""
        while not port:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
            if not port and (time.monotonic() > deadline or self.proc.poll() is not None):
                self.close()
                raise AssertionError("the OTLP sink did not start")
            time.sleep(0.05)
        self.endpoint = f"http://127.0.0.1:{int(port)}/v1/traces"

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait()


def read_files(root):
    """{path: text} of every file under root."""
    out = {}
    for base, _, names in os.walk(root):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                out[path] = f.read().decode(errors="replace")
    return out


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def number_forms(value):
    """The ways a float may be printed: as sent and to float32's precision (each with its
    decimal point, so that none can be part of a hex id or an integer)."""
    return {form for form in (repr(value), f"{value:.7g}", f"{value:.8g}", f"{value:.9g}")
            if "." in form}


class LogSecretsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-log-secrets-")
        cls.pb = grpc_test.generate_stubs(PROTOC, PLUGIN, os.path.join(cls.tmp, "stubs"))
        cls.jwks = KEYS.write_jwks(os.path.join(cls.tmp, "jwks.json"), kids=["rsa-1"])
        cls.receiver = TraceReceiver(cls.tmp)
        cls.root = mint("log-root", "*", ["admin"])
        cls.admin = mint("log-admin", TENANT, ["admin"])

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, name, *extra):
        data = os.path.join(self.tmp, name, "data")
        os.makedirs(os.path.dirname(data))
        audit = os.path.join(self.tmp, name, "audit")
        server = grpc_test.GrpcServer(
            data, "--auth", "jwt", "--jwt-jwks", self.jwks, "--jwt-issuer", ISSUER,
            "--jwt-audience", AUDIENCE, "--audit-dir", audit, "--audit-reads", "true",
            "--log-level", "debug", "--access-log", "true",
            "--otlp-endpoint", self.receiver.endpoint, "--trace-sample-ratio", "1",
            "--slow-query-threshold-ms", "0", *extra)
        self.addCleanup(server.kill)
        return server, audit

    # ------------------------------------------------------------ requests

    @staticmethod
    def call(server, method, path, body=None, token=None, auth=None, tenant=TENANT,
             accept=None):
        """(status, body: parsed JSON, or the text of any other answer) over REST."""
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        if auth is not None:
            headers["Authorization"] = auth
        if tenant is not None:
            headers["Phenix-Tenant"] = tenant
        if accept is not None:
            headers["Accept"] = accept
        status, _, answer = server.request(method, path, body=body, headers=headers)
        return status, answer

    def rest_query(self, server, token, text, params=None, accept=None, expect=200):
        body = {"query": text}
        if params is not None:
            body["params"] = params
        status, answer = self.call(server, "POST", "/v1/query", body, token=token,
                                   accept=accept)
        self.assertEqual(status, expect, answer)
        return answer if isinstance(answer, str) else json.dumps(answer)

    def grpc_query(self, server, token, text, expect=grpc.StatusCode.OK, **params):
        request = self.pb.QueryRequest(query=text)
        for name, value in params.items():
            request.params[name].CopyFrom(value)
        metadata = (("authorization", "Bearer " + token), ("phenix-tenant", TENANT))
        try:
            list(server.stub.Query(request, metadata=metadata, timeout=30))
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
        self.assertEqual(code, expect, text)

    def session(self, server):
        """Everything a user might do with secrets in hand. Returns the secrets: {what: text}."""
        secrets = {"the admin JWT": self.admin, "the root JWT": self.root}
        status, raw = self.call(server, "POST", "/v1/query", {"query": f"CREATE TENANT {TENANT}"},
                                token=self.root, tenant=None)
        self.assertEqual(status, 200, raw)
        status, raw = self.call(server, "PUT", "/v1/collections/docs", {"dimension": 4},
                                token=self.admin)
        self.assertEqual(status, 201, raw)
        # An API key, made over the admin API: its secret is shown once, here.
        status, raw = self.call(server, "POST", "/v1/admin/keys", {"roles": ["writer"]},
                                token=self.admin)
        self.assertEqual(status, 201, raw)
        key = raw["key"]
        match = re.match(r"^phx_([0-9a-f]{16})_([0-9a-f]{64})$", key)
        self.assertIsNotNone(match, key)
        secrets["the API key"] = key
        secrets["the API key's secret"] = match.group(2)

        # Bad credentials: each refused; none may be logged.
        forged = KEYS.token(sub="ForgedSubjectMarker", tenant=TENANT, roles=["admin"],
                            kid="rsa-9", iss=ISSUER, aud=AUDIENCE)
        wrong_secret = f"phx_{match.group(1)}_{'d3adb33f' * 8}"
        bad = {"a forged JWT": forged, "a wrong key secret": wrong_secret,
               "a garbage bearer": "GarbageBearerMarkerWeta"}
        for what, token in bad.items():
            status, raw = self.call(server, "GET", "/v1/collections", token=token)
            self.assertEqual(status, 401, f"{what}: {raw}")
            self.grpc_query(server, token, "SHOW COLLECTIONS", grpc.StatusCode.UNAUTHENTICATED)
        status, raw = self.call(server, "GET", "/v1/collections",
                                auth="Basic QmFzaWNNYXJrZXJLZWE6cGFzcw==")
        self.assertEqual(status, 401, raw)
        secrets.update(bad)
        secrets["a Basic credential"] = "QmFzaWNNYXJrZXJLZWE6cGFzcw=="

        # Entities with distinctive vectors and marker metadata (REST and PhenixQL).
        status, raw = self.call(server, "POST", "/v1/collections/docs/entities",
                                {"entities": [{"id": "v1", "vector": VECTORS["v1"],
                                               "metadata": {"note": PAYLOAD_MARKER, "n": 1}}]},
                                token=key)
        self.assertEqual(status, 200, raw)
        v2 = ", ".join(repr(x) for x in VECTORS["v2"])
        self.rest_query(server, key, f"INSERT INTO docs (id, vector, metadata) VALUES ('v2', "
                                     f"[{v2}], {{\"note\": \"{META_MARKER}\", \"n\": 2}})")
        # The server's own printing of the stored vectors.
        printed = self.rest_query(server, self.admin, "SELECT id, vector FROM docs")
        self.assertIn('"v1"', printed)
        # Queries holding literals and parameters, over every path.
        q = ", ".join(repr(x) for x in QUERY_VECTOR)
        search = (f"SELECT id, metadata.note FROM docs WHERE metadata.note != '{LITERAL_MARKER}' "
                  f"AND metadata.n < {NUMBER_MARKER} ORDER BY vector <=> [{q}] LIMIT 2")
        answer = self.rest_query(server, key, search)
        self.assertIn(PAYLOAD_MARKER, answer)  # the answer holds it; no log may
        self.rest_query(server, key, "SELECT id FROM docs WHERE metadata.note = $note "
                                     "ORDER BY vector <-> $v LIMIT 1",
                        params={"note": PARAM_MARKER, "v": QUERY_VECTOR})
        streamed = self.rest_query(server, key, search, accept="application/x-ndjson")
        self.assertIn(PAYLOAD_MARKER, streamed)
        self.grpc_query(server, key, search)
        self.grpc_query(server, key, "SELECT id FROM docs WHERE metadata.note = $note LIMIT 1",
                        note=self.pb.Value(string_value=PARAM_MARKER))
        self.rest_query(server, key, f"UPDATE docs SET metadata.tag = '{LITERAL_MARKER}' "
                                     "WHERE id = 'v1'")
        # Failing statements with marker literals: one the engine refuses, one that does not
        # parse.
        self.rest_query(server, key, f"SELECT id FROM nowhere WHERE metadata.x = '{FAIL_MARKER}'",
                        expect=404)
        self.rest_query(server, key, f"SELEC '{SYNTAX_MARKER}' FROM docs", expect=400)
        self.grpc_query(server, key, f"SELECT id FROM nowhere WHERE metadata.x = '{FAIL_MARKER}'",
                        grpc.StatusCode.NOT_FOUND)
        return secrets, printed

    def forbidden(self, secrets, printed, statement_markers):
        """{what: text} that must not appear in any log."""
        out = dict(secrets)
        for what, token in secrets.items():
            if token.count(".") == 2:  # a JWT: its payload and signature on their own too
                _, payload, signature = token.split(".")
                out[what + "'s payload"] = payload
                out[what + "'s signature"] = signature
        out["metadata sent as a body"] = PAYLOAD_MARKER
        if statement_markers:
            out.update({"metadata sent as a literal": META_MARKER,
                        "literal marker": LITERAL_MARKER, "parameter marker": PARAM_MARKER,
                        "failing literal marker": FAIL_MARKER,
                        "unparsable literal marker": SYNTAX_MARKER,
                        "number literal": str(NUMBER_MARKER)})
        # v1 is written as a body; v2 and the query vector are literals or parameters.
        vectors = {"v1": VECTORS["v1"]}
        if statement_markers:
            vectors.update({"v2": VECTORS["v2"], "query": QUERY_VECTOR})
        for name, vector in vectors.items():
            for value in vector:
                for form in number_forms(value):
                    out[f"{name}'s value {value} as {form}"] = form
        # The numbers exactly as the server prints the stored vectors.
        for row in json.loads(printed)["rows"]:
            if row[0] in vectors:
                for value in row[1]:
                    out[f"{row[0]}'s value as the server prints it"] = repr(value)
        return out

    def assert_absent(self, logs, forbidden):
        for path, text in logs.items():
            for what, needle in forbidden.items():
                self.assertNotIn(needle, text, f"{what} ({needle!r}) in {path}")

    # ------------------------------------------------------------ the tests

    def test_no_secrets_in_any_log_redacted(self):
        slow_path = os.path.join(self.tmp, "redacted-slow", "slow.log")
        os.makedirs(os.path.dirname(slow_path))
        server, audit = self.start("redacted", "--slow-query-log", slow_path)
        secrets, printed = self.session(server)
        time.sleep(0.3)  # the audit log's group commit
        self.assertEqual(server.stop(), 0)
        logs = {"stderr": server.log_text()}
        logs.update(read_files(audit))
        logs.update(read_files(os.path.dirname(slow_path)))

        # The logs hold what they should, so that the absence below means something.
        stderr_lines = json_lines(logs["stderr"])
        requests = [line for line in stderr_lines
                    if line.get("msg") == "request" and line.get("route") == "/v1/query"]
        self.assertTrue(requests)
        for line in requests:
            self.assertRegex(line.get("trace_id", ""), r"^[0-9a-f]{32}$", line)
            self.assertRegex(line.get("span_id", ""), r"^[0-9a-f]{16}$", line)
            self.assertIn("trace_exported", line)
        self.assertFalse([line for line in stderr_lines if line.get("msg") == "slow query"],
                         "slow queries go to their file")
        records = json_lines(logs[slow_path])
        self.assertTrue(records)
        for record in records:
            self.assertEqual(record["msg"], "slow query", record)
            self.assertEqual(record["redacted"], True, record)
            self.assertGreaterEqual(record["duration_ms"], 0)
        by_route = {}
        for record in records:
            by_route.setdefault(record["route"], []).append(record)
        self.assertEqual(set(by_route), {"/v1/query", "/phenix.v1.Phenix/Query"})
        searches = [r for r in records if r["statement"] is not None
                    and r["statement"].startswith("SELECT id, metadata.note FROM docs")]
        self.assertEqual(len(searches), 3, records)  # REST JSON, NDJSON, gRPC
        for record in searches:
            self.assertEqual(record["statement"],
                             "SELECT id, metadata.note FROM docs WHERE metadata.note != ? AND "
                             "metadata.n < ? ORDER BY vector <=> ? LIMIT ?")
            self.assertEqual(record["tenant"], TENANT)
            self.assertRegex(record["principal"], r"^apikey:[0-9a-f]{16}$")  # the key's id
            root = record["plan"]["root"]
            self.assertEqual(root["actual_rows"], 2, record)
            self.assertIn("time_ms", root)
            self.assertTrue(any("actual rows=" in line for line in record["plan"]["text"]))
        rest = [r for r in searches if r["route"] == "/v1/query"]
        for record in rest:
            self.assertRegex(record["trace_id"], r"^[0-9a-f]{32}$")
            self.assertRegex(record["request_id"], r".+")
        self.assertIn("$note", json.dumps(records))
        errors = sorted((r["route"], r.get("error"), r["statement"]) for r in records
                        if "error" in r)
        self.assertEqual(errors, [
            ("/phenix.v1.Phenix/Query", "NOT_FOUND",
             "SELECT id FROM nowhere WHERE metadata.x = ?"),
            ("/v1/query", "INVALID_ARGUMENT", None),
            ("/v1/query", "NOT_FOUND", "SELECT id FROM nowhere WHERE metadata.x = ?"),
        ])
        audit_text = "".join(text for path, text in logs.items() if path.startswith(audit))
        self.assertIn("key.create", audit_text)
        self.assertIn("unauthenticated", audit_text)
        self.assertIn("entity.insert", audit_text)
        self.assertIn("entity.update", audit_text)

        self.assert_absent(logs, self.forbidden(secrets, printed, statement_markers=True))
        self.assertTrue(any(line["trace_exported"] for line in requests))  # sampled: all

    def test_parameters_on_logs_literals_but_never_credentials(self):
        server, audit = self.start("params", "--slow-query-log-parameters", "true")
        secrets, printed = self.session(server)
        time.sleep(0.3)
        self.assertEqual(server.stop(), 0)
        logs = {"stderr": server.log_text()}
        logs.update(read_files(audit))
        records = [line for line in json_lines(logs["stderr"]) if line.get("msg") == "slow query"]
        self.assertTrue(records)
        # With parameters on, the statements' literals and parameters are in the records (so
        # the redacted run's absence check is not vacuous) ...
        text = json.dumps(records)
        for marker in (LITERAL_MARKER, PARAM_MARKER, FAIL_MARKER, SYNTAX_MARKER):
            self.assertIn(marker, text)
        self.assertFalse(any(r.get("redacted") for r in records))
        # ... but credentials and payloads sent as bodies never are.
        self.assert_absent(logs, self.forbidden(secrets, printed, statement_markers=False))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    PHENIXD, PROTOC, PLUGIN = (os.path.abspath(a) for a in sys.argv[1:4])
    phenixd_test.PHENIXD = PHENIXD
    del sys.argv[1:4]
    unittest.main(verbosity=2)
