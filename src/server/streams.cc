// SPDX-License-Identifier: Apache-2.0
#include "server/streams.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace phenix::server {
namespace {

// How often a blocked worker looks at its StopCheck (cancellation by a forced shutdown, and the
// deadline, arrive without a notification).
constexpr auto kPollInterval = std::chrono::milliseconds(20);

}  // namespace

StopCheck RequestStopCheck(const RequestContext& context) {
    return [cancelled = context.cancelled, deadline = context.deadline]() -> Status {
        if (cancelled->load()) {
            return Status(StatusCode::kCancelled,
                          "the request was cancelled (the client went "
                          "away, or the server is shutting down)");
        }
        if (RequestContext::Clock::now() >= deadline) {
            return Status(StatusCode::kDeadlineExceeded,
                          "the request deadline (Phenix-Timeout-Ms) passed");
        }
        return Status::Ok();
    };
}

// ---------------------------------------------------------------- ResponseStream

ResponseStream::ResponseStream(std::size_t capacity_bytes)
    : capacity_bytes_(std::max<std::size_t>(capacity_bytes, 1)) {}

Status ResponseStream::Write(std::string_view bytes, const StopCheck& should_stop) {
    std::function<void()> on_ready;
    for (;;) {
        {
            MutexLock lock(mu_);
            if (is_aborted_) {
                return Status(StatusCode::kCancelled, "the client went away");
            }
            if (queued_.size() < capacity_bytes_) {
                queued_.append(bytes);
                bytes_written_ += bytes.size();
                on_ready = std::move(on_ready_);
                on_ready_ = nullptr;
                break;
            }
        }
        if (should_stop) {
            if (Status stop = should_stop(); !stop.ok()) {
                return stop;
            }
        }
        MutexLock lock(mu_);
        if (!is_aborted_ && queued_.size() >= capacity_bytes_) {
            cv_.WaitFor(mu_, kPollInterval);
        }
    }
    if (on_ready) {
        on_ready();
    }
    return Status::Ok();
}

void ResponseStream::Finish(std::string_view bytes) {
    std::function<void()> on_ready;
    {
        MutexLock lock(mu_);
        if (!is_aborted_) {
            queued_.append(bytes);
            bytes_written_ += bytes.size();
        }
        is_finished_ = true;
        on_ready = std::move(on_ready_);
        on_ready_ = nullptr;
    }
    if (on_ready) {
        on_ready();
    }
}

Status ResponseStream::WaitSent(const StopCheck& should_stop) {
    for (;;) {
        {
            MutexLock lock(mu_);
            if (is_sent_) {
                return Status::Ok();
            }
            if (is_aborted_) {
                return Status(StatusCode::kCancelled, "the client went away");
            }
        }
        if (should_stop) {
            if (Status stop = should_stop(); !stop.ok()) {
                return stop;
            }
        }
        MutexLock lock(mu_);
        if (!is_sent_ && !is_aborted_) {
            cv_.WaitFor(mu_, kPollInterval);
        }
    }
}

ResponseStream::Taken ResponseStream::Take(std::function<void()> on_ready) {
    Taken taken;
    {
        MutexLock lock(mu_);
        taken.data.swap(queued_);
        taken.is_finished = is_finished_ && taken.data.empty();
        if (taken.data.empty() && !is_finished_) {
            on_ready_ = std::move(on_ready);
        }
    }
    if (!taken.data.empty()) {
        cv_.NotifyAll();  // room again
    }
    return taken;
}

void ResponseStream::MarkSent() {
    {
        MutexLock lock(mu_);
        is_sent_ = true;
    }
    cv_.NotifyAll();
}

void ResponseStream::Abort() {
    {
        MutexLock lock(mu_);
        is_aborted_ = true;
        queued_.clear();
        on_ready_ = nullptr;
    }
    cv_.NotifyAll();
}

std::uint64_t ResponseStream::bytes_written() const {
    MutexLock lock(mu_);
    return bytes_written_;
}

bool ResponseStream::aborted() const {
    MutexLock lock(mu_);
    return is_aborted_;
}

// ---------------------------------------------------------------- RequestBodyStream

RequestBodyStream::RequestBodyStream(std::size_t capacity_bytes, StopCheck should_stop)
    : capacity_bytes_(std::max<std::size_t>(capacity_bytes, 1)),
      should_stop_(std::move(should_stop)) {}

Result<std::size_t> RequestBodyStream::Read(char* buffer, std::size_t size) {
    std::function<void()> on_room;
    std::size_t num_copied = 0;
    for (;;) {
        {
            MutexLock lock(mu_);
            if (read_pos_ < queued_.size()) {
                num_copied = std::min(size, queued_.size() - read_pos_);
                std::memcpy(buffer, queued_.data() + read_pos_, num_copied);
                read_pos_ += num_copied;
                if (read_pos_ == queued_.size()) {
                    queued_.clear();
                    read_pos_ = 0;
                }
                if (queued_.size() - read_pos_ < capacity_bytes_ && on_room_) {
                    on_room = std::move(on_room_);
                    on_room_ = nullptr;
                }
                break;
            }
            if (!failure_.ok()) {
                return failure_;
            }
            if (is_finished_) {
                return std::size_t{0};  // the end of the body
            }
        }
        if (should_stop_) {
            if (Status stop = should_stop_(); !stop.ok()) {
                MutexLock lock(mu_);
                is_abandoned_ = true;
                return stop;
            }
        }
        MutexLock lock(mu_);
        if (read_pos_ == queued_.size() && failure_.ok() && !is_finished_) {
            cv_.WaitFor(mu_, kPollInterval);
        }
    }
    if (on_room) {
        on_room();
    }
    return num_copied;
}

std::uint64_t RequestBodyStream::bytes_received() const {
    MutexLock lock(mu_);
    return bytes_received_;
}

void RequestBodyStream::Put(std::string_view bytes) {
    {
        MutexLock lock(mu_);
        if (read_pos_ > 0 && read_pos_ * 2 >= queued_.size()) {
            queued_.erase(0, read_pos_);  // keep the buffer from creeping
            read_pos_ = 0;
        }
        queued_.append(bytes);
        bytes_received_ += bytes.size();
    }
    cv_.NotifyAll();
}

bool RequestBodyStream::HasRoom(std::function<void()> on_room) {
    MutexLock lock(mu_);
    if (is_abandoned_ || queued_.size() - read_pos_ < capacity_bytes_) {
        return true;
    }
    on_room_ = std::move(on_room);
    return false;
}

void RequestBodyStream::Finish() {
    {
        MutexLock lock(mu_);
        is_finished_ = true;
    }
    cv_.NotifyAll();
}

void RequestBodyStream::Fail(Status status) {
    {
        MutexLock lock(mu_);
        if (failure_.ok() && !is_finished_) {
            failure_ = std::move(status);
        }
    }
    cv_.NotifyAll();
}

bool RequestBodyStream::abandoned() const {
    MutexLock lock(mu_);
    return is_abandoned_;
}

void RequestBodyStream::Abandon() {
    std::function<void()> on_room;
    {
        MutexLock lock(mu_);
        is_abandoned_ = true;
        queued_.clear();
        read_pos_ = 0;
        on_room = std::move(on_room_);
        on_room_ = nullptr;
    }
    if (on_room) {
        on_room();  // the connection resumes, sees abandoned() and stops
    }
}

bool RequestBodyStream::is_complete() const {
    MutexLock lock(mu_);
    return is_finished_;
}

}  // namespace phenix::server
