// SPDX-License-Identifier: Apache-2.0
//
// The PhenixQL lexer: query text -> tokens. Words (keywords are words; the parser decides),
// "quoted identifiers", 'strings' ('' escapes a quote), numbers, $parameters, JSON literals
// ({...} and [{...}], kept as raw text with balanced braces/brackets and JSON strings), and
// punctuation/operators. Skips whitespace, -- line comments and /* block comments */.
//
// Tokens borrow from the text: a Token's `text` is valid as long as the text passed to Lex().
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/limits.h>
#include <phenix/result.h>

#include "query/ast.h"

namespace phenix::query {

/// Longest query text accepted (larger inputs fail with InvalidArgument).
inline constexpr std::size_t kMaxQueryBytes = std::size_t{16} << 20;

/// Deepest JSON literal accepted: the engine's limit on metadata and edge properties
/// (limits::kMaxJsonDepth), plus the array and object an `edges` literal wraps properties in.
/// Deeper literals could never be stored, and would overflow the stack of recursive JSON code.
inline constexpr std::size_t kMaxJsonLiteralDepth =
    static_cast<std::size_t>(limits::kMaxJsonDepth) + 2;

enum class TokenKind {
    kEnd,
    kWord,         // [A-Za-z_][A-Za-z0-9_]*
    kQuotedIdent,  // "..." ("" escapes a quote); value holds the name
    kString,       // '...'; value holds the unescaped text
    kInteger,      // digits
    kFloat,        // digits with a fraction and/or an exponent
    kParam,        // $1, $name; value holds "1" / "name"
    kJson,         // raw JSON object or array of objects
    kSymbol,       // ( ) [ ] , ; . .. * : = != <> < <= > >= <-> <=> <#> -> - < || + / %
};

struct Token {
    TokenKind kind = TokenKind::kEnd;
    std::string_view text;  // the raw text of the token
    std::string value;      // decoded value for kQuotedIdent, kString, kParam
    SourcePos pos;
};

/// Tokenizes `text`, ending with a kEnd token. InvalidArgument "line L, column C: ..." for an
/// unterminated string, identifier, comment or JSON literal, a JSON literal nested deeper than
/// kMaxJsonLiteralDepth, a bad character, a bare `$`, text that is not valid UTF-8, or text
/// longer than kMaxQueryBytes.
Result<std::vector<Token>> Lex(std::string_view text);

/// Levenshtein distance between two words (for "did you mean"; callers cap the lengths).
std::size_t EditDistance(std::string_view a, std::string_view b);

/// "line L, column C: " + message.
std::string PositionedMessage(SourcePos pos, std::string_view message);

}  // namespace phenix::query
