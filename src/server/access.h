// SPDX-License-Identifier: Apache-2.0
//
// The server's one enforcement point (docs/security.md, decision 0016): who a request is
// (authentication), which tenant it acts in, and whether it may do what it asks (authorization),
// decided once per request, gRPC call and PhenixQL statement before the engine is touched. No
// handler checks its own permissions.
//
// The permission tables below map EVERY REST route, gRPC method and PhenixQL statement kind to
// (Permission, scope). A route, method or statement kind missing from its table is refused
// (fail closed): a new route answers 403 until it is mapped here, and a unit test fails first.
//
// AccessControl holds the Authenticator (null: auth off), the Authorizer and the AuditSink.
// With auth off every request's principal is Principal::Local() (a cluster administrator) and
// nothing else is asked: one branch on the request path.
//
// Thread-safe: immutable after construction (the authenticator, authorizer and sink are
// thread-safe themselves).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <phenix/phenixql.h>
#include <phenix/result.h>
#include <phenix/status.h>

#include "security/audit_sink.h"
#include "security/authenticator.h"
#include "security/authorizer.h"
#include "security/principal.h"

namespace phenix::server {

class QuotaEnforcer;

/// What a rule's permission is checked on.
enum class AccessScope : std::uint8_t {
    kOpen,        ///< nothing: no credential needed (/health, /ready, /openapi.json, gRPC Health)
    kTenant,      ///< the request's tenant
    kCollection,  ///< a collection of the request's tenant (the route's {name}, the message's)
    kCluster,     ///< the whole server (tenant kClusterTenant): cluster administrators only
    /// Any permission in the request's tenant, on the tenant or on one of its collections
    /// (Authorizer::CheckAny): the entry of routes whose statements are checked one by one
    /// (POST /v1/query, transactions), so a per-collection grant reaches PhenixQL. The rule's
    /// permission only classifies it for the audit log (kRead: not a change).
    kTenantAny,
};

struct AccessRule {
    security::Permission permission = security::Permission::kAdmin;
    AccessScope scope = AccessScope::kCluster;
    std::string_view action;  ///< the audit action: "collection.create", "query", ...
};

struct RouteAccess {
    std::string_view method;   ///< "GET"
    std::string_view pattern;  ///< the router's pattern: "/v1/collections/{name}"
    AccessRule rule;
};

struct GrpcAccess {
    std::string_view method;  ///< the method of phenix.v1.Phenix: "CreateCollection"
    AccessRule rule;
};

struct StatementAccessRule {
    StatementKind kind;
    AccessRule rule;
};

std::span<const RouteAccess> RouteAccessTable();
std::span<const GrpcAccess> GrpcAccessTable();
std::span<const StatementAccessRule> StatementAccessTable();

/// The rule of a route, method or statement kind; null when the table does not list it (the
/// caller refuses the request).
const AccessRule* FindRouteRule(std::string_view method, std::string_view pattern);
const AccessRule* FindGrpcRule(std::string_view method);
const AccessRule* FindStatementRule(StatementKind kind);

/// "open", "tenant", "collection", "cluster".
std::string_view AccessScopeName(AccessScope scope);
/// The three tables as one JSON document ({"routes":[{"method","pattern","permission","scope"}],
/// "grpc":[{"method",...}], "statements":[{"kind",...}], "statement_kinds":[every kind]}):
/// `phenixd --print-access-table`, which the isolation test reads to know what to cover.
std::string AccessTableJson();

/// The prefix of API keys ("phx_..."): a bearer that starts with it goes to the API-key
/// authenticator, any other to the JWT one.
inline constexpr std::string_view kApiKeyPrefix = "phx_";

/// Routes a bearer by its form: API keys (kApiKeyPrefix) to `api_keys`, anything else to `jwt`;
/// no bearer but a verified client certificate to `client_certificates` (--tls-client-map). Any
/// may be null (that kind of credential is then refused). Thread-safe.
class CompositeAuthenticator final : public security::Authenticator {
  public:
    CompositeAuthenticator(std::unique_ptr<security::Authenticator> jwt,
                           std::unique_ptr<security::Authenticator> api_keys,
                           std::unique_ptr<security::Authenticator> client_certificates = nullptr);
    Result<security::Principal> Authenticate(const security::Credentials& credentials) override;

  private:
    const std::unique_ptr<security::Authenticator> jwt_;
    const std::unique_ptr<security::Authenticator> api_keys_;
    const std::unique_ptr<security::Authenticator> client_certificates_;
};

/// Who and where a request came from, for audit events.
struct CallInfo {
    std::string_view request_id;
    std::string_view client;
};

/// The generic texts clients get (the precise reason goes to the audit log only).
inline constexpr std::string_view kAuthenticationRequired = "authentication required";
inline constexpr std::string_view kInvalidCredentials = "invalid credentials";

class AccessControl {
  public:
    /// `authenticator` null: auth off. `authorizer` null: BuiltinRoles. `audit` null: none; else a
    /// borrowed sink (the server's audit log, a test's recorder) that must outlive this object.
    /// `quotas` null: no tenant quotas (else it must outlive this; server/quota.h).
    AccessControl(std::unique_ptr<security::Authenticator> authenticator,
                  std::unique_ptr<security::Authorizer> authorizer, security::AuditSink* audit,
                  QuotaEnforcer* quotas = nullptr);

    /// Whether requests are authenticated (auth jwt); false: every principal is Local().
    [[nodiscard]] bool enabled() const { return authenticator_ != nullptr; }
    /// Whether events are recorded (an audit sink was given): changes are audited then, with
    /// auth off too.
    [[nodiscard]] bool auditing() const { return auditing_; }
    /// The shared Principal::Local() of auth-off mode.
    [[nodiscard]] const std::shared_ptr<const security::Principal>& local() const { return local_; }

    /// The principal of a request whose Authorization header (gRPC: `authorization` metadata)
    /// is `authorization`. Auth off: Local(). Otherwise Unauthenticated with one of the two
    /// generic messages above; the audit event carries the precise reason. Without an
    /// Authorization, a verified client `certificate` (mutual TLS; null: none) authenticates
    /// when the authenticator maps it (--tls-client-map); a bearer always takes precedence.
    Result<std::shared_ptr<const security::Principal>> Authenticate(
        std::string_view authorization, const CallInfo& info,
        const security::ClientCertificate* certificate = nullptr) const;

    /// The tenant a request acts in: a cluster administrator's `requested` (Phenix-Tenant /
    /// phenix-tenant; empty: the default tenant), anyone else's own tenant. A non-administrator
    /// naming another tenant is PermissionDenied with a text that is the same whether that tenant
    /// exists or not (audited).
    Result<std::string> ResolveTenant(const security::Principal& principal,
                                      std::string_view requested, const CallInfo& info) const;

    /// Checks `rule` for `principal` on `collection` of `tenant` (by the rule's scope). Denials are
    /// PermissionDenied with the authorizer's message, and audited. `rule` null: denied (a
    /// route, method or statement kind the tables do not map).
    Status Authorize(const security::Principal& principal, const AccessRule* rule,
                     std::string_view what, std::string_view tenant, std::string_view collection,
                     const CallInfo& info) const;

    /// The tenant's and the principal's request-rate quotas (server/quota.h): ResourceExhausted
    /// (audited as a denial, action "quota.rate") with the wait in *retry_after_seconds. Cluster
    /// administrators are exempt (they must always be able to change a quota), so is every
    /// request with auth off. OK without quotas.
    Status AdmitRate(const security::Principal& principal, std::string_view tenant,
                     const CallInfo& info, std::uint32_t* retry_after_seconds) const;

    /// Installs the per-statement authorization on `session` (QuerySession::set_statement_guard):
    /// every statement is checked against StatementAccessTable before it runs; writes, schema
    /// and admin statements are audited; INSERT, UPDATE and COPY FROM are checked against the
    /// tenant's quotas (refusals audited as denials). No-op with auth off, no audit sink and no
    /// quotas.
    void GuardSession(QuerySession& session, std::shared_ptr<const security::Principal> principal,
                      std::string request_id, std::string client) const;

    /// The owner a transaction is bound to (TransactionRegistry's owner): empty with auth off.
    [[nodiscard]] std::string OwnerKey(const security::Principal& principal) const;

    /// Records an event (principal, tenant, action, target, outcome, reason...).
    void Audit(const security::Principal* principal, std::string_view tenant,
               std::string_view action, std::string_view target, std::string_view outcome,
               std::string_view reason, const CallInfo& info) const;

  private:
    const std::unique_ptr<security::Authenticator> authenticator_;
    const bool auditing_;
    const std::unique_ptr<security::Authorizer> authorizer_;
    security::AuditSink* const audit_;  // never null: a NullAuditSink when none was given
    const std::shared_ptr<const security::Principal> local_;
    QuotaEnforcer* const quotas_;
};

}  // namespace phenix::server
