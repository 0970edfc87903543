#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: vector search in the shell. `search` (nearest ids and their order, k, the ids
# filter and forced strategies, metadata and vector columns, JSON output), search inside a
# transaction (its uncommitted writes, rollback, `as of`), deletes and replaced vectors never
# returned, `index` and `reindex`, the same results after a restart, collection settings, and
# the error paths.
source "$(dirname "$0")/lib.sh" "$1"

# stdout without the plan line that follows a search table (its counters depend on the graph).
drop_plan() {
    grep -v '^plan: ' "$OUT" >"$OUT.noplan"
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

# Integer coordinates, so that every squared L2 distance is exact and distinct.
phx -c 'create collection v dim 3 {"hnsw": {"m": 8, "ef_search": 32}}' \
    -c 'insert v {"id": "a", "vector": [0, 0, 0], "metadata": {"name": "origin"}}' \
    -c 'insert v {"id": "b", "vector": [1, 0, 0]}' \
    -c 'insert v {"id": "c", "vector": [0, 2, 0]}' \
    -c 'insert v {"id": "d", "vector": [0, 0, 3]}' \
    -c 'insert v {"id": "e", "vector": [4, 4, 4]}' \
    -c 'insert v {"id": "f", "vector": [10, 0, 0]}' \
    -c 'describe v'
expect_rc 0 "setup"
expect_out_has '{"hnsw":{"m":8,"ef_search":32}}' "create collection stores the settings"

# ---- nearest first, k, the plan line ----
# Rows the background builder has not reached yet are scanned exactly, so this plan may or may not
# name an ef; the reindexed search below pins the graph search's plan.
phx -c 'search v [1, 0, 0] k 3'
expect_rc 0 "search"
expect_empty_err "search"
expect_out_line 'plan: no filter, (ef 32, )?[0-9]+ distance computations, [0-9]+ unindexed rows scanned.*' \
    "an unfiltered search prints its plan"
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | b  | 0
 2    | a  | 1
 3    | c  | 5
(3 rows)' "the three nearest, nearest first"

phx -c 'reindex v' -c 'search v [1, 0, 0] k 3'
expect_rc 0 "search after reindex"
expect_out_line 'plan: no filter, ef 32, [0-9]+ distance computations, 0 unindexed rows scanned' \
    "a search of the graph uses the collection's ef_search"
expect_out_has ' 1    | b  | 0' "the graph search finds the nearest"

phx -c 'search v [9,2,1]'
expect_rc 0 "search with the default k"
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | f  | 6
 2    | e  | 38
 3    | b  | 69
 4    | c  | 82
 5    | a  | 86
 6    | d  | 89
(6 rows)' "the default k (10) returns every entity, in order"

phx -c 'search v [1, 0, 0] k 2 ef 100'
expect_out_has 'plan: no filter, ef 100,' "ef overrides ef_search"

# ---- the ids filter, with each strategy ----
for strategy in '' 'strategy=auto' 'strategy exact_scan' 'strategy in_graph' 'strategy=post_filter'; do
    phx -c "search v [1, 0, 0] k 2 ids c,d,f $strategy"
    expect_rc 0 "ids filter $strategy"
    # ef: the beam the graph searched (none for an exact scan; widened by a post-filter)
    expect_out_line "plan: [a-z_]+, selectivity [0-9.]+ \\(3 matching entities\\), (ef [0-9]+, )?[0-9]+ distance.*" \
        "the plan of a filtered search $strategy"
    if [[ -n "$strategy" && "$strategy" != *auto ]]; then
        expect_out_has "plan: ${strategy#strategy[ =]}," "the forced strategy $strategy is used"
    fi
    drop_plan
    expect_out ' rank | id | distance
------+----+----------
 1    | c  | 5
 2    | d  | 10
(2 rows)' "only the listed ids, nearest first ($strategy)"
done
phx -c 'search v [1, 0, 0] ids nope,b'
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | b  | 0
(1 row)' "ids that do not exist are ignored"

phx -c 'search v [0, 0, 0] k 2 with metadata with vector'
expect_rc 0 "with metadata with vector"
drop_plan
expect_out ' rank | id | distance | metadata          | vector
------+----+----------+-------------------+-----------
 1    | a  | 0        | {"name":"origin"} | [0, 0, 0]
 2    | b  | 1        | {}                | [1, 0, 0]
(2 rows)' "metadata and vector columns"

# ---- JSON output ----
phx --format json -c 'search v [1, 0, 0] k 2 ids ["a", "b", "c"] with metadata'
expect_rc 0 "json search"
expect_out_line '\{"hits":\[\{"id":"b","distance":0,"metadata":\{\}\},\{"id":"a","distance":1,"metadata":\{"name":"origin"\}\}\],"plan":\{"strategy":"[a-z_]+","selectivity":[0-9.e-]+,"filter_rows":3,"ef":[0-9]+,"distance_computations":[0-9]+,"unindexed_rows_scanned":0,"fell_back_to_exact":(true|false)\}\}' \
    "one JSON object with hits and plan"
phx --format json -c 'search v [0, 0, 3] k 1 with vector'
expect_out_has '{"hits":[{"id":"d","distance":0,"vector":[0,0,3]}],"plan":{"strategy":"none",' \
    "json hits carry the vector when asked; an unfiltered plan's strategy is none"

# ---- inside a transaction: its own writes, then rollback ----
phx -c 'begin' -c 'insert v {"id": "z", "vector": [2, 0, 0]}' -c 'search v [2, 0, 0] k 2' \
    -c 'delete v b' -c 'search v [2, 0, 0] k 2' -c 'rollback' -c 'search v [2, 0, 0] k 2'
expect_rc 0 "search in a transaction"
expect_empty_err "search in a transaction"
drop_plan
sed -i -E 's/[0-9]{16}/TS/' "$OUT"
expect_out 'began read-write transaction (snapshot TS)
OK
 rank | id | distance
------+----+----------
 1    | z  | 0
 2    | b  | 1
(2 rows)
OK
 rank | id | distance
------+----+----------
 1    | z  | 0
 2    | a  | 4
(2 rows)
rolled back
 rank | id | distance
------+----+----------
 1    | b  | 1
 2    | a  | 4
(2 rows)' "the transaction sees its uncommitted insert and delete; after rollback neither"
phx -c 'search v [2, 0, 0] ids z'
expect_out_has '(0 rows)' "the rolled-back insert is not visible to a later process"

# A read-only transaction as of a timestamp still finds what was deleted after it.
phx -c 'timestamp'
before_delete="$(cat "$OUT")"

# ---- deletes and replaced vectors are never returned ----
phx -c 'delete v b' -c 'upsert v {"id": "a", "vector": [20, 20, 20]}'
expect_rc 0 "delete b, move a"
phx -c 'search v [1, 0, 0] k 10'
drop_plan
expect_out ' rank | id | distance
------+----+----------
 1    | c  | 5
 2    | d  | 10
 3    | e  | 41
 4    | f  | 81
 5    | a  | 1161
(5 rows)' "the deleted entity is gone and the moved one is ranked by its new vector"
phx -c 'search v [1, 0, 0] ids b'
expect_out_has '(0 rows)' "a filter naming only a deleted entity finds nothing"
phx -c "begin as of $before_delete" -c 'search v [1, 0, 0] k 2' -c 'rollback'
expect_rc 0 "search as of a timestamp before the delete"
drop_plan
expect_out "began read-only transaction (snapshot $before_delete)
 rank | id | distance
------+----+----------
 1    | b  | 0
 2    | a  | 1
(2 rows)
rolled back" "a snapshot before the delete finds the old entities and vectors"

# ---- index and reindex ----
phx -c 'index v'
expect_rc 0 "index"
for row in 'collection +\| v' 'm +\| 8' 'ef_construction +\| 200' 'ef_search +\| 32' \
    'quantization +\| none' 'nodes +\| [1-9][0-9]*' 'live_nodes +\| [0-9]+' \
    'unindexed_rows +\| [0-9]+' 'indexed_timestamp +\| [0-9]{16}' \
    'checkpoint_timestamp +\| ([0-9]{16}|none)' 'memory_vectors +\| [0-9]+.* bytes\)?' \
    'memory_graph +\| [0-9]+.* bytes\)?' 'memory_total +\| [0-9]+.* bytes\)?' \
    'bytes_per_live_vector +\| [0-9]+'; do
    expect_out_line " $row" "index shows $row"
done

phx -c 'reindex v' -c 'index v'
expect_rc 0 "reindex"
expect_empty_err "reindex (no progress when stderr is not a terminal)"
expect_out_line 'rebuilt the vector index: [0-9]+ nodes \(5 live\) in [0-9]+\.[0-9]{2} s' \
    "reindex prints a summary"
expect_out_line ' live_nodes +\| 5' "after reindex every live entity is in the graph"
expect_out_line ' unindexed_rows +\| 0' "after reindex nothing is left unindexed"
phx --format json -c 'reindex v; index v'
expect_rc 0 "json reindex"
expect_out_line '\{"reindexed":true,"nodes":[0-9]+,"live_nodes":5,"seconds":[0-9.]+\}' "json reindex"
expect_out_line '\{"collection":"v","m":8,"ef_construction":200,"ef_search":32,"quantization":"none","nodes":[0-9]+,"live_nodes":5,"unindexed_rows":0,"indexed_timestamp":[0-9]+,"checkpoint_timestamp":[0-9]+,"memory_bytes":\{"vectors":[0-9]+,"graph":[0-9]+,"metadata":[0-9]+,"total":[0-9]+\},"bytes_per_live_vector":[0-9]+\}' \
    "json index"

# ---- a restart (every phx is a new process) returns the same results ----
phx -c 'search v [3, 3, 3] k 4; search v [0, 2, 1] k 2 ids c,d,e'
expect_rc 0 "search before restart"
drop_plan
cp "$OUT" "$TMP/before_restart"
phx -c 'search v [3, 3, 3] k 4; search v [0, 2, 1] k 2 ids c,d,e'
drop_plan
expect_out_file "$TMP/before_restart" "the same results after a restart"
expect_out_has ' 1    | e  | 3' "the nearest to [3,3,3] is e"

# ---- reindex progress on a terminal (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    script -qec "$(printf '%q' "$PHENIX") --data $(printf '%q' "$DATA") -c 'reindex v'" \
        /dev/null </dev/null | tr '\r' '\n' >"$OUT" 2>"$ERR"
    expect_out_line '  100% \(([0-9]+)/\1\)' "reindex shows progress on a terminal"
    expect_out_has 'rebuilt the vector index' "reindex on a terminal"
else
    echo "skipping the progress check: util-linux script is not installed"
fi

# ---- other settings and metrics ----
phx -c 'create collection q dim 2 metric cosine {"hnsw": {"quantization": "int8"}}' \
    -c 'insert q {"id": "east", "vector": [1, 0]}' -c 'insert q {"id": "north", "vector": [0, 1]}' \
    -c 'insert q {"id": "northeast", "vector": [1, 1]}' -c 'search q [0.1, 1] k 1' -c 'index q'
expect_rc 0 "an int8 cosine collection"
expect_out_has ' 1    | north ' "cosine search with int8 quantization finds the nearest"
expect_out_line ' quantization +\| int8' "index shows int8 quantization"

# ---- errors ----
phx -c 'search v [1, 2]'
expect_error InvalidArgument "a query of the wrong dimension"
expect_err_has "dimension" "a query of the wrong dimension"
phx -c 'create collection plain' -c 'insert plain {"id": "p"}'
expect_rc 0 "a collection without vectors"
phx -c 'search plain [1]'
expect_error InvalidArgument "search on a collection without a dimension"
expect_err_has "has no vectors" "search on a collection without a dimension"
phx -c 'index plain'
expect_error InvalidArgument "index on a collection without a dimension"
phx -c 'reindex plain'
expect_error InvalidArgument "reindex on a collection without a dimension"
phx -c 'search missing [1, 2, 3]'
expect_error NotFound "search on a missing collection"
phx -c 'search q [0, 0]'
expect_error InvalidArgument "an all-zero query under cosine"
phx -c 'search v [1, x, 3]'
expect_error InvalidArgument "a non-numeric component"
expect_err_has "search: query vector[1] must be a number, not 'x'; usage: search NAME" \
    "a non-numeric component"
phx -c 'search v'
expect_error InvalidArgument "no query vector"
expect_err_has "missing query vector" "no query vector"
phx -c 'search v [1, 0, 0] k 0'
expect_error InvalidArgument "k 0"
expect_err_has "k must be an integer from 1 to 10000, not '0'" "k 0"
phx -c 'search v [1, 0, 0] strategy fast'
expect_error InvalidArgument "an unknown strategy"
expect_err_has "unknown strategy 'fast'" "an unknown strategy"
phx -c 'create collection bad dim 2 {"hnsw": {"m": 1}}'
expect_error InvalidArgument "a bad hnsw setting"
phx -c 'create collection bad dim 2 {"hnsw": {"m": 8, "typo": 1}}'
expect_error InvalidArgument "an unknown hnsw setting"
phx -c 'collections'
expect_out_lacks ' bad ' "the rejected collections were not created"

# ---- help ----
phx -c 'help'
for usage in "search NAME [x1, x2, ...]" "index NAME" "reindex NAME" \
    "create collection NAME [dim N] [metric l2|cosine|ip] [{settings json}]"; do
    expect_out_has "  $usage" "help lists '$usage'"
done

finish
