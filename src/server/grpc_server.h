// SPDX-License-Identifier: Apache-2.0
//
// GrpcServer: the gRPC listener's lifecycle in phenixd (--grpc HOST:PORT): build and start a
// grpc::Server around GrpcService, and shut it down. The calls' engine work runs on the server's
// WorkerPool (GrpcBackend::submit), so the graceful drain in Server::Run covers gRPC and REST
// alike; Shutdown then stops the listener and cancels what is still open (idle client streams).
//
// Confined: Start and Shutdown are called from Server::Run's thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <phenix/result.h>

#include "server/grpc_service.h"

namespace phenix::server {

/// TLS for the gRPC listener (docs/security.md#tls): the files are watched by gRPC itself
/// (grpc::experimental::FileWatcherCertificateProvider), every `refresh_interval_s`: a new
/// certificate is picked up without a restart.
struct GrpcTls {
    std::string cert;
    std::string key;
    std::string client_ca;  ///< non-empty: clients must present a certificate it signed
    unsigned refresh_interval_s = 5;
};

class GrpcServer {
  public:
    explicit GrpcServer(GrpcBackend backend);
    ~GrpcServer();
    GrpcServer(const GrpcServer&) = delete;
    GrpcServer& operator=(const GrpcServer&) = delete;

    /// Binds `address` ("HOST:PORT"; port 0 picks a free one) and starts serving. Returns the
    /// bound "HOST:PORT". InvalidArgument for a malformed address, Unavailable when it cannot
    /// listen there.
    /// With `tls`, the listener speaks TLS (the files were checked by the caller).
    Result<std::string> Start(const std::string& address,
                              const std::optional<GrpcTls>& tls = std::nullopt);
    /// Stops accepting calls; calls still open after `grace` are cancelled; returns when every
    /// call has finished. Idempotent.
    void Shutdown(std::chrono::milliseconds grace);
    /// The grpc.health.v1.Health service's answer for "" and phenix.v1.Phenix:
    /// SERVING once the database is open, NOT_SERVING while starting and draining (as /ready).
    void SetServing(bool serving);

  private:
    GrpcService service_;
    const int max_receive_message_bytes_;
    std::unique_ptr<grpc::Server> server_;
};

}  // namespace phenix::server
