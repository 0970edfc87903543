// SPDX-License-Identifier: Apache-2.0
// Metrics (issues 14 and 16): the exposition text of the server's own series and of the engine's,
// from a DatabaseStats, with the tenant and collection labels escaped; every engine family of
// issue 16 with its type and value; the per-collection label cap; gRPC, query errors, admission,
// build info and process series.
#include "server/metrics.h"

#include <ctime>
#include <regex>
#include <string>
#include <vector>

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

LatencySummary Summary(std::uint64_t count, double sum, std::vector<double> bounds,
                       std::vector<std::uint64_t> buckets) {
    LatencySummary summary;
    summary.count = count;
    summary.sum_seconds = sum;
    summary.bounds = std::move(bounds);
    summary.buckets = std::move(buckets);
    return summary;
}

// A DatabaseStats with a known, distinct value in every field issue 16 added.
DatabaseStats FullStats() {
    DatabaseStats stats = SampleStats();
    CollectionStats& docs = stats.collections[0];
    docs.vector_index_dead_nodes = 5;
    docs.vector_index_levels = 3;
    docs.vector_index_vector_bytes = 1000;
    docs.vector_index_graph_bytes = 200;
    docs.vector_index_other_bytes = 30;
    docs.vector_index_checkpoint_age_seconds = 12.5;
    docs.vector_index_checkpoint_pending_changes = 7;
    docs.metadata_indexes = 2;
    docs.metadata_index_entries = 50;
    docs.metadata_indexes_building = 1;
    docs.metadata_index_build_progress = 0.25;
    docs.statistics_age_seconds = 60;
    stats.storage.sst_bytes_by_column_family = {{"default", 11}, {"entities", 9}};
    stats.storage.wal_write = Summary(4, 0.01, {0.001, 0.01}, {3, 4});
    stats.storage.wal_sync = Summary(2, 0.5, {0.001, 0.1}, {0, 1});
    stats.storage.disk_free_bytes = 1 << 30;
    stats.storage.disk_used_bytes = 4096;
    stats.transactions.active = 2;
    stats.transactions.oldest_snapshot_age_seconds = 1.5;
    stats.transactions.history_floor_lag_seconds = 3;
    stats.transactions.aborted_conflict = 6;
    stats.transactions.aborted_rollback = 7;
    stats.transactions.aborted_expired = 8;
    stats.transactions.aborted_error = 9;
    stats.transactions.commit = Summary(10, 0.25, {0.001, 0.01, 0.1}, {5, 9, 10});
    stats.graph_cache.hits = 40;
    stats.graph_cache.misses = 4;
    stats.graph_cache.bytes = 8192;
    return stats;
}

TEST(Metrics, RendersEveryEngineFamilyOfIssue16WithItsTypeAndValue) {
    Metrics metrics;
    const DatabaseStats stats = FullStats();
    const std::string text = metrics.Render(&stats);
    for (
        const char* line : {
            "# TYPE phenix_vector_index_dead_nodes gauge",
            R"(phenix_vector_index_dead_nodes{tenant="default",collection="docs"} 5)",
            "# TYPE phenix_vector_index_levels gauge",
            R"(phenix_vector_index_levels{tenant="default",collection="docs"} 3)",
            "# TYPE phenix_vector_index_memory_bytes gauge",
            R"(phenix_vector_index_memory_bytes{tenant="default",collection="docs",part="vectors"} 1000)",
            R"(phenix_vector_index_memory_bytes{tenant="default",collection="docs",part="graph"} 200)",
            R"(phenix_vector_index_memory_bytes{tenant="default",collection="docs",part="other"} 30)",
            "# TYPE phenix_vector_index_checkpoint_age_seconds gauge",
            R"(phenix_vector_index_checkpoint_age_seconds{tenant="default",collection="docs"} 12.5)",
            "# TYPE phenix_vector_index_checkpoint_pending_changes gauge",
            R"(phenix_vector_index_checkpoint_pending_changes{tenant="default",collection="docs"} 7)",
            "# TYPE phenix_metadata_indexes gauge",
            R"(phenix_metadata_indexes{tenant="default",collection="docs"} 2)",
            R"(phenix_metadata_indexes{tenant="acme",collection="we\"ird\\name"} 0)",
            R"(phenix_metadata_index_entries{tenant="default",collection="docs"} 50)",
            R"(phenix_metadata_indexes_building{tenant="default",collection="docs"} 1)",
            R"(phenix_metadata_index_build_progress{tenant="default",collection="docs"} 0.25)",
            R"(phenix_metadata_index_build_progress{tenant="acme",collection="we\"ird\\name"} 1)",
            "# TYPE phenix_statistics_age_seconds gauge",
            R"(phenix_statistics_age_seconds{tenant="default",collection="docs"} 60)",
            "# TYPE phenix_rocksdb_column_family_sst_bytes gauge",
            R"(phenix_rocksdb_column_family_sst_bytes{column_family="default"} 11)",
            R"(phenix_rocksdb_column_family_sst_bytes{column_family="entities"} 9)",
            "# TYPE phenix_wal_write_duration_seconds histogram",
            "phenix_wal_write_duration_seconds_count 4",
            "phenix_wal_write_duration_seconds_sum 0.01",
            R"(phenix_wal_write_duration_seconds_bucket{le="0.001"} 3)",
            R"(phenix_wal_write_duration_seconds_bucket{le="0.01"} 4)",
            R"(phenix_wal_write_duration_seconds_bucket{le="+Inf"} 4)",
            "# TYPE phenix_wal_sync_duration_seconds histogram",
            R"(phenix_wal_sync_duration_seconds_bucket{le="0.1"} 1)",
            R"(phenix_wal_sync_duration_seconds_bucket{le="+Inf"} 2)",
            "phenix_wal_sync_duration_seconds_sum 0.5",
            "# TYPE phenix_disk_free_bytes gauge",
            "phenix_disk_free_bytes 1073741824",
            "phenix_disk_used_bytes 4096",
            "# TYPE phenix_transactions_active gauge",
            "phenix_transactions_active 2",
            "phenix_transaction_oldest_snapshot_age_seconds 1.5",
            "phenix_mvcc_history_floor_lag_seconds 3",
            "# TYPE phenix_transaction_aborts_total counter",
            R"(phenix_transaction_aborts_total{reason="conflict"} 6)",
            R"(phenix_transaction_aborts_total{reason="rollback"} 7)",
            R"(phenix_transaction_aborts_total{reason="expired"} 8)",
            R"(phenix_transaction_aborts_total{reason="error"} 9)",
            "# TYPE phenix_commit_duration_seconds histogram",
            R"(phenix_commit_duration_seconds_bucket{le="0.001"} 5)",
            R"(phenix_commit_duration_seconds_bucket{le="0.01"} 9)",
            R"(phenix_commit_duration_seconds_bucket{le="0.1"} 10)",
            R"(phenix_commit_duration_seconds_bucket{le="+Inf"} 10)",
            "phenix_commit_duration_seconds_count 10",
            "phenix_commit_duration_seconds_sum 0.25",
            "# TYPE phenix_graph_cache_hits_total counter",
            "phenix_graph_cache_hits_total 40",
            "# TYPE phenix_graph_cache_misses_total counter",
            "phenix_graph_cache_misses_total 4",
            "# TYPE phenix_graph_cache_bytes gauge",
            "phenix_graph_cache_bytes 8192",
            R"(phenix_metrics_label_overflow_total{label="collection"} 0)",
        }) {
        EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
    }
    // Ages that were never set are absent, and a collection without vectors has no index series.
    EXPECT_EQ(text.find(R"(phenix_statistics_age_seconds{tenant="acme")"), std::string::npos);
    EXPECT_EQ(text.find(R"(phenix_vector_index_checkpoint_age_seconds{tenant="acme")"),
              std::string::npos);
    EXPECT_EQ(text.find(R"(phenix_vector_index_memory_bytes{tenant="acme")"), std::string::npos);
}

TEST(Metrics, AnUnwrittenCheckpointAndMissingStatisticsHaveNoSeries) {
    Metrics metrics;
    DatabaseStats stats = SampleStats();  // -1: never written / none
    const std::string text = metrics.Render(&stats);
    EXPECT_TRUE(
        HasLine(text, R"(phenix_vector_index_levels{tenant="default",collection="docs"} 0)"))
        << text;
    EXPECT_EQ(text.find("phenix_vector_index_checkpoint_age_seconds{"), std::string::npos);
    EXPECT_EQ(text.find("phenix_statistics_age_seconds{"), std::string::npos);
}

CollectionStats Collection(std::string tenant, std::string name, std::uint64_t bytes) {
    CollectionStats collection;
    collection.ref = {std::move(tenant), std::move(name)};
    collection.approximate_bytes = bytes;
    collection.entities = bytes / 10;
    return collection;
}

TEST(Metrics, CapCollectionsFoldsTheSmallestIntoOther) {
    std::vector<CollectionStats> collections = {
        Collection("t1", "small", 100), Collection("t1", "big", 5000),
        Collection("t2", "mid", 1000), Collection("t2", "tiny", 10)};
    collections[0].has_vector_index = true;
    collections[0].vector_index_nodes = 7;
    collections[0].vector_index_lag_seconds = 4;
    collections[0].vector_index_checkpoint_age_seconds = 30;
    collections[0].vector_index_checkpoint_pending_changes = 4;
    collections[3].has_vector_index = true;
    collections[3].vector_index_checkpoint_pending_changes = 5;
    collections[3].vector_index_nodes = 3;
    collections[3].vector_index_lag_seconds = 9;
    collections[3].metadata_index_build_progress = 0.5;
    std::size_t folded = 99;
    const std::vector<CollectionStats> capped = CapCollections(collections, 2, &folded);
    EXPECT_EQ(folded, 2u);
    ASSERT_EQ(capped.size(), 3u);
    // The two largest keep their order; the rest are one "_other".
    EXPECT_EQ(capped[0].ref.name, "big");
    EXPECT_EQ(capped[1].ref.name, "mid");
    EXPECT_EQ(capped[2].ref.tenant, "_other");
    EXPECT_EQ(capped[2].ref.name, "_other");
    EXPECT_EQ(capped[2].approximate_bytes, 110u);
    EXPECT_EQ(capped[2].entities, 11u);
    EXPECT_TRUE(capped[2].has_vector_index);
    EXPECT_EQ(capped[2].vector_index_nodes, 10u);
    EXPECT_EQ(capped[2].vector_index_lag_seconds, 9);
    EXPECT_EQ(capped[2].vector_index_checkpoint_age_seconds, 30);
    EXPECT_EQ(capped[2].vector_index_checkpoint_pending_changes, 9u);
    EXPECT_EQ(capped[2].metadata_index_build_progress, 0.5);
    EXPECT_EQ(capped[2].statistics_age_seconds, -1);

    // At or under the cap nothing is folded.
    const std::vector<CollectionStats> same = CapCollections(collections, 4, &folded);
    EXPECT_EQ(folded, 0u);
    EXPECT_EQ(same.size(), 4u);
}

TEST(Metrics, TheLabelCapAppliesToTheExpositionAndCountsTheFolding) {
    Metrics metrics(/*max_collections=*/1);
    DatabaseStats stats;
    stats.collections = {Collection("t1", "a", 10), Collection("t1", "b", 20),
                         Collection("t2", "c", 300)};
    const std::string first = metrics.Render(&stats);
    EXPECT_TRUE(HasLine(first, R"(phenix_collection_bytes{tenant="t2",collection="c"} 300)"))
        << first;
    EXPECT_TRUE(
        HasLine(first, R"(phenix_collection_bytes{tenant="_other",collection="_other"} 30)"))
        << first;
    EXPECT_EQ(first.find(R"(collection="a")"), std::string::npos) << first;
    EXPECT_EQ(first.find(R"(collection="b")"), std::string::npos) << first;
    EXPECT_TRUE(HasLine(first, R"(phenix_metrics_label_overflow_total{label="collection"} 2)"))
        << first;
    // A counter: every scrape that folds adds to it.
    const std::string second = metrics.Render(&stats);
    EXPECT_TRUE(HasLine(second, R"(phenix_metrics_label_overflow_total{label="collection"} 4)"))
        << second;
}

TEST(Metrics, ClientChosenMethodsDoNotAddSeries) {
    Metrics metrics;
    metrics.RecordRequest("GET", "/v1/collections", 200, 0.001);
    metrics.RecordRequest("BREW", "-", 404, 0.001);
    metrics.RecordRequest("XYZZY", "-", 404, 0.001);
    const std::string text = metrics.Render(static_cast<const DatabaseStats*>(nullptr));
    EXPECT_TRUE(HasLine(
        text, R"(phenix_http_requests_total{method="GET",route="/v1/collections",status="200"} 1)"))
        << text;
    EXPECT_TRUE(
        HasLine(text, R"(phenix_http_requests_total{method="other",route="-",status="404"} 2)"))
        << text;
    EXPECT_EQ(text.find("BREW"), std::string::npos) << text;
}

TEST(Metrics, RecordsGrpcCallsQueryErrorsAdmissionAndBuildInfo) {
    Metrics metrics;
    metrics.RecordGrpcCall("/phenix.v1.Phenix/Query", "OK", 0.003);
    metrics.RecordGrpcCall("/phenix.v1.Phenix/Query", "INVALID_ARGUMENT", 0.001);
    metrics.RecordQueryError("NOT_FOUND");
    metrics.RecordQueryError("NOT_FOUND");
    metrics.SetQueueDepth([] { return std::size_t{3}; });
    const std::string text = metrics.Render(static_cast<const DatabaseStats*>(nullptr));
    for (
        const char* line : {
            "# TYPE phenix_grpc_requests_total counter",
            R"(phenix_grpc_requests_total{code="ok",method="/phenix.v1.Phenix/Query"} 1)",
            R"(phenix_grpc_requests_total{code="invalid_argument",method="/phenix.v1.Phenix/Query"} 1)",
            "# TYPE phenix_grpc_request_duration_seconds histogram",
            R"(phenix_grpc_request_duration_seconds_count{method="/phenix.v1.Phenix/Query"} 2)",
            R"(phenix_grpc_request_duration_seconds_bucket{method="/phenix.v1.Phenix/Query",le="0.001"} 1)",
            "# TYPE phenix_query_errors_total counter",
            R"(phenix_query_errors_total{code="not_found"} 2)",
            "# TYPE phenix_admission_queued gauge",
            "phenix_admission_queued 3",
            "# TYPE phenix_build_info gauge",
            "phenix_build_info{version=\"" PHENIX_TEST_VERSION "\"} 1",
        }) {
        EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
    }
}

double SampleValue(const std::string& text, const std::string& name) {
    const std::regex pattern("(^|\n)" + name + " ([0-9.e+]+)\n");
    std::smatch match;
    if (!std::regex_search(text, match, pattern)) {
        return -1;
    }
    return std::stod(match[2].str());
}

TEST(Metrics, ProcessSeriesComeFromProcSelf) {
    Metrics metrics;
    const std::string text = metrics.Render(static_cast<const DatabaseStats*>(nullptr));
    EXPECT_TRUE(HasLine(text, "# TYPE process_cpu_seconds_total counter")) << text;
    EXPECT_GE(SampleValue(text, "process_cpu_seconds_total"), 0) << text;
    EXPECT_GT(SampleValue(text, "process_resident_memory_bytes"), 1 << 20) << text;
    EXPECT_GE(SampleValue(text, "process_virtual_memory_bytes"),
              SampleValue(text, "process_resident_memory_bytes"));
    EXPECT_GE(SampleValue(text, "process_threads"), 1) << text;
    EXPECT_GE(SampleValue(text, "process_open_fds"), 3) << text;
    EXPECT_GE(SampleValue(text, "process_max_fds"), SampleValue(text, "process_open_fds"));
    // Started after 2020 and not in the future.
    const double started = SampleValue(text, "process_start_time_seconds");
    EXPECT_GT(started, 1.58e9) << text;
    EXPECT_LE(started, static_cast<double>(std::time(nullptr)) + 1);
}

TEST(Metrics, NegotiatesTheExpositionFormat) {
    EXPECT_EQ(ExpositionFormatFor(""), ExpositionFormat::kText);
    EXPECT_EQ(ExpositionFormatFor("text/plain;version=0.0.4"), ExpositionFormat::kText);
    // What Prometheus 2.x sends.
    EXPECT_EQ(ExpositionFormatFor("application/openmetrics-text;version=1.0.0,application/"
                                  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                                  "q=0.5,*/*;q=0.1"),
              ExpositionFormat::kOpenMetrics);
    EXPECT_EQ(ContentTypeOf(ExpositionFormat::kText), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(ContentTypeOf(ExpositionFormat::kOpenMetrics),
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST(Metrics, OpenMetricsHasExemplarsOnTheRequestHistogram) {
    Metrics metrics;
    const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    metrics.RecordRequest("POST", "/v1/query", 200, 0.003, trace);
    metrics.RecordRequest("POST", "/v1/query", 200, 0.0002);  // not kept: no exemplar
    metrics.RecordRequest("GET", "/v1/collections", 200, 0.0002);
    const DatabaseStats stats = FullStats();
    const std::string text = metrics.Render(&stats, ExpositionFormat::kOpenMetrics);
    // Counter families are named without "_total"; their samples keep it.
    EXPECT_TRUE(HasLine(text, "# TYPE phenix_http_requests counter")) << text;
    EXPECT_TRUE(HasLine(
        text, R"(phenix_http_requests_total{method="POST",route="/v1/query",status="200"} 2)"))
        << text;
    EXPECT_TRUE(HasLine(text, "# TYPE phenix_collection_entities gauge")) << text;
    EXPECT_TRUE(HasLine(text, "# TYPE phenix_http_request_duration_seconds histogram")) << text;
    // 0.003 s is in the (0.0025, 0.005] bucket: its exemplar names the kept trace.
    const std::string bucket =
        R"(phenix_http_request_duration_seconds_bucket{route="/v1/query",le="0.005"} 2 # {trace_id=")" +
        trace + R"("} 0.003 )";
    const std::size_t at = text.find(bucket);
    ASSERT_NE(at, std::string::npos) << text;
    const std::string stamp =
        text.substr(at + bucket.size(), text.find('\n', at) - at - bucket.size());
    EXPECT_TRUE(std::regex_match(stamp, std::regex(R"(1[0-9]{9}\.[0-9]{3})"))) << stamp;
    // Other buckets and routes have none.
    EXPECT_TRUE(HasLine(
        text, R"(phenix_http_request_duration_seconds_bucket{route="/v1/query",le="0.00025"} 1)"))
        << text;
    EXPECT_EQ(text.find(R"(route="/v1/collections",le="0.00025"} 1 #)"), std::string::npos);
    EXPECT_TRUE(HasLine(
        text, R"(phenix_http_request_duration_seconds_bucket{route="/v1/query",le="+Inf"} 2)"))
        << text;
    // The engine's histograms get their +Inf bucket; the exposition ends with # EOF.
    EXPECT_TRUE(HasLine(text, R"(phenix_commit_duration_seconds_bucket{le="+Inf"} 10)")) << text;
    EXPECT_TRUE(HasLine(text, "phenix_commit_duration_seconds_count 10")) << text;
    EXPECT_TRUE(text.ends_with("\n# EOF\n")) << text;
    // Escaping as in the text format.
    EXPECT_TRUE(
        HasLine(text, R"(phenix_collection_entities{tenant="acme",collection="we\"ird\\name"} 1)"))
        << text;
    // The default format has no exemplars.
    const std::string plain = metrics.Render(&stats);
    EXPECT_EQ(plain.find("trace_id"), std::string::npos);
    EXPECT_EQ(plain.find("# EOF"), std::string::npos);
}

}  // namespace
}  // namespace phenix::server
