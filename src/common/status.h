// Status and StatusOr: the error model of every gpuledger library (Abseil's codes).
// A Status is a code plus a message that names what was wrong, the limit and the value
// seen. Value types; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gpuledger {

// Retry advice follows Abseil: kUnavailable may be retried; kInvalidArgument never;
// kFailedPrecondition needs the state fixed first.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kOutOfRange,
  kUnavailable,
  kResourceExhausted,
  kInternal,
  kUnimplemented,
  kUnauthenticated,   // no or unknown credentials
  kPermissionDenied,  // known caller, not allowed
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (file:line prefixes and the like).
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : v_(status) {}        // NOLINT: implicit like absl::StatusOr
  StatusOr(Status&& status) : v_(std::move(status)) {}  // NOLINT
  StatusOr(const T& value) : v_(value) {}               // NOLINT
  StatusOr(T&& value) : v_(std::move(value)) {}         // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace gpuledger

#define GPULEDGER_CONCAT_INNER(a, b) a##b
#define GPULEDGER_CONCAT(a, b) GPULEDGER_CONCAT_INNER(a, b)

// NOLINTBEGIN(bugprone-macro-parentheses): lhs is a declaration, it cannot be parenthesised
#define RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                  \
    ::gpuledger::Status tmp = (expr);   \
    if (!tmp.ok()) return tmp;          \
  } while (0)
#define RETURN_IF_ERROR(expr) RETURN_IF_ERROR_IMPL(GPULEDGER_CONCAT(status_macro_, __LINE__), expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(GPULEDGER_CONCAT(statusor_, __LINE__), lhs, expr)
// NOLINTEND(bugprone-macro-parentheses)

// For invariants that no input can break (Envoy's rule); input errors get a Status.
#define GPULEDGER_CHECK(cond)                                                   \
  do {                                                                          \
    if (!(cond)) ::gpuledger::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace gpuledger::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
