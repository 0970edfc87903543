// SPDX-License-Identifier: Apache-2.0
//
// phenix::WriteBatch — a list of entity writes applied atomically by Database::Write.
//
// Operations apply in order (a later operation sees the effect of an earlier one in the same
// batch). Either every operation takes effect or, on any error, none does. Edge targets are
// resolved against the state after the whole batch, so an entity may point at another entity
// that the same batch inserts later.
//
// Thread-compatible: a batch is a plain value; build it on one thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <phenix/types.h>

namespace phenix {

class WriteBatch {
  public:
    enum class OpType : std::uint8_t {
        kInsert,  ///< fails with AlreadyExists if the id exists
        kUpsert,  ///< insert, or replace vector, metadata and out-edges of an existing id
        kDelete,  ///< fails with NotFound if the id does not exist; removes edges both ways
        kReplaceMetadata,  ///< replaces the metadata object; vector and edges unchanged
        kPatchMetadata,    ///< applies a JSON merge patch (RFC 7386) to the metadata
        kReplaceEdges,     ///< replaces the out-edges; vector and metadata unchanged; NotFound
                           ///< if the id does not exist
    };

    struct Op {
        OpType type;
        CollectionRef collection;
        /// For metadata ops: id and metadata (the new object or the patch); for kReplaceEdges:
        /// id and edges.
        Entity entity;
    };

    void Insert(CollectionRef collection, Entity entity);
    void Upsert(CollectionRef collection, Entity entity);
    void Delete(CollectionRef collection, std::string id);
    void ReplaceMetadata(CollectionRef collection, std::string id, std::string metadata_json);
    void PatchMetadata(CollectionRef collection, std::string id, std::string merge_patch_json);
    /// Replaces the out-edges of an existing entity without rewriting its vector (so the vector
    /// index is not touched) or metadata. In-edges from other entities are kept. Bulk loads use
    /// it to add edges whose targets are written after their source.
    void ReplaceEdges(CollectionRef collection, std::string id, std::vector<Edge> edges);

    [[nodiscard]] std::size_t size() const { return ops_.size(); }
    [[nodiscard]] bool empty() const { return ops_.empty(); }
    void Clear() { ops_.clear(); }
    [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }

  private:
    std::vector<Op> ops_;
};

}  // namespace phenix
