// Fuzz target: remote write bodies. First byte: bit 0 picks protocol 2.0 over 1.0, bit 1
// snappy-decompresses the rest first (as the server will).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/dcgm.h"
#include "ingest/remote_write.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string raw;
  if (data[0] & 2) {
    auto u = gpuledger::SnappyUncompress(body, 1 << 20);
    if (!u.ok()) return 0;
    raw = std::move(*u);
    body = raw;
  }
  auto batch = (data[0] & 1) ? gpuledger::DecodeRemoteWriteV2(std::string(body))
                             : gpuledger::DecodeRemoteWriteV1(std::string(body));
  if (batch.ok()) (void)gpuledger::SamplesFromDcgm(batch->series);
  return 0;
}
