// SPDX-License-Identifier: Apache-2.0
#include "storage/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <sys/statvfs.h>

#include "common/coding.h"
#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "storage/catalog_codec.h"
#include "storage/counter_merge_operator.h"
#include "storage/encrypted_fs.h"
#include "storage/open_attempt.h"
#include "storage/payload_cipher.h"
#include "storage/wal_timing_env.h"

namespace rocksdb {
// RocksDB's bytewise comparator with a 64-bit little-endian timestamp suffix (newest first).
// Exported by librocksdb since 6.x; RocksDB 7.8's public headers do not declare it (8.x does).
// Its name, "leveldb.BytewiseComparator.u64ts", is recorded in every SST file and MANIFEST.
const Comparator* BytewiseComparatorWithU64Ts();
}  // namespace rocksdb

namespace phenix::storage {

std::string EncodeTimestamp(std::uint64_t ts) {
    std::string out(kTimestampBytes, '\0');
    for (std::size_t idx = 0; idx < kTimestampBytes; ++idx) {
        out[idx] = static_cast<char>((ts >> (8 * idx)) & 0xff);
    }
    return out;
}

std::uint64_t DecodeTimestamp(std::string_view encoded) {
    std::uint64_t ts = 0;
    for (std::size_t idx = 0; idx < kTimestampBytes && idx < encoded.size(); ++idx) {
        ts |= static_cast<std::uint64_t>(static_cast<unsigned char>(encoded[idx])) << (8 * idx);
    }
    return ts;
}

namespace fs = std::filesystem;

const char* ColumnFamilyName(ColumnFamily cf) {
    switch (cf) {
        case ColumnFamily::kCatalog:
            return "catalog";
        case ColumnFamily::kEntities:
            return "entities";
        case ColumnFamily::kIds:
            return "ids";
        case ColumnFamily::kOutEdges:
            return "out_edges";
        case ColumnFamily::kInEdges:
            return "in_edges";
        case ColumnFamily::kMetaIndex:
            return "meta_index";
    }
    return "unknown";
}

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
    if (s.ok()) {
        return Status::Ok();
    }
    std::string msg(context);
    msg += ": ";
    msg += s.ToString();
    if (s.IsNotFound()) {
        return Status::NotFound(std::move(msg));
    }
    if (s.IsCorruption()) {
        return Status::Corruption(std::move(msg));
    }
    if (s.IsIOError()) {
        if (s.subcode() == rocksdb::Status::kNoSpace) {
            return Status::ResourceExhausted(std::move(msg) +
                                             " (the disk is full; free space and retry)");
        }
        return Status::IOError(std::move(msg));
    }
    if (s.IsInvalidArgument()) {
        return Status::InvalidArgument(std::move(msg));
    }
    if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
        return Status::Aborted(std::move(msg));
    }
    if (s.IsNotSupported()) {
        return Status::Unimplemented(std::move(msg));
    }
    if (s.IsIncomplete() || s.IsShutdownInProgress()) {
        return Status::Unavailable(std::move(msg));
    }
    return Status::Internal(std::move(msg));
}

Status ReadOnlyError(std::string_view operation) {
    return Status::FailedPrecondition(
        "the database is open read-only (Options::read_only; the shell's --read-only): " +
        std::string(operation) +
        " is not allowed. Reads, searches, Verify and COPY ... TO work; reopen it without "
        "read-only to write");
}

namespace {

// The LOG is renamed to LOG.old.<time> at a successful open once it is this large.
constexpr std::uint64_t kRotateInfoLogAboveBytes = 4u << 20;

Status SyncPath(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        return Status::IOError("cannot open " + path + " to sync it: " + std::strerror(errno));
    }
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
        return Status::IOError("fsync of " + path + " failed: " + std::strerror(err));
    }
    return Status::Ok();
}

// Writes the format file atomically and durably: temp file, fsync, rename, fsync directory.
// `encryption`: the second line's value ("aes-256-ctr") for an encrypted directory, else empty.
Status WriteFormatFile(const std::string& dir, const std::string& encryption) {
    const std::string final_path = dir + "/" + kFormatFileName;
    const std::string tmp_path = final_path + ".tmp";
    {
        std::ofstream out(tmp_path, std::ios::trunc);
        out << "phenix-data-format " << kDataFormatVersion << "\n";
        if (!encryption.empty()) {
            out << kEncryptionFormatKey << " " << encryption << "\n";
        }
        out.close();
        if (!out) {
            return Status::IOError("cannot write " + tmp_path);
        }
    }
    PHENIX_RETURN_IF_ERROR(SyncPath(tmp_path, O_RDONLY));
    std::error_code ec;
    fs::rename(tmp_path, final_path, ec);
    if (ec) {
        return Status::IOError("cannot rename " + tmp_path + ": " + ec.message());
    }
    return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

// Checks that DIR/PHENIX_FORMAT names a format this build reads; returns the version.
Result<int> CheckFormatFile(const std::string& dir) {
    const std::string path = dir + "/" + kFormatFileName;
    std::ifstream in(path);
    std::string magic;
    std::string version_text;
    in >> magic >> version_text;
    if (!in || magic != "phenix-data-format") {
        return Status::FailedPrecondition(path +
                                          " is unreadable or not a Phenix format file; "
                                          "is this a Phenix data directory?");
    }
    int version = 0;
    try {
        std::size_t used = 0;
        version = std::stoi(version_text, &used);
        if (used != version_text.size()) {
            version = -1;
        }
    } catch (const std::exception&) {
        version = -1;
    }
    if (version < 1) {
        return Status::FailedPrecondition(path + " holds an invalid format version '" +
                                          version_text + "'");
    }
    if (version < kOldestReadableFormatVersion) {
        return Status::FailedPrecondition(
            "the data directory " + dir + " uses format " + std::to_string(version) +
            " (written before transactions existed); this build reads formats " +
            std::to_string(kOldestReadableFormatVersion) + " to " +
            std::to_string(kDataFormatVersion) +
            " and cannot convert it in place: export the data with the older build "
            "(e.g. `scan` in the shell) and load it into a new directory");
    }
    if (version > kDataFormatVersion) {
        return Status::FailedPrecondition(
            "the data directory " + dir + " uses format " + std::to_string(version) +
            ", which is newer than this build of Phenix "
            "supports (format " +
            std::to_string(kDataFormatVersion) + "); upgrade Phenix to open it");
    }
    return version;
}

// The value of the format file's "encryption" line; empty for an unencrypted directory.
std::string ReadFormatEncryption(const std::string& dir) {
    std::ifstream in(dir + "/" + kFormatFileName);
    std::string line;
    while (std::getline(in, line)) {
        const std::string prefix = std::string(kEncryptionFormatKey) + " ";
        if (line.starts_with(prefix)) {
            return line.substr(prefix.size());
        }
    }
    return "";
}

// A new directory may hold the lock file, and the data key of a creation that stopped before
// it wrote the format file (the data key is written first).
bool DirectoryHasOtherFiles(const std::string& dir) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename() != kLockFileName &&
            entry.path().filename() != crypto::kKeysDirName) {
            return true;
        }
    }
    return false;
}

// Counts the column families' entries into a slowed-down or stopped write state.
class StallCounter final : public rocksdb::EventListener {
  public:
    explicit StallCounter(std::shared_ptr<std::atomic<std::uint64_t>> count)
        : count_(std::move(count)) {}
    void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override {
        if (info.condition.cur != rocksdb::WriteStallCondition::kNormal &&
            info.condition.prev == rocksdb::WriteStallCondition::kNormal) {
            count_->fetch_add(1, std::memory_order_relaxed);  // a monitoring counter alone
        }
    }

  private:
    std::shared_ptr<std::atomic<std::uint64_t>> count_;
};

rocksdb::ColumnFamilyOptions MakeCfOptions(ColumnFamily cf,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
    rocksdb::ColumnFamilyOptions cf_options;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.format_version = 5;
    // Partitioned index and filters: a large SST's single index block (measured 1.2 MB for the
    // entities of 200k 128-d entities) does not fit one shard of a small sharded block cache, so
    // every point read re-read and decompressed it (Search 25x slower with the default 64 MiB
    // cache). With partitions, each read touches one small index partition; the top-level index
    // stays pinned.
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    if (cf == ColumnFamily::kIds || cf == ColumnFamily::kEntities || cf == ColumnFamily::kCatalog) {
        // Point lookups dominate: whole-key bloom filters skip files without the key.
        table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    }
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.compression = rocksdb::kLZ4Compression;
    cf_options.bottommost_compression = rocksdb::kZSTD;
    cf_options.level_compaction_dynamic_level_bytes = true;
    if (cf == ColumnFamily::kIds) {
        // Every insert probes the id index for an id that is usually absent; a memtable bloom
        // filter answers that without walking the skiplist.
        cf_options.memtable_prefix_bloom_size_ratio = 0.1;
        cf_options.memtable_whole_key_filtering = true;
    }
    if (cf == ColumnFamily::kCatalog) {
        cf_options.merge_operator = NewCounterMergeOperator();
    } else {
        // Every other key starts with (tenant, collection). A write's keys reach the memtable in
        // ascending order (the engine sorts each batch) but land between keys already there (an
        // in-edge key is filed under its target's row); without a hint, each insert whose
        // predecessor is not adjacent searches the skiplist again from the top. With a hint per
        // collection, RocksDB moves the previous insert's position up only as far as needed
        // (single-writer inserts only; ~250 bytes per collection).
        cf_options.memtable_insert_with_hint_prefix_extractor.reset(
            rocksdb::NewFixedPrefixTransform(kCollectionPrefixBytes));
    }
    if (IsVersioned(cf)) {
        cf_options.comparator = rocksdb::BytewiseComparatorWithU64Ts();
    }
    return cf_options;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const Options& options,
                                           rocksdb::Env* env) {
    if (path.empty()) {
        return Status::InvalidArgument("the data directory path is empty");
    }
    const bool read_only = options.read_only;
    rocksdb::FileSystem* file_system =
        env != nullptr ? env->GetFileSystem().get() : rocksdb::FileSystem::Default().get();
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (exists && !fs::is_directory(path, ec)) {
        return Status::FailedPrecondition(path + " exists and is not a directory");
    }
    if (!exists) {
        if (read_only) {
            return Status::NotFound("the data directory " + path +
                                    " does not exist (a read-only open creates nothing)");
        }
        if (!options.create_if_missing) {
            return Status::NotFound("the data directory " + path + " does not exist");
        }
        // A new database needs only the headroom; check it on the nearest existing ancestor
        // before creating anything.
        fs::path existing = fs::absolute(path, ec).parent_path();
        while (!existing.empty() && !fs::exists(existing, ec) && existing != existing.root_path()) {
            existing = existing.parent_path();
        }
        PHENIX_RETURN_IF_ERROR(OpenAttempt::Before(file_system, path + "/" + kRocksDirName)
                                   .CheckFreeSpace(existing.string())
                                   .WithContext("creating the data directory " + path));
        fs::create_directories(path, ec);
        if (ec) {
            return Status::IOError("cannot create the data directory " + path + ": " +
                                   ec.message());
        }
    }

    if (read_only && !fs::exists(path + "/" + kFormatFileName, ec)) {
        // Checked before locking too, so that not even the lock file is created.
        return Status::NotFound("no Phenix database in " + path +
                                " (a read-only open creates nothing)");
    }
    auto store = std::unique_ptr<Store>(new Store());
    store->path_ = path;
    store->read_only_ = read_only;
    // Lock first: everything after this reads or writes files another process could be using.
    // Read-only opens share the lock (they write nothing, so several may read at once); none
    // runs beside a read-write open, whose changes RocksDB's read-only mode does not follow.
    PHENIX_ASSIGN_OR_RETURN(
        store->lock_,
        FileLock::Acquire(path + "/" + kLockFileName,
                          read_only ? FileLock::Mode::kShared : FileLock::Mode::kExclusive));

    const bool has_format = fs::exists(path + "/" + kFormatFileName, ec);
    int found_version = kDataFormatVersion;
    if (has_format) {
        if (options.error_if_exists) {
            return Status::AlreadyExists("the data directory " + path +
                                         " already holds a database");
        }
        PHENIX_ASSIGN_OR_RETURN(found_version, CheckFormatFile(path));
    } else {
        if (DirectoryHasOtherFiles(path)) {
            return Status::FailedPrecondition(
                path + " is not empty and is not a Phenix data directory (no " + kFormatFileName +
                " file); refusing to use it");
        }
        if (read_only) {
            return Status::NotFound("no Phenix database in " + path +
                                    " (a read-only open creates nothing)");
        }
        if (!options.create_if_missing) {
            return Status::NotFound("no Phenix database in " + path);
        }
    }
    if (read_only && found_version < kDataFormatVersion) {
        return Status::FailedPrecondition(
            "the data directory " + path + " uses format " + std::to_string(found_version) +
            ", which this build upgrades to format " + std::to_string(kDataFormatVersion) +
            " in place when it opens it for writing; a read-only open cannot upgrade it. Open it "
            "once without read-only (this needs a little free disk space), or read it with the "
            "build that wrote it");
    }

    // Encryption at rest: the directory is encrypted or not from its creation on; the format
    // file's "encryption" line says which, and the KMS must match.
    const std::string encryption = has_format ? ReadFormatEncryption(path)
                                   : options.encryption.kms.empty() ? std::string()
                                                                    : crypto::kFileCipherName;
    std::unique_ptr<rocksdb::Env> encrypted_env;
    if (encryption.empty() && !options.encryption.kms.empty()) {
        return Status::FailedPrecondition(
            "the database in " + path +
            " was created without encryption at rest, so it cannot be opened with an encryption "
            "KMS (encrypting a database in place is not supported: export it and load it into a "
            "new, encrypted data directory)");
    }
    if (!encryption.empty()) {
        if (encryption != crypto::kFileCipherName) {
            return Status::FailedPrecondition("the database in " + path + " is encrypted with '" +
                                              encryption + "', which this build does not support");
        }
        if (options.encryption.kms.empty()) {
            auto record = crypto::ReadDataKeyRecord(path);
            return Status::FailedPrecondition(
                "the database in " + path + " is encrypted at rest (" + encryption +
                (record.ok() ? ", master key " + record->kek_id : std::string()) +
                "): open it with its master key (Options::encryption.kms; phenixd "
                "--encryption-kms; phenix --encryption-kms)");
        }
        PHENIX_ASSIGN_OR_RETURN(
            std::shared_ptr<crypto::Kms> kms,
            crypto::OpenKms(options.encryption.kms,
                            crypto::KmsCredentials{.pin_file = options.encryption.pin_file}));
        crypto::SecretBytes data_key;
        if (crypto::HasDataKey(path)) {
            PHENIX_ASSIGN_OR_RETURN(data_key, crypto::LoadDataKey(path, *kms));
        } else if (has_format) {
            return Status::FailedPrecondition("the database in " + path +
                                              " is encrypted at rest but its data key file " +
                                              crypto::DataKeyPath(path) + " is missing");
        } else {
            PHENIX_ASSIGN_OR_RETURN(data_key, crypto::CreateDataKey(path, *kms));
        }
        std::shared_ptr<rocksdb::FileSystem> base =
            env != nullptr ? env->GetFileSystem() : rocksdb::FileSystem::Default();
        PHENIX_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::FileSystem> encrypted_fs,
                                NewEncryptedFileSystem(std::move(base), data_key));
        encrypted_env = rocksdb::NewCompositeEnv(encrypted_fs);
        store->keyring_ = std::make_shared<crypto::TenantKeyring>(path, std::move(kms), read_only);
    }

    const std::string rocks_dir = path + "/" + kRocksDirName;
    std::optional<OpenAttempt> attempt;
    if (!read_only) {
        // Before anything is written: a full disk refuses the open here, changing nothing.
        attempt = OpenAttempt::Before(file_system, rocks_dir);
        PHENIX_RETURN_IF_ERROR(attempt->CheckFreeSpace(path));
        if (!has_format) {
            PHENIX_RETURN_IF_ERROR(WriteFormatFile(path, encryption));
        }
    }
    if (encrypted_env) {
        env = encrypted_env.get();
    }
    store->encrypted_env_ = std::move(encrypted_env);
    if (options.wal_latency_metrics && !read_only) {
        // Outermost, so that the time of encryption (and a test's fault injection) counts.
        store->wal_timing_env_ =
            NewWalTimingEnv(env != nullptr ? env : rocksdb::Env::Default(), store->wal_latency_);
        env = store->wal_timing_env_.get();
    }
    if (const rocksdb::Status s = store->OpenRocks(options, env); !s.ok()) {
        const std::string context =
            "cannot open the storage engine in " + path + (read_only ? " read-only" : "");
        if (store->info_log_) {
            // RocksDB's account of the failure goes to the LOG, except on a full disk, where the
            // error says it all and the directory must stay as it was.
            if (s.IsNoSpace()) {
                store->info_log_->Discard();
            } else {
                store->info_log_->Start(kRotateInfoLogAboveBytes);
            }
        }
        if (attempt && s.IsNoSpace()) {
            // Undo first: the space the attempt used counts as free in the advice.
            const std::string undone = attempt->Undo();
            return Status::ResourceExhausted(context + ": " + s.ToString() +
                                             ". The disk is full: " + attempt->SpaceAdvice(path) +
                                             ". " + undone);
        }
        return FromRocks(s, context);
    }
    if (found_version < kDataFormatVersion) {
        // Format 2 -> 3: RocksDB created the missing meta_index column family above; record the
        // new format only now that the directory has it.
        PHENIX_RETURN_IF_ERROR(WriteFormatFile(path, encryption));
    }
    // Resume from the persisted MVCC history floor. (RocksDB keeps its own copy in the
    // MANIFEST, but 7.8's GetFullHistoryTsLow asserts when it was never set.)
    auto floor = store->Get(ColumnFamily::kCatalog, kHistoryFloorKey);
    if (floor.ok()) {
        PHENIX_ASSIGN_OR_RETURN(std::uint64_t value, DecodeCounter(*floor));
        PHENIX_RETURN_IF_ERROR(read_only ? store->ReadRecordedFloor(value)
                                         : store->ApplyRecordedFloor(value));
    } else if (!floor.status().IsNotFound()) {
        return floor.status();
    }
    // Only now that the open succeeded: a failed one leaves the lock file and the LOG as they
    // were.
    store->lock_->RecordHolder();
    if (store->info_log_) {
        store->info_log_->Start(kRotateInfoLogAboveBytes);
    }
    return store;
}

rocksdb::Status Store::OpenRocks(const Options& options, rocksdb::Env* env) {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = !read_only_;
    db_options.create_missing_column_families = !read_only_;
    if (env != nullptr) {
        db_options.env = env;
    }
    file_system_ = db_options.env->GetFileSystem();
    payloads_ = std::make_unique<PayloadCipher>(keyring_, file_system_);
    int threads = options.background_threads;
    if (threads <= 0) {
        threads = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
    }
    db_options.IncreaseParallelism(threads);
    db_options.max_background_jobs = std::max(2, threads);
    if (!read_only_) {
        // Our logger, not RocksDB's: it survives a full disk and writes nothing before the open
        // succeeded (info_log.h). RocksDB still deletes LOG.old.* beyond keep_log_file_num.
        info_log_ = std::make_shared<InfoLog>(path_ + "/" + kRocksDirName + "/LOG");
        db_options.info_log = info_log_;
    }
    db_options.keep_log_file_num = 5;
    // Bounds the write-ahead log kept for recovery: past this, RocksDB flushes the column
    // families that pin the oldest log (the small, rarely flushed catalog would otherwise keep
    // every log alive). Recovery replays at most this much (docs/operations.md, measured).
    db_options.max_total_wal_size = 128u * 1024u * 1024u;
    db_options.max_manifest_file_size = 64u * 1024u * 1024u;
    // Sync the WAL in bytes_per_sync chunks in the background: the final fsync at commit is then
    // short.
    db_options.wal_bytes_per_sync = 1u << 20;
    db_options.bytes_per_sync = 1u << 20;

    // Tickers only (block cache hits, stall time): a per-core counter increment each.
    statistics_ = rocksdb::CreateDBStatistics();
    statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
    db_options.statistics = statistics_;
    db_options.listeners.push_back(std::make_shared<StallCounter>(write_stalls_));
    auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    block_cache_ = cache;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        auto cf = static_cast<ColumnFamily>(idx);
        descriptors.emplace_back(ColumnFamilyName(cf), MakeCfOptions(cf, cache));
    }

    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw_db = nullptr;
    const std::string rocks_dir = path_ + "/" + kRocksDirName;
    // Read-only, RocksDB replays the write-ahead log into memory (writing nothing), creates no
    // info LOG and takes no lock of its own: our shared lock keeps writers out.
    rocksdb::Status s =
        read_only_ ? rocksdb::DB::OpenForReadOnly(db_options, rocks_dir, descriptors, &handles,
                                                  &raw_db, /*error_if_wal_file_exists=*/false)
                   : rocksdb::DB::Open(db_options, rocks_dir, descriptors, &handles, &raw_db);
    if (!s.ok()) {
        return s;
    }
    db_.reset(raw_db);
    default_handle_ = handles[0];
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        handles_[idx] = handles[idx + 1];
    }
    write_options_.sync = options.durability == Durability::kSync;
    return rocksdb::Status::OK();
}

Status Store::Close() {
    if (!db_) {
        return Status::Ok();
    }
    // After a failed write the WAL writer is in an error state; syncing it again is what
    // RocksDB forbids. Everything acknowledged before the failure is already durable (kSync) or
    // as durable as relaxed mode promises, so skipping the final sync loses nothing promised.
    // (A read-only database has no log of its own to sync and no memtables to write out.)
    Status result =
        write_failed_.load() || read_only_
            ? Status::Ok()
            : FromRocks(db_->FlushWAL(/*sync=*/true), "syncing the write-ahead log at close");
    if (result.ok() && !write_failed_.load() && !read_only_) {
        // Write the memtables out, so that the next open has no write-ahead log to replay: a
        // bulk load that fits in memory is otherwise never flushed, and the first open after it
        // replays the whole load (seconds per 100 MB; docs/benchmarks.md). Flushing here costs
        // less than the replay, which re-inserts every key and then flushes the same data. After
        // a failed write the flush is skipped: the next open recovers from the log, as before.
        // A failed flush loses nothing (the log is synced above): it is reported, and the close
        // goes on.
        rocksdb::FlushOptions flush_options;
        flush_options.wait = true;
        flush_options.allow_write_stall = true;  // no writer is left to stall
        std::vector<rocksdb::ColumnFamilyHandle*> families(handles_.begin(), handles_.end());
        result = FromRocks(db_->Flush(flush_options, families),
                           "flushing the memtables at close (nothing is lost: the next open "
                           "replays the write-ahead log)");
    }
    for (auto* handle : handles_) {
        db_->DestroyColumnFamilyHandle(handle);
    }
    db_->DestroyColumnFamilyHandle(default_handle_);
    handles_.fill(nullptr);
    default_handle_ = nullptr;
    Status close = FromRocks(db_->Close(), write_failed_.load()
                                               ? "closing the storage engine after a failed write "
                                                 "(acknowledged writes are safe; failed ones were "
                                                 "not applied)"
                                               : "closing the storage engine");
    db_.reset();
    lock_.reset();
    return result.ok() ? close : result;
}

Store::Store() = default;

Store::~Store() {
    Close().IgnoreError();
}

namespace {

// Kept out of line so that sanitizer stacks show Store::Write as the caller of RocksDB's write
// (tests/tsan.supp names it: RocksDB's group commit synchronises followers' batches with
// atomics ThreadSanitizer cannot see).
[[gnu::noinline]] rocksdb::Status WriteToRocks(rocksdb::DB* db,
                                               const rocksdb::WriteOptions& options,
                                               rocksdb::WriteBatch* batch) {
    return db->Write(options, batch);
}

}  // namespace

rocksdb::WriteBatch Store::NewBatch(std::size_t bytes) {
    return rocksdb::WriteBatch(bytes, /*max_bytes=*/0, /*protection_bytes_per_key=*/0,
                               /*default_cf_ts_sz=*/0);
}

Status Store::Write(rocksdb::WriteBatch& batch, std::uint64_t commit_ts) {
    if (read_only_) {
        return ReadOnlyError("writing");
    }
    const std::string ts = EncodeTimestamp(commit_ts);
    const std::uint32_t catalog_id = cf(ColumnFamily::kCatalog)->GetID();
    const std::uint32_t default_id = default_handle_->GetID();
    PHENIX_RETURN_IF_ERROR(FromRocks(
        batch.UpdateTimestamps(ts,
                               [catalog_id, default_id](std::uint32_t id) -> std::size_t {
                                   return id == catalog_id || id == default_id ? 0
                                                                               : kTimestampBytes;
                               }),
        "stamping the commit timestamp"));
    rocksdb::Status s = WriteToRocks(db_.get(), write_options_, &batch);
    if (!s.ok()) {
        write_failed_.store(true);
        std::uint64_t first = first_failed_commit_ts_.load();
        while (commit_ts < first &&
               !first_failed_commit_ts_.compare_exchange_weak(first, commit_ts)) {
        }
        if (s.IsIOError() && s.subcode() != rocksdb::Status::kNoSpace) {
            // RocksDB treats a failed WAL append as fatal: every later write fails the same way
            // until the database is reopened. Say so, so the operator knows what to do.
            return FromRocks(s,
                             "write failed; the storage engine stopped accepting writes "
                             "after an I/O error: check the disk, then reopen the database");
        }
    }
    return FromRocks(s, "write failed");
}

Status Store::SyncWal() {
    if (read_only_) {
        return Status::Ok();  // nothing was written, so nothing waits to be made durable
    }
    if (write_failed_.load()) {
        return Status::FailedPrecondition(
            "the write-ahead log cannot be synced after a failed write; reopen the database");
    }
    Status synced = FromRocks(db_->FlushWAL(/*sync=*/true), "syncing the write-ahead log");
    if (!synced.ok()) {
        write_failed_.store(true);  // the WAL writer now holds the error: never sync it again
    }
    return synced;
}

Status Store::ScanVersions(ColumnFamily family, std::string_view prefix, std::uint64_t from_ts,
                           std::uint64_t to_ts,
                           const std::function<Status(const KeyVersion&)>& visit) const {
    if (!IsVersioned(family)) {
        return Status::InvalidArgument("ScanVersions needs a versioned column family");
    }
    const ReadTimestamp read_ts(to_ts);
    const std::string start_ts = EncodeTimestamp(from_ts);
    const rocksdb::Slice start_slice(start_ts);
    rocksdb::ReadOptions read_options = read_ts.For(family);
    read_options.iter_start_ts = &start_slice;
    const std::string upper = PrefixSuccessor(prefix);
    const rocksdb::Slice upper_slice(upper);
    if (!upper.empty()) {
        read_options.iterate_upper_bound = &upper_slice;
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, cf(family)));
    // With iter_start_ts, RocksDB 7.x's key() is the internal key: user key, the 8-byte
    // timestamp, then 8 bytes of (sequence << 8 | value type). Deletions come back as versions.
    constexpr std::size_t kFooterBytes = 8;
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
        const rocksdb::Slice internal = it->key();
        if (internal.size() < kTimestampBytes + kFooterBytes) {
            return Status::Corruption("ScanVersions: unexpected internal key size");
        }
        const std::size_t user_size = internal.size() - kTimestampBytes - kFooterBytes;
        const auto type = static_cast<std::uint8_t>(internal[internal.size() - kFooterBytes]);
        constexpr std::uint8_t kTypeValue = 0x1;
        KeyVersion version;
        version.key = std::string_view(internal.data(), user_size);
        version.ts =
            DecodeTimestamp(std::string_view(internal.data() + user_size, kTimestampBytes));
        constexpr std::uint8_t kTypeDeletion = 0x0;
        constexpr std::uint8_t kTypeSingleDeletion = 0x7;
        constexpr std::uint8_t kTypeDeletionWithTimestamp = 0x14;
        if (type == kTypeValue) {
            version.value = std::string_view(it->value().data(), it->value().size());
        } else if (type != kTypeDeletion && type != kTypeSingleDeletion &&
                   type != kTypeDeletionWithTimestamp) {
            return Status::Corruption("ScanVersions: unexpected value type " +
                                      std::to_string(type));
        }
        PHENIX_RETURN_IF_ERROR(visit(version));
    }
    return FromRocks(it->status(), "scanning versions");
}

Result<std::string> Store::Get(ColumnFamily family, const rocksdb::Slice& key,
                               std::uint64_t ts) const {
    const ReadTimestamp read_ts(ts);
    rocksdb::ReadOptions read_options = read_ts.For(family);
    std::string value;
    rocksdb::Status s = db_->Get(read_options, cf(family), key, &value);
    if (s.IsNotFound()) {
        return Status::NotFound("key not found");
    }
    if (!s.ok()) {
        return FromRocks(s, std::string("read from ") + ColumnFamilyName(family) + " failed");
    }
    return value;
}

Status Store::SetHistoryFloor(std::uint64_t ts) {
    if (read_only_) {
        return ReadOnlyError("moving the MVCC history floor");
    }
    std::lock_guard lock(floor_mu_);
    if (ts <= history_floor_.load()) {
        return Status::Ok();
    }
    // RocksDB persists its floor in the MANIFEST. The catalog copy exists because 7.8's
    // GetFullHistoryTsLow asserts when the floor was never set; it is not synced, so after a
    // crash it may be behind RocksDB's, which ApplyRecordedFloor at open resolves.
    const std::string encoded = EncodeTimestamp(ts);
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        if (!IsVersioned(static_cast<ColumnFamily>(idx))) {
            continue;
        }
        PHENIX_RETURN_IF_ERROR(FromRocks(db_->IncreaseFullHistoryTsLow(handles_[idx], encoded),
                                         "advancing the MVCC history floor"));
    }
    history_floor_.store(ts);
    if (write_failed_.load()) {
        return Status::Ok();  // the WAL is in an error state: no more writes to it
    }
    rocksdb::WriteBatch batch = NewBatch();
    batch.Merge(cf(ColumnFamily::kCatalog), kHistoryFloorKey, EncodeCounter(ts));
    return WriteCatalog(batch, /*sync=*/false).WithContext("recording the MVCC history floor");
}

Status Store::WriteCatalog(rocksdb::WriteBatch& batch, bool sync) {
    if (read_only_) {
        return ReadOnlyError("writing the catalog");
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    rocksdb::Status s = WriteToRocks(db_.get(), options, &batch);
    if (!s.ok()) {
        write_failed_.store(true);
    }
    return FromRocks(s, "catalog write failed");
}

Status Store::ApplyRecordedFloor(std::uint64_t recorded) {
    std::uint64_t floor = recorded;
    const std::string encoded = EncodeTimestamp(recorded);
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        if (!IsVersioned(static_cast<ColumnFamily>(idx))) {
            continue;
        }
        rocksdb::Status s = db_->IncreaseFullHistoryTsLow(handles_[idx], encoded);
        if (s.IsInvalidArgument()) {
            // RocksDB already holds a higher floor (the catalog copy was lost in a crash). It was
            // set, so reading it back is safe.
            std::string current;
            PHENIX_RETURN_IF_ERROR(FromRocks(db_->GetFullHistoryTsLow(handles_[idx], &current),
                                             "reading the MVCC history floor"));
            if (current.size() == kTimestampBytes) {
                floor = std::max(floor, DecodeTimestamp(current));
            }
        } else {
            PHENIX_RETURN_IF_ERROR(FromRocks(s, "restoring the MVCC history floor"));
        }
    }
    history_floor_.store(floor);
    return Status::Ok();
}

Status Store::ReadRecordedFloor(std::uint64_t recorded) {
    // The catalog copy is written after RocksDB's (SetHistoryFloor), so RocksDB's floor was set
    // and GetFullHistoryTsLow is safe to call; it is ahead when a crash lost the catalog copy.
    std::uint64_t floor = recorded;
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        if (!IsVersioned(static_cast<ColumnFamily>(idx))) {
            continue;
        }
        std::string current;
        PHENIX_RETURN_IF_ERROR(FromRocks(db_->GetFullHistoryTsLow(handles_[idx], &current),
                                         "reading the MVCC history floor"));
        if (current.size() == kTimestampBytes) {
            floor = std::max(floor, DecodeTimestamp(current));
        }
    }
    history_floor_.store(floor);
    return Status::Ok();
}

Status Store::CompactAll() {
    if (read_only_) {
        return ReadOnlyError("compacting");
    }
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        const auto family = static_cast<ColumnFamily>(idx);
        PHENIX_RETURN_IF_ERROR(
            FromRocks(db_->CompactRange(options, handles_[idx], nullptr, nullptr),
                      std::string("compacting ") + ColumnFamilyName(family)));
    }
    return Status::Ok();
}

std::vector<std::uint64_t> Store::ApproximateBytes(const std::vector<std::string>& prefixes) const {
    std::vector<std::uint64_t> totals(prefixes.size(), 0);
    if (!db_ || prefixes.empty()) {
        return totals;
    }
    // Bounds without timestamps: GetApproximateSizes appends the newest one to both (every
    // version of every key under the prefix is inside).
    std::vector<std::string> bounds;
    bounds.reserve(2 * prefixes.size());
    for (const std::string& prefix : prefixes) {
        bounds.push_back(prefix);
        bounds.push_back(PrefixSuccessor(prefix));
    }
    std::vector<rocksdb::Range> ranges;
    ranges.reserve(prefixes.size());
    for (std::size_t idx = 0; idx < prefixes.size(); ++idx) {
        ranges.emplace_back(bounds[2 * idx], bounds[2 * idx + 1]);
    }
    std::vector<std::uint64_t> sizes(prefixes.size(), 0);
    rocksdb::SizeApproximationOptions size_options;
    size_options.include_memtables = true;
    size_options.include_files = true;
    for (ColumnFamily family : {ColumnFamily::kEntities, ColumnFamily::kIds,
                                ColumnFamily::kOutEdges, ColumnFamily::kInEdges}) {
        const rocksdb::Status s = db_->GetApproximateSizes(
            size_options, cf(family), ranges.data(), static_cast<int>(ranges.size()), sizes.data());
        if (!s.ok()) {
            continue;  // an estimate: a family that cannot answer adds nothing
        }
        for (std::size_t idx = 0; idx < sizes.size(); ++idx) {
            totals[idx] += sizes[idx];
        }
    }
    return totals;
}

namespace {

// The bytes of the regular files under `dir` (st_size; a listing, no data read). Files that
// vanish during the walk (compaction, WAL recycling) are skipped.
std::uint64_t DirectoryBytes(const std::string& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(
             dir, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code file_ec;
        if (it->is_regular_file(file_ec)) {
            const std::uintmax_t size = it->file_size(file_ec);
            if (!file_ec) {
                total += size;
            }
        }
    }
    return total;
}

}  // namespace

StorageStats Store::Stats() const {
    StorageStats stats;
    if (!db_) {
        return stats;
    }
    auto int_property = [this](const std::string& name) {
        std::uint64_t value = 0;
        return db_->GetIntProperty(name, &value) ? value : 0;
    };
    auto summed_property = [this](const std::string& name) {
        std::uint64_t value = 0;
        return db_->GetAggregatedIntProperty(name, &value) ? value : 0;
    };
    stats.pending_compaction_bytes =
        summed_property(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
    stats.running_compactions = int_property(rocksdb::DB::Properties::kNumRunningCompactions);
    stats.writes_stopped = int_property(rocksdb::DB::Properties::kIsWriteStopped) != 0;
    stats.memtable_bytes = summed_property(rocksdb::DB::Properties::kCurSizeAllMemTables);
    stats.sst_bytes = summed_property(rocksdb::DB::Properties::kLiveSstFilesSize);
    stats.write_stalls = write_stalls_->load(std::memory_order_relaxed);
    if (statistics_) {
        stats.write_stall_micros = statistics_->getTickerCount(rocksdb::STALL_MICROS);
        stats.block_cache_hits = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
        stats.block_cache_misses = statistics_->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    }
    if (block_cache_) {
        stats.block_cache_usage_bytes = block_cache_->GetUsage();
        stats.block_cache_capacity_bytes = block_cache_->GetCapacity();
    }
    for (std::size_t idx = 0; idx < kNumColumnFamilies; ++idx) {
        std::uint64_t bytes = 0;
        if (handles_[idx] == nullptr ||
            !db_->GetIntProperty(handles_[idx], rocksdb::DB::Properties::kLiveSstFilesSize,
                                 &bytes)) {
            bytes = 0;
        }
        stats.sst_bytes_by_column_family.emplace_back(
            ColumnFamilyName(static_cast<ColumnFamily>(idx)), bytes);
    }
    stats.wal_write = wal_latency_->write.Summary();
    stats.wal_sync = wal_latency_->sync.Summary();
    struct statvfs fs_stats {};
    if (::statvfs(path_.c_str(), &fs_stats) == 0) {
        stats.disk_free_bytes = static_cast<std::uint64_t>(fs_stats.f_bavail) *
                                static_cast<std::uint64_t>(fs_stats.f_frsize);
    }
    stats.disk_used_bytes = DirectoryBytes(path_);
    return stats;
}

}  // namespace phenix::storage
