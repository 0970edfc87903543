// SPDX-License-Identifier: Apache-2.0
// PhenixQL DML at scale (src/query/ddl_dml.cc, issue 13): autocommit UPDATE / DELETE in batches
// (one snapshot chooses the rows; each batch is its own transaction; concurrent writers'
// changes are kept), statements inside BEGIN ... COMMIT that do not fit one transaction,
// INSERT ... ON CONFLICT, and SET metadata = metadata || {...}.
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "common/sync_point.h"
#include "testing/query_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

using Json = nlohmann::json;

constexpr std::uint32_t kDim = 768;  // the issue's embedding size

class DmlTest : public testing::QueryTest {
  protected:
    void TearDown() override { SyncPoints::ClearAll(); }

    // Writes `count` entities r0..r<count-1> straight through the Database API (fast), each
    // with metadata {"n": i, "g": i % 2} and, when `dim` > 0, a vector of `dim` floats.
    void Load(std::string_view collection, std::size_t count, std::uint32_t dim = 0) {
        WriteBatch batch;
        for (std::size_t idx = 0; idx < count; ++idx) {
            Entity entity{.id = "r" + std::to_string(idx),
                          .metadata = Json{{"n", idx}, {"g", idx % 2}}.dump()};
            if (dim > 0) {
                entity.vector.assign(dim, static_cast<float>(idx % 7) + 0.5f);
            }
            batch.Insert(std::string(collection), std::move(entity));
            if (batch.size() == 50'000) {
                ASSERT_TRUE(db_->Write(batch).ok());
                batch.Clear();
            }
        }
        if (!batch.empty()) {
            ASSERT_TRUE(db_->Write(batch).ok());
        }
    }

    std::uint64_t CountWhere(std::string_view collection, std::string filter) {
        auto found = db_->Find(std::string(collection),
                               FindOptions{.filter = std::move(filter), .count_only = true});
        EXPECT_TRUE(found.ok()) << found.status().ToString();
        return found.ok() ? found->count : 0;
    }

    Entity Get(std::string_view id, std::string_view collection = "docs") {
        Result<Entity> entity = db_->Get(std::string(collection), id);
        EXPECT_TRUE(entity.ok()) << id << ": " << entity.status().ToString();
        return entity.ok() ? std::move(entity).value() : Entity{};
    }

    Json Metadata(std::string_view id) { return Json::parse(Get(id).metadata); }

    bool Exists(std::string_view id, std::string_view collection = "docs") {
        return db_->Get(std::string(collection), id).ok();
    }

    // The number after `prefix` in `text` ("stopped after committing 12 rows" -> 12).
    static std::uint64_t NumberAfter(std::string_view text, std::string_view prefix) {
        const std::size_t at = text.find(prefix);
        EXPECT_NE(at, std::string_view::npos) << text << "\nexpected: " << prefix;
        if (at == std::string_view::npos) {
            return 0;
        }
        return std::stoull(std::string(text.substr(at + prefix.size())));
    }

    static bool Contains(const Status& status, std::string_view text) {
        return status.message().find(text) != std::string::npos;
    }

    static QueryParams VectorParam(float value) {
        return {{"v", QueryValue::Vector(std::vector<float>(kDim, value))}};
    }
};

#define EXPECT_MESSAGE_HAS(status, text) \
    EXPECT_TRUE(Contains((status), (text))) << (status).ToString() << "\nexpected: " << (text)

using DmlBatches = DmlTest;
using DmlUpsert = DmlTest;
using DmlMerge = DmlTest;

// ---- UPDATE / DELETE in batches ----------------------------------------------------------

// Issue 13: UPDATE and DELETE were refused whole past 100,000 matching rows. 100,002 rows is
// more than one Find returns (limits::kMaxFindLimit), so both statements choose their rows by
// scanning their snapshot (the slowest unit test here: it needs the rows).
TEST_F(DmlBatches, UpdateAndDeleteMoreThan100kRows) {
    Open();
    Run("CREATE COLLECTION big");
    constexpr std::size_t kRows = 100'002;
    Load("big", kRows);
    // Progress comes about once a second, so there may be none; each line names the collection,
    // the rows done of all and the batches.
    std::vector<std::string> progress;
    session_->set_progress([&](std::string_view line) { progress.emplace_back(line); });
    const QueryResult updated = Run("UPDATE big SET metadata.seen = TRUE");
    EXPECT_EQ(updated.affected, kRows);
    EXPECT_EQ(updated.message, "UPDATE 100002 (committed in 11 batches)");
    EXPECT_EQ(CountWhere("big", R"({"seen": true})"), kRows);
    const std::regex line_format(R"(UPDATE big: [0-9]+/100002 rows in [0-9]+ batch(es)?)");
    for (const std::string& line : progress) {
        EXPECT_TRUE(std::regex_match(line, line_format)) << line;
    }

    const QueryResult deleted = Run("DELETE FROM big WHERE metadata.n >= 1");
    EXPECT_EQ(deleted.affected, kRows - 1);
    EXPECT_EQ(deleted.message, "DELETE 100001 (committed in 11 batches)");
    EXPECT_EQ(CountWhere("big", ""), 1u);
    EXPECT_TRUE(Exists("r0", "big"));
}

// Issue 13: an UPDATE of vectors failed once its rows passed Options::max_transaction_bytes
// (about 20,000 rows of 768 floats at the default 64 MiB; 1 MiB here keeps the test small).
TEST_F(DmlBatches, VectorUpdatesAndDeletesSplitAtTheTransactionSizeLimit) {
    Open(Options{.max_transaction_bytes = 1u << 20});
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    constexpr std::size_t kRows = 2'000;
    Load("docs", kRows, kDim);

    const QueryResult updated =
        Run("UPDATE docs SET vector = $v WHERE metadata.g = 1", VectorParam(9.0f));
    EXPECT_EQ(updated.affected, kRows / 2);
    // 1 MiB holds about 340 rows of 768 floats: at least three batches for 1,000 rows.
    EXPECT_GE(NumberAfter(updated.message, "committed in "), 3u) << updated.message;
    EXPECT_EQ(Get("r1").vector, std::vector<float>(kDim, 9.0f));
    EXPECT_EQ(Get("r0").vector, std::vector<float>(kDim, 0.5f));
    EXPECT_EQ(Get("r1999").vector, std::vector<float>(kDim, 9.0f));

    const QueryResult deleted = Run("DELETE FROM docs WHERE metadata.g = 0");
    EXPECT_EQ(deleted.affected, kRows / 2);
    EXPECT_EQ(CountWhere("docs", ""), kRows / 2);
    EXPECT_FALSE(Exists("r0"));
    EXPECT_TRUE(Exists("r1"));
}

// A row whose change alone exceeds the limit cannot be committed in any batch.
TEST_F(DmlBatches, ARowLargerThanATransactionFailsNamingTheLimit) {
    Open(Options{.max_transaction_bytes = 1024});  // less than one vector of 768 floats
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    Load("docs", 3, kDim);
    const Status status = Fail("UPDATE docs SET vector = $v", VectorParam(2.0f));
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_MESSAGE_HAS(status, "the change of one row does not fit in a transaction");
    EXPECT_MESSAGE_HAS(status, "raise Options::max_transaction_bytes; no row was changed");
    EXPECT_EQ(Get("r0").vector, std::vector<float>(kDim, 0.5f));
}

// Inside BEGIN ... COMMIT a statement stays atomic: too large, it fails naming the limit and
// what to do, changes nothing, and leaves the transaction open with its earlier writes.
TEST_F(DmlBatches, InsideATransactionTooLargeFailsWholeAndKeepsTheTransaction) {
    Open(Options{.max_transaction_bytes = 1u << 20});
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    Load("docs", 1'000, kDim);
    Run("BEGIN");
    Run("UPDATE docs SET metadata.before = 1 WHERE id = 'r5'");
    const Status status = Fail("UPDATE docs SET vector = $v", VectorParam(2.0f));
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
    EXPECT_MESSAGE_HAS(status, "Options::max_transaction_bytes");
    EXPECT_MESSAGE_HAS(status, "outside BEGIN ... COMMIT");
    EXPECT_MESSAGE_HAS(status, "transaction is still open");
    ASSERT_NE(session_->transaction(), nullptr);
    // A smaller statement still fits, and nothing of the failed one is committed.
    EXPECT_EQ(
        Run("UPDATE docs SET vector = $v WHERE id IN ('r1', 'r2')", VectorParam(3.0f)).message,
        "UPDATE 2");
    Run("COMMIT");
    EXPECT_EQ(Metadata("r5")["before"], 1);
    EXPECT_EQ(Get("r1").vector, std::vector<float>(kDim, 3.0f));
    EXPECT_EQ(Get("r3").vector, std::vector<float>(kDim, 3.5f));
}

TEST_F(DmlBatches, InsideATransactionMoreRowsThanOneWriteBatchFails) {
    Open();
    Run("CREATE COLLECTION big");
    Load("big", 100'001);
    Run("BEGIN");
    const Status status = Fail("DELETE FROM big");
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_MESSAGE_HAS(status, "matches 100001 rows");
    EXPECT_MESSAGE_HAS(status, "limits::kMaxBatchOps");
    EXPECT_MESSAGE_HAS(status, "outside BEGIN ... COMMIT");
    Run("ROLLBACK");
    EXPECT_EQ(CountWhere("big", ""), 100'001u);
}

// The rows are those matching at the statement's start: a row inserted afterwards is not
// touched, a row changed before its batch keeps that change (the batch applies on top of it),
// and a row deleted or changed to no longer match is skipped and counted.
TEST_F(DmlBatches, RowsComeFromTheStartSnapshotAndConcurrentChangesAreKept) {
    Open();
    Run("CREATE COLLECTION docs");
    Load("docs", 6);  // g = 0: r0, r2, r4
    SyncPoints::Set("RunInBatches:SnapshotTaken", [&] {
        ASSERT_TRUE(db_->PatchMetadata("docs", "r0", R"({"other": "kept"})").ok());
        ASSERT_TRUE(db_->PatchMetadata("docs", "r2", R"({"g": 5})").ok());
        ASSERT_TRUE(db_->Delete("docs", "r4").ok());
        ASSERT_TRUE(db_->Insert("docs", Entity{.id = "new", .metadata = R"({"g": 0})"}).ok());
    });
    const QueryResult result = Run("UPDATE docs SET metadata.hit = 1 WHERE metadata.g = 0");
    SyncPoints::ClearAll();
    EXPECT_EQ(result.affected, 1u);
    EXPECT_EQ(result.message,
              "UPDATE 1 (2 rows skipped: deleted or changed by a concurrent writer so that WHERE "
              "no longer matches)");
    EXPECT_EQ(Metadata("r0"), Json::parse(R"({"n": 0, "g": 0, "other": "kept", "hit": 1})"));
    EXPECT_EQ(Metadata("r2"), Json::parse(R"({"n": 2, "g": 5})"));
    EXPECT_EQ(Metadata("new"), Json::parse(R"({"g": 0})"));
    EXPECT_FALSE(Exists("r4"));
}

// Issue 13: a WHERE term evaluated per row (arithmetic; no filter at all here) is checked on
// each row's current version too: a row changed since the start so that it no longer matches
// is skipped, never patched blindly.
TEST_F(DmlBatches, PerRowWhereTermsAreRecheckedOnTheCurrentRow) {
    Open();
    Run("CREATE COLLECTION docs");
    Load("docs", 6);  // g * 1 = 0: r0, r2, r4
    SyncPoints::Set("RunInBatches:SnapshotTaken", [&] {
        ASSERT_TRUE(db_->PatchMetadata("docs", "r0", R"({"other": "kept"})").ok());
        ASSERT_TRUE(db_->PatchMetadata("docs", "r2", R"({"g": 5})").ok());
        ASSERT_TRUE(db_->Delete("docs", "r4").ok());
    });
    const QueryResult updated = Run("UPDATE docs SET metadata.hit = 1 WHERE metadata.g * 1 = 0");
    SyncPoints::ClearAll();
    EXPECT_EQ(updated.affected, 1u);
    EXPECT_EQ(updated.message,
              "UPDATE 1 (2 rows skipped: deleted or changed by a concurrent writer so that WHERE "
              "no longer matches)");
    EXPECT_EQ(Metadata("r0"), Json::parse(R"({"n": 0, "g": 0, "other": "kept", "hit": 1})"));
    EXPECT_EQ(Metadata("r2"), Json::parse(R"({"n": 2, "g": 5})"));
    SyncPoints::Set("RunInBatches:SnapshotTaken",
                    [&] { ASSERT_TRUE(db_->PatchMetadata("docs", "r1", R"({"n": 100})").ok()); });
    const QueryResult deleted = Run("DELETE FROM docs WHERE metadata.n - metadata.g < 3");
    SyncPoints::ClearAll();
    EXPECT_EQ(deleted.affected, 3u);  // r0 (0), r2 (2 - 5), r3 (3 - 1); r1 became 100 - 1
    EXPECT_FALSE(Exists("r0"));
    EXPECT_TRUE(Exists("r1"));
    EXPECT_FALSE(Exists("r2"));
    EXPECT_FALSE(Exists("r3"));
    EXPECT_TRUE(Exists("r5"));
}

// Without WHERE a patch is written without reading the row first; a row deleted since the
// start makes that write fail, and the rows are then read one by one and the gone one skipped.
TEST_F(DmlBatches, RowDeletedSinceTheStartIsSkippedWithoutWhereToo) {
    Open();
    Run("CREATE COLLECTION docs");
    Load("docs", 4);
    SyncPoints::Set("RunInBatches:SnapshotTaken",
                    [&] { ASSERT_TRUE(db_->Delete("docs", "r2").ok()); });
    const QueryResult updated = Run("UPDATE docs SET metadata.hit = 1");
    SyncPoints::Set("RunInBatches:SnapshotTaken",
                    [&] { ASSERT_TRUE(db_->Delete("docs", "r3").ok()); });
    const QueryResult deleted = Run("DELETE FROM docs WHERE id IN ('r0', 'r3')");
    SyncPoints::ClearAll();
    EXPECT_EQ(updated.affected, 3u);
    EXPECT_EQ(Metadata("r1")["hit"], 1);
    EXPECT_FALSE(Exists("r2"));
    EXPECT_EQ(deleted.affected, 1u);
    EXPECT_EQ(deleted.message,
              "DELETE 1 (1 row skipped: deleted or changed by a concurrent writer so that WHERE no "
              "longer matches)");
    EXPECT_FALSE(Exists("r0"));
    EXPECT_TRUE(Exists("r1"));
}

// A writer committing while a batch runs makes the batch's commit conflict; the batch is redone
// from a fresh snapshot, on top of the writer's change.
TEST_F(DmlBatches, ABatchThatConflictsIsRedoneOnTopOfTheWinner) {
    Open();
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    Load("docs", 4, kDim);
    int hits = 0;
    SyncPoints::Set("RunInBatches:BatchBegun", [&] {
        if (++hits == 1) {
            ASSERT_TRUE(db_->PatchMetadata("docs", "r1", R"({"other": "kept"})").ok());
            ASSERT_TRUE(db_->PatchMetadata("docs", "r3", R"({"g": 7})").ok());
        }
    });
    const QueryResult result =
        Run("UPDATE docs SET vector = $v WHERE metadata.g = 1", VectorParam(4.0f));
    SyncPoints::ClearAll();
    EXPECT_EQ(hits, 2);  // the first attempt conflicted
    EXPECT_EQ(result.affected, 1u) << result.message;
    const Entity r1 = Get("r1");
    EXPECT_EQ(r1.vector, std::vector<float>(kDim, 4.0f));
    EXPECT_EQ(Json::parse(r1.metadata), Json::parse(R"({"n": 1, "g": 1, "other": "kept"})"));
    EXPECT_EQ(Get("r3").vector, std::vector<float>(kDim, 3.5f));  // no longer matched
}

// A batch that keeps conflicting stops the statement with Aborted; the message says how many
// rows the batches before it committed, and exactly those rows are changed.
TEST_F(DmlBatches, PersistentConflictsStopAndReportWhatWasCommitted) {
    Open(Options{.max_transaction_bytes = 64u << 10});  // about 20 rows of 768 floats
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    constexpr std::size_t kRows = 60;
    Load("docs", kRows, kDim);
    int hits = 0;
    SyncPoints::Set("RunInBatches:BatchBegun", [&] {
        if (++hits < 2) {
            return;
        }
        // From the second batch on, every row changes under every attempt.
        WriteBatch touch;
        for (std::size_t idx = 0; idx < kRows; ++idx) {
            touch.PatchMetadata("docs", "r" + std::to_string(idx), R"({"t": 1})");
        }
        ASSERT_TRUE(db_->Write(touch).ok());
    });
    const Status status = Fail("UPDATE docs SET vector = $v", VectorParam(6.0f));
    SyncPoints::ClearAll();
    EXPECT_EQ(status.code(), StatusCode::kAborted);
    const std::uint64_t committed = NumberAfter(status.message(), "stopped after committing ");
    EXPECT_MESSAGE_HAS(status, "in 1 batch");
    EXPECT_GT(committed, 0u);
    EXPECT_LT(committed, kRows);
    std::uint64_t changed = 0;
    for (std::size_t idx = 0; idx < kRows; ++idx) {
        changed += Get("r" + std::to_string(idx)).vector[0] == 6.0f ? 1U : 0U;
    }
    EXPECT_EQ(changed, committed);
}

// ^C between batches stops the statement with Cancelled and says what was committed.
TEST_F(DmlBatches, InterruptStopsBetweenBatches) {
    Open(Options{.max_transaction_bytes = 64u << 10});
    Run("CREATE COLLECTION docs (DIMENSION 768)");
    constexpr std::size_t kRows = 60;
    Load("docs", kRows, kDim);
    int polls = 0;
    session_->set_interrupt([&] { return ++polls > 1; });  // after the first batch
    const Status status = Fail("UPDATE docs SET vector = $v", VectorParam(6.0f));
    EXPECT_EQ(status.code(), StatusCode::kCancelled);
    EXPECT_MESSAGE_HAS(status, "interrupted");
    const std::uint64_t committed = NumberAfter(status.message(), "stopped after committing ");
    EXPECT_MESSAGE_HAS(status, "in 1 batch");
    EXPECT_GT(committed, 0u);
    EXPECT_LT(committed, kRows);
    std::uint64_t changed = 0;
    for (std::size_t idx = 0; idx < kRows; ++idx) {
        changed += Get("r" + std::to_string(idx)).vector[0] == 6.0f ? 1U : 0U;
    }
    EXPECT_EQ(changed, committed);
}

// ---- INSERT ... ON CONFLICT --------------------------------------------------------------------

TEST_F(DmlUpsert, DoNothingSkipsExistingIds) {
    Open();
    Run("CREATE COLLECTION docs (DIMENSION 2)");
    Run("INSERT INTO docs (id, vector, metadata) VALUES ('a', [1, 2], {\"v\": 1})");
    const QueryResult result =
        Run("INSERT INTO docs (id, metadata) VALUES ('a', {\"v\": 2}), ('b', {\"v\": 3}), "
            "('b', {\"v\": 4}) ON CONFLICT DO NOTHING");
    EXPECT_EQ(result.message, "INSERT 1 (1 inserted, 0 updated, 2 skipped)");
    EXPECT_EQ(result.affected, 1u);
    EXPECT_EQ(Metadata("a"), Json::parse(R"({"v": 1})"));
    EXPECT_EQ(Metadata("b"), Json::parse(R"({"v": 3})"));  // the first of the two rows
    // Without ON CONFLICT an existing id is still an error.
    EXPECT_EQ(Fail("INSERT INTO docs (id) VALUES ('a')").code(), StatusCode::kAlreadyExists);
}

// DO UPDATE sets the listed columns from the new row; unlisted columns keep their values.
TEST_F(DmlUpsert, DoUpdateSetsTheListedColumnsAndKeepsTheOthers) {
    Open();
    Run("CREATE COLLECTION docs (DIMENSION 2)");
    Run("INSERT INTO docs (id, vector, metadata, edges) VALUES "
        "('a', [1, 2], {\"v\": 1, \"w\": 1}, []), "
        "('b', [3, 4], {\"v\": 2}, [{\"label\": \"to\", \"target\": \"a\"}])");
    QueryResult result =
        Run("INSERT INTO docs (id, metadata) VALUES ('a', {\"v\": 10}), ('c', {\"v\": 30}) "
            "ON CONFLICT (id) DO UPDATE");
    EXPECT_EQ(result.message, "INSERT 2 (1 inserted, 1 updated, 0 skipped)");
    const Entity a = Get("a");
    EXPECT_EQ(Json::parse(a.metadata), Json::parse(R"({"v": 10})"));  // replaced, not merged
    EXPECT_EQ(a.vector, (std::vector<float>{1, 2}));
    EXPECT_TRUE(Get("c").vector.empty());

    result = Run("INSERT INTO docs (id, vector) VALUES ('b', [5, 6]) ON CONFLICT (id) DO UPDATE");
    EXPECT_EQ(result.message, "INSERT 1 (0 inserted, 1 updated, 0 skipped)");
    const Entity b = Get("b");
    EXPECT_EQ(b.vector, (std::vector<float>{5, 6}));
    EXPECT_EQ(Json::parse(b.metadata), Json::parse(R"({"v": 2})"));
    ASSERT_EQ(b.edges.size(), 1u);
    EXPECT_EQ(b.edges[0].target_id, "a");

    Run("INSERT INTO docs (id, edges) VALUES ('b', []) ON CONFLICT (id) DO UPDATE");
    EXPECT_TRUE(Get("b").edges.empty());
    EXPECT_EQ(Get("b").vector, (std::vector<float>{5, 6}));

    // The same id twice cannot be updated twice (PostgreSQL refuses it too); nothing is written.
    const Status twice = Fail(
        "INSERT INTO docs (id, metadata) VALUES ('z', {}), ('a', {\"v\": 1}), ('a', {\"v\": 2}) "
        "ON CONFLICT (id) DO UPDATE");
    EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(twice, "'a' twice");
    EXPECT_FALSE(Exists("z"));
}

TEST_F(DmlUpsert, InsideATransactionAndAfterAConcurrentInsert) {
    Open();
    Run("CREATE COLLECTION docs");
    Run("BEGIN");
    Run("INSERT INTO docs (id, metadata) VALUES ('a', {\"v\": 1})");
    EXPECT_EQ(Run("INSERT INTO docs (id, metadata) VALUES ('a', {\"v\": 2}) ON CONFLICT (id) "
                  "DO UPDATE")
                  .message,
              "INSERT 1 (0 inserted, 1 updated, 0 skipped)");
    Run("COMMIT");
    EXPECT_EQ(Metadata("a"), Json::parse(R"({"v": 2})"));

    // Another writer inserts 'b' after the statement's snapshot: the statement retries and
    // updates it instead of failing.
    int hits = 0;
    SyncPoints::Set("InsertOnConflict:Begun", [&] {
        if (++hits == 1) {
            ASSERT_TRUE(db_->Insert("docs", Entity{.id = "b", .metadata = R"({"v": 0})"}).ok());
        }
    });
    EXPECT_EQ(Run("INSERT INTO docs (id, metadata) VALUES ('b', {\"v\": 5}) ON CONFLICT (id) "
                  "DO UPDATE")
                  .message,
              "INSERT 1 (0 inserted, 1 updated, 0 skipped)");
    SyncPoints::ClearAll();
    EXPECT_EQ(hits, 2);
    EXPECT_EQ(Metadata("b"), Json::parse(R"({"v": 5})"));
}

TEST_F(DmlUpsert, SyntaxErrors) {
    Open();
    Run("CREATE COLLECTION docs");
    Status status = Fail("INSERT INTO docs (id) VALUES ('a') ON CONFLICT (name) DO NOTHING");
    EXPECT_MESSAGE_HAS(status, "line 1, column 49: ON CONFLICT takes (id)");
    status = Fail("INSERT INTO docs (id) VALUES ('a') ON CONFLICT DO UPDATE");
    EXPECT_MESSAGE_HAS(status, "ON CONFLICT (id) DO UPDATE");
    status = Fail(
        "INSERT INTO docs (id, metadata) VALUES ('a', {}) ON CONFLICT (id) DO UPDATE SET "
        "metadata = EXCLUDED.metadata");
    EXPECT_MESSAGE_HAS(status, "takes no SET list");
    status = Fail("INSERT INTO docs (id) VALUES ('a') ON CONFLICT (id) DO NOTHNG");
    EXPECT_MESSAGE_HAS(status, "did you mean NOTHING?");
    status = Fail("INSERT INTO docs (id) VALUES ('a') ON CONFLICT (id)");
    EXPECT_MESSAGE_HAS(status, "expected DO");
}

// ---- SET metadata = metadata || {...} ----------------------------------------------------------

// PostgreSQL's jsonb ||: top-level keys of the right object replace the row's; nested objects
// are replaced, not merged; a null value is stored as null; other keys are kept.
TEST_F(DmlMerge, ShallowMergeReplacesTopLevelKeys) {
    Open();
    Run("CREATE COLLECTION docs");
    Run("INSERT INTO docs (id, metadata) VALUES "
        "('a', {\"k\": 0, \"keep\": true, \"obj\": {\"x\": 1, \"y\": 2}}), ('b', {\"k\": 5})");
    // Scalars and arrays only: done as a merge patch.
    EXPECT_EQ(Run("UPDATE docs SET metadata = metadata || {\"k\": 1, \"tags\": [\"t\"]} "
                  "WHERE id = 'a'")
                  .message,
              "UPDATE 1");
    EXPECT_EQ(Metadata("a"),
              Json::parse(R"({"k": 1, "keep": true, "obj": {"x": 1, "y": 2}, "tags": ["t"]})"));
    // Objects and nulls: read and rewritten.
    Run("UPDATE docs SET metadata = metadata || {\"obj\": {\"x\": 9}, \"k\": null} WHERE id = 'a'");
    EXPECT_EQ(Metadata("a"),
              Json::parse(R"({"k": null, "keep": true, "obj": {"x": 9}, "tags": ["t"]})"));
    // The row's own keys win when metadata comes last; parameters work as operands.
    Run("UPDATE docs SET metadata = $defaults || metadata WHERE id = 'b'",
        {{"defaults", QueryValue::Json(R"({"k": 0, "d": 1})")}});
    EXPECT_EQ(Metadata("b"), Json::parse(R"({"k": 5, "d": 1})"));
    Run("UPDATE docs SET metadata = {\"a\": 1} || {\"a\": 2, \"b\": 3} WHERE id = 'b'");
    EXPECT_EQ(Metadata("b"), Json::parse(R"({"a": 2, "b": 3})"));
}

TEST_F(DmlMerge, Errors) {
    Open();
    Run("CREATE COLLECTION docs (DIMENSION 2)");
    Run("INSERT INTO docs (id, metadata) VALUES ('a', {\"k\": 0})");
    Status status = Fail("UPDATE docs SET metadata = metadata || 'x'");
    EXPECT_MESSAGE_HAS(status, "line 1, column 40: || merges JSON objects");
    status = Fail("UPDATE docs SET metadata = metadata || NULL");
    EXPECT_MESSAGE_HAS(status, "expected an object");
    status = Fail("UPDATE docs SET metadata.k = metadata.k || {\"a\": 1}");
    EXPECT_MESSAGE_HAS(status, "not into metadata.k");
    status = Fail("UPDATE docs SET vector = vector || [1, 2]");
    EXPECT_MESSAGE_HAS(status, "not into vector");
    status = Fail("UPDATE docs SET metadata = metadata || {\"a\": 1}, metadata.b = 2");
    EXPECT_MESSAGE_HAS(status, "set as a whole and field by field");
    status = Fail("UPDATE docs SET metadata = metadata || vector");
    EXPECT_MESSAGE_HAS(status, "not vector");
    status = Fail("SELECT id FROM docs WHERE metadata || {\"a\": 1} = 2");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    status = Fail("SELECT metadata || {\"a\": 1} FROM docs");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Metadata("a"), Json::parse(R"({"k": 0})"));
}

}  // namespace
}  // namespace phenix
