// Result<T>: the single error style of the agent. Every fallible call returns a
// value or an Error carrying errno (0 when not a syscall failure) and a message
// that says where it happened. Exceptions are not used below main().
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace bulkhead {

struct Error {
  int code = 0;  // errno value, or 0 when the failure is not a syscall's
  std::string message;

  [[nodiscard]] std::string to_string() const {
    if (code == 0) {
      return message;
    }
    return message + ": " + std::strerror(code);
  }
  // Prefix with the context of the caller: "creating cgroup: mkdir ...".
  [[nodiscard]] Error context(const std::string& where) const {
    return {code, where + ": " + message};
  }
};

// Builds an Error from the current errno; call right after the failing syscall.
inline Error errno_error(std::string message) { return Error{errno, std::move(message)}; }
inline Error make_error(std::string message) { return Error{0, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok /*unused*/) {}  // NOLINT(google-explicit-constructor)
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  [[nodiscard]] bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace bulkhead

// Propagates a failed Result from the current function, optionally with context.
#define BULKHEAD_TRY(expr)            \
  do {                                \
    auto bulkhead_try_r_ = (expr);    \
    if (!bulkhead_try_r_.ok()) {      \
      return bulkhead_try_r_.error(); \
    }                                 \
  } while (0)

#define BULKHEAD_TRY_CTX(expr, ctx)                \
  do {                                             \
    auto bulkhead_try_r_ = (expr);                 \
    if (!bulkhead_try_r_.ok()) {                   \
      return bulkhead_try_r_.error().context(ctx); \
    }                                              \
  } while (0)
