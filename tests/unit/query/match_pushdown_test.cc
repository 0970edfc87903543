// SPDX-License-Identifier: Apache-2.0
// MATCH with what it pushes into the traversal: count(*), LIMIT, the far node's filter and only
// the fields it uses; and the nearest-neighbour form's graph plan (EXPLAIN, forced plans).
#include <string>
#include <vector>

#include <phenix/phenixql.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class MatchPushdownTest : public DbTest {
  protected:
    // A hub "h" with in-edges from s0..s29, each with in-edges from two feeders; "x" in another
    // collection links into the hub too; categories cycle a, b, c.
    void SetUp() override {
        DbTest::SetUp();
        session_ = std::make_unique<QuerySession>(*db_);
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "misc", .dimension = 4}));
        WriteBatch batch;
        batch.Insert("docs", Doc("h", {1, 0, 0, 0}, R"({"cat":"hub"})"));
        const char* cats[] = {"a", "b", "c"};
        for (int spoke = 0; spoke < 30; ++spoke) {
            const std::string id = "s" + std::to_string(100 + spoke);
            const std::string meta = std::string(R"({"cat":")") + cats[spoke % 3] + "\"}";
            batch.Insert("docs", Doc(id, Vec(spoke), meta, {To("h", "r")}));
            for (int feeder = 0; feeder < 2; ++feeder) {
                batch.Insert("docs", Doc(id + "f" + std::to_string(feeder),
                                         Vec(spoke + feeder + 40), meta, {To(id, "r")}));
            }
        }
        Edge cross = To("h", "r");
        cross.target_collection = "docs";
        batch.Insert("misc", Doc("x", {0, 0, 0, 1}, "{}", {cross}));
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    static std::vector<float> Vec(int idx) {
        return {0.1f + static_cast<float>(idx % 7), static_cast<float>(idx % 5) + 0.2f,
                static_cast<float>(idx % 3), 1.0f};
    }

    QueryResult Run(std::string_view text) {
        auto result = session_->Execute(text);
        EXPECT_TRUE(result.ok()) << text << ": " << result.status().ToString();
        return result.ok() ? *result : QueryResult{};
    }
    std::vector<std::string> Rows(std::string_view text) {
        std::vector<std::string> out;
        for (const auto& row : Run(text).rows) {
            std::string line;
            for (const QueryValue& value : row) {
                line += (line.empty() ? "" : "|") + value.ToText();
            }
            out.push_back(line);
        }
        return out;
    }
    std::string Plan(std::string_view text) {
        std::string plan;
        for (const auto& row : Run(text).rows) {
            plan += row[0].text + "\n";
        }
        return plan;
    }

    std::unique_ptr<QuerySession> session_;
};

TEST_F(MatchPushdownTest, CountAndLimitAgreeWithTheFullResult) {
    const std::string pattern = "FROM MATCH (a:docs)<-[:r*1..2]-(b:docs) WHERE a.id = 'h'";
    const std::vector<std::string> all = Rows("SELECT b.id " + pattern);
    ASSERT_EQ(all.size(), 90u);      // the cross-collection neighbour is not a docs row
    EXPECT_EQ(all.front(), "s100");  // depth 1 first, then by id
    EXPECT_EQ(all.back(), "s129f1");
    EXPECT_EQ(Rows("SELECT count(*) " + pattern), std::vector<std::string>{"90"});
    const std::vector<std::string> page = Rows("SELECT b.id " + pattern + " LIMIT 7");
    EXPECT_EQ(page, std::vector<std::string>(all.begin(), all.begin() + 7));
    EXPECT_TRUE(Rows("SELECT b.id " + pattern + " LIMIT 0").empty());
    // The far node's filter, counted and paged the same way.
    const std::vector<std::string> cat_b =
        Rows("SELECT b.id, b.metadata.cat " + pattern + " AND b.metadata.cat = 'b'");
    ASSERT_EQ(cat_b.size(), 30u);
    EXPECT_EQ(cat_b.front(), "s101|b");
    EXPECT_EQ(Rows("SELECT count(*) " + pattern + " AND b.metadata.cat = 'b'"),
              std::vector<std::string>{"30"});
    EXPECT_EQ(Rows("SELECT b.id " + pattern + " AND b.id IN ('s104', 's104f1', 'nope') LIMIT 5"),
              (std::vector<std::string>{"s104", "s104f1"}));
    // Fields that need the record: the page's, and edges through Get.
    EXPECT_EQ(Rows("SELECT b.id, b.vector " + pattern + " LIMIT 1"),
              std::vector<std::string>{"s100|[0.1, 0.2, 0, 1]"});
    const std::vector<std::string> edges = Rows("SELECT b.edges " + pattern + " LIMIT 1");
    ASSERT_EQ(edges.size(), 1u);
    EXPECT_NE(edges[0].find("\"h\""), std::string::npos) << edges[0];
    // A MATCH that only returns ids reads no record; EXPLAIN ANALYZE says so.
    const std::string analyzed = Plan("EXPLAIN ANALYZE SELECT count(*) " + pattern);
    EXPECT_NE(analyzed.find("90 counted"), std::string::npos) << analyzed;
    EXPECT_NE(analyzed.find("records read: none"), std::string::npos) << analyzed;
}

TEST_F(MatchPushdownTest, ExplainShowsTheGraphPlanAndForcedPlansAgree) {
    const std::string query =
        "SELECT b.id FROM MATCH (a:docs)<-[:r*1..2]-(b:docs) WHERE a.id = 'h' ORDER BY "
        "b.vector <=> [1, 1, 0, 1] LIMIT 5";
    const std::string plan = Plan("EXPLAIN " + query);
    EXPECT_NE(plan.find("GraphFirst docs"), std::string::npos) << plan;
    EXPECT_NE(plan.find("graph plan: expand: est. "), std::string::npos) << plan;
    const std::string forced = Plan("EXPLAIN " + query + " WITH (graph_plan = 'vector_first')");
    EXPECT_NE(forced.find("VectorFirst docs"), std::string::npos) << forced;
    EXPECT_NE(forced.find("vector_first (forced)"), std::string::npos) << forced;
    // Exhaustive searches (ef above the collection's size): the plans return the same rows.
    const std::vector<std::string> expanded =
        Rows(query + " WITH (graph_plan = 'expand', ef = 500)");
    ASSERT_EQ(expanded.size(), 5u);
    EXPECT_EQ(Rows(query + " WITH (graph_plan = 'vector_first', ef = 500)"), expanded);
    EXPECT_EQ(Rows(query + " WITH (graph_plan = 'auto', ef = 500)"), expanded);
    auto bad = session_->Execute(query + " WITH (graph_plan = 'sideways')");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("graph_plan is"), std::string::npos);
}

}  // namespace
}  // namespace phenix
