// SPDX-License-Identifier: Apache-2.0
//
// The PKCS#11 master-key backend: an AES key that lives in a token (an HSM, or SoftHSM2 in the
// tests) and never leaves it. The module named by the URI is dlopened and driven through the
// standard PKCS#11 C API (p11-kit's pkcs11.h); data keys are wrapped by encrypting them inside
// the token with CKM_AES_GCM (random 96-bit IV, 128-bit tag, the key id as associated data):
// this works with non-extractable data keys held by us in memory, unlike C_WrapKey, which wraps
// token objects. Wrapped form: IV (12 bytes) || ciphertext || tag.
//
// URI: pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;key=LABEL
// PIN: the first line of KmsCredentials::pin_file, else the environment variable
// PHENIX_PKCS11_PIN; never a command-line value (it would show in ps).
//
// C_Initialize is called once per module per process and C_Finalize never: several Kms objects
// (the old and the new key of a rotation) may share a module. One session per Kms; calls on it
// are serialised by a mutex (a PKCS#11 session is not safe for concurrent operations).
#include <dlfcn.h>

#include <p11-kit-1/p11-kit/pkcs11.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "common/mutex.h"
#include "crypto/cipher.h"
#include "crypto/kms.h"

namespace phenix::crypto {

namespace {

constexpr std::string_view kAadPrefix = "phenix-data-key-wrap-v1|";
constexpr std::string_view kNamedAadPrefix = "phenix-named-key-wrap-v1|";

struct Pkcs11Params {
    std::string module;
    std::string token;
    std::string key;
};

Result<Pkcs11Params> ParseParams(std::string_view params) {
    Pkcs11Params out;
    while (!params.empty()) {
        const auto end = params.find(';');
        const std::string_view item = params.substr(0, end);
        params = end == std::string_view::npos ? std::string_view() : params.substr(end + 1);
        if (item.empty()) {
            continue;
        }
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return Status::InvalidArgument("the PKCS#11 KMS URI has an item without '=': '" +
                                           std::string(item) + "'");
        }
        const std::string_view name = item.substr(0, eq);
        const std::string value(item.substr(eq + 1));
        if (name == "module") {
            out.module = value;
        } else if (name == "token") {
            out.token = value;
        } else if (name == "key") {
            out.key = value;
        } else if (name == "pin" || name == "pin-value") {
            return Status::InvalidArgument(
                "the PKCS#11 KMS URI must not carry the PIN (it would show in ps and in logs): "
                "pass a PIN file (--encryption-pin-file) or set PHENIX_PKCS11_PIN");
        } else {
            return Status::InvalidArgument("unknown item '" + std::string(name) +
                                           "' in the PKCS#11 KMS URI (module, token, key)");
        }
    }
    if (out.module.empty() || out.token.empty() || out.key.empty()) {
        return Status::InvalidArgument(
            "the PKCS#11 KMS URI needs module=, token= and key=, e.g. "
            "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=phenix;key=master");
    }
    return out;
}

Result<std::string> ReadPin(const KmsCredentials& credentials) {
    if (!credentials.pin_file.empty()) {
        std::ifstream in(credentials.pin_file);
        std::string pin;
        if (!in || !std::getline(in, pin)) {
            return Status::FailedPrecondition("cannot read the PKCS#11 PIN file " +
                                              credentials.pin_file);
        }
        return pin;
    }
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once at open; nothing in Phenix calls setenv
    if (const char* pin = std::getenv("PHENIX_PKCS11_PIN"); pin != nullptr) {
        return std::string(pin);
    }
    return Status::FailedPrecondition(
        "the PKCS#11 KMS needs the token's user PIN: pass a PIN file (--encryption-pin-file) or "
        "set PHENIX_PKCS11_PIN");
}

std::string Rv(CK_RV rv) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "CKR 0x%lx", rv);
    return buffer;
}

// The loaded modules (never unloaded: see the file comment).
Mutex modules_mu;
std::map<std::string, CK_FUNCTION_LIST_PTR>& Modules() {
    static std::map<std::string, CK_FUNCTION_LIST_PTR> modules;
    return modules;
}

Result<CK_FUNCTION_LIST_PTR> LoadModule(const std::string& path) {
    MutexLock lock(modules_mu);
    if (auto found = Modules().find(path); found != Modules().end()) {
        return found->second;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        return Status::Unavailable("cannot load the PKCS#11 module " + path + ": " +
                                   ::dlerror());
    }
    auto get_list =
        reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
    CK_FUNCTION_LIST_PTR functions = nullptr;
    if (get_list == nullptr || get_list(&functions) != CKR_OK || functions == nullptr) {
        return Status::Unavailable(path + " is not a PKCS#11 module (no C_GetFunctionList)");
    }
    const CK_RV rv = functions->C_Initialize(nullptr);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        return Status::Unavailable("C_Initialize of the PKCS#11 module " + path + " failed: " +
                                   Rv(rv));
    }
    Modules()[path] = functions;
    return functions;
}

std::string Trimmed(const unsigned char* label, std::size_t size) {
    std::string out(reinterpret_cast<const char*>(label), size);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) {
        out.pop_back();
    }
    return out;
}

class Pkcs11Session {
  public:
    Pkcs11Session(CK_FUNCTION_LIST_PTR fn, CK_SESSION_HANDLE session)
        : fn_(fn), session_(session) {}
    ~Pkcs11Session() {
        fn_->C_Logout(session_);
        fn_->C_CloseSession(session_);
    }
    Pkcs11Session(const Pkcs11Session&) = delete;
    Pkcs11Session& operator=(const Pkcs11Session&) = delete;
    [[nodiscard]] CK_FUNCTION_LIST_PTR fn() const { return fn_; }
    [[nodiscard]] CK_SESSION_HANDLE handle() const { return session_; }

  private:
    CK_FUNCTION_LIST_PTR fn_;
    CK_SESSION_HANDLE session_;
};

// Opens a logged-in read-write session on the token labelled `token`.
Result<std::unique_ptr<Pkcs11Session>> OpenSession(const Pkcs11Params& params,
                                                   const KmsCredentials& credentials) {
    PHENIX_ASSIGN_OR_RETURN(CK_FUNCTION_LIST_PTR fn, LoadModule(params.module));
    CK_ULONG num_slots = 0;
    CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &num_slots);
    std::vector<CK_SLOT_ID> slots(num_slots);
    if (rv == CKR_OK && num_slots > 0) {
        rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &num_slots);
    }
    if (rv != CKR_OK) {
        return Status::Unavailable("C_GetSlotList failed: " + Rv(rv));
    }
    for (CK_ULONG slot_idx = 0; slot_idx < num_slots; ++slot_idx) {
        CK_TOKEN_INFO info{};
        if (fn->C_GetTokenInfo(slots[slot_idx], &info) != CKR_OK ||
            Trimmed(info.label, sizeof(info.label)) != params.token) {
            continue;
        }
        CK_SESSION_HANDLE handle = 0;
        rv = fn->C_OpenSession(slots[slot_idx], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                               nullptr, &handle);
        if (rv != CKR_OK) {
            return Status::Unavailable("C_OpenSession on token '" + params.token +
                                       "' failed: " + Rv(rv));
        }
        auto session = std::make_unique<Pkcs11Session>(fn, handle);
        PHENIX_ASSIGN_OR_RETURN(std::string pin, ReadPin(credentials));
        rv = fn->C_Login(handle, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                         pin.size());
        std::fill(pin.begin(), pin.end(), '\0');
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
            return Status::FailedPrecondition("logging in to PKCS#11 token '" + params.token +
                                              "' failed (" + Rv(rv) + "): wrong PIN?");
        }
        return session;
    }
    return Status::Unavailable("no PKCS#11 token labelled '" + params.token + "' in " +
                               params.module);
}

Result<CK_OBJECT_HANDLE> FindKey(Pkcs11Session& session, const std::string& label) {
    CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
    std::string label_copy = label;
    CK_ATTRIBUTE query[] = {
        {CKA_CLASS, &key_class, sizeof(key_class)},
        {CKA_LABEL, label_copy.data(), label_copy.size()},
    };
    auto* fn = session.fn();
    if (fn->C_FindObjectsInit(session.handle(), query, 2) != CKR_OK) {
        return Status::Unavailable("C_FindObjectsInit failed");
    }
    CK_OBJECT_HANDLE handles[2] = {};
    CK_ULONG found = 0;
    const CK_RV rv = fn->C_FindObjects(session.handle(), handles, 2, &found);
    fn->C_FindObjectsFinal(session.handle());
    if (rv != CKR_OK) {
        return Status::Unavailable("C_FindObjects failed: " + Rv(rv));
    }
    if (found == 0) {
        return Status::NotFound("no secret key labelled '" + label + "' in the PKCS#11 token");
    }
    if (found > 1) {
        return Status::FailedPrecondition("several secret keys are labelled '" + label +
                                          "' in the PKCS#11 token; labels must be unique");
    }
    return handles[0];
}

// Generates a token AES-256 key labelled `label` (non-extractable, sensitive, private).
Status GenerateAesKey(Pkcs11Session& session, const std::string& label) {
    CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
    CK_KEY_TYPE key_type = CKK_AES;
    CK_ULONG value_len = kKeyBytes;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    std::string label_copy = label;
    CK_ATTRIBUTE attributes[] = {
        {CKA_CLASS, &key_class, sizeof(key_class)},
        {CKA_KEY_TYPE, &key_type, sizeof(key_type)},
        {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &no, sizeof(no)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_LABEL, label_copy.data(), label_copy.size()},
    };
    CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE key = 0;
    const CK_RV rv = session.fn()->C_GenerateKey(session.handle(), &mechanism, attributes,
                                                 sizeof(attributes) / sizeof(attributes[0]), &key);
    if (rv != CKR_OK) {
        return Status::Unavailable("generating an AES key in the PKCS#11 token failed: " + Rv(rv));
    }
    return Status::Ok();
}

CK_GCM_PARAMS Gcm(unsigned char* iv, std::string& aad) {
    CK_GCM_PARAMS gcm{};
    gcm.pIv = iv;
    gcm.ulIvLen = kGcmNonceBytes;
    gcm.ulIvBits = kGcmNonceBytes * 8;
    gcm.pAAD = reinterpret_cast<CK_BYTE_PTR>(aad.data());
    gcm.ulAADLen = aad.size();
    gcm.ulTagBits = kGcmTagBytes * 8;
    return gcm;
}

// AES-GCM encryption of a data key inside the token under `key`.
Result<std::string> TokenWrap(Pkcs11Session& session, CK_OBJECT_HANDLE key, std::string aad,
                              const SecretBytes& data_key, const std::string& key_id) {
    std::string out(kGcmNonceBytes + data_key.size() + kGcmTagBytes, '\0');
    auto* iv = reinterpret_cast<unsigned char*>(out.data());
    PHENIX_RETURN_IF_ERROR(RandomBytes(iv, kGcmNonceBytes));
    CK_GCM_PARAMS gcm = Gcm(iv, aad);
    CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof(gcm)};
    auto* fn = session.fn();
    CK_RV rv = fn->C_EncryptInit(session.handle(), &mechanism, key);
    CK_ULONG out_len = out.size() - kGcmNonceBytes;
    if (rv == CKR_OK) {
        rv = fn->C_Encrypt(session.handle(), const_cast<CK_BYTE_PTR>(data_key.data()),
                           data_key.size(), iv + kGcmNonceBytes, &out_len);
    }
    if (rv != CKR_OK || out_len != data_key.size() + kGcmTagBytes) {
        return Status::Unavailable("wrapping the data key with PKCS#11 key " + key_id +
                                   " failed: " + Rv(rv));
    }
    return out;
}

Result<SecretBytes> TokenUnwrap(Pkcs11Session& session, CK_OBJECT_HANDLE key, std::string aad,
                                std::string_view wrapped, const std::string& key_id) {
    if (wrapped.size() <= kGcmNonceBytes + kGcmTagBytes) {
        return Status::FailedPrecondition("the wrapped data key is too short");
    }
    std::string copy(wrapped);
    auto* iv = reinterpret_cast<unsigned char*>(copy.data());
    CK_GCM_PARAMS gcm = Gcm(iv, aad);
    CK_MECHANISM mechanism{CKM_AES_GCM, &gcm, sizeof(gcm)};
    SecretBytes out(copy.size() - kGcmNonceBytes);
    CK_ULONG out_len = out.size();
    auto* fn = session.fn();
    CK_RV rv = fn->C_DecryptInit(session.handle(), &mechanism, key);
    if (rv == CKR_OK) {
        rv = fn->C_Decrypt(session.handle(), iv + kGcmNonceBytes, copy.size() - kGcmNonceBytes,
                           out.data(), &out_len);
    }
    if (rv != CKR_OK) {
        return Status::FailedPrecondition("the PKCS#11 key " + key_id +
                                          " does not unwrap this data key (" + Rv(rv) + ")");
    }
    return SecretBytes(out.data(), out_len);
}

class Pkcs11Kms final : public Kms {
  public:
    Pkcs11Kms(std::unique_ptr<Pkcs11Session> session, CK_OBJECT_HANDLE key, Pkcs11Params params)
        : session_(std::move(session)),
          key_(key),
          key_id_("pkcs11:" + params.token + "/" + params.key),
          params_(std::move(params)) {}

    [[nodiscard]] std::string KeyId() const override { return key_id_; }

    Result<std::string> WrapKey(const SecretBytes& data_key) override {
        MutexLock lock(mu_);
        return TokenWrap(*session_, key_, std::string(kAadPrefix) + key_id_, data_key, key_id_);
    }

    Result<SecretBytes> UnwrapKey(std::string_view wrapped) override {
        MutexLock lock(mu_);
        return TokenUnwrap(*session_, key_, std::string(kAadPrefix) + key_id_, wrapped, key_id_);
    }

    Status CreateNamedKey(std::string_view name) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        const std::string label = NamedLabel(name);
        if (FindKey(*session_, label).ok()) {
            return Status::AlreadyExists("the PKCS#11 token already holds a key labelled '" +
                                         label + "'");
        }
        return GenerateAesKey(*session_, label);
    }

    Status DestroyNamedKey(std::string_view name) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        PHENIX_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(*session_, NamedLabel(name)));
        const CK_RV rv = session_->fn()->C_DestroyObject(session_->handle(), key);
        if (rv != CKR_OK) {
            return Status::Unavailable("destroying the PKCS#11 key '" + NamedLabel(name) +
                                       "' failed: " + Rv(rv));
        }
        return Status::Ok();
    }

    Result<std::string> WrapWithNamedKey(std::string_view name,
                                         const SecretBytes& data_key) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        const std::string label = NamedLabel(name);
        PHENIX_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(*session_, label));
        return TokenWrap(*session_, key, std::string(kNamedAadPrefix) + std::string(name), data_key,
                         "pkcs11:" + params_.token + "/" + label);
    }

    Result<SecretBytes> UnwrapWithNamedKey(std::string_view name,
                                           std::string_view wrapped) override {
        PHENIX_RETURN_IF_ERROR(ValidateNamedKeyName(name));
        MutexLock lock(mu_);
        const std::string label = NamedLabel(name);
        PHENIX_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(*session_, label));
        return TokenUnwrap(*session_, key, std::string(kNamedAadPrefix) + std::string(name),
                           wrapped, "pkcs11:" + params_.token + "/" + label);
    }

  private:
    [[nodiscard]] std::string NamedLabel(std::string_view name) const {
        return params_.key + "." + std::string(name);
    }

    Mutex mu_;
    std::unique_ptr<Pkcs11Session> session_ PT_GUARDED_BY(mu_);
    CK_OBJECT_HANDLE key_;
    std::string key_id_;
    Pkcs11Params params_;
};

}  // namespace

Result<std::unique_ptr<Kms>> OpenPkcs11Kms(std::string_view params_text,
                                           const KmsCredentials& credentials) {
    PHENIX_ASSIGN_OR_RETURN(Pkcs11Params params, ParseParams(params_text));
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<Pkcs11Session> session,
                            OpenSession(params, credentials));
    PHENIX_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindKey(*session, params.key));
    return std::unique_ptr<Kms>(
        std::make_unique<Pkcs11Kms>(std::move(session), key, std::move(params)));
}

Result<std::string> CreatePkcs11Key(std::string_view uri, const KmsCredentials& credentials) {
    if (!uri.starts_with("pkcs11:")) {
        return Status::InvalidArgument("not a PKCS#11 KMS URI: " + std::string(uri));
    }
    PHENIX_ASSIGN_OR_RETURN(Pkcs11Params params, ParseParams(uri.substr(7)));
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<Pkcs11Session> session,
                            OpenSession(params, credentials));
    if (FindKey(*session, params.key).ok()) {
        return Status::AlreadyExists("the PKCS#11 token already holds a key labelled '" +
                                     params.key + "'");
    }
    PHENIX_RETURN_IF_ERROR(GenerateAesKey(*session, params.key));
    return "pkcs11:" + params.token + "/" + params.key;
}

}  // namespace phenix::crypto
