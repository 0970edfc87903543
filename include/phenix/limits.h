// SPDX-License-Identifier: Apache-2.0
//
// Documented hard limits of the data model. Input beyond a limit is rejected with
// InvalidArgument (or ResourceExhausted for batch sizes) and changes nothing.
// docs/limits.md explains each one; keep the two in sync.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phenix::limits {

/// External entity ids: non-empty valid UTF-8, at most this many bytes.
inline constexpr std::size_t kMaxIdBytes = 512;
/// Tenant and collection names: [A-Za-z_][A-Za-z0-9_-]*, at most this many bytes.
inline constexpr std::size_t kMaxNameBytes = 64;
/// Vector dimension of a collection: 1..kMaxDimension.
inline constexpr std::uint32_t kMaxDimension = 16384;
/// Entity metadata: a JSON object of at most this many bytes once minified.
inline constexpr std::size_t kMaxMetadataBytes = 256 * 1024;
/// Nesting depth of metadata and edge properties (objects and arrays).
inline constexpr int kMaxJsonDepth = 64;
/// Edge labels: non-empty valid UTF-8 without control characters, at most this many bytes.
inline constexpr std::size_t kMaxEdgeLabelBytes = 128;
/// Edge properties: a JSON object of at most this many bytes once minified.
inline constexpr std::size_t kMaxEdgePropertiesBytes = 64 * 1024;
/// Out-edges stored on one entity.
inline constexpr std::size_t kMaxEdgesPerEntity = 10000;
/// Operations in one WriteBatch.
inline constexpr std::size_t kMaxBatchOps = 100000;
/// Encoded bytes written by one WriteBatch (records, keys and edges together).
inline constexpr std::size_t kMaxBatchBytes = 64u * 1024u * 1024u;
/// Entities returned by one Scan call.
inline constexpr std::size_t kMaxScanLimit = 10000;
/// Ids returned by one Find call (its count is always exact).
inline constexpr std::size_t kMaxFindLimit = 100000;
/// Metadata indexes per collection.
inline constexpr std::size_t kMaxIndexesPerCollection = 64;
/// Upper bound of Options::max_traversal_depth.
inline constexpr std::uint32_t kMaxTraversalDepth = 64;

}  // namespace phenix::limits
