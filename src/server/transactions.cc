// SPDX-License-Identifier: Apache-2.0
#include "server/transactions.h"

#include <random>
#include <utility>
#include <vector>

namespace phenix::server {

struct TransactionRegistry::Entry {
    std::unique_ptr<QuerySession> session;
    std::string owner;            // immutable: who began it (Begin's owner)
    bool busy = false;            // guarded by the registry's mu_
    Clock::time_point last_used;  // guarded by the registry's mu_
};

namespace {

std::string NewTransactionId() {
    // 128 bits from the OS's random source: an id cannot be guessed from others.
    static Mutex mu;
    static std::random_device device;  // guarded by mu
    MutexLock lock(mu);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    id.reserve(32);
    for (int word = 0; word < 4; ++word) {
        std::uint32_t bits = device();
        for (int nibble = 0; nibble < 8; ++nibble) {
            id += kHex[bits & 0xF];
            bits >>= 4;
        }
    }
    return id;
}

Status UnknownTransaction(std::string_view id) {
    return Status::NotFound("transaction '" + std::string(id) +
                            "' does not exist (it committed, rolled back, or was idle too long)");
}

}  // namespace

TransactionRegistry::Lease::Lease(TransactionRegistry* registry, std::string id,
                                  std::shared_ptr<Entry> entry)
    : registry_(registry), id_(std::move(id)), entry_(std::move(entry)) {}

TransactionRegistry::Lease::Lease(Lease&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)),
      id_(std::move(other.id_)),
      entry_(std::move(other.entry_)) {}

TransactionRegistry::Lease::~Lease() {
    if (registry_ != nullptr && entry_ != nullptr) {
        registry_->Release(id_, entry_);
    }
}

QuerySession& TransactionRegistry::Lease::session() const {
    return *entry_->session;
}

TransactionRegistry::TransactionRegistry(std::chrono::milliseconds idle_timeout)
    : idle_timeout_(idle_timeout) {}

TransactionRegistry::~TransactionRegistry() {
    RollbackAll();
}

Result<std::string> TransactionRegistry::Begin(Database& db, const TransactionOptions& options,
                                               std::string copy_directory, std::string owner) {
    auto entry = std::make_shared<Entry>();
    entry->owner = std::move(owner);
    entry->session = std::make_unique<QuerySession>(db);
    entry->session->set_copy_directory(std::move(copy_directory));
    PHENIX_RETURN_IF_ERROR(entry->session->Begin(options));
    entry->last_used = Clock::now();
    std::string id = NewTransactionId();
    MutexLock lock(mu_);
    entries_[id] = std::move(entry);
    return id;
}

Result<TransactionRegistry::Lease> TransactionRegistry::Acquire(std::string_view id,
                                                                std::string_view owner) {
    MutexLock lock(mu_);
    auto it = entries_.find(id);
    // Another principal's transaction is answered exactly like one that does not exist.
    if (it == entries_.end() || it->second->owner != owner) {
        return UnknownTransaction(id);
    }
    if (it->second->busy) {
        return Status::FailedPrecondition("transaction '" + std::string(id) +
                                          "' is running another request; send one at a time");
    }
    it->second->busy = true;
    return Lease(this, it->first, it->second);
}

void TransactionRegistry::Release(const std::string& id, const std::shared_ptr<Entry>& entry) {
    MutexLock lock(mu_);
    entry->busy = false;
    entry->last_used = Clock::now();
    if (entry->session->transaction() == nullptr) {
        auto it = entries_.find(id);
        if (it != entries_.end() && it->second == entry) {
            entries_.erase(it);
        }
    }
}

Result<Timestamp> TransactionRegistry::Commit(std::string_view id, std::string_view owner) {
    auto lease = Acquire(id, owner);
    if (!lease.ok()) {
        return lease.status();
    }
    // Whatever happens the session's transaction is over, so releasing forgets it.
    return lease->session().Commit();
}

Status TransactionRegistry::Rollback(std::string_view id, std::string_view owner) {
    auto lease = Acquire(id, owner);
    if (!lease.ok()) {
        return lease.status();
    }
    return lease->session().Rollback();
}

std::size_t TransactionRegistry::ReapIdle(Clock::time_point now) {
    std::vector<std::shared_ptr<Entry>> expired;
    {
        MutexLock lock(mu_);
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (!it->second->busy && now - it->second->last_used > idle_timeout_) {
                expired.push_back(std::move(it->second));
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Destroying the sessions rolls their transactions back, outside the lock.
    return expired.size();
}

void TransactionRegistry::RollbackAll() {
    std::vector<std::shared_ptr<Entry>> all;
    {
        MutexLock lock(mu_);
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (!it->second->busy) {
                all.push_back(std::move(it->second));
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }
}

std::size_t TransactionRegistry::size() const {
    MutexLock lock(mu_);
    return entries_.size();
}

}  // namespace phenix::server
