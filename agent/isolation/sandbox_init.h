// PID 1 of a workload's pid namespace: builds the new root, starts the
// workload, forwards signals to it, reaps every zombie, and reports the
// workload's exact wait status to the agent before the namespace ends.
#pragma once

#include "isolation/exec_spec.h"
#include "isolation/sandbox_plan.h"
#include "isolation/terminal.h"

namespace bulkhead::isolation {

struct InitFds {
  int report = -1;  // ChildReport records on failure (CLOEXEC)
  int status = -1;  // receives the workload's raw wait status (int)
  // With a terminal: where its master goes (CLOEXEC); -1: none.
  int console = -1;
};

// `terminal`: the size of the workload's terminal when it gets one (with
// fds.console); nullptr: it keeps the stdio init has.
[[noreturn]] void run_init(const SandboxPlan& plan, const ExecSpec& spec, InitFds fds,
                           const TerminalSize* terminal, bool die_with_parent) noexcept;

}  // namespace bulkhead::isolation
