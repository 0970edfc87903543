// SPDX-License-Identifier: Apache-2.0
#include "security/digest.h"

#include <openssl/evp.h>

#include "common/hex.h"

namespace phenix::security {

std::string Sha256Hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    // EVP_Digest with EVP_sha256 fails only when an allocation fails.
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        return {};
    }
    return hex::Encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace phenix::security
