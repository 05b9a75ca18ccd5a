// HTTP/1.1 chunked transfer coding, decoded incrementally as a request body arrives
// (server/http_front.h feeds it what it reads). Untrusted input: the decoded size is
// bounded before a chunk is accepted, every line is bounded, errors say what was wrong
// (fuzz/fuzz_chunked.cc). Pure; thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

class ChunkedDecoder {
 public:
  static constexpr size_t kMaxLineBytes = 1024;  // a chunk-size line (with extensions)

  ChunkedDecoder(size_t max_body_bytes, size_t max_trailer_bytes)
      : max_body_(max_body_bytes), max_trailer_(max_trailer_bytes) {}

  // Decodes from `in`, appending chunk data to `*body`; `*consumed` is how much of `in`
  // it used: all of it, unless the body ended inside `in` (what follows is the next
  // request). True once the last chunk and its trailers are read.
  StatusOr<bool> Feed(std::string_view in, size_t* consumed, std::string* body);

  enum class Failure { kNone, kMalformed, kTooLarge, kTrailersTooLarge };
  // Why Feed failed (an HTTP status each: 400, 413, 431).
  Failure failure() const { return failure_; }

 private:
  enum class State { kSize, kData, kDataCr, kDataLf, kTrailer, kDone };
  Status Fail(Failure f, std::string message);
  size_t max_body_, max_trailer_;
  State state_ = State::kSize;
  std::string line_;      // a size or trailer line so far
  size_t remaining_ = 0;  // of the current chunk's data
  size_t trailer_bytes_ = 0;
  Failure failure_ = Failure::kNone;
};

}  // namespace gpuledger
