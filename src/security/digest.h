// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 as lowercase hex: the security catalog's checksum line and the audit log's hash chain.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace phenix::security {

/// Lowercase hex SHA-256 of `bytes` (64 digits).
std::string Sha256Hex(std::string_view bytes);

}  // namespace phenix::security
