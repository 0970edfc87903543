// SPDX-License-Identifier: Apache-2.0
#include "server/openapi.h"

#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

namespace phenix::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kComponents = R"json({
  "schemas": {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
      "type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": ["INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS",
          "ABORTED", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED",
          "UNAVAILABLE", "PERMISSION_DENIED", "UNAUTHENTICATED", "DATA_LOSS", "UNIMPLEMENTED",
          "INTERNAL"]},
        "message": {"type": "string"},
        "details": {"type": "object", "properties": {
          "line": {"type": "integer"}, "column": {"type": "integer"},
          "statement": {"type": "integer"}, "index": {"type": "integer"},
          "retryable": {"type": "boolean"}, "imported": {"type": "integer"}, "skipped": {"type": "integer"},
          "skipped_edges": {"type": "integer"}, "errors": {"type": "array", "items": {"type": "object"}}}}}}}},
    "Collection": {"type": "object", "required": ["name", "dimension", "metric", "settings", "entities", "created_at_ms"],
      "properties": {"name": {"type": "string"}, "dimension": {"type": ["integer", "null"]},
        "metric": {"type": "string", "enum": ["l2", "cosine", "ip"]}, "settings": {"type": "object"},
        "entities": {"type": "integer"}, "created_at_ms": {"type": "integer"},
        "vector_index": {"type": "object"}, "indexes": {"type": "array", "items": {"type": "object"}}}},
    "Edge": {"type": "object", "required": ["label", "target"], "properties": {
      "label": {"type": "string"}, "target": {"type": "string"}, "weight": {"type": "number"},
      "properties": {"type": "object"}, "target_collection": {"type": "string"}}},
    "Entity": {"type": "object", "required": ["id"], "properties": {
      "id": {"type": "string"}, "vector": {"type": ["array", "null"], "items": {"type": "number"}},
      "metadata": {"type": "object"}, "edges": {"type": "array", "items": {"$ref": "#/components/schemas/Edge"}}}},
    "StatementResult": {"type": "object", "required": ["columns", "rows"], "properties": {
      "columns": {"type": "array", "items": {"type": "string"}},
      "rows": {"type": "array", "items": {"type": "array"}},
      "message": {"type": "string"}, "affected": {"type": "integer"}}}
  },
  "parameters": {
    "name": {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
    "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
    "path": {"name": "path", "in": "path", "required": true, "schema": {"type": "string"}},
    "txn": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
    "timeout": {"name": "Phenix-Timeout-Ms", "in": "header", "required": false, "schema": {"type": "integer", "minimum": 1}},
    "transaction": {"name": "Phenix-Transaction", "in": "header", "required": false, "schema": {"type": "string"}},
    "tenant": {"name": "Phenix-Tenant", "in": "header", "required": false, "description": "the tenant the request's session starts in (absent: the default tenant); ignored inside a transaction", "schema": {"type": "string"}}
  },
  "responses": {
    "Error": {"description": "an error (docs/server.md, Requests and errors)",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  }
})json";

// One OpenAPI Operation object per "METHOD pattern"; "default" covers every error status.
const std::map<std::string, std::string_view, std::less<>>& Operations() {
    static const std::map<std::string, std::string_view, std::less<>> operations = {
        {"GET /health",
         R"json({"summary": "liveness", "responses": {"200": {"description": "the process runs",
           "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}}})json"},
        {"GET /ready",
         R"json({"summary": "readiness: 200 once the database is open, 503 while starting or draining",
           "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                         "503": {"$ref": "#/components/responses/Error"}}})json"},
        {"GET /openapi.json",
         R"json({"summary": "this document", "responses": {"200": {"description": "OpenAPI 3.1",
           "content": {"application/json": {"schema": {"type": "object"}}}}}})json"},
        {"GET /metrics",
         R"json({"summary": "Prometheus metrics (text format 0.0.4)", "responses": {"200": {"description": "the metrics",
           "content": {"text/plain": {"schema": {"type": "string"}}}}}})json"},
        {"POST /v1/query",
         R"json({"summary": "run PhenixQL statements", "parameters": [{"$ref": "#/components/parameters/timeout"}, {"$ref": "#/components/parameters/transaction"}, {"$ref": "#/components/parameters/tenant"},
             {"name": "Accept", "in": "header", "required": false, "description": "application/x-ndjson: stream the rows as NDJSON lines", "schema": {"type": "string"}}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["query"],
             "additionalProperties": false, "properties": {"query": {"type": "string"}, "params": {"type": ["object", "array"]}}}}}},
           "responses": {"200": {"description": "one statement: its result; several: {results: [...]}", "content": {"application/json": {"schema":
             {"oneOf": [{"$ref": "#/components/schemas/StatementResult"}, {"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/StatementResult"}}}}]}},
             "application/x-ndjson": {"description": "with Accept: application/x-ndjson: one JSON value per line, streamed as the statements run (chunked): {\"statement\":N,\"columns\":[...]}, one [...] per row, {\"statement\":N,\"rows\":R}; {\"statement\":N,\"message\":...,\"affected\":A} for a statement without rows; last {\"done\":{\"statements\":S}} or {\"error\":{\"code\",\"message\",\"statement\",\"line\"?,\"column\"?}} (docs/server.md, Streaming rows)",
               "schema": {"type": "string"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/transactions", R"json({"summary": "begin an interactive transaction",
           "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
             "properties": {"read_only": {"type": "boolean"}, "as_of": {"type": ["integer", "null"], "minimum": 0}}}}}},
           "responses": {"201": {"description": "begun", "content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/transactions/{id}/commit",
         R"json({"summary": "commit (409 ABORTED on a conflict: retry the transaction)", "parameters": [{"$ref": "#/components/parameters/txn"}],
           "responses": {"200": {"description": "committed", "content": {"application/json": {"schema": {"type": "object", "required": ["timestamp"], "properties": {"timestamp": {"type": "integer"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/transactions/{id}/rollback",
         R"json({"summary": "roll back", "parameters": [{"$ref": "#/components/parameters/txn"}],
           "responses": {"200": {"description": "rolled back", "content": {"application/json": {"schema": {"type": "object", "properties": {"rolled_back": {"type": "string"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"GET /v1/collections",
         R"json({"summary": "list collections", "responses": {"200": {"description": "the collections",
           "content": {"application/json": {"schema": {"type": "object", "required": ["collections"], "properties": {"collections": {"type": "array", "items": {"$ref": "#/components/schemas/Collection"}}}}}}},
           "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"PUT /v1/collections/{name}",
         R"json({"summary": "create a collection (idempotent)", "parameters": [{"$ref": "#/components/parameters/name"}],
           "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
             "dimension": {"type": ["integer", "null"], "minimum": 1}, "metric": {"type": "string", "enum": ["l2", "cosine", "ip"]}, "hnsw": {"type": "object"}}}}}},
           "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
             "200": {"description": "an identical collection exists", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"GET /v1/collections/{name}",
         R"json({"summary": "a collection with its index state", "parameters": [{"$ref": "#/components/parameters/name"}],
           "responses": {"200": {"description": "the collection", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"DELETE /v1/collections/{name}",
         R"json({"summary": "drop a collection", "parameters": [{"$ref": "#/components/parameters/name"}],
           "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "properties": {"dropped": {"type": "string"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"PUT /v1/collections/{name}/indexes/{path}",
         R"json({"summary": "create a metadata index (returns when ready)", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/path"}, {"$ref": "#/components/parameters/timeout"}],
           "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"type": "object"}}}},
             "200": {"description": "it existed", "content": {"application/json": {"schema": {"type": "object"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"DELETE /v1/collections/{name}/indexes/{path}",
         R"json({"summary": "drop a metadata index", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/path"}],
           "responses": {"200": {"description": "dropped", "content": {"application/json": {"schema": {"type": "object", "properties": {"dropped": {"type": "string"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/collections/{name}/entities",
         R"json({"summary": "upsert entities atomically", "parameters": [{"$ref": "#/components/parameters/name"}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["entities"], "additionalProperties": false,
             "properties": {"entities": {"type": "array", "items": {"$ref": "#/components/schemas/Entity"}}}}}}},
           "responses": {"200": {"description": "written", "content": {"application/json": {"schema": {"type": "object", "required": ["upserted", "timestamp"],
             "properties": {"upserted": {"type": "integer"}, "timestamp": {"type": "integer"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"GET /v1/collections/{name}/entities/{id}",
         R"json({"summary": "an entity", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"},
             {"name": "include", "in": "query", "required": false, "schema": {"type": "string", "enum": ["vector"]}}],
           "responses": {"200": {"description": "the entity", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Entity"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"PATCH /v1/collections/{name}/entities/{id}",
         R"json({"summary": "merge-patch an entity's metadata (RFC 7386)", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}],
           "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}}}},
           "responses": {"200": {"description": "the patched entity", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Entity"}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"DELETE /v1/collections/{name}/entities/{id}",
         R"json({"summary": "delete an entity and its edges", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/id"}],
           "responses": {"200": {"description": "deleted", "content": {"application/json": {"schema": {"type": "object", "properties": {"deleted": {"type": "string"}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/collections/{name}/import",
         R"json({"summary": "bulk-load NDJSON entities (COPY's line format), streamed: the body is never held whole", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/timeout"}, {"$ref": "#/components/parameters/tenant"},
             {"name": "on_error", "in": "query", "required": false, "schema": {"type": "string", "enum": ["abort", "skip"], "default": "abort"}}],
           "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
           "responses": {"200": {"description": "loaded", "content": {"application/json": {"schema": {"type": "object", "required": ["imported", "skipped", "errors", "timestamp"], "properties": {
             "imported": {"type": "integer"}, "skipped": {"type": "integer"}, "skipped_edges": {"type": "integer"}, "timestamp": {"type": "integer"},
             "errors": {"type": "array", "items": {"type": "object", "required": ["line", "message"], "properties": {"line": {"type": "integer"}, "message": {"type": "string"}}}}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
        {"POST /v1/collections/{name}/search",
         R"json({"summary": "nearest neighbours (the JSON query form)", "parameters": [{"$ref": "#/components/parameters/name"}, {"$ref": "#/components/parameters/timeout"}, {"$ref": "#/components/parameters/transaction"}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["vector", "k"], "properties": {
             "vector": {"type": "array", "items": {"type": "number"}}, "k": {"type": "integer", "minimum": 1}, "metric": {"type": "string"},
             "filter": {"type": "object"}, "graph": {"type": "object"}, "ef": {"type": "integer"}, "include": {"type": "array", "items": {"type": "string"}}}}}}},
           "responses": {"200": {"description": "the results, nearest first", "content": {"application/json": {"schema": {"type": "object", "required": ["results"], "properties": {
             "results": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "distance": {"type": "number"}, "metadata": {"type": "object"}, "vector": {"type": "array"}}}}}}}}},
             "default": {"$ref": "#/components/responses/Error"}}})json"},
    };
    return operations;
}

}  // namespace

Result<std::string> OpenApiDocument(const Router& router) {
    Json document = {{"openapi", "3.1.0"},
                     {"info",
                      {{"title", "Phenix DB"},
                       {"version", "1"},
                       {"description", "phenixd's REST/JSON API (docs/server.md)"}}}};
    Json paths = Json::object();
    for (const Route& route : router.routes()) {
        const std::string key = route.method + " " + route.pattern;
        auto it = Operations().find(key);
        if (it == Operations().end()) {
            return Status::Internal("the OpenAPI document does not describe " + key);
        }
        Json operation = Json::parse(it->second, nullptr, /*allow_exceptions=*/false);
        if (operation.is_discarded()) {
            return Status::Internal("the OpenAPI description of " + key + " is not valid JSON");
        }
        std::string method = route.method;
        for (char& ch : method) {
            ch = static_cast<char>(ch - 'A' + 'a');
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
