// SPDX-License-Identifier: Apache-2.0
//
// The write path: validate a WriteBatch, lock the entity keys it decides on, read their
// state with one MultiGet, replay the operations over an in-memory overlay, resolve edge targets
// against the resulting state, and emit the key/value changes.
//
// Autocommit (txn == nullptr): reads the latest committed state under the key locks and commits
// the changes as one RocksDB batch at a fresh commit timestamp.
// Inside a transaction: reads the transaction's snapshot plus its own writes (no locks: nothing
// is written yet) and merges the changes into the transaction's WriteSet; Commit writes them.
//
// Deletes are emitted before puts so that a key removed for an old state and re-added for the
// new one (e.g. an upsert that keeps an edge) ends up present. A repeated (label, target) edge
// of one source is written twice; the later Put wins inside the RocksDB batch.
//
// This is the ingest hot path (see docs/benchmarks.md): vectors are borrowed from the batch,
// never copied, error messages are built only on failure, and the RocksDB batch is pre-sized.
#include <algorithm>
#include <span>
#include <unordered_map>

#include <rocksdb/write_batch.h>

#include <phenix/limits.h>

#include "common/coding.h"
#include "common/commit_timing.h"
#include "document/json.h"
#include "engine/database_impl.h"
#include "engine/validation.h"
#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

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
        case WriteBatch::OpType::kReplaceEdges:
            return "replace edges of";
    }
    return "write";
}

struct PendingEntity;

// From this many named lock stripes on, ApplyBatchLocked sorts them through a bitmap (fewer: the
// lock table's sort is cheaper than a pass over every stripe).
constexpr std::size_t kStripeBitmapMin = 4096;

// One operation after resolution and validation. Borrows the batch's Op; the catalog lock held
// for the whole write keeps the collection handles alive.
struct ResolvedOp {
    const WriteBatch::Op* op = nullptr;
    CollectionHandle* handle = nullptr;
    std::string id_key;           // ids column family key of the entity
    NormalizedEntity normalized;  // insert/upsert: metadata and edges; replace: what it replaces
    std::vector<CollectionHandle*> edge_targets;  // parallel to normalized.edges
    std::vector<std::string> edge_target_keys;    // ids keys of the targets
    // The state of the entity and of the edge targets in the current attempt (step 3 on).
    PendingEntity* entity = nullptr;
    std::vector<PendingEntity*> edge_target_entities;  // parallel to edge_target_keys
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
    std::span<const float> vector;     // borrowed from an op, or from loaded_vector
    std::vector<float> loaded_vector;  // owned copy when read from storage
    std::string metadata;
    // Out-edges, when an insert/upsert/replace-edges replaced them.
    const ResolvedOp* edges_op = nullptr;
    std::size_t last_op_idx = 0;
    bool is_written = false;  // an operation's own entity, not only an edge target
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

std::string_view ExternalId(std::string_view id_key) {
    return storage::ExternalIdFromIdKey(id_key);
}

// Buffers the changes of one autocommit write, then appends them to the RocksDB batch sorted by
// (column family, key). RocksDB's memtable inserts keys that arrive in ascending order far faster
// than keys in random order (it starts from the previous insert's position in the skiplist; the
// column families' insert hint, storage/store.cc, lets it do so across gaps), and a bulk load's
// in-edge keys are filed under their targets' rows, which are random (measured on the medium
// kit's graph: memtable inserts 35% of the load's CPU unsorted, 15% sorted with the hint). The
// changes of one key keep their order (a deletion followed by a put of the same key is still a
// put), which is all that RocksDB's result and the batch readers (batch_changes.h) depend on.
class SortedBatchSink final : public txn::WriteSink {
  public:
    void Put(ColumnFamily cf, std::string_view key, std::string_view value) override {
        Add(cf, key, value, /*is_put=*/true);
    }
    void Delete(ColumnFamily cf, std::string_view key) override {
        Add(cf, key, {}, /*is_put=*/false);
    }

    void Reset(std::size_t expected_bytes) {
        bytes_.clear();
        bytes_.reserve(expected_bytes);
        entries_.clear();
    }

    void AppendTo(const storage::Store& store, rocksdb::WriteBatch& wb) {
        auto key_of = [this](const Entry& entry) {
            return std::string_view(bytes_.data() + entry.offset, entry.key_size);
        };
        // Ties broken by arrival (offsets grow with it): a total order, so the cheaper unstable
        // sort keeps the changes of one key in order.
        auto less = [&](const Entry& a, const Entry& b) {
            if (a.cf != b.cf) {
                return a.cf < b.cf;
            }
            const int order = key_of(a).compare(key_of(b));
            return order != 0 ? order < 0 : a.offset < b.offset;
        };
        if (!std::is_sorted(entries_.begin(), entries_.end(), less)) {
            std::sort(entries_.begin(), entries_.end(), less);
        }
        for (const Entry& entry : entries_) {
            const rocksdb::Slice key(bytes_.data() + entry.offset, entry.key_size);
            if (entry.is_put) {
                wb.Put(store.cf(entry.cf), key,
                       rocksdb::Slice(bytes_.data() + entry.offset + entry.key_size,
                                      entry.value_size));
            } else {
                wb.Delete(store.cf(entry.cf), key);
            }
        }
    }

  private:
    struct Entry {
        std::size_t offset;  // of the key in bytes_; the value follows it
        std::uint32_t key_size;
        std::uint32_t value_size;
        ColumnFamily cf;
        bool is_put;
    };

    void Add(ColumnFamily cf, std::string_view key, std::string_view value, bool is_put) {
        entries_.push_back({.offset = bytes_.size(),
                            .key_size = static_cast<std::uint32_t>(key.size()),
                            .value_size = static_cast<std::uint32_t>(value.size()),
                            .cf = cf,
                            .is_put = is_put});
        bytes_.append(key);
        bytes_.append(value);
    }

    std::string bytes_;
    std::vector<Entry> entries_;
};

}  // namespace

Status DatabaseImpl::ApplyBatchLocked(const WriteBatch& batch, TxnState* txn) {
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
    std::size_t num_keys = ops.size();  // entities and edge targets, an upper bound
    const CollectionRef* last_ref = nullptr;
    CollectionHandle* last_handle = nullptr;
    auto resolve = [&](const CollectionRef& ref) -> Result<CollectionHandle*> {
        catalog_mu_.AssertSharedHeld();  // ApplyBatchLocked's
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
                case WriteBatch::OpType::kUpsert:
                case WriteBatch::OpType::kReplaceEdges: {
                    // kReplaceEdges carries only an id and edges: its empty vector and "{}"
                    // metadata validate trivially and are not applied.
                    auto normalized = ValidateEntity(op.entity, r.handle->tenant_name,
                                                     record.dimension, record.metric);
                    if (!normalized.ok()) {
                        s = normalized.status();
                        break;
                    }
                    r.normalized = std::move(*normalized);
                    for (std::size_t edge_idx = 0; edge_idx < r.normalized.edges.size();
                         ++edge_idx) {
                        const Edge& edge = r.normalized.edges[edge_idx];
                        CollectionHandle* target = r.handle;
                        if (!edge.target_collection.empty() &&
                            edge.target_collection != r.handle->name) {
                            auto found =
                                catalog_->Resolve({r.handle->tenant_name, edge.target_collection});
                            if (!found.ok()) {
                                s = found.status().WithContext("edge " + std::to_string(edge_idx));
                                break;
                            }
                            target = found->get();
                        }
                        stripes.push_back(LockTable::StripeOf(target->id(), edge.target_id));
                        ++num_keys;
                        r.edge_targets.push_back(target);
                        r.edge_target_keys.push_back(
                            storage::IdKey(target->tenant_id, target->id(), edge.target_id));
                        estimated_bytes += 2 * (64 + edge.label.size() + edge.target_id.size() +
                                                op.entity.id.size() + edge.properties.size());
                    }
                    estimated_bytes +=
                        op.entity.vector.size() * sizeof(float) + r.normalized.metadata.size();
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
    if (stripes.size() > kStripeBitmapMin) {
        // A bulk batch names a stripe per edge target (~60k for a batch of a load's late edges)
        // out of LockTable::kNumStripes: made sorted and unique in one pass over a bitmap, the
        // lock table's sort and the sorts of `held` below have little left to do.
        std::vector<bool> named(LockTable::kNumStripes);
        for (std::size_t stripe : stripes) {
            named[stripe] = true;
        }
        stripes.clear();
        for (std::size_t stripe = 0; stripe < named.size(); ++stripe) {
            if (named[stripe]) {
                stripes.push_back(stripe);
            }
        }
    }

    // An autocommit write of a traced request reports its commit's phases
    // (common/commit_timing.h); declared before the guard, so it reports after the unlock.
    std::optional<CommitRecorder> recorder;

    // 2. Autocommit: lock every entity key whose state decides the outcome, and read the latest
    // committed state. A transaction reads its snapshot and its own writes.
    //
    // Every RocksDB key a commit writes must be covered by a lock it holds, or two commits could
    // write the same key in the opposite order of their timestamps, which RocksDB's compaction
    // refuses (an assertion in Debian's 7.8) once the versions fall below the history floor.
    // Deleting an entity's edges also deletes each edge's mirror under the other end, which is
    // found only by reading; those ends' stripes come back in `extra_stripes`. If they are not
    // all held, the attempt is discarded and repeated holding them too (all-or-nothing locking,
    // so no deadlock; it converges once the edge set stops changing).
    std::optional<LockTable::Guard> guard;
    std::vector<std::size_t> held = stripes;
    std::optional<txn::ReadView> view_holder;
    rocksdb::WriteBatch wb = storage::Store::NewBatch();
    txn::WriteSet delta;         // transaction only
    SortedBatchSink batch_sink;  // autocommit only
    txn::WriteEffects autocommit_effects;
    std::vector<std::size_t> extra_stripes;
    if (txn == nullptr) {
        view_holder.emplace(*store_, storage::kLatestTimestamp);
    } else {
        view_holder.emplace(*store_, txn->read_ts, &txn->writes);
    }
    const txn::ReadView& view = *view_holder;
    txn::WriteEffects& effects = txn ? delta.effects : autocommit_effects;

    auto attempt = [&]() -> Status {
        catalog_mu_.AssertSharedHeld();  // ApplyBatchLocked's
        txn::WriteSink* sink = &delta;
        if (txn == nullptr) {
            batch_sink.Reset(estimated_bytes + 1024);
            sink = &batch_sink;
            autocommit_effects = txn::WriteEffects();
        }
        extra_stripes.clear();
        // 3. Read the state of every touched entity (and edge target) with one MultiGet.
        // Keys borrow the ids-key strings owned by `resolved` (not resized after step 1).
        // The map's values never move (node-based), so each operation keeps pointers to its
        // entity's and its edge targets' entries instead of looking them up again.
        std::unordered_map<std::string_view, PendingEntity> pending;
        pending.reserve(num_keys);
        // In first-touch order (the order writes are emitted in; the sink sorts them anyway).
        std::vector<std::pair<std::string_view, PendingEntity*>> touched;
        touched.reserve(num_keys);
        auto add_key = [&](const std::string& key, CollectionHandle* handle,
                           bool is_written) -> PendingEntity* {
            auto [it, inserted] = pending.try_emplace(key);
            if (inserted) {
                it->second.handle = handle;
                touched.emplace_back(it->first, &it->second);
            }
            it->second.is_written = it->second.is_written || is_written;
            return &it->second;
        };
        for (ResolvedOp& r : resolved) {
            r.entity = add_key(r.id_key, r.handle, /*is_written=*/true);
            r.edge_target_entities.resize(r.edge_target_keys.size());
            for (std::size_t edge_idx = 0; edge_idx < r.edge_target_keys.size(); ++edge_idx) {
                r.edge_target_entities[edge_idx] = add_key(
                    r.edge_target_keys[edge_idx], r.edge_targets[edge_idx], /*is_written=*/false);
            }
            if (txn != nullptr) {
                txn->collections.try_emplace(r.handle->id(), catalog_->FindById(r.handle->id()));
                for (CollectionHandle* target : r.edge_targets) {
                    txn->collections.try_emplace(target->id(), catalog_->FindById(target->id()));
                }
            }
        }
        {
            // The touched keys in key order: read with one MultiGet (which would sort them
            // otherwise), and recorded for the commit's conflict keys, each at the end of the
            // (empty) map instead of searching it. (A batch of a bulk load's late edges touches
            // ~50k keys that share their first bytes; inserting them into the map in arrival
            // order was ~5% of its CPU.)
            std::vector<std::pair<std::string_view, PendingEntity*>> by_key = touched;
            std::sort(by_key.begin(), by_key.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            std::vector<std::string_view> lookup_keys;
            lookup_keys.reserve(by_key.size());
            effects.touched.clear();
            for (const auto& [key, entity] : by_key) {
                lookup_keys.push_back(key);
                effects.touched.emplace_hint(effects.touched.end(), key, entity->is_written);
            }
            PHENIX_ASSIGN_OR_RETURN(auto values, view.MultiGet(ColumnFamily::kIds, lookup_keys));
            for (std::size_t idx = 0; idx < lookup_keys.size(); ++idx) {
                PendingEntity& entity = *by_key[idx].second;
                if (!values[idx]) {
                    continue;
                }
                PHENIX_ASSIGN_OR_RETURN(RowId row, storage::DecodeCounter(*values[idx]));
                entity.db_exists = entity.exists = true;
                entity.db_row = entity.row = row;
            }
        }

        // 4. Replay the operations over the overlay.
        auto& count_delta = effects.count_delta;
        auto& max_row = effects.max_row;
        auto allocate_row = [&](CollectionHandle& handle) {
            RowId row = handle.next_row_id.fetch_add(1);
            RowId& high = max_row[handle.id()];
            high = std::max(high, row);
            return row;
        };
        for (std::size_t op_idx = 0; op_idx < resolved.size(); ++op_idx) {
            ResolvedOp& r = resolved[op_idx];
            PendingEntity& entity = *r.entity;
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
                    entity.metadata = r.normalized.metadata;  // copied: the attempt may be repeated
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
                                                ReadRecord(*r.handle, entity.row, view));
                        entity.loaded_vector = std::move(stored.vector);
                        entity.vector = entity.loaded_vector;
                        entity.metadata = std::move(stored.metadata);
                        entity.content_loaded = true;
                    }
                    if (r.op->type == WriteBatch::OpType::kReplaceMetadata) {
                        entity.metadata = r.normalized.metadata;
                    } else {
                        auto patched = document::ApplyMergePatch(
                            entity.metadata, r.op->entity.metadata, limits::kMaxMetadataBytes);
                        if (!patched.ok()) {
                            return patched.status().WithContext(
                                OpContext(op_idx, resolved.size(), r));
                        }
                        entity.metadata = std::move(*patched);
                    }
                    entity.record_dirty = true;
                    break;
                }
                case WriteBatch::OpType::kReplaceEdges: {
                    if (!entity.exists) {
                        return Status::NotFound("entity " + QuoteForMessage(r.op->entity.id) +
                                                " does not exist")
                            .WithContext(OpContext(op_idx, resolved.size(), r));
                    }
                    // Only the edges change: the record (vector, metadata) is not rewritten, so
                    // the vector index and metadata indexes see no change for this entity.
                    entity.edges_op = &r;
                    break;
                }
            }
        }

        // 5. Emit the changes: deletions of old state first, then the new state.
        const ColumnFamily entities_cf = ColumnFamily::kEntities;
        const storage::PayloadCipher& payloads = store_->payloads();
        const ColumnFamily ids_cf = ColumnFamily::kIds;
        const ColumnFamily out_cf = ColumnFamily::kOutEdges;
        const ColumnFamily in_cf = ColumnFamily::kInEdges;

        // Deletes every edge filed under (entity, row) in one edge family and its mirror in the
        // other. One seekable iterator per family serves every entity of the attempt: a new
        // storage iterator per entity was 4-5% of a bulk load's late-edge pass (a ReplaceEdges
        // per entity, nearly all with no edges yet). The sink is not the view's overlay, so the
        // deletions below do not disturb it.
        std::unique_ptr<txn::ReadView::Iterator> edge_iterators[2];
        std::vector<std::string> doomed;
        auto delete_edges = [&](const CollectionHandle& handle, RowId row,
                                bool outgoing) -> Status {
            const std::string prefix = storage::EdgeRowPrefix(handle.tenant_id, handle.id(), row);
            const std::string end = storage::PrefixSuccessor(prefix);
            const ColumnFamily family = outgoing ? out_cf : in_cf;
            const ColumnFamily mirror_family = outgoing ? in_cf : out_cf;
            auto& it = edge_iterators[outgoing ? 0 : 1];
            if (it == nullptr) {
                it = view.NewSeekableIterator(family);
            }
            it->Seek(prefix, end);
            doomed.clear();
            std::string plain;
            for (; it->Valid(); it->Next()) {
                storage::EdgeKey key;
                PHENIX_ASSIGN_OR_RETURN(std::string_view stored,
                                        payloads.Open(outgoing ? storage::PayloadKind::kOutEdge
                                                               : storage::PayloadKind::kInEdge,
                                                      it->key(), it->value(), plain));
                auto value = storage::DecodeEdgeValue(stored);
                if (!storage::DecodeEdgeKey(it->key(), key) || !value.ok()) {
                    return Status::Corruption("malformed edge in collection '" +
                                              handle.ref().ToString() + "'");
                }
                // The mirror lives under the other end: lock it too (see the comment at step 2).
                extra_stripes.push_back(
                    LockTable::StripeOf(key.other_collection, value->other_external_id));
                // Collected first: deleting from the overlay while iterating it would invalidate
                // the iterator.
                doomed.emplace_back(it->key());
                doomed.push_back(storage::EncodeEdgeKey(storage::MirrorEdgeKey(key)));
            }
            PHENIX_RETURN_IF_ERROR(it->status().WithContext("reading edges to replace"));
            for (std::size_t idx = 0; idx < doomed.size(); idx += 2) {
                sink->Delete(family, doomed[idx]);
                sink->Delete(mirror_family, doomed[idx + 1]);
            }
            return Status::Ok();
        };

        for (auto [id_key, entity_ptr] : touched) {
            PendingEntity& entity = *entity_ptr;
            const CollectionHandle& handle = *entity.handle;
            const bool row_gone =
                entity.db_exists && (!entity.exists || entity.row != entity.db_row);
            if (row_gone) {
                sink->Delete(entities_cf,
                             storage::EntityKey(handle.tenant_id, handle.id(), entity.db_row));
                if (!entity.exists) {
                    sink->Delete(ids_cf, id_key);
                }
                PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
                PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/false));
                count_delta[handle.id()] -= 1;
            } else if (entity.db_exists && entity.exists && entity.edges_op != nullptr) {
                PHENIX_RETURN_IF_ERROR(delete_edges(handle, entity.db_row, /*outgoing=*/true));
            }
        }

        std::string buffer;
        std::string edge_key;
        std::string edge_value;
        std::string entity_key;
        std::string seal_scratch;
        for (auto [id_key, source_ptr] : touched) {
            PendingEntity& source = *source_ptr;
            if (!source.exists) {
                continue;
            }
            const CollectionHandle& handle = *source.handle;
            if (!source.db_exists || source.row != source.db_row) {
                sink->Put(ids_cf, id_key, storage::EncodeCounter(source.row));
                count_delta[handle.id()] += 1;
            }
            if (source.record_dirty) {
                storage::EncodeEntityRecord(ExternalId(id_key), source.vector, source.metadata,
                                            buffer);
                entity_key = storage::EntityKey(handle.tenant_id, handle.id(), source.row);
                PHENIX_RETURN_IF_ERROR(
                    payloads.Seal(storage::PayloadKind::kEntity, entity_key, buffer, seal_scratch));
                sink->Put(entities_cf, entity_key, buffer);
            }
            // Resolve edge targets against the final state (overlay, else committed data).
            if (source.edges_op == nullptr) {
                continue;
            }
            const ResolvedOp& op = *source.edges_op;
            for (std::size_t edge_idx = 0; edge_idx < op.normalized.edges.size(); ++edge_idx) {
                const Edge& edge = op.normalized.edges[edge_idx];
                const CollectionHandle& target = *op.edge_targets[edge_idx];
                const PendingEntity& dest = *op.edge_target_entities[edge_idx];
                if (!dest.exists) {
                    return Status::NotFound(
                               "edge " + std::to_string(edge_idx) + " ('" + edge.label +
                               "'): target entity " + QuoteForMessage(edge.target_id) +
                               " does not exist in collection '" + target.ref().ToString() + "'")
                        .WithContext(OpContext(source.last_op_idx, resolved.size(), op));
                }
                const RowId target_row = dest.row;
                edge_key.clear();
                storage::AppendEdgeKey(edge_key, handle.tenant_id, handle.id(), source.row,
                                       edge.label, target.id(), target_row);
                edge_value.clear();
                storage::AppendEdgeValue(edge_value, edge.weight, edge.target_id, edge.properties);
                PHENIX_RETURN_IF_ERROR(payloads.Seal(storage::PayloadKind::kOutEdge, edge_key,
                                                     edge_value, seal_scratch));
                sink->Put(out_cf, edge_key, edge_value);
                // The mirror (storage::MirrorEdgeKey), filed under the target.
                edge_key.clear();
                storage::AppendEdgeKey(edge_key, handle.tenant_id, target.id(), target_row,
                                       edge.label, handle.id(), source.row);
                edge_value.clear();
                storage::AppendEdgeValue(edge_value, edge.weight, ExternalId(id_key),
                                         edge.properties);
                PHENIX_RETURN_IF_ERROR(payloads.Seal(storage::PayloadKind::kInEdge, edge_key,
                                                     edge_value, seal_scratch));
                sink->Put(in_cf, edge_key, edge_value);
            }
        }
        return Status::Ok();
    };

    if (txn != nullptr) {
        PHENIX_RETURN_IF_ERROR(attempt());
        delta.effects.extra_stripes = std::move(extra_stripes);
    } else {
        recorder.emplace();
        for (;;) {
            {
                const ScopedCommitPhase timed(&CommitTiming::lock_wait);
                guard.emplace(locks_.Lock(held));
            }
            PHENIX_RETURN_IF_ERROR(attempt());
            std::sort(held.begin(), held.end());
            std::vector<std::size_t> missing;
            for (std::size_t stripe : extra_stripes) {
                if (!std::binary_search(held.begin(), held.end(), stripe)) {
                    missing.push_back(stripe);
                }
            }
            if (missing.empty()) {
                break;
            }
            held.insert(held.end(), missing.begin(), missing.end());
            guard.reset();
        }
    }
    if (txn != nullptr) {
        txn->mu.AssertHeld();  // the caller's (TxnWrite)
        if (txn->writes.bytes() + delta.bytes() > options_.max_transaction_bytes) {
            return Status::ResourceExhausted(
                "the transaction would buffer " +
                std::to_string(txn->writes.bytes() + delta.bytes()) +
                " bytes of writes; the limit (Options::max_transaction_bytes) is " +
                std::to_string(options_.max_transaction_bytes) +
                "; this write was not applied: commit what you have and continue in a new "
                "transaction");
        }
        txn->writes.MergeFrom(std::move(delta));
        return Status::Ok();
    }
    wb = storage::Store::NewBatch(estimated_bytes + 1024);
    batch_sink.AppendTo(*store_, wb);
    effects.AppendCounters(*store_, wb);
    if (wb.GetDataSize() > limits::kMaxBatchBytes) {
        return Status::ResourceExhausted(
            "the batch encodes to " + std::to_string(wb.GetDataSize()) + " bytes; the limit is " +
            std::to_string(limits::kMaxBatchBytes) + "; split it into smaller batches");
    }
    return CommitLocked(wb, std::nullopt, effects).status();
}

}  // namespace phenix::engine
