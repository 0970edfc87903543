// SPDX-License-Identifier: Apache-2.0
#include "graph/adjacency_cache.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "graph/traversal.h"
#include "unit/graph/map_graph.h"

namespace phenix::graph {
namespace {

using testing::MapGraph;
using testing::N;

constexpr std::size_t kLarge = 1u << 20;

EdgeView E(std::uint64_t row, std::string_view label = "e", double weight = 1.0,
           bool has_properties = false) {
    return EdgeView{
        .other = N(row), .label = label, .weight = weight, .has_properties = has_properties};
}

struct Seen {
    NodeRef other;
    std::string label;
    double weight = 0;
    bool has_properties = false;
    friend bool operator==(const Seen&, const Seen&) = default;
};

// The list Visit replays, or nullopt on a miss.
std::optional<std::vector<Seen>> Read(const AdjacencyCache& cache, NodeRef node, Direction dir,
                                      std::uint64_t snapshot) {
    std::vector<Seen> seen;
    const bool hit =
        cache.Visit(node, dir, snapshot, [&](const CachedEdge& edge, std::string_view label) {
            seen.push_back({edge.other(), std::string(label), edge.weight, edge.has_properties()});
            return true;
        });
    if (!hit) {
        return std::nullopt;
    }
    return seen;
}

TEST(AdjacencyCache, ServesAnOfferedListFromItsValidFrom) {
    AdjacencyCache cache(kLarge, 5);
    const std::vector<EdgeView> edges{E(2, "knows", 0.1), E(3, "likes", 2.5, true)};
    cache.Offer(N(1), Direction::kOut, 10, edges);
    const std::vector<Seen> expected{{N(2), "knows", 0.1, false}, {N(3), "likes", 2.5, true}};
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 10), expected);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 1000), expected);
    // valid_from is the watermark (5): no change to the list since then.
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 5), expected);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 4), std::nullopt);
    EXPECT_EQ(Read(cache, N(1), Direction::kIn, 10), std::nullopt);
    EXPECT_EQ(Read(cache, N(2), Direction::kOut, 10), std::nullopt);
    const AdjacencyCache::Stats stats = cache.stats();
    EXPECT_EQ(stats.entries, 1u);
    EXPECT_EQ(stats.markers, 0u);
    EXPECT_EQ(stats.hits, 3u);
    EXPECT_EQ(stats.misses, 3u);
    EXPECT_GT(stats.label_bytes, 0u);
}

TEST(AdjacencyCache, RefusesAnOfferOlderThanAKnownChange) {
    AdjacencyCache cache(kLarge, 0);
    cache.Invalidate(N(1), Direction::kOut, 20);
    EXPECT_EQ(cache.stats().markers, 1u);
    cache.Offer(N(1), Direction::kOut, 15, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 25), std::nullopt);
    EXPECT_EQ(cache.stats().refused_offers, 1u);
    cache.Offer(N(1), Direction::kOut, 25, std::vector<EdgeView>{E(3)});
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 19), std::nullopt);  // before the change
    ASSERT_TRUE(Read(cache, N(1), Direction::kOut, 20).has_value());
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 30)->at(0).other, N(3));
    EXPECT_EQ(cache.stats().markers, 0u);
    EXPECT_EQ(cache.stats().entries, 1u);
}

TEST(AdjacencyCache, InvalidateDropsTheListAndKeepsTheLatestChange) {
    AdjacencyCache cache(kLarge, 0);
    cache.Offer(N(1), Direction::kOut, 10, std::vector<EdgeView>{E(2)});
    ASSERT_TRUE(Read(cache, N(1), Direction::kOut, 10).has_value());
    cache.Invalidate(N(1), Direction::kOut, 30);
    cache.Invalidate(N(1), Direction::kOut, 20);  // hooks of concurrent commits may reorder
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 10), std::nullopt);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 40), std::nullopt);
    cache.Offer(N(1), Direction::kOut, 25, std::vector<EdgeView>{E(5)});  // older than 30
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 40), std::nullopt);
    cache.Offer(N(1), Direction::kOut, 30, std::vector<EdgeView>{E(6)});
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 40)->at(0).other, N(6));
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 29), std::nullopt);
}

TEST(AdjacencyCache, RefusesOffersBelowTheWatermark) {
    AdjacencyCache cache(kLarge, 100);
    cache.Offer(N(1), Direction::kOut, 50, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 200), std::nullopt);
    cache.Offer(N(1), Direction::kOut, 100, std::vector<EdgeView>{E(2)});
    EXPECT_TRUE(Read(cache, N(1), Direction::kOut, 200).has_value());
    // A change at or below the watermark needs no marker: absence already says as much.
    cache.Invalidate(N(7), Direction::kIn, 90);
    EXPECT_EQ(cache.stats().markers, 0u);
}

TEST(AdjacencyCache, KeepsTheFirstListAndCachesEmptyLists) {
    AdjacencyCache cache(kLarge, 0);
    cache.Offer(N(1), Direction::kOut, 10, std::vector<EdgeView>{E(2)});
    cache.Offer(N(1), Direction::kOut, 12, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(cache.stats().refused_offers, 1u);
    cache.Offer(N(9), Direction::kIn, 10, {});
    auto empty = Read(cache, N(9), Direction::kIn, 10);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty());
    // Direction::kBoth is not a list.
    cache.Offer(N(3), Direction::kBoth, 10, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(cache.stats().entries, 2u);
}

TEST(AdjacencyCache, VisitStopsWhenTheCallbackSaysSo) {
    AdjacencyCache cache(kLarge, 0);
    cache.Offer(N(1), Direction::kOut, 10, std::vector<EdgeView>{E(2), E(3), E(4)});
    int calls = 0;
    EXPECT_TRUE(cache.Visit(N(1), Direction::kOut, 10, [&](const CachedEdge&, std::string_view) {
        ++calls;
        return false;
    }));
    EXPECT_EQ(calls, 1);
}

TEST(AdjacencyCache, InvalidatesBothDirections) {
    AdjacencyCache cache(kLarge, 0);
    cache.Offer(N(1), Direction::kOut, 10, std::vector<EdgeView>{E(2)});
    cache.Offer(N(1), Direction::kIn, 10, std::vector<EdgeView>{E(3)});
    cache.Invalidate(N(1), Direction::kBoth, 11);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 12), std::nullopt);
    EXPECT_EQ(Read(cache, N(1), Direction::kIn, 12), std::nullopt);
    EXPECT_EQ(cache.stats().markers, 2u);
}

TEST(AdjacencyCache, AccountsBytesPerEntryAndEdge) {
    AdjacencyCache cache(kLarge, 0, 1);
    EXPECT_EQ(cache.stats().bytes, 0u);
    EXPECT_GE(AdjacencyCache::EntryBytes(3) - AdjacencyCache::EntryBytes(0),
              3 * sizeof(CachedEdge));
    cache.Offer(N(1), Direction::kOut, 10, std::vector<EdgeView>{E(2), E(3), E(4)});
    EXPECT_EQ(cache.stats().bytes, AdjacencyCache::EntryBytes(3));
    cache.Invalidate(N(1), Direction::kOut, 20);
    EXPECT_EQ(cache.stats().bytes, AdjacencyCache::EntryBytes(0));
    cache.Offer(N(1), Direction::kOut, 20, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(cache.stats().bytes, AdjacencyCache::EntryBytes(1));
    cache.Offer(N(2), Direction::kOut, 20, {});
    EXPECT_EQ(cache.stats().bytes, AdjacencyCache::EntryBytes(1) + AdjacencyCache::EntryBytes(0));
    cache.DropCollection(1);
    EXPECT_EQ(cache.stats().bytes, 0u);
    EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(AdjacencyCache, RefusesAListLargerThanAnEighthOfTheCapacity) {
    AdjacencyCache cache(8 * AdjacencyCache::EntryBytes(10), 0);
    std::vector<EdgeView> edges;
    for (std::uint64_t row = 0; row < 11; ++row) {
        edges.push_back(E(row));
    }
    cache.Offer(N(1), Direction::kOut, 10, edges);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 10), std::nullopt);
    edges.pop_back();
    cache.Offer(N(1), Direction::kOut, 10, edges);
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 10)->size(), 10u);
    AdjacencyCache disabled(0, 0);
    disabled.Offer(N(1), Direction::kOut, 10, {});
    EXPECT_EQ(disabled.stats().entries, 0u);
}

TEST(AdjacencyCache, EvictionRaisesTheWatermark) {
    const std::size_t capacity = 8 * AdjacencyCache::EntryBytes(2);
    AdjacencyCache cache(capacity, 0, 1);
    cache.Invalidate(N(1000), Direction::kOut, 50);  // a change marker
    for (std::uint64_t row = 0; row < 200 && cache.stats().markers > 0; ++row) {
        cache.Offer(N(row, 2), Direction::kOut, 60, std::vector<EdgeView>{E(row), E(row + 1)});
        ASSERT_LE(cache.stats().bytes, capacity);
    }
    ASSERT_EQ(cache.stats().markers, 0u) << "the marker was never evicted";
    EXPECT_GT(cache.stats().evictions, 0u);
    cache.DropCollection(2);  // room for what follows
    // The evicted marker's change (50) is now covered by the watermark: a read at 40 is older.
    cache.Offer(N(1000), Direction::kOut, 40, std::vector<EdgeView>{E(1)});
    EXPECT_EQ(Read(cache, N(1000), Direction::kOut, 60), std::nullopt);
    cache.Offer(N(1000), Direction::kOut, 55, std::vector<EdgeView>{E(1)});
    EXPECT_TRUE(Read(cache, N(1000), Direction::kOut, 60).has_value());
    EXPECT_EQ(Read(cache, N(1000), Direction::kOut, 49), std::nullopt);
}

TEST(AdjacencyCache, StaysWithinCapacityAndKeepsServingCorrectLists) {
    const std::size_t capacity = 64 * 1024;
    AdjacencyCache cache(capacity, 0, 8);
    std::mt19937_64 rng(42);
    std::printf("seed 42\n");
    auto list_of = [](std::uint64_t row) {
        std::vector<EdgeView> edges;
        for (std::uint64_t idx = 0; idx < row % 50; ++idx) {
            edges.push_back(
                E(row * 100 + idx, idx % 2 == 0 ? "even" : "odd", static_cast<double>(idx) / 3.0));
        }
        return edges;
    };
    for (int round = 0; round < 4000; ++round) {
        const std::uint64_t row = rng() % 1000;
        auto seen = Read(cache, N(row), Direction::kOut, 10);
        const std::vector<EdgeView> edges = list_of(row);
        if (seen.has_value()) {
            ASSERT_EQ(seen->size(), edges.size());
            for (std::size_t idx = 0; idx < edges.size(); ++idx) {
                ASSERT_EQ((*seen)[idx].other, edges[idx].other);
                ASSERT_EQ((*seen)[idx].label, edges[idx].label);
                ASSERT_EQ((*seen)[idx].weight, edges[idx].weight);
            }
        } else {
            cache.Offer(N(row), Direction::kOut, 10, edges);
        }
        ASSERT_LE(cache.stats().bytes, capacity);
    }
    const AdjacencyCache::Stats stats = cache.stats();
    EXPECT_GT(stats.evictions, 0u);
    EXPECT_GT(stats.hits, 0u);
    EXPECT_GT(stats.bytes, capacity / 2);  // eviction frees only what it must
}

TEST(AdjacencyCache, DropCollectionForgetsItsNodes) {
    AdjacencyCache cache(kLarge, 0);
    cache.Offer(N(1, 1), Direction::kOut, 10, std::vector<EdgeView>{E(2)});
    cache.Offer(N(1, 2), Direction::kOut, 10, std::vector<EdgeView>{E(2)});
    cache.Invalidate(N(5, 1), Direction::kIn, 12);
    cache.DropCollection(1, 70);
    EXPECT_EQ(Read(cache, N(1, 1), Direction::kOut, 80), std::nullopt);
    EXPECT_TRUE(Read(cache, N(1, 2), Direction::kOut, 80).has_value());
    EXPECT_EQ(cache.stats().markers, 0u);
    // A reader still at a snapshot before the drop cannot bring the collection back.
    cache.Offer(N(1, 1), Direction::kOut, 60, std::vector<EdgeView>{E(2)});
    EXPECT_EQ(Read(cache, N(1, 1), Direction::kOut, 80), std::nullopt);
    cache.Offer(N(1, 1), Direction::kOut, 80, std::vector<EdgeView>{E(2)});
    EXPECT_TRUE(Read(cache, N(1, 1), Direction::kOut, 80).has_value());
}

TEST(AdjacencyCache, RaiseWatermarkFreesRedundantMarkers) {
    AdjacencyCache cache(kLarge, 0);
    cache.Invalidate(N(1), Direction::kOut, 10);
    cache.Invalidate(N(2), Direction::kOut, 20);
    cache.Invalidate(N(3), Direction::kOut, 30);
    cache.Offer(N(4), Direction::kOut, 5, std::vector<EdgeView>{E(1)});
    EXPECT_EQ(cache.stats().markers, 3u);
    cache.RaiseWatermark(25);
    EXPECT_EQ(cache.stats().markers, 1u);
    EXPECT_EQ(cache.stats().entries, 1u);  // lists stay
    EXPECT_TRUE(Read(cache, N(4), Direction::kOut, 5).has_value());
    cache.Offer(N(1), Direction::kOut, 24, std::vector<EdgeView>{E(1)});
    EXPECT_EQ(Read(cache, N(1), Direction::kOut, 40), std::nullopt);
    cache.Offer(N(1), Direction::kOut, 25, std::vector<EdgeView>{E(1)});
    EXPECT_TRUE(Read(cache, N(1), Direction::kOut, 40).has_value());
    cache.Offer(N(3), Direction::kOut, 27, std::vector<EdgeView>{E(1)});
    EXPECT_EQ(Read(cache, N(3), Direction::kOut, 40), std::nullopt);
}

TEST(AdjacencyCache, ConvertsCachedEdgesToEdgeViews) {
    const CachedEdge edge{
        .row = 7, .weight = 0.25, .collection = 3, .label_bits = 5 | CachedEdge::kHasPropertiesBit};
    EXPECT_EQ(edge.label_id(), 5u);
    const EdgeView view = ToEdgeView(edge, "knows", Direction::kIn);
    EXPECT_EQ(view.other, (NodeRef{3, 7}));
    EXPECT_EQ(view.label, "knows");
    EXPECT_EQ(view.weight, 0.25);
    EXPECT_TRUE(view.has_properties);
    EXPECT_TRUE(view.properties.empty());
    EXPECT_TRUE(view.reversed);
}

// An AdjacencySource over "storage" (a MapGraph) at one snapshot, through the cache: what the
// engine does, in miniature.
class CachedGraph : public AdjacencySource {
  public:
    CachedGraph(MapGraph& storage, AdjacencyCache& cache, std::uint64_t snapshot)
        : storage_(storage), cache_(cache), snapshot_(snapshot) {}

    Status ForEachEdge(NodeRef node, Direction dir, bool need_properties,
                       FunctionRef<bool(const EdgeView&)> visit) override {
        if (!need_properties &&
            cache_.Visit(node, dir, snapshot_, [&](const CachedEdge& edge, std::string_view label) {
                return visit(ToEdgeView(edge, label, dir));
            })) {
            return Status::Ok();
        }
        std::vector<EdgeView> edges;  // views into the MapGraph, which outlives them
        PHENIX_RETURN_IF_ERROR(
            storage_.ForEachEdge(node, dir, need_properties, [&](const EdgeView& edge) {
                edges.push_back(edge);
                return true;
            }));
        cache_.Offer(node, dir, snapshot_, edges);
        for (const EdgeView& edge : edges) {
            if (!visit(edge)) {
                break;
            }
        }
        return Status::Ok();
    }

  private:
    MapGraph& storage_;
    AdjacencyCache& cache_;
    std::uint64_t snapshot_;
};

TEST(AdjacencyCache, ServesTraversalsThroughASource) {
    MapGraph storage({{N(0), N(1), "a", 1.5},
                      {N(1), N(2), "b", 2.0},
                      {N(2), N(0), "a", 1.0},
                      {N(2), N(2), "self", 0.5},
                      {N(0), N(1), "b", 4.0}});
    AdjacencyCache cache(kLarge, 0);
    const ExpandSpec spec{
        .starts = {N(0)}, .max_hops = 3, .direction = Direction::kBoth, .include_starts = true};
    auto direct = Expand(storage, spec, TraversalLimits{});
    ASSERT_TRUE(direct.ok());
    CachedGraph cached(storage, cache, 10);
    auto first = Expand(cached, spec, TraversalLimits{});
    ASSERT_TRUE(first.ok());
    const int storage_calls = storage.calls;
    auto second = Expand(cached, spec, TraversalLimits{});
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(storage.calls, storage_calls);  // all from the cache
    EXPECT_EQ(first->nodes, direct->nodes);
    EXPECT_EQ(second->nodes, direct->nodes);
    auto path = ShortestPath(cached, {.from = N(0), .to = N(2)}, TraversalLimits{});
    ASSERT_TRUE(path.ok());
    ASSERT_TRUE(path->has_value());
    EXPECT_DOUBLE_EQ((*path)->total_weight, 3.5);
}

// Readers at recent snapshots visit or read "storage" and offer; one writer commits changes
// with increasing timestamps (storage first, then the hook, then visibility) and sometimes
// raises the watermark. The model check: a hit returns exactly the list as of the reader's
// snapshot, i.e. never a list older than the last change at or before it. Small capacity and
// few shards force evictions during the race.
TEST(AdjacencyCache, ConcurrentReadersNeverSeeAStaleList) {
    constexpr std::uint64_t kNodes = 24;
    constexpr int kReaders = 3;
    constexpr std::uint64_t kCommits = 1000;
    constexpr int kMinReads = 2000;
    const std::uint64_t seed = std::random_device{}();
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));

    AdjacencyCache cache(12 * AdjacencyCache::EntryBytes(4), 0, 4);
    struct History {
        std::mutex mu;
        std::vector<std::uint64_t> commits{0};  // commit timestamps, ascending
    };
    std::array<History, kNodes> storage;
    std::atomic<std::uint64_t> visible{0};
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> stale{0};
    std::atomic<std::uint64_t> checked_hits{0};
    std::atomic<std::uint64_t> reads{0};

    // The version (last commit ts) of a node's out-list at `snapshot`.
    auto version_at = [&](std::uint64_t node, std::uint64_t snapshot) {
        History& history = storage[node];
        std::lock_guard lock(history.mu);
        auto it = std::upper_bound(history.commits.begin(), history.commits.end(), snapshot);
        return *std::prev(it);
    };
    // A list that encodes its version: 1 + version % 4 edges to row `version`.
    auto list_of = [](std::uint64_t version) {
        std::vector<EdgeView> edges;
        for (std::uint64_t idx = 0; idx <= version % 4; ++idx) {
            edges.push_back(EdgeView{.other = N(version, 7),
                                     .label = idx % 2 == 0 ? "x" : "y",
                                     .weight = static_cast<double>(version + idx)});
        }
        return edges;
    };

    std::thread writer([&] {
        std::mt19937_64 rng(seed);
        for (std::uint64_t ts = 1; ts <= kCommits; ++ts) {
            const std::uint64_t node = rng() % kNodes;
            {
                std::lock_guard lock(storage[node].mu);
                storage[node].commits.push_back(ts);  // durable
            }
            cache.Invalidate(N(node), Direction::kOut, ts);  // the hook
            if (ts % 256 == 0) {
                cache.RaiseWatermark(ts - 64);  // readers stay within 16 of `visible`
            }
            visible.store(ts);  // visible to new snapshots
            // Pace the commits so that they interleave with the reads.
            while (reads.load() < ts * 4) {
                std::this_thread::yield();
            }
        }
        done.store(true);
    });
    std::vector<std::thread> readers;
    for (int reader = 0; reader < kReaders; ++reader) {
        readers.emplace_back([&, reader] {
            std::mt19937_64 rng(seed + static_cast<std::uint64_t>(reader) + 1);
            for (int num_reads = 0; num_reads < kMinReads || !done.load(); ++num_reads) {
                reads.fetch_add(1);
                std::uint64_t snapshot = visible.load();
                snapshot -= std::min<std::uint64_t>(snapshot, rng() % 16);
                const std::uint64_t node = rng() % kNodes;
                std::vector<std::pair<std::uint64_t, double>> seen;
                const bool hit = cache.Visit(N(node), Direction::kOut, snapshot,
                                             [&](const CachedEdge& edge, std::string_view) {
                                                 seen.emplace_back(edge.row, edge.weight);
                                                 return true;
                                             });
                const std::uint64_t version = version_at(node, snapshot);
                if (hit) {
                    checked_hits.fetch_add(1);
                    bool ok = seen.size() == 1 + version % 4;
                    for (std::size_t idx = 0; ok && idx < seen.size(); ++idx) {
                        ok = seen[idx].first == version &&
                             seen[idx].second == static_cast<double>(version + idx);
                    }
                    if (!ok) {
                        stale.fetch_add(1);
                    }
                } else {
                    cache.Offer(N(node), Direction::kOut, snapshot, list_of(version));
                }
            }
        });
    }
    writer.join();
    for (std::thread& reader : readers) {
        reader.join();
    }
    std::printf("hits %llu evictions %llu refused %llu\n",
                static_cast<unsigned long long>(checked_hits.load()),
                static_cast<unsigned long long>(cache.stats().evictions),
                static_cast<unsigned long long>(cache.stats().refused_offers));
    EXPECT_EQ(stale.load(), 0u) << "seed " << seed;
    EXPECT_GT(checked_hits.load(), 0u);
    const AdjacencyCache::Stats stats = cache.stats();
    EXPECT_GT(stats.evictions, 0u);
    EXPECT_LE(stats.bytes, cache.capacity_bytes());
}

}  // namespace
}  // namespace phenix::graph
