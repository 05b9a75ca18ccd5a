// DiskQueue: the agent's outbox. Every request for the server (remote write bodies, job
// registrations, training progress) is appended here, synced, and only then sent; it
// leaves the queue when the server acknowledged it. While the server is away the queue
// grows on disk, bounded by max_bytes: past the bound the oldest segment is dropped
// (counted in dropped(); the newest data is kept, as Prometheus' WAL does). Replays are
// in order; a request sent but not acknowledged before a crash is sent again, which the
// server absorbs (samples by GPU and time, progress by epoch, jobs by id).
//
// On disk (docs/formats/agent-queue.md): <dir>/<first seq>.seg files of frames
// [u32 length][u32 CRC-32 of the payload][payload], payload = u64 seq, u16 path length,
// path (prefixed "METHOD " when the method is not POST), u16 content-type length,
// content type, body; and <dir>/acked, lines holding the
// last acknowledged seq. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace gpuledger {

struct QueuedRequest {
  uint64_t seq = 0;  // assigned by Append
  std::string path;  // "/api/v1/write"
  std::string content_type;
  std::string body;
  std::string method = "POST";  // POST or PATCH
};

class DiskQueue {
 public:
  static constexpr int64_t kSegmentBytes = 1 << 20;

  static StatusOr<std::unique_ptr<DiskQueue>> Open(FileSystem& fs, std::string dir, int64_t max_bytes);

  // Appends and syncs; returns the seq given.
  StatusOr<uint64_t> Append(QueuedRequest r);
  // The oldest request not yet acknowledged.
  StatusOr<std::optional<QueuedRequest>> Front();
  // Acknowledges the front (seq must be the front's).
  Status Ack(uint64_t seq);

  int64_t bytes() const;
  int64_t pending() const;
  int64_t dropped() const;

 private:
  struct Segment {
    uint64_t first = 0, last = 0;  // seqs it holds (last < first: none yet)
    int64_t bytes = 0;
    std::string path;
  };
  DiskQueue(FileSystem& fs, std::string dir, int64_t max_bytes)
      : fs_(fs), dir_(std::move(dir)), max_bytes_(max_bytes) {}
  Status LoadHead();
  Status WriteAcked();
  FileSystem& fs_;
  std::string dir_;
  int64_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Segment> segments_;  // oldest first; the back one takes appends
  bool back_writable_ = false;    // false after Open: never append behind a torn frame
  uint64_t next_seq_ = 1;
  uint64_t acked_ = 0;
  int64_t dropped_ = 0;
  int64_t acked_bytes_ = 0;  // size of the acked file
  std::string head_path_;    // segment whose records are in head_
  std::vector<QueuedRequest> head_;
};

// Frames of one segment file; stops at a torn or corrupt tail (never acknowledged).
std::vector<QueuedRequest> DecodeSegment(std::string_view bytes);
std::string EncodeFrame(const QueuedRequest& r);

}  // namespace gpuledger
