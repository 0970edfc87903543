// SPDX-License-Identifier: Apache-2.0
//
// Kms — the holder of a master key (key-encryption key, KEK) that wraps and unwraps data keys
// (envelope encryption, data_key.h). The master key never leaves the KMS object (or the token,
// for PKCS#11); only wrapped data keys are stored on disk.
//
// Backends, chosen by a URI (OpenKms):
//   local:PATH      a key file of 32 random bytes (or 64 hex digits) that only its owner may
//                   read (mode 0600; a file readable by group or others is refused). For
//                   development and single-host deployments; CreateLocalKeyFile makes one.
//                   Wrapping is AES-256-GCM with the key id as associated data.
//   pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;key=LABEL
//                   an AES key inside a PKCS#11 token (an HSM, SoftHSM2); see pkcs11_kms.cc.
//                   The user PIN comes from KmsCredentials::pin_file or the environment variable
//                   PHENIX_PKCS11_PIN, never from a command-line value.
//
// A key id names one master key version ("local:3fa1...", "pkcs11:TOKEN/LABEL"); it is stored
// next to the wrapped data key so that an open with another key fails with a clear message
// instead of noise. Rotation = wrap the same data key under another key id (RotateMasterKey).
//
// Named keys (per-tenant key-encryption keys, crypto/tenant_keys.h): further keys created inside
// the KMS beside the master key, each able to wrap a data key, and destroyable, so that what
// they wrapped can never be unwrapped again (crypto-shredding). They live where the master key
// lives, never in a data directory:
//   local:PATH      one file per key in the directory PATH.keys/ (mode 0700, files 0600);
//                   destroying one overwrites it, syncs, unlinks it and syncs the directory.
//   pkcs11:...;key=LABEL   a token AES key (non-extractable) labelled LABEL.NAME per key;
//                   destroying one is C_DestroyObject.
//
// Thread-safe: every call may be made concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <phenix/result.h>

#include "crypto/secret.h"

namespace phenix::crypto {

class Kms {
  public:
    virtual ~Kms() = default;
    /// The master key's id (and version), safe to store and print.
    [[nodiscard]] virtual std::string KeyId() const = 0;
    /// Encrypts a data key under the master key.
    virtual Result<std::string> WrapKey(const SecretBytes& data_key) = 0;
    /// Decrypts a wrapped data key. FailedPrecondition when it was not wrapped by this master
    /// key (or was altered).
    virtual Result<SecretBytes> UnwrapKey(std::string_view wrapped) = 0;

    /// Creates a new random named key (`name`: 1 to 64 of [A-Za-z0-9_.-], not starting with
    /// '.'). AlreadyExists when there is one.
    virtual Status CreateNamedKey(std::string_view name) = 0;
    /// Destroys a named key for good (durably, before returning). NotFound when there is none.
    virtual Status DestroyNamedKey(std::string_view name) = 0;
    /// Encrypts a data key under a named key. NotFound when the named key does not exist.
    virtual Result<std::string> WrapWithNamedKey(std::string_view name,
                                                 const SecretBytes& data_key) = 0;
    /// Decrypts what WrapWithNamedKey returned. NotFound when the named key does not exist (was
    /// destroyed); FailedPrecondition when it did not wrap these bytes.
    virtual Result<SecretBytes> UnwrapWithNamedKey(std::string_view name,
                                                   std::string_view wrapped) = 0;
};

/// InvalidArgument unless `name` is a valid named-key name (see Kms::CreateNamedKey).
Status ValidateNamedKeyName(std::string_view name);

struct KmsCredentials {
    /// A file whose first line is the PKCS#11 user PIN (the environment variable
    /// PHENIX_PKCS11_PIN is used when empty).
    std::string pin_file;
};

/// Opens the KMS a URI names (see above). InvalidArgument for an unknown scheme or a malformed
/// URI; NotFound for a missing key file; FailedPrecondition for a key file others can read or
/// of the wrong size; Unavailable when the PKCS#11 module or token cannot be used.
Result<std::unique_ptr<Kms>> OpenKms(std::string_view uri, const KmsCredentials& credentials = {});

/// Writes a new local master key file (32 random bytes, mode 0600, created exclusively: an
/// existing file is AlreadyExists) and syncs it. Returns the key's id.
Result<std::string> CreateLocalKeyFile(const std::string& path);

/// Generates a new AES-256 key (non-extractable, sensitive) with the URI's key label in a PKCS#11
/// token. AlreadyExists when the token holds one with that label. Returns its key id.
Result<std::string> CreatePkcs11Key(std::string_view uri, const KmsCredentials& credentials);

/// A KMS over a key held in memory (tests and the local backend's core). Its named keys live in
/// the directory `named_key_dir` (created on first use), or only in memory when it is empty.
std::unique_ptr<Kms> NewInMemoryKms(SecretBytes key, std::string key_id,
                                    std::string named_key_dir = {});

}  // namespace phenix::crypto
