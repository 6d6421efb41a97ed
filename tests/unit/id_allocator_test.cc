// assign_id_ranges: ranges from the pool, kept per tenant across restarts,
// reordering and new tenants; explicit ranges avoided; bad state refused.
#include "config/id_allocator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace bulkhead::config {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kBlock = kDefaultIdCount;

Profile tenant(const std::string& name, std::optional<IdRange> ids = std::nullopt) {
  Profile p;
  p.name = name;
  p.ids = ids;
  return p;
}

uint32_t base_of(const std::vector<Profile>& profiles, const std::string& name) {
  for (const auto& p : profiles) {
    if (p.name == name) {
      EXPECT_TRUE(p.ids.has_value()) << name;
      return p.ids ? p.ids->base : 0;
    }
  }
  ADD_FAILURE() << "no tenant " << name;
  return 0;
}

class IdAllocator : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bulkhead-ids-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    state_ = (dir_ / "ids.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string read_state() const {
    std::ifstream in(state_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write_state(const std::string& text) const { std::ofstream(state_) << text; }

  std::vector<Profile> assign(std::vector<Profile> profiles) {
    auto s = assign_id_ranges(profiles, state_);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return profiles;
  }

  fs::path dir_;
  std::string state_;
};

TEST_F(IdAllocator, AssignsPoolBlocksInNameOrderAndPersistsThem) {
  auto ps = assign({tenant("beta"), tenant("alpha")});
  EXPECT_EQ(base_of(ps, "alpha"), kIdPoolBegin);
  EXPECT_EQ(base_of(ps, "beta"), kIdPoolBegin + kBlock);
  EXPECT_EQ(ps[0].ids->count, kDefaultIdCount);

  auto doc = nlohmann::json::parse(read_state());
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["tenants"]["alpha"]["base"], kIdPoolBegin);
  EXPECT_EQ(doc["tenants"]["beta"]["count"], kDefaultIdCount);
  // Written through a temporary file that is gone afterwards.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(IdAllocator, RangesSurviveRestartReorderAndNewTenants) {
  auto first = assign({tenant("mike")});
  EXPECT_EQ(base_of(first, "mike"), kIdPoolBegin);
  std::string saved = read_state();

  // Restart: same profiles, nothing to assign, the file is not rewritten.
  auto again = assign({tenant("mike")});
  EXPECT_EQ(base_of(again, "mike"), kIdPoolBegin);
  EXPECT_EQ(read_state(), saved);

  // New tenants sorting before and after an existing one do not move it.
  auto more = assign({tenant("zulu"), tenant("alpha"), tenant("mike")});
  EXPECT_EQ(base_of(more, "mike"), kIdPoolBegin);
  EXPECT_EQ(base_of(more, "alpha"), kIdPoolBegin + kBlock);
  EXPECT_EQ(base_of(more, "zulu"), kIdPoolBegin + 2 * kBlock);

  auto reordered = assign({tenant("mike"), tenant("zulu"), tenant("alpha")});
  for (const char* name : {"mike", "zulu", "alpha"}) {
    EXPECT_EQ(base_of(reordered, name), base_of(more, name)) << name;
  }
}

TEST_F(IdAllocator, RemovedTenantKeepsItsRangeReserved) {
  assign({tenant("a"), tenant("b")});
  auto later = assign({tenant("b"), tenant("c")});
  EXPECT_EQ(base_of(later, "c"), kIdPoolBegin + 2 * kBlock);  // not a's block
  auto back = assign({tenant("a")});
  EXPECT_EQ(base_of(back, "a"), kIdPoolBegin);
}

TEST_F(IdAllocator, AvoidsExplicitRangesAndLeavesThemAlone) {
  // Covers block 0, block 1 and the first id of block 2.
  IdRange fixed{kIdPoolBegin, 2 * kBlock + 1};
  auto ps = assign({tenant("fixed", fixed), tenant("auto")});
  EXPECT_EQ(base_of(ps, "auto"), kIdPoolBegin + 3 * kBlock);
  EXPECT_EQ(ps[0].ids->base, fixed.base);
  EXPECT_EQ(ps[0].ids->count, fixed.count);
  auto doc = nlohmann::json::parse(read_state());
  EXPECT_FALSE(doc["tenants"].contains("fixed"));
}

TEST_F(IdAllocator, ExplicitRangesBelowThePoolDoNotMatter) {
  auto ps = assign({tenant("low", IdRange{100000, 5}), tenant("auto")});
  EXPECT_EQ(base_of(ps, "auto"), kIdPoolBegin);
}

TEST_F(IdAllocator, ExplicitRangeOverAnotherTenantsPersistedRangeIsAnError) {
  assign({tenant("old")});
  std::vector<Profile> ps{tenant("old"), tenant("new", IdRange{kIdPoolBegin + 100, 10})};
  auto s = assign_id_ranges(ps, state_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("\"new\""), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("\"old\""), std::string::npos) << s.error().message;
  EXPECT_FALSE(ps[0].ids.has_value());  // unchanged on error
}

TEST_F(IdAllocator, ATenantMayOverlapItsOwnPersistedRange) {
  assign({tenant("self")});
  auto ps = assign({tenant("self", IdRange{kIdPoolBegin, 10})});
  EXPECT_EQ(ps[0].ids->count, 10u);
}

TEST_F(IdAllocator, RejectsDuplicateNamesAndOverlappingExplicitRanges) {
  std::vector<Profile> dup{tenant("x"), tenant("x")};
  EXPECT_FALSE(assign_id_ranges(dup, state_).ok());
  std::vector<Profile> overlap{tenant("a", IdRange{100000, 100}), tenant("b", IdRange{100099, 1})};
  auto s = assign_id_ranges(overlap, state_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("overlap"), std::string::npos);
  EXPECT_FALSE(fs::exists(state_));
}

TEST_F(IdAllocator, CorruptStateFileIsAnErrorNamingItAndIsKept) {
  const std::string cases[] = {
      "",
      "not json",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879048192, \"count\": 65536}}",
      "[]",
      "{\"tenants\": {}}",
      "{\"version\": 2, \"tenants\": {}}",
      "{\"version\": 1, \"tenants\": []}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": \"1879048192\", \"count\": 65536}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": -1, \"count\": 65536}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879048192}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879048192, \"count\": 1, \"x\": 1}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1000, \"count\": 65536}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 4294967295, \"count\": 1}}}",
      "{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879048192, \"count\": 0}}}",
      "{\"version\": 1, \"tenants\": {\"Bad Name\": {\"base\": 1879048192, \"count\": 1}}}",
      ("{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879048192, \"count\": 65536},"
       " \"b\": {\"base\": 1879048200, \"count\": 1}}}"),
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text);
    write_state(text);
    std::vector<Profile> ps{tenant("a")};
    auto s = assign_id_ranges(ps, state_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find(state_), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("corrupt"), std::string::npos) << s.error().message;
    EXPECT_FALSE(ps[0].ids.has_value());
    EXPECT_EQ(read_state(), text);
  }
}

TEST_F(IdAllocator, ReadsAHandWrittenStateFile) {
  write_state("{\"version\": 1, \"tenants\": {\"a\": {\"base\": 1879179264, \"count\": 65536}}}");
  auto ps = assign({tenant("a"), tenant("b")});
  EXPECT_EQ(base_of(ps, "a"), 1879179264u);
  EXPECT_EQ(base_of(ps, "b"), kIdPoolBegin);
}

TEST_F(IdAllocator, MissingStateDirectoryIsAnError) {
  std::vector<Profile> ps{tenant("a")};
  std::string path = (dir_ / "missing" / "ids.json").string();
  auto s = assign_id_ranges(ps, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find(path), std::string::npos) << s.error().to_string();
  EXPECT_FALSE(ps[0].ids.has_value());
}

TEST_F(IdAllocator, NothingToAssignWritesNothing) {
  auto ps = assign({tenant("x", IdRange{100000, 1})});
  EXPECT_FALSE(fs::exists(state_));
  ps = assign({});
  EXPECT_FALSE(fs::exists(state_));
}

TEST_F(IdAllocator, ExhaustedPoolIsAnError) {
  IdRange all{kIdPoolBegin, kIdPoolEnd - kIdPoolBegin};
  std::vector<Profile> ps{tenant("hog", all), tenant("late")};
  auto s = assign_id_ranges(ps, state_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("exhausted"), std::string::npos);
  EXPECT_NE(s.error().message.find("\"late\""), std::string::npos);

  // The last block is still handed out when everything before it is taken.
  std::vector<Profile> ok{tenant("hog", IdRange{kIdPoolBegin, all.count - kBlock}), tenant("last")};
  ASSERT_TRUE(assign_id_ranges(ok, state_).ok());
  EXPECT_EQ(ok[1].ids->base, kIdPoolEnd - kBlock);
  EXPECT_LE(ok[1].ids->end(), kIdPoolEnd);
}

}  // namespace
}  // namespace bulkhead::config
