// SPDX-License-Identifier: Apache-2.0
//
// `phenix audit verify DIR [--last-hash HASH]`: checks the hash chain of a phenixd audit log
// (audit/verify.h, docs/security.md "Audit log") without opening a database.
#pragma once

#include <string_view>
#include <vector>

namespace phenix::shell {

/// Runs `phenix audit ARGS...` (`args` are the words after "audit"). Prints "ok: N records in
/// M files, last hash H" and returns 0 for an intact log; prints the first broken record
/// ("broken: FILE line L (seq S): WHY") or the error on stderr and returns 1; 2 for bad usage.
int RunAuditCommand(const std::vector<std::string_view>& args);

}  // namespace phenix::shell
