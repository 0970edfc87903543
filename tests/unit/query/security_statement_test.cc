// SPDX-License-Identifier: Apache-2.0
//
// The security administration statements (docs/query-language.md "Roles, grants and API keys"):
// each parses into the SecurityStatement it should, prints back to text that parses to the same
// tree, and malformed ones fail with what was expected. The embedded session (no SecurityAdmin)
// refuses them with FailedPrecondition; a session with one hands it the statement and tenant.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "query/ast.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

using Kind = SecurityStatement::Kind;

SecurityStatement MustParse(std::string_view text) {
    Result<Statement> result = ParseStatement(text);
    EXPECT_TRUE(result.ok()) << text << "\n" << result.status().ToString();
    if (!result.ok() || !std::holds_alternative<SecurityStmt>(result->body)) {
        ADD_FAILURE() << text << " is not a security statement";
        return {};
    }
    // The printed form parses back to the same tree.
    const std::string printed = ToString(*result);
    Result<Statement> again = ParseStatement(printed);
    EXPECT_TRUE(again.ok()) << printed << "\n" << again.status().ToString();
    if (again.ok()) {
        EXPECT_EQ(*again, *result) << printed;
    }
    return std::get<SecurityStmt>(result->body).statement;
}

std::string ErrorOf(std::string_view text) {
    Result<Statement> result = ParseStatement(text);
    return result.ok() ? "OK" : std::string(result.status().message());
}

TEST(SecurityStatements, Parse) {
    EXPECT_EQ(MustParse("CREATE ROLE analyst"),
              (SecurityStatement{.kind = Kind::kCreateRole, .role = "analyst"}));
    EXPECT_EQ(MustParse("create role ingest with permissions READ, write"),
              (SecurityStatement{
                  .kind = Kind::kCreateRole, .role = "ingest", .permissions = {"read", "write"}}));
    EXPECT_EQ(MustParse("DROP ROLE analyst"),
              (SecurityStatement{.kind = Kind::kDropRole, .role = "analyst"}));
    EXPECT_EQ(MustParse("GRANT read ON docs TO analyst"),
              (SecurityStatement{.kind = Kind::kGrant,
                                 .role = "analyst",
                                 .permissions = {"read"},
                                 .collection = "docs"}));
    EXPECT_EQ(MustParse("GRANT write, schema ON TENANT TO ingest"),
              (SecurityStatement{
                  .kind = Kind::kGrant, .role = "ingest", .permissions = {"write", "schema"}}));
    EXPECT_EQ(MustParse("GRANT read ON \"tenant\" TO r").collection, "tenant");
    EXPECT_EQ(MustParse("REVOKE read ON docs FROM analyst"),
              (SecurityStatement{.kind = Kind::kRevoke,
                                 .role = "analyst",
                                 .permissions = {"read"},
                                 .collection = "docs"}));
    EXPECT_EQ(MustParse("CREATE API KEY FOR ROLE reader"),
              (SecurityStatement{.kind = Kind::kCreateApiKey, .roles = {"reader"}}));
    EXPECT_EQ(MustParse("CREATE API KEY FOR ROLES reader, analyst EXPIRES IN 30 DAYS"),
              (SecurityStatement{.kind = Kind::kCreateApiKey,
                                 .roles = {"reader", "analyst"},
                                 .expires_in_s = 30 * 86400}));
    EXPECT_EQ(MustParse("CREATE API KEY FOR ROLE r EXPIRES IN 1 hour").expires_in_s, 3600);
    EXPECT_EQ(MustParse("REVOKE API KEY '0123456789abcdef'"),
              (SecurityStatement{.kind = Kind::kRevokeApiKey, .key_id = "0123456789abcdef"}));
    EXPECT_EQ(MustParse("SHOW ROLES").kind, Kind::kShowRoles);
    EXPECT_EQ(MustParse("SHOW GRANTS").kind, Kind::kShowGrants);
    EXPECT_EQ(MustParse("show api keys").kind, Kind::kShowApiKeys);
    EXPECT_EQ(MustParse("DROP TENANT acme"),
              (SecurityStatement{.kind = Kind::kDropTenant, .tenant = "acme"}));
    using Setting = SecurityStatement::QuotaSetting;
    EXPECT_EQ(
        MustParse("ALTER TENANT acme SET QUOTA (max_entities = 1000000, max_bytes = '10GB', "
                  "requests_per_second = NONE)"),
        (SecurityStatement{.kind = Kind::kSetQuota,
                           .tenant = "acme",
                           .quota = {Setting{.name = "max_entities", .value = "1000000"},
                                     Setting{.name = "max_bytes", .value = "10GB", .is_text = true},
                                     Setting{.name = "requests_per_second", .is_null = true}}}));
    EXPECT_EQ(MustParse("alter tenant t set quota (max_bytes = null)").quota,
              (std::vector<Setting>{Setting{.name = "max_bytes", .is_null = true}}));
    EXPECT_EQ(MustParse("ALTER TENANT acme ROTATE KEY"),
              (SecurityStatement{.kind = Kind::kRotateKey, .tenant = "acme"}));
    EXPECT_EQ(MustParse("show key rotation for tenant acme"),
              (SecurityStatement{.kind = Kind::kShowKeyRotation, .tenant = "acme"}));
}

TEST(SecurityStatements, MalformedKeyRotationSaysWhatWasExpected) {
    EXPECT_NE(ErrorOf("ALTER TENANT acme ROTATE").find("expected KEY"), std::string::npos);
    EXPECT_NE(ErrorOf("ALTER TENANT acme REKEY").find("SET QUOTA or ROTATE KEY"),
              std::string::npos);
    EXPECT_NE(ErrorOf("SHOW KEY ROTATION acme").find("expected FOR"), std::string::npos);
    EXPECT_NE(ErrorOf("SHOW KEY ROTATION FOR acme").find("expected TENANT"), std::string::npos);
}

TEST(SecurityStatements, MalformedAlterTenantSaysWhatWasExpected) {
    auto parsed = ParseStatement("ALTER TENANT acme SET QUOTA (max_entities = 5)");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_NE(ErrorOf("ALTER TENANT acme SET QUOTA max_entities = 5").find("expected '('"),
              std::string::npos);
    EXPECT_NE(ErrorOf("ALTER TENANT acme SET QUOTA (max_entities = x)").find("a whole number"),
              std::string::npos);
    EXPECT_NE(ErrorOf("ALTER TENANT acme SET (max_entities = 5)").find("expected QUOTA"),
              std::string::npos);
}

TEST(SecurityStatements, MalformedOnesSayWhatWasExpected) {
    EXPECT_NE(ErrorOf("GRANT fly ON docs TO r").find("expected a permission"), std::string::npos);
    EXPECT_NE(ErrorOf("GRANT read docs TO r").find("expected ON"), std::string::npos);
    EXPECT_NE(ErrorOf("GRANT read ON docs r").find("expected TO"), std::string::npos);
    EXPECT_NE(ErrorOf("REVOKE read ON docs TO r").find("expected FROM"), std::string::npos);
    EXPECT_NE(ErrorOf("CREATE API KEY").find("expected FOR"), std::string::npos);
    EXPECT_NE(ErrorOf("CREATE API KEY FOR ROLE r EXPIRES IN 0 DAYS").find("1 second to 10 years"),
              std::string::npos);
    EXPECT_NE(ErrorOf("CREATE API KEY FOR ROLE r EXPIRES IN 3 WEEKS").find("SECONDS, MINUTES"),
              std::string::npos);
    EXPECT_NE(ErrorOf("REVOKE API KEY abc").find("single quotes"), std::string::npos);
    EXPECT_NE(ErrorOf("SHOW API").find("expected KEYS"), std::string::npos);
    EXPECT_NE(ErrorOf("CREATE ROLE r WITH read").find("expected PERMISSIONS"), std::string::npos);
}

class RecordingAdmin final : public SecurityAdmin {
  public:
    Result<QueryResult> Execute(std::string_view tenant,
                                const SecurityStatement& statement) override {
        tenant_ = std::string(tenant);
        statement_ = statement;
        return QueryResult{.message = "done"};
    }
    std::string tenant_;
    SecurityStatement statement_;
};

TEST(SecurityStatements, EmbeddedSessionsRefuseThemAndServerSessionsHandThemOver) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        ("phenix-security-stmt-" +
         std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
         std::to_string(reinterpret_cast<std::uintptr_t>(&dir)));
    std::filesystem::remove_all(dir);
    {
        Options options;
        options.create_if_missing = true;
        auto db = Database::Open(dir.string(), options);
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        QuerySession session(**db);
        auto refused = session.Execute("CREATE ROLE analyst");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
        EXPECT_NE(refused.status().message().find("phenixd"), std::string::npos);
        auto admin = std::make_shared<RecordingAdmin>();
        session.set_security_admin(admin);
        auto ran = session.Execute("GRANT read ON docs TO analyst");
        ASSERT_TRUE(ran.ok()) << ran.status().ToString();
        EXPECT_EQ(ran->message, "done");
        EXPECT_EQ(admin->tenant_, "default");
        EXPECT_EQ(admin->statement_.collection, "docs");
        ASSERT_TRUE(session.Execute("BEGIN").ok());
        EXPECT_EQ(session.Execute("SHOW ROLES").status().code(), StatusCode::kFailedPrecondition);
        ASSERT_TRUE(session.Execute("ROLLBACK").ok());

        // DROP TENANT needs no catalog: the embedded session runs it on the database alone.
        QuerySession plain(**db);
        ASSERT_TRUE(plain.Execute("CREATE TENANT acme").ok());
        ASSERT_TRUE(plain.Execute("USE TENANT acme").ok());
        ASSERT_TRUE(plain.Execute("CREATE COLLECTION docs").ok());
        ASSERT_TRUE(plain.Execute("INSERT INTO docs (id) VALUES ('d1')").ok());
        auto busy = plain.Execute("DROP TENANT acme");
        ASSERT_FALSE(busy.ok());
        EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
        EXPECT_NE(busy.status().message().find("drop them first"), std::string::npos);
        EXPECT_EQ(plain.Execute("DROP TENANT default").status().code(),
                  StatusCode::kFailedPrecondition);
        ASSERT_TRUE(plain.Execute("DROP COLLECTION docs").ok());
        ASSERT_TRUE(plain.Execute("USE TENANT default").ok());
        auto dropped = plain.Execute("DROP TENANT acme");
        ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
        EXPECT_EQ(plain.Execute("DROP TENANT acme").status().code(), StatusCode::kNotFound);
        EXPECT_EQ(plain.Execute("USE TENANT acme").status().code(), StatusCode::kNotFound);
        // Created again, it is a new, empty tenant.
        ASSERT_TRUE(plain.Execute("CREATE TENANT acme").ok());
        ASSERT_TRUE(plain.Execute("USE TENANT acme").ok());
        auto collections = plain.Execute("SHOW COLLECTIONS");
        ASSERT_TRUE(collections.ok());
        EXPECT_TRUE(collections->rows.empty());
    }
    {
        // The drop is durable: reopened, the tenant is as it was left.
        Options options;
        auto db = Database::Open(dir.string(), options);
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        auto tenants = (*db)->ListTenants();
        ASSERT_TRUE(tenants.ok());
        EXPECT_EQ(*tenants, (std::vector<std::string>{"acme", "default"}));
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace phenix::query
