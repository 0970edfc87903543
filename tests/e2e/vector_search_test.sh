#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: vector search in the shell. SELECT ... ORDER BY vector <-> q LIMIT k (nearest ids
# and their order, k, the ids filter and forced strategies, metadata and vector columns, JSON
# output, the plan EXPLAIN ANALYZE shows), search inside a transaction (its uncommitted writes,
# rollback, AS OF), deletes and replaced vectors never returned, SHOW INDEXES and REINDEX, the
# same results after a restart, collection settings (CREATE COLLECTION ... WITH), and the error
# paths.
source "$(dirname "$0")/lib.sh" "$1"

# expect_out_line REGEX WHAT: some stdout line must match the extended regex in full.
expect_out_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if ! grep -qE -- "^$1\$" "$OUT"; then
        fail "$2: no stdout line matches /^$1\$/"
        show_output
    fi
}

# knn VECTOR K [WHERE...]: the nearest-neighbour SELECT of the old `search` (id and L2 distance).
knn() {
    printf "SELECT id, vector <-> %s AS distance FROM v %s ORDER BY distance LIMIT %s" "$1" "${3:-}" "$2"
}

# Integer coordinates, so that every L2 distance is distinct.
phx -c 'CREATE COLLECTION v (DIMENSION 3) WITH (m = 8, ef_search = 32);' \
    -c "INSERT INTO v (id, vector, metadata) VALUES ('a', [0, 0, 0], {\"name\": \"origin\"});" \
    -c "INSERT INTO v (id, vector) VALUES ('b', [1, 0, 0]), ('c', [0, 2, 0]), ('d', [0, 0, 3]);" \
    -c "INSERT INTO v (id, vector) VALUES ('e', [4, 4, 4]), ('f', [10, 0, 0]);" \
    -c 'DESCRIBE v;'
expect_rc 0 "setup"
expect_out_has 'hnsw m=8 ef_construction=200 ef_search=32' "CREATE COLLECTION ... WITH stores the settings"

# ---- nearest first, k ----
phx -c "$(knn '[1, 0, 0]' 3)"
expect_rc 0 "search"
expect_empty_err "search"
expect_out ' id | distance
----+----------
 b  | 0.0
 a  | 1.0
 c  | 2.236068
(3 rows)' "the three nearest, nearest first"

phx -c 'REINDEX v;' -c "EXPLAIN ANALYZE $(knn '[1, 0, 0]' 3);"
expect_rc 0 "search after reindex"
expect_out_line '.* ran: .*ef=32,.*' "a search of the graph uses the collection's ef_search"

phx -c "SELECT id FROM v ORDER BY vector <-> [9, 2, 1] LIMIT 10;"
expect_rc 0 "search with k above the size"
expect_out ' id
----
 f
 e
 b
 c
 a
 d
(6 rows)' "k 10 returns every entity, in order"

phx -c "EXPLAIN ANALYZE $(knn '[1, 0, 0]' 2) WITH (ef = 100)"
expect_out_line '.* ran: .*ef=100,.*' "ef overrides ef_search"

# ---- the ids filter, with each strategy ----
for strategy in '' 'auto' 'exact_scan' 'in_graph' 'post_filter'; do
    with=""
    [[ -n "$strategy" ]] && with=" WITH (strategy = '$strategy')"
    phx -c "SELECT id FROM v WHERE id IN ('c', 'd', 'f') ORDER BY vector <-> [1, 0, 0] LIMIT 2$with;" \
        -c "EXPLAIN ANALYZE SELECT id FROM v WHERE id IN ('c', 'd', 'f') ORDER BY vector <-> [1, 0, 0] LIMIT 2$with;"
    expect_rc 0 "ids filter $strategy"
    expect_out_line ".* ran: [a-z_]+.*" "the plan of a filtered search $strategy"
    if [[ -n "$strategy" && "$strategy" != auto ]]; then
        expect_out_line ".* ran: $strategy.*" "the forced strategy $strategy is used"
    fi
    head -n 5 "$OUT" >"$OUT.rows" && mv "$OUT.rows" "$OUT"
    expect_out ' id
----
 c
 d
(2 rows)' "only the listed ids, nearest first ($strategy)"
done
phx -c "SELECT id FROM v WHERE id IN ('nope', 'b') ORDER BY vector <-> [1, 0, 0] LIMIT 10;"
expect_out ' id
----
 b
(1 row)' "ids that do not exist are ignored"

phx -c "SELECT id, vector <-> [0, 0, 0] AS distance, metadata, vector FROM v ORDER BY distance LIMIT 2;"
expect_rc 0 "metadata and vector columns"
expect_out ' id | distance | metadata          | vector
----+----------+-------------------+-----------
 a  | 0.0      | {"name":"origin"} | [0, 0, 0]
 b  | 1.0      | {}                | [1, 0, 0]
(2 rows)' "metadata and vector columns"

# ---- JSON output ----
phx --format json -c "SELECT id, vector <-> [1, 0, 0] AS distance, metadata FROM v WHERE id IN ('a', 'b', 'c') ORDER BY distance LIMIT 2;"
expect_rc 0 "json search"
expect_out '[{"id":"b","distance":0.0,"metadata":{}},{"id":"a","distance":1.0,"metadata":{"name":"origin"}}]' \
    "one JSON array of hits"
phx --format json -c "SELECT id, vector <-> [0, 0, 3] AS distance, vector FROM v ORDER BY distance LIMIT 1;"
expect_out '[{"id":"d","distance":0.0,"vector":[0,0,3]}]' "json hits carry the vector when asked"

# ---- inside a transaction: its own writes, then rollback ----
phx -c 'BEGIN;' -c "INSERT INTO v (id, vector) VALUES ('z', [2, 0, 0]);" -c "$(knn '[2, 0, 0]' 2)" \
    -c "DELETE FROM v WHERE id = 'b';" -c "$(knn '[2, 0, 0]' 2)" -c 'ROLLBACK;' -c "$(knn '[2, 0, 0]' 2)"
expect_rc 0 "search in a transaction"
expect_empty_err "search in a transaction"
expect_out 'BEGIN
INSERT 1
 id | distance
----+----------
 z  | 0.0
 b  | 1.0
(2 rows)
DELETE 1
 id | distance
----+----------
 z  | 0.0
 a  | 2.0
(2 rows)
ROLLBACK
 id | distance
----+----------
 b  | 1.0
 a  | 2.0
(2 rows)' "the transaction sees its uncommitted insert and delete; after rollback neither"
phx -c "SELECT id FROM v WHERE id = 'z' ORDER BY vector <-> [2, 0, 0] LIMIT 10;"
expect_out_has '(0 rows)' "the rolled-back insert is not visible to a later process"

# A read-only transaction as of a timestamp still finds what was deleted after it.
phx --format csv -c 'SHOW TIMESTAMP;'
before_delete="$(tail -n 1 "$OUT")"

# ---- deletes and replaced vectors are never returned ----
phx -c "DELETE FROM v WHERE id = 'b';" -c "UPDATE v SET vector = [20, 20, 20] WHERE id = 'a';"
expect_rc 0 "delete b, move a"
phx -c "SELECT id FROM v ORDER BY vector <-> [1, 0, 0] LIMIT 10;"
expect_out ' id
----
 c
 d
 e
 f
 a
(5 rows)' "the deleted entity is gone and the moved one is ranked by its new vector"
phx -c "SELECT id FROM v WHERE id = 'b' ORDER BY vector <-> [1, 0, 0] LIMIT 10;"
expect_out_has '(0 rows)' "a filter naming only a deleted entity finds nothing"
phx -c "BEGIN READ ONLY AS OF $before_delete;" -c "$(knn '[1, 0, 0]' 2)" -c 'ROLLBACK;'
expect_rc 0 "search as of a timestamp before the delete"
expect_out "BEGIN READ ONLY (snapshot $before_delete)
 id | distance
----+----------
 b  | 0.0
 a  | 1.0
(2 rows)
ROLLBACK" "a snapshot before the delete finds the old entities and vectors"

# ---- SHOW INDEXES and REINDEX ----
phx --format csv -c 'SHOW INDEXES ON v;'
expect_rc 0 "SHOW INDEXES"
expect_out_line 'collection,path,type,state,entries,distinct_values,details' "SHOW INDEXES columns"
expect_out_line 'v,vector,hnsw,(ready|catching up),[0-9]+,,"m=8 ef_construction=200 ef_search=32 quantization=none; nodes [1-9][0-9]* \([0-9]+ live\), [0-9]+ changes pending; indexed at [0-9]{16}, checkpoint at [0-9]+; memory [0-9]+ bytes \(vectors [0-9]+, graph [0-9]+, metadata [0-9]+\).*' \
    "SHOW INDEXES shows the vector index's settings, size, freshness and memory"

phx -c 'REINDEX v;' -c '\di v'
expect_rc 0 "reindex"
expect_empty_err "reindex (no progress when stderr is not a terminal)"
expect_out_line 'REINDEX [0-9]+ nodes \(5 live\) in [0-9]+\.[0-9]{2} s' "REINDEX prints a summary"
expect_out_line ' v +\| vector +\| hnsw +\| ready +\| 5 +\| NULL +\| .*\(5 live\), 0 changes pending.*' \
    "after REINDEX every live entity is in the graph and nothing is left unindexed"
phx --format json -c 'REINDEX v; SHOW INDEXES ON v;'
expect_rc 0 "json reindex"
expect_out_line '\[\{"collection":"v","path":"vector","type":"hnsw","state":"ready","entries":5,"distinct_values":null,"details":"m=8 .*"\}\]' \
    "json SHOW INDEXES"

# ---- a restart (every phx is a new process) returns the same results ----
phx -c "$(knn '[3, 3, 3]' 4); SELECT id FROM v WHERE id IN ('c', 'd', 'e') ORDER BY vector <-> [0, 2, 1] LIMIT 2;"
expect_rc 0 "search before restart"
cp "$OUT" "$TMP/before_restart"
phx -c "$(knn '[3, 3, 3]' 4); SELECT id FROM v WHERE id IN ('c', 'd', 'e') ORDER BY vector <-> [0, 2, 1] LIMIT 2;"
expect_out_file "$TMP/before_restart" "the same results after a restart"
expect_out_has ' e  | 1.7320508' "the nearest to [3,3,3] is e"

# ---- REINDEX progress on a terminal (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    script -qec "$(phx_cmdline) -c 'REINDEX v;'" \
        /dev/null </dev/null | tr '\r' '\n' >"$OUT" 2>"$ERR"
    expect_out_line 'REINDEX [0-9]+ nodes \(5 live\) in [0-9.]+ s' "REINDEX on a terminal"
else
    echo "skipping the terminal check: util-linux script is not installed"
fi

# ---- other settings and metrics ----
phx -c "CREATE COLLECTION q (DIMENSION 2, METRIC cosine) WITH (quantization = 'int8');" \
    -c "INSERT INTO q (id, vector) VALUES ('east', [1, 0]), ('north', [0, 1]), ('northeast', [1, 1]);" \
    -c 'SELECT id FROM q ORDER BY vector <=> [0.1, 1] LIMIT 1;' -c 'SHOW INDEXES ON q;'
expect_rc 0 "an int8 cosine collection"
expect_out_has ' north' "cosine search with int8 quantization finds the nearest"
expect_out_has 'quantization=int8' "SHOW INDEXES shows int8 quantization"

# ---- errors ----
phx -c 'SELECT id FROM v ORDER BY vector <-> [1, 2] LIMIT 3;'
expect_error InvalidArgument "a query of the wrong dimension"
expect_err_has "dimension" "a query of the wrong dimension"
phx -c 'CREATE COLLECTION plain;' -c "INSERT INTO plain (id) VALUES ('p');"
expect_rc 0 "a collection without vectors"
phx -c 'SELECT id FROM plain ORDER BY vector <-> [1] LIMIT 3;'
expect_error InvalidArgument "search on a collection without a dimension"
expect_err_has "has no vectors" "search on a collection without a dimension"
phx -c 'SHOW INDEXES ON plain;'
expect_rc 0 "SHOW INDEXES on a collection without vectors lists no vector index"
expect_out_has "(0 rows)" "SHOW INDEXES on a collection without vectors lists no vector index"
phx -c 'REINDEX plain;'
expect_error InvalidArgument "reindex on a collection without a dimension"
phx -c 'SELECT id FROM missing ORDER BY vector <-> [1, 2, 3] LIMIT 3;'
expect_error NotFound "search on a missing collection"
phx -c 'SELECT id FROM q ORDER BY vector <=> [0, 0] LIMIT 1;'
expect_error InvalidArgument "an all-zero query under cosine"
phx -c 'SELECT id FROM v ORDER BY vector <-> [1, x, 3] LIMIT 3;'
expect_error InvalidArgument "a non-numeric component"
phx -c 'SELECT id FROM v ORDER BY vector <-> LIMIT 3;'
expect_error InvalidArgument "no query vector"
phx -c "$(knn '[1, 0, 0]' 3) WITH (strategy = 'fast')"
expect_error InvalidArgument "an unknown strategy"
expect_err_has "strategy is 'auto', 'exact_scan', 'in_graph' or 'post_filter'" "an unknown strategy"
phx -c 'CREATE COLLECTION bad (DIMENSION 2) WITH (m = 1);'
expect_error InvalidArgument "a bad hnsw setting"
phx -c 'CREATE COLLECTION bad (DIMENSION 2) WITH (m = 8, typo = 1);'
expect_error InvalidArgument "an unknown hnsw setting"
expect_err_has "unknown collection setting 'typo' (settings: m, ef_construction, ef_search, quantization)" \
    "an unknown hnsw setting names the known ones"
phx -c 'SHOW COLLECTIONS;'
expect_out_lacks ' bad ' "the rejected collections were not created"
phx -c 'search v [1, 0, 0] k 3'
expect_error InvalidArgument "the older search command"
expect_err_has "the shell's older 'search' command is PhenixQL now: SELECT id, vector <-> [...] AS distance FROM coll ORDER BY distance LIMIT k;" \
    "search names the SELECT to write"

# ---- help ----
phx -c '\?'
for usage in "SELECT cols FROM name" "SHOW INDEXES [ON name];" "REINDEX name;" \
    "CREATE COLLECTION name [(DIMENSION n, METRIC l2|cosine|ip)] [WITH (m = 16,"; do
    expect_out_has "  $usage" "help lists '$usage'"
done

finish
