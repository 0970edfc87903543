#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: --format json prints one parsable JSON document per line for every statement and
# meta-command, and an entity exported by COPY ... TO reads back through COPY ... FROM unchanged.
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
    -c 'CREATE COLLECTION docs (DIMENSION 3, METRIC ip); CREATE COLLECTION notes; CREATE TENANT t1;' \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0.1, -2.5e-7, 3], {\"s\": \"quote \\\" tab \\t é\", \"n\": [1, {\"x\": null}]});" \
    -c "INSERT INTO docs (id, vector, edges) VALUES ('line
break', [1, 2, 3], [{\"label\": \"to\", \"target\": \"d1\", \"weight\": 0.25, \"properties\": {\"p\": 1}}]);" \
    -c "INSERT INTO notes (id, edges) VALUES ('n1', [{\"label\": \"about\", \"target\": \"d1\", \"target_collection\": \"docs\"}]);" \
    -c "UPDATE docs SET metadata = metadata || {\"extra\": true} WHERE id = 'd1'; UPDATE notes SET metadata = {\"m\": 1} WHERE id = 'n1';" \
    -c "SELECT * FROM docs WHERE id = 'd1'; SELECT * FROM docs ORDER BY id; SELECT * FROM edges('docs', 'd1', direction = 'in');" \
    -c "SELECT * FROM edges('docs', 'd1', direction = 'both'); SHOW COLLECTIONS; DESCRIBE docs; SHOW TENANTS;" \
    -c '\?' -c '\timing off' -c "DELETE FROM notes WHERE id = 'n1';"
expect_rc 0 "json session"
expect_empty_err "json session"
json_lines_valid "$OUT" || fail "--format json printed a line that is not JSON"
[[ "$(wc -l <"$OUT")" -ge 20 ]] || fail "json session printed only $(wc -l <"$OUT") lines"
expect_out_has '{"name":"docs","dimension":3,"metric":"ip","entities":2,"indexes":0}' "collections"
expect_out_has '{"name":"notes","dimension":null,"metric":null,"entities":1,"indexes":0}' "collections"
expect_out_has '{"label":"about","source":"notes","source_id":"n1","target":"docs","target_id":"d1","weight":1.0,"properties":null}' \
    "edges in"
expect_out_has '"properties":{"p":1}' "edge properties"
expect_out_has '{"name":"t1","current":false,"max_entities":null,"max_bytes":null,"requests_per_second":null,"principal_requests_per_second":null}' "tenants"
expect_out_has '{"usage":"SHOW TENANTS;"' "help"
expect_out_has '{"timing":false}' "\\timing"

# An entity exported and loaded back is the same entity.
phx --format json -c "SELECT * FROM docs WHERE id = 'd1';"
expect_rc 0 "select d1"
original="$(cat "$OUT")"
phx --format json -c "COPY docs TO '$TMP/docs.jsonl';" -c 'CREATE COLLECTION copied (DIMENSION 3, METRIC ip);' \
    -c "COPY copied FROM '$TMP/docs.jsonl';" -c "SELECT * FROM copied WHERE id = 'd1';"
expect_rc 0 "COPY round trip"
[[ "$(tail -n 1 "$OUT")" == "$original" ]] || fail "round trip changed the entity: $original -> $(tail -n 1 "$OUT")"

phx --format json -c 'SELECT * FROM docs ORDER BY id LIMIT 1;'
expect_out '[{"id":"d1","vector":[0.1,-2.5e-07,3],"metadata":{"n":[1,{"x":null}],"s":"quote \" tab \t é","extra":true},"edges":[]}]' \
    "select output"

# Errors still go to stderr as text, and stdout stays JSON-only.
phx --format json -c 'SELECT * FROM missing;'
expect_error NotFound "json error"
expect_empty_out "json error"

finish
