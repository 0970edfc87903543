#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A new user's session on the Debian package catalog, end to end through the `phenix` shell,
beside hnswlib on the same vectors in the same run (bench/real/README.md).

One long-running `phenix --data DB --format json` is fed statements through a pipe, so every
latency is what a program talking to the shell sees (writing the statement, the shell parsing,
planning and running it, printing the JSON row array, reading it back), without process start;
the shell's own `\\timing` (stderr) is recorded beside it. Phases:

  load      CREATE COLLECTION + COPY (rate), then poll `SHOW INDEXES ON pkgs` until the graph holds every row
  knn       unfiltered top-10: latency p50/p99, recall@10 at the default ef and over an ef sweep;
            hnswlib (M=16, ef_construction=200, same queries, same recall code) beside it
  filter    one-field equality filters (~10% and ~1%) without, then with a metadata index
  dups      queries near the largest identical-vector groups: strict and tie-tolerant recall,
            at the default ef, at ef 1000, and again after `REINDEX`
  hybrid    MATCH (a)<-[*1..2]-(b) from hubs ORDER BY distance LIMIT 10 against exact answers;
            count(*) over the reached sets; a numpy/CSR baseline in the same run
  explain   EXPLAIN and EXPLAIN ANALYZE of each kind of statement
  recopy    the same COPY a second time (a user re-running a load script): time, index size
  probes    what a new user meets next (each in its own shell process): zero vectors, dangling
            edge targets, hyphenated labels, the L2 operator on a cosine collection, ...

Writes JSON lines (--out) and a Markdown summary (--markdown). Debian's /usr/bin/python3,
numpy and python3-hnswlib.
"""

import argparse
import json
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

PHASES = ("load", "knn", "filter", "dups", "hybrid", "explain", "probes", "recopy")


def log(msg):
    print(f"[scenario] {msg}", file=sys.stderr, flush=True)


def read_vecs(path, dtype="<f4"):
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        return np.zeros((0, 0), dtype=dtype)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(dtype)


def vector_literal(v):
    return "[" + ",".join(format(x, ".9g") for x in v.tolist()) + "]"


def pct(values, p):
    if not values:
        return None
    arr = np.sort(np.asarray(values, dtype=np.float64))
    return float(arr[min(len(arr) - 1, int(math.ceil(p / 100 * len(arr))) - 1)])


def summary_ms(values):
    return {"n": len(values), "p50_ms": pct(values, 50), "p99_ms": pct(values, 99),
            "mean_ms": float(np.mean(values)) if values else None}


class ShellError(RuntimeError):
    pass


class Shell:
    """One `phenix --format json` process fed through a pipe."""

    def __init__(self, binary, db, extra_args=()):
        self.argv = [binary, "--data", db, "--format", "json", *extra_args]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.out_q = queue.Queue()
        self.err_q = queue.Queue()
        self.stderr_lines = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out_q, None),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err_q,
                                                  self.stderr_lines), daemon=True).start()
        self._send("\\timing on")
        self._expect_line(timeout=60)  # {"timing":true}

    @staticmethod
    def _pump(stream, q, keep):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if keep is not None:
                keep.append(line)
            q.put(line)
        q.put(None)

    def _send(self, text):
        try:
            self.proc.stdin.write((text + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise ShellError(self._death_note())

    def _death_note(self):
        time.sleep(0.2)
        rc = self.proc.poll()
        tail = "\n".join(l for l in self.stderr_lines if not l.startswith("Time: "))[-2000:]
        return f"shell exited (status {rc}): {tail}"

    def _expect_line(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.out_q.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise ShellError(self._death_note())
                if time.monotonic() > deadline:
                    raise ShellError(f"no answer within {timeout} s")
                continue
            if line is None:
                raise ShellError(self._death_note())
            return line

    def _timing(self, timeout=10):
        """The next `Time: x ms` the shell printed on stderr."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.err_q.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return None
                continue
            if line is None:
                return None
            if line.startswith("Time: "):
                return float(line.split()[1])
        return None

    def rows(self, statement, timeout=600):
        """Runs a statement that prints rows; returns (rows, client ms, shell ms)."""
        t0 = time.perf_counter()
        self._send(statement if statement.rstrip().endswith(";") else statement + ";")
        line = self._expect_line(timeout)
        client_ms = (time.perf_counter() - t0) * 1e3
        shell_ms = self._timing()
        try:
            return json.loads(line), client_ms, shell_ms
        except json.JSONDecodeError:
            raise ShellError(f"not JSON: {line[:300]}")

    @staticmethod
    def _is_sentinel(doc):
        """SHOW TIMESTAMP's JSON row, the sentinel that ends a run's output."""
        return (isinstance(doc, list) and len(doc) == 1 and isinstance(doc[0], dict)
                and set(doc[0]) == {"timestamp"})

    def run(self, statement, timeout=3600):
        """Runs a statement (COPY, CREATE, REINDEX, ...) and everything it prints, up to a
        SHOW TIMESTAMP sentinel: (client ms, shell ms, printed JSON lines)."""
        t0 = time.perf_counter()
        self._send(statement if statement.rstrip().endswith(";") else statement + ";")
        self._send("SHOW TIMESTAMP;")  # always prints one JSON line: the sentinel
        printed = []
        while True:
            line = self._expect_line(timeout)
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                doc = line
            if self._is_sentinel(doc):
                break
            printed.append(doc)
        client_ms = (time.perf_counter() - t0) * 1e3
        shell_ms = self._timing(timeout=10)
        self._timing(timeout=10)  # the sentinel's own
        return client_ms, shell_ms, printed

    def vector_index(self, collection="pkgs"):
        """The vector index's row of SHOW INDEXES as the numbers the older `index` command
        printed: nodes, live_nodes, unindexed_rows (and state, details)."""
        rows, _, _ = self.rows(f"SHOW INDEXES ON {collection}")
        for row in rows:
            if row.get("type") != "hnsw":
                continue
            info = {"state": row.get("state"), "details": row.get("details")}
            m = re.search(r"nodes (\d+) \((\d+) live\), (\d+) changes pending",
                          row.get("details") or "")
            if m:
                info.update(nodes=int(m.group(1)), live_nodes=int(m.group(2)),
                            unindexed_rows=int(m.group(3)))
            return info
        raise ShellError(f"SHOW INDEXES ON {collection}: no vector index row")

    def metadata_indexes(self, collection="pkgs"):
        """The metadata indexes' rows of SHOW INDEXES, with `path` without `metadata.`."""
        rows, _, _ = self.rows(f"SHOW INDEXES ON {collection}")
        out = []
        for row in rows:
            if row.get("type") == "metadata":
                row = dict(row)
                row["path"] = row["path"].removeprefix("metadata.")
                out.append(row)
        return out

    def degree(self, collection, entity_id, direction="out"):
        """SELECT * FROM degree(...): the number."""
        quoted = entity_id.replace("'", "''")
        rows, _, _ = self.rows(f"SELECT * FROM degree('{collection}', '{quoted}', "
                               f"direction = '{direction}')")
        return rows[0].get("degree") if rows else None

    def close(self):
        try:
            self._send("\\q")
        except ShellError:
            pass
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def one_shot(binary, db, commands, fmt="table", timeout=600):
    """A separate shell process (-c ...): its status, stdout and stderr."""
    argv = [binary, "--data", db, "--format", fmt]
    for c in commands:
        argv += ["-c", c]
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    return {"argv_commands": commands, "rc": p.returncode,
            "stdout": p.stdout.decode("utf-8", errors="replace")[-3000:],
            "stderr": p.stderr.decode("utf-8", errors="replace")[-3000:],
            "seconds": round(time.perf_counter() - t0, 3)}


# ---------------------------------------------------------------------------------------------


class Kit:
    def __init__(self, path):
        self.path = path
        self.base = read_vecs(os.path.join(path, "base.fvecs"))
        self.queries = read_vecs(os.path.join(path, "query.fvecs"))
        self.gt = read_vecs(os.path.join(path, "gt_cos.ivecs"), "<i4")
        self.gt_d = read_vecs(os.path.join(path, "gt_cos.dist.fvecs"))
        with open(os.path.join(path, "ids.txt"), encoding="utf-8") as f:
            self.ids = f.read().split("\n")[:len(self.base)]
        self.row = {name: i for i, name in enumerate(self.ids)}
        with open(os.path.join(path, "queries.jsonl"), encoding="utf-8") as f:
            self.qinfo = [json.loads(l) for l in f]
        with open(os.path.join(path, "filters.json"), encoding="utf-8") as f:
            self.filters = json.load(f)
        self.fgt = read_vecs(os.path.join(path, "filtered_gt_cos.ivecs"), "<i4")
        self.fgt_d = read_vecs(os.path.join(path, "filtered_gt_cos.dist.fvecs"))
        with open(os.path.join(path, "hybrid_gt.jsonl"), encoding="utf-8") as f:
            self.hybrid = [json.loads(l) for l in f]
        with open(os.path.join(path, "stats.json"), encoding="utf-8") as f:
            self.stats = json.load(f)
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)
        b = self.base.astype(np.float64)
        self.norms = np.sqrt((b * b).sum(axis=1))
        self.sections = None

    def load_descriptions(self):
        if getattr(self, "descriptions", None) is None:
            self.descriptions = []
            with open(os.path.join(self.path, "catalog.jsonl"), encoding="utf-8") as f:
                for line in f:
                    self.descriptions.append(json.loads(line)["metadata"].get("description"))
        return self.descriptions

    def load_sections(self):
        if self.sections is None:
            self.sections = []
            with open(os.path.join(self.path, "catalog.jsonl"), encoding="utf-8") as f:
                for line in f:
                    self.sections.append(json.loads(line)["metadata"].get("section"))
        return self.sections

    def true_dist(self, q, rows):
        q = q.astype(np.float64)
        qn = math.sqrt(float((q * q).sum()))
        rows = np.asarray(rows, dtype=np.int64)
        dots = (self.base[rows].astype(np.float64) * q).sum(axis=1)
        den = self.norms[rows] * qn
        return np.where(den > 0, 1.0 - dots / np.where(den > 0, den, 1.0), 1.0)

    def recall(self, q, returned_rows, gt_rows, gt_dists, k=10):
        """(strict, tie-tolerant) recall@k. Tie-tolerant: a returned row counts when its true
        distance is within the k-th true distance (x (1 + 1e-6), + 1e-6 for float32 rounding
        around 0), as ann-benchmarks counts it. Same code for Phenix and hnswlib."""
        gt_rows = [int(r) for r in gt_rows[:k] if r >= 0]
        if not gt_rows:
            return 1.0, 1.0
        denom = len(gt_rows)
        ret = [r for r in returned_rows[:k] if r is not None and r >= 0]
        strict = len(set(ret) & set(gt_rows)) / denom
        if not ret:
            return strict, 0.0
        kth = float(gt_dists[len(gt_rows) - 1])
        d = self.true_dist(q, ret)
        tol = min(denom, int(np.sum(d <= kth * (1 + 1e-6) + 1e-6))) / denom
        return strict, tol


def knn_sql(q, ef=None, where=None, strategy=None, select="id, vector <=> {q} AS distance"):
    lit = vector_literal(q)
    text = f"SELECT {select.format(q=lit)} FROM pkgs"
    if where:
        text += f" WHERE {where}"
    text += " ORDER BY distance LIMIT 10"
    opts = []
    if ef:
        opts.append(f"ef = {ef}")
    if strategy:
        opts.append(f"strategy = '{strategy}'")
    if opts:
        text += " WITH (" + ", ".join(opts) + ")"
    return text


def interpolate_latency(curve, target):
    """Latency at a recall on a (recall, latency) curve sorted by ef; None when never reached."""
    pts = sorted(curve)
    for (r0, l0), (r1, l1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            return l0 + (l1 - l0) * (target - r0) / (r1 - r0)
    for r, l in pts:
        if r >= target:
            return l
    return None


class Scenario:
    def __init__(self, args):
        self.args = args
        self.kit = Kit(args.data)
        self.records = []
        self.notes = []  # findings: (severity, text)
        self.shell = None
        self.out = open(args.out, "w", encoding="utf-8")
        self.hnsw = None

    def emit(self, phase, **fields):
        rec = {"phase": phase, **fields}
        self.records.append(rec)
        self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.out.flush()
        short = {k: v for k, v in rec.items() if not isinstance(v, (list, dict)) or k == "latency"}
        log(json.dumps(short, ensure_ascii=False)[:400])

    def note(self, severity, text):
        self.notes.append((severity, text))
        self.emit("finding", severity=severity, text=text)

    def open_shell(self):
        self.shell = Shell(self.args.shell, self.args.db)

    def close_shell(self):
        if self.shell is not None:
            self.shell.close()
            self.shell = None

    # -- hnswlib ----------------------------------------------------------------------------

    def hnswlib_index(self):
        if self.hnsw is None:
            import hnswlib
            t0 = time.perf_counter()
            idx = hnswlib.Index(space="cosine", dim=self.kit.base.shape[1])
            idx.init_index(max_elements=len(self.kit.base), M=16, ef_construction=200,
                           random_seed=100)
            idx.set_num_threads(self.args.threads)
            idx.add_items(self.kit.base, np.arange(len(self.kit.base)))
            idx.set_num_threads(1)
            self.hnsw = idx
            self.hnsw_build_s = time.perf_counter() - t0
        return self.hnsw

    def hnswlib_run(self, qids, ef):
        idx = self.hnswlib_index()
        idx.set_ef(max(ef, 10))
        lat, strict, tol = [], [], []
        for qid in qids:
            q = self.kit.queries[qid]
            t0 = time.perf_counter()
            labels, _ = idx.knn_query(q, k=10)
            lat.append((time.perf_counter() - t0) * 1e3)
            s, t = self.kit.recall(q, [int(x) for x in labels[0]], self.kit.gt[qid],
                                   self.kit.gt_d[qid])
            strict.append(s)
            tol.append(t)
        return lat, float(np.mean(strict)), float(np.mean(tol))

    # -- phases -----------------------------------------------------------------------------

    def phase_load(self):
        db = self.args.db
        if os.path.exists(db):
            shutil.rmtree(db)
        self.open_shell()
        catalog = os.path.abspath(os.path.join(self.args.data, "catalog.jsonl"))
        self.shell.run("CREATE COLLECTION pkgs (DIMENSION 128, METRIC cosine);")
        t0 = time.perf_counter()
        copy_ms, _, _ = self.shell.run(f"COPY pkgs FROM '{catalog}';")
        copy_s = copy_ms / 1e3
        n = len(self.kit.base)
        # What a user who queries at once sees: the rows the graph has not absorbed yet are
        # scanned exactly and merged.
        backlog = self.shell.vector_index().get("unindexed_rows")
        early = self.run_knn([q["qid"] for q in self.kit.qinfo if q["kind"] == "perturbed"][:10])
        early.pop("per_query_recall")
        self.emit("knn_right_after_copy", unindexed_rows_before=backlog, queries=10, **early)
        polls = []
        info = None
        while True:
            info = self.shell.vector_index()
            polls.append(info)
            if info.get("unindexed_rows") == 0 and info.get("live_nodes", 0) >= n:
                break
            if time.perf_counter() - t0 > self.args.index_timeout:
                self.note("bug", f"vector index not complete {self.args.index_timeout} s after "
                                 f"COPY began: {json.dumps(info)}")
                break
            time.sleep(0.25)
        index_s = time.perf_counter() - t0
        rows, _, _ = self.shell.rows("SELECT count(*) FROM pkgs")
        count = rows[0].get("count") if rows else None
        if count != n:
            self.note("bug", f"SELECT count(*) after COPY = {count}, expected {n}")
        self.emit("load", entities=n, edges=self.kit.stats["edges"], copy_seconds=round(copy_s, 2),
                  copy_rate_per_s=round(n / copy_s), index_complete_seconds=round(index_s, 2),
                  index_rate_per_s=round(n / index_s), count=count, index_info=info,
                  polls=len(polls))
        if self.args.hnswlib:
            self.hnswlib_index()
            self.emit("load_hnswlib", build_seconds=round(self.hnsw_build_s, 2),
                      rate_per_s=round(n / self.hnsw_build_s), threads=self.args.threads,
                      ratio_phenix_index_complete_to_hnswlib=round(index_s / self.hnsw_build_s, 2))
        # Spot-check the graph: in-degrees of the top hubs against the kit's edges.
        for hub in self.kit.stats["top_hubs_by_in_degree"][:3]:
            d = self.shell.degree("pkgs", hub["id"], "in")
            if d != hub["in_edges"]:
                self.note("bug", f"degree('pkgs', '{hub['id']}', direction = 'in') = {d}, the file has "
                                 f"{hub['in_edges']} edges into it")

    def ensure_shell(self):
        if self.shell is None:
            self.open_shell()
            t0 = time.perf_counter()
            while True:
                info = self.shell.vector_index()
                if info.get("unindexed_rows") == 0:
                    break
                if time.perf_counter() - t0 > self.args.index_timeout:
                    break
                time.sleep(0.25)

    def run_knn(self, qids, ef=None, where=None, strategy=None, gt=None, gt_d=None):
        lat, shell_lat, strict, tol, nres = [], [], [], [], []
        bad_rows = 0
        for j, qid in enumerate(qids):
            q = self.kit.queries[qid]
            rows, c_ms, s_ms = self.shell.rows(knn_sql(q, ef=ef, where=where, strategy=strategy))
            lat.append(c_ms)
            if s_ms is not None:
                shell_lat.append(s_ms)
            ret = [self.kit.row.get(r["id"], -1) for r in rows]
            bad_rows += sum(1 for r in ret if r < 0)
            nres.append(len(ret))
            g = self.kit.gt[qid] if gt is None else gt[j]
            gd = self.kit.gt_d[qid] if gt_d is None else gt_d[j]
            s, t = self.kit.recall(q, ret, g, gd)
            strict.append(s)
            tol.append(t)
        return {"latency": summary_ms(lat), "shell_timing": summary_ms(shell_lat),
                "recall_strict": float(np.mean(strict)), "recall": float(np.mean(tol)),
                "min_results": int(min(nres)) if nres else None, "unknown_ids": bad_rows,
                "per_query_recall": tol}

    def phase_knn(self):
        self.ensure_shell()
        perturbed = [q["qid"] for q in self.kit.qinfo if q["kind"] == "perturbed"]
        qids = perturbed[:self.args.nq]
        # Warm-up (first queries after a load pay for cold caches): not measured.
        for qid in qids[:20]:
            self.shell.rows(knn_sql(self.kit.queries[qid]))
        default = self.run_knn(qids)
        default.pop("per_query_recall")
        self.emit("knn_default_ef", queries=len(qids), **default)
        curve_p, curve_h = [], []
        for ef in self.args.efs:
            r = self.run_knn(qids[:self.args.nq_sweep], ef=ef)
            r.pop("per_query_recall")
            self.emit("knn_ef", ef=ef, queries=min(len(qids), self.args.nq_sweep), **r)
            curve_p.append((r["recall"], r["latency"]["p50_ms"], r["latency"]["mean_ms"]))
            if self.args.hnswlib:
                lat, s, t = self.hnswlib_run(qids[:self.args.nq_sweep], ef)
                self.emit("knn_ef_hnswlib", ef=ef, queries=len(lat), latency=summary_ms(lat),
                          recall_strict=s, recall=t)
                curve_h.append((t, pct(lat, 50), float(np.mean(lat))))
        self.phase_knn_self()
        if self.args.hnswlib:
            # Speed ratio at equal recall from p50 latencies (robust on a shared machine, where
            # a descheduled query inflates the mean), the mean beside it.
            for target in (0.70, 0.80, 0.85, 0.90, 0.95):
                lp = interpolate_latency([(c[0], c[1]) for c in curve_p], target)
                lh = interpolate_latency([(c[0], c[1]) for c in curve_h], target)
                mp = interpolate_latency([(c[0], c[2]) for c in curve_p], target)
                mh = interpolate_latency([(c[0], c[2]) for c in curve_h], target)
                self.emit("knn_ratio", recall=target, phenix_p50_ms=lp, hnswlib_p50_ms=lh,
                          phenix_speed_vs_hnswlib=(round(lh / lp, 3) if lp and lh else None),
                          phenix_mean_ms=mp, hnswlib_mean_ms=mh,
                          phenix_speed_vs_hnswlib_mean=(round(mh / mp, 3) if mp and mh else None))
            best = max(c[0] for c in curve_p)
            best_h = max(c[0] for c in curve_h)
            if best < best_h - 0.03:
                self.note("bug", f"unfiltered recall@10 tops out at {best:.3f} (ef up to "
                                 f"{max(self.args.efs)}) where hnswlib reaches {best_h:.3f} on the "
                                 "same vectors and queries")

    def phase_knn_self(self):
        """Reachability: each of a sample of rows with a unique vector, queried with its own
        vector, must come back (first, at distance ~0). A row that does not is unreachable or
        hidden from the search."""
        seen = {}
        for i in range(len(self.kit.base)):
            seen.setdefault(self.kit.base[i].tobytes(), []).append(i)
        unique = np.array([rows[0] for rows in seen.values() if len(rows) == 1])
        rng = np.random.default_rng(7)
        sample = np.sort(rng.choice(unique, size=min(self.args.nq_self, len(unique)), replace=False))
        for ef in (None, 1000):
            found, first, lat = 0, 0, []
            missing = []
            for row in sample.tolist():
                rows, c_ms, _ = self.shell.rows(knn_sql(self.kit.base[row], ef=ef))
                lat.append(c_ms)
                ids = [r["id"] for r in rows]
                name = self.kit.ids[row]
                found += name in ids
                first += bool(ids) and ids[0] == name
                if name not in ids and len(missing) < 10:
                    missing.append(name)
            h = None
            if self.args.hnswlib:
                idx = self.hnswlib_index()
                idx.set_ef(ef or 64)
                labels, _ = idx.knn_query(self.kit.base[sample], k=10)
                h = float(np.mean([row in set(l.tolist()) for row, l in zip(sample.tolist(), labels)]))
            if found < 0.99 * len(sample) and ef == 1000:
                self.note("bug", f"{len(sample) - found} of {len(sample)} rows with a unique vector "
                                 f"are not returned when queried with their own vector at ef 1000 "
                                 f"(hnswlib: {h}); e.g. {missing[:3]}")
            self.emit("knn_self", ef=ef, queries=len(sample), found=found / len(sample),
                      first=first / len(sample), latency=summary_ms(lat), missing=missing,
                      hnswlib_found=h)

    def wait_metadata_index(self, path):
        t0 = time.perf_counter()
        while True:
            try:
                docs = self.shell.metadata_indexes()
            except ShellError as e:
                self.note("bug", f"`SHOW INDEXES ON pkgs` failed: {e}")
                return None
            for d in docs:
                if d.get("path") == path and d.get("state") == "ready":
                    return time.perf_counter() - t0
            if time.perf_counter() - t0 > 600:
                return None
            time.sleep(0.2)

    def phase_filter(self):
        self.ensure_shell()
        nqf = self.kit.filters["n_queries"]
        perturbed = [q["qid"] for q in self.kit.qinfo if q["kind"] == "perturbed"][:nqf]
        sections = self.kit.load_sections()
        results = {}
        if any(d.get("path") == "section" for d in self.shell.metadata_indexes()):
            self.shell.run("DROP INDEX ON pkgs (metadata.section);")  # a rerun on a loaded db
        for stage in ("no_index", "index"):
            if stage == "index":
                c_ms, _, _ = self.shell.run("CREATE INDEX ON pkgs (metadata.section);")
                wait_s = self.wait_metadata_index("section")
                self.emit("create_index", path="metadata.section", statement_ms=round(c_ms, 1),
                          ready_after_s=wait_s)
            for f_idx, flt in enumerate(self.kit.filters["filters"]):
                gt = self.kit.fgt[f_idx * nqf:(f_idx + 1) * nqf]
                gt_d = self.kit.fgt_d[f_idx * nqf:(f_idx + 1) * nqf]
                qids = perturbed[:self.args.nq_filtered]
                explain = self.explain(knn_sql(self.kit.queries[qids[0]], where=flt["sql"]),
                                       analyze=True)
                r = self.run_knn(qids, where=flt["sql"], gt=gt, gt_d=gt_d)
                r.pop("per_query_recall")
                # Every returned row must match the filter.
                wrong = 0
                for qid in qids[:10]:
                    rows, _, _ = self.shell.rows(knn_sql(self.kit.queries[qid], where=flt["sql"]))
                    wrong += sum(1 for row in rows
                                 if sections[self.kit.row[row["id"]]] != flt["value"])
                if wrong:
                    self.note("bug", f"{flt['sql']}: {wrong} returned rows do not match the filter")
                results[(stage, flt["name"])] = r
                self.emit("filter", stage=stage, filter=flt["sql"], selectivity=flt["selectivity"],
                          n_match=flt["n_match"], queries=len(qids), plan=explain, **r)
                # Baseline: numpy brute force over the matching rows (what a user could write).
                match = np.array([i for i, s in enumerate(sections) if s == flt["value"]])
                if stage == "no_index":
                    unit = self.kit.base[match].astype(np.float32)
                    lat = []
                    for qid in qids:
                        t0 = time.perf_counter()
                        s = unit @ self.kit.queries[qid]
                        match[np.argpartition(-s, 10)[:10]]  # the top-10 rows (unordered)
                        lat.append((time.perf_counter() - t0) * 1e3)
                    self.emit("filter_numpy_bruteforce", filter=flt["sql"],
                              latency=summary_ms(lat))
        # The same queries with each strategy forced (the planner's choice is 'auto' above).
        for f_idx, flt in enumerate(self.kit.filters["filters"]):
            gt = self.kit.fgt[f_idx * nqf:(f_idx + 1) * nqf]
            gt_d = self.kit.fgt_d[f_idx * nqf:(f_idx + 1) * nqf]
            qids = perturbed[:self.args.nq_filtered]
            for strategy in ("exact_scan", "in_graph", "post_filter"):
                r = self.run_knn(qids, where=flt["sql"], strategy=strategy, gt=gt, gt_d=gt_d)
                r.pop("per_query_recall")
                self.emit("filter_forced", filter=flt["sql"], strategy=strategy,
                          selectivity=flt["selectivity"], queries=len(qids), **r)
            forced = {r["strategy"]: r for r in self.records
                      if r["phase"] == "filter_forced" and r["filter"] == flt["sql"]}
            auto = results.get(("index", flt["name"]))
            ex = forced.get("exact_scan")
            if auto and ex and auto["recall"] < ex["recall"] - 0.02 and \
                    ex["latency"]["p50_ms"] <= 1.2 * auto["latency"]["p50_ms"]:
                self.note("planner", f"{flt['sql']} ({flt['n_match']} rows): the planner's choice "
                                     f"gives recall {auto['recall']:.3f} at p50 "
                                     f"{auto['latency']['p50_ms']:.2f} ms; forced exact_scan gives "
                                     f"{ex['recall']:.3f} at {ex['latency']['p50_ms']:.2f} ms")
        for flt in self.kit.filters["filters"]:
            a = results.get(("no_index", flt["name"]))
            b = results.get(("index", flt["name"]))
            if a and b:
                self.emit("filter_index_effect", filter=flt["sql"],
                          p50_no_index_ms=a["latency"]["p50_ms"], p50_index_ms=b["latency"]["p50_ms"],
                          speedup=round(a["latency"]["p50_ms"] / b["latency"]["p50_ms"], 2))

    def phase_dups(self):
        self.ensure_shell()
        dq = [q for q in self.kit.qinfo if q["kind"] in ("dup_exact", "dup_near")]
        qids = [q["qid"] for q in dq]
        stages = [("default_ef", None), ("ef_1000", 1000)]
        for stage, ef in stages:
            self.dup_stage(dq, qids, stage, ef)
        if self.args.reindex:
            c_ms, _, printed = self.shell.run("REINDEX pkgs;", timeout=3600)
            self.emit("reindex", seconds=round(c_ms / 1e3, 2), printed=printed)
            for stage, ef in stages:
                self.dup_stage(dq, qids, "after_reindex_" + stage, ef)

    def dup_stage(self, dq, qids, stage, ef):
        r = self.run_knn(qids, ef=ef)
        per = r.pop("per_query_recall")
        by_kind = {}
        for kind in ("dup_exact", "dup_near"):
            vals = [per[i] for i, q in enumerate(dq) if q["kind"] == kind]
            by_kind[kind] = float(np.mean(vals)) if vals else None
        worst = sorted(((per[i], q["qid"], q["text"]) for i, q in enumerate(dq)))[:5]
        failing = []
        for i, q in enumerate(dq):
            if per[i] == 0.0 and len(failing) < 5:
                rows, _, _ = self.shell.rows(knn_sql(self.kit.queries[q["qid"]], ef=ef))
                failing.append({"qid": q["qid"], "text": q["text"],
                                "returned": [[r["id"], round(r["distance"], 4)] for r in rows[:3]],
                                "truth": [[self.kit.ids[g], round(float(d), 4)] for g, d in
                                          zip(self.kit.gt[q["qid"]][:3], self.kit.gt_d[q["qid"]][:3])]})
        n_zero = sum(1 for x in per if x == 0.0)
        hn = None
        if self.args.hnswlib:
            lat, s, t = self.hnswlib_run(qids, ef or 64)
            hn = {"recall_strict": s, "recall": t, "ef": ef or 64}
        if n_zero and ef == 1000 and failing:
            f = failing[0]
            self.note("bug", f"{stage}: {n_zero} of {len(qids)} duplicate-group queries have "
                             f"tie-tolerant recall 0 at ef 1000, e.g. '{f['text']}' returns "
                             f"{f['returned']} where the truth is {f['truth']}")
        self.emit("dups", stage=stage, ef=ef, queries=len(qids), recall_by_kind=by_kind,
                  worst=[{"recall": w[0], "qid": w[1], "text": w[2]} for w in worst],
                  queries_with_zero_recall=n_zero, failing=failing,
                  hnswlib=hn, **r)

    def phase_hybrid(self):
        self.ensure_shell()
        # CSR of reverse edges (numpy) for the baseline, from edges.tsv.
        n = len(self.kit.ids)
        tsv = np.loadtxt(os.path.join(self.args.data, "edges.tsv"), dtype=np.int64, skiprows=1,
                         usecols=(0, 1), delimiter="\t", ndmin=2)
        order = np.argsort(tsv[:, 1], kind="stable")
        indices = tsv[order, 0]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(tsv[:, 1], minlength=n), out=indptr[1:])
        unit = self.kit.base.astype(np.float32) / np.where(self.kit.norms > 0, self.kit.norms,
                                                            1.0)[:, None].astype(np.float32)

        def gather(frontier):
            starts = indptr[frontier]
            lens = indptr[frontier + 1] - starts
            total = int(lens.sum())
            if total == 0:
                return np.zeros(0, dtype=np.int64)
            offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
            return indices[offsets + np.arange(total)]

        by_seed = {}
        for h in self.kit.hybrid:
            by_seed.setdefault(h["seed"], []).append(h)
        for seed, items in by_seed.items():
            lat, shell_lat, strict, tol, seed_back, base_lat = [], [], [], [], 0, []
            for h in items:
                q = self.kit.queries[h["qid"]]
                lit = vector_literal(q)
                text = (f"SELECT b.id, b.vector <=> {lit} AS distance FROM MATCH "
                        f"(a:pkgs)<-[*1..2]-(b:pkgs) WHERE a.id = '{seed}' "
                        f"ORDER BY distance LIMIT 10")
                rows, c_ms, s_ms = self.shell.rows(text)
                lat.append(c_ms)
                if s_ms is not None:
                    shell_lat.append(s_ms)
                ret_ids = [r.get("b.id", r.get("id")) for r in rows]
                seed_back += seed in ret_ids
                ret = [self.kit.row.get(i, -1) for i in ret_ids]
                s, t = self.kit.recall(q, ret, h["rows"], h["dists"])
                strict.append(s)
                tol.append(t)
                # Baseline: numpy CSR reach (1..2 reverse hops) + exact cosine top-10.
                t0 = time.perf_counter()
                srow = self.kit.row[seed]
                one = np.unique(gather(np.array([srow])))
                reach = np.unique(np.concatenate((one, gather(one))))
                reach = reach[reach != srow]
                sims = unit[reach] @ (q / max(float(np.linalg.norm(q)), 1e-30))
                reach[np.argpartition(-sims, min(10, len(sims) - 1))[:10]]
                base_lat.append((time.perf_counter() - t0) * 1e3)
            plan = self.explain(text, analyze=True)
            ran = next((l.split("ran:", 1)[1].strip() for l in plan.splitlines() if "ran:" in l), "")
            self.emit("hybrid", seed=seed, n_candidates=items[0]["n_candidates"], queries=len(items),
                      latency=summary_ms(lat), shell_timing=summary_ms(shell_lat),
                      recall_strict=float(np.mean(strict)), recall=float(np.mean(tol)),
                      seed_returned=seed_back, baseline_csr_numpy=summary_ms(base_lat), ran=ran,
                      plan=plan)
            if float(np.mean(tol)) < 1.0 and "exact" in ran:
                self.note("bug", f"hybrid MATCH from {seed}: recall@10 {np.mean(tol):.3f} against "
                                 f"the exact answer although the search ran {ran}")
            # count(*) over the reached set
            ctext = (f"SELECT count(*) FROM MATCH (a:pkgs)<-[*1..2]-(b:pkgs) "
                     f"WHERE a.id = '{seed}'")
            c_lat = []
            count = None
            for _ in range(5):
                rows, c_ms, _ = self.shell.rows(ctext)
                c_lat.append(c_ms)
                count = rows[0].get("count") if rows else None
            expected = items[0]["n_candidates"]
            self.emit("hybrid_count", seed=seed, count=count, expected=expected,
                      expected_with_seed=expected + (1 if items[0]["seed_reached_by_a_walk"] else 0),
                      latency=summary_ms(c_lat), plan=self.explain(ctext, analyze=True))
            hybrid_p50 = pct(lat, 50)
            if pct(c_lat, 50) > 10 * hybrid_p50 and pct(c_lat, 50) > 20:
                self.note("perf", f"count(*) over MATCH (a)<-[*1..2]-(b) from {seed} ({count} rows) "
                                  f"p50 {pct(c_lat, 50):.0f} ms, {pct(c_lat, 50) / hybrid_p50:.0f}x the "
                                  f"top-10 MATCH over the same set ({hybrid_p50:.1f} ms)")
            if count not in (expected, expected + 1):
                self.note("bug", f"count(*) of MATCH (a)<-[*1..2]-(b) from {seed} = {count}, "
                                 f"the edges give {expected} (without the seed)")

    def explain(self, statement, analyze=False):
        try:
            rows, _, _ = self.shell.rows(("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + statement)
        except ShellError as e:
            return f"error: {e}"
        lines = []
        for r in rows:
            lines.append(" | ".join(str(v) for v in r.values()))
        return "\n".join(lines)

    def phase_explain(self):
        self.ensure_shell()
        q = self.kit.queries[0]
        hub = self.kit.hybrid[0]["seed"]
        stmts = {
            "knn": knn_sql(q),
            "knn_ef_1000": knn_sql(q, ef=1000),
            "filter_10pct": knn_sql(q, where=self.kit.filters["filters"][0]["sql"]),
            "filter_1pct": knn_sql(q, where=self.kit.filters["filters"][1]["sql"]),
            "hybrid": (f"SELECT b.id, b.vector <=> {vector_literal(q)} AS distance FROM MATCH "
                       f"(a:pkgs)<-[*1..2]-(b:pkgs) WHERE a.id = '{hub}' ORDER BY distance LIMIT 10"),
            "count_match": (f"SELECT count(*) FROM MATCH (a:pkgs)<-[*1..2]-(b:pkgs) "
                            f"WHERE a.id = '{hub}'"),
            "count_filter": "SELECT count(*) FROM pkgs WHERE metadata.section = 'libs'",
        }
        for name, text in stmts.items():
            self.emit("explain", name=name, explain=self.explain(text),
                      explain_analyze=self.explain(text, analyze=True))

    def phase_probes(self):
        """Things a new user tries next; each in its own shell process (a failing statement ends
        a piped session)."""
        self.close_shell()
        sh = self.args.shell
        db = self.args.db
        scratch = tempfile.mkdtemp(prefix="phenix-real-probe-")
        try:
            probes = []

            def probe(name, db_dir, commands, fmt="table"):
                r = one_shot(sh, db_dir, commands, fmt)
                r["name"] = name
                probes.append(r)
                self.emit("probe", **r)
                return r

            probe("zero_vector_cosine", os.path.join(scratch, "db"), [
                "CREATE COLLECTION z (DIMENSION 4, METRIC cosine);",
                "INSERT INTO z (id, vector) VALUES ('zero', [0, 0, 0, 0]);"])
            dangling = os.path.join(scratch, "dangling.jsonl")
            with open(dangling, "w", encoding="utf-8") as f:
                f.write('{"id":"a","vector":[1,0,0,0],"edges":[{"label":"depends","target":"b"}]}\n')
                f.write('{"id":"c","vector":[0,1,0,0],"edges":[{"label":"depends","target":"nope"}]}\n')
                f.write('{"id":"b","vector":[0,0,1,0]}\n')
            probe("copy_dangling_edge", os.path.join(scratch, "db"),
                  [f"COPY z FROM '{dangling}';"])
            probe("copy_dangling_edge_skip", os.path.join(scratch, "db"),
                  [f"COPY z FROM '{dangling}' (ON_ERROR skip);", "SELECT id FROM z;"])
            probe("first_open_after_session", db, ["SHOW INDEXES ON pkgs;"])
            probe("second_open", db, ["SHOW INDEXES ON pkgs;"])
            probe("hyphenated_label_bare", db, [
                "SELECT count(*) FROM MATCH (a:pkgs)<-[:pre-depends]-(b:pkgs) WHERE a.id = 'dpkg';"])
            probe("hyphenated_label_quoted", db, [
                "SELECT count(*) FROM MATCH (a:pkgs)<-[:\"pre-depends\"]-(b:pkgs) WHERE a.id = 'dpkg';"])
            q = vector_literal(self.kit.queries[0])
            probe("l2_operator_on_cosine_collection", db, [
                "\\timing on",
                f"SELECT id, vector <-> {q} AS distance FROM pkgs ORDER BY distance LIMIT 10;",
                f"SELECT id, vector <=> {q} AS distance FROM pkgs ORDER BY distance LIMIT 10;"])
            probe("tags_array_equality", db, [
                "\\timing on",
                "SELECT count(*) FROM pkgs WHERE metadata.tags = 'role::program';",
                "SELECT count(*) FROM pkgs WHERE metadata.tags IN ('role::program', 'role::shared-lib');"])
            probe("plus_in_id", db, ["SELECT id, metadata.section FROM pkgs WHERE id = 'libstdc++6';",
                                     "SELECT * FROM degree('pkgs', 'libstdc++6', direction = 'in');"])
            descs = self.kit.load_descriptions()
            row = next(i for i, d in enumerate(descs) if any(ord(c) > 127 for c in d))
            r = probe("non_ascii_roundtrip", db, [
                f"SELECT id, metadata.description FROM pkgs WHERE id = '{self.kit.ids[row]}';"],
                "json")
            try:
                got = json.loads(r["stdout"].splitlines()[0])[0]["metadata.description"]
                if got != descs[row]:
                    self.note("bug", f"{self.kit.ids[row]}: description {got!r} != {descs[row]!r}")
            except (IndexError, KeyError, json.JSONDecodeError):
                self.note("bug", f"non-ASCII round trip: no row for {self.kit.ids[row]}")
            probe("depends_only_hybrid", db, [
                "\\timing on",
                f"SELECT b.id, b.vector <=> {q} AS distance FROM MATCH (a:pkgs)<-[:depends*1..2]-(b:pkgs) "
                "WHERE a.id = 'libc6' ORDER BY distance LIMIT 10;"])
            probe("traverse_hub_both", db, [
                "\\timing on",
                "SELECT * FROM traverse('pkgs', 'libc6', max_hops = 2, direction = 'in') LIMIT 5;"])
            probe("traverse_missing_start", db, [
                "SELECT * FROM traverse('pkgs', 'no-such-package', max_hops = 2, direction = 'in');"])
            probe("copy_into_missing_collection", db, [
                f"COPY packages FROM '{os.path.abspath(os.path.join(self.args.data, 'catalog.jsonl'))}';"])
            probe("l2_operator_explain", db, [
                f"EXPLAIN SELECT id, vector <-> {q} AS distance FROM pkgs ORDER BY distance LIMIT 10;"])
            probe("missing_start", db, [
                f"SELECT b.id FROM MATCH (a:pkgs)<-[*1..2]-(b:pkgs) WHERE a.id = 'no-such-package' "
                f"ORDER BY b.vector <=> {q} LIMIT 10;"])
            probe("group_by_section", db, [
                "\\timing on",
                "SELECT metadata.section, count(*) AS n FROM pkgs GROUP BY metadata.section "
                "ORDER BY n DESC LIMIT 5;"])
            probe("essential_filter", db, [
                "\\timing on", "SELECT id FROM pkgs WHERE metadata.essential = true;"])
            probe("installed_size_range", db, [
                "\\timing on",
                "SELECT id, metadata.installed_size FROM pkgs WHERE metadata.installed_size > 1000000 "
                "ORDER BY metadata.installed_size DESC LIMIT 5;"])
            probe("index_info", db, ["SHOW INDEXES ON pkgs;", "DESCRIBE pkgs;"])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def phase_recopy(self):
        self.ensure_shell()
        before = self.shell.vector_index()
        catalog = os.path.abspath(os.path.join(self.args.data, "catalog.jsonl"))
        t0 = time.perf_counter()
        copy_ms, _, _ = self.shell.run(f"COPY pkgs FROM '{catalog}';")
        while True:
            info = self.shell.vector_index()
            if info.get("unindexed_rows") == 0 or time.perf_counter() - t0 > self.args.index_timeout:
                break
            time.sleep(0.25)
        index_s = time.perf_counter() - t0
        rows, _, _ = self.shell.rows("SELECT count(*) FROM pkgs")
        self.emit("recopy", copy_seconds=round(copy_ms / 1e3, 2), index_complete_seconds=round(index_s, 2),
                  count=rows[0].get("count") if rows else None,
                  nodes_before=before.get("nodes"), nodes_after=info.get("nodes"),
                  live_nodes_after=info.get("live_nodes"),
                  memory_before=before.get("memory_bytes", {}).get("total"),
                  memory_after=info.get("memory_bytes", {}).get("total"))
        self.close_shell()

    # -- report -----------------------------------------------------------------------------

    def markdown(self):
        k = self.kit
        lines = ["# Debian catalog scenario (bench/real/scenario.py)", ""]
        lines.append(f"Data: {k.path} — {len(k.base)} packages × {k.base.shape[1]}-d (cosine), "
                     f"{k.stats['edges']} edges, {len(k.queries)} queries; generator "
                     f"{k.manifest.get('version')}, inputs "
                     + ", ".join(f"{i['source']} ({i['sha256'][:12]})" for i in k.manifest["inputs"]))
        lines.append(f"Shell: `{self.args.shell}`; machine: {os.cpu_count()} CPUs, load average "
                     f"at the end {os.getloadavg()[0]:.1f}. Latencies are client-side through a "
                     "pipe to one shell process (the shell's own `\\timing` in brackets).")
        lines.append("")

        def fmt_lat(l):
            if not l or l.get("p50_ms") is None:
                return "-"
            return f"{l['p50_ms']:.2f} / {l['p99_ms']:.2f}"

        for r in self.records:
            ph = r["phase"]
            if ph == "load":
                lines.append(f"**Load**: COPY {r['copy_seconds']} s ({r['copy_rate_per_s']}/s); "
                             f"index complete {r['index_complete_seconds']} s after COPY began "
                             f"({r['index_rate_per_s']}/s); count(*) = {r['count']}.")
            elif ph == "knn_right_after_copy":
                lines.append(f"Right after COPY returned ({r['unindexed_rows_before']} rows not in "
                             f"the graph yet): top-10 p50 {r['latency']['p50_ms']:.1f} ms, recall "
                             f"{r['recall']:.3f}.")
            elif ph == "load_hnswlib":
                lines.append(f"hnswlib build ({r['threads']} threads): {r['build_seconds']} s "
                             f"({r['rate_per_s']}/s); Phenix index-complete time / hnswlib "
                             f"build time = {r['ratio_phenix_index_complete_to_hnswlib']}.")
                lines.append("")
        lines += ["", "**Unfiltered top-10** (perturbed-description queries)", "",
                  "| ef | Phenix p50 / p99 ms [shell] | recall (strict) | hnswlib p50 / p99 ms | recall (strict) |",
                  "|---|---|---|---|---|"]
        hn = {r["ef"]: r for r in self.records if r["phase"] == "knn_ef_hnswlib"}
        for r in self.records:
            if r["phase"] == "knn_default_ef":
                lines.append(f"| default ({r['queries']} q) | {fmt_lat(r['latency'])} "
                             f"[{fmt_lat(r['shell_timing'])}] | {r['recall']:.3f} "
                             f"({r['recall_strict']:.3f}) | | |")
            if r["phase"] == "knn_ef":
                h = hn.get(r["ef"])
                hs = (f"{fmt_lat(h['latency'])} | {h['recall']:.3f} ({h['recall_strict']:.3f})"
                      if h else "| ")
                lines.append(f"| {r['ef']} | {fmt_lat(r['latency'])} [{fmt_lat(r['shell_timing'])}] "
                             f"| {r['recall']:.3f} ({r['recall_strict']:.3f}) | {hs} |")
        ratios = [r for r in self.records if r["phase"] == "knn_ratio"]
        if ratios:
            lines.append("")
            lines.append("Phenix speed ÷ hnswlib speed at equal recall (p50 latency, interpolated; "
                         "mean-based in brackets): "
                         + ", ".join(f"{r['recall']}: {r['phenix_speed_vs_hnswlib']} "
                                     f"[{r['phenix_speed_vs_hnswlib_mean']}]" for r in ratios))
        for r in self.records:
            if r["phase"] == "knn_self":
                lines.append("")
                lines.append(f"Own-vector queries (ef {r['ef'] or 'default'}, {r['queries']} rows with a "
                             f"unique vector): returned {r['found']:.3f}, first {r['first']:.3f}; "
                             f"hnswlib returned {r['hnswlib_found']}; e.g. missing {r['missing'][:3]}")
        lines += ["", "**Filtered top-10** (first queries; recall against the exact filtered top-10)",
                  "", "| filter | selectivity | stage | p50 / p99 ms | recall | plan |", "|---|---|---|---|---|---|"]
        for r in self.records:
            if r["phase"] == "filter":
                plan = (r.get("plan") or "").replace("\n", " ⏎ ").replace("|", "/")[:160]
                lines.append(f"| `{r['filter']}` | {r['selectivity']:.3f} | {r['stage']} | "
                             f"{fmt_lat(r['latency'])} | {r['recall']:.3f} | {plan} |")
            if r["phase"] == "filter_forced":
                lines.append(f"| `{r['filter']}` | {r['selectivity']:.3f} | index, forced "
                             f"{r['strategy']} | {fmt_lat(r['latency'])} | {r['recall']:.3f} | |")
            if r["phase"] == "filter_numpy_bruteforce":
                lines.append(f"| `{r['filter']}` | | numpy brute force | {fmt_lat(r['latency'])} | 1.000 | |")
        lines += ["", "**Duplicate groups** (queries at and near the largest identical-vector groups)",
                  "", "| stage | p50 ms | recall strict | tie-tolerant | exact-description q | near q | hnswlib (tie-tol.) |",
                  "|---|---|---|---|---|---|---|"]
        for r in self.records:
            if r["phase"] == "dups":
                h = r.get("hnswlib") or {}
                lines.append(f"| {r['stage']} | {r['latency']['p50_ms']:.2f} | {r['recall_strict']:.3f} | "
                             f"{r['recall']:.3f} | {r['recall_by_kind']['dup_exact']:.3f} | "
                             f"{r['recall_by_kind']['dup_near']:.3f} | {h.get('recall', float('nan')):.3f} |")
            if r["phase"] == "reindex":
                lines.append(f"| reindex: {r['seconds']} s | | | | | | |")
        for r in self.records:
            if r["phase"] == "dups" and r.get("failing"):
                f = r["failing"][0]
                lines.append("")
                lines.append(f"{r['stage']}: {r['queries_with_zero_recall']} queries with recall 0, e.g. "
                             f"'{f['text']}': returned {f['returned']}, truth {f['truth']}")
        lines += ["", "**Hybrid** `MATCH (a:pkgs)<-[*1..2]-(b:pkgs) WHERE a.id = H ORDER BY distance LIMIT 10`",
                  "", "| hub | reached | p50 / p99 ms [shell] | recall | ran | numpy CSR p50 ms | count(*) | count p50 ms |",
                  "|---|---|---|---|---|---|---|---|"]
        counts = {r["seed"]: r for r in self.records if r["phase"] == "hybrid_count"}
        for r in self.records:
            if r["phase"] == "hybrid":
                c = counts.get(r["seed"], {})
                lines.append(f"| {r['seed']} | {r['n_candidates']} | {fmt_lat(r['latency'])} "
                             f"[{fmt_lat(r['shell_timing'])}] | {r['recall']:.3f} | {r.get('ran', '')} | "
                             f"{r['baseline_csr_numpy']['p50_ms']:.2f} | {c.get('count')} | "
                             f"{(c.get('latency') or {}).get('p50_ms', float('nan')):.1f} |")
        for r in self.records:
            if r["phase"] == "recopy":
                lines += ["", f"**COPY again** (same file): {r['copy_seconds']} s, index complete after "
                              f"{r['index_complete_seconds']} s; count {r['count']}; index nodes "
                              f"{r['nodes_before']} -> {r['nodes_after']} (live {r['live_nodes_after']}), "
                              f"memory {r['memory_before']} -> {r['memory_after']} bytes"]
        lines += ["", "**Findings**", ""]
        for sev, text in self.notes:
            lines.append(f"- [{sev}] {text}")
        lines += ["", "**Probes** (separate shell processes)", ""]
        for r in self.records:
            if r["phase"] == "probe":
                out = (r["stdout"].strip().splitlines() or [""])
                err = [l for l in r["stderr"].strip().splitlines() if l]
                lines.append(f"- `{r['name']}`: rc {r['rc']}, {r['seconds']} s; "
                             f"stdout: `{(out[0] if out else '')[:150]}`; "
                             f"stderr: `{' ⏎ '.join(err)[:300]}`")
        return "\n".join(lines) + "\n"

    def run(self):
        phases = self.args.phases
        if "load" not in phases and not os.path.exists(self.args.db):
            sys.exit(f"error: {self.args.db} does not exist: run the load phase first")
        try:
            for ph in PHASES:
                if ph in phases:
                    t0 = time.perf_counter()
                    try:
                        getattr(self, "phase_" + ph)()
                    except ShellError as e:
                        self.note("bug", f"phase {ph}: {e}")
                        self.close_shell()
                    self.emit("phase_done", name=ph, seconds=round(time.perf_counter() - t0, 1))
        finally:
            self.close_shell()
            self.out.close()
            if self.args.markdown:
                with open(self.args.markdown, "w", encoding="utf-8") as f:
                    f.write(self.markdown())
                log(f"summary: {self.args.markdown}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/phenix-data/data/debian")
    ap.add_argument("--shell", default="build/release/tools/phenix/phenix")
    ap.add_argument("--db", default="/tmp/phenix-real-db")
    ap.add_argument("--out", default="build/release/real-bench-debian.jsonl")
    ap.add_argument("--markdown", default="build/release/real-bench-debian.md")
    ap.add_argument("--phases", default=",".join(PHASES))
    ap.add_argument("--nq", type=int, default=1000, help="perturbed queries at the default ef")
    ap.add_argument("--nq-sweep", type=int, default=300, help="queries per ef of the sweep")
    ap.add_argument("--nq-filtered", type=int, default=100)
    ap.add_argument("--nq-self", type=int, default=500,
                    help="rows queried with their own vector (reachability)")
    ap.add_argument("--efs", default="10,16,32,64,128,256,512,1000")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="hnswlib build threads (Phenix's builder uses every core)")
    ap.add_argument("--no-hnswlib", dest="hnswlib", action="store_false")
    ap.add_argument("--no-reindex", dest="reindex", action="store_false")
    ap.add_argument("--index-timeout", type=float, default=1800)
    args = ap.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in args.phases if p not in PHASES]
    if unknown:
        ap.error(f"unknown phase(s) {unknown}; phases: {','.join(PHASES)}")
    args.efs = [int(x) for x in args.efs.split(",") if x]
    if not os.access(args.shell, os.X_OK):
        sys.exit(f"error: no shell binary at {args.shell} (ninja -C build/release phenix_shell)")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    Scenario(args).run()


if __name__ == "__main__":
    main()
