// Hour slices: the books keep each GPU's usage per UTC hour (clipped to the month and
// to as-of), each metered on its own from the samples around it, so a write re-meters
// only the hours it touched (docs/METERING.md, "Slices"). This file meters a GPU's
// hours in one scan of its samples; books.cc stores and composes them. Not thread-safe
// (one Ledger).
#pragma once

#include <string>
#include <vector>

#include "domain/types.h"
#include "ledger/ledger.h"
#include "meter/gpu_meter.h"

namespace gpuledger {

// One GPU's holds and settings for metering any of its hours.
struct GpuSlicing {
  std::string gpu_uuid;
  std::string gpu_model;
  Window service;                    // its service time
  std::vector<TimeMs> cuts;          // period boundaries (month edges, price changes)
  std::vector<std::string> job_ids;  // job_slot -> job id
  std::vector<MeterHold> holds;
  MeterOptions options;
};

struct HourSlice {
  TimeMs hour = 0;  // UTC hour start
  Window span;      // what was metered: the hour within the GPU's service and the clip
  std::vector<UsageRow> rows;
  std::vector<MinuteRollup> minutes;
};

// Meters the given UTC hours (sorted, distinct hour starts), each within `clip` and the
// GPU's service (an hour with nothing of either left is skipped). Each hour is metered
// as if alone: fed the GPU's last sample before it, its own samples, and the first one
// after it (or told that the stream goes on, or ends). Consecutive hours share one scan.
StatusOr<std::vector<HourSlice>> MeterHours(Ledger& ledger, const GpuSlicing& gpu,
                                            const std::vector<TimeMs>& hours, Window clip, bool want_minutes);

// The UTC hour starts overlapping `w`.
std::vector<TimeMs> HoursOf(Window w);
inline TimeMs HourOf(TimeMs t) { return FloorTo(t, kHourMs); }

}  // namespace gpuledger
