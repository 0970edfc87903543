#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of phenixd's tracing (label "server"; docs/observability.md): a real OTLP
receiver - a small HTTP server on 127.0.0.1:0 that decodes each POST /v1/traces body into the
official ExportTraceServiceRequest message (PyPI's opentelemetry-proto, in a venv this test
makes under the build directory from otlp/requirements.txt, hash-pinned, like
schemathesis_test.py) - and phenixd started with --otlp-endpoint pointing at it. Checks:

- a traced hybrid PhenixQL query (graph expansion + metadata filter + vector ranking) sent with
  the client's traceparent arrives as ONE trace with the client's trace id, the root span's
  parent is the client's span id, the structure is request > parse/bind/plan/execute >
  operators, with the HTTP and operator attributes; the response carries our traceparent;
- with sample ratio 0 and a slow threshold, a slow request (an import whose body arrives
  slowly) is kept with a span per COPY chunk, a fast one is not; a failed request is kept;
- a dead exporter (a closed port; a port that accepts and never answers) costs requests
  nothing: they all succeed within a generous bound, and the dropped spans are counted on
  /metrics (phenix_trace_spans_dropped_total).

Usage: tracing_test.py PATH/TO/phenixd BUILD_DIR
"""
import base64
import http.server
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "otlp", "requirements.txt")
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402
import venv_helper  # noqa: E402
from phenixd_test import Server  # noqa: E402

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def fail(message):
    print("tracing_test: FAIL: " + message, flush=True)
    sys.exit(1)


def ensure_venv(build_dir):
    """The venv's python (made once per requirements file), like schemathesis_test.py's."""
    return venv_helper.ensure_venv(build_dir, "otlp-venv", REQUIREMENTS, "opentelemetry-proto",
                                   fail, "tracing_test")


def decode_otlp_json(body):
    """ExportTraceServiceRequest from OTLP/JSON. The OTLP JSON encoding writes trace and span
    ids as hex (not proto3 JSON's base64 for bytes): check that, then hand the ids to
    json_format as base64, as the OpenTelemetry Collector's own decoder does."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest)
    doc = json.loads(body)
    for resource_spans in doc.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for field, pattern in (("traceId", HEX32), ("spanId", HEX16),
                                       ("parentSpanId", HEX16)):
                    if field in span:
                        value = span[field]
                        if not pattern.match(value):
                            raise ValueError(f"{field} {value!r} is not lowercase hex")
                        span[field] = base64.b64encode(bytes.fromhex(value)).decode()
    # ignore_unknown_fields=False: every field we send must be in the official schema.
    return json_format.ParseDict(doc, ExportTraceServiceRequest())


class Receiver:
    """An OTLP/HTTP receiver on 127.0.0.1:0 collecting decoded spans."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []  # (resource attributes, Span)
        self.errors = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:
                    if self.path != "/v1/traces":
                        raise ValueError("path " + self.path)
                    if not self.headers.get("Content-Type", "").startswith("application/json"):
                        raise ValueError("content type " + self.headers.get("Content-Type", ""))
                    request = decode_otlp_json(body)
                    with receiver.lock:
                        for resource_spans in request.resource_spans:
                            resource = {a.key: a.value.string_value
                                        for a in resource_spans.resource.attributes}
                            for scope_spans in resource_spans.scope_spans:
                                for span in scope_spans.spans:
                                    receiver.spans.append((resource, span))
                except Exception as error:  # noqa: BLE001 - reported by the test
                    with receiver.lock:
                        receiver.errors.append(repr(error))
                    self.answer(400, b"")
                    return
                self.answer(200, b"{}")

            def answer(self, status, body):
                # An exporter that gave up waiting (otlp_timeout_ms, on a loaded machine) has
                # closed its end: what it sent was checked above; only the answer is lost.
                try:
                    self.send_response(status)
                    if body:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def trace(self, trace_id_hex):
        with self.lock:
            return [span for _, span in self.spans if span.trace_id.hex() == trace_id_hex]

    def wait_trace(self, trace_id_hex, predicate=lambda spans: bool(spans), timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.trace(trace_id_hex)
            if predicate(spans):
                return spans
            time.sleep(0.05)
        return self.trace(trace_id_hex)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def attributes(span):
    out = {}
    for attribute in span.attributes:
        value = attribute.value
        kind = value.WhichOneof("value")
        out[attribute.key] = getattr(value, kind) if kind else None
    return out


def traceparent_of(headers):
    for key, value in headers.items():
        if key.lower() == "traceparent":
            return value
    return None


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def slow_import(port, collection, lines, pause_s):
    """POST .../import whose body arrives in two parts `pause_s` apart (the import route
    streams its body, so the request lasts at least the pause). Returns (status, headers)."""
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    half = len(body) // 2
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = (f"POST /v1/collections/{collection}/import HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/x-ndjson\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        sock.sendall(head + body[:half])
        time.sleep(pause_s)
        sock.sendall(body[half:])
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    head_text = answer.split(b"\r\n\r\n", 1)[0].decode()
    status = int(head_text.split(" ", 2)[1])
    headers = {}
    for line in head_text.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        headers[key.strip()] = value.strip()
    return status, headers


class TracingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-tracing-")
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, name, *args):
        server = Server(os.path.join(self.tmp, name), *args)
        self.addCleanup(server.kill)
        return server

    def assert_receiver_happy(self):
        with self.receiver.lock:
            self.assertEqual(self.receiver.errors, [])

    def load_graph(self, server):
        statements = [
            "CREATE COLLECTION docs (DIMENSION 4, METRIC l2)",
            "CREATE INDEX ON docs (metadata.category)",
        ]
        rows = []
        for i in range(40):
            edges = [{"label": "related_to", "target": f"d{(i + j) % 40}", "weight": 0.5}
                     for j in (1, 2, 3)]
            rows.append(f"('d{i}', [{i % 7}, {i % 5}, {i % 3}, 1], "
                        f"{{\"category\": \"{'tech' if i % 2 else 'science'}\"}}, "
                        f"{json.dumps(edges)})")
        statements.append("INSERT INTO docs (id, vector, metadata, edges) VALUES " +
                          ", ".join(rows))
        for statement in statements:
            status, _, body = server.request("POST", "/v1/query", {"query": statement})
            self.assertEqual(status, 200, (statement, body))

    def test_hybrid_query_is_one_trace_with_the_clients_parent(self):
        server = self.start("hybrid", "--otlp-endpoint", self.receiver.endpoint,
                            "--trace-sample-ratio", "0", "--trace-slow-threshold-ms", "0")
        self.load_graph(server)
        query = ("SELECT b.id FROM MATCH (a:docs)-[:related_to*1..2]->(b:docs) "
                 "WHERE a.id = 'd0' AND b.metadata.category = 'tech' "
                 "ORDER BY b.vector <-> [1, 1, 1, 1] LIMIT 3")
        status, headers, body = server.request(
            "POST", "/v1/query", {"query": query},
            headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01",
                     "tracestate": "vendor=opaque"})
        self.assertEqual(status, 200, body)
        self.assertTrue(body["rows"], body)
        ours = traceparent_of(headers)
        self.assertIsNotNone(ours, headers)
        self.assertRegex(ours, rf"^00-{CLIENT_TRACE}-[0-9a-f]{{16}}-01$")

        spans = self.receiver.wait_trace(
            CLIENT_TRACE, lambda s: any(x.name == "POST /v1/query" for x in s))
        self.assert_receiver_happy()
        if os.environ.get("PHENIX_TRACING_TEST_PRINT"):
            for span in spans:
                print(span.name, span.span_id.hex(), span.parent_span_id.hex(), attributes(span))
        self.assertTrue(spans, "the trace did not arrive")
        by_id = {span.span_id.hex(): span for span in spans}
        self.assertEqual(len(by_id), len(spans), "span ids are unique")
        roots = [span for span in spans if span.name == "POST /v1/query"]
        self.assertEqual(len(roots), 1, [span.name for span in spans])
        root = roots[0]
        # The root's parent is the client's span; its id is what the response named.
        self.assertEqual(root.parent_span_id.hex(), CLIENT_SPAN)
        self.assertEqual(root.span_id.hex(), ours.split("-")[2])
        self.assertEqual(root.trace_state, "vendor=opaque")
        self.assertEqual(root.kind, 2)  # SPAN_KIND_SERVER
        root_attributes = attributes(root)
        self.assertEqual(root_attributes["http.method"], "POST")
        self.assertEqual(root_attributes["http.route"], "/v1/query")
        self.assertEqual(root_attributes["http.status_code"], 200)
        self.assertEqual(root.status.code, 1)  # STATUS_CODE_OK
        # Every other span hangs under the root, inside this one trace.
        for span in spans:
            if span is not root:
                self.assertIn(span.parent_span_id.hex(), by_id, span.name)
            self.assertLessEqual(span.start_time_unix_nano, span.end_time_unix_nano)
        children = {span.name: span for span in spans
                    if span.parent_span_id == root.span_id}
        for stage in ("parse", "bind", "plan", "execute"):
            self.assertIn(stage, children, sorted(children))
        execute = children["execute"]
        self.assertTrue(attributes(execute).get("phenix.plan.strategy"), attributes(execute))
        operators = [span for span in spans if span.parent_span_id == execute.span_id]
        self.assertTrue(operators, "no operator spans under execute")
        # Below execute: the operator tree, each with its plan label; the graph/vector work
        # reports its figures.
        descendants = []
        frontier = [execute.span_id]
        while frontier:
            parent = frontier.pop()
            for span in spans:
                if span.parent_span_id == parent:
                    descendants.append(span)
                    frontier.append(span.span_id)
        for span in descendants:
            self.assertIn("phenix.operator", attributes(span), span.name)
        figures = set()
        for span in descendants:
            figures |= set(attributes(span))
        self.assertTrue(figures & {"phenix.edges_examined", "phenix.distance_computations"},
                        sorted(figures))
        self.assertIn("phenix.rows", figures)
        # The resource names the service.
        with self.receiver.lock:
            resources = [r for r, s in self.receiver.spans if s.trace_id.hex() == CLIENT_TRACE]
        self.assertEqual(resources[0].get("service.name"), "phenixd")
        # The access line names the trace.
        deadline = time.monotonic() + 5
        while CLIENT_TRACE not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [json.loads(line) for line in server.log_text().splitlines()
                 if CLIENT_TRACE in line]
        self.assertTrue(lines)
        self.assertEqual(lines[0]["span_id"], root.span_id.hex())

    def check_commit_spans(self, spans, parent):
        """The trace's db.commit spans under `parent` (a span): each has a child per phase that
        ran - lock_wait, index_maintenance, storage_write (with wal_write and wal_sync under it:
        the server runs with synced commits), index_hook - nested in time inside it, and the
        phases add up to no more than the commit. Returns the commit spans."""
        commits = [span for span in spans
                   if span.name == "db.commit" and span.parent_span_id == parent.span_id]
        if os.environ.get("PHENIX_TRACING_TEST_PRINT"):
            for span in sorted(spans, key=lambda x: x.start_time_unix_nano):
                print(span.name, span.span_id.hex(), span.parent_span_id.hex(),
                      (span.end_time_unix_nano - span.start_time_unix_nano) / 1000, "us",
                      attributes(span))
        self.assertTrue(commits, [(s.name, s.parent_span_id.hex()) for s in spans])
        for commit in commits:
            self.assertEqual(commit.status.code, 1, commit)  # STATUS_CODE_OK
            self.assertGreaterEqual(commit.start_time_unix_nano, parent.start_time_unix_nano)
            self.assertLessEqual(commit.end_time_unix_nano, parent.end_time_unix_nano)
            phases = {span.name: span for span in spans
                      if span.parent_span_id == commit.span_id}
            for name in ("lock_wait", "index_maintenance", "storage_write", "index_hook"):
                self.assertIn(name, phases, sorted(phases))
            self.assertEqual(set(phases), {"lock_wait", "index_maintenance", "storage_write",
                                           "index_hook"})
            write = phases["storage_write"]
            wal = {span.name: span for span in spans if span.parent_span_id == write.span_id}
            # One request at a time: this thread led its write group and wrote its own WAL.
            self.assertEqual(set(wal), {"wal_write", "wal_sync"}, sorted(wal))
            self.assertIs(attributes(write)["phenix.wal.written_by_group_leader"], False)

            def duration(span):
                return span.end_time_unix_nano - span.start_time_unix_nano

            # Nesting in time: each phase inside its parent (1 µs of slack for the clock
            # conversion), and the parts add up to no more than the whole.
            slack = 1000
            for child, outer in [*[(p, commit) for p in phases.values()],
                                 *[(w, write) for w in wal.values()]]:
                self.assertGreaterEqual(child.start_time_unix_nano + slack,
                                        outer.start_time_unix_nano, child.name)
                self.assertLessEqual(child.end_time_unix_nano,
                                     outer.end_time_unix_nano + slack, child.name)
            self.assertLessEqual(sum(duration(p) for p in phases.values()),
                                 duration(commit) + slack)
            self.assertLessEqual(sum(duration(w) for w in wal.values()), duration(write) + slack)
            self.assertGreater(duration(write), 0)
            # Phases in the order a commit runs them.
            self.assertLessEqual(phases["lock_wait"].end_time_unix_nano,
                                 phases["index_maintenance"].start_time_unix_nano + slack)
            self.assertLessEqual(write.end_time_unix_nano,
                                 phases["index_hook"].start_time_unix_nano + slack)
        return commits

    def test_commits_show_where_their_time_goes(self):
        server = self.start("commit", "--otlp-endpoint", self.receiver.endpoint,
                            "--trace-sample-ratio", "0")
        status, _, body = server.request("PUT", "/v1/collections/c", {"dimension": 2})
        self.assertIn(status, (200, 201), body)
        status, _, body = server.request("PUT", "/v1/collections/c/indexes/metadata.n")
        self.assertIn(status, (200, 201, 202), body)
        sampled = {}

        def traced(name, method, path, body=None, headers=None):
            trace_id = f"{len(sampled) + 1:032x}"
            sampled[name] = trace_id
            status, _, answer = server.request(
                method, path, body,
                headers={"traceparent": f"00-{trace_id}-{CLIENT_SPAN}-01", **(headers or {})})
            self.assertIn(status, (200, 201), answer)
            return answer

        # A REST upsert: its commit hangs under the request.
        traced("upsert", "POST", "/v1/collections/c/entities", {"entities": [
            {"id": f"e{i}", "vector": [i, 1], "metadata": {"n": i}} for i in range(10)]})
        # PhenixQL: an INSERT and an UPDATE (autocommit) hang under their statement's
        # "execute"; a transaction's COMMIT under its "commit" stage.
        traced("insert", "POST", "/v1/query",
               {"query": "INSERT INTO c (id, vector, metadata) VALUES ('q1', [1, 2], {\"n\": 1})"})
        traced("update", "POST", "/v1/query", {"query": "UPDATE c SET metadata.m = 2"})
        txn = traced("begin", "POST", "/v1/transactions", {})["id"]
        traced("txn insert", "POST", "/v1/query",
               {"query": "INSERT INTO c (id, vector) VALUES ('t1', [3, 4])"},
               headers={"Phenix-Transaction": txn})
        traced("commit", "POST", "/v1/query", {"query": "COMMIT"},
               headers={"Phenix-Transaction": txn})

        def trace_of(name, root_name):
            spans = self.receiver.wait_trace(
                sampled[name], lambda s: any(x.name == root_name for x in s))
            roots = [span for span in spans if span.name == root_name]
            self.assertEqual(len(roots), 1, (name, [span.name for span in spans]))
            return spans, roots[0]

        spans, root = trace_of("upsert", "POST /v1/collections/{name}/entities")
        self.check_commit_spans(spans, root)
        for name, stage_name in (("insert", "execute"), ("update", "execute"),
                                 ("commit", "commit")):
            spans, root = trace_of(name, "POST /v1/query")
            stages = [span for span in spans
                      if span.name == stage_name and span.parent_span_id == root.span_id]
            self.assertEqual(len(stages), 1, (name, [span.name for span in spans]))
            self.check_commit_spans(spans, stages[0])
            self.assertFalse([span for span in spans if span.name == "db.commit"
                              and span.parent_span_id == root.span_id], name)
        # Buffering a write in a transaction commits nothing.
        spans, _ = trace_of("txn insert", "POST /v1/query")
        self.assertNotIn("db.commit", [span.name for span in spans])
        self.assert_receiver_happy()

    def test_tail_sampling_keeps_slow_and_failed_requests_only(self):
        server = self.start("tail", "--otlp-endpoint", self.receiver.endpoint,
                            "--trace-sample-ratio", "0", "--trace-slow-threshold-ms", "1000")
        status, _, body = server.request("PUT", "/v1/collections/imp", {"dimension": 2})
        self.assertIn(status, (200, 201), body)
        # Fast: not sampled (ratio 0, no parent), no error, well under 1 s.
        status, headers, _ = server.request("GET", "/v1/collections")
        self.assertEqual(status, 200)
        fast_trace = traceparent_of(headers).split("-")[1]
        self.assertTrue(traceparent_of(headers).endswith("-00"))
        # Failed: kept.
        status, headers, body = server.request("POST", "/v1/query",
                                               {"query": "SELECT id FROM no_such_collection"})
        self.assertEqual(status, 404, body)
        failed_trace = traceparent_of(headers).split("-")[1]
        # Slow: the import's body arrives over 1.5 s.
        lines = [{"id": f"i{i}", "vector": [i, 1]} for i in range(200)]
        status, headers = slow_import(server.port, "imp", lines, 1.5)
        self.assertEqual(status, 200)
        slow_trace = traceparent_of(headers).split("-")[1]

        failed = self.receiver.wait_trace(failed_trace)
        self.assertTrue(failed, "the failed request's trace did not arrive")
        root = [s for s in failed if s.name == "POST /v1/query"][0]
        self.assertEqual(root.status.code, 2)  # STATUS_CODE_ERROR
        self.assertEqual(root.status.message, "NOT_FOUND")
        slow = self.receiver.wait_trace(slow_trace)
        self.assertTrue(slow, "the slow request's trace did not arrive")
        names = [span.name for span in slow]
        self.assertIn("POST /v1/collections/{name}/import", names)
        self.assertIn("copy.chunk", names)
        # The fast one was never sent (the others, sent after it, arrived).
        self.assertEqual(self.receiver.trace(fast_trace), [])
        self.assert_receiver_happy()

    def check_dead_exporter(self, endpoint):
        server = self.start("dead" + str(time.monotonic_ns()), "--otlp-endpoint", endpoint,
                            "--trace-sample-ratio", "1", "--otlp-timeout-ms", "300",
                            "--trace-queue-spans", "64")
        status, _, body = server.request("PUT", "/v1/collections/d", {"dimension": 2})
        self.assertIn(status, (200, 201), body)
        started = time.monotonic()
        for i in range(100):
            status, _, body = server.request(
                "POST", "/v1/query",
                {"query": f"INSERT INTO d (id, vector) VALUES ('x{i}', [{i}, 1])"})
            self.assertEqual(status, 200, body)
            status, _, body = server.request("POST", "/v1/query",
                                             {"query": "SELECT id FROM d LIMIT 5"})
            self.assertEqual(status, 200, body)
        elapsed = time.monotonic() - started
        # Generous: 200 small requests; an exporter in the way would cost 300 ms each.
        self.assertLess(elapsed, 30, elapsed)
        deadline = time.monotonic() + 20
        dropped = 0
        while time.monotonic() < deadline:
            _, _, text = server.request("GET", "/metrics")
            dropped = metric_value(text, "phenix_trace_spans_dropped_total") or 0
            if dropped > 0:
                break
            time.sleep(0.1)
        self.assertGreater(dropped, 0)
        _, _, text = server.request("GET", "/metrics")
        self.assertEqual(metric_value(text, "phenix_trace_spans_exported_total"), 0)
        # Shutdown is not held up by the dead endpoint for long either.
        stopped = time.monotonic()
        self.assertEqual(server.stop(), 0)
        self.assertLess(time.monotonic() - stopped, 20)

    def test_dead_exporter_closed_port(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        self.check_dead_exporter(f"http://127.0.0.1:{port}/v1/traces")

    def test_dead_exporter_that_never_answers(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1000)  # connections complete in the backlog; nothing is ever read
        self.addCleanup(sock.close)
        self.check_dead_exporter(f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces")

    def test_streamed_query_is_traced(self):
        server = self.start("ndjson", "--otlp-endpoint", self.receiver.endpoint,
                            "--trace-sample-ratio", "0")
        trace_id, parent = "11112222333344445555666677778888", "1234567890abcdef"
        conn = server.connection()
        try:
            conn.request("POST", "/v1/query", body=json.dumps(
                {"query": "SHOW COLLECTIONS; SHOW TENANTS"}).encode(),
                headers={"Content-Type": "application/json", "Accept": "application/x-ndjson",
                         "traceparent": f"00-{trace_id}-{parent}-01"})
            response = conn.getresponse()
            body = response.read().decode()
            self.assertEqual(response.status, 200, body)
            self.assertIn(trace_id, response.getheader("traceparent"))
        finally:
            conn.close()
        spans = self.receiver.wait_trace(trace_id, lambda s: len(s) >= 4)
        names = [span.name for span in spans]
        self.assertIn("POST /v1/query", names)
        self.assertEqual(names.count("parse"), 2, names)
        self.assertGreaterEqual(names.count("execute"), 2, names)
        self.assert_receiver_happy()

    def test_bad_traceparent_starts_a_new_trace(self):
        server = self.start("badparent", "--otlp-endpoint", self.receiver.endpoint,
                            "--trace-sample-ratio", "0")
        for bad in ("00-" + CLIENT_TRACE.upper() + "-" + CLIENT_SPAN + "-01",
                    "00-00000000000000000000000000000000-" + CLIENT_SPAN + "-01", "garbage"):
            status, headers, _ = server.request("GET", "/v1/collections",
                                                headers={"traceparent": bad})
            self.assertEqual(status, 200)
            ours = traceparent_of(headers)
            self.assertRegex(ours, r"^00-[0-9a-f]{32}-[0-9a-f]{16}-00$")
            self.assertNotIn(ours.split("-")[1], (CLIENT_TRACE, "0" * 32))

    def test_tracing_off_by_default(self):
        server = self.start("off")
        status, headers, _ = server.request(
            "GET", "/v1/collections",
            headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
        self.assertEqual(status, 200)
        self.assertIsNone(traceparent_of(headers))
        _, _, text = server.request("GET", "/metrics")
        self.assertNotIn("phenix_trace_spans_dropped_total", text)


def main():
    if len(sys.argv) < 3:
        fail("usage: tracing_test.py PATH/TO/phenixd BUILD_DIR")
    phenixd, build_dir = sys.argv[1], sys.argv[2]
    python = ensure_venv(build_dir)
    # The venv's python is a link to the same interpreter: the variable tells the runs apart.
    if os.environ.get("PHENIX_TRACING_TEST_IN_VENV") != "1":
        os.environ["PHENIX_TRACING_TEST_IN_VENV"] = "1"
        os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])
    phenixd_test.PHENIXD = phenixd
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])


if __name__ == "__main__":
    main()
