// Raw series reads for charts: one GPU's samples, or one job's on each GPU it held, over
// a range, from the ledger. Rendered as JSON columns (docs/api/openapi.yaml).
#pragma once

#include <string>
#include <vector>

#include "domain/types.h"
#include "ledger/ledger.h"

namespace gpuledger {

// The most samples one response carries; a wider request gets 400 naming both counts.
inline constexpr size_t kMaxSeriesSamples = 200000;

struct SeriesPart {
  std::string gpu_uuid;
  Window window;
  int64_t share_ppm = kFullShare;
  std::vector<Sample> samples;
};

// Reads each part's samples from the ledger; fails when they exceed kMaxSeriesSamples.
Status ReadSeries(Ledger& ledger, std::vector<SeriesPart>& parts);
// {"job": ..., "as_of": ..., "partial": ..., "series": [{"gpu", "from", "to", "share_ppm",
// "columns", "values"}]}; `job` empty for a GPU read. `as_of` is the instant the samples
// were read to (every sample acknowledged before it); `partial` says the asked window
// `to` reaches past it, so later reads will add samples. Unreported fields are null; a
// reading goes out as the shortest decimal that is its float (42.4, not 42.400001525878906).
std::string RenderSeriesJson(const std::string& job, const std::vector<SeriesPart>& parts, TimeMs as_of,
                             TimeMs to);

}  // namespace gpuledger
