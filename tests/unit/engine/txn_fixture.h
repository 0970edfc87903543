// SPDX-License-Identifier: Apache-2.0
//
// TxnTest — DbTest plus helpers for transaction tests: begin a transaction or fail the test,
// read a metadata field, describe edges and a whole collection so two states can be compared.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/transaction.h>

#include "testing/db_fixture.h"

namespace phenix {

// Readable gtest failure messages for entities and edges.
inline void PrintTo(const Edge& edge, std::ostream* os) {
    *os << "{" << edge.label << " -> " << edge.target_tenant << "/" << edge.target_collection << ":"
        << edge.target_id << " w=" << edge.weight << " p=" << edge.properties << "}";
}
inline void PrintTo(const Entity& entity, std::ostream* os) {
    *os << "Entity{" << entity.id << " v=[";
    for (float f : entity.vector) {
        *os << f << ",";
    }
    *os << "] m=" << entity.metadata << " edges=[";
    for (const Edge& edge : entity.edges) {
        PrintTo(edge, os);
    }
    *os << "]}";
}

}  // namespace phenix

namespace phenix::testing {

/// Assigns the value of a Result expression to `lhs`, or fails the test (ASSERT) with its status.
#define PHENIX_TXN_ASSIGN_OR_FAIL(lhs, expr) \
    PHENIX_TXN_ASSIGN_OR_FAIL_IMPL_(PHENIX_CONCAT_(phenix_txn_tmp_, __LINE__), lhs, expr)
#define PHENIX_TXN_ASSIGN_OR_FAIL_IMPL_(tmp, lhs, expr)                \
    auto tmp = (expr);                                                 \
    ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
    lhs = std::move(tmp).value()

/// Expects `expr` (a Status or a Result) to fail with `code`.
#define PHENIX_EXPECT_CODE(expr, expected_code)                               \
    do {                                                                      \
        const ::phenix::Status phenix_c_ = ::phenix::testing::StatusOf(expr); \
        EXPECT_EQ(::phenix::StatusCodeName(phenix_c_.code()),                 \
                  ::phenix::StatusCodeName(expected_code))                    \
            << #expr << " -> " << phenix_c_.ToString();                       \
    } while (false)

inline Status StatusOf(const Status& status) {
    return status;
}
template <typename T>
Status StatusOf(const Result<T>& result) {
    return result.ok() ? Status::Ok() : result.status();
}

/// The parsed metadata of an entity.
inline nlohmann::json Json(const Entity& entity) {
    return nlohmann::json::parse(entity.metadata);
}
inline nlohmann::json Json(std::string_view text) {
    return nlohmann::json::parse(text);
}

/// An integer metadata field; -1 (and a test failure) when absent.
inline std::int64_t IntField(const Entity& entity, const std::string& key) {
    nlohmann::json json = Json(entity);
    if (!json.contains(key) || !json[key].is_number_integer()) {
        ADD_FAILURE() << "entity " << entity.id << " has no integer '" << key
                      << "': " << entity.metadata;
        return -1;
    }
    return json[key].get<std::int64_t>();
}

/// "source -label-> target (weight)" for each edge, sorted.
inline std::vector<std::string> DescribeEdges(const std::vector<EdgeRecord>& edges) {
    std::vector<std::string> out;
    out.reserve(edges.size());
    for (const EdgeRecord& e : edges) {
        out.push_back(e.source.ToString() + ":" + e.source_id + " -" + e.label + "-> " +
                      e.target.ToString() + ":" + e.target_id + " (" + std::to_string(e.weight) +
                      ")");
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// Everything a reader can see of one collection, as text: every entity (id, vector, metadata,
/// out-edges) in scan order, then each entity's in-edges. Equal strings mean equal states.
class StateReader {
  public:
    template <typename Reader>
    static std::vector<std::string> Describe(Reader& reader, const CollectionRef& collection) {
        std::vector<std::string> lines;
        auto page = reader.Scan(collection, ScanOptions{.limit = 10000, .include_edges = true});
        if (!page.ok()) {
            ADD_FAILURE() << "Scan: " << page.status().ToString();
            return lines;
        }
        for (const Entity& e : page->entities) {
            std::string line = e.id + " v=[";
            for (float f : e.vector) {
                line += std::to_string(f) + ",";
            }
            line += "] m=" + Json(e).dump() + " out={";
            for (const Edge& edge : e.edges) {
                line += edge.label + "->" + edge.target_collection + ":" + edge.target_id + "(" +
                        std::to_string(edge.weight) + "),";
            }
            line += "}";
            auto in = reader.ListEdges(collection, e.id, EdgeDirection::kIn);
            if (!in.ok()) {
                ADD_FAILURE() << "ListEdges(" << e.id << "): " << in.status().ToString();
                continue;
            }
            line += " in={";
            for (const std::string& edge : DescribeEdges(*in)) {
                line += edge + ",";
            }
            line += "}";
            lines.push_back(std::move(line));
        }
        return lines;
    }
};

class TxnTest : public DbTest {
  protected:
    // DbTest's set-up, opened once with relaxed durability: fsync is not what these tests are
    // about.
    void SetUp() override {
        Options options;
        options.durability = Durability::kRelaxed;
        Open(options);
        PHENIX_ASSERT_OK(
            db_->CreateCollection({.ref = "docs", .dimension = 4, .metric = Metric::kCosine}));
    }

    /// Begins a transaction; a failure is reported and yields nullptr (ASSERT_NE it).
    std::unique_ptr<Transaction> Begin(const TransactionOptions& options = {}) {
        auto txn = db_->BeginTransaction(options);
        EXPECT_TRUE(txn.ok()) << "BeginTransaction: " << txn.status().ToString();
        return txn.ok() ? std::move(txn).value() : nullptr;
    }

    std::unique_ptr<Transaction> BeginReadOnly() {
        return Begin(TransactionOptions{.read_only = true});
    }

    /// The entity as the transaction reads it; on failure a test failure and an entity whose id
    /// says why.
    static Entity TxnGet(Transaction& txn, const CollectionRef& collection, const std::string& id) {
        auto got = txn.Get(collection, id);
        if (!got.ok()) {
            ADD_FAILURE() << "txn Get(" << id << "): " << got.status().ToString();
            return Entity{.id = "<" + got.status().ToString() + ">"};
        }
        return std::move(got).value();
    }
    Entity DbGet(const CollectionRef& collection, const std::string& id) {
        auto got = db_->Get(collection, id);
        if (!got.ok()) {
            ADD_FAILURE() << "Get(" << id << "): " << got.status().ToString();
            return Entity{.id = "<" + got.status().ToString() + ">"};
        }
        return std::move(got).value();
    }

    std::vector<std::string> State(const CollectionRef& collection = "docs") {
        return StateReader::Describe(*db_, collection);
    }
    std::vector<std::string> State(Transaction& txn, const CollectionRef& collection = "docs") {
        return StateReader::Describe(txn, collection);
    }

    /// Ids seen by a transaction's Scan, in scan order.
    static std::vector<std::string> TxnIds(Transaction& txn, const CollectionRef& collection,
                                           ScanOptions options = {.limit = 10000}) {
        std::vector<std::string> ids;
        auto page = txn.Scan(collection, options);
        EXPECT_TRUE(page.ok()) << "Scan: " << page.status().ToString();
        if (page.ok()) {
            for (const Entity& e : page->entities) {
                ids.push_back(e.id);
            }
        }
        return ids;
    }

    /// Edges of an entity as read by a transaction (sorted descriptions); "error: ..." on failure.
    static std::vector<std::string> TxnEdges(Transaction& txn, const CollectionRef& collection,
                                             const std::string& id, EdgeDirection direction) {
        auto edges = txn.ListEdges(collection, id, direction);
        if (!edges.ok()) {
            return {"error: " + edges.status().ToString()};
        }
        return DescribeEdges(*edges);
    }
    std::vector<std::string> DbEdges(const CollectionRef& collection, const std::string& id,
                                     EdgeDirection direction) {
        auto edges = db_->ListEdges(collection, id, direction);
        if (!edges.ok()) {
            return {"error: " + edges.status().ToString()};
        }
        return DescribeEdges(*edges);
    }

    /// "docs:<source> -<label>-> docs:<target> (<weight>)" as DescribeEdges writes it.
    static std::string EdgeText(const std::string& source, const std::string& target,
                                const std::string& label = "related_to", double weight = 1.0,
                                const std::string& collection = "docs") {
        return collection + ":" + source + " -" + label + "-> " + collection + ":" + target + " (" +
               std::to_string(weight) + ")";
    }

    /// Metadata {"v": value}.
    static std::string V(std::int64_t value) { return R"({"v":)" + std::to_string(value) + "}"; }
};

}  // namespace phenix::testing
