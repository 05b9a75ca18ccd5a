// The gpuledger command line: subcommands over one Ledger. Output goes to `out`,
// errors to `err` as "gpuledger: error: ..."; returns the process exit code (0 ok,
// 1 failed, 2 bad usage). `clock` supplies "now" (the default report month is the one
// before now). Not thread-safe.
#pragma once

#include <ostream>

#include "common/clock.h"

namespace gpuledger {

int RunCli(int argc, const char* const* argv, const Clock& clock, std::ostream& out, std::ostream& err);

}  // namespace gpuledger
