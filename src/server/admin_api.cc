// SPDX-License-Identifier: Apache-2.0
#include "server/admin_api.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <optional>

#include <nlohmann/json.hpp>

#include <phenix/db.h>

#include "security/authorizer.h"
#include "security/catalog.h"
#include "server/errors.h"
#include "server/json_body.h"
#include "server/quota.h"

namespace phenix::server {
namespace {

using Json = nlohmann::json;
using json_body::ParseObject;
using security::Permission;
using security::Principal;

constexpr std::int64_t kMaxKeyLifetimeSeconds = 10LL * 366 * 24 * 3600;

HttpResponse JsonResponse(unsigned status, const Json& body) {
    HttpResponse response;
    response.status = status;
    response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    return response;
}

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The tenant a tenant-administration route acts in: the caller's own; a cluster administrator
// names it with Phenix-Tenant (absent: the default tenant).
std::string ActingTenant(const Principal& caller, const HttpRequest& request) {
    if (caller.IsClusterAdmin()) {
        return request.tenant.empty() ? std::string(kDefaultTenant) : request.tenant;
    }
    return caller.tenant;
}

// NotFound unless `tenant` exists (or is the cluster pseudo-tenant).
std::optional<HttpResponse> CheckTenantExists(ApiState& state, const std::string& tenant) {
    if (tenant == security::kClusterTenant || tenant == kDefaultTenant) {
        return std::nullopt;
    }
    auto tenants = state.db.load()->ListTenants();
    if (!tenants.ok()) {
        return ErrorResponse(tenants.status());
    }
    if (std::find(tenants->begin(), tenants->end(), tenant) == tenants->end()) {
        return ErrorResponse(Status::NotFound("tenant '" + tenant + "' does not exist"));
    }
    return std::nullopt;
}

std::optional<HttpResponse> Unready(ApiState& state) {
    if (state.db.load() == nullptr || state.security == nullptr) {
        return ErrorResponse(Status::Unavailable("the database is still opening; retry shortly"));
    }
    return std::nullopt;
}

std::optional<HttpResponse> PermissionsOf(const Json& json, std::vector<Permission>& out) {
    if (!json.is_array()) {
        return ErrorResponse(Status::InvalidArgument("'permissions' must be an array of names"));
    }
    for (const Json& item : json) {
        std::optional<Permission> permission;
        if (item.is_string()) {
            permission = security::ParsePermission(item.get<std::string>());
        }
        if (!permission) {
            return ErrorResponse(Status::InvalidArgument(
                "unknown permission " + item.dump() + " (expected: read, write, schema, admin)"));
        }
        out.push_back(*permission);
    }
    return std::nullopt;
}

Json PermissionsJson(const std::vector<Permission>& permissions) {
    Json out = Json::array();
    for (Permission permission : permissions) {
        out.push_back(std::string(security::PermissionName(permission)));
    }
    return out;
}

Json KeyJson(const security::ApiKeyRecord& key) {
    return Json{{"id", key.id},
                {"tenant", key.tenant},
                {"roles", key.roles},
                {"created_by", key.created_by},
                {"created_at_ms", key.created_ms},
                {"expires_at_ms", key.expires_ms == 0 ? Json() : Json(key.expires_ms)},
                {"revoked_at_ms", key.revoked_ms == 0 ? Json() : Json(key.revoked_ms)}};
}

Json GrantJson(const security::GrantRecord& grant) {
    return Json{{"role", grant.role},
                {"permission", std::string(security::PermissionName(grant.permission))},
                {"collection", grant.collection.empty() ? Json() : Json(grant.collection)}};
}

Json QuotaJson(const security::TenantQuota& quota) {
    auto limit = [](std::uint64_t value) { return value == 0 ? Json() : Json(value); };
    return Json{{"max_entities", limit(quota.max_entities)},
                {"max_bytes", limit(quota.max_bytes)},
                {"requests_per_second", limit(quota.requests_per_second)},
                {"principal_requests_per_second", limit(quota.principal_requests_per_second)}};
}

// ---------------------------------------------------------------- tenants

// Deletes an empty tenant, then its roles, grants and keys (decision 0017): the database first,
// so a tenant that still has collections keeps its security records.
Status DropTenant(Database& db, security::SecurityCatalog& catalog, const std::string& tenant) {
    PHENIX_RETURN_IF_ERROR(db.DropTenant(tenant));
    Status cleared = catalog.DropTenant(tenant);
    if (!cleared.ok()) {
        return Status(cleared.code(),
                      "tenant '" + tenant +
                          "' was dropped, but removing its roles, grants and API keys failed "
                          "(they apply again if the tenant is created again): " +
                          std::string(cleared.message()));
    }
    return Status::Ok();
}

HttpResponse HandleDropTenant(ApiState& state, const PathParams& params) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string& tenant = params.at("tenant");
    if (Status dropped = DropTenant(*state.db.load(), *state.security, tenant); !dropped.ok()) {
        return ErrorResponse(dropped);
    }
    return JsonResponse(200, Json{{"dropped", tenant}});
}

HttpResponse HandleCreateTenant(ApiState& state, const HttpRequest& request) {
    if (auto error = Unready(state)) {
        return *error;
    }
    Json body;
    if (auto error = ParseObject(request, body, {"name"}, false)) {
        return *error;
    }
    if (!body.contains("name") || !body["name"].is_string()) {
        return ErrorResponse(Status::InvalidArgument("'name' (a string) is required"));
    }
    const std::string name = body["name"].get<std::string>();
    if (Status created = state.db.load()->CreateTenant(name); !created.ok()) {
        return ErrorResponse(created);
    }
    return JsonResponse(201, Json{{"name", name}});
}

HttpResponse HandleListTenants(ApiState& state) {
    if (auto error = Unready(state)) {
        return *error;
    }
    auto tenants = state.db.load()->ListTenants();
    if (!tenants.ok()) {
        return ErrorResponse(tenants.status());
    }
    // The quotas of the tenants that have one (decision 0023).
    const auto snapshot = state.security->Snapshot();
    Json quotas = Json::object();
    for (const std::string& tenant : *tenants) {
        if (const security::TenantQuota* quota = snapshot->FindQuota(tenant)) {
            quotas[tenant] = QuotaJson(*quota);
        }
    }
    return JsonResponse(200, Json{{"tenants", *tenants}, {"quotas", std::move(quotas)}});
}

// ---------------------------------------------------------------- quotas (decision 0023)

// {"tenant", "quota": {...}, "usage": {"entities", "approximate_bytes"}}.
HttpResponse QuotaResponse(ApiState& state, const std::string& tenant) {
    const auto snapshot = state.security->Snapshot();  // keeps `found` alive
    const security::TenantQuota* found = snapshot->FindQuota(tenant);
    const security::TenantQuota quota = found != nullptr ? *found : security::TenantQuota{};
    Json usage = Json::object();
    if (state.quotas != nullptr) {
        auto entities = state.quotas->Entities(tenant);
        if (!entities.ok()) {
            return ErrorResponse(entities.status());
        }
        auto bytes = state.quotas->ApproximateBytes(tenant, QuotaEnforcer::Clock::now());
        if (!bytes.ok()) {
            return ErrorResponse(bytes.status());
        }
        usage = Json{{"entities", *entities}, {"approximate_bytes", *bytes}};
    }
    return JsonResponse(200,
                        Json{{"tenant", tenant}, {"quota", QuotaJson(quota)}, {"usage", usage}});
}

HttpResponse HandleGetQuota(ApiState& state, const PathParams& params) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string& tenant = params.at("tenant");
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    return QuotaResponse(state, tenant);
}

HttpResponse HandlePutQuota(ApiState& state, const HttpRequest& request, const PathParams& params) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string& tenant = params.at("tenant");
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    Json body;
    if (auto error = ParseObject(
            request, body,
            {"max_entities", "max_bytes", "requests_per_second", "principal_requests_per_second"},
            true)) {
        return *error;
    }
    security::TenantQuota quota;
    for (const auto& [key, value] : body.items()) {
        // Integers only (3.0 is 3, as JSON Schema says); max_bytes also a size text ("10GB").
        std::string text;
        if (value.is_string()) {
            text = value.get<std::string>();
        } else if (const double number = value.is_number_float() ? value.get<double>() : -1;
                   std::trunc(number) == number && number >= 0 && number < 9.2e18) {
            text = std::to_string(static_cast<std::uint64_t>(number));
        } else if (!value.is_null()) {
            text = value.dump();
        }
        if (Status set = SetQuotaField(quota, key, text, value.is_string(), value.is_null());
            !set.ok()) {
            return ErrorResponse(set);
        }
    }
    if (Status set = state.security->SetQuota(tenant, quota); !set.ok()) {
        return ErrorResponse(set);
    }
    return QuotaResponse(state, tenant);
}

// ---------------------------------------------------------------- data-key rotation

Json KeyRotationJson(const KeyRotationInfo& info) {
    const auto or_null = [](const std::string& text) {
        return text.empty() ? Json(nullptr) : Json(text);
    };
    return Json{{"tenant", info.tenant},
                {"state", info.state},
                {"from_generation", info.from_generation},
                {"to_generation", info.to_generation},
                {"payloads_total", info.num_total},
                {"payloads_checked", info.num_checked},
                {"payloads_reencrypted", info.num_reencrypted},
                {"last_error", or_null(info.last_error)},
                {"last_error_at", or_null(info.last_error_at)}};
}

// GET: the progress of the tenant's latest rotation; POST: starts one (it runs in the
// background; GET follows it).
HttpResponse HandleKeyRotation(ApiState& state, const PathParams& params, bool start) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string& tenant = params.at("tenant");
    Database& db = *state.db.load();
    auto info = start ? db.RotateTenantKey(tenant) : db.GetKeyRotation(tenant);
    if (!info.ok()) {
        return ErrorResponse(info.status());
    }
    return JsonResponse(200, KeyRotationJson(*info));
}

// ---------------------------------------------------------------- API keys

HttpResponse HandleCreateKey(ApiState& state, const HttpRequest& request,
                             const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const Principal caller = CallerOf(request, context);
    Json body;
    if (auto error = ParseObject(request, body, {"roles", "expires_in_s", "tenant"}, false)) {
        return *error;
    }
    std::string tenant = ActingTenant(caller, request);
    if (body.contains("tenant")) {
        if (!body["tenant"].is_string()) {
            return ErrorResponse(Status::InvalidArgument("'tenant' must be a string"));
        }
        tenant = body["tenant"].get<std::string>();
        if (tenant != caller.tenant && !caller.IsClusterAdmin()) {
            return ErrorResponse(security::PermissionDeniedStatus(
                Permission::kAdmin, security::Resource::Tenant(tenant)));
        }
    }
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    if (!body.contains("roles") || !body["roles"].is_array()) {
        return ErrorResponse(
            Status::InvalidArgument("'roles' (an array of role names) is required"));
    }
    std::vector<std::string> roles;
    for (const Json& role : body["roles"]) {
        if (!role.is_string()) {
            return ErrorResponse(Status::InvalidArgument("'roles' must hold role names"));
        }
        roles.push_back(role.get<std::string>());
    }
    const std::int64_t now = NowMs();
    std::int64_t expires = 0;
    if (body.contains("expires_in_s") && !body["expires_in_s"].is_null()) {
        // JSON has one number type: an integral 3600.0 is an integer too (as JSON Schema says).
        const Json& seconds = body["expires_in_s"];
        const double value = seconds.is_number() ? seconds.get<double>() : 0.0;
        if (!seconds.is_number() || value < 1 ||
            value > static_cast<double>(kMaxKeyLifetimeSeconds) || std::trunc(value) != value) {
            return ErrorResponse(
                Status::InvalidArgument("'expires_in_s' must be an integer from 1 to " +
                                        std::to_string(kMaxKeyLifetimeSeconds)));
        }
        expires = now + static_cast<std::int64_t>(value) * 1000;
    }
    auto created = state.security->CreateApiKey(tenant, roles, expires, caller.subject, now);
    if (!created.ok()) {
        return ErrorResponse(created.status());
    }
    Json answer = KeyJson(created->record);
    answer["key"] = created->key;
    return JsonResponse(201, answer);
}

HttpResponse HandleListKeys(ApiState& state, const HttpRequest& request,
                            const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const Principal caller = CallerOf(request, context);
    const std::string tenant = ActingTenant(caller, request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    Json keys = Json::array();
    for (const auto& [id, key] : state.security->Snapshot()->keys) {
        if (key.tenant == tenant) {
            keys.push_back(KeyJson(key));
        }
    }
    return JsonResponse(200, Json{{"keys", std::move(keys)}});
}

HttpResponse HandleRevokeKey(ApiState& state, const HttpRequest& request, const PathParams& params,
                             const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const Principal caller = CallerOf(request, context);
    // A cluster administrator revokes any tenant's key by id; others only their tenant's.
    const std::string tenant = caller.IsClusterAdmin() ? std::string() : caller.tenant;
    const std::string& id = params.at("key_id");
    if (Status revoked = state.security->RevokeApiKey(tenant, id, NowMs()); !revoked.ok()) {
        return ErrorResponse(revoked);
    }
    return JsonResponse(200, Json{{"revoked", id}});
}

// ---------------------------------------------------------------- roles and grants

HttpResponse HandleListRoles(ApiState& state, const HttpRequest& request,
                             const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string tenant = ActingTenant(CallerOf(request, context), request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    const auto snapshot = state.security->Snapshot();
    Json roles = Json::array();
    for (std::string_view name :
         {security::kRoleAdmin, security::kRoleWriter, security::kRoleReader}) {
        roles.push_back(
            Json{{"name", std::string(name)},
                 {"builtin", true},
                 {"permissions", PermissionsJson(security::BuiltinRolePermissions(name))},
                 {"grants", Json::array()}});
    }
    for (const auto& [key, role] : snapshot->roles) {
        if (role.tenant != tenant) {
            continue;
        }
        Json grants = Json::array();
        for (const security::GrantRecord& grant : snapshot->grants) {
            if (grant.tenant == tenant && grant.role == role.name) {
                grants.push_back(GrantJson(grant));
            }
        }
        roles.push_back(Json{{"name", role.name},
                             {"builtin", false},
                             {"permissions", PermissionsJson(role.permissions)},
                             {"grants", std::move(grants)}});
    }
    return JsonResponse(200, Json{{"roles", std::move(roles)}});
}

HttpResponse HandleCreateRole(ApiState& state, const HttpRequest& request, const PathParams& params,
                              const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string tenant = ActingTenant(CallerOf(request, context), request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    Json body;
    if (auto error = ParseObject(request, body, {"permissions"}, true)) {
        return *error;
    }
    std::vector<Permission> permissions;
    if (body.contains("permissions")) {
        if (auto error = PermissionsOf(body["permissions"], permissions)) {
            return *error;
        }
    }
    const std::string& name = params.at("role");
    if (Status created = state.security->CreateRole(tenant, name, permissions, NowMs());
        !created.ok()) {
        return ErrorResponse(created);
    }
    const auto snapshot = state.security->Snapshot();  // keeps `role` alive
    const security::RoleRecord* role = snapshot->FindRole(tenant, name);
    return JsonResponse(
        201,
        Json{{"name", name},
             {"builtin", false},
             {"permissions", PermissionsJson(role != nullptr ? role->permissions : permissions)},
             {"grants", Json::array()}});
}

HttpResponse HandleDropRole(ApiState& state, const HttpRequest& request, const PathParams& params,
                            const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string tenant = ActingTenant(CallerOf(request, context), request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    const std::string& name = params.at("role");
    if (Status dropped = state.security->DropRole(tenant, name); !dropped.ok()) {
        return ErrorResponse(dropped);
    }
    return JsonResponse(200, Json{{"dropped", name}});
}

HttpResponse HandleGrant(ApiState& state, const HttpRequest& request, const PathParams& params,
                         const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string tenant = ActingTenant(CallerOf(request, context), request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    Json body;
    if (auto error = ParseObject(request, body, {"permission", "collection"}, false)) {
        return *error;
    }
    std::optional<Permission> permission;
    if (body.contains("permission") && body["permission"].is_string()) {
        permission = security::ParsePermission(body["permission"].get<std::string>());
    }
    if (!permission) {
        return ErrorResponse(
            Status::InvalidArgument("'permission' (read, write, schema or admin) is required"));
    }
    std::string collection;
    if (body.contains("collection") && !body["collection"].is_null()) {
        if (!body["collection"].is_string()) {
            return ErrorResponse(Status::InvalidArgument("'collection' must be a string or null"));
        }
        collection = body["collection"].get<std::string>();
    }
    const security::GrantRecord grant{.tenant = tenant,
                                      .role = params.at("role"),
                                      .permission = *permission,
                                      .collection = collection};
    if (Status granted = state.security->Grant(tenant, grant.role, *permission, collection);
        !granted.ok()) {
        return ErrorResponse(granted);
    }
    return JsonResponse(200, GrantJson(grant));
}

HttpResponse HandleRevokeGrant(ApiState& state, const HttpRequest& request,
                               const PathParams& params, const RequestContext& context) {
    if (auto error = Unready(state)) {
        return *error;
    }
    const std::string tenant = ActingTenant(CallerOf(request, context), request);
    if (auto error = CheckTenantExists(state, tenant)) {
        return *error;
    }
    const std::optional<Permission> permission = security::ParsePermission(params.at("permission"));
    if (!permission) {
        return ErrorResponse(Status::InvalidArgument("unknown permission '" +
                                                     params.at("permission") +
                                                     "' (expected: read, write, schema, admin)"));
    }
    std::string collection;
    if (auto it = request.query.find("collection"); it != request.query.end()) {
        collection = it->second;
    }
    const security::GrantRecord grant{.tenant = tenant,
                                      .role = params.at("role"),
                                      .permission = *permission,
                                      .collection = collection};
    if (Status revoked = state.security->Revoke(tenant, grant.role, *permission, collection);
        !revoked.ok()) {
        return ErrorResponse(revoked);
    }
    return JsonResponse(200, GrantJson(grant));
}

// ---------------------------------------------------------------- PhenixQL statements

class CatalogSecurityAdmin final : public SecurityAdmin {
  public:
    CatalogSecurityAdmin(Database& db, security::SecurityCatalog& catalog, Principal caller)
        : db_(db), catalog_(catalog), caller_(std::move(caller)) {}

    // SHOW TENANTS' quota columns (decision 0023's catalog lines).
    [[nodiscard]] TenantQuotaLimits QuotaOf(std::string_view tenant) const override {
        const auto snapshot = catalog_.Snapshot();  // keeps `quota` alive
        const security::TenantQuota* quota = snapshot->FindQuota(tenant);
        if (quota == nullptr) {
            return {};
        }
        return {.max_entities = quota->max_entities,
                .max_bytes = quota->max_bytes,
                .requests_per_second = quota->requests_per_second,
                .principal_requests_per_second = quota->principal_requests_per_second};
    }

    Result<QueryResult> Execute(std::string_view tenant_view,
                                const SecurityStatement& st) override {
        using Kind = SecurityStatement::Kind;
        const std::string tenant(tenant_view);
        std::vector<Permission> permissions;
        for (const std::string& name : st.permissions) {
            auto permission = security::ParsePermission(name);
            if (!permission) {
                return Status::InvalidArgument("unknown permission '" + name + "'");
            }
            permissions.push_back(*permission);
        }
        switch (st.kind) {
            case Kind::kCreateRole:
                PHENIX_RETURN_IF_ERROR(catalog_.CreateRole(tenant, st.role, permissions, NowMs()));
                return QueryResult{.message = "CREATE ROLE " + st.role};
            case Kind::kDropRole:
                PHENIX_RETURN_IF_ERROR(catalog_.DropRole(tenant, st.role));
                return QueryResult{.message = "DROP ROLE " + st.role};
            case Kind::kGrant:
                for (Permission permission : permissions) {
                    PHENIX_RETURN_IF_ERROR(
                        catalog_.Grant(tenant, st.role, permission, st.collection));
                }
                return QueryResult{.message = "GRANT"};
            case Kind::kRevoke:
                for (Permission permission : permissions) {
                    PHENIX_RETURN_IF_ERROR(
                        catalog_.Revoke(tenant, st.role, permission, st.collection));
                }
                return QueryResult{.message = "REVOKE"};
            case Kind::kCreateApiKey: {
                const std::int64_t now = NowMs();
                PHENIX_ASSIGN_OR_RETURN(
                    security::CreatedApiKey created,
                    catalog_.CreateApiKey(tenant, st.roles,
                                          st.expires_in_s == 0 ? 0 : now + st.expires_in_s * 1000,
                                          caller_.subject, now));
                QueryResult result{.has_rows = true,
                                   .columns = {"id", "key", "tenant", "roles", "expires_at_ms"}};
                result.rows.push_back(
                    {QueryValue::String(created.record.id), QueryValue::String(created.key),
                     QueryValue::String(created.record.tenant),
                     QueryValue::Json(Json(created.record.roles).dump()),
                     created.record.expires_ms == 0 ? QueryValue::Null()
                                                    : QueryValue::Int(created.record.expires_ms)});
                return result;
            }
            case Kind::kRevokeApiKey:
                PHENIX_RETURN_IF_ERROR(catalog_.RevokeApiKey(
                    caller_.IsClusterAdmin() ? std::string() : tenant, st.key_id, NowMs()));
                return QueryResult{.message = "REVOKE API KEY " + st.key_id};
            case Kind::kShowRoles:
            case Kind::kShowGrants:
            case Kind::kShowApiKeys:
                return Show(tenant, st.kind);
            case Kind::kDropTenant:
                PHENIX_RETURN_IF_ERROR(DropTenant(db_, catalog_, st.tenant));
                return QueryResult{.message = "DROP TENANT " + st.tenant};
            case Kind::kSetQuota:
                return SetQuota(st);
            case Kind::kRotateKey:
            case Kind::kShowKeyRotation:
                // QuerySession runs these on the database before any SecurityAdmin.
                return Status::Internal(
                    "data-key rotation statements are not security catalog "
                    "statements");
        }
        return Status::Internal("unknown security statement");
    }

  private:
    // ALTER TENANT t SET QUOTA (...): changes the named quotas, keeps the others.
    Result<QueryResult> SetQuota(const SecurityStatement& st) {
        PHENIX_ASSIGN_OR_RETURN(std::vector<std::string> tenants, db_.ListTenants());
        if (std::find(tenants.begin(), tenants.end(), st.tenant) == tenants.end()) {
            return Status::NotFound("tenant '" + st.tenant + "' does not exist");
        }
        const auto snapshot = catalog_.Snapshot();  // keeps `current` alive
        const security::TenantQuota* current = snapshot->FindQuota(st.tenant);
        security::TenantQuota quota = current != nullptr ? *current : security::TenantQuota{};
        for (const SecurityStatement::QuotaSetting& setting : st.quota) {
            PHENIX_RETURN_IF_ERROR(SetQuotaField(quota, setting.name, setting.value,
                                                 setting.is_text, setting.is_null));
        }
        PHENIX_RETURN_IF_ERROR(catalog_.SetQuota(st.tenant, quota));
        QueryResult result{.has_rows = true, .columns = {"tenant"}};
        for (std::string_view name : kQuotaNames) {
            result.columns.emplace_back(name);
        }
        auto limit = [](std::uint64_t value) {
            return value == 0 ? QueryValue::Null()
                              : QueryValue::Int(static_cast<std::int64_t>(value));
        };
        result.rows.push_back({QueryValue::String(st.tenant), limit(quota.max_entities),
                               limit(quota.max_bytes), limit(quota.requests_per_second),
                               limit(quota.principal_requests_per_second)});
        return result;
    }

    Result<QueryResult> Show(const std::string& tenant, SecurityStatement::Kind kind) const {
        using Kind = SecurityStatement::Kind;
        const auto snapshot = catalog_.Snapshot();
        QueryResult result{.has_rows = true};
        auto names = [](const std::vector<Permission>& permissions) {
            return QueryValue::Json(PermissionsJson(permissions).dump());
        };
        if (kind == Kind::kShowRoles) {
            result.columns = {"name", "builtin", "permissions"};
            for (std::string_view name :
                 {security::kRoleAdmin, security::kRoleWriter, security::kRoleReader}) {
                result.rows.push_back({QueryValue::String(std::string(name)),
                                       QueryValue::Bool(true),
                                       names(security::BuiltinRolePermissions(name))});
            }
            for (const auto& [key, role] : snapshot->roles) {
                if (role.tenant == tenant) {
                    result.rows.push_back({QueryValue::String(role.name), QueryValue::Bool(false),
                                           names(role.permissions)});
                }
            }
        } else if (kind == Kind::kShowGrants) {
            result.columns = {"role", "permission", "collection"};
            for (const security::GrantRecord& grant : snapshot->grants) {
                if (grant.tenant == tenant) {
                    result.rows.push_back(
                        {QueryValue::String(grant.role),
                         QueryValue::String(
                             std::string(security::PermissionName(grant.permission))),
                         grant.collection.empty() ? QueryValue::Null()
                                                  : QueryValue::String(grant.collection)});
                }
            }
        } else {
            result.columns = {
                "id", "roles", "created_by", "created_at_ms", "expires_at_ms", "revoked_at_ms"};
            for (const auto& [id, key] : snapshot->keys) {
                if (key.tenant == tenant) {
                    result.rows.push_back(
                        {QueryValue::String(key.id), QueryValue::Json(Json(key.roles).dump()),
                         QueryValue::String(key.created_by), QueryValue::Int(key.created_ms),
                         key.expires_ms == 0 ? QueryValue::Null() : QueryValue::Int(key.expires_ms),
                         key.revoked_ms == 0 ? QueryValue::Null()
                                             : QueryValue::Int(key.revoked_ms)});
                }
            }
        }
        return result;
    }

    Database& db_;
    security::SecurityCatalog& catalog_;
    const Principal caller_;
};

}  // namespace

// The principal the enforcement point authenticated (server/access.h); auth-off mode's local
// cluster administrator when none was set (unit tests that call handlers directly).
Principal CallerOf(const HttpRequest&, const RequestContext& context) {
    return context.principal != nullptr ? *context.principal : Principal::Local();
}

std::shared_ptr<SecurityAdmin> MakeSecurityAdmin(Database& db, security::SecurityCatalog& catalog,
                                                 security::Principal caller) {
    return std::make_shared<CatalogSecurityAdmin>(db, catalog, std::move(caller));
}

const std::vector<AdminRouteAccess>& AdminRouteAccessTable() {
    static const std::vector<AdminRouteAccess> table = {
        {"POST", "/v1/admin/tenants", Permission::kAdmin, true},
        {"GET", "/v1/admin/tenants", Permission::kAdmin, true},
        {"DELETE", "/v1/admin/tenants/{tenant}", Permission::kAdmin, true},
        {"GET", "/v1/admin/tenants/{tenant}/quota", Permission::kAdmin, true},
        {"PUT", "/v1/admin/tenants/{tenant}/quota", Permission::kAdmin, true},
        {"GET", "/v1/admin/tenants/{tenant}/key-rotation", Permission::kAdmin, true},
        {"POST", "/v1/admin/tenants/{tenant}/key-rotation", Permission::kAdmin, true},
        {"GET", "/v1/admin/keys", Permission::kAdmin, false},
        {"POST", "/v1/admin/keys", Permission::kAdmin, false},
        {"DELETE", "/v1/admin/keys/{key_id}", Permission::kAdmin, false},
        {"GET", "/v1/admin/roles", Permission::kAdmin, false},
        {"PUT", "/v1/admin/roles/{role}", Permission::kAdmin, false},
        {"DELETE", "/v1/admin/roles/{role}", Permission::kAdmin, false},
        {"POST", "/v1/admin/roles/{role}/grants", Permission::kAdmin, false},
        {"DELETE", "/v1/admin/roles/{role}/grants/{permission}", Permission::kAdmin, false},
    };
    return table;
}

void RegisterAdminRoutes(Router& router, ApiState& state) {
    ApiState* api = &state;
    router.Add("POST", "/v1/admin/tenants",
               [api](const HttpRequest& request, const PathParams&, RequestContext&) {
                   return HandleCreateTenant(*api, request);
               });
    router.Add("GET", "/v1/admin/tenants",
               [api](const HttpRequest&, const PathParams&, RequestContext&) {
                   return HandleListTenants(*api);
               });
    router.Add("DELETE", "/v1/admin/tenants/{tenant}",
               [api](const HttpRequest&, const PathParams& params, RequestContext&) {
                   return HandleDropTenant(*api, params);
               });
    router.Add("GET", "/v1/admin/tenants/{tenant}/quota",
               [api](const HttpRequest&, const PathParams& params, RequestContext&) {
                   return HandleGetQuota(*api, params);
               });
    router.Add("PUT", "/v1/admin/tenants/{tenant}/quota",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandlePutQuota(*api, request, params);
               });
    router.Add("GET", "/v1/admin/tenants/{tenant}/key-rotation",
               [api](const HttpRequest&, const PathParams& params, RequestContext&) {
                   return HandleKeyRotation(*api, params, /*start=*/false);
               });
    router.Add("POST", "/v1/admin/tenants/{tenant}/key-rotation",
               [api](const HttpRequest&, const PathParams& params, RequestContext&) {
                   return HandleKeyRotation(*api, params, /*start=*/true);
               });
    router.Add("GET", "/v1/admin/keys",
               [api](const HttpRequest& request, const PathParams&, RequestContext& context) {
                   return HandleListKeys(*api, request, context);
               });
    router.Add("POST", "/v1/admin/keys",
               [api](const HttpRequest& request, const PathParams&, RequestContext& context) {
                   return HandleCreateKey(*api, request, context);
               });
    router.Add(
        "DELETE", "/v1/admin/keys/{key_id}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleRevokeKey(*api, request, params, context);
        });
    router.Add("GET", "/v1/admin/roles",
               [api](const HttpRequest& request, const PathParams&, RequestContext& context) {
                   return HandleListRoles(*api, request, context);
               });
    router.Add(
        "PUT", "/v1/admin/roles/{role}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleCreateRole(*api, request, params, context);
        });
    router.Add(
        "DELETE", "/v1/admin/roles/{role}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleDropRole(*api, request, params, context);
        });
    router.Add(
        "POST", "/v1/admin/roles/{role}/grants",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleGrant(*api, request, params, context);
        });
    router.Add(
        "DELETE", "/v1/admin/roles/{role}/grants/{permission}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleRevokeGrant(*api, request, params, context);
        });
}

}  // namespace phenix::server

namespace phenix::server {

const std::map<std::string, std::string_view, std::less<>>& AdminOperations() {
    static const std::map<std::string, std::string_view, std::less<>> operations = {
        {"POST /v1/admin/tenants",
         R"json({"operationId": "createTenant",
         "summary": "create a tenant (cluster administrators)",
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"$ref": "#/components/schemas/CollectionName"}}, "examples": [{"name": "acme"}]}}}},
         "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}}}, "links": {"DropTenant": {"operationId": "dropTenant", "parameters": {"tenant": "$response.body#/name"}}, "SetTenantQuota": {"operationId": "setTenantQuota", "parameters": {"tenant": "$response.body#/name"}}, "GetTenantQuota": {"operationId": "getTenantQuota", "parameters": {"tenant": "$response.body#/name"}}}},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"GET /v1/admin/tenants",
         R"json({"operationId": "listTenants",
         "summary": "list tenants (cluster administrators)",
         "responses": {"200": {"description": "the tenants, and the quotas of those that have one", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["tenants", "quotas"], "properties": {"tenants": {"type": "array", "items": {"type": "string"}}, "quotas": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/TenantQuota"}}}}}}}}})json"},
        {"GET /v1/admin/tenants/{tenant}/quota",
         R"json({"operationId": "getTenantQuota",
         "summary": "a tenant's quotas and its current use (cluster administrators)",
         "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}}],
         "responses": {"200": {"description": "the quotas and the use", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantQuotaState"}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"PUT /v1/admin/tenants/{tenant}/quota",
         R"json({"operationId": "setTenantQuota",
         "summary": "set a tenant's quotas, replacing the previous ones (cluster administrators; absent, null or 0: no limit)",
         "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}}],
         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
             "max_entities": {"type": ["integer", "null"], "minimum": 0, "maximum": 9223372036854775807},
             "max_bytes": {"oneOf": [{"type": ["integer", "null"], "minimum": 0, "maximum": 9223372036854775807}, {"type": "string", "pattern": "^[0-9]{1,6} ?([KkMmGgTt][Ii]?[Bb]|[Bb])?$"}], "description": "bytes, or a size with a unit (powers of 1024): \"10GB\""},
             "requests_per_second": {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295},
             "principal_requests_per_second": {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295}},
           "examples": [{"max_entities": 1000000, "max_bytes": "10GB", "requests_per_second": 500, "principal_requests_per_second": 100}]}}}},
         "responses": {"200": {"description": "set", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantQuotaState"}}}, "links": {"GetTenantQuota": {"operationId": "getTenantQuota", "parameters": {"tenant": "$response.body#/tenant"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"GET /v1/admin/tenants/{tenant}/key-rotation",
         R"json({"operationId": "getKeyRotation",
         "summary": "the progress of the tenant's latest data-key rotation (cluster administrators; docs/security.md \"Data-key rotation\")",
         "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}}],
         "responses": {"200": {"description": "the rotation's state", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyRotation"}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"POST /v1/admin/tenants/{tenant}/key-rotation",
         R"json({"operationId": "rotateTenantKey",
         "summary": "rotate the tenant's data key: new writes use a new key at once, stored payloads are re-encrypted in the background, then the old key is destroyed (cluster administrators; needs encryption at rest)",
         "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}}],
         "responses": {"200": {"description": "started (state re-encrypting); GET follows it", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyRotation"}}}, "links": {"GetKeyRotation": {"operationId": "getKeyRotation", "parameters": {"tenant": "$response.body#/tenant"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "400": {"$ref": "#/components/responses/BadRequest"}}})json"},
        {"DELETE /v1/admin/tenants/{tenant}",
         R"json({"operationId": "dropTenant",
         "summary": "delete an empty tenant and its roles, grants and API keys (cluster administrators)",
         "parameters": [{"name": "tenant", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}}],
         "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"GET /v1/admin/keys",
         R"json({"operationId": "listApiKeys",
         "summary": "the tenant's API keys (never their secrets)",
         "parameters": [{"$ref": "#/components/parameters/tenant"}],
         "responses": {"200": {"description": "the keys", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"POST /v1/admin/keys",
         R"json({"operationId": "createApiKey",
         "summary": "create an API key; the answer's `key` is shown this once",
         "parameters": [{"$ref": "#/components/parameters/tenant"}],
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["roles"], "properties": {
             "roles": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "built-in (admin, writer, reader) or custom roles of the tenant"},
             "expires_in_s": {"type": ["integer", "null"], "minimum": 1, "maximum": 316224000},
             "tenant": {"type": "string", "description": "the key's tenant (cluster administrators; \"*\" makes a cluster administrator's key); absent: the acting tenant"}},
           "examples": [{"roles": ["reader"], "expires_in_s": 3600}]}}}},
         "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/ApiKey"}], "type": "object", "required": ["key"], "properties": {"key": {"type": "string", "pattern": "^phx_[0-9a-f]{16}_[0-9a-f]{64}$"}}}}}, "links": {"RevokeApiKey": {"operationId": "revokeApiKey", "parameters": {"key_id": "$response.body#/id"}}}},
           "403": {"$ref": "#/components/responses/Forbidden"},
           "404": {"$ref": "#/components/responses/NotFound"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"DELETE /v1/admin/keys/{key_id}",
         R"json({"operationId": "revokeApiKey",
         "summary": "revoke an API key (at once: its next request is 401)",
         "parameters": [{"name": "key_id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}],
         "responses": {"200": {"description": "revoked", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["revoked"], "properties": {"revoked": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"GET /v1/admin/roles",
         R"json({"operationId": "listRoles",
         "summary": "the built-in roles and the tenant's custom roles with their grants",
         "parameters": [{"$ref": "#/components/parameters/tenant"}],
         "responses": {"200": {"description": "the roles", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["roles"], "properties": {"roles": {"type": "array", "items": {"$ref": "#/components/schemas/Role"}}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"PUT /v1/admin/roles/{role}",
         R"json({"operationId": "createRole",
         "summary": "create a custom role, optionally with tenant-wide permissions",
         "parameters": [{"$ref": "#/components/parameters/role"}, {"$ref": "#/components/parameters/tenant"}],
         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"permissions": {"type": "array", "items": {"$ref": "#/components/schemas/Permission"}}}, "examples": [{"permissions": ["read"]}]}}}},
         "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Role"}}}, "links": {"Grant": {"operationId": "grant", "parameters": {"role": "$response.body#/name"}}, "DropRole": {"operationId": "dropRole", "parameters": {"role": "$response.body#/name"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"DELETE /v1/admin/roles/{role}",
         R"json({"operationId": "dropRole",
         "summary": "drop a custom role and its grants",
         "parameters": [{"$ref": "#/components/parameters/role"}, {"$ref": "#/components/parameters/tenant"}],
         "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"POST /v1/admin/roles/{role}/grants",
         R"json({"operationId": "grant",
         "summary": "grant a permission on a collection (or, without one, the whole tenant) to a custom role",
         "parameters": [{"$ref": "#/components/parameters/role"}, {"$ref": "#/components/parameters/tenant"}],
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["permission"], "properties": {"permission": {"$ref": "#/components/schemas/Permission"}, "collection": {"oneOf": [{"$ref": "#/components/schemas/CollectionName"}, {"type": "null"}]}}, "examples": [{"permission": "read", "collection": "docs"}]}}}},
         "responses": {"200": {"description": "granted (granting twice is no error)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Grant"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"DELETE /v1/admin/roles/{role}/grants/{permission}",
         R"json({"operationId": "revokeGrant",
         "summary": "revoke a grant",
         "parameters": [{"$ref": "#/components/parameters/role"}, {"name": "permission", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Permission"}},
           {"name": "collection", "in": "query", "required": false, "description": "the grant's collection; absent: the tenant-wide grant", "schema": {"$ref": "#/components/schemas/CollectionName"}},
           {"$ref": "#/components/parameters/tenant"}],
         "responses": {"200": {"description": "revoked", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Grant"}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
    };
    return operations;
}

}  // namespace phenix::server
