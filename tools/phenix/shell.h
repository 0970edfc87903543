// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Shell — runs PhenixQL statements (through a Backend: a QuerySession on a data
// directory opened in this process, or a RemoteSession on a phenixd server; backend.h) and the
// shell's `\` meta-commands (meta_command.h), and prints their results through a Printer. It
// keeps the shell's state around the backend's session (current tenant, open transaction):
// whether timing is on, the open transaction's writes, and whether quit was asked for. Reading
// input, splitting it into statements (meta_command.h) and reporting errors are the caller's job
// (main.cc), which also rolls back a transaction still open at exit.
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <phenix/phenixql.h>
#include <phenix/status.h>

#include "backend.h"
#include "meta_command.h"
#include "output.h"

namespace phenix::shell {

class Shell {
  public:
    // `backend` and `printer` must outlive the shell. Progress lines of long statements go to
    // stderr when it is a terminal (one line, overwritten in place) or when `progress_asked`
    // (phenix --progress: one line each, for a file or a pipe); otherwise nowhere.
    Shell(Backend& backend, Printer& printer, bool progress_asked = false);
    ~Shell();
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    // Runs one PhenixQL statement and prints its result. Returns its error, if any (not yet
    // printed).
    Status ExecuteQuery(std::string_view statement);
    // Runs one meta-command line (\q, \?, \timing, \d ...). Returns its error, if any.
    Status ExecuteMeta(std::string_view line);

    [[nodiscard]] bool QuitRequested() const { return quit_requested_; }
    [[nodiscard]] const std::string& CurrentTenant() const { return backend_.Tenant(); }
    [[nodiscard]] bool InTransaction() const { return backend_.InTransaction(); }
    [[nodiscard]] bool InReadOnlyTransaction() const { return backend_.InReadOnlyTransaction(); }

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

    Backend& backend_;
    Printer& printer_;
    bool timing_ = false;
    bool quit_requested_ = false;
    std::size_t num_txn_writes_ = 0;  // entities written in the open transaction
    bool has_progress_line_ = false;  // a progress line is on stderr, not yet ended
};

}  // namespace phenix::shell
