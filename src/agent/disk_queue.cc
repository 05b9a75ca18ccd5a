#include "agent/disk_queue.h"

#include <algorithm>

#include "common/bytes.h"
#include "common/strings.h"

namespace gpuledger {

std::string EncodeFrame(const QueuedRequest& r) {
  std::string payload;
  PutLe(payload, r.seq, 8);
  // A path starts with '/': another method is written before it, so frames written
  // before methods other than POST existed read the same.
  const std::string path = r.method.empty() || r.method == "POST" ? r.path : r.method + " " + r.path;
  PutLe(payload, path.size(), 2);
  payload += path;
  PutLe(payload, r.content_type.size(), 2);
  payload += r.content_type;
  payload += r.body;
  return EncodeSegmentFrame(kQueueFrameFormat, payload);
}

StatusOr<QueuedRequest> DecodeQueuePayload(std::string_view payload) {
  if (payload.size() < 12)
    return InvalidArgument("outbox frame of " + std::to_string(payload.size()) + " bytes");
  QueuedRequest r;
  r.seq = GetLe(payload, 0, 8);
  size_t at = 8;
  const size_t path_len = GetLe(payload, at, 2);
  at += 2;
  if (at + path_len + 2 > payload.size()) {
    return InvalidArgument("outbox frame: path of " + std::to_string(path_len) + " bytes runs past its end");
  }
  r.path = std::string(payload.substr(at, path_len));
  at += path_len;
  if (const size_t space = r.path.find(' ');
      !r.path.empty() && r.path[0] != '/' && space != std::string::npos) {
    r.method = r.path.substr(0, space);
    r.path.erase(0, space + 1);
  }
  const size_t type_len = GetLe(payload, at, 2);
  at += 2;
  if (at + type_len > payload.size()) {
    return InvalidArgument("outbox frame: content type of " + std::to_string(type_len) +
                           " bytes runs past its end");
  }
  r.content_type = std::string(payload.substr(at, type_len));
  at += type_len;
  r.body = std::string(payload.substr(at));
  return r;
}

namespace {

// Reads a segment's requests: appends them to `out`.
FrameVisitor Collect(std::vector<QueuedRequest>& out) {
  return [&out](std::string_view payload, uint64_t) -> Status {
    ASSIGN_OR_RETURN(QueuedRequest r, DecodeQueuePayload(payload));
    out.push_back(std::move(r));
    return OkStatus();
  };
}

}  // namespace

std::vector<QueuedRequest> DecodeSegment(std::string_view b, CorruptionReporter* reporter,
                                         std::string_view segment) {
  std::vector<QueuedRequest> out;
  ReadSegmentFrames(kQueueFrameFormat, b, segment, reporter, Collect(out));
  return out;
}

StatusOr<std::unique_ptr<DiskQueue>> DiskQueue::Open(FileSystem& fs, std::string dir, int64_t max_bytes,
                                                     CorruptionReporter* reporter) {
  if (max_bytes < 2 * kSegmentBytes) {
    return InvalidArgument("the agent's buffer must hold at least " + std::to_string(2 * kSegmentBytes) +
                           " bytes, got " + std::to_string(max_bytes));
  }
  std::unique_ptr<DiskQueue> q(new DiskQueue(fs, std::move(dir), max_bytes, reporter));
  MutexLock lock(q->mu_);  // no other thread has it yet; the analysis wants it held
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, q->log_.List());
  for (const uint64_t id : ids) {
    std::vector<QueuedRequest> recs;
    ASSIGN_OR_RETURN(SegmentReadStats st, q->log_.Read(id, Collect(recs)));
    q->last_id_ = std::max(q->last_id_, id);
    if (recs.empty()) {
      RETURN_IF_ERROR(q->log_.Remove(id));  // nothing whole in it
      continue;
    }
    Segment s;
    s.id = id;
    s.bytes = static_cast<int64_t>(st.size);
    s.first = recs.front().seq;
    s.last = recs.back().seq;
    q->next_seq_ = std::max(q->next_seq_, s.last + 1);
    q->segments_.push_back(s);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.List(q->dir_));
  if (std::find(names.begin(), names.end(), "acked") != names.end()) {
    ASSIGN_OR_RETURN(std::string text, fs.ReadAll(q->dir_ + "/acked"));
    q->acked_bytes_ = static_cast<int64_t>(text.size());
    const size_t end = text.rfind('\n');
    if (end != std::string::npos) {
      text.resize(end);
      const size_t nl = text.rfind('\n');
      ASSIGN_OR_RETURN(int64_t acked,
                       ParseInt(nl == std::string::npos ? text : text.substr(nl + 1), "acked"));
      q->acked_ = static_cast<uint64_t>(acked);
      q->next_seq_ = std::max(q->next_seq_, q->acked_ + 1);
    }
  }
  return q;
}

Status DiskQueue::WriteAcked() {
  const std::string path = dir_ + "/acked";
  const std::string line = std::to_string(acked_) + "\n";
  if (acked_bytes_ > (1 << 20)) {  // a crash right here replays the queue: absorbed by the server
    RETURN_IF_ERROR(fs_.RemoveAll(path));
    acked_bytes_ = 0;
  }
  RETURN_IF_ERROR(fs_.Append(path, line));
  acked_bytes_ += static_cast<int64_t>(line.size());
  return fs_.Sync(path);
}

StatusOr<uint64_t> DiskQueue::Append(QueuedRequest r) {
  MutexLock lock(mu_);
  r.seq = next_seq_;
  const std::string frame = EncodeFrame(r);
  if (!log_.writable() || segments_.empty() || segments_.back().bytes >= kSegmentBytes) {
    // Named by its first seq, and above every earlier name (one a failed append left).
    last_id_ = std::max(r.seq, last_id_ + 1);
    segments_.push_back({last_id_, r.seq, r.seq - 1, 0});
    log_.Roll(last_id_);
  }
  Segment& back = segments_.back();
  if (Status s = log_.AppendFrame(frame, /*sync=*/true); !s.ok()) {
    // Sealed: the next append goes to a new segment, never behind a partial frame. A
    // segment with nothing whole in it is dropped (else read again at Open, and removed).
    if (back.last < back.first && log_.Remove(back.id).ok()) segments_.pop_back();
    return s;
  }
  back.bytes += static_cast<int64_t>(frame.size());
  back.last = r.seq;
  ++next_seq_;
  // Over the bound: drop the oldest segments (never the one being written).
  int64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  while (total > max_bytes_ && segments_.size() > 1) {
    const Segment& old = segments_.front();
    if (old.last > acked_) dropped_ += static_cast<int64_t>(old.last - std::max(acked_, old.first - 1));
    acked_ = std::max(acked_, old.last);
    total -= old.bytes;
    RETURN_IF_ERROR(log_.Remove(old.id));
    head_loaded_ = false;
    segments_.pop_front();
  }
  return r.seq;
}

Status DiskQueue::LoadHead() {
  if (segments_.empty()) return OkStatus();
  // Read again when appended to since: a segment's bytes count only whole frames.
  if (head_loaded_ && static_cast<uint64_t>(segments_.front().bytes) <= head_size_) return OkStatus();
  head_.clear();
  ASSIGN_OR_RETURN(SegmentReadStats st, log_.Read(segments_.front().id, Collect(head_)));
  head_size_ = st.size;
  head_loaded_ = true;
  return OkStatus();
}

StatusOr<std::optional<QueuedRequest>> DiskQueue::Front() {
  MutexLock lock(mu_);
  while (!segments_.empty()) {
    RETURN_IF_ERROR(LoadHead());
    for (const QueuedRequest& r : head_) {
      if (r.seq > acked_) return std::optional<QueuedRequest>(r);
    }
    if (segments_.size() == 1) return std::optional<QueuedRequest>();  // the one being written
    RETURN_IF_ERROR(log_.Remove(segments_.front().id));                // all acknowledged
    head_loaded_ = false;
    segments_.pop_front();
  }
  return std::optional<QueuedRequest>();
}

Status DiskQueue::Ack(uint64_t seq) {
  MutexLock lock(mu_);
  if (seq <= acked_) return OkStatus();  // dropped meanwhile
  acked_ = seq;
  return WriteAcked();
}

int64_t DiskQueue::bytes() const {
  MutexLock lock(mu_);
  int64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  return total;
}

int64_t DiskQueue::pending() const {
  MutexLock lock(mu_);
  return next_seq_ - 1 > acked_ ? static_cast<int64_t>(next_seq_ - 1 - acked_) : 0;
}

SegmentLogCounters DiskQueue::damage() const {
  MutexLock lock(mu_);
  return log_.counters();
}

int64_t DiskQueue::dropped() const {
  MutexLock lock(mu_);
  return dropped_;
}

}  // namespace gpuledger
