#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""COPY ... FROM against hnswlib building the same HNSW index, in the same run.

    /usr/bin/python3 bench/compare_copy.py --data /tmp/phenix-data/data/medium \
        [--bin build/release/bench/phenix_copy_bench] [--db /tmp/phenix-copy-db] \
        [--threads N] [--rounds 1] [--no-edges] [--no-meta] > results.jsonl

Runs, per round, bench/ann_baselines.py for hnswlib alone (M=16, ef_construction=200, --threads
build threads, default: every core, as Phenix's builder uses) and phenix_copy_bench (COPY of the
data kit converted to JSON lines into a fresh database, until the vector index holds every
vector). Prints every line of both, then one summary line per round:
{"lib":"compare-copy","hnswlib_build_per_s", "copy_per_s", "indexed_per_s",
 "ratio_copy", "ratio_indexed", "hnswlib_cpu_s", "indexed_cpu_s", "ratio_indexed_cpu"} (ratios:
Phenix rate / hnswlib rate, and hnswlib CPU seconds / Phenix CPU seconds to the complete index;
above 1 means Phenix is faster).
Use Debian's /usr/bin/python3 (python3-hnswlib, python3-numpy: scripts/install-deps.sh --bench).
"""

import argparse
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_lines(cmd):
    """The JSON lines `cmd` prints, and the CPU seconds (user + system) the child used."""
    print(f"compare_copy: {' '.join(cmd)}", file=sys.stderr, flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = []
    for text in out.splitlines():
        text = text.strip()
        if text.startswith("{"):
            print(text, flush=True)
            lines.append(json.loads(text))
    return lines, cpu


def phase(lines, lib, name):
    for line in lines:
        if line.get("lib") == lib and line.get("phase") == name:
            return line
    sys.exit(f"compare_copy: no {lib} {name} line")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--bin", default=os.path.join(HERE, "..", "build", "release", "bench",
                                                 "phenix_copy_bench"))
    p.add_argument("--db", default="/tmp/phenix-copy-db")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--no-edges", action="store_true")
    p.add_argument("--no-meta", action="store_true")
    a = p.parse_args()

    copy_cmd = [a.bin, f"--data={a.data}", f"--db={a.db}"]
    if a.no_edges:
        copy_cmd.append("--no-edges")
    if a.no_meta:
        copy_cmd.append("--no-meta")
    hnsw_cmd = ["/usr/bin/python3", os.path.join(HERE, "ann_baselines.py"), "--data", a.data,
                "--metric", "l2", "--m", "16", "--ef-construction", "200", "--libs", "hnswlib",
                "--threads", str(a.threads), "--efs", "64", "--runs", "1", "--nq", "200"]
    for round_idx in range(a.rounds):
        hnsw_lines, hnsw_cpu = run_lines(hnsw_cmd)
        hnsw = phase(hnsw_lines, "hnswlib", "build")
        copy_lines, _ = run_lines(copy_cmd)
        context = phase(copy_lines, "phenix-copy", "context")
        copied = phase(copy_lines, "phenix-copy", "copy")
        indexed = phase(copy_lines, "phenix-copy", "indexed")
        n = context["n"]
        hnsw_rate = n / hnsw["seconds"]
        print(json.dumps({
            "lib": "compare-copy", "round": round_idx, "n": n, "threads": a.threads,
            "cpu": context.get("cpu"), "hnswlib_build_s": hnsw["seconds"],
            "hnswlib_build_per_s": round(hnsw_rate), "copy_s": round(copied["seconds"], 3),
            "copy_per_s": round(copied["entities_per_s"]),
            "indexed_s": round(indexed["seconds"], 3),
            "indexed_per_s": round(indexed["entities_per_s"]),
            "ratio_copy": round(copied["entities_per_s"] / hnsw_rate, 3),
            "ratio_indexed": round(indexed["entities_per_s"] / hnsw_rate, 3),
            # CPU seconds: hnswlib's whole child process (reading the set, the build, 200
            # queries); Phenix's from the start of COPY to the complete index. Less disturbed
            # by other work on a shared machine than the wall-clock ratios.
            "hnswlib_cpu_s": round(hnsw_cpu, 1),
            "indexed_cpu_s": round(indexed.get("cpu_seconds", 0), 1),
            "ratio_indexed_cpu": round(hnsw_cpu / indexed["cpu_seconds"], 3)
            if indexed.get("cpu_seconds") else None,
        }), flush=True)


if __name__ == "__main__":
    main()
