// SPDX-License-Identifier: Apache-2.0
//
// The shell's command language: splitting input into statements and parsing one statement into
// a Command. Pure functions over text; nothing here touches a database.
//
// A statement is one command. Input lines are split into statements at ';' outside quotes and
// outside JSON braces/brackets; a statement that starts with '#' or '--' comments out the rest
// of its line. Keywords are case-insensitive; names, ids and JSON are taken verbatim.
//
// Thread safety: pure functions and immutable tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/query.h>
#include <phenix/result.h>
#include <phenix/search.h>
#include <phenix/types.h>

namespace phenix::shell {

enum class CommandKind : std::uint8_t {
    kHelp,
    kQuit,
    kCreateCollection,
    kDropCollection,
    kListCollections,
    kDescribe,
    kCreateTenant,
    kListTenants,
    kUseTenant,
    kInsert,
    kUpsert,
    kGet,
    kDelete,
    kPatch,
    kSetMetadata,
    kEdges,
    kScan,
    kLoad,
    kSearch,
    kIndexInfo,
    kReindex,
    kCreateIndex,
    kDropIndex,
    kListIndexes,
    kAnalyze,
    kFind,
    kTraverse,
    kPaths,
    kShortest,
    kDegree,
    kBegin,
    kCommit,
    kRollback,
    kTimestamp,
    kVerify,
    kTiming,
};

// A parsed statement. Which fields are meaningful depends on `kind`.
struct Command {
    CommandKind kind = CommandKind::kHelp;
    std::string name;  // collection or tenant name; for kHelp the command asked about, if any
    std::string id;    // entity id
    std::string json;  // entity JSON, merge patch, metadata object or collection settings
    std::optional<std::uint32_t> dimension;
    Metric metric = Metric::kL2;
    std::size_t limit = 100;
    std::string after;
    EdgeDirection direction = EdgeDirection::kOut;
    std::string path;                    // file for kLoad; metadata path for k*Index
    std::optional<bool> enable;          // for kTiming: on/off, or nullopt to toggle
    bool read_only = false;              // for kBegin; also set by `as of`
    std::optional<std::uint64_t> as_of;  // for kBegin: the commit timestamp to read at
    std::vector<float> query;            // for kSearch: the query vector
    SearchOptions search;                // for kSearch: k, ef, ids, where, from, strategy, ...
    bool explain = false;                // for kFind, kSearch: also print how it ran
    FindOptions find;                    // for kFind: filter, limit, count
    TraversalSpec traversal;             // for kTraverse
    PathSpec paths;                      // for kPaths
    ShortestPathSpec shortest;           // for kShortest
    EdgeMatch edges;                     // for kDegree, with `id` and `direction`
};

// One line of the command reference: how to write the command and what it does.
struct CommandHelp {
    std::string_view usage;
    std::string_view summary;
};

// The command reference, in the order `help` prints it.
std::span<const CommandHelp> AllCommandHelp();

// Splits one input line into statements (see the file comment). Empty statements and comments
// are dropped; an unterminated quote or brace extends to the end of the line.
std::vector<std::string> SplitStatements(std::string_view line);

// Parses one statement. InvalidArgument with a usage hint for the command when the statement
// is malformed, and a "did you mean" suggestion for an unknown command word.
Result<Command> ParseCommand(std::string_view statement);

// The candidate closest to `word` by edit distance (case-insensitive), or empty when none is
// close enough to be a plausible typo.
std::string_view ClosestWord(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace phenix::shell
