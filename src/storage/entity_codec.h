// SPDX-License-Identifier: Apache-2.0
//
// Binary encodings of stored values: entity records and edge values. Each value starts with a
// format version byte so the layout can evolve; a reader rejects versions it does not know with
// Corruption rather than guessing. Layout in docs/formats/storage-format.md.
//
// EntityRecord v1:  u8 version=1 | u8 flags (bit 0: has vector) | lp(external id)
//                   | [varint dim | dim x float32 LE]  (if has vector) | lp(metadata JSON)
// EdgeValue v1:     u8 version=1 | f64 LE weight | lp(external id of the other end)
//                   | lp(properties JSON or empty)
// (lp = varint length + bytes)
//
// Thread safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

namespace phenix::storage {

inline constexpr std::uint8_t kEntityRecordVersion = 1;
inline constexpr std::uint8_t kEdgeValueVersion = 1;

/// The stored part of an entity (edges live in their own column families).
struct EntityRecord {
    std::string external_id;
    std::vector<float> vector;  ///< empty: no vector
    std::string metadata;       ///< minified JSON object

    friend bool operator==(const EntityRecord&, const EntityRecord&) = default;
};

void EncodeEntityRecord(const EntityRecord& record, std::string& out);
/// Encodes from borrowed parts (no copy of the vector or metadata into an EntityRecord).
void EncodeEntityRecord(std::string_view external_id, std::span<const float> vector,
                        std::string_view metadata, std::string& out);
std::string EncodeEntityRecord(const EntityRecord& record);
/// Corruption on truncated, trailing or unknown-version input.
Result<EntityRecord> DecodeEntityRecord(std::string_view encoded);
/// DecodeEntityRecord, but without copying the vector unless `include_vector` (record.vector
/// is then left empty; its bytes are skipped and still checked). For scans that do not use it.
Result<EntityRecord> DecodeEntityRecord(std::string_view encoded, bool include_vector);
/// Decodes only the external id (cheap: skips vector and metadata).
Result<std::string_view> DecodeEntityRecordId(std::string_view encoded);
/// Decodes only the metadata (a view into `encoded`); skips the vector.
Result<std::string_view> DecodeEntityRecordMetadata(std::string_view encoded);
/// Decodes only the vector into `out` (cleared when the record has none); skips the metadata.
Status DecodeEntityRecordVector(std::string_view encoded, std::vector<float>& out);

struct EdgeValue {
    double weight = 1.0;
    std::string other_external_id;
    std::string properties;  ///< minified JSON object, or empty

    friend bool operator==(const EdgeValue&, const EdgeValue&) = default;
};

std::string EncodeEdgeValue(const EdgeValue& value);
/// Appends the encoding of an edge value from borrowed parts to `out`.
void AppendEdgeValue(std::string& out, double weight, std::string_view other_external_id,
                     std::string_view properties);
Result<EdgeValue> DecodeEdgeValue(std::string_view encoded);

/// EdgeValue with views into the encoded value (no allocation; for hot read paths).
struct EdgeValueView {
    double weight = 1.0;
    std::string_view other_external_id;
    std::string_view properties;
};
/// Corruption as DecodeEdgeValue. Views into `encoded`.
Result<EdgeValueView> DecodeEdgeValueView(std::string_view encoded);

}  // namespace phenix::storage
