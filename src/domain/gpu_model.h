// GPU model names: the one spelling the books use for a model, whatever spelling
// arrived. NVML and dcgm-exporter say "NVIDIA A10G" and "Tesla T4", price books say
// "A10G" and "T4"; both are one model. Canonicalization is a pure function of the name
// and an alias list; every place a model enters (remote write, scrape, the agent, CSV
// imports, the price book) applies it, and pricing applies it again, so names stored
// before a rule existed still find their price. Rules: docs/ALLOCATION.md, "GPU model
// names".
//
// Thread-safety: GpuModelNames is immutable after construction and thread-safe. The
// process-wide names are set once at start-up (SetProcessGpuModelNames, before any
// thread starts) and only read afterwards.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

class GpuModelNames {
 public:
  // The built-in rule alone.
  GpuModelNames() = default;
  // Built-in rule plus aliases: "alias=canonical" pairs separated by ';', ',' or new
  // lines, e.g. "A10G-24GB=A10G; H100 80GB HBM3=H100-SXM5-80GB". Fails on a pair with
  // no '=' or an empty side, naming it.
  static StatusOr<GpuModelNames> Parse(std::string_view spec);

  // The canonical name of `raw`:
  //  1. surrounding white space is trimmed and inner runs of it become one space;
  //  2. a leading vendor word "NVIDIA " and then "Tesla " is dropped (any case), unless
  //     nothing would be left: "NVIDIA A100-SXM4-80GB" -> "A100-SXM4-80GB";
  //  3. a configured alias of the result (compared ignoring case) gives its canonical
  //     name, itself put through 1-2.
  // Otherwise case is kept: "A10G" and "a10g" differ unless an alias joins them.
  std::string Canonical(std::string_view raw) const;

  size_t alias_count() const { return aliases_.size(); }

 private:
  std::map<std::string, std::string> aliases_;  // upper-cased alias (after rules 1-2) -> canonical
};

// Rules 1-2 of GpuModelNames::Canonical, without aliases.
std::string BuiltInGpuModelName(std::string_view raw);

// The process's names: the built-in rule unless start-up installed aliases (the CLI
// reads them from the environment variable GPULEDGER_GPU_MODEL_ALIASES).
const GpuModelNames& ProcessGpuModelNames();
void SetProcessGpuModelNames(GpuModelNames names);  // at start-up only, before threads
inline constexpr const char* kGpuModelAliasesEnv = "GPULEDGER_GPU_MODEL_ALIASES";

// ProcessGpuModelNames().Canonical(raw): what ingest and pricing call.
std::string CanonicalGpuModel(std::string_view raw);

}  // namespace gpuledger
