#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of phenixd over HTTP (label "server"): starts the real binary on
127.0.0.1 port 0 with temporary data directories, exercises every built route and every error
status it produces, deadline and disconnect cancellation, overload (503), the structured access
log, and SIGTERM during writes (every acknowledged write is present after a restart).

Usage: phenixd_test.py PATH/TO/phenixd   (stdlib only; each server is stopped by its own pid)
"""
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PHENIXD = None


class Server:
    """One phenixd process on 127.0.0.1:0."""

    def __init__(self, data_dir, *extra_args):
        self.data_dir = data_dir
        self.log_path = os.path.join(os.path.dirname(data_dir),
                                     os.path.basename(data_dir) + f".{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PHENIXD, "--data", data_dir, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
             *extra_args],
            stdout=subprocess.PIPE, stderr=self.log)
        line = self._read_line(30)
        prefix = "phenixd: http listening on 127.0.0.1:"
        if not line.startswith(prefix):
            self.kill()
            raise AssertionError(f"unexpected first line {line!r}; log: {self.log_text()}")
        self.port = int(line[len(prefix):])
        self.wait_ready()

    def read_grpc_port(self):
        """The gRPC port from phenixd's second line (started with --grpc 127.0.0.1:0)."""
        line = self._read_line(30)
        prefix = "phenixd: grpc listening on 127.0.0.1:"
        if not line.startswith(prefix):
            self.kill()
            raise AssertionError(f"unexpected second line {line!r}; log: {self.log_text()}")
        return int(line[len(prefix):])

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        out = b""
        fd = self.proc.stdout.fileno()
        while not out.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(fd, 1)
            if not chunk:
                break
            out += chunk
        return out.decode().strip()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, _, _ = self.request("GET", "/ready")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("phenixd did not become ready; log: " + self.log_text())

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = self.connection()
        try:
            hdrs = dict(headers or {})
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            response = conn.getresponse()
            payload = response.read()
            if response.getheader("Content-Type", "").startswith("application/json"):
                parsed = json.loads(payload) if payload else None
            else:
                parsed = payload.decode()
            return response.status, dict(response.getheaders()), parsed
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()
            self.proc.stdout.close()

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        if not self.proc.stdout.closed:
            self.proc.stdout.close()

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def audit_records(audit_dir):
    """Every record of the audit log in `audit_dir` (--audit-dir), oldest first."""
    out = []
    for name in sorted(n for n in os.listdir(audit_dir) if re.match(r"^audit-\d+\.jsonl$", n)):
        with open(os.path.join(audit_dir, name), "rb") as f:
            for line in f.read().split(b"\n")[:-1]:
                out.append(json.loads(line))
    return out


def error_code(body):
    return body["error"]["code"]


class PhenixdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-test-")
        cls.server = Server(os.path.join(cls.tmp, "main"))

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, *args, **kwargs):
        return self.server.request(*args, **kwargs)

    def upsert(self, collection, entities):
        return self.req("POST", f"/v1/collections/{collection}/entities", {"entities": entities})

    # ------------------------------------------------------------ health and routing

    def test_health_ready_and_request_ids(self):
        status, headers, body = self.req("GET", "/health")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        self.assertRegex(headers["Phenix-Request-Id"], r"^[0-9a-f]{16}$")
        status, headers, body = self.req("GET", "/ready", headers={"Phenix-Request-Id": "abc-1"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Phenix-Request-Id"], "abc-1")

    def test_openapi_document(self):
        status, _, body = self.req("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(body["openapi"], "3.1.0")
        for path in ("/v1/query", "/v1/collections/{name}/search", "/v1/transactions",
                     "/health", "/openapi.json"):
            self.assertIn(path, body["paths"])

    def test_metrics(self):
        self.req("PUT", "/v1/collections/metered", {"dimension": 2})
        self.upsert("metered", [{"id": "m1", "vector": [1, 2]}])
        self.req("GET", "/v1/collections/metered/entities/nope")
        status, headers, text = self.req("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        self.assertRegex(text, r'phenix_http_requests_total\{[^}]*route="/v1/collections/\{name\}/'
                               r'entities/\{id\}"[^}]*status="404"[^}]*\} 1')
        self.assertIn('phenix_http_request_duration_seconds_bucket{', text)
        self.assertIn("phenix_http_requests_in_flight", text)
        self.assertIn('phenix_collection_entities{tenant="default",collection="metered"} 1', text)
        self.assertIn('phenix_vector_index_tail_length{tenant="default",collection="metered"}',
                      text)

    def metric(self, text, name, labels=""):
        # The value of one series in exposition text (labels: 'k="v",...' exactly, or "").
        pattern = r"(?m)^" + re.escape(name) + \
            (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)$"
        found = re.search(pattern, text)
        self.assertIsNotNone(found, (name, labels))
        return float(found.group(1))

    def test_engine_metrics_after_traffic(self):
        # Issue 14: the engine's series, with values that follow from the traffic sent.
        self.req("PUT", "/v1/collections/engine_m", {"dimension": 2, "metric": "l2"})
        self.upsert("engine_m", [{"id": f"e{i}", "vector": [i, 1], "metadata": {"n": i}}
                                 for i in range(25)])
        self.req("PUT", "/v1/collections/engine_m/indexes/n")
        for body in ({"vector": [3, 1], "k": 2},
                     {"vector": [3, 1], "k": 2, "filter": {"n": {"$lt": 3}}}):
            status, _, result = self.req("POST", "/v1/collections/engine_m/search", body)
            self.assertEqual(status, 200, result)
        status, _, result = self.req("POST", "/v1/query",
                                     {"query": "SELECT id FROM engine_m WHERE metadata.n = 4"})
        self.assertEqual(status, 200, result)
        status, _, text = self.req("GET", "/metrics")
        self.assertEqual(status, 200)
        labels = 'tenant="default",collection="engine_m"'
        self.assertEqual(self.metric(text, "phenix_collection_entities", labels), 25)
        # An estimate (in the memtable here, a sample of its entries): only say it is not zero.
        self.assertGreater(self.metric(text, "phenix_collection_bytes", labels), 0)
        self.assertGreaterEqual(self.metric(text, "phenix_vector_index_tail_length", labels), 0)
        self.assertGreaterEqual(
            self.metric(text, "phenix_vector_index_build_lag_seconds", labels), 0)
        self.assertLessEqual(self.metric(text, "phenix_vector_index_nodes", labels), 25)
        # Latency by the planner's strategy: the plain search used the HNSW index, the filtered
        # one (3 of 25 rows match) scanned the filter's rows exactly, the query the metadata index.
        for strategy in ("vector_index", "exact_scan", "metadata_index"):
            self.assertGreaterEqual(self.metric(
                text, "phenix_query_duration_seconds_count", f'strategy="{strategy}"'), 1,
                strategy)
        self.assertGreaterEqual(self.metric(text, "phenix_commits_total"), 1)
        self.assertGreaterEqual(self.metric(text, "phenix_commit_conflicts_total"), 0)
        for name in ("phenix_rocksdb_pending_compaction_bytes", "phenix_rocksdb_write_stalls_total",
                     "phenix_rocksdb_write_stall_seconds_total", "phenix_rocksdb_writes_stopped",
                     "phenix_rocksdb_block_cache_hits_total",
                     "phenix_rocksdb_block_cache_misses_total",
                     "phenix_rocksdb_block_cache_capacity_bytes"):
            self.assertGreaterEqual(self.metric(text, name), 0, name)
        ratio = self.metric(text, "phenix_rocksdb_block_cache_hit_ratio")
        self.assertTrue(0 <= ratio <= 1, ratio)
        self.assertIn("# TYPE phenix_commits_total counter", text)
        self.assertIn("# TYPE phenix_collection_bytes gauge", text)

    def test_unknown_route_404_and_wrong_method_405(self):
        status, _, body = self.req("GET", "/v1/nothing")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        status, headers, body = self.req("DELETE", "/v1/collections")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET")

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = self.server.connection()
        try:
            for _ in range(3):
                conn.request("GET", "/health")
                response = conn.getresponse()
                self.assertEqual(response.status, 200)
                response.read()
        finally:
            conn.close()

    # ------------------------------------------------------------ collections

    def test_collections(self):
        spec = {"dimension": 4, "metric": "cosine"}
        status, _, body = self.req("PUT", "/v1/collections/col_a", spec)
        self.assertEqual(status, 201, body)
        self.assertEqual((body["name"], body["dimension"], body["metric"]),
                         ("col_a", 4, "cosine"))
        status, _, body = self.req("PUT", "/v1/collections/col_a", spec)
        self.assertEqual(status, 200, body)
        status, _, body = self.req("PUT", "/v1/collections/col_a",
                                   {"dimension": 3, "metric": "cosine"})
        self.assertEqual((status, error_code(body)), (409, "ALREADY_EXISTS"))
        status, _, body = self.req("PUT", "/v1/collections/col_hnsw",
                                   {"dimension": 2, "metric": "l2", "hnsw": {"m": 8}})
        self.assertEqual(status, 201, body)
        status, _, body = self.req("PUT", "/v1/collections/col_hnsw",
                                   {"dimension": 2, "metric": "l2", "hnsw": {"m": 8}})
        self.assertEqual(status, 200, body)
        status, _, body = self.req("PUT", "/v1/collections/col_bad", {"dimension": -1})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        status, _, body = self.req("PUT", "/v1/collections/col_bad", {"dimensoin": 4})
        self.assertEqual(status, 400)
        self.assertIn("dimensoin", body["error"]["message"])

        status, _, body = self.req("GET", "/v1/collections")
        self.assertEqual(status, 200)
        names = [c["name"] for c in body["collections"]]
        self.assertIn("col_a", names)
        status, _, body = self.req("GET", "/v1/collections/col_a")
        self.assertEqual(status, 200)
        self.assertEqual(body["entities"], 0)
        self.assertIn("vector_index", body)
        self.assertIn("tail_length", body["vector_index"])

        status, _, body = self.req("DELETE", "/v1/collections/col_hnsw")
        self.assertEqual((status, body), (200, {"dropped": "col_hnsw"}))
        for method in ("GET", "DELETE"):
            status, _, body = self.req(method, "/v1/collections/col_hnsw")
            self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))

    def test_metadata_indexes(self):
        self.req("PUT", "/v1/collections/idx", {"dimension": 2})
        self.upsert("idx", [{"id": f"i{n}", "vector": [1, n], "metadata": {"tag": n % 3}}
                            for n in range(30)])
        status, _, body = self.req("PUT", "/v1/collections/idx/indexes/tag")
        self.assertEqual((status, body), (201, {"collection": "idx", "path": "tag"}))
        status, _, body = self.req("PUT", "/v1/collections/idx/indexes/tag")
        self.assertEqual(status, 200)
        status, _, body = self.req("GET", "/v1/collections/idx")
        self.assertEqual([(i["path"], i["state"], i["entries"]) for i in body["indexes"]],
                         [("tag", "ready", 30)])
        status, _, body = self.req("PUT", "/v1/collections/nope/indexes/tag")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        status, _, body = self.req("DELETE", "/v1/collections/idx/indexes/tag")
        self.assertEqual((status, body), (200, {"dropped": "tag"}))
        status, _, body = self.req("DELETE", "/v1/collections/idx/indexes/tag")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))

    # ------------------------------------------------------------ entities

    def test_entities(self):
        self.assertIn(self.req("PUT", "/v1/collections/ents", {"dimension": 2})[0], (200, 201))
        status, _, body = self.upsert("ents", [
            {"id": "a", "vector": [1, 0], "metadata": {"category": "x", "n": 1},
             "edges": [{"label": "knows", "target": "b", "weight": 0.5}]},
            {"id": "b", "vector": [0, 1], "metadata": {"category": "y"}},
            {"id": "c", "vector": [1, 1]},
        ])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["upserted"], 3)
        self.assertIsInstance(body["timestamp"], int)

        status, _, body = self.req("GET", "/v1/collections/ents/entities/a")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["metadata"], {"category": "x", "n": 1})
        self.assertNotIn("vector", body)
        self.assertEqual(body["edges"][0]["label"], "knows")
        self.assertEqual(body["edges"][0]["target"], "b")
        status, _, body = self.req("GET", "/v1/collections/ents/entities/a?include=vector")
        self.assertEqual(body["vector"], [1.0, 0.0])

        status, _, body = self.req("PATCH", "/v1/collections/ents/entities/a",
                                   {"category": None, "m": 2},
                                   headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["metadata"], {"n": 1, "m": 2})
        status, _, body = self.req("PATCH", "/v1/collections/ents/entities/zz", {"m": 2})
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))

        status, _, body = self.req("DELETE", "/v1/collections/ents/entities/c")
        self.assertEqual((status, body), (200, {"deleted": "c"}))
        status, _, body = self.req("GET", "/v1/collections/ents/entities/c")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        status, _, body = self.req("DELETE", "/v1/collections/ents/entities/c")
        self.assertEqual(status, 404)

        status, _, body = self.upsert("missing_collection", [{"id": "x"}])
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))

    def test_upsert_is_atomic_and_invalid_entities_are_422(self):
        self.assertIn(self.req("PUT", "/v1/collections/atomic", {"dimension": 2})[0], (200, 201))
        # The second entity has the wrong dimension: nothing of the request is written.
        status, _, body = self.upsert("atomic", [{"id": "ok1", "vector": [1, 2]},
                                                 {"id": "bad", "vector": [1, 2, 3]}])
        self.assertEqual((status, error_code(body)), (422, "INVALID_ARGUMENT"), body)
        status, _, _ = self.req("GET", "/v1/collections/atomic/entities/ok1")
        self.assertEqual(status, 404)
        status, _, body = self.upsert("atomic", [{"vector": [1, 2]}])  # no id
        self.assertEqual(status, 422)
        self.assertEqual(body["error"]["details"]["index"], 0)
        status, _, body = self.upsert("atomic", [{"id": "x", "colour": "red"}])
        self.assertEqual(status, 422)

    def test_bad_bodies_400_and_415(self):
        status, _, body = self.req("POST", "/v1/query", raw=b"{not json",
                                   headers={"Content-Type": "application/json"})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        status, _, body = self.req("POST", "/v1/query", raw=b"query=1",
                                   headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        status, _, body = self.req("POST", "/v1/query", {"query": 1})
        self.assertEqual(status, 400)
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT 1", "extra": 1})
        self.assertEqual(status, 400)

    # ------------------------------------------------------------ found by schemathesis

    def test_integral_floats_are_integers(self):
        # JSON Schema's "integer" (and so the OpenAPI document) admits 3.0.
        status, _, body = self.req("PUT", "/v1/collections/floaty", {"dimension": 3.0})
        self.assertEqual((status, body.get("dimension")), (201, 3), body)
        status, _, body = self.req("PUT", "/v1/collections/floaty", {"dimension": 3.5})
        self.assertEqual(status, 400, body)
        status, _, body = self.upsert("floaty", [{"id": "a", "vector": [1, 2, 3]}])
        self.assertEqual(status, 200, body)
        as_of = float(body["timestamp"])
        self.assertLess(as_of, 2 ** 53)  # exact as a double
        status, _, body = self.req("POST", "/v1/transactions", {"read_only": True, "as_of": as_of})
        self.assertEqual(status, 201, body)
        status, _, _ = self.req("POST", f"/v1/transactions/{body['id']}/rollback")
        self.assertEqual(status, 200)

    def test_empty_deadline_and_transaction_headers_are_400(self):
        # An empty header is not an absent one: it used to mean "no deadline" or "no
        # transaction" silently.
        status, _, body = self.req("GET", "/v1/collections", headers={"Phenix-Timeout-Ms": ""})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"), body)
        self.assertIn("Phenix-Timeout-Ms", body["error"]["message"])
        status, _, body = self.req("POST", "/v1/query", {"query": "SHOW COLLECTIONS"},
                                   headers={"Phenix-Transaction": ""})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"), body)
        self.assertIn("Phenix-Transaction", body["error"]["message"])

    # ------------------------------------------------------------ search and query

    def test_search(self):
        self.req("PUT", "/v1/collections/srch", {"dimension": 2, "metric": "l2"})
        self.upsert("srch", [{"id": f"p{i}", "vector": [i, 0], "metadata": {"i": i}}
                             for i in range(10)])
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 3})
        self.assertEqual(status, 200, body)
        ids = [r["id"] for r in body["results"]]
        self.assertEqual(ids, ["p2", "p3", "p1"])
        self.assertIn("distance", body["results"][0])
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2,
                                    "filter": {"i": {"$gte": 5}}})
        self.assertEqual(status, 200, body)
        self.assertEqual([r["id"] for r in body["results"]], ["p5", "p6"])
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [1, 2, 3], "k": 3})
        self.assertEqual(status, 400, body)
        # "explain": the results and the plan that produced them (EXPLAIN ANALYZE's, as JSON).
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2, "explain": True})
        self.assertEqual(status, 200, body)
        self.assertEqual([r["id"] for r in body["results"]], ["p2", "p3"])
        plan = body["plan"]
        self.assertEqual(plan["strategy"], "vector_index")
        self.assertGreaterEqual(plan["execution_ms"], 0)
        self.assertTrue(plan["text"][0].startswith(plan["root"]["operator"]), plan)
        self.assertTrue(plan["text"][-1].startswith("Execution time:"), plan)

        def nodes(node):
            yield node
            for child in node["children"]:
                yield from nodes(child)
        searches = [n for n in nodes(plan["root"]) if n.get("strategy") == "vector_index"]
        self.assertEqual(len(searches), 1, plan)
        self.assertEqual(searches[0]["actual_rows"], 2, plan)
        self.assertIn("srch", searches[0]["operator"])
        # The same plan as EXPLAIN ANALYZE of the search's PhenixQL twin prints (times aside).
        status, _, twin = self.req("POST", "/v1/query", {"query":
            "EXPLAIN ANALYZE SELECT id, distance(vector, [2.1, 0]) AS distance FROM srch "
            "ORDER BY distance LIMIT 2"})
        self.assertEqual(status, 200, twin)
        strip = lambda line: re.sub(r"(time|self)=[0-9.]+ ms|Execution time: [0-9.]+ ms", "",
                                    line)
        self.assertEqual([strip(line) for line in plan["text"]],
                         [strip(row[0]) for row in twin["rows"]])
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2, "filter": {"i": {"$gte": 8}},
                                    "explain": True})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["plan"]["strategy"], "exact_scan", body)
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2, "explain": False})
        self.assertEqual(status, 200, body)
        self.assertNotIn("plan", body)
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2, "explain": "yes"})
        self.assertEqual(status, 400, body)
        # Errors of the JSON form name the field, not a line and column of a PhenixQL text the
        # client never wrote (issue 14).
        for request, field in (({"vector": [1, 2, 3], "k": 3}, "vector: "),
                               ({"vector": [1e39, 0], "k": 3}, "vector: "),
                               ({"vector": [1, 0], "k": 3, "filter": {"i": {"$gt": [1]}}},
                                "filter.i.$gt: ")):
            status, _, body = self.req("POST", "/v1/collections/srch/search", request)
            self.assertEqual(status, 400, body)
            message = body["error"]["message"]
            self.assertTrue(message.startswith(field), (request, message))
            self.assertNotIn("line 1", message)
            self.assertNotIn("line", body["error"].get("details", {}))
        status, _, body = self.req("POST", "/v1/collections/srch/search",
                                   {"vector": [2.1, 0], "k": 2, "collection": "other"})
        self.assertEqual(status, 400, body)
        status, _, body = self.req("POST", "/v1/collections/nope/search",
                                   {"vector": [1, 2], "k": 3})
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"), body)
        # The body goes to the JSON query form as written (the path's collection spliced in)
        # unless it names collection/explain or is not plain ASCII JSON: every form answers alike.
        for raw in (b' \n{"vector": [2.1, 0],\n "k": 2} \n',
                    b'{"vector":[2.1,0],"k":2,"collection":"srch"}',
                    b'{"vector":[2.1,0],"k":2,"explain":false}',
                    '{"vector":[2.1,0],"k":2,"filter":{"i":{"$ne":"\u00e9t\u00e9"}}}'.encode(),
                    '{"vector":[2.1,0],"k":2,"filter":{"i":{"$ne":"été"}}}'.encode()):
            status, _, body = self.req("POST", "/v1/collections/srch/search", raw=raw,
                                       headers={"Content-Type": "application/json"})
            self.assertEqual(status, 200, (raw, body))
            self.assertEqual([r["id"] for r in body["results"]], ["p2", "p3"], raw)
        for raw in (b'{"vector":[2.1,0],"k":2', b'{"vector":[2.1,0],"k":02}', b'[]'):
            status, _, body = self.req("POST", "/v1/collections/srch/search", raw=raw,
                                       headers={"Content-Type": "application/json"})
            self.assertEqual(status, 400, (raw, body))

    def test_direct_search_answers_as_the_json_form(self):
        # The usual search ({"vector", "k", "ef"}) is answered by Database::Search directly
        # (api.cc DirectSearch); "include" sends the same search through the JSON query form.
        # Both must answer the same bytes, for every metric, ties and odd numbers included.
        def raw_search(collection, body):
            conn = self.server.connection()
            try:
                conn.request("POST", f"/v1/collections/{collection}/search", body=body.encode(),
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                return response.status, response.read()
            finally:
                conn.close()
        rng = random.Random(14)
        for metric in ("l2", "cosine", "ip"):
            name = f"direct_{metric}"
            self.req("PUT", f"/v1/collections/{name}", {"dimension": 3, "metric": metric})
            entities = [{"id": f"d{i}", "vector": [rng.uniform(-1, 1) for _ in range(3)]}
                        for i in range(60)]
            entities += [{"id": f"tie{i}", "vector": [0.25, -0.5, 1]} for i in range(4)]
            entities.append({"id": "quote\"d", "vector": [0.1, 0.2, 0.3]})
            # Ids the direct path must escape as the form does (k 70 returns every entity).
            entities += [{"id": text, "vector": [0.1, 0.2, 0.3]}
                         for text in ("back\\slash", "tab\tid", "\u00fcn\u00ef/code", "del\x7f")]
            status, _, body = self.upsert(name, entities)
            self.assertEqual(status, 200, body)
            vectors = ["[0.25, -0.5, 1]", "[0.1,0.2,0.3]", "[-0, 1e-3, 2E+1]", "[1, 2, 3]",
                       "[0.333333333333333314829616256247, -1.0000001, 7]"]
            for vector in vectors:
                for tail in ('', ',"k":1', ',"k":5,"ef":3', ',"ef":100', ',"k":70'):
                    direct = '{"vector": %s%s}' % (vector, tail)
                    via_form = '{"vector": %s%s, "include": ["id", "distance"]}' % (vector, tail)
                    got = raw_search(name, direct)
                    want = raw_search(name, via_form)
                    self.assertEqual(got[0], 200, (metric, direct, got))
                    self.assertEqual(got, want, (metric, direct))
        # Errors: the JSON form answers them (its messages name the field) whichever path was
        # tried first.
        for collection, body in (("direct_cosine", '{"vector": [1, 2]'),
                                 ("direct_cosine", '{"vector": [1, 2, 3], "k": 0'),
                                 ("direct_cosine", '{"vector": [1, 2, 3], "ef": 20000'),
                                 ("direct_cosine", '{"vector": [1, 2, 3], "k": 10001'),
                                 ("direct_cosine", '{"vector": [0, 0, 0]'),
                                 ("direct_cosine", '{"vector": []'),
                                 ("direct_cosine", '{"vector": [1, 2, 3], "k": 1.5'),
                                 ("no_such_collection", '{"vector": [1, 2, 3]')):
            got = raw_search(collection, body + "}")
            self.assertEqual(got[0] // 100, 4, (body, got))
            self.assertEqual(got, raw_search(collection, body + ', "include": ["id"]}'), body)

    def test_query(self):
        status, _, body = self.req("POST", "/v1/query", {
            "query": "CREATE COLLECTION q (dimension 2, metric 'l2')"})
        if status != 200:
            # The DDL spelling is the query engine's; fall back to REST for the setup.
            self.req("PUT", "/v1/collections/q", {"dimension": 2, "metric": "l2"})
        self.upsert("q", [{"id": "a", "vector": [1, 0], "metadata": {"n": 1}},
                          {"id": "b", "vector": [0, 1], "metadata": {"n": 2}}])
        status, _, body = self.req("POST", "/v1/query", {
            "query": "SELECT id, metadata.n AS n FROM q WHERE metadata.n >= $min ORDER BY id",
            "params": {"min": 1}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["columns"], ["id", "n"])
        self.assertEqual(body["rows"], [["a", 1], ["b", 2]])
        status, _, body = self.req("POST", "/v1/query", {
            "query": "SELECT id FROM q WHERE id = $1; SELECT id FROM q ORDER BY id LIMIT 1",
            "params": ["b"]})
        self.assertEqual(status, 200, body)
        self.assertEqual([r["rows"] for r in body["results"]], [[["b"]], [["a"]]])
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id\nFROM q WHERE nmae = 1"})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"), body)
        self.assertEqual(body["error"]["details"]["line"], 2, body)
        self.assertIn("column", body["error"]["details"])
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id FROM nowhere"})
        self.assertIn(status, (400, 404), body)

    def test_copy_stays_inside_the_copy_directory(self):
        self.req("PUT", "/v1/collections/cp", {"dimension": 2})
        self.upsert("cp", [{"id": f"c{i}", "vector": [1, i]} for i in range(5)])
        status, _, body = self.req("POST", "/v1/query", {"query": "COPY cp TO 'cp.jsonl'"})
        self.assertEqual(status, 200, body)
        self.assertTrue(os.path.exists(os.path.join(self.server.data_dir, "copy", "cp.jsonl")))
        self.req("PUT", "/v1/collections/cp2", {"dimension": 2})
        status, _, body = self.req("POST", "/v1/query", {"query": "COPY cp2 FROM 'cp.jsonl'"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["affected"], 5)
        status, _, body = self.req("POST", "/v1/query", {"query": "COPY cp2 FROM '/etc/hostname'"})
        self.assertEqual((status, error_code(body)), (403, "PERMISSION_DENIED"), body)

    # ------------------------------------------------------------ transactions

    def txn_query(self, txn, query):
        return self.req("POST", "/v1/query", {"query": query},
                        headers={"Phenix-Transaction": txn})

    def test_transactions_commit_rollback_and_conflict(self):
        self.req("PUT", "/v1/collections/tx", {"dimension": 2})
        self.upsert("tx", [{"id": "k", "vector": [1, 1], "metadata": {"v": 0}}])
        status, _, body = self.req("POST", "/v1/transactions", {})
        self.assertEqual(status, 201, body)
        txn = body["id"]
        self.assertRegex(txn, r"^[0-9a-f]{32}$")
        status, _, body = self.txn_query(txn, "INSERT INTO tx (id, vector) VALUES ('n1', [1, 2])")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.req("GET", "/v1/collections/tx/entities/n1")[0], 404)  # not yet
        status, _, body = self.req("POST", "/v1/collections/tx/search", {"vector": [1, 2], "k": 1},
                                   headers={"Phenix-Transaction": txn})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["results"][0]["id"], "n1")  # the transaction sees its own write
        status, _, body = self.req("POST", f"/v1/transactions/{txn}/commit")
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body["timestamp"], int)
        self.assertEqual(self.req("GET", "/v1/collections/tx/entities/n1")[0], 200)
        status, _, body = self.req("POST", f"/v1/transactions/{txn}/commit")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))

        status, _, body = self.req("POST", "/v1/transactions")
        txn = body["id"]
        self.txn_query(txn, "INSERT INTO tx (id, vector) VALUES ('n2', [1, 2])")
        status, _, body = self.req("POST", f"/v1/transactions/{txn}/rollback")
        self.assertEqual((status, body), (200, {"rolled_back": txn}))
        self.assertEqual(self.req("GET", "/v1/collections/tx/entities/n2")[0], 404)

        first = self.req("POST", "/v1/transactions", {})[2]["id"]
        second = self.req("POST", "/v1/transactions", {})[2]["id"]
        for txn in (first, second):
            status, _, body = self.txn_query(txn, "UPDATE tx SET metadata.v = 1 WHERE id = 'k'")
            self.assertEqual(status, 200, body)
        self.assertEqual(self.req("POST", f"/v1/transactions/{first}/commit")[0], 200)
        status, _, body = self.req("POST", f"/v1/transactions/{second}/commit")
        self.assertEqual((status, error_code(body)), (409, "ABORTED"), body)
        metrics = self.req("GET", "/metrics")[2]
        self.assertRegex(metrics, r'phenix_transactions_total\{outcome="aborted"\} [1-9]')
        self.assertRegex(metrics, r'phenix_transactions_total\{outcome="committed"\} [1-9]')
        self.assertTrue(body["error"]["details"]["retryable"])

        status, _, body = self.req("POST", "/v1/transactions", {"read_only": True})
        txn = body["id"]
        status, _, body = self.txn_query(txn, "INSERT INTO tx (id, vector) VALUES ('n3', [1, 2])")
        self.assertEqual(status, 400, body)
        self.assertEqual(self.req("POST", f"/v1/transactions/{txn}/rollback")[0], 200)

        status, _, body = self.txn_query("0" * 32, "SELECT 1")
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
        status, _, body = self.req("GET", "/v1/collections/tx/entities/k",
                                   headers={"Phenix-Transaction": "0" * 32})
        self.assertEqual(status, 400)
        status, _, body = self.req("POST", "/v1/transactions", {"read_only": "yes"})
        self.assertEqual(status, 400)

    # ------------------------------------------------------------ deadlines and logs

    def test_tenant_header(self):
        status, _, body = self.req("POST", "/v1/query", {"query": "SHOW COLLECTIONS"},
                                   headers={"Phenix-Tenant": "nosuch"})
        self.assertEqual(status, 404, body)
        self.assertIn("tenant 'nosuch'", body["error"]["message"])
        status, _, body = self.req("POST", "/v1/transactions", {},
                                   headers={"Phenix-Tenant": "nosuch"})
        self.assertEqual(status, 404, body)
        self.req("POST", "/v1/query", {"query": "CREATE TENANT hdr"})
        status, _, body = self.req("POST", "/v1/query", {"query": "CREATE COLLECTION only_hdr"},
                                   headers={"Phenix-Tenant": "hdr"})
        self.assertEqual(status, 200, body)
        status, _, body = self.req("POST", "/v1/query", {"query": "SHOW TENANTS"},
                                   headers={"Phenix-Tenant": "hdr"})
        self.assertIn(["hdr", True], [row[:2] for row in body["rows"]])
        self.req("PUT", "/v1/collections/in_default", {})
        _, _, body = self.req("GET", "/v1/collections")
        names = [c["name"] for c in body["collections"]]
        self.assertIn("in_default", names)
        self.assertNotIn("only_hdr", names)
        # A transaction begun with the header keeps the tenant; its answer gives the snapshot.
        status, _, body = self.req("POST", "/v1/transactions", {"read_only": True},
                                   headers={"Phenix-Tenant": "hdr"})
        self.assertEqual(status, 201, body)
        self.assertIsInstance(body["snapshot"], int)
        txn = body["id"]
        status, _, body = self.txn_query(txn, "SHOW COLLECTIONS")
        self.assertEqual([row[0] for row in body["rows"]], ["only_hdr"])
        self.req("POST", f"/v1/transactions/{txn}/rollback")

    def make_big(self, name, count):
        self.req("PUT", f"/v1/collections/{name}", {"dimension": 2})
        for start in range(0, count, 2000):
            status, _, body = self.upsert(name, [
                {"id": f"e{i:06d}", "vector": [1, i], "metadata": {"n": i}}
                for i in range(start, min(count, start + 2000))])
            self.assertEqual(status, 200, body)

    def test_deadline_cancels_a_running_statement(self):
        self.make_big("big", 40000)
        status, _, body = self.req("POST", "/v1/query",
                                   {"query": "UPDATE big SET metadata.flag = true"},
                                   headers={"Phenix-Timeout-Ms": "25"})
        self.assertEqual((status, error_code(body)), (504, "DEADLINE_EXCEEDED"), body)
        status, _, body = self.req("POST", "/v1/query", {
            "query": "SELECT count(*) AS n FROM big WHERE metadata.flag = true"})
        self.assertEqual(status, 200, body)
        self.assertLess(body["rows"][0][0], 40000)
        status, _, body = self.req("GET", "/health", headers={"Phenix-Timeout-Ms": "soon"})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT 1"},
                                   headers={"Phenix-Timeout-Ms": "-5"})
        self.assertEqual(status, 400)

    def test_client_disconnect_cancels_and_access_log_is_json(self):
        self.make_big("big2", 40000)
        request_id = "disconnect-test-1"
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        body = json.dumps({"query": "UPDATE big2 SET metadata.flag = true"}).encode()
        sock.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Phenix-Request-Id: " + request_id.encode() + b"\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.02)
        sock.close()
        entry = None
        deadline = time.monotonic() + 30
        while entry is None and time.monotonic() < deadline:
            for line in self.server.log_text().splitlines():
                record = json.loads(line)  # every line is one JSON object
                if record.get("request_id") == request_id:
                    entry = record
            time.sleep(0.05)
        self.assertIsNotNone(entry, "no access log line for the disconnected request")
        self.assertEqual(entry["status"], 499, entry)
        self.assertEqual(entry["route"], "/v1/query")
        for field in ("time", "level", "msg", "method", "latency_us", "bytes_in", "bytes_out",
                      "client"):
            self.assertIn(field, entry)
        status, _, body = self.req("POST", "/v1/query", {
            "query": "SELECT count(*) AS n FROM big2 WHERE metadata.flag = true"})
        self.assertLess(body["rows"][0][0], 40000)

    def test_logs_carry_no_vectors(self):
        self.req("PUT", "/v1/collections/secret", {"dimension": 3})
        self.upsert("secret", [{"id": "s", "vector": [0.918273, 0.5, 0.25]}])
        self.req("POST", "/v1/collections/secret/search", {"vector": [0.918273, 0.5, 0.25], "k": 1})
        self.assertNotIn("918273", self.server.log_text())


class PhenixdLimitsTest(unittest.TestCase):
    """Servers with small limits: body size (413), overload (503)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-limits-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_body_limit_413(self):
        server = Server(os.path.join(self.tmp, "d"), "--max-body-bytes", "1024")
        try:
            status, _, body = server.request("POST", "/v1/query",
                                             {"query": "SELECT 1 " + " " * 4096})
            self.assertEqual(status, 413, body)
            self.assertEqual(error_code(body), "RESOURCE_EXHAUSTED")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_slow_headers_are_cut_off_and_huge_headers_are_431(self):
        server = Server(os.path.join(self.tmp, "d"), "--header-timeout-ms", "1500",
                        "--max-connections", "4")
        try:
            slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
            started = time.monotonic()
            self.assertEqual(slow.recv(1024), b"")  # closed by the server
            self.assertLess(time.monotonic() - started, 5)
            slow.close()

            big = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            big.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                        b"\r\n\r\n")
            self.assertIn(b" 431 ", big.recv(4096).split(b"\r\n")[0] + b" ")
            big.close()

            # Beyond max_connections a new connection is closed at once; the others serve.
            held = []
            # Each answered once, so accepted and counted; then idle. The two connections above
            # are counted out by the server's I/O thread after it closed them: under load that
            # may come after the next connects, which are then refused at the limit. Retry those.
            deadline = time.monotonic() + 10
            while len(held) < 4:
                conn = server.connection()
                try:
                    conn.request("GET", "/health")
                    conn.getresponse().read()
                    held.append(conn)
                except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                    conn.close()
                    self.assertLess(time.monotonic(), deadline, "the limit never admitted 4")
                    time.sleep(0.05)
            extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                self.assertEqual(extra.recv(1024), b"")
            except ConnectionResetError:
                pass
            extra.close()
            for sock in held:
                sock.close()
            time.sleep(0.2)
            self.assertEqual(server.request("GET", "/health")[0], 200)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_idle_transactions_roll_back(self):
        server = Server(os.path.join(self.tmp, "d"), "--transaction-idle-timeout-ms", "200")
        try:
            server.request("PUT", "/v1/collections/c", {"dimension": 2})
            txn = server.request("POST", "/v1/transactions", {})[2]["id"]
            status, _, body = server.request(
                "POST", "/v1/query", {"query": "INSERT INTO c (id, vector) VALUES ('a', [1, 2])"},
                headers={"Phenix-Transaction": txn})
            self.assertEqual(status, 200, body)
            time.sleep(1.0)
            status, _, body = server.request("POST", f"/v1/transactions/{txn}/commit")
            self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"))
            self.assertEqual(server.request("GET", "/v1/collections/c/entities/a")[0], 404)
            self.assertIn('"msg":"rolled back idle transactions"', server.log_text())
            # An open transaction at shutdown is rolled back before the database closes.
            server.request("POST", "/v1/transactions", {})
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertIn('"msg":"rolled back open transactions"', server.log_text())

    def test_rate_limit_429_per_client(self):
        server = Server(os.path.join(self.tmp, "d"), "--rate-limit-per-second", "1",
                        "--rate-limit-burst", "2")
        try:
            statuses = [server.request("GET", "/v1/collections") for _ in range(3)]
            self.assertEqual([s[0] for s in statuses[:2]], [200, 200])
            status, headers, body = statuses[2]
            self.assertEqual((status, error_code(body)), (429, "RESOURCE_EXHAUSTED"), body)
            self.assertEqual(headers["Retry-After"], "1")
            self.assertTrue(body["error"]["details"]["retryable"])
            self.assertEqual(server.request("GET", "/health")[0], 200)  # probes are exempt
            time.sleep(1.1)
            _, _, metrics = server.request("GET", "/metrics")
            self.assertRegex(metrics, r'phenix_http_rejected_total\{reason="rate_limited"\} 1')
            time.sleep(1.1)
            self.assertEqual(server.request("GET", "/v1/collections")[0], 200)
        finally:
            self.assertEqual(server.stop(), 0)

    def _stalled_worker_server(self, *extra_args):
        """A server whose only worker is stuck writing an NDJSON answer nobody reads."""
        server = Server(os.path.join(self.tmp, "d"), "--workers", "1", "--queue-capacity", "1",
                        "--stream-buffer-bytes", "1024", *extra_args)
        server.request("PUT", "/v1/collections/c", {"dimension": 2})
        for start in range(0, 2000, 500):
            status, _, body = server.request("POST", "/v1/collections/c/entities", {"entities": [
                {"id": f"e{i}", "vector": [1, i], "metadata": {"pad": "x" * 4000}}
                for i in range(start, start + 500)]})
            self.assertEqual(status, 200, body)
        reader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect(("127.0.0.1", server.port))
        body = json.dumps({"query": "SELECT id, metadata FROM c"}).encode()
        reader.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Accept: application/x-ndjson\r\nContent-Length: " +
                       str(len(body)).encode() + b"\r\n\r\n" + body)
        # 8 MB of rows against a 4 KB receive buffer: the worker blocks on backpressure. A
        # request that needs a worker now waits in the queue, and is answered 504 at its
        # deadline (not when the worker frees up: body_timeout_ms, a minute, later).
        deadline = time.monotonic() + 30
        while True:
            sent = time.monotonic()
            status, _, answer = server.request("POST", "/v1/query", {"query": "SHOW COLLECTIONS"},
                                               headers={"Phenix-Timeout-Ms": "300"})
            if status == 504:
                self.assertEqual(error_code(answer), "DEADLINE_EXCEEDED")
                self.assertIn("while it waited for a worker", answer["error"]["message"])
                self.assertLess(time.monotonic() - sent, 10)
                break
            # 503: the stream's request itself still waits in the one-place queue.
            self.assertIn(status, (200, 503), answer)
            self.assertLess(time.monotonic(), deadline, "the streaming query never stalled")
            time.sleep(0.1)
        return server, reader

    def test_a_request_still_queued_at_its_deadline_is_answered_then(self):
        # _stalled_worker_server checks it for a statement; a point read queued behind the
        # stalled worker (another request is in flight, so it is not run inline) too.
        server, reader = self._stalled_worker_server()
        try:
            sent = time.monotonic()
            status, _, body = server.request("GET", "/v1/collections/c/entities/e7",
                                             headers={"Phenix-Timeout-Ms": "300"})
            self.assertEqual(status, 504, body)
            self.assertEqual(error_code(body), "DEADLINE_EXCEEDED")
            self.assertLess(time.monotonic() - sent, 10)
        finally:
            reader.close()
            self.assertEqual(server.stop(), 0)

    def test_a_plain_search_runs_on_the_io_thread_under_load(self):
        # Decision 0037: the only worker is stalled, so another request is in flight; a plain
        # search is still answered (on the I/O thread), while a filtered one must wait for the
        # worker and is answered 504 at its deadline.
        server, reader = self._stalled_worker_server()
        try:
            status, _, body = server.request("POST", "/v1/collections/c/search",
                                             {"vector": [1, 41], "k": 3},
                                             headers={"Phenix-Timeout-Ms": "5000"})
            self.assertEqual(status, 200, body)
            self.assertEqual(len(body["results"]), 3, body)
            self.assertEqual(body["results"][0], {"id": "e41", "distance": 0.0}, body)
            sent = time.monotonic()
            status, _, body = server.request("POST", "/v1/collections/c/search",
                                             {"vector": [1, 41], "k": 3,
                                              "filter": {"pad": {"$exists": True}}},
                                             headers={"Phenix-Timeout-Ms": "300"})
            self.assertEqual(status, 504, body)
            self.assertIn("while it waited for a worker", body["error"]["message"])
            self.assertLess(time.monotonic() - sent, 10)
        finally:
            reader.close()
            self.assertEqual(server.stop(), 0)

    def _inline_count(self, server):
        _, _, metrics = server.request("GET", "/metrics")
        match = re.search(r"^phenix_http_inline_requests_total (\S+)$", metrics, re.M)
        self.assertIsNotNone(match, "phenix_http_inline_requests_total is missing")
        return float(match.group(1))

    def test_a_lone_short_request_runs_on_the_io_thread(self):
        for inline in ("true", "false"):
            server = Server(os.path.join(self.tmp, "d" + inline), "--inline-short-requests", inline)
            try:
                server.request("PUT", "/v1/collections/c", {"dimension": 2})
                status, _, body = server.request("POST", "/v1/collections/c/entities", {
                    "entities": [{"id": f"e{i}", "vector": [1, i], "metadata": {"n": i}}
                                 for i in range(100)]})
                self.assertEqual(status, 200, body)
                self.assertEqual(self._inline_count(server), 0)
                status, _, body = server.request("GET", "/v1/collections/c/entities/e7")
                self.assertEqual((status, body["id"]), (200, "e7"), body)
                status, _, body = server.request("POST", "/v1/collections/c/search",
                                                 {"vector": [1, 41], "k": 3, "ef": 16})
                self.assertEqual(status, 200, body)
                self.assertEqual(len(body["results"]), 3, body)
                short = 2 if inline == "true" else 0
                self.assertEqual(self._inline_count(server), short)
                # Not short: a filter, a beam beyond 512, a collection that does not exist
                # (the JSON form explains the error): a worker answers, the same as ever.
                status, _, body = server.request("POST", "/v1/collections/c/search",
                                                 {"vector": [1, 41], "k": 3,
                                                  "filter": {"n": {"$lt": 50}}})
                self.assertEqual(status, 200, body)
                self.assertEqual(len(body["results"]), 3, body)
                status, _, body = server.request("POST", "/v1/collections/c/search",
                                                 {"vector": [1, 41], "k": 3, "ef": 600})
                self.assertEqual(status, 200, body)
                self.assertEqual(len(body["results"]), 3, body)
                status, _, body = server.request("POST", "/v1/collections/nope/search",
                                                 {"vector": [1, 41], "k": 3})
                self.assertEqual(status, 404, body)
                self.assertEqual(self._inline_count(server), short)
            finally:
                self.assertEqual(server.stop(), 0)

    def test_overload_503_with_retry_after(self):
        server = Server(os.path.join(self.tmp, "d"), "--workers", "1", "--queue-capacity", "1")
        try:
            server.request("PUT", "/v1/collections/c", {"dimension": 2})
            for start in range(0, 20000, 2000):
                server.request("POST", "/v1/collections/c/entities", {"entities": [
                    {"id": f"e{i}", "vector": [1, i], "metadata": {"n": i}}
                    for i in range(start, start + 2000)]})
            results = []

            def slow():
                results.append(server.request("POST", "/v1/query", {
                    "query": "UPDATE c SET metadata.flag = true"}))

            threads = [threading.Thread(target=slow) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r[0] for r in results)
            self.assertIn(503, statuses, statuses)
            self.assertIn(200, statuses, statuses)
            _, _, metrics = server.request("GET", "/metrics")
            self.assertRegex(metrics, r'phenix_http_rejected_total\{reason="queue_full"\} [1-9]')
            for status, headers, body in results:
                self.assertIn(status, (200, 503), body)
                if status == 503:
                    self.assertEqual(error_code(body), "UNAVAILABLE")
                    self.assertEqual(headers["Retry-After"], "1")
                    self.assertTrue(body["error"]["details"]["retryable"])
        finally:
            self.assertEqual(server.stop(), 0)


class PhenixdShutdownTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-shutdown-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sigterm_during_writes_keeps_every_acknowledged_write(self):
        data = os.path.join(self.tmp, "d")
        server = Server(data)
        acknowledged = []
        lock = threading.Lock()
        try:
            status, _, _ = server.request("PUT", "/v1/collections/w", {"dimension": 2})
            self.assertEqual(status, 201)
            stop = threading.Event()

            def writer(worker):
                seq = 0
                while not stop.is_set():
                    ids = [f"w{worker}-{seq}-{k}" for k in range(5)]
                    seq += 1
                    try:
                        status, _, body = server.request(
                            "POST", "/v1/collections/w/entities",
                            {"entities": [{"id": i, "vector": [1, 2]} for i in ids]})
                    except OSError:
                        return  # the server went away: this write was never acknowledged
                    if status == 200:
                        with lock:
                            acknowledged.extend(ids)

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            os.kill(server.proc.pid, signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=60), 0, server.log_text())
            stop.set()
            for t in threads:
                t.join()
            server.log.close()
            self.assertGreater(len(acknowledged), 0)
            log = server.log_text()
            self.assertIn('"msg":"shutting down"', log)
            self.assertIn('"msg":"stopped"', log)
        finally:
            server.kill()

        restarted = Server(data)
        try:
            status, _, body = restarted.request("GET", "/v1/collections/w")
            self.assertEqual(status, 200)
            self.assertGreaterEqual(body["entities"], len(acknowledged))
            missing = []
            for entity_id in acknowledged:
                status, _, _ = restarted.request("GET", f"/v1/collections/w/entities/{entity_id}")
                if status != 200:
                    missing.append(entity_id)
            self.assertEqual(missing, [])
        finally:
            self.assertEqual(restarted.stop(), 0)

    def test_draining_then_second_signal_exits_at_once(self):
        data = os.path.join(self.tmp, "d2")
        server = Server(data, "--shutdown-timeout-ms", "60000")
        try:
            server.request("PUT", "/v1/collections/c", {"dimension": 2})
            for start in range(0, 40000, 4000):
                server.request("POST", "/v1/collections/c/entities", {"entities": [
                    {"id": f"e{i}", "vector": [1, i]} for i in range(start, start + 4000)]})
            probe = server.connection()  # a keep-alive connection opened before the signal
            probe.request("GET", "/ready")
            response = probe.getresponse()
            response.read()
            self.assertEqual(response.status, 200)

            slow_result = []

            def slow():
                try:
                    slow_result.append(server.request("POST", "/v1/query", {
                        "query": "UPDATE c SET metadata.flag = true"})[0])
                except OSError as error:
                    slow_result.append(error)

            slow_thread = threading.Thread(target=slow)
            slow_thread.start()
            time.sleep(0.2)  # the UPDATE (about a second) is running now
            os.kill(server.proc.pid, signal.SIGTERM)
            time.sleep(0.1)
            probe.request("GET", "/ready")
            response = probe.getresponse()
            body = json.loads(response.read())
            self.assertEqual(response.status, 503, body)
            self.assertEqual(error_code(body), "UNAVAILABLE")
            self.assertEqual(response.getheader("Connection"), "close")
            probe.close()
            with self.assertRaises(OSError):  # the listener is closed
                socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
            started = time.monotonic()
            os.kill(server.proc.pid, signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=30), 128 + signal.SIGTERM)
            self.assertLess(time.monotonic() - started, 5)
            slow_thread.join()
        finally:
            server.kill()
        restarted = Server(data)  # opens cleanly after the abrupt exit
        try:
            status, _, body = restarted.request("GET", "/v1/collections/c")
            self.assertEqual((status, body["entities"]), (200, 40000))
        finally:
            self.assertEqual(restarted.stop(), 0)

    def test_help_and_print_config(self):
        out = subprocess.run([PHENIXD, "--help"], capture_output=True, text=True, check=True)
        for flag in ("--data", "--http", "--config", "--print-config", "--workers",
                     "PHENIX_HTTP"):
            self.assertIn(flag, out.stdout)
        env = dict(os.environ, PHENIX_WORKERS="3")
        out = subprocess.run([PHENIXD, "--print-config", "--http", "127.0.0.1:0"],
                             capture_output=True, text=True, check=True, env=env)
        self.assertIn('http = "127.0.0.1:0"', out.stdout)
        self.assertIn("workers = 3", out.stdout)
        bad = subprocess.run([PHENIXD, "--workers", "0"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--workers", bad.stderr)


DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs",
                    "server.md")


def doc_blocks(text, first_word):
    """The fenced code blocks of a Markdown text whose first line starts with `first_word`."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                if current and current[0].startswith(first_word):
                    blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


class PhenixdDocsTest(unittest.TestCase):
    """docs/server.md's examples run as written (the port swapped for the test server's)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-docs-")
        with open(DOCS) as f:
            self.text = f.read()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_every_curl_example_succeeds_in_order(self):
        if shutil.which("curl") is None:
            self.skipTest("curl is not installed")
        routes = self.text[self.text.index("## Routes"):]
        examples = [block for block in doc_blocks(routes, "")
                    if block.startswith("curl ") or block.startswith("txn=")]
        self.assertGreaterEqual(len(examples), 16)
        server = Server(os.path.join(self.tmp, "d"))
        try:
            for example in examples:
                command = example.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
                last = command.rindex("curl -s")  # the status of the block's last request
                command = command[:last] + "curl -s -w '\\n%{http_code}'" + command[last + 7:]
                out = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                     timeout=60)
                self.assertEqual(out.returncode, 0, (example, out.stderr))
                body, _, code = out.stdout.rpartition("\n")
                self.assertTrue(200 <= int(code) < 300, (example, code, body))
                if "/metrics" in example:
                    self.assertIn("# TYPE phenix_http_requests_total counter", body)
                elif "application/x-ndjson" in example and "Accept" in example:
                    lines = [json.loads(line) for line in body.splitlines() if line]
                    self.assertIn("done", lines[-1], (example, body))
                    if "progress=true" in example:  # COPY's last progress line at least
                        self.assertTrue(any("progress" in line for line in lines
                                            if isinstance(line, dict)), (example, body))
                else:
                    json.loads(body)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_config_example_and_reference_match_the_option_table(self):
        toml = doc_blocks(self.text, "data = ")
        self.assertEqual(len(toml), 1)
        path = os.path.join(self.tmp, "phenixd.toml")
        with open(path, "w") as f:
            f.write(toml[0])
        out = subprocess.run([PHENIXD, "--config", path, "--print-config"], capture_output=True,
                             text=True, check=True)
        keys = [line.split(" = ")[0] for line in out.stdout.splitlines()
                if " = " in line and not line.startswith("#")]
        self.assertIn("workers = 8", out.stdout)
        for key in keys:  # every option is in the reference table
            self.assertIn(f"| `{key}` |", self.text)


if __name__ == "__main__":
    PHENIXD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
