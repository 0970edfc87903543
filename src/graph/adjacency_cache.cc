// SPDX-License-Identifier: Apache-2.0
#include "graph/adjacency_cache.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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
// A shared array's control block (use and weak counts, a vtable pointer), rounded.
constexpr std::size_t kBlockOverheadBytes = 32 + kMallocOverheadBytes;

}  // namespace

namespace {

// A cached list or a change marker.
struct Entry {
    std::uint64_t valid_from = 0;
    // The edges, immutable once published; shared so that a Visit can replay them without the
    // shard lock while an Invalidate or an eviction drops the entry's reference.
    std::shared_ptr<const CachedEdge[]> edges;
    // The other ends' external ids, one after the other, each with a 2-byte length (LE).
    std::shared_ptr<const std::string> ids;
    std::uint32_t num_edges = 0;
    std::uint32_t id_bytes = 0;  // ids->size() (0 without a list)
    bool has_list = false;       // false: a change marker
    // CLOCK reference bit: set by Visit under the shared lock, cleared by eviction under the
    // exclusive lock. Relaxed: a hint whose staleness only changes which entry is evicted.
    mutable std::atomic<bool> referenced{false};
};

}  // namespace

struct alignas(64) AdjacencyCache::Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<Key, Entry, KeyHasher> map;  // GUARDED_BY(mu)
    std::uint64_t watermark = 0;                    // GUARDED_BY(mu)
    std::size_t bytes = 0;                          // GUARDED_BY(mu)
    std::size_t lists = 0;                          // GUARDED_BY(mu)
    std::size_t clock_hand = 0;                     // GUARDED_BY(mu), a bucket index
    std::uint64_t evictions = 0;                    // GUARDED_BY(mu)
    std::vector<Key> victims;                       // GUARDED_BY(mu), scratch for eviction
    // Relaxed counters: read only by stats().
    mutable std::atomic<std::uint64_t> hits{0};
    mutable std::atomic<std::uint64_t> misses{0};

    // Removes `it`, raising the watermark to its valid_from (the invariant: an absent key last
    // changed at or before the watermark). Returns the bytes freed.
    std::size_t EraseLocked(std::unordered_map<Key, Entry, KeyHasher>::iterator it) {
        const Entry& entry = it->second;
        watermark = std::max(watermark, entry.valid_from);
        const std::size_t freed =
            entry.has_list ? EntryBytes(entry.num_edges, entry.id_bytes) : EntryBytes(0);
        lists -= entry.has_list ? 1 : 0;
        bytes -= freed;
        map.erase(it);
        return freed;
    }
};

// Interned labels: id -> text, lock-free to read. Texts live in fixed chunks that never move or
// change once written, so a reader that learned an id (through a list published under a shard
// lock, after the text was written) can read it without a lock.
class AdjacencyCache::LabelTable {
  public:
    static constexpr std::uint32_t kChunkBits = 10;
    static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
    static constexpr std::uint32_t kMaxChunks = 1024;  // 2^20 labels

    explicit LabelTable(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    // The ids of `labels` (one per element); nullopt when a new label does not fit.
    std::optional<std::vector<std::uint32_t>> Intern(std::span<const EdgeView> edges) {
        std::vector<std::uint32_t> ids(edges.size());
        std::lock_guard lock(mu_);
        for (std::size_t idx = 0; idx < edges.size(); ++idx) {
            // Lists are in label order: most labels repeat the previous one.
            if (idx > 0 && edges[idx].label == edges[idx - 1].label) {
                ids[idx] = ids[idx - 1];
                continue;
            }
            auto found = ids_.find(edges[idx].label);
            if (found != ids_.end()) {
                ids[idx] = found->second;
                continue;
            }
            const std::string_view label = edges[idx].label;
            if (count_ == kMaxChunks * kChunkSize ||
                bytes_.load(std::memory_order_relaxed) + LabelBytes(label) > max_bytes_) {
                return std::nullopt;
            }
            const std::uint32_t id = count_++;
            if ((id & (kChunkSize - 1)) == 0) {
                owned_.push_back(std::make_unique<std::string[]>(kChunkSize));
                chunks_[id >> kChunkBits].store(owned_.back().get(), std::memory_order_release);
            }
            std::string& slot = owned_[id >> kChunkBits][id & (kChunkSize - 1)];
            slot.assign(label);
            ids_.emplace(slot, id);
            bytes_.fetch_add(LabelBytes(label), std::memory_order_relaxed);
            ids[idx] = id;
        }
        return ids;
    }

    // The text of an id returned by Intern (valid for the table's lifetime).
    [[nodiscard]] std::string_view Get(std::uint32_t id) const {
        // Acquire pairs with the release store of the chunk pointer in Intern.
        const std::string* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
        return chunk[id & (kChunkSize - 1)];
    }

    [[nodiscard]] std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  private:
    static std::size_t LabelBytes(std::string_view label) {
        // The slot, the text beyond the small-string buffer, and the id map's node.
        return sizeof(std::string) + (label.size() > 15 ? label.size() + 1 : 0) +
               sizeof(std::pair<const std::string_view, std::uint32_t>) + 3 * sizeof(void*);
    }

    const std::size_t max_bytes_;
    std::mutex mu_;
    std::unordered_map<std::string_view, std::uint32_t> ids_;  // GUARDED_BY(mu_), views of slots
    std::vector<std::unique_ptr<std::string[]>> owned_;        // GUARDED_BY(mu_)
    std::uint32_t count_ = 0;                                  // GUARDED_BY(mu_)
    std::array<std::atomic<const std::string*>, kMaxChunks> chunks_{};
    std::atomic<std::size_t> bytes_{0};  // relaxed: a size for stats and the cap
};

std::size_t AdjacencyCache::EntryBytes(std::size_t num_edges, std::size_t id_bytes) {
    // The map node (key, entry, next pointer, cached hash), a bucket slot and malloc overhead;
    // then the shared edge array.
    constexpr std::size_t kEntryOverheadBytes =
        sizeof(std::pair<const Key, Entry>) + 3 * sizeof(void*) + kMallocOverheadBytes;
    return kEntryOverheadBytes +
           (num_edges == 0 ? 0 : kBlockOverheadBytes + num_edges * sizeof(CachedEdge)) +
           (id_bytes == 0 ? 0 : kBlockOverheadBytes + sizeof(std::string) + id_bytes);
}

AdjacencyCache::AdjacencyCache(std::size_t capacity_bytes, std::uint64_t initial_watermark_ts,
                               std::size_t num_shards)
    : capacity_bytes_(capacity_bytes),
      max_entry_bytes_(capacity_bytes / 8),
      num_shards_(std::bit_ceil(std::clamp<std::size_t>(num_shards, 1, 1u << 16))),
      shards_(std::make_unique<Shard[]>(num_shards_)),
      labels_(std::make_unique<LabelTable>(capacity_bytes / 16 + 64 * 1024)) {
    for (std::size_t idx = 0; idx < num_shards_; ++idx) {
        shards_[idx].watermark = initial_watermark_ts;
    }
}

AdjacencyCache::~AdjacencyCache() = default;

AdjacencyCache::Shard& AdjacencyCache::ShardFor(const Key& key) const {
    // The map buckets by the hash modulo a prime; the shard takes high bits.
    const std::uint64_t hash = KeyHasher{}(key);
    return shards_[static_cast<std::size_t>(hash >> 40) & (num_shards_ - 1)];
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
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    std::shared_ptr<const CachedEdge[]> edges;
    std::shared_ptr<const std::string> ids;
    std::uint32_t num_edges = 0;
    {
        std::shared_lock lock(shard.mu);
        auto it = shard.map.find(key);
        if (it == shard.map.end() || !it->second.has_list || snapshot < it->second.valid_from) {
            shard.misses.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        const Entry& entry = it->second;
        edges = entry.edges;
        ids = entry.ids;
        num_edges = entry.num_edges;
        if (!entry.referenced.load(std::memory_order_relaxed)) {
            entry.referenced.store(true, std::memory_order_relaxed);
        }
    }
    shard.hits.fetch_add(1, std::memory_order_relaxed);
    const CachedEdge* list = edges.get();
    const char* id = ids ? ids->data() : nullptr;
    for (std::uint32_t idx = 0; idx < num_edges; ++idx) {
        const CachedEdge& edge = list[idx];
        std::string_view other_id;
        if (id != nullptr) {
            const std::size_t length =
                static_cast<unsigned char>(id[0]) |
                (static_cast<std::size_t>(static_cast<unsigned char>(id[1])) << 8);
            other_id = std::string_view(id + 2, length);
            id += 2 + length;
        }
        if (!visit(edge, labels_->Get(edge.label_id()), other_id)) {
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
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    std::size_t id_bytes = 0;
    bool any_id = false;
    for (const EdgeView& edge : edges) {
        id_bytes += 2 + edge.other_id.size();
        any_id = any_id || !edge.other_id.empty();
        if (edge.other_id.size() > 0xFFFF) {
            refused_offers_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    if (!any_id) {
        id_bytes = 0;
    }
    const std::size_t entry_bytes = EntryBytes(edges.size(), id_bytes);
    // Would the protocol store it? (Checked again under the exclusive lock.)
    auto acceptable = [&]() {
        auto it = shard.map.find(key);
        if (it != shard.map.end()) {
            return !it->second.has_list && snapshot >= it->second.valid_from;
        }
        return snapshot >= shard.watermark;
    };
    bool ok = entry_bytes <= max_entry_bytes_ &&
              edges.size() <= std::numeric_limits<std::uint32_t>::max();
    if (ok) {
        std::shared_lock lock(shard.mu);
        ok = acceptable();
    }
    if (!ok) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return;
    }

    // Build the list with no shard lock held.
    std::optional<std::vector<std::uint32_t>> label_ids = labels_->Intern(edges);
    if (!label_ids.has_value()) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    std::shared_ptr<std::string> ids;
    if (id_bytes > 0) {
        auto arena = std::make_shared<std::string>();
        arena->reserve(id_bytes);
        for (const EdgeView& edge : edges) {
            arena->push_back(static_cast<char>(edge.other_id.size() & 0xFF));
            arena->push_back(static_cast<char>(edge.other_id.size() >> 8));
            arena->append(edge.other_id);
        }
        ids = std::move(arena);
    }
    std::shared_ptr<CachedEdge[]> list;
    if (!edges.empty()) {
        list = std::make_shared<CachedEdge[]>(edges.size());
        CachedEdge* out = list.get();
        for (std::size_t idx = 0; idx < edges.size(); ++idx) {
            const EdgeView& edge = edges[idx];
            out[idx] = CachedEdge{
                .row = edge.other.row,
                .weight = edge.weight,
                .collection = edge.other.collection,
                .label_bits =
                    (*label_ids)[idx] | (edge.has_properties ? CachedEdge::kHasPropertiesBit : 0u)};
        }
    }

    {
        std::unique_lock lock(shard.mu);
        if (!acceptable()) {
            ok = false;
        } else {
            auto [it, inserted] = shard.map.try_emplace(key);
            Entry& entry = it->second;
            if (inserted) {
                entry.valid_from = shard.watermark;
            } else {
                shard.bytes -= EntryBytes(0);  // the marker's charge, replaced below
                bytes_.fetch_sub(EntryBytes(0), std::memory_order_relaxed);
            }
            entry.edges = std::move(list);
            entry.ids = std::move(ids);
            entry.id_bytes = static_cast<std::uint32_t>(id_bytes);
            entry.num_edges = static_cast<std::uint32_t>(edges.size());
            entry.has_list = true;
            entry.referenced.store(false, std::memory_order_relaxed);
            shard.lists += 1;
            shard.bytes += entry_bytes;
            bytes_.fetch_add(entry_bytes, std::memory_order_relaxed);
        }
    }
    if (!ok) {
        refused_offers_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    EvictIfNeeded();
}

void AdjacencyCache::Invalidate(NodeRef node, Direction dir, std::uint64_t commit_ts) {
    if (dir == Direction::kBoth) {
        Invalidate(node, Direction::kOut, commit_ts);
        Invalidate(node, Direction::kIn, commit_ts);
        return;
    }
    const Key key{node, dir};
    Shard& shard = ShardFor(key);
    std::shared_ptr<const CachedEdge[]> dropped;  // released after the lock
    bool grew = false;
    {
        std::unique_lock lock(shard.mu);
        auto it = shard.map.find(key);
        if (it == shard.map.end()) {
            // Absent means "last changed <= watermark"; that stays true if c <= watermark.
            if (commit_ts <= shard.watermark) {
                return;
            }
            Entry& entry = shard.map.try_emplace(key).first->second;
            entry.valid_from = commit_ts;
            shard.bytes += EntryBytes(0);
            bytes_.fetch_add(EntryBytes(0), std::memory_order_relaxed);
            grew = true;
        } else {
            Entry& entry = it->second;
            entry.valid_from = std::max(entry.valid_from, commit_ts);
            if (entry.has_list) {
                const std::size_t freed =
                    EntryBytes(entry.num_edges, entry.id_bytes) - EntryBytes(0);
                dropped = std::move(entry.edges);
                entry.edges = nullptr;
                entry.ids = nullptr;
                entry.id_bytes = 0;
                entry.num_edges = 0;
                entry.has_list = false;
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
        std::unique_lock lock(shard.mu);
        for (auto it = shard.map.begin(); it != shard.map.end();) {
            auto next = std::next(it);
            if (it->first.node.collection == collection) {
                bytes_.fetch_sub(shard.EraseLocked(it), std::memory_order_relaxed);
            }
            it = next;
        }
        shard.watermark = std::max(shard.watermark, drop_ts);
    }
}

void AdjacencyCache::RaiseWatermark(std::uint64_t ts) {
    for (std::size_t shard_idx = 0; shard_idx < num_shards_; ++shard_idx) {
        Shard& shard = shards_[shard_idx];
        std::unique_lock lock(shard.mu);
        shard.watermark = std::max(shard.watermark, ts);
        // A marker whose change is <= the watermark says nothing the watermark does not.
        for (auto it = shard.map.begin(); it != shard.map.end();) {
            auto next = std::next(it);
            if (!it->second.has_list && it->second.valid_from <= shard.watermark) {
                bytes_.fetch_sub(shard.EraseLocked(it), std::memory_order_relaxed);
            }
            it = next;
        }
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
            std::unique_lock lock(shard.mu);
            auto& map = shard.map;
            if (map.empty()) {
                ++idle_shards;
                continue;
            }
            const std::size_t target = total - capacity_bytes_;
            // Two sweeps of the buckets: the first may only clear reference bits.
            const std::size_t max_steps = 2 * map.bucket_count();
            for (std::size_t step = 0; step < max_steps && freed < target && !map.empty(); ++step) {
                const std::size_t bucket = shard.clock_hand % map.bucket_count();
                shard.clock_hand = bucket + 1;
                shard.victims.clear();
                for (auto lit = map.begin(bucket); lit != map.end(bucket); ++lit) {
                    if (lit->second.referenced.load(std::memory_order_relaxed)) {
                        lit->second.referenced.store(false, std::memory_order_relaxed);
                    } else {
                        shard.victims.push_back(lit->first);
                    }
                }
                for (const Key& victim : shard.victims) {
                    freed += shard.EraseLocked(map.find(victim));
                    shard.evictions += 1;
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
        std::shared_lock lock(shard.mu);
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
