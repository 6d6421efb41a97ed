// Preconditions for kernel tests. Outside CI a missing precondition skips the
// test with the reason; under CI=true it FAILS, so a CI run can never go green
// by silently skipping the tests that matter.
//
// Tests follow the host: where a test depends on a host detail that differs
// between machines (swap accounting, cgroup.kill, Landlock ABI, ...), it probes
// it, asserts the branch that applies and names that branch with
// record_branch(). A hard prerequisite of the product (root, cgroup2, Landlock,
// BTF) is a BULKHEAD_REQUIRE instead.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace bulkhead::testing {

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Names the branch of a host-dependent test that ran: printed as
// "[  BRANCH  ] text" and recorded as the test property "branch" (in the XML
// report), all of a test's branches joined with "; ". Call from the test's
// own thread.
inline void record_branch(const std::string& text) {
  static std::string test;  // the test the branches recorded so far belong to
  static std::string branches;
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name =
      info == nullptr ? std::string() : std::string(info->test_suite_name()) + "." + info->name();
  if (name != test) {
    test = name;
    branches.clear();
  }
  branches += (branches.empty() ? "" : "; ") + text;
  ::testing::Test::RecordProperty("branch", branches);
  std::cout << "[  BRANCH  ] " << text << "\n" << std::flush;
}

}  // namespace bulkhead::testing

// Use at the top of a kernel test: BULKHEAD_REQUIRE(geteuid() == 0, "needs root");
#define BULKHEAD_REQUIRE(cond, why)                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      if (::bulkhead::testing::running_in_ci()) {                    \
        FAIL() << "kernel test cannot run under CI=true: " << (why); \
      }                                                              \
      GTEST_SKIP() << (why);                                         \
    }                                                                \
  } while (0)

#define BULKHEAD_REQUIRE_ROOT() BULKHEAD_REQUIRE(::geteuid() == 0, "needs root")
