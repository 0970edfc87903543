// SPDX-License-Identifier: Apache-2.0
//
// The crash test's workload: random transactions over a small, fixed pool of entity ids in two
// collections, mixing inserts, upserts (vector + metadata + edges), metadata patches and
// replacements, and deletes. Every value a transaction writes is a pure function of
// (entity, transaction number, operation index), so a transaction is fully described by a short
// "intent" line: the checker (checker.h) rebuilds the exact entities from it.
//
// The log protocol, one line per event, each written with one write(2) (it survives SIGKILL):
//   R                    the database is open; the workload starts
//   T <n> <c|r> <op>...  transaction n has buffered these operations and is about to commit
//                        (c) or to roll back on purpose (r)
//   A <n> <ts>           transaction n committed with commit timestamp ts
//   X <n> <why>          transaction n wrote nothing: "aborted" (a conflict) or "rolledback"
// An op is <kind><collection>.<id>[:<label>.<collection>.<id>]..., kind one of I U P R D
// (insert, upsert, patch, replace, delete), the edges only on I and U; e.g. "U0.7:1.1.3".
//
// Thread safety: LogSink implementations are thread-safe; a Workload is confined to one thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/db.h>

namespace phenix::crash {

struct CollectionDef {
    const char* name;
    char id_prefix;
    std::uint32_t dimension;
    Metric metric;
};
inline constexpr std::array<CollectionDef, 2> kCollections = {{
    {"crash_a", 'a', 4, Metric::kL2},
    {"crash_b", 'b', 3, Metric::kInnerProduct},
}};
inline constexpr int kNumCollections = static_cast<int>(kCollections.size());
// Ids per collection. Small on purpose: transactions collide (conflicts, edges to entities that
// others delete) and the model stays small however many rounds run.
inline constexpr int kIdsPerCollection = 24;
inline constexpr std::array<const char*, 2> kEdgeLabels = {"likes", "cites"};

enum class OpKind : char {
    kInsert = 'I',
    kUpsert = 'U',
    kPatch = 'P',
    kReplace = 'R',
    kDelete = 'D',
};

struct EdgeSpec {
    int label_idx = 0;
    int target_coll = 0;
    int target_id = 0;
};

struct TxnOp {
    OpKind kind = OpKind::kUpsert;
    int coll = 0;
    int id = 0;
    std::vector<EdgeSpec> edges;  // insert and upsert only
};

// "a07", "b13".
std::string EntityId(int coll, int id);
const char* CollectionName(int coll);

// The entity an insert or upsert at position `op_idx` of transaction `txn` writes.
Entity MakeEntity(const TxnOp& op, std::uint64_t txn, std::size_t op_idx);
// The metadata a ReplaceMetadata writes, and the merge patch a PatchMetadata applies.
std::string ReplacementMetadata(const TxnOp& op, std::uint64_t txn, std::size_t op_idx);
std::string MetadataPatch(const TxnOp& op, std::uint64_t txn, std::size_t op_idx);

std::string FormatOp(const TxnOp& op);
// nullopt if `token` is not an op.
std::optional<TxnOp> ParseOp(std::string_view token);

// Where log lines go: a pipe to the parent process, or memory (the in-process power-loss mode).
class LogSink {
  public:
    virtual ~LogSink() = default;
    // Appends `line` (without its newline) atomically with respect to other calls.
    virtual void Append(const std::string& line) = 0;
};

// Writes each line with one write(2) to a file descriptor, under a mutex so that lines of
// different threads never interleave.
class FdLogSink final : public LogSink {
  public:
    explicit FdLogSink(int fd) : fd_(fd) {}
    void Append(const std::string& line) override;

  private:
    std::mutex mu_;
    const int fd_;
};

// Collects lines in memory.
class StringLogSink final : public LogSink {
  public:
    void Append(const std::string& line) override;
    // Everything appended so far, one line each, newline-terminated.
    std::string Contents();

  private:
    std::mutex mu_;
    std::string text_;  // GUARDED_BY(mu_)
};

enum class InjectedBug : std::uint8_t {
    kNone,
    // Commits the first half of a transaction's operations and, after a pause, the second half
    // as a second transaction, while logging one transaction: a crash between the two commits
    // leaves it partially applied. The checker must notice (the negative control).
    kPartialCommit,
    // Opens the database with Durability::kRelaxed while the checker still expects every
    // acknowledged commit to survive: harmless under SIGKILL, caught by --power-loss.
    kRelaxedDurability,
    // Commits the transactions it logs as rolled back: they leave a trace.
    kCommitRollbacks,
};

// Errors the power-loss mode's workload stopped on. After the disk froze they are expected;
// before, they are failures the run must report rather than swallow. Thread-safe.
class ErrorTally {
  public:
    void Record(const std::string& what, const Status& status, bool expected);
    [[nodiscard]] std::uint64_t num_expected() const;
    // The first error seen while the disk still worked (empty if none).
    [[nodiscard]] std::string first_unexpected() const;

  private:
    mutable std::mutex mu_;
    std::uint64_t num_expected_ = 0;  // GUARDED_BY(mu_)
    std::string first_unexpected_;    // GUARDED_BY(mu_)
};

struct WorkloadOptions {
    InjectedBug bug = InjectedBug::kNone;
    // Power-loss mode: an unexpected error (the disk was frozen) ends the workload quietly and
    // leaves the transaction's outcome unknown instead of failing the process. The error goes
    // to `errors`, as expected once `disk_frozen` is set.
    bool stop_on_error = false;
    ErrorTally* errors = nullptr;
    const std::atomic<bool>* disk_frozen = nullptr;
    // Transaction numbers come from here (shared by the threads of one round).
    std::atomic<std::uint64_t>* next_txn = nullptr;
};

// Runs random transactions against one database and logs their intents and outcomes.
class Workload {
  public:
    Workload(Database* db, LogSink* log, WorkloadOptions options, std::uint64_t seed)
        : db_(db), log_(log), options_(options), rng_(seed) {}

    // Runs one transaction from Begin to Commit or Rollback. Returns false when the workload
    // must stop (only with stop_on_error). Without stop_on_error, an unexpected error prints a
    // message and ends the process with exit code 2.
    bool RunOne();

  private:
    // Plans and buffers 1..6 operations in `txn`; nullopt after an error (already reported).
    std::optional<std::vector<TxnOp>> BufferOps(Transaction& txn, std::uint64_t number);
    // Buffers one planned op in `txn` and checks that the transaction reads its own write.
    Status ApplyOp(Transaction& txn, const TxnOp& op, std::uint64_t number, std::size_t op_idx);
    // The injected kPartialCommit bug: commits `ops` as two transactions.
    bool CommitInTwoHalves(const std::vector<TxnOp>& ops, std::uint64_t number);
    // Reports an unexpected error: returns false (stop_on_error) or exits.
    bool Unexpected(const std::string& what, const Status& status);
    int PickId();

    Database* db_;
    LogSink* log_;
    WorkloadOptions options_;
    std::mt19937_64 rng_;
};

}  // namespace phenix::crash
