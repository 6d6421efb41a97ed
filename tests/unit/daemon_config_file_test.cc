// Locating an option in bulkheadd's config file for error messages.
#include <gtest/gtest.h>

#include "daemon/config_file.h"

namespace bulkhead::daemon {
namespace {

TEST(DaemonConfigFile, FindsTheLineOfAnOption) {
  const std::string text =
      "# bulkheadd\n"
      "profiles = /etc/bulkhead/tenants.d\n"
      "\n"
      "  stop-grace=5s   # short\n"
      "bogus = 1\n"
      "[extra]\n"
      "key = v\n";
  EXPECT_EQ(find_option_line(text, "profiles"), 2);
  EXPECT_EQ(find_option_line(text, "stop-grace"), 4);
  EXPECT_EQ(find_option_line(text, "--stop-grace"), 4);
  EXPECT_EQ(find_option_line(text, "bogus"), 5);
  EXPECT_EQ(find_option_line(text, "extra.key"), 7);
  EXPECT_EQ(find_option_line(text, "key"), 0);
  EXPECT_EQ(find_option_line(text, "bulkheadd"), 0);  // only in a comment
  EXPECT_EQ(find_option_line("", "x"), 0);
}

}  // namespace
}  // namespace bulkhead::daemon
