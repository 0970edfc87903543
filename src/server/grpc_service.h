// SPDX-License-Identifier: Apache-2.0
//
// GrpcService: phenix.v1.Phenix (proto/phenix/v1/phenix.proto, docs/grpc.md) over the same
// engine paths as the REST handlers: QuerySession (with a RowSink for Query's server stream),
// Database, the shared TransactionRegistry and the transport-neutral service.h.
//
// It uses gRPC's callback API: a method's callback runs on a gRPC thread, never blocks, and hands
// the engine call to the server's bounded WorkerPool through GrpcBackend::submit, the same
// admission REST has (a full queue or a draining server: UNAVAILABLE). Query's reactor writes
// one message at a time from the worker and waits for each write (backpressure); UpsertStream's
// reactor reads one message, commits it on a worker, then reads the next.
//
// Errors: the Status → gRPC code table is ErrorCodeName's (errors.h); a Cancelled caused by the
// deadline is DEADLINE_EXCEEDED. gRPC deadlines and client cancellation reach running statements
// through QuerySession::set_interrupt.
//
// Thread-safe: one instance serves every call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>

#include <phenix/phenixql.h>
#include <phenix/status.h>

#include "phenix/v1/phenix.grpc.pb.h"
#include "server/api.h"
#include "server/http_types.h"

namespace phenix::server {

/// A finished call, for the access log and metrics.
struct GrpcCallRecord {
    std::string_view method;  ///< "/phenix.v1.Phenix/Query"
    StatusCode code = StatusCode::kOk;
    std::chrono::microseconds latency{0};
    std::string peer;  ///< "ipv4:127.0.0.1:41234"
    std::string traceparent;  ///< W3C Trace Context metadata, empty when absent (tracing)
    std::string tracestate;
    /// The call's trace when it was started with the call (GrpcBackend::start_trace); else
    /// null, and the recorder starts one from traceparent/tracestate.
    std::shared_ptr<RequestTrace> trace;
};

/// What the gRPC service needs from the server around it.
struct GrpcBackend {
    /// The database, serving state, transactions and metrics shared with REST.
    ApiState* api = nullptr;
    /// Runs `task` on a worker, counted as in flight for the graceful drain; false (and `task`
    /// dropped) when the queue is full or the server is draining.
    std::function<bool(std::shared_ptr<RequestContext> context, std::function<void()> task)> submit;
    /// The largest message a client may send, in bytes.
    int max_receive_message_bytes = 64 << 20;
    /// A call's deadline when the client set none; 0: none.
    std::uint32_t default_timeout_ms = 0;
    /// Called once per call, just before it finishes, on the thread finishing it; may be null.
    std::function<void(const GrpcCallRecord& record)> on_finish;
    /// Starts a call's trace from its traceparent and tracestate metadata (empty when absent)
    /// when the call arrives; null when tracing is off. The trace gets the call's stage and
    /// commit spans, and its ids go into the call's slow-query records.
    std::function<std::shared_ptr<RequestTrace>(std::string_view traceparent,
                                                std::string_view tracestate)>
        start_trace;
};

/// The gRPC code for a Status code: the code named ErrorCodeName(code).
grpc::StatusCode GrpcCodeFor(StatusCode code);
/// A grpc::Status with the code of `status` and its message.
grpc::Status ToGrpcStatus(const Status& status);

/// Conversions between PhenixQL values and the wire's Value.
void ToProto(const QueryValue& value, phenix::v1::Value& out);
Result<QueryValue> FromProto(const phenix::v1::Value& value);

class GrpcService final : public phenix::v1::Phenix::CallbackService {
  public:
    explicit GrpcService(GrpcBackend backend);

    grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* context,
                                     const phenix::v1::HealthRequest* request,
                                     phenix::v1::HealthResponse* response) override;
    grpc::ServerUnaryReactor* CreateCollection(
        grpc::CallbackServerContext* context, const phenix::v1::CreateCollectionRequest* request,
        phenix::v1::CreateCollectionResponse* response) override;
    grpc::ServerUnaryReactor* GetCollection(grpc::CallbackServerContext* context,
                                            const phenix::v1::GetCollectionRequest* request,
                                            phenix::v1::Collection* response) override;
    grpc::ServerUnaryReactor* ListCollections(
        grpc::CallbackServerContext* context, const phenix::v1::ListCollectionsRequest* request,
        phenix::v1::ListCollectionsResponse* response) override;
    grpc::ServerUnaryReactor* DeleteCollection(
        grpc::CallbackServerContext* context, const phenix::v1::DeleteCollectionRequest* request,
        phenix::v1::DeleteCollectionResponse* response) override;
    grpc::ServerUnaryReactor* Upsert(grpc::CallbackServerContext* context,
                                     const phenix::v1::UpsertRequest* request,
                                     phenix::v1::UpsertResponse* response) override;
    grpc::ServerReadReactor<phenix::v1::UpsertRequest>* UpsertStream(
        grpc::CallbackServerContext* context, phenix::v1::UpsertResponse* response) override;
    grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                        const phenix::v1::GetEntityRequest* request,
                                        phenix::v1::Entity* response) override;
    grpc::ServerUnaryReactor* DeleteEntity(grpc::CallbackServerContext* context,
                                           const phenix::v1::DeleteEntityRequest* request,
                                           phenix::v1::DeleteEntityResponse* response) override;
    grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                     const phenix::v1::SearchRequest* request,
                                     phenix::v1::SearchResponse* response) override;
    grpc::ServerWriteReactor<phenix::v1::QueryResponse>* Query(
        grpc::CallbackServerContext* context, const phenix::v1::QueryRequest* request) override;
    grpc::ServerUnaryReactor* BeginTransaction(
        grpc::CallbackServerContext* context, const phenix::v1::BeginTransactionRequest* request,
        phenix::v1::BeginTransactionResponse* response) override;
    grpc::ServerUnaryReactor* CommitTransaction(
        grpc::CallbackServerContext* context, const phenix::v1::CommitTransactionRequest* request,
        phenix::v1::CommitTransactionResponse* response) override;
    grpc::ServerUnaryReactor* RollbackTransaction(
        grpc::CallbackServerContext* context, const phenix::v1::RollbackTransactionRequest* request,
        phenix::v1::RollbackTransactionResponse* response) override;

  private:
    // Runs `work` on a worker (admission, deadline and cancellation checks first) and finishes
    // the call with its status. `allows_transaction`: the phenix-transaction metadata is allowed.
    // Before `work`, the enforcement point (server/access.h) admits the call: `method`'s rule on
    // `collection` (empty for tenant-wide methods).
    grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context,
                                       std::string_view method, bool allows_transaction,
                                       std::string collection,
                                       std::function<Status(Database&, RequestContext&)> work);

    const GrpcBackend backend_;
};

}  // namespace phenix::server
