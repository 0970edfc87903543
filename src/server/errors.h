// SPDX-License-Identifier: Apache-2.0
//
// The one mapping from phenix::Status to the wire: HTTP status codes and the error body
//   {"error": {"code": "INVALID_ARGUMENT", "message": "...", "details"?: {...}}}
// (later gRPC status codes, from the same table). Query errors ("line L, column C: ...") get
// details {"line": L, "column": C}; conflicts (Aborted) get {"retryable": true}.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <phenix/status.h>

#include "common/json_string.h"  // JsonQuote, used with the error bodies
#include "server/http_types.h"

namespace phenix::server {

/// "INVALID_ARGUMENT", "NOT_FOUND", ... (the gRPC spelling of the code).
std::string_view ErrorCodeName(StatusCode code);

/// 400, 404, 409, ... for a non-OK code (200 for kOk).
unsigned HttpStatusFor(StatusCode code);

/// The error body for `status`. `extra_details` is JSON members text ("\"index\":3") merged
/// into "details"; empty for none.
std::string ErrorJson(const Status& status, std::string_view extra_details = {});

/// A JSON error response with the status's HTTP code, or `http_status` when non-zero.
HttpResponse ErrorResponse(const Status& status, unsigned http_status = 0,
                           std::string_view extra_details = {});

/// The "message" of an error body ErrorJson wrote; empty when `body` is not one.
std::string ErrorMessageOf(std::string_view body);

/// The string member `name` of the JSON object `body`; empty when absent or not a string.
std::string JsonStringMember(std::string_view body, std::string_view name);

/// Parses "line L, column C: ..." at the start of a query error message; false when it is not.
bool ParseLineColumn(std::string_view message, std::uint64_t& line, std::uint64_t& column);

}  // namespace phenix::server
