// The profile's `events` section: sensitive paths and all_opens, and how each
// mistake is reported (field, line).
#include <gtest/gtest.h>

#include "config/profile_loader.h"

namespace bulkhead::config {
namespace {

ProfileLoadResult load(const std::string& events) {
  return load_profile_string("version: 1\ntenant: ev\nevents:\n" + events, "t.yaml");
}

std::string dump(const ProfileLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

TEST(ProfileEvents, DefaultsWhenAbsent) {
  auto r = load_profile_string("version: 1\ntenant: ev\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.profile->events.sensitive_paths.empty());
  EXPECT_FALSE(r.profile->events.all_opens);
}

TEST(ProfileEvents, SensitivePathsAndAllOpens) {
  auto r = load("  sensitive_paths: [/etc/shadow, /data/keys]\n  all_opens: true\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->events.sensitive_paths,
            (std::vector<std::string>{"/etc/shadow", "/data/keys"}));
  EXPECT_TRUE(r.profile->events.all_opens);
}

TEST(ProfileEvents, MistakesNameTheFieldAndLine) {
  auto unknown = load("  sensitive: [/etc]\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.errors[0].field, "events.sensitive") << dump(unknown);
  EXPECT_EQ(unknown.errors[0].line, 4);

  auto relative = load("  sensitive_paths: [etc/shadow]\n");
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.errors[0].field, "events.sensitive_paths[0]") << dump(relative);

  auto twice = load("  sensitive_paths: [/etc/shadow, /etc/shadow]\n");
  ASSERT_EQ(twice.errors.size(), 1u) << dump(twice);
  EXPECT_EQ(twice.errors[0].field, "events.sensitive_paths[1]");
  EXPECT_NE(twice.errors[0].message.find("already listed"), std::string::npos);

  auto too_long = load("  sensitive_paths: [/" + std::string(260, 'a') + "]\n");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.errors[0].message.find("longer than 250"), std::string::npos);

  auto not_bool = load("  all_opens: maybe\n");
  ASSERT_FALSE(not_bool.ok());
  EXPECT_EQ(not_bool.errors[0].field, "events.all_opens") << dump(not_bool);
}

}  // namespace
}  // namespace bulkhead::config
