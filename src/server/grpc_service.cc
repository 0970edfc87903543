// SPDX-License-Identifier: Apache-2.0
#include "server/grpc_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/db.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "server/admin_api.h"
#include "server/api.h"
#include "server/errors.h"
#include "server/http_server.h"
#include "server/service.h"
#include "server/slow_query_log.h"
#include "server/tls.h"
#include "server/tracing.h"
#include "server/transactions.h"

namespace phenix::server {
namespace {

namespace pb = phenix::v1;
using Json = nlohmann::json;

// The request metadata that mirrors REST's Phenix-Transaction and Phenix-Tenant headers.
constexpr std::string_view kTransactionKey = "phenix-transaction";
constexpr std::string_view kTenantKey = "phenix-tenant";
// The credential, as REST's Authorization header: "Bearer <token or API key>".
constexpr std::string_view kAuthorizationKey = "authorization";
// The client's id for the call (like REST's Phenix-Request-Id), in its audit records.
constexpr std::string_view kRequestIdKey = "phenix-request-id";
// The trailing metadata naming the statement a Query failed in.
constexpr std::string_view kStatementKey = "phenix-statement";
// The trailing metadata naming a traced call's trace and root span (tracing on): W3C
// Trace Context, as REST's traceparent response header.
constexpr std::string_view kTraceparentKey = "traceparent";
// Query's row batches: at most this many rows, or about this many bytes, per message (gRPC
// clients refuse messages over 4 MiB by default).
constexpr std::size_t kMaxBatchRows = 1024;
constexpr std::size_t kMaxBatchBytes = std::size_t{1} << 20;
// How often a worker waiting for a write rechecks the call's cancellation flag.
constexpr std::chrono::milliseconds kWritePoll{50};

std::string Dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// ---------------------------------------------------------------- JSON <-> Struct

// A Struct's numbers are doubles; integral ones within 2^53 become JSON integers again, so
// {"k": 10} reaches the engine as an integer.
Json ValueToJson(const google::protobuf::Value& value) {
    switch (value.kind_case()) {
        case google::protobuf::Value::kBoolValue:
            return value.bool_value();
        case google::protobuf::Value::kNumberValue: {
            const double number = value.number_value();
            constexpr double kExactLimit = 9007199254740992.0;  // 2^53
            if (std::isfinite(number) && std::floor(number) == number &&
                std::fabs(number) <= kExactLimit) {
                return static_cast<std::int64_t>(number);
            }
            return number;
        }
        case google::protobuf::Value::kStringValue:
            return value.string_value();
        case google::protobuf::Value::kListValue: {
            Json out = Json::array();
            for (const auto& item : value.list_value().values()) {
                out.push_back(ValueToJson(item));
            }
            return out;
        }
        case google::protobuf::Value::kStructValue: {
            Json out = Json::object();
            for (const auto& [key, item] : value.struct_value().fields()) {
                out[key] = ValueToJson(item);
            }
            return out;
        }
        case google::protobuf::Value::kNullValue:
        case google::protobuf::Value::KIND_NOT_SET:
            break;
    }
    return nullptr;
}

Json StructToJson(const google::protobuf::Struct& object) {
    Json out = Json::object();
    for (const auto& [key, item] : object.fields()) {
        out[key] = ValueToJson(item);
    }
    return out;
}

void JsonToValue(const Json& json, google::protobuf::Value& out) {
    if (json.is_null()) {
        out.set_null_value(google::protobuf::NULL_VALUE);
    } else if (json.is_boolean()) {
        out.set_bool_value(json.get<bool>());
    } else if (json.is_number()) {
        out.set_number_value(json.get<double>());
    } else if (json.is_string()) {
        out.set_string_value(json.get<std::string>());
    } else if (json.is_array()) {
        auto* list = out.mutable_list_value();
        for (const Json& item : json) {
            JsonToValue(item, *list->add_values());
        }
    } else {
        auto* object = out.mutable_struct_value();
        for (const auto& [key, item] : json.items()) {
            JsonToValue(item, (*object->mutable_fields())[key]);
        }
    }
}

// JSON object text (the engine's metadata, settings and edge properties) as a Struct; anything
// that is not an object is left empty.
void JsonTextToStruct(std::string_view text, google::protobuf::Struct& out) {
    if (text.empty()) {
        return;
    }
    const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) {
        return;
    }
    for (const auto& [key, item] : json.items()) {
        JsonToValue(item, (*out.mutable_fields())[key]);
    }
}

// ---------------------------------------------------------------- engine values <-> proto

Entity EntityFromProto(const pb::Entity& in) {
    Entity entity;
    entity.id = in.id();
    entity.vector.assign(in.vector().begin(), in.vector().end());
    entity.metadata = in.has_metadata() ? Dump(StructToJson(in.metadata())) : "{}";
    for (const pb::Edge& in_edge : in.edges()) {
        Edge edge;
        edge.label = in_edge.label();
        edge.target_id = in_edge.target_id();
        edge.target_collection = in_edge.target_collection();
        edge.weight = in_edge.has_weight() ? in_edge.weight() : 1.0;
        if (in_edge.has_properties()) {
            edge.properties = Dump(StructToJson(in_edge.properties()));
        }
        entity.edges.push_back(std::move(edge));
    }
    return entity;
}

void EntityToProto(const Entity& entity, bool include_vector, pb::Entity& out) {
    out.set_id(entity.id);
    if (include_vector) {
        out.mutable_vector()->Add(entity.vector.begin(), entity.vector.end());
    }
    JsonTextToStruct(entity.metadata, *out.mutable_metadata());
    for (const Edge& edge : entity.edges) {
        pb::Edge* out_edge = out.add_edges();
        out_edge->set_label(edge.label);
        out_edge->set_target_id(edge.target_id);
        out_edge->set_target_collection(edge.target_collection);
        out_edge->set_weight(edge.weight);
        if (!edge.properties.empty()) {
            JsonTextToStruct(edge.properties, *out_edge->mutable_properties());
        }
    }
}

void CollectionToProto(const CollectionInfo& info, pb::Collection& out) {
    out.set_name(info.spec.ref.name);
    if (info.spec.dimension.has_value()) {
        out.set_dimension(*info.spec.dimension);
    }
    out.set_metric(std::string(MetricName(info.spec.metric)));
    JsonTextToStruct(info.spec.settings, *out.mutable_settings());
    out.set_entities(info.num_entities);
    out.set_created_at_ms(static_cast<std::uint64_t>(info.created_at_ms));
}

// ---------------------------------------------------------------- call context

std::string MetadataValue(const grpc::CallbackServerContext* context, std::string_view key) {
    const auto& metadata = context->client_metadata();
    auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
    if (found == metadata.end()) {
        return {};
    }
    return std::string(found->second.data(), found->second.size());
}

// The RequestContext of a call: its gRPC deadline (or the server's default_timeout_ms when it
// has none) as a steady-clock deadline, and its trace when tracing is on.
std::shared_ptr<RequestContext> MakeContext(const grpc::CallbackServerContext* call,
                                            const GrpcBackend& backend) {
    const std::uint32_t default_timeout_ms = backend.default_timeout_ms;
    auto context = std::make_shared<RequestContext>();
    context->request_id = RequestIdOf(MetadataValue(call, kRequestIdKey));
    if (backend.start_trace) {  // tracing on: the call's trace starts now
        context->trace = backend.start_trace(MetadataValue(call, kTraceparentKey),
                                             MetadataValue(call, "tracestate"));
    }
    const auto deadline = call->deadline();
    const auto remaining = deadline - std::chrono::system_clock::now();
    constexpr auto kNoDeadline = std::chrono::hours(24 * 365);
    if (deadline != std::chrono::system_clock::time_point::max() && remaining < kNoDeadline) {
        context->deadline = RequestContext::Clock::now() +
                            std::chrono::duration_cast<RequestContext::Clock::duration>(remaining);
    } else if (default_timeout_ms > 0) {
        context->deadline =
            RequestContext::Clock::now() + std::chrono::milliseconds(default_timeout_ms);
    }
    return context;
}

// An interrupt for QuerySession: the RequestContext's (deadline, forced shutdown) or the call's
// cancellation by the client.
std::function<bool()> CallInterrupt(const RequestContext& context,
                                    grpc::CallbackServerContext* call) {
    return [base = context.Interrupt(), call] { return base() || call->IsCancelled(); };
}

Status TransactionNotAllowed(std::string_view method) {
    return Status::InvalidArgument(
        "the phenix-transaction metadata applies to Query and Search; not to " +
        std::string(method));
}

std::string RefusalMessage(const ApiState& api) {
    return api.state.load() == ServingState::kDraining
               ? std::string("the server is shutting down")
               : std::string(
                     "the server is overloaded: every worker is busy and the queue is "
                     "full (queue_capacity); retry shortly");
}

StatusCode FromGrpcCode(grpc::StatusCode code) {
    for (int value = 0; value <= static_cast<int>(StatusCode::kInternal); ++value) {
        if (GrpcCodeFor(static_cast<StatusCode>(value)) == code) {
            return static_cast<StatusCode>(value);
        }
    }
    return StatusCode::kInternal;
}

// Reports a finished call (access log, metrics); called just before Finish, while `call` is
// still valid. A traced call's answer gets the trailing metadata `traceparent` naming its root
// span (decision 0034: trailing, so an early refusal stays a trailers-only answer that a
// client's retry policy may retry).
void RecordCall(const GrpcBackend& backend, std::string_view method,
                grpc::CallbackServerContext* call, const grpc::Status& status,
                RequestContext::Clock::time_point start, const RequestContext* context) {
    if (context != nullptr && context->trace != nullptr) {
        call->AddTrailingMetadata(std::string(kTraceparentKey), context->trace->Traceparent());
    }
    if (!backend.on_finish) {
        return;
    }
    backend.on_finish(
        GrpcCallRecord{.method = method,
                       .code = FromGrpcCode(status.error_code()),
                       .latency = std::chrono::duration_cast<std::chrono::microseconds>(
                           RequestContext::Clock::now() - start),
                       .peer = call->peer(),
                       .traceparent = MetadataValue(call, kTraceparentKey),
                       .tracestate = MetadataValue(call, "tracestate"),
                       .trace = context != nullptr ? context->trace : nullptr});
}

// gRPC's peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000") as REST writes a client
// ("127.0.0.1:5000", "[::1]:5000"), so audit records spell a client one way.
std::string PeerAddress(const std::string& peer) {
    for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
        if (peer.starts_with(scheme)) {
            return peer.substr(scheme.size());
        }
    }
    return peer;
}

// The enforcement point for a call (server/access.h): authenticates the authorization metadata,
// resolves the tenant (phenix-tenant is honoured for cluster administrators only) and checks the
// method's rule on `collection`. Sets the context's principal and tenant.
Status AdmitCall(const ApiState& api, grpc::CallbackServerContext* call, std::string_view method,
                 std::string_view collection, RequestContext& context) {
    const AccessControl* access = api.access;
    for (std::string_view key : {kAuthorizationKey, kTenantKey}) {
        // Like REST's repeated headers: which copy counts is what a smuggler exploits; none does.
        if (call->client_metadata().count(grpc::string_ref(key.data(), key.size())) > 1) {
            const std::string reason =
                "the " + std::string(key) + " metadata was sent more than once; send it once";
            if (access != nullptr) {
                access->Audit(nullptr, {}, key == kAuthorizationKey ? "auth" : "tenant.select", {},
                              "denied", reason,
                              CallInfo{context.request_id, PeerAddress(call->peer())});
            }
            return Status::InvalidArgument(reason);
        }
    }
    if (access == nullptr) {  // a service built without one (unit tests): auth off
        context.tenant = MetadataValue(call, kTenantKey);
        return Status::Ok();
    }
    const AccessRule* rule = FindGrpcRule(method);
    if (!access->enabled() && rule != nullptr) {
        context.principal = access->local();
        context.tenant = MetadataValue(call, kTenantKey);
        return Status::Ok();
    }
    if (rule != nullptr && rule->scope == AccessScope::kOpen) {
        return Status::Ok();
    }
    const std::string peer = PeerAddress(call->peer());
    const CallInfo info{.request_id = context.request_id, .client = peer};
    const std::string authorization = MetadataValue(call, kAuthorizationKey);
    // Mutual TLS as the credential (--tls-client-map): only asked without an authorization.
    security::ClientCertificate certificate;
    if (authorization.empty() && call->auth_context() != nullptr) {
        const std::vector<grpc::string_ref> pem =
            call->auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
        if (pem.size() == 1) {
            certificate = PemCertificateIdentity(std::string_view(pem[0].data(), pem[0].size()));
        }
    }
    PHENIX_ASSIGN_OR_RETURN(context.principal,
                            access->Authenticate(authorization, info, &certificate));
    PHENIX_ASSIGN_OR_RETURN(
        context.tenant,
        access->ResolveTenant(*context.principal, MetadataValue(call, kTenantKey), info));
    // The tenant's and the principal's request rates (RESOURCE_EXHAUSTED; the wait is in the
    // message).
    PHENIX_RETURN_IF_ERROR(access->AdmitRate(*context.principal, context.tenant, info, nullptr));
    return access->Authorize(*context.principal, rule, "/phenix.v1.Phenix/" + std::string(method),
                             context.tenant, collection, info);
}

// One audit event for a call that changed something (a non-read rule), after it ran.
void AuditCall(const ApiState& api, grpc::CallbackServerContext* call, std::string_view method,
               std::string_view target, const RequestContext& context, const Status& status) {
    if (api.access == nullptr || !api.access->auditing()) {
        return;
    }
    const AccessRule* rule = FindGrpcRule(method);
    if (rule == nullptr || rule->permission == security::Permission::kRead ||
        rule->scope == AccessScope::kOpen) {
        return;
    }
    const std::string peer = PeerAddress(call->peer());
    // A refusal after admission (a tenant quota) is a denial, with its message as the reason.
    const bool denied = status.code() == StatusCode::kPermissionDenied;
    api.access->Audit(context.principal.get(),
                      context.tenant.empty() ? kDefaultTenant : std::string_view(context.tenant),
                      rule->action, target, status.ok() ? "ok" : (denied ? "denied" : "error"),
                      denied ? status.message() : std::string_view(),
                      CallInfo{.request_id = context.request_id, .client = peer});
}

// A collection of the call's tenant.
CollectionRef RefOf(const RequestContext& context, const std::string& name) {
    return CollectionRef(context.tenant.empty() ? std::string(kDefaultTenant) : context.tenant,
                         name);
}

// The tenant's quotas for an upsert of `adding` entities (server/quota.h): PERMISSION_DENIED
// when it would exceed one.
Status CheckQuota(const ApiState& api, const RequestContext& context, std::uint64_t adding) {
    if (api.quotas == nullptr || adding == 0) {
        return Status::Ok();
    }
    return api.quotas->CheckWrite(
        context.tenant.empty() ? kDefaultTenant : std::string_view(context.tenant), adding,
        QuotaEnforcer::Clock::now());
}

// The owner an interactive transaction is bound to.
std::string OwnerOf(const ApiState& api, const RequestContext& context) {
    return api.access != nullptr && context.principal != nullptr
               ? api.access->OwnerKey(*context.principal)
               : std::string();
}

// The session a Query or Search runs in: its interactive transaction's (phenix-transaction), or
// a fresh one for this call alone.
struct CallSession {
    std::optional<TransactionRegistry::Lease> lease;
    std::unique_ptr<QuerySession> own;
    QuerySession* session = nullptr;
};

Result<CallSession> OpenSession(ApiState& api, Database& db, const std::string& transaction,
                                const RequestContext& context, grpc::CallbackServerContext* call) {
    const std::string& tenant = context.tenant;
    CallSession out;
    if (!transaction.empty()) {
        auto lease = api.transactions->Acquire(transaction, OwnerOf(api, context));
        if (!lease.ok()) {
            return lease.status();
        }
        out.lease.emplace(std::move(*lease));
        out.session = &out.lease->session();
    } else {
        if (!tenant.empty() && tenant != kDefaultTenant) {
            // Like USE TENANT: a tenant that does not exist is NotFound, not an empty namespace.
            PHENIX_ASSIGN_OR_RETURN(std::vector<std::string> tenants, db.ListTenants());
            if (std::find(tenants.begin(), tenants.end(), tenant) == tenants.end()) {
                return Status::NotFound("tenant '" + tenant +
                                        "' (the phenix-tenant metadata) does not exist; CREATE "
                                        "TENANT creates it");
            }
        }
        out.own = tenant.empty() ? std::make_unique<QuerySession>(db)
                                 : std::make_unique<QuerySession>(db, tenant);
        out.own->set_copy_directory(api.copy_directory);
        if (api.security != nullptr) {
            // Security statements act as the call's principal (authorized before they run).
            out.own->set_security_admin(MakeSecurityAdmin(
                db, *api.security,
                context.principal != nullptr ? *context.principal : security::Principal::Local()));
        }
        out.session = out.own.get();
    }
    // Every statement is authorized before it runs (server/access.h).
    if (api.access != nullptr && context.principal != nullptr) {
        api.access->GuardSession(*out.session, context.principal, context.request_id,
                                 PeerAddress(call->peer()));
    }
    return out;
}

// Sets a session's interrupt for one call and clears it when the call is done with the session:
// a transaction's session outlives the call, and the interrupt refers to the call's context.
class InterruptScope {
  public:
    InterruptScope(QuerySession& session, std::function<bool()> interrupt) : session_(session) {
        session_.set_interrupt(std::move(interrupt));
    }
    ~InterruptScope() { session_.set_interrupt(nullptr); }
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

  private:
    QuerySession& session_;
};

// Sets a session's execution observer for one call and takes it off when the call is done with
// the session (a transaction's session outlives the call).
class ObserverScope {
  public:
    ObserverScope(QuerySession& session, ExecutionObserver* observer) : session_(session) {
        session_.set_execution_observer(observer);
    }
    ~ObserverScope() { session_.set_execution_observer(nullptr); }
    ObserverScope(const ObserverScope&) = delete;
    ObserverScope& operator=(const ObserverScope&) = delete;

  private:
    QuerySession& session_;
};

// ---------------------------------------------------------------- Query

// Query's server stream. The handler validates the request and queues Run on a worker; Run
// executes the statements with this object as their RowSink and writes one message at a time:
// Send waits until the previous write completed, so a slow client slows the statement instead of
// piling rows up in memory. gRPC owns the reactor's lifetime protocol: it is created with new in
// the handler and deletes itself in OnDone, after Finish.
class QueryCall final : public grpc::ServerWriteReactor<pb::QueryResponse>, public RowSink {
  public:
    QueryCall(const GrpcBackend& backend, grpc::CallbackServerContext* call,
              const pb::QueryRequest* request)
        : backend_(backend), call_(call), request_(request), context_(MakeContext(call, backend)) {}

    void Start() {
        Database* db = backend_.api->db.load();
        if (db == nullptr) {
            Complete(
                ToGrpcStatus(Status::Unavailable("the database is still opening; retry shortly")));
            return;
        }
        for (const auto& [name, value] : request_->params()) {
            auto parsed = FromProto(value);
            if (!parsed.ok()) {
                Complete(ToGrpcStatus(parsed.status().WithContext("params." + name)));
                return;
            }
            params_[name] = std::move(*parsed);
        }
        statements_ = QuerySession::SplitStatements(request_->query());
        if (statements_.empty()) {
            Complete(ToGrpcStatus(Status::InvalidArgument("\"query\" holds no statement")));
            return;
        }
        transaction_ = MetadataValue(call_, kTransactionKey);
        with_progress_ = request_->progress();
        const bool queued = backend_.submit(context_, [this, db] {
            const grpc::Status status = Run(*db);
            FinishCall(status);
        });
        if (!queued) {
            Complete(ToGrpcStatus(Status::Unavailable(RefusalMessage(*backend_.api))));
        }
    }

    void OnWriteDone(bool ok) override {
        MutexLock lock(mu_);
        writing_ = false;
        write_failed_ = write_failed_ || !ok;
        cv_.NotifyAll();
    }

    void OnCancel() override {
        context_->cancelled->store(true);
        MutexLock lock(mu_);
        cv_.NotifyAll();
    }

    void OnDone() override { delete this; }  // NOLINT(cppcoreguidelines-owning-memory): gRPC's

    Status OnColumns(const std::vector<std::string>& columns) override {
        pb::QueryResponse message;
        pb::StatementHeader* header = message.mutable_header();
        header->set_statement(statement_idx_);
        for (const std::string& column : columns) {
            header->add_columns(column);
        }
        header_sent_ = true;
        return Send(std::move(message));
    }

    Status OnRows(std::vector<std::vector<QueryValue>> rows) override {
        pb::QueryResponse message;
        std::size_t batch_bytes = 0;
        for (const std::vector<QueryValue>& row : rows) {
            pb::Row* out = message.mutable_rows()->add_rows();
            for (const QueryValue& value : row) {
                ToProto(value, *out->add_values());
            }
            batch_bytes += out->ByteSizeLong();
            ++rows_sent_;
            if (static_cast<std::size_t>(message.rows().rows_size()) >= kMaxBatchRows ||
                batch_bytes >= kMaxBatchBytes) {
                message.mutable_rows()->set_statement(statement_idx_);
                PHENIX_RETURN_IF_ERROR(Send(std::move(message)));
                message = pb::QueryResponse();
                batch_bytes = 0;
            }
        }
        if (message.has_rows() && message.rows().rows_size() > 0) {
            message.mutable_rows()->set_statement(statement_idx_);
            return Send(std::move(message));
        }
        return Status::Ok();
    }

  private:
    // Runs the statements on a worker; returns the call's final status. The session (and the
    // transaction's lease) is released before the call finishes, so a client's next call in the
    // same transaction never finds it busy.
    grpc::Status Run(Database& db) {
        if (context_->IsCancelled() || call_->IsCancelled()) {
            return ToGrpcStatus(Status(StatusCode::kCancelled, "the client went away"));
        }
        if (Status admitted = AdmitCall(*backend_.api, call_, "Query", {}, *context_);
            !admitted.ok()) {
            return ToGrpcStatus(admitted);
        }
        auto session = OpenSession(*backend_.api, db, transaction_, *context_, call_);
        if (!session.ok()) {
            return ToGrpcStatus(session.status());
        }
        QuerySession& query_session = *session->session;
        const InterruptScope interrupt(query_session, CallInterrupt(*context_, call_));
        // Tracing (server/tracing.h): the statements' stages, plans and commits become spans
        // of the call. The slow-query log watches the statements (server/slow_query_log.h),
        // its records naming the call's trace.
        RequestTrace* const trace = context_->trace.get();
        ExecutionObserver* observer = trace;
        std::optional<SlowQueryWatch> slow_watch;
        if (const SlowQueryLog* slow_log = backend_.api->slow_queries;
            slow_log != nullptr && slow_log->enabled()) {
            slow_watch.emplace(
                *slow_log,
                SlowQueryRequest{
                    .route = "/phenix.v1.Phenix/Query",
                    .client = PeerAddress(call_->peer()),
                    .principal = context_->principal != nullptr ? context_->principal->subject : "",
                    .trace_id = trace != nullptr ? trace->TraceId() : "",
                    .span_id = trace != nullptr ? trace->RootSpanId() : ""},
                trace);
            observer = &*slow_watch;
        }
        const ObserverScope observe(query_session, observer);
        const CommitObserverScope commits(trace);
        for (std::size_t stmt_idx = 0; stmt_idx < statements_.size(); ++stmt_idx) {
            statement_idx_ = static_cast<std::uint32_t>(stmt_idx);
            header_sent_ = false;
            rows_sent_ = 0;
            Status failed;
            if (context_->DeadlinePassed()) {
                failed = Status(StatusCode::kDeadlineExceeded,
                                "the request deadline passed before statement " +
                                    std::to_string(stmt_idx) + " ran");
            } else {
                if (with_progress_) {
                    query_session.set_progress(
                        [this, stmt = statement_idx_](std::string_view line) {
                            Progress(stmt, line);
                        });
                }
                auto result = RunWatched(
                    slow_watch ? &*slow_watch : nullptr, query_session, stmt_idx,
                    statements_[stmt_idx], params_,
                    [&] { return query_session.Execute(statements_[stmt_idx], *this, params_); });
                if (with_progress_) {
                    query_session.set_progress(nullptr);  // a transaction's session lives on
                }
                if (result.ok()) {
                    failed = EndStatement(*result);
                } else {
                    RecordQueryError(*backend_.api, result.status());
                    failed = EngineStatus(result.status(), *context_);
                }
            }
            if (!failed.ok()) {
                call_->AddTrailingMetadata(std::string(kStatementKey), std::to_string(stmt_idx));
                return ToGrpcStatus(failed);
            }
        }
        pb::QueryResponse done;
        done.mutable_done()->set_statements(static_cast<std::uint32_t>(statements_.size()));
        return ToGrpcStatus(Send(std::move(done)));
    }

    Status EndStatement(const QueryResult& result) {
        if (result.has_rows && !header_sent_) {
            PHENIX_RETURN_IF_ERROR(OnColumns(result.columns));
        }
        pb::QueryResponse message;
        pb::StatementEnd* end = message.mutable_end();
        end->set_statement(statement_idx_);
        end->set_has_rows(result.has_rows);
        if (result.has_rows) {
            end->set_rows(rows_sent_);
        } else {
            end->set_message(result.message);
            end->set_affected(result.affected);
        }
        return Send(std::move(message));
    }

    // A progress line of statement `stmt` (QueryRequest.progress; decision 0032's lines, from the
    // session's progress function as on REST). Called on the worker, or for CREATE INDEX on an
    // engine thread while the worker waits inside the statement: never beside another Send. A
    // failed write (client gone, deadline) is the interrupt's to notice.
    void Progress(std::uint32_t stmt, std::string_view line) {
        pb::QueryResponse message;
        pb::StatementProgress* progress = message.mutable_progress();
        progress->set_statement(stmt);
        progress->set_text(std::string(line));
        Send(std::move(message)).IgnoreError();
    }

    // Writes `message` once the previous write completed. Cancelled when the client went away
    // (or the deadline passed: gRPC cancels the call then).
    Status Send(pb::QueryResponse message) {
        {
            MutexLock lock(mu_);
            // Polled as well as notified: a forced shutdown sets the flag without notifying.
            while (writing_ && !context_->IsCancelled() && !context_->DeadlinePassed()) {
                cv_.WaitFor(mu_, kWritePoll);
            }
            if (writing_ || context_->IsCancelled() || write_failed_) {
                return Status(StatusCode::kCancelled,
                              "the client went away or the deadline passed");
            }
            pending_ = std::move(message);
            writing_ = true;
        }
        StartWrite(&pending_);
        return Status::Ok();
    }

    // Finishes the call once no write is in flight. OnWriteDone always comes, with ok=false when
    // the call is cancelled; a write a stalled client never reads completes only then, so once
    // the call's flag is set (deadline, client gone, forced shutdown) the call is cancelled here
    // rather than waiting for the client.
    void FinishCall(const grpc::Status& status) {
        {
            MutexLock lock(mu_);
            bool cancel_sent = false;
            while (writing_) {
                if (!cancel_sent && (context_->IsCancelled() || context_->DeadlinePassed())) {
                    call_->TryCancel();
                    cancel_sent = true;
                }
                cv_.WaitFor(mu_, kWritePoll);
            }
        }
        Complete(status);
    }

    void Complete(const grpc::Status& status) {
        RecordCall(backend_, "/phenix.v1.Phenix/Query", call_, status, start_, context_.get());
        Finish(status);
    }

    // Immutable after construction.
    const GrpcBackend& backend_;
    grpc::CallbackServerContext* const call_;
    const pb::QueryRequest* const request_;
    const std::shared_ptr<RequestContext> context_;
    const RequestContext::Clock::time_point start_ = RequestContext::Clock::now();

    // Set by Start, then used by the worker alone.
    QueryParams params_;
    std::vector<std::string> statements_;
    std::string transaction_;
    bool with_progress_ = false;
    std::uint32_t statement_idx_ = 0;
    std::uint64_t rows_sent_ = 0;
    bool header_sent_ = false;

    Mutex mu_;
    CondVar cv_;  // signalled when a write completes or the call is cancelled
    bool writing_ GUARDED_BY(mu_) = false;
    bool write_failed_ GUARDED_BY(mu_) = false;
    pb::QueryResponse pending_;  // the message being written; replaced only while !writing_
};

// ---------------------------------------------------------------- UpsertStream

// UpsertStream's client stream: one read at a time; each message is committed (one atomic
// write) on a worker, and only then is the next one read. Self-deleting like QueryCall.
class UpsertStreamCall final : public grpc::ServerReadReactor<pb::UpsertRequest> {
  public:
    UpsertStreamCall(const GrpcBackend& backend, grpc::CallbackServerContext* call,
                     pb::UpsertResponse* response)
        : backend_(backend),
          call_(call),
          response_(response),
          context_(MakeContext(call, backend)) {}

    void Start() {
        if (!MetadataValue(call_, kTransactionKey).empty()) {
            Complete(ToGrpcStatus(TransactionNotAllowed("UpsertStream")));
            return;
        }
        StartRead(&request_);
    }

    void OnReadDone(bool ok) override {
        if (!ok) {
            // The client closed its side (or the call was cancelled: then this status is not
            // delivered).
            Database* db = backend_.api->db.load();
            response_->set_upserted(upserted_);
            response_->set_timestamp(db != nullptr ? db->CurrentTimestamp() : 0);
            Complete(grpc::Status::OK);
            return;
        }
        const bool queued = backend_.submit(context_, [this] {
            Status written = Write();
            if (written.ok()) {
                StartRead(&request_);
                return;
            }
            Complete(ToGrpcStatus(written.WithContext(
                "message " + std::to_string(messages_) + " (" + std::to_string(messages_) +
                " messages with " + std::to_string(upserted_) +
                " entities were committed before it)")));
        });
        if (!queued) {
            Complete(ToGrpcStatus(Status::Unavailable(
                RefusalMessage(*backend_.api) + " (" + std::to_string(messages_) +
                " messages with " + std::to_string(upserted_) + " entities were committed)")));
        }
    }

    void OnCancel() override { context_->cancelled->store(true); }

    void Complete(const grpc::Status& status) {
        RecordCall(backend_, "/phenix.v1.Phenix/UpsertStream", call_, status, start_,
                   context_.get());
        Finish(status);
    }

    void OnDone() override { delete this; }  // NOLINT(cppcoreguidelines-owning-memory): gRPC's

  private:
    Status Write() {
        if (context_->IsCancelled()) {
            return Status(StatusCode::kCancelled, "the client went away");
        }
        if (context_->DeadlinePassed()) {
            return Status(StatusCode::kDeadlineExceeded, "the request deadline passed");
        }
        Database* db = backend_.api->db.load();
        if (db == nullptr) {
            return Status::Unavailable("the database is still opening; retry shortly");
        }
        // Every message names its collection: each is authorized.
        PHENIX_RETURN_IF_ERROR(
            AdmitCall(*backend_.api, call_, "UpsertStream", request_.collection(), *context_));
        std::vector<Entity> entities;
        entities.reserve(static_cast<std::size_t>(request_.entities_size()));
        for (const pb::Entity& entity : request_.entities()) {
            entities.push_back(EntityFromProto(entity));
        }
        Status within = CheckQuota(*backend_.api, *context_, entities.size());
        const CommitObserverScope commits(context_->trace.get());  // commit spans when traced
        auto written = within.ok() ? UpsertEntities(*db, RefOf(*context_, request_.collection()),
                                                    std::move(entities))
                                   : Result<UpsertOutcome>(within);
        AuditCall(*backend_.api, call_, "UpsertStream", request_.collection(), *context_,
                  written.status());
        if (!written.ok()) {
            return written.status();
        }
        ++messages_;
        upserted_ += written->upserted;
        return Status::Ok();
    }

    // Immutable after construction.
    const GrpcBackend& backend_;
    grpc::CallbackServerContext* const call_;
    pb::UpsertResponse* const response_;
    const std::shared_ptr<RequestContext> context_;
    const RequestContext::Clock::time_point start_ = RequestContext::Clock::now();

    // Used by one thread at a time: a read completes before the worker runs, and the worker
    // starts the next read last.
    pb::UpsertRequest request_;
    std::uint64_t messages_ = 0;
    std::uint64_t upserted_ = 0;
};

}  // namespace

// ---------------------------------------------------------------- errors and values

grpc::StatusCode GrpcCodeFor(StatusCode code) {
    // From the one table (errors.cc): the gRPC code is the one ErrorCodeName spells.
    static const std::pair<std::string_view, grpc::StatusCode> kCodes[] = {
        {"OK", grpc::StatusCode::OK},
        {"CANCELLED", grpc::StatusCode::CANCELLED},
        {"INVALID_ARGUMENT", grpc::StatusCode::INVALID_ARGUMENT},
        {"DEADLINE_EXCEEDED", grpc::StatusCode::DEADLINE_EXCEEDED},
        {"NOT_FOUND", grpc::StatusCode::NOT_FOUND},
        {"ALREADY_EXISTS", grpc::StatusCode::ALREADY_EXISTS},
        {"PERMISSION_DENIED", grpc::StatusCode::PERMISSION_DENIED},
        {"RESOURCE_EXHAUSTED", grpc::StatusCode::RESOURCE_EXHAUSTED},
        {"FAILED_PRECONDITION", grpc::StatusCode::FAILED_PRECONDITION},
        {"ABORTED", grpc::StatusCode::ABORTED},
        {"UNIMPLEMENTED", grpc::StatusCode::UNIMPLEMENTED},
        {"INTERNAL", grpc::StatusCode::INTERNAL},
        {"UNAVAILABLE", grpc::StatusCode::UNAVAILABLE},
        {"DATA_LOSS", grpc::StatusCode::DATA_LOSS},
        {"UNAUTHENTICATED", grpc::StatusCode::UNAUTHENTICATED},
    };
    const std::string_view name = ErrorCodeName(code);
    for (const auto& [code_name, grpc_code] : kCodes) {
        if (code_name == name) {
            return grpc_code;
        }
    }
    return grpc::StatusCode::UNKNOWN;
}

grpc::Status ToGrpcStatus(const Status& status) {
    if (status.ok()) {
        return grpc::Status::OK;
    }
    return {GrpcCodeFor(status.code()), status.message()};
}

void ToProto(const QueryValue& value, pb::Value& out) {
    switch (value.type) {
        case QueryValue::Type::kNull:
            out.set_null_value(google::protobuf::NULL_VALUE);
            return;
        case QueryValue::Type::kBool:
            out.set_bool_value(value.bool_value);
            return;
        case QueryValue::Type::kInt:
            out.set_int_value(value.int_value);
            return;
        case QueryValue::Type::kFloat:
            out.set_float_value(value.float_value);
            return;
        case QueryValue::Type::kString:
            out.set_string_value(value.text);
            return;
        case QueryValue::Type::kVector:
            out.mutable_vector_value()->mutable_values()->Add(value.vector.begin(),
                                                              value.vector.end());
            return;
        case QueryValue::Type::kJson:
            out.set_json_value(value.text);
            return;
    }
}

Result<QueryValue> FromProto(const pb::Value& value) {
    switch (value.kind_case()) {
        case pb::Value::kNullValue:
            return QueryValue::Null();
        case pb::Value::kBoolValue:
            return QueryValue::Bool(value.bool_value());
        case pb::Value::kIntValue:
            return QueryValue::Int(value.int_value());
        case pb::Value::kFloatValue:
            return QueryValue::Float(value.float_value());
        case pb::Value::kStringValue:
            return QueryValue::String(value.string_value());
        case pb::Value::kVectorValue:
            return QueryValue::Vector(std::vector<float>(value.vector_value().values().begin(),
                                                         value.vector_value().values().end()));
        case pb::Value::kJsonValue: {
            auto parsed = QueryValue::FromJson(value.json_value());
            if (!parsed.ok()) {
                return parsed.status();
            }
            if (parsed->type != QueryValue::Type::kJson) {
                return Status::InvalidArgument(
                    "json_value must hold a JSON object or array; use the scalar kinds for "
                    "scalars");
            }
            return parsed;
        }
        case pb::Value::KIND_NOT_SET:
            break;
    }
    return Status::InvalidArgument("a Value without a kind (set null_value for NULL)");
}

// ---------------------------------------------------------------- the service

GrpcService::GrpcService(GrpcBackend backend) : backend_(std::move(backend)) {}

grpc::ServerUnaryReactor* GrpcService::RunUnary(
    grpc::CallbackServerContext* call, std::string_view method, bool allows_transaction,
    std::string collection, std::function<Status(Database&, RequestContext&)> work) {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    const auto start = RequestContext::Clock::now();
    auto context = MakeContext(call, backend_);
    // Records the call, then finishes it (after Finish, `call` is gone).
    auto complete = [this, method, call, reactor, start, context](const Status& status) {
        const grpc::Status grpc_status = ToGrpcStatus(status);
        RecordCall(backend_, "/phenix.v1.Phenix/" + std::string(method), call, grpc_status, start,
                   context.get());
        reactor->Finish(grpc_status);
    };
    if (!allows_transaction && !MetadataValue(call, kTransactionKey).empty()) {
        complete(TransactionNotAllowed(method));
        return reactor;
    }
    Database* db = backend_.api->db.load();
    if (db == nullptr) {
        complete(Status::Unavailable("the database is still opening; retry shortly"));
        return reactor;
    }
    const ApiState* api = backend_.api;
    const bool queued =
        backend_.submit(context, [complete, call, context, db, api, method,
                                  collection = std::move(collection), work = std::move(work)] {
            Status status;
            if (context->IsCancelled() || call->IsCancelled()) {
                status = Status(StatusCode::kCancelled, "the client went away");
            } else if (context->DeadlinePassed()) {
                status = Status(StatusCode::kDeadlineExceeded,
                                "the request deadline passed while it waited for a worker");
            } else if (Status admitted = AdmitCall(*api, call, method, collection, *context);
                       !admitted.ok()) {
                status = admitted;
            } else {
                // A traced call's commits become spans (server/tracing.h).
                const CommitObserverScope commits(context->trace.get());
                status = EngineStatus(work(*db, *context), *context);
                AuditCall(*api, call, method, collection, *context, status);
            }
            complete(status);
        });
    if (!queued) {
        complete(Status::Unavailable(RefusalMessage(*backend_.api)));
    }
    return reactor;
}

grpc::ServerUnaryReactor* GrpcService::Health(grpc::CallbackServerContext* call,
                                              const pb::HealthRequest* /*request*/,
                                              pb::HealthResponse* response) {
    // Like /health and /ready: answered here, without a worker, even when all are busy.
    switch (backend_.api->state.load()) {
        case ServingState::kStarting:
            response->set_status("starting");
            break;
        case ServingState::kReady:
            response->set_status("ready");
            break;
        case ServingState::kDraining:
            response->set_status("draining");
            break;
    }
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    // Tracing on: a context for the call's trace (its span, and the answer's traceparent).
    const std::shared_ptr<RequestContext> context =
        backend_.start_trace ? MakeContext(call, backend_) : nullptr;
    RecordCall(backend_, "/phenix.v1.Phenix/Health", call, grpc::Status::OK,
               RequestContext::Clock::now(), context.get());
    reactor->Finish(grpc::Status::OK);
    return reactor;
}

grpc::ServerUnaryReactor* GrpcService::CreateCollection(grpc::CallbackServerContext* call,
                                                        const pb::CreateCollectionRequest* request,
                                                        pb::CreateCollectionResponse* response) {
    return RunUnary(call, "CreateCollection", false, request->name(),
                    [request, response](Database& db, RequestContext& context) -> Status {
                        CollectionSpec spec;
                        spec.ref = RefOf(context, request->name());
                        if (request->has_dimension()) {
                            if (request->dimension() == 0) {
                                return Status::InvalidArgument(
                                    "\"dimension\" must be a positive integer or absent");
                            }
                            spec.dimension = request->dimension();
                        }
                        if (!request->metric().empty()) {
                            PHENIX_ASSIGN_OR_RETURN(spec.metric, ParseMetric(request->metric()));
                        }
                        Json settings = Json::object();
                        if (request->has_hnsw()) {
                            settings["hnsw"] = StructToJson(request->hnsw());
                        }
                        spec.settings = Dump(settings);
                        PutCollectionOutcome outcome = PutCollection(db, spec);
                        PHENIX_RETURN_IF_ERROR(outcome.status);
                        CollectionToProto(*outcome.info, *response->mutable_collection());
                        response->set_created(outcome.created);
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::GetCollection(grpc::CallbackServerContext* call,
                                                     const pb::GetCollectionRequest* request,
                                                     pb::Collection* response) {
    return RunUnary(call, "GetCollection", false, request->name(),
                    [request, response](Database& db, RequestContext& context) -> Status {
                        PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                                                db.GetCollection(RefOf(context, request->name())));
                        CollectionToProto(info, *response);
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::ListCollections(
    grpc::CallbackServerContext* call, const pb::ListCollectionsRequest* /*request*/,
    pb::ListCollectionsResponse* response) {
    return RunUnary(call, "ListCollections", false, {},
                    [response](Database& db, RequestContext& context) -> Status {
                        PHENIX_ASSIGN_OR_RETURN(std::vector<CollectionInfo> list,
                                                db.ListCollections(RefOf(context, {}).tenant));
                        for (const CollectionInfo& info : list) {
                            CollectionToProto(info, *response->add_collections());
                        }
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::DeleteCollection(
    grpc::CallbackServerContext* call, const pb::DeleteCollectionRequest* request,
    pb::DeleteCollectionResponse* /*response*/) {
    return RunUnary(call, "DeleteCollection", false, request->name(),
                    [request](Database& db, RequestContext& context) {
                        return db.DropCollection(RefOf(context, request->name()));
                    });
}

grpc::ServerUnaryReactor* GrpcService::Upsert(grpc::CallbackServerContext* call,
                                              const pb::UpsertRequest* request,
                                              pb::UpsertResponse* response) {
    return RunUnary(
        call, "Upsert", false, request->collection(),
        [api = backend_.api, request, response](Database& db, RequestContext& context) -> Status {
            std::vector<Entity> entities;
            entities.reserve(static_cast<std::size_t>(request->entities_size()));
            for (const pb::Entity& entity : request->entities()) {
                entities.push_back(EntityFromProto(entity));
            }
            PHENIX_RETURN_IF_ERROR(CheckQuota(*api, context, entities.size()));
            PHENIX_ASSIGN_OR_RETURN(
                UpsertOutcome written,
                UpsertEntities(db, RefOf(context, request->collection()), std::move(entities)));
            response->set_upserted(written.upserted);
            response->set_timestamp(written.timestamp);
            return Status::Ok();
        });
}

grpc::ServerReadReactor<pb::UpsertRequest>* GrpcService::UpsertStream(
    grpc::CallbackServerContext* call, pb::UpsertResponse* response) {
    // gRPC's reactor protocol: the reactor deletes itself in OnDone.
    auto* reactor = new UpsertStreamCall(backend_, call, response);  // NOLINT: see above
    reactor->Start();
    return reactor;
}

grpc::ServerUnaryReactor* GrpcService::GetEntity(grpc::CallbackServerContext* call,
                                                 const pb::GetEntityRequest* request,
                                                 pb::Entity* response) {
    return RunUnary(call, "GetEntity", false, request->collection(),
                    [request, response](Database& db, RequestContext& context) -> Status {
                        PHENIX_ASSIGN_OR_RETURN(
                            Entity entity,
                            db.Get(RefOf(context, request->collection()), request->id()));
                        EntityToProto(entity, request->include_vector(), *response);
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::DeleteEntity(grpc::CallbackServerContext* call,
                                                    const pb::DeleteEntityRequest* request,
                                                    pb::DeleteEntityResponse* /*response*/) {
    return RunUnary(call, "DeleteEntity", false, request->collection(),
                    [request](Database& db, RequestContext& context) {
                        return db.Delete(RefOf(context, request->collection()), request->id());
                    });
}

grpc::ServerUnaryReactor* GrpcService::Search(grpc::CallbackServerContext* call,
                                              const pb::SearchRequest* request,
                                              pb::SearchResponse* response) {
    ApiState* api = backend_.api;
    return RunUnary(
        call, "Search", true, request->collection(),
        [api, call, request, response](Database& db, RequestContext& context) -> Status {
            const std::string& name = request->collection();
            if (!request->has_query()) {
                return Status::InvalidArgument(
                    "\"query\" (the JSON search body: vector, k, filter, ...) is required");
            }
            Json body = StructToJson(request->query());
            if (auto collection = body.find("collection"); collection != body.end()) {
                if (!collection->is_string() || collection->get<std::string>() != name) {
                    return Status::InvalidArgument(
                        "\"collection\" in the query must match the request's collection '" + name +
                        "'");
                }
            }
            body["collection"] = name;
            // "explain": true adds the plan that produced the results, as REST's search does.
            bool explain = false;
            if (auto given = body.find("explain"); given != body.end()) {
                if (!given->is_boolean()) {
                    return Status::InvalidArgument("explain: expected true or false");
                }
                explain = given->get<bool>();
                body.erase(given);
            }
            PHENIX_ASSIGN_OR_RETURN(
                CallSession session,
                OpenSession(*api, db, MetadataValue(call, kTransactionKey), context, call));
            const InterruptScope interrupt(*session.session, CallInterrupt(context, call));
            session.session->set_collect_plan(explain);
            Result<QueryResult> ran = session.session->ExecuteJson(Dump(body));
            session.session->set_collect_plan(false);  // a transaction's session outlives it
            PHENIX_ASSIGN_OR_RETURN(QueryResult result, std::move(ran));
            for (const std::vector<QueryValue>& row : result.rows) {
                auto* fields = response->add_results()->mutable_fields();
                for (std::size_t col = 0; col < result.columns.size() && col < row.size(); ++col) {
                    ToProto(row[col], (*fields)[result.columns[col]]);
                }
            }
            if (explain && result.plan.has_value()) {
                google::protobuf::Value plan;
                JsonToValue(Json::parse(SearchPlanJson(*result.plan, result.plan_strategy), nullptr,
                                        /*allow_exceptions=*/false),
                            plan);
                *response->mutable_plan() = plan.struct_value();
            }
            return Status::Ok();
        });
}

grpc::ServerWriteReactor<pb::QueryResponse>* GrpcService::Query(grpc::CallbackServerContext* call,
                                                                const pb::QueryRequest* request) {
    // gRPC's reactor protocol: the reactor deletes itself in OnDone.
    auto* reactor = new QueryCall(backend_, call, request);  // NOLINT: see above
    reactor->Start();
    return reactor;
}

grpc::ServerUnaryReactor* GrpcService::BeginTransaction(grpc::CallbackServerContext* call,
                                                        const pb::BeginTransactionRequest* request,
                                                        pb::BeginTransactionResponse* response) {
    ApiState* api = backend_.api;
    return RunUnary(call, "BeginTransaction", false, {},
                    [api, request, response](Database& db, RequestContext& context) -> Status {
                        TransactionOptions options;
                        options.read_only = request->read_only();
                        if (request->has_as_of()) {
                            options.as_of = request->as_of();
                        }
                        const std::string owner = OwnerOf(*api, context);
                        PHENIX_ASSIGN_OR_RETURN(
                            std::string id,
                            api->transactions->Begin(db, options, api->copy_directory, owner));
                        // The transaction's statements run in the call's tenant.
                        if (!context.tenant.empty()) {
                            if (auto lease = api->transactions->Acquire(id, owner); lease.ok()) {
                                lease->session().set_tenant(context.tenant);
                            }
                        }
                        response->set_id(id);
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::CommitTransaction(
    grpc::CallbackServerContext* call, const pb::CommitTransactionRequest* request,
    pb::CommitTransactionResponse* response) {
    ApiState* api = backend_.api;
    return RunUnary(call, "CommitTransaction", false, {},
                    [api, request, response](Database&, RequestContext& context) -> Status {
                        auto timestamp =
                            api->transactions->Commit(request->id(), OwnerOf(*api, context));
                        if (timestamp.ok()) {
                            api->metrics->RecordTransaction("committed");
                        } else if (timestamp.status().code() == StatusCode::kAborted) {
                            api->metrics->RecordTransaction("aborted");
                        }
                        PHENIX_RETURN_IF_ERROR(timestamp.status());
                        response->set_timestamp(*timestamp);
                        return Status::Ok();
                    });
}

grpc::ServerUnaryReactor* GrpcService::RollbackTransaction(
    grpc::CallbackServerContext* call, const pb::RollbackTransactionRequest* request,
    pb::RollbackTransactionResponse* /*response*/) {
    ApiState* api = backend_.api;
    return RunUnary(call, "RollbackTransaction", false, {},
                    [api, request](Database&, RequestContext& context) -> Status {
                        PHENIX_RETURN_IF_ERROR(
                            api->transactions->Rollback(request->id(), OwnerOf(*api, context)));
                        api->metrics->RecordTransaction("rolled_back");
                        return Status::Ok();
                    });
}

}  // namespace phenix::server
