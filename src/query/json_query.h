// SPDX-License-Identifier: Apache-2.0
//
// The JSON form of a PhenixQL query (docs/query-language.md "JSON form"), translated to the same
// AST as the text form, so both run through one binder, planner and executor. The result is
// exactly what ParseStatement gives for the PhenixQL twin (positions left at their defaults):
//
//   {"collection": "docs", "vector": [..], "metric"?: "l2"|"cosine"|"ip", "k"?: 10,
//    "filter"?: {...}, "ef"?: 128, "include"?: ["metadata", "vector", "distance", "id"]}
//   -> SELECT id, distance(vector, [..]) AS distance [, metadata][, vector] FROM docs
//      [WHERE <filter>] ORDER BY distance LIMIT k [WITH (ef = 128)]
//
// "metric" swaps distance() (the collection's own metric) for <->, <=> or <#>. Without "vector"
// there is no distance column and no ORDER BY. With "graph": {"from": "d2", "label"?,
// "direction"?: "out"|"in"|"both", "min_hops"?: 1, "max_hops"?: min_hops} the columns are those
// of b in FROM MATCH (a:docs)-[:label*min..max]->(b:docs) WHERE a.id = 'd2' [AND <filter on b>].
// The filter (document/filter.h syntax) keeps its own meaning, the one Database::Find gives it
// (docs/decisions/0009-filter-and-where-semantics.md), in PhenixQL that says exactly that:
// $eq/$gt/$gte/$lt/$lte -> = > >= < <=, $in -> IN (..), $like -> LIKE, $exists -> [NOT]
// exists(metadata.a); the complements $ne, $nin and $not -> `(...) IS NOT TRUE` (which, unlike
// SQL's NOT, also holds where the field is missing or null); a null literal -> `metadata.a IS
// NULL AND exists(metadata.a)` (an explicit null); several keys, operators or $and elements ->
// an AND chain, $or -> an OR chain.
//
// Thread safety: a pure function.
#pragma once

#include <string_view>

#include <phenix/result.h>

#include "query/ast.h"

namespace phenix::query {

/// Translates a JSON query (above) into a SELECT statement. Never throws. InvalidArgument naming
/// the field and what it expects: invalid JSON or a key repeated in one object, an unknown field
/// (with "did you mean"), a missing or empty "collection", "k" outside 1..10000, "ef" outside
/// 1..100000, a bad "metric", "direction" or "include" value, hop counts outside 0..1000 or
/// max_hops < min_hops, "metric"/"ef" without "vector", and filter errors (as document::ParseFilter
/// rejects them, plus more than 128 conditions or $and/$or/$not nested deeper than 32 levels).
///
/// Every node of the statement carries the JSON field it came from (ast.h, SourcePos line 0), so
/// a later error about it (the binder's, the executor's) names the field — "vector: the query
/// vector has 2 dimensions; collection 'docs' has 3", "filter.year: ..." — through
/// WithJsonFieldPaths, instead of a line and column of a text the user never wrote.
Result<Statement> ParseJsonQuery(std::string_view json_text);

/// `status` with each "line 0, column N: " that PositionedMessage wrote for a node of the JSON
/// form replaced by its field path ("vector: "), or dropped for a node of no particular field.
Status WithJsonFieldPaths(const Statement& statement, const Status& status);

}  // namespace phenix::query
