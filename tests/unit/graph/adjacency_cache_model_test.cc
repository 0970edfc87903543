// SPDX-License-Identifier: Apache-2.0
//
// The adjacency cache against a model of the engine's commit protocol, driven by direct calls in
// one thread so that every interleaving is reproducible from its seed: several writers hold
// commit timestamps at once, write "storage", run their commit hooks (one Invalidate per changed
// list, possibly spread over several steps) in any order — out of timestamp order included — and
// end; visibility follows the oracle's rule (the largest timestamp below every commit in flight).
// Readers take snapshots (the visible timestamp, or an older one as AS OF does), read a list
// from storage at one step and offer it at a later one, while evictions (a tiny capacity) and
// watermark raises (to the oldest open snapshot) interleave. The check: every hit at snapshot s
// returns exactly the list as of s, never an older (stale) or newer (future) one.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph/adjacency_cache.h"
#include "unit/graph/map_graph.h"

namespace phenix::graph {
namespace {

using testing::N;

// A list that encodes the version (commit timestamp) it was read at: 1 + version % 3 edges to
// row `version` with weights version, version + 1, ...
std::vector<EdgeView> ListOf(std::uint64_t version) {
    std::vector<EdgeView> edges;
    for (std::uint64_t idx = 0; idx <= version % 3; ++idx) {
        edges.push_back(EdgeView{.other = N(version, 9),
                                 .label = idx % 2 == 0 ? "x" : "y",
                                 .weight = static_cast<double>(version + idx)});
    }
    return edges;
}

// The version a hit replays, or nullopt when it is not a list ListOf produced.
std::optional<std::uint64_t> VersionOf(const std::vector<std::pair<std::uint64_t, double>>& seen) {
    if (seen.empty()) {
        return std::nullopt;
    }
    const std::uint64_t version = seen[0].first;
    if (seen.size() != 1 + version % 3) {
        return std::nullopt;
    }
    for (std::size_t idx = 0; idx < seen.size(); ++idx) {
        if (seen[idx].first != version || seen[idx].second != static_cast<double>(version + idx)) {
            return std::nullopt;
        }
    }
    return version;
}

struct Key {
    std::uint64_t row = 0;
    Direction dir = Direction::kOut;
    friend auto operator<=>(const Key&, const Key&) = default;
};

class Model {
  public:
    Model(std::uint64_t seed, std::size_t capacity_lists, std::size_t shards)
        : rng_(seed), cache_(capacity_lists * AdjacencyCache::EntryBytes(3), 0, shards) {}

    struct Commit {
        std::uint64_t ts = 0;
        std::vector<Key> changes;
        bool written = false;
        std::size_t hooked = 0;  // changes whose Invalidate ran
    };
    struct Read {
        std::uint64_t snapshot = 0;
        Key key;
        std::optional<std::uint64_t> version;  // set once read from storage
    };

    // One random step; returns false when the run is over.
    void Step() {
        switch (rng_() % 9) {
            case 0:
                Begin();
                break;
            case 1:
            case 2:
                Advance();
                break;
            case 3:
                TakeSnapshot();
                break;
            case 4:
            case 5:
            case 6:
                ReadOrOffer();
                break;
            case 7:
                ReleaseSnapshot();
                break;
            default:
                if (rng_() % 8 == 0) {
                    RaiseWatermark();
                }
                break;
        }
    }

    // Ends every commit (hooks, then visibility) and checks every list at every open snapshot.
    void Finish() {
        while (!in_flight_.empty()) {
            Advance();
        }
        for (std::uint64_t snapshot : snapshots_) {
            for (std::uint64_t row = 0; row < kRows; ++row) {
                for (Direction dir : {Direction::kOut, Direction::kIn}) {
                    CheckHit({row, dir}, snapshot);
                }
            }
        }
    }

    [[nodiscard]] std::uint64_t hits() const { return hits_; }
    [[nodiscard]] std::uint64_t failures() const { return failures_; }
    [[nodiscard]] std::uint64_t out_of_order_hooks() const { return out_of_order_hooks_; }
    [[nodiscard]] const std::string& first_failure() const { return first_failure_; }
    [[nodiscard]] const AdjacencyCache& cache() const { return cache_; }

  private:
    static constexpr std::uint64_t kRows = 12;

    std::uint64_t Visible() const {
        return in_flight_.empty() ? last_ts_ : in_flight_.begin()->first - 1;
    }

    // The version of `key` at `snapshot`: the newest written commit <= snapshot that changed it.
    std::uint64_t VersionAt(const Key& key, std::uint64_t snapshot) const {
        const auto it = history_.find(key);
        if (it == history_.end()) {
            return 0;
        }
        auto pos = it->second.upper_bound(snapshot);
        return pos == it->second.begin() ? 0 : *std::prev(pos);
    }

    void Begin() {
        if (in_flight_.size() >= 4) {
            return;
        }
        Commit commit;
        commit.ts = ++last_ts_;
        // One to three lists: an edge changes the source's out-list and the target's in-list.
        const std::size_t num_changes = 1 + rng_() % 3;
        for (std::size_t idx = 0; idx < num_changes; ++idx) {
            const Key key{rng_() % kRows, rng_() % 2 == 0 ? Direction::kOut : Direction::kIn};
            if (std::find(commit.changes.begin(), commit.changes.end(), key) ==
                commit.changes.end()) {
                commit.changes.push_back(key);
            }
        }
        in_flight_.emplace(commit.ts, std::move(commit));
    }

    // Moves a random commit in flight one step: write, one hook call, or end (which waits for
    // nothing here: visibility simply stays below the oldest commit in flight).
    void Advance() {
        if (in_flight_.empty()) {
            return;
        }
        auto it =
            std::next(in_flight_.begin(), static_cast<std::ptrdiff_t>(rng_() % in_flight_.size()));
        Commit& commit = it->second;
        if (!commit.written) {
            for (const Key& key : commit.changes) {
                history_[key].insert(commit.ts);
            }
            commit.written = true;
            return;
        }
        if (commit.hooked < commit.changes.size()) {
            const Key& key = commit.changes[commit.hooked++];
            for (const auto& [ts, other] : in_flight_) {
                if (ts > commit.ts && other.hooked > 0) {
                    ++out_of_order_hooks_;  // a later commit's hook ran first
                    break;
                }
            }
            cache_.Invalidate(N(key.row), key.dir, commit.ts);
            return;
        }
        in_flight_.erase(it);
    }

    void TakeSnapshot() {
        if (snapshots_.size() >= 6) {
            return;
        }
        std::uint64_t snapshot = Visible();
        // AS OF: an older snapshot, but never below the watermark promise.
        if (rng_() % 4 == 0 && snapshot > floor_) {
            snapshot -= rng_() % (snapshot - floor_ + 1);
        }
        snapshots_.insert(snapshot);
    }

    void ReleaseSnapshot() {
        if (snapshots_.empty()) {
            return;
        }
        snapshots_.erase(
            std::next(snapshots_.begin(), static_cast<std::ptrdiff_t>(rng_() % snapshots_.size())));
    }

    // The oldest open snapshot (or the visible timestamp): no offer will come from below it.
    void RaiseWatermark() {
        std::uint64_t floor = Visible();
        if (!snapshots_.empty()) {
            floor = std::min(floor, *snapshots_.begin());
        }
        for (const Read& read : pending_reads_) {
            floor = std::min(floor, read.snapshot);
        }
        floor_ = std::max(floor_, floor);
        cache_.RaiseWatermark(floor_);
    }

    void CheckHit(const Key& key, std::uint64_t snapshot) {
        std::vector<std::pair<std::uint64_t, double>> seen;
        const bool hit = cache_.Visit(N(key.row), key.dir, snapshot,
                                      [&](const CachedEdge& edge, std::string_view) {
                                          seen.emplace_back(edge.row, edge.weight);
                                          return true;
                                      });
        if (!hit) {
            return;
        }
        ++hits_;
        const std::uint64_t expected = VersionAt(key, snapshot);
        const std::optional<std::uint64_t> got = VersionOf(seen);
        if (!got.has_value() || *got != expected) {
            if (failures_++ == 0) {
                first_failure_ = "row " + std::to_string(key.row) + " dir " +
                                 std::to_string(static_cast<int>(key.dir)) + " at snapshot " +
                                 std::to_string(snapshot) + ": expected version " +
                                 std::to_string(expected) + ", got " +
                                 (got ? std::to_string(*got) : std::string("garbage"));
            }
        }
    }

    // A reader either visits (checking a hit), starts a storage read at an open snapshot, or
    // offers a read it made earlier (the delay is where commits and evictions slip in).
    void ReadOrOffer() {
        const std::uint64_t choice = rng_() % 3;
        if (choice == 0 && !pending_reads_.empty()) {
            const auto idx = static_cast<std::ptrdiff_t>(rng_() % pending_reads_.size());
            const Read read = pending_reads_[static_cast<std::size_t>(idx)];
            pending_reads_.erase(pending_reads_.begin() + idx);
            cache_.Offer(N(read.key.row), read.key.dir, read.snapshot, ListOf(*read.version));
            return;
        }
        if (snapshots_.empty()) {
            return;
        }
        const std::uint64_t snapshot =
            *std::next(snapshots_.begin(), static_cast<std::ptrdiff_t>(rng_() % snapshots_.size()));
        const Key key{rng_() % kRows, rng_() % 2 == 0 ? Direction::kOut : Direction::kIn};
        CheckHit(key, snapshot);
        if (choice != 0 && pending_reads_.size() < 4) {
            pending_reads_.push_back({snapshot, key, VersionAt(key, snapshot)});
        }
    }

    std::mt19937_64 rng_;
    AdjacencyCache cache_;
    std::uint64_t last_ts_ = 0;
    std::uint64_t floor_ = 0;
    std::map<std::uint64_t, Commit> in_flight_;
    std::map<Key, std::set<std::uint64_t>> history_;
    std::multiset<std::uint64_t> snapshots_;
    std::vector<Read> pending_reads_;
    std::uint64_t hits_ = 0;
    std::uint64_t failures_ = 0;
    std::uint64_t out_of_order_hooks_ = 0;
    std::string first_failure_;
};

TEST(AdjacencyCacheModel, OutOfOrderCommitHooksNeverServeStaleOrFutureLists) {
    std::uint64_t hits = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t evictions = 0;
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        // Room for ten lists of the 24 (a list may take at most an eighth of the capacity), one
        // or two shards: evictions happen all the time.
        Model model(seed, 10, 1 + seed % 2);
        for (int step = 0; step < 400; ++step) {
            model.Step();
        }
        model.Finish();
        ASSERT_EQ(model.failures(), 0u) << "seed " << seed << ": " << model.first_failure();
        hits += model.hits();
        out_of_order += model.out_of_order_hooks();
        evictions += model.cache().stats().evictions;
    }
    std::printf("hits %llu, out-of-order hooks %llu, evictions %llu\n",
                static_cast<unsigned long long>(hits),
                static_cast<unsigned long long>(out_of_order),
                static_cast<unsigned long long>(evictions));
    // The run exercised what it is about.
    EXPECT_GT(hits, 1000u);
    EXPECT_GT(out_of_order, 100u);
    EXPECT_GT(evictions, 100u);
}

}  // namespace
}  // namespace phenix::graph
