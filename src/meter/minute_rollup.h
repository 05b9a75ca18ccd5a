// MinuteRoller: one GPU's samples -> per-minute rollups (for charts over long ranges,
// where raw samples are too many). Pure and streaming; thread-compatible.
#pragma once

#include <vector>

#include "domain/types.h"

namespace gpuledger {

class MinuteRoller {
 public:
  // Only samples inside `window` count; minutes are UTC minutes.
  explicit MinuteRoller(Window window) : window_(window) {}
  void Add(const Sample& s);
  std::vector<MinuteRollup> Finish();

 private:
  void Flush();
  Window window_;
  MinuteRollup cur_;
  double util_sum_ = 0, power_sum_ = 0;
  int power_n_ = 0;
  std::vector<MinuteRollup> out_;
};

}  // namespace gpuledger
