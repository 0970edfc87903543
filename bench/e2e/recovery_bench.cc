// SPDX-License-Identifier: Apache-2.0
//
// Recovery time after a crash, on a store loaded from the benchmark data kit
// (../shared/bench/README.md): a child process loads base.fvecs + meta.jsonl (+ edges.tsv) with
// transactions of --batch entities, durably, then is killed with SIGKILL; the parent times
// Database::Open (write-ahead-log replay), Verify, and a clean reopen. Prints JSON lines.
//
//   phenix_recovery_bench --kit=DIR/medium --db=/tmp/recovery-db [--limit=N] [--batch=1000]
//                         [--edges=1]
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <phenix/db.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
    std::string kit;
    std::string db;
    std::size_t limit = 0;  // 0: all
    std::size_t batch = 1000;
    bool edges = true;
};

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "recovery_bench: %s\n", what.c_str());
    std::exit(1);
}

void Check(const phenix::Status& s, const std::string& what) {
    if (!s.ok()) {
        Die(what + ": " + s.ToString());
    }
}

double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

std::vector<std::vector<float>> ReadFvecs(const std::string& path, std::size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        Die("cannot open " + path);
    }
    std::vector<std::vector<float>> out;
    std::int32_t dim = 0;
    while (in.read(reinterpret_cast<char*>(&dim), sizeof dim)) {
        if (dim <= 0 || dim > 65536) {
            Die(path + ": bad dimension");
        }
        std::vector<float> v(static_cast<std::size_t>(dim));
        if (!in.read(reinterpret_cast<char*>(v.data()),
                     static_cast<std::streamsize>(v.size() * sizeof(float)))) {
            Die(path + ": truncated");
        }
        out.push_back(std::move(v));
        if (limit != 0 && out.size() == limit) {
            break;
        }
    }
    return out;
}

std::uint64_t BytesWithExtension(const std::string& dir, const std::string& ext) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ext) {
            total += entry.file_size();
        }
    }
    return total;
}

// The child: load, report, wait to be killed.
[[noreturn]] void LoadAndWait(const Args& args, int report_fd) {
    auto vectors = ReadFvecs(args.kit + "/base.fvecs", args.limit);
    const std::size_t n = vectors.size();
    std::vector<std::string> meta;
    meta.reserve(n);
    {
        std::ifstream in(args.kit + "/meta.jsonl");
        std::string line;
        while (meta.size() < n && std::getline(in, line)) {
            meta.push_back(line);
        }
        if (meta.size() < n) {
            Die("meta.jsonl has fewer lines than base.fvecs");
        }
    }
    std::map<std::size_t, std::vector<phenix::Edge>> edges;
    std::size_t num_edges = 0;
    if (args.edges) {
        std::ifstream in(args.kit + "/edges.tsv");
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::size_t src = 0;
            std::size_t dst = 0;
            int rel = 0;
            double weight = 1.0;
            if (!(fields >> src >> dst >> rel >> weight)) {
                continue;
            }
            if (src >= n || dst >= n) {
                continue;
            }
            edges[src].push_back(phenix::Edge{.label = rel == 1 ? "topic" : "global",
                                              .target_id = std::to_string(dst),
                                              .weight = weight});
            ++num_edges;
        }
    }

    auto db = phenix::Database::Open(args.db);
    if (!db.ok()) {
        Die("open: " + db.status().ToString());
    }
    Check((*db)->CreateCollection({.ref = "items",
                                   .dimension = static_cast<std::uint32_t>(vectors[0].size()),
                                   .metric = phenix::Metric::kL2}),
          "create collection");
    auto load = [&](bool with_edges) {
        const auto start = Clock::now();
        std::size_t next_report = n / 10;
        for (std::size_t first = 0; first < n; first += args.batch) {
            auto txn = (*db)->BeginTransaction();
            if (!txn.ok()) {
                Die("begin: " + txn.status().ToString());
            }
            for (std::size_t idx = first; idx < std::min(n, first + args.batch); ++idx) {
                phenix::Entity e{
                    .id = std::to_string(idx), .vector = vectors[idx], .metadata = meta[idx]};
                if (with_edges) {
                    auto it = edges.find(idx);
                    if (it != edges.end()) {
                        e.edges = it->second;
                    }
                }
                Check((*txn)->Upsert("items", e), "upsert " + e.id);
            }
            auto committed = (*txn)->Commit();
            if (!committed.ok()) {
                Die("commit: " + committed.status().ToString());
            }
            if (first + args.batch >= next_report) {
                std::fprintf(stderr, "  %s: %zu / %zu entities\n", with_edges ? "edges" : "load",
                             std::min(n, first + args.batch), n);
                next_report += n / 10;
            }
        }
        return Seconds(start);
    };
    const double load_s = load(false);
    const double edges_s = args.edges ? load(true) : 0.0;
    const std::string db_dir = args.db + "/db";
    std::ostringstream report;
    report << R"({"phase":"load","entities":)" << n << R"(,"edges":)" << num_edges
           << R"(,"load_seconds":)" << load_s << R"(,"entities_per_second":)"
           << static_cast<double>(n) / load_s << R"(,"edge_upsert_seconds":)" << edges_s
           << R"(,"wal_bytes_at_kill":)" << BytesWithExtension(db_dir, ".log")
           << R"(,"sst_bytes_at_kill":)" << BytesWithExtension(db_dir, ".sst") << "}\n";
    const std::string text = report.str();
    if (::write(report_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        Die("report pipe");
    }
    ::close(report_fd);
    for (;;) {
        ::pause();
    }
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    for (int idx = 1; idx < argc; ++idx) {
        std::string arg = argv[idx];
        auto value = [&](const char* prefix) -> const char* {
            const std::size_t len = std::strlen(prefix);
            return arg.compare(0, len, prefix) == 0 ? argv[idx] + len : nullptr;
        };
        if (const char* v1 = value("--kit=")) {
            args.kit = v1;
        } else if (const char* v2 = value("--db=")) {
            args.db = v2;
        } else if (const char* v3 = value("--limit=")) {
            args.limit = std::strtoull(v3, nullptr, 10);
        } else if (const char* v4 = value("--batch=")) {
            args.batch = std::max<std::size_t>(1, std::strtoull(v4, nullptr, 10));
        } else if (const char* v5 = value("--edges=")) {
            args.edges = std::strcmp(v5, "0") != 0;
        } else {
            Die("unknown argument " + arg +
                "\nusage: phenix_recovery_bench --kit=DIR --db=PATH [--limit=N] [--batch=N] "
                "[--edges=0|1]");
        }
    }
    if (args.kit.empty() || args.db.empty()) {
        Die("--kit and --db are required");
    }
    std::error_code ec;
    fs::remove_all(args.db, ec);

    int fds[2];
    if (::pipe(fds) != 0) {
        Die("pipe");
    }
    const pid_t child = ::fork();
    if (child < 0) {
        Die("fork");
    }
    if (child == 0) {
        ::close(fds[0]);
        LoadAndWait(args, fds[1]);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    ssize_t got = 0;
    while ((got = ::read(fds[0], buf, sizeof buf)) > 0) {
        report.append(buf, static_cast<std::size_t>(got));
    }
    ::close(fds[0]);
    ::kill(child, SIGKILL);
    int wstatus = 0;
    ::waitpid(child, &wstatus, 0);
    if (report.empty()) {
        Die("the loader died before reporting");
    }
    std::fputs(report.c_str(), stdout);

    auto start = Clock::now();
    auto db = phenix::Database::Open(args.db);
    if (!db.ok()) {
        Die("reopen after kill: " + db.status().ToString());
    }
    const double crash_open_s = Seconds(start);
    start = Clock::now();
    Check((*db)->Verify(), "verify after crash");
    const double verify_s = Seconds(start);
    auto info = (*db)->GetCollection("items");
    if (!info.ok()) {
        Die(info.status().ToString());
    }
    Check((*db)->Close(), "close");
    db->reset();
    start = Clock::now();
    auto again = phenix::Database::Open(args.db);
    if (!again.ok()) {
        Die("clean reopen: " + again.status().ToString());
    }
    const double clean_open_s = Seconds(start);
    Check((*again)->Close(), "close");
    std::printf(R"({"phase":"recovery","entities":%llu,"open_after_kill_seconds":%.3f,)"
                R"("verify_seconds":%.3f,"clean_open_seconds":%.3f})"
                "\n",
                static_cast<unsigned long long>(info->num_entities), crash_open_s, verify_s,
                clean_open_s);
    return 0;
}
