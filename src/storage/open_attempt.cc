// SPDX-License-Identifier: Apache-2.0
#include "storage/open_attempt.h"

#include <cstdio>
#include <vector>

namespace phenix::storage {

namespace {

bool EndsWith(std::string_view name, std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

// Files a RocksDB open creates in its directory: table and blob files from replaying the log,
// logs, manifests, OPTIONS, CURRENT's temporary file, and the IDENTITY and LOCK files of a new
// database. (Not the info LOG: Phenix writes that itself, only after a successful open.)
bool IsRocksFile(std::string_view name) {
    return EndsWith(name, ".sst") || EndsWith(name, ".log") || EndsWith(name, ".blob") ||
           EndsWith(name, ".dbtmp") || name.starts_with("MANIFEST-") ||
           name.starts_with("OPTIONS-") || name == "IDENTITY" || name == "LOCK" ||
           name == "CURRENT";
}

}  // namespace

std::string FormatBytes(std::uint64_t bytes) {
    constexpr double kKiB = 1024.0;
    const double value = static_cast<double>(bytes);
    char buf[32];
    if (bytes < (std::uint64_t{1} << 20)) {
        std::snprintf(buf, sizeof(buf), "%.1f KiB", value / kKiB);
    } else if (bytes < (std::uint64_t{1} << 30)) {
        std::snprintf(buf, sizeof(buf), "%.1f MiB", value / (kKiB * kKiB));
    } else {
        std::snprintf(buf, sizeof(buf), "%.1f GiB", value / (kKiB * kKiB * kKiB));
    }
    return buf;
}

OpenAttempt OpenAttempt::Before(rocksdb::FileSystem* fs, std::string db_dir) {
    OpenAttempt attempt(fs, std::move(db_dir));
    const rocksdb::IOOptions io;
    std::vector<std::string> names;
    attempt.db_dir_existed_ = fs->GetChildren(attempt.db_dir_, io, &names, nullptr).ok();
    for (const std::string& name : names) {
        if (name == "." || name == "..") {
            continue;
        }
        std::uint64_t size = 0;
        if (!fs->GetFileSize(attempt.db_dir_ + "/" + name, io, &size, nullptr).ok()) {
            continue;  // a directory, or gone
        }
        attempt.files_[name] = size;
        if (EndsWith(name, ".log")) {
            attempt.wal_bytes_ += size;
        }
    }
    attempt.current_ = attempt.ReadCurrent();
    if (attempt.current_) {
        std::string manifest = *attempt.current_;
        while (!manifest.empty() && (manifest.back() == '\n' || manifest.back() == '\r')) {
            manifest.pop_back();
        }
        if (auto it = attempt.files_.find(manifest); it != attempt.files_.end()) {
            attempt.manifest_bytes_ = it->second;
        }
    }
    return attempt;
}

std::optional<std::string> OpenAttempt::ReadCurrent() const {
    std::string content;
    if (!rocksdb::ReadFileToString(fs_, db_dir_ + "/CURRENT", &content).ok()) {
        return std::nullopt;
    }
    return content;
}

std::uint64_t OpenAttempt::needed_bytes() const {
    return wal_bytes_ + manifest_bytes_ + kOpenHeadroomBytes;
}

std::optional<std::uint64_t> OpenAttempt::FreeBytes(const std::string& data_dir) const {
    std::uint64_t free_bytes = 0;
    if (!fs_->GetFreeSpace(data_dir, rocksdb::IOOptions(), &free_bytes, nullptr).ok()) {
        return std::nullopt;
    }
    return free_bytes;
}

std::string OpenAttempt::SpaceAdvice(const std::string& data_dir) const {
    const std::uint64_t needed = needed_bytes();
    const std::optional<std::uint64_t> free_bytes = FreeBytes(data_dir);
    std::string out;
    if (free_bytes) {
        out += FormatBytes(*free_bytes) + " free, ";
    }
    out += "about " + FormatBytes(needed) + " needed (" + FormatBytes(wal_bytes_) +
           " of write-ahead log to replay into table files, a " + FormatBytes(manifest_bytes_) +
           " manifest to rewrite, " + FormatBytes(kOpenHeadroomBytes) +
           " of headroom). Free at least " +
           FormatBytes(free_bytes && *free_bytes < needed ? needed - *free_bytes : needed) +
           " on the disk holding " + data_dir +
           " and retry, or open the database read-only (Options::read_only; the shell's "
           "--read-only) to read, verify and export it";
    return out;
}

Status OpenAttempt::CheckFreeSpace(const std::string& data_dir) const {
    const std::optional<std::uint64_t> free_bytes = FreeBytes(data_dir);
    if (!free_bytes || *free_bytes >= needed_bytes()) {
        return Status::Ok();  // unknown: let the open try (Undo cleans up a failure)
    }
    return Status::ResourceExhausted("not enough free disk space to open " + data_dir +
                                     " for writing: " + SpaceAdvice(data_dir) +
                                     ". Nothing in the directory was changed");
}

std::string OpenAttempt::Undo() const {
    const rocksdb::IOOptions io;
    if (ReadCurrent() != current_) {
        // The attempt installed a new manifest: the database's state moved on, consistently.
        // What it no longer needs, the next successful open deletes.
        return "The attempt had already switched the storage engine to a new manifest, so its "
               "files were left in place";
    }
    std::vector<std::string> names;
    if (!fs_->GetChildren(db_dir_, io, &names, nullptr).ok()) {
        return "The files of the failed attempt could not be listed";
    }
    std::size_t failures = 0;
    for (const std::string& name : names) {
        if (files_.contains(name) || !IsRocksFile(name)) {
            continue;
        }
        if (!fs_->DeleteFile(db_dir_ + "/" + name, io, nullptr).ok()) {
            ++failures;
        }
    }
    if (!db_dir_existed_ && failures == 0) {
        fs_->DeleteDir(db_dir_, io, nullptr).PermitUncheckedError();
    }
    if (failures > 0) {
        return "Removing the files the failed attempt created failed for " +
               std::to_string(failures) + " of them";
    }
    return "The files the failed attempt created were removed; the directory is as it was";
}

}  // namespace phenix::storage
