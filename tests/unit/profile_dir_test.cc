// load_profile_dir: which files are read, errors of all files collected, and the
// checks between tenants (names, id ranges, data directories).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/profile_loader.h"

namespace bulkhead::config {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(BULKHEAD_SOURCE_DIR) + "/tests/data/profiles";

std::string dump(const std::vector<ProfileError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

class ProfileDirTemp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bulkhead-profiles-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

TEST(ProfileDir, LoadsYamlAndYmlInNameOrderAndSkipsTheRest) {
  auto r = load_profile_dir(kFixtures + "/dir_ok");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  ASSERT_EQ(r.profiles.size(), 2u);
  EXPECT_EQ(r.profiles[0].name, "a");
  EXPECT_EQ(r.profiles[1].name, "b");
  EXPECT_EQ(r.profiles[1].source_file, kFixtures + "/dir_ok/b.yml");
}

TEST(ProfileDir, ReportsConflictsBetweenTenantsAndErrorsOfEveryFile) {
  const std::string d = kFixtures + "/dir_conflicts";
  auto r = load_profile_dir(d);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 4u) << dump(r.errors);

  EXPECT_EQ(r.errors[0].file, d + "/20-alpha-again.yaml");
  EXPECT_EQ(r.errors[0].field, "tenant");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("already defined in " + d + "/10-alpha.yaml:2"),
            std::string::npos)
      << dump(r.errors);

  EXPECT_EQ(r.errors[1].file, d + "/30-gamma.yaml");
  EXPECT_EQ(r.errors[1].field, "ids");
  EXPECT_EQ(r.errors[1].line, 4);
  EXPECT_NE(r.errors[1].message.find("overlap those of tenant \"alpha\""), std::string::npos);

  EXPECT_EQ(r.errors[2].file, d + "/40-delta.yaml");
  EXPECT_EQ(r.errors[2].field, "filesystem.data.host_path");
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_NE(r.errors[2].message.find("tenant \"alpha\""), std::string::npos);

  EXPECT_EQ(r.errors[3].file, d + "/50-broken.yaml");
  EXPECT_EQ(r.errors[3].field, "limits.memroy");

  // Only the profiles without errors are listed; the set as a whole is still not ok.
  ASSERT_EQ(r.profiles.size(), 2u);
  EXPECT_EQ(r.profiles[0].name, "alpha");
  EXPECT_EQ(r.profiles[1].name, "fine");
}

TEST(ProfileDir, MissingDirectoryIsAnError) {
  auto r = load_profile_dir("/nonexistent/bulkhead/profiles");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/nonexistent/bulkhead/profiles");
  EXPECT_NE(r.errors[0].message.find("No such file"), std::string::npos);
}

TEST_F(ProfileDirTemp, EmptyDirectoryHasNoTenants) {
  auto r = load_profile_dir(dir_.string());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.profiles.empty());
}

TEST_F(ProfileDirTemp, AdjacentRangesDoNotOverlapButSharedIdsDo) {
  write("a.yaml", "version: 1\ntenant: a\nids: {base: 100000, count: 10}\n");
  write("b.yaml", "version: 1\ntenant: b\nids: {base: 100010, count: 10}\n");
  EXPECT_TRUE(load_profile_dir(dir_.string()).ok());
  write("c.yaml", "version: 1\ntenant: c\nids: {base: 100019, count: 1}\n");
  auto r = load_profile_dir(dir_.string());
  ASSERT_EQ(r.errors.size(), 1u) << dump(r.errors);
  EXPECT_EQ(r.errors[0].field, "ids");
  EXPECT_NE(r.errors[0].message.find("tenant \"b\""), std::string::npos);
}

TEST_F(ProfileDirTemp, DataDirectoriesMayNotNest) {
  write("a.yaml", "version: 1\ntenant: a\n");
  write("b.yaml", "version: 1\ntenant: b\nfilesystem: {data: {host_path: /var/lib/bulkhead}}\n");
  auto r = load_profile_dir(dir_.string());
  ASSERT_EQ(r.errors.size(), 1u) << dump(r.errors);
  EXPECT_EQ(r.errors[0].field, "filesystem.data.host_path");
  EXPECT_EQ(r.errors[0].line, 3);
}

TEST_F(ProfileDirTemp, ADuplicateInAThirdFileIsStillFound) {
  write("1.yaml", "version: 1\ntenant: x\n");
  write("2.yaml", "version: 1\ntenant: bad name\n");
  write("3.yaml", "version: 1\ntenant: x\n");
  auto r = load_profile_dir(dir_.string());
  ASSERT_EQ(r.errors.size(), 2u) << dump(r.errors);
  EXPECT_EQ(r.errors[0].file, (dir_ / "2.yaml").string());
  EXPECT_EQ(r.errors[1].file, (dir_ / "3.yaml").string());
  ASSERT_EQ(r.profiles.size(), 1u);
}

TEST_F(ProfileDirTemp, UnreadableEntriesAreErrors) {
  fs::create_directories(dir_ / "dir.yaml");
  auto r = load_profile_dir(dir_.string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, (dir_ / "dir.yaml").string());
}

}  // namespace
}  // namespace bulkhead::config
