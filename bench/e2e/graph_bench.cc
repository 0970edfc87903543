// SPDX-License-Identifier: Apache-2.0
//
// Metadata indexes, filters, graph traversal and hybrid (graph + filter + vector) search through
// the engine's public API (phenix/db.h, phenix/query.h, phenix/search.h) on the benchmark data
// kit (../shared/bench/README.md): base.fvecs, query.fvecs, meta.jsonl, edges.tsv, filters.json
// and hybrid_gt.jsonl.
//
//   1. load    every row as entity "<row>" (vector, meta.jsonl line as metadata) in WriteBatches
//              of Insert, then the edges of edges.tsv by Upsert of the full entity (edge targets
//              must exist when an edge is written); waits until the vector index is complete,
//              then Compact() so that every later phase reads the same steady state.
//   2. index   Find(count_only) on every filter WITHOUT metadata indexes (the full-scan path:
//              the same filters on the same data, timed before any index exists), then
//              CreateIndex on the seven kit fields, AnalyzeIndexes, ListIndexes.
//   3. filter  Find(count_only) with the indexes: count checked against filters.json (and
//              against the bench's own evaluation of the filter on meta.jsonl for the extra
//              filters), median time, the planner's row estimate and its error.
//   -  reopen  Close + Open (caches start cold); the planner's estimates right after Open and
//              once the maintenance loop has recomputed the index statistics (in memory only).
//   4. traverse 2-hop expansions (Traverse, direction out) from random seeds and the top hubs
//              (also direction both), cold (first pass after the reopen) and warm (second
//              pass); against an in-memory CSR BFS (offsets + targets, epoch-marked visits) on
//              the same seeds, whose sets must be equal (checked for the first 100 random seeds
//              and every hub, depths included).
//   5. hybrid  hybrid_gt.jsonl: Search with a graph constraint and a filter; recall@10 (strict and
//              tie-tolerant), latency, the plan's filter_steps.
//   -  match   PhenixQL through QuerySession from the top hubs: reverse 1..2 hops ORDER BY
//              distance LIMIT 10 (the planner's graph plan and each one forced) against plain
//              top-10, count(*) and a LIMIT 10 page; counts checked against the CSR, recall
//              against exact distances over the CSR neighbourhood.
//   6. shortest ShortestPath between random pairs (checked against Dijkstra on the CSR), and the
//              unweighted (bidirectional) form against a CSR BFS; Degree.
//   7. deep    a 10-hop expansion in both directions from the top hub: with the default limits,
//              and after a reopen with max_traversal_nodes = n/20 (must fail cleanly with
//              ResourceExhausted); time and RSS.
//
// One JSON object per line on stdout ({"lib":"phenix-graph","phase":...}); progress on stderr.
//
//   phenix_graph_bench --data KIT_DIR [--db DIR] [--metric l2|cos] [--seeds 1000] [--queries N]
//                      [--skip-load] [--batch 5000] [--filter-runs 20] [--hubs 20] [--pairs 100]
//                      [--make-kit N] [--phases
//                      index,filter,traverse,hybrid,match,shortest,degree,deep]
//
// --db (default /tmp/phenix-graph-bench-db) is deleted first unless --skip-load, which reuses a
// database loaded by an earlier run (its metadata indexes are dropped and rebuilt).
// --make-kit N first writes a synthetic kit of N rows to --data (the same files and fields,
// ground truth computed by the reference code in synthetic_kit.h), for smoke tests without
// the kit.
//
// Exit status: 0 fine; 1 a check failed (a Find count differs from filters.json, a traversal
// differs from the CSR, a hybrid hit outside its candidate set, ...) or an engine call failed;
// 2 bad arguments or a missing or malformed data file.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/query.h>
#include <phenix/search.h>

#include "bench_args.h"
#include "bench_output.h"
#include "kit_files.h"
#include "process_stats.h"
#include "synthetic_kit.h"

namespace {

namespace fs = std::filesystem;
namespace kit = phenix::bench_kit;
using kit::FilterMatches;
using kit::ParseRow;
using kit::TrueDistance;
using phenix::bench_output::Clock;
using phenix::bench_output::Fixed;
using phenix::bench_output::kExitBadInput;
using phenix::bench_output::kExitCheckFailed;
using phenix::bench_output::Mean;
using phenix::bench_output::Micros;
using phenix::bench_output::Percentile;
using phenix::bench_output::Round;
using phenix::bench_output::Seconds;
using phenix::bench_process::CpuModel;
using phenix::bench_process::DirectoryBytes;
using phenix::bench_process::LoadAverage;
using phenix::bench_process::PeakRssBytes;
using phenix::bench_process::RssBytes;
using phenix::bench_process::UtcNow;
using Json = nlohmann::ordered_json;

constexpr phenix::bench_output::Console kConsole("graph_bench");
constexpr const char* kCollection = "kit";
constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr double kProgressLogSeconds = 5.0;
constexpr std::size_t kVerifySeeds = 100;  // random seeds whose sets are compared
constexpr std::size_t kScanRuns = 3;       // Find runs without an index (slow)
constexpr std::uint32_t kShortestMaxHops = 16;
constexpr std::uint32_t kDeepHops = 10;
constexpr std::size_t kHybridK = 10;
constexpr double kTieTolerance = 1e-6;
constexpr double kTargetRecall = 0.99;
constexpr double kTargetP50Us = 1000;
constexpr std::uint64_t kRngSeed = 20240601;
const char* const kIndexedFields[] = {"category", "bucket", "year", "tenant",
                                      "price",    "active", "topic"};

struct Args {
    std::string data;
    std::string db = "/tmp/phenix-graph-bench-db";
    std::string metric = "l2";
    std::size_t seeds = 1000;
    std::size_t queries = 0;  // hybrid queries, 0: all of the metric
    bool skip_load = false;
    std::size_t batch = 5000;
    std::size_t filter_runs = 20;
    std::size_t hubs = 20;
    std::size_t pairs = 100;
    std::size_t make_kit = 0;
    std::size_t hybrid_passes = 3;
    std::size_t block_cache_mb =
        0;  // 0: Options' default  // timed passes over hybrid_gt.jsonl (best reported)
    // Phases to run after the load (--phases, comma-separated; default all).
    std::set<std::string> phases = {"index", "filter",   "traverse", "hybrid",
                                    "match", "shortest", "degree",   "deep"};

    [[nodiscard]] bool Has(std::string_view phase) const {
        return phases.contains(std::string(phase));
    }
};

std::string_view DirectionName(phenix::EdgeDirection direction) {
    switch (direction) {
        case phenix::EdgeDirection::kOut:
            return "out";
        case phenix::EdgeDirection::kIn:
            return "in";
        case phenix::EdgeDirection::kBoth:
            return "both";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// Process statistics

// CPU time and context switches of the calling thread: per-call deltas tell running code
// (cpu ~ wall) from waiting (blocking I/O or locks: voluntary switches) and from being
// preempted on a busy machine (involuntary switches).
struct ThreadUsage {
    double cpu_us = 0;
    std::int64_t voluntary = 0;
    std::int64_t involuntary = 0;

    static ThreadUsage Now() {
        rusage usage{};
        getrusage(RUSAGE_THREAD, &usage);
        timespec cpu{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        return {.cpu_us =
                    static_cast<double>(cpu.tv_sec) * 1e6 + static_cast<double>(cpu.tv_nsec) / 1e3,
                .voluntary = usage.ru_nvcsw,
                .involuntary = usage.ru_nivcsw};
    }
    ThreadUsage operator-(const ThreadUsage& other) const {
        return {.cpu_us = cpu_us - other.cpu_us,
                .voluntary = voluntary - other.voluntary,
                .involuntary = involuntary - other.involuntary};
    }
};

// Accumulates ThreadUsage deltas of many calls.
struct UsageStats {
    std::vector<double> cpu_us;
    std::int64_t voluntary = 0;
    std::int64_t involuntary = 0;

    void Add(const ThreadUsage& delta) {
        cpu_us.push_back(delta.cpu_us);
        voluntary += delta.voluntary;
        involuntary += delta.involuntary;
    }
    [[nodiscard]] double PerCall(std::int64_t total) const {
        return cpu_us.empty() ? 0.0
                              : static_cast<double>(total) / static_cast<double>(cpu_us.size());
    }
};

// Resets VmHWM to the current RSS (Linux: "5" > /proc/self/clear_refs). False if not allowed.
bool ResetPeakRss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

// ---------------------------------------------------------------------------------------------
// Reference graph algorithms on the CSR (the baseline: plain arrays, no storage).

class CsrBfs {
  public:
    explicit CsrBfs(std::size_t num_nodes) : epoch_(num_nodes, 0) {}

    // A new traversal from `start`: nothing visited but it, the frontier is {start}.
    void Begin(std::uint32_t start) {
        if (++current_ == 0) {
            std::fill(epoch_.begin(), epoch_.end(), 0);
            current_ = 1;
        }
        epoch_[start] = current_;
        frontier_.assign(1, start);
    }

    // Every node reachable in 1..max_hops hops from `start` (start excluded), with its BFS depth,
    // along `first` (and `second`, for direction both). Output in BFS order.
    void Run(const kit::Csr& first, const kit::Csr* second, std::uint32_t start,
             std::uint32_t max_hops, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
        out.clear();
        Begin(start);
        for (std::uint32_t depth = 1; depth <= max_hops && !frontier_.empty(); ++depth) {
            next_.clear();
            for (const std::uint32_t node : frontier_) {
                Expand(first, node, depth, out);
                if (second != nullptr) {
                    Expand(*second, node, depth, out);
                }
            }
            frontier_.swap(next_);
        }
    }

    // The fewest hops from `start` to `target` along `csr` (at most max_hops), stopping as soon
    // as the target is found; nullopt when it is farther or unreachable.
    std::optional<std::uint32_t> Distance(const kit::Csr& csr, std::uint32_t start,
                                          std::uint32_t target, std::uint32_t max_hops) {
        if (start == target) {
            return 0;
        }
        Begin(start);
        for (std::uint32_t depth = 1; depth <= max_hops && !frontier_.empty(); ++depth) {
            next_.clear();
            for (const std::uint32_t node : frontier_) {
                for (const std::uint32_t other : csr.Neighbours(node)) {
                    if (other == target) {
                        return depth;
                    }
                    if (epoch_[other] != current_) {
                        epoch_[other] = current_;
                        next_.push_back(other);
                    }
                }
            }
            frontier_.swap(next_);
        }
        return std::nullopt;
    }

  private:
    void Expand(const kit::Csr& csr, std::uint32_t node, std::uint32_t depth,
                std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
        for (const std::uint32_t next : csr.Neighbours(node)) {
            if (epoch_[next] != current_) {
                epoch_[next] = current_;
                out.emplace_back(next, depth);
                next_.push_back(next);
            }
        }
    }

    std::vector<std::uint32_t> epoch_;
    std::uint32_t current_ = 0;
    std::vector<std::uint32_t> frontier_;
    std::vector<std::uint32_t> next_;
};

struct DijkstraResult {
    bool reachable = false;
    double weight = 0;
    std::uint32_t hops = 0;  // of the least-weight path found
};

// Least-weight path along out-edges (unbounded hops); ties keep the first path found.
DijkstraResult Dijkstra(const kit::Csr& out, const std::vector<double>& weights, std::uint32_t from,
                        std::uint32_t to) {
    const std::size_t n = out.num_nodes();
    std::vector<double> dist(n, std::numeric_limits<double>::infinity());
    std::vector<std::uint32_t> hops(n, 0);
    using Item = std::pair<double, std::uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
    dist[from] = 0;
    queue.emplace(0.0, from);
    while (!queue.empty()) {
        const auto [d, node] = queue.top();
        queue.pop();
        if (d > dist[node]) {
            continue;
        }
        if (node == to) {
            return {.reachable = true, .weight = d, .hops = hops[node]};
        }
        const auto targets = out.Neighbours(node);
        const auto rows = out.EdgeRows(node);
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const double candidate = d + weights[rows[i]];
            if (candidate < dist[targets[i]]) {
                dist[targets[i]] = candidate;
                hops[targets[i]] = hops[node] + 1;
                queue.emplace(candidate, targets[i]);
            }
        }
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Arguments

constexpr std::string_view kUsage =
    "usage: phenix_graph_bench --data KIT_DIR [--db DIR] [--metric l2|cos]\n"
    "  [--seeds 1000] [--queries N] [--skip-load] [--batch 5000]\n"
    "  [--filter-runs 20] [--hubs 20] [--pairs 100] [--make-kit N]\n"
    "  [--phases index,filter,traverse,hybrid,match,shortest,degree,deep]\n"
    "  [--hybrid-passes 3] [--block-cache-mb N]\n"
    "DIR (default /tmp/phenix-graph-bench-db) is deleted first unless --skip-load.\n"
    "--make-kit N writes a synthetic kit of N rows to KIT_DIR first.\n";

Args ParseArgs(int argc, char** argv) {
    Args args;
    phenix::bench_args::ArgReader reader(
        kConsole, argc, argv, phenix::bench_args::ValueForm::kEqualsOrNext, {"skip-load"}, kUsage);
    while (reader.Next()) {
        const std::string_view key = reader.key();
        if (reader.IsFlag("skip-load")) {
            args.skip_load = true;
        } else if (key == "data") {
            args.data = reader.value();
        } else if (key == "db") {
            args.db = reader.value();
        } else if (key == "metric") {
            args.metric = reader.value();
        } else if (key == "seeds") {
            args.seeds = reader.Number<std::size_t>();
        } else if (key == "queries") {
            args.queries = reader.Number<std::size_t>();
        } else if (key == "batch") {
            args.batch = reader.Number<std::size_t>();
        } else if (key == "filter-runs") {
            args.filter_runs = reader.Number<std::size_t>();
        } else if (key == "hubs") {
            args.hubs = reader.Number<std::size_t>();
        } else if (key == "pairs") {
            args.pairs = reader.Number<std::size_t>();
        } else if (key == "make-kit") {
            args.make_kit = reader.Number<std::size_t>();
        } else if (key == "block-cache-mb") {
            args.block_cache_mb = reader.Number<std::size_t>();
        } else if (key == "hybrid-passes") {
            args.hybrid_passes = std::max<std::size_t>(1, reader.Number<std::size_t>());
        } else if (key == "phases") {
            args.phases = reader.Choices(args.phases, "phase");
        } else {
            reader.Unknown();
        }
    }
    if (args.data.empty()) {
        reader.PrintUsage();
        kConsole.Fail(kExitBadInput, "--data KIT_DIR is required");
    }
    if (args.metric == "cosine") {
        args.metric = "cos";
    }
    phenix::bench_args::RequireMetric(kConsole, args.metric);
    if (args.batch == 0 || args.filter_runs == 0) {
        kConsole.Fail(kExitBadInput, "--batch and --filter-runs must be >= 1");
    }
    if (args.make_kit != 0 && args.make_kit < 100) {
        kConsole.Fail(kExitBadInput, "--make-kit needs at least 100 rows");
    }
    args.data = phenix::bench_args::WithoutTrailingSlash(std::move(args.data));
    return args;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

struct FilterCase {
    std::string name;
    std::string source;  // "kit" (filters.json) or "extra"
    Json where;
    std::string where_text;
    std::optional<std::uint64_t> kit_count;  // n_match from filters.json
    std::size_t bitmap = 0;                  // into Bench::bitmaps_
    // Filled in by the runs.
    std::uint64_t expected = 0;
    double scan_us = 0;
    Json scan_plan;
};

struct HybridCase {
    std::uint32_t qid = 0;
    std::uint32_t seed = 0;
    std::uint32_t hops = 0;
    Json where;
    std::string where_text;  // "" for null
    std::size_t bitmap = 0;  // into Bench::bitmaps_ (null where: the all-ones bitmap)
    std::uint64_t n_candidates = 0;
    std::vector<std::uint32_t> ids;
    std::vector<double> dists;
};

struct TraversalStats {
    std::vector<double> latencies_us;
    UsageStats usage;
    std::vector<double> result_sizes;
    std::uint64_t edges_examined = 0;
    std::size_t truncated = 0;
    std::size_t errors = 0;
    std::string first_error;
};

class Bench {
  public:
    explicit Bench(Args args) : args_(std::move(args)) {}

    int Run() {
        if (args_.make_kit != 0) {
            const std::size_t num_edges = kit::WriteSyntheticKit(
                args_.data, args_.make_kit,
                {.rng_seed = kRngSeed,
                 .num_queries = 40,
                 .edge_model = kit::EdgeModel::kPopularity,
                 .filters_note = "none (synthetic smoke kit from phenix_graph_bench --make-kit)",
                 .k = kHybridK});
            kConsole.Log("make-kit: wrote " + std::to_string(args_.make_kit) + " rows, " +
                         std::to_string(num_edges) + " edges to " + args_.data);
        }
        ReadKit();
        EmitContext();
        BuildReference();
        if (args_.skip_load) {
            OpenExisting();
        } else {
            LoadFresh();
        }
        if (args_.Has("index")) {
            Indexes();
        }
        if (args_.Has("filter")) {
            Filters();
        }
        Reopen("before_traversals", {});
        if (args_.Has("filter")) {
            EstimatesAfterReopen();
        }
        if (args_.Has("traverse")) {
            Traversals();
        }
        if (args_.Has("hybrid")) {
            Hybrid();
        }
        if (args_.Has("match")) {
            MatchQueries();
        }
        if (args_.Has("shortest")) {
            ShortestPaths();
        }
        if (args_.Has("degree")) {
            Degrees();
        }
        if (args_.Has("deep")) {
            DeepExpansion();
        }
        kConsole.Check(db_->Close(), "Close");
        db_.reset();
        Head("summary")
            .Set("failures", failures_)
            .Set("filter_count_mismatches", count_mismatches_)
            .Set("peak_rss_bytes", std::max(peak_rss_, PeakRssBytes()))
            .Set("total_seconds", Round(Seconds(start_), 3))
            .Set("load_average_1m", LoadAverage())
            .Emit();
        if (count_mismatches_ > 0) {
            kConsole.Log(std::to_string(count_mismatches_) +
                         " Find count(s) differ from the expected");
        }
        if (failures_ > 0) {
            kConsole.Log(std::to_string(failures_) + " check(s) failed");
            return kExitCheckFailed;
        }
        kConsole.Log("all checks passed in " + Fixed(Seconds(start_), 1) + " s");
        return 0;
    }

  private:
    using Line = phenix::bench_output::JsonLine<Json>;

    Line Head(std::string_view phase) const {
        Json body;
        body["lib"] = "phenix-graph";
        body["set"] = set_name_;
        body["metric"] = args_.metric;
        body["phase"] = phase;
        return Line(std::move(body));
    }

    void Fault(const std::string& what) {
        kConsole.Log("CHECK FAILED: " + what);
        ++failures_;
    }

    // ---- kit

    void ReadKit() {
        const auto start = Clock::now();
        set_name_ = fs::path(args_.data).filename().string();
        base_ = kit::ReadVecs<float>(args_.data + "/base.fvecs");
        queries_ = kit::ReadVecs<float>(args_.data + "/query.fvecs");
        if (queries_.dim != base_.dim) {
            throw kit::KitError("query.fvecs and base.fvecs differ in dimension");
        }
        n_ = base_.rows;
        meta_ = kit::ReadLines(args_.data + "/meta.jsonl", n_);
        if (meta_.size() != n_) {
            throw kit::KitError("meta.jsonl has " + std::to_string(meta_.size()) + " lines for " +
                                std::to_string(n_) + " vectors");
        }
        edges_ = kit::ReadEdges(args_.data + "/edges.tsv", n_);
        for (std::size_t row = 1; row < edges_.size(); ++row) {
            if (edges_.src[row] < edges_.src[row - 1]) {
                throw kit::KitError("edges.tsv is not sorted by src");
            }
        }

        // filters.json, then the extras (expected counts from the reference evaluation).
        const Json filters_doc = Json::parse(kit::ReadText(args_.data + "/filters.json"));
        for (const auto& filter : filters_doc.at("filters")) {
            AddFilter(filter.at("name").get<std::string>(), "kit", filter.at("where"),
                      filter.at("n_match").get<std::uint64_t>());
        }
        const std::pair<const char*, const char*> extras[] = {
            {"year_ge_2020", R"({"year": {"$gte": 2020}})"},
            {"cat_in_1_2", R"({"category": {"$in": [1, 2]}})"},
            {"price_ge_10_lt_20", R"({"price": {"$gte": 10, "$lt": 20}})"},
            {"not_active", R"({"$not": {"active": true}})"},
            {"or_tenant_t07_bucket_lt_10",
             R"({"$or": [{"tenant": "t07"}, {"bucket": {"$lt": 10}}]})"},
            {"tenant_t07_and_cat_in_0_1", R"({"tenant": "t07", "category": {"$in": [0, 1]}})"},
            {"match_all", R"({})"},
        };
        for (const auto& [name, where] : extras) {
            AddFilter(name, "extra", Json::parse(where), std::nullopt);
        }

        // hybrid_gt.jsonl lines of this metric.
        for (const auto& line : kit::ReadLines(args_.data + "/hybrid_gt.jsonl")) {
            const Json doc = Json::parse(line);
            if (doc.at("metric").get<std::string>() != args_.metric) {
                continue;
            }
            if (doc.at("direction").get<std::string>() != "out") {
                throw kit::KitError("hybrid_gt.jsonl: only direction out is supported");
            }
            HybridCase hybrid;
            hybrid.qid = doc.at("qid").get<std::uint32_t>();
            hybrid.seed = doc.at("seed").get<std::uint32_t>();
            hybrid.hops = doc.at("hops").get<std::uint32_t>();
            hybrid.where = doc.at("where");
            hybrid.where_text = hybrid.where.is_null() ? "" : hybrid.where.dump();
            hybrid.bitmap = BitmapFor(hybrid.where);
            hybrid.n_candidates = doc.at("n_candidates").get<std::uint64_t>();
            hybrid.ids = doc.at("ids").get<std::vector<std::uint32_t>>();
            hybrid.dists = doc.at("dists").get<std::vector<double>>();
            if (hybrid.qid >= queries_.rows || hybrid.seed >= n_ ||
                hybrid.ids.size() != hybrid.dists.size()) {
                throw kit::KitError("hybrid_gt.jsonl: a query, seed or answer is out of range");
            }
            hybrid_.push_back(std::move(hybrid));
            if (args_.queries != 0 && hybrid_.size() >= args_.queries) {
                break;
            }
        }
        kConsole.Log("read " + std::to_string(n_) + " x " + std::to_string(base_.dim) +
                     " vectors, " + std::to_string(edges_.size()) + " edges, " +
                     std::to_string(filters_.size()) + " filters, " +
                     std::to_string(hybrid_.size()) + " hybrid queries (" + args_.metric + ") in " +
                     Fixed(Seconds(start), 2) + " s");
    }

    std::size_t BitmapFor(const Json& where) {
        const std::string key = where.is_null() ? "null" : where.dump();
        const auto [it, inserted] = bitmap_of_.emplace(key, bitmap_where_.size());
        if (inserted) {
            bitmap_where_.push_back(where);
        }
        return it->second;
    }

    void AddFilter(std::string name, std::string source, Json where,
                   std::optional<std::uint64_t> kit_count) {
        FilterCase filter;
        filter.name = std::move(name);
        filter.source = std::move(source);
        filter.where_text = where.dump();
        filter.bitmap = BitmapFor(where);
        filter.where = std::move(where);
        filter.kit_count = kit_count;
        filters_.push_back(std::move(filter));
    }

    void EmitContext() {
        const phenix::Options defaults = DbOptions();
        Head("context")
            .Set("cpu", CpuModel())
            .Set("date", UtcNow())
            .Set("hardware_threads", std::thread::hardware_concurrency())
            .Set("load_average_1m", LoadAverage())
            .Set("compiler", __VERSION__)
#ifdef NDEBUG
            .Set("ndebug", true)
#else
            .Set("ndebug", false)
#endif
            .Set("durability", "relaxed (every phase; the database is a scratch copy)")
            .Set("n", n_)
            .Set("dim", base_.dim)
            .Set("edges", edges_.size())
            .Set("filters", filters_.size())
            .Set("hybrid_queries", hybrid_.size())
            .Set("seeds", args_.seeds)
            .Set("hubs", args_.hubs)
            .Set("batch", args_.batch)
            .Set("skip_load", args_.skip_load)
            .Set("phases", args_.phases)
            .Set("synthetic_kit", args_.make_kit != 0)
            .Set("adjacency_cache_bytes", defaults.adjacency_cache_bytes)
            .Set("block_cache_bytes", defaults.block_cache_bytes)
            .Set("max_traversal_nodes", defaults.max_traversal_nodes)
            .Set("max_traversal_edges", defaults.max_traversal_edges)
            .Set("db", args_.db)
            .Emit();
    }

    // CSR in both directions, in-degrees, hubs, and every filter's matching rows.
    void BuildReference() {
        const auto start = Clock::now();
        out_ = kit::BuildCsr(edges_, n_, false);
        in_ = kit::BuildCsr(edges_, n_, true);
        std::vector<std::uint32_t> order(n_);
        std::iota(order.begin(), order.end(), 0U);
        const std::size_t hubs = std::min(args_.hubs, n_);
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(hubs),
                          order.end(), [&](std::uint32_t a, std::uint32_t b) {
                              return in_.Degree(a) != in_.Degree(b) ? in_.Degree(a) > in_.Degree(b)
                                                                    : a < b;
                          });
        hubs_.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(hubs));

        bitmaps_.assign(bitmap_where_.size(), std::vector<std::uint8_t>(n_, 0));
        for (std::size_t row = 0; row < n_; ++row) {
            const Json doc = Json::parse(meta_[row]);
            for (std::size_t b = 0; b < bitmap_where_.size(); ++b) {
                bitmaps_[b][row] = FilterMatches(bitmap_where_[b], doc) ? 1 : 0;
            }
        }
        for (auto& filter : filters_) {
            const auto& bitmap = bitmaps_[filter.bitmap];
            filter.expected = static_cast<std::uint64_t>(
                std::count(bitmap.begin(), bitmap.end(), std::uint8_t{1}));
            if (filter.kit_count && *filter.kit_count != filter.expected) {
                kConsole.Fail(kExitBadInput,
                              "the bench's reference evaluation of filter " + filter.name +
                                  " counts " + std::to_string(filter.expected) +
                                  ", filters.json says " + std::to_string(*filter.kit_count));
            }
        }

        // Seeds: --seeds distinct random rows (fixed RNG).
        std::mt19937_64 rng(kRngSeed);
        std::vector<std::uint32_t> rows(n_);
        std::iota(rows.begin(), rows.end(), 0U);
        std::shuffle(rows.begin(), rows.end(), rng);
        seeds_.assign(rows.begin(),
                      rows.begin() + static_cast<std::ptrdiff_t>(std::min(args_.seeds, n_)));
        for (std::size_t pair = 0; pair < args_.pairs; ++pair) {
            pairs_.emplace_back(static_cast<std::uint32_t>(rng() % n_),
                                static_cast<std::uint32_t>(rng() % n_));
        }
        kConsole.Log("reference: CSR, " + std::to_string(bitmaps_.size()) + " filter bitmaps in " +
                     Fixed(Seconds(start), 2) + " s; top hub " +
                     (hubs_.empty() ? std::string("-")
                                    : std::to_string(hubs_[0]) + " (in-degree " +
                                          std::to_string(in_.Degree(hubs_[0])) + ")"));
    }

    // ---- database

    phenix::Options DbOptions() const {
        phenix::Options options;
        options.durability = phenix::Durability::kRelaxed;
        if (args_.block_cache_mb != 0) {
            options.block_cache_bytes = args_.block_cache_mb << 20;
        }
        return options;
    }

    void OpenDb(const phenix::Options& options) {
        auto opened = phenix::Database::Open(args_.db, options);
        if (!opened.ok()) {
            kConsole.Fail(kExitCheckFailed,
                          "Open(" + args_.db + "): " + opened.status().ToString());
        }
        db_ = std::move(opened).value();
    }

    phenix::VectorIndexInfo Info() {
        return kConsole.Value(db_->GetVectorIndexInfo(kCollection), "GetVectorIndexInfo");
    }

    double WaitIndexed(std::string_view what) {
        const auto start = Clock::now();
        auto last_log = Clock::now();
        phenix::VectorIndexInfo info = Info();
        while (info.unindexed_rows > 0) {
            std::this_thread::sleep_for(kPollInterval);
            info = Info();
            if (Seconds(last_log) >= kProgressLogSeconds) {
                last_log = Clock::now();
                kConsole.Log(std::string(what) + ": " + std::to_string(info.unindexed_rows) +
                             " rows to index, " + Fixed(Seconds(start), 1) + " s");
            }
        }
        return Seconds(start);
    }

    void OpenExisting() {
        phenix::Options options = DbOptions();
        options.create_if_missing = false;
        OpenDb(options);
        const auto info =
            kConsole.Value(db_->GetCollection(kCollection), "GetCollection (--skip-load)");
        if (info.num_entities != n_ || info.spec.dimension != base_.dim) {
            kConsole.Fail(kExitBadInput, "--skip-load: the collection holds " +
                                             std::to_string(info.num_entities) +
                                             " entities, the kit " + std::to_string(n_));
        }
        const double wait = WaitIndexed("open");
        Head("load").Set("skipped", true).Set("index_wait_seconds", Round(wait, 3)).Emit();
        // Drop the indexes of the earlier run so that scans and index builds are measured again
        // (kept when the index phase is not run).
        if (!args_.Has("index")) {
            return;
        }
        for (const auto& index : kConsole.Value(db_->ListIndexes(kCollection), "ListIndexes")) {
            kConsole.Check(db_->DropIndex(kCollection, index.path), "DropIndex " + index.path);
            kConsole.Log("dropped the existing index on " + index.path);
        }
    }

    phenix::Entity MakeEntity(std::size_t row, bool with_edges) const {
        const auto vector = base_.Row(row);
        phenix::Entity entity{.id = std::to_string(row),
                              .vector = {vector.begin(), vector.end()},
                              .metadata = meta_[row]};
        if (with_edges) {
            const auto targets = out_.Neighbours(static_cast<std::uint32_t>(row));
            const auto rows = out_.EdgeRows(static_cast<std::uint32_t>(row));
            entity.edges.reserve(targets.size());
            for (std::size_t i = 0; i < targets.size(); ++i) {
                entity.edges.push_back(
                    phenix::Edge{.label = edges_.rel[rows[i]] == 0 ? "rel0" : "rel1",
                                 .target_id = std::to_string(targets[i]),
                                 .weight = edges_.weight[rows[i]]});
            }
        }
        return entity;
    }

    void LoadFresh() {
        std::error_code ec;
        fs::remove_all(args_.db, ec);
        if (ec) {
            kConsole.Fail(kExitBadInput, "cannot delete " + args_.db + ": " + ec.message());
        }
        OpenDb(DbOptions());
        kConsole.Check(
            db_->CreateCollection(
                {.ref = kCollection,
                 .dimension = static_cast<std::uint32_t>(base_.dim),
                 .metric = args_.metric == "cos" ? phenix::Metric::kCosine : phenix::Metric::kL2}),
            "CreateCollection");
        const auto load_start = Clock::now();

        // Pass 1: entities without edges.
        double entity_commit_seconds = 0;
        phenix::WriteBatch batch;
        auto last_log = Clock::now();
        for (std::size_t first = 0; first < n_; first += args_.batch) {
            const std::size_t last = std::min(n_, first + args_.batch);
            batch.Clear();
            for (std::size_t row = first; row < last; ++row) {
                batch.Insert(kCollection, MakeEntity(row, false));
            }
            const auto start = Clock::now();
            kConsole.Check(db_->Write(batch), "Write (entities " + std::to_string(first) + "..)");
            entity_commit_seconds += Seconds(start);
            if (Seconds(last_log) >= kProgressLogSeconds) {
                last_log = Clock::now();
                kConsole.Log("load entities " + std::to_string(last) + "/" + std::to_string(n_));
            }
        }
        const double entity_wall = Seconds(load_start);

        // Pass 2: Upsert of the full entity with its out-edges (every target exists now).
        const auto edges_start = Clock::now();
        double edge_commit_seconds = 0;
        std::size_t upserts = 0;
        std::vector<double> edge_batch_seconds;
        for (std::size_t first = 0; first < n_; first += args_.batch) {
            const std::size_t last = std::min(n_, first + args_.batch);
            batch.Clear();
            for (std::size_t row = first; row < last; ++row) {
                if (out_.Degree(static_cast<std::uint32_t>(row)) > 0) {
                    batch.Upsert(kCollection, MakeEntity(row, true));
                }
            }
            if (batch.empty()) {
                continue;
            }
            upserts += batch.size();
            const auto start = Clock::now();
            kConsole.Check(db_->Write(batch), "Write (edges of " + std::to_string(first) + "..)");
            edge_batch_seconds.push_back(Seconds(start));
            edge_commit_seconds += edge_batch_seconds.back();
            if (Seconds(last_log) >= kProgressLogSeconds) {
                last_log = Clock::now();
                kConsole.Log("load edges of " + std::to_string(last) + "/" + std::to_string(n_));
            }
        }
        const double edges_wall = Seconds(edges_start);
        const auto unindexed_at_end = Info().unindexed_rows;
        const double wait = WaitIndexed("load");
        // A full compaction, so that every later phase reads the same steady state (all data in
        // the bottommost level) whatever the background compactions had reached.
        const auto compact_start = Clock::now();
        kConsole.Check(db_->Compact(), "Compact");
        const double compact_seconds = Seconds(compact_start);
        const auto info = Info();
        const auto collection = kConsole.Value(db_->GetCollection(kCollection), "GetCollection");
        Head("load")
            .Set("n", n_)
            .Set("edges", edges_.size())
            .Set("batch", args_.batch)
            .Set("durability", "relaxed")
            .Set("entity_commit_seconds", Round(entity_commit_seconds, 3))
            .Set("entity_wall_seconds", Round(entity_wall, 3))
            .Set("entities_per_second", Round(static_cast<double>(n_) / entity_commit_seconds, 1))
            .Set("edge_upserts", upserts)
            .Set("edge_commit_seconds", Round(edge_commit_seconds, 3))
            .Set("edge_wall_seconds", Round(edges_wall, 3))
            .Set("edges_per_second",
                 Round(static_cast<double>(edges_.size()) / edge_commit_seconds, 1))
            .Set("edge_batch_seconds_p50", Round(Percentile(edge_batch_seconds, 0.5), 3))
            .Set("edge_batch_seconds_max", Round(Percentile(edge_batch_seconds, 1.0), 3))
            .Set("edge_batch_seconds_first",
                 Round(edge_batch_seconds.empty() ? 0.0 : edge_batch_seconds.front(), 3))
            .Set("edge_batch_seconds_last",
                 Round(edge_batch_seconds.empty() ? 0.0 : edge_batch_seconds.back(), 3))
            .Set("note",
                 "edges are written by re-upserting each entity whole (vector + metadata "
                 "+ edges), so the vector index absorbs every vector twice")
            .Set("unindexed_rows_after_writes", unindexed_at_end)
            .Set("index_wait_seconds", Round(wait, 3))
            .Set("compact_seconds", Round(compact_seconds, 3))
            .Set("db_bytes_after_compact", DirectoryBytes(args_.db))
            .Set("num_entities", collection.num_entities)
            .Set("index_nodes", info.nodes)
            .Set("index_live_nodes", info.live_nodes)
            .Set("rss_bytes", RssBytes())
            .Emit();
        if (collection.num_entities != n_) {
            Fault("num_entities " + std::to_string(collection.num_entities) +
                  " != " + std::to_string(n_));
        }
        kConsole.Log("loaded " + std::to_string(n_) + " entities (" +
                     Fixed(static_cast<double>(n_) / entity_commit_seconds, 0) + "/s) and " +
                     std::to_string(edges_.size()) + " edges (" +
                     Fixed(static_cast<double>(edges_.size()) / edge_commit_seconds, 0) +
                     "/s); vector index complete " + Fixed(wait, 1) + " s later");
    }

    // Close and open again (the adjacency cache and block cache start cold), wait for the
    // vector index.
    void Reopen(std::string_view why, const phenix::Options& extra) {
        const auto close_start = Clock::now();
        kConsole.Check(db_->Close(), "Close");
        db_.reset();
        const double close_seconds = Seconds(close_start);
        const auto open_start = Clock::now();
        phenix::Options options = extra;
        options.durability = phenix::Durability::kRelaxed;
        if (args_.block_cache_mb != 0) {
            options.block_cache_bytes = args_.block_cache_mb << 20;
        }
        OpenDb(options);
        const double open_seconds = Seconds(open_start);
        const double wait = WaitIndexed("reopen");
        Head("reopen")
            .Set("why", why)
            .Set("close_seconds", Round(close_seconds, 3))
            .Set("open_seconds", Round(open_seconds, 3))
            .Set("index_wait_seconds", Round(wait, 3))
            .Set("max_traversal_nodes", options.max_traversal_nodes)
            .Set("rss_bytes", RssBytes())
            .Emit();
    }

    // ---- metadata indexes and filters

    struct FindTiming {
        double median_us = 0;
        phenix::FindResponse response;
    };

    FindTiming TimeFind(const FilterCase& filter, std::size_t runs) {
        const phenix::FindOptions options{.filter = filter.where_text, .count_only = true};
        std::vector<double> times;
        FindTiming timing;
        for (std::size_t run = 0; run < runs; ++run) {
            const auto start = Clock::now();
            auto response = db_->Find(kCollection, options);
            const double us = Micros(start);
            if (!response.ok()) {
                kConsole.Fail(kExitCheckFailed,
                              "Find " + filter.name + ": " + response.status().ToString());
            }
            times.push_back(us);
            timing.response = std::move(response).value();
        }
        timing.median_us = Percentile(times, 0.5);
        return timing;
    }

    static Json PlanJson(const phenix::FilterPlan& plan) {
        Json out;
        out["steps"] = plan.steps;
        out["estimated_rows"] = Round(plan.estimated_rows, 1);
        out["rows_scanned"] = plan.rows_scanned;
        out["index_entries_read"] = plan.index_entries_read;
        return out;
    }

    // Counts must equal the expected count; a mismatch is reported and fails the run.
    void CheckCount(const FilterCase& filter, std::uint64_t count, std::string_view when) {
        if (count != filter.expected) {
            ++count_mismatches_;
            Fault("Find " + filter.name + " (" + std::string(when) + ") counted " +
                  std::to_string(count) + ", expected " + std::to_string(filter.expected) +
                  " (filter " + filter.where_text + ")");
        }
    }

    void Indexes() {
        // The full-scan variant: the same filters before any metadata index exists.
        for (auto& filter : filters_) {
            const FindTiming timing = TimeFind(filter, kScanRuns);
            CheckCount(filter, timing.response.count, "no index");
            filter.scan_us = timing.median_us;
            filter.scan_plan = PlanJson(timing.response.plan);
        }
        kConsole.Log("filters without indexes timed");

        Json seconds_per_index;
        const auto all_start = Clock::now();
        for (const char* path : kIndexedFields) {
            const auto start = Clock::now();
            auto last_log = Clock::now();
            std::uint64_t calls = 0;
            std::uint64_t last_done = 0;
            std::uint64_t last_total = 0;
            const phenix::Status status =
                db_->CreateIndex(kCollection, path, [&](std::uint64_t done, std::uint64_t total) {
                    ++calls;
                    last_done = done;
                    last_total = total;
                    if (Seconds(last_log) >= kProgressLogSeconds) {
                        last_log = Clock::now();
                        kConsole.Log(std::string("CreateIndex ") + path + ": " +
                                     std::to_string(done) + "/" + std::to_string(total));
                    }
                });
            kConsole.Check(status, std::string("CreateIndex ") + path);
            const double seconds = Seconds(start);
            seconds_per_index[path] = Round(seconds, 3);
            Head("create_index")
                .Set("path", path)
                .Set("seconds", Round(seconds, 3))
                .Set("rows_per_second", Round(static_cast<double>(n_) / seconds, 1))
                .Set("progress_calls", calls)
                .Set("progress_last_done", last_done)
                .Set("progress_last_total", last_total)
                .Emit();
            kConsole.Log(std::string("CreateIndex ") + path + " " + Fixed(seconds, 2) + " s");
        }
        const double all_seconds = Seconds(all_start);
        const auto analyze_start = Clock::now();
        kConsole.Check(db_->AnalyzeIndexes(kCollection), "AnalyzeIndexes");
        const double analyze_seconds = Seconds(analyze_start);
        const auto indexes = kConsole.Value(db_->ListIndexes(kCollection), "ListIndexes");
        Json listed = Json::array();
        for (const auto& index : indexes) {
            Json entry;
            entry["path"] = index.path;
            entry["state"] = index.state == phenix::IndexState::kReady ? "ready" : "building";
            entry["entries"] = index.entries;
            entry["distinct_values"] = index.distinct_values;
            entry["statistics_bytes"] = index.statistics_json.size();
            entry["statistics_json_valid"] = Json::accept(index.statistics_json);
            listed.push_back(entry);
            if (index.state != phenix::IndexState::kReady) {
                Fault("index " + index.path + " is not ready after CreateIndex returned");
            }
            if (index.entries != n_) {
                Fault("index " + index.path + " has " + std::to_string(index.entries) +
                      " entries, expected " + std::to_string(n_) + " (one per entity)");
            }
        }
        if (indexes.size() != std::size(kIndexedFields)) {
            Fault("ListIndexes returned " + std::to_string(indexes.size()) + " indexes");
        }
        Head("indexes")
            .Set("seconds_per_index", seconds_per_index)
            .Set("create_seconds_total", Round(all_seconds, 3))
            .Set("analyze_seconds", Round(analyze_seconds, 3))
            .Set("indexes", listed)
            .Set("rss_bytes", RssBytes())
            .Emit();
    }

    void Filters() {
        for (auto& filter : filters_) {
            (void)TimeFind(filter, 1);  // warm-up
            const FindTiming timing = TimeFind(filter, args_.filter_runs);
            const auto count = timing.response.count;
            CheckCount(filter, count, "indexed");
            const double est = timing.response.plan.estimated_rows;
            const double actual = static_cast<double>(filter.expected);
            const auto per_100k = [&](double us) {
                return filter.expected == 0 ? Json(nullptr) : Json(Round(us * 1e5 / actual, 1));
            };
            Head("filter")
                .Set("name", filter.name)
                .Set("source", filter.source)
                .Set("where", filter.where)
                .Set("count", count)
                .Set("expected", filter.expected)
                .Set("count_ok", count == filter.expected)
                .Set("selectivity", Round(actual / static_cast<double>(n_), 5))
                .Set("runs", args_.filter_runs)
                .Set("median_us", Round(timing.median_us, 1))
                .Set("us_per_100k_matches", per_100k(timing.median_us))
                .Set("estimated_rows", Round(est, 1))
                .Set("estimate_rel_error", filter.expected == 0
                                               ? Json(nullptr)
                                               : Json(Round(std::abs(est - actual) / actual, 4)))
                .Set("plan", PlanJson(timing.response.plan))
                .Set("scan_runs", kScanRuns)
                .Set("scan_median_us", Round(filter.scan_us, 1))
                .Set("scan_us_per_100k_matches", per_100k(filter.scan_us))
                .Set("scan_plan", filter.scan_plan)
                .Set("speedup_vs_scan", Round(filter.scan_us / timing.median_us, 2))
                .Set("scan_note", "scan = the same Find before any metadata index existed")
                .Emit();
            kConsole.Log("filter " + filter.name + ": count " + std::to_string(count) +
                         " (expected " + std::to_string(filter.expected) + "), " +
                         Fixed(timing.median_us, 0) + " us indexed, " + Fixed(filter.scan_us, 0) +
                         " us scan, est " + Fixed(est, 0));
        }
    }

    // The planner's estimates after the reopen. Index statistics live in memory: right after
    // Open the planner has none (default estimates) until the maintenance loop recomputes them
    // (about once a second). Measured: estimates right after Open, the time until every index
    // has statistics again, and the estimates then.
    Json EstimateErrors(double* mean_error) {
        Json filters = Json::array();
        double error_sum = 0;
        std::size_t errors = 0;
        for (const auto& filter : filters_) {
            const FindTiming timing = TimeFind(filter, 1);
            CheckCount(filter, timing.response.count, "after reopen");
            const double est = timing.response.plan.estimated_rows;
            const double actual = static_cast<double>(filter.expected);
            Json entry;
            entry["name"] = filter.name;
            entry["estimated_rows"] = Round(est, 1);
            entry["actual"] = filter.expected;
            if (filter.expected > 0) {
                entry["estimate_rel_error"] = Round(std::abs(est - actual) / actual, 4);
                error_sum += std::abs(est - actual) / actual;
                ++errors;
            }
            filters.push_back(entry);
        }
        *mean_error = errors == 0 ? 0.0 : error_sum / static_cast<double>(errors);
        return filters;
    }

    std::size_t IndexesWithoutStatistics() {
        const auto indexes =
            kConsole.Value(db_->ListIndexes(kCollection), "ListIndexes after reopen");
        return static_cast<std::size_t>(
            std::count_if(indexes.begin(), indexes.end(),
                          [](const auto& index) { return index.statistics_timestamp == 0; }));
    }

    void EstimatesAfterReopen() {
        constexpr double kMaxWaitSeconds = 60;
        const auto start = Clock::now();
        const std::size_t missing_at_open = IndexesWithoutStatistics();
        double error_at_open = 0;
        const Json at_open = EstimateErrors(&error_at_open);
        std::size_t missing = missing_at_open;
        while (missing > 0 && Seconds(start) < kMaxWaitSeconds) {
            std::this_thread::sleep_for(kPollInterval);
            missing = IndexesWithoutStatistics();
        }
        const double wait = Seconds(start);
        double error_later = 0;
        const Json later = EstimateErrors(&error_later);
        if (missing > 0) {
            Fault(std::to_string(missing) + " indexes still have no statistics " +
                  Fixed(kMaxWaitSeconds, 0) + " s after Open");
        }
        Head("estimates_after_reopen")
            .Set("note",
                 "index statistics are in memory: after Open the planner uses default "
                 "estimates until the maintenance loop recomputes them")
            .Set("indexes_without_statistics_at_open", missing_at_open)
            .Set("mean_estimate_rel_error_at_open", Round(error_at_open, 4))
            .Set("seconds_until_statistics", Round(wait, 3))
            .Set("indexes_without_statistics_after_wait", missing)
            .Set("mean_estimate_rel_error_after_wait", Round(error_later, 4))
            .Set("at_open", at_open)
            .Set("after_wait", later)
            .Emit();
        kConsole.Log("after reopen: " + std::to_string(missing_at_open) +
                     " indexes without statistics, mean estimate error " + Fixed(error_at_open, 2) +
                     "; statistics back after " + Fixed(wait, 2) + " s, error " +
                     Fixed(error_later, 2));
    }

    // ---- traversals

    using Reached = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // (row, depth)

    // One Traverse per seed; the result sets of the first `keep` seeds go to `kept`.
    TraversalStats TraversePass(const std::vector<std::uint32_t>& seeds,
                                phenix::EdgeDirection direction, std::uint32_t max_hops,
                                std::size_t keep, std::vector<Reached>* kept) {
        TraversalStats stats;
        if (kept != nullptr) {
            kept->clear();
        }
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            const phenix::TraversalSpec spec{.start_id = std::to_string(seeds[i]),
                                             .min_hops = 1,
                                             .max_hops = max_hops,
                                             .direction = direction};
            const auto usage_before = ThreadUsage::Now();
            const auto start = Clock::now();
            auto response = db_->Traverse(kCollection, spec);
            const double us = Micros(start);
            stats.usage.Add(ThreadUsage::Now() - usage_before);
            if (!response.ok()) {
                if (stats.errors++ == 0) {
                    stats.first_error =
                        "seed " + std::to_string(seeds[i]) + ": " + response.status().ToString();
                }
                if (kept != nullptr && i < keep) {
                    kept->emplace_back();
                }
                continue;
            }
            stats.latencies_us.push_back(us);
            stats.result_sizes.push_back(static_cast<double>(response->entities.size()));
            stats.edges_examined += response->edges_examined;
            stats.truncated += (response->truncated) ? 1U : 0U;
            if (kept != nullptr && i < keep) {
                Reached reached;
                reached.reserve(response->entities.size());
                for (const auto& entity : response->entities) {
                    const auto row = ParseRow(entity.id);
                    reached.emplace_back(row.value_or(UINT32_MAX), entity.depth);
                }
                kept->push_back(std::move(reached));
            }
        }
        return stats;
    }

    // The CSR baseline: the same seeds, timed on a second pass; the sets of the first `keep`.
    TraversalStats CsrPass(const std::vector<std::uint32_t>& seeds, bool both,
                           std::uint32_t max_hops, std::size_t keep, std::vector<Reached>* kept) {
        CsrBfs bfs(n_);
        Reached reached;
        TraversalStats stats;
        for (int pass = 0; pass < 2; ++pass) {
            stats = {};
            if (kept != nullptr) {
                kept->clear();
            }
            for (std::size_t i = 0; i < seeds.size(); ++i) {
                const auto start = Clock::now();
                bfs.Run(out_, both ? &in_ : nullptr, seeds[i], max_hops, reached);
                stats.latencies_us.push_back(Micros(start));
                stats.result_sizes.push_back(static_cast<double>(reached.size()));
                if (kept != nullptr && i < keep) {
                    kept->push_back(reached);
                }
            }
        }
        return stats;
    }

    // Compares engine and CSR sets (with depths); returns the number of differing seeds.
    std::size_t CompareSets(const std::vector<std::uint32_t>& seeds,
                            const std::vector<Reached>& engine, const std::vector<Reached>& csr,
                            std::string_view what) {
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < std::min(engine.size(), csr.size()); ++i) {
            Reached a = engine[i];
            Reached b = csr[i];
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            if (a == b) {
                continue;
            }
            if (mismatches++ == 0) {
                std::vector<std::pair<std::uint32_t, std::uint32_t>> only_engine;
                std::vector<std::pair<std::uint32_t, std::uint32_t>> only_csr;
                std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                                    std::back_inserter(only_engine));
                std::set_difference(b.begin(), b.end(), a.begin(), a.end(),
                                    std::back_inserter(only_csr));
                std::string detail;
                for (std::size_t k = 0; k < std::min<std::size_t>(5, only_engine.size()); ++k) {
                    detail += " +" + std::to_string(only_engine[k].first) + "@" +
                              std::to_string(only_engine[k].second);
                }
                for (std::size_t k = 0; k < std::min<std::size_t>(5, only_csr.size()); ++k) {
                    detail += " -" + std::to_string(only_csr[k].first) + "@" +
                              std::to_string(only_csr[k].second);
                }
                kConsole.Log(std::string(what) + ": seed " + std::to_string(seeds[i]) +
                             ": engine " + std::to_string(a.size()) + " (row@depth), CSR " +
                             std::to_string(b.size()) +
                             "; first differences (+engine only, -CSR only):" + detail);
            }
        }
        if (engine.size() != csr.size()) {
            ++mismatches;
        }
        return mismatches;
    }

    void EmitTraversal(std::string_view seeds_kind, phenix::EdgeDirection direction,
                       std::string_view pass, const TraversalStats& engine,
                       const TraversalStats& csr, std::size_t verified, std::size_t mismatches) {
        const double p50 = Percentile(engine.latencies_us, 0.5);
        const double mean = Mean(engine.latencies_us);
        const double csr_p50 = Percentile(csr.latencies_us, 0.5);
        const double csr_mean = Mean(csr.latencies_us);
        Head("traverse")
            .Set("seeds_kind", seeds_kind)
            .Set("direction", DirectionName(direction))
            .Set("hops", "1..2")
            .Set("pass", pass)
            .Set("seeds", engine.latencies_us.size() + engine.errors)
            .Set("p50_us", Round(p50, 1))
            .Set("p99_us", Round(Percentile(engine.latencies_us, 0.99), 1))
            .Set("mean_us", Round(mean, 1))
            .Set("mean_result", Round(Mean(engine.result_sizes), 1))
            .Set("max_result",
                 engine.result_sizes.empty()
                     ? 0.0
                     : *std::max_element(engine.result_sizes.begin(), engine.result_sizes.end()))
            .Set("mean_edges_examined",
                 engine.latencies_us.empty()
                     ? 0.0
                     : Round(static_cast<double>(engine.edges_examined) /
                                 static_cast<double>(engine.latencies_us.size()),
                             1))
            .Set("us_per_result", Round(mean / std::max(1.0, Mean(engine.result_sizes)), 3))
            .Set("truncated", engine.truncated)
            .Set("errors", engine.errors)
            .Set("first_error", engine.first_error)
            .Set("cpu_p50_us", Round(Percentile(engine.usage.cpu_us, 0.5), 1))
            .Set("voluntary_switches_per_call",
                 Round(engine.usage.PerCall(engine.usage.voluntary), 2))
            .Set("involuntary_switches_per_call",
                 Round(engine.usage.PerCall(engine.usage.involuntary), 2))
            .Set("csr_p50_us", Round(csr_p50, 2))
            .Set("csr_mean_us", Round(csr_mean, 2))
            .Set("csr_mean_result", Round(Mean(csr.result_sizes), 1))
            .Set("ratio_p50", Round(p50 / csr_p50, 1))
            .Set("ratio_mean", Round(mean / csr_mean, 1))
            .Set("sets_verified", verified)
            .Set("set_mismatches", mismatches)
            .Emit();
        kConsole.Log("traverse " + std::string(seeds_kind) + " " +
                     std::string(DirectionName(direction)) + " " + std::string(pass) + ": p50 " +
                     Fixed(p50, 1) + " us, mean " + Fixed(mean, 1) + " us, mean result " +
                     Fixed(Mean(engine.result_sizes), 1) + "; CSR p50 " + Fixed(csr_p50, 2) +
                     " us");
    }

    void Traversals() {
        std::vector<Reached> engine_sets;
        std::vector<Reached> csr_sets;
        struct Group {
            std::string_view kind;
            const std::vector<std::uint32_t>* seeds;
            phenix::EdgeDirection direction;
        };
        const Group groups[] = {
            {"random", &seeds_, phenix::EdgeDirection::kOut},
            {"hubs", &hubs_, phenix::EdgeDirection::kOut},
            {"hubs", &hubs_, phenix::EdgeDirection::kBoth},
        };
        // Cold: the first pass over every group right after the reopen; warm: the second pass.
        for (const std::string_view pass : {"cold", "warm"}) {
            for (const auto& group : groups) {
                const bool both = group.direction == phenix::EdgeDirection::kBoth;
                const std::size_t keep =
                    group.kind == "random" ? kVerifySeeds : group.seeds->size();
                const TraversalStats engine =
                    TraversePass(*group.seeds, group.direction, 2, keep, &engine_sets);
                const TraversalStats csr = CsrPass(*group.seeds, both, 2, keep, &csr_sets);
                const std::size_t mismatches = CompareSets(
                    *group.seeds, engine_sets, csr_sets,
                    std::string(group.kind) + " " + std::string(DirectionName(group.direction)));
                if (mismatches > 0 || engine.errors > 0) {
                    Fault("traverse " + std::string(group.kind) + " " +
                          std::string(DirectionName(group.direction)) + " " + std::string(pass) +
                          ": " + std::to_string(mismatches) + " set mismatches, " +
                          std::to_string(engine.errors) + " errors " + engine.first_error);
                }
                EmitTraversal(group.kind, group.direction, pass, engine, csr,
                              std::min(keep, engine_sets.size()), mismatches);
            }
        }
    }

    // ---- hybrid search

    void Hybrid() {
        if (hybrid_.empty()) {
            kConsole.Log("hybrid: no queries for metric " + args_.metric);
            return;
        }
        const bool cosine = args_.metric == "cos";
        CsrBfs bfs(n_);
        Reached reached;
        // The candidate sets (graph neighbourhood ∩ filter), checked against n_candidates.
        std::vector<std::vector<std::uint32_t>> candidates(hybrid_.size());
        std::size_t kit_mismatches = 0;
        for (std::size_t i = 0; i < hybrid_.size(); ++i) {
            const auto& query = hybrid_[i];
            bfs.Run(out_, nullptr, query.seed, query.hops, reached);
            for (const auto& [node, depth] : reached) {
                if (bitmaps_[query.bitmap][node] != 0) {
                    candidates[i].push_back(node);
                }
            }
            std::sort(candidates[i].begin(), candidates[i].end());
            if (candidates[i].size() != query.n_candidates) {
                ++kit_mismatches;
            }
        }
        if (kit_mismatches > 0) {
            kConsole.Fail(kExitBadInput,
                          "the bench's reference candidate sets differ from "
                          "hybrid_gt.jsonl's n_candidates on " +
                              std::to_string(kit_mismatches) + " queries");
        }

        const auto options_for = [&](const HybridCase& query) {
            phenix::SearchOptions options;
            options.k = kHybridK;
            options.filter = query.where_text;
            options.graph = phenix::GraphConstraint{.start_id = std::to_string(query.seed),
                                                    .min_hops = 1,
                                                    .max_hops = query.hops,
                                                    .direction = phenix::EdgeDirection::kOut};
            return options;
        };

        struct PassResult {
            std::vector<double> latencies_us;
            std::vector<double> query_us;  // per query line, NaN when the search failed
            double total_us = 0;
            UsageStats usage;
            std::vector<std::vector<std::uint32_t>> hits;
            std::vector<phenix::SearchPlan> plans;
            std::size_t errors = 0;
            std::string first_error;
        };
        const auto run_pass = [&]() {
            PassResult result;
            result.hits.resize(hybrid_.size());
            result.plans.resize(hybrid_.size());
            result.query_us.assign(hybrid_.size(), std::numeric_limits<double>::quiet_NaN());
            for (std::size_t i = 0; i < hybrid_.size(); ++i) {
                const auto& query = hybrid_[i];
                const auto options = options_for(query);
                const auto usage_before = ThreadUsage::Now();
                const auto start = Clock::now();
                auto response = db_->Search(kCollection, queries_.Row(query.qid), options);
                const double us = Micros(start);
                result.usage.Add(ThreadUsage::Now() - usage_before);
                if (!response.ok()) {
                    if (result.errors++ == 0) {
                        result.first_error =
                            "query " + std::to_string(i) + ": " + response.status().ToString();
                    }
                    continue;
                }
                result.latencies_us.push_back(us);
                result.query_us[i] = us;
                result.total_us += us;
                for (const auto& hit : response->hits) {
                    result.hits[i].push_back(ParseRow(hit.id).value_or(UINT32_MAX));
                }
                result.plans[i] = std::move(response->plan);
            }
            return result;
        };

        (void)run_pass();  // warm-up
        PassResult best = run_pass();
        for (std::size_t pass = 1; pass < args_.hybrid_passes; ++pass) {
            PassResult result = run_pass();
            if (result.total_us < best.total_us) {
                best = std::move(result);
            }
        }
        if (best.errors > 0) {
            Fault("hybrid: " + std::to_string(best.errors) + " Search errors, first " +
                  best.first_error);
        }

        // Score: strict recall against ids; tie-tolerant against the 10th true distance; hits
        // outside the candidate set are wrong answers whatever their distance.
        double recall_sum = 0;
        double tie_recall_sum = 0;
        std::size_t invalid_hits = 0;
        std::size_t short_results = 0;
        std::size_t duplicate_hits = 0;
        std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> per_kind;
        std::map<std::string, std::size_t> example_of_kind;
        std::string first_invalid;
        for (std::size_t i = 0; i < hybrid_.size(); ++i) {
            const auto& query = hybrid_[i];
            const auto& hits = best.hits[i];
            const std::size_t truth_size = query.ids.size();
            const std::unordered_set<std::uint32_t> truth(query.ids.begin(), query.ids.end());
            std::unordered_set<std::uint32_t> seen;
            std::size_t found = 0;
            std::size_t tie_found = 0;
            const double threshold =
                truth_size == 0 ? 0.0 : query.dists.back() * (1 + kTieTolerance);
            for (std::size_t h = 0; h < std::min(hits.size(), kHybridK); ++h) {
                const std::uint32_t row = hits[h];
                if (!seen.insert(row).second) {
                    ++duplicate_hits;
                    continue;
                }
                const bool valid =
                    row < n_ && std::binary_search(candidates[i].begin(), candidates[i].end(), row);
                if (!valid) {
                    if (invalid_hits++ == 0) {
                        first_invalid = "query line " + std::to_string(i) + " (qid " +
                                        std::to_string(query.qid) + ", seed " +
                                        std::to_string(query.seed) + ", where " +
                                        (query.where_text.empty() ? "null" : query.where_text) +
                                        "): hit " + std::to_string(row) +
                                        " is not in the filtered 2-hop neighbourhood";
                    }
                    continue;
                }
                found += (truth.contains(row)) ? 1U : 0U;
                const double distance =
                    TrueDistance(queries_.Row(query.qid), base_.Row(row), cosine);
                tie_found += (distance <= threshold) ? 1U : 0U;
            }
            if (hits.size() < std::min<std::size_t>(kHybridK, query.n_candidates)) {
                ++short_results;
            }
            const double recall =
                truth_size == 0 ? (hits.empty() ? 1.0 : 0.0)
                                : static_cast<double>(found) / static_cast<double>(truth_size);
            const double tie_recall = truth_size == 0
                                          ? (hits.empty() ? 1.0 : 0.0)
                                          : static_cast<double>(std::min(tie_found, truth_size)) /
                                                static_cast<double>(truth_size);
            recall_sum += recall;
            tie_recall_sum += tie_recall;
            const std::string kind = query.where_text.empty() ? "none" : query.where_text;
            per_kind[kind].first.push_back(recall);
            example_of_kind.emplace(kind, i);
        }
        // Per-kind latencies (from the best pass).
        std::map<std::string, std::vector<double>> kind_latency;
        for (std::size_t i = 0; i < hybrid_.size(); ++i) {
            if (std::isfinite(best.query_us[i])) {
                kind_latency[hybrid_[i].where_text.empty() ? "none" : hybrid_[i].where_text]
                    .push_back(best.query_us[i]);
            }
        }
        if (invalid_hits > 0) {
            Fault("hybrid: " + std::to_string(invalid_hits) + " hits outside the candidate set; " +
                  first_invalid);
        }
        if (duplicate_hits > 0) {
            Fault("hybrid: " + std::to_string(duplicate_hits) + " repeated hits");
        }
        const auto queries = static_cast<double>(hybrid_.size());
        const double recall = recall_sum / queries;
        const double tie_recall = tie_recall_sum / queries;
        const double p50 = Percentile(best.latencies_us, 0.5);
        for (const auto& [kind, index] : example_of_kind) {
            const auto& plan = best.plans[index];
            Head("hybrid_plan")
                .Set("filter", kind)
                .Set("example_query_line", index)
                .Set("n_candidates", hybrid_[index].n_candidates)
                .Set("strategy", std::string(phenix::SearchStrategyName(plan.strategy)))
                .Set("selectivity", Round(plan.selectivity, 6))
                .Set("filter_rows", plan.filter_rows)
                .Set("ef", plan.ef)
                .Set("distance_computations", plan.distance_computations)
                .Set("fell_back_to_exact", plan.fell_back_to_exact)
                .Set("filter_steps", plan.filter_steps)
                .Set("queries_of_kind", per_kind[kind].first.size())
                .Set("recall", Round(Mean(per_kind[kind].first), 4))
                .Set("p50_us", Round(Percentile(kind_latency[kind], 0.5), 1))
                .Emit();
        }
        Head("hybrid")
            .Set("queries", hybrid_.size())
            .Set("k", kHybridK)
            .Set("passes", args_.hybrid_passes)
            .Set("note", "single thread, one query at a time; latencies from the fastest of " +
                             std::to_string(args_.hybrid_passes) + " passes after a warm-up pass")
            .Set("recall", Round(recall, 4))
            .Set("recall_tie_tolerant", Round(tie_recall, 4))
            .Set("p50_us", Round(p50, 1))
            .Set("p99_us", Round(Percentile(best.latencies_us, 0.99), 1))
            .Set("mean_us", Round(Mean(best.latencies_us), 1))
            .Set("cpu_p50_us", Round(Percentile(best.usage.cpu_us, 0.5), 1))
            .Set("voluntary_switches_per_query", Round(best.usage.PerCall(best.usage.voluntary), 2))
            .Set("involuntary_switches_per_query",
                 Round(best.usage.PerCall(best.usage.involuntary), 2))
            .Set("qps", Round(best.total_us > 0 ? static_cast<double>(best.latencies_us.size()) *
                                                      1e6 / best.total_us
                                                : 0.0,
                              1))
            .Set("mean_candidates",
                 Round(std::accumulate(hybrid_.begin(), hybrid_.end(), 0.0,
                                       [](double sum, const HybridCase& q) {
                                           return sum + static_cast<double>(q.n_candidates);
                                       }) /
                           queries,
                       1))
            .Set("invalid_hits", invalid_hits)
            .Set("duplicate_hits", duplicate_hits)
            .Set("short_results", short_results)
            .Set("errors", best.errors)
            .Set("target_recall", kTargetRecall)
            .Set("target_p50_us", kTargetP50Us)
            .Set("recall_target_met", recall >= kTargetRecall)
            .Set("p50_target_met", p50 < kTargetP50Us)
            .Emit();
        kConsole.Log("hybrid: recall@10 " + Fixed(recall, 4) + " (tie-tolerant " +
                     Fixed(tie_recall, 4) + ", target >= " + Fixed(kTargetRecall, 2) + ": " +
                     (recall >= kTargetRecall ? "MET" : "NOT MET") + "), p50 " + Fixed(p50, 1) +
                     " us (target < " + Fixed(kTargetP50Us, 0) +
                     " us: " + (p50 < kTargetP50Us ? "MET" : "NOT MET") + ")");
    }

    // ---- shortest paths and degrees

    // True when `path` is a real out-path from `from` to `to` of the kit with that total weight.
    bool ValidPath(const phenix::GraphPath& path, std::uint32_t from, std::uint32_t to,
                   std::string* why) const {
        if (path.nodes.empty() || path.edges.size() + 1 != path.nodes.size()) {
            *why = "nodes/edges sizes";
            return false;
        }
        if (ParseRow(path.nodes.front().id) != from || ParseRow(path.nodes.back().id) != to) {
            *why = "endpoints";
            return false;
        }
        double total = 0;
        for (std::size_t i = 0; i < path.edges.size(); ++i) {
            const auto& edge = path.edges[i];
            const auto src = ParseRow(edge.source_id);
            const auto dst = ParseRow(edge.target_id);
            if (!src || !dst || edge.source_id != path.nodes[i].id ||
                edge.target_id != path.nodes[i + 1].id) {
                *why = "edge " + std::to_string(i) + " does not join its nodes";
                return false;
            }
            bool exists = false;
            const auto targets = out_.Neighbours(*src);
            const auto rows = out_.EdgeRows(*src);
            for (std::size_t k = 0; k < targets.size(); ++k) {
                const std::string label = edges_.rel[rows[k]] == 0 ? "rel0" : "rel1";
                if (targets[k] == *dst && label == edge.label &&
                    std::abs(edges_.weight[rows[k]] - edge.weight) <= 1e-6) {
                    exists = true;
                }
            }
            if (!exists) {
                *why = "edge " + edge.source_id + "->" + edge.target_id + " (" + edge.label + ", " +
                       std::to_string(edge.weight) + ") is not in the kit";
                return false;
            }
            total += edge.weight;
        }
        if (std::abs(total - path.total_weight) > 1e-6 * std::max(1.0, total)) {
            *why = "total_weight " + std::to_string(path.total_weight) + " != sum " +
                   std::to_string(total);
            return false;
        }
        return true;
    }

    // ---- MATCH through PhenixQL from hubs (the shell's path)

    // The issue's case: a hub's reverse 1..2-hop neighbourhood (tens of thousands of entities on
    // the bigger kits), nearest first, LIMIT 10; with the planner's choice and with each graph
    // plan forced, against plain top-10 in the same run; count(*) and a LIMIT 10 page of the
    // same pattern. Answers are checked: counts against the CSR, top-10 against exact distances
    // over the CSR neighbourhood (recall; vector-first is approximate where expand is too).
    // Both directions: reverse 1..2 hops from the top in-degree hubs (large neighbourhoods, where
    // vector-first should win) and forward 1..2 hops from random seeds (small ones, where the
    // expansion should win). The planner's choice is reported against the better forced plan.
    void MatchQueries() {
        MatchQueries(/*reverse=*/true);
        MatchQueries(/*reverse=*/false);
    }

    void MatchQueries(bool reverse) {
        phenix::QuerySession session(*db_);
        const bool cosine = args_.metric == "cos";
        const std::string op = cosine ? " <=> " : " <-> ";
        const std::vector<std::uint32_t>& starts = reverse ? hubs_ : seeds_;
        const kit::Csr& adjacency = reverse ? in_ : out_;
        const std::string direction = reverse ? "in" : "out";
        const std::size_t num_hubs = std::min<std::size_t>(starts.size(), 5);
        const std::size_t num_queries = std::min<std::size_t>(queries_.rows, 20);
        CsrBfs bfs(n_);
        Reached reached;
        struct Variant {
            std::string name;
            std::string suffix;
            std::vector<double> latencies;
            double recall_sum = 0;
            std::size_t same_as_expand = 0;
        };
        std::vector<Variant> variants = {
            {"plain_top10", "", {}, 0, 0},
            {"match_auto", "", {}, 0, 0},
            {"match_expand", " WITH (graph_plan = 'expand')", {}, 0, 0},
            {"match_vector_first", " WITH (graph_plan = 'vector_first')", {}, 0, 0}};
        std::vector<double> count_latencies;
        std::vector<double> page_latencies;
        std::size_t mismatches = 0;
        std::size_t runs = 0;
        Json plans = Json::array();
        auto run = [&](const std::string& text, std::vector<std::string>* ids) -> double {
            const auto start = Clock::now();
            auto result = session.Execute(text);
            const double us = Micros(start);
            if (!result.ok()) {
                if (mismatches++ == 0) {
                    kConsole.Log("match: " + result.status().ToString() + " for " +
                                 text.substr(0, 200));
                }
                return us;
            }
            if (ids != nullptr) {
                for (const auto& row : result->rows) {
                    ids->push_back(row[0].ToText());
                }
            }
            return us;
        };
        for (std::size_t hub_idx = 0; hub_idx < num_hubs; ++hub_idx) {
            const std::uint32_t hub = starts[hub_idx];
            const std::string pattern = "FROM MATCH (a:" + std::string(kCollection) +
                                        (reverse ? ")<-[*1..2]-(b:" : ")-[*1..2]->(b:") +
                                        std::string(kCollection) + ") WHERE a.id = '" +
                                        std::to_string(hub) + "'";
            bfs.Run(adjacency, nullptr, hub, 2, reached);
            std::vector<std::uint32_t> neighbourhood;
            for (const auto& [node, depth] : reached) {
                if (node != hub) {
                    neighbourhood.push_back(node);
                }
            }
            // MATCH returns the start too when a walk in the range comes back to it: a self-loop,
            // or a 2-cycle through a neighbour.
            for (const std::uint32_t x : adjacency.Neighbours(hub)) {
                const auto back = adjacency.Neighbours(x);
                if (x == hub || std::find(back.begin(), back.end(), hub) != back.end()) {
                    neighbourhood.push_back(hub);
                    break;
                }
            }
            // count(*) and a page, twice (the first warms the caches).
            for (int pass = 0; pass < 2; ++pass) {
                std::vector<std::string> count;
                const double count_us = run("SELECT count(*) " + pattern, &count);
                std::vector<std::string> page;
                const double page_us = run("SELECT b.id " + pattern + " LIMIT 10", &page);
                if (pass == 1) {
                    count_latencies.push_back(count_us);
                    page_latencies.push_back(page_us);
                }
                if (count.size() != 1 || count[0] != std::to_string(neighbourhood.size()) ||
                    page.size() != std::min<std::size_t>(10, neighbourhood.size())) {
                    if (mismatches++ == 0) {
                        kConsole.Log("match: hub " + std::to_string(hub) + ": count " +
                                     (count.empty() ? "?" : count[0]) + ", CSR " +
                                     std::to_string(neighbourhood.size()));
                    }
                }
            }
            for (std::size_t qid = 0; qid < num_queries; ++qid) {
                const auto query = queries_.Row(qid);
                std::string vector = "[";
                for (std::size_t dim = 0; dim < query.size(); ++dim) {
                    char number[32];
                    std::snprintf(number, sizeof number, "%.9g", static_cast<double>(query[dim]));
                    vector += (dim == 0 ? "" : ",") + std::string(number);
                }
                vector += "]";
                const std::string order = " ORDER BY b.vector" + op + vector + " LIMIT 10";
                // Exact top-10 over the neighbourhood.
                std::vector<std::pair<double, std::uint32_t>> scored;
                for (const std::uint32_t node : neighbourhood) {
                    scored.emplace_back(TrueDistance(query, base_.Row(node), cosine), node);
                }
                const std::size_t top = std::min<std::size_t>(10, scored.size());
                std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(top),
                                  scored.end());
                std::set<std::string> truth;
                for (std::size_t idx = 0; idx < top; ++idx) {
                    truth.insert(std::to_string(scored[idx].second));
                }
                std::vector<std::vector<std::string>> answers(variants.size());
                // Each variant goes first equally often (the first one meets colder caches), and
                // follows each other one equally often: the rotation runs forwards for even
                // queries and backwards for odd ones (always forwards, the variant after the
                // first MATCH one met the neighbourhood that one had just brought into cache).
                for (std::size_t turn = 0; turn < variants.size(); ++turn) {
                    const std::size_t size = variants.size();
                    const std::size_t v = qid % 2 == 0 ? (qid + turn) % size
                                                       : (qid + size * size - turn) % size;
                    const std::string text =
                        v == 0 ? "SELECT id FROM " + std::string(kCollection) + " ORDER BY vector" +
                                     op + vector + " LIMIT 10"
                               : "SELECT b.id " + pattern + order + variants[v].suffix;
                    variants[v].latencies.push_back(run(text, &answers[v]));
                    if (v > 0 && !truth.empty()) {
                        std::size_t found = 0;
                        for (const std::string& id : answers[v]) {
                            found += truth.contains(id) ? 1U : 0U;
                        }
                        variants[v].recall_sum +=
                            static_cast<double>(found) / static_cast<double>(truth.size());
                    }
                }
                for (std::size_t v = 1; v < variants.size(); ++v) {
                    variants[v].same_as_expand += answers[v] == answers[2] ? 1U : 0U;
                }
                ++runs;
            }
            // What the planner chose for this hub, and why.
            std::string vector = "[";
            for (std::size_t dim = 0; dim < base_.dim; ++dim) {
                vector += dim == 0 ? "0" : ",0";
            }
            vector += "]";
            auto explained = session.Execute("EXPLAIN SELECT b.id " + pattern +
                                             " ORDER BY b.vector" + op + vector + " LIMIT 10");
            Json plan;
            plan["hub"] = hub;
            plan["direction"] = direction;
            plan[reverse ? "in_degree" : "out_degree"] = adjacency.Degree(hub);
            plan["neighbourhood"] = neighbourhood.size();
            if (explained.ok()) {
                std::string text;
                for (const auto& row : explained->rows) {
                    text += row[0].ToText() + "\n";
                }
                plan["explain"] = text;
            }
            plans.push_back(plan);
        }
        if (mismatches > 0) {
            Fault("match: " + std::to_string(mismatches) + " errors or count mismatches");
        }
        const double plain_p50 = Percentile(variants[0].latencies, 0.5);
        const double best_forced_mean =
            std::min(Mean(variants[2].latencies), Mean(variants[3].latencies));
        for (std::size_t v = 0; v < variants.size(); ++v) {
            const double p50 = Percentile(variants[v].latencies, 0.5);
            auto line = Head("match");
            line.Set("query", variants[v].name)
                .Set("direction", direction)
                .Set("starts", reverse ? "top in-degree hubs" : "random seeds")
                .Set("hubs", num_hubs)
                .Set("queries", runs)
                .Set("p50_us", Round(p50, 1))
                .Set("p99_us", Round(Percentile(variants[v].latencies, 0.99), 1))
                .Set("mean_us", Round(Mean(variants[v].latencies), 1))
                .Set("x_plain_top10_p50", Round(p50 / std::max(plain_p50, 1e-3), 2));
            if (v == 1) {  // the planner's choice against the better forced plan (means)
                line.Set("auto_over_best_forced_mean",
                         Round(Mean(variants[v].latencies) / std::max(best_forced_mean, 1e-3), 3));
            }
            if (v > 0) {
                line.Set("recall_at_10",
                         Round(variants[v].recall_sum / static_cast<double>(runs), 4))
                    .Set("same_rows_as_expand",
                         Round(static_cast<double>(variants[v].same_as_expand) /
                                   static_cast<double>(runs),
                               4));
            }
            line.Emit();
            kConsole.Log("match " + direction + " " + variants[v].name + ": p50 " + Fixed(p50, 1) +
                         " us (" +
                         Fixed(p50 / std::max(plain_p50, 1e-3), 2) + "x plain top-10)");
        }
        Head("match_count")
            .Set("direction", direction)
            .Set("hubs", num_hubs)
            .Set("count_p50_us", Round(Percentile(count_latencies, 0.5), 1))
            .Set("count_mean_us", Round(Mean(count_latencies), 1))
            .Set("page10_p50_us", Round(Percentile(page_latencies, 0.5), 1))
            .Set("page10_mean_us", Round(Mean(page_latencies), 1))
            .Set("plans", plans)
            .Emit();
        kConsole.Log("match count(*) from hubs: p50 " + Fixed(Percentile(count_latencies, 0.5), 1) +
                     " us; LIMIT 10 page p50 " + Fixed(Percentile(page_latencies, 0.5), 1) + " us");
    }

    void ShortestPaths() {
        std::vector<double> latencies;
        std::vector<double> csr_latencies;
        std::size_t reachable = 0;
        std::size_t reachable_within = 0;
        std::size_t mismatches = 0;
        std::size_t errors = 0;
        std::size_t compared = 0;
        std::vector<double> hops;
        CsrBfs bfs(n_);
        Reached reached;
        for (const auto& [from, to] : pairs_) {
            const phenix::ShortestPathSpec spec{.from_id = std::to_string(from),
                                                .to_id = std::to_string(to),
                                                .direction = phenix::EdgeDirection::kOut,
                                                .max_hops = kShortestMaxHops};
            const auto start = Clock::now();
            auto response = db_->ShortestPath(kCollection, spec);
            latencies.push_back(Micros(start));
            const auto csr_start = Clock::now();
            const DijkstraResult truth = Dijkstra(out_, edges_.weight, from, to);
            csr_latencies.push_back(Micros(csr_start));
            // Reachable within the hop bound (BFS), for the engine's nullopt answers.
            bool within = from == to;
            if (!within) {
                bfs.Run(out_, nullptr, from, kShortestMaxHops, reached);
                within = std::any_of(reached.begin(), reached.end(),
                                     [&](const auto& item) { return item.first == to; });
            }
            reachable_within += within ? 1U : 0U;
            const std::string pair_text = std::to_string(from) + " -> " + std::to_string(to);
            if (!response.ok()) {
                if (errors++ == 0) {
                    kConsole.Log("ShortestPath " + pair_text + ": " + response.status().ToString());
                }
                continue;
            }
            const auto& path = *response;
            if (!path.has_value()) {
                if (within) {
                    if (mismatches++ == 0) {
                        kConsole.Log(
                            "ShortestPath " + pair_text +
                            ": nullopt, but a path of <= " + std::to_string(kShortestMaxHops) +
                            " hops exists (Dijkstra: weight " + std::to_string(truth.weight) +
                            ", " + std::to_string(truth.hops) + " hops)");
                    }
                }
                continue;
            }
            ++reachable;
            hops.push_back(static_cast<double>(path->edges.size()));
            std::string why;
            if (!ValidPath(*path, from, to, &why)) {
                if (mismatches++ == 0) {
                    kConsole.Log("ShortestPath " + pair_text + ": invalid path: " + why);
                }
                continue;
            }
            if (path->edges.size() > kShortestMaxHops) {
                if (mismatches++ == 0) {
                    kConsole.Log("ShortestPath " + pair_text + ": " +
                                 std::to_string(path->edges.size()) + " hops > max_hops");
                }
                continue;
            }
            // The unbounded optimum is a lower bound; it is the answer when it fits the bound.
            const double tolerance = 1e-6 * std::max(1.0, truth.weight);
            const bool too_light = path->total_weight < truth.weight - tolerance;
            const bool too_heavy =
                truth.hops <= kShortestMaxHops && path->total_weight > truth.weight + tolerance;
            if (truth.hops <= kShortestMaxHops) {
                ++compared;
            }
            if (too_light || too_heavy) {
                if (mismatches++ == 0) {
                    kConsole.Log("ShortestPath " + pair_text + ": weight " +
                                 std::to_string(path->total_weight) + " (" +
                                 std::to_string(path->edges.size()) + " hops), Dijkstra " +
                                 std::to_string(truth.weight) + " (" + std::to_string(truth.hops) +
                                 " hops)");
                }
            }
        }
        if (mismatches > 0 || errors > 0) {
            Fault("ShortestPath: " + std::to_string(mismatches) + " mismatches, " +
                  std::to_string(errors) + " errors");
        }
        const double pairs = static_cast<double>(pairs_.size());
        Head("shortest_path")
            .Set("pairs", pairs_.size())
            .Set("direction", "out")
            .Set("max_hops", kShortestMaxHops)
            .Set("p50_us", Round(Percentile(latencies, 0.5), 1))
            .Set("p99_us", Round(Percentile(latencies, 0.99), 1))
            .Set("mean_us", Round(Mean(latencies), 1))
            .Set("reachable_fraction", Round(static_cast<double>(reachable) / pairs, 4))
            .Set("expected_reachable_fraction",
                 Round(static_cast<double>(reachable_within) / pairs, 4))
            .Set("mean_hops", Round(Mean(hops), 2))
            .Set("weights_compared_with_dijkstra", compared)
            .Set("mismatches", mismatches)
            .Set("errors", errors)
            .Set("csr_dijkstra_p50_us", Round(Percentile(csr_latencies, 0.5), 1))
            .Set("csr_dijkstra_mean_us", Round(Mean(csr_latencies), 1))
            .Emit();
        kConsole.Log("shortest paths: p50 " + Fixed(Percentile(latencies, 0.5), 1) +
                     " us, reachable " + std::to_string(reachable) + "/" +
                     std::to_string(pairs_.size()));
        UnweightedShortestPaths();
    }

    // Fewest hops (ShortestPathSpec::unweighted, a bidirectional search) against a CSR BFS
    // that stops at the target; the hop counts must agree.
    void UnweightedShortestPaths() {
        std::vector<double> latencies;
        std::vector<double> csr_latencies;
        std::vector<double> hops;
        std::size_t mismatches = 0;
        std::size_t errors = 0;
        CsrBfs bfs(n_);
        for (int pass = 0; pass < 2; ++pass) {  // the first pass warms the caches
            latencies.clear();
            csr_latencies.clear();
            hops.clear();
            for (const auto& [from, to] : pairs_) {
                const phenix::ShortestPathSpec spec{.from_id = std::to_string(from),
                                                    .to_id = std::to_string(to),
                                                    .direction = phenix::EdgeDirection::kOut,
                                                    .max_hops = kShortestMaxHops,
                                                    .unweighted = true};
                const auto start = Clock::now();
                auto response = db_->ShortestPath(kCollection, spec);
                latencies.push_back(Micros(start));
                const auto csr_start = Clock::now();
                const std::optional<std::uint32_t> truth =
                    bfs.Distance(out_, from, to, kShortestMaxHops);
                csr_latencies.push_back(Micros(csr_start));
                const std::string pair_text = std::to_string(from) + " -> " + std::to_string(to);
                if (!response.ok()) {
                    if (errors++ == 0) {
                        kConsole.Log("unweighted ShortestPath " + pair_text + ": " +
                                     response.status().ToString());
                    }
                    continue;
                }
                const bool found = response->has_value();
                const std::size_t got = found ? (*response)->edges.size() : 0;
                const std::size_t want = truth.value_or(0);
                std::string why;
                const bool valid = !found || ValidPath(**response, from, to, &why);
                if (found != truth.has_value() || got != want || !valid) {
                    if (mismatches++ == 0) {
                        kConsole.Log("unweighted ShortestPath " + pair_text + ": " +
                                     (found ? std::to_string(got) + " hops" : "none") + ", BFS " +
                                     (truth.has_value() ? std::to_string(want) + " hops" : "none") +
                                     " " + why);
                    }
                }
                if (found) {
                    hops.push_back(static_cast<double>(got));
                }
            }
        }
        if (mismatches > 0 || errors > 0) {
            Fault("unweighted ShortestPath: " + std::to_string(mismatches) + " mismatches, " +
                  std::to_string(errors) + " errors");
        }
        const double p50 = Percentile(latencies, 0.5);
        const double csr_p50 = Percentile(csr_latencies, 0.5);
        Head("shortest_path_unweighted")
            .Set("pairs", pairs_.size())
            .Set("direction", "out")
            .Set("max_hops", kShortestMaxHops)
            .Set("pass", "warm")
            .Set("p50_us", Round(p50, 1))
            .Set("p99_us", Round(Percentile(latencies, 0.99), 1))
            .Set("mean_us", Round(Mean(latencies), 1))
            .Set("mean_hops", Round(Mean(hops), 2))
            .Set("csr_bfs_p50_us", Round(csr_p50, 1))
            .Set("csr_bfs_mean_us", Round(Mean(csr_latencies), 1))
            .Set("ratio_p50", Round(p50 / std::max(csr_p50, 1e-3), 1))
            .Set("ratio_mean", Round(Mean(latencies) / std::max(Mean(csr_latencies), 1e-3), 1))
            .Set("mismatches", mismatches)
            .Set("errors", errors)
            .Emit();
        kConsole.Log("unweighted shortest paths: p50 " + Fixed(p50, 1) + " us, CSR BFS p50 " +
                     Fixed(csr_p50, 1) + " us, mean hops " + Fixed(Mean(hops), 2));
    }

    void Degrees() {
        std::vector<double> latencies;
        std::size_t mismatches = 0;
        Json hubs = Json::array();
        const phenix::EdgeMatch rel1{.labels = {"rel1"}};
        for (const std::uint32_t hub : hubs_) {
            const std::string id = std::to_string(hub);
            std::uint64_t rel1_expected = 0;
            for (const std::uint32_t row : out_.EdgeRows(hub)) {
                rel1_expected += (edges_.rel[row] == 1) ? 1U : 0U;
            }
            const struct {
                const char* name;
                phenix::EdgeDirection direction;
                const phenix::EdgeMatch* match;
                std::uint64_t expected;
            } cases[] = {
                {"out", phenix::EdgeDirection::kOut, nullptr, out_.Degree(hub)},
                {"in", phenix::EdgeDirection::kIn, nullptr, in_.Degree(hub)},
                {"both", phenix::EdgeDirection::kBoth, nullptr, out_.Degree(hub) + in_.Degree(hub)},
                {"out_rel1", phenix::EdgeDirection::kOut, &rel1, rel1_expected},
            };
            Json entry;
            entry["id"] = id;
            for (const auto& item : cases) {
                const auto start = Clock::now();
                auto degree = item.match == nullptr
                                  ? db_->Degree(kCollection, id, item.direction)
                                  : db_->Degree(kCollection, id, item.direction, *item.match);
                latencies.push_back(Micros(start));
                if (!degree.ok() || *degree != item.expected) {
                    if (mismatches++ == 0) {
                        kConsole.Log(
                            "Degree " + id + " " + item.name + ": " +
                            (degree.ok() ? std::to_string(*degree) : degree.status().ToString()) +
                            ", expected " + std::to_string(item.expected));
                    }
                }
                entry[item.name] = degree.ok() ? Json(*degree) : Json(nullptr);
            }
            hubs.push_back(entry);
        }
        if (mismatches > 0) {
            Fault("Degree: " + std::to_string(mismatches) + " mismatches");
        }
        Head("degree")
            .Set("hubs", hubs)
            .Set("calls", latencies.size())
            .Set("p50_us", Round(Percentile(latencies, 0.5), 1))
            .Set("p99_us", Round(Percentile(latencies, 0.99), 1))
            .Set("mismatches", mismatches)
            .Emit();
    }

    // ---- the deep expansion

    void DeepTraverse(std::string_view limits, std::uint64_t node_limit, std::size_t csr_reached) {
        const std::uint32_t hub = hubs_.front();
        const phenix::TraversalSpec spec{.start_id = std::to_string(hub),
                                         .min_hops = 1,
                                         .max_hops = kDeepHops,
                                         .direction = phenix::EdgeDirection::kBoth};
        peak_rss_ = std::max(peak_rss_, PeakRssBytes());
        const bool peak_reset = ResetPeakRss();
        const std::uint64_t rss_before = RssBytes();
        const auto start = Clock::now();
        auto response = db_->Traverse(kCollection, spec);
        const double seconds = Seconds(start);
        const std::uint64_t rss_after = RssBytes();
        const std::uint64_t peak = PeakRssBytes();
        const bool expect_exhausted = csr_reached > node_limit;
        Line line = Head("deep_traverse");
        line.Set("limits", limits)
            .Set("start", std::to_string(hub))
            .Set("hops", "1.." + std::to_string(kDeepHops))
            .Set("direction", "both")
            .Set("max_traversal_nodes", node_limit)
            .Set("csr_reached", csr_reached)
            .Set("expected", expect_exhausted ? "ResourceExhausted" : "ok")
            .Set("seconds", Round(seconds, 4))
            .Set("rss_before_bytes", rss_before)
            .Set("rss_after_bytes", rss_after)
            .Set("peak_rss_bytes", peak)
            .Set("peak_rss_delta_bytes",
                 peak_reset && peak > rss_before ? peak - rss_before : std::uint64_t{0})
            .Set("peak_rss_reset", peak_reset);
        if (response.ok()) {
            line.Set("status", "ok")
                .Set("reached", response->entities.size())
                .Set("edges_examined", response->edges_examined)
                .Set("truncated", response->truncated);
            if (expect_exhausted) {
                Fault("deep traverse (" + std::string(limits) + "): reached " +
                      std::to_string(response->entities.size()) +
                      " without ResourceExhausted, node limit " + std::to_string(node_limit));
            } else if (response->entities.size() != csr_reached) {
                Fault("deep traverse (" + std::string(limits) + "): reached " +
                      std::to_string(response->entities.size()) + ", CSR " +
                      std::to_string(csr_reached));
            }
        } else {
            const bool exhausted =
                response.status().code() == phenix::StatusCode::kResourceExhausted;
            line.Set("status", std::string(phenix::StatusCodeName(response.status().code())))
                .Set("message", response.status().message())
                .Set("failed_cleanly", exhausted);
            if (!exhausted || !expect_exhausted) {
                Fault("deep traverse (" + std::string(limits) +
                      "): " + response.status().ToString());
            }
        }
        line.Emit();
        kConsole.Log("deep traverse (" + std::string(limits) + "): " +
                     (response.ok() ? "reached " + std::to_string(response->entities.size())
                                    : response.status().ToString()) +
                     " in " + Fixed(seconds, 3) + " s");
    }

    void DeepExpansion() {
        if (hubs_.empty()) {
            return;
        }
        CsrBfs bfs(n_);
        Reached reached;
        bfs.Run(out_, &in_, hubs_.front(), kDeepHops, reached);
        const phenix::Options defaults;
        DeepTraverse("default", defaults.max_traversal_nodes, reached.size());
        phenix::Options tight;
        tight.max_traversal_nodes = std::max<std::uint64_t>(100, n_ / 20);
        Reopen("tight_traversal_limit", tight);
        DeepTraverse("max_traversal_nodes=n/20", tight.max_traversal_nodes, reached.size());
    }

    Args args_;
    Clock::time_point start_ = Clock::now();
    std::string set_name_;
    std::size_t n_ = 0;
    kit::Matrix<float> base_;
    kit::Matrix<float> queries_;
    std::vector<std::string> meta_;
    kit::EdgeList edges_;
    kit::Csr out_;
    kit::Csr in_;
    std::vector<FilterCase> filters_;
    std::vector<HybridCase> hybrid_;
    std::map<std::string, std::size_t> bitmap_of_;
    std::vector<Json> bitmap_where_;
    std::vector<std::vector<std::uint8_t>> bitmaps_;
    std::vector<std::uint32_t> hubs_;
    std::vector<std::uint32_t> seeds_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
    std::unique_ptr<phenix::Database> db_;
    std::size_t failures_ = 0;
    std::size_t count_mismatches_ = 0;
    std::uint64_t peak_rss_ = 0;  // VmHWM before the deep traversals reset it
};

}  // namespace

int main(int argc, char** argv) {
    try {
        Bench bench(ParseArgs(argc, argv));
        return bench.Run();
    } catch (const kit::KitError& error) {
        kConsole.Fail(kExitBadInput, error.what());
    } catch (const nlohmann::json::exception& error) {
        kConsole.Fail(kExitBadInput, std::string("malformed JSON in the kit: ") + error.what());
    }
}
