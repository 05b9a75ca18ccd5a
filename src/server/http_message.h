// The HTTP/1.1 wire format the front (http_front.h) speaks: request heads parsed,
// answers serialised, and the JSON error body and status every refusal carries. Pure;
// thread-compatible.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

// Parses a request head (request line and header lines, without the blank line that ends
// it) into req: method, target, version, headers, the decoded path and query parameters.
// Untrusted input (fuzz/fuzz_http_head.cc); errors say what was wrong.
Status ParseRequestHead(std::string_view head, httplib::Request& req);

// The JSON error body every refusal carries: {"error": "<code>", "message": "..."}.
std::string JsonErrorBody(const Status& s);
// The HTTP status for a Status code (the one mapping the server uses).
int HttpStatusFor(const Status& s);

// The reason phrase of an HTTP status ("Unknown" for one the server never sends).
const char* ReasonPhrase(int status);

// A whole answer: status line, headers (Content-Length and Connection set here; the
// handler's own Content-Length, Connection and Transfer-Encoding left out), body; the
// connection is kept only when `keep`.
std::string SerializeResponse(const httplib::Response& res, bool keep);

}  // namespace gpuledger
