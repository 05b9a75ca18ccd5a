#include "ingest/remote_write.h"

#include <snappy.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "ingest/protowire.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gpuledger {

namespace {

constexpr uint64_t kStaleNaN = 0x7ff0000000000002ULL;

bool IsStale(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaN;
}

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

std::string Describe(const Labels& labels) {
  std::string s = "{";
  for (size_t i = 0; i < labels.size() && i < 12; ++i) {
    s += (i ? ", " : "") + std::string(labels[i].first) + "=\"" +
         std::string(labels[i].second.substr(0, 64)) + "\"";
  }
  return s + (labels.size() > 12 ? ", ...}" : "}");
}

// The rules both protocol versions share for one series' labels.
Status CheckLabels(const Labels& labels, std::string_view* name) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& [k, v] = labels[i];
    if (k.empty()) return InvalidArgument("series " + Describe(labels) + ": empty label name");
    if (i > 0 && !(labels[i - 1].first < k)) {
      return InvalidArgument("series " + Describe(labels) + ": label names not sorted and unique ('" +
                             std::string(labels[i - 1].first) + "' then '" + std::string(k) + "')");
    }
    if (k == "__name__") *name = v;
  }
  if (name->empty()) return InvalidArgument("series " + Describe(labels) + ": no __name__ label");
  return OkStatus();
}

const char* WireTypeName(uint32_t wt) {
  switch (wt) {
    case WireReader::kVarint:
      return "0 (varint)";
    case WireReader::kFixed64:
      return "1 (64-bit)";
    case WireReader::kBytes:
      return "2 (length-delimited)";
    case WireReader::kFixed32:
      return "5 (32-bit)";
    default:
      return "unknown";
  }
}

// A known field sent with another wire type than its declaration's: the sender meant
// something else (another message, another version); skipping it would acknowledge data
// that is then silently dropped.
Status WrongWireType(const char* field, uint32_t wt, uint32_t want) {
  return InvalidArgument(std::string(field) + " has wire type " + WireTypeName(wt) + ", expected " +
                         WireTypeName(want));
}

struct DecodedSample {
  double value = 0;
  int64_t timestamp = 0;
};

Status DecodeSample(std::string_view bytes, DecodedSample* out) {
  WireReader r(bytes);
  while (!r.done()) {
    uint32_t f, wt;
    RETURN_IF_ERROR(r.Tag(&f, &wt));
    if (f == 1 && wt == WireReader::kFixed64) {
      RETURN_IF_ERROR(r.Double(&out->value));
    } else if (f == 2 && wt == WireReader::kVarint) {
      uint64_t v = 0;
      RETURN_IF_ERROR(r.Varint(&v));
      out->timestamp = static_cast<int64_t>(v);
    } else if (f == 1) {
      return WrongWireType("Sample.value (field 1)", wt, WireReader::kFixed64);
    } else if (f == 2) {
      return WrongWireType("Sample.timestamp (field 2)", wt, WireReader::kVarint);
    } else {
      RETURN_IF_ERROR(r.Skip(wt));
    }
  }
  return OkStatus();
}

// Appends a series' samples to the batch, dropping stale markers. `known`: what a cache
// said about its labels (already checked), or null.
Status Emit(Labels labels, std::shared_ptr<const DcgmLabels> known, const std::vector<DecodedSample>& samples,
            int64_t histograms, RemoteWriteBatch* out) {
  std::string_view name;
  if (known) {
    name = known->name;
  } else {
    RETURN_IF_ERROR(CheckLabels(labels, &name));
  }
  if (samples.empty() && histograms == 0) {
    return InvalidArgument("series " + (known ? known->name : Describe(labels)) + ": no samples");
  }
  out->histograms += histograms;
  RwSeries series;
  series.name = name;
  series.labels = std::move(labels);
  series.dcgm = std::move(known);
  const size_t begin = out->points.size();
  for (const DecodedSample& s : samples) {
    if (IsStale(s.value)) {
      ++out->stale_markers;
      continue;
    }
    out->points.emplace_back(s.timestamp, s.value);
  }
  out->samples += static_cast<int64_t>(out->points.size() - begin);
  out->series.push_back(std::move(series));
  return OkStatus();
}

// The end of the run of label fields (1, length-delimited) that starts `ts`; counts them.
// Stops early at anything it cannot step over cleanly (the caller's walk reports it).
size_t SkipLabelRun(std::string_view ts, size_t* count) {
  size_t pos = 0;
  while (pos < ts.size() && ts[pos] == 0x0a) {
    uint64_t len = 0;
    size_t p = pos + 1;
    bool whole = false;
    for (int shift = 0; p < ts.size() && shift < 64; shift += 7) {
      const auto c = static_cast<uint8_t>(ts[p++]);
      len |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        whole = true;
        break;
      }
    }
    if (!whole || len > ts.size() - p) break;
    pos = p + static_cast<size_t>(len);
    ++*count;
  }
  return pos;
}

// Once every point is in place (the vector no longer moves): each series' span. The
// series' points are consecutive runs in order, so a series' count is the difference
// of the run ends recorded after each Emit.
void SetPointSpans(const std::vector<size_t>& ends, RemoteWriteBatch* out) {
  size_t begin = 0;
  for (size_t i = 0; i < out->series.size(); ++i) {
    out->series[i].points = {out->points.data() + begin, ends[i] - begin};
    begin = ends[i];
  }
}

}  // namespace

SeriesCache::Key SeriesCache::KeyOf(std::string_view label_bytes) {
  const XXH128_hash_t h = XXH3_128bits(label_bytes.data(), label_bytes.size());
  return {h.low64, h.high64};
}

void SeriesCache::Reader::Prefetch(const Key& key) const {
  if (!cache_.slots_.empty()) __builtin_prefetch(&cache_.slots_[key.low & (cache_.slots_.size() - 1)]);
}

std::shared_ptr<const DcgmLabels> SeriesCache::Reader::Find(const Key& key) const {
  const std::vector<Slot>& slots = cache_.slots_;
  if (slots.empty()) return nullptr;
  const size_t mask = slots.size() - 1;
  for (size_t i = key.low & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (!s.labels) return nullptr;
    if (s.low == key.low && s.high == key.high) return s.labels;
  }
}

void SeriesCache::Insert(std::string_view label_bytes, std::shared_ptr<const DcgmLabels> labels) {
  const Key k = KeyOf(label_bytes);
  const XXH128_hash_t h{k.low, k.high};
  std::unique_lock lock(mu_);
  if (size_ >= max_) {  // full: start again (entries in use stay alive through their owners)
    slots_.clear();
    size_ = 0;
  }
  if (2 * (size_ + 1) > slots_.size()) {  // grow: rehash into twice the slots
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
    const size_t mask = slots_.size() - 1;
    for (Slot& s : old) {
      if (!s.labels) continue;
      size_t i = s.low & mask;
      while (slots_[i].labels) i = (i + 1) & mask;
      slots_[i] = std::move(s);
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t i = h.low64 & mask;
  for (; slots_[i].labels; i = (i + 1) & mask) {
    if (slots_[i].low == h.low64 && slots_[i].high == h.high64) return;  // another request got here first
  }
  slots_[i] = Slot{h.low64, h.high64, std::move(labels)};
  ++size_;
}

size_t SeriesCache::size() const {
  std::shared_lock lock(mu_);
  return size_;
}

StatusOr<std::string> SnappyUncompress(std::string_view body, size_t max_bytes) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &n)) {
    return InvalidArgument("body is not snappy block-compressed data (bad length header)");
  }
  if (n > max_bytes) {
    return InvalidArgument("body decompresses to " + std::to_string(n) + " bytes, over the limit " +
                           std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  if (!snappy::Uncompress(body.data(), body.size(), &out)) return InvalidArgument("corrupt snappy data");
  return out;
}

// Parses label submessages (Label{name = 1, value = 2}).
Status ParseLabels(const std::vector<std::string_view>& msgs, Labels* labels) {
  labels->reserve(msgs.size());
  for (std::string_view sub : msgs) {
    WireReader lr(sub);
    std::pair<std::string_view, std::string_view> label;
    while (!lr.done()) {
      uint32_t lf, lwt;
      RETURN_IF_ERROR(lr.Tag(&lf, &lwt));
      std::string_view s;
      if ((lf == 1 || lf == 2) && lwt == WireReader::kBytes) {
        RETURN_IF_ERROR(lr.Bytes(&s));
        (lf == 1 ? label.first : label.second) = s;
      } else if (lf == 1 || lf == 2) {
        return WrongWireType(lf == 1 ? "Label.name (field 1)" : "Label.value (field 2)", lwt,
                             WireReader::kBytes);
      } else {
        RETURN_IF_ERROR(lr.Skip(lwt));
      }
    }
    labels->push_back(label);
  }
  return OkStatus();
}

StatusOr<RemoteWriteBatch> DecodeRemoteWriteV1(std::string body, SeriesCache* cache) {
  RemoteWriteBatch out;
  out.body = std::make_unique<const std::string>(std::move(body));
  WireReader req(*out.body);
  std::vector<std::string_view> label_msgs;  // reused across series
  std::vector<DecodedSample> samples;
  std::vector<size_t> ends;  // out.points' size after each series
  // Label sets learnt by this request, remembered once its lookups are done.
  std::vector<std::pair<std::string_view, std::shared_ptr<const DcgmLabels>>> learnt;
  std::optional<SeriesCache::Reader> reader;
  if (cache) reader.emplace(*cache);
  while (!req.done()) {
    uint32_t f, wt;
    RETURN_IF_ERROR(req.Tag(&f, &wt));
    if (f == 4 || f == 5) {
      // 2.0's symbols and timeseries; no 1.0 WriteRequest has them.
      return InvalidArgument(
          "field " + std::to_string(f) +
          " is not in prometheus.WriteRequest: is this a 2.0 io.prometheus.write.v2.Request? "
          "Send it with Content-Type application/x-protobuf;proto=io.prometheus.write.v2.Request");
    }
    if ((f == 1 || f == 3) && wt != WireReader::kBytes) {
      return WrongWireType(f == 1 ? "WriteRequest.timeseries (field 1)" : "WriteRequest.metadata (field 3)",
                           wt, WireReader::kBytes);
    }
    if (f != 1) {
      RETURN_IF_ERROR(req.Skip(wt));  // metadata (3) and anything newer
      continue;
    }
    std::string_view ts_bytes;
    RETURN_IF_ERROR(req.Bytes(&ts_bytes));
    samples.clear();
    int64_t histograms = 0;
    // The label fields' bytes, when they are one contiguous run (as senders write them),
    // are the cache key. Senders put them first: step over that run without parsing it
    // (field 1, length-delimited: tag byte 0x0a); the walk below checks the rest.
    size_t label_count = 0, labels_begin = 0, labels_end = SkipLabelRun(ts_bytes, &label_count);
    bool contiguous = true;
    WireReader ts(ts_bytes, labels_end);
    // The usual key is known now: its slot loads while the samples decode.
    SeriesCache::Key early;
    const size_t run_end = labels_end;  // 0: no leading run, nothing hashed
    if (reader && run_end > 0) {
      early = SeriesCache::KeyOf(ts_bytes.substr(0, labels_end));
      reader->Prefetch(early);
    }
    while (!ts.done()) {
      const size_t field_start = ts.offset();
      uint32_t tf, twt;
      RETURN_IF_ERROR(ts.Tag(&tf, &twt));
      std::string_view sub;
      if (tf == 1 && twt == WireReader::kBytes) {
        RETURN_IF_ERROR(ts.Bytes(&sub));
        if (label_count++ == 0) {
          labels_begin = field_start;
        } else if (labels_end != field_start) {
          contiguous = false;
        }
        labels_end = ts.offset();
      } else if (tf == 2 && twt == WireReader::kBytes) {
        RETURN_IF_ERROR(ts.Bytes(&sub));
        DecodedSample s;
        RETURN_IF_ERROR(DecodeSample(sub, &s));
        samples.push_back(s);
      } else if (tf == 4 && twt == WireReader::kBytes) {
        RETURN_IF_ERROR(ts.Bytes(&sub));
        ++histograms;
      } else if (tf >= 1 && tf <= 4) {
        static const char* const kNames[] = {"", "TimeSeries.labels (field 1)",
                                             "TimeSeries.samples (field 2)", "TimeSeries.exemplars (field 3)",
                                             "TimeSeries.histograms (field 4)"};
        return WrongWireType(kNames[tf], twt, WireReader::kBytes);
      } else {
        RETURN_IF_ERROR(ts.Skip(twt));  // anything newer
      }
    }
    const std::string_view key = cache && contiguous && label_count > 0
                                     ? ts_bytes.substr(labels_begin, labels_end - labels_begin)
                                     : std::string_view();
    std::shared_ptr<const DcgmLabels> known;
    if (!key.empty()) {
      const bool same = run_end > 0 && labels_begin == 0 && labels_end == run_end;  // the run hashed above
      known = reader->Find(same ? early : SeriesCache::KeyOf(key));
    }
    Labels labels;
    if (!known) {  // not seen before: a second walk collects the label messages
      label_msgs.clear();
      WireReader again(ts_bytes);
      while (!again.done()) {
        uint32_t tf, twt;
        RETURN_IF_ERROR(again.Tag(&tf, &twt));
        std::string_view sub;
        if (tf == 1 && twt == WireReader::kBytes) {
          RETURN_IF_ERROR(again.Bytes(&sub));
          label_msgs.push_back(sub);
        } else {
          RETURN_IF_ERROR(again.Skip(twt));
        }
      }
      RETURN_IF_ERROR(ParseLabels(label_msgs, &labels));
    }
    const bool learn = !key.empty() && !known;
    RETURN_IF_ERROR(Emit(std::move(labels), std::move(known), samples, histograms, &out));
    ends.push_back(out.points.size());
    if (learn) {  // Emit checked them: remember what these label bytes say
      const RwSeries& s = out.series.back();
      learnt.emplace_back(key, std::make_shared<const DcgmLabels>(ReadDcgmLabels(s.name, s.labels)));
    }
  }
  reader.reset();
  for (auto& [key, labels] : learnt) cache->Insert(key, std::move(labels));
  SetPointSpans(ends, &out);
  return out;
}

StatusOr<RemoteWriteBatch> DecodeRemoteWriteV2(std::string body) {
  RemoteWriteBatch out;
  out.body = std::make_unique<const std::string>(std::move(body));
  const std::string_view proto = *out.body;
  // Symbols first: a sender may write them after the series, so collect both.
  std::vector<std::string_view> symbols;
  std::vector<std::string_view> series;
  WireReader req(proto);
  while (!req.done()) {
    uint32_t f, wt;
    RETURN_IF_ERROR(req.Tag(&f, &wt));
    std::string_view b;
    if (f == 4 && wt == WireReader::kBytes) {
      RETURN_IF_ERROR(req.Bytes(&b));
      symbols.push_back(b);
    } else if (f == 5 && wt == WireReader::kBytes) {
      RETURN_IF_ERROR(req.Bytes(&b));
      series.push_back(b);
    } else if (f >= 1 && f <= 3) {
      return InvalidArgument("field " + std::to_string(f) +
                             " is reserved in io.prometheus.write.v2.Request: is this a 1.0 WriteRequest?");
    } else if (f == 4 || f == 5) {
      return WrongWireType(f == 4 ? "Request.symbols (field 4)" : "Request.timeseries (field 5)", wt,
                           WireReader::kBytes);
    } else {
      RETURN_IF_ERROR(req.Skip(wt));
    }
  }
  if (!series.empty() && (symbols.empty() || !symbols[0].empty())) {
    return InvalidArgument("symbols table must start with the empty string");
  }
  std::vector<size_t> ends;  // out.points' size after each series
  std::vector<uint64_t> refs;
  std::vector<DecodedSample> samples;
  for (std::string_view ts_bytes : series) {
    WireReader ts(ts_bytes);
    refs.clear();
    samples.clear();
    int64_t histograms = 0;
    while (!ts.done()) {
      uint32_t tf, twt;
      RETURN_IF_ERROR(ts.Tag(&tf, &twt));
      std::string_view sub;
      if (tf == 1 && twt == WireReader::kBytes) {  // packed
        RETURN_IF_ERROR(ts.Bytes(&sub));
        WireReader pr(sub);
        while (!pr.done()) {
          uint64_t ref = 0;
          RETURN_IF_ERROR(pr.Varint(&ref));
          refs.push_back(ref);
        }
      } else if (tf == 1 && twt == WireReader::kVarint) {  // unpacked, also valid protobuf
        uint64_t ref = 0;
        RETURN_IF_ERROR(ts.Varint(&ref));
        refs.push_back(ref);
      } else if (tf == 2 && twt == WireReader::kBytes) {
        RETURN_IF_ERROR(ts.Bytes(&sub));
        DecodedSample s;
        RETURN_IF_ERROR(DecodeSample(sub, &s));
        samples.push_back(s);
      } else if (tf == 3 && twt == WireReader::kBytes) {
        RETURN_IF_ERROR(ts.Bytes(&sub));
        ++histograms;
      } else if (tf == 1) {
        return WrongWireType("TimeSeries.labels_refs (field 1)", twt, WireReader::kBytes);
      } else if (tf == 2 || tf == 3 || tf == 4 || tf == 5) {
        static const char* const kNames[] = {"",
                                             "",
                                             "TimeSeries.samples (field 2)",
                                             "TimeSeries.histograms (field 3)",
                                             "TimeSeries.exemplars (field 4)",
                                             "TimeSeries.metadata (field 5)"};
        if (twt != WireReader::kBytes) return WrongWireType(kNames[tf], twt, WireReader::kBytes);
        RETURN_IF_ERROR(ts.Skip(twt));  // exemplars, metadata
      } else if (tf == 6 && twt != WireReader::kVarint) {
        return WrongWireType("TimeSeries.created_timestamp (field 6)", twt, WireReader::kVarint);
      } else {
        RETURN_IF_ERROR(ts.Skip(twt));  // created timestamp, anything newer
      }
    }
    if (refs.size() % 2 != 0) {
      return InvalidArgument("series has an odd number (" + std::to_string(refs.size()) +
                             ") of label references");
    }
    Labels labels;
    for (size_t i = 0; i < refs.size(); i += 2) {
      for (uint64_t r : {refs[i], refs[i + 1]}) {
        if (r >= symbols.size()) {
          return InvalidArgument("label reference " + std::to_string(r) + " is past the symbols table (" +
                                 std::to_string(symbols.size()) + " symbols)");
        }
      }
      labels.emplace_back(symbols[refs[i]], symbols[refs[i + 1]]);
      if (labels.back().second.empty()) {
        return InvalidArgument("series " + Describe(labels) + ": label " + std::string(labels.back().first) +
                               " has an empty value");
      }
    }
    RETURN_IF_ERROR(Emit(std::move(labels), nullptr, samples, histograms, &out));
    ends.push_back(out.points.size());
  }
  SetPointSpans(ends, &out);
  return out;
}

}  // namespace gpuledger
