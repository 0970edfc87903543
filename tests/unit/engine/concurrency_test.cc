// SPDX-License-Identifier: Apache-2.0
// Concurrent writers: racing inserts of one id admit exactly one winner; racing edge creation
// and target deletion never leave a dangling edge; counts stay exact.
#include <atomic>
#include <thread>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class Concurrency : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        Options relaxed;
        relaxed.durability = Durability::kRelaxed;  // fsync is not what these tests are about
        Reopen(relaxed);
    }
};

TEST_F(Concurrency, RacingInsertsOfOneIdHaveExactlyOneWinner) {
    constexpr int kThreads = 4;
    constexpr int kIds = 200;
    std::atomic<int> wins{0};
    std::atomic<int> already_exists{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int idx = 0; idx < kIds; ++idx) {
                Status s = db_->Insert(
                    "docs", Doc("id" + std::to_string(idx), {1, 1, 1, static_cast<float>(t + 1)}));
                if (s.ok()) {
                    ++wins;
                } else if (s.code() == StatusCode::kAlreadyExists) {
                    ++already_exists;
                } else {
                    ADD_FAILURE() << s.ToString();
                }
            }
        });
    }
    threads.clear();
    EXPECT_EQ(wins.load(), kIds);
    EXPECT_EQ(already_exists.load(), kIds * (kThreads - 1));
    EXPECT_EQ(Count(), static_cast<std::uint64_t>(kIds));
    EXPECT_EQ(Ids().size(), static_cast<std::size_t>(kIds));
}

TEST_F(Concurrency, EdgeCreationRacingTargetDeletionNeverDangles) {
    constexpr int kRounds = 150;
    for (int round = 0; round < kRounds; ++round) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("target" + std::to_string(round))));
    }
    std::jthread deleter([&] {
        for (int round = 0; round < kRounds; ++round) {
            db_->Delete("docs", "target" + std::to_string(round)).IgnoreError();
        }
    });
    std::jthread linker([&] {
        for (int round = 0; round < kRounds; ++round) {
            Status s = db_->Upsert("docs", Doc("src" + std::to_string(round), {1, 1, 1, 1}, "{}",
                                               {To("target" + std::to_string(round))}));
            EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s.ToString();
        }
    });
    deleter.join();
    linker.join();
    for (int round = 0; round < kRounds; ++round) {
        auto src = db_->Get("docs", "src" + std::to_string(round));
        if (!src.ok()) {
            continue;
        }
        EXPECT_TRUE(src->edges.empty()) << "src" << round << " keeps an edge to a deleted target";
    }
}

TEST_F(Concurrency, ReadersSeeWholeEntitiesWhileWritersReplaceThem) {
    // Each upsert writes metadata {"v":N} and vector [N,N,N,N]; a reader must never mix two
    // versions.
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("x", {1, 1, 1, 1}, R"({"v":1})")));
    std::atomic<bool> stop{false};
    std::jthread writer([&] {
        for (int v = 2; v < 300; ++v) {
            auto f = static_cast<float>(v);
            PHENIX_EXPECT_OK(
                db_->Upsert("docs", Doc("x", {f, f, f, f}, R"({"v":)" + std::to_string(v) + "}")));
        }
        stop = true;
    });
    int reads = 0;
    while (!stop || reads < 10) {
        auto got = db_->Get("docs", "x");
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        const std::string expected =
            R"({"v":)" + std::to_string(static_cast<int>(got->vector[0])) + "}";
        ASSERT_EQ(got->metadata, expected);
        ++reads;
    }
}

TEST_F(DbTest, ConcurrentDurableWritersAllPersist) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 25;
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int idx = 0; idx < kPerThread; ++idx) {
                PHENIX_EXPECT_OK(
                    db_->Insert("docs", Doc("t" + std::to_string(t) + "-" + std::to_string(idx))));
            }
        });
    }
    threads.clear();
    Reopen();
    EXPECT_EQ(Count(), static_cast<std::uint64_t>(kThreads * kPerThread));
    EXPECT_EQ(Ids().size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace phenix
