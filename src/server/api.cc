// SPDX-License-Identifier: Apache-2.0
#include "server/api.h"

#include <algorithm>
#include <any>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/json.h>
#include <phenix/phenixql.h>

#include "query/row_eval.h"
#include "server/admin_api.h"
#include "server/errors.h"
#include "server/json_body.h"
#include "server/json_scan.h"
#include "server/ndjson.h"
#include "server/openapi.h"
#include "server/service.h"
#include "server/slow_query_log.h"
#include "server/tracing.h"

namespace phenix::server {
namespace {

using Json = nlohmann::json;
using json_body::CheckFields;
using json_body::CheckJsonContentType;
using json_body::ParseBody;
using json_body::RequireObject;

HttpResponse JsonResponse(unsigned status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

std::string Dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A non-negative integer in `json`; JSON has one number type, so an integral float (3.0) is
// one too (JSON Schema, and so the OpenAPI document, reads it so).
std::optional<std::uint64_t> UnsignedOf(const Json& json) {
    if (json.is_number_unsigned()) {
        return json.get<std::uint64_t>();
    }
    if (json.is_number_float()) {
        const double value = json.get<double>();
        if (value >= 0 && value < 18446744073709551616.0 && std::trunc(value) == value) {
            return static_cast<std::uint64_t>(value);
        }
    }
    return std::nullopt;
}

// A failed engine call that ran under the request's deadline: a Cancelled caused by the
// deadline is 504, by the client going away 499.
HttpResponse EngineError(const Status& status, const RequestContext& context,
                         std::string_view extra_details = {}) {
    if (status.code() == StatusCode::kCancelled && context.DeadlinePassed()) {
        return ErrorResponse(
            Status(StatusCode::kDeadlineExceeded,
                   "the request deadline (Phenix-Timeout-Ms) passed: " + status.message()),
            0, extra_details);
    }
    return ErrorResponse(status, 0, extra_details);
}

HttpResponse DeadlineResponse() {
    return ErrorResponse(Status(StatusCode::kDeadlineExceeded,
                                "the request deadline (Phenix-Timeout-Ms) passed before it ran"));
}

// The database for a /v1 route, or a 503 until it is open. (While draining, requests already
// accepted still run: the listener, not the handlers, stops new work.)
Database* OpenDatabase(ApiState& state, std::optional<HttpResponse>& error) {
    Database* db = state.db.load();
    if (db == nullptr) {
        error = ErrorResponse(Status::Unavailable("the database is still opening; retry shortly"));
    }
    return db;
}

// ---------------------------------------------------------------- sessions

// The tenant a request acts in (the enforcement point set request.tenant: the principal's, or
// for a cluster administrator Phenix-Tenant's); the default tenant when none.
std::string TenantOf(const HttpRequest& request) {
    return request.tenant.empty() ? std::string(kDefaultTenant) : request.tenant;
}

CollectionRef RefOf(const HttpRequest& request, const std::string& name) {
    return CollectionRef(TenantOf(request), name);
}

// The tenant's quotas for a write that adds up to `adding` entities (server/quota.h): the 403
// response when it would exceed one.
std::optional<HttpResponse> CheckQuota(ApiState& state, const HttpRequest& request,
                                       std::uint64_t adding) {
    if (state.quotas == nullptr) {
        return std::nullopt;
    }
    Status within =
        state.quotas->CheckWrite(TenantOf(request), adding, QuotaEnforcer::Clock::now());
    if (!within.ok()) {
        return ErrorResponse(within);
    }
    return std::nullopt;
}

// The owner an interactive transaction is bound to (server/access.h's OwnerKey).
std::string OwnerOf(const ApiState& state, const RequestContext& context) {
    return state.access != nullptr && context.principal != nullptr
               ? state.access->OwnerKey(*context.principal)
               : std::string();
}

// The session a request runs in: its interactive transaction's (Phenix-Transaction), or a
// fresh one for this request alone.
struct RequestSession {
    std::optional<TransactionRegistry::Lease> lease;
    std::unique_ptr<QuerySession> own;
    QuerySession* session = nullptr;
    // The slow-query log's watch over the statements (server/slow_query_log.h), when it is on:
    // the session's execution observer, passing calls on to the request's trace.
    std::unique_ptr<SlowQueryWatch> slow_watch;
    // Declared last, so destroyed first: takes the request's observer off the session (a
    // transaction's session outlives the request) before the lease goes back.
    std::shared_ptr<void> observer_reset;

    // Runs one statement (its rows into `sink` when given), watched by the slow-query log when
    // it is on.
    Result<QueryResult> Execute(std::size_t statement_index, const std::string& statement,
                                const QueryParams& params, RowSink* sink = nullptr) {
        return RunWatched(slow_watch.get(), *session, statement_index, statement, params, [&] {
            return sink != nullptr ? session->Execute(statement, *sink, params)
                                   : session->Execute(statement, params);
        });
    }
};

// The tenant a request names in Phenix-Tenant (the default tenant when absent): NotFound for one
// that does not exist, as USE TENANT says.
std::optional<HttpResponse> CheckTenant(Database& db, const std::string& tenant) {
    if (tenant.empty() || tenant == kDefaultTenant) {
        return std::nullopt;
    }
    auto tenants = db.ListTenants();
    if (!tenants.ok()) {
        return ErrorResponse(tenants.status());
    }
    if (std::find(tenants->begin(), tenants->end(), tenant) == tenants->end()) {
        return ErrorResponse(Status::NotFound("tenant '" + tenant +
                                              "' (Phenix-Tenant) does not exist (CREATE TENANT "
                                              "creates it; SHOW TENANTS lists them)"));
    }
    return std::nullopt;
}

std::optional<HttpResponse> OpenSession(ApiState& state, Database& db, const HttpRequest& request,
                                        RequestContext& context, RequestSession& out) {
    // Inside an interactive transaction the transaction's session keeps its own tenant (set at
    // BEGIN, changed by USE TENANT in it); Phenix-Tenant applies to the other requests.
    if (!request.transaction.empty()) {
        auto lease = state.transactions->Acquire(request.transaction, OwnerOf(state, context));
        if (!lease.ok()) {
            // A transaction busy with another request is a conflict of this request (409).
            return ErrorResponse(
                lease.status(), lease.status().code() == StatusCode::kFailedPrecondition ? 409 : 0);
        }
        out.lease.emplace(std::move(*lease));
        out.session = &out.lease->session();
    } else {
        if (auto error = CheckTenant(db, request.tenant)) {
            return error;
        }
        out.own = std::make_unique<QuerySession>(
            db, request.tenant.empty() ? std::string(kDefaultTenant) : request.tenant);
        out.own->set_copy_directory(state.copy_directory);
        if (state.security != nullptr) {
            out.own->set_security_admin(
                MakeSecurityAdmin(db, *state.security, CallerOf(request, context)));
        }
        out.session = out.own.get();
    }
    out.session->set_interrupt(context.Interrupt());
    // Every statement is authorized before it runs (server/access.h).
    if (state.access != nullptr && context.principal != nullptr) {
        state.access->GuardSession(*out.session, context.principal, request.request_id,
                                   request.client);
    }
    // Tracing (server/tracing.h): the statements' stages and plans become spans of the request.
    ExecutionObserver* observer = request.trace.get();
    // The slow-query log watches the statements, and takes the plans of slow ones.
    if (state.slow_queries != nullptr && state.slow_queries->enabled()) {
        out.slow_watch = std::make_unique<SlowQueryWatch>(
            *state.slow_queries,
            SlowQueryRequest{
                .request_id = request.request_id,
                .route = request.path,
                .client = request.client,
                .principal = context.principal != nullptr ? context.principal->subject : "",
                .trace_id = request.trace != nullptr ? request.trace->TraceId() : "",
                .span_id = request.trace != nullptr ? request.trace->RootSpanId() : ""},
            observer);
        observer = out.slow_watch.get();
    }
    out.session->set_execution_observer(observer);
    if (observer != nullptr) {
        out.observer_reset = std::shared_ptr<void>(
            nullptr, [session = out.session](void*) { session->set_execution_observer(nullptr); });
    }
    // Latency by plan strategy (/metrics), for every statement the request runs.
    if (Metrics* metrics = state.metrics; metrics != nullptr) {
        out.session->set_statement_observer(
            [metrics](std::string_view strategy, double seconds, bool ok) {
                if (ok) {
                    metrics->RecordStatement(strategy, seconds);
                }
            });
    }
    return std::nullopt;
}

// ---------------------------------------------------------------- query results

std::string ResultJson(const QueryResult& result) {
    std::string out = "{\"columns\":[";
    for (std::size_t col = 0; col < result.columns.size(); ++col) {
        out += (col == 0 ? "" : ",") + JsonQuote(result.columns[col]);
    }
    out += "],\"rows\":[";
    for (std::size_t row_idx = 0; row_idx < result.rows.size(); ++row_idx) {
        out += row_idx == 0 ? "[" : ",[";
        const std::vector<QueryValue>& row = result.rows[row_idx];
        for (std::size_t col = 0; col < row.size(); ++col) {
            out += (col == 0 ? "" : ",") + row[col].ToJson();
        }
        out += "]";
    }
    out += "]";
    if (!result.has_rows) {
        out += ",\"message\":" + JsonQuote(result.message) +
               ",\"affected\":" + std::to_string(result.affected);
    }
    return out + "}";
}

// POST /v1/query with Accept: application/x-ndjson: the statements run on this worker after the
// handler returns, their lines written as rows come (server/ndjson.h). An error before the first
// line is an ordinary error response; after it, an error line ends the stream. With
// `with_progress` (?progress=true) the session's progress lines (COPY, CREATE INDEX, UPDATE, ...)
// are written too, as they come (decision 0032).
HttpResponse StreamQuery(const ApiState& state, RequestSession request_session,
                         std::vector<std::string> statements, QueryParams params,
                         RequestContext& context, bool with_progress) {
    HttpResponse response;
    response.content_type = std::string(kNdjsonContentType);
    auto shared = std::make_shared<RequestSession>(std::move(request_session));
    response.stream_body = [shared, statements = std::move(statements), params = std::move(params),
                            &context, &state, with_progress](ChunkWriter& writer) {
        // The session (and its transaction's lease) goes before the last line does: a client that
        // has read the answer may use the transaction at once, as after the JSON form.
        const auto release = [&shared] {
            shared->observer_reset.reset();
            shared->session = nullptr;
            shared->lease.reset();
            shared->own.reset();
        };
        for (std::size_t stmt_idx = 0; stmt_idx < statements.size(); ++stmt_idx) {
            Status failed;
            if (context.DeadlinePassed()) {
                failed =
                    Status(StatusCode::kDeadlineExceeded,
                           "the request deadline (Phenix-Timeout-Ms) passed before statement " +
                               std::to_string(stmt_idx) + " ran");
            }
            NdjsonRowSink sink(writer, stmt_idx);
            Result<QueryResult> result = QueryResult();
            if (failed.ok()) {
                if (with_progress) {
                    // Called on this worker, or (CREATE INDEX) on an engine thread while this
                    // worker waits in the statement: never beside the sink's writes. A write
                    // that fails (the client went away) is the interrupt's to notice.
                    shared->session->set_progress([&writer, stmt_idx](std::string_view line) {
                        writer.Write(NdjsonProgressLine(stmt_idx, line)).IgnoreError();
                    });
                }
                result = shared->Execute(stmt_idx, statements[stmt_idx], params, &sink);
                if (with_progress) {
                    shared->session->set_progress(nullptr);  // a transaction's session lives on
                }
                if (!result.ok()) {
                    RecordQueryError(state, result.status());
                    // Cancelled by the deadline is DEADLINE_EXCEEDED (504 before the first line).
                    if (result.status().code() == StatusCode::kCancelled &&
                        context.DeadlinePassed()) {
                        failed = Status(StatusCode::kDeadlineExceeded,
                                        "the request deadline (Phenix-Timeout-Ms) passed: " +
                                            result.status().message());
                    } else {
                        failed = result.status();
                    }
                }
            }
            if (!failed.ok()) {
                release();
                if (!writer.started()) {
                    writer.Reject(ErrorResponse(failed, 0,
                                                statements.size() > 1
                                                    ? "\"statement\":" + std::to_string(stmt_idx)
                                                    : std::string()));
                } else if (!context.IsCancelled()) {
                    writer.Finish(NdjsonErrorLine(failed, stmt_idx));
                }
                return;
            }
            Status written;
            if (result->has_rows) {
                if (!sink.has_columns()) {  // no OnColumns came (an empty SHOW, say)
                    written = sink.OnColumns(result->columns);
                }
                if (written.ok()) {
                    written = writer.Write(NdjsonRowsEndLine(stmt_idx, sink.num_rows()));
                }
            } else {
                written = writer.Write(NdjsonMessageLine(stmt_idx, *result));
            }
            if (!written.ok()) {
                release();
                if (!context.IsCancelled()) {
                    writer.Finish(NdjsonErrorLine(written, stmt_idx));
                }
                return;
            }
        }
        release();
        writer.Finish(NdjsonDoneLine(statements.size()));
    };
    return response;
}

HttpResponse HandleQuery(ApiState& state, const HttpRequest& request, RequestContext& context) {
    std::optional<HttpResponse> error;
    Json body;
    if ((error = ParseBody(request, body)) || (error = RequireObject(body, "the body")) ||
        (error = CheckFields(body, {"query", "params"}))) {
        return *error;
    }
    auto query = body.find("query");
    if (query == body.end() || !query->is_string()) {
        return ErrorResponse(Status::InvalidArgument("\"query\" (a string) is required"));
    }
    QueryParams params;
    if (auto given = body.find("params"); given != body.end()) {
        if (given->is_object()) {
            for (const auto& [key, value] : given->items()) {
                auto parsed = QueryValue::FromJson(Dump(value));
                if (!parsed.ok()) {
                    return ErrorResponse(parsed.status().WithContext("params." + key));
                }
                params[key] = std::move(*parsed);
            }
        } else if (given->is_array()) {
            for (std::size_t idx = 0; idx < given->size(); ++idx) {
                auto parsed = QueryValue::FromJson(Dump((*given)[idx]));
                if (!parsed.ok()) {
                    return ErrorResponse(parsed.status());
                }
                params[std::to_string(idx + 1)] = std::move(*parsed);
            }
        } else if (!given->is_null()) {
            return ErrorResponse(Status::InvalidArgument(
                "\"params\" must be an object ({\"name\": value}) or an array ($1, $2, ...)"));
        }
    }
    // ?progress=true: progress lines in a streamed answer (the JSON form has nowhere to put
    // them, and ignores it).
    bool with_progress = false;
    if (auto progress = request.query.find("progress"); progress != request.query.end()) {
        if (progress->second != "true" && progress->second != "false") {
            return ErrorResponse(Status::InvalidArgument(
                "?progress= takes 'true' or 'false', not '" + progress->second + "'"));
        }
        with_progress = progress->second == "true";
    }
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    const std::vector<std::string> statements =
        QuerySession::SplitStatements(query->get<std::string>());
    if (statements.empty()) {
        return ErrorResponse(Status::InvalidArgument("\"query\" holds no statement"));
    }
    RequestSession request_session;
    if ((error = OpenSession(state, *db, request, context, request_session))) {
        return *error;
    }
    if (AcceptsNdjson(request.accept)) {
        return StreamQuery(state, std::move(request_session), statements, std::move(params),
                           context, with_progress);
    }
    std::vector<std::string> results;
    for (std::size_t stmt_idx = 0; stmt_idx < statements.size(); ++stmt_idx) {
        const std::string details =
            statements.size() > 1 ? "\"statement\":" + std::to_string(stmt_idx) : "";
        if (context.DeadlinePassed()) {
            return DeadlineResponse();
        }
        auto result = request_session.Execute(stmt_idx, statements[stmt_idx], params);
        if (!result.ok()) {
            RecordQueryError(state, result.status());
            return EngineError(result.status(), context, details);
        }
        results.push_back(ResultJson(*result));
    }
    // Without Phenix-Transaction the session's destructor rolls back a transaction the script
    // left open; with it, the transaction stays open for the next request.
    if (results.size() == 1) {
        return JsonResponse(200, std::move(results.front()));
    }
    std::string out = "{\"results\":[";
    for (std::size_t idx = 0; idx < results.size(); ++idx) {
        out += (idx == 0 ? "" : ",") + results[idx];
    }
    return JsonResponse(200, out + "]}");
}

// ---------------------------------------------------------------- collections

Json CollectionJson(const CollectionInfo& info) {
    Json out = Json::object();
    out["name"] = info.spec.ref.name;
    out["dimension"] = info.spec.dimension.has_value() ? Json(*info.spec.dimension) : Json(nullptr);
    out["metric"] = std::string(MetricName(info.spec.metric));
    Json settings = Json::parse(info.spec.settings, nullptr, /*allow_exceptions=*/false);
    out["settings"] = settings.is_discarded() ? Json::object() : settings;
    out["entities"] = info.num_entities;
    out["created_at_ms"] = info.created_at_ms;
    return out;
}

HttpResponse HandlePutCollection(ApiState& state, const HttpRequest& request,
                                 const PathParams& params) {
    std::optional<HttpResponse> error;
    Json body;
    if ((error = ParseBody(request, body, Json::object())) ||
        (error = RequireObject(body, "the body")) ||
        (error = CheckFields(body, {"dimension", "metric", "hnsw"}))) {
        return *error;
    }
    CollectionSpec spec;
    spec.ref = RefOf(request, params.at("name"));
    if (auto dimension = body.find("dimension"); dimension != body.end() && !dimension->is_null()) {
        const std::optional<std::uint64_t> value = UnsignedOf(*dimension);
        if (!value.has_value() || *value == 0 || *value > 0xFFFFFFFFu) {
            return ErrorResponse(
                Status::InvalidArgument("\"dimension\" must be a positive integer or null"));
        }
        spec.dimension = static_cast<std::uint32_t>(*value);
    }
    if (auto metric = body.find("metric"); metric != body.end()) {
        if (!metric->is_string()) {
            return ErrorResponse(
                Status::InvalidArgument("\"metric\" must be \"l2\", \"cosine\" or \"ip\""));
        }
        auto parsed = ParseMetric(metric->get<std::string>());
        if (!parsed.ok()) {
            return ErrorResponse(parsed.status());
        }
        spec.metric = *parsed;
    }
    Json settings = Json::object();
    if (auto hnsw = body.find("hnsw"); hnsw != body.end()) {
        settings["hnsw"] = *hnsw;
    }
    spec.settings = Dump(settings);
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    PutCollectionOutcome outcome = PutCollection(*db, spec);
    if (outcome.status.IsAlreadyExists() && outcome.info.has_value()) {
        return ErrorResponse(outcome.status, 409,
                             "\"existing\":" + Dump(CollectionJson(*outcome.info)));
    }
    if (!outcome.status.ok()) {
        return ErrorResponse(outcome.status);
    }
    return JsonResponse(outcome.created ? 201 : 200, Dump(CollectionJson(*outcome.info)));
}

HttpResponse HandleGetCollection(ApiState& state, const HttpRequest& request,
                                 const PathParams& params) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    const CollectionRef ref = RefOf(request, params.at("name"));
    auto info = db->GetCollection(ref);
    if (!info.ok()) {
        return ErrorResponse(info.status());
    }
    Json out = CollectionJson(*info);
    if (info->spec.dimension.has_value()) {
        auto index = db->GetVectorIndexInfo(ref);
        if (index.ok()) {
            Json vector_index = {{"nodes", index->nodes},
                                 {"live_nodes", index->live_nodes},
                                 {"tail_length", index->unindexed_rows},
                                 {"indexed_timestamp", index->indexed_timestamp},
                                 {"checkpoint_timestamp", index->checkpoint_timestamp},
                                 {"m", index->m},
                                 {"ef_construction", index->ef_construction},
                                 {"ef_search", index->ef_search}};
            if (!index->indexing_error.empty()) {
                vector_index["indexing_error"] = index->indexing_error;
            }
            out["vector_index"] = std::move(vector_index);
        }
    }
    auto indexes = db->ListIndexes(ref);
    if (indexes.ok()) {
        Json list = Json::array();
        for (const MetadataIndexInfo& index : *indexes) {
            list.push_back({{"path", index.path},
                            {"state", index.state == IndexState::kBuilding ? "building" : "ready"},
                            {"entries", index.entries},
                            {"distinct_values", index.distinct_values}});
        }
        out["indexes"] = std::move(list);
    }
    return JsonResponse(200, Dump(out));
}

HttpResponse HandleListCollections(ApiState& state, const HttpRequest& request) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    auto list = db->ListCollections(TenantOf(request));
    if (!list.ok()) {
        return ErrorResponse(list.status());
    }
    Json collections = Json::array();
    for (const CollectionInfo& info : *list) {
        collections.push_back(CollectionJson(info));
    }
    return JsonResponse(200, Dump(Json{{"collections", std::move(collections)}}));
}

HttpResponse HandleDeleteCollection(ApiState& state, const HttpRequest& request,
                                    const PathParams& params) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    Status dropped = db->DropCollection(RefOf(request, params.at("name")));
    if (!dropped.ok()) {
        return ErrorResponse(dropped);
    }
    return JsonResponse(200, Dump(Json{{"dropped", params.at("name")}}));
}

// ---------------------------------------------------------------- metadata indexes

// PUT is idempotent: 201 when this call built the index, 200 when it existed. The build is
// online (writes continue) and the call returns when the index is ready.
HttpResponse HandlePutIndex(ApiState& state, const HttpRequest& request, const PathParams& params,
                            RequestContext& context) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    if (context.DeadlinePassed()) {
        return DeadlineResponse();
    }
    const CollectionRef ref = RefOf(request, params.at("name"));
    Status created = db->CreateIndex(ref, params.at("path"));
    if (!created.ok() && !created.IsAlreadyExists()) {
        return ErrorResponse(created);
    }
    return JsonResponse(created.ok() ? 201 : 200,
                        Dump(Json{{"collection", ref.name}, {"path", params.at("path")}}));
}

HttpResponse HandleDeleteIndex(ApiState& state, const HttpRequest& request,
                               const PathParams& params) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    Status dropped = db->DropIndex(RefOf(request, params.at("name")), params.at("path"));
    if (!dropped.ok()) {
        return ErrorResponse(dropped);
    }
    return JsonResponse(200, Dump(Json{{"dropped", params.at("path")}}));
}

// ---------------------------------------------------------------- entities

// The API's entity shape names an edge's target collection "target_collection"; the shared
// entity JSON (phenix/json.h) calls it "collection". Accept both on input, answer with the
// API's name.
HttpResponse HandleUpsertEntities(ApiState& state, const HttpRequest& request,
                                  const PathParams& params) {
    std::optional<HttpResponse> error;
    Json body;
    if ((error = ParseBody(request, body)) || (error = RequireObject(body, "the body")) ||
        (error = CheckFields(body, {"entities"}))) {
        return *error;
    }
    auto entities = body.find("entities");
    if (entities == body.end() || !entities->is_array()) {
        return ErrorResponse(Status::InvalidArgument("\"entities\" (an array) is required"));
    }
    const CollectionRef ref = RefOf(request, params.at("name"));
    std::vector<Entity> batch;
    for (std::size_t idx = 0; idx < entities->size(); ++idx) {
        Json entity = (*entities)[idx];
        const std::string where = "\"index\":" + std::to_string(idx);
        if (entity.is_object()) {
            if (auto edges = entity.find("edges"); edges != entity.end() && edges->is_array()) {
                for (Json& edge : *edges) {
                    if (edge.is_object() && edge.contains("target_collection")) {
                        if (edge.contains("collection")) {
                            return ErrorResponse(
                                Status::InvalidArgument("entities[" + std::to_string(idx) +
                                                        "]: an edge names both "
                                                        "target_collection and collection"),
                                422, where);
                        }
                        edge["collection"] = edge["target_collection"];
                        edge.erase("target_collection");
                    }
                }
            }
        }
        auto parsed = EntityFromJson(Dump(entity));
        if (!parsed.ok()) {
            return ErrorResponse(
                parsed.status().WithContext("entities[" + std::to_string(idx) + "]"), 422, where);
        }
        batch.push_back(std::move(*parsed));
    }
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    const bool has_entities = !batch.empty();
    if (has_entities && (error = CheckQuota(state, request, batch.size()))) {
        return *error;
    }
    auto written = UpsertEntities(*db, ref, std::move(batch));
    if (!written.ok()) {
        // Valid JSON that the engine refuses (dimension, NaN, limits) is an invalid entity.
        return ErrorResponse(written.status(),
                             has_entities && written.status().IsInvalidArgument() ? 422 : 0);
    }
    return JsonResponse(
        200, Dump(Json{{"upserted", written->upserted}, {"timestamp", written->timestamp}}));
}

Result<Json> EntityResponseJson(Entity entity, bool include_vector) {
    if (!include_vector) {
        entity.vector.clear();  // not printed, not parsed back: most of a GET's JSON work
    }
    Json out = Json::parse(EntityToJson(entity), nullptr, false);
    if (out.is_discarded()) {
        return Status::Internal("entity JSON did not parse back");
    }
    if (auto edges = out.find("edges"); edges != out.end() && edges->is_array()) {
        for (Json& edge : *edges) {
            if (edge.contains("collection")) {
                edge["target_collection"] = edge["collection"];
                edge.erase("collection");
            }
        }
    }
    return out;
}

HttpResponse HandleGetEntity(ApiState& state, const HttpRequest& request,
                             const PathParams& params) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    bool include_vector = false;
    if (auto include = request.query.find("include"); include != request.query.end()) {
        if (include->second != "vector") {
            return ErrorResponse(Status::InvalidArgument("?include= takes only 'vector'"));
        }
        include_vector = true;
    }
    auto entity = db->Get(RefOf(request, params.at("name")), params.at("id"));
    if (!entity.ok()) {
        return ErrorResponse(entity.status());
    }
    auto json = EntityResponseJson(std::move(*entity), include_vector);
    if (!json.ok()) {
        return ErrorResponse(json.status());
    }
    return JsonResponse(200, Dump(*json));
}

HttpResponse HandleDeleteEntity(ApiState& state, const HttpRequest& request,
                                const PathParams& params) {
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    Status deleted = db->Delete(RefOf(request, params.at("name")), params.at("id"));
    if (!deleted.ok()) {
        return ErrorResponse(deleted);
    }
    return JsonResponse(200, Dump(Json{{"deleted", params.at("id")}}));
}

HttpResponse HandlePatchEntity(ApiState& state, const HttpRequest& request,
                               const PathParams& params) {
    std::optional<HttpResponse> error;
    Json body;
    if ((error = ParseBody(request, body))) {
        return *error;
    }
    if (!body.is_object()) {
        return ErrorResponse(
            Status::InvalidArgument("the merge patch must be a JSON object (metadata is one)"),
            422);
    }
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    if ((error = CheckQuota(state, request, 0))) {
        return *error;
    }
    const CollectionRef ref = RefOf(request, params.at("name"));
    Status patched = db->PatchMetadata(ref, params.at("id"), Dump(body));
    if (!patched.ok()) {
        return ErrorResponse(patched, patched.IsInvalidArgument() ? 422 : 0);
    }
    auto entity = db->Get(ref, params.at("id"));
    if (!entity.ok()) {
        return ErrorResponse(entity.status());
    }
    auto json = EntityResponseJson(std::move(*entity), /*include_vector=*/false);
    if (!json.ok()) {
        return ErrorResponse(json.status());
    }
    return JsonResponse(200, Dump(*json));
}

// ---------------------------------------------------------------- import

// The request body as COPY's source: streamed (RouteOptions::streams_body), or the body read
// whole (requests built without a connection, as in tests).
class BodySource final : public ByteSource {
  public:
    explicit BodySource(const HttpRequest& request) : request_(request) {}
    Result<std::size_t> Read(char* buffer, std::size_t size) override {
        if (request_.body_stream != nullptr) {
            return request_.body_stream->Read(buffer, size);
        }
        const std::size_t count = std::min(size, request_.body.size() - offset_);
        std::copy_n(request_.body.data() + offset_, count, buffer);
        offset_ += count;
        return count;
    }

  private:
    const HttpRequest& request_;
    std::size_t offset_ = 0;
};

// Content types an import accepts: NDJSON, one JSON entity per line (application/json-seq's
// record separators are not COPY's format).
bool IsNdjsonContentType(std::string_view content_type) {
    std::string type(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && type.back() == ' ') {
        type.pop_back();
    }
    for (char& ch : type) {
        ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    return type.empty() || type == "application/x-ndjson" || type == "application/jsonl" ||
           type == "application/x-jsonlines";
}

std::string LineErrorsJson(const CopyReport& report) {
    std::string out = "[";
    for (std::size_t idx = 0; idx < report.errors.size(); ++idx) {
        out += (idx == 0 ? "{\"line\":" : ",{\"line\":") + std::to_string(report.errors[idx].line) +
               ",\"message\":" + JsonQuote(report.errors[idx].message) + "}";
    }
    return out + "]";
}

// POST /v1/collections/{name}/import?on_error=abort|skip: the NDJSON body, streamed into COPY's
// loader as it arrives.
HttpResponse HandleImport(ApiState& state, const HttpRequest& request, const PathParams& params,
                          RequestContext& context) {
    if (!IsNdjsonContentType(request.content_type)) {
        return ErrorResponse(
            Status::InvalidArgument("Content-Type must be application/x-ndjson (one JSON entity "
                                    "per line), not '" +
                                    request.content_type + "'"),
            415);
    }
    bool skip_errors = false;
    for (const auto& [key, value] : request.query) {
        if (key != "on_error") {
            return ErrorResponse(Status::InvalidArgument("unknown query parameter '" + key +
                                                         "' (expected: on_error)"));
        }
        if (value == "skip") {
            skip_errors = true;
        } else if (value != "abort" && value != "stop") {
            return ErrorResponse(Status::InvalidArgument(
                "?on_error= takes 'abort' (the default) or 'skip', not '" + value + "'"));
        }
    }
    std::optional<HttpResponse> error;
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    if ((error = CheckTenant(*db, request.tenant))) {
        return *error;
    }
    if (context.DeadlinePassed()) {
        return DeadlineResponse();
    }
    // An import's size is unknown before it reads its body: refused when the tenant is already at
    // a quota, it may then overshoot max_entities by its own entities (decision 0023).
    if ((error = CheckQuota(state, request, 1))) {
        return *error;
    }
    QuerySession session(*db,
                         request.tenant.empty() ? std::string(kDefaultTenant) : request.tenant);
    session.set_interrupt(context.Interrupt());
    session.set_execution_observer(request.trace.get());  // a span per chunk when traced
    BodySource source(request);
    const CopyReport report =
        session.CopyFrom(params.at("name"), source, skip_errors, "the request body");
    const std::string counts = "\"imported\":" + std::to_string(report.entities) +
                               ",\"skipped\":" + std::to_string(report.skipped_lines) +
                               ",\"skipped_edges\":" + std::to_string(report.skipped_edges) +
                               ",\"errors\":" + LineErrorsJson(report);
    if (!report.status.ok()) {
        const bool has_bad_line = !report.errors.empty() && !skip_errors;
        // A bad line (abort) is an invalid entity: 422; a body over max_import_bytes 413.
        unsigned http_status = 0;
        if (report.status.code() == StatusCode::kResourceExhausted &&
            request.body_stream != nullptr &&
            report.status.message().find("max_import_bytes") != std::string::npos) {
            http_status = 413;
        } else if (has_bad_line && (report.status.code() == StatusCode::kInvalidArgument ||
                                    report.status.code() == StatusCode::kNotFound)) {
            http_status = 422;
        }
        if (http_status != 0) {
            return ErrorResponse(report.status, http_status, counts);
        }
        return EngineError(report.status, context, counts);
    }
    return JsonResponse(
        200, "{" + counts + ",\"timestamp\":" + std::to_string(db->CurrentTimestamp()) + "}");
}

// ---------------------------------------------------------------- search

// One operator of a plan (QueryPlanNode) as JSON: the structure EXPLAIN ANALYZE's text is
// printed from.
Json PlanNodeJson(const QueryPlanNode& node) {
    Json out = {{"operator", node.label}};
    if (!node.strategy.empty()) {
        out["strategy"] = node.strategy;
    }
    out["estimated_rows"] =
        node.estimated_rows < 0 ? Json(nullptr) : Json(std::llround(node.estimated_rows));
    if (node.has_run) {
        out["actual_rows"] = node.actual_rows;
        out["time_ms"] = node.total_millis;
        out["self_ms"] = node.self_millis;
    } else {
        out["not_run"] = node.not_run;
    }
    out["details"] = node.details;
    Json children = Json::array();
    for (const QueryPlanNode& child : node.children) {
        children.push_back(PlanNodeJson(child));
    }
    out["children"] = std::move(children);
    return out;
}

Json PlanJson(const QueryPlan& plan, const std::string& strategy) {
    return {{"strategy", strategy},
            {"execution_ms", plan.execution_millis},
            {"root", PlanNodeJson(plan.root)},
            {"text", plan.Text()}};
}

// An id as QueryValue::ToJson writes a string: printable ASCII without a quote or backslash
// (the usual id) is written as it is, which is what that gives; anything else goes through it.
void AppendIdJson(std::string id, std::string& out) {
    const bool plain = std::all_of(id.begin(), id.end(), [](char ch) {
        return ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\';
    });
    if (!plain) {
        out += QueryValue::String(std::move(id)).ToJson();
        return;
    }
    out += '"';
    out += id;
    out += '"';
}

// The usual search (json_scan.h's SimpleSearch), outside a transaction, answered by
// Database::Search itself: the JSON query form would run exactly this search (k, ef raised to k,
// no filter, the latest committed state) after parsing, binding and planning it, which cost
// about as much CPU as the search. The answer is the form's, byte for byte: the same columns,
// the distance reported as PhenixQL reports it (query::ReportedDistance) and printed by
// QueryValue, and the statement counted under its plan strategy. nullopt when the engine refuses
// the search: the JSON form then answers, with its own message naming the field.
std::optional<HttpResponse> DirectSearch(ApiState& state, Database& db, const HttpRequest& request,
                                         const std::string& name, const SimpleSearch& search) {
    if (auto error = CheckTenant(db, request.tenant)) {
        return error;
    }
    SearchOptions options;
    options.k = search.k.value_or(10);
    if (search.ef.has_value()) {
        options.ef = std::max<std::uint32_t>(*search.ef, search.k.value_or(10));
    }
    const auto start = std::chrono::steady_clock::now();
    Result<SearchResponse> searched = db.Search(
        CollectionRef(request.tenant.empty() ? std::string(kDefaultTenant) : request.tenant, name),
        search.vector, options);
    if (!searched.ok()) {
        return std::nullopt;
    }
    if (Metrics* metrics = state.metrics; metrics != nullptr) {
        metrics->RecordStatement(
            "vector_index",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::string out;
    out.reserve(16 + searched->hits.size() * 48);
    out += "{\"results\":[";
    bool first = true;
    for (SearchHit& hit : searched->hits) {
        out += first ? "{\"id\":" : ",{\"id\":";
        first = false;
        AppendIdJson(std::move(hit.id), out);
        out += ",\"distance\":";
        out +=
            QueryValue::Float(query::ReportedDistance(searched->metric,
                                                      query::DistanceOp::kCollection, hit.distance))
                .ToJson();
        out += "}";
    }
    out += "]}";
    return JsonResponse(200, std::move(out));
}

// The plain searches short enough for the I/O thread (RouteOptions::short_request): a search's
// cost grows with ef (the candidates visited) and k (the hits rendered).
constexpr std::uint32_t kShortSearchMaxK = 100;
constexpr std::uint32_t kShortSearchMaxEf = 512;

bool IsShortSearch(const SimpleSearch& search) {
    return search.k.value_or(10) <= kShortSearchMaxK && search.ef.value_or(0) <= kShortSearchMaxEf;
}

HttpResponse NeedsWorker() {
    HttpResponse response;
    response.needs_worker = true;
    return response;
}

HttpResponse HandleSearch(ApiState& state, const HttpRequest& request, const PathParams& params,
                          RequestContext& context) {
    std::optional<HttpResponse> error;
    if ((error = CheckJsonContentType(request))) {
        return *error;
    }
    const std::string& name = params.at("name");
    if (context.on_io_thread && !request.transaction.empty()) {
        return NeedsWorker();  // a transaction's session: never on the I/O thread
    }
    // The body's scan: done here, or on the I/O thread before it handed the request over.
    std::optional<ScannedSearch> scanned;
    if (auto* carried = std::any_cast<std::optional<ScannedSearch>>(&context.prepared)) {
        scanned = std::move(*carried);
        context.prepared.reset();
    } else {
        scanned = ScanSearchBody(request.body);
    }
    const bool direct = scanned.has_value() && scanned->simple.has_value() &&
                        request.transaction.empty() &&
                        scanned->simple->collection.value_or(name) == name;
    if (context.on_io_thread && !(direct && IsShortSearch(*scanned->simple))) {
        context.prepared = std::move(scanned);
        return NeedsWorker();
    }
    if (direct) {
        Database* db = OpenDatabase(state, error);
        if (db == nullptr) {
            return *error;
        }
        if (context.DeadlinePassed()) {
            return DeadlineResponse();
        }
        if (auto answer = DirectSearch(state, *db, request, name, *scanned->simple)) {
            return std::move(*answer);
        }
    }
    if (context.on_io_thread) {
        context.prepared = std::move(scanned);
        return NeedsWorker();  // the engine refused: the JSON form's message, from a worker
    }
    // Any other body goes to the JSON query form: one naming neither "collection" nor
    // "explain" as the client wrote it, with the path's collection spliced in (the form parses
    // it anyway, and parsing it here too, a query vector's floats, cost as much again).
    const bool edited = !scanned.has_value() || scanned->names_collection_or_explain;
    Json body;
    if (edited &&
        ((error = ParseBody(request, body)) || (error = RequireObject(body, "the body")))) {
        return *error;
    }
    if (auto collection = body.find("collection"); collection != body.end()) {
        if (!collection->is_string() || collection->get<std::string>() != name) {
            return ErrorResponse(Status::InvalidArgument(
                "\"collection\" in the body must match the path's collection '" + name + "'"));
        }
    }
    // "explain": true answers the results and the plan that produced them (EXPLAIN ANALYZE's).
    bool explain = false;
    if (auto given = body.find("explain"); given != body.end()) {
        if (!given->is_boolean()) {
            return ErrorResponse(Status::InvalidArgument("explain: expected true or false"));
        }
        explain = given->get<bool>();
        body.erase(given);
    }
    if (edited) {
        body["collection"] = name;
    }
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    if (context.DeadlinePassed()) {
        return DeadlineResponse();
    }
    RequestSession request_session;
    if ((error = OpenSession(state, *db, request, context, request_session))) {
        return *error;
    }
    std::string query_json;
    if (edited) {
        query_json = Dump(body);
    } else {
        const std::size_t brace = request.body.find('{');
        query_json = "{\"collection\":" + JsonQuote(name) + (scanned->empty ? "" : ",");
        query_json.append(request.body, brace + 1);
    }
    QuerySession& session = *request_session.session;
    session.set_collect_plan(explain);
    auto result = session.ExecuteJson(query_json);
    session.set_collect_plan(false);  // a transaction's session outlives this request
    if (!result.ok()) {
        return EngineError(result.status(), context);
    }
    std::string out = "{\"results\":[";
    for (std::size_t row_idx = 0; row_idx < result->rows.size(); ++row_idx) {
        const std::vector<QueryValue>& row = result->rows[row_idx];
        out += row_idx == 0 ? "{" : ",{";
        for (std::size_t col = 0; col < result->columns.size() && col < row.size(); ++col) {
            out +=
                (col == 0 ? "" : ",") + JsonQuote(result->columns[col]) + ":" + row[col].ToJson();
        }
        out += "}";
    }
    out += "]";
    if (explain && result->plan.has_value()) {
        out += ",\"plan\":" + SearchPlanJson(*result->plan, result->plan_strategy);
    }
    return JsonResponse(200, out + "}");
}

// ---------------------------------------------------------------- transactions

HttpResponse HandleBeginTransaction(ApiState& state, const HttpRequest& request,
                                    const RequestContext& context) {
    std::optional<HttpResponse> error;
    Json body;
    if ((error = ParseBody(request, body, Json::object())) ||
        (error = RequireObject(body, "the body")) ||
        (error = CheckFields(body, {"read_only", "as_of"}))) {
        return *error;
    }
    TransactionOptions options;
    if (auto read_only = body.find("read_only"); read_only != body.end()) {
        if (!read_only->is_boolean()) {
            return ErrorResponse(Status::InvalidArgument("\"read_only\" must be true or false"));
        }
        options.read_only = read_only->get<bool>();
    }
    if (auto as_of = body.find("as_of"); as_of != body.end() && !as_of->is_null()) {
        const std::optional<std::uint64_t> value = UnsignedOf(*as_of);
        if (!value.has_value()) {
            return ErrorResponse(Status::InvalidArgument(
                "\"as_of\" must be a commit timestamp (a non-negative integer)"));
        }
        options.as_of = *value;
    }
    Database* db = OpenDatabase(state, error);
    if (db == nullptr) {
        return *error;
    }
    if ((error = CheckTenant(*db, request.tenant))) {
        return *error;
    }
    const std::string owner = OwnerOf(state, context);
    auto id = state.transactions->Begin(*db, options, state.copy_directory, owner);
    if (!id.ok()) {
        return ErrorResponse(id.status());
    }
    // The transaction's session starts in the request's tenant (Phenix-Tenant); the snapshot
    // lets a client say what it reads (the shell's "BEGIN READ ONLY (snapshot T)").
    Json answer{{"id", *id}};
    if (auto lease = state.transactions->Acquire(*id, owner); lease.ok()) {
        if (!request.tenant.empty()) {
            lease->session().set_tenant(request.tenant);
        }
        if (const Transaction* txn = lease->session().transaction(); txn != nullptr) {
            answer["snapshot"] = txn->read_timestamp();
        }
    }
    return JsonResponse(201, Dump(answer));
}

HttpResponse HandleCommitTransaction(ApiState& state, const PathParams& params,
                                     const RequestContext& context) {
    auto timestamp = state.transactions->Commit(params.at("id"), OwnerOf(state, context));
    if (timestamp.ok()) {
        state.metrics->RecordTransaction("committed");
    } else if (timestamp.status().code() == StatusCode::kAborted) {
        state.metrics->RecordTransaction("aborted");
    }
    if (!timestamp.ok()) {
        return ErrorResponse(
            timestamp.status(),
            timestamp.status().code() == StatusCode::kFailedPrecondition ? 409 : 0);
    }
    return JsonResponse(200, Dump(Json{{"timestamp", *timestamp}}));
}

HttpResponse HandleRollbackTransaction(ApiState& state, const PathParams& params,
                                       const RequestContext& context) {
    Status rolled_back = state.transactions->Rollback(params.at("id"), OwnerOf(state, context));
    if (rolled_back.ok()) {
        state.metrics->RecordTransaction("rolled_back");
    }
    if (!rolled_back.ok()) {
        return ErrorResponse(rolled_back,
                             rolled_back.code() == StatusCode::kFailedPrecondition ? 409 : 0);
    }
    return JsonResponse(200, Dump(Json{{"rolled_back", params.at("id")}}));
}

}  // namespace

std::string SearchPlanJson(const QueryPlan& plan, const std::string& strategy) {
    return Dump(PlanJson(plan, strategy));
}

void RecordQueryError(const ApiState& state, const Status& failed) {
    if (state.metrics != nullptr) {
        state.metrics->RecordQueryError(ErrorCodeName(failed.code()));
    }
}

void RegisterRoutes(Router& router, ApiState& state) {
    // The document is built from the finished route table (at the end of this function).
    auto openapi = std::make_shared<Result<std::string>>();
    router.Add(
        "GET", "/openapi.json",
        [openapi](const HttpRequest&, const PathParams&, RequestContext&) {
            if (!openapi->ok()) {
                return ErrorResponse(openapi->status());
            }
            return JsonResponse(200, **openapi);
        },
        RouteOptions{.inline_handler = true});
    ApiState* api = &state;
    router.Add(
        "GET", "/health",
        [](const HttpRequest&, const PathParams&, RequestContext&) {
            return JsonResponse(200, R"({"status":"ok"})");
        },
        RouteOptions{.inline_handler = true});
    router.Add(
        "GET", "/ready",
        [api](const HttpRequest&, const PathParams&, RequestContext&) {
            switch (api->state.load()) {
                case ServingState::kReady:
                    return JsonResponse(200, R"({"status":"ready"})");
                case ServingState::kStarting:
                    return ErrorResponse(Status::Unavailable("starting: opening the database"));
                case ServingState::kDraining:
                    return ErrorResponse(Status::Unavailable("draining: shutting down"));
            }
            return ErrorResponse(Status::Internal("unknown serving state"));
        },
        RouteOptions{.inline_handler = true});
    router.Add(
        "POST", "/v1/query",
        [api](const HttpRequest& request, const PathParams&, RequestContext& context) {
            return HandleQuery(*api, request, context);
        },
        RouteOptions{.accepts_transaction = true});
    // Prometheus text 0.0.4, or OpenMetrics (with exemplars) for a client that accepts it.
    router.Add("GET", "/metrics",
               [api](const HttpRequest& request, const PathParams&, RequestContext&) {
                   const ExpositionFormat format = ExpositionFormatFor(request.accept);
                   HttpResponse response;
                   response.content_type = std::string(ContentTypeOf(format));
                   response.body = api->metrics->Render(api->db.load(), format);
                   return response;
               });
    router.Add("POST", "/v1/transactions",
               [api](const HttpRequest& request, const PathParams&, RequestContext& context) {
                   return HandleBeginTransaction(*api, request, context);
               });
    router.Add("POST", "/v1/transactions/{id}/commit",
               [api](const HttpRequest&, const PathParams& params, RequestContext& context) {
                   return HandleCommitTransaction(*api, params, context);
               });
    router.Add("POST", "/v1/transactions/{id}/rollback",
               [api](const HttpRequest&, const PathParams& params, RequestContext& context) {
                   return HandleRollbackTransaction(*api, params, context);
               });
    router.Add("GET", "/v1/collections",
               [api](const HttpRequest& request, const PathParams&, RequestContext&) {
                   return HandleListCollections(*api, request);
               });
    router.Add("PUT", "/v1/collections/{name}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandlePutCollection(*api, request, params);
               });
    router.Add("GET", "/v1/collections/{name}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandleGetCollection(*api, request, params);
               });
    router.Add("DELETE", "/v1/collections/{name}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandleDeleteCollection(*api, request, params);
               });
    router.Add(
        "PUT", "/v1/collections/{name}/indexes/{path}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandlePutIndex(*api, request, params, context);
        });
    router.Add("DELETE", "/v1/collections/{name}/indexes/{path}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandleDeleteIndex(*api, request, params);
               });
    router.Add("POST", "/v1/collections/{name}/entities",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandleUpsertEntities(*api, request, params);
               });
    router.Add(
        "GET", "/v1/collections/{name}/entities/{id}",
        [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
            return HandleGetEntity(*api, request, params);
        },
        RouteOptions{.short_request = true});
    router.Add("DELETE", "/v1/collections/{name}/entities/{id}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandleDeleteEntity(*api, request, params);
               });
    router.Add("PATCH", "/v1/collections/{name}/entities/{id}",
               [api](const HttpRequest& request, const PathParams& params, RequestContext&) {
                   return HandlePatchEntity(*api, request, params);
               });
    router.Add(
        "POST", "/v1/collections/{name}/import",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleImport(*api, request, params, context);
        },
        RouteOptions{.streams_body = true});
    router.Add(
        "POST", "/v1/collections/{name}/search",
        [api](const HttpRequest& request, const PathParams& params, RequestContext& context) {
            return HandleSearch(*api, request, params, context);
        },
        RouteOptions{
            .accepts_transaction = true, .short_request = true, .inline_under_load = true});
    RegisterAdminRoutes(router, state);
    *openapi = OpenApiDocument(router, state.access != nullptr && state.access->enabled());
}

}  // namespace phenix::server
