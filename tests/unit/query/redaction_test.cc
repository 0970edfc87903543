// SPDX-License-Identifier: Apache-2.0
//
// ToRedactedString (parser.h), what phenixd's slow-query log prints a statement as: the
// canonical text with every literal value replaced by `?`, in every place a statement can hold
// one, and nothing of the values left.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "query/parser.h"

namespace phenix::query {
namespace {

std::string Redacted(std::string_view text) {
    Result<Statement> parsed = ParseStatement(text);
    EXPECT_TRUE(parsed.ok()) << text << "\n" << parsed.status().ToString();
    return parsed.ok() ? ToRedactedString(*parsed) : std::string();
}

struct Case {
    std::string_view statement;
    std::string_view redacted;
    std::vector<std::string_view> secrets;  // must not appear in the redacted text
};

TEST(RedactionTest, EveryLiteralKindBecomesAPlaceholder) {
    const std::vector<Case> cases = {
        // strings, integers, floats, negative numbers, booleans, NULL (kept)
        {"SELECT id FROM docs WHERE metadata.name = 'Zanzibar' AND metadata.year > 1987 AND "
         "metadata.score < 0.4375 AND metadata.delta = -273 AND metadata.ok = TRUE AND "
         "metadata.gone = NULL",
         "SELECT id FROM docs WHERE metadata.name = ? AND metadata.year > ? AND metadata.score < "
         "? AND metadata.delta = ? AND metadata.ok = ? AND metadata.gone = NULL",
         {"Zanzibar", "1987", "0.4375", "273", "TRUE"}},
        // vectors, LIMIT, OFFSET, WITH options, parameters (kept as written)
        {"SELECT id FROM docs WHERE metadata.tag = $tag ORDER BY vector <=> [0.8125, -7, 3e5] "
         "LIMIT 17 OFFSET 3 WITH (ef = 219)",
         "SELECT id FROM docs WHERE metadata.tag = $tag ORDER BY vector <=> ? LIMIT ? OFFSET ? "
         "WITH (ef = ?)",
         {"0.8125", "-7", "300000", "17", "219"}},
        {"SELECT id FROM docs ORDER BY vector <-> $1 LIMIT $2",
         "SELECT id FROM docs ORDER BY vector <-> $1 LIMIT $2",
         {}},
        // IN lists, LIKE with ESCAPE, arithmetic, function arguments, IS TRUE (structure)
        {"SELECT lower(metadata.name) AS n, metadata.x * 1000 FROM docs WHERE metadata.c IN "
         "('red', 'blue') AND metadata.name LIKE 'Ab%' ESCAPE '!' AND metadata.f IS TRUE "
         "GROUP BY metadata.c HAVING count(*) > 41",
         "SELECT lower(metadata.name) AS n, metadata.x * ? FROM docs WHERE metadata.c IN (?, ?) "
         "AND metadata.name LIKE ? ESCAPE ? AND metadata.f IS TRUE GROUP BY metadata.c HAVING "
         "count(*) > ?",
         {"1000", "red", "blue", "Ab%", "!", "41"}},
        // MATCH edge filters and AS OF
        {"SELECT b.id FROM MATCH (a:docs)-[e:cites*1..2 WHERE e.weight > 0.625]->(b) AS OF 12345",
         "SELECT b.id FROM MATCH (a:docs)-[e:cites*1..2 WHERE e.weight > ?]->(b) AS OF ?",
         {"0.625", "12345"}},
        // table functions: positional and named arguments
        {"SELECT * FROM shortest_path('docs', 'alpha', 'omega', direction = 'both')",
         "SELECT * FROM shortest_path(?, ?, ?, direction = ?)",
         {"alpha", "omega", "both"}},
        // INSERT rows with JSON metadata and vectors
        {"INSERT INTO docs (id, vector, metadata) VALUES ('k1', [0.25, 0.5], {\"secret\": "
         "\"Quetzal\"}), ('k2', [1.5, 2.5], {\"n\": 99})",
         "INSERT INTO docs (id, vector, metadata) VALUES (?, ?, ?), (?, ?, ?)",
         {"k1", "k2", "0.25", "Quetzal", "secret", "99", "2.5"}},
        // UPDATE assignments and DELETE filters
        {"UPDATE docs SET metadata.owner = 'Mallory', vector = [9.5, 8.5] WHERE id = 'k1'",
         "UPDATE docs SET metadata.owner = ?, vector = ? WHERE id = ?",
         {"Mallory", "9.5", "k1"}},
        {"DELETE FROM docs WHERE metadata.pin = 4242",
         "DELETE FROM docs WHERE metadata.pin = ?",
         {"4242"}},
        // strings kept outside expressions: COPY's path, REVOKE API KEY's id
        {"COPY docs FROM '/home/alice/private.jsonl'", "COPY docs FROM ?", {"alice", "private"}},
        {"REVOKE API KEY '0123456789abcdef'", "REVOKE API KEY ?", {"0123456789abcdef"}},
        // BEGIN AS OF, CREATE COLLECTION options, EXPLAIN
        {"BEGIN READ ONLY AS OF 777", "BEGIN READ ONLY AS OF ?", {"777"}},
        {"CREATE COLLECTION c (DIMENSION 3) WITH (quantization = 'int8', m = 24)",
         "CREATE COLLECTION c (DIMENSION 3) WITH (quantization = ?, m = ?)",
         {"int8", "24"}},
        {"EXPLAIN ANALYZE SELECT id FROM docs WHERE id = 'Kestrel'",
         "EXPLAIN ANALYZE SELECT id FROM docs WHERE id = ?",
         {"Kestrel"}},
        // statements without literals print as ToString does
        {"SHOW COLLECTIONS", "SHOW COLLECTIONS", {}},
    };
    for (const Case& test : cases) {
        const std::string redacted = Redacted(test.statement);
        EXPECT_EQ(redacted, test.redacted) << test.statement;
        for (std::string_view secret : test.secrets) {
            EXPECT_EQ(redacted.find(secret), std::string::npos) << secret << " in " << redacted;
        }
    }
}

TEST(RedactionTest, TheUnredactedFormIsUnchanged) {
    const std::string text = "SELECT id FROM docs WHERE metadata.name = 'Zanzibar' LIMIT 3";
    Result<Statement> parsed = ParseStatement(text);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(ToString(*parsed), text);  // redaction works on a copy
    EXPECT_EQ(ToRedactedString(*parsed), "SELECT id FROM docs WHERE metadata.name = ? LIMIT ?");
    EXPECT_EQ(ToString(*parsed), text);
}

}  // namespace
}  // namespace phenix::query
