// The HTTP/1.1 wire format the front speaks (http_message.h).
#include "server/http_message.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace gpuledger {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string SerializeResponse(const httplib::Response& res, bool keep) {
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + ReasonPhrase(res.status) + "\r\n";
  for (const auto& [k, v] : res.headers) {
    const std::string lk = ToLower(k);
    if (lk == "content-length" || lk == "connection" || lk == "transfer-encoding") continue;
    out += k + ": " + v + "\r\n";
  }
  if (res.status != 204 && res.status != 304)
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  out += keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (res.status != 204 && res.status != 304) out += res.body;
  return out;
}

Status ParseRequestHead(std::string_view head, httplib::Request& req) {
  const size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return InvalidArgument("request line is not 'METHOD /path HTTP/1.1'");
  }
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0")
    return InvalidArgument("HTTP version '" + req.version.substr(0, 16) + "' is not HTTP/1.1 or HTTP/1.0");
  if (req.method.empty() || !std::all_of(req.method.begin(), req.method.end(),
                                         [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
    return InvalidArgument("request method is not an upper-case token");
  if (req.target.empty() || req.target[0] != '/')
    return InvalidArgument("request target does not start with '/'");
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    const size_t e = rest.find("\r\n");
    const std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    if (h.empty()) continue;
    if (h[0] == ' ' || h[0] == '\t') return InvalidArgument("folded header lines are not accepted");
    const size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos)
      return InvalidArgument("header line without a name and ':'");
    const std::string_view name = h.substr(0, colon);
    if (std::any_of(name.begin(), name.end(), [](char c) { return c == ' ' || c == '\t'; }))
      return InvalidArgument("header name with white space");
    req.headers.emplace(std::string(name), std::string(Trim(h.substr(colon + 1))));
  }
  const size_t q = req.target.find('?');
  req.path = httplib::detail::decode_url(req.target.substr(0, q), false);
  if (q != std::string::npos) httplib::detail::parse_query_text(req.target.substr(q + 1), req.params);
  return OkStatus();
}

std::string JsonErrorBody(const Status& s) {
  return nlohmann::json{{"error", std::string(StatusCodeName(s.code()))}, {"message", s.message()}}.dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kAlreadyExists:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 503;  // a retry can fix it
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace gpuledger
