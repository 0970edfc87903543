// SPDX-License-Identifier: Apache-2.0
//
// The two ciphers of encryption at rest (docs/security.md, "Encryption at rest"), on OpenSSL 3's
// EVP API (AES-NI where the CPU has it):
//   * AES-256-GCM seal/open: authenticated encryption of small, whole objects (wrapped keys).
//     The sealed form is nonce (12 bytes) || ciphertext || tag (16 bytes); `aad` is bound to it.
//   * AesCtr: AES-256-CTR at any byte offset of a stream, for the file layer (RocksDB's files and
//     index checkpoints): files are read and written at arbitrary offsets, so the cipher must be
//     seekable; integrity there comes from RocksDB's block checksums and the checkpoint's
//     checksum, as with unencrypted files (the threat model is a stolen disk, not a tampering one).
//
// AesCtr is thread-safe: concurrent calls each borrow one of a small pool of EVP contexts whose
// key schedule was computed once, so no call allocates a context in the steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <phenix/result.h>

#include "crypto/secret.h"

namespace phenix::crypto {

inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;
inline constexpr std::size_t kCtrIvBytes = 16;

/// Encrypts `plaintext` under a 32-byte key with a fresh random nonce. InvalidArgument for a key
/// of the wrong size.
Result<std::string> SealAes256Gcm(const SecretBytes& key, std::string_view plaintext,
                                  std::string_view aad);
/// Decrypts what SealAes256Gcm returned. FailedPrecondition when the tag does not verify (a
/// different key, other `aad`, or altered bytes: indistinguishable by design).
Result<SecretBytes> OpenAes256Gcm(const SecretBytes& key, std::string_view sealed,
                                  std::string_view aad);

class AesCtr {
  public:
    /// InvalidArgument for a key that is not 32 bytes.
    static Result<std::unique_ptr<AesCtr>> Create(const SecretBytes& key);
    ~AesCtr();
    AesCtr(const AesCtr&) = delete;
    AesCtr& operator=(const AesCtr&) = delete;

    /// XORs `n` bytes at `data` with the key stream of the file whose 16-byte initial counter is
    /// `iv`, starting at byte `offset` of the stream (encryption and decryption are the same).
    Status Apply(const std::uint8_t* iv, std::uint64_t offset, char* data, std::size_t n) const;

  private:
    struct Pool;
    explicit AesCtr(std::unique_ptr<Pool> pool);
    std::unique_ptr<Pool> pool_;
};

/// AES-256-GCM under one key for many small objects (entity payloads, crypto/tenant_keys.h): the
/// key schedule is computed once per pooled EVP context, so a call only sets the nonce. The
/// sealed form is the same as SealAes256Gcm's: nonce (12) || ciphertext || tag (16). `aad` is
/// given in two pieces (a fixed domain header and a per-object part) to spare a concatenation.
/// Thread-safe, like AesCtr.
class AesGcm {
  public:
    /// InvalidArgument for a key that is not 32 bytes.
    static Result<std::unique_ptr<AesGcm>> Create(const SecretBytes& key);
    ~AesGcm();
    AesGcm(const AesGcm&) = delete;
    AesGcm& operator=(const AesGcm&) = delete;

    /// Appends nonce || ciphertext || tag to `out`.
    Status Seal(std::string_view plaintext, std::string_view aad1, std::string_view aad2,
                std::string& out) const;
    /// Replaces `out` with the plaintext. FailedPrecondition when the tag does not verify (other
    /// key, other associated data, altered or truncated bytes).
    Status Open(std::string_view sealed, std::string_view aad1, std::string_view aad2,
                std::string& out) const;

  private:
    struct Pool;
    explicit AesGcm(std::unique_ptr<Pool> pool);
    std::unique_ptr<Pool> pool_;
};

}  // namespace phenix::crypto
