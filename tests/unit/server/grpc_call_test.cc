// SPDX-License-Identifier: Apache-2.0
//
// GrpcService's calls over an in-process channel (no port): admission, the database-not-open
// answer, the transaction metadata rule, Query's message sequence and UpsertStream's
// per-message commits, with a real WorkerPool and database.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/grpc_service.h"
#include "server/metrics.h"
#include "server/transactions.h"
#include "server/worker_pool.h"
#include "testing/db_fixture.h"

namespace phenix::server {
namespace {

namespace pb = phenix::v1;

class GrpcCallTest : public testing::DbTest {
  protected:
    void SetUp() override {
        testing::DbTest::SetUp();
        api_.db.store(db_.get());
        api_.state.store(ServingState::kReady);
        api_.transactions = &transactions_;
        api_.metrics = &metrics_;
    }

    void TearDown() override {
        if (server_ != nullptr) {
            server_->Shutdown();
        }
        workers_.Stop();
        transactions_.RollbackAll();
    }

    void Serve(bool admit = true) {
        service_ = std::make_unique<GrpcService>(GrpcBackend{
            .api = &api_,
            .submit = [this, admit](std::shared_ptr<RequestContext>, std::function<void()> task) {
                return admit && workers_.TrySubmit(std::move(task));
            }});
        grpc::ServerBuilder builder;
        builder.RegisterService(service_.get());
        server_ = builder.BuildAndStart();
        ASSERT_NE(server_, nullptr);
        stub_ = pb::Phenix::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
    }

    std::vector<pb::QueryResponse> Query(const std::string& text, grpc::Status& status,
                                         const std::string& transaction = "") {
        grpc::ClientContext context;
        if (!transaction.empty()) {
            context.AddMetadata("phenix-transaction", transaction);
        }
        pb::QueryRequest request;
        request.set_query(text);
        auto reader = stub_->Query(&context, request);
        std::vector<pb::QueryResponse> out;
        pb::QueryResponse message;
        while (reader->Read(&message)) {
            out.push_back(message);
        }
        status = reader->Finish();
        return out;
    }

    ApiState api_;
    TransactionRegistry transactions_{std::chrono::milliseconds(60'000)};
    Metrics metrics_;
    WorkerPool workers_{2, 8};
    std::unique_ptr<GrpcService> service_;
    std::unique_ptr<grpc::Server> server_;
    std::unique_ptr<pb::Phenix::Stub> stub_;
};

TEST_F(GrpcCallTest, RefusedAdmissionIsUnavailable) {
    Serve(/*admit=*/false);
    grpc::ClientContext context;
    pb::GetCollectionRequest request;
    request.set_name("docs");
    pb::Collection response;
    const grpc::Status status = stub_->GetCollection(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(status.error_message().find("queue_capacity"), std::string::npos)
        << status.error_message();
    // Health needs no worker.
    grpc::ClientContext health_context;
    pb::HealthResponse health;
    ASSERT_TRUE(stub_->Health(&health_context, pb::HealthRequest(), &health).ok());
    EXPECT_EQ(health.status(), "ready");
}

TEST_F(GrpcCallTest, UnopenedDatabaseIsUnavailableAndTransactionMetadataIsChecked) {
    Serve();
    grpc::ClientContext with_txn;
    with_txn.AddMetadata("phenix-transaction", std::string(32, '0'));
    pb::GetCollectionRequest request;
    request.set_name("docs");
    pb::Collection response;
    grpc::Status status = stub_->GetCollection(&with_txn, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    api_.db.store(nullptr);
    grpc::ClientContext context;
    status = stub_->GetCollection(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(status.error_message().find("opening"), std::string::npos);
}

TEST_F(GrpcCallTest, QueryStreamsHeaderRowsEndAndDone) {
    Serve();
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("b")));
    grpc::Status status;
    auto messages = Query("SELECT id FROM docs ORDER BY id; BEGIN; ROLLBACK", status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> kinds;
    std::vector<std::string> ids;
    for (const pb::QueryResponse& message : messages) {
        switch (message.kind_case()) {
            case pb::QueryResponse::kHeader:
                kinds.emplace_back("header");
                break;
            case pb::QueryResponse::kRows:
                kinds.emplace_back("rows");
                for (const pb::Row& row : message.rows().rows()) {
                    ids.push_back(row.values(0).string_value());
                }
                break;
            case pb::QueryResponse::kEnd:
                kinds.emplace_back(message.end().has_rows() ? "end" : message.end().message());
                break;
            case pb::QueryResponse::kDone:
                kinds.push_back("done " + std::to_string(message.done().statements()));
                break;
            case pb::QueryResponse::kProgress:  // only when the request asks for it
                kinds.emplace_back("progress");
                break;
            case pb::QueryResponse::KIND_NOT_SET:
                kinds.emplace_back("?");
                break;
        }
    }
    EXPECT_EQ(kinds,
              (std::vector<std::string>{"header", "rows", "end", "BEGIN", "ROLLBACK", "done 3"}));
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
}

TEST_F(GrpcCallTest, QueryErrorNamesItsStatementAndSharesTheTransactionRegistry) {
    Serve();
    grpc::Status status;
    grpc::ClientContext context;
    pb::QueryRequest request;
    request.set_query("SHOW COLLECTIONS; SELEC 1");
    auto reader = stub_->Query(&context, request);
    pb::QueryResponse message;
    int num_messages = 0;
    while (reader->Read(&message)) {
        ++num_messages;
    }
    status = reader->Finish();
    EXPECT_GT(num_messages, 0);  // statement 0's results came before the error
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    const auto& trailers = context.GetServerTrailingMetadata();
    auto statement = trailers.find("phenix-statement");
    ASSERT_NE(statement, trailers.end());
    EXPECT_EQ(std::string(statement->second.data(), statement->second.size()), "1");

    // A transaction begun in the registry (as REST does) is usable over gRPC.
    auto txn = transactions_.Begin(*db_, {}, "");
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    Query("INSERT INTO docs (id, vector) VALUES ('t', [0.1, 0.2, 0.3, 0.4])", status, *txn);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(db_->Get("docs", "t").status().IsNotFound());
    ASSERT_TRUE(transactions_.Commit(*txn).ok());
    EXPECT_TRUE(db_->Get("docs", "t").ok());
}

TEST_F(GrpcCallTest, UpsertStreamCommitsEachMessageAsItArrives) {
    Serve();
    grpc::ClientContext context;
    pb::UpsertResponse response;
    auto writer = stub_->UpsertStream(&context, &response);
    pb::UpsertRequest good;
    good.set_collection("docs");
    pb::Entity* entity = good.add_entities();
    entity->set_id("s1");
    for (float value : {0.1f, 0.2f, 0.3f, 0.4f}) {
        entity->add_vector(value);
    }
    ASSERT_TRUE(writer->Write(good));
    pb::UpsertRequest bad = good;
    bad.mutable_entities(0)->set_id("s2");
    bad.mutable_entities(0)->mutable_vector()->Truncate(2);  // wrong dimension
    writer->Write(bad);  // may fail once the server has finished the call
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("1 messages with 1 entities were committed"),
              std::string::npos)
        << status.error_message();
    EXPECT_TRUE(db_->Get("docs", "s1").ok());
    EXPECT_TRUE(db_->Get("docs", "s2").status().IsNotFound());
}

}  // namespace
}  // namespace phenix::server
