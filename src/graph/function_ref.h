// SPDX-License-Identifier: Apache-2.0
//
// FunctionRef<R(Args...)> — a non-owning reference to a callable, for per-edge callbacks where
// std::function's type erasure (and possible allocation) costs too much. It is two pointers,
// is passed by value, and never allocates.
//
// Lifetime: a FunctionRef borrows the callable it was built from; the callable must outlive
// every call. Build it from a named callable or pass a lambda directly as a function argument
// (the temporary lives until the end of the full expression); never store a FunctionRef built
// from a temporary.
//
// Thread safety: a value type; calling it is as thread-safe as calling the referenced callable.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace phenix::graph {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
  public:
    // Implicit by design so that a lambda can be passed where a FunctionRef is expected.
    template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
             !std::is_function_v<std::remove_reference_t<F>> &&
             std::is_invocable_r_v<R, F&, Args...>) FunctionRef(F&& callable)
    noexcept  // NOLINT(google-explicit-constructor): see above
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(callable)))),
          invoke_(&Invoke<std::remove_reference_t<F>>) {}

    R operator()(Args... args) const { return invoke_(object_, std::forward<Args>(args)...); }

  private:
    template <typename F>
    static R Invoke(void* object, Args... args) {
        if constexpr (std::is_void_v<R>) {
            (*static_cast<F*>(object))(std::forward<Args>(args)...);
        } else {
            return (*static_cast<F*>(object))(std::forward<Args>(args)...);
        }
    }

    void* object_;
    R (*invoke_)(void*, Args...);
};

}  // namespace phenix::graph
