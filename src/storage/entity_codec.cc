// SPDX-License-Identifier: Apache-2.0
#include "storage/entity_codec.h"

#include "common/coding.h"

namespace phenix::storage {

namespace {

constexpr std::uint8_t kFlagHasVector = 0x01;
constexpr std::uint8_t kKnownFlags = kFlagHasVector;

Status Truncated(std::string_view what) {
    return Status::Corruption(std::string(what) + " is truncated or malformed");
}

}  // namespace

void EncodeEntityRecord(std::string_view external_id, std::span<const float> vector,
                        std::string_view metadata, std::string& out) {
    out.clear();
    out.reserve(2 + 2 + external_id.size() + 3 + vector.size() * sizeof(float) + 3 +
                metadata.size());
    out.push_back(static_cast<char>(kEntityRecordVersion));
    const std::uint8_t flags = vector.empty() ? 0 : kFlagHasVector;
    out.push_back(static_cast<char>(flags));
    coding::PutLengthPrefixed(out, external_id);
    if (!vector.empty()) {
        coding::PutVarint64(out, vector.size());
        coding::PutFloatsLE(out, vector.data(), vector.size());
    }
    coding::PutLengthPrefixed(out, metadata);
}

void EncodeEntityRecord(const EntityRecord& record, std::string& out) {
    EncodeEntityRecord(record.external_id, record.vector, record.metadata, out);
}

std::string EncodeEntityRecord(const EntityRecord& record) {
    std::string out;
    EncodeEntityRecord(record, out);
    return out;
}

namespace {

// Reads version, flags and id; leaves `reader` at the vector (or metadata).
Result<std::uint8_t> ReadEntityHeader(coding::ByteReader& reader, std::string_view& id) {
    auto version = reader.ReadByte();
    if (!version) {
        return Truncated("entity record");
    }
    if (*version != kEntityRecordVersion) {
        return Status::Corruption("entity record has unknown format version " +
                                  std::to_string(*version) + " (this build reads version " +
                                  std::to_string(kEntityRecordVersion) + ")");
    }
    auto flags = reader.ReadByte();
    if (!flags || (*flags & ~kKnownFlags) != 0) {
        return Truncated("entity record flags");
    }
    auto ext = reader.ReadLengthPrefixed();
    if (!ext) {
        return Truncated("entity record id");
    }
    id = *ext;
    return *flags;
}

}  // namespace

Result<EntityRecord> DecodeEntityRecord(std::string_view encoded) {
    return DecodeEntityRecord(encoded, /*include_vector=*/true);
}

Result<EntityRecord> DecodeEntityRecord(std::string_view encoded, bool include_vector) {
    coding::ByteReader reader(encoded);
    std::string_view id;
    PHENIX_ASSIGN_OR_RETURN(std::uint8_t flags, ReadEntityHeader(reader, id));
    EntityRecord record;
    record.external_id.assign(id);
    if ((flags & kFlagHasVector) != 0) {
        auto dim = reader.ReadVarint64();
        if (!dim || *dim == 0 || *dim > reader.remaining() / sizeof(float)) {
            return Truncated("entity record vector");
        }
        if (!include_vector) {
            if (!reader.ReadBytes(static_cast<std::size_t>(*dim) * sizeof(float))) {
                return Truncated("entity record vector");
            }
        } else {
            record.vector.resize(static_cast<std::size_t>(*dim));
            if (!reader.ReadFloatsLE(record.vector.data(), record.vector.size())) {
                return Truncated("entity record vector");
            }
        }
    }
    auto metadata = reader.ReadLengthPrefixed();
    if (!metadata || !reader.empty()) {
        return Truncated("entity record metadata");
    }
    record.metadata.assign(*metadata);
    return record;
}

Result<std::string_view> DecodeEntityRecordId(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    std::string_view id;
    PHENIX_RETURN_IF_ERROR(ReadEntityHeader(reader, id).status());
    return id;
}

Result<std::string_view> DecodeEntityRecordMetadata(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    std::string_view id;
    PHENIX_ASSIGN_OR_RETURN(std::uint8_t flags, ReadEntityHeader(reader, id));
    if ((flags & kFlagHasVector) != 0) {
        auto dim = reader.ReadVarint64();
        if (!dim || *dim == 0 || *dim > reader.remaining() / sizeof(float) ||
            !reader.ReadBytes(static_cast<std::size_t>(*dim) * sizeof(float))) {
            return Truncated("entity record vector");
        }
    }
    auto metadata = reader.ReadLengthPrefixed();
    if (!metadata || !reader.empty()) {
        return Truncated("entity record metadata");
    }
    return *metadata;
}

Status DecodeEntityRecordVector(std::string_view encoded, std::vector<float>& out) {
    coding::ByteReader reader(encoded);
    std::string_view id;
    PHENIX_ASSIGN_OR_RETURN(std::uint8_t flags, ReadEntityHeader(reader, id));
    out.clear();
    if ((flags & kFlagHasVector) != 0) {
        auto dim = reader.ReadVarint64();
        if (!dim || *dim == 0 || *dim > reader.remaining() / sizeof(float)) {
            return Truncated("entity record vector");
        }
        out.resize(static_cast<std::size_t>(*dim));
        if (!reader.ReadFloatsLE(out.data(), out.size())) {
            return Truncated("entity record vector");
        }
    }
    return Status::Ok();
}

void AppendEdgeValue(std::string& out, double weight, std::string_view other_external_id,
                     std::string_view properties) {
    out.push_back(static_cast<char>(kEdgeValueVersion));
    coding::PutDouble(out, weight);
    coding::PutLengthPrefixed(out, other_external_id);
    coding::PutLengthPrefixed(out, properties);
}

std::string EncodeEdgeValue(const EdgeValue& value) {
    std::string out;
    out.reserve(1 + 8 + 2 + value.other_external_id.size() + 2 + value.properties.size());
    AppendEdgeValue(out, value.weight, value.other_external_id, value.properties);
    return out;
}

Result<EdgeValue> DecodeEdgeValue(std::string_view encoded) {
    PHENIX_ASSIGN_OR_RETURN(EdgeValueView view, DecodeEdgeValueView(encoded));
    return EdgeValue{.weight = view.weight,
                     .other_external_id = std::string(view.other_external_id),
                     .properties = std::string(view.properties)};
}

Result<EdgeValueView> DecodeEdgeValueView(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    if (!version) {
        return Truncated("edge value");
    }
    if (*version != kEdgeValueVersion) {
        return Status::Corruption("edge value has unknown format version " +
                                  std::to_string(*version));
    }
    EdgeValueView value;
    auto weight = reader.ReadDouble();
    auto other = reader.ReadLengthPrefixed();
    if (!weight || !other) {
        return Truncated("edge value");
    }
    auto props = reader.ReadLengthPrefixed();
    if (!props || !reader.empty()) {
        return Truncated("edge value properties");
    }
    value.weight = *weight;
    value.other_external_id = *other;
    value.properties = *props;
    return value;
}

}  // namespace phenix::storage
