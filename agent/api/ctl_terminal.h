// bulkheadctl's own terminal while `run` gives the workload a terminal: raw
// mode, so that every key (Ctrl-C, Ctrl-D, Ctrl-Z included) goes to the
// workload's terminal, whose line discipline acts on it; and the window size.
#pragma once

#include <termios.h>

#include <memory>
#include <optional>

#include "common/result.h"
#include "isolation/terminal.h"

namespace bulkhead::api::ctl {

class RawTerminal {
 public:
  // Puts `fd` in raw mode; nullptr (nothing changed) when it is not a terminal.
  static Result<std::unique_ptr<RawTerminal>> enter(int fd);
  // Restores the mode it found, after the output already written.
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  int fd_;
  termios saved_;
};

// The window size of the first of `fds` that is a terminal.
std::optional<isolation::TerminalSize> window_size(std::initializer_list<int> fds);

}  // namespace bulkhead::api::ctl
