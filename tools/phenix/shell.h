// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Shell — runs PhenixQL statements (through one phenix::QuerySession) and the
// shell's `\` meta-commands (meta_command.h) against an open Database, and prints their results
// through a Printer. It keeps the session state: the QuerySession (current tenant, open
// transaction), whether timing is on, and whether quit was asked for. Reading input, splitting it
// into statements (meta_command.h) and reporting errors are the caller's job (main.cc), which
// also rolls back a transaction still open at exit.
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

#include "meta_command.h"
#include "output.h"

namespace phenix::shell {

class Shell {
  public:
    // `db` and `printer` must outlive the shell.
    Shell(Database& db, Printer& printer);
    ~Shell();
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    // Runs one PhenixQL statement and prints its result. Returns its error, if any (not yet
    // printed).
    Status ExecuteQuery(std::string_view statement);
    // Runs one meta-command line (\q, \?, \timing, \d ...). Returns its error, if any.
    Status ExecuteMeta(std::string_view line);

    // Where COPY may read and write files (QuerySession::set_copy_directory).
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
    // rolled back, for a notice ("read-write transaction (snapshot T, 2 uncommitted writes)"),
    // or an empty string when no transaction was open.
    std::string RollBackOpenTransaction();

  private:
    Status RunHelp(const std::string& topic);
    // The error to show for a failed statement: with the open transaction described when BEGIN
    // found one open, with what happened to the transaction when COMMIT failed, and with the
    // PhenixQL replacement when the statement starts with a command of the shell's older
    // command language.
    [[nodiscard]] Status Explain(std::string_view statement, const Status& status,
                                 bool was_in_transaction) const;
    // The open transaction in words, for messages.
    [[nodiscard]] std::string DescribeTransaction() const;
    // Prints "Time: 1.234 ms" when timing is on.
    void PrintTiming(double ms) const;
    // Ends a progress line on stderr, if one was printed.
    void FinishProgress();

    Database& db_;
    Printer& printer_;
    bool timing_ = false;
    bool quit_requested_ = false;
    // The tenant and the open transaction. Destroyed before db_ (the shell does not outlive it).
    QuerySession session_;
    // The transaction num_txn_writes_ counts for (a new one resets the count).
    const Transaction* counted_txn_ = nullptr;
    std::size_t num_txn_writes_ = 0;  // entities written in the open transaction
    bool has_progress_line_ = false;  // a progress line is on stderr, not yet ended
};

}  // namespace phenix::shell
