// The hour holding as-of, kept metered between reads (docs/METERING.md, "Slices"). A
// month in progress is read again every few seconds while its open hour grows; metering
// that hour afresh each time costs every sample of the hour on every GPU. Here each GPU's
// meter is kept, fed the samples up to the last read's as-of, and a read feeds it only
// the samples that arrived since, then finishes a copy clipped at its own as-of. The rows
// equal MeterHours' for the same hour and clip, row for row. A kept meter is used only
// while the GPU's setup (holds, cuts, settings, service) is unchanged and no change the
// ledger recorded since the last read starts before the meter's last sample; otherwise
// the hour is metered again from the ledger. Not thread-safe (the caller's lock).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "books/slices.h"
#include "ledger/ledger.h"
#include "meter/gpu_meter.h"

namespace gpuledger {

class OpenHours {
 public:
  // Starts a read at the ledger's `latest` change: loads the spans changed since the
  // previous read (nothing to load when none). Meter() calls belong to one read.
  Status BeginRead(Ledger& ledger, TimeMs hour, int64_t latest);
  // The slice of `gpu`'s UTC hour `hour` within its service and `clip` (clip.end is the
  // read's as-of, inside the hour), as MeterHours(ledger, gpu, {hour}, clip) gives it.
  StatusOr<HourSlice> Meter(Ledger& ledger, const GpuSlicing& gpu, TimeMs hour, Window clip);
  // Drops the meters of GPUs this read did not meet (retired, or out of the month).
  void EndRead();
  // Drops every kept meter (a read failed: what it fed is not to be trusted); the
  // counters below go on.
  void Reset();

  // What the last read composed before its open hour: every GPU's rows of the month from
  // its start to `hour`, as of the ledger's change `built_change`. The books keep and
  // check it (books.cc): a read in the same hour while no change since touched that part
  // composes only the open hour onto it. Reset() drops it.
  struct Closed {
    TimeMs hour = 0;
    int64_t built_change = -1;  // -1: none kept
    std::vector<UsageRow> rows;
  };
  Closed& closed() { return closed_; }
  void CountClosedReuse() { ++closed_reuses_; }
  int64_t closed_reuses() const { return closed_reuses_; }

  size_t kept() const { return gpus_.size(); }
  int64_t samples_fed() const { return samples_fed_; }  // for tests: what reads cost
  int64_t rebuilt() const { return rebuilt_; }

 private:
  struct Kept {
    GpuSlicing setup;                // what the meter was created for (compared on each read)
    Window full;                     // the hour within service and the clip's start, not its end
    std::optional<GpuMeter> meter;   // fed every stored sample up to fed_until
    TimeMs fed_until = 0;            // every stored sample at or before it is in the meter
    std::optional<Sample> last_fed;  // the sample at fed_until as fed (a late field may change it)
    bool met = false;                // used by the current read
  };
  StatusOr<Kept> Start(Ledger& ledger, const GpuSlicing& gpu, Window full);
  bool StillValid(const Kept& k, const GpuSlicing& gpu, Window full, TimeMs as_of) const;

  TimeMs hour_ = 0;
  int64_t seen_change_ = -1;          // the ledger's latest change at the previous read
  std::vector<Window> changed_;       // spans changed since then, touching the hour or later
  std::map<std::string, Kept> gpus_;  // by GPU
  Closed closed_;
  int64_t samples_fed_ = 0, rebuilt_ = 0, closed_reuses_ = 0;
};

}  // namespace gpuledger
