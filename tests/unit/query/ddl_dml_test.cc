// SPDX-License-Identifier: Apache-2.0
// PhenixQL DDL and DML (src/query/ddl_dml.cc) through the public QuerySession: CREATE / DROP
// COLLECTION, CREATE / DROP INDEX, SHOW COLLECTIONS, DESCRIBE, INSERT, UPDATE and DELETE, with
// their effects checked through the Database API.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "testing/query_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kCreateDocs = "CREATE COLLECTION docs (DIMENSION 4, METRIC cosine)";
constexpr std::string_view kInsertD1 =
    "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0.1, 0.2, 0.3, 0.4], "
    "{\"category\": \"tech\", \"year\": 2021})";
constexpr std::string_view kInsertD2 =
    "INSERT INTO docs (id, vector, metadata, edges) VALUES\n"
    "  ('d2', [0.5, 0.6, 0.7, 0.8], {\"category\": \"science\", \"year\": 2019},\n"
    "   [{\"label\": \"related_to\", \"target\": \"d1\", \"weight\": 0.8}])";

class DdlDmlTest : public testing::QueryTest {
  protected:
    // The three-row fixture of the issue: d1, d2 (-> d1), d3.
    void CreateDocsWithRows() {
        Run(kCreateDocs);
        Run(kInsertD1);
        Run(kInsertD2);
        Run("INSERT INTO docs (id, vector, metadata) VALUES ('d3', [1, 0, 0, 0], "
            "{\"category\": \"tech\", \"year\": 2024, \"author\": {\"name\": \"ann\", \"age\": "
            "40}})");
    }

    Entity Get(std::string_view id, const CollectionRef& collection = "docs") {
        Result<Entity> entity = db_->Get(collection, id);
        EXPECT_TRUE(entity.ok()) << id << ": " << entity.status().ToString();
        return entity.ok() ? std::move(entity).value() : Entity{};
    }

    Json Metadata(std::string_view id) { return Json::parse(Get(id).metadata); }

    bool Exists(std::string_view id, const CollectionRef& collection = "docs") {
        Result<Entity> entity = db_->Get(collection, id);
        EXPECT_TRUE(entity.ok() || entity.status().code() == StatusCode::kNotFound)
            << entity.status().ToString();
        return entity.ok();
    }

    std::uint64_t Count(const CollectionRef& collection = "docs") {
        auto info = db_->GetCollection(collection);
        EXPECT_TRUE(info.ok()) << info.status().ToString();
        return info.ok() ? info->num_entities : 0;
    }

    // "line 1, column N" of the first occurrence of `needle` in `sql`.
    static std::string PosOf(std::string_view sql, std::string_view needle) {
        const std::size_t offset = sql.find(needle);
        EXPECT_NE(offset, std::string_view::npos) << needle;
        return "line 1, column " + std::to_string(offset + 1) + ":";
    }

    static bool Contains(const Status& status, std::string_view text) {
        return status.message().find(text) != std::string::npos;
    }
};

#define EXPECT_MESSAGE_HAS(status, text) \
    EXPECT_TRUE(Contains((status), (text))) << (status).ToString() << "\nexpected: " << (text)

using DdlDmlCreate = DdlDmlTest;
using DdlDmlIndex = DdlDmlTest;
using DdlDmlShow = DdlDmlTest;
using DdlDmlDescribe = DdlDmlTest;
using DdlDmlInsert = DdlDmlTest;
using DdlDmlUpdate = DdlDmlTest;
using DdlDmlDelete = DdlDmlTest;
using DdlDmlTransaction = DdlDmlTest;

// ---- CREATE / DROP COLLECTION ----------------------------------------------------------------

TEST_F(DdlDmlCreate, CreatesCollectionWithDimensionAndMetric) {
    const QueryResult result = Run(kCreateDocs);
    EXPECT_FALSE(result.has_rows);
    EXPECT_EQ(result.message, "CREATE COLLECTION");
    auto info = db_->GetCollection("docs");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->spec.dimension, 4u);
    EXPECT_EQ(info->spec.metric, Metric::kCosine);
}

TEST_F(DdlDmlCreate, CreatesCollectionWithoutVectorsOrWithDefaultMetric) {
    Run("CREATE COLLECTION people");
    Run("CREATE COLLECTION points (DIMENSION 2)");
    Run("CREATE COLLECTION scores (METRIC ip, DIMENSION 3)");
    auto people = db_->GetCollection("people");
    ASSERT_TRUE(people.ok());
    EXPECT_FALSE(people->spec.dimension.has_value());
    auto points = db_->GetCollection("points");
    ASSERT_TRUE(points.ok());
    EXPECT_EQ(points->spec.dimension, 2u);
    EXPECT_EQ(points->spec.metric, Metric::kL2);
    auto scores = db_->GetCollection("scores");
    ASSERT_TRUE(scores.ok());
    EXPECT_EQ(scores->spec.dimension, 3u);
    EXPECT_EQ(scores->spec.metric, Metric::kInnerProduct);
}

TEST_F(DdlDmlCreate, MetricWithoutDimensionIsAnError) {
    const Status status = Fail("CREATE COLLECTION docs (METRIC cosine)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
    EXPECT_MESSAGE_HAS(status, "METRIC needs DIMENSION");
    EXPECT_FALSE(db_->GetCollection("docs").ok());
}

TEST_F(DdlDmlCreate, UnknownMetricSuggestsTheClosest) {
    const Status status = Fail("CREATE COLLECTION docs (DIMENSION 4, METRIC cosin)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "did you mean 'cosine'?");
}

TEST_F(DdlDmlCreate, DimensionAboveTheLimitIsAnError) {
    const Status status = Fail("CREATE COLLECTION docs (DIMENSION 100000)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "DIMENSION must be between 1 and 16384");
}

TEST_F(DdlDmlCreate, ExistingCollectionIsAlreadyExists) {
    Run(kCreateDocs);
    const Status status = Fail("CREATE COLLECTION docs (DIMENSION 8)");
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
}

TEST_F(DdlDmlCreate, DropCollectionRemovesItAndItsEntities) {
    CreateDocsWithRows();
    EXPECT_EQ(Run("DROP COLLECTION docs").message, "DROP COLLECTION");
    EXPECT_EQ(db_->GetCollection("docs").status().code(), StatusCode::kNotFound);
    // A new collection of the same name starts empty.
    Run(kCreateDocs);
    EXPECT_EQ(Count(), 0u);
}

TEST_F(DdlDmlCreate, DropUnknownCollectionSuggestsTheClosest) {
    Run(kCreateDocs);
    const Status status = Fail("DROP COLLECTION doc");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status, "collection 'doc' does not exist; did you mean 'docs'?");
    EXPECT_TRUE(db_->GetCollection("docs").ok());
}

// ---- CREATE / DROP INDEX ---------------------------------------------------------------------

TEST_F(DdlDmlIndex, CreatesAndDropsAMetadataIndex) {
    CreateDocsWithRows();
    EXPECT_EQ(Run("CREATE INDEX ON docs (metadata.category)").message, "CREATE INDEX");
    EXPECT_EQ(Run("CREATE INDEX ON docs (metadata.author.name)").message, "CREATE INDEX");
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok()) << indexes.status().ToString();
    ASSERT_EQ(indexes->size(), 2u);
    EXPECT_EQ((*indexes)[0].path, "author.name");
    EXPECT_EQ((*indexes)[1].path, "category");
    EXPECT_EQ((*indexes)[1].state, IndexState::kReady);
    EXPECT_EQ((*indexes)[1].entries, 3u);

    EXPECT_EQ(Run("DROP INDEX ON docs (metadata.category)").message, "DROP INDEX");
    indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 1u);
    EXPECT_EQ((*indexes)[0].path, "author.name");
}

TEST_F(DdlDmlIndex, CreateIndexWithAProgressSinkSucceeds) {
    CreateDocsWithRows();
    std::vector<std::string> lines;
    session_->set_progress([&lines](std::string_view line) { lines.emplace_back(line); });
    EXPECT_EQ(Run("CREATE INDEX ON docs (metadata.year)").message, "CREATE INDEX");
    // Lines come about once a second, so a build this small reports none; any line it did
    // report names the statement.
    for (const std::string& line : lines) {
        EXPECT_NE(line.find("CREATE INDEX docs (metadata.year)"), std::string::npos) << line;
    }
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    ASSERT_EQ(indexes->size(), 1u);
    EXPECT_EQ((*indexes)[0].path, "year");
}

TEST_F(DdlDmlIndex, PathMustBeAMetadataField) {
    Run(kCreateDocs);
    Status status = Fail("CREATE INDEX ON docs (category)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
    EXPECT_MESSAGE_HAS(status, "indexes are on metadata paths: write metadata.category");
    status = Fail("CREATE INDEX ON docs (metadata)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "metadata.category");
    status = Fail("DROP INDEX ON docs (year)");
    EXPECT_MESSAGE_HAS(status, "write metadata.year");
    auto indexes = db_->ListIndexes("docs");
    ASSERT_TRUE(indexes.ok());
    EXPECT_TRUE(indexes->empty());
}

TEST_F(DdlDmlIndex, ErrorsFromTheCatalog) {
    Run(kCreateDocs);
    Status status = Fail("CREATE INDEX ON doc (metadata.category)");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status, "did you mean 'docs'?");
    status = Fail("DROP INDEX ON docs (metadata.category)");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    Run("CREATE INDEX ON docs (metadata.category)");
    status = Fail("CREATE INDEX ON docs (metadata.category)");
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
}

// ---- SHOW COLLECTIONS / DESCRIBE -------------------------------------------------------------

TEST_F(DdlDmlShow, ListsTheTenantsCollectionsSortedByName) {
    CreateDocsWithRows();
    Run("CREATE COLLECTION authors");
    Run("INSERT INTO authors (id, metadata) VALUES ('ann', {\"born\": 1980})");
    Run("CREATE INDEX ON docs (metadata.category)");
    Run("CREATE INDEX ON docs (metadata.year)");
    // Another tenant's collections are not listed.
    ASSERT_TRUE(db_->CreateTenant("other").ok());
    ASSERT_TRUE(
        db_->CreateCollection({.ref = CollectionRef("other", "hidden"), .dimension = 2}).ok());

    const QueryResult result = Run("SHOW COLLECTIONS");
    EXPECT_TRUE(result.has_rows);
    EXPECT_EQ(result.columns,
              (std::vector<std::string>{"name", "dimension", "metric", "entities", "indexes"}));
    const std::vector<std::vector<QueryValue>> expected = {
        {QueryValue::String("authors"), QueryValue::Null(), QueryValue::Null(), QueryValue::Int(1),
         QueryValue::Int(0)},
        {QueryValue::String("docs"), QueryValue::Int(4), QueryValue::String("cosine"),
         QueryValue::Int(3), QueryValue::Int(2)},
    };
    EXPECT_EQ(result.rows, expected);
}

TEST_F(DdlDmlShow, ShowsTheSessionTenant) {
    ASSERT_TRUE(db_->CreateTenant("other").ok());
    QuerySession other(*db_, "other");
    ASSERT_TRUE(other.Execute("CREATE COLLECTION mine (DIMENSION 2, METRIC l2)").ok());
    auto result = other.Execute("SHOW COLLECTIONS");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->rows.size(), 1u);
    EXPECT_EQ(result->rows[0][0], QueryValue::String("mine"));
    EXPECT_EQ(result->rows[0][2], QueryValue::String("l2"));
    EXPECT_TRUE(Run("SHOW COLLECTIONS").rows.empty());
    EXPECT_TRUE(db_->GetCollection(CollectionRef("other", "mine")).ok());
}

TEST_F(DdlDmlDescribe, DescribesColumnsVectorIndexAndMetadataIndexes) {
    CreateDocsWithRows();
    Run("CREATE INDEX ON docs (metadata.category)");
    const QueryResult result = Run("DESCRIBE docs");
    EXPECT_TRUE(result.has_rows);
    EXPECT_EQ(result.columns, (std::vector<std::string>{"column", "type", "details"}));
    ASSERT_EQ(result.rows.size(), 4u);
    EXPECT_EQ(result.rows[0][0], QueryValue::String("id"));
    EXPECT_EQ(result.rows[0][1], QueryValue::String("string"));
    EXPECT_NE(result.rows[0][2].text.find("3 entities"), std::string::npos)
        << result.rows[0][2].text;
    EXPECT_EQ(result.rows[1][0], QueryValue::String("vector"));
    EXPECT_EQ(result.rows[1][1], QueryValue::String("vector(4)"));
    const std::string& vector_details = result.rows[1][2].text;
    EXPECT_EQ(vector_details.rfind("cosine, hnsw m=", 0), 0u) << vector_details;
    EXPECT_NE(vector_details.find("ef_construction="), std::string::npos) << vector_details;
    EXPECT_EQ(result.rows[2][0], QueryValue::String("metadata"));
    EXPECT_EQ(result.rows[2][1], QueryValue::String("json"));
    EXPECT_EQ(result.rows[2][2], QueryValue::String("indexes: category (ready)"));
    EXPECT_EQ(result.rows[3][0], QueryValue::String("edges"));
    EXPECT_EQ(result.rows[3][1], QueryValue::String("json"));
}

TEST_F(DdlDmlDescribe, CollectionWithoutVectorsOrIndexes) {
    Run("CREATE COLLECTION people");
    const QueryResult result = Run("DESCRIBE people");
    ASSERT_EQ(result.rows.size(), 4u);
    EXPECT_EQ(result.rows[1][1], QueryValue::String("none"));
    EXPECT_EQ(result.rows[2][2], QueryValue::String("no indexes"));
}

TEST_F(DdlDmlDescribe, UnknownCollectionSuggestsTheClosest) {
    Run(kCreateDocs);
    const Status status = Fail("DESCRIBE docz");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status, "did you mean 'docs'?");
}

// ---- INSERT ----------------------------------------------------------------------------------

TEST_F(DdlDmlInsert, InsertsVectorMetadataAndEdges) {
    Run(kCreateDocs);
    QueryResult result = Run(kInsertD1);
    EXPECT_EQ(result.message, "INSERT 1");
    EXPECT_EQ(result.affected, 1u);
    result = Run(kInsertD2);
    EXPECT_EQ(result.message, "INSERT 1");

    const Entity d1 = Get("d1");
    EXPECT_EQ(d1.vector, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
    EXPECT_EQ(Json::parse(d1.metadata), Json::parse(R"({"category":"tech","year":2021})"));
    EXPECT_TRUE(d1.edges.empty());
    const Entity d2 = Get("d2");
    EXPECT_EQ(d2.vector, (std::vector<float>{0.5f, 0.6f, 0.7f, 0.8f}));
    EXPECT_EQ(Json::parse(d2.metadata), Json::parse(R"({"category":"science","year":2019})"));
    ASSERT_EQ(d2.edges.size(), 1u);
    EXPECT_EQ(d2.edges[0].label, "related_to");
    EXPECT_EQ(d2.edges[0].target_id, "d1");
    EXPECT_DOUBLE_EQ(d2.edges[0].weight, 0.8);
    auto in_edges = db_->ListEdges("docs", "d1", EdgeDirection::kIn);
    ASSERT_TRUE(in_edges.ok());
    ASSERT_EQ(in_edges->size(), 1u);
    EXPECT_EQ((*in_edges)[0].source_id, "d2");
}

TEST_F(DdlDmlInsert, SeveralRowsWithEdgesToEachOtherAndOtherCollections) {
    Run(kCreateDocs);
    Run("CREATE COLLECTION authors");
    Run("INSERT INTO authors (id) VALUES ('ann')");
    const QueryResult result =
        Run("INSERT INTO docs (edges, id, vector) VALUES "
            "([{\"label\": \"next\", \"target\": \"b\"}], 'a', [1, 0, 0, 0]), "
            "([{\"label\": \"by\", \"target\": \"ann\", \"target_collection\": \"authors\", "
            "\"weight\": 2, \"properties\": {\"role\": \"editor\"}}], 'b', [0, 1, 0, 0]), "
            "(NULL, 'c', NULL)");
    EXPECT_EQ(result.message, "INSERT 3");
    EXPECT_EQ(result.affected, 3u);
    EXPECT_EQ(Count(), 3u);
    const Entity a = Get("a");
    ASSERT_EQ(a.edges.size(), 1u);
    EXPECT_EQ(a.edges[0].target_id, "b");
    EXPECT_DOUBLE_EQ(a.edges[0].weight, 1.0);
    const Entity b = Get("b");
    ASSERT_EQ(b.edges.size(), 1u);
    EXPECT_EQ(b.edges[0].target_id, "ann");
    EXPECT_EQ(b.edges[0].target_collection, "authors");
    EXPECT_DOUBLE_EQ(b.edges[0].weight, 2.0);
    EXPECT_EQ(Json::parse(b.edges[0].properties), Json::parse(R"({"role":"editor"})"));
    const Entity c = Get("c");
    EXPECT_TRUE(c.vector.empty());
    EXPECT_EQ(c.metadata, "{}");
    EXPECT_TRUE(c.edges.empty());
}

TEST_F(DdlDmlInsert, TakesValuesFromParameters) {
    Run(kCreateDocs);
    const QueryParams params = {
        {"id", QueryValue::String("p1")},
        {"v", QueryValue::Vector({0.4f, 0.3f, 0.2f, 0.1f})},
        {"m", QueryValue::Json(R"({"k": [1, 2]})")},
        {"2", QueryValue::Json(R"([{"label": "self", "target": "p1"}])")},
    };
    EXPECT_EQ(Run("INSERT INTO docs (id, vector, metadata, edges) VALUES ($id, $v, $m, $2)", params)
                  .message,
              "INSERT 1");
    const Entity p1 = Get("p1");
    EXPECT_EQ(p1.vector, (std::vector<float>{0.4f, 0.3f, 0.2f, 0.1f}));
    EXPECT_EQ(Json::parse(p1.metadata), Json::parse(R"({"k":[1,2]})"));
    ASSERT_EQ(p1.edges.size(), 1u);
    EXPECT_EQ(p1.edges[0].label, "self");

    const Status status = Fail("INSERT INTO docs (id) VALUES ($missing)");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "$missing");
}

TEST_F(DdlDmlInsert, AllRowsOrNone) {
    Run(kCreateDocs);
    Run(kInsertD1);
    // The second row repeats d1: nothing of the statement is written.
    Status status =
        Fail("INSERT INTO docs (id, vector) VALUES ('x1', [1, 1, 1, 1]), ('d1', [1, 1, 1, 1])");
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
    EXPECT_MESSAGE_HAS(status, "d1");
    EXPECT_FALSE(Exists("x1"));
    // A bad value in a later row also fails before anything is written.
    status = Fail("INSERT INTO docs (id, vector) VALUES ('x2', [1, 1, 1, 1]), ('x3', 'oops')");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(Exists("x2"));
    // Two rows with the same id in one statement.
    status = Fail("INSERT INTO docs (id) VALUES ('x4'), ('x4')");
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
    EXPECT_FALSE(Exists("x4"));
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DdlDmlInsert, DuplicateIdIsAlreadyExists) {
    Run(kCreateDocs);
    Run(kInsertD1);
    const Status status = Fail(kInsertD1);
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
    EXPECT_EQ(Json::parse(Get("d1").metadata)["year"], 2021);
}

TEST_F(DdlDmlInsert, UnknownDuplicateAndMissingColumns) {
    Run(kCreateDocs);
    Status status = Fail("INSERT INTO docs (id, vectr) VALUES ('a', [1, 2, 3, 4])");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "line 1, column 1:");
    EXPECT_MESSAGE_HAS(status, "unknown column 'vectr'");
    EXPECT_MESSAGE_HAS(status, "did you mean 'vector'?");
    status = Fail("INSERT INTO docs (id, metadata, metadata) VALUES ('a', {}, {})");
    EXPECT_MESSAGE_HAS(status, "column 'metadata' is listed twice");
    status = Fail("INSERT INTO docs (vector) VALUES ([1, 2, 3, 4])");
    EXPECT_MESSAGE_HAS(status, "INSERT needs the id column");
    EXPECT_EQ(Count(), 0u);
}

TEST_F(DdlDmlInsert, UnknownCollectionSuggestsTheClosest) {
    Run(kCreateDocs);
    const Status status = Fail("INSERT INTO doc (id) VALUES ('a')");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status,
                       "line 1, column 13: collection 'doc' does not exist; did you mean 'docs'?");
}

TEST_F(DdlDmlInsert, RowWithTheWrongNumberOfValues) {
    Run(kCreateDocs);
    const std::string sql = "INSERT INTO docs (id, metadata) VALUES ('a', {}), ('b')";
    const Status status = Fail(sql);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, PosOf(sql, "'b'"));
    EXPECT_MESSAGE_HAS(status, "row 2 has 1 values but 2 columns are listed");
    EXPECT_EQ(Count(), 0u);
}

TEST_F(DdlDmlInsert, WrongValueTypesPointAtTheValueAndNameTheColumn) {
    Run(kCreateDocs);
    struct Case {
        std::string sql;
        std::string value;  // where the error must point
        std::string message;
    };
    const std::vector<Case> cases = {
        {"INSERT INTO docs (id) VALUES (5)", "5", "id must be a string"},
        {"INSERT INTO docs (id, vector) VALUES ('a', 'text')", "'text'", "vector must be"},
        {"INSERT INTO docs (id, metadata) VALUES ('a', 'text')", "'text'",
         "metadata must be a JSON object"},
        {"INSERT INTO docs (id, metadata) VALUES ('a', [{\"x\": 1}])", "[{",
         "metadata must be a JSON object"},
        {"INSERT INTO docs (id, edges) VALUES ('a', {\"label\": \"l\", \"target\": \"b\"})", "{",
         "edges must be a JSON array"},
        {"INSERT INTO docs (id, edges) VALUES ('a', [{\"labels\": \"l\", \"target\": \"b\"}])",
         "[{", "did you mean 'label'?"},
        {"INSERT INTO docs (id, edges) VALUES ('a', [{\"label\": \"l\"}])", "[{",
         "edges[0] needs \"label\" and \"target\""},
        {"INSERT INTO docs (id, edges) VALUES ('a', [{\"label\": \"l\", \"target\": \"b\", "
         "\"weight\": \"heavy\"}])",
         "[{", "\"weight\" must be a number"},
        {"INSERT INTO docs (id, edges) VALUES ('a', [{\"label\": \"l\", \"target\": \"b\", "
         "\"properties\": [1]}])",
         "[{", "\"properties\" must be a JSON object"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.sql);
        const Status status = Fail(c.sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
        EXPECT_MESSAGE_HAS(status, PosOf(c.sql, c.value));
        EXPECT_MESSAGE_HAS(status, c.message);
    }
    EXPECT_EQ(Count(), 0u);
}

TEST_F(DdlDmlInsert, VectorMustMatchTheCollection) {
    Run(kCreateDocs);
    Run("CREATE COLLECTION people");
    std::string sql = "INSERT INTO docs (id, vector) VALUES ('a', [0.1, 0.2])";
    Status status = Fail(sql);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, PosOf(sql, "[0.1"));
    EXPECT_MESSAGE_HAS(status, "vector has 2 dimensions but collection 'docs' has dimension 4");
    sql = "INSERT INTO people (id, vector) VALUES ('a', [1])";
    status = Fail(sql);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "has no vectors");
    // The engine's own checks (a zero vector under cosine) still apply.
    status = Fail("INSERT INTO docs (id, vector) VALUES ('z', [0, 0, 0, 0])");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Count(), 0u);
    EXPECT_EQ(Count("people"), 0u);
}

TEST_F(DdlDmlInsert, EdgeToAMissingEntityFails) {
    Run(kCreateDocs);
    const Status status = Fail(
        "INSERT INTO docs (id, edges) VALUES ('a', [{\"label\": \"l\", \"target\": \"nope\"}])");
    EXPECT_FALSE(status.ok());
    EXPECT_FALSE(Exists("a"));
}

// ---- UPDATE ----------------------------------------------------------------------------------

TEST_F(DdlDmlUpdate, WithoutWhereSetsAFieldOfEveryRow) {
    CreateDocsWithRows();
    const QueryResult result = Run("UPDATE docs SET metadata.year = 2022");
    EXPECT_EQ(result.message, "UPDATE 3");
    EXPECT_EQ(result.affected, 3u);
    EXPECT_EQ(Metadata("d1"), Json::parse(R"({"category":"tech","year":2022})"));
    EXPECT_EQ(Metadata("d2"), Json::parse(R"({"category":"science","year":2022})"));
    // Vectors and edges are untouched.
    EXPECT_EQ(Get("d2").vector, (std::vector<float>{0.5f, 0.6f, 0.7f, 0.8f}));
    ASSERT_EQ(Get("d2").edges.size(), 1u);
}

TEST_F(DdlDmlUpdate, NestedFieldsNullRemovesAndObjectsReplace) {
    CreateDocsWithRows();
    Run("UPDATE docs SET metadata.author.name = 'bob', metadata.category = NULL, "
        "metadata.tags = $tags",
        {{"tags", QueryValue::Json(R"(["a","b"])")}});
    EXPECT_EQ(Metadata("d1"),
              Json::parse(R"({"year":2021,"author":{"name":"bob"},"tags":["a","b"]})"));
    EXPECT_EQ(Metadata("d3"),
              Json::parse(R"({"year":2024,"author":{"name":"bob","age":40},"tags":["a","b"]})"));
    // An object value replaces the field rather than merging into it.
    Run("UPDATE docs SET metadata.author = {\"name\": \"cy\"}");
    EXPECT_EQ(Metadata("d3"),
              Json::parse(R"({"year":2024,"author":{"name":"cy"},"tags":["a","b"]})"));
    // Removing below a missing parent changes nothing.
    Run("UPDATE docs SET metadata.missing.field = NULL");
    EXPECT_EQ(Metadata("d3"),
              Json::parse(R"({"year":2024,"author":{"name":"cy"},"tags":["a","b"]})"));
}

TEST_F(DdlDmlUpdate, ReplacesMetadataVectorAndEdges) {
    CreateDocsWithRows();
    Run("UPDATE docs SET metadata = {\"only\": true}");
    EXPECT_EQ(Metadata("d1"), Json::parse(R"({"only":true})"));
    Run("UPDATE docs SET vector = [0.9, 0.8, 0.7, 0.6]");
    EXPECT_EQ(Get("d2").vector, (std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f}));
    EXPECT_EQ(Metadata("d2"), Json::parse(R"({"only":true})"));
    ASSERT_EQ(Get("d2").edges.size(), 1u);  // kept
    Run("UPDATE docs SET edges = [{\"label\": \"cites\", \"target\": \"d3\", \"weight\": 0.5}], "
        "metadata.n = 1");
    for (const char* id : {"d1", "d2", "d3"}) {
        const Entity entity = Get(id);
        ASSERT_EQ(entity.edges.size(), 1u) << id;
        EXPECT_EQ(entity.edges[0].label, "cites");
        EXPECT_EQ(entity.edges[0].target_id, "d3");
        EXPECT_EQ(Json::parse(entity.metadata), Json::parse(R"({"only":true,"n":1})"));
        EXPECT_EQ(entity.vector, (std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f}));
    }
    Run("UPDATE docs SET edges = [], vector = NULL");
    EXPECT_TRUE(Get("d1").edges.empty());
    EXPECT_TRUE(Get("d1").vector.empty());
}

TEST_F(DdlDmlUpdate, EdgesAloneKeepVectorMetadataAndInEdges) {
    CreateDocsWithRows();
    QueryResult result =
        Run("UPDATE docs SET edges = [{\"label\": \"cites\", \"target\": \"d3\"}] WHERE id = 'd1'");
    EXPECT_EQ(result.message, "UPDATE 1");
    const Entity d1 = Get("d1");
    ASSERT_EQ(d1.edges.size(), 1u);
    EXPECT_EQ(d1.edges[0].target_id, "d3");
    EXPECT_EQ(d1.vector, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
    EXPECT_EQ(Json::parse(d1.metadata), Json::parse(R"({"category":"tech","year":2021})"));
    auto in_edges = db_->ListEdges("docs", "d1", EdgeDirection::kIn);
    ASSERT_TRUE(in_edges.ok());
    ASSERT_EQ(in_edges->size(), 1u);  // d2 -> d1 is kept
    EXPECT_EQ((*in_edges)[0].source_id, "d2");
    // A missing target fails the whole statement.
    const Status status =
        Fail("UPDATE docs SET edges = [{\"label\": \"l\", \"target\": \"nope\"}]");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(Get("d1").edges.size(), 1u);
    EXPECT_EQ(Get("d2").edges.size(), 1u);
    EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DdlDmlUpdate, AssignmentErrors) {
    CreateDocsWithRows();
    struct Case {
        std::string sql;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"UPDATE docs SET id = 'x'", "the id of an entity cannot be changed"},
        {"UPDATE docs SET metdata.year = 1", "did you mean 'metadata'?"},
        {"UPDATE docs SET vector = [1, 2]", "vector has 2 dimensions"},
        {"UPDATE docs SET vector.x = 1", "only metadata has fields"},
        {"UPDATE docs SET metadata = 'x'", "metadata must be a JSON object"},
        {"UPDATE docs SET edges = 'x'", "edges must be a JSON array"},
        {"UPDATE docs SET metadata.a = 1, metadata.a.b = 2", "overlaps metadata.a"},
        {"UPDATE docs SET metadata = {}, metadata.a = 1", "set as a whole and field by field"},
        {"UPDATE docs SET vector = NULL, vector = NULL", "vector is assigned twice"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.sql);
        const Status status = Fail(c.sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
        EXPECT_MESSAGE_HAS(status, "line 1, column ");
        EXPECT_MESSAGE_HAS(status, c.message);
    }
    EXPECT_EQ(Metadata("d1"), Json::parse(R"({"category":"tech","year":2021})"));
    const Status status = Fail("UPDATE dcs SET metadata.year = 1");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status, "did you mean 'docs'?");
}

TEST_F(DdlDmlUpdate, EdgeUpdateToAMissingTargetChangesNothing) {
    CreateDocsWithRows();
    const Status status = Fail(
        "UPDATE docs SET metadata.year = 1, edges = [{\"label\": \"l\", \"target\": \"nope\"}]");
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(Metadata("d1")["year"], 2021);
    EXPECT_EQ(Get("d2").edges.size(), 1u);
}

TEST_F(DdlDmlUpdate, WhereIdChangesOnlyThatRow) {
    CreateDocsWithRows();
    QueryResult result = Run("UPDATE docs SET metadata.year = 2022 WHERE id = 'd1'");
    EXPECT_EQ(result.message, "UPDATE 1");
    EXPECT_EQ(result.affected, 1u);
    EXPECT_EQ(Metadata("d1")["year"], 2022);
    EXPECT_EQ(Metadata("d2")["year"], 2019);
    EXPECT_EQ(Metadata("d3")["year"], 2024);
    // Missing ids are not an error: nothing matches.
    result = Run("UPDATE docs SET metadata.year = 1 WHERE id = 'nope'");
    EXPECT_EQ(result.message, "UPDATE 0");
    EXPECT_EQ(result.affected, 0u);
    result = Run("UPDATE docs SET vector = [0, 0, 1, 0] WHERE id IN ('d2', 'nope', 'd2')");
    EXPECT_EQ(result.message, "UPDATE 1");
    EXPECT_EQ(Get("d2").vector, (std::vector<float>{0, 0, 1, 0}));
}

TEST_F(DdlDmlUpdate, WhereOnMetadata) {
    CreateDocsWithRows();
    QueryResult result =
        Run("UPDATE docs SET metadata.hot = true WHERE metadata.category = 'tech'");
    EXPECT_EQ(result.message, "UPDATE 2");
    EXPECT_EQ(Metadata("d1")["hot"], true);
    EXPECT_FALSE(Metadata("d2").contains("hot"));
    EXPECT_EQ(Metadata("d3")["hot"], true);
    // Ids and a metadata condition together.
    result =
        Run("UPDATE docs SET metadata.year = 0 WHERE id IN ('d1', 'd2') AND "
            "metadata.category = 'tech'");
    EXPECT_EQ(result.message, "UPDATE 1");
    EXPECT_EQ(Metadata("d1")["year"], 0);
    EXPECT_EQ(Metadata("d2")["year"], 2019);
    result = Run("UPDATE docs SET metadata.year = 5 WHERE metadata.year > 3000");
    EXPECT_EQ(result.message, "UPDATE 0");
}

// ---- DELETE ----------------------------------------------------------------------------------

TEST_F(DdlDmlDelete, WithoutWhereDeletesEveryRowAndItsEdges) {
    CreateDocsWithRows();
    Run("CREATE COLLECTION other");
    Run("INSERT INTO other (id, edges) VALUES ('o', [{\"label\": \"l\", \"target\": \"d1\", "
        "\"target_collection\": \"docs\"}])");
    const QueryResult result = Run("DELETE FROM docs");
    EXPECT_EQ(result.message, "DELETE 3");
    EXPECT_EQ(result.affected, 3u);
    EXPECT_EQ(Count(), 0u);
    EXPECT_TRUE(Get("o", "other").edges.empty());
    EXPECT_EQ(Run("DELETE FROM docs").message, "DELETE 0");
    EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DdlDmlDelete, WhereIdDeletesOnlyThatRow) {
    CreateDocsWithRows();
    QueryResult result = Run("DELETE FROM docs WHERE id = 'd2'");
    EXPECT_EQ(result.message, "DELETE 1");
    EXPECT_EQ(result.affected, 1u);
    EXPECT_FALSE(Exists("d2"));
    EXPECT_TRUE(Exists("d1"));
    EXPECT_TRUE(Exists("d3"));
    result = Run("DELETE FROM docs WHERE id = 'd2'");
    EXPECT_EQ(result.message, "DELETE 0");
    result = Run("DELETE FROM docs WHERE id IN ('d1', 'zz')");
    EXPECT_EQ(result.message, "DELETE 1");
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DdlDmlDelete, WhereOnMetadata) {
    CreateDocsWithRows();
    const QueryResult result = Run("DELETE FROM docs WHERE metadata.category = 'tech'");
    EXPECT_EQ(result.message, "DELETE 2");
    EXPECT_FALSE(Exists("d1"));
    EXPECT_TRUE(Exists("d2"));
    EXPECT_FALSE(Exists("d3"));
    EXPECT_TRUE(Get("d2").edges.empty());  // its edge pointed at d1
}

TEST_F(DdlDmlDelete, BadWhereChangesNothing) {
    CreateDocsWithRows();
    Status status = Fail("DELETE FROM docs WHERE year = 2021");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_MESSAGE_HAS(status, "line 1, column ");
    status = Fail("UPDATE docs SET metadata.year = 1 WHERE id = $missing");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Count(), 3u);
    EXPECT_EQ(Metadata("d1")["year"], 2021);
}

TEST_F(DdlDmlDelete, UnknownCollectionSuggestsTheClosest) {
    Run(kCreateDocs);
    const Status status = Fail("DELETE FROM docz");
    EXPECT_EQ(status.code(), StatusCode::kNotFound);
    EXPECT_MESSAGE_HAS(status, "did you mean 'docs'?");
}

// ---- transactions ----------------------------------------------------------------------------

TEST_F(DdlDmlTransaction, WritesAreReadYourOwnAndVisibleAfterCommit) {
    Run(kCreateDocs);
    Run("BEGIN");
    Run(kInsertD1);
    EXPECT_FALSE(Exists("d1"));  // not committed
    ASSERT_NE(session_->transaction(), nullptr);
    ASSERT_TRUE(session_->transaction()->Get("docs", "d1").ok());
    // UPDATE and DELETE find the transaction's own rows.
    EXPECT_EQ(Run("UPDATE docs SET metadata.year = 2030").message, "UPDATE 1");
    auto in_txn = session_->transaction()->Get("docs", "d1");
    ASSERT_TRUE(in_txn.ok());
    EXPECT_EQ(Json::parse(in_txn->metadata)["year"], 2030);
    Run(kInsertD2);
    EXPECT_EQ(Run("DELETE FROM docs WHERE id = 'd2'").message, "DELETE 1");
    // A failing statement leaves the transaction open and unchanged.
    EXPECT_EQ(Fail(kInsertD1).code(), StatusCode::kAlreadyExists);
    ASSERT_NE(session_->transaction(), nullptr);
    Run("COMMIT");
    EXPECT_EQ(Metadata("d1")["year"], 2030);
    EXPECT_FALSE(Exists("d2"));
}

TEST_F(DdlDmlTransaction, RollbackDiscardsEveryWrite) {
    CreateDocsWithRows();
    Run("BEGIN");
    Run("INSERT INTO docs (id) VALUES ('new')");
    Run("UPDATE docs SET metadata.year = 1");
    Run("DELETE FROM docs WHERE id = 'd3'");
    EXPECT_EQ(Run("DELETE FROM docs").message, "DELETE 3");  // d1, d2, new
    Run("ROLLBACK");
    EXPECT_FALSE(Exists("new"));
    EXPECT_TRUE(Exists("d3"));
    EXPECT_EQ(Metadata("d1")["year"], 2021);
    EXPECT_EQ(Count(), 3u);
}

TEST_F(DdlDmlTransaction, ReadOnlyTransactionRefusesWrites) {
    CreateDocsWithRows();
    ASSERT_TRUE(session_->Begin({.read_only = true}).ok());
    for (std::string_view sql : {std::string_view("INSERT INTO docs (id) VALUES ('x')"),
                                 std::string_view("UPDATE docs SET metadata.year = 1"),
                                 std::string_view("DELETE FROM docs")}) {
        const Status status = Fail(sql);
        EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << sql;
        EXPECT_MESSAGE_HAS(status, "read-only transaction");
    }
    // Reads still work.
    EXPECT_EQ(Run("SHOW COLLECTIONS").rows.size(), 1u);
    EXPECT_EQ(Run("DESCRIBE docs").rows.size(), 4u);
    Run("ROLLBACK");
    EXPECT_FALSE(Exists("x"));
    EXPECT_EQ(Count(), 3u);
    EXPECT_EQ(Metadata("d1")["year"], 2021);
}

}  // namespace
}  // namespace phenix
