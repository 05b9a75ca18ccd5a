#include "server/raw_flush.h"

#include <algorithm>

#include "common/strings.h"

namespace gpuledger {

namespace {
constexpr size_t kMarkFileMax = 1 << 20;  // rewritten when it grows past this
}

Status RawFlusher::Note(const std::vector<GpuSample>& samples) {
  TimeMs low = kMaxTimeMs;
  for (const GpuSample& g : samples) low = std::min(low, g.sample.t);
  if (low < mark_) RETURN_IF_ERROR(WriteMark(low));
  // A batch holds each GPU's samples together: one map lookup per GPU, not per sample.
  std::vector<TimeMs>* times = nullptr;
  const std::string* last = nullptr;
  for (const GpuSample& g : samples) {
    if (last == nullptr || *last != g.gpu_uuid) {
      times = &dirty_[g.gpu_uuid];
      last = &g.gpu_uuid;
    }
    times->push_back(g.sample.t);
  }
  return OkStatus();
}

RawFlusher::Dirty RawFlusher::TakeDirty() {
  Dirty out;
  out.swap(dirty_);
  // The mark stays until MarkFlushed: it covers both these and what is noted meanwhile.
  return out;
}

Status RawFlusher::MarkFlushed() {
  TimeMs low = kMaxTimeMs;
  for (const auto& [uuid, times] : dirty_) {
    for (TimeMs t : times) low = std::min(low, t);
  }
  return WriteMark(low);
}

void RawFlusher::Restore(const Dirty& dirty) {
  // The mark has not moved since TakeDirty, so it still covers these.
  for (const auto& [uuid, times] : dirty) {
    std::vector<TimeMs>& mine = dirty_[uuid];
    mine.insert(mine.end(), times.begin(), times.end());
  }
}

size_t RawFlusher::pending() const {
  size_t n = 0;
  for (const auto& [uuid, times] : dirty_) n += times.size();
  return n;
}

StatusOr<RawFlusher::PerGpu> RawFlusher::ReadBack(Ledger& ledger, const Dirty& dirty) {
  PerGpu out;
  for (const auto& entry : dirty) {
    std::vector<TimeMs> times = entry.second;
    if (times.empty()) continue;
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    std::vector<Sample>& list = out[entry.first];
    RETURN_IF_ERROR(ledger.ScanSamples(entry.first, {times.front(), times.back() + 1}, [&](const Sample& s) {
      if (std::binary_search(times.begin(), times.end(), s.t)) list.push_back(s);
    }));
  }
  return out;
}

Status RawFlusher::Write(const PerGpu& samples) {
  for (const auto& [uuid, list] : samples) RETURN_IF_ERROR(store_.Append(uuid, list));
  return OkStatus();
}

StatusOr<TimeMs> RawFlusher::ReadMark() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.List(dir_));
  if (std::find(names.begin(), names.end(), "pending") == names.end()) return kMinTimeMs;
  ASSIGN_OR_RETURN(std::string text, fs_.ReadAll(dir_ + "/pending"));
  // The last complete line; a torn last line (crash mid-append) is ignored.
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) return kMinTimeMs;
  text.resize(end);
  const size_t nl = text.rfind('\n');
  const std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  if (line == "none") return kMaxTimeMs;
  ASSIGN_OR_RETURN(int64_t t, ParseInt(line, dir_ + "/pending"));
  return t;
}

Status RawFlusher::WriteMark(TimeMs t) {
  const std::string path = dir_ + "/pending";
  const std::string line = (t == kMaxTimeMs ? std::string("none") : std::to_string(t)) + "\n";
  if (mark_bytes_ > kMarkFileMax) {
    // A crash between the remove and the sync leaves no file: Recover then re-flushes
    // everything, which is slow but loses nothing.
    RETURN_IF_ERROR(fs_.RemoveAll(path));
    mark_bytes_ = 0;
  }
  RETURN_IF_ERROR(fs_.Append(path, line));
  RETURN_IF_ERROR(fs_.Sync(path));
  mark_bytes_ += line.size();
  mark_ = t;
  return OkStatus();
}

StatusOr<int64_t> RawFlusher::Recover(Ledger& ledger) {
  ASSIGN_OR_RETURN(TimeMs from, ReadMark());
  int64_t n = 0;
  if (from != kMaxTimeMs) {
    ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
    for (const Gpu& g : gpus) {  // one GPU at a time: a first recovery may read months
      std::vector<Sample> list;
      RETURN_IF_ERROR(
          ledger.ScanSamples(g.uuid, {from, kMaxTimeMs}, [&](const Sample& s) { list.push_back(s); }));
      n += static_cast<int64_t>(list.size());
      RETURN_IF_ERROR(store_.Append(g.uuid, std::move(list)));
    }
  }
  mark_bytes_ = kMarkFileMax + 1;  // start the file afresh
  RETURN_IF_ERROR(WriteMark(kMaxTimeMs));
  return n;
}

}  // namespace gpuledger
