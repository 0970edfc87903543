// SPDX-License-Identifier: Apache-2.0
//
// Database::Verify — an fsck for one snapshot: every derived structure must agree with the
// entity records. Used by the crash tests after every recovery and by operators
// (`\verify` in the shell).
#include <map>

#include "common/coding.h"
#include "engine/database_impl.h"
#include "engine/validation.h"
#include "storage/catalog_codec.h"

namespace phenix::engine {

namespace {

constexpr std::size_t kMaxProblems = 20;

class Problems {
  public:
    void Add(std::string problem) {
        ++count_;
        if (list_.size() < kMaxProblems) {
            list_.push_back(std::move(problem));
        }
    }
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

std::string Hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes.substr(0, 48)) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

}  // namespace

Status DatabaseImpl::Verify() {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    // Rows of dropped collections still being purged are expected leftovers, not problems.
    // Read before the snapshot: a purge that finishes later leaves its rows in our snapshot, and
    // one that finished earlier is fully visible in it.
    const auto purging = PendingPurges();
    SnapshotGuard snapshot(*oracle_);
    const txn::ReadView view(*store_, snapshot.ts());
    Problems problems;
    auto purging_key = [&](std::string_view key) {
        return key.size() >= storage::kCollectionPrefixBytes &&
               purging.contains(coding::DecodeFixed32BE(key.data() + 4));
    };

    auto collection_of = [&](std::string_view key) -> std::shared_ptr<CollectionHandle> {
        if (key.size() < storage::kCollectionPrefixBytes) {
            return nullptr;
        }
        auto handle = catalog_->FindById(coding::DecodeFixed32BE(key.data() + 4));
        if (handle && handle->tenant_id != coding::DecodeFixed32BE(key.data())) {
            return nullptr;
        }
        return handle;
    };
    // The record at (handle, row), or nullopt (absent or undecodable).
    auto record_at = [&](const CollectionHandle& handle,
                         storage::RowId row) -> Result<std::optional<storage::EntityRecord>> {
        PHENIX_ASSIGN_OR_RETURN(auto value,
                                view.Get(storage::ColumnFamily::kEntities,
                                         storage::EntityKey(handle.tenant_id, handle.id(), row)));
        if (!value) {
            return std::optional<storage::EntityRecord>();
        }
        auto record = storage::DecodeEntityRecord(*value);
        if (!record.ok()) {
            return std::optional<storage::EntityRecord>();
        }
        return std::optional<storage::EntityRecord>(std::move(*record));
    };

    // 1. id index -> records.
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
            if (*row >= handle->next_row_id.load()) {
                problems.Add("id " + QuoteForMessage(ext) + " in '" + handle->ref().ToString() +
                             "' uses row " + std::to_string(*row) +
                             ", at or above the row allocator (" +
                             std::to_string(handle->next_row_id.load()) + ")");
            }
            PHENIX_ASSIGN_OR_RETURN(auto record, record_at(*handle, *row));
            if (!record) {
                problems.Add("id " + QuoteForMessage(ext) + " in '" + handle->ref().ToString() +
                             "' maps to row " + std::to_string(*row) +
                             ", which has no readable entity record");
            } else if (record->external_id != ext) {
                problems.Add("id " + QuoteForMessage(ext) + " maps to a record of " +
                             QuoteForMessage(record->external_id));
            }
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }

    // 2. records -> id index.
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
            auto record = storage::DecodeEntityRecord(it->value());
            if (!record.ok()) {
                problems.Add("row " + std::to_string(row) + " of '" + handle->ref().ToString() +
                             "': " + record.status().message());
                continue;
            }
            PHENIX_ASSIGN_OR_RETURN(
                auto mapped,
                view.Get(storage::ColumnFamily::kIds,
                         storage::IdKey(handle->tenant_id, handle->id(), record->external_id)));
            auto mapped_row = mapped ? storage::DecodeCounter(*mapped) : Result<std::uint64_t>(0);
            if (!mapped || !mapped_row.ok() || *mapped_row != row) {
                problems.Add("record " + QuoteForMessage(record->external_id) + " at row " +
                             std::to_string(row) + " of '" + handle->ref().ToString() +
                             "' is not what the id index maps that id to (orphan record)");
            }
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }

    // 3. out-edges: endpoints exist, the mirror exists and agrees.
    for (const bool outgoing : {true, false}) {
        const auto family =
            outgoing ? storage::ColumnFamily::kOutEdges : storage::ColumnFamily::kInEdges;
        const auto mirror_family =
            outgoing ? storage::ColumnFamily::kInEdges : storage::ColumnFamily::kOutEdges;
        const char* name = outgoing ? "out-edge" : "in-edge";
        auto it = view.NewIterator(family, "", "");
        for (; it->Valid(); it->Next()) {
            if (purging_key(it->key())) {
                continue;
            }
            storage::EdgeKey key;
            auto value = storage::DecodeEdgeValue(it->value());
            if (!storage::DecodeEdgeKey(it->key(), key) || !value.ok()) {
                problems.Add(std::string("undecodable ") + name + " " + Hex(it->key()));
                continue;
            }
            auto handle = catalog_->FindById(key.collection);
            auto other = catalog_->FindById(key.other_collection);
            if (!handle || !other) {
                problems.Add(std::string(name) + " " + Hex(it->key()) +
                             " refers to a collection that does not exist");
                continue;
            }
            PHENIX_ASSIGN_OR_RETURN(auto self, record_at(*handle, key.row));
            PHENIX_ASSIGN_OR_RETURN(auto far, record_at(*other, key.other_row));
            const std::string label = "'" + key.label + "' " + name + " of row " +
                                      std::to_string(key.row) + " in '" +
                                      handle->ref().ToString() + "'";
            if (!self || !far) {
                problems.Add(label + " dangles: an endpoint entity does not exist");
                continue;
            }
            if (far->external_id != value->other_external_id) {
                problems.Add(label + " names its other end " +
                             QuoteForMessage(value->other_external_id) + " but that row holds " +
                             QuoteForMessage(far->external_id));
            }
            PHENIX_ASSIGN_OR_RETURN(
                auto mirror,
                view.Get(mirror_family, storage::EncodeEdgeKey(storage::MirrorEdgeKey(key))));
            auto mirror_value = mirror ? storage::DecodeEdgeValue(*mirror)
                                       : Result<storage::EdgeValue>(storage::EdgeValue{});
            if (!mirror || !mirror_value.ok()) {
                problems.Add(label + " has no mirror entry");
            } else if (mirror_value->weight != value->weight ||
                       mirror_value->properties != value->properties ||
                       mirror_value->other_external_id != self->external_id) {
                problems.Add(label + " disagrees with its mirror entry");
            }
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }

    // 4. Entity counts (unversioned, kept by every commit): exact only while no commit landed
    // after the snapshot, so compared only then.
    if (oracle_->visible() == snapshot.ts()) {
        for (const auto& tenant : catalog_->TenantNames()) {
            PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
            for (const auto& handle : handles) {
                PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, DescribeLocked(*handle));
                const std::uint64_t actual = ids_per_collection[handle->id()];
                if (info.num_entities != actual && oracle_->visible() == snapshot.ts()) {
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
