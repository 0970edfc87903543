// SPDX-License-Identifier: Apache-2.0
//
// KeyRotations — data-key rotation of tenants (docs/decisions/0031-data-key-rotation.md): after
// TenantKeyring::Rotate made a new key generation current, a background task re-seals every
// stored payload of the tenant (entity records, out- and in-edge values) under it, in bounded
// batches, then waits until no MVCC version under the old generation can remain, and destroys
// the old generation in the KMS (TenantKeyring::Retire). A subsystem DatabaseImpl owns; its
// maintenance thread calls RunSome about every 100 ms.
//
// Phases of one tenant's rotation, persisted in the catalog (key "rot/" + tenant, written in the
// same RocksDB batch as each re-encrypted batch, so a restart resumes after the last committed
// batch):
//   re-encrypting  a cursor (family, next key) walks the tenant's payloads; each batch reads at
//                  a snapshot, re-seals the values not under the new generation and commits
//                  them with a conflict check (check only: no later commit conflicts with it)
//                  on both ends of every entity and edge it rewrites, so a concurrent write
//                  wins (the batch is retried) and is never overwritten with older content.
//   settling       once the history floor is past the end of the pass (so no snapshot or
//                  transaction from before the rotation is open), the latest state is checked
//                  again (a write sealed just before the rotation that committed after the
//                  cursor passed sends it back to re-encrypting), then every stored version;
//                  versions under the old generation left below the floor are compacted away
//                  (CompactIfWanted, outside the catalog lock).
//   finished       the tenant's vector index checkpoints are rewritten (under the new key),
//                  then the old generation is destroyed (TenantKeyring::Retire).
// Rows of dropped collections (awaiting their purge) are neither re-encrypted nor waited for:
// their data goes with the old key.
//
// Lock order: the caller's catalog lock (held shared across RunSome, exclusively across Start)
// -> mu_ (a leaf).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <phenix/encryption.h>
#include <phenix/result.h>

#include "common/mutex.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

/// The catalog key of a tenant's rotation progress.
std::string KeyRotationKey(storage::TenantId tenant);

/// One tenant's rotation as persisted (the catalog value is its encoding).
struct KeyRotationProgress {
    enum class Phase : std::uint8_t { kReencrypting = 1, kSettling = 2, kFinished = 3 };
    Phase phase = Phase::kReencrypting;
    std::uint8_t from_generation = 0;
    std::uint8_t to_generation = 0;
    /// Index into the re-encrypted families (entities, out-edges, in-edges) and the first key
    /// of it still to visit.
    std::uint8_t family_idx = 0;
    std::string cursor;
    bool counted = false;
    std::uint64_t num_total = 0;
    std::uint64_t num_checked = 0;
    std::uint64_t num_reencrypted = 0;
    /// The visible timestamp when the last pass ended (settling waits for the floor past it).
    std::uint64_t pass_end_ts = 0;

    [[nodiscard]] std::string Encode() const;
    /// Corruption when `encoded` is not a progress record of this version.
    static Result<KeyRotationProgress> Decode(std::string_view encoded);
    [[nodiscard]] bool active() const { return phase != Phase::kFinished; }
};

/// The last failure of a rotation's background work (not persisted).
struct KeyRotationError {
    std::string message;
    std::chrono::system_clock::time_point at;
};

/// The argument of the sync point "KeyRotations::ReencryptBatch:BeforeCommit" (tests).
struct KeyRotationBatchPoint {
    const KeyRotationProgress* before = nullptr;
    const KeyRotationProgress* after = nullptr;
    Status* inject = nullptr;  ///< set non-OK to fail the batch before its commit
};

class KeyRotations {
  public:
    /// Whether a collection of a tenant is live (not dropped); asked with the catalog lock held.
    using IsLive = std::function<bool(storage::TenantId, storage::CollectionId)>;
    /// Rewrites the tenant's vector index checkpoints (so that none is sealed under an older
    /// generation of its data key); asked with the catalog lock held, before the old generation
    /// is destroyed.
    using RewriteCheckpoints = std::function<Status(storage::TenantId)>;

    /// `store` and `oracle` must outlive this object.
    KeyRotations(storage::Store& store, txn::Oracle& oracle);

    /// At open (read-write): loads the persisted progress and reconciles it with the keyring (a
    /// key rotated just before a crash, before its progress was written, starts its pass now; a
    /// progress whose old generation is already retired is finished; the record of a tenant that
    /// `tenant_exists` denies, left by a crash inside DropTenant, is deleted).
    Status Load(const std::function<bool(storage::TenantId)>& tenant_exists) EXCLUDES(mu_);

    /// Rotates the tenant's key (TenantKeyring::Rotate) and starts its re-encryption. The caller
    /// holds the catalog lock exclusively, so that no write in flight seals under the old key
    /// after this returns. FailedPrecondition without encryption, while a rotation of the tenant
    /// is active, or when it has no key yet.
    Result<KeyRotationProgress> Start(storage::TenantId tenant) EXCLUDES(mu_);
    /// The tenant's latest rotation; nullopt when it never had one.
    [[nodiscard]] std::optional<KeyRotationProgress> Get(storage::TenantId tenant) const
        EXCLUDES(mu_);
    /// The last failure of the tenant's rotation since its last successful step; nullopt when
    /// none.
    [[nodiscard]] std::optional<KeyRotationError> LastError(storage::TenantId tenant) const
        EXCLUDES(mu_);

    /// Advances every active rotation for about `budget`. The caller holds the catalog lock
    /// shared. Errors are reported, and kept per tenant for LastError until a later step of
    /// the tenant succeeds (the next call retries); a failed batch leaves nothing.
    Status RunSome(const IsLive& is_live, const RewriteCheckpoints& rewrite_checkpoints,
                   std::chrono::milliseconds budget) EXCLUDES(mu_);

    /// Runs the compaction settling asked for (a forced compaction of the entity and edge
    /// families, which may take long): called without the catalog lock, after RunSome. A
    /// failure is also kept as the LastError of every settling rotation.
    Status CompactIfWanted() EXCLUDES(mu_);

    /// Forgets the rotation of a dropped tenant (its keys are shredded) and deletes its record.
    Status Forget(storage::TenantId tenant) EXCLUDES(mu_);

    /// Payloads per re-encryption batch (one RocksDB batch and commit each).
    static constexpr std::size_t kBatchValues = 256;

  private:
    // One batch of the re-encryption pass. Returns false when the pass is over.
    Result<bool> ReencryptBatch(storage::TenantId tenant, KeyRotationProgress& progress,
                                const IsLive& is_live);
    // The settling checks; may move the rotation back to re-encrypting or finish it.
    Status Settle(storage::TenantId tenant, KeyRotationProgress& progress, const IsLive& is_live,
                  const RewriteCheckpoints& rewrite_checkpoints);
    // Counts the tenant's stored payloads (num_total).
    Result<std::uint64_t> CountPayloads(storage::TenantId tenant) const;
    Status Persist(storage::TenantId tenant, const KeyRotationProgress& progress);

    storage::Store& store_;
    txn::Oracle& oracle_;

    std::atomic<bool> compaction_wanted_{false};
    mutable Mutex mu_;
    std::map<storage::TenantId, KeyRotationProgress> rotations_ GUARDED_BY(mu_);
    std::map<storage::TenantId, KeyRotationError> errors_ GUARDED_BY(mu_);
    // Settling: when the last full check and the last compaction ran (not persisted).
    std::map<storage::TenantId, std::chrono::steady_clock::time_point> last_check_ GUARDED_BY(mu_);
    std::map<storage::TenantId, std::chrono::steady_clock::time_point> last_compaction_
        GUARDED_BY(mu_);
};

/// The public view of a rotation's progress and its last failure.
KeyRotationInfo ToKeyRotationInfo(std::string tenant,
                                  const std::optional<KeyRotationProgress>& progress,
                                  const std::optional<KeyRotationError>& error = std::nullopt);

}  // namespace phenix::engine
