#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of phenixd's streaming (label "server"): NDJSON rows from POST /v1/query
(Accept: application/x-ndjson) with bounded server memory, errors and deadlines mid-stream, a
client that goes away mid-stream, transactions; and POST /v1/collections/{name}/import, an NDJSON
body streamed into COPY's loader (bounded memory, on_error, 415, 413 over max_import_bytes).

Usage: streaming_test.py PATH/TO/phenixd   (stdlib only; reuses phenixd_test.py's Server)
Environment: PHENIX_IMPORT_TEST_MB (default 40): size of the generated import body.
"""
import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phenixd_test  # noqa: E402  (Server, error_code)
from phenixd_test import Server, error_code  # noqa: E402

NDJSON = "application/x-ndjson"
NUM_ROWS = 200_000
PAD = "x" * 120  # makes each row ~200 bytes of JSON, so that 200k rows are ~40 MB


def vm_hwm_kib(pid):
    """The process's peak resident set (VmHWM), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/PID/status")


def row_lines(start, stop):
    for i in range(start, stop):
        yield f'{{"id":"r{i:07d}","metadata":{{"n":{i},"f":{i % 97}.5,"pad":"{PAD}"}}}}\n'


def import_body(conn_server, collection, chunks, params="", headers=None):
    """POSTs an iterable of byte chunks (chunked transfer encoding) to the import route."""
    conn = conn_server.connection()
    try:
        hdrs = {"Content-Type": NDJSON, **(headers or {})}
        conn.request("POST", f"/v1/collections/{collection}/import{params}", body=chunks,
                     headers=hdrs, encode_chunked=True)
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        conn.close()


def batched(lines, batch_bytes=1 << 20):
    out = []
    size = 0
    for line in lines:
        out.append(line)
        size += len(line)
        if size >= batch_bytes:
            yield "".join(out).encode()
            out, size = [], 0
    if out:
        yield "".join(out).encode()


class Stream:
    """One NDJSON answer of POST /v1/query, read incrementally."""

    def __init__(self, server, query, headers=None, params=None):
        self.conn = server.connection()
        body = {"query": query}
        if params is not None:
            body["params"] = params
        self.conn.request("POST", "/v1/query", body=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json", "Accept": NDJSON,
                                   **(headers or {})})
        self.response = self.conn.getresponse()
        self.pending = b""

    def lines(self):
        """Yields each line as parsed JSON, as it arrives."""
        while True:
            chunk = self.response.read1(1 << 16) if hasattr(self.response, "read1") \
                else self.response.read(1 << 16)
            if not chunk:
                break
            self.pending += chunk
            *complete, self.pending = self.pending.split(b"\n")
            for line in complete:
                yield json.loads(line)
        self.conn.close()
        if self.pending.strip():
            raise AssertionError(f"a partial last line: {self.pending[:100]!r}")


class StreamingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-streaming-")
        cls.data = os.path.join(cls.tmp, "main")
        server = Server(cls.data)
        try:
            status, _, body = server.request("PUT", "/v1/collections/rows", {})
            assert status == 201, body
            start = time.monotonic()
            status, body = import_body(server, "rows", batched(row_lines(0, NUM_ROWS)))
            cls.load_seconds = time.monotonic() - start
            assert status == 200, body
            assert body["imported"] == NUM_ROWS, body
        finally:
            assert server.stop() == 0
        # A fresh process for the memory measurements: its peak is not the load's.
        cls.server = Server(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, *args, **kwargs):
        return self.server.request(*args, **kwargs)

    # ------------------------------------------------------------ NDJSON rows

    def test_1_large_result_streams_in_bounded_memory(self):
        # Named to run first in this class: the non-streamed query raises the process's peak.
        query = "SELECT id, metadata.n AS n, metadata FROM rows ORDER BY id"
        # Warm up: a first scan fills the caches (RocksDB's block cache) that both forms use.
        status, _, body = self.req("POST", "/v1/query", {
            "query": "SELECT count(*) AS n FROM rows WHERE metadata.n >= 0 AND id >= 'r'"})
        self.assertEqual((status, body["rows"]), (200, [[NUM_ROWS]]), body)
        base = vm_hwm_kib(self.server.proc.pid)
        start = time.monotonic()
        stream = Stream(self.server, query)
        self.assertEqual(stream.response.status, 200)
        self.assertEqual(stream.response.getheader("Content-Type"), NDJSON)
        self.assertEqual(stream.response.getheader("Transfer-Encoding"), "chunked")
        lines = stream.lines()
        self.assertEqual(next(lines), {"statement": 0, "columns": ["id", "n", "metadata"]})
        num_rows = 0
        last = None
        for line in lines:
            if isinstance(line, list):
                self.assertEqual(line[0], f"r{num_rows:07d}")  # in order
                num_rows += 1
            else:
                last = line
                break
        rest = list(lines)
        seconds = time.monotonic() - start
        self.assertEqual(num_rows, NUM_ROWS)
        self.assertEqual(last, {"statement": 0, "rows": NUM_ROWS})
        self.assertEqual(rest, [{"done": {"statements": 1}}])
        streamed = vm_hwm_kib(self.server.proc.pid)

        start_full = time.monotonic()
        status, _, body = self.req("POST", "/v1/query", {"query": query})
        full_seconds = time.monotonic() - start_full
        self.assertEqual(status, 200)
        self.assertEqual(len(body["rows"]), NUM_ROWS)
        full = vm_hwm_kib(self.server.proc.pid)
        print(f"\n  stream: {NUM_ROWS} rows in {seconds:.2f} s ({NUM_ROWS / seconds:,.0f} rows/s); "
              f"one JSON body: {full_seconds:.2f} s; load by import: {self.load_seconds:.2f} s\n"
              f"  VmHWM KiB: before {base}, after the stream {streamed} "
              f"(+{streamed - base}), after the JSON body {full} (+{full - streamed} more)",
              file=sys.stderr)
        streamed_growth = streamed - base
        full_growth = full - base
        self.assertGreater(full_growth, 60 * 1024, "the JSON form should need the result's size")
        self.assertLess(streamed_growth, full_growth / 4)
        self.assertLess(streamed_growth, 48 * 1024)

    def test_statement_errors_and_messages(self):
        # An error in statement 0 before any line: an ordinary error response.
        status, headers, body = self.req("POST", "/v1/query", {"query": "SELEC 1"},
                                         headers={"Accept": NDJSON})
        self.assertEqual((status, error_code(body)), (400, "INVALID_ARGUMENT"))
        self.assertEqual(body["error"]["details"], {"line": 1, "column": 1})
        # An error after lines went out: the error line ends the stream.
        stream = Stream(self.server, "SELECT id FROM rows WHERE metadata.n < 3 ORDER BY id; "
                                     "SELECT nope FROM rows")
        self.assertEqual(stream.response.status, 200)
        lines = list(stream.lines())
        self.assertEqual(lines[:5], [{"statement": 0, "columns": ["id"]}, ["r0000000"],
                                     ["r0000001"], ["r0000002"], {"statement": 0, "rows": 3}])
        self.assertEqual(len(lines), 6, lines)
        error = lines[5]["error"]
        self.assertEqual((error["code"], error["statement"]), ("INVALID_ARGUMENT", 1), error)
        self.assertIn("line", error)
        # Statements without rows, and parameters.
        lines = list(Stream(self.server, "SHOW COLLECTIONS; SELECT id FROM rows WHERE "
                                         "metadata.n = $1", params=[7]).lines())
        self.assertEqual(lines[0]["columns"][0], "name")
        self.assertIn(["r0000007"], lines)
        self.assertEqual(lines[-1], {"done": {"statements": 2}})

    def test_deadline_mid_stream_ends_with_an_error_line(self):
        # The client reads nothing for a while: the server blocks (backpressure) and the
        # deadline passes while it waits.
        stream = Stream(self.server, "SELECT id, metadata FROM rows",
                        headers={"Phenix-Timeout-Ms": "400"})
        self.assertEqual(stream.response.status, 200)
        time.sleep(0.8)
        lines = list(stream.lines())
        self.assertGreater(len(lines), 2)
        self.assertLess(len(lines), NUM_ROWS)
        self.assertEqual(lines[-1]["error"]["code"], "DEADLINE_EXCEEDED", lines[-1])
        # A deadline that passed before the first line: an ordinary 504.
        status, _, body = self.req(
            "POST", "/v1/query",
            {"query": "SELECT id FROM rows ORDER BY metadata.f DESC, id"},
            headers={"Accept": NDJSON, "Phenix-Timeout-Ms": "1"})
        if status != 200:  # a fast machine may finish within the millisecond
            self.assertEqual((status, error_code(body)), (504, "DEADLINE_EXCEEDED"), body)

    def test_client_that_disconnects_mid_stream_cancels_the_query(self):
        request_id = "stream-disconnect-1"
        body = json.dumps({"query": "SELECT id, metadata FROM rows"}).encode()
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        sock.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Accept: application/x-ndjson\r\nPhenix-Request-Id: " +
                     request_id.encode() + b"\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        received = b""
        while received.count(b"\n") < 100:
            received += sock.recv(65536)
        self.assertIn(b"200 OK", received)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # an abortive close (RST): the server's next write fails
        entry = None
        deadline = time.monotonic() + 20
        while entry is None and time.monotonic() < deadline:
            for line in self.server.log_text().splitlines():
                record = json.loads(line)
                if record.get("request_id") == request_id and record.get("msg") == "request":
                    entry = record
            time.sleep(0.05)
        self.assertIsNotNone(entry, "no access log line for the cut-off stream")
        self.assertEqual((entry["status"], entry["error"]), (200, "CANCELLED"), entry)
        self.assertLess(entry["bytes_out"], 30 << 20, entry)  # it stopped early
        # The worker is free again: a request is served at once.
        start = time.monotonic()
        status, _, body = self.req("POST", "/v1/query", {"query": "SHOW COLLECTIONS"})
        self.assertEqual(status, 200, body)
        self.assertLess(time.monotonic() - start, 2)

    def test_stream_inside_a_transaction(self):
        status, _, body = self.req("POST", "/v1/transactions", {})
        self.assertEqual(status, 201, body)
        txn = {"Phenix-Transaction": body["id"]}
        status, _, body = self.req("POST", "/v1/query", {
            "query": "INSERT INTO rows (id, metadata) VALUES ('zz-txn', {\"n\": -1})"}, headers=txn)
        self.assertEqual(status, 200, body)
        lines = list(Stream(self.server, "SELECT id FROM rows WHERE id = 'zz-txn'",
                            headers=txn).lines())
        self.assertEqual(lines, [{"statement": 0, "columns": ["id"]}, ["zz-txn"],
                                 {"statement": 0, "rows": 1}, {"done": {"statements": 1}}])
        outside = list(Stream(self.server, "SELECT id FROM rows WHERE id = 'zz-txn'").lines())
        self.assertEqual(outside[1], {"statement": 0, "rows": 0})
        status, _, body = self.req("POST", f"/v1/transactions/{txn['Phenix-Transaction']}"
                                           "/rollback")
        self.assertEqual(status, 200, body)

    def test_tenant_header_picks_the_sessions_tenant(self):
        status, _, body = self.req("POST", "/v1/query", {"query": "CREATE TENANT acme"})
        self.assertEqual(status, 200, body)
        acme = {"Phenix-Tenant": "acme"}
        status, _, body = self.req("POST", "/v1/query", {"query": "CREATE COLLECTION only_acme"},
                                   headers=acme)
        self.assertEqual(status, 200, body)
        status, _, body = self.req("POST", "/v1/collections/only_acme/import",
                                   raw=b'{"id": "t1"}\n{"id": "t2"}\n',
                                   headers={"Content-Type": NDJSON, **acme})
        self.assertEqual((status, body["imported"]), (200, 2), body)
        lines = list(Stream(self.server, "SELECT id FROM only_acme ORDER BY id",
                            headers=acme).lines())
        self.assertEqual(lines[1:3], [["t1"], ["t2"]], lines)
        status, _, body = self.req("POST", "/v1/query", {"query": "SELECT id FROM only_acme"},
                                   headers={"Accept": NDJSON})
        self.assertEqual((status, error_code(body)), (404, "NOT_FOUND"), body)

    # ------------------------------------------------------------ import

    def test_import_on_error_abort_and_skip(self):
        self.req("PUT", "/v1/collections/imp", {"dimension": 2})
        body = ('{"id":"a","vector":[1,2]}\n'
                '{"id":"b","vector":[1,2,3]}\n'
                'not json\n'
                '\n'
                '{"id":"c","vector":[3,4],"metadata":{"k":1}}\n').encode()
        status, _, answer = self.req("POST", "/v1/collections/imp/import?on_error=skip", raw=body,
                                     headers={"Content-Type": NDJSON})
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["imported"], answer["skipped"]), (2, 2), answer)
        self.assertEqual([e["line"] for e in answer["errors"]], [2, 3], answer)
        self.assertIn("dimension", answer["errors"][0]["message"])
        self.assertIn("timestamp", answer)
        # Abort (the default): the first bad line stops the import; the lines before it stay.
        self.req("PUT", "/v1/collections/imp2", {"dimension": 2})
        status, _, answer = self.req("POST", "/v1/collections/imp2/import", raw=body,
                                     headers={"Content-Type": NDJSON})
        self.assertEqual((status, error_code(answer)), (422, "INVALID_ARGUMENT"), answer)
        details = answer["error"]["details"]
        self.assertEqual((details["imported"], details["errors"][0]["line"]), (1, 2), details)
        status, _, got = self.req("GET", "/v1/collections/imp2")
        self.assertEqual(got["entities"], 1)
        # Bad requests.
        status, _, answer = self.req("POST", "/v1/collections/imp/import", raw=body,
                                     headers={"Content-Type": "text/csv"})
        self.assertEqual((status, error_code(answer)), (415, "INVALID_ARGUMENT"))
        status, _, answer = self.req("POST", "/v1/collections/imp/import?on_error=maybe",
                                     raw=body, headers={"Content-Type": NDJSON})
        self.assertEqual(status, 400, answer)
        status, _, answer = self.req("POST", "/v1/collections/nope/import", raw=body,
                                     headers={"Content-Type": NDJSON})
        self.assertEqual((status, error_code(answer)), (404, "NOT_FOUND"), answer)
        # The connection stays usable after an import answered before its body's end.
        conn = self.server.connection()
        try:
            conn.request("POST", "/v1/collections/imp/import", body=body,
                         headers={"Content-Type": "text/csv"})
            response = conn.getresponse()
            response.read()
            self.assertEqual(response.status, 415)
        finally:
            conn.close()

    def load_peak_growth(self, load):
        """VmHWM growth (KiB) of a fresh server while `load(server)` runs, and its seconds."""
        server = Server(os.path.join(self.tmp, f"imp-{time.monotonic_ns()}"))
        try:
            status, _, body = server.request("PUT", "/v1/collections/big", {})
            self.assertEqual(status, 201, body)
            base = vm_hwm_kib(server.proc.pid)
            start = time.monotonic()
            load(server)
            seconds = time.monotonic() - start
            return vm_hwm_kib(server.proc.pid) - base, seconds
        finally:
            self.assertEqual(server.stop(), 0)

    def test_large_import_streams_in_bounded_memory(self):
        size_mb = int(os.environ.get("PHENIX_IMPORT_TEST_MB", "40"))
        meta_pad = "y" * 200
        line_bytes = len(f'{{"id":"b00000000","metadata":{{"n":0,"p":"{meta_pad}"}}}}\n')
        count = size_mb * (1 << 20) // line_bytes

        def lines():
            for i in range(count):
                yield f'{{"id":"b{i:08d}","metadata":{{"n":{i},"p":"{meta_pad}"}}}}\n'

        def by_http(server):
            status, answer = import_body(server, "big", batched(lines()))
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["imported"], count)

        def by_copy(server):  # the baseline: COPY FROM a file, no HTTP body at all
            path = os.path.join(server.data_dir, "copy", "big.jsonl")
            with open(path, "wb") as f:
                for chunk in batched(lines()):
                    f.write(chunk)
            status, _, body = server.request("POST", "/v1/query",
                                             {"query": "COPY big FROM 'big.jsonl'"})
            self.assertEqual((status, body["affected"]), (200, count), body)

        http_growth, http_seconds = self.load_peak_growth(by_http)
        copy_growth, copy_seconds = self.load_peak_growth(by_copy)
        body_kib = count * line_bytes // 1024
        print(f"\n  import of {body_kib // 1024} MiB ({count} lines): over HTTP {http_seconds:.2f} s "
              f"({count / http_seconds:,.0f} lines/s), VmHWM +{http_growth} KiB; COPY FROM a "
              f"file {copy_seconds:.2f} s (including writing it), VmHWM +{copy_growth} KiB",
              file=sys.stderr)
        # The body never sits in memory whole (max_body_bytes, 64 MiB, does not apply): the HTTP
        # path needs about what COPY from a file needs (RocksDB's memtables, COPY's pipeline).
        self.assertLess(http_growth, copy_growth + 32 * 1024)

    def test_import_limit_413_and_no_transaction(self):
        server = Server(os.path.join(self.tmp, f"lim-{time.monotonic_ns()}"),
                        "--max-import-bytes", "1000", "--max-body-bytes", "100")
        try:
            server.request("PUT", "/v1/collections/c", {})
            small = b"".join(f'{{"id":"s{i}"}}\n'.encode() for i in range(20))  # > 100 bytes
            status, _, answer = server.request("POST", "/v1/collections/c/import", raw=small,
                                               headers={"Content-Type": NDJSON})
            self.assertEqual((status, answer["imported"]), (200, 20), answer)
            big = b"".join(f'{{"id":"t{i}"}}\n'.encode() for i in range(5000))
            status, body = import_body(server, "c", [big[i:i + 4096]
                                                     for i in range(0, len(big), 4096)])
            self.assertEqual((status, error_code(body)), (413, "RESOURCE_EXHAUSTED"), body)
            self.assertIn("max_import_bytes", body["error"]["message"])
            status, _, body = server.request("POST", "/v1/transactions", {})
            status, _, answer = server.request(
                "POST", "/v1/collections/c/import", raw=small,
                headers={"Content-Type": NDJSON, "Phenix-Transaction": body["id"]})
            self.assertEqual(status, 400, answer)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
