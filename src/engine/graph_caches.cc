// SPDX-License-Identifier: Apache-2.0
#include "engine/graph_caches.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/coding.h"

namespace phenix::engine {

using graph::NodeRef;
using storage::ColumnFamily;

namespace {

// Node-level edge changes, and id changes, of a written batch (keys carry the commit timestamp
// at the end).
class EdgeChanges final : public rocksdb::WriteBatch::Handler {
  public:
    EdgeChanges(std::uint32_t out_cf, std::uint32_t in_cf, std::uint32_t ids_cf)
        : out_cf_(out_cf), in_cf_(in_cf), ids_cf_(ids_cf) {}

    rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice&) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status SingleDeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
        return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                  const rocksdb::Slice&) override {
        return rocksdb::Status::OK();
    }

    // (node, direction) whose adjacency the batch changes.
    std::vector<std::pair<NodeRef, graph::Direction>> changed;
    // The id cache's keys of the ids the batch adds or removes.
    std::vector<NodeRef> ids;

  private:
    void Note(std::uint32_t cf, const rocksdb::Slice& key) {
        if (cf == ids_cf_ &&
            key.size() >= storage::kCollectionPrefixBytes + storage::kTimestampBytes) {
            const std::string_view id(
                key.data() + storage::kCollectionPrefixBytes,
                key.size() - storage::kCollectionPrefixBytes - storage::kTimestampBytes);
            ids.push_back(IdCacheKey(coding::DecodeFixed32BE(key.data() + 4), id));
            return;
        }
        if ((cf != out_cf_ && cf != in_cf_) || key.size() < storage::kRowPrefixBytes) {
            return;
        }
        const NodeRef node{coding::DecodeFixed32BE(key.data() + 4),
                           coding::DecodeFixed64BE(key.data() + storage::kCollectionPrefixBytes)};
        const graph::Direction dir = cf == out_cf_ ? graph::Direction::kOut : graph::Direction::kIn;
        if (changed.empty() || changed.back().first != node || changed.back().second != dir) {
            changed.emplace_back(node, dir);
        }
    }

    std::uint32_t out_cf_;
    std::uint32_t in_cf_;
    std::uint32_t ids_cf_;
};

}  // namespace

GraphCaches::GraphCaches(std::size_t adjacency_cache_bytes, txn::Timestamp visible) {
    if (adjacency_cache_bytes == 0) {
        return;
    }
    adjacency_ = std::make_unique<graph::AdjacencyCache>(adjacency_cache_bytes, visible);
    ids_ = std::make_unique<graph::AdjacencyCache>(
        std::max<std::size_t>(adjacency_cache_bytes / kIdCacheShare, kMinIdCacheBytes), visible);
}

void GraphCaches::Invalidate(const storage::Store& store, const rocksdb::WriteBatch& wb,
                             txn::Timestamp ts) {
    if (!adjacency_) {
        return;
    }
    EdgeChanges changes(store.cf(ColumnFamily::kOutEdges)->GetID(),
                        store.cf(ColumnFamily::kInEdges)->GetID(),
                        store.cf(ColumnFamily::kIds)->GetID());
    (void)wb.Iterate(&changes);  // an in-memory batch RocksDB has just written
    for (const auto& [node, dir] : changes.changed) {
        adjacency_->Invalidate(node, dir, ts);
    }
    for (const NodeRef& key : changes.ids) {
        ids_->Invalidate(key, graph::Direction::kOut, ts);
    }
}

}  // namespace phenix::engine
