// SPDX-License-Identifier: Apache-2.0
//
// phenix::Transaction — several reads and writes over vectors, metadata and edges that commit
// atomically under snapshot isolation.
//
//   auto txn = db->BeginTransaction();
//   if (!txn.ok()) { ... }
//   auto a = (*txn)->Get("accounts", "alice");            // reads the snapshot of Begin
//   PHENIX_RETURN_IF_ERROR((*txn)->PatchMetadata("accounts", "alice", R"({"balance":90})"));
//   auto committed = (*txn)->Commit();                     // Aborted: a concurrent commit won
//   if (committed.status().code() == phenix::StatusCode::kAborted) { /* retry from Begin */ }
//
// Semantics (docs/transactions.md):
//  - Reads see the database as of the transaction's read timestamp (every commit at or before
//    it, none after), plus the transaction's own writes.
//  - Writes are validated when called (an insert of an existing id fails at Insert) and buffered
//    in memory; nothing reaches storage before Commit.
//  - Commit is first-committer-wins: if another transaction committed a write to an entity this
//    transaction wrote (or an edge target it relies on) after this transaction's read timestamp,
//    Commit returns StatusCode::kAborted and writes nothing. Retry the whole transaction.
//  - Write skew is possible (snapshot isolation, not serializable).
//  - Rollback, destruction without Commit, the idle timeout and Database::Close all discard the
//    buffered writes; nothing of them is ever visible.
//  - Commit returns the commit timestamp. Once Commit returns OK the transaction is durable
//    (with Durability::kSync) and visible to every transaction that begins afterwards.
//
// Thread safety: a Transaction may be used from one thread at a time (calls are serialized
// internally, so misuse is not a crash). Destroy every Transaction before its Database.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <phenix/query.h>
#include <phenix/result.h>
#include <phenix/search.h>
#include <phenix/status.h>
#include <phenix/types.h>
#include <phenix/write_batch.h>

namespace phenix {

/// A commit timestamp: microseconds since the Unix epoch, issued by the database so that it
/// never goes backwards (if the wall clock does, timestamps keep counting from the last one).
using Timestamp = std::uint64_t;

struct TransactionOptions {
    /// Reject writes; a read-only transaction never aborts.
    bool read_only = false;
    /// Read the database as it was at this commit timestamp instead of now ("AS OF").
    /// Only with read_only. Must lie within Options::history_retention_ms of now (older versions
    /// may already be garbage-collected: FailedPrecondition) and not in the future
    /// (InvalidArgument).
    std::optional<Timestamp> as_of;
};

class Transaction {
  public:
    /// Rolls back if neither Commit nor Rollback was called.
    virtual ~Transaction() = default;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    /// The snapshot this transaction reads.
    [[nodiscard]] virtual Timestamp read_timestamp() const = 0;

    // ---- reads: the snapshot plus this transaction's own writes ----
    virtual Result<Entity> Get(const CollectionRef& collection, std::string_view id) = 0;
    virtual Result<ScanPage> Scan(const CollectionRef& collection,
                                  const ScanOptions& options = {}) = 0;
    virtual Result<std::vector<EdgeRecord>> ListEdges(
        const CollectionRef& collection, std::string_view id,
        EdgeDirection direction = EdgeDirection::kOut) = 0;

    /// Vector search at this transaction's snapshot, including its own uncommitted inserts,
    /// updates and deletes. Same errors as Database::Search.
    virtual Result<SearchResponse> Search(const CollectionRef& collection,
                                          std::span<const float> query,
                                          const SearchOptions& options = {}) = 0;

    // ---- filters and graph (include/phenix/query.h), including this transaction's own
    // uncommitted entities, metadata and edges ----
    virtual Result<FindResponse> Find(const CollectionRef& collection,
                                      const FindOptions& options) = 0;
    virtual Result<TraversalResponse> Traverse(const CollectionRef& collection,
                                               const TraversalSpec& spec) = 0;
    virtual Result<PathsResponse> FindPaths(const CollectionRef& collection,
                                            const PathSpec& spec) = 0;
    virtual Result<std::optional<GraphPath>> ShortestPath(const CollectionRef& collection,
                                                          const ShortestPathSpec& spec) = 0;
    virtual Result<std::uint64_t> Degree(const CollectionRef& collection, std::string_view id,
                                         EdgeDirection direction, const EdgeMatch& edges = {}) = 0;

    // ---- writes: same meaning and errors as the Database methods of the same name ----
    // A failed write changes nothing in the transaction; the transaction stays usable.
    virtual Status Insert(const CollectionRef& collection, const Entity& entity) = 0;
    virtual Status Upsert(const CollectionRef& collection, const Entity& entity) = 0;
    virtual Status ReplaceMetadata(const CollectionRef& collection, std::string_view id,
                                   std::string_view metadata_json) = 0;
    virtual Status PatchMetadata(const CollectionRef& collection, std::string_view id,
                                 std::string_view merge_patch_json) = 0;
    virtual Status Delete(const CollectionRef& collection, std::string_view id) = 0;
    virtual Status Write(const WriteBatch& batch) = 0;

    /// Makes every write of the transaction visible and durable at once, or none of them.
    /// Errors: Aborted (write-write conflict; retryable), FailedPrecondition (already finished,
    /// timed out, database closed, or a touched collection was dropped), ResourceExhausted,
    /// IOError (nothing committed; see docs/operations.md). After any call the transaction is
    /// finished.
    virtual Result<Timestamp> Commit() = 0;
    /// Discards the buffered writes. OK also when already finished (idempotent).
    virtual Status Rollback() = 0;

  protected:
    Transaction() = default;
};

}  // namespace phenix
