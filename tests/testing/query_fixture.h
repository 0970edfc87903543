// SPDX-License-Identifier: Apache-2.0
//
// QueryTest — a GoogleTest fixture with a fresh database in a temporary directory (no
// collections) and a QuerySession on it, with helpers to run statements that must succeed or
// must fail. The PhenixQL tests that need their own data start from it.
#pragma once

#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "testing/temp_dir.h"

namespace phenix::testing {

class QueryTest : public ::testing::Test {
  protected:
    void SetUp() override { Open(); }

    // (Re)opens the database in the same directory, with a new session.
    void Open(const Options& options = {}) {
        session_.reset();
        db_.reset();
        auto db = Database::Open(dir_.Sub("data"), options);
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
        session_ = std::make_unique<QuerySession>(*db_);
    }

    // Runs a statement that must succeed. (Failures quote at most 200 bytes of the statement:
    // the limit tests run megabytes of it.)
    QueryResult Run(std::string_view sql, const QueryParams& params = {}) {
        Result<QueryResult> result = session_->Execute(sql, params);
        EXPECT_TRUE(result.ok()) << sql.substr(0, 200) << "\n" << result.status().ToString();
        return result.ok() ? std::move(result).value() : QueryResult{};
    }

    // Runs a statement that must fail and returns its status.
    Status Fail(std::string_view sql, const QueryParams& params = {}) {
        Result<QueryResult> result = session_->Execute(sql, params);
        EXPECT_FALSE(result.ok()) << sql.substr(0, 200) << " succeeded: " << result->message;
        return result.ok() ? Status::Internal("the statement succeeded") : result.status();
    }

    TempDir dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<QuerySession> session_;  // destroyed before db_
};

}  // namespace phenix::testing
