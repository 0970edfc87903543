// SPDX-License-Identifier: Apache-2.0
//
// Bulk load with PhenixQL COPY ... FROM on the benchmark data kit (../shared/bench/README.md),
// public API only: converts a kit set (base.fvecs, meta.jsonl, edges.tsv) into a JSON-lines file
// of entities (phenix::EntityToJson; ids are the row numbers; edges carry label "topic" for
// rel 1 and "global" for rel 0, about half of them pointing at later lines) unless that file
// exists, then runs `COPY docs FROM 'file'` through a QuerySession into a fresh database and
// waits until the engine's builder thread has put every vector into the HNSW graph
// (GetVectorIndexInfo().unindexed_rows == 0). Reports entities/s when COPY returns and when the
// index is complete, then recall@k of a few queries (a sanity check of the built index).
// bench/compare_copy.py runs it next to hnswlib's build of the same index.
//
// One JSON object per line on stdout: {"lib":"phenix-copy","phase":"context"|"convert"|"copy"|
// "indexed"|"recall",...}; progress on stderr.
//
//   phenix_copy_bench --data=DIR/medium --db=/tmp/copy-db [--jsonl=FILE] [--metric=l2|cos]
//                     [--no-edges] [--no-meta] [--no-vectors] [--limit=N] [--queries=200]
//                     [--ef=64] [--k=10] [--relaxed] [--no-reopen]
//
// --no-vectors loads the entities without their vectors (the graph and metadata alone: COPY's
// own cost without the index builder beside it). --relaxed opens with Durability::kRelaxed.
// After the load the bench closes the database and opens it again (phase "reopen": the close,
// and the first open after the load, which replays whatever write-ahead log the close left)
// unless --no-reopen.
//
// --db is deleted first. --jsonl defaults to /tmp/phenix-copy-bench/SET[...].jsonl (kept, so
// later runs skip the conversion).
// Exit status: 0 fine; 1 a check failed or an engine call failed; 2 bad arguments or a missing
// or malformed data file.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <phenix/db.h>
#include <phenix/json.h>
#include <phenix/phenixql.h>
#include <phenix/search.h>

#include "bench_args.h"
#include "bench_output.h"
#include "kit_files.h"
#include "process_stats.h"

namespace {

namespace fs = std::filesystem;
using phenix::bench_output::Clock;
using phenix::bench_output::kExitBadInput;
using phenix::bench_output::kExitCheckFailed;
using phenix::bench_output::Seconds;

constexpr phenix::bench_output::Console kConsole("copy_bench");
constexpr int kJsonPrecision = 10;  // significant digits of the numbers in the JSON lines
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr const char* kCollection = "docs";

struct Args {
    std::string data;
    std::string db;
    std::string jsonl;
    std::string metric = "l2";
    bool with_edges = true;
    bool with_meta = true;
    bool with_vectors = true;
    bool reopen = true;
    bool relaxed = false;
    std::size_t limit = 0;  // 0: every base vector
    std::size_t queries = 200;
    std::uint32_t ef = 64;
    std::size_t k = 10;
};

// A JSON output line: {"lib":"phenix-copy",...}.
phenix::bench_output::FlatLine Line() {
    phenix::bench_output::FlatLine line(kJsonPrecision);
    line.Str("lib", "phenix-copy");
    return line;
}

template <typename T>
T ParseNumber(std::string_view flag, std::string_view text) {
    flag.remove_prefix(2);  // "--"
    return phenix::bench_args::ParseNumber<T>(kConsole, flag, text);
}

Args ParseArgs(int argc, char** argv) {
    Args args;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string_view arg = argv[idx];
        const auto eq = arg.find('=');
        const std::string_view flag = arg.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
        if (flag == "--data") {
            args.data = value;
        } else if (flag == "--db") {
            args.db = value;
        } else if (flag == "--jsonl") {
            args.jsonl = value;
        } else if (flag == "--metric") {
            args.metric = value;
        } else if (flag == "--no-edges") {
            args.with_edges = false;
        } else if (flag == "--no-meta") {
            args.with_meta = false;
        } else if (flag == "--no-vectors") {
            args.with_vectors = false;
        } else if (flag == "--no-reopen") {
            args.reopen = false;
        } else if (flag == "--relaxed") {
            args.relaxed = true;
        } else if (flag == "--limit") {
            args.limit = ParseNumber<std::size_t>(flag, value);
        } else if (flag == "--queries") {
            args.queries = ParseNumber<std::size_t>(flag, value);
        } else if (flag == "--ef") {
            args.ef = ParseNumber<std::uint32_t>(flag, value);
        } else if (flag == "--k") {
            args.k = ParseNumber<std::size_t>(flag, value);
        } else {
            kConsole.Fail(kExitBadInput, "unknown argument '" + std::string(arg) + "'");
        }
    }
    if (args.data.empty() || args.db.empty()) {
        kConsole.Fail(kExitBadInput, "--data and --db are required");
    }
    if (args.metric != "l2" && args.metric != "cos") {
        kConsole.Fail(kExitBadInput, "--metric must be l2 or cos");
    }
    if (args.jsonl.empty()) {
        const std::string set_name = fs::path(args.data).filename().string();
        args.jsonl = "/tmp/phenix-copy-bench/" + set_name + (args.with_edges ? "" : "-noedges") +
                     (args.with_meta ? "" : "-nometa") + (args.with_vectors ? "" : "-novectors") +
                     (args.limit > 0 ? "-" + std::to_string(args.limit) : "") + ".jsonl";
    }
    return args;
}

// Writes the kit set as entity JSON lines (to a temporary name, renamed when complete).
void Convert(const Args& args, const phenix::bench_kit::Matrix<float>& base) {
    const std::size_t num_rows = base.rows;
    std::vector<std::string> meta;
    if (args.with_meta) {
        meta = phenix::bench_kit::ReadLines(args.data + "/meta.jsonl", num_rows);
        if (meta.size() != num_rows) {
            kConsole.Fail(kExitBadInput, "meta.jsonl has fewer lines than base.fvecs");
        }
    }
    phenix::bench_kit::EdgeList edges;
    if (args.with_edges) {
        edges = phenix::bench_kit::ReadEdges(args.data + "/edges.tsv");
    }
    const std::string tmp = args.jsonl + ".tmp";
    fs::create_directories(fs::path(args.jsonl).parent_path());
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
        kConsole.Fail(kExitBadInput, "cannot write " + tmp);
    }
    std::size_t edge_idx = 0;
    std::uint64_t num_edges = 0;
    std::uint64_t num_forward = 0;
    phenix::Entity entity;
    for (std::size_t row = 0; row < num_rows; ++row) {
        entity.id = std::to_string(row);
        if (args.with_vectors) {
            const auto vector = base.Row(row);
            entity.vector.assign(vector.begin(), vector.end());
        }
        entity.metadata = args.with_meta ? meta[row] : "{}";
        entity.edges.clear();
        while (edge_idx < edges.size() && edges.src[edge_idx] < row) {
            ++edge_idx;
        }
        for (; edge_idx < edges.size() && edges.src[edge_idx] == row; ++edge_idx) {
            if (edges.dst[edge_idx] >= num_rows) {
                continue;  // --limit cut the target off
            }
            entity.edges.push_back({.label = edges.rel[edge_idx] == 1 ? "topic" : "global",
                                    .target_id = std::to_string(edges.dst[edge_idx]),
                                    .weight = edges.weight[edge_idx]});
            ++num_edges;
            num_forward += edges.dst[edge_idx] > row ? 1U : 0U;
        }
        out << phenix::EntityToJson(entity) << '\n';
    }
    out.close();
    if (!out) {
        kConsole.Fail(kExitBadInput, "cannot write " + tmp);
    }
    fs::rename(tmp, args.jsonl);
    Line()
        .Str("phase", "convert")
        .Str("file", args.jsonl)
        .Int("entities", num_rows)
        .Int("edges", num_edges)
        .Int("forward_edges", num_forward)
        .Int("bytes", fs::file_size(args.jsonl))
        .Emit();
}

// What COPY's final progress line says about the edges: "...; N edges (M to later lines,
// written at the end in S s)" (zeros when it does not say).
struct LateEdges {
    std::uint64_t edges = 0;
    std::uint64_t late_edges = 0;
    double seconds = 0;
};

LateEdges ParseLateEdges(const std::string& line) {
    LateEdges out;
    const auto semicolon = line.rfind("; ");
    if (semicolon == std::string::npos) {
        return out;
    }
    unsigned long long edges = 0;
    unsigned long long late = 0;
    double seconds = 0;
    const char* text = line.c_str() + semicolon + 2;
    const int num_read =
        std::sscanf(text, "%llu edges (%llu to later lines, written at the end in %lf s)", &edges,
                    &late, &seconds);
    out.edges = num_read >= 1 ? edges : 0;
    if (num_read == 3) {
        out.late_edges = late;
        out.seconds = seconds;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = ParseArgs(argc, argv);
    phenix::bench_kit::Matrix<float> base;
    try {
        base = phenix::bench_kit::ReadVecs<float>(args.data + "/base.fvecs");
        if (args.limit > 0 && args.limit < base.rows) {
            base.rows = args.limit;
            base.values.resize(base.rows * base.dim);
        }
        if (!fs::exists(args.jsonl)) {
            const auto start = Clock::now();
            Convert(args, base);
            kConsole.Log("converted the kit to " + args.jsonl + " in " +
                         std::to_string(Seconds(start)) + " s");
        }
    } catch (const std::exception& e) {
        kConsole.Fail(kExitBadInput, e.what());
    }
    const std::size_t num_rows = base.rows;
    const unsigned threads = std::thread::hardware_concurrency();
    Line()
        .Str("phase", "context")
        .Str("date", phenix::bench_process::UtcNow())
        .Str("cpu", phenix::bench_process::CpuModel())
        .Int("threads", threads)
        .Str("data", args.data)
        .Str("file", args.jsonl)
        .Int("file_bytes", fs::file_size(args.jsonl))
        .Int("n", num_rows)
        .Int("dim", base.dim)
        .Str("metric", args.metric)
        .Str("durability", args.relaxed ? "relaxed" : "sync")
        .Emit();

    std::error_code ec;
    fs::remove_all(args.db, ec);
    phenix::Options options;
    options.durability = args.relaxed ? phenix::Durability::kRelaxed : phenix::Durability::kSync;
    auto opened = phenix::Database::Open(args.db, options);
    if (!opened.ok()) {
        kConsole.Fail(kExitCheckFailed, "open: " + opened.status().ToString());
    }
    std::unique_ptr<phenix::Database> db = std::move(opened).value();
    kConsole.Check(db->CreateCollection({.ref = kCollection,
                                         .dimension = static_cast<std::uint32_t>(base.dim),
                                         .metric = args.metric == "l2" ? phenix::Metric::kL2
                                                                       : phenix::Metric::kCosine}),
                   "create collection");
    auto index_info = db->GetVectorIndexInfo(kCollection);
    if (!index_info.ok()) {
        kConsole.Fail(kExitCheckFailed, "index info: " + index_info.status().ToString());
    }

    phenix::QuerySession session(*db);
    const auto start = Clock::now();
    double late_edges_announced = 0;  // seconds after start when COPY began the late edges
    double late_edges_cpu = 0;        // process CPU seconds then
    std::string final_progress;
    session.set_progress([&](std::string_view line) {
        std::fprintf(stderr, "copy_bench: %.*s\n", static_cast<int>(line.size()), line.data());
        if (line.find("entities that point at later lines") != std::string_view::npos) {
            late_edges_announced = Seconds(start);
            late_edges_cpu = phenix::bench_process::CpuSeconds();
        }
        final_progress = line;
    });
    const double cpu_before = phenix::bench_process::CpuSeconds();
    auto copied =
        session.Execute("COPY " + std::string(kCollection) + " FROM '" + args.jsonl + "'");
    const double copy_seconds = Seconds(start);
    const double copy_cpu_seconds = phenix::bench_process::CpuSeconds() - cpu_before;
    if (!copied.ok()) {
        kConsole.Fail(kExitCheckFailed, "COPY: " + copied.status().ToString());
    }
    if (copied->affected != num_rows) {
        kConsole.Fail(kExitCheckFailed, "COPY loaded " + std::to_string(copied->affected) + " of " +
                                            std::to_string(num_rows));
    }
    // The final progress line: "...; N edges (M to later lines, written at the end in S s)".
    const LateEdges late = ParseLateEdges(final_progress);
    auto info = db->GetVectorIndexInfo(kCollection);
    auto copy_line = Line();
    copy_line.Str("phase", "copy")
        .Str("message", copied->message)
        .Num("seconds", copy_seconds)
        .Num("cpu_seconds", copy_cpu_seconds)
        .Num("entities_per_s", static_cast<double>(num_rows) / copy_seconds)
        .Int("edges", late.edges)
        .Int("late_edges", late.late_edges)
        .Num("late_edge_seconds", late.seconds)
        .Num("late_edges_per_s",
             late.seconds > 0 ? static_cast<double>(late.late_edges) / late.seconds : 0.0)
        .Num("before_late_edges_seconds", late_edges_announced)
        .Num("before_late_edges_cpu_seconds",
             late_edges_cpu > 0 ? late_edges_cpu - cpu_before : 0.0)
        .Int("unindexed_rows", info.ok() ? info->unindexed_rows : 0)
        .Int("rss_bytes", phenix::bench_process::RssBytes())
        .Num("load_average", phenix::bench_process::LoadAverage())
        .Emit();

    for (;;) {
        info = db->GetVectorIndexInfo(kCollection);
        if (!info.ok()) {
            kConsole.Fail(kExitCheckFailed, "index info: " + info.status().ToString());
        }
        if (info->unindexed_rows == 0) {
            break;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    const double indexed_seconds = Seconds(start);
    const std::size_t expected_nodes = args.with_vectors ? num_rows : 0;
    if (info->live_nodes != expected_nodes) {
        kConsole.Fail(kExitCheckFailed, "the index has " + std::to_string(info->live_nodes) +
                                            " live nodes, expected " +
                                            std::to_string(expected_nodes));
    }
    Line()
        .Str("phase", "indexed")
        .Num("seconds", indexed_seconds)
        .Num("cpu_seconds", phenix::bench_process::CpuSeconds() - cpu_before)
        .Num("entities_per_s", static_cast<double>(num_rows) / indexed_seconds)
        .Int("m", info->m)
        .Int("ef_construction", info->ef_construction)
        .Int("live_nodes", info->live_nodes)
        .Int("peak_rss_bytes", phenix::bench_process::PeakRssBytes())
        .Emit();

    // Sanity check of the index the load built (only when every base row was loaded).
    if (args.limit == 0 && args.queries > 0 && args.with_vectors) {
        try {
            const auto queries = phenix::bench_kit::ReadVecs<float>(args.data + "/query.fvecs");
            const auto truth = phenix::bench_kit::ReadVecs<std::int32_t>(
                args.data + (args.metric == "l2" ? "/gt_l2.ivecs" : "/gt_cos.ivecs"));
            const std::size_t num_queries = std::min(args.queries, queries.rows);
            double hits = 0;
            for (std::size_t q = 0; q < num_queries; ++q) {
                auto found = db->Search(kCollection, queries.Row(q), {.k = args.k, .ef = args.ef});
                if (!found.ok()) {
                    kConsole.Fail(kExitCheckFailed, "search: " + found.status().ToString());
                }
                std::unordered_set<std::string> want;
                const auto row = truth.Row(q);
                for (std::size_t idx = 0; idx < args.k && idx < row.size(); ++idx) {
                    want.insert(std::to_string(row[idx]));
                }
                for (const auto& hit : found->hits) {
                    hits += want.contains(hit.id) ? 1.0 : 0.0;
                }
            }
            Line()
                .Str("phase", "recall")
                .Int("queries", num_queries)
                .Int("ef", args.ef)
                .Int("k", args.k)
                .Num("recall", hits / static_cast<double>(num_queries * args.k))
                .Emit();
        } catch (const std::exception& e) {
            kConsole.Fail(kExitBadInput, e.what());
        }
    }
    // Close, then open again: how long the first open after the load takes (a WAL the close
    // left unflushed is replayed here).
    auto close_start = Clock::now();
    kConsole.Check(db->Close(), "close");
    const double close_seconds = Seconds(close_start);
    db.reset();
    if (args.reopen) {
        const auto open_start = Clock::now();
        auto reopened = phenix::Database::Open(args.db, options);
        const double open_seconds = Seconds(open_start);
        if (!reopened.ok()) {
            kConsole.Fail(kExitCheckFailed, "reopen: " + reopened.status().ToString());
        }
        auto count = (*reopened)->GetCollection(kCollection);
        if (!count.ok() || count->num_entities != num_rows) {
            kConsole.Fail(kExitCheckFailed, "after reopening, the collection does not hold " +
                                                std::to_string(num_rows) + " entities");
        }
        close_start = Clock::now();
        kConsole.Check((*reopened)->Close(), "close after reopening");
        Line()
            .Str("phase", "reopen")
            .Num("close_seconds", close_seconds)
            .Num("open_seconds", open_seconds)
            .Num("second_close_seconds", Seconds(close_start))
            .Int("db_bytes", phenix::bench_process::DirectoryBytes(args.db))
            .Emit();
    }
    return 0;
}
