#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: `load` of generated JSON-lines files: batching, blank lines, a malformed line
# (error names the line; nothing from its batch is written) and a batch the engine rejects.
source "$(dirname "$0")/lib.sh" "$1"

# gen_jsonl FIRST LAST: entities e<NNNNN> with 3-d vectors and a metadata counter.
gen_jsonl() {
    awk -v first="$1" -v last="$2" 'BEGIN {
        for (i = first; i <= last; i++) {
            printf "{\"id\":\"e%05d\",\"vector\":[%d,1,2],\"metadata\":{\"n\":%d}}\n", i, i, i
        }
    }'
}

# count COLLECTION: the entity count from `collections` (table format).
count() {
    "$PHENIX" --data "$DATA" -c collections | awk -v name="$1" -F'|' '
        { gsub(/ /, "", $1); gsub(/ /, "", $4) } $1 == name { print $4 }'
}

phx -c 'create collection good dim 3' -c 'create collection bad dim 3' -c 'create collection rej dim 3'
expect_rc 0 "setup"

# ---- a clean load, with blank lines and CRLF endings ----
{ gen_jsonl 1 1200; echo; echo "   "; gen_jsonl 1201 2500 | sed 's/$/\r/'; } >"$TMP/good.jsonl"
phx -c "load good $TMP/good.jsonl"
expect_rc 0 "load"
expect_out_has "loaded 2500 entities in " "load summary"
grep -qE '^loaded 2500 entities in [0-9.]+ s \([0-9]+/s\)$' "$OUT" || fail "load summary format: $(cat "$OUT")"
[[ "$(count good)" == 2500 ]] || fail "after load: $(count good) entities, expected 2500"
phx -c 'get good e02500'
expect_out_has '{"n":2500}' "last loaded entity"
phx --format json -c 'scan good limit 2 after e01999'
expect_out '{"id":"e02000","vector":[2000,1,2],"metadata":{"n":2000}}
{"id":"e02001","vector":[2001,1,2],"metadata":{"n":2001}}' "loaded entities scan in order"

# Loading again upserts: same count, updated content.
gen_jsonl 1 2500 | sed 's/"n":/"n":-/' >"$TMP/again.jsonl"
phx -c "load good $TMP/again.jsonl"
expect_rc 0 "reload"
[[ "$(count good)" == 2500 ]] || fail "after reload: $(count good) entities, expected 2500"
phx -c 'get good e00007'
expect_out_has '{"n":-7}' "reload upserted"

# ---- a malformed line: its batch (lines 1001-2000) is not written ----
{ gen_jsonl 1 1502; echo '{"id":"e01503","vector":[1,2,3]'; gen_jsonl 1504 2500; } >"$TMP/bad.jsonl"
phx -c "load bad $TMP/bad.jsonl" -c 'create collection after_load'
expect_error InvalidArgument "malformed line"
expect_err_has "bad.jsonl line 1503:" "the error names the line"
expect_err_has "1000 entities from earlier lines were loaded" "the error says what was loaded"
expect_err_has "nothing from line 1001 on was written" "the error says what was not"
[[ "$(count bad)" == 1000 ]] || fail "after a bad line: $(count bad) entities, expected 1000"
phx -c 'get bad e01000'
expect_rc 0 "the batch before the bad line was written"
phx -c 'get bad e01001'
expect_error NotFound "the bad line's batch was not written"
phx -c 'collections'
expect_out_lacks "after_load" "a failed load stops the script"

# ---- a line the engine rejects (wrong dimension) fails its whole batch ----
{ gen_jsonl 1 1199; echo '{"id":"short","vector":[1,2]}'; gen_jsonl 1201 1500; } >"$TMP/rejected.jsonl"
phx -c "load rej $TMP/rejected.jsonl"
expect_error InvalidArgument "rejected batch"
expect_err_has "rejected.jsonl lines 1001-1500" "the error names the batch's lines"
expect_err_has "line 1200" "the error names the rejected line"
[[ "$(count rej)" == 1000 ]] || fail "after a rejected batch: $(count rej) entities, expected 1000"

# ---- other failures ----
phx -c "load nosuch $TMP/good.jsonl"
expect_error NotFound "load into a missing collection"
phx -c "load good $TMP/missing.jsonl"
expect_error IOError "load of a missing file"
phx -c "load good"
expect_error InvalidArgument "load without a file"
expect_err_has "usage: load NAME FILE" "load usage hint"
: >"$TMP/empty.jsonl"
phx -c "load good '$TMP/empty.jsonl'"
expect_rc 0 "load of an empty file (quoted name)"
expect_out_has "loaded 0 entities" "load of an empty file"

finish
