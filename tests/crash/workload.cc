// SPDX-License-Identifier: Apache-2.0
#include "crash/workload.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

namespace phenix::crash {

namespace {

// The kPartialCommit bug pauses this long between its two commits, so that most kills land
// between them.
constexpr auto kPartialCommitPause = std::chrono::milliseconds(20);

std::uint64_t Mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t ContentHash(const TxnOp& op, std::uint64_t txn, std::size_t op_idx) {
    const auto entity = static_cast<std::uint64_t>(op.coll * 1000 + op.id);
    return Mix(Mix(Mix(entity) ^ txn) ^ static_cast<std::uint64_t>(op_idx));
}

std::string Prefix(std::uint64_t txn, std::size_t op_idx) {
    return R"({"txn":)" + std::to_string(txn) + R"(,"k":)" + std::to_string(op_idx);
}

// Parses a non-negative decimal prefix of `text`, advancing it.
std::optional<std::uint64_t> TakeNumber(std::string_view& text) {
    std::size_t len = 0;
    std::uint64_t value = 0;
    while (len < text.size() && text[len] >= '0' && text[len] <= '9' && len < 18) {
        value = value * 10 + static_cast<std::uint64_t>(text[len] - '0');
        ++len;
    }
    if (len == 0) {
        return std::nullopt;
    }
    text.remove_prefix(len);
    return value;
}

bool TakeChar(std::string_view& text, char c) {
    if (text.empty() || text.front() != c) {
        return false;
    }
    text.remove_prefix(1);
    return true;
}

// A (collection, id) pair "<c>.<id>".
std::optional<std::pair<int, int>> TakeEntity(std::string_view& text) {
    auto coll = TakeNumber(text);
    if (!coll || *coll >= static_cast<std::uint64_t>(kNumCollections) || !TakeChar(text, '.')) {
        return std::nullopt;
    }
    auto id = TakeNumber(text);
    if (!id || *id >= static_cast<std::uint64_t>(kIdsPerCollection)) {
        return std::nullopt;
    }
    return std::pair<int, int>(static_cast<int>(*coll), static_cast<int>(*id));
}

}  // namespace

std::string EntityId(int coll, int id) {
    std::string out(1, kCollections[static_cast<std::size_t>(coll)].id_prefix);
    if (id < 10) {
        out += '0';
    }
    out += std::to_string(id);
    return out;
}

const char* CollectionName(int coll) {
    return kCollections[static_cast<std::size_t>(coll)].name;
}

Entity MakeEntity(const TxnOp& op, std::uint64_t txn, std::size_t op_idx) {
    const std::uint64_t h = ContentHash(op, txn, op_idx);
    Entity entity;
    entity.id = EntityId(op.coll, op.id);
    const std::uint32_t dimension = kCollections[static_cast<std::size_t>(op.coll)].dimension;
    std::uint64_t v = h;
    for (std::uint32_t dim = 0; dim < dimension; ++dim) {
        v = Mix(v);
        // Exactly representable in float32, never zero.
        entity.vector.push_back(static_cast<float>(v % 2000) / 8.0f + 0.125f);
    }
    entity.metadata = Prefix(txn, op_idx) + R"(,"id":")" + entity.id + R"(","v":)" +
                      std::to_string(h % 100000) + R"(,"tag":"t)" + std::to_string(h % 7) +
                      R"(","n":{"a":)" + std::to_string(h % 13) + "}}";
    for (std::size_t edge_idx = 0; edge_idx < op.edges.size(); ++edge_idx) {
        const EdgeSpec& spec = op.edges[edge_idx];
        Edge edge;
        edge.label = kEdgeLabels[static_cast<std::size_t>(spec.label_idx)];
        edge.target_id = EntityId(spec.target_coll, spec.target_id);
        if (spec.target_coll != op.coll) {
            edge.target_collection = CollectionName(spec.target_coll);
        }
        edge.weight = static_cast<double>(Mix(h ^ (edge_idx + 1)) % 16) * 0.25;
        entity.edges.push_back(std::move(edge));
    }
    return entity;
}

std::string ReplacementMetadata(const TxnOp& op, std::uint64_t txn, std::size_t op_idx) {
    const std::uint64_t h = ContentHash(op, txn, op_idx);
    return Prefix(txn, op_idx) + R"(,"r":)" + std::to_string(h % 100000) + "}";
}

std::string MetadataPatch(const TxnOp& op, std::uint64_t txn, std::size_t op_idx) {
    // Overwrites txn and k, adds p, removes tag, merges into the nested object n.
    const std::uint64_t h = ContentHash(op, txn, op_idx);
    return Prefix(txn, op_idx) + R"(,"p":)" + std::to_string(h % 100000) +
           R"(,"tag":null,"n":{"b":)" + std::to_string(h % 11) + "}}";
}

std::string FormatOp(const TxnOp& op) {
    std::string out(1, static_cast<char>(op.kind));
    out += std::to_string(op.coll) + "." + std::to_string(op.id);
    for (const EdgeSpec& edge : op.edges) {
        out += ":" + std::to_string(edge.label_idx) + "." + std::to_string(edge.target_coll) + "." +
               std::to_string(edge.target_id);
    }
    return out;
}

std::optional<TxnOp> ParseOp(std::string_view token) {
    if (token.empty()) {
        return std::nullopt;
    }
    TxnOp op;
    op.kind = static_cast<OpKind>(token.front());
    switch (op.kind) {
        case OpKind::kInsert:
        case OpKind::kUpsert:
        case OpKind::kPatch:
        case OpKind::kReplace:
        case OpKind::kDelete:
            break;
        default:
            return std::nullopt;
    }
    token.remove_prefix(1);
    auto entity = TakeEntity(token);
    if (!entity) {
        return std::nullopt;
    }
    op.coll = entity->first;
    op.id = entity->second;
    while (TakeChar(token, ':')) {
        auto label = TakeNumber(token);
        if (!label || *label >= kEdgeLabels.size() || !TakeChar(token, '.')) {
            return std::nullopt;
        }
        auto target = TakeEntity(token);
        if (!target) {
            return std::nullopt;
        }
        op.edges.push_back({.label_idx = static_cast<int>(*label),
                            .target_coll = target->first,
                            .target_id = target->second});
    }
    if (!token.empty()) {
        return std::nullopt;
    }
    if (!op.edges.empty() && op.kind != OpKind::kInsert && op.kind != OpKind::kUpsert) {
        return std::nullopt;
    }
    return op;
}

void FdLogSink::Append(const std::string& line) {
    const std::string buf = line + "\n";
    std::lock_guard lock(mu_);
    const char* p = buf.data();
    std::size_t left = buf.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::_Exit(3);  // the parent is gone
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

void StringLogSink::Append(const std::string& line) {
    std::lock_guard lock(mu_);
    text_ += line;
    text_ += '\n';
}

std::string StringLogSink::Contents() {
    std::lock_guard lock(mu_);
    return text_;
}

void ErrorTally::Record(const std::string& what, const Status& status, bool expected) {
    std::lock_guard lock(mu_);
    if (expected) {
        ++num_expected_;
    } else if (first_unexpected_.empty()) {
        first_unexpected_ = what + ": " + status.ToString();
    }
}

std::uint64_t ErrorTally::num_expected() const {
    std::lock_guard lock(mu_);
    return num_expected_;
}

std::string ErrorTally::first_unexpected() const {
    std::lock_guard lock(mu_);
    return first_unexpected_;
}

bool Workload::Unexpected(const std::string& what, const Status& status) {
    // A violation found by the workload itself (it reads its own writes) is always fatal.
    const bool is_violation = status.message().find("VIOLATION") != std::string::npos;
    if (options_.stop_on_error && !is_violation) {
        if (options_.errors != nullptr) {
            options_.errors->Record(
                what, status, options_.disk_frozen != nullptr && options_.disk_frozen->load());
        }
        return false;
    }
    std::fprintf(stderr, "crash-test child: %s: %s\n", what.c_str(), status.ToString().c_str());
    std::fflush(stderr);
    std::_Exit(2);
}

int Workload::PickId() {
    // A third of the picks from a hot set of 6 ids: plenty of conflicts.
    if (rng_() % 3 == 0) {
        return static_cast<int>(rng_() % 6);
    }
    return static_cast<int>(rng_() % kIdsPerCollection);
}

Status Workload::ApplyOp(Transaction& txn, const TxnOp& op, std::uint64_t number,
                         std::size_t op_idx) {
    const char* coll = CollectionName(op.coll);
    const std::string id = EntityId(op.coll, op.id);
    Status s;
    switch (op.kind) {
        case OpKind::kInsert:
            s = txn.Insert(coll, MakeEntity(op, number, op_idx));
            break;
        case OpKind::kUpsert:
            s = txn.Upsert(coll, MakeEntity(op, number, op_idx));
            break;
        case OpKind::kPatch:
            s = txn.PatchMetadata(coll, id, MetadataPatch(op, number, op_idx));
            break;
        case OpKind::kReplace:
            s = txn.ReplaceMetadata(coll, id, ReplacementMetadata(op, number, op_idx));
            break;
        case OpKind::kDelete:
            s = txn.Delete(coll, id);
            break;
    }
    if (!s.ok()) {
        return s.WithContext(FormatOp(op));
    }
    // Read your own write.
    auto got = txn.Get(coll, id);
    if (op.kind == OpKind::kDelete) {
        if (got.ok() || got.status().code() != StatusCode::kNotFound) {
            return Status::Internal("VIOLATION: after its own delete of " + id +
                                    ", the transaction reads " +
                                    (got.ok() ? std::string("it back") : got.status().ToString()));
        }
        return Status::Ok();
    }
    if (!got.ok()) {
        return Status::Internal(
            "VIOLATION: after " + FormatOp(op) +
            ", the transaction cannot read its own write: " + got.status().ToString());
    }
    const auto metadata = nlohmann::json::parse(got->metadata, nullptr, false);
    if (!metadata.is_object() || !metadata.contains("txn") || metadata["txn"] != number ||
        metadata["k"] != op_idx) {
        return Status::Internal("VIOLATION: after " + FormatOp(op) + " in transaction " +
                                std::to_string(number) + ", the transaction reads metadata " +
                                got->metadata);
    }
    return Status::Ok();
}

std::optional<std::vector<TxnOp>> Workload::BufferOps(Transaction& txn, std::uint64_t number) {
    auto exists = [&](int coll, int id) -> std::optional<bool> {
        auto got = txn.Get(CollectionName(coll), EntityId(coll, id));
        if (got.ok()) {
            return true;
        }
        if (got.status().code() == StatusCode::kNotFound) {
            return false;
        }
        Unexpected("transaction get " + EntityId(coll, id), got.status());
        return std::nullopt;
    };
    std::vector<TxnOp> ops;
    // Entities this transaction links to: it does not delete them afterwards (a write that
    // would leave its own edge dangling fails; that is validation, not what this test is for).
    std::set<std::pair<int, int>> edge_targets;
    const std::size_t num_ops = 1 + rng_() % 6;
    for (std::size_t op_idx = 0; op_idx < num_ops; ++op_idx) {
        TxnOp op;
        op.coll = static_cast<int>(rng_() % kNumCollections);
        op.id = PickId();
        const std::optional<bool> present = exists(op.coll, op.id);
        if (!present) {
            return std::nullopt;
        }
        const std::uint64_t dice = rng_() % 100;
        if (!*present) {
            op.kind = dice < 50 ? OpKind::kInsert : OpKind::kUpsert;
        } else if (dice < 35) {
            op.kind = OpKind::kUpsert;
        } else if (dice < 60) {
            op.kind = OpKind::kPatch;
        } else if (dice < 75) {
            op.kind = OpKind::kReplace;
        } else {
            op.kind = edge_targets.contains({op.coll, op.id}) ? OpKind::kPatch : OpKind::kDelete;
        }
        if (op.kind == OpKind::kInsert || op.kind == OpKind::kUpsert) {
            const std::size_t num_edges = rng_() % 4;
            for (std::size_t edge_idx = 0; edge_idx < num_edges; ++edge_idx) {
                EdgeSpec edge{.label_idx = static_cast<int>(rng_() % kEdgeLabels.size()),
                              .target_coll = static_cast<int>(rng_() % kNumCollections),
                              .target_id = PickId()};
                const bool is_self = edge.target_coll == op.coll && edge.target_id == op.id;
                std::optional<bool> target_present =
                    is_self ? true : exists(edge.target_coll, edge.target_id);
                if (!target_present) {
                    return std::nullopt;
                }
                if (*target_present) {
                    op.edges.push_back(edge);
                }
            }
        }
        const Status s = ApplyOp(txn, op, number, op_idx);
        if (!s.ok()) {
            Unexpected("transaction " + std::to_string(number) + " op " + std::to_string(op_idx),
                       s);
            return std::nullopt;
        }
        for (const EdgeSpec& edge : op.edges) {
            edge_targets.insert({edge.target_coll, edge.target_id});
        }
        ops.push_back(std::move(op));
    }
    return ops;
}

bool Workload::CommitInTwoHalves(const std::vector<TxnOp>& ops, std::uint64_t number) {
    const std::size_t half = ops.size() / 2;
    for (int part = 0; part < 2; ++part) {
        auto begun = db_->BeginTransaction(TransactionOptions{});
        if (!begun.ok()) {
            return Unexpected("begin", begun.status());
        }
        Transaction& txn = **begun;
        const std::size_t from = part == 0 ? 0 : half;
        const std::size_t to = part == 0 ? half : ops.size();
        for (std::size_t op_idx = from; op_idx < to; ++op_idx) {
            if (!ApplyOp(txn, ops[op_idx], number, op_idx).ok()) {
                // The first half changed what the second half saw: give up on this one, as a
                // conflict would (the first half, if committed, stays: that is the bug).
                log_->Append("X " + std::to_string(number) + " aborted");
                return true;
            }
        }
        auto committed = txn.Commit();
        if (!committed.ok()) {
            if (committed.status().code() != StatusCode::kAborted) {
                return Unexpected("commit", committed.status());
            }
            log_->Append("X " + std::to_string(number) + " aborted");
            return true;
        }
        if (part == 1) {
            log_->Append("A " + std::to_string(number) + " " + std::to_string(*committed));
        } else {
            std::this_thread::sleep_for(kPartialCommitPause);
        }
    }
    return true;
}

bool Workload::RunOne() {
    const std::uint64_t number = options_.next_txn->fetch_add(1);
    auto begun = db_->BeginTransaction(TransactionOptions{});
    if (!begun.ok()) {
        return Unexpected("begin", begun.status());
    }
    std::unique_ptr<Transaction> txn = std::move(begun).value();
    std::optional<std::vector<TxnOp>> ops = BufferOps(*txn, number);
    if (!ops) {
        return false;
    }
    const bool rollback = rng_() % 10 == 0;
    std::string intent = "T " + std::to_string(number) + (rollback ? " r" : " c");
    for (const TxnOp& op : *ops) {
        intent += " " + FormatOp(op);
    }
    if (options_.bug == InjectedBug::kPartialCommit && !rollback && ops->size() >= 2) {
        txn->Rollback().IgnoreError();
        log_->Append(intent);
        return CommitInTwoHalves(*ops, number);
    }
    log_->Append(intent);
    if (rollback && options_.bug == InjectedBug::kCommitRollbacks) {
        txn->Commit().status().IgnoreError();
        log_->Append("X " + std::to_string(number) + " rolledback");
        return true;
    }
    if (rollback) {
        const Status s = txn->Rollback();
        if (!s.ok()) {
            return Unexpected("rollback", s);
        }
        log_->Append("X " + std::to_string(number) + " rolledback");
        return true;
    }
    auto committed = txn->Commit();
    if (committed.ok()) {
        log_->Append("A " + std::to_string(number) + " " + std::to_string(*committed));
        return true;
    }
    if (committed.status().code() == StatusCode::kAborted) {
        log_->Append("X " + std::to_string(number) + " aborted");
        return true;
    }
    return Unexpected("commit of transaction " + std::to_string(number), committed.status());
}

}  // namespace phenix::crash
