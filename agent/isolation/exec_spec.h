// The command of one launch as C arrays, built before the fork so the child can
// execve without allocating.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace bulkhead::isolation {

class ExecSpec {
 public:
  // argv[0] may be absolute, or a bare name looked up in the environment's PATH
  // (inside the tenant root, at exec time).
  static Result<ExecSpec> create(std::vector<std::string> argv,
                                 const std::map<std::string, std::string>& env, std::string cwd,
                                 uint32_t uid, uint32_t gid);

  ExecSpec(ExecSpec&& other) noexcept;
  ExecSpec& operator=(ExecSpec&&) = delete;
  ExecSpec(const ExecSpec&) = delete;
  ExecSpec& operator=(const ExecSpec&) = delete;
  ~ExecSpec() = default;

  [[nodiscard]] char* const* argv() const { return argv_ptrs_.data(); }
  [[nodiscard]] char* const* envp() const { return env_ptrs_.data(); }
  [[nodiscard]] const char* cwd() const { return cwd_.c_str(); }
  // Candidate paths for argv[0], in lookup order.
  [[nodiscard]] const std::vector<std::string>& candidates() const { return candidates_; }
  [[nodiscard]] uint32_t uid() const { return uid_; }
  [[nodiscard]] uint32_t gid() const { return gid_; }

 private:
  ExecSpec() = default;
  void rebuild_pointers();

  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::vector<char*> argv_ptrs_;
  std::vector<char*> env_ptrs_;
  std::vector<std::string> candidates_;
  std::string cwd_;
  uint32_t uid_ = 0;
  uint32_t gid_ = 0;
};

}  // namespace bulkhead::isolation
