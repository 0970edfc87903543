// SPDX-License-Identifier: Apache-2.0
#include "security/authorizer.h"

#include <algorithm>
#include <string>

namespace phenix::security {

std::vector<Permission> BuiltinRolePermissions(std::string_view role) {
    if (role == kRoleAdmin) {
        return {Permission::kRead, Permission::kWrite, Permission::kSchema, Permission::kAdmin};
    }
    if (role == kRoleWriter) {
        return {Permission::kRead, Permission::kWrite};
    }
    if (role == kRoleReader) {
        return {Permission::kRead};
    }
    return {};
}

Status PermissionDeniedStatus(Permission permission, const Resource& resource) {
    std::string message = "permission '" + std::string(PermissionName(permission)) + "' on ";
    message += resource.collection.empty() ? "tenant '" + resource.tenant + "'"
                                           : "collection '" + resource.collection + "'";
    message += " is required";
    return Status::PermissionDenied(std::move(message));
}

Status AnyPermissionDeniedStatus(std::string_view tenant) {
    return Status::PermissionDenied("a permission on tenant '" + std::string(tenant) +
                                    "' or one of its collections is required");
}

Status BuiltinRoles::CheckAny(const Principal& principal, std::string_view tenant) const {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    if (principal.tenant == tenant) {
        for (const std::string& role : principal.roles) {
            if (!BuiltinRolePermissions(role).empty()) {
                return Status::Ok();
            }
        }
    }
    return AnyPermissionDeniedStatus(tenant);
}

Status BuiltinRoles::Check(const Principal& principal, Permission permission,
                           const Resource& resource) const {
    if (principal.IsClusterAdmin()) {
        return Status::Ok();
    }
    if (principal.tenant != resource.tenant) {
        return PermissionDeniedStatus(permission, resource);
    }
    for (const std::string& role : principal.roles) {
        const std::vector<Permission> granted = BuiltinRolePermissions(role);
        if (std::find(granted.begin(), granted.end(), permission) != granted.end()) {
            return Status::Ok();
        }
    }
    return PermissionDeniedStatus(permission, resource);
}

}  // namespace phenix::security
