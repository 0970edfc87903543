// SPDX-License-Identifier: Apache-2.0
#include "server/access.h"

#include <chrono>
#include <utility>

#include "server/quota.h"

namespace phenix::server {
namespace {

using security::Permission;
using security::Principal;
using security::Resource;

constexpr Permission kRead = Permission::kRead;
constexpr Permission kWrite = Permission::kWrite;
constexpr Permission kSchema = Permission::kSchema;
constexpr Permission kAdmin = Permission::kAdmin;
constexpr AccessScope kOpen = AccessScope::kOpen;
constexpr AccessScope kTenant = AccessScope::kTenant;
constexpr AccessScope kCollection = AccessScope::kCollection;
constexpr AccessScope kCluster = AccessScope::kCluster;
constexpr AccessScope kTenantAny = AccessScope::kTenantAny;

// ---------------------------------------------------------------- the permission tables
// docs/security.md prints these tables; keep them in step.

// Every REST route (api.cc's RegisterRoutes). Transactions: BEGIN needs some permission in the
// tenant (the statements in it are checked one by one), COMMIT/ROLLBACK only the transaction's
// owner (TransactionRegistry). POST /v1/query: some permission in the tenant to enter (kTenantAny:
// a per-collection grant is enough); every statement is then checked by its kind
// (StatementAccessTable), on the collections it names.
constexpr RouteAccess kRoutes[] = {
    {"GET", "/health", {kRead, kOpen, "health"}},
    {"GET", "/ready", {kRead, kOpen, "ready"}},
    // The API's description: no data in it (its `security` says whether auth is on).
    {"GET", "/openapi.json", {kRead, kOpen, "openapi"}},
    // Server-wide counters (every tenant's requests and collections): cluster administrators.
    {"GET", "/metrics", {kAdmin, kCluster, "metrics"}},
    {"POST", "/v1/query", {kRead, kTenantAny, "query"}},
    {"POST", "/v1/transactions", {kRead, kTenantAny, "transaction.begin"}},
    {"POST", "/v1/transactions/{id}/commit", {kRead, kTenantAny, "transaction.commit"}},
    {"POST", "/v1/transactions/{id}/rollback", {kRead, kTenantAny, "transaction.rollback"}},
    {"GET", "/v1/collections", {kRead, kTenant, "collection.list"}},
    {"PUT", "/v1/collections/{name}", {kSchema, kCollection, "collection.create"}},
    {"GET", "/v1/collections/{name}", {kRead, kCollection, "collection.get"}},
    {"DELETE", "/v1/collections/{name}", {kSchema, kCollection, "collection.drop"}},
    {"PUT", "/v1/collections/{name}/indexes/{path}", {kSchema, kCollection, "index.create"}},
    {"DELETE", "/v1/collections/{name}/indexes/{path}", {kSchema, kCollection, "index.drop"}},
    {"POST", "/v1/collections/{name}/entities", {kWrite, kCollection, "entity.upsert"}},
    {"GET", "/v1/collections/{name}/entities/{id}", {kRead, kCollection, "entity.get"}},
    {"DELETE", "/v1/collections/{name}/entities/{id}", {kWrite, kCollection, "entity.delete"}},
    {"PATCH", "/v1/collections/{name}/entities/{id}", {kWrite, kCollection, "entity.patch"}},
    {"POST", "/v1/collections/{name}/import", {kWrite, kCollection, "collection.import"}},
    {"POST", "/v1/collections/{name}/search", {kRead, kCollection, "search"}},
    // Administration (admin_api.cc, decision 0017): tenants are cluster administration; keys,
    // roles and grants are administration of the caller's tenant.
    {"POST", "/v1/admin/tenants", {kAdmin, kCluster, "tenant.create"}},
    {"GET", "/v1/admin/tenants", {kAdmin, kCluster, "tenant.list"}},
    {"DELETE", "/v1/admin/tenants/{tenant}", {kAdmin, kCluster, "tenant.drop"}},
    // Tenant quotas (decision 0023): set and read by cluster administrators only.
    {"GET", "/v1/admin/tenants/{tenant}/quota", {kAdmin, kCluster, "tenant.quota.get"}},
    {"PUT", "/v1/admin/tenants/{tenant}/quota", {kAdmin, kCluster, "tenant.quota.set"}},
    // Data-key rotation: key management of encryption at rest, cluster administration like the
    // master key (docs/security.md "Data-key rotation").
    {"GET", "/v1/admin/tenants/{tenant}/key-rotation", {kAdmin, kCluster, "tenant.key.rotation"}},
    {"POST", "/v1/admin/tenants/{tenant}/key-rotation", {kAdmin, kCluster, "tenant.key.rotate"}},
    {"GET", "/v1/admin/keys", {kAdmin, kTenant, "key.list"}},
    {"POST", "/v1/admin/keys", {kAdmin, kTenant, "key.create"}},
    {"DELETE", "/v1/admin/keys/{key_id}", {kAdmin, kTenant, "key.revoke"}},
    {"GET", "/v1/admin/roles", {kAdmin, kTenant, "role.list"}},
    {"PUT", "/v1/admin/roles/{role}", {kAdmin, kTenant, "role.put"}},
    {"DELETE", "/v1/admin/roles/{role}", {kAdmin, kTenant, "role.drop"}},
    {"POST", "/v1/admin/roles/{role}/grants", {kAdmin, kTenant, "grant.create"}},
    {"DELETE", "/v1/admin/roles/{role}/grants/{permission}", {kAdmin, kTenant, "grant.revoke"}},
};

// Every method of phenix.v1.Phenix (proto/phenix/v1/phenix.proto).
constexpr GrpcAccess kGrpcMethods[] = {
    {"Health", {kRead, kOpen, "health"}},
    {"CreateCollection", {kSchema, kCollection, "collection.create"}},
    {"GetCollection", {kRead, kCollection, "collection.get"}},
    {"ListCollections", {kRead, kTenant, "collection.list"}},
    {"DeleteCollection", {kSchema, kCollection, "collection.drop"}},
    {"Upsert", {kWrite, kCollection, "entity.upsert"}},
    {"UpsertStream", {kWrite, kCollection, "entity.upsert"}},
    {"GetEntity", {kRead, kCollection, "entity.get"}},
    {"DeleteEntity", {kWrite, kCollection, "entity.delete"}},
    {"Search", {kRead, kCollection, "search"}},
    {"Query", {kRead, kTenantAny, "query"}},
    {"BeginTransaction", {kRead, kTenantAny, "transaction.begin"}},
    {"CommitTransaction", {kRead, kTenantAny, "transaction.commit"}},
    {"RollbackTransaction", {kRead, kTenantAny, "transaction.rollback"}},
};

// Every PhenixQL statement kind (phenix/phenixql.h). kCollection rules are checked on each
// collection the statement names (on the tenant when it names none). COPY reads or writes files
// of the server's COPY directory, which all tenants share: tenant administrators only.
// Tenant-wide and cluster-wide statements: USE TENANT needs read in the tenant it names (so only
// a cluster administrator leaves its tenant); CREATE TENANT, SHOW TENANTS and VERIFY are cluster
// administration.
constexpr StatementAccessRule kStatements[] = {
    {StatementKind::kSelect, {kRead, kCollection, "query.select"}},
    {StatementKind::kCreateCollection, {kSchema, kCollection, "collection.create"}},
    {StatementKind::kDropCollection, {kSchema, kCollection, "collection.drop"}},
    {StatementKind::kCreateIndex, {kSchema, kCollection, "index.create"}},
    {StatementKind::kDropIndex, {kSchema, kCollection, "index.drop"}},
    {StatementKind::kShowCollections, {kRead, kTenant, "collection.list"}},
    {StatementKind::kDescribe, {kRead, kCollection, "collection.get"}},
    {StatementKind::kInsert, {kWrite, kCollection, "entity.insert"}},
    {StatementKind::kUpdate, {kWrite, kCollection, "entity.update"}},
    {StatementKind::kDelete, {kWrite, kCollection, "entity.delete"}},
    {StatementKind::kBegin, {kRead, kTenantAny, "transaction.begin"}},
    {StatementKind::kCommit, {kRead, kTenantAny, "transaction.commit"}},
    {StatementKind::kRollback, {kRead, kTenantAny, "transaction.rollback"}},
    {StatementKind::kCopyFrom, {kAdmin, kTenant, "collection.copy_from"}},
    {StatementKind::kCopyTo, {kAdmin, kTenant, "collection.copy_to"}},
    {StatementKind::kShowIndexes, {kRead, kCollection, "index.list"}},
    {StatementKind::kShowTenants, {kAdmin, kCluster, "tenant.list"}},
    {StatementKind::kShowTimestamp, {kRead, kTenant, "timestamp"}},
    {StatementKind::kAnalyze, {kSchema, kCollection, "collection.analyze"}},
    {StatementKind::kReindex, {kSchema, kCollection, "collection.reindex"}},
    // VERIFY takes no collection (the engine checks the whole database): every tenant's data.
    {StatementKind::kVerify, {kAdmin, kCluster, "verify"}},
    {StatementKind::kCreateTenant, {kAdmin, kCluster, "tenant.create"}},
    {StatementKind::kUseTenant, {kRead, kTenant, "tenant.use"}},
    // Security administration (CREATE ROLE, GRANT, CREATE API KEY, SHOW ROLES, ...) in the
    // session's tenant; DROP TENANT is cluster administration.
    {StatementKind::kSecurityAdmin, {kAdmin, kTenant, "security.admin"}},
    {StatementKind::kDropTenant, {kAdmin, kCluster, "tenant.drop"}},
    // ALTER TENANT t SET QUOTA: quotas are cluster administration (decision 0023).
    {StatementKind::kAlterTenant, {kAdmin, kCluster, "tenant.quota.set"}},
    {StatementKind::kRotateTenantKey, {kAdmin, kCluster, "tenant.key.rotate"}},
    {StatementKind::kShowKeyRotation, {kAdmin, kCluster, "tenant.key.rotation"}},
    // SHOW STATS [FOR coll]: the health of the tenant's own collections only. SHOW DATABASE
    // STATS (every tenant's collections, storage, WAL, transactions) is marked all_tenants:
    // cluster administration, like GET /metrics (docs/observability.md).
    {StatementKind::kShowStats, {kRead, kCollection, "stats.read"}},
};

// What AccessControl records into when it was given no sink (stateless, shared).
security::AuditSink& NullSink() {
    static security::NullAuditSink sink;
    return sink;
}

std::string_view BearerOf(std::string_view authorization) {
    constexpr std::string_view kScheme = "bearer ";
    if (authorization.size() <= kScheme.size()) {
        return {};
    }
    for (std::size_t idx = 0; idx < kScheme.size(); ++idx) {
        const char c = authorization[idx];
        const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != kScheme[idx]) {
            return {};
        }
    }
    std::string_view bearer = authorization.substr(kScheme.size());
    while (!bearer.empty() && bearer.front() == ' ') {
        bearer.remove_prefix(1);
    }
    while (!bearer.empty() && bearer.back() == ' ') {
        bearer.remove_suffix(1);
    }
    return bearer;
}

}  // namespace

std::span<const RouteAccess> RouteAccessTable() {
    return kRoutes;
}
std::span<const GrpcAccess> GrpcAccessTable() {
    return kGrpcMethods;
}
std::span<const StatementAccessRule> StatementAccessTable() {
    return kStatements;
}

std::string_view AccessScopeName(AccessScope scope) {
    switch (scope) {
        case AccessScope::kOpen:
            return "open";
        case AccessScope::kTenant:
            return "tenant";
        case AccessScope::kCollection:
            return "collection";
        case AccessScope::kCluster:
            return "cluster";
        case AccessScope::kTenantAny:
            return "tenant-any";
    }
    return "unknown";
}

std::string AccessTableJson() {
    const auto rule_json = [](const AccessRule& rule) {
        return ",\"permission\":\"" + std::string(security::PermissionName(rule.permission)) +
               "\",\"scope\":\"" + std::string(AccessScopeName(rule.scope)) + "\",\"action\":\"" +
               std::string(rule.action) + "\"}";
    };
    std::string out = "{\"routes\":[";
    for (std::size_t idx = 0; idx < std::size(kRoutes); ++idx) {
        out += (idx == 0 ? "" : ",") + std::string("{\"method\":\"") +
               std::string(kRoutes[idx].method) + "\",\"pattern\":\"" +
               std::string(kRoutes[idx].pattern) + "\"" + rule_json(kRoutes[idx].rule);
    }
    out += "],\"grpc\":[";
    for (std::size_t idx = 0; idx < std::size(kGrpcMethods); ++idx) {
        out += (idx == 0 ? "" : ",") + std::string("{\"method\":\"") +
               std::string(kGrpcMethods[idx].method) + "\"" + rule_json(kGrpcMethods[idx].rule);
    }
    out += "],\"statements\":[";
    for (std::size_t idx = 0; idx < std::size(kStatements); ++idx) {
        out += (idx == 0 ? "" : ",") + std::string("{\"kind\":\"") +
               std::string(StatementKindName(kStatements[idx].kind)) + "\"" +
               rule_json(kStatements[idx].rule);
    }
    out += "],\"statement_kinds\":[";
    bool first = true;
    for (StatementKind kind : kAllStatementKinds) {
        out += (first ? "\"" : ",\"") + std::string(StatementKindName(kind)) + "\"";
        first = false;
    }
    return out + "]}";
}

const AccessRule* FindRouteRule(std::string_view method, std::string_view pattern) {
    for (const RouteAccess& entry : kRoutes) {
        if (entry.method == method && entry.pattern == pattern) {
            return &entry.rule;
        }
    }
    return nullptr;
}

const AccessRule* FindGrpcRule(std::string_view method) {
    for (const GrpcAccess& entry : kGrpcMethods) {
        if (entry.method == method) {
            return &entry.rule;
        }
    }
    return nullptr;
}

const AccessRule* FindStatementRule(StatementKind kind) {
    for (const StatementAccessRule& entry : kStatements) {
        if (entry.kind == kind) {
            return &entry.rule;
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------- CompositeAuthenticator

CompositeAuthenticator::CompositeAuthenticator(
    std::unique_ptr<security::Authenticator> jwt, std::unique_ptr<security::Authenticator> api_keys,
    std::unique_ptr<security::Authenticator> client_certificates)
    : jwt_(std::move(jwt)),
      api_keys_(std::move(api_keys)),
      client_certificates_(std::move(client_certificates)) {}

Result<Principal> CompositeAuthenticator::Authenticate(const security::Credentials& credentials) {
    if (credentials.bearer.empty()) {
        if (credentials.client_certificate == nullptr || client_certificates_ == nullptr) {
            return Status::Unauthenticated("no credential, and client certificates are not mapped");
        }
        return client_certificates_->Authenticate(credentials);
    }
    if (credentials.bearer.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix) {
        if (api_keys_ == nullptr) {
            return Status::Unauthenticated("an API key was sent, but API keys are not enabled");
        }
        return api_keys_->Authenticate(credentials);
    }
    if (jwt_ == nullptr) {
        return Status::Unauthenticated("a bearer token was sent, but JWT is not enabled");
    }
    return jwt_->Authenticate(credentials);
}

// ---------------------------------------------------------------- AccessControl

AccessControl::AccessControl(std::unique_ptr<security::Authenticator> authenticator,
                             std::unique_ptr<security::Authorizer> authorizer,
                             security::AuditSink* audit, QuotaEnforcer* quotas)
    : authenticator_(std::move(authenticator)),
      auditing_(audit != nullptr),
      authorizer_(authorizer != nullptr ? std::move(authorizer)
                                        : std::make_unique<security::BuiltinRoles>()),
      audit_(audit != nullptr ? audit : &NullSink()),
      local_(std::make_shared<const Principal>(Principal::Local())),
      quotas_(quotas) {}

Status AccessControl::AdmitRate(const Principal& principal, std::string_view tenant,
                                const CallInfo& info, std::uint32_t* retry_after_seconds) const {
    if (quotas_ == nullptr || !enabled() || principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    const std::string_view acting = tenant.empty() ? kDefaultTenant : tenant;
    Status admitted =
        quotas_->AdmitRequest(acting, principal, QuotaEnforcer::Clock::now(), retry_after_seconds);
    if (!admitted.ok()) {
        Audit(&principal, acting, "quota.rate", {}, "denied", admitted.message(), info);
    }
    return admitted;
}

void AccessControl::Audit(const Principal* principal, std::string_view tenant,
                          std::string_view action, std::string_view target,
                          std::string_view outcome, std::string_view reason,
                          const CallInfo& info) const {
    audit_->Record(
        security::AuditEvent{.time = std::chrono::system_clock::now(),
                             .principal = principal != nullptr ? principal->subject : std::string(),
                             .tenant = std::string(tenant),
                             .action = std::string(action),
                             .target = std::string(target),
                             .outcome = std::string(outcome),
                             .reason = std::string(reason),
                             .request_id = std::string(info.request_id),
                             .client = std::string(info.client)});
}

Result<std::shared_ptr<const Principal>> AccessControl::Authenticate(
    std::string_view authorization, const CallInfo& info,
    const security::ClientCertificate* certificate) const {
    if (authenticator_ == nullptr) {
        return local_;
    }
    if (authorization.empty() && certificate != nullptr && !certificate->subject.empty()) {
        // Mutual TLS as the credential (--tls-client-map): no bearer, a verified certificate.
        Result<Principal> principal = authenticator_->Authenticate(
            security::Credentials{.bearer = {}, .client_certificate = certificate});
        if (principal.ok() && !principal->subject.empty() && !principal->tenant.empty()) {
            return std::make_shared<const Principal>(std::move(*principal));
        }
        Audit(nullptr, {}, "auth", {}, "unauthenticated",
              principal.ok() ? "the certificate's rule names no subject or no tenant"
                             : principal.status().message(),
              info);
        return Status::Unauthenticated(std::string(kAuthenticationRequired));
    }
    if (authorization.empty()) {
        Audit(nullptr, {}, "auth", {}, "unauthenticated", "no credential (Authorization: Bearer)",
              info);
        return Status::Unauthenticated(std::string(kAuthenticationRequired));
    }
    const std::string_view bearer = BearerOf(authorization);
    if (bearer.empty()) {
        Audit(nullptr, {}, "auth", {}, "unauthenticated",
              "the Authorization header is not 'Bearer <credential>'", info);
        return Status::Unauthenticated(std::string(kInvalidCredentials));
    }
    Result<Principal> principal = authenticator_->Authenticate(security::Credentials{bearer});
    if (!principal.ok()) {
        Audit(nullptr, {}, "auth", {}, "unauthenticated", principal.status().message(), info);
        return Status::Unauthenticated(std::string(kInvalidCredentials));
    }
    if (principal->subject.empty() || principal->tenant.empty()) {
        Audit(nullptr, {}, "auth", {}, "unauthenticated",
              "the credential names no subject or no tenant", info);
        return Status::Unauthenticated(std::string(kInvalidCredentials));
    }
    return std::make_shared<const Principal>(std::move(*principal));
}

Result<std::string> AccessControl::ResolveTenant(const Principal& principal,
                                                 std::string_view requested,
                                                 const CallInfo& info) const {
    if (principal.IsClusterAdmin()) {
        return std::string(requested);
    }
    if (!requested.empty() && requested != principal.tenant) {
        Audit(&principal, principal.tenant, "tenant.select", requested, "denied",
              "Phenix-Tenant names a tenant other than the credential's", info);
        // The same text whether the named tenant exists or not.
        return Status::PermissionDenied(
            "the credential acts in its own tenant only; Phenix-Tenant (phenix-tenant) may name "
            "another tenant only for cluster administrators");
    }
    return principal.tenant;
}

Status AccessControl::Authorize(const Principal& principal, const AccessRule* rule,
                                std::string_view what, std::string_view tenant,
                                std::string_view collection, const CallInfo& info) const {
    if (rule == nullptr) {
        Audit(&principal, tenant, what, collection, "denied",
              "not mapped to a permission (server/access.cc)", info);
        return Status::PermissionDenied(std::string(what) +
                                        " is not mapped to a permission; it is refused");
    }
    Resource resource;
    switch (rule->scope) {
        case AccessScope::kOpen:
            return Status::Ok();
        case AccessScope::kTenantAny: {
            const std::string_view in = tenant.empty() ? kDefaultTenant : tenant;
            Status allowed = authorizer_->CheckAny(principal, in);
            if (!allowed.ok()) {
                Audit(&principal, in, rule->action, collection, "denied", allowed.message(), info);
            }
            return allowed;
        }
        case AccessScope::kTenant:
            resource = Resource::Tenant(std::string(tenant));
            break;
        case AccessScope::kCollection:
            resource = collection.empty()
                           ? Resource::Tenant(std::string(tenant))
                           : Resource::Collection(std::string(tenant), std::string(collection));
            break;
        case AccessScope::kCluster:
            resource = Resource::Tenant(std::string(security::kClusterTenant));
            break;
    }
    if (resource.tenant.empty()) {
        resource.tenant = std::string(kDefaultTenant);
    }
    Status allowed = authorizer_->Check(principal, rule->permission, resource);
    if (!allowed.ok()) {
        Audit(&principal, resource.tenant, rule->action, collection, "denied", allowed.message(),
              info);
    }
    return allowed;
}

void AccessControl::GuardSession(QuerySession& session, std::shared_ptr<const Principal> principal,
                                 std::string request_id, std::string client) const {
    // Auth off without an audit sink: only the quotas are checked (no per-statement records).
    const bool checks_access = enabled() || auditing();
    if (!checks_access && quotas_ == nullptr) {
        return;
    }
    session.set_statement_guard([this, checks_access, principal = std::move(principal),
                                 request_id = std::move(request_id),
                                 client = std::move(client)](const StatementAccess& access) {
        const CallInfo info{request_id, client};
        const AccessRule* rule = FindStatementRule(access.kind);
        const std::string_view tenant =
            access.tenant.empty() ? kDefaultTenant : std::string_view(access.tenant);
        const std::string_view target = access.collections.empty()
                                            ? std::string_view(access.target)
                                            : std::string_view(access.collections.front());
        if (checks_access) {
            const std::string what =
                "statement kind '" + std::string(StatementKindName(access.kind)) + "'";
            if (rule == nullptr || access.collections.empty()) {
                PHENIX_RETURN_IF_ERROR(Authorize(*principal, rule, what, access.tenant, {}, info));
            } else {
                for (const std::string& collection : access.collections) {
                    PHENIX_RETURN_IF_ERROR(
                        Authorize(*principal, rule, what, access.tenant, collection, info));
                }
            }
            if (access.all_tenants) {
                // Reaches every tenant (SHOW TENANTS, VERIFY of everything): cluster
                // administration.
                static constexpr AccessRule kClusterRule{kAdmin, kCluster, "cluster"};
                PHENIX_RETURN_IF_ERROR(
                    Authorize(*principal, &kClusterRule, what, access.tenant, {}, info));
            }
        }
        // Tenant quotas (server/quota.h): statements that add entities or data.
        if (quotas_ != nullptr &&
            (access.adds_entities > 0 || access.kind == StatementKind::kUpdate)) {
            Status within =
                quotas_->CheckWrite(tenant, access.adds_entities, QuotaEnforcer::Clock::now());
            if (!within.ok()) {
                if (auditing()) {
                    Audit(principal.get(), tenant,
                          rule != nullptr ? rule->action : StatementKindName(access.kind), target,
                          "denied", within.message(), info);
                }
                return within;
            }
        }
        if (checks_access && rule->permission != kRead) {
            Audit(principal.get(), tenant, rule->action, target, "ok", {}, info);
        }
        return Status::Ok();
    });
}

std::string AccessControl::OwnerKey(const Principal& principal) const {
    if (!enabled()) {
        return {};
    }
    // Method, tenant and subject: the same subject under another tenant is another owner.
    std::string key;
    key += std::to_string(static_cast<int>(principal.method));
    key += '\n';
    key += principal.tenant;
    key += '\n';
    key += principal.subject;
    return key;
}

}  // namespace phenix::server
