// Runs the fixture profiles: every example in profiles/ and tests/data/profiles/good
// must load; every file in tests/data/profiles/bad must fail with exactly the
// errors its "# ERR <field>: <text>" comments announce, on those lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/profile_loader.h"

namespace bulkhead::config {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = BULKHEAD_SOURCE_DIR;

std::vector<std::string> yaml_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Expected {
  int line;
  std::string field;
  std::string text;
};

// "... # ERR a.b: some text ERR c: more" on line N -> {N, "a.b", "some text"}, {N, "c", "more"}.
std::vector<Expected> expected_errors(const std::string& path) {
  std::vector<Expected> out;
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    size_t hash = line.find('#');
    if (hash == std::string::npos) {
      continue;
    }
    std::string comment = line.substr(hash);
    size_t pos = comment.find("ERR ");
    while (pos != std::string::npos) {
      size_t next = comment.find(" ERR ", pos + 4);
      std::string spec =
          comment.substr(pos + 4, next == std::string::npos ? std::string::npos : next - pos - 4);
      size_t colon = spec.find(": ");
      out.push_back({n, spec.substr(0, colon), spec.substr(colon + 2)});
      pos = next == std::string::npos ? next : next + 1;
    }
  }
  return out;
}

std::string dump(const std::vector<ProfileError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "  " + e.to_string() + "\n";
  }
  return out;
}

TEST(ProfileFixtures, EveryExampleProfileLoads) {
  auto files = yaml_files(kSourceDir + "/profiles");
  ASSERT_GE(files.size(), 2u);
  for (const auto& path : files) {
    auto r = load_profile_file(path);
    EXPECT_TRUE(r.ok()) << path << ":\n" << dump(r.errors);
  }
}

TEST(ProfileFixtures, ExampleDirectoryLoadsAsASet) {
  auto r = load_profile_dir(kSourceDir + "/profiles");
  EXPECT_TRUE(r.ok()) << dump(r.errors);
  ASSERT_EQ(r.profiles.size(), yaml_files(kSourceDir + "/profiles").size());
  EXPECT_EQ(r.profiles[0].name, "alpha");
  EXPECT_EQ(r.profiles[1].name, "beta");
}

TEST(ProfileFixtures, GoodFixturesLoad) {
  for (const auto& path : yaml_files(kSourceDir + "/tests/data/profiles/good")) {
    auto r = load_profile_file(path);
    EXPECT_TRUE(r.ok()) << path << ":\n" << dump(r.errors);
  }
}

TEST(ProfileFixtures, BadFixturesGiveExactlyTheAnnouncedErrors) {
  auto files = yaml_files(kSourceDir + "/tests/data/profiles/bad");
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    auto expected = expected_errors(path);
    ASSERT_FALSE(expected.empty()) << "fixture announces no error";
    auto r = load_profile_file(path);
    EXPECT_FALSE(r.profile.has_value());
    for (const auto& want : expected) {
      bool found = std::any_of(r.errors.begin(), r.errors.end(), [&](const ProfileError& e) {
        return e.line == want.line && e.field == want.field &&
               e.message.find(want.text) != std::string::npos && e.file == path;
      });
      EXPECT_TRUE(found) << "missing: line " << want.line << " " << want.field << ": " << want.text
                         << "\ngot:\n"
                         << dump(r.errors);
    }
    EXPECT_EQ(r.errors.size(), expected.size()) << dump(r.errors);
  }
}

}  // namespace
}  // namespace bulkhead::config
