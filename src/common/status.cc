// SPDX-License-Identifier: Apache-2.0
#include <phenix/status.h>

namespace phenix {

std::string_view StatusCodeName(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "OK";
        case StatusCode::kInvalidArgument:
            return "InvalidArgument";
        case StatusCode::kNotFound:
            return "NotFound";
        case StatusCode::kAlreadyExists:
            return "AlreadyExists";
        case StatusCode::kAborted:
            return "Aborted";
        case StatusCode::kFailedPrecondition:
            return "FailedPrecondition";
        case StatusCode::kResourceExhausted:
            return "ResourceExhausted";
        case StatusCode::kDeadlineExceeded:
            return "DeadlineExceeded";
        case StatusCode::kCancelled:
            return "Cancelled";
        case StatusCode::kUnavailable:
            return "Unavailable";
        case StatusCode::kPermissionDenied:
            return "PermissionDenied";
        case StatusCode::kUnauthenticated:
            return "Unauthenticated";
        case StatusCode::kCorruption:
            return "Corruption";
        case StatusCode::kIOError:
            return "IOError";
        case StatusCode::kUnimplemented:
            return "Unimplemented";
        case StatusCode::kInternal:
            return "Internal";
    }
    return "Unknown";
}

Status::Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

std::string Status::ToString() const {
    if (ok()) {
        return "OK";
    }
    std::string out(StatusCodeName(code_));
    out += ": ";
    out += message_;
    return out;
}

Status Status::WithContext(std::string_view context) const {
    if (ok()) {
        return *this;
    }
    std::string msg(context);
    msg += ": ";
    msg += message_;
    return {code_, std::move(msg)};
}

}  // namespace phenix
