// SPDX-License-Identifier: Apache-2.0
//
// Crash test for COPY ... FROM (issue 13, item 8; docs/decisions/0010-copy-check-then-write.md).
// Each round, a child process runs `COPY docs FROM 'load.jsonl'` (Durability::kSync) on the same
// data directory and the parent SIGKILLs it at a random moment: while it checks the file, while
// it writes batches, during the late-edge pass, or not at all (it finished). After each kill the
// parent reopens the directory and checks what a stopped COPY may leave:
//   - every entity is a line of the file, with that line's vector and metadata, and out-edges
//     that are a subset of the line's edges (nothing else, nothing half-written);
//   - no edge that existed before the round is gone (a re-run never wipes an edge: into a
//     non-empty collection each entity is written with every edge whose target exists);
//   - Verify() passes.
// At the end one COPY runs to completion in-process: the collection must then be exactly the file
// (a stopped COPY is completed by running it again).
//
//   phenix_copy_crash_test [--iterations=N] [--seed=S] [--dir=PATH] [--entities=N]
//
// Exit code 0: passed; 1: a violation or an error.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <sys/wait.h>

#include <phenix/db.h>
#include <phenix/json.h>
#include <phenix/phenixql.h>

#include "testing/child_process.h"

namespace phenix::crash {
namespace {

constexpr std::string_view kCollection = "docs";
constexpr auto kChildTimeout = std::chrono::seconds(60);

struct Flags {
    int iterations = 12;
    std::uint64_t seed = 0;
    std::string dir;
    int entities = 10000;
    std::string child_dir;  // set in the child
};

[[noreturn]] void Error(const std::string& what) {
    std::fprintf(stderr, "copy-crash-test: ERROR: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // a database may still be open: no static destructors under its threads
}

[[noreturn]] void Violation(const std::string& what) {
    std::fprintf(stderr, "copy-crash-test: VIOLATION: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // a database may still be open: no static destructors under its threads
}

Options DatabaseOptions() {
    return Options{
        .durability = Durability::kSync, .block_cache_bytes = 8u << 20, .background_threads = 2};
}

// id -> the entity as the file has it (edges sorted by label and target).
using Model = std::map<std::string, Entity>;
// (source, label, target) of every edge.
using EdgeSet = std::set<std::tuple<std::string, std::string, std::string>>;

// The load file: `count` entities with 4-d vectors, metadata and 0..4 edges each to random
// entities of the file (earlier, later, itself: cycles across batches included).
Model WriteLoadFile(const std::string& path, int count, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Model model;
    std::ofstream out(path, std::ios::binary);
    for (int idx = 0; idx < count; ++idx) {
        Entity entity{.id = "n" + std::to_string(idx),
                      .vector = {static_cast<float>(idx % 97), 1, 2, static_cast<float>(rng() % 5)},
                      .metadata = "{\"i\":" + std::to_string(idx) + "}"};
        const int num_edges = static_cast<int>(rng() % 5);
        std::set<std::pair<std::string, std::string>> seen;
        for (int edge_idx = 0; edge_idx < num_edges; ++edge_idx) {
            const std::string label = rng() % 2 == 0 ? "a" : "b";
            const std::string target =
                "n" + std::to_string(rng() % static_cast<std::uint64_t>(count));
            if (seen.emplace(label, target).second) {
                entity.edges.push_back({.label = label, .target_id = target});
            }
        }
        out << EntityToJson(entity) << '\n';
        model.emplace(entity.id, std::move(entity));
    }
    if (!out) {
        Error("cannot write " + path);
    }
    return model;
}

std::vector<Entity> ReadAll(Database& db) {
    std::vector<Entity> out;
    ScanOptions options{.limit = 10000, .include_edges = true};
    for (;;) {
        auto page = db.Scan(std::string(kCollection), options);
        if (!page.ok()) {
            Violation("scan: " + page.status().ToString());
        }
        for (Entity& entity : page->entities) {
            out.push_back(std::move(entity));
        }
        if (page->next_start_after.empty()) {
            return out;
        }
        options.start_after = page->next_start_after;
    }
}

// Checks the state against the file and the edges before the round; returns the edges now.
EdgeSet Check(Database& db, const Model& model, const EdgeSet& before, const std::string& when) {
    const Status verified = db.Verify();
    if (!verified.ok()) {
        Violation(when + ": Verify: " + verified.ToString());
    }
    EdgeSet now;
    for (const Entity& entity : ReadAll(db)) {
        auto it = model.find(entity.id);
        if (it == model.end()) {
            Violation(when + ": entity '" + entity.id + "' is not in the file");
        }
        if (entity.vector != it->second.vector || entity.metadata != it->second.metadata) {
            Violation(when + ": entity '" + entity.id +
                      "' differs from its line: " + EntityToJson(entity));
        }
        std::set<std::pair<std::string, std::string>> allowed;
        for (const Edge& edge : it->second.edges) {
            allowed.emplace(edge.label, edge.target_id);
        }
        for (const Edge& edge : entity.edges) {
            if (!allowed.contains({edge.label, edge.target_id})) {
                Violation(when + ": entity '" + entity.id +
                          "' has an edge not on its line: " + edge.label + " -> " + edge.target_id);
            }
            now.emplace(entity.id, edge.label, edge.target_id);
        }
    }
    for (const auto& edge : before) {
        if (!now.contains(edge)) {
            Violation(when + ": the edge " + std::get<0>(edge) + " -" + std::get<1>(edge) + "-> " +
                      std::get<2>(edge) + " existed before the round and is gone");
        }
    }
    return now;
}

std::unique_ptr<Database> OpenOrDie(const std::string& data) {
    auto opened = Database::Open(data, DatabaseOptions());
    if (!opened.ok()) {
        Violation("open: " + opened.status().ToString());
    }
    return std::move(opened).value();
}

// The child: opens, says "R", runs the COPY, says "D" (or "E <error>") and waits to be killed.
int RunChild(const std::string& data) {
    std::unique_ptr<Database> db = OpenOrDie(data);
    const Status created = db->CreateCollection({.ref = std::string(kCollection), .dimension = 4});
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) {
        std::fprintf(stderr, "child: create: %s\n", created.ToString().c_str());
        return 2;
    }
    auto announce = [](std::string_view text) {
        if (::write(1, text.data(), text.size()) < 0) {
            std::_Exit(3);
        }
    };
    announce("R\n");
    QuerySession session(*db);
    auto copied = session.Execute("COPY docs FROM '" + data + "/../load.jsonl'");
    announce(copied.ok() ? "D\n" : "E " + copied.status().ToString() + "\n");
    for (;;) {
        ::pause();
    }
}

struct ChildRun {
    std::string output;
    // From "R" to "D" when the COPY finished before the kill.
    std::optional<std::chrono::microseconds> copy_duration;
};

// Runs a child and kills it `delay` after it said "R" (or once it said "D").
ChildRun RunAndKill(const std::string& self, const std::string& data,
                    std::chrono::microseconds delay) {
    int fds[2];
    if (::pipe(fds) != 0) {
        Error("pipe failed");
    }
    const std::string data_arg = "--child=" + data;
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        Error("fork failed");
    }
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(self.c_str(), self.c_str(), data_arg.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::string output;
    char buf[4096];
    std::optional<std::chrono::steady_clock::time_point> ready;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    ChildRun run;
    for (;;) {
        ssize_t num_read = 0;
        while ((num_read = ::read(fds[0], buf, sizeof buf)) > 0) {
            output.append(buf, static_cast<std::size_t>(num_read));
        }
        const auto now = std::chrono::steady_clock::now();
        if (num_read == 0) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            Error("the child exited (wait status " + std::to_string(status) + "): " + output);
        }
        if (!deadline && output.starts_with("R\n")) {
            ready = now;
            deadline = now + delay;
        }
        if (ready && output.find('\n', 2) != std::string::npos) {
            run.copy_duration = std::chrono::duration_cast<std::chrono::microseconds>(now - *ready);
            break;
        }
        if (deadline && now >= *deadline) {
            break;
        }
        if (now - started > kChildTimeout) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            Error("the child made no progress in 60 s: " + output);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const int status = testing::KillAndDrain(pid, fds[0], output);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        Error("the child did not die by SIGKILL (wait status " + std::to_string(status) + ")");
    }
    run.output = std::move(output);
    return run;
}

int Main(int argc, char** argv) {
    Flags flags;
    flags.seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
        const std::string_view arg = argv[arg_idx];
        auto value = [&](std::string_view prefix) {
            return std::string(arg.substr(prefix.size()));
        };
        if (arg.starts_with("--iterations=")) {
            flags.iterations = std::stoi(value("--iterations="));
        } else if (arg.starts_with("--seed=")) {
            flags.seed = std::stoull(value("--seed="));
        } else if (arg.starts_with("--dir=")) {
            flags.dir = value("--dir=");
        } else if (arg.starts_with("--entities=")) {
            flags.entities = std::stoi(value("--entities="));
        } else if (arg.starts_with("--child=")) {
            flags.child_dir = value("--child=");
        } else {
            Error("unknown argument " + std::string(arg));
        }
    }
    if (!flags.child_dir.empty()) {
        return RunChild(flags.child_dir);
    }
    std::fprintf(stderr, "copy-crash-test: seed %llu, %d entities, %d rounds\n",
                 static_cast<unsigned long long>(flags.seed), flags.entities, flags.iterations);
    std::filesystem::path root = flags.dir;
    if (root.empty()) {
        root = std::filesystem::temp_directory_path() /
               ("phenix-copy-crash-" + std::to_string(::getpid()));
    }
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    const std::string data = (root / "data").string();
    const Model model = WriteLoadFile((root / "load.jsonl").string(), flags.entities, flags.seed);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

    // Kills land from the first milliseconds (opening, checking the file) to just after the end:
    // the delay is drawn up to the duration of the last COPY that finished (at first 5 s).
    std::mt19937_64 rng(flags.seed ^ 0x9E3779B97F4A7C15ull);
    std::chrono::microseconds copy_duration(5'000'000);
    EdgeSet edges;
    int num_finished = 0;
    for (int round = 0; round < flags.iterations; ++round) {
        const auto delay = std::chrono::microseconds(
            rng() % static_cast<std::uint64_t>(copy_duration.count() * 11 / 10 + 1));
        const ChildRun run = RunAndKill(self, data, delay);
        if (run.output.find("\nE ") != std::string::npos) {
            Violation("round " + std::to_string(round) + ": the COPY failed: " + run.output);
        }
        if (run.copy_duration) {
            ++num_finished;
            copy_duration = *run.copy_duration;
        }
        std::unique_ptr<Database> db = OpenOrDie(data);
        edges = Check(*db, model, edges, "round " + std::to_string(round));
        std::fprintf(
            stderr, "copy-crash-test: round %d: %s %.3f s after the open; %zu edges\n", round,
            run.copy_duration ? "finished" : "killed",
            static_cast<double>((run.copy_duration ? *run.copy_duration : delay).count()) / 1e6,
            edges.size());
    }
    // Running it again completes the load.
    {
        std::unique_ptr<Database> db = OpenOrDie(data);
        const Status created =
            db->CreateCollection({.ref = std::string(kCollection), .dimension = 4});
        if (!created.ok() && created.code() != StatusCode::kAlreadyExists) {
            Error("create: " + created.ToString());
        }
        QuerySession session(*db);
        auto copied = session.Execute("COPY docs FROM '" + (root / "load.jsonl").string() + "'");
        if (!copied.ok()) {
            Violation("the final COPY failed: " + copied.status().ToString());
        }
        edges = Check(*db, model, edges, "after the final COPY");
        std::size_t num_file_edges = 0;
        for (const auto& [id, entity] : model) {
            num_file_edges += entity.edges.size();
        }
        if (ReadAll(*db).size() != model.size() || edges.size() != num_file_edges) {
            Violation(
                "the final COPY did not complete the load: " + std::to_string(ReadAll(*db).size()) +
                " entities and " + std::to_string(edges.size()) + " edges; the file has " +
                std::to_string(model.size()) + " and " + std::to_string(num_file_edges));
        }
    }
    std::filesystem::remove_all(root);
    std::printf(
        "{\"test\":\"copy-crash\",\"rounds\":%d,\"finished_before_kill\":%d,\"passed\":true}\n",
        flags.iterations, num_finished);
    return 0;
}

}  // namespace
}  // namespace phenix::crash

int main(int argc, char** argv) {
    return phenix::crash::Main(argc, argv);
}
