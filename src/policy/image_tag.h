// The image-tag policy (BRIEF §7, docs/POLICIES.md): a job's image must carry a tag that
// says what it is, not `latest`, not a bare digest or a hash, and one that follows the
// organisation's template, by default {purpose}-{yolo_version}-{optimization_level}-{cuda_version}
// (train-yolov10-medium-cu118). The allowed values of each field are configurable; the
// organisation sets the policy and a project may override it. Modes: enforce (refuse),
// warn (accept with a warning), off. Pure; thread-compatible (a loaded policy is
// read-only and may be shared between threads).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

enum class PolicyMode { kEnforce, kWarn, kOff };
std::string_view PolicyModeName(PolicyMode m);
StatusOr<PolicyMode> ParsePolicyMode(std::string_view s);

// What one template field accepts: one of `values`, or (when `values` is empty) a
// full match of `pattern` (ECMAScript regex). `example` is what a suggestion uses when
// nothing better is known.
struct TagFieldRule {
  std::vector<std::string> values;
  std::string pattern;
  std::string example;
};

struct ImageTagPolicy {
  PolicyMode mode = PolicyMode::kEnforce;
  std::string tmpl = "{purpose}-{yolo_version}-{optimization_level}-{cuda_version}";
  std::map<std::string, TagFieldRule>
      fields;  // by field name; a field with no rule takes any non-empty value

  // The default: purpose train|finetune|eval|infer|export; yolo_version yolov5..yolov12 or
  // yolo11/yolo12; optimization_level nano|small|medium|large|xlarge|pruned|quantized|distilled;
  // cuda_version cu followed by 2-3 digits (cu118, cu121) or cpu.
  static ImageTagPolicy Default();
};

// The organisation's policy and per-project overrides (a project's replaces the
// organisation's as a whole section: mode, template and fields it names).
struct PolicySet {
  ImageTagPolicy image_tag = ImageTagPolicy::Default();
  std::map<std::string, ImageTagPolicy> project_image_tag;

  const ImageTagPolicy& ImageTagFor(const std::string& project) const;
};

// The policy file (JSON, docs/POLICIES.md):
//   {"image_tag": {"mode": "enforce", "template": "...", "fields": {"purpose": {"values": [...]},
//                  "cuda_version": {"pattern": "cu[0-9]{3}", "example": "cu118"}}},
//    "projects": {"vision": {"image_tag": {"mode": "warn"}}}}
// A project's section starts from the organisation's and replaces what it names. Unknown
// keys, a bad mode, a template without fields or with two fields not separated by a
// literal, an invalid pattern: InvalidArgument naming the key and the value.
StatusOr<PolicySet> ParsePolicyJson(std::string_view text);
StatusOr<PolicySet> LoadPolicyFile(const std::string& path);
std::string PolicySetJson(const PolicySet& p);  // what ParsePolicyJson reads back

// One broken rule.
struct TagViolation {
  std::string rule;     // no-latest | no-digest-only | no-hash-tag | template
  std::string field;    // "tag", or the template field that failed
  std::string value;    // what was seen
  std::string message;  // the whole sentence: the rule, the field, the value, a valid example
  std::string example;  // a valid tag built from the submitted one
};

struct TagVerdict {
  PolicyMode mode = PolicyMode::kOff;
  std::vector<TagViolation> violations;  // empty: the tag follows the policy (or mode off)

  bool refused() const { return mode == PolicyMode::kEnforce && !violations.empty(); }
  // The first violation as a Status (InvalidArgument), OK when nothing was broken.
  Status ToStatus() const;
  std::vector<std::string> warnings() const;  // messages, when the mode is warn
};

// Checks the job's image reference (repo, tag; a repo holding '@' is a digest
// reference as SplitImage leaves it). The job's model_type helps build the example. A
// job without any image is not checked (nothing to check).
TagVerdict CheckImageTag(const ImageTagPolicy& policy, const Job& job);

}  // namespace gpuledger
