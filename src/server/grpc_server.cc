// SPDX-License-Identifier: Apache-2.0
#include "server/grpc_server.h"

#include <utility>

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "server/config.h"

namespace phenix::server {

GrpcServer::GrpcServer(GrpcBackend backend)
    : service_(backend), max_receive_message_bytes_(backend.max_receive_message_bytes) {}

GrpcServer::~GrpcServer() {
    Shutdown(std::chrono::milliseconds(0));
}

namespace {

// TLS from files gRPC watches itself: a changed certificate (or client CA) is used for new
// connections once its files change (a pair that does not load keeps the previous one).
// TLS 1.2 minimum, 1.3 preferred, ECDHE + AEAD ciphers are gRPC's own defaults.
std::shared_ptr<grpc::ServerCredentials> TlsCredentials(const GrpcTls& tls) {
    using grpc::experimental::FileWatcherCertificateProvider;
    auto provider = std::make_shared<FileWatcherCertificateProvider>(
        tls.key, tls.cert, tls.client_ca, tls.refresh_interval_s);
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    if (tls.client_ca.empty()) {
        options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    } else {
        options.watch_root_certs();
        options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    }
    return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

Result<std::string> GrpcServer::Start(const std::string& address,
                                      const std::optional<GrpcTls>& tls) {
    PHENIX_ASSIGN_OR_RETURN(HostPort host_port, ParseHostPort(address));
    grpc::EnableDefaultHealthCheckService(true);  // grpc.health.v1.Health (SetServing)
    grpc::ServerBuilder builder;
    int bound_port = 0;
    builder.AddListeningPort(
        address, tls.has_value() ? TlsCredentials(*tls) : grpc::InsecureServerCredentials(),
        &bound_port);
    builder.RegisterService(&service_);
    builder.SetMaxReceiveMessageSize(max_receive_message_bytes_);
    // gRPC sets SO_REUSEPORT by default: a second phenixd on the same port would then share it
    // silently instead of failing to start.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || bound_port == 0) {
        server_.reset();
        return Status::Unavailable("cannot listen for gRPC on " + address +
                                   " (is the port in use?)");
    }
    SetServing(false);  // until the database is open
    const bool is_ipv6 = host_port.host.find(':') != std::string::npos;
    return (is_ipv6 ? "[" + host_port.host + "]" : host_port.host) + ":" +
           std::to_string(bound_port);
}

void GrpcServer::SetServing(bool serving) {
    if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
        server_->GetHealthCheckService()->SetServingStatus(serving);  // "" (the server)
        server_->GetHealthCheckService()->SetServingStatus(phenix::v1::Phenix::service_full_name(),
                                                           serving);
    }
}

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
    if (server_ == nullptr) {
        return;
    }
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    server_.reset();
}

}  // namespace phenix::server
