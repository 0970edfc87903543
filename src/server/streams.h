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

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <phenix/result.h>
#include <phenix/status.h>

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
    void NotifyReady(std::unique_lock<std::mutex>& lock);

    const std::size_t capacity_bytes_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string queued_;               // guarded by mu_
    std::function<void()> on_ready_;   // guarded by mu_
    std::uint64_t bytes_written_ = 0;  // guarded by mu_
    bool is_finished_ = false;         // guarded by mu_
    bool is_sent_ = false;             // guarded by mu_
    bool is_aborted_ = false;          // guarded by mu_
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
    const std::size_t capacity_bytes_;
    const StopCheck should_stop_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string queued_;                // guarded by mu_
    std::size_t read_pos_ = 0;          // guarded by mu_: the consumed prefix of queued_
    std::function<void()> on_room_;     // guarded by mu_
    std::uint64_t bytes_received_ = 0;  // guarded by mu_
    bool is_finished_ = false;          // guarded by mu_
    bool is_abandoned_ = false;         // guarded by mu_
    Status failure_;                    // guarded by mu_
};

}  // namespace phenix::server
