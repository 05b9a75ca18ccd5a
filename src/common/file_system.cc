#include "common/file_system.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuledger {

namespace {
Status Errno(const std::string& what, const std::string& path) {
  const int e = errno;
  const std::string msg = what + " " + path + ": " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) return Status(StatusCode::kResourceExhausted, msg);
  return Unavailable(msg);
}
}  // namespace

Status PosixFileSystem::Append(const std::string& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Unavailable("create directories for " + path + ": " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Errno("close", path);
  return OkStatus();
}

Status PosixFileSystem::Sync(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  const int rc = ::fdatasync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fdatasync", path);
  return OkStatus();
}

StatusOr<std::string> PosixFileSystem::ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StatusOr<std::vector<std::string>> PosixFileSystem::List(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  if (ec) return Unavailable("list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status PosixFileSystem::RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Unavailable("remove " + path + ": " + ec.message());
  return OkStatus();
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename", from + " -> " + to);
  // The rename is durable once the directory holding it is synced.
  const std::string dir = std::filesystem::path(to).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync", dir);
  return OkStatus();
}

int64_t MemFileSystem::Used() const {
  int64_t n = 0;
  for (const auto& [p, f] : files_) n += static_cast<int64_t>(f.data.size());
  return n;
}

Status MemFileSystem::Append(const std::string& path, std::string_view bytes) {
  if (const int64_t capacity = capacity_.load();
      capacity >= 0 && Used() + static_cast<int64_t>(bytes.size()) > capacity) {
    return Status(StatusCode::kResourceExhausted,
                  "write " + path + ": no space left on device (" + std::to_string(capacity) + " bytes)");
  }
  files_[path].data.append(bytes);
  return OkStatus();
}

Status MemFileSystem::Sync(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("sync " + path + ": no such file");
  it->second.synced = it->second.data.size();
  return OkStatus();
}

StatusOr<std::string> MemFileSystem::ReadAll(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("cannot read " + path);
  return it->second.data;
}

StatusOr<std::vector<std::string>> MemFileSystem::List(const std::string& dir) {
  std::vector<std::string> out;
  const std::string prefix = dir + "/";
  for (const auto& [p, f] : files_) {
    if (p.rfind(prefix, 0) != 0) continue;
    std::string rest = p.substr(prefix.size());
    rest = rest.substr(0, rest.find('/'));
    if (out.empty() || out.back() != rest) out.push_back(rest);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status MemFileSystem::RemoveAll(const std::string& path) {
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == path || it->first.rfind(path + "/", 0) == 0)
      it = files_.erase(it);
    else
      ++it;
  }
  return OkStatus();
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  auto it = files_.find(from);
  if (it == files_.end()) return NotFound("rename " + from + ": no such file");
  File f = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(f);
  return OkStatus();
}

void MemFileSystem::Crash(size_t torn_bytes) {
  for (auto& [p, f] : files_) f.data.resize(std::min(f.data.size(), f.synced + torn_bytes));
}

}  // namespace gpuledger
