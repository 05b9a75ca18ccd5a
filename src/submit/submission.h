// Submission (gpuledger submit, POST /api/v1/submissions): a job's metadata is checked
// against the image-tag policy, estimated from the books' finished runs, and registered
// as pending with its estimate and submission time, in one unit of work. Shared by the
// CLI and the server so both give the same answers. Not thread-safe (one Ledger).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "books/books.h"
#include "estimate/estimate.h"
#include "ledger/ledger.h"
#include "policy/image_tag.h"

namespace gpuledger {

// Succeeded runs that started and ended by as_of, with their cost and GPU time from the
// books (report.h BuildJobCosts) and their best mAP@0.5 from their progress.
StatusOr<std::vector<FinishedRun>> LoadFinishedRuns(Ledger& ledger, const BooksContext& ctx, TimeMs as_of);

struct SubmitRequest {
  Job job;                                 // from flags, a spec file or the API body
  std::optional<int64_t> max_cost_micros;  // refuse when the estimate is above it
  EstimateOptions estimate;
};

struct Submission {
  Job job;  // as it is (or would be) registered: pending, submitted_ms = now
  TagVerdict tag;
  Estimate estimate;
  Currency currency;
  std::vector<std::string> warnings;  // the tag policy's, in warn mode
};

// Checks and estimates; registers nothing. Refusals: the tag policy in enforce mode
// (InvalidArgument quoting the rule, the field, the value and a valid example), a job id
// already in the books (AlreadyExists), an estimate above max_cost (FailedPrecondition).
// A job without an id gets one: sub-<UTC time>-<user>.
StatusOr<Submission> PrepareSubmission(Ledger& ledger, const PolicySet& policy, SubmitRequest req,
                                       TimeMs now);

// "repo:tag@sha256:..." -> ("repo:tag", "sha256:..."): the digest apart when the
// reference also has a tag. A digest-only reference ("repo@sha256:...") is left whole,
// so the tag policy sees it for what it is.
std::pair<std::string, std::string> SplitImageDigest(const std::string& image);

// FailedPrecondition when the estimate is above the limit, or there is no estimate.
Status CheckMaxCost(const Submission& s, int64_t max_cost_micros);

// The id a submission without one gets: sub-<UTC time, basic format>-<user>.
std::string NewSubmissionId(const std::string& user, TimeMs now);

// The job as pending and its estimate, in one transaction (nothing when either fails).
Status RegisterSubmission(Ledger& ledger, const Submission& s);

JobEstimate StoredEstimate(const Submission& s);

// The API's answer and `submit --format json`'s: {"job": {...}, "estimate": {...},
// "warnings": [...], "registered": bool}.
std::string SubmissionJson(const Submission& s, bool registered);

}  // namespace gpuledger
