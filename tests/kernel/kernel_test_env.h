// Preconditions for kernel tests. Outside CI a missing precondition skips the
// test with the reason; under CI=true it FAILS, so a CI run can never go green
// by silently skipping the tests that matter.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace bulkhead::testing {

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
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
