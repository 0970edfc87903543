// SPDX-License-Identifier: Apache-2.0
// The life of a transaction: finishing (commit, rollback, abort, destruction, idle timeout,
// Database::Close) and what a finished one answers; the limits (open transactions, buffered
// bytes); read-only and AS OF transactions; failed writes; a collection dropped underneath.
// The only sleeps are in the idle-timeout and retention tests, where time is the subject.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "unit/engine/txn_fixture.h"

namespace phenix {
namespace {

using testing::IntField;
using testing::Json;
using testing::TxnTest;

using IdList = std::vector<std::string>;
using Lines = std::vector<std::string>;

constexpr auto kReaperWait = std::chrono::seconds(2);

Options RelaxedOptions() {
    Options options;
    options.durability = Durability::kRelaxed;
    return options;
}

std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

Timestamp WallClockMicros() {
    return static_cast<Timestamp>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
}

class Lifecycle : public TxnTest {
  protected:
    // Every call of a finished transaction fails with FailedPrecondition; Rollback is OK.
    void ExpectFinished(Transaction& txn, const char* how) {
        SCOPED_TRACE(how);
        PHENIX_EXPECT_CODE(txn.Get("docs", "a"), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.Scan("docs"), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.ListEdges("docs", "a"), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.Insert("docs", Doc("new")), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.Upsert("docs", Doc("a")), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.ReplaceMetadata("docs", "a", "{}"), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.PatchMetadata("docs", "a", "{}"), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.Delete("docs", "a"), StatusCode::kFailedPrecondition);
        WriteBatch batch;
        batch.Upsert("docs", Doc("new"));
        PHENIX_EXPECT_CODE(txn.Write(batch), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_CODE(txn.Commit(), StatusCode::kFailedPrecondition);
        PHENIX_EXPECT_OK(txn.Rollback());
        PHENIX_EXPECT_OK(txn.Rollback());
        (void)txn.read_timestamp();  // still answers, without crashing
    }

    // Begins a transaction, retrying for up to kReaperWait while the slots are all taken.
    std::unique_ptr<Transaction> BeginWhenASlotFrees(const TransactionOptions& options = {}) {
        const auto deadline = std::chrono::steady_clock::now() + kReaperWait;
        for (;;) {
            auto txn = db_->BeginTransaction(options);
            if (txn.ok()) {
                return std::move(txn).value();
            }
            EXPECT_EQ(txn.status().code(), StatusCode::kResourceExhausted)
                << txn.status().ToString();
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "no transaction slot freed within 2 s: "
                              << txn.status().ToString();
                return nullptr;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Finishing
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, FinishedTransactionRejectsEveryCall) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));

    auto committed = Begin();
    ASSERT_NE(committed, nullptr);
    PHENIX_ASSERT_OK(committed->PatchMetadata("docs", "a", V(1)));
    ASSERT_TRUE(committed->Commit().ok());
    ExpectFinished(*committed, "after Commit");

    auto rolled_back = Begin();
    ASSERT_NE(rolled_back, nullptr);
    PHENIX_ASSERT_OK(rolled_back->PatchMetadata("docs", "a", V(2)));
    PHENIX_ASSERT_OK(rolled_back->Rollback());
    ExpectFinished(*rolled_back, "after Rollback");

    auto aborted = Begin();
    ASSERT_NE(aborted, nullptr);
    PHENIX_ASSERT_OK(aborted->PatchMetadata("docs", "a", V(3)));
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "a", V(4)));
    PHENIX_EXPECT_CODE(aborted->Commit(), StatusCode::kAborted);
    ExpectFinished(*aborted, "after an aborted Commit");

    auto read_only = BeginReadOnly();
    ASSERT_NE(read_only, nullptr);
    ASSERT_TRUE(read_only->Commit().ok());
    ExpectFinished(*read_only, "after a read-only Commit");

    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 4);
    EXPECT_EQ(Ids(), IdList{"a"});
}

TEST_F(Lifecycle, CommitOfAnEmptyTransaction) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    const Lines before = State();
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    auto committed = txn->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_GE(*committed, txn->read_timestamp());
    auto read_only = BeginReadOnly();
    ASSERT_NE(read_only, nullptr);
    auto ro_committed = read_only->Commit();
    EXPECT_TRUE(ro_committed.ok()) << ro_committed.status().ToString();
    EXPECT_EQ(State(), before);
    EXPECT_EQ(Count(), 1u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, DestroyingAnOpenTransactionRollsItBack) {
    Options options = RelaxedOptions();
    options.max_open_transactions = 1;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    const Lines before = State();
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("x", {0, 1, 0, 0}, "{}", {To("a")})));
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "a", V(1)));
    t1.reset();
    EXPECT_EQ(State(), before);
    EXPECT_EQ(Count(), 1u);

    // Its slot is free, and nothing of it (locks, pending versions) makes the same writes fail.
    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("x", {0, 1, 0, 0}, "{}", {To("a")})));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "a", V(2)));
    auto c2 = t2->Commit();
    EXPECT_TRUE(c2.ok()) << c2.status().ToString();
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 2);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, CloseWithOpenTransactions) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto writer = Begin();
    auto reader = BeginReadOnly();
    auto idle = Begin();
    ASSERT_NE(writer, nullptr);
    ASSERT_NE(reader, nullptr);
    ASSERT_NE(idle, nullptr);
    PHENIX_ASSERT_OK(writer->Insert("docs", Doc("x")));
    PHENIX_ASSERT_OK(writer->PatchMetadata("docs", "a", V(1)));
    ASSERT_TRUE(reader->Get("docs", "a").ok());

    PHENIX_ASSERT_OK(db_->Close());
    ExpectFinished(*writer, "writer after Close");
    ExpectFinished(*reader, "reader after Close");
    ExpectFinished(*idle, "idle after Close");
    PHENIX_EXPECT_CODE(db_->BeginTransaction(), StatusCode::kFailedPrecondition);

    // Transactions first, then the database (transaction.h: destroy every Transaction first).
    writer.reset();
    reader.reset();
    idle.reset();
    db_.reset();
    Open(RelaxedOptions());
    EXPECT_EQ(Ids(), IdList{"a"});
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 0);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, CommittedTransactionIsDurableAcrossReopen) {
    Reopen(Options{});  // Durability::kSync
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("a", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("b", {0, 1, 0, 0}, V(2), {To("a")})));
    auto committed = t1->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    const Lines state = State();
    t1.reset();
    Reopen(Options{});
    EXPECT_EQ(State(), state);
    EXPECT_EQ(Count(), 2u);
    EXPECT_GE(db_->CurrentTimestamp(), *committed) << "timestamps never go backwards";
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, CommitTimestampsIncreaseAndCommitsBecomeVisible) {
    Timestamp previous = db_->CurrentTimestamp();
    for (int round = 0; round < 5; ++round) {
        SCOPED_TRACE(round);
        auto txn = Begin();
        ASSERT_NE(txn, nullptr);
        EXPECT_GE(txn->read_timestamp(), previous);
        PHENIX_ASSERT_OK(txn->Upsert("docs", Doc("a", {1, 0, 0, 0}, V(round))));
        auto committed = txn->Commit();
        ASSERT_TRUE(committed.ok()) << committed.status().ToString();
        EXPECT_GT(*committed, previous);
        EXPECT_GT(*committed, txn->read_timestamp());
        EXPECT_GE(db_->CurrentTimestamp(), *committed);
        auto next = Begin();
        ASSERT_NE(next, nullptr);
        EXPECT_GE(next->read_timestamp(), *committed);
        EXPECT_EQ(IntField(TxnGet(*next, "docs", "a"), "v"), round);
        previous = *committed;
    }
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "a", V(100)));
    EXPECT_GT(db_->CurrentTimestamp(), previous) << "an autocommit write is a commit too";
}

// ---------------------------------------------------------------------------------------------
// Idle timeout (the sleeps here are the subject of the tests)
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, IdleTimeoutRollsBackAndTheNextCallFails) {
    Options options = RelaxedOptions();
    options.transaction_idle_timeout_ms = 100;
    options.max_open_transactions = 1;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("x")));
    PHENIX_ASSERT_OK(txn->PatchMetadata("docs", "a", V(1)));

    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto got = txn->Get("docs", "a");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition) << got.status().ToString();
    const std::string message = Lower(got.status().message());
    EXPECT_TRUE(message.find("timeout") != std::string::npos ||
                message.find("timed out") != std::string::npos ||
                message.find("idle") != std::string::npos)
        << "the message should say the transaction timed out: " << got.status().ToString();
    ExpectFinished(*txn, "after the idle timeout");

    EXPECT_EQ(Ids(), IdList{"a"});
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 0);
    auto next = BeginWhenASlotFrees();
    ASSERT_NE(next, nullptr);
    PHENIX_ASSERT_OK(next->PatchMetadata("docs", "a", V(2)));
    auto committed = next->Commit();
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
}

TEST_F(Lifecycle, IdleTimeoutFreesTheSlotWithoutAnotherCall) {
    Options options = RelaxedOptions();
    options.transaction_idle_timeout_ms = 100;
    options.max_open_transactions = 1;
    Reopen(options);
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("x")));
    // No further call on txn: the slot must come back on its own.
    auto next = BeginWhenASlotFrees();
    ASSERT_NE(next, nullptr);
    auto committed = txn->Commit();
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.status().code(), StatusCode::kFailedPrecondition)
        << committed.status().ToString();
    EXPECT_EQ(Ids(), IdList{});
}

TEST_F(Lifecycle, ActivityKeepsATransactionAlive) {
    Options options = RelaxedOptions();
    options.transaction_idle_timeout_ms = 400;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    // 15 calls 50 ms apart: 750 ms in all, longer than the timeout, but never idle that long.
    for (int call = 0; call < 15; ++call) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto got = txn->Get("docs", "a");
        ASSERT_TRUE(got.ok()) << "call " << call << ": " << got.status().ToString();
    }
    PHENIX_ASSERT_OK(txn->PatchMetadata("docs", "a", V(1)));
    auto committed = txn->Commit();
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 1);
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, MaxOpenTransactions) {
    Options options = RelaxedOptions();
    options.max_open_transactions = 2;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = BeginReadOnly();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_EXPECT_CODE(db_->BeginTransaction(), StatusCode::kResourceExhausted);
    PHENIX_EXPECT_CODE(db_->BeginTransaction({.read_only = true}), StatusCode::kResourceExhausted);
    // Autocommit writes do not need a slot.
    PHENIX_EXPECT_OK(db_->Insert("docs", Doc("b")));

    // Commit frees a slot.
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "a", V(1)));
    ASSERT_TRUE(t1->Commit().ok());
    auto t3 = Begin();
    ASSERT_NE(t3, nullptr);
    PHENIX_EXPECT_CODE(db_->BeginTransaction(), StatusCode::kResourceExhausted);

    // So does Rollback of a read-only transaction.
    PHENIX_ASSERT_OK(t2->Rollback());
    auto t4 = Begin();
    ASSERT_NE(t4, nullptr);
    PHENIX_EXPECT_CODE(db_->BeginTransaction(), StatusCode::kResourceExhausted);

    // And an aborted Commit.
    PHENIX_ASSERT_OK(t3->PatchMetadata("docs", "a", V(3)));
    PHENIX_ASSERT_OK(t4->PatchMetadata("docs", "a", V(4)));
    ASSERT_TRUE(t3->Commit().ok());
    PHENIX_EXPECT_CODE(t4->Commit(), StatusCode::kAborted);
    auto t5 = Begin();
    auto t6 = Begin();
    ASSERT_NE(t5, nullptr);
    ASSERT_NE(t6, nullptr);
    PHENIX_EXPECT_CODE(db_->BeginTransaction(), StatusCode::kResourceExhausted);

    // And destruction.
    t5.reset();
    auto t7 = Begin();
    ASSERT_NE(t7, nullptr);
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 3);
}

TEST_F(Lifecycle, MaxTransactionBytes) {
    Options options = RelaxedOptions();
    options.max_transaction_bytes = 4096;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("keep", {1, 0, 0, 0}, V(0))));
    const std::string big_metadata = R"({"blob":")" + std::string(8000, 'x') + R"("})";

    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("a", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("b", {0, 1, 0, 0}, V(2))));
    PHENIX_EXPECT_CODE(txn->Insert("docs", Doc("big", {0, 0, 1, 0}, big_metadata)),
                       StatusCode::kResourceExhausted);
    PHENIX_EXPECT_CODE(txn->PatchMetadata("docs", "a", big_metadata),
                       StatusCode::kResourceExhausted);
    PHENIX_EXPECT_CODE(txn->ReplaceMetadata("docs", "keep", big_metadata),
                       StatusCode::kResourceExhausted);
    WriteBatch batch;
    batch.Insert("docs", Doc("batched"));
    batch.Upsert("docs", Doc("big", {0, 0, 1, 0}, big_metadata));
    PHENIX_EXPECT_CODE(txn->Write(batch), StatusCode::kResourceExhausted);
    // The failed writes left the transaction as it was, and it goes on.
    PHENIX_EXPECT_CODE(txn->Get("docs", "big"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(txn->Get("docs", "batched"), StatusCode::kNotFound);
    EXPECT_EQ(Json(TxnGet(*txn, "docs", "a")), Json(V(1)));
    EXPECT_EQ(Json(TxnGet(*txn, "docs", "keep")), Json(V(0)));
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("c", {0, 0, 0, 1}, V(3))));

    // The limit is on the sum: small writes also reach it.
    int num_fill = 0;
    Status fill;
    for (; num_fill < 4096; ++num_fill) {
        fill = txn->Insert("docs", Doc("fill" + std::to_string(num_fill)));
        if (!fill.ok()) {
            break;
        }
    }
    EXPECT_EQ(fill.code(), StatusCode::kResourceExhausted) << fill.ToString();
    EXPECT_GT(num_fill, 0);

    auto committed = txn->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(Count(), static_cast<std::uint64_t>(4 + num_fill));
    PHENIX_EXPECT_CODE(db_->Get("docs", "big"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(db_->Get("docs", "batched"), StatusCode::kNotFound);
    EXPECT_TRUE(db_->Get("docs", "fill" + std::to_string(num_fill - 1)).ok());
    PHENIX_EXPECT_CODE(db_->Get("docs", "fill" + std::to_string(num_fill)), StatusCode::kNotFound);

    // A new transaction starts with an empty budget.
    auto next = Begin();
    ASSERT_NE(next, nullptr);
    PHENIX_EXPECT_OK(next->Insert("docs", Doc("after")));
    EXPECT_TRUE(next->Commit().ok());
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Failed writes
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, FailedWritesChangeNothingAndTheTransactionGoesOn) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    const Lines before = State(*txn);
    PHENIX_EXPECT_CODE(txn->Insert("docs", Doc("a")), StatusCode::kAlreadyExists);
    PHENIX_EXPECT_CODE(txn->PatchMetadata("docs", "missing", "{}"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(txn->ReplaceMetadata("docs", "missing", "{}"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(txn->Delete("docs", "missing"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(txn->Insert("docs", Doc("b", {1, 0})), StatusCode::kInvalidArgument);
    PHENIX_EXPECT_CODE(txn->Insert("docs", Doc("b", {1, 0, 0, 0}, "[1]")),
                       StatusCode::kInvalidArgument);
    PHENIX_EXPECT_CODE(txn->PatchMetadata("docs", "a", "not json"), StatusCode::kInvalidArgument);
    PHENIX_EXPECT_CODE(txn->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("missing")})),
                       StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(txn->Insert("nope", Doc("b")), StatusCode::kNotFound);
    WriteBatch batch;
    batch.Insert("docs", Doc("b"));
    batch.PatchMetadata("docs", "a", V(5));
    batch.Insert("docs", Doc("a"));  // AlreadyExists: the whole batch does nothing
    PHENIX_EXPECT_CODE(txn->Write(batch), StatusCode::kAlreadyExists);
    EXPECT_EQ(State(*txn), before);

    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("c", {0, 1, 0, 0}, V(1))));
    auto committed = txn->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(Ids(), (IdList{"a", "c"}));
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 0);
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Read-only and AS OF
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, ReadOnlyTransactionRejectsWrites) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {0, 1, 0, 0}, "{}", {To("a")})));
    const Lines before = State();
    auto txn = BeginReadOnly();
    ASSERT_NE(txn, nullptr);
    PHENIX_EXPECT_CODE(txn->Insert("docs", Doc("new")), StatusCode::kFailedPrecondition);
    PHENIX_EXPECT_CODE(txn->Upsert("docs", Doc("a")), StatusCode::kFailedPrecondition);
    PHENIX_EXPECT_CODE(txn->ReplaceMetadata("docs", "a", "{}"), StatusCode::kFailedPrecondition);
    PHENIX_EXPECT_CODE(txn->PatchMetadata("docs", "a", "{}"), StatusCode::kFailedPrecondition);
    PHENIX_EXPECT_CODE(txn->Delete("docs", "a"), StatusCode::kFailedPrecondition);
    WriteBatch batch;
    batch.Upsert("docs", Doc("new"));
    PHENIX_EXPECT_CODE(txn->Write(batch), StatusCode::kFailedPrecondition);
    // Reads work, and show nothing of the rejected writes.
    EXPECT_EQ(State(*txn), before);
    EXPECT_EQ(TxnEdges(*txn, "docs", "a", EdgeDirection::kIn), (Lines{EdgeText("b", "a")}));
    auto committed = txn->Commit();
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(State(), before);
}

TEST_F(Lifecycle, AsOfReadsOldVersionsAfterOverwriteAndDelete) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    const Timestamp ts0 = db_->CurrentTimestamp();
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("d", {1, 0, 0, 0}, V(1), {To("t")})));
    auto c1 = t1->Commit();
    ASSERT_TRUE(c1.ok()) << c1.status().ToString();
    const Timestamp ts1 = *c1;
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d", {0, 1, 0, 0}, V(2))));  // autocommit
    const Timestamp ts2 = db_->CurrentTimestamp();
    auto t3 = Begin();
    ASSERT_NE(t3, nullptr);
    PHENIX_ASSERT_OK(t3->Delete("docs", "d"));
    auto c3 = t3->Commit();
    ASSERT_TRUE(c3.ok()) << c3.status().ToString();
    const Timestamp ts3 = *c3;
    ASSERT_LT(ts0, ts1);
    ASSERT_LT(ts1, ts2);
    ASSERT_LT(ts2, ts3);

    auto as_of = [&](Timestamp ts) -> std::unique_ptr<Transaction> {
        return Begin(TransactionOptions{.read_only = true, .as_of = ts});
    };
    {
        SCOPED_TRACE("AS OF ts0, before d existed");
        auto txn = as_of(ts0);
        ASSERT_NE(txn, nullptr);
        EXPECT_EQ(txn->read_timestamp(), ts0);
        PHENIX_EXPECT_CODE(txn->Get("docs", "d"), StatusCode::kNotFound);
        EXPECT_EQ(TxnIds(*txn, "docs"), IdList{"t"});
    }
    {
        SCOPED_TRACE("AS OF ts1, the first version");
        auto txn = as_of(ts1);
        ASSERT_NE(txn, nullptr);
        EXPECT_EQ(txn->read_timestamp(), ts1);
        EXPECT_EQ(TxnGet(*txn, "docs", "d"), Doc("d", {1, 0, 0, 0}, V(1), {To("t")}));
        EXPECT_EQ(TxnEdges(*txn, "docs", "t", EdgeDirection::kIn), (Lines{EdgeText("d", "t")}));
        EXPECT_EQ(TxnIds(*txn, "docs"), (IdList{"d", "t"}));
        // A later write does not move an AS OF snapshot.
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("later")));
        EXPECT_EQ(TxnIds(*txn, "docs"), (IdList{"d", "t"}));
        EXPECT_TRUE(txn->Commit().ok());
    }
    {
        SCOPED_TRACE("AS OF ts2, overwritten");
        auto txn = as_of(ts2);
        ASSERT_NE(txn, nullptr);
        EXPECT_EQ(TxnGet(*txn, "docs", "d"), Doc("d", {0, 1, 0, 0}, V(2)));
        EXPECT_EQ(TxnEdges(*txn, "docs", "t", EdgeDirection::kIn), Lines{});
    }
    {
        SCOPED_TRACE("AS OF ts3, deleted");
        auto txn = as_of(ts3);
        ASSERT_NE(txn, nullptr);
        PHENIX_EXPECT_CODE(txn->Get("docs", "d"), StatusCode::kNotFound);
        PHENIX_EXPECT_CODE(txn->ListEdges("docs", "d"), StatusCode::kNotFound);
        EXPECT_EQ(TxnIds(*txn, "docs"), IdList{"t"});
    }
    {
        SCOPED_TRACE("AS OF now");
        auto txn = as_of(db_->CurrentTimestamp());
        ASSERT_NE(txn, nullptr);
        EXPECT_EQ(TxnIds(*txn, "docs"), (IdList{"later", "t"}));
        EXPECT_EQ(State(*txn), State());
    }
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, AsOfWorksAfterReopen) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d", {1, 0, 0, 0}, V(1))));
    const Timestamp ts1 = db_->CurrentTimestamp();
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "d", V(2)));
    Reopen(RelaxedOptions());
    auto txn = Begin(TransactionOptions{.read_only = true, .as_of = ts1});
    ASSERT_NE(txn, nullptr);
    EXPECT_EQ(IntField(TxnGet(*txn, "docs", "d"), "v"), 1);
    EXPECT_EQ(IntField(DbGet("docs", "d"), "v"), 2);
}

TEST_F(Lifecycle, AsOfOlderThanTheRetentionIsFailedPrecondition) {
    Options options = RelaxedOptions();
    options.history_retention_ms = 300;
    Reopen(options);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d", {1, 0, 0, 0}, V(1))));
    const Timestamp ts1 = db_->CurrentTimestamp();
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "d", V(2)));  // ts1's version is now history
    auto held = Begin(TransactionOptions{.read_only = true, .as_of = ts1});
    ASSERT_NE(held, nullptr) << "AS OF within the retention";

    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    // An open transaction keeps its snapshot readable past the retention.
    EXPECT_EQ(IntField(TxnGet(*held, "docs", "d"), "v"), 1);
    held.reset();

    // Once nothing reads ts1, it is older than the retention: the history floor passes it within
    // one maintenance round.
    const auto deadline = std::chrono::steady_clock::now() + kReaperWait;
    Status status;
    for (;;) {
        auto txn = db_->BeginTransaction({.read_only = true, .as_of = ts1});
        status = testing::StatusOf(txn);
        if (!status.ok() || std::chrono::steady_clock::now() > deadline) {
            break;
        }
        EXPECT_EQ(IntField(TxnGet(**txn, "docs", "d"), "v"), 1);
        txn->reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
    PHENIX_EXPECT_CODE(db_->BeginTransaction({.read_only = true, .as_of = Timestamp{1}}),
                       StatusCode::kFailedPrecondition);
    // The newest version stays readable.
    EXPECT_EQ(IntField(DbGet("docs", "d"), "v"), 2);
}

TEST_F(Lifecycle, AsOfInTheFutureIsInvalidArgument) {
    constexpr Timestamp kHourMicros = 3'600'000'000ULL;
    const Timestamp future = std::max(db_->CurrentTimestamp(), WallClockMicros()) + kHourMicros;
    PHENIX_EXPECT_CODE(db_->BeginTransaction({.read_only = true, .as_of = future}),
                       StatusCode::kInvalidArgument);
}

TEST_F(Lifecycle, AsOfRequiresReadOnly) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d")));
    PHENIX_EXPECT_CODE(
        db_->BeginTransaction({.read_only = false, .as_of = db_->CurrentTimestamp()}),
        StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// A collection dropped under an open transaction
// ---------------------------------------------------------------------------------------------

TEST_F(Lifecycle, CommitAfterTheCollectionWasDroppedFails) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "tmp"}));
    PHENIX_ASSERT_OK(db_->Insert("tmp", Entity{.id = "old"}));
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    PHENIX_ASSERT_OK(txn->Insert("tmp", Entity{.id = "n", .metadata = V(1)}));
    PHENIX_ASSERT_OK(txn->PatchMetadata("tmp", "old", V(2)));
    PHENIX_ASSERT_OK(txn->Insert("docs", Doc("d")));
    PHENIX_ASSERT_OK(db_->DropCollection("tmp"));

    auto committed = txn->Commit();
    ASSERT_FALSE(committed.ok());
    const StatusCode code = committed.status().code();
    EXPECT_TRUE(code == StatusCode::kFailedPrecondition || code == StatusCode::kNotFound)
        << committed.status().ToString();
    EXPECT_NE(committed.status().message().find("tmp"), std::string::npos)
        << "the message names the dropped collection: " << committed.status().ToString();
    EXPECT_EQ(Ids(), IdList{}) << "nothing of the transaction is written";
    EXPECT_EQ(Count(), 0u);
    PHENIX_EXPECT_CODE(db_->GetCollection("tmp"), StatusCode::kNotFound);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Lifecycle, CommitAfterTheCollectionWasDroppedAndRecreatedFails) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "tmp"}));
    PHENIX_ASSERT_OK(db_->Insert("tmp", Entity{.id = "old"}));
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    PHENIX_ASSERT_OK(txn->Insert("tmp", Entity{.id = "n"}));
    PHENIX_ASSERT_OK(txn->PatchMetadata("tmp", "old", V(2)));
    PHENIX_ASSERT_OK(db_->DropCollection("tmp"));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "tmp"}));  // same name, new collection

    auto committed = txn->Commit();
    ASSERT_FALSE(committed.ok());
    const StatusCode code = committed.status().code();
    EXPECT_TRUE(code == StatusCode::kFailedPrecondition || code == StatusCode::kNotFound)
        << committed.status().ToString();
    EXPECT_NE(committed.status().message().find("tmp"), std::string::npos)
        << "the message names the dropped collection: " << committed.status().ToString();
    EXPECT_EQ(Count("tmp"), 0u);
    EXPECT_EQ(Ids("tmp"), IdList{});
    PHENIX_EXPECT_OK(db_->Verify());
}

}  // namespace
}  // namespace phenix
