// DiskQueue: the agent's outbox. Every request for the server (remote write bodies, job
// registrations, training progress) is appended here, synced, and only then sent; it
// leaves the queue when the server acknowledged it. While the server is away the queue
// grows on disk, bounded by max_bytes: past the bound the oldest segment is dropped
// (counted in dropped(); the newest data is kept, as Prometheus' WAL does). Replays are
// in order; a request sent but not acknowledged before a crash is sent again, which the
// server absorbs (samples by GPU and time, progress by epoch, jobs by id).
//
// On disk (docs/formats/agent-queue.md): a segment log (wal/segment_log.h) of
// <dir>/<first seq>.seg files of frames [u32 length][u32 CRC-32 of the payload][payload],
// payload = u64 seq, u16 path length, path (prefixed "METHOD " when the method is not
// POST), u16 content-type length, content type, body; and <dir>/acked, lines holding
// the last acknowledged seq. A failed append seals its segment (the next goes to a new
// one); a damaged frame is skipped, reported and counted (damage()), and the requests
// after it are still sent. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/file_system.h"
#include "common/status.h"
#include "wal/segment_log.h"

namespace gpuledger {

struct QueuedRequest {
  uint64_t seq = 0;  // assigned by Append
  std::string path;  // "/api/v1/write"
  std::string content_type;
  std::string body;
  std::string method = "POST";  // POST or PATCH
};

// CRC-32 checksums; a payload holds at least its seq and two lengths.
inline constexpr FrameFormat kQueueFrameFormat{FrameChecksum::kCrc32, 12, size_t{1} << 30};

class DiskQueue {
 public:
  static constexpr int64_t kSegmentBytes = 1 << 20;

  // `reporter` (optional, not owned, outliving the queue) hears of damaged frames.
  static StatusOr<std::unique_ptr<DiskQueue>> Open(FileSystem& fs, std::string dir, int64_t max_bytes,
                                                   CorruptionReporter* reporter = nullptr);

  // Appends and syncs; returns the seq given.
  StatusOr<uint64_t> Append(QueuedRequest r);
  // The oldest request not yet acknowledged.
  StatusOr<std::optional<QueuedRequest>> Front();
  // Acknowledges the front (seq must be the front's).
  Status Ack(uint64_t seq);

  int64_t bytes() const;
  int64_t pending() const;
  int64_t dropped() const;
  // What reading the segments skipped: damaged regions and their bytes, torn tails.
  SegmentLogCounters damage() const;

 private:
  struct Segment {
    uint64_t id = 0;               // its file's name
    uint64_t first = 0, last = 0;  // seqs it holds (last < first: none yet)
    int64_t bytes = 0;             // of whole frames appended (or read at Open: the file's size)
  };
  DiskQueue(FileSystem& fs, std::string dir, int64_t max_bytes, CorruptionReporter* reporter)
      : fs_(fs), dir_(dir), max_bytes_(max_bytes), log_(fs, std::move(dir), kQueueFrameFormat, reporter) {}
  Status LoadHead() GL_REQUIRES(mu_);
  Status WriteAcked() GL_REQUIRES(mu_);
  FileSystem& fs_;
  std::string dir_;
  int64_t max_bytes_;
  mutable Mutex mu_;
  SegmentLog log_ GL_GUARDED_BY(mu_);  // (its counters are its own); sealed after Open
  std::deque<Segment> segments_ GL_GUARDED_BY(mu_);  // oldest first; the back one takes appends
  uint64_t last_id_ GL_GUARDED_BY(mu_) = 0;  // the newest segment's name: a new one's is above it
  uint64_t next_seq_ GL_GUARDED_BY(mu_) = 1;
  uint64_t acked_ GL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ GL_GUARDED_BY(mu_) = 0;
  int64_t acked_bytes_ GL_GUARDED_BY(mu_) = 0;   // size of the acked file
  bool head_loaded_ GL_GUARDED_BY(mu_) = false;  // head_ holds the records of segments_.front()
  uint64_t head_size_ GL_GUARDED_BY(mu_) = 0;    // of that segment when read
  std::vector<QueuedRequest> head_ GL_GUARDED_BY(mu_);
};

// The requests of one segment's good frames, skipping damage (wal/segment_log.h's rule,
// reported to `reporter` if set, naming `segment`).
std::vector<QueuedRequest> DecodeSegment(std::string_view bytes, CorruptionReporter* reporter = nullptr,
                                         std::string_view segment = "");
// One frame with its header.
std::string EncodeFrame(const QueuedRequest& r);
// A frame's payload, or an error saying why it is not one.
StatusOr<QueuedRequest> DecodeQueuePayload(std::string_view payload);

}  // namespace gpuledger
