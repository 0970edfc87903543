// SPDX-License-Identifier: Apache-2.0
//
// Executing the statements that replaced the shell's older commands (src/query/admin.cc,
// table_functions.cc, and the session state of USE TENANT / BEGIN): what each returns, and what
// the slt scripts cannot pin because it varies from run to run (SHOW INDEXES' timestamps and
// sizes, the snapshot of BEGIN READ ONLY, parameters).
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/query_fixture.h"

namespace phenix {
namespace {

using testing::QueryTest;

class AdminTest : public QueryTest {
  protected:
    // The column `name` of `result` (which must have it).
    static std::size_t Column(const QueryResult& result, const std::string& name) {
        for (std::size_t col = 0; col < result.columns.size(); ++col) {
            if (result.columns[col] == name) {
                return col;
            }
        }
        ADD_FAILURE() << "no column " << name;
        return 0;
    }
};

TEST_F(AdminTest, ShowIndexesListsTheVectorIndexAndTheMetadataIndexes) {
    Run("CREATE COLLECTION docs (DIMENSION 2) WITH (m = 8, ef_search = 20, quantization = "
        "'int8')");
    Run("CREATE COLLECTION notes");
    Run("INSERT INTO docs (id, vector, metadata) VALUES ('a', [0, 0], {\"c\": 1}), ('b', [1, 1], "
        "{\"c\": 2})");
    Run("CREATE INDEX ON docs (metadata.c)");
    Run("CREATE INDEX ON notes (metadata.t)");
    Run("ANALYZE docs");

    QueryResult all = Run("SHOW INDEXES");
    ASSERT_TRUE(all.has_rows);
    EXPECT_EQ(all.columns, (std::vector<std::string>{"collection", "path", "type", "state",
                                                     "entries", "distinct_values", "details"}));
    ASSERT_EQ(all.rows.size(), 3u);
    const std::size_t collection = Column(all, "collection");
    const std::size_t path = Column(all, "path");
    const std::size_t type = Column(all, "type");
    const std::size_t state = Column(all, "state");
    const std::size_t entries = Column(all, "entries");
    const std::size_t distinct = Column(all, "distinct_values");
    const std::size_t details = Column(all, "details");
    // docs: its vector index, then its metadata index; then notes.
    EXPECT_EQ(all.rows[0][collection], QueryValue::String("docs"));
    EXPECT_EQ(all.rows[0][path], QueryValue::String("vector"));
    EXPECT_EQ(all.rows[0][type], QueryValue::String("hnsw"));
    EXPECT_TRUE(all.rows[0][state] == QueryValue::String("ready") ||
                all.rows[0][state] == QueryValue::String("catching up"));
    EXPECT_EQ(all.rows[0][distinct], QueryValue::Null());
    EXPECT_TRUE(all.rows[0][details].text.starts_with(
        "m=8 ef_construction=200 ef_search=20 quantization=int8; nodes "))
        << all.rows[0][details].text;
    EXPECT_EQ(all.rows[1][path], QueryValue::String("metadata.c"));
    EXPECT_EQ(all.rows[1][type], QueryValue::String("metadata"));
    EXPECT_EQ(all.rows[1][state], QueryValue::String("ready"));
    EXPECT_EQ(all.rows[1][entries], QueryValue::Int(2));  // ANALYZE computed the statistics
    EXPECT_EQ(all.rows[1][distinct], QueryValue::Int(2));
    EXPECT_TRUE(all.rows[1][details].text.starts_with("statistics at "))
        << all.rows[1][details].text;
    EXPECT_EQ(all.rows[2][collection], QueryValue::String("notes"));
    EXPECT_EQ(all.rows[2][path], QueryValue::String("metadata.t"));

    const QueryResult notes = Run("SHOW INDEXES ON notes");
    ASSERT_EQ(notes.rows.size(), 1u);
    EXPECT_EQ(notes.rows[0][path], QueryValue::String("metadata.t"));

    Run("CREATE COLLECTION empty");
    EXPECT_TRUE(Run("SHOW INDEXES ON empty").rows.empty());
}

TEST_F(AdminTest, ShowTimestampFeedsBeginAsOf) {
    Run("CREATE COLLECTION docs");
    Run("INSERT INTO docs (id) VALUES ('a')");
    const QueryResult now = Run("SHOW TIMESTAMP");
    ASSERT_EQ(now.columns, std::vector<std::string>{"timestamp"});
    ASSERT_EQ(now.rows.size(), 1u);
    ASSERT_EQ(now.rows[0][0].type, QueryValue::Type::kInt);
    Run("INSERT INTO docs (id) VALUES ('b')");

    const QueryResult begun = Run("BEGIN AS OF $ts", {{"ts", now.rows[0][0]}});
    EXPECT_EQ(begun.message,
              "BEGIN READ ONLY (snapshot " + std::to_string(now.rows[0][0].int_value) + ")");
    EXPECT_TRUE(session_->transaction_read_only());
    EXPECT_EQ(Run("SELECT count(*) FROM docs").rows[0][0], QueryValue::Int(1));
    Run("ROLLBACK");
    EXPECT_EQ(Run("SELECT count(*) FROM docs").rows[0][0], QueryValue::Int(2));

    const Status bad = Fail("BEGIN AS OF $ts", {{"ts", QueryValue::String("x")}});
    EXPECT_EQ(bad.ToString(),
              "InvalidArgument: line 1, column 13: AS OF takes a commit timestamp (SHOW "
              "TIMESTAMP prints the current one), not \"x\"");
    EXPECT_EQ(session_->transaction(), nullptr);
}

// The value of (scope, metric) in a SHOW STATS result; nullopt when there is no such row.
std::optional<QueryValue> StatOf(const QueryResult& result, const std::string& scope,
                                 const std::string& metric) {
    for (const auto& row : result.rows) {
        if (row[0].text == scope && row[1].text == metric) {
            return row[2];
        }
    }
    return std::nullopt;
}

bool HasScope(const QueryResult& result, const std::string& scope) {
    for (const auto& row : result.rows) {
        if (row[0].text == scope) {
            return true;
        }
    }
    return false;
}

TEST_F(AdminTest, ShowStatsReportsTheTenantsCollectionsOnly) {
    Run("CREATE COLLECTION docs (DIMENSION 2)");
    Run("CREATE COLLECTION notes");
    Run("INSERT INTO docs (id, vector, metadata) VALUES ('a', [0, 1], {\"c\": 1}), ('b', [1, 1], "
        "{\"c\": 2})");
    Run("CREATE INDEX ON docs (metadata.c)");
    Run("CREATE TENANT acme");
    Run("USE TENANT acme");
    Run("CREATE COLLECTION secret");
    Run("INSERT INTO secret (id) VALUES ('s1'), ('s2'), ('s3')");
    Run("USE TENANT \"default\"");

    const QueryResult stats = Run("SHOW STATS");
    ASSERT_TRUE(stats.has_rows);
    EXPECT_EQ(stats.columns,
              (std::vector<std::string>{"scope", "metric", "value", "warning", "note"}));
    ASSERT_FALSE(stats.rows.empty());
    EXPECT_EQ(StatOf(stats, "tenant default", "collections"), QueryValue::Int(2));
    EXPECT_EQ(StatOf(stats, "tenant default", "entities"), QueryValue::Int(2));
    EXPECT_EQ(StatOf(stats, "collection docs", "entities"), QueryValue::Int(2));
    EXPECT_EQ(StatOf(stats, "collection docs", "metadata_indexes"), QueryValue::Int(1));
    EXPECT_EQ(StatOf(stats, "collection docs", "metadata_index_entries"), QueryValue::Int(2));
    EXPECT_TRUE(StatOf(stats, "collection docs", "vector_index_nodes").has_value());
    // The checkpoint lacks the two inserts (none is written within the test): its note says so.
    bool checkpoint_row = false;
    for (const auto& row : stats.rows) {
        if (row[0].text == "collection docs" &&
            row[1].text == "vector_index_checkpoint_age_seconds") {
            checkpoint_row = true;
            EXPECT_NE(row[4].text.find("changes not in a checkpoint yet"), std::string::npos)
                << row[4].text;
        }
    }
    EXPECT_TRUE(checkpoint_row);
    EXPECT_EQ(StatOf(stats, "collection notes", "entities"), QueryValue::Int(0));
    EXPECT_FALSE(StatOf(stats, "collection notes", "vector_index_nodes").has_value());
    // Nothing of the other tenant, and none of the engine-wide figures.
    for (const auto& row : stats.rows) {
        EXPECT_EQ(row[0].text.find("acme"), std::string::npos) << row[0].text;
        EXPECT_EQ(row[0].text.find("secret"), std::string::npos) << row[0].text;
    }
    EXPECT_FALSE(HasScope(stats, "storage"));
    EXPECT_FALSE(HasScope(stats, "transactions"));
    EXPECT_FALSE(HasScope(stats, "wal"));

    const QueryResult one = Run("SHOW STATS FOR docs");
    ASSERT_FALSE(one.rows.empty());
    for (const auto& row : one.rows) {
        EXPECT_EQ(row[0].text, "collection docs");
    }
    EXPECT_EQ(Fail("SHOW STATS FOR doc").code(), StatusCode::kNotFound);
    // Another tenant's collection is not found from here.
    EXPECT_EQ(Fail("SHOW STATS FOR secret").code(), StatusCode::kNotFound);
}

TEST_F(AdminTest, ShowDatabaseStatsAddsEveryTenantAndTheEngine) {
    Run("CREATE COLLECTION docs");
    Run("INSERT INTO docs (id) VALUES ('a')");
    Run("CREATE TENANT acme");
    Run("USE TENANT acme");
    Run("CREATE COLLECTION secret");
    Run("INSERT INTO secret (id) VALUES ('s1'), ('s2'), ('s3')");

    const QueryResult stats = Run("SHOW DATABASE STATS");
    EXPECT_EQ(StatOf(stats, "tenant acme", "entities"), QueryValue::Int(3));
    EXPECT_EQ(StatOf(stats, "tenant default", "entities"), QueryValue::Int(1));
    EXPECT_EQ(StatOf(stats, "collection acme/secret", "entities"), QueryValue::Int(3));
    const auto commits = StatOf(stats, "transactions", "commits_total");
    ASSERT_TRUE(commits.has_value());
    EXPECT_GE(commits->int_value, 2);
    const auto syncs = StatOf(stats, "wal", "sync_total");
    ASSERT_TRUE(syncs.has_value());
    EXPECT_GE(syncs->int_value, 2);  // durable commits (the default) sync the WAL
    EXPECT_EQ(StatOf(stats, "transactions", "active"), QueryValue::Int(0));
    EXPECT_TRUE(StatOf(stats, "storage", "disk_free_bytes").has_value());
    EXPECT_TRUE(StatOf(stats, "storage", "sst_bytes.entities").has_value());
    EXPECT_TRUE(StatOf(stats, "graph_cache", "hits_total").has_value());
    // An open transaction shows.
    Run("BEGIN");
    EXPECT_EQ(StatOf(Run("SHOW DATABASE STATS"), "transactions", "active"), QueryValue::Int(1));
    Run("ROLLBACK");
}

TEST_F(AdminTest, BeginReadOnlyRefusesWrites) {
    Run("CREATE COLLECTION docs");
    EXPECT_EQ(Run("BEGIN").message, "BEGIN");
    EXPECT_FALSE(session_->transaction_read_only());
    Run("ROLLBACK");
    Run("BEGIN READ ONLY");
    EXPECT_TRUE(session_->transaction_read_only());
    EXPECT_EQ(Fail("INSERT INTO docs (id) VALUES ('a')").code(), StatusCode::kFailedPrecondition);
    Run("COMMIT");
}

TEST_F(AdminTest, UseTenantChangesTheSessionsTenant) {
    Run("CREATE TENANT acme");
    EXPECT_EQ(Run("USE TENANT acme").message, "USE TENANT acme");
    EXPECT_EQ(session_->tenant(), "acme");
    Run("CREATE COLLECTION docs");
    EXPECT_EQ(db_->ListCollections("acme")->size(), 1u);
    EXPECT_TRUE(db_->ListCollections(kDefaultTenant)->empty());
    // A failed USE TENANT leaves the tenant as it was.
    EXPECT_EQ(Fail("USE TENANT nope").code(), StatusCode::kNotFound);
    EXPECT_EQ(session_->tenant(), "acme");
}

TEST_F(AdminTest, TableFunctionsTakeParameters) {
    Run("CREATE COLLECTION docs");
    Run("INSERT INTO docs (id, edges) VALUES ('b', []), ('a', [{\"label\": \"x\", \"target\": "
        "\"b\"}])");
    const QueryResult reached = Run("SELECT id FROM traverse($coll, $start, hops = $hops) LIMIT $n",
                                    {{"coll", QueryValue::String("docs")},
                                     {"start", QueryValue::String("a")},
                                     {"hops", QueryValue::Int(1)},
                                     {"n", QueryValue::Int(5)}});
    ASSERT_EQ(reached.rows.size(), 1u);
    EXPECT_EQ(reached.rows[0][0], QueryValue::String("b"));
    EXPECT_NE(Fail("SELECT * FROM edges('docs', 'a') LIMIT $n", {{"n", QueryValue::Int(-1)}})
                  .message()
                  .find("LIMIT takes a row count (0 or more), not -1"),
              std::string::npos);
}

TEST_F(AdminTest, ATraversalCutShortByTheEngineCapIsAnErrorWithoutLimit) {
    Options options;
    options.max_traversal_nodes = 2;
    options.max_traversal_paths = 2;
    Open(options);
    Run("CREATE COLLECTION g");
    Run("INSERT INTO g (id) VALUES ('b1'), ('b2'), ('b3'), ('b4')");
    Run("INSERT INTO g (id, edges) VALUES ('a', [{\"label\": \"x\", \"target\": \"b1\"}, "
        "{\"label\": \"x\", \"target\": \"b2\"}, {\"label\": \"x\", \"target\": \"b3\"}, "
        "{\"label\": \"x\", \"target\": \"b4\"}])");
    // Without LIMIT a cut-short answer would be silently wrong: it is an error. (The engine
    // itself fails a traversal past max_traversal_nodes, naming the setting; FindPaths stops at
    // max_traversal_paths and says it was truncated, which paths() turns into the error.)
    const Status traversal = Fail("SELECT * FROM traverse('g', 'a')");
    EXPECT_EQ(traversal.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(traversal.message().find("max_traversal_nodes"), std::string::npos)
        << traversal.ToString();
    const Status paths = Fail("SELECT * FROM paths('g', 'a')");
    EXPECT_EQ(paths.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(paths.message().find("add LIMIT"), std::string::npos) << paths.ToString();
    // With LIMIT the first paths are the answer.
    EXPECT_EQ(Run("SELECT nodes FROM paths('g', 'a') LIMIT 2").rows.size(), 2u);
}

TEST_F(AdminTest, CreateCollectionSettingsReachTheVectorIndex) {
    Run("CREATE COLLECTION docs (DIMENSION 3, METRIC cosine) WITH (m = 24, ef_construction = 80, "
        "ef_search = 30, quantization = 'int8')");
    auto info = db_->GetVectorIndexInfo({std::string(kDefaultTenant), "docs"});
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->m, 24u);
    EXPECT_EQ(info->ef_construction, 80u);
    EXPECT_EQ(info->ef_search, 30u);
    EXPECT_TRUE(info->quantize_int8);
}

}  // namespace
}  // namespace phenix
