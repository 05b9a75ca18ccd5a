// The insight commands (docs/INSIGHT.md): compare (versions and variants), trends
// (behaviour over time per project) and statement (a project's monthly statement). They
// register themselves on the app so cli.cc only adds and dispatches them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <ostream>

#include "common/clock.h"
#include "common/status.h"

namespace gpuledger {

class InsightCommands {
 public:
  virtual ~InsightCommands() = default;
  // The chosen command's outcome, or nullopt when none of these was chosen.
  virtual std::optional<Status> Run(const Clock& clock, std::ostream& out) = 0;
};
std::unique_ptr<InsightCommands> AddInsightCommands(CLI::App& app);

}  // namespace gpuledger
