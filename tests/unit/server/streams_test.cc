// SPDX-License-Identifier: Apache-2.0
#include "server/streams.h"

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace phenix::server {
namespace {

// A StopCheck that reports (once) that the waiting side is blocked, and then stops the wait with
// `stop_with` once `stop` is set. Being called at all means the caller found no room / no data.
struct BlockedProbe {
    std::promise<void> blocked;
    std::atomic<bool> reported{false};
    std::atomic<bool> stop{false};
    Status stop_with = Status(StatusCode::kDeadlineExceeded, "deadline");

    StopCheck Check() {
        return [this]() -> Status {
            if (!reported.exchange(true)) {
                blocked.set_value();
            }
            return stop.load() ? stop_with : Status::Ok();
        };
    }
};

TEST(ResponseStream, WriteBelowCapacityQueuesAndNotifiesTheConnection) {
    ResponseStream stream(16);
    int notified = 0;
    ResponseStream::Taken taken = stream.Take([&] { ++notified; });
    EXPECT_TRUE(taken.data.empty());
    EXPECT_FALSE(taken.is_finished);
    ASSERT_TRUE(stream.Write("abc", nullptr).ok());
    EXPECT_EQ(notified, 1);
    ASSERT_TRUE(stream.Write("def", nullptr).ok());
    EXPECT_EQ(notified, 1);  // the callback is kept for one notification only
    taken = stream.Take(nullptr);
    EXPECT_EQ(taken.data, "abcdef");
    EXPECT_FALSE(taken.is_finished);
    EXPECT_EQ(stream.bytes_written(), 6u);
}

TEST(ResponseStream, WriterBlocksAtCapacityUntilTheConnectionTakes) {
    ResponseStream stream(4);
    ASSERT_TRUE(stream.Write("1234", nullptr).ok());  // now full
    BlockedProbe probe;
    auto writer =
        std::async(std::launch::async, [&] { return stream.Write("5678", probe.Check()); });
    probe.blocked.get_future().wait();  // the writer found no room
    EXPECT_EQ(stream.Take(nullptr).data, "1234");
    ASSERT_TRUE(writer.get().ok());
    EXPECT_EQ(stream.Take(nullptr).data, "5678");
}

TEST(ResponseStream, AbortEndsABlockedWriteWithCancelled) {
    ResponseStream stream(2);
    ASSERT_TRUE(stream.Write("12", nullptr).ok());
    BlockedProbe probe;
    auto writer = std::async(std::launch::async, [&] { return stream.Write("3", probe.Check()); });
    probe.blocked.get_future().wait();
    stream.Abort();
    EXPECT_EQ(writer.get().code(), StatusCode::kCancelled);
    EXPECT_TRUE(stream.aborted());
    EXPECT_EQ(stream.Write("4", nullptr).code(), StatusCode::kCancelled);
    EXPECT_EQ(stream.WaitSent(nullptr).code(), StatusCode::kCancelled);
}

TEST(ResponseStream, StopCheckEndsABlockedWrite) {
    ResponseStream stream(2);
    ASSERT_TRUE(stream.Write("12", nullptr).ok());
    BlockedProbe probe;
    probe.stop = true;
    EXPECT_EQ(stream.Write("3", probe.Check()).code(), StatusCode::kDeadlineExceeded);
}

TEST(ResponseStream, FinishWritesPastCapacityAndEndsTheBody) {
    ResponseStream stream(2);
    ASSERT_TRUE(stream.Write("12", nullptr).ok());
    EXPECT_EQ(stream.Take(nullptr).data, "12");
    int notified = 0;
    EXPECT_TRUE(stream.Take([&] { ++notified; }).data.empty());  // keeps the callback
    stream.Finish("{\"error\":{}}\n");
    EXPECT_EQ(notified, 1);
    ResponseStream::Taken taken = stream.Take(nullptr);
    EXPECT_EQ(taken.data, "{\"error\":{}}\n");
    EXPECT_FALSE(taken.is_finished);  // data first, the end on the next Take
    EXPECT_TRUE(stream.Take(nullptr).is_finished);
    stream.MarkSent();
    EXPECT_TRUE(stream.WaitSent(nullptr).ok());
}

TEST(RequestBodyStream, ReadWaitsForBytesThenSeesTheEnd) {
    BlockedProbe probe;
    RequestBodyStream probed(1024, probe.Check());
    auto reader = std::async(std::launch::async, [&] {
        char buffer[8];
        Result<std::size_t> got = probed.Read(buffer, sizeof buffer);
        return got.ok() ? std::string(buffer, *got) : std::string("error");
    });
    probe.blocked.get_future().wait();  // nothing there yet
    probed.Put("hello");
    EXPECT_EQ(reader.get(), "hello");
    probed.Finish();
    char buffer[8];
    Result<std::size_t> got = probed.Read(buffer, sizeof buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0u);
    EXPECT_EQ(probed.bytes_received(), 5u);
    EXPECT_TRUE(probed.is_complete());
}

TEST(RequestBodyStream, ReadsInPiecesAndReportsAFailureAfterTheQueuedBytes) {
    RequestBodyStream body(1024, nullptr);
    body.Put("abcdef");
    body.Fail(Status::ResourceExhausted("larger than max_import_bytes"));
    char buffer[4];
    Result<std::size_t> got = body.Read(buffer, sizeof buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(buffer, *got), "abcd");
    got = body.Read(buffer, sizeof buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(buffer, *got), "ef");
    got = body.Read(buffer, sizeof buffer);
    EXPECT_EQ(got.status().code(), StatusCode::kResourceExhausted);
}

TEST(RequestBodyStream, FullBufferPausesTheConnectionUntilTheWorkerReads) {
    RequestBodyStream body(4, nullptr);
    EXPECT_TRUE(body.HasRoom(nullptr));
    body.Put("12345");
    int resumed = 0;
    EXPECT_FALSE(body.HasRoom([&] { ++resumed; }));
    char buffer[2];
    ASSERT_TRUE(body.Read(buffer, sizeof buffer).ok());  // 3 left: below capacity
    EXPECT_EQ(resumed, 1);
    EXPECT_TRUE(body.HasRoom(nullptr));
}

TEST(RequestBodyStream, StopCheckEndsARead) {
    BlockedProbe probe;
    probe.stop = true;
    RequestBodyStream body(4, probe.Check());
    char buffer[2];
    EXPECT_EQ(body.Read(buffer, sizeof buffer).status().code(), StatusCode::kDeadlineExceeded);
    EXPECT_TRUE(body.abandoned());
}

TEST(RequestBodyStream, AbandonResumesAPausedConnection) {
    RequestBodyStream body(2, nullptr);
    body.Put("123");
    int resumed = 0;
    EXPECT_FALSE(body.HasRoom([&] { ++resumed; }));
    body.Abandon();
    EXPECT_EQ(resumed, 1);
    EXPECT_TRUE(body.abandoned());
    EXPECT_TRUE(body.HasRoom(nullptr));
}

TEST(RequestStopCheck, ReportsCancellationThenTheDeadline) {
    RequestContext context;
    const StopCheck check = RequestStopCheck(context);
    EXPECT_TRUE(check().ok());
    context.cancelled->store(true);
    EXPECT_EQ(check().code(), StatusCode::kCancelled);
    RequestContext late;
    late.deadline = RequestContext::Clock::now() - std::chrono::milliseconds(1);
    EXPECT_EQ(RequestStopCheck(late)().code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace phenix::server
