#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference ANN baselines (hnswlib, faiss) on a data set from shared/bench/make_vectors.py.

    /usr/bin/python3 bench/ann_baselines.py --data /tmp/phenix-data/data/medium --metric l2 \
        [--m 16] [--ef-construction 200] [--efs 10,16,24,32,48,64,96,128,256] [--threads 2] \
        [--k 10] [--libs hnswlib,faiss-hnsw,faiss-flat] [--runs 3] [--nq N] \
        [--filtered] [--kprimes 10,100,500,2000] [--filter-ef 64] > results.jsonl

Use Debian's interpreter (/usr/bin/python3, with python3-hnswlib, python3-faiss and
python3-numpy); the pyenv python3 first in PATH has no numpy.

For every lib the index is built on base.fvecs with --threads threads (cosine: hnswlib
space 'cosine'; faiss: L2-normalised vectors + inner product, distance = 1 - ip) and then,
for every ef, all queries are searched ONE AT A TIME on one thread, each timed with
time.perf_counter_ns. QPS = nq / wall time of the whole loop (best of --runs runs; the
p50/p99 latencies come from that best run), recall@k against gt_l2.ivecs / gt_cos.ivecs.

Libs: hnswlib (M, ef_construction, ef sweep), faiss-hnsw (IndexHNSWFlat(dim, M),
efConstruction, efSearch = ef), faiss-flat (IndexFlatL2 / IndexFlatIP brute force; one
search line with ef = null, recall should be 1.0).

Each lib runs in its own child process so that its memory numbers are not disturbed by the
previous lib: rss_bytes = resident-set growth from just before the index is created to just
after the build (/proc/self/statm), peak_rss_bytes = VmHWM growth over the same span (when
/proc/self/clear_refs allows resetting it), index_bytes = hnswlib save_index() file size or
len(faiss.serialize_index()).

--filtered additionally reads filters.json + meta.jsonl, evaluates every filter's Mongo-like
`where` ($eq $ne $lt $lte $gt $gte $in $nin, $and $or; bare values mean $eq) to a boolean
mask, checks its count against n_match, and for the first n_queries (100) queries x every
filter measures, against filtered_gt_{l2,cos}.ivecs (row = filter_index*100 + query_index,
-1 padding ignored: denominator = min(k, valid ids)):
  post_filter       hnswlib knn_query with k' in --kprimes (ef = max(k', --filter-ef)),
                    keep the matching ids, first k of them
  hnswlib_filter    hnswlib's knn_query(filter=callable) with the ef sweep, if the installed
                    hnswlib has it (0.6.2 does not: a "supported": false line is printed)
  faiss_hnsw_filter faiss IndexHNSWFlat with SearchParametersHNSW(sel=IDSelectorBitmap):
                    the filter is applied during the graph search, ef sweep (if faiss-hnsw
                    is in --libs)
  exact_scan        numpy brute force over the matching rows only (pre-gathered), one query
                    at a time, single-threaded BLAS
Output: one JSON object per line on stdout; progress on stderr.
"""

import os

# Single-threaded BLAS for the numpy exact scan and brute-force helpers (must precede numpy).
for _v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time

import numpy as np

ALL_LIBS = ("hnswlib", "faiss-hnsw", "faiss-flat")
PAGE = os.sysconf("SC_PAGE_SIZE")


def die(msg):
    print(f"ann_baselines.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def log(msg):
    print(f"[ann_baselines] {msg}", file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj), flush=True)


# ---------------------------------------------------------------- files

def need(path):
    if not os.path.isfile(path):
        die(f"missing file {path} (generate the set with shared/bench/make_vectors.py)")
    return path


def read_vecs(path, dtype):
    """Memory-map a TEXMEX .fvecs/.ivecs file; returns a (rows, d) strided view (no copy)."""
    need(path)
    size = os.path.getsize(path)
    if size < 4:
        die(f"{path}: empty")
    d = int(np.fromfile(path, dtype="<i4", count=1)[0])
    if d <= 0 or size % (4 * (d + 1)) != 0:
        die(f"{path}: not a valid vecs file (dim {d}, {size} bytes)")
    raw = np.memmap(path, dtype="<i4", mode="r").reshape(-1, d + 1)
    if not np.all(raw[:, 0] == d):
        die(f"{path}: rows have differing dimensions")
    return raw[:, 1:].view(dtype)


def load_f32(path, rows=None):
    v = read_vecs(path, "<f4")
    if rows is not None:
        v = v[:rows]
    return np.ascontiguousarray(v, dtype=np.float32)


def load_i32(path, rows=None, cols=None):
    v = read_vecs(path, "<i4")
    if rows is not None:
        v = v[:rows]
    if cols is not None:
        v = v[:, :cols]
    return np.ascontiguousarray(v, dtype=np.int64)


def normalized(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32, copy=False)


# ---------------------------------------------------------------- memory

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def hwm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


# ---------------------------------------------------------------- scoring

def recall_rows(found, gt, k):
    """Mean recall@k; gt rows may hold -1 padding (denominator = min(k, valid ids))."""
    tot = 0.0
    for f, g in zip(found, gt):
        g = g[:k]
        g = g[g >= 0]
        if len(g) == 0:
            tot += 1.0
            continue
        tot += len(np.intersect1d(f[:k], g)) / min(k, len(g))
    return tot / len(found)


def timed_loop(nq, one, runs, k):
    """Run one(i) -> ids for all queries one at a time; best-of-runs wall time."""
    best = None
    for _ in range(runs):
        found = np.full((nq, k), -1, dtype=np.int64)
        lat = np.empty(nq, dtype=np.int64)
        pc = time.perf_counter_ns
        t0 = pc()
        for i in range(nq):
            s = pc()
            ids = one(i)
            lat[i] = pc() - s
            n = min(k, len(ids))
            found[i, :n] = ids[:n]
        wall = pc() - t0
        if best is None or wall < best[0]:
            best = (wall, lat, found)
    wall, lat, found = best
    return found, {
        "qps": round(nq / (wall / 1e9), 1),
        "p50_us": round(float(np.percentile(lat, 50)) / 1e3, 2),
        "p99_us": round(float(np.percentile(lat, 99)) / 1e3, 2),
        "mean_us": round(float(lat.mean()) / 1e3, 2),
        "nq": nq,
        "runs": runs,
    }


# ---------------------------------------------------------------- filters

OPS = {
    "$eq": lambda c, v: c == v,
    "$ne": lambda c, v: c != v,
    "$lt": lambda c, v: c < v,
    "$lte": lambda c, v: c <= v,
    "$gt": lambda c, v: c > v,
    "$gte": lambda c, v: c >= v,
    "$in": lambda c, v: np.isin(c, list(v)),
    "$nin": lambda c, v: ~np.isin(c, list(v)),
}


def where_fields(w, out):
    for key, val in w.items():
        if key in ("$and", "$or"):
            for sub in val:
                where_fields(sub, out)
        elif key.startswith("$"):
            die(f"unsupported filter operator {key!r}")
        else:
            out.add(key)
    return out


def eval_where(w, cols, n):
    mask = np.ones(n, dtype=bool)
    for key, val in w.items():
        if key == "$and":
            for sub in val:
                mask &= eval_where(sub, cols, n)
        elif key == "$or":
            m = np.zeros(n, dtype=bool)
            for sub in val:
                m |= eval_where(sub, cols, n)
            mask &= m
        else:
            col = cols[key]
            conds = val if isinstance(val, dict) else {"$eq": val}
            for op, arg in conds.items():
                if op not in OPS:
                    die(f"unsupported filter operator {op!r} on field {key!r}")
                mask &= OPS[op](col, arg)
    return mask


def load_filters(data, n):
    spec = json.load(open(need(os.path.join(data, "filters.json"))))
    filters = spec["filters"]
    fields = set()
    for f in filters:
        where_fields(f["where"], fields)
    vals = {f: [] for f in fields}
    t0 = time.time()
    with open(need(os.path.join(data, "meta.jsonl"))) as fh:
        for i, line in enumerate(fh):
            doc = json.loads(line)
            if doc.get("id", i) != i:
                die(f"meta.jsonl line {i + 1} has id {doc.get('id')}")
            for f in fields:
                vals[f].append(doc.get(f))
    cols = {}
    for f, v in vals.items():
        if len(v) != n:
            die(f"meta.jsonl has {len(v)} lines, base.fvecs {n} rows")
        cols[f] = np.array(v)
    del vals
    out = []
    for fi, f in enumerate(filters):
        mask = eval_where(f["where"], cols, n)
        cnt = int(mask.sum())
        ok = cnt == f["n_match"]
        log(f"filter {f['name']}: {cnt} match (filters.json n_match {f['n_match']}) {'OK' if ok else 'MISMATCH'}")
        assert ok, f"filter {f['name']}: {cnt} != n_match {f['n_match']}"
        out.append((fi, f, mask))
    log(f"meta.jsonl parsed + {len(filters)} filters evaluated in {time.time() - t0:.1f}s")
    return spec, out


# ---------------------------------------------------------------- libs

def lib_version(lib):
    if lib == "hnswlib":
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-hnswlib"],
                               capture_output=True, text=True)
            if r.returncode == 0 and r.stdout:
                return "deb " + r.stdout
        except OSError:
            pass
        import importlib.metadata as md
        try:
            return md.version("hnswlib")
        except Exception:
            return None
    import faiss
    return faiss.__version__


def build_hnswlib(a, base):
    import hnswlib
    n, dim = base.shape
    ids = np.arange(n)
    gc.collect()
    r0 = rss_bytes()
    hwm_ok = reset_hwm()
    h0 = hwm_bytes()
    t0 = time.perf_counter()
    index = hnswlib.Index(space="l2" if a.metric == "l2" else "cosine", dim=dim)
    index.init_index(max_elements=n, ef_construction=a.ef_construction, M=a.m, random_seed=100)
    index.set_num_threads(a.threads)
    index.add_items(base, ids, num_threads=a.threads)
    secs = time.perf_counter() - t0
    r1 = rss_bytes()
    h1 = hwm_bytes()
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "hnsw.bin")
        index.save_index(p)
        isize = os.path.getsize(p)
    index.set_num_threads(1)
    return index, secs, r1 - r0, (h1 - h0 if hwm_ok else None), isize


def build_faiss(a, base, kind):
    import faiss
    n, dim = base.shape
    gc.collect()
    r0 = rss_bytes()
    hwm_ok = reset_hwm()
    h0 = hwm_bytes()
    faiss.omp_set_num_threads(a.threads)
    t0 = time.perf_counter()
    mt = faiss.METRIC_L2 if a.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    if kind == "faiss-hnsw":
        index = faiss.IndexHNSWFlat(dim, a.m, mt)
        index.hnsw.efConstruction = a.ef_construction
    else:
        index = faiss.IndexFlatL2(dim) if a.metric == "l2" else faiss.IndexFlatIP(dim)
    index.add(base)
    secs = time.perf_counter() - t0
    r1 = rss_bytes()
    h1 = hwm_bytes()
    ser = faiss.serialize_index(index)
    isize = int(ser.size)
    del ser
    faiss.omp_set_num_threads(1)
    return index, secs, r1 - r0, (h1 - h0 if hwm_ok else None), isize


# ---------------------------------------------------------------- per-lib run (child)

def run_lib(a, lib):
    data = a.data
    set_name = os.path.basename(os.path.normpath(data))
    common = {"lib": lib, "set": set_name, "metric": a.metric}
    base_path = need(os.path.join(data, "base.fvecs"))
    gt_name = "gt_l2.ivecs" if a.metric == "l2" else "gt_cos.ivecs"
    queries = load_f32(need(os.path.join(data, "query.fvecs")), a.nq)
    nq, dim = queries.shape
    gt = load_i32(need(os.path.join(data, gt_name)), nq, a.k)
    if gt.shape[0] < nq or gt.shape[1] < a.k:
        die(f"{gt_name} has shape {gt.shape}, need >= ({nq}, {a.k})")

    filt = None
    if a.filtered and lib in ("hnswlib", "faiss-hnsw", "exact"):
        fgt_name = "filtered_gt_l2.ivecs" if a.metric == "l2" else "filtered_gt_cos.ivecs"
        fgt_all = load_i32(need(os.path.join(data, fgt_name)))
        nrows_base = read_vecs(base_path, "<f4").shape[0]
        spec, filters = load_filters(data, nrows_base)
        fnq = int(spec.get("n_queries", 100))
        if fgt_all.shape[0] != len(filters) * fnq:
            die(f"{fgt_name} has {fgt_all.shape[0]} rows, expected {len(filters)} x {fnq}")
        # the filtered queries are always the first fnq rows of query.fvecs (independent of --nq)
        fq = load_f32(os.path.join(data, "query.fvecs"), fnq)
        if fq.shape[0] < fnq:
            die(f"query.fvecs has {fq.shape[0]} rows, filters.json needs {fnq}")
        if lib.startswith("faiss") and a.metric == "cos":
            fq = normalized(fq)
        filt = (fnq, filters, fgt_all, fq)

    # base vectors: one contiguous float32 copy (normalised for faiss cosine), made before the
    # RSS baseline so it is not counted as index memory.
    base = load_f32(base_path)
    n = base.shape[0]
    if base.shape[1] != dim:
        die(f"base dim {base.shape[1]} != query dim {dim}")
    if lib.startswith("faiss") and a.metric == "cos":
        base = normalized(base)
        queries = normalized(queries)
    log(f"{lib}: {set_name} n={n} dim={dim} nq={nq} metric={a.metric}")

    if lib == "exact":
        exact_scan(a, common, base, filt)
        return

    if lib == "hnswlib":
        index, secs, drss, dhwm, isize = build_hnswlib(a, base)
        params = {"M": a.m, "ef_construction": a.ef_construction}
    else:
        index, secs, drss, dhwm, isize = build_faiss(a, base, lib)
        params = {"M": a.m, "ef_construction": a.ef_construction} if lib == "faiss-hnsw" else {}
    emit({**common, "phase": "build", "seconds": round(secs, 3), "threads": a.threads, "n": n,
          "dim": dim, **params, "rss_bytes": drss, "peak_rss_bytes": dhwm, "index_bytes": isize,
          "version": lib_version(lib)})
    log(f"{lib}: built in {secs:.1f}s, rss +{drss / 2**20:.1f} MiB, index {isize / 2**20:.1f} MiB")

    k = a.k
    if lib == "hnswlib":
        def sweep(ef):
            index.set_ef(max(ef, k))
            return lambda i: index.knn_query(queries[i:i + 1], k=k, num_threads=1)[0][0]
        efs = a.efs
    elif lib == "faiss-hnsw":
        def sweep(ef):
            index.hnsw.efSearch = max(ef, k)
            return lambda i: index.search(queries[i:i + 1], k)[1][0]
        efs = a.efs
    else:
        def sweep(ef):
            return lambda i: index.search(queries[i:i + 1], k)[1][0]
        efs = [None]

    # warm-up (page in the index, caches)
    one = sweep(efs[0] or k)
    for i in range(min(nq, 50)):
        one(i)
    for ef in efs:
        found, st = timed_loop(nq, sweep(ef), a.runs, k)
        rec = recall_rows(found, gt, k)
        emit({**common, "phase": "search", "ef": ef, "k": k, "recall": round(rec, 4), **st})
        log(f"{lib}: ef={ef} recall={rec:.4f} qps={st['qps']} p50={st['p50_us']}us p99={st['p99_us']}us")

    if filt is not None:
        if lib == "hnswlib":
            filtered_hnswlib(a, common, index, filt)
        elif lib == "faiss-hnsw":
            filtered_faiss(a, common, index, filt)


def filt_line(common, f, mask, method, **kw):
    return {**common, "phase": "filtered", "filter": f["name"],
            "selectivity": round(float(mask.mean()), 6), "n_match": int(mask.sum()),
            "method": method, **kw}


def filtered_hnswlib(a, common, index, filt):
    fnq, filters, fgt_all, q = filt
    k = a.k
    for fi, f, mask in filters:
        fgt = fgt_all[fi * fnq:(fi + 1) * fnq]
        for kp in a.kprimes:
            ef = max(kp, a.filter_ef)
            index.set_ef(ef)

            def one(i, kp=kp):
                labels = index.knn_query(q[i:i + 1], k=kp, num_threads=1)[0][0]
                return labels[mask[labels]][:k]
            found, st = timed_loop(fnq, one, a.runs, k)
            rec = recall_rows(found, fgt, k)
            emit(filt_line(common, f, mask, "post_filter", kprime=kp, ef=ef, k=k,
                           recall=round(rec, 4), **st))
            log(f"hnswlib post_filter {f['name']} k'={kp}: recall={rec:.4f} qps={st['qps']}")
    # (b) native filter callable (hnswlib >= 0.7)
    doc = index.knn_query.__doc__ or ""
    if "filter" not in doc:
        emit({**common, "phase": "filtered", "method": "hnswlib_filter", "supported": False,
              "version": lib_version("hnswlib"), "signature": doc.strip().splitlines()[0]})
        log("hnswlib_filter: knn_query has no filter= argument in this hnswlib; skipped")
        return
    for fi, f, mask in filters:
        fgt = fgt_all[fi * fnq:(fi + 1) * fnq]
        pred = lambda label, mask=mask: bool(mask[label])
        for ef in a.efs:
            index.set_ef(max(ef, k))
            one = lambda i: index.knn_query(q[i:i + 1], k=k, num_threads=1, filter=pred)[0][0]
            found, st = timed_loop(fnq, one, a.runs, k)
            rec = recall_rows(found, fgt, k)
            emit(filt_line(common, f, mask, "hnswlib_filter", ef=ef, k=k, recall=round(rec, 4), **st))


def filtered_faiss(a, common, index, filt):
    import faiss
    fnq, filters, fgt_all, q = filt
    k = a.k
    for fi, f, mask in filters:
        fgt = fgt_all[fi * fnq:(fi + 1) * fnq]
        bits = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        for ef in a.efs:
            params = faiss.SearchParametersHNSW()
            params.sel = sel
            params.efSearch = max(ef, k)

            def one(i, params=params):
                return index.search(q[i:i + 1], k, params=params)[1][0]
            found, st = timed_loop(fnq, one, a.runs, k)
            found[found < 0] = -2  # faiss pads with -1; never matches a gt id
            rec = recall_rows(found, fgt, k)
            emit(filt_line(common, f, mask, "faiss_hnsw_filter", ef=ef, k=k,
                           recall=round(rec, 4), **st))
            log(f"faiss_hnsw_filter {f['name']} ef={ef}: recall={rec:.4f} qps={st['qps']}")
        del sel, bits


def exact_scan(a, common, base, filt):
    fnq, filters, fgt_all, q = filt
    k = a.k
    cos = a.metric == "cos"
    q = normalized(q) if cos else q
    common = {**common, "lib": "numpy"}
    for fi, f, mask in filters:
        fgt = fgt_all[fi * fnq:(fi + 1) * fnq]
        rows = np.flatnonzero(mask)
        sub = base[rows]
        if cos:
            sub = normalized(sub)
            nrm = None
        else:
            nrm = np.einsum("ij,ij->i", sub, sub)
        kk = min(k, len(rows))

        def one(i):
            dots = sub @ q[i]
            d = (1.0 - dots) if cos else (nrm - 2.0 * dots)
            part = np.argpartition(d, kk - 1)[:kk] if kk < len(d) else np.arange(len(d))
            return rows[part[np.argsort(d[part], kind="stable")]]
        found, st = timed_loop(fnq, one, a.runs, k)
        rec = recall_rows(found, fgt, k)
        emit(filt_line(common, f, mask, "exact_scan", k=k, recall=round(rec, 4), **st))
        log(f"exact_scan {f['name']}: recall={rec:.4f} qps={st['qps']}")
        del sub, nrm


# ---------------------------------------------------------------- main

def int_list(s):
    try:
        return [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {s!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data set folder (e.g. .../data/medium)")
    p.add_argument("--metric", required=True, choices=["l2", "cos"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--efs", type=int_list, default=int_list("10,16,24,32,48,64,96,128,256"))
    p.add_argument("--threads", type=int, default=2, help="build threads")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--libs", default=",".join(ALL_LIBS))
    p.add_argument("--runs", type=int, default=3, help="timed passes per ef; best is reported")
    p.add_argument("--nq", type=int, default=None, help="use only the first NQ queries")
    p.add_argument("--filtered", action="store_true", help="also run the filtered evaluation")
    p.add_argument("--kprimes", type=int_list, default=int_list("10,100,500,2000"))
    p.add_argument("--filter-ef", type=int, default=64, help="post_filter ef = max(k', this)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()

    if not os.path.isdir(a.data):
        die(f"--data {a.data}: no such directory")
    if a.child:
        run_lib(a, a.child)
        return
    libs = [x.strip() for x in a.libs.split(",") if x.strip()]
    for lib in libs:
        if lib not in ALL_LIBS:
            die(f"unknown lib {lib!r} (choose from {', '.join(ALL_LIBS)})")
    for f in ("base.fvecs", "query.fvecs", "gt_l2.ivecs" if a.metric == "l2" else "gt_cos.ivecs"):
        need(os.path.join(a.data, f))
    if a.filtered:
        for f in ("filters.json", "meta.jsonl",
                  "filtered_gt_l2.ivecs" if a.metric == "l2" else "filtered_gt_cos.ivecs"):
            need(os.path.join(a.data, f))
    tasks = libs + (["exact"] if a.filtered else [])
    rc = 0
    for lib in tasks:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--child", lib])
        if r.returncode != 0:
            log(f"{lib}: child exited with {r.returncode}")
            rc = rc or r.returncode
    sys.exit(rc)


if __name__ == "__main__":
    main()
