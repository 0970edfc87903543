#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""phenixd's /metrics checked by Prometheus's own tools (issue 16; docs/observability.md#metrics).

After a workload of writes, searches, a metadata index, statements (one failing), a transaction
and gRPC calls:
  * `promtool check metrics` accepts the live exposition;
  * every metric the docs' metrics table lists is on /metrics, and every family on /metrics is in
    the table (the few the table marks as absent until their event happens may be missing);
  * a real Prometheus server, started here on 127.0.0.1 with a free port and a temporary config
    and storage directory, scrapes phenixd every second (OpenMetrics, which it prefers), and
    PromQL over its HTTP API returns the request counter by route and a histogram_quantile of the
    request latency, and its exemplar storage holds trace ids of phenixd's kept traces;
  * the per-collection label cap (--metrics-max-collections) folds the smallest collections into
    tenant="_other",collection="_other" and counts it; unmatched paths and unknown methods add no
    series.
Every process started here is stopped by its pid.

Usage: metrics_test.py PHENIXD PROMTOOL PROMETHEUS
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402  (its Server class starts phenixd on 127.0.0.1:0)

import grpc  # noqa: E402  (Debian's python3-grpcio; raw bytes, no generated stubs needed)

PROMTOOL = None
PROMETHEUS = None
DOCS = os.path.join(ROOT, "docs", "observability.md")
# Families the docs table marks "absent until ...": present only after an event this workload
# cannot force on every build (statistics collected, a rejection).
MAY_BE_ABSENT = {
    "phenix_statistics_age_seconds",
}


class MetricsServer(phenixd_test.Server):
    """phenixd with its gRPC port read from its second line."""

    def __init__(self, data_dir, *extra_args):
        super().__init__(data_dir, *extra_args)
        self.grpc_port = self.read_grpc_port()


def proto_string(field, text):
    """One length-delimited protobuf field (tag, varint length, bytes)."""
    data = text.encode()
    out = bytes([field << 3 | 2])
    length = len(data)
    while length >= 0x80:
        out += bytes([length & 0x7F | 0x80])
        length >>= 7
    return out + bytes([length]) + data


def families(text):
    """{name: type} from the exposition's # TYPE lines."""
    return dict(re.findall(r"(?m)^# TYPE (\S+) (\S+)$", text))


def documented_metrics():
    """The metric names in the first column of docs/observability.md's "## Metrics" tables."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        cell = re.match(r"^\| `([a-z_]+)`", line)
        if cell:
            names.add(cell.group(1))
    return names


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample(text, name, labels=""):
    pattern = r"(?m)^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") \
        + r" (\S+)$"
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-metrics-")
        # Tracing on toward a closed local port, every trace kept: the trace counters are on
        # /metrics (the spans are dropped and counted) and the request histogram has exemplars;
        # a small body limit lets the workload cause a rejection.
        cls.server = MetricsServer(os.path.join(cls.tmp, "main"),
                                   "--otlp-endpoint", f"http://127.0.0.1:{free_port()}/v1/traces",
                                   "--trace-sample-ratio", "1", "--max-body-bytes", "65536")
        try:
            cls.workload()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.kill()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def req(cls, *args, **kwargs):
        return cls.server.request(*args, **kwargs)

    @classmethod
    def ok(cls, method, path, body=None, headers=None):
        status, _, answer = cls.req(method, path, body, headers)
        assert status in (200, 201), (method, path, status, answer)
        return answer

    @classmethod
    def workload(cls):
        cls.ok("PUT", "/v1/collections/docs", {"dimension": 2, "metric": "l2"})
        cls.ok("POST", "/v1/collections/docs/entities",
               {"entities": [{"id": f"d{i}", "vector": [i, 1], "metadata": {"n": i}}
                             for i in range(40)]})
        cls.ok("PUT", "/v1/collections/docs/indexes/n")
        for k in (1, 5):
            cls.ok("POST", "/v1/collections/docs/search", {"vector": [3, 1], "k": k})
        cls.ok("POST", "/v1/query", {"query": "SELECT id FROM docs WHERE metadata.n = 4"})
        cls.ok("POST", "/v1/query", {"query": "ANALYZE docs"})
        status, _, _ = cls.req("POST", "/v1/query", {"query": "SELECT id FROM no_such_table"})
        assert status == 404, status
        txn = cls.ok("POST", "/v1/transactions")["id"]
        cls.ok("POST", "/v1/query", {"query": "INSERT INTO docs (id, vector) VALUES ('t1', [9, 9])"},
               headers={"Phenix-Transaction": txn})
        cls.ok("POST", f"/v1/transactions/{txn}/commit")
        # A rejection (body over --max-body-bytes).
        status, _, _ = cls.req("POST", "/v1/query", raw=b"x" * 70000,
                               headers={"Content-Type": "application/json"})
        assert status == 413, status
        # Unmatched paths and a made-up method: route "-", method "other".
        for path in ("/no/such/path/1", "/no/such/path/2"):
            assert cls.req("GET", path)[0] == 404
        cls.req("BREW", "/coffee")
        with grpc.insecure_channel(f"127.0.0.1:{cls.server.grpc_port}") as channel:
            health = channel.unary_unary("/phenix.v1.Phenix/Health")
            assert health(b"", timeout=10) == proto_string(1, "ready")
            query = channel.unary_stream("/phenix.v1.Phenix/Query")
            list(query(proto_string(1, "SELECT id FROM docs LIMIT 1"), timeout=10))
            try:
                list(query(proto_string(1, "SELEC nonsense"), timeout=10))
                raise AssertionError("a malformed statement succeeded over gRPC")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error

    def metrics(self):
        status, headers, text = self.req("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)
        return text

    def test_promtool_check_metrics_accepts_the_live_exposition(self):
        text = self.metrics()
        self.assertIn("phenix_grpc_requests_total", text)  # the workload is in it
        checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                                 capture_output=True, timeout=60)
        self.assertEqual(checked.returncode, 0,
                         (checked.stdout.decode() + checked.stderr.decode())[:4000])
        self.assertEqual(checked.stdout.decode().strip() + checked.stderr.decode().strip(), "")

    def test_the_workload_shows_in_the_series(self):
        text = self.metrics()
        query = "/phenix.v1.Phenix/Query"
        self.assertEqual(sample(text, "phenix_grpc_requests_total",
                                f'code="ok",method="{query}"'), 1)
        self.assertEqual(sample(text, "phenix_grpc_requests_total",
                                f'code="invalid_argument",method="{query}"'), 1)
        self.assertEqual(sample(text, "phenix_grpc_request_duration_seconds_count",
                                f'method="{query}"'), 2)
        self.assertEqual(sample(text, "phenix_query_errors_total", 'code="not_found"'), 1)
        self.assertEqual(sample(text, "phenix_query_errors_total", 'code="invalid_argument"'), 1)
        self.assertEqual(sample(text, "phenix_admission_queued"), 0)
        self.assertRegex(text, r'(?m)^phenix_build_info\{version="[0-9][^"]*"\} 1$')
        self.assertEqual(sample(text, "phenix_collection_entities",
                                'tenant="default",collection="docs"'), 41)
        # The engine fills the issue-16 fields (its own tests check their values); here: every
        # per-collection family has the collection's series.
        for name in ("phenix_metadata_indexes", "phenix_metadata_index_entries",
                     "phenix_vector_index_dead_nodes", "phenix_vector_index_levels"):
            self.assertIsNotNone(sample(text, name, 'tenant="default",collection="docs"'), name)
        self.assertIsNotNone(sample(text, "phenix_vector_index_memory_bytes",
                                    'tenant="default",collection="docs",part="graph"'))
        self.assertEqual(sample(text, "phenix_http_rejected_total", 'reason="body_too_large"'), 1)
        self.assertGreater(sample(text, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(sample(text, "process_open_fds"), 3)
        # Route labels are route patterns; unmatched paths are "-" and a made-up method "other".
        self.assertEqual(sample(text, "phenix_http_requests_total",
                                'method="GET",route="-",status="404"'), 2)
        self.assertNotIn("/no/such/path", text)
        self.assertNotIn("BREW", text)
        routes = set(re.findall(r'phenix_http_requests_total\{[^}]*route="([^"]*)"', text))
        self.assertIn("/v1/collections/{name}/search", routes)
        self.assertFalse([r for r in routes if "docs" in r], routes)

    def test_openmetrics_with_exemplars_for_a_client_that_accepts_it(self):
        status, headers, text = self.req(
            "GET", "/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0"})
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith(
            "application/openmetrics-text; version=1.0.0"), headers)
        self.assertTrue(text.endswith("\n# EOF\n"), text[-200:])
        self.assertRegex(text, r"(?m)^# TYPE phenix_http_requests counter$")
        exemplars = re.findall(
            r'(?m)^phenix_http_request_duration_seconds_bucket\{route="/v1/query",le="[^"]+"\} \d+'
            r' # \{trace_id="([0-9a-f]{32})"\} \S+ \d+\.\d+$', text)
        self.assertTrue(exemplars, text)
        # gRPC calls too (their route is the full method name).
        grpc_exemplars = re.findall(
            r'(?m)^phenix_http_request_duration_seconds_bucket\{route="/phenix\.v1\.Phenix/Query",'
            r'le="[^"]+"\} \d+ # \{trace_id="([0-9a-f]{32})"\}', text)
        self.assertTrue(grpc_exemplars, text)
        exemplars += grpc_exemplars
        # Each names a trace phenixd kept: the access log line of that request has its id.
        log = self.server.log_text()
        for trace_id in exemplars:
            self.assertIn(f'"trace_id":"{trace_id}"', log)
        # The same families as the 0.0.4 text (counters there keep their _total in # TYPE).
        om_families = {name if kind != "counter" else name + "_total"
                       for name, kind in families(text).items()}
        self.assertEqual(om_families, set(families(self.metrics())))

    def test_docs_table_and_live_metrics_name_the_same_series(self):
        documented = documented_metrics()
        self.assertGreater(len(documented), 40, "the table in docs/observability.md not found")
        live = set(families(self.metrics()))
        self.assertFalse(sorted(live - documented),
                         "on /metrics but not in docs/observability.md's metrics table")
        self.assertFalse(sorted(documented - live - MAY_BE_ABSENT),
                         "in docs/observability.md's metrics table but not on /metrics")

    def test_label_cap_folds_the_smallest_collections(self):
        server = MetricsServer(os.path.join(self.tmp, "capped"), "--metrics-max-collections", "2")
        try:
            for name, count in (("big", 30), ("mid", 10), ("small", 2), ("tiny", 1)):
                status, _, body = server.request("PUT", f"/v1/collections/{name}",
                                                 {"dimension": 2, "metric": "l2"})
                self.assertEqual(status, 201, body)
                status, _, body = server.request(
                    "POST", f"/v1/collections/{name}/entities",
                    {"entities": [{"id": f"{name}{i}", "vector": [i, 2]} for i in range(count)]})
                self.assertEqual(status, 200, body)
            # Sizes are RocksDB's estimates: rank by them as phenixd does, then check the fold.
            _, _, text = server.request("GET", "/metrics")
            self.assertEqual(sample(text, "phenix_collection_entities",
                                    'tenant="_other",collection="_other"') is not None, True, text)
            kept = re.findall(
                r'(?m)^phenix_collection_entities\{tenant="default",collection="([^"]+)"\} (\S+)$',
                text)
            self.assertEqual(len(kept), 2, kept)
            total = sum(float(v) for _, v in kept) + sample(
                text, "phenix_collection_entities", 'tenant="_other",collection="_other"')
            self.assertEqual(total, 43)
            self.assertEqual(sample(text, "phenix_metrics_label_overflow_total",
                                    'label="collection"'), 2)
            checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                                     capture_output=True, timeout=60)
            self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        finally:
            server.kill()

    def test_a_real_prometheus_scrapes_phenixd(self):
        storage = tempfile.mkdtemp(prefix="prometheus-", dir=self.tmp)
        port = free_port()
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: phenixd\n    scrape_interval: 1s\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.server.port}']\n")
        prometheus_log = open(os.path.join(self.tmp, "prometheus.log"), "wb")
        prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={storage}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
             "--enable-feature=exemplar-storage"],
            stdout=prometheus_log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"

        def api(promql):
            url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = json.load(answer)
            self.assertEqual(body["status"], "success", body)
            return body["data"]["result"]

        def wait_for(promql, check, what, timeout=60):
            deadline = time.monotonic() + timeout
            result = None
            while time.monotonic() < deadline:
                self.assertIsNone(prometheus.poll(), "prometheus exited")
                # Queries between scrapes, so that rates over the last seconds are not zero.
                self.req("POST", "/v1/query", {"query": "SELECT id FROM docs LIMIT 3"})
                try:
                    result = api(promql)
                    if check(result):
                        return result
                except OSError:
                    pass  # not listening yet
                time.sleep(0.5)
            raise AssertionError(f"{what}: {promql} gave {result}")

        try:
            wait_for('up{job="phenixd"}', lambda r: r and r[0]["value"][1] == "1",
                     "phenixd is scraped")
            result = wait_for('phenix_http_requests_total{route="/v1/query",method="POST",'
                              'status="200"}',
                              lambda r: r and float(r[0]["value"][1]) >= 5, "the query counter")
            self.assertEqual(result[0]["metric"]["job"], "phenixd")
            quantile = wait_for(
                'histogram_quantile(0.9, sum by (le) '
                '(rate(phenix_http_request_duration_seconds_bucket{route="/v1/query"}[10s])))',
                lambda r: r and r[0]["value"][1] not in ("NaN", "+Inf"), "the p90 latency")
            self.assertGreater(float(quantile[0]["value"][1]), 0)
            self.assertLess(float(quantile[0]["value"][1]), 10)
            entities = api('phenix_collection_entities{collection="docs"}')
            self.assertEqual([float(r["value"][1]) for r in entities], [41])
            self.assertEqual(entities[0]["metric"]["tenant"], "default")
            # Prometheus scraped OpenMetrics (it prefers it) and kept the buckets' exemplars.
            now = time.time()
            url = base + "/api/v1/query_exemplars?" + urllib.parse.urlencode({
                "query": 'phenix_http_request_duration_seconds_bucket{route="/v1/query"}',
                "start": f"{now - 600:.3f}", "end": f"{now + 60:.3f}"})
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = json.load(answer)
            self.assertEqual(body["status"], "success", body)
            trace_ids = {exemplar["labels"]["trace_id"]
                         for series in body["data"] for exemplar in series["exemplars"]}
            self.assertTrue(trace_ids, body)
            log = self.server.log_text()
            for trace_id in trace_ids:
                self.assertRegex(trace_id, r"^[0-9a-f]{32}$")
                self.assertIn(f'"trace_id":"{trace_id}"', log)
        finally:
            if prometheus.poll() is None:
                os.kill(prometheus.pid, signal.SIGTERM)
                try:
                    prometheus.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.kill(prometheus.pid, signal.SIGKILL)
                    prometheus.wait()
            prometheus_log.close()


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    phenixd_test.PHENIXD = os.path.abspath(sys.argv[1])
    PROMTOOL, PROMETHEUS = shutil.which(sys.argv[2]), shutil.which(sys.argv[3])
    if PROMTOOL is None or PROMETHEUS is None:
        sys.exit(f"{sys.argv[2]} or {sys.argv[3]} not found: install the Debian package "
                 "prometheus (scripts/install-deps.sh)")
    del sys.argv[1:4]
    unittest.main(verbosity=2)
