// SPDX-License-Identifier: Apache-2.0
//
// A small tracer (docs/observability.md, docs/decisions/0021-tracing.md): W3C Trace Context ids
// and the `traceparent` header, spans recorded per request into a pooled `Trace`, head sampling
// by trace-id ratio (a parent's sampled flag honoured) and a tail decision when the root span
// ends (always keep errors and requests slower than a threshold), and a bounded export queue.
// opentelemetry-cpp is not packaged for Debian 12; this is what phenixd needs of it.
//
// Cost model: every request of a server with tracing on records its spans, because the tail
// decision is only known at the end. Recording writes into a Trace taken from the Tracer's pool:
// span slots, their name strings and attribute vectors keep their capacity across requests, so
// a request that is not kept allocates nothing once the pool is warm; a kept one moves its Trace
// to the export queue (the exporter gives it back to the pool).
//
// Thread safety: a Trace is confined to the request that records it (one thread at a time).
// Tracer is thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace phenix::trace {

/// Nanoseconds since the Unix epoch (the system clock), as OTLP wants span times.
std::int64_t NowUnixNanos();

struct TraceId {
    std::array<std::uint8_t, 16> bytes{};
    [[nodiscard]] bool IsValid() const;  ///< not all zero
    [[nodiscard]] std::string ToHex() const;
    friend bool operator==(const TraceId&, const TraceId&) = default;
};

struct SpanId {
    std::array<std::uint8_t, 8> bytes{};
    [[nodiscard]] bool IsValid() const;
    [[nodiscard]] std::string ToHex() const;
    friend bool operator==(const SpanId&, const SpanId&) = default;
};

/// Random, valid ids (a per-thread generator seeded from std::random_device).
TraceId NewTraceId();
SpanId NewSpanId();

/// What `traceparent` / `tracestate` carry.
struct SpanContext {
    TraceId trace_id;
    SpanId span_id;
    bool sampled = false;
    std::string tracestate;  ///< opaque, carried through
};

/// The longest tracestate carried through; a longer one is dropped (W3C: at least 512 may be
/// propagated).
inline constexpr std::size_t kMaxTracestateBytes = 512;

/// Parses a W3C `traceparent` ("00-<32 hex>-<16 hex>-<2 hex>"): lowercase hex only, version
/// "ff" refused, version 00 exactly 55 characters (a later version may append "-..."), trace and
/// parent ids not all zero. InvalidArgument naming what is wrong.
Result<SpanContext> ParseTraceparent(std::string_view header);
/// "00-<trace>-<span>-0<sampled>".
std::string FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled);
/// `tracestate` if it can be carried through (printable ASCII, at most kMaxTracestateBytes);
/// empty otherwise.
std::string SanitizeTracestate(std::string_view header);

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct Attribute {
    std::string key;
    AttributeValue value;
};

struct SpanEvent {
    std::string name;
    std::int64_t time_unix_ns = 0;
};

enum class SpanStatus { kUnset, kOk, kError };
enum class SpanKind { kInternal, kServer };

/// One span as recorded. Index 0 of a Trace is its root.
struct SpanData {
    std::string name;
    SpanId span_id;
    std::uint32_t parent = 0;  ///< the parent's index in the Trace; the root's is itself (0)
    SpanKind kind = SpanKind::kInternal;
    std::int64_t start_unix_ns = 0;
    std::int64_t end_unix_ns = 0;
    SpanStatus status = SpanStatus::kUnset;
    std::string status_message;
    std::vector<Attribute> attributes;  ///< [0, num_attributes) are this span's
    std::size_t num_attributes = 0;
    std::vector<SpanEvent> events;
};

class Tracer;

/// The spans of one request. Index 0 is the root span (the request).
class Trace {
  public:
    using SpanIndex = std::uint32_t;
    static constexpr SpanIndex kRoot = 0;
    /// The most spans one trace records; later StartSpan calls return kRoot (and count nothing).
    static constexpr std::size_t kMaxSpans = 512;

    /// Starts a child of `parent` now.
    SpanIndex StartSpan(std::string_view name, SpanIndex parent);
    /// Records a finished child of `parent`.
    SpanIndex AddSpan(std::string_view name, SpanIndex parent, std::int64_t start_unix_ns,
                      std::int64_t end_unix_ns);
    void EndSpan(SpanIndex span);
    void SetAttribute(SpanIndex span, std::string_view key, std::string_view value);
    void SetAttribute(SpanIndex span, std::string_view key, const char* value) {
        SetAttribute(span, key, std::string_view(value));
    }
    void SetAttribute(SpanIndex span, std::string_view key, std::int64_t value);
    void SetAttribute(SpanIndex span, std::string_view key, double value);
    void SetAttribute(SpanIndex span, std::string_view key, bool value);
    void AddEvent(SpanIndex span, std::string_view name);
    void SetError(SpanIndex span, std::string_view message);
    void SetOk(SpanIndex span);
    /// Renames a span (the root's name is known once the route matched).
    void SetName(SpanIndex span, std::string_view name);
    /// Moves `span` under `parent` (an enclosing span recorded after it, such as a stage
    /// reported when it ended). Ignored for the root, for itself, and for indexes not in use.
    void SetParent(SpanIndex span, SpanIndex parent);
    /// The parent's index of a span in use.
    [[nodiscard]] SpanIndex parent(SpanIndex span) const { return spans_[span].parent; }

    [[nodiscard]] const TraceId& trace_id() const { return trace_id_; }
    [[nodiscard]] const SpanId& span_id(SpanIndex span) const { return spans_[span].span_id; }
    /// The head sampling decision (ratio, or the parent's flag).
    [[nodiscard]] bool sampled() const { return sampled_; }
    /// Whether any span ended with an error.
    [[nodiscard]] bool has_error() const { return has_error_; }
    /// The parent span of the root, from the client's traceparent (invalid when none).
    [[nodiscard]] const SpanId& remote_parent() const { return remote_parent_; }
    [[nodiscard]] const std::string& tracestate() const { return tracestate_; }
    /// "00-<trace>-<root span>-<flags>": what a response carries.
    [[nodiscard]] std::string RootTraceparent() const;

    [[nodiscard]] std::size_t size() const { return used_; }
    [[nodiscard]] const SpanData& span(std::size_t index) const { return spans_[index]; }

  private:
    friend class Tracer;
    SpanData* Slot(std::string_view name, SpanIndex parent, SpanIndex* index);
    Attribute& NextAttribute(SpanIndex span, std::string_view key);
    void Reset();

    TraceId trace_id_;
    SpanId remote_parent_;
    std::string tracestate_;
    bool sampled_ = false;
    bool has_error_ = false;
    std::vector<SpanData> spans_;  // [0, used_) are this trace's; the rest keep their capacity
    std::size_t used_ = 0;
};

/// Where kept traces go (the OTLP/HTTP exporter in the server module). Called on the Tracer's
/// export thread with a batch; OK when delivered (a failed batch's spans count as dropped).
using ExportFn = std::function<Status(const std::vector<const Trace*>& batch)>;

struct TracerOptions {
    /// Head sampling: the share of traces kept when the client sends no sampled flag, 0..1.
    double sample_ratio = 0;
    /// Requests at least this slow are kept whatever the head decision (< 0: never).
    std::int64_t slow_threshold_ns = -1;
    /// Spans waiting for the exporter; a kept trace that does not fit is dropped (counted).
    std::size_t max_queue_spans = 8192;
    /// Export a batch at least this often, or as soon as this many spans wait.
    std::chrono::milliseconds flush_interval{1000};
    std::size_t max_batch_spans = 2048;
};

class Tracer {
  public:
    struct TraceDeleter {
        Tracer* tracer = nullptr;
        void operator()(Trace* trace) const;
    };
    /// A recording trace; going out of scope without Finish returns it to the pool unexported.
    using TraceHandle = std::unique_ptr<Trace, TraceDeleter>;

    /// `export_fn` null: kept traces are counted and dropped (tests use Drain instead).
    Tracer(TracerOptions options, ExportFn export_fn);
    ~Tracer();  // exports what is queued (one try), then stops the export thread
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    /// Starts a trace whose root span (`name`, kind server) starts now, or at `start_unix_ns`
    /// when not 0. `parent`: the client's context (its sampled flag decides the head sampling;
    /// its trace id is kept), or null.
    TraceHandle StartTrace(std::string_view name, const SpanContext* parent,
                           std::int64_t start_unix_ns = 0);
    /// Ends the root span and decides: kept when head-sampled, when a span has an error, or when
    /// the root lasted at least slow_threshold. A kept trace is queued for export (or dropped and
    /// counted when the queue is full). Returns whether it was kept.
    bool Finish(TraceHandle trace);

    /// The head decision for a trace id: its last 8 bytes, big-endian, below ratio * 2^64.
    [[nodiscard]] static bool SampledByRatio(const TraceId& trace_id, double ratio);

    [[nodiscard]] std::uint64_t spans_exported() const { return spans_exported_.load(); }
    [[nodiscard]] std::uint64_t spans_dropped() const { return spans_dropped_.load(); }
    [[nodiscard]] std::uint64_t traces_kept() const { return traces_kept_.load(); }
    [[nodiscard]] const TracerOptions& options() const { return options_; }

    /// Waits until the queue is empty and the export in progress finished, or `timeout`
    /// passed; true when empty. For tests and shutdown.
    bool Flush(std::chrono::milliseconds timeout);

  private:
    void Release(Trace* trace);
    void ExportLoop();

    const TracerOptions options_;
    const ExportFn export_fn_;
    std::atomic<std::uint64_t> spans_exported_{0};
    std::atomic<std::uint64_t> spans_dropped_{0};
    std::atomic<std::uint64_t> traces_kept_{0};

    Mutex pool_mu_;
    std::vector<std::unique_ptr<Trace>> pool_ GUARDED_BY(pool_mu_);

    Mutex mu_;
    CondVar cv_;       // the export thread waits here for work or stop
    CondVar idle_cv_;  // Flush waits here
    std::deque<std::unique_ptr<Trace>> queue_ GUARDED_BY(mu_);
    std::size_t queued_spans_ GUARDED_BY(mu_) = 0;
    bool exporting_ GUARDED_BY(mu_) = false;
    bool flush_requested_ GUARDED_BY(mu_) = false;  // Flush: export now, do not wait
    bool stop_ GUARDED_BY(mu_) = false;
    std::thread thread_;
};

/// The OTLP/JSON body (ExportTraceServiceRequest, opentelemetry-proto's JSON mapping: hex ids,
/// integer enums, camelCase names, 64-bit integers as strings) of `batch`, under one resource
/// with `service.name` = `service_name`.
std::string OtlpJson(const std::vector<const Trace*>& batch, std::string_view service_name);

}  // namespace phenix::trace
