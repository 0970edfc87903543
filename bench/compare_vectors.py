#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs Phenix's vector benchmark and the hnswlib/faiss baselines in one go and compares them.

    /usr/bin/python3 bench/compare_vectors.py --data /tmp/phenix-data/data/medium --metric l2 \\
        [--bench build/release/bench/phenix_vector_bench] [--threads 2] [--runs 3] \\
        [--efs 10,16,24,32,48,64,96,128,256] [--k 10] [--queries N] [--filtered] [--int8] \\
        [--libs hnswlib,faiss-hnsw,faiss-flat] [--save PATH] [--out results.jsonl] \\
        [--markdown [FILE]]
    /usr/bin/python3 bench/compare_vectors.py --from-jsonl results.jsonl [more.jsonl ...] [--markdown]

Runs, one after the other on this machine and with the same build threads, ef sweep, k and
--runs (best of N timed passes): bench/e2e/vector_bench.cc (phenix_vector_bench; a second time
with --int8 when --int8 is given) and bench/ann_baselines.py (--libs; --libs '' skips it).
Every JSON line they print is kept (--out writes them all, then the report line) and the report
compares them:

  * QPS at recall@k = 0.90 / 0.95 / 0.99 for each lib, interpolated linearly on the lib's
    recall/QPS Pareto frontier (its sweep points that no other point beats on both); None if the
    lib never reaches the recall; "bound": true when even its fastest point is above the target,
    so the value is a lower bound. Ratios phenix/hnswlib and phenix/faiss-hnsw.
  * Build seconds and memory (index_bytes, rss_bytes: resident-set growth over the build) as
    ratios phenix/hnswlib.
  * --int8: memory int8/float and recall (and QPS) at each ef of both phenix runs.
  * --filtered: for each filter, phenix's planner ("auto") QPS at recall 0.95 divided by phenix's
    unfiltered QPS at recall 0.95 (goal: >= 0.5), the strategies the planner chose, the best
    forced strategy (exact_scan / in_graph / post_filter) and hnswlib's post-filter (and other
    baseline filter methods) for reference; plus the correctness counters (short_results: a
    query got fewer than min(k, matches) rows; wrong_rows: a row outside the filter).

Output on stdout: a plain-text report (or, with --markdown and no FILE, Markdown tables to paste
into docs/benchmarks.md), then one JSON line {"phase": "report", ...}. --from-jsonl reads lines
saved earlier (by --out, or by the drivers themselves) instead of running anything. Progress
and the drivers' stderr go to stderr. Exit status: 0, or 2 on bad arguments or when a driver
cannot be started. Standard library only (numpy is not needed).
"""

import argparse
import json
import os
import subprocess
import sys

TARGETS = (0.90, 0.95, 0.99)
FILTER_RECALL = 0.95
FILTER_GOAL = 0.5  # filtered auto QPS / unfiltered QPS at FILTER_RECALL
FORCED = ("exact_scan", "in_graph", "post_filter")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1 << 20


def log(msg):
    print(f"[compare_vectors] {msg}", file=sys.stderr, flush=True)


def die(msg):
    print(f"compare_vectors.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- collecting lines

def parse_lines(text_lines, source):
    out = []
    for num, line in enumerate(text_lines, 1):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            log(f"{source}:{num}: skipping malformed JSON line ({e})")
            continue
        if isinstance(obj, dict) and obj.get("phase") != "report":
            out.append(obj)
    return out


def run_driver(cmd, label):
    """Runs cmd, streams its stderr through, returns the JSON lines of its stdout."""
    log(f"{label}: {' '.join(cmd)}")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    except OSError as e:
        die(f"cannot run {cmd[0]}: {e}")
    lines = []
    for line in proc.stdout:
        lines.append(line)
    rc = proc.wait()
    if rc != 0:
        log(f"{label}: exited with status {rc} (its lines are still reported)")
    return parse_lines(lines, label), rc


def find_bench(path):
    for candidate in (path, os.path.join(REPO, path)):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    die(f"phenix driver not found: {path} (build the phenix_vector_bench target)")


def run_all(a):
    common = [f"--data={a.data}", f"--metric={a.metric}", f"--threads={a.threads}",
              f"--efs={a.efs}", f"--k={a.k}", f"--runs={a.runs}"]
    if a.queries:
        common.append(f"--queries={a.queries}")
    bench = find_bench(a.bench)
    lines, status = [], {}
    cmd = [bench, *common] + (["--filtered"] if a.filtered else []) + \
        ([f"--save={a.save}"] if a.save else [])
    got, status["phenix"] = run_driver(cmd, "phenix")
    lines += got
    if a.int8:
        got, status["phenix-int8"] = run_driver([bench, *common, "--int8"], "phenix-int8")
        lines += got
    if a.libs.strip():
        script = os.path.join(REPO, "bench", "ann_baselines.py")
        if not os.path.isfile(script):
            die(f"{script} not found")
        cmd = [a.python, script, "--data", a.data, "--metric", a.metric, "--threads",
               str(a.threads), "--efs", a.efs, "--k", str(a.k), "--runs", str(a.runs),
               "--libs", a.libs] + (["--filtered"] if a.filtered else []) + \
            (["--nq", str(a.queries)] if a.queries else [])
        got, status["baselines"] = run_driver(cmd, "baselines")
        lines += got
    return lines, status


# ---------------------------------------------------------------- curves

def label_of(line):
    lib = line.get("lib", "?")
    return f"{lib}-int8" if lib == "phenix" and line.get("int8") else lib


def frontier(points):
    """Pareto frontier of (recall, qps) points, by recall ascending (qps then descending)."""
    best_qps = -1.0
    keep = []
    for recall, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best_qps:
            keep.append((recall, qps))
            best_qps = qps
    keep.reverse()
    return keep


def qps_at(points, target):
    """(qps, is_lower_bound) at recall `target` on the frontier of points; (None, False) if the
    recall is never reached."""
    front = frontier([(float(r), float(q)) for r, q in points if r is not None and q])
    if not front or front[-1][0] < target:
        return None, False
    for idx, (recall, qps) in enumerate(front):
        if recall >= target:
            if idx == 0:
                return qps, recall > target
            r0, q0 = front[idx - 1]
            return q0 + (qps - q0) * (target - r0) / (recall - r0), False
    return None, False


def max_recall_point(points):
    """(recall, qps) of the highest-recall point (fastest among ties)."""
    pts = [(float(r), float(q)) for r, q in points if r is not None and q]
    return max(pts, key=lambda p: (p[0], p[1])) if pts else (None, None)


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def rnd(x, digits=1):
    return None if x is None else round(x, digits)


# ---------------------------------------------------------------- report

def build_report(lines):
    search, builds, filtered, filter_counts, saves, exacts, contexts = {}, {}, {}, [], [], [], []
    for line in lines:
        phase, label = line.get("phase"), label_of(line)
        if phase == "search":
            search.setdefault(label, []).append(line)
        elif phase == "build":
            builds[label] = line
        elif phase == "filtered" and line.get("supported", True) and "recall" in line:
            filtered.setdefault((label, line.get("filter"), line.get("method")), []).append(line)
        elif phase == "filter":
            filter_counts.append(line)
        elif phase == "save":
            saves.append(line)
        elif phase == "exact":
            exacts.append(line)
        elif phase == "context":
            contexts.append(line)
    curves = {lbl: [(ln.get("recall"), ln.get("qps")) for ln in lns] for lbl, lns in search.items()}
    any_line = next((ln for ln in lines if "set" in ln), {})
    report = {"phase": "report", "set": any_line.get("set"), "metric": any_line.get("metric"),
              "context": contexts[0] if contexts else None, "libs": sorted(curves)}

    # QPS at recall targets.
    at = {}
    for lbl, pts in curves.items():
        at[lbl] = {}
        for t in TARGETS:
            q, bound = qps_at(pts, t)
            at[lbl][f"{t:.2f}"] = {"qps": rnd(q), "bound": bound}
    report["qps_at_recall"] = at
    ratios = {}
    for t in TARGETS:
        key = f"{t:.2f}"
        mine = at.get("phenix", {}).get(key, {}).get("qps")
        ratios[key] = {f"phenix/{ref}": rnd(ratio(mine, at.get(ref, {}).get(key, {}).get("qps")), 3)
                       for ref in ("hnswlib", "faiss-hnsw") if ref in at}
        if "phenix-int8" in at:
            q8 = at["phenix-int8"].get(key, {}).get("qps")
            ratios[key]["phenix-int8/hnswlib"] = rnd(
                ratio(q8, at.get("hnswlib", {}).get(key, {}).get("qps")), 3)
    report["ratios"] = ratios

    # Build time and memory.
    fields = ("seconds", "index_bytes", "rss_bytes", "peak_rss_bytes")
    report["build"] = {lbl: {f: b.get(f) for f in fields + ("threads", "n")} for lbl, b in builds.items()}
    ref = builds.get("hnswlib")
    report["build_ratios_vs_hnswlib"] = {
        lbl: {f: rnd(ratio(b.get(f), ref.get(f)), 3) for f in fields[:3]}
        for lbl, b in builds.items() if ref is not None and lbl != "hnswlib"}

    # int8 against float.
    if "phenix-int8" in builds or "phenix-int8" in search:
        b32, b8 = builds.get("phenix", {}), builds.get("phenix-int8", {})
        by_ef = {}
        for lbl in ("phenix", "phenix-int8"):
            for ln in search.get(lbl, []):
                by_ef.setdefault(ln.get("ef"), {})[lbl] = {"recall": ln.get("recall"), "qps": ln.get("qps")}
        report["int8"] = {
            "memory_ratio": {f: rnd(ratio(b8.get(f), b32.get(f)), 3)
                             for f in ("index_bytes", "vectors_bytes", "rss_bytes")},
            "by_ef": [{"ef": ef, **vals} for ef, vals in sorted(by_ef.items(), key=lambda kv: kv[0] or 0)],
        }

    # Filtered (only when phenix ran filtered; baseline-only lines have nothing to compare with).
    # The float run when there is one (compare_vectors runs --filtered only there).
    phenix_filtered = {lbl for (lbl, _name, _method) in filtered if lbl.startswith("phenix")}
    if phenix_filtered:
        plabel = "phenix" if "phenix" in phenix_filtered else sorted(phenix_filtered)[0]
        unfiltered_qps, _ = qps_at(curves.get(plabel, []), FILTER_RECALL)
        rows = []
        names = []
        for (lbl, name, _method) in filtered:
            if name not in names:
                names.append(name)
        for name in names:
            def pts(lbl, method):
                return [(ln.get("recall"), ln.get("qps")) for ln in filtered.get((lbl, name, method), [])]
            auto_lines = filtered.get((plabel, name, "auto"), [])
            any_ln = next((ln for (lbl, nm, _m), lns in filtered.items() if nm == name for ln in lns), {})
            auto_qps, auto_bound = qps_at(pts(plabel, "auto"), FILTER_RECALL)
            chosen = {}
            for ln in auto_lines:
                for strategy, count in (ln.get("chosen_counts") or {ln.get("chosen"): 1}).items():
                    chosen[strategy] = chosen.get(strategy, 0) + count
            best = None
            for method in FORCED:
                p = pts(plabel, method)
                if not p:
                    continue
                q, bound = qps_at(p, FILTER_RECALL)
                mr, mq = max_recall_point(p)
                cand = {"method": method, "qps_at_target": rnd(q), "bound": bound,
                        "max_recall": mr, "qps_at_max_recall": mq}
                key = (q is not None, q or 0, mr or 0)
                if best is None or key > best[0]:
                    best = (key, cand)
            refs = {}
            for (lbl, nm, method) in filtered:
                if nm != name or lbl.startswith("phenix"):
                    continue
                p = pts(lbl, method)
                q, bound = qps_at(p, FILTER_RECALL)
                mr, mq = max_recall_point(p)
                refs[f"{lbl}:{method}"] = {"qps_at_target": rnd(q), "bound": bound,
                                           "max_recall": mr, "qps_at_max_recall": mq}
            phenix_lines = [ln for (lbl, nm, _m), lns in filtered.items()
                            if nm == name and lbl == plabel for ln in lns]
            auto_ratio = ratio(auto_qps, unfiltered_qps)
            amr, amq = max_recall_point(pts(plabel, "auto"))
            rows.append({
                "filter": name, "selectivity": any_ln.get("selectivity"), "n_match": any_ln.get("n_match"),
                "auto_qps_at_target": rnd(auto_qps), "auto_bound": auto_bound,
                "unfiltered_qps_at_target": rnd(unfiltered_qps), "ratio": rnd(auto_ratio, 3),
                "meets_goal": auto_ratio is not None and auto_ratio >= FILTER_GOAL,
                "auto_max_recall": amr, "auto_qps_at_max_recall": amq, "auto_chosen": chosen,
                "auto_fell_back": sum(ln.get("fell_back", 0) for ln in auto_lines),
                "short_results": sum(ln.get("short_results", 0) for ln in phenix_lines),
                "wrong_rows": sum(ln.get("wrong_rows", 0) for ln in phenix_lines),
                "best_forced": best[1] if best else None,
                "baselines": refs,
            })
        report["filtered"] = {"phenix_run": plabel, "target_recall": FILTER_RECALL, "goal_ratio": FILTER_GOAL, "filters": rows}

    report["checks"] = {
        "search_short_results": sum(ln.get("short_results", 0) for lbl, lns in search.items()
                                    if lbl.startswith("phenix") for ln in lns),
        "exact_recall": [ln.get("recall") for ln in exacts],
        "save_identical": [ln.get("identical") for ln in saves] or None,
        "save_load_seconds": [[ln.get("save_seconds"), ln.get("load_seconds")] for ln in saves] or None,
        "filter_counts_ok": all(ln.get("ok", True) for ln in filter_counts) if filter_counts else None,
    }
    return report


# ---------------------------------------------------------------- printing

def fmt_qps(cell):
    if not cell or cell.get("qps") is None:
        return "—"
    return ("≥" if cell.get("bound") else "") + f"{cell['qps']:,.0f}"


def fmt(x, spec=".2f", none="—"):
    return none if x is None else format(x, spec)


def fmt_mib(b):
    return "—" if b is None else f"{b / MIB:,.1f}"


def markdown(rep):
    out = []
    ctx = rep.get("context") or {}
    out.append(f"Set `{rep.get('set')}`, metric {rep.get('metric')}; "
               f"{ctx.get('cpu', '?')}, SIMD {ctx.get('simd', '?')}, {ctx.get('date', '?')}; "
               "QPS single-thread, one query at a time.")
    out.append("")
    libs = [lbl for lbl in ("phenix", "phenix-int8", "hnswlib", "faiss-hnsw", "faiss-flat")
            if lbl in rep["qps_at_recall"]]
    refs = [r for r in ("hnswlib", "faiss-hnsw") if r in rep["qps_at_recall"]]
    head = ["recall@10"] + [f"{lbl} QPS" for lbl in libs] + [f"phenix / {r}" for r in refs]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for t in TARGETS:
        key = f"{t:.2f}"
        cells = [key] + [fmt_qps(rep["qps_at_recall"][lbl].get(key)) for lbl in libs]
        cells += [fmt(rep["ratios"][key].get(f"phenix/{r}")) for r in refs]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if rep["build"]:
        out.append("| lib | build s | threads | index MiB | RSS growth MiB | build × hnswlib | index × hnswlib | RSS × hnswlib |")
        out.append("|---|---|---|---|---|---|---|---|")
        for lbl, b in rep["build"].items():
            r = rep["build_ratios_vs_hnswlib"].get(lbl, {})
            out.append(f"| {lbl} | {fmt(b.get('seconds'), '.1f')} | {b.get('threads')} | "
                       f"{fmt_mib(b.get('index_bytes'))} | {fmt_mib(b.get('rss_bytes'))} | "
                       f"{fmt(r.get('seconds'))} | {fmt(r.get('index_bytes'))} | {fmt(r.get('rss_bytes'))} |")
        out.append("")
    if "int8" in rep:
        m = rep["int8"]["memory_ratio"]
        out.append(f"int8 / float memory: index {fmt(m.get('index_bytes'))}, vectors "
                   f"{fmt(m.get('vectors_bytes'))}, RSS growth {fmt(m.get('rss_bytes'))}.")
        out.append("")
        out.append("| ef | recall float | recall int8 | QPS float | QPS int8 |")
        out.append("|---|---|---|---|---|")
        for row in rep["int8"]["by_ef"]:
            f32, i8 = row.get("phenix", {}), row.get("phenix-int8", {})
            out.append(f"| {row['ef']} | {fmt(f32.get('recall'), '.4f')} | {fmt(i8.get('recall'), '.4f')} | "
                       f"{fmt(f32.get('qps'), ',.0f')} | {fmt(i8.get('qps'), ',.0f')} |")
        out.append("")
    if "filtered" in rep:
        fr = rep["filtered"]
        tgt = fr["target_recall"]
        out.append(f"Filtered (first 100 queries; QPS at recall@10 = {tgt}; goal: auto ≥ "
                   f"{fr['goal_ratio']} × unfiltered):")
        out.append("")
        out.append("| filter | selectivity | planner chose | auto QPS | × unfiltered | auto max recall | "
                   "best forced | hnswlib post-filter QPS (max recall) |")
        out.append("|---|---|---|---|---|---|---|---|")
        for row in fr["filters"]:
            chosen = ", ".join(f"{k} {v}" for k, v in sorted(row["auto_chosen"].items(), key=lambda kv: -kv[1]))
            bf = row.get("best_forced") or {}
            bf_txt = (f"{bf.get('method')} {fmt_qps({'qps': bf.get('qps_at_target'), 'bound': bf.get('bound')})}"
                      if bf else "—")
            if bf and bf.get("qps_at_target") is None:
                bf_txt = f"{bf.get('method')} — (max {fmt(bf.get('max_recall'), '.3f')})"
            hp = row["baselines"].get("hnswlib:post_filter")
            hp_txt = (f"{fmt_qps({'qps': hp['qps_at_target'], 'bound': hp['bound']})} "
                      f"({fmt(hp['max_recall'], '.3f')})") if hp else "—"
            sel = row.get("selectivity")
            out.append(f"| {row['filter']} | {fmt(sel * 100 if sel is not None else None, '.2f')}% | {chosen or '—'} | "
                       f"{fmt_qps({'qps': row['auto_qps_at_target'], 'bound': row['auto_bound']})} | "
                       f"{fmt(row['ratio'])} | {fmt(row['auto_max_recall'], '.3f')} | {bf_txt} | {hp_txt} |")
        out.append("")
    return "\n".join(out)


def plain(rep):
    out = []
    ctx = rep.get("context") or {}
    out.append(f"set={rep.get('set')} metric={rep.get('metric')} cpu={ctx.get('cpu')} "
               f"simd={ctx.get('simd')} date={ctx.get('date')}")
    out.append("QPS at recall@k (≥: lower bound, the lib's fastest point is already above the target):")
    for lbl, cells in rep["qps_at_recall"].items():
        out.append(f"  {lbl:12s} " + "  ".join(f"{t}: {fmt_qps(c):>10s}" for t, c in cells.items()))
    for t, rs in rep["ratios"].items():
        if rs:
            out.append(f"  ratios at {t}: " + ", ".join(f"{k} {fmt(v, '.3f')}" for k, v in rs.items()))
    out.append("Build:")
    for lbl, b in rep["build"].items():
        r = rep["build_ratios_vs_hnswlib"].get(lbl, {})
        out.append(f"  {lbl:12s} {fmt(b.get('seconds'), '.1f')} s ({b.get('threads')} threads), index "
                   f"{fmt_mib(b.get('index_bytes'))} MiB, rss +{fmt_mib(b.get('rss_bytes'))} MiB"
                   + (f"  vs hnswlib: time {fmt(r.get('seconds'))}x, index {fmt(r.get('index_bytes'))}x, "
                      f"rss {fmt(r.get('rss_bytes'))}x" if r else ""))
    if "int8" in rep:
        m = rep["int8"]["memory_ratio"]
        out.append(f"int8/float memory: index {fmt(m.get('index_bytes'))}x, vectors "
                   f"{fmt(m.get('vectors_bytes'))}x, rss {fmt(m.get('rss_bytes'))}x")
        for row in rep["int8"]["by_ef"]:
            f32, i8 = row.get("phenix", {}), row.get("phenix-int8", {})
            out.append(f"  ef={row['ef']:<4} recall float {fmt(f32.get('recall'), '.4f')} int8 "
                       f"{fmt(i8.get('recall'), '.4f')}   qps float {fmt(f32.get('qps'), '.0f')} int8 "
                       f"{fmt(i8.get('qps'), '.0f')}")
    if "filtered" in rep:
        fr = rep["filtered"]
        out.append(f"Filtered (QPS at recall {fr['target_recall']}, goal auto/unfiltered >= {fr['goal_ratio']}):")
        for row in fr["filters"]:
            bf = row.get("best_forced") or {}
            out.append(
                f"  {row['filter']:28s} sel {fmt(row.get('selectivity'), '.4f')}  auto "
                f"{fmt_qps({'qps': row['auto_qps_at_target'], 'bound': row['auto_bound']})} qps "
                f"(x{fmt(row['ratio'])} of unfiltered, {'OK' if row['meets_goal'] else 'MISSES GOAL'}), "
                f"max recall {fmt(row['auto_max_recall'], '.3f')}, chose {row['auto_chosen']}, fell back "
                f"{row['auto_fell_back']}; best forced {bf.get('method')} "
                f"{fmt_qps({'qps': bf.get('qps_at_target'), 'bound': bf.get('bound')})} qps (max recall "
                f"{fmt(bf.get('max_recall'), '.3f')}); short_results {row['short_results']}, wrong_rows "
                f"{row['wrong_rows']}")
            for name, ref in row["baselines"].items():
                out.append(f"      {name:28s} {fmt_qps({'qps': ref['qps_at_target'], 'bound': ref['bound']})} qps, "
                           f"max recall {fmt(ref['max_recall'], '.3f')} at {fmt(ref['qps_at_max_recall'], '.0f')} qps")
    out.append(f"Checks: {json.dumps(rep['checks'])}")
    return "\n".join(out)


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="data set folder, e.g. /tmp/phenix-data/data/medium")
    p.add_argument("--metric", choices=["l2", "cos"], default="l2")
    p.add_argument("--bench", default="build/release/bench/phenix_vector_bench",
                   help="phenix_vector_bench (relative to the current folder or the repository)")
    p.add_argument("--python", default="/usr/bin/python3", help="interpreter for ann_baselines.py")
    p.add_argument("--threads", type=int, default=2, help="build threads, every lib")
    p.add_argument("--runs", type=int, default=3, help="timed passes per ef, best reported")
    p.add_argument("--efs", default="10,16,24,32,48,64,96,128,256")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--queries", type=int, default=0, help="only the first N queries (0: all)")
    p.add_argument("--filtered", action="store_true")
    p.add_argument("--int8", action="store_true", help="also run phenix with --int8")
    p.add_argument("--save", default="", help="phenix: Save/Load round trip through this path")
    p.add_argument("--libs", default="hnswlib,faiss-hnsw,faiss-flat",
                   help="baselines for ann_baselines.py ('' runs none)")
    p.add_argument("--out", help="write every collected JSON line, then the report line, here")
    p.add_argument("--from-jsonl", nargs="+", metavar="FILE",
                   help="read saved JSON lines instead of running the drivers")
    p.add_argument("--markdown", nargs="?", const="-", metavar="FILE",
                   help="Markdown tables for docs/benchmarks.md (to FILE, or instead of the text)")
    a = p.parse_args()

    if a.from_jsonl:
        lines = []
        for path in a.from_jsonl:
            try:
                with open(path, encoding="utf-8") as f:
                    lines += parse_lines(f, path)
            except OSError as e:
                die(f"cannot read {path}: {e}")
    else:
        if not a.data:
            die("--data is required (or --from-jsonl)")
        if not os.path.isdir(a.data):
            die(f"--data {a.data}: no such directory")
        lines, status = run_all(a)
        if any(status.values()):
            log(f"exit statuses: {status}")
    if not lines:
        die("no JSON lines to report on")

    rep = build_report(lines)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            for ln in lines:
                f.write(json.dumps(ln) + "\n")
            f.write(json.dumps(rep) + "\n")
    if a.markdown and a.markdown != "-":
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(rep) + "\n")
    print(markdown(rep) if a.markdown == "-" else plain(rep))
    print(json.dumps(rep), flush=True)


if __name__ == "__main__":
    main()
