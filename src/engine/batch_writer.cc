// SPDX-License-Identifier: Apache-2.0
//
// The write path: validate a WriteBatch, lock the entity keys it decides on, replay its
// operations over an in-memory overlay of the entities they touch, resolve edge targets
// against the resulting state, and commit everything as one RocksDB write batch.
//
// Deletes are emitted before puts so that a key removed for an old state and re-added for the
// new one (e.g. an upsert that keeps an edge) ends up present.
#include <map>

#include <rocksdb/write_batch.h>

#include <phenix/limits.h>

#include "common/coding.h"
#include "document/json.h"
#include "engine/database_impl.h"
#include "engine/validation.h"
#include "storage/entity_codec.h"

namespace phenix::engine {

using storage::ColumnFamily;
using storage::RowId;

namespace {

const char* OpName(WriteBatch::OpType type) {
    switch (type) {
        case WriteBatch::OpType::kInsert:
            return "insert";
        case WriteBatch::OpType::kUpsert:
            return "upsert";
        case WriteBatch::OpType::kDelete:
            return "delete";
        case WriteBatch::OpType::kReplaceMetadata:
            return "replace metadata of";
        case WriteBatch::OpType::kPatchMetadata:
            return "patch metadata of";
    }
    return "write";
}

// One operation after resolution and validation.
struct ResolvedOp {
    WriteBatch::OpType type;
    std::shared_ptr<CollectionHandle> handle;
    Entity entity;                                                // normalised
    std::vector<std::shared_ptr<CollectionHandle>> edge_targets;  // parallel to entity.edges
};

struct EdgeTarget {
    const Edge* edge;
    const CollectionHandle* collection;
};

// The state of one touched entity: as committed, and after the batch's operations so far.
struct PendingEntity {
    const CollectionHandle* handle = nullptr;
    std::string external_id;
    bool db_exists = false;
    RowId db_row = 0;
    bool exists = false;
    RowId row = 0;
    bool record_loaded = false;
    storage::EntityRecord record;
    bool record_dirty = false;
    bool edges_replaced = false;
    std::vector<EdgeTarget> edges;
    std::size_t last_op_idx = 0;
};

using EntityKey = std::pair<storage::CollectionId, std::string>;

std::string OpContext(std::size_t op_idx, std::size_t num_ops, const ResolvedOp& op) {
    std::string ctx;
    if (num_ops > 1) {
        ctx = "batch operation " + std::to_string(op_idx) + " (";
    }
    ctx += std::string(OpName(op.type)) + " '" + op.entity.id + "' in collection '" +
           op.handle->ref().ToString() + "'";
    if (num_ops > 1) {
        ctx += ")";
    }
    return ctx;
}

}  // namespace

Status DatabaseImpl::ApplyBatchLocked(const WriteBatch& batch) {
    const auto& ops = batch.ops();
    if (ops.empty()) {
        return Status::Ok();
    }
    if (ops.size() > limits::kMaxBatchOps) {
        return Status::ResourceExhausted(
            "the batch has " + std::to_string(ops.size()) + " operations; the limit is " +
            std::to_string(limits::kMaxBatchOps) + "; split it into smaller batches");
    }

    // 1. Resolve collections and validate every operation before touching anything.
    std::vector<ResolvedOp> resolved;
    resolved.reserve(ops.size());
    std::vector<std::size_t> stripes;
    for (std::size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
        const WriteBatch::Op& op = ops[op_idx];
        auto handle = catalog_->Resolve(op.collection);
        if (!handle.ok()) {
            return ops.size() > 1
                       ? handle.status().WithContext("batch operation " + std::to_string(op_idx))
                       : handle.status();
        }
        ResolvedOp r{op.type, *handle, op.entity, {}};
        const std::string ctx = OpContext(op_idx, ops.size(), r);
        const auto& record = r.handle->record;
        switch (op.type) {
            case WriteBatch::OpType::kInsert:
            case WriteBatch::OpType::kUpsert: {
                Status s = ValidateAndNormalizeEntity(r.entity, r.handle->tenant_name,
                                                      record.dimension, record.metric);
                if (!s.ok()) {
                    return s.WithContext(ctx);
                }
                for (std::size_t edge_idx = 0; edge_idx < r.entity.edges.size(); ++edge_idx) {
                    const Edge& edge = r.entity.edges[edge_idx];
                    std::shared_ptr<CollectionHandle> target = r.handle;
                    if (!edge.target_collection.empty() &&
                        edge.target_collection != r.handle->name) {
                        auto found =
                            catalog_->Resolve({r.handle->tenant_name, edge.target_collection});
                        if (!found.ok()) {
                            return found.status().WithContext(ctx + ": edge " +
                                                              std::to_string(edge_idx));
                        }
                        target = *found;
                    }
                    stripes.push_back(LockTable::StripeOf(target->id(), edge.target_id));
                    r.edge_targets.push_back(std::move(target));
                }
                break;
            }
            case WriteBatch::OpType::kDelete: {
                Status s = ValidateEntityId(r.entity.id);
                if (!s.ok()) {
                    return s.WithContext(ctx);
                }
                break;
            }
            case WriteBatch::OpType::kReplaceMetadata:
            case WriteBatch::OpType::kPatchMetadata: {
                Status s = ValidateEntityId(r.entity.id);
                if (s.ok() && op.type == WriteBatch::OpType::kReplaceMetadata) {
                    auto normalized = document::NormalizeJsonObject(
                        r.entity.metadata, limits::kMaxMetadataBytes, "metadata");
                    s = normalized.status();
                    if (s.ok()) {
                        r.entity.metadata = std::move(*normalized);
                    }
                }
                if (!s.ok()) {
                    return s.WithContext(ctx);
                }
                break;
            }
        }
        stripes.push_back(LockTable::StripeOf(r.handle->id(), r.entity.id));
        resolved.push_back(std::move(r));
    }

    // 2. Lock every entity key whose state decides the outcome.
    LockTable::Guard guard = locks_.Lock(std::move(stripes));

    // 3. Replay the operations over an overlay of the touched entities.
    std::map<EntityKey, PendingEntity> pending;
    auto load = [&](const CollectionHandle& handle,
                    const std::string& id) -> Result<PendingEntity*> {
        auto [it, inserted] = pending.try_emplace(EntityKey{handle.id(), id});
        PendingEntity& entity = it->second;
        if (inserted) {
            entity.handle = &handle;
            entity.external_id = id;
            PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(handle, id, nullptr));
            entity.db_exists = row.has_value();
            entity.db_row = row.value_or(0);
            entity.exists = entity.db_exists;
            entity.row = entity.db_row;
        }
        return &entity;
    };
    std::map<storage::CollectionId, std::int64_t> count_delta;
    std::map<storage::CollectionId, RowId> max_row;
    auto allocate_row = [&](CollectionHandle& handle) {
        RowId row = handle.next_row_id.fetch_add(1);
        RowId& high = max_row[handle.id()];
        high = std::max(high, row);
        return row;
    };

    for (std::size_t op_idx = 0; op_idx < resolved.size(); ++op_idx) {
        const ResolvedOp& op = resolved[op_idx];
        PHENIX_ASSIGN_OR_RETURN(PendingEntity * entity, load(*op.handle, op.entity.id));
        entity->last_op_idx = op_idx;
        switch (op.type) {
            case WriteBatch::OpType::kInsert:
            case WriteBatch::OpType::kUpsert: {
                if (entity->exists && op.type == WriteBatch::OpType::kInsert) {
                    return Status::AlreadyExists("entity '" + op.entity.id + "' already exists")
                        .WithContext(OpContext(op_idx, resolved.size(), op));
                }
                if (!entity->exists) {
                    entity->exists = true;
                    entity->row = allocate_row(*op.handle);
                }
                entity->record = {op.entity.id, op.entity.vector, op.entity.metadata};
                entity->record_loaded = true;
                entity->record_dirty = true;
                entity->edges_replaced = true;
                entity->edges.clear();
                for (std::size_t edge_idx = 0; edge_idx < op.entity.edges.size(); ++edge_idx) {
                    entity->edges.push_back(
                        {&op.entity.edges[edge_idx], op.edge_targets[edge_idx].get()});
                }
                break;
            }
            case WriteBatch::OpType::kDelete: {
                if (!entity->exists) {
                    return Status::NotFound("entity '" + op.entity.id + "' does not exist")
                        .WithContext(OpContext(op_idx, resolved.size(), op));
                }
                entity->exists = false;
                entity->row = 0;
                entity->record_loaded = false;
                entity->record_dirty = false;
                entity->edges_replaced = false;
                entity->edges.clear();
                break;
            }
            case WriteBatch::OpType::kReplaceMetadata:
            case WriteBatch::OpType::kPatchMetadata: {
                if (!entity->exists) {
                    return Status::NotFound("entity '" + op.entity.id + "' does not exist")
                        .WithContext(OpContext(op_idx, resolved.size(), op));
                }
                if (!entity->record_loaded) {
                    PHENIX_ASSIGN_OR_RETURN(entity->record,
                                            ReadRecord(*op.handle, entity->row, nullptr));
                    entity->record_loaded = true;
                }
                if (op.type == WriteBatch::OpType::kReplaceMetadata) {
                    entity->record.metadata = op.entity.metadata;
                } else {
                    auto patched = document::ApplyMergePatch(
                        entity->record.metadata, op.entity.metadata, limits::kMaxMetadataBytes);
                    if (!patched.ok()) {
                        return patched.status().WithContext(OpContext(op_idx, resolved.size(), op));
                    }
                    entity->record.metadata = std::move(*patched);
                }
                entity->record_dirty = true;
                break;
            }
        }
    }

    // 4. Resolve edge targets against the final state (the overlay, else committed data).
    struct NewEdge {
        storage::EdgeKey key;
        storage::EdgeValue out_value;  // other end = target
        storage::EdgeValue in_value;   // other end = source
    };
    std::map<std::string, NewEdge>
        new_edges;  // encoded out-edge key -> edge; a repeated edge keeps the last
    std::vector<PendingEntity*> with_new_edges;
    for (auto& [key, entity] : pending) {
        if (entity.exists && entity.edges_replaced) {
            with_new_edges.push_back(&entity);
        }
    }
    for (PendingEntity* source : with_new_edges) {
        const ResolvedOp& op = resolved[source->last_op_idx];
        for (std::size_t edge_idx = 0; edge_idx < source->edges.size(); ++edge_idx) {
            const EdgeTarget& target = source->edges[edge_idx];
            PHENIX_ASSIGN_OR_RETURN(PendingEntity * dest,
                                    load(*target.collection, target.edge->target_id));
            if (!dest->exists) {
                return Status::NotFound("edge " + std::to_string(edge_idx) + " ('" +
                                        target.edge->label + "'): target entity '" +
                                        target.edge->target_id +
                                        "' does not exist in collection '" +
                                        target.collection->ref().ToString() + "'")
                    .WithContext(OpContext(source->last_op_idx, resolved.size(), op));
            }
            NewEdge edge;
            edge.key = {source->handle->tenant_id, source->handle->id(),    source->row,
                        target.edge->label,        target.collection->id(), dest->row};
            edge.out_value = {target.edge->weight, dest->external_id, target.edge->properties};
            edge.in_value = {target.edge->weight, source->external_id, target.edge->properties};
            new_edges[storage::EncodeEdgeKey(edge.key)] = std::move(edge);
        }
    }

    // 5. Build the RocksDB batch: deletions of old state first, then the new state.
    rocksdb::WriteBatch wb;
    auto* entities_cf = store_->cf(ColumnFamily::kEntities);
    auto* ids_cf = store_->cf(ColumnFamily::kIds);
    auto* out_cf = store_->cf(ColumnFamily::kOutEdges);
    auto* in_cf = store_->cf(ColumnFamily::kInEdges);

    // Deletes every edge filed under (entity, row) in `family` and its mirror in the other family.
    auto delete_edges = [&](const CollectionHandle& handle, RowId row, bool outgoing) -> Status {
        const std::string prefix = storage::EdgeRowPrefix(handle.tenant_id, handle.id(), row);
        const std::string end = storage::PrefixSuccessor(prefix);
        rocksdb::Slice upper(end);
        rocksdb::ReadOptions read_options;
        read_options.iterate_upper_bound = &upper;
        auto* family = outgoing ? out_cf : in_cf;
        auto* mirror_family = outgoing ? in_cf : out_cf;
        std::unique_ptr<rocksdb::Iterator> it(store_->db()->NewIterator(read_options, family));
        for (it->Seek(prefix); it->Valid(); it->Next()) {
            storage::EdgeKey key;
            if (!storage::DecodeEdgeKey({it->key().data(), it->key().size()}, key)) {
                return Status::Corruption("malformed edge key in collection '" +
                                          handle.ref().ToString() + "'");
            }
            wb.Delete(family, it->key());
            wb.Delete(mirror_family, storage::EncodeEdgeKey(storage::MirrorEdgeKey(key)));
        }
        return storage::FromRocks(it->status(), "reading edges to replace");
    };

    for (auto& [key, entity] : pending) {
        const CollectionHandle& handle = *entity.handle;
        const bool row_gone = entity.db_exists && (!entity.exists || entity.row != entity.db_row);
        if (row_gone) {
            wb.Delete(entities_cf,
                      storage::EntityKey(handle.tenant_id, handle.id(), entity.db_row));
            if (!entity.exists) {
                wb.Delete(ids_cf,
                          storage::IdKey(handle.tenant_id, handle.id(), entity.external_id));
            }
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/false));
            count_delta[handle.id()] -= 1;
        } else if (entity.db_exists && entity.exists && entity.edges_replaced) {
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
        }
    }
    std::string buffer;
    for (auto& [key, entity] : pending) {
        if (!entity.exists) {
            continue;
        }
        const CollectionHandle& handle = *entity.handle;
        if (!entity.db_exists || entity.row != entity.db_row) {
            wb.Put(ids_cf, storage::IdKey(handle.tenant_id, handle.id(), entity.external_id),
                   storage::EncodeCounter(entity.row));
            count_delta[handle.id()] += 1;
        }
        if (entity.record_dirty) {
            storage::EncodeEntityRecord(entity.record, buffer);
            wb.Put(entities_cf, storage::EntityKey(handle.tenant_id, handle.id(), entity.row),
                   buffer);
        }
    }
    for (const auto& [encoded, edge] : new_edges) {
        wb.Put(out_cf, encoded, storage::EncodeEdgeValue(edge.out_value));
        wb.Put(in_cf, storage::EncodeEdgeKey(storage::MirrorEdgeKey(edge.key)),
               storage::EncodeEdgeValue(edge.in_value));
    }
    auto* catalog_cf = store_->cf(ColumnFamily::kCatalog);
    for (const auto& [collection, delta] : count_delta) {
        if (delta != 0) {
            wb.Merge(catalog_cf, storage::EntityCountKey(collection),
                     storage::EncodeCounter(static_cast<std::uint64_t>(delta)));
        }
    }
    for (const auto& [collection, row] : max_row) {
        wb.Merge(catalog_cf, storage::RowHighWaterKey(collection), storage::EncodeCounter(row));
    }
    if (wb.GetDataSize() > limits::kMaxBatchBytes) {
        return Status::ResourceExhausted(
            "the batch encodes to " + std::to_string(wb.GetDataSize()) + " bytes; the limit is " +
            std::to_string(limits::kMaxBatchBytes) + "; split it into smaller batches");
    }
    return store_->Write(wb);
}

}  // namespace phenix::engine
