#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: transactions in the shell. BEGIN / COMMIT / ROLLBACK, BEGIN READ ONLY and AS OF,
# what is refused inside a transaction, rollback of a transaction left open at exit (quit, end
# of input, an error that stops a script), SHOW TIMESTAMP and VERIFY.
source "$(dirname "$0")/lib.sh" "$1"

# A commit timestamp: microseconds since the epoch, so 16 digits for the next few centuries.
TS_RE='[0-9]{16}'

# stdout with every timestamp replaced by TS, for exact comparisons.
normalize_ts() {
    sed -E "s/$TS_RE/TS/g" "$OUT" >"$OUT.normalized" && mv "$OUT.normalized" "$OUT"
}

# expect_only_line REGEX WHAT: stdout is exactly one line, matching REGEX in full.
expect_only_line() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    if [[ "$(wc -l <"$OUT")" != 1 ]] || ! grep -qE -- "^$1\$" "$OUT"; then
        fail "$2: stdout is not one line matching /^$1\$/"
        show_output
    fi
}

phx -c 'CREATE COLLECTION c;' -c "INSERT INTO c (id, metadata) VALUES ('a', {\"v\": 1});"
expect_rc 0 "setup"

# ---- rollback leaves no trace ----
phx -c 'BEGIN;' \
    -c "INSERT INTO c (id, metadata, edges) VALUES ('b', {\"v\": 10}, [{\"label\": \"to\", \"target\": \"a\"}]);" \
    -c "UPDATE c SET metadata.v = 99 WHERE id = 'a';" \
    -c "SELECT id, metadata FROM c WHERE id = 'a'; SELECT id, metadata FROM c WHERE id = 'b';" \
    -c "SELECT label, source_id, target_id FROM edges('c', 'a', direction = 'in'); SELECT id, metadata FROM c ORDER BY id;" \
    -c 'ROLLBACK;' \
    -c "SELECT id, metadata FROM c WHERE id = 'a'; SELECT id, metadata FROM c ORDER BY id;"
expect_rc 0 "rollback"
expect_empty_err "rollback"
expect_out 'BEGIN
INSERT 1
UPDATE 1
 id | metadata
----+----------
 a  | {"v":99}
(1 row)
 id | metadata
----+----------
 b  | {"v":10}
(1 row)
 label | source_id | target_id
-------+-----------+-----------
 to    | b         | a
(1 row)
 id | metadata
----+----------
 a  | {"v":99}
 b  | {"v":10}
(2 rows)
ROLLBACK
 id | metadata
----+----------
 a  | {"v":1}
(1 row)
 id | metadata
----+----------
 a  | {"v":1}
(1 row)' "reads in a transaction see its writes; rollback discards them"
phx -c "SELECT count(*) FROM c WHERE id = 'b';"
expect_out_has " 0" "a rolled-back insert is not visible to a later process"
phx -c "SELECT * FROM edges('c', 'a', direction = 'in');"
expect_rc 0 "no edges after rollback"
expect_out_has "(0 rows)" "a rolled-back edge is not visible"

# ---- commit makes the writes visible, at the printed timestamp ----
phx -c "BEGIN; INSERT INTO c (id, metadata) VALUES ('b', {\"v\": 2}); DELETE FROM c WHERE id = 'a'; COMMIT; SHOW TIMESTAMP;"
expect_rc 0 "commit"
expect_empty_err "commit"
committed_ts="$(sed -nE "s/^COMMIT ($TS_RE)\$/\\1/p" "$OUT")"
[[ -n "$committed_ts" ]] || { fail "COMMIT did not print 'COMMIT TS'"; show_output; }
[[ "$(tail -n 2 "$OUT" | head -n 1)" == " $committed_ts" ]] ||
    fail "SHOW TIMESTAMP after COMMIT is '$(tail -n 2 "$OUT" | head -n 1)', not the commit timestamp $committed_ts"
phx -c 'SELECT id, metadata FROM c ORDER BY id;'
expect_out ' id | metadata
----+----------
 b  | {"v":2}
(1 row)' "committed writes are visible to a later process"
phx -c "INSERT INTO c (id, metadata) VALUES ('a', {\"v\": 1});"
expect_rc 0 "re-insert a"

# ---- a read-only transaction rejects writes ----
phx -c 'BEGIN READ ONLY;' -c "SELECT * FROM c WHERE id = 'a';" -c "INSERT INTO c (id) VALUES ('ro');" -c 'COMMIT;'
expect_error FailedPrecondition "a write in a read-only transaction"
expect_err_has "read-only" "a write in a read-only transaction"
expect_err_line "^phenix: rolled back the open read-only transaction \\(snapshot $TS_RE\\)\$" \
    "the read-only transaction is rolled back at exit"
phx -c "SELECT count(*) FROM c WHERE id = 'ro';"
expect_out_has " 0" "nothing from the read-only transaction was written"

phx -c "BEGIN READ ONLY; SELECT metadata FROM c WHERE id = 'a'; COMMIT;"
expect_rc 0 "a read-only transaction commits"
expect_empty_err "a read-only transaction commits"
expect_out_has '{"v":1}' "a read-only transaction reads"
grep -qE "^BEGIN READ ONLY \\(snapshot $TS_RE\\)\$" "$OUT" || { fail "BEGIN READ ONLY output"; show_output; }
grep -qE "^COMMIT $TS_RE\$" "$OUT" || { fail "read-only commit output"; show_output; }

# ---- AS OF: a timestamp taken before an update still reads the old value ----
phx --format csv -c 'SHOW TIMESTAMP;'
expect_rc 0 "SHOW TIMESTAMP"
[[ "$(head -n 1 "$OUT")" == "timestamp" ]] || fail "SHOW TIMESTAMP's column: $(head -n 1 "$OUT")"
before_ts="$(tail -n 1 "$OUT")"
[[ "$before_ts" =~ ^$TS_RE$ ]] || fail "SHOW TIMESTAMP printed '$before_ts'"
phx -c "UPDATE c SET metadata.v = 3 WHERE id = 'a';"
expect_rc 0 "update after the timestamp"
phx -c "BEGIN READ ONLY AS OF $before_ts; SELECT id, metadata FROM c WHERE id = 'a'; ROLLBACK; SELECT id, metadata FROM c WHERE id = 'a';"
expect_rc 0 "as of"
expect_empty_err "as of"
expect_out "BEGIN READ ONLY (snapshot $before_ts)
 id | metadata
----+----------
 a  | {\"v\":1}
(1 row)
ROLLBACK
 id | metadata
----+----------
 a  | {\"v\":3}
(1 row)" "as of reads the value before the update; after rollback the current one"
phx -c "BEGIN AS OF $before_ts;" -c "UPDATE c SET metadata.v = 4 WHERE id = 'a';"
expect_error FailedPrecondition "as of implies read only"
phx -c "SELECT metadata FROM c WHERE id = 'a';"
expect_out_has '{"v":3}' "the write in the as-of transaction did not happen"
phx -c 'BEGIN AS OF 99999999999999999;'
expect_error InvalidArgument "as of a timestamp in the future"
phx -c 'BEGIN AS OF soon;'
expect_error InvalidArgument "as of a non-number"
expect_err_has "expected a commit timestamp, found 'soon'" "as of a non-number"

# ---- errors: no transaction open, one already open, refused statements ----
phx -c 'COMMIT;'
expect_error FailedPrecondition "commit without begin"
expect_err_has "no transaction is open (BEGIN starts one)" "commit without begin"
phx -c 'ROLLBACK;'
expect_error FailedPrecondition "rollback without begin"
expect_err_has "no transaction is open" "rollback without begin"

phx -c "BEGIN; INSERT INTO c (id) VALUES ('x1'); BEGIN;"
expect_error FailedPrecondition "begin inside a transaction"
expect_err_line "a transaction is already open: read-write transaction \\(snapshot $TS_RE, 1 uncommitted write\\); COMMIT or ROLLBACK it first" \
    "begin inside a transaction names the open one"
expect_err_line "^phenix: rolled back the open read-write transaction \\(snapshot $TS_RE, 1 uncommitted write\\)\$" \
    "an error that stops a script rolls the transaction back"
phx -c "SELECT count(*) FROM c WHERE id = 'x1';"
expect_out_has " 0" "the transaction stopped by an error left nothing"

echo '{"id": "l1"}' >"$TMP/one.jsonl"
for refused in 'CREATE COLLECTION:CREATE COLLECTION d;' 'DROP COLLECTION:DROP COLLECTION c;' \
    'CREATE TENANT:CREATE TENANT t;' "COPY:COPY c FROM '$TMP/one.jsonl';" 'REINDEX:REINDEX c;' \
    'CREATE INDEX:CREATE INDEX ON c (metadata.v);'; do
    phx -c 'BEGIN;' -c "${refused#*:}"
    expect_error FailedPrecondition "'${refused#*:}' inside a transaction"
    expect_err_has "${refused%%:*} cannot run inside a transaction" \
        "'${refused#*:}' inside a transaction"
done
phx -c 'SHOW COLLECTIONS; SHOW TENANTS;'
expect_out_lacks " d " "the refused create collection did nothing"
expect_out_has " c " "the refused drop collection did nothing"
expect_out_lacks " t " "the refused create tenant did nothing"
phx -c "SELECT count(*) FROM c WHERE id = 'l1';"
expect_out_has " 0" "the refused COPY did nothing"

# ---- an open transaction is rolled back at quit and at the end of input ----
phx -c "BEGIN; INSERT INTO c (id) VALUES ('q1'); INSERT INTO c (id) VALUES ('q2') ON CONFLICT (id) DO UPDATE;" -c 'quit' -c 'COMMIT;'
expect_rc 0 "quit with an open transaction"
expect_err_line "^phenix: rolled back the open read-write transaction \\(snapshot $TS_RE, 2 uncommitted writes\\)\$" \
    "quit rolls back"
phx_stdin $'BEGIN;\nINSERT INTO c (id) VALUES (\'q3\');\n'
expect_rc 0 "end of stdin with an open transaction"
expect_err_has "phenix: rolled back the open read-write transaction" "end of stdin rolls back"
printf 'BEGIN;\nUPDATE c SET metadata = {"w": 1} WHERE id = '"'a'"';\n' >"$TMP/open.phx"
phx -f "$TMP/open.phx"
expect_rc 0 "end of a -f script with an open transaction"
expect_err_has "1 uncommitted write)" "end of a -f script rolls back"
phx -c 'SELECT * FROM c ORDER BY id;'
expect_out_lacks "q1" "nothing of the rolled-back transactions is visible"
expect_out_lacks "q3" "nothing of the rolled-back transactions is visible"
expect_out_lacks '"w"' "nothing of the rolled-back transactions is visible"

# A transaction spans -c and -f arguments: they share one session.
printf "INSERT INTO c (id) VALUES ('f1');\n" >"$TMP/in_txn.phx"
phx -c 'BEGIN;' -f "$TMP/in_txn.phx" -c 'COMMIT;'
expect_rc 0 "a transaction across -c and -f"
phx -c "SELECT count(*) FROM c WHERE id = 'f1';"
expect_out_has " 1" "the write from the -f file committed"

# ---- the interactive prompt shows an open transaction (needs util-linux `script` for a pty) ----
if script --version 2>/dev/null | grep -q util-linux; then
    # The trailing sleep keeps the terminal open until the shell has read every line; then
    # end of input (^D) ends the session.
    { printf 'BEGIN;\nROLLBACK;\nBEGIN READ ONLY;\n'; sleep 1; } |
        script -qec "$(phx_cmdline)" /dev/null |
        tr -d '\r' >"$OUT" 2>"$ERR"
    expect_out_has "phenix(txn)> ROLLBACK;" "the prompt while a transaction is open"
    expect_out_has "phenix> BEGIN READ ONLY;" "the prompt after rollback"
    expect_out_has "phenix(ro txn)> " "the prompt while a read-only transaction is open"
    expect_out_has "phenix: rolled back the open read-only transaction" "^D rolls back"
else
    echo "skipping the interactive prompt checks: util-linux script is not installed"
fi

# ---- JSON output: statements with rows print JSON, the others nothing ----
phx --format json -c "BEGIN; INSERT INTO c (id) VALUES ('j1'); COMMIT; SHOW TIMESTAMP; BEGIN READ ONLY; ROLLBACK;"
expect_rc 0 "json output"
normalize_ts
expect_out '[{"timestamp":TS}]' "json output of the transaction statements"

# ---- verify ----
phx -c 'VERIFY;'
expect_rc 0 "verify"
expect_out 'VERIFY' "VERIFY prints VERIFY on a consistent database"
expect_empty_err "verify"

# ---- help ----
phx -c '\?'
for usage in "BEGIN [READ ONLY] [AS OF ts];" "COMMIT;" "ROLLBACK;" "SHOW TIMESTAMP;" "VERIFY;"; do
    expect_out_has "  $usage" "help lists '$usage'"
done
phx -c 'help begin'
expect_rc 0 "help begin"
expect_out_has "AS OF" "help begin shows BEGIN"
phx -c 'COMIT;'
expect_err_has "did you mean COMMIT?" "a misspelled commit"
phx -c 'timestamp'
expect_err_has "the shell's older 'timestamp' command is PhenixQL now: SHOW TIMESTAMP;" "timestamp names SHOW TIMESTAMP"

finish
