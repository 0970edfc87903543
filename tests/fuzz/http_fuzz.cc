// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for phenixd's HTTP request path: the input is the raw bytes of one request
// (request line, headers, chunked or sized bodies, JSON bodies). It is parsed exactly as a
// connection parses it (server::ParseRequest: Beast's parser under the server's limits, then the
// target, query string, Phenix-* headers), routed, and run through the real handlers against a
// live temporary database (collection "docs" with vectors, metadata and an index). Every input
// must end in a response with a JSON error body or a success; never a 500 (an Internal error is a
// bug), a crash, an exception or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "server/api.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/transactions.h"

namespace {

using phenix::server::HttpResponse;

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
    std::fprintf(stderr, "http_fuzz: %s\ninput: %.*s\n", what.c_str(),
                 static_cast<int>(input.size()), input.data());
    std::abort();
}

class Fixture {
  public:
    Fixture() {
        std::error_code ec;
        dir_ = std::filesystem::temp_directory_path(ec) /
               ("phenix-http-fuzz-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_, ec);
        auto db = phenix::Database::Open((dir_ / "data").string());
        if (!db.ok()) {
            std::fprintf(stderr, "http_fuzz: %s\n", db.status().ToString().c_str());
            std::abort();
        }
        db_ = std::move(db).value();
        config_.max_body_bytes = 64 * 1024;
        state_.db.store(db_.get());
        state_.state.store(phenix::server::ServingState::kReady);
        state_.copy_directory = (dir_ / "copy").string();
        state_.transactions = &transactions_;
        state_.metrics = &metrics_;
        phenix::server::RegisterRoutes(router_, state_);
    }
    ~Fixture() {
        transactions_.RollbackAll();
        db_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void EnsureCollection() {
        if (db_->GetCollection("docs").ok()) {
            return;
        }
        phenix::QuerySession session(*db_);
        for (std::string_view statement :
             {"CREATE COLLECTION docs (DIMENSION 4, METRIC cosine)",
              "CREATE INDEX ON docs (metadata.year)",
              "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0.1, 0.2, 0.3, 0.4], "
              "{\"year\": 2021}), ('d2', [0.5, 0.6, 0.7, 0.8], {\"year\": 2019})"}) {
            (void)session.Execute(statement);
        }
    }

    void Run(std::string_view input) {
        EnsureCollection();
        phenix::server::ParsedRequest parsed = phenix::server::ParseRequest(input, config_);
        HttpResponse response;
        if (parsed.early_response) {
            response = *parsed.early_response;
        } else {
            const phenix::server::RouteMatch match =
                router_.Match(parsed.request->method, parsed.request->path);
            if (match.route == nullptr) {
                return;
            }
            response = match.route->handler(*parsed.request, match.params, *parsed.context);
            if (response.stream_body) {
                response = RunStream(std::move(response), input);
            }
        }
        transactions_.RollbackAll();
        if (response.status < 200 || response.status > 599 || response.status == 500) {
            Fail("status " + std::to_string(response.status) + ": " + response.body, input);
        }
        if (response.content_type == "application/json") {
            const auto json = nlohmann::json::parse(response.body, nullptr, false);
            if (json.is_discarded()) {
                Fail("the response body is not JSON: " + response.body, input);
            }
            if (response.status >= 400 && !json.contains("error")) {
                Fail("an error without the error shape: " + response.body, input);
            }
        }
    }

  private:
    // Collects a streamed body (Accept: application/x-ndjson) as the connection would send it.
    class CollectingWriter final : public phenix::server::ChunkWriter {
      public:
        phenix::Status Write(std::string_view bytes) override {
            started_ = true;
            body += bytes;
            return phenix::Status::Ok();
        }
        void Finish(std::string_view bytes) override {
            started_ = true;
            body += bytes;
        }
        void Reject(HttpResponse response) override {
            if (!started_) {
                rejected = std::move(response);
            }
        }
        [[nodiscard]] bool started() const override { return started_; }
        std::string body;
        std::optional<HttpResponse> rejected;

      private:
        bool started_ = false;
    };

    // Runs a streamed response; each line must be JSON and the last one "done" or "error".
    static HttpResponse RunStream(HttpResponse head, std::string_view input) {
        CollectingWriter writer;
        head.stream_body(writer);
        if (!writer.started()) {
            return writer.rejected.has_value() ? std::move(*writer.rejected) : HttpResponse{};
        }
        std::string_view rest = writer.body;
        nlohmann::json last;
        while (!rest.empty()) {
            const std::size_t end = rest.find('\n');
            if (end == std::string_view::npos) {
                Fail("a streamed line without its newline: " + writer.body, input);
            }
            last = nlohmann::json::parse(rest.substr(0, end), nullptr, false);
            if (last.is_discarded()) {
                Fail("a streamed line is not JSON: " + writer.body, input);
            }
            rest.remove_prefix(end + 1);
        }
        if (!last.is_object() || (!last.contains("done") && !last.contains("error"))) {
            Fail("a stream without its done or error line: " + writer.body, input);
        }
        HttpResponse response;
        response.content_type = head.content_type;
        response.status = head.status;
        response.body = std::move(writer.body);
        return response;
    }

    std::filesystem::path dir_;
    std::unique_ptr<phenix::Database> db_;
    phenix::server::ServerConfig config_;
    phenix::server::TransactionRegistry transactions_{std::chrono::milliseconds(60'000)};
    phenix::server::Metrics metrics_;
    phenix::server::ApiState state_;
    phenix::server::Router router_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture fixture;
    fixture.Run(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
