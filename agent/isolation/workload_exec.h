// The last process of a launch: it becomes the workload. Runs after fork inside
// the tenant's namespaces and new root, so it only makes syscalls.
#pragma once

#include "isolation/exec_spec.h"
#include "isolation/sandbox_plan.h"

namespace bulkhead::isolation {

// The hardening order is the point of this function: its own session (with
// `terminal`, >= 0, as controlling terminal and stdio), credentials, rlimits,
// working directory, capabilities, no_new_privs, Landlock, seccomp last, execve.
// Never returns; a failure is written to report_fd (see child_report.h).
[[noreturn]] void exec_workload(const SandboxPlan& plan, const ExecSpec& spec, int report_fd,
                                int terminal) noexcept;

}  // namespace bulkhead::isolation
