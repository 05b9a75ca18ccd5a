// The `gpuledger server` flags that configure the pause adapters (pause/dispatcher.h):
// --docker-socket, --k8s-api-server, --k8s-token-file, --k8s-ca-file, --scontrol,
// --pause-timeout. docs/POLICIES.md "Pause and resume, by launcher" describes them.
#pragma once

#include <CLI/CLI.hpp>

#include "pause/dispatcher.h"

namespace gpuledger {

// Adds the flags to `server`, writing into `config` (which outlives the parse).
void AddPauseFlags(CLI::App* server, PauseConfig* config);

}  // namespace gpuledger
