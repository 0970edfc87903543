// SPDX-License-Identifier: Apache-2.0
#include "security/api_keys.h"

#include <gtest/gtest.h>

#include "security/catalog.h"
#include "security/rbac.h"

namespace phenix::security {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

TEST(ApiKeys, ParseAcceptsOnlyTheExactShape) {
    const std::string id(16, 'a');
    const std::string secret(64, '0');
    auto parts = ParseApiKey("phx_" + id + "_" + secret);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->id, id);
    EXPECT_EQ(parts->secret, secret);
    for (const std::string& bad :
         {std::string(), std::string("phx_"), "phx_" + id + secret,
          "phx_" + id + "_" + secret + "0", "phx_" + id + "_" + secret.substr(1),
          "phx_" + id + "-" + secret, "phx_" + std::string(16, 'A') + "_" + secret,
          "phx_" + id + "_" + std::string(64, 'g'), "PHX_" + id + "_" + secret}) {
        auto result = ParseApiKey(bad);
        ASSERT_FALSE(result.ok()) << bad;
        EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
    }
}

TEST(ApiKeys, HashIsSaltedAndVerifies) {
    auto salt1 = RandomHex(16);
    auto salt2 = RandomHex(16);
    ASSERT_TRUE(salt1.ok() && salt2.ok());
    EXPECT_EQ(salt1->size(), 32u);
    EXPECT_NE(*salt1, *salt2);
    const std::string secret(64, '7');
    auto hash1 = HashApiKeySecret(*salt1, secret);
    auto hash2 = HashApiKeySecret(*salt2, secret);
    ASSERT_TRUE(hash1.ok() && hash2.ok());
    EXPECT_NE(*hash1, *hash2);  // the same secret, unrelated hashes
    EXPECT_EQ(hash1->size(), 64u);
    EXPECT_TRUE(VerifyApiKeySecret(*salt1, *hash1, secret));
    EXPECT_FALSE(VerifyApiKeySecret(*salt1, *hash2, secret));
    EXPECT_FALSE(VerifyApiKeySecret(*salt1, *hash1, std::string(64, '8')));
    EXPECT_FALSE(VerifyApiKeySecret(*salt1, hash1->substr(2), secret));  // length differs
    EXPECT_FALSE(VerifyApiKeySecret("zz", *hash1, secret));              // not hex
    // HMAC-SHA256 known answer (RFC 4231 test case 2 shape: key "Jefe").
    auto known = HashApiKeySecret("4a656665", "what do ya want for nothing?");
    ASSERT_TRUE(known.ok());
    EXPECT_EQ(*known, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

class ApiKeyAuthenticatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto catalog = SecurityCatalog::Open("");
        ASSERT_TRUE(catalog.ok());
        catalog_ = std::move(*catalog);
        ASSERT_TRUE(catalog_->CreateRole("acme", "ingest", {Permission::kWrite}, 0).ok());
    }
    Result<Principal> Authenticate(std::string_view bearer) {
        ApiKeyAuthenticator authenticator(*catalog_, [this] { return now_; });
        return authenticator.Authenticate(Credentials{.bearer = bearer});
    }
    std::int64_t NowMs() const {
        return std::chrono::duration_cast<milliseconds>(now_.time_since_epoch()).count();
    }

    std::unique_ptr<SecurityCatalog> catalog_;
    system_clock::time_point now_ = system_clock::time_point(milliseconds(1'700'000'000'000));
};

TEST_F(ApiKeyAuthenticatorTest, AKeyAuthenticatesAsItsTenantAndRoles) {
    auto key = catalog_->CreateApiKey("acme", {"reader", "ingest"}, 0, "alice", NowMs());
    ASSERT_TRUE(key.ok());
    EXPECT_TRUE(ApiKeyAuthenticator::Handles(key->key));
    auto principal = Authenticate(key->key);
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    EXPECT_EQ(principal->tenant, "acme");
    EXPECT_EQ(principal->subject, "apikey:" + key->record.id);
    EXPECT_EQ(principal->roles, (std::vector<std::string>{"ingest", "reader"}));
    EXPECT_EQ(principal->method, AuthMethod::kApiKey);
}

// A key binds the role it was made with, not the name: dropping the role unbinds it, so a role
// created again under the same name (perhaps with more permissions) does not widen the old key.
TEST_F(ApiKeyAuthenticatorTest, ARoleDroppedAndCreatedAgainDoesNotApplyToOldKeys) {
    auto key = catalog_->CreateApiKey("acme", {"reader", "ingest"}, 0, "alice", NowMs());
    ASSERT_TRUE(key.ok());
    auto other = catalog_->CreateApiKey("beta", {"reader"}, 0, "bob", NowMs());
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(catalog_->DropRole("acme", "ingest").ok());
    ASSERT_TRUE(catalog_->CreateRole("acme", "ingest", {Permission::kAdmin}, 0).ok());
    auto principal = Authenticate(key->key);
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    EXPECT_EQ(principal->roles, (std::vector<std::string>{"reader"}));
    const RbacAuthorizer authorizer(*catalog_);
    EXPECT_EQ(authorizer.Check(*principal, Permission::kAdmin, Resource::Tenant("acme")).code(),
              StatusCode::kPermissionDenied);
    // A key made after the new role holds it.
    auto fresh = catalog_->CreateApiKey("acme", {"ingest"}, 0, "alice", NowMs());
    ASSERT_TRUE(fresh.ok());
    auto fresh_principal = Authenticate(fresh->key);
    ASSERT_TRUE(fresh_principal.ok());
    EXPECT_TRUE(
        authorizer.Check(*fresh_principal, Permission::kAdmin, Resource::Tenant("acme")).ok());
    // Another tenant's keys are untouched, and the listing shows what a key holds now.
    EXPECT_EQ(catalog_->Snapshot()->keys.at(other->record.id).roles,
              (std::vector<std::string>{"reader"}));
    EXPECT_EQ(catalog_->Snapshot()->keys.at(key->record.id).roles,
              (std::vector<std::string>{"reader"}));
}

TEST_F(ApiKeyAuthenticatorTest, EachFailureHasItsPreciseReason) {
    auto key = catalog_->CreateApiKey("acme", {"reader"}, NowMs() + 1000, "", NowMs());
    ASSERT_TRUE(key.ok());
    auto parts = ParseApiKey(key->key);
    ASSERT_TRUE(parts.ok());
    auto reason = [&](std::string_view bearer) {
        auto result = Authenticate(bearer);
        EXPECT_FALSE(result.ok()) << bearer;
        EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
        return result.status().message();
    };
    EXPECT_EQ(reason("phx_nope"), "malformed API key");
    EXPECT_NE(reason("phx_0000000000000000_" + parts->secret).find("unknown API key id"),
              std::string::npos);
    std::string wrong = parts->secret;
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    EXPECT_NE(reason("phx_" + parts->id + "_" + wrong).find("bad secret"), std::string::npos);
    ASSERT_TRUE(Authenticate(key->key).ok());
    now_ += milliseconds(1000);
    EXPECT_NE(reason(key->key).find("expired"), std::string::npos);
    now_ -= milliseconds(1);
    ASSERT_TRUE(Authenticate(key->key).ok());
    ASSERT_TRUE(catalog_->RevokeApiKey("acme", parts->id, NowMs()).ok());
    EXPECT_NE(reason(key->key).find("revoked"), std::string::npos);
}

}  // namespace
}  // namespace phenix::security
