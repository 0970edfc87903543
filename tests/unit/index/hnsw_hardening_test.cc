// SPDX-License-Identifier: Apache-2.0
//
// Regression tests for issue 12 (vector index hardening): the quantizer's state across a
// checkpoint and under concurrent searches, checkpoints racing EndRow, duplicate vectors, an
// exact scan asked for without a filter, labels.
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/sync_point.h"
#include "index/distance/distance.h"
#include "index/hnsw/hnsw_index.h"
#include "testing/temp_dir.h"

namespace phenix::index {
namespace {

class HnswHardeningTest : public ::testing::Test {
  protected:
    void TearDown() override { SyncPoints::ClearAll(); }
};

// Gaussian clusters around centres spread by `spread`, offset by `offset` (so a quantizer
// trained on the wrong range cannot encode them).
std::vector<float> Points(std::size_t n, std::size_t dim, std::uint64_t seed, float offset = 0,
                          std::size_t clusters = 12, float spread = 4.0f) {
    std::mt19937_64 centre_rng(dim * 7 + 1);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> centres(clusters * dim);
    for (float& c : centres) {
        c = gauss(centre_rng) * spread;
    }
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
    std::vector<float> out(n * dim);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = pick(rng);
        for (std::size_t d = 0; d < dim; ++d) {
            out[i * dim + d] = offset + centres[c * dim + d] + gauss(rng);
        }
    }
    return out;
}

std::vector<RowId> TrueTopK(const std::vector<float>& base, std::size_t dim, const float* q,
                            std::size_t k, const std::function<bool(RowId)>& live = nullptr) {
    std::vector<std::pair<float, RowId>> all;
    for (std::size_t i = 0; i < base.size() / dim; ++i) {
        if (!live || live(i)) {
            all.emplace_back(L2SquaredReference(q, base.data() + i * dim, dim), i);
        }
    }
    std::sort(all.begin(), all.end());
    std::vector<RowId> rows;
    for (std::size_t i = 0; i < k && i < all.size(); ++i) {
        rows.push_back(all[i].second);
    }
    return rows;
}

// Recall where ties at the k-th distance count as hits (duplicates make ties common).
double RecallWithTies(const std::vector<Neighbor>& got, const std::vector<float>& base,
                      std::size_t dim, const float* q, std::size_t k) {
    const std::vector<RowId> truth = TrueTopK(base, dim, q, k);
    if (truth.empty()) {
        return 1.0;
    }
    const float kth = L2SquaredReference(q, base.data() + truth.back() * dim, dim);
    std::size_t hits = 0;
    for (const Neighbor& n : got) {
        hits +=
            L2SquaredReference(q, base.data() + n.row * dim, dim) <= kth * (1 + 1e-5f) ? 1u : 0u;
    }
    return static_cast<double>(std::min(hits, truth.size())) / static_cast<double>(truth.size());
}

// Issue 12 item 1: an int8 index saved before its quantizer was trained (a collection created
// and closed before enough vectors arrived) must load untrained, not "trained" on the default
// range [0, 255], which clips every vector of other ranges to the same codes.
TEST_F(HnswHardeningTest, UntrainedQuantizerStaysUntrainedAcrossACheckpoint) {
    testing::TempDir dir;
    constexpr std::size_t kDim = 16;
    auto created = HnswIndex::Create({.dimension = kDim, .quantize_int8 = true});
    ASSERT_TRUE(created.ok());
    ASSERT_TRUE((*created)->needs_training());
    const std::string path = dir.path() + "/q.hnsw";
    ASSERT_TRUE((*created)->Save(path, 5, 0).ok());
    Timestamp watermark = 0;
    auto loaded = HnswIndex::Load(path, &watermark);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_TRUE((*loaded)->needs_training());
    EXPECT_EQ((*loaded)->Insert(1, std::vector<float>(kDim, 1000.0f), 6).status().code(),
              StatusCode::kFailedPrecondition);

    // Trained after the reload on the real range, it ranks as well as one never saved.
    const auto base = Points(2000, kDim, 3, /*offset=*/1000.0f);
    ASSERT_TRUE((*loaded)->TrainQuantizer(base).ok());
    (*loaded)->SetVectorSource([&base](RowId row, Timestamp, float* out) {
        std::copy_n(base.data() + row * kDim, kDim, out);
        return true;
    });
    std::vector<RowId> rows(base.size() / kDim);
    std::iota(rows.begin(), rows.end(), 0);
    ASSERT_TRUE((*loaded)->InsertBulk(rows, base, 7, 2).ok());
    double recall = 0;
    constexpr int kQueries = 50;
    for (int qi = 0; qi < kQueries; ++qi) {
        const float* q = base.data() + static_cast<std::size_t>(qi * 37) * kDim;
        auto r = (*loaded)->Search(std::span(q, kDim), {.k = 10, .ef = 64});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->neighbors.size(), 10u);
        recall += RecallWithTies(r->neighbors, base, kDim, q, 10);
    }
    EXPECT_GE(recall / kQueries, 0.9);

    // And the trained state survives the next checkpoint.
    ASSERT_TRUE((*loaded)->Save(path, 8, 0).ok());
    auto again = HnswIndex::Load(path, &watermark);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_FALSE((*again)->needs_training());
}

// Issue 12 item 1: the quantizer's range is published to searches that run while it is trained
// (under TSan a plain float pair raced here).
TEST_F(HnswHardeningTest, SearchesRacingTrainingSeeAConsistentQuantizer) {
    constexpr std::size_t kDim = 8;
    const auto base = Points(300, kDim, 4, 50.0f);
    auto created = HnswIndex::Create({.dimension = kDim, .quantize_int8 = true});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    std::atomic<bool> trained{false};
    std::atomic<int> searches{0};
    std::thread reader([&] {
        while (!trained.load() || searches.load() < 20) {
            auto r = index.Search(std::span(base.data(), kDim), {.k = 3});
            ASSERT_TRUE(r.ok());
            searches.fetch_add(1);
        }
    });
    ASSERT_TRUE(index.TrainQuantizer(base).ok());
    trained = true;
    for (std::size_t i = 0; i < 300; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 1).ok());
    }
    reader.join();
    auto r = index.Search(std::span(base.data(), kDim), {.k = 3});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->neighbors.size(), 3u);
}

// Issue 12 item 3: Save wrote a node's record (deleted_ts) and, later, its block flags; an
// EndRow in between made a checkpoint whose record and flags disagree, rejected at load (a full
// rebuild nobody asked for).
TEST_F(HnswHardeningTest, CheckpointRacingEndRowLoads) {
    testing::TempDir dir;
    constexpr std::size_t kDim = 8;
    const auto base = Points(500, kDim, 5);
    auto created = HnswIndex::Create({.dimension = kDim});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    for (std::size_t i = 0; i < 500; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 1).ok());
    }
    SyncPoints::Set("HnswIndex::Save:AfterRecords", [&index] {
        ASSERT_TRUE(index.EndRow(17, 12));  // ends after the watermark, as a commit would
        ASSERT_TRUE(index.EndRow(23, 13));
    });
    const std::string path = dir.path() + "/c.hnsw";
    ASSERT_TRUE(index.Save(path, 10, 0).ok());
    ASSERT_EQ(SyncPoints::Hits("HnswIndex::Save:AfterRecords"), 1);
    SyncPoints::ClearAll();
    Timestamp watermark = 0;
    auto loaded = HnswIndex::Load(path, &watermark);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_EQ(watermark, 10u);
    // The ends came after the watermark: replay at open applies them again.
    EXPECT_EQ((*loaded)->num_live(), 500u);
    EXPECT_TRUE((*loaded)->EndRow(17, 12));
    auto r = (*loaded)->Search(std::span(base.data() + 17 * kDim, kDim), {.k = 1, .snapshot = 12});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->neighbors.size(), 1u);
    EXPECT_NE(r->neighbors[0].row, 17u);
}

// Issue 12 item 7: exact duplicates (many entities sharing one vector) must not form an
// island. The neighbour-selection heuristic never rejects an exact copy of the base, so the
// copies filled each other's link lists: a search whose descent reached a copy could not leave
// the copies and returned them instead of the true neighbours. A small M makes the island form
// with few copies, as a large group does at the default M.
TEST_F(HnswHardeningTest, DuplicateClustersDoNotTrapSearches) {
    constexpr std::size_t kDim = 16;
    constexpr std::size_t kUnique = 4000;
    constexpr std::size_t kGroups = 8;
    constexpr std::size_t kCopies = 50;
    std::vector<float> base = Points(kUnique, kDim, 6);
    std::mt19937_64 rng(66);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    // Each group: kCopies copies of one vector a little away from an existing point.
    std::vector<std::size_t> anchors;
    for (std::size_t g = 0; g < kGroups; ++g) {
        const std::size_t anchor = (g * 613 + 5) % kUnique;
        anchors.push_back(anchor);
        std::vector<float> v(base.begin() + static_cast<std::ptrdiff_t>(anchor * kDim),
                             base.begin() + static_cast<std::ptrdiff_t>((anchor + 1) * kDim));
        for (float& x : v) {
            x += 0.7f * gauss(rng);
        }
        for (std::size_t c = 0; c < kCopies; ++c) {
            base.insert(base.end(), v.begin(), v.end());
        }
    }
    const std::size_t n = base.size() / kDim;
    // Copies arrive interleaved with everything else, as in a real load.
    std::vector<RowId> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    auto created = HnswIndex::Create({.dimension = kDim, .m = 4, .ef_construction = 100});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    for (const RowId row : order) {
        ASSERT_TRUE(index.Insert(row, std::span(base.data() + row * kDim, kDim), 1).ok());
    }
    // Queries: the points nearest each group (their own neighbourhood is their true top-10).
    double recall = 0;
    std::size_t queries = 0;
    std::size_t copies_returned = 0;
    for (std::size_t g = 0; g < kGroups; ++g) {
        const float* group = base.data() + (kUnique + g * kCopies) * kDim;
        const auto near =
            TrueTopK(base, kDim, group, kCopies + 20, [](RowId row) { return row < kUnique; });
        for (const RowId qrow : near) {
            const float* q = base.data() + qrow * kDim;
            auto r = index.Search(std::span(q, kDim), {.k = 10, .ef = 100});
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r->neighbors.size(), 10u);
            recall += RecallWithTies(r->neighbors, base, kDim, q, 10);
            for (const Neighbor& nb : r->neighbors) {
                copies_returned += nb.row >= kUnique ? 1u : 0u;
            }
            ++queries;
        }
    }
    ASSERT_GT(queries, 0u);
    EXPECT_GE(recall / static_cast<double>(queries), 0.95) << copies_returned << " copies returned";
    // The copies themselves stay findable: a query equal to a group's vector returns copies only.
    for (std::size_t g = 0; g < kGroups; ++g) {
        const float* group = base.data() + (kUnique + g * kCopies) * kDim;
        auto r = index.Search(std::span(group, kDim), {.k = 10, .ef = 64});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->neighbors.size(), 10u);
        for (const Neighbor& nb : r->neighbors) {
            EXPECT_GE(nb.row, kUnique) << "group " << g;
            EXPECT_FLOAT_EQ(nb.distance, 0.0f);
        }
    }
}

// Issue 12 item 7: an exact scan asked for without a filter is honoured (it was ignored).
TEST_F(HnswHardeningTest, ExactScanWithoutAFilterIsExact) {
    constexpr std::size_t kDim = 12;
    const auto base = Points(3000, kDim, 7);
    auto created = HnswIndex::Create({.dimension = kDim, .m = 4, .ef_construction = 16});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    for (std::size_t i = 0; i < 3000; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 1).ok());
    }
    ASSERT_TRUE(index.EndRow(5, 2));
    for (int qi = 0; qi < 10; ++qi) {
        const float* q = base.data() + static_cast<std::size_t>(qi * 101) * kDim;
        auto r = index.Search(std::span(q, kDim),
                              {.k = 10, .ef = 10, .strategy = FilterStrategy::kExactScan});
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->stats.strategy, FilterStrategy::kExactScan);
        EXPECT_FALSE(r->stats.fell_back_to_exact);
        const auto truth = TrueTopK(base, kDim, q, 10, [](RowId row) { return row != 5; });
        ASSERT_EQ(r->neighbors.size(), truth.size());
        for (std::size_t i = 0; i < truth.size(); ++i) {
            EXPECT_EQ(r->neighbors[i].row, truth[i]) << "query " << qi << " rank " << i;
        }
    }
}

// Labels name the hits without any other lookup, survive a checkpoint, and never change.
TEST_F(HnswHardeningTest, LabelsComeBackWithHitsAndSurviveACheckpoint) {
    testing::TempDir dir;
    constexpr std::size_t kDim = 4;
    auto created = HnswIndex::Create({.dimension = kDim});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    const std::string long_label(100000, 'x');  // bigger than an arena block's share
    for (std::size_t i = 0; i < 100; ++i) {
        const std::vector<float> v = {static_cast<float>(i), 1, 2, 3};
        const std::string label = i == 99 ? long_label : "id-" + std::to_string(i);
        ASSERT_TRUE(index.Insert(i, v, 1, nullptr, label).ok());
    }
    // A new version of row 3 with another label keeps the first (labels never change).
    ASSERT_TRUE(index.Insert(3, std::vector<float>{3.5f, 1, 2, 3}, 2, nullptr, "other").ok());
    EXPECT_EQ(index.Label(3), "id-3");
    EXPECT_EQ(index.Label(99), long_label);
    EXPECT_EQ(index.Label(1000), "");
    auto r = index.Search(std::vector<float>{10, 1, 2, 3}, {.k = 3});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->neighbors.size(), 3u);
    for (const Neighbor& nb : r->neighbors) {
        EXPECT_EQ(nb.label, "id-" + std::to_string(nb.row));
    }
    const std::string path = dir.path() + "/l.hnsw";
    ASSERT_TRUE(index.Save(path, 2, 0).ok());
    Timestamp watermark = 0;
    auto loaded = HnswIndex::Load(path, &watermark);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    EXPECT_EQ((*loaded)->Label(3), "id-3");
    EXPECT_EQ((*loaded)->Label(99), long_label);
    auto again = (*loaded)->Search(std::vector<float>{10, 1, 2, 3}, {.k = 3});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->neighbors, r->neighbors);
}

// Slots of removed nodes are reused by later inserts (no reload): churn keeps memory flat and
// recall holds.
TEST_F(HnswHardeningTest, RemovedNodesSlotsAreReused) {
    constexpr std::size_t kDim = 12;
    constexpr std::size_t kN = 2000;
    const auto base = Points(kN, kDim, 9);
    auto created = HnswIndex::Create({.dimension = kDim});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    for (std::size_t i = 0; i < kN; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 1).ok());
    }
    ASSERT_EQ(index.num_slots(), kN);
    // Rounds of churn: replace every other row's vector, repair below the floor.
    std::vector<float> current = base;
    std::mt19937_64 rng(10);
    std::normal_distribution<float> gauss(0.0f, 0.3f);
    Timestamp ts = 2;
    for (int round = 0; round < 4; ++round) {
        for (std::size_t i = static_cast<std::size_t>(round % 2); i < kN; i += 2) {
            for (std::size_t d = 0; d < kDim; ++d) {
                current[i * kDim + d] = base[i * kDim + d] + gauss(rng);
            }
            ASSERT_TRUE(index.Insert(i, std::span(current.data() + i * kDim, kDim), ts).ok());
        }
        ++ts;
        index.Repair(ts);  // the replaced versions: removed, their slots retired
    }
    index.Repair(ts);  // the last round's slots become free too
    // 4 rounds replaced 4000 versions; with reuse the slots stay near 2 x kN, not 6000.
    EXPECT_LE(index.num_slots(), 2 * kN + kN / 2);
    EXPECT_EQ(index.num_live(), kN);
    double recall = 0;
    for (std::size_t qi = 0; qi < 40; ++qi) {
        const float* q = current.data() + qi * 41 * kDim;
        auto r = index.Search(std::span(q, kDim), {.k = 10, .ef = 64});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->neighbors.size(), 10u);
        recall += RecallWithTies(r->neighbors, current, kDim, q, 10);
        EXPECT_EQ(r->neighbors[0].row, qi * 41);  // its own latest vector
    }
    EXPECT_GE(recall / 40, 0.95);
    // A checkpoint of a graph with reused slots loads with each row at its newest version.
    testing::TempDir dir;
    const std::string path = dir.path() + "/reuse.hnsw";
    ASSERT_TRUE(index.Save(path, ts, 0).ok());
    Timestamp watermark = 0;
    auto loaded = HnswIndex::Load(path, &watermark);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    for (std::size_t row = 0; row < kN; row += 97) {
        auto r = (*loaded)->Search(std::span(current.data() + row * kDim, kDim), {.k = 1});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->neighbors.size(), 1u);
        EXPECT_EQ(r->neighbors[0].row, row);
        EXPECT_FLOAT_EQ(r->neighbors[0].distance, 0.0f);
    }
}

// A slot is not reused while a search that may still hold it runs: a search paused after it
// registered sees Repair remove nodes, and inserts meanwhile take new slots; once it finished,
// the next Repair frees the retired slots.
TEST_F(HnswHardeningTest, NoSlotIsReusedWhileASearchThatMayHoldItRuns) {
    constexpr std::size_t kDim = 8;
    const auto base = Points(600, kDim, 11);
    auto created = HnswIndex::Create({.dimension = kDim});
    ASSERT_TRUE(created.ok());
    HnswIndex& index = **created;
    for (std::size_t i = 0; i < 400; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 1).ok());
    }
    for (std::size_t i = 0; i < 100; ++i) {
        ASSERT_TRUE(index.EndRow(i, 2));
    }
    std::mutex mu;
    std::condition_variable cv;
    bool paused = false;
    bool resume = false;
    SyncPoints::Set("HnswIndex::Search:Guarded", [&] {
        std::unique_lock lock(mu);
        paused = true;
        cv.notify_all();
        cv.wait(lock, [&] { return resume; });
    });
    std::thread searcher([&] {
        auto r = index.Search(std::span(base.data(), kDim), {.k = 5, .snapshot = 1});
        EXPECT_TRUE(r.ok());
    });
    {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return paused; });
    }
    SyncPoints::ClearAll();
    EXPECT_EQ(index.Repair(3), 100u);  // removed and retired...
    index.Repair(3);                   // ...and still held: not freed
    for (std::size_t i = 400; i < 450; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 4).ok());
    }
    EXPECT_EQ(index.num_slots(), 450u);  // no removed slot was reused
    {
        std::lock_guard lock(mu);
        resume = true;
    }
    cv.notify_all();
    searcher.join();
    index.Repair(3);  // the search is gone: the retired slots are free now
    for (std::size_t i = 450; i < 550; ++i) {
        ASSERT_TRUE(index.Insert(i, std::span(base.data() + i * kDim, kDim), 5).ok());
    }
    EXPECT_EQ(index.num_slots(), 450u);  // all 100 came from removed slots
    auto r = index.Search(std::span(base.data() + 500 * kDim, kDim), {.k = 1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->neighbors.size(), 1u);
    EXPECT_EQ(r->neighbors[0].row, 500u);
}

// A version-1 checkpoint (before labels and the quantizer flag) still loads: made here from a
// version-2 file by the byte transformation the format change was (header version and flags,
// no labels section, checksum recomputed).
TEST_F(HnswHardeningTest, Version1CheckpointsStillLoad) {
    testing::TempDir dir;
    constexpr std::size_t kDim = 6;
    const auto base = Points(300, kDim, 8);
    for (const bool int8 : {false, true}) {
        auto created = HnswIndex::Create({.dimension = kDim, .quantize_int8 = int8});
        ASSERT_TRUE(created.ok());
        HnswIndex& index = **created;
        if (int8) {
            ASSERT_TRUE(index.TrainQuantizer(base).ok());
        }
        for (std::size_t i = 0; i < 300; ++i) {
            ASSERT_TRUE(index
                            .Insert(i, std::span(base.data() + i * kDim, kDim), 1, nullptr,
                                    "id" + std::to_string(i))
                            .ok());
        }
        const std::string path = dir.path() + "/v.hnsw";
        ASSERT_TRUE(index.Save(path, 3, 0).ok());
        std::string bytes;
        {
            std::ifstream in(path, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        // Labels: 300 x (u32 length + "idN") at the end, before the 8-byte checksum.
        std::size_t labels = 0;
        for (std::size_t i = 0; i < 300; ++i) {
            labels += 4 + ("id" + std::to_string(i)).size();
        }
        std::string v1 = bytes.substr(0, bytes.size() - 8 - labels);
        const std::uint32_t version = 1;
        std::memcpy(v1.data() + 8, &version, sizeof(version));
        v1[26] = 0;  // flags (offset: magic 8 + 4 x u32 + metric + quantized)
        const std::uint64_t hash = XXH3_64bits(v1.data(), v1.size());
        v1.append(reinterpret_cast<const char*>(&hash), sizeof(hash));
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out << v1;
        }
        Timestamp watermark = 0;
        auto loaded = HnswIndex::Load(path, &watermark);
        ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
        EXPECT_EQ(watermark, 3u);
        EXPECT_EQ((*loaded)->num_live(), 300u);
        EXPECT_FALSE((*loaded)->needs_training());  // v1 with nodes: trained
        EXPECT_EQ((*loaded)->Label(5), "");         // v1 has no labels
        const std::vector<float>* data = &base;
        (*loaded)->SetVectorSource([data](RowId row, Timestamp, float* out) {
            std::copy_n(data->data() + row * kDim, kDim, out);
            return true;
        });
        auto r = (*loaded)->Search(std::span(base.data() + 7 * kDim, kDim), {.k = 1});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->neighbors.size(), 1u);
        EXPECT_EQ(r->neighbors[0].row, 7u);
    }
}

}  // namespace
}  // namespace phenix::index
