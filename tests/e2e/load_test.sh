#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: `load` (which runs COPY ... FROM) of generated JSON-lines files: blank lines, CRLF,
# quoting of the name and the path, edges to later lines, a malformed line, a line only the engine
# rejects (errors name the line; the lines before it are written, nothing from it on).
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

phx -c 'create collection good dim 3' -c 'create collection bad dim 3' -c 'create collection rej dim 3' \
    -c 'create collection dims dim 3' -c 'create collection My-Items dim 3'
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

# ---- a quoted name that is no bare PhenixQL identifier, and a path with a quote ----
gen_jsonl 1 3 >"$TMP/it's \"q\".jsonl"
phx -c "load My-Items '$TMP/it\\'s \"q\".jsonl'"
expect_rc 0 "load into My-Items from a path with quotes"
expect_out_has "loaded 3 entities in " "load with quoted name and path"
[[ "$(count My-Items)" == 3 ]] || fail "after a quoted load: $(count My-Items) entities, expected 3"

# ---- edges to entities later in the file ----
printf '%s\n' '{"id":"a","edges":[{"label":"next","target":"b"}]}' \
    '{"id":"b","edges":[{"label":"next","target":"c"},{"label":"first","target":"a"}]}' \
    '{"id":"c"}' >"$TMP/forward.jsonl"
phx -c "load good $TMP/forward.jsonl" -c 'degree good a out' -c 'degree good b out' \
    -c 'degree good c in'
expect_rc 0 "load with edges to later lines"
expect_out_has "loaded 3 entities in " "load with edges to later lines"
[[ "$(tail -n 3 "$OUT" | tr '\n' ' ')" == "1 2 1 " ]] ||
    fail "edges to later lines: degrees $(tail -n 3 "$OUT" | tr '\n' ' '), expected 1 2 1"

# ---- a malformed line: the lines before it are written, nothing from it on ----
{ gen_jsonl 1 1502; echo '{"id":"e01503","vector":[1,2,3]'; gen_jsonl 1504 2500; } >"$TMP/bad.jsonl"
phx -c "load bad $TMP/bad.jsonl" -c 'create collection after_load'
expect_error InvalidArgument "malformed line"
expect_err_has ": line 1503: " "the error names the line"
expect_err_has "(file '$TMP/bad.jsonl'; " "the error names the file"
expect_err_has "1502 entities from earlier lines were loaded" "the error says what was loaded"
expect_err_has "nothing from line 1503 on was written" "the error says what was not"
[[ "$(count bad)" == 1502 ]] || fail "after a bad line: $(count bad) entities, expected 1502"
phx -c 'get bad e01502'
expect_rc 0 "the line before the bad line was written"
phx -c 'get bad e01504'
expect_error NotFound "the lines after the bad line were not written"
phx -c 'collections'
expect_out_lacks "after_load" "a failed load stops the script"

# ---- a line with a wrong dimension ----
{ gen_jsonl 1 1199; echo '{"id":"short","vector":[1,2]}'; gen_jsonl 1201 1500; } >"$TMP/short.jsonl"
phx -c "load dims $TMP/short.jsonl"
expect_error InvalidArgument "wrong dimension"
expect_err_has ": line 1200: vector has dimension 2" "the error names the line and the reason"
expect_err_has "1199 entities from earlier lines were loaded" "wrong dimension: what was loaded"
[[ "$(count dims)" == 1199 ]] || fail "after a wrong dimension: $(count dims) entities, expected 1199"

# ---- a line only the engine rejects (an empty edge label) fails its batch, which is retried
# line by line to name the line ----
{ gen_jsonl 1 1199; echo '{"id":"nolabel","edges":[{"label":"","target":"e00001"}]}'
  gen_jsonl 1201 1500; } >"$TMP/rejected.jsonl"
phx -c "load rej $TMP/rejected.jsonl"
expect_error InvalidArgument "rejected line"
expect_err_has ": line 1200: " "the error names the rejected line"
expect_err_has "label is empty" "the engine's reason"
expect_err_has "nothing from line 1200 on was written" "rejected line: what was not written"
[[ "$(count rej)" == 1199 ]] || fail "after a rejected line: $(count rej) entities, expected 1199"
phx -c 'get rej nolabel'
expect_error NotFound "the rejected line was not written"

# ---- other failures ----
phx -c "load nosuch $TMP/good.jsonl"
expect_error NotFound "load into a missing collection"
expect_err_has "collection 'nosuch' does not exist" "load into a missing collection"
! grep -q "column" "$ERR" || fail "a position in the statement load generated: $(cat "$ERR")"
phx -c "load good $TMP/missing.jsonl"
expect_error IOError "load of a missing file"
expect_err_has "cannot open '$TMP/missing.jsonl'" "load of a missing file names it"
phx -c "load good"
expect_error InvalidArgument "load without a file"
expect_err_has "usage: load NAME FILE" "load usage hint"
: >"$TMP/empty.jsonl"
phx -c "load good '$TMP/empty.jsonl'"
expect_rc 0 "load of an empty file (quoted name)"
expect_out_has "loaded 0 entities" "load of an empty file"

finish
