#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: entity round trips, edges, scans and tenants (golden output), then the errors
# that writes must report without changing anything.
source "$(dirname "$0")/lib.sh" "$1"

# ---- golden script ----
phx -f "$E2E_DIR/entities.phx"
expect_rc 0 "entities.phx"
expect_out_file "$E2E_DIR/entities.expected" "entities.phx"
expect_empty_err "entities.phx"

# ---- errors ----
DATA="$TMP/errors"
phx -c 'CREATE COLLECTION docs (DIMENSION 4);' \
    -c "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [1, 2, 3, 4], {\"v\": 1});"
expect_rc 0 "setup"

phx -c "INSERT INTO docs (id, vector) VALUES ('d1', [4, 3, 2, 1]);" -c 'CREATE COLLECTION never_created;'
expect_error AlreadyExists "duplicate insert"
expect_err_has "already exists" "duplicate insert"
expect_empty_out "duplicate insert"
phx -c "SELECT * FROM docs WHERE id = 'd1';" -c 'SHOW COLLECTIONS;'
expect_rc 0 "duplicate insert changed nothing"
expect_out_has "[1, 2, 3, 4]" "duplicate insert kept the original vector"
expect_out_lacks "never_created" "execution stopped at the first error"

phx -c "INSERT INTO docs (id, vector) VALUES ('d2', [1, 2, 3]);"
expect_error InvalidArgument "dimension mismatch"
expect_err_has "dimension" "dimension mismatch"
phx -c "INSERT INTO docs (id, vector) VALUES ('d1', [1, 2, 3, 4, 5]) ON CONFLICT (id) DO UPDATE;"
expect_error InvalidArgument "dimension mismatch on upsert"
phx -c "SELECT count(*) FROM docs WHERE id = 'd2';"
expect_out_has " 0" "rejected insert wrote nothing"
phx -c "SELECT * FROM docs WHERE id = 'd1';"
expect_out_has "[1, 2, 3, 4]" "rejected upsert kept the entity"

# Bad values of each column: never written.
for bad in "'d3', [NaN, 1, 2, 3], {}, []" "'d3', [1e999, 1, 2, 3], {}, []" \
           "'d3', ['1', 2, 3, 4], {}, []" "'d3', [1, 2, 3, 4], [1], []" \
           "'d3', [1, 2, 3, 4], {}, [{\"label\": \"x\"}]" "'', [1, 2, 3, 4], {}, []" \
           "NULL, [1, 2, 3, 4], {}, []" "'d3', [1, 2, 3, 4], {\"a\": }, []"; do
    phx -c "INSERT INTO docs (id, vector, metadata, edges) VALUES ($bad);"
    expect_error InvalidArgument "invalid entity: $bad"
done
phx -c "INSERT INTO docs (id, colour) VALUES ('d3', 'red');"
expect_error InvalidArgument "unknown column"
phx -c "INSERT INTO docs (vector) VALUES ([1, 2, 3, 4]);"
expect_error InvalidArgument "no id column"
phx -c 'SELECT count(*) FROM docs;'
expect_out_has " 1" "invalid entities wrote nothing"

phx -c "INSERT INTO docs (id, vector, edges) VALUES ('d4', [1, 2, 3, 4], [{\"label\": \"x\", \"target\": \"missing\"}]);"
expect_error NotFound "edge to a missing entity"

phx -c "UPDATE docs SET metadata = metadata || {\"v\": } WHERE id = 'd1';"
expect_error InvalidArgument "malformed merge"
phx -c "UPDATE docs SET metadata.v = 2 WHERE id = 'nobody';"
expect_rc 0 "update of a missing entity"
expect_out "UPDATE 0" "update of a missing entity changes nothing"
phx -c "UPDATE docs SET metadata = [1, 2] WHERE id = 'd1';"
expect_error InvalidArgument "metadata that is not an object"
phx -c "UPDATE docs SET metadata = {\"v\": [1, 2]} trailing;"
expect_error InvalidArgument "metadata with trailing junk"
phx -c "SELECT metadata FROM docs WHERE id = 'd1';"
expect_out_has '{"v":1}' "failed metadata writes changed nothing"

phx -c "DELETE FROM docs WHERE id = 'nobody';"
expect_rc 0 "delete of a missing entity"
expect_out "DELETE 0" "delete of a missing entity deletes nothing"
phx -c "SELECT * FROM nosuch WHERE id = 'd1';"
expect_error NotFound "missing collection"
phx -c 'CREATE COLLECTION docs;'
expect_error AlreadyExists "duplicate collection"
phx -c 'CREATE COLLECTION "1bad";'
expect_error InvalidArgument "bad collection name"
phx -c 'USE TENANT nobody;'
expect_error NotFound "use of a missing tenant"
phx -c 'CREATE TENANT "default";'
expect_error AlreadyExists "duplicate tenant"

# DESCRIBE shows the entity count and the dimension.
phx -c 'DESCRIBE docs;'
expect_rc 0 "describe"
expect_out_has "primary key; 1 entities" "describe counts entities"
expect_out_has "vector(4)" "describe shows the dimension"

finish
