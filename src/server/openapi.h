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
/// description does not parse.
Result<std::string> OpenApiDocument(const Router& router);

}  // namespace phenix::server
