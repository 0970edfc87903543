// SPDX-License-Identifier: Apache-2.0
#include "security/principal.h"

#include <algorithm>

namespace phenix::security {

std::string_view PermissionName(Permission permission) {
    switch (permission) {
        case Permission::kRead:
            return "read";
        case Permission::kWrite:
            return "write";
        case Permission::kSchema:
            return "schema";
        case Permission::kAdmin:
            return "admin";
    }
    return "unknown";
}

std::optional<Permission> ParsePermission(std::string_view name) {
    for (Permission permission : kAllPermissions) {
        if (PermissionName(permission) == name) {
            return permission;
        }
    }
    return std::nullopt;
}

bool Principal::HasRole(std::string_view role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::IsClusterAdmin() const {
    return tenant == kClusterTenant && HasRole(kRoleAdmin);
}

Principal Principal::Local() {
    return Principal{.subject = "local",
                     .tenant = std::string(kClusterTenant),
                     .roles = {std::string(kRoleAdmin)},
                     .method = AuthMethod::kNone};
}

}  // namespace phenix::security
