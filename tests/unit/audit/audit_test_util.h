// SPDX-License-Identifier: Apache-2.0
//
// Helpers of the audit tests: write a log, read and rewrite its files line by line.
#pragma once

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/audit_log.h"

namespace phenix::audit::testing {

inline AuditOptions TestOptions(const std::string& dir) {
    return AuditOptions{.dir = dir,
                        .max_file_bytes = std::uint64_t{64} << 20,
                        .group_commit_interval = std::chrono::milliseconds(0),
                        .fsync = false,
                        .max_queued = 8192};
}

inline security::AuditEvent Event(std::uint64_t idx) {
    return security::AuditEvent{.time = std::chrono::system_clock::now(),
                                .principal = "alice",
                                .tenant = "acme",
                                .action = "entity.upsert",
                                .target = "docs/" + std::to_string(idx),
                                .outcome = "ok",
                                .reason = "",
                                .request_id = "req-" + std::to_string(idx),
                                .client = "127.0.0.1:4000"};
}

// Writes `count` events into a fresh log in `options.dir` and closes it.
inline void WriteLog(const AuditOptions& options, std::uint64_t count) {
    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (std::uint64_t idx = 1; idx <= count; ++idx) {
        (*log)->Record(Event(idx));
    }
    ASSERT_TRUE((*log)->Close().ok());
}

inline std::vector<std::string> ReadLines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
    }
    return lines;
}

inline void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (const std::string& line : lines) {
        out << line << '\n';
    }
}

inline std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace phenix::audit::testing
