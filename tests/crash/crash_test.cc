// SPDX-License-Identifier: Apache-2.0
//
// Crash test for transactions, after RocksDB's db_crashtest.py. Each round, a child process runs
// a mixed workload of transactions (workload.h: 3 threads; inserts, upserts with vectors,
// metadata and edges, metadata patches and replacements, deletes, across two collections; some
// rolled back on purpose, conflicts logged as aborted) with Durability::kSync, logging every
// transaction's full intended effect before Commit and its commit timestamp after. The parent
// SIGKILLs the child at a random moment (sometimes within milliseconds of starting, so that it
// dies while opening or recovering the database), reopens the data directory and checks it
// against a model of the whole database (checker.h): acknowledged transactions are all there,
// in-flight ones are all-or-nothing, aborted and rolled-back ones left no trace, Verify() is OK
// and entity counts are exact. The data directory and the model carry over between rounds.
//
//   phenix_crash_test [--iterations=N] [--seed=S] [--dir=PATH] [--threads=T] [--power-loss]
//
// --power-loss runs the same workload and checks in-process on a fault-injecting file system
// (tests/testing/fault_injection_fs.h): each round ends with the disk frozen and everything not
// synced dropped, as after a power cut, instead of a SIGKILL.
// Negative controls (the checker must report a VIOLATION): --inject-bug=partial makes the workload
// commit each transaction as two separate commits while logging one; --inject-bug=relaxed opens
// the database with Durability::kRelaxed, which --power-loss must catch losing acknowledged
// commits; --inject-bug=commit-rollbacks commits the transactions it logs as rolled back.
// The last line is a one-line JSON summary. Exit code 0: passed; 1: a violation or an error.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include <phenix/db.h>

#include "crash/checker.h"
#include "crash/workload.h"
#include "engine/database_impl.h"
#include "testing/child_process.h"
#include "testing/fault_injection_fs.h"

namespace phenix::crash {
namespace {

// Transaction numbers of round r start at (r + 1) * kTxnsPerRound: unique over a run.
constexpr std::uint64_t kTxnsPerRound = 1'000'000;
// A round kills the child this long after its database is open (uniformly at random)...
constexpr std::uint64_t kMaxKillDelayUs = 250'000;
// ...or, one round in kEarlyKillOneIn, this long after it was started, ready or not.
constexpr std::uint64_t kMaxEarlyKillDelayUs = 60'000;
constexpr std::uint64_t kEarlyKillOneIn = 6;
constexpr auto kChildProgressTimeout = std::chrono::seconds(30);

struct Flags {
    int iterations = 30;
    std::uint64_t seed = 0;
    std::string dir;
    int threads = 3;
    bool power_loss = false;
    InjectedBug bug = InjectedBug::kNone;
};

struct RunStats {
    int num_early_kills = 0;
    int num_rounds_ready = 0;  // the child had opened the database before it died
};

[[noreturn]] void Error(const std::string& what) {
    std::fprintf(stderr, "crash-test: ERROR: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // a database may still be open: no static destructors under its threads
}

Options DatabaseOptions(InjectedBug bug) {
    return Options{.durability = bug == InjectedBug::kRelaxedDurability ? Durability::kRelaxed
                                                                        : Durability::kSync,
                   .block_cache_bytes = 8u << 20,
                   .background_threads = 2,
                   // A short history: the floor moves and compaction collects garbage, so a
                   // reopen often finds its checkpoint below the floor (reconcile, then replay).
                   .history_retention_ms = 300,
                   // Vector index checkpoints all the time, so that crashes and power cuts land
                   // before, during and after them, and reopens load them.
                   .vector_checkpoint_interval_ms = 20};
}

// Whether each collection's vector index checkpoint exists (read before a reopen: the checker
// then asserts the reopened index was loaded from it, never rebuilt).
std::map<std::string, bool> CheckpointsPresent(const std::string& data,
                                               const std::map<std::string, std::uint32_t>& ids) {
    std::map<std::string, bool> present;
    for (const auto& [name, id] : ids) {
        present[name] = std::filesystem::exists(data + "/index/c" + std::to_string(id) + ".hnsw");
    }
    return present;
}

std::map<std::string, std::uint32_t> CollectionIds(Database& db) {
    std::map<std::string, std::uint32_t> ids;
    for (const CollectionDef& def : kCollections) {
        auto info = db.GetCollection(def.name);
        if (!info.ok()) {
            Error(std::string("describe collection ") + def.name + ": " + info.status().ToString());
        }
        ids[def.name] = info->collection_id;
    }
    return ids;
}

const char* BugName(InjectedBug bug) {
    switch (bug) {
        case InjectedBug::kNone:
            return "none";
        case InjectedBug::kPartialCommit:
            return "partial";
        case InjectedBug::kRelaxedDurability:
            return "relaxed";
        case InjectedBug::kCommitRollbacks:
            return "commit-rollbacks";
    }
    return "none";
}

void CreateCollections(Database& db) {
    for (const CollectionDef& def : kCollections) {
        const Status s = db.CreateCollection(
            {.ref = def.name, .dimension = def.dimension, .metric = def.metric});
        if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
            Error(std::string("create collection ") + def.name + ": " + s.ToString());
        }
        // A metadata index maintained by every commit: Verify checks it against the records
        // after each recovery (a kill during its build is finished by the next open).
        const Status indexed = db.CreateIndex(def.name, "txn");
        if (!indexed.ok() && indexed.code() != StatusCode::kAlreadyExists) {
            Error(std::string("create index on ") + def.name + ": " + indexed.ToString());
        }
    }
}

// Beside the workload: rebuilds a vector index and collects garbage now and then, so that
// crashes also land in the middle of a rebuild, of its catch-up and swap, and of a reconcile
// with the storage floor. Stops when the workers do (`workers_done`) or on `stop`.
void RunMaintenance(Database* db, WorkloadOptions options, std::uint64_t seed,
                    const std::atomic<bool>* stop, const std::atomic<int>* workers_left) {
    std::mt19937_64 rng(seed);
    while ((stop == nullptr || !stop->load()) && workers_left->load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 80));
        const char* collection = kCollections[rng() % kCollections.size()].name;
        const Status s =
            rng() % 4 == 0 ? db->Compact() : db->RebuildVectorIndex(collection, nullptr);
        if (!s.ok()) {
            if (options.stop_on_error) {
                if (options.errors != nullptr) {
                    options.errors->Record(
                        "maintenance", s,
                        options.disk_frozen != nullptr && options.disk_frozen->load());
                }
                return;
            }
            std::fprintf(stderr, "crash-test child: maintenance: %s\n", s.ToString().c_str());
            std::fflush(stderr);
            std::_Exit(2);
        }
    }
}

// Runs `threads` workload threads until they stop (only with options.stop_on_error, or `stop`),
// and a maintenance thread (RunMaintenance) beside them.
void RunWorkers(Database* db, LogSink* log, WorkloadOptions options, int threads,
                std::uint64_t seed, const std::atomic<bool>* stop) {
    std::atomic<int> workers_left{threads};
    std::jthread maintenance([=, &workers_left] {
        RunMaintenance(db, options, seed ^ 0x5A5A5A5Aull, stop, &workers_left);
    });
    std::vector<std::jthread> workers;
    for (int thread_idx = 0; thread_idx < threads; ++thread_idx) {
        workers.emplace_back([=, &workers_left] {
            Workload workload(db, log, options, seed * 31 + static_cast<std::uint64_t>(thread_idx));
            while ((stop == nullptr || !stop->load()) && workload.RunOne()) {
            }
            workers_left.fetch_sub(1);
        });
    }
}

// ------------------------------------------------------------------ child (kill mode)

int RunChild(const std::string& dir, std::uint64_t seed, std::uint64_t first_txn, int threads,
             InjectedBug bug) {
    auto opened = Database::Open(dir, DatabaseOptions(bug));
    if (!opened.ok()) {
        std::fprintf(stderr, "crash-test child: open: %s\n", opened.status().ToString().c_str());
        return 2;
    }
    std::unique_ptr<Database> db = std::move(opened).value();
    FdLogSink log(1);
    log.Append("R");
    std::atomic<std::uint64_t> next_txn{first_txn};
    RunWorkers(db.get(), &log,
               WorkloadOptions{.bug = bug, .stop_on_error = false, .next_txn = &next_txn}, threads,
               seed, nullptr);
    std::fprintf(stderr, "crash-test child: the workers stopped\n");
    return 2;
}

// ------------------------------------------------------------------ parent (kill mode)

struct KillPlan {
    bool early = false;  // count the delay from the start, not from "R"
    std::chrono::microseconds delay{0};
};

// Starts a child, kills it as planned, returns everything it logged.
std::string RunAndKill(const std::string& self, const std::string& data, const Flags& flags,
                       std::uint64_t seed, std::uint64_t first_txn, KillPlan plan) {
    int fds[2];
    if (::pipe(fds) != 0) {
        Error("pipe failed");
    }
    const std::string seed_arg = "--child-seed=" + std::to_string(seed);
    const std::string txn_arg = "--child-first-txn=" + std::to_string(first_txn);
    const std::string threads_arg = "--threads=" + std::to_string(flags.threads);
    const std::string data_arg = "--child=" + data;
    const std::string bug_arg = std::string("--inject-bug=") + BugName(flags.bug);
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        Error("fork failed");
    }
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(self.c_str(), self.c_str(), data_arg.c_str(), seed_arg.c_str(), txn_arg.c_str(),
                threads_arg.c_str(), bug_arg.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::string output;
    char buf[65536];
    auto drain = [&] {  // true at EOF
        while (true) {
            const ssize_t n = ::read(fds[0], buf, sizeof(buf));
            if (n <= 0) {
                return n == 0;
            }
            output.append(buf, static_cast<std::size_t>(n));
        }
    };
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (plan.early) {
        deadline = started + plan.delay;
    }
    while (true) {
        const bool eof = drain();
        const auto now = std::chrono::steady_clock::now();
        if (!deadline && (output.starts_with("R\n"))) {
            deadline = now + plan.delay;
        }
        if (eof) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            Error("the child exited before it was killed (wait status " + std::to_string(status) +
                  "); its last output: " +
                  output.substr(output.size() > 500 ? output.size() - 500 : 0));
        }
        if (now - started > kChildProgressTimeout) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            Error("the child did not open the database within 30 s");
        }
        if (deadline && now >= *deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const int status = testing::KillAndDrain(pid, fds[0], output);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        Error("the child did not die by SIGKILL (wait status " + std::to_string(status) + ")");
    }
    return output;
}

std::unique_ptr<Database> OpenOrViolation(const Checker& checker, const std::string& data,
                                          InjectedBug bug, rocksdb::Env* env) {
    auto opened = env == nullptr ? Database::Open(data, DatabaseOptions(bug))
                                 : engine::DatabaseImpl::Open(data, DatabaseOptions(bug), env);
    if (!opened.ok()) {
        checker.Violation("reopen after the crash failed: " + opened.status().ToString());
    }
    return std::move(opened).value();
}

void CheckAndClose(Checker& checker, const std::string& data, const std::string& output,
                   InjectedBug bug, rocksdb::Env* env,
                   const std::map<std::string, std::uint32_t>& collection_ids) {
    auto log = ParseLog(output);
    if (!log.ok()) {
        Error(log.status().ToString());
    }
    checker.StartRound();
    const auto checkpoints = CheckpointsPresent(data, collection_ids);
    std::unique_ptr<Database> db = OpenOrViolation(checker, data, bug, env);
    checker.CheckRound(*db, *log);
    checker.CheckVectorIndexes(*db, checkpoints);
    const Status closed = db->Close();
    if (!closed.ok()) {
        checker.Violation("close after the check: " + closed.ToString());
    }
}

void RunKillRounds(const Flags& flags, const std::string& data, Checker& checker,
                   RunStats& run_stats, const std::map<std::string, std::uint32_t>& ids) {
    const std::string self = std::filesystem::read_symlink("/proc/self/exe");
    std::mt19937_64 rng(flags.seed);
    for (int iteration = 0; iteration < flags.iterations; ++iteration) {
        KillPlan plan;
        plan.early = rng() % kEarlyKillOneIn == 0;
        plan.delay = std::chrono::microseconds(
            rng() % (plan.early ? kMaxEarlyKillDelayUs : kMaxKillDelayUs));
        const std::uint64_t first_txn = static_cast<std::uint64_t>(iteration + 1) * kTxnsPerRound;
        const std::string output = RunAndKill(self, data, flags, rng(), first_txn, plan);
        run_stats.num_early_kills += plan.early ? 1 : 0;
        run_stats.num_rounds_ready += output.starts_with("R\n") ? 1 : 0;
        CheckAndClose(checker, data, output, flags.bug, nullptr, ids);
        if ((iteration + 1) % 10 == 0 || iteration + 1 == flags.iterations) {
            std::printf("crash-test: %d/%d rounds, %llu acknowledged transactions verified\n",
                        iteration + 1, flags.iterations,
                        static_cast<unsigned long long>(checker.stats().num_acked));
            std::fflush(stdout);
        }
    }
}

// ------------------------------------------------------------------ power-loss mode

void RunPowerLossRounds(const Flags& flags, const std::string& data, Checker& checker,
                        const std::shared_ptr<testing::FaultInjectionFileSystem>& fs,
                        rocksdb::Env* env, RunStats& run_stats,
                        const std::map<std::string, std::uint32_t>& ids) {
    std::mt19937_64 rng(flags.seed);
    std::uint64_t errors_after_cut = 0;
    for (int iteration = 0; iteration < flags.iterations; ++iteration) {
        ErrorTally errors;
        std::atomic<bool> disk_frozen{false};
        std::unique_ptr<Database> db = OpenOrViolation(checker, data, flags.bug, env);
        StringLogSink log;
        log.Append("R");
        std::atomic<std::uint64_t> next_txn{static_cast<std::uint64_t>(iteration + 1) *
                                            kTxnsPerRound};
        std::atomic<bool> stop{false};
        const std::uint64_t workload_seed = rng();
        const auto delay = std::chrono::microseconds(rng() % kMaxKillDelayUs);
        std::thread runner([&] {
            RunWorkers(db.get(), &log,
                       WorkloadOptions{.bug = flags.bug,
                                       .stop_on_error = true,
                                       .errors = &errors,
                                       .disk_frozen = &disk_frozen,
                                       .next_txn = &next_txn},
                       flags.threads, workload_seed, &stop);
        });
        std::this_thread::sleep_for(delay);
        // The power goes out: the disk freezes mid-workload, the process dies.
        disk_frozen = true;
        fs->SetFilesystemActive(false);
        stop = true;
        runner.join();
        db.reset();  // its shutdown writes fail and change nothing
        const bool random_tail = rng() % 2 == 0;
        const Status dropped =
            random_tail ? fs->DropRandomUnsyncedData(rng()) : fs->DropUnsyncedData();
        fs->SetFilesystemActive(true);
        if (!dropped.ok()) {
            Error("dropping unsynced data: " + dropped.ToString());
        }
        ++run_stats.num_rounds_ready;
        // An error while the disk still worked is a failure, not the power cut.
        if (const std::string first = errors.first_unexpected(); !first.empty()) {
            checker.Violation("the workload failed before the power cut: " + first);
        }
        errors_after_cut += errors.num_expected();
        CheckAndClose(checker, data, log.Contents(), flags.bug, env, ids);
        if ((iteration + 1) % 10 == 0 || iteration + 1 == flags.iterations) {
            std::printf(
                "crash-test: %d/%d power losses, %llu acknowledged transactions verified, "
                "%llu errors after the power cuts (expected)\n",
                iteration + 1, flags.iterations,
                static_cast<unsigned long long>(checker.stats().num_acked),
                static_cast<unsigned long long>(errors_after_cut));
            std::fflush(stdout);
        }
    }
    // A run in which nothing was acknowledged checked nothing.
    if (checker.stats().num_acked == 0) {
        Error("no transaction was acknowledged in " + std::to_string(flags.iterations) +
              " power-loss rounds: the run verified nothing");
    }
}

// ------------------------------------------------------------------ main

bool ParseBug(const std::string& name, InjectedBug& bug) {
    if (name == "none") {
        bug = InjectedBug::kNone;
    } else if (name == "partial") {
        bug = InjectedBug::kPartialCommit;
    } else if (name == "relaxed") {
        bug = InjectedBug::kRelaxedDurability;
    } else if (name == "commit-rollbacks") {
        bug = InjectedBug::kCommitRollbacks;
    } else {
        return false;
    }
    return true;
}

int Main(int argc, char** argv) {
    Flags flags;
    flags.seed = std::random_device{}();
    std::string child_dir;
    std::uint64_t child_seed = 0;
    std::uint64_t child_first_txn = 0;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string arg = argv[idx];
        std::string value;
        // True if arg is `flag` followed by a value, which goes to `value`.
        auto is = [&](std::string_view flag) {
            if (!arg.starts_with(flag)) {
                return false;
            }
            value = arg.substr(flag.size());
            return true;
        };
        if (is("--iterations=")) {
            flags.iterations = std::atoi(value.c_str());
        } else if (is("--seed=")) {
            flags.seed = std::strtoull(value.c_str(), nullptr, 10);
        } else if (is("--dir=")) {
            flags.dir = value;
        } else if (is("--threads=")) {
            flags.threads = std::max(1, std::atoi(value.c_str()));
        } else if (arg == "--power-loss") {
            flags.power_loss = true;
        } else if (is("--inject-bug=")) {
            if (!ParseBug(value, flags.bug)) {
                Error("unknown --inject-bug=" + value +
                      " (none, partial, relaxed, commit-rollbacks)");
            }
        } else if (is("--child=")) {
            child_dir = value;
        } else if (is("--child-seed=")) {
            child_seed = std::strtoull(value.c_str(), nullptr, 10);
        } else if (is("--child-first-txn=")) {
            child_first_txn = std::strtoull(value.c_str(), nullptr, 10);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--iterations=N] [--seed=S] [--dir=PATH] [--threads=T] "
                         "[--power-loss] [--inject-bug=partial|relaxed|commit-rollbacks]\n",
                         argv[0]);
            return 2;
        }
    }
    if (!child_dir.empty()) {
        return RunChild(child_dir, child_seed, child_first_txn, flags.threads, flags.bug);
    }

    const bool own_dir = flags.dir.empty();
    if (own_dir) {
        char tmpl[] = "/tmp/phenix-crash-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            Error("mkdtemp failed");
        }
        flags.dir = tmpl;
    }
    const std::string data = flags.dir + "/data";
    const char* mode = flags.power_loss ? "power-loss" : "kill9";
    std::string hint =
        std::string("phenix_crash_test --seed=") + std::to_string(flags.seed) +
        " --iterations=" + std::to_string(flags.iterations) +
        " --threads=" + std::to_string(flags.threads) + (flags.power_loss ? " --power-loss" : "") +
        (flags.bug != InjectedBug::kNone ? std::string(" --inject-bug=") + BugName(flags.bug)
                                         : std::string()) +
        (own_dir ? std::string() : " --dir=" + flags.dir) +
        " (thread scheduling and kill timing vary; the data is in " + data + ")";
    std::printf("crash-test: mode %s, seed %llu, %d iterations, %d threads, data in %s\n", mode,
                static_cast<unsigned long long>(flags.seed), flags.iterations, flags.threads,
                data.c_str());
    std::fflush(stdout);

    Checker checker(hint);
    if (own_dir && flags.bug != InjectedBug::kNone) {
        checker.RemoveOnViolation(flags.dir);  // a violation is the expected outcome
    }
    RunStats run_stats;
    std::map<std::string, std::uint32_t> collection_ids;
    const auto started = std::chrono::steady_clock::now();
    if (flags.power_loss) {
        auto fs = std::make_shared<testing::FaultInjectionFileSystem>();
        std::unique_ptr<rocksdb::Env> env = testing::NewFaultInjectionEnv(fs);
        {
            std::unique_ptr<Database> db = OpenOrViolation(checker, data, flags.bug, env.get());
            CreateCollections(*db);
            checker.Reset(*db);
            collection_ids = CollectionIds(*db);
        }
        RunPowerLossRounds(flags, data, checker, fs, env.get(), run_stats, collection_ids);
    } else {
        {
            std::unique_ptr<Database> db = OpenOrViolation(checker, data, flags.bug, nullptr);
            CreateCollections(*db);
            checker.Reset(*db);
            collection_ids = CollectionIds(*db);
            if (!db->Close().ok()) {
                Error("close after setup failed");
            }
        }
        RunKillRounds(flags, data, checker, run_stats, collection_ids);
    }
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const CheckStats& stats = checker.stats();
    std::printf(
        "crash-test: {\"result\":\"PASSED\",\"mode\":\"%s\",\"seed\":%llu,\"iterations\":%d,"
        "\"threads\":%d,\"acked\":%llu,\"aborted\":%llu,\"rolled_back\":%llu,"
        "\"inflight_present\":%llu,\"inflight_absent\":%llu,\"inflight_unobservable\":%llu,"
        "\"early_kills\":%d,\"rounds_started\":%d,\"hypotheses\":%llu,\"entities\":%zu,"
        "\"index_checkpoints_loaded\":%llu,\"index_rebuilt\":%llu,\"vector_searches\":%llu,"
        "\"elapsed_s\":%.1f}\n",
        mode, static_cast<unsigned long long>(flags.seed), flags.iterations, flags.threads,
        static_cast<unsigned long long>(stats.num_acked),
        static_cast<unsigned long long>(stats.num_aborted),
        static_cast<unsigned long long>(stats.num_rolled_back),
        static_cast<unsigned long long>(stats.num_inflight_present),
        static_cast<unsigned long long>(stats.num_inflight_absent),
        static_cast<unsigned long long>(stats.num_inflight_unobservable), run_stats.num_early_kills,
        run_stats.num_rounds_ready, static_cast<unsigned long long>(stats.num_hypotheses),
        checker.num_entities(), static_cast<unsigned long long>(stats.num_checkpoints_loaded),
        static_cast<unsigned long long>(stats.num_indexes_rebuilt),
        static_cast<unsigned long long>(stats.num_vector_searches), elapsed_s);
    if (own_dir) {
        std::filesystem::remove_all(flags.dir);
    }
    return 0;
}

}  // namespace
}  // namespace phenix::crash

int main(int argc, char** argv) {
    return phenix::crash::Main(argc, argv);
}
