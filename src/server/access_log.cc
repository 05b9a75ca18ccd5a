#include "server/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpuledger {

namespace {
void Escaped(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  static const char kHex[] = "0123456789abcdef";
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
}
}  // namespace

std::string FormatAccessLine(const AccessRecord& r) {
  std::string out = "ts=" + FormatTime(r.at_ms) + " remote=";
  Escaped(out, r.remote_addr);
  out += ":" + std::to_string(r.remote_port) + " method=";
  Escaped(out, r.method);
  out += " path=";
  Escaped(out, r.path);
  out += " status=" + std::to_string(r.status) + " duration_ms=" + std::to_string(r.duration_ms) + " token=";
  Escaped(out, r.token_id);
  out += '\n';
  return out;
}

StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& where) {
  if (where == "-") return std::unique_ptr<AccessLog>(new AccessLog(STDERR_FILENO, false));
  const int fd = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Unavailable("--access-log " + where + ": open: " + std::strerror(errno));
  return std::unique_ptr<AccessLog>(new AccessLog(fd, true));
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

bool AccessLog::Write(const AccessRecord& r) {
  const std::string line = FormatAccessLine(r);
  MutexLock lock(mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace gpuledger
