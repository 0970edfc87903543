#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Draws the benchmark drivers' JSON lines as ann-benchmarks-style pictures (SVG).

    /usr/bin/python3 bench/plot_benchmarks.py FILE.jsonl [FILE.jsonl ...] [--out docs/benchmarks]
    make bench-plots        # the same over the saved lines in docs/benchmarks/data/

Reads the lines of bench/peers/run_peers.py ({"bench": "peers", ...}), bench/compare_vectors.py
--out / phenix_vector_bench / ann_baselines.py ({"lib": ..., "phase": "search" | "filtered"}),
phenix_vector_engine_bench ({"lib": "phenix-engine"}) and phenix_ql_bench ({"lib":
"phenix-ql", "phase": "hybrid"}), in any mix, and writes per (set, metric):

  recall-qps-SET-METRIC.svg  recall@10 against queries/s (log axis), every system on one chart,
                             each system's Pareto frontier over its ef sweep
  load-SET-METRIC.svg        entities/s to a fully indexed collection, per system and bulk path
  filtered-SET-METRIC.svg    filtered queries/s by filter (ordered by selectivity): per system
                             its fastest setting with recall@10 >= 0.95 (hatched: none reaches
                             it; the bar shows its best recall instead)
  latency-SET-METRIC.svg     histograms of per-query latency at each system's operating point
                             (the smallest ef with recall >= 0.95), and of the hybrid queries

A chart with no data is not written. Needs matplotlib (Debian: python3-matplotlib; `make
bench-plots` installs it). The SVGs carry no date and a fixed hash salt, so the same lines give
the same files.
"""

import argparse
import json
import os
import sys

TARGET = 0.95

# One colour and marker per system, the same in every chart.
STYLE = {
    "phenix": ("#d62728", "o"),
    "phenix-index": ("#ff7f0e", "o"),
    "phenix-int8": ("#e377c2", "o"),
    "hnswlib": ("#7f7f7f", "s"),
    "faiss-hnsw": ("#bcbd22", "D"),
    "kuzu": ("#1f77b4", "^"),
    "lancedb": ("#2ca02c", "v"),
    "chroma": ("#9467bd", "P"),
    "milvus-lite": ("#17becf", "X"),
}
LABEL = {
    "phenix": "Phenix (Database::Search)",
    "phenix-index": "Phenix HNSW index alone",
    "phenix-int8": "Phenix index, int8",
    "hnswlib": "hnswlib 0.6.2",
    "faiss-hnsw": "FAISS HNSW",
    "kuzu": "Kuzu",
    "lancedb": "LanceDB",
    "chroma": "Chroma",
    "milvus-lite": "Milvus Lite",
}


def style(system):
    return STYLE.get(system.split(" ")[0], ("#8c564b", "*"))


def label(system, versions):
    """'phenix' -> Phenix (Database::Search); 'phenix (COPY)' -> Phenix (COPY); peers get their
    package version."""
    base = system.split(" ")[0]
    rest = system[len(base):]
    text = (LABEL.get(base, base) if not rest else LABEL.get(base, base).split(" (")[0]) + rest
    ver = versions.get(base)
    if ver and base not in ("phenix", "phenix-index", "hnswlib"):
        text += f" {ver.split(',')[0].replace('pymilvus ', '')}"
    return text


# ---------------------------------------------------------------- collecting

class Data:
    def __init__(self):
        self.search = {}     # (set, metric) -> system -> [(recall, qps)]
        self.filtered = {}   # (set, metric) -> filter -> system -> [point]
        self.latency = {}    # (set, metric) -> system -> (ef, recall, [us])
        self.hybrid = {}     # (set, metric) -> system -> [us]
        self.load = {}       # (set, metric) -> label -> entities/s
        self.versions = {}
        self.context = {}    # (set, metric) -> text
        self.peer_filters = {}  # (set, metric) -> filters the peers run measured

    def add_search(self, key, system, recall, qps, source):
        if recall is None or not qps:
            return
        self.search.setdefault(key, {}).setdefault(system, {}).setdefault(source, []).append(
            (float(recall), float(qps)))

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            for num, text in enumerate(f, 1):
                text = text.strip()
                if not text.startswith("{"):
                    continue
                try:
                    ln = json.loads(text)
                except json.JSONDecodeError:
                    print(f"{path}:{num}: not JSON, skipped", file=sys.stderr)
                    continue
                if ln.get("bench") == "peers":
                    self.peer_line(ln, path)
                elif "lib" in ln:
                    self.driver_line(ln, path)

    def peer_line(self, ln, path):
        key = (ln.get("set"), ln.get("metric"))
        system, row = ln.get("system"), ln.get("row")
        if "error" in ln or "skipped" in ln:
            return
        if row == "context":
            if system == "run":
                self.context[key] = (f"{ln.get('cpu', '?')}, {ln.get('cores', '?')} cores, "
                                     f"{ln.get('date', '?')[:10]}, load avg {ln.get('loadavg', ['?'])[0]}")
            elif ln.get("version"):
                self.versions[system] = ln["version"]
        elif row == "search":
            self.add_search(key, system, ln.get("recall"), ln.get("qps"), path)
            if ln.get("latencies_us"):
                self.keep_latency(key, system, ln)
        elif row == "filtered":
            if system == "phenix" and ln.get("variant") not in (None, "auto"):
                return
            self.filtered.setdefault(key, {}).setdefault(ln["filter"], {}).setdefault(
                system, []).append(ln)
            self.peer_filters.setdefault(key, set()).add(ln["filter"])
        elif row == "hybrid" and ln.get("latencies_us"):
            name = system + (f" ({ln['variant']})" if ln.get("variant") else "")
            self.hybrid.setdefault(key, {})[name] = ln["latencies_us"]
        elif row == "load" and ln.get("entities_per_s"):
            name = system + (f" ({ln['variant']})" if ln.get("variant") else "")
            self.load.setdefault(key, {})[name] = ln["entities_per_s"]

    def driver_line(self, ln, path):
        lib, phase = ln.get("lib"), ln.get("phase")
        key = (ln.get("set"), ln.get("metric"))
        if lib == "phenix":
            lib = "phenix-int8" if ln.get("int8") else "phenix-index"
        elif lib == "phenix-engine":
            lib = "phenix"
        if phase == "search" and lib in STYLE:
            self.add_search(key, lib, ln.get("recall"), ln.get("qps"), path)
            if ln.get("latencies_us"):
                self.keep_latency(key, lib, ln)
        elif phase == "filtered" and ln.get("supported", True) and "recall" in ln:
            method = ln.get("method")
            if (lib == "phenix-index" and method == "auto") or \
                    (lib == "hnswlib" and method == "post_filter"):
                name = lib if lib == "phenix-index" else "hnswlib post-filter"
                self.filtered.setdefault(key, {}).setdefault(ln["filter"], {}).setdefault(
                    name, []).append(ln)
        elif lib == "phenix-ql" and phase == "hybrid":
            for variant, field in (("PhenixQL", "ql_latencies_us"),
                                   ("Database::Search", "api_latencies_us")):
                if ln.get(field):
                    self.hybrid.setdefault(key, {})[f"phenix ({variant})"] = ln[field]

    def keep_latency(self, key, system, ln):
        """One latency row per system: the smallest ef with recall >= TARGET, else the highest
        recall (several files may carry rows for the same system)."""
        new = (ln.get("ef") or 0, ln.get("recall") or 0, ln["latencies_us"])
        old = self.latency.setdefault(key, {}).get(system)

        def rank(item):
            ef, recall, _ = item
            return (recall >= TARGET, -ef if recall >= TARGET else recall)

        if old is None or rank(new) > rank(old):
            self.latency[key][system] = new

    def curves(self, key):
        """system -> points, from every file that measured it (a supplementary run of one
        peer adds its points to the same curve)."""
        out = {}
        for system, by_source in self.search.get(key, {}).items():
            out[system] = [p for pts in by_source.values() for p in pts]
        return out


def frontier(points):
    best = -1.0
    keep = []
    for recall, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best:
            keep.append((recall, qps))
            best = qps
    return sorted(keep)


# ---------------------------------------------------------------- drawing

def setup_matplotlib():
    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_benchmarks.py: matplotlib is missing (Debian: apt-get install "
                 "python3-matplotlib, or make bench-plots)")
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "phenix-bench",
                                "font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8,
                                "figure.dpi": 100})
    import matplotlib.pyplot as plt
    return plt


def title(data, key, what):
    ctx = data.context.get(key)
    return f"{key[0]} ({key[1]}): {what}" + (f"\n{ctx}" if ctx else "")


FORMAT = "svg"


def save(fig, out, name):
    path = os.path.join(out, name)
    if FORMAT == "svg":
        fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight")
    else:
        path = path[:-4] + ".png"
        fig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight",
                    dpi=110)
    print(path)


def plot_recall_qps(plt, data, key, out):
    curves = data.curves(key)
    if not curves:
        return
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    lo = 1.0
    for system in sorted(curves, key=lambda s: (not s.startswith("phenix"), s)):
        pts = frontier(curves[system])
        colour, marker = style(system)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour,
                label=label(system, data.versions), linewidth=1.6 if system == "phenix" else 1.1,
                markersize=4)
        lo = min(lo, min(p[0] for p in pts))
    ax.set_yscale("log")
    ax.set_xlim(max(0.5, lo - 0.02), 1.002)
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries/s (one thread, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.axvline(TARGET, color="#999999", linestyle=":", linewidth=0.8)
    ax.set_title(title(data, key, "recall@10 vs queries/s (up and to the right is better)"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(fig, out, f"recall-qps-{key[0]}-{key[1]}.svg")
    plt.close(fig)


def plot_load(plt, data, key, out):
    loads = data.load.get(key)
    if not loads:
        return
    names = sorted(loads, key=lambda s: -loads[s])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
    colours = [style(n)[0] for n in names]
    ax.barh(range(len(names)), [loads[n] for n in names], color=colours)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([label(n, data.versions) for n in names])
    ax.invert_yaxis()
    for idx, n in enumerate(names):
        ax.text(loads[n], idx, f" {loads[n]:,.0f}/s", va="center", fontsize=8)
    ax.set_xlabel("entities/s until the collection is fully indexed and answers a query")
    ax.set_xlim(0, max(loads.values()) * 1.25)
    ax.set_title(title(data, key, "load: vectors + metadata + HNSW index"))
    save(fig, out, f"load-{key[0]}-{key[1]}.svg")
    plt.close(fig)


def pick(points):
    good = [p for p in points if (p.get("recall") or 0) >= TARGET and p.get("qps")]
    if good:
        return max(good, key=lambda p: p["qps"]), True
    have = [p for p in points if p.get("recall") is not None and p.get("qps")]
    if not have:
        return None, False
    return max(have, key=lambda p: (p["recall"], p["qps"])), False


def plot_filtered(plt, data, key, out):
    per_filter = data.filtered.get(key)
    if not per_filter:
        return
    sel = {}
    for name, per in per_filter.items():
        for pts in per.values():
            for p in pts:
                if p.get("selectivity"):
                    sel[name] = p["selectivity"]
    # With a peers run in the input, its filters (the others have no peer to compare with).
    names = sorted((n for n in per_filter if n in data.peer_filters.get(key, per_filter)),
                   key=lambda n: sel.get(n, 1))
    systems = []
    for name in names:
        for s in per_filter[name]:
            if s not in systems:
                systems.append(s)
    systems.sort(key=lambda s: (not s.startswith("phenix"), s))
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(max(7.5, 1.6 * len(names) + 2), 4.6))
    for s_idx, system in enumerate(systems):
        colour, _ = style(system)
        for f_idx, name in enumerate(names):
            best, ok = pick(per_filter[name].get(system, []))
            if best is None:
                continue
            x = f_idx - 0.4 + width * (s_idx + 0.5)
            ax.bar(x, best["qps"], width=width * 0.95, color=colour if ok else "white",
                   edgecolor=colour, hatch=None if ok else "///")
            if not ok:
                ax.text(x, best["qps"], f"{best['recall']:.3f}", ha="center", va="bottom",
                        fontsize=6, rotation=90)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n{sel[n] * 100:.1f}%" if n in sel else n for n in names])
    ax.set_ylabel("queries/s (one thread, log scale)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.set_title(title(data, key, f"filtered top-10 by selectivity: each system's fastest "
                                  f"setting with recall@10 ≥ {TARGET}"))
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=style(s)[0], label=label(s if s != "phenix" else "phenix (PhenixQL)",
                                                        data.versions)) for s in systems]
    handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="///",
                         label="recall@10 < 0.95 at every setting"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(fig, out, f"filtered-{key[0]}-{key[1]}.svg")
    plt.close(fig)


def plot_latency(plt, data, key, out):
    lat = data.latency.get(key, {})
    hyb = data.hybrid.get(key, {})
    if not lat and not hyb:
        return
    import math

    panels = [p for p in (("search", lat), ("hybrid", hyb)) if p[1]]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5 * len(panels) / 1.4, 4.4), squeeze=False)
    for ax, (kind, series) in zip(axes[0], panels):
        values = [v for item in series.values() for v in (item[2] if kind == "search" else item)
                  if v and v > 0]
        lo, hi = math.log10(min(values)), math.log10(max(values))
        bins = [10 ** (lo + (hi - lo) * i / 40) for i in range(41)]
        for system in sorted(series, key=lambda s: (not s.startswith("phenix"), s)):
            item = series[system]
            us = item[2] if kind == "search" else item
            colour, _ = style(system)
            name = label(system, data.versions)
            if kind == "search":
                name += f" (ef {item[0]}, recall {item[1]:.3f})"
            ax.hist([v for v in us if v > 0], bins=bins, histtype="step", color=colour,
                    linewidth=1.4, label=name,
                    linestyle="--" if "Database::Search" in system else "-")
        ax.set_xscale("log")
        ax.set_xlabel("latency per query, µs (log scale)")
        ax.set_ylabel("queries")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper right", fontsize=7)
        ax.set_title(title(data, key, "search latency at recall@10 ≥ 0.95" if kind == "search"
                           else "hybrid 2-hop + filter + top-10 latency"))
    save(fig, out, f"latency-{key[0]}-{key[1]}.svg")
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+", help="JSON-lines files of the drivers")
    p.add_argument("--out", default="docs/benchmarks", help="folder for the SVG files")
    p.add_argument("--format", choices=["svg", "png"], default="svg")
    a = p.parse_args()
    global FORMAT
    FORMAT = a.format
    data = Data()
    for path in a.files:
        try:
            data.read(path)
        except OSError as e:
            sys.exit(f"plot_benchmarks.py: cannot read {path}: {e}")
    keys = set(data.search) | set(data.filtered) | set(data.latency) | set(data.hybrid) | \
        set(data.load)
    keys = sorted(k for k in keys if k[0] and k[1])
    if not keys:
        sys.exit("plot_benchmarks.py: no search, filtered, load or latency lines in the input")
    os.makedirs(a.out, exist_ok=True)
    plt = setup_matplotlib()
    for key in keys:
        plot_recall_qps(plt, data, key, a.out)
        plot_load(plt, data, key, a.out)
        plot_filtered(plt, data, key, a.out)
        plot_latency(plt, data, key, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
