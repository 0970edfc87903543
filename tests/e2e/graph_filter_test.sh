#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: metadata indexes, filters and graph queries in the shell. `create index` before
# and after the data exists, `indexes`, `analyze`, `drop index`; `find` with every operator
# family (on indexed and unindexed paths, arrays, nested paths), `count`, `limit`, `explain`;
# `traverse` (hop ranges, labels, weights, directions, a cycle, a self-loop, a deleted target),
# `paths`, `shortest`, `degree`; `search ... where` and `search ... from`; all of them inside a
# transaction that adds an edge; JSON output; and the error paths.
source "$(dirname "$0")/lib.sh" "$1"

# A commit timestamp: microseconds since the epoch, so 16 digits for the next few centuries.
TS_RE='[0-9]{16}'

# stdout with every timestamp replaced by TS, for exact comparisons.
normalize_ts() {
    sed -E "s/$TS_RE/TS/g" "$OUT" >"$OUT.normalized" && mv "$OUT.normalized" "$OUT"
}

# stdout without the plan lines that follow a search or an explained find (the `plan:` line
# and the indented steps under it), whose counters depend on the engine's choices.
drop_plan() {
    grep -v -e '^plan: ' -e '^  ' "$OUT" >"$OUT.noplan"
    mv "$OUT.noplan" "$OUT"
}

# expect_out_line REGEX WHAT: some stdout line must match the extended regex in full.
expect_out_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qE -- "^$1\$" "$OUT"; then
        fail "$2: no stdout line matches /^$1\$/"
        show_output
    fi
}

# expect_find FILTER IDS WHAT: `find docs FILTER` prints exactly the ids IDS (space-separated,
# in insertion order).
expect_find() {
    local expected=' id
----' id count=0
    for id in $2; do
        expected+=$'\n'" $id"
        count=$((count + 1))
    done
    if ((count == 1)); then
        expected+=$'\n(1 row)'
    else
        expected+=$'\n'"($count rows)"
    fi
    phx -c "find docs $1"
    expect_rc 0 "$3"
    expect_out "$expected" "$3: find docs $1"
}

# ---------------------------------------------------------------- metadata indexes and find

# `category` is indexed before any entity exists, the other paths after.
phx -c 'create collection docs dim 2' -c 'create index docs category' \
    -c 'insert docs {"id": "d1", "vector": [0, 0], "metadata": {"category": "tech", "year": 2021, "tags": ["ai", "db"], "author": {"name": "ann", "country": "fr"}, "score": 4.5, "draft": false}}' \
    -c 'insert docs {"id": "d2", "vector": [1, 0], "metadata": {"category": "tech", "year": 2019, "tags": ["db"], "author": {"name": "bob"}, "score": 3, "published": "2024-01-15T10:00:00Z"}}' \
    -c 'insert docs {"id": "d3", "vector": [0, 2], "metadata": {"category": "science", "year": 2023, "tags": ["bio"], "author": {"name": "cy", "country": "de"}, "score": 5, "draft": true}}' \
    -c 'insert docs {"id": "d4", "vector": [3, 0], "metadata": {"category": "art", "year": 2020, "tags": [], "score": null}}' \
    -c 'insert docs {"id": "d5", "vector": [0, 4], "metadata": {"category": "science", "year": 2022, "tags": ["ai"], "author": {"name": "ann"}}}' \
    -c 'insert docs {"id": "d6", "vector": [5, 5], "metadata": {"title": "untitled"}}' \
    -c 'create index docs year' -c 'create index docs tags' -c 'CREATE INDEX docs metadata.author.name'
expect_rc 0 "setup: indexes before and after the data"
expect_empty_err "setup: no progress when stderr is not a terminal"
expect_out 'OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK' "create index prints OK"

phx -c 'analyze docs' -c 'indexes docs'
expect_rc 0 "analyze, indexes"
expect_out 'OK
 path        | state | entries | distinct_values
-------------+-------+---------+-----------------
 author.name | ready | 4       | 3
 category    | ready | 5       | 3
 tags        | ready | 5       | 3
 year        | ready | 5       | 5
(4 rows)' "indexes: canonical paths, sorted, with their statistics"

phx --format json -c 'analyze docs' -c 'indexes docs'
expect_rc 0 "json indexes"
expect_out_line '\{"ok":true\}' "json analyze"
expect_out_line "\\{\"path\":\"category\",\"state\":\"ready\",\"ready_timestamp\":$TS_RE,\"entries\":5,\"distinct_values\":3,\"statistics_timestamp\":$TS_RE,\"statistics\":\\{.*\\}\\}" \
    "json indexes carry the statistics object"
[[ "$(wc -l <"$OUT")" == 5 ]] || { fail "json indexes: one line per index"; show_output; }

# ---- each operator family (indexed paths: category, year, tags, author.name) ----
expect_find '{"category": "tech"}' 'd1 d2' "equality by value"
expect_find '{"category": {"$eq": "science"}}' 'd3 d5' "\$eq"
expect_find '{"category": {"$in": ["art", "science"]}}' 'd3 d4 d5' "\$in"
expect_find '{"category": {"$ne": "tech"}}' 'd3 d4 d5 d6' "\$ne (a missing field is not equal)"
expect_find '{"category": {"$nin": ["tech", "art"]}}' 'd3 d5 d6' "\$nin"
expect_find '{"year": {"$gt": 2021}}' 'd3 d5' "\$gt"
expect_find '{"year": {"$gte": 2021}}' 'd1 d3 d5' "\$gte"
expect_find '{"year": {"$lt": 2021}}' 'd2 d4' "\$lt"
expect_find '{"year": {"$lte": 2020}}' 'd2 d4' "\$lte"
expect_find '{"year": {"$gte": 2020, "$lt": 2022}}' 'd1 d4' "a range"
expect_find '{"year": {"$gt": 2019.5, "$lte": 2020.0}}' 'd4' "floats compare with ints"
expect_find '{"year": {"$gt": "2000"}}' '' "a string never matches a number"
expect_find '{"year": {"$not": {"$gt": 2020}}}' 'd2 d4 d6' "\$not"
expect_find '{"author.country": {"$exists": true}}' 'd1 d3' "\$exists true on a nested path"
expect_find '{"author": {"$exists": false}}' 'd4 d6' "\$exists false"
expect_find '{"tags": "db"}' 'd1 d2' "an array matches if an element matches"
expect_find '{"tags": {"$in": ["ai", "bio"]}}' 'd1 d3 d5' "\$in on an array"
expect_find '{"metadata.author.name": "ann"}' 'd1 d5' "a nested path with the metadata. prefix"
expect_find '{"$and": [{"category": "tech"}, {"year": {"$gt": 2020}}]}' 'd1' "\$and"
expect_find '{"category": "tech", "tags": "ai"}' 'd1' "several paths are an implicit \$and"
expect_find '{"$or": [{"category": "art"}, {"author.name": "cy"}]}' 'd3 d4' "\$or"
expect_find '{"$or": [{"year": {"$lt": 2020}}, {"$and": [{"tags": "ai"}, {"category": "science"}]}]}' \
    'd2 d5' "nested \$or and \$and"

# ---- unindexed paths: the same operators, by scanning ----
expect_find '{"score": {"$gte": 4.5}}' 'd1 d3' "an unindexed range"
expect_find '{"score": {"$lt": 4}}' 'd2' "an unindexed \$lt"
expect_find '{"score": null}' 'd4' "null matches null"
expect_find '{"draft": false}' 'd1' "a boolean"
expect_find '{"title": {"$exists": true}}' 'd6' "an unindexed \$exists"
expect_find '{"published": {"$gte": "2024-01-15T09:00:00Z"}}' 'd2' "an RFC 3339 timestamp"
expect_find '{"published": {"$gte": "2024-01-15T10:30:00+01:00"}}' 'd2' "timestamps compare by instant"
expect_find '{"published": {"$lt": "2024-01-15T10:30:00+01:00"}}' '' "timestamps compare by instant, not bytes"
expect_find '{"category": "tech", "score": {"$gt": 3}}' 'd1' "an indexed and an unindexed path"
expect_find '{}' 'd1 d2 d3 d4 d5 d6' "the empty filter matches every entity"
phx -c 'find docs'
expect_out_has '(6 rows)' "find without a filter matches every entity"

# ---- count, limit, explain ----
phx -c 'find docs {"category": {"$in": ["tech", "science"]}} limit 3' \
    -c 'find docs {"category": {"$in": ["tech", "science"]}} count' -c 'find docs count'
expect_rc 0 "limit and count"
expect_out ' id
----
 d1
 d2
 d3
(3 rows of 4 matching)
4
6' "limit cuts the ids, the count is exact"

phx -c 'find docs {"category": "science", "score": {"$gte": 5}} explain'
expect_rc 0 "explain find"
expect_out_line 'plan: estimated [0-9.e+]+ rows?, [0-9]+ rows? scanned, [0-9]+ index (entry|entries) read' \
    "explain prints the plan line"
expect_out_line '  category.*index.*' "the indexed path runs on its index"
expect_out_line '  score.*' "the unindexed path is checked"
drop_plan
expect_out ' id
----
 d3
(1 row)' "explain prints the rows first"
phx -c 'explain find docs {"score": {"$gte": 5}}'
expect_rc 0 "explain prefix"
expect_out_line '  score.*scan.*' "an unindexed path alone is a scan"

phx --format json -c 'find docs {"tags": "ai"}' -c 'find docs {"tags": "ai"} count' \
    -c 'find docs {"tags": "ai"} limit 1 explain'
expect_rc 0 "json find"
expect_out_line '\{"ids":\["d1","d5"\],"count":2\}' "json find: ids and count"
expect_out_line '\{"count":2\}' "json find count: the count alone"
expect_out_line '\{"ids":\["d1"\],"count":2,"plan":\{"estimated_rows":[0-9.e+]+,"rows_scanned":[0-9]+,"index_entries_read":[0-9]+,"steps":\[".*"\]\}\}' \
    "json find with explain"

# ---- the indexes follow writes ----
phx -c 'patch docs d2 {"category": "art"}' -c 'delete docs d4' \
    -c 'insert docs {"id": "d7", "vector": [6, 0], "metadata": {"category": "art", "tags": ["db", "db"]}}' \
    -c 'find docs {"category": "art"}' -c 'find docs {"tags": "db"}' -c 'find docs {"category": "tech"}'
expect_rc 0 "writes after the indexes exist"
expect_out 'OK
OK
OK
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

# ---- drop index: the path is still queryable, by scanning ----
phx -c 'drop index docs year' -c 'analyze docs' -c 'indexes docs' \
    -c 'find docs {"year": {"$gte": 2021}}'
expect_rc 0 "drop index"
expect_out 'OK
OK
 path        | state | entries | distinct_values
-------------+-------+---------+-----------------
 author.name | ready | 4       | 3
 category    | ready | 5       | 3
 tags        | ready | 6       | 3
(3 rows)
 id
----
 d1
 d3
 d5
(3 rows)' "a dropped index is gone and its path still found"
phx -c 'drop index docs year'
expect_error NotFound "dropping a missing index"
phx -c 'create index docs category'
expect_error AlreadyExists "indexing a path twice"
phx -c 'create index docs "a..b"'
expect_error InvalidArgument "a bad index path"
phx -c 'create index nope x'
expect_error NotFound "an index on a missing collection"

# ---------------------------------------------------------------- graph

# a -> b -> c -> a is a cycle; d has a self-loop; a also points into another collection.
phx -c 'create collection g dim 2' -c 'create collection notes' -c 'insert notes {"id": "n1"}' \
    -c 'insert g {"id": "a", "vector": [0, 0], "metadata": {"kind": "person"}}' \
    -c 'insert g {"id": "b", "vector": [1, 0], "metadata": {"kind": "person"}}' \
    -c 'insert g {"id": "c", "vector": [0, 2], "metadata": {"kind": "bot"}}' \
    -c 'insert g {"id": "d", "vector": [3, 0], "metadata": {"kind": "person"}}' \
    -c 'insert g {"id": "e", "vector": [0, 4], "metadata": {"kind": "person"}}' \
    -c 'insert g {"id": "f", "vector": [5, 0], "metadata": {"kind": "bot"}}' \
    -c 'upsert g {"id": "a", "vector": [0, 0], "metadata": {"kind": "person"}, "edges": [{"label": "knows", "target": "b"}, {"label": "likes", "target": "c", "weight": 5}, {"label": "about", "target": "n1", "collection": "notes"}]}' \
    -c 'upsert g {"id": "b", "vector": [1, 0], "metadata": {"kind": "person"}, "edges": [{"label": "knows", "target": "c", "weight": 2}, {"label": "knows", "target": "f"}]}' \
    -c 'upsert g {"id": "c", "vector": [0, 2], "metadata": {"kind": "bot"}, "edges": [{"label": "knows", "target": "a"}, {"label": "knows", "target": "d"}]}' \
    -c 'upsert g {"id": "d", "vector": [3, 0], "metadata": {"kind": "person"}, "edges": [{"label": "self", "target": "d"}]}' \
    -c 'upsert g {"id": "e", "vector": [0, 4], "metadata": {"kind": "person"}, "edges": [{"label": "knows", "target": "a"}]}'
expect_rc 0 "graph setup"

# ---- traverse ----
phx -c 'traverse g a'
expect_rc 0 "traverse"
expect_empty_err "traverse"
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
(3 rows)' "one hop out, into another collection too"

phx -c 'traverse g a hops 1..2'
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
 g          | d  | 2
 g          | f  | 2
(5 rows)' "hops 1..2: the cycle back to the start does not return it"

phx -c 'traverse g a hops 2'
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 2
 g          | d  | 2
 g          | f  | 2
(3 rows)' "hops 2: walks of exactly two edges (c also by a -> b -> c)"

phx -c 'traverse g a hops 1..3 with start'
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
 g          | a  | 2
 g          | d  | 2
 g          | f  | 2
(6 rows)' "with start: the cycle returns to the start at depth 2"

phx -c 'traverse g a hops 0..1'
expect_out ' collection | id | depth
------------+----+-------
 g          | a  | 0
 g          | b  | 1
 g          | c  | 1
 notes      | n1 | 1
(4 rows)' "hops 0..1 includes the start at depth 0"

phx -c 'traverse g a hops 1..3 label knows'
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 2
 g          | f  | 2
 g          | d  | 3
(4 rows)' "only knows edges"

phx -c 'traverse g a label likes,about'
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
 notes      | n1 | 1
(2 rows)' "a list of labels"

phx -c 'traverse g a in hops 1..2'
expect_out ' collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
 g          | b  | 2
(3 rows)' "in: against the edges"

phx -c 'traverse g d both' -c 'traverse g d both with start' -c 'traverse g d hops 1..3' \
    -c 'traverse g d with start'
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

phx -c 'traverse g a weight >= 2' -c 'traverse g a hops 1..2 weight <= 1' \
    -c 'traverse g a hops 1..2 weight>=1 weight<=2 label knows'
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

phx -c 'traverse g a hops 1..2 limit 2'
expect_out ' collection | id | depth
------------+----+-------
 g          | b  | 1
 g          | c  | 1
(2 rows; more were reached: raise the limit)' "limit truncates, nearest first"

phx --format json -c 'traverse g e hops 1..2 label knows'
expect_rc 0 "json traverse"
expect_out_line '\{"entities":\[\{"collection":"g","id":"a","depth":1\},\{"collection":"g","id":"b","depth":2\}\],"truncated":false,"edges_examined":[0-9]+\}' \
    "json traverse"

# ---- paths ----
phx -c 'paths g a to d'
expect_rc 0 "paths"
expect_empty_err "paths"
expect_out ' path                                     | hops | weight
------------------------------------------+------+--------
 a -[knows]-> b -[knows]-> c -[knows]-> d | 3    | 4
 a -[likes]-> c -[knows]-> d              | 2    | 6
(2 rows)' "every path to d without a repeated entity, depth first"

phx -c 'paths g a hops 1'
expect_out ' path                  | hops | weight
-----------------------+------+--------
 a -[about]-> notes:n1 | 1    | 1
 a -[knows]-> b        | 1    | 1
 a -[likes]-> c        | 1    | 5
(3 rows)' "paths to anywhere; another collection's node is COLLECTION:ID"

phx -c 'paths g d to b in hops 1..3'
expect_out ' path                        | hops | weight
-----------------------------+------+--------
 d <-[knows]- c <-[knows]- b | 2    | 3
(1 row)' "in: arrows show the stored direction"

phx -c 'paths g a label knows'
expect_out ' path                                     | hops | weight
------------------------------------------+------+--------
 a -[knows]-> b                           | 1    | 1
 a -[knows]-> b -[knows]-> c              | 2    | 3
 a -[knows]-> b -[knows]-> c -[knows]-> d | 3    | 4
 a -[knows]-> b -[knows]-> f              | 2    | 2
(4 rows)' "without a target a path never returns to its start (not a -> b -> c -> a)"

phx -c 'paths g c to c label knows'
expect_out ' path                                     | hops | weight
------------------------------------------+------+--------
 c -[knows]-> a -[knows]-> b -[knows]-> c | 3    | 4
(1 row)' "to the start itself: the cycle"

phx -c 'paths g a to d limit 1'
expect_out ' path                                     | hops | weight
------------------------------------------+------+--------
 a -[knows]-> b -[knows]-> c -[knows]-> d | 3    | 4
(1 row; more paths exist: raise the limit)' "paths limit"

# ---- shortest ----
phx -c 'shortest g a d' -c 'shortest g e d' -c 'shortest g d a in' -c 'shortest g a d weight >= 2' \
    -c 'shortest g d a'
expect_rc 0 "shortest"
expect_empty_err "shortest"
expect_out ' path                                     | hops | weight
------------------------------------------+------+--------
 a -[knows]-> b -[knows]-> c -[knows]-> d | 3    | 4
(1 row)
 path                                                  | hops | weight
-------------------------------------------------------+------+--------
 e -[knows]-> a -[knows]-> b -[knows]-> c -[knows]-> d | 4    | 5
(1 row)
 path                                     | hops | weight
------------------------------------------+------+--------
 d <-[knows]- c <-[knows]- b <-[knows]- a | 3    | 4
(1 row)
no path from a to d
no path from d to a' "least total weight, not fewest hops"

phx --format json -c 'shortest g a c' -c 'shortest g d a'
expect_rc 0 "json shortest"
expect_out '{"path":{"nodes":[{"collection":"g","id":"a"},{"collection":"g","id":"b"},{"collection":"g","id":"c"}],"edges":[{"label":"knows","source":"a","source_collection":"g","target":"b","target_collection":"g","weight":1.0},{"label":"knows","source":"b","source_collection":"g","target":"c","target_collection":"g","weight":2.0}],"weight":3.0}}
{"path":null}' "json shortest"

# ---- degree ----
phx -c 'degree g a' -c 'degree g a in' -c 'degree g a both' -c 'degree g a label knows' \
    -c 'degree g d both' -c 'degree g b weight >= 1.5' -c 'degree g e in'
expect_rc 0 "degree"
expect_out '3
2
5
1
3
1
0' "degree: out, in, both, a label, a self-loop counted out and in, a weight"
phx -c 'degree notes n1 in'
expect_out '1' "degree counts edges from other collections"

# ---- search where / from ----
phx -c 'search docs [0, 0] where {"category": "art"}'
expect_rc 0 "search where"
expect_out_line 'plan: [a-z_]+, selectivity [0-9.e-]+ \(2 matching entities\), .*' \
    "the plan counts the entities the filter allows"
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | d2 | 1
 2    | d7 | 36
(2 rows)' "search where: only matching entities"

phx -c 'search docs [0, 0] k 2 where {"year": {"$gte": 2021}} explain'
expect_rc 0 "search where explain"
expect_out_line '  .*year.*' "explain shows how the filter ran"
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | d1 | 0
 2    | d3 | 4
(2 rows)' "search where on an unindexed (dropped) path"

phx -c 'search g [0, 0] from e hops 1..2' -c 'search g [0, 0] from e hops 1..2 where {"kind": "person"}' \
    -c 'search g [0, 0] from a in' -c 'search g [0, 0] from b label knows ids c,d'
expect_rc 0 "search from"
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | a  | 0
 2    | b  | 1
 3    | c  | 4
(3 rows)
 rank | id | distance
------+----+----------
 1    | a  | 0
 2    | b  | 1
(2 rows)
 rank | id | distance
------+----+----------
 1    | c  | 4
 2    | e  | 16
(2 rows)
 rank | id | distance
------+----+----------
 1    | c  | 4
(1 row)' "search from: only reached entities, combined with where and ids"

phx --format json -c 'search g [0, 0] from e k 1 explain'
expect_rc 0 "json search explain"
expect_out_line '\{"hits":\[\{"id":"a","distance":0\}\],"plan":\{"strategy":"[a-z_]+",.*"fell_back_to_exact":(true|false),"filter_steps":\[".*"\]\}\}' \
    "json search explain adds filter_steps"

# ---- a deleted target is not returned ----
phx -c 'delete g f' -c 'traverse g b' -c 'paths g a hops 2 label knows' -c 'degree g b'
expect_rc 0 "after deleting a target"
expect_out 'OK
 collection | id | depth
------------+----+-------
 g          | c  | 1
(1 row)
 path                        | hops | weight
-----------------------------+------+--------
 a -[knows]-> b -[knows]-> c | 2    | 3
(1 row)
1' "the deleted entity and its edges are gone"

# ---------------------------------------------------------------- transactions

phx -c 'begin' -c 'insert g {"id": "t", "vector": [9, 9], "metadata": {"kind": "temp"}}' \
    -c 'upsert g {"id": "d", "vector": [3, 0], "metadata": {"kind": "person"}, "edges": [{"label": "self", "target": "d"}, {"label": "knows", "target": "t", "weight": 0.5}]}' \
    -c 'traverse g c hops 1..2' -c 'degree g d' -c 'degree g t in' -c 'find g {"kind": "temp"}' \
    -c 'paths g c to t' -c 'shortest g a t' -c 'search g [9, 9] k 1 from d' -c 'commit' \
    -c 'traverse g d'
expect_rc 0 "graph reads inside a transaction"
expect_empty_err "graph reads inside a transaction"
normalize_ts
drop_plan
expect_out 'began read-write transaction (snapshot TS)
OK
OK
 collection | id | depth
------------+----+-------
 g          | a  | 1
 g          | d  | 1
 g          | b  | 2
 g          | t  | 2
 notes      | n1 | 2
(5 rows)
2
1
 id
----
 t
(1 row)
 path                        | hops | weight
-----------------------------+------+--------
 c -[knows]-> d -[knows]-> t | 2    | 1.5
(1 row)
 path                                                  | hops | weight
-------------------------------------------------------+------+--------
 a -[knows]-> b -[knows]-> c -[knows]-> d -[knows]-> t | 4    | 4.5
(1 row)
 rank | id | distance
------+----+----------
 1    | t  | 0
(1 row)
committed at TS
 collection | id | depth
------------+----+-------
 g          | t  | 1
(1 row)' "the transaction sees its new entity and edge before commit; a later command after"

phx -c 'begin' -c 'insert g {"id": "u", "edges": [{"label": "knows", "target": "a"}]}' \
    -c 'traverse g a in' -c 'rollback' -c 'traverse g a in'
expect_rc 0 "rollback of an edge"
normalize_ts
expect_out 'began read-write transaction (snapshot TS)
OK
 collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
 g          | u  | 1
(3 rows)
rolled back
 collection | id | depth
------------+----+-------
 g          | c  | 1
 g          | e  | 1
(2 rows)' "a rolled-back edge is not followed"

phx -c 'begin read only' -c 'find docs {"category": "art"} count' -c 'degree g a' -c 'rollback'
expect_rc 0 "a read-only transaction"
normalize_ts
expect_out 'began read-only transaction (snapshot TS)
2
3
rolled back' "find and degree in a read-only transaction"

for refused in 'create index:create index docs score' 'drop index:drop index docs tags'; do
    phx -c 'begin' -c "${refused#*:}"
    expect_error FailedPrecondition "'${refused#*:}' inside a transaction"
    expect_err_has "${refused%%:*} cannot run inside a transaction" "'${refused#*:}' inside a transaction"
done
phx -c 'begin' -c 'indexes docs' -c 'analyze docs' -c 'rollback'
expect_rc 0 "indexes and analyze inside a transaction read the committed state"

# ---------------------------------------------------------------- errors

phx -c 'find docs {"category": }'
expect_error InvalidArgument "bad filter JSON"
phx -c 'find docs {"year": {"$regex": "x"}}'
expect_error InvalidArgument "an unknown operator"
expect_err_has '$regex' "an unknown operator is named"
phx -c 'find docs {"$or": {"a": 1}}'
expect_error InvalidArgument "\$or needs an array"
phx -c 'find docs {"category": "x"'
expect_error InvalidArgument "an unterminated filter"
expect_err_has "find: the filter: unterminated '{' (missing '}'); usage: find NAME [{filter json}]" \
    "an unterminated filter gets the usage"
phx -c 'find docs category=tech'
expect_error InvalidArgument "a filter that is not JSON"
expect_err_has "usage: find NAME" "a filter that is not JSON"
phx -c 'find nope {}'
expect_error NotFound "find on a missing collection"
phx -c 'search docs [0, 0] where {"year": {"$bad": 1}}'
expect_error InvalidArgument "an unknown operator in search where"

phx -c 'traverse g a hops 1..20'
expect_error InvalidArgument "hops beyond max_traversal_depth"
expect_err_has "max_traversal_depth" "the error names the limit"
phx -c 'traverse g a hops 1..65'
expect_error InvalidArgument "hops beyond what the shell accepts"
expect_err_has "traverse: hops must be N or MIN..MAX with integers from 0 to 64, not '1..65'; usage: traverse NAME ID" \
    "hops beyond 64 gets the usage"
phx -c 'traverse g a hops 3..1'
expect_error InvalidArgument "MIN above MAX"
phx -c 'traverse g nope'
expect_error NotFound "traverse from a missing entity"
phx -c 'traverse g a sideways'
expect_error InvalidArgument "an unknown direction"
expect_err_has "traverse: unexpected 'sideways'; usage: traverse NAME ID" "an unknown direction"
phx -c 'paths g a to d hops 1..20'
expect_error InvalidArgument "paths beyond max_traversal_depth"
phx -c 'shortest g a'
expect_error InvalidArgument "shortest without a target"
expect_err_has "shortest: missing target entity id; usage: shortest NAME FROM TO" \
    "shortest without a target"
phx -c 'degree g nope'
expect_error NotFound "degree of a missing entity"
phx -c 'search g [0, 0] hops 2'
expect_error InvalidArgument "graph options without from"
expect_err_has "'hops' restricts the graph constraint: it needs 'from ID'" "graph options without from"
phx -c 'search g [0, 0] from nope'
expect_error NotFound "search from a missing entity"

# ---- progress on a terminal (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    script -qec "$(printf '%q' "$PHENIX") --data $(printf '%q' "$DATA") -c 'create index docs score'" \
        /dev/null </dev/null | tr '\r' '\n' >"$OUT" 2>"$ERR"
    expect_out_has 'OK' "create index on a terminal"
    if grep -q '%' "$OUT"; then
        expect_out_line '  100% \(([0-9]+)/\1\)' "create index progress ends at 100%"
    fi
else
    echo "skipping the progress check: util-linux script is not installed"
fi

# ---- help ----
phx -c 'help'
for usage in "create index NAME PATH" "drop index NAME PATH" "indexes NAME" "analyze NAME" \
    "find NAME [{filter json}]" "traverse NAME ID" "paths NAME FROM" "shortest NAME FROM TO" \
    "degree NAME ID" "search NAME [x1, x2, ...]"; do
    expect_out_has "  $usage" "help lists '$usage'"
done
phx -c 'help create'
expect_out_has "create index NAME PATH" "help create lists create index"

phx -c 'verify'
expect_rc 0 "verify after everything"

finish
