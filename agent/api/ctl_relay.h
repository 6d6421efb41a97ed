// bulkheadctl run's half of a workload's stdio. The agent gives the workload a
// terminal or pipes of its own making and hands their other ends back with the
// "started" reply; the relay copies between those and bulkheadctl's own stdin,
// stdout and stderr, which therefore never leave this process: nothing in the
// tenant can hold them, and once finish() has closed the workload's ends the
// run's terminal is hung up and its pipes are broken for whoever kept them.
//
// It never waits on the workload: its ends are non-blocking, and stdin is read
// only once the previous chunk went on, so a workload that does not read its
// input holds up only its input (and the kernel's pipe or pty buffer bounds
// what waits). Writes to bulkheadctl's own stdout and stderr block, as in any
// program that writes there.
#pragma once

#include <poll.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::api::ctl {

class StdioRelay {
 public:
  // A terminal: stdin -> master, master -> stdout. At the end of stdin the
  // terminal's end-of-file character is sent (the workload reads EOF).
  static Result<StdioRelay> terminal(UniqueFd master, int in = 0, int out = 1);
  // Pipes: stdin -> the workload's stdin, its stdout -> stdout, its stderr ->
  // stderr. At the end of stdin the workload's stdin is closed.
  static Result<StdioRelay> pipes(UniqueFd workload_in, UniqueFd workload_out,
                                  UniqueFd workload_err, int in = 0, int out = 1, int err = 2);

  // Appends what it waits for; handle() takes the same entries back after poll().
  void add_pollfds(std::vector<pollfd>& fds);
  void handle(std::span<const pollfd> polled);
  // The run has ended: passes on what the workload left in its pipe or
  // terminal (bounded: a process of the tenant that kept the other end cannot
  // keep us here), then closes the workload's ends.
  void finish();

  // The terminal's master (for window size changes); -1 with pipes.
  [[nodiscard]] int terminal_fd() const { return tty_ ? to_workload_.get() : -1; }

 private:
  enum class Slot { kReadInput, kWriteInput, kOutput, kError };

  StdioRelay() = default;
  void read_input();
  void write_input();
  void end_input();
  // Moves one chunk from the workload to our side; false when that source is done.
  bool copy_output(int& src, UniqueFd* owner, int dst, bool& dst_broken);
  static Status make_nonblocking(int fd);

  bool tty_ = false;
  int in_ = 0;            // ours, borrowed
  int out_ = 1;           // ours, borrowed
  int err_ = 2;           // ours, borrowed
  UniqueFd to_workload_;  // the master, or the workload's stdin pipe
  UniqueFd from_out_;     // pipes only
  UniqueFd from_err_;     // pipes only
  int out_src_ = -1;      // what the workload's output is read from (-1: done)
  int err_src_ = -1;
  bool out_broken_ = false;  // our stdout failed: the rest is dropped
  bool err_broken_ = false;
  bool input_open_ = true;  // our stdin may still have data
  bool input_sink_ = true;  // the workload still takes input
  std::string pending_;     // read from our stdin, not yet taken by the workload
  size_t pending_off_ = 0;
  bool last_was_newline_ = true;
  std::vector<Slot> slots_;  // what add_pollfds added, in order
};

}  // namespace bulkhead::api::ctl
