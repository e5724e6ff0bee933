#pragma once
// A value or an error message, for parsers and validators at the edge.
#include <string>
#include <utility>
#include <variant>

namespace common {

struct Error {
  std::string message;
};

template <class T> class Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).message; }

private:
  std::variant<T, Error> v_;
};

inline Error err(std::string message) { return Error{std::move(message)}; }

} // namespace common
