// SPDX-License-Identifier: Apache-2.0
//
// HnswIndex — a hierarchical navigable small world graph (Malkov & Yashunin, 2016) written for
// a database rather than a library:
//   * Nodes carry an MVCC lifetime [inserted_ts, deleted_ts). A search at snapshot `s` returns a
//     node only if inserted_ts <= s < deleted_ts; nodes outside their lifetime still route. A
//     changed vector ends the row's node and starts a new one, so one graph serves every
//     snapshot (docs/decisions/0004-vector-index.md).
//   * Concurrent inserts from several threads while other threads search (per-node spin locks on
//     link lists; searches take no lock and read links with relaxed atomic loads).
//   * Repair(floor) unlinks nodes that no snapshot can see any more and reconnects their
//     neighbours (so recall does not decay under churn); their slots are reused by later
//     inserts once no reader that could still hold them is running (two-epoch reclamation).
//   * Filtered search over a row-id bitmap with three strategies chosen by selectivity: exact
//     scan of the matching rows, in-graph filtering (routing through non-matching nodes, with
//     two-hop neighbourhood expansion for selective filters, after ACORN), and over-fetch then
//     filter. The choice is reported in SearchStats.
//   * Optional int8 scalar quantization of the stored vectors (graph traversal on codes, exact
//     re-ranking of the final candidates with full-precision vectors from a VectorSource).
//   * Labels: an immutable string per row (the engine's external id), returned with the hits so
//     the caller needs no record read to name them.
//   * Save/Load of a checkpoint that records the commit timestamp it covers, written through
//     RocksDB's FileSystem (storage/checkpoint_file.h).
//
// Rows must be < 2^32 (row-id filters are 32-bit roaring bitmaps).
//
// Thread safety: Insert, EndRow and Search may run concurrently from any threads. Repair and
// Save exclude Insert (they wait for running inserts), not Search.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <roaring/roaring.hh>

#include <phenix/result.h>
#include <phenix/status.h>
#include <phenix/types.h>

#include "index/hnsw/filter_planner.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace phenix::index {

using NodeId = std::uint32_t;
using RowId = std::uint64_t;
using Timestamp = std::uint64_t;

/// A set of rows (CRoaring's C++ class; Debian's 0.2.66 names it ::Roaring).
using RowBitmap = ::Roaring;

inline constexpr NodeId kNoNode = 0xFFFFFFFFu;
inline constexpr Timestamp kForever = ~Timestamp{0};
inline constexpr RowId kMaxRow = 0xFFFFFFFEu;

struct HnswParams {
    std::uint32_t dimension = 0;
    Metric metric = Metric::kL2;
    std::uint32_t m = 16;  ///< links per node on upper layers; 2*m on layer 0
    std::uint32_t ef_construction = 200;
    bool quantize_int8 = false;  ///< traverse on 8-bit codes, re-rank with full vectors
    std::uint64_t seed = 0x5EED;
};

struct SearchOptions {
    std::size_t k = 10;
    std::size_t ef = 64;                ///< raised to k if smaller
    Timestamp snapshot = kForever;      ///< return nodes visible at this timestamp
    const RowBitmap* filter = nullptr;  ///< allowed rows; nullptr: all
    FilterStrategy strategy = FilterStrategy::kAuto;
    /// Rows never returned (e.g. rows a transaction rewrote; its own version is searched apart).
    const RowBitmap* exclude = nullptr;
    FilterPlannerOptions planner;
    /// A filter given as a test per row instead of a bitmap (e.g. graph reachability checked
    /// for each candidate); used when `filter` is null. predicate_rows estimates how many rows
    /// pass (the planner's input in place of a bitmap's cardinality). A predicate cannot be
    /// enumerated, so the search never scans exactly with it: kExactScan is refused
    /// (InvalidArgument; kAuto picks in-graph or post-filter), and when the graph search finds
    /// fewer than k rows SearchStats::incomplete is set instead of falling back.
    const std::function<bool(std::uint32_t row)>* predicate = nullptr;
    std::uint64_t predicate_rows = 0;
};

struct Neighbor {
    RowId row = 0;
    float distance = 0;         ///< squared L2, 1 - cos, or -dot (the collection's metric)
    Timestamp inserted_ts = 0;  ///< start of the node's lifetime (which version of the row)
    /// The row's label (HnswIndex::Label); empty if it has none. Valid while the index lives.
    std::string_view label;
    friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

struct SearchStats {
    FilterStrategy strategy = FilterStrategy::kNone;
    double selectivity = 1.0;  ///< matching rows / rows in the index
    std::uint64_t filter_rows = 0;
    std::size_t distance_computations = 0;
    std::size_t nodes_expanded = 0;
    /// The beam width of the layer-0 search (0: no graph search ran, e.g. an exact scan).
    std::size_t ef_searched = 0;
    bool fell_back_to_exact = false;  ///< the graph found fewer than k of >= k matches
    /// A predicate search found fewer than k rows (more may match: the caller decides).
    bool incomplete = false;
};

struct SearchResult {
    std::vector<Neighbor> neighbors;  ///< nearest first
    SearchStats stats;
};

struct MemoryUsage {
    std::size_t vectors_bytes = 0;   ///< stored vectors or codes
    std::size_t graph_bytes = 0;     ///< link lists (all layers)
    std::size_t metadata_bytes = 0;  ///< node lifetimes, row map, locks
    std::size_t nodes = 0;
    [[nodiscard]] std::size_t total() const { return vectors_bytes + graph_bytes + metadata_bytes; }
};

/// Full-precision vectors for re-ranking a quantized index (the engine reads them from storage).
/// Writes the `dimension` floats of `row` as of `snapshot` into `out`; false if it has none.
using VectorSource = std::function<bool(RowId row, Timestamp snapshot, float* out)>;

/// Progress of a bulk insert: (done, total).
using ProgressCallback = std::function<void(std::size_t done, std::size_t total)>;

class HnswIndex {
  public:
    /// InvalidArgument for dimension 0 or > 65536, m < 2 or > 128, ef_construction < 1.
    static Result<std::unique_ptr<HnswIndex>> Create(const HnswParams& params);
    ~HnswIndex();
    HnswIndex(const HnswIndex&) = delete;
    HnswIndex& operator=(const HnswIndex&) = delete;

    [[nodiscard]] const HnswParams& params() const;

    /// int8 only: fixes the quantizer's range from sample vectors (clips 0.1% outliers).
    /// Required before the first Insert of a quantized index. The range is published to
    /// concurrent searches with release/acquire on the trained flag.
    Status TrainQuantizer(std::span<const float> samples);
    [[nodiscard]] bool needs_training() const;

    /// Adds `vector` as the node of `row`, alive from `inserted_ts`. If the row already has a
    /// live node, that node is ended at `inserted_ts`. InvalidArgument on a dimension mismatch,
    /// a row > kMaxRow, or a zero vector under the cosine metric; ResourceExhausted past 2^32-2
    /// nodes. Thread-safe.
    /// `end_watch` (optional): the row version's end as the caller may set it concurrently;
    /// read after the node is in the row map and before it is linked, so with EndRow called
    /// after setting it, the node is ended before any search can reach it (or EndRow finds it).
    /// `label` (optional): the row's label, kept if the row has none yet (labels never change).
    Result<NodeId> Insert(RowId row, std::span<const float> vector, Timestamp inserted_ts,
                          const std::atomic<Timestamp>* end_watch = nullptr,
                          std::string_view label = {});
    /// Inserts rows[i] -> vectors[i*dim ...] with `threads` threads; stops at the first error.
    Status InsertBulk(std::span<const RowId> rows, std::span<const float> vectors,
                      Timestamp inserted_ts, unsigned threads,
                      const ProgressCallback& progress = nullptr);
    /// Ends the row's live node at `deleted_ts` (snapshots >= deleted_ts no longer see it).
    /// Returns false if the row has no live node.
    bool EndRow(RowId row, Timestamp deleted_ts);

    /// k nearest visible (and matching) nodes. InvalidArgument on a dimension mismatch or a
    /// zero query vector under the cosine metric.
    Result<SearchResult> Search(std::span<const float> query, const SearchOptions& options) const;

    /// Distances from `query` to specific vectors with the index's metric (for the engine's
    /// exact scan of not-yet-indexed rows). `query` must be prepared with PrepareQuery.
    [[nodiscard]] float Distance(std::span<const float> prepared_query,
                                 std::span<const float> vector) const;
    /// Copies the query, normalised under the cosine metric. InvalidArgument as in Search.
    Result<std::vector<float>> PrepareQuery(std::span<const float> query) const;

    /// Unlinks every node ended at or before `floor` (no snapshot >= floor sees it) and
    /// reconnects its neighbours. Returns the number of nodes removed.
    std::size_t Repair(Timestamp floor);

    /// Writes a checkpoint covering commits up to `watermark` (nodes removed by Repair or ended
    /// at or before `floor` are left out). Atomic: temp file, fsync, rename, fsync directory,
    /// all through `fs` (nullptr: the default file system). May run concurrently with EndRow
    /// and Search; excludes Insert and Repair.
    Status Save(const std::string& path, Timestamp watermark, Timestamp floor,
                rocksdb::FileSystem* fs = nullptr) const;
    /// Loads a checkpoint written by Save; *watermark receives its timestamp. NotFound if there
    /// is none; Corruption on a bad checksum, truncated file or unknown version.
    static Result<std::unique_ptr<HnswIndex>> Load(const std::string& path, Timestamp* watermark,
                                                   rocksdb::FileSystem* fs = nullptr);

    void SetVectorSource(VectorSource source);

    [[nodiscard]] MemoryUsage Memory() const;
    /// Nodes ever inserted and not removed by Repair (live or ended).
    [[nodiscard]] std::size_t num_nodes() const;
    /// Nodes with no end (deleted_ts == kForever).
    [[nodiscard]] std::size_t num_live() const;
    /// Levels of the graph: the entry point's level + 1 (0 while empty).
    [[nodiscard]] std::uint32_t num_levels() const;
    /// True if the row's live node stores exactly `vector` (as this index stores it: normalised
    /// under cosine, quantized under int8), so an update that keeps the vector needs no new node.
    [[nodiscard]] bool SameVector(RowId row, std::span<const float> vector) const;
    /// Rows that have a live node (deleted_ts == kForever).
    [[nodiscard]] std::vector<RowId> LiveRows() const;
    /// The row's newest node visible at `snapshot`, or kNoNode. Node ids stay valid until the
    /// next Repair (which may remove the node and let an insert reuse its slot): callers that
    /// keep one must exclude Repair and Insert meanwhile.
    [[nodiscard]] NodeId FindRow(RowId row, Timestamp snapshot) const;
    /// Node slots allocated so far (removed ones included until they are reused).
    [[nodiscard]] std::size_t num_slots() const;
    /// Rows with a node visible at `snapshot`, ascending (for verification: a full scan).
    [[nodiscard]] std::vector<RowId> VisibleRows(Timestamp snapshot) const;
    /// The start of node `id`'s lifetime.
    [[nodiscard]] Timestamp NodeInsertedTs(NodeId id) const;
    /// True if node `id` stores exactly `vector` (as SameVector compares).
    [[nodiscard]] bool NodeHasVector(NodeId id, std::span<const float> vector) const;
    /// The row's label (empty if none). Valid while the index lives.
    [[nodiscard]] std::string_view Label(RowId row) const;
    /// Sets the row's label if it has none (labels never change). False past 2^32 rows.
    bool SetLabel(RowId row, std::string_view label);

    class Impl;

  private:
    explicit HnswIndex(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::index
