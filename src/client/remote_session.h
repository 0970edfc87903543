// SPDX-License-Identifier: Apache-2.0
//
// phenix::client::RemoteSession — a PhenixQL session on a phenixd server, the remote twin of
// phenix::QuerySession: Execute runs one statement and hands its rows to a RowSink as they
// arrive, and returns the same QueryResult (message, affected) and the same errors (code and
// message, with "line L, column C") as the embedded session would.
//
// How statements travel (docs/server.md):
//   - a statement goes to POST /v1/query with Accept: application/x-ndjson; a streamed answer is
//     decoded line by line, a plain JSON answer (a server that does not stream) whole; with a
//     progress function set, the request asks for progress lines (?progress=true) and hands
//     them to it as they come;
//   - BEGIN [READ ONLY] [AS OF ts] is POST /v1/transactions; while it is open every statement
//     carries Phenix-Transaction; COMMIT and ROLLBACK are .../commit and .../rollback;
//   - USE TENANT runs on the server (which checks the tenant) and the session then sends the
//     tenant in a Phenix-Tenant header with each request (and with BEGIN, whose transaction keeps
//     it).
// The interrupt function is polled while a request waits: when it fires the connection is
// closed, and the server cancels the statement.
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <phenix/phenixql.h>
#include <phenix/result.h>
#include <phenix/status.h>

#include "client/http_client.h"

namespace phenix::client {

class RemoteSession {
  public:
    explicit RemoteSession(ServerUrl url);
    ~RemoteSession();
    RemoteSession(const RemoteSession&) = delete;
    RemoteSession& operator=(const RemoteSession&) = delete;

    // Checks that a phenixd answers at the URL (GET /health): Unavailable naming the URL if not.
    Status Ping();

    // Runs one PhenixQL statement (see the header comment).
    Result<QueryResult> Execute(std::string_view statement, RowSink& sink);

    // Rolls back the open transaction (FailedPrecondition when none is open).
    Status Rollback();

    void set_interrupt(std::function<bool()> is_interrupted) {
        http_.set_interrupt(std::move(is_interrupted));
    }
    // Where the progress lines of long statements go (COPY, CREATE INDEX, UPDATE, DELETE: the
    // server's QuerySession::set_progress lines, streamed with ?progress=true, decision 0032);
    // null: the server is not asked for them.
    void set_progress(QueryProgressFn progress) { progress_ = std::move(progress); }
    // The bearer token sent with every request (phenix --token / PHENIX_TOKEN); empty: none.
    void set_bearer_token(std::string token) { http_.set_bearer_token(std::move(token)); }

    [[nodiscard]] const std::string& tenant() const { return tenant_; }
    [[nodiscard]] bool in_transaction() const { return !transaction_id_.empty(); }
    [[nodiscard]] bool transaction_read_only() const { return transaction_read_only_; }
    // The open transaction's snapshot, when the server said (0 otherwise).
    [[nodiscard]] std::uint64_t transaction_snapshot() const { return transaction_snapshot_; }
    [[nodiscard]] const ServerUrl& url() const { return http_.url(); }

  private:
    Result<QueryResult> Begin(bool read_only, std::optional<std::uint64_t> as_of);
    Result<QueryResult> Finish(bool commit);
    Result<QueryResult> RunQuery(std::string_view statement, RowSink& sink);
    // POST `target` with a JSON body; the answer's body (2xx) or its error as a Status.
    Result<std::string> PostJson(std::string_view target, std::string body);
    std::vector<HttpHeader> SessionHeaders() const;
    void ForgetTransaction();

    HttpClient http_;
    QueryProgressFn progress_;
    std::string tenant_;
    std::string transaction_id_;  // empty: no transaction open
    bool transaction_read_only_ = false;
    std::uint64_t transaction_snapshot_ = 0;
};

}  // namespace phenix::client
