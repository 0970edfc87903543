// SPDX-License-Identifier: Apache-2.0
//
// Source operators over one collection (scan.h).
#include "query/operators/scan.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <phenix/limits.h>

#include "common/sync_point.h"

namespace phenix::query {

ReadOperator::ReadOperator(ExecState& state, ReadSpec spec)
    : PhysicalOperator(state), spec_(std::move(spec)) {
    if (!spec_.where.filter_json.empty()) {
        details_.push_back("filter: " + spec_.where.filter_json);
    }
    if (spec_.where.ids) {
        details_.push_back("ids: " + std::to_string(spec_.where.ids->size()));
    }
    if (!spec_.where.id_prefix.empty()) {
        details_.push_back("ids starting with " +
                           QueryValue::String(spec_.where.id_prefix).ToJson());
    }
}

std::string ReadOperator::Label() const {
    const std::string& name = state_.bound.info.spec.ref.name;
    if (spec_.access == ReadAccess::kIdList) {
        return "IdLookup " + name;
    }
    if (!spec_.where.id_prefix.empty()) {
        return "IdRangeScan " + name;
    }
    const bool filtered = !spec_.where.filter_json.empty();
    if (!has_run()) {  // what the plan expects
        if (spec_.access == ReadAccess::kScan || !filtered) {
            return (filtered ? "FilteredScan " : "Scan ") + name;
        }
        return (spec_.filter_indexed ? "IndexFilter " : "FilteredScan ") + name;
    }
    if (!filtered) {
        return "Scan " + name;
    }
    return (ran_from_index_ && !ran_scan_ ? "IndexFilter " : "FilteredScan ") + name;
}

std::string_view ReadOperator::Strategy() const {
    // Label's cases, by name.
    if (spec_.access == ReadAccess::kIdList) {
        return "id_lookup";
    }
    if (!spec_.where.id_prefix.empty()) {
        return "id_range_scan";
    }
    const bool filtered = !spec_.where.filter_json.empty();
    if (!filtered) {
        return "full_scan";
    }
    if (!has_run()) {
        return spec_.access != ReadAccess::kScan && spec_.filter_indexed ? "metadata_index"
                                                                         : "filtered_scan";
    }
    return ran_from_index_ && !ran_scan_ ? "metadata_index" : "filtered_scan";
}

Status ReadOperator::Start() {
    if (!spec_.where.filter_json.empty()) {
        PHENIX_ASSIGN_OR_RETURN(filter_, document::ParseFilter(spec_.where.filter_json));
    }
    if (spec_.want == 0) {
        phase_ = Phase::kDone;
        return Status::Ok();
    }
    const CollectionRef& ref = state_.bound.ref;
    if (spec_.access == ReadAccess::kIdList) {
        ids_ = *spec_.where.ids;
        if (spec_.order_by_id) {
            std::sort(ids_.begin(), ids_.end());
        }
        ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
        order_.resize(ids_.size());
        for (std::size_t idx = 0; idx < order_.size(); ++idx) {
            order_[idx] = idx;
        }
        list_is_lookup_ = true;
        phase_ = Phase::kList;
        return Status::Ok();
    }
    if (spec_.access == ReadAccess::kFilter && filter_ && spec_.where.id_prefix.empty()) {
        // The filter's rows from the indexes (or a scan inside Find), then the entities. Rows
        // that need no more than id and metadata come with the filter's own reads.
        const bool metadata_only = !spec_.needs.vector && !spec_.needs.edges;
        FindOptions options;
        options.filter = spec_.where.filter_json;
        // ORDER BY id takes the smallest ids, so it needs all of them (or the id-ordered scan).
        options.limit =
            spec_.order_by_id ? limits::kMaxFindLimit : std::min(spec_.want, limits::kMaxFindLimit);
        options.include_metadata = spec_.needs.any() && metadata_only;
        if (options.limit == 0) {
            options.count_only = true;
        }
        PHENIX_ASSIGN_OR_RETURN(FindResponse found, state_.reader.Find(ref, options));
        for (const std::string& step : found.plan.steps) {
            details_.push_back(step);
        }
        if (found.count <= options.limit || found.ids.size() >= spec_.want) {
            ran_from_index_ = found.plan.uses_index;
            ran_scan_ = !found.plan.uses_index;
            ids_ = std::move(found.ids);
            metadata_ = std::move(found.metadata);
            list_has_metadata_ = options.include_metadata;
            order_.resize(ids_.size());
            for (std::size_t idx = 0; idx < order_.size(); ++idx) {
                order_[idx] = idx;
            }
            if (spec_.order_by_id) {
                std::sort(order_.begin(), order_.end(),
                          [&](std::size_t a, std::size_t b) { return ids_[a] < ids_[b]; });
            }
            PHENIX_SYNC_POINT("ReadOperator::Next:AfterFind");
            phase_ = Phase::kList;
            return Status::Ok();
        }
        details_.push_back("more than " + std::to_string(limits::kMaxFindLimit) +
                           " rows match: scanning with the filter");
    }
    ran_scan_ = true;
    // Small pages while few rows are wanted (ORDER BY id LIMIT 10 reads ~10 records).
    scan_options_.limit = std::clamp<std::size_t>(spec_.want, 64, limits::kMaxScanLimit);
    scan_options_.include_edges = spec_.needs.edges;
    scan_options_.include_vector = spec_.needs.vector;
    scan_options_.storage_order =
        spec_.any_order && !spec_.order_by_id && spec_.where.id_prefix.empty();
    if (scan_options_.storage_order) {
        details_.push_back("records read in storage order");
    }
    if (const std::string& prefix = spec_.where.id_prefix; !prefix.empty()) {
        // id LIKE 'abc%': the ids from "abc" up to the last one that starts with it. Start
        // after a string that sorts just below the prefix: its last byte one less, then 0xff.
        const auto last = static_cast<unsigned char>(prefix.back());
        scan_options_.start_after = prefix.substr(0, prefix.size() - 1);
        if (last > 0) {
            scan_options_.start_after += static_cast<char>(last - 1);
            scan_options_.start_after += '\xff';
        }
    }
    phase_ = Phase::kScan;
    return Status::Ok();
}

Status ReadOperator::FillFromList(RowBatch* batch) {
    const CollectionRef& ref = state_.bound.ref;
    while (next_ < order_.size() && batch->rows.size() < kBatchRows && emitted_ < spec_.want) {
        const std::size_t idx = order_[next_++];
        Row row;
        if (list_is_lookup_) {
            Result<Entity> entity = state_.reader.Get(ref, ids_[idx]);
            if (!entity.ok()) {
                if (entity.status().code() == StatusCode::kNotFound) {
                    continue;
                }
                return entity.status();
            }
            if (filter_) {
                PHENIX_ASSIGN_OR_RETURN(bool matches,
                                        document::Matches(*filter_, entity->metadata));
                if (!matches) {
                    continue;
                }
            }
            row.entity = std::move(*entity);
        } else if (!spec_.needs.any() || list_has_metadata_) {
            row.entity.id = ids_[idx];
            if (list_has_metadata_) {
                row.entity.metadata = std::move(metadata_[idx]);
            }
        } else {
            // Same snapshot as the filter's: the entity exists and still matches.
            PHENIX_ASSIGN_OR_RETURN(row.entity, state_.reader.Get(ref, ids_[idx]));
        }
        batch->rows.push_back(std::move(row));
        ++emitted_;
    }
    if (next_ >= order_.size() || emitted_ >= spec_.want) {
        phase_ = Phase::kDone;
    }
    return Status::Ok();
}

Status ReadOperator::FillFromScan(RowBatch* batch) {
    while (batch->rows.size() < kBatchRows && emitted_ < spec_.want) {
        if (page_next_ >= page_.size()) {
            if (last_page_) {
                break;
            }
            PHENIX_RETURN_IF_ERROR(CheckInterrupted());
            PHENIX_SYNC_POINT("ReadOperator::Next:BeforePage");
            PHENIX_ASSIGN_OR_RETURN(ScanPage page,
                                    state_.reader.Scan(state_.bound.ref, scan_options_));
            page_ = std::move(page.entities);
            scanned_ += page_.size();
            page_next_ = 0;
            last_page_ = page.next_start_after.empty();
            scan_options_.start_after = std::move(page.next_start_after);
            scan_options_.limit = limits::kMaxScanLimit;
            continue;
        }
        Entity& entity = page_[page_next_++];
        if (const std::string& prefix = spec_.where.id_prefix;
            !prefix.empty() && !entity.id.starts_with(prefix) && entity.id > prefix) {
            last_page_ = true;  // past the range: every later id is larger
            page_next_ = page_.size();
            break;
        }
        if (filter_) {
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter_, entity.metadata));
            if (!matches) {
                continue;
            }
        }
        Row row;
        row.entity = std::move(entity);
        batch->rows.push_back(std::move(row));
        ++emitted_;
    }
    if (emitted_ >= spec_.want || (last_page_ && page_next_ >= page_.size())) {
        phase_ = Phase::kDone;
        if (!spec_.where.id_prefix.empty()) {
            details_.push_back("entities scanned: " + std::to_string(scanned_));
        }
    }
    return Status::Ok();
}

Result<bool> ReadOperator::NextImpl(RowBatch* batch) {
    if (phase_ == Phase::kStart) {
        PHENIX_RETURN_IF_ERROR(Start());
    }
    while (batch->rows.empty() && phase_ != Phase::kDone) {
        if (phase_ == Phase::kList) {
            PHENIX_RETURN_IF_ERROR(FillFromList(batch));
        } else {
            PHENIX_RETURN_IF_ERROR(FillFromScan(batch));
        }
    }
    return !batch->rows.empty();
}

Result<bool> CountOperator::NextImpl(RowBatch* batch) {
    if (done_) {
        return false;
    }
    done_ = true;
    FindOptions options;
    options.filter = filter_json_;
    options.count_only = true;
    PHENIX_ASSIGN_OR_RETURN(FindResponse found, state_.reader.Find(state_.bound.ref, options));
    for (const std::string& step : found.plan.steps) {
        details_.push_back(step);
    }
    Row row;
    row.values.push_back(QueryValue::Int(static_cast<std::int64_t>(found.count)));
    batch->rows.push_back(std::move(row));
    return true;
}

}  // namespace phenix::query
