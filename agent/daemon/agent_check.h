// What `bulkheadd --check` verifies, and the option checks Agent::create shares:
// everything that can be known without creating anything on the host.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "daemon/agent.h"

namespace bulkhead::daemon {

// The options themselves: paths, names, ranges.
Status check_agent_options(const AgentOptions& options);

// The options, the cgroup layout, every profile (alone and against the others),
// every tenant's sandbox plan (seccomp files, Landlock, rlimits, the filesystem
// view), the detection rules, the uid/gid range assignment and whether tenants
// could traverse the state directory. Returns every problem found, one line each; empty when the
// agent would start. Writes nothing under the state directory: planning uses
// the real staging dir when it exists (else a temporary one), and ranges are
// assigned on a temporary copy of the id state.
std::vector<std::string> check_configuration(const AgentOptions& options);

}  // namespace bulkhead::daemon
