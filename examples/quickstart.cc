// SPDX-License-Identifier: Apache-2.0
//
// A complete program using the embedded Phenix API: open a data directory, create a collection,
// write entities with vectors, metadata and edges, read them back, run a transaction, and handle
// errors.
//
//   build/release/examples/phenix_example_quickstart /tmp/phenix-example
#include <cstdio>
#include <cstdlib>

#include <phenix/db.h>
#include <phenix/json.h>
#include <phenix/phenixql.h>

namespace {

// Prints the error and exits; a real application would handle the Status instead.
void Check(const phenix::Status& status, const char* what) {
    if (!status.ok()) {
        std::fprintf(stderr, "%s failed: %s\n", what, status.ToString().c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "./phenix-example-data";

    auto opened = phenix::Database::Open(path);
    Check(opened.status(), "open");
    std::unique_ptr<phenix::Database> db = std::move(opened).value();

    // A collection of 4-dimensional vectors compared by cosine distance. Creating it twice is an
    // AlreadyExists error, which this example tolerates so it can run repeatedly.
    phenix::Status created =
        db->CreateCollection({.ref = "docs", .dimension = 4, .metric = phenix::Metric::kCosine});
    if (!created.ok() && created.code() != phenix::StatusCode::kAlreadyExists) {
        Check(created, "create collection");
    }

    // Several writes in one atomic batch; d2's edge may point at d1 from the same batch.
    phenix::WriteBatch batch;
    batch.Upsert("docs", {.id = "d1",
                          .vector = {0.1f, 0.2f, 0.3f, 0.4f},
                          .metadata = R"({"category": "tech", "year": 2021})"});
    batch.Upsert("docs", {.id = "d2",
                          .vector = {0.5f, 0.6f, 0.7f, 0.8f},
                          .metadata = R"({"category": "science", "year": 2019})",
                          .edges = {{.label = "related_to", .target_id = "d1", .weight = 0.8}}});
    Check(db->Write(batch), "write batch");

    // Bad input is rejected with a clear error and changes nothing.
    phenix::Status bad = db->Upsert("docs", {.id = "d3", .vector = {1.0f, 2.0f}});
    std::printf("rejected as expected: %s\n", bad.ToString().c_str());

    Check(db->PatchMetadata("docs", "d1", R"({"year": 2022, "reviewed": true})"), "patch");

    auto d2 = db->Get("docs", "d2");
    Check(d2.status(), "get d2");
    std::printf("d2 = %s\n", phenix::EntityToJson(*d2).c_str());

    auto in_edges = db->ListEdges("docs", "d1", phenix::EdgeDirection::kIn);
    Check(in_edges.status(), "list edges");
    for (const auto& edge : *in_edges) {
        std::printf("edge into d1: %s\n", phenix::EdgeRecordToJson(edge).c_str());
    }

    // A transaction: reads see one snapshot plus the transaction's own writes; Commit applies
    // every write at once, or returns Aborted (nothing written) if a concurrent transaction
    // committed a change to the same entity first — then retry from BeginTransaction.
    for (int attempt = 1;; ++attempt) {
        auto txn = db->BeginTransaction();
        Check(txn.status(), "begin");
        auto d1 = (*txn)->Get("docs", "d1");
        Check(d1.status(), "get d1 in the transaction");
        Check((*txn)->PatchMetadata("docs", "d1", R"({"views": 1})"), "patch in the transaction");
        Check((*txn)->Upsert("docs", {.id = "d3",
                                      .vector = {0.4f, 0.3f, 0.2f, 0.1f},
                                      .metadata = R"({"category": "tech"})",
                                      .edges = {{.label = "cites", .target_id = "d1"}}}),
              "upsert in the transaction");
        auto committed = (*txn)->Commit();
        if (committed.ok()) {
            std::printf("transaction committed at timestamp %llu\n",
                        static_cast<unsigned long long>(*committed));
            break;
        }
        if (committed.status().code() != phenix::StatusCode::kAborted || attempt == 5) {
            Check(committed.status(), "commit");
        }
    }

    // Vector search: the entities nearest to a query vector (by the collection's cosine
    // distance). Committed writes are searchable at once; a transaction's Search also sees its
    // own uncommitted writes.
    const std::vector<float> query = {0.1f, 0.2f, 0.3f, 0.5f};
    auto nearest = db->Search("docs", query, {.k = 2});
    Check(nearest.status(), "search");
    for (const phenix::SearchHit& hit : nearest->hits) {
        std::printf("nearest: %s (distance %.4f)\n", hit.id.c_str(), hit.distance);
    }

    // A metadata index (created online; AlreadyExists on the second run), a filter, a graph
    // traversal, and a hybrid search: the nearest "tech" entities within 2 hops of d3.
    phenix::Status indexed = db->CreateIndex("docs", "category");
    if (!indexed.ok() && indexed.code() != phenix::StatusCode::kAlreadyExists) {
        Check(indexed, "create index");
    }
    auto tech = db->Find("docs", {.filter = R"({"category": "tech", "year": {"$gte": 2020}})"});
    Check(tech.status(), "find");
    for (const std::string& id : tech->ids) {
        std::printf("tech since 2020: %s\n", id.c_str());
    }
    auto reached = db->Traverse("docs", {.start_id = "d2", .max_hops = 2});
    Check(reached.status(), "traverse");
    for (const phenix::ReachedEntity& entity : reached->entities) {
        std::printf("reached from d2: %s (%u hop)\n", entity.id.c_str(), entity.depth);
    }
    phenix::SearchOptions hybrid{.k = 2, .filter = R"({"category": "tech"})"};
    hybrid.graph = phenix::GraphConstraint{.start_id = "d3", .max_hops = 2};
    auto near_d3 = db->Search("docs", query, hybrid);
    Check(near_d3.status(), "hybrid search");
    for (const phenix::SearchHit& hit : near_d3->hits) {
        std::printf("tech near d3: %s (distance %.4f)\n", hit.id.c_str(), hit.distance);
    }

    // The same hybrid query in PhenixQL (docs/query-language.md), with the vector as a parameter.
    phenix::QuerySession session(*db);
    auto rows = session.Execute(
        "SELECT b.id, b.vector <-> $q AS distance FROM MATCH (a:docs)-[*1..2]->(b:docs) "
        "WHERE a.id = 'd3' AND b.metadata.category = 'tech' ORDER BY distance LIMIT 2",
        {{"q", phenix::QueryValue::Vector(query)}});
    Check(rows.status(), "PhenixQL query");
    for (const auto& row : rows->rows) {
        std::printf("PhenixQL: %s (distance %s)\n", row[0].ToText().c_str(),
                    row[1].ToText().c_str());
    }

    // Page through the collection in id order.
    phenix::ScanOptions scan{.limit = 1};
    do {
        auto page = db->Scan("docs", scan);
        Check(page.status(), "scan");
        for (const auto& entity : page->entities) {
            std::printf("scan: %s\n", phenix::EntityToJson(entity).c_str());
        }
        scan.start_after = page->next_start_after;
    } while (!scan.start_after.empty());

    Check(db->Close(), "close");
    return 0;
}
