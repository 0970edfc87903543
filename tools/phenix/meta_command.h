// SPDX-License-Identifier: Apache-2.0
//
// The shell's input, psql style: PhenixQL statements end with ';' and may span lines; a line
// that starts with '\' is a meta-command for the shell itself and ends at the end of the line
// (\q, \?, \timing, \d ...). Pure text processing; nothing here touches a database.
//
//   StatementSplitter  turns input lines into PhenixQL statements and meta-command lines.
//   ParseMetaCommand   parses one meta-command line.
//
// Meta-commands that list or describe database objects (\d, \dt, \di, \dn) are shorthands for a
// PhenixQL statement (MetaStatement): they run through the PhenixQL parser like any statement.
//
// Thread safety: pure functions; a StatementSplitter is thread-compatible (one per input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

namespace phenix::shell {

/// `name` as a PhenixQL quoted identifier: "...", with " doubled.
std::string QuoteIdentifier(std::string_view name);

enum class MetaKind : std::uint8_t {
    kQuit,             // \q (also quit, exit)
    kHelp,             // \? [topic], \help [topic], \h [topic] (also help [topic])
    kTiming,           // \timing [on|off]
    kDescribe,         // \d [name]: DESCRIBE name, or SHOW COLLECTIONS without a name
    kListCollections,  // \dt: SHOW COLLECTIONS
    kListIndexes,      // \di [name]: SHOW INDEXES [ON name]
    kListTenants,      // \dn: SHOW TENANTS
};

struct MetaCommand {
    MetaKind kind = MetaKind::kHelp;
    std::string argument;        // the name of \d / \di, the topic of \?
    std::optional<bool> enable;  // \timing on|off; nullopt toggles
};

// One line of the meta-command reference: how to write it and what it does.
struct MetaHelp {
    std::string_view usage;
    std::string_view summary;
};

// The meta-commands, in the order \? lists them.
std::span<const MetaHelp> AllMetaHelp();

// Parses a meta-command line (its first non-blank character is '\', or it is one of the words
// quit, exit, help). InvalidArgument naming the meta-commands, with a "did you mean" suggestion,
// for an unknown one.
Result<MetaCommand> ParseMetaCommand(std::string_view line);

// The PhenixQL statement a listing meta-command stands for ("SHOW INDEXES ON docs"), or nullopt
// for the others (\q, \?, \timing). Names are double-quoted, so any name reads back.
std::optional<std::string> MetaStatement(const MetaCommand& command);

// Whether `line` is a meta-command line: its first non-blank character is '\', or it is one of
// the psql-style words quit, exit, help [topic] (optionally ended by ';').
bool IsMetaCommandLine(std::string_view line);

// One unit of input: a PhenixQL statement (with its ';', if it had one) or a meta-command line.
struct InputPiece {
    std::string text;
    bool is_meta = false;
    std::size_t line = 0;  // 1-based input line on which it starts
};

// Splits input lines into pieces. A line that starts a piece and is a meta-command line (above)
// is one piece; a line whose first non-blank character is '#' is a comment (skipped). Anything
// else is PhenixQL, continued over lines until a ';' outside strings, quoted names, JSON and
// comments ends it (QuerySession::SplitStatements); one line may hold several statements.
class StatementSplitter {
  public:
    // The pieces that `line` (input line `line_number`) completes, in order.
    std::vector<InputPiece> AddLine(std::string_view line, std::size_t line_number);

    // At the end of the input: the unfinished statement (no final ';'), if any; it runs as it is,
    // as psql -c runs a statement without ';'.
    std::optional<InputPiece> Finish();

    // Whether a statement waits for more lines (the continuation prompt).
    [[nodiscard]] bool HasPending() const { return !pending_.empty(); }
    // Forgets the unfinished statement (^C at the prompt, or after an error).
    void Clear() { pending_.clear(); }

  private:
    std::string pending_;           // the unfinished statement's lines
    std::size_t pending_line_ = 0;  // the input line where pending_ starts
};

}  // namespace phenix::shell
