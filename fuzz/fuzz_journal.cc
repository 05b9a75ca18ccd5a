// Fuzz target: the server's ingest journal segments as read back at start (torn or
// damaged frames are skipped, never a crash or a misread), and one frame's payload
// decoded directly (mutations rarely keep a frame's checksum, so this is how the
// payload decoder, its GPU list and rows, is reached).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/journal.h"

namespace {

using gpuledger::Gpu;
using gpuledger::GpuSample;

// What decodes re-encodes to one frame that decodes to the same samples and GPUs.
void CheckRoundTrip(const std::vector<GpuSample>& rows, const std::vector<Gpu>& gpus) {
  std::vector<Gpu> gpus_again;
  const std::vector<GpuSample> again = gpuledger::DecodeJournalSegment(
      gpuledger::EncodeJournalFrame(rows, gpus), nullptr, nullptr, "", &gpus_again);
  if (again.size() != rows.size() || gpus_again != gpus) __builtin_trap();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].gpu_uuid != again[i].gpu_uuid || !gpuledger::SameBits(rows[i].sample, again[i].sample))
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t used = 0;
  std::vector<Gpu> gpus;
  const std::vector<GpuSample> rows = gpuledger::DecodeJournalSegment(in, &used, nullptr, "", &gpus);
  if (used > size) __builtin_trap();
  CheckRoundTrip(rows, gpus);
  if (size >= 4) {  // a payload holds at least its count
    std::vector<GpuSample> payload_rows;
    std::vector<Gpu> payload_gpus;
    if (gpuledger::DecodeJournalPayload(in, payload_rows, &payload_gpus).ok()) {
      CheckRoundTrip(payload_rows, payload_gpus);
    } else if (!payload_rows.empty() || !payload_gpus.empty()) {
      __builtin_trap();  // a refused payload adds nothing
    }
  }
  return 0;
}
