// The server's one error reply: a Status as its HTTP status code and the documented JSON
// body ({"error": CODE, "message": ...}). Defined in routes.cc. Thread-safe.
#pragma once

#include "common/status.h"

#include <initializer_list>

namespace httplib {
struct Request;
struct Response;
}

namespace gpuledger {

void Reply(httplib::Response& res, const Status& s);

// Refuses, by name, query parameters the route does not read, and repeated ones.
Status OnlyParams(const httplib::Request& req, std::initializer_list<const char*> known);
// A true|false query parameter (absent: false); anything else is a 400 naming it.
StatusOr<bool> BoolParam(const httplib::Request& req, const char* name);

}  // namespace gpuledger
