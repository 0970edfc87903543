// SPDX-License-Identifier: Apache-2.0
// WriteBatch::ReplaceEdges: replaces an entity's out-edges (both ways in storage) and leaves its
// vector, its metadata and the vector index alone.
#include <algorithm>
#include <chrono>
#include <thread>

#include <phenix/query.h>
#include <phenix/search.h>
#include <phenix/transaction.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class ReplaceEdges : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {1, 0, 0, 0})));
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {0, 1, 0, 0})));
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c", {0, 0, 1, 0})));
        PHENIX_ASSERT_OK(db_->Insert(
            "docs", Doc("s", {0.5f, 0.5f, 0, 0}, R"({"k": 1})", {To("a"), To("b", "cites")})));
    }

    std::vector<std::string> Edges(const std::string& id, EdgeDirection direction) {
        auto edges = db_->ListEdges("docs", id, direction);
        EXPECT_TRUE(edges.ok()) << edges.status().ToString();
        std::vector<std::string> out;
        if (edges.ok()) {
            for (const EdgeRecord& e : *edges) {
                out.push_back(e.source_id + "-" + e.label + "->" + e.target_id);
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<std::string> Reached(const std::string& start) {
        auto reached = db_->Traverse("docs", {.start_id = start, .min_hops = 1, .max_hops = 2});
        EXPECT_TRUE(reached.ok()) << reached.status().ToString();
        std::vector<std::string> ids;
        if (reached.ok()) {
            for (const ReachedEntity& e : reached->entities) {
                ids.push_back(e.id);
            }
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    void WaitIndexed() {
        for (int attempt = 0; attempt < 600; ++attempt) {
            auto info = db_->GetVectorIndexInfo("docs");
            ASSERT_TRUE(info.ok()) << info.status().ToString();
            if (info->unindexed_rows == 0) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        FAIL() << "the vector index did not catch up";
    }
};

TEST_F(ReplaceEdges, ReplacesOutEdgesAndTheirMirrors) {
    EXPECT_EQ(Reached("s"), (std::vector<std::string>{"a", "b"}));  // warms the adjacency cache
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("c", "likes", 0.5), To("a", "cites")});
    PHENIX_ASSERT_OK(db_->Write(batch));

    EXPECT_EQ(Edges("s", EdgeDirection::kOut),
              (std::vector<std::string>{"s-cites->a", "s-likes->c"}));
    EXPECT_EQ(Edges("a", EdgeDirection::kIn), (std::vector<std::string>{"s-cites->a"}));
    EXPECT_EQ(Edges("b", EdgeDirection::kIn), std::vector<std::string>{});
    EXPECT_EQ(Edges("c", EdgeDirection::kIn), (std::vector<std::string>{"s-likes->c"}));
    EXPECT_EQ(Reached("s"), (std::vector<std::string>{"a", "c"}));

    auto s = db_->Get("docs", "s");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->vector, (std::vector<float>{0.5f, 0.5f, 0, 0}));
    EXPECT_EQ(s->metadata, R"({"k":1})");
    ASSERT_EQ(s->edges.size(), 2u);
    EXPECT_EQ(Count(), 4u);
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, EmptyListRemovesEveryOutEdgeButKeepsInEdges) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a", {1, 0, 0, 0}, "{}", {To("s")})));
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {});
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_EQ(Edges("s", EdgeDirection::kOut), std::vector<std::string>{});
    EXPECT_EQ(Edges("s", EdgeDirection::kIn), (std::vector<std::string>{"a-related_to->s"}));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, WorksInATransaction) {
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("c")});
    PHENIX_ASSERT_OK((*txn)->Write(batch));
    // The transaction sees its own write; others do not until it commits.
    auto own = (*txn)->ListEdges("docs", "s", EdgeDirection::kOut);
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    ASSERT_EQ(own->size(), 1u);
    EXPECT_EQ((*own)[0].target_id, "c");
    EXPECT_EQ(Edges("s", EdgeDirection::kOut),
              (std::vector<std::string>{"s-cites->b", "s-related_to->a"}));
    ASSERT_TRUE((*txn)->Commit().ok());

    EXPECT_EQ(Edges("s", EdgeDirection::kOut), (std::vector<std::string>{"s-related_to->c"}));
    EXPECT_EQ(Edges("a", EdgeDirection::kIn), std::vector<std::string>{});
    EXPECT_EQ(Reached("s"), (std::vector<std::string>{"c"}));
    auto s = db_->Get("docs", "s");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->metadata, R"({"k":1})");
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, AfterAnInsertInTheSameBatch) {
    WriteBatch batch;
    batch.Insert("docs", Doc("n", {0, 0, 0, 1}, R"({"new": true})", {To("a")}));
    batch.ReplaceEdges("docs", "n", {To("later")});
    batch.Insert("docs", Doc("later", {0, 0, 1, 1}));
    PHENIX_ASSERT_OK(db_->Write(batch));
    EXPECT_EQ(Edges("n", EdgeDirection::kOut), (std::vector<std::string>{"n-related_to->later"}));
    auto n = db_->Get("docs", "n");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->vector, (std::vector<float>{0, 0, 0, 1}));
    EXPECT_EQ(n->metadata, R"({"new":true})");
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, MissingTargetFailsAndChangesNothing) {
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("c"), To("nowhere")});
    const Status status = db_->Write(batch);
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_NE(status.message().find("nowhere"), std::string::npos) << status.ToString();
    EXPECT_EQ(Edges("s", EdgeDirection::kOut),
              (std::vector<std::string>{"s-cites->b", "s-related_to->a"}));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, MissingEntityIsNotFound) {
    WriteBatch batch;
    batch.ReplaceEdges("docs", "ghost", {To("a")});
    const Status status = db_->Write(batch);
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_NE(status.message().find("replace edges of 'ghost'"), std::string::npos)
        << status.ToString();
    EXPECT_EQ(Count(), 4u);
}

TEST_F(ReplaceEdges, InvalidEdgeIsRejected) {
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("a", "")});
    EXPECT_EQ(db_->Write(batch).code(), StatusCode::kInvalidArgument);
    batch.Clear();
    Edge other = To("a");
    other.target_tenant = "elsewhere";
    batch.ReplaceEdges("docs", "s", {other});
    EXPECT_EQ(db_->Write(batch).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Edges("s", EdgeDirection::kOut),
              (std::vector<std::string>{"s-cites->b", "s-related_to->a"}));
}

TEST_F(ReplaceEdges, LeavesTheVectorIndexAlone) {
    WaitIndexed();
    auto before = db_->GetVectorIndexInfo("docs");
    ASSERT_TRUE(before.ok());
    WriteBatch batch;
    for (const char* id : {"a", "b", "c", "s"}) {
        batch.ReplaceEdges("docs", id, {To("c")});
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    auto after = db_->GetVectorIndexInfo("docs");
    ASSERT_TRUE(after.ok());
    // No entity record was rewritten: nothing for the builder to absorb, no new graph node.
    EXPECT_EQ(after->unindexed_rows, 0u);
    EXPECT_EQ(after->nodes, before->nodes);
    EXPECT_EQ(after->live_nodes, before->live_nodes);

    const std::vector<float> query{0.5f, 0.5f, 0, 0};
    auto hits = db_->Search("docs", query, {.k = 4});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->hits.size(), 4u);
    EXPECT_EQ(hits->hits[0].id, "s");
    EXPECT_NEAR(hits->hits[0].distance, 0.0f, 1e-5);
    PHENIX_EXPECT_OK(db_->Verify());
}

// One batch replacing the edges of many entities, whose old edges lie next to each other and
// point at each other, and deleting one of them: the write reads every entity's old edges with
// one iterator per edge family, which must stop at each entity's own.
TEST_F(ReplaceEdges, OneBatchReplacesTheEdgesOfManyNeighbours) {
    constexpr int kChain = 8;
    auto name = [](int idx) { return "e" + std::to_string(idx); };
    for (int idx = 0; idx < kChain; ++idx) {
        std::vector<Edge> edges{To("a"), To("b", "cites")};
        if (idx > 0) {
            edges.push_back(To(name(idx - 1), "prev"));
        }
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(name(idx), {0, 0, 0, 1}, "{}", edges)));
    }
    ASSERT_EQ(Edges("e3", EdgeDirection::kIn), (std::vector<std::string>{"e4-prev->e3"}));
    WriteBatch batch;  // rows in descending order, every other entity, one with no edges left
    batch.ReplaceEdges("docs", "e6", {To("c")});
    batch.ReplaceEdges("docs", "e4", {});
    batch.ReplaceEdges("docs", "e2", {To("e6", "next"), To("e2", "self")});
    batch.Delete("docs", "e1");
    batch.ReplaceEdges("docs", "e0", {To("a")});
    PHENIX_ASSERT_OK(db_->Write(batch));

    EXPECT_EQ(Edges("e6", EdgeDirection::kOut), (std::vector<std::string>{"e6-related_to->c"}));
    EXPECT_EQ(Edges("e4", EdgeDirection::kOut), std::vector<std::string>{});
    EXPECT_EQ(Edges("e2", EdgeDirection::kOut),
              (std::vector<std::string>{"e2-next->e6", "e2-self->e2"}));
    EXPECT_EQ(Edges("e0", EdgeDirection::kOut), (std::vector<std::string>{"e0-related_to->a"}));
    // The entities between them kept theirs.
    for (int idx : {3, 5, 7}) {
        EXPECT_EQ(Edges(name(idx), EdgeDirection::kOut),
                  (std::vector<std::string>{name(idx) + "-cites->b",
                                            name(idx) + "-prev->" + name(idx - 1),
                                            name(idx) + "-related_to->a"}))
            << name(idx);
    }
    // In-edges: the mirrors of the replaced lists are gone, the others are there.
    EXPECT_EQ(Edges("e6", EdgeDirection::kIn),
              (std::vector<std::string>{"e2-next->e6", "e7-prev->e6"}));
    EXPECT_EQ(Edges("e5", EdgeDirection::kIn), std::vector<std::string>{});
    EXPECT_EQ(Edges("e3", EdgeDirection::kIn), std::vector<std::string>{});
    EXPECT_EQ(Edges("e0", EdgeDirection::kIn), std::vector<std::string>{});  // e1 was deleted
    EXPECT_EQ(Edges("c", EdgeDirection::kIn), (std::vector<std::string>{"e6-related_to->c"}));
    EXPECT_EQ(
        Edges("b", EdgeDirection::kIn),
        (std::vector<std::string>{"e3-cites->b", "e5-cites->b", "e7-cites->b", "s-cites->b"}));
    EXPECT_EQ(db_->Get("docs", "e1").status().code(), StatusCode::kNotFound);
    PHENIX_EXPECT_OK(db_->Verify());
}

// A ReplaceEdges batch writes its sources and only references its targets: a transaction that
// began before it conflicts with a source (as a write, or an edge to it), and may still add an
// edge to a target; an entity that is both (a target before it is a source) is a write.
TEST_F(ReplaceEdges, ConflictsWithTransactionsOnItsSourcesOnly) {
    auto to_target = db_->BeginTransaction();
    auto to_source = db_->BeginTransaction();
    auto to_both = db_->BeginTransaction();
    auto write_source = db_->BeginTransaction();
    ASSERT_TRUE(to_target.ok() && to_source.ok() && to_both.ok() && write_source.ok());
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("a"), To("c")});
    batch.ReplaceEdges("docs", "a", {To("b")});
    PHENIX_ASSERT_OK(db_->Write(batch));

    auto add = [](Transaction& txn, const std::string& id, const std::string& target) {
        WriteBatch one;
        one.Insert("docs", Doc(id, {0, 0, 0, 1}, "{}", {To(target)}));
        PHENIX_EXPECT_OK(txn.Write(one));
        return txn.Commit().status();
    };
    PHENIX_EXPECT_OK(add(**to_target, "n1", "c"));  // c was only referenced
    EXPECT_EQ(add(**to_source, "n2", "s").code(), StatusCode::kAborted);
    EXPECT_EQ(add(**to_both, "n3", "a").code(), StatusCode::kAborted);
    WriteBatch upsert;
    upsert.Upsert("docs", Doc("s", {1, 1, 0, 0}));
    PHENIX_EXPECT_OK((*write_source)->Write(upsert));
    EXPECT_EQ((*write_source)->Commit().status().code(), StatusCode::kAborted);
    EXPECT_EQ(Edges("c", EdgeDirection::kIn),
              (std::vector<std::string>{"n1-related_to->c", "s-related_to->c"}));
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(ReplaceEdges, SurvivesReopen) {
    WriteBatch batch;
    batch.ReplaceEdges("docs", "s", {To("c")});
    PHENIX_ASSERT_OK(db_->Write(batch));
    Reopen();
    EXPECT_EQ(Edges("s", EdgeDirection::kOut), (std::vector<std::string>{"s-related_to->c"}));
    EXPECT_EQ(Edges("b", EdgeDirection::kIn), std::vector<std::string>{});
    PHENIX_EXPECT_OK(db_->Verify());
}

}  // namespace
}  // namespace phenix
