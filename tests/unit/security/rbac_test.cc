// SPDX-License-Identifier: Apache-2.0
//
// The RBAC matrix at the authorizer level, generated: every role shape (the built-in roles, and a
// custom role per grant shape: defined WITH PERMISSIONS p, granted p ON TENANT, granted p ON
// docs) × every permission × every resource kind (the tenant, the granted collection, another
// collection, another tenant's tenant and collection). The expectation comes from the shape's
// description, not from the authorizer's code. tests/integration/server/rbac_matrix_test.py runs
// the same generation end to end through phenixd (REST and PhenixQL).
#include "security/rbac.h"

#include <gtest/gtest.h>

namespace phenix::security {
namespace {

enum class Scope { kTenant, kCollection };

struct RoleShape {
    std::string role;
    std::vector<Permission> permissions;  // what it holds
    Scope scope = Scope::kTenant;         // where
};

struct ResourceShape {
    std::string name;
    Resource resource;
    bool own_tenant;
    bool granted_collection;  // the collection per-collection grants name
};

const std::vector<ResourceShape>& Resources() {
    static const std::vector<ResourceShape> resources = {
        {"tenant", Resource::Tenant("acme"), true, false},
        {"granted collection", Resource::Collection("acme", "docs"), true, true},
        {"other collection", Resource::Collection("acme", "other"), true, false},
        {"other tenant", Resource::Tenant("beta"), false, false},
        {"other tenant's collection", Resource::Collection("beta", "docs"), false, true},
    };
    return resources;
}

// The catalog holds, in tenants acme and beta alike, one custom role per (shape, permission).
std::vector<RoleShape> Shapes(SecurityCatalog& catalog) {
    std::vector<RoleShape> shapes;
    for (std::string_view role : {kRoleAdmin, kRoleWriter, kRoleReader}) {
        shapes.push_back({std::string(role), BuiltinRolePermissions(role), Scope::kTenant});
    }
    for (Permission p : kAllPermissions) {
        const std::string name(PermissionName(p));
        for (std::string tenant : {"acme", "beta"}) {
            EXPECT_TRUE(catalog.CreateRole(tenant, "def_" + name, {p}, 0).ok());
            EXPECT_TRUE(catalog.CreateRole(tenant, "tw_" + name, {}, 0).ok());
            EXPECT_TRUE(catalog.Grant(tenant, "tw_" + name, p, "").ok());
            EXPECT_TRUE(catalog.CreateRole(tenant, "col_" + name, {}, 0).ok());
            EXPECT_TRUE(catalog.Grant(tenant, "col_" + name, p, "docs").ok());
        }
        shapes.push_back({"def_" + name, {p}, Scope::kTenant});
        shapes.push_back({"tw_" + name, {p}, Scope::kTenant});
        shapes.push_back({"col_" + name, {p}, Scope::kCollection});
    }
    shapes.push_back({"no_such_role", {}, Scope::kTenant});
    return shapes;
}

bool Expected(const RoleShape& shape, Permission permission, const ResourceShape& resource) {
    const bool holds = std::find(shape.permissions.begin(), shape.permissions.end(), permission) !=
                       shape.permissions.end();
    const bool covers = shape.scope == Scope::kTenant || resource.granted_collection;
    return holds && covers && resource.own_tenant;
}

TEST(RbacAuthorizer, GeneratedMatrix) {
    auto catalog = SecurityCatalog::Open("");
    ASSERT_TRUE(catalog.ok());
    const RbacAuthorizer authorizer(**catalog);
    const std::vector<RoleShape> shapes = Shapes(**catalog);
    int allowed = 0;
    int denied = 0;
    for (const RoleShape& shape : shapes) {
        const Principal principal{.subject = "s", .tenant = "acme", .roles = {shape.role}};
        for (Permission permission : kAllPermissions) {
            for (const ResourceShape& resource : Resources()) {
                const Status status = authorizer.Check(principal, permission, resource.resource);
                const bool expected = Expected(shape, permission, resource);
                SCOPED_TRACE(shape.role + " " + std::string(PermissionName(permission)) + " on " +
                             resource.name);
                if (expected) {
                    EXPECT_TRUE(status.ok()) << status.ToString();
                    ++allowed;
                } else {
                    ASSERT_EQ(status.code(), StatusCode::kPermissionDenied);
                    EXPECT_EQ(status.message(),
                              PermissionDeniedStatus(permission, resource.resource).message());
                    ++denied;
                }
            }
        }
    }
    EXPECT_GT(allowed, 0);
    EXPECT_GT(denied, 0);
    // A per-collection grant reaches exactly one collection, not the tenant.
    const Principal col{.subject = "s", .tenant = "acme", .roles = {"col_write"}};
    EXPECT_TRUE(
        authorizer.Check(col, Permission::kWrite, Resource::Collection("acme", "docs")).ok());
    EXPECT_EQ(authorizer.Check(col, Permission::kWrite, Resource::Tenant("acme")).message(),
              "permission 'write' on tenant 'acme' is required");
}

// CheckAny (the entry of POST /v1/query and transactions): every shape that holds anything in
// its own tenant, a per-collection grant included, and nothing in another tenant.
TEST(RbacAuthorizer, CheckAnyAdmitsEveryShapeHoldingSomethingInItsOwnTenant) {
    auto catalog = SecurityCatalog::Open("");
    ASSERT_TRUE(catalog.ok());
    const RbacAuthorizer authorizer(**catalog);
    ASSERT_TRUE((*catalog)->CreateRole("acme", "bare", {}, 0).ok());
    // A grant of another role and one of the same name in another tenant give "bare" nothing.
    ASSERT_TRUE((*catalog)->CreateRole("beta", "bare", {Permission::kRead}, 0).ok());
    std::vector<RoleShape> shapes = Shapes(**catalog);
    shapes.push_back({"bare", {}, Scope::kTenant});
    int admitted = 0;
    for (const RoleShape& shape : shapes) {
        SCOPED_TRACE(shape.role);
        const Principal principal{.subject = "s", .tenant = "acme", .roles = {shape.role}};
        const Status own = authorizer.CheckAny(principal, "acme");
        if (shape.permissions.empty()) {
            EXPECT_EQ(own.message(),
                      "a permission on tenant 'acme' or one of its collections is required");
        } else {
            EXPECT_TRUE(own.ok()) << own.ToString();
            ++admitted;
        }
        const Status other = authorizer.CheckAny(principal, "beta");
        ASSERT_EQ(other.code(), StatusCode::kPermissionDenied);
        EXPECT_EQ(other.message(), AnyPermissionDeniedStatus("beta").message());
    }
    EXPECT_GT(admitted, 10);
    const Principal col{.subject = "s", .tenant = "acme", .roles = {"col_read"}};
    EXPECT_TRUE(authorizer.CheckAny(col, "acme").ok());
    ASSERT_TRUE((*catalog)->Revoke("acme", "col_read", Permission::kRead, "docs").ok());
    EXPECT_FALSE(authorizer.CheckAny(col, "acme").ok());
    const Principal cluster{.subject = "root", .tenant = "*", .roles = {"admin"}};
    EXPECT_TRUE(authorizer.CheckAny(cluster, "beta").ok());
    EXPECT_TRUE(
        BuiltinRoles().CheckAny(Principal{.tenant = "acme", .roles = {"reader"}}, "acme").ok());
    EXPECT_FALSE(BuiltinRoles().CheckAny(Principal{.tenant = "acme", .roles = {"x"}}, "acme").ok());
}

TEST(RbacAuthorizer, ClusterAdminActsEverywhereAndTheClusterTenantGrantsNothingElse) {
    auto catalog = SecurityCatalog::Open("");
    ASSERT_TRUE(catalog.ok());
    const RbacAuthorizer authorizer(**catalog);
    const Principal cluster{.subject = "root", .tenant = "*", .roles = {"admin"}};
    const Principal cluster_reader{.subject = "ro", .tenant = "*", .roles = {"reader"}};
    for (Permission permission : kAllPermissions) {
        for (const ResourceShape& resource : Resources()) {
            EXPECT_TRUE(authorizer.Check(cluster, permission, resource.resource).ok());
            EXPECT_FALSE(authorizer.Check(cluster_reader, permission, resource.resource).ok());
        }
    }
    EXPECT_TRUE(
        authorizer.Check(Principal::Local(), Permission::kAdmin, Resource::Tenant("x")).ok());
}

TEST(RbacAuthorizer, ChangesApplyToTheNextCheck) {
    auto catalog = SecurityCatalog::Open("");
    ASSERT_TRUE(catalog.ok());
    const RbacAuthorizer authorizer(**catalog);
    const Principal analyst{.subject = "s", .tenant = "acme", .roles = {"analyst"}};
    const Resource docs = Resource::Collection("acme", "docs");
    EXPECT_FALSE(authorizer.Check(analyst, Permission::kRead, docs).ok());
    ASSERT_TRUE((*catalog)->CreateRole("acme", "analyst", {}, 0).ok());
    EXPECT_FALSE(authorizer.Check(analyst, Permission::kRead, docs).ok());
    ASSERT_TRUE((*catalog)->Grant("acme", "analyst", Permission::kRead, "docs").ok());
    EXPECT_TRUE(authorizer.Check(analyst, Permission::kRead, docs).ok());
    ASSERT_TRUE((*catalog)->Revoke("acme", "analyst", Permission::kRead, "docs").ok());
    EXPECT_FALSE(authorizer.Check(analyst, Permission::kRead, docs).ok());
    ASSERT_TRUE((*catalog)->Grant("acme", "analyst", Permission::kRead, "").ok());
    EXPECT_TRUE(authorizer.Check(analyst, Permission::kRead, docs).ok());
    ASSERT_TRUE((*catalog)->DropRole("acme", "analyst").ok());
    EXPECT_FALSE(authorizer.Check(analyst, Permission::kRead, docs).ok());
}

}  // namespace
}  // namespace phenix::security
