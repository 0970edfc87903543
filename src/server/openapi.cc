// SPDX-License-Identifier: Apache-2.0
#include "server/openapi.h"

#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/access.h"
#include "server/admin_api.h"

namespace phenix::server {
namespace {

using Json = nlohmann::ordered_json;

// Shared schemas, parameters, headers and error responses. Every response carries
// Phenix-Request-Id; 429 and 503 carry Retry-After.
constexpr std::string_view kComponents = R"json({
  "schemas": {
    "Error": {"type": "object", "additionalProperties": false, "required": ["error"], "properties": {"error": {
      "type": "object", "additionalProperties": false, "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": ["INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS",
          "ABORTED", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED",
          "UNAVAILABLE", "PERMISSION_DENIED", "UNAUTHENTICATED", "DATA_LOSS", "UNIMPLEMENTED",
          "INTERNAL"]},
        "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": false, "properties": {
          "line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1},
          "statement": {"type": "integer", "minimum": 0}, "index": {"type": "integer", "minimum": 0},
          "retryable": {"type": "boolean", "description": "true: the same request may succeed if retried (409 ABORTED, 429, 503)"},
          "quota": {"type": "string", "enum": ["max_entities", "max_bytes", "requests_per_second", "principal_requests_per_second"], "description": "a tenant quota refused the request (403 for max_entities and max_bytes, 429 for the rates; docs/security.md \"Quotas\")"},
          "imported": {"type": "integer", "minimum": 0, "description": "an import: entities written before it stopped"},
          "skipped": {"type": "integer", "minimum": 0}, "skipped_edges": {"type": "integer", "minimum": 0},
          "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ImportLineError"}},
          "existing": {"$ref": "#/components/schemas/Collection"}}}}}}},
    "ImportLineError": {"type": "object", "additionalProperties": false, "required": ["line", "message"], "properties": {
      "line": {"type": "integer", "minimum": 1}, "message": {"type": "string"}}},
    "CollectionName": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$", "maxLength": 64,
      "description": "a letter or '_', then letters, digits, '_' and '-'; at most 64 bytes"},
    "EntityId": {"type": "string", "minLength": 1, "maxLength": 512, "description": "any non-empty UTF-8 string of at most 512 bytes"},
    "IndexPath": {"type": "string",
      "pattern": "^(?:[A-Za-z0-9_$-]+|\"(?:[^\"\\\\]|\\\\[\"\\\\])*\")(?:\\.(?:[A-Za-z0-9_$-]+|\"(?:[^\"\\\\]|\\\\[\"\\\\])*\")){0,15}$",
      "description": "a metadata path: '.'-separated segments, each [A-Za-z0-9_$-]+ or a double-quoted string (escapes \\\" and \\\\); at most 16 segments"},
    "Float32": {"type": "number", "minimum": -3.4028234663852886e38, "maximum": 3.4028234663852886e38},
    "Vector": {"type": "array", "minItems": 1, "maxItems": 16384, "items": {"$ref": "#/components/schemas/Float32"}},
    "Timestamp": {"type": "integer", "minimum": 0, "description": "a commit timestamp (microseconds since the epoch)"},
    "HnswSettings": {"type": "object", "additionalProperties": false, "properties": {
      "m": {"type": "integer", "minimum": 2, "maximum": 128},
      "ef_construction": {"type": "integer", "minimum": 1, "maximum": 10000},
      "ef_search": {"type": "integer", "minimum": 1, "maximum": 10000},
      "quantization": {"type": "string", "enum": ["none", "int8"]}}},
    "Collection": {"type": "object", "additionalProperties": false,
      "required": ["name", "dimension", "metric", "settings", "entities", "created_at_ms"],
      "properties": {"name": {"$ref": "#/components/schemas/CollectionName"},
        "dimension": {"type": ["integer", "null"], "minimum": 1, "maximum": 16384},
        "metric": {"type": "string", "enum": ["l2", "cosine", "ip"]},
        "settings": {"type": "object", "additionalProperties": false, "properties": {"hnsw": {"$ref": "#/components/schemas/HnswSettings"}}},
        "entities": {"type": "integer", "minimum": 0}, "created_at_ms": {"type": "integer", "minimum": 0},
        "vector_index": {"type": "object", "additionalProperties": false,
          "required": ["nodes", "live_nodes", "tail_length", "indexed_timestamp", "checkpoint_timestamp", "m", "ef_construction", "ef_search"],
          "properties": {"nodes": {"type": "integer", "minimum": 0}, "live_nodes": {"type": "integer", "minimum": 0},
            "tail_length": {"type": "integer", "minimum": 0, "description": "rows written but not yet in the HNSW graph"},
            "indexed_timestamp": {"$ref": "#/components/schemas/Timestamp"}, "checkpoint_timestamp": {"$ref": "#/components/schemas/Timestamp"},
            "m": {"type": "integer"}, "ef_construction": {"type": "integer"}, "ef_search": {"type": "integer"},
            "indexing_error": {"type": "string"}}},
        "indexes": {"type": "array", "items": {"type": "object", "additionalProperties": false,
          "required": ["path", "state", "entries", "distinct_values"], "properties": {
            "path": {"type": "string"}, "state": {"type": "string", "enum": ["building", "ready"]},
            "entries": {"type": "integer", "minimum": 0}, "distinct_values": {"type": "integer", "minimum": 0}}}}}},
    "Edge": {"type": "object", "additionalProperties": false, "required": ["label", "target"], "properties": {
      "label": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\u0000-\\u001f\\u007f]+$"},
      "target": {"$ref": "#/components/schemas/EntityId"},
      "weight": {"type": "number", "description": "default 1.0"},
      "properties": {"type": ["object", "null"]},
      "target_collection": {"anyOf": [{"$ref": "#/components/schemas/CollectionName"}, {"const": ""}],
        "description": "the target's collection; absent or \"\": the entity's own"}}},
    "Entity": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {
      "id": {"$ref": "#/components/schemas/EntityId"},
      "vector": {"type": ["array", "null"], "maxItems": 16384, "items": {"$ref": "#/components/schemas/Float32"},
        "description": "its length is the collection's dimension; null or [] for none"},
      "metadata": {"type": ["object", "null"], "description": "null: none"},
      "edges": {"type": ["array", "null"], "maxItems": 10000, "items": {"$ref": "#/components/schemas/Edge"}}}},
    "SearchPlan": {"type": "object", "additionalProperties": false, "required": ["strategy", "execution_ms", "root", "text"], "properties": {
      "strategy": {"type": "string", "description": "the access strategy (docs/server.md, Metrics)"},
      "execution_ms": {"type": "number", "minimum": 0}, "root": {"$ref": "#/components/schemas/PlanNode"},
      "text": {"type": "array", "items": {"type": "string"}, "description": "the plan as EXPLAIN ANALYZE prints it"}}},
    "PlanNode": {"type": "object", "additionalProperties": false, "required": ["operator", "estimated_rows", "details", "children"], "properties": {
      "operator": {"type": "string"}, "strategy": {"type": "string"},
      "estimated_rows": {"type": ["integer", "null"], "minimum": 0}, "actual_rows": {"type": "integer", "minimum": 0},
      "time_ms": {"type": "number", "minimum": 0}, "self_ms": {"type": "number", "minimum": 0}, "not_run": {"type": "string"},
      "details": {"type": "array", "items": {"type": "string"}},
      "children": {"type": "array", "items": {"$ref": "#/components/schemas/PlanNode"}}}},
    "StatementResult": {"type": "object", "additionalProperties": false, "required": ["columns", "rows"], "properties": {
      "columns": {"type": "array", "items": {"type": "string"}},
      "rows": {"type": "array", "items": {"type": "array"}},
      "message": {"type": "string"}, "affected": {"type": "integer", "minimum": 0}}},
    "SearchHit": {"type": "object", "additionalProperties": false,
      "description": "one result; a graph search names the reached entity's fields b.id, b.metadata, ...",
      "properties": {"id": {"type": "string"}, "distance": {"type": "number"}, "metadata": {"type": "object"},
        "vector": {"type": ["array", "null"], "items": {"type": "number"}},
        "b.id": {"type": "string"}, "b.distance": {"type": "number"}, "b.metadata": {"type": "object"},
        "b.vector": {"type": ["array", "null"], "items": {"type": "number"}}}},
    "Permission": {"type": "string", "enum": ["read", "write", "schema", "admin"]},
    "ApiKey": {"type": "object", "additionalProperties": false,
      "required": ["id", "tenant", "roles", "created_by", "created_at_ms", "expires_at_ms", "revoked_at_ms"],
      "properties": {"id": {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "tenant": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}}, "created_by": {"type": "string"},
        "created_at_ms": {"type": "integer"}, "expires_at_ms": {"type": ["integer", "null"]},
        "revoked_at_ms": {"type": ["integer", "null"]}, "key": {"type": "string", "description": "only in the answer that created it"}}},
    "TenantQuota": {"type": "object", "additionalProperties": false, "required": ["max_entities", "max_bytes", "requests_per_second", "principal_requests_per_second"],
      "description": "a tenant's quotas (docs/security.md \"Quotas\"); null: no limit",
      "properties": {"max_entities": {"type": ["integer", "null"], "minimum": 1}, "max_bytes": {"type": ["integer", "null"], "minimum": 1},
        "requests_per_second": {"type": ["integer", "null"], "minimum": 1}, "principal_requests_per_second": {"type": ["integer", "null"], "minimum": 1}}},
    "TenantQuotaState": {"type": "object", "additionalProperties": false, "required": ["tenant", "quota", "usage"], "properties": {
      "tenant": {"type": "string"}, "quota": {"$ref": "#/components/schemas/TenantQuota"},
      "usage": {"type": "object", "additionalProperties": false, "properties": {
        "entities": {"type": "integer", "minimum": 0}, "approximate_bytes": {"type": "integer", "minimum": 0, "description": "RocksDB's estimate, refreshed at most every 2 s"}}}}},
    "KeyRotation": {"type": "object", "additionalProperties": false,
      "required": ["tenant", "state", "from_generation", "to_generation", "payloads_total", "payloads_checked", "payloads_reencrypted", "last_error", "last_error_at"],
      "description": "a tenant's latest data-key rotation (docs/security.md \"Data-key rotation\")",
      "properties": {"tenant": {"type": "string"},
        "state": {"type": "string", "enum": ["none", "re-encrypting", "settling", "finished"], "description": "settling: all payloads re-encrypted; the old key is destroyed once no MVCC version under it can remain"},
        "from_generation": {"type": "integer", "minimum": 0, "maximum": 255}, "to_generation": {"type": "integer", "minimum": 0, "maximum": 255},
        "payloads_total": {"type": "integer", "minimum": 0, "description": "entity records and edge values stored when the pass started"},
        "payloads_checked": {"type": "integer", "minimum": 0}, "payloads_reencrypted": {"type": "integer", "minimum": 0},
        "last_error": {"type": ["string", "null"], "description": "the last failure of the rotation's background work since its last successful step (null when none)"},
        "last_error_at": {"type": ["string", "null"], "description": "when last_error happened, UTC (YYYY-MM-DDTHH:MM:SSZ)"}}},
    "Grant": {"type": "object", "additionalProperties": false, "required": ["role", "permission", "collection"], "properties": {
      "role": {"type": "string"}, "permission": {"$ref": "#/components/schemas/Permission"},
      "collection": {"type": ["string", "null"], "description": "null: the whole tenant"}}},
    "Role": {"type": "object", "additionalProperties": false, "required": ["name", "builtin", "permissions", "grants"], "properties": {
      "name": {"type": "string"}, "builtin": {"type": "boolean"},
      "permissions": {"type": "array", "items": {"$ref": "#/components/schemas/Permission"}, "description": "held on the whole tenant"},
      "grants": {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}}}}
  },
  "parameters": {
    "name": {"name": "name", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/CollectionName"}},
    "id": {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/EntityId"}},
    "path": {"name": "path", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/IndexPath"}},
    "role": {"name": "role", "in": "path", "required": true, "description": "a custom role (the built-in admin, writer and reader cannot be changed)",
      "schema": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$", "maxLength": 64, "not": {"enum": ["admin", "writer", "reader"]}}},
    "txn": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
    "timeout": {"name": "Phenix-Timeout-Ms", "in": "header", "required": false,
      "description": "the request's deadline in milliseconds; past it the request answers 504",
      "schema": {"type": "integer", "minimum": 1, "maximum": 4294967295}},
    "transaction": {"name": "Phenix-Transaction", "in": "header", "required": false,
      "description": "run inside this interactive transaction (POST /v1/transactions)",
      "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
    "tenant": {"name": "Phenix-Tenant", "in": "header", "required": false,
      "description": "run in this tenant (absent: the default tenant); inside a transaction the transaction's own tenant applies",
      "schema": {"$ref": "#/components/schemas/CollectionName"}}
  },
  "securitySchemes": {
    "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
      "description": "a JWT (RS256, ES256, EdDSA; HS256 only where a secret is configured) whose sub, tenant and roles claims name the principal (docs/security.md)"},
    "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "phx_<16 hex id>_<64 hex secret>",
      "description": "an API key made by POST /v1/admin/keys, sent as Authorization: Bearer phx_... (docs/security.md)"}
  },
  "headers": {
    "RequestId": {"required": true, "description": "the request's id, as in the access log (the client's own Phenix-Request-Id when it sent a printable one)",
      "schema": {"type": "string", "minLength": 1}},
    "RetryAfter": {"required": true, "description": "seconds to wait before retrying", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "RetryAfterOptional": {"required": false, "description": "seconds to wait before retrying (sent when the queue is full)", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
  },
  "responses": {
    "Unauthorized": {"description": "no credential, or one that is not valid (the same generic message for every reason)",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}, "WWW-Authenticate": {"required": true, "schema": {"const": "Bearer"}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "BadRequest": {"description": "INVALID_ARGUMENT or FAILED_PRECONDITION: a malformed request, body, header or query; query errors carry details.line and details.column",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Forbidden": {"description": "PERMISSION_DENIED: e.g. a COPY path outside the server's copy directory, or a tenant quota (details.quota) that a write would exceed",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "NotFound": {"description": "NOT_FOUND: the collection, entity, index or transaction does not exist",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Conflict": {"description": "ALREADY_EXISTS, or ABORTED (a transaction conflict: retryable), or FAILED_PRECONDITION (the transaction is busy with another request)",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "PayloadTooLarge": {"description": "RESOURCE_EXHAUSTED: the body is larger than max_body_bytes",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "UnsupportedMediaType": {"description": "INVALID_ARGUMENT: the Content-Type is not JSON",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Unprocessable": {"description": "INVALID_ARGUMENT: valid JSON, but not a valid entity (details.index names it) or merge patch",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "TooManyRequests": {"description": "RESOURCE_EXHAUSTED: this client, or its tenant or principal (details.quota), is over its rate limit (retryable)",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}, "Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "HeadersTooLarge": {"description": "RESOURCE_EXHAUSTED: the request headers are too large",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Internal": {"description": "INTERNAL or DATA_LOSS: the storage failed",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "NotImplemented": {"description": "UNIMPLEMENTED",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Unavailable": {"description": "UNAVAILABLE: the database is still opening, the server is overloaded or shutting down (retryable)",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}, "Retry-After": {"$ref": "#/components/headers/RetryAfterOptional"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Timeout": {"description": "DEADLINE_EXCEEDED: the request's deadline (Phenix-Timeout-Ms, or the server's default) passed",
      "headers": {"Phenix-Request-Id": {"$ref": "#/components/headers/RequestId"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})json";

// One OpenAPI Operation object per "METHOD pattern", with the route's own success and error
// responses. OpenApiDocument adds what every route can answer (see AddCommonResponses), so a
// description lists only what its handler decides. Keep "additionalProperties": false on
// response objects: the schemathesis test (tests/integration/server/schemathesis_test.py) then
// catches a field the document does not describe.
const std::map<std::string, std::string_view, std::less<>>& Operations() {
    static const std::map<std::string, std::string_view, std::less<>> operations = {
        {"GET /health",
         R"json({"operationId": "health",
         "summary": "liveness: 200 while the process runs",
         "responses": {"200": {"description": "the process runs", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["status"], "properties": {"status": {"const": "ok"}}}}}}}})json"},
        {"GET /ready",
         R"json({"operationId": "ready",
         "summary": "readiness: 200 once the database is open, 503 while starting or draining",
         "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["status"], "properties": {"status": {"const": "ready"}}}}}},
           "503": {"$ref": "#/components/responses/Unavailable"}}})json"},
        {"GET /openapi.json",
         R"json({"operationId": "openapi",
         "summary": "this document",
         "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "info", "paths"]}}}},
           "500": {"$ref": "#/components/responses/Internal"}}})json"},
        {"GET /metrics",
         R"json({"operationId": "metrics",
         "summary": "Prometheus metrics (text format 0.0.4; OpenMetrics 1.0 with exemplars when Accept names application/openmetrics-text)",
         "responses": {"200": {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}, "application/openmetrics-text": {"schema": {"type": "string"}}}}}})json"},
        {"POST /v1/query",
         R"json({"operationId": "query",
         "summary": "run PhenixQL statements",
         "parameters": [{"$ref": "#/components/parameters/transaction"}, {"$ref": "#/components/parameters/tenant"}, {"name": "progress", "in": "query", "required": false, "schema": {"type": "string", "enum": ["true", "false"]}, "description": "true: a streamed answer (application/x-ndjson) also carries the progress lines of long statements (COPY, CREATE INDEX, UPDATE, DELETE), {\"statement\":N,\"progress\":\"...\"}; the JSON form ignores it"}],
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["query"], "properties": {"query": {"type": "string", "minLength": 1, "pattern": "[^\\s;]", "description": "one or more PhenixQL statements separated by ';'"}, "params": {"type": ["object", "array", "null"], "description": "{\"name\": value} for $name, or [v1, v2, ...] for $1, $2, ..."}}, "examples": [{"query": "SHOW COLLECTIONS"}]}}}},
         "responses": {"200": {"description": "one statement: its result; several: {results: [...]}", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/StatementResult"}, {"type": "object", "additionalProperties": false, "required": ["results"], "properties": {"results": {"type": "array", "minItems": 2, "items": {"$ref": "#/components/schemas/StatementResult"}}}}]}},
             "application/x-ndjson": {"description": "with Accept: application/x-ndjson: one JSON value per line, sent as the statements run (chunked): {\"statement\":N,\"columns\":[...]}, one [...] per row, {\"statement\":N,\"rows\":R}; {\"statement\":N,\"message\":...,\"affected\":A} for a statement without rows; {\"statement\":N,\"progress\":\"...\"} before a statement's result with ?progress=true; last {\"done\":{\"statements\":S}}, or {\"error\":{\"code\",\"message\",\"statement\",\"line\"?,\"column\"?}} for an error after the first line (docs/server.md); a stream without either was cut off",
               "schema": {"type": "string"}}}},
           "403": {"$ref": "#/components/responses/Forbidden"},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"POST /v1/transactions",
         R"json({"operationId": "beginTransaction",
         "summary": "begin an interactive transaction",
         "parameters": [{"$ref": "#/components/parameters/tenant"}],
         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"read_only": {"type": "boolean"}, "as_of": {"oneOf": [{"$ref": "#/components/schemas/Timestamp"}, {"type": "null"}], "description": "read the database as of this commit timestamp (needs read_only)"}}, "if": {"required": ["as_of"], "properties": {"as_of": {"type": "integer"}}}, "then": {"required": ["read_only"], "properties": {"read_only": {"const": true}}}}}}},
         "responses": {"201": {"description": "begun", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "snapshot": {"$ref": "#/components/schemas/Timestamp"}}}}}, "links": {"Commit": {"operationId": "commitTransaction", "parameters": {"id": "$response.body#/id"}}, "Rollback": {"operationId": "rollbackTransaction", "parameters": {"id": "$response.body#/id"}}, "Query": {"operationId": "query", "parameters": {"header.Phenix-Transaction": "$response.body#/id"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"POST /v1/transactions/{id}/commit",
         R"json({"operationId": "commitTransaction",
         "summary": "commit (409 ABORTED on a conflict: retry the transaction)",
         "parameters": [{"$ref": "#/components/parameters/txn"}],
         "responses": {"200": {"description": "committed", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["timestamp"], "properties": {"timestamp": {"$ref": "#/components/schemas/Timestamp"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"}}})json"},
        {"POST /v1/transactions/{id}/rollback",
         R"json({"operationId": "rollbackTransaction",
         "summary": "roll back",
         "parameters": [{"$ref": "#/components/parameters/txn"}],
         "responses": {"200": {"description": "rolled back", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["rolled_back"], "properties": {"rolled_back": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"}}})json"},
        {"GET /v1/collections",
         R"json({"operationId": "listCollections",
         "summary": "list collections",
         "responses": {"200": {"description": "the collections", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["collections"], "properties": {"collections": {"type": "array", "items": {"$ref": "#/components/schemas/Collection"}}}}}}}}})json"},
        {"PUT /v1/collections/{name}",
         R"json({"operationId": "putCollection",
         "summary": "create a collection (idempotent: 200 if an identical one exists, 409 if a different one does)",
         "parameters": [{"$ref": "#/components/parameters/name"}],
         "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"dimension": {"type": ["integer", "null"], "minimum": 1, "maximum": 16384}, "metric": {"type": "string", "enum": ["l2", "cosine", "ip"]}, "hnsw": {"$ref": "#/components/schemas/HnswSettings"}}, "examples": [{"dimension": 2, "metric": "l2"}]}}}},
         "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}, "links": {"GetCollection": {"operationId": "getCollection", "parameters": {"name": "$response.body#/name"}}, "DeleteCollection": {"operationId": "deleteCollection", "parameters": {"name": "$response.body#/name"}}, "UpsertEntities": {"operationId": "upsertEntities", "parameters": {"name": "$response.body#/name"}}, "PutIndex": {"operationId": "putIndex", "parameters": {"name": "$response.body#/name"}}, "Search": {"operationId": "search", "parameters": {"name": "$response.body#/name"}}}},
           "200": {"description": "an identical collection exists", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}, "links": {"GetCollection": {"operationId": "getCollection", "parameters": {"name": "$response.body#/name"}}, "DeleteCollection": {"operationId": "deleteCollection", "parameters": {"name": "$response.body#/name"}}, "UpsertEntities": {"operationId": "upsertEntities", "parameters": {"name": "$response.body#/name"}}, "PutIndex": {"operationId": "putIndex", "parameters": {"name": "$response.body#/name"}}, "Search": {"operationId": "search", "parameters": {"name": "$response.body#/name"}}}},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
        {"GET /v1/collections/{name}",
         R"json({"operationId": "getCollection",
         "summary": "a collection with its index state",
         "parameters": [{"$ref": "#/components/parameters/name"}],
         "responses": {"200": {"description": "the collection", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"DELETE /v1/collections/{name}",
         R"json({"operationId": "deleteCollection",
         "summary": "drop a collection",
         "parameters": [{"$ref": "#/components/parameters/name"}],
         "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"PUT /v1/collections/{name}/indexes/{path}",
         R"json({"operationId": "putIndex",
         "summary": "create a metadata index (returns when it is ready)",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/path"}],
         "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["collection", "path"], "properties": {"collection": {"type": "string"}, "path": {"type": "string"}}}}}, "links": {"DeleteIndex": {"operationId": "deleteIndex", "parameters": {"name": "$response.body#/collection", "path": "$response.body#/path"}}}},
           "200": {"description": "it existed", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["collection", "path"], "properties": {"collection": {"type": "string"}, "path": {"type": "string"}}}}}, "links": {"DeleteIndex": {"operationId": "deleteIndex", "parameters": {"name": "$response.body#/collection", "path": "$response.body#/path"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"}}})json"},
        {"DELETE /v1/collections/{name}/indexes/{path}",
         R"json({"operationId": "deleteIndex",
         "summary": "drop a metadata index",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/path"}],
         "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"POST /v1/collections/{name}/entities",
         R"json({"operationId": "upsertEntities",
         "summary": "upsert entities atomically",
         "parameters": [{"$ref": "#/components/parameters/name"}],
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["entities"], "properties": {"entities": {"type": "array", "items": {"$ref": "#/components/schemas/Entity"}}}, "examples": [{"entities": [{"id": "e1", "metadata": {"color": "red", "n": 1}}]}]}}}},
         "responses": {"200": {"description": "written", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["upserted", "timestamp"], "properties": {"upserted": {"type": "integer", "minimum": 0}, "timestamp": {"$ref": "#/components/schemas/Timestamp"}}}}}, "links": {"GetEntity": {"operationId": "getEntity", "parameters": {"name": "$request.path.name", "id": "$request.body#/entities/0/id"}}, "PatchEntity": {"operationId": "patchEntity", "parameters": {"name": "$request.path.name", "id": "$request.body#/entities/0/id"}}, "DeleteEntity": {"operationId": "deleteEntity", "parameters": {"name": "$request.path.name", "id": "$request.body#/entities/0/id"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
           "422": {"$ref": "#/components/responses/Unprocessable"}}})json"},
        {"GET /v1/collections/{name}/entities/{id}",
         R"json({"operationId": "getEntity",
         "summary": "an entity",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}, {"name": "include", "in": "query", "required": false, "schema": {"type": "string", "enum": ["vector"]}}],
         "responses": {"200": {"description": "the entity", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Entity"}}}},
           "404": {"$ref": "#/components/responses/NotFound"}}})json"},
        {"PATCH /v1/collections/{name}/entities/{id}",
         R"json({"operationId": "patchEntity",
         "summary": "merge-patch an entity's metadata (RFC 7386)",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}],
         "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}}}},
         "responses": {"200": {"description": "the patched entity", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Entity"}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
           "422": {"$ref": "#/components/responses/Unprocessable"}}})json"},
        {"DELETE /v1/collections/{name}/entities/{id}",
         R"json({"operationId": "deleteEntity",
         "summary": "delete an entity and its edges",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}],
         "responses": {"200": {"description": "deleted", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["deleted"], "properties": {"deleted": {"type": "string"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"}}})json"},
        {"POST /v1/collections/{name}/import",
         R"json({"operationId": "importEntities",
         "summary": "bulk-load entities from NDJSON (COPY's line format), streamed: the body is never held whole; not atomic (see docs/server.md)",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/tenant"},
           {"name": "on_error", "in": "query", "required": false, "description": "abort (the default): stop at the first bad line, keeping the lines before it; skip: skip bad lines", "schema": {"type": "string", "enum": ["abort", "skip"]}}],
         "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string", "description": "one JSON entity per line, in the shape of POST /v1/collections/{name}/entities' entities (the pattern shows the smallest form: one line with an id)", "pattern": "^(\\{\"id\": \"[a-z0-9]{1,16}\"\\}\\n)?$"}, "examples": {"two": {"value": "{\"id\": \"e1\"}\n{\"id\": \"e2\", \"metadata\": {\"n\": 2}}\n"}}}}},
         "responses": {"200": {"description": "loaded", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["imported", "skipped", "skipped_edges", "errors", "timestamp"], "properties": {
             "imported": {"type": "integer", "minimum": 0}, "skipped": {"type": "integer", "minimum": 0}, "skipped_edges": {"type": "integer", "minimum": 0},
             "errors": {"type": "array", "maxItems": 10, "items": {"$ref": "#/components/schemas/ImportLineError"}}, "timestamp": {"$ref": "#/components/schemas/Timestamp"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
           "422": {"$ref": "#/components/responses/Unprocessable"}}})json"},
        {"POST /v1/collections/{name}/search",
         R"json({"operationId": "search",
         "summary": "nearest neighbours (the JSON query form)",
         "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/transaction"}, {"$ref": "#/components/parameters/tenant"}],
         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"vector": {"$ref": "#/components/schemas/Vector"}, "k": {"type": "integer", "minimum": 1, "maximum": 10000}, "metric": {"type": "string", "enum": ["l2", "cosine", "ip"]}, "filter": {"type": "object", "description": "the JSON filter form (docs/json-query.md)"}, "graph": {"type": "object", "additionalProperties": false, "required": ["from"], "properties": {"from": {"type": "string", "minLength": 1}, "label": {"type": "string", "minLength": 1}, "direction": {"type": "string", "enum": ["out", "in", "both"]}, "min_hops": {"type": "integer", "minimum": 0, "maximum": 1000}, "max_hops": {"type": "integer", "minimum": 0, "maximum": 1000}}}, "ef": {"type": "integer", "minimum": 1, "maximum": 100000}, "include": {"type": "array", "items": {"type": "string", "enum": ["metadata", "vector", "distance", "id"]}}, "explain": {"type": "boolean", "description": "also answer the plan that ran (EXPLAIN ANALYZE's, structured)"}}, "dependentRequired": {"metric": ["vector"], "ef": ["vector"]}}}}},
         "responses": {"200": {"description": "the results, nearest first; with explain, the plan", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["results"], "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}}, "plan": {"$ref": "#/components/schemas/SearchPlan"}}}}}},
           "404": {"$ref": "#/components/responses/NotFound"},
           "409": {"$ref": "#/components/responses/Conflict"},
           "415": {"$ref": "#/components/responses/UnsupportedMediaType"}}})json"},
    };
    return operations;
}

void AddResponse(Json& responses, std::string_view status, std::string_view component) {
    if (!responses.contains(status)) {
        responses[std::string(status)] = {
            {"$ref", "#/components/responses/" + std::string(component)}};
    }
}

// The statuses any route can answer besides its handler's: a malformed request or header (400),
// a body or headers over the limits (413, 431); on worker routes the rate limit (429), a full
// queue (503) and the deadline (504); on /v1 routes a database still opening (503) and storage
// failures (500). Responses written inline get the Phenix-Request-Id header.
void AddCommonResponses(const Route& route, Json& operation) {
    Json& responses = operation["responses"];
    for (auto& [status, response] : responses.items()) {
        if (!response.contains("$ref") && !response.contains("headers")) {
            response["headers"] = {
                {"Phenix-Request-Id", {{"$ref", "#/components/headers/RequestId"}}}};
        }
    }
    AddResponse(responses, "400", "BadRequest");
    AddResponse(responses, "413", "PayloadTooLarge");
    AddResponse(responses, "431", "HeadersTooLarge");
    if (!route.options.inline_handler) {
        AddResponse(responses, "429", "TooManyRequests");
        AddResponse(responses, "503", "Unavailable");
        AddResponse(responses, "504", "Timeout");
    }
    if (route.pattern.starts_with("/v1/")) {
        AddResponse(responses, "500", "Internal");
    }
    // Last: adding a key to an ordered_json object invalidates `responses`.
    if (!route.options.inline_handler) {
        Json& parameters = operation["parameters"];
        if (!parameters.is_array()) {
            parameters = Json::array();
        }
        parameters.push_back({{"$ref", "#/components/parameters/timeout"}});
    }
}

}  // namespace

Result<std::string> OpenApiDocument(const Router& router, bool auth_required) {
    Json document = {{"openapi", "3.1.0"},
                     {"info",
                      {{"title", "Phenix DB"},
                       {"version", "1"},
                       {"description", "phenixd's REST/JSON API (docs/server.md)"}}}};
    Json paths = Json::object();
    for (const Route& route : router.routes()) {
        const std::string key = route.method + " " + route.pattern;
        std::string_view text;
        if (auto it = Operations().find(key); it != Operations().end()) {
            text = it->second;
        } else if (auto admin = AdminOperations().find(key); admin != AdminOperations().end()) {
            text = admin->second;
        } else {
            return Status::Internal("the OpenAPI document does not describe " + key);
        }
        Json operation = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (operation.is_discarded()) {
            return Status::Internal("the OpenAPI description of " + key + " is not valid JSON");
        }
        std::string method = route.method;
        for (char& ch : method) {
            ch = static_cast<char>(ch - 'A' + 'a');
        }
        AddCommonResponses(route, operation);
        if (auth_required) {
            // What the enforcement point asks (server/access.h): nothing on open routes, one of
            // the two credentials everywhere else (401 without, 403 without the permission).
            const AccessRule* rule = FindRouteRule(route.method, route.pattern);
            Json security = Json::array();
            if (rule == nullptr || rule->scope != AccessScope::kOpen) {
                for (std::string_view scheme : {"bearerJwt", "apiKey"}) {
                    Json requirement = Json::object();
                    requirement[std::string(scheme)] = Json::array();
                    security.push_back(std::move(requirement));
                }
                AddResponse(operation["responses"], "401", "Unauthorized");
                AddResponse(operation["responses"], "403", "Forbidden");
            }
            operation["security"] = std::move(security);
        }
        paths[route.pattern][method] = std::move(operation);
    }
    document["paths"] = std::move(paths);
    Json components = Json::parse(kComponents, nullptr, /*allow_exceptions=*/false);
    if (components.is_discarded()) {
        return Status::Internal("the OpenAPI components are not valid JSON");
    }
    document["components"] = std::move(components);
    return document.dump();
}

}  // namespace phenix::server
