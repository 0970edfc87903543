# SPDX-License-Identifier: Apache-2.0
"""Measures one peer database on a data-kit set; run by bench/peers/run_peers.py inside that
peer's virtual environment (numpy + the peer's package), one process per peer.

    python peer_worker.py --peer kuzu|lancedb|chroma|milvus-lite --data KIT --workdir DIR \\
        [--metric l2] [--efs 10,16,...] [--filter-efs 16,64,256] [--filters a,b] [--runs 3] \\
        [--passes 3] [--queries 0] [--rows load,search,filtered,hybrid,edges]

Rows, in order (one JSON line each on stdout, {"bench": "peers", "system": ..., "row": ...}):
  load      bulk insert of base.fvecs + meta.jsonl and the HNSW index, until the collection is
            fully indexed and a first query answers: seconds and entities/s.
  search    per ef of --efs: every query one at a time on this thread, best of --runs passes
            (after 50 warm-up queries); qps = queries / the pass's summed latencies, p50/p99,
            recall@10 against gt_<metric>.ivecs (plain and tie-tolerant); latencies_us.
  filtered  per filter of --filters and ef of --filter-efs: the first 100 queries; per query the
            fastest of --passes passes; qps = 1e6 / mean of those; recall@10 against
            filtered_gt_<metric>.ivecs (the phenix_ql_bench strategies computation).
  edges     (graph peers) the kit's edges.tsv: edges/s.
  hybrid    (graph peers) hybrid_gt.jsonl's queries of the metric: top-10 by vector among the
            1..hops out-neighbours of the seed that match `where`; per query the fastest of
            --passes; p50/p95/p99/mean, recall@10.
A measurement the peer cannot run prints {"row": ..., "skipped": "why"}; one that fails prints
{"row": ..., "error": "..."} and the worker goes on with the next (except after a failed load).
"""

import argparse
import json
import os
import platform
import sys
import time
import traceback

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adapters import ADAPTERS, Unsupported  # noqa: E402
from kit import Kit, matches, score  # noqa: E402

K = 10
WARMUP_QUERIES = 50
# A pass (all queries once) longer than this is not repeated: --runs / --passes give way, so that
# a peer at ~100 ms per query (Milvus Lite on medium) still finishes within the time limit. The
# lines say how many passes ran.
PASS_BUDGET_S = 60.0


def log(msg):
    print(f"[peer_worker] {msg}", file=sys.stderr, flush=True)


class Emitter:
    def __init__(self, system, kit):
        self.head = {"bench": "peers", "system": system, "set": kit.name, "metric": kit.metric}

    def __call__(self, row, **fields):
        line = dict(self.head, row=row)
        line.update(fields)
        line["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(line), flush=True)


def percentile(values, frac):
    if not values:
        return None
    ordered = sorted(values)
    pos = min(len(ordered) - 1, max(0, int(round(frac * (len(ordered) - 1)))))
    return ordered[pos]


def timed(fn, payload):
    start = time.perf_counter_ns()
    out = fn(payload)
    return out, (time.perf_counter_ns() - start) / 1000.0


def run_search(peer, kit, payloads, efs, runs, emit):
    nq = len(payloads)
    queries = kit.queries
    for ef in efs:
        peer.set_ef(ef)
        for payload in payloads[:WARMUP_QUERIES]:
            peer.search(payload, K)
        best = None
        done_runs = 0
        for _ in range(runs):
            results, lats = [], []
            for payload in payloads:
                ids, us = timed(lambda p: peer.search(p, K), payload)
                results.append(ids)
                lats.append(us)
            done_runs += 1
            if best is None or sum(lats) < sum(best[1]):
                best = (results, lats)
            if sum(lats) / 1e6 > PASS_BUDGET_S:
                break  # a slow peer: one pass is enough to measure it
        results, lats = best
        recall = tie = 0.0
        short = 0
        for q_idx in range(nq):
            r, t = score(kit, queries[q_idx], results[q_idx], kit.gt[q_idx], kit.gt_dist[q_idx], K)
            recall += r
            tie += t
            short += len(results[q_idx]) < K
        total_s = sum(lats) / 1e6
        emit("search", ef=ef, k=K, runs=done_runs, queries=nq, recall=round(recall / nq, 4),
             recall_tie_tolerant=round(tie / nq, 4), qps=round(nq / total_s, 1),
             p50_us=round(percentile(lats, 0.5), 1), p99_us=round(percentile(lats, 0.99), 1),
             mean_us=round(total_s * 1e6 / nq, 1), short_results=short,
             latencies_us=[round(x, 1) for x in lats])
        log(f"{peer.name} ef={ef} recall={recall / nq:.4f} qps={nq / total_s:.0f}")


def per_query_fastest(fn, payloads, passes):
    """Per query the fastest of `passes` passes over all payloads; answers from the first pass."""
    best = [float("inf")] * len(payloads)
    answers = None
    done = 0
    for pass_idx in range(passes):
        out = []
        pass_us = 0.0
        for idx, payload in enumerate(payloads):
            ids, us = timed(fn, payload)
            out.append(ids)
            pass_us += us
            best[idx] = min(best[idx], us)
        if pass_idx == 0:
            answers = out
        done += 1
        if pass_us / 1e6 > PASS_BUDGET_S:
            break  # a slow peer: fewer passes rather than running past the time limit
    return answers, best, done


def run_filtered(peer, kit, payloads, names, efs, passes, emit):
    spec_all = kit.filters
    nfq = int(spec_all.get("n_queries", 100))
    meta = kit.meta
    for name in names:
        try:
            f_idx, spec = kit.filter_by_name(name)
        except KeyError:
            emit("filtered", filter=name, error=f"no filter {name} in filters.json")
            continue
        try:
            handle = peer.prepare_filter(spec)
        except Unsupported as e:
            emit("filtered", filter=name, skipped=str(e))
            continue
        count = min(nfq, len(payloads))
        for ef in efs:
            try:
                peer.set_ef(ef)
                for payload in payloads[:min(10, count)]:  # warm-up
                    peer.filtered_search(payload, handle, K)
                answers, best, done = per_query_fastest(
                    lambda p: peer.filtered_search(p, handle, K), payloads[:count], passes)
            except Unsupported as e:
                emit("filtered", filter=name, ef=ef, skipped=str(e))
                break
            except Exception as e:  # noqa: BLE001 - a peer's failure is reported, not fatal
                emit("filtered", filter=name, ef=ef, error=f"{type(e).__name__}: {e}")
                log(traceback.format_exc())
                break
            recall = tie = 0.0
            wrong = short = 0
            n_match = int(spec.get("n_match", 0))
            for q_idx in range(count):
                row = f_idx * nfq + q_idx
                truth = kit.filtered_gt[row]
                r, t = score(kit, kit.queries[q_idx], answers[q_idx], truth,
                             kit.filtered_gt_dist[row], K)
                recall += r
                tie += t
                wrong += sum(1 for rid in answers[q_idx]
                             if not (0 <= int(rid) < len(meta)) or not matches(meta[int(rid)], spec["where"]))
                short += len(answers[q_idx]) < min(K, n_match)
            mean_us = sum(best) / count
            emit("filtered", filter=name, selectivity=spec.get("selectivity"), n_match=n_match,
                 ef=ef, k=K, queries=count, passes=done, recall=round(recall / count, 4),
                 recall_tie_tolerant=round(tie / count, 4), qps=round(1e6 / mean_us, 1),
                 mean_us=round(mean_us, 1), p50_us=round(percentile(best, 0.5), 1),
                 p99_us=round(percentile(best, 0.99), 1), short_results=short, wrong_rows=wrong)
            log(f"{peer.name} {name} ef={ef} recall={recall / count:.3f} qps={1e6 / mean_us:.0f}")


def run_hybrid(peer, kit, passes, emit):
    cases = kit.hybrid
    if not cases:
        emit("hybrid", skipped=f"hybrid_gt.jsonl has no {kit.metric} queries")
        return
    payloads = [(peer.prepare_query(kit.queries[c["qid"]]), c) for c in cases]
    # Warm-up pass (caches), as phenix_ql_bench does.
    for payload, case in payloads:
        peer.hybrid(payload, case, K)
    answers, best, done = per_query_fastest(lambda pc: peer.hybrid(pc[0], pc[1], K), payloads,
                                            passes)
    recall = tie = 0.0
    for (payload, case), ids in zip(payloads, answers):
        r, t = score(kit, kit.queries[case["qid"]], ids, case["ids"], case["dists"], K)
        recall += r
        tie += t
    n = len(cases)
    emit("hybrid", queries=n, passes=done, recall=round(recall / n, 4),
         recall_tie_tolerant=round(tie / n, 4), p50_us=round(percentile(best, 0.5), 1),
         p95_us=round(percentile(best, 0.95), 1), p99_us=round(percentile(best, 0.99), 1),
         mean_us=round(sum(best) / n, 1), qps=round(1e6 * n / sum(best), 1),
         query=getattr(peer, "hybrid_text", lambda: "")(),
         latencies_us=[round(x, 1) for x in best])
    log(f"{peer.name} hybrid recall={recall / n:.3f} p50={percentile(best, 0.5):.0f} us")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--peer", required=True, choices=sorted(ADAPTERS))
    p.add_argument("--data", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--metric", choices=["l2", "cos"], default="l2")
    p.add_argument("--efs", default="10,16,24,32,48,64,96,128,256")
    p.add_argument("--filter-efs", default="16,64,256")
    p.add_argument("--filters", default="bucket_lt_10,tenant_eq_t07,bucket_lt_100,cat_eq_3")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--queries", type=int, default=0)
    p.add_argument("--rows", default="load,search,filtered,edges,hybrid")
    p.add_argument("--lance-index", default="IVF_HNSW_FLAT")
    p.add_argument("--lance-partitions", type=int, default=1)
    a = p.parse_args()

    kit = Kit(a.data, a.metric)
    emit = Emitter(a.peer, kit)
    rows = set(a.rows.split(","))
    os.makedirs(a.workdir, exist_ok=True)
    try:
        peer = ADAPTERS[a.peer](a.workdir, kit, a)
    except Exception as e:  # noqa: BLE001
        emit("error", error=f"cannot start {a.peer}: {type(e).__name__}: {e}")
        return 1
    emit("context", version=peer.version, index=peer.index, python=platform.python_version(),
         numpy=np.__version__, n=int(kit.base.shape[0]), dim=int(kit.base.shape[1]))

    # Load: everything after prepare() up to a first answered query is timed.
    try:
        prep_start = time.perf_counter()
        peer.prepare()
        prep_s = time.perf_counter() - prep_start
        start = time.perf_counter()
        info = peer.load()
        first = peer.prepare_query(kit.queries[0])
        first_start = time.perf_counter()
        got = peer.search(first, K)
        end = time.perf_counter()
        if len(got) < K:
            raise RuntimeError(f"the first query returned {len(got)} rows")
        n = int(kit.base.shape[0])
        total = end - start
        emit("load", n=n, seconds=round(total, 3), entities_per_s=round(n / total, 1),
             insert_seconds=round(info.pop("insert_seconds"), 3),
             index_seconds=round(info.pop("index_seconds"), 3),
             first_query_seconds=round(end - first_start, 4), prepare_seconds=round(prep_s, 3),
             index=peer.index, **info)
        log(f"{a.peer} loaded {n} in {total:.1f} s ({n / total:.0f}/s)")
    except Exception as e:  # noqa: BLE001
        emit("load", error=f"{type(e).__name__}: {e}")
        log(traceback.format_exc())
        return 1

    if hasattr(peer, "after_load"):
        try:
            emit("scalar_indexes", **{k: (round(v, 3) if isinstance(v, float) else v)
                                      for k, v in peer.after_load().items()})
        except Exception as e:  # noqa: BLE001
            emit("scalar_indexes", error=f"{type(e).__name__}: {e}")

    nq = len(kit.queries) if a.queries == 0 else min(a.queries, len(kit.queries))
    payloads = [peer.prepare_query(kit.queries[i]) for i in range(nq)]
    steps = [
        ("search", lambda: run_search(peer, kit, payloads, [int(x) for x in a.efs.split(",")],
                                      a.runs, emit)),
        ("filtered", lambda: run_filtered(peer, kit, payloads, a.filters.split(","),
                                          [int(x) for x in a.filter_efs.split(",")], a.passes,
                                          emit)),
        ("edges", lambda: emit("edges", **_rounded(peer.load_edges()))),
        ("hybrid", lambda: run_hybrid(peer, kit, a.passes, emit)),
    ]
    for row, step in steps:
        if row not in rows:
            continue
        if row in ("edges", "hybrid") and not hasattr(peer, "load_edges"):
            emit(row, skipped=f"{a.peer} has no graph model: no edges, no graph + vector query")
            continue
        try:
            step()
        except Unsupported as e:
            emit(row, skipped=str(e))
        except Exception as e:  # noqa: BLE001
            emit(row, error=f"{type(e).__name__}: {e}")
            log(traceback.format_exc())
    try:
        peer.close()
    except Exception:  # noqa: BLE001
        pass
    return 0


def _rounded(info):
    out = dict(info)
    if "seconds" in out and "edges" in out:
        out["edges_per_s"] = round(out["edges"] / out["seconds"], 1)
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


if __name__ == "__main__":
    sys.exit(main())
