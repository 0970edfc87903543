// SPDX-License-Identifier: Apache-2.0
// Snapshot isolation, anomaly by anomaly, in the style of PostgreSQL's isolation tester: each
// test names its permutation of steps (b = begin, r = read, w = write, d = delete, i = insert,
// c = commit, a = rollback; the digit is the transaction). Dirty reads, non-repeatable reads,
// lost updates and read skew are impossible; write skew is possible (snapshot isolation is not
// serializable) and pinned here so a change of behaviour is a decision, not an accident.
#include <algorithm>
#include <array>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "unit/engine/txn_fixture.h"

namespace phenix {
namespace {

using testing::IntField;
using testing::Json;
using testing::TxnTest;

class Isolation : public TxnTest {};

using IdList = std::vector<std::string>;
using Lines = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Dirty reads
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, DirtyReadImpossible_b1_b2_w1_r2_b3_r3_c1_r2_r3_b4_r4) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("gone")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    const Lines before = State();
    ASSERT_EQ(before.size(), 3u);

    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    // w1: a new vector, metadata and edge, a new entity with an edge, a delete and a patch.
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {0, 1, 0, 0}, V(1), {To("t")})));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("new", {0, 0, 1, 0}, "{}", {To("a")})));
    PHENIX_ASSERT_OK(t1->Delete("docs", "gone"));
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "t", R"({"touched":true})"));
    ASSERT_NE(State(*t1), before) << "the writer must see its own writes";

    auto t3 = Begin();  // begins while t1 is open but uncommitted
    ASSERT_NE(t3, nullptr);
    auto expect_nothing_of_t1 = [&](Transaction& reader, const char* who) {
        SCOPED_TRACE(who);
        EXPECT_EQ(State(reader), before);
        auto a = reader.Get("docs", "a");
        ASSERT_TRUE(a.ok()) << a.status().ToString();
        EXPECT_EQ(a->vector, (std::vector<float>{1, 0, 0, 0}));
        EXPECT_EQ(Json(*a), Json(V(0)));
        EXPECT_TRUE(a->edges.empty());
        PHENIX_EXPECT_CODE(reader.Get("docs", "new"), StatusCode::kNotFound);
        PHENIX_EXPECT_CODE(reader.ListEdges("docs", "new"), StatusCode::kNotFound);
        EXPECT_TRUE(reader.Get("docs", "gone").ok());
        EXPECT_EQ(Json(TxnGet(reader, "docs", "t")), Json("{}"));
        EXPECT_EQ(TxnEdges(reader, "docs", "t", EdgeDirection::kIn), Lines{});
        EXPECT_EQ(TxnEdges(reader, "docs", "a", EdgeDirection::kBoth), Lines{});
        EXPECT_EQ(TxnIds(reader, "docs"), (IdList{"a", "gone", "t"}));
    };
    // r2, r3 and an autocommit read: nothing of t1 is visible.
    expect_nothing_of_t1(*t2, "r2 before c1");
    expect_nothing_of_t1(*t3, "r3 before c1");
    EXPECT_EQ(State(), before);
    EXPECT_EQ(Count(), 3u);

    auto c1 = t1->Commit();
    ASSERT_TRUE(c1.ok()) << c1.status().ToString();

    // r2, r3 after c1: their snapshots predate the commit.
    expect_nothing_of_t1(*t2, "r2 after c1");
    expect_nothing_of_t1(*t3, "r3 after c1");

    // r4 and autocommit reads: everything of t1.
    auto t4 = Begin();
    ASSERT_NE(t4, nullptr);
    const Lines after = State(*t4);
    EXPECT_EQ(after, State());
    EXPECT_EQ(TxnIds(*t4, "docs"), (IdList{"a", "new", "t"}));
    auto a = t4->Get("docs", "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->vector, (std::vector<float>{0, 1, 0, 0}));
    EXPECT_EQ(Json(*a), Json(V(1)));
    EXPECT_EQ(TxnEdges(*t4, "docs", "t", EdgeDirection::kIn), (Lines{EdgeText("a", "t")}));
    EXPECT_EQ(TxnEdges(*t4, "docs", "a", EdgeDirection::kIn), (Lines{EdgeText("new", "a")}));
    EXPECT_EQ(Count(), 3u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, DirtyReadImpossible_RolledBack_b1_w1_b2_r2_a1_r2_b3_r3) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    const Lines before = State();

    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {0, 1, 0, 0}, V(1), {To("t")})));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("new", {0, 0, 1, 0}, "{}", {To("t")})));
    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    EXPECT_EQ(State(*t2), before);
    EXPECT_EQ(TxnEdges(*t2, "docs", "t", EdgeDirection::kIn), Lines{});
    PHENIX_ASSERT_OK(t1->Rollback());
    EXPECT_EQ(State(*t2), before);
    auto t3 = Begin();
    ASSERT_NE(t3, nullptr);
    EXPECT_EQ(State(*t3), before);
    EXPECT_EQ(State(), before);
    PHENIX_EXPECT_CODE(t3->Get("docs", "new"), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Non-repeatable reads (and phantoms)
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, NonRepeatableReadImpossible_Get_r1_w2_c2_r1_wauto_r1_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    auto first = t1->Get("docs", "a");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(IntField(*first, "v"), 0);

    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("a", {0, 0, 0, 1}, V(1))));
    ASSERT_TRUE(t2->Commit().ok());
    auto second = t1->Get("docs", "a");
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, *first) << "re-read after a concurrent commit must not change";

    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "a", V(2)));  // autocommit
    auto third = t1->Get("docs", "a");
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(*third, *first) << "re-read after an autocommit write must not change";

    auto c1 = t1->Commit();  // read-only in effect: nothing to conflict with
    EXPECT_TRUE(c1.ok()) << c1.status().ToString();
    EXPECT_EQ(IntField(DbGet("docs", "a"), "v"), 2);
}

TEST_F(Isolation, NonRepeatableReadImpossible_ScanAndListEdges_r1_w2_c2_r1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {1, 0, 0, 0}, "{}", {To("a")})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c", {0, 1, 0, 0}, "{}", {To("a", "likes")})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("e")));

    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    // r1: the whole state, paged scans and edges in every direction.
    const Lines state = State(*t1);
    const IdList ids = TxnIds(*t1, "docs");
    const Lines in_a = TxnEdges(*t1, "docs", "a", EdgeDirection::kIn);
    const Lines out_b = TxnEdges(*t1, "docs", "b", EdgeDirection::kOut);
    ASSERT_EQ(ids, (IdList{"a", "b", "c", "e"}));
    ASSERT_EQ(in_a.size(), 2u);

    // w2 c2: a phantom insert with an edge into a, a delete (removing c -> a), a replaced edge
    // list, and an autocommit insert.
    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("d", {0, 0, 1, 0}, "{}", {To("a", "cites")})));
    PHENIX_ASSERT_OK(t2->Delete("docs", "c"));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("b", {1, 0, 0, 0}, "{}", {To("e")})));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("bb", {0, 0, 0, 1}, "{}", {To("a", "autocommit")})));
    ASSERT_NE(State(), state) << "the concurrent writes must have changed the database";

    // r1 again: identical.
    EXPECT_EQ(State(*t1), state);
    EXPECT_EQ(TxnIds(*t1, "docs"), ids);
    EXPECT_EQ(TxnEdges(*t1, "docs", "a", EdgeDirection::kIn), in_a);
    EXPECT_EQ(TxnEdges(*t1, "docs", "b", EdgeDirection::kOut), out_b);
    EXPECT_EQ(TxnEdges(*t1, "docs", "e", EdgeDirection::kIn), Lines{});
    EXPECT_TRUE(t1->Get("docs", "c").ok());
    PHENIX_EXPECT_CODE(t1->Get("docs", "d"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(t1->ListEdges("docs", "bb", EdgeDirection::kOut), StatusCode::kNotFound);
    // Paged scans see the same rows, without phantoms, across the pages.
    IdList paged;
    std::string start_after;
    for (int page_idx = 0; page_idx < 10; ++page_idx) {
        auto page = t1->Scan("docs", ScanOptions{.start_after = start_after, .limit = 1});
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        for (const Entity& e : page->entities) {
            paged.push_back(e.id);
        }
        if (page->next_start_after.empty()) {
            break;
        }
        start_after = page->next_start_after;
    }
    EXPECT_EQ(paged, ids);
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Lost updates: two read-modify-write transactions on one counter. T1 adds 1, T2 adds 10, so the
// final value says exactly which increments survived.
// ---------------------------------------------------------------------------------------------

struct LostUpdateCase {
    std::string permutation;
    bool t1_commits;
    bool t2_commits;
    std::int64_t final_value;
};

// The permutation's name, for test names and CTest listings.
std::string PermutationName(const LostUpdateCase& param) {
    std::string name = param.permutation;
    std::replace(name.begin(), name.end(), ' ', '_');
    return name;
}
void PrintTo(const LostUpdateCase& param, std::ostream* os) {
    *os << PermutationName(param);
}

class IsolationLostUpdate : public TxnTest, public ::testing::WithParamInterface<LostUpdateCase> {};

TEST_P(IsolationLostUpdate, Impossible) {
    const LostUpdateCase& param = GetParam();
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("counter", {1, 0, 0, 0}, V(0))));
    std::array<std::unique_ptr<Transaction>, 2> txns;
    std::array<std::int64_t, 2> seen{0, 0};
    constexpr std::array<std::int64_t, 2> kDelta{1, 10};
    std::array<bool, 2> committed{false, false};

    std::istringstream steps(param.permutation);
    std::string step;
    while (steps >> step) {
        SCOPED_TRACE("step " + step);
        ASSERT_EQ(step.size(), 2u);
        const auto idx = static_cast<std::size_t>(step[1] - '1');
        ASSERT_LT(idx, 2u);
        switch (step[0]) {
            case 'b':
                txns[idx] = Begin();
                ASSERT_NE(txns[idx], nullptr);
                break;
            case 'r': {
                auto got = txns[idx]->Get("docs", "counter");
                ASSERT_TRUE(got.ok()) << got.status().ToString();
                seen[idx] = IntField(*got, "v");
                break;
            }
            case 'w':
                PHENIX_ASSERT_OK(
                    txns[idx]->PatchMetadata("docs", "counter", V(seen[idx] + kDelta[idx])));
                break;
            case 'c': {
                auto result = txns[idx]->Commit();
                committed[idx] = result.ok();
                if (!result.ok()) {
                    EXPECT_EQ(result.status().code(), StatusCode::kAborted)
                        << result.status().ToString();
                }
                break;
            }
            default:
                FAIL() << "bad step";
        }
    }
    EXPECT_EQ(committed[0], param.t1_commits);
    EXPECT_EQ(committed[1], param.t2_commits);
    auto counter = db_->Get("docs", "counter");
    ASSERT_TRUE(counter.ok());
    EXPECT_EQ(IntField(*counter, "v"), param.final_value);
    PHENIX_EXPECT_OK(db_->Verify());
}

INSTANTIATE_TEST_SUITE_P(
    Isolation, IsolationLostUpdate,
    ::testing::Values(
        // Both read 0 and both write; the first committer wins.
        LostUpdateCase{"b1 b2 r1 r2 w1 w2 c1 c2", true, false, 1},
        LostUpdateCase{"b1 b2 r1 r2 w1 w2 c2 c1", false, true, 10},
        LostUpdateCase{"b2 r2 b1 r1 w1 c1 w2 c2", true, false, 1},
        // T2 began before c1, so it reads 0 from its snapshot; committing would lose T1's +1.
        LostUpdateCase{"b1 b2 r1 w1 c1 r2 w2 c2", true, false, 1},
        // T1 writes after T2 committed a write T1's snapshot does not contain.
        LostUpdateCase{"b1 b2 r1 r2 w2 c2 w1 c1", false, true, 10},
        // Blind writes conflict too.
        LostUpdateCase{"b1 b2 w1 w2 c1 c2", true, false, 1},
        // Serial: T2 begins after c1 and sees 1.
        LostUpdateCase{"b1 r1 w1 c1 b2 r2 w2 c2", true, true, 11}),
    [](const ::testing::TestParamInfo<LostUpdateCase>& param_info) {
        return PermutationName(param_info.param);
    });

TEST_F(Isolation, LostUpdateImpossible_DeleteVsUpdate_b1_b2_d1_w2_c1_c2) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Delete("docs", "x"));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "x", V(5)));
    ASSERT_TRUE(t1->Commit().ok());
    PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    PHENIX_EXPECT_CODE(db_->Get("docs", "x"), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 0u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, LostUpdateImpossible_UpdateVsDelete_b1_b2_d1_w2_c2_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Delete("docs", "x"));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "x", V(5)));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    auto x = db_->Get("docs", "x");
    ASSERT_TRUE(x.ok()) << x.status().ToString();
    EXPECT_EQ(IntField(*x, "v"), 5);
    EXPECT_EQ(Count(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Read skew: x + y = 100 always holds in committed states.
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, ReadSkewImpossible_r1x_w2x_w2y_c2_r1y) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(50))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {0, 1, 0, 0}, V(50))));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    auto x = t1->Get("docs", "x");
    ASSERT_TRUE(x.ok());

    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "x", V(20)));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "y", V(80)));
    ASSERT_TRUE(t2->Commit().ok());

    auto y = t1->Get("docs", "y");
    ASSERT_TRUE(y.ok());
    EXPECT_EQ(IntField(*x, "v") + IntField(*y, "v"), 100);
    EXPECT_EQ(IntField(*y, "v"), 50);
    // The committed state satisfies the constraint too.
    EXPECT_EQ(IntField(DbGet("docs", "x"), "v") + IntField(DbGet("docs", "y"), "v"), 100);
}

TEST_F(Isolation, ReadSkewImpossible_AutocommitBatch_r1x_wbatch_r1scan) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(50))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {0, 1, 0, 0}, V(50))));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    auto x = t1->Get("docs", "x");
    ASSERT_TRUE(x.ok());
    WriteBatch batch;
    batch.PatchMetadata("docs", "x", V(1));
    batch.PatchMetadata("docs", "y", V(99));
    PHENIX_ASSERT_OK(db_->Write(batch));
    auto page = t1->Scan("docs");
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->entities.size(), 2u);
    EXPECT_EQ(IntField(page->entities[0], "v"), IntField(*x, "v"));
    EXPECT_EQ(IntField(page->entities[0], "v") + IntField(page->entities[1], "v"), 100);
    EXPECT_EQ(IntField(page->entities[1], "v"), 50);
}

// ---------------------------------------------------------------------------------------------
// Write skew: possible under snapshot isolation. Two doctors are on call (x + y >= 1 is the
// application's rule); each transaction checks the rule on its snapshot and takes one doctor off
// call. Both commit, and the rule is broken. This pins the documented behaviour.
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, WriteSkewPossible_r1x_r1y_r2x_r2y_w1x_w2y_c1_c2) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {0, 1, 0, 0}, V(1))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    const std::int64_t sum1 =
        IntField(TxnGet(*t1, "docs", "x"), "v") + IntField(TxnGet(*t1, "docs", "y"), "v");
    const std::int64_t sum2 =
        IntField(TxnGet(*t2, "docs", "x"), "v") + IntField(TxnGet(*t2, "docs", "y"), "v");
    ASSERT_EQ(sum1, 2);
    ASSERT_EQ(sum2, 2);
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "x", V(0)));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "y", V(0)));
    auto c1 = t1->Commit();
    auto c2 = t2->Commit();
    EXPECT_TRUE(c1.ok()) << c1.status().ToString();
    EXPECT_TRUE(c2.ok()) << "write skew is allowed under snapshot isolation: "
                         << c2.status().ToString();
    EXPECT_EQ(IntField(DbGet("docs", "x"), "v") + IntField(DbGet("docs", "y"), "v"), 0);
}

// ---------------------------------------------------------------------------------------------
// Read your own writes
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, ReadYourOwnWrites_Get) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("old", {1, 0, 0, 0}, R"({"a":1,"b":2})")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("doomed")));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);

    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {0, 1, 0, 0}, V(1))));
    EXPECT_EQ(TxnGet(*t1, "docs", "n"), Doc("n", {0, 1, 0, 0}, V(1)));
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "n", R"({"w":2})"));
    EXPECT_EQ(Json(TxnGet(*t1, "docs", "n")), Json(R"({"v":1,"w":2})"));

    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "old", R"({"a":null,"c":3})"));
    EXPECT_EQ(Json(TxnGet(*t1, "docs", "old")), Json(R"({"b":2,"c":3})"));
    PHENIX_ASSERT_OK(t1->ReplaceMetadata("docs", "old", R"({"r":true})"));
    auto old = t1->Get("docs", "old");
    ASSERT_TRUE(old.ok());
    EXPECT_EQ(Json(*old), Json(R"({"r":true})"));
    EXPECT_EQ(old->vector, (std::vector<float>{1, 0, 0, 0})) << "ReplaceMetadata keeps the vector";
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("old", {0, 0, 1, 0}, V(7))));
    EXPECT_EQ(TxnGet(*t1, "docs", "old"), Doc("old", {0, 0, 1, 0}, V(7)));

    PHENIX_ASSERT_OK(t1->Delete("docs", "doomed"));
    PHENIX_EXPECT_CODE(t1->Get("docs", "doomed"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(t1->Delete("docs", "doomed"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(t1->PatchMetadata("docs", "doomed", "{}"), StatusCode::kNotFound);
    // An id deleted in the transaction may be inserted again.
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("doomed", {0, 0, 0, 1}, V(2))));
    EXPECT_EQ(TxnGet(*t1, "docs", "doomed"), Doc("doomed", {0, 0, 0, 1}, V(2)));
    PHENIX_EXPECT_CODE(t1->Insert("docs", Doc("n")), StatusCode::kAlreadyExists);

    // A batch inside the transaction: later operations see earlier ones.
    WriteBatch batch;
    batch.Insert("docs", Doc("batched", {1, 1, 0, 0}, V(1)));
    batch.PatchMetadata("docs", "batched", R"({"p":1})");
    batch.Insert("docs", Doc("temp"));
    batch.Delete("docs", "temp");
    PHENIX_ASSERT_OK(t1->Write(batch));
    EXPECT_EQ(Json(TxnGet(*t1, "docs", "batched")), Json(R"({"v":1,"p":1})"));
    PHENIX_EXPECT_CODE(t1->Get("docs", "temp"), StatusCode::kNotFound);

    // None of it is visible outside before the commit; all of it after.
    EXPECT_EQ(Ids(), (std::vector<std::string>{"doomed", "old"}));
    const Lines inside = State(*t1);
    ASSERT_TRUE(t1->Commit().ok());
    EXPECT_EQ(State(), inside);
    EXPECT_EQ(Ids(), (std::vector<std::string>{"batched", "doomed", "n", "old"}));
    EXPECT_EQ(Count(), 4u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, ReadYourOwnWrites_ScanMergesOwnInsertsAndDeletesInIdOrder) {
    for (const char* id : {"b", "d", "f", "h"}) {
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(id, {1, 0, 0, 0}, V(0))));
    }
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("i", {0, 1, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("a", {0, 1, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("c", {0, 1, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t1->Delete("docs", "d"));
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "f", V(9)));
    PHENIX_ASSERT_OK(t1->Delete("docs", "h"));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("h", {0, 0, 1, 0}, V(8))));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("e", {0, 1, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t1->Delete("docs", "e"));  // inserted and deleted: never seen

    auto all = t1->Scan("docs", ScanOptions{.limit = 100});
    ASSERT_TRUE(all.ok());
    IdList ids;
    for (const Entity& e : all->entities) {
        ids.push_back(e.id);
    }
    EXPECT_EQ(ids, (IdList{"a", "b", "c", "f", "h", "i"}));
    EXPECT_TRUE(all->next_start_after.empty());
    ASSERT_EQ(all->entities.size(), 6u);
    EXPECT_EQ(IntField(all->entities[3], "v"), 9) << "own patch of f";
    EXPECT_EQ(all->entities[4], Doc("h", {0, 0, 1, 0}, V(8))) << "own re-insert of h";
    EXPECT_EQ(all->entities[0], Doc("a", {0, 1, 0, 0}, V(1)));

    // Pages of two: no gaps or repeats across own and committed rows.
    IdList paged;
    std::string start_after;
    int num_pages = 0;
    for (; num_pages < 10; ++num_pages) {
        auto page = t1->Scan("docs", ScanOptions{.start_after = start_after, .limit = 2});
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        EXPECT_LE(page->entities.size(), 2u);
        for (const Entity& e : page->entities) {
            paged.push_back(e.id);
        }
        if (page->next_start_after.empty()) {
            break;
        }
        EXPECT_EQ(page->next_start_after, paged.back());
        start_after = page->next_start_after;
    }
    EXPECT_EQ(paged, ids);
    EXPECT_LE(num_pages, 4);

    // start_after an own insert, a committed row and an own delete.
    EXPECT_EQ(TxnIds(*t1, "docs", {.start_after = "c", .limit = 100}), (IdList{"f", "h", "i"}));
    EXPECT_EQ(TxnIds(*t1, "docs", {.start_after = "b", .limit = 100}),
              (IdList{"c", "f", "h", "i"}));
    EXPECT_EQ(TxnIds(*t1, "docs", {.start_after = "d", .limit = 100}), (IdList{"f", "h", "i"}));
    EXPECT_EQ(TxnIds(*t1, "docs", {.start_after = "h", .limit = 1}), (IdList{"i"}));

    EXPECT_EQ(Ids(), (std::vector<std::string>{"b", "d", "f", "h"}));
    ASSERT_TRUE(t1->Commit().ok());
    EXPECT_EQ(Ids(), (std::vector<std::string>{"a", "b", "c", "f", "h", "i"}));
    EXPECT_EQ(Count(), 6u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, ReadYourOwnWrites_ListEdgesSeesOwnEdgesInBothDirections) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("s", {1, 0, 0, 0}, "{}", {To("c")})));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b", "likes", 2.0)})));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {0, 1, 0, 0}, "{}", {To("a", "cites")})));
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("c", {0, 0, 1, 0}, "{}", {To("n")})));
    // Replacing s's out-edges moves its edge from c to b.
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("s", {1, 0, 0, 0}, "{}", {To("b")})));

    EXPECT_EQ(TxnEdges(*t1, "docs", "a", EdgeDirection::kOut),
              (Lines{EdgeText("a", "b", "likes", 2.0)}));
    EXPECT_EQ(TxnEdges(*t1, "docs", "a", EdgeDirection::kIn), (Lines{EdgeText("n", "a", "cites")}));
    EXPECT_EQ(TxnEdges(*t1, "docs", "b", EdgeDirection::kIn),
              (Lines{EdgeText("a", "b", "likes", 2.0), EdgeText("s", "b")}));
    EXPECT_EQ(TxnEdges(*t1, "docs", "c", EdgeDirection::kIn), Lines{}) << "s -> c was replaced";
    EXPECT_EQ(TxnEdges(*t1, "docs", "n", EdgeDirection::kIn), (Lines{EdgeText("c", "n")}));
    EXPECT_EQ(TxnEdges(*t1, "docs", "n", EdgeDirection::kOut),
              (Lines{EdgeText("n", "a", "cites")}));
    // kBoth: out-edges first, then in-edges.
    auto both = t1->ListEdges("docs", "a", EdgeDirection::kBoth);
    ASSERT_TRUE(both.ok()) << both.status().ToString();
    ASSERT_EQ(both->size(), 2u);
    EXPECT_EQ((*both)[0].source_id, "a");
    EXPECT_EQ((*both)[0].target_id, "b");
    EXPECT_EQ((*both)[1].source_id, "n");
    EXPECT_EQ((*both)[1].target_id, "a");
    auto a = t1->Get("docs", "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->edges, (std::vector<Edge>{To("b", "likes", 2.0)}));

    const Lines inside = State(*t1);
    EXPECT_EQ(DbEdges("docs", "b", EdgeDirection::kIn), Lines{});
    ASSERT_TRUE(t1->Commit().ok());
    EXPECT_EQ(State(), inside);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, ReadYourOwnWrites_EdgesOfAnEntityDeletedInTheTransactionDisappear) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("h", {1, 0, 0, 0}, "{}", {To("y"), To("h", "self")})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {0, 1, 0, 0}, "{}", {To("h"), To("y")})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("z", {0, 0, 1, 0}, "{}", {To("y", "other")})));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Delete("docs", "h"));

    PHENIX_EXPECT_CODE(t1->ListEdges("docs", "h", EdgeDirection::kBoth), StatusCode::kNotFound);
    EXPECT_EQ(TxnEdges(*t1, "docs", "x", EdgeDirection::kOut), (Lines{EdgeText("x", "y")}));
    EXPECT_EQ(TxnEdges(*t1, "docs", "y", EdgeDirection::kIn),
              (Lines{EdgeText("x", "y"), EdgeText("z", "y", "other")}));
    auto x = t1->Get("docs", "x");
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x->edges, (std::vector<Edge>{To("y")}));
    auto page = t1->Scan("docs");
    ASSERT_TRUE(page.ok());
    for (const Entity& e : page->entities) {
        for (const Edge& edge : e.edges) {
            EXPECT_NE(edge.target_id, "h") << e.id << " still points at the deleted h";
        }
    }
    // Outside the transaction the edges are still there.
    EXPECT_EQ(DbEdges("docs", "y", EdgeDirection::kIn).size(), 3u);

    const Lines inside = State(*t1);
    ASSERT_TRUE(t1->Commit().ok());
    EXPECT_EQ(State(), inside);
    EXPECT_EQ(Count(), 3u);
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Rollback
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, RollbackLeavesNoTrace) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "people"}));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d2", {0, 1, 0, 0}, V(2), {To("d1")})));
    Edge authored = To("d1", "authored");
    authored.target_collection = "docs";
    PHENIX_ASSERT_OK(db_->Insert("people", Entity{.id = "alice", .edges = {authored}}));
    const Lines docs_before = State("docs");
    const Lines people_before = State("people");
    const std::uint64_t docs_count = Count("docs");
    const std::uint64_t people_count = Count("people");

    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("d3", {0, 0, 1, 0}, V(3), {To("d2")})));
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("d1", {0, 0, 0, 1}, V(9), {To("d3")})));
    PHENIX_ASSERT_OK(t1->Delete("docs", "d2"));
    Edge knows = To("d3", "knows");
    knows.target_collection = "docs";
    PHENIX_ASSERT_OK(t1->Insert("people", Entity{.id = "bob", .edges = {knows}}));
    PHENIX_ASSERT_OK(t1->PatchMetadata("people", "alice", R"({"age":30})"));
    WriteBatch batch;
    batch.Upsert("docs", Doc("d4"));
    batch.ReplaceMetadata("people", "alice", R"({"age":31})");
    PHENIX_ASSERT_OK(t1->Write(batch));
    ASSERT_NE(State(*t1, "docs"), docs_before);
    ASSERT_NE(State(*t1, "people"), people_before);

    PHENIX_ASSERT_OK(t1->Rollback());
    PHENIX_ASSERT_OK(t1->Rollback());  // idempotent
    auto check = [&](const char* when) {
        SCOPED_TRACE(when);
        EXPECT_EQ(State("docs"), docs_before);
        EXPECT_EQ(State("people"), people_before);
        EXPECT_EQ(Count("docs"), docs_count);
        EXPECT_EQ(Count("people"), people_count);
        EXPECT_EQ(DbEdges("docs", "d1", EdgeDirection::kIn).size(), 2u);
        PHENIX_EXPECT_OK(db_->Verify());
        auto reader = Begin();
        ASSERT_NE(reader, nullptr);
        EXPECT_EQ(State(*reader, "docs"), docs_before);
        EXPECT_EQ(State(*reader, "people"), people_before);
    };
    check("after rollback");
    t1.reset();
    Options options;
    options.durability = Durability::kRelaxed;
    Reopen(options);
    check("after reopen");

    // Nothing is left behind that would make the same writes conflict.
    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("d3", {0, 0, 1, 0}, V(3), {To("d2")})));
    PHENIX_ASSERT_OK(t2->Insert("people", Entity{.id = "bob"}));
    PHENIX_ASSERT_OK(t2->PatchMetadata("people", "alice", R"({"age":30})"));
    auto c2 = t2->Commit();
    EXPECT_TRUE(c2.ok()) << c2.status().ToString();
    EXPECT_EQ(Count("docs"), docs_count + 1);
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Edges and their targets: adding an edge to B relies on B, so it conflicts with a concurrent
// write or delete of B (either commit order). Edges from two transactions to one target do not.
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, EdgeTargetConflict_NewEdgeToB_DeleteB_b1_b2_e1_d2_c2_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {0, 1, 0, 0}, "{}", {To("b", "new")})));
    PHENIX_ASSERT_OK(t2->Delete("docs", "b"));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    EXPECT_TRUE(DbGet("docs", "a").edges.empty());
    PHENIX_EXPECT_CODE(db_->Get("docs", "n"), StatusCode::kNotFound);
    PHENIX_EXPECT_CODE(db_->Get("docs", "b"), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 1u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, EdgeTargetConflict_NewEdgeToB_DeleteB_b1_b2_e1_d2_c1_c2) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(t2->Delete("docs", "b"));
    ASSERT_TRUE(t1->Commit().ok());
    PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    EXPECT_TRUE(db_->Get("docs", "b").ok());
    EXPECT_EQ(DbEdges("docs", "b", EdgeDirection::kIn), (Lines{EdgeText("a", "b")}));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, EdgeTargetConflict_NewEdgeToB_WriteB_b1_b2_e1_w2_c2_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "b", V(1)));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    EXPECT_TRUE(DbGet("docs", "a").edges.empty());
    EXPECT_EQ(IntField(DbGet("docs", "b"), "v"), 1);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, EdgeTargetConflict_NewEdgeToB_WriteB_b1_b2_e1_w2_c1_c2) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {1, 0, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("b", {0, 1, 0, 0}, V(1))));
    ASSERT_TRUE(t1->Commit().ok());
    PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    EXPECT_EQ(IntField(DbGet("docs", "b"), "v"), 0);
    EXPECT_EQ(DbEdges("docs", "b", EdgeDirection::kIn), (Lines{EdgeText("a", "b")}));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, EdgeTargetConflict_AutocommitDeleteOfTarget_b1_e1_dauto_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {0, 1, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(db_->Delete("docs", "b"));  // autocommit writes never abort
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    PHENIX_EXPECT_CODE(db_->Get("docs", "n"), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 1u);
    PHENIX_EXPECT_OK(db_->Verify());
}

// y -> x exists. T1 deletes x (which removes y -> x); T2 rewrites y keeping its edge to x. If both
// committed, y would point at a deleted entity: one must abort.
TEST_F(Isolation, EdgeTargetConflict_KeptEdgeToB_DeleteB_b1_b2_d1_u2_c1_c2) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {1, 0, 0, 0}, V(0), {To("x")})));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Delete("docs", "x"));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("y", {0, 1, 0, 0}, V(1), {To("x")})));
    ASSERT_TRUE(t1->Commit().ok());
    PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    EXPECT_EQ(DbGet("docs", "y"), Doc("y", {1, 0, 0, 0}, V(0)));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, EdgeTargetConflict_KeptEdgeToB_DeleteB_b1_b2_d1_u2_c2_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {1, 0, 0, 0}, V(0), {To("x")})));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Delete("docs", "x"));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("y", {0, 1, 0, 0}, V(1), {To("x")})));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    EXPECT_EQ(DbGet("docs", "y"), Doc("y", {0, 1, 0, 0}, V(1), {To("x")}));
    EXPECT_EQ(DbEdges("docs", "x", EdgeDirection::kIn), (Lines{EdgeText("y", "x")}));
    PHENIX_EXPECT_OK(db_->Verify());
}

// y -> x exists. T1 deletes x; T2 only patches y's metadata. Whatever the outcome (a conflict, or
// both commit), y must not end up pointing at the deleted x, and T2's patch must not be lost if it
// committed.
TEST_F(Isolation, DeleteOfTargetVsPatchOfSource_b1_b2_d1_p2_c1_c2_NeverDangles) {
    for (const bool t1_first : {true, false}) {
        SCOPED_TRACE(t1_first ? "c1 c2" : "c2 c1");
        const std::string x = t1_first ? "x1" : "x2";
        const std::string y = t1_first ? "y1" : "y2";
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(x)));
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(y, {1, 0, 0, 0}, V(0), {To(x)})));
        auto t1 = Begin();
        auto t2 = Begin();
        ASSERT_NE(t1, nullptr);
        ASSERT_NE(t2, nullptr);
        PHENIX_ASSERT_OK(t1->Delete("docs", x));
        PHENIX_ASSERT_OK(t2->PatchMetadata("docs", y, V(1)));
        Result<Timestamp> c1 = Status::Internal("not run");
        Result<Timestamp> c2 = Status::Internal("not run");
        if (t1_first) {
            c1 = t1->Commit();
            c2 = t2->Commit();
        } else {
            c2 = t2->Commit();
            c1 = t1->Commit();
        }
        EXPECT_TRUE(c1.ok() || c1.status().code() == StatusCode::kAborted)
            << c1.status().ToString();
        EXPECT_TRUE(c2.ok() || c2.status().code() == StatusCode::kAborted)
            << c2.status().ToString();
        EXPECT_TRUE(c1.ok() || c2.ok()) << "the first committer wins";
        const Entity got = DbGet("docs", y);
        EXPECT_EQ(IntField(got, "v"), c2.ok() ? 1 : 0);
        if (c1.ok()) {
            PHENIX_EXPECT_CODE(db_->Get("docs", x), StatusCode::kNotFound);
            EXPECT_TRUE(got.edges.empty()) << "dangling edge to the deleted " << x;
        } else {
            EXPECT_EQ(got.edges, (std::vector<Edge>{To(x)}));
        }
        PHENIX_EXPECT_OK(db_->Verify());
    }
}

TEST_F(Isolation, EdgesToOneTargetFromConcurrentTransactionsDoNotConflict_e1_e2_e3_c2_c1_c3) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c")));
    auto t1 = Begin();
    auto t2 = Begin();
    auto t3 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    ASSERT_NE(t3, nullptr);
    PHENIX_ASSERT_OK(t1->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("b")})));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("c", {0, 1, 0, 0}, "{}", {To("b", "likes")})));
    PHENIX_ASSERT_OK(t3->Insert("docs", Doc("n", {0, 0, 1, 0}, "{}", {To("b")})));
    auto c2 = t2->Commit();
    auto c1 = t1->Commit();
    auto c3 = t3->Commit();
    EXPECT_TRUE(c1.ok()) << c1.status().ToString();
    EXPECT_TRUE(c2.ok()) << c2.status().ToString();
    EXPECT_TRUE(c3.ok()) << c3.status().ToString();
    EXPECT_EQ(DbEdges("docs", "b", EdgeDirection::kIn),
              (Lines{EdgeText("a", "b"), EdgeText("c", "b", "likes"), EdgeText("n", "b")}));
    PHENIX_EXPECT_OK(db_->Verify());
}

// ---------------------------------------------------------------------------------------------
// Inserts of one new id
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, InsertInsertConflict_b1_b2_i1_i2_c1_c2) {
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("n", {0, 1, 0, 0}, V(2))));
    ASSERT_TRUE(t1->Commit().ok());
    PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    EXPECT_EQ(DbGet("docs", "n"), Doc("n", {1, 0, 0, 0}, V(1)));
    EXPECT_EQ(Count(), 1u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, InsertInsertConflict_b1_b2_i1_c1_i2_c2) {
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {1, 0, 0, 0}, V(1))));
    ASSERT_TRUE(t1->Commit().ok());
    // T2's snapshot has no "n": its Insert may fail now (AlreadyExists) or its commit must.
    Status i2 = t2->Insert("docs", Doc("n", {0, 1, 0, 0}, V(2)));
    if (i2.ok()) {
        PHENIX_EXPECT_CODE(t2->Commit(), StatusCode::kAborted);
    } else {
        EXPECT_EQ(i2.code(), StatusCode::kAlreadyExists) << i2.ToString();
        EXPECT_TRUE(t2->Commit().ok());
    }
    EXPECT_EQ(DbGet("docs", "n"), Doc("n", {1, 0, 0, 0}, V(1)));
    EXPECT_EQ(Count(), 1u);
}

TEST_F(Isolation, InsertOfCommittedId_b1_i1_c1_b2_i2_w2_c2) {
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("n", {1, 0, 0, 0}, V(1))));
    ASSERT_TRUE(t1->Commit().ok());
    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_EXPECT_CODE(t2->Insert("docs", Doc("n", {0, 1, 0, 0}, V(2))),
                       StatusCode::kAlreadyExists);
    // The failed write changed nothing; the transaction goes on.
    EXPECT_EQ(TxnGet(*t2, "docs", "n"), Doc("n", {1, 0, 0, 0}, V(1)));
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("m", {0, 1, 0, 0}, V(2))));
    auto c2 = t2->Commit();
    EXPECT_TRUE(c2.ok()) << c2.status().ToString();
    EXPECT_EQ(DbGet("docs", "n"), Doc("n", {1, 0, 0, 0}, V(1)));
    EXPECT_EQ(Count(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Autocommit writes against transactions
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, AutocommitWriteAbortsConcurrentTransaction_b1_w1_wauto_c1) {
    struct AutoWrite {
        const char* name;
        std::function<Status(Database&, const std::string&)> write;
    };
    const std::vector<AutoWrite> writes = {
        {"PatchMetadata",
         [](Database& db, const std::string& id) { return db.PatchMetadata("docs", id, V(2)); }},
        {"ReplaceMetadata",
         [](Database& db, const std::string& id) { return db.ReplaceMetadata("docs", id, V(2)); }},
        {"Upsert",
         [](Database& db, const std::string& id) {
             return db.Upsert("docs", Doc(id, {0, 0, 1, 0}, V(2)));
         }},
        {"Delete", [](Database& db, const std::string& id) { return db.Delete("docs", id); }},
        {"Write", [](Database& db, const std::string& id) {
             WriteBatch batch;
             batch.PatchMetadata("docs", id, V(2));
             return db.Write(batch);
         }}};
    for (const AutoWrite& w : writes) {
        SCOPED_TRACE(w.name);
        const std::string id = std::string("e_") + w.name;
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(id, {1, 0, 0, 0}, V(0))));
        auto t1 = Begin();
        ASSERT_NE(t1, nullptr);
        PHENIX_ASSERT_OK(t1->PatchMetadata("docs", id, V(1)));
        PHENIX_ASSERT_OK(w.write(*db_, id));  // autocommit writes never abort
        const Lines after_autocommit = State();
        PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
        EXPECT_EQ(State(), after_autocommit) << "an aborted commit writes nothing";
        auto got = db_->Get("docs", id);
        if (got.ok()) {
            EXPECT_EQ(IntField(*got, "v"), 2);
        } else {
            EXPECT_EQ(std::string(w.name), "Delete") << got.status().ToString();
        }
    }

    // Autocommit insert of an id a transaction inserts.
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    PHENIX_ASSERT_OK(t1->Insert("docs", Doc("fresh", {1, 0, 0, 0}, V(1))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("fresh", {0, 1, 0, 0}, V(2))));
    PHENIX_EXPECT_CODE(t1->Commit(), StatusCode::kAborted);
    EXPECT_EQ(DbGet("docs", "fresh"), Doc("fresh", {0, 1, 0, 0}, V(2)));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(Isolation, AutocommitWriteToAnotherEntityDoesNotConflict_b1_w1x_wautoy_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {0, 1, 0, 0}, V(0))));
    auto t1 = Begin();
    ASSERT_NE(t1, nullptr);
    // T1 also reads y: reads are not validated under snapshot isolation.
    EXPECT_EQ(IntField(TxnGet(*t1, "docs", "y"), "v"), 0);
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "x", V(1)));
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "y", V(2)));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("z")));
    auto c1 = t1->Commit();
    EXPECT_TRUE(c1.ok()) << c1.status().ToString();
    EXPECT_EQ(IntField(DbGet("docs", "x"), "v"), 1);
    EXPECT_EQ(IntField(DbGet("docs", "y"), "v"), 2);
}

TEST_F(Isolation, DisjointWritesBothCommit_b1_b2_w1x_w2y_c2_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {0, 1, 0, 0}, V(0))));
    auto t1 = Begin();
    auto t2 = Begin();
    ASSERT_NE(t1, nullptr);
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t1->PatchMetadata("docs", "x", V(1)));
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "y", V(2)));
    PHENIX_ASSERT_OK(t2->Insert("docs", Doc("z")));
    auto c2 = t2->Commit();
    auto c1 = t1->Commit();
    ASSERT_TRUE(c1.ok()) << c1.status().ToString();
    ASSERT_TRUE(c2.ok()) << c2.status().ToString();
    EXPECT_NE(*c1, *c2);
    EXPECT_EQ(IntField(DbGet("docs", "x"), "v"), 1);
    EXPECT_EQ(IntField(DbGet("docs", "y"), "v"), 2);
    EXPECT_EQ(Count(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Read-only transactions never abort
// ---------------------------------------------------------------------------------------------

TEST_F(Isolation, ReadOnlyNeverAborts_b1ro_r1_w2_c2_wauto_dauto_r1_c1) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0}, V(0))));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {0, 1, 0, 0}, V(0), {To("a")})));
    auto t1 = BeginReadOnly();
    ASSERT_NE(t1, nullptr);
    const Lines before = State(*t1);

    auto t2 = Begin();
    ASSERT_NE(t2, nullptr);
    PHENIX_ASSERT_OK(t2->PatchMetadata("docs", "a", V(1)));
    PHENIX_ASSERT_OK(t2->Upsert("docs", Doc("b", {0, 1, 0, 0}, V(1))));
    ASSERT_TRUE(t2->Commit().ok());
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "a", V(2)));
    PHENIX_ASSERT_OK(db_->Delete("docs", "b"));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c")));

    EXPECT_EQ(State(*t1), before);
    auto c1 = t1->Commit();
    EXPECT_TRUE(c1.ok()) << c1.status().ToString();
}

}  // namespace
}  // namespace phenix
