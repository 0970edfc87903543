// SPDX-License-Identifier: Apache-2.0
//
// The crash test's oracle. It keeps a model of the whole database (every entity of both
// collections with its vector, metadata and out-edges) and, after each crash, checks the
// reopened database against the workload's log (workload.h):
//   (a) every acknowledged transaction is fully present: the model replays the acknowledged
//       transactions in commit-timestamp order (first-committer-wins makes that the order in
//       which conflicting ones took effect);
//   (b) a transaction in flight at the crash (intent logged, no outcome) is wholly present or
//       wholly absent: the checker accepts the database only if it equals the replay of the
//       acknowledged transactions plus some subset of the in-flight ones, each inserted whole at
//       a point of the timestamp order that its log position allows;
//   (c) aborted and rolled-back transactions left no trace: they are never replayed, and every
//       value they would have written carries their unique transaction number;
//   (d) Database::Verify() is OK, and in-edges mirror out-edges;
//   (e) each collection's num_entities equals the model's count.
// It also checks that commit timestamps respect real time (a commit that began after another
// was acknowledged has a larger timestamp, also across restarts) and that the replay itself is
// consistent (an acknowledged insert of an id that exists, or a patch of a missing one, means
// two conflicting transactions both committed).
// The model carries over from round to round: it is the checked state of the previous round.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/db.h>

#include "crash/workload.h"

namespace phenix::crash {

// One transaction of the log.
struct TxnRecord {
    enum class Outcome : std::uint8_t { kUnknown, kAcked, kAborted, kRolledBack };

    std::uint64_t number = 0;
    bool will_roll_back = false;
    std::vector<TxnOp> ops;
    Outcome outcome = Outcome::kUnknown;
    Timestamp commit_ts = 0;  // kAcked only
    // The largest commit timestamp acknowledged before this transaction's intent was logged:
    // its own commit timestamp, if it committed, is larger.
    Timestamp ts_lower_bound = 0;
};

struct ParsedLog {
    bool ready = false;           // the child opened the database
    std::vector<TxnRecord> txns;  // in intent order
};

// Parses the log; a torn last line (no newline: the writer died inside write(2)) is ignored.
// Errors name the offending line.
Result<ParsedLog> ParseLog(const std::string& text);

// An entity as the model holds it. Metadata is compared as JSON values (key order aside).
struct ModelEntity {
    std::vector<float> vector;
    nlohmann::json metadata;
    // (label, target collection, target id) -> weight
    std::map<std::tuple<std::string, std::string, std::string>, double> edges;

    friend bool operator==(const ModelEntity&, const ModelEntity&) = default;
};
// (collection name, entity id) -> entity
using ModelState = std::map<std::pair<std::string, std::string>, ModelEntity>;

struct CheckStats {
    std::uint64_t num_acked = 0;
    std::uint64_t num_aborted = 0;
    std::uint64_t num_rolled_back = 0;
    std::uint64_t num_inflight_present = 0;
    std::uint64_t num_inflight_absent = 0;
    // In flight, and the final state is the same whether it committed or not (e.g. a later
    // transaction overwrote everything it wrote).
    std::uint64_t num_inflight_unobservable = 0;
    std::uint64_t num_hypotheses = 0;          // replays tried
    std::uint64_t num_checkpoints_loaded = 0;  // vector indexes reopened from their checkpoint
    std::uint64_t num_indexes_rebuilt = 0;     // ... rebuilt (no checkpoint yet)
    std::uint64_t num_vector_searches = 0;     // searches checked against the model
};

class Checker {
  public:
    // `replay_hint` is printed with every violation (how to reproduce the run).
    explicit Checker(std::string replay_hint) : replay_hint_(std::move(replay_hint)) {}

    // Violation() removes `dir` before exiting (for runs that expect violations).
    void RemoveOnViolation(std::string dir) { remove_on_violation_ = std::move(dir); }

    // Reads the database into the model (the first round, or a reused data directory), after
    // checking its structural invariants ((d) and (e)).
    void Reset(Database& db);

    // Counts a new round (for messages); call before reopening the database after a crash.
    void StartRound() { ++round_; }

    // Checks the database after a crash against the model and the round's log, then makes the
    // model the database's state. A violation prints "crash-test: VIOLATION: ..." and exits 1.
    void CheckRound(Database& db, const ParsedLog& log);

    // After CheckRound: each collection's vector index agrees with the model. Its origin is
    // asserted (loaded from the checkpoint that `checkpoint_present` says existed before the
    // reopen; rebuilt only if none did); every entity is found by a search restricted to it,
    // at the distance its model vector gives; an unrestricted search for all of them returns
    // exactly the model's entities (none deleted, none missing).
    void CheckVectorIndexes(Database& db, const std::map<std::string, bool>& checkpoint_present);

    [[nodiscard]] const CheckStats& stats() const { return stats_; }
    [[nodiscard]] std::size_t num_entities() const { return model_.size(); }

    // Prints "crash-test: VIOLATION: <what>" with the round and the replay hint, exits 1.
    [[noreturn]] void Violation(const std::string& what) const;

  private:
    // Scans both collections; also checks (d) and (e) against what it read.
    ModelState ReadAndCheckStructure(Database& db) const;
    void CheckTimestamps(Database& db, const ParsedLog& log) const;

    std::string replay_hint_;
    std::string remove_on_violation_;
    ModelState model_;
    CheckStats stats_;
    int round_ = 0;  // rounds checked so far (0 while Reset runs)
    // The largest commit timestamp acknowledged in earlier rounds.
    Timestamp max_acked_ts_ = 0;
};

// Applies one transaction to `state`. Returns why the transaction could not have committed
// (insert of an existing id, write to a missing one, an edge left dangling), or nullopt.
std::optional<std::string> ApplyTxn(const TxnRecord& txn, ModelState& state);

// Human-readable differences between two states (at most `max_lines` lines).
std::string DiffStates(const ModelState& expected, const ModelState& actual,
                       std::size_t max_lines = 12);

}  // namespace phenix::crash
