// SPDX-License-Identifier: Apache-2.0
#include "trace/trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>

#include "common/json_string.h"

namespace phenix::trace {
namespace {

constexpr char kHex[] = "0123456789abcdef";

template <std::size_t N>
char* WriteHex(const std::array<std::uint8_t, N>& bytes, char* out) {
    for (const std::uint8_t byte : bytes) {
        *out++ = kHex[byte >> 4];
        *out++ = kHex[byte & 0xF];
    }
    return out;
}

template <std::size_t N>
std::string ToHexBytes(const std::array<std::uint8_t, N>& bytes) {
    std::string out(2 * N, '0');
    WriteHex(bytes, out.data());
    return out;
}

// Lowercase hex only (W3C Trace Context: "HEXDIGLC").
int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

template <std::size_t N>
bool ParseHexBytes(std::string_view text, std::array<std::uint8_t, N>* out) {
    if (text.size() != 2 * N) {
        return false;
    }
    for (std::size_t idx = 0; idx < N; ++idx) {
        const int high = HexValue(text[2 * idx]);
        const int low = HexValue(text[2 * idx + 1]);
        if (high < 0 || low < 0) {
            return false;
        }
        (*out)[idx] = static_cast<std::uint8_t>((high << 4) | low);
    }
    return true;
}

template <std::size_t N>
bool AllZero(const std::array<std::uint8_t, N>& bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; });
}

// splitmix64 per thread, seeded once from the system's entropy.
std::uint64_t NextRandom() {
    thread_local std::uint64_t state = [] {
        std::random_device device;
        return (std::uint64_t{device()} << 32) ^ device();
    }();
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

template <std::size_t N>
void FillRandom(std::array<std::uint8_t, N>* bytes) {
    do {
        for (std::size_t idx = 0; idx < N; idx += 8) {
            std::uint64_t value = NextRandom();
            for (std::size_t byte = 0; byte < 8 && idx + byte < N; ++byte) {
                (*bytes)[idx + byte] = static_cast<std::uint8_t>(value & 0xFF);
                value >>= 8;
            }
        }
    } while (AllZero(*bytes));
}

}  // namespace

std::int64_t NowUnixNanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool TraceId::IsValid() const {
    return !AllZero(bytes);
}
std::string TraceId::ToHex() const {
    return ToHexBytes(bytes);
}
bool SpanId::IsValid() const {
    return !AllZero(bytes);
}
std::string SpanId::ToHex() const {
    return ToHexBytes(bytes);
}

TraceId NewTraceId() {
    TraceId id;
    FillRandom(&id.bytes);
    return id;
}

SpanId NewSpanId() {
    SpanId id;
    FillRandom(&id.bytes);
    return id;
}

Result<SpanContext> ParseTraceparent(std::string_view header) {
    // version "-" trace-id "-" parent-id "-" trace-flags
    constexpr std::size_t kLength = 55;
    if (header.size() < kLength) {
        return Status::InvalidArgument(
            "traceparent is too short (want 00-<32 hex>-<16 hex>-<2 hex>)");
    }
    std::array<std::uint8_t, 1> version{};
    if (!ParseHexBytes(header.substr(0, 2), &version) || version[0] == 0xFF) {
        return Status::InvalidArgument("traceparent has an invalid version");
    }
    if (version[0] == 0 ? header.size() != kLength
                        : header.size() > kLength && header[kLength] != '-') {
        return Status::InvalidArgument("traceparent has the wrong length for its version");
    }
    if (header[2] != '-' || header[35] != '-' || header[52] != '-') {
        return Status::InvalidArgument("traceparent's fields are not separated by '-'");
    }
    SpanContext context;
    if (!ParseHexBytes(header.substr(3, 32), &context.trace_id.bytes)) {
        return Status::InvalidArgument("traceparent's trace id is not 32 lowercase hex digits");
    }
    if (!ParseHexBytes(header.substr(36, 16), &context.span_id.bytes)) {
        return Status::InvalidArgument("traceparent's parent id is not 16 lowercase hex digits");
    }
    std::array<std::uint8_t, 1> flags{};
    if (!ParseHexBytes(header.substr(53, 2), &flags)) {
        return Status::InvalidArgument("traceparent's flags are not 2 lowercase hex digits");
    }
    if (!context.trace_id.IsValid()) {
        return Status::InvalidArgument("traceparent's trace id is all zero");
    }
    if (!context.span_id.IsValid()) {
        return Status::InvalidArgument("traceparent's parent id is all zero");
    }
    context.sampled = (flags[0] & 0x01) != 0;
    return context;
}

std::string FormatTraceparent(const TraceId& trace_id, const SpanId& span_id, bool sampled) {
    // "00-" 32 hex "-" 16 hex "-0" flag: 55 characters, written in place (once per response).
    std::string out(55, '-');
    out[0] = '0';
    out[1] = '0';
    char* next = WriteHex(trace_id.bytes, out.data() + 3);
    next = WriteHex(span_id.bytes, next + 1);
    next[1] = '0';
    next[2] = sampled ? '1' : '0';
    return out;
}

std::string SanitizeTracestate(std::string_view header) {
    if (header.size() > kMaxTracestateBytes) {
        return {};
    }
    for (const char c : header) {
        if (c < 0x20 || c > 0x7E) {
            return {};
        }
    }
    return std::string(header);
}

// ------------------------------------------------------------------------------------- Trace

SpanData* Trace::Slot(std::string_view name, SpanIndex parent, SpanIndex* index) {
    if (used_ >= kMaxSpans) {
        *index = kRoot;
        return nullptr;
    }
    if (used_ == spans_.size()) {
        spans_.emplace_back();
    }
    *index = static_cast<SpanIndex>(used_);
    SpanData& span = spans_[used_++];
    span.name.assign(name);
    span.span_id = NewSpanId();
    span.parent = parent < used_ ? parent : kRoot;
    span.kind = SpanKind::kInternal;
    span.start_unix_ns = 0;
    span.end_unix_ns = 0;
    span.status = SpanStatus::kUnset;
    span.status_message.clear();
    span.num_attributes = 0;
    span.events.clear();
    return &span;
}

Trace::SpanIndex Trace::StartSpan(std::string_view name, SpanIndex parent) {
    SpanIndex index = kRoot;
    if (SpanData* span = Slot(name, parent, &index); span != nullptr) {
        span->start_unix_ns = NowUnixNanos();
    }
    return index;
}

Trace::SpanIndex Trace::AddSpan(std::string_view name, SpanIndex parent, std::int64_t start_unix_ns,
                                std::int64_t end_unix_ns) {
    SpanIndex index = kRoot;
    if (SpanData* span = Slot(name, parent, &index); span != nullptr) {
        span->start_unix_ns = start_unix_ns;
        span->end_unix_ns = std::max(start_unix_ns, end_unix_ns);
    }
    return index;
}

void Trace::EndSpan(SpanIndex span) {
    if (span < used_ && spans_[span].end_unix_ns == 0) {
        spans_[span].end_unix_ns = NowUnixNanos();
    }
}

Attribute& Trace::NextAttribute(SpanIndex span, std::string_view key) {
    SpanData& data = spans_[span];
    if (data.num_attributes == data.attributes.size()) {
        data.attributes.emplace_back();
    }
    Attribute& attribute = data.attributes[data.num_attributes++];
    attribute.key.assign(key);
    return attribute;
}

void Trace::SetAttribute(SpanIndex span, std::string_view key, std::string_view value) {
    if (span >= used_) {
        return;
    }
    Attribute& attribute = NextAttribute(span, key);
    if (auto* text = std::get_if<std::string>(&attribute.value)) {
        text->assign(value);  // keeps the string's capacity
    } else {
        attribute.value = std::string(value);
    }
}

void Trace::SetAttribute(SpanIndex span, std::string_view key, std::int64_t value) {
    if (span < used_) {
        NextAttribute(span, key).value = value;
    }
}

void Trace::SetAttribute(SpanIndex span, std::string_view key, double value) {
    if (span < used_) {
        NextAttribute(span, key).value = value;
    }
}

void Trace::SetAttribute(SpanIndex span, std::string_view key, bool value) {
    if (span < used_) {
        NextAttribute(span, key).value = value;
    }
}

void Trace::AddEvent(SpanIndex span, std::string_view name) {
    if (span < used_ && spans_[span].events.size() < 32) {
        spans_[span].events.push_back({std::string(name), NowUnixNanos()});
    }
}

void Trace::SetError(SpanIndex span, std::string_view message) {
    if (span < used_) {
        spans_[span].status = SpanStatus::kError;
        spans_[span].status_message.assign(message.substr(0, 1024));
        has_error_ = true;
    }
}

void Trace::SetOk(SpanIndex span) {
    if (span < used_ && spans_[span].status == SpanStatus::kUnset) {
        spans_[span].status = SpanStatus::kOk;
    }
}

void Trace::SetName(SpanIndex span, std::string_view name) {
    if (span < used_) {
        spans_[span].name.assign(name);
    }
}

void Trace::SetParent(SpanIndex span, SpanIndex parent) {
    if (span != kRoot && span != parent && span < used_ && parent < used_) {
        spans_[span].parent = parent;
    }
}

std::string Trace::RootTraceparent() const {
    return FormatTraceparent(trace_id_, spans_[kRoot].span_id, sampled_);
}

void Trace::Reset() {
    used_ = 0;
    has_error_ = false;
    sampled_ = false;
    remote_parent_ = SpanId();
    tracestate_.clear();
}

// ------------------------------------------------------------------------------------ Tracer

void Tracer::TraceDeleter::operator()(Trace* trace) const {
    tracer->Release(trace);
}

Tracer::Tracer(TracerOptions options, ExportFn export_fn)
    : options_(std::move(options)), export_fn_(std::move(export_fn)) {
    thread_ = std::thread([this] { ExportLoop(); });
}

Tracer::~Tracer() {
    {
        MutexLock lock(mu_);
        stop_ = true;
        cv_.NotifyAll();
    }
    thread_.join();
}

bool Tracer::SampledByRatio(const TraceId& trace_id, double ratio) {
    if (!(ratio > 0)) {
        return false;
    }
    if (ratio >= 1) {
        return true;
    }
    std::uint64_t low = 0;
    for (std::size_t idx = 8; idx < 16; ++idx) {
        low = (low << 8) | trace_id.bytes[idx];
    }
    // ratio * 2^64, computed in long double so that small ratios keep their precision.
    const auto bound = static_cast<long double>(ratio) * 18446744073709551616.0L;
    return static_cast<long double>(low) < bound;
}

Tracer::TraceHandle Tracer::StartTrace(std::string_view name, const SpanContext* parent,
                                       std::int64_t start_unix_ns) {
    std::unique_ptr<Trace> trace;
    {
        MutexLock lock(pool_mu_);
        if (!pool_.empty()) {
            trace = std::move(pool_.back());
            pool_.pop_back();
        }
    }
    if (trace == nullptr) {
        trace = std::make_unique<Trace>();
        trace->spans_.reserve(16);
    }
    trace->Reset();
    if (parent != nullptr && parent->trace_id.IsValid()) {
        trace->trace_id_ = parent->trace_id;
        trace->remote_parent_ = parent->span_id;
        trace->sampled_ = parent->sampled;
        trace->tracestate_ = parent->tracestate;
    } else {
        trace->trace_id_ = NewTraceId();
        trace->sampled_ = SampledByRatio(trace->trace_id_, options_.sample_ratio);
    }
    Trace::SpanIndex root = Trace::kRoot;
    SpanData* span = trace->Slot(name, Trace::kRoot, &root);
    span->kind = SpanKind::kServer;
    span->start_unix_ns = start_unix_ns != 0 ? start_unix_ns : NowUnixNanos();
    return TraceHandle(trace.release(), TraceDeleter{this});
}

void Tracer::Release(Trace* trace) {
    std::unique_ptr<Trace> owned(trace);
    MutexLock lock(pool_mu_);
    if (pool_.size() < 256) {
        pool_.push_back(std::move(owned));
    }
}

bool Tracer::Finish(TraceHandle handle) {
    Trace& trace = *handle;
    trace.EndSpan(Trace::kRoot);
    const SpanData& root = trace.spans_[Trace::kRoot];
    const bool slow = options_.slow_threshold_ns >= 0 &&
                      root.end_unix_ns - root.start_unix_ns >= options_.slow_threshold_ns;
    if (!trace.sampled_ && !trace.has_error_ && !slow) {
        return false;  // the handle gives it back to the pool
    }
    // Spans still open when the request ended (a stream cut short) end with it.
    for (std::size_t idx = 0; idx < trace.used_; ++idx) {
        if (trace.spans_[idx].end_unix_ns == 0) {
            trace.spans_[idx].end_unix_ns = root.end_unix_ns;
        }
    }
    traces_kept_.fetch_add(1);
    const std::size_t spans = trace.used_;
    MutexLock lock(mu_);
    if (queued_spans_ + spans > options_.max_queue_spans || stop_) {
        spans_dropped_.fetch_add(spans);
        return true;
    }
    queue_.emplace_back(handle.release());
    queued_spans_ += spans;
    if (queued_spans_ >= options_.max_batch_spans) {
        cv_.NotifyAll();
    }
    return true;
}

bool Tracer::Flush(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock lock(mu_);
    flush_requested_ = true;
    cv_.NotifyAll();
    while (!queue_.empty() || exporting_) {
        if (!idle_cv_.WaitUntil(mu_, deadline)) {
            break;
        }
    }
    return queue_.empty() && !exporting_;
}

void Tracer::ExportLoop() {
    while (true) {
        std::vector<std::unique_ptr<Trace>> batch;
        std::size_t batch_spans = 0;
        bool stopping = false;
        {
            MutexLock lock(mu_);
            if (!stop_ && !flush_requested_ && queued_spans_ < options_.max_batch_spans) {
                cv_.WaitFor(mu_, options_.flush_interval);
            }
            flush_requested_ = false;
            stopping = stop_;
            while (!queue_.empty() && batch_spans < options_.max_batch_spans) {
                batch_spans += queue_.front()->used_;
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            queued_spans_ -= batch_spans;
            exporting_ = !batch.empty();
            flush_requested_ = flush_requested_ || !queue_.empty();  // more than one batch
            if (batch.empty()) {
                idle_cv_.NotifyAll();
                if (stopping) {
                    return;
                }
                continue;
            }
        }
        std::vector<const Trace*> view;
        view.reserve(batch.size());
        for (const auto& trace : batch) {
            view.push_back(trace.get());
        }
        const Status sent = export_fn_ ? export_fn_(view) : Status::Ok();
        (sent.ok() && export_fn_ ? spans_exported_ : spans_dropped_).fetch_add(batch_spans);
        for (auto& trace : batch) {
            Release(trace.release());
        }
        MutexLock lock(mu_);
        exporting_ = false;
        if (stopping && !sent.ok()) {
            // Shutting down with the endpoint failing: one try is enough, the rest is dropped.
            spans_dropped_.fetch_add(queued_spans_);
            queue_.clear();
            queued_spans_ = 0;
        }
        if (queue_.empty()) {
            idle_cv_.NotifyAll();
        }
    }
}

// ------------------------------------------------------------------------------- OTLP JSON

namespace {

void AppendAttribute(std::string& out, std::string_view key, const AttributeValue& value) {
    out += "{\"key\":";
    AppendJsonString(out, key);
    out += ",\"value\":{";
    if (const auto* text = std::get_if<std::string>(&value)) {
        out += "\"stringValue\":";
        AppendJsonString(out, *text);
    } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        // proto3 JSON: 64-bit integers are strings.
        out += "\"intValue\":\"" + std::to_string(*integer) + "\"";
    } else if (const auto* real = std::get_if<double>(&value)) {
        if (std::isfinite(*real)) {
            char number[32];
            std::snprintf(number, sizeof(number), "%.17g", *real);
            out += "\"doubleValue\":";
            out += number;
        } else {
            out += "\"doubleValue\":\"NaN\"";
        }
    } else {
        out += std::get<bool>(value) ? "\"boolValue\":true" : "\"boolValue\":false";
    }
    out += "}}";
}

}  // namespace

std::string OtlpJson(const std::vector<const Trace*>& batch, std::string_view service_name) {
    std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
    AppendAttribute(out, "service.name", std::string(service_name));
    out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"phenixd\"},\"spans\":[";
    bool first = true;
    for (const Trace* trace : batch) {
        const std::string trace_id = trace->trace_id().ToHex();
        for (std::size_t idx = 0; idx < trace->size(); ++idx) {
            const SpanData& span = trace->span(idx);
            out += first ? "{" : ",{";
            first = false;
            out += "\"traceId\":\"" + trace_id + "\",\"spanId\":\"" + span.span_id.ToHex() + "\"";
            if (idx == Trace::kRoot) {
                if (!trace->tracestate().empty()) {
                    out += ",\"traceState\":";
                    AppendJsonString(out, trace->tracestate());
                }
                if (trace->remote_parent().IsValid()) {
                    out += ",\"parentSpanId\":\"" + trace->remote_parent().ToHex() + "\"";
                }
            } else {
                out += ",\"parentSpanId\":\"" + trace->span(span.parent).span_id.ToHex() + "\"";
            }
            out += ",\"name\":";
            AppendJsonString(out, span.name);
            // SPAN_KIND_INTERNAL = 1, SPAN_KIND_SERVER = 2.
            out += span.kind == SpanKind::kServer ? ",\"kind\":2" : ",\"kind\":1";
            out += ",\"startTimeUnixNano\":\"" + std::to_string(span.start_unix_ns) +
                   "\",\"endTimeUnixNano\":\"" + std::to_string(span.end_unix_ns) + "\"";
            out += ",\"attributes\":[";
            for (std::size_t attr = 0; attr < span.num_attributes; ++attr) {
                if (attr > 0) {
                    out += ',';
                }
                AppendAttribute(out, span.attributes[attr].key, span.attributes[attr].value);
            }
            out += "]";
            if (!span.events.empty()) {
                out += ",\"events\":[";
                for (std::size_t event = 0; event < span.events.size(); ++event) {
                    out += event == 0 ? "{" : ",{";
                    out += "\"timeUnixNano\":\"" + std::to_string(span.events[event].time_unix_ns) +
                           "\",\"name\":";
                    AppendJsonString(out, span.events[event].name);
                    out += "}";
                }
                out += "]";
            }
            // STATUS_CODE_UNSET = 0, STATUS_CODE_OK = 1, STATUS_CODE_ERROR = 2.
            if (span.status != SpanStatus::kUnset) {
                out += ",\"status\":{";
                if (!span.status_message.empty()) {
                    out += "\"message\":";
                    AppendJsonString(out, span.status_message);
                    out += ',';
                }
                out += span.status == SpanStatus::kOk ? "\"code\":1}" : "\"code\":2}";
            }
            out += "}";
        }
    }
    out += "]}]}]}";
    return out;
}

}  // namespace phenix::trace
