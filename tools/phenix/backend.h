// SPDX-License-Identifier: Apache-2.0
//
// phenix::shell::Backend — what the shell runs statements through: a QuerySession on a data
// directory opened in this process (EmbeddedBackend), or a RemoteSession on a phenixd server
// (RemoteBackend, `phenix --url`). The Shell (shell.h) is the same for both: the same PhenixQL,
// the same meta-commands (they are PhenixQL statements), the same output and errors.
//
// Thread-compatible: confined to the thread that runs the shell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "client/remote_session.h"

namespace phenix::shell {

class Backend {
  public:
    virtual ~Backend() = default;

    // Runs one statement, rows to `sink` as they come (QuerySession::Execute).
    virtual Result<QueryResult> Execute(std::string_view statement, RowSink& sink) = 0;
    // Rolls back the open transaction.
    virtual Status Rollback() = 0;

    [[nodiscard]] virtual const std::string& Tenant() const = 0;
    [[nodiscard]] virtual bool InTransaction() const = 0;
    [[nodiscard]] virtual bool InReadOnlyTransaction() const = 0;
    // The open transaction's snapshot timestamp, when known.
    [[nodiscard]] virtual std::optional<std::uint64_t> TransactionSnapshot() const = 0;

    // Polled while a statement runs: true stops it (^C).
    virtual void SetInterrupt(std::function<bool()> is_interrupted) = 0;
    // Progress lines of COPY, CREATE INDEX, REINDEX, UPDATE and DELETE (remote: streamed by the
    // server as the statement runs).
    virtual void SetProgress(QueryProgressFn progress) = 0;
};

class EmbeddedBackend final : public Backend {
  public:
    // `db` must outlive the backend.
    explicit EmbeddedBackend(Database& db) : session_(db) {}

    Result<QueryResult> Execute(std::string_view statement, RowSink& sink) override {
        return session_.Execute(statement, sink);
    }
    Status Rollback() override { return session_.Rollback(); }
    [[nodiscard]] const std::string& Tenant() const override { return session_.tenant(); }
    [[nodiscard]] bool InTransaction() const override { return session_.transaction() != nullptr; }
    [[nodiscard]] bool InReadOnlyTransaction() const override {
        return InTransaction() && session_.transaction_read_only();
    }
    [[nodiscard]] std::optional<std::uint64_t> TransactionSnapshot() const override {
        if (session_.transaction() == nullptr) {
            return std::nullopt;
        }
        return session_.transaction()->read_timestamp();
    }
    void SetInterrupt(std::function<bool()> is_interrupted) override {
        session_.set_interrupt(std::move(is_interrupted));
    }
    void SetProgress(QueryProgressFn progress) override {
        session_.set_progress(std::move(progress));
    }

    // Where COPY may read and write files (QuerySession::set_copy_directory).
    void SetCopyDirectory(std::string directory) {
        session_.set_copy_directory(std::move(directory));
    }
    // The most memory one SELECT may hold for its rows (QuerySession::set_memory_limit).
    void SetMemoryLimit(std::size_t bytes) { session_.set_memory_limit(bytes); }

  private:
    QuerySession session_;
};

class RemoteBackend final : public Backend {
  public:
    explicit RemoteBackend(client::ServerUrl url) : session_(std::move(url)) {}

    // Checks that the server answers (before the first statement).
    Status Ping() { return session_.Ping(); }
    // Sent as `Authorization: Bearer TOKEN` with every request (--token / PHENIX_TOKEN).
    void SetBearerToken(std::string token) { session_.set_bearer_token(std::move(token)); }

    Result<QueryResult> Execute(std::string_view statement, RowSink& sink) override {
        return session_.Execute(statement, sink);
    }
    Status Rollback() override { return session_.Rollback(); }
    [[nodiscard]] const std::string& Tenant() const override { return session_.tenant(); }
    [[nodiscard]] bool InTransaction() const override { return session_.in_transaction(); }
    [[nodiscard]] bool InReadOnlyTransaction() const override {
        return session_.in_transaction() && session_.transaction_read_only();
    }
    [[nodiscard]] std::optional<std::uint64_t> TransactionSnapshot() const override {
        if (!session_.in_transaction() || session_.transaction_snapshot() == 0) {
            return std::nullopt;
        }
        return session_.transaction_snapshot();
    }
    void SetInterrupt(std::function<bool()> is_interrupted) override {
        session_.set_interrupt(std::move(is_interrupted));
    }
    void SetProgress(QueryProgressFn progress) override {
        session_.set_progress(std::move(progress));
    }

  private:
    client::RemoteSession session_;
};

}  // namespace phenix::shell
