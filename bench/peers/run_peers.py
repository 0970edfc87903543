#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Phenix beside Kuzu, LanceDB, Chroma and Milvus Lite on one data-kit set, in the same run.

    /usr/bin/python3 bench/peers/run_peers.py --data /tmp/phenix-data/data/medium [--metric l2]
        [--peers kuzu,lancedb,chroma,milvus-lite] [--no-phenix] [--bin build/release/bench]
        [--venvs build/peers-venv] [--work build/peers-work] [--efs 10,16,...,256]
        [--filter-efs 16,64,256] [--filters bucket_lt_10,tenant_eq_t07,bucket_lt_100,cat_eq_3]
        [--runs 3] [--passes 3] [--queries 0] [--timeout 3600] [--out FILE.jsonl]
        [--markdown FILE.md] [--setup-only]
    /usr/bin/python3 bench/peers/run_peers.py --from-jsonl FILE.jsonl [--markdown FILE.md]

What runs, one after the other, each with a wall-clock limit (--timeout seconds; a driver or
peer that fails to install, crashes or runs out of time is reported and the others go on):

  phenix       bench/e2e drivers from --bin (build them first: make bench-peers does):
               phenix_copy_bench --no-edges (COPY of the kit as JSON lines until the vector
               index is complete: the load row), phenix_copy_bench with the edges (graph load),
               phenix_vector_engine_bench --latencies (Database::Write batches, then the ef
               sweep through Database::Search: the search rows), phenix_ql_bench --phases
               hybrid,strategies (the filtered rows, the planner's choice; the hybrid row;
               edges/s by ReplaceEdges).
  each peer    bench/peers/peer_worker.py in the peer's own virtual environment
               (--venvs/<peer>, made here from bench/peers/requirements/<peer>.txt, every package
               pinned; remade when that file changes), with the same kit files, queries, k=10,
               ef sweep and recall computation (bench/peers/kit.py).

Every query runs alone on one client thread. Output: every JSON line (the drivers' own lines
are kept under --work; --out gets the normalised lines {"bench": "peers", "system", "row", ...}
with the machine's facts in a "context" line, then one "report" line), and a Markdown report
(--markdown; also printed) with the ratios and, for every row where a peer beats Phenix, the
numbers that say so. Standard library only; the peers' packages live in their environments.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bench"))
from compare_vectors import qps_at  # noqa: E402

PEERS = ("kuzu", "lancedb", "chroma", "milvus-lite")
DEFAULT_FILTERS = "bucket_lt_10,tenant_eq_t07,bucket_lt_100,cat_eq_3"
TARGETS = (0.90, 0.95, 0.99)
FILTER_RECALL = 0.95


def log(msg):
    print(f"[run_peers] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- machine facts

def read_first(path, default=""):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return default


def machine_facts():
    cpu = "?"
    for line in read_first("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in read_first("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    try:
        commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "loadavg": [round(x, 2) for x in os.getloadavg()], "commit": commit}


# ---------------------------------------------------------------- subprocesses

def read_jsonl(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for text in f:
                text = text.strip()
                if text.startswith("{"):
                    try:
                        out.append(json.loads(text))
                    except json.JSONDecodeError:
                        pass
    except OSError:
        pass
    return out


def run_lines(cmd, label, timeout_s, raw_path, env=None):
    """Runs cmd in its own process group with a wall-clock limit; returns (JSON lines of its
    stdout, status) where status is None (exit 0) or a sentence. The raw stdout goes to
    raw_path (.jsonl) and stderr to raw_path's .log, as they arrive."""
    log(f"{label}: {' '.join(cmd)}")
    os.makedirs(os.path.dirname(raw_path), exist_ok=True)
    lines = []
    with open(raw_path, "w", encoding="utf-8") as raw, \
            open(os.path.splitext(raw_path)[0] + ".log", "w", encoding="utf-8") as err:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                                    start_new_session=True, env=env)
        except OSError as e:
            return [], f"cannot start: {e}"

        def pump():
            for text in proc.stdout:
                raw.write(text)
                raw.flush()
                text = text.strip()
                if text.startswith("{"):
                    try:
                        lines.append(json.loads(text))
                    except json.JSONDecodeError:
                        pass

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            reader.join(10)
            return lines, f"killed after the {timeout_s} s limit"
        reader.join(10)
    if rc != 0:
        tail = read_first(os.path.splitext(raw_path)[0] + ".log").strip().splitlines()[-3:]
        return lines, f"exit status {rc}: " + " | ".join(tail)
    return lines, None


def ensure_venv(peer, venvs, timeout_s):
    """Makes venvs/<peer> from requirements/<peer>.txt unless it is there and current. Returns
    (python path, None) or (None, why)."""
    req = os.path.join(HERE, "requirements", f"{peer}.txt")
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    venv = os.path.join(venvs, peer)
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".requirements.sha256")
    if os.path.exists(python) and read_first(stamp).strip() == digest:
        return python, None
    log(f"{peer}: making {venv} from {req}")
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run(["/usr/bin/python3", "-m", "venv", venv], check=True, timeout=300,
                       capture_output=True, text=True)
        done = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-input",
                               "--disable-pip-version-check", "-r", req],
                              timeout=timeout_s, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        return None, f"python3 -m venv failed (Debian: apt-get install python3-venv): {e.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired:
        return None, f"pip install -r {os.path.relpath(req, REPO)} ran past {timeout_s} s"
    if done.returncode != 0:
        return None, (f"pip install -r {os.path.relpath(req, REPO)} failed: "
                      + " | ".join(done.stderr.strip().splitlines()[-3:]))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(digest + "\n")
    return python, None


# ---------------------------------------------------------------- Phenix through its drivers

class PhenixRun:
    def __init__(self, a, kit_name, out_dir, emit):
        self.a = a
        self.kit_name = kit_name
        self.out_dir = out_dir
        self.emit = emit

    def binary(self, name):
        path = os.path.join(self.a.bin, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return None
        return path

    def driver(self, name, args, tag):
        raw = os.path.join(self.out_dir, f"phenix-{tag}.jsonl")
        if self.a.replay:
            return read_jsonl(raw), None
        path = self.binary(name)
        if path is None:
            self.emit("phenix", "error", driver=name,
                      error=f"{name} not found in {self.a.bin} (build it: ninja {name})")
            return [], "missing"
        lines, status = run_lines([path] + args, f"phenix {tag}", self.a.timeout, raw)
        if status:
            self.emit("phenix", "error", driver=name, error=status)
        return lines, status

    def run(self):
        a = self.a
        data, metric = a.data, a.metric
        work = os.path.join(a.work, f"{self.kit_name}-{metric}")
        jsonl_dir = os.path.join(work, "copy-input")
        os.makedirs(jsonl_dir, exist_ok=True)

        # 1. COPY without edges: time to a fully indexed collection.
        lines, _ = self.driver("phenix_copy_bench", [
            f"--data={data}", f"--db={os.path.join(work, 'phenix-copy-db')}", f"--metric={metric}",
            "--no-edges", f"--jsonl={os.path.join(jsonl_dir, 'no-edges.jsonl')}"], "copy")
        ctx = next((ln for ln in lines if ln.get("phase") == "context"), {})
        copied = next((ln for ln in lines if ln.get("phase") == "copy"), {})
        indexed = next((ln for ln in lines if ln.get("phase") == "indexed"), None)
        if indexed:
            self.emit("phenix", "load", variant="COPY", n=ctx.get("n"),
                      seconds=round(indexed["seconds"], 3),
                      entities_per_s=round(indexed["entities_per_s"], 1),
                      insert_seconds=round(copied.get("seconds", 0), 3),
                      index_seconds=round(indexed["seconds"] - copied.get("seconds", 0), 3),
                      bulk_path="COPY kit FROM a JSON-lines file (written before the timer)",
                      index={"type": "HNSW", "m": indexed.get("m"),
                             "ef_construction": indexed.get("ef_construction")})

        # 2. COPY with the edges: the whole graph + vector kit.
        if "graph" in a.rows:
            lines, _ = self.driver("phenix_copy_bench", [
                f"--data={data}", f"--db={os.path.join(work, 'phenix-copy-db')}",
                f"--metric={metric}", f"--jsonl={os.path.join(jsonl_dir, 'with-edges.jsonl')}"],
                "copy-edges")
            conv = next((ln for ln in lines if ln.get("phase") == "convert"), {})
            indexed = next((ln for ln in lines if ln.get("phase") == "indexed"), None)
            if indexed:
                self.emit("phenix", "graph_load", variant="COPY", n=indexed.get("live_nodes"),
                          edges=conv.get("edges"), seconds=round(indexed["seconds"], 3),
                          entities_per_s=round(indexed["entities_per_s"], 1),
                          bulk_path="COPY kit FROM JSON lines with each entity's out-edges")

        # 3. Through Database: WriteBatch load, then the ef sweep.
        if "search" in a.rows:
            args = [f"--data={data}", f"--db={os.path.join(work, 'phenix-engine-db')}",
                    f"--metric={metric}", f"--efs={a.efs}", f"--runs={a.runs}", "--latencies"]
            if a.queries:
                args.append(f"--queries={a.queries}")
            lines, _ = self.driver("phenix_vector_engine_bench", args, "engine")
            load = next((ln for ln in lines if ln.get("phase") == "load"), {})
            idx = next((ln for ln in lines if ln.get("phase") == "indexed"), None)
            if idx:
                self.emit("phenix", "load", variant="WriteBatch", n=idx.get("n"),
                          seconds=round(idx["total_seconds"], 3),
                          entities_per_s=round(idx["vectors_per_second"], 1),
                          insert_seconds=load.get("wall_seconds"),
                          index_seconds=round(idx["indexed_seconds"], 3),
                          bulk_path=f"Database::Write, batches of {load.get('batch')} upserts, "
                                    "sync durability",
                          index={"type": "HNSW", "m": idx.get("m"),
                                 "ef_construction": idx.get("ef_construction")})
            for ln in lines:
                if ln.get("phase") == "search":
                    self.emit("phenix", "search", ef=ln["ef"], k=ln["k"], runs=ln["runs"],
                              queries=ln["queries"], recall=ln["recall"], qps=ln["qps"],
                              p50_us=ln["p50_us"], p99_us=ln["p99_us"], mean_us=ln["mean_us"],
                              short_results=ln.get("short_results", 0),
                              latencies_us=ln.get("latencies_us"),
                              path="Database::Search")

        # 4. PhenixQL: filtered search (planner's choice) and the hybrid query.
        if "filtered" in a.rows or "hybrid" in a.rows:
            phases = [p for p in ("hybrid", "strategies")
                      if ("hybrid" if p == "hybrid" else "filtered") in a.rows]
            lines, _ = self.driver("phenix_ql_bench", [
                "--data", data, "--db", os.path.join(work, "phenix-ql-db"), "--metric", metric,
                "--phases", ",".join(phases), "--passes", str(a.passes),
                "--strategy-queries", "100"], "ql")
            load = next((ln for ln in lines if ln.get("phase") == "load"), None)
            if load and "edges" in load:
                self.emit("phenix", "edges", variant="ReplaceEdges", edges=load["edges"],
                          seconds=load.get("edge_commit_seconds"),
                          edges_per_s=load.get("edges_per_second"),
                          bulk_path="WriteBatch::ReplaceEdges per source entity, batches of "
                                    f"{load.get('batch')} entities")
            wanted = a.filters.split(",")
            for ln in lines:
                if ln.get("phase") == "strategies" and ln.get("filter") in wanted:
                    for mode, m in (ln.get("modes") or {}).items():
                        self.emit("phenix", "filtered", variant=mode, filter=ln["filter"],
                                  selectivity=ln.get("selectivity"), n_match=ln.get("n_match"),
                                  ef=None, k=10, queries=ln.get("queries"),
                                  passes=ln.get("passes"), recall=m.get("recall"),
                                  recall_tie_tolerant=m.get("recall_tie_tolerant"),
                                  qps=m.get("qps"), mean_us=m.get("mean_us"),
                                  p50_us=m.get("p50_us"),
                                  planner_choice=ln.get("planner_choice"),
                                  path="PhenixQL SELECT ... WHERE ... ORDER BY vector <-> [..] "
                                       "LIMIT 10" + ("" if mode == "auto" else
                                                      f" WITH (strategy = '{mode}')"))
                elif ln.get("phase") == "hybrid":
                    for variant, key in (("PhenixQL", "ql"), ("Database::Search", "api")):
                        mean = ln.get(f"{key}_mean_us")
                        self.emit("phenix", "hybrid", variant=variant, queries=ln.get("queries"),
                                  passes=ln.get("passes"), recall=ln.get(f"{key}_recall"),
                                  recall_tie_tolerant=ln.get(f"{key}_recall_tie_tolerant"),
                                  p50_us=ln.get(f"{key}_p50_us"), p95_us=ln.get(f"{key}_p95_us"),
                                  p99_us=ln.get(f"{key}_p99_us"), mean_us=mean,
                                  qps=round(1e6 / mean, 1) if mean else None,
                                  latencies_us=ln.get(f"{key}_latencies_us"),
                                  query=ln.get("example") if key == "ql" else
                                  "SearchOptions{graph = 1..2 out-hops from the seed, filter}")


# ---------------------------------------------------------------- report

def pick_filtered(points):
    """The fastest point with recall >= FILTER_RECALL, else the highest-recall one (marked)."""
    good = [p for p in points if (p.get("recall") or 0) >= FILTER_RECALL and p.get("qps")]
    if good:
        return max(good, key=lambda p: p["qps"]), True
    have = [p for p in points if p.get("recall") is not None and p.get("qps")]
    if not have:
        return None, False
    return max(have, key=lambda p: (p["recall"], p["qps"])), False


def fmt(x, spec=",.0f", none="—"):
    return none if x is None else format(x, spec)


def ratio(a, b):
    return a / b if a not in (None, 0) and b not in (None, 0) else None


def build_report(lines):
    ctx = next((ln for ln in lines if ln.get("row") == "context" and ln.get("system") == "run"), {})
    systems = []
    for ln in lines:
        s = ln.get("system")
        if s not in (None, "run") and s not in systems:
            systems.append(s)
    rep = {"bench": "peers", "row": "report", "set": ctx.get("set"), "metric": ctx.get("metric"),
           "context": ctx, "systems": systems}
    versions = {ln["system"]: ln.get("version") for ln in lines if ln.get("row") == "context"
                and ln.get("system") not in ("run", None)}
    rep["versions"] = versions
    by = {}
    for ln in lines:
        if "error" in ln or "skipped" in ln:
            continue
        by.setdefault((ln.get("system"), ln.get("row")), []).append(ln)

    # Load.
    loads = {}
    for s in systems:
        for ln in by.get((s, "load"), []):
            loads[f"{s} ({ln['variant']})" if ln.get("variant") else s] = ln
    rep["load"] = {k: {f: v.get(f) for f in ("n", "seconds", "entities_per_s", "insert_seconds",
                                              "index_seconds", "bulk_path", "index")}
                   for k, v in loads.items()}
    best_phenix_load = max((v.get("entities_per_s") or 0 for k, v in loads.items()
                            if k.startswith("phenix")), default=None)
    rep["load_ratio_phenix_to"] = {k: round(ratio(best_phenix_load, v.get("entities_per_s")), 3)
                                   if ratio(best_phenix_load, v.get("entities_per_s")) else None
                                   for k, v in loads.items() if not k.startswith("phenix")}

    # Search: QPS at recall targets on each system's frontier.
    search = {}
    for s in systems:
        pts = [(ln.get("recall"), ln.get("qps")) for ln in by.get((s, "search"), [])]
        if not pts:
            continue
        row = {}
        for t in TARGETS:
            q, bound = qps_at(pts, t)
            row[f"{t:.2f}"] = {"qps": None if q is None else round(q, 1), "bound": bound}
        row["max_recall"] = max(r for r, _ in pts if r is not None)
        search[s] = row
    rep["search"] = search
    rep["search_ratio_phenix_to"] = {
        s: {t: (round(ratio(search["phenix"][t]["qps"], search[s][t]["qps"]), 3)
                if "phenix" in search and ratio(search["phenix"][t]["qps"], search[s][t]["qps"])
                else None) for t in (f"{x:.2f}" for x in TARGETS)}
        for s in search if s != "phenix"}

    # Filtered.
    filtered = {}
    for s in systems:
        for ln in by.get((s, "filtered"), []):
            if s == "phenix" and ln.get("variant") != "auto":
                continue
            filtered.setdefault(ln["filter"], {}).setdefault(s, []).append(ln)
    rep["filtered"] = {}
    for name, per in filtered.items():
        out = {}
        for s, pts in per.items():
            best, ok = pick_filtered(pts)
            if best is None:
                continue
            out[s] = {"qps": best.get("qps"), "recall": best.get("recall"), "ef": best.get("ef"),
                      "meets_recall": ok, "selectivity": best.get("selectivity"),
                      "short_results": best.get("short_results"),
                      "planner_choice": best.get("planner_choice")}
        rep["filtered"][name] = out

    # Graph: edges, graph load, hybrid.
    rep["edges"] = {s: by[(s, "edges")][0] for s in systems if (s, "edges") in by}
    graph = {}
    for s in systems:
        if (s, "graph_load") in by:
            graph[s] = by[(s, "graph_load")][0]
        elif (s, "edges") in by and (s, "load") in by:
            ld, ed = by[(s, "load")][0], by[(s, "edges")][0]
            secs = (ld.get("seconds") or 0) + (ed.get("seconds") or 0)
            graph[s] = {"n": ld.get("n"), "edges": ed.get("edges"), "seconds": round(secs, 3),
                        "entities_per_s": round(ld["n"] / secs, 1) if secs else None,
                        "bulk_path": "the load row, then the edges row"}
    rep["graph_load"] = graph
    rep["hybrid"] = {}
    for s in systems:
        for ln in by.get((s, "hybrid"), []):
            key = f"{s} ({ln['variant']})" if ln.get("variant") else s
            rep["hybrid"][key] = {f: ln.get(f) for f in ("queries", "recall", "recall_tie_tolerant",
                                                          "p50_us", "p95_us", "p99_us", "mean_us",
                                                          "qps")}

    rep["not_run"] = [{"system": ln.get("system"), "row": ln.get("row"),
                       "filter": ln.get("filter"),
                       "why": ln.get("skipped") or ln.get("error")}
                      for ln in lines if ("skipped" in ln or "error" in ln)]
    rep["phenix_behind"] = behind(rep)
    return rep


def behind(rep):
    """Every comparison where a peer beats Phenix (ratio < 1), as sentences."""
    out = []
    for peer, r in rep.get("load_ratio_phenix_to", {}).items():
        if r is not None and r < 1:
            out.append(f"load: Phenix's best rate is {r:.2f}x {peer}'s")
    for peer, by_t in rep.get("search_ratio_phenix_to", {}).items():
        for t, r in by_t.items():
            if r is not None and r < 1:
                out.append(f"search at recall {t}: Phenix {r:.2f}x {peer}'s QPS")
    for name, per in rep.get("filtered", {}).items():
        mine = per.get("phenix")
        for peer, cell in per.items():
            if peer == "phenix" or not mine:
                continue
            if cell["meets_recall"] and (mine["qps"] or 0) < (cell["qps"] or 0):
                out.append(f"filtered {name}: Phenix {mine['qps']:,.0f} QPS vs {peer} "
                           f"{cell['qps']:,.0f} (recall {cell['recall']})")
    edges = rep.get("edges", {})
    mine = (edges.get("phenix") or {}).get("edges_per_s")
    for peer, ln in edges.items():
        if peer != "phenix" and mine and ln.get("edges_per_s") and mine < ln["edges_per_s"]:
            out.append(f"edges: Phenix {mine:,.0f}/s vs {peer} {ln['edges_per_s']:,.0f}/s "
                       f"({mine / ln['edges_per_s']:.2f}x)")
    graph = rep.get("graph_load", {})
    mine = (graph.get("phenix") or {}).get("seconds")
    for peer, g in graph.items():
        if peer != "phenix" and mine and g.get("seconds") and mine > g["seconds"]:
            out.append(f"graph load: Phenix {mine:.1f} s vs {peer} {g['seconds']:.1f} s")
    hyb = rep.get("hybrid", {})
    mine = hyb.get("phenix (PhenixQL)")
    for key, h in hyb.items():
        if not key.startswith("phenix") and mine and h.get("p50_us") and \
                (mine.get("p50_us") or 0) > h["p50_us"]:
            out.append(f"hybrid p50: PhenixQL {mine['p50_us']:.0f} us vs {key} {h['p50_us']:.0f} us")
    return out


def markdown(rep):
    ctx = rep.get("context") or {}
    out = [f"Set `{rep.get('set')}`, metric {rep.get('metric')}; {ctx.get('cpu', '?')}, "
           f"{ctx.get('cores', '?')} cores, {ctx.get('memory_gib', '?')} GiB; {ctx.get('date', '?')}; "
           f"load average at the start {ctx.get('loadavg')}, commit {ctx.get('commit', '?')}. "
           "One query at a time on one client thread.", ""]
    if rep.get("versions"):
        out.append("Versions: " + ", ".join(f"{s} {v}" for s, v in rep["versions"].items()) + ".")
        out.append("")

    if rep["load"]:
        out += ["**Load** (vectors + metadata until the collection is fully indexed and answers "
                "a query):", "",
                "| system | bulk path | index | seconds (insert + index) | entities/s | "
                "Phenix's best ÷ system |", "|---|---|---|---|---|---|"]
        for key, ld in rep["load"].items():
            idx = ld.get("index") or {}
            idx_txt = idx.get("type", "") if isinstance(idx, dict) else str(idx)
            r = rep["load_ratio_phenix_to"].get(key)
            out.append(f"| {key} | {ld.get('bulk_path', '')} | {idx_txt} | "
                       f"{fmt(ld.get('seconds'), '.1f')} ({fmt(ld.get('insert_seconds'), '.1f')} + "
                       f"{fmt(ld.get('index_seconds'), '.1f')}) | {fmt(ld.get('entities_per_s'))} | "
                       f"{fmt(r, '.2f')} |")
        out.append("")

    if rep["search"]:
        systems = sorted(rep["search"], key=lambda s: s != "phenix")
        others = [s for s in systems if s != "phenix"] if "phenix" in systems else []
        head = ["recall@10"] + systems + [f"phenix ÷ {s}" for s in others]
        out += ["**Search** (queries/s at recall@10, interpolated on each system's ef sweep; "
                "≥: its fastest point is already above the target):", "",
                "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for t in (f"{x:.2f}" for x in TARGETS):
            cells = [t]
            for s in systems:
                c = rep["search"][s][t]
                cells.append("—" if c["qps"] is None else ("≥" if c["bound"] else "") + f"{c['qps']:,.0f}")
            cells += [fmt(rep["search_ratio_phenix_to"].get(s, {}).get(t), ".2f") for s in others]
            out.append("| " + " | ".join(cells) + " |")
        cells = ["max recall"] + [fmt(rep["search"][s]["max_recall"], ".4f") for s in systems]
        out.append("| " + " | ".join(cells + [""] * len(others)) + " |")
        out.append("")

    if rep["filtered"]:
        systems = []
        for per in rep["filtered"].values():
            for s in per:
                if s not in systems:
                    systems.append(s)
        out += [f"**Filtered search** (first 100 queries; per system the fastest setting with "
                f"recall@10 ≥ {FILTER_RECALL}, else (*) its best recall; queries/s = 1 / mean of "
                "each query's fastest of the passes; recall in brackets):", "",
                "| filter | selectivity | " + " | ".join(systems) + " |",
                "|---|---|" + "---|" * len(systems)]
        for name, per in rep["filtered"].items():
            sel = next((c.get("selectivity") for c in per.values() if c.get("selectivity")), None)
            cells = []
            for s in systems:
                c = per.get(s)
                if not c:
                    cells.append("—")
                    continue
                star = "" if c["meets_recall"] else "*"
                extra = f", ef {c['ef']}" if c.get("ef") else ""
                if c.get("planner_choice"):
                    extra += f", {c['planner_choice']}"
                cells.append(f"{fmt(c['qps'])}{star} ({fmt(c['recall'], '.3f')}{extra})")
            out.append(f"| {name} | {fmt(sel * 100 if sel else None, '.2f')}% | " +
                       " | ".join(cells) + " |")
        out.append("")

    if rep["edges"] or rep["graph_load"]:
        out += ["**Graph load**:", "", "| system | edges | edges/s (edges alone) | whole kit "
                "(entities + edges + vector index) s | how |", "|---|---|---|---|---|"]
        for s in sorted(set(rep["edges"]) | set(rep["graph_load"])):
            e = rep["edges"].get(s, {})
            g = rep["graph_load"].get(s, {})
            out.append(f"| {s} | {fmt(e.get('edges') or g.get('edges'))} | "
                       f"{fmt(e.get('edges_per_s'))} | {fmt(g.get('seconds'), '.1f')} | "
                       f"{e.get('bulk_path', '')}; {g.get('bulk_path', '')} |")
        out.append("")

    if rep["hybrid"]:
        out += ["**Hybrid** (2-hop out-neighbourhood of a seed + filter + top-10 by vector; "
                "per query the fastest of the passes):", "",
                "| system | queries | recall@10 | p50 µs | p95 µs | p99 µs | mean µs |",
                "|---|---|---|---|---|---|---|"]
        for key, h in rep["hybrid"].items():
            out.append(f"| {key} | {h.get('queries')} | {fmt(h.get('recall'), '.3f')} | "
                       f"{fmt(h.get('p50_us'), ',.0f')} | {fmt(h.get('p95_us'), ',.0f')} | "
                       f"{fmt(h.get('p99_us'), ',.0f')} | {fmt(h.get('mean_us'), ',.0f')} |")
        out.append("")

    if rep["not_run"]:
        out += ["**Not measured**:", ""]
        for item in rep["not_run"]:
            what = item["row"] + (f" {item['filter']}" if item.get("filter") else "")
            out.append(f"- {item['system']} {what}: {item['why']}")
        out.append("")
    out += ["**Where a peer is ahead of Phenix**:", ""]
    out += [f"- {x}" for x in rep["phenix_behind"]] or ["- nowhere in this run"]
    return "\n".join(out) + "\n"


def trim_latencies(lines):
    """Keeps the per-query latencies of one search row per system, the operating point the
    latency histograms show: the smallest ef with recall@10 >= FILTER_RECALL (else the
    highest-recall row); the other rows lose theirs (the JSON stays small)."""
    rows = {}
    for ln in lines:
        if ln.get("row") == "search" and ln.get("latencies_us"):
            rows.setdefault(ln.get("system"), []).append(ln)
    for system, lns in rows.items():
        good = [ln for ln in lns if (ln.get("recall") or 0) >= FILTER_RECALL]
        keep = min(good, key=lambda ln: ln.get("ef") or 0) if good else \
            max(lns, key=lambda ln: ln.get("recall") or 0)
        for ln in lns:
            if ln is not keep:
                ln.pop("latencies_us", None)
            else:
                ln["latency_histogram"] = True


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data")
    p.add_argument("--metric", choices=["l2", "cos"], default="l2")
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--no-phenix", action="store_true")
    p.add_argument("--bin", default=os.path.join(REPO, "build", "release", "bench"))
    p.add_argument("--venvs", default=os.path.join(REPO, "build", "peers-venv"))
    p.add_argument("--work", default=os.path.join(REPO, "build", "peers-work"))
    p.add_argument("--efs", default="10,16,24,32,48,64,96,128,256")
    p.add_argument("--filter-efs", default="16,64,256")
    p.add_argument("--filters", default=DEFAULT_FILTERS)
    p.add_argument("--rows", default="load,search,filtered,graph,hybrid",
                   help="what to measure (graph: edges and the whole-kit load)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--queries", type=int, default=0)
    p.add_argument("--timeout", type=int, default=3600, help="seconds per driver / peer")
    p.add_argument("--install-timeout", type=int, default=1800)
    p.add_argument("--lance-partitions", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--markdown")
    p.add_argument("--from-jsonl", nargs="+")
    p.add_argument("--setup-only", action="store_true", help="make the environments and stop")
    p.add_argument("--replay", action="store_true",
                   help="run nothing: rebuild the lines and the report from what the drivers and "
                        "peers of an earlier (perhaps interrupted) run left under --work")
    a = p.parse_args()
    a.rows = set(a.rows.split(","))

    if a.from_jsonl:
        lines = []
        for path in a.from_jsonl:
            with open(path, encoding="utf-8") as f:
                lines += [json.loads(t) for t in f if t.strip().startswith("{")]
        lines = [ln for ln in lines if ln.get("row") != "report"]
    else:
        peers = [x for x in a.peers.split(",") if x]
        unknown = [x for x in peers if x not in PEERS]
        if unknown:
            sys.exit(f"run_peers.py: unknown peers {unknown}; known: {', '.join(PEERS)}")
        if a.setup_only and not a.replay:
            bad = 0
            for peer in peers:
                _, why = ensure_venv(peer, a.venvs, a.install_timeout)
                log(f"{peer}: {'ready' if why is None else why}")
                bad += why is not None
            return 1 if bad else 0
        if not a.data or not os.path.isdir(a.data):
            sys.exit(f"run_peers.py: --data {a.data}: no such kit folder")
        a.data = os.path.abspath(a.data.rstrip("/"))
        kit_name = os.path.basename(a.data)
        out_dir = os.path.join(a.work, f"{kit_name}-{a.metric}", "lines")
        lines = []

        def emit(system, row, **fields):
            ln = {"bench": "peers", "system": system, "set": kit_name, "metric": a.metric,
                  "row": row}
            ln.update(fields)
            ln.setdefault("loadavg", [round(x, 2) for x in os.getloadavg()])
            lines.append(ln)

        facts = machine_facts()
        if a.replay:
            first = read_jsonl(os.path.join(out_dir, "phenix-copy.jsonl"))
            started = next((ln.get("date") for ln in first if ln.get("phase") == "context"), None)
            facts.update(date=started or "?", loadavg=None, replayed=True)
        emit("run", "context", **facts, data=a.data, efs=a.efs,
             filter_efs=a.filter_efs, runs=a.runs, passes=a.passes, peers=peers,
             note="queries one at a time on one client thread; loads use every core")
        if not a.no_phenix:
            start = time.time()
            PhenixRun(a, kit_name, out_dir, emit).run()
            log(f"phenix: {time.time() - start:.0f} s")
        worker = os.path.join(HERE, "peer_worker.py")
        worker_rows = {"load", "search", "filtered", "hybrid"} & a.rows
        if "graph" in a.rows or "hybrid" in a.rows:
            worker_rows.add("edges")
        for peer in peers:
            if a.replay:
                got = read_jsonl(os.path.join(out_dir, f"{peer}.jsonl"))
                lines += got
                if not got:
                    emit(peer, "run", error="no lines (the run stopped before this peer)")
                continue
            python, why = ensure_venv(peer, a.venvs, a.install_timeout)
            if python is None:
                emit(peer, "setup", error=why)
                continue
            start = time.time()
            got, status = run_lines(
                [python, worker, "--peer", peer, "--data", a.data, "--metric", a.metric,
                 "--workdir", os.path.join(a.work, f"{kit_name}-{a.metric}", peer),
                 "--efs", a.efs, "--filter-efs", a.filter_efs, "--filters", a.filters,
                 "--runs", str(a.runs), "--passes", str(a.passes), "--queries", str(a.queries),
                 "--rows", ",".join(sorted(worker_rows)),
                 "--lance-partitions", str(a.lance_partitions)],
                peer, a.timeout, os.path.join(out_dir, f"{peer}.jsonl"))
            lines += got
            if status:
                emit(peer, "run", error=status)
            log(f"{peer}: {time.time() - start:.0f} s{'' if not status else ', ' + status}")
            # The peer's database files are not needed after its run.
            shutil.rmtree(os.path.join(a.work, f"{kit_name}-{a.metric}", peer), ignore_errors=True)
        if not a.replay:
            emit("run", "end", loadavg=[round(x, 2) for x in os.getloadavg()],
                 date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
        for ln in lines:
            if ln.get("system") == "run" and ln.get("row") == "context":
                ln["set"] = kit_name

    trim_latencies(lines)
    rep = build_report(lines)
    text = markdown(rep)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w", encoding="utf-8") as f:
            for ln in lines:
                f.write(json.dumps(ln) + "\n")
            f.write(json.dumps(rep) + "\n")
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
