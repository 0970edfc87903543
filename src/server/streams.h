// SPDX-License-Identifier: Apache-2.0
//
// The bounded buffers between a connection (an event loop: never blocks) and the worker running
// its request (blocks):
//   ResponseStream     the worker writes a streamed response body, the connection sends it;
//   RequestBodyStream  the connection reads a streamed request body, the worker consumes it.
// Each holds at most about `capacity_bytes` queued (one Write or Put may go over by its own
// size); the worker side blocks on a condition variable, the connection side never blocks: when
// it finds nothing to do it leaves a callback that the worker calls (once, outside the lock) when
// there is. The worker's waits poll `should_stop` (the request's cancellation and deadline) every
// few milliseconds, so a forced shutdown or a deadline ends them even when the connection is idle.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <phenix/result.h>
#include <phenix/status.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "server/http_types.h"

namespace phenix::server {

/// Why a worker's wait should end: OK to go on waiting.
using StopCheck = std::function<Status()>;

/// The StopCheck of a request: Cancelled once it is cancelled, DeadlineExceeded once its deadline
/// passed.
StopCheck RequestStopCheck(const RequestContext& context);

class ResponseStream {
  public:
    explicit ResponseStream(std::size_t capacity_bytes);

    // ---- the worker
    /// Queues `bytes`; blocks while `capacity_bytes` or more are queued. Returns the connection's
    /// failure (Cancelled) once it failed, or `should_stop`'s.
    Status Write(std::string_view bytes, const StopCheck& should_stop);
    /// Queues `bytes` (may be empty) without waiting and marks the end of the body.
    void Finish(std::string_view bytes = {});
    /// Blocks until the connection sent the end of the body or failed, or `should_stop` says so.
    /// OK when it was all sent.
    Status WaitSent(const StopCheck& should_stop);

    // ---- the connection
    struct Taken {
        std::string data;          ///< what was queued (empty: nothing)
        bool is_finished = false;  ///< the end of the body: nothing more will come
    };
    /// Takes what is queued. When nothing is and the body is not finished, `on_ready` is kept and
    /// called once (from the worker, outside the lock) when there is something to take.
    Taken Take(std::function<void()> on_ready);
    /// The end of the body was sent.
    void MarkSent();
    /// The connection cannot send any more (the client went away): the worker's Write fails.
    void Abort();

    [[nodiscard]] std::uint64_t bytes_written() const;
    [[nodiscard]] bool aborted() const;

  private:
    // Immutable after construction.
    const std::size_t capacity_bytes_;

    mutable Mutex mu_;
    CondVar cv_;  // room again, sent, aborted
    std::string queued_ GUARDED_BY(mu_);
    std::function<void()> on_ready_ GUARDED_BY(mu_);
    std::uint64_t bytes_written_ GUARDED_BY(mu_) = 0;
    bool is_finished_ GUARDED_BY(mu_) = false;
    bool is_sent_ GUARDED_BY(mu_) = false;
    bool is_aborted_ GUARDED_BY(mu_) = false;
};

class RequestBodyStream final : public BodyReader {
  public:
    RequestBodyStream(std::size_t capacity_bytes, StopCheck should_stop);

    // ---- the worker (BodyReader)
    Result<std::size_t> Read(char* buffer, std::size_t size) override;
    [[nodiscard]] std::uint64_t bytes_received() const override;

    // ---- the connection
    /// Queues bytes read from the client.
    void Put(std::string_view bytes);
    /// Whether there is room for more. When there is not, `on_room` is kept and called once
    /// (from the worker, outside the lock) when the worker has taken enough.
    bool HasRoom(std::function<void()> on_room);
    /// The body was read whole.
    void Finish();
    /// The body cannot be read whole (too large, the client went away, a timeout).
    void Fail(Status status);
    /// Whether the worker stopped reading (Abandon): the connection should stop too.
    [[nodiscard]] bool abandoned() const;
    /// The worker is done with the body before its end (it answered early).
    void Abandon();
    [[nodiscard]] bool is_complete() const;

  private:
    // Immutable after construction.
    const std::size_t capacity_bytes_;
    const StopCheck should_stop_;

    mutable Mutex mu_;
    CondVar cv_;  // bytes arrived, the end, a failure
    std::string queued_ GUARDED_BY(mu_);
    std::size_t read_pos_ GUARDED_BY(mu_) = 0;  // the consumed prefix of queued_
    std::function<void()> on_room_ GUARDED_BY(mu_);
    std::uint64_t bytes_received_ GUARDED_BY(mu_) = 0;
    bool is_finished_ GUARDED_BY(mu_) = false;
    bool is_abandoned_ GUARDED_BY(mu_) = false;
    Status failure_ GUARDED_BY(mu_);
};

}  // namespace phenix::server
