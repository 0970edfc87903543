#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small synthetic set with groups of identical vectors, in the data kit's layout, for
reproducing what the Debian catalog shows (bench/real/README.md) in seconds:

  /usr/bin/python3 bench/real/dup_kit.py --out /tmp/phenix-data/data/syn-dup
  build/release/bench/phenix_vector_bench --data=/tmp/phenix-data/data/syn-dup --metric=cos \
      --threads=1 --efs=16,64,256

N random unit vectors (Gaussian, --dim dimensions), then --groups groups in which --copies
rows are overwritten with one row's vector (byte-identical); queries are base rows plus Gaussian
noise. --noise adds that much noise to each copy instead (near-duplicates, for comparison).
Writes base.fvecs, query.fvecs, gt_cos.* and gt_l2.* (the same order: the vectors are unit
length). Deterministic for a seed and numpy version.

--dedup-from DIR instead copies a kit set (e.g. the Debian catalog's) keeping only the first row
of every group of identical vectors, with the same queries and new ground truth:

  /usr/bin/python3 bench/real/dup_kit.py --dedup-from /tmp/phenix-data/data/debian \
      --out /tmp/phenix-data/data/debian-dedup
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from debian_catalog import Cosine, write_vecs  # noqa: E402


def read_vecs(path):
    raw = np.fromfile(path, dtype="<i4")
    return raw.reshape(-1, int(raw[0]) + 1)[:, 1:].copy().view("<f4")


def write_gt(out, base, queries):
    ids, dists = Cosine(base).topk(queries, 100)
    for metric in ("cos", "l2"):
        write_vecs(os.path.join(out, f"gt_{metric}.ivecs"), ids, "<i4")
        # cosine: 1 - cos; l2: the squared distance, 2 (1 - cos) for unit vectors
        write_vecs(os.path.join(out, f"gt_{metric}.dist.fvecs"),
                   dists if metric == "cos" else 2 * dists, "<f4")


def dedup(src, out):
    base = read_vecs(os.path.join(src, "base.fvecs"))
    queries = read_vecs(os.path.join(src, "query.fvecs"))
    seen = set()
    keep = []
    for row in range(len(base)):
        key = base[row].tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(row)
    os.makedirs(out, exist_ok=True)
    write_vecs(os.path.join(out, "base.fvecs"), base[keep], "<f4")
    write_vecs(os.path.join(out, "query.fvecs"), queries, "<f4")
    write_gt(out, base[keep], queries)
    print(f"wrote {out}: {len(keep)} of {len(base)} rows (one per identical-vector group), "
          f"{len(queries)} queries", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/phenix-data/data/syn-dup")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--groups", type=int, default=12)
    ap.add_argument("--copies", type=int, default=60, help="extra copies per group")
    ap.add_argument("--noise", type=float, default=0.0, help="per-copy noise (0: identical)")
    ap.add_argument("--nq", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dedup-from", help="a kit set to copy without its duplicate rows")
    args = ap.parse_args()
    if args.dedup_from:
        dedup(args.dedup_from, args.out)
        return
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    if args.groups:
        rows = rng.choice(args.n, size=args.groups * (args.copies + 1), replace=False)
        for group in rows.reshape(args.groups, args.copies + 1):
            x[group[1:]] = x[group[0]] + (args.noise * rng.standard_normal(
                (args.copies, args.dim))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.choice(args.n, args.nq)] + 0.3 * rng.standard_normal((args.nq, args.dim)).astype(
        np.float32)
    os.makedirs(args.out, exist_ok=True)
    write_vecs(os.path.join(args.out, "base.fvecs"), x, "<f4")
    write_vecs(os.path.join(args.out, "query.fvecs"), q, "<f4")
    write_gt(args.out, x, q)
    print(f"wrote {args.out}: {args.n} x {args.dim}, {args.groups} groups of "
          f"{args.copies + 1} {'identical' if args.noise == 0 else 'near-identical'} vectors, "
          f"{args.nq} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
