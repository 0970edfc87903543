// SPDX-License-Identifier: Apache-2.0
#include "trace/trace.h"

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace phenix::trace {
namespace {

constexpr std::string_view kGood = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecExample) {
    auto parsed = ParseTraceparent(kGood);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(parsed->span_id.ToHex(), "00f067aa0ba902b7");
    EXPECT_TRUE(parsed->sampled);
    EXPECT_EQ(FormatTraceparent(parsed->trace_id, parsed->span_id, true), kGood);
    auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    ASSERT_TRUE(unsampled.ok());
    EXPECT_FALSE(unsampled->sampled);
}

TEST(TraceparentTest, RejectsMalformedHeaders) {
    const std::vector<std::string> bad = {
        "",
        "00",
        // all-zero ids
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        // uppercase hex (the spec's HEXDIGLC)
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        // bad hex, wrong lengths, separators
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        // version 00 is exactly 55 characters; ff is invalid
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    for (const std::string& header : bad) {
        EXPECT_FALSE(ParseTraceparent(header).ok()) << header;
    }
}

TEST(TraceparentTest, ALaterVersionMayAppendFields) {
    EXPECT_TRUE(
        ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever").ok());
    EXPECT_FALSE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x").ok());
}

TEST(TraceparentTest, TracestateIsCarriedOpaqueAndBounded) {
    EXPECT_EQ(SanitizeTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
              "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    EXPECT_EQ(SanitizeTracestate(std::string(kMaxTracestateBytes + 1, 'a')), "");
    EXPECT_EQ(SanitizeTracestate("a=b\nc=d"), "");
}

TEST(IdsTest, NewIdsAreValidAndDistinct) {
    const TraceId first = NewTraceId();
    const TraceId second = NewTraceId();
    EXPECT_TRUE(first.IsValid());
    EXPECT_FALSE(first == second);
    EXPECT_TRUE(NewSpanId().IsValid());
    EXPECT_EQ(first.ToHex().size(), 32U);
}

TEST(SamplingTest, RatioIsDeterministicOnTheTraceId) {
    TraceId low;
    low.bytes[15] = 1;  // the last 8 bytes, big-endian: 1
    TraceId high;
    high.bytes.fill(0xFF);
    EXPECT_TRUE(Tracer::SampledByRatio(low, 0.1));
    EXPECT_FALSE(Tracer::SampledByRatio(high, 0.1));
    EXPECT_FALSE(Tracer::SampledByRatio(low, 0));
    EXPECT_TRUE(Tracer::SampledByRatio(high, 1));
    // About the ratio over many random ids.
    int sampled = 0;
    for (int idx = 0; idx < 10000; ++idx) {
        sampled += Tracer::SampledByRatio(NewTraceId(), 0.25) ? 1 : 0;
    }
    EXPECT_GT(sampled, 2000);
    EXPECT_LT(sampled, 3000);
}

TracerOptions Options(double ratio, std::int64_t slow_ns) {
    TracerOptions options;
    options.sample_ratio = ratio;
    options.slow_threshold_ns = slow_ns;
    options.flush_interval = std::chrono::milliseconds(5);
    return options;
}

TEST(TracerTest, ParentContextIsHonoured) {
    std::vector<std::string> bodies;
    Mutex mu;
    Tracer tracer(Options(0, -1), [&](const std::vector<const Trace*>& batch) {
        MutexLock lock(mu);
        bodies.push_back(OtlpJson(batch, "test"));
        return Status::Ok();
    });
    auto parent = ParseTraceparent(kGood);
    ASSERT_TRUE(parent.ok());
    parent->tracestate = "k=v";
    auto trace = tracer.StartTrace("POST /v1/query", &*parent);
    EXPECT_TRUE(trace->sampled());
    EXPECT_EQ(trace->trace_id(), parent->trace_id);
    const Trace::SpanIndex child = trace->StartSpan("parse", Trace::kRoot);
    trace->SetAttribute(child, "db.rows", std::int64_t{3});
    trace->SetAttribute(child, "ok", true);
    trace->SetAttribute(child, "ratio", 0.5);
    trace->SetAttribute(child, "text", "a\"b");
    trace->EndSpan(child);
    EXPECT_EQ(trace->RootTraceparent().substr(0, 36), std::string(kGood.substr(0, 36)));
    EXPECT_TRUE(tracer.Finish(std::move(trace)));
    ASSERT_TRUE(tracer.Flush(std::chrono::milliseconds(5000)));
    EXPECT_EQ(tracer.spans_exported(), 2U);
    MutexLock lock(mu);
    ASSERT_EQ(bodies.size(), 1U);
    const std::string& body = bodies[0];
    EXPECT_NE(body.find("\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), std::string::npos);
    EXPECT_NE(body.find("\"parentSpanId\":\"00f067aa0ba902b7\""), std::string::npos);
    EXPECT_NE(body.find("\"traceState\":\"k=v\""), std::string::npos);
    EXPECT_NE(body.find("{\"key\":\"db.rows\",\"value\":{\"intValue\":\"3\"}}"), std::string::npos);
    EXPECT_NE(body.find("\"stringValue\":\"a\\\"b\""), std::string::npos);
    EXPECT_NE(body.find("\"kind\":2"), std::string::npos);
}

TEST(TracerTest, TailDecisionKeepsErrorsAndSlowRequestsOnly) {
    Tracer tracer(Options(0, 1'000'000'000'000), nullptr);  // slow: 1000 s (never, here)
    auto fast = tracer.StartTrace("fast", nullptr);
    EXPECT_FALSE(fast->sampled());
    EXPECT_FALSE(tracer.Finish(std::move(fast)));
    auto failed = tracer.StartTrace("failed", nullptr);
    failed->SetError(Trace::kRoot, "NOT_FOUND");
    EXPECT_TRUE(tracer.Finish(std::move(failed)));

    Tracer slow_tracer(Options(0, 0), nullptr);  // everything is "slow"
    EXPECT_TRUE(slow_tracer.Finish(slow_tracer.StartTrace("slow", nullptr)));
}

TEST(TracerTest, UnsampledTracesReuseTheirBuffers) {
    Tracer tracer(Options(0, -1), nullptr);
    const Trace* first = nullptr;
    for (int round = 0; round < 3; ++round) {
        auto trace = tracer.StartTrace("GET /health", nullptr);
        if (first == nullptr) {
            first = trace.get();
        }
        EXPECT_EQ(trace.get(), first);  // the pooled trace, again
        const auto span = trace->StartSpan("execute", Trace::kRoot);
        trace->SetAttribute(span, "db.statement.kind", "select");
        trace->EndSpan(span);
        EXPECT_EQ(trace->size(), 2U);
        EXPECT_FALSE(tracer.Finish(std::move(trace)));
    }
}

TEST(TracerTest, AFullQueueDropsAndCounts) {
    TracerOptions options = Options(1, -1);
    options.max_queue_spans = 3;
    options.flush_interval = std::chrono::hours(1);
    options.max_batch_spans = 1000;
    Tracer tracer(options, nullptr);
    for (int idx = 0; idx < 3; ++idx) {
        auto trace = tracer.StartTrace("r", nullptr);
        trace->EndSpan(trace->StartSpan("child", Trace::kRoot));
        EXPECT_TRUE(tracer.Finish(std::move(trace)));  // 2 spans each: the 2nd and 3rd drop
    }
    EXPECT_EQ(tracer.spans_dropped(), 4U);
}

TEST(TracerTest, AFailingExportCountsItsSpansAsDropped) {
    Tracer tracer(Options(1, -1), [](const std::vector<const Trace*>&) {
        return Status::Unavailable("connection refused");
    });
    EXPECT_TRUE(tracer.Finish(tracer.StartTrace("r", nullptr)));
    ASSERT_TRUE(tracer.Flush(std::chrono::milliseconds(5000)));
    EXPECT_EQ(tracer.spans_dropped(), 1U);
    EXPECT_EQ(tracer.spans_exported(), 0U);
}

TEST(TracerTest, SpanLimitIsBounded) {
    Tracer tracer(Options(0, -1), nullptr);
    auto trace = tracer.StartTrace("r", nullptr);
    for (std::size_t idx = 0; idx < Trace::kMaxSpans + 10; ++idx) {
        trace->EndSpan(trace->StartSpan("s", Trace::kRoot));
    }
    EXPECT_EQ(trace->size(), Trace::kMaxSpans);
}

TEST(TracerTest, SetParentMovesASpanUnderOneRecordedLater) {
    Tracer tracer(Options(0, -1), nullptr);
    auto trace = tracer.StartTrace("r", nullptr);
    const Trace::SpanIndex commit = trace->AddSpan("db.commit", Trace::kRoot, 10, 20);
    const Trace::SpanIndex phase = trace->AddSpan("wal_sync", commit, 12, 18);
    const Trace::SpanIndex stage = trace->AddSpan("execute", Trace::kRoot, 5, 25);
    trace->SetParent(commit, stage);
    EXPECT_EQ(trace->parent(commit), stage);
    EXPECT_EQ(trace->parent(phase), commit);  // its subtree moves with it
    // The root, a span onto itself and indexes not in use are left alone.
    trace->SetParent(Trace::kRoot, stage);
    trace->SetParent(stage, stage);
    trace->SetParent(phase, 99);
    trace->SetParent(99, stage);
    EXPECT_EQ(trace->parent(Trace::kRoot), Trace::kRoot);
    EXPECT_EQ(trace->parent(stage), Trace::kRoot);
    EXPECT_EQ(trace->parent(phase), commit);
}

}  // namespace
}  // namespace phenix::trace
