// SPDX-License-Identifier: Apache-2.0
#include "client/remote_session.h"

#include <charconv>
#include <optional>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "client/query_stream.h"
#include "query/ast.h"
#include "query/parser.h"

namespace phenix::client {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kNdjson = "application/x-ndjson";

std::string Dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsSuccess(unsigned status) {
    return status >= 200 && status < 300;
}

}  // namespace

RemoteSession::RemoteSession(ServerUrl url)
    : http_(std::move(url)), tenant_(std::string(kDefaultTenant)) {}

RemoteSession::~RemoteSession() = default;

std::vector<HttpHeader> RemoteSession::SessionHeaders() const {
    std::vector<HttpHeader> headers;
    if (!transaction_id_.empty()) {
        headers.push_back({"Phenix-Transaction", transaction_id_});
    } else if (tenant_ != kDefaultTenant) {
        headers.push_back({"Phenix-Tenant", tenant_});
    }
    return headers;
}

Status RemoteSession::Ping() {
    unsigned status = 0;
    std::string body;
    PHENIX_RETURN_IF_ERROR(http_.Send(
        "GET", "/health", {}, {},
        [&](const HttpResponseHead& head) {
            status = head.status;
            return Status::Ok();
        },
        [&](std::string_view piece) {
            body.append(piece);
            return Status::Ok();
        }));
    if (status == 401) {
        return StatusFromErrorBody(body, status);
    }
    if (status != 200) {
        return Status::Unavailable("the server at " + http_.url().text + " answered GET /health " +
                                   "with HTTP " + std::to_string(status) +
                                   " (is this URL a phenixd server?)");
    }
    return Status::Ok();
}

Result<std::string> RemoteSession::PostJson(std::string_view target, std::string body) {
    unsigned status = 0;
    std::string answer;
    // The transaction routes name the transaction in their path (and refuse the header).
    std::vector<HttpHeader> headers;
    if (!in_transaction() && tenant_ != kDefaultTenant) {
        headers.push_back({"Phenix-Tenant", tenant_});
    }
    headers.push_back({"Content-Type", "application/json"});
    PHENIX_RETURN_IF_ERROR(http_.Send(
        "POST", target, headers, std::move(body),
        [&](const HttpResponseHead& head) {
            status = head.status;
            return Status::Ok();
        },
        [&](std::string_view piece) {
            answer.append(piece);
            return Status::Ok();
        }));
    if (!IsSuccess(status)) {
        return StatusFromErrorBody(answer, status);
    }
    return answer;
}

Result<QueryResult> RemoteSession::Execute(std::string_view statement, RowSink& sink) {
    // Only transaction control runs here; everything else (a statement that does not parse
    // too: the server reports its error) goes to /v1/query.
    if (auto parsed = query::ParseStatement(statement);
        parsed.ok() && parsed->explain == query::ExplainMode::kNone) {
        if (const auto* txn = std::get_if<query::TxnStmt>(&parsed->body); txn != nullptr) {
            switch (txn->action) {
                case query::TxnAction::kBegin: {
                    std::optional<std::uint64_t> as_of;
                    if (txn->as_of.has_value()) {
                        const std::string text = query::ToString(*txn->as_of);
                        std::uint64_t value = 0;
                        const auto [end, error] =
                            std::from_chars(text.data(), text.data() + text.size(), value);
                        if (error != std::errc() || end != text.data() + text.size()) {
                            return Status::InvalidArgument(
                                "AS OF takes a commit timestamp (SHOW TIMESTAMP prints the "
                                "current one), not " +
                                text);
                        }
                        as_of = value;
                    }
                    return Begin(txn->read_only, as_of);
                }
                case query::TxnAction::kCommit:
                    return Finish(/*commit=*/true);
                case query::TxnAction::kRollback:
                    return Finish(/*commit=*/false);
            }
        }
    }
    PHENIX_ASSIGN_OR_RETURN(QueryResult result, RunQuery(statement, sink));
    constexpr std::string_view kUseTenant = "USE TENANT ";
    if (!result.has_rows && result.message.starts_with(kUseTenant)) {
        tenant_ = result.message.substr(kUseTenant.size());
    }
    return result;
}

Result<QueryResult> RemoteSession::RunQuery(std::string_view statement, RowSink& sink) {
    std::vector<HttpHeader> headers = SessionHeaders();
    headers.push_back({"Content-Type", "application/json"});
    headers.push_back({"Accept", std::string(kNdjson) + ", application/json"});
    unsigned status = 0;
    bool is_streamed = false;
    std::string body;  // a plain JSON answer, or an error
    NdjsonDecoder decoder(sink);
    decoder.set_progress(progress_);
    // An older server ignores the query parameter (and sends no progress lines).
    Status sent = http_.Send(
        "POST", progress_ ? "/v1/query?progress=true" : "/v1/query", headers,
        Dump(Json{{"query", std::string(statement)}}),
        [&](const HttpResponseHead& head) {
            status = head.status;
            is_streamed = IsSuccess(status) && head.content_type.starts_with(kNdjson);
            return Status::Ok();
        },
        [&](std::string_view piece) -> Status {
            if (is_streamed) {
                return decoder.Feed(piece);
            }
            body.append(piece);
            return Status::Ok();
        });
    if (!sent.ok()) {
        // A transaction the server no longer knows is gone for this shell too.
        return sent;
    }
    if (!IsSuccess(status)) {
        Status error = StatusFromErrorBody(body, status);
        if (error.code() == StatusCode::kNotFound && in_transaction() &&
            error.message().starts_with("transaction '")) {
            ForgetTransaction();
            return Status::Aborted(
                "the server no longer has this shell's transaction (it was idle longer than "
                "phenixd's transaction_idle_timeout_ms, or the server restarted): it was rolled "
                "back; run it again from BEGIN");
        }
        return error;
    }
    if (is_streamed) {
        return decoder.Finish();
    }
    return DecodeJsonAnswer(body, sink);
}

Result<QueryResult> RemoteSession::Begin(bool read_only, std::optional<std::uint64_t> as_of) {
    if (in_transaction()) {
        return Status::FailedPrecondition(
            "a transaction is already open; COMMIT or ROLLBACK it first");
    }
    Json request = Json::object();
    request["read_only"] = read_only;
    if (as_of.has_value()) {
        request["as_of"] = *as_of;
    }
    PHENIX_ASSIGN_OR_RETURN(std::string answer, PostJson("/v1/transactions", Dump(request)));
    const Json json = Json::parse(answer, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("id") || !json["id"].is_string()) {
        return Status::Internal("POST /v1/transactions answered without an id: " + answer);
    }
    transaction_id_ = json["id"].get<std::string>();
    transaction_read_only_ = read_only;
    transaction_snapshot_ = json.contains("snapshot") && json["snapshot"].is_number_unsigned()
                                ? json["snapshot"].get<std::uint64_t>()
                                : 0;
    QueryResult result{.message = "BEGIN"};
    if (read_only) {
        result.message += " READ ONLY";
        if (transaction_snapshot_ != 0) {
            result.message += " (snapshot " + std::to_string(transaction_snapshot_) + ")";
        }
    }
    return result;
}

Result<QueryResult> RemoteSession::Finish(bool commit) {
    if (!in_transaction()) {
        return Status::FailedPrecondition("no transaction is open (BEGIN starts one)");
    }
    const std::string target =
        "/v1/transactions/" + transaction_id_ + (commit ? "/commit" : "/rollback");
    // The server forgets the transaction whatever the outcome (a conflict rolls it back); so
    // does the shell, as the embedded session does.
    Result<std::string> answer = PostJson(target, "{}");
    ForgetTransaction();
    if (!answer.ok()) {
        if (answer.status().code() == StatusCode::kNotFound) {
            return Status::Aborted(
                "the server no longer had this shell's transaction (it was idle longer than "
                "phenixd's transaction_idle_timeout_ms, or the server restarted): it was rolled "
                "back" +
                std::string(commit ? "; run it again from BEGIN" : ""));
        }
        return answer.status();
    }
    if (!commit) {
        return QueryResult{.message = "ROLLBACK"};
    }
    const Json json = Json::parse(*answer, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("timestamp") || !json["timestamp"].is_number()) {
        return Status::Internal("the commit answered without a timestamp: " + *answer);
    }
    return QueryResult{.message =
                           "COMMIT " + std::to_string(json["timestamp"].get<std::uint64_t>())};
}

Status RemoteSession::Rollback() {
    PHENIX_ASSIGN_OR_RETURN(QueryResult ignored, Finish(/*commit=*/false));
    (void)ignored;
    return Status::Ok();
}

void RemoteSession::ForgetTransaction() {
    transaction_id_.clear();
    transaction_read_only_ = false;
    transaction_snapshot_ = 0;
}

}  // namespace phenix::client
