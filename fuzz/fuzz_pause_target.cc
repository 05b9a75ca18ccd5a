// Fuzz target: a job's launcher labels (set by whoever registers the job) read into the
// target a pause adapter is handed (pause/target.h). Input: key=value lines. What is
// accepted must be safe to put in a URL path or an argv: no '/' in a container name, one
// '/' between a Kubernetes namespace and name, digits and '_' only in a Slurm job id.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <map>
#include <string>

#include "pause/target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> labels;
  const std::string in(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t nl = in.find('\n', pos);
    if (nl == std::string::npos) nl = in.size();
    const std::string line = in.substr(pos, nl - pos);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) labels[line.substr(0, eq)] = line.substr(eq + 1);
    pos = nl + 1;
  }
  auto t = gpuledger::PauseTargetFromLabels("job-1", labels);
  if (!t.ok()) return 0;
  const std::string& h = t->handle;
  auto count = [&](char c) { return std::count(h.begin(), h.end(), c); };
  switch (t->mode) {
    case gpuledger::PauseMode::kCooperative:
      if (!h.empty()) __builtin_trap();
      break;
    case gpuledger::PauseMode::kDocker:
      if (h.empty() || count('/') != 0 || h.find("..") == 0) __builtin_trap();
      break;
    case gpuledger::PauseMode::kKubernetes:
      if (count('/') != 1 || h.front() == '/' || h.back() == '/') __builtin_trap();
      break;
    case gpuledger::PauseMode::kSlurmSuspend:
    case gpuledger::PauseMode::kSlurmRequeue:
      for (char c : h)
        if ((c < '0' || c > '9') && c != '_') __builtin_trap();
      if (h.empty()) __builtin_trap();
      break;
  }
  return 0;
}
