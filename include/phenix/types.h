// SPDX-License-Identifier: Apache-2.0
//
// The data model of the embedded API: tenants own collections, collections own entities, and an
// entity is an external id, an optional float32 vector, a JSON object of metadata and typed,
// weighted out-edges to other entities of the same tenant. See docs/data-model.md.
//
// All types here are plain values with no hidden sharing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

namespace phenix {

/// The tenant used when a caller names none.
inline constexpr std::string_view kDefaultTenant = "default";

/// Names a collection: (tenant, name). Converts implicitly from a bare name in the default
/// tenant, so `db.Get("docs", "d1")` reads naturally.
struct CollectionRef {
    std::string tenant{kDefaultTenant};
    std::string name;

    CollectionRef() = default;
    CollectionRef(std::string tenant_name, std::string collection_name)
        : tenant(std::move(tenant_name)), name(std::move(collection_name)) {}
    // Implicit by design: a bare name means the default tenant.
    CollectionRef(const char* collection_name)  // NOLINT(google-explicit-constructor)
        : name(collection_name) {}
    CollectionRef(std::string collection_name)  // NOLINT(google-explicit-constructor)
        : name(std::move(collection_name)) {}
    CollectionRef(std::string_view collection_name)  // NOLINT(google-explicit-constructor)
        : name(collection_name) {}

    /// "name" in the default tenant, "tenant/name" otherwise.
    [[nodiscard]] std::string ToString() const;
    friend bool operator==(const CollectionRef&, const CollectionRef&) = default;
};

/// Distance function of a collection's vectors.
enum class Metric : std::uint8_t {
    kL2 = 1,            ///< squared Euclidean distance ("l2")
    kCosine = 2,        ///< 1 - cosine similarity ("cosine"); zero vectors are rejected
    kInnerProduct = 3,  ///< negative inner product ("ip")
};

/// "l2", "cosine" or "ip".
std::string_view MetricName(Metric metric);
/// Parses "l2", "cosine" or "ip" (case-insensitive). InvalidArgument otherwise.
Result<Metric> ParseMetric(std::string_view name);

/// What a collection is created with. Persisted in the catalog.
struct CollectionSpec {
    CollectionRef ref;
    /// Vector dimension (1..limits::kMaxDimension), or nullopt for a collection without vectors.
    std::optional<std::uint32_t> dimension;
    Metric metric = Metric::kL2;
    /// Index and storage settings as a JSON object (reserved for the vector/metadata indexes).
    std::string settings = "{}";
};

/// A collection as stored in the catalog.
struct CollectionInfo {
    CollectionSpec spec;
    std::uint32_t collection_id = 0;  ///< internal, never reused
    std::int64_t created_at_ms = 0;   ///< wall clock, milliseconds since the Unix epoch
    std::uint64_t num_entities = 0;   ///< exact count of live entities
};

/// A typed, weighted, directed edge from the entity that holds it to a target entity in the same
/// tenant (the same collection unless target_collection names another).
struct Edge {
    std::string label;
    std::string target_id;
    /// Empty means the source entity's collection.
    std::string target_collection;
    /// Empty means the source entity's tenant; any other tenant is rejected.
    std::string target_tenant;
    double weight = 1.0;
    /// A JSON object, or empty for none.
    std::string properties;

    friend bool operator==(const Edge&, const Edge&) = default;
};

struct Entity {
    std::string id;
    /// Empty means the entity has no vector.
    std::vector<float> vector;
    /// A JSON object (text). Empty input is treated as "{}". Returned minified.
    std::string metadata = "{}";
    /// Out-edges. (label, target) pairs are unique: a repeated pair keeps the last one.
    std::vector<Edge> edges;

    friend bool operator==(const Entity&, const Entity&) = default;
};

/// Which edges of an entity ListEdges returns.
enum class EdgeDirection : std::uint8_t { kOut, kIn, kBoth };

/// An edge as seen from either end.
struct EdgeRecord {
    std::string label;
    CollectionRef source;
    std::string source_id;
    CollectionRef target;
    std::string target_id;
    double weight = 1.0;
    std::string properties;  ///< JSON object text, or empty
};

struct ScanOptions {
    /// Return entities whose id sorts after this one (byte order); empty starts at the beginning.
    std::string start_after;
    /// At most this many entities (1..limits::kMaxScanLimit).
    std::size_t limit = 100;
    /// Also read each entity's out-edges.
    bool include_edges = true;
    /// Also return each entity's vector (false: Entity::vector is left empty).
    bool include_vector = true;
    /// Return the entities in storage order (the order they were first written) instead of id
    /// order: one sequential read of the records, without a lookup per entity, several times
    /// faster over a whole collection. start_after and next_start_after are then a position in
    /// that order (pass back what a page returned), not an id. Pages read at different
    /// snapshots (outside a transaction) may return an entity twice if it is deleted and
    /// inserted again between them.
    bool storage_order = false;
};

struct ScanPage {
    std::vector<Entity> entities;
    /// Pass as ScanOptions::start_after to get the next page; empty when this page is the last.
    std::string next_start_after;
};

}  // namespace phenix
