// SPDX-License-Identifier: Apache-2.0
#include "crypto/kms.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "common/mutex.h"
#include "crypto/cipher.h"

namespace phenix::crypto {

// Defined in pkcs11_kms.cc.
Result<std::unique_ptr<Kms>> OpenPkcs11Kms(std::string_view params,
                                           const KmsCredentials& credentials);

namespace {

constexpr std::string_view kWrapAadPrefix = "phenix-data-key-wrap-v1|";
constexpr std::string_view kNamedWrapAadPrefix = "phenix-named-key-wrap-v1|";

// Reads up to `n` bytes (fewer only at the end of the file or on an error); returns the count.
std::size_t ReadUpTo(int fd, void* out, std::size_t n) {
    auto* bytes = static_cast<char*>(out);
    std::size_t size = 0;
    while (size < n) {
        const ssize_t got = ::read(fd, bytes + size, n - size);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        size += static_cast<std::size_t>(got);
    }
    return size;
}

Status SyncFd(int fd, const std::string& path) {
    if (::fsync(fd) != 0) {
        return Status::IOError("fsync of " + path + " failed: " + std::strerror(errno));
    }
    return Status::Ok();
}

Status SyncDir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return Status::IOError("cannot open " + dir + " to sync it: " + std::strerror(errno));
    }
    Status synced = SyncFd(fd, dir);
    ::close(fd);
    return synced;
}

// Reads a key file of exactly 32 bytes that only its owner may read. NotFound when missing.
Result<SecretBytes> ReadNamedKeyFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            return Status::NotFound("the key " + path + " does not exist (it was destroyed)");
        }
        return Status::IOError("cannot open the key file " + path + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        ::close(fd);
        return Status::FailedPrecondition("the key file " + path +
                                          " is not a regular file readable by its owner only");
    }
    SecretBytes key(kKeyBytes + 1);
    const std::size_t size = ReadUpTo(fd, key.data(), key.size());
    ::close(fd);
    if (size != kKeyBytes) {
        return Status::FailedPrecondition("the key file " + path + " must hold 32 bytes");
    }
    return SecretBytes(key.data(), kKeyBytes);
}

// Writes a new key file exclusively (0600) and syncs it and its directory.
Status WriteNewKeyFile(const std::string& dir, const std::string& path, const SecretBytes& key,
                       std::string_view what) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        if (err == EEXIST) {
            return Status::AlreadyExists(std::string(what) + " " + path +
                                         " already exists; it is never overwritten");
        }
        return Status::IOError("cannot create " + std::string(what) + " " + path + ": " +
                               std::strerror(err));
    }
    const ssize_t written = ::write(fd, key.data(), key.size());
    const bool synced = written == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) {
        ::unlink(path.c_str());
        return Status::IOError("cannot write " + std::string(what) + " " + path);
    }
    return dir.empty() ? Status::Ok() : SyncDir(dir);
}

// A master key in memory: AES-256-GCM wrapping with the key id bound as associated data, so a
// wrapped key cannot be passed off as another key id's.
class InMemoryKms final : public Kms {
  public:
    InMemoryKms(SecretBytes key, std::string key_id, std::string named_key_dir)
        : key_(std::move(key)),
          key_id_(std::move(key_id)),
          named_key_dir_(std::move(named_key_dir)) {}
    [[nodiscard]] std::string KeyId() const override { return key_id_; }
    Result<std::string> WrapKey(const SecretBytes& data_key) override {
        return SealAes256Gcm(
            key_,
            std::string_view(reinterpret_cast<const char*>(data_key.data()), data_key.size()),
            Aad());
    }
    Result<SecretBytes> UnwrapKey(std::string_view wrapped) override {
        auto opened = OpenAes256Gcm(key_, wrapped, Aad());
        if (!opened.ok() && opened.status().code() == StatusCode::kFailedPrecondition) {
            return Status::FailedPrecondition("the master key " + key_id_ +
                                              " does not unwrap this data key (it was wrapped "
                                              "by another master key, or altered)");
        }
        return opened;
    }

    Status CreateNamedKey(std::string_view name) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        PHENIX_ASSIGN_OR_RETURN(SecretBytes key, RandomSecret(kKeyBytes));
        MutexLock lock(mu_);
        if (named_key_dir_.empty()) {
            if (!memory_keys_.emplace(std::string(name), std::move(key)).second) {
                return Status::AlreadyExists("the named key '" + std::string(name) +
                                             "' already exists");
            }
            return Status::Ok();
        }
        PHENIX_RETURN_IF_ERROR(EnsureNamedKeyDir());
        return WriteNewKeyFile(named_key_dir_, NamedKeyPath(name), key, "the key file");
    }

    Status DestroyNamedKey(std::string_view name) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        if (named_key_dir_.empty()) {
            auto it = memory_keys_.find(name);
            if (it == memory_keys_.end()) {
                return Status::NotFound("no named key '" + std::string(name) + "'");
            }
            memory_keys_.erase(it);
            return Status::Ok();
        }
        const std::string path = NamedKeyPath(name);
        // Overwrite in place first (defence in depth: on a journaling or copy-on-write file
        // system or an SSD the old blocks may survive; the unlink is what the design relies on,
        // with the key store kept off the data directory and its backups).
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            if (err == ENOENT) {
                return Status::NotFound("no named key '" + std::string(name) + "' in " +
                                        named_key_dir_);
            }
            return Status::IOError("cannot open " + path + ": " + std::strerror(err));
        }
        const std::array<char, kKeyBytes> zeros{};
        const bool wiped =
            ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
            ::fsync(fd) == 0;
        ::close(fd);
        if (!wiped) {
            return Status::IOError("cannot overwrite the key file " + path);
        }
        if (::unlink(path.c_str()) != 0) {
            return Status::IOError("cannot delete the key file " + path + ": " +
                                   std::strerror(errno));
        }
        return SyncDir(named_key_dir_);
    }

    Result<std::string> WrapWithNamedKey(std::string_view name,
                                         const SecretBytes& data_key) override {
        PHENIX_ASSIGN_OR_RETURN(SecretBytes key, NamedKey(name));
        return SealAes256Gcm(
            key, std::string_view(reinterpret_cast<const char*>(data_key.data()), data_key.size()),
            std::string(kNamedWrapAadPrefix) + std::string(name));
    }

    Result<SecretBytes> UnwrapWithNamedKey(std::string_view name,
                                           std::string_view wrapped) override {
        PHENIX_ASSIGN_OR_RETURN(SecretBytes key, NamedKey(name));
        auto opened =
            OpenAes256Gcm(key, wrapped, std::string(kNamedWrapAadPrefix) + std::string(name));
        if (!opened.ok() && opened.status().code() == StatusCode::kFailedPrecondition) {
            return Status::FailedPrecondition("the named key '" + std::string(name) +
                                              "' does not unwrap this data key (altered?)");
        }
        return opened;
    }

  private:
    [[nodiscard]] std::string Aad() const { return std::string(kWrapAadPrefix) + key_id_; }
    [[nodiscard]] std::string NamedKeyPath(std::string_view name) const {
        return named_key_dir_ + "/" + std::string(name);
    }
    Status EnsureNamedKeyDir() const {
        if (::mkdir(named_key_dir_.c_str(), 0700) == 0) {
            const auto slash = named_key_dir_.find_last_of('/');
            return SyncDir(slash == std::string::npos ? std::string(".")
                           : slash == 0               ? std::string("/")
                                                      : named_key_dir_.substr(0, slash));
        }
        if (errno != EEXIST) {
            return Status::IOError("cannot create the key directory " + named_key_dir_ + ": " +
                                   std::strerror(errno));
        }
        return Status::Ok();
    }
    Result<SecretBytes> NamedKey(std::string_view name) {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        if (named_key_dir_.empty()) {
            auto it = memory_keys_.find(name);
            if (it == memory_keys_.end()) {
                return Status::NotFound("the named key '" + std::string(name) +
                                        "' does not exist (it was destroyed)");
            }
            return it->second;
        }
        return ReadNamedKeyFile(NamedKeyPath(name));
    }

    SecretBytes key_;
    std::string key_id_;
    std::string named_key_dir_;
    Mutex mu_;
    std::map<std::string, SecretBytes, std::less<>> memory_keys_ GUARDED_BY(mu_);
};

Result<std::unique_ptr<Kms>> OpenLocalKms(const std::string& path) {
    if (path.empty()) {
        return Status::InvalidArgument("the KMS URI 'local:' names no key file (local:PATH)");
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            return Status::NotFound("the master key file " + path +
                                    " does not exist (create one with `phenix "
                                    "create-master-key FILE`)");
        }
        return Status::IOError("cannot open the master key file " + path + ": " +
                               std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Status::FailedPrecondition("the master key file " + path + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        return Status::FailedPrecondition(
            "the master key file " + path +
            " may be read or written by group or others; refusing to use it (chmod 600 it)");
    }
    std::array<char, 130> buffer{};
    const std::size_t size = ReadUpTo(fd, buffer.data(), buffer.size());
    ::close(fd);
    SecretBytes key;
    if (size == kKeyBytes) {
        key = SecretBytes(buffer.data(), size);
    } else {
        std::string_view text(buffer.data(), size);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.remove_suffix(1);
        }
        if (text.size() == 2 * kKeyBytes) {
            auto decoded = HexDecode(text);
            if (decoded.ok()) {
                key = SecretBytes(decoded->data(), decoded->size());
                OPENSSL_cleanse(decoded->data(), decoded->size());
            }
        }
    }
    OPENSSL_cleanse(buffer.data(), buffer.size());
    if (key.size() != kKeyBytes) {
        return Status::FailedPrecondition("the master key file " + path +
                                          " must hold 32 bytes (or 64 hex digits)");
    }
    std::string key_id = "local:" + KeyFingerprint(key);
    return NewInMemoryKms(std::move(key), std::move(key_id), path + ".keys");
}

}  // namespace

std::unique_ptr<Kms> NewInMemoryKms(SecretBytes key, std::string key_id,
                                    std::string named_key_dir) {
    return std::make_unique<InMemoryKms>(std::move(key), std::move(key_id),
                                         std::move(named_key_dir));
}

Status ValidateNamedKeyName(std::string_view name) {
    bool ok = !name.empty() && name.size() <= 64 && name.front() != '.';
    for (char c : name) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-');
    }
    if (!ok) {
        return Status::InvalidArgument("invalid key name '" + std::string(name) +
                                       "': 1 to 64 of [A-Za-z0-9_.-], not starting with '.'");
    }
    return Status::Ok();
}

Result<std::unique_ptr<Kms>> OpenKms(std::string_view uri, const KmsCredentials& credentials) {
    if (uri.starts_with("local:")) {
        return OpenLocalKms(std::string(uri.substr(6)));
    }
    if (uri.starts_with("pkcs11:")) {
        return OpenPkcs11Kms(uri.substr(7), credentials);
    }
    return Status::InvalidArgument("unknown KMS URI '" + std::string(uri) +
                                   "': expected local:PATH or "
                                   "pkcs11:module=...;token=...;key=...");
}

Result<std::string> CreateLocalKeyFile(const std::string& path) {
    PHENIX_ASSIGN_OR_RETURN(SecretBytes key, RandomSecret(kKeyBytes));
    PHENIX_RETURN_IF_ERROR(WriteNewKeyFile({}, path, key, "the master key file"));
    return "local:" + KeyFingerprint(key);
}

}  // namespace phenix::crypto
