// SPDX-License-Identifier: Apache-2.0
#include "storage/catalog_codec.h"

#include "common/coding.h"

namespace phenix::storage {

namespace {

constexpr std::uint8_t kFlagHasDimension = 0x01;

Status Malformed(std::string_view what) {
    return Status::Corruption("catalog " + std::string(what) + " record is truncated or malformed");
}

}  // namespace

std::string TenantKey(std::string_view tenant_name) {
    std::string key(kTenantKeyPrefix);
    key.append(tenant_name);
    return key;
}

std::string CollectionKeyPrefix(TenantId tenant) {
    std::string key(kCollectionKeyPrefix);
    coding::PutFixed32BE(key, tenant);
    return key;
}

std::string CollectionKey(TenantId tenant, std::string_view collection_name) {
    std::string key = CollectionKeyPrefix(tenant);
    key.append(collection_name);
    return key;
}

std::string RowHighWaterKey(CollectionId collection) {
    std::string key(kRowHighWaterPrefix);
    coding::PutFixed32BE(key, collection);
    return key;
}

std::string DroppedCollectionKey(CollectionId collection) {
    std::string key(kDroppedPrefix);
    coding::PutFixed32BE(key, collection);
    return key;
}

std::string EntityCountKey(CollectionId collection) {
    std::string key(kEntityCountPrefix);
    coding::PutFixed32BE(key, collection);
    return key;
}

std::string EncodeTenantRecord(const TenantRecord& record) {
    std::string out;
    out.push_back(static_cast<char>(kCatalogRecordVersion));
    coding::PutVarint64(out, record.tenant_id);
    coding::PutFixed64LE(out, static_cast<std::uint64_t>(record.created_at_ms));
    return out;
}

Result<TenantRecord> DecodeTenantRecord(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    if (!version || *version != kCatalogRecordVersion) {
        return Malformed("tenant");
    }
    auto id = reader.ReadVarint64();
    auto created = reader.ReadBytes(8);
    if (!id || *id > UINT32_MAX || !created || !reader.empty()) {
        return Malformed("tenant");
    }
    return TenantRecord{
        .tenant_id = static_cast<TenantId>(*id),
        .created_at_ms = static_cast<std::int64_t>(coding::DecodeFixed64LE(created->data()))};
}

std::string EncodeCollectionRecord(const CollectionRecord& record) {
    std::string out;
    out.push_back(static_cast<char>(kCatalogRecordVersion));
    coding::PutVarint64(out, record.collection_id);
    out.push_back(static_cast<char>(record.dimension ? kFlagHasDimension : 0));
    coding::PutVarint64(out, record.dimension.value_or(0));
    out.push_back(static_cast<char>(record.metric));
    coding::PutLengthPrefixed(out, record.settings);
    coding::PutFixed64LE(out, static_cast<std::uint64_t>(record.created_at_ms));
    return out;
}

Result<CollectionRecord> DecodeCollectionRecord(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    if (!version || *version != kCatalogRecordVersion) {
        return Malformed("collection");
    }
    auto id = reader.ReadVarint64();
    auto flags = reader.ReadByte();
    auto dim = reader.ReadVarint64();
    auto metric = reader.ReadByte();
    auto settings = reader.ReadLengthPrefixed();
    auto created = reader.ReadBytes(8);
    if (!id || *id > UINT32_MAX || !flags || !dim || *dim > UINT32_MAX || !metric || !settings ||
        !created || !reader.empty()) {
        return Malformed("collection");
    }
    if (*metric < static_cast<std::uint8_t>(Metric::kL2) ||
        *metric > static_cast<std::uint8_t>(Metric::kInnerProduct)) {
        return Malformed("collection metric");
    }
    CollectionRecord record;
    record.collection_id = static_cast<CollectionId>(*id);
    if ((*flags & kFlagHasDimension) != 0) {
        record.dimension = static_cast<std::uint32_t>(*dim);
    }
    record.metric = static_cast<Metric>(*metric);
    record.settings.assign(*settings);
    record.created_at_ms = static_cast<std::int64_t>(coding::DecodeFixed64LE(created->data()));
    return record;
}

std::string MetadataIndexKeyPrefix(CollectionId collection) {
    std::string key(kMetadataIndexPrefix);
    coding::PutFixed32BE(key, collection);
    return key;
}

std::string MetadataIndexKey(CollectionId collection, std::string_view path) {
    std::string key = MetadataIndexKeyPrefix(collection);
    key.append(path);
    return key;
}

std::string EncodeMetadataIndexRecord(const MetadataIndexRecord& record) {
    std::string out;
    out.push_back(static_cast<char>(kCatalogRecordVersion));
    coding::PutVarint64(out, record.index_id);
    out.push_back(static_cast<char>(record.state));
    coding::PutFixed64LE(out, record.ready_ts);
    coding::PutFixed64LE(out, static_cast<std::uint64_t>(record.created_at_ms));
    return out;
}

Result<MetadataIndexRecord> DecodeMetadataIndexRecord(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    if (!version || *version != kCatalogRecordVersion) {
        return Malformed("metadata index");
    }
    auto id = reader.ReadVarint64();
    auto state = reader.ReadByte();
    auto ready = reader.ReadBytes(8);
    auto created = reader.ReadBytes(8);
    if (!id || *id > UINT32_MAX || !state || *state > 1 || !ready || !created || !reader.empty()) {
        return Malformed("metadata index");
    }
    MetadataIndexRecord record;
    record.index_id = static_cast<IndexId>(*id);
    record.state = *state;
    record.ready_ts = coding::DecodeFixed64LE(ready->data());
    record.created_at_ms = static_cast<std::int64_t>(coding::DecodeFixed64LE(created->data()));
    return record;
}

std::string IndexStatsKeyPrefix(CollectionId collection) {
    std::string key(kIndexStatsPrefix);
    coding::PutFixed32BE(key, collection);
    return key;
}

std::string IndexStatsKey(CollectionId collection, IndexId index) {
    std::string key = IndexStatsKeyPrefix(collection);
    coding::PutFixed32BE(key, index);
    return key;
}

std::string EncodeIndexStatsRecord(const IndexStatsRecord& record) {
    std::string out;
    out.push_back(static_cast<char>(kIndexStatsRecordVersion));
    coding::PutFixed64LE(out, record.stats_ts);
    coding::PutVarint64(out, record.changes_since);
    out.append(record.stats);
    return out;
}

Result<IndexStatsRecord> DecodeIndexStatsRecord(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    auto ts = reader.ReadBytes(8);
    if (!version || (*version != 1 && *version != kIndexStatsRecordVersion) || !ts) {
        return Malformed("index statistics");
    }
    IndexStatsRecord record{.stats_ts = coding::DecodeFixed64LE(ts->data())};
    if (*version == kIndexStatsRecordVersion) {
        auto changes = reader.ReadVarint64();
        if (!changes) {
            return Malformed("index statistics");
        }
        record.changes_since = *changes;
    }
    record.stats.assign(encoded.substr(encoded.size() - reader.remaining()));
    return record;
}

std::string EncodeCounter(std::uint64_t value) {
    std::string out;
    coding::PutFixed64LE(out, value);
    return out;
}

Result<std::uint64_t> DecodeCounter(std::string_view encoded) {
    if (encoded.size() != 8) {
        return Status::Corruption("catalog counter has " + std::to_string(encoded.size()) +
                                  " bytes, expected 8");
    }
    return coding::DecodeFixed64LE(encoded.data());
}

}  // namespace phenix::storage
