// SPDX-License-Identifier: Apache-2.0
#include "security/rbac.h"

#include <algorithm>

namespace phenix::security {

Status CheckAccess(const CatalogData& data, const Principal& principal, Permission permission,
                   const Resource& resource) {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    if (principal.tenant != resource.tenant) {
        return PermissionDeniedStatus(permission, resource);
    }
    for (const std::string& role : principal.roles) {
        if (IsBuiltinRole(role)) {
            const std::vector<Permission> granted = BuiltinRolePermissions(role);
            if (std::find(granted.begin(), granted.end(), permission) != granted.end()) {
                return Status::Ok();
            }
            continue;
        }
        const RoleRecord* custom = data.FindRole(resource.tenant, role);
        if (custom == nullptr) {
            continue;
        }
        if (std::find(custom->permissions.begin(), custom->permissions.end(), permission) !=
            custom->permissions.end()) {
            return Status::Ok();
        }
        GrantRecord grant{.tenant = resource.tenant, .role = role, .permission = permission};
        if (data.grants.contains(grant)) {
            return Status::Ok();
        }
        if (!resource.collection.empty()) {
            grant.collection = resource.collection;
            if (data.grants.contains(grant)) {
                return Status::Ok();
            }
        }
    }
    return PermissionDeniedStatus(permission, resource);
}

Status CheckAnyAccess(const CatalogData& data, const Principal& principal,
                      std::string_view tenant) {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    if (principal.tenant != tenant) {
        return AnyPermissionDeniedStatus(tenant);
    }
    for (const std::string& role : principal.roles) {
        if (IsBuiltinRole(role)) {
            if (!BuiltinRolePermissions(role).empty()) {
                return Status::Ok();
            }
            continue;
        }
        const RoleRecord* custom = data.FindRole(tenant, role);
        if (custom == nullptr) {
            continue;
        }
        if (!custom->permissions.empty()) {
            return Status::Ok();
        }
        // Grants are ordered by (tenant, role, ...): the first at or after (tenant, role).
        const auto grant = data.grants.lower_bound(GrantRecord{
            .tenant = std::string(tenant), .role = role, .permission = kAllPermissions[0]});
        if (grant != data.grants.end() && grant->tenant == tenant && grant->role == role) {
            return Status::Ok();
        }
    }
    return AnyPermissionDeniedStatus(tenant);
}

Status RbacAuthorizer::CheckAny(const Principal& principal, std::string_view tenant) const {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    return CheckAnyAccess(*catalog_.Snapshot(), principal, tenant);
}

Status RbacAuthorizer::Check(const Principal& principal, Permission permission,
                             const Resource& resource) const {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    return CheckAccess(*catalog_.Snapshot(), principal, permission, resource);
}

}  // namespace phenix::security
