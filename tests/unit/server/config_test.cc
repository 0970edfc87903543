// SPDX-License-Identifier: Apache-2.0
#include "server/config.h"

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace phenix::server {
namespace {

GetEnvFn Env(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

std::string WriteFile(const std::string& dir, const std::string& text) {
    const std::string path = dir + "/phenixd.toml";
    std::ofstream(path) << text;
    return path;
}

TEST(ServerConfigTest, DefaultsAreLoopbackAndLocalData) {
    auto loaded = LoadConfig({}, Env({}));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->action, ConfigAction::kRun);
    EXPECT_EQ(loaded->config.data_dir, "./phenix-data");
    EXPECT_EQ(loaded->config.http_address, "127.0.0.1:8080");
    EXPECT_EQ(loaded->config.grpc_address, "127.0.0.1:9090");
}

TEST(ServerConfigTest, GrpcAddressIsCheckedAndMayBeEmpty) {
    auto flag = LoadConfig({"--grpc", "127.0.0.1:0"}, Env({}));
    ASSERT_TRUE(flag.ok()) << flag.status().ToString();
    EXPECT_EQ(flag->config.grpc_address, "127.0.0.1:0");
    auto env = LoadConfig({}, Env({{"PHENIX_GRPC", "[::1]:9999"}}));
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    EXPECT_EQ(env->config.grpc_address, "[::1]:9999");
    auto off = LoadConfig({"--grpc", ""}, Env({}));
    ASSERT_TRUE(off.ok()) << off.status().ToString();
    EXPECT_EQ(off->config.grpc_address, "");
    EXPECT_EQ(LoadConfig({"--grpc", "nonsense"}, Env({})).status().code(),
              StatusCode::kInvalidArgument);
}

TEST(ServerConfigTest, FlagsBeatEnvironmentBeatFile) {
    testing::TempDir dir;
    const std::string file =
        WriteFile(dir.path(), "workers = 3\nqueue_capacity = 7\nhttp = \"127.0.0.1:1\"\n");
    auto loaded = LoadConfig({"--config", file, "--workers", "9"},
                             Env({{"PHENIX_WORKERS", "5"}, {"PHENIX_QUEUE_CAPACITY", "8"}}));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.workers, 9u);                  // flag
    EXPECT_EQ(loaded->config.queue_capacity, 8u);           // environment over file
    EXPECT_EQ(loaded->config.http_address, "127.0.0.1:1");  // file over default
}

TEST(ServerConfigTest, ConfigFileFromEnvironment) {
    testing::TempDir dir;
    const std::string file = WriteFile(dir.path(), "data = \"/srv/phenix\"\n");
    auto loaded = LoadConfig({}, Env({{"PHENIX_CONFIG", file}}));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.data_dir, "/srv/phenix");
}

TEST(ServerConfigTest, BadValuesNameTheirSource) {
    auto flag = LoadConfig({"--workers", "0"}, Env({}));
    ASSERT_FALSE(flag.ok());
    EXPECT_NE(flag.status().message().find("--workers"), std::string::npos);

    auto env = LoadConfig({}, Env({{"PHENIX_HTTP", "no-port"}}));
    ASSERT_FALSE(env.ok());
    EXPECT_NE(env.status().message().find("PHENIX_HTTP"), std::string::npos);

    testing::TempDir dir;
    const std::string file = WriteFile(dir.path(), "wokers = 3\n");
    auto unknown = LoadConfig({"--config", file}, Env({}));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.status().message().find("unknown key 'wokers'"), std::string::npos);

    auto syntax = LoadConfig({"--config", WriteFile(dir.path(), "workers = = 3\n")}, Env({}));
    ASSERT_FALSE(syntax.ok());
    EXPECT_NE(syntax.status().message().find(":1:"), std::string::npos)
        << syntax.status().message();

    auto unknown_flag = LoadConfig({"--wrokers", "3"}, Env({}));
    EXPECT_FALSE(unknown_flag.ok());
}

TEST(ServerConfigTest, TlsOptions) {
    auto defaults = LoadConfig({}, Env({}));
    ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
    EXPECT_TRUE(defaults->config.tls_cert.empty());  // TLS is off by default
    EXPECT_EQ(defaults->config.tls_min_version, "1.2");

    testing::TempDir dir;
    const std::string file = WriteFile(
        dir.path(),
        "tls_cert = \"/etc/c.pem\"\ntls_key = \"/etc/k.pem\"\ntls_min_version = \"1.3\"\n");
    auto loaded = LoadConfig({"--config", file, "--tls-client-ca", "/etc/ca.pem"}, Env({}));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.tls_cert, "/etc/c.pem");
    EXPECT_EQ(loaded->config.tls_key, "/etc/k.pem");
    EXPECT_EQ(loaded->config.tls_client_ca, "/etc/ca.pem");
    EXPECT_EQ(loaded->config.tls_min_version, "1.3");

    auto old = LoadConfig({"--tls-min-version", "1.1"}, Env({}));
    ASSERT_FALSE(old.ok());
    EXPECT_NE(old.status().message().find("--tls-min-version"), std::string::npos);
}

// Every BOOL option reads true/1 and false/0 alike, and names what it expected otherwise.
TEST(ServerConfigTest, BooleanOptionsParseOneWay) {
    std::size_t num_bools = 0;
    for (const OptionSpec& option : OptionTable()) {
        if (option.value_name != "BOOL") {
            continue;
        }
        ++num_bools;
        const std::string env = EnvName(option.name);
        for (const auto& [text, expected] :
             {std::pair{"true", "true"}, {"1", "true"}, {"false", "false"}, {"0", "false"}}) {
            auto loaded = LoadConfig({}, Env({{env, text}}));
            ASSERT_TRUE(loaded.ok()) << env << "=" << text << ": " << loaded.status().ToString();
            EXPECT_EQ(option.get(loaded->config), expected) << env << "=" << text;
        }
        auto refused = LoadConfig({}, Env({{env, "yes"}}));
        ASSERT_FALSE(refused.ok()) << env;
        EXPECT_NE(refused.status().message().find("expected true or false, not 'yes'"),
                  std::string::npos)
            << refused.status().ToString();
    }
    EXPECT_GE(num_bools, 3u);  // access_log, audit_reads, insecure_no_auth
}

// --tls-client-map turns verified client certificates into principals: only with a client CA
// (the certificates are verified) and --auth jwt.
TEST(ServerConfigTest, TlsClientMapNeedsClientCaAndAuth) {
    ServerConfig config;
    config.tls_client_map = "/etc/phenix/clients.json";
    config.auth = "jwt";
    config.jwt_jwks = "/etc/phenix/jwks.json";
    EXPECT_EQ(CheckSecurityConfig(config).code(), StatusCode::kInvalidArgument);
    config.tls_client_ca = "/etc/phenix/ca.pem";
    EXPECT_TRUE(CheckSecurityConfig(config).ok());
    config.auth = "off";
    const Status off = CheckSecurityConfig(config);
    EXPECT_EQ(off.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(off.message().find("--tls-client-map"), std::string::npos);
}

TEST(ServerConfigTest, HelpListsEveryOptionWithItsEnvironmentVariable) {
    auto loaded = LoadConfig({"--help"}, Env({}));
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->action, ConfigAction::kHelp);
    for (const OptionSpec& option : OptionTable()) {
        EXPECT_NE(loaded->text.find(FlagName(option.name)), std::string::npos) << option.name;
        EXPECT_NE(loaded->text.find(EnvName(option.name)), std::string::npos) << option.name;
    }
}

TEST(ServerConfigTest, PrintConfigReadsBack) {
    auto loaded = LoadConfig({"--print-config", "--http", "0.0.0.0:9", "--access-log", "false"},
                             Env({{"PHENIX_DATA", "/data \"x\""}}));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(loaded->action, ConfigAction::kPrintConfig);
    testing::TempDir dir;
    auto again = LoadConfig({"--config", WriteFile(dir.path(), loaded->text)}, Env({}));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->config.http_address, "0.0.0.0:9");
    EXPECT_EQ(again->config.data_dir, "/data \"x\"");
    EXPECT_FALSE(again->config.access_log);
    EXPECT_EQ(ConfigToToml(again->config), loaded->text);
}

TEST(ServerConfigTest, ParseHostPort) {
    auto v4 = ParseHostPort("127.0.0.1:0");
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 0);
    auto v6 = ParseHostPort("[::1]:8080");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 8080);
    EXPECT_FALSE(ParseHostPort("localhost").ok());
    EXPECT_FALSE(ParseHostPort(":80").ok());
    EXPECT_FALSE(ParseHostPort("h:65536").ok());
    EXPECT_FALSE(ParseHostPort("h:8x").ok());
}

}  // namespace
}  // namespace phenix::server
