// Runs a program by its argv (no shell: nothing in an argument is ever interpreted),
// with a timeout, capturing its stdout and stderr. The interface lets callers (the Slurm
// pause adapter) take a fake in their tests. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace gpuledger {

struct CommandResult {
  int exit_code = 0;  // the program's exit status; 128 + N when signal N ended it
  std::string out;    // stdout, at most 64 KiB kept
  std::string err;    // stderr, at most 64 KiB kept
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // An error only when the program could not be run or ran past timeout_ms (then it is
  // killed; Unavailable names the program and the limit).
  // A program that ran and failed is a result with its exit code.
  virtual StatusOr<CommandResult> Run(const std::vector<std::string>& argv, int timeout_ms) = 0;
};

// fork + execv of argv[0] (a name without '/' is looked up on PATH first, in the
// parent); stdin is /dev/null; the child is killed (SIGKILL) and reaped at the timeout.
class ProcessRunner : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv, int timeout_ms) override;
};

}  // namespace gpuledger
