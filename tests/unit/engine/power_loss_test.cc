// SPDX-License-Identifier: Apache-2.0
// Phenix's durability claim under simulated power loss (testing/fault_injection_fs.h):
// with Durability::kSync every acknowledged write survives; with kRelaxed what survives is a
// prefix of the acknowledged history at batch granularity. Also what a full or failing disk does
// to a write and to the database afterwards.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/database_impl.h"
#include "testing/db_fixture.h"
#include "testing/fault_injection_fs.h"
#include "testing/temp_dir.h"

namespace phenix::engine {
namespace {

using phenix::testing::FaultInjectionFileSystem;
using phenix::testing::TempDir;

constexpr const char* kCollection = "docs";
constexpr std::uint32_t kDimension = 4;

// The collection as the oracle expects it: id -> entity exactly as Get/Scan return it.
using State = std::map<std::string, Entity>;

// Out-edges as Phenix returns them: one per (label, target), the last one wins, ordered by label
// then target.
std::vector<Edge> NormalizedEdges(const std::vector<Edge>& edges) {
    std::map<std::pair<std::string, std::string>, Edge> unique;
    for (const Edge& edge : edges) {
        unique[{edge.label, edge.target_id}] = edge;
    }
    std::vector<Edge> out;
    for (auto& [key, edge] : unique) {
        out.push_back(edge);
    }
    return out;
}

// Applies one acknowledged write to the oracle (only upserts and deletes are generated).
void Apply(State& state, const WriteBatch& batch) {
    for (const WriteBatch::Op& op : batch.ops()) {
        switch (op.type) {
            case WriteBatch::OpType::kUpsert: {
                Entity entity = op.entity;
                entity.edges = NormalizedEdges(entity.edges);
                state[entity.id] = std::move(entity);
                break;
            }
            case WriteBatch::OpType::kDelete:
                state.erase(op.entity.id);
                for (auto& [id, entity] : state) {
                    std::erase_if(entity.edges,
                                  [&](const Edge& e) { return e.target_id == op.entity.id; });
                }
                break;
            default:
                FAIL() << "the workload generates only upserts and deletes";
        }
    }
}

std::string Describe(const Entity& entity) {
    std::ostringstream out;
    out << entity.id << entity.metadata << "[";
    for (const Edge& edge : entity.edges) {
        out << " " << edge.label << "->" << edge.target_id << "@" << edge.weight;
    }
    out << " ]";
    return out.str();
}

std::string Describe(const State& state) {
    std::ostringstream out;
    out << state.size() << " entities:";
    for (const auto& [id, entity] : state) {
        out << " " << Describe(entity);
    }
    return out.str();
}

// What differs between two states, for failure messages.
std::string Diff(const State& expected, const State& actual) {
    std::ostringstream out;
    for (const auto& [id, entity] : expected) {
        auto it = actual.find(id);
        if (it == actual.end()) {
            out << "\n  missing: " << Describe(entity);
        } else if (!(it->second == entity)) {
            out << "\n  differs: expected " << Describe(entity) << "\n           actual   "
                << Describe(it->second);
        }
    }
    for (const auto& [id, entity] : actual) {
        if (!expected.contains(id)) {
            out << "\n  unexpected: " << Describe(entity);
        }
    }
    return out.str();
}

// Random entities with edges. Entity ids are unique across the whole test ("e00042").
class Workload {
  public:
    explicit Workload(std::uint64_t seed) : rng_(seed) {}

    std::string NewId() {
        std::string id = std::to_string(next_id_++);
        return "e" + std::string(5 - std::min<std::size_t>(5, id.size()), '0') + id;
    }

    // An entity with up to three edges to `targets` (which must exist once it is written).
    Entity MakeEntity(std::string id, const std::vector<std::string>& targets) {
        Entity entity;
        entity.id = std::move(id);
        for (std::uint32_t dim = 0; dim < kDimension; ++dim) {
            entity.vector.push_back(static_cast<float>(Uniform(1, 64)) * 0.125f);
        }
        entity.metadata = "{\"n\":" + std::to_string(Uniform(0, 1000000)) + "}";
        if (!targets.empty()) {
            const std::size_t num_edges = Uniform(0, 3);
            for (std::size_t edge_idx = 0; edge_idx < num_edges; ++edge_idx) {
                Edge edge;
                edge.label = Uniform(0, 1) == 0 ? "cites" : "likes";
                edge.target_id = targets[Uniform(0, targets.size() - 1)];
                edge.weight = static_cast<double>(Uniform(0, 16)) * 0.25;
                entity.edges.push_back(std::move(edge));
            }
        }
        return entity;
    }

    // A batch of 2..5 new entities with edges among themselves (each may point at the ones
    // before it and at itself) and to existing entities of `state`.
    WriteBatch NewEntitiesBatch(const State& state) {
        WriteBatch batch;
        std::vector<std::string> targets = SomeIds(state, 3);
        const std::size_t num_entities = Uniform(2, 5);
        for (std::size_t entity_idx = 0; entity_idx < num_entities; ++entity_idx) {
            std::string id = NewId();
            targets.push_back(id);
            Entity entity = MakeEntity(id, targets);
            // Chain the batch so that a partially applied batch would leave a dangling edge.
            if (entity_idx > 0) {
                entity.edges.push_back(
                    Edge{.label = "next", .target_id = targets[targets.size() - 2]});
            }
            batch.Upsert(kCollection, std::move(entity));
        }
        return batch;
    }

    // One upsert of a new entity or, half the time, an overwrite of an existing one.
    WriteBatch SingleUpsert(const State& state) {
        std::vector<std::string> ids = SomeIds(state, 1);
        std::string id = (!ids.empty() && Uniform(0, 1) == 0) ? ids[0] : NewId();
        std::vector<std::string> targets = SomeIds(state, 3);
        targets.push_back(id);
        WriteBatch batch;
        batch.Upsert(kCollection, MakeEntity(id, targets));
        return batch;
    }

    // A delete of an existing entity, or nothing if the collection is empty.
    std::optional<WriteBatch> SingleDelete(const State& state) {
        std::vector<std::string> ids = SomeIds(state, 1);
        if (ids.empty()) {
            return std::nullopt;
        }
        WriteBatch batch;
        batch.Delete(kCollection, ids[0]);
        return batch;
    }

    std::size_t Uniform(std::size_t lo, std::size_t hi) {
        return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
    }

  private:
    std::vector<std::string> SomeIds(const State& state, std::size_t max_ids) {
        std::vector<std::string> all;
        for (const auto& [id, entity] : state) {
            all.push_back(id);
        }
        std::vector<std::string> out;
        for (std::size_t idx = 0; idx < max_ids && !all.empty(); ++idx) {
            out.push_back(all[Uniform(0, all.size() - 1)]);
        }
        return out;
    }

    std::mt19937_64 rng_;
    std::uint64_t next_id_ = 0;
};

// A fresh seed, printed; PHENIX_TEST_SEED=<n> replays one.
std::uint64_t NewSeed() {
    const char* forced = std::getenv("PHENIX_TEST_SEED");
    const std::uint64_t seed =
        forced != nullptr ? std::strtoull(forced, nullptr, 10) : std::random_device{}();
    std::cout << "[ seed     ] " << seed << " (PHENIX_TEST_SEED=" << seed << " replays it)\n";
    return seed;
}

class PowerLoss : public ::testing::Test {
  protected:
    void Open(Durability durability) {
        const Options options{
            .durability = durability, .block_cache_bytes = 8u << 20, .background_threads = 2};
        auto db = DatabaseImpl::Open(dir_.Sub("data"), options, env_.get());
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
    }

    void CreateCollection() {
        PHENIX_ASSERT_OK(db_->CreateCollection(
            {.ref = kCollection, .dimension = kDimension, .metric = Metric::kL2}));
    }

    // Writes a batch the way the workload chose: a one-op batch through the single-entity call
    // (Upsert / Delete), anything else through Write.
    Status Submit(const WriteBatch& batch) {
        if (batch.size() == 1 && batch.ops()[0].type == WriteBatch::OpType::kUpsert) {
            return db_->Upsert(kCollection, batch.ops()[0].entity);
        }
        if (batch.size() == 1 && batch.ops()[0].type == WriteBatch::OpType::kDelete) {
            return db_->Delete(kCollection, batch.ops()[0].entity.id);
        }
        return db_->Write(batch);
    }

    // The power goes out: the disk freezes, the process dies (the Database is torn down, but its
    // shutdown writes and syncs fail and change nothing), and what was not durable is lost
    // (all of it, or with `seed` a random prefix of each file's unsynced tail).
    void PowerFail(std::optional<std::uint64_t> seed = std::nullopt) {
        fs_->SetFilesystemActive(false);
        db_.reset();
        const Status dropped =
            seed.has_value() ? fs_->DropRandomUnsyncedData(*seed) : fs_->DropUnsyncedData();
        fs_->SetFilesystemActive(true);
        PHENIX_ASSERT_OK(dropped);
    }

    // Every entity of the collection with its out-edges.
    State ReadState() {
        State state;
        ScanOptions options{.limit = 1000, .include_edges = true};
        while (true) {
            auto page = db_->Scan(kCollection, options);
            EXPECT_TRUE(page.ok()) << page.status().ToString();
            if (!page.ok()) {
                return state;
            }
            for (Entity& entity : page->entities) {
                std::string id = entity.id;
                state.emplace(std::move(id), std::move(entity));
            }
            if (page->next_start_after.empty()) {
                return state;
            }
            options.start_after = page->next_start_after;
        }
    }

    // Invariants that hold for any state Phenix can be in: the count is exact, no out-edge
    // dangles, and every entity's in-edges mirror the out-edges pointing at it.
    void ExpectConsistent(const State& state) {
        auto info = db_->GetCollection(kCollection);
        ASSERT_TRUE(info.ok()) << info.status().ToString();
        EXPECT_EQ(info->num_entities, state.size());
        std::map<std::string, std::multiset<std::string>> in_edges;
        for (const auto& [id, entity] : state) {
            for (const Edge& edge : entity.edges) {
                EXPECT_TRUE(state.contains(edge.target_id))
                    << id << " has a dangling edge to " << edge.target_id;
                in_edges[edge.target_id].insert(id + " -" + edge.label + "->");
            }
        }
        for (const auto& [id, entity] : state) {
            auto edges = db_->ListEdges(kCollection, id, EdgeDirection::kIn);
            ASSERT_TRUE(edges.ok()) << edges.status().ToString();
            std::multiset<std::string> actual;
            for (const EdgeRecord& edge : *edges) {
                EXPECT_TRUE(state.contains(edge.source_id))
                    << id << " has an in-edge from missing " << edge.source_id;
                actual.insert(edge.source_id + " -" + edge.label + "->");
            }
            EXPECT_EQ(actual, in_edges[id]) << "in-edges of " << id;
        }
    }

    // The database holds exactly `expected`, consistently.
    void ExpectState(const State& expected) {
        const State actual = ReadState();
        EXPECT_TRUE(actual == expected) << expected.size() << " entities expected, "
                                        << actual.size() << " found:" << Diff(expected, actual);
        ExpectConsistent(actual);
    }

    TempDir dir_;
    std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
    std::unique_ptr<rocksdb::Env> env_ = testing::NewFaultInjectionEnv(fs_);
    std::unique_ptr<Database> db_;  // declared after env_: destroyed before it
};

// Every write acknowledged with Durability::kSync survives a power loss, and so does everything
// acknowledged before earlier power losses on the same directory. (Run with kRelaxed instead,
// this test fails in its first round: it does catch missing fsyncs.)
TEST_F(PowerLoss, SyncedWritesSurviveRepeatedPowerLoss) {
    const std::uint64_t seed = NewSeed();
    Workload workload(seed);
    constexpr int kRounds = 4;
    constexpr int kWritesPerRound = 25;
    constexpr Durability kDurability = Durability::kSync;

    ASSERT_NO_FATAL_FAILURE(Open(kDurability));
    ASSERT_NO_FATAL_FAILURE(CreateCollection());
    State expected;
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
        for (int write_idx = 0; write_idx < kWritesPerRound; ++write_idx) {
            std::optional<WriteBatch> batch;
            const std::size_t kind = workload.Uniform(0, 9);
            if (kind < 4) {
                batch = workload.NewEntitiesBatch(expected);
            } else if (kind < 9) {
                batch = workload.SingleUpsert(expected);
            } else {
                batch = workload.SingleDelete(expected);
            }
            if (!batch.has_value()) {
                continue;
            }
            PHENIX_ASSERT_OK(Submit(*batch));
            Apply(expected, *batch);
        }
        // Odd rounds keep a random part of whatever was not synced (e.g. a torn WAL tail).
        ASSERT_NO_FATAL_FAILURE(PowerFail(
            round % 2 == 0
                ? std::nullopt
                : std::optional<std::uint64_t>(seed + static_cast<std::uint64_t>(round))));
        ASSERT_NO_FATAL_FAILURE(Open(kDurability));
        ExpectState(expected);
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

// With Durability::kRelaxed acknowledged writes may be lost, but only a suffix of whole
// batches: the state after a power loss equals the state after some prefix of the acknowledged
// history, so no batch is partially present, counts match, and no edge dangles.
TEST_F(PowerLoss, RelaxedWritesLoseOnlyASuffixOfWholeBatches) {
    const std::uint64_t seed = NewSeed();
    Workload workload(seed);
    constexpr int kRounds = 6;
    constexpr int kBatchesPerRound = 12;

    ASSERT_NO_FATAL_FAILURE(Open(Durability::kRelaxed));
    ASSERT_NO_FATAL_FAILURE(CreateCollection());  // catalog changes are always synced
    State survived;
    int num_rounds_with_loss = 0;
    int num_rounds_with_partial_loss = 0;
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
        State current = survived;
        std::vector<WriteBatch> history;
        for (int batch_idx = 0; batch_idx < kBatchesPerRound; ++batch_idx) {
            std::optional<WriteBatch> batch;
            const std::size_t kind = workload.Uniform(0, 9);
            if (kind < 6) {
                batch = workload.NewEntitiesBatch(current);
            } else if (kind < 9) {
                batch = workload.SingleUpsert(current);
            } else {
                batch = workload.SingleDelete(current);
            }
            if (!batch.has_value()) {
                continue;
            }
            PHENIX_ASSERT_OK(Submit(*batch));
            Apply(current, *batch);
            history.push_back(std::move(*batch));
        }
        // Round 0 loses everything unsynced; later rounds keep a random part of it, which may
        // cut the write-ahead log in the middle of a batch.
        ASSERT_NO_FATAL_FAILURE(PowerFail(
            round == 0 ? std::nullopt
                       : std::optional<std::uint64_t>(seed + static_cast<std::uint64_t>(round))));
        ASSERT_NO_FATAL_FAILURE(Open(Durability::kRelaxed));

        const State actual = ReadState();
        ExpectConsistent(actual);
        State prefix = survived;
        std::optional<std::size_t> num_kept;
        for (std::size_t batch_idx = 0; batch_idx <= history.size(); ++batch_idx) {
            if (batch_idx > 0) {
                Apply(prefix, history[batch_idx - 1]);
            }
            if (prefix == actual) {
                num_kept = batch_idx;
            }
        }
        ASSERT_TRUE(num_kept.has_value())
            << "the state after power loss is not the state after any prefix of the "
               "acknowledged batches\nactual: "
            << Describe(actual) << "\nbefore the round: " << Describe(survived);
        std::cout << "[ round " << round << "  ] kept " << *num_kept << " of " << history.size()
                  << " acknowledged batches\n";
        if (*num_kept < history.size()) {
            ++num_rounds_with_loss;
            if (*num_kept > 0) {
                ++num_rounds_with_partial_loss;
            }
        }
        survived = actual;
    }
    // Round 0 drops every unsynced byte, so relaxed writes must have been lost at least once;
    // otherwise they were synced after all and this test would prove nothing.
    EXPECT_GT(num_rounds_with_loss, 0);
    std::cout << "[ summary  ] " << num_rounds_with_loss << " rounds lost writes, "
              << num_rounds_with_partial_loss << " of them kept a strict prefix\n";
}

// ---- A full or failing disk ----
//
// What RocksDB 7.8 does when the write-ahead-log append of a write fails:
//   * the write fails (ResourceExhausted for a full disk, IOError otherwise) and none of it is
//     visible; reads keep working;
//   * RocksDB records a background error and refuses every later write with the same status.
//     A full disk is a "hard" error: RocksDB's SstFileManager polls the free space every 5 s and
//     resumes writes on its own once there is room (DB::Resume() answers Busy meanwhile). Any
//     other I/O error is "fatal": writes fail until the database is reopened;
//   * closing the database then returns an IOError (RocksDB: "Seen error. Skip writing buffer.")
//     but does not abort. (It used to: Store::Close synced the WAL writer that had seen the
//     error, and Debian's assertion-enabled librocksdb dies on `assert(sync_without_flush_called_)`
//     in WritableFileWriter::AssertFalseAndGetStatusForPrevError. Store now skips that sync after
//     a failed write; these tests pin the fix.);
//   * after a restart, every write acknowledged before the failure is there, none of the failed
//     ones is, and writes work again.
// Each test runs the fault in a forked child that ends by closing the database and exiting (so
// nothing of the failed process leaks into the parent); the parent then reopens the same
// directory as the restarted process.

// Under ThreadSanitizer a forked child may not start threads, and RocksDB does.
#if defined(__SANITIZE_THREAD__)
#define PHENIX_POWER_LOSS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PHENIX_POWER_LOSS_TSAN 1
#endif
#endif

enum class DiskFault : std::uint8_t { kNoSpace, kWriteError };

class PowerLossDeathTest : public PowerLoss {
  protected:
    static Entity Before() {
        return Entity{.id = "before", .vector = {1, 2, 3, 4}, .metadata = "{\"n\":1}"};
    }

    // Runs in the child, where gtest assertions would not reach the parent: a failed check
    // prints why and exits with 1 (not the death the parent expects).
    static void Check(bool ok, const std::string& what) {
        if (!ok) {
            std::fprintf(stderr, "scenario check failed: %s\n", what.c_str());
            std::fflush(stderr);
            std::_Exit(1);
        }
    }

    // The child: acknowledged write, failing write, checks, close.
    void RunDiskFaultScenario(DiskFault fault) {
        const StatusCode fault_code =
            fault == DiskFault::kNoSpace ? StatusCode::kResourceExhausted : StatusCode::kIOError;
        const Options options{.block_cache_bytes = 8u << 20, .background_threads = 2};
        auto opened = DatabaseImpl::Open(dir_.Sub("data"), options, env_.get());
        Check(opened.ok(), "open: " + opened.status().ToString());
        std::unique_ptr<Database> db = std::move(opened).value();
        Check(db->CreateCollection(
                    {.ref = kCollection, .dimension = kDimension, .metric = Metric::kL2})
                  .ok(),
              "create collection");
        Check(db->Upsert(kCollection, Before()).ok(), "the acknowledged write");

        if (fault == DiskFault::kNoSpace) {
            fs_->SetNoSpace(true);
        } else {
            fs_->InjectWriteError(true);
        }
        WriteBatch batch;
        batch.Upsert(kCollection, Entity{.id = "a",
                                         .vector = {1, 1, 1, 1},
                                         .edges = {Edge{.label = "x", .target_id = "b"}}});
        batch.Upsert(kCollection, Entity{.id = "b",
                                         .vector = {2, 2, 2, 2},
                                         .edges = {Edge{.label = "x", .target_id = "before"}}});
        const Status failed = db->Write(batch);
        Check(failed.code() == fault_code, "the failing write returned " + failed.ToString());

        // Nothing of the failed batch is visible; reads work.
        Check(db->Get(kCollection, "a").status().code() == StatusCode::kNotFound, "a is absent");
        Check(db->Get(kCollection, "b").status().code() == StatusCode::kNotFound, "b is absent");
        auto before = db->Get(kCollection, "before");
        Check(before.ok() && *before == Before(), "before reads back unchanged");
        auto in_edges = db->ListEdges(kCollection, "before", EdgeDirection::kIn);
        Check(in_edges.ok() && in_edges->empty(), "before has no in-edge from b");
        auto info = db->GetCollection(kCollection);
        Check(info.ok() && info->num_entities == 1, "the count is still 1");

        // The database refuses later writes with the same status...
        const Status later = db->Upsert(kCollection, Entity{.id = "c", .vector = {3, 3, 3, 3}});
        Check(later.code() == fault_code, "a later write returned " + later.ToString());
        if (fault == DiskFault::kWriteError) {
            // ...and, for an I/O error, even after the disk works again (no auto-recovery). For
            // a full disk, a write right after space is freed also fails, until the next 5 s
            // poll; that is timing, so it is not checked here.
            fs_->InjectWriteError(false);
            const Status after = db->Upsert(kCollection, Entity{.id = "d", .vector = {4, 4, 4, 4}});
            Check(after.code() == StatusCode::kIOError,
                  "a write after the error cleared returned " + after.ToString());
        }
        std::fprintf(stderr, "scenario checks passed\n");
        std::fflush(stderr);
        const Status closed = db->Close();
        std::fprintf(stderr, "close returned %s\n", closed.ToString().c_str());
        std::fflush(stderr);
        std::_Exit(0);
    }

    // The forked child shares this fixture's directory; it must close cleanly (exit 0), with
    // Close reporting the earlier failure instead of aborting the process.
    void ExpectCleanCloseAfter(DiskFault fault) {
        const std::string style = GTEST_FLAG_GET(death_test_style);
        GTEST_FLAG_SET(death_test_style, "fast");
        EXPECT_EXIT(RunDiskFaultScenario(fault), ::testing::ExitedWithCode(0),
                    "scenario checks passed.*close returned IOError: closing the storage engine "
                    "after a failed write");
        GTEST_FLAG_SET(death_test_style, style);
    }

    // The parent, as the restarted process on a healthy disk: exactly the acknowledged write.
    void ExpectRestartRecovers() {
        ASSERT_NO_FATAL_FAILURE(Open(Durability::kSync));
        ExpectState(State{{"before", Before()}});
        PHENIX_EXPECT_OK(db_->Upsert(kCollection, Entity{.id = "e", .vector = {5, 5, 5, 5}}));
    }
};

TEST_F(PowerLossDeathTest, FullDiskFailsWritesWholeClosesCleanlyAndRestartRecovers) {
#ifdef PHENIX_POWER_LOSS_TSAN
    GTEST_SKIP() << "death tests fork; ThreadSanitizer forbids threads in a forked child";
#endif
    ExpectCleanCloseAfter(DiskFault::kNoSpace);
    ExpectRestartRecovers();
}

TEST_F(PowerLossDeathTest, WalWriteErrorStopsWritesUntilRestartAndClosesCleanly) {
#ifdef PHENIX_POWER_LOSS_TSAN
    GTEST_SKIP() << "death tests fork; ThreadSanitizer forbids threads in a forked child";
#endif
    ExpectCleanCloseAfter(DiskFault::kWriteError);
    ExpectRestartRecovers();
}

// A transaction whose commit meets a full disk: the commit fails with ResourceExhausted and
// writes nothing, reads keep working, and once space is freed the same database (no restart)
// accepts transactions again — RocksDB polls for free space every few seconds. Runs in this
// process, not a forked child: RocksDB's recovery needs its background threads, which a fork
// does not copy.
TEST_F(PowerLoss, FullDiskFailsATransactionCommitAndTheDatabaseRecoversWithoutRestart) {
    const Entity before{.id = "before", .vector = {1, 2, 3, 4}, .metadata = "{\"n\":1}"};
    {
        const Options options{.block_cache_bytes = 8u << 20, .background_threads = 2};
        auto opened = DatabaseImpl::Open(dir_.Sub("data"), options, env_.get());
        ASSERT_TRUE(opened.ok()) << opened.status().ToString();
        std::unique_ptr<Database> db = std::move(opened).value();
        PHENIX_ASSERT_OK(db->CreateCollection(
            {.ref = kCollection, .dimension = kDimension, .metric = Metric::kL2}));
        PHENIX_ASSERT_OK(db->Upsert(kCollection, before));

        auto txn = db->BeginTransaction();
        ASSERT_TRUE(txn.ok());
        PHENIX_ASSERT_OK((*txn)->Upsert(
            kCollection, Entity{.id = "a",
                                .vector = {1, 1, 1, 1},
                                .edges = {Edge{.label = "x", .target_id = "before"}}}));
        PHENIX_ASSERT_OK((*txn)->PatchMetadata(kCollection, "before", R"({"n":2})"));
        fs_->SetNoSpace(true);
        auto failed = (*txn)->Commit();
        EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted)
            << failed.status().ToString();
        EXPECT_EQ((*txn)->Get(kCollection, "a").status().code(), StatusCode::kFailedPrecondition);
        txn->reset();

        // Nothing of it is visible; reads and Verify work on the full disk.
        EXPECT_EQ(db->Get(kCollection, "a").status().code(), StatusCode::kNotFound);
        auto read = db->Get(kCollection, "before");
        ASSERT_TRUE(read.ok());
        EXPECT_EQ(*read, before);
        PHENIX_EXPECT_OK(db->Verify());

        // Free space; within RocksDB's recovery poll, commits work again without a restart.
        fs_->SetNoSpace(false);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        Status retry;
        do {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            auto again = db->BeginTransaction();
            ASSERT_TRUE(again.ok());
            PHENIX_ASSERT_OK(
                (*again)->Upsert(kCollection, Entity{.id = "c", .vector = {3, 3, 3, 3}}));
            retry = (*again)->Commit().status();
        } while (!retry.ok() && std::chrono::steady_clock::now() < deadline);
        PHENIX_ASSERT_OK(retry);
        PHENIX_EXPECT_OK(db->Verify());
        PHENIX_EXPECT_OK(db->Close());
    }
    // Reopened: the acknowledged writes, nothing of the failed transaction.
    ASSERT_NO_FATAL_FAILURE(Open(Durability::kSync));
    ExpectState(State{{"before", before},
                      {"c", Entity{.id = "c", .vector = {3, 3, 3, 3}, .metadata = "{}"}}});
    PHENIX_EXPECT_OK(db_->Verify());
}

}  // namespace
}  // namespace phenix::engine
