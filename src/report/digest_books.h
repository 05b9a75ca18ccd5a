// The low-efficiency digest's figures from the books (policy/digest.h holds the rule):
// the period metered as the report meters it (books MeterWindow), each job's usage and
// its advice (src/advice/), handed to the pure rule; and the JSON the API and
// `gpuledger digest` print. Used by the server's digest run (server/digest.cc), which
// then tells the users, and by the CLI, which previews. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "books/books.h"
#include "policy/digest.h"

namespace gpuledger {

StatusOr<std::vector<DigestEntry>> BuildDigest(Ledger& ledger, const BooksContext& ctx,
                                               const DigestRule& rule, Window period);

// {"period": {"from", "to"}, "sent", "users": [{"user", "cause_key", "gpu_hours",
// "density", "worst_jobs": [{"job", "gpu_hours", "density", "advice_en", "advice_zh"}]}]}
std::string RenderDigestJson(const std::vector<DigestEntry>& entries, Window period, bool sent);
// One line per user, then their worst jobs with the first advice in English.
std::string RenderDigestText(const std::vector<DigestEntry>& entries, Window period, const DigestRule& rule);

}  // namespace gpuledger
