// SegmentLog: a directory of append-only segment files of checksummed frames, the one
// write-ahead log under both the server's ingest journal (server/journal.h) and the
// agent's outbox (agent/disk_queue.h). It owns the framing, the segment files' names,
// appending (with the rule that nothing is ever appended behind a failed append), and
// reading back with damage reported to one CorruptionReporter, as LevelDB's
// log::Reader::Reporter does. What a frame's payload means is its user's.
//
// On disk (docs/formats/segment-log.md): <dir>/<id, 20 digits>.seg, each a sequence of
//   frame = length:u32le  checksum  payload[length]
// with the checksum CRC-32 (u32le) or XXH3-64 (u64le) of the payload, fixed per log.
//
// Reading a segment (the resynchronisation rule): a frame is good when its length is
// within the format's bounds and the segment, its checksum matches and its user accepts
// the payload. After a bad frame at offset p the reader looks for the next good frame:
// first where p's length field says the next frame begins (a damaged payload under an
// intact header), then at every later offset. Found at q: the bytes [p, q) are reported
// as corruption and reading goes on at q. None: the rest of the segment is a torn tail
// (an append cut short by a crash or a failed write, never acknowledged; not corruption)
// when it is a header cut short, a frame whose length runs past the end, or zeros;
// otherwise it is corruption too (a whole frame that fails its checksum at the end).
//
// Thread-compatible (its users hold their own lock); counters() is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file_system.h"
#include "common/logger.h"
#include "common/status.h"

namespace gpuledger {

enum class FrameChecksum { kCrc32, kXxh3_64 };

struct FrameFormat {
  FrameChecksum checksum = FrameChecksum::kCrc32;
  // Payload lengths outside [min_payload, max_payload] are damage.
  size_t min_payload = 0;
  size_t max_payload = size_t{1} << 30;
  size_t header_bytes() const { return checksum == FrameChecksum::kCrc32 ? 8 : 12; }
};

// Bytes a reader skipped in one segment.
struct SegmentDamage {
  std::string segment;  // the segment file's path
  uint64_t offset = 0;  // of the first byte skipped
  uint64_t bytes = 0;   // skipped
  std::string reason;   // what was wrong with the frame at `offset`
};

class CorruptionReporter {
 public:
  virtual ~CorruptionReporter() = default;
  // Bytes that are not a good frame and that were not an append cut short: data that
  // was written whole and read back different (or a payload its user refused).
  virtual void Corruption(const SegmentDamage& damage) = 0;
  // A segment's end holding an append that never completed (not corruption).
  virtual void TornTail(const SegmentDamage& damage) { (void)damage; }
};

struct SegmentReadStats {
  uint64_t size = 0;         // of the segment
  size_t frames = 0;         // good frames read
  uint64_t end_of_good = 0;  // offset just past the last good frame
  uint64_t corrupt_regions = 0, corrupt_bytes = 0;
  uint64_t torn_bytes = 0;  // of the torn tail, 0 if none
};

// [length][checksum][payload].
std::string EncodeSegmentFrame(const FrameFormat& format, std::string_view payload);

// Called with each good frame's payload and offset; a non-OK Status refuses the payload
// (the frame counts as damage, with the Status as its reason).
using FrameVisitor = std::function<Status(std::string_view payload, uint64_t offset)>;

// Reads the frames of one segment's bytes in order (the resynchronisation rule above).
// `segment` names it in what is reported; `reporter` may be null.
SegmentReadStats ReadSegmentFrames(const FrameFormat& format, std::string_view bytes,
                                   std::string_view segment, CorruptionReporter* reporter,
                                   const FrameVisitor& visit);

// Logs damage: `segment_corrupt` (WARN) and `segment_torn_tail` (INFO), each with
// log=<name> segment=<path> offset=<byte> bytes=<skipped> reason=<why>.
class LoggingCorruptionReporter final : public CorruptionReporter {
 public:
  LoggingCorruptionReporter(Logger& logger, std::string log_name)
      : logger_(logger), name_(std::move(log_name)) {}
  void Corruption(const SegmentDamage& d) override;
  void TornTail(const SegmentDamage& d) override;

 private:
  Logger& logger_;
  std::string name_;
};

struct SegmentLogCounters {
  int64_t corrupt_regions = 0, corrupt_bytes = 0, torn_tails = 0, torn_bytes = 0;
};

class SegmentLog {
 public:
  // `reporter` (optional, not owned) hears of damage, once per place however often a
  // segment is read.
  SegmentLog(FileSystem& fs, std::string dir, FrameFormat format, CorruptionReporter* reporter = nullptr)
      : fs_(fs), dir_(std::move(dir)), format_(format), reporter_(reporter) {}

  const std::string& dir() const { return dir_; }
  const FrameFormat& format() const { return format_; }
  std::string Path(uint64_t id) const;
  // The segments on disk, oldest (lowest id) first; other files are ignored.
  StatusOr<std::vector<uint64_t>> List() const;

  // Appends go to segment `id` from now on (the file is made by the first append).
  // `id` must be above every segment's before it.
  void Roll(uint64_t id);
  // Appends go nowhere until the next Roll (a reader took what the segment holds, or
  // an earlier run left it, perhaps with a torn tail).
  void Seal() { writable_ = false; }
  // Roll was called, and no append failed since.
  bool writable() const { return writable_; }
  uint64_t current() const { return current_; }
  // Appends one frame to the current segment (requires writable()); `sync`: durable
  // when it returns. A failure may leave part of the frame on disk: the segment is
  // sealed, so that part stays its tail.
  Status Append(std::string_view payload, bool sync) {
    return AppendFrame(EncodeSegmentFrame(format_, payload), sync);
  }
  // The same with the frame made by EncodeSegmentFrame(format(), ...) beforehand (say,
  // outside the caller's lock).
  Status AppendFrame(std::string_view frame, bool sync);

  // Reads segment `id` (ReadSegmentFrames), counting and reporting what it skipped.
  StatusOr<SegmentReadStats> Read(uint64_t id, const FrameVisitor& visit);
  Status Remove(uint64_t id);

  SegmentLogCounters counters() const;

 private:
  void Report(uint64_t id, const SegmentDamage& d, bool torn);
  FileSystem& fs_;
  std::string dir_;
  FrameFormat format_;
  CorruptionReporter* reporter_;
  bool writable_ = false;
  uint64_t current_ = 0;
  std::set<std::pair<uint64_t, uint64_t>> reported_;  // (segment, offset) already reported
  std::atomic<int64_t> corrupt_regions_{0}, corrupt_bytes_{0}, torn_tails_{0}, torn_bytes_{0};
};

}  // namespace gpuledger
