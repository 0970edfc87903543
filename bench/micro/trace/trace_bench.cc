// SPDX-License-Identifier: Apache-2.0
//
// The tracer's hot path (src/trace, docs/observability.md): what one request of phenixd costs
// to record when tracing is on - a root span, the four stage spans and three operator spans
// with their attributes (what a SELECT with a vector search records) - unsampled and dropped at
// the end (the common case at 10% sampling), and kept and queued for export (the exporter
// here encodes the OTLP/JSON body and sends nothing). Compare the ns per request with a
// request's own time (bench/server, docs/benchmarks.md) for the overhead ratio.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "trace/trace.h"

namespace {

using phenix::trace::Trace;
using phenix::trace::Tracer;
using phenix::trace::TracerOptions;

void RecordRequest(Trace& trace) {
    trace.SetName(Trace::kRoot, "POST /v1/collections/{name}/search");
    trace.SetAttribute(Trace::kRoot, "http.method", "POST");
    trace.SetAttribute(Trace::kRoot, "http.route", "/v1/collections/{name}/search");
    const std::int64_t now = phenix::trace::NowUnixNanos();
    for (const char* stage : {"parse", "bind", "plan"}) {
        trace.AddSpan(stage, Trace::kRoot, now, now + 1000);
    }
    const auto execute = trace.AddSpan("execute", Trace::kRoot, now, now + 100000);
    trace.SetAttribute(execute, "phenix.plan.strategy", "vector_index");
    auto parent = execute;
    for (const char* op : {"Project", "TopK", "VectorSearch"}) {
        const auto span = trace.AddSpan(op, parent, now, now + 50000);
        trace.SetAttribute(span, "phenix.operator", op);
        trace.SetAttribute(span, "phenix.rows", std::int64_t{10});
        trace.SetAttribute(span, "phenix.self_ms", 0.05);
        trace.SetAttribute(span, "phenix.ef", std::int64_t{64});
        trace.SetAttribute(span, "phenix.distance_computations", std::int64_t{1200});
        parent = span;
    }
    trace.SetAttribute(Trace::kRoot, "http.status_code", std::int64_t{200});
    trace.SetOk(Trace::kRoot);
}

// Not sampled, fast, no error: recorded into a pooled Trace and given back.
void BM_TraceUnsampledRequest(benchmark::State& state) {
    static Tracer* tracer = new Tracer(TracerOptions{.sample_ratio = 0}, nullptr);
    for (auto _ : state) {
        auto trace = tracer->StartTrace("POST", nullptr);
        RecordRequest(*trace);
        benchmark::DoNotOptimize(tracer->Finish(std::move(trace)));
    }
}
BENCHMARK(BM_TraceUnsampledRequest)->Threads(1)->Threads(2);

// Sampled: queued, encoded to OTLP/JSON on the tracer's thread (the encoding is timed there,
// not here; a full queue drops).
void BM_TraceSampledRequest(benchmark::State& state) {
    static Tracer* tracer =
        new Tracer(TracerOptions{.sample_ratio = 1, .max_queue_spans = 1 << 20},
                   [](const std::vector<const Trace*>& batch) {
                       benchmark::DoNotOptimize(phenix::trace::OtlpJson(batch, "phenixd"));
                       return phenix::Status::Ok();
                   });
    for (auto _ : state) {
        auto trace = tracer->StartTrace("POST", nullptr);
        RecordRequest(*trace);
        benchmark::DoNotOptimize(tracer->Finish(std::move(trace)));
    }
}
BENCHMARK(BM_TraceSampledRequest)->Threads(1);

// The OTLP/JSON encoding of one such request's 8 spans.
void BM_OtlpJsonOneRequest(benchmark::State& state) {
    Tracer tracer(TracerOptions{.sample_ratio = 0}, nullptr);
    auto trace = tracer.StartTrace("POST", nullptr);
    RecordRequest(*trace);
    const std::vector<const Trace*> batch = {trace.get()};
    for (auto _ : state) {
        benchmark::DoNotOptimize(phenix::trace::OtlpJson(batch, "phenixd"));
    }
}
BENCHMARK(BM_OtlpJsonOneRequest);

}  // namespace

BENCHMARK_MAIN();
