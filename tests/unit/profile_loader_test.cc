// load_profile_string / load_profile_file: what a valid profile turns into, and
// how every kind of mistake is reported (field, line, no exception, no profile).
#include "config/profile_loader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

namespace bulkhead::config {
namespace {

const std::string kSourceDir = BULKHEAD_SOURCE_DIR;
constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

ProfileLoadResult load(const std::string& yaml) { return load_profile_string(yaml, "t.yaml"); }

// A valid header, so the snippet under test is the only possible source of errors.
std::string profile(const std::string& rest) { return "version: 1\ntenant: t\n" + rest; }

std::string dump(const ProfileLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

// The only error of `r` must be on `field` at `line`.
void expect_single_error(const ProfileLoadResult& r, const std::string& field, int line,
                         const std::string& text = "") {
  EXPECT_FALSE(r.profile.has_value());
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, field) << dump(r);
  EXPECT_EQ(r.errors[0].line, line) << dump(r);
  EXPECT_NE(r.errors[0].message.find(text), std::string::npos) << dump(r);
  EXPECT_EQ(r.errors[0].message.find("yaml-cpp"), std::string::npos) << dump(r);
}

TEST(ProfileLoader, FullFixtureFillsEveryField) {
  auto r = load_profile_file(kSourceDir + "/tests/data/profiles/good/full.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Profile& p = *r.profile;
  EXPECT_EQ(p.source_file, kSourceDir + "/tests/data/profiles/good/full.yaml");
  EXPECT_EQ(p.name, "full-1");
  ASSERT_TRUE(p.ids.has_value());
  EXPECT_EQ(p.ids->base, 65536u);
  EXPECT_EQ(p.ids->count, 1000u);
  EXPECT_EQ(p.hostname, "full.example.org");
  EXPECT_FALSE(p.namespaces.uts);
  EXPECT_FALSE(p.namespaces.cgroup);
  EXPECT_TRUE(p.namespaces.user && p.namespaces.pid && p.namespaces.mount && p.namespaces.net &&
              p.namespaces.ipc);

  const auto& fs = p.filesystem;
  ASSERT_EQ(fs.binds.size(), 4u);
  EXPECT_EQ(fs.binds[0].source, "/usr");
  EXPECT_EQ(fs.binds[0].target, "/usr");
  EXPECT_TRUE(fs.binds[0].read_only);
  EXPECT_FALSE(fs.binds[0].optional);
  EXPECT_TRUE(fs.binds[1].optional);
  EXPECT_EQ(fs.binds[2].target, "/opt/tools");  // target defaults to source
  EXPECT_EQ(fs.binds[3].source, "/srv/full");
  EXPECT_EQ(fs.binds[3].target, "/srv");
  EXPECT_FALSE(fs.binds[3].read_only);
  ASSERT_EQ(fs.tmpfs.size(), 2u);
  EXPECT_EQ(fs.tmpfs[0].size_bytes, 64u << 20);
  EXPECT_EQ(fs.tmpfs[0].mode, 01777u);
  EXPECT_EQ(fs.tmpfs[1].size_bytes, 1000000u);
  EXPECT_EQ(fs.tmpfs[1].mode, 0755u);  // unquoted, still octal
  ASSERT_EQ(fs.symlinks.size(), 1u);
  EXPECT_EQ(fs.symlinks[0].path, "/bin");
  EXPECT_EQ(fs.symlinks[0].target, "usr/bin");
  EXPECT_EQ(fs.data.target, "/data");
  EXPECT_EQ(fs.data.host_path, "/var/lib/bulkhead/tenants/full");

  const auto& proc = p.process;
  EXPECT_EQ(proc.env.size(), 3u);
  EXPECT_EQ(proc.env.at("PATH"), "/usr/bin:/bin");
  EXPECT_EQ(proc.env.at("EMPTY"), "");
  EXPECT_EQ(proc.cwd, "/srv");
  EXPECT_EQ(proc.uid, 999u);
  EXPECT_EQ(proc.gid, 998u);
  EXPECT_EQ(proc.capabilities,
            (std::vector<std::string>{"CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_KILL"}));
  ASSERT_EQ(proc.rlimits.size(), 7u);
  EXPECT_EQ(proc.rlimits[0].name, "nofile");
  EXPECT_EQ(proc.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(proc.rlimits[0].soft, 1024u);
  EXPECT_EQ(proc.rlimits[0].hard, 1024u);
  EXPECT_EQ(proc.rlimits[2].hard, 1u << 30);  // fsize: 1Gi
  EXPECT_EQ(proc.rlimits[3].soft, 100u);
  EXPECT_EQ(proc.rlimits[3].hard, 200u);
  EXPECT_EQ(proc.rlimits[4].soft, kInfinity);  // memlock: unlimited
  EXPECT_EQ(proc.rlimits[5].soft, 8u << 20);
  EXPECT_EQ(proc.rlimits[5].hard, kInfinity);
  EXPECT_EQ(proc.rlimits[6].resource, RLIMIT_NICE);

  EXPECT_TRUE(p.landlock.enabled);
  EXPECT_EQ(p.landlock.read_only, std::vector<std::string>{"/usr"});
  EXPECT_EQ(p.landlock.read_write, (std::vector<std::string>{"/tmp", "/srv"}));

  EXPECT_EQ(p.seccomp.base, "default");
  EXPECT_EQ(p.seccomp.allow, std::vector<std::string>{"ptrace"});
  EXPECT_EQ(p.seccomp.deny, (std::vector<std::string>{"socket", "mount"}));
  EXPECT_EQ(p.seccomp.action, SeccompAction::kErrno);
  EXPECT_EQ(p.seccomp.errno_value, EACCES);
  EXPECT_FALSE(p.seccomp.allow_foreign_abi);

  EXPECT_EQ(p.limits.memory_max, 512u << 20);
  EXPECT_EQ(p.limits.memory_high, 400u << 20);
  EXPECT_EQ(p.limits.memory_swap_max, 0u);
  EXPECT_EQ(p.limits.pids_max, 256u);
  EXPECT_EQ(p.limits.cpu.quota_us, 50000u);
  EXPECT_EQ(p.limits.cpu.period_us, 100000u);
  EXPECT_EQ(p.limits.cpu.weight, 200u);
  EXPECT_EQ(p.limits.io_weight, 100u);
  ASSERT_EQ(p.limits.io_devices.size(), 2u);
  EXPECT_EQ(p.limits.io_devices[0],
            (IoDeviceLimit{"/dev/vda", 100u << 20, std::nullopt, std::nullopt, 1000u}));
  EXPECT_EQ(p.limits.io_devices[1],
            (IoDeviceLimit{"/dev/nvme0n1", std::nullopt, 50u << 20, std::nullopt, std::nullopt}));

  ASSERT_EQ(p.workloads.size(), 2u);
  const auto& w = p.workloads[0];
  EXPECT_EQ(w.name, "web");
  EXPECT_EQ(w.command, (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server"}));
  EXPECT_EQ(w.env.at("FOO"), "bar");
  EXPECT_EQ(w.cwd, "/data");
  EXPECT_EQ(w.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(w.restart_limit, 5u);
  EXPECT_EQ(w.restart_backoff_ms, 1500u);
  EXPECT_EQ(p.workloads[1].restart, RestartPolicy::kNo);
  EXPECT_FALSE(p.workloads[1].cwd.has_value());
}

TEST(ProfileLoader, MinimalProfileTakesTheDefaults) {
  auto r = load("version: 1\ntenant: solo\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Profile& p = *r.profile;
  EXPECT_EQ(p.source_file, "t.yaml");
  EXPECT_FALSE(p.ids.has_value());
  EXPECT_EQ(p.hostname, "solo");
  EXPECT_TRUE(p.namespaces.user && p.namespaces.pid && p.namespaces.mount && p.namespaces.net &&
              p.namespaces.uts && p.namespaces.ipc && p.namespaces.cgroup);
  EXPECT_TRUE(p.filesystem.binds.empty());
  EXPECT_EQ(p.filesystem.data.host_path, "/var/lib/bulkhead/tenants/solo");
  EXPECT_EQ(p.filesystem.data.target, "");
  EXPECT_TRUE(p.process.env.empty());
  EXPECT_EQ(p.process.cwd, "/");
  EXPECT_TRUE(p.process.capabilities.empty());
  EXPECT_TRUE(p.landlock.enabled);
  EXPECT_EQ(p.seccomp.base, "default");
  EXPECT_EQ(p.seccomp.errno_value, EPERM);
  EXPECT_FALSE(p.limits.memory_max.has_value());
  EXPECT_EQ(p.limits.cpu.period_us, 100000u);
  EXPECT_EQ(p.network, NetworkSpec{});
  EXPECT_EQ(p.network.mode, NetworkMode::kNone);
  EXPECT_TRUE(p.workloads.empty());
}

TEST(ProfileLoader, ErrorToStringHasPositionAndField) {
  ProfileError e{"a.yaml", 3, 7, "limits.pids", "bad"};
  EXPECT_EQ(e.to_string(), "a.yaml:3:7: limits.pids: bad");
  EXPECT_EQ((ProfileError{"a.yaml", 0, 0, "", "cannot read"}).to_string(), "a.yaml: cannot read");
  EXPECT_EQ((ProfileError{"a.yaml", 4, 0, "", "x"}).to_string(), "a.yaml:4: x");
}

TEST(ProfileLoader, ErrorsCarryLineAndColumn) {
  auto r = load(profile("limits:\n  pids: 0\n"));
  expect_single_error(r, "limits.pids", 4, "outside 1..");
  EXPECT_EQ(r.errors[0].column, 9);
  EXPECT_EQ(r.errors[0].file, "t.yaml");
  EXPECT_EQ(r.errors[0].to_string().rfind("t.yaml:4:9: limits.pids: ", 0), 0u);
}

TEST(ProfileLoader, CollectsEveryErrorInDocumentOrder) {
  auto r = load(
      "version: 1\n"
      "tenant: BAD\n"                              // 2
      "limits: {pids: 0}\n"                        // 3
      "process: {user: x, cwd: rel}\n"             // 4
      "workloads: [{name: w, command: [sh]}]\n");  // 5
  EXPECT_FALSE(r.profile.has_value());
  ASSERT_EQ(r.errors.size(), 5u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "tenant");
  EXPECT_EQ(r.errors[1].field, "limits.pids");
  EXPECT_EQ(r.errors[2].field, "process.user");
  EXPECT_EQ(r.errors[3].field, "process.cwd");
  EXPECT_EQ(r.errors[4].field, "workloads[0].command[0]");
  for (size_t i = 1; i < r.errors.size(); ++i) {
    EXPECT_LE(r.errors[i - 1].line, r.errors[i].line);
  }
}

// An unknown key in every mapping of the schema is reported by name and line.
TEST(ProfileLoader, UnknownKeysAreErrorsEverywhere) {
  const std::pair<std::string, std::string> cases[] = {
      {"extra: 1\n", "extra"},
      {"ids: {base: 70000, cnt: 1}\n", "ids.cnt"},
      {"namespaces: {time: true}\n", "namespaces.time"},
      {"filesystem: {readonly: []}\n", "filesystem.readonly"},
      {"filesystem: {read_only: [{source: /a, opt: true}]}\n", "filesystem.read_only[0].opt"},
      {"filesystem: {read_write: [{source: /a, ro: true}]}\n", "filesystem.read_write[0].ro"},
      {"filesystem: {tmpfs: [{target: /t, size: 1, uid: 0}]}\n", "filesystem.tmpfs[0].uid"},
      {"filesystem: {symlinks: [{path: /b, target: a, force: 1}]}\n",
       "filesystem.symlinks[0].force"},
      {"filesystem: {data: {path: /x}}\n", "filesystem.data.path"},
      {"process: {environment: {}}\n", "process.environment"},
      {"process: {rlimits: {nofile: {soft: 1, hard: 2, max: 3}}}\n", "process.rlimits.nofile.max"},
      {"landlock: {enable: true}\n", "landlock.enable"},
      {"seccomp: {default_action: kill}\n", "seccomp.default_action"},
      {"limits: {memory: {maximum: 1}}\n", "limits.memory.maximum"},
      {"limits: {cpu: {shares: 1}}\n", "limits.cpu.shares"},
      {"limits: {io: {max: 1}}\n", "limits.io.max"},
      {"limits: {network: {}}\n", "limits.network"},
      {"network: {egres: []}\n", "network.egres"},
      {"network: {ingress: [{ports: [1], to: [10.0.0.0/8]}]}\n", "network.ingress[0].to"},
      {"workloads: [{name: w, command: [/x], user: 0}]\n", "workloads[0].user"},
      {"workloads: [{name: w, command: [/x], restart: {delay: 1s}}]\n",
       "workloads[0].restart.delay"},
  };
  for (const auto& [snippet, field] : cases) {
    SCOPED_TRACE(snippet);
    auto r = load(profile(snippet));
    expect_single_error(r, field, 3, "unknown key");
  }
}

TEST(ProfileLoader, MisspeltKeysGetASuggestion) {
  auto r = load(profile("limits:\n  memroy: {max: 1Gi}\n"));
  expect_single_error(r, "limits.memroy", 4, "did you mean \"memory\"");
  EXPECT_EQ(r.errors[0].column, 3);
}

TEST(ProfileLoader, RepeatedKeysAreErrors) {
  // yaml-cpp keeps the first of two equal keys; which one was meant is unknowable.
  auto r = load(profile("limits: {pids: 10}\nlimits: {pids: 20}\n"));
  expect_single_error(r, "limits", 4, "repeated");
  r = load(profile("process:\n  env: {A: x, A: y}\n"));
  expect_single_error(r, "process.env.A", 4, "repeated");
}

TEST(ProfileLoader, WrongTypesAreReportedNotThrown) {
  const std::tuple<std::string, std::string, std::string> cases[] = {
      {"ids: 70000\n", "ids", "expected a mapping"},
      {"hostname: [a]\n", "hostname", "expected a string, got a sequence"},
      {"namespaces: {uts: 0}\n", "namespaces.uts", "expected true or false"},
      {"namespaces: {cgroup: off}\n", "namespaces.cgroup", "expected true or false"},
      {"filesystem: {read_only: /usr}\n", "filesystem.read_only", "expected a sequence"},
      {"filesystem: {read_only: [[/usr]]}\n", "filesystem.read_only[0]", "a path or a mapping"},
      {"filesystem: {tmpfs: [/tmp]}\n", "filesystem.tmpfs[0]", "expected a mapping"},
      {"filesystem: {tmpfs: [{target: /t, size: {a: 1}}]}\n", "filesystem.tmpfs[0].size",
       "expected a size"},
      {"process: {env: {A: [1]}}\n", "process.env.A", "expected a string"},
      {"process: {user: -1}\n", "process.user", "not a non-negative integer"},
      {"process: {user: 4294967296}\n", "process.user", "outside 0..4294967295"},
      {"process: {rlimits: [nofile]}\n", "process.rlimits", "expected a mapping"},
      {"process: {rlimits: {nofile: [1]}}\n", "process.rlimits.nofile", "expected a string"},
      {"seccomp: {allow: ptrace}\n", "seccomp.allow", "expected a sequence"},
      {"seccomp: {allow_foreign_abi: 1}\n", "seccomp.allow_foreign_abi", "true or false"},
      {"limits: {pids: 1.5}\n", "limits.pids", "not a non-negative integer"},
      {"limits: {cpu: 50ms}\n", "limits.cpu", "expected a mapping"},
      {"limits: {cpu: {quota: 50}}\n", "limits.cpu.quota", "needs a unit"},
      {"workloads: {web: {}}\n", "workloads", "expected a sequence"},
      {"workloads: [{name: w, command: /bin/sh}]\n", "workloads[0].command", "expected a sequence"},
      {"workloads: [{name: w, command: [/x], restart: always}]\n", "workloads[0].restart",
       "expected a mapping"},
  };
  for (const auto& [snippet, field, text] : cases) {
    SCOPED_TRACE(snippet);
    expect_single_error(load(profile(snippet)), field, 3, text);
  }
}

TEST(ProfileLoader, EmptyValuesAreNotSilentlyDefaults) {
  expect_single_error(load(profile("hostname:\n")), "hostname", 3, "empty value");
  expect_single_error(load(profile("limits:\n")), "limits", 3, "expected a mapping");
  expect_single_error(load(profile("process:\n  env:\n    A:\n")), "process.env.A", 5,
                      "write \"\"");
  expect_single_error(load("version: 1\ntenant:\n"), "tenant", 2, "empty value");
}

TEST(ProfileLoader, MissingRequiredKeysPointAtTheirMapping) {
  auto r = load("tenant: t\n");
  expect_single_error(r, "version", 1, "required key is missing");
  r = load(profile("filesystem:\n  tmpfs:\n    - target: /tmp\n      mode: \"700\"\n"));
  expect_single_error(r, "filesystem.tmpfs[0].size", 5, "required key is missing");
}

TEST(ProfileLoader, VersionMustBeOne) {
  expect_single_error(load("version: 2\ntenant: t\nfuture_key: 1\n"), "version", 1,
                      "unsupported profile version 2");
  expect_single_error(load("version: 0\ntenant: t\n"), "version", 1, "unsupported");
  expect_single_error(load("version: one\ntenant: t\n"), "version", 1, "not a non-negative");
}

TEST(ProfileLoader, SyntaxErrorsKeepTheirPosition) {
  auto r = load("version: 1\ntenant: t\nlimits: {pids: 1\nprocess: {}\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_GE(r.errors[0].line, 3);
  EXPECT_GT(r.errors[0].column, 0);
  EXPECT_EQ(r.errors[0].message.rfind("YAML syntax error: ", 0), 0u) << dump(r);
  EXPECT_EQ(r.errors[0].message.find("yaml-cpp"), std::string::npos);

  r = load("version: 1\n\ttenant: t\n");  // tabs are not indentation in YAML
  EXPECT_FALSE(r.ok());
  EXPECT_GT(r.errors[0].line, 0) << dump(r);
}

TEST(ProfileLoader, HostileDocumentsAreErrorsNotCrashes) {
  const std::string cases[] = {
      "",
      "# only a comment\n",
      "~\n",
      "just a string\n",
      "[1, 2]\n",
      "version: 1\ntenant: t\n---\nversion: 1\ntenant: u\n",
      std::string(20000, '[') + std::string(20000, ']'),
      "version: 1\ntenant: t\n? [complex, key]\n: value\n",
      "version: 1\ntenant: t\nbase: &b {pids: 1}\nlimits:\n  <<: *b\n",
      "version: 1\ntenant: t\nhostname: !!binary aGVsbG8=\nlimits: !!str 5\n",
      std::string("version: 1\ntenant: t\nhostname: \"a\\0b\"\n"),
      std::string("\xff\xfe\x00\x01garbage", 10),
      "version: 1\ntenant: t\nprocess: {env: {A: *undefined}}\n",
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text.substr(0, 80));
    ProfileLoadResult r;
    EXPECT_NO_THROW(r = load(text));
    EXPECT_FALSE(r.profile.has_value());
    EXPECT_FALSE(r.errors.empty());
    for (const auto& e : r.errors) {
      EXPECT_FALSE(e.message.empty());
      EXPECT_EQ(e.message.find("yaml-cpp"), std::string::npos) << e.to_string();
    }
  }
}

TEST(ProfileLoader, OrdinaryYamlFramingIsAccepted) {
  EXPECT_TRUE(load("---\nversion: 1\ntenant: t\n").ok());
  EXPECT_TRUE(load("version: 1\ntenant: t\n...\n").ok());
  EXPECT_TRUE(load("version: 1\r\ntenant: t\r\n").ok());
  EXPECT_TRUE(load("\xEF\xBB\xBFversion: 1\ntenant: t\n").ok());  // UTF-8 BOM
  EXPECT_TRUE(load("{version: 1, tenant: t}").ok());
}

TEST(ProfileLoader, AliasesOfValidValuesAreFine) {
  auto r = load(profile("x-common: &ro [/usr]\n"));
  EXPECT_FALSE(r.ok());  // unknown top-level key, even for anchors
  r = load(profile("filesystem:\n  read_only: &ro [/usr]\nlandlock:\n  read_only: *ro\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->landlock.read_only, std::vector<std::string>{"/usr"});
}

TEST(ProfileLoader, UserAndGroupMustFitTheIdRange) {
  EXPECT_TRUE(
      load(profile("ids: {base: 100000, count: 1000}\nprocess: {user: 999, group: 999}\n")).ok());
  auto r = load(profile("ids: {base: 100000, count: 1000}\nprocess:\n  user: 1000\n"));
  expect_single_error(r, "process.user", 5, "ids.count = 1000");
  r = load(profile("process:\n  group: 65536\n"));  // the default count
  expect_single_error(r, "process.group", 4, "ids.count = 65536");
}

TEST(ProfileLoader, IdRangeBounds) {
  EXPECT_TRUE(load(profile("ids: {base: 65536}\n")).ok());
  EXPECT_TRUE(load(profile("ids: {base: 4294901758, count: 65536}\n")).ok());  // ends at 2^32-2
  expect_single_error(load(profile("ids: {base: 4294901759, count: 65536}\n")), "ids", 3,
                      "(uid_t)-1");
  expect_single_error(load(profile("ids: {base: 65535}\n")), "ids.base", 3, "outside 65536..");
  expect_single_error(load(profile("ids: {count: 10}\n")), "ids.base", 3, "required");
}

TEST(ProfileLoader, DuplicateMountTargetsAreErrors) {
  auto r =
      load(profile("filesystem:\n"
                   "  read_only: [/srv]\n"        // 4
                   "  data: {target: /srv}\n"));  // 5
  expect_single_error(r, "filesystem.data.target", 5, "already used by filesystem.read_only[0]");
  r =
      load(profile("filesystem:\n"
                   "  symlinks: [{path: /tmp, target: var/tmp}]\n"  // 4
                   "  tmpfs: [{target: /tmp, size: 1Mi}]\n"));      // 5
  expect_single_error(r, "filesystem.tmpfs[0].target", 5, "already used");
  r = load(profile("filesystem:\n  read_only: [/a, {source: /b, target: /a}]\n"));
  expect_single_error(r, "filesystem.read_only[1].target", 4, "already used");
}

TEST(ProfileLoader, SeccompProfileFileMustExist) {
  auto dir =
      std::filesystem::temp_directory_path() / ("bulkhead-seccomp-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "policy.json").string();
  std::ofstream(file) << "{}";
  auto r = load(profile("seccomp: {profile: " + file + "}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->seccomp.base, file);
  expect_single_error(load(profile("seccomp: {profile: " + dir.string() + "}\n")),
                      "seccomp.profile", 3, "not a regular file");
  expect_single_error(load(profile("seccomp: {profile: " + dir.string() + "/missing.json}\n")),
                      "seccomp.profile", 3, "No such file");
  expect_single_error(load(profile("seccomp: {profile: docker}\n")), "seccomp.profile", 3,
                      "\"default\" or the absolute path");
  std::filesystem::remove_all(dir);
}

TEST(ProfileLoader, FileErrorsNameTheFile) {
  auto r = load_profile_file("/nonexistent/bulkhead/p.yaml");
  EXPECT_FALSE(r.profile.has_value());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/nonexistent/bulkhead/p.yaml");
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].message.find("No such file"), std::string::npos);

  auto big = std::filesystem::temp_directory_path() / ("bulkhead-big-" + std::to_string(getpid()));
  {
    std::ofstream out(big);
    out << "version: 1\ntenant: t\n#" << std::string(2 << 20, 'x') << "\n";
  }
  r = load_profile_file(big.string());
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("larger than"), std::string::npos);
  std::filesystem::remove(big);
}

}  // namespace
}  // namespace bulkhead::config
