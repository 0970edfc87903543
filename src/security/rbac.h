// SPDX-License-Identifier: Apache-2.0
//
// RbacAuthorizer: the built-in roles (authorizer.h) plus tenants' custom roles and grants from the
// security catalog (catalog.h). A principal holds `permission` on `resource` when it is a cluster
// administrator, or when resource.tenant is its own tenant and one of its roles
//   - is a built-in role granting the permission (tenant-wide), or
//   - is a custom role of the tenant whose definition lists the permission (tenant-wide), or
//   - is a custom role holding a grant of the permission on the whole tenant, or on
//     resource.collection when the resource is a collection.
// A tenant-level resource (no collection: listing collections, tenant administration) needs the
// permission tenant-wide; a per-collection grant does not reach it. Denials use
// PermissionDeniedStatus, so another tenant's resource reads exactly like a missing grant.
//
// Thread safety: thread-safe; Check reads the catalog's current snapshot.
#pragma once

#include "security/authorizer.h"
#include "security/catalog.h"

namespace phenix::security {

/// The decision on one snapshot (RbacAuthorizer::Check on catalog.Snapshot()).
[[nodiscard]] Status CheckAccess(const CatalogData& data, const Principal& principal,
                                 Permission permission, const Resource& resource);
/// RbacAuthorizer::CheckAny on one snapshot: a built-in role, a custom role of the tenant whose
/// definition lists a permission, or one holding a grant (on the tenant or a collection).
[[nodiscard]] Status CheckAnyAccess(const CatalogData& data, const Principal& principal,
                                    std::string_view tenant);

class RbacAuthorizer final : public Authorizer {
  public:
    /// `catalog` must outlive the authorizer.
    explicit RbacAuthorizer(const SecurityCatalog& catalog) : catalog_(catalog) {}

    [[nodiscard]] Status Check(const Principal& principal, Permission permission,
                               const Resource& resource) const override;
    [[nodiscard]] Status CheckAny(const Principal& principal,
                                  std::string_view tenant) const override;

  private:
    const SecurityCatalog& catalog_;
};

}  // namespace phenix::security
