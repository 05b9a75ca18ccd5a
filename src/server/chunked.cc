#include "server/chunked.h"

#include <algorithm>
#include <cctype>

#include "domain/ids.h"

namespace gpuledger {

Status ChunkedDecoder::Fail(Failure f, std::string message) {
  failure_ = f;
  return InvalidArgument(std::move(message));
}

StatusOr<bool> ChunkedDecoder::Feed(std::string_view in, size_t* consumed, std::string* body) {
  size_t i = 0;
  *consumed = 0;
  if (failure_ != Failure::kNone) return Fail(failure_, "chunked body already refused");
  while (i < in.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize:
      case State::kTrailer: {
        const size_t nl = in.find('\n', i);
        const size_t end = nl == std::string_view::npos ? in.size() : nl + 1;
        line_.append(in.substr(i, end - i));
        i = end;
        if (state_ == State::kSize && line_.size() > kMaxLineBytes + 2) {
          return Fail(Failure::kMalformed,
                      "chunk size line longer than " + std::to_string(kMaxLineBytes) + " bytes");
        }
        if (state_ == State::kTrailer && trailer_bytes_ + line_.size() > max_trailer_ + 2) {
          return Fail(Failure::kTrailersTooLarge,
                      "chunked trailers exceed limit " + std::to_string(max_trailer_) + " bytes");
        }
        if (nl == std::string_view::npos) break;  // the line goes on in the next read
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
          return Fail(Failure::kMalformed,
                      "chunked body line \"" + EscapeForMessage(line_, 32) + "\" does not end with CRLF");
        }
        const std::string_view l(line_.data(), line_.size() - 2);
        if (state_ == State::kTrailer) {
          if (l.empty()) {
            state_ = State::kDone;
          } else {
            trailer_bytes_ += line_.size();
          }
          line_.clear();
          break;
        }
        std::string_view hex = l.substr(0, l.find(';'));
        while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.remove_suffix(1);
        if (hex.empty() || hex.size() > 15 || !std::all_of(hex.begin(), hex.end(), [](char ch) {
              return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
            })) {
          return Fail(Failure::kMalformed,
                      "chunk size line \"" + EscapeForMessage(l, 32) + "\" is not a hexadecimal size");
        }
        const size_t n = std::stoull(std::string(hex), nullptr, 16);
        line_.clear();
        if (n == 0) {
          state_ = State::kTrailer;
          break;
        }
        if (n > max_body_ || body->size() > max_body_ - n) {
          return Fail(Failure::kTooLarge,
                      "chunked request body of " + std::to_string(body->size() + std::min(n, max_body_ + 1)) +
                          "+ bytes exceeds limit " + std::to_string(max_body_) + " bytes");
        }
        remaining_ = n;
        state_ = State::kData;
        break;
      }
      case State::kData: {
        const size_t take = std::min(remaining_, in.size() - i);
        body->append(in.substr(i, take));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
      case State::kDataLf:
        if (in[i] != (state_ == State::kDataCr ? '\r' : '\n')) {
          return Fail(Failure::kMalformed, "chunk data not followed by CRLF");
        }
        ++i;
        state_ = state_ == State::kDataCr ? State::kDataLf : State::kSize;
        break;
      case State::kDone:
        break;
    }
  }
  *consumed = i;
  return state_ == State::kDone;
}

}  // namespace gpuledger
