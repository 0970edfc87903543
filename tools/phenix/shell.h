// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Shell — executes the shell's commands (see command.h) against an open
// Database and prints their results through a Printer. It keeps the session state: the
// current tenant, whether timing is on, whether quit was asked for, and the open transaction:
// between `begin` and `commit`/`rollback` every entity read and write (and `search`, `find` and
// the graph commands) goes through it, and DDL (index DDL included) and `load` are refused. Reading
// input and reporting errors are the caller's job (main.cc), which also rolls back a transaction
// still open at exit.
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <cstddef>
#include <memory>
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
    [[nodiscard]] bool InTransaction() const { return txn_ != nullptr; }
    [[nodiscard]] bool InReadOnlyTransaction() const { return txn_ != nullptr && txn_read_only_; }

    // Rolls back the open transaction, if any (for quit and end of input). Returns what was
    // rolled back, for a notice ("read-write transaction (snapshot T, 2 writes)"), or an empty
    // string when no transaction was open.
    std::string RollBackOpenTransaction();

  private:
    Status Run(const Command& cmd);
    Status RunHelp(const Command& cmd);
    Status RunUseTenant(const Command& cmd);
    Status RunScan(const Command& cmd);
    Status RunLoad(const Command& cmd);
    Status RunSearch(const Command& cmd);
    Status RunReindex(const Command& cmd);
    Status RunCreateIndex(const Command& cmd);
    Status RunFind(const Command& cmd);
    // traverse, paths, shortest, degree.
    Status RunGraph(const Command& cmd);
    Status RunBegin(const Command& cmd);
    Status RunCommit();
    Status RunRollback();

    // FailedPrecondition when a transaction is open: `what` cannot run inside one because
    // `why`.
    Status RefuseInTransaction(std::string_view what, std::string_view why) const;
    // The open transaction in words, for messages.
    [[nodiscard]] std::string DescribeTransaction() const;
    // Runs `op` on the open transaction if there is one, else on the database. `op` takes
    // either (a generic lambda) and calls the method both share.
    template <typename Op>
    auto Read(Op&& op);
    // Like Read, and counts a successful write against the open transaction.
    template <typename Op>
    Status Write(Op&& op);

    [[nodiscard]] CollectionRef Ref(const std::string& name) const { return {tenant_, name}; }

    Database& db_;
    Printer& printer_;
    const bool is_interactive_;
    std::string tenant_{kDefaultTenant};
    bool timing_ = false;
    bool quit_requested_ = false;
    // The open transaction, or null. Destroyed before db_ (the shell does not outlive it).
    std::unique_ptr<Transaction> txn_;
    bool txn_read_only_ = false;
    std::size_t num_txn_writes_ = 0;  // successful write commands in txn_
};

}  // namespace phenix::shell
