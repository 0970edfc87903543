// SPDX-License-Identifier: Apache-2.0
// The public key-management calls of include/phenix/encryption.h, over the crypto module.
#include <phenix/encryption.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"

namespace phenix {

Result<std::string> CreateMasterKeyFile(const std::string& path) {
    return crypto::CreateLocalKeyFile(path);
}

Result<std::string> CreateTokenMasterKey(const EncryptionOptions& kms) {
    if (!kms.kms.starts_with("pkcs11:")) {
        return Status::InvalidArgument(
            "a token master key needs a pkcs11: URI "
            "(pkcs11:module=...;token=...;key=LABEL), not '" +
            kms.kms + "'");
    }
    return crypto::CreatePkcs11Key(kms.kms, crypto::KmsCredentials{.pin_file = kms.pin_file});
}

Result<std::string> RotateMasterKey(const std::string& data_dir, const EncryptionOptions& current,
                                    const EncryptionOptions& next) {
    if (!crypto::HasDataKey(data_dir)) {
        return Status::NotFound("no encrypted database in " + data_dir + " (no " +
                                crypto::DataKeyPath(data_dir) + ")");
    }
    PHENIX_ASSIGN_OR_RETURN(
        std::unique_ptr<crypto::Kms> current_kms,
        crypto::OpenKms(current.kms, crypto::KmsCredentials{.pin_file = current.pin_file}));
    PHENIX_ASSIGN_OR_RETURN(
        std::unique_ptr<crypto::Kms> next_kms,
        crypto::OpenKms(next.kms, crypto::KmsCredentials{.pin_file = next.pin_file}));
    PHENIX_ASSIGN_OR_RETURN(crypto::DataKeyRecord record,
                            crypto::RotateMasterKey(data_dir, *current_kms, *next_kms));
    return record.kek_id;
}

}  // namespace phenix
