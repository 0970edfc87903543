// SPDX-License-Identifier: Apache-2.0
//
// phenixd — the Phenix DB server (docs/server.md). A thin main: configuration, then
// phenix::server::Server, which owns the whole lifecycle.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "server/access.h"
#include "server/config.h"
#include "server/server.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && args[0] == "--print-access-table") {
        // The permission of every route, gRPC method and statement kind (docs/security.md).
        std::puts(phenix::server::AccessTableJson().c_str());
        return 0;
    }
    auto loaded =
        phenix::server::LoadConfig(args, [](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            if (value == nullptr) {
                return std::nullopt;
            }
            return std::string(value);
        });
    if (!loaded.ok()) {
        std::fprintf(stderr, "phenixd: %s\n", loaded.status().message().c_str());
        return 2;
    }
    if (loaded->action != phenix::server::ConfigAction::kRun) {
        std::fputs(loaded->text.c_str(), stdout);
        return 0;
    }
    phenix::server::Server server(std::move(loaded->config));
    return server.Run();
}
