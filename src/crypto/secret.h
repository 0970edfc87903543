// SPDX-License-Identifier: Apache-2.0
//
// SecretBytes — key material that is wiped (OPENSSL_cleanse) when it goes away, and the random
// bytes and fingerprints that go with it. Keys live only in SecretBytes; they are never logged,
// never put in a Status message, and never copied into a plain std::string by this module.
//
// Thread-compatible (a value type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

namespace phenix::crypto {

/// AES-256: the size of every key this module handles (data keys and local master keys).
inline constexpr std::size_t kKeyBytes = 32;

class SecretBytes {
  public:
    SecretBytes() = default;
    explicit SecretBytes(std::size_t size) : bytes_(size, 0) {}
    SecretBytes(const void* data, std::size_t size);
    ~SecretBytes();
    SecretBytes(const SecretBytes& other) = default;
    SecretBytes& operator=(const SecretBytes& other);
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;

    [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }
    [[nodiscard]] std::uint8_t* data() { return bytes_.data(); }
    [[nodiscard]] std::size_t size() const { return bytes_.size(); }
    [[nodiscard]] bool empty() const { return bytes_.empty(); }
    /// Wipes and empties.
    void Clear();

  private:
    std::vector<std::uint8_t> bytes_;
};

/// `n` bytes from OpenSSL's CSPRNG. Internal on an RNG failure.
Result<SecretBytes> RandomSecret(std::size_t n);
/// `n` random bytes that are not secret (nonces, IVs).
Status RandomBytes(void* out, std::size_t n);

/// A public fingerprint of a key: the first 8 bytes of SHA-256("phenix-key-id\0" || key), as 16
/// hex digits. Names a key (which master key wrapped a data key) without revealing it.
std::string KeyFingerprint(const SecretBytes& key);

std::string HexEncode(std::string_view bytes);
/// InvalidArgument on odd length or a non-hex digit.
Result<std::string> HexDecode(std::string_view hex);

}  // namespace phenix::crypto
