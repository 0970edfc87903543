#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: COPY ... FROM of generated JSON-lines files: blank lines, CRLF, quoting of the name
# and the path, edges to later lines, a malformed line, a bad edge (errors name the line; the file
# is checked whole first, so nothing is written), a repeated id, and --copy-directory.
source "$(dirname "$0")/lib.sh" "$1"

# gen_jsonl FIRST LAST: entities e<NNNNN> with 3-d vectors and a metadata counter.
gen_jsonl() {
    awk -v first="$1" -v last="$2" 'BEGIN {
        for (i = first; i <= last; i++) {
            printf "{\"id\":\"e%05d\",\"vector\":[%d,1,2],\"metadata\":{\"n\":%d}}\n", i, i, i
        }
    }'
}

# count COLLECTION: the entity count from SHOW COLLECTIONS (table format).
count() {
    local target
    mapfile -t target < <(phx_target)
    "$PHENIX" "${target[@]}" -c 'SHOW COLLECTIONS;' | awk -v name="$1" -F'|' '
        { gsub(/ /, "", $1); gsub(/ /, "", $4) } $1 == name { print $4 }'
}

phx -c 'CREATE COLLECTION good (DIMENSION 3);' -c 'CREATE COLLECTION bad (DIMENSION 3);' \
    -c 'CREATE COLLECTION rej (DIMENSION 3);' -c 'CREATE COLLECTION dims (DIMENSION 3);' \
    -c 'CREATE COLLECTION "My-Items" (DIMENSION 3);'
expect_rc 0 "setup"

# ---- a clean load, with blank lines and CRLF endings ----
{ gen_jsonl 1 1200; echo; echo "   "; gen_jsonl 1201 2500 | sed 's/$/\r/'; } >"$TMP/good.jsonl"
phx -c "COPY good FROM '$TMP/good.jsonl';"
expect_rc 0 "load"
expect_out "COPY 2500" "load summary"
expect_empty_err "no progress lines when stderr is no terminal and --progress did not ask"
[[ "$(count good)" == 2500 ]] || fail "after load: $(count good) entities, expected 2500"
phx -c "SELECT metadata FROM good WHERE id = 'e02500';"
expect_out_has '{"n":2500}' "last loaded entity"
phx --format json -c "SELECT id, vector, metadata FROM good ORDER BY id LIMIT 2 OFFSET 1999;"
expect_out '[{"id":"e02000","vector":[2000,1,2],"metadata":{"n":2000}},{"id":"e02001","vector":[2001,1,2],"metadata":{"n":2001}}]' \
    "loaded entities scan in order"

# Loading again upserts: same count, updated content. With --progress the progress lines go to
# stderr (COPY's last one at least; remote: streamed by phenixd as the statement runs, decision
# 0032) and stdout has the result alone.
gen_jsonl 1 2500 | sed 's/"n":/"n":-/' >"$TMP/again.jsonl"
phx --progress -c "COPY good FROM '$TMP/again.jsonl';"
expect_rc 0 "reload"
expect_out "COPY 2500" "--progress leaves stdout to the results"
expect_err_line '^COPY good: 2500 lines, 2500 entities in [0-9]+\.[0-9] s \([0-9]+/s\); 0 edges$' \
    "--progress prints COPY's progress on stderr"
# On a terminal progress shows without asking: one line, overwritten in place, ended before the
# result (needs util-linux `script` for a pty).
if script --version 2>/dev/null | grep -q util-linux; then
    timeout 60 script -qec "$(phx_cmdline) -c \"COPY good FROM '$TMP/again.jsonl';\"" /dev/null \
        </dev/null | tr -d '\r' >"$OUT"
    expect_out_has "COPY good: 2500 lines, 2500 entities in " "a terminal shows COPY's progress"
    expect_out_has $'\x1b[K\nCOPY 2500' "the progress line ends before the result"
else
    echo "skipping the terminal progress check: util-linux script is not installed"
fi
[[ "$(count good)" == 2500 ]] || fail "after reload: $(count good) entities, expected 2500"
phx -c "SELECT metadata FROM good WHERE id = 'e00007';"
expect_out_has '{"n":-7}' "reload upserted"

# ---- a quoted name that is no bare PhenixQL identifier, and a path with a quote ----
gen_jsonl 1 3 >"$TMP/it's \"q\".jsonl"
phx -c "COPY \"My-Items\" FROM '$TMP/it''s \"q\".jsonl';"
expect_rc 0 "load into My-Items from a path with quotes"
expect_out "COPY 3" "load with quoted name and path"
[[ "$(count My-Items)" == 3 ]] || fail "after a quoted load: $(count My-Items) entities, expected 3"

# ---- edges to entities later in the file ----
printf '%s\n' '{"id":"a","edges":[{"label":"next","target":"b"}]}' \
    '{"id":"b","edges":[{"label":"next","target":"c"},{"label":"first","target":"a"}]}' \
    '{"id":"c"}' >"$TMP/forward.jsonl"
phx --format csv -c "COPY good FROM '$TMP/forward.jsonl';" -c "SELECT * FROM degree('good', 'a');" \
    -c "SELECT * FROM degree('good', 'b');" -c "SELECT * FROM degree('good', 'c', direction = 'in');"
expect_rc 0 "load with edges to later lines"
[[ "$(grep -v degree "$OUT" | tr '\n' ' ')" == "1 2 1 " ]] ||
    fail "edges to later lines: degrees $(grep -v degree "$OUT" | tr '\n' ' '), expected 1 2 1"

# ---- a malformed line: the file is checked before anything is written ----
{ gen_jsonl 1 1502; echo '{"id":"e01503","vector":[1,2,3]'; gen_jsonl 1504 2500; } >"$TMP/bad.jsonl"
phx -c "COPY bad FROM '$TMP/bad.jsonl';" -c 'CREATE COLLECTION after_load;'
expect_error InvalidArgument "malformed line"
expect_err_has ": line 1503: " "the error names the line"
expect_err_has "(file '$TMP/bad.jsonl'; nothing was written)" "the error names the file, says what was written"
[[ "$(count bad)" == 0 ]] || fail "after a bad line: $(count bad) entities, expected 0"
phx -c 'SHOW COLLECTIONS;'
expect_out_lacks "after_load" "a failed load stops the script"

# ---- a line with a wrong dimension ----
{ gen_jsonl 1 1199; echo '{"id":"short","vector":[1,2]}'; gen_jsonl 1201 1500; } >"$TMP/short.jsonl"
phx -c "COPY dims FROM '$TMP/short.jsonl';"
expect_error InvalidArgument "wrong dimension"
expect_err_has ": line 1200: vector has dimension 2" "the error names the line and the reason"
expect_err_has "nothing was written" "wrong dimension: what was loaded"
[[ "$(count dims)" == 0 ]] || fail "after a wrong dimension: $(count dims) entities, expected 0"

# ---- a bad edge (an empty label) ----
{ gen_jsonl 1 1199; echo '{"id":"nolabel","edges":[{"label":"","target":"e00001"}]}'
  gen_jsonl 1201 1500; } >"$TMP/rejected.jsonl"
phx -c "COPY rej FROM '$TMP/rejected.jsonl';"
expect_error InvalidArgument "rejected line"
expect_err_has ": line 1200: " "the error names the rejected line"
expect_err_has "label is empty" "the reason"
[[ "$(count rej)" == 0 ]] || fail "after a rejected line: $(count rej) entities, expected 0"

# ---- a repeated id ----
{ gen_jsonl 1 20; gen_jsonl 7 7; } >"$TMP/repeated.jsonl"
phx -c "COPY rej FROM '$TMP/repeated.jsonl';"
expect_error InvalidArgument "repeated id"
expect_err_has ": line 21: id 'e00007' is also on line 7" "the error names both lines"
phx -c "COPY rej FROM '$TMP/repeated.jsonl' (ON_ERROR skip);"
expect_rc 0 "repeated id skipped"
expect_out_has "COPY 20 (1 line skipped: line 21: id 'e00007' is also on line 7)" "skip names both lines"

# ---- --copy-directory (the shell's own; a server has its own setting) ----
if ! is_remote; then
    mkdir -p "$TMP/io/sub"
    gen_jsonl 1 5 >"$TMP/io/sub/five.jsonl"
    phx --copy-directory "$TMP/io" -c "CREATE COLLECTION dirs (DIMENSION 3);" -c "COPY dirs FROM 'sub/five.jsonl';" \
        -c "COPY dirs TO 'out.jsonl';"
    expect_rc 0 "load and export under --copy-directory"
    [[ "$(wc -l <"$TMP/io/out.jsonl")" == 5 ]] || fail "export under --copy-directory: $(wc -l <"$TMP/io/out.jsonl") lines"
    phx --copy-directory "$TMP/io" -c "COPY dirs FROM '../good.jsonl';"
    expect_error PermissionDenied "a path leading out of --copy-directory"
    expect_err_has "outside copy_directory" "the error names the setting"
    phx --copy-directory "$TMP/io" -c "COPY dirs TO '$TMP/escaped.jsonl';"
    expect_error PermissionDenied "an absolute path outside --copy-directory"
    [[ ! -e "$TMP/escaped.jsonl" ]] || fail "an export outside --copy-directory was written"
    phx --copy-directory "$TMP/nope" -c "SHOW COLLECTIONS;"
    expect_rc 2 "--copy-directory that is not a directory"
fi

# ---- other failures ----
phx -c "COPY nosuch FROM '$TMP/good.jsonl';"
expect_error NotFound "load into a missing collection"
expect_err_has "line 1, column 6: collection 'nosuch' does not exist" "load into a missing collection"
phx -c "COPY good FROM '$TMP/missing.jsonl';"
# A missing file is NotFound (404 over HTTP), in both modes.
expect_error NotFound "load of a missing file"
expect_err_has "cannot open '$TMP/missing.jsonl'" "load of a missing file names it"
phx -c "COPY good FROM;"
expect_error InvalidArgument "load without a file"
expect_err_has "expected a file path in single quotes" "COPY without a file"
phx -c "load good $TMP/good.jsonl"
expect_error InvalidArgument "the older load command"
expect_err_has "the shell's older 'load' command is PhenixQL now: COPY coll FROM 'file.jsonl';" "load names COPY"
: >"$TMP/empty.jsonl"
phx -c "COPY \"good\" FROM '$TMP/empty.jsonl';"
expect_rc 0 "load of an empty file (quoted name)"
expect_out "COPY 0" "load of an empty file"

finish
