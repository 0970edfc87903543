// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Router — turns the shell's input lines into statements and decides, for each,
// which language runs it: PhenixQL (include/phenix/phenixql.h) or the older command language of
// command.h. Pure text processing; nothing here touches a database.
//
// The rules (docs/shell.md, "Two languages"):
//   - A statement whose first word is not a PhenixQL statement keyword (SELECT INSERT UPDATE
//     DELETE CREATE DROP SHOW DESCRIBE BEGIN COMMIT ROLLBACK EXPLAIN COPY) is a command: `get`,
//     `scan`, `search`, `\timing`, `# comment` ... Commands are read line by line, as before:
//     a line that starts with one is split with the command splitter, and the last statement
//     of a line needs no ';'.
//   - A statement that starts with a PhenixQL keyword is PhenixQL, and continues over lines
//     until a ';' ends it, unless the command parser accepts it and PhenixQL cannot read it
//     (`insert docs {...}`, `delete docs d1`, `create collection c dim 4`, `begin read only`):
//     then it is the command, and needs no ';'.
//   - A few statements read the same in both languages: BEGIN, COMMIT, ROLLBACK, DESCRIBE x,
//     CREATE COLLECTION x, DROP COLLECTION x. They run as PhenixQL when they end with ';' on a
//     line of PhenixQL; written the command way (no ';' at the end of the line, or on a line
//     that also holds commands) they run as commands and print what the commands always printed.
//
// Thread-compatible: one router per input source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/status.h>

namespace phenix::shell {

enum class Language : std::uint8_t { kCommand, kPhenixQl };

struct RoutedStatement {
    std::string text;  // without surrounding whitespace; PhenixQL keeps its ';'
    Language language = Language::kCommand;
    std::size_t line = 0;  // 1-based input line on which the statement starts
};

class Router {
  public:
    // The statements that `line` (input line number `line_number`) completes, in order.
    std::vector<RoutedStatement> AddLine(std::string_view line, std::size_t line_number);

    // At the end of the input: the unfinished PhenixQL statement (no final ';'), if any. It is
    // run as it is, like psql -c runs a statement without ';'.
    std::optional<RoutedStatement> Finish();

    // Whether a PhenixQL statement is waiting for more lines (the continuation prompt).
    [[nodiscard]] bool HasPending() const { return !pending_.empty(); }
    // Forgets the unfinished statement (^C at the prompt).
    void Clear() { pending_.clear(); }

  private:
    std::string pending_;           // the unfinished PhenixQL statement's lines
    std::size_t pending_line_ = 0;  // the input line where pending_ starts
};

// Whether `word` starts a PhenixQL statement (case-insensitive).
bool IsPhenixQlKeyword(std::string_view word);

// The first word of a statement, after whitespace and comments.
std::string_view FirstWord(std::string_view statement);

// The error to report for `statement` when PhenixQL failed with `phenixql_error`: the command
// parser's error instead when the text is plainly a command gone wrong (the command parser knows
// its first word, and PhenixQL gave up right at the second word, as in `insert docs not-json`
// or `create colection x`), else `phenixql_error`.
Status ChooseError(std::string_view statement, const Status& phenixql_error);

}  // namespace phenix::shell
