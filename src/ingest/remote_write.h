// Prometheus remote write bodies -> series samples: snappy block decompression with a
// size limit, and decoders of protocol 1.0 (prometheus.WriteRequest) and 2.0
// (io.prometheus.write.v2.Request, interned symbols). Untrusted input: errors name the
// series and the rule it broke. Stale markers are dropped and counted. Pure;
// thread-safe. See docs/formats/remote-write.md.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "ingest/dcgm_labels.h"
#include "ingest/prom_text.h"

namespace gpuledger {

inline constexpr size_t kMaxRemoteWriteBytes = 32 << 20;  // decompressed

// Snappy block format (not framed), as remote write sends it.
StatusOr<std::string> SnappyUncompress(std::string_view body, size_t max_bytes = kMaxRemoteWriteBytes);

// One series of a request: its labels once (views into the batch's body), its points
// in order.
struct RwSeries {
  std::string_view name;                                              // the __name__ label
  std::vector<std::pair<std::string_view, std::string_view>> labels;  // empty when `dcgm` is set
  std::span<const std::pair<TimeMs, double>> points;  // (timestamp ms, value), stale markers removed;
                                                      // in the batch's `points`
  // Set for a series whose exact label bytes a SeriesCache knew: what they say, read once.
  std::shared_ptr<const DcgmLabels> dcgm;
};

// Label sets seen before, keyed by the XXH3-128 hash of their exact encoded bytes, with
// what they say: a series that comes again (every 10 s, from every exporter) skips label
// parsing and checking. Two different label sets share a 128-bit hash with odds far
// below a disk's undetected error rate; a sender that forged one would gain nothing it
// could not send outright (it already chooses every label). Bounded (cleared when full;
// entries in use stay alive). Thread-safe.
class SeriesCache {
 public:
  explicit SeriesCache(size_t max_entries = 1 << 20) : max_(max_entries) {}
  struct Key {
    uint64_t low = 0, high = 0;  // XXH3-128 of the label bytes
  };
  static Key KeyOf(std::string_view label_bytes);
  // Lookups under one shared lock (a request's worth; Insert waits until it is gone).
  class Reader {
   public:
    explicit Reader(const SeriesCache& cache) : cache_(cache), lock_(cache.mu_) {}
    // Starts loading the key's slot into the cache (work done meanwhile hides the miss).
    void Prefetch(const Key& key) const;
    std::shared_ptr<const DcgmLabels> Find(const Key& key) const;

   private:
    const SeriesCache& cache_;
    std::shared_lock<std::shared_mutex> lock_;
  };
  void Insert(std::string_view label_bytes, std::shared_ptr<const DcgmLabels> labels);
  size_t size() const;

 private:
  // Open addressing, linear probing, power-of-two capacity: a hit costs one slot read (a
  // node-based map cost two dependent cache misses per series).
  struct Slot {
    uint64_t low = 0, high = 0;  // XXH3-128 of the label bytes
    // null: an empty slot
    std::shared_ptr<const DcgmLabels> labels;
  };
  size_t max_;
  mutable std::shared_mutex mu_;
  size_t size_ = 0;
  std::vector<Slot> slots_;  // capacity >= 2 x size_
};

struct RemoteWriteBatch {
  std::unique_ptr<const std::string> body;  // owns the bytes the series' views point into
  std::vector<RwSeries> series;
  std::vector<std::pair<TimeMs, double>> points;  // every series' points, one after another
  int64_t samples = 0;
  int64_t stale_markers = 0;  // Prometheus' staleness NaN: the series ended, nothing to store
  int64_t histograms = 0;     // native histogram samples: not metered, counted
};

// Label names must be sorted, unique and non-empty; every series needs __name__ and at
// least one sample; timestamps are milliseconds. With a cache, a series whose label bytes
// passed these checks before is not parsed again (its RwSeries carries `dcgm`).
StatusOr<RemoteWriteBatch> DecodeRemoteWriteV1(std::string proto, SeriesCache* cache = nullptr);
// As V1, plus: symbols[0] must be "", every reference in range, refs in pairs.
StatusOr<RemoteWriteBatch> DecodeRemoteWriteV2(std::string proto);

}  // namespace gpuledger
