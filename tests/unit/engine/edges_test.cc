// SPDX-License-Identifier: Apache-2.0
// Edges are stored both ways and never dangle: deletes, upserts and collection drops keep the
// out- and in-edge column families in agreement.
#include <algorithm>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

std::vector<std::string> Describe(const std::vector<EdgeRecord>& edges) {
    std::vector<std::string> out;
    for (const EdgeRecord& e : edges) {
        out.push_back(e.source.ToString() + ":" + e.source_id + " -" + e.label + "-> " +
                      e.target.ToString() + ":" + e.target_id);
    }
    std::sort(out.begin(), out.end());
    return out;
}

class Edges : public DbTest {
  protected:
    std::vector<std::string> In(const std::string& id, const CollectionRef& c = "docs") {
        auto edges = db_->ListEdges(c, id, EdgeDirection::kIn);
        EXPECT_TRUE(edges.ok()) << edges.status().ToString();
        return edges.ok() ? Describe(*edges) : std::vector<std::string>{};
    }
    std::vector<std::string> Out(const std::string& id, const CollectionRef& c = "docs") {
        auto edges = db_->ListEdges(c, id, EdgeDirection::kOut);
        EXPECT_TRUE(edges.ok()) << edges.status().ToString();
        return edges.ok() ? Describe(*edges) : std::vector<std::string>{};
    }
};

TEST_F(Edges, AreVisibleFromBothEnds) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1")));
    Edge e = To("d1", "related_to", 0.8);
    e.properties = R"({"since": 2020})";
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d2", {0.5f, 0.6f, 0.7f, 0.8f}, "{}", {e})));
    auto d2 = db_->Get("docs", "d2");
    ASSERT_TRUE(d2.ok());
    ASSERT_EQ(d2->edges.size(), 1u);
    EXPECT_EQ(d2->edges[0].label, "related_to");
    EXPECT_EQ(d2->edges[0].target_id, "d1");
    EXPECT_TRUE(d2->edges[0].target_collection.empty());
    EXPECT_DOUBLE_EQ(d2->edges[0].weight, 0.8);
    EXPECT_EQ(d2->edges[0].properties, R"({"since":2020})");

    auto in = db_->ListEdges("docs", "d1", EdgeDirection::kIn);
    ASSERT_TRUE(in.ok());
    ASSERT_EQ(in->size(), 1u);
    EXPECT_EQ((*in)[0].source_id, "d2");
    EXPECT_DOUBLE_EQ((*in)[0].weight, 0.8);
    EXPECT_EQ((*in)[0].properties, R"({"since":2020})");
    EXPECT_EQ(Out("d1"), std::vector<std::string>{});
    auto both = db_->ListEdges("docs", "d2", EdgeDirection::kBoth);
    EXPECT_EQ(both->size(), 1u);
    EXPECT_EQ(db_->ListEdges("docs", "missing").status().code(), StatusCode::kNotFound);
}

TEST_F(Edges, MultiEdgesWithDifferentLabelsSelfLoopsAndDuplicates) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert(
        "docs", Doc("b", {1, 1, 1, 1}, "{}",
                    {To("a", "cites"), To("a", "likes"), To("b", "self"), To("a", "cites", 5.0)})));
    auto b = db_->Get("docs", "b");
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->edges.size(), 3u) << "a repeated (label, target) keeps only the last";
    // Ordered by label, then target.
    EXPECT_EQ(b->edges[0].label, "cites");
    EXPECT_DOUBLE_EQ(b->edges[0].weight, 5.0);
    EXPECT_EQ(b->edges[1].label, "likes");
    EXPECT_EQ(b->edges[2].label, "self");
    EXPECT_EQ(In("a"),
              (std::vector<std::string>{"docs:b -cites-> docs:a", "docs:b -likes-> docs:a"}));
    EXPECT_EQ(In("b"), (std::vector<std::string>{"docs:b -self-> docs:b"}));
    // Deleting an entity with a self-loop leaves nothing behind.
    PHENIX_ASSERT_OK(db_->Delete("docs", "b"));
    EXPECT_EQ(In("a"), std::vector<std::string>{});
}

TEST_F(Edges, DeleteRemovesEdgesBothWays) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("hub")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("leaf")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("x", {1, 1, 1, 1}, "{}", {To("hub"), To("leaf")})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("y", {1, 1, 1, 1}, "{}", {To("hub")})));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("hub", {1, 1, 1, 1}, "{}", {To("leaf")})));
    EXPECT_EQ(In("hub").size(), 2u);  // upsert kept in-edges from x and y

    PHENIX_ASSERT_OK(db_->Delete("docs", "hub"));
    EXPECT_EQ(Out("x"), (std::vector<std::string>{"docs:x -related_to-> docs:leaf"}));
    EXPECT_EQ(Out("y"), std::vector<std::string>{});
    EXPECT_EQ(In("leaf"), (std::vector<std::string>{"docs:x -related_to-> docs:leaf"}));
    EXPECT_TRUE(db_->Get("docs", "y")->edges.empty());
}

TEST_F(Edges, UpsertReplacesOutEdgesAndTheirMirrors) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("s", {1, 1, 1, 1}, "{}", {To("a")})));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("s", {1, 1, 1, 1}, "{}", {To("b")})));
    EXPECT_EQ(In("a"), std::vector<std::string>{});
    EXPECT_EQ(In("b"), (std::vector<std::string>{"docs:s -related_to-> docs:b"}));
    // Keeping the same edge with a new weight updates both ends.
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("s", {1, 1, 1, 1}, "{}", {To("b", "related_to", 9.0)})));
    auto in = db_->ListEdges("docs", "b", EdgeDirection::kIn);
    ASSERT_EQ(in->size(), 1u);
    EXPECT_DOUBLE_EQ((*in)[0].weight, 9.0);
    // Metadata-only writes leave edges alone.
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "s", R"({"x":1})"));
    EXPECT_EQ(In("b").size(), 1u);
}

TEST_F(Edges, CrossCollectionEdgesAndDropCleanup) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "people"}));
    PHENIX_ASSERT_OK(db_->Insert("people", Entity{.id = "alice"}));
    Edge authored = To("d1", "authored");
    authored.target_collection = "docs";
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1")));
    PHENIX_ASSERT_OK(db_->Upsert("people", Entity{.id = "alice", .edges = {authored}}));
    Edge written_by = To("alice", "written_by");
    written_by.target_collection = "people";
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d2", {1, 1, 1, 1}, "{}", {written_by})));

    auto d2 = db_->Get("docs", "d2");
    ASSERT_EQ(d2->edges.size(), 1u);
    EXPECT_EQ(d2->edges[0].target_collection, "people");
    EXPECT_EQ(In("d1"), (std::vector<std::string>{"people:alice -authored-> docs:d1"}));
    EXPECT_EQ(In("alice", "people"),
              (std::vector<std::string>{"docs:d2 -written_by-> people:alice"}));

    // Dropping "people" removes the halves of its edges filed under "docs".
    PHENIX_ASSERT_OK(db_->DropCollection("people"));
    EXPECT_EQ(In("d1"), std::vector<std::string>{});
    EXPECT_TRUE(db_->Get("docs", "d2")->edges.empty());
    Reopen();
    EXPECT_EQ(In("d1"), std::vector<std::string>{});
    EXPECT_TRUE(db_->Get("docs", "d2")->edges.empty());
}

TEST_F(Edges, EdgeToAMissingCollectionIsNotFound) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    Edge e = To("t");
    e.target_collection = "nope";
    Status s = db_->Insert("docs", Doc("a", {1, 1, 1, 1}, "{}", {e}));
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("collection 'nope' does not exist"), std::string::npos)
        << s.message();
}

}  // namespace
}  // namespace phenix
