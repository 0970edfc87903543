// SPDX-License-Identifier: Apache-2.0
#include "meta_command.h"

#include <algorithm>
#include <array>
#include <utility>

#include <phenix/phenixql.h>

namespace phenix::shell {

namespace {

constexpr std::string_view kSpace = " \t\r\n\v\f";

constexpr std::array<MetaHelp, 8> kMetaHelp = {{
    {"\\? [topic]",
     "this help, or the statements whose usage starts with topic (also \\help, \\h)"},
    {"\\q", "leave the shell (also quit, exit)"},
    {"\\timing [on|off]", "toggle printing each statement's elapsed time (to stderr)"},
    {"\\d [name]", "describe a collection (DESCRIBE name), or list collections without a name"},
    {"\\dt", "list the collections of the current tenant (SHOW COLLECTIONS)"},
    {"\\di [name]", "list indexes, vector and metadata (SHOW INDEXES [ON name])"},
    {"\\dn", "list tenants (SHOW TENANTS)"},
    {"# ...", "a comment line (as is -- ... anywhere)"},
}};

// Every meta-command word, for "did you mean" suggestions.
constexpr std::array<std::string_view, 10> kMetaWords = {
    "\\?", "\\help", "\\h", "\\q", "\\timing", "\\d", "\\dt", "\\di", "\\dn", "\\quit",
};

std::string_view Trim(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(kSpace);
    if (begin == std::string_view::npos) {
        return {};
    }
    return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

// Whitespace-separated words of a meta-command line (a trailing ';' on the last word dropped:
// people type `\dt;` and `quit;`).
std::vector<std::string> Words(std::string_view text) {
    text = Trim(text);
    while (text.ends_with(';')) {
        text = Trim(text.substr(0, text.size() - 1));
    }
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (true) {
        const std::size_t begin = text.find_first_not_of(kSpace, pos);
        if (begin == std::string_view::npos) {
            break;
        }
        std::size_t end = text.find_first_of(kSpace, begin);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        words.emplace_back(text.substr(begin, end - begin));
        pos = end;
    }
    return words;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t EditDistance(std::string_view a, std::string_view b) {
    const std::size_t cols = b.size() + 1;
    std::vector<std::size_t> dist((a.size() + 1) * cols);
    auto at = [&](std::size_t row, std::size_t col) -> std::size_t& {
        return dist[row * cols + col];
    };
    for (std::size_t row = 0; row <= a.size(); ++row) {
        at(row, 0) = row;
    }
    for (std::size_t col = 0; col <= b.size(); ++col) {
        at(0, col) = col;
    }
    for (std::size_t row = 1; row <= a.size(); ++row) {
        for (std::size_t col = 1; col <= b.size(); ++col) {
            const std::size_t cost = a[row - 1] == b[col - 1] ? 0 : 1;
            std::size_t best =
                std::min({at(row - 1, col) + 1, at(row, col - 1) + 1, at(row - 1, col - 1) + cost});
            if (row > 1 && col > 1 && a[row - 1] == b[col - 2] && a[row - 2] == b[col - 1]) {
                best = std::min(best, at(row - 2, col - 2) + 1);
            }
            at(row, col) = best;
        }
    }
    return at(a.size(), b.size());
}

// User text quoted in an error message, cut short and without control characters.
std::string Shown(std::string_view text) {
    constexpr std::size_t kMaxShownBytes = 40;
    std::string out(text.substr(0, kMaxShownBytes));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    return text.size() > kMaxShownBytes ? out + "..." : out;
}

Status Usage(std::string_view usage, std::string_view problem) {
    return Status::InvalidArgument(std::string(problem) + "; usage: " + std::string(usage));
}

}  // namespace

// `name` as a PhenixQL quoted identifier: "...", with " doubled.
std::string QuoteIdentifier(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        out.push_back(c);
        if (c == '"') {
            out.push_back('"');
        }
    }
    out.push_back('"');
    return out;
}

std::span<const MetaHelp> AllMetaHelp() {
    return kMetaHelp;
}

bool IsMetaCommandLine(std::string_view line) {
    const std::string_view text = Trim(line);
    if (text.starts_with('\\')) {
        return true;
    }
    const std::vector<std::string> words = Words(text);
    if (words.empty()) {
        return false;
    }
    const std::string first = Lower(words[0]);
    if (first == "quit" || first == "exit") {
        return words.size() == 1;
    }
    // `help` alone or with one topic word: a statement never starts with it.
    return first == "help" && words.size() <= 2;
}

Result<MetaCommand> ParseMetaCommand(std::string_view line) {
    std::vector<std::string> words = Words(line);
    if (words.empty()) {
        return Status::InvalidArgument("empty meta-command");
    }
    std::string verb = Lower(words[0]);
    if (verb == "quit" || verb == "exit" || verb == "\\quit") {
        verb = "\\q";
    } else if (verb == "help" || verb == "\\help" || verb == "\\h") {
        verb = "\\?";
    }
    MetaCommand command;
    auto at_most = [&](std::size_t num_args, std::string_view usage) -> Status {
        if (words.size() > num_args + 1) {
            return Usage(usage, "unexpected '" + Shown(words[num_args + 1]) + "'");
        }
        return Status::Ok();
    };
    if (verb == "\\q") {
        command.kind = MetaKind::kQuit;
        PHENIX_RETURN_IF_ERROR(at_most(0, "\\q"));
        return command;
    }
    if (verb == "\\?") {
        command.kind = MetaKind::kHelp;
        PHENIX_RETURN_IF_ERROR(at_most(1, "\\? [topic]"));
        command.argument = words.size() > 1 ? Lower(words[1]) : "";
        return command;
    }
    if (verb == "\\timing") {
        command.kind = MetaKind::kTiming;
        PHENIX_RETURN_IF_ERROR(at_most(1, "\\timing [on|off]"));
        if (words.size() > 1) {
            const std::string value = Lower(words[1]);
            if (value != "on" && value != "off") {
                return Usage("\\timing [on|off]",
                             "expected on or off, not '" + Shown(words[1]) + "'");
            }
            command.enable = value == "on";
        }
        return command;
    }
    if (verb == "\\d" || verb == "\\di") {
        command.kind = verb == "\\d" ? MetaKind::kDescribe : MetaKind::kListIndexes;
        const std::string_view usage = verb == "\\d" ? "\\d [name]" : "\\di [name]";
        // The name: a word, or a "double-quoted" name as PhenixQL writes it ("" is a quote).
        std::string_view rest = Trim(line);
        rest = Trim(rest.substr(rest.find_first_of(kSpace) == std::string_view::npos
                                    ? rest.size()
                                    : rest.find_first_of(kSpace)));
        while (rest.ends_with(';')) {
            rest = Trim(rest.substr(0, rest.size() - 1));
        }
        if (rest.starts_with('"')) {
            std::string name;
            std::size_t pos = 1;
            for (; pos < rest.size(); ++pos) {
                if (rest[pos] == '"') {
                    if (pos + 1 < rest.size() && rest[pos + 1] == '"') {
                        name.push_back('"');
                        ++pos;
                        continue;
                    }
                    break;
                }
                name.push_back(rest[pos]);
            }
            if (pos >= rest.size()) {
                return Usage(usage, "unterminated '\"' in the name");
            }
            if (pos + 1 != rest.size()) {
                return Usage(usage, "unexpected '" + Shown(rest.substr(pos + 1)) + "'");
            }
            command.argument = std::move(name);
            return command;
        }
        PHENIX_RETURN_IF_ERROR(at_most(1, usage));
        command.argument = words.size() > 1 ? words[1] : "";
        return command;
    }
    if (verb == "\\dt" || verb == "\\dn") {
        command.kind = verb == "\\dt" ? MetaKind::kListCollections : MetaKind::kListTenants;
        PHENIX_RETURN_IF_ERROR(at_most(0, verb));
        return command;
    }
    std::string message = "unknown meta-command '" + Shown(words[0]) + "'";
    std::string_view best;
    std::size_t best_distance = 3;
    for (std::string_view candidate : kMetaWords) {
        const std::size_t distance = EditDistance(verb, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    if (!best.empty()) {
        message += "; did you mean '" + std::string(best) + "'?";
    }
    return Status::InvalidArgument(message + " (\\? lists the meta-commands and statements)");
}

std::optional<std::string> MetaStatement(const MetaCommand& command) {
    switch (command.kind) {
        case MetaKind::kDescribe:
            return command.argument.empty() ? std::string("SHOW COLLECTIONS")
                                            : "DESCRIBE " + QuoteIdentifier(command.argument);
        case MetaKind::kListCollections:
            return std::string("SHOW COLLECTIONS");
        case MetaKind::kListIndexes:
            return command.argument.empty()
                       ? std::string("SHOW INDEXES")
                       : "SHOW INDEXES ON " + QuoteIdentifier(command.argument);
        case MetaKind::kListTenants:
            return std::string("SHOW TENANTS");
        case MetaKind::kQuit:
        case MetaKind::kHelp:
        case MetaKind::kTiming:
            return std::nullopt;
    }
    return std::nullopt;
}

std::vector<InputPiece> StatementSplitter::AddLine(std::string_view line, std::size_t line_number) {
    std::vector<InputPiece> pieces;
    if (pending_.empty()) {
        const std::string_view text = Trim(line);
        if (text.empty() || text.starts_with('#')) {
            return pieces;
        }
        if (IsMetaCommandLine(text)) {
            pieces.push_back({.text = std::string(text), .is_meta = true, .line = line_number});
            return pieces;
        }
        pending_line_ = line_number;
    }
    pending_ += pending_.empty() ? "" : "\n";
    pending_ += line;
    bool incomplete = false;
    std::vector<std::string> statements = QuerySession::SplitStatements(pending_, &incomplete);
    std::string rest;
    if (incomplete && !statements.empty()) {
        rest = std::move(statements.back());
        statements.pop_back();
    }
    std::size_t start_line = pending_line_;
    for (std::string& statement : statements) {
        pieces.push_back({.text = std::move(statement), .is_meta = false, .line = start_line});
        start_line = line_number;  // later statements start on this line
    }
    pending_ = std::move(rest);
    if (!pending_.empty() && !statements.empty()) {
        pending_line_ = line_number;
    }
    return pieces;
}

std::optional<InputPiece> StatementSplitter::Finish() {
    if (pending_.empty()) {
        return std::nullopt;
    }
    InputPiece piece{.text = std::string(Trim(pending_)), .is_meta = false, .line = pending_line_};
    pending_.clear();
    return piece;
}

}  // namespace phenix::shell
