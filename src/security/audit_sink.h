// SPDX-License-Identifier: Apache-2.0
//
// AuditSink: where the server's security-relevant events go. The audit module's AuditLog
// (src/audit/, hash-chained JSON lines) implements it; NullAuditSink drops everything (audit
// off). The server records every authentication failure, permission denial, schema and admin
// change and write (reads when configured) — one event per request or statement.
//
// Thread safety: Record is called concurrently from every worker; implementations are
// thread-safe and must not block a request on disk for long (group commit).
#pragma once

#include <chrono>
#include <string>

namespace phenix::security {

struct AuditEvent {
    std::chrono::system_clock::time_point time;
    std::string principal;  ///< subject; empty for an unauthenticated request
    std::string tenant;     ///< the tenant acted in (empty when unknown)
    std::string action;     ///< "auth", "collection.create", "entity.upsert", "query", ...
    std::string target;     ///< collection, "collection/id", tenant, key id, ... (may be empty)
    std::string outcome;    ///< "ok", "denied", "unauthenticated", "error"
    std::string reason;     ///< why it failed (the precise authentication failure); may be empty
    std::string request_id;
    std::string client;  ///< "ip:port" of the peer
};

class AuditSink {
  public:
    virtual ~AuditSink() = default;
    virtual void Record(AuditEvent event) = 0;
};

class NullAuditSink final : public AuditSink {
  public:
    void Record(AuditEvent) override {}
};

}  // namespace phenix::security
