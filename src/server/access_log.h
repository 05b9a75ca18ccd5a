// The server's access log: one line per HTTP request, in the format
// docs/formats/access-log.md documents. It never holds a secret: the path is logged
// without its query string, the caller by token id, never the token. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

struct AccessRecord {
  TimeMs at_ms = 0;  // when the request was answered
  std::string remote_addr;
  int remote_port = 0;
  std::string method;
  std::string path;  // without the query string
  int status = 0;
  DurationMs duration_ms = 0;
  std::string token_id;  // "" when none was authenticated
};

// One line, newline-terminated. Bytes of method, path and token id outside printable
// ASCII, and space, '"', '\' and '=', are written \xNN, so a line always splits on spaces.
std::string FormatAccessLine(const AccessRecord& r);

class AccessLog {
 public:
  // "-": standard error; anything else: a file, created if missing and appended to.
  static StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& where);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  // Writes one line; false when the write failed (the caller counts it).
  bool Write(const AccessRecord& r);

 private:
  AccessLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  Mutex mu_;  // one line at a time
  int fd_;
  bool owned_;
};

}  // namespace gpuledger
