// SPDX-License-Identifier: Apache-2.0
//
// Disk space under an update-heavy workload: transactions keep overwriting the same entities
// (vector + metadata), so every commit adds versions. With garbage collection (history floor +
// compaction) the space must level off; with a huge retention window it keeps growing. Prints a
// JSON line per second and a summary.
//
//   phenix_mvcc_space_bench --db=PATH [--entities=20000] [--seconds=60] [--retention-ms=0]
//                           [--batch=100] [--check]
// --check: exit 1 unless, after a final Database::Compact, the data takes at most 3x the bytes of
// one version of every entity (CI runs a 2-second form of this).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <phenix/db.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "mvcc_space_bench: %s\n", what.c_str());
    std::exit(1);
}

std::uint64_t SstBytes(const std::string& db) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(db + "/db", ec)) {
        if (entry.path().extension() == ".sst") {
            total += entry.file_size();
        }
    }
    return total;
}

// Waits (up to 5 s) for RocksDB to delete the files a compaction made obsolete.
std::uint64_t SettledSstBytes(const std::string& db) {
    std::uint64_t bytes = SstBytes(db);
    for (int round = 0; round < 50; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const std::uint64_t now = SstBytes(db);
        if (now == bytes) {
            break;
        }
        bytes = now;
    }
    return bytes;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    std::size_t entities = 20000;
    double seconds = 60;
    std::uint64_t retention_ms = 0;
    std::size_t batch = 100;
    bool check_bound = false;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string arg = argv[idx];
        auto value = [&](const char* prefix) -> const char* {
            const std::size_t len = std::strlen(prefix);
            return arg.compare(0, len, prefix) == 0 ? argv[idx] + len : nullptr;
        };
        if (const char* v1 = value("--db=")) {
            path = v1;
        } else if (const char* v2 = value("--entities=")) {
            entities = std::strtoull(v2, nullptr, 10);
        } else if (const char* v3 = value("--seconds=")) {
            seconds = std::strtod(v3, nullptr);
        } else if (const char* v4 = value("--retention-ms=")) {
            retention_ms = std::strtoull(v4, nullptr, 10);
        } else if (const char* v5 = value("--batch=")) {
            batch = std::max<std::size_t>(1, std::strtoull(v5, nullptr, 10));
        } else if (arg == "--check") {
            check_bound = true;
        } else {
            Die("unknown argument " + arg);
        }
    }
    if (path.empty() || entities == 0) {
        Die("usage: phenix_mvcc_space_bench --db=PATH [--entities=N] [--seconds=S] "
            "[--retention-ms=MS] [--batch=N] [--check]");
    }
    std::error_code ec;
    fs::remove_all(path, ec);
    phenix::Options options;
    options.history_retention_ms = retention_ms;
    options.durability = phenix::Durability::kRelaxed;  // measures space, not fsync
    auto db = phenix::Database::Open(path, options);
    if (!db.ok()) {
        Die(db.status().ToString());
    }
    auto check = [](const phenix::Status& s) {
        if (!s.ok()) {
            Die(s.ToString());
        }
    };
    check((*db)->CreateCollection({.ref = "items", .dimension = 32}));
    std::mt19937_64 rng(42);
    auto entity = [&](std::size_t id, std::uint64_t version) {
        phenix::Entity e{.id = "e" + std::to_string(id)};
        e.vector.resize(32);
        for (float& x : e.vector) {
            x = static_cast<float>(rng() % 1000) / 1000.0f;
        }
        e.metadata = R"({"version":)" + std::to_string(version) + R"(,"text":")" +
                     std::string(100 + rng() % 100, 'a' + static_cast<char>(rng() % 26)) + "\"}";
        return e;
    };
    auto commit_batch = [&](std::size_t first, std::size_t count, std::uint64_t version,
                            bool random_ids) {
        auto txn = (*db)->BeginTransaction();
        if (!txn.ok()) {
            Die(txn.status().ToString());
        }
        for (std::size_t idx = 0; idx < count; ++idx) {
            const std::size_t id = random_ids ? rng() % entities : first + idx;
            check((*txn)->Upsert("items", entity(id, version)));
        }
        auto committed = (*txn)->Commit();
        if (!committed.ok()) {
            Die(committed.status().ToString());
        }
    };
    for (std::size_t first = 0; first < entities; first += batch) {
        commit_batch(first, std::min(batch, entities - first), 0, false);
    }
    check((*db)->Compact());
    const std::uint64_t one_version = SettledSstBytes(path);
    std::printf(R"({"phase":"loaded","entities":%zu,"sst_bytes":%llu,"retention_ms":%llu})"
                "\n",
                entities, static_cast<unsigned long long>(one_version),
                static_cast<unsigned long long>(retention_ms));

    const auto start = Clock::now();
    auto next_sample = start + std::chrono::seconds(1);
    std::uint64_t updates = 0;
    std::uint64_t peak = 0;
    std::uint64_t version = 1;
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        commit_batch(0, batch, version++, true);
        updates += batch;
        if (Clock::now() >= next_sample) {
            const std::uint64_t bytes = SstBytes(path);
            peak = std::max(peak, bytes);
            std::printf(R"({"t":%.1f,"updates":%llu,"sst_bytes":%llu})"
                        "\n",
                        std::chrono::duration<double>(Clock::now() - start).count(),
                        static_cast<unsigned long long>(updates),
                        static_cast<unsigned long long>(bytes));
            std::fflush(stdout);
            next_sample += std::chrono::seconds(1);
        }
    }
    const std::uint64_t before_compact = SstBytes(path);
    check((*db)->Compact());
    const std::uint64_t after_compact = SettledSstBytes(path);
    check((*db)->Verify());
    std::printf(
        R"({"phase":"summary","updates":%llu,"updates_per_entity":%.1f,"one_version_bytes":%llu,)"
        R"("peak_sst_bytes":%llu,"end_sst_bytes":%llu,"after_compact_bytes":%llu,)"
        R"("end_over_one_version":%.2f,"after_compact_over_one_version":%.2f})"
        "\n",
        static_cast<unsigned long long>(updates),
        static_cast<double>(updates) / static_cast<double>(entities),
        static_cast<unsigned long long>(one_version), static_cast<unsigned long long>(peak),
        static_cast<unsigned long long>(before_compact),
        static_cast<unsigned long long>(after_compact),
        static_cast<double>(before_compact) / static_cast<double>(one_version),
        static_cast<double>(after_compact) / static_cast<double>(one_version));
    check((*db)->Close());
    if (check_bound && after_compact > 3 * one_version) {
        std::fprintf(stderr,
                     "mvcc_space_bench: after compaction the data takes %.1fx one version\n",
                     static_cast<double>(after_compact) / static_cast<double>(one_version));
        return 1;
    }
    fs::remove_all(path, ec);
    return 0;
}
