// JSON forms of token records and audit entries, shared by the API (admin_routes.cc)
// and the CLI (`admin token list`, `admin audit list`). A token's JSON never holds its
// hash or secret. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "domain/types.h"

namespace gpuledger {

// Times are RFC 3339 or null when unset; "state" is active, expired or revoked at `now`.
nlohmann::json TokenToJson(const TokenRecord& t, TimeMs now);
std::string TokenState(const TokenRecord& t, TimeMs now);
nlohmann::json AuditEntryToJson(const AuditEntry& e);

}  // namespace gpuledger
