// SPDX-License-Identifier: Apache-2.0
#include "storage/encrypted_fs.h"

#include <cstring>

#include <rocksdb/env_encryption.h>

#include "crypto/cipher.h"

namespace phenix::storage {

namespace {

constexpr std::size_t kMagicBytes = 8;
constexpr std::size_t kKeyIdBytes = 16;  // KeyFingerprint: 16 hex digits
constexpr std::size_t kKeyIdOffset = kMagicBytes;
constexpr std::size_t kIvOffset = kKeyIdOffset + kKeyIdBytes;
constexpr std::size_t kHeaderUsedBytes = kIvOffset + crypto::kCtrIvBytes;

// One file's stream: the shared cipher and the file's initial counter. Encrypt and Decrypt are
// the same XOR; RocksDB calls them with file offsets that exclude the header.
class CtrStream final : public rocksdb::BlockAccessCipherStream {
  public:
    CtrStream(std::shared_ptr<const crypto::AesCtr> cipher, const char* iv)
        : cipher_(std::move(cipher)) {
        std::memcpy(iv_, iv, sizeof(iv_));
    }
    size_t BlockSize() override { return crypto::kCtrIvBytes; }
    rocksdb::Status Encrypt(uint64_t offset, char* data, size_t size) override {
        return Apply(offset, data, size);
    }
    rocksdb::Status Decrypt(uint64_t offset, char* data, size_t size) override {
        return Apply(offset, data, size);
    }

  protected:
    // Unused: Encrypt and Decrypt above handle whole ranges in one EVP call.
    void AllocateScratch(std::string& /*scratch*/) override {}
    rocksdb::Status EncryptBlock(uint64_t index, char* data, char* /*scratch*/) override {
        return Apply(index * crypto::kCtrIvBytes, data, crypto::kCtrIvBytes);
    }
    rocksdb::Status DecryptBlock(uint64_t index, char* data, char* /*scratch*/) override {
        return Apply(index * crypto::kCtrIvBytes, data, crypto::kCtrIvBytes);
    }

  private:
    rocksdb::Status Apply(uint64_t offset, char* data, size_t size) {
        const Status s = cipher_->Apply(iv_, offset, data, size);
        return s.ok() ? rocksdb::Status::OK() : rocksdb::Status::IOError(s.message());
    }
    std::shared_ptr<const crypto::AesCtr> cipher_;
    std::uint8_t iv_[crypto::kCtrIvBytes];
};

// A file whose header is missing (a crash between creating a file and writing its header leaves
// it empty): it holds no data, and any attempt to decrypt some is an error.
class EmptyStream final : public rocksdb::BlockAccessCipherStream {
  public:
    explicit EmptyStream(std::string fname) : fname_(std::move(fname)) {}
    size_t BlockSize() override { return crypto::kCtrIvBytes; }
    rocksdb::Status Encrypt(uint64_t /*offset*/, char* /*data*/, size_t size) override {
        return Refuse(size);
    }
    rocksdb::Status Decrypt(uint64_t /*offset*/, char* /*data*/, size_t size) override {
        return Refuse(size);
    }

  protected:
    void AllocateScratch(std::string& /*scratch*/) override {}
    rocksdb::Status EncryptBlock(uint64_t /*index*/, char* /*data*/, char* /*scratch*/) override {
        return Refuse(1);
    }
    rocksdb::Status DecryptBlock(uint64_t /*index*/, char* /*data*/, char* /*scratch*/) override {
        return Refuse(1);
    }

  private:
    rocksdb::Status Refuse(size_t size) const {
        if (size == 0) {
            return rocksdb::Status::OK();
        }
        return rocksdb::Status::Corruption("encrypted file " + fname_ + " has no header");
    }
    std::string fname_;
};

// One fixed data key (the database's): a file under another key is from another database.
class SingleFileKey final : public FileKeys {
  public:
    explicit SingleFileKey(FileKey key) : key_(std::move(key)) {}
    Result<FileKey> Current() const override { return key_; }
    Result<FileKey> Find(std::string_view key_id, const std::string& fname) const override {
        if (key_id != key_.id) {
            return Status::InvalidArgument("the file " + fname + " was encrypted under data key " +
                                           std::string(key_id) + ", not " + key_.id +
                                           " (a file from another database?)");
        }
        return key_;
    }

  private:
    FileKey key_;
};

class AesCtrProvider final : public rocksdb::EncryptionProvider {
  public:
    explicit AesCtrProvider(std::shared_ptr<const FileKeys> keys) : keys_(std::move(keys)) {}

    const char* Name() const override { return "PhenixAes256Ctr"; }
    size_t GetPrefixLength() const override { return kEncryptionHeaderBytes; }

    rocksdb::Status CreateNewPrefix(const std::string& /*fname*/, char* prefix,
                                    size_t length) const override {
        if (length < kHeaderUsedBytes) {
            return rocksdb::Status::InvalidArgument("encryption header too short");
        }
        auto key = keys_->Current();
        if (!key.ok()) {
            return rocksdb::Status::IOError(key.status().message());
        }
        if (key->id.size() != kKeyIdBytes) {
            return rocksdb::Status::IOError("unexpected data key id length");
        }
        std::memset(prefix, 0, length);
        std::memcpy(prefix, kEncryptionMagic, kMagicBytes);
        std::memcpy(prefix + kKeyIdOffset, key->id.data(), kKeyIdBytes);
        const Status s = crypto::RandomBytes(prefix + kIvOffset, crypto::kCtrIvBytes);
        return s.ok() ? rocksdb::Status::OK() : rocksdb::Status::IOError(s.message());
    }

    rocksdb::Status AddCipher(const std::string& /*descriptor*/, const char* /*cipher*/,
                              size_t /*len*/, bool /*for_write*/) override {
        return rocksdb::Status::NotSupported("Phenix's encryption provider manages its own keys");
    }

    rocksdb::Status CreateCipherStream(
        const std::string& fname, const rocksdb::EnvOptions& /*options*/, rocksdb::Slice& prefix,
        std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
        if (prefix.size() == 0) {
            *result = std::make_unique<EmptyStream>(fname);
            return rocksdb::Status::OK();
        }
        if (prefix.size() < kHeaderUsedBytes ||
            std::memcmp(prefix.data(), kEncryptionMagic, kMagicBytes) != 0) {
            // InvalidArgument: FromRocks makes it a clear error rather than "Corruption".
            return rocksdb::Status::InvalidArgument(
                "the file " + fname +
                " is not encrypted (no Phenix encryption header): the database was written "
                "without encryption at rest");
        }
        auto key = keys_->Find(std::string_view(prefix.data() + kKeyIdOffset, kKeyIdBytes), fname);
        if (!key.ok()) {
            return rocksdb::Status::InvalidArgument(key.status().message());
        }
        *result = std::make_unique<CtrStream>(key->cipher, prefix.data() + kIvOffset);
        return rocksdb::Status::OK();
    }

  private:
    std::shared_ptr<const FileKeys> keys_;
};

}  // namespace

Result<FileKey> MakeFileKey(const crypto::SecretBytes& data_key) {
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<crypto::AesCtr> cipher,
                            crypto::AesCtr::Create(data_key));
    FileKey key{.id = crypto::KeyFingerprint(data_key), .cipher = std::move(cipher)};
    if (key.id.size() != kKeyIdBytes) {
        return Status::Internal("unexpected data key id length");
    }
    return key;
}

Result<std::shared_ptr<rocksdb::FileSystem>> NewEncryptedFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, const crypto::SecretBytes& data_key) {
    PHENIX_ASSIGN_OR_RETURN(FileKey key, MakeFileKey(data_key));
    return NewEncryptedFileSystem(std::move(base),
                                  std::make_shared<const SingleFileKey>(std::move(key)));
}

Result<std::shared_ptr<rocksdb::FileSystem>> NewEncryptedFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<const FileKeys> keys) {
    return rocksdb::NewEncryptedFS(std::move(base),
                                   std::make_shared<AesCtrProvider>(std::move(keys)));
}

}  // namespace phenix::storage
