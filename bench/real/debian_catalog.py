#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Debian package catalog as a real-data benchmark set (bench/real/README.md).

Reads the apt package lists of this machine (or `apt-cache dumpavail`, or Packages files given
on the command line) and writes, under OUT (default /tmp/phenix-data/data/debian):

  catalog.jsonl        COPY-ready entities: id = package name, vector = a deterministic 128-d
                       embedding of the short description, metadata, dependency edges
  ids.txt              row i of base.fvecs / line i of catalog.jsonl = package on line i
  base.fvecs           the vectors (row i = ids.txt line i)
  query.fvecs          queries; queries.jsonl says what each one is (kind, text, source)
  gt_cos.ivecs/.dist.fvecs        exact top-100 by cosine (distance 1 - cos), rows of base
  filters.json, filtered_gt_cos.* exact top-10 under a ~10% and a ~1% one-field equality filter
  hybrid_gt.jsonl      exact top-10 among the packages 1..2 reverse hops from a few hubs
  edges.tsv            src_row dst_row label (the edges of catalog.jsonl, by row)
  stats.json           entities, edges, duplicate groups, zero vectors, hubs, description lengths
  manifest.json        inputs (with sha256), parameters, numpy version, sha256 of every file

Debian's /usr/bin/python3 and numpy only (plus the `lz4` command for the .lz4 lists apt keeps
on Debian 12). Deterministic: the same input lists, seed and numpy version give the same bytes.
"""

import argparse
import collections
import datetime
import glob
import gzip
import hashlib
import json
import lzma
import math
import os
import re
import subprocess
import sys
import time
import unicodedata

import numpy as np

GENERATOR_VERSION = "1.0"
DIM = 128
PROJECTION_NNZ = 8  # non-zeros per feature in the sparse random projection (Achlioptas)
RELATIONS = ("depends", "pre-depends", "recommends", "suggests")
# Words of package names too common to identify a package (used to perturb queries).
NAME_STOPWORDS = {
    "lib", "dev", "doc", "docs", "common", "data", "dbg", "bin", "utils", "tools", "java",
    "perl", "python", "python3", "ruby", "golang", "node", "rust", "librust", "libghc", "prof",
    "php", "tcl", "lua", "ocaml", "elpa", "fonts", "font", "plugin", "plugins", "base", "core",
    "gtk", "gir1", "all", "cil", "xul", "ext", "texlive", "ghc", "octave", "sphinx", "libjs",
    "extra", "extras", "client", "server", "cli", "api", "mod", "libapache2", "kde", "qml",
    "module", "modules", "runtime", "shared", "static", "headers", "src", "source", "l10n",
}


def log(msg):
    print(f"[debian_catalog] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Reading the package lists


def debian_arch():
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "amd64"


def read_compressed(path):
    if path.endswith(".lz4"):
        try:
            return subprocess.run(["lz4", "-dc", path], capture_output=True, check=True).stdout
        except FileNotFoundError:
            sys.exit(f"error: {path} is lz4-compressed and the `lz4` command is missing: "
                     "apt-get install lz4, or use --source dumpavail")
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    if path.endswith(".xz"):
        with lzma.open(path, "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def parse_stanzas(text):
    """Deb822 stanzas -> dicts of field -> value (continuation lines joined with '\n')."""
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = {}
        key = None
        for line in block.split("\n"):
            if not line:
                continue
            if line[0] in " \t":
                if key is not None:
                    fields[key] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "Package" in fields:
            out.append(fields)
    return out


def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a, b):
    """dpkg's verrevcmp (lib/dpkg/version.c)."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split_version(v):
    epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare_versions(a, b):
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


def load_packages(args):
    """Returns (stanzas by package name, list of input descriptions for the manifest)."""
    inputs = []
    texts = []
    if args.source == "dumpavail":
        try:
            raw = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"error: apt-cache dumpavail failed ({e}); on a fresh machine run "
                     "apt-get update first")
        inputs.append({"source": "apt-cache dumpavail", "sha256": hashlib.sha256(raw).hexdigest(),
                       "bytes": len(raw)})
        texts.append(raw.decode("utf-8", errors="replace"))
    else:
        if args.source == "lists":
            arch = debian_arch()
            paths = sorted(p for p in glob.glob(os.path.join(args.lists_dir, "*_Packages*"))
                           if f"_binary-{arch}_Packages" in os.path.basename(p)
                           and not p.endswith((".diff_Index", ".IndexDiff")))
            if not paths:
                sys.exit(f"error: no *_binary-{arch}_Packages* lists in {args.lists_dir}; on a "
                         "fresh machine run apt-get update first (or pass Packages files)")
        else:
            paths = args.source.split(",")
        for path in paths:
            raw = read_compressed(path)
            entry = {"source": os.path.basename(path), "sha256": hashlib.sha256(raw).hexdigest(),
                     "bytes": len(raw)}
            release = release_date_for(path)
            if release:
                entry["release_date"] = release
            inputs.append(entry)
            texts.append(raw.decode("utf-8", errors="replace"))
    best = {}
    for text in texts:
        for st in parse_stanzas(text):
            name = st["Package"]
            old = best.get(name)
            if old is None or compare_versions(st.get("Version", "0"), old.get("Version", "0")) > 0:
                best[name] = st
    return best, inputs


def release_date_for(packages_path):
    """The Date: of the InRelease file that lists this Packages file, if it is there."""
    base = os.path.basename(packages_path)
    m = re.match(r"(.*_dists_[^_]+)_", base)
    if not m:
        return None
    inrelease = os.path.join(os.path.dirname(packages_path), m.group(1) + "_InRelease")
    try:
        with open(inrelease, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("Date:"):
                    return line[5:].strip()
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------
# Entities: metadata and edges

DEP_NAME = re.compile(r"^\s*([^\s(\[<]+)\s*(?:\(\s*([<>=]+)\s*([^)]*?)\s*\))?")


def parse_relation(value):
    """'a (>= 1) | b:any, c' -> [[('a', '>= 1'), ('b', None)], [('c', None)]]."""
    groups = []
    for clause in value.split(","):
        alts = []
        for alt in clause.split("|"):
            m = DEP_NAME.match(alt)
            if not m:
                continue
            name = m.group(1).split(":")[0]
            constraint = f"{m.group(2)} {m.group(3)}" if m.group(2) else None
            alts.append((name, constraint))
        if alts:
            groups.append(alts)
    return groups


def build_entities(best):
    names = sorted(best)
    row_of = {n: i for i, n in enumerate(names)}
    providers = collections.defaultdict(set)
    for name in names:
        for group in parse_relation(best[name].get("Provides", "")):
            for prov, _ in group:
                providers[prov].add(name)
    counts = collections.Counter()
    missing_targets = collections.Counter()
    entities = []
    for name in names:
        st = best[name]
        meta = {}
        meta["description"] = st.get("Description", "").split("\n", 1)[0].strip()
        meta["section"] = st.get("Section")
        meta["priority"] = st.get("Priority")
        meta["architecture"] = st.get("Architecture")
        meta["maintainer"] = st.get("Maintainer")
        if "Installed-Size" in st and st["Installed-Size"].isdigit():
            meta["installed_size"] = int(st["Installed-Size"])
        meta["version"] = st.get("Version")
        meta["source"] = st.get("Source", name).split(" ")[0]
        meta["essential"] = st.get("Essential", "no").lower() == "yes"
        if "Multi-Arch" in st:
            meta["multi_arch"] = st["Multi-Arch"]
        if "Tag" in st:
            meta["tags"] = [t.strip() for t in st["Tag"].replace("\n", " ").split(",") if t.strip()]
        meta = {k: v for k, v in meta.items() if v is not None}
        edges = {}  # (label, target) -> edge
        for rel in RELATIONS:
            field = rel.title() if rel != "pre-depends" else "Pre-Depends"
            for group in parse_relation(st.get(field, "")):
                for alt_idx, (target, constraint) in enumerate(group):
                    counts["dependency_atoms"] += 1
                    if target in row_of:
                        resolved = [(target, None)]
                    elif target in providers:
                        resolved = [(p, target) for p in sorted(providers[target])]
                        counts["atoms_resolved_via_provides"] += 1
                    else:
                        counts["atoms_missing_target_dropped"] += 1
                        missing_targets[target] += 1
                        continue
                    for tgt, virtual in resolved:
                        if tgt == name:
                            counts["self_loops_dropped"] += 1
                            continue
                        key = (rel, tgt)
                        props = {}
                        if constraint:
                            props["version"] = constraint
                        if len(group) > 1:
                            props["alt"] = alt_idx
                        if virtual:
                            props["virtual"] = virtual
                        if key in edges:  # e.g. 'a (>= 1), a (<< 2)', or direct and virtual
                            counts["duplicate_edges_merged"] += 1
                            merged = edges[key].pop("properties", {})
                            if constraint and constraint not in merged.get("version", ""):
                                merged["version"] = (merged["version"] + ", " + constraint
                                                     if "version" in merged else constraint)
                            if virtual is None:
                                merged.pop("virtual", None)  # a direct dependency wins
                            if merged:
                                edges[key]["properties"] = merged
                            continue
                        edge = {"label": rel, "target": tgt}
                        if props:
                            edge["properties"] = props
                        edges[key] = edge
        entity_edges = [edges[k] for k in sorted(edges)]
        counts["edges"] += len(entity_edges)
        entities.append({"id": name, "metadata": meta, "edges": entity_edges})
    return names, row_of, entities, counts, missing_targets


# ---------------------------------------------------------------------------------------------
# The embedding: hashed word / word-bigram / character n-gram TF-IDF -> sparse random projection

WORD = re.compile(r"\w+", re.UNICODE)


def features(text):
    """Sorted (feature, weight) of a description: words, word bigrams, char 3..5-grams."""
    words = WORD.findall(unicodedata.normalize("NFKC", text).lower())
    tf = collections.Counter()
    for w in words:
        tf["w:" + w] += 1.0
    for a, b in zip(words, words[1:]):
        tf["b:" + a + " " + b] += 1.0
    for w in words:
        padded = f" {w} "
        for n in (3, 4, 5):
            for k in range(len(padded) - n + 1):
                tf["c:" + padded[k:k + n]] += 0.5  # characters weigh half a word
    return sorted(tf.items())


class Embedder:
    def __init__(self, texts):
        """texts: one per package (duplicates counted: document frequency is per package)."""
        distinct = sorted(set(texts))
        self.n_docs = len(texts)
        multiplicity = collections.Counter(texts)
        self.df = collections.Counter()
        self.cache = {}
        for t in distinct:
            feats = features(t)
            self.cache[t] = feats
            for f, _ in feats:
                self.df[f] += multiplicity[t]
        self.feature_id = {}
        self.positions = []  # per feature id: PROJECTION_NNZ dimensions
        self.signs = []  # per feature id: PROJECTION_NNZ signs

    def idf(self, f):
        return math.log((1 + self.n_docs) / (1 + self.df.get(f, 0))) + 1.0

    def projection_id(self, f):
        """The feature's id; its sparse random projection comes from blake2b of its text."""
        fid = self.feature_id.get(f)
        if fid is None:
            d = hashlib.blake2b(f.encode("utf-8"), digest_size=16).digest()
            self.positions.append([d[k] % DIM for k in range(PROJECTION_NNZ)])
            self.signs.append([1.0 if (d[8] >> k) & 1 else -1.0 for k in range(PROJECTION_NNZ)])
            fid = len(self.positions) - 1
            self.feature_id[f] = fid
        return fid

    def embed(self, texts):
        """float32 [len(texts), DIM], L2-normalised (all-zero where a text has no features).
        Sums in a fixed order (text, feature, projection entry), so the bytes are reproducible."""
        docs, fids, weights = [], [], []
        for row, t in enumerate(texts):
            feats = self.cache.get(t)
            if feats is None:
                feats = features(t)
            w = [(1.0 + math.log(tf)) * self.idf(f) for f, tf in feats]
            norm = math.sqrt(sum(x * x for x in w)) or 1.0
            for (f, _), x in zip(feats, w):
                docs.append(row)
                fids.append(self.projection_id(f))
                weights.append(x / norm)
        positions = np.asarray(self.positions, dtype=np.int64).reshape(-1, PROJECTION_NNZ)
        signs = np.asarray(self.signs, dtype=np.float64).reshape(-1, PROJECTION_NNZ)
        fids = np.asarray(fids, dtype=np.int64)
        flat = (np.asarray(docs, dtype=np.int64)[:, None] * DIM + positions[fids]).ravel()
        vals = (np.asarray(weights)[:, None] * signs[fids]).ravel()
        acc = np.bincount(flat, weights=vals, minlength=len(texts) * DIM).reshape(len(texts), DIM)
        norms = np.sqrt((acc * acc).sum(axis=1))
        nonzero = norms > 0
        acc[nonzero] /= norms[nonzero, None]
        return acc.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Queries


def name_words(name):
    return [w for w in re.split(r"[-.+0-9]+", name)
            if len(w) >= 3 and w not in NAME_STOPWORDS]


def make_queries(names, descriptions, vectors, rng, nq, n_dup_groups, per_group):
    queries = []
    rows = rng.choice(len(names), size=nq, replace=False)
    for qid, row in enumerate(rows.tolist()):
        words = descriptions[row].split()
        ops = []
        if len(words) >= 3:
            k = int(rng.integers(len(words)))
            ops.append(f"drop '{words[k]}'")
            words = words[:k] + words[k + 1:]
        extra = name_words(names[row])
        if extra:
            word = extra[int(rng.integers(len(extra)))]
        else:
            other = descriptions[int(rng.integers(len(names)))].split()
            word = other[int(rng.integers(len(other)))] if other else "package"
        words.append(word)
        ops.append(f"add '{word}'")
        queries.append({"qid": qid, "kind": "perturbed", "source": names[row],
                        "text": " ".join(words), "perturbation": "; ".join(ops)})
    groups = duplicate_groups(vectors)
    for g_idx, members in enumerate(groups[:n_dup_groups]):
        text = descriptions[members[0]]
        queries.append({"qid": len(queries), "kind": "dup_exact", "group": g_idx,
                        "group_size": len(members), "source": names[members[0]], "text": text})
        picks = rng.choice(len(members), size=min(per_group - 1, len(members)), replace=False)
        for m in picks.tolist():
            member = names[members[m]]
            words = name_words(member) or [member]
            word = words[int(rng.integers(len(words)))]
            queries.append({"qid": len(queries), "kind": "dup_near", "group": g_idx,
                            "group_size": len(members), "source": member,
                            "text": f"{text} {word}", "perturbation": f"add '{word}'"})
    return queries, groups


def duplicate_groups(vectors):
    """Row groups with byte-identical vectors, largest first (ties: lowest first row)."""
    by_bytes = collections.defaultdict(list)
    for row in range(len(vectors)):
        by_bytes[vectors[row].tobytes()].append(row)
    groups = [rows for rows in by_bytes.values() if len(rows) > 1]
    groups.sort(key=lambda rows: (-len(rows), rows[0]))
    return groups


# ---------------------------------------------------------------------------------------------
# Ground truth (cosine distance 1 - cos, float64, ties broken by row)


class Cosine:
    def __init__(self, base):
        self.base64 = base.astype(np.float64)
        self.norms = np.sqrt((self.base64 * self.base64).sum(axis=1))
        self.unit = np.zeros_like(self.base64)
        nz = self.norms > 0
        self.unit[nz] = self.base64[nz] / self.norms[nz, None]

    def exact(self, q, rows):
        """1 - cos(q, base[rows]) summed in a fixed order; 1.0 for a zero vector."""
        q = q.astype(np.float64)
        qn = math.sqrt(float((q * q).sum()))
        dots = (self.base64[rows] * q).sum(axis=1)
        denom = self.norms[rows] * qn
        out = np.ones(len(rows))
        ok = denom > 0
        out[ok] = 1.0 - dots[ok] / denom[ok]
        return out

    def topk(self, queries, k, candidates=None):
        """For each query: (rows, dists) of the k nearest in `candidates` (default all)."""
        pool = np.arange(len(self.base64)) if candidates is None else np.asarray(candidates)
        ids = np.full((len(queries), k), -1, dtype=np.int32)
        dists = np.full((len(queries), k), np.inf, dtype=np.float32)
        if len(pool) == 0:
            return ids, dists
        unit_pool = self.unit[pool]
        for start in range(0, len(queries), 256):
            block = queries[start:start + 256].astype(np.float64)
            bn = np.sqrt((block * block).sum(axis=1))
            bn[bn == 0] = 1.0
            sims = (block / bn[:, None]) @ unit_pool.T  # BLAS: candidate pre-selection only
            for j in range(len(block)):
                s = sims[j]
                take = min(len(pool), 2 * k + 64)
                if take < len(pool):
                    part = np.argpartition(-s, take - 1)[:take]
                    cutoff = s[part].min() - 1e-9
                    part = np.nonzero(s >= cutoff)[0]
                else:
                    part = np.arange(len(pool))
                rows = pool[part]
                d = self.exact(queries[start + j], rows)
                order = np.lexsort((rows, d))[:k]
                ids[start + j, :len(order)] = rows[order]
                dists[start + j, :len(order)] = d[order]
        return ids, dists


def write_vecs(path, arr, dtype):
    arr = np.ascontiguousarray(arr, dtype=dtype)
    n, d = arr.shape
    out = np.empty((n, d + 1), dtype="<i4")
    out[:, 0] = d
    out[:, 1:] = arr.view("<i4")
    out.tofile(path)


# ---------------------------------------------------------------------------------------------
# Graph statistics


def reverse_reach(rev, seed, max_hops=2):
    """Rows reachable from `seed` by 1..max_hops reverse edges (the seed only if a walk returns)."""
    frontier = {seed}
    reached = set()
    for _ in range(max_hops):
        nxt = set()
        for node in frontier:
            nxt.update(rev[node])
        reached |= nxt
        frontier = nxt
    return reached


def percentiles(values, ps=(0, 1, 5, 25, 50, 75, 95, 99, 100)):
    arr = np.sort(np.asarray(values))
    return {f"p{p}": int(arr[min(len(arr) - 1, int(round(p / 100 * (len(arr) - 1))))])
            for p in ps}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def up_to_date(out, inputs, parameters):
    try:
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    if (manifest.get("version") != GENERATOR_VERSION or manifest.get("inputs") != inputs
            or manifest.get("parameters") != parameters or manifest.get("numpy") != np.__version__):
        return False
    return all(os.path.exists(os.path.join(out, name))
               and os.path.getsize(os.path.join(out, name)) == entry["bytes"]
               for name, entry in manifest.get("files", {}).items())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/phenix-data/data/debian")
    ap.add_argument("--source", default="lists",
                    help="'lists' (the apt lists in --lists-dir, this machine's architecture), "
                         "'dumpavail' (apt-cache dumpavail), or comma-separated Packages files "
                         "(plain, .gz, .xz or .lz4)")
    ap.add_argument("--lists-dir", default="/var/lib/apt/lists")
    ap.add_argument("--nq", type=int, default=1000, help="perturbed-description queries")
    ap.add_argument("--dup-groups", type=int, default=10,
                    help="largest identical-vector groups to query near")
    ap.add_argument("--per-group", type=int, default=10, help="queries per duplicate group")
    ap.add_argument("--nq-filtered", type=int, default=100,
                    help="first N queries get filtered ground truth")
    ap.add_argument("--hybrid-queries", type=int, default=10, help="query vectors per hub")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--reuse", action="store_true",
                    help="do nothing when OUT already holds a set made from the same inputs, "
                         "generator version and parameters (files checked by size)")
    args = ap.parse_args()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)

    best, inputs = load_packages(args)
    log(f"read {len(best)} packages from {len(inputs)} input(s) in {time.time() - t0:.1f} s")
    parameters = {"dim": DIM, "projection_nnz": PROJECTION_NNZ, "seed": args.seed, "nq": args.nq,
                  "dup_groups": args.dup_groups, "per_group": args.per_group,
                  "nq_filtered": min(args.nq_filtered, args.nq),
                  "hybrid_queries": args.hybrid_queries, "source": args.source}
    if args.reuse and up_to_date(args.out, inputs, parameters):
        log(f"{args.out} is up to date (same inputs, version and parameters): nothing to do")
        return
    names, row_of, entities, counts, missing = build_entities(best)
    descriptions = [e["metadata"]["description"] for e in entities]

    t1 = time.time()
    embedder = Embedder(descriptions)
    base = embedder.embed(descriptions)
    log(f"embedded {len(names)} descriptions ({len(embedder.df)} distinct features) "
        f"in {time.time() - t1:.1f} s")

    rng = np.random.default_rng(args.seed)
    queries, groups = make_queries(names, descriptions, base, rng, args.nq, args.dup_groups,
                                   args.per_group)
    qvecs = embedder.embed([q["text"] for q in queries])

    # catalog.jsonl (COPY's line format: {"id","vector","metadata","edges"}), ids.txt, edges.tsv
    zero_rows = [r for r in range(len(names)) if not base[r].any()]
    with open(os.path.join(args.out, "catalog.jsonl"), "w", encoding="utf-8") as f:
        for row, ent in enumerate(entities):
            vec = ",".join(format(x, ".9g") for x in base[row].tolist())
            line = (f'{{"id":{json.dumps(ent["id"], ensure_ascii=False)},"vector":[{vec}],'
                    f'"metadata":{json.dumps(ent["metadata"], ensure_ascii=False, separators=(",", ":"))}')
            if ent["edges"]:
                line += ',"edges":' + json.dumps(ent["edges"], ensure_ascii=False,
                                                 separators=(",", ":"))
            f.write(line + "}\n")
    with open(os.path.join(args.out, "ids.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")
    rev = [[] for _ in names]
    label_counts = collections.Counter()
    with open(os.path.join(args.out, "edges.tsv"), "w", encoding="utf-8") as f:
        f.write("src\tdst\tlabel\n")
        for row, ent in enumerate(entities):
            for e in ent["edges"]:
                dst = row_of[e["target"]]
                f.write(f"{row}\t{dst}\t{e['label']}\n")
                rev[dst].append(row)
                label_counts[e["label"]] += 1
    in_edges = np.array([len(r) for r in rev])  # edges (a source may link with two labels)
    rev = [sorted(set(r)) for r in rev]
    write_vecs(os.path.join(args.out, "base.fvecs"), base, "<f4")
    write_vecs(os.path.join(args.out, "query.fvecs"), qvecs, "<f4")
    with open(os.path.join(args.out, "queries.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")

    t2 = time.time()
    cos = Cosine(base)
    gt_ids, gt_d = cos.topk(qvecs, 100)
    write_vecs(os.path.join(args.out, "gt_cos.ivecs"), gt_ids, "<i4")
    write_vecs(os.path.join(args.out, "gt_cos.dist.fvecs"), gt_d, "<f4")
    log(f"ground truth for {len(queries)} queries in {time.time() - t2:.1f} s")

    # Filters: the section closest to 10% and the one closest to 1% of the packages.
    sections = collections.Counter(e["metadata"].get("section") for e in entities)
    n = len(names)

    def closest(target):
        return min(sections.items(), key=lambda kv: (abs(kv[1] / n - target), kv[0]))[0]

    filters = []
    nqf = min(args.nq_filtered, args.nq)
    fgt_ids, fgt_d = [], []
    for fname, value in (("section_10pct", closest(0.10)), ("section_1pct", closest(0.01))):
        match = [r for r in range(n) if entities[r]["metadata"].get("section") == value]
        filters.append({"name": fname, "field": "section", "value": value,
                        "where": {"section": {"$eq": value}},
                        "sql": f"metadata.section = '{value}'", "n_match": len(match),
                        "selectivity": round(len(match) / n, 6)})
        ids_f, d_f = cos.topk(qvecs[:nqf], 10, candidates=match)
        fgt_ids.append(ids_f)
        fgt_d.append(d_f)
    with open(os.path.join(args.out, "filters.json"), "w", encoding="utf-8") as f:
        json.dump({"n_queries": nqf, "k": 10, "metric": "cos",
                   "row": "filter_index * n_queries + query_index", "filters": filters}, f,
                  indent=1)
    write_vecs(os.path.join(args.out, "filtered_gt_cos.ivecs"), np.vstack(fgt_ids), "<i4")
    write_vecs(os.path.join(args.out, "filtered_gt_cos.dist.fvecs"), np.vstack(fgt_d), "<f4")

    # Hubs: in-degree, then reverse 1..2-hop reach of the top ones; hybrid ground truth.
    t3 = time.time()
    indeg = np.array([len(r) for r in rev])  # distinct sources
    by_indeg = sorted(range(n), key=lambda r: (-indeg[r], names[r]))
    reach_sizes = {}
    for r in by_indeg:
        if indeg[r] < 15:
            break
        reach_sizes[r] = len(reverse_reach(rev, r) - {r})
    top_hubs = [{"id": names[r], "in_degree": int(indeg[r]), "in_edges": int(in_edges[r]),
                 "reverse_reach_2hops": reach_sizes[r]} for r in by_indeg[:20]]
    by_reach = sorted(reach_sizes, key=lambda r: (-reach_sizes[r], names[r]))
    hub_rows = [by_indeg[0]]
    for target in (30000, 3500, 300):
        r = min(reach_sizes, key=lambda x: (abs(reach_sizes[x] - target), names[x]))
        if r not in hub_rows:
            hub_rows.append(r)
    hybrid = []
    for h_idx, hub in enumerate(hub_rows):
        reach_with_seed = reverse_reach(rev, hub)
        reach = sorted(reach_with_seed - {hub})
        qids = [(h_idx * args.hybrid_queries + j) % args.nq for j in range(args.hybrid_queries)]
        ids_h, d_h = cos.topk(qvecs[qids], 10, candidates=reach)
        for j, qid in enumerate(qids):
            rows = [int(x) for x in ids_h[j] if x >= 0]
            hybrid.append({"seed": names[hub], "direction": "in", "min_hops": 1, "max_hops": 2,
                           "labels": None, "qid": qid, "metric": "cos", "k": 10,
                           "ids": [names[x] for x in rows], "rows": rows,
                           "dists": [float(x) for x in d_h[j][:len(rows)]],
                           "n_candidates": len(reach),
                           "seed_reached_by_a_walk": hub in reach_with_seed})
    with open(os.path.join(args.out, "hybrid_gt.jsonl"), "w", encoding="utf-8") as f:
        for h in hybrid:
            f.write(json.dumps(h) + "\n")
    log(f"hubs and hybrid ground truth in {time.time() - t3:.1f} s")

    # stats.json
    desc_chars = [len(d) for d in descriptions]
    desc_words = [len(WORD.findall(d)) for d in descriptions]
    desc_counts = collections.Counter(descriptions)
    stats = {
        "entities": n,
        "edges": sum(label_counts.values()),
        "edges_by_label": dict(sorted(label_counts.items())),
        "edge_build": dict(sorted(counts.items())),
        "top_missing_targets": missing.most_common(15),
        "distinct_descriptions": len(desc_counts),
        "identical_vector_groups": len(groups),
        "rows_in_identical_vector_groups": sum(len(g) for g in groups),
        "largest_identical_vector_groups": [
            {"size": len(g), "description": descriptions[g[0]],
             "descriptions_merged": sorted(set(descriptions[r] for r in g))[:5],
             "sample": [names[r] for r in g[:8]]} for g in groups[:15]],
        "zero_vectors": [names[r] for r in zero_rows],
        "description_chars": percentiles(desc_chars),
        "description_words": percentiles(desc_words),
        "shortest_descriptions": sorted(set(d for d in descriptions if len(d) <= 6)),
        "longest_description": max(descriptions, key=len),
        "non_ascii_descriptions": sum(1 for d in descriptions if any(ord(c) > 127 for c in d)),
        "sections_top": sections.most_common(25),
        "filters": filters,
        "top_hubs_by_in_degree": top_hubs,
        "top_hubs_by_reverse_reach_2hops": [
            {"id": names[r], "in_degree": int(indeg[r]), "reverse_reach_2hops": reach_sizes[r]}
            for r in by_reach[:10]],
        "hybrid_hubs": [{"id": names[r], "in_degree": int(indeg[r]),
                         "reverse_reach_2hops": reach_sizes.get(r)} for r in hub_rows],
        "queries": dict(collections.Counter(q["kind"] for q in queries)),
    }
    with open(os.path.join(args.out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=1, ensure_ascii=False)

    files = sorted(os.listdir(args.out))
    manifest = {
        "generator": "bench/real/debian_catalog.py", "version": GENERATOR_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "numpy": np.__version__, "python": sys.version.split()[0], "inputs": inputs,
        "parameters": parameters,
        "metric": "cos (distance 1 - cos; zero vectors at distance 1)",
        "n_base": n, "n_queries": len(queries),
        "files": {name: {"bytes": os.path.getsize(os.path.join(args.out, name)),
                         "sha256": sha256_file(os.path.join(args.out, name))}
                  for name in files if name != "manifest.json"},
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    log(f"wrote {args.out}: {n} entities, {stats['edges']} edges, {len(queries)} queries, "
        f"{len(groups)} identical-vector groups (largest {len(groups[0]) if groups else 0}), "
        f"{len(zero_rows)} zero vectors; {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
