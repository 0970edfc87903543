// SPDX-License-Identifier: Apache-2.0
#include "storage/counter_merge_operator.h"

#include <string>

#include "common/coding.h"
#include "storage/catalog_codec.h"

namespace phenix::storage {

namespace {

class CounterMergeOperator final : public rocksdb::AssociativeMergeOperator {
  public:
    bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
               const rocksdb::Slice& value, std::string* new_value,
               rocksdb::Logger* /*logger*/) const override {
        if (value.size() != 8 || (existing_value != nullptr && existing_value->size() != 8)) {
            return false;  // RocksDB reports Corruption for the key
        }
        const std::uint64_t operand = coding::DecodeFixed64LE(value.data());
        const std::uint64_t current =
            existing_value ? coding::DecodeFixed64LE(existing_value->data()) : 0;
        std::uint64_t result = 0;
        if (key.starts_with(
                rocksdb::Slice(kRowHighWaterPrefix.data(), kRowHighWaterPrefix.size())) ||
            key == rocksdb::Slice(kCommitClockKey.data(), kCommitClockKey.size()) ||
            key == rocksdb::Slice(kHistoryFloorKey.data(), kHistoryFloorKey.size())) {
            result = std::max(current, operand);
        } else if (key.starts_with(
                       rocksdb::Slice(kEntityCountPrefix.data(), kEntityCountPrefix.size()))) {
            result =
                current + operand;  // two's complement: adding a negative delta wraps correctly
        } else {
            return false;
        }
        new_value->clear();
        coding::PutFixed64LE(*new_value, result);
        return true;
    }

    const char* Name() const override { return "phenix.CounterMergeOperator"; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewCounterMergeOperator() {
    return std::make_shared<CounterMergeOperator>();
}

}  // namespace phenix::storage
