// A bounds-checked reader of the protobuf wire format (varints, fixed64, length-
// delimited fields), for decoding untrusted messages without generated code or copies.
// Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

class WireReader {
 public:
  enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

  // Reads `b` from byte `pos` on.
  explicit WireReader(std::string_view b, size_t pos = 0) : b_(b), pos_(pos) {}
  bool done() const { return pos_ >= b_.size(); }
  size_t offset() const { return pos_; }

  // Reads the next field's tag.
  Status Tag(uint32_t* field, uint32_t* wire_type) {
    uint64_t key = 0;
    RETURN_IF_ERROR(Varint(&key));
    *field = static_cast<uint32_t>(key >> 3);
    *wire_type = static_cast<uint32_t>(key & 7);
    if (*field == 0) return Bad("field number 0");
    return OkStatus();
  }
  Status Varint(uint64_t* v) {
    // One byte (tags, lengths under 128) is the common case: no loop.
    if (pos_ < b_.size() && (static_cast<uint8_t>(b_[pos_]) & 0x80) == 0) {
      *v = static_cast<uint8_t>(b_[pos_++]);
      return OkStatus();
    }
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return Bad("truncated varint");
      const uint8_t c = static_cast<uint8_t>(b_[pos_++]);
      out |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        *v = out;
        return OkStatus();
      }
    }
    return Bad("varint longer than 10 bytes");
  }
  Status Fixed64(uint64_t* v) {
    if (b_.size() - pos_ < 8) return Bad("truncated fixed64");
    uint64_t out = 0;
    for (int i = 7; i >= 0; --i) out = (out << 8) | static_cast<uint8_t>(b_[pos_ + static_cast<size_t>(i)]);
    pos_ += 8;
    *v = out;
    return OkStatus();
  }
  Status Double(double* v) {
    uint64_t bits = 0;
    RETURN_IF_ERROR(Fixed64(&bits));
    std::memcpy(v, &bits, sizeof bits);
    return OkStatus();
  }
  Status Bytes(std::string_view* v) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Varint(&n));
    if (n > b_.size() - pos_) return PastEnd(n);
    *v = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return OkStatus();
  }
  // Skips a field of a type this decoder does not read.
  Status Skip(uint32_t wire_type) {
    uint64_t ignored = 0;
    std::string_view sv;
    switch (wire_type) {
      case kVarint:
        return Varint(&ignored);
      case kFixed64:
        return Fixed64(&ignored);
      case kBytes:
        return Bytes(&sv);
      case kFixed32:
        if (b_.size() - pos_ < 4) return Bad("truncated fixed32");
        pos_ += 4;
        return OkStatus();
      default:
        return Bad("unsupported wire type " + std::to_string(wire_type));
    }
  }

 private:
  // Errors are rare: kept out of line so the readers above stay small enough to inline.
  [[gnu::cold, gnu::noinline]] Status Bad(const std::string& why) const {
    return InvalidArgument("protobuf at byte " + std::to_string(pos_) + ": " + why);
  }
  [[gnu::cold, gnu::noinline]] Status PastEnd(uint64_t n) const {
    return Bad("length " + std::to_string(n) + " runs past the message end");
  }
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace gpuledger
