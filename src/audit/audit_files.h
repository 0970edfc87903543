// SPDX-License-Identifier: Apache-2.0
//
// The files of an audit directory: audit-000001.jsonl, audit-000002.jsonl, ... (at least six
// digits, numbered from 1 in the order they were written). Other names are ignored.
//
// Thread safety: pure functions over the file system.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <phenix/result.h>

namespace phenix::audit {

struct AuditFile {
    std::uint64_t number = 0;
    std::string name;  ///< "audit-000001.jsonl"
    std::string path;  ///< dir + "/" + name
};

/// "audit-000001.jsonl" for 1.
std::string AuditFileName(std::uint64_t number);

/// The audit files in `dir`, in number order. NotFound if `dir` does not exist, IOError if it
/// cannot be read.
Result<std::vector<AuditFile>> ListAuditFiles(const std::string& dir);

}  // namespace phenix::audit
