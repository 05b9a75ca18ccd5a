// Logger: where gpuledger's long-running parts (the server and its background loops, the
// agent) say what went wrong or what they did, injected as a reference like Clock and
// FileSystem: no global logger, so a test captures exactly what one component logged.
//
// A line is an event name and key=value fields (logfmt):
//   2026-12-02T05:20:31.123Z WARN journal_flush_failed failures=1 status="UNAVAILABLE: ..."
// Event names are stable (docs/DEPLOY.md lists them); fields are added, not renamed.
//
// FailureLog turns a retried operation's results into lines once per cause: a line when
// it starts failing, one when its Status message changes, one when it recovers (with
// the number of failures in between), never one per retry.
//
// Every Logger here is thread-safe; FailureLog too.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/clock.h"
#include "common/status.h"

namespace gpuledger {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
std::string_view LogLevelName(LogLevel level);  // "DEBUG", "INFO", "WARN", "ERROR"

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <std::integral T>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  LogField(std::string_view k, const Status& s) : key(k), value(s.ToString()) {}
  std::string key, value;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, std::string_view event, std::span<const LogField> fields) = 0;

  void Debug(std::string_view event, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kDebug, event, f);
  }
  void Info(std::string_view event, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kInfo, event, f);
  }
  void Warn(std::string_view event, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kWarning, event, f);
  }
  void Error(std::string_view event, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kError, event, f);
  }
};

// One line, without its newline: time, level, event, fields. A value is quoted ("...")
// when it is empty or holds a space, '=', '"' or a byte outside printable ASCII; inside
// quotes '"' and '\' are escaped, and control bytes are written \n, \t or \xNN, so one
// event is always one line whatever a message carries.
std::string FormatLogLine(TimeMs t, LogLevel level, std::string_view event, std::span<const LogField> fields);

// Writes FormatLogLine lines at `min_level` and above to `out` (standard error by default).
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(const Clock& clock, LogLevel min_level = LogLevel::kInfo, std::FILE* out = stderr)
      : clock_(clock), min_level_(min_level), out_(out) {}
  void Log(LogLevel level, std::string_view event, std::span<const LogField> fields) override;

 private:
  const Clock& clock_;
  LogLevel min_level_;
  std::FILE* out_;
  Mutex mu_;  // one line at a time
};

// Drops everything: for callers that were given no logger and tools that want none.
class NullLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view, std::span<const LogField>) override {}
};

// Keeps every record, for tests.
class CapturingLogger final : public Logger {
 public:
  struct Record {
    LogLevel level;
    std::string event;
    std::vector<LogField> fields;
    // The value of field `key`, "" when absent.
    std::string Field(std::string_view key) const;
  };
  void Log(LogLevel level, std::string_view event, std::span<const LogField> fields) override;
  std::vector<Record> records() const;
  // Records of one event.
  std::vector<Record> Events(std::string_view event) const;
  size_t Count(std::string_view event) const { return Events(event).size(); }
  // Every record as FormatLogLine writes it (time 0), for failure messages.
  std::string Text() const;

 private:
  mutable Mutex mu_;
  std::vector<Record> records_ GL_GUARDED_BY(mu_);
};

// Logs an operation that is retried (a flush, a retention run, a scrape) once per cause.
// Failed(s): logs `<event>_failed` with status=s and failures=1 when the operation was
// working, or `<event>_failed` again when s's message differs from the last one logged
// (failures = the count so far); otherwise only counts. Succeeded(): after failures,
// logs `<event>_recovered` with failures = how many there were. `fields` are added to
// every line (e.g. target=URL for one scrape target).
class FailureLog {
 public:
  FailureLog(Logger& logger, std::string event, std::vector<LogField> fields = {},
             LogLevel level = LogLevel::kWarning)
      : logger_(logger), event_(std::move(event)), fields_(std::move(fields)), level_(level) {}
  void Failed(const Status& s);
  void Succeeded();
  // A Status: Failed when not OK, else Succeeded.
  void Record(const Status& s) { s.ok() ? Succeeded() : Failed(s); }
  int64_t failures() const;  // in the current run of failures; 0 when working

 private:
  Logger& logger_;
  const std::string event_;
  const std::vector<LogField> fields_;
  const LogLevel level_;
  std::atomic<bool> failing_{false};  // Succeeded's lock-free path (it runs per request)
  mutable Mutex mu_;
  int64_t failures_ GL_GUARDED_BY(mu_) = 0;
  std::string last_message_ GL_GUARDED_BY(mu_);  // the Status last logged
};

}  // namespace gpuledger
