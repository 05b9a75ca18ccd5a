// FileSystem: the file operations the sample store needs, injected so tests can run it
// in memory and inject faults (LevelDB's Env and memenv). PosixFileSystem is the real
// one; MemFileSystem keeps files in memory and can simulate a crash (unsynced bytes are
// lost) and a full disk. PosixFileSystem is thread-safe; MemFileSystem is thread-
// compatible.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuledger {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Appends to `path` (created, with its parent directories, if missing).
  virtual Status Append(const std::string& path, std::string_view bytes) = 0;
  // Makes everything appended to `path` so far durable.
  virtual Status Sync(const std::string& path) = 0;
  virtual StatusOr<std::string> ReadAll(const std::string& path) = 0;
  // Names (not paths) of the entries directly under `dir`, sorted; empty if missing.
  virtual StatusOr<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual Status RemoveAll(const std::string& path) = 0;
  // Replaces `to` with `from` in one step (rename(2)), durably: a crash leaves one or the
  // other, never a mix. `from` should be synced first.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
};

class PosixFileSystem final : public FileSystem {
 public:
  Status Append(const std::string& path, std::string_view bytes) override;
  Status Sync(const std::string& path) override;
  StatusOr<std::string> ReadAll(const std::string& path) override;
  StatusOr<std::vector<std::string>> List(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
};

class MemFileSystem final : public FileSystem {
 public:
  Status Append(const std::string& path, std::string_view bytes) override;
  Status Sync(const std::string& path) override;
  StatusOr<std::string> ReadAll(const std::string& path) override;
  StatusOr<std::vector<std::string>> List(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;  // durable at once

  // Fault injection. After SetCapacity(n), appends that would take the total past n
  // bytes fail with kResourceExhausted and write nothing (-1: no limit). May be called
  // while another thread appends (a test filling the disk under a running server).
  void SetCapacity(int64_t bytes) { capacity_.store(bytes); }
  // A crash: every file loses what was appended after its last Sync, except that the
  // first `torn_bytes` of that unsynced tail survive (a torn write).
  void Crash(size_t torn_bytes = 0);

 private:
  struct File {
    std::string data;
    size_t synced = 0;
  };
  int64_t Used() const;
  std::map<std::string, File> files_;
  std::atomic<int64_t> capacity_{-1};
};

}  // namespace gpuledger
