// SPDX-License-Identifier: Apache-2.0
// Options::read_only (issue 12, item 8): a read-only database reads everything, refuses every
// kind of write with FailedPrecondition, and writes no byte to its directory: not the lock
// file's pid, not a vector index checkpoint, not a statistics record, not RocksDB's info LOG.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "engine/database_impl.h"
#include "testing/db_fixture.h"
#include "testing/dir_snapshot.h"
#include "testing/fault_injection_fs.h"
#include "testing/temp_dir.h"

namespace phenix::engine {
namespace {

using phenix::testing::DiffSnapshots;
using phenix::testing::SnapshotDir;
using phenix::testing::TempDir;

constexpr const char* kDocs = "docs";
constexpr const char* kNotes = "notes";

Entity Doc(const std::string& id, float x, int n, std::vector<Edge> edges = {}) {
    return Entity{.id = id,
                  .vector = {x, 1.0f, 0.5f, 0.25f},
                  .metadata = "{\"n\":" + std::to_string(n) + "}",
                  .edges = std::move(edges)};
}

Edge To(const std::string& target) {
    return Edge{.label = "cites", .target_id = target};
}

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class ReadOnly : public ::testing::Test {
  protected:
    std::string Data() const { return dir_.Sub("data"); }

    // A database with two collections, vectors, metadata, edges, a metadata index with persisted
    // statistics, and a vector index checkpoint (written at Close). Closed when this returns.
    void Populate() {
        auto opened = Database::Open(Data());
        ASSERT_TRUE(opened.ok()) << opened.status().ToString();
        std::unique_ptr<Database> db = std::move(opened).value();
        PHENIX_ASSERT_OK(db->CreateCollection({.ref = kDocs, .dimension = 4}));
        PHENIX_ASSERT_OK(db->CreateCollection({.ref = kNotes}));
        WriteBatch batch;
        for (int idx = 0; idx < 20; ++idx) {
            std::vector<Edge> edges;
            if (idx > 0) {
                edges.push_back(To("d" + std::to_string(idx - 1)));
            }
            batch.Upsert(kDocs, Doc("d" + std::to_string(idx), static_cast<float>(idx), idx % 4,
                                    std::move(edges)));
        }
        PHENIX_ASSERT_OK(db->Write(batch));
        PHENIX_ASSERT_OK(db->Upsert(kNotes, Entity{.id = "note", .metadata = "{\"a\":1}"}));
        PHENIX_ASSERT_OK(db->CreateIndex(kDocs, "n"));
        PHENIX_ASSERT_OK(db->AnalyzeIndexes(kDocs));
        PHENIX_ASSERT_OK(db->Close());
        ASSERT_TRUE(std::filesystem::exists(Data() + "/index")) << "no vector index checkpoint";
    }

    void OpenReadOnly() {
        auto opened = Database::Open(Data(), Options{.read_only = true});
        ASSERT_TRUE(opened.ok()) << opened.status().ToString();
        db_ = std::move(opened).value();
        ASSERT_TRUE(db_->IsReadOnly());
    }

    // Every read the API offers, each checked against what Populate wrote.
    void ExpectEverythingReadable(Database& db) {
        auto got = db.Get(kDocs, "d5");
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(*got, Doc("d5", 5.0f, 1, {To("d4")}));
        auto page = db.Scan(kDocs, {.limit = 100, .include_edges = true});
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        EXPECT_EQ(page->entities.size(), 20u);
        auto info = db.GetCollection(kDocs);
        ASSERT_TRUE(info.ok());
        EXPECT_EQ(info->num_entities, 20u);
        auto collections = db.ListCollections(kDefaultTenant);
        ASSERT_TRUE(collections.ok());
        EXPECT_EQ(collections->size(), 2u);
        auto in = db.ListEdges(kDocs, "d5", EdgeDirection::kIn);
        ASSERT_TRUE(in.ok());
        ASSERT_EQ(in->size(), 1u);
        EXPECT_EQ((*in)[0].source_id, "d6");

        const std::vector<float> query = {7.0f, 1.0f, 0.5f, 0.25f};
        auto hits = db.Search(kDocs, query, {.k = 3});
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_FALSE(hits->hits.empty());
        EXPECT_EQ(hits->hits[0].id, "d7");
        auto filtered = db.Search(kDocs, query, {.k = 3, .filter = R"({"n": 2})"});
        ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
        ASSERT_FALSE(filtered->hits.empty());
        EXPECT_EQ(filtered->hits[0].id, "d6");
        auto vector_info = db.GetVectorIndexInfo(kDocs);
        ASSERT_TRUE(vector_info.ok());

        auto found = db.Find(kDocs, {.filter = R"({"n": 3})"});
        ASSERT_TRUE(found.ok()) << found.status().ToString();
        EXPECT_EQ(found->count, 5u);
        EXPECT_GT(found->plan.index_entries_read, 0u) << "the metadata index was not used";
        auto indexes = db.ListIndexes(kDocs);
        ASSERT_TRUE(indexes.ok());
        ASSERT_EQ(indexes->size(), 1u);
        EXPECT_EQ((*indexes)[0].state, IndexState::kReady);
        EXPECT_GT((*indexes)[0].statistics_timestamp, 0u) << "persisted statistics not loaded";

        auto reached = db.Traverse(kDocs, {.start_id = "d5", .max_hops = 3});
        ASSERT_TRUE(reached.ok()) << reached.status().ToString();
        EXPECT_EQ(reached->entities.size(), 3u);
        auto paths = db.FindPaths(kDocs, {.start_id = "d5", .end_id = "d3"});
        ASSERT_TRUE(paths.ok()) << paths.status().ToString();
        EXPECT_EQ(paths->paths.size(), 1u);
        auto shortest = db.ShortestPath(kDocs, {.from_id = "d9", .to_id = "d0"});
        ASSERT_TRUE(shortest.ok()) << shortest.status().ToString();
        ASSERT_TRUE(shortest->has_value());
        auto degree = db.Degree(kDocs, "d5", EdgeDirection::kBoth);
        ASSERT_TRUE(degree.ok());
        EXPECT_EQ(*degree, 2u);

        PHENIX_EXPECT_OK(db.Verify());
        // Recomputed in memory (a read-write database also persists them).
        PHENIX_EXPECT_OK(db.AnalyzeIndexes(kDocs));

        for (const bool read_only_txn : {true, false}) {
            auto txn = db.BeginTransaction({.read_only = read_only_txn});
            ASSERT_TRUE(txn.ok()) << txn.status().ToString();
            auto in_txn = (*txn)->Get(kNotes, "note");
            ASSERT_TRUE(in_txn.ok()) << in_txn.status().ToString();
            EXPECT_EQ(in_txn->metadata, R"({"a":1})");
            auto txn_hits = (*txn)->Search(kDocs, query, {.k = 1});
            ASSERT_TRUE(txn_hits.ok());
            auto committed = (*txn)->Commit();  // nothing to write: fine read-only
            EXPECT_TRUE(committed.ok()) << committed.status().ToString();
        }
    }

    TempDir dir_;
    std::unique_ptr<Database> db_;
};

TEST_F(ReadOnly, ReadsEverythingAndWritesNoByte) {
    ASSERT_NO_FATAL_FAILURE(Populate());
    const auto before = SnapshotDir(Data());
    ASSERT_TRUE(before.contains("LOCK"));
    ASSERT_NO_FATAL_FAILURE(OpenReadOnly());
    ASSERT_NO_FATAL_FAILURE(ExpectEverythingReadable(*db_));

    // PhenixQL reads, and COPY ... TO, which writes only its export file, outside the data
    // directory.
    QuerySession session(*db_);
    for (const std::string statement :
         {"SELECT id FROM docs WHERE metadata.n = 2 ORDER BY vector <-> [1, 1, 1, 1] LIMIT 3",
          "EXPLAIN SELECT id FROM docs WHERE metadata.n = 2 LIMIT 3", "SHOW COLLECTIONS",
          "DESCRIBE docs", "BEGIN", "SELECT id FROM notes", "COMMIT"}) {
        auto result = session.Execute(statement);
        EXPECT_TRUE(result.ok()) << statement << ": " << result.status().ToString();
    }
    const std::string exported = dir_.Sub("docs.jsonl");
    auto copied = session.Execute("COPY docs TO '" + exported + "'");
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    const std::string text = ReadFile(exported);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 20);

    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    const std::string diff = DiffSnapshots(before, SnapshotDir(Data()));
    EXPECT_TRUE(diff.empty()) << "the read-only open changed the data directory:\n" << diff;
}

TEST_F(ReadOnly, RefusesEveryWriteWithFailedPrecondition) {
    ASSERT_NO_FATAL_FAILURE(Populate());
    const auto before = SnapshotDir(Data());
    ASSERT_NO_FATAL_FAILURE(OpenReadOnly());
    Database& db = *db_;
    WriteBatch batch;
    batch.Upsert(kDocs, Doc("new", 1, 1));
    const std::string jsonl = dir_.Sub("load.jsonl");
    {
        std::ofstream out(jsonl);
        out << R"({"id": "c1", "vector": [1, 2, 3, 4]})"
            << "\n";
    }
    QuerySession session(db);
    const std::vector<std::pair<std::string, std::function<Status()>>> writes = {
        {"Insert", [&] { return db.Insert(kDocs, Doc("new", 1, 1)); }},
        {"Upsert", [&] { return db.Upsert(kDocs, Doc("d1", 1, 1)); }},
        {"ReplaceMetadata", [&] { return db.ReplaceMetadata(kDocs, "d1", "{}"); }},
        {"PatchMetadata", [&] { return db.PatchMetadata(kDocs, "d1", R"({"n": 9})"); }},
        {"Delete", [&] { return db.Delete(kDocs, "d1"); }},
        {"Write", [&] { return db.Write(batch); }},
        {"CreateTenant", [&] { return db.CreateTenant("other"); }},
        {"CreateCollection", [&] { return db.CreateCollection({.ref = "more"}); }},
        {"DropCollection", [&] { return db.DropCollection(kNotes); }},
        {"CreateIndex", [&] { return db.CreateIndex(kDocs, "other"); }},
        {"DropIndex", [&] { return db.DropIndex(kDocs, "n"); }},
        {"Compact", [&] { return db.Compact(); }},
        {"RebuildVectorIndex", [&] { return db.RebuildVectorIndex(kDocs, nullptr); }},
        {"transaction write",
         [&]() -> Status {
             auto txn = db.BeginTransaction();
             if (!txn.ok()) {
                 return txn.status();
             }
             return (*txn)->Upsert(kDocs, Doc("t", 1, 1));
         }},
        {"COPY FROM", [&] { return session.Execute("COPY docs FROM '" + jsonl + "'").status(); }},
        {"COPY FROM ON_ERROR skip",
         [&] {
             return session.Execute("COPY docs FROM '" + jsonl + "' (ON_ERROR skip)").status();
         }},
        {"INSERT",
         [&] {
             return session.Execute(R"(INSERT INTO notes (id, metadata) VALUES ('x', {"a": 2}))")
                 .status();
         }},
        {"CREATE COLLECTION", [&] { return session.Execute("CREATE COLLECTION more").status(); }},
    };
    for (const auto& [name, write] : writes) {
        const Status s = write();
        EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << name << ": " << s.ToString();
        EXPECT_NE(s.message().find("read-only"), std::string::npos) << name << ": " << s.ToString();
    }
    // Nothing changed, in memory or on disk.
    ASSERT_NO_FATAL_FAILURE(ExpectEverythingReadable(db));
    EXPECT_EQ(db.Get(kDocs, "new").status().code(), StatusCode::kNotFound);
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    const std::string diff = DiffSnapshots(before, SnapshotDir(Data()));
    EXPECT_TRUE(diff.empty()) << "the refused writes changed the data directory:\n" << diff;
}

TEST_F(ReadOnly, CreatesNothingWhereThereIsNoDatabase) {
    const Status missing = Database::Open(Data(), Options{.read_only = true}).status();
    EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
    EXPECT_FALSE(std::filesystem::exists(Data()));

    std::filesystem::create_directories(Data());
    const Status empty = Database::Open(Data(), Options{.read_only = true}).status();
    EXPECT_EQ(empty.code(), StatusCode::kNotFound) << empty.ToString();
    EXPECT_TRUE(std::filesystem::is_empty(Data())) << "a read-only open created files";
}

// Read-only opens share the directory with each other, never with a read-write open: RocksDB's
// read-only mode does not follow a writer's changes.
TEST_F(ReadOnly, SharesTheDirectoryWithReadersButNeverWithAWriter) {
    ASSERT_NO_FATAL_FAILURE(Populate());
    ASSERT_NO_FATAL_FAILURE(OpenReadOnly());
    auto second = Database::Open(Data(), Options{.read_only = true});
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    auto got = (*second)->Get(kNotes, "note");
    EXPECT_TRUE(got.ok()) << got.status().ToString();

    const Status writer = Database::Open(Data()).status();
    EXPECT_EQ(writer.code(), StatusCode::kUnavailable) << writer.ToString();
    EXPECT_NE(writer.message().find("open read-only"), std::string::npos) << writer.ToString();
    PHENIX_ASSERT_OK((*second)->Close());
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();

    auto opened = Database::Open(Data());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    const Status reader = Database::Open(Data(), Options{.read_only = true}).status();
    EXPECT_EQ(reader.code(), StatusCode::kUnavailable) << reader.ToString();
    EXPECT_NE(reader.message().find("in use"), std::string::npos) << reader.ToString();
}

// A directory a crash left behind (its last writes only in RocksDB's write-ahead log, its vector
// index checkpoint behind the data): the read-only open replays the log in memory, catches the
// vector index up in memory, and leaves the directory as the crash left it; a read-write open
// afterwards recovers as usual.
TEST_F(ReadOnly, ReadsACrashedDatabaseWithoutRecoveringIt) {
    ASSERT_NO_FATAL_FAILURE(Populate());
    auto fs = std::make_shared<phenix::testing::FaultInjectionFileSystem>();
    auto env = phenix::testing::NewFaultInjectionEnv(fs);
    // The checkpoint as the last clean close left it: Close writes checkpoints outside the
    // fault-injecting file system, which a real crash would not have let it do.
    const std::string index_dir = Data() + "/index";
    const std::string saved_index = dir_.Sub("saved-index");
    std::filesystem::copy(index_dir, saved_index);
    {
        auto opened =
            DatabaseImpl::Open(Data(), Options{.vector_checkpoint_interval_ms = 0}, env.get());
        ASSERT_TRUE(opened.ok()) << opened.status().ToString();
        std::unique_ptr<Database> db = std::move(opened).value();
        PHENIX_ASSERT_OK(db->Upsert(kDocs, Doc("late", 100.0f, 3, {To("d0")})));
        PHENIX_ASSERT_OK(db->Delete(kDocs, "d19"));
        // The power goes out: nothing of the shutdown reaches the disk (no checkpoint, no flush).
        fs->SetFilesystemActive(false);
        db.reset();
        PHENIX_ASSERT_OK(fs->DropUnsyncedData());
        fs->SetFilesystemActive(true);
    }
    std::filesystem::remove_all(index_dir);
    std::filesystem::copy(saved_index, index_dir);
    const auto before = SnapshotDir(Data());
    ASSERT_NO_FATAL_FAILURE(OpenReadOnly());
    auto late = db_->Get(kDocs, "late");
    ASSERT_TRUE(late.ok()) << late.status().ToString();
    EXPECT_EQ(*late, Doc("late", 100.0f, 3, {To("d0")}));
    EXPECT_EQ(db_->Get(kDocs, "d19").status().code(), StatusCode::kNotFound);
    const std::vector<float> query = {100.0f, 1.0f, 0.5f, 0.25f};
    auto hits = db_->Search(kDocs, query, {.k = 1});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->hits.size(), 1u);
    EXPECT_EQ(hits->hits[0].id, "late");
    auto found = db_->Find(kDocs, {.filter = R"({"n": 3})"});
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(found->count, 5u);  // d3, d7, d11, d15 and late; d19 is gone
    PHENIX_EXPECT_OK(db_->Verify());
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    const std::string diff = DiffSnapshots(before, SnapshotDir(Data()));
    EXPECT_TRUE(diff.empty()) << "the read-only open changed the crashed directory:\n" << diff;

    auto recovered = Database::Open(Data());
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    auto again = (*recovered)->Get(kDocs, "late");
    EXPECT_TRUE(again.ok()) << again.status().ToString();
    PHENIX_EXPECT_OK((*recovered)->Verify());
}

// With the MVCC history floor moved (and recorded), the read-only open starts from it: reads,
// the vector index (reconciled at the floor) and Verify see the latest versions only.
TEST_F(ReadOnly, ReadsADatabaseWhoseHistoryWasCollected) {
    {
        auto opened = Database::Open(Data(), Options{.history_retention_ms = 0});
        ASSERT_TRUE(opened.ok()) << opened.status().ToString();
        std::unique_ptr<Database> db = std::move(opened).value();
        PHENIX_ASSERT_OK(db->CreateCollection({.ref = kDocs, .dimension = 4}));
        PHENIX_ASSERT_OK(db->Upsert(kDocs, Doc("a", 1.0f, 1)));
        PHENIX_ASSERT_OK(db->Upsert(kDocs, Doc("b", 2.0f, 1)));
        PHENIX_ASSERT_OK(db->Upsert(kDocs, Doc("a", 50.0f, 2)));
        PHENIX_ASSERT_OK(db->Delete(kDocs, "b"));
        PHENIX_ASSERT_OK(db->Compact());  // moves and records the floor, drops old versions
        PHENIX_ASSERT_OK(db->Close());
    }
    std::filesystem::remove_all(Data() + "/index");  // the index is rebuilt from storage
    const auto before = SnapshotDir(Data());
    ASSERT_NO_FATAL_FAILURE(OpenReadOnly());
    auto a = db_->Get(kDocs, "a");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(*a, Doc("a", 50.0f, 2));
    EXPECT_EQ(db_->Get(kDocs, "b").status().code(), StatusCode::kNotFound);
    const std::vector<float> query = {1.0f, 1.0f, 0.5f, 0.25f};
    auto hits = db_->Search(kDocs, query, {.k = 5});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->hits.size(), 1u);
    EXPECT_EQ(hits->hits[0].id, "a");
    PHENIX_EXPECT_OK(db_->Verify());
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    EXPECT_TRUE(DiffSnapshots(before, SnapshotDir(Data())).empty());
}

TEST_F(ReadOnly, RefusesAFormatItWouldHaveToUpgrade) {
    ASSERT_NO_FATAL_FAILURE(Populate());
    {
        std::ofstream format(Data() + "/PHENIX_FORMAT", std::ios::trunc);
        format << "phenix-data-format 2\n";
    }
    const auto before = SnapshotDir(Data());
    const Status opened = Database::Open(Data(), Options{.read_only = true}).status();
    EXPECT_EQ(opened.code(), StatusCode::kFailedPrecondition) << opened.ToString();
    EXPECT_NE(opened.message().find("without read-only"), std::string::npos) << opened.ToString();
    EXPECT_TRUE(DiffSnapshots(before, SnapshotDir(Data())).empty());
}

}  // namespace
}  // namespace phenix::engine
