// Import of seccomp profiles in the OCI runtime-spec / Docker JSON format, so operators
// can reuse a container profile they already trust. The result is a SeccompPolicy that
// behaves as the file is written for this host's ABI; the profile's allow/deny lists are
// applied on top by compile_seccomp.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "isolation/seccomp_policy.h"

namespace bulkhead::isolation {

// What Docker-style conditional rules are evaluated against.
struct OciImportContext {
  std::vector<std::string> kept_caps;  // "CAP_SYS_PTRACE" form, for includes/excludes caps
  bool allow_foreign_abi = false;      // the profile's setting (foreign ABIs listed otherwise warn)
  int kernel_major = 0;                // the running kernel, for includes/excludes minKernel
  int kernel_minor = 0;
};

// The running kernel's version from uname(2), for OciImportContext.
void fill_running_kernel(OciImportContext& ctx);

// Parses a JSON document. `file` names it in errors and warnings. Errors name the JSON
// path of the offending element, e.g. "x.json: syscalls[3].args[0].op: unknown operator".
Result<SeccompPolicy> parse_oci_seccomp(const std::string& json_text, const OciImportContext& ctx,
                                        const std::string& file);

// Reads and parses an absolute path.
Result<SeccompPolicy> load_oci_seccomp(const std::string& path, const OciImportContext& ctx);

}  // namespace bulkhead::isolation
