// SPDX-License-Identifier: Apache-2.0
//
// Keys and values of the `catalog` column family: tenants, collections, id allocators and
// per-collection counters. Values are versioned like entity records.
//
//   "t/" tenant_name                 -> TenantRecord
//   "c/" T(be32) collection_name     -> CollectionRecord
//   "n/tenant", "n/collection"       -> next id to allocate (fixed64 LE)
//   "r/" C(be32)                     -> highest row id ever allocated (merge: max)
//   "k/" C(be32)                     -> live entity count (merge: signed add)
//   "x/" C(be32) path                -> MetadataIndexRecord
//   "s/" C(be32) I(be32)             -> IndexStatsRecord (advisory statistics of index I)
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <phenix/result.h>
#include <phenix/types.h>

#include "storage/keys.h"

namespace phenix::storage {

inline constexpr std::uint8_t kCatalogRecordVersion = 1;

struct TenantRecord {
    TenantId tenant_id = 0;
    std::int64_t created_at_ms = 0;
};

struct CollectionRecord {
    CollectionId collection_id = 0;
    std::optional<std::uint32_t> dimension;
    Metric metric = Metric::kL2;
    std::string settings = "{}";
    std::int64_t created_at_ms = 0;
};

/// A metadata index on a JSON path of one collection (state: 0 building, 1 ready).
struct MetadataIndexRecord {
    IndexId index_id = 0;
    std::uint8_t state = 0;
    std::uint64_t ready_ts = 0;  ///< reads at or after it may use the index
    std::int64_t created_at_ms = 0;
};

inline constexpr std::string_view kTenantKeyPrefix = "t/";
/// "x/" + collection id (BE32) + canonical path -> MetadataIndexRecord.
inline constexpr std::string_view kMetadataIndexPrefix = "x/";
inline constexpr std::string_view kNextIndexIdKey = "n/index";
std::string MetadataIndexKey(CollectionId collection, std::string_view path);
/// Prefix of every index key of one collection.
std::string MetadataIndexKeyPrefix(CollectionId collection);
std::string EncodeMetadataIndexRecord(const MetadataIndexRecord& record);
Result<MetadataIndexRecord> DecodeMetadataIndexRecord(std::string_view encoded);
/// Statistics of a metadata index as of a snapshot. `stats` is document::EncodeIndexStats
/// output (opaque here: storage does not depend on document). Advisory: written unsynced,
/// a missing or undecodable record only means the statistics are recomputed.
struct IndexStatsRecord {
    std::uint64_t stats_ts = 0;  ///< the snapshot the statistics were computed at
    /// Rows of the index changed after that snapshot, as known when the record was written (at
    /// a refresh and at close), so that updates in place count towards the next refresh across
    /// restarts. Version 1 records lack it (0).
    std::uint64_t changes_since = 0;
    std::string stats;
};
/// The version EncodeIndexStatsRecord writes (2: with changes_since); 1 is still read.
inline constexpr std::uint8_t kIndexStatsRecordVersion = 2;
/// "s/" + collection id (BE32) + index id (BE32) -> IndexStatsRecord.
inline constexpr std::string_view kIndexStatsPrefix = "s/";
std::string IndexStatsKey(CollectionId collection, IndexId index);
/// Prefix of every statistics key of one collection.
std::string IndexStatsKeyPrefix(CollectionId collection);
std::string EncodeIndexStatsRecord(const IndexStatsRecord& record);
Result<IndexStatsRecord> DecodeIndexStatsRecord(std::string_view encoded);
inline constexpr std::string_view kCollectionKeyPrefix = "c/";
inline constexpr std::string_view kNextTenantIdKey = "n/tenant";
inline constexpr std::string_view kNextCollectionIdKey = "n/collection";
inline constexpr std::string_view kRowHighWaterPrefix = "r/";
inline constexpr std::string_view kEntityCountPrefix = "k/";
/// Newest commit timestamp written (max-merged by every commit; restores the clock at open).
inline constexpr std::string_view kCommitClockKey = "m/clock";
/// A dropped collection whose rows are still being deleted: "d/" + collection id (BE32) ->
/// tenant id (counter encoding). Removed once the purge finished.
inline constexpr std::string_view kDroppedPrefix = "d/";
std::string DroppedCollectionKey(CollectionId collection);
/// The MVCC history floor (max-merged; storage/store.h SetHistoryFloor).
inline constexpr std::string_view kHistoryFloorKey = "m/floor";

std::string TenantKey(std::string_view tenant_name);
std::string CollectionKey(TenantId tenant, std::string_view collection_name);
/// Prefix of every collection key of one tenant.
std::string CollectionKeyPrefix(TenantId tenant);
std::string RowHighWaterKey(CollectionId collection);
std::string EntityCountKey(CollectionId collection);

std::string EncodeTenantRecord(const TenantRecord& record);
Result<TenantRecord> DecodeTenantRecord(std::string_view encoded);
std::string EncodeCollectionRecord(const CollectionRecord& record);
Result<CollectionRecord> DecodeCollectionRecord(std::string_view encoded);

/// Counter values (allocators, high-water marks, counts) are fixed64 little-endian.
std::string EncodeCounter(std::uint64_t value);
Result<std::uint64_t> DecodeCounter(std::string_view encoded);

}  // namespace phenix::storage
