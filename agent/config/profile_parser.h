// Internal to the profile loader: turns a parsed YAML document into a Profile,
// one section per source file (profile_<section>.cc). Each section parser
// reports into the ErrorSink and carries on, so one run finds every error.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/profile.h"
#include "config/yaml_reader.h"

namespace bulkhead::config::detail {

// One past the last host id a tenant range may include. uid_t -1 is "no id" for
// the kernel (setresuid, chown) and -2 is nfsnobody on some systems; keeping both
// out of every range means no tenant id is either.
inline constexpr uint64_t kTenantIdLimit = (uint64_t{1} << 32) - 2;

// Where the values that later checks (across sections, or across profiles)
// refer to were written, so those errors can point at a line too.
struct ProfileMarks {
  std::optional<Field> tenant;
  std::optional<Field> ids;
  std::optional<Field> user;
  std::optional<Field> group;
  std::optional<Field> data_host_path;
  std::optional<Field> namespaces_net;  // only when written
  std::optional<Field> network_mode;
  std::optional<Field> packet_family;  // network.socket_families entries
  std::optional<Field> vsock_family;
  struct Target {
    std::string path;
    Field field;
  };
  std::vector<Target> targets;  // mount targets and symlink paths, in document order
};

// The whole document. The profile is meaningful only if no error was added.
Profile parse_profile(ErrorSink& sink, const YAML::Node& root, ProfileMarks& marks);

// One section each.
void parse_namespaces(ErrorSink& sink, const Field& f, Namespaces& out, ProfileMarks& marks);
void parse_filesystem(ErrorSink& sink, const Field& f, FilesystemView& out, ProfileMarks& marks);
void parse_process(ErrorSink& sink, const Field& f, ProcessSpec& out, ProfileMarks& marks);
void parse_landlock(ErrorSink& sink, const Field& f, LandlockSpec& out);
void parse_seccomp(ErrorSink& sink, const Field& f, SeccompSpec& out);
void parse_limits(ErrorSink& sink, const Field& f, Limits& out);
void parse_workloads(ErrorSink& sink, const Field& f, std::vector<WorkloadSpec>& out);
void parse_events(ErrorSink& sink, const Field& f, EventsSpec& out);
void parse_network(ErrorSink& sink, const Field& f, NetworkSpec& out, ProfileMarks& marks);

// An environment: shared by process.env and workloads[].env.
void parse_env(ErrorSink& sink, const Field& f, std::map<std::string, std::string>& out);
// Tenant and workload names: [a-z0-9][a-z0-9-]{0,31}.
bool is_valid_name(const std::string& name);

// The document in `text`, with the marks load_profile_dir needs for its checks.
struct ParsedProfile {
  std::optional<Profile> profile;
  std::vector<ProfileError> errors;
  ProfileMarks marks;
};
ParsedProfile parse_profile_text(const std::string& text, const std::string& source_name);

}  // namespace bulkhead::config::detail
