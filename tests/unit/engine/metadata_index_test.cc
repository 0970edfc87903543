// SPDX-License-Identifier: Apache-2.0
// Metadata indexes through the public API: created online, maintained in the same commit as the
// entity, read at the caller's snapshot (with a transaction's own writes), and always equal to a
// full scan.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <phenix/limits.h>

#include "common/sync_point.h"
#include "document/filter.h"
#include "storage/catalog_codec.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

using IdList = std::vector<std::string>;

constexpr const char* kAfterChunk = "DatabaseImpl::BuildIndex:AfterChunk";
constexpr const char* kBeforeReady = "DatabaseImpl::BuildIndex:BeforeReady";
constexpr const char* kStatsComputed = "DatabaseImpl::RefreshIndexStats:Computed";

// Runs `callback` the first time the calling thread reaches `point` (background threads that
// reach it, such as the maintenance thread refreshing statistics, pass through).
void OnceAt(const char* point, std::function<void()> callback) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    SyncPoints::Set(point,
                    [done, thread = std::this_thread::get_id(), callback = std::move(callback)] {
                        if (std::this_thread::get_id() == thread && !done->exchange(true)) {
                            callback();
                        }
                    });
}

class MetadataIndexTest : public DbTest {
  protected:
    void TearDown() override { SyncPoints::ClearAll(); }

    // The ids whose record matches `filter`, by evaluating every record: the oracle.
    IdList ScanMatching(const std::string& filter, const CollectionRef& collection = "docs") {
        auto parsed = document::ParseFilter(filter);
        EXPECT_TRUE(parsed.ok()) << filter << ": " << parsed.status().ToString();
        IdList ids;
        if (!parsed.ok()) {
            return ids;
        }
        ScanOptions options{.limit = limits::kMaxScanLimit, .include_edges = false};
        for (;;) {
            auto page = db_->Scan(collection, options);
            EXPECT_TRUE(page.ok()) << page.status().ToString();
            if (!page.ok()) {
                return ids;
            }
            for (const Entity& e : page->entities) {
                if (*document::Matches(*parsed, e.metadata)) {
                    ids.push_back(e.id);
                }
            }
            if (page->next_start_after.empty()) {
                break;
            }
            options.start_after = page->next_start_after;
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }
    std::vector<std::string> FindIds(const std::string& filter,
                                     const CollectionRef& collection = "docs") {
        auto found = db_->Find(collection, {.filter = filter, .limit = 100000});
        EXPECT_TRUE(found.ok()) << filter << ": " << found.status().ToString();
        if (!found.ok()) {
            return {};
        }
        EXPECT_EQ(found->count, found->ids.size());
        std::vector<std::string> ids = found->ids;
        std::sort(ids.begin(), ids.end());
        return ids;
    }
    bool UsedIndex(const std::string& filter) {
        auto found = db_->Find("docs", {.filter = filter, .count_only = true});
        EXPECT_TRUE(found.ok());
        for (const std::string& step : found->plan.steps) {
            if (step.find(": index") != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    void Put(const std::string& id, const std::string& metadata) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc(id, {0.1f, 0.2f, 0.3f, 0.4f}, metadata)));
    }
};

TEST_F(MetadataIndexTest, EveryOperatorThroughTheIndexAndWithout) {
    Put("a", R"({"category":"tech","year":2021,"price":9.5,"tags":["x","y"],"author":{"name":"ann"}})");
    Put("b", R"({"category":"science","year":2019,"price":20,"tags":["y"],"when":"2024-05-01"})");
    Put("c", R"({"category":"tech","year":2024.0,"active":true,"author":{"name":"bob"}})");
    Put("d", R"({"category":null,"year":"2020","when":"2024-05-01T12:00:00+02:00"})");
    Put("e", R"({"other":1})");
    const std::vector<std::pair<std::string, IdList>> cases = {
        {R"({"category":"tech"})", {"a", "c"}},
        {R"({"category":{"$in":["tech","science"]}})", {"a", "b", "c"}},
        {R"({"category":{"$nin":["tech"]}})", {"b", "d", "e"}},
        {R"({"category":{"$ne":"tech"}})", {"b", "d", "e"}},
        {R"({"category":null})", {"d"}},
        {R"({"category":{"$exists":true}})", {"a", "b", "c", "d"}},
        {R"({"category":{"$exists":false}})", {"e"}},
        {R"({"year":{"$gte":2020}})", {"a", "c"}},  // "2020" is a string: not a number
        {R"({"year":{"$gt":2019,"$lt":2024}})", {"a"}},
        {R"({"year":2024})", {"c"}},  // 2024.0 == 2024
        {R"({"year":{"$lte":"2020"}})", {"d"}},
        {R"({"price":{"$lt":10}})", {"a"}},
        {R"({"tags":"y"})", {"a", "b"}},
        {R"({"tags":{"$in":["x"]}})", {"a"}},
        {R"({"author.name":"bob"})", {"c"}},
        {R"({"author":{"$exists":true}})", {"a", "c"}},
        {R"({"when":{"$gte":"2024-05-01T00:00:00Z","$lt":"2024-05-01T11:00:00Z"}})", {"b", "d"}},
        {R"({"$or":[{"category":"science"},{"active":true}]})", {"b", "c"}},
        {R"({"$not":{"category":"tech"}})", {"b", "d", "e"}},
        {R"({"$and":[{"category":"tech"},{"year":{"$gt":2022}}]})", {"c"}},
        {R"({"category":"tech","price":{"$exists":false}})", {"c"}},
        {"{}", {"a", "b", "c", "d", "e"}},
    };
    for (const auto& [filter, expected] : cases) {
        EXPECT_EQ(FindIds(filter), expected) << "no index: " << filter;
    }
    for (const char* path : {"category", "year", "price", "tags", "author.name", "author", "when",
                             "active"}) {
        PHENIX_ASSERT_OK(db_->CreateIndex("docs", path));
    }
    for (const auto& [filter, expected] : cases) {
        EXPECT_EQ(FindIds(filter), expected) << "indexed: " << filter;
    }
    EXPECT_TRUE(UsedIndex(R"({"category":"tech"})"));
    EXPECT_TRUE(UsedIndex(R"({"year":{"$gte":2020}})"));
    EXPECT_FALSE(UsedIndex(R"({"other":1})"));
}

TEST_F(MetadataIndexTest, MaintainedByEveryKindOfWrite) {
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    Put("a", R"({"category":"tech"})");
    Put("b", R"({"category":"tech"})");
    EXPECT_EQ(FindIds(R"({"category":"tech"})"), (IdList{"a", "b"}));
    Put("a", R"({"category":"art"})");  // upsert changes the value
    EXPECT_EQ(FindIds(R"({"category":"tech"})"), (IdList{"b"}));
    EXPECT_EQ(FindIds(R"({"category":"art"})"), (IdList{"a"}));
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "b", R"({"category":["art","tech"]})"));
    EXPECT_EQ(FindIds(R"({"category":"art"})"), (IdList{"a", "b"}));
    PHENIX_ASSERT_OK(db_->ReplaceMetadata("docs", "a", R"({"x":1})"));
    EXPECT_EQ(FindIds(R"({"category":"art"})"), (IdList{"b"}));
    PHENIX_ASSERT_OK(db_->Delete("docs", "b"));
    EXPECT_EQ(FindIds(R"({"category":{"$exists":true}})"), IdList{});
    // Delete and re-insert of the same id in one batch.
    WriteBatch batch;
    batch.Insert("docs", Doc("c", {1, 0, 0, 0}, R"({"category":"x"})"));
    batch.Delete("docs", "c");
    batch.Insert("docs", Doc("c", {1, 0, 0, 0}, R"({"category":"y"})"));
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_EQ(FindIds(R"({"category":{"$in":["x","y"]}})"), (IdList{"c"}));
    EXPECT_EQ(FindIds(R"({"category":"x"})"), IdList{});
    PHENIX_ASSERT_OK(db_->Verify());
}

TEST_F(MetadataIndexTest, TransactionsSeeTheirSnapshotAndOwnWrites) {
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "n"));
    Put("a", R"({"n":1})");
    Put("b", R"({"n":2})");
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    Put("c", R"({"n":1})");  // committed after the transaction began
    PHENIX_ASSERT_OK((*txn)->Insert("docs", Doc("d", {1, 0, 0, 0}, R"({"n":1})")));
    PHENIX_ASSERT_OK((*txn)->PatchMetadata("docs", "b", R"({"n":1})"));
    PHENIX_ASSERT_OK((*txn)->Delete("docs", "a"));
    auto in_txn = (*txn)->Find("docs", {.filter = R"({"n":1})"});
    ASSERT_TRUE(in_txn.ok()) << in_txn.status().ToString();
    IdList ids = in_txn->ids;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (IdList{"b", "d"}));
    EXPECT_EQ(FindIds(R"({"n":1})"), (IdList{"a", "c"}));  // outside: none of it
    ASSERT_TRUE((*txn)->Commit().ok());
    EXPECT_EQ(FindIds(R"({"n":1})"), (IdList{"b", "c", "d"}));
    EXPECT_EQ(FindIds(R"({"n":2})"), IdList{});
}

TEST_F(MetadataIndexTest, TransactionBegunBeforeTheIndexStillMaintainsIt) {
    Put("a", R"({"k":"v"})");
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    PHENIX_ASSERT_OK((*txn)->Insert("docs", Doc("b", {1, 0, 0, 0}, R"({"k":"v"})")));
    PHENIX_ASSERT_OK((*txn)->PatchMetadata("docs", "a", R"({"k":"w"})"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "k"));
    ASSERT_TRUE((*txn)->Commit().ok());
    EXPECT_TRUE(UsedIndex(R"({"k":"v"})"));
    EXPECT_EQ(FindIds(R"({"k":"v"})"), (IdList{"b"}));
    EXPECT_EQ(FindIds(R"({"k":"w"})"), (IdList{"a"}));
}

// The build proves its overlap with writers: at the first chunk boundary it writes a row the
// build already indexed, a row it has not reached yet, deletes one it has not reached and inserts
// one after its snapshot; a writer thread changes random rows meanwhile.
TEST_F(MetadataIndexTest, OnlineBuildWhileWritersRunEqualsAFullScan) {
    // Rows are built in insertion order: "s-early" first, "s-gone" in the middle, "s-late" last.
    WriteBatch initial;
    initial.Upsert("docs", Doc("s-early", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"g":0})"));
    for (int i = 0; i < 3000; ++i) {
        initial.Upsert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                   R"({"g":)" + std::to_string(i % 7) + "}"));
        if (i == 1500) {
            initial.Upsert("docs", Doc("s-gone", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"g":1})"));
        }
    }
    initial.Upsert("docs", Doc("s-late", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"g":2})"));
    PHENIX_ASSERT_OK(db_->Write(initial));
    bool wrote_during_build = false;
    OnceAt(kAfterChunk, [&] {
        Put("s-early", R"({"g":100})");  // indexed by the first chunk: maintenance moves it
        Put("s-late", R"({"g":101})");   // not reached: the build indexes its latest value
        PHENIX_EXPECT_OK(db_->Delete("docs", "s-gone"));  // not reached: the build skips it
        Put("s-new", R"({"g":102})");  // after the build's snapshot: maintenance only
        wrote_during_build = true;
    });
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        std::mt19937 rng(3);
        while (!stop.load()) {
            const int i = static_cast<int>(rng() % 4000);
            const std::string id = "e" + std::to_string(i);
            if (rng() % 5 == 0) {
                (void)db_->Delete("docs", id);
            } else {
                (void)db_->Upsert("docs", Doc(id, {0.1f, 0.2f, 0.3f, 0.4f},
                                              R"({"g":)" + std::to_string(rng() % 7) + "}"));
            }
        }
    });
    std::uint64_t last_done = 0;
    std::uint64_t calls = 0;
    PHENIX_EXPECT_OK(db_->CreateIndex("docs", "g", [&](std::uint64_t done, std::uint64_t total) {
        EXPECT_GE(done, last_done);
        EXPECT_LE(done, total);
        last_done = done;
        ++calls;
    }));
    stop = true;
    writer.join();
    EXPECT_TRUE(wrote_during_build);
    EXPECT_EQ(SyncPoints::Hits(kAfterChunk), 3);  // 3,003 rows: chunks of 1,024
    EXPECT_GT(calls, 1u);
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 1u);
    EXPECT_EQ((*indexes)[0].state, IndexState::kReady);
    EXPECT_TRUE(UsedIndex(R"({"g":3})"));
    EXPECT_EQ(FindIds(R"({"g":100})"), IdList{"s-early"});
    EXPECT_EQ(FindIds(R"({"g":101})"), IdList{"s-late"});
    EXPECT_EQ(FindIds(R"({"g":102})"), IdList{"s-new"});
    const IdList all = FindIds(R"({"g":{"$exists":true}})");
    ASSERT_FALSE(all.empty());
    EXPECT_FALSE(std::binary_search(all.begin(), all.end(), "s-gone"));
    EXPECT_EQ(all, ScanMatching(R"({"g":{"$exists":true}})"));
    // Same answers as evaluating every record.
    for (int g = 0; g < 7; ++g) {
        const std::string filter = R"({"g":)" + std::to_string(g) + "}";
        EXPECT_EQ(FindIds(filter), ScanMatching(filter)) << filter;
    }
    PHENIX_EXPECT_OK(db_->Verify());
}

// Property: on random documents and random filters, the indexed answer equals the answer of a
// collection without indexes and the answer of evaluating each document.
TEST_F(MetadataIndexTest, IndexedResultsEqualAFullScanOnRandomData) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "plain"}));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "indexed"}));
    for (const char* path : {"a", "b", "c.d", "t"}) {
        PHENIX_ASSERT_OK(db_->CreateIndex("indexed", path));
    }
    std::mt19937 rng(42);
    auto scalar = [&]() -> std::string {
        switch (rng() % 7) {
            case 0:
                return std::to_string(static_cast<int>(rng() % 10) - 3);
            case 1:
                return std::to_string(static_cast<int>(rng() % 10)) + ".5";
            case 2:
                return "\"s" + std::to_string(rng() % 5) + "\"";
            case 3:
                return rng() % 2 ? "true" : "false";
            case 4:
                return "null";
            case 5:
                return "\"2024-01-0" + std::to_string(1 + rng() % 5) + "\"";
            default:
                return std::to_string(rng() % 4);
        }
    };
    auto value = [&]() -> std::string {
        if (rng() % 5 == 0) {
            return "[" + scalar() + "," + scalar() + "]";
        }
        return scalar();
    };
    std::vector<std::pair<std::string, std::string>> docs;
    WriteBatch load;
    for (int i = 0; i < 400; ++i) {
        std::string json = "{";
        bool first = true;
        auto field = [&](const std::string& name, const std::string& v) {
            json += (first ? "\"" : ",\"") + name + "\":" + v;
            first = false;
        };
        if (rng() % 4 != 0) {
            field("a", value());
        }
        if (rng() % 3 != 0) {
            field("b", value());
        }
        if (rng() % 2 == 0) {
            field("c", rng() % 3 == 0 ? "[{\"d\":" + scalar() + "},{\"d\":" + scalar() + "}]"
                                      : "{\"d\":" + value() + "}");
        }
        if (rng() % 2 == 0) {
            field("t", "\"2024-01-0" + std::to_string(1 + rng() % 5) + "T0" +
                           std::to_string(rng() % 10) + ":00:00Z\"");
        }
        json += "}";
        const std::string id = "r" + std::to_string(i);
        docs.emplace_back(id, json);
        load.Insert("plain", Entity{.id = id, .metadata = json});
        load.Insert("indexed", Entity{.id = id, .metadata = json});
    }
    PHENIX_ASSERT_OK(db_->Write(load));
    static const char* kOps[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"};
    static const char* kPaths[] = {"a", "b", "c.d", "t", "zz"};
    std::function<std::string(int)> random_filter = [&](int depth) -> std::string {
        const auto pick = static_cast<unsigned>(rng() % (depth > 2 ? 4u : 7u));
        const std::string path = kPaths[rng() % 5];
        switch (pick) {
            case 0:
                return "{\"" + path + "\":{\"" + kOps[rng() % 6] + "\":" + scalar() + "}}";
            case 1:
                return "{\"" + path + "\":{\"" + (rng() % 2 ? "$in" : "$nin") + "\":[" + scalar() +
                       "," + scalar() + "]}}";
            case 2:
                return "{\"" + path + "\":{\"$exists\":" + (rng() % 2 ? "true" : "false") + "}}";
            case 3:
                return "{\"" + path + "\":{\"$gte\":" + scalar() + ",\"$lt\":" + scalar() + "}}";
            case 4:
                return "{\"$and\":[" + random_filter(depth + 1) + "," + random_filter(depth + 1) +
                       "]}";
            case 5:
                return "{\"$or\":[" + random_filter(depth + 1) + "," + random_filter(depth + 1) +
                       "]}";
            default:
                return "{\"$not\":" + random_filter(depth + 1) + "}";
        }
    };
    for (int round = 0; round < 300; ++round) {
        const std::string filter = random_filter(0);
        auto parsed = document::ParseFilter(filter);
        ASSERT_TRUE(parsed.ok()) << filter << ": " << parsed.status().ToString();
        IdList expected;
        for (const auto& [id, json] : docs) {
            if (*document::Matches(*parsed, json)) {
                expected.push_back(id);
            }
        }
        std::sort(expected.begin(), expected.end());
        ASSERT_EQ(FindIds(filter, "plain"), expected) << filter;
        ASSERT_EQ(FindIds(filter, "indexed"), expected) << filter;
        if (round % 50 == 49) {
            // Change some documents between rounds: maintenance must keep up.
            for (int change = 0; change < 40; ++change) {
                auto& [id, json] = docs[rng() % docs.size()];
                json = "{\"a\":" + value() + ",\"c\":{\"d\":" + value() + "}}";
                WriteBatch both;
                both.Upsert("plain", Entity{.id = id, .metadata = json});
                both.Upsert("indexed", Entity{.id = id, .metadata = json});
                PHENIX_ASSERT_OK(db_->Write(both));
            }
        }
    }
}

TEST_F(MetadataIndexTest, SurvivesReopenAndDropFallsBackToScans) {
    Put("a", R"({"c":1})");
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "metadata.c"));  // the prefix is optional
    Reopen();
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 1u);
    EXPECT_EQ((*indexes)[0].path, "c");
    EXPECT_EQ((*indexes)[0].state, IndexState::kReady);
    Put("b", R"({"c":1})");
    EXPECT_TRUE(UsedIndex(R"({"c":1})"));
    EXPECT_EQ(FindIds(R"({"c":1})"), (IdList{"a", "b"}));
    PHENIX_ASSERT_OK(db_->DropIndex("docs", "c"));
    EXPECT_FALSE(UsedIndex(R"({"c":1})"));
    EXPECT_EQ(FindIds(R"({"c":1})"), (IdList{"a", "b"}));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "c"));
    EXPECT_EQ(FindIds(R"({"c":1})"), (IdList{"a", "b"}));
    Reopen();
    EXPECT_EQ(FindIds(R"({"c":1})"), (IdList{"a", "b"}));
}

TEST_F(MetadataIndexTest, ClearErrors) {
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    EXPECT_EQ(db_->CreateIndex("docs", "category").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(db_->CreateIndex("docs", "").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->CreateIndex("docs", "a..b").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->CreateIndex("nope", "a").code(), StatusCode::kNotFound);
    const Status drop = db_->DropIndex("docs", "categroy");
    EXPECT_EQ(drop.code(), StatusCode::kNotFound);
    EXPECT_NE(drop.message().find("did you mean 'category'"), std::string::npos)
        << drop.ToString();
    auto bad = db_->Find("docs", {.filter = R"({"year":{"$gte":[1]}})"});
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    auto bad_op = db_->Find("docs", {.filter = R"({"year":{"$between":1}})"});
    EXPECT_EQ(bad_op.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Find("docs", {.filter = "{", .limit = 10}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Find("docs", {.limit = 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MetadataIndexTest, StatisticsEstimateSelectivity) {
    WriteBatch batch;
    for (int i = 0; i < 5000; ++i) {
        const int category = i % 10 < 5 ? 0 : i % 10;  // 0: 50%, 5..9: 10% each
        batch.Insert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                 R"({"category":)" + std::to_string(category) +
                                     R"(,"bucket":)" + std::to_string(i % 1000) + "}"));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "bucket"));
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 2u);
    EXPECT_EQ((*indexes)[0].path, "bucket");
    EXPECT_EQ((*indexes)[0].distinct_values, 1000u);
    EXPECT_EQ((*indexes)[1].distinct_values, 6u);
    EXPECT_EQ((*indexes)[1].entries, 5000u);
    EXPECT_FALSE((*indexes)[1].statistics_json.empty());
    auto estimate = [&](const std::string& filter) {
        auto found = db_->Find("docs", {.filter = filter, .count_only = true});
        EXPECT_TRUE(found.ok());
        return std::pair<double, double>(found->plan.estimated_rows,
                                         static_cast<double>(found->count));
    };
    for (const std::string filter :
         {R"({"category":0})", R"({"category":7})", R"({"bucket":{"$lt":100}})",
          R"({"bucket":{"$gte":250,"$lt":500}})", R"({"category":{"$in":[5,6]}})"}) {
        auto [est, actual] = estimate(filter);
        EXPECT_NEAR(est, actual, 0.2 * actual) << filter;
    }
}

// Persisted statistics ---------------------------------------------------------------------------

class IndexStatsPersistenceTest : public MetadataIndexTest {
  protected:
    void Fill() {
        WriteBatch batch;
        for (int i = 0; i < 5000; ++i) {
            const int category = i % 10 < 5 ? 0 : i % 10;  // 0: 50%, 5..9: 10% each
            batch.Insert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                     R"({"category":)" + std::to_string(category) +
                                         R"(,"bucket":)" + std::to_string(i % 1000) + "}"));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }
    double Estimate(const std::string& filter) {
        auto found = db_->Find("docs", {.filter = filter, .estimate_only = true});
        EXPECT_TRUE(found.ok()) << filter << ": " << found.status().ToString();
        return found.ok() ? found->plan.estimated_rows : -1.0;
    }
    std::uint64_t StatsTimestamp(const std::string& path) {
        auto indexes = db_->ListIndexes("docs");
        EXPECT_TRUE(indexes.ok());
        for (const auto& info : *indexes) {
            if (info.path == path) {
                return info.statistics_timestamp;
            }
        }
        ADD_FAILURE() << "no index on " << path;
        return 0;
    }
    // With the database closed: visits the catalog's statistics records, and replaces a record
    // by what `damage` returns (nullopt: keep it).
    void WithStatsRecords(const std::function<std::optional<std::string>(
                              std::string_view key, std::string_view value)>& damage) {
        PHENIX_ASSERT_OK(db_->Close());
        db_.reset();
        {
            auto store = storage::Store::Open(dir_.Sub("data"), {});
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            rocksdb::WriteBatch batch = storage::Store::NewBatch();
            {
                std::unique_ptr<rocksdb::Iterator> it((*store)->db()->NewIterator(
                    rocksdb::ReadOptions(), (*store)->cf(storage::ColumnFamily::kCatalog)));
                const std::string prefix(storage::kIndexStatsPrefix);
                for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
                    auto replaced = damage({it->key().data(), it->key().size()},
                                           {it->value().data(), it->value().size()});
                    if (replaced) {
                        batch.Put((*store)->cf(storage::ColumnFamily::kCatalog), it->key(),
                                  *replaced);
                    }
                }
                PHENIX_ASSERT_OK(storage::FromRocks(it->status(), "scanning"));
            }
            if (batch.Count() > 0) {
                PHENIX_ASSERT_OK((*store)->WriteCatalog(batch, /*sync=*/true));
            }
            PHENIX_ASSERT_OK((*store)->Close());
        }
        Open();
    }
    std::size_t CountStatsRecords() {
        std::size_t count = 0;
        WithStatsRecords([&](std::string_view, std::string_view) -> std::optional<std::string> {
            ++count;
            return std::nullopt;
        });
        return count;
    }
};

const std::vector<std::string> kEstimatedFilters = {
    R"({"category":0})", R"({"category":7})", R"({"bucket":{"$lt":100}})",
    R"({"bucket":{"$gte":250,"$lt":500}})", R"({"category":{"$in":[5,6]}})"};

TEST_F(IndexStatsPersistenceTest, EstimatesAreRightImmediatelyAfterReopen) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "bucket"));
    PHENIX_ASSERT_OK(db_->AnalyzeIndexes("docs"));
    std::vector<double> before;
    for (const std::string& filter : kEstimatedFilters) {
        before.push_back(Estimate(filter));
    }
    EXPECT_NEAR(before[1], 500.0, 100.0);  // from the statistics, not the 0.5% default
    const std::uint64_t category_ts = StatsTimestamp("category");
    ASSERT_NE(category_ts, 0u);
    Reopen();
    // Before the maintenance loop could recompute them: the stored statistics, same timestamp.
    for (std::size_t idx = 0; idx < kEstimatedFilters.size(); ++idx) {
        EXPECT_EQ(Estimate(kEstimatedFilters[idx]), before[idx]) << kEstimatedFilters[idx];
    }
    EXPECT_EQ(StatsTimestamp("category"), category_ts);
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 2u);
    EXPECT_EQ((*indexes)[0].distinct_values, 1000u);
    EXPECT_EQ((*indexes)[1].entries, 5000u);
    // And still after the maintenance loop ran: nothing changed, so nothing is recomputed.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(StatsTimestamp("category"), category_ts);
    EXPECT_EQ(CountStatsRecords(), 2u);
}

TEST_F(IndexStatsPersistenceTest, DropIndexRemovesStoredStatistics) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "bucket"));
    EXPECT_EQ(CountStatsRecords(), 2u);
    PHENIX_ASSERT_OK(db_->DropIndex("docs", "category"));
    EXPECT_EQ(CountStatsRecords(), 1u);
    EXPECT_LT(Estimate(R"({"category":7})"), 100.0);         // unindexed now: the default
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));  // fresh statistics of its own
    EXPECT_NEAR(Estimate(R"({"category":7})"), 500.0, 100.0);
    EXPECT_EQ(CountStatsRecords(), 2u);
    // A dropped collection's records go with it, like its index definitions.
    PHENIX_ASSERT_OK(db_->DropCollection("docs"));
    Reopen();
    EXPECT_EQ(CountStatsRecords(), 0u);
}

TEST_F(IndexStatsPersistenceTest, CorruptedRecordsAreIgnoredAtOpen) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "bucket"));
    const double good = Estimate(R"({"category":7})");
    int damaged = 0;
    WithStatsRecords([&](std::string_view, std::string_view value) -> std::optional<std::string> {
        // One record truncated in its statistics, the other not even a record.
        return damaged++ == 0 ? std::string(value.substr(0, value.size() / 2))
                              : std::string("\x07garbage");
    });
    ASSERT_EQ(damaged, 2);
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    EXPECT_EQ(indexes->size(), 2u);
    EXPECT_EQ(FindIds(R"({"category":7,"bucket":7})").size(), 5u);
    // Without statistics the maintenance loop recomputes them soon after open.
    for (int attempt = 0; attempt < 100 && StatsTimestamp("category") == 0; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(StatsTimestamp("category"), 0u);
    EXPECT_EQ(Estimate(R"({"category":7})"), good);
}

// Index lifecycle races (issue 12, item 9) -------------------------------------------------------
// A build, a drop, a re-create and a statistics refresh each write catalog state after a long
// operation; whichever finishes last must not resurrect or overwrite what the others decided.

class IndexLifecycleTest : public IndexStatsPersistenceTest {
  protected:
    // "e0".."e2999" with {"g": i % 7}: three build chunks.
    void LoadRows() {
        WriteBatch batch;
        for (int i = 0; i < 3000; ++i) {
            batch.Upsert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                     R"({"g":)" + std::to_string(i % 7) + "}"));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }
    storage::CollectionId DocsId() {
        auto info = db_->GetCollection("docs");
        EXPECT_TRUE(info.ok()) << info.status().ToString();
        return info.ok() ? static_cast<storage::CollectionId>(info->collection_id) : 0;
    }
    // With the database closed: the live entries of every metadata index in the database, the
    // definition record of docs' index on `path`, and the number of docs' statistics records.
    struct Stored {
        std::size_t entries = 0;
        std::optional<storage::MetadataIndexRecord> record;
        std::size_t stats_records = 0;
    };
    Stored InspectClosed(storage::CollectionId docs, const std::string& path) {
        Stored out;
        auto store = storage::Store::Open(dir_.Sub("data"), {});
        EXPECT_TRUE(store.ok()) << store.status().ToString();
        if (!store.ok()) {
            return out;
        }
        {
            const storage::ReadTimestamp latest(storage::kLatestTimestamp);
            std::unique_ptr<rocksdb::Iterator> it(
                (*store)->db()->NewIterator(latest.For(storage::ColumnFamily::kMetaIndex),
                                            (*store)->cf(storage::ColumnFamily::kMetaIndex)));
            for (it->SeekToFirst(); it->Valid(); it->Next()) {
                ++out.entries;
            }
            PHENIX_EXPECT_OK(storage::FromRocks(it->status(), "scanning"));
        }
        {
            const std::string prefix = storage::IndexStatsKeyPrefix(docs);
            std::unique_ptr<rocksdb::Iterator> it((*store)->db()->NewIterator(
                rocksdb::ReadOptions(), (*store)->cf(storage::ColumnFamily::kCatalog)));
            for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
                ++out.stats_records;
            }
            PHENIX_EXPECT_OK(storage::FromRocks(it->status(), "scanning"));
        }
        auto value =
            (*store)->Get(storage::ColumnFamily::kCatalog, storage::MetadataIndexKey(docs, path));
        if (value.ok()) {
            auto record = storage::DecodeMetadataIndexRecord(*value);
            EXPECT_TRUE(record.ok()) << record.status().ToString();
            if (record.ok()) {
                out.record = *record;
            }
        } else {
            EXPECT_TRUE(value.status().IsNotFound()) << value.status().ToString();
        }
        PHENIX_EXPECT_OK((*store)->Close());
        return out;
    }
    Stored CloseAndInspect(storage::CollectionId docs, const std::string& path) {
        PHENIX_EXPECT_OK(db_->Close());
        db_.reset();
        Stored stored = InspectClosed(docs, path);
        Open();
        return stored;
    }
    // The index on "g" is gone for good: not listed, no entries, no definition after a reopen,
    // and filters on "g" still find every matching row (by scanning).
    void ExpectGDropped(storage::CollectionId docs) {
        for (int round = 0; round < 2; ++round) {
            SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
            auto indexes = db_->ListIndexes("docs");
            ASSERT_TRUE(indexes.ok());
            EXPECT_TRUE(indexes->empty());
            EXPECT_FALSE(UsedIndex(R"({"g":3})"));
            const IdList expected = ScanMatching(R"({"g":3})");
            ASSERT_EQ(expected.size(), 429u);
            EXPECT_EQ(FindIds(R"({"g":3})"), expected);
            PHENIX_EXPECT_OK(db_->Verify());
            if (round == 0) {
                const Stored stored = CloseAndInspect(docs, "g");
                EXPECT_EQ(stored.entries, 0u);
                EXPECT_FALSE(stored.record.has_value());
            }
        }
    }
    // The index on "g" is ready, used and equal to a scan, before and after a reopen.
    void ExpectGIntact() {
        for (int round = 0; round < 2; ++round) {
            SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
            auto indexes = db_->ListIndexes("docs");
            ASSERT_TRUE(indexes.ok());
            ASSERT_EQ(indexes->size(), 1u);
            EXPECT_EQ((*indexes)[0].state, IndexState::kReady);
            EXPECT_TRUE(UsedIndex(R"({"g":3})"));
            for (int g = 0; g < 7; ++g) {
                const std::string filter = R"({"g":)" + std::to_string(g) + "}";
                const IdList expected = ScanMatching(filter);
                ASSERT_FALSE(expected.empty());
                EXPECT_EQ(FindIds(filter), expected) << filter;
            }
            PHENIX_EXPECT_OK(db_->Verify());
            if (round == 0) {
                Reopen();
            }
        }
    }
    // Rewrites "category" of the rows e<i>, begin <= i < end, that Fill gave category 0.
    void MoveCategory(int begin, int end, int category) {
        WriteBatch batch;
        for (int i = begin; i < end; ++i) {
            if (i % 10 < 5) {
                batch.Upsert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                         R"({"category":)" + std::to_string(category) +
                                             R"(,"bucket":)" + std::to_string(i % 1000) + "}"));
            }
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }
};

TEST_F(IndexLifecycleTest, DropDuringTheBuildStopsItAndLeavesNothing) {
    LoadRows();
    const storage::CollectionId docs = DocsId();
    OnceAt(kAfterChunk, [&] { PHENIX_EXPECT_OK(db_->DropIndex("docs", "g")); });
    const Status built = db_->CreateIndex("docs", "g");
    EXPECT_EQ(built.code(), StatusCode::kAborted) << built.ToString();
    EXPECT_EQ(SyncPoints::Hits(kAfterChunk), 1);  // no chunk after the drop
    ExpectGDropped(docs);
}

// Regression (issue 12 item 9): the build wrote its "ready" record over the drop, so the index
// came back at the next open with its entries deleted and filters on it found nothing.
TEST_F(IndexLifecycleTest, DropRightBeforeTheBuildIsReadyStaysDropped) {
    LoadRows();
    const storage::CollectionId docs = DocsId();
    OnceAt(kBeforeReady, [&] { PHENIX_EXPECT_OK(db_->DropIndex("docs", "g")); });
    const Status built = db_->CreateIndex("docs", "g");
    EXPECT_EQ(SyncPoints::Hits(kBeforeReady), 1);
    EXPECT_EQ(built.code(), StatusCode::kAborted) << built.ToString();
    ExpectGDropped(docs);
}

// Regression (issue 12 item 9): the first build's "ready" record replaced the re-created
// index's definition (same path, older id whose entries the drop deleted).
TEST_F(IndexLifecycleTest, RecreateRightBeforeTheBuildIsReadyKeepsTheNewIndex) {
    LoadRows();
    OnceAt(kBeforeReady, [&] {
        PHENIX_EXPECT_OK(db_->DropIndex("docs", "g"));
        Put("late", R"({"g":3})");
        PHENIX_EXPECT_OK(db_->CreateIndex("docs", "g"));  // its own build passes the point
    });
    const Status built = db_->CreateIndex("docs", "g");
    EXPECT_EQ(SyncPoints::Hits(kBeforeReady), 2);
    EXPECT_EQ(built.code(), StatusCode::kAborted) << built.ToString();
    EXPECT_EQ(FindIds(R"({"g":3})").size(), 430u);
    ExpectGIntact();
}

// The collection dropped under a build: the build stops, and the collection's index definitions
// and statistics go in the drop's own write (they used to wait for the next open).
TEST_F(IndexLifecycleTest, DropCollectionDuringTheBuildRemovesItsIndexRecords) {
    LoadRows();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "h"));  // ready, with statistics
    const storage::CollectionId docs = DocsId();
    OnceAt(kBeforeReady, [&] { PHENIX_EXPECT_OK(db_->DropCollection("docs")); });
    const Status built = db_->CreateIndex("docs", "g");
    EXPECT_EQ(built.code(), StatusCode::kAborted) << built.ToString();
    EXPECT_NE(built.message().find("collection"), std::string::npos) << built.ToString();
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    for (const char* path : {"g", "h"}) {
        EXPECT_FALSE(InspectClosed(docs, path).record.has_value()) << path;
    }
    EXPECT_EQ(InspectClosed(docs, "h").stats_records, 0u);
    Open();
    EXPECT_EQ(db_->ListIndexes("docs").status().code(), StatusCode::kNotFound);
}

TEST_F(IndexLifecycleTest, StatisticsRefreshRacingADropLeavesNoRecord) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    EXPECT_EQ(CountStatsRecords(), 1u);
    OnceAt(kStatsComputed, [&] { PHENIX_EXPECT_OK(db_->DropIndex("docs", "category")); });
    PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));
    EXPECT_EQ(SyncPoints::Hits(kStatsComputed), 1);
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    EXPECT_TRUE(indexes->empty());
    EXPECT_EQ(CountStatsRecords(), 0u);
    EXPECT_LT(Estimate(R"({"category":7})"), 100.0);  // unindexed: the default
}

// A refresh that took its snapshot before another refresh must not replace the newer one, in
// memory or in the stored record (it did: the last to finish won).
TEST_F(IndexLifecycleTest, AnOlderStatisticsRefreshNeverReplacesANewerOne) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    std::uint64_t newer_ts = 0;
    OnceAt(kStatsComputed, [&] {
        MoveCategory(0, 4000, 42);  // 2,000 rows from 0 to 42 in place
        PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));
        newer_ts = StatsTimestamp("category");
    });
    PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));
    ASSERT_NE(newer_ts, 0u);
    EXPECT_GE(StatsTimestamp("category"), newer_ts);
    EXPECT_NEAR(Estimate(R"({"category":42})"), 2000.0, 200.0);
    EXPECT_NEAR(Estimate(R"({"category":0})"), 500.0, 100.0);
    SyncPoints::ClearAll();
    Reopen();
    EXPECT_GE(StatsTimestamp("category"), newer_ts);
    EXPECT_NEAR(Estimate(R"({"category":42})"), 2000.0, 200.0);
}

// Statistics follow values changed in place: refreshed and reopened, and across reopens when
// each session alone changed too little to trigger a refresh.
TEST_F(IndexLifecycleTest, StatisticsFollowInPlaceUpdatesAcrossReopens) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    EXPECT_LT(Estimate(R"({"category":42})"), 50.0);
    // Settles a maintenance refresh that may have started with the build (Close waits for it),
    // so that none computes statistics between the two sessions below.
    Reopen();
    // Two sessions each move 300 rows (6% of 5,000, under the 10% that triggers a refresh).
    MoveCategory(0, 600, 42);
    Reopen();
    const std::uint64_t first_ts = StatsTimestamp("category");
    ASSERT_NE(first_ts, 0u);
    MoveCategory(600, 1200, 42);
    Reopen();
    // Together they are 12%: the first maintenance round after open recomputes them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (StatsTimestamp("category") == first_ts && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_NE(StatsTimestamp("category"), first_ts);
    EXPECT_NEAR(Estimate(R"({"category":42})"), 600.0, 60.0);
    // Refreshed explicitly, then reopened: the stored statistics are the refreshed ones.
    MoveCategory(1200, 2000, 42);
    PHENIX_ASSERT_OK(db_->AnalyzeIndexes("docs"));
    const std::uint64_t analyzed_ts = StatsTimestamp("category");
    Reopen();
    EXPECT_EQ(StatsTimestamp("category"), analyzed_ts);
    EXPECT_NEAR(Estimate(R"({"category":42})"), 1000.0, 100.0);
}

// A refresh that finishes while the database is closing cannot store its record itself (the
// maintenance thread's, which Close waits for, or a caller's): Close stores it. Before, the
// statistics on disk stayed those from before the changes, with no changes counted, so the
// reopened database never refreshed them.
TEST_F(IndexLifecycleTest, ARefreshFinishingDuringCloseIsStored) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    MoveCategory(0, 4000, 42);
    std::mutex mu;
    std::condition_variable cv;
    bool closing = false;
    bool resume = false;
    SyncPoints::Set("DatabaseImpl::Close:Closing", [&] {
        std::unique_lock lock(mu);
        closing = true;
        cv.notify_all();
        cv.wait(lock, [&] { return resume; });
    });
    Status closed;
    std::thread closer;
    OnceAt(kStatsComputed, [&] {
        closer = std::thread([&] { closed = db_->Close(); });
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return closing; });
    });
    PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));  // installs them, cannot store them
    {
        std::lock_guard lock(mu);
        resume = true;
    }
    cv.notify_all();
    if (closer.joinable()) {
        closer.join();
    }
    PHENIX_ASSERT_OK(closed);
    SyncPoints::ClearAll();
    db_.reset();
    Open();
    EXPECT_NEAR(Estimate(R"({"category":42})"), 2000.0, 200.0);
}

// A change counts towards the next refresh only once its commit is written: a refresh whose
// snapshot missed a commit being prepared must not take its changes as seen (it did, and the
// statistics then stayed stale until another 10% of the collection changed).
TEST_F(IndexLifecycleTest, ARefreshDuringACommitStillCountsItsChanges) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    std::uint64_t during_ts = 0;
    double during_estimate = -1.0;
    OnceAt("DatabaseImpl::CommitLocked:BeforeWrite", [&] {
        // Another thread: this one holds the catalog lock and the rows' locks.
        std::thread refresher([&] {
            PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));
            during_ts = StatsTimestamp("category");
            during_estimate = Estimate(R"({"category":42})");
        });
        refresher.join();
    });
    MoveCategory(0, 1200, 42);  // 600 rows (12%) in one commit: a refresh is due
    ASSERT_EQ(SyncPoints::Hits("DatabaseImpl::CommitLocked:BeforeWrite"), 1);
    SyncPoints::ClearAll();
    ASSERT_NE(during_ts, 0u);
    EXPECT_LT(during_estimate, 50.0);  // that refresh did not see the commit
    // The maintenance thread refreshes them (about once a second).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (StatsTimestamp("category") == during_ts && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_NEAR(Estimate(R"({"category":42})"), 600.0, 60.0);
}

TEST_F(IndexLifecycleTest, ARecreatedIndexNeverLoadsTheDroppedOnesStatistics) {
    Fill();
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    EXPECT_LT(Estimate(R"({"category":42})"), 50.0);
    MoveCategory(0, 4000, 42);
    PHENIX_ASSERT_OK(db_->DropIndex("docs", "category"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    EXPECT_NEAR(Estimate(R"({"category":42})"), 2000.0, 200.0);
    // The drop raced by a refresh of the old index that finished after the re-create.
    OnceAt(kStatsComputed, [&] {
        PHENIX_EXPECT_OK(db_->DropIndex("docs", "category"));
        MoveCategory(0, 4000, 43);
        PHENIX_EXPECT_OK(db_->CreateIndex("docs", "category"));  // its refresh passes the point
    });
    PHENIX_EXPECT_OK(db_->AnalyzeIndexes("docs"));
    EXPECT_EQ(SyncPoints::Hits(kStatsComputed), 2);
    SyncPoints::ClearAll();
    EXPECT_NEAR(Estimate(R"({"category":43})"), 2000.0, 200.0);
    EXPECT_EQ(CountStatsRecords(), 1u);  // reopens
    EXPECT_NEAR(Estimate(R"({"category":43})"), 2000.0, 200.0);
    EXPECT_LT(Estimate(R"({"category":42})"), 50.0);
}

// A build killed (SIGKILL) after its first chunk is finished when the database is opened again,
// and the index then equals a full scan, including the rows written while it was interrupted.
#if defined(__SANITIZE_THREAD__)
#define PHENIX_METADATA_INDEX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PHENIX_METADATA_INDEX_TSAN 1
#endif
#endif

using IndexLifecycleDeathTest = IndexLifecycleTest;

// The forked child: opens the database, starts the build and kills itself after the first chunk,
// having written rows on both sides of the build's position.
[[noreturn]] void BuildAndDieAfterTheFirstChunk(const std::string& path) {
    auto opened = Database::Open(path);
    if (!opened.ok()) {
        std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
        std::_Exit(2);
    }
    std::unique_ptr<Database> db = std::move(opened).value();
    SyncPoints::Set(kAfterChunk, [&db] {
        const Entity early{
            .id = "e5", .vector = {0.1f, 0.2f, 0.3f, 0.4f}, .metadata = R"({"g":100})"};
        const Entity late{
            .id = "e2990", .vector = {0.1f, 0.2f, 0.3f, 0.4f}, .metadata = R"({"g":101})"};
        const Entity fresh{
            .id = "n0", .vector = {0.1f, 0.2f, 0.3f, 0.4f}, .metadata = R"({"g":102})"};
        if (!db->Upsert("docs", early).ok() || !db->Upsert("docs", late).ok() ||
            !db->Delete("docs", "e1500").ok() || !db->Upsert("docs", fresh).ok()) {
            std::fprintf(stderr, "a write during the build failed\n");
            std::_Exit(2);
        }
        std::raise(SIGKILL);
    });
    const Status built = db->CreateIndex("docs", "g");
    std::fprintf(stderr, "the build was not killed: %s\n", built.ToString().c_str());
    std::_Exit(3);
}

TEST_F(IndexLifecycleDeathTest, ABuildKilledMidwayIsFinishedAtOpenAndEqualsAScan) {
#ifdef PHENIX_METADATA_INDEX_TSAN
    GTEST_SKIP() << "death tests fork; ThreadSanitizer forbids threads in a forked child";
#endif
    LoadRows();
    const storage::CollectionId docs = DocsId();
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    const std::string style = GTEST_FLAG_GET(death_test_style);
    GTEST_FLAG_SET(death_test_style, "fast");  // the child must use this fixture's directory
    EXPECT_EXIT(BuildAndDieAfterTheFirstChunk(dir_.Sub("data")), ::testing::KilledBySignal(SIGKILL),
                "");
    GTEST_FLAG_SET(death_test_style, style);
    // The kill landed mid-build: still "building", with the first chunk's entries.
    const Stored stored = InspectClosed(docs, "g");
    ASSERT_TRUE(stored.record.has_value());
    EXPECT_EQ(stored.record->state, 0);
    EXPECT_GE(stored.entries, 1024u);
    EXPECT_LT(stored.entries, 2048u);
    Open();  // FinishInterruptedIndexBuilds
    EXPECT_EQ(FindIds(R"({"g":100})"), IdList{"e5"});
    EXPECT_EQ(FindIds(R"({"g":101})"), IdList{"e2990"});
    EXPECT_EQ(FindIds(R"({"g":102})"), IdList{"n0"});
    const IdList all = FindIds(R"({"g":{"$exists":true}})");
    ASSERT_EQ(all.size(), 3000u);
    EXPECT_FALSE(std::binary_search(all.begin(), all.end(), "e1500"));
    ExpectGIntact();
}

}  // namespace
}  // namespace phenix
