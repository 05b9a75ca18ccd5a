#include "tsdb/sample_store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "common/bytes.h"
#include "tsdb/chunk.h"

namespace gpuledger {

namespace {

int64_t DayOf(TimeMs t) { return t >= 0 ? t / kDayMs : (t - kDayMs + 1) / kDayMs; }

void PutU32(std::string& out, uint32_t v) { PutLe(out, v, 4); }
uint32_t GetU32(std::string_view b, size_t pos) { return static_cast<uint32_t>(GetLe(b, pos, 4)); }

bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

StatusOr<std::string> SampleStore::EncodeFrames(const std::vector<Sample>& list) {
  std::string frames;
  for (size_t start = 0; start < list.size(); start += kMaxChunkSamples) {
    const std::vector<Sample> part(
        list.begin() + static_cast<std::ptrdiff_t>(start),
        list.begin() + static_cast<std::ptrdiff_t>(std::min(list.size(), start + kMaxChunkSamples)));
    ASSIGN_OR_RETURN(std::string chunk, EncodeChunk(part));
    PutU32(frames, static_cast<uint32_t>(chunk.size()));
    PutU32(frames, Crc32(chunk));
    frames += chunk;
  }
  return frames;
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kTable[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string SampleStore::DayDir(int64_t day) const {
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return dir_ + "/" + buf;
}

Status SampleStore::Append(const std::string& gpu_uuid, std::vector<Sample> samples) {
  if (!SafeName(gpu_uuid)) {
    return InvalidArgument("GPU uuid '" + gpu_uuid +
                           "' is not usable as a file name (letters, digits, - _ .)");
  }
  if (samples.empty()) return OkStatus();
  // Sort, keep the last of equal times, split by UTC day.
  std::stable_sort(samples.begin(), samples.end(),
                   [](const Sample& a, const Sample& b) { return a.t < b.t; });
  std::map<int64_t, std::vector<Sample>> days;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i + 1 < samples.size() && samples[i + 1].t == samples[i].t) continue;
    days[DayOf(samples[i].t)].push_back(samples[i]);
  }
  for (auto& [day, list] : days) {
    const std::string path = DayDir(day) + "/" + gpu_uuid + ".chunks";
    ASSIGN_OR_RETURN(std::string frames, EncodeFrames(list));
    RETURN_IF_ERROR(fs_.Append(path, frames));
    RETURN_IF_ERROR(fs_.Sync(path));
  }
  return OkStatus();
}

StatusOr<std::vector<Sample>> SampleStore::Read(const std::string& gpu_uuid, Window w,
                                                StoreReadStats* stats) {
  if (!SafeName(gpu_uuid)) return InvalidArgument("GPU uuid '" + gpu_uuid + "' is not a stored series name");
  std::map<TimeMs, Sample> by_time;  // later chunks overwrite earlier ones
  StoreReadStats local;
  for (int64_t day = DayOf(w.start); w.end > w.start && day <= DayOf(w.end - 1); ++day) {
    auto data = fs_.ReadAll(DayDir(day) + "/" + gpu_uuid + ".chunks");
    if (!data.ok()) {
      if (data.status().code() == StatusCode::kNotFound) continue;
      return data.status();
    }
    const std::string& b = *data;
    size_t pos = 0;
    while (pos < b.size()) {
      if (b.size() - pos < 8 || b.size() - pos - 8 < GetU32(b, pos)) {
        ++local.torn_frames;  // an append that did not finish: never acknowledged
        break;
      }
      const uint32_t len = GetU32(b, pos), crc = GetU32(b, pos + 4);
      const std::string_view chunk(b.data() + pos + 8, len);
      if (Crc32(chunk) != crc) {
        if (pos + 8 + len == b.size()) {
          ++local.torn_frames;
          break;
        }
        return Internal("sample store: chunk at byte " + std::to_string(pos) + " of " + DayDir(day) + "/" +
                        gpu_uuid + ".chunks fails its CRC (corrupt file)");
      }
      ASSIGN_OR_RETURN(std::vector<Sample> samples, DecodeChunk(chunk));
      for (const Sample& s : samples) {
        if (w.Contains(s.t)) by_time[s.t] = s;
      }
      ++local.chunks;
      pos += 8 + len;
    }
  }
  if (stats != nullptr) *stats = local;
  std::vector<Sample> out;
  out.reserve(by_time.size());
  for (auto& [t, s] : by_time) out.push_back(s);
  return out;
}

StatusOr<int> SampleStore::DropBefore(TimeMs cutoff) {
  ASSIGN_OR_RETURN(std::vector<std::string> days, fs_.List(dir_));
  int dropped = 0;
  for (const std::string& name : days) {
    int y = 0, m = 0, d = 0;
    if (std::sscanf(name.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) continue;
    const int64_t day = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    if ((day + 1) * kDayMs <= cutoff) {
      RETURN_IF_ERROR(fs_.RemoveAll(dir_ + "/" + name));
      ++dropped;
    }
  }
  return dropped;
}

StatusOr<int> SampleStore::CompactBefore(TimeMs cutoff) {
  ASSIGN_OR_RETURN(std::vector<std::string> days, fs_.List(dir_));
  int rewritten = 0;
  for (const std::string& name : days) {
    int y = 0, m = 0, d = 0;
    if (std::sscanf(name.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) continue;
    const int64_t day = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    if ((day + 1) * kDayMs > cutoff) continue;
    const std::string dir = dir_ + "/" + name;
    ASSIGN_OR_RETURN(std::vector<std::string> files, fs_.List(dir));
    if (std::find(files.begin(), files.end(), ".compacted") != files.end()) continue;
    for (const std::string& f : files) {
      const std::string suffix = ".chunks";
      if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string gpu = f.substr(0, f.size() - suffix.size());
      StoreReadStats stats;
      ASSIGN_OR_RETURN(std::vector<Sample> samples, Read(gpu, {day * kDayMs, (day + 1) * kDayMs}, &stats));
      const int64_t needed = (static_cast<int64_t>(samples.size()) + kMaxChunkSamples - 1) / kMaxChunkSamples;
      if (stats.chunks <= needed && stats.torn_frames == 0) continue;  // already one chunk per 64 Ki samples
      ASSIGN_OR_RETURN(std::string frames, EncodeFrames(samples));
      const std::string path = dir + "/" + f, tmp = path + ".tmp";
      RETURN_IF_ERROR(fs_.RemoveAll(tmp));  // a leftover from a crash mid-compaction
      RETURN_IF_ERROR(fs_.Append(tmp, frames));
      RETURN_IF_ERROR(fs_.Sync(tmp));
      RETURN_IF_ERROR(fs_.Rename(tmp, path));
      ++rewritten;
    }
    RETURN_IF_ERROR(fs_.Append(dir + "/.compacted", ""));
    RETURN_IF_ERROR(fs_.Sync(dir + "/.compacted"));
  }
  return rewritten;
}

StatusOr<int64_t> SampleStore::SizeBytes() {
  int64_t total = 0;
  ASSIGN_OR_RETURN(std::vector<std::string> days, fs_.List(dir_));
  for (const std::string& day : days) {
    ASSIGN_OR_RETURN(std::vector<std::string> files, fs_.List(dir_ + "/" + day));
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(std::string data, fs_.ReadAll(dir_ + "/" + day + "/" + f));
      total += static_cast<int64_t>(data.size());
    }
  }
  return total;
}

}  // namespace gpuledger
