// SPDX-License-Identifier: Apache-2.0
#include "server/access.h"

#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <phenix/phenixql.h>

#include "phenix/v1/phenix.grpc.pb.h"
#include "server/api.h"
#include "server/config.h"
#include "server/router.h"
#include "server/transactions.h"
#include "testing/db_fixture.h"

namespace phenix::server {
namespace {

using security::AuditEvent;
using security::Principal;

// ---------------------------------------------------------------- the tables cover everything

TEST(AccessTableTest, EveryRegisteredRouteIsMappedAndEveryMappingIsARoute) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    ASSERT_FALSE(router.routes().empty());
    std::set<std::string> registered;
    for (const Route& route : router.routes()) {
        EXPECT_NE(FindRouteRule(route.method, route.pattern), nullptr)
            << route.method << " " << route.pattern
            << " has no permission in server/access.cc's route table (it is refused until it does)";
        registered.insert(route.method + " " + route.pattern);
    }
    for (const RouteAccess& entry : RouteAccessTable()) {
        EXPECT_EQ(registered.count(std::string(entry.method) + " " + std::string(entry.pattern)),
                  1U)
            << entry.method << " " << entry.pattern << " is mapped but not a route";
    }
}

TEST(AccessTableTest, EveryGrpcMethodIsMapped) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("phenix.v1.Phenix");
    ASSERT_NE(service, nullptr);
    ASSERT_GT(service->method_count(), 0);
    for (int idx = 0; idx < service->method_count(); ++idx) {
        EXPECT_NE(FindGrpcRule(service->method(idx)->name()), nullptr)
            << service->method(idx)->name() << " has no permission in server/access.cc";
    }
    EXPECT_EQ(GrpcAccessTable().size(), static_cast<std::size_t>(service->method_count()));
}

TEST(AccessTableTest, EveryStatementKindIsMapped) {
    for (StatementKind kind : kAllStatementKinds) {
        EXPECT_NE(FindStatementRule(kind), nullptr) << StatementKindName(kind);
    }
    // A kind the table does not know is refused, never allowed.
    EXPECT_EQ(FindStatementRule(static_cast<StatementKind>(200)), nullptr);
}

TEST(AccessTableTest, TenantWideStatementsNeedMoreThanRead) {
    EXPECT_EQ(FindStatementRule(StatementKind::kCreateTenant)->scope, AccessScope::kCluster);
    EXPECT_EQ(FindStatementRule(StatementKind::kShowTenants)->scope, AccessScope::kCluster);
    EXPECT_EQ(FindStatementRule(StatementKind::kReindex)->permission,
              security::Permission::kSchema);
    EXPECT_EQ(FindStatementRule(StatementKind::kVerify)->permission, security::Permission::kAdmin);
    // VERIFY takes no collection (the parser refuses one): the table says what it reaches.
    EXPECT_EQ(FindStatementRule(StatementKind::kVerify)->scope, AccessScope::kCluster);
    EXPECT_EQ(FindStatementRule(StatementKind::kCopyFrom)->permission,
              security::Permission::kAdmin);
    EXPECT_EQ(FindRouteRule("GET", "/metrics")->scope, AccessScope::kCluster);
    EXPECT_EQ(FindRouteRule("GET", "/health")->scope, AccessScope::kOpen);
}

TEST(AccessTableTest, JsonListsEveryKind) {
    const std::string json = AccessTableJson();
    for (StatementKind kind : kAllStatementKinds) {
        EXPECT_NE(json.find("\"" + std::string(StatementKindName(kind)) + "\""), std::string::npos)
            << StatementKindName(kind);
    }
    EXPECT_NE(json.find("\"pattern\":\"/v1/collections/{name}\""), std::string::npos);
    EXPECT_NE(json.find("\"method\":\"UpsertStream\""), std::string::npos);
}

// ---------------------------------------------------------------- AccessControl

// Bearer "alice-a-admin" -> subject alice, tenant a, role admin; "<sub>-<tenant>-<role>" in
// general; anything else fails with a precise reason.
class FakeAuthenticator final : public security::Authenticator {
  public:
    Result<Principal> Authenticate(const security::Credentials& credentials) override {
        const std::string bearer(credentials.bearer);
        const std::size_t first = bearer.find('-');
        const std::size_t second = bearer.find('-', first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            return Status::Unauthenticated("token 'x' is malformed (precise reason)");
        }
        return Principal{.subject = bearer.substr(0, first),
                         .tenant = bearer.substr(first + 1, second - first - 1),
                         .roles = {bearer.substr(second + 1)},
                         .method = security::AuthMethod::kJwt};
    }
};

class RecordingSink final : public security::AuditSink {
  public:
    void Record(AuditEvent event) override { events.push_back(std::move(event)); }
    std::vector<AuditEvent> events;
};

class AccessControlTest : public testing::DbTest {
  protected:
    AccessControlTest() {
        access_ =
            std::make_unique<AccessControl>(std::make_unique<FakeAuthenticator>(), nullptr, sink_);
    }

    std::shared_ptr<const Principal> Login(std::string_view bearer) {
        auto principal = access_->Authenticate("Bearer " + std::string(bearer), info_);
        EXPECT_TRUE(principal.ok()) << principal.status().ToString();
        return principal.ok() ? *principal : nullptr;
    }

    // The sink outlives access_, which borrows it.
    std::unique_ptr<RecordingSink> owned_sink_ = std::make_unique<RecordingSink>();
    RecordingSink* sink_ = owned_sink_.get();
    std::unique_ptr<AccessControl> access_;
    const CallInfo info_{.request_id = "req-1", .client = "127.0.0.1:5"};
};

TEST_F(AccessControlTest, AuthenticationFailuresAreGenericAndAuditedWithTheReason) {
    auto missing = access_->Authenticate("", info_);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(missing.status().message(), kAuthenticationRequired);

    auto bad = access_->Authenticate("Bearer nonsense", info_);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message(), kInvalidCredentials);
    auto scheme = access_->Authenticate("Basic dXNlcjpwYXNz", info_);
    ASSERT_FALSE(scheme.ok());
    EXPECT_EQ(scheme.status().message(), kInvalidCredentials);

    ASSERT_EQ(sink_->events.size(), 3U);
    EXPECT_EQ(sink_->events[1].outcome, "unauthenticated");
    EXPECT_NE(sink_->events[1].reason.find("precise reason"), std::string::npos);
    EXPECT_EQ(sink_->events[1].request_id, "req-1");
    EXPECT_EQ(sink_->events[1].client, "127.0.0.1:5");

    auto principal = Login("alice-a-admin");
    ASSERT_NE(principal, nullptr);
    EXPECT_EQ(principal->tenant, "a");
}

TEST_F(AccessControlTest, AuthOffIsTheLocalAdministrator) {
    AccessControl off(nullptr, nullptr, nullptr);
    EXPECT_FALSE(off.enabled());
    auto principal = off.Authenticate("", info_);
    ASSERT_TRUE(principal.ok());
    EXPECT_TRUE((*principal)->IsClusterAdmin());
    EXPECT_EQ(off.OwnerKey(**principal), "");
}

TEST_F(AccessControlTest, TenantComesFromThePrincipalUnlessClusterAdmin) {
    auto alice = Login("alice-a-admin");
    auto own = access_->ResolveTenant(*alice, "", info_);
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(*own, "a");
    EXPECT_TRUE(access_->ResolveTenant(*alice, "a", info_).ok());
    auto other = access_->ResolveTenant(*alice, "b", info_);
    auto missing = access_->ResolveTenant(*alice, "no-such-tenant", info_);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
    // The same text whether the tenant exists or not, and it names neither.
    EXPECT_EQ(other.status().message(), missing.status().message());
    EXPECT_EQ(other.status().message().find("'b'"), std::string::npos);

    auto root = Login("root-*-admin");
    auto chosen = access_->ResolveTenant(*root, "b", info_);
    ASSERT_TRUE(chosen.ok());
    EXPECT_EQ(*chosen, "b");
}

TEST_F(AccessControlTest, RulesAreCheckedThroughTheAuthorizer) {
    auto reader = Login("rita-a-reader");
    auto writer = Login("walt-a-writer");
    const AccessRule* upsert = FindRouteRule("POST", "/v1/collections/{name}/entities");
    const AccessRule* create = FindRouteRule("PUT", "/v1/collections/{name}");
    EXPECT_TRUE(access_->Authorize(*writer, upsert, "upsert", "a", "docs", info_).ok());
    Status denied = access_->Authorize(*reader, upsert, "upsert", "a", "docs", info_);
    EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
    EXPECT_NE(denied.message().find("'write'"), std::string::npos) << denied.message();
    EXPECT_EQ(access_->Authorize(*writer, create, "create", "a", "docs", info_).code(),
              StatusCode::kPermissionDenied);
    // Another tenant's collection: denied (the principal's tenant is the only one it acts in).
    EXPECT_EQ(access_->Authorize(*writer, upsert, "upsert", "b", "docs", info_).code(),
              StatusCode::kPermissionDenied);
    // An unmapped route: refused, even for a cluster administrator.
    auto root = Login("root-*-admin");
    EXPECT_EQ(access_->Authorize(*root, nullptr, "GET /v1/new", "a", "", info_).code(),
              StatusCode::kPermissionDenied);
    EXPECT_EQ(access_->Authorize(*root, FindRouteRule("GET", "/metrics"), "metrics", "", "", info_)
                  .code(),
              StatusCode::kOk);
    auto tenant_admin = Login("ann-a-admin");
    EXPECT_EQ(
        access_
            ->Authorize(*tenant_admin, FindRouteRule("GET", "/metrics"), "metrics", "a", "", info_)
            .code(),
        StatusCode::kPermissionDenied);
    ASSERT_FALSE(sink_->events.empty());
    EXPECT_EQ(sink_->events.back().outcome, "denied");
}

TEST_F(AccessControlTest, EveryStatementIsAuthorizedBeforeItRuns) {
    ASSERT_TRUE(db_->CreateTenant("a").ok());
    ASSERT_TRUE(db_->CreateTenant("b").ok());
    auto writer = Login("walt-a-writer");
    QuerySession session(*db_, "a");
    access_->GuardSession(session, writer, "req-2", "127.0.0.1:6");
    // A writer writes, but does not change the schema.
    auto created = session.Execute("CREATE COLLECTION docs (DIMENSION 2)");
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(created.status().message().find("'schema'"), std::string::npos);
    ASSERT_TRUE(db_->CreateCollection({.ref = CollectionRef("a", "docs"), .dimension = 2}).ok());
    const std::size_t before = sink_->events.size();
    ASSERT_TRUE(session.Execute("INSERT INTO docs (id, vector) VALUES ('x', [1, 2])").ok());
    ASSERT_EQ(sink_->events.size(), before + 1);  // the write is audited
    EXPECT_EQ(sink_->events.back().action, "entity.insert");
    EXPECT_EQ(sink_->events.back().tenant, "a");
    EXPECT_EQ(sink_->events.back().target, "docs");
    EXPECT_EQ(sink_->events.back().request_id, "req-2");
    ASSERT_TRUE(session.Execute("SELECT id FROM docs").ok());
    // Tenant-wide and cluster-wide statements (these ran unauthenticated before).
    for (const char* statement : {"USE TENANT b", "CREATE TENANT c", "SHOW TENANTS", "VERIFY",
                                  "REINDEX docs", "COPY docs TO 'x.jsonl'"}) {
        auto refused = session.Execute(statement);
        ASSERT_FALSE(refused.ok()) << statement;
        EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << statement;
    }
    // VERIFY takes no collection: the parser says so (before any permission is checked).
    auto verify_docs = session.Execute("VERIFY docs");
    ASSERT_FALSE(verify_docs.ok());
    EXPECT_EQ(verify_docs.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(verify_docs.status().message().find("takes no collection name"), std::string::npos)
        << verify_docs.status().ToString();
    // USE TENANT of a tenant that does not exist says the same as of one that does.
    auto missing = session.Execute("USE TENANT nowhere");
    auto existing = session.Execute("USE TENANT b");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), existing.status().code());
    EXPECT_EQ(session.tenant(), "a");
    ASSERT_TRUE(session.Execute("USE TENANT a").ok());
}

TEST_F(AccessControlTest, TransactionsAreBoundToTheirOwner) {
    TransactionRegistry registry(std::chrono::milliseconds(10'000));
    auto alice = Login("alice-a-admin");
    auto mallory = Login("mallory-a-admin");
    auto id = registry.Begin(*db_, {}, "", access_->OwnerKey(*alice));
    ASSERT_TRUE(id.ok());
    auto stolen = registry.Acquire(*id, access_->OwnerKey(*mallory));
    ASSERT_FALSE(stolen.ok());
    auto unknown =
        registry.Acquire("00000000000000000000000000000000", access_->OwnerKey(*mallory));
    // Answered exactly like an id that does not exist.
    EXPECT_EQ(stolen.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(registry.Commit(*id, access_->OwnerKey(*mallory)).status().code(),
              StatusCode::kNotFound);
    EXPECT_EQ(registry.Rollback(*id, access_->OwnerKey(*mallory)).code(), StatusCode::kNotFound);
    EXPECT_TRUE(registry.Acquire(*id, access_->OwnerKey(*alice)).ok());
    EXPECT_TRUE(registry.Rollback(*id, access_->OwnerKey(*alice)).ok());
    (void)unknown;
}

// Regression: the collection and entity routes always used the default tenant, whatever the
// request's tenant (Phenix-Tenant, or now the principal's).
TEST_F(AccessControlTest, CollectionRoutesActInTheRequestsTenant) {
    ASSERT_TRUE(db_->CreateTenant("t1").ok());
    ASSERT_TRUE(db_->CreateCollection({.ref = CollectionRef("t1", "tonly"), .dimension = 2}).ok());
    TransactionRegistry registry(std::chrono::milliseconds(10'000));
    Router router;
    ApiState state;
    state.db.store(db_.get());
    state.transactions = &registry;
    RegisterRoutes(router, state);
    const auto call = [&](std::string method, std::string path, std::string tenant) {
        RouteMatch match = router.Match(method, path);
        EXPECT_NE(match.route, nullptr) << path;
        HttpRequest request;
        request.method = method;
        request.path = path;
        request.tenant = std::move(tenant);
        RequestContext context;
        return match.route->handler(request, match.params, context);
    };
    HttpResponse listed = call("GET", "/v1/collections", "t1");
    EXPECT_EQ(listed.status, 200U);
    EXPECT_NE(listed.body.find("\"tonly\""), std::string::npos) << listed.body;
    EXPECT_EQ(call("GET", "/v1/collections/tonly", "t1").status, 200U);
    EXPECT_EQ(call("GET", "/v1/collections/tonly", "").status, 404U);
    EXPECT_EQ(call("GET", "/v1/collections", "").body.find("\"tonly\""), std::string::npos);
}

TEST(CompositeAuthenticatorTest, ApiKeysGoToTheApiKeyAuthenticator) {
    CompositeAuthenticator composite(std::make_unique<FakeAuthenticator>(), nullptr);
    EXPECT_TRUE(composite.Authenticate({.bearer = "alice-a-admin"}).ok());
    auto key = composite.Authenticate({.bearer = "phx_abc-a-admin"});
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.status().code(), StatusCode::kUnauthenticated);
    CompositeAuthenticator keys_only(nullptr, std::make_unique<FakeAuthenticator>());
    EXPECT_TRUE(keys_only.Authenticate({.bearer = "phx_abc-a-admin"}).ok());
    EXPECT_FALSE(keys_only.Authenticate({.bearer = "alice-a-admin"}).ok());
}

// ---------------------------------------------------------------- modes (config)

TEST(SecurityConfigTest, ProtectedModeRefusesAuthOffOnAPublicAddress) {
    ServerConfig config;
    EXPECT_TRUE(CheckSecurityConfig(config).ok());  // the defaults: auth off on 127.0.0.1
    config.http_address = "0.0.0.0:8080";
    Status refused = CheckSecurityConfig(config);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("--insecure-no-auth"), std::string::npos);
    EXPECT_NE(refused.message().find("--http"), std::string::npos);
    config.insecure_no_auth = true;
    EXPECT_TRUE(CheckSecurityConfig(config).ok());
    config.insecure_no_auth = false;
    config.http_address = "[::1]:0";
    config.grpc_address = "10.0.0.5:9090";
    refused = CheckSecurityConfig(config);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("--grpc"), std::string::npos);
    config.grpc_address = "";
    EXPECT_TRUE(CheckSecurityConfig(config).ok());
    config.http_address = "localhost:0";
    EXPECT_TRUE(CheckSecurityConfig(config).ok());
}

TEST(SecurityConfigTest, JwtNeedsKeys) {
    ServerConfig config;
    config.auth = "jwt";
    config.http_address = "0.0.0.0:8080";
    Status refused = CheckSecurityConfig(config);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("--jwt-jwks"), std::string::npos);
    config.jwt_jwks = "/etc/phenix/jwks.json";
    EXPECT_TRUE(CheckSecurityConfig(config).ok());
}

TEST(SecurityConfigTest, FlagsParse) {
    auto loaded = LoadConfig({"--auth", "jwt", "--jwt-jwks", "keys.json", "--jwt-issuer", "iss",
                              "--jwt-audience", "aud", "--jwt-leeway-s", "5", "--insecure-no-auth"},
                             [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.auth, "jwt");
    EXPECT_EQ(loaded->config.jwt_jwks, "keys.json");
    EXPECT_EQ(loaded->config.jwt_issuer, "iss");
    EXPECT_EQ(loaded->config.jwt_audience, "aud");
    EXPECT_EQ(loaded->config.jwt_leeway_s, 5U);
    EXPECT_TRUE(loaded->config.insecure_no_auth);
    EXPECT_FALSE(
        LoadConfig({"--auth", "ldap"}, [](const std::string&) { return std::nullopt; }).ok());
}

}  // namespace
}  // namespace phenix::server
