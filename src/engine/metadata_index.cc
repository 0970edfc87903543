// SPDX-License-Identifier: Apache-2.0
//
// Metadata indexes: definitions in the catalog, maintenance at commit, the online build, drop,
// and statistics. docs/metadata-indexes.md describes the behaviour; the reads are in
// filter_eval.cc.
//
// Maintenance happens in CommitLocked, on the final RocksDB batch of every commit: for each
// entity record the batch writes or deletes in a collection with indexes, the committed record
// it replaces is read (the commit holds the entity's lock, so that is the state it replaces) and
// the difference between the old and the new entries is added to the batch. Autocommit writes
// and transactions share the path, and a transaction that began before an index existed still
// maintains it when it commits after.
//
// Online build: the definition is published first (state building; from then on every commit
// maintains the index), then the existing rows are read at a snapshot taken after that and
// their entries written in chunks, each chunk as a small commit under the rows' entity locks
// from their latest state. Entries therefore never go back in time and never race a
// concurrent writer of the same row. When the build ends the index is ready for reads at or
// after the current timestamp.
//
// Drop wins: everything that writes an index's catalog state or entries after a long operation
// (a build's chunks and its "ready" record, a statistics refresh's record) checks first, under
// the catalog lock that DropIndex, CreateIndex and DropCollection take exclusively, that the very
// index object is still listed. A build overtaken by a drop (or by a drop and a re-create on the
// same path, a new object with a new id) stops with Aborted and writes nothing more.
#include "engine/metadata_index.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include <phenix/limits.h>

#include "common/coding.h"
#include "common/sync_point.h"
#include "document/value_key.h"
#include "engine/batch_changes.h"
#include "engine/filter_eval.h"
#include "engine/metadata_indexes.h"
#include "engine/snapshot_guard.h"
#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"
#include "txn/commit.h"

namespace phenix::engine {

using storage::ColumnFamily;
using storage::RowId;

void IndexValuesOf(const document::Document& doc, const document::JsonPath& path,
                   std::vector<std::string>* out) {
    out->clear();
    const document::Extracted extracted = doc.Extract(path);
    if (!extracted.exists) {
        return;
    }
    for (const document::Scalar& value : extracted.values) {
        out->push_back(document::EncodeScalarKey(value));
    }
    if (out->empty()) {
        out->push_back(std::string(1, kExistsMarker));
    }
    // Extract returns distinct values sorted by CompareScalars, which is the encoded order.
}

namespace {

constexpr std::size_t kBackfillChunkRows = 1024;

std::string EntryKey(const std::string& prefix, std::string_view value, RowId row) {
    std::string key;
    key.reserve(prefix.size() + value.size() + 8);
    key.append(prefix);
    key.append(value);
    coding::PutFixed64BE(key, row);
    return key;
}

// The index entries of a record's metadata for every index in `indexes`: one sorted vector
// of values per index. An unparsable record (never written by Phenix) indexes nothing.
void EntriesOf(const storage::PayloadCipher& payloads, std::string_view key,
               std::optional<std::string_view> stored, const MetadataIndexList& indexes,
               std::vector<std::vector<std::string>>* out) {
    out->assign(indexes.size(), {});
    if (!stored) {
        return;
    }
    std::string plain;
    auto record = payloads.Open(storage::PayloadKind::kEntity, key, *stored, plain);
    if (!record.ok()) {
        return;
    }
    auto metadata = storage::DecodeEntityRecordMetadata(*record);
    if (!metadata.ok()) {
        return;
    }
    auto doc = document::Document::Parse(*metadata);
    if (!doc.ok()) {
        return;
    }
    for (std::size_t idx = 0; idx < indexes.size(); ++idx) {
        IndexValuesOf(*doc, indexes[idx]->path, &(*out)[idx]);
    }
}

std::string IndexMessageName(const CollectionHandle& handle, std::string_view path) {
    return "index on '" + std::string(path) + "' of collection '" + handle.ref().ToString() + "'";
}

}  // namespace

MetadataIndexes::MetadataIndexes(storage::Store& store, txn::Oracle& oracle, LockTable& locks,
                                 SharedMutex& catalog_mu, const std::unique_ptr<Catalog>& catalog,
                                 Hooks hooks)
    : store_(&store),
      oracle_(&oracle),
      locks_(locks),
      catalog_mu_(catalog_mu),
      catalog_(catalog),
      hooks_(std::move(hooks)) {}

// ---------------------------------------------------------------- maintenance at commit

Result<IndexChangeCounts> MetadataIndexes::AppendIndexMaintenanceLocked(rocksdb::WriteBatch& wb) {
    if (num_metadata_indexes_.load(std::memory_order_acquire) == 0) {
        return IndexChangeCounts();  // the common case costs nothing
    }
    EntityChanges changes(store_->cf(ColumnFamily::kEntities)->GetID(),
                          [this](storage::CollectionId collection) {
                              catalog_mu_.AssertSharedHeld();  // called right here
                              auto handle = catalog_->FindById(collection);
                              return handle && !handle->metadata_indexes->empty();
                          });
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(wb.Iterate(&changes), "reading a batch"));
    if (changes.changes.empty()) {
        return IndexChangeCounts();
    }
    // The final value of each changed record (a batch may write one several times).
    std::map<std::string_view, std::optional<std::string_view>> last;
    for (const EntityChanges::Change& change : changes.changes) {
        last[change.key] = change.value;
    }
    std::vector<std::string_view> keys;
    keys.reserve(last.size());
    for (const auto& entry : last) {
        keys.push_back(entry.first);
    }
    const txn::ReadView latest(*store_, storage::kLatestTimestamp);
    PHENIX_ASSIGN_OR_RETURN(auto old_values, latest.MultiGet(ColumnFamily::kEntities, keys));

    // Entry changes are collected first: appending to `wb` would invalidate the views into it.
    std::vector<std::pair<std::string, bool>> entry_ops;  // (key, put)
    std::map<MetadataIndex*, std::int64_t> changed_rows;
    std::vector<std::vector<std::string>> old_entries;
    std::vector<std::vector<std::string>> new_entries;
    std::shared_ptr<CollectionHandle> handle;
    std::size_t idx = 0;
    for (const auto& [key, new_value] : last) {
        const std::optional<std::string>& old_value = old_values[idx++];
        if (old_value.has_value() == new_value.has_value() &&
            (!old_value || *old_value == *new_value)) {
            continue;
        }
        const auto collection = coding::DecodeFixed32BE(key.data() + 4);
        if (!handle || handle->id() != collection) {
            handle = catalog_->FindById(collection);  // live: the handler accepted it
        }
        const MetadataIndexList& indexes = *handle->metadata_indexes;
        EntriesOf(store_->payloads(), key,
                  old_value ? std::optional<std::string_view>(*old_value) : std::nullopt, indexes,
                  &old_entries);
        EntriesOf(store_->payloads(), key, new_value, indexes, &new_entries);
        const RowId row = storage::RowFromEntityKey(key);
        for (std::size_t index_idx = 0; index_idx < indexes.size(); ++index_idx) {
            const std::vector<std::string>& before = old_entries[index_idx];
            const std::vector<std::string>& after = new_entries[index_idx];
            if (before == after) {
                continue;
            }
            MetadataIndex& index = *indexes[index_idx];
            const std::string prefix =
                storage::MetaIndexPrefix(handle->tenant_id, handle->id(), index.id);
            // Both sorted: a merge walk emits the differences.
            std::size_t b = 0;
            std::size_t a = 0;
            while (b < before.size() || a < after.size()) {
                if (a == after.size() || (b < before.size() && before[b] < after[a])) {
                    entry_ops.emplace_back(EntryKey(prefix, before[b++], row), false);
                } else if (b == before.size() || after[a] < before[b]) {
                    entry_ops.emplace_back(EntryKey(prefix, after[a++], row), true);
                } else {
                    ++a;
                    ++b;
                }
            }
            ++changed_rows[&index];
        }
    }
    rocksdb::ColumnFamilyHandle* index_cf = store_->cf(ColumnFamily::kMetaIndex);
    for (const auto& [entry, put] : entry_ops) {
        if (put) {
            wb.Put(index_cf, entry, rocksdb::Slice());
        } else {
            wb.Delete(index_cf, entry);
        }
    }
    return IndexChangeCounts(changed_rows.begin(), changed_rows.end());
}

// ---------------------------------------------------------------- open

Status MetadataIndexes::LoadMetadataIndexes() {
    rocksdb::ReadOptions read_options;
    std::unique_ptr<rocksdb::Iterator> it(
        store_->db()->NewIterator(read_options, store_->cf(ColumnFamily::kCatalog)));
    const std::string prefix(storage::kMetadataIndexPrefix);
    std::map<storage::CollectionId, MetadataIndexList> found;
    std::vector<std::string> orphans;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const std::string_view key(it->key().data(), it->key().size());
        if (key.size() < prefix.size() + 4) {
            return Status::Corruption("malformed metadata index key in the catalog");
        }
        const auto collection = coding::DecodeFixed32BE(key.data() + prefix.size());
        const std::string_view path_text = key.substr(prefix.size() + 4);
        PHENIX_ASSIGN_OR_RETURN(storage::MetadataIndexRecord record,
                                storage::DecodeMetadataIndexRecord(
                                    std::string_view(it->value().data(), it->value().size())));
        if (!catalog_->FindById(collection)) {
            orphans.emplace_back(key);  // its collection was dropped
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(document::JsonPath path, document::JsonPath::Parse(path_text));
        auto index = std::make_shared<MetadataIndex>();
        index->id = record.index_id;
        index->path = std::move(path);
        index->path_text = std::string(path_text);
        index->created_at_ms = record.created_at_ms;
        index->ready_ts.store(record.ready_ts);
        index->ready.store(record.state == 1);
        found[collection].push_back(std::move(index));
    }
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading the catalog"));
    it.reset();
    if (!orphans.empty() && !store_->read_only()) {
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        for (const std::string& key : orphans) {
            wb.Delete(store_->cf(ColumnFamily::kCatalog), key);
        }
        PHENIX_RETURN_IF_ERROR(store_->WriteCatalog(wb, /*sync=*/true));
    }
    LoadIndexStats(found);
    for (auto& [collection, list] : found) {
        auto handle = catalog_->FindById(collection);
        std::sort(list.begin(), list.end(),
                  [](const auto& a, const auto& b) { return a->path_text < b->path_text; });
        num_metadata_indexes_.fetch_add(static_cast<int>(list.size()));
        handle->metadata_indexes = std::make_shared<const MetadataIndexList>(std::move(list));
    }
    return Status::Ok();
}

void MetadataIndexes::LoadIndexStats(
    const std::map<storage::CollectionId, MetadataIndexList>& indexes) {
    rocksdb::ReadOptions read_options;
    std::unique_ptr<rocksdb::Iterator> it(
        store_->db()->NewIterator(read_options, store_->cf(ColumnFamily::kCatalog)));
    const std::string prefix(storage::kIndexStatsPrefix);
    std::vector<std::string> orphans;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const std::string_view key(it->key().data(), it->key().size());
        if (key.size() != prefix.size() + 8) {
            orphans.emplace_back(key);  // not ours: statistics are advisory, drop it
            continue;
        }
        const auto collection = coding::DecodeFixed32BE(key.data() + prefix.size());
        const auto index_id = coding::DecodeFixed32BE(key.data() + prefix.size() + 4);
        auto list = indexes.find(collection);
        MetadataIndex* index = nullptr;
        if (list != indexes.end()) {
            for (const auto& candidate : list->second) {
                if (candidate->id == index_id) {
                    index = candidate.get();
                }
            }
        }
        if (index == nullptr) {
            orphans.emplace_back(key);  // its index or collection was dropped
            continue;
        }
        if (!index->ready.load()) {
            continue;  // not written for a building index; recomputed when the build ends
        }
        // An undecodable record is ignored: the statistics are recomputed after open.
        auto record = storage::DecodeIndexStatsRecord(
            std::string_view(it->value().data(), it->value().size()));
        if (!record.ok()) {
            continue;
        }
        if (record->stats_ts < index->ready_ts.load()) {
            // Statistics are only computed once their index is ready: these describe something
            // else (ids are never reused, so this is damage, not a dropped namesake).
            orphans.emplace_back(key);
            continue;
        }
        auto stats = document::DecodeIndexStats(record->stats);
        if (!stats.ok()) {
            continue;
        }
        // Changes since they were computed: those known at the last close or refresh, plus the
        // rows added or removed since (changes a crash cut off are not known).
        std::uint64_t changed = record->changes_since;
        auto handle = catalog_->FindById(collection);
        if (handle) {
            auto rows = CollectionRowCount(*handle);
            if (rows.ok()) {
                const auto before = stats->rows_in_collection;
                changed += *rows > before ? *rows - before : before - *rows;
            }
        }
        index->InstallStats(std::make_shared<const document::IndexStats>(*std::move(stats)),
                            record->stats_ts,
                            -static_cast<std::int64_t>(std::min<std::uint64_t>(
                                changed, static_cast<std::uint64_t>(INT64_MAX))));
        MutexLock record_lock(index->stats_record_mu);
        index->stored_stats_ts = record->stats_ts;
        index->stored_changes_since = static_cast<std::int64_t>(
            std::min<std::uint64_t>(record->changes_since, static_cast<std::uint64_t>(INT64_MAX)));
    }
    // Reading is best effort too: a failure only means statistics are recomputed.
    if (!it->status().ok()) {
        return;
    }
    it.reset();
    if (!orphans.empty() && !store_->read_only()) {
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        for (const std::string& key : orphans) {
            wb.Delete(store_->cf(ColumnFamily::kCatalog), key);
        }
        store_->WriteCatalog(wb, /*sync=*/false).IgnoreError();
    }
}

Status MetadataIndexes::FinishInterruptedIndexBuilds() {
    std::vector<std::pair<std::shared_ptr<CollectionHandle>, std::shared_ptr<MetadataIndex>>>
        building;
    {
        ReaderMutexLock lock(catalog_mu_);
        for (const std::string& tenant : catalog_->TenantNames()) {
            PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
            for (auto& handle : handles) {
                for (const auto& index : *handle->metadata_indexes) {
                    if (!index->ready.load()) {
                        building.emplace_back(handle, index);
                    }
                }
            }
        }
    }
    for (auto& [handle, index] : building) {
        PHENIX_RETURN_IF_ERROR(BuildIndex(handle, index, nullptr)
                                   .WithContext("finishing the interrupted build of the " +
                                                IndexMessageName(*handle, index->path_text)));
    }
    return Status::Ok();
}

// ---------------------------------------------------------------- DDL

Status MetadataIndexes::CreateIndex(const CollectionRef& collection, std::string_view path_text,
                                    const ProgressFn& progress) {
    PHENIX_ASSIGN_OR_RETURN(document::JsonPath path, document::JsonPath::Parse(path_text));
    std::shared_ptr<CollectionHandle> handle;
    auto index = std::make_shared<MetadataIndex>();
    {
        WriterMutexLock lock(catalog_mu_);
        PHENIX_RETURN_IF_ERROR(CheckWritableLocked("CreateIndex"));
        PHENIX_ASSIGN_OR_RETURN(handle, catalog_->Resolve(collection));
        const MetadataIndexList& existing = *handle->metadata_indexes;
        const std::string canonical = path.ToString();
        for (const auto& other : existing) {
            if (other->path_text == canonical) {
                return Status::AlreadyExists(
                    IndexMessageName(*handle, canonical) + " already exists" +
                    (other->ready.load() ? "" : " (it is still being built)"));
            }
        }
        if (existing.size() >= limits::kMaxIndexesPerCollection) {
            return Status::ResourceExhausted("collection '" + handle->ref().ToString() +
                                             "' already has " + std::to_string(existing.size()) +
                                             " metadata indexes, the limit; drop one first");
        }
        // Allocate the id and persist the definition (building) in one synced catalog write.
        std::uint64_t next_id = 1;
        auto stored = store_->Get(ColumnFamily::kCatalog, storage::kNextIndexIdKey);
        if (stored.ok()) {
            PHENIX_ASSIGN_OR_RETURN(next_id, storage::DecodeCounter(*stored));
        } else if (!stored.status().IsNotFound()) {
            return stored.status();
        }
        if (next_id > UINT32_MAX) {
            return Status::ResourceExhausted("no metadata index ids left");
        }
        index->id = static_cast<storage::IndexId>(next_id);
        index->path = std::move(path);
        index->path_text = canonical;
        index->created_at_ms = NowMillis();
        storage::MetadataIndexRecord record{.index_id = index->id,
                                            .state = 0,
                                            .ready_ts = 0,
                                            .created_at_ms = index->created_at_ms};
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        wb.Put(store_->cf(ColumnFamily::kCatalog), storage::kNextIndexIdKey,
               storage::EncodeCounter(next_id + 1));
        wb.Put(store_->cf(ColumnFamily::kCatalog),
               storage::MetadataIndexKey(handle->id(), canonical),
               storage::EncodeMetadataIndexRecord(record));
        PHENIX_RETURN_IF_ERROR(store_->WriteCatalog(wb, /*sync=*/true));
        auto list = std::make_shared<MetadataIndexList>(existing);
        list->push_back(index);
        std::sort(list->begin(), list->end(),
                  [](const auto& a, const auto& b) { return a->path_text < b->path_text; });
        handle->metadata_indexes = std::move(list);
        num_metadata_indexes_.fetch_add(1);
    }
    return BuildIndex(handle, index, progress);
}

bool MetadataIndexes::IsListedLocked(const CollectionHandle& handle,
                                     const MetadataIndex& index) const {
    if (catalog_->FindById(handle.id()).get() != &handle) {
        return false;  // the collection was dropped (ids are never reused)
    }
    const MetadataIndexList& listed = *handle.metadata_indexes;
    return std::any_of(listed.begin(), listed.end(),
                       [&](const auto& candidate) { return candidate.get() == &index; });
}

Status MetadataIndexes::BuildIndex(const std::shared_ptr<CollectionHandle>& handle,
                                   const std::shared_ptr<MetadataIndex>& index,
                                   const ProgressFn& progress) {
    // Every commit from now on maintains the index (the definition was published under the
    // exclusive catalog lock, after every in-flight commit). Rows committed before are read
    // at a snapshot that includes them all.
    std::uint64_t total = 0;
    {
        ReaderMutexLock lock(catalog_mu_);
        PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
        PHENIX_ASSIGN_OR_RETURN(total, CollectionRowCount(*handle));
    }
    index->build_rows_done.store(0, std::memory_order_relaxed);
    index->build_rows_total.store(total, std::memory_order_relaxed);
    // Each step that writes (a chunk's entries, the ready record) first checks, under the
    // catalog lock that DropIndex and CreateIndex take exclusively, that this very index object
    // is still listed: a drop (and a re-create on the same path, which makes a new object with
    // a new id) must win over a build that was running when it happened.
    const auto dropped = [&] {
        catalog_mu_.AssertSharedHeld();  // called only with it held
        if (catalog_->FindById(handle->id()) != handle) {
            return Status::Aborted("collection '" + handle->ref().ToString() +
                                   "' was dropped while the index was being built");
        }
        return Status::Aborted("the " + IndexMessageName(*handle, index->path_text) +
                               " was dropped while it was being built");
    };
    SnapshotGuard snapshot(*oracle_);
    const txn::ReadView view(*store_, snapshot.ts());
    const std::string collection_prefix =
        storage::CollectionPrefix(handle->tenant_id, handle->id());
    const std::string entry_prefix =
        storage::MetaIndexPrefix(handle->tenant_id, handle->id(), index->id);
    std::string resume_after;  // entity key of the last row done
    std::uint64_t done = 0;
    std::vector<std::string> values;
    for (;;) {
        std::size_t num_rows = 0;
        {
            // Under the catalog lock from the read on, so that a concurrent Close cannot close
            // the store under the iterator.
            ReaderMutexLock lock(catalog_mu_);
            PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
            if (!IsListedLocked(*handle, *index)) {
                return dropped();
            }
            // One chunk: the next rows at the snapshot (their keys and external ids).
            std::vector<std::string> entity_keys;
            std::vector<std::string> ids;
            {
                const std::string begin = resume_after.empty()
                                              ? collection_prefix
                                              : storage::PrefixSuccessor(resume_after);
                auto it = view.NewIterator(ColumnFamily::kEntities, begin,
                                           storage::PrefixSuccessor(collection_prefix));
                std::string plain;
                for (; it->Valid() && entity_keys.size() < kBackfillChunkRows; it->Next()) {
                    PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                            store_->payloads().Open(storage::PayloadKind::kEntity,
                                                                    it->key(), it->value(), plain));
                    PHENIX_ASSIGN_OR_RETURN(std::string_view id,
                                            storage::DecodeEntityRecordId(record));
                    entity_keys.emplace_back(it->key());
                    ids.emplace_back(id);
                }
                PHENIX_RETURN_IF_ERROR(it->status().WithContext("building an index"));
            }
            if (entity_keys.empty()) {
                break;
            }
            num_rows = entity_keys.size();
            resume_after = entity_keys.back();
            std::vector<std::size_t> stripes;
            stripes.reserve(ids.size());
            for (const std::string& id : ids) {
                stripes.push_back(LockTable::StripeOf(handle->id(), id));
            }
            auto guard = locks_.Lock(std::move(stripes));
            // The rows' latest state, under their locks.
            std::vector<std::string_view> key_views(entity_keys.begin(), entity_keys.end());
            const txn::ReadView latest(*store_, storage::kLatestTimestamp);
            PHENIX_ASSIGN_OR_RETURN(auto records,
                                    latest.MultiGet(ColumnFamily::kEntities, key_views));
            rocksdb::WriteBatch wb = storage::Store::NewBatch();
            std::string plain;
            for (std::size_t idx = 0; idx < records.size(); ++idx) {
                if (!records[idx]) {
                    continue;  // deleted since the snapshot (its commit removed its entries)
                }
                PHENIX_ASSIGN_OR_RETURN(
                    std::string_view record,
                    store_->payloads().Open(storage::PayloadKind::kEntity, key_views[idx],
                                            *records[idx], plain));
                auto metadata = storage::DecodeEntityRecordMetadata(record);
                if (!metadata.ok()) {
                    continue;
                }
                auto doc = document::Document::Parse(*metadata);
                if (!doc.ok()) {
                    continue;
                }
                IndexValuesOf(*doc, index->path, &values);
                const RowId row = storage::RowFromEntityKey(entity_keys[idx]);
                for (const std::string& value : values) {
                    wb.Put(store_->cf(ColumnFamily::kMetaIndex), EntryKey(entry_prefix, value, row),
                           rocksdb::Slice());
                }
            }
            if (wb.Count() > 0) {
                PHENIX_RETURN_IF_ERROR(
                    CommitLocked(wb, std::nullopt, txn::WriteEffects())
                        .status()
                        .WithContext("building the " +
                                     IndexMessageName(*handle, index->path_text)));
            }
        }
        done += num_rows;
        index->build_rows_done.store(done, std::memory_order_relaxed);
        if (progress) {
            progress(done, std::max(total, done));
        }
        PHENIX_SYNC_POINT("DatabaseImpl::BuildIndex:AfterChunk");
    }
    PHENIX_SYNC_POINT("DatabaseImpl::BuildIndex:BeforeReady");
    // Ready: every row is indexed for reads at or after now.
    const txn::Timestamp ready_ts = oracle_->visible();
    {
        ReaderMutexLock lock(catalog_mu_);
        PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
        if (!IsListedLocked(*handle, *index)) {
            // Writing the record now would bring a dropped index back at the next open (with
            // its entries deleted), or replace the definition of its re-created namesake.
            return dropped();
        }
        storage::MetadataIndexRecord record{.index_id = index->id,
                                            .state = 1,
                                            .ready_ts = ready_ts,
                                            .created_at_ms = index->created_at_ms};
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        wb.Put(store_->cf(ColumnFamily::kCatalog),
               storage::MetadataIndexKey(handle->id(), index->path_text),
               storage::EncodeMetadataIndexRecord(record));
        PHENIX_RETURN_IF_ERROR(store_->WriteCatalog(wb, /*sync=*/true));
        index->ready_ts.store(ready_ts, std::memory_order_release);
        index->ready.store(true, std::memory_order_release);
    }
    if (progress) {
        progress(done, done);
    }
    return RefreshIndexStats(*handle, *index);
}

Status MetadataIndexes::DropIndex(const CollectionRef& collection, std::string_view path_text) {
    PHENIX_ASSIGN_OR_RETURN(document::JsonPath path, document::JsonPath::Parse(path_text));
    const std::string canonical = path.ToString();
    std::shared_ptr<CollectionHandle> handle;
    std::shared_ptr<MetadataIndex> dropped;
    {
        WriterMutexLock lock(catalog_mu_);
        PHENIX_RETURN_IF_ERROR(CheckWritableLocked("DropIndex"));
        PHENIX_ASSIGN_OR_RETURN(handle, catalog_->Resolve(collection));
        auto list = std::make_shared<MetadataIndexList>(*handle->metadata_indexes);
        auto it = std::find_if(list->begin(), list->end(),
                               [&](const auto& index) { return index->path_text == canonical; });
        if (it == list->end()) {
            std::vector<std::string> names;
            for (const auto& index : *list) {
                names.push_back(index->path_text);
            }
            const std::string closest = ClosestName(canonical, names);
            return Status::NotFound("collection '" + handle->ref().ToString() +
                                    "' has no index on '" + canonical + "'" +
                                    (closest.empty() ? "" : "; did you mean '" + closest + "'?"));
        }
        dropped = *it;
        list->erase(it);
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        wb.Delete(store_->cf(ColumnFamily::kCatalog),
                  storage::MetadataIndexKey(handle->id(), canonical));
        wb.Delete(store_->cf(ColumnFamily::kCatalog),
                  storage::IndexStatsKey(handle->id(), dropped->id));
        PHENIX_RETURN_IF_ERROR(store_->WriteCatalog(wb, /*sync=*/true));
        handle->metadata_indexes = std::move(list);
        num_metadata_indexes_.fetch_sub(1);
    }
    // Nothing writes the dropped index's entries any more (commits, a build still running and
    // its statistics refresh all check that it is listed): delete them (newest versions, so no
    // ordering question). A crash or a Close in between leaves unreachable entries under an id
    // that is never reused; they cost space only.
    const std::string prefix =
        storage::MetaIndexPrefix(handle->tenant_id, handle->id(), dropped->id);
    const std::string end = storage::PrefixSuccessor(prefix);
    const txn::ReadView latest(*store_, storage::kLatestTimestamp);
    for (;;) {
        ReaderMutexLock lock(catalog_mu_);  // keeps a concurrent Close from closing the store
        if (!CheckOpenLocked().ok()) {
            break;  // the drop itself is durable; the rest are leftovers
        }
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        auto it = latest.NewIterator(ColumnFamily::kMetaIndex, prefix, end);
        std::size_t keys = 0;
        for (; it->Valid() && keys < 10000; it->Next(), ++keys) {
            wb.Delete(store_->cf(ColumnFamily::kMetaIndex),
                      rocksdb::Slice(it->key().data(), it->key().size()));
        }
        PHENIX_RETURN_IF_ERROR(it->status().WithContext("dropping an index"));
        if (keys == 0) {
            break;
        }
        PHENIX_RETURN_IF_ERROR(
            txn::CommitBatch(*oracle_, *store_, wb).status().WithContext("dropping an index"));
    }
    return Status::Ok();
}

Result<std::vector<MetadataIndexInfo>> MetadataIndexes::ListIndexes(
    const CollectionRef& collection) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    std::vector<MetadataIndexInfo> out;
    for (const auto& index : *handle->metadata_indexes) {
        MetadataIndexInfo info;
        info.path = index->path_text;
        info.state = index->ready.load() ? IndexState::kReady : IndexState::kBuilding;
        info.ready_timestamp = index->ready.load() ? index->ready_ts.load() : 0;
        if (auto stats = index->stats()) {
            info.entries = stats->entries;
            info.distinct_values = stats->distinct_values;
            info.statistics_timestamp = index->stats_ts();
            info.statistics_json = stats->ToJson();
        }
        out.push_back(std::move(info));
    }
    return out;
}

// ---------------------------------------------------------------- statistics

Status MetadataIndexes::RefreshIndexStats(const CollectionHandle& handle, MetadataIndex& index) {
    // Read before the snapshot: a change counted here but already in the snapshot only makes
    // the next refresh come a little early.
    const std::int64_t changes_before = index.changes.load();
    SnapshotGuard snapshot(*oracle_);
    const txn::ReadView view(*store_, snapshot.ts());
    const std::string prefix = storage::MetaIndexPrefix(handle.tenant_id, handle.id(), index.id);
    document::IndexStatsBuilder builder;
    auto it = view.NewIterator(ColumnFamily::kMetaIndex, prefix, storage::PrefixSuccessor(prefix));
    std::string current;
    std::uint64_t count = 0;
    for (; it->Valid(); it->Next()) {
        const std::string_view key = it->key();
        if (key.size() < prefix.size() + 9) {
            return Status::Corruption("malformed metadata index entry");
        }
        const std::string_view value = key.substr(prefix.size(), key.size() - prefix.size() - 8);
        if (value.size() == 1 && value[0] == kExistsMarker) {
            continue;  // objects/arrays: counted by $exists only
        }
        if (count > 0 && value != current) {
            builder.Add(current, count);
            count = 0;
        }
        if (count == 0) {
            current.assign(value);
        }
        ++count;
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("computing index statistics"));
    if (count > 0) {
        builder.Add(current, count);
    }
    PHENIX_ASSIGN_OR_RETURN(const std::uint64_t rows, CollectionRowCount(handle));
    auto stats = std::make_shared<const document::IndexStats>(std::move(builder).Finish(rows));
    PHENIX_SYNC_POINT("DatabaseImpl::RefreshIndexStats:Computed");
    if (!index.InstallStats(std::move(stats), snapshot.ts(), changes_before)) {
        return Status::Ok();  // a refresh with a later snapshot finished first; it stays
    }
    // Persist them so that a reopened database plans with them at once. Advisory: unsynced, and
    // a failure never fails the caller (the statistics are recomputed after open when missing).
    // Written under the catalog lock while the index is still listed, so that a concurrent
    // DropIndex cannot leave a record behind (a leftover would be removed at the next open
    // anyway, as its id is never reused).
    ReaderMutexLock lock(catalog_mu_);
    if (CheckOpenLocked().ok() && IsListedLocked(handle, index)) {
        StoreIndexStatsLocked(handle, index, /*only_if_changed=*/false);
    }
    return Status::Ok();
}

void MetadataIndexes::StoreIndexStatsLocked(const CollectionHandle& handle, MetadataIndex& index,
                                            bool only_if_changed) {
    if (store_->read_only()) {
        return;  // statistics live in memory only
    }
    // The installed statistics are read under the record lock: whichever writer comes last
    // writes the newest, even when refreshes finish out of order.
    MutexLock record_lock(index.stats_record_mu);
    const MetadataIndex::InstalledStats installed = index.installed_stats();
    if (!installed.stats) {
        return;
    }
    const std::int64_t changes_since = std::max<std::int64_t>(installed.changes_since, 0);
    if (only_if_changed && installed.ts == index.stored_stats_ts &&
        changes_since == index.stored_changes_since) {
        return;
    }
    rocksdb::WriteBatch wb = storage::Store::NewBatch();
    wb.Put(
        store_->cf(ColumnFamily::kCatalog), storage::IndexStatsKey(handle.id(), index.id),
        storage::EncodeIndexStatsRecord({.stats_ts = installed.ts,
                                         .changes_since = static_cast<std::uint64_t>(changes_since),
                                         .stats = document::EncodeIndexStats(*installed.stats)}));
    if (store_->WriteCatalog(wb, /*sync=*/false).ok()) {
        index.stored_stats_ts = installed.ts;
        index.stored_changes_since = changes_since;
    }
}

void MetadataIndexes::StoreIndexChangeCountsLocked() {
    for (const std::string& tenant : catalog_->TenantNames()) {
        auto handles = catalog_->Collections(tenant);
        if (!handles.ok()) {
            continue;
        }
        for (const auto& handle : *handles) {
            for (const auto& index : *handle->metadata_indexes) {
                if (index->ready.load()) {
                    StoreIndexStatsLocked(*handle, *index, /*only_if_changed=*/true);
                }
            }
        }
    }
}

Status MetadataIndexes::AnalyzeIndexes(const CollectionRef& collection) {
    std::shared_ptr<CollectionHandle> handle;
    std::shared_ptr<const MetadataIndexList> indexes;
    {
        ReaderMutexLock lock(catalog_mu_);
        PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
        PHENIX_ASSIGN_OR_RETURN(handle, catalog_->Resolve(collection));
        indexes = handle->metadata_indexes;
    }
    for (const auto& index : *indexes) {
        if (index->ready.load()) {
            PHENIX_RETURN_IF_ERROR(RefreshIndexStats(*handle, *index));
        }
    }
    return Status::Ok();
}

void MetadataIndexes::RefreshStaleIndexStats() {
    std::vector<std::pair<std::shared_ptr<CollectionHandle>, std::shared_ptr<MetadataIndex>>> stale;
    {
        ReaderMutexLock lock(catalog_mu_);
        if (!CheckOpenLocked().ok()) {
            return;
        }
        for (const std::string& tenant : catalog_->TenantNames()) {
            auto handles = catalog_->Collections(tenant);
            if (!handles.ok()) {
                continue;
            }
            for (auto& handle : *handles) {
                for (const auto& index : *handle->metadata_indexes) {
                    if (!index->ready.load()) {
                        continue;
                    }
                    auto stats = index->stats();
                    const auto changed = index->ChangesSinceStats();
                    const double base = stats ? static_cast<double>(std::max<std::uint64_t>(
                                                    stats->rows_in_collection, 1000))
                                              : 0.0;
                    if (!stats || static_cast<double>(changed) > 0.1 * base) {
                        stale.emplace_back(handle, index);
                    }
                }
            }
        }
    }
    for (auto& [handle, index] : stale) {
        // A failure only leaves older statistics in place; the next round retries.
        RefreshIndexStats(*handle, *index).IgnoreError();
    }
}

}  // namespace phenix::engine

// ---------------------------------------------------------------- Find

namespace phenix::engine {

Result<FindResponse> MetadataIndexes::FindLocked(const CollectionRef& collection,
                                                 const FindOptions& options,
                                                 const txn::ReadView& view,
                                                 const txn::WriteSet* own_writes) const {
    if (!options.count_only && !options.estimate_only && (options.limit < 1 || options.limit > limits::kMaxFindLimit)) {
        return Status::InvalidArgument("limit must be from 1 to " +
                                       std::to_string(limits::kMaxFindLimit) + ", not " +
                                       std::to_string(options.limit));
    }
    PHENIX_ASSIGN_OR_RETURN(document::Filter filter, document::ParseFilter(options.filter));
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_ASSIGN_OR_RETURN(std::uint64_t rows, CollectionRowCount(*handle));
    FindResponse response;
    FilterEvaluator evaluator(*store_, *handle, view, own_writes, rows, &response.plan);
    response.plan.uses_index = evaluator.UsesAnIndex(filter);
    if (options.estimate_only) {
        response.plan.estimated_rows = evaluator.Estimate(filter);
        return response;
    }
    PHENIX_ASSIGN_OR_RETURN(RowBitmap matched, evaluator.Evaluate(filter));
    response.count = matched.cardinality();
    if (options.count_only) {
        return response;
    }
    std::vector<std::string> keys;
    for (const std::uint32_t row : matched) {
        if (keys.size() == options.limit) {
            break;
        }
        keys.push_back(storage::EntityKey(handle->tenant_id, handle->id(), row));
    }
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    PHENIX_ASSIGN_OR_RETURN(auto records, view.MultiGet(ColumnFamily::kEntities, key_views));
    std::string plain;
    for (std::size_t pos = 0; pos < records.size(); ++pos) {
        if (!records[pos]) {
            return Status::Internal("a matching row has no record");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                view.store().payloads().Open(storage::PayloadKind::kEntity,
                                                             key_views[pos], *records[pos], plain));
        PHENIX_ASSIGN_OR_RETURN(std::string_view id, storage::DecodeEntityRecordId(record));
        response.ids.emplace_back(id);
        if (options.include_metadata) {
            PHENIX_ASSIGN_OR_RETURN(std::string_view metadata,
                                    storage::DecodeEntityRecordMetadata(record));
            response.metadata.emplace_back(metadata);
        }
    }
    return response;
}

}  // namespace phenix::engine
