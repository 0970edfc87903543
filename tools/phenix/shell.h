// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Shell — executes PhenixQL statements (through one phenix::QuerySession) and the
// older shell commands (see command.h) against an open Database, and prints their results
// through a Printer. It keeps the session state: the current tenant, whether timing is on,
// whether quit was asked for, and the open transaction, which is the QuerySession's: PhenixQL
// and commands share it. Between `begin` (or BEGIN) and `commit`/`rollback` every entity read
// and write (and `search`, `find` and the graph commands) goes through it, and DDL (index DDL
// included), `load` and COPY are refused. Reading input, choosing the language of a statement
// (router.h) and reporting errors are the caller's job (main.cc), which also rolls back a
// transaction still open at exit.
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/status.h>

#include "command.h"
#include "output.h"

namespace phenix::shell {

class Shell {
  public:
    // `db` and `printer` must outlive the shell.
    Shell(Database& db, Printer& printer);
    ~Shell();
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    // Parses and runs one command (command.h). Returns its error, if any (not yet printed).
    Status Execute(std::string_view statement);
    // Runs one PhenixQL statement and prints its result. Returns its error, if any (not yet
    // printed).
    Status ExecuteQuery(std::string_view statement);

    // Where COPY (and load) may read and write files (QuerySession::set_copy_directory).
    void SetCopyDirectory(std::string directory) {
        session_.set_copy_directory(std::move(directory));
    }
    // The most memory one SELECT may hold for its rows (QuerySession::set_memory_limit).
    void SetMemoryLimit(std::size_t bytes) { session_.set_memory_limit(bytes); }

    [[nodiscard]] bool QuitRequested() const { return quit_requested_; }
    [[nodiscard]] const std::string& CurrentTenant() const { return session_.tenant(); }
    [[nodiscard]] bool InTransaction() const { return session_.transaction() != nullptr; }
    [[nodiscard]] bool InReadOnlyTransaction() const {
        return InTransaction() && session_.transaction_read_only();
    }

    // Rolls back the open transaction, if any (for quit and end of input). Returns what was
    // rolled back, for a notice ("read-write transaction (snapshot T, 2 writes)"), or an empty
    // string when no transaction was open.
    std::string RollBackOpenTransaction();

  private:
    Status Run(const Command& cmd);
    Status RunHelp(const Command& cmd);
    Status RunUseTenant(const Command& cmd);
    Status RunScan(const Command& cmd);
    // `load NAME FILE`: runs COPY NAME FROM 'FILE' through session_.
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

    [[nodiscard]] CollectionRef Ref(const std::string& name) const {
        return {session_.tenant(), name};
    }
    [[nodiscard]] Transaction* Txn() const { return session_.transaction(); }
    // Prints "Time: 1.234 ms" when timing is on.
    void PrintTiming(double ms) const;
    // Ends a progress line on stderr, if one was printed.
    void FinishProgress();
    // Erases a progress line from stderr, if one was printed (for a command that prints its
    // own summary).
    void ClearProgress();

    Database& db_;
    Printer& printer_;
    bool timing_ = false;
    bool quit_requested_ = false;
    // The tenant and the open transaction (shared by PhenixQL and the commands). Destroyed
    // before db_ (the shell does not outlive it).
    QuerySession session_;
    // The transaction num_txn_writes_ counts for (a new one resets the count).
    const Transaction* counted_txn_ = nullptr;
    std::size_t num_txn_writes_ = 0;  // successful writes in the open transaction
    bool has_progress_line_ = false;  // a progress line is on stderr, not yet ended
};

}  // namespace phenix::shell
