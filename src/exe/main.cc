#include <cstdlib>
#include <iostream>
#include <utility>

#include "cli/cli.h"
#include "domain/gpu_model.h"

int main(int argc, char** argv) {
  // GPU model aliases are process-wide configuration: read once, before any thread.
  if (const char* aliases = std::getenv(gpuledger::kGpuModelAliasesEnv); aliases != nullptr) {
    auto names = gpuledger::GpuModelNames::Parse(aliases);
    if (!names.ok()) {
      std::cerr << "gpuledger: " << gpuledger::kGpuModelAliasesEnv << ": " << names.status().message()
                << "\n";
      return 2;
    }
    gpuledger::SetProcessGpuModelNames(std::move(*names));
  }
  const gpuledger::SystemClock clock;
  return gpuledger::RunCli(argc, argv, clock, std::cout, std::cerr);
}
