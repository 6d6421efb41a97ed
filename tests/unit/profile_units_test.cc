// Sizes, durations, integers, modes and path rules: the edge cases, overflow first.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "config/path_rules.h"
#include "config/units.h"

namespace bulkhead::config {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

TEST(ProfileUnits, ParsesIntegers) {
  EXPECT_EQ(*parse_uint("0"), 0u);
  EXPECT_EQ(*parse_uint("65536"), 65536u);
  EXPECT_EQ(*parse_uint("0x70000000"), 0x70000000u);
  EXPECT_EQ(*parse_uint("0XfF"), 255u);
  EXPECT_EQ(*parse_uint("18446744073709551615"), kU64Max);
  EXPECT_EQ(*parse_uint("0xffffffffffffffff"), kU64Max);
}

TEST(ProfileUnits, RejectsMalformedAndOverflowingIntegers) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1_000", "1.0", "0x", "0xg", "1e3", "010"}) {
    EXPECT_FALSE(parse_uint(bad).ok()) << bad;
  }
  auto over = parse_uint("18446744073709551616");  // 2^64
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("too large"), std::string::npos);
  EXPECT_FALSE(parse_uint("99999999999999999999999").ok());
  EXPECT_FALSE(parse_uint("0x10000000000000000").ok());
}

TEST(ProfileUnits, ParsesSizesWithDecimalAndBinarySuffixes) {
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("1K"), 1000u);
  EXPECT_EQ(*parse_size("1Ki"), 1024u);
  EXPECT_EQ(*parse_size("64Mi"), 64u << 20);
  EXPECT_EQ(*parse_size("3M"), 3000000u);
  EXPECT_EQ(*parse_size("1G"), 1000000000u);
  EXPECT_EQ(*parse_size("2Gi"), uint64_t{2} << 30);
  EXPECT_EQ(*parse_size("1T"), uint64_t{1000000000000});
  EXPECT_EQ(*parse_size("1Ti"), uint64_t{1} << 40);
  EXPECT_EQ(*parse_size("16777215Ti"), kU64Max - (uint64_t{1} << 40) + 1);  // 2^64 - 2^40
}

TEST(ProfileUnits, RejectsBadSizes) {
  for (const char* bad :
       {"", "Mi", "1m", "1mi", "1MiB", "1KB", "1 Mi", "1.5Gi", "-1", "1Ei", "0x10"}) {
    EXPECT_FALSE(parse_size(bad).ok()) << bad;
  }
}

TEST(ProfileUnits, SizeOverflowIsAnErrorNotAWrap) {
  EXPECT_FALSE(parse_size("16777216Ti").ok());  // exactly 2^64
  EXPECT_FALSE(parse_size("18446744073709551615K").ok());
  EXPECT_FALSE(parse_size("18014398509481984Ki").ok());  // 2^54 Ki = 2^64
  EXPECT_EQ(*parse_size("18014398509481983Ki"), kU64Max - 1023);
  EXPECT_EQ(*parse_size("18446744073709551615"), kU64Max);
  auto r = parse_size("20000000T");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large"), std::string::npos);
}

TEST(ProfileUnits, ParsesDurationsInMicroseconds) {
  EXPECT_EQ(*parse_duration_us("0s"), 0u);
  EXPECT_EQ(*parse_duration_us("250us"), 250u);
  EXPECT_EQ(*parse_duration_us("50ms"), 50000u);
  EXPECT_EQ(*parse_duration_us("2s"), 2000000u);
  EXPECT_EQ(*parse_duration_us("18446744073709us"), 18446744073709u);
}

TEST(ProfileUnits, RejectsBadDurations) {
  for (const char* bad : {"", "100", "ms", "1m", "1h", "1.5s", "1 s", "-1s", "1S", "1sec", "01s"}) {
    EXPECT_FALSE(parse_duration_us(bad).ok()) << bad;
  }
  auto bare = parse_duration_us("100");
  EXPECT_NE(bare.error().message.find("needs a unit"), std::string::npos);
  EXPECT_FALSE(parse_duration_us("18446744073710s").ok());  // * 10^6 overflows
  EXPECT_FALSE(parse_duration_us("18446744073709552ms").ok());
  EXPECT_EQ(*parse_duration_us("18446744073709s"), uint64_t{18446744073709} * 1000000);
}

TEST(ProfileUnits, ParsesOctalModes) {
  EXPECT_EQ(*parse_mode("1777"), 01777u);
  EXPECT_EQ(*parse_mode("0755"), 0755u);
  EXPECT_EQ(*parse_mode("700"), 0700u);
  EXPECT_EQ(*parse_mode("7777"), 07777u);
  for (const char* bad : {"", "8", "0o755", "17777", "rwx", "-755", "0x1ff"}) {
    EXPECT_FALSE(parse_mode(bad).ok()) << bad;
  }
}

TEST(ProfileUnits, AcceptsOnlyCanonicalAbsolutePaths) {
  for (const char* good : {"/", "/usr", "/usr/lib64", "/a.b/..c/...", "/srv/x-y_z"}) {
    EXPECT_TRUE(check_absolute_path(good).ok()) << good;
  }
  for (const char* bad : {"", "usr", "./usr", "/usr/", "//usr", "/usr//lib", "/usr/.", "/./usr",
                          "/usr/..", "/../etc", "/a/../b"}) {
    EXPECT_FALSE(check_absolute_path(bad).ok()) << bad;
  }
  EXPECT_NE(check_absolute_path("/usr//lib/").error().message.find("write \"/usr/lib\""),
            std::string::npos);
  EXPECT_FALSE(check_absolute_path(std::string("/a\0b", 4)).ok());
  EXPECT_FALSE(check_absolute_path("/" + std::string(5000, 'a')).ok());
}

TEST(ProfileUnits, TargetsAreNotRootProcOrDev) {
  EXPECT_TRUE(check_target_path("/tmp").ok());
  EXPECT_TRUE(check_target_path("/procfs").ok());
  EXPECT_TRUE(check_target_path("/devices").ok());
  for (const char* bad : {"/", "/proc", "/proc/sys", "/dev", "/dev/shm"}) {
    EXPECT_FALSE(check_target_path(bad).ok()) << bad;
  }
}

TEST(ProfileUnits, PathIsUnderComparesWholeComponents) {
  EXPECT_TRUE(path_is_under("/proc", "/proc"));
  EXPECT_TRUE(path_is_under("/proc/1", "/proc"));
  EXPECT_FALSE(path_is_under("/procfs", "/proc"));
  EXPECT_FALSE(path_is_under("/pro", "/proc"));
  EXPECT_TRUE(path_is_under("/anything", "/"));
}

}  // namespace
}  // namespace bulkhead::config
