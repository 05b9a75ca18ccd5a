// The server's one error reply: a Status as its HTTP status code and the documented JSON
// body ({"error": CODE, "message": ...}). Defined in routes.cc. Thread-safe.
#pragma once

#include "common/status.h"

namespace httplib {
struct Response;
}

namespace gpuledger {

void Reply(httplib::Response& res, const Status& s);

}  // namespace gpuledger
