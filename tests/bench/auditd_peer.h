// auditd as the peer of the kernel event benchmarks: its own daemon with its
// fastest settings and rules for the system calls the event programs watch,
// limited to one host uid range. Everything is undone by stop() (also run by
// the destructor): rules deleted, audit disabled, the daemon stopped, its
// directory removed. scripts/bench-events.sh and scripts/bench-kernel-sink.sh
// undo the same if the benchmark itself is killed.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

namespace bulkhead::bench {

inline int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// `auditctl -s` as name -> value (enabled, pid, lost, backlog, ...).
inline std::map<std::string, uint64_t> audit_status() {
  std::map<std::string, uint64_t> out;
  FILE* p = ::popen("auditctl -s 2>/dev/null", "r");
  if (p == nullptr) {
    return out;
  }
  char line[256];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    char name[64];
    unsigned long long value = 0;
    if (std::sscanf(line, "%63s %llu", name, &value) == 2) {
      out[name] = value;
    }
  }
  ::pclose(p);
  return out;
}

class Auditd {
 public:
  static constexpr const char* kKey = "bulkhead-bench";

  // dir: a directory of the benchmark's own for auditd's configuration and
  // log; [uid_base, uid_base + uid_count): the tenant's host uids.
  Auditd(std::string dir, uint32_t uid_base, uint32_t uid_count)
      : dir_(std::move(dir)), uid_base_(uid_base), uid_count_(uid_count) {}
  ~Auditd() { stop(); }
  Auditd(const Auditd&) = delete;
  Auditd& operator=(const Auditd&) = delete;

  [[nodiscard]] std::string log_path() const { return dir_ + "/audit.log"; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // auditd with its fastest settings, so the comparison is with auditd at its
  // best: no flush to disk per record (flush = NONE), no uid-to-name lookups
  // (log_format = RAW), no rotation (the benchmark empties the log itself).
  bool start() {
    std::filesystem::create_directories(dir_);
    const std::string conf = dir_ + "/auditd.conf";
    if (sh("sed -e 's/^flush.*/flush = NONE/' -e 's/^log_format.*/log_format = RAW/' "
           "-e 's/^max_log_file_action.*/max_log_file_action = IGNORE/' "
           "-e 's|^log_file.*|log_file = " +
           log_path() + "|' /etc/audit/auditd.conf > " + conf + " && chmod 0640 " + conf) != 0) {
      return false;
    }
    if (sh("auditd -s disable -c " + dir_ + " >/dev/null 2>&1") != 0) {
      return false;
    }
    for (int i = 0; i < 100 && daemon_pid() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = daemon_pid();
    if (pid_ == 0) {
      return false;
    }
    running_ = true;
    // Quoted: the operators are shell metacharacters.
    const std::string scope = " -F 'uid>=" + std::to_string(uid_base_) + "' -F 'uid<" +
                              std::to_string(uint64_t{uid_base_} + uid_count_) + "' -k " + kKey;
    // Opens: writes only (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC), like the default event filter.
    const std::string rules[] = {
        "-S openat -F 'a2&0x243'",
        "-S open -F 'a1&0x243'",
        "-S creat,openat2",
        std::string("-S unlink,unlinkat,rename,renameat,renameat2,chmod,fchmod,fchmodat,") +
            "chown,fchown,lchown,fchownat",
        "-S connect,bind,listen,accept,accept4",
        "-S setuid,setgid,setreuid,setregid,setresuid,setresgid,setfsuid,setfsgid,capset,ptrace",
        "-S mount,umount2,unshare,setns,bpf,init_module,finit_module,memfd_create",
        "-S execve,execveat,clone,clone3,fork,vfork,exit_group",
    };
    for (const auto& r : rules) {
      if (sh("auditctl -a always,exit -F arch=b64 " + r + scope + " >/dev/null") != 0) {
        return false;
      }
    }
    // The kernel's default backlog (64 records) makes audited tasks wait for
    // auditd almost at once; distributions' rules raise it to 8192.
    return sh("auditctl -b 8192 >/dev/null") == 0 && sh("auditctl -e 1 >/dev/null") == 0;
  }

  void stop() {
    if (!running_) {
      return;
    }
    (void)sh("auditctl -D -k " + std::string(kKey) + " >/dev/null 2>&1");
    (void)sh("auditctl -e 0 -b 64 >/dev/null 2>&1");
    pid_t pid = daemon_pid();
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    running_ = false;
    pid_ = 0;
  }

 private:
  static pid_t daemon_pid() {
    auto status = audit_status();
    auto it = status.find("pid");
    return it == status.end() ? 0 : static_cast<pid_t>(it->second);
  }

  std::string dir_;
  uint32_t uid_base_;
  uint32_t uid_count_;
  bool running_ = false;
  pid_t pid_ = 0;
};

}  // namespace bulkhead::bench
