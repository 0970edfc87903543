// SPDX-License-Identifier: Apache-2.0
//
// PhenixQL end to end (include/phenix/phenixql.h) on the benchmark data kit
// (../shared/bench/README.md): base.fvecs, query.fvecs, meta.jsonl, edges.tsv, filters.json,
// filtered_gt_{l2,cos}.ivecs and hybrid_gt.jsonl. Query vectors travel as literals in the query
// text, as a client would send them; everything runs embedded and single-threaded.
//
//   1. load       every row as entity "<row>" (vector, meta.jsonl line as metadata) in
//                 WriteBatches of Insert, then the out-edges of edges.tsv by
//                 WriteBatch::ReplaceEdges; CREATE INDEX ON kit (metadata.<field>) through
//                 PhenixQL for the seven kit fields; waits until the vector index is complete,
//                 AnalyzeIndexes, Compact.
//   2. plan       planner overhead of a fixed list of SELECTs: parse only (query::ParseStatement)
//                 and parse + bind + plan (Execute("EXPLAIN " + query): binds, estimates from the
//                 index statistics and plans without executing); median and p99. Each query also
//                 runs once for real and its answer is checked where the bench knows it (a
//                 two-segment MATCH chain among them).
//   3. hybrid     every hybrid_gt.jsonl query of the metric as
//                 SELECT b.id, ... FROM MATCH (a:kit)-[*1..H]->(b:kit) WHERE a.id = 'SEED' ...;
//                 latency and recall@10, and the same queries through Database::Search with a
//                 graph constraint and a filter (the direct API) for the overhead ratio.
//   4. strategies filters.json's filters x the first queries: SELECT id FROM kit WHERE <filter>
//                 ORDER BY vector <-> [..] LIMIT 10 with the planner's choice and with each forced
//                 WITH (strategy = ...); mean latency, recall@10 against filtered_gt_*, the
//                 planner's pick (from EXPLAIN) and auto / best-forced.
//   5. scan       statements that read every record (not in the default phases): count(*)
//                 with a filter on metadata.price, ORDER BY metadata.price DESC LIMIT 10 and
//                 GROUP BY metadata.year, with the price and year indexes dropped for the phase
//                 (created again after it); wall and CPU time per run and per row, the answers
//                 checked against meta.jsonl.
//
// One JSON object per line on stdout ({"lib":"phenix-ql","phase":...}); progress on stderr.
//
//   phenix_ql_bench --data KIT_DIR [--db DIR] [--metric l2|cos] [--skip-load] [--batch 5000]
//                   [--plan-runs 2000] [--passes 3] [--strategy-queries 100]
//                   [--phases plan,hybrid,strategies[,scan]] [--make-kit N]
//
// --db (default /tmp/phenix-ql-bench-db) is deleted first unless --skip-load, which reuses a
// database loaded by an earlier run (missing metadata indexes are created).
// --make-kit N first writes a synthetic kit of N rows to --data (the same files and fields,
// ground truth by brute force in synthetic_kit.h), for smoke tests without the real kit.
//
// Exit status: 0 fine; 1 a check failed (a statement failed, a count differs, a hit does not
// match its filter or lies outside its graph neighbourhood, an exact strategy misses) or an
// engine call failed; 2 bad arguments or a missing or malformed data file.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/search.h>

#include "bench_args.h"
#include "bench_output.h"
#include "kit_files.h"
#include "process_stats.h"
#include "query/parser.h"
#include "synthetic_kit.h"

namespace {

namespace fs = std::filesystem;
namespace kit = phenix::bench_kit;
using kit::FilterMatches;
using kit::ParseRow;
using kit::Reach;
using kit::TrueDistance;
using phenix::bench_output::Clock;
using phenix::bench_output::Fixed;
using phenix::bench_output::kExitBadInput;
using phenix::bench_output::kExitCheckFailed;
using phenix::bench_output::Mean;
using phenix::bench_output::Micros;
using phenix::bench_output::Percentile;
using phenix::bench_output::Round;
using phenix::bench_output::RoundAll;
using phenix::bench_output::Seconds;
using phenix::bench_process::CpuModel;
using phenix::bench_process::CpuSeconds;
using phenix::bench_process::DirectoryBytes;
using phenix::bench_process::LoadAverage;
using phenix::bench_process::PeakRssBytes;
using phenix::bench_process::RssBytes;
using phenix::bench_process::UtcNow;
using Json = nlohmann::ordered_json;

constexpr phenix::bench_output::Console kConsole("ql_bench");
constexpr const char* kCollection = "kit";
constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr double kProgressLogSeconds = 5.0;
constexpr std::size_t kK = 10;
constexpr double kTieTolerance = 1e-6;
constexpr double kTargetPlanP50Us = 50;
constexpr double kTargetHybridP50Us = 1000;
constexpr double kTargetStrategyRatio = 1.5;
constexpr double kRecallSlack = 0.01;  // a forced strategy competes if recall >= auto's - this
constexpr double kExactRecallFloor = 0.999;
constexpr std::size_t kPlanWarmupRuns = 50;
constexpr std::size_t kExecuteRuns = 20;    // real executions per plan query, at most
constexpr std::size_t kExecuteMinRuns = 3;  // ... and at least, however slow
constexpr double kExecuteSeconds = 2.0;     // stop after this long (past the minimum)
constexpr std::uint64_t kRngSeed = 20240601;
constexpr std::size_t kScanRuns = 3;
constexpr double kScanPriceBelow = 5;
const char* const kScanUnindexed[] = {"price", "year"};
const char* const kIndexedFields[] = {"category", "year",   "tenant", "bucket",
                                      "price",    "active", "topic"};

struct Args {
    std::string data;
    std::string db = "/tmp/phenix-ql-bench-db";
    std::string metric = "l2";
    bool skip_load = false;
    std::size_t batch = 5000;
    std::size_t plan_runs = 2000;
    std::size_t passes = 3;
    std::size_t strategy_queries = 100;
    std::size_t make_kit = 0;
    std::set<std::string> phases = {"plan", "hybrid", "strategies"};

    [[nodiscard]] bool Has(std::string_view phase) const {
        return phases.contains(std::string(phase));
    }
};

// ---------------------------------------------------------------------------------------------
// Filters: the kit's Mongo-like `where` written as a PhenixQL condition (its reference
// evaluation on meta.jsonl is synthetic_kit.h's FilterMatches). The kit uses $eq $ne $lt $lte
// $gt $gte $in, $and and implicit equality; other operators throw KitError here.

std::string SqlLiteral(const Json& value) {
    if (value.is_string()) {
        std::string out = "'";
        for (const char c : value.get_ref<const std::string&>()) {
            out += c;
            if (c == '\'') {
                out += '\'';
            }
        }
        return out + "'";
    }
    return value.dump();  // numbers, true, false
}

// The kit filter as a PhenixQL condition on `prefix` + field ("metadata." or "b.metadata.").
std::string WhereToSql(const Json& filter, const std::string& prefix) {
    std::vector<std::string> terms;
    for (const auto& [key, cond] : filter.items()) {
        if (key == "$and") {
            for (const auto& sub : cond) {
                terms.push_back(WhereToSql(sub, prefix));
            }
            continue;
        }
        const std::string path = prefix + key;
        const bool is_operator_object =
            cond.is_object() && !cond.empty() && cond.begin().key().starts_with("$");
        if (!is_operator_object) {
            terms.push_back(path + " = " + SqlLiteral(cond));
            continue;
        }
        for (const auto& [op, arg] : cond.items()) {
            static const std::map<std::string, std::string, std::less<>> kOps = {
                {"$eq", "="},   {"$ne", "!="}, {"$lt", "<"},
                {"$lte", "<="}, {"$gt", ">"},  {"$gte", ">="}};
            if (op == "$in") {
                std::string list;
                for (const auto& item : arg) {
                    list += (list.empty() ? "" : ", ") + SqlLiteral(item);
                }
                terms.push_back(path + " IN (" + list + ")");
            } else if (const auto found = kOps.find(op); found != kOps.end()) {
                terms.push_back(path + " " + found->second + " " + SqlLiteral(arg));
            } else {
                throw kit::KitError("filter operator " + op + " has no PhenixQL form in the bench");
            }
        }
    }
    std::string out;
    for (const auto& term : terms) {
        out += (out.empty() ? "" : " AND ") + term;
    }
    return out;
}

// A vector literal with the shortest text that reads back as the same floats.
std::string VectorLiteral(std::span<const float> vector) {
    std::string out = "[";
    char buffer[32];
    for (std::size_t d = 0; d < vector.size(); ++d) {
        const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, vector[d]);
        if (d > 0) {
            out += ", ";
        }
        out.append(buffer, end);
    }
    return out + "]";
}

// ---------------------------------------------------------------------------------------------
// Arguments

constexpr std::string_view kUsage =
    "usage: phenix_ql_bench --data KIT_DIR [--db DIR] [--metric l2|cos]\n"
    "  [--skip-load] [--batch 5000] [--plan-runs 2000] [--passes 3]\n"
    "  [--strategy-queries 100] [--phases plan,hybrid,strategies[,scan]] [--make-kit N]\n"
    "DIR (default /tmp/phenix-ql-bench-db) is deleted first unless --skip-load.\n"
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
        } else if (key == "batch") {
            args.batch = reader.Number<std::size_t>();
        } else if (key == "plan-runs") {
            args.plan_runs = reader.Number<std::size_t>();
        } else if (key == "passes") {
            args.passes = std::max<std::size_t>(1, reader.Number<std::size_t>());
        } else if (key == "strategy-queries") {
            args.strategy_queries = reader.Number<std::size_t>();
        } else if (key == "make-kit") {
            args.make_kit = reader.Number<std::size_t>();
        } else if (key == "phases") {
            args.phases = reader.Choices({"plan", "hybrid", "strategies", "scan"}, "phase");
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
    if (args.batch == 0 || args.plan_runs == 0 || args.strategy_queries == 0) {
        kConsole.Fail(kExitBadInput, "--batch, --plan-runs and --strategy-queries must be >= 1");
    }
    if (args.make_kit != 0 && args.make_kit < 500) {
        kConsole.Fail(kExitBadInput, "--make-kit needs at least 500 rows");
    }
    args.data = phenix::bench_args::WithoutTrailingSlash(std::move(args.data));
    return args;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

struct FilterCase {
    std::string name;
    Json where;
    std::string where_json;  // for Database::Search
    std::string sql;         // on metadata.<field>
    std::uint64_t n_match = 0;
    double selectivity = 0;
};

struct HybridCase {
    std::uint32_t qid = 0;
    std::uint32_t seed = 0;
    std::uint32_t hops = 0;
    Json where;
    std::string where_json;  // "" for null
    std::vector<std::uint32_t> ids;
    std::vector<double> dists;
    std::vector<std::uint32_t> candidates;  // sorted: graph neighbourhood that matches `where`
    std::string text;                       // the PhenixQL statement
};

// Recall@10 of one answer against an exact top-k (ids and distances; ties tolerated).
struct Score {
    double recall = 0;
    double tie_recall = 0;
};

class Bench {
  public:
    explicit Bench(Args args) : args_(std::move(args)) {}

    int Run() {
        if (args_.make_kit != 0) {
            const std::size_t num_edges = kit::WriteSyntheticKit(
                args_.data, args_.make_kit,
                {.rng_seed = kRngSeed,
                 .num_queries = 100,
                 .has_topic_zero_queries = false,
                 .edge_model = kit::EdgeModel::kUniform,
                 .filters_note = "synthetic smoke kit from phenix_ql_bench --make-kit",
                 .extra_filters = {{"topic_eq_0", Json::parse(R"({"topic": {"$eq": 0}})")}},
                 .has_filtered_gt = true,
                 .k = kK});
            kConsole.Log("make-kit: wrote " + std::to_string(args_.make_kit) + " rows, " +
                         std::to_string(num_edges) + " edges to " + args_.data);
        }
        ReadKit();
        EmitContext();
        if (args_.skip_load) {
            OpenExisting();
        } else {
            LoadFresh();
        }
        session_ = std::make_unique<phenix::QuerySession>(*db_);
        if (args_.Has("plan")) {
            Plan();
        }
        if (args_.Has("hybrid")) {
            Hybrid();
        }
        if (args_.Has("strategies")) {
            Strategies();
        }
        if (args_.Has("scan")) {
            Scans();
        }
        session_.reset();
        kConsole.Check(db_->Close(), "Close");
        db_.reset();
        Head("summary")
            .Set("failures", failures_)
            .Set("statement_errors", statement_errors_)
            .Set("peak_rss_bytes", PeakRssBytes())
            .Set("total_seconds", Round(Seconds(start_), 3))
            .Set("load_average_1m", LoadAverage())
            .Emit();
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
        body["lib"] = "phenix-ql";
        body["set"] = set_name_;
        body["metric"] = args_.metric;
        body["phase"] = phase;
        return Line(std::move(body));
    }

    void Fault(const std::string& what) {
        kConsole.Log("CHECK FAILED: " + what);
        ++failures_;
    }

    bool cosine() const { return args_.metric == "cos"; }
    // The distance operator of the collection's metric.
    std::string DistanceOp() const { return cosine() ? "<=>" : "<->"; }

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
        meta_text_ = kit::ReadLines(args_.data + "/meta.jsonl", n_);
        if (meta_text_.size() != n_) {
            throw kit::KitError("meta.jsonl has " + std::to_string(meta_text_.size()) +
                                " lines for " + std::to_string(n_) + " vectors");
        }
        meta_.reserve(n_);
        for (const auto& line : meta_text_) {
            meta_.push_back(Json::parse(line));
        }
        edges_ = kit::ReadEdges(args_.data + "/edges.tsv", n_);
        out_ = kit::BuildCsr(edges_, n_, false);

        const Json filters_doc = Json::parse(kit::ReadText(args_.data + "/filters.json"));
        filter_queries_ = filters_doc.value("n_queries", std::size_t{100});
        for (const auto& filter : filters_doc.at("filters")) {
            FilterCase item;
            item.name = filter.at("name").get<std::string>();
            item.where = filter.at("where");
            item.where_json = item.where.dump();
            item.sql = WhereToSql(item.where, "metadata.");
            item.n_match = filter.at("n_match").get<std::uint64_t>();
            item.selectivity = filter.at("selectivity").get<double>();
            filters_.push_back(std::move(item));
        }
        filtered_gt_ =
            kit::ReadVecs<std::int32_t>(args_.data + "/filtered_gt_" + args_.metric + ".ivecs");
        filtered_gt_dist_ =
            kit::ReadVecs<float>(args_.data + "/filtered_gt_" + args_.metric + ".dist.fvecs");
        if (filtered_gt_.rows != filters_.size() * filter_queries_ ||
            filtered_gt_dist_.rows != filtered_gt_.rows || filter_queries_ > queries_.rows) {
            throw kit::KitError("filtered_gt_" + args_.metric +
                                ": rows do not match filters.json's filters x n_queries");
        }

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
            hybrid.where_json = hybrid.where.is_null() ? "" : hybrid.where.dump();
            hybrid.ids = doc.at("ids").get<std::vector<std::uint32_t>>();
            hybrid.dists = doc.at("dists").get<std::vector<double>>();
            if (hybrid.qid >= queries_.rows || hybrid.seed >= n_ ||
                hybrid.ids.size() != hybrid.dists.size()) {
                throw kit::KitError("hybrid_gt.jsonl: a query, seed or answer is out of range");
            }
            for (const std::uint32_t node : Reach(out_, hybrid.seed, hybrid.hops)) {
                if (FilterMatches(hybrid.where, meta_[node])) {
                    hybrid.candidates.push_back(node);
                }
            }
            if (hybrid.candidates.size() != doc.at("n_candidates").get<std::size_t>()) {
                throw kit::KitError(
                    "hybrid_gt.jsonl: the bench's candidate set differs from "
                    "n_candidates (seed " +
                    std::to_string(hybrid.seed) + ")");
            }
            const std::string vector = VectorLiteral(queries_.Row(hybrid.qid));
            hybrid.text =
                "SELECT b.id, b.vector " + DistanceOp() + " " + vector +
                " AS distance FROM MATCH (a:kit)-[*1.." + std::to_string(hybrid.hops) +
                "]->(b:kit) WHERE a.id = '" + std::to_string(hybrid.seed) + "'" +
                (hybrid.where.is_null() ? "" : " AND " + WhereToSql(hybrid.where, "b.metadata.")) +
                " ORDER BY b.vector " + DistanceOp() + " " + vector + " LIMIT " +
                std::to_string(kK);
            hybrid_.push_back(std::move(hybrid));
        }
        kConsole.Log("read " + std::to_string(n_) + " x " + std::to_string(base_.dim) +
                     " vectors, " + std::to_string(edges_.size()) + " edges, " +
                     std::to_string(filters_.size()) + " filters, " +
                     std::to_string(hybrid_.size()) + " hybrid queries (" + args_.metric + ") in " +
                     Fixed(Seconds(start), 2) + " s");
    }

    void EmitContext() {
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
            .Set("durability", "relaxed (the database is a scratch copy)")
            .Set("n", n_)
            .Set("dim", base_.dim)
            .Set("edges", edges_.size())
            .Set("filters", filters_.size())
            .Set("hybrid_queries", hybrid_.size())
            .Set("strategy_queries", std::min(args_.strategy_queries, filter_queries_))
            .Set("plan_runs", args_.plan_runs)
            .Set("passes", args_.passes)
            .Set("skip_load", args_.skip_load)
            .Set("phases", args_.phases)
            .Set("synthetic_kit", args_.make_kit != 0)
            .Set("db", args_.db)
            .Emit();
    }

    // ---- database

    static phenix::Options DbOptions() {
        phenix::Options options;
        options.durability = phenix::Durability::kRelaxed;
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

    double WaitIndexed(std::string_view what) {
        const auto start = Clock::now();
        auto last_log = Clock::now();
        auto info = kConsole.Value(db_->GetVectorIndexInfo(kCollection), "GetVectorIndexInfo");
        while (info.unindexed_rows > 0) {
            std::this_thread::sleep_for(kPollInterval);
            info = kConsole.Value(db_->GetVectorIndexInfo(kCollection), "GetVectorIndexInfo");
            if (Seconds(last_log) >= kProgressLogSeconds) {
                last_log = Clock::now();
                kConsole.Log(std::string(what) + ": " + std::to_string(info.unindexed_rows) +
                             " rows to index, " + Fixed(Seconds(start), 1) + " s");
            }
        }
        return Seconds(start);
    }

    // A statement that must succeed (load and setup).
    phenix::QueryResult MustExecute(phenix::QuerySession& session, const std::string& text) {
        auto result = session.Execute(text);
        if (!result.ok()) {
            kConsole.Fail(kExitCheckFailed,
                          "statement failed: " + text + "\n  " + result.status().ToString());
        }
        return std::move(result).value();
    }

    // CREATE INDEX through PhenixQL for each kit field without an index; seconds per field.
    Json CreateIndexes() {
        std::set<std::string> existing;
        for (const auto& index : kConsole.Value(db_->ListIndexes(kCollection), "ListIndexes")) {
            existing.insert(index.path);
        }
        phenix::QuerySession session(*db_);
        Json seconds = Json::object();
        for (const char* field : kIndexedFields) {
            if (existing.contains(field)) {
                continue;
            }
            const auto start = Clock::now();
            MustExecute(session, std::string("CREATE INDEX ON kit (metadata.") + field + ")");
            seconds[field] = Round(Seconds(start), 3);
            kConsole.Log("CREATE INDEX ON kit (metadata." + std::string(field) + ") in " +
                         Fixed(Seconds(start), 2) + " s");
        }
        return seconds;
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
        const Json index_seconds = CreateIndexes();
        const double wait = WaitIndexed("open");
        kConsole.Check(db_->AnalyzeIndexes(kCollection), "AnalyzeIndexes");
        Head("load")
            .Set("skipped", true)
            .Set("index_wait_seconds", Round(wait, 3))
            .Set("create_index_seconds", index_seconds)
            .Emit();
    }

    void LoadFresh() {
        std::error_code ec;
        fs::remove_all(args_.db, ec);
        if (ec) {
            kConsole.Fail(kExitBadInput, "cannot delete " + args_.db + ": " + ec.message());
        }
        OpenDb(DbOptions());
        kConsole.Check(db_->CreateCollection(
                           {.ref = kCollection,
                            .dimension = static_cast<std::uint32_t>(base_.dim),
                            .metric = cosine() ? phenix::Metric::kCosine : phenix::Metric::kL2}),
                       "CreateCollection");
        const auto load_start = Clock::now();
        phenix::WriteBatch batch;
        auto last_log = Clock::now();
        double entity_commit_seconds = 0;
        for (std::size_t first = 0; first < n_; first += args_.batch) {
            const std::size_t last = std::min(n_, first + args_.batch);
            batch.Clear();
            for (std::size_t row = first; row < last; ++row) {
                const auto vector = base_.Row(row);
                batch.Insert(kCollection, phenix::Entity{.id = std::to_string(row),
                                                         .vector = {vector.begin(), vector.end()},
                                                         .metadata = meta_text_[row]});
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

        // Edges: ReplaceEdges of every source (vector and metadata untouched).
        const auto edges_start = Clock::now();
        double edge_commit_seconds = 0;
        for (std::size_t first = 0; first < n_; first += args_.batch) {
            const std::size_t last = std::min(n_, first + args_.batch);
            batch.Clear();
            for (std::size_t row = first; row < last; ++row) {
                const auto node = static_cast<std::uint32_t>(row);
                if (out_.Degree(node) == 0) {
                    continue;
                }
                std::vector<phenix::Edge> edges;
                const auto targets = out_.Neighbours(node);
                const auto rows = out_.EdgeRows(node);
                edges.reserve(targets.size());
                for (std::size_t edge_idx = 0; edge_idx < targets.size(); ++edge_idx) {
                    const std::uint32_t edge_row = rows[edge_idx];
                    edges.push_back(
                        phenix::Edge{.label = edges_.rel[edge_row] == 0 ? "rel0" : "rel1",
                                     .target_id = std::to_string(targets[edge_idx]),
                                     .weight = edges_.weight[edge_row]});
                }
                batch.ReplaceEdges(kCollection, std::to_string(row), std::move(edges));
            }
            if (batch.empty()) {
                continue;
            }
            const auto start = Clock::now();
            kConsole.Check(db_->Write(batch),
                           "Write (ReplaceEdges of " + std::to_string(first) + "..)");
            edge_commit_seconds += Seconds(start);
            if (Seconds(last_log) >= kProgressLogSeconds) {
                last_log = Clock::now();
                kConsole.Log("load edges of " + std::to_string(last) + "/" + std::to_string(n_));
            }
        }
        const double edges_wall = Seconds(edges_start);
        const Json index_seconds = CreateIndexes();
        const double wait = WaitIndexed("load");
        const auto analyze_start = Clock::now();
        kConsole.Check(db_->AnalyzeIndexes(kCollection), "AnalyzeIndexes");
        const double analyze_seconds = Seconds(analyze_start);
        const auto compact_start = Clock::now();
        kConsole.Check(db_->Compact(), "Compact");
        const double compact_seconds = Seconds(compact_start);
        const auto collection = kConsole.Value(db_->GetCollection(kCollection), "GetCollection");
        Head("load")
            .Set("n", n_)
            .Set("edges", edges_.size())
            .Set("batch", args_.batch)
            .Set("entity_commit_seconds", Round(entity_commit_seconds, 3))
            .Set("entity_wall_seconds", Round(entity_wall, 3))
            .Set("entities_per_second", Round(static_cast<double>(n_) / entity_commit_seconds, 1))
            .Set("edge_commit_seconds", Round(edge_commit_seconds, 3))
            .Set("edge_wall_seconds", Round(edges_wall, 3))
            .Set("edges_per_second",
                 Round(static_cast<double>(edges_.size()) / edge_commit_seconds, 1))
            .Set("create_index_seconds", index_seconds)
            .Set("index_wait_seconds", Round(wait, 3))
            .Set("analyze_seconds", Round(analyze_seconds, 3))
            .Set("compact_seconds", Round(compact_seconds, 3))
            .Set("db_bytes_after_compact", DirectoryBytes(args_.db))
            .Set("num_entities", collection.num_entities)
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
                     "/s); indexes, vector index complete " + Fixed(wait, 1) + " s later");
    }

    // ---- running statements

    // Execute; a failure is counted, logged once per statement kind and returns nullopt.
    std::optional<phenix::QueryResult> Run(const std::string& text, std::string_view what) {
        auto result = session_->Execute(text);
        if (!result.ok()) {
            ++statement_errors_;
            if (reported_errors_.insert(std::string(what)).second) {
                Fault(std::string(what) + ": " + result.status().ToString() +
                      "\n  statement: " + (text.size() > 400 ? text.substr(0, 400) + "..." : text));
            }
            return std::nullopt;
        }
        return std::move(result).value();
    }

    static std::vector<std::uint32_t> IdsOf(const phenix::QueryResult& result) {
        std::vector<std::uint32_t> ids;
        for (const auto& row : result.rows) {
            ids.push_back(row.empty() ? UINT32_MAX : ParseRow(row[0].text).value_or(UINT32_MAX));
        }
        return ids;
    }

    static std::vector<std::string> PlanLines(const phenix::QueryResult& result) {
        std::vector<std::string> lines;
        for (const auto& row : result.rows) {
            if (!row.empty()) {
                lines.push_back(row[0].text);
            }
        }
        return lines;
    }

    // Recall of `hits` (first kK) against the exact `ids`/`dists` for query vector `qid`.
    Score ScoreHits(const std::vector<std::uint32_t>& hits, const std::vector<std::uint32_t>& ids,
                    const std::vector<double>& dists, std::uint32_t qid) const {
        if (ids.empty()) {
            return {.recall = hits.empty() ? 1.0 : 0.0, .tie_recall = hits.empty() ? 1.0 : 0.0};
        }
        const std::unordered_set<std::uint32_t> truth(ids.begin(), ids.end());
        const double threshold = dists.back() * (1 + kTieTolerance) + 1e-9;
        std::unordered_set<std::uint32_t> seen;
        std::size_t found = 0;
        std::size_t tie_found = 0;
        for (std::size_t h = 0; h < std::min(hits.size(), kK); ++h) {
            const std::uint32_t row = hits[h];
            if (row >= n_ || !seen.insert(row).second) {
                continue;
            }
            found += truth.contains(row) ? 1U : 0U;
            tie_found +=
                TrueDistance(queries_.Row(qid), base_.Row(row), cosine()) <= threshold ? 1U : 0U;
        }
        const auto size = static_cast<double>(ids.size());
        return {.recall = static_cast<double>(found) / size,
                .tie_recall = static_cast<double>(std::min(tie_found, ids.size())) / size};
    }

    // ---- phase 2: planner overhead

    struct PlanQuery {
        std::string name;
        std::string text;
        // Checks of the executed answer; empty when the bench has no reference.
        std::function<std::string(const phenix::QueryResult&)> check;
    };

    std::vector<PlanQuery> PlanQueries() {
        const std::string vector = VectorLiteral(queries_.Row(0));
        const std::string op = DistanceOp();
        const std::string seed = hybrid_.empty() ? "0" : std::to_string(hybrid_.front().seed);
        const auto count_where = [this](const Json& where) {
            std::uint64_t count = 0;
            for (const auto& doc : meta_) {
                count += FilterMatches(where, doc) ? 1U : 0U;
            }
            return count;
        };
        // Every returned id (column 0) matches `where`, and there are min(10, matches) of them.
        const auto knn_check = [this, count_where](Json where) {
            const std::uint64_t expected = std::min<std::uint64_t>(kK, count_where(where));
            return [this, where, expected](const phenix::QueryResult& result) -> std::string {
                for (const std::uint32_t row : IdsOf(result)) {
                    if (row >= n_ || !FilterMatches(where, meta_[row])) {
                        return "hit " + std::to_string(row) + " does not match the filter";
                    }
                }
                if (result.rows.size() != expected) {
                    return std::to_string(result.rows.size()) + " rows, expected " +
                           std::to_string(expected);
                }
                return "";
            };
        };
        std::vector<PlanQuery> list;
        list.push_back({"knn_filtered",
                        "SELECT id, metadata.year, vector " + op + " " + vector +
                            " AS distance FROM kit WHERE metadata.category = 3 AND "
                            "metadata.year >= 2020 ORDER BY distance LIMIT 10",
                        knn_check(Json::parse(R"({"category": 3, "year": {"$gte": 2020}})"))});
        list.push_back({"knn",
                        "SELECT id, vector " + op + " " + vector +
                            " AS distance FROM kit ORDER BY distance LIMIT 10",
                        knn_check(Json(nullptr))});
        list.push_back({"knn_tenant",
                        "SELECT id FROM kit WHERE metadata.tenant = 't07' ORDER BY vector " + op +
                            " " + vector + " LIMIT 10",
                        knn_check(Json::parse(R"({"tenant": "t07"})"))});
        // The hybrid form: its hits lie in the seed's filtered 2-hop neighbourhood.
        std::vector<std::uint32_t> candidates;
        if (const auto seed_row = ParseRow(seed)) {
            const Json where = Json::parse(R"({"category": 0})");
            for (const std::uint32_t node : Reach(out_, *seed_row, 2)) {
                if (FilterMatches(where, meta_[node])) {
                    candidates.push_back(node);
                }
            }
        }
        list.push_back(
            {"match_hybrid",
             "SELECT b.id FROM MATCH (a:kit)-[*1..2]->(b:kit) WHERE a.id = '" + seed +
                 "' AND b.metadata.category = 0 ORDER BY b.vector " + op + " " + vector +
                 " LIMIT 10",
             [candidates](const phenix::QueryResult& result) -> std::string {
                 for (const std::uint32_t row : IdsOf(result)) {
                     if (!std::binary_search(candidates.begin(), candidates.end(), row)) {
                         return "hit " + std::to_string(row) + " is not in the neighbourhood";
                     }
                 }
                 if (result.rows.size() != std::min(kK, candidates.size())) {
                     return std::to_string(result.rows.size()) + " rows, expected " +
                            std::to_string(std::min(kK, candidates.size()));
                 }
                 return "";
             }});
        // A chain of two segments: one row per (b, c), b a distinct out-neighbour of the seed
        // and c one of b's.
        std::int64_t chain_rows = 0;
        if (const auto seed_row = ParseRow(seed)) {
            const auto distinct_out = [this](std::uint32_t node) {
                const auto neighbours = out_.Neighbours(node);
                return std::set<std::uint32_t>(neighbours.begin(), neighbours.end());
            };
            for (const std::uint32_t middle : distinct_out(*seed_row)) {
                chain_rows += static_cast<std::int64_t>(distinct_out(middle).size());
            }
        }
        list.push_back(
            {"match_chain",
             "SELECT count(*) FROM MATCH (a:kit)-[]->(b:kit)-[]->(c:kit) WHERE a.id = '" + seed +
                 "'",
             [chain_rows](const phenix::QueryResult& result) -> std::string {
                 if (result.rows.size() != 1 || result.rows[0].empty() ||
                     result.rows[0][0].int_value != chain_rows) {
                     return "count is not " + std::to_string(chain_rows);
                 }
                 return "";
             }});
        const std::uint64_t in_count = count_where(Json::parse(R"({"category": {"$in": [1, 2]}})"));
        list.push_back({"count_in", "SELECT count(*) FROM kit WHERE metadata.category IN (1, 2)",
                        [in_count](const phenix::QueryResult& result) -> std::string {
                            if (result.rows.size() != 1 || result.rows[0].empty() ||
                                result.rows[0][0].int_value !=
                                    static_cast<std::int64_t>(in_count)) {
                                return "count is not " + std::to_string(in_count);
                            }
                            return "";
                        }});
        std::map<std::int64_t, std::int64_t> groups;
        for (const auto& doc : meta_) {
            if (doc.at("year").get<int>() >= 2020) {
                ++groups[doc.at("category").get<std::int64_t>()];
            }
        }
        list.push_back({"group_by",
                        "SELECT metadata.category, count(*) FROM kit WHERE metadata.year >= 2020 "
                        "GROUP BY metadata.category",
                        [groups](const phenix::QueryResult& result) -> std::string {
                            std::map<std::int64_t, std::int64_t> got;
                            for (const auto& row : result.rows) {
                                if (row.size() != 2) {
                                    return "a row without 2 columns";
                                }
                                got[row[0].int_value] = row[1].int_value;
                            }
                            return got == groups ? ""
                                                 : "groups or counts differ from the reference";
                        }});
        list.push_back({"point_lookup", "SELECT id, metadata.tenant FROM kit WHERE id = '42'",
                        [this](const phenix::QueryResult& result) -> std::string {
                            if (result.rows.size() != 1 || result.rows[0].size() != 2 ||
                                result.rows[0][1].text !=
                                    meta_[std::min<std::size_t>(42, n_ - 1)].value("tenant", "")) {
                                return "expected one row with the tenant of entity 42";
                            }
                            return "";
                        }});
        list.push_back({"range_scan",
                        "SELECT id, metadata.price FROM kit WHERE metadata.bucket < 10 AND "
                        "metadata.price < 20 ORDER BY metadata.price LIMIT 20",
                        nullptr});
        return list;
    }

    void Plan() {
        std::vector<double> all_plan_p50;
        for (const PlanQuery& query : PlanQueries()) {
            // Parse only.
            std::vector<double> parse_us;
            std::string parse_error;
            for (std::size_t run = 0; run < kPlanWarmupRuns + args_.plan_runs; ++run) {
                const auto start = Clock::now();
                auto parsed = phenix::query::ParseStatement(query.text);
                const double us = Micros(start);
                if (!parsed.ok()) {
                    parse_error = parsed.status().ToString();
                    break;
                }
                if (run >= kPlanWarmupRuns) {
                    parse_us.push_back(us);
                }
            }
            if (!parse_error.empty()) {
                Fault("plan " + query.name + ": parse failed: " + parse_error);
            }
            // Parse + bind + plan: EXPLAIN.
            std::vector<double> plan_us;
            std::vector<std::string> plan_lines;
            const std::string explain = "EXPLAIN " + query.text;
            for (std::size_t run = 0; run < kPlanWarmupRuns + args_.plan_runs; ++run) {
                const auto start = Clock::now();
                auto result = session_->Execute(explain);
                const double us = Micros(start);
                if (!result.ok()) {
                    ++statement_errors_;
                    Fault("plan " + query.name + ": EXPLAIN failed: " + result.status().ToString() +
                          "\n  statement: " + explain.substr(0, 300));
                    break;
                }
                if (run >= kPlanWarmupRuns) {
                    plan_us.push_back(us);
                }
                if (run == 0) {
                    plan_lines = PlanLines(*result);
                }
            }
            // Executed for real: median latency and the answer's check.
            std::vector<double> execute_us;
            std::string check_error;
            std::size_t rows = 0;
            const auto execute_start = Clock::now();
            for (std::size_t run = 0;
                 run < kExecuteRuns && plan_us.size() == args_.plan_runs &&
                 (run < kExecuteMinRuns || Seconds(execute_start) < kExecuteSeconds);
                 ++run) {
                const auto start = Clock::now();
                auto result = Run(query.text, "plan " + query.name + " (execute)");
                const double us = Micros(start);
                if (!result) {
                    break;
                }
                execute_us.push_back(us);
                rows = result->rows.size();
                if (run == 0 && query.check) {
                    check_error = query.check(*result);
                }
            }
            if (!check_error.empty()) {
                Fault("plan " + query.name + ": wrong answer: " + check_error);
            }
            const double plan_p50 = Percentile(plan_us, 0.5);
            if (!plan_us.empty()) {
                all_plan_p50.push_back(plan_p50);
            }
            const double parse_p50 = Percentile(parse_us, 0.5);
            Head("plan")
                .Set("query", query.name)
                .Set("text_bytes", query.text.size())
                .Set("runs", args_.plan_runs)
                .Set("parse_p50_us", Round(parse_p50, 2))
                .Set("parse_p99_us", Round(Percentile(parse_us, 0.99), 2))
                .Set("parse_plan_p50_us", Round(plan_p50, 2))
                .Set("parse_plan_p99_us", Round(Percentile(plan_us, 0.99), 2))
                .Set("bind_plan_p50_us", Round(plan_p50 - parse_p50, 2))
                .Set("execute_p50_us", Round(Percentile(execute_us, 0.5), 1))
                .Set("execute_runs", execute_us.size())
                .Set("rows", rows)
                .Set("answer_checked", query.check != nullptr && !execute_us.empty())
                .Set("answer_ok", check_error.empty())
                .Set("target_parse_plan_p50_us", kTargetPlanP50Us)
                .Set("target_met", !plan_us.empty() && plan_p50 < kTargetPlanP50Us)
                .Set("plan", plan_lines)
                .Emit();
            kConsole.Log("plan " + query.name + ": parse p50 " + Fixed(parse_p50, 1) +
                         " us, parse+plan p50 " + Fixed(plan_p50, 1) + " us p99 " +
                         Fixed(Percentile(plan_us, 0.99), 1) + " us, execute p50 " +
                         Fixed(Percentile(execute_us, 0.5), 1) + " us");
        }
    }

    // ---- phase 3: hybrid queries

    void Hybrid() {
        if (hybrid_.empty()) {
            kConsole.Log("hybrid: no queries for metric " + args_.metric);
            return;
        }
        struct Pass {
            std::vector<double> latencies_us;
            std::vector<std::vector<std::uint32_t>> hits;
            std::size_t errors = 0;
        };
        // One query each way; nullopt when it failed (counted and reported).
        using Answer = std::optional<std::pair<double, std::vector<std::uint32_t>>>;
        const auto run_ql = [&](std::size_t q_idx) -> Answer {
            const auto start = Clock::now();
            auto result = Run(hybrid_[q_idx].text, "hybrid (PhenixQL)");
            const double us = Micros(start);
            if (!result) {
                return std::nullopt;
            }
            return std::make_pair(us, IdsOf(*result));
        };
        std::size_t api_failures = 0;
        const auto run_api = [&](std::size_t q_idx) -> Answer {
            const auto& query = hybrid_[q_idx];
            phenix::SearchOptions options;
            options.k = kK;
            options.filter = query.where_json;
            options.graph = phenix::GraphConstraint{.start_id = std::to_string(query.seed),
                                                    .min_hops = 1,
                                                    .max_hops = query.hops,
                                                    .direction = phenix::EdgeDirection::kOut};
            const auto start = Clock::now();
            auto response = db_->Search(kCollection, queries_.Row(query.qid), options);
            const double us = Micros(start);
            if (!response.ok()) {
                if (api_failures++ == 0) {
                    Fault("hybrid (Database::Search): " + response.status().ToString());
                }
                return std::nullopt;
            }
            std::vector<std::uint32_t> hits;
            for (const auto& hit : response->hits) {
                hits.push_back(ParseRow(hit.id).value_or(UINT32_MAX));
            }
            return std::make_pair(us, std::move(hits));
        };
        // A warm-up pass, then --passes passes; per query PhenixQL and the API run back to back,
        // and a query's latency is its fastest of the passes. Answers come from the warm-up.
        Pass best_ql;
        Pass best_api;
        for (Pass* pass : {&best_ql, &best_api}) {
            pass->hits.resize(hybrid_.size());
            pass->latencies_us.assign(hybrid_.size(), std::numeric_limits<double>::infinity());
        }
        for (std::size_t pass = 0; pass <= args_.passes; ++pass) {
            for (std::size_t q_idx = 0; q_idx < hybrid_.size(); ++q_idx) {
                // Whichever runs second finds the neighbourhood in warmer caches: alternate.
                const bool ql_first = (q_idx + pass) % 2 == 0;
                Answer first = ql_first ? run_ql(q_idx) : run_api(q_idx);
                Answer second = ql_first ? run_api(q_idx) : run_ql(q_idx);
                const std::pair<Pass*, Answer*> answers[] = {
                    {&best_ql, ql_first ? &first : &second},
                    {&best_api, ql_first ? &second : &first}};
                for (const auto& [target, answer_ptr] : answers) {
                    const Answer& answer = *answer_ptr;
                    if (!answer) {
                        target->errors += pass == 0 ? 1U : 0U;
                        continue;
                    }
                    if (pass == 0) {
                        target->hits[q_idx] = answer->second;
                        continue;
                    }
                    target->latencies_us[q_idx] =
                        std::min(target->latencies_us[q_idx], answer->first);
                }
            }
        }
        for (Pass* pass : {&best_ql, &best_api}) {
            std::erase_if(pass->latencies_us, [](double us) { return !std::isfinite(us); });
        }
        // Where PhenixQL's time goes: parse alone and parse + bind + plan (EXPLAIN) of the same
        // texts, per query the fastest of the passes.
        std::vector<double> parse_us(hybrid_.size(), std::numeric_limits<double>::infinity());
        std::vector<double> explain_us(hybrid_.size(), std::numeric_limits<double>::infinity());
        for (std::size_t pass = 0; pass <= args_.passes; ++pass) {
            for (std::size_t q_idx = 0; q_idx < hybrid_.size(); ++q_idx) {
                const auto parse_start = Clock::now();
                const bool parsed = phenix::query::ParseStatement(hybrid_[q_idx].text).ok();
                const double parse_time = Micros(parse_start);
                const auto explain_start = Clock::now();
                const bool explained =
                    Run("EXPLAIN " + hybrid_[q_idx].text, "hybrid (EXPLAIN)").has_value();
                const double explain_time = Micros(explain_start);
                if (pass > 0 && parsed && explained) {
                    parse_us[q_idx] = std::min(parse_us[q_idx], parse_time);
                    explain_us[q_idx] = std::min(explain_us[q_idx], explain_time);
                }
            }
        }
        // Score both; hits outside the candidate set are wrong answers.
        const auto score = [&](const Pass& pass, std::string_view what) {
            Score total;
            std::size_t invalid = 0;
            for (std::size_t q_idx = 0; q_idx < hybrid_.size(); ++q_idx) {
                const auto& query = hybrid_[q_idx];
                for (const std::uint32_t row : pass.hits[q_idx]) {
                    if (!std::binary_search(query.candidates.begin(), query.candidates.end(),
                                            row)) {
                        if (invalid++ == 0) {
                            Fault(std::string(what) + ": query line " + std::to_string(q_idx) +
                                  ": hit " + std::to_string(row) +
                                  " is not in the filtered neighbourhood of seed " +
                                  std::to_string(query.seed));
                        }
                    }
                }
                const Score one = ScoreHits(pass.hits[q_idx], query.ids, query.dists, query.qid);
                total.recall += one.recall;
                total.tie_recall += one.tie_recall;
            }
            const auto count = static_cast<double>(hybrid_.size());
            total.recall /= count;
            total.tie_recall /= count;
            return std::make_pair(total, invalid);
        };
        const auto [ql_score, ql_invalid] = score(best_ql, "hybrid (PhenixQL)");
        const auto [api_score, api_invalid] = score(best_api, "hybrid (Database::Search)");
        std::size_t same_answers = 0;
        for (std::size_t q_idx = 0; q_idx < hybrid_.size(); ++q_idx) {
            same_answers += best_ql.hits[q_idx] == best_api.hits[q_idx] ? 1U : 0U;
        }
        if (ql_score.tie_recall < api_score.tie_recall - kRecallSlack) {
            Fault("hybrid: PhenixQL recall " + Fixed(ql_score.tie_recall, 4) +
                  " below the direct API's " + Fixed(api_score.tie_recall, 4));
        }
        const double ql_p50 = Percentile(best_ql.latencies_us, 0.5);
        const double api_p50 = Percentile(best_api.latencies_us, 0.5);
        Head("hybrid")
            .Set("queries", hybrid_.size())
            .Set("k", kK)
            .Set("passes", args_.passes)
            .Set("note",
                 "single thread, one query at a time, vector as a literal in the text; "
                 "per query the fastest of the passes (PhenixQL and the API back to "
                 "back, alternating which goes first) after a warm-up pass")
            .Set("example", hybrid_.front().text.substr(0, 160) + "...")
            .Set("ql_recall", Round(ql_score.recall, 4))
            .Set("ql_recall_tie_tolerant", Round(ql_score.tie_recall, 4))
            .Set("ql_p50_us", Round(ql_p50, 1))
            .Set("ql_p95_us", Round(Percentile(best_ql.latencies_us, 0.95), 1))
            .Set("ql_p99_us", Round(Percentile(best_ql.latencies_us, 0.99), 1))
            .Set("ql_mean_us", Round(Mean(best_ql.latencies_us), 1))
            .Set("ql_errors", best_ql.errors)
            .Set("ql_invalid_hits", ql_invalid)
            .Set("api_recall", Round(api_score.recall, 4))
            .Set("api_recall_tie_tolerant", Round(api_score.tie_recall, 4))
            .Set("api_p50_us", Round(api_p50, 1))
            .Set("api_p95_us", Round(Percentile(best_api.latencies_us, 0.95), 1))
            .Set("api_p99_us", Round(Percentile(best_api.latencies_us, 0.99), 1))
            .Set("api_mean_us", Round(Mean(best_api.latencies_us), 1))
            .Set("api_errors", best_api.errors)
            .Set("api_invalid_hits", api_invalid)
            .Set("ratio_p50", Round(api_p50 > 0 ? ql_p50 / api_p50 : 0.0, 2))
            .Set("ratio_mean", Round(Mean(best_api.latencies_us) > 0
                                         ? Mean(best_ql.latencies_us) / Mean(best_api.latencies_us)
                                         : 0.0,
                                     2))
            .Set("overhead_p50_us", Round(ql_p50 - api_p50, 1))
            .Set("ql_parse_p50_us", Round(Percentile(parse_us, 0.5), 1))
            .Set("ql_parse_bind_plan_p50_us", Round(Percentile(explain_us, 0.5), 1))
            .Set("same_answers_as_api", same_answers)
            .Set("target_ql_p50_us", kTargetHybridP50Us)
            .Set("target_met", ql_p50 < kTargetHybridP50Us)
            .Set("ql_latencies_us", RoundAll(best_ql.latencies_us, 1))
            .Set("api_latencies_us", RoundAll(best_api.latencies_us, 1))
            .Emit();
        kConsole.Log("hybrid: PhenixQL p50 " + Fixed(ql_p50, 1) + " us (recall " +
                     Fixed(ql_score.tie_recall, 4) + "), Database::Search p50 " +
                     Fixed(api_p50, 1) + " us (recall " + Fixed(api_score.tie_recall, 4) + "); " +
                     std::to_string(same_answers) + "/" + std::to_string(hybrid_.size()) +
                     " identical answers");
    }

    // ---- phase 4: filtered search strategies

    struct ModeResult {
        std::string mode;  // "auto" or a forced strategy
        double mean_us = 0;
        double p50_us = 0;
        double recall = 0;
        double tie_recall = 0;
        std::size_t errors = 0;
        std::size_t filter_violations = 0;
    };

    // Runs texts[mode][query]: each pass runs every mode over all queries, one mode after the
    // other (as a client would: consecutive queries of one mode share warm caches; interleaving
    // modes query by query made a mode pay for the caches the previous mode evicted, or profit
    // from the rows it had just read). The mode order rotates with the pass, and a query's
    // latency is its fastest of the passes, so a disturbance on the shared machine during one
    // block does not decide the comparison. Recall and filter checks come from the first pass.
    std::vector<ModeResult> RunModes(const FilterCase& filter, std::size_t f_idx,
                                     const std::vector<std::string>& modes,
                                     const std::vector<std::vector<std::string>>& texts) {
        const std::size_t num_queries = texts.front().size();
        std::vector<ModeResult> results(modes.size());
        std::vector<std::vector<double>> fastest(
            modes.size(),
            std::vector<double>(num_queries, std::numeric_limits<double>::infinity()));
        for (std::size_t pass = 0; pass < args_.passes; ++pass) {
            for (std::size_t turn = 0; turn < modes.size(); ++turn) {
                const std::size_t m_idx = (turn + pass) % modes.size();
                for (std::size_t q_idx = 0; q_idx < num_queries; ++q_idx) {
                    ModeResult& result = results[m_idx];
                    const auto start = Clock::now();
                    auto answer =
                        Run(texts[m_idx][q_idx], "strategies " + filter.name + " " + modes[m_idx]);
                    const double us = Micros(start);
                    if (!answer) {
                        result.errors += pass == 0 ? 1U : 0U;
                        continue;
                    }
                    fastest[m_idx][q_idx] = std::min(fastest[m_idx][q_idx], us);
                    if (pass > 0) {
                        continue;
                    }
                    const auto hits = IdsOf(*answer);
                    for (const std::uint32_t row : hits) {
                        if (row >= n_ || !FilterMatches(filter.where, meta_[row])) {
                            ++result.filter_violations;
                        }
                    }
                    const std::size_t gt_row = f_idx * filter_queries_ + q_idx;
                    std::vector<std::uint32_t> ids;
                    std::vector<double> dists;
                    for (std::size_t rank = 0; rank < kK; ++rank) {
                        const std::int32_t id = filtered_gt_.Row(gt_row)[rank];
                        if (id >= 0) {
                            ids.push_back(static_cast<std::uint32_t>(id));
                            dists.push_back(filtered_gt_dist_.Row(gt_row)[rank]);
                        }
                    }
                    const Score one =
                        ScoreHits(hits, ids, dists, static_cast<std::uint32_t>(q_idx));
                    result.recall += one.recall;
                    result.tie_recall += one.tie_recall;
                }
            }
        }
        for (std::size_t m_idx = 0; m_idx < modes.size(); ++m_idx) {
            ModeResult& result = results[m_idx];
            result.mode = modes[m_idx];
            const auto count = static_cast<double>(num_queries);
            result.recall /= count;
            result.tie_recall /= count;
            std::vector<double> latencies;
            for (const double us : fastest[m_idx]) {
                if (std::isfinite(us)) {
                    latencies.push_back(us);
                }
            }
            result.mean_us =
                latencies.empty() ? std::numeric_limits<double>::infinity() : Mean(latencies);
            result.p50_us = Percentile(latencies, 0.5);
        }
        return results;
    }

    void Strategies() {
        const std::size_t num_queries = std::min(args_.strategy_queries, filter_queries_);
        std::vector<std::string> vectors;
        for (std::size_t q_idx = 0; q_idx < num_queries; ++q_idx) {
            vectors.push_back(VectorLiteral(queries_.Row(q_idx)));
        }
        std::size_t over_target = 0;
        for (std::size_t f_idx = 0; f_idx < filters_.size(); ++f_idx) {
            const FilterCase& filter = filters_[f_idx];
            const auto text_for = [&](std::size_t q_idx, const std::string& mode) {
                std::string text = "SELECT id FROM kit WHERE " + filter.sql + " ORDER BY vector " +
                                   DistanceOp() + " " + vectors[q_idx] + " LIMIT " +
                                   std::to_string(kK);
                if (mode != "auto") {
                    text += " WITH (strategy = '" + mode + "')";
                }
                return text;
            };
            // The planner's pick: the plan's access-path line (FilterFirst/VectorFirst [..]).
            std::string chosen_line;
            std::string chosen = "?";
            std::string ran;
            if (auto explain = Run("EXPLAIN " + text_for(0, "auto"), "strategies EXPLAIN")) {
                for (const std::string& line : PlanLines(*explain)) {
                    if (line.find("FilterFirst") != std::string::npos ||
                        line.find("VectorFirst") != std::string::npos) {
                        chosen_line = line;
                        const auto open = line.find('[');
                        const auto close = line.find(']', open);
                        if (open != std::string::npos && close != std::string::npos) {
                            chosen = line.substr(open + 1, close - open - 1);
                        }
                        break;
                    }
                }
            }
            if (auto analyze =
                    Run("EXPLAIN ANALYZE " + text_for(0, "auto"), "strategies EXPLAIN ANALYZE")) {
                for (const std::string& line : PlanLines(*analyze)) {
                    if (const auto at = line.find("ran: "); at != std::string::npos) {
                        ran = line.substr(at + 5);
                        break;
                    }
                }
            }
            const std::vector<std::string> modes = {"auto", "exact_scan", "in_graph",
                                                    "post_filter"};
            std::vector<std::vector<std::string>> texts(modes.size());
            for (std::size_t m_idx = 0; m_idx < modes.size(); ++m_idx) {
                for (std::size_t q_idx = 0; q_idx < num_queries; ++q_idx) {
                    texts[m_idx].push_back(text_for(q_idx, modes[m_idx]));
                }
            }
            const std::vector<ModeResult> results = RunModes(filter, f_idx, modes, texts);
            for (const ModeResult& result : results) {
                if (result.filter_violations > 0) {
                    Fault("strategies " + filter.name + " " + result.mode + ": " +
                          std::to_string(result.filter_violations) +
                          " hits do not match the filter");
                }
                if (result.mode == "exact_scan" && result.errors == 0 &&
                    result.tie_recall < kExactRecallFloor) {
                    Fault("strategies " + filter.name + " exact_scan: recall " +
                          Fixed(result.tie_recall, 4) + " (exact search must find the top 10)");
                }
            }
            const ModeResult& automatic = results.front();
            const ModeResult* best = nullptr;
            for (std::size_t idx = 1; idx < results.size(); ++idx) {
                const ModeResult& forced = results[idx];
                if (forced.errors > 0 || forced.tie_recall < automatic.tie_recall - kRecallSlack) {
                    continue;
                }
                if (best == nullptr || forced.mean_us < best->mean_us) {
                    best = &forced;
                }
            }
            const double ratio =
                best == nullptr || automatic.errors > 0 ? 0.0 : automatic.mean_us / best->mean_us;
            const bool met = best == nullptr || ratio <= kTargetStrategyRatio;
            over_target += met ? 0U : 1U;
            Json by_mode = Json::object();
            for (const ModeResult& result : results) {
                Json item;
                item["mean_us"] = Round(result.mean_us, 1);
                item["p50_us"] = Round(result.p50_us, 1);
                item["qps"] =
                    Round(std::isfinite(result.mean_us) && result.mean_us > 0 ? 1e6 / result.mean_us
                                                                              : 0.0,
                          1);
                item["recall"] = Round(result.recall, 4);
                item["recall_tie_tolerant"] = Round(result.tie_recall, 4);
                item["errors"] = result.errors;
                by_mode[result.mode] = std::move(item);
            }
            Head("strategies")
                .Set("filter", filter.name)
                .Set("sql", filter.sql)
                .Set("n_match", filter.n_match)
                .Set("selectivity", filter.selectivity)
                .Set("queries", num_queries)
                .Set("passes", args_.passes)
                .Set("note",
                     "latency per query: the fastest of the passes; each pass runs the "
                     "modes one after the other over all queries, in an order that "
                     "rotates with the pass; recall from the first pass")
                .Set("planner_choice", chosen)
                .Set("plan_line", chosen_line)
                .Set("ran", ran)
                .Set("modes", by_mode)
                .Set("best_forced", best == nullptr ? "" : best->mode)
                .Set("ratio_auto_to_best", Round(ratio, 3))
                .Set("target_ratio", kTargetStrategyRatio)
                .Set("target_met", met)
                .Emit();
            kConsole.Log("strategies " + filter.name + ": auto (" + chosen + ") " +
                         Fixed(automatic.mean_us, 1) + " us recall " +
                         Fixed(automatic.tie_recall, 3) + "; exact_scan " +
                         Fixed(results[1].mean_us, 1) + " us " + Fixed(results[1].tie_recall, 3) +
                         "; in_graph " + Fixed(results[2].mean_us, 1) + " us " +
                         Fixed(results[2].tie_recall, 3) + "; post_filter " +
                         Fixed(results[3].mean_us, 1) + " us " + Fixed(results[3].tie_recall, 3) +
                         "; ratio " + Fixed(ratio, 2));
        }
        Head("strategies_summary")
            .Set("filters", filters_.size())
            .Set("over_target_ratio", over_target)
            .Set("target_ratio", kTargetStrategyRatio)
            .Emit();
    }

    // ---- phase 5: full scans

    struct ScanQuery {
        std::string name;
        std::string text;
        // The answer's check: empty when right, else what is wrong.
        std::function<std::string(const phenix::QueryResult&)> check;
    };

    // The kit's reference answers for the scan statements (from meta.jsonl).
    std::vector<ScanQuery> ScanQueries() const {
        std::uint64_t cheap = 0;
        std::vector<double> prices;
        std::map<std::int64_t, std::uint64_t> per_year;
        prices.reserve(n_);
        for (const Json& meta : meta_) {
            const double price = meta.at("price").get<double>();
            cheap += price < kScanPriceBelow ? 1U : 0U;
            prices.push_back(price);
            ++per_year[meta.at("year").get<std::int64_t>()];
        }
        const std::size_t top = std::min(kK, prices.size());
        std::partial_sort(prices.begin(), prices.begin() + static_cast<std::ptrdiff_t>(top),
                          prices.end(), std::greater<>());
        prices.resize(top);
        std::vector<ScanQuery> queries;
        queries.push_back(
            {.name = "count_price_below",
             .text = "SELECT count(*) FROM kit WHERE metadata.price < " + Fixed(kScanPriceBelow, 0),
             .check = [cheap](const phenix::QueryResult& result) -> std::string {
                 if (result.rows.size() != 1 || result.rows[0].empty() ||
                     result.rows[0][0].int_value != static_cast<std::int64_t>(cheap)) {
                     return "expected count " + std::to_string(cheap);
                 }
                 return "";
             }});
        queries.push_back(
            {.name = "order_by_price_limit",
             .text = "SELECT id, metadata.price FROM kit ORDER BY metadata.price DESC LIMIT " +
                     std::to_string(kK),
             .check = [prices](const phenix::QueryResult& result) -> std::string {
                 if (result.rows.size() != prices.size()) {
                     return "expected " + std::to_string(prices.size()) + " rows";
                 }
                 for (std::size_t idx = 0; idx < prices.size(); ++idx) {
                     const auto& row = result.rows[idx];
                     if (row.size() < 2 ||
                         std::abs(row[1].float_value - prices[idx]) > kTieTolerance) {
                         return "row " + std::to_string(idx) + ": expected price " +
                                Fixed(prices[idx], 2);
                     }
                 }
                 return "";
             }});
        queries.push_back(
            {.name = "group_by_year",
             .text = "SELECT metadata.year, count(*) FROM kit GROUP BY metadata.year "
                     "ORDER BY count(*) DESC LIMIT 3",
             .check = [per_year](const phenix::QueryResult& result) -> std::string {
                 std::vector<std::uint64_t> counts;
                 for (const auto& [year, count] : per_year) {
                     counts.push_back(count);
                 }
                 std::sort(counts.begin(), counts.end(), std::greater<>());
                 counts.resize(std::min<std::size_t>(3, counts.size()));
                 if (result.rows.size() != counts.size()) {
                     return "expected " + std::to_string(counts.size()) + " groups";
                 }
                 for (std::size_t idx = 0; idx < counts.size(); ++idx) {
                     const auto& row = result.rows[idx];
                     const auto found =
                         row.size() < 2 ? per_year.end() : per_year.find(row[0].int_value);
                     if (found == per_year.end() ||
                         row[1].int_value != static_cast<std::int64_t>(found->second) ||
                         found->second != counts[idx]) {
                         return "group " + std::to_string(idx) + ": expected count " +
                                std::to_string(counts[idx]);
                     }
                 }
                 return "";
             }});
        return queries;
    }

    // The scan statements with the indexes on their fields dropped, so that every one reads
    // every record; the indexes are created again afterwards.
    void Scans() {
        for (const char* field : kScanUnindexed) {
            const phenix::Status dropped = db_->DropIndex(kCollection, field);
            if (!dropped.ok() && dropped.code() != phenix::StatusCode::kNotFound) {
                kConsole.Check(dropped, std::string("DropIndex ") + field);
            }
        }
        for (const ScanQuery& query : ScanQueries()) {
            std::vector<double> wall_ms;
            std::vector<double> cpu_ms;
            std::string wrong;
            for (std::size_t run = 0; run < kScanRuns; ++run) {
                const double cpu_start = CpuSeconds();
                const auto start = Clock::now();
                auto result = Run(query.text, "scan " + query.name);
                wall_ms.push_back(Seconds(start) * 1e3);
                cpu_ms.push_back((CpuSeconds() - cpu_start) * 1e3);
                if (!result) {
                    break;
                }
                if (run == 0) {
                    wrong = query.check(*result);
                    if (!wrong.empty()) {
                        wrong += ", got:";
                        for (const auto& row : result->rows) {
                            for (const auto& value : row) {
                                wrong += " " + value.ToText();
                            }
                            wrong += ";";
                        }
                    }
                }
            }
            if (!wrong.empty()) {
                Fault("scan " + query.name + ": " + wrong);
            }
            const double best_ms = *std::min_element(wall_ms.begin(), wall_ms.end());
            const double best_cpu_ms = *std::min_element(cpu_ms.begin(), cpu_ms.end());
            const double rows = static_cast<double>(std::max<std::size_t>(1, n_));
            Head("scan")
                .Set("query", query.name)
                .Set("sql", query.text)
                .Set("rows", n_)
                .Set("runs", wall_ms.size())
                .Set("wall_ms", RoundAll(wall_ms, 2))
                .Set("cpu_ms", RoundAll(cpu_ms, 2))
                .Set("best_wall_ms", Round(best_ms, 2))
                .Set("best_cpu_ms", Round(best_cpu_ms, 2))
                .Set("wall_us_per_row", Round(best_ms * 1e3 / rows, 3))
                .Set("cpu_us_per_row", Round(best_cpu_ms * 1e3 / rows, 3))
                .Set("checked", wrong.empty())
                .Set("load_average_1m", LoadAverage())
                .Emit();
            kConsole.Log("scan " + query.name + ": best " + Fixed(best_ms, 1) + " ms wall, " +
                         Fixed(best_cpu_ms, 1) + " ms CPU (" + Fixed(best_ms * 1e3 / rows, 2) +
                         " us per row)");
        }
        CreateIndexes();
        kConsole.Check(db_->AnalyzeIndexes(kCollection), "AnalyzeIndexes");
    }

    Args args_;
    Clock::time_point start_ = Clock::now();
    std::string set_name_;
    std::size_t n_ = 0;
    kit::Matrix<float> base_;
    kit::Matrix<float> queries_;
    std::vector<std::string> meta_text_;
    std::vector<Json> meta_;
    kit::EdgeList edges_;
    kit::Csr out_;
    std::vector<FilterCase> filters_;
    std::size_t filter_queries_ = 0;
    kit::Matrix<std::int32_t> filtered_gt_;
    kit::Matrix<float> filtered_gt_dist_;
    std::vector<HybridCase> hybrid_;
    std::unique_ptr<phenix::Database> db_;
    std::unique_ptr<phenix::QuerySession> session_;
    std::size_t failures_ = 0;
    std::size_t statement_errors_ = 0;
    std::set<std::string> reported_errors_;
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
