#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: --format json prints one parsable JSON document per line for every command, and
# entity lines read back through `upsert` unchanged.
source "$(dirname "$0")/lib.sh" "$1"

# json_lines_valid FILE: every line of FILE is one JSON document.
json_lines_valid() {
    if command -v jq >/dev/null 2>&1; then
        local line
        while IFS= read -r line; do
            printf '%s' "$line" | jq -e . >/dev/null 2>&1 || { echo "not JSON: $line"; return 1; }
        done <"$1"
    elif command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$1" || return 1
    else
        perl -MJSON::PP -ne 'JSON::PP->new->decode($_)' "$1" || return 1
    fi
}

phx --format json \
    -c 'create collection docs dim 3 metric ip; create collection notes; create tenant t1' \
    -c 'insert docs {"id":"d1","vector":[0.1,-2.5e-7,3],"metadata":{"s":"quote \" tab \t é","n":[1,{"x":null}]}}' \
    -c 'insert docs {"id":"line\nbreak","vector":[1,2,3],"edges":[{"label":"to","target":"d1","weight":0.25,"properties":{"p":1}}]}' \
    -c 'insert notes {"id":"n1","edges":[{"label":"about","target":"d1","collection":"docs"}]}' \
    -c 'patch docs d1 {"extra":true}' -c 'set-metadata notes n1 {"m":1}' \
    -c 'get docs d1; scan docs; edges docs d1 in; edges docs d1 both; collections; describe docs' \
    -c 'tenants; help; \timing off; load docs /dev/null; delete notes n1'
expect_rc 0 "json session"
expect_empty_err "json session"
json_lines_valid "$OUT" || fail "--format json printed a line that is not JSON"
[[ "$(wc -l <"$OUT")" -ge 20 ]] || fail "json session printed only $(wc -l <"$OUT") lines"
expect_out_has '{"ok":true}' "writes print {\"ok\":true}"
expect_out_has '{"name":"docs","tenant":"default","dimension":3,"metric":"ip","entities":2}' "collections"
expect_out_has '{"name":"notes","tenant":"default","dimension":null,"metric":"l2","entities":1}' "collections"
expect_out_has '{"label":"about","source":"n1","source_collection":"notes","target":"d1","target_collection":"docs","weight":1.0}' \
    "edges in"
expect_out_has '"properties":{"p":1}' "edge properties"
expect_out_has '{"name":"t1","current":false}' "tenants"
expect_out_has '{"loaded":0,' "load summary"
expect_out_has '"created_at":"' "describe"

# An entity printed as JSON is accepted back by upsert and prints the same.
phx --format json -c 'get docs d1'
expect_rc 0 "get d1"
original="$(cat "$OUT")"
phx --format json -c 'create collection copy dim 3' -c "upsert copy $original" -c 'get copy d1'
expect_rc 0 "upsert of printed JSON"
[[ "$(tail -n 1 "$OUT")" == "$original" ]] || fail "round trip changed the entity: $original -> $(tail -n 1 "$OUT")"

phx --format json -c 'scan docs limit 1'
expect_out '{"id":"d1","vector":[0.1,-2.5e-07,3],"metadata":{"s":"quote \" tab \t é","n":[1,{"x":null}],"extra":true}}' \
    "scan output"

# Errors still go to stderr as text, and stdout stays JSON-only.
phx --format json -c 'get docs missing'
expect_error NotFound "json error"
expect_empty_out "json error"

finish
