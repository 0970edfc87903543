// SPDX-License-Identifier: Apache-2.0
//
// Filtered vector search through the engine: cached filter results stay exact across commits,
// snapshots and transactions (engine/filter_cache.h), and a filter no index serves is checked
// on the search's candidates instead of scanning every record per query.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

constexpr std::uint32_t kDim = 8;

struct Row {
    std::vector<float> vector;
    int k = 0;
    std::string tag;
};

class FilteredSearchTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "f", .dimension = kDim}));
    }

    std::vector<float> RandomVector(float offset = 0) {
        std::normal_distribution<float> gauss(0.0f, 1.0f);
        std::vector<float> v(kDim);
        for (float& x : v) {
            x = offset + gauss(rng_);
        }
        return v;
    }

    void Put(const std::string& id, Row row) {
        WriteBatch batch;
        Stage(batch, id, row);
        PHENIX_ASSERT_OK(db_->Write(batch));
        rows_[id] = std::move(row);
    }

    static void Stage(WriteBatch& batch, const std::string& id, const Row& row) {
        batch.Upsert("f", Entity{.id = id,
                                 .vector = row.vector,
                                 .metadata = R"({"k": )" + std::to_string(row.k) + R"(, "tag": ")" +
                                             row.tag + R"("})"});
    }

    void Load(std::size_t n, int modulo, const std::string& tag_every_tenth = "ten") {
        WriteBatch batch;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string id = "e" + std::to_string(i);
            Row row{.vector = RandomVector(),
                    .k = static_cast<int>(i % static_cast<std::size_t>(modulo)),
                    .tag = i % 10 == 0 ? tag_every_tenth : "other"};
            Stage(batch, id, row);
            rows_[id] = std::move(row);
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    // The exact top-k ids among `rows` that `keep` accepts.
    static std::vector<std::string> Exact(const std::map<std::string, Row>& rows,
                                          std::span<const float> q, std::size_t k,
                                          const std::function<bool(const Row&)>& keep) {
        std::vector<std::pair<float, std::string>> all;
        for (const auto& [id, row] : rows) {
            if (!keep(row)) {
                continue;
            }
            float d = 0;
            for (std::size_t i = 0; i < kDim; ++i) {
                d += (row.vector[i] - q[i]) * (row.vector[i] - q[i]);
            }
            all.emplace_back(d, id);
        }
        std::sort(all.begin(), all.end());
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < std::min(k, all.size()); ++i) {
            ids.push_back(all[i].second);
        }
        return ids;
    }

    static std::vector<std::string> Ids(const SearchResponse& r) {
        std::vector<std::string> ids;
        for (const SearchHit& hit : r.hits) {
            ids.push_back(hit.id);
        }
        return ids;
    }

    static bool StepsMention(const SearchResponse& r, std::string_view text) {
        return std::any_of(
            r.plan.filter_steps.begin(), r.plan.filter_steps.end(),
            [&](const std::string& step) { return step.find(text) != std::string::npos; });
    }

    std::mt19937_64 rng_{42};
    std::map<std::string, Row> rows_;
};

// A filter's result is cached and carried across commits by re-deciding only the rows they
// changed: every answer equals the exact one, before and after inserts, updates that move rows
// into and out of the filter, and deletes; at an older snapshot; inside a transaction.
TEST_F(FilteredSearchTest, CachedFilterResultsStayExactAcrossCommitsSnapshotsAndTransactions) {
    PHENIX_ASSERT_OK(db_->CreateIndex("f", "k", nullptr));
    Load(3000, 5);
    const std::string filter = R"({"k": 1})";
    auto is_one = [](const Row& row) { return row.k == 1; };
    auto search = [&](std::span<const float> q) {
        auto r = db_->Search("f", q,
                             {.k = 20, .filter = filter, .strategy = SearchStrategy::kExactScan});
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        return r.ok() ? *r : SearchResponse{};
    };
    const std::vector<float> q = RandomVector();
    SearchResponse first = search(q);
    ASSERT_EQ(first.hits.size(), 20u);
    EXPECT_EQ(Ids(first), Exact(rows_, q, 20, is_one));
    EXPECT_FALSE(StepsMention(first, "cached"));
    SearchResponse again = search(q);
    EXPECT_TRUE(StepsMention(again, "cached")) << again.plan.filter_steps.front();
    EXPECT_EQ(Ids(again), Ids(first));
    const Timestamp before = db_->CurrentTimestamp();
    const std::map<std::string, Row> rows_before = rows_;

    // Move the nearest matches out, others in (right at the query), delete some, add some.
    std::vector<std::string> nearest = Ids(first);
    for (std::size_t i = 0; i < 5; ++i) {
        Row moved = rows_[nearest[i]];
        moved.k = 2;
        Put(nearest[i], moved);
    }
    for (int i = 0; i < 5; ++i) {
        const std::string id = "e" + std::to_string(i * 5 + 3);  // k == 3
        Row moved = rows_[id];
        moved.k = 1;
        moved.vector = q;
        moved.vector[0] += 0.001f * static_cast<float>(i + 1);
        Put(id, moved);
    }
    PHENIX_ASSERT_OK(db_->Delete("f", nearest[5]));
    rows_.erase(nearest[5]);
    Put("new", Row{.vector = q, .k = 1, .tag = "other"});
    SearchResponse after = search(q);
    ASSERT_EQ(after.hits.size(), 20u);
    EXPECT_TRUE(StepsMention(after, "changed rows decided again"));
    EXPECT_EQ(Ids(after), Exact(rows_, q, 20, is_one));
    EXPECT_EQ(after.hits[0].id, "new");

    // The older snapshot, with the newer cached result carried back.
    auto old = db_->BeginTransaction({.read_only = true, .as_of = before});
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    auto old_r =
        (*old)->Search("f", q, {.k = 20, .filter = filter, .strategy = SearchStrategy::kExactScan});
    ASSERT_TRUE(old_r.ok()) << old_r.status().ToString();
    EXPECT_EQ(Ids(*old_r), Exact(rows_before, q, 20, is_one));

    // A transaction's own writes decide its rows.
    auto txn = db_->BeginTransaction({});
    ASSERT_TRUE(txn.ok());
    Row mine{.vector = q, .k = 1, .tag = "other"};
    mine.vector[1] -= 0.0005f;
    PHENIX_ASSERT_OK((*txn)->Upsert(
        "f", Entity{.id = "mine", .vector = mine.vector, .metadata = R"({"k": 1})"}));
    PHENIX_ASSERT_OK((*txn)->PatchMetadata("f", "new", R"({"k": 4})"));
    auto in_txn =
        (*txn)->Search("f", q, {.k = 20, .filter = filter, .strategy = SearchStrategy::kExactScan});
    ASSERT_TRUE(in_txn.ok()) << in_txn.status().ToString();
    std::map<std::string, Row> txn_rows = rows_;
    txn_rows["mine"] = mine;
    txn_rows["new"].k = 4;
    EXPECT_EQ(Ids(*in_txn), Exact(txn_rows, q, 20, is_one));
    PHENIX_ASSERT_OK((*txn)->Rollback());
    EXPECT_EQ(Ids(search(q)), Exact(rows_, q, 20, is_one));
}

// A filter no index serves is checked on the candidates the search finds: no scan of every
// record per query; the answer matches the exact one closely. Its estimate is a default
// selectivity (0.5%), far below the real 10%: the search starts from a small beam and widens to
// ef / the selectivity it sees, not the 4,000 candidates the default selectivity implies.
TEST_F(FilteredSearchTest, AnUnindexedFilterIsCheckedOnTheCandidates) {
    Load(8000, 7, "ten");  // large enough that ~700 candidates cost less than one scan
    auto is_ten = [](const Row& row) { return row.tag == "ten"; };
    double recall = 0;
    std::size_t most_checked = 0;
    constexpr int kQueries = 20;
    for (int i = 0; i < kQueries; ++i) {
        const std::vector<float> q = RandomVector();
        auto r = db_->Search("f", q, {.k = 10, .filter = R"({"tag": "ten"})"});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_EQ(r->hits.size(), 10u);
        EXPECT_TRUE(StepsMention(*r, "checked the records of the"))
            << (r->plan.filter_steps.empty() ? "" : r->plan.filter_steps.front());
        for (const std::string& step : r->plan.filter_steps) {
            const std::string_view marker = "checked the records of the ";
            if (const auto at = step.find(marker); at != std::string::npos) {
                most_checked = std::max<std::size_t>(most_checked,
                                                     std::stoul(step.substr(at + marker.size())));
            }
        }
        EXPECT_FALSE(StepsMention(*r, "scanned every record"));
        EXPECT_EQ(r->plan.strategy, SearchStrategy::kPostFilter);
        const auto truth = Exact(rows_, q, 10, is_ten);
        const std::set<std::string> want(truth.begin(), truth.end());
        for (const SearchHit& hit : r->hits) {
            ASSERT_TRUE(is_ten(rows_[hit.id])) << hit.id << " does not match";
            recall += want.count(hit.id) ? 0.1 : 0.0;
        }
    }
    EXPECT_GE(recall / kQueries, 0.9);
    EXPECT_GE(most_checked, 10u);
    // ef / selectivity = 640 at the true 10% (more where a query's neighbourhood holds fewer
    // matches); the default selectivity would have asked for 2 * k / 0.005 = 4,000.
    EXPECT_LE(most_checked, 2000u);
}

// When the nearest candidates hold too few matches, the search widens and finally decides every
// record: rows that match only far from the query are still found, in exact order.
TEST_F(FilteredSearchTest, AnUnindexedFilterMatchingOnlyFarAwayRowsIsStillAnswered) {
    Load(6000, 7, "other");
    for (int i = 0; i < 3; ++i) {
        Put("far" + std::to_string(i), Row{.vector = RandomVector(40.0f), .k = 0, .tag = "far"});
    }
    const std::vector<float> q = RandomVector();
    auto r = db_->Search("f", q, {.k = 10, .filter = R"({"tag": "far"})"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Ids(*r), Exact(rows_, q, 10, [](const Row& row) { return row.tag == "far"; }));
    ASSERT_EQ(r->hits.size(), 3u);
    EXPECT_TRUE(StepsMention(*r, "scanned every record"))
        << (r->plan.filter_steps.empty() ? "" : r->plan.filter_steps.back());
    // That scan's rows are cached: the same filter again reads no record but the changed ones,
    // and a row written since is found.
    auto again = db_->Search("f", q, {.k = 10, .filter = R"({"tag": "far"})"});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(StepsMention(*again, "cached result"));
    EXPECT_FALSE(StepsMention(*again, "scanned every record"));
    EXPECT_EQ(Ids(*again), Ids(*r));
    Put("far3", Row{.vector = RandomVector(40.0f), .k = 0, .tag = "far"});
    auto after = db_->Search("f", q, {.k = 10, .filter = R"({"tag": "far"})"});
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_TRUE(StepsMention(*after, "cached result"));
    ASSERT_EQ(after->hits.size(), 4u);
    EXPECT_EQ(Ids(*after), Exact(rows_, q, 10, [](const Row& row) { return row.tag == "far"; }));
    auto none = db_->Search("f", q, {.k = 10, .filter = R"({"tag": "nowhere"})"});
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_TRUE(none->hits.empty());
}

}  // namespace
}  // namespace phenix
