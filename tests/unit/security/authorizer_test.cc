// SPDX-License-Identifier: Apache-2.0
#include "security/authorizer.h"

#include <gtest/gtest.h>

namespace phenix::security {
namespace {

Principal Make(std::string tenant, std::vector<std::string> roles) {
    return Principal{.subject = "svc",
                     .tenant = std::move(tenant),
                     .roles = std::move(roles),
                     .method = AuthMethod::kJwt};
}

TEST(BuiltinRoles, RolesGrantTheirPermissionsInTheirTenantOnly) {
    const BuiltinRoles authorizer;
    const Resource docs = Resource::Collection("acme", "docs");
    const struct {
        const char* role;
        bool read, write, schema, admin;
    } cases[] = {{"admin", true, true, true, true},
                 {"writer", true, true, false, false},
                 {"reader", true, false, false, false},
                 {"custom", false, false, false, false}};
    for (const auto& c : cases) {
        const Principal principal = Make("acme", {c.role});
        const bool expected[] = {c.read, c.write, c.schema, c.admin};
        for (std::size_t i = 0; i < 4; ++i) {
            const Permission permission = kAllPermissions[i];
            EXPECT_EQ(authorizer.Check(principal, permission, docs).ok(), expected[i])
                << c.role << " " << PermissionName(permission);
            // Another tenant: always denied, with the same text as a missing grant.
            const Status other =
                authorizer.Check(principal, permission, Resource::Collection("globex", "docs"));
            EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
        }
    }
}

TEST(BuiltinRoles, DenialNamesThePermissionAndResource) {
    const Status denied = BuiltinRoles().Check(Make("acme", {"reader"}), Permission::kWrite,
                                               Resource::Collection("acme", "docs"));
    ASSERT_EQ(denied.code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(denied.message(), "permission 'write' on collection 'docs' is required");
    const Status tenant_denied = BuiltinRoles().Check(Make("acme", {"writer"}), Permission::kSchema,
                                                      Resource::Tenant("acme"));
    EXPECT_EQ(tenant_denied.message(), "permission 'schema' on tenant 'acme' is required");
}

TEST(BuiltinRoles, ClusterAdminAndLocalHoldEverything) {
    const BuiltinRoles authorizer;
    for (const Principal& principal : {Principal::Local(), Make("*", {"admin"})}) {
        ASSERT_TRUE(principal.IsClusterAdmin());
        for (Permission permission : kAllPermissions) {
            EXPECT_TRUE(authorizer.Check(principal, permission, Resource::Tenant("any")).ok());
        }
    }
    // The cluster tenant without the admin role is nothing special.
    EXPECT_FALSE(Make("*", {"reader"}).IsClusterAdmin());
    EXPECT_FALSE(
        authorizer.Check(Make("*", {"reader"}), Permission::kRead, Resource::Tenant("acme")).ok());
}

TEST(Permission, NamesRoundTrip) {
    for (Permission permission : kAllPermissions) {
        EXPECT_EQ(ParsePermission(PermissionName(permission)), permission);
    }
    EXPECT_EQ(ParsePermission("root"), std::nullopt);
}

}  // namespace
}  // namespace phenix::security
