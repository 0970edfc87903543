// SPDX-License-Identifier: Apache-2.0
//
// Vector search through the public API: results, errors, freshness, MVCC visibility inside and
// outside transactions, persistence of the index across reopen, filters, rebuild.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

constexpr std::uint32_t kDim = 8;

std::vector<float> RandomVector(std::mt19937_64& rng) {
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> v(kDim);
    for (float& x : v) {
        x = gauss(rng);
    }
    return v;
}

float L2(const std::vector<float>& a, std::span<const float> b) {
    float sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sum += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return sum;
}

class VectorSearchTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "vecs", .dimension = kDim}));
    }

    // Inserts n random entities "e<i>" and remembers their vectors.
    void Load(std::size_t n, std::uint64_t seed = 1) {
        std::mt19937_64 rng(seed);
        WriteBatch batch;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string id = "e" + std::to_string(vectors_.size());
            vectors_[id] = RandomVector(rng);
            batch.Upsert("vecs", Entity{.id = id, .vector = vectors_[id], .metadata = "{}"});
            if (batch.size() >= 500) {
                PHENIX_ASSERT_OK(db_->Write(batch));
                batch = WriteBatch();
            }
        }
        if (batch.size() > 0) {
            PHENIX_ASSERT_OK(db_->Write(batch));
        }
    }

    std::vector<std::string> Exact(std::span<const float> q, std::size_t k) const {
        std::vector<std::pair<float, std::string>> all;
        for (const auto& [id, v] : vectors_) {
            all.emplace_back(L2(v, q), id);
        }
        std::sort(all.begin(), all.end());
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < std::min(k, all.size()); ++i) {
            ids.push_back(all[i].second);
        }
        return ids;
    }

    static std::vector<std::string> Ids(const Result<SearchResponse>& r) {
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        std::vector<std::string> ids;
        if (r.ok()) {
            for (const SearchHit& hit : r->hits) {
                ids.push_back(hit.id);
            }
        }
        return ids;
    }

    // Waits until the builder has moved every committed vector into the graph.
    void WaitIndexed(const CollectionRef& collection = "vecs") {
        for (int i = 0; i < 600; ++i) {
            auto info = db_->GetVectorIndexInfo(collection);
            ASSERT_TRUE(info.ok()) << info.status().ToString();
            if (info->unindexed_rows == 0) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL() << "the vector index did not catch up within 30 s";
    }

    double Recall(std::size_t queries, std::uint64_t seed) {
        std::mt19937_64 rng(seed);
        double hits = 0;
        for (std::size_t qi = 0; qi < queries; ++qi) {
            const auto q = RandomVector(rng);
            const auto got = Ids(db_->Search("vecs", q, {.k = 10, .ef = 64}));
            const auto want = Exact(q, 10);
            const std::set<std::string> truth(want.begin(), want.end());
            for (const std::string& id : got) {
                hits += static_cast<double>(truth.count(id));
            }
        }
        return hits / static_cast<double>(queries * 10);
    }

    std::map<std::string, std::vector<float>> vectors_;
};

TEST_F(VectorSearchTest, FindsNearestWithDistancesAndPayload) {
    PHENIX_ASSERT_OK(db_->Insert(
        "vecs", Entity{.id = "a", .vector = {1, 0, 0, 0, 0, 0, 0, 0}, .metadata = R"({"x":1})"}));
    PHENIX_ASSERT_OK(db_->Insert("vecs", Entity{.id = "b", .vector = {2, 0, 0, 0, 0, 0, 0, 0}}));
    PHENIX_ASSERT_OK(db_->Insert("vecs", Entity{.id = "c", .vector = {5, 0, 0, 0, 0, 0, 0, 0}}));
    PHENIX_ASSERT_OK(db_->Insert("vecs", Entity{.id = "novec"}));
    const std::vector<float> q = {1.5f, 0, 0, 0, 0, 0, 0, 0};
    auto r = db_->Search("vecs", q, {.k = 5, .include_metadata = true, .include_vector = true});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->hits.size(), 3u);  // the entity without a vector is not a candidate
    EXPECT_EQ(r->hits[0].id, "a");
    EXPECT_FLOAT_EQ(r->hits[0].distance, 0.25f);
    EXPECT_EQ(r->hits[0].metadata, R"({"x":1})");
    EXPECT_EQ(r->hits[0].vector, (std::vector<float>{1, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(r->hits[1].id, "b");
    EXPECT_EQ(r->hits[2].id, "c");
    EXPECT_FLOAT_EQ(r->hits[2].distance, 12.25f);
    r = db_->Search("vecs", q, {.k = 1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->hits.size(), 1u);
    EXPECT_TRUE(r->hits[0].metadata.empty());
    EXPECT_TRUE(r->hits[0].vector.empty());
}

TEST_F(VectorSearchTest, CosineCollectionRanksByAngle) {
    // "docs" (the fixture's collection) is 4-d cosine.
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("near", {10, 0.5f, 0, 0})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("far", {0, 1, 0, 0})));
    const std::vector<float> q = {1, 0, 0, 0};
    auto r = db_->Search("docs", q, {.k = 2});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Ids(r), (std::vector<std::string>{"near", "far"}));
    EXPECT_NEAR(r->hits[1].distance, 1.0f, 1e-6f);
}

TEST_F(VectorSearchTest, RejectsBadRequests) {
    const std::vector<float> q(kDim, 1.0f);
    EXPECT_EQ(db_->Search("vecs", std::vector<float>(3, 1.0f)).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Search("vecs", q, {.k = 0}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Search("vecs", q, {.k = 10001}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Search("vecs", q, {.ef = 20000}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Search("nope", q).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->Search("docs", std::vector<float>(4, 0.0f)).status().code(),
              StatusCode::kInvalidArgument);  // zero query under cosine
    std::vector<float> nan = q;
    nan[2] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(db_->Search("vecs", nan).status().code(), StatusCode::kInvalidArgument);
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "plain"}));
    auto r = db_->Search("plain", q);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("no vectors"), std::string::npos);
    EXPECT_EQ(db_->GetVectorIndexInfo("plain").status().code(), StatusCode::kInvalidArgument);
    // Bad index settings are refused when the collection is created.
    for (const char* settings :
         {R"({"hnsw":{"m":1}})", R"({"hnsw":{"ef_search":0}})", R"({"hnsw":{"quantization":"pq"}})",
          R"({"hnsw":{"M":16}})", R"({"hnsw":3})"}) {
        const Status s = db_->CreateCollection(
            {.ref = "bad", .dimension = 4, .metric = Metric::kL2, .settings = settings});
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << settings;
    }
}

TEST_F(VectorSearchTest, RecallAgainstBruteForce) {
    Load(3000);
    EXPECT_GE(Recall(50, 99), 0.9);
}

TEST_F(VectorSearchTest, CommittedWritesAreSearchableAtOnce) {
    // However far the builder lags, a committed entity is found by the next search.
    std::mt19937_64 rng(5);
    for (int round = 0; round < 200; ++round) {
        const std::string id = "fresh" + std::to_string(round);
        auto v = RandomVector(rng);
        PHENIX_ASSERT_OK(db_->Insert("vecs", Entity{.id = id, .vector = v}));
        auto r = db_->Search("vecs", v, {.k = 1});
        ASSERT_EQ(Ids(r), std::vector<std::string>{id}) << round;
        EXPECT_EQ(r->hits[0].distance, 0.0f);
    }
}

TEST_F(VectorSearchTest, UpdatesAndDeletesAreNeverStale) {
    Load(1000);
    std::mt19937_64 rng(6);
    for (int round = 0; round < 100; ++round) {
        const std::string id = "e" + std::to_string(round * 7);
        const auto old_vector = vectors_[id];
        if (round % 2 == 0) {
            PHENIX_ASSERT_OK(db_->Delete("vecs", id));
            vectors_.erase(id);
            auto r = db_->Search("vecs", old_vector, {.k = 5});
            const std::vector<std::string> got_ids = Ids(r);
            ASSERT_EQ(got_ids.size(), 5u);  // the check below needs hits to mean anything
            for (const std::string& got : got_ids) {
                EXPECT_NE(got, id);
            }
        } else {
            auto v = RandomVector(rng);
            PHENIX_ASSERT_OK(db_->Upsert("vecs", Entity{.id = id, .vector = v}));
            vectors_[id] = v;
            EXPECT_EQ(Ids(db_->Search("vecs", v, {.k = 1})), std::vector<std::string>{id});
            auto r = db_->Search("vecs", old_vector, {.k = 1});
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r->hits.size(), 1u);
            if (r->hits[0].id == id) {
                EXPECT_EQ(r->hits[0].distance, L2(v, old_vector));  // the new vector's distance
            }
        }
    }
    // Metadata-only changes keep the entity findable by its vector.
    PHENIX_ASSERT_OK(db_->PatchMetadata("vecs", "e1", R"({"tag":"x"})"));
    EXPECT_EQ(Ids(db_->Search("vecs", vectors_["e1"], {.k = 1})), std::vector<std::string>{"e1"});
    // Removing the vector removes the entity from search.
    PHENIX_ASSERT_OK(db_->Upsert("vecs", Entity{.id = "e1", .metadata = "{}"}));
    for (const std::string& got : Ids(db_->Search("vecs", vectors_["e1"], {.k = 5}))) {
        EXPECT_NE(got, "e1");
    }
}

TEST_F(VectorSearchTest, TransactionSeesExactlyItsSnapshotAndOwnWrites) {
    Load(300);
    const std::vector<float> here = {9, 9, 9, 9, 9, 9, 9, 9};
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    // Its own insert, update and delete.
    PHENIX_ASSERT_OK((*txn)->Insert("vecs", Entity{.id = "mine", .vector = here}));
    PHENIX_ASSERT_OK(
        (*txn)->Upsert("vecs", Entity{.id = "e1", .vector = {9, 9, 9, 9, 9, 9, 9, 8}}));
    PHENIX_ASSERT_OK((*txn)->Delete("vecs", "e2"));
    auto r = (*txn)->Search("vecs", here, {.k = 2});
    EXPECT_EQ(Ids(r), (std::vector<std::string>{"mine", "e1"}));
    for (const std::string& got : Ids((*txn)->Search("vecs", vectors_["e2"], {.k = 10}))) {
        EXPECT_NE(got, "e2");
    }
    // The old e1 is invisible to the transaction at its old position.
    for (const std::string& got : Ids((*txn)->Search("vecs", vectors_["e1"], {.k = 3}))) {
        EXPECT_NE(got, "e1");
    }
    // Others do not see the uncommitted writes.
    auto outside = Ids(db_->Search("vecs", here, {.k = 2}));
    EXPECT_EQ(std::count(outside.begin(), outside.end(), "mine"), 0);
    EXPECT_EQ(Ids(db_->Search("vecs", vectors_["e2"], {.k = 1})), std::vector<std::string>{"e2"});
    // A write committed by someone else after the transaction began is not in its snapshot.
    PHENIX_ASSERT_OK(db_->Insert("vecs", Entity{.id = "later", .vector = here}));
    auto inside = Ids((*txn)->Search("vecs", here, {.k = 3}));
    EXPECT_EQ(std::count(inside.begin(), inside.end(), "later"), 0);
    // Rolled back: nothing of it is ever searchable.
    PHENIX_ASSERT_OK((*txn)->Rollback());
    auto after = Ids(db_->Search("vecs", here, {.k = 3}));
    EXPECT_EQ(std::count(after.begin(), after.end(), "mine"), 0);
    EXPECT_EQ(after.front(), "later");
    EXPECT_EQ(Ids(db_->Search("vecs", vectors_["e1"], {.k = 1})), std::vector<std::string>{"e1"});
}

TEST_F(VectorSearchTest, AsOfSnapshotSeesOldVectors) {
    Load(200);
    const Timestamp before = db_->CurrentTimestamp();
    const auto old_vector = vectors_["e5"];
    PHENIX_ASSERT_OK(
        db_->Upsert("vecs", Entity{.id = "e5", .vector = std::vector<float>(kDim, 7)}));
    PHENIX_ASSERT_OK(db_->Delete("vecs", "e6"));
    auto txn = db_->BeginTransaction({.read_only = true, .as_of = before});
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    EXPECT_EQ(Ids((*txn)->Search("vecs", old_vector, {.k = 1})), std::vector<std::string>{"e5"});
    EXPECT_EQ(Ids((*txn)->Search("vecs", vectors_["e6"], {.k = 1})),
              std::vector<std::string>{"e6"});
    auto now = Ids(db_->Search("vecs", vectors_["e6"], {.k = 1}));
    EXPECT_NE(now.front(), "e6");
}

TEST_F(VectorSearchTest, FilterIdsRestrictResultsWithEveryStrategy) {
    Load(2000);
    std::vector<std::string> allowed;
    for (int i = 0; i < 2000; i += 9) {
        allowed.push_back("e" + std::to_string(i));
    }
    allowed.push_back("does-not-exist");
    const std::set<std::string> allowed_set(allowed.begin(), allowed.end());
    std::mt19937_64 rng(7);
    for (const SearchStrategy strategy : {SearchStrategy::kAuto, SearchStrategy::kExactScan,
                                          SearchStrategy::kInGraph, SearchStrategy::kPostFilter}) {
        const auto q = RandomVector(rng);
        auto r = db_->Search("vecs", q, {.k = 10, .filter_ids = allowed, .strategy = strategy});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_EQ(r->hits.size(), 10u) << SearchStrategyName(strategy);
        for (const SearchHit& hit : r->hits) {
            EXPECT_EQ(allowed_set.count(hit.id), 1u) << hit.id;
        }
        EXPECT_EQ(r->plan.filter_rows, 223u);
        if (strategy != SearchStrategy::kAuto) {
            EXPECT_EQ(r->plan.strategy, strategy);
        }
    }
    // Fewer matches than k: all of them.
    auto r = db_->Search("vecs", RandomVector(rng),
                         {.k = 10, .filter_ids = std::vector<std::string>{"e3", "e4"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->hits.size(), 2u);
    EXPECT_EQ(r->plan.strategy, SearchStrategy::kExactScan);
    EXPECT_EQ(db_->Search("vecs", RandomVector(rng), {.filter_ids = std::vector<std::string>{""}})
                  .status()
                  .code(),
              StatusCode::kInvalidArgument);
}

TEST_F(VectorSearchTest, IndexSurvivesReopenAndCatchesUp) {
    Load(2000);
    WaitIndexed();
    std::mt19937_64 rng(8);
    std::vector<std::vector<float>> queries;
    std::vector<std::vector<std::string>> before;
    for (int i = 0; i < 20; ++i) {
        queries.push_back(RandomVector(rng));
        before.push_back(Ids(db_->Search("vecs", queries.back(), {.k = 10, .ef = 200})));
    }
    Reopen();
    const std::string checkpoint = dir_.Sub("data") + "/index";
    EXPECT_TRUE(std::filesystem::exists(checkpoint));
    auto info = db_->GetVectorIndexInfo("vecs");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->live_nodes, 2000u);
    EXPECT_EQ(info->unindexed_rows, 0u);  // loaded from the checkpoint, nothing to catch up
    EXPECT_GT(info->checkpoint_timestamp, 0u);
    EXPECT_GT(info->graph_bytes, 0u);
    EXPECT_EQ(info->vectors_bytes, 2000u * kDim * sizeof(float));
    for (std::size_t i = 0; i < queries.size(); ++i) {
        EXPECT_EQ(Ids(db_->Search("vecs", queries[i], {.k = 10, .ef = 200})), before[i]);
    }
    // Changes after the reopen, then a damaged checkpoint: the index is rebuilt from the data.
    PHENIX_ASSERT_OK(db_->Delete("vecs", "e10"));
    Reopen();
    for (const auto& entry : std::filesystem::directory_iterator(checkpoint)) {
        std::filesystem::resize_file(entry.path(), 100);
    }
    Reopen();
    info = db_->GetVectorIndexInfo("vecs");
    ASSERT_TRUE(info.ok());
    // Rebuilt from the stored versions: 1999 live vectors, in the graph or still in the tail
    // (which also holds e10's ended version until the builder absorbs it).
    EXPECT_GE(info->live_nodes + info->unindexed_rows, 1999u);
    WaitIndexed();
    info = db_->GetVectorIndexInfo("vecs");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->live_nodes, 1999u);
    for (const std::string& got : Ids(db_->Search("vecs", vectors_["e10"], {.k = 3}))) {
        EXPECT_NE(got, "e10");
    }
    vectors_.erase("e10");
    EXPECT_GE(Recall(30, 77), 0.9);
}

TEST_F(VectorSearchTest, StaleCheckpointAfterGarbageCollectionIsCaughtUp) {
    // A crash after changes whose history was already garbage-collected, before the next
    // checkpoint: the reopened index must still drop deleted rows and move updated ones.
    Reopen({.history_retention_ms = 0, .vector_checkpoint_interval_ms = 0});
    Load(1000);
    WaitIndexed();
    Reopen({.history_retention_ms = 0, .vector_checkpoint_interval_ms = 0});
    const std::string index_dir = dir_.Sub("data") + "/index";
    const std::string saved = dir_.Sub("saved-index");
    std::filesystem::copy(index_dir, saved);
    std::mt19937_64 rng(12);
    for (int i = 0; i < 100; ++i) {
        PHENIX_ASSERT_OK(db_->Delete("vecs", "e" + std::to_string(i)));
        vectors_.erase("e" + std::to_string(i));
        const std::string updated = "e" + std::to_string(500 + i);
        vectors_[updated] = RandomVector(rng);
        PHENIX_ASSERT_OK(db_->Upsert("vecs", Entity{.id = updated, .vector = vectors_[updated]}));
    }
    PHENIX_ASSERT_OK(db_->Compact());  // the deletions' tombstones and old versions are gone
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    std::filesystem::remove_all(index_dir);
    std::filesystem::copy(saved, index_dir);  // as if the last checkpoint never happened
    Open({.history_retention_ms = 0, .vector_checkpoint_interval_ms = 0});
    for (int i = 0; i < 100; ++i) {
        const std::string updated = "e" + std::to_string(500 + i);
        EXPECT_EQ(Ids(db_->Search("vecs", vectors_[updated], {.k = 1})),
                  std::vector<std::string>{updated});
    }
    std::mt19937_64 probe(1);  // regenerates the original vectors of e0..e99
    for (int i = 0; i < 100; ++i) {
        const auto original = RandomVector(probe);
        for (const std::string& got : Ids(db_->Search("vecs", original, {.k = 3}))) {
            EXPECT_NE(got, "e" + std::to_string(i));
        }
    }
    EXPECT_GE(Recall(30, 13), 0.9);
}

TEST_F(VectorSearchTest, DropAndRecreateStartsEmpty) {
    Load(100);
    Reopen();  // writes a checkpoint
    PHENIX_ASSERT_OK(db_->DropCollection("vecs"));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "vecs", .dimension = kDim}));
    auto r = db_->Search("vecs", std::vector<float>(kDim, 0.5f), {.k = 5});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->hits.empty());
    Reopen();
    r = db_->Search("vecs", std::vector<float>(kDim, 0.5f), {.k = 5});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->hits.empty());
    // Only the checkpoints of live collections remain ("docs" and the new "vecs").
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("data") + "/index")) {
        (void)entry;
        ++files;
    }
    EXPECT_EQ(files, 2u);
}

TEST_F(VectorSearchTest, QuantizedCollection) {
    PHENIX_ASSERT_OK(db_->CreateCollection(
        {.ref = "q", .dimension = kDim, .settings = R"({"hnsw":{"quantization":"int8","m":8}})"}));
    std::mt19937_64 rng(9);
    std::map<std::string, std::vector<float>> vs;
    WriteBatch batch;
    for (int i = 0; i < 1500; ++i) {
        const std::string id = "q" + std::to_string(i);
        vs[id] = RandomVector(rng);
        batch.Insert("q", Entity{.id = id, .vector = vs[id]});
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    // Wait for the graph so that the quantized path (not only the exact tail) is exercised.
    WaitIndexed("q");
    auto info = db_->GetVectorIndexInfo("q");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->quantize_int8);
    EXPECT_EQ(info->vectors_bytes, 1500u * (kDim + sizeof(float)));
    for (const auto& [id, v] : vs) {
        if (id.size() > 3) {
            continue;  // q0..q99
        }
        auto r = db_->Search("q", v, {.k = 1, .ef = 64});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->hits.size(), 1u);
        EXPECT_EQ(r->hits[0].id, id);
        EXPECT_EQ(r->hits[0].distance, 0.0f);  // re-ranked with the stored float vector
    }
}

TEST_F(VectorSearchTest, RebuildReportsProgressAndKeepsResults) {
    Load(3000);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reports;
    PHENIX_ASSERT_OK(db_->RebuildVectorIndex("vecs", [&](std::uint64_t done, std::uint64_t total) {
        reports.emplace_back(done, total);
    }));
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().first, 3000u);
    EXPECT_EQ(reports.back().second, 3000u);
    auto info = db_->GetVectorIndexInfo("vecs");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->live_nodes, 3000u);
    EXPECT_GE(Recall(30, 11), 0.9);
    EXPECT_EQ(db_->RebuildVectorIndex("nope").code(), StatusCode::kNotFound);
}

TEST_F(VectorSearchTest, ConcurrentWritersAndSearchers) {
    Load(500);
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            std::mt19937_64 rng(100 + static_cast<std::uint64_t>(w));
            for (int i = 0; i < 300; ++i) {
                const std::string id = "w" + std::to_string(w) + "_" + std::to_string(i % 50);
                const Status s =
                    i % 5 == 4 ? db_->Delete("vecs", id)
                               : db_->Upsert("vecs", Entity{.id = id, .vector = RandomVector(rng)});
                if (!s.ok() && s.code() != StatusCode::kNotFound) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    for (int s = 0; s < 2; ++s) {
        threads.emplace_back([&, s] {
            std::mt19937_64 rng(200 + static_cast<std::uint64_t>(s));
            while (!stop.load()) {
                auto r = db_->Search("vecs", RandomVector(rng), {.k = 5});
                if (!r.ok() || r->hits.size() != 5) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    threads[0].join();
    threads[1].join();
    stop = true;
    threads[2].join();
    threads[3].join();
    EXPECT_EQ(errors.load(), 0);
    PHENIX_EXPECT_OK(db_->Verify());
}

}  // namespace
}  // namespace phenix
