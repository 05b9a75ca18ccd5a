#include "agent/disk_queue.h"

#include <algorithm>
#include <cstdio>

#include "common/bytes.h"
#include "common/strings.h"

namespace gpuledger {

namespace {

std::string SegmentName(uint64_t first) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(first));
  return buf;
}

}  // namespace

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
  std::string frame;
  PutLe(frame, payload.size(), 4);
  PutLe(frame, Crc32(payload), 4);
  return frame + payload;
}

std::vector<QueuedRequest> DecodeSegment(std::string_view b) {
  std::vector<QueuedRequest> out;
  size_t pos = 0;
  while (pos + 8 <= b.size()) {
    const uint64_t len = GetLe(b, pos, 4);
    if (len < 12 || len > b.size() - pos - 8) break;  // torn
    const std::string_view payload = b.substr(pos + 8, len);
    if (Crc32(payload) != GetLe(b, pos + 4, 4)) break;  // corrupt tail
    QueuedRequest r;
    r.seq = GetLe(payload, 0, 8);
    size_t at = 8;
    const size_t path_len = GetLe(payload, at, 2);
    at += 2;
    if (at + path_len + 2 > payload.size()) break;
    r.path = std::string(payload.substr(at, path_len));
    at += path_len;
    if (const size_t space = r.path.find(' ');
        !r.path.empty() && r.path[0] != '/' && space != std::string::npos) {
      r.method = r.path.substr(0, space);
      r.path.erase(0, space + 1);
    }
    const size_t type_len = GetLe(payload, at, 2);
    at += 2;
    if (at + type_len > payload.size()) break;
    r.content_type = std::string(payload.substr(at, type_len));
    at += type_len;
    r.body = std::string(payload.substr(at));
    out.push_back(std::move(r));
    pos += 8 + len;
  }
  return out;
}

StatusOr<std::unique_ptr<DiskQueue>> DiskQueue::Open(FileSystem& fs, std::string dir, int64_t max_bytes) {
  if (max_bytes < 2 * kSegmentBytes) {
    return InvalidArgument("the agent's buffer must hold at least " + std::to_string(2 * kSegmentBytes) +
                           " bytes, got " + std::to_string(max_bytes));
  }
  std::unique_ptr<DiskQueue> q(new DiskQueue(fs, std::move(dir), max_bytes));
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.List(q->dir_));
  for (const std::string& name : names) {
    if (name.size() != 24 || name.substr(20) != ".seg") continue;
    Segment s;
    s.path = q->dir_ + "/" + name;
    ASSIGN_OR_RETURN(std::string bytes, fs.ReadAll(s.path));
    s.bytes = static_cast<int64_t>(bytes.size());
    const std::vector<QueuedRequest> recs = DecodeSegment(bytes);
    if (recs.empty()) {
      RETURN_IF_ERROR(fs.RemoveAll(s.path));  // nothing whole in it
      continue;
    }
    s.first = recs.front().seq;
    s.last = recs.back().seq;
    q->next_seq_ = std::max(q->next_seq_, s.last + 1);
    q->segments_.push_back(std::move(s));
  }
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
  std::lock_guard lock(mu_);
  r.seq = next_seq_;
  const std::string frame = EncodeFrame(r);
  if (!back_writable_ || segments_.empty() || segments_.back().bytes >= kSegmentBytes) {
    Segment s;
    s.first = r.seq;
    s.last = r.seq - 1;
    s.path = dir_ + "/" + SegmentName(r.seq);
    segments_.push_back(std::move(s));
    back_writable_ = true;
  }
  Segment& back = segments_.back();
  RETURN_IF_ERROR(fs_.Append(back.path, frame));
  RETURN_IF_ERROR(fs_.Sync(back.path));
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
    RETURN_IF_ERROR(fs_.RemoveAll(old.path));
    if (head_path_ == old.path) head_path_.clear();
    segments_.pop_front();
  }
  return r.seq;
}

Status DiskQueue::LoadHead() {
  if (segments_.empty() || head_path_ == segments_.front().path) return OkStatus();
  ASSIGN_OR_RETURN(std::string bytes, fs_.ReadAll(segments_.front().path));
  head_ = DecodeSegment(bytes);
  head_path_ = segments_.front().path;
  return OkStatus();
}

StatusOr<std::optional<QueuedRequest>> DiskQueue::Front() {
  std::lock_guard lock(mu_);
  while (!segments_.empty()) {
    RETURN_IF_ERROR(LoadHead());
    // Appends to the head segment after it was read: read it again.
    if (!head_.empty() && head_.back().seq < segments_.front().last) {
      head_path_.clear();
      RETURN_IF_ERROR(LoadHead());
    }
    for (const QueuedRequest& r : head_) {
      if (r.seq > acked_) return std::optional<QueuedRequest>(r);
    }
    if (segments_.size() == 1) return std::optional<QueuedRequest>();  // the one being written
    RETURN_IF_ERROR(fs_.RemoveAll(segments_.front().path));            // all acknowledged
    head_path_.clear();
    segments_.pop_front();
  }
  return std::optional<QueuedRequest>();
}

Status DiskQueue::Ack(uint64_t seq) {
  std::lock_guard lock(mu_);
  if (seq <= acked_) return OkStatus();  // dropped meanwhile
  acked_ = seq;
  return WriteAcked();
}

int64_t DiskQueue::bytes() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  return total;
}

int64_t DiskQueue::pending() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1 > acked_ ? static_cast<int64_t>(next_seq_ - 1 - acked_) : 0;
}

int64_t DiskQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace gpuledger
