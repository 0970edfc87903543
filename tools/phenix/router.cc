// SPDX-License-Identifier: Apache-2.0
#include "router.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <phenix/phenixql.h>

#include "command.h"

namespace phenix::shell {

namespace {

constexpr std::string_view kSpace = " \t\r\n\v\f";

std::string_view Trim(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(kSpace);
    if (begin == std::string_view::npos) {
        return {};
    }
    return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// The text without trailing ';' (and the whitespace around them).
std::string_view StripSemicolons(std::string_view text) {
    text = Trim(text);
    while (text.ends_with(';')) {
        text = Trim(text.substr(0, text.size() - 1));
    }
    return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) {
                   return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
               };
               return lower(x) == lower(y);
           });
}

// Whitespace-separated words.
std::vector<std::string_view> Words(std::string_view text) {
    std::vector<std::string_view> words;
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
        words.push_back(text.substr(begin, end - begin));
        pos = end;
    }
    return words;
}

// Statements that both languages read, with the same effect: BEGIN, COMMIT, ROLLBACK,
// DESCRIBE x, CREATE COLLECTION x, DROP COLLECTION x.
bool IsSharedForm(std::string_view statement) {
    const std::vector<std::string_view> words = Words(StripSemicolons(statement));
    if (words.size() == 1) {
        return EqualsIgnoreCase(words[0], "begin") || EqualsIgnoreCase(words[0], "commit") ||
               EqualsIgnoreCase(words[0], "rollback");
    }
    if (words.size() == 2) {
        return EqualsIgnoreCase(words[0], "describe");
    }
    if (words.size() == 3) {
        return (EqualsIgnoreCase(words[0], "create") || EqualsIgnoreCase(words[0], "drop")) &&
               EqualsIgnoreCase(words[1], "collection");
    }
    return false;
}

// Which language runs a complete statement. `is_command_line`: the statement is on a line
// written the command way, which decides the statements both languages read.
Language Classify(std::string_view statement, bool is_command_line) {
    if (!IsPhenixQlKeyword(FirstWord(statement))) {
        return Language::kCommand;
    }
    const std::string_view text = StripSemicolons(statement);
    if (!ParseCommand(text).ok()) {
        return Language::kPhenixQl;
    }
    const std::vector<std::string_view> words = Words(text);
    if (words.size() >= 2 && EqualsIgnoreCase(words[1], "from")) {
        return Language::kPhenixQl;  // DELETE FROM x: the command would read FROM as a name
    }
    if (IsSharedForm(text)) {
        return is_command_line ? Language::kCommand : Language::kPhenixQl;
    }
    // The command parser accepts it and PhenixQL cannot read it (`insert docs {...}`).
    return Language::kCommand;
}

// A statement that is a command whatever the line it is on.
bool IsPlainCommand(std::string_view statement) {
    return Classify(statement, /*is_command_line=*/false) == Language::kCommand;
}

RoutedStatement Routed(std::string_view text, Language language, std::size_t line) {
    text = language == Language::kCommand ? StripSemicolons(text) : Trim(text);
    return {.text = std::string(text), .language = language, .line = line};
}

}  // namespace

bool IsPhenixQlKeyword(std::string_view word) {
    static constexpr std::array<std::string_view, 13> kKeywords = {
        "select",   "insert", "update", "delete",   "create",  "drop", "show",
        "describe", "begin",  "commit", "rollback", "explain", "copy",
    };
    return std::any_of(kKeywords.begin(), kKeywords.end(),
                       [&](std::string_view keyword) { return EqualsIgnoreCase(word, keyword); });
}

std::string_view FirstWord(std::string_view statement) {
    std::size_t pos = 0;
    while (pos < statement.size()) {
        const std::size_t begin = statement.find_first_not_of(kSpace, pos);
        if (begin == std::string_view::npos) {
            return {};
        }
        const std::string_view rest = statement.substr(begin);
        if (rest.starts_with("--")) {
            const std::size_t end = statement.find('\n', begin);
            pos = end == std::string_view::npos ? statement.size() : end + 1;
            continue;
        }
        if (rest.starts_with("/*")) {
            const std::size_t end = statement.find("*/", begin + 2);
            pos = end == std::string_view::npos ? statement.size() : end + 2;
            continue;
        }
        std::size_t end = begin;
        while (end < statement.size() && kSpace.find(statement[end]) == std::string_view::npos &&
               statement[end] != ';' && statement[end] != '(') {
            ++end;
        }
        return statement.substr(begin, std::max(end, begin + 1) - begin);
    }
    return {};
}

std::vector<RoutedStatement> Router::AddLine(std::string_view line, std::size_t line_number) {
    std::vector<RoutedStatement> out;
    if (pending_.empty()) {
        const std::string_view first = FirstWord(line);
        if (first.empty()) {
            return out;  // a blank or comment line
        }
        if (!IsPhenixQlKeyword(first)) {
            // A line of commands, split the way commands always were. A PhenixQL statement at
            // its end without ';' continues on the next lines.
            const std::vector<std::string> statements = SplitStatements(line);
            const bool ends_with_semicolon = Trim(line).ends_with(';');
            for (std::size_t idx = 0; idx < statements.size(); ++idx) {
                const Language language = Classify(statements[idx], /*is_command_line=*/true);
                if (language == Language::kPhenixQl && idx + 1 == statements.size() &&
                    !ends_with_semicolon) {
                    pending_ = statements[idx];
                    pending_line_ = line_number;
                    break;
                }
                out.push_back(Routed(statements[idx], language, line_number));
            }
            return out;
        }
    }

    const bool was_pending = !pending_.empty();
    const std::size_t buffer_line = was_pending ? pending_line_ : line_number;
    std::string buffer = std::move(pending_);
    pending_.clear();
    if (was_pending) {
        buffer += '\n';
    }
    buffer += line;
    bool is_incomplete = false;
    const std::vector<std::string> parts = QuerySession::SplitStatements(buffer, &is_incomplete);

    struct Part {
        std::string_view text;  // a view of `buffer`, from the first non-space character
        std::size_t line = 0;
    };
    std::vector<Part> located;
    std::size_t search_from = 0;
    for (const std::string& part : parts) {
        std::size_t pos = buffer.find(part, search_from);
        if (pos == std::string::npos) {
            pos = search_from;  // not expected: the splitter returns pieces of its input
        }
        search_from = std::min(buffer.size(), pos + part.size());
        std::size_t lead = part.find_first_not_of(kSpace);
        lead = lead == std::string::npos ? 0 : lead;
        const auto newlines = std::count(
            buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(pos + lead), '\n');
        located.push_back({.text = std::string_view(buffer).substr(pos + lead, part.size() - lead),
                           .line = buffer_line + static_cast<std::size_t>(newlines)});
    }
    std::optional<Part> tail;
    if (is_incomplete && !located.empty()) {
        tail = located.back();
        located.pop_back();
    }

    // Whether this line is written the command way: it holds a command, or ends in one
    // without ';'.
    bool is_command_line = std::any_of(located.begin(), located.end(),
                                       [](const Part& part) { return IsPlainCommand(part.text); });
    const bool tail_starts_here = tail.has_value() && !(was_pending && tail->line == buffer_line);
    const bool tail_is_command =
        tail_starts_here && Classify(tail->text, /*is_command_line=*/true) == Language::kCommand;
    is_command_line = is_command_line || tail_is_command;

    for (const Part& part : located) {
        out.push_back(Routed(part.text, Classify(part.text, is_command_line), part.line));
    }
    if (tail.has_value()) {
        if (tail_is_command) {
            out.push_back(Routed(tail->text, Language::kCommand, tail->line));
        } else {
            pending_ = std::string(tail->text);
            pending_line_ = tail->line;
        }
    }
    return out;
}

std::optional<RoutedStatement> Router::Finish() {
    if (Trim(pending_).empty()) {
        pending_.clear();
        return std::nullopt;
    }
    RoutedStatement statement = Routed(pending_, Language::kPhenixQl, pending_line_);
    pending_.clear();
    return statement;
}

Status ChooseError(std::string_view statement, const Status& phenixql_error) {
    if (phenixql_error.code() != StatusCode::kInvalidArgument) {
        return phenixql_error;
    }
    const Result<Command> command = ParseCommand(StripSemicolons(statement));
    if (command.ok() || command.status().message().starts_with("unknown command")) {
        return phenixql_error;
    }
    // "line 1, column C: ..." with C the column of the second word.
    constexpr std::string_view kPrefix = "line 1, column ";
    const std::string& message = phenixql_error.message();
    if (!message.starts_with(kPrefix)) {
        return phenixql_error;
    }
    std::size_t column = 0;
    const char* begin = message.data() + kPrefix.size();
    const auto [end, ec] = std::from_chars(begin, message.data() + message.size(), column);
    if (ec != std::errc() || end == begin) {
        return phenixql_error;
    }
    const std::string_view text = Trim(statement);
    const std::size_t first_end = text.find_first_of(kSpace);
    if (first_end == std::string_view::npos ||
        text.substr(0, first_end).find('\n') != std::string_view::npos) {
        return phenixql_error;
    }
    const std::size_t second = text.find_first_not_of(kSpace, first_end);
    if (second == std::string_view::npos ||
        text.substr(0, second).find('\n') != std::string_view::npos || column != second + 1) {
        return phenixql_error;
    }
    return command.status();
}

}  // namespace phenix::shell
