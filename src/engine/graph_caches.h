// SPDX-License-Identifier: Apache-2.0
//
// GraphCaches — the graph subsystem's in-memory state, owned by DatabaseImpl: the adjacency
// cache (hot adjacency lists, exact under MVCC: graph/adjacency_cache.h) and the id cache
// (traversal starts: (collection, id) -> row, the same structure keyed by IdCacheKey), and the
// commit hook that keeps both exact. Both are absent when Options::adjacency_cache_bytes is 0.
//
// Replaced whole (a new object) at open and after a collection drop, whose edge deletions
// bypass the commit hook; DatabaseImpl holds it GUARDED_BY(catalog_mu_).
//
// Thread-safe (the caches are).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <rocksdb/write_batch.h>

#include "graph/adjacency_cache.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

// The id cache's key for an external id of a collection (graph_ops.cc).
inline graph::NodeRef IdCacheKey(storage::CollectionId collection, std::string_view id) {
    return {collection, std::hash<std::string_view>{}(id)};
}
// The id cache's row for "no such entity".
inline constexpr std::uint64_t kAbsentRow = ~std::uint64_t{0};
inline constexpr std::size_t kIdCacheShare = 8;
inline constexpr std::size_t kMinIdCacheBytes = 1 << 20;

class GraphCaches {
  public:
    /// Empty caches of `adjacency_cache_bytes` (and 1/kIdCacheShare of it for ids; none when
    /// 0) that take no list read below `visible`: every commit so far is at or below it, so no
    /// snapshot that could offer an older list may use them.
    GraphCaches(std::size_t adjacency_cache_bytes, txn::Timestamp visible);

    /// Null when caching is off.
    [[nodiscard]] graph::AdjacencyCache* adjacency() const { return adjacency_.get(); }
    [[nodiscard]] graph::AdjacencyCache* ids() const { return ids_.get(); }

    /// The commit hook: forgets the cached adjacency of every node whose edges `wb` (written
    /// to `store`, stamped with `ts`) changes, and the cached rows of the ids it adds or removes.
    void Invalidate(const storage::Store& store, const rocksdb::WriteBatch& wb, txn::Timestamp ts);

  private:
    std::unique_ptr<graph::AdjacencyCache> adjacency_;
    std::unique_ptr<graph::AdjacencyCache> ids_;
};

}  // namespace phenix::engine
