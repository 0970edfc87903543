#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: PhenixQL in the shell. -c, -f and a pipe; table, JSON and CSV output; exit
# status and errors (with the file and line of a -f statement); statements over several lines;
# one result flushed per statement; reads, writes and a table function in one transaction.
source "$(dirname "$0")/lib.sh" "$1"

cat >"$TMP/setup.sql" <<'SQL'
CREATE COLLECTION docs (DIMENSION 4, METRIC cosine);
CREATE INDEX ON docs (metadata.category);
INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0.1, 0.2, 0.3, 0.4], {"category": "tech", "year": 2021});
INSERT INTO docs (id, vector, metadata, edges) VALUES
  ('d2', [0.5, 0.6, 0.7, 0.8], {"category": "science", "year": 2019},
   [{"label": "related_to", "target": "d1", "weight": 0.8}]);
SQL
phx -f "$TMP/setup.sql"
expect_rc 0 "setup script"
expect_empty_err "setup script"
expect_out 'CREATE COLLECTION
CREATE INDEX
INSERT 1
INSERT 1' "messages, one per statement"

# ---- table output ----
phx -c "SELECT id, metadata.year, vector <=> [0.1, 0.2, 0.3, 0.4] AS distance
  FROM docs WHERE metadata.category = 'tech' AND metadata.year >= 2020
  ORDER BY distance LIMIT 10;"
expect_rc 0 "select"
expect_out ' id | metadata.year | distance
----+---------------+----------
 d1 | 2021          | 0.0
(1 row)' "select as a table"

phx -c "SELECT b.id, b.metadata.category FROM MATCH (a:docs)-[:related_to*1..2]->(b:docs) WHERE a.id = 'd2' ORDER BY b.vector <-> [0.1, 0.2, 0.3, 0.4] LIMIT 5;"
expect_out ' b.id | b.metadata.category
------+---------------------
 d1   | tech
(1 row)' "match as a table"

phx -c "SELECT a.id, b.id, c.id FROM MATCH (a:docs)-[:related_to]->(b:docs)<-[:related_to]-(c:docs) WHERE a.id = 'd2';"
expect_rc 0 "match chain"
expect_out ' a.id | b.id | c.id
------+------+------
 d2   | d1   | d2
(1 row)' "a match chain as a table"

# A statement without ';' at the end of -c still runs.
phx -c "SELECT count(*) FROM docs WHERE metadata.category IN ('tech', 'science')"
expect_out ' count
-------
 2
(1 row)' "a final statement without ';'"

# ---- JSON and CSV ----
phx --format json -c "SELECT id, metadata, vector FROM docs ORDER BY id; UPDATE docs SET metadata.year = 2022 WHERE id = 'd1'; SELECT id, metadata.year FROM docs WHERE id = 'nobody';"
expect_rc 0 "json"
expect_out '[{"id":"d1","metadata":{"category":"tech","year":2021},"vector":[0.1,0.2,0.3,0.4]},{"id":"d2","metadata":{"category":"science","year":2019},"vector":[0.5,0.6,0.7,0.8]}]
[]' "json: one array per statement with rows, nothing for messages"

phx --format csv -c "SELECT id, metadata.year, metadata FROM docs ORDER BY id; INSERT INTO docs (id, metadata) VALUES ('d3', {\"category\": \"tech\", \"note\": \"a \\\"quoted\\\", text\"}); SELECT id, metadata.year, metadata.note FROM docs WHERE id = 'd3';"
expect_rc 0 "csv"
expect_out 'id,metadata.year,metadata
d1,2022,"{""category"":""tech"",""year"":2022}"
d2,2019,"{""category"":""science"",""year"":2019}"
id,metadata.year,metadata.note
d3,,"a ""quoted"", text"' "csv: header, rows, RFC 4180 quoting, NULL empty"

phx --format json -c "SELECT * FROM edges('docs', 'd1', direction = 'in');"
expect_out '[{"label":"related_to","source":"docs","source_id":"d2","target":"docs","target_id":"d1","weight":0.8,"properties":null}]' \
    "table functions print JSON like any SELECT"

# ---- errors: exit status 1, the error on stderr ----
phx -c 'SELECT id FROM doc;'
expect_error NotFound "misspelled collection"
expect_err_has "did you mean 'docs'?" "misspelled collection suggestion"

printf 'SELECT id FROM docs;\n\nSELECT id\n  FRM docs;\nSELECT id FROM docs;\n' >"$TMP/bad.sql"
phx -f "$TMP/bad.sql"
expect_error InvalidArgument "syntax error in a file"
expect_err_has "$TMP/bad.sql:3: line 2, column 3: expected FROM" "the file, the statement's line, and the position in it"
expect_out ' id
----
 d1
 d2
 d3
(3 rows)' "statements before the error ran, those after did not"

printf 'SELECT id FROM docs WHERE id = $1;\n' >"$TMP/param.sql"
phx -f "$TMP/param.sql"
expect_error InvalidArgument "unbound parameter"

phx -c 'CREATE COLLECTION c2 (DIMENSION 2, METRIC manhattan);'
expect_error InvalidArgument "unknown metric"

# ---- a pipe; statements over several lines ----
phx_stdin $'SELECT id\n  FROM docs\n  WHERE id = \'d2\';\nSHOW COLLECTIONS;\n'
expect_rc 0 "pipe"
expect_out ' id
----
 d2
(1 row)
 name | dimension | metric | entities | indexes
------+-----------+--------+----------+---------
 docs | 4         | cosine | 3        | 1
(1 row)' "statements over several lines through a pipe"

# ---- one transaction for reads, writes and table functions ----
phx_stdin $'BEGIN;\nINSERT INTO docs (id, metadata, edges) VALUES (\'t1\', {"category": "txn"}, [{"label": "x", "target": "d1"}]);\nSELECT * FROM docs WHERE id = \'t1\';\nSELECT * FROM degree(\'docs\', \'t1\');\nUPDATE docs SET metadata = metadata || {"n": 1} WHERE id = \'t1\';\nSELECT id, metadata.n FROM docs WHERE id = \'t1\';\nROLLBACK;\nSELECT count(*) FROM docs WHERE id = \'t1\';\n'
expect_rc 0 "mixed transaction"
expect_out 'BEGIN
INSERT 1
 id | vector | metadata           | edges
----+--------+--------------------+--------------------------------------------
 t1 | NULL   | {"category":"txn"} | [{"label":"x","target":"d1","weight":1.0}]
(1 row)
 degree
--------
 1
(1 row)
UPDATE 1
 id | metadata.n
----+------------
 t1 | 1
(1 row)
ROLLBACK
 count
-------
 0
(1 row)' "reads, a table function and an UPDATE see and join the transaction; ROLLBACK discards all"

phx_stdin $'BEGIN; INSERT INTO docs (id, metadata) VALUES (\'d9\', {"category": "tech"}); ROLLBACK;\nSELECT count(*) FROM docs WHERE id = \'d9\';\n'
expect_rc 0 "the issue's rollback line"
expect_out 'BEGIN
INSERT 1
ROLLBACK
 count
-------
 0
(1 row)' "BEGIN; INSERT; ROLLBACK; on one line"

phx_stdin $'BEGIN;\nINSERT INTO docs (id) VALUES (\'open\');\n'
expect_err_line "^phenix: rolled back the open read-write transaction \\(snapshot [0-9]+, 1 uncommitted write\\)\$" \
    "a PhenixQL transaction left open is rolled back at exit"

phx -c 'BEGIN;' -c 'CREATE COLLECTION c3 (DIMENSION 2);'
expect_error FailedPrecondition "DDL inside a transaction"

phx -c 'COMMIT;'
expect_error FailedPrecondition "COMMIT without a transaction"

phx -c 'BEGIN;' -c "UPDATE docs SET metadata.year = 2030 WHERE id = 'd2';" -c 'COMMIT;'
expect_rc 0 "commit"
grep -qE '^COMMIT [0-9]+$' "$OUT" || { fail "COMMIT prints COMMIT <timestamp>"; show_output; }

# ---- \timing and \help ----
phx -c '\timing' -c 'SELECT id FROM docs WHERE id = '"'d1'"';'
expect_rc 0 "\\timing"
expect_err_line "^Time: [0-9.]+ ms$" "\\timing times PhenixQL statements"
phx -c '\help'
expect_out_has "PhenixQL statements" "\\help lists PhenixQL"
expect_out_has "SELECT cols FROM name" "\\help lists SELECT"
expect_out_has "Meta-commands" "\\help lists the meta-commands"

# ---- COPY ----
printf '{"id": "c1", "metadata": {"category": "copy"}}\n{"id": "c2"}\n' >"$TMP/in.jsonl"
phx -c "COPY docs FROM '$TMP/in.jsonl';" -c "COPY docs TO '$TMP/out.jsonl';"
expect_rc 0 "copy"
expect_empty_err "copy progress is silent when stderr is not a terminal"
[[ "$(wc -l <"$TMP/out.jsonl")" == 5 ]] || fail "COPY TO wrote $(wc -l <"$TMP/out.jsonl") lines, expected 5"
printf '{"id": "e1"}\nnot json\n' >"$TMP/bad.jsonl"
phx -c "COPY docs FROM '$TMP/bad.jsonl';"
expect_rc 1 "copy of a bad file"
expect_err_has "line 2" "COPY names the bad line"

# ---- each result is flushed as soon as its statement has run ----
mkfifo "$TMP/in" "$TMP/out"
is_remote && ensure_server
mapfile -t TARGET < <(phx_target)
"$PHENIX" "${TARGET[@]}" <"$TMP/in" >"$TMP/out" 2>"$ERR" &
BACKGROUND_PIDS+=($!)
exec 3>"$TMP/in" 4<"$TMP/out"
# read_result PATTERN WHAT: the next stdout line must arrive within 10 s and match.
read_result() {
    NUM_CHECKS=$((NUM_CHECKS + 1))
    local got=""
    if ! IFS= read -r -t 10 got <&4; then
        fail "$2: no output within 10 s (the result was not flushed)"
        return
    fi
    [[ "$got" =~ $1 ]] || fail "$2: got '$got', expected /$1/"
}
printf "INSERT INTO docs (id) VALUES ('f1');\n" >&3
read_result '^INSERT 1$' "first statement's result before the second is sent"
printf "SELECT count(*) FROM docs WHERE id = 'f1';\n" >&3
read_result '^ count$' "second statement's result (header)"
read_result '^-------$' "second statement's result (rule)"
read_result '^ 1$' "second statement's result (row)"
read_result '^\(1 row\)$' "second statement's result (footer)"
printf '%s\n' '\timing on' >&3
read_result '^Timing is on.$' "a meta-command's result, flushed too"
exec 3>&-
cat <&4 >/dev/null
exec 4<&-
wait "${BACKGROUND_PIDS[-1]}"
RC=$?
expect_rc 0 "the piped session ends cleanly"

# ---- rows stream to the output as the statement produces them ----
# A SELECT that fails part-way (division by zero at n = 2000) has printed the batches of rows
# before it (the plan moves rows in batches of up to 1024); a long table has one header and one
# footer however many chunks it is printed in.
for n in $(seq 0 2499); do printf '{"id":"m%04d","metadata":{"n":%d}}\n' "$n" "$n"; done >"$TMP/many.jsonl"
phx -c "CREATE COLLECTION many; COPY many FROM '$TMP/many.jsonl';"
expect_rc 0 "loading 2500 rows"
phx --format csv -c "SELECT id, 10 / (metadata.n - 2000) FROM many ORDER BY id;"
expect_rc 1 "a select failing part-way"
expect_err_has "division by zero" "a select failing part-way"
NUM_CHECKS=$((NUM_CHECKS + 1))
printed=$(grep -c '^m[0-9]' "$OUT")
# Remote too: phenixd streams the rows (NDJSON) before the error line, as the embedded shell
# prints them.
if ((printed < 1000 || printed >= 2000)) || [[ "$(tail -1 "$OUT")" > "m2000" ]]; then
    fail "the rows before the failing batch are printed: $printed rows, last $(tail -1 "$OUT")"
fi
phx -c "SELECT id FROM many ORDER BY id;"
expect_rc 0 "a long table"
NUM_CHECKS=$((NUM_CHECKS + 1))
if [[ "$(grep -c '^ id' "$OUT")" != 1 || "$(tail -1 "$OUT")" != "(2500 rows)" ||
      "$(grep -c '^ m' "$OUT")" != 2500 ]]; then
    fail "a long table: one header, 2500 rows, one footer"
    show_output
fi

finish
