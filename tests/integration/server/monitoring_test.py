#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The operator assets in deploy/monitoring/ (label "monitoring"): the Prometheus rules pass
`promtool check rules` and their unit tests (`promtool test rules`); every alert has a severity,
a summary, a description, a unit test that fires it and a runbook_url whose section exists in
docs/operations.md; the Grafana dashboard loads, has the `datasource` and `instance` variables,
unique panel ids, a data source and a PromQL expression on every panel, and every expression
parses (promtool checks them as recording rules); and every metric name the rules and the
dashboard use is one a real phenixd exposes on /metrics after a small workload (a collection
with vectors and a metadata index, writes and a delete, searches, a traversal, transactions
committed, conflicting and rolled back, a failing statement, a malformed request, a gRPC call;
tracing on, towards an endpoint that is not there).

Usage: monitoring_test.py PATH/TO/phenixd PATH/TO/promtool REPOSITORY_ROOT
(Debian's python3 with python3-yaml and python3-grpcio; promtool is Debian's `prometheus`.)
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phenixd_test  # noqa: E402  (its Server class starts phenixd on 127.0.0.1:0)

import grpc  # noqa: E402
import yaml  # noqa: E402

PROMTOOL = None
ROOT = None

# Names a rule or panel may use without phenixd exposing them: `up` is Prometheus's own, and
# the process_* series are the standard process collector's (metric-name contract of issue 16).
ALLOWED_UNEXPOSED = {"up"}
PROCESS_METRICS = {
    "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_cpu_seconds_total",
    "process_open_fds", "process_max_fds", "process_threads", "process_start_time_seconds",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def monitoring_path(name):
    return os.path.join(ROOT, "deploy", "monitoring", name)


def run_promtool(*args):
    if not PROMTOOL or not os.path.exists(PROMTOOL):
        raise AssertionError("promtool not found: install Debian's `prometheus` package "
                             "(scripts/install-deps.sh installs it)")
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)


def load_rules():
    with open(monitoring_path("phenix-alerts.yml")) as f:
        return yaml.safe_load(f)


def load_dashboard():
    with open(monitoring_path("phenix-dashboard.json")) as f:
        return json.load(f)


def rules_of(rules_file):
    for group in rules_file["groups"]:
        yield from group["rules"]


def dashboard_panels(dashboard):
    """Every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_exprs(dashboard):
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target.get("expr", "")
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            if isinstance(query, dict):
                query = query["query"]
            yield "variable " + variable["name"], query


def as_promql(grafana_expr):
    """A dashboard expression with Grafana's variables replaced, so that promtool can parse it."""
    expr = grafana_expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    return re.sub(r"\$\{?[A-Za-z_]+\}?", ".*", expr)


def label_values_metric(query):
    """label_values(METRIC{...}, label) -> METRIC{...}; other queries unchanged."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_]+\s*\)\s*", query)
    return match.group(1) if match else query


def metric_names(expr):
    """The series names a PromQL expression reads: identifiers outside string literals that
    name phenixd's series (phenix_*, process_*), `up`, and recording rules (with a colon)."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    names = set()
    for token in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", without_strings):
        if token.startswith(("phenix_", "process_")) or token == "up" or ":" in token:
            names.add(token)
    return names


def parse_exposition(text):
    """-> ({family name: type}, {sample name}) of a Prometheus text exposition."""
    families = {}
    samples = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            families[name] = kind.strip()
        elif line and not line.startswith("#"):
            samples.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return families, samples


def unexposed(names, families, samples):
    missing = set()
    for name in names:
        if name in ALLOWED_UNEXPOSED or name in PROCESS_METRICS or name in families \
                or name in samples:
            continue
        base = next((name[:-len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
        if base is not None and families.get(base) == "histogram":
            continue
        missing.add(name)
    return missing


def github_anchor(heading):
    """GitHub's anchor of a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


class RulesTest(unittest.TestCase):
    def test_promtool_check_rules(self):
        result = run_promtool("check", "rules", monitoring_path("phenix-alerts.yml"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)

    def test_promtool_test_rules(self):
        result = run_promtool("test", "rules", monitoring_path("phenix-alerts.test.yml"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)

    def test_every_alert_has_labels_annotations_a_runbook_and_a_unit_test(self):
        rules = list(rules_of(load_rules()))
        alerts = [rule for rule in rules if "alert" in rule]
        self.assertGreaterEqual(len(alerts), 14)
        with open(os.path.join(ROOT, "docs", "operations.md")) as f:
            anchors = {github_anchor(line.lstrip("#")) for line in f if line.startswith("#")}
        with open(monitoring_path("phenix-alerts.test.yml")) as f:
            tests = yaml.safe_load(f)
        fired = {case["alertname"] for test in tests["tests"]
                 for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
        quiet = {case["alertname"] for test in tests["tests"]
                 for case in test.get("alert_rule_test", []) if not case.get("exp_alerts")}
        for alert in alerts:
            name = alert["alert"]
            with self.subTest(alert=name):
                self.assertIn(alert.get("labels", {}).get("severity"), {"critical", "warning"})
                self.assertTrue(alert.get("for"), "every alert waits a `for:` duration")
                annotations = alert.get("annotations", {})
                for key in ("summary", "description", "runbook_url"):
                    self.assertTrue(annotations.get(key), f"annotation {key}")
                page, _, anchor = annotations["runbook_url"].partition("#")
                self.assertEqual(page, "docs/operations.md")
                self.assertEqual(anchor, name.lower())
                self.assertIn(anchor, anchors, f"docs/operations.md has no section '{name}'")
                self.assertIn(name, fired, "a unit test fires it")
                self.assertIn(name, quiet, "a unit test checks a case where it does not fire")


class DashboardTest(unittest.TestCase):
    def test_structure(self):
        dashboard = load_dashboard()
        self.assertGreaterEqual(dashboard["schemaVersion"], 36)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertEqual(variables["instance"]["type"], "query")
        ids = [panel["id"] for panel in dashboard_panels(dashboard)]
        self.assertEqual(len(ids), len(set(ids)), "duplicate panel ids")
        graphs = [p for p in dashboard_panels(dashboard) if p["type"] != "row"]
        self.assertGreaterEqual(len(graphs), 40)
        for panel in graphs:
            with self.subTest(panel=panel["title"]):
                self.assertEqual(panel.get("datasource", {}).get("uid"), "${datasource}")
                self.assertTrue(panel.get("targets"), "no targets")
                for target in panel["targets"]:
                    self.assertTrue(target.get("expr", "").strip(), "a target without expr")
                    self.assertEqual(target.get("datasource", {}).get("uid"), "${datasource}")
                    self.assertIn("$instance", target["expr"],
                                  "every query follows the instance variable")
                for key in ("h", "w", "x", "y"):
                    self.assertIn(key, panel["gridPos"])
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":
                self.assertEqual(variable["datasource"]["uid"], "${datasource}")

    def test_every_expression_parses(self):
        """promtool parses each expression as a recording rule of a throwaway rules file."""
        exprs = list(dashboard_exprs(load_dashboard()))
        rules = [{"record": f"dashboard:expr{n}", "expr": as_promql(label_values_metric(expr))}
                 for n, (_, expr) in enumerate(exprs)]
        self.assertGreater(len(rules), 40)
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
            f.flush()
            result = run_promtool("check", "rules", f.name)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr + "\nwhere:\n" +
                         "\n".join(f"  dashboard:expr{n}: {where}"
                                    for n, (where, _) in enumerate(exprs)))

    def test_metric_name_extraction(self):
        """The check below relies on metric_names: strings, labels and functions are not names."""
        self.assertEqual(
            metric_names('sum by (route) (rate(phenix_http_requests_total{status=~"5..", '
                         'route!="phenix_x"}[5m])) / up + process_open_fds'),
            {"phenix_http_requests_total", "up", "process_open_fds"})
        self.assertEqual(metric_names("phenix:disk_free:ratio < 0.05"), {"phenix:disk_free:ratio"})
        families, samples = parse_exposition(
            "# TYPE phenix_q_seconds histogram\nphenix_q_seconds_bucket{le=\"1\"} 1\n"
            "# TYPE phenix_g gauge\n")
        self.assertEqual(unexposed({"phenix_q_seconds_bucket", "phenix_q_seconds_count",
                                    "phenix_g", "phenix_g_count", "phenix_nope", "up"},
                                   families, samples),
                         {"phenix_g_count", "phenix_nope"})


class ExposedNamesTest(unittest.TestCase):
    """Every name the rules and the dashboard read is on a live phenixd's /metrics."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenix-monitoring-test-")
        # Tracing on (the phenix_trace_* series exist only then), towards a port nothing listens
        # on: exports fail and are counted as dropped, which never slows a request.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]
        cls.args = ["--otlp-endpoint", f"http://127.0.0.1:{dead_port}/v1/traces",
                    "--trace-sample-ratio", "1"]
        # A cap of one collection per series, so that the workload's second collection is folded
        # into "_other" and counted (phenix_metrics_label_overflow_total).
        cls.args += ["--metrics-max-collections", "1"]
        cls.server = None
        cls.start()

    @classmethod
    def start(cls):
        cls.server = phenixd_test.Server(os.path.join(cls.tmp, "data"), *cls.args)
        line = cls.server._read_line(30)
        prefix = "phenixd: grpc listening on 127.0.0.1:"
        if not line.startswith(prefix):
            cls.server.kill()
            raise AssertionError(f"unexpected second line {line!r}")
        cls.grpc_port = int(line[len(prefix):])

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scrape(self):
        status, _, text = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return parse_exposition(text)

    def ok(self, method, path, body=None, headers=None, expect=(200, 201)):
        status, _, answer = self.server.request(method, path, body, headers)
        self.assertIn(status, expect, f"{method} {path}: {answer}")
        return answer

    def run_workload(self):
        self.ok("PUT", "/v1/collections/docs", {"dimension": 4})
        self.ok("PUT", "/v1/collections/notes", {"dimension": 2})
        self.ok("POST", "/v1/collections/notes/entities",
                {"entities": [{"id": "n1", "vector": [1, 0]}]})
        self.ok("PUT", "/v1/collections/docs/indexes/category")
        entities = [{"id": f"d{i}", "vector": [i, i % 7, i % 3, 1.0],
                     "metadata": {"category": ["tech", "art", "news"][i % 3], "n": i},
                     "edges": [{"label": "next", "target": f"d{i - 1}"}] if i else []}
                    for i in range(60)]
        self.ok("POST", "/v1/collections/docs/entities", {"entities": entities})
        self.ok("DELETE", "/v1/collections/docs/entities/d5")
        self.ok("POST", "/v1/collections/docs/search", {"vector": [1, 2, 3, 4], "k": 5})
        self.ok("POST", "/v1/collections/docs/search",
                {"vector": [1, 2, 3, 4], "k": 5, "filter": {"category": "tech"}})
        self.ok("POST", "/v1/query", {"query": "ANALYZE docs"})
        self.ok("POST", "/v1/query", {"query": "SELECT id FROM docs WHERE metadata.category = "
                                               "'art' LIMIT 3"})
        self.ok("POST", "/v1/query",
                {"query": "SELECT * FROM traverse('docs', 'd9', max_hops = 2)"})
        # A failing statement (query errors by code).
        self.ok("POST", "/v1/query", {"query": "SELECT * FROM no_such_collection"},
                expect=(400, 404))
        # Transactions: one committed, one refused by a conflict, one rolled back.
        first = self.ok("POST", "/v1/transactions", {})["id"]
        second = self.ok("POST", "/v1/transactions", {})["id"]
        update = {"query": "UPDATE docs SET metadata.n = 0 WHERE id = 'd1'"}
        self.ok("POST", "/v1/query", update, {"Phenix-Transaction": first})
        self.ok("POST", "/v1/query", update, {"Phenix-Transaction": second})
        self.ok("POST", f"/v1/transactions/{first}/commit")
        self.ok("POST", f"/v1/transactions/{second}/commit", expect=(409,))
        third = self.ok("POST", "/v1/transactions", {})["id"]
        self.ok("POST", f"/v1/transactions/{third}/rollback")
        # A malformed request: refused by admission (phenix_http_rejected_total).
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            self.assertIn(b" 400 ", sock.recv(4096))
        # One gRPC call (an empty HealthRequest), without generated stubs.
        with grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}") as channel:
            channel.unary_unary("/phenix.v1.Phenix/Health")(b"", timeout=30)
        # A write refused by a tenant quota (phenix_quota_rejected_total; docs/security.md
        # "Quotas"). Last: the quota stops the tenant's writes.
        status, _, answer = self.server.request("PUT", "/v1/admin/tenants/default/quota",
                                                {"max_entities": 1})
        self.assertEqual(status, 200, answer)
        self.ok("POST", "/v1/collections/docs/entities",
                {"entities": [{"id": "over-quota", "vector": [0, 0, 0, 0]}]}, expect=(403,))

    def test_rules_and_dashboard_use_only_exposed_names(self):
        self.run_workload()
        families, samples = self.scrape()
        self.assertIn("phenix_http_requests_total", families)
        self.assertIn("phenix_commits_total", samples)
        self.assertIn("phenix_http_rejected_total", samples)  # the malformed request
        # Restarted (a clean close writes the vector index checkpoints, so their age exists):
        # the names of both scrapes count (the server's own series start again empty).
        self.assertEqual(self.server.stop(), 0)
        self.start()
        self.ok("GET", "/v1/collections/docs")
        families_after, samples_after = self.scrape()
        families.update(families_after)
        samples |= samples_after

        rules_file = load_rules()
        recorded = {rule["record"] for rule in rules_of(rules_file) if "record" in rule}
        used = {}  # name -> where it is used
        for rule in rules_of(rules_file):
            where = "rule " + rule.get("alert", rule.get("record", ""))
            for name in metric_names(rule["expr"]):
                used.setdefault(name, where)
        for where, expr in dashboard_exprs(load_dashboard()):
            for name in metric_names(expr):
                used.setdefault(name, "dashboard panel " + where)
        self.assertGreater(len(used), 50)

        undefined = sorted(n for n in used if ":" in n and n not in recorded)
        self.assertEqual(undefined, [], "recording rules used but not defined")
        missing = sorted(unexposed({n for n in used if ":" not in n}, families, samples))
        self.assertEqual(
            missing, [],
            f"{len(missing)} metric names used by deploy/monitoring are not on phenixd's "
            "/metrics:\n" + "\n".join(f"  {name}  (first used by {used[name]})"
                                      for name in missing))


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    PROMTOOL = sys.argv.pop(1)
    ROOT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
