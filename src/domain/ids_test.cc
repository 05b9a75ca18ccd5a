#include "domain/ids.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(Ids, OrdinaryIdentifiersPass) {
  for (const char* id : {"job-2026-10-1000", "12345", "train_v8s.run:2", "yolo@a100+amp=1"})
    EXPECT_TRUE(CheckId(IdKind::kJobId, id).ok()) << id;
  EXPECT_TRUE(CheckId(IdKind::kProject, "pcb-solder-qc").ok());
  EXPECT_TRUE(CheckId(IdKind::kProject, "vision team 2").ok());
  EXPECT_TRUE(CheckId(IdKind::kUser, "张三").ok());  // UTF-8 names
  EXPECT_TRUE(CheckId(IdKind::kGpuUuid, "GPU-8c1e0a3f-12ab-4cde-9f00-0123456789ab").ok());
  EXPECT_TRUE(CheckId(IdKind::kLabelValue, "registry/ultralytics:train cu118").ok());
  EXPECT_TRUE(CheckId(IdKind::kLabelValue, "").ok());
}

TEST(Ids, EachForbiddenCharacterIsRefusedNamingTheRuleAndTheEscapedValue) {
  struct Case {
    IdKind kind;
    std::string value;
    const char* message;
  } cases[] = {
      {IdKind::kJobId, std::string("a\0b", 3),
       "job id \"a\\x00b\" (3 bytes) has control character \\x00 at byte 1"},
      {IdKind::kJobId, "a\nb", "has control character \\x0a at byte 1"},
      {IdKind::kJobId, "x\x1b[31mred",
       "job id \"x\\x1b[31mred\" (9 bytes) has control character \\x1b at byte 1"},
      {IdKind::kJobId,
       "x\xc2\x9b"
       "31m",
       "has byte \\xc2 at byte 1 that starts no valid UTF-8"},  // C1 CSI
      {IdKind::kJobId, "a\x7f", "has control character \\x7f"},
      {IdKind::kJobId, "../etc", "has '/' at byte 2 (no path separators)"},
      {IdKind::kJobId, "a/b", "has '/' at byte 1"},
      {IdKind::kJobId, "a\\b", "has '\\' at byte 1"},
      {IdKind::kJobId, "..", "is a path component"},
      {IdKind::kJobId, "a b", "has a space at byte 1 (no spaces)"},
      {IdKind::kProject, "   ", "starts or ends with a space"},
      {IdKind::kProject, " p", "starts or ends with a space"},
      {IdKind::kJobId, std::string(100000, 'a'), "(100000 bytes) exceeds the limit 128 bytes"},
      {IdKind::kJobId, "", "job id is empty"},
      {IdKind::kJobId, "\xff\xfe", "has byte \\xff at byte 0 that starts no valid UTF-8"},
      {IdKind::kJobId, "\xed\xa0\x80", "that starts no valid UTF-8"},  // a surrogate
      {IdKind::kGpuUuid, std::string(256, 'G'), "GPU UUID \"GGGG"},
      {IdKind::kGpuUuid, "GPU-\xc3\xa9", "has non-ASCII byte \\xc3 at byte 4 (printable ASCII only)"},
      {IdKind::kGpuUuid, "GPU-1\t", "has control character \\x09"},
      {IdKind::kLabelValue, "a\rb", "label value \"a\\x0db\" (3 bytes) has control character \\x0d"},
      {IdKind::kLabelValue, std::string(1025, 'v'), "exceeds the limit 1024 bytes"},
  };
  for (const Case& c : cases) {
    const Status s = CheckId(c.kind, c.value);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << "messages are escaped";
    EXPECT_EQ(s.message().find('\x1b'), std::string::npos) << "messages are escaped";
  }
  EXPECT_NE(CheckId(IdKind::kGpuUuid, std::string(256, 'G'))
                .message()
                .find("(256 bytes) exceeds the limit 255 bytes"),
            std::string::npos);
}

TEST(Ids, EscapingShowsAtMostItsLimit) {
  EXPECT_EQ(EscapeForMessage("ab\"c\\"), "ab\\\"c\\\\");
  EXPECT_EQ(EscapeForMessage(std::string(70, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace gpuledger
