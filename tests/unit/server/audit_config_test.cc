// SPDX-License-Identifier: Apache-2.0
// The audit log's phenixd options (docs/security.md "Audit log").
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "server/config.h"
#include "testing/temp_dir.h"

namespace phenix::server {
namespace {

GetEnvFn NoEnv() {
    return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

TEST(ServerConfigAudit, OffByDefault) {
    auto loaded = LoadConfig({}, NoEnv());
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->config.audit_dir, "");
    EXPECT_FALSE(loaded->config.audit_reads);
    EXPECT_EQ(loaded->config.audit_max_file_bytes, std::uint64_t{64} << 20);
}

TEST(ServerConfigAudit, FlagsAndABareAuditReads) {
    auto loaded = LoadConfig(
        {"--audit-dir", "/var/log/phenix", "--audit-reads", "--audit-max-file-bytes", "4096"},
        NoEnv());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.audit_dir, "/var/log/phenix");
    EXPECT_TRUE(loaded->config.audit_reads);
    EXPECT_EQ(loaded->config.audit_max_file_bytes, 4096U);
    auto explicit_false = LoadConfig({"--audit-reads", "false"}, NoEnv());
    ASSERT_TRUE(explicit_false.ok()) << explicit_false.status().ToString();
    EXPECT_FALSE(explicit_false->config.audit_reads);
    auto bare_last = LoadConfig({"--audit-dir", "a", "--audit-reads"}, NoEnv());
    ASSERT_TRUE(bare_last.ok()) << bare_last.status().ToString();
    EXPECT_TRUE(bare_last->config.audit_reads);
    EXPECT_EQ(LoadConfig({"--audit-max-file-bytes", "0"}, NoEnv()).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(LoadConfig({"--audit-reads", "maybe"}, NoEnv()).status().code(),
              StatusCode::kInvalidArgument);
}

TEST(ServerConfigAudit, ConfigFileKeysReadBack) {
    phenix::testing::TempDir dir;
    const std::string path = dir.Sub("phenixd.toml");
    std::ofstream(path) << "audit_dir = \"/srv/audit\"\naudit_reads = true\n"
                           "audit_max_file_bytes = 1048576\n";
    auto loaded = LoadConfig({"--config", path}, NoEnv());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.audit_dir, "/srv/audit");
    EXPECT_TRUE(loaded->config.audit_reads);
    EXPECT_EQ(loaded->config.audit_max_file_bytes, 1048576U);
    const std::string toml = ConfigToToml(loaded->config);
    EXPECT_NE(toml.find("audit_dir = \"/srv/audit\""), std::string::npos) << toml;
    EXPECT_NE(toml.find("audit_reads = true"), std::string::npos) << toml;
}

}  // namespace
}  // namespace phenix::server
