// SPDX-License-Identifier: Apache-2.0
#include "crypto/data_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "common/sync_point.h"
#include "crypto/tenant_keys.h"

namespace phenix::crypto {

namespace {

namespace fs = std::filesystem;

Status SyncPath(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        return Status::IOError("cannot open " + path + " to sync it: " + std::strerror(errno));
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        return Status::IOError("fsync of " + path + " failed: " + std::strerror(err));
    }
    return Status::Ok();
}

std::string Render(const DataKeyRecord& record) {
    std::ostringstream out;
    out << "phenix-data-key 1\n"
        << "cipher " << kFileCipherName << "\n"
        << "kek " << record.kek_id << "\n"
        << "version " << record.version << "\n"
        << "dek-id " << record.dek_id << "\n"
        << "wrapped " << HexEncode(record.wrapped) << "\n";
    return out.str();
}

// Writes the record to DIR/keys/data_key through a synced temp file and an atomic rename.
Status WriteRecord(const std::string& data_dir, const DataKeyRecord& record) {
    return WriteKeyFileAtomically(data_dir, std::string(kKeysDirName), DataKeyPath(data_dir),
                                  Render(record), /*data_key_sync_points=*/true);
}

Status Malformed(const std::string& path, const std::string& why) {
    return Status::Corruption("the data key file " + path + " is malformed (" + why + ")");
}

}  // namespace

Status WriteKeyFileAtomically(const std::string& data_dir, const std::string& sub_dir,
                              const std::string& final_path, const std::string& text,
                              bool data_key_sync_points) {
    const std::string dir = data_dir + "/" + sub_dir;
    std::error_code ec;
    const bool created_dir = !fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) {
        return Status::IOError("cannot create " + dir + ": " + ec.message());
    }
    ::chmod(dir.c_str(), 0700);
    if (created_dir) {
        // Every directory between data_dir and dir may be new.
        for (fs::path parent = fs::path(dir).parent_path();; parent = parent.parent_path()) {
            PHENIX_RETURN_IF_ERROR(SyncPath(parent.string(), O_RDONLY | O_DIRECTORY));
            if (parent == fs::path(data_dir) || parent == parent.parent_path()) {
                break;
            }
        }
    }
    const std::string tmp_path = final_path + ".tmp";
    int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return Status::IOError("cannot create " + tmp_path + ": " + std::strerror(errno));
    }
    const ssize_t written = ::write(fd, text.data(), text.size());
    const bool ok = written == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp_path.c_str());
        return Status::IOError("cannot write " + tmp_path);
    }
    if (data_key_sync_points) {
        PHENIX_SYNC_POINT("DataKey::Rewrite:BeforeRename");
    }
    if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
        return Status::IOError("cannot rename " + tmp_path + ": " + std::strerror(errno));
    }
    if (data_key_sync_points) {
        PHENIX_SYNC_POINT("DataKey::Rewrite:AfterRename");
    }
    return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Status SyncDirectory(const std::string& dir) {
    return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

std::string DataKeyPath(const std::string& data_dir) {
    return data_dir + "/" + kKeysDirName + "/" + kDataKeyFileName;
}

bool HasDataKey(const std::string& data_dir) {
    std::error_code ec;
    return fs::exists(DataKeyPath(data_dir), ec);
}

Status ForEachKeyFileLine(
    const std::string& path, std::string_view what,
    const std::function<Status(const std::string& name, const std::string& value)>& visit) {
    std::ifstream in(path);
    if (!in) {
        return Status::NotFound("no " + std::string(what) + " " + path);
    }
    std::string line;
    while (std::getline(in, line)) {
        const auto space = line.find(' ');
        if (space == std::string::npos) {
            continue;
        }
        PHENIX_RETURN_IF_ERROR(visit(line.substr(0, space), line.substr(space + 1)));
    }
    return Status::Ok();
}

Result<DataKeyRecord> ReadDataKeyRecord(const std::string& data_dir) {
    const std::string path = DataKeyPath(data_dir);
    DataKeyRecord record;
    bool has_magic = false;
    bool has_wrapped = false;
    PHENIX_RETURN_IF_ERROR(ForEachKeyFileLine(
        path, "data key file", [&](const std::string& name, const std::string& value) -> Status {
            if (name == "phenix-data-key") {
                if (value != "1") {
                    return Status::FailedPrecondition("the data key file " + path +
                                                      " has version " + value +
                                                      ", which this build does not read");
                }
                has_magic = true;
            } else if (name == "cipher") {
                if (value != kFileCipherName) {
                    return Status::FailedPrecondition("the data key file " + path +
                                                      " names cipher " + value +
                                                      "; this build supports " + kFileCipherName);
                }
            } else if (name == "kek") {
                record.kek_id = value;
            } else if (name == "version") {
                try {
                    record.version = std::stoull(value);
                } catch (const std::exception&) {
                    return Malformed(path, "bad version");
                }
            } else if (name == "dek-id") {
                record.dek_id = value;
            } else if (name == "wrapped") {
                auto bytes = HexDecode(value);
                if (!bytes.ok()) {
                    return Malformed(path, "bad wrapped key");
                }
                record.wrapped = std::move(*bytes);
                has_wrapped = true;
            }
            return Status::Ok();
        }));
    if (!has_magic || !has_wrapped || record.kek_id.empty() || record.dek_id.empty()) {
        return Malformed(path, "a line is missing");
    }
    return record;
}

Result<SecretBytes> CreateDataKey(const std::string& data_dir, Kms& kms) {
    if (HasDataKey(data_dir)) {
        return Status::AlreadyExists("the data directory " + data_dir +
                                     " already has a data key");
    }
    PHENIX_ASSIGN_OR_RETURN(SecretBytes data_key, RandomSecret(kKeyBytes));
    DataKeyRecord record;
    record.kek_id = kms.KeyId();
    record.version = 1;
    record.dek_id = KeyFingerprint(data_key);
    PHENIX_ASSIGN_OR_RETURN(record.wrapped, kms.WrapKey(data_key));
    PHENIX_RETURN_IF_ERROR(WriteRecord(data_dir, record));
    return data_key;
}

Result<SecretBytes> LoadDataKey(const std::string& data_dir, Kms& kms) {
    PHENIX_ASSIGN_OR_RETURN(DataKeyRecord record, ReadDataKeyRecord(data_dir));
    if (record.kek_id != kms.KeyId()) {
        return Status::FailedPrecondition(
            "wrong master key: the data key of " + data_dir + " is wrapped by master key " +
            record.kek_id + " (version " + std::to_string(record.version) +
            "), but the configured KMS holds " + kms.KeyId() +
            " (after a master-key rotation, configure the new key)");
    }
    PHENIX_ASSIGN_OR_RETURN(SecretBytes data_key, kms.UnwrapKey(record.wrapped));
    if (data_key.size() != kKeyBytes || KeyFingerprint(data_key) != record.dek_id) {
        return Status::FailedPrecondition("the master key " + kms.KeyId() +
                                          " unwrapped a key that is not the data key of " +
                                          data_dir);
    }
    return data_key;
}

Result<DataKeyRecord> RotateMasterKey(const std::string& data_dir, Kms& old_kms, Kms& new_kms) {
    PHENIX_ASSIGN_OR_RETURN(SecretBytes data_key, LoadDataKey(data_dir, old_kms));
    PHENIX_ASSIGN_OR_RETURN(DataKeyRecord record, ReadDataKeyRecord(data_dir));
    record.kek_id = new_kms.KeyId();
    record.version += 1;
    PHENIX_ASSIGN_OR_RETURN(record.wrapped, new_kms.WrapKey(data_key));
    // Check the new wrapping before it replaces the old one.
    PHENIX_ASSIGN_OR_RETURN(SecretBytes check, new_kms.UnwrapKey(record.wrapped));
    if (KeyFingerprint(check) != record.dek_id) {
        return Status::Internal("the new master key did not round-trip the data key");
    }
    // The tenants' keys move first (each record atomically; a crash is finished by running
    // the rotation again), then the data key. The old KMS keeps its tenant keys, as it keeps
    // the master key: backups taken before the rotation need them (docs/security.md, runbook).
    PHENIX_RETURN_IF_ERROR(MigrateTenantKeys(data_dir, old_kms, new_kms));
    PHENIX_RETURN_IF_ERROR(WriteRecord(data_dir, record));
    return record;
}

}  // namespace phenix::crypto
