// SPDX-License-Identifier: Apache-2.0
//
// Key layouts of every column family (docs/formats/storage-format.md is the prose version).
// Every entity, id and edge key starts with the tenant id and the collection id, both 32-bit
// big-endian, so a tenant's or a collection's data is one contiguous key range and byte order
// equals numeric order. Row ids are 64-bit big-endian, assigned once and never reused.
//
//   entities   T C row                                  -> EntityRecord
//   ids        T C external_id                          -> row (fixed64 LE)
//   out_edges  T C src_row  label 0x00 C' dst_row -> EdgeValue (other end = target)
//   in_edges   T C' dst_row label 0x00 C  src_row -> EdgeValue (other end = source)
//   catalog    see catalog_codec.h
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace phenix::storage {

using TenantId = std::uint32_t;
using CollectionId = std::uint32_t;
using RowId = std::uint64_t;

/// Byte length of a (tenant, collection) prefix.
inline constexpr std::size_t kCollectionPrefixBytes = 8;
/// Byte length of a (tenant, collection, row) prefix.
inline constexpr std::size_t kRowPrefixBytes = 16;

/// T C
std::string CollectionPrefix(TenantId tenant, CollectionId collection);
/// The first key after every key that starts with `prefix` (for range deletes and upper bounds).
std::string PrefixSuccessor(std::string_view prefix);

/// entities: T C row
std::string EntityKey(TenantId tenant, CollectionId collection, RowId row);
RowId RowFromEntityKey(std::string_view key);

/// ids: T C external_id
std::string IdKey(TenantId tenant, CollectionId collection, std::string_view external_id);
std::string_view ExternalIdFromIdKey(std::string_view key);

/// A decoded out- or in-edge key: `row` is the end the key is filed under, `other_*` the far end.
struct EdgeKey {
    TenantId tenant = 0;
    CollectionId collection = 0;
    RowId row = 0;
    std::string label;
    CollectionId other_collection = 0;
    RowId other_row = 0;
};

/// out_edges / in_edges: T C row label 0x00 C' row' (labels contain no NUL byte)
std::string EncodeEdgeKey(const EdgeKey& key);
/// Appends the key EncodeEdgeKey builds to `out` (no allocation when `out` has the capacity).
void AppendEdgeKey(std::string& out, TenantId tenant, CollectionId collection, RowId row,
                   std::string_view label, CollectionId other_collection, RowId other_row);
/// False if `encoded` is not a well-formed edge key.
bool DecodeEdgeKey(std::string_view encoded, EdgeKey& out);
/// EdgeKey with the label as a view into the encoded key (no allocation; for hot read paths).
struct EdgeKeyView {
    std::string_view label;
    CollectionId other_collection = 0;
    RowId other_row = 0;
};
/// False if `encoded` is not a well-formed edge key. Views into `encoded`.
bool DecodeEdgeKeyView(std::string_view encoded, EdgeKeyView& out);
/// The edge filed under the other end: swaps (collection, row) with (other_collection, other_row).
EdgeKey MirrorEdgeKey(const EdgeKey& key);
/// T C row — the prefix of all edges filed under one entity.
std::string EdgeRowPrefix(TenantId tenant, CollectionId collection, RowId row);

/// meta_index: T C index_id(BE32) value row(BE64) -> empty. `value` is the self-delimiting,
/// order-preserving encoding of one indexed scalar (document/value_key.h).
using IndexId = std::uint32_t;
std::string MetaIndexPrefix(TenantId tenant, CollectionId collection, IndexId index);
/// Byte length of MetaIndexPrefix.
inline constexpr std::size_t kMetaIndexPrefixBytes = kCollectionPrefixBytes + 4;
/// The row of a meta_index key (its last 8 bytes); the key must be longer than the prefix + 8.
RowId RowFromMetaIndexKey(std::string_view key);

}  // namespace phenix::storage
