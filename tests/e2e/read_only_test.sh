#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: `phenix --read-only` reads a data directory (SELECT, table functions, VERIFY, COPY TO)
# without writing a byte to it, refuses every write with FailedPrecondition, creates nothing
# where there is no database, and shares the directory with other readers but not a writer.
source "$(dirname "$0")/lib.sh" "$1"

# listing: every file under the data directory with its size, mtime and checksum.
listing() {
    (cd "$DATA" && find . -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# wait_for_line FILE TEXT: waits up to 10 s for TEXT to appear in FILE.
wait_for_line() {
    local tries
    for ((tries = 0; tries < 200; tries++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

phx --read-only -c 'SHOW COLLECTIONS;'
expect_error NotFound "--read-only on a missing directory"
[[ ! -e "$DATA" ]] || fail "--read-only created the missing data directory"

phx -c 'CREATE COLLECTION docs (DIMENSION 2);' -c "INSERT INTO docs (id, vector, metadata) VALUES ('a', [1, 2], {\"k\": \"v\"});" \
    -c "INSERT INTO docs (id, vector, edges) VALUES ('b', [3, 4], [{\"label\": \"next\", \"target\": \"a\"}]);" \
    -c 'CREATE INDEX ON docs (metadata.k);'
expect_rc 0 "writer creates the data"
listing >"$TMP/before"

phx --read-only --format json -c "SELECT * FROM docs WHERE id = 'b';"
expect_rc 0 "read-only get"
expect_out '[{"id":"b","vector":[3,4],"metadata":{},"edges":[{"label":"next","target":"a","weight":1.0}]}]' \
    "read-only get returns the entity"
phx --read-only -c 'SELECT id FROM docs ORDER BY vector <-> [1, 2] LIMIT 1;' -c 'VERIFY;' \
    -c "SELECT * FROM traverse('docs', 'b');" -c 'SHOW INDEXES ON docs;' \
    -c "SELECT id FROM docs WHERE metadata.k = 'v';" -c "COPY docs TO '$TMP/docs.jsonl';"
expect_rc 0 "read-only search, verify, SELECT, traverse, SHOW INDEXES and COPY TO"
expect_out_has " a " "read-only search and SELECT find a"
[[ "$(wc -l <"$TMP/docs.jsonl")" == 2 ]] || fail "COPY TO exported $(wc -l <"$TMP/docs.jsonl") lines, not 2"

for write in "INSERT INTO docs (id, vector) VALUES ('c', [5, 6]) ON CONFLICT (id) DO UPDATE;" \
    "DELETE FROM docs WHERE id = 'a';" 'CREATE COLLECTION more;' \
    "INSERT INTO docs (id, vector) VALUES ('c', [5, 6]);" "COPY docs FROM '$TMP/docs.jsonl';" \
    'DROP COLLECTION docs;' 'REINDEX docs;' 'CREATE TENANT t;'; do
    phx --read-only -c "$write"
    expect_error FailedPrecondition "read-only: $write"
    expect_err_has "open read-only" "read-only: $write"
done

listing >"$TMP/after"
if ! diff -u "$TMP/before" "$TMP/after" >"$TMP/listing.diff"; then
    fail "the read-only shells changed the data directory:"
    sed 's/^/  /' "$TMP/listing.diff"
fi

# Another reader may join a reader; a writer may not.
trap '' PIPE
mkfifo "$TMP/fifo"
"$PHENIX" --data "$DATA" --read-only <"$TMP/fifo" >"$TMP/holder.out" 2>"$TMP/holder.err" &
HOLDER_PID=$!
BACKGROUND_PIDS+=("$HOLDER_PID")
exec 3>"$TMP/fifo"
echo '\dt' >&3
if ! wait_for_line "$TMP/holder.out" " docs "; then
    fail "the read-only holder did not start: $(cat "$TMP/holder.err")"
    finish
fi
phx --read-only -c "SELECT * FROM docs WHERE id = 'a';"
expect_rc 0 "a second reader beside a reader"
phx -c 'SHOW COLLECTIONS;'
expect_error Unavailable "a writer beside a reader"
expect_err_has "open read-only" "a writer beside a reader"
exec 3>&-
wait "$HOLDER_PID"
HOLDER_RC=$?
BACKGROUND_PIDS=()
[[ "$HOLDER_RC" == 0 ]] || fail "the read-only holder exited with $HOLDER_RC: $(cat "$TMP/holder.err")"

phx -c "INSERT INTO docs (id, vector) VALUES ('c', [5, 6]);"
expect_rc 0 "the writer after the readers left"

finish
