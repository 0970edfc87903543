// SPDX-License-Identifier: Apache-2.0
//
// Store — the RocksDB instance behind one data directory, with Phenix's column families, the
// data-directory format file and the process lock.
//
// Data directory layout (docs/formats/data-directory.md):
//   DIR/PHENIX_FORMAT   "phenix-data-format <N>\n"; written before anything else
//   DIR/LOCK            flock held while open: exclusively by a read-write open (the file then
//                       contains its pid), shared by read-only opens
//   DIR/db/             RocksDB (WAL, SST files, MANIFEST)
//
// A read-only Store (Options::read_only) opens RocksDB with DB::OpenForReadOnly and writes
// nothing in DIR: it refuses every write with FailedPrecondition (ReadOnlyError). A read-write
// open on a full disk fails with ResourceExhausted and leaves DIR as it was (open_attempt.h).
//
// The Store owns the rocksdb::DB and the column family handles; callers borrow raw pointers
// that stay valid until Close(). Thread-safe (as RocksDB is) except Close(), which the owner
// calls once no other call is in flight.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <phenix/options.h>
#include <phenix/result.h>
#include <phenix/stats.h>

#include "common/file_lock.h"
#include "storage/info_log.h"
#include "storage/wal_timing_env.h"

namespace phenix::crypto {
class TenantKeyring;  // crypto/tenant_keys.h
}  // namespace phenix::crypto

namespace phenix::storage {

class PayloadCipher;  // storage/payload_cipher.h

/// The data directory format this build writes and reads. Format 2 added commit timestamps to
/// the keys of every versioned column family (docs/decisions/0003-mvcc-timestamps.md); format 3
/// added the meta_index column family (metadata indexes). A format-2 directory is upgraded in
/// place when opened (the new column family is created empty).
inline constexpr int kDataFormatVersion = 3;
/// The oldest format this build opens (and upgrades).
inline constexpr int kOldestReadableFormatVersion = 2;
inline constexpr const char* kFormatFileName = "PHENIX_FORMAT";
inline constexpr const char* kLockFileName = "LOCK";
inline constexpr const char* kRocksDirName = "db";
/// The format file's second line in an encrypted directory: "encryption aes-256-ctr"
/// (docs/security.md; the master key's id is in DIR/keys/data_key).
inline constexpr const char* kEncryptionFormatKey = "encryption";

enum class ColumnFamily : std::uint8_t {
    kCatalog = 0,
    kEntities,
    kIds,
    kOutEdges,
    kInEdges,
    kMetaIndex,
};
inline constexpr std::size_t kNumColumnFamilies = 6;
/// The RocksDB name of a column family ("catalog", "entities", ...).
const char* ColumnFamilyName(ColumnFamily cf);

/// Versioned column families keep every version of a key, tagged with the commit timestamp
/// (RocksDB user-defined timestamps: 8 bytes, little-endian, newest first). Reads of them need a
/// read timestamp. The catalog is not versioned.
constexpr bool IsVersioned(ColumnFamily cf) {
    return cf != ColumnFamily::kCatalog;
}
inline constexpr std::size_t kTimestampBytes = 8;
/// Reads "everything committed so far" (writers under their key locks).
inline constexpr std::uint64_t kLatestTimestamp = ~std::uint64_t{0};
/// The 8-byte encoding RocksDB's timestamp comparator expects.
std::string EncodeTimestamp(std::uint64_t ts);
std::uint64_t DecodeTimestamp(std::string_view encoded);

/// A read timestamp held in the form rocksdb::ReadOptions::timestamp points to.
class ReadTimestamp {
  public:
    explicit ReadTimestamp(std::uint64_t ts)
        : ts_(ts), encoded_(EncodeTimestamp(ts)), slice_(encoded_) {}
    ReadTimestamp(const ReadTimestamp&) = delete;
    ReadTimestamp& operator=(const ReadTimestamp&) = delete;
    [[nodiscard]] std::uint64_t value() const { return ts_; }
    /// ReadOptions reading `family` at this timestamp (none for unversioned families).
    [[nodiscard]] rocksdb::ReadOptions For(ColumnFamily family) const {
        rocksdb::ReadOptions read_options;
        if (IsVersioned(family)) {
            read_options.timestamp = &slice_;
        }
        return read_options;
    }

  private:
    std::uint64_t ts_;
    std::string encoded_;
    rocksdb::Slice slice_;
};

/// Converts a RocksDB status into a Phenix Status, prefixing `context` to the message.
Status FromRocks(const rocksdb::Status& s, std::string_view context);

/// The FailedPrecondition every write to a read-only database returns; `operation` names what
/// was refused ("writing entities", "CreateCollection", ...).
Status ReadOnlyError(std::string_view operation);

class Store {
  public:
    /// `env` (optional, not owned, must outlive the Store) replaces RocksDB's default Env; tests
    /// pass one built on a fault-injecting FileSystem to simulate power loss.
    /// With options.read_only: the directory must hold a database (NotFound otherwise), is
    /// locked shared, and nothing in it is written; a format-2 directory (which a read-write
    /// open upgrades) is refused with FailedPrecondition.
    /// With options.encryption.kms: a new directory is created encrypted (storage/encrypted_fs.h);
    /// an existing one must have been. FailedPrecondition when the two disagree, or the KMS's
    /// master key is not the one that wrapped the data key.
    /// Errors besides those of Database::Open: ResourceExhausted when a read-write open finds
    /// too little free disk space, or runs out of it (the directory is then left as it was).
    static Result<std::unique_ptr<Store>> Open(const std::string& path, const Options& options,
                                               rocksdb::Env* env = nullptr);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /// Syncs the WAL (even in relaxed mode), flushes the memtables (so the next open replays no
    /// log; skipped after a failed write) and closes RocksDB, then releases the lock. A failed
    /// flush is reported, but the store is closed and nothing acknowledged is lost.
    Status Close();

    [[nodiscard]] rocksdb::DB* db() const { return db_.get(); }
    [[nodiscard]] rocksdb::ColumnFamilyHandle* cf(ColumnFamily family) const {
        return handles_[static_cast<std::size_t>(family)];
    }
    [[nodiscard]] const std::string& path() const { return path_; }
    /// Opened with Options::read_only: every write below fails with ReadOnlyError.
    [[nodiscard]] bool read_only() const { return read_only_; }
    [[nodiscard]] const rocksdb::WriteOptions& write_options() const { return write_options_; }
    /// The file system RocksDB writes through (the Env's: a fault-injecting one in tests).
    /// Files of derived state (index checkpoints) go through it too.
    [[nodiscard]] rocksdb::FileSystem* file_system() const { return file_system_.get(); }
    /// The per-tenant encryption of entity payloads and checkpoints (a pass-through without
    /// encryption at rest).
    [[nodiscard]] const PayloadCipher& payloads() const { return *payloads_; }

    /// Makes every write that has returned so far durable (fsyncs the WAL), also in relaxed
    /// mode. FailedPrecondition after a failed write (the WAL is in an error state and must
    /// not be synced again).
    Status SyncWal();
    /// The lowest commit timestamp whose write failed (~0: none). Its WAL record may or may not
    /// have reached the disk, so derived state must never claim to cover it.
    [[nodiscard]] std::uint64_t first_failed_commit_ts() const {
        return first_failed_commit_ts_.load();
    }

    /// Applies a RocksDB write batch atomically with the configured durability, stamping every
    /// key of a versioned column family with `commit_ts`. Build the batch with NewBatch().
    Status Write(rocksdb::WriteBatch& batch, std::uint64_t commit_ts);
    /// Applies a batch that touches only the (unversioned) catalog, synced or not. Every write
    /// to RocksDB goes through Write or WriteCatalog, so a failure is always remembered (see
    /// write_failed_).
    Status WriteCatalog(rocksdb::WriteBatch& batch, bool sync);
    /// An empty batch ready for Write (reserves `bytes`).
    static rocksdb::WriteBatch NewBatch(std::size_t bytes = 0);

    /// Reads a value as of `ts` (ignored for unversioned families); NotFound (a plain Status)
    /// when absent.
    Result<std::string> Get(ColumnFamily family, const rocksdb::Slice& key,
                            std::uint64_t ts = kLatestTimestamp) const;

    /// Lets compaction discard versions older than `ts` that a newer version at or below `ts`
    /// hides (garbage collection of MVCC history). Reads below `ts` fail afterwards. Only ever
    /// moves forward; calls with a lower `ts` are ignored.
    Status SetHistoryFloor(std::uint64_t ts);
    [[nodiscard]] std::uint64_t history_floor() const { return history_floor_.load(); }

    /// One stored version of a key: its commit timestamp and value (nullopt: a deletion).
    struct KeyVersion {
        std::string_view key;  ///< user key, without the timestamp
        std::uint64_t ts = 0;
        std::optional<std::string_view> value;
    };
    /// Visits every version with a timestamp in [from_ts, to_ts] of the keys that start with
    /// `prefix` in a versioned column family: keys in order, each key's versions newest first.
    /// Versions below the history floor may have been merged by garbage collection. Stops at
    /// the first error `visit` returns.
    Status ScanVersions(ColumnFamily family, std::string_view prefix, std::uint64_t from_ts,
                        std::uint64_t to_ts,
                        const std::function<Status(const KeyVersion&)>& visit) const;

    /// Flushes and compacts every column family down to the bottom level (drops versions below
    /// the history floor, tombstones and range-deleted data). Blocks until done.
    Status CompactAll();

    /// RocksDB's estimate of the bytes of every key that starts with each prefix in the entity,
    /// id and edge column families (SST files and memtables), one sum per prefix. Reads index
    /// blocks only, no data.
    [[nodiscard]] std::vector<std::uint64_t> ApproximateBytes(
        const std::vector<std::string>& prefixes) const;
    /// The compaction backlog, write stalls and block cache, from RocksDB's properties and
    /// statistics tickers; SST bytes per column family; WAL write and sync latency; the data
    /// directory's free and used disk bytes (statvfs and a listing of its files: no data is
    /// read) (Database::Stats). Cheap; never waits for writers.
    [[nodiscard]] StorageStats Stats() const;

  private:
    Store();
    // The RocksDB open, read-write or read-only; fills db_ and the handles.
    rocksdb::Status OpenRocks(const Options& options, rocksdb::Env* env);
    // At open: re-applies the floor recorded in the catalog, or adopts RocksDB's if higher.
    Status ApplyRecordedFloor(std::uint64_t recorded);
    // The read-only twin: adopts the higher of the recorded floor and RocksDB's, changing
    // nothing.
    Status ReadRecordedFloor(std::uint64_t recorded);

    std::string path_;
    bool read_only_ = false;
    std::unique_ptr<FileLock> lock_;
    // Encryption at rest: the Env over the encrypting file system (outlives db_).
    std::unique_ptr<rocksdb::Env> encrypted_env_;
    // WAL latency (Stats): the histograms, and the Env that times the WAL's files into them
    // (wal_timing_env.h; read-write opens with Options::wal_latency_metrics; outlives db_).
    std::shared_ptr<WalLatency> wal_latency_ = std::make_shared<WalLatency>();
    std::unique_ptr<rocksdb::Env> wal_timing_env_;
    // RocksDB's info log (read-write only; shared with RocksDB, which logs to it until closed).
    std::shared_ptr<InfoLog> info_log_;
    std::unique_ptr<rocksdb::DB> db_;
    std::array<rocksdb::ColumnFamilyHandle*, kNumColumnFamilies> handles_{};
    rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
    rocksdb::WriteOptions write_options_;
    // Set once a write fails: RocksDB then holds a background error and its WAL writer must not
    // be synced again (Debian's assertion-enabled librocksdb aborts the process if it is).
    std::atomic<bool> write_failed_{false};
    std::atomic<std::uint64_t> first_failed_commit_ts_{~std::uint64_t{0}};
    std::shared_ptr<rocksdb::FileSystem> file_system_;
    // Encryption at rest: the tenants' data keys (null without encryption) and the payload
    // cipher over them (set by Open once the file system is known).
    std::shared_ptr<crypto::TenantKeyring> keyring_;
    std::unique_ptr<PayloadCipher> payloads_;
    // Monitoring (Stats): RocksDB's tickers (no histograms or timers: they cost on every read),
    // the block cache shared by the column families, and a listener counting write stalls.
    std::shared_ptr<rocksdb::Statistics> statistics_;
    std::shared_ptr<rocksdb::Cache> block_cache_;
    std::shared_ptr<std::atomic<std::uint64_t>> write_stalls_ =
        std::make_shared<std::atomic<std::uint64_t>>(0);
    std::mutex floor_mu_;  // serializes SetHistoryFloor
    std::atomic<std::uint64_t> history_floor_{0};
};

}  // namespace phenix::storage
