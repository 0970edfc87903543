// SPDX-License-Identifier: Apache-2.0
#include "audit_command.h"

#include <cstdio>
#include <string>

#include "audit/verify.h"

namespace phenix::shell {
namespace {

constexpr std::string_view kAuditUsage = R"(Usage: phenix audit verify DIR [--last-hash HASH]

Checks the audit log that phenixd writes with --audit-dir DIR: every file in order, each
record's JSON and hash, seq continuity and the hash chain across files. Prints
"ok: N records in M files, last hash H", or the first broken record (file, line, seq, why).

  --last-hash HASH   also require the record with this hash (noted earlier, e.g. shipped
                     off-host): records removed from the end of the log are invisible
                     to the chain alone

Exit status: 0 the log is intact, 1 it is broken or cannot be read, 2 invalid usage.
)";

int Usage(const std::string& error) {
    std::fprintf(stderr, "phenix audit: %s\n%.*s", error.c_str(),
                 static_cast<int>(kAuditUsage.size()), kAuditUsage.data());
    return 2;
}

}  // namespace

int RunAuditCommand(const std::vector<std::string_view>& args) {
    if (args.empty()) {
        return Usage("missing subcommand (verify)");
    }
    if (args[0] == "-h" || args[0] == "--help") {
        std::fwrite(kAuditUsage.data(), 1, kAuditUsage.size(), stdout);
        return 0;
    }
    if (args[0] != "verify") {
        return Usage("unknown subcommand '" + std::string(args[0]) + "'");
    }
    std::string dir;
    std::string last_hash;
    for (std::size_t arg_idx = 1; arg_idx < args.size(); ++arg_idx) {
        const std::string_view arg = args[arg_idx];
        if (arg == "--last-hash") {
            if (arg_idx + 1 >= args.size()) {
                return Usage("--last-hash needs a hash");
            }
            last_hash = std::string(args[++arg_idx]);
        } else if (arg.starts_with("--last-hash=")) {
            last_hash = std::string(arg.substr(std::string_view("--last-hash=").size()));
        } else if (arg == "-h" || arg == "--help") {
            std::fwrite(kAuditUsage.data(), 1, kAuditUsage.size(), stdout);
            return 0;
        } else if (arg.starts_with("-") || !dir.empty()) {
            return Usage("unexpected argument '" + std::string(arg) + "'");
        } else {
            dir = std::string(arg);
        }
    }
    if (dir.empty()) {
        return Usage("missing the audit directory");
    }
    auto report = audit::VerifyAuditLog(dir, last_hash);
    if (!report.ok()) {
        std::fprintf(stderr, "error: %s\n", report.status().ToString().c_str());
        return 1;
    }
    const std::string text = report->ToString();
    if (report->ok()) {
        std::printf("%s\n", text.c_str());
        return 0;
    }
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fprintf(stderr, "(%llu records before it verified)\n",
                 static_cast<unsigned long long>(report->num_records));
    return 1;
}

}  // namespace phenix::shell
