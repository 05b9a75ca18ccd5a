// Fuzz target: what a launcher reads back from the site (submit/launcher.h): sbatch's
// answer (its job id becomes a label and scancel's argument) and a Docker Engine image
// inspect body (its digest is stored on the job and put in the container's Image). What
// is accepted must be safe there: a Slurm id of digits only, a digest "algo:hex".
#include <cstddef>
#include <cstdint>
#include <string>

#include "pause/docker.h"
#include "submit/launcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto id = gpuledger::ParseSbatchJobId(in);
  if (id.ok()) {
    if (id->empty() || id->size() > 20) __builtin_trap();
    for (char c : *id)
      if (c < '0' || c > '9') __builtin_trap();
  }
  auto digest = gpuledger::ParseImageDigest("reg/yolo:train-yolov8-small-cu118", in);
  if (digest.ok() && !digest->empty()) {
    const size_t colon = digest->find(':');
    if (colon == std::string::npos || colon == 0) __builtin_trap();
    for (size_t i = colon + 1; i < digest->size(); ++i) {
      const char c = (*digest)[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) __builtin_trap();
    }
  }
  return 0;
}
