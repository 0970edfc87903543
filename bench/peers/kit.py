# SPDX-License-Identifier: Apache-2.0
"""The data kit (shared/bench/README.md) as numpy arrays, the kit's filters as predicates, and
the recall computation every system in bench/peers/ is scored with.

Needs numpy only, so that it imports in every peer's virtual environment.
"""

import json
import os

import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        raise ValueError(f"{path} is empty")
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)[:, 1:]
    return np.ascontiguousarray(rows.view(dtype) if dtype != "<i4" else rows)


class Kit:
    """One kit set (OUT/NAME/) read for one metric. Everything is loaded lazily."""

    def __init__(self, folder, metric):
        self.folder = folder.rstrip("/")
        self.name = os.path.basename(self.folder)
        self.metric = metric
        self._cache = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def path(self, name):
        return os.path.join(self.folder, name)

    @property
    def base(self):
        return self._get("base", lambda: read_vecs(self.path("base.fvecs"), "<f4"))

    @property
    def queries(self):
        return self._get("queries", lambda: read_vecs(self.path("query.fvecs"), "<f4"))

    @property
    def gt(self):
        return self._get("gt", lambda: read_vecs(self.path(f"gt_{self.metric}.ivecs"), "<i4"))

    @property
    def gt_dist(self):
        return self._get("gt_dist", lambda: read_vecs(self.path(f"gt_{self.metric}.dist.fvecs"), "<f4"))

    @property
    def meta(self):
        def load():
            with open(self.path("meta.jsonl"), encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        return self._get("meta", load)

    @property
    def filters(self):
        def load():
            with open(self.path("filters.json"), encoding="utf-8") as f:
                return json.load(f)
        return self._get("filters", load)

    @property
    def filtered_gt(self):
        return self._get("filtered_gt", lambda: read_vecs(
            self.path(f"filtered_gt_{self.metric}.ivecs"), "<i4"))

    @property
    def filtered_gt_dist(self):
        return self._get("filtered_gt_dist", lambda: read_vecs(
            self.path(f"filtered_gt_{self.metric}.dist.fvecs"), "<f4"))

    @property
    def hybrid(self):
        def load():
            out = []
            with open(self.path("hybrid_gt.jsonl"), encoding="utf-8") as f:
                for line in f:
                    case = json.loads(line)
                    if case.get("metric") == self.metric:
                        out.append(case)
            return out
        return self._get("hybrid", load)

    def edges(self):
        """(src, dst, rel, weight) arrays of edges.tsv."""
        def load():
            data = np.loadtxt(self.path("edges.tsv"), delimiter="\t", skiprows=1,
                              dtype=np.float64, ndmin=2)
            return (data[:, 0].astype(np.int64), data[:, 1].astype(np.int64),
                    data[:, 2].astype(np.int64), data[:, 3])
        return self._get("edges", load)

    def filter_by_name(self, name):
        for idx, spec in enumerate(self.filters["filters"]):
            if spec["name"] == name:
                return idx, spec
        raise KeyError(name)

    # Distances as the ground truth files hold them: squared L2, or 1 - cos.
    def distances(self, query, rows):
        vecs = self.base[np.asarray(rows, dtype=np.int64)]
        if self.metric == "l2":
            diff = vecs - query
            return np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
        qn = query / max(np.linalg.norm(query), 1e-30)
        vn = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-30)
        return 1.0 - vn.astype(np.float64) @ qn.astype(np.float64)


def score(kit, query, returned, truth_ids, truth_dists, k):
    """(recall, tie-tolerant recall) of one answer. truth_ids may hold -1 padding (fewer matches
    than k): the denominator is then the number of real ids. A returned id counts for the
    tie-tolerant recall when its true distance is within the k-th true distance x (1 + 1e-6)."""
    truth = [int(t) for t in truth_ids[:k] if t >= 0]
    if not truth:
        return 1.0, 1.0
    want = set(truth)
    got = []
    seen = set()
    for rid in returned[:k]:
        rid = int(rid)
        if rid not in seen:
            seen.add(rid)
            got.append(rid)
    hits = sum(1 for rid in got if rid in want)
    kth = float(truth_dists[len(truth) - 1])
    valid = [rid for rid in got if 0 <= rid < len(kit.base)]
    tie_hits = 0
    if valid:
        dists = kit.distances(query, valid)
        bound = kth * (1 + 1e-6) + 1e-9
        tie_hits = int(np.sum(dists <= bound))
    denom = len(truth)
    return hits / denom, min(tie_hits, denom) / denom


# ---------------------------------------------------------------- filters

FIELDS = ("category", "year", "tenant", "bucket", "price", "active", "topic")
_OPS = {"$eq": "=", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


def _literal(value, style):
    if isinstance(value, bool):
        return {"sql": "true" if value else "false", "cypher": "true" if value else "false",
                "milvus": "true" if value else "false"}[style]
    if isinstance(value, str):
        return ("'" + value.replace("'", "''") + "'") if style != "milvus" else ('"' + value + '"')
    return repr(value)


def where_to_text(where, style, prefix=""):
    """The kit's Mongo-like `where` as a predicate in `style`: 'sql' (LanceDB / DataFusion),
    'cypher' (Kuzu, fields as prefix + name) or 'milvus' (Milvus boolean expression)."""
    if where is None:
        return ""
    parts = []
    for key, cond in where.items():
        if key in ("$and", "$or"):
            joined = f" {'AND' if key == '$and' else 'OR'} "
            if style == "milvus":
                joined = joined.lower()
            parts.append("(" + joined.join(where_to_text(c, style, prefix) for c in cond) + ")")
            continue
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        for op, value in cond.items():
            field = prefix + key
            if op in ("$in", "$nin"):
                items = ", ".join(_literal(v, style) for v in value)
                neg = "NOT " if op == "$nin" else ""
                if style == "milvus":
                    parts.append(f"{field} {'not in' if neg else 'in'} [{items}]")
                elif style == "cypher":
                    parts.append(f"{neg}{field} IN [{items}]")
                else:
                    parts.append(f"{field} {neg}IN ({items})")
                continue
            sym = _OPS[op]
            if style == "milvus" and sym == "=":
                sym = "=="
            if style == "cypher" and sym == "!=":
                sym = "<>"
            parts.append(f"{field} {sym} {_literal(value, style)}")
    joiner = " and " if style == "milvus" else " AND "
    return joiner.join(parts)


def where_to_chroma(where):
    """Chroma's `where` dict: Mongo-like already, but one field per dict ($and of several)."""
    if where is None:
        return None
    items = []
    for key, cond in where.items():
        if key in ("$and", "$or"):
            items.append({key: [where_to_chroma(c) for c in cond]})
        else:
            items.append({key: cond if isinstance(cond, dict) else {"$eq": cond}})
    return items[0] if len(items) == 1 else {"$and": items}


def matches(doc, where):
    """Evaluates the kit's `where` on one meta.jsonl document (for checking answers)."""
    if where is None:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(matches(doc, c) for c in cond):
                return False
            continue
        if key == "$or":
            if not any(matches(doc, c) for c in cond):
                return False
            continue
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        value = doc.get(key)
        for op, want in cond.items():
            ok = {"$eq": lambda: value == want, "$ne": lambda: value != want,
                  "$lt": lambda: value < want, "$lte": lambda: value <= want,
                  "$gt": lambda: value > want, "$gte": lambda: value >= want,
                  "$in": lambda: value in want, "$nin": lambda: value not in want}[op]()
            if not ok:
                return False
    return True
