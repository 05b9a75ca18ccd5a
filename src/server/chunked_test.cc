#include "server/chunked.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

// Feeds `wire` in pieces of `step` bytes; the decoded body, or the error.
StatusOr<std::string> Decode(std::string_view wire, size_t step, size_t max_body = 1000,
                             size_t* left = nullptr, ChunkedDecoder::Failure* why = nullptr) {
  ChunkedDecoder d(max_body, 100);
  std::string body;
  for (size_t at = 0; at < wire.size();) {
    const std::string_view piece = wire.substr(at, step);
    size_t used = 0;
    StatusOr<bool> done = d.Feed(piece, &used, &body);
    if (why) *why = d.failure();
    if (!done.ok()) return done.status();
    at += used;
    if (*done) {
      if (left) *left = wire.size() - at;
      return body;
    }
    if (used != piece.size()) return Internal("not all consumed before the end");
  }
  return InvalidArgument("incomplete");
}

TEST(ChunkedDecoder, DecodesWhateverTheReadsBoundaries) {
  const std::string wire = "5\r\nhello\r\n6;name=v\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (size_t step : {1u, 2u, 3u, 7u, 100u}) {
    size_t left = 0;
    auto body = Decode(wire, step, 1000, &left);
    ASSERT_TRUE(body.ok()) << step << ": " << body.status().ToString();
    EXPECT_EQ(*body, "hello world") << step;
    if (step == 100) {
      EXPECT_EQ(left, 4u) << "the next request's bytes are not consumed";
    }
  }
}

TEST(ChunkedDecoder, RefusesNamingWhatWasWrong) {
  struct Case {
    std::string wire;
    ChunkedDecoder::Failure failure;
    const char* message;
  } cases[] = {
      {"zz\r\n", ChunkedDecoder::Failure::kMalformed, "chunk size line \"zz\" is not a hexadecimal size"},
      {"5\nhello\r\n", ChunkedDecoder::Failure::kMalformed, "does not end with CRLF"},
      {"5\r\nhelloXX", ChunkedDecoder::Failure::kMalformed, "chunk data not followed by CRLF"},
      {"ffffffffffffffff\r\n", ChunkedDecoder::Failure::kMalformed, "is not a hexadecimal size"},
      {"3e9\r\n", ChunkedDecoder::Failure::kTooLarge,
       "chunked request body of 1001+ bytes exceeds limit 1000 bytes"},
      {"fffffffffffffff\r\n", ChunkedDecoder::Failure::kTooLarge, "exceeds limit 1000 bytes"},
      {std::string(2000, '1'), ChunkedDecoder::Failure::kMalformed, "chunk size line longer than 1024 bytes"},
      {"0\r\n" + std::string(200, 'h'), ChunkedDecoder::Failure::kTrailersTooLarge,
       "chunked trailers exceed limit 100 bytes"},
  };
  for (const Case& c : cases) {
    ChunkedDecoder::Failure why = ChunkedDecoder::Failure::kNone;
    auto r = Decode(c.wire, 3, 1000, nullptr, &why);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(why, c.failure) << c.message;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
  // The limit counts every chunk: two of 600 pass it.
  ChunkedDecoder::Failure why = ChunkedDecoder::Failure::kNone;
  auto two = Decode("258\r\n" + std::string(600, 'a') + "\r\n258\r\n", 50, 1000, nullptr, &why);
  EXPECT_EQ(why, ChunkedDecoder::Failure::kTooLarge) << two.status().ToString();
}

}  // namespace
}  // namespace gpuledger
