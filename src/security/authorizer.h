// SPDX-License-Identifier: Apache-2.0
//
// Authorizer: does a Principal hold a Permission on a Resource? The server's enforcement point
// (the only caller) asks before a route, gRPC method or PhenixQL statement touches the engine.
//
// The rules every implementation keeps:
//   - a principal acts only in its own tenant (resource.tenant == principal.tenant), except a
//     cluster administrator (Principal::IsClusterAdmin), who holds every permission everywhere;
//   - the built-in roles apply to the whole tenant: admin = read, write, schema, admin;
//     writer = read, write; reader = read;
//   - a denial is Status::PermissionDenied whose message names the missing permission and the
//     resource ("permission 'write' on collection 'docs' is required"), never another tenant's
//     names. A resource of another tenant is denied with the same text as a missing grant.
//
// BuiltinRoles implements exactly the built-in roles; an RBAC authorizer with custom roles and
// per-collection grants extends it.
//
// Thread safety: Check is called concurrently; implementations are thread-safe.
#pragma once

#include <phenix/status.h>

#include "security/principal.h"

namespace phenix::security {

class Authorizer {
  public:
    virtual ~Authorizer() = default;
    /// OK, or PermissionDenied (see above).
    [[nodiscard]] virtual Status Check(const Principal& principal, Permission permission,
                                       const Resource& resource) const = 0;
    /// OK when the principal holds some permission in `tenant`: on the tenant itself or on one
    /// of its collections. The entry check of routes whose statements are then checked one by
    /// one (POST /v1/query, transactions), so that a per-collection grant reaches PhenixQL.
    /// Else PermissionDenied (AnyPermissionDeniedStatus); another tenant reads the same.
    [[nodiscard]] virtual Status CheckAny(const Principal& principal,
                                          std::string_view tenant) const = 0;
};

/// The permissions the built-in role `role` grants in its tenant; empty for other names.
std::vector<Permission> BuiltinRolePermissions(std::string_view role);

/// The text of a denial: "permission 'write' on collection 'docs' is required".
Status PermissionDeniedStatus(Permission permission, const Resource& resource);
/// The text of a CheckAny denial: "a permission on tenant 'acme' or one of its collections is
/// required".
Status AnyPermissionDeniedStatus(std::string_view tenant);

class BuiltinRoles final : public Authorizer {
  public:
    [[nodiscard]] Status Check(const Principal& principal, Permission permission,
                               const Resource& resource) const override;
    [[nodiscard]] Status CheckAny(const Principal& principal,
                                  std::string_view tenant) const override;
};

}  // namespace phenix::security
