// SPDX-License-Identifier: Apache-2.0
//
// Ingest of 128-d entities through Phenix, compared in the same run with raw RocksDB writes of
// the same bytes under the same sync setting. docs/benchmarks.md explains how to run it and
// how to read the numbers; bench/compare_ingest.py turns the JSON output into per-pair ratios.
//
//   Phenix                          raw RocksDB                    durability
//   BM_Phenix_UpsertSingle          BM_RocksDB_PutSingle           sync; 1, 2 and 4 threads
//   BM_Phenix_UpsertBatch/N         BM_RocksDB_WriteBatch/N        sync; N = 10, 100, 1000
//   BM_Phenix_UpsertBatchRelaxed/N  BM_RocksDB_WriteBatchNoSync/N  kRelaxed / sync=false; N = 1000
//   BM_Phenix_UpsertSingleNoWalTiming, BM_Phenix_UpsertBatchNoWalTiming/N  (vs the same
//                                   without NoWalTiming) sync; 1 and 4 threads, N = 10, 1000;
//                                   Options::wal_latency_metrics off (on everywhere else)
//   BM_Phenix_UpsertBatchEncrypted/N  (vs BM_Phenix_UpsertBatch/N)  sync; N = 100, 1000;
//                                   encryption at rest on (local master key; docs/security.md)
//
// One item is one entity: an id like "e0000123", a 128-d float32 vector and ~110 bytes of JSON
// metadata. The RocksDB side writes key = id, value = the EntityRecord bytes Phenix stores for
// an entity with that vector and metadata (storage::EncodeEntityRecord of the normalised
// metadata; the id embedded in the value is a same-length placeholder), so both sides are
// charged the same payload (id + record, 628 B) in bytes_per_second. What Phenix does on top
// (validation and JSON normalisation, an id lookup per entity, the ids-index entry, two catalog
// counter merges per batch) is what the ratio measures.
//
// The raw RocksDB instance copies Phenix's DB and column-family options (storage/store.cc: LZ4,
// ZSTD bottommost, dynamic level bytes, bloom filters, 64 MiB block cache, IncreaseParallelism,
// 1 MiB wal_bytes_per_sync / bytes_per_sync, default skiplist memtable). The difference is
// that it writes one (default) column family where Phenix writes the entities, ids and catalog
// families of one WAL.
//
// Every benchmark run opens a fresh database in a new directory under $TMPDIR (default /tmp)
// and removes it afterwards; setup, id generation and close are outside the timed loop. The
// pool of vectors and metadata is built once from a fixed seed. Times are wall-clock
// (UseRealTime) because fsync latency and group commit are what is being measured.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <phenix/db.h>
#include <phenix/encryption.h>
#include <phenix/limits.h>
#include <phenix/options.h>

#include "document/json.h"
#include "storage/entity_codec.h"

namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kDimension = 128;
// Distinct (vector, metadata) pairs; entity i uses pool entry i % kPoolSize with its own id.
constexpr std::size_t kPoolSize = 1024;
constexpr std::uint64_t kSeed = 0x5048454e4958ULL;  // "PHENIX"
constexpr const char* kCollectionName = "ingest";
// Every id is "e" + 7 digits, so every record has the same id length as the pool placeholder.
constexpr const char* kPlaceholderId = "e0000000";

// ------------------------------------------------------------------------------------ data

struct Dataset {
    // id = kPlaceholderId; vector and metadata as a user passes them.
    std::vector<phenix::Entity> entities;
    // The EntityRecord bytes Phenix stores for entities[i].
    std::vector<std::string> records;
};

std::string MakeMetadata(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> category(0, 9);
    std::uniform_int_distribution<int> year(1990, 2024);
    std::uniform_int_distribution<int> tenant(0, 127);
    std::uniform_int_distribution<int> bucket(0, 999);
    std::uniform_int_distribution<int> cents(100, 99999);
    std::uniform_int_distribution<int> coin(0, 1);
    std::uniform_int_distribution<int> topic(0, 15);
    char buf[256];
    const int price = cents(rng);
    std::snprintf(
        buf, sizeof(buf),
        R"({"category":%d,"year":%d,"tenant":"t%d","bucket":%d,"price":%d.%02d,"active":%s,"topic":%d})",
        category(rng), year(rng), tenant(rng), bucket(rng), price / 100, price % 100,
        coin(rng) != 0 ? "true" : "false", topic(rng));
    return buf;
}

Dataset MakeDataset() {
    std::mt19937_64 rng(kSeed);
    std::uniform_real_distribution<float> component(-1.0f, 1.0f);
    Dataset data;
    data.entities.reserve(kPoolSize);
    data.records.reserve(kPoolSize);
    for (std::size_t idx = 0; idx < kPoolSize; ++idx) {
        phenix::Entity entity;
        entity.id = kPlaceholderId;
        entity.vector.resize(kDimension);
        for (float& value : entity.vector) {
            value = component(rng);
        }
        entity.metadata = MakeMetadata(rng);
        auto normalized = phenix::document::NormalizeJsonObject(
            entity.metadata, phenix::limits::kMaxMetadataBytes, "metadata");
        if (!normalized.ok()) {
            std::fprintf(stderr, "ingest_bench: bad generated metadata: %s\n",
                         normalized.status().ToString().c_str());
            std::abort();
        }
        data.records.push_back(
            phenix::storage::EncodeEntityRecord({entity.id, entity.vector, *normalized}));
        data.entities.push_back(std::move(entity));
    }
    return data;
}

const Dataset& GetDataset() {
    static const Dataset data = MakeDataset();
    return data;
}

// Ids [begin, begin + count) as "e%07zu".
std::vector<std::string> MakeIds(std::size_t begin, std::size_t count) {
    std::vector<std::string> ids;
    ids.reserve(count);
    char buf[32];
    for (std::size_t idx = begin; idx < begin + count; ++idx) {
        std::snprintf(buf, sizeof(buf), "e%07zu", idx);
        ids.emplace_back(buf);
    }
    return ids;
}

// The ids one thread writes in one run: disjoint across threads.
std::vector<std::string> IdsForThread(const benchmark::State& state, std::size_t per_iteration) {
    const auto count = static_cast<std::size_t>(state.max_iterations) * per_iteration;
    return MakeIds(static_cast<std::size_t>(state.thread_index()) * count, count);
}

// ------------------------------------------------------------------------------ databases

// A fresh directory under $TMPDIR (default /tmp), removed with everything in it.
class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read-only
        std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                              "/phenix-ingest-bench-XXXXXX";
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }
    ~TempDir() {
        if (!path_.empty()) {
            std::error_code ec;
            fs::remove_all(path_, ec);
            // Write back what the run left dirty now, outside any timed loop, so that it does
            // not land in the fsyncs of the next benchmark.
            ::sync();
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;

    [[nodiscard]] bool ok() const { return !path_.empty(); }
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// One Phenix database with one 128-d L2 collection, shared by the threads of a run.
struct PhenixFixture {
    TempDir dir;  // declared first: removed after the database is closed
    std::unique_ptr<phenix::Database> db;
    phenix::CollectionRef collection{kCollectionName};

    PhenixFixture() = default;
    PhenixFixture(const PhenixFixture&) = delete;
    PhenixFixture& operator=(const PhenixFixture&) = delete;
    PhenixFixture(PhenixFixture&&) = delete;
    PhenixFixture& operator=(PhenixFixture&&) = delete;
    ~PhenixFixture() {
        if (db) {
            db->Close().IgnoreError();
        }
    }
};

std::unique_ptr<PhenixFixture> OpenPhenix(phenix::Durability durability, std::string& error,
                                          bool encrypted = false, bool wal_timing = true) {
    auto fixture = std::make_unique<PhenixFixture>();
    if (!fixture->dir.ok()) {
        error = "cannot create a temporary directory";
        return nullptr;
    }
    phenix::Options options{.durability = durability};
    options.wal_latency_metrics = wal_timing;
    if (encrypted) {
        const std::string key = fixture->dir.path() + "/master.key";
        if (auto made = phenix::CreateMasterKeyFile(key); !made.ok()) {
            error = made.status().ToString();
            return nullptr;
        }
        options.encryption.kms = "local:" + key;
    }
    auto db = phenix::Database::Open(fixture->dir.path() + "/phenix", options);
    if (!db.ok()) {
        error = db.status().ToString();
        return nullptr;
    }
    fixture->db = std::move(*db);
    phenix::Status s = fixture->db->CreateCollection(
        {.ref = fixture->collection, .dimension = kDimension, .metric = phenix::Metric::kL2});
    if (!s.ok()) {
        error = s.ToString();
        return nullptr;
    }
    return fixture;
}

// Raw RocksDB with the options Phenix's Store uses (storage/store.cc), one column family.
struct RocksFixture {
    TempDir dir;
    std::unique_ptr<rocksdb::DB> db;
    rocksdb::WriteOptions write_options;

    RocksFixture() = default;
    RocksFixture(const RocksFixture&) = delete;
    RocksFixture& operator=(const RocksFixture&) = delete;
    RocksFixture(RocksFixture&&) = delete;
    RocksFixture& operator=(RocksFixture&&) = delete;
    ~RocksFixture() {
        if (db) {
            db->Close().PermitUncheckedError();
        }
    }
};

rocksdb::Options PhenixLikeRocksOptions() {
    rocksdb::Options options;
    options.create_if_missing = true;
    const int threads = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
    options.IncreaseParallelism(threads);
    options.max_background_jobs = std::max(2, threads);
    options.keep_log_file_num = 5;
    options.max_manifest_file_size = std::uint64_t{64} << 20;
    options.wal_bytes_per_sync = 1u << 20;
    options.bytes_per_sync = 1u << 20;

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(phenix::Options{}.block_cache_bytes);
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.format_version = 5;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.compression = rocksdb::kLZ4Compression;
    options.bottommost_compression = rocksdb::kZSTD;
    options.level_compaction_dynamic_level_bytes = true;
    return options;
}

// Raw RocksDB with Phenix's two-key layout (entities by row id, id -> row id) and options, so a
// run separates what the layout costs from what the engine adds on top of it.
struct IndexedRocksFixture {
    TempDir dir;
    std::unique_ptr<rocksdb::DB> db;
    rocksdb::ColumnFamilyHandle* default_cf = nullptr;
    rocksdb::ColumnFamilyHandle* entities_cf = nullptr;
    rocksdb::ColumnFamilyHandle* ids_cf = nullptr;
    rocksdb::WriteOptions write_options;

    IndexedRocksFixture() = default;
    IndexedRocksFixture(const IndexedRocksFixture&) = delete;
    IndexedRocksFixture& operator=(const IndexedRocksFixture&) = delete;
    IndexedRocksFixture(IndexedRocksFixture&&) = delete;
    IndexedRocksFixture& operator=(IndexedRocksFixture&&) = delete;
    ~IndexedRocksFixture() {
        if (db) {
            for (auto* cf : {default_cf, entities_cf, ids_cf}) {
                db->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
            }
            db->Close().PermitUncheckedError();
        }
    }
};

std::unique_ptr<IndexedRocksFixture> OpenIndexedRocks(bool sync, std::string& error) {
    auto fixture = std::make_unique<IndexedRocksFixture>();
    if (!fixture->dir.ok()) {
        error = "cannot create a temporary directory";
        return nullptr;
    }
    rocksdb::Options options = PhenixLikeRocksOptions();
    options.create_missing_column_families = true;
    rocksdb::ColumnFamilyOptions cf_options(options);
    rocksdb::ColumnFamilyOptions ids_options(options);
    ids_options.memtable_prefix_bloom_size_ratio = 0.1;  // as storage/store.cc
    ids_options.memtable_whole_key_filtering = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, cf_options},
        {"entities", cf_options},
        {"ids", ids_options}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(
        rocksdb::DBOptions(options), fixture->dir.path() + "/rocksdb", descriptors, &handles, &raw);
    if (!s.ok()) {
        error = s.ToString();
        return nullptr;
    }
    fixture->db.reset(raw);
    fixture->default_cf = handles[0];
    fixture->entities_cf = handles[1];
    fixture->ids_cf = handles[2];
    fixture->write_options.sync = sync;
    return fixture;
}

std::unique_ptr<RocksFixture> OpenRocks(bool sync, std::string& error) {
    auto fixture = std::make_unique<RocksFixture>();
    if (!fixture->dir.ok()) {
        error = "cannot create a temporary directory";
        return nullptr;
    }
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s =
        rocksdb::DB::Open(PhenixLikeRocksOptions(), fixture->dir.path() + "/rocksdb", &raw);
    if (!s.ok()) {
        error = s.ToString();
        return nullptr;
    }
    fixture->db.reset(raw);
    fixture->write_options.sync = sync;
    return fixture;
}

// The database of the running benchmark: opened by thread 0 before the timed loop and closed
// by it after; the loop's start and end are barriers for all threads of a run.
std::unique_ptr<PhenixFixture> g_phenix;
std::unique_ptr<RocksFixture> g_rocks;
std::unique_ptr<IndexedRocksFixture> g_indexed_rocks;

void SetCounters(benchmark::State& state, std::size_t items, std::size_t bytes) {
    state.SetItemsProcessed(static_cast<std::int64_t>(items));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// ----------------------------------------------------------------------------- benchmarks

void PhenixUpsertSingle(benchmark::State& state, phenix::Durability durability,
                        bool wal_timing = true) {
    const Dataset& data = GetDataset();
    if (state.thread_index() == 0) {
        std::string error;
        g_phenix = OpenPhenix(durability, error, /*encrypted=*/false, wal_timing);
        if (!g_phenix) {
            state.SkipWithError(error.c_str());
        }
    }
    const std::vector<std::string> ids = IdsForThread(state, 1);
    std::vector<phenix::Entity> pool = data.entities;  // per thread: ids are set in place
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        PhenixFixture* fixture = g_phenix.get();
        if (fixture == nullptr) {
            state.SkipWithError("the database did not open");
            break;
        }
        const std::size_t slot = next % kPoolSize;
        phenix::Entity& entity = pool[slot];
        entity.id = ids[next];
        ++next;
        bytes += entity.id.size() + data.records[slot].size();
        phenix::Status s = fixture->db->Upsert(fixture->collection, entity);
        if (!s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
        }
    }
    SetCounters(state, next, bytes);
    if (state.thread_index() == 0) {
        g_phenix.reset();
    }
}

void RocksPutSingle(benchmark::State& state, bool sync) {
    const Dataset& data = GetDataset();
    if (state.thread_index() == 0) {
        std::string error;
        g_rocks = OpenRocks(sync, error);
        if (!g_rocks) {
            state.SkipWithError(error.c_str());
        }
    }
    const std::vector<std::string> ids = IdsForThread(state, 1);
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        RocksFixture* fixture = g_rocks.get();
        if (fixture == nullptr) {
            state.SkipWithError("the database did not open");
            break;
        }
        const std::string& key = ids[next];
        const std::string& value = data.records[next % kPoolSize];
        ++next;
        bytes += key.size() + value.size();
        rocksdb::Status s = fixture->db->Put(fixture->write_options, key, value);
        if (!s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
        }
    }
    SetCounters(state, next, bytes);
    if (state.thread_index() == 0) {
        g_rocks.reset();
    }
}

void PhenixUpsertBatch(benchmark::State& state, phenix::Durability durability,
                       bool encrypted = false, bool wal_timing = true) {
    const Dataset& data = GetDataset();
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    if (state.thread_index() == 0) {
        std::string error;
        g_phenix = OpenPhenix(durability, error, encrypted, wal_timing);
        if (!g_phenix) {
            state.SkipWithError(error.c_str());
        }
    }
    const std::vector<std::string> ids = IdsForThread(state, batch_size);
    std::vector<phenix::Entity> pool = data.entities;
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        PhenixFixture* fixture = g_phenix.get();
        if (fixture == nullptr) {
            state.SkipWithError("the database did not open");
            break;
        }
        phenix::WriteBatch batch;  // fresh per write, as in the RocksDB loop
        for (std::size_t op = 0; op < batch_size; ++op) {
            const std::size_t slot = next % kPoolSize;
            phenix::Entity& entity = pool[slot];
            entity.id = ids[next];
            ++next;
            bytes += entity.id.size() + data.records[slot].size();
            batch.Upsert(fixture->collection, entity);
        }
        phenix::Status s = fixture->db->Write(batch);
        if (!s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
        }
    }
    SetCounters(state, next, bytes);
    if (state.thread_index() == 0) {
        g_phenix.reset();
    }
}

void RocksWriteBatch(benchmark::State& state, bool sync) {
    const Dataset& data = GetDataset();
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    if (state.thread_index() == 0) {
        std::string error;
        g_rocks = OpenRocks(sync, error);
        if (!g_rocks) {
            state.SkipWithError(error.c_str());
        }
    }
    const std::vector<std::string> ids = IdsForThread(state, batch_size);
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        RocksFixture* fixture = g_rocks.get();
        if (fixture == nullptr) {
            state.SkipWithError("the database did not open");
            break;
        }
        // Fresh per write (the usual pattern; Phenix builds a new one inside every Write too).
        // (Reusing one batch measured no different here.)
        rocksdb::WriteBatch batch;
        for (std::size_t op = 0; op < batch_size; ++op) {
            const std::string& key = ids[next];
            const std::string& value = data.records[next % kPoolSize];
            ++next;
            bytes += key.size() + value.size();
            rocksdb::Status s = batch.Put(key, value);
            if (!s.ok()) {
                state.SkipWithError(s.ToString().c_str());
                break;
            }
        }
        rocksdb::Status s = fixture->db->Write(fixture->write_options, &batch);
        if (!s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
        }
    }
    SetCounters(state, next, bytes);
    if (state.thread_index() == 0) {
        g_rocks.reset();
    }
}

// Like RocksWriteBatch, but each entity is two puts as Phenix stores it: the record under a
// 16-byte (tenant, collection, row) key, and the id under (tenant, collection, id) -> row.
void IndexedRocksWriteBatch(benchmark::State& state, bool sync) {
    const Dataset& data = GetDataset();
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    std::string error;
    g_indexed_rocks = OpenIndexedRocks(sync, error);
    if (!g_indexed_rocks) {
        state.SkipWithError(error.c_str());
        return;
    }
    const std::vector<std::string> ids = IdsForThread(state, batch_size);
    std::size_t next = 0;
    std::size_t bytes = 0;
    std::uint64_t row = 0;
    const std::string prefix(8, '\0');  // tenant id, collection id
    for (auto _ : state) {
        IndexedRocksFixture& fixture = *g_indexed_rocks;
        rocksdb::WriteBatch batch;
        for (std::size_t op = 0; op < batch_size; ++op) {
            const std::string& id = ids[next];
            const std::string& value = data.records[next % kPoolSize];
            ++next;
            ++row;
            bytes += id.size() + value.size();
            std::string row_key = prefix;
            for (int shift = 56; shift >= 0; shift -= 8) {
                row_key.push_back(static_cast<char>((row >> shift) & 0xff));
            }
            rocksdb::Status s = batch.Put(fixture.entities_cf, row_key, value);
            if (s.ok()) {
                s = batch.Put(fixture.ids_cf, prefix + id, rocksdb::Slice(row_key.data() + 8, 8));
            }
            if (!s.ok()) {
                state.SkipWithError(s.ToString().c_str());
                break;
            }
        }
        rocksdb::Status s = fixture.db->Write(fixture.write_options, &batch);
        if (!s.ok()) {
            state.SkipWithError(s.ToString().c_str());
            break;
        }
    }
    SetCounters(state, next, bytes);
    g_indexed_rocks.reset();
}

// NOLINTBEGIN(readability-identifier-naming): BM_<Component>_<Op> is the benchmark convention.
void BM_Phenix_UpsertSingle(benchmark::State& state) {
    PhenixUpsertSingle(state, phenix::Durability::kSync);
}
void BM_RocksDB_PutSingle(benchmark::State& state) {
    RocksPutSingle(state, /*sync=*/true);
}
void BM_Phenix_UpsertBatch(benchmark::State& state) {
    PhenixUpsertBatch(state, phenix::Durability::kSync);
}
void BM_RocksDB_WriteBatch(benchmark::State& state) {
    RocksWriteBatch(state, /*sync=*/true);
}
void BM_Phenix_UpsertBatchRelaxed(benchmark::State& state) {
    PhenixUpsertBatch(state, phenix::Durability::kRelaxed);
}
void BM_RocksDB_WriteBatchNoSync(benchmark::State& state) {
    RocksWriteBatch(state, /*sync=*/false);
}
void BM_RocksDBIndexed_WriteBatch(benchmark::State& state) {
    IndexedRocksWriteBatch(state, /*sync=*/true);
}
void BM_Phenix_UpsertBatchEncrypted(benchmark::State& state) {
    PhenixUpsertBatch(state, phenix::Durability::kSync, /*encrypted=*/true);
}
void BM_Phenix_UpsertSingleNoWalTiming(benchmark::State& state) {
    PhenixUpsertSingle(state, phenix::Durability::kSync, /*wal_timing=*/false);
}
void BM_Phenix_UpsertBatchNoWalTiming(benchmark::State& state) {
    PhenixUpsertBatch(state, phenix::Durability::kSync, /*encrypted=*/false,
                      /*wal_timing=*/false);
}
// NOLINTEND(readability-identifier-naming)

// Each run ingests a fixed number of entities, the same for both sides of a pair, so both
// sides trigger the same memtable flushes (with a time-based run the faster side would write
// more data and pay for more background work). The counts keep every run above ~0.2 s of
// fsync-bound work on a fast disk and the whole default invocation (5 repetitions) at about
// a minute on a 2-vCPU VM; slow fsyncs stretch the single-write runs.
constexpr benchmark::IterationCount kSingleWrites = 2000;  // split across the threads
constexpr benchmark::IterationCount kBatch10Iterations = 2000;
constexpr benchmark::IterationCount kBatch100Iterations = 600;
constexpr benchmark::IterationCount kBatch1000Iterations = 250;

// Registers a Phenix benchmark and its raw RocksDB counterpart, in that order.
void RegisterPair(const char* phenix_name, void (*phenix_fn)(benchmark::State&),
                  const char* rocks_name, void (*rocks_fn)(benchmark::State&), int batch_size,
                  int threads, benchmark::IterationCount iterations, benchmark::TimeUnit unit) {
    for (auto [name, fn] : {std::pair{phenix_name, phenix_fn}, std::pair{rocks_name, rocks_fn}}) {
        benchmark::internal::Benchmark* bm = benchmark::RegisterBenchmark(name, fn);
        if (batch_size > 0) {
            bm->Arg(batch_size);
        }
        if (threads > 1) {
            bm->Threads(threads);
        }
        bm->Iterations(iterations)->UseRealTime()->Unit(unit);
    }
}

// Registration order is run order without random interleaving.
void RegisterBenchmarks() {
    for (int threads : {1, 2, 4}) {
        RegisterPair("BM_Phenix_UpsertSingle", BM_Phenix_UpsertSingle, "BM_RocksDB_PutSingle",
                     BM_RocksDB_PutSingle, 0, threads, kSingleWrites / threads,
                     benchmark::kMicrosecond);
    }
    RegisterPair("BM_Phenix_UpsertBatch", BM_Phenix_UpsertBatch, "BM_RocksDB_WriteBatch",
                 BM_RocksDB_WriteBatch, 10, 1, kBatch10Iterations, benchmark::kMicrosecond);
    RegisterPair("BM_Phenix_UpsertBatch", BM_Phenix_UpsertBatch, "BM_RocksDB_WriteBatch",
                 BM_RocksDB_WriteBatch, 100, 1, kBatch100Iterations, benchmark::kMicrosecond);
    RegisterPair("BM_Phenix_UpsertBatch", BM_Phenix_UpsertBatch, "BM_RocksDB_WriteBatch",
                 BM_RocksDB_WriteBatch, 1000, 1, kBatch1000Iterations, benchmark::kMillisecond);
    // The layout floor: raw RocksDB writing Phenix's two keys per entity (single-threaded).
    for (auto [size, iterations, unit] :
         {std::tuple{100, kBatch100Iterations, benchmark::kMicrosecond},
          std::tuple{1000, kBatch1000Iterations, benchmark::kMillisecond}}) {
        benchmark::RegisterBenchmark("BM_RocksDBIndexed_WriteBatch", BM_RocksDBIndexed_WriteBatch)
            ->Arg(size)
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(unit);
    }
    // Encryption at rest: compare with BM_Phenix_UpsertBatch/N of the same run.
    for (auto [size, iterations, unit] :
         {std::tuple{100, kBatch100Iterations, benchmark::kMicrosecond},
          std::tuple{1000, kBatch1000Iterations, benchmark::kMillisecond}}) {
        benchmark::RegisterBenchmark("BM_Phenix_UpsertBatchEncrypted",
                                     BM_Phenix_UpsertBatchEncrypted)
            ->Arg(size)
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(unit);
    }
    // The cost of timing the WAL (Options::wal_latency_metrics, on in every other Phenix
    // benchmark): the same writes with it off; compare with BM_Phenix_UpsertSingle and
    // BM_Phenix_UpsertBatch/N of the same run.
    for (int threads : {1, 4}) {
        benchmark::RegisterBenchmark("BM_Phenix_UpsertSingleNoWalTiming",
                                     BM_Phenix_UpsertSingleNoWalTiming)
            ->Threads(threads)
            ->Iterations(kSingleWrites / threads)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
    for (auto [size, iterations, unit] :
         {std::tuple{10, kBatch10Iterations, benchmark::kMicrosecond},
          std::tuple{1000, kBatch1000Iterations, benchmark::kMillisecond}}) {
        benchmark::RegisterBenchmark("BM_Phenix_UpsertBatchNoWalTiming",
                                     BM_Phenix_UpsertBatchNoWalTiming)
            ->Arg(size)
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(unit);
    }
    RegisterPair("BM_Phenix_UpsertBatchRelaxed", BM_Phenix_UpsertBatchRelaxed,
                 "BM_RocksDB_WriteBatchNoSync", BM_RocksDB_WriteBatchNoSync, 1000, 1,
                 kBatch1000Iterations, benchmark::kMillisecond);
}

// Defaults for a plain invocation (`make bench`); flags given on the command line come later
// and win. Five repetitions in random order spread the drift of a shared machine over all
// benchmarks; compare_ingest.py reports medians. The JSON file still gets every repetition.
constexpr std::array<const char*, 3> kDefaultFlags = {
    "--benchmark_repetitions=5",
    "--benchmark_enable_random_interleaving=true",
    "--benchmark_display_aggregates_only=true",
};

// ------------------------------------------------------------------------------- context

std::string FirstLineOf(const char* command) {
    std::string out;
    if (FILE* pipe = ::popen(command, "r")) {
        char buf[256];
        if (std::fgets(buf, sizeof(buf), pipe) != nullptr) {
            out = buf;
        }
        ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

std::string CpuModel() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            return colon == std::string::npos ? line
                                              : line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "unknown";
}

// Commit, compiler, flags and hardware in the JSON "context" (STYLE.md §11).
void AddContext() {
    const std::string source_dir = PHENIX_BENCH_SOURCE_DIR;
    std::string commit =
        FirstLineOf(("git -C '" + source_dir + "' rev-parse HEAD 2>/dev/null").c_str());
    if (!commit.empty() && !FirstLineOf(("git -C '" + source_dir +
                                         "' status --porcelain --untracked-files=no 2>/dev/null")
                                            .c_str())
                                .empty()) {
        commit += "-dirty";
    }
    benchmark::AddCustomContext("phenix_commit", commit.empty() ? "unknown" : commit);
#if defined(__clang__)
    benchmark::AddCustomContext("compiler", "clang " __clang_version__);
#else
    benchmark::AddCustomContext("compiler", "gcc " __VERSION__);
#endif
    benchmark::AddCustomContext("build_type", PHENIX_BENCH_BUILD_TYPE);
    benchmark::AddCustomContext("cxx_flags", PHENIX_BENCH_CXX_FLAGS);
    benchmark::AddCustomContext("rocksdb_version", std::to_string(ROCKSDB_MAJOR) + "." +
                                                       std::to_string(ROCKSDB_MINOR) + "." +
                                                       std::to_string(ROCKSDB_PATCH));
    benchmark::AddCustomContext("cpu_model", CpuModel());
    const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read-only
    const std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    benchmark::AddCustomContext("data_dir", base);
    benchmark::AddCustomContext(
        "data_filesystem",
        FirstLineOf(("df -PT '" + base + "' 2>/dev/null | awk 'NR==2{print $1\" \"$2}'").c_str()));
    benchmark::AddCustomContext(
        "entity", std::to_string(kDimension) + "-d float32 vector, ~110 B metadata, " +
                      std::to_string(GetDataset().records[0].size()) + " B encoded record");
}

}  // namespace

int main(int argc, char** argv) {
    if (std::string_view(PHENIX_BENCH_BUILD_TYPE) != "Release") {
        std::fprintf(stderr,
                     "ingest_bench: built as '%s', not Release; numbers are not representative\n",
                     PHENIX_BENCH_BUILD_TYPE);
    }
    AddContext();
    // Flags are parsed in order and the last one wins, so the default goes first.
    std::vector<std::string> defaults(kDefaultFlags.begin(), kDefaultFlags.end());
    std::vector<char*> args(argv, argv + argc);
    for (std::size_t idx = 0; idx < defaults.size(); ++idx) {
        args.insert(args.begin() + static_cast<std::ptrdiff_t>(idx) + 1, defaults[idx].data());
    }
    int args_count = static_cast<int>(args.size());
    args.push_back(nullptr);
    RegisterBenchmarks();
    benchmark::Initialize(&args_count, args.data());
    if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
