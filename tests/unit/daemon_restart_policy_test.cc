// When a declared workload is restarted and how long it waits.
#include <gtest/gtest.h>

#include "daemon/restart_policy.h"

namespace bulkhead::daemon {
namespace {

using config::RestartPolicy;
using std::chrono::milliseconds;

TEST(RestartPolicy, NoNeverRestarts) {
  EXPECT_EQ(decide_restart(RestartPolicy::kNo, true, 0, 5), RestartAction::kDone);
  EXPECT_EQ(decide_restart(RestartPolicy::kNo, false, 0, 5), RestartAction::kDone);
}

TEST(RestartPolicy, OnFailureRestartsFailuresOnly) {
  EXPECT_EQ(decide_restart(RestartPolicy::kOnFailure, true, 0, 5), RestartAction::kDone);
  EXPECT_EQ(decide_restart(RestartPolicy::kOnFailure, false, 0, 5), RestartAction::kRestart);
  EXPECT_EQ(decide_restart(RestartPolicy::kOnFailure, false, 4, 5), RestartAction::kRestart);
  EXPECT_EQ(decide_restart(RestartPolicy::kOnFailure, false, 5, 5), RestartAction::kGiveUp);
  // A success after the limit is still just done.
  EXPECT_EQ(decide_restart(RestartPolicy::kOnFailure, true, 5, 5), RestartAction::kDone);
}

TEST(RestartPolicy, AlwaysRestartsAnyEndUpToTheLimit) {
  EXPECT_EQ(decide_restart(RestartPolicy::kAlways, true, 0, 2), RestartAction::kRestart);
  EXPECT_EQ(decide_restart(RestartPolicy::kAlways, false, 1, 2), RestartAction::kRestart);
  EXPECT_EQ(decide_restart(RestartPolicy::kAlways, true, 2, 2), RestartAction::kGiveUp);
}

TEST(RestartPolicy, BackoffDoublesFromTheBaseAndIsCapped) {
  EXPECT_EQ(restart_delay(1000, 1), milliseconds(1000));
  EXPECT_EQ(restart_delay(1000, 2), milliseconds(2000));
  EXPECT_EQ(restart_delay(1000, 3), milliseconds(4000));
  EXPECT_EQ(restart_delay(1000, 7), milliseconds(60000));
  EXPECT_EQ(restart_delay(1000, 4000000000U), kMaxRestartDelay);
  EXPECT_EQ(restart_delay(90000, 1), kMaxRestartDelay);
  EXPECT_EQ(restart_delay(50, 3, milliseconds(120)), milliseconds(120));
  EXPECT_EQ(restart_delay(0, 4000000000U), milliseconds(0));  // and fast: no 4e9 iterations
}

TEST(RestartPolicy, Names) {
  EXPECT_STREQ(policy_name(RestartPolicy::kNo), "no");
  EXPECT_STREQ(policy_name(RestartPolicy::kOnFailure), "on-failure");
  EXPECT_STREQ(policy_name(RestartPolicy::kAlways), "always");
}

}  // namespace
}  // namespace bulkhead::daemon
