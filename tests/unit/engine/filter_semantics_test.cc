// SPDX-License-Identifier: Apache-2.0
//
// Issue 13: Database::Find against a reference model of the filter language (testing/
// filter_model.h) on random rows with arrays, nulls, missing fields, ints, floats and objects,
// evaluated record by record (no index) and from metadata indexes; both must give the model's
// rows. Seeded; the seed is in every failure message.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/db_fixture.h"
#include "testing/filter_model.h"

namespace phenix {
namespace {

using testing::DbTest;
using testing::FilterCase;
using testing::FilterModel;
using testing::ModelGen;
using testing::ModelRow;

class FilterSemanticsTest : public DbTest {
  protected:
    std::vector<std::string> FindIds(const std::string& filter) {
        FindOptions options;
        options.filter = filter;
        options.limit = 10000;
        auto found = db_->Find("docs", options);
        EXPECT_TRUE(found.ok()) << filter << ": " << found.status().ToString();
        return found.ok() ? found->ids : std::vector<std::string>{};
    }
};

std::vector<std::string> Expected(const std::vector<ModelRow>& rows, const FilterCase& c) {
    std::vector<std::string> ids;
    for (std::size_t idx = 0; idx < rows.size(); ++idx) {
        if (c.matches[idx]) {
            ids.push_back(rows[idx].id);
        }
    }
    return ids;
}

TEST_F(FilterSemanticsTest, FindMatchesTheModelWithAndWithoutIndexes) {
    constexpr std::uint32_t kSeed = 1313;
    ModelGen gen(kSeed);
    const std::vector<ModelRow> rows = gen.Rows(48);
    for (const ModelRow& row : rows) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc(row.id, {0.1f, 0.2f, 0.3f, 0.4f}, row.Json())));
    }
    FilterModel model(gen, rows);
    std::vector<FilterCase> cases;
    for (int idx = 0; idx < 250; ++idx) {
        cases.push_back(model.Random(2));
    }
    int num_nonempty = 0;
    for (const FilterCase& c : cases) {
        const std::vector<std::string> expected = Expected(rows, c);
        num_nonempty += expected.empty() ? 0 : 1;
        EXPECT_EQ(FindIds(c.json), expected) << "seed " << kSeed << ", no index: " << c.json;
    }
    EXPECT_GT(num_nonempty, 100);  // the cases say something
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "x"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "y"));
    for (const FilterCase& c : cases) {
        EXPECT_EQ(FindIds(c.json), Expected(rows, c))
            << "seed " << kSeed << ", indexed: " << c.json;
    }
}

// int/float mixing: 2020 and 2020.0 are one number, in records and in index keys.
TEST_F(FilterSemanticsTest, IntsAndFloatsAreOneNumberWithAndWithoutIndexes) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("i", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"year":2020})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("f", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"year":2020.0})")));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"year":[1999, 2.02e3]})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("s", {0.1f, 0.2f, 0.3f, 0.4f}, R"({"year":"2020"})")));
    const std::vector<std::string> all = {"i", "f", "a"};
    for (const bool indexed : {false, true}) {
        if (indexed) {
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "year"));
        }
        for (const char* filter :
             {R"({"year": 2020})", R"({"year": 2020.0})", R"({"year": {"$in": [2.02e3]}})",
              R"({"year": {"$gte": 2020, "$lte": 2020.0}})",
              R"({"year": {"$type": "number", "$gt": 2019.5}})"}) {
            EXPECT_EQ(FindIds(filter), all) << filter << (indexed ? " (indexed)" : "");
        }
        EXPECT_EQ(FindIds(R"({"year": {"$ne": 2020.0}})"), (std::vector<std::string>{"s"}));
    }
}

// A literal or literal-prefix $like pattern is an index range; others are checked on records.
// Both give the rows a scan gives.
TEST_F(FilterSemanticsTest, LikePrefixesAreIndexRanges) {
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"a", R"({"s":"abc"})"},         {"b", R"({"s":"abcd"})"},
        {"c", R"({"s":["x","ab%c"]})"},  {"d", R"({"s":"ab"})"},
        {"e", R"({"s":"2024-05-01"})"},  {"f", R"({"s":"abd"})"},
        {"g", "{\"s\":\"ab\\u0000c\"}"}, {"h", R"({"s":5})"},
    };
    for (const auto& [id, metadata] : rows) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc(id, {0.1f, 0.2f, 0.3f, 0.4f}, metadata)));
    }
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"abc%", {"a", "b"}}, {"abc", {"a"}},          {"ab%", {"a", "b", "c", "d", "f", "g"}},
        {"ab\\\\%%", {"c"}},  {"ab\\\\%c", {"c"}},     {"2024-%", {"e"}},
        {"ab_", {"a", "f"}},  {"%c", {"a", "c", "g"}}, {"zz%", {}},
    };
    for (const bool indexed : {false, true}) {
        if (indexed) {
            PHENIX_ASSERT_OK(db_->CreateIndex("docs", "s"));
        }
        for (const auto& [pattern, expected] : cases) {
            const std::string filter = R"({"s": {"$like": ")" + pattern + R"("}})";
            EXPECT_EQ(FindIds(filter), expected) << filter << (indexed ? " (indexed)" : "");
        }
    }
    FindOptions options;
    options.filter = R"({"s": {"$like": "abc%"}})";
    auto found = db_->Find("docs", options);
    PHENIX_ASSERT_OK(found.status());
    ASSERT_FALSE(found->plan.steps.empty());
    EXPECT_EQ(found->plan.steps.back(), R"(s LIKE "abc%": index, est 3, actual 2)");
    options.filter = R"({"s": {"$like": "a_c%"}})";
    found = db_->Find("docs", options);
    PHENIX_ASSERT_OK(found.status());
    EXPECT_FALSE(found->plan.uses_index);
}

}  // namespace
}  // namespace phenix
