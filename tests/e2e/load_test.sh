#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: `load` (which runs COPY ... FROM) of generated JSON-lines files: blank lines, CRLF,
# quoting of the name and the path, edges to later lines, a malformed line, a bad edge (errors name
# the line; the file is checked whole first, so nothing is written), a repeated id, and
# --copy-directory.
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

# ---- a malformed line: the file is checked before anything is written ----
{ gen_jsonl 1 1502; echo '{"id":"e01503","vector":[1,2,3]'; gen_jsonl 1504 2500; } >"$TMP/bad.jsonl"
phx -c "load bad $TMP/bad.jsonl" -c 'create collection after_load'
expect_error InvalidArgument "malformed line"
expect_err_has ": line 1503: " "the error names the line"
expect_err_has "(file '$TMP/bad.jsonl'; nothing was written)" "the error names the file, says what was written"
[[ "$(count bad)" == 0 ]] || fail "after a bad line: $(count bad) entities, expected 0"
phx -c 'collections'
expect_out_lacks "after_load" "a failed load stops the script"

# ---- a line with a wrong dimension ----
{ gen_jsonl 1 1199; echo '{"id":"short","vector":[1,2]}'; gen_jsonl 1201 1500; } >"$TMP/short.jsonl"
phx -c "load dims $TMP/short.jsonl"
expect_error InvalidArgument "wrong dimension"
expect_err_has ": line 1200: vector has dimension 2" "the error names the line and the reason"
expect_err_has "nothing was written" "wrong dimension: what was loaded"
[[ "$(count dims)" == 0 ]] || fail "after a wrong dimension: $(count dims) entities, expected 0"

# ---- a bad edge (an empty label) ----
{ gen_jsonl 1 1199; echo '{"id":"nolabel","edges":[{"label":"","target":"e00001"}]}'
  gen_jsonl 1201 1500; } >"$TMP/rejected.jsonl"
phx -c "load rej $TMP/rejected.jsonl"
expect_error InvalidArgument "rejected line"
expect_err_has ": line 1200: " "the error names the rejected line"
expect_err_has "label is empty" "the reason"
[[ "$(count rej)" == 0 ]] || fail "after a rejected line: $(count rej) entities, expected 0"

# ---- a repeated id ----
{ gen_jsonl 1 20; gen_jsonl 7 7; } >"$TMP/repeated.jsonl"
phx -c "load rej $TMP/repeated.jsonl"
expect_error InvalidArgument "repeated id"
expect_err_has ": line 21: id 'e00007' is also on line 7" "the error names both lines"
phx -c "COPY rej FROM '$TMP/repeated.jsonl' (ON_ERROR skip);"
expect_rc 0 "repeated id skipped"
expect_out_has "COPY 20 (1 line skipped: line 21: id 'e00007' is also on line 7)" "skip names both lines"

# ---- --copy-directory ----
mkdir -p "$TMP/io/sub"
gen_jsonl 1 5 >"$TMP/io/sub/five.jsonl"
phx --copy-directory "$TMP/io" -c "create collection dirs dim 3" -c "load dirs sub/five.jsonl" \
    -c "COPY dirs TO 'out.jsonl';"
expect_rc 0 "load and export under --copy-directory"
[[ "$(wc -l <"$TMP/io/out.jsonl")" == 5 ]] || fail "export under --copy-directory: $(wc -l <"$TMP/io/out.jsonl") lines"
phx --copy-directory "$TMP/io" -c "load dirs ../good.jsonl"
expect_error PermissionDenied "a path leading out of --copy-directory"
expect_err_has "outside copy_directory" "the error names the setting"
phx --copy-directory "$TMP/io" -c "COPY dirs TO '$TMP/escaped.jsonl';"
expect_error PermissionDenied "an absolute path outside --copy-directory"
[[ ! -e "$TMP/escaped.jsonl" ]] || fail "an export outside --copy-directory was written"
phx --copy-directory "$TMP/nope" -c "collections"
expect_rc 2 "--copy-directory that is not a directory"

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
