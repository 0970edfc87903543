// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Shell — executes the shell's commands (see command.h) against an open
// Database and prints their results through a Printer. It keeps the session state: the
// current tenant, whether timing is on, and whether quit was asked for. Reading input and
// reporting errors are the caller's job (main.cc).
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <string>
#include <string_view>

#include <phenix/db.h>
#include <phenix/status.h>

#include "command.h"
#include "output.h"

namespace phenix::shell {

class Shell {
  public:
    // `db` and `printer` must outlive the shell.
    Shell(Database& db, Printer& printer, bool is_interactive)
        : db_(db), printer_(printer), is_interactive_(is_interactive) {}

    // Parses and runs one statement. Returns its error, if any (not yet printed).
    Status Execute(std::string_view statement);

    [[nodiscard]] bool QuitRequested() const { return quit_requested_; }
    [[nodiscard]] const std::string& CurrentTenant() const { return tenant_; }

  private:
    Status Run(const Command& cmd);
    Status RunHelp(const Command& cmd);
    Status RunUseTenant(const Command& cmd);
    Status RunScan(const Command& cmd);
    Status RunLoad(const Command& cmd);

    [[nodiscard]] CollectionRef Ref(const std::string& name) const { return {tenant_, name}; }

    Database& db_;
    Printer& printer_;
    const bool is_interactive_;
    std::string tenant_{kDefaultTenant};
    bool timing_ = false;
    bool quit_requested_ = false;
};

}  // namespace phenix::shell
