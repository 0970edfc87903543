// SPDX-License-Identifier: Apache-2.0
//
// Store — the RocksDB instance behind one data directory, with Phenix's column families, the
// data-directory format file and the process lock.
//
// Data directory layout (docs/formats/data-directory.md):
//   DIR/PHENIX_FORMAT   "phenix-data-format <N>\n"; written before anything else
//   DIR/LOCK            flock held while open (contains the holder's pid)
//   DIR/db/             RocksDB (WAL, SST files, MANIFEST)
//
// The Store owns the rocksdb::DB and the column family handles; callers borrow raw pointers
// that stay valid until Close(). Thread-safe (as RocksDB is) except Close(), which the owner
// calls once no other call is in flight.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <phenix/options.h>
#include <phenix/result.h>

#include "common/file_lock.h"

namespace phenix::storage {

/// The data directory format this build writes and reads.
inline constexpr int kDataFormatVersion = 1;
inline constexpr const char* kFormatFileName = "PHENIX_FORMAT";
inline constexpr const char* kLockFileName = "LOCK";
inline constexpr const char* kRocksDirName = "db";

enum class ColumnFamily : std::uint8_t {
    kCatalog = 0,
    kEntities,
    kIds,
    kOutEdges,
    kInEdges,
};
inline constexpr std::size_t kNumColumnFamilies = 5;
/// The RocksDB name of a column family ("catalog", "entities", ...).
const char* ColumnFamilyName(ColumnFamily cf);

/// Converts a RocksDB status into a Phenix Status, prefixing `context` to the message.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

class Store {
  public:
    /// `env` (optional, not owned, must outlive the Store) replaces RocksDB's default Env; tests
    /// pass one built on a fault-injecting FileSystem to simulate power loss.
    static Result<std::unique_ptr<Store>> Open(const std::string& path, const Options& options,
                                               rocksdb::Env* env = nullptr);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /// Syncs the WAL (even in relaxed mode) and closes RocksDB, then releases the lock.
    Status Close();

    [[nodiscard]] rocksdb::DB* db() const { return db_.get(); }
    [[nodiscard]] rocksdb::ColumnFamilyHandle* cf(ColumnFamily family) const {
        return handles_[static_cast<std::size_t>(family)];
    }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const rocksdb::WriteOptions& write_options() const { return write_options_; }

    /// Applies a RocksDB write batch atomically with the configured durability.
    Status Write(rocksdb::WriteBatch& batch);

    /// Reads a value; NotFound (a plain Status) when absent.
    Result<std::string> Get(ColumnFamily family, const rocksdb::Slice& key,
                            const rocksdb::Snapshot* snapshot = nullptr) const;

  private:
    Store() = default;

    std::string path_;
    std::unique_ptr<FileLock> lock_;
    std::unique_ptr<rocksdb::DB> db_;
    std::array<rocksdb::ColumnFamilyHandle*, kNumColumnFamilies> handles_{};
    rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
    rocksdb::WriteOptions write_options_;
    // Set once a write fails: RocksDB then holds a background error and its WAL writer must not
    // be synced again (Debian's assertion-enabled librocksdb aborts the process if it is).
    std::atomic<bool> write_failed_{false};
};

}  // namespace phenix::storage
