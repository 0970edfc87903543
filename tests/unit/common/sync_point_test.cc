// SPDX-License-Identifier: Apache-2.0
#include "common/sync_point.h"

#include <thread>

#include <gtest/gtest.h>

namespace phenix {
namespace {

class SyncPointsTest : public ::testing::Test {
  protected:
    void TearDown() override { SyncPoints::ClearAll(); }
};

TEST_F(SyncPointsTest, NoCallbackMeansNoEffect) {
    EXPECT_FALSE(SyncPoints::enabled());
    PHENIX_SYNC_POINT("SyncPointsTest:Nothing");
    EXPECT_EQ(SyncPoints::Hits("SyncPointsTest:Nothing"), 0);
}

TEST_F(SyncPointsTest, RunsTheCallbackOnTheThreadThatReachesThePoint) {
    std::thread::id ran_on;
    SyncPoints::Set("SyncPointsTest:A", [&] { ran_on = std::this_thread::get_id(); });
    std::thread worker([] { PHENIX_SYNC_POINT("SyncPointsTest:A"); });
    const std::thread::id worker_id = worker.get_id();
    worker.join();
    EXPECT_EQ(ran_on, worker_id);
    EXPECT_EQ(SyncPoints::Hits("SyncPointsTest:A"), 1);
    PHENIX_SYNC_POINT("SyncPointsTest:Other");  // another name: untouched
    EXPECT_EQ(SyncPoints::Hits("SyncPointsTest:A"), 1);
}

TEST_F(SyncPointsTest, ClearAllDisablesEveryPoint) {
    int calls = 0;
    SyncPoints::Set("SyncPointsTest:B", [&] { ++calls; });
    PHENIX_SYNC_POINT("SyncPointsTest:B");
    SyncPoints::ClearAll();
    EXPECT_FALSE(SyncPoints::enabled());
    PHENIX_SYNC_POINT("SyncPointsTest:B");
    EXPECT_EQ(calls, 1);
}

TEST_F(SyncPointsTest, ACallbackMayClearPoints) {
    int calls = 0;
    SyncPoints::Set("SyncPointsTest:C", [&] {
        ++calls;
        SyncPoints::ClearAll();
    });
    PHENIX_SYNC_POINT("SyncPointsTest:C");
    PHENIX_SYNC_POINT("SyncPointsTest:C");
    EXPECT_EQ(calls, 1);
}

TEST_F(SyncPointsTest, APointCanHandTheTestAnArgument) {
    SyncPoints::SetWithArg("SyncPointsTest:Arg", [](void* arg) { *static_cast<int*>(arg) = 7; });
    int value = 1;
    PHENIX_SYNC_POINT_ARG("SyncPointsTest:Arg", &value);
    EXPECT_EQ(value, 7);
}

}  // namespace
}  // namespace phenix
