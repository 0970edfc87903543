// SPDX-License-Identifier: Apache-2.0
#include "graph/adjacency_cache.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace phenix::graph {

struct AdjacencyCache::Key {
    NodeRef node;
    Direction dir = Direction::kOut;
    friend bool operator==(const Key&, const Key&) = default;
};

namespace {

struct KeyHasher {
    template <typename K>
    std::size_t operator()(const K& key) const noexcept {
        return NodeRefHash{}(key.node) ^
               (static_cast<std::size_t>(key.dir) * std::size_t{0x9E3779B97F4A7C15ULL});
    }
};

// What the allocator charges beyond the bytes asked for (header and rounding), roughly.
constexpr std::size_t kMallocOverheadBytes = 16;

}  // namespace

namespace {

// A cached list or a change marker.
struct Entry {
    std::uint64_t valid_from = 0;
    // The list (null: a change marker), immutable once published; shared so that a reader can
    // walk it without the shard lock while an Invalidate or an eviction drops the entry's
    // reference.
    PackedListPtr list;
    // CLOCK reference bit: set by Find under the shared lock, cleared by eviction under the
    // exclusive lock, both through std::atomic_ref. Relaxed: a hint whose staleness only changes
    // which entry is evicted.
    mutable bool referenced = false;

    [[nodiscard]] bool has_list() const { return list != nullptr; }
    void SetReferenced(bool value) const {
        std::atomic_ref<bool>(referenced).store(value, std::memory_order_relaxed);
    }
    [[nodiscard]] bool IsReferenced() const {
        return std::atomic_ref<bool>(referenced).load(std::memory_order_relaxed);
    }
};

std::size_t ListCharge(const PackedList& list) {
    return AdjacencyCache::EntryBytes(list.size(), list.id_bytes());
}

}  // namespace

// A shard's entries: open addressing with linear probing in one array (a lookup is one hash and
// usually one cache line, where a node-based map chases a bucket and a node), load <= 1/2,
// deletion by backward shift (no tombstones). Thread-compatible (the shard's lock guards it).
class AdjacencyCache::EntryMap {
  public:
    struct Slot {
        Key key;
        Entry entry;
        bool used = false;
    };

    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::size_t capacity() const { return slots_.size(); }
    [[nodiscard]] Slot& slot(std::size_t idx) { return slots_[idx]; }

    [[nodiscard]] const Entry* Find(const Key& key) const {
        if (slots_.empty()) {
            return nullptr;
        }
        for (std::size_t idx = Home(key);; idx = (idx + 1) & mask_) {
            const Slot& slot = slots_[idx];
            if (!slot.used) {
                return nullptr;
            }
            if (slot.key == key) {
                return &slot.entry;
            }
        }
    }
    [[nodiscard]] Entry* Find(const Key& key) {
        return const_cast<Entry*>(std::as_const(*this).Find(key));
    }

    std::pair<Entry*, bool> TryEmplace(const Key& key) {
        if (2 * (size_ + 1) > slots_.size()) {
            Grow();
        }
        for (std::size_t idx = Home(key);; idx = (idx + 1) & mask_) {
            Slot& slot = slots_[idx];
            if (!slot.used) {
                slot.used = true;
                slot.key = key;
                slot.entry = Entry{};
                ++size_;
                return {&slot.entry, true};
            }
            if (slot.key == key) {
                return {&slot.entry, false};
            }
        }
    }

    // Removes the slot at idx; later slots of its probe run shift back into the hole.
    void EraseAt(std::size_t idx) {
        slots_[idx].used = false;
        slots_[idx].entry = Entry{};
        --size_;
        std::size_t hole = idx;
        for (std::size_t next = (hole + 1) & mask_; slots_[next].used; next = (next + 1) & mask_) {
            const std::size_t home = Home(slots_[next].key);
            // The entry at `next` may move to `hole` iff its home is not cyclically in
            // (hole, next].
            const bool stays =
                hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (stays) {
                continue;
            }
            slots_[hole] = std::move(slots_[next]);
            slots_[next].used = false;
            slots_[next].entry = Entry{};
            hole = next;
        }
    }

    // Prefetches the home slot of `key`. Lock-free: reads only the published base and mask, which
    // Grow updates (relaxed: a stale pair prefetches a wrong line, which is harmless; a prefetch
    // never faults).
    void PrefetchHome(const Key& key) const {
        const Slot* base = base_.load(std::memory_order_relaxed);
        if (base != nullptr) {
            __builtin_prefetch(base +
                               (KeyHasher{}(key)&published_mask_.load(std::memory_order_relaxed)));
        }
    }

    [[nodiscard]] std::size_t IndexOf(const Key& key) const {
        for (std::size_t idx = Home(key);; idx = (idx + 1) & mask_) {
            if (slots_[idx].used && slots_[idx].key == key) {
                return idx;
            }
        }
    }

  private:
    [[nodiscard]] std::size_t Home(const Key& key) const { return KeyHasher{}(key)&mask_; }

    void Grow() {
        std::vector<Slot> old = std::move(slots_);
        const std::size_t capacity = old.empty() ? 16 : 2 * old.size();
        slots_ = std::vector<Slot>(capacity);
        mask_ = capacity - 1;
        for (Slot& slot : old) {
            if (!slot.used) {
                continue;
            }
            for (std::size_t idx = Home(slot.key);; idx = (idx + 1) & mask_) {
                if (!slots_[idx].used) {
                    slots_[idx] = std::move(slot);
                    break;
                }
            }
        }
        published_mask_.store(mask_, std::memory_order_relaxed);
        base_.store(slots_.data(), std::memory_order_relaxed);
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
    // For PrefetchHome only (read without the shard lock).
    std::atomic<const Slot*> base_{nullptr};
    std::atomic<std::size_t> published_mask_{0};
};

struct alignas(64) AdjacencyCache::Shard {
    mutable SharedMutex mu;
    // Read without the lock only by PrefetchHome (which is made for that).
    EntryMap map GUARDED_BY(mu);
    std::uint64_t watermark GUARDED_BY(mu) = 0;
    std::size_t bytes GUARDED_BY(mu) = 0;
    std::size_t lists GUARDED_BY(mu) = 0;
    std::size_t clock_hand GUARDED_BY(mu) = 0;  // a slot index
    std::uint64_t evictions GUARDED_BY(mu) = 0;
    std::vector<Key> victims GUARDED_BY(mu);  // scratch
    // Relaxed counters: read only by stats().
    mutable std::atomic<std::uint64_t> hits{0};
    mutable std::atomic<std::uint64_t> misses{0};

    // Whether the protocol stores a list for `key` read at `snapshot`: onto a marker whose
    // change is not newer than the read, or, without an entry, a read at or above the
    // watermark. A cached list stays (the first one wins).
    [[nodiscard]] bool AcceptableLocked(const Key& key, std::uint64_t snapshot) const
        REQUIRES_SHARED(mu) {
        if (const Entry* entry = map.Find(key)) {
            return !entry->has_list() && snapshot >= entry->valid_from;
        }
        return snapshot >= watermark;
    }

    // Removes the entry in slot idx, raising the watermark to its valid_from (the invariant: an
    // absent key last changed at or before the watermark). Returns the bytes freed.
    std::size_t EraseLocked(std::size_t idx) REQUIRES(mu) {
        const Entry& entry = map.slot(idx).entry;
        watermark = std::max(watermark, entry.valid_from);
        const std::size_t freed = entry.has_list() ? ListCharge(*entry.list) : EntryBytes(0);
        lists -= entry.has_list() ? 1U : 0U;
        bytes -= freed;
        map.EraseAt(idx);
        return freed;
    }
    // Erases the entries whose keys are in `victims` (collected first: erasing shifts slots).
    std::size_t EraseVictimsLocked() REQUIRES(mu) {
        std::size_t freed = 0;
        for (const Key& victim : victims) {
            freed += EraseLocked(map.IndexOf(victim));
        }
        victims.clear();
        return freed;
    }
};

std::size_t AdjacencyCache::EntryBytes(std::size_t num_edges, std::size_t id_bytes) {
    // Two slots of the shard's table (its load is at most 1/2).
    constexpr std::size_t kEntryOverheadBytes = 2 * sizeof(EntryMap::Slot);
    // The packed list: one allocation (header, edges, and with ids one offset per edge plus one
    // and the ids' bytes).
    return kEntryOverheadBytes +
           (num_edges == 0 ? 0
                           : kMallocOverheadBytes +
                                 PackedList::AllocationBytes(num_edges, id_bytes > 0, id_bytes));
}

AdjacencyCache::AdjacencyCache(std::size_t capacity_bytes, std::uint64_t initial_watermark_ts,
                               std::size_t num_shards)
    : capacity_bytes_(capacity_bytes),
      max_entry_bytes_(capacity_bytes / 8),
      num_shards_(std::bit_ceil(std::clamp<std::size_t>(num_shards, 1, 1u << 16))),
      shards_(std::make_unique<Shard[]>(num_shards_)),
      labels_(std::make_unique<LabelTable>(capacity_bytes / 16 + 64 * 1024)) {
    for (std::size_t idx = 0; idx < num_shards_; ++idx) {
        WriterMutexLock lock(shards_[idx].mu);  // uncontended: nobody else sees the cache yet
        shards_[idx].watermark = initial_watermark_ts;
    }
}

AdjacencyCache::~AdjacencyCache() = default;

AdjacencyCache::Shard& AdjacencyCache::ShardFor(const Key& key) const {
    // The map buckets by the hash modulo a prime; the shard takes high bits.
    const std::uint64_t hash = KeyHasher{}(key);
    return shards_[static_cast<std::size_t>(hash >> 40) & (num_shards_ - 1)];
}

// Reads the shard's table without its lock on purpose (a prefetch hint; EntryMap::PrefetchHome
// reads only atomics).
void AdjacencyCache::Prefetch(NodeRef node, Direction dir) const NO_THREAD_SAFETY_ANALYSIS {
    const Key key{node, dir};
    ShardFor(key).map.PrefetchHome(key);
}

PackedListPtr AdjacencyCache::Find(NodeRef node, Direction dir, std::uint64_t snapshot) const {
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    PackedListPtr list;
    {
        ReaderMutexLock lock(shard.mu);
        const Entry* entry = shard.map.Find(key);
        if (entry == nullptr || !entry->has_list() || snapshot < entry->valid_from) {
            shard.misses.fetch_add(1, std::memory_order_relaxed);
            return list;
        }
        list = entry->list;
        if (!entry->IsReferenced()) {
            entry->SetReferenced(true);
        }
    }
    shard.hits.fetch_add(1, std::memory_order_relaxed);
    return list;
}

bool AdjacencyCache::Visit(
    NodeRef node, Direction dir, std::uint64_t snapshot,
    FunctionRef<bool(const CachedEdge&, std::string_view label)> visit) const {
    return VisitWithIds(node, dir, snapshot,
                        [&](const CachedEdge& edge, std::string_view label, std::string_view) {
                            return visit(edge, label);
                        });
}

bool AdjacencyCache::VisitWithIds(
    NodeRef node, Direction dir, std::uint64_t snapshot,
    FunctionRef<bool(const CachedEdge&, std::string_view label, std::string_view other_id)> visit)
    const {
    const PackedListPtr list = Find(node, dir, snapshot);
    if (!list) {
        return false;
    }
    for (std::size_t idx = 0; idx < list->size(); ++idx) {
        if (!visit(list->edge(idx), list->label(idx), list->other_id(idx))) {
            break;
        }
    }
    return true;
}

void AdjacencyCache::Offer(NodeRef node, Direction dir, std::uint64_t snapshot,
                           std::span<const EdgeView> edges) {
    if (dir == Direction::kBoth) {
        return;
    }
    // Refuse early what the protocol or the size cap would refuse, before packing.
    if (EntryBytes(edges.size()) > max_entry_bytes_ || !Acceptable(node, dir, snapshot)) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    PackedListPtr list = PackList(*labels_, edges);
    if (!list) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    (void)OfferPacked(node, dir, snapshot, std::move(list));
}

bool AdjacencyCache::Acceptable(NodeRef node, Direction dir, std::uint64_t snapshot) const {
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    ReaderMutexLock lock(shard.mu);
    return shard.AcceptableLocked(key, snapshot);
}

bool AdjacencyCache::OfferPacked(NodeRef node, Direction dir, std::uint64_t snapshot,
                                 PackedListPtr list) {
    if (dir == Direction::kBoth || !list || list->labels() != labels_.get()) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    const std::size_t entry_bytes = ListCharge(*list);
    if (entry_bytes > max_entry_bytes_) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    {
        WriterMutexLock lock(shard.mu);
        if (!shard.AcceptableLocked(key, snapshot)) {
            refused_offers_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        auto [entry, inserted] = shard.map.TryEmplace(key);
        if (inserted) {
            entry->valid_from = shard.watermark;
        } else {
            shard.bytes -= EntryBytes(0);  // the marker's charge, replaced below
            bytes_.fetch_sub(EntryBytes(0), std::memory_order_relaxed);
        }
        entry->list = std::move(list);
        entry->SetReferenced(false);
        shard.lists += 1;
        shard.bytes += entry_bytes;
        bytes_.fetch_add(entry_bytes, std::memory_order_relaxed);
    }
    EvictIfNeeded();
    return true;
}

void AdjacencyCache::Invalidate(NodeRef node, Direction dir, std::uint64_t commit_ts) {
    if (dir == Direction::kBoth) {
        Invalidate(node, Direction::kOut, commit_ts);
        Invalidate(node, Direction::kIn, commit_ts);
        return;
    }
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    PackedListPtr dropped;  // released after the lock
    bool grew = false;
    {
        WriterMutexLock lock(shard.mu);
        Entry* found = shard.map.Find(key);
        if (found == nullptr) {
            // Absent means "last changed <= watermark"; that stays true if c <= watermark.
            if (commit_ts <= shard.watermark) {
                return;
            }
            Entry& entry = *shard.map.TryEmplace(key).first;
            entry.valid_from = commit_ts;
            shard.bytes += EntryBytes(0);
            bytes_.fetch_add(EntryBytes(0), std::memory_order_relaxed);
            grew = true;
        } else {
            Entry& entry = *found;
            entry.valid_from = std::max(entry.valid_from, commit_ts);
            if (entry.has_list()) {
                const std::size_t freed = ListCharge(*entry.list) - EntryBytes(0);
                dropped = std::move(entry.list);
                entry.list = nullptr;
                shard.lists -= 1;
                shard.bytes -= freed;
                bytes_.fetch_sub(freed, std::memory_order_relaxed);
            }
        }
    }
    if (grew) {
        EvictIfNeeded();
    }
}

void AdjacencyCache::DropCollection(std::uint32_t collection, std::uint64_t drop_ts) {
    for (std::size_t shard_idx = 0; shard_idx < num_shards_; ++shard_idx) {
        Shard& shard = shards_[shard_idx];
        WriterMutexLock lock(shard.mu);
        for (std::size_t idx = 0; idx < shard.map.capacity(); ++idx) {
            const EntryMap::Slot& slot = shard.map.slot(idx);
            if (slot.used && slot.key.node.collection == collection) {
                shard.victims.push_back(slot.key);
            }
        }
        bytes_.fetch_sub(shard.EraseVictimsLocked(), std::memory_order_relaxed);
        shard.watermark = std::max(shard.watermark, drop_ts);
    }
}

void AdjacencyCache::RaiseWatermark(std::uint64_t ts) {
    for (std::size_t shard_idx = 0; shard_idx < num_shards_; ++shard_idx) {
        Shard& shard = shards_[shard_idx];
        WriterMutexLock lock(shard.mu);
        shard.watermark = std::max(shard.watermark, ts);
        // A marker whose change is <= the watermark says nothing the watermark does not.
        for (std::size_t idx = 0; idx < shard.map.capacity(); ++idx) {
            const EntryMap::Slot& slot = shard.map.slot(idx);
            if (slot.used && !slot.entry.has_list() && slot.entry.valid_from <= shard.watermark) {
                shard.victims.push_back(slot.key);
            }
        }
        bytes_.fetch_sub(shard.EraseVictimsLocked(), std::memory_order_relaxed);
    }
}

void AdjacencyCache::EvictIfNeeded() {
    // CLOCK per shard, shards in turn. Gives up after a round of shards that freed nothing
    // (only possible while other threads race to add), so it always terminates.
    std::size_t idle_shards = 0;
    while (idle_shards < num_shards_) {
        const std::size_t total = bytes_.load(std::memory_order_relaxed);
        if (total <= capacity_bytes_) {
            return;
        }
        const std::size_t shard_idx =
            clock_shard_.fetch_add(1, std::memory_order_relaxed) & (num_shards_ - 1);
        Shard& shard = shards_[shard_idx];
        std::size_t freed = 0;
        {
            WriterMutexLock lock(shard.mu);
            auto& map = shard.map;
            if (map.empty()) {
                ++idle_shards;
                continue;
            }
            const std::size_t target = total - capacity_bytes_;
            // Two sweeps of the slots: the first may only clear reference bits. An erase shifts
            // a later entry into the hand's slot, so the hand stays to look at it.
            const std::size_t max_steps = 2 * map.capacity();
            for (std::size_t step = 0; step < max_steps && freed < target && !map.empty(); ++step) {
                const std::size_t idx = shard.clock_hand % map.capacity();
                EntryMap::Slot& slot = map.slot(idx);
                if (!slot.used) {
                    shard.clock_hand = idx + 1;
                } else if (slot.entry.IsReferenced()) {
                    slot.entry.SetReferenced(false);
                    shard.clock_hand = idx + 1;
                } else {
                    freed += shard.EraseLocked(idx);
                    shard.evictions += 1;
                    shard.clock_hand = idx;
                }
            }
            bytes_.fetch_sub(freed, std::memory_order_relaxed);
        }
        idle_shards = freed == 0 ? idle_shards + 1 : 0;
    }
}

AdjacencyCache::Stats AdjacencyCache::stats() const {
    Stats stats;
    for (std::size_t shard_idx = 0; shard_idx < num_shards_; ++shard_idx) {
        const Shard& shard = shards_[shard_idx];
        ReaderMutexLock lock(shard.mu);
        stats.entries += shard.lists;
        stats.markers += shard.map.size() - shard.lists;
        stats.bytes += shard.bytes;
        stats.evictions += shard.evictions;
        stats.hits += shard.hits.load(std::memory_order_relaxed);
        stats.misses += shard.misses.load(std::memory_order_relaxed);
    }
    stats.label_bytes = labels_->bytes();
    stats.refused_offers = refused_offers_.load(std::memory_order_relaxed);
    return stats;
}

}  // namespace phenix::graph
