// SPDX-License-Identifier: Apache-2.0
//
// phenix::Result<T> — a value of type T or a non-OK Status.
//
// A default-constructed Result is never OK (it holds an Internal error), so a Result that was
// never assigned cannot be mistaken for success. Accessing the value of a failed Result is a
// programmer error and aborts.
//
// Thread safety: a value type; distinct objects may be used from distinct threads.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include <phenix/status.h>

namespace phenix {

template <typename T>
class [[nodiscard]] Result {
  public:
    static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "Result<Status> is meaningless");

    Result() : status_(StatusCode::kInternal, "uninitialized Result") {}
    // Implicit by design (like absl::StatusOr) so `return value;` and `return status;` both work.
    Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
    Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
        if (status_.ok()) {
            status_ = Status::Internal("Result constructed from an OK Status without a value");
        }
    }

    [[nodiscard]] bool ok() const { return value_.has_value(); }
    [[nodiscard]] const Status& status() const { return status_; }

    T& value() & {
        CheckOk();
        return *value_;
    }
    const T& value() const& {
        CheckOk();
        return *value_;
    }
    T&& value() && {
        CheckOk();
        return std::move(*value_);
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The value, or `fallback` when not OK.
    T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

  private:
    void CheckOk() const {
        if (!value_.has_value()) [[unlikely]] {
            std::fprintf(stderr, "phenix: value() of a failed Result: %s\n",
                         status_.ToString().c_str());
            std::abort();
        }
    }

    Status status_;  // OK exactly when value_ holds a value
    std::optional<T> value_;
};

}  // namespace phenix

#define PHENIX_CONCAT_INNER_(a, b) a##b
#define PHENIX_CONCAT_(a, b) PHENIX_CONCAT_INNER_(a, b)

/// `PHENIX_ASSIGN_OR_RETURN(auto x, Foo());` — assigns the value of a Result or returns its Status.
#define PHENIX_ASSIGN_OR_RETURN(lhs, expr) \
    PHENIX_ASSIGN_OR_RETURN_IMPL_(PHENIX_CONCAT_(phenix_result_tmp_, __LINE__), lhs, expr)
#define PHENIX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                                \
    if (!tmp.ok()) [[unlikely]] {                     \
        return tmp.status();                          \
    }                                                 \
    lhs = std::move(tmp).value()
