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
phx -c 'create collection docs dim 4' \
    -c 'insert docs {"id":"d1","vector":[1,2,3,4],"metadata":{"v":1}}'
expect_rc 0 "setup"

phx -c 'insert docs {"id":"d1","vector":[4,3,2,1]}' -c 'create collection never_created'
expect_error AlreadyExists "duplicate insert"
expect_err_has "already exists" "duplicate insert"
expect_empty_out "duplicate insert"
phx -c 'get docs d1' -c 'collections'
expect_rc 0 "duplicate insert changed nothing"
expect_out_has "[1, 2, 3, 4]" "duplicate insert kept the original vector"
expect_out_lacks "never_created" "execution stopped at the first error"

phx -c 'insert docs {"id":"d2","vector":[1,2,3]}'
expect_error InvalidArgument "dimension mismatch"
expect_err_has "dimension" "dimension mismatch"
phx -c 'upsert docs {"id":"d1","vector":[1,2,3,4,5]}'
expect_error InvalidArgument "dimension mismatch on upsert"
phx -c 'get docs d2'
expect_error NotFound "rejected insert wrote nothing"
phx -c 'get docs d1'
expect_out_has "[1, 2, 3, 4]" "rejected upsert kept the entity"

for bad in '{"id":"d3","vector":[NaN,1,2,3]}' '{"id":"d3","vector":[Infinity,1,2,3]}' \
           '{"id":"d3","vector":[1e999,1,2,3]}' '{"id":"d3","vector":[1,2,3' '{"id":"d3",}' \
           '{"id":"d3","vector":["1",2,3,4]}' '{"id":"d3","colour":"red"}' '{"vector":[1,2,3,4]}' \
           '{"id":"d3","metadata":[1]}' '{"id":"d3","edges":[{"label":"x"}]}' '{"id":""}'; do
    phx -c "insert docs $bad"
    expect_error InvalidArgument "invalid entity JSON: $bad"
done
phx -c 'scan docs'
expect_out_has "(1 row)" "invalid entities wrote nothing"

phx -c 'insert docs {"id":"d4","vector":[1,2,3,4],"edges":[{"label":"x","target":"missing"}]}'
expect_error NotFound "edge to a missing entity"

phx -c 'patch docs d1 {"v":' 
expect_error InvalidArgument "malformed merge patch"
phx -c 'patch docs nobody {"v":2}'
expect_error NotFound "patch of a missing entity"
phx -c 'set-metadata docs d1 {"v":[1,2]} trailing'
expect_error InvalidArgument "metadata with trailing junk"
phx -c 'get docs d1'
expect_out_has '{"v":1}' "failed metadata writes changed nothing"

phx -c 'delete docs nobody'
expect_error NotFound "delete of a missing entity"
phx -c 'get nosuch d1'
expect_error NotFound "missing collection"
phx -c 'create collection docs'
expect_error AlreadyExists "duplicate collection"
phx -c 'create collection 1bad'
expect_error InvalidArgument "bad collection name"
phx -c 'use tenant nobody'
expect_error NotFound "use of a missing tenant"
phx -c 'create tenant default'
expect_error AlreadyExists "duplicate tenant"

# describe shows the entity count.
phx -c 'describe docs'
expect_rc 0 "describe"
expect_out_has " entities      | 1" "describe counts entities"
expect_out_has " dimension     | 4" "describe shows the dimension"

finish
