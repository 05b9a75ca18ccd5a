#include "server/journal.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/bytes.h"

namespace gpuledger {

namespace {

constexpr size_t kFrameHeader = 12;     // u32 length, u64 checksum
constexpr size_t kRowBytes = 36;        // after the UUID: i64 t, f32 x3, i64 energy, f32 sm, f32 gr
constexpr size_t kOldRowBytes = 32;     // frames without the gr flag: no gr_active
constexpr uint32_t kGrFlag = 1u << 31;  // in a frame's row count: rows carry gr_active
constexpr size_t kMaxUuid = 255;        // u8 length; 0 means "the previous row's GPU"

[[maybe_unused]] void PutF32(std::string& out, float f) {  // big-endian hosts only
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  PutLe(out, bits, 4);
}

// A row's fixed part (after the UUID), little-endian.
void PutRow(std::string& out, const Sample& s) {
  if constexpr (std::endian::native == std::endian::little) {
    char row[kRowBytes];
    std::memcpy(row, &s.t, 8);
    std::memcpy(row + 8, &s.util_pct, 4);
    std::memcpy(row + 12, &s.mem_mib, 4);
    std::memcpy(row + 16, &s.power_w, 4);
    std::memcpy(row + 20, &s.energy_mj, 8);
    std::memcpy(row + 28, &s.sm_active, 4);
    std::memcpy(row + 32, &s.gr_active, 4);
    out.append(row, kRowBytes);
  } else {
    PutLe(out, static_cast<uint64_t>(s.t), 8);
    PutF32(out, s.util_pct);
    PutF32(out, s.mem_mib);
    PutF32(out, s.power_w);
    PutLe(out, static_cast<uint64_t>(s.energy_mj), 8);
    PutF32(out, s.sm_active);
    PutF32(out, s.gr_active);
  }
}
float GetF32(std::string_view b, size_t pos) {
  const auto bits = static_cast<uint32_t>(GetLe(b, pos, 4));
  float f = 0;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

std::string EncodeJournalFrame(const std::vector<GpuSample>& samples) {
  std::string payload;
  payload.reserve(4 + samples.size() * (kRowBytes + 1) + 64);
  PutLe(payload, samples.size() | kGrFlag, 4);
  const std::string* last = nullptr;
  for (const GpuSample& g : samples) {
    if (last != nullptr && *last == g.gpu_uuid) {
      payload += '\0';
    } else {
      // Append refuses longer UUIDs; cut here all the same, never overrun the u8.
      const size_t n = std::min(g.gpu_uuid.size(), kMaxUuid);
      PutLe(payload, n, 1);
      payload.append(g.gpu_uuid, 0, n);
      last = &g.gpu_uuid;
    }
    PutRow(payload, g.sample);
  }
  std::string frame;
  frame.reserve(kFrameHeader + payload.size());
  PutLe(frame, payload.size(), 4);
  PutLe(frame, XXH3_64bits(payload.data(), payload.size()), 8);
  frame += payload;
  return frame;
}

std::vector<GpuSample> DecodeJournalSegment(std::string_view b, size_t* bytes_used) {
  std::vector<GpuSample> out;
  size_t pos = 0;
  while (b.size() - pos >= kFrameHeader) {
    const size_t len = GetLe(b, pos, 4);
    if (len < 4 || len > b.size() - pos - kFrameHeader) break;  // torn
    const std::string_view p = b.substr(pos + kFrameHeader, len);
    if (XXH3_64bits(p.data(), p.size()) != GetLe(b, pos + 4, 8)) break;  // corrupt
    const auto counted = static_cast<uint32_t>(GetLe(p, 0, 4));
    const size_t rows = counted & ~kGrFlag;
    const size_t row_bytes = counted & kGrFlag ? kRowBytes : kOldRowBytes;
    std::vector<GpuSample> frame;
    size_t at = 4;
    std::string uuid;
    bool ok = true;
    for (size_t i = 0; i < rows && ok; ++i) {
      const size_t n = at < p.size() ? static_cast<uint8_t>(p[at]) : 0;
      if (at >= p.size() || p.size() - at - 1 < n + row_bytes || (n == 0 && uuid.empty())) {
        ok = false;
        break;
      }
      if (n > 0) uuid.assign(p.substr(at + 1, n));
      at += 1 + n;
      GpuSample g{uuid, {}};
      g.sample.t = static_cast<TimeMs>(GetLe(p, at, 8));
      g.sample.util_pct = GetF32(p, at + 8);
      g.sample.mem_mib = GetF32(p, at + 12);
      g.sample.power_w = GetF32(p, at + 16);
      g.sample.energy_mj = static_cast<int64_t>(GetLe(p, at + 20, 8));
      g.sample.sm_active = GetF32(p, at + 28);
      if (row_bytes == kRowBytes) g.sample.gr_active = GetF32(p, at + 32);
      at += row_bytes;
      frame.push_back(std::move(g));
    }
    if (!ok || at != p.size()) break;  // a checksum match with a bad body: stop as if torn
    std::move(frame.begin(), frame.end(), std::back_inserter(out));
    pos += kFrameHeader + len;
  }
  if (bytes_used) *bytes_used = pos;
  return out;
}

std::string IngestJournal::SegmentPath(uint64_t seq) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/%020llu.seg", static_cast<unsigned long long>(seq));
  return dir_ + buf;
}

StatusOr<std::unique_ptr<IngestJournal>> IngestJournal::Open(FileSystem& fs, std::string dir,
                                                             size_t max_pending) {
  std::unique_ptr<IngestJournal> j(new IngestJournal(fs, std::move(dir), max_pending));
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.List(j->dir_));
  for (const std::string& name : names) {  // sorted: oldest first
    if (name.size() != 24 || name.substr(20) != ".seg") continue;
    const uint64_t seq = std::strtoull(name.substr(0, 20).c_str(), nullptr, 10);
    ASSIGN_OR_RETURN(std::string bytes, fs.ReadAll(j->dir_ + "/" + name));
    std::vector<GpuSample> rows = DecodeJournalSegment(bytes);
    j->pending_count_ += rows.size();
    j->pending_.push_back(std::move(rows));
    j->segments_.push_back(seq);
    j->next_seq_ = std::max(j->next_seq_, seq + 1);
  }
  j->roll_ = true;  // never append behind what an earlier run left
  return j;
}

Status IngestJournal::CheckRoom(size_t n) const {
  std::lock_guard lock(mu_);
  if (pending_count_ + n > max_pending_) {
    return Unavailable("the ingest journal holds " + std::to_string(pending_count_) +
                       " samples not yet in the ledger (limit " + std::to_string(max_pending_) +
                       "): the ledger is not keeping up; retry later");
  }
  return OkStatus();
}

Status IngestJournal::Append(std::vector<GpuSample> samples) {
  if (samples.empty()) return OkStatus();
  for (const GpuSample& g : samples) {
    if (g.gpu_uuid.size() > kMaxUuid) {  // a frame could not replay it whole
      return InvalidArgument("GPU UUID '" + g.gpu_uuid.substr(0, 64) + "...' is " +
                             std::to_string(g.gpu_uuid.size()) + " bytes long, over the limit " +
                             std::to_string(kMaxUuid) + " bytes");
    }
  }
  const std::string frame = EncodeJournalFrame(samples);
  std::lock_guard lock(mu_);
  if (pending_count_ + samples.size() > max_pending_) {
    return Unavailable("the ingest journal holds " + std::to_string(pending_count_) +
                       " samples not yet in the ledger (limit " + std::to_string(max_pending_) +
                       "): the ledger is not keeping up; retry later");
  }
  if (roll_) {
    segments_.push_back(next_seq_++);
    roll_ = false;
  }
  if (Status s = fs_.Append(SegmentPath(segments_.back()), frame); !s.ok()) {
    roll_ = true;  // a partial frame may be on disk: it must stay a segment's tail
    return s;
  }
  pending_count_ += samples.size();
  pending_.push_back(std::move(samples));  // no sample moves: the batch is kept whole
  return OkStatus();
}

IngestJournal::Taken IngestJournal::Take() {
  std::vector<std::vector<GpuSample>> batches;
  Taken t;
  {
    std::lock_guard lock(mu_);
    batches.swap(pending_);
    t.appended = pending_count_;
    pending_count_ = 0;
    t.through = segments_.empty() ? 0 : segments_.back();
    roll_ = true;  // later appends go to a segment this take does not cover
  }
  // Group by GPU (first appearance), then merge each GPU's times in append order.
  std::unordered_map<std::string_view, size_t> gpu_index;
  std::vector<std::vector<GpuSample*>> by_gpu;
  for (std::vector<GpuSample>& rows : batches) {
    std::vector<GpuSample*>* current = nullptr;
    for (size_t i = 0; i < rows.size(); ++i) {
      GpuSample& g = rows[i];
      if (i == 0 || g.gpu_uuid != rows[i - 1].gpu_uuid) {  // a batch holds a GPU's rows together
        auto [it, fresh] = gpu_index.try_emplace(g.gpu_uuid, by_gpu.size());
        if (fresh) by_gpu.emplace_back();
        current = &by_gpu[it->second];
      }
      current->push_back(&g);
    }
  }
  std::vector<std::pair<std::string_view, size_t>> order(gpu_index.begin(), gpu_index.end());
  std::sort(order.begin(), order.end());  // before any UUID is moved from
  t.samples.reserve(t.appended);
  for (const auto& entry : order) {
    std::vector<GpuSample*>& list = by_gpu[entry.second];
    std::stable_sort(list.begin(), list.end(),
                     [](const GpuSample* a, const GpuSample* b) { return a->sample.t < b->sample.t; });
    const size_t gpu_begin = t.samples.size();
    for (GpuSample* g : list) {
      if (t.samples.size() > gpu_begin && t.samples.back().sample.t == g->sample.t) {
        MergeReported(t.samples.back().sample, g->sample);
      } else {
        t.samples.push_back(std::move(*g));
      }
    }
  }
  return t;
}

Status IngestJournal::Release(const Taken& taken) {
  std::vector<uint64_t> drop;
  {
    std::lock_guard lock(mu_);
    while (!segments_.empty() && segments_.front() <= taken.through) {
      // The back segment is never appended to again once a take covered it (roll_).
      drop.push_back(segments_.front());
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t seq : drop) RETURN_IF_ERROR(fs_.RemoveAll(SegmentPath(seq)));
  return OkStatus();
}

void IngestJournal::Restore(Taken taken) {
  std::lock_guard lock(mu_);
  // Merged rows stand for the batches they came from; newer batches must still win.
  pending_count_ += taken.samples.size();
  pending_.insert(pending_.begin(), std::move(taken.samples));
}

size_t IngestJournal::pending() const {
  std::lock_guard lock(mu_);
  return pending_count_;
}

}  // namespace gpuledger
