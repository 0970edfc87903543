#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Pairs Phenix ingest benchmarks with their raw RocksDB baselines and prints the ratios.

    python3 bench/compare_ingest.py build/release/bench-results.json [more.json ...] [--check]

Reads Google Benchmark JSON written by phenix_ingest_bench --benchmark_out=FILE
--benchmark_out_format=json (what `make bench` does) and prints one JSON object per pair:

    {"pair": "UpsertBatch/1000 sync", "phenix": "BM_Phenix_UpsertBatch/1000/...",
     "rocksdb": "BM_RocksDB_WriteBatch/1000/...", "phenix_items_per_second": ...,
     "rocksdb_items_per_second": ..., "ratio": ..., "phenix_cv": ..., "rocksdb_cv": ...,
     "samples": [5, 5], "runs": 1, "ratio_per_run": [...], "target": 0.8, "meets_target": false}

Each repetition of a benchmark is one sample; several files (runs) add more. Items/s are the
medians over all samples of each side and "ratio" is phenix/rocksdb of those medians. The
spread: phenix_cv / rocksdb_cv are the coefficients of variation (stdev/mean) of each side's
samples, and ratio_per_run is the same ratio computed within each file. (With random
interleaving, repetition k of one benchmark is not run next to repetition k of another, so
ratios are not paired by repetition.) If a file holds only aggregates
(--benchmark_report_aggregates_only), its "median" rows are used as the samples.

"target" is the goal for batched durable ingest (Phenix >= 0.8x raw RocksDB); the other pairs
have none (null). With --check the exit status is 1 when a pair with a target misses it.
Standard library only.
"""

import argparse
import json
import signal
import statistics
import sys

# Phenix benchmark -> (raw RocksDB counterpart, durability label, target ratio or None).
PAIRS = {
    "BM_Phenix_UpsertSingle": ("BM_RocksDB_PutSingle", "sync", None),
    "BM_Phenix_UpsertBatch": ("BM_RocksDB_WriteBatch", "sync", 0.8),
    "BM_Phenix_UpsertBatchRelaxed": ("BM_RocksDB_WriteBatchNoSync", "relaxed", None),
}


def load_samples(paths):
    """Returns {run_name: [[items_per_second of each repetition] for each file]}."""
    samples = {}
    for file_idx, path in enumerate(paths):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        rows = doc.get("benchmarks", [])
        has_iterations = any(r.get("run_type", "iteration") == "iteration" for r in rows)
        for row in rows:
            if row.get("error_occurred"):
                print(f"warning: {path}: {row.get('name')} failed: {row.get('error_message')}", file=sys.stderr)
                continue
            run_type = row.get("run_type", "iteration")
            if has_iterations and run_type != "iteration":
                continue
            if not has_iterations and row.get("aggregate_name") != "median":
                continue
            if "items_per_second" not in row:
                continue
            per_file = samples.setdefault(row.get("run_name", row["name"]), [[] for _ in paths])
            per_file[file_idx].append(float(row["items_per_second"]))
    return samples


def cv(values):
    if len(values) < 2:
        return None
    return round(statistics.stdev(values) / statistics.mean(values), 3)


def pair_label(phenix_run_name, durability):
    """'BM_Phenix_UpsertBatch/1000/iterations:250/real_time' -> 'UpsertBatch/1000 sync'."""
    family, _, rest = phenix_run_name.partition("/")
    parts = [p for p in rest.split("/") if p and not p.startswith(("iterations:", "min_time:", "repeats:"))
             and p not in ("real_time", "manual_time")]
    label = family.removeprefix("BM_Phenix_")
    label = "/".join([label] + parts)
    return f"{label} {durability}"


def compare(samples):
    results = []
    for name in sorted(samples):
        family, sep, rest = name.partition("/")
        if family not in PAIRS:
            continue
        rocks_family, durability, target = PAIRS[family]
        rocks_name = rocks_family + sep + rest
        if rocks_name not in samples:
            print(f"warning: no {rocks_name} to compare {name} with", file=sys.stderr)
            continue
        phenix_all = [v for per_file in samples[name] for v in per_file]
        rocks_all = [v for per_file in samples[rocks_name] for v in per_file]
        if not phenix_all or not rocks_all:
            continue
        phenix_ips = statistics.median(phenix_all)
        rocks_ips = statistics.median(rocks_all)
        ratio = phenix_ips / rocks_ips
        per_run = [round(statistics.median(p) / statistics.median(r), 3)
                   for p, r in zip(samples[name], samples[rocks_name]) if p and r]
        results.append({
            "pair": pair_label(name, durability),
            "phenix": name,
            "rocksdb": rocks_name,
            "phenix_items_per_second": round(phenix_ips, 1),
            "rocksdb_items_per_second": round(rocks_ips, 1),
            "ratio": round(ratio, 3),
            "phenix_cv": cv(phenix_all),
            "rocksdb_cv": cv(rocks_all),
            "samples": [len(phenix_all), len(rocks_all)],
            "runs": len(per_run),
            "ratio_per_run": per_run,
            "target": target,
            # Raw RocksDB writing Phenix's own two-key layout, when the run has it: how much of
            # the gap is the layout (rocksdb_indexed / rocksdb) and how much the engine
            # (phenix / rocksdb_indexed).
            **indexed_fields(samples, sep + rest, phenix_ips, rocks_ips, durability),
            "meets_target": None if target is None else ratio >= target,
        })
    return results


def indexed_fields(samples, suffix, phenix_ips, rocks_ips, durability):
    name = "BM_RocksDBIndexed_WriteBatch" + suffix
    if durability != "sync" or name not in samples:
        return {}
    values = [v for per_file in samples[name] for v in per_file]
    if not values:
        return {}
    indexed_ips = statistics.median(values)
    return {
        "rocksdb_indexed_items_per_second": round(indexed_ips, 1),
        "layout_ratio": round(indexed_ips / rocks_ips, 3),
        "phenix_vs_layout": round(phenix_ips / indexed_ips, 3),
    }


def sort_key(result):
    """Singles by thread count, then batches by size, relaxed last."""
    name = result["phenix"]
    family = name.partition("/")[0]
    order = list(PAIRS).index(family)
    numbers = [int(tok.split(":")[-1]) for tok in name.split("/")[1:]
               if tok.split(":")[-1].isdigit() and not tok.startswith("iterations:")]
    return (order, numbers)


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="Google Benchmark JSON output of phenix_ingest_bench")
    parser.add_argument("--check", action="store_true", help="exit 1 if a pair with a target misses it")
    args = parser.parse_args(argv)

    results = sorted(compare(load_samples(args.results)), key=sort_key)
    if not results:
        print("error: no Phenix/RocksDB pairs found", file=sys.stderr)
        return 2
    for result in results:
        print(json.dumps(result))
    if args.check and any(r["meets_target"] is False for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
