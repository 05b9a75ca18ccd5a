#include "wal/segment_log.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/bytes.h"

namespace gpuledger {

namespace {

uint64_t Checksum(FrameChecksum kind, std::string_view payload) {
  return kind == FrameChecksum::kCrc32 ? Crc32(payload) : XXH3_64bits(payload.data(), payload.size());
}

int ChecksumBytes(FrameChecksum kind) { return kind == FrameChecksum::kCrc32 ? 4 : 8; }

// Why the bytes at an offset are not a good frame.
enum class Bad {
  kNone,
  kHeaderCut,  // fewer bytes left than a header: torn
  kPastEnd,    // the length runs past the segment's end: torn (or a damaged length)
  kLength,     // the length is outside the format's bounds
  kChecksum,   // a whole frame whose checksum fails
  kRefused,    // a whole frame, checksum good, whose payload its user refused
};

class Frames {
 public:
  Frames(const FrameFormat& f, std::string_view b, const FrameVisitor& visit)
      : f_(f), b_(b), visit_(visit), header_(f.header_bytes()) {}

  // Visits the frame at `p` if it is good; returns its whole length, or 0 with *bad and
  // *why set (and *len the length field, when there was one).
  size_t Try(size_t p, Bad* bad, std::string* why, size_t* len) const {
    const size_t left = b_.size() - p;
    if (left < header_) {
      *bad = Bad::kHeaderCut;
      if (why)
        *why =
            "frame header cut short (" + std::to_string(left) + " of " + std::to_string(header_) + " bytes)";
      return 0;
    }
    *len = GetLe(b_, p, 4);
    if (*len < f_.min_payload || *len > f_.max_payload) {
      *bad = Bad::kLength;
      if (why) {
        *why = "frame length " + std::to_string(*len) + " outside [" + std::to_string(f_.min_payload) + ", " +
               std::to_string(f_.max_payload) + "]";
      }
      return 0;
    }
    if (*len > left - header_) {
      *bad = Bad::kPastEnd;
      if (why) {
        *why = "frame length " + std::to_string(*len) + " runs past the segment's end (" +
               std::to_string(left - header_) + " bytes left)";
      }
      return 0;
    }
    const std::string_view payload = b_.substr(p + header_, *len);
    if (Checksum(f_.checksum, payload) != GetLe(b_, p + 4, ChecksumBytes(f_.checksum))) {
      *bad = Bad::kChecksum;
      if (why) *why = "checksum mismatch";
      return 0;
    }
    if (Status s = visit_(payload, p); !s.ok()) {
      *bad = Bad::kRefused;
      if (why) *why = s.message();
      return 0;
    }
    *bad = Bad::kNone;
    return header_ + *len;
  }

  // The next good frame at or after `from` (visited): its offset and length, or npos.
  std::pair<size_t, size_t> Next(size_t from) const {
    for (size_t q = from; q + header_ <= b_.size(); ++q) {
      Bad bad = Bad::kNone;
      size_t len = 0;
      if (const size_t n = Try(q, &bad, nullptr, &len); n > 0) return {q, n};
    }
    return {std::string_view::npos, 0};
  }

 private:
  const FrameFormat& f_;
  std::string_view b_;
  const FrameVisitor& visit_;
  size_t header_;
};

}  // namespace

std::string EncodeSegmentFrame(const FrameFormat& format, std::string_view payload) {
  std::string frame;
  frame.reserve(format.header_bytes() + payload.size());
  PutLe(frame, payload.size(), 4);
  PutLe(frame, Checksum(format.checksum, payload), ChecksumBytes(format.checksum));
  frame += payload;
  return frame;
}

SegmentReadStats ReadSegmentFrames(const FrameFormat& format, std::string_view b, std::string_view segment,
                                   CorruptionReporter* reporter, const FrameVisitor& visit) {
  SegmentReadStats st;
  st.size = b.size();
  const Frames frames(format, b, visit);
  size_t pos = 0;
  while (pos < b.size()) {
    Bad bad = Bad::kNone;
    std::string why;
    size_t len = 0;
    if (const size_t n = frames.Try(pos, &bad, &why, &len); n > 0) {
      ++st.frames;
      pos += n;
      st.end_of_good = pos;
      continue;
    }
    // Resynchronise: where an intact header says the next frame starts, else anywhere.
    std::pair<size_t, size_t> next{std::string_view::npos, 0};
    size_t claimed_end = std::string_view::npos;  // where the bad frame ends, if it is whole
    if (bad == Bad::kChecksum || bad == Bad::kRefused) {
      claimed_end = pos + format.header_bytes() + len;
      Bad b2 = Bad::kNone;
      size_t len2 = 0;
      if (const size_t n = frames.Try(claimed_end, &b2, nullptr, &len2); claimed_end < b.size() && n > 0) {
        next = {claimed_end, n};
      }
    }
    if (next.first == std::string_view::npos) next = frames.Next(pos + 1);
    SegmentDamage d{std::string(segment), pos, 0, why};
    if (next.first != std::string_view::npos) {
      d.bytes = next.first - pos;
      ++st.corrupt_regions;
      st.corrupt_bytes += d.bytes;
      if (reporter) reporter->Corruption(d);
      ++st.frames;
      pos = next.first + next.second;
      st.end_of_good = pos;
      continue;
    }
    d.bytes = b.size() - pos;
    const bool zeros =
        std::all_of(b.begin() + static_cast<std::ptrdiff_t>(pos), b.end(), [](char c) { return c == 0; });
    if (bad == Bad::kHeaderCut || bad == Bad::kPastEnd || zeros) {
      st.torn_bytes = d.bytes;
      if (reporter) reporter->TornTail(d);
    } else {
      ++st.corrupt_regions;
      st.corrupt_bytes += d.bytes;
      if (reporter) reporter->Corruption(d);
    }
    break;
  }
  return st;
}

void LoggingCorruptionReporter::Corruption(const SegmentDamage& d) {
  logger_.Warn("segment_corrupt", {{"log", name_},
                                   {"segment", d.segment},
                                   {"offset", d.offset},
                                   {"bytes", d.bytes},
                                   {"reason", d.reason}});
}

void LoggingCorruptionReporter::TornTail(const SegmentDamage& d) {
  logger_.Info("segment_torn_tail", {{"log", name_},
                                     {"segment", d.segment},
                                     {"offset", d.offset},
                                     {"bytes", d.bytes},
                                     {"reason", d.reason}});
}

std::string SegmentLog::Path(uint64_t id) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/%020llu.seg", static_cast<unsigned long long>(id));
  return dir_ + buf;
}

StatusOr<std::vector<uint64_t>> SegmentLog::List() const {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.List(dir_));
  std::vector<uint64_t> ids;
  for (const std::string& name : names) {
    if (name.size() != 24 || name.substr(20) != ".seg") continue;
    if (!std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) continue;
    ids.push_back(std::strtoull(name.substr(0, 20).c_str(), nullptr, 10));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void SegmentLog::Roll(uint64_t id) {
  current_ = id;
  writable_ = true;
}

Status SegmentLog::AppendFrame(std::string_view frame, bool sync) {
  if (!writable_)
    return FailedPrecondition("segment log " + dir_ + ": no segment takes appends (Roll first)");
  const std::string path = Path(current_);
  Status s = fs_.Append(path, frame);
  if (s.ok() && sync) s = fs_.Sync(path);
  if (!s.ok()) writable_ = false;  // a partial frame may be on disk: it must stay the tail
  return s;
}

void SegmentLog::Report(uint64_t id, const SegmentDamage& d, bool torn) {
  if (!reported_.emplace(id, d.offset).second) return;  // read before: said once
  if (torn) {
    ++torn_tails_;
    torn_bytes_ += static_cast<int64_t>(d.bytes);
    if (reporter_) reporter_->TornTail(d);
  } else {
    ++corrupt_regions_;
    corrupt_bytes_ += static_cast<int64_t>(d.bytes);
    if (reporter_) reporter_->Corruption(d);
  }
}

StatusOr<SegmentReadStats> SegmentLog::Read(uint64_t id, const FrameVisitor& visit) {
  const std::string path = Path(id);
  ASSIGN_OR_RETURN(std::string bytes, fs_.ReadAll(path));
  class Relay final : public CorruptionReporter {
   public:
    Relay(SegmentLog& log, uint64_t id) : log_(log), id_(id) {}
    void Corruption(const SegmentDamage& d) override { log_.Report(id_, d, false); }
    void TornTail(const SegmentDamage& d) override { log_.Report(id_, d, true); }

   private:
    SegmentLog& log_;
    uint64_t id_;
  } relay(*this, id);
  return ReadSegmentFrames(format_, bytes, path, &relay, visit);
}

Status SegmentLog::Remove(uint64_t id) {
  RETURN_IF_ERROR(fs_.RemoveAll(Path(id)));
  reported_.erase(reported_.lower_bound({id, 0}), reported_.upper_bound({id, UINT64_MAX}));
  return OkStatus();
}

SegmentLogCounters SegmentLog::counters() const {
  return {corrupt_regions_.load(), corrupt_bytes_.load(), torn_tails_.load(), torn_bytes_.load()};
}

}  // namespace gpuledger
