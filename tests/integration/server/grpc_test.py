#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""phenixd's gRPC API (docs/grpc.md) end to end, with Debian's python3-grpcio.

The Python stubs are generated at test time into a temporary directory from
proto/phenix/v1/phenix.proto with protoc and grpc_python_plugin (python3-grpc-tools' bundled protoc
is too old for proto3 `optional`).

Usage: grpc_test.py PHENIXD PROTOC GRPC_PYTHON_PLUGIN
"""
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import phenixd_test  # noqa: E402  (its Server class starts phenixd on 127.0.0.1:0)

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

pb = None     # phenix.v1.phenix_pb2, once generated
stubs = None  # phenix.v1.phenix_pb2_grpc


def generate_stubs(protoc, plugin, out_dir):
    """Generates the Python stubs into out_dir (created if missing), imports them, returns pb."""
    global pb, stubs
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([protoc, "-I" + os.path.join(ROOT, "proto"), "--python_out=" + out_dir,
                    "--grpc_python_out=" + out_dir, "--plugin=protoc-gen-grpc_python=" + plugin,
                    os.path.join(ROOT, "proto", "phenix", "v1", "phenix.proto")], check=True)
    sys.path.insert(0, out_dir)
    pb = importlib.import_module("phenix.v1.phenix_pb2")
    stubs = importlib.import_module("phenix.v1.phenix_pb2_grpc")
    return pb


def struct(value):
    out = struct_pb2.Struct()
    out.update(value)
    return out


class GrpcServer(phenixd_test.Server):
    """phenixd with both listeners on free ports; `stub` talks gRPC."""

    def __init__(self, data_dir, *extra_args):
        super().__init__(data_dir, *extra_args)
        self.grpc_port = self.read_grpc_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self.stub = stubs.PhenixStub(self.channel)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        try:
            return super().stop(sig, timeout)
        finally:
            self.channel.close()


def rows_of(responses):
    """A Query stream as [(columns, rows, end)] per statement, and the done message."""
    statements, done = [], None
    for message in responses:
        kind = message.WhichOneof("kind")
        if kind == "header":
            statements.append([list(message.header.columns), [], None])
        elif kind == "rows":
            statements[-1][1].extend(
                [value_of(v) for v in row.values] for row in message.rows.rows)
        elif kind == "end":
            if message.end.has_rows:
                statements[-1][2] = message.end
            else:
                statements.append([None, None, message.end])
        elif kind == "done":
            done = message.done
    return statements, done


def value_of(value):
    kind = value.WhichOneof("kind")
    if kind == "null_value":
        return None
    if kind == "vector_value":
        return list(value.vector_value.values)
    return getattr(value, kind)


def code_of(call, *args, **kwargs):
    """The status code of a call expected to fail (and the error)."""
    try:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__") and not hasattr(result, "ListFields"):
            list(result)
    except grpc.RpcError as error:
        return error.code(), error
    raise AssertionError(f"{call} succeeded")


TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$")


def traceparent_of(call):
    """The traceparent trailing metadata of a finished call (or RpcError), or None."""
    values = [value for key, value in (call.trailing_metadata() or ()) if key == "traceparent"]
    assert len(values) <= 1, values
    return values[0] if values else None


def write_copy_file(path, count):
    """COPY's line format: `count` entities with 8-dimensional vectors."""
    with open(path, "w") as f:
        for i in range(count):
            vector = [float((i * 7 + d) % 13) for d in range(8)]
            f.write(json.dumps({"id": f"e{i}", "vector": vector, "metadata": {"n": i}}) + "\n")


def txn_metadata(txn):
    return (("phenix-transaction", txn),)


class GrpcApiTest(unittest.TestCase):
    """One server for the API's behaviour."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="phenixd-grpc-")
        cls.server = GrpcServer(os.path.join(cls.tmp, "main"))
        cls.stub = cls.server.stub

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.server.stop() == 0, cls.server.log_text()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def create(self, name, **kwargs):
        return self.stub.CreateCollection(pb.CreateCollectionRequest(name=name, **kwargs))

    def upsert(self, collection, entities):
        return self.stub.Upsert(pb.UpsertRequest(collection=collection, entities=entities))

    def query(self, text, metadata=None, timeout=None, **params):
        request = pb.QueryRequest(query=text)
        for name, value in params.items():
            request.params[name].CopyFrom(value)
        return rows_of(self.stub.Query(request, metadata=metadata, timeout=timeout))

    def test_health(self):
        self.assertEqual(self.stub.Health(pb.HealthRequest()).status, "ready")
        # The standard grpc.health.v1.Health service, in raw bytes: an empty HealthCheckRequest
        # (service ""), answered HealthCheckResponse{status: SERVING (1)}.
        check = self.server.channel.unary_unary("/grpc.health.v1.Health/Check")
        self.assertEqual(check(b"", timeout=10), b"\x08\x01")
        name = b"phenix.v1.Phenix"
        self.assertEqual(check(b"\x0a" + bytes([len(name)]) + name, timeout=10), b"\x08\x01")

    def test_calls_have_access_log_lines_and_metrics(self):
        code_of(self.stub.GetCollection, pb.GetCollectionRequest(name="no_such_collection"))
        entry = None
        deadline = time.monotonic() + 10
        while entry is None and time.monotonic() < deadline:
            for line in self.server.log_text().splitlines():
                record = json.loads(line)
                if (record.get("method") == "GRPC" and record.get("error") == "NOT_FOUND"
                        and record.get("route") == "/phenix.v1.Phenix/GetCollection"):
                    entry = record
            time.sleep(0.05)
        self.assertIsNotNone(entry, self.server.log_text()[-2000:])
        self.assertEqual(entry["status"], 404)  # what REST answers for the same code
        self.assertTrue(entry["client"].startswith("ipv"), entry)
        _, _, metrics = self.server.request("GET", "/metrics")
        self.assertIn('method="GRPC"', metrics)

    def test_collections_entities_search_and_query(self):
        created = self.create("docs", dimension=2, metric="cosine", hnsw=struct({"m": 8}))
        self.assertTrue(created.created)
        self.assertEqual((created.collection.name, created.collection.dimension,
                          created.collection.metric), ("docs", 2, "cosine"))
        self.assertEqual(created.collection.settings["hnsw"]["m"], 8)
        again = self.create("docs", dimension=2, metric="cosine", hnsw=struct({"m": 8}))
        self.assertFalse(again.created)  # idempotent, like PUT
        code, error = code_of(self.create, "docs", dimension=3)
        self.assertEqual(code, grpc.StatusCode.ALREADY_EXISTS, error.details())

        written = self.upsert("docs", [
            pb.Entity(id="a", vector=[1, 0], metadata=struct({"tag": "x", "n": 1})),
            pb.Entity(id="b", vector=[0, 1], metadata=struct({"tag": "y", "n": 2}),
                      edges=[pb.Edge(label="cites", target_id="a",
                                     properties=struct({"why": "because"}))]),
        ])
        self.assertEqual(written.upserted, 2)
        self.assertGreater(written.timestamp, 0)

        entity = self.stub.GetEntity(pb.GetEntityRequest(collection="docs", id="b",
                                                         include_vector=True))
        self.assertEqual(list(entity.vector), [0, 1])
        self.assertEqual(entity.metadata["tag"], "y")
        self.assertEqual((entity.edges[0].label, entity.edges[0].target_id,
                          entity.edges[0].weight), ("cites", "a", 1.0))
        self.assertEqual(entity.edges[0].properties["why"], "because")
        without = self.stub.GetEntity(pb.GetEntityRequest(collection="docs", id="b"))
        self.assertEqual(list(without.vector), [])

        info = self.stub.GetCollection(pb.GetCollectionRequest(name="docs"))
        self.assertEqual(info.entities, 2)
        names = [c.name for c in self.stub.ListCollections(pb.ListCollectionsRequest()).collections]
        self.assertIn("docs", names)

        found = self.stub.Search(pb.SearchRequest(
            collection="docs", query=struct({"vector": [1, 0.1], "k": 1})))
        self.assertEqual(len(found.results), 1)
        self.assertEqual(found.results[0].fields["id"].string_value, "a")
        filtered = self.stub.Search(pb.SearchRequest(
            collection="docs", query=struct({"vector": [1, 0.1], "k": 2,
                                             "filter": {"tag": "y"}})))
        self.assertEqual([r.fields["id"].string_value for r in filtered.results], ["b"])
        # "explain": true adds the plan (REST's "plan"); without it there is none.
        explained = self.stub.Search(pb.SearchRequest(
            collection="docs", query=struct({"vector": [1, 0.1], "k": 1, "explain": True})))
        self.assertEqual([r.fields["id"].string_value for r in explained.results], ["a"])
        self.assertEqual(explained.plan["strategy"], "vector_index")
        self.assertTrue(explained.plan["text"][0].startswith(explained.plan["root"]["operator"]))
        self.assertFalse(found.HasField("plan"))
        code, _ = code_of(self.stub.Search, pb.SearchRequest(
            collection="docs", query=struct({"vector": [1, 0.1], "k": 1, "explain": "yes"})))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)

        statements, done = self.query(
            "SELECT id, metadata.n AS n FROM docs WHERE metadata.n >= $min ORDER BY id;"
            "BEGIN; ROLLBACK", min=pb.Value(int_value=1))
        self.assertEqual(done.statements, 3)
        columns, rows, end = statements[0]
        self.assertEqual(columns, ["id", "n"])
        self.assertEqual(rows, [["a", 1], ["b", 2]])
        self.assertEqual((end.statement, end.rows), (0, 2))
        self.assertEqual([s[2].message for s in statements[1:]], ["BEGIN", "ROLLBACK"])
        statements, _ = self.query("SELECT vector FROM docs WHERE id = 'a'")
        self.assertEqual(statements[0][1], [[[1.0, 0.0]]])  # a vector, not a JSON array

        self.stub.DeleteEntity(pb.DeleteEntityRequest(collection="docs", id="a"))
        code, _ = code_of(self.stub.GetEntity, pb.GetEntityRequest(collection="docs", id="a"))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        self.stub.DeleteCollection(pb.DeleteCollectionRequest(name="docs"))
        code, _ = code_of(self.stub.GetCollection, pb.GetCollectionRequest(name="docs"))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

    def test_error_codes(self):
        self.create("errs", dimension=2)
        # INVALID_ARGUMENT: a syntax error names its statement in the trailing metadata.
        code, error = code_of(self.stub.Query, pb.QueryRequest(query="SHOW COLLECTIONS; SELEC 2"))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("line 1", error.details())
        self.assertIn(("phenix-statement", "1"), tuple(error.trailing_metadata()))
        code, _ = code_of(self.upsert, "errs", [pb.Entity(id="bad", vector=[1, 2, 3])])
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        code, _ = code_of(self.stub.Query, pb.QueryRequest(
            query="SELECT $x", params={"x": pb.Value(json_value="3")}))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        code, _ = code_of(self.stub.Search, pb.SearchRequest(
            collection="errs", query=struct({"vector": [1, 0], "k": 1, "collection": "other"})))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        # The transaction metadata applies to Query and Search only (like REST).
        code, error = code_of(self.stub.GetCollection, pb.GetCollectionRequest(name="errs"),
                              metadata=txn_metadata("0" * 32))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("phenix-transaction", error.details())
        # NOT_FOUND
        code, _ = code_of(self.stub.Query, pb.QueryRequest(query="SELECT 1"),
                          metadata=txn_metadata("0" * 32))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        code, _ = code_of(self.upsert, "missing", [])
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        # ALREADY_EXISTS
        code, _ = code_of(self.create, "errs", dimension=5)
        self.assertEqual(code, grpc.StatusCode.ALREADY_EXISTS)
        # FAILED_PRECONDITION: COMMIT without a transaction.
        code, _ = code_of(self.stub.Query, pb.QueryRequest(query="COMMIT"))
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        # PERMISSION_DENIED: COPY outside the server's COPY directory.
        code, _ = code_of(self.stub.Query, pb.QueryRequest(query="COPY errs FROM '/etc/passwd'"))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)

    def test_transaction_conflict_is_aborted(self):
        self.create("tx", dimension=2)
        self.upsert("tx", [pb.Entity(id="k", vector=[1, 1], metadata=struct({"v": 0}))])
        first = self.stub.BeginTransaction(pb.BeginTransactionRequest()).id
        second = self.stub.BeginTransaction(pb.BeginTransactionRequest()).id
        self.assertRegex(first, r"^[0-9a-f]{32}$")
        for txn in (first, second):
            statements, _ = self.query("UPDATE tx SET metadata.v = 1 WHERE id = 'k'",
                                       metadata=txn_metadata(txn))
            self.assertEqual(statements[0][2].affected, 1)
        self.assertGreater(
            self.stub.CommitTransaction(pb.CommitTransactionRequest(id=first)).timestamp, 0)
        code, error = code_of(self.stub.CommitTransaction,
                              pb.CommitTransactionRequest(id=second))
        self.assertEqual(code, grpc.StatusCode.ABORTED, error.details())
        code, _ = code_of(self.stub.CommitTransaction, pb.CommitTransactionRequest(id=second))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)  # an aborted transaction is gone

        txn = self.stub.BeginTransaction(pb.BeginTransactionRequest()).id
        self.query("INSERT INTO tx (id, vector) VALUES ('r', [1, 2])", metadata=txn_metadata(txn))
        found = self.stub.Search(pb.SearchRequest(collection="tx",
                                                  query=struct({"vector": [1, 2], "k": 1})),
                                 metadata=txn_metadata(txn))
        self.assertEqual(found.results[0].fields["id"].string_value, "r")  # its own write
        self.stub.RollbackTransaction(pb.RollbackTransactionRequest(id=txn))
        code, _ = code_of(self.stub.GetEntity, pb.GetEntityRequest(collection="tx", id="r"))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

        txn = self.stub.BeginTransaction(pb.BeginTransactionRequest(read_only=True)).id
        code, _ = code_of(self.stub.Query, pb.QueryRequest(
            query="INSERT INTO tx (id, vector) VALUES ('ro', [1, 2])"), metadata=txn_metadata(txn))
        self.assertIn(code, (grpc.StatusCode.INVALID_ARGUMENT,
                             grpc.StatusCode.FAILED_PRECONDITION))
        self.stub.RollbackTransaction(pb.RollbackTransactionRequest(id=txn))

    def test_transactions_are_shared_with_rest(self):
        self.create("shared", dimension=2)
        # Begun over gRPC, written over gRPC, committed over REST.
        txn = self.stub.BeginTransaction(pb.BeginTransactionRequest()).id
        self.query("INSERT INTO shared (id, vector) VALUES ('g', [1, 2])",
                   metadata=txn_metadata(txn))
        status, _, body = self.server.request(
            "POST", "/v1/query", {"query": "SELECT id FROM shared"},
            headers={"Phenix-Transaction": txn})
        self.assertEqual((status, body["rows"]), (200, [["g"]]))  # REST sees the gRPC write
        status, _, body = self.server.request("POST", f"/v1/transactions/{txn}/commit")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.stub.GetEntity(pb.GetEntityRequest(collection="shared",
                                                                 id="g")).id, "g")
        # Begun over REST, written over REST, committed over gRPC.
        status, _, body = self.server.request("POST", "/v1/transactions", {})
        txn = body["id"]
        status, _, body = self.server.request(
            "POST", "/v1/query", {"query": "INSERT INTO shared (id, vector) VALUES ('h', [2, 1])"},
            headers={"Phenix-Transaction": txn})
        self.assertEqual(status, 200, body)
        self.stub.CommitTransaction(pb.CommitTransactionRequest(id=txn))
        status, _, _ = self.server.request("GET", "/v1/collections/shared/entities/h")
        self.assertEqual(status, 200)

    def test_tenant_metadata_selects_the_query_session_tenant(self):
        self.query("CREATE TENANT acme")
        tenant = (("phenix-tenant", "acme"),)
        self.query("CREATE COLLECTION acme_notes", metadata=tenant)
        statements, _ = self.query("SHOW COLLECTIONS", metadata=tenant)
        self.assertEqual([row[0] for row in statements[0][1]], ["acme_notes"])
        code, _ = code_of(self.stub.GetCollection, pb.GetCollectionRequest(name="acme_notes"))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)  # not in the default tenant
        code, error = code_of(self.stub.Query, pb.QueryRequest(query="SHOW COLLECTIONS"),
                              metadata=(("phenix-tenant", "nope"),))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        self.assertIn("tenant 'nope'", error.details())

    def test_client_streaming_upsert_and_a_large_server_stream(self):
        # Without vectors: no index work, so the server (an ASan build too) closes quickly.
        self.create("big")
        total, per_message = 30000, 1000

        def messages():
            for start in range(0, total, per_message):
                yield pb.UpsertRequest(collection="big", entities=[
                    pb.Entity(id=f"e{i:06d}", metadata=struct({"n": i, "pad": "p" * 100}))
                    for i in range(start, start + per_message)])

        written = self.stub.UpsertStream(messages())
        self.assertEqual(written.upserted, total)
        seen, batches, ended = [], 0, None
        for message in self.stub.Query(pb.QueryRequest(query="SELECT id, metadata FROM big")):
            if message.WhichOneof("kind") == "rows":
                batches += 1
                seen.extend(row.values[0].string_value for row in message.rows.rows)
            elif message.WhichOneof("kind") == "end":
                ended = message.end
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)
        self.assertEqual(ended.rows, total)
        self.assertGreater(batches, 10)  # rows arrive in many messages, not one

        # Each message commits on its own: a bad second message leaves the first committed.
        def bad_messages():
            yield pb.UpsertRequest(collection="big", entities=[pb.Entity(id="ok1")])
            yield pb.UpsertRequest(collection="big", entities=[
                pb.Entity(id="bad", vector=[1, 1])])  # a vector in a collection without vectors
            yield pb.UpsertRequest(collection="big", entities=[pb.Entity(id="never")])

        code, error = code_of(self.stub.UpsertStream, bad_messages())
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("1 messages with 1 entities were committed", error.details())
        self.assertEqual(self.stub.GetEntity(pb.GetEntityRequest(collection="big",
                                                                 id="ok1")).id, "ok1")
        code, _ = code_of(self.stub.GetEntity, pb.GetEntityRequest(collection="big", id="never"))
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)

    def test_deadline_cancels_a_running_statement(self):
        self.create("slow")
        self.stub.UpsertStream(
            pb.UpsertRequest(collection="slow", entities=[
                pb.Entity(id=f"s{i:06d}") for i in range(start, start + 2000)])
            for start in range(0, 40000, 2000))
        code, _ = code_of(self.stub.Query,
                          pb.QueryRequest(query="UPDATE slow SET metadata.flag = true"),
                          timeout=0.025)
        self.assertEqual(code, grpc.StatusCode.DEADLINE_EXCEEDED)
        # The server stopped the statement part way (the client's deadline alone would not): the
        # count is below the total and stays there.
        counts = []
        for _ in range(2):
            time.sleep(1)
            statements, _ = self.query("SELECT count(*) AS n FROM slow WHERE metadata.flag = true")
            counts.append(statements[0][1][0][0])
        self.assertLess(counts[-1], 40000)
        self.assertEqual(counts[0], counts[1])

    def copy_messages(self, collection, path, count, progress):
        """Runs `SHOW COLLECTIONS; COPY collection FROM path` over Query and returns the stream's
        messages as (kind, message) pairs, in order."""
        write_copy_file(os.path.join(self.server.data_dir, "copy", path), count)
        self.create(collection, dimension=8)
        request = pb.QueryRequest(query=f"SHOW COLLECTIONS; COPY {collection} FROM '{path}'",
                                  progress=progress)
        return [(message.WhichOneof("kind"), message) for message in self.stub.Query(request)]

    def test_query_progress_messages_come_before_the_statements_end(self):
        # COPY reports progress about once a second (decision 0032) and once at its end: a COPY
        # that lasts over 1.5 s must show a line before the last. 40000 entities take 2-4 s on
        # a loaded 2-core machine; on a machine where they take under 1.5 s, twice as many.
        count, attempt = 40000, 0
        while True:
            started = time.monotonic()
            collection = f"progress_big{attempt}"
            messages = self.copy_messages(collection, "progress_big.jsonl", count, True)
            elapsed = time.monotonic() - started
            if elapsed >= 1.5 or attempt == 3:
                break
            count, attempt = count * 2, attempt + 1
        kinds = [kind for kind, _ in messages]
        self.assertEqual(kinds[-1], "done", kinds[-5:])
        self.assertEqual(messages[-1][1].done.statements, 2)
        copy_end = max(i for i, (kind, m) in enumerate(messages)
                       if kind == "end" and m.end.statement == 1)
        self.assertEqual(messages[copy_end][1].end.affected, count)
        progress = [(i, m.progress) for i, (kind, m) in enumerate(messages) if kind == "progress"]
        self.assertGreaterEqual(len(progress), 2, kinds)
        # Every progress message is the COPY's (statement 1), before its end.
        self.assertTrue(all(p.statement == 1 and i < copy_end for i, p in progress), progress)
        texts = [p.text for _, p in progress]
        self.assertTrue(all(text.startswith(f"COPY {collection}: ") for text in texts), texts)
        # The writing phase's lines ("N lines, M entities ..."): at least one before the final
        # one, the entity counts never decreasing up to the file's size (a periodic line may
        # already report them all, e.g. while edges or the commit finish, before the final one)
        # and the first below it.
        written = [int(m.group(1)) for m in (re.search(r": \d+ lines, (\d+) entities", t)
                                             for t in texts) if m]
        self.assertGreaterEqual(len(written), 2, (elapsed, texts))
        self.assertEqual(written, sorted(written), texts)
        self.assertLess(written[0], count, texts)
        self.assertEqual(written[-1], count, texts)
        self.assertIn(" in ", texts[-1])  # COPY's final line, with its elapsed time

    def test_query_without_progress_has_no_progress_messages(self):
        # A small COPY asked with progress reports its final line; asked without, the stream
        # is what it was before the field existed.
        with_progress = self.copy_messages("progress_small", "progress_small.jsonl", 5, True)
        self.assertEqual([m.progress.statement for kind, m in with_progress
                          if kind == "progress"], [1], with_progress)
        without = self.copy_messages("progress_small2", "progress_small.jsonl", 5, False)
        self.assertEqual([kind for kind, _ in without], ["header", "rows", "end", "end", "done"])
        self.assertEqual(without[3][1].end.affected, 5)

    def test_answers_carry_no_traceparent_without_tracing(self):
        _, call = self.stub.Health.with_call(pb.HealthRequest(), metadata=(
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),))
        self.assertIsNotNone(call.trailing_metadata())
        self.assertIsNone(traceparent_of(call))

    def test_docs_python_example_runs(self):
        with open(os.path.join(ROOT, "docs", "grpc.md")) as f:
            text = f.read()
        blocks = phenixd_test.doc_blocks(text, "import grpc")
        self.assertEqual(len(blocks), 1)
        code = blocks[0].replace("127.0.0.1:9090", f"127.0.0.1:{self.server.grpc_port}")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("done", out.stdout)


class GrpcLifecycleTest(unittest.TestCase):
    """Servers with small limits, and shutdown."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phenixd-grpc-life-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fill(self, stub, name, count):
        """`count` entities of about 1 KiB each, without vectors (no index work)."""
        stub.CreateCollection(pb.CreateCollectionRequest(name=name))
        stub.UpsertStream(
            pb.UpsertRequest(collection=name, entities=[
                pb.Entity(id=f"v{i:06d}", metadata=struct({"pad": "x" * 1000}))
                for i in range(start, min(count, start + 1000))])
            for start in range(0, count, 1000))

    def test_overload_is_unavailable_and_a_stalled_stream_is_cancelled(self):
        server = GrpcServer(os.path.join(self.tmp, "d"), "--workers", "1", "--queue-capacity", "1")
        try:
            stub = server.stub
            self.fill(stub, "wide", 20000)
            # A stream the client stops reading holds the one worker (backpressure: the server
            # waits for each write); the queue's one slot fills, then calls are refused.
            stalled = stub.Query(pb.QueryRequest(query="SELECT id, metadata FROM wide"))
            next(stalled)
            code, error = None, None
            deadline = time.monotonic() + 30
            while code != grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline:
                try:
                    stub.GetCollection(pb.GetCollectionRequest(name="wide"), timeout=1)
                except grpc.RpcError as rpc_error:
                    code, error = rpc_error.code(), rpc_error
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
            self.assertIn("queue_capacity", error.details())
            # Cancelling the stalled stream frees the worker: calls run again.
            stalled.cancel()
            info, deadline = None, time.monotonic() + 30
            while info is None and time.monotonic() < deadline:
                try:
                    info = stub.GetCollection(pb.GetCollectionRequest(name="wide"), timeout=5)
                except grpc.RpcError as rpc_error:  # until the worker and queue drained
                    self.assertEqual(rpc_error.code(), grpc.StatusCode.UNAVAILABLE)
                    time.sleep(0.05)
            self.assertEqual(info.name, "wide")
            self.assertEqual(stub.Health(pb.HealthRequest()).status, "ready")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_sigterm_with_calls_in_flight_exits_zero(self):
        server = GrpcServer(os.path.join(self.tmp, "d"), "--shutdown-timeout-ms", "1000")
        stub = server.stub
        self.fill(stub, "wide", 20000)
        outcomes, started_streams = [], []

        def stalled_query():
            try:
                stream = stub.Query(pb.QueryRequest(query="SELECT id, metadata FROM wide"))
                next(stream)
                started_streams.append(True)
                time.sleep(5)  # stop reading: the server's write waits
                list(stream)
                outcomes.append("completed")
            except grpc.RpcError as error:
                outcomes.append(error.code())

        def idle_upsert_stream():
            def messages():
                yield pb.UpsertRequest(collection="wide", entities=[
                    pb.Entity(id="late")])
                time.sleep(5)  # between messages when the signal comes
            try:
                stub.UpsertStream(messages())
                outcomes.append("completed")
            except grpc.RpcError as error:
                outcomes.append(error.code())

        threads = [threading.Thread(target=stalled_query) for _ in range(2)]
        threads.append(threading.Thread(target=idle_upsert_stream))
        for thread in threads:
            thread.start()
        # The signal comes once the upsert stream's first message is committed and the queries
        # have started streaming.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                stub.GetEntity(pb.GetEntityRequest(collection="wide", id="late"))
                break
            except grpc.RpcError:
                time.sleep(0.05)
        while len(started_streams) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        self.assertEqual(server.stop(timeout=30), 0, server.log_text())
        self.assertLess(time.monotonic() - started, 15)
        # The stalled streams were in flight through the drain and were cancelled after it.
        self.assertIn("cancelling in-flight requests", server.log_text())
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(outcomes), 3, outcomes)
        for outcome in outcomes:  # each call ended with a status, none hung or completed
            self.assertIsInstance(outcome, grpc.StatusCode, outcomes)
        # Reopens cleanly; the idle stream's committed first message survived.
        restarted = GrpcServer(os.path.join(self.tmp, "d"))
        try:
            self.assertEqual(restarted.stub.GetEntity(pb.GetEntityRequest(
                collection="wide", id="late")).id, "late")
        finally:
            self.assertEqual(restarted.stop(), 0)

    def test_grpc_flag_config_and_port_in_use(self):
        phenixd = phenixd_test.PHENIXD
        out = subprocess.run([phenixd, "--help"], capture_output=True, text=True, check=True)
        self.assertIn("--grpc", out.stdout)
        self.assertIn("PHENIX_GRPC", out.stdout)
        env = dict(os.environ, PHENIX_GRPC="127.0.0.1:7")
        out = subprocess.run([phenixd, "--print-config"], capture_output=True, text=True,
                             check=True, env=env)
        self.assertIn('grpc = "127.0.0.1:7"', out.stdout)
        bad = subprocess.run([phenixd, "--grpc", "nonsense"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--grpc", bad.stderr)
        # A port another phenixd holds: the second one fails to start instead of sharing it.
        first = GrpcServer(os.path.join(self.tmp, "a"))
        try:
            second = subprocess.run(
                [phenixd, "--data", os.path.join(self.tmp, "b"), "--http", "127.0.0.1:0",
                 "--grpc", f"127.0.0.1:{first.grpc_port}"],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(second.returncode, 1, second.stderr)
            self.assertIn("cannot listen for gRPC", second.stderr)
        finally:
            self.assertEqual(first.stop(), 0)
        # --grpc "": no gRPC listener.
        no_grpc = subprocess.Popen(
            [phenixd, "--data", os.path.join(self.tmp, "c"), "--http", "127.0.0.1:0",
             "--grpc", ""], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = no_grpc.stdout.readline()
            self.assertTrue(line.startswith("phenixd: http listening on"), line)
            time.sleep(0.3)
            os.kill(no_grpc.pid, signal.SIGTERM)
            rest, _ = no_grpc.communicate(timeout=30)
            self.assertNotIn("grpc listening", rest)
            self.assertEqual(no_grpc.returncode, 0)
        finally:
            if no_grpc.poll() is None:
                no_grpc.kill()


class GrpcTracingTest(unittest.TestCase):
    """traceparent metadata joins a call's trace to the client's (docs/observability.md; the
    OTLP payload is checked in depth by tracing_test.py: here, stdlib JSON): a call's span, a
    Query call's statement and commit spans, a write's commit spans, and the call's slow-query
    records naming the trace."""

    def setUp(self):
        import http.server
        self.received = []
        received = self.received

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self.receiver.serve_forever, daemon=True).start()
        self.tmp = tempfile.mkdtemp(prefix="phenixd-grpc-trace-")

    def tearDown(self):
        self.receiver.shutdown()
        self.receiver.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *extra):
        return GrpcServer(os.path.join(self.tmp, "d"), "--otlp-endpoint",
                          f"http://127.0.0.1:{self.receiver.server_address[1]}/v1/traces",
                          "--trace-sample-ratio", "0", *extra)

    def spans_of(self, trace_id, root_name):
        """The trace's spans once its root arrived (each a dict, as OTLP/JSON has it)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            spans = [span for body in list(self.received)
                     for resource in body["resourceSpans"]
                     for scope in resource["scopeSpans"] for span in scope["spans"]
                     if span["traceId"] == trace_id]
            if any(span["name"] == root_name for span in spans):
                return spans
            time.sleep(0.05)
        self.fail(f"the trace {trace_id} with {root_name} did not arrive: {self.received}")

    def test_call_span_joins_the_clients_trace(self):
        server = self.start()
        try:
            trace_id, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
            metadata = (("traceparent", f"00-{trace_id}-{parent}-01"),)
            self.assertEqual(server.stub.Health(pb.HealthRequest(), metadata=metadata).status,
                             "ready")
            spans = self.spans_of(trace_id, "GRPC /phenix.v1.Phenix/Health")
            self.assertEqual(len(spans), 1, spans)
            self.assertEqual(spans[0]["parentSpanId"], parent)
            attributes = {a["key"]: a["value"] for a in spans[0]["attributes"]}
            self.assertEqual(attributes["rpc.system"], {"stringValue": "grpc"})
        finally:
            self.assertEqual(server.stop(), 0)

    def test_answers_carry_the_calls_traceparent_in_trailing_metadata(self):
        server = self.start()
        try:
            trace_id, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
            metadata = (("traceparent", f"00-{trace_id}-{parent}-01"),)
            # Unary: the client's trace, our root span (the one exported and logged).
            _, call = server.stub.Health.with_call(pb.HealthRequest(), metadata=metadata)
            answer = TRACEPARENT.match(traceparent_of(call) or "")
            self.assertIsNotNone(answer, call.trailing_metadata())
            self.assertEqual(answer.group(1), trace_id)
            self.assertNotEqual(answer.group(2), parent)
            spans = self.spans_of(trace_id, "GRPC /phenix.v1.Phenix/Health")
            self.assertEqual([span["spanId"] for span in spans], [answer.group(2)])
            self.assertNotIn("traceparent", dict(call.initial_metadata()))
            # A failed call carries it too (with the status).
            code, error = code_of(server.stub.GetCollection,
                                  pb.GetCollectionRequest(name="nowhere"), metadata=metadata)
            self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
            answer = TRACEPARENT.match(traceparent_of(error) or "")
            self.assertIsNotNone(answer, error.trailing_metadata())
            self.assertEqual(answer.group(1), trace_id)
            # A Query stream: after its last message.
            stream = server.stub.Query(pb.QueryRequest(query="SHOW COLLECTIONS"),
                                       metadata=metadata)
            self.assertEqual(list(stream)[-1].WhichOneof("kind"), "done")
            answer = TRACEPARENT.match(traceparent_of(stream) or "")
            self.assertIsNotNone(answer, stream.trailing_metadata())
            self.assertEqual(answer.group(1), trace_id)
            # Without one (or with a malformed one) the call starts a new trace and names it.
            fresh = set()
            for sent in ((), (("traceparent", "00-zz-not-valid"),)):
                _, call = server.stub.Health.with_call(pb.HealthRequest(), metadata=sent)
                answer = TRACEPARENT.match(traceparent_of(call) or "")
                self.assertIsNotNone(answer, call.trailing_metadata())
                self.assertNotEqual(answer.group(1), trace_id)
                fresh.add(answer.group(1))
            self.assertEqual(len(fresh), 2, fresh)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_query_and_write_calls_carry_their_spans_and_slow_records_name_the_trace(self):
        server = self.start("--slow-query-threshold-ms", "0")
        try:
            server.stub.CreateCollection(pb.CreateCollectionRequest(name="t", dimension=2))
            query_trace, upsert_trace = "1" * 32, "2" * 32
            parent = "b7ad6b7169203331"
            statements, done = rows_of(server.stub.Query(
                pb.QueryRequest(query="INSERT INTO t (id, vector) VALUES ('a', [1, 2]); "
                                      "SELECT id FROM t"),
                metadata=(("traceparent", f"00-{query_trace}-{parent}-01"),)))
            self.assertEqual(done.statements, 2)
            self.assertEqual(statements[-1][1], [["a"]])
            server.stub.Upsert(pb.UpsertRequest(collection="t", entities=[
                pb.Entity(id="b", vector=[3, 4])]),
                metadata=(("traceparent", f"00-{upsert_trace}-{parent}-01"),))

            # The Query call: one trace, the client's, with its statements' stage spans under
            # the call's root, and the INSERT's commit (with its phases) under its execute.
            spans = self.spans_of(query_trace, "GRPC /phenix.v1.Phenix/Query")
            by_id = {span["spanId"]: span for span in spans}
            root = [span for span in spans if span["name"] == "GRPC /phenix.v1.Phenix/Query"][0]
            self.assertEqual(root["parentSpanId"], parent)
            stages = [span["name"] for span in spans if span.get("parentSpanId") == root["spanId"]]
            self.assertEqual(stages.count("parse"), 2, stages)
            self.assertEqual(stages.count("execute"), 2, stages)
            commits = [span for span in spans if span["name"] == "db.commit"]
            self.assertEqual(len(commits), 1, [span["name"] for span in spans])
            self.assertEqual(by_id[commits[0]["parentSpanId"]]["name"], "execute")
            phases = {span["name"] for span in spans
                      if span.get("parentSpanId") == commits[0]["spanId"]}
            self.assertEqual(phases, {"lock_wait", "index_maintenance", "storage_write",
                                      "index_hook"})
            # The Upsert call: its commit under the call's root.
            spans = self.spans_of(upsert_trace, "GRPC /phenix.v1.Phenix/Upsert")
            upsert_root = [span for span in spans
                           if span["name"] == "GRPC /phenix.v1.Phenix/Upsert"][0]
            self.assertEqual([span["parentSpanId"] for span in spans
                              if span["name"] == "db.commit"], [upsert_root["spanId"]])

            # Both statements' slow-query records (threshold 0) name the call's trace and root
            # span, as its access line does.
            deadline = time.monotonic() + 10
            records = []
            while len(records) < 2 and time.monotonic() < deadline:
                records = [json.loads(line) for line in server.log_text().splitlines()
                           if '"slow query"' in line]
                time.sleep(0.05)
            self.assertEqual(len(records), 2, server.log_text())
            for record in records:
                self.assertEqual(record["route"], "/phenix.v1.Phenix/Query")
                self.assertEqual(record["trace_id"], query_trace, record)
                self.assertEqual(record["span_id"], root["spanId"], record)
            access = [json.loads(line) for line in server.log_text().splitlines()
                      if '"route":"/phenix.v1.Phenix/Query"' in line
                      and '"msg":"request"' in line]
            self.assertEqual([line["trace_id"] for line in access], [query_trace])
            self.assertEqual(access[0]["span_id"], root["spanId"])
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    phenixd_test.PHENIXD = os.path.abspath(sys.argv.pop(1))
    protoc, plugin = sys.argv.pop(1), sys.argv.pop(1)
    stub_dir = tempfile.mkdtemp(prefix="phenix-grpc-stubs-")
    try:
        generate_stubs(protoc, plugin, stub_dir)
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)
