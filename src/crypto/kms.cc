// SPDX-License-Identifier: Apache-2.0
#include "crypto/kms.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "crypto/cipher.h"

namespace phenix::crypto {

// Defined in pkcs11_kms.cc.
Result<std::unique_ptr<Kms>> OpenPkcs11Kms(std::string_view params,
                                           const KmsCredentials& credentials);

namespace {

constexpr std::string_view kWrapAadPrefix = "phenix-data-key-wrap-v1|";

// A master key in memory: AES-256-GCM wrapping with the key id bound as associated data, so a
// wrapped key cannot be passed off as another key id's.
class InMemoryKms final : public Kms {
  public:
    InMemoryKms(SecretBytes key, std::string key_id)
        : key_(std::move(key)), key_id_(std::move(key_id)) {}
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

  private:
    [[nodiscard]] std::string Aad() const { return std::string(kWrapAadPrefix) + key_id_; }
    SecretBytes key_;
    std::string key_id_;
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
    std::size_t size = 0;
    while (size < buffer.size()) {
        const ssize_t got = ::read(fd, buffer.data() + size, buffer.size() - size);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        size += static_cast<std::size_t>(got);
    }
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
    return NewInMemoryKms(std::move(key), std::move(key_id));
}

}  // namespace

std::unique_ptr<Kms> NewInMemoryKms(SecretBytes key, std::string key_id) {
    return std::make_unique<InMemoryKms>(std::move(key), std::move(key_id));
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
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        if (err == EEXIST) {
            return Status::AlreadyExists("the master key file " + path +
                                         " already exists; it is never overwritten");
        }
        return Status::IOError("cannot create the master key file " + path + ": " +
                               std::strerror(err));
    }
    const ssize_t written = ::write(fd, key.data(), key.size());
    const bool synced = written == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) {
        ::unlink(path.c_str());
        return Status::IOError("cannot write the master key file " + path);
    }
    return "local:" + KeyFingerprint(key);
}

}  // namespace phenix::crypto
