// SPDX-License-Identifier: Apache-2.0
// WriteBatch semantics: atomic (all or nothing), ordered, edge targets resolved against the
// batch's final state.
#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

TEST_F(DbTest, BatchIsAppliedAtomically) {
    WriteBatch batch;
    batch.Insert("docs", Doc("a"));
    batch.Insert("docs", Doc("b"));
    batch.Insert("docs", Doc("c", {1.0f}));  // wrong dimension
    Status s = db_->Write(batch);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("batch operation 2"), std::string::npos) << s.message();
    EXPECT_TRUE(Ids().empty());
    EXPECT_EQ(Count(), 0u);

    batch.Clear();
    batch.Insert("docs", Doc("a"));
    batch.Insert("docs", Doc("b"));
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_EQ(Ids(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(Count(), 2u);
}

// Deleting an entity whose in-edges come from entities the batch does not touch makes the write
// path take their locks too and repeat its work; the repeat must produce exactly the same
// result (it once stored empty metadata, because the first attempt had moved it away).
TEST_F(DbTest, BatchThatDeletesEdgesOfUntouchedEntitiesKeepsEveryValue) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("target")));
    for (const char* source : {"s1", "s2", "s3"}) {
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(source, {1, 2, 3, 4}, "{}", {To("target")})));
    }
    WriteBatch batch;
    batch.Upsert("docs", Doc("x", {4, 3, 2, 1}, R"({"kept":true})"));
    batch.Delete("docs", "target");
    batch.Upsert("docs", Doc("y", {1, 1, 1, 1}, R"({"also":"kept"})", {To("x")}));
    batch.ReplaceMetadata("docs", "s1", R"({"replaced":1})");
    PHENIX_ASSERT_OK(db_->Write(batch));

    auto x = db_->Get("docs", "x");
    ASSERT_TRUE(x.ok()) << x.status().ToString();
    EXPECT_EQ(x->metadata, R"({"kept":true})");
    auto y = db_->Get("docs", "y");
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->metadata, R"({"also":"kept"})");
    ASSERT_EQ(y->edges.size(), 1u);
    auto s1 = db_->Get("docs", "s1");
    ASSERT_TRUE(s1.ok());
    EXPECT_EQ(s1->metadata, R"({"replaced":1})");
    EXPECT_TRUE(s1->edges.empty());
    EXPECT_EQ(db_->Get("docs", "target").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 5u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(DbTest, BatchFailingOnAStateCheckWritesNothing) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("exists")));
    WriteBatch batch;
    batch.Upsert("docs", Doc("new1"));
    batch.PatchMetadata("docs", "exists", R"({"touched":true})");
    batch.Insert("docs", Doc("exists"));  // AlreadyExists
    Status s = db_->Write(batch);
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(Ids(), std::vector<std::string>{"exists"});
    EXPECT_EQ(db_->Get("docs", "exists")->metadata, "{}");
}

TEST_F(DbTest, LaterOperationsSeeEarlierOnesInTheSameBatch) {
    WriteBatch batch;
    batch.Insert("docs", Doc("a", {1, 1, 1, 1}, R"({"v":1})"));
    batch.PatchMetadata("docs", "a", R"({"w":2})");
    batch.Delete("docs", "a");
    batch.Insert("docs", Doc("a", {2, 2, 2, 2}, R"({"v":3})"));
    batch.Upsert("docs", Doc("b"));
    batch.Delete("docs", "b");
    PHENIX_ASSERT_OK(db_->Write(batch));
    auto a = db_->Get("docs", "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->metadata, R"({"v":3})");
    EXPECT_EQ(a->vector, (std::vector<float>{2, 2, 2, 2}));
    EXPECT_EQ(db_->Get("docs", "b").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DbTest, EdgesMayPointAtEntitiesInsertedLaterInTheBatch) {
    WriteBatch batch;
    batch.Insert("docs", Doc("first", {1, 1, 1, 1}, "{}", {To("second")}));
    batch.Insert("docs", Doc("second", {1, 1, 1, 1}, "{}", {To("first")}));
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_EQ(db_->Get("docs", "first")->edges.size(), 1u);
    EXPECT_EQ(db_->ListEdges("docs", "first", EdgeDirection::kIn)->size(), 1u);
}

TEST_F(DbTest, EdgeToAnEntityDeletedInTheSameBatchFails) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    WriteBatch batch;
    batch.Insert("docs", Doc("s", {1, 1, 1, 1}, "{}", {To("t")}));
    batch.Delete("docs", "t");
    Status s = db_->Write(batch);
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("target entity 't' does not exist"), std::string::npos)
        << s.message();
    EXPECT_EQ(Ids(), std::vector<std::string>{"t"});
}

TEST_F(DbTest, DeleteAndReinsertInOneBatchDropsOldInEdges) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("s", {1, 1, 1, 1}, "{}", {To("t")})));
    WriteBatch batch;
    batch.Delete("docs", "t");
    batch.Insert("docs", Doc("t", {2, 2, 2, 2}));
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_TRUE(db_->Get("docs", "s")->edges.empty());
    EXPECT_TRUE(db_->ListEdges("docs", "t", EdgeDirection::kIn)->empty());
    EXPECT_EQ(Count(), 2u);
}

// An autocommit batch reaches RocksDB sorted by key (issue 12). Where one batch writes a key
// more than once, the last write must still win, at both ends of an edge: a repeated edge of one
// source, an upsert of the same source later in the batch, and a delete-then-reinsert of a
// target, with keys that sort far apart from the order they were written in.
TEST_F(DbTest, SortedBatchKeepsTheLastWriteOfEachKey) {
    for (int idx = 0; idx < 40; ++idx) {
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t" + std::to_string(idx))));
    }
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("keep", {1, 1, 1, 1}, "{}", {To("t5", "x", 1.0)})));
    WriteBatch batch;
    for (int idx = 39; idx >= 0; --idx) {  // sources written in descending id order
        const std::string id = "s" + std::to_string(idx);
        batch.Upsert("docs", Doc(id, {1, 2, 3, 4}, "{}",
                                 {To("t" + std::to_string(39 - idx), "e", 1.0), To("t0", "z", 1.0),
                                  To("t" + std::to_string(39 - idx), "e", 2.0 + idx)}));
    }
    batch.Upsert("docs", Doc("s3", {1, 2, 3, 4}, "{}", {To("t7", "e", 70.0)}));   // replaces s3's
    batch.Upsert("docs", Doc("keep", {1, 1, 1, 1}, "{}", {To("t5", "x", 5.0)}));  // same key again
    PHENIX_ASSERT_OK(db_->Write(batch));

    auto s10 = db_->ListEdges("docs", "s10", EdgeDirection::kOut);
    ASSERT_TRUE(s10.ok());
    ASSERT_EQ(s10->size(), 2u);
    EXPECT_EQ((*s10)[0].target_id, "t29");
    EXPECT_DOUBLE_EQ((*s10)[0].weight, 12.0);
    auto in_t29 = db_->ListEdges("docs", "t29", EdgeDirection::kIn);
    ASSERT_TRUE(in_t29.ok());
    ASSERT_EQ(in_t29->size(), 1u);
    EXPECT_EQ((*in_t29)[0].source_id, "s10");
    EXPECT_DOUBLE_EQ((*in_t29)[0].weight, 12.0);
    // s3's first list is gone from both ends; only its second one is stored.
    auto s3 = db_->ListEdges("docs", "s3", EdgeDirection::kOut);
    ASSERT_TRUE(s3.ok());
    ASSERT_EQ(s3->size(), 1u);
    EXPECT_EQ((*s3)[0].target_id, "t7");
    auto in_t36 = db_->ListEdges("docs", "t36", EdgeDirection::kIn);
    ASSERT_TRUE(in_t36.ok());
    EXPECT_TRUE(in_t36->empty());
    auto in_t0 = db_->ListEdges("docs", "t0", EdgeDirection::kIn);
    ASSERT_TRUE(in_t0.ok());
    EXPECT_EQ(in_t0->size(), 39u + 1u);  // "z" from every source but s3, and s39's "e"
    // The upsert that keeps an edge with a new weight: both ends have the new one.
    auto in_t5 = db_->ListEdges("docs", "t5", EdgeDirection::kIn);
    ASSERT_TRUE(in_t5.ok());
    double keep_weight = 0;
    for (const EdgeRecord& edge : *in_t5) {
        if (edge.source_id == "keep") {
            keep_weight = edge.weight;
        }
    }
    EXPECT_DOUBLE_EQ(keep_weight, 5.0);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(DbTest, EmptyBatchIsANoOp) {
    WriteBatch batch;
    PHENIX_EXPECT_OK(db_->Write(batch));
}

TEST_F(DbTest, BatchAcrossCollections) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "other"}));
    WriteBatch batch;
    batch.Insert("docs", Doc("a"));
    batch.Insert("other", Entity{.id = "b"});
    batch.Insert("missing_collection", Entity{.id = "c"});
    Status s = db_->Write(batch);
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("batch operation 2"), std::string::npos);
    EXPECT_TRUE(Ids().empty());
    EXPECT_TRUE(Ids("other").empty());
}

}  // namespace
}  // namespace phenix
