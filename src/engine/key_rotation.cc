// SPDX-License-Identifier: Apache-2.0
#include "engine/key_rotation.h"

#include <array>
#include <ctime>
#include <set>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "common/sync_point.h"
#include "crypto/tenant_keys.h"
#include "engine/snapshot_guard.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"
#include "txn/commit.h"
#include "txn/read_view.h"

namespace phenix::engine {

namespace {

using storage::ColumnFamily;
using storage::PayloadKind;
using Phase = KeyRotationProgress::Phase;

constexpr std::string_view kKeyRotationPrefix = "rot/";
constexpr std::uint8_t kProgressVersion = 1;

struct Family {
    ColumnFamily family;
    PayloadKind kind;
};
constexpr std::array<Family, 3> kFamilies{{{ColumnFamily::kEntities, PayloadKind::kEntity},
                                           {ColumnFamily::kOutEdges, PayloadKind::kOutEdge},
                                           {ColumnFamily::kInEdges, PayloadKind::kInEdge}}};

// How often settling re-checks the stored versions, and compacts at most.
constexpr auto kSettleCheckInterval = std::chrono::seconds(1);
constexpr auto kCompactionInterval = std::chrono::seconds(10);

std::string TenantPrefix(storage::TenantId tenant) {
    std::string prefix;
    coding::PutFixed32BE(prefix, tenant);
    return prefix;
}

storage::CollectionId CollectionOf(std::string_view key) {
    return key.size() >= storage::kCollectionPrefixBytes ? coding::DecodeFixed32BE(key.data() + 4)
                                                         : 0;
}

// The conflict key of an entity (as DatabaseImpl::CommitLocked hashes its ids key).
std::uint64_t ConflictKeyOf(storage::TenantId tenant, storage::CollectionId collection,
                            std::string_view external_id) {
    return std::hash<std::string_view>{}(storage::IdKey(tenant, collection, external_id));
}

}  // namespace

std::string KeyRotationKey(storage::TenantId tenant) {
    std::string key(kKeyRotationPrefix);
    coding::PutFixed32BE(key, tenant);
    return key;
}

std::string KeyRotationProgress::Encode() const {
    std::string out;
    out.push_back(static_cast<char>(kProgressVersion));
    out.push_back(static_cast<char>(phase));
    out.push_back(static_cast<char>(from_generation));
    out.push_back(static_cast<char>(to_generation));
    out.push_back(static_cast<char>(family_idx));
    out.push_back(static_cast<char>(counted ? 1 : 0));
    coding::PutFixed64BE(out, num_total);
    coding::PutFixed64BE(out, num_checked);
    coding::PutFixed64BE(out, num_reencrypted);
    coding::PutFixed64BE(out, pass_end_ts);
    out.append(cursor);
    return out;
}

Result<KeyRotationProgress> KeyRotationProgress::Decode(std::string_view encoded) {
    constexpr std::size_t kFixedBytes = 6 + 4 * 8;
    if (encoded.size() < kFixedBytes || static_cast<std::uint8_t>(encoded[0]) != kProgressVersion) {
        return Status::Corruption(
            "a data-key rotation record is malformed or of an unknown version");
    }
    KeyRotationProgress progress;
    const auto phase = static_cast<std::uint8_t>(encoded[1]);
    if (phase < static_cast<std::uint8_t>(Phase::kReencrypting) ||
        phase > static_cast<std::uint8_t>(Phase::kFinished) ||
        static_cast<std::uint8_t>(encoded[4]) > kFamilies.size()) {
        return Status::Corruption("a data-key rotation record is malformed");
    }
    progress.phase = static_cast<Phase>(phase);
    progress.from_generation = static_cast<std::uint8_t>(encoded[2]);
    progress.to_generation = static_cast<std::uint8_t>(encoded[3]);
    progress.family_idx = static_cast<std::uint8_t>(encoded[4]);
    progress.counted = encoded[5] != 0;
    progress.num_total = coding::DecodeFixed64BE(encoded.data() + 6);
    progress.num_checked = coding::DecodeFixed64BE(encoded.data() + 14);
    progress.num_reencrypted = coding::DecodeFixed64BE(encoded.data() + 22);
    progress.pass_end_ts = coding::DecodeFixed64BE(encoded.data() + 30);
    progress.cursor = std::string(encoded.substr(kFixedBytes));
    return progress;
}

KeyRotations::KeyRotations(storage::Store& store, txn::Oracle& oracle)
    : store_(store), oracle_(oracle) {}

Status KeyRotations::Load(const std::function<bool(storage::TenantId)>& tenant_exists) {
    crypto::TenantKeyring* keyring = store_.payloads().keyring();
    std::map<storage::TenantId, KeyRotationProgress> loaded;
    const txn::ReadView latest(store_, storage::kLatestTimestamp);
    const std::string prefix(kKeyRotationPrefix);
    auto it = latest.NewIterator(ColumnFamily::kCatalog, prefix, storage::PrefixSuccessor(prefix));
    for (; it->Valid(); it->Next()) {
        if (it->key().size() != prefix.size() + 4) {
            return Status::Corruption("a data-key rotation record has a malformed key");
        }
        const storage::TenantId tenant = coding::DecodeFixed32BE(it->key().data() + prefix.size());
        PHENIX_ASSIGN_OR_RETURN(loaded[tenant], KeyRotationProgress::Decode(it->value()));
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("loading data-key rotations"));
    if (!store_.read_only()) {
        for (auto entry = loaded.begin(); entry != loaded.end();) {
            if (tenant_exists(entry->first)) {
                ++entry;
                continue;
            }
            rocksdb::WriteBatch wb = storage::Store::NewBatch();
            wb.Delete(store_.cf(ColumnFamily::kCatalog), KeyRotationKey(entry->first));
            PHENIX_RETURN_IF_ERROR(store_.WriteCatalog(wb, /*sync=*/true));
            entry = loaded.erase(entry);
        }
    }
    if (keyring != nullptr && !store_.read_only()) {
        PHENIX_ASSIGN_OR_RETURN(std::vector<storage::TenantId> keyed, keyring->Tenants());
        for (storage::TenantId tenant : keyed) {
            auto record = crypto::ReadTenantKeyRecord(store_.path(), tenant);
            if (!record.ok()) {
                continue;  // reported when the key is used
            }
            auto found = loaded.find(tenant);
            const bool active = found != loaded.end() && found->second.active();
            if (!record->older.empty() && !active) {
                // Rotated just before a crash, before the progress record was written.
                KeyRotationProgress fresh;
                fresh.from_generation = record->older.begin()->first;
                fresh.to_generation = record->generation;
                PHENIX_RETURN_IF_ERROR(Persist(tenant, fresh));
                loaded[tenant] = fresh;
            } else if (record->older.empty() && active) {
                // Retired just before a crash, before the progress record said so.
                found->second.phase = Phase::kFinished;
                PHENIX_RETURN_IF_ERROR(Persist(tenant, found->second));
            }
        }
    }
    MutexLock lock(mu_);
    rotations_ = std::move(loaded);
    return Status::Ok();
}

Result<KeyRotationProgress> KeyRotations::Start(storage::TenantId tenant) {
    crypto::TenantKeyring* keyring = store_.payloads().keyring();
    if (keyring == nullptr) {
        return Status::FailedPrecondition(
            "data-key rotation needs encryption at rest (the database is not encrypted)");
    }
    if (store_.read_only()) {
        return storage::ReadOnlyError("rotating a data key");
    }
    {
        MutexLock lock(mu_);
        if (auto it = rotations_.find(tenant); it != rotations_.end() && it->second.active()) {
            return Status::FailedPrecondition(
                "a data-key rotation of this tenant is still running; wait until it is finished");
        }
    }
    auto rotated = keyring->Rotate(storage::TenantId{tenant});
    if (rotated.status().IsNotFound()) {
        return Status::FailedPrecondition(
            "the tenant has no data key yet (it has stored nothing encrypted): nothing to rotate");
    }
    PHENIX_RETURN_IF_ERROR(rotated.status());
    PHENIX_SYNC_POINT("KeyRotations::Start:AfterRotate");
    KeyRotationProgress progress;
    progress.to_generation = *rotated;
    progress.from_generation =
        *rotated == crypto::kFirstKeyGeneration ? 255 : static_cast<std::uint8_t>(*rotated - 1);
    PHENIX_RETURN_IF_ERROR(Persist(tenant, progress));
    MutexLock lock(mu_);
    rotations_[tenant] = progress;
    return progress;
}

std::optional<KeyRotationProgress> KeyRotations::Get(storage::TenantId tenant) const {
    MutexLock lock(mu_);
    auto it = rotations_.find(tenant);
    if (it == rotations_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<KeyRotationError> KeyRotations::LastError(storage::TenantId tenant) const {
    MutexLock lock(mu_);
    auto it = errors_.find(tenant);
    if (it == errors_.end()) {
        return std::nullopt;
    }
    return it->second;
}

Status KeyRotations::Forget(storage::TenantId tenant) {
    {
        MutexLock lock(mu_);
        rotations_.erase(tenant);
        errors_.erase(tenant);
    }
    rocksdb::WriteBatch wb = storage::Store::NewBatch();
    wb.Delete(store_.cf(ColumnFamily::kCatalog), KeyRotationKey(tenant));
    return store_.WriteCatalog(wb, /*sync=*/true);
}

Status KeyRotations::Persist(storage::TenantId tenant, const KeyRotationProgress& progress) {
    rocksdb::WriteBatch wb = storage::Store::NewBatch();
    wb.Put(store_.cf(ColumnFamily::kCatalog), KeyRotationKey(tenant), progress.Encode());
    return store_.WriteCatalog(wb, /*sync=*/true);
}

Status KeyRotations::RunSome(const IsLive& is_live, const RewriteCheckpoints& rewrite_checkpoints,
                             std::chrono::milliseconds budget) {
    if (store_.read_only() || store_.payloads().keyring() == nullptr) {
        return Status::Ok();
    }
    std::vector<std::pair<storage::TenantId, KeyRotationProgress>> active;
    {
        MutexLock lock(mu_);
        for (const auto& [tenant, progress] : rotations_) {
            if (progress.active()) {
                active.emplace_back(tenant, progress);
            }
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (auto& [tenant, progress] : active) {
        Status status = Status::Ok();
        if (progress.phase == Phase::kReencrypting && !progress.counted) {
            auto total = CountPayloads(tenant);
            if (total.ok()) {
                progress.num_total = *total;
                progress.counted = true;
            } else {
                status = total.status();
            }
        }
        if (!status.ok()) {
            // Counting failed: nothing else this round.
        } else if (progress.phase == Phase::kReencrypting) {
            bool more = true;
            while (more && std::chrono::steady_clock::now() < deadline) {
                auto batch = ReencryptBatch(tenant, progress, is_live);
                if (!batch.ok()) {
                    status = batch.status();
                    break;
                }
                more = *batch;
                MutexLock lock(mu_);
                rotations_[tenant] = progress;
            }
        } else if (progress.phase == Phase::kSettling) {
            status = Settle(tenant, progress, is_live, rewrite_checkpoints);
        }
        {
            MutexLock lock(mu_);
            // A failed step leaves the last committed state (the batch was not written).
            if (status.ok()) {
                rotations_[tenant] = progress;
                errors_.erase(tenant);
            } else {
                errors_[tenant] = KeyRotationError{.message = status.ToString(),
                                                   .at = std::chrono::system_clock::now()};
            }
        }
        PHENIX_RETURN_IF_ERROR(
            status.WithContext("data-key rotation of tenant " + std::to_string(tenant)));
    }
    return Status::Ok();
}

Result<std::uint64_t> KeyRotations::CountPayloads(storage::TenantId tenant) const {
    const std::string prefix = TenantPrefix(tenant);
    const std::string end = storage::PrefixSuccessor(prefix);
    const txn::ReadView latest(store_, storage::kLatestTimestamp);
    std::uint64_t count = 0;
    for (const Family& family : kFamilies) {
        auto it = latest.NewIterator(family.family, prefix, end);
        for (; it->Valid(); it->Next()) {
            ++count;
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }
    return count;
}

Result<bool> KeyRotations::ReencryptBatch(storage::TenantId tenant, KeyRotationProgress& progress,
                                          const IsLive& is_live) {
    const storage::PayloadCipher& payloads = store_.payloads();
    const std::string prefix = TenantPrefix(tenant);
    const std::string end = storage::PrefixSuccessor(prefix);
    // Retried from the same cursor while a concurrent write to one of its entities commits
    // between the snapshot and the batch's commit (a few times; then the next round retries).
    constexpr int kMaxAttempts = 16;
    for (int attempt = 1;; ++attempt) {
        KeyRotationProgress next = progress;
        const SnapshotGuard snapshot(oracle_);
        const txn::ReadView view(store_, snapshot.ts());
        rocksdb::WriteBatch wb = storage::Store::NewBatch();
        txn::ConflictKeys keys;
        keys.check_only = true;
        std::map<std::pair<storage::CollectionId, storage::RowId>, std::string> ids;
        // The external id of the entity at (collection, row), read at the snapshot.
        auto external_id = [&](storage::CollectionId collection,
                               storage::RowId row) -> Result<std::string> {
            auto cached = ids.find({collection, row});
            if (cached != ids.end()) {
                return cached->second;
            }
            const std::string key = storage::EntityKey(tenant, collection, row);
            PHENIX_ASSIGN_OR_RETURN(auto stored, view.Get(ColumnFamily::kEntities, key));
            std::string id;
            if (stored) {
                std::string plain;
                PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                        payloads.Open(PayloadKind::kEntity, key, *stored, plain));
                PHENIX_ASSIGN_OR_RETURN(std::string_view decoded,
                                        storage::DecodeEntityRecordId(record));
                id = std::string(decoded);
            }
            ids.emplace(std::make_pair(collection, row), id);
            return id;
        };
        std::size_t num_values = 0;
        bool more = true;
        while (num_values < kBatchValues) {
            if (next.family_idx >= kFamilies.size()) {
                more = false;
                break;
            }
            const Family& family = kFamilies[next.family_idx];
            const std::string lower = next.cursor.empty() ? prefix : next.cursor;
            auto it = view.NewIterator(family.family, lower, end);
            for (; it->Valid() && num_values < kBatchValues; it->Next()) {
                ++num_values;
                ++next.num_checked;
                const std::string_view key = it->key();
                next.cursor = std::string(key);
                next.cursor.push_back('\0');  // the first key after this one
                const storage::CollectionId collection = CollectionOf(key);
                if (!is_live(tenant, collection) ||
                    storage::SealedPayloadGeneration(it->value()) == next.to_generation) {
                    continue;
                }
                std::string value(it->value());
                std::string scratch;
                PHENIX_ASSIGN_OR_RETURN(bool changed,
                                        payloads.Reseal(family.kind, key, value, scratch));
                if (!changed) {
                    continue;
                }
                ++next.num_reencrypted;
                // Both ends of the entity or edge: a commit to either since the snapshot may
                // have changed or deleted this value.
                if (family.family == ColumnFamily::kEntities) {
                    std::string plain;
                    PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                            payloads.Open(family.kind, key, value, plain));
                    PHENIX_ASSIGN_OR_RETURN(std::string_view id,
                                            storage::DecodeEntityRecordId(record));
                    keys.writes.push_back(ConflictKeyOf(tenant, collection, id));
                } else {
                    storage::EdgeKey edge;
                    std::string plain;
                    PHENIX_ASSIGN_OR_RETURN(std::string_view stored,
                                            payloads.Open(family.kind, key, value, plain));
                    PHENIX_ASSIGN_OR_RETURN(storage::EdgeValueView edge_value,
                                            storage::DecodeEdgeValueView(stored));
                    if (!storage::DecodeEdgeKey(key, edge)) {
                        return Status::Corruption("a stored edge key is malformed");
                    }
                    keys.writes.push_back(
                        ConflictKeyOf(tenant, edge.other_collection, edge_value.other_external_id));
                    PHENIX_ASSIGN_OR_RETURN(std::string filed_under,
                                            external_id(edge.collection, edge.row));
                    keys.writes.push_back(ConflictKeyOf(tenant, edge.collection, filed_under));
                }
                wb.Put(store_.cf(family.family), rocksdb::Slice(key.data(), key.size()),
                       rocksdb::Slice(value));
            }
            PHENIX_RETURN_IF_ERROR(it->status());
            if (!it->Valid()) {
                ++next.family_idx;
                next.cursor.clear();
            }
        }
        if (!more) {
            next.phase = Phase::kSettling;
            // Every commit at or below this is covered by the pass (or by a retry of it).
            next.pass_end_ts = oracle_.visible();
        }
        wb.Put(store_.cf(ColumnFamily::kCatalog), KeyRotationKey(tenant), next.Encode());
        // Tests see the progress before and after the batch and may fail it (a crash before the
        // commit).
        Status injected = Status::Ok();
        KeyRotationBatchPoint point{.before = &progress, .after = &next, .inject = &injected};
        PHENIX_SYNC_POINT_ARG("KeyRotations::ReencryptBatch:BeforeCommit", &point);
        PHENIX_RETURN_IF_ERROR(injected);
        auto committed = txn::CommitBatch(oracle_, store_, wb, snapshot.ts(), keys);
        if (committed.status().code() == StatusCode::kAborted && attempt < kMaxAttempts) {
            continue;  // a concurrent write won: read again
        }
        PHENIX_RETURN_IF_ERROR(committed.status());
        progress = std::move(next);
        return more;
    }
}

Status KeyRotations::Settle(storage::TenantId tenant, KeyRotationProgress& progress,
                            const IsLive& is_live, const RewriteCheckpoints& rewrite_checkpoints) {
    const auto now = std::chrono::steady_clock::now();
    {
        MutexLock lock(mu_);
        auto last = last_check_.find(tenant);
        if (last != last_check_.end() && now - last->second < kSettleCheckInterval) {
            return Status::Ok();
        }
        last_check_[tenant] = now;
    }
    // No snapshot, transaction or history read from before the end of the pass remains (the
    // oracle's floor), and compaction may drop the versions the pass replaced (RocksDB's floor,
    // which the maintenance loop moves only in steps: moved here when it lags).
    const txn::Timestamp floor = oracle_.floor();
    if (floor <= progress.pass_end_ts) {
        return Status::Ok();
    }
    if (store_.history_floor() < floor) {
        PHENIX_RETURN_IF_ERROR(store_.SetHistoryFloor(floor));
    }
    const std::string prefix = TenantPrefix(tenant);
    const std::string end = storage::PrefixSuccessor(prefix);
    // 1. The latest state: a write sealed under the old key just before the rotation, committed
    //    after the cursor passed it, needs another pass.
    const txn::ReadView latest(store_, storage::kLatestTimestamp);
    for (const Family& family : kFamilies) {
        auto it = latest.NewIterator(family.family, prefix, end);
        for (; it->Valid(); it->Next()) {
            if (is_live(tenant, CollectionOf(it->key())) &&
                storage::SealedPayloadGeneration(it->value()) != progress.to_generation) {
                progress.phase = Phase::kReencrypting;
                progress.family_idx = 0;
                progress.cursor.clear();
                progress.counted = false;
                progress.num_checked = 0;
                return Persist(tenant, progress);
            }
        }
        PHENIX_RETURN_IF_ERROR(it->status());
    }
    // 2. Every stored version (the history below the floor is what compaction drops).
    bool old_versions = false;
    for (const Family& family : kFamilies) {
        Status scanned = store_.ScanVersions(
            family.family, prefix, 0, storage::kLatestTimestamp,
            [&](const storage::Store::KeyVersion& version) -> Status {
                if (version.value &&
                    storage::SealedPayloadGeneration(*version.value) != progress.to_generation &&
                    is_live(tenant, CollectionOf(version.key))) {
                    old_versions = true;
                    return Status(StatusCode::kCancelled, "found one");
                }
                return Status::Ok();
            });
        if (!scanned.ok() && scanned.code() != StatusCode::kCancelled) {
            return scanned;
        }
        if (old_versions) {
            break;
        }
    }
    if (old_versions) {
        {
            MutexLock lock(mu_);
            auto last = last_compaction_.find(tenant);
            if (last != last_compaction_.end() && now - last->second < kCompactionInterval) {
                return Status::Ok();
            }
            last_compaction_[tenant] = now;
        }
        // When the floor has reached the newest commit, the versions at that commit (on an idle
        // database, the pass's last batch) sit exactly at the floor, and RocksDB keeps the
        // newest version below the floor beside them: the old-generation one. Only a later
        // commit lets the floor pass them, so commit one (the progress record, unchanged).
        if (oracle_.visible() <= store_.history_floor()) {
            rocksdb::WriteBatch tick = store_.NewBatch();
            tick.Put(store_.cf(ColumnFamily::kCatalog), KeyRotationKey(tenant), progress.Encode());
            PHENIX_RETURN_IF_ERROR(
                txn::CommitBatch(oracle_, store_, tick)
                    .status()
                    .WithContext(
                        "committing a clock tick so the history floor can pass the re-encryption"));
        }
        compaction_wanted_ = true;  // CompactIfWanted, without the catalog lock
        return Status::Ok();
    }
    // 3. The vector index checkpoints: one written before the rotation (or by a checkpoint
    //    under way at it) is sealed under the old generation; rewritten under the new one, a
    //    later open loads it instead of rebuilding the index from storage.
    PHENIX_RETURN_IF_ERROR(rewrite_checkpoints(tenant).WithContext(
        "rewriting the vector index checkpoints under the new data key"));
    // 4. Nothing refers to the old generation any more: destroy it.
    PHENIX_SYNC_POINT("KeyRotations::Settle:BeforeRetire");
    PHENIX_RETURN_IF_ERROR(store_.payloads().keyring()->Retire(tenant, progress.from_generation));
    progress.phase = Phase::kFinished;
    return Persist(tenant, progress);
}

Status KeyRotations::CompactIfWanted() {
    if (!compaction_wanted_.exchange(false)) {
        return Status::Ok();
    }
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    Status compacted = Status::Ok();
    for (const Family& family : kFamilies) {
        compacted = storage::FromRocks(
            store_.db()->CompactRange(options, store_.cf(family.family), nullptr, nullptr),
            "compacting away versions under a rotated data key");
        if (!compacted.ok()) {
            break;
        }
    }
    if (!compacted.ok()) {
        // The settling rotations wait for this compaction: their status shows why it failed.
        MutexLock lock(mu_);
        for (const auto& [tenant, progress] : rotations_) {
            if (progress.phase == Phase::kSettling) {
                errors_[tenant] = KeyRotationError{.message = compacted.ToString(),
                                                   .at = std::chrono::system_clock::now()};
            }
        }
    }
    return compacted;
}

KeyRotationInfo ToKeyRotationInfo(std::string tenant,
                                  const std::optional<KeyRotationProgress>& progress,
                                  const std::optional<KeyRotationError>& error) {
    KeyRotationInfo info;
    info.tenant = std::move(tenant);
    if (error) {
        info.last_error = error->message;
        const std::time_t seconds = std::chrono::system_clock::to_time_t(error->at);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        std::array<char, 32> buffer{};
        info.last_error_at = std::string(
            buffer.data(), std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &utc));
    }
    if (!progress) {
        return info;
    }
    switch (progress->phase) {
        case Phase::kReencrypting:
            info.state = "re-encrypting";
            break;
        case Phase::kSettling:
            info.state = "settling";
            break;
        case Phase::kFinished:
            info.state = "finished";
            break;
    }
    info.from_generation = progress->from_generation;
    info.to_generation = progress->to_generation;
    info.num_total = progress->num_total;
    info.num_checked = progress->num_checked;
    info.num_reencrypted = progress->num_reencrypted;
    return info;
}

}  // namespace phenix::engine
