// SPDX-License-Identifier: Apache-2.0
//
// Out-of-process durability test: a child process writes entities (batched inserts with edges,
// and deletes) with Durability::kSync and reports each acknowledged write on a pipe; the parent
// kills it with SIGKILL at a random moment, reopens the data directory and checks that
//   - every acknowledged insert is present with exactly the bytes written,
//   - every acknowledged delete is absent, together with every edge into it,
//   - a write that was in flight when the child died is either wholly present or wholly absent,
//   - no edge dangles and out-/in-edges agree, and the entity count is exact,
//   - the vector index, reloaded from its last checkpoint (the child writes one every 100 ms)
//     and caught up, holds every present entity with its exact vector and never returns a
//     deleted one.
// The model carries over between rounds, so later rounds also check earlier data.
//
// With --encrypt, the directory is encrypted at rest, and in every round the parent rotates the
// master key while the child is writing (the store open): every other rotation runs in a forked
// process killed with SIGKILL just before or just after the key file's rename (sync points), and
// the next open uses whichever master key the key file then names.
//
//   phenix_kill9_test [--iterations=N] [--seed=S] [--dir=PATH] [--encrypt]
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include <phenix/db.h>
#include <phenix/encryption.h>

#include "common/sync_point.h"
#include "testing/child_process.h"

namespace {

constexpr std::uint32_t kDim = 8;
constexpr const char* kCollection = "items";

// Deterministic content of an entity, derived from its id, so the parent can check exact bytes.
phenix::Entity Content(const std::string& id) {
    std::uint64_t h = std::hash<std::string>{}(id);
    phenix::Entity e;
    e.id = id;
    e.vector.resize(kDim);
    for (std::uint32_t idx = 0; idx < kDim; ++idx) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        e.vector[idx] = static_cast<float>((h >> 40) % 10000) / 100.0f + 0.5f;
    }
    e.metadata = R"({"id":")" + id + R"(","h":)" + std::to_string(h % 1000000) + "}";
    return e;
}

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "kill9: %s\n", what.c_str());
    std::exit(1);
}

// --encrypt: the file naming the current master key's KMS URI (empty: not encrypted). The child
// inherits it through the environment variable PHENIX_KILL9_KMS_FILE.
std::string KmsFile() {
    const char* path = std::getenv("PHENIX_KILL9_KMS_FILE");  // NOLINT(concurrency-mt-unsafe)
    return path != nullptr ? path : "";
}

phenix::Options WithEncryption(phenix::Options options) {
    if (const std::string file = KmsFile(); !file.empty()) {
        std::ifstream in(file);
        std::getline(in, options.encryption.kms);
    }
    return options;
}

void WriteLine(int fd, const std::string& line) {
    std::string buf = line + "\n";
    const char* p = buf.data();
    std::size_t left = buf.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::_Exit(3);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// ------------------------------------------------------------------ child

// Protocol on stdout, one line per event:
//   "I <id>..." intent to insert these ids (one batch)   "A" the last intent was acknowledged
//   "E <src> <dst>" batch entity src has an edge to dst (sent with the intent, before "A")
//   "D <id>" intent to delete                              "A" acknowledged
int RunChild(const std::string& dir, std::uint64_t seed, const std::string& prefix,
             const std::string& live_ids_file) {
    // Frequent vector index checkpoints, so that kills also land during and between them.
    phenix::Options options;
    options.vector_checkpoint_interval_ms = 100;
    auto opened = phenix::Database::Open(dir, WithEncryption(options));
    if (!opened.ok()) {
        std::fprintf(stderr, "child open: %s\n", opened.status().ToString().c_str());
        return 2;
    }
    auto db = std::move(opened).value();
    phenix::Status created = db->CreateCollection(
        {.ref = kCollection, .dimension = kDim, .metric = phenix::Metric::kL2});
    if (!created.ok() && created.code() != phenix::StatusCode::kAlreadyExists) {
        std::fprintf(stderr, "child create: %s\n", created.ToString().c_str());
        return 2;
    }
    // A metadata index, maintained in every commit and checked by Verify after each kill.
    const phenix::Status indexed = db->CreateIndex(kCollection, "h");
    if (!indexed.ok() && indexed.code() != phenix::StatusCode::kAlreadyExists) {
        std::fprintf(stderr, "child create index: %s\n", indexed.ToString().c_str());
        return 2;
    }
    std::vector<std::string> live;
    // The live ids come in a file: as one argv string they would outgrow the kernel's
    // 128 KiB per-argument limit after a few thousand entities.
    std::ifstream in(live_ids_file);
    for (std::string id; in >> id;) {
        live.push_back(id);
    }
    std::mt19937_64 rng(seed);
    for (std::uint64_t n = 0;; ++n) {
        if (!live.empty() && rng() % 5 == 0) {
            std::size_t pick = rng() % live.size();
            std::string victim = live[pick];
            WriteLine(1, "D " + victim);
            phenix::Status s = db->Delete(kCollection, victim);
            if (!s.ok()) {
                std::fprintf(stderr, "child delete %s: %s\n", victim.c_str(), s.ToString().c_str());
                return 2;
            }
            WriteLine(1, "A");
            live[pick] = live.back();
            live.pop_back();
            continue;
        }
        phenix::WriteBatch batch;
        std::string intent = "I";
        std::vector<std::string> edge_lines;
        const std::size_t batch_size = 1 + rng() % 8;
        std::vector<std::string> ids;
        for (std::size_t k = 0; k < batch_size; ++k) {
            ids.push_back(prefix + "-" + std::to_string(n) + "-" + std::to_string(k));
        }
        for (std::size_t k = 0; k < batch_size; ++k) {
            phenix::Entity e = Content(ids[k]);
            // Edges to live entities and to a later entity of the same batch.
            for (int edge_idx = 0; edge_idx < 2 && !live.empty(); ++edge_idx) {
                const std::string& target = live[rng() % live.size()];
                e.edges.push_back({.label = "link", .target_id = target, .weight = 0.5});
                edge_lines.push_back("E " + ids[k] + " " + target);
            }
            if (k + 1 < batch_size) {
                e.edges.push_back({.label = "next", .target_id = ids[k + 1]});
                edge_lines.push_back("E " + ids[k] + " " + ids[k + 1]);
            }
            batch.Insert(kCollection, std::move(e));
            intent += " " + ids[k];
        }
        WriteLine(1, intent);
        for (const std::string& line : edge_lines) {
            WriteLine(1, line);
        }
        phenix::Status s = db->Write(batch);
        if (!s.ok()) {
            std::fprintf(stderr, "child write: %s\n", s.ToString().c_str());
            return 2;
        }
        WriteLine(1, "A");
        live.insert(live.end(), ids.begin(), ids.end());
    }
}

// ------------------------------------------------------------------ parent

struct Model {
    // id -> present (true), deleted (false)
    std::map<std::string, bool> present;
    // src -> (label is implied by the pair) targets
    std::map<std::string, std::set<std::string>> edges;
    // Writes whose outcome is unknown (in flight at the kill): resolved by looking.
    std::vector<std::string> uncertain_inserts;
    std::string uncertain_delete;
};

struct Stats {
    std::size_t acked_batches = 0;
    std::size_t acked_deletes = 0;
    std::size_t inflight_present = 0;
    std::size_t inflight_absent = 0;
    std::size_t searches_checked = 0;
};

void ApplyChildOutput(const std::string& output, Model& model, Stats& stats) {
    std::istringstream lines(output);
    std::vector<std::string> pending_inserts;
    std::vector<std::pair<std::string, std::string>> pending_edges;
    std::string pending_delete;
    std::string line;
    while (std::getline(lines, line)) {
        if (lines.eof() && !output.empty() && output.back() != '\n') {
            break;  // a torn last line: the child died mid-write of it, so it was never
                    // acknowledged
        }
        std::istringstream fields(line);
        std::string kind;
        fields >> kind;
        if (kind == "I") {
            pending_inserts.clear();
            pending_edges.clear();
            pending_delete.clear();
            for (std::string id; fields >> id;) {
                pending_inserts.push_back(id);
            }
        } else if (kind == "E") {
            std::string src;
            std::string dst;
            fields >> src >> dst;
            pending_edges.emplace_back(src, dst);
        } else if (kind == "D") {
            pending_inserts.clear();
            pending_edges.clear();
            fields >> pending_delete;
        } else if (kind == "A") {
            for (const auto& id : pending_inserts) {
                model.present[id] = true;
            }
            for (const auto& [src, dst] : pending_edges) {
                model.edges[src].insert(dst);
            }
            if (!pending_inserts.empty()) {
                ++stats.acked_batches;
            }
            if (!pending_delete.empty()) {
                model.present[pending_delete] = false;
                ++stats.acked_deletes;
            }
            pending_inserts.clear();
            pending_edges.clear();
            pending_delete.clear();
        } else {
            Die("unexpected child output line: " + line);
        }
    }
    // Whatever was announced but not acknowledged was in flight at the kill.
    model.uncertain_inserts = pending_inserts;
    for (const auto& [src, dst] : pending_edges) {
        model.edges[src].insert(dst);  // kept only if the batch turns out to be present
    }
    model.uncertain_delete = pending_delete;
}

void Verify(const std::string& dir, Model& model, Stats& stats) {
    auto opened = phenix::Database::Open(dir, WithEncryption({}));
    if (!opened.ok()) {
        Die("reopen after kill failed: " + opened.status().ToString());
    }
    auto db = std::move(opened).value();
    // An in-flight batch must be all or nothing.
    if (!model.uncertain_inserts.empty()) {
        std::size_t found = 0;
        for (const auto& id : model.uncertain_inserts) {
            found += db->Get(kCollection, id).ok() ? 1u : 0u;
        }
        if (found != 0 && found != model.uncertain_inserts.size()) {
            Die("in-flight batch is partially present: " + std::to_string(found) + " of " +
                std::to_string(model.uncertain_inserts.size()));
        }
        for (const auto& id : model.uncertain_inserts) {
            model.present[id] = found != 0;
        }
        (found != 0 ? stats.inflight_present : stats.inflight_absent) += 1;
        model.uncertain_inserts.clear();
    }
    if (!model.uncertain_delete.empty()) {
        model.present[model.uncertain_delete] = db->Get(kCollection, model.uncertain_delete).ok();
        model.uncertain_delete.clear();
    }
    std::size_t num_present = 0;
    std::size_t num_out = 0;
    std::size_t num_in = 0;
    for (const auto& [id, present] : model.present) {
        auto got = db->Get(kCollection, id);
        if (!present) {
            if (got.ok()) {
                Die("acknowledged delete of '" + id + "' was lost");
            }
            if (got.status().code() != phenix::StatusCode::kNotFound) {
                Die("get '" + id + "': " + got.status().ToString());
            }
            continue;
        }
        if (!got.ok()) {
            Die("acknowledged entity '" + id + "' is missing: " + got.status().ToString());
        }
        ++num_present;
        phenix::Entity expected = Content(id);
        if (got->vector != expected.vector || got->metadata != expected.metadata) {
            Die("entity '" + id + "' read back different bytes");
        }
        std::set<std::string> expected_targets;
        for (const auto& target : model.edges[id]) {
            if (model.present.contains(target) && model.present[target]) {
                expected_targets.insert(target);
            }
        }
        std::set<std::string> actual_targets;
        for (const auto& edge : got->edges) {
            actual_targets.insert(edge.target_id);
        }
        if (actual_targets != expected_targets) {
            Die("edges of '" + id + "' differ from the acknowledged ones (" +
                std::to_string(actual_targets.size()) + " vs " +
                std::to_string(expected_targets.size()) + ")");
        }
        num_out += got->edges.size();
        auto in = db->ListEdges(kCollection, id, phenix::EdgeDirection::kIn);
        if (!in.ok()) {
            Die("in-edges of '" + id + "': " + in.status().ToString());
        }
        for (const auto& edge : *in) {
            if (!model.present[edge.source_id]) {
                Die("in-edge of '" + id + "' from deleted '" + edge.source_id + "'");
            }
        }
        num_in += in->size();
    }
    if (num_in != num_out) {
        Die("out-edges (" + std::to_string(num_out) + ") and in-edges (" + std::to_string(num_in) +
            ") disagree");
    }
    auto info = db->GetCollection(kCollection);
    if (info.ok() && info->num_entities != num_present) {
        Die("entity count " + std::to_string(info->num_entities) +
            " != " + std::to_string(num_present) + " present");
    }
    // The vector index (reloaded from its last checkpoint and caught up) agrees with the model:
    // a sample of present entities is in it with exactly its vector, and no search returns a
    // deleted entity.
    std::size_t sample = 0;
    for (const auto& [id, present] : model.present) {
        if (sample++ % 5 != 0) {
            continue;
        }
        const phenix::Entity content = Content(id);
        if (present) {
            auto exact = db->Search(kCollection, content.vector,
                                    {.k = 1,
                                     .filter_ids = std::vector<std::string>{id},
                                     .strategy = phenix::SearchStrategy::kExactScan});
            if (!exact.ok() || exact->hits.size() != 1 || exact->hits[0].id != id ||
                exact->hits[0].distance != 0.0f) {
                Die("present entity '" + id + "' is missing from the vector index");
            }
        }
        auto near = db->Search(kCollection, content.vector, {.k = 3});
        if (!near.ok()) {
            Die("search: " + near.status().ToString());
        }
        // "No deleted entity is returned" means something only if entities are returned.
        if (near->hits.size() != std::min<std::size_t>(3, num_present)) {
            Die("a search for 3 returned " + std::to_string(near->hits.size()) + " of " +
                std::to_string(num_present) + " present entities");
        }
        for (const auto& hit : near->hits) {
            if (!model.present.contains(hit.id) || !model.present[hit.id]) {
                Die("search returned '" + hit.id + "', which is not present");
            }
        }
        ++stats.searches_checked;
    }
    // The metadata index on "h" (finished by this open if a kill interrupted its build) holds
    // exactly the present entities, and Verify agrees with every derived structure.
    auto indexed =
        db->Find(kCollection, {.filter = R"({"h":{"$exists":true}})", .count_only = true});
    if (!indexed.ok() || indexed->count != num_present) {
        Die("the metadata index counts " +
            (indexed.ok() ? std::to_string(indexed->count) : indexed.status().ToString()) +
            " entities, " + std::to_string(num_present) + " are present");
    }
    const phenix::Status verified = db->Verify();
    if (!verified.ok()) {
        Die("Verify after the kill: " + verified.ToString());
    }
    if (!db->Close().ok()) {
        Die("close failed");
    }
}

// Runs one child, kills it after `kill_after`, returns everything it printed.
// `while_running` runs once, after the child's first acknowledged write, before the kill.
std::string RunAndKill(const std::string& self, const std::string& dir, std::uint64_t seed,
                       const std::string& prefix, const std::string& live_ids_file,
                       std::chrono::microseconds kill_after,
                       const std::function<void()>& while_running) {
    int fds[2];
    if (::pipe(fds) != 0) {
        Die("pipe failed");
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        Die("fork failed");
    }
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        std::string seed_text = std::to_string(seed);
        ::execl(self.c_str(), self.c_str(), "--child", dir.c_str(), seed_text.c_str(),
                prefix.c_str(), live_ids_file.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::string output;
    char buf[65536];
    const auto deadline = std::chrono::steady_clock::now() + kill_after;
    bool started = false;
    auto drain = [&] {
        while (true) {
            ssize_t n = ::read(fds[0], buf, sizeof(buf));
            if (n <= 0) {
                return n == 0;  // true at EOF
            }
            output.append(buf, static_cast<std::size_t>(n));
        }
    };
    // Wait for the first acknowledgement (the child has opened the database), then the delay.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
        bool eof = drain();
        if (!started && output.find("A\n") != std::string::npos) {
            started = true;
            if (while_running) {
                while_running();
            }
        }
        if (eof) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            Die("child exited early (status " + std::to_string(status) + ")");
        }
        auto now = std::chrono::steady_clock::now();
        if (now > give_up) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            Die("child made no progress within 30 s");
        }
        if (started && now >= deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const int status = phenix::testing::KillAndDrain(pid, fds[0], output);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        Die("child did not die by SIGKILL (status " + std::to_string(status) + ")");
    }
    return output;
}

// Rotates the master key of `data` to a new key file `next_key` while the writer runs. With
// `kill_at` set, the rotation runs in a forked process that dies by SIGKILL at that sync point.
// Afterwards the KMS file names the master key that the data key file says wraps it.
void RotateMasterKey(const std::string& data, const std::string& next_key, const char* kill_at) {
    std::string current;
    {
        std::ifstream in(KmsFile());
        std::getline(in, current);
    }
    auto created = phenix::CreateMasterKeyFile(next_key);
    if (!created.ok()) {
        Die("create master key: " + created.status().ToString());
    }
    const std::string next = "local:" + next_key;
    if (kill_at == nullptr) {
        auto rotated = phenix::RotateMasterKey(data, {.kms = current}, {.kms = next});
        if (!rotated.ok()) {
            Die("rotation: " + rotated.status().ToString());
        }
    } else {
        const pid_t pid = ::fork();
        if (pid == 0) {
            phenix::SyncPoints::Set(kill_at, [] { ::raise(SIGKILL); });
            (void)phenix::RotateMasterKey(data, {.kms = current}, {.kms = next});
            std::_Exit(0);  // not reached: the sync point kills the process
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            Die("the rotation process did not die at " + std::string(kill_at));
        }
    }
    // Which wrapping survived: the key file names its master key.
    std::ifstream key_file(data + "/keys/data_key");
    std::string line;
    std::string kek;
    while (std::getline(key_file, line)) {
        if (line.starts_with("kek ")) {
            kek = line.substr(4);
        }
    }
    const bool is_new = kek == *created;
    const bool expect_new = kill_at == nullptr || std::string(kill_at).find("After") !=
                                                      std::string::npos;
    if (is_new != expect_new) {
        Die("after rotation (kill at " + std::string(kill_at ? kill_at : "none") +
            ") the data key is wrapped by " + kek);
    }
    std::ofstream(KmsFile(), std::ios::trunc) << (is_new ? next : current) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 6 && std::strcmp(argv[1], "--child") == 0) {
        return RunChild(argv[2], std::strtoull(argv[3], nullptr, 10), argv[4], argv[5]);
    }
    int iterations = 20;
    std::uint64_t seed = std::random_device{}();
    std::string dir;
    bool encrypt = false;
    for (int idx = 1; idx < argc; ++idx) {
        std::string arg = argv[idx];
        if (arg == "--encrypt") {
            encrypt = true;
        } else if (arg.starts_with("--iterations=")) {
            iterations = std::atoi(arg.c_str() + 13);
        } else if (arg.starts_with("--seed=")) {
            seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
        } else if (arg.starts_with("--dir=")) {
            dir = arg.substr(6);
        } else {
            std::fprintf(stderr, "usage: %s [--iterations=N] [--seed=S] [--dir=PATH] [--encrypt]\n",
                         argv[0]);
            return 2;
        }
    }
    bool own_dir = dir.empty();
    if (own_dir) {
        char tmpl[] = "/tmp/phenix-kill9-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            Die("mkdtemp failed");
        }
        dir = tmpl;
    }
    const std::string data = dir + "/data";
    const std::string self = std::filesystem::read_symlink("/proc/self/exe");
    std::printf("kill9: seed %llu, %d iterations, data in %s\n",
                static_cast<unsigned long long>(seed), iterations, data.c_str());
    std::mt19937_64 rng(seed);
    Model model;
    Stats stats;
    int rotations = 0;
    if (encrypt) {
        const std::string kms_file = dir + "/kms.txt";
        ::setenv("PHENIX_KILL9_KMS_FILE", kms_file.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
        const std::string key = dir + "/master-0.key";
        if (!phenix::CreateMasterKeyFile(key).ok()) {
            Die("cannot create " + key);
        }
        std::ofstream(kms_file) << "local:" << key << "\n";
    }
    for (int iteration = 0; iteration < iterations; ++iteration) {
        const std::string live = dir + "/live-ids.txt";
        {
            std::ofstream out(live, std::ios::trunc);
            for (const auto& [id, present] : model.present) {
                if (present) {
                    out << id << '\n';
                }
            }
            if (!out) {
                Die("cannot write " + live);
            }
        }
        // Kill between 0 and 150 ms after the child's first acknowledged write.
        auto delay = std::chrono::microseconds(rng() % 150000);
        std::function<void()> rotate;
        if (encrypt && iteration > 0) {  // round 0 creates the directory
            static constexpr const char* kKillPoints[] = {
                nullptr, "DataKey::Rewrite:BeforeRename", nullptr,
                "DataKey::Rewrite:AfterRename"};
            const char* kill_at = kKillPoints[iteration % 4];
            rotate = [&, kill_at] {
                RotateMasterKey(data, dir + "/master-" + std::to_string(iteration) + ".key",
                                kill_at);
                ++rotations;
            };
        }
        std::string output =
            RunAndKill(self, data, rng(), "r" + std::to_string(iteration), live, delay, rotate);
        ApplyChildOutput(output, model, stats);
        Verify(data, model, stats);
        if ((iteration + 1) % 10 == 0 || iteration + 1 == iterations) {
            std::printf("kill9: %d/%d rounds, %zu acknowledged batches and %zu deletes verified\n",
                        iteration + 1, iterations, stats.acked_batches, stats.acked_deletes);
            std::fflush(stdout);
        }
    }
    std::printf(
        "kill9: PASSED: %d kills; %zu acknowledged batches, %zu acknowledged deletes all durable; "
        "in-flight batches at kill: %zu present, %zu absent, none partial; %zu vector index checks "
        "after reopen; %d master-key rotations under load\n",
        iterations, stats.acked_batches, stats.acked_deletes, stats.inflight_present,
        stats.inflight_absent, stats.searches_checked, rotations);
    if (own_dir) {
        std::filesystem::remove_all(dir);
    }
    return 0;
}
