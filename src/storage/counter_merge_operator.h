// SPDX-License-Identifier: Apache-2.0
//
// The catalog column family's merge operator. It lets concurrent writers update counters in the
// same atomic write batch as their data without a read-modify-write race:
//   "r/..." keys (row id high-water marks): the result is the maximum operand;
//   "k/..." keys (entity counts): operands are signed deltas, the result their sum.
// Values and operands are fixed64 little-endian (see catalog_codec.h).
//
// Thread-safe (stateless).
#pragma once

#include <memory>

#include <rocksdb/merge_operator.h>

namespace phenix::storage {

std::shared_ptr<rocksdb::MergeOperator> NewCounterMergeOperator();

}  // namespace phenix::storage
