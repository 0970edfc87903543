// SPDX-License-Identifier: Apache-2.0
//
// TransactionRegistry: interactive transactions over the wire (POST /v1/transactions, then
// requests carrying `Phenix-Transaction: <id>`, then .../commit or .../rollback). Each is a
// QuerySession with an open transaction, addressed by an unguessable id (128 random bits, 32 hex
// digits). One request at a time uses a transaction: a second concurrent one is refused, not
// queued. A transaction idle longer than the timeout is rolled back by ReapIdle.
// (Once auth exists, an id will be usable only by the principal that began it.)
//
// Thread-safe. The registry's lock is never held while a session runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/result.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace phenix::server {

class TransactionRegistry {
  public:
    using Clock = std::chrono::steady_clock;

    explicit TransactionRegistry(std::chrono::milliseconds idle_timeout);
    ~TransactionRegistry();
    TransactionRegistry(const TransactionRegistry&) = delete;
    TransactionRegistry& operator=(const TransactionRegistry&) = delete;

    struct Entry;

    /// Exclusive use of one transaction's session for one request; releasing it restarts the
    /// idle clock. When the session no longer has an open transaction (a COMMIT or ROLLBACK
    /// statement ran in it), releasing the lease forgets the transaction.
    class Lease {
      public:
        Lease(TransactionRegistry* registry, std::string id, std::shared_ptr<Entry> entry);
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        [[nodiscard]] QuerySession& session() const;
        [[nodiscard]] const std::string& id() const { return id_; }

      private:
        TransactionRegistry* registry_;
        std::string id_;
        std::shared_ptr<Entry> entry_;
    };

    /// Begins a transaction on `db`. Errors of Database::BeginTransaction (ResourceExhausted at
    /// the open-transaction limit, FailedPrecondition/InvalidArgument for a bad as_of).
    /// `owner` binds it to the principal that began it (server/access.h's OwnerKey; empty with
    /// auth off): Acquire, Commit and Rollback by another owner answer the NotFound of an
    /// unknown id, so a transaction id of another principal reveals nothing.
    Result<std::string> Begin(Database& db, const TransactionOptions& options,
                              std::string copy_directory, std::string owner = {});
    /// NotFound for an unknown, finished or expired id, or one another owner began;
    /// FailedPrecondition while another request uses it.
    Result<Lease> Acquire(std::string_view id, std::string_view owner = {});
    /// Commits and forgets the transaction. Aborted on a conflict (the transaction is gone).
    Result<Timestamp> Commit(std::string_view id, std::string_view owner = {});
    /// Rolls back and forgets the transaction.
    Status Rollback(std::string_view id, std::string_view owner = {});
    /// Rolls back transactions idle for longer than the timeout; returns how many.
    std::size_t ReapIdle(Clock::time_point now);
    /// Rolls back every transaction not in use (shutdown, after the workers stopped).
    void RollbackAll();
    [[nodiscard]] std::size_t size() const;

  private:
    void Release(const std::string& id, const std::shared_ptr<Entry>& entry);

    const std::chrono::milliseconds idle_timeout_;
    // Also guards each Entry's busy and last_used (which the analysis cannot name: they are
    // members of another object).
    mutable Mutex mu_;
    std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries_ GUARDED_BY(mu_);
};

}  // namespace phenix::server
