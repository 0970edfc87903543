// SPDX-License-Identifier: Apache-2.0
// Out-of-line parts of the public value types (types.h, write_batch.h).
#include <cctype>

#include <phenix/types.h>
#include <phenix/write_batch.h>

namespace phenix {

std::string CollectionRef::ToString() const {
    if (tenant == kDefaultTenant) {
        return name;
    }
    return tenant + "/" + name;
}

std::string_view MetricName(Metric metric) {
    switch (metric) {
        case Metric::kL2:
            return "l2";
        case Metric::kCosine:
            return "cosine";
        case Metric::kInnerProduct:
            return "ip";
    }
    return "unknown";
}

Result<Metric> ParseMetric(std::string_view name) {
    std::string lower;
    lower.reserve(name.size());
    for (char c : name) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (lower == "l2") {
        return Metric::kL2;
    }
    if (lower == "cosine") {
        return Metric::kCosine;
    }
    if (lower == "ip") {
        return Metric::kInnerProduct;
    }
    return Status::InvalidArgument("unknown metric '" + std::string(name) +
                                   "'; expected one of: l2, cosine, ip");
}

void WriteBatch::Insert(CollectionRef collection, Entity entity) {
    ops_.push_back({OpType::kInsert, std::move(collection), std::move(entity)});
}

void WriteBatch::Upsert(CollectionRef collection, Entity entity) {
    ops_.push_back({OpType::kUpsert, std::move(collection), std::move(entity)});
}

void WriteBatch::Delete(CollectionRef collection, std::string id) {
    Entity e;
    e.id = std::move(id);
    ops_.push_back({OpType::kDelete, std::move(collection), std::move(e)});
}

void WriteBatch::ReplaceMetadata(CollectionRef collection, std::string id,
                                 std::string metadata_json) {
    Entity e;
    e.id = std::move(id);
    e.metadata = std::move(metadata_json);
    ops_.push_back({OpType::kReplaceMetadata, std::move(collection), std::move(e)});
}

void WriteBatch::PatchMetadata(CollectionRef collection, std::string id,
                               std::string merge_patch_json) {
    Entity e;
    e.id = std::move(id);
    e.metadata = std::move(merge_patch_json);
    ops_.push_back({OpType::kPatchMetadata, std::move(collection), std::move(e)});
}

void WriteBatch::ReplaceEdges(CollectionRef collection, std::string id, std::vector<Edge> edges) {
    Entity e;
    e.id = std::move(id);
    e.edges = std::move(edges);
    ops_.push_back({OpType::kReplaceEdges, std::move(collection), std::move(e)});
}

}  // namespace phenix
