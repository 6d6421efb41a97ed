#include "isolation/exec_spec.h"

namespace bulkhead::isolation {

Result<ExecSpec> ExecSpec::create(std::vector<std::string> argv,
                                  const std::map<std::string, std::string>& env, std::string cwd,
                                  uint32_t uid, uint32_t gid) {
  if (argv.empty() || argv[0].empty()) {
    return make_error("empty command");
  }
  if (cwd.empty() || cwd[0] != '/') {
    return make_error("working directory must be absolute: '" + cwd + "'");
  }
  ExecSpec spec;
  if (argv[0].find('/') != std::string::npos) {
    if (argv[0][0] != '/') {
      return make_error("command path must be absolute or a bare name: '" + argv[0] + "'");
    }
    spec.candidates_.push_back(argv[0]);
  } else {
    auto it = env.find("PATH");
    std::string path = it != env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      std::string dir =
          path.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!dir.empty() && dir[0] == '/') {
        spec.candidates_.push_back(dir + "/" + argv[0]);
      }
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
    if (spec.candidates_.empty()) {
      return make_error("cannot look up '" + argv[0] + "': PATH has no absolute directory");
    }
  }
  spec.argv_ = std::move(argv);
  for (const auto& [key, value] : env) {
    spec.env_.push_back(key + "=" + value);
  }
  spec.cwd_ = std::move(cwd);
  spec.uid_ = uid;
  spec.gid_ = gid;
  spec.rebuild_pointers();
  return spec;
}

ExecSpec::ExecSpec(ExecSpec&& other) noexcept
    : argv_(std::move(other.argv_)),
      env_(std::move(other.env_)),
      candidates_(std::move(other.candidates_)),
      cwd_(std::move(other.cwd_)),
      uid_(other.uid_),
      gid_(other.gid_) {
  rebuild_pointers();
}

void ExecSpec::rebuild_pointers() {
  argv_ptrs_.clear();
  env_ptrs_.clear();
  for (auto& a : argv_) {
    argv_ptrs_.push_back(a.data());
  }
  argv_ptrs_.push_back(nullptr);
  for (auto& e : env_) {
    env_ptrs_.push_back(e.data());
  }
  env_ptrs_.push_back(nullptr);
}

}  // namespace bulkhead::isolation
