// SPDX-License-Identifier: Apache-2.0
//
// Database::Verify — an fsck for one snapshot: every derived structure must agree with the
// entity records. Used by the crash tests after every recovery and by operators (`verify` in the
// shell). Verifier's (verifier.h); DatabaseImpl::Verify makes one and runs it.
//
// It reads each column family once, sequentially (no random lookups: on a store larger than the
// block cache those cost a block read each), keeping per entity a 16-byte key and an 8-byte hash
// of its external id in memory. Edge mirrors are compared as multisets through order-independent
// hashes of each edge's canonical form; only when those disagree does a second pass look up each
// edge's mirror to name the broken ones.
#include <cstring>
#include <unordered_map>

#include "common/coding.h"
#include "common/hex.h"
#include "document/filter.h"
#include "engine/metadata_index.h"
#include "engine/snapshot_guard.h"
#include "engine/validation.h"
#include "engine/verifier.h"
#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/keys.h"
#include "storage/payload_cipher.h"
#include "txn/read_view.h"

namespace phenix::engine {

namespace {

// Decrypts a stored payload (storage/payload_cipher.h) and decodes it with `decode`; the error
// of whichever step fails.
template <typename Decode>
auto OpenAndDecode(const storage::PayloadCipher& payloads, storage::PayloadKind kind,
                   std::string_view key, std::string_view value, std::string& plain, Decode decode)
    -> decltype(decode(value)) {
    auto opened = payloads.Open(kind, key, value, plain);
    if (!opened.ok()) {
        return opened.status();
    }
    return decode(*opened);
}

storage::PayloadKind EdgeKind(bool outgoing) {
    return outgoing ? storage::PayloadKind::kOutEdge : storage::PayloadKind::kInEdge;
}

constexpr std::size_t kMaxProblems = 20;

class Problems {
  public:
    void Add(std::string problem) {
        ++count_;
        if (list_.size() < kMaxProblems) {
            list_.push_back(std::move(problem));
        }
    }
    [[nodiscard]] std::size_t count() const { return count_; }
    [[nodiscard]] Status ToStatus() const {
        if (count_ == 0) {
            return Status::Ok();
        }
        std::string msg = std::to_string(count_) + " consistency problem(s) found";
        if (count_ > list_.size()) {
            msg += " (first " + std::to_string(list_.size()) + " listed)";
        }
        for (const auto& problem : list_) {
            msg += "\n  - " + problem;
        }
        return Status::Corruption(std::move(msg));
    }

  private:
    std::size_t count_ = 0;
    std::vector<std::string> list_;
};

// The first 48 bytes of a key, in hex: enough to find it, short enough for a problem line.
std::string Hex(std::string_view bytes) {
    return hex::Encode(bytes.substr(0, 48));
}

std::uint64_t HashOf(std::string_view bytes) {
    return std::hash<std::string_view>{}(bytes);
}

// (collection, row) of an entity.
struct RowRef {
    storage::CollectionId collection = 0;
    storage::RowId row = 0;
    friend bool operator==(const RowRef&, const RowRef&) = default;
};
struct RowRefHash {
    std::size_t operator()(const RowRef& r) const noexcept {
        return std::hash<std::uint64_t>{}(r.row * 0x9E3779B97F4A7C15ULL ^ r.collection);
    }
};
struct RowInfo {
    std::uint64_t id_hash = 0;
    bool indexed = false;  // some id maps to it
};

// An edge in canonical (source -> target) form, hashed with both ends' ids and its value.
std::uint64_t CanonicalEdgeHash(const RowRef& source, std::string_view label, const RowRef& target,
                                const storage::EdgeValue& value, std::uint64_t source_id_hash,
                                std::uint64_t target_id_hash) {
    std::string buf;
    coding::PutFixed32BE(buf, source.collection);
    coding::PutFixed64BE(buf, source.row);
    buf.append(label);
    buf.push_back('\0');
    coding::PutFixed32BE(buf, target.collection);
    coding::PutFixed64BE(buf, target.row);
    std::uint64_t weight_bits = 0;
    static_assert(sizeof weight_bits == sizeof value.weight);
    std::memcpy(&weight_bits, &value.weight, sizeof weight_bits);
    coding::PutFixed64BE(buf, weight_bits);
    coding::PutFixed64BE(buf, source_id_hash);
    coding::PutFixed64BE(buf, target_id_hash);
    buf.append(value.properties);
    return HashOf(buf);
}

}  // namespace

Status Verifier::Verify() {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    // Rows of dropped collections still being purged are expected leftovers, not problems.
    // Read before the snapshot: a purge that finishes later leaves its rows in our snapshot, and
    // one that finished earlier is fully visible in it.
    const auto purging = maintenance_->PendingPurges();
    SnapshotGuard snapshot(*oracle_);
    const txn::ReadView view(*store_, snapshot.ts());
    const storage::PayloadCipher& payloads = store_->payloads();
    std::string plain;
    Problems problems;
    auto purging_key = [&](std::string_view key) {
        return key.size() >= storage::kCollectionPrefixBytes &&
               purging.contains(coding::DecodeFixed32BE(key.data() + 4));
    };
    auto collection_of = [&](std::string_view key) -> std::shared_ptr<CollectionHandle> {
        if (key.size() < storage::kCollectionPrefixBytes) {
            return nullptr;
        }
        catalog_mu_.AssertSharedHeld();  // Verify holds it throughout
        auto handle = catalog_->FindById(coding::DecodeFixed32BE(key.data() + 4));
        if (handle && handle->tenant_id != coding::DecodeFixed32BE(key.data())) {
            return nullptr;
        }
        return handle;
    };

    // 1. Records: decodable, in a live collection, below the row allocator.
    std::unordered_map<RowRef, RowInfo, RowRefHash> rows;
    {
        auto it = view.NewIterator(storage::ColumnFamily::kEntities, "", "");
        for (; it->Valid(); it->Next()) {
            if (purging_key(it->key())) {
                continue;
            }
            auto handle = collection_of(it->key());
            if (!handle || it->key().size() != storage::kRowPrefixBytes) {
                problems.Add("entity key " + Hex(it->key()) + " belongs to no collection");
                continue;
            }
            const storage::RowId row = storage::RowFromEntityKey(it->key());
            auto record = OpenAndDecode(
                payloads, storage::PayloadKind::kEntity, it->key(), it->value(), plain,
                [](std::string_view v) { return storage::DecodeEntityRecord(v); });
            if (!record.ok()) {
                problems.Add("row " + std::to_string(row) + " of '" + handle->ref().ToString() +
                             "': " + record.status().message());
                continue;
            }
            if (row >= handle->next_row_id.load()) {
                problems.Add("record " + QuoteForMessage(record->external_id) + " in '" +
                             handle->ref().ToString() + "' uses row " + std::to_string(row) +
                             ", at or above the row allocator (" +
                             std::to_string(handle->next_row_id.load()) + ")");
            }
            rows[{handle->id(), row}] = RowInfo{HashOf(record->external_id), false};
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }

    // 2. Id index <-> records: every id maps to a record with that id; every record is mapped.
    std::map<storage::CollectionId, std::uint64_t> ids_per_collection;
    {
        auto it = view.NewIterator(storage::ColumnFamily::kIds, "", "");
        for (; it->Valid(); it->Next()) {
            if (purging_key(it->key())) {
                continue;
            }
            auto handle = collection_of(it->key());
            if (!handle) {
                problems.Add("id index key " + Hex(it->key()) + " belongs to no collection");
                continue;
            }
            const std::string_view ext = storage::ExternalIdFromIdKey(it->key());
            auto row = storage::DecodeCounter(it->value());
            if (!row.ok()) {
                problems.Add("id " + QuoteForMessage(ext) + " has an undecodable row");
                continue;
            }
            ++ids_per_collection[handle->id()];
            auto found = rows.find({handle->id(), *row});
            if (found == rows.end()) {
                problems.Add("id " + QuoteForMessage(ext) + " in '" + handle->ref().ToString() +
                             "' maps to row " + std::to_string(*row) +
                             ", which has no readable entity record");
            } else if (found->second.id_hash != HashOf(ext)) {
                problems.Add("id " + QuoteForMessage(ext) + " in '" + handle->ref().ToString() +
                             "' maps to row " + std::to_string(*row) +
                             ", whose record has another id");
            } else if (found->second.indexed) {
                problems.Add("row " + std::to_string(*row) + " of '" + handle->ref().ToString() +
                             "' is mapped by two ids");
            } else {
                found->second.indexed = true;
            }
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }
    for (const auto& [ref, info] : rows) {
        if (!info.indexed) {
            auto handle = catalog_->FindById(ref.collection);
            problems.Add("record at row " + std::to_string(ref.row) + " of '" +
                         (handle ? handle->ref().ToString() : "?") +
                         "' is not in the id index (orphan record)");
        }
    }

    // 3. Edges: both ends exist and carry the ids the edge names; out- and in-edges are mirror
    // images (compared as multisets of canonical edges).
    std::uint64_t edge_sums[2] = {0, 0};
    std::uint64_t edge_xors[2] = {0, 0};
    std::uint64_t edge_counts[2] = {0, 0};
    for (const bool outgoing : {true, false}) {
        const auto family =
            outgoing ? storage::ColumnFamily::kOutEdges : storage::ColumnFamily::kInEdges;
        const char* name = outgoing ? "out-edge" : "in-edge";
        auto it = view.NewIterator(family, "", "");
        for (; it->Valid(); it->Next()) {
            if (purging_key(it->key())) {
                continue;
            }
            storage::EdgeKey key;
            auto value =
                OpenAndDecode(payloads, EdgeKind(outgoing), it->key(), it->value(), plain,
                              [](std::string_view v) { return storage::DecodeEdgeValue(v); });
            if (!storage::DecodeEdgeKey(it->key(), key) || !value.ok()) {
                problems.Add(std::string("undecodable ") + name + " " + Hex(it->key()));
                continue;
            }
            const RowRef self{key.collection, key.row};
            const RowRef far{key.other_collection, key.other_row};
            auto self_row = rows.find(self);
            auto far_row = rows.find(far);
            auto handle = catalog_->FindById(key.collection);
            const std::string label = "'" + key.label + "' " + name + " of row " +
                                      std::to_string(key.row) + " in '" +
                                      (handle ? handle->ref().ToString() : "?") + "'";
            if (self_row == rows.end() || far_row == rows.end()) {
                problems.Add(label + " dangles: an endpoint entity does not exist");
                continue;
            }
            if (far_row->second.id_hash != HashOf(value->other_external_id)) {
                problems.Add(label + " names its other end " +
                             QuoteForMessage(value->other_external_id) +
                             ", which is not the id of that row");
            }
            const std::uint64_t h =
                outgoing ? CanonicalEdgeHash(self, key.label, far, *value, self_row->second.id_hash,
                                             far_row->second.id_hash)
                         : CanonicalEdgeHash(far, key.label, self, *value, far_row->second.id_hash,
                                             self_row->second.id_hash);
            const int side = outgoing ? 0 : 1;
            edge_sums[side] += h;
            edge_xors[side] ^= h * 0xff51afd7ed558ccdULL;
            ++edge_counts[side];
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }
    if (edge_sums[0] != edge_sums[1] || edge_xors[0] != edge_xors[1] ||
        edge_counts[0] != edge_counts[1]) {
        problems.Add(std::to_string(edge_counts[0]) + " out-edges and " +
                     std::to_string(edge_counts[1]) + " in-edges are not mirror images");
        // Name the unmatched ones (slow: one lookup per edge), up to the problem limit.
        for (const bool outgoing : {true, false}) {
            const auto family =
                outgoing ? storage::ColumnFamily::kOutEdges : storage::ColumnFamily::kInEdges;
            const auto mirror_family =
                outgoing ? storage::ColumnFamily::kInEdges : storage::ColumnFamily::kOutEdges;
            auto it = view.NewIterator(family, "", "");
            for (; it->Valid() && problems.count() < kMaxProblems; it->Next()) {
                storage::EdgeKey key;
                auto value =
                    OpenAndDecode(payloads, EdgeKind(outgoing), it->key(), it->value(), plain,
                                  [](std::string_view v) { return storage::DecodeEdgeValue(v); });
                if (purging_key(it->key()) || !storage::DecodeEdgeKey(it->key(), key) ||
                    !value.ok()) {
                    continue;
                }
                const std::string mirror_key = storage::EncodeEdgeKey(storage::MirrorEdgeKey(key));
                PHENIX_ASSIGN_OR_RETURN(auto mirror, view.Get(mirror_family, mirror_key));
                auto mirror_value =
                    mirror ? OpenAndDecode(
                                 payloads, EdgeKind(!outgoing), mirror_key, *mirror, plain,
                                 [](std::string_view v) { return storage::DecodeEdgeValue(v); })
                           : Result<storage::EdgeValue>(storage::EdgeValue{});
                if (!mirror || !mirror_value.ok() || mirror_value->weight != value->weight ||
                    mirror_value->properties != value->properties) {
                    problems.Add(std::string("'") + key.label + "' " +
                                 (outgoing ? "out-edge" : "in-edge") + " of row " +
                                 std::to_string(key.row) + " (" + Hex(it->key()) +
                                 ") has no matching mirror entry");
                }
            }
            PHENIX_RETURN_IF_ERROR(it->status());
        }
    }

    // 4. Metadata indexes usable at the snapshot hold exactly the entries of the records (as
    // order-independent multiset hashes of the entry keys). Building indexes are partial by
    // design, and entries of dropped indexes are unreachable leftovers; neither is checked.
    for (const auto& tenant : catalog_->TenantNames()) {
        PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
        for (const auto& handle : handles) {
            std::vector<std::shared_ptr<MetadataIndex>> checked;
            for (const auto& index : *handle->metadata_indexes) {
                if (index->UsableAt(snapshot.ts())) {
                    checked.push_back(index);
                }
            }
            if (checked.empty()) {
                continue;
            }
            std::vector<std::string> prefixes;
            for (const auto& index : checked) {
                prefixes.push_back(
                    storage::MetaIndexPrefix(handle->tenant_id, handle->id(), index->id));
            }
            std::vector<std::uint64_t> expected_hash(checked.size(), 0);
            std::vector<std::uint64_t> expected_count(checked.size(), 0);
            const std::string prefix = storage::CollectionPrefix(handle->tenant_id, handle->id());
            auto it = view.NewIterator(storage::ColumnFamily::kEntities, prefix,
                                       storage::PrefixSuccessor(prefix));
            std::vector<std::string> values;
            std::string key;
            for (; it->Valid(); it->Next()) {
                const storage::RowId row = storage::RowFromEntityKey(it->key());
                auto metadata = OpenAndDecode(
                    payloads, storage::PayloadKind::kEntity, it->key(), it->value(), plain,
                    [](std::string_view v) { return storage::DecodeEntityRecordMetadata(v); });
                if (!metadata.ok()) {
                    continue;  // reported in step 1
                }
                auto doc = document::Document::Parse(*metadata);
                if (!doc.ok()) {
                    problems.Add("row " + std::to_string(row) + " of '" + handle->ref().ToString() +
                                 "' has unparsable metadata");
                    continue;
                }
                for (std::size_t idx = 0; idx < checked.size(); ++idx) {
                    IndexValuesOf(*doc, checked[idx]->path, &values);
                    for (const std::string& value : values) {
                        key = prefixes[idx];
                        key += value;
                        coding::PutFixed64BE(key, row);
                        expected_hash[idx] += HashOf(key);
                        ++expected_count[idx];
                    }
                }
            }
            PHENIX_RETURN_IF_ERROR(it->status());
            for (std::size_t idx = 0; idx < checked.size(); ++idx) {
                std::uint64_t hash = 0;
                std::uint64_t count = 0;
                auto entries = view.NewIterator(storage::ColumnFamily::kMetaIndex, prefixes[idx],
                                                storage::PrefixSuccessor(prefixes[idx]));
                for (; entries->Valid(); entries->Next()) {
                    hash += HashOf(entries->key());
                    ++count;
                }
                PHENIX_RETURN_IF_ERROR(entries->status());
                if (hash != expected_hash[idx] || count != expected_count[idx]) {
                    problems.Add("the index on '" + checked[idx]->path_text + "' of '" +
                                 handle->ref().ToString() + "' holds " + std::to_string(count) +
                                 " entries where the records give " +
                                 std::to_string(expected_count[idx]) +
                                 (count == expected_count[idx] ? " different ones" : "") +
                                 "; drop and recreate it");
                }
            }
        }
    }

    // 5b. Vector indexes: at the snapshot, every row with a vector is searchable with exactly
    // that vector (in the graph or the tail), and nothing else is.
    for (const auto& tenant : catalog_->TenantNames()) {
        PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
        for (const auto& handle : handles) {
            auto index = FindVectorIndex(handle->id());
            if (!handle->record.dimension) {
                continue;
            }
            if (!index) {
                problems.Add("collection '" + handle->ref().ToString() +
                             "' has vectors but no vector index");
                continue;
            }
            const std::string prefix = storage::CollectionPrefix(handle->tenant_id, handle->id());
            auto it = view.NewIterator(storage::ColumnFamily::kEntities, prefix,
                                       storage::PrefixSuccessor(prefix));
            Status read_error;
            index->Verify(
                snapshot.ts(),
                [&](storage::RowId& row, std::vector<float>& vector) {
                    for (; it->Valid(); it->Next()) {
                        row = storage::RowFromEntityKey(it->key());
                        auto record = payloads.Open(storage::PayloadKind::kEntity, it->key(),
                                                    it->value(), plain);
                        if (!record.ok() ||
                            !storage::DecodeEntityRecordVector(*record, vector).ok() ||
                            vector.empty()) {
                            continue;  // undecodable records are reported by step 1
                        }
                        it->Next();
                        return true;
                    }
                    read_error = it->status();
                    return false;
                },
                [&](std::string problem) { problems.Add(std::move(problem)); });
            PHENIX_RETURN_IF_ERROR(read_error);
        }
    }

    // 5. Entity counts (unversioned, kept by every commit): exact only while no commit landed
    // after the snapshot, so compared only then.
    if (oracle_->visible() == snapshot.ts()) {
        for (const auto& tenant : catalog_->TenantNames()) {
            PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
            for (const auto& handle : handles) {
                PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, DescribeLocked(*handle));
                const std::uint64_t actual = ids_per_collection[handle->id()];
                if (info.num_entities != actual) {
                    problems.Add("collection '" + handle->ref().ToString() + "' counts " +
                                 std::to_string(info.num_entities) + " entities but holds " +
                                 std::to_string(actual));
                }
            }
        }
    }
    return problems.ToStatus();
}

}  // namespace phenix::engine
