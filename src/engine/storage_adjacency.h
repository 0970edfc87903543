// SPDX-License-Identifier: Apache-2.0
//
// StorageAdjacency — the graph module's AdjacencySource over the engine's storage at one
// snapshot, for one traversal: a node's list comes from the adjacency cache when it holds one
// valid at the snapshot (a shared reference: no copy, no RocksDB), else from the out_edges /
// in_edges column families through one reusable iterator per family (created on the first miss
// and re-seeked for every later one), packed and offered to the cache. A transaction's own edge
// writes are merged by the ReadView; nodes whose edges the transaction changed bypass the cache.
// Without a cache (Options::adjacency_cache_bytes = 0) lists are not packed: the operators read
// them through ForEachEdge.
//
// Thread safety: confined to one traversal (one thread). Borrows the view, the overlay and the
// cache, which must outlive it (REQUIRES the catalog mutex held shared, which keeps the cache).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/adjacency.h"
#include "graph/adjacency_cache.h"
#include "graph/node_set.h"
#include "storage/keys.h"
#include "storage/payload_cipher.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

namespace phenix::engine {

class StorageAdjacency final : public graph::AdjacencySource {
  public:
    StorageAdjacency(storage::TenantId tenant, const txn::ReadView& view,
                     const txn::WriteSet* own_writes, graph::AdjacencyCache* cache)
        : tenant_(tenant), view_(view), own_writes_(own_writes), cache_(cache) {}

    Result<graph::PackedListPtr> ReadList(graph::NodeRef node, graph::Direction dir) override;
    // ReadList without the memo.
    Result<graph::PackedListPtr> ReadListOnce(graph::NodeRef node, graph::Direction dir);
    void Prefetch(graph::NodeRef node, graph::Direction dir) override {
        if (cache_ != nullptr) {
            if (dir != graph::Direction::kIn) {
                cache_->Prefetch(node, graph::Direction::kOut);
            }
            if (dir != graph::Direction::kOut) {
                cache_->Prefetch(node, graph::Direction::kIn);
            }
        }
    }
    Status ForEachEdge(graph::NodeRef node, graph::Direction dir, bool need_properties,
                       graph::FunctionRef<bool(const graph::EdgeView&)> visit) override;

    // Keep every list read for the rest of the traversal, so that operators that come back to a
    // node (paths, the hop-bounded shortest path, the probe's checks) read each list once: from
    // the cache or storage the first time, from here after. Costs a reference per list.
    void MemoizeLists() { memoize_ = true; }

    // Lists read from storage (cache misses, and nodes a transaction changed).
    [[nodiscard]] std::uint64_t storage_reads() const { return storage_reads_; }

  private:
    // Seeks the family's reusable iterator to the node's edges.
    txn::ReadView::Iterator& SeekEdges(storage::ColumnFamily family, graph::NodeRef node);
    [[nodiscard]] bool OverlayTouches(storage::ColumnFamily family, graph::NodeRef node) const;
    // The plaintext of the edge value `it` is at (storage/payload_cipher.h); valid until the
    // next call.
    Result<std::string_view> OpenEdge(storage::ColumnFamily family,
                                      const txn::ReadView::Iterator& it) {
        return view_.store().payloads().Open(family == storage::ColumnFamily::kOutEdges
                                                 ? storage::PayloadKind::kOutEdge
                                                 : storage::PayloadKind::kInEdge,
                                             it.key(), it.value(), edge_plain_);
    }

    storage::TenantId tenant_;
    const txn::ReadView& view_;
    const txn::WriteSet* own_writes_;
    graph::AdjacencyCache* cache_;
    std::unique_ptr<txn::ReadView::Iterator> out_it_;
    std::unique_ptr<txn::ReadView::Iterator> in_it_;
    std::string prefix_;                  // scratch: the node's key prefix
    std::string upper_;                   // scratch: its successor
    std::vector<graph::EdgeView> views_;  // scratch: a list being packed
    std::string edge_plain_;              // scratch: a decrypted edge value
    std::uint64_t storage_reads_ = 0;
    bool memoize_ = false;
    graph::NodeMap<graph::PackedListPtr> memo_out_;  // with MemoizeLists
    graph::NodeMap<graph::PackedListPtr> memo_in_;
};

}  // namespace phenix::engine
