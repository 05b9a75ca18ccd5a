// Fuzz target: remote write bodies. First byte: bit 0 picks protocol 2.0 over 1.0, bit 1
// snappy-decompresses the rest first (as the server will). Protocol 1.0 bodies are also
// decoded twice through a series cache: the cached pass must agree with the plain one.
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
  if (!batch.ok()) return 0;
  auto plain = gpuledger::SamplesFromDcgm(batch->series);
  if (data[0] & 1) return 0;
  gpuledger::SeriesCache cache;
  for (int pass = 0; pass < 2; ++pass) {
    auto cached = gpuledger::DecodeRemoteWriteV1(std::string(body), &cache);
    if (!cached.ok()) __builtin_trap();  // it decoded without the cache
    auto samples = gpuledger::SamplesFromDcgm(cached->series);
    if (samples.ok() != plain.ok()) __builtin_trap();
    if (samples.ok() && samples->samples.size() != plain->samples.size()) __builtin_trap();
  }
  return 0;
}
