#include "server/journal.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "common/bytes.h"

namespace gpuledger {

namespace {

constexpr size_t kRowBytes = 36;        // after the UUID: i64 t, f32 x3, i64 energy, f32 sm, f32 gr
constexpr size_t kOldRowBytes = 32;     // frames without the gr flag: no gr_active
constexpr uint32_t kGrFlag = 1u << 31;  // in a frame's row count: rows carry gr_active
constexpr size_t kMaxUuid = 255;        // u8 length; 0 means "the previous row's GPU"
constexpr uint32_t kGpusFlag = 1u << 30;      // a first u32 with it counts GPUs, not rows
constexpr size_t kMaxGpuText = 0xffff;        // a GPU's node and model: u16 length
constexpr size_t kGpuFixedBytes = 4 + 5 * 8;  // i32 index, i64 memory, from, to, interval, gap

void PutText(std::string& out, std::string_view text, size_t max_bytes, int length_bytes) {
  const size_t n = std::min(text.size(), max_bytes);  // never overrun the length field
  PutLe(out, n, length_bytes);
  out.append(text.substr(0, n));
}

void PutGpu(std::string& out, const Gpu& g) {
  PutText(out, g.uuid, kMaxUuid, 1);
  PutText(out, g.node, kMaxGpuText, 2);
  PutText(out, g.model, kMaxGpuText, 2);
  PutLe(out, static_cast<uint32_t>(g.index), 4);
  for (const int64_t v :
       {g.memory_mib, g.in_service_from, g.in_service_to, g.sample_interval_ms, g.max_gap_ms}) {
    PutLe(out, static_cast<uint64_t>(v), 8);
  }
}

// Reads one GPU at `at` (moved past it), or says why it does not fit in `p`.
Status GetGpu(std::string_view p, size_t& at, Gpu& g) {
  auto text = [&](int length_bytes, std::string& out) -> bool {
    if (p.size() - at < static_cast<size_t>(length_bytes)) return false;
    const size_t n = GetLe(p, at, length_bytes);
    if (p.size() - at - length_bytes < n) return false;
    out.assign(p.substr(at + length_bytes, n));
    at += length_bytes + n;
    return true;
  };
  if (!text(1, g.uuid) || !text(2, g.node) || !text(2, g.model) || p.size() - at < kGpuFixedBytes) {
    return InvalidArgument("journal frame: a GPU runs past the payload's " + std::to_string(p.size()) +
                           " bytes");
  }
  if (g.uuid.empty()) return InvalidArgument("journal frame: a GPU without a UUID");
  g.index = static_cast<int32_t>(GetLe(p, at, 4));
  int64_t* fields[] = {&g.memory_mib, &g.in_service_from, &g.in_service_to, &g.sample_interval_ms,
                       &g.max_gap_ms};
  for (size_t i = 0; i < std::size(fields); ++i)
    *fields[i] = static_cast<int64_t>(GetLe(p, at + 4 + 8 * i, 8));
  at += kGpuFixedBytes;
  return OkStatus();
}

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

std::string EncodeJournalPayload(const std::vector<GpuSample>& samples, const std::vector<Gpu>& gpus) {
  std::string payload;
  payload.reserve(4 + samples.size() * (kRowBytes + 1) + 64);
  if (!gpus.empty()) {  // frames without GPUs keep the older layout
    PutLe(payload, gpus.size() | kGpusFlag, 4);
    for (const Gpu& g : gpus) PutGpu(payload, g);
  }
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
  return payload;
}

std::string EncodeJournalFrame(const std::vector<GpuSample>& samples, const std::vector<Gpu>& gpus) {
  return EncodeSegmentFrame(kJournalFrameFormat, EncodeJournalPayload(samples, gpus));
}

Status DecodeJournalPayload(std::string_view p, std::vector<GpuSample>& out, std::vector<Gpu>* gpus) {
  size_t at = 0;
  std::vector<Gpu> frame_gpus;
  if (p.size() >= 4 && (GetLe(p, 0, 4) & kGpusFlag) != 0) {
    const size_t count = GetLe(p, 0, 4) & ~(kGpusFlag | kGrFlag);
    frame_gpus.reserve(std::min(count, p.size() / (3 + kGpuFixedBytes)));
    at = 4;
    for (size_t i = 0; i < count; ++i) {
      Gpu g;
      RETURN_IF_ERROR(
          GetGpu(p, at, g).WithContext("GPU " + std::to_string(i) + " of " + std::to_string(count)));
      frame_gpus.push_back(std::move(g));
    }
  }
  if (p.size() - at < 4) {
    return InvalidArgument("journal frame: no row count after its " + std::to_string(frame_gpus.size()) +
                           " GPUs (" + std::to_string(p.size()) + " bytes)");
  }
  const auto counted = static_cast<uint32_t>(GetLe(p, at, 4));
  if ((counted & kGpusFlag) != 0) return InvalidArgument("journal frame: a second GPU list");
  const size_t rows = counted & ~kGrFlag;
  const size_t row_bytes = counted & kGrFlag ? kRowBytes : kOldRowBytes;
  std::vector<GpuSample> frame;
  frame.reserve(std::min(rows, p.size() / (row_bytes + 1)));
  at += 4;
  std::string uuid;
  for (size_t i = 0; i < rows; ++i) {
    const size_t n = at < p.size() ? static_cast<uint8_t>(p[at]) : 0;
    if (at >= p.size() || p.size() - at - 1 < n + row_bytes) {
      return InvalidArgument("journal frame: row " + std::to_string(i) + " of " + std::to_string(rows) +
                             " runs past the payload's " + std::to_string(p.size()) + " bytes");
    }
    if (n == 0 && uuid.empty()) return InvalidArgument("journal frame: its first row names no GPU");
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
  if (at != p.size()) {
    return InvalidArgument("journal frame: " + std::to_string(rows) + " rows fill " + std::to_string(at) +
                           " of its " + std::to_string(p.size()) + " bytes");
  }
  std::move(frame.begin(), frame.end(), std::back_inserter(out));  // only a whole frame
  if (gpus) std::move(frame_gpus.begin(), frame_gpus.end(), std::back_inserter(*gpus));
  return OkStatus();
}

std::vector<GpuSample> DecodeJournalSegment(std::string_view b, size_t* bytes_used,
                                            CorruptionReporter* reporter, std::string_view segment,
                                            std::vector<Gpu>* gpus) {
  std::vector<GpuSample> out;
  const SegmentReadStats st =
      ReadSegmentFrames(kJournalFrameFormat, b, segment, reporter,
                        [&](std::string_view p, uint64_t) { return DecodeJournalPayload(p, out, gpus); });
  if (bytes_used) *bytes_used = st.end_of_good;
  return out;
}

StatusOr<std::unique_ptr<IngestJournal>> IngestJournal::Open(FileSystem& fs, std::string dir,
                                                             size_t max_pending,
                                                             CorruptionReporter* reporter) {
  std::unique_ptr<IngestJournal> j(new IngestJournal(fs, std::move(dir), max_pending, reporter));
  MutexLock lock(j->mu_);  // no other thread has it yet; the analysis wants it held
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, j->log_.List());
  for (const uint64_t seq : ids) {  // oldest first
    std::vector<GpuSample> rows;
    std::vector<Gpu> gpus;
    RETURN_IF_ERROR(
        j->log_.Read(seq, [&](std::string_view p, uint64_t) { return DecodeJournalPayload(p, rows, &gpus); })
            .status());
    j->AddPendingGpus(gpus);
    j->pending_count_ += rows.size();
    j->pending_.push_back(std::move(rows));
    j->segments_.push_back(seq);
    j->next_seq_ = std::max(j->next_seq_, seq + 1);
  }
  // Sealed: never append behind what an earlier run left.
  return j;
}

Status IngestJournal::CheckRoom(size_t n) const {
  MutexLock lock(mu_);
  if (pending_count_ + n > max_pending_) {
    return Unavailable("the ingest journal holds " + std::to_string(pending_count_) +
                       " samples not yet in the ledger (limit " + std::to_string(max_pending_) +
                       "): the ledger is not keeping up; retry later");
  }
  return OkStatus();
}

Status IngestJournal::Append(std::vector<GpuSample> samples, std::vector<Gpu> gpus) {
  if (samples.empty() && gpus.empty()) return OkStatus();
  auto fits = [](std::string_view what, const std::string& text, size_t limit) -> Status {
    if (text.size() <= limit) return OkStatus();  // a frame could not replay it whole
    return InvalidArgument(std::string(what) + " '" + text.substr(0, 64) + "...' is " +
                           std::to_string(text.size()) + " bytes long, over the limit " +
                           std::to_string(limit) + " bytes");
  };
  for (const GpuSample& g : samples) RETURN_IF_ERROR(fits("GPU UUID", g.gpu_uuid, kMaxUuid));
  for (const Gpu& g : gpus) {
    RETURN_IF_ERROR(fits("GPU UUID", g.uuid, kMaxUuid));
    RETURN_IF_ERROR(fits("GPU node", g.node, kMaxGpuText));
    RETURN_IF_ERROR(fits("GPU model", g.model, kMaxGpuText));
  }
  const std::string frame = EncodeJournalFrame(samples, gpus);  // outside the lock
  MutexLock lock(mu_);
  if (pending_count_ + samples.size() > max_pending_) {
    return Unavailable("the ingest journal holds " + std::to_string(pending_count_) +
                       " samples not yet in the ledger (limit " + std::to_string(max_pending_) +
                       "): the ledger is not keeping up; retry later");
  }
  if (!log_.writable()) {
    segments_.push_back(next_seq_);
    log_.Roll(next_seq_++);
  }
  // No fsync: the page cache keeps it through a process crash. A failure seals the
  // segment (a partial frame may be on disk: it must stay a segment's tail).
  RETURN_IF_ERROR(log_.AppendFrame(frame, /*sync=*/false));
  pending_count_ += samples.size();
  pending_.push_back(std::move(samples));  // no sample moves: the batch is kept whole
  AddPendingGpus(gpus);
  return OkStatus();
}

void IngestJournal::AddPendingGpus(std::vector<Gpu>& gpus) {
  for (Gpu& g : gpus) {
    if (pending_gpu_ids_.insert(g.uuid).second) pending_gpus_.push_back(std::move(g));
  }
}

IngestJournal::Taken IngestJournal::Take() {
  std::vector<std::vector<GpuSample>> batches;
  std::vector<Gpu> gpus;
  Taken t;
  {
    MutexLock lock(mu_);
    batches.swap(pending_);
    gpus.swap(pending_gpus_);
    pending_gpu_ids_.clear();
    t.appended = pending_count_;
    pending_count_ = 0;
    t.through = segments_.empty() ? 0 : segments_.back();
    log_.Seal();  // later appends go to a segment this take does not cover
  }
  t.gpus = std::move(gpus);  // one per UUID, the first journaled
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
    MutexLock lock(mu_);
    while (!segments_.empty() && segments_.front() <= taken.through) {
      // The back segment is never appended to again once a take covered it (sealed).
      drop.push_back(segments_.front());
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t seq : drop) {
    MutexLock lock(mu_);  // the log's bookkeeping is under mu_
    RETURN_IF_ERROR(log_.Remove(seq));
  }
  return OkStatus();
}

void IngestJournal::Restore(Taken taken) {
  MutexLock lock(mu_);
  // Merged rows stand for the batches they came from; newer batches must still win.
  pending_count_ += taken.samples.size();
  pending_.insert(pending_.begin(), std::move(taken.samples));
  // The taken GPUs were journaled first: they stand over any journaled since.
  std::vector<Gpu> since;
  since.swap(pending_gpus_);
  pending_gpu_ids_.clear();
  AddPendingGpus(taken.gpus);
  AddPendingGpus(since);
}

SegmentLogCounters IngestJournal::damage() const {
  MutexLock lock(mu_);
  return log_.counters();
}

size_t IngestJournal::pending() const {
  MutexLock lock(mu_);
  return pending_count_;
}

}  // namespace gpuledger
