// SPDX-License-Identifier: Apache-2.0
//
// DirSnapshot — every file under a directory with its size, modification time and a hash of its
// content, so that a test can assert that something wrote nothing there ("byte-identical").
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace phenix::testing {

struct FileFacts {
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    std::size_t content_hash = 0;
    bool operator==(const FileFacts&) const = default;
};

// Relative path -> facts, for every regular file under `dir` (recursively). Directories are
// listed too (with zero facts), so that a created empty folder shows up.
using DirSnapshot = std::map<std::string, FileFacts>;
DirSnapshot SnapshotDir(const std::string& dir);

// What differs between two snapshots ("" when they are equal), one line per file.
std::string DiffSnapshots(const DirSnapshot& before, const DirSnapshot& after);

}  // namespace phenix::testing
