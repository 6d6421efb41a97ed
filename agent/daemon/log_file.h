// A workload's log file with size-based rotation: <path> is written until the
// next write would take it past max_bytes, then <path>.1 .. <path>.<keep> shift
// by one (the oldest is dropped) and a new <path> starts. Failures never block
// or throw: the bytes are counted as dropped and the file is reopened on the
// next write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace bulkhead::daemon {

class LogFile {
 public:
  // max_bytes 0 is taken as 1 (every write rotates); keep 0 truncates instead of rotating.
  LogFile(std::string path, uint64_t max_bytes, int keep);

  // Appends all of `data`. A chunk is kept whole in one file when it fits in
  // max_bytes, so lines read together stay together; a larger one is split.
  void write(std::string_view data);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] uint64_t size() const { return size_; }  // of the current file
  [[nodiscard]] uint64_t max_bytes() const { return max_bytes_; }
  [[nodiscard]] uint64_t dropped_bytes() const { return dropped_bytes_; }
  [[nodiscard]] uint64_t rotations() const { return rotations_; }

  // "<path>.<n>", n >= 1.
  [[nodiscard]] std::string rotated_path(int n) const;

 private:
  bool ensure_open();
  bool rotate();
  void drop(size_t n, const char* what, int err);

  std::string path_;
  uint64_t max_bytes_;
  int keep_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  uint64_t dropped_bytes_ = 0;
  uint64_t rotations_ = 0;
  bool warned_ = false;  // one warning per failure streak, not one per write
};

}  // namespace bulkhead::daemon
