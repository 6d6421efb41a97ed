// The `landlock` and `seccomp` sections: the in-process restrictions applied
// last, after the namespaces are built.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "config/kernel_names.h"
#include "config/profile_parser.h"

namespace bulkhead::config::detail {
namespace {

void parse_path_list(ErrorSink& sink, const Field& f, std::vector<std::string>& out,
                     std::map<std::string, std::string>& seen) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  for (const Field& item : *items) {
    auto path = read_path(sink, item);
    if (!path) {
      continue;
    }
    auto [it, inserted] = seen.emplace(*path, item.path);
    if (!inserted) {
      sink.add(item, "\"" + *path + "\" is already listed at " + it->second);
      continue;
    }
    out.push_back(*path);
  }
}

// "default", or a seccomp JSON file that must be readable now: finding out at
// tenant start would leave the tenant down instead of the profile rejected.
void parse_seccomp_base(ErrorSink& sink, const Field& f, std::string& out) {
  auto text = read_string(sink, f);
  if (!text) {
    return;
  }
  if (*text == "default") {
    out = *text;
    return;
  }
  if (text->empty() || (*text)[0] != '/') {
    sink.add(f, "expected \"default\" or the absolute path of a seccomp JSON file");
    return;
  }
  auto path = read_path(sink, f);
  if (!path) {
    return;
  }
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) {
    sink.add(f, "cannot use \"" + *path + "\": " + std::strerror(errno));
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    sink.add(f, "\"" + *path + "\" is not a regular file");
    return;
  }
  if (::access(path->c_str(), R_OK) != 0) {
    sink.add(f, "cannot read \"" + *path + "\": " + std::strerror(errno));
    return;
  }
  out = *path;
}

void parse_syscalls(ErrorSink& sink, const Field& f, bool allow_foreign_abi,
                    std::vector<std::string>& out, std::map<std::string, std::string>& seen) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  for (const Field& item : *items) {
    auto name = read_string(sink, item);
    if (!name) {
      continue;
    }
    switch (classify_syscall(*name)) {
      case SyscallKind::kUnknown:
        sink.add(item, "unknown system call \"" + *name + "\"");
        continue;
      case SyscallKind::kForeignOnly:
        if (!allow_foreign_abi) {
          sink.add(item, "\"" + *name +
                             "\" is not a system call of the native architecture (only of "
                             "foreign ABIs, which are blocked unless allow_foreign_abi is true)");
          continue;
        }
        break;
      case SyscallKind::kNative:
        break;
    }
    auto [it, inserted] = seen.emplace(*name, item.path);
    if (!inserted) {
      sink.add(item, "\"" + *name + "\" is already listed at " + it->second);
      continue;
    }
    out.push_back(*name);
  }
}

}  // namespace

void parse_landlock(ErrorSink& sink, const Field& f, LandlockSpec& out) {
  auto m = MapFields::read(sink, f, {"enabled", "read_only", "read_write"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("enabled")) {
    out.enabled = read_bool(sink, *e).value_or(true);
  }
  std::map<std::string, std::string> seen;
  if (const Field* e = m->get("read_only")) {
    parse_path_list(sink, *e, out.read_only, seen);
  }
  if (const Field* e = m->get("read_write")) {
    parse_path_list(sink, *e, out.read_write, seen);
  }
}

void parse_seccomp(ErrorSink& sink, const Field& f, SeccompSpec& out) {
  auto m = MapFields::read(sink, f,
                           {"profile", "allow", "deny", "action", "errno", "allow_foreign_abi"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("profile")) {
    parse_seccomp_base(sink, *e, out.base);
  }
  if (const Field* e = m->get("allow_foreign_abi")) {
    out.allow_foreign_abi = read_bool(sink, *e).value_or(false);
  }
  // One map for both lists: a name both allowed and denied is a contradiction.
  std::map<std::string, std::string> seen;
  if (const Field* e = m->get("allow")) {
    parse_syscalls(sink, *e, out.allow_foreign_abi, out.allow, seen);
  }
  if (const Field* e = m->get("deny")) {
    parse_syscalls(sink, *e, out.allow_foreign_abi, out.deny, seen);
  }
  if (const Field* e = m->get("action")) {
    if (auto a = read_string(sink, *e)) {
      if (*a == "errno") {
        out.action = SeccompAction::kErrno;
      } else if (*a == "kill") {
        out.action = SeccompAction::kKill;
      } else if (*a == "log") {
        out.action = SeccompAction::kLog;
      } else {
        sink.add(*e, "expected errno, kill or log, got \"" + *a + "\"");
      }
    }
  }
  if (const Field* e = m->get("errno")) {
    if (out.action != SeccompAction::kErrno) {
      sink.add(*e, "errno applies only with action: errno");
    } else if (auto text = read_string(sink, *e)) {
      auto n = parse_errno(*text);
      if (n.ok()) {
        out.errno_value = *n;
      } else {
        sink.add(*e, n.error().message);
      }
    }
  }
}

}  // namespace bulkhead::config::detail
