#include "common/result.h"

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) {
    return make_error("not positive");
  }
  return v;
}

Status chain(int v) {
  BULKHEAD_TRY_CTX(parse_positive(v), "checking input");
  return {};
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "not positive");
}

TEST(Result, TryPropagatesWithContext) {
  EXPECT_TRUE(chain(1).ok());
  auto s = chain(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().to_string(), "checking input: not positive");
}

TEST(Result, ErrnoErrorNamesTheSyscallError) {
  errno = ENOENT;
  Error e = errno_error("open /nope");
  EXPECT_EQ(e.code, ENOENT);
  EXPECT_NE(e.to_string().find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead
