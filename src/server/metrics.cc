// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "server/errors.h"

namespace phenix::server {
namespace {

// A label value in the exposition format: backslash, quote and newline escaped.
std::string LabelValue(std::string_view text) {
    std::string out;
    for (char ch : text) {
        if (ch == '\\' || ch == '"') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace

struct Metrics::Impl {
    prometheus::Registry registry;
    prometheus::Family<prometheus::Counter>& requests =
        prometheus::BuildCounter()
            .Name("phenix_http_requests_total")
            .Help("HTTP requests answered, by route, method and status")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& latency =
        prometheus::BuildHistogram()
            .Name("phenix_http_request_duration_seconds")
            .Help("HTTP request latency from the request read to the response ready, by route")
            .Register(registry);
    prometheus::Gauge& in_flight = prometheus::BuildGauge()
                                       .Name("phenix_http_requests_in_flight")
                                       .Help("requests queued for or running on a worker")
                                       .Register(registry)
                                       .Add({});
    prometheus::Family<prometheus::Counter>& rejected =
        prometheus::BuildCounter()
            .Name("phenix_http_rejected_total")
            .Help("requests and connections refused by admission control, by reason")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& transactions =
        prometheus::BuildCounter()
            .Name("phenix_transactions_total")
            .Help("interactive transactions ended over the wire, by outcome")
            .Register(registry);
    prometheus::TextSerializer serializer;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::RecordRequest(std::string_view method, std::string_view route, unsigned status,
                            double latency_seconds) {
    impl_->requests
        .Add({{"route", std::string(route)},
              {"method", std::string(method)},
              {"status", std::to_string(status)}})
        .Increment();
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    impl_->latency.Add({{"route", std::string(route)}}, kBuckets).Observe(latency_seconds);
}

void Metrics::AddInFlight(double delta) {
    impl_->in_flight.Increment(delta);
}

void Metrics::RecordRejected(std::string_view reason) {
    impl_->rejected.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::RecordTransaction(std::string_view outcome) {
    impl_->transactions.Add({{"outcome", std::string(outcome)}}).Increment();
}

std::string Metrics::Render(Database* db) {
    std::string out = impl_->serializer.Serialize(impl_->registry.Collect());
    if (db == nullptr) {
        return out;
    }
    auto collections = db->ListCollections();
    if (!collections.ok()) {
        return out;
    }
    std::string entities =
        "# HELP phenix_collection_entities live entities per collection\n"
        "# TYPE phenix_collection_entities gauge\n";
    std::string tail =
        "# HELP phenix_vector_index_tail_length committed changes the HNSW graph has not "
        "absorbed yet\n"
        "# TYPE phenix_vector_index_tail_length gauge\n";
    std::string nodes =
        "# HELP phenix_vector_index_nodes HNSW graph nodes\n"
        "# TYPE phenix_vector_index_nodes gauge\n";
    for (const CollectionInfo& info : *collections) {
        const std::string label = "{collection=\"" + LabelValue(info.spec.ref.name) + "\"} ";
        entities += "phenix_collection_entities" + label + std::to_string(info.num_entities) + "\n";
        if (info.spec.dimension.has_value()) {
            auto index = db->GetVectorIndexInfo(info.spec.ref);
            if (index.ok()) {
                tail += "phenix_vector_index_tail_length" + label +
                        std::to_string(index->unindexed_rows) + "\n";
                nodes += "phenix_vector_index_nodes" + label + std::to_string(index->nodes) + "\n";
            }
        }
    }
    return out + entities + tail + nodes;
}

}  // namespace phenix::server
