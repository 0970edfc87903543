#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: command-line flags, exit codes, script control flow (comments, ';', statements over
# lines, quit, the first error stops a script), meta-commands, and the messages for statements
# that cannot be parsed.
source "$(dirname "$0")/lib.sh" "$1"

# ---- flags ----
"$PHENIX" --help >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--help"
expect_out_has "Usage: phenix" "--help"
expect_out_has "--format table|json" "--help"

"$PHENIX" --version >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "--version"
[[ "$(cat "$OUT")" =~ ^phenix\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    fail "--version printed '$(cat "$OUT")'"

for args in "--bogus" "--format xml" "--data" "-c" "stray-argument" "--relaxed=yes"; do
    # shellcheck disable=SC2086  # word splitting intended
    "$PHENIX" --data "$DATA" $args </dev/null >"$OUT" 2>"$ERR"; RC=$?
    expect_rc 2 "usage error for '$args'"
    expect_err_has "phenix --help" "usage error for '$args'"
done
[[ ! -e "$DATA" ]] || fail "a usage error created the data directory"

phx -f "$TMP/no-such-script.phx"
expect_rc 1 "-f of a missing file"
expect_err_line "^error: IOError: cannot open .*no-such-script.phx" "-f of a missing file"
[[ ! -e "$DATA" ]] || fail "a missing script file created the data directory"

# ---- empty input and comments ----
phx_stdin ""
expect_rc 0 "empty stdin"
expect_empty_out "empty stdin"
expect_empty_err "empty stdin"
[[ -d "$DATA" ]] || fail "the data directory was not created"

phx -c ""
expect_rc 0 "empty -c"
expect_empty_out "empty -c"

phx_stdin $'# a comment\n\n   \n-- another; drop collection x\n\t# indented comment\n'
expect_rc 0 "comments and blank lines"
expect_empty_out "comments and blank lines"
expect_empty_err "comments and blank lines"

# ---- several statements, keywords in any case ----
phx -c 'CREATE Collection c1 (DIMENSION 2, Metric L2); create collection c2;;' -c '\dt'
expect_rc 0 "';' separates statements"
expect_out 'CREATE COLLECTION
CREATE COLLECTION
 name | dimension | metric | entities | indexes
------+-----------+--------+----------+---------
 c1   | 2         | l2     | 0        | 0
 c2   | NULL      | NULL   | 0        | 0
(2 rows)' "';' separates statements"

# ---- a statement continues over lines until its ';' ----
phx -c $'SHOW\nCOLLECTIONS\n;'
expect_rc 0 "a statement over three lines"
expect_out_has " c1 " "a statement over three lines"

# ---- quit and errors stop a script ----
phx_stdin $'CREATE COLLECTION q;\nquit\nCREATE COLLECTION after_quit;\n'
expect_rc 0 "quit on stdin"
phx -c 'SHOW COLLECTIONS'
expect_out_lacks "after_quit" "nothing runs after quit"

printf 'CREATE COLLECTION s1;\nSELECT * FROM s1_missing;\nCREATE COLLECTION s2;\n' >"$TMP/script.phx"
phx -f "$TMP/script.phx"
expect_error NotFound "-f stops at the first error"
expect_err_has "$TMP/script.phx:2: " "-f names the failing line"
phx_stdin "$(cat "$TMP/script.phx")"
expect_error AlreadyExists "stdin stops at the first error"
expect_err_has "stdin:1: " "stdin names the failing line"
phx -c 'SHOW COLLECTIONS'
expect_out_has " s1 " "statements before the error ran"
expect_out_lacks " s2 " "statements after the error did not run"

phx -c $'SHOW COLLECTIONS;\nSELECT * FROM nope;'
expect_error NotFound "multi-line -c"
expect_err_has "at -c line 2" "multi-line -c names the failing line"

phx -c 'exit' -c 'CREATE COLLECTION after_exit'
expect_rc 0 "exit in -c"
phx -c $'\\q\nCREATE COLLECTION after_q;'
expect_rc 0 "\\q in -c"
phx -c 'SHOW COLLECTIONS'
expect_out_lacks "after_" "nothing runs after exit or \\q"

# ---- unknown and malformed statements ----
phx -c "INSRT INTO c1 (id) VALUES ('a')"
expect_error InvalidArgument "unknown statement"
expect_err_has "expected a statement, found 'INSRT'; did you mean INSERT?" "misspelled statement suggestion"
phx -c 'SHOW COLECTIONS'
expect_err_has "did you mean COLLECTIONS?" "misspelled object suggestion"
phx -c 'frobnicate everything'
expect_error InvalidArgument "unknown statement without suggestion"
expect_err_has "expected a statement, found 'frobnicate'" "unknown statement"
phx -c 'CREATE COLECTION x'
expect_error InvalidArgument "misspelled object"
expect_err_has "did you mean COLLECTION?" "misspelled object suggestion"
phx -c 'SELECT * FROM c1 WHERE id ='
expect_error InvalidArgument "incomplete statement"
expect_err_has "line 1, column 28: expected an expression, found end of input" "incomplete statement"
phx -c 'SELECT * FROM c1 LIMIT many'
expect_err_has "expected a row count, found 'many'" "bad limit"
phx -c "INSERT INTO c1 (id, metadata) VALUES ('a', not-json)"
expect_error InvalidArgument "non-JSON metadata"
phx -c "SELECT * FROM c1 WHERE id = 'unterminated"
expect_err_has "unterminated" "unterminated quote"
phx -c "SELECT * FROM edges('c1', 'a', direction = 'sideways')"
expect_err_has "option 'direction' must be 'out', 'in' or 'both', not 'sideways'" "bad direction"
phx -c '\frobnicate'
expect_error InvalidArgument "unknown meta-command"
expect_err_has "unknown meta-command '\\frobnicate'" "unknown meta-command"
phx -c '\timng'
expect_err_has "did you mean '\\timing'?" "misspelled meta-command suggestion"

# The older command language is gone; its words say what to write instead.
phx -c 'get c1 a'
expect_error InvalidArgument "an older command"
expect_err_has "the shell's older 'get' command is PhenixQL now: SELECT * FROM coll WHERE id = 'ID';" \
    "an older command names its PhenixQL"
phx -c 'insert c1 {"id": "a"}'
expect_err_has "the shell's older 'insert' command is PhenixQL now: INSERT INTO" "insert hint"
phx -c 'SELECT * FROM c1'
expect_rc 0 "nothing was inserted by the older command"
expect_out_has "(0 rows)" "nothing was inserted by the older command"

# ---- help ----
phx -c '\?'
expect_rc 0 "help"
for word in "CREATE COLLECTION name" "COPY name FROM" "SELECT * FROM shortest_path(" \
    "UPDATE name SET" "\\timing" "USE TENANT name;" "SHOW INDEXES" "BEGIN [READ ONLY] [AS OF ts];" \
    "\\d [name]" "\\q"; do
    expect_out_has "$word" "help lists '$word'"
done
phx -c 'help'
expect_out_has "DESCRIBE name;" "help is \\?"
phx -c '\help update'
expect_out_has "UPDATE name SET metadata.path = value" "help for one statement"
expect_out_lacks "DELETE FROM" "help for one statement lists only it"
phx -c '\? nothing-like-this'
expect_error NotFound "help for an unknown topic"

# ---- \timing ----
phx -c '\timing' -c 'SHOW COLLECTIONS'
expect_rc 0 "\\timing"
expect_out_has "Timing is on." "\\timing"
expect_err_line "^Time: [0-9.]+ ms$" "\\timing prints the elapsed time"
phx -c '\timing off' -c 'SHOW COLLECTIONS'
expect_out_has "Timing is off." "\\timing off"
expect_empty_err "\\timing off"

# ---- \d, \dt, \di, \dn ----
phx -c '\d c1'
expect_rc 0 "\\d NAME"
expect_out_has "vector   | vector(2)" "\\d NAME describes the collection"
phx -c '\d'
expect_out_has " c2 " "\\d lists the collections"
phx -c '\di c1'
expect_out_has "collection | path" "\\di lists the indexes"
phx -c '\dn'
expect_out_has " default " "\\dn lists the tenants"

# ---- never crash on odd input ----
head -c 20000 /dev/urandom >"$TMP/garbage"
"$PHENIX" --data "$DATA" <"$TMP/garbage" >"$OUT" 2>"$ERR"; RC=$?
[[ "$RC" == 0 || "$RC" == 1 ]] || fail "random bytes on stdin: exit status $RC"
{ printf "INSERT INTO c1 (id) VALUES ('"; head -c 3000000 /dev/zero | tr '\0' 'y'; echo "');"; } >"$TMP/huge"
"$PHENIX" --data "$DATA" <"$TMP/huge" >"$OUT" 2>"$ERR"; RC=$?
expect_error InvalidArgument "a 3 MB line (an id over the 512-byte limit)"
printf "INSERT INTO c1 (id, metadata) VALUES ('a', %s);\n" "$(printf '[%.0s' {1..50000})" >"$TMP/deep"
"$PHENIX" --data "$DATA" <"$TMP/deep" >"$OUT" 2>"$ERR"; RC=$?
expect_error InvalidArgument "deeply nested JSON"

# ---- interactive history: a statement typed over several lines is one entry ----
# (a terminal is needed for line editing: `script` gives the shell a pseudo-terminal)
if command -v script >/dev/null; then
    printf 'SELECT id\nFROM nope;\n\\q\n' |
        PHENIX_HISTORY="$TMP/history" timeout 60 script -qec "'$PHENIX' --data '$DATA'" /dev/null \
            >"$OUT" 2>&1
    grep -qF 'SELECT\040id\012FROM\040nope;' "$TMP/history" ||
        fail "a multi-line statement is one history entry: $(cat -A "$TMP/history")"
    ! grep -qx 'FROM\\040nope;' "$TMP/history" || fail "the statement's second line has its own entry"
fi

# ---- --memory-limit ----
phx --memory-limit 0 -c "SELECT 1"
[[ "$RC" == 2 ]] || fail "--memory-limit 0: exit status $RC, expected 2"
expect_err_has "--memory-limit takes a number of MiB" "--memory-limit 0"

finish
