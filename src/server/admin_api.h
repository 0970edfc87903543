// SPDX-License-Identifier: Apache-2.0
//
// The administration routes under /v1/admin (docs/server.md "Administration", decision 0017):
// tenants (cluster administrators only), API keys, custom roles and their grants (a tenant's
// administrators, in their tenant). The data lives in the security catalog
// (security/catalog.h); these handlers only parse, call it and render.
//
// Authorization is not done here: AdminRouteAccess() is the table of what each route needs,
// which the server's one enforcement point applies before a handler runs. The handlers only
// decide which tenant they act in (ActingTenant) and keep a non-cluster administrator inside its
// own tenant where a body could name another.
//
// Thread safety: handlers run concurrently on workers; the catalog is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/phenixql.h>

#include "security/catalog.h"
#include "security/principal.h"
#include "server/api.h"
#include "server/router.h"

namespace phenix::server {

/// One /v1/admin route's requirement: `permission` on the acting tenant, or — cluster_only — on
/// kClusterTenant, which only cluster administrators hold (creating, listing, deleting tenants).
struct AdminRouteAccess {
    std::string_view method;
    std::string_view pattern;
    security::Permission permission;
    bool cluster_only;
};

/// The principal a request acts as (the authenticated one; auth off: Principal::Local()).
security::Principal CallerOf(const HttpRequest& request, const RequestContext& context);

/// Every /v1/admin route and what it needs (the access table's admin rows).
const std::vector<AdminRouteAccess>& AdminRouteAccessTable();

/// Adds the /v1/admin routes.
void RegisterAdminRoutes(Router& router, ApiState& state);

/// The PhenixQL security statements (CREATE ROLE, GRANT, CREATE API KEY, SHOW ROLES, ...) of a
/// session acting as `caller`: the same catalog calls as the routes above.
std::shared_ptr<SecurityAdmin> MakeSecurityAdmin(Database& db, security::SecurityCatalog& catalog,
                                                 security::Principal caller);

/// The OpenAPI operation objects of the /v1/admin routes ("METHOD pattern" -> JSON).
const std::map<std::string, std::string_view, std::less<>>& AdminOperations();

}  // namespace phenix::server
