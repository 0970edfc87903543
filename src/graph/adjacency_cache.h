// SPDX-License-Identifier: Apache-2.0
//
// AdjacencyCache — hot adjacency lists (the edges of one node in one direction) kept compactly
// in memory so that traversals skip RocksDB, correct under MVCC.
//
// Storage keeps adjacency with MVCC timestamps; a reader reads at snapshot s and sees the
// commits with ts <= s. The cache keeps, per (node, dir), at most one edge list together with
// `valid_from`: the list is the adjacency at every snapshot >= valid_from (until a later change
// drops it). The engine relies on two facts about commits: a commit calls Invalidate for every
// (node, dir) it changes after its data is durable and before it is visible, and no reader ever
// gets a snapshot >= a commit ts whose Invalidate calls have not all returned.
//
// Protocol (per shard: a shared_mutex, a flat hash table (node, dir) -> entry, and a watermark):
//   * Invalidate(node, dir, c): valid_from = max(valid_from, c) and the list is dropped; the
//     entry stays as a change marker (created if missing, unless c <= watermark).
//   * Offer(node, dir, s, edges) from a reader that read the list at snapshot s: with an entry,
//     the list is stored only if s >= valid_from (else a change newer than the read is known
//     and the read is dropped); without one, only if s >= watermark, with valid_from =
//     watermark.
//   * Visit(node, dir, s) hits only if the entry has a list and s >= valid_from.
//   * Invariant: an absent (node, dir) last changed at or before the shard's watermark. Evicting
//     an entry (list or marker) raises the watermark to its valid_from, and so do
//     DropCollection and RaiseWatermark.
// Why it is correct: every change c <= s to (node, dir) ran Invalidate(c) before the snapshot s
// existed, so when an offer at s is stored, valid_from is >= every change <= s and there is no
// change in (valid_from, s]; the list read at s is then the adjacency at every snapshot in
// [valid_from, s]. A later change c > s either came first (valid_from = c > s: the offer is
// refused) or comes after (it drops the list). A change before the entry existed is <= the
// watermark that became its valid_from.
//
// Memory: entries are charged their hash-map node plus their packed list (24 bytes per edge,
// weights kept as double, plus the other ends' ids and 4 bytes of offset per edge when the
// source gave ids); the total stays within capacity_bytes (CLOCK eviction over all shards, one
// shard lock at a time). A single list larger than capacity_bytes / 8 is not cached. Labels are
// interned once for the cache's lifetime in its LabelTable, capped at 2^20 labels and
// capacity_bytes / 16 + 64 KiB of text; lists with labels beyond that are not cached. Edge
// properties are not cached: PackedEdge only says whether the edge has any.
//
// Thread safety: thread-safe. Find and Visit take a shard's shared lock for one hash lookup and
// copy a reference to the (immutable) list; they allocate nothing and walk the list with no lock
// held. Offer, Invalidate and eviction take one shard's exclusive lock at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "graph/adjacency.h"
#include "graph/function_ref.h"
#include "graph/label_table.h"

namespace phenix::graph {

// A cached edge is a packed edge.
using CachedEdge = PackedEdge;

// The EdgeView of a cached edge of a list for `dir` (kOut or kIn): properties are empty (the
// cache has none); has_properties tells whether the edge has some.
[[nodiscard]] inline EdgeView ToEdgeView(const CachedEdge& edge, std::string_view label,
                                         Direction dir) {
    return EdgeView{.other = edge.other(),
                    .label = label,
                    .weight = edge.weight,
                    .has_properties = edge.has_properties(),
                    .reversed = dir == Direction::kIn};
}

class AdjacencyCache {
  public:
    static constexpr std::size_t kDefaultShards = 64;

    // initial_watermark_ts: every change before it is older than any snapshot that will ever
    // offer (e.g. the last commit ts at open). num_shards is rounded up to a power of two.
    AdjacencyCache(std::size_t capacity_bytes, std::uint64_t initial_watermark_ts,
                   std::size_t num_shards = kDefaultShards);
    ~AdjacencyCache();
    AdjacencyCache(const AdjacencyCache&) = delete;
    AdjacencyCache& operator=(const AdjacencyCache&) = delete;

    // The list for (node, dir) (kOut or kIn) if one valid at `snapshot` is cached, else null.
    // The hot path of traversals: one shared lock, one hash lookup, one reference count.
    [[nodiscard]] PackedListPtr Find(NodeRef node, Direction dir, std::uint64_t snapshot) const;

    // Starts loading the table slot where Find(node, dir) looks (a hint; never blocks, takes no
    // lock, reads nothing that a concurrent writer could be changing).
    void Prefetch(NodeRef node, Direction dir) const;

    // If a list for (node, dir) that is valid at `snapshot` is cached, calls visit(edge, label)
    // for its edges in the order they were offered until visit returns false, and returns true.
    // Returns false (a miss) otherwise. `dir` is kOut or kIn. The label view stays valid for the
    // cache's lifetime; `edge` only during the call.
    bool Visit(NodeRef node, Direction dir, std::uint64_t snapshot,
               FunctionRef<bool(const CachedEdge&, std::string_view label)> visit) const;
    // Visit that also passes each edge's other_id (as offered; empty if it was empty).
    bool VisitWithIds(
        NodeRef node, Direction dir, std::uint64_t snapshot,
        FunctionRef<bool(const CachedEdge&, std::string_view label, std::string_view other_id)>
            visit) const;

    // A reader that read the complete adjacency of (node, dir) (kOut or kIn) from storage at
    // `snapshot` offers it, in the order Visit should replay it. Stored or dropped per the
    // protocol above; EdgeView::properties and ::reversed are ignored.
    void Offer(NodeRef node, Direction dir, std::uint64_t snapshot,
               std::span<const EdgeView> edges);
    // The same with a list already packed with labels(); returns whether it was stored.
    bool OfferPacked(NodeRef node, Direction dir, std::uint64_t snapshot, PackedListPtr list);

    // The table the cache's lists intern their labels in (for lists offered packed). It lives as
    // long as the cache, and so do the label texts of any list Find returned.
    [[nodiscard]] LabelTable& labels() const { return *labels_; }

    // Commit hook: the adjacency of (node, dir) changes at commit_ts; called after the change is
    // durable and before it is visible to new snapshots. kBoth invalidates both directions.
    void Invalidate(NodeRef node, Direction dir, std::uint64_t commit_ts);

    // Forgets the lists and markers of the collection's nodes (lists of other collections'
    // nodes with edges into it are the engine's to invalidate when it deletes those edges). If
    // drop_ts is given, offers read at snapshots < drop_ts are refused from now on in every
    // shard, so a reader still on an older snapshot cannot bring the collection back.
    void DropCollection(std::uint32_t collection, std::uint64_t drop_ts = 0);

    // Promises that no offer will come from a snapshot < ts (e.g. the oldest open snapshot):
    // raises every watermark to ts and frees the change markers it makes redundant.
    void RaiseWatermark(std::uint64_t ts);

    struct Stats {
        std::uint64_t entries = 0;      // cached lists
        std::uint64_t markers = 0;      // change markers (entries without a list)
        std::uint64_t bytes = 0;        // charged for lists and markers; <= capacity when idle
        std::uint64_t label_bytes = 0;  // the interned label table
        std::uint64_t hits = 0;
        std::uint64_t misses = 0;
        std::uint64_t evictions = 0;       // lists and markers evicted for space
        std::uint64_t refused_offers = 0;  // offers not stored (stale, too big, or cached)
    };
    [[nodiscard]] Stats stats() const;

    [[nodiscard]] std::size_t capacity_bytes() const { return capacity_bytes_; }

    // The bytes charged for an entry holding `num_edges` edges (a marker: EntryBytes(0)).
    [[nodiscard]] static std::size_t EntryBytes(std::size_t num_edges, std::size_t id_bytes = 0);

  private:
    struct Shard;
    struct Key;
    class EntryMap;

    Shard& ShardFor(const Key& key) const;
    // Whether an offer for (node, dir) at `snapshot` would be stored now.
    bool Acceptable(NodeRef node, Direction dir, std::uint64_t snapshot) const;
    // Evicts until the total is within capacity, one shard lock at a time.
    void EvictIfNeeded();

    // Immutable after construction.
    const std::size_t capacity_bytes_;
    const std::size_t max_entry_bytes_;
    const std::size_t num_shards_;
    std::unique_ptr<Shard[]> shards_;
    // The cache's lists point at it: a list taken from the cache resolves its labels only
    // while the cache lives (the engine replaces a cache only when no traversal runs).
    std::unique_ptr<LabelTable> labels_;

    std::atomic<std::size_t> bytes_{0};  // sum of the shards' bytes (relaxed: a size estimate)
    std::atomic<std::size_t> clock_shard_{0};       // next shard to evict from (relaxed: a hint)
    std::atomic<std::uint64_t> refused_offers_{0};  // relaxed: a counter
};

}  // namespace phenix::graph
