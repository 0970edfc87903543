// SPDX-License-Identifier: Apache-2.0
// Metrics (issue 14): the exposition text of the server's own series and of the engine's, from
// a DatabaseStats, with the tenant and collection labels escaped.
#include "server/metrics.h"

#include <string>

#include <gtest/gtest.h>

#include <phenix/stats.h>

namespace phenix::server {
namespace {

bool HasLine(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

DatabaseStats SampleStats() {
    DatabaseStats stats;
    CollectionStats docs;
    docs.ref = {"default", "docs"};
    docs.entities = 25;
    docs.approximate_bytes = 4096;
    docs.has_vector_index = true;
    docs.vector_index_tail = 3;
    docs.vector_index_lag_seconds = 0.5;
    docs.vector_index_nodes = 22;
    stats.collections.push_back(docs);
    CollectionStats notes;
    notes.ref = {"acme", "we\"ird\\name"};
    notes.entities = 1;
    stats.collections.push_back(notes);
    stats.commits = 7;
    stats.commit_conflicts = 2;
    stats.storage.pending_compaction_bytes = 1234;
    stats.storage.running_compactions = 1;
    stats.storage.write_stalls = 4;
    stats.storage.write_stall_micros = 2'500'000;
    stats.storage.writes_stopped = true;
    stats.storage.block_cache_hits = 75;
    stats.storage.block_cache_misses = 25;
    stats.storage.block_cache_usage_bytes = 100;
    stats.storage.block_cache_capacity_bytes = 1000;
    stats.storage.memtable_bytes = 10;
    stats.storage.sst_bytes = 20;
    return stats;
}

TEST(Metrics, RendersTheEngineSeriesFromStats) {
    Metrics metrics;
    const DatabaseStats stats = SampleStats();
    const std::string text = metrics.Render(&stats);
    for (const char* line : {
             "# TYPE phenix_collection_entities gauge",
             R"(phenix_collection_entities{tenant="default",collection="docs"} 25)",
             R"(phenix_collection_entities{tenant="acme",collection="we\"ird\\name"} 1)",
             R"(phenix_collection_bytes{tenant="default",collection="docs"} 4096)",
             R"(phenix_vector_index_tail_length{tenant="default",collection="docs"} 3)",
             R"(phenix_vector_index_build_lag_seconds{tenant="default",collection="docs"} 0.5)",
             R"(phenix_vector_index_nodes{tenant="default",collection="docs"} 22)",
             "# TYPE phenix_commits_total counter",
             "phenix_commits_total 7",
             "phenix_commit_conflicts_total 2",
             "phenix_rocksdb_pending_compaction_bytes 1234",
             "phenix_rocksdb_running_compactions 1",
             "phenix_rocksdb_write_stalls_total 4",
             "phenix_rocksdb_write_stall_seconds_total 2.5",
             "phenix_rocksdb_writes_stopped 1",
             "phenix_rocksdb_block_cache_hits_total 75",
             "phenix_rocksdb_block_cache_misses_total 25",
             "phenix_rocksdb_block_cache_hit_ratio 0.75",
             "phenix_rocksdb_block_cache_usage_bytes 100",
             "phenix_rocksdb_block_cache_capacity_bytes 1000",
             "phenix_rocksdb_memtable_bytes 10",
             "phenix_rocksdb_sst_bytes 20",
         }) {
        EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
    }
    // A collection without vectors has no vector index series.
    EXPECT_EQ(text.find("phenix_vector_index_tail_length{tenant=\"acme\""), std::string::npos);
}

TEST(Metrics, RecordsStatementLatencyByPlanStrategy) {
    Metrics metrics;
    metrics.RecordStatement("vector_index", 0.002);
    metrics.RecordStatement("vector_index", 0.004);
    metrics.RecordStatement("exact_scan", 0.02);
    metrics.RecordStatement("", 1.0);  // not a SELECT: not recorded
    const std::string text = metrics.Render(static_cast<const DatabaseStats*>(nullptr));
    EXPECT_TRUE(HasLine(text, "# TYPE phenix_query_duration_seconds histogram")) << text;
    EXPECT_TRUE(HasLine(text, R"(phenix_query_duration_seconds_count{strategy="vector_index"} 2)"))
        << text;
    EXPECT_TRUE(HasLine(text, R"(phenix_query_duration_seconds_count{strategy="exact_scan"} 1)"))
        << text;
    EXPECT_TRUE(
        HasLine(text, R"(phenix_query_duration_seconds_bucket{strategy="exact_scan",le="0.01"} 0)"))
        << text;
    EXPECT_EQ(text.find("strategy=\"\""), std::string::npos) << text;
    // Without stats, no engine series at all.
    EXPECT_EQ(text.find("phenix_commits_total"), std::string::npos);
}

TEST(Metrics, AnEmptyCacheHasAHitRatioOfOne) {
    Metrics metrics;
    const DatabaseStats stats;
    const std::string text = metrics.Render(&stats);
    EXPECT_TRUE(HasLine(text, "phenix_rocksdb_block_cache_hit_ratio 1")) << text;
    EXPECT_TRUE(HasLine(text, "# TYPE phenix_collection_entities gauge")) << text;
}

}  // namespace
}  // namespace phenix::server
