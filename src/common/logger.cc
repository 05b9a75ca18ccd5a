#include "common/logger.h"

#include <algorithm>

namespace gpuledger {

namespace {

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  return std::any_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u >= 0x7f || c == '=' || c == '"' || c == '\\';
  });
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < ' ' || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;  // UTF-8 passes through
    }
  }
  out += '"';
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

std::string FormatLogLine(TimeMs t, LogLevel level, std::string_view event,
                          std::span<const LogField> fields) {
  std::string line = FormatTime(t);
  line += ' ';
  line += LogLevelName(level);
  line += ' ';
  line += event;
  for (const LogField& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    AppendValue(line, f.value);
  }
  return line;
}

void StderrLogger::Log(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  if (level < min_level_) return;
  std::string line = FormatLogLine(clock_.Now(), level, event, fields);
  line += '\n';
  MutexLock lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

std::string CapturingLogger::Record::Field(std::string_view key) const {
  for (const LogField& f : fields) {
    if (f.key == key) return f.value;
  }
  return "";
}

void CapturingLogger::Log(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  MutexLock lock(mu_);
  records_.push_back({level, std::string(event), std::vector<LogField>(fields.begin(), fields.end())});
}

std::vector<CapturingLogger::Record> CapturingLogger::records() const {
  MutexLock lock(mu_);
  return records_;
}

std::vector<CapturingLogger::Record> CapturingLogger::Events(std::string_view event) const {
  MutexLock lock(mu_);
  std::vector<Record> out;
  for (const Record& r : records_) {
    if (r.event == event) out.push_back(r);
  }
  return out;
}

std::string CapturingLogger::Text() const {
  MutexLock lock(mu_);
  std::string out;
  for (const Record& r : records_) out += FormatLogLine(0, r.level, r.event, r.fields) + "\n";
  return out;
}

void FailureLog::Failed(const Status& s) {
  std::vector<LogField> fields;
  {
    MutexLock lock(mu_);
    ++failures_;
    failing_ = true;
    if (failures_ > 1 && s.ToString() == last_message_) return;  // the same cause, retried
    last_message_ = s.ToString();
    fields = fields_;
    fields.emplace_back("failures", failures_);
  }
  fields.emplace_back("status", s);
  logger_.Log(level_, event_ + "_failed", fields);
}

void FailureLog::Succeeded() {
  if (!failing_) return;
  std::vector<LogField> fields;
  {
    MutexLock lock(mu_);
    if (failures_ == 0) return;
    failing_ = false;
    fields = fields_;
    fields.emplace_back("failures", failures_);
    failures_ = 0;
    last_message_.clear();
  }
  logger_.Log(LogLevel::kInfo, event_ + "_recovered", fields);
}

int64_t FailureLog::failures() const {
  MutexLock lock(mu_);
  return failures_;
}

}  // namespace gpuledger
