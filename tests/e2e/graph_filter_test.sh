#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: metadata indexes, filters and graph queries in the shell. CREATE INDEX before and
# after the data exists, SHOW INDEXES, ANALYZE, DROP INDEX; SELECT ... WHERE with every operator
# family of the older `find` (on indexed and unindexed paths, arrays, nested paths; the filter
# operators' PhenixQL twins from docs/query-language.md "The JSON form"), count(*), LIMIT,
# EXPLAIN ANALYZE; the table functions traverse (hop ranges, labels, weights, directions, a
# cycle, a self-loop, a deleted target), paths, shortest_path and degree; nearest-neighbour
# SELECT with WHERE and from a MATCH; all of them inside a transaction that adds an edge; JSON
# output; and the error paths.
source "$(dirname "$0")/lib.sh" "$1"

# A commit timestamp: microseconds since the epoch, so 16 digits for the next few centuries.
TS_RE='[0-9]{16}'

# stdout with every timestamp replaced by TS, for exact comparisons.
normalize_ts() {
    sed -E "s/$TS_RE/TS/g" "$OUT" >"$OUT.normalized" && mv "$OUT.normalized" "$OUT"
}

# expect_out_line REGEX WHAT: some stdout line must match the extended regex in full.
expect_out_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qE -- "^$1\$" "$OUT"; then
        fail "$2: no stdout line matches /^$1\$/"
        show_output
    fi
}

# expect_find CONDITION IDS WHAT: `SELECT id FROM docs WHERE CONDITION ORDER BY id` prints
# exactly the ids IDS (space-separated); an empty CONDITION selects every entity.
expect_find() {
    local expected=' id
----' id count=0 where=""
    for id in $2; do
        expected+=$'\n'" $id"
        count=$((count + 1))
    done
    if ((count == 1)); then
        expected+=$'\n(1 row)'
    else
        expected+=$'\n'"($count rows)"
    fi
    [[ -n "$1" ]] && where=" WHERE $1"
    phx -c "SELECT id FROM docs$where ORDER BY id;"
    expect_rc 0 "$3"
    expect_out "$expected" "$3: WHERE $1"
}

# index_rows: SHOW INDEXES ON docs as CSV without the details column (its timestamps vary).
# An open may find rows the vector index has not absorbed yet (the last process closed before
# its builder did): "catching up" until the builder thread runs, which on a loaded machine can
# be after the statement. Asked again (a new process each time) until it has caught up.
index_rows() {
    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        phx --format csv -c 'SHOW INDEXES ON docs;'
        grep -q ',catching up,' "$OUT" || break
        sleep 0.3
    done
    cut -d, -f2-6 "$OUT" >"$OUT.cut" && mv "$OUT.cut" "$OUT"
}

# csv_values: stdout of a --format csv run without its header lines (a degree per line).
csv_values() {
    grep -v '^degree$' "$OUT" | tr '\n' ' '
}

# ---------------------------------------------------------------- metadata indexes and WHERE

# `category` is indexed before any entity exists, the other paths after.
phx -c 'CREATE COLLECTION docs (DIMENSION 2);' -c 'CREATE INDEX ON docs (metadata.category);' \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0, 0], {\"category\": \"tech\", \"year\": 2021, \"tags\": [\"ai\", \"db\"], \"author\": {\"name\": \"ann\", \"country\": \"fr\"}, \"score\": 4.5, \"draft\": false});" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d2', [1, 0], {\"category\": \"tech\", \"year\": 2019, \"tags\": [\"db\"], \"author\": {\"name\": \"bob\"}, \"score\": 3, \"published\": \"2024-01-15T10:00:00Z\"});" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d3', [0, 2], {\"category\": \"science\", \"year\": 2023, \"tags\": [\"bio\"], \"author\": {\"name\": \"cy\", \"country\": \"de\"}, \"score\": 5, \"draft\": true});" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d4', [3, 0], {\"category\": \"art\", \"year\": 2020, \"tags\": [], \"score\": null});" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d5', [0, 4], {\"category\": \"science\", \"year\": 2022, \"tags\": [\"ai\"], \"author\": {\"name\": \"ann\"}});" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d6', [5, 5], {\"title\": \"untitled\"});" \
    -c 'CREATE INDEX ON docs (metadata.year);' -c 'CREATE INDEX ON docs (metadata.tags);' \
    -c 'CREATE INDEX ON docs (metadata.author.name);'
expect_rc 0 "setup: indexes before and after the data"
expect_empty_err "setup: no progress when stderr is not a terminal"
expect_out 'CREATE COLLECTION
CREATE INDEX
INSERT 1
INSERT 1
INSERT 1
INSERT 1
INSERT 1
INSERT 1
CREATE INDEX
CREATE INDEX
CREATE INDEX' "CREATE INDEX prints CREATE INDEX"

phx -c 'ANALYZE docs;'
expect_out 'ANALYZE 1 collection' "ANALYZE"
# The vector index takes the inserts in the background: a new shell may find it still catching
# up ("catching up,5"). Wait (up to 10 s) until it holds all six, then compare.
for _ in $(seq 100); do
    index_rows
    grep -q '^vector,hnsw,ready,6,$' "$OUT" && break
    sleep 0.1
done
expect_rc 0 "SHOW INDEXES"
expect_out 'path,type,state,entries,distinct_values
vector,hnsw,ready,6,
metadata.author.name,metadata,ready,4,3
metadata.category,metadata,ready,5,3
metadata.tags,metadata,ready,5,3
metadata.year,metadata,ready,5,5' "SHOW INDEXES: the vector index, then the metadata paths sorted, with their statistics"

phx --format json -c 'ANALYZE docs;' -c 'SHOW INDEXES ON docs;'
expect_rc 0 "json indexes"
expect_out_line "\\[\\{\"collection\":\"docs\",\"path\":\"vector\",.*\\{\"collection\":\"docs\",\"path\":\"metadata.category\",\"type\":\"metadata\",\"state\":\"ready\",\"entries\":5,\"distinct_values\":3,\"details\":\"statistics at $TS_RE; usable from $TS_RE\"\\}.*\\]" \
    "json SHOW INDEXES: one array with a row per index"
[[ "$(wc -l <"$OUT")" == 1 ]] || { fail "json SHOW INDEXES: one line"; show_output; }

# ---- each operator family (indexed paths: category, year, tags, author.name) ----
expect_find "metadata.category = 'tech'" 'd1 d2' "equality by value"
expect_find "metadata.category IN ('art', 'science')" 'd3 d4 d5' "IN"
expect_find "(metadata.category = 'tech') IS NOT TRUE" 'd3 d4 d5 d6' "\$ne's twin (a missing field is not equal)"
expect_find "metadata.category != 'tech'" 'd3 d4 d5' "SQL's != (a missing field is unknown)"
expect_find "(metadata.category IN ('tech', 'art')) IS NOT TRUE" 'd3 d5 d6' "\$nin's twin"
expect_find "metadata.year > 2021" 'd3 d5' ">"
expect_find "metadata.year >= 2021" 'd1 d3 d5' ">="
expect_find "metadata.year < 2021" 'd2 d4' "<"
expect_find "metadata.year <= 2020" 'd2 d4' "<="
expect_find "metadata.year >= 2020 AND metadata.year < 2022" 'd1 d4' "a range"
expect_find "metadata.year > 2019.5 AND metadata.year <= 2020.0" 'd4' "floats compare with ints"
expect_find "metadata.year > '2000'" '' "a string never matches a number"
expect_find "(metadata.year > 2020) IS NOT TRUE" 'd2 d4 d6' "\$not's twin"
expect_find "exists(metadata.author.country)" 'd1 d3' "exists on a nested path"
expect_find "NOT exists(metadata.author)" 'd4 d6' "NOT exists"
expect_find "metadata.tags = 'db'" 'd1 d2' "an array matches if an element matches"
expect_find "metadata.tags IN ('ai', 'bio')" 'd1 d3 d5' "IN on an array"
expect_find "metadata.author.name = 'ann'" 'd1 d5' "a nested path"
expect_find "metadata.category = 'tech' AND metadata.year > 2020" 'd1' "AND"
expect_find "metadata.category = 'tech' AND metadata.tags = 'ai'" 'd1' "two paths"
expect_find "metadata.category = 'art' OR metadata.author.name = 'cy'" 'd3 d4' "OR"
expect_find "metadata.year < 2020 OR (metadata.tags = 'ai' AND metadata.category = 'science')" \
    'd2 d5' "nested OR and AND"

# ---- unindexed paths: the same operators, by scanning ----
expect_find "metadata.score >= 4.5" 'd1 d3' "an unindexed range"
expect_find "metadata.score < 4" 'd2' "an unindexed <"
expect_find "metadata.score IS NULL AND exists(metadata.score)" 'd4' "null matches null"
expect_find "metadata.draft = false" 'd1' "a boolean"
expect_find "exists(metadata.title)" 'd6' "an unindexed exists"
expect_find "metadata.published >= '2024-01-15T09:00:00Z'" 'd2' "an RFC 3339 timestamp"
expect_find "metadata.published >= '2024-01-15T10:30:00+01:00'" 'd2' "timestamps compare by instant"
expect_find "metadata.published < '2024-01-15T10:30:00+01:00'" '' "timestamps compare by instant, not bytes"
expect_find "metadata.category = 'tech' AND metadata.score > 3" 'd1' "an indexed and an unindexed path"
expect_find "" 'd1 d2 d3 d4 d5 d6' "no WHERE selects every entity"

# ---- count, LIMIT, EXPLAIN ANALYZE ----
phx -c "SELECT id FROM docs WHERE metadata.category IN ('tech', 'science') ORDER BY id LIMIT 3;" \
    -c "SELECT count(*) FROM docs WHERE metadata.category IN ('tech', 'science');" \
    -c 'SELECT count(*) FROM docs;'
expect_rc 0 "limit and count"
expect_out ' id
----
 d1
 d2
 d3
(3 rows)
 count
-------
 4
(1 row)
 count
-------
 6
(1 row)' "LIMIT cuts the ids, the count is exact"

phx -c "EXPLAIN ANALYZE SELECT id FROM docs WHERE metadata.category = 'science' AND metadata.score >= 5;"
expect_rc 0 "explain"
expect_out_has "category" "EXPLAIN ANALYZE shows the indexed path"
expect_out_has "score" "EXPLAIN ANALYZE shows the unindexed path"
phx -c "SELECT id FROM docs WHERE metadata.category = 'science' AND metadata.score >= 5;"
expect_out ' id
----
 d3
(1 row)' "the explained query's rows"

phx --format json -c "SELECT id FROM docs WHERE metadata.tags = 'ai' ORDER BY id;" \
    -c "SELECT count(*) FROM docs WHERE metadata.tags = 'ai';"
expect_rc 0 "json find"
expect_out '[{"id":"d1"},{"id":"d5"}]
[{"count":2}]' "json: the ids, and the count"

# ---- the indexes follow writes ----
phx -c "UPDATE docs SET metadata.category = 'art' WHERE id = 'd2';" -c "DELETE FROM docs WHERE id = 'd4';" \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d7', [6, 0], {\"category\": \"art\", \"tags\": [\"db\", \"db\"]});" \
    -c "SELECT id FROM docs WHERE metadata.category = 'art' ORDER BY id;" \
    -c "SELECT id FROM docs WHERE metadata.tags = 'db' ORDER BY id;" \
    -c "SELECT id FROM docs WHERE metadata.category = 'tech' ORDER BY id;"
expect_rc 0 "writes after the indexes exist"
expect_out 'UPDATE 1
DELETE 1
INSERT 1
 id
----
 d2
 d7
(2 rows)
 id
----
 d1
 d2
 d7
(3 rows)
 id
----
 d1
(1 row)' "updates, deletes and inserts are indexed (an entity once, even with a repeated element)"

# ---- DROP INDEX: the path is still queryable, by scanning ----
phx -c 'DROP INDEX ON docs (metadata.year);' -c 'ANALYZE docs;' \
    -c "SELECT id FROM docs WHERE metadata.year >= 2021 ORDER BY id;"
expect_rc 0 "drop index"
expect_out 'DROP INDEX
ANALYZE 1 collection
 id
----
 d1
 d3
 d5
(3 rows)' "a dropped index's path is still found"
index_rows
expect_out 'path,type,state,entries,distinct_values
vector,hnsw,ready,6,
metadata.author.name,metadata,ready,4,3
metadata.category,metadata,ready,5,3
metadata.tags,metadata,ready,6,3' "a dropped index is gone"
phx -c 'DROP INDEX ON docs (metadata.year);'
expect_error NotFound "dropping a missing index"
phx -c 'CREATE INDEX ON docs (metadata.category);'
expect_error AlreadyExists "indexing a path twice"
phx -c 'CREATE INDEX ON docs (metadata."a..b");'
expect_error InvalidArgument "a bad index path"
phx -c 'CREATE INDEX ON nope (metadata.x);'
expect_error NotFound "an index on a missing collection"

# ---------------------------------------------------------------- graph

# a -> b -> c -> a is a cycle; d has a self-loop; a also points into another collection.
phx -c 'CREATE COLLECTION g (DIMENSION 2);' -c 'CREATE COLLECTION notes;' -c "INSERT INTO notes (id) VALUES ('n1');" \
    -c "INSERT INTO g (id, vector, metadata) VALUES ('a', [0, 0], {\"kind\": \"person\"}), ('b', [1, 0], {\"kind\": \"person\"}), ('c', [0, 2], {\"kind\": \"bot\"});" \
    -c "INSERT INTO g (id, vector, metadata) VALUES ('d', [3, 0], {\"kind\": \"person\"}), ('e', [0, 4], {\"kind\": \"person\"}), ('f', [5, 0], {\"kind\": \"bot\"});" \
    -c "UPDATE g SET edges = [{\"label\": \"knows\", \"target\": \"b\"}, {\"label\": \"likes\", \"target\": \"c\", \"weight\": 5}, {\"label\": \"about\", \"target\": \"n1\", \"target_collection\": \"notes\"}] WHERE id = 'a';" \
    -c "UPDATE g SET edges = [{\"label\": \"knows\", \"target\": \"c\", \"weight\": 2}, {\"label\": \"knows\", \"target\": \"f\"}] WHERE id = 'b';" \
    -c "UPDATE g SET edges = [{\"label\": \"knows\", \"target\": \"a\"}, {\"label\": \"knows\", \"target\": \"d\"}] WHERE id = 'c';" \
    -c "UPDATE g SET edges = [{\"label\": \"self\", \"target\": \"d\"}] WHERE id = 'd';" \
    -c "UPDATE g SET edges = [{\"label\": \"knows\", \"target\": \"a\"}] WHERE id = 'e';"
expect_rc 0 "graph setup"

# ---- traverse ----
phx -c "SELECT * FROM traverse('g', 'a');"
expect_rc 0 "traverse"
expect_empty_err "traverse"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
(3 rows)' "one hop out, into another collection too"

phx -c "SELECT * FROM traverse('g', 'a', min_hops = 1, max_hops = 2);"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
 g          | d  | 2
 g          | f  | 2
(5 rows)' "hops 1..2: the cycle back to the start does not return it"

phx -c "SELECT * FROM traverse('g', 'a', hops = 2);"
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 2
 g          | d  | 2
 g          | f  | 2
(3 rows)' "hops 2: walks of exactly two edges (c also by a -> b -> c)"

phx -c "SELECT * FROM traverse('g', 'a', max_hops = 3, include_start = TRUE);"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
 g          | a  | 2
 g          | d  | 2
 g          | f  | 2
(6 rows)' "include_start: the cycle returns to the start at depth 2"

phx -c "SELECT * FROM traverse('g', 'a', min_hops = 0, max_hops = 1);"
expect_out ' collection | id | depth
------------+----+-------
 g          | a  | 0
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
(4 rows)' "hops 0..1 includes the start at depth 0"

phx -c "SELECT * FROM traverse('g', 'a', max_hops = 3, label = 'knows');"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 2
 g          | f  | 2
 g          | d  | 3
(4 rows)' "only knows edges"

phx -c "SELECT * FROM traverse('g', 'a', label = 'likes,about');"
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
 notes      | n1 | 1
(2 rows)' "a list of labels"

phx -c "SELECT * FROM traverse('g', 'a', direction = 'in', max_hops = 2);"
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
 g          | b  | 2
(3 rows)' "in: against the edges"

phx -c "SELECT * FROM traverse('g', 'd', direction = 'both');" \
    -c "SELECT * FROM traverse('g', 'd', direction = 'both', include_start = TRUE);" \
    -c "SELECT * FROM traverse('g', 'd', max_hops = 3);" \
    -c "SELECT * FROM traverse('g', 'd', include_start = TRUE);"
expect_rc 0 "self-loop"
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
(1 row)
 collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | d  | 1
(2 rows)
 collection | id | depth
------------+----+-------
(0 rows)
 collection | id | depth
------------+----+-------
 g          | d  | 1
(1 row)' "a self-loop reaches only the start"

phx -c "SELECT * FROM traverse('g', 'a', min_weight = 2);" \
    -c "SELECT * FROM traverse('g', 'a', max_hops = 2, max_weight = 1);" \
    -c "SELECT * FROM traverse('g', 'a', max_hops = 2, min_weight = 1, max_weight = 2, label = 'knows');"
expect_rc 0 "weights"
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
(1 row)
 collection | id | depth
------------+----+-------
 g          | b  | 1
 notes      | n1 | 1
 g          | f  | 2
(3 rows)
 collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 2
 g          | f  | 2
(3 rows)' "weight bounds are inclusive"

phx -c "SELECT * FROM traverse('g', 'a', max_hops = 2) LIMIT 2;"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
(2 rows)' "LIMIT truncates, nearest first"

phx --format json -c "SELECT * FROM traverse('g', 'e', max_hops = 2, label = 'knows');"
expect_rc 0 "json traverse"
expect_out '[{"collection":"g","id":"a","depth":1},{"collection":"g","id":"b","depth":2}]' "json traverse"

# ---- paths ----
phx -c "SELECT * FROM paths('g', 'a', 'd');"
expect_rc 0 "paths"
expect_empty_err "paths"
expect_out ' path | hops | total_weight | nodes             | labels
------+------+--------------+-------------------+---------------------------
 1    | 3    | 4.0          | ["a","b","c","d"] | ["knows","knows","knows"]
 2    | 2    | 6.0          | ["a","c","d"]     | ["likes","knows"]
(2 rows)' "every path to d without a repeated entity, depth first"

phx -c "SELECT nodes, labels, total_weight FROM paths('g', 'a', hops = 1);"
expect_out ' nodes            | labels    | total_weight
------------------+-----------+--------------
 ["a","notes/n1"] | ["about"] | 1.0
 ["a","b"]        | ["knows"] | 1.0
 ["a","c"]        | ["likes"] | 5.0
(3 rows)' "paths to anywhere; another collection's node is COLLECTION/ID"

phx -c "SELECT nodes, labels, total_weight FROM paths('g', 'd', 'b', direction = 'in', max_hops = 3);"
expect_out ' nodes         | labels            | total_weight
---------------+-------------------+--------------
 ["d","c","b"] | ["knows","knows"] | 3.0
(1 row)' "in: a path against the edges"

phx -c "SELECT nodes, hops, total_weight FROM paths('g', 'a', label = 'knows');"
expect_out ' nodes             | hops | total_weight
-------------------+------+--------------
 ["a","b"]         | 1    | 1.0
 ["a","b","c"]     | 2    | 3.0
 ["a","b","c","d"] | 3    | 4.0
 ["a","b","f"]     | 2    | 2.0
(4 rows)' "without a target a path never returns to its start (not a -> b -> c -> a)"

phx -c "SELECT nodes, hops, total_weight FROM paths('g', 'c', 'c', label = 'knows');"
expect_out ' nodes             | hops | total_weight
-------------------+------+--------------
 ["c","a","b","c"] | 3    | 4.0
(1 row)' "to the start itself: the cycle"

phx -c "SELECT nodes FROM paths('g', 'a', 'd') LIMIT 1;"
expect_out ' nodes
-------------------
 ["a","b","c","d"]
(1 row)' "paths LIMIT"

# ---- shortest_path ----
phx -c "SELECT id, label, total_weight FROM shortest_path('g', 'a', 'd');" \
    -c "SELECT id FROM shortest_path('g', 'e', 'd');" \
    -c "SELECT id, total_weight FROM shortest_path('g', 'd', 'a', direction = 'in');" \
    -c "SELECT id FROM shortest_path('g', 'a', 'd', min_weight = 2);" \
    -c "SELECT id FROM shortest_path('g', 'd', 'a');"
expect_rc 0 "shortest"
expect_empty_err "shortest"
expect_out ' id | label | total_weight
----+-------+--------------
 a  | NULL  | 0.0
 b  | knows | 1.0
 c  | knows | 3.0
 d  | knows | 4.0
(4 rows)
 id
----
 e
 a
 b
 c
 d
(5 rows)
 id | total_weight
----+--------------
 d  | 0.0
 c  | 1.0
 b  | 3.0
 a  | 4.0
(4 rows)
 id
----
(0 rows)
 id
----
(0 rows)' "least total weight, not fewest hops; no rows when there is no path"

phx --format json -c "SELECT * FROM shortest_path('g', 'a', 'c');" -c "SELECT * FROM shortest_path('g', 'd', 'a');"
expect_rc 0 "json shortest"
expect_out '[{"step":0,"collection":"g","id":"a","label":null,"weight":null,"total_weight":0.0},{"step":1,"collection":"g","id":"b","label":"knows","weight":1.0,"total_weight":1.0},{"step":2,"collection":"g","id":"c","label":"knows","weight":2.0,"total_weight":3.0}]
[]' "json shortest"

# ---- degree ----
phx --format csv -c "SELECT * FROM degree('g', 'a');" -c "SELECT * FROM degree('g', 'a', direction = 'in');" \
    -c "SELECT * FROM degree('g', 'a', direction = 'both');" -c "SELECT * FROM degree('g', 'a', label = 'knows');" \
    -c "SELECT * FROM degree('g', 'd', direction = 'both');" -c "SELECT * FROM degree('g', 'b', min_weight = 1.5);" \
    -c "SELECT * FROM degree('g', 'e', direction = 'in');"
expect_rc 0 "degree"
[[ "$(csv_values)" == "3 2 5 1 3 1 0 " ]] ||
    fail "degree: out, in, both, a label, a self-loop counted out and in, a weight: $(csv_values)"
phx -c "SELECT degree FROM degree('notes', 'n1', direction = 'in');"
expect_out ' degree
--------
 1
(1 row)' "degree counts edges from other collections"

# ---- nearest neighbours with WHERE, and from a MATCH ----
phx -c "SELECT id, vector <-> [0, 0] AS distance FROM docs WHERE metadata.category = 'art' ORDER BY distance LIMIT 10;"
expect_rc 0 "search where"
expect_out ' id | distance
----+----------
 d2 | 1.0
 d7 | 6.0
(2 rows)' "search where: only matching entities"

phx -c "SELECT id, vector <-> [0, 0] AS distance FROM docs WHERE metadata.year >= 2021 ORDER BY distance LIMIT 2;" \
    -c "EXPLAIN ANALYZE SELECT id FROM docs WHERE metadata.year >= 2021 ORDER BY vector <-> [0, 0] LIMIT 2;"
expect_rc 0 "search where explain"
expect_out_has "year" "EXPLAIN ANALYZE shows how the filter ran"
head -n 5 "$OUT" >"$OUT.rows" && mv "$OUT.rows" "$OUT"
expect_out ' id | distance
----+----------
 d1 | 0.0
 d3 | 2.0
(2 rows)' "search where on an unindexed (dropped) path"

phx -c "SELECT b.id, b.vector <-> [0, 0] AS distance FROM MATCH (a:g)-[*1..2]->(b:g) WHERE a.id = 'e' ORDER BY distance LIMIT 10;" \
    -c "SELECT b.id, b.vector <-> [0, 0] AS distance FROM MATCH (a:g)-[*1..2]->(b:g) WHERE a.id = 'e' AND b.metadata.kind = 'person' ORDER BY distance LIMIT 10;" \
    -c "SELECT b.id, b.vector <-> [0, 0] AS distance FROM MATCH (a:g)<-[]-(b:g) WHERE a.id = 'a' ORDER BY distance LIMIT 10;" \
    -c "SELECT b.id, b.vector <-> [0, 0] AS distance FROM MATCH (a:g)-[:knows]->(b:g) WHERE a.id = 'b' AND b.id IN ('c', 'd') ORDER BY distance LIMIT 10;"
expect_rc 0 "search from"
expect_out ' b.id | distance
------+----------
 a    | 0.0
 b    | 1.0
 c    | 2.0
(3 rows)
 b.id | distance
------+----------
 a    | 0.0
 b    | 1.0
(2 rows)
 b.id | distance
------+----------
 c    | 2.0
 e    | 4.0
(2 rows)
 b.id | distance
------+----------
 c    | 2.0
(1 row)' "search from a MATCH: only reached entities, combined with WHERE and ids"

phx --format json -c "SELECT b.id FROM MATCH (a:g)-[]->(b:g) WHERE a.id = 'e' ORDER BY b.vector <-> [0, 0] LIMIT 1;"
expect_rc 0 "json search from"
expect_out '[{"b.id":"a"}]' "json search from"

# ---- a deleted target is not returned ----
phx -c "DELETE FROM g WHERE id = 'f';" -c "SELECT * FROM traverse('g', 'b');" \
    -c "SELECT nodes FROM paths('g', 'a', hops = 2, label = 'knows');" -c "SELECT * FROM degree('g', 'b');"
expect_rc 0 "after deleting a target"
expect_out 'DELETE 1
 collection | id | depth
------------+----+-------
 g          | c  | 1
(1 row)
 nodes
---------------
 ["a","b","c"]
(1 row)
 degree
--------
 1
(1 row)' "the deleted entity and its edges are gone"

# ---------------------------------------------------------------- transactions

phx -c 'BEGIN;' -c "INSERT INTO g (id, vector, metadata) VALUES ('t', [9, 9], {\"kind\": \"temp\"});" \
    -c "UPDATE g SET edges = [{\"label\": \"self\", \"target\": \"d\"}, {\"label\": \"knows\", \"target\": \"t\", \"weight\": 0.5}] WHERE id = 'd';" \
    -c "SELECT * FROM traverse('g', 'c', max_hops = 2);" -c "SELECT * FROM degree('g', 'd');" \
    -c "SELECT * FROM degree('g', 't', direction = 'in');" -c "SELECT id FROM g WHERE metadata.kind = 'temp';" \
    -c "SELECT nodes, total_weight FROM paths('g', 'c', 't');" -c "SELECT id, total_weight FROM shortest_path('g', 'a', 't');" \
    -c "SELECT b.id FROM MATCH (a:g)-[]->(b:g) WHERE a.id = 'd' ORDER BY b.vector <-> [9, 9] LIMIT 1;" -c 'COMMIT;' \
    -c "SELECT * FROM traverse('g', 'd');"
expect_rc 0 "graph reads inside a transaction"
expect_empty_err "graph reads inside a transaction"
normalize_ts
expect_out 'BEGIN
INSERT 1
UPDATE 1
 collection | id | depth
------------+----+-------
 g          | a  | 1
 g          | d  | 1
 g          | b  | 2
 g          | t  | 2
 notes      | n1 | 2
(5 rows)
 degree
--------
 2
(1 row)
 degree
--------
 1
(1 row)
 id
----
 t
(1 row)
 nodes         | total_weight
---------------+--------------
 ["c","d","t"] | 1.5
(1 row)
 id | total_weight
----+--------------
 a  | 0.0
 b  | 1.0
 c  | 3.0
 d  | 4.0
 t  | 4.5
(5 rows)
 b.id
------
 t
(1 row)
COMMIT TS
 collection | id | depth
------------+----+-------
 g          | t  | 1
(1 row)' "the transaction sees its new entity and edge before commit; a later statement after"

phx -c 'BEGIN;' -c "INSERT INTO g (id, edges) VALUES ('u', [{\"label\": \"knows\", \"target\": \"a\"}]);" \
    -c "SELECT * FROM traverse('g', 'a', direction = 'in');" -c 'ROLLBACK;' \
    -c "SELECT * FROM traverse('g', 'a', direction = 'in');"
expect_rc 0 "rollback of an edge"
expect_out 'BEGIN
INSERT 1
 collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
 g          | u  | 1
(3 rows)
ROLLBACK
 collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
(2 rows)' "a rolled-back edge is not followed"

phx --format csv -c 'BEGIN READ ONLY;' -c "SELECT count(*) FROM docs WHERE metadata.category = 'art';" \
    -c "SELECT * FROM degree('g', 'a');" -c 'ROLLBACK;'
expect_rc 0 "a read-only transaction"
expect_out 'count
2
degree
3' "count and degree in a read-only transaction"

for refused in 'CREATE INDEX:CREATE INDEX ON docs (metadata.score);' 'DROP INDEX:DROP INDEX ON docs (metadata.tags);'; do
    phx -c 'BEGIN;' -c "${refused#*:}"
    expect_error FailedPrecondition "'${refused#*:}' inside a transaction"
    expect_err_has "${refused%%:*} cannot run inside a transaction" "'${refused#*:}' inside a transaction"
done
phx -c 'BEGIN;' -c 'SHOW INDEXES ON docs;' -c 'ANALYZE docs;' -c 'ROLLBACK;'
expect_rc 0 "SHOW INDEXES and ANALYZE inside a transaction read the committed state"

# ---------------------------------------------------------------- errors

phx -c "SELECT id FROM docs WHERE metadata.category = ;"
expect_error InvalidArgument "an incomplete condition"
phx -c "SELECT id FROM docs WHERE metadata.year ~ 'x';"
expect_error InvalidArgument "an unknown operator"
phx -c "SELECT id FROM docs WHERE (metadata.category = 'x';"
expect_error InvalidArgument "an unclosed parenthesis"
expect_err_has "expected ')'" "an unclosed parenthesis"
phx -c "SELECT id FROM docs WHERE category = 'tech';"
expect_error InvalidArgument "a path without metadata."
expect_err_has "metadata.category" "a path without metadata. suggests it"
phx -c "SELECT id FROM nope WHERE metadata.x = 1;"
expect_error NotFound "a query on a missing collection"
phx -c "SELECT id FROM docs WHERE metadata.year $ 1 ORDER BY vector <-> [0, 0] LIMIT 1;"
expect_error InvalidArgument "an unknown operator in a nearest-neighbour WHERE"

phx -c "SELECT * FROM traverse('g', 'a', max_hops = 20);"
expect_error InvalidArgument "hops beyond max_traversal_depth"
expect_err_has "max_traversal_depth" "the error names the limit"
phx -c "SELECT * FROM traverse('g', 'a', max_hops = 2000000);"
expect_error InvalidArgument "hops beyond what the table function accepts"
expect_err_has "option 'max_hops' must be an integer from 0 to 1000000, not 2000000" "hops beyond the range"
phx -c "SELECT * FROM traverse('g', 'a', min_hops = 3, max_hops = 1);"
expect_error InvalidArgument "MIN above MAX"
phx -c "SELECT * FROM traverse('g', 'nope');"
expect_error NotFound "traverse from a missing entity"
phx -c "SELECT * FROM traverse('g', 'a', direction = 'sideways');"
expect_error InvalidArgument "an unknown direction"
expect_err_has "option 'direction' must be 'out', 'in' or 'both', not 'sideways'" "an unknown direction"
phx -c "SELECT * FROM paths('g', 'a', 'd', max_hops = 20);"
expect_error InvalidArgument "paths beyond max_traversal_depth"
phx -c "SELECT * FROM shortest_path('g', 'a');"
expect_error InvalidArgument "shortest without a target"
expect_err_has "shortest_path takes (collection, from id, to id [, options]), not 2 arguments" \
    "shortest without a target"
phx -c "SELECT * FROM degree('g', 'nope');"
expect_error NotFound "degree of a missing entity"
phx -c "SELECT b.id FROM MATCH (a:g)-[]->(b:g) WHERE a.id = 'nope' ORDER BY b.vector <-> [0, 0] LIMIT 3;"
expect_rc 0 "search from a missing entity"
expect_out_has "(0 rows)" "search from a missing entity finds nothing"
for old in "find docs {}" "traverse g a" "paths g a" "shortest g a d" "degree g a" "indexes docs" "index docs"; do
    phx -c "$old"
    expect_error InvalidArgument "the older command '$old'"
    expect_err_has "the shell's older '${old%% *}' command is PhenixQL now" "the older command '$old' names its PhenixQL"
done

# ---- progress on a terminal (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    script -qec "$(phx_cmdline) -c 'CREATE INDEX ON docs (metadata.score);'" \
        /dev/null </dev/null | tr '\r' '\n' >"$OUT" 2>"$ERR"
    expect_out_has 'CREATE INDEX' "create index on a terminal"
else
    echo "skipping the progress check: util-linux script is not installed"
fi

# ---- help ----
phx -c '\?'
for usage in "CREATE INDEX ON name (metadata.path);" "DROP INDEX ON name (metadata.path);" \
    "SHOW INDEXES [ON name];" "ANALYZE [name];" "SELECT * FROM traverse('name', 'id'" \
    "SELECT * FROM paths('name', 'from'" "SELECT * FROM shortest_path('name', 'from', 'to'" \
    "SELECT * FROM degree('name', 'id'" "SELECT * FROM edges('name', 'id'"; do
    expect_out_has "  $usage" "help lists '$usage'"
done
phx -c '\? create'
expect_out_has "CREATE INDEX ON name" "\\? create lists CREATE INDEX"

phx -c 'VERIFY;'
expect_rc 0 "verify after everything"

finish
