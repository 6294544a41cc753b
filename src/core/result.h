// Result<T>: a value or an Error, the one way fallible code reports failure.
//
// Parsers of untrusted input return Result instead of throwing (STYLE.md:
// "untrusted input never throws"). Shaped like std::expected, which g++ 12
// lacks in C++20. Thread-compatible: a Result is a plain value.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace p2p::core {

// What went wrong, in words the peer or the operator may read. `code` groups
// errors for counters and HTTP status mapping; `message` is shown as is (for an
// announce it becomes the bencoded "failure reason").
enum class ErrorCode {
  kInvalidArgument,  // the request or file is malformed
  kNotFound,
  kAlreadyExists,
  kTooLarge,
  kUnavailable,  // a dependency (Redis, the disk) failed; retry may work
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error invalid_argument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
inline Error not_found(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Error already_exists(std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(message)};
}
inline Error too_large(std::string message) { return {ErrorCode::kTooLarge, std::move(message)}; }
inline Error unavailable(std::string message) {
  return {ErrorCode::kUnavailable, std::move(message)};
}
inline Error internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design, like expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace p2p::core
