// SPDX-License-Identifier: Apache-2.0
// Bad input through whole PhenixQL statements (issue 13, item 7): whatever path a value takes
// (INSERT, UPDATE ... SET, WHERE, JSON literals, parameters), too-deep JSON and invalid UTF-8
// are InvalidArgument naming the place, never a crash, an internal library message, or a value
// stored altered.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "testing/temp_dir.h"

namespace phenix {
namespace {

class InputLimitsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto db = Database::Open(dir_.Sub("data"));
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
        session_ = std::make_unique<QuerySession>(*db_);
        Run("CREATE COLLECTION docs");
        Run("INSERT INTO docs (id, metadata) VALUES ('d1', {\"k\": \"old\", \"n\": 1})");
    }

    QueryResult Run(std::string_view sql, const QueryParams& params = {}) {
        Result<QueryResult> result = session_->Execute(sql, params);
        EXPECT_TRUE(result.ok()) << sql.substr(0, 200) << "\n" << result.status().ToString();
        return result.ok() ? std::move(result).value() : QueryResult{};
    }

    Status Fail(std::string_view sql, const QueryParams& params = {}) {
        Result<QueryResult> result = session_->Execute(sql, params);
        EXPECT_FALSE(result.ok()) << sql.substr(0, 200) << " succeeded: " << result->message;
        return result.ok() ? Status::Internal("the statement succeeded") : result.status();
    }

    std::string MetadataOf(std::string_view id) {
        Result<Entity> entity = db_->Get("docs", id);
        EXPECT_TRUE(entity.ok()) << entity.status().ToString();
        return entity.ok() ? entity->metadata : std::string();
    }

    testing::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<QuerySession> session_;
};

// `levels` nested arrays around 1, as JSON text.
std::string DeepArray(int levels) {
    return std::string(static_cast<std::size_t>(levels), '[') + "1" +
           std::string(static_cast<std::size_t>(levels), ']');
}

// `levels` nested objects {"a": {"a": ... 1}}, as JSON text.
std::string DeepObject(int levels) {
    std::string out;
    for (int level = 0; level < levels; ++level) {
        out += "{\"a\": ";
    }
    return out + "1" + std::string(static_cast<std::size_t>(levels), '}');
}

// Issue 13: 80,000 nested levels in a JSON literal overflowed the stack in the JSON serializer.
TEST_F(InputLimitsTest, DeepJsonLiteralIsRefusedWithItsPositionOnEveryPath) {
    const std::string deep = DeepObject(80000);
    const std::string deep_array = "[{\"a\": " + DeepObject(80000) + "}]";
    const std::string statements[] = {
        "INSERT INTO docs (id, metadata) VALUES ('d2', " + deep + ")",
        "INSERT INTO docs (id, edges) VALUES ('d2', " + deep_array + ")",
        "UPDATE docs SET metadata.a = " + deep,
        "UPDATE docs SET metadata = " + deep,
        "SELECT id FROM docs WHERE metadata.a = " + deep,
        "DELETE FROM docs WHERE metadata.a IN (" + deep + ")",
    };
    for (const std::string& sql : statements) {
        const Status status = Fail(sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        EXPECT_NE(status.message().find("line 1, column "), std::string::npos) << status.message();
        EXPECT_NE(status.message().find("JSON literal is nested 8000"), std::string::npos)
            << status.message();
        EXPECT_NE(status.message().find("levels deep; the limit is 66"), std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    // The column of the first bracket past the limit.
    const Status status = Fail("SELECT id FROM docs WHERE metadata.a = " + DeepObject(100));
    EXPECT_NE(status.message().find("line 1, column " + std::to_string(40 + 66 * 6)),
              std::string::npos)
        << status.message();
}

TEST_F(InputLimitsTest, JsonAtTheEngineLimitStillWorks) {
    // Metadata 64 levels deep (the object itself is level 1), and edge properties as deep inside
    // the edges literal (66 levels in all).
    const std::string metadata = DeepObject(64);
    std::string document_text = metadata;
    std::erase(document_text, ' ');
    Run("INSERT INTO docs (id, metadata) VALUES ('d2', " + metadata + ")");
    Run("INSERT INTO docs (id, edges) VALUES ('d3', [{\"label\": \"x\", \"target\": \"d1\", "
        "\"properties\": " +
        metadata + "}])");
    EXPECT_EQ(MetadataOf("d2"), document_text);
    QueryResult found = Run("SELECT id FROM docs WHERE exists(metadata.a)");
    EXPECT_EQ(found.rows.size(), 1u);
}

TEST_F(InputLimitsTest, DeepJsonParameterIsRefused) {
    const QueryParams params = {{"v", QueryValue::Json(DeepObject(80000))}};
    for (std::string_view sql : {"UPDATE docs SET metadata.a = $v", "UPDATE docs SET metadata = $v",
                                 "INSERT INTO docs (id, metadata) VALUES ('d2', $v)",
                                 "SELECT id FROM docs WHERE metadata.a = $v"}) {
        const Status status = Fail(sql, params);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        EXPECT_NE(status.message().find("parameter $v is JSON nested 80000 levels deep"),
                  std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    Result<QueryValue> from_json = QueryValue::FromJson(DeepArray(80000));
    ASSERT_FALSE(from_json.ok());
    EXPECT_EQ(from_json.status().code(), StatusCode::kInvalidArgument);
}

// Issue 13: UPDATE ... SET metadata.k = '<invalid UTF-8>' stored the string with U+FFFD in place
// of the bad bytes, and the same literal in a WHERE failed with nlohmann's Internal message.
TEST_F(InputLimitsTest, InvalidUtf8LiteralIsRefusedWithItsPosition) {
    const std::string statements[] = {
        "UPDATE docs SET metadata.k = 'a\xff'",
        "UPDATE docs SET metadata = {\"k\": \"a\xff\"}",
        "SELECT id FROM docs WHERE metadata.k = 'a\xff'",
        "SELECT id FROM docs WHERE metadata.k IN ('x', 'a\xff')",
        "SELECT id FROM docs WHERE id = 'a\xff'",
        "INSERT INTO docs (id, metadata) VALUES ('d2', {\"k\": \"a\xff\"})",
        "INSERT INTO docs (id) VALUES ('a\xff')",
        "SELECT id FROM MATCH (a:docs)-[e WHERE e.label = 'a\xff']->(b) ",
    };
    for (const std::string& sql : statements) {
        const Status status = Fail(sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        const std::size_t column = sql.find('\xff') + 1;
        EXPECT_NE(status.message().find("line 1, column " + std::to_string(column) +
                                        ": the query text is not valid UTF-8 (byte 0xff)"),
                  std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    // A second line: the line and column of the bad byte.
    const Status status = Fail("SELECT id\nFROM docs WHERE metadata.k = '\xc3('");
    EXPECT_NE(status.message().find("line 2, column 31:"), std::string::npos) << status.message();
}

TEST_F(InputLimitsTest, InvalidUtf8ParameterIsRefused) {
    const QueryParams params = {{"s", QueryValue::String("a\xff")},
                                {"j", QueryValue::Json("{\"k\": \"a\xff\"}")}};
    for (std::string_view sql :
         {"UPDATE docs SET metadata.k = $s", "UPDATE docs SET metadata = $j",
          "SELECT id FROM docs WHERE metadata.k = $s", "SELECT id FROM docs WHERE id = $s",
          "INSERT INTO docs (id) VALUES ($s)",
          "INSERT INTO docs (id, metadata) VALUES ('d2', $j)"}) {
        const Status status = Fail(sql, params);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << sql << ": " << status.ToString();
        EXPECT_NE(status.message().find("is not valid UTF-8"), std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
}

}  // namespace
}  // namespace phenix
