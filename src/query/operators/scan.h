// SPDX-License-Identifier: Apache-2.0
//
// Source operators over one collection (FROM collection): an id lookup, the filter's rows from
// the metadata indexes (IndexFilter) or from reading the records (FilteredScan), a full Scan in
// id order, and Count (count(*) answered by the filter's bitmap). The optimizer picks the access
// path; the label says what ran (an IndexFilter whose filter matched more rows than a Find may
// return continues as a FilteredScan, and says so).
//
// Thread-compatible: one statement's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <phenix/db.h>

#include "document/filter.h"
#include "query/operators/operator.h"

namespace phenix::query {

/// What the rows must carry of an entity beyond its id.
struct NodeNeeds {
    bool metadata = false;
    bool vector = false;
    bool edges = false;
    [[nodiscard]] bool any() const { return metadata || vector || edges; }
};

enum class ReadAccess { kIdList, kFilter, kScan };

struct ReadSpec {
    ReadAccess access = ReadAccess::kScan;
    BoundWhere where;
    std::size_t want = SIZE_MAX;  // at most this many rows are needed (a hint)
    bool order_by_id = false;     // hand rows up in id order
    // The statement's answer does not depend on the order rows arrive in (it groups them, or
    // sorts them on other keys): a full scan reads the records in storage order, one pass.
    bool any_order = false;
    NodeNeeds needs;
    bool filter_indexed = true;  // the statistics' answer: the filter's rows come from indexes
};

class ReadOperator final : public PhysicalOperator {
  public:
    ReadOperator(ExecState& state, ReadSpec spec);
    [[nodiscard]] std::string Label() const override;
    [[nodiscard]] std::string_view Strategy() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    enum class Phase { kStart, kList, kScan, kDone };
    Status Start();
    Status FillFromList(RowBatch* batch);
    Status FillFromScan(RowBatch* batch);

    ReadSpec spec_;
    std::optional<document::Filter> filter_;
    Phase phase_ = Phase::kStart;
    bool ran_scan_ = false;        // the rows came from reading records
    bool ran_from_index_ = false;  // the filter's rows came from metadata indexes
    // kList: ids (and metadata) to hand up, in order.
    std::vector<std::string> ids_;
    std::vector<std::string> metadata_;
    std::vector<std::size_t> order_;
    bool list_has_metadata_ = false;
    bool list_is_lookup_ = false;  // ids given by the query: missing ones are skipped
    std::size_t next_ = 0;
    // kScan.
    ScanOptions scan_options_;
    std::vector<Entity> page_;
    std::size_t page_next_ = 0;
    bool last_page_ = false;
    std::size_t emitted_ = 0;
    std::size_t scanned_ = 0;  // entities the scan read (IdRangeScan reports it)
};

/// count(*) alone over a FROM collection: the filter's exact count, no record read. One row.
class CountOperator final : public PhysicalOperator {
  public:
    CountOperator(ExecState& state, std::string filter_json)
        : PhysicalOperator(state), filter_json_(std::move(filter_json)) {}
    [[nodiscard]] std::string Label() const override {
        return "Count " + state_.bound.info.spec.ref.name;
    }
    [[nodiscard]] std::string_view Strategy() const override { return "count"; }

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::string filter_json_;
    bool done_ = false;
};

}  // namespace phenix::query
