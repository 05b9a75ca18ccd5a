// Job spec files (`gpuledger submit --spec job.yaml|job.json`, the article's job_spec):
// the text of a spec, in JSON or YAML, becomes the jobs API's JSON body (the fields of
// POST /api/v1/jobs, labels joined as "k=v;k=v"). The flags are merged by the caller.
// Pure (no I/O) and thread-compatible; YAML is read with Debian's libyaml (events only:
// no anchors or aliases, no tags, nothing nested but the labels mapping).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

enum class SpecFormat { kAuto, kJson, kYaml };

// Bounds on untrusted spec text; an error names the limit and the value seen.
inline constexpr size_t kMaxJobSpecBytes = 1u << 20;  // as the jobs API's body
inline constexpr size_t kMaxJobSpecKeys = 64;         // top-level keys
inline constexpr size_t kMaxJobSpecLabels = 256;
inline constexpr size_t kMaxJobSpecValueBytes = 4096;

// ".yaml"/".yml" -> kYaml, ".json" -> kJson, anything else kAuto.
SpecFormat SpecFormatForPath(std::string_view path);

// kAuto: JSON when the first non-blank character is '{', YAML otherwise (YAML flow
// mappings parse as YAML too, but JSON's error messages are the more exact there).
// `name` (the file's path, or "request body") starts every error message. Refused:
// a non-mapping document, more than one document, unknown keys (with the YAML line),
// duplicate keys, sequences, anchors, aliases, tags, null values, "allocations" (a
// submission has none yet), and text past the limits above. YAML typing: a plain
// integer for dataset_images/epochs/batch/imgsz and a plain true/false/yes/no/on/off for
// amp keep their types; everything else is a string, as in the jobs API.
StatusOr<nlohmann::json> ParseJobSpec(std::string_view text, SpecFormat format, std::string_view name);

}  // namespace gpuledger
