// SPDX-License-Identifier: Apache-2.0
//
// The PhenixQL parser: a hand-written recursive-descent parser from query text to the AST in
// ast.h, and the canonical printer back to text. Keywords are case-insensitive and reserved (a
// column or collection named like one must be "double quoted"); identifiers are
// [A-Za-z_][A-Za-z0-9_]* or "double quoted".
//
// Errors are InvalidArgument "line L, column C: expected X, found Y", with "; did you mean K?"
// when the word found is within edit distance 2 of an expected keyword K. Expression nesting
// (parentheses, NOT; a flat AND/OR chain of any length counts once, as one node with a child per
// term) is capped at kMaxExpressionDepth, so no input recurses without bound, and
// text longer than kMaxQueryBytes (lexer.h) is rejected.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "query/ast.h"

namespace phenix::query {

inline constexpr int kMaxExpressionDepth = 256;

/// Exactly one statement, optionally followed by ';'.
Result<Statement> ParseStatement(std::string_view text);

/// Zero or more statements separated by ';' (empty statements are skipped).
Result<std::vector<Statement>> ParseScript(std::string_view text);

/// Canonical PhenixQL text: ParseStatement(ToString(s)) == s for every parsed statement.
std::string ToString(const Statement& statement);
std::string ToString(const Expr& expr);
/// The statement as ToString prints it with every literal value replaced by `?`: strings,
/// numbers, booleans, vectors and JSON objects wherever they appear (LIMIT and WITH options
/// included), and the path of COPY and the id of REVOKE API KEY. NULL, names and parameters
/// (`$1`, `$name`) stay. For logs that must not carry the data a statement names
/// (phenixd's slow-query log); the result is not meant to be parsed back.
std::string ToRedactedString(const Statement& statement);
/// An operator as PhenixQL writes it ("AND", "<=", "<->", "+"; unary minus is "-").
std::string_view OpText(Op op);

namespace internal {
// Whether `word` is a reserved keyword (case-insensitive); shared by the parser and printer.cc.
bool IsReservedWord(std::string_view word);
}  // namespace internal

}  // namespace phenix::query
