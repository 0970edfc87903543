// SPDX-License-Identifier: Apache-2.0
//
// Who is asking and what they may do: the values the server's one enforcement point works with
// (docs/security.md). An Authenticator turns a credential into a Principal; an Authorizer decides
// whether a Principal holds a Permission on a Resource. Neither knows HTTP, gRPC or PhenixQL:
// the server maps each route, method and statement to (Permission, Resource) and asks once.
//
// Tenancy: a principal acts inside exactly one tenant, taken from its credential (a JWT's
// `tenant` claim, the tenant an API key was created in), never from the request. The one
// exception is a cluster administrator (tenant kClusterTenant with role "admin"), who manages
// tenants and may name a tenant per request.
//
// Thread-compatible values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phenix::security {

/// The permissions a role grants. Closed set; PermissionName gives the wire name.
enum class Permission : std::uint8_t {
    kRead,    ///< get, search, query, traverse, explain
    kWrite,   ///< upsert, patch, delete entities and edges, import
    kSchema,  ///< create/drop collections and indexes
    kAdmin,   ///< tenant administration: API keys, roles, grants, tenant settings
};
inline constexpr Permission kAllPermissions[] = {Permission::kRead, Permission::kWrite,
                                                 Permission::kSchema, Permission::kAdmin};

/// "read", "write", "schema", "admin".
std::string_view PermissionName(Permission permission);
/// The inverse of PermissionName; nullopt for an unknown name.
std::optional<Permission> ParsePermission(std::string_view name);

/// The built-in roles (apply to the principal's whole tenant).
inline constexpr std::string_view kRoleAdmin = "admin";    ///< read, write, schema, admin
inline constexpr std::string_view kRoleWriter = "writer";  ///< read, write
inline constexpr std::string_view kRoleReader = "reader";  ///< read

/// The pseudo-tenant of cluster administrators: a principal of this tenant with role "admin"
/// may create and delete tenants and act in any tenant. Not a tenant name the engine accepts.
inline constexpr std::string_view kClusterTenant = "*";

enum class AuthMethod : std::uint8_t {
    kNone,               ///< auth off (development mode): the local, all-powerful principal
    kJwt,                ///< a bearer JWT
    kApiKey,             ///< a bearer API key
    kClientCertificate,  ///< a verified client certificate mapped by --tls-client-map
};

struct Principal {
    std::string subject;  ///< JWT `sub`, the API key's id, or "local" with auth off
    std::string tenant;   ///< the tenant it acts in (kClusterTenant for cluster administrators)
    std::vector<std::string> roles;
    AuthMethod method = AuthMethod::kNone;

    [[nodiscard]] bool HasRole(std::string_view role) const;
    /// Tenant kClusterTenant and role "admin".
    [[nodiscard]] bool IsClusterAdmin() const;

    /// The principal of auth-off mode: a cluster administrator named "local".
    static Principal Local();
};

/// What a permission is checked on: a whole tenant (collection empty) or one collection in it.
struct Resource {
    std::string tenant;
    std::string collection;  ///< empty: the tenant itself

    static Resource Tenant(std::string tenant) { return {std::move(tenant), {}}; }
    static Resource Collection(std::string tenant, std::string collection) {
        return {std::move(tenant), std::move(collection)};
    }
};

}  // namespace phenix::security
