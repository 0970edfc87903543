// SPDX-License-Identifier: Apache-2.0
//
// Issue 13: PhenixQL WHERE and the JSON form against the reference model of
// testing/filter_model.h, on random rows with arrays, nulls, missing fields, ints, floats and
// objects, without and with metadata indexes:
//   - WHERE keeps exactly the rows where the model's three-valued condition is TRUE, and
//     NOT (c) exactly those where it is FALSE (P or NOT P, never both);
//   - a JSON query's filter keeps exactly the rows Database::Find returns for the same filter
//     (one meaning of $ne, $nin and $not everywhere), which are the model's.
// Seeded; the seed is in every failure message.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/phenixql.h>

#include "testing/db_fixture.h"
#include "testing/filter_model.h"

namespace phenix {
namespace {

using testing::DbTest;
using testing::FilterCase;
using testing::FilterModel;
using testing::ModelGen;
using testing::ModelRow;
using testing::Truth;
using testing::WhereCase;
using testing::WhereModel;

class WhereSemanticsTest : public DbTest {
  protected:
    void Load(const std::vector<ModelRow>& rows) {
        session_ = std::make_unique<QuerySession>(*db_);
        for (const ModelRow& row : rows) {
            PHENIX_ASSERT_OK(
                db_->Upsert("docs", Doc(row.id, {0.1f, 0.2f, 0.3f, 0.4f}, row.Json())));
        }
    }

    std::vector<std::string> Ids(Result<QueryResult> result, const std::string& what) {
        EXPECT_TRUE(result.ok()) << what << ": " << result.status().ToString();
        std::vector<std::string> ids;
        if (result.ok()) {
            for (const auto& row : result->rows) {
                ids.push_back(row[0].ToText());
            }
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    std::vector<std::string> Select(const std::string& where) {
        const std::string text = "SELECT id FROM docs WHERE " + where;
        return Ids(session_->Execute(text), text);
    }

    std::vector<std::string> FindIds(const std::string& filter) {
        FindOptions options;
        options.filter = filter;
        options.limit = 10000;
        auto found = db_->Find("docs", options);
        EXPECT_TRUE(found.ok()) << filter << ": " << found.status().ToString();
        return found.ok() ? found->ids : std::vector<std::string>{};
    }

    std::unique_ptr<QuerySession> session_;
};

std::vector<std::string> RowsWhere(const std::vector<ModelRow>& rows, const WhereCase& c,
                                   Truth truth) {
    std::vector<std::string> ids;
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
        if (c.truth[idx] == truth) {
            ids.push_back(rows[idx].id);
        }
    }
    return ids;
}

TEST_F(WhereSemanticsTest, WhereFollowsThreeValuedLogicWithAndWithoutIndexes) {
    constexpr std::uint32_t kSeed = 2613;
    ModelGen gen(kSeed);
    const std::vector<ModelRow> rows = gen.Rows(40);
    Load(rows);
    WhereModel model(gen, rows);
    std::vector<WhereCase> cases;
    for (int idx = 0; idx < 150; ++idx) {
        cases.push_back(model.Random(2));
    }
    int num_nonempty = 0;
    for (const bool indexed : {false, true}) {
        if (indexed) {
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "x"));
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "y"));
        }
        for (const WhereCase& c : cases) {
            const auto is_true = RowsWhere(rows, c, Truth::kTrue);
            const auto is_false = RowsWhere(rows, c, Truth::kFalse);
            num_nonempty += is_true.empty() ? 0 : 1;
            const std::string where = std::string("seed ") + std::to_string(kSeed) +
                                      (indexed ? ", indexed: " : ", no index: ") + c.sql;
            EXPECT_EQ(Select(c.sql), is_true) << where;
            EXPECT_EQ(Select("NOT (" + c.sql + ")"), is_false) << where;
        }
    }
    EXPECT_GT(num_nonempty, 100);
}

TEST_F(WhereSemanticsTest, JsonFormFiltersMeanWhatFindMeans) {
    constexpr std::uint32_t kSeed = 3613;
    ModelGen gen(kSeed);
    const std::vector<ModelRow> rows = gen.Rows(40);
    Load(rows);
    FilterModel model(gen, rows);
    std::vector<FilterCase> cases;
    for (int idx = 0; idx < 120; ++idx) {
        cases.push_back(model.Random(2));
    }
    int num_nonempty = 0;
    for (const bool indexed : {false, true}) {
        if (indexed) {
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "x"));
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "y"));
        }
        for (const FilterCase& c : cases) {
            std::vector<std::string> expected;
            for (std::size_t idx = 0; idx < rows.size(); ++idx) {
                if (c.matches[idx]) {
                    expected.push_back(rows[idx].id);
                }
            }
            num_nonempty += expected.empty() ? 0 : 1;
            const std::string where = std::string("seed ") + std::to_string(kSeed) +
                                      (indexed ? ", indexed: " : ", no index: ") + c.json;
            EXPECT_EQ(FindIds(c.json), expected) << where;
            const std::string query =
                R"({"collection": "docs", "k": 1000, "filter": )" + c.json + "}";
            EXPECT_EQ(Ids(session_->ExecuteJson(query), query), expected) << where;
        }
    }
    EXPECT_GT(num_nonempty, 100);
}

// Issue 13: the WHERE terms evaluated per row (expression.h) mean what the engine's filter
// means. `c OR id = 'no such id'` cannot go to the filter (a condition on id inside an OR), so
// the whole condition is evaluated per row; it must keep exactly c's TRUE rows, and its NOT
// exactly c's FALSE rows, on the same random rows (arrays, nulls, missing fields, mixed kinds).
TEST_F(WhereSemanticsTest, RowEvaluatedConditionsAgreeWithTheFilter) {
    constexpr std::uint32_t kSeed = 4613;
    ModelGen gen(kSeed);
    const std::vector<ModelRow> rows = gen.Rows(40);
    Load(rows);
    WhereModel model(gen, rows);
    int num_nonempty = 0;
    for (int idx = 0; idx < 150; ++idx) {
        const WhereCase c = model.Random(2);
        const auto is_true = RowsWhere(rows, c, Truth::kTrue);
        const auto is_false = RowsWhere(rows, c, Truth::kFalse);
        num_nonempty += is_true.empty() ? 0 : 1;
        const std::string per_row = "(" + c.sql + ") OR id = 'no such id'";
        const std::string where = "seed " + std::to_string(kSeed) + ": " + c.sql;
        EXPECT_EQ(Select(per_row), is_true) << where;
        EXPECT_EQ(Select("NOT (" + per_row + ")"), is_false) << where;
    }
    EXPECT_GT(num_nonempty, 50);
    // And the plan says so.
    Result<QueryResult> plan =
        session_->Execute("EXPLAIN SELECT id FROM docs WHERE metadata.x = 1 OR id = 'a'");
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::string text;
    for (const auto& row : plan->rows) {
        text += row[0].ToText() + "\n";
    }
    EXPECT_NE(text.find("Filter  (est."), std::string::npos) << text;
    EXPECT_NE(text.find("metadata.x = 1 OR id = 'a'"), std::string::npos) << text;
}

// A path through an array of objects fans out for a term evaluated per row as it does in the
// filter (document/json_path.h), so moving a term into an OR with a per-row term (here an id
// condition) keeps its rows.
TEST_F(WhereSemanticsTest, RowEvaluatedPathsFanOutThroughArraysLikeTheFilter) {
    Load({});
    const std::vector<float> vector = {0.1f, 0.2f, 0.3f, 0.4f};
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("o1", vector, R"({"items":[{"price":5},{"price":9}]})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("o2", vector, R"({"items":[{"price":1},{}]})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("o3", vector, R"({"items":[]})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("o4", vector, R"({"items":[{"price":null}]})")));
    using Lines = std::vector<std::string>;
    for (const std::string per_row : {"", " OR id = 'none'"}) {
        const auto select = [&](const std::string& where) { return Select(where + per_row); };
        EXPECT_EQ(select("metadata.items.price = 5"), (Lines{"o1"})) << per_row;
        EXPECT_EQ(select("metadata.items.price > 4"), (Lines{"o1"})) << per_row;
        EXPECT_EQ(select("exists(metadata.items.price)"), (Lines{"o1", "o2", "o4"})) << per_row;
        EXPECT_EQ(select("metadata.items.price IS NULL"), (Lines{"o3", "o4"})) << per_row;
    }
    EXPECT_EQ(Select("NOT (metadata.items.price = 5)"), (Lines{"o2"}));
    EXPECT_EQ(Select("NOT (metadata.items.price = 5 OR id = 'none')"), (Lines{"o2"}));
}

// The issue's examples, pinned.
TEST_F(WhereSemanticsTest, IssueExamples) {
    Load({});
    PHENIX_ASSERT_OK(db_->Upsert(
        "docs", Doc("arr", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"tags":["x","y"],"year":[1999,2005]})")));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("one", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"tags":"y","year":1990})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("none", {0.1f, 0.2f, 0.3f, 0.4f}, R"({})")));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("null", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"tags":null,"year":null})")));
    using Lines = std::vector<std::string>;
    for (const bool indexed : {false, true}) {
        if (indexed) {
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "tags"));
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "year"));
        }
        EXPECT_EQ(Select("metadata.tags = 'x'"), (Lines{"arr"}));
        EXPECT_EQ(Select("NOT (metadata.tags = 'x')"), (Lines{"one"}));
        EXPECT_EQ(Select("metadata.tags != 'x'"), (Lines{"one"}));
        EXPECT_EQ(Select("metadata.tags NOT IN ('x')"), (Lines{"one"}));
        // [1999, 2005] is > 2000 (2005), so NOT (... > 2000) must not hold for it too.
        EXPECT_EQ(Select("metadata.year > 2000"), (Lines{"arr"}));
        EXPECT_EQ(Select("NOT (metadata.year > 2000)"), (Lines{"one"}));
        EXPECT_EQ(Select("metadata.year = NULL"), (Lines{}));
        EXPECT_EQ(Select("NOT (metadata.year = NULL)"), (Lines{}));
        EXPECT_EQ(Select("metadata.year IS NULL"), (Lines{"none", "null"}));
        EXPECT_EQ(Select("metadata.year IS NOT NULL"), (Lines{"arr", "one"}));
        // The filter language's $ne is the complement of $eq, in Find and in the JSON form.
        EXPECT_EQ(FindIds(R"({"tags": {"$ne": "x"}})"), (Lines{"one", "none", "null"}));
        EXPECT_EQ(Ids(session_->ExecuteJson(
                          R"({"collection": "docs", "filter": {"tags": {"$ne": "x"}}})"),
                      "json"),
                  (Lines{"none", "null", "one"}));
    }
}

}  // namespace
}  // namespace phenix
