// SPDX-License-Identifier: Apache-2.0
//
// phenix::Database — the embedded Phenix engine: open a data directory, manage tenants and
// collections, and read and write entities.
//
//   auto db = phenix::Database::Open("./phenix-data");
//   if (!db.ok()) { /* db.status().ToString() says why */ }
//   auto s = (*db)->CreateCollection({.ref = "docs", .dimension = 4, .metric =
//   phenix::Metric::kCosine}); s = (*db)->Insert("docs", {.id = "d1", .vector = {0.1f, 0.2f, 0.3f,
//   0.4f},
//                              .metadata = R"({"category":"tech"})"});
//
// Every write is atomic and, with the default Durability::kSync, on disk when it returns.
// Reads see a consistent state of all the data they touch (one storage snapshot per call).
// Errors are Status values; no method throws.
//
// Thread safety: a Database is thread-safe; share one instance between threads. Only one
// process (and one Database object) may have a data directory open at a time.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/encryption.h>
#include <phenix/options.h>
#include <phenix/query.h>
#include <phenix/result.h>
#include <phenix/search.h>
#include <phenix/stats.h>
#include <phenix/status.h>
#include <phenix/transaction.h>
#include <phenix/types.h>
#include <phenix/write_batch.h>

namespace phenix {

class Database {
  public:
    /// Opens (or, with create_if_missing, creates) the data directory at `path`; with
    /// Options::read_only, opens an existing one without writing anything to it.
    /// Errors: Unavailable if another process or Database holds it (a read-write open excludes
    /// every other open; read-only opens exclude only read-write ones); FailedPrecondition if it
    /// was written by a newer, unknown format or is not a Phenix directory; NotFound if it does
    /// not exist and create_if_missing is false (or read_only is set); ResourceExhausted if the
    /// disk lacks the free space a read-write open needs (the directory is left unchanged: free
    /// space, or open read-only); IOError / Corruption from storage.
    static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                  const Options& options = {});

    virtual ~Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// Flushes and closes. Further calls fail with FailedPrecondition. Also done by the destructor.
    virtual Status Close() = 0;
    /// Opened with Options::read_only: every write (entity writes, writing transactions, DDL,
    /// index builds, Compact, RebuildVectorIndex) fails with FailedPrecondition.
    [[nodiscard]] virtual bool IsReadOnly() const = 0;

    // ---- tenants ----
    /// Creates a tenant. AlreadyExists if it exists; InvalidArgument for a bad name.
    virtual Status CreateTenant(std::string_view tenant) = 0;
    virtual Result<std::vector<std::string>> ListTenants() = 0;
    /// Deletes an empty tenant: FailedPrecondition while it has collections (drop them first) and
    /// for the default tenant; NotFound if it does not exist. Its name may be created again.
    virtual Status DropTenant(std::string_view tenant) = 0;
    /// Data-key rotation (encryption at rest): makes a new data key for the tenant, used by every
    /// write from now on, and re-encrypts its stored payloads under it in the background
    /// (resumed after a restart); the old key keeps reading until nothing refers to it, then is
    /// destroyed in the KMS. Returns the rotation's state. FailedPrecondition without encryption
    /// at rest, read-only, while a rotation of the tenant is still running, or when the tenant
    /// has no data key yet (it has stored nothing); NotFound for an unknown tenant.
    virtual Result<KeyRotationInfo> RotateTenantKey(std::string_view tenant) = 0;
    /// The state of the tenant's latest data-key rotation ("none" if there was none).
    virtual Result<KeyRotationInfo> GetKeyRotation(std::string_view tenant) = 0;

    // ---- collections ----
    /// Creates a collection in spec.ref.tenant (NotFound if the tenant does not exist).
    virtual Status CreateCollection(const CollectionSpec& spec) = 0;
    /// Drops a collection with all its entities, and every edge from other collections into it.
    virtual Status DropCollection(const CollectionRef& collection) = 0;
    virtual Result<CollectionInfo> GetCollection(const CollectionRef& collection) = 0;
    /// Collections of one tenant, sorted by name.
    virtual Result<std::vector<CollectionInfo>> ListCollections(
        std::string_view tenant = kDefaultTenant) = 0;

    // ---- entities ----
    /// Inserts a new entity. AlreadyExists if the id exists in the collection.
    virtual Status Insert(const CollectionRef& collection, const Entity& entity) = 0;
    /// Inserts, or replaces the vector, metadata and out-edges of an existing entity (in-edges
    /// from other entities are kept).
    virtual Status Upsert(const CollectionRef& collection, const Entity& entity) = 0;
    /// The entity with its out-edges. NotFound if absent.
    virtual Result<Entity> Get(const CollectionRef& collection, std::string_view id) = 0;
    /// Replaces the metadata object, keeping vector and edges. NotFound if absent.
    virtual Status ReplaceMetadata(const CollectionRef& collection, std::string_view id,
                                   std::string_view metadata_json) = 0;
    /// Applies a JSON merge patch (RFC 7386: null removes a key). NotFound if absent.
    virtual Status PatchMetadata(const CollectionRef& collection, std::string_view id,
                                 std::string_view merge_patch_json) = 0;
    /// Deletes an entity and every edge from or to it. NotFound if absent.
    virtual Status Delete(const CollectionRef& collection, std::string_view id) = 0;
    /// Applies a batch atomically (see WriteBatch).
    virtual Status Write(const WriteBatch& batch) = 0;
    /// Entities in id (byte) order, one page at a time.
    virtual Result<ScanPage> Scan(const CollectionRef& collection,
                                  const ScanOptions& options = {}) = 0;
    /// Edges of an entity: out, in, or both (out first). NotFound if the entity is absent.
    virtual Result<std::vector<EdgeRecord>> ListEdges(
        const CollectionRef& collection, std::string_view id,
        EdgeDirection direction = EdgeDirection::kOut) = 0;

    // ---- transactions (include/phenix/transaction.h, docs/transactions.md) ----
    /// Starts a transaction reading the latest committed state (or `options.as_of`).
    /// ResourceExhausted when Options::max_open_transactions are already open.
    virtual Result<std::unique_ptr<Transaction>> BeginTransaction(
        const TransactionOptions& options = {}) = 0;
    /// The timestamp new reads see now: at or after the newest visible commit (right after open
    /// it is the wall-clock time of the open). Pass it to TransactionOptions::as_of later to read
    /// the database as it is now.
    virtual Timestamp CurrentTimestamp() = 0;

    // ---- vector search (docs/vector-search.md) ----
    /// The k entities nearest to `query` in the latest committed state. InvalidArgument for a
    /// collection without vectors, a dimension mismatch, an all-zero query under cosine, NaN or
    /// infinity, or k outside 1..10000.
    virtual Result<SearchResponse> Search(const CollectionRef& collection,
                                          std::span<const float> query,
                                          const SearchOptions& options = {}) = 0;
    /// Size, memory and freshness of a collection's vector index.
    virtual Result<VectorIndexInfo> GetVectorIndexInfo(const CollectionRef& collection) = 0;
    /// Rebuilds the collection's vector index from its current contents with every core,
    /// reporting (done, total) to `progress` (may be null); searches keep using the old index
    /// until the new one replaces it. Commits made during the rebuild are caught up.
    virtual Status RebuildVectorIndex(
        const CollectionRef& collection,
        const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = nullptr) = 0;

    // ---- metadata indexes and filters (include/phenix/query.h, docs/metadata-indexes.md) ----
    /// Creates an index on a metadata path ("category", "author.name", "tags" — arrays index
    /// each element). Online: it reads the existing entities in the background of this call
    /// while writes continue (they are indexed as they commit), reporting progress, and returns
    /// when the index is ready. AlreadyExists if the path is indexed; InvalidArgument for a bad
    /// path; ResourceExhausted past limits::kMaxIndexesPerCollection.
    virtual Status CreateIndex(const CollectionRef& collection, std::string_view path,
                               const ProgressFn& progress = nullptr) = 0;
    /// Drops the index on `path`. NotFound if there is none.
    virtual Status DropIndex(const CollectionRef& collection, std::string_view path) = 0;
    /// The collection's metadata indexes with their state and statistics, sorted by path.
    virtual Result<std::vector<MetadataIndexInfo>> ListIndexes(
        const CollectionRef& collection) = 0;
    /// Recomputes the statistics of the collection's indexes now.
    virtual Status AnalyzeIndexes(const CollectionRef& collection) = 0;
    /// Entities whose metadata matches a filter, using indexes where they help.
    virtual Result<FindResponse> Find(const CollectionRef& collection,
                                      const FindOptions& options) = 0;

    // ---- graph (include/phenix/query.h, docs/graph.md) ----
    /// Entities reachable from spec.start_id (a k-hop expansion). Bounded by
    /// Options::max_traversal_depth / max_traversal_nodes / max_traversal_edges:
    /// InvalidArgument or ResourceExhausted, naming the limit, beyond them.
    virtual Result<TraversalResponse> Traverse(const CollectionRef& collection,
                                               const TraversalSpec& spec) = 0;
    /// Paths (no repeated entity) of min_hops..max_hops edges from spec.start_id.
    virtual Result<PathsResponse> FindPaths(const CollectionRef& collection,
                                            const PathSpec& spec) = 0;
    /// The path of least total weight (Dijkstra; weights must be >= 0), or nullopt if `to` is
    /// unreachable within max_hops.
    virtual Result<std::optional<GraphPath>> ShortestPath(const CollectionRef& collection,
                                                          const ShortestPathSpec& spec) = 0;
    /// Number of edges of an entity in a direction (kBoth: out + in) that match `edges`.
    virtual Result<std::uint64_t> Degree(const CollectionRef& collection, std::string_view id,
                                         EdgeDirection direction, const EdgeMatch& edges = {}) = 0;

    // ---- maintenance ----
    /// Checks that every derived structure agrees with the entity records: id index <-> records,
    /// out-edges <-> in-edges, edge endpoints exist, entity counts. Reads one snapshot; safe to
    /// run while writers are active. OK, or Corruption listing the first problems found.
    virtual Status Verify() = 0;
    /// Moves the MVCC history floor to what open transactions and Options::history_retention_ms
    /// still need and compacts all data now, reclaiming the space of old versions and deleted
    /// entities (compaction also does this in the background as data is written). Blocks until
    /// done; safe while reads and writes continue.
    virtual Status Compact() = 0;

    // ---- monitoring (include/phenix/stats.h) ----
    /// Counters and estimates for monitoring: per-collection entities, bytes and vector index
    /// freshness, commits and conflicts, and RocksDB's compaction backlog, write stalls and
    /// block cache. Cheap (no data is scanned; see stats.h) and never blocks writers; safe to
    /// call every few seconds. FailedPrecondition after Close.
    virtual Result<DatabaseStats> Stats() = 0;

  protected:
    Database() = default;
};

}  // namespace phenix
