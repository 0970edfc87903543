// SPDX-License-Identifier: Apache-2.0
#include "crypto/cipher.h"

#include <array>
#include <cstring>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/mutex.h"

namespace phenix::crypto {

namespace {

struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

int Int(std::size_t n) {
    return static_cast<int>(n);
}

}  // namespace

Result<std::string> SealAes256Gcm(const SecretBytes& key, std::string_view plaintext,
                                  std::string_view aad) {
    if (key.size() != kKeyBytes) {
        return Status::InvalidArgument("AES-256-GCM needs a 32-byte key");
    }
    std::string out(kGcmNonceBytes + plaintext.size() + kGcmTagBytes, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    PHENIX_RETURN_IF_ERROR(RandomBytes(nonce, kGcmNonceBytes));
    CtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int total = 0;
    auto* body = nonce + kGcmNonceBytes;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
        (!aad.empty() &&
         EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), Int(aad.size())) != 1) ||
        EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plaintext), Int(plaintext.size())) != 1) {
        return Status::Internal("AES-256-GCM encryption failed (OpenSSL)");
    }
    total = len;
    if (EVP_EncryptFinal_ex(ctx.get(), body + total, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, Int(kGcmTagBytes),
                            body + plaintext.size()) != 1) {
        return Status::Internal("AES-256-GCM encryption failed (OpenSSL)");
    }
    return out;
}

Result<SecretBytes> OpenAes256Gcm(const SecretBytes& key, std::string_view sealed,
                                  std::string_view aad) {
    if (key.size() != kKeyBytes) {
        return Status::InvalidArgument("AES-256-GCM needs a 32-byte key");
    }
    if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) {
        return Status::FailedPrecondition("the sealed bytes are too short to be AES-256-GCM");
    }
    const std::size_t body_size = sealed.size() - kGcmNonceBytes - kGcmTagBytes;
    SecretBytes out(body_size);
    CtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    std::array<unsigned char, kGcmTagBytes> tag{};
    std::memcpy(tag.data(), sealed.data() + kGcmNonceBytes + body_size, kGcmTagBytes);
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), Bytes(sealed)) !=
            1 ||
        (!aad.empty() &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), Int(aad.size())) != 1) ||
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, Bytes(sealed) + kGcmNonceBytes,
                          Int(body_size)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, Int(kGcmTagBytes), tag.data()) != 1) {
        return Status::Internal("AES-256-GCM decryption failed (OpenSSL)");
    }
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
        return Status::FailedPrecondition(
            "AES-256-GCM authentication failed: wrong key, or the bytes were altered");
    }
    return out;
}

// A stack of EVP contexts initialised with the key (the key schedule is computed once per
// context); a call takes one, sets only the IV, and gives it back.
struct CtxPool {
    SecretBytes key;
    const EVP_CIPHER* cipher = nullptr;
    Mutex mu;
    std::vector<CtxPtr> free GUARDED_BY(mu);

    Result<CtxPtr> Take() {
        {
            MutexLock lock(mu);
            if (!free.empty()) {
                CtxPtr ctx = std::move(free.back());
                free.pop_back();
                return ctx;
            }
        }
        CtxPtr ctx(EVP_CIPHER_CTX_new());
        if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, 1) != 1) {
            return Status::Internal("cannot set up an AES-256 cipher context (OpenSSL)");
        }
        return ctx;
    }
    void Give(CtxPtr ctx) {
        MutexLock lock(mu);
        free.push_back(std::move(ctx));
    }
};

struct AesCtr::Pool : CtxPool {};

AesCtr::AesCtr(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}
AesCtr::~AesCtr() = default;

Result<std::unique_ptr<AesCtr>> AesCtr::Create(const SecretBytes& key) {
    if (key.size() != kKeyBytes) {
        return Status::InvalidArgument("AES-256-CTR needs a 32-byte key");
    }
    auto pool = std::make_unique<Pool>();
    pool->key = key;
    pool->cipher = EVP_aes_256_ctr();
    return std::unique_ptr<AesCtr>(new AesCtr(std::move(pool)));
}

Status AesCtr::Apply(const std::uint8_t* iv, std::uint64_t offset, char* data,
                     std::size_t n) const {
    if (n == 0) {
        return Status::Ok();
    }
    // The counter block for `offset`: the file's IV plus offset / 16, as a 128-bit big-endian
    // number (carries propagate, as OpenSSL's own counter increments do).
    std::array<std::uint8_t, kCtrIvBytes> counter{};
    std::memcpy(counter.data(), iv, kCtrIvBytes);
    std::uint64_t add = offset / kCtrIvBytes;
    unsigned carry = 0;
    for (std::size_t idx = kCtrIvBytes; idx-- > 0;) {
        const unsigned sum = counter[idx] + static_cast<unsigned>(add & 0xff) + carry;
        counter[idx] = static_cast<std::uint8_t>(sum & 0xff);
        carry = sum >> 8;
        add >>= 8;
    }
    PHENIX_ASSIGN_OR_RETURN(CtxPtr ctx, pool_->Take());
    bool ok = EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, counter.data()) == 1;
    int len = 0;
    const auto skip = static_cast<std::size_t>(offset % kCtrIvBytes);
    if (ok && skip > 0) {
        std::array<unsigned char, kCtrIvBytes> scratch{};
        ok = EVP_EncryptUpdate(ctx.get(), scratch.data(), &len, scratch.data(), Int(skip)) == 1;
    }
    auto* bytes = reinterpret_cast<unsigned char*>(data);
    // EVP takes int lengths: large buffers go in 1 GiB pieces.
    constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
    for (std::size_t done = 0; ok && done < n;) {
        const std::size_t chunk = std::min(kMaxChunk, n - done);
        ok = EVP_EncryptUpdate(ctx.get(), bytes + done, &len, bytes + done, Int(chunk)) == 1;
        done += chunk;
    }
    if (!ok) {
        return Status::Internal("AES-256-CTR failed (OpenSSL)");
    }
    pool_->Give(std::move(ctx));
    return Status::Ok();
}

struct AesGcm::Pool : CtxPool {};

AesGcm::AesGcm(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}
AesGcm::~AesGcm() = default;

Result<std::unique_ptr<AesGcm>> AesGcm::Create(const SecretBytes& key) {
    if (key.size() != kKeyBytes) {
        return Status::InvalidArgument("AES-256-GCM needs a 32-byte key");
    }
    auto pool = std::make_unique<Pool>();
    pool->key = key;
    pool->cipher = EVP_aes_256_gcm();
    return std::unique_ptr<AesGcm>(new AesGcm(std::move(pool)));
}

namespace {

// Feeds the two pieces of associated data to a GCM context (encrypt or decrypt direction).
bool GcmAad(EVP_CIPHER_CTX* ctx, std::string_view aad1, std::string_view aad2) {
    int len = 0;
    for (std::string_view piece : {aad1, aad2}) {
        if (!piece.empty() &&
            EVP_CipherUpdate(ctx, nullptr, &len, Bytes(piece), Int(piece.size())) != 1) {
            return false;
        }
    }
    return true;
}

}  // namespace

Status AesGcm::Seal(std::string_view plaintext, std::string_view aad1, std::string_view aad2,
                    std::string& out) const {
    if (plaintext.size() > (std::size_t{1} << 30)) {
        return Status::InvalidArgument("AES-256-GCM payloads are limited to 1 GiB");
    }
    const std::size_t start = out.size();
    out.resize(start + kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
    auto* nonce = reinterpret_cast<unsigned char*>(out.data() + start);
    PHENIX_RETURN_IF_ERROR(RandomBytes(nonce, kGcmNonceBytes));
    PHENIX_ASSIGN_OR_RETURN(CtxPtr ctx, pool_->Take());
    auto* body = nonce + kGcmNonceBytes;
    int len = 0;
    int final_len = 0;
    const bool ok =
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, nullptr, nonce, 1) == 1 &&
        GcmAad(ctx.get(), aad1, aad2) &&
        EVP_CipherUpdate(ctx.get(), body, &len, Bytes(plaintext), Int(plaintext.size())) == 1 &&
        EVP_CipherFinal_ex(ctx.get(), body + len, &final_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, Int(kGcmTagBytes),
                            body + plaintext.size()) == 1;
    if (!ok) {
        out.resize(start);
        return Status::Internal("AES-256-GCM encryption failed (OpenSSL)");
    }
    pool_->Give(std::move(ctx));
    return Status::Ok();
}

Status AesGcm::Open(std::string_view sealed, std::string_view aad1, std::string_view aad2,
                    std::string& out) const {
    if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) {
        return Status::FailedPrecondition("the sealed bytes are too short to be AES-256-GCM");
    }
    const std::size_t body_size = sealed.size() - kGcmNonceBytes - kGcmTagBytes;
    out.resize(body_size);
    std::array<unsigned char, kGcmTagBytes> tag{};
    std::memcpy(tag.data(), sealed.data() + kGcmNonceBytes + body_size, kGcmTagBytes);
    PHENIX_ASSIGN_OR_RETURN(CtxPtr ctx, pool_->Take());
    int len = 0;
    const bool ok =
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, nullptr, Bytes(sealed), 0) == 1 &&
        GcmAad(ctx.get(), aad1, aad2) &&
        EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                         Bytes(sealed) + kGcmNonceBytes, Int(body_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, Int(kGcmTagBytes), tag.data()) == 1;
    if (!ok) {
        out.clear();
        return Status::Internal("AES-256-GCM decryption failed (OpenSSL)");
    }
    int final_len = 0;
    const bool verified =
        EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                           &final_len) == 1;
    // The context is reusable either way: the next call re-initialises the nonce.
    pool_->Give(std::move(ctx));
    if (!verified) {
        OPENSSL_cleanse(out.data(), out.size());
        out.clear();
        return Status::FailedPrecondition(
            "AES-256-GCM authentication failed: wrong key, other associated data, or the bytes "
            "were altered or truncated");
    }
    return Status::Ok();
}

}  // namespace phenix::crypto
