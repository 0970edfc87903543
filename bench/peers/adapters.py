# SPDX-License-Identifier: Apache-2.0
"""One adapter per peer database for bench/peers/peer_worker.py.

Every adapter loads a kit set with the peer's recommended bulk path and an HNSW index with M=16,
ef_construction=200 where the peer has one (its own names for them are in `index`), and answers
plain, filtered and (Kuzu) graph + vector queries. Each imports its package when constructed, so
this module imports in every peer's virtual environment. Work that is not the peer's (turning
the kit into the peer's input format, converting query vectors) happens before the timed parts:
prepare() and prepare_query().

A peer that cannot run a measurement raises Unsupported with the reason.
"""

import glob
import os
import shutil
import time

import numpy as np

from kit import FIELDS, where_to_chroma, where_to_text

M = 16
EF_CONSTRUCTION = 200
COLLECTION = "kit"


class Unsupported(Exception):
    """The peer cannot run this measurement; the message says why."""


def _remove(path):
    for item in glob.glob(path + "*"):
        if os.path.isdir(item):
            shutil.rmtree(item)
        else:
            os.remove(item)


def _meta_columns(kit):
    """The metadata fields as column lists (meta.jsonl line i = row i)."""
    meta = kit.meta
    return {field: [doc[field] for doc in meta] for field in FIELDS}


def _arrow_table(kit, vector_name):
    import pyarrow as pa

    base = kit.base
    n, dim = base.shape
    columns = {"id": pa.array(np.arange(n, dtype=np.int64)),
               vector_name: pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1)), dim)}
    for field, values in _meta_columns(kit).items():
        columns[field] = pa.array(values)
    return pa.table(columns)


def _poll(done, timeout_s, what, interval_s=0.05):
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"{what}: not done after {timeout_s} s")
        time.sleep(interval_s)


# ---------------------------------------------------------------------------------- Kuzu

class KuzuPeer:
    """Kuzu: node table with FLOAT[dim] vectors and the metadata columns, COPY FROM Parquet,
    the vector extension's HNSW index (CREATE_VECTOR_INDEX), the kit's edges as a rel table
    (COPY FROM the TSV). Queries are prepared statements; filtered search runs on a projected
    graph (PROJECT_GRAPH with the filter as the node predicate), the documented pre-filter."""

    name = "kuzu"

    def __init__(self, workdir, kit, args):
        import kuzu

        self.kuzu = kuzu
        self.version = kuzu.__version__
        self.workdir = workdir
        self.kit = kit
        self.args = args
        self.db = None
        self.conn = None
        self.parquet = os.path.join(workdir, "nodes.parquet")
        self.statements = {}
        self.ef = 64
        self.dim = kit.base.shape[1]
        kuzu_metric = "l2" if kit.metric == "l2" else "cosine"
        self.index = {"type": "HNSW (vector extension)", "mu": M, "ml": 2 * M,
                      "efc": EF_CONSTRUCTION, "metric": kuzu_metric,
                      "note": "mu/ml: upper/lower layer degree (hnswlib's M and 2*M)"}

    def prepare(self):
        import pyarrow.parquet as pq

        pq.write_table(_arrow_table(self.kit, "vec"), self.parquet)

    def _schema(self):
        cols = ", ".join(f"{f} {t}" for f, t in (
            ("category", "INT64"), ("year", "INT64"), ("tenant", "STRING"), ("bucket", "INT64"),
            ("price", "DOUBLE"), ("active", "BOOLEAN"), ("topic", "INT64")))
        return f"CREATE NODE TABLE Doc(id INT64 PRIMARY KEY, vec FLOAT[{self.dim}], {cols})"

    def load(self):
        path = os.path.join(self.workdir, "kuzu.db")
        _remove(path)
        self.db = self.kuzu.Database(path)
        self.conn = self.kuzu.Connection(self.db)
        try:
            self.conn.execute("LOAD vector")
        except RuntimeError:
            self.conn.execute("INSTALL vector")
            self.conn.execute("LOAD vector")
        self.conn.execute(self._schema())
        self.conn.execute("CREATE REL TABLE Link(FROM Doc TO Doc, rel INT64, weight DOUBLE)")
        start = time.perf_counter()
        self.conn.execute(f"COPY Doc FROM '{self.parquet}'")
        inserted = time.perf_counter()
        self.conn.execute(
            f"CALL CREATE_VECTOR_INDEX('Doc', 'vidx', 'vec', mu := {M}, ml := {2 * M}, "
            f"efc := {EF_CONSTRUCTION}, metric := '{self.index['metric']}')")
        indexed = time.perf_counter()
        # One query thread from here on.
        self.conn.set_max_threads_for_exec(1)
        return {"bulk_path": "COPY Doc FROM Parquet (written before the timer)",
                "insert_seconds": inserted - start, "index_seconds": indexed - inserted}

    def load_edges(self):
        edges_path = self.kit.path("edges.tsv")
        self.conn.set_max_threads_for_exec(0)
        start = time.perf_counter()
        self.conn.execute(
            f"COPY Link FROM '{edges_path}' (file_format='csv', header=true, delim='\t')")
        seconds = time.perf_counter() - start
        self.conn.set_max_threads_for_exec(1)
        count = self.conn.execute("MATCH ()-[r:Link]->() RETURN count(*)").get_next()[0]
        return {"bulk_path": "COPY Link FROM the kit's edges.tsv", "edges": int(count),
                "seconds": seconds}

    def _prepared(self, key, text):
        if key not in self.statements:
            self.statements[key] = self.conn.prepare(text)
        return self.statements[key]

    def prepare_query(self, query):
        return [float(x) for x in query]

    def set_ef(self, ef):
        self.ef = ef

    def search(self, payload, k):
        stmt = self._prepared(("search", self.ef, k),
                              f"CALL QUERY_VECTOR_INDEX('Doc', 'vidx', $q, {k}, efs := {self.ef}) "
                              "RETURN node.id, distance ORDER BY distance")
        result = self.conn.execute(stmt, {"q": payload})
        return [row[0] for row in result.get_all()]

    def prepare_filter(self, spec):
        graph = "f_" + "".join(c if c.isalnum() else "_" for c in spec["name"])
        predicate = where_to_text(spec["where"], "cypher", prefix="n.").replace("'", "\\'")
        self.conn.execute(f"CALL PROJECT_GRAPH('{graph}', {{'Doc': '{predicate}'}}, [])")
        return graph

    def filtered_search(self, payload, handle, k):
        stmt = self._prepared(("filtered", handle, self.ef, k),
                              f"CALL QUERY_VECTOR_INDEX('{handle}', 'vidx', $q, {k}, "
                              f"efs := {self.ef}) RETURN node.id, distance ORDER BY distance")
        result = self.conn.execute(stmt, {"q": payload})
        return [row[0] for row in result.get_all()]

    def hybrid(self, payload, case, k):
        where = where_to_text(case.get("where"), "cypher", prefix="b.")
        hops = int(case.get("hops", 2))
        if case.get("direction", "out") != "out":
            raise Unsupported("only out-edge hybrid queries are implemented")
        if self.kit.metric == "l2":
            dist = f"array_squared_distance(b.vec, CAST($q, 'FLOAT[{self.dim}]'))"
            order = "dist"
        else:
            dist = f"array_cosine_similarity(b.vec, CAST($q, 'FLOAT[{self.dim}]'))"
            order = "dist DESC"
        text = (f"MATCH (a:Doc)-[:Link*1..{hops}]->(b:Doc) WHERE a.id = $seed AND b.id <> $seed"
                + (f" AND {where}" if where else "")
                + f" WITH DISTINCT b RETURN b.id, {dist} AS dist ORDER BY {order} LIMIT {k}")
        stmt = self._prepared(("hybrid", text), text)
        result = self.conn.execute(stmt, {"seed": int(case["seed"]), "q": payload})
        return [row[0] for row in result.get_all()]

    def hybrid_text(self):
        return ("MATCH (a:Doc)-[:Link*1..2]->(b:Doc) WHERE a.id = $seed AND b.id <> $seed "
                "[AND b.<filter>] WITH DISTINCT b RETURN b.id, array_squared_distance(b.vec, $q) "
                "AS dist ORDER BY dist LIMIT 10")

    def close(self):
        self.statements.clear()
        self.conn = None
        self.db = None


# ---------------------------------------------------------------------------------- LanceDB

class LanceDbPeer:
    """LanceDB (embedded, local folder): create_table from an Arrow table, then an
    IVF_HNSW_FLAT index with one partition (= one HNSW graph over the full-precision vectors;
    LanceDB has no plain HNSW index type), m=16, ef_construction=200. Filtered search uses
    prefilter=True with scalar indexes (BTREE / BITMAP) created after the load."""

    name = "lancedb"

    def __init__(self, workdir, kit, args):
        import lancedb

        self.lancedb = lancedb
        self.version = lancedb.__version__
        self.workdir = workdir
        self.kit = kit
        self.partitions = args.lance_partitions
        self.index_type = args.lance_index
        self.metric = "l2" if kit.metric == "l2" else "cosine"
        self.index = {"type": self.index_type, "num_partitions": self.partitions, "m": M,
                      "ef_construction": EF_CONSTRUCTION, "metric": self.metric,
                      "query": "nprobes = num_partitions, ef = the sweep's ef"}
        self.table = None
        self.data = None
        self.ef = 64

    def prepare(self):
        self.data = _arrow_table(self.kit, "vector")

    def load(self):
        path = os.path.join(self.workdir, "lancedb")
        _remove(path)
        db = self.lancedb.connect(path)
        start = time.perf_counter()
        self.table = db.create_table(COLLECTION, data=self.data, mode="overwrite")
        inserted = time.perf_counter()
        self.table.create_index(metric=self.metric, vector_column_name="vector",
                                index_type=self.index_type, num_partitions=self.partitions,
                                m=M, ef_construction=EF_CONSTRUCTION)
        name = self.table.list_indices()[0].name

        def complete():
            stats = self.table.index_stats(name)
            return stats is not None and stats.num_unindexed_rows == 0

        _poll(complete, 3600, "LanceDB index")
        indexed = time.perf_counter()
        self.data = None
        return {"bulk_path": "create_table(data=Arrow table)",
                "insert_seconds": inserted - start, "index_seconds": indexed - inserted}

    def after_load(self):
        start = time.perf_counter()
        for field, kind in (("bucket", "BTREE"), ("tenant", "BITMAP"), ("category", "BITMAP"),
                            ("year", "BTREE"), ("price", "BTREE"), ("active", "BITMAP"),
                            ("topic", "BITMAP")):
            self.table.create_scalar_index(field, index_type=kind)
        return {"scalar_index_seconds": time.perf_counter() - start,
                "scalar_indexes": "BTREE bucket/year/price, BITMAP tenant/category/active/topic"}

    def prepare_query(self, query):
        return np.asarray(query, dtype=np.float32)

    def set_ef(self, ef):
        self.ef = ef

    def _query(self, payload, k):
        return (self.table.search(payload, vector_column_name="vector").limit(k)
                .nprobes(self.partitions).ef(self.ef).select(["id"]))

    def search(self, payload, k):
        return self._query(payload, k).to_arrow().column("id").to_pylist()

    def prepare_filter(self, spec):
        return where_to_text(spec["where"], "sql")

    def filtered_search(self, payload, handle, k):
        return (self._query(payload, k).where(handle, prefilter=True).to_arrow()
                .column("id").to_pylist())

    def hybrid(self, payload, case, k):
        raise Unsupported("LanceDB has no graph: a 2-hop neighbourhood cannot be expressed")

    def close(self):
        self.table = None


# ---------------------------------------------------------------------------------- Chroma

class ChromaPeer:
    """Chroma (embedded PersistentClient): collection.add in batches of the client's maximum
    batch size, HNSW configured with max_neighbors=16 (M), ef_construction=200; ef_search is
    changed with collection.modify between sweep points. The index is maintained during add."""

    name = "chroma"

    def __init__(self, workdir, kit, args):
        import chromadb

        self.chromadb = chromadb
        self.version = chromadb.__version__
        self.workdir = workdir
        self.kit = kit
        self.space = "l2" if kit.metric == "l2" else "cosine"
        self.index = {"type": "HNSW (Chroma's hnswlib fork)", "max_neighbors": M,
                      "ef_construction": EF_CONSTRUCTION, "space": self.space}
        self.coll = None
        self.client = None
        self.path = os.path.join(workdir, "chroma")
        self.ef = 64

    def prepare(self):
        meta = self.kit.meta
        base = self.kit.base
        n = len(base)
        rows = [{f: doc[f] for f in FIELDS} for doc in meta[:n]]
        self.rows = (n, [str(i) for i in range(n)], rows)

    def load(self):
        _remove(self.path)
        self.client = client = self._client()
        self.coll = client.create_collection(
            COLLECTION, embedding_function=None,
            configuration={"hnsw": {"space": self.space, "max_neighbors": M,
                                    "ef_construction": EF_CONSTRUCTION, "ef_search": self.ef}})
        batch = client.get_max_batch_size()
        n, ids, metas = self.rows
        base = self.kit.base
        start = time.perf_counter()
        for first in range(0, n, batch):
            last = min(n, first + batch)
            self.coll.add(ids=ids[first:last], embeddings=base[first:last],
                          metadatas=metas[first:last])
        inserted = time.perf_counter()
        count = self.coll.count()
        if count != n:
            raise RuntimeError(f"Chroma holds {count} of {n} rows after add")
        self.rows = None
        return {"bulk_path": f"collection.add, batches of {batch}",
                "insert_seconds": inserted - start, "index_seconds": 0.0,
                "note": "the HNSW index is built during add"}

    def prepare_query(self, query):
        return [np.asarray(query, dtype=np.float32)]

    def _client(self):
        from chromadb.config import Settings

        return self.chromadb.PersistentClient(path=self.path,
                                              settings=Settings(anonymized_telemetry=False))

    def set_ef(self, ef):
        # modify() stores ef_search, but an index already open in this process keeps the old
        # value: reopen the client so that the index loads with the new one.
        if ef != self.ef:
            self.coll.modify(configuration={"hnsw": {"ef_search": int(ef)}})
            self.client.clear_system_cache()
            self.client = self._client()
            self.coll = self.client.get_collection(COLLECTION, embedding_function=None)
            self.ef = ef

    def search(self, payload, k):
        return [int(x) for x in self.coll.query(query_embeddings=payload, n_results=k,
                                                include=[])["ids"][0]]

    def prepare_filter(self, spec):
        return where_to_chroma(spec["where"])

    def filtered_search(self, payload, handle, k):
        return [int(x) for x in self.coll.query(query_embeddings=payload, n_results=k,
                                                where=handle, include=[])["ids"][0]]

    def hybrid(self, payload, case, k):
        raise Unsupported("Chroma has no graph: a 2-hop neighbourhood cannot be expressed")

    def close(self):
        self.coll = None


# ---------------------------------------------------------------------------------- Milvus Lite

class MilvusLitePeer:
    """Milvus Lite (pymilvus MilvusClient on a local file, served by the milvus-lite package):
    a schema with the vector and the metadata fields, insert in batches (Lite
    has no bulk_insert: that needs object storage), flush, an HNSW index (M=16,
    efConstruction=200), load; waits until describe_index reports every row indexed. Scalar
    INVERTED indexes on the filter fields are created after the load."""

    name = "milvus-lite"
    BATCH = 10000

    def __init__(self, workdir, kit, args):
        import pymilvus

        try:
            import milvus_lite
            lite_version = milvus_lite.__version__
        except (ImportError, AttributeError):
            lite_version = "?"
        self.pymilvus = pymilvus
        self.version = f"pymilvus {pymilvus.__version__}, milvus-lite {lite_version}"
        self.workdir = workdir
        self.kit = kit
        self.metric = "L2" if kit.metric == "l2" else "COSINE"
        self.index = {"type": "HNSW", "M": M, "efConstruction": EF_CONSTRUCTION,
                      "metric_type": self.metric}
        self.client = None
        self.rows = None
        self.set_ef(64)

    def prepare(self):
        base = self.kit.base
        cols = _meta_columns(self.kit)
        self.rows = [dict({"id": i, "vec": base[i]}, **{f: cols[f][i] for f in FIELDS})
                     for i in range(len(base))]

    def load(self):
        from pymilvus import DataType, MilvusClient

        folder = os.path.join(self.workdir, "milvus")
        _remove(folder)
        os.makedirs(folder)
        self.client = MilvusClient(os.path.join(folder, "milvus.db"))
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=int(self.kit.base.shape[1]))
        for field, kind in (("category", DataType.INT64), ("year", DataType.INT64),
                            ("bucket", DataType.INT64), ("price", DataType.DOUBLE),
                            ("active", DataType.BOOL), ("topic", DataType.INT64)):
            schema.add_field(field, kind)
        schema.add_field("tenant", DataType.VARCHAR, max_length=16)
        self.client.create_collection(COLLECTION, schema=schema)
        start = time.perf_counter()
        for first in range(0, len(self.rows), self.BATCH):
            self.client.insert(COLLECTION, self.rows[first:first + self.BATCH])
        self.client.flush(COLLECTION)
        inserted = time.perf_counter()
        params = self.client.prepare_index_params()
        params.add_index(field_name="vec", index_type="HNSW", metric_type=self.metric,
                         params={"M": M, "efConstruction": EF_CONSTRUCTION})
        try:
            self.client.create_index(COLLECTION, params)
        except Exception as e:  # noqa: BLE001 - pymilvus retries a slow call; the retry finds
            if "already exists" not in str(e):  # the index the first call created
                raise
        n = len(self.rows)

        def complete():
            info = self.client.describe_index(COLLECTION, "vec")
            return info.get("indexed_rows", 0) >= n and info.get("pending_index_rows", 0) == 0

        _poll(complete, 3600, "Milvus Lite index", interval_s=0.2)
        self.client.load_collection(COLLECTION)
        indexed = time.perf_counter()
        info = self.client.describe_index(COLLECTION, "vec")
        self.index["reported"] = {k: v for k, v in info.items() if k in ("index_type", "state")}
        self.rows = None
        return {"bulk_path": f"MilvusClient.insert, batches of {self.BATCH}, then flush",
                "insert_seconds": inserted - start, "index_seconds": indexed - inserted}

    def after_load(self):
        start = time.perf_counter()
        self.client.release_collection(COLLECTION)
        params = self.client.prepare_index_params()
        for field in ("bucket", "tenant", "category", "year", "price", "active", "topic"):
            params.add_index(field_name=field, index_type="INVERTED")
        self.client.create_index(COLLECTION, params)
        self.client.load_collection(COLLECTION)
        return {"scalar_index_seconds": time.perf_counter() - start,
                "scalar_indexes": "INVERTED on the seven metadata fields"}

    def prepare_query(self, query):
        return [np.asarray(query, dtype=np.float32).tolist()]

    def set_ef(self, ef):
        self.params = {"metric_type": self.metric, "params": {"ef": max(int(ef), 1)}}

    def search(self, payload, k):
        hits = self.client.search(COLLECTION, data=payload, limit=k, search_params=self.params,
                                  output_fields=["id"], anns_field="vec")
        return [hit["id"] for hit in hits[0]]

    def prepare_filter(self, spec):
        return where_to_text(spec["where"], "milvus")

    def filtered_search(self, payload, handle, k):
        hits = self.client.search(COLLECTION, data=payload, limit=k, filter=handle,
                                  search_params=self.params, output_fields=["id"],
                                  anns_field="vec")
        return [hit["id"] for hit in hits[0]]

    def hybrid(self, payload, case, k):
        raise Unsupported("Milvus Lite has no graph: a 2-hop neighbourhood cannot be expressed")

    def close(self):
        if self.client is not None:
            self.client.close()
        self.client = None


ADAPTERS = {cls.name: cls for cls in (KuzuPeer, LanceDbPeer, ChromaPeer, MilvusLitePeer)}
