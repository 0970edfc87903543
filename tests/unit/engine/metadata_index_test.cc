// SPDX-License-Identifier: Apache-2.0
// Metadata indexes through the public API: created online, maintained in the same commit as the
// entity, read at the caller's snapshot (with a transaction's own writes), and always equal to a
// full scan.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "document/filter.h"
#include "storage/catalog_codec.h"
#include "storage/store.h"
#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class MetadataIndexTest : public DbTest {
  protected:
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

using IdList = std::vector<std::string>;

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

TEST_F(MetadataIndexTest, OnlineBuildWhileWritersRunEqualsAFullScan) {
    WriteBatch initial;
    for (int i = 0; i < 3000; ++i) {
        initial.Upsert("docs", Doc("e" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f},
                                   R"({"g":)" + std::to_string(i % 7) + "}"));
    }
    PHENIX_ASSERT_OK(db_->Write(initial));
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
    EXPECT_GT(calls, 1u);
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 1u);
    EXPECT_EQ((*indexes)[0].state, IndexState::kReady);
    EXPECT_TRUE(UsedIndex(R"({"g":3})"));
    // Same answers as evaluating every record.
    for (int g = 0; g < 7; ++g) {
        const std::string filter = R"({"g":)" + std::to_string(g) + "}";
        IdList expected;
        ScanOptions options{.limit = 10000, .include_edges = false};
        auto page = db_->Scan("docs", options);
        ASSERT_TRUE(page.ok());
        for (const Entity& e : page->entities) {
            if (*document::Matches(*document::ParseFilter(filter), e.metadata)) {
                expected.push_back(e.id);
            }
        }
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(FindIds(filter), expected) << filter;
    }
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
    // A dropped collection's records go at the next open, like its index definitions.
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

}  // namespace
}  // namespace phenix
