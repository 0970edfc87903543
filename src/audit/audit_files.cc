// SPDX-License-Identifier: Apache-2.0
#include "audit/audit_files.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace phenix::audit {

std::string AuditFileName(std::uint64_t number) {
    char name[48];
    std::snprintf(name, sizeof(name), "audit-%06llu.jsonl",
                  static_cast<unsigned long long>(number));
    return name;
}

Result<std::vector<AuditFile>> ListAuditFiles(const std::string& dir) {
    constexpr std::string_view kPrefix = "audit-";
    constexpr std::string_view kSuffix = ".jsonl";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        return Status::NotFound("audit directory " + dir + " does not exist");
    }
    std::vector<AuditFile> files;
    std::filesystem::directory_iterator entries(dir, ec);
    if (ec) {
        return Status::IOError("cannot list audit directory " + dir + ": " + ec.message());
    }
    for (const auto& entry : entries) {
        const std::string name = entry.path().filename().string();
        const std::string_view view = name;
        if (!view.starts_with(kPrefix) || !view.ends_with(kSuffix) ||
            view.size() < kPrefix.size() + 6 + kSuffix.size()) {
            continue;
        }
        const std::string_view digits =
            view.substr(kPrefix.size(), view.size() - kPrefix.size() - kSuffix.size());
        std::uint64_t number = 0;
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), number);
        if (error != std::errc() || end != digits.data() + digits.size() || number == 0 ||
            AuditFileName(number) != name) {
            continue;
        }
        files.push_back({.number = number, .name = name, .path = dir + "/" + name});
    }
    std::sort(files.begin(), files.end(),
              [](const AuditFile& a, const AuditFile& b) { return a.number < b.number; });
    return files;
}

}  // namespace phenix::audit
