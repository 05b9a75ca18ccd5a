// FakeBackend: a GpuBackend that serves readings a test scripted, in a cycle; Fail()
// makes the next Read an error (the driver gone). For the agent's unit tests; the tests'
// fake libnvidia-ml.so.1 (tests/fake_nvml) covers the real dlopen path. Thread-compatible.
#pragma once

#include <utility>
#include <vector>

#include "gpu/gpu_backend.h"

namespace gpuledger {

class FakeBackend final : public GpuBackend {
 public:
  // Each Read returns the next entry of `rounds` (wrapping around).
  explicit FakeBackend(std::vector<std::vector<GpuReading>> rounds) : rounds_(std::move(rounds)) {}
  StatusOr<std::vector<GpuReading>> Read() override {
    if (fail_) {
      fail_ = false;
      return Unavailable("fake GPU backend: the driver is gone");
    }
    if (rounds_.empty()) return std::vector<GpuReading>{};
    return rounds_[reads_++ % rounds_.size()];
  }
  void Fail() { fail_ = true; }

 private:
  std::vector<std::vector<GpuReading>> rounds_;
  size_t reads_ = 0;
  bool fail_ = false;
};

}  // namespace gpuledger
