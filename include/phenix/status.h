// SPDX-License-Identifier: Apache-2.0
//
// phenix::Status — the outcome of an operation that can fail in an expected way.
//
// A Status is either OK or carries one code from a closed set plus a message written for the
// person reading it. Code branches on `code()`; messages are for people and may change.
// The codes map 1:1 onto gRPC and HTTP status codes in the server.
//
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace phenix {

/// The closed set of error codes. Keep in sync with StatusCodeName() and the server mapping.
enum class StatusCode : int {
    kOk = 0,
    kInvalidArgument,     ///< the request is malformed; retrying it unchanged will fail again
    kNotFound,            ///< a named collection, tenant or entity does not exist
    kAlreadyExists,       ///< create/insert of something that exists
    kAborted,             ///< transaction conflict; retryable
    kFailedPrecondition,  ///< the system is not in a state that allows the operation
    kResourceExhausted,   ///< a limit (size, count, memory, disk) was reached
    kDeadlineExceeded,
    kCancelled,
    kUnavailable,  ///< transient; retry later (e.g. the data directory is in use)
    kPermissionDenied,
    kUnauthenticated,
    kCorruption,  ///< stored data failed a consistency or checksum check
    kIOError,     ///< the operating system reported an I/O failure
    kUnimplemented,
    kInternal,  ///< a bug in Phenix
};

/// The canonical name of a code, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
  public:
    /// OK.
    Status() = default;
    Status(StatusCode code, std::string message);

    static Status Ok() { return {}; }
    static Status InvalidArgument(std::string msg) {
        return {StatusCode::kInvalidArgument, std::move(msg)};
    }
    static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
    static Status AlreadyExists(std::string msg) {
        return {StatusCode::kAlreadyExists, std::move(msg)};
    }
    static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
    static Status FailedPrecondition(std::string msg) {
        return {StatusCode::kFailedPrecondition, std::move(msg)};
    }
    static Status ResourceExhausted(std::string msg) {
        return {StatusCode::kResourceExhausted, std::move(msg)};
    }
    static Status Unavailable(std::string msg) {
        return {StatusCode::kUnavailable, std::move(msg)};
    }
    static Status PermissionDenied(std::string msg) {
        return {StatusCode::kPermissionDenied, std::move(msg)};
    }
    static Status Unauthenticated(std::string msg) {
        return {StatusCode::kUnauthenticated, std::move(msg)};
    }
    static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
    static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
    static Status Unimplemented(std::string msg) {
        return {StatusCode::kUnimplemented, std::move(msg)};
    }
    static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

    [[nodiscard]] bool ok() const { return code_ == StatusCode::kOk; }
    [[nodiscard]] StatusCode code() const { return code_; }
    [[nodiscard]] const std::string& message() const { return message_; }

    [[nodiscard]] bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
    [[nodiscard]] bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
    [[nodiscard]] bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }

    /// "OK" or "<CodeName>: <message>".
    [[nodiscard]] std::string ToString() const;

    /// Returns a copy whose message is "<context>: <message>"; OK stays OK.
    [[nodiscard]] Status WithContext(std::string_view context) const;

    /// Explicitly discards a Status whose failure the caller has decided not to handle.
    void IgnoreError() const {}

    friend bool operator==(const Status& a, const Status& b) {
        return a.code_ == b.code_ && a.message_ == b.message_;
    }

  private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

}  // namespace phenix

/// Returns from the enclosing function if `expr` (a Status) is not OK.
#define PHENIX_RETURN_IF_ERROR(expr)                  \
    do {                                              \
        ::phenix::Status phenix_status_tmp_ = (expr); \
        if (!phenix_status_tmp_.ok()) [[unlikely]] {  \
            return phenix_status_tmp_;                \
        }                                             \
    } while (false)
