// SPDX-License-Identifier: Apache-2.0
//
// The write path: validate a WriteBatch, lock the entity keys it decides on, read their
// committed state with one MultiGet, replay the operations over an in-memory overlay, resolve
// edge targets against the resulting state, and commit everything as one RocksDB write batch.
//
// Deletes are emitted before puts so that a key removed for an old state and re-added for the
// new one (e.g. an upsert that keeps an edge) ends up present. A repeated (label, target) edge
// of one source is written twice; the later Put wins inside the RocksDB batch.
//
// This is the ingest hot path (see docs/benchmarks.md): vectors are borrowed from the batch,
// never copied, error messages are built only on failure, and the RocksDB batch is pre-sized.
#include <span>
#include <unordered_map>

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

// One operation after resolution and validation. Borrows the batch's Op; the catalog lock held
// for the whole write keeps the collection handles alive.
struct ResolvedOp {
    const WriteBatch::Op* op = nullptr;
    CollectionHandle* handle = nullptr;
    std::string id_key;           // ids column family key of the entity
    NormalizedEntity normalized;  // insert/upsert: metadata and edges; replace: metadata
    std::vector<CollectionHandle*> edge_targets;  // parallel to normalized.edges
    std::vector<std::string> edge_target_keys;    // ids keys of the targets
};

// The state of one touched entity: as committed, and after the batch's operations so far.
struct PendingEntity {
    CollectionHandle* handle = nullptr;
    bool db_exists = false;
    RowId db_row = 0;
    bool exists = false;
    RowId row = 0;
    // Current content; meaningful when content_loaded.
    bool content_loaded = false;
    bool record_dirty = false;
    std::span<const float> vector;    // borrowed from an op, or from loaded_vector
    std::vector<float> loaded_vector;  // owned copy when read from storage
    std::string metadata;
    // Out-edges, when an insert/upsert replaced them.
    const ResolvedOp* edges_op = nullptr;
    std::size_t last_op_idx = 0;
};

std::string OpContext(std::size_t op_idx, std::size_t num_ops, const ResolvedOp& op) {
    std::string ctx;
    if (num_ops > 1) {
        ctx = "batch operation " + std::to_string(op_idx) + " (";
    }
    ctx += std::string(OpName(op.op->type)) + " " + QuoteForMessage(op.op->entity.id) +
           " in collection '" + op.handle->ref().ToString() + "'";
    if (num_ops > 1) {
        ctx += ")";
    }
    return ctx;
}

std::string_view ExternalId(std::string_view id_key) { return storage::ExternalIdFromIdKey(id_key); }

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
    std::vector<ResolvedOp> resolved(ops.size());
    std::vector<std::size_t> stripes;
    stripes.reserve(ops.size());
    std::size_t estimated_bytes = 0;
    const CollectionRef* last_ref = nullptr;
    CollectionHandle* last_handle = nullptr;
    auto resolve = [&](const CollectionRef& ref) -> Result<CollectionHandle*> {
        if (last_ref == nullptr || last_ref->name != ref.name || last_ref->tenant != ref.tenant) {
            PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(ref));
            last_ref = &ref;
            last_handle = handle.get();
        }
        return last_handle;
    };
    for (std::size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
        const WriteBatch::Op& op = ops[op_idx];
        ResolvedOp& r = resolved[op_idx];
        r.op = &op;
        auto handle = resolve(op.collection);
        if (!handle.ok()) {
            return ops.size() > 1
                       ? handle.status().WithContext("batch operation " + std::to_string(op_idx))
                       : handle.status();
        }
        r.handle = *handle;
        Status s = ValidateEntityId(op.entity.id);
        const auto& record = r.handle->record;
        if (s.ok()) {
            switch (op.type) {
                case WriteBatch::OpType::kInsert:
                case WriteBatch::OpType::kUpsert: {
                    auto normalized = ValidateEntity(op.entity, r.handle->tenant_name,
                                                     record.dimension, record.metric);
                    if (!normalized.ok()) {
                        s = normalized.status();
                        break;
                    }
                    r.normalized = std::move(*normalized);
                    for (std::size_t edge_idx = 0; edge_idx < r.normalized.edges.size(); ++edge_idx) {
                        const Edge& edge = r.normalized.edges[edge_idx];
                        CollectionHandle* target = r.handle;
                        if (!edge.target_collection.empty() && edge.target_collection != r.handle->name) {
                            auto found =
                                catalog_->Resolve({r.handle->tenant_name, edge.target_collection});
                            if (!found.ok()) {
                                s = found.status().WithContext("edge " + std::to_string(edge_idx));
                                break;
                            }
                            target = found->get();
                        }
                        stripes.push_back(LockTable::StripeOf(target->id(), edge.target_id));
                        r.edge_targets.push_back(target);
                        r.edge_target_keys.push_back(
                            storage::IdKey(target->tenant_id, target->id(), edge.target_id));
                        estimated_bytes += 2 * (64 + edge.label.size() + edge.target_id.size() +
                                                op.entity.id.size() + edge.properties.size());
                    }
                    estimated_bytes += op.entity.vector.size() * sizeof(float) + r.normalized.metadata.size();
                    break;
                }
                case WriteBatch::OpType::kDelete:
                    break;
                case WriteBatch::OpType::kReplaceMetadata: {
                    auto normalized = document::NormalizeJsonObject(
                        op.entity.metadata, limits::kMaxMetadataBytes, "metadata");
                    if (normalized.ok()) {
                        r.normalized.metadata = std::move(*normalized);
                    } else {
                        s = normalized.status();
                    }
                    break;
                }
                case WriteBatch::OpType::kPatchMetadata:
                    break;  // the patch is parsed when applied, against the stored object
            }
        }
        if (!s.ok()) {
            return s.WithContext(OpContext(op_idx, ops.size(), r));
        }
        r.id_key = storage::IdKey(r.handle->tenant_id, r.handle->id(), op.entity.id);
        estimated_bytes += 64 + 2 * r.id_key.size();
        stripes.push_back(LockTable::StripeOf(r.handle->id(), op.entity.id));
    }

    // 2. Lock every entity key whose state decides the outcome.
    LockTable::Guard guard = locks_.Lock(std::move(stripes));

    // 3. Read the committed state of every touched entity (and edge target) with one MultiGet.
    // Keys borrow the ids-key strings owned by `resolved` (not resized after step 1).
    std::unordered_map<std::string_view, PendingEntity> pending;
    pending.reserve(ops.size() * 2);
    // First-touch order: writes are emitted in this order, not the hash map's, because RocksDB's
    // memtable skiplist inserts keys that arrive in ascending order (the usual bulk-load case)
    // far faster than keys in random order.
    std::vector<rocksdb::Slice> lookup_keys;
    std::vector<std::pair<std::string_view, PendingEntity*>> touched;
    auto add_key = [&](const std::string& key, CollectionHandle* handle) {
        auto [it, inserted] = pending.try_emplace(key);
        if (inserted) {
            it->second.handle = handle;
            lookup_keys.emplace_back(it->first.data(), it->first.size());
            touched.emplace_back(it->first, &it->second);
        }
    };
    for (const ResolvedOp& r : resolved) {
        add_key(r.id_key, r.handle);
        for (std::size_t edge_idx = 0; edge_idx < r.edge_target_keys.size(); ++edge_idx) {
            add_key(r.edge_target_keys[edge_idx], r.edge_targets[edge_idx]);
        }
    }
    {
        std::vector<rocksdb::PinnableSlice> values(lookup_keys.size());
        std::vector<rocksdb::Status> statuses(lookup_keys.size());
        store_->db()->MultiGet(rocksdb::ReadOptions(), store_->cf(ColumnFamily::kIds),
                               lookup_keys.size(), lookup_keys.data(), values.data(),
                               statuses.data());
        for (std::size_t idx = 0; idx < lookup_keys.size(); ++idx) {
            PendingEntity& entity = *touched[idx].second;
            if (statuses[idx].IsNotFound()) {
                continue;
            }
            PHENIX_RETURN_IF_ERROR(storage::FromRocks(statuses[idx], "reading the id index"));
            PHENIX_ASSIGN_OR_RETURN(RowId row, storage::DecodeCounter(values[idx].ToStringView()));
            entity.db_exists = entity.exists = true;
            entity.db_row = entity.row = row;
        }
    }

    // 4. Replay the operations over the overlay.
    std::map<storage::CollectionId, std::int64_t> count_delta;
    std::map<storage::CollectionId, RowId> max_row;
    auto allocate_row = [&](CollectionHandle& handle) {
        RowId row = handle.next_row_id.fetch_add(1);
        RowId& high = max_row[handle.id()];
        high = std::max(high, row);
        return row;
    };
    for (std::size_t op_idx = 0; op_idx < resolved.size(); ++op_idx) {
        ResolvedOp& r = resolved[op_idx];
        PendingEntity& entity = pending.find(r.id_key)->second;
        entity.last_op_idx = op_idx;
        switch (r.op->type) {
            case WriteBatch::OpType::kInsert:
            case WriteBatch::OpType::kUpsert: {
                if (entity.exists && r.op->type == WriteBatch::OpType::kInsert) {
                    return Status::AlreadyExists("entity " + QuoteForMessage(r.op->entity.id) +
                                                 " already exists")
                        .WithContext(OpContext(op_idx, resolved.size(), r));
                }
                if (!entity.exists) {
                    entity.exists = true;
                    entity.row = allocate_row(*r.handle);
                }
                entity.vector = r.op->entity.vector;
                entity.metadata = std::move(r.normalized.metadata);
                entity.content_loaded = true;
                entity.record_dirty = true;
                entity.edges_op = &r;
                break;
            }
            case WriteBatch::OpType::kDelete: {
                if (!entity.exists) {
                    return Status::NotFound("entity " + QuoteForMessage(r.op->entity.id) +
                                            " does not exist")
                        .WithContext(OpContext(op_idx, resolved.size(), r));
                }
                entity.exists = false;
                entity.row = 0;
                entity.content_loaded = false;
                entity.record_dirty = false;
                entity.edges_op = nullptr;
                break;
            }
            case WriteBatch::OpType::kReplaceMetadata:
            case WriteBatch::OpType::kPatchMetadata: {
                if (!entity.exists) {
                    return Status::NotFound("entity " + QuoteForMessage(r.op->entity.id) +
                                            " does not exist")
                        .WithContext(OpContext(op_idx, resolved.size(), r));
                }
                if (!entity.content_loaded) {
                    PHENIX_ASSIGN_OR_RETURN(storage::EntityRecord stored,
                                            ReadRecord(*r.handle, entity.row, nullptr));
                    entity.loaded_vector = std::move(stored.vector);
                    entity.vector = entity.loaded_vector;
                    entity.metadata = std::move(stored.metadata);
                    entity.content_loaded = true;
                }
                if (r.op->type == WriteBatch::OpType::kReplaceMetadata) {
                    entity.metadata = std::move(r.normalized.metadata);
                } else {
                    auto patched = document::ApplyMergePatch(entity.metadata, r.op->entity.metadata,
                                                             limits::kMaxMetadataBytes);
                    if (!patched.ok()) {
                        return patched.status().WithContext(OpContext(op_idx, resolved.size(), r));
                    }
                    entity.metadata = std::move(*patched);
                }
                entity.record_dirty = true;
                break;
            }
        }
    }

    // 5. Build the RocksDB batch: deletions of old state first, then the new state.
    rocksdb::WriteBatch wb(estimated_bytes + 1024);
    auto* entities_cf = store_->cf(ColumnFamily::kEntities);
    auto* ids_cf = store_->cf(ColumnFamily::kIds);
    auto* out_cf = store_->cf(ColumnFamily::kOutEdges);
    auto* in_cf = store_->cf(ColumnFamily::kInEdges);

    // Deletes every edge filed under (entity, row) in one edge family and its mirror in the other.
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

    for (auto [id_key, entity_ptr] : touched) {
        PendingEntity& entity = *entity_ptr;
        const CollectionHandle& handle = *entity.handle;
        const bool row_gone = entity.db_exists && (!entity.exists || entity.row != entity.db_row);
        if (row_gone) {
            wb.Delete(entities_cf, storage::EntityKey(handle.tenant_id, handle.id(), entity.db_row));
            if (!entity.exists) {
                wb.Delete(ids_cf, rocksdb::Slice(id_key.data(), id_key.size()));
            }
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/false));
            count_delta[handle.id()] -= 1;
        } else if (entity.db_exists && entity.exists && entity.edges_op != nullptr) {
            PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
        }
    }

    std::string buffer;
    for (auto [id_key, source_ptr] : touched) {
        PendingEntity& source = *source_ptr;
        if (!source.exists) {
            continue;
        }
        const CollectionHandle& handle = *source.handle;
        if (!source.db_exists || source.row != source.db_row) {
            wb.Put(ids_cf, rocksdb::Slice(id_key.data(), id_key.size()),
                   storage::EncodeCounter(source.row));
            count_delta[handle.id()] += 1;
        }
        if (source.record_dirty) {
            storage::EncodeEntityRecord(ExternalId(id_key), source.vector, source.metadata, buffer);
            wb.Put(entities_cf, storage::EntityKey(handle.tenant_id, handle.id(), source.row), buffer);
        }
        // Resolve edge targets against the final state (overlay, else committed data).
        if (source.edges_op == nullptr) {
            continue;
        }
        const ResolvedOp& op = *source.edges_op;
        for (std::size_t edge_idx = 0; edge_idx < op.normalized.edges.size(); ++edge_idx) {
            const Edge& edge = op.normalized.edges[edge_idx];
            const CollectionHandle& target = *op.edge_targets[edge_idx];
            const auto dest_it = pending.find(op.edge_target_keys[edge_idx]);
            if (dest_it == pending.end() || !dest_it->second.exists) {
                return Status::NotFound("edge " + std::to_string(edge_idx) + " ('" + edge.label +
                                        "'): target entity " + QuoteForMessage(edge.target_id) +
                                        " does not exist in collection '" +
                                        target.ref().ToString() + "'")
                    .WithContext(OpContext(source.last_op_idx, resolved.size(), op));
            }
            const storage::EdgeKey key{handle.tenant_id, handle.id(), source.row, edge.label,
                                       target.id(),      dest_it->second.row};
            wb.Put(out_cf, storage::EncodeEdgeKey(key),
                   storage::EncodeEdgeValue({edge.weight, edge.target_id, edge.properties}));
            wb.Put(in_cf, storage::EncodeEdgeKey(storage::MirrorEdgeKey(key)),
                   storage::EncodeEdgeValue(
                       {edge.weight, std::string(ExternalId(id_key)), edge.properties}));
        }
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
