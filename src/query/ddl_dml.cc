// SPDX-License-Identifier: Apache-2.0
//
// CREATE / DROP COLLECTION, CREATE / DROP INDEX, SHOW COLLECTIONS, DESCRIBE, INSERT, UPDATE and
// DELETE (exec.h). Every statement maps onto public Database / Transaction calls. INSERT writes
// one WriteBatch, so it takes effect completely or not at all; UPDATE and DELETE decide here what
// happens to one row and run over their rows in row_batches.cc (atomic inside a transaction, in
// batches of their own transactions outside one).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/limits.h>

#include "common/sync_point.h"
#include "document/filter.h"
#include "query/exec.h"
#include "query/lexer.h"
#include "query/row_batches.h"

namespace phenix::query {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kIdColumn = "id";
constexpr std::string_view kVectorColumn = "vector";
constexpr std::string_view kMetadataColumn = "metadata";
constexpr std::string_view kEdgesColumn = "edges";

// A statement that reads the rows it changes runs in a private transaction when the session has
// none; a commit conflict with a concurrent writer retries it from a fresh snapshot.
constexpr int kMaxStatementAttempts = 5;
constexpr auto kProgressInterval = std::chrono::seconds(1);
// Keeps messages that quote user values short.
constexpr std::size_t kMaxQuotedValue = 60;

std::vector<std::string> EntityColumns() {
    return {std::string(kIdColumn), std::string(kVectorColumn), std::string(kMetadataColumn),
            std::string(kEdgesColumn)};
}

std::string WithSuggestion(std::string message, std::string_view name,
                           const std::vector<std::string>& candidates) {
    if (auto suggestion = ClosestName(name, candidates)) {
        message += "; did you mean '" + *suggestion + "'?";
    }
    return message;
}

std::string Quoted(const QueryValue& value) {
    std::string text = value.ToJson();
    if (text.size() > kMaxQuotedValue) {
        text = text.substr(0, kMaxQuotedValue) + "...";
    }
    return text;
}

std::string TypeName(QueryValue::Type type) {
    switch (type) {
        case QueryValue::Type::kNull:
            return "NULL";
        case QueryValue::Type::kBool:
            return "a boolean";
        case QueryValue::Type::kInt:
            return "an integer";
        case QueryValue::Type::kFloat:
            return "a number";
        case QueryValue::Type::kString:
            return "a string";
        case QueryValue::Type::kVector:
            return "a vector";
        case QueryValue::Type::kJson:
            return "JSON";
    }
    return "a value";
}

std::string JoinPath(const std::vector<std::string>& path, std::size_t first_idx) {
    std::string out;
    for (std::size_t idx = first_idx; idx < path.size(); ++idx) {
        if (!out.empty()) {
            out += '.';
        }
        out += path[idx];
    }
    return out;
}

Status RefuseReadOnly(const ExecContext& ctx, std::string_view what) {
    if (!ctx.txn_read_only) {
        return Status::Ok();
    }
    return Status::FailedPrecondition(PositionedMessage(
        ctx.statement_pos, std::string(what) + " cannot run in a read-only transaction; "
                                               "COMMIT or ROLLBACK it first"));
}

// Applies `batch` in the session's transaction, or atomically on its own.
Status WriteBatchTo(ExecContext& ctx, const WriteBatch& batch) {
    if (batch.empty()) {
        return Status::Ok();
    }
    const Status status = ctx.txn != nullptr ? ctx.txn->Write(batch) : ctx.db.Write(batch);
    return AtPos(ctx.statement_pos, status);
}

// Runs `body(txn)` in the session's transaction, or in a private one that is committed here, so
// that the rows a statement chooses and the writes it makes come from one snapshot (an UPDATE
// never resurrects a row a concurrent DELETE removed). Returns what `body` returns. In a private
// transaction a conflict (Aborted from Commit, or from `body`, unpositioned, for a race it sees
// at write time) retries from a fresh snapshot, up to kMaxStatementAttempts times.
template <typename Body>
std::invoke_result_t<Body&, Transaction&> RunInTransaction(ExecContext& ctx, Body&& body) {
    if (ctx.txn != nullptr) {
        return body(*ctx.txn);
    }
    Status conflict;
    for (int attempt = 0; attempt < kMaxStatementAttempts; ++attempt) {
        PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, ctx.db.BeginTransaction());
        // On an error the transaction is destroyed unfinished, which rolls it back.
        auto affected = body(*txn);
        if (!affected.ok()) {
            if (affected.status().code() != StatusCode::kAborted) {
                return affected.status();
            }
            conflict = affected.status();
            continue;
        }
        Result<Timestamp> committed = txn->Commit();
        if (committed.ok()) {
            return std::move(affected).value();
        }
        if (committed.status().code() != StatusCode::kAborted) {
            return AtPos(ctx.statement_pos, committed.status());
        }
        conflict = committed.status();
    }
    return AtPos(ctx.statement_pos, conflict);
}

// Reports CREATE INDEX progress through ctx.progress about once a second. The engine may call
// the ProgressFn from its build thread, hence the mutex.
class ProgressReporter {
  public:
    ProgressReporter(const QueryProgressFn& sink, std::string prefix)
        : sink_(sink), prefix_(std::move(prefix)), last_(std::chrono::steady_clock::now()) {}

    void Report(std::uint64_t done, std::uint64_t total) {
        if (!sink_) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mu_);
        if (now - last_ < kProgressInterval) {
            return;
        }
        last_ = now;
        sink_(prefix_ + std::to_string(done) + "/" + std::to_string(total) + " entities");
    }

  private:
    const QueryProgressFn& sink_;
    const std::string prefix_;
    std::mutex mu_;
    std::chrono::steady_clock::time_point last_;  // guarded by mu_
};

// ---- values of entity columns ------------------------------------------------------------

Result<std::string> IdValue(const Expr& expr, const QueryParams& params) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params));
    if (value.type != QueryValue::Type::kString) {
        return ErrorAt(expr.pos, "id must be a string like 'd1', not " + TypeName(value.type) +
                                     " (" + Quoted(value) + ")");
    }
    return std::move(value.text);
}

// The vector of a row: empty for NULL (no vector). Checks the collection's dimension here so
// the error points at the literal.
Result<std::vector<float>> VectorValue(const Expr& expr, const QueryParams& params,
                                       const CollectionInfo& info) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params));
    if (value.type == QueryValue::Type::kNull) {
        return std::vector<float>{};
    }
    PHENIX_ASSIGN_OR_RETURN(std::vector<float> vector,
                            ConstantAsVector(expr, params, kVectorColumn));
    const std::string& name = info.spec.ref.name;
    if (!info.spec.dimension) {
        return ErrorAt(expr.pos, "collection '" + name +
                                     "' has no vectors (it was created without DIMENSION); "
                                     "use NULL for vector");
    }
    if (vector.size() != *info.spec.dimension) {
        return ErrorAt(expr.pos, "vector has " + std::to_string(vector.size()) +
                                     " dimensions but collection '" + name + "' has dimension " +
                                     std::to_string(*info.spec.dimension) +
                                     (vector.empty() ? " (use NULL for no vector)" : ""));
    }
    return vector;
}

// A constant as parsed JSON (kJson values, and scalars as their JSON form).
Json ValueAsJson(const QueryValue& value) {
    Json json = Json::parse(value.ToJson(), nullptr, false);
    return json.is_discarded() ? Json() : json;
}

// The metadata of a row as minified JSON object text; NULL is the empty object.
Result<std::string> MetadataValue(const Expr& expr, const QueryParams& params) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params));
    if (value.type == QueryValue::Type::kNull) {
        return std::string("{}");
    }
    if (value.type == QueryValue::Type::kJson) {
        Json json = ValueAsJson(value);
        if (json.is_object()) {
            return json.dump(-1, ' ', false, Json::error_handler_t::replace);
        }
    }
    return ErrorAt(expr.pos, "metadata must be a JSON object like {\"category\": \"tech\"}, not " +
                                 TypeName(value.type) + " (" + Quoted(value) + ")");
}

Result<Edge> EdgeFromJson(const Json& json, SourcePos pos, const std::string& where) {
    static const std::vector<std::string> kFields = {"label", "target", "weight", "properties",
                                                     "target_collection"};
    if (!json.is_object()) {
        return ErrorAt(pos, where +
                                " must be an object like {\"label\": \"related_to\", "
                                "\"target\": \"d1\", \"weight\": 0.8}");
    }
    Edge edge;
    bool has_label = false;
    bool has_target = false;
    for (const auto& [key, field] : json.items()) {
        if (key == "label" || key == "target" || key == "target_collection") {
            if (!field.is_string()) {
                return ErrorAt(pos, where + ": \"" + key + "\" must be a string");
            }
            if (key == "label") {
                edge.label = field.get<std::string>();
                has_label = true;
            } else if (key == "target") {
                edge.target_id = field.get<std::string>();
                has_target = true;
            } else {
                edge.target_collection = field.get<std::string>();
            }
        } else if (key == "weight") {
            if (!field.is_number()) {
                return ErrorAt(pos, where + ": \"weight\" must be a number");
            }
            edge.weight = field.get<double>();
        } else if (key == "properties") {
            if (field.is_null()) {
                continue;
            }
            if (!field.is_object()) {
                return ErrorAt(pos, where + ": \"properties\" must be a JSON object");
            }
            edge.properties = field.dump(-1, ' ', false, Json::error_handler_t::replace);
        } else {
            return ErrorAt(pos, WithSuggestion(where + " has an unknown field \"" + key +
                                                   "\" (fields: label, target, weight, "
                                                   "properties, target_collection)",
                                               key, kFields));
        }
    }
    if (!has_label || !has_target) {
        return ErrorAt(pos, where + " needs \"label\" and \"target\"");
    }
    return edge;
}

// The out-edges of a row: a JSON array of edge objects; NULL or [] is none.
Result<std::vector<Edge>> EdgesValue(const Expr& expr, const QueryParams& params) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params));
    std::vector<Edge> edges;
    if (value.type == QueryValue::Type::kNull ||
        (value.type == QueryValue::Type::kVector && value.vector.empty())) {
        return edges;
    }
    const Json json = value.type == QueryValue::Type::kJson ? ValueAsJson(value) : Json();
    if (!json.is_array()) {
        return ErrorAt(expr.pos,
                       "edges must be a JSON array of objects like [{\"label\": \"related_to\", "
                       "\"target\": \"d1\"}], not " +
                           TypeName(value.type) + " (" + Quoted(value) + ")");
    }
    edges.reserve(json.size());
    for (std::size_t idx = 0; idx < json.size(); ++idx) {
        PHENIX_ASSIGN_OR_RETURN(
            Edge edge, EdgeFromJson(json[idx], expr.pos, "edges[" + std::to_string(idx) + "]"));
        edges.push_back(std::move(edge));
    }
    return edges;
}

// ---- UPDATE assignments ----------------------------------------------------------------------

// What SET does to each row: metadata field assignments (as a merge patch when possible),
// a whole new metadata object, a new vector and/or new edges.
struct UpdatePlan {
    struct FieldAssignment {
        std::vector<std::string> path;  // inside the metadata
        Json value;                     // null removes the field
    };
    std::vector<FieldAssignment> fields;
    // Fields a merge patch cannot set as SET means: an object value (a patch would merge it into
    // the old object) and a nested removal (a patch would create the missing parents).
    bool needs_read_for_fields = false;
    std::optional<std::string> metadata;
    // SET metadata = a || b || ...: the operands in order, each the row's metadata (nullopt) or
    // a JSON object. PostgreSQL's jsonb ||: the top-level keys of a later object replace those of
    // an earlier one (values are not merged further; a null value is stored as null).
    std::vector<std::optional<Json>> merge;
    // `merge` is the row's metadata || objects whose values are neither null nor objects: what a
    // merge patch of the objects does, without reading the row.
    bool merge_is_patch = false;
    std::optional<std::vector<float>> vector;
    std::optional<std::vector<Edge>> edges;

    [[nodiscard]] bool ChangesMetadata() const {
        return metadata || !fields.empty() || !merge.empty();
    }
    // Whether each row must be read and rewritten whole (Upsert) rather than changed by one
    // metadata or edges operation. New edges alone use ReplaceEdges, which leaves the vector
    // index alone; with metadata changes too they would take two operations per row.
    [[nodiscard]] bool NeedsRead() const {
        return needs_read_for_fields || vector || (edges && ChangesMetadata()) ||
               (!merge.empty() && !merge_is_patch);
    }

    // The operands of `merge` folded over the row's metadata `current`.
    [[nodiscard]] Json Merged(const Json& current) const {
        Json out = Json::object();
        for (const std::optional<Json>& operand : merge) {
            const Json& object = operand ? *operand : current;
            for (const auto& [key, value] : object.items()) {
                out[key] = value;
            }
        }
        return out;
    }

    [[nodiscard]] Json MergePatch() const {
        Json patch = Json::object();
        for (const FieldAssignment& field : fields) {
            Json* node = &patch;
            for (std::size_t idx = 0; idx + 1 < field.path.size(); ++idx) {
                node = &(*node)[field.path[idx]];
                if (!node->is_object()) {
                    *node = Json::object();
                }
            }
            (*node)[field.path.back()] = field.value;
        }
        return patch;
    }

    // The fields applied to a metadata object in place: like the merge patch, except that an
    // object value replaces the field instead of merging into it (what SET means).
    void ApplyFields(Json& object) const {
        for (const FieldAssignment& field : fields) {
            Json* node = &object;
            for (std::size_t idx = 0; node != nullptr && idx + 1 < field.path.size(); ++idx) {
                if (field.value.is_null()) {
                    // Removal never creates parents: a missing or non-object parent has no field.
                    auto child = node->find(field.path[idx]);
                    node = child != node->end() && child->is_object() ? &*child : nullptr;
                    continue;
                }
                Json& child = (*node)[field.path[idx]];
                if (!child.is_object()) {
                    child = Json::object();
                }
                node = &child;
            }
            if (node == nullptr) {
                continue;
            }
            if (field.value.is_null()) {
                node->erase(field.path.back());
            } else {
                (*node)[field.path.back()] = field.value;
            }
        }
    }
};

bool IsConcat(const Expr& expr) {
    return expr.kind == ExprKind::kBinary && expr.op == Op::kConcat;
}

// SET metadata = <operands joined by ||>: each operand is `metadata` (the row's current value)
// or a JSON object constant.
Status PlanMerge(const Expr& expr, const QueryParams& params, UpdatePlan& plan) {
    std::vector<const Expr*> operands;
    std::vector<const Expr*> stack{&expr};
    while (!stack.empty()) {
        const Expr* node = stack.back();
        stack.pop_back();
        if (IsConcat(*node)) {
            stack.push_back(&node->children[1]);
            stack.push_back(&node->children[0]);
        } else {
            operands.push_back(node);
        }
    }
    bool has_current = false;
    for (const Expr* operand : operands) {
        if (operand->kind == ExprKind::kPath) {
            if (operand->path != std::vector<std::string>{std::string(kMetadataColumn)}) {
                return ErrorAt(operand->pos,
                               "|| merges JSON objects into the metadata: its "
                               "operands are metadata and objects like {\"k\": 1}, "
                               "not " +
                                   JoinPath(operand->path, 0));
            }
            plan.merge.emplace_back();
            has_current = true;
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(*operand, params));
        Json json = value.type == QueryValue::Type::kJson ? ValueAsJson(value) : Json();
        if (!json.is_object()) {
            return ErrorAt(operand->pos,
                           "|| merges JSON objects into the metadata: expected an "
                           "object like {\"k\": 1}, not " +
                               TypeName(value.type) + " (" + Quoted(value) + ")");
        }
        plan.merge.emplace_back(std::move(json));
    }
    if (!has_current) {
        // Only constants: a new metadata object like any other.
        plan.metadata =
            plan.Merged(Json::object()).dump(-1, ' ', false, Json::error_handler_t::replace);
        plan.merge.clear();
        return Status::Ok();
    }
    plan.merge_is_patch =
        !plan.merge.front() &&
        std::all_of(plan.merge.begin() + 1, plan.merge.end(), [](const std::optional<Json>& op) {
            if (!op) {
                return false;
            }
            return std::none_of(op->begin(), op->end(), [](const Json& value) {
                return value.is_null() || value.is_object();
            });
        });
    return Status::Ok();
}

bool IsPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

Result<UpdatePlan> PlanUpdate(const ExecContext& ctx, const UpdateStmt& stmt,
                              const CollectionInfo& info) {
    UpdatePlan plan;
    std::set<std::string> whole;  // columns assigned as a whole
    for (const Assignment& assignment : stmt.assignments) {
        const Expr& value_expr = assignment.value;
        if (assignment.path.empty()) {
            return ErrorAt(value_expr.pos, "expected a column to set");
        }
        const std::string& column = assignment.path.front();
        const std::string written = JoinPath(assignment.path, 0);
        if (column == kIdColumn) {
            return ErrorAt(value_expr.pos,
                           "the id of an entity cannot be changed; INSERT a new entity and "
                           "DELETE the old one");
        }
        const bool is_known =
            column == kVectorColumn || column == kMetadataColumn || column == kEdgesColumn;
        if (!is_known) {
            return ErrorAt(value_expr.pos,
                           WithSuggestion("unknown column '" + column +
                                              "' in SET (columns: vector, metadata, "
                                              "metadata.<field>, edges)",
                                          column, EntityColumns()));
        }
        if (column != kMetadataColumn && assignment.path.size() > 1) {
            return ErrorAt(value_expr.pos, "cannot set " + written + ": only metadata has fields");
        }
        if (IsConcat(value_expr) && (column != kMetadataColumn || assignment.path.size() > 1)) {
            return ErrorAt(value_expr.pos,
                           "|| merges JSON objects into the whole metadata (SET "
                           "metadata = metadata || {...}), not into " +
                               written);
        }
        if (assignment.path.size() == 1) {
            if (!whole.insert(column).second) {
                return ErrorAt(value_expr.pos, column + " is assigned twice");
            }
        }
        if (column == kVectorColumn) {
            PHENIX_ASSIGN_OR_RETURN(plan.vector, VectorValue(value_expr, ctx.params, info));
        } else if (column == kEdgesColumn) {
            PHENIX_ASSIGN_OR_RETURN(plan.edges, EdgesValue(value_expr, ctx.params));
        } else if (assignment.path.size() == 1 && IsConcat(value_expr)) {
            PHENIX_RETURN_IF_ERROR(PlanMerge(value_expr, ctx.params, plan));
        } else if (assignment.path.size() == 1) {
            PHENIX_ASSIGN_OR_RETURN(plan.metadata, MetadataValue(value_expr, ctx.params));
        } else {
            std::vector<std::string> path(assignment.path.begin() + 1, assignment.path.end());
            for (const UpdatePlan::FieldAssignment& other : plan.fields) {
                if (IsPrefix(other.path, path) || IsPrefix(path, other.path)) {
                    return ErrorAt(value_expr.pos, written + " overlaps metadata." +
                                                       JoinPath(other.path, 0) +
                                                       ", which is also assigned");
                }
            }
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(value_expr, ctx.params));
            Json json = ValueAsJson(value);
            plan.needs_read_for_fields = plan.needs_read_for_fields || json.is_object() ||
                                         (json.is_null() && path.size() > 1);
            plan.fields.push_back({std::move(path), std::move(json)});
        }
    }
    if ((plan.metadata || !plan.merge.empty()) && !plan.fields.empty()) {
        return ErrorAt(ctx.statement_pos,
                       "metadata is set as a whole and field by field in the same UPDATE; set "
                       "either metadata = {...} or metadata.<field> = value");
    }
    return plan;
}

// The batch operation that applies `plan` to the row `id`, read through `txn` when needed
// (a RowWriter).
Result<bool> AddUpdate(Transaction& txn, const CollectionRef& ref, const UpdatePlan& plan,
                       const RowCondition& condition, const std::string& id, RowCheck check,
                       WriteBatch& batch) {
    const bool is_blind =
        !plan.NeedsRead() &&
        (check == RowCheck::kNone || (check == RowCheck::kIfNeeded && !condition.ChecksRows()));
    if (is_blind) {
        if (plan.edges) {
            batch.ReplaceEdges(ref, id, *plan.edges);
        } else if (plan.metadata) {
            batch.ReplaceMetadata(ref, id, *plan.metadata);
        } else if (!plan.merge.empty()) {
            Json patch = plan.Merged(Json::object());
            batch.PatchMetadata(ref, id,
                                patch.dump(-1, ' ', false, Json::error_handler_t::replace));
        } else if (!plan.fields.empty()) {
            batch.PatchMetadata(
                ref, id, plan.MergePatch().dump(-1, ' ', false, Json::error_handler_t::replace));
        }
        return true;
    }
    Result<Entity> current = txn.Get(ref, id);
    if (!current.ok()) {
        if (check != RowCheck::kNone && current.status().code() == StatusCode::kNotFound) {
            return false;
        }
        return current.status();
    }
    if (check != RowCheck::kNone) {
        PHENIX_ASSIGN_OR_RETURN(bool matches, condition.Matches(*current));
        if (!matches) {
            return false;
        }
        if (!plan.NeedsRead()) {
            return AddUpdate(txn, ref, plan, condition, id, RowCheck::kNone, batch);
        }
    }
    Entity entity = std::move(current).value();
    if (plan.metadata) {
        entity.metadata = *plan.metadata;
    } else if (!plan.merge.empty() || !plan.fields.empty()) {
        Json metadata = Json::parse(entity.metadata, nullptr, false);
        if (!metadata.is_object()) {
            metadata = Json::object();
        }
        if (!plan.merge.empty()) {
            metadata = plan.Merged(metadata);
        } else {
            plan.ApplyFields(metadata);
        }
        entity.metadata = metadata.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    if (plan.vector) {
        entity.vector = *plan.vector;
    }
    if (plan.edges) {
        entity.edges = *plan.edges;
    }
    batch.Upsert(ref, std::move(entity));
    return true;
}

// DELETE's RowWriter.
Result<bool> AddDelete(Transaction& txn, const CollectionRef& ref, const RowCondition& condition,
                       const std::string& id, RowCheck check, WriteBatch& batch) {
    if (check == RowCheck::kFull || (check == RowCheck::kIfNeeded && condition.ChecksRows())) {
        Result<Entity> current = txn.Get(ref, id);
        if (!current.ok()) {
            if (current.status().code() == StatusCode::kNotFound) {
                return false;
            }
            return current.status();
        }
        PHENIX_ASSIGN_OR_RETURN(bool matches, condition.Matches(*current));
        if (!matches) {
            return false;
        }
    }
    batch.Delete(ref, id);
    return true;
}

// INSERT ... ON CONFLICT (id) DO NOTHING / DO UPDATE. `rows` holds the statement's rows as
// Insert operations. A row whose id does not exist is inserted; one whose id exists is skipped
// (DO NOTHING) or gets the listed columns from the new row while the others keep their values
// (DO UPDATE). All rows in one transaction: the session's, or a private one retried on a
// conflict (a concurrent insert of the same id) from a fresh snapshot.
Result<QueryResult> InsertOnConflict(ExecContext& ctx, const InsertStmt& stmt,
                                     const WriteBatch& rows) {
    auto is_listed = [&](std::string_view column) {
        return std::find(stmt.columns.begin(), stmt.columns.end(), column) != stmt.columns.end();
    };
    const bool sets_vector = is_listed(kVectorColumn);
    const bool sets_metadata = is_listed(kMetadataColumn);
    const bool sets_edges = is_listed(kEdgesColumn);
    const bool is_update = stmt.on_conflict == ConflictAction::kDoUpdate;
    struct Counts {
        std::uint64_t inserted = 0, updated = 0, skipped = 0;
    };
    PHENIX_ASSIGN_OR_RETURN(
        Counts counts, RunInTransaction(ctx, [&](Transaction& txn) -> Result<Counts> {
            PHENIX_SYNC_POINT("InsertOnConflict:Begun");
            Counts counts;
            WriteBatch writes;
            std::set<std::string_view> seen;
            for (const WriteBatch::Op& op : rows.ops()) {
                const Entity& row = op.entity;
                if (!seen.insert(row.id).second) {
                    // PostgreSQL's rule: the second row conflicts with the first one, which
                    // DO NOTHING skips and DO UPDATE refuses (its result would depend on order).
                    if (!is_update) {
                        ++counts.skipped;
                        continue;
                    }
                    return ErrorAt(ctx.statement_pos,
                                   "ON CONFLICT DO UPDATE would change id '" + row.id +
                                       "' twice: each id may appear once in the statement");
                }
                Result<Entity> existing = txn.Get(op.collection, row.id);
                if (!existing.ok()) {
                    if (existing.status().code() != StatusCode::kNotFound) {
                        return AtPos(ctx.statement_pos, existing.status());
                    }
                    writes.Insert(op.collection, row);
                    ++counts.inserted;
                    continue;
                }
                if (!is_update) {
                    ++counts.skipped;
                    continue;
                }
                ++counts.updated;
                if (sets_vector) {
                    Entity entity = std::move(existing).value();
                    entity.vector = row.vector;
                    if (sets_metadata) {
                        entity.metadata = row.metadata;
                    }
                    if (sets_edges) {
                        entity.edges = row.edges;
                    }
                    writes.Upsert(op.collection, std::move(entity));
                    continue;
                }
                // Without the vector, metadata and edges are replaced in place, leaving the
                // vector index alone.
                if (sets_metadata) {
                    writes.ReplaceMetadata(op.collection, row.id, row.metadata);
                }
                if (sets_edges) {
                    writes.ReplaceEdges(op.collection, row.id, row.edges);
                }
            }
            if (!writes.empty()) {
                const Status status = txn.Write(writes);
                if (status.code() == StatusCode::kAlreadyExists && ctx.txn == nullptr) {
                    // A concurrent transaction inserted one of the ids after this one began:
                    // a conflict, retried from a fresh snapshot.
                    return Status(StatusCode::kAborted, status.message());
                }
                PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, status));
            }
            return counts;
        }));
    const std::uint64_t affected = counts.inserted + counts.updated;
    return QueryResult{.message = "INSERT " + std::to_string(affected) + " (" +
                                  std::to_string(counts.inserted) + " inserted, " +
                                  std::to_string(counts.updated) + " updated, " +
                                  std::to_string(counts.skipped) + " skipped)",
                       .affected = affected};
}

// The vector index settings CREATE COLLECTION ... WITH (...) accepts: integer ones, and
// quantization (a string). docs/vector-search.md, "Collection settings", has their ranges; the
// engine checks the values.
constexpr std::string_view kIntegerSettings[] = {"m", "ef_construction", "ef_search"};
constexpr std::string_view kQuantizationSetting = "quantization";

// WITH (m = 32, ef_construction = 200, ef_search = 64, quantization = 'int8') as the
// collection's settings JSON: {"hnsw": {...}}.
Result<std::string> CollectionSettings(const ExecContext& ctx, const CreateCollectionStmt& stmt,
                                       const std::optional<std::uint32_t>& dimension) {
    std::vector<std::string> known(std::begin(kIntegerSettings), std::end(kIntegerSettings));
    known.emplace_back(kQuantizationSetting);
    std::string known_list;
    for (const std::string& name : known) {
        known_list += (known_list.empty() ? "" : ", ") + name;
    }
    Json hnsw = Json::object();
    for (const OptionItem& option : stmt.options) {
        const bool is_integer = std::find(std::begin(kIntegerSettings), std::end(kIntegerSettings),
                                          option.name) != std::end(kIntegerSettings);
        if (!is_integer && option.name != kQuantizationSetting) {
            return ErrorAt(option.pos, WithSuggestion("unknown collection setting '" + option.name +
                                                          "' (settings: " + known_list + ")",
                                                      option.name, known));
        }
        if (hnsw.contains(option.name)) {
            return ErrorAt(option.pos, "setting '" + option.name + "' is given twice");
        }
        if (!dimension) {
            return ErrorAt(option.pos,
                           "setting '" + option.name +
                               "' needs DIMENSION: a collection without vectors has no vector "
                               "index");
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option.value, ctx.params));
        if (is_integer) {
            if (value.type != QueryValue::Type::kInt || value.int_value < 1) {
                return ErrorAt(option.value.pos, "setting '" + option.name +
                                                     "' must be a positive integer, not " +
                                                     Quoted(value));
            }
            hnsw[option.name] = value.int_value;
        } else {
            if (value.type != QueryValue::Type::kString ||
                (value.text != "none" && value.text != "int8")) {
                return ErrorAt(
                    option.value.pos,
                    "setting 'quantization' must be 'none' or 'int8', not " + Quoted(value));
            }
            hnsw[option.name] = value.text;
        }
    }
    return Json{{"hnsw", hnsw}}.dump();
}

}  // namespace

// ---- DDL -------------------------------------------------------------------------------------

Result<QueryResult> ExecuteCreateCollection(ExecContext& ctx, const CreateCollectionStmt& stmt) {
    CollectionSpec spec{.ref = ctx.Ref(stmt.name)};
    if (stmt.dimension < 0 || static_cast<std::uint64_t>(stmt.dimension) > limits::kMaxDimension) {
        return ErrorAt(ctx.statement_pos, "DIMENSION must be between 1 and " +
                                              std::to_string(limits::kMaxDimension) + ", not " +
                                              std::to_string(stmt.dimension));
    }
    if (stmt.dimension > 0) {
        spec.dimension = static_cast<std::uint32_t>(stmt.dimension);
    }
    if (!stmt.metric.empty()) {
        if (!spec.dimension) {
            return ErrorAt(ctx.statement_pos,
                           "METRIC needs DIMENSION: a collection without vectors has no metric");
        }
        Result<Metric> metric = ParseMetric(stmt.metric);
        if (!metric.ok()) {
            return ErrorAt(ctx.statement_pos, WithSuggestion("unknown metric '" + stmt.metric +
                                                                 "' (metrics: l2, cosine, ip)",
                                                             stmt.metric, {"l2", "cosine", "ip"}));
        }
        spec.metric = *metric;
    }
    if (!stmt.options.empty()) {
        PHENIX_ASSIGN_OR_RETURN(spec.settings, CollectionSettings(ctx, stmt, spec.dimension));
    }
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, ctx.db.CreateCollection(spec)));
    return QueryResult{.message = "CREATE COLLECTION"};
}

Result<QueryResult> ExecuteDropCollection(ExecContext& ctx, const DropCollectionStmt& stmt) {
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, ResolveCollection(ctx, stmt.name, stmt.name_pos));
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, ctx.db.DropCollection(info.spec.ref)));
    return QueryResult{.message = "DROP COLLECTION"};
}

Result<QueryResult> ExecuteIndex(ExecContext& ctx, const IndexStmt& stmt) {
    const std::string_view what = stmt.is_drop ? "DROP INDEX" : "CREATE INDEX";
    if (stmt.path.empty() || stmt.path.front() != kMetadataColumn) {
        const std::string written = JoinPath(stmt.path, 0);
        return ErrorAt(ctx.statement_pos,
                       "indexes are on metadata paths: write metadata." +
                           (written.empty() ? std::string("category") : written));
    }
    if (stmt.path.size() < 2) {
        return ErrorAt(ctx.statement_pos,
                       "indexes are on metadata paths: name a field, e.g. metadata.category");
    }
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    const std::string path = JoinPath(stmt.path, 1);
    if (stmt.is_drop) {
        PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, ctx.db.DropIndex(info.spec.ref, path)));
    } else {
        ProgressReporter reporter(ctx.progress, std::string(what) + " " + info.spec.ref.ToString() +
                                                    " (metadata." + path + "): ");
        ProgressFn progress;
        if (ctx.progress) {
            progress = [&reporter](std::uint64_t done, std::uint64_t total) {
                reporter.Report(done, total);
            };
        }
        PHENIX_RETURN_IF_ERROR(
            AtPos(ctx.statement_pos, ctx.db.CreateIndex(info.spec.ref, path, progress)));
    }
    return QueryResult{.message = std::string(what)};
}

Result<QueryResult> ExecuteShowCollections(ExecContext& ctx) {
    Result<std::vector<CollectionInfo>> collections = ctx.db.ListCollections(ctx.tenant);
    if (!collections.ok()) {
        return AtPos(ctx.statement_pos, collections.status());
    }
    QueryResult result{.has_rows = true,
                       .columns = {"name", "dimension", "metric", "entities", "indexes"}};
    std::sort(collections->begin(), collections->end(),
              [](const CollectionInfo& a, const CollectionInfo& b) {
                  return a.spec.ref.name < b.spec.ref.name;
              });
    for (const CollectionInfo& info : *collections) {
        Result<std::vector<MetadataIndexInfo>> indexes = ctx.db.ListIndexes(info.spec.ref);
        if (!indexes.ok()) {
            // Dropped since it was listed: leave it out.
            if (indexes.status().code() == StatusCode::kNotFound) {
                continue;
            }
            return AtPos(ctx.statement_pos, indexes.status());
        }
        const bool has_vectors = info.spec.dimension.has_value();
        result.rows.push_back({
            QueryValue::String(info.spec.ref.name),
            has_vectors ? QueryValue::Int(*info.spec.dimension) : QueryValue::Null(),
            has_vectors ? QueryValue::String(std::string(MetricName(info.spec.metric)))
                        : QueryValue::Null(),
            QueryValue::Int(static_cast<std::int64_t>(info.num_entities)),
            QueryValue::Int(static_cast<std::int64_t>(indexes->size())),
        });
    }
    return result;
}

Result<QueryResult> ExecuteDescribe(ExecContext& ctx, const DescribeStmt& stmt) {
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    const CollectionRef& ref = info.spec.ref;
    QueryResult result{.has_rows = true, .columns = {"column", "type", "details"}};
    auto add = [&result](std::string_view column, std::string type, std::string details) {
        result.rows.push_back({QueryValue::String(std::string(column)),
                               QueryValue::String(std::move(type)),
                               QueryValue::String(std::move(details))});
    };
    add(kIdColumn, "string", "primary key; " + std::to_string(info.num_entities) + " entities");

    if (info.spec.dimension) {
        std::string details(MetricName(info.spec.metric));
        Result<VectorIndexInfo> index = ctx.db.GetVectorIndexInfo(ref);
        if (index.ok()) {
            details += ", hnsw m=" + std::to_string(index->m) +
                       " ef_construction=" + std::to_string(index->ef_construction) +
                       " ef_search=" + std::to_string(index->ef_search);
            if (index->quantize_int8) {
                details += " int8";
            }
            details += ", " + std::to_string(index->live_nodes) + " vectors indexed";
            if (index->unindexed_rows > 0) {
                details += " (" + std::to_string(index->unindexed_rows) + " changes pending)";
            }
        } else if (index.status().code() != StatusCode::kNotFound) {
            return AtPos(ctx.statement_pos, index.status());
        }
        add(kVectorColumn, "vector(" + std::to_string(*info.spec.dimension) + ")",
            std::move(details));
    } else {
        add(kVectorColumn, "none", "the collection has no vectors (created without DIMENSION)");
    }

    Result<std::vector<MetadataIndexInfo>> indexes = ctx.db.ListIndexes(ref);
    if (!indexes.ok()) {
        return AtPos(ctx.statement_pos, indexes.status());
    }
    std::string index_details;
    for (const MetadataIndexInfo& index : *indexes) {
        index_details += index_details.empty() ? "indexes: " : ", ";
        index_details +=
            index.path + (index.state == IndexState::kReady ? " (ready)" : " (building)");
    }
    add(kMetadataColumn, "json", index_details.empty() ? "no indexes" : index_details);
    add(kEdgesColumn, "json",
        "out-edges: [{label, target, weight, properties, target_collection}]");
    return result;
}

// ---- DML -------------------------------------------------------------------------------------

Result<QueryResult> ExecuteInsert(ExecContext& ctx, const InsertStmt& stmt) {
    PHENIX_RETURN_IF_ERROR(RefuseReadOnly(ctx, "INSERT"));
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    const std::vector<std::string> known = EntityColumns();
    for (std::size_t column_idx = 0; column_idx < stmt.columns.size(); ++column_idx) {
        const std::string& column = stmt.columns[column_idx];
        if (std::find(known.begin(), known.end(), column) == known.end()) {
            return ErrorAt(ctx.statement_pos,
                           WithSuggestion("unknown column '" + column +
                                              "' (columns: id, vector, metadata, edges)",
                                          column, known));
        }
        if (std::find(stmt.columns.begin(),
                      stmt.columns.begin() + static_cast<std::ptrdiff_t>(column_idx),
                      column) != stmt.columns.begin() + static_cast<std::ptrdiff_t>(column_idx)) {
            return ErrorAt(ctx.statement_pos, "column '" + column + "' is listed twice");
        }
    }
    if (std::find(stmt.columns.begin(), stmt.columns.end(), kIdColumn) == stmt.columns.end()) {
        return ErrorAt(ctx.statement_pos, "INSERT needs the id column: INSERT INTO " +
                                              stmt.collection + " (id, ...) VALUES ('d1', ...)");
    }

    WriteBatch batch;
    // The row (1-based) each id was first given in: the batch would report a repeated id as
    // "already exists", which is not true of the database. (ON CONFLICT has its own rule.)
    std::unordered_map<std::string, std::size_t> row_of_id;
    for (std::size_t row_idx = 0; row_idx < stmt.rows.size(); ++row_idx) {
        const std::vector<Expr>& row = stmt.rows[row_idx];
        if (row.size() != stmt.columns.size()) {
            const SourcePos pos = row.empty() ? ctx.statement_pos : row.front().pos;
            return ErrorAt(pos, "row " + std::to_string(row_idx + 1) + " has " +
                                    std::to_string(row.size()) + " values but " +
                                    std::to_string(stmt.columns.size()) + " columns are listed");
        }
        Entity entity;
        for (std::size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
            const std::string& column = stmt.columns[column_idx];
            const Expr& value = row[column_idx];
            if (column == kIdColumn) {
                PHENIX_ASSIGN_OR_RETURN(entity.id, IdValue(value, ctx.params));
                const auto [first, is_new] = row_of_id.try_emplace(entity.id, row_idx + 1);
                if (!is_new && stmt.on_conflict == ConflictAction::kError) {
                    // AlreadyExists, as before: the id is taken, by this statement's own row.
                    return Status::AlreadyExists(PositionedMessage(
                        value.pos, "id " + Quoted(QueryValue::String(entity.id)) +
                                       " appears twice in this INSERT (rows " +
                                       std::to_string(first->second) + " and " +
                                       std::to_string(row_idx + 1) + ")"));
                }
            } else if (column == kVectorColumn) {
                PHENIX_ASSIGN_OR_RETURN(entity.vector, VectorValue(value, ctx.params, info));
            } else if (column == kMetadataColumn) {
                PHENIX_ASSIGN_OR_RETURN(entity.metadata, MetadataValue(value, ctx.params));
            } else {
                PHENIX_ASSIGN_OR_RETURN(entity.edges, EdgesValue(value, ctx.params));
            }
        }
        batch.Insert(info.spec.ref, std::move(entity));
    }
    if (stmt.on_conflict != ConflictAction::kError) {
        return InsertOnConflict(ctx, stmt, batch);
    }
    PHENIX_RETURN_IF_ERROR(WriteBatchTo(ctx, batch));
    const std::uint64_t inserted = batch.size();
    return QueryResult{.message = "INSERT " + std::to_string(inserted), .affected = inserted};
}

Result<QueryResult> ExecuteUpdate(ExecContext& ctx, const UpdateStmt& stmt) {
    PHENIX_RETURN_IF_ERROR(RefuseReadOnly(ctx, "UPDATE"));
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    PHENIX_ASSIGN_OR_RETURN(UpdatePlan plan, PlanUpdate(ctx, stmt, info));
    PHENIX_ASSIGN_OR_RETURN(RowCondition condition, BindRowCondition(ctx, stmt.where));
    const CollectionRef ref = info.spec.ref;
    return RunRowStatement(
        ctx, "UPDATE", ref, condition,
        [&](Transaction& txn, const std::string& id, RowCheck check, WriteBatch& batch) {
            return AddUpdate(txn, ref, plan, condition, id, check, batch);
        });
}

Result<QueryResult> ExecuteDelete(ExecContext& ctx, const DeleteStmt& stmt) {
    PHENIX_RETURN_IF_ERROR(RefuseReadOnly(ctx, "DELETE"));
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    PHENIX_ASSIGN_OR_RETURN(RowCondition condition, BindRowCondition(ctx, stmt.where));
    const CollectionRef ref = info.spec.ref;
    return RunRowStatement(
        ctx, "DELETE", ref, condition,
        [&](Transaction& txn, const std::string& id, RowCheck check, WriteBatch& batch) {
            return AddDelete(txn, ref, condition, id, check, batch);
        });
}

}  // namespace phenix::query
