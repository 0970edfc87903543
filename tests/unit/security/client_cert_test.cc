// SPDX-License-Identifier: Apache-2.0
#include "security/client_cert.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace phenix::security {
namespace {

constexpr std::string_view kMap = R"({"clients": [
  {"cn": "ingest", "principal": "svc-ingest", "tenant": "acme", "roles": ["writer"]},
  {"san": "URI:spiffe://acme/search", "tenant": "acme", "roles": ["reader", "auditor"]},
  {"dn": "CN=ops,O=Acme", "tenant": "*", "roles": ["admin"]}
]})";

template <typename Map>
Result<Principal> Authenticate(Map& map, const ClientCertificate& certificate) {
    return map.Authenticate(Credentials{.bearer = {}, .client_certificate = &certificate});
}

TEST(ClientCertificateMap, TheFirstMatchingRuleNamesThePrincipal) {
    auto map = ClientCertificateMap::Parse(kMap);
    ASSERT_TRUE(map.ok()) << map.status().ToString();
    EXPECT_EQ((*map)->size(), 3u);
    auto ingest = Authenticate(**map, {.subject = "CN=ingest,O=Acme", .common_name = "ingest"});
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    EXPECT_EQ(ingest->subject, "svc-ingest");
    EXPECT_EQ(ingest->tenant, "acme");
    EXPECT_EQ(ingest->roles, (std::vector<std::string>{"writer"}));
    EXPECT_EQ(ingest->method, AuthMethod::kClientCertificate);
    auto search = Authenticate(**map, {.subject = "CN=x",
                                       .common_name = "x",
                                       .sans = {"DNS:search", "URI:spiffe://acme/search"}});
    ASSERT_TRUE(search.ok());
    EXPECT_EQ(search->subject, "cert:URI:spiffe://acme/search");
    EXPECT_EQ(search->roles, (std::vector<std::string>{"reader", "auditor"}));
    auto ops = Authenticate(**map, {.subject = "CN=ops,O=Acme", .common_name = "ops"});
    ASSERT_TRUE(ops.ok());
    EXPECT_TRUE(ops->IsClusterAdmin());
}

TEST(ClientCertificateMap, NothingElseMatches) {
    auto map = ClientCertificateMap::Parse(kMap);
    ASSERT_TRUE(map.ok());
    // Exact comparisons: a CN that only contains the rule's, a subject with another O, a SAN of
    // another type with the same text, two CNs (no common name), no certificate.
    const ClientCertificate misses[] = {
        {.subject = "CN=ingest2", .common_name = "ingest2"},
        {.subject = "CN=ops,O=Other", .common_name = "ops"},
        {.subject = "CN=y", .common_name = "y", .sans = {"DNS:spiffe://acme/search"}},
        {.subject = "CN=ingest+CN=ops", .common_name = ""},
    };
    for (const ClientCertificate& certificate : misses) {
        auto refused = Authenticate(**map, certificate);
        ASSERT_FALSE(refused.ok()) << certificate.subject;
        EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
        EXPECT_NE(refused.status().message().find(certificate.subject), std::string::npos);
    }
    EXPECT_EQ((*map)->Authenticate(Credentials{.bearer = "x"}).status().code(),
              StatusCode::kUnauthenticated);
}

TEST(ClientCertificateMap, MistakesAreRefusedAtLoad) {
    const std::pair<std::string_view, std::string_view> bad[] = {
        {"[]", "expected {\"clients\""},
        {R"({"clients": [], "extra": 1})", "nothing else"},
        {R"({"clients": [{"cn": "a", "tenant": "t", "roles": ["r"], "role": "x"}]})",
         "unknown key 'role'"},
        {R"({"clients": [{"tenant": "t", "roles": ["r"]}]})", "exactly one of cn, dn, san"},
        {R"({"clients": [{"cn": "a", "san": "DNS:a", "tenant": "t", "roles": ["r"]}]})",
         "exactly one of cn, dn, san"},
        {R"({"clients": [{"cn": "a", "roles": ["r"]}]})", "names no tenant"},
        {R"({"clients": [{"cn": "a", "tenant": "t", "roles": []}]})", "non-empty array"},
        {R"({"clients": [{"cn": "a", "tenant": "", "roles": ["r"]}]})", "non-empty string"},
        {R"({"clients": [{"cn": "a", "tenant": "t", "roles": ["r"]},
                         {"cn": "a", "tenant": "u", "roles": ["r"]}]})",
         "clients[1] matches what an earlier rule matches"},
        {"{", "not valid JSON"},
    };
    for (const auto& [text, expected] : bad) {
        auto parsed = ClientCertificateMap::Parse(text);
        ASSERT_FALSE(parsed.ok()) << text;
        EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
        EXPECT_NE(parsed.status().message().find(expected), std::string::npos)
            << text << ": " << parsed.status().message();
    }
    auto missing = ClientCertificateMap::Load("/nonexistent/phenix-client-map.json");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("--tls-client-map /nonexistent"), std::string::npos);
}

// The --tls-client-map file reloads whole or not at all.
TEST(ClientCertificateMapFile, ReloadReplacesTheMapOnlyWhenTheFileLoads) {
    const std::filesystem::path path =
        std::filesystem::path(::testing::TempDir()) /
        ("client_map_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         ".json");
    const auto write = [&path](std::string_view text) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    };
    const ClientCertificate dave{.subject = "CN=dave", .common_name = "dave"};
    const ClientCertificate ingest{.subject = "CN=ingest", .common_name = "ingest"};
    write(kMap);
    auto file = ClientCertificateMapFile::Load(path.string());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_TRUE(Authenticate(**file, ingest).ok());
    EXPECT_EQ(Authenticate(**file, dave).status().code(), StatusCode::kUnauthenticated);

    write(R"({"clients": [{"cn": "dave", "tenant": "acme", "roles": ["reader"]}]})");
    auto reloaded = (*file)->Reload();
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_EQ(*reloaded, 1u);
    EXPECT_TRUE(Authenticate(**file, dave).ok());
    EXPECT_FALSE(Authenticate(**file, ingest).ok());  // the old rules are gone

    // A bad rule, then no file: the error names the file; dave's map stays.
    write(R"({"clients": [{"cn": "eve", "tenant": "", "roles": ["admin"]}]})");
    auto bad = (*file)->Reload();
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find(path.string()), std::string::npos);
    std::filesystem::remove(path);
    EXPECT_FALSE((*file)->Reload().ok());
    auto still = Authenticate(**file, dave);
    ASSERT_TRUE(still.ok());
    EXPECT_EQ(still->tenant, "acme");
}

}  // namespace
}  // namespace phenix::security
