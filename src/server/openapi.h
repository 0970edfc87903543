// SPDX-License-Identifier: Apache-2.0
//
// The OpenAPI 3.1 document of the REST API (GET /openapi.json), assembled from the router's
// routes and one operation description per route (openapi.cc). A route without a description
// makes OpenApiDocument fail, so the document cannot silently miss a route (checked by
// tests/unit/server/openapi_test.cc). Thread safety: pure functions.
#pragma once

#include <string>

#include <phenix/result.h>

#include "server/router.h"

namespace phenix::server {

/// The document for every route of `router`. Internal if a route has no description or a
/// description does not parse. components.securitySchemes always names the two credentials
/// (bearerJwt, apiKey: both `Authorization: Bearer ...`); with `auth_required` (--auth jwt) every
/// operation's `security` asks for one of them, except the open routes (the access table's
/// kOpen: /health, /ready, /openapi.json), whose `security` is empty. Without it (auth off) no
/// operation requires a credential, and none says so.
Result<std::string> OpenApiDocument(const Router& router, bool auth_required = false);

}  // namespace phenix::server
