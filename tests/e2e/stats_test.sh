#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: the health summary. SHOW STATS (the tenant's collections), SHOW STATS FOR a
# collection, SHOW DATABASE STATS (every tenant and the engine's figures), and `phenix stats`,
# which prints the same for a person (grouped, human units) or as json/csv; embedded and, under
# e2e.remote, through phenixd.
source "$(dirname "$0")/lib.sh" "$1"

# phx_stats ARGS...: `phenix stats` on $DATA (or the server serving it).
phx_stats() {
    local target
    is_remote && ensure_server
    mapfile -t target < <(phx_target)
    "$PHENIX" stats "${target[@]}" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
}

phx -c 'CREATE COLLECTION docs (DIMENSION 2); CREATE COLLECTION notes;' \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('a', [0, 1], {\"c\": 1}), ('b', [1, 1], {\"c\": 2});" \
    -c 'CREATE INDEX ON docs (metadata.c);' \
    -c 'CREATE TENANT acme; USE TENANT acme; CREATE COLLECTION secret;' \
    -c "INSERT INTO secret (id) VALUES ('s1'), ('s2'), ('s3');"
expect_rc 0 "setup"

# ---- SHOW STATS: the session tenant's collections, as rows ----
phx --format csv -c 'SHOW STATS;'
expect_rc 0 "SHOW STATS"
[[ "$(head -n 1 "$OUT")" == "scope,metric,value,warning,note" ]] || fail "SHOW STATS columns: $(head -n 1 "$OUT")"
expect_out_has 'tenant default,collections,2,' "SHOW STATS tenant total"
expect_out_has 'tenant default,entities,2,' "SHOW STATS tenant entities"
expect_out_has 'collection docs,entities,2,' "SHOW STATS docs"
expect_out_has 'collection docs,metadata_indexes,1,' "SHOW STATS docs indexes"
expect_out_has 'collection docs,metadata_index_entries,2,' "SHOW STATS docs index entries"
expect_out_has 'collection docs,vector_index_nodes,' "SHOW STATS docs vector index"
expect_out_has 'collection notes,entities,0,' "SHOW STATS notes"
expect_out_lacks 'secret' "SHOW STATS shows no other tenant"
expect_out_lacks 'storage' "SHOW STATS has no engine-wide figures"

phx --format csv -c 'SHOW STATS FOR docs;'
expect_rc 0 "SHOW STATS FOR"
expect_out_lacks 'notes' "SHOW STATS FOR docs is docs only"
expect_out_has 'collection docs,entities,2,' "SHOW STATS FOR docs"
phx -c 'SHOW STATS FOR doc;'
expect_error NotFound "SHOW STATS FOR a missing collection"
expect_err_has "did you mean 'docs'" "SHOW STATS FOR suggests"

phx --format csv -c 'SHOW DATABASE STATS;'
expect_rc 0 "SHOW DATABASE STATS"
expect_out_has 'tenant acme,entities,3,' "SHOW DATABASE STATS other tenant"
expect_out_has 'collection acme/secret,entities,3,' "SHOW DATABASE STATS other tenant's collection"
expect_out_has 'transactions,commits_total,' "SHOW DATABASE STATS commits"
expect_out_has 'wal,sync_total,' "SHOW DATABASE STATS WAL"
expect_out_has 'storage,disk_free_bytes,' "SHOW DATABASE STATS disk"
expect_out_has 'graph_cache,hits_total,' "SHOW DATABASE STATS graph cache"

# ---- phenix stats: for a person ----
phx_stats
expect_rc 0 "phenix stats"
expect_empty_err "phenix stats"
expect_out_has 'collection docs' "phenix stats docs heading"
expect_out_has 'collection acme/secret' "phenix stats other tenant (the whole database)"
expect_out_has 'transactions' "phenix stats transactions"
grep -qE '^  disk_free_bytes +[0-9.]+ (B|KiB|MiB|GiB|TiB|PiB)$' "$OUT" ||
    fail "phenix stats: disk_free_bytes not in human units: $(grep disk_free "$OUT")"
grep -qE '^  entities +2$' "$OUT" || fail "phenix stats: no 'entities 2' line"
grep -qE '^  vector_index_memory_bytes +[0-9.]+ (B|KiB|MiB)  \(vectors [0-9]+, graph [0-9]+, other [0-9]+\)$' "$OUT" ||
    fail "phenix stats: vector index memory line: $(grep vector_index_memory "$OUT")"

phx_stats --collection docs
expect_rc 0 "phenix stats --collection"
expect_out_has 'collection docs' "phenix stats --collection"
expect_out_lacks 'secret' "phenix stats --collection docs only"
expect_out_lacks 'transactions' "phenix stats --collection: no engine figures"

phx_stats --collection nope
expect_error NotFound "phenix stats --collection missing"

phx_stats --format json
expect_rc 0 "phenix stats --format json"
python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["rows"] if isinstance(doc, dict) else doc
assert any("docs" in json.dumps(r) for r in rows), rows
' "$OUT" || fail "phenix stats --format json is not the rows as JSON: $(head -c 300 "$OUT")"

phx_stats -c 'SELECT 1;'
expect_rc 2 "phenix stats -c"
expect_err_has "phenix stats runs no statements of its own" "phenix stats -c"

if ! is_remote; then
    # It reports on an existing directory and never creates one.
    "$PHENIX" stats --data "$TMP/none" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    expect_error NotFound "phenix stats on a missing directory"
    [[ ! -e "$TMP/none" ]] || fail "phenix stats created $TMP/none"
fi

finish
