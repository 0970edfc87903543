// SPDX-License-Identifier: Apache-2.0
#include "testing/dir_snapshot.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace phenix::testing {

namespace fs = std::filesystem;

DirSnapshot SnapshotDir(const std::string& dir) {
    DirSnapshot snapshot;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
        const std::string name = fs::relative(entry.path(), dir).string();
        if (entry.is_directory()) {
            snapshot[name + "/"] = FileFacts{};
            continue;
        }
        if (!entry.is_regular_file()) {
            continue;
        }
        FileFacts facts;
        facts.size = entry.file_size();
        facts.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             entry.last_write_time().time_since_epoch())
                             .count();
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        facts.content_hash = std::hash<std::string>{}(content.str());
        snapshot[name] = facts;
    }
    return snapshot;
}

std::string DiffSnapshots(const DirSnapshot& before, const DirSnapshot& after) {
    std::ostringstream out;
    for (const auto& [name, facts] : after) {
        auto it = before.find(name);
        if (it == before.end()) {
            out << "  new: " << name << " (" << facts.size << " bytes)\n";
        } else if (!(it->second == facts)) {
            out << "  changed: " << name << " (" << it->second.size << " -> " << facts.size
                << " bytes" << (it->second.mtime_ns != facts.mtime_ns ? ", new mtime" : "")
                << (it->second.content_hash != facts.content_hash ? ", new content" : "") << ")\n";
        }
    }
    for (const auto& [name, facts] : before) {
        if (!after.contains(name)) {
            out << "  gone: " << name << "\n";
        }
    }
    return out.str();
}

}  // namespace phenix::testing
