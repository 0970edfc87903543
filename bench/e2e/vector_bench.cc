// SPDX-License-Identifier: Apache-2.0
//
// Vector search end to end on the benchmark data kit (../shared/bench/README.md): builds an
// index::HnswIndex over base.fvecs, then sweeps ef and reports recall@k against the exact ground
// truth with single-thread QPS and p50/p99 latency (one query at a time), build time and memory.
// Optional: an int8-quantized index (--int8), filtered search over the kit's filters.json with
// every strategy (--filtered), and a Save/Load round trip (--save). Prints one JSON object per
// line on stdout in the shape bench/ann_baselines.py uses ("lib":"phenix"), which
// bench/compare_vectors.py pairs with hnswlib and faiss; progress goes to stderr.
//
//   phenix_vector_bench --data=DIR/medium [--metric=l2|cos] [--m=16] [--ef-construction=200]
//                       [--threads=N] [--efs=10,16,24,32,48,64,96,128,256] [--k=10]
//                       [--queries=N] [--runs=1] [--int8] [--filtered] [--save=PATH]
//                       [--load=PATH] [--filtered-only]
// --load skips the build and searches an index saved earlier with --save (same data set and
// parameters: for repeated experiments); --filtered-only skips the unfiltered sweep.
//
// Exit status: 0 fine; 1 a check failed (a filter's match count differs from filters.json, a
// filtered search returned too few or non-matching rows, Save/Load changed results, or an index
// call failed); 2 bad arguments or a missing/malformed data file.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <roaring/roaring.hh>

#include <phenix/status.h>
#include <phenix/types.h>

#include "bench_args.h"
#include "bench_output.h"
#include "index/distance/distance.h"
#include "index/hnsw/hnsw_index.h"
#include "kit_files.h"
#include "process_stats.h"

namespace {

using phenix::bench_process::CpuModel;
using phenix::bench_process::DirectoryBytes;
using phenix::bench_process::PeakRssBytes;
using phenix::bench_process::RssBytes;
using phenix::bench_process::UtcNow;

using phenix::bench_output::Clock;
using phenix::bench_output::Fixed;
using phenix::bench_output::kExitBadInput;
using phenix::bench_output::kExitCheckFailed;
using phenix::bench_output::Percentile;
using phenix::bench_output::Round;
using phenix::bench_output::Seconds;

namespace fs = std::filesystem;
namespace idx = phenix::index;
using Json = nlohmann::ordered_json;

constexpr phenix::bench_output::Console kConsole("vector_bench");
constexpr std::size_t kQuantizerSampleSize = 20000;
constexpr std::size_t kExactCheckQueries = 20;
constexpr std::size_t kSaveCheckQueries = 20;
constexpr std::size_t kWarmupQueries = 50;
constexpr std::size_t kProgressSteps = 20;  // a line every 5%
constexpr idx::Timestamp kBuildTs = 1;
constexpr std::int32_t kMaxDimension = 65536;

struct Args {
    std::string data;
    std::string metric = "l2";
    std::uint32_t m = 16;
    std::uint32_t ef_construction = 200;
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::size_t> efs = {10, 16, 24, 32, 48, 64, 96, 128, 256};
    std::size_t k = 10;
    std::size_t queries = 0;  // 0: all
    std::size_t runs = 1;     // unfiltered sweep: best of N runs
    bool int8 = false;
    bool filtered = false;
    std::string save;
    std::string load;
    bool filtered_only = false;
};

void Emit(const Json& line) {
    phenix::bench_output::JsonLine<Json>::EmitJson(line);
}

// `line` followed by the fields of `more`, in their order.
Json With(Json line, const Json& more) {
    line.update(more);
    return line;
}

// ---------------------------------------------------------------------------------------------
// Arguments

Args ParseArgs(int argc, char** argv) {
    Args args;
    phenix::bench_args::ArgReader reader(
        kConsole, argc, argv, phenix::bench_args::ValueForm::kEqualsOnly,
        {"int8", "filtered", "filtered-only"},
        "usage: phenix_vector_bench --data=DIR/SET [--metric=l2|cos] [--m=16]\n"
        "  [--ef-construction=200] [--threads=N] [--efs=10,16,...] [--k=10]\n"
        "  [--queries=N] [--runs=1] [--int8] [--filtered] [--save=PATH]\n");
    while (reader.Next()) {
        const std::string_view key = reader.key();
        if (reader.IsFlag("int8")) {
            args.int8 = true;
        } else if (reader.IsFlag("filtered")) {
            args.filtered = true;
        } else if (key == "data") {
            args.data = reader.value();
        } else if (key == "metric") {
            args.metric = reader.value();
        } else if (key == "m") {
            args.m = reader.Number<std::uint32_t>();
        } else if (key == "ef-construction") {
            args.ef_construction = reader.Number<std::uint32_t>();
        } else if (key == "threads") {
            args.threads = reader.Number<unsigned>();
        } else if (key == "efs") {
            args.efs = reader.NumberList();
        } else if (key == "k") {
            args.k = reader.Number<std::size_t>();
        } else if (key == "queries") {
            args.queries = reader.Number<std::size_t>();
        } else if (key == "runs") {
            args.runs = reader.Number<std::size_t>();
        } else if (key == "save") {
            args.save = reader.value();
        } else if (key == "load") {
            args.load = reader.value();
        } else if (reader.IsFlag("filtered-only")) {
            args.filtered_only = true;
            args.filtered = true;
        } else {
            reader.Unknown();
        }
    }
    if (args.data.empty()) {
        kConsole.Fail(kExitBadInput,
                      "--data=DIR/SET is required (a data kit set, e.g. /tmp/phenix-data/"
                      "data/medium)");
    }
    phenix::bench_args::RequireMetric(kConsole, args.metric);
    if (args.threads == 0 || args.k == 0 || args.runs == 0) {
        kConsole.Fail(kExitBadInput, "--threads, --k and --runs must be >= 1");
    }
    args.data = phenix::bench_args::WithoutTrailingSlash(std::move(args.data));
    return args;
}

// ---------------------------------------------------------------------------------------------
// Data files

using phenix::bench_kit::Matrix;

// The kit's reader, with a malformed file reported like every other bad input.
template <typename T>
Matrix<T> ReadVecs(const std::string& path) {
    try {
        return phenix::bench_kit::ReadVecs<T>(path);
    } catch (const phenix::bench_kit::KitError& e) {
        kConsole.Fail(kExitBadInput, e.what());
    }
}

Json ReadJsonFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        kConsole.Fail(kExitBadInput, "cannot open " + path);
    }
    Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        kConsole.Fail(kExitBadInput, path + ": malformed JSON");
    }
    return doc;
}

// ---------------------------------------------------------------------------------------------
// Filters: the Mongo-like `where` of filters.json over the top-level fields of meta.jsonl.

struct Predicate {
    enum class Kind : std::uint8_t { kAnd, kOr, kCompare };
    enum class Op : std::uint8_t { kEq, kNe, kLt, kLte, kGt, kGte, kIn, kNin };
    Kind kind = Kind::kAnd;
    std::vector<Predicate> children;  // kAnd, kOr
    std::string field;                // kCompare
    Op op = Op::kEq;
    std::vector<Json> operands;  // one, or the list of $in / $nin
};

// Comparison of two JSON scalars: numbers with numbers (as double), strings with strings, bools
// with bools; nullopt for anything else (a type mismatch never matches, except under $ne/$nin).
std::optional<int> CompareScalars(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) {
        const double x = a.get<double>();
        const double y = b.get<double>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_boolean() && b.is_boolean()) {
        return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    }
    if (a.is_null() && b.is_null()) {
        return 0;
    }
    return std::nullopt;
}

std::optional<Predicate::Op> ParseOp(std::string_view name) {
    using Op = Predicate::Op;
    static const std::map<std::string_view, Op> kOps = {
        {"$eq", Op::kEq}, {"$ne", Op::kNe},   {"$lt", Op::kLt}, {"$lte", Op::kLte},
        {"$gt", Op::kGt}, {"$gte", Op::kGte}, {"$in", Op::kIn}, {"$nin", Op::kNin}};
    const auto it = kOps.find(name);
    return it == kOps.end() ? std::nullopt : std::optional<Op>(it->second);
}

// Compiles `where`; on an unsupported construct, fails with exit status 2 naming `filter`.
Predicate CompileWhere(const Json& where, const std::string& filter) {
    auto bad = [&](const std::string& why) {
        kConsole.Fail(kExitBadInput, "filters.json: filter '" + filter + "': " + why);
    };
    if (!where.is_object()) {
        bad("a where clause must be an object");
    }
    Predicate all{.kind = Predicate::Kind::kAnd};
    for (const auto& [key, value] : where.items()) {
        if (key == "$and" || key == "$or") {
            if (!value.is_array() || value.empty()) {
                bad(key + " needs a non-empty array");
            }
            Predicate group{.kind = key == "$and" ? Predicate::Kind::kAnd : Predicate::Kind::kOr};
            for (const auto& child : value) {
                group.children.push_back(CompileWhere(child, filter));
            }
            all.children.push_back(std::move(group));
            continue;
        }
        if (key.starts_with("$")) {
            bad("unsupported operator " + key);
        }
        const bool is_operator_object =
            value.is_object() && !value.empty() && value.begin().key().starts_with("$");
        if (!is_operator_object) {  // {"field": scalar} means $eq
            all.children.push_back(
                Predicate{.kind = Predicate::Kind::kCompare, .field = key, .operands = {value}});
            continue;
        }
        for (const auto& [op_name, operand] : value.items()) {
            const auto op = ParseOp(op_name);
            if (!op) {
                bad("unsupported operator " + op_name + " on field " + key);
            }
            Predicate compare{.kind = Predicate::Kind::kCompare, .field = key, .op = *op};
            if (*op == Predicate::Op::kIn || *op == Predicate::Op::kNin) {
                if (!operand.is_array()) {
                    bad(op_name + " needs an array");
                }
                compare.operands.assign(operand.begin(), operand.end());
            } else {
                if (operand.is_object() || operand.is_array()) {
                    bad(op_name + " needs a scalar");
                }
                compare.operands.push_back(operand);
            }
            all.children.push_back(std::move(compare));
        }
    }
    return all;
}

bool Evaluate(const Predicate& predicate, const Json& doc) {
    using Op = Predicate::Op;
    switch (predicate.kind) {
        case Predicate::Kind::kAnd:
            return std::all_of(predicate.children.begin(), predicate.children.end(),
                               [&](const Predicate& child) { return Evaluate(child, doc); });
        case Predicate::Kind::kOr:
            return std::any_of(predicate.children.begin(), predicate.children.end(),
                               [&](const Predicate& child) { return Evaluate(child, doc); });
        case Predicate::Kind::kCompare:
            break;
    }
    const auto it = doc.find(predicate.field);
    const bool present = it != doc.end();
    auto equals = [&](const Json& operand) {
        if (!present) {
            return operand.is_null();
        }
        const auto c = CompareScalars(*it, operand);
        return c.has_value() && *c == 0;
    };
    auto ordered = [&](auto accept) {
        if (!present) {
            return false;
        }
        const auto c = CompareScalars(*it, predicate.operands.front());
        return c.has_value() && accept(*c);
    };
    switch (predicate.op) {
        case Op::kEq:
            return equals(predicate.operands.front());
        case Op::kNe:
            return !equals(predicate.operands.front());
        case Op::kLt:
            return ordered([](int c) { return c < 0; });
        case Op::kLte:
            return ordered([](int c) { return c <= 0; });
        case Op::kGt:
            return ordered([](int c) { return c > 0; });
        case Op::kGte:
            return ordered([](int c) { return c >= 0; });
        case Op::kIn:
            return std::any_of(predicate.operands.begin(), predicate.operands.end(), equals);
        case Op::kNin:
            return std::none_of(predicate.operands.begin(), predicate.operands.end(), equals);
    }
    return false;
}

struct Filter {
    std::string name;
    Predicate predicate;
    std::uint64_t expected_matches = 0;  // filters.json n_match
    idx::RowBitmap rows;
};

struct FilterSet {
    std::vector<Filter> filters;
    std::size_t num_queries = 0;  // queries per filter in filtered_gt_*.ivecs
};

FilterSet LoadFilters(const std::string& dir, std::size_t num_rows) {
    const std::string filters_path = dir + "/filters.json";
    const Json doc = ReadJsonFile(filters_path);
    FilterSet set;
    if (!doc.contains("filters") || !doc["filters"].is_array()) {
        kConsole.Fail(kExitBadInput, filters_path + ": no \"filters\" array");
    }
    set.num_queries = 100;
    if (doc.contains("n_queries") && doc["n_queries"].is_number_unsigned()) {
        set.num_queries = doc["n_queries"].get<std::size_t>();
    }
    for (const auto& entry : doc["filters"]) {
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
            !entry.contains("where") || !entry.contains("n_match") ||
            !entry["n_match"].is_number_unsigned()) {
            kConsole.Fail(kExitBadInput,
                          filters_path + ": each filter needs name, where and n_match");
        }
        Filter filter;
        filter.name = entry["name"].get<std::string>();
        filter.predicate = CompileWhere(entry["where"], filter.name);
        filter.expected_matches = entry["n_match"].get<std::uint64_t>();
        set.filters.push_back(std::move(filter));
    }

    const std::string meta_path = dir + "/meta.jsonl";
    std::ifstream in(meta_path);
    if (!in) {
        kConsole.Fail(kExitBadInput, "cannot open " + meta_path);
    }
    std::string line;
    std::size_t row = 0;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        const Json meta = Json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (meta.is_discarded() || !meta.is_object()) {
            kConsole.Fail(kExitBadInput, meta_path + ": line " + std::to_string(row + 1) +
                                             " is not a JSON object");
        }
        if (row >= num_rows) {
            kConsole.Fail(kExitBadInput, meta_path + " has more lines than base.fvecs has rows");
        }
        for (auto& filter : set.filters) {
            if (Evaluate(filter.predicate, meta)) {
                filter.rows.add(static_cast<std::uint32_t>(row));
            }
        }
        ++row;
    }
    if (row != num_rows) {
        kConsole.Fail(kExitBadInput, meta_path + " has " + std::to_string(row) +
                                         " lines, base.fvecs " + std::to_string(num_rows) +
                                         " rows");
    }
    for (auto& filter : set.filters) {
        filter.rows.runOptimize();
    }
    return set;
}

// ---------------------------------------------------------------------------------------------
// Process statistics

// ---------------------------------------------------------------------------------------------
// Query runs

std::string_view StrategyName(idx::FilterStrategy strategy) {
    switch (strategy) {
        case idx::FilterStrategy::kAuto:
            return "auto";
        case idx::FilterStrategy::kNone:
            return "none";
        case idx::FilterStrategy::kExactScan:
            return "exact_scan";
        case idx::FilterStrategy::kInGraph:
            return "in_graph";
        case idx::FilterStrategy::kPostFilter:
            return "post_filter";
    }
    return "unknown";
}

// What one pass over a list of queries measured.
struct RunStats {
    std::size_t queries = 0;
    double seconds = 0;  // sum of the per-query times
    std::vector<double> latencies_us;
    double recall_sum = 0;
    std::size_t recall_queries = 0;  // queries with a non-empty ground truth
    std::size_t short_results = 0;   // fewer than min(k, matches) results
    std::size_t wrong_rows = 0;      // results outside the filter, or repeated rows
    std::size_t fell_back = 0;
    std::size_t distance_computations = 0;
    std::size_t nodes_expanded = 0;
    std::map<std::string, std::size_t> chosen;        // SearchStats.strategy -> queries
    std::vector<std::vector<idx::Neighbor>> results;  // kept when asked

    [[nodiscard]] double Recall() const {
        return recall_queries == 0 ? 0.0 : recall_sum / static_cast<double>(recall_queries);
    }
    [[nodiscard]] double Qps() const {
        return seconds > 0 ? static_cast<double>(queries) / seconds : 0.0;
    }
    [[nodiscard]] double PercentileUs(double fraction) const {
        return Percentile(latencies_us, fraction);
    }
    [[nodiscard]] std::string MostChosen() const {
        std::string best;
        std::size_t best_count = 0;
        for (const auto& [name, count] : chosen) {
            if (count > best_count) {
                best = name;
                best_count = count;
            }
        }
        return best;
    }
};

struct QuerySet {
    const Matrix<float>* queries = nullptr;
    std::size_t count = 0;
    const Matrix<std::int32_t>* gt = nullptr;
    std::size_t gt_first_row = 0;  // row of query 0 in gt
    std::size_t gt_columns = 0;    // how many gt columns count (k, or the filtered gt's width)
};

// Runs queries 0..count-1 one at a time on this thread. Recall per query is
// |returned[:c] ∩ gt[:c]| / |valid gt[:c]| with c = gt_columns and valid = ids >= 0.
RunStats RunQueries(const idx::HnswIndex& index, const QuerySet& set,
                    const idx::SearchOptions& options, std::uint64_t num_allowed,
                    bool keep_results) {
    RunStats stats;
    stats.queries = set.count;
    stats.latencies_us.reserve(set.count);
    const std::size_t expected = std::min<std::uint64_t>(options.k, num_allowed);
    std::unordered_set<std::int32_t> truth;
    std::unordered_set<idx::RowId> seen;
    for (std::size_t q_idx = 0; q_idx < set.count; ++q_idx) {
        const auto query = set.queries->Row(q_idx);
        const auto start = Clock::now();
        auto result = index.Search(query, options);
        const double elapsed = Seconds(start);
        if (!result.ok()) {
            kConsole.Fail(kExitCheckFailed, "Search failed on query " + std::to_string(q_idx) +
                                                ": " + result.status().ToString());
        }
        stats.seconds += elapsed;
        stats.latencies_us.push_back(elapsed * 1e6);
        const auto& neighbors = result->neighbors;
        const auto& search_stats = result->stats;
        ++stats.chosen[std::string(StrategyName(search_stats.strategy))];
        stats.fell_back += search_stats.fell_back_to_exact ? 1 : 0;
        stats.distance_computations += search_stats.distance_computations;
        stats.nodes_expanded += search_stats.nodes_expanded;
        if (neighbors.size() < expected) {
            ++stats.short_results;
        }
        seen.clear();
        for (const auto& neighbor : neighbors) {
            const bool outside =
                options.filter != nullptr &&
                (neighbor.row > idx::kMaxRow ||
                 !options.filter->contains(static_cast<std::uint32_t>(neighbor.row)));
            if (outside || !seen.insert(neighbor.row).second) {
                ++stats.wrong_rows;
            }
        }
        truth.clear();
        const auto gt_row = set.gt->Row(set.gt_first_row + q_idx);
        for (std::size_t col = 0; col < set.gt_columns; ++col) {
            if (gt_row[col] >= 0) {
                truth.insert(gt_row[col]);
            }
        }
        if (!truth.empty()) {
            std::size_t hits = 0;
            const std::size_t limit = std::min(neighbors.size(), set.gt_columns);
            for (std::size_t pos = 0; pos < limit; ++pos) {
                if (truth.contains(static_cast<std::int32_t>(neighbors[pos].row))) {
                    ++hits;
                }
            }
            stats.recall_sum += static_cast<double>(hits) / static_cast<double>(truth.size());
            ++stats.recall_queries;
        }
        if (keep_results) {
            stats.results.push_back(neighbors);
        }
    }
    return stats;
}

Json TimingFields(const RunStats& stats) {
    return Json{
        {"queries", stats.queries},
        {"recall", Round(stats.Recall(), 4)},
        {"qps", Round(stats.Qps(), 1)},
        {"p50_us", Round(stats.PercentileUs(0.50), 1)},
        {"p99_us", Round(stats.PercentileUs(0.99), 1)},
        {"mean_us", Round(stats.seconds * 1e6 / static_cast<double>(stats.queries), 1)},
        {"dist_comps", Round(static_cast<double>(stats.distance_computations) /
                                 static_cast<double>(stats.queries),
                             1)},
        {"nodes_expanded",
         Round(static_cast<double>(stats.nodes_expanded) / static_cast<double>(stats.queries), 1)}};
}

// ---------------------------------------------------------------------------------------------

class Bench {
  public:
    explicit Bench(Args args) : args_(std::move(args)) {}

    int Run() {
        LoadData();
        Emit(With(Head("context"), Json{{"cpu", CpuModel()},
                                        {"date", UtcNow()},
                                        {"simd", idx::SimdLevelName(idx::Kernels().level)},
                                        {"compiler", __VERSION__},
#ifdef NDEBUG
                                        {"ndebug", true},
#else
                                        {"ndebug", false},
#endif
                                        {"threads", args_.threads},
                                        {"m", args_.m},
                                        {"ef_construction", args_.ef_construction}}));
        if (args_.filtered) {
            LoadFilterData();
        }
        if (args_.load.empty()) {
            Build();
        } else {
            idx::Timestamp watermark = 0;
            auto loaded = idx::HnswIndex::Load(args_.load, &watermark);
            if (!loaded.ok()) {
                kConsole.Fail(kExitBadInput,
                              "Load(" + args_.load + "): " + loaded.status().ToString());
            }
            index_ = std::move(loaded).value();
            if (args_.int8) {
                index_->SetVectorSource(MakeVectorSource());
            }
        }
        if (!args_.save.empty()) {
            SaveAndLoad();
        }
        if (!args_.filtered_only) {
            ExactCheck();
            Sweep();
        }
        if (args_.filtered) {
            Filtered();
        }
        if (failures_ > 0) {
            kConsole.Log(std::to_string(failures_) + " check(s) failed");
            return kExitCheckFailed;
        }
        return 0;
    }

  private:
    Json Head(std::string_view phase) const {
        return Json{{"lib", "phenix"},
                    {"set", fs::path(args_.data).filename().string()},
                    {"metric", args_.metric},
                    {"phase", phase},
                    {"int8", args_.int8}};
    }

    void LoadData() {
        const auto start = Clock::now();
        base_ = ReadVecs<float>(args_.data + "/base.fvecs");
        queries_ = ReadVecs<float>(args_.data + "/query.fvecs");
        gt_ = ReadVecs<std::int32_t>(args_.data + "/gt_" + args_.metric + ".ivecs");
        if (queries_.dim != base_.dim) {
            kConsole.Fail(kExitBadInput, "query.fvecs has dimension " +
                                             std::to_string(queries_.dim) + ", base.fvecs " +
                                             std::to_string(base_.dim));
        }
        if (base_.rows == 0 || base_.rows > idx::kMaxRow) {
            kConsole.Fail(kExitBadInput, "base.fvecs: unsupported number of rows");
        }
        if (gt_.dim < args_.k) {
            kConsole.Fail(kExitBadInput, "gt_" + args_.metric + ".ivecs has " +
                                             std::to_string(gt_.dim) + " columns, fewer than --k");
        }
        num_queries_ = std::min(queries_.rows, gt_.rows);
        if (args_.queries != 0) {
            num_queries_ = std::min(num_queries_, args_.queries);
        }
        if (num_queries_ == 0) {
            kConsole.Fail(kExitBadInput, "no queries");
        }
        kConsole.Log("loaded " + std::to_string(base_.rows) + " x " + std::to_string(base_.dim) +
                     " base vectors, " + std::to_string(num_queries_) + " queries in " +
                     Fixed(Seconds(start), 2) + " s");
    }

    void Build() {
        const idx::HnswParams params{
            .dimension = static_cast<std::uint32_t>(base_.dim),
            .metric = args_.metric == "cos" ? phenix::Metric::kCosine : phenix::Metric::kL2,
            .m = args_.m,
            .ef_construction = args_.ef_construction,
            .quantize_int8 = args_.int8};
        auto created = idx::HnswIndex::Create(params);
        if (!created.ok()) {
            kConsole.Fail(kExitBadInput, "HnswIndex::Create: " + created.status().ToString());
        }
        index_ = std::move(created).value();

        double train_seconds = 0;
        if (args_.int8) {
            train_seconds = TrainQuantizer(*index_);
            index_->SetVectorSource(MakeVectorSource());
        }

        std::vector<idx::RowId> rows(base_.rows);
        for (std::size_t row = 0; row < rows.size(); ++row) {
            rows[row] = row;
        }
        std::atomic<std::size_t> last_step{0};
        const auto build_start = Clock::now();
        auto progress = [&](std::size_t done, std::size_t total) {
            if (total == 0) {
                return;
            }
            const std::size_t step = done * kProgressSteps / total;
            std::size_t last = last_step.load();
            while (step > last) {
                if (last_step.compare_exchange_weak(last, step)) {
                    std::fprintf(stderr, "vector_bench: build %3zu%% (%zu/%zu) %.1f s\n",
                                 done * 100 / total, done, total, Seconds(build_start));
                    break;
                }
            }
        };
        const auto rss_before = static_cast<std::int64_t>(RssBytes());
        const auto start = Clock::now();
        const phenix::Status status =
            index_->InsertBulk(rows, base_.values, kBuildTs, args_.threads, progress);
        const double seconds = Seconds(start);
        const auto rss_after = static_cast<std::int64_t>(RssBytes());
        if (!status.ok()) {
            kConsole.Fail(kExitCheckFailed, "InsertBulk: " + status.ToString());
        }
        if (index_->num_nodes() != base_.rows || index_->num_live() != base_.rows) {
            kConsole.Log("index has " + std::to_string(index_->num_nodes()) + " nodes (" +
                         std::to_string(index_->num_live()) + " live) after inserting " +
                         std::to_string(base_.rows) + " rows");
            ++failures_;
        }
        const idx::MemoryUsage memory = index_->Memory();
        Emit(With(
            Head("build"),
            Json{{"seconds", Round(seconds, 3)},
                 {"vectors_per_second", Round(static_cast<double>(base_.rows) / seconds, 1)},
                 {"threads", args_.threads},
                 {"n", base_.rows},
                 {"dim", base_.dim},
                 {"m", args_.m},
                 {"ef_construction", args_.ef_construction},
                 {"rss_bytes", rss_after - rss_before},
                 {"peak_rss_bytes", PeakRssBytes()},
                 {"index_bytes", memory.total()},
                 {"vectors_bytes", memory.vectors_bytes},
                 {"graph_bytes", memory.graph_bytes},
                 {"metadata_bytes", memory.metadata_bytes},
                 {"bytes_per_vector",
                  Round(static_cast<double>(memory.total()) / static_cast<double>(base_.rows), 1)},
                 {"nodes", memory.nodes},
                 {"train_seconds", Round(train_seconds, 3)}}));
    }

    // Trains the int8 quantizer on evenly spaced base vectors (the index normalises them itself
    // under cosine). Returns the seconds it took.
    double TrainQuantizer(idx::HnswIndex& index) const {
        const std::size_t sample_rows = std::min(kQuantizerSampleSize, base_.rows);
        std::vector<float> sample;
        sample.reserve(sample_rows * base_.dim);
        for (std::size_t pick = 0; pick < sample_rows; ++pick) {
            const auto row = base_.Row(pick * base_.rows / sample_rows);
            sample.insert(sample.end(), row.begin(), row.end());
        }
        const auto start = Clock::now();
        const phenix::Status status = index.TrainQuantizer(sample);
        if (!status.ok()) {
            kConsole.Fail(kExitCheckFailed, "TrainQuantizer: " + status.ToString());
        }
        return Seconds(start);
    }

    // Full-precision vectors for re-ranking, straight from the in-memory base as given (the
    // index normalises them under cosine, as it would the engine's stored vectors).
    idx::VectorSource MakeVectorSource() const {
        return [this](idx::RowId row, idx::Timestamp /*snapshot*/, float* out) {
            if (row >= base_.rows) {
                return false;
            }
            const auto vector = base_.Row(row);
            std::copy(vector.begin(), vector.end(), out);
            return true;
        };
    }

    QuerySet Unfiltered(std::size_t count) const {
        return QuerySet{.queries = &queries_,
                        .count = count,
                        .gt = &gt_,
                        .gt_first_row = 0,
                        .gt_columns = args_.k};
    }

    void SaveAndLoad() {
        const std::size_t check_queries = std::min(kSaveCheckQueries, num_queries_);
        const idx::SearchOptions options{.k = args_.k, .ef = args_.efs.back()};
        const RunStats before =
            RunQueries(*index_, Unfiltered(check_queries), options, base_.rows, true);

        auto start = Clock::now();
        const phenix::Status saved = index_->Save(args_.save, kBuildTs, /*floor=*/0);
        const double save_seconds = Seconds(start);
        if (!saved.ok()) {
            kConsole.Fail(kExitCheckFailed, "Save(" + args_.save + "): " + saved.ToString());
        }
        std::error_code ec;
        const auto file_bytes = fs::file_size(args_.save, ec);

        idx::Timestamp watermark = 0;
        start = Clock::now();
        auto loaded = idx::HnswIndex::Load(args_.save, &watermark);
        const double load_seconds = Seconds(start);
        if (!loaded.ok()) {
            kConsole.Fail(kExitCheckFailed,
                          "Load(" + args_.save + "): " + loaded.status().ToString());
        }
        std::unique_ptr<idx::HnswIndex> copy = std::move(loaded).value();
        if (args_.int8) {
            copy->SetVectorSource(MakeVectorSource());
        }
        const RunStats after =
            RunQueries(*copy, Unfiltered(check_queries), options, base_.rows, true);
        std::size_t differing = 0;
        for (std::size_t q_idx = 0; q_idx < check_queries; ++q_idx) {
            if (before.results[q_idx] != after.results[q_idx]) {
                ++differing;
            }
        }
        const bool same_shape =
            copy->num_nodes() == index_->num_nodes() && copy->num_live() == index_->num_live();
        const bool ok = differing == 0 && same_shape && watermark == kBuildTs;
        if (!ok) {
            ++failures_;
        }
        Emit(With(Head("save"), Json{{"save_seconds", Round(save_seconds, 3)},
                                     {"load_seconds", Round(load_seconds, 3)},
                                     {"file_bytes", ec ? 0 : file_bytes},
                                     {"watermark", watermark},
                                     {"nodes", copy->num_nodes()},
                                     {"loaded_index_bytes", copy->Memory().total()},
                                     {"checked_queries", check_queries},
                                     {"ef", options.ef},
                                     {"differing_queries", differing},
                                     {"identical", ok}}));
    }

    // Brute force through the index (filter = every row, forced exact scan): recall must be 1.0
    // up to ties; the distances it reports are checked against the distance kernel.
    void ExactCheck() {
        idx::RowBitmap all_rows;
        all_rows.addRange(0, base_.rows);
        const std::size_t count = std::min(kExactCheckQueries, num_queries_);
        const idx::SearchOptions options{.k = args_.k,
                                         .ef = args_.k,
                                         .filter = &all_rows,
                                         .strategy = idx::FilterStrategy::kExactScan};
        const RunStats stats = RunQueries(*index_, Unfiltered(count), options, base_.rows, true);
        const auto& kernels = idx::Kernels();
        const auto kernel = args_.metric == "cos" ? kernels.cosine_distance : kernels.l2_squared;
        double max_error = 0;
        for (std::size_t q_idx = 0; q_idx < count; ++q_idx) {
            for (const auto& neighbor : stats.results[q_idx]) {
                const float expected =
                    kernel(queries_.Row(q_idx).data(), base_.Row(neighbor.row).data(), base_.dim);
                max_error = std::max(max_error,
                                     std::abs(static_cast<double>(expected - neighbor.distance)) /
                                         std::max(1e-6, std::abs(static_cast<double>(expected))));
            }
        }
        if (stats.short_results > 0 || stats.wrong_rows > 0) {
            ++failures_;
        }
        Emit(With(With(Head("exact"), Json{{"method", "exact_scan"}, {"k", args_.k}}),
                  With(TimingFields(stats), Json{{"max_rel_distance_error", max_error},
                                                 {"chosen", stats.MostChosen()},
                                                 {"short_results", stats.short_results},
                                                 {"wrong_rows", stats.wrong_rows}})));
    }

    // The fastest of --runs passes (its latencies too), as the baselines report.
    RunStats BestOf(const QuerySet& set, const idx::SearchOptions& options,
                    std::uint64_t num_allowed) const {
        RunStats best = RunQueries(*index_, set, options, num_allowed, false);
        for (std::size_t run = 1; run < args_.runs; ++run) {
            RunStats stats = RunQueries(*index_, set, options, num_allowed, false);
            if (stats.seconds < best.seconds) {
                best = std::move(stats);
            }
        }
        return best;
    }

    void Sweep() {
        // Warm-up, as the baselines do: page in the graph and fill the caches.
        (void)RunQueries(*index_, Unfiltered(std::min(kWarmupQueries, num_queries_)),
                         idx::SearchOptions{.k = args_.k, .ef = args_.efs.front()}, base_.rows,
                         false);
        for (const std::size_t ef : args_.efs) {
            const idx::SearchOptions options{.k = args_.k, .ef = ef};
            const RunStats stats = BestOf(Unfiltered(num_queries_), options, base_.rows);
            if (stats.short_results > 0 || stats.wrong_rows > 0) {
                ++failures_;
            }
            Emit(With(With(Head("search"), Json{{"ef", ef}, {"k", args_.k}, {"runs", args_.runs}}),
                      With(TimingFields(stats), Json{{"short_results", stats.short_results},
                                                     {"wrong_rows", stats.wrong_rows}})));
            kConsole.Log("ef=" + std::to_string(ef) + " recall=" + Fixed(stats.Recall(), 4) +
                         " qps=" + Fixed(stats.Qps(), 0));
        }
    }

    // Evaluates every filter of filters.json over meta.jsonl (before the build, so that a bad
    // filter file fails fast) and checks the match counts.
    void LoadFilterData() {
        const auto start = Clock::now();
        filter_set_ = LoadFilters(args_.data, base_.rows);
        filtered_gt_ =
            ReadVecs<std::int32_t>(args_.data + "/filtered_gt_" + args_.metric + ".ivecs");
        kConsole.Log("filters evaluated in " + Fixed(Seconds(start), 2) + " s");
        if (filtered_gt_.rows != filter_set_.filters.size() * filter_set_.num_queries) {
            kConsole.Fail(kExitBadInput,
                          "filtered_gt_" + args_.metric + ".ivecs has " +
                              std::to_string(filtered_gt_.rows) + " rows, expected " +
                              std::to_string(filter_set_.filters.size()) + " filters x " +
                              std::to_string(filter_set_.num_queries) + " queries");
        }
        bool counts_match = true;
        for (const auto& filter : filter_set_.filters) {
            const std::uint64_t matches = filter.rows.cardinality();
            const bool ok = matches == filter.expected_matches;
            counts_match = counts_match && ok;
            Emit(With(Head("filter"), Json{{"filter", filter.name},
                                           {"n_match", matches},
                                           {"expected_n_match", filter.expected_matches},
                                           {"ok", ok}}));
        }
        if (!counts_match) {
            kConsole.Fail(kExitCheckFailed, "filter match counts differ from filters.json");
        }
    }

    void Filtered() {
        const FilterSet& set = filter_set_;
        const Matrix<std::int32_t>& filtered_gt = filtered_gt_;
        const std::size_t count = std::min(set.num_queries, num_queries_);
        constexpr idx::FilterStrategy kMethods[] = {
            idx::FilterStrategy::kAuto, idx::FilterStrategy::kExactScan,
            idx::FilterStrategy::kInGraph, idx::FilterStrategy::kPostFilter};
        for (std::size_t filter_idx = 0; filter_idx < set.filters.size(); ++filter_idx) {
            const Filter& filter = set.filters[filter_idx];
            const std::uint64_t matches = filter.rows.cardinality();
            const QuerySet queries{.queries = &queries_,
                                   .count = count,
                                   .gt = &filtered_gt,
                                   .gt_first_row = filter_idx * set.num_queries,
                                   .gt_columns = std::min(args_.k, filtered_gt.dim)};
            for (const std::size_t ef : args_.efs) {
                for (const idx::FilterStrategy method : kMethods) {
                    const idx::SearchOptions options{
                        .k = args_.k, .ef = ef, .filter = &filter.rows, .strategy = method};
                    const RunStats stats = BestOf(queries, options, matches);
                    if (stats.short_results > 0 || stats.wrong_rows > 0) {
                        ++failures_;
                    }
                    Json chosen_counts = Json::object();
                    for (const auto& [name, num] : stats.chosen) {
                        chosen_counts[name] = num;
                    }
                    Emit(With(With(Head("filtered"),
                                   Json{{"filter", filter.name},
                                        {"selectivity", Round(static_cast<double>(matches) /
                                                                  static_cast<double>(base_.rows),
                                                              6)},
                                        {"n_match", matches},
                                        {"method", StrategyName(method)},
                                        {"chosen", stats.MostChosen()},
                                        {"chosen_counts", chosen_counts},
                                        {"fell_back", stats.fell_back},
                                        {"ef", ef},
                                        {"k", args_.k}}),
                              With(TimingFields(stats), Json{{"short_results", stats.short_results},
                                                             {"wrong_rows", stats.wrong_rows}})));
                }
            }
            kConsole.Log("filter " + filter.name + " done");
        }
    }

    Args args_;
    Matrix<float> base_;
    Matrix<float> queries_;
    Matrix<std::int32_t> gt_;
    std::size_t num_queries_ = 0;
    FilterSet filter_set_;              // --filtered only
    Matrix<std::int32_t> filtered_gt_;  // --filtered only
    std::unique_ptr<idx::HnswIndex> index_;
    int failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Bench bench(ParseArgs(argc, argv));
    return bench.Run();
}
