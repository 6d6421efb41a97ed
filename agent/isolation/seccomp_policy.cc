#include "isolation/seccomp_policy.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "common/unique_fd.h"
#include "isolation/seccomp_default.h"
#include "isolation/seccomp_oci.h"

namespace bulkhead::isolation {
namespace {

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterPtr = std::unique_ptr<void, FilterDeleter>;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// The x32 ABI shares AUDIT_ARCH_X86_64 and marks its numbers with this bit.
constexpr uint32_t kX32SyscallBit = 0x40000000;

std::string describe_action(uint32_t action) {
  switch (action & SECCOMP_RET_ACTION_FULL) {
    case SCMP_ACT_ALLOW:
      return "allow";
    case SCMP_ACT_LOG:
      return "log";
    case SCMP_ACT_KILL_PROCESS:
      return "kill-process";
    case SCMP_ACT_KILL_THREAD:
      return "kill-thread";
    case SCMP_ACT_TRAP:
      return "trap";
    case SCMP_ACT_ERRNO(0):
      return "errno " + std::to_string(action & SECCOMP_RET_DATA);
    case SCMP_ACT_TRACE(0):
      return "trace " + std::to_string(action & SECCOMP_RET_DATA);
    default:
      return "action " + std::to_string(action);
  }
}

Error libseccomp_error(int rc, const std::string& message) { return Error{-rc, message}; }

// libseccomp settles rules that disagree about one syscall silently: an unconditional
// rule overrides conditional ones with another action, and of two unconditional rules
// the first one wins. Either way a line of the profile would be ignored; refuse instead.
Status check_conflicts(const SeccompPolicy& policy) {
  std::map<int, const SeccompRule*> unconditional;
  for (const SeccompRule& rule : policy.rules) {
    if (rule.action == policy.default_action || !rule.args.empty()) {
      continue;
    }
    auto [it, inserted] = unconditional.emplace(rule.nr, &rule);
    if (!inserted && it->second->action != rule.action) {
      return make_error(rule.origin + ": '" + rule.name + "' is given " +
                        describe_action(rule.action) + " here but " +
                        describe_action(it->second->action) + " by " + it->second->origin);
    }
  }
  for (const SeccompRule& rule : policy.rules) {
    if (rule.action == policy.default_action || rule.args.empty()) {
      continue;
    }
    auto it = unconditional.find(rule.nr);
    if (it != unconditional.end() && it->second->action != rule.action) {
      return make_error(rule.origin + ": the conditional rule for '" + rule.name +
                        "' would be ignored: " + it->second->origin + " gives it " +
                        describe_action(it->second->action) + " unconditionally");
    }
  }
  return {};
}

// libseccomp 2.5 exports only to a file descriptor (seccomp_export_bpf_mem came in 2.6).
Result<std::vector<sock_filter>> export_bpf(void* ctx) {
  UniqueFd fd(::memfd_create("bulkhead-seccomp", MFD_CLOEXEC));
  if (!fd) {
    return errno_error("memfd_create for the seccomp export");
  }
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) {
    return libseccomp_error(rc, "seccomp_export_bpf");
  }
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) {
    return errno_error("lseek on the seccomp export");
  }
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return make_error("seccomp export has an odd size: " + std::to_string(size));
  }
  std::vector<sock_filter> out(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* buf = reinterpret_cast<char*>(out.data());
  size_t done = 0;
  while (done < static_cast<size_t>(size)) {
    ssize_t n =
        ::pread(fd.get(), buf + done, static_cast<size_t>(size) - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n < 0 ? errno_error("reading the seccomp export")
                   : make_error("seccomp export shorter than announced");
    }
    done += static_cast<size_t>(n);
  }
  return out;
}

// The highest native syscall number this libseccomp can name.
uint32_t highest_known_syscall() {
  uint32_t highest = 0;
  uint32_t arch = seccomp_arch_native();
  for (int nr = 0; nr < 1024; ++nr) {
    std::unique_ptr<char, FreeDeleter> name(seccomp_syscall_resolve_num_arch(arch, nr));
    if (name) {
      highest = static_cast<uint32_t>(nr);
    }
  }
  return highest;
}

// Runs before libseccomp's program: native calls numbered above `highest` return ENOSYS.
// Classic BPF only jumps forward and relatively, so a prefix that returns or falls through
// to its end leaves the program after it valid.
std::vector<sock_filter> enosys_prefix(uint32_t native_arch, uint32_t highest) {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 2, 0),  // x32: libseccomp decides
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, highest, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
}

// The policy a profile starts from: the built-in allowlist or an imported JSON file.
Result<SeccompPolicy> load_base(const config::SeccompSpec& spec, uint32_t deny_action,
                                const std::vector<std::string>& kept_caps) {
  if (spec.base == "default") {
    return default_seccomp_policy(deny_action);
  }
  if (spec.base.empty() || spec.base.front() != '/') {
    return make_error("profile must be \"default\" or an absolute path, got \"" + spec.base + "\"");
  }
  OciImportContext ctx;
  ctx.kept_caps = kept_caps;
  ctx.allow_foreign_abi = spec.allow_foreign_abi;
  fill_running_kernel(ctx);
  return load_oci_seccomp(spec.base, ctx);
}

}  // namespace

int resolve_syscall(const std::string& name) { return seccomp_syscall_resolve_name(name.c_str()); }

Result<uint32_t> seccomp_deny_action(const config::SeccompSpec& spec) {
  switch (spec.action) {
    case config::SeccompAction::kErrno:
      // errno 0 would make a denied call report success.
      if (spec.errno_value < 1 || spec.errno_value > 4095) {
        return make_error("errno must be in 1..4095, got " + std::to_string(spec.errno_value));
      }
      return uint32_t{SCMP_ACT_ERRNO(static_cast<uint32_t>(spec.errno_value))};
    case config::SeccompAction::kKill:
      return uint32_t{SCMP_ACT_KILL_PROCESS};
    case config::SeccompAction::kLog:
      return uint32_t{SCMP_ACT_LOG};
  }
  return make_error("unknown seccomp action");
}

Status apply_allow_deny(SeccompPolicy& policy, const config::SeccompSpec& spec,
                        uint32_t deny_action, const std::string& profile_file) {
  std::map<int, std::string> listed;  // number -> list that names it
  std::vector<SeccompRule> added;
  auto take = [&](const std::vector<std::string>& names, const std::string& list,
                  uint32_t action) -> Status {
    for (const std::string& name : names) {
      int nr = resolve_syscall(name);
      if (nr == __NR_SCMP_ERROR) {
        return make_error(profile_file + ": seccomp." + list + ": unknown syscall '" + name + "'");
      }
      auto [it, inserted] = listed.emplace(nr, list);
      if (!inserted) {
        if (it->second == list) {
          continue;
        }
        return make_error(profile_file + ": seccomp: '" + name +
                          "' is in both seccomp.allow and seccomp.deny");
      }
      added.push_back({name, nr, action, {}, profile_file + ": seccomp." + list});
    }
    return {};
  };
  BULKHEAD_TRY(take(spec.allow, "allow", SCMP_ACT_ALLOW));
  BULKHEAD_TRY(take(spec.deny, "deny", deny_action));
  std::erase_if(policy.rules, [&](const SeccompRule& r) { return listed.contains(r.nr); });
  policy.rules.insert(policy.rules.end(), added.begin(), added.end());
  return {};
}

Result<SeccompProgram> build_seccomp_program(const SeccompPolicy& policy, bool foreign_abi,
                                             uint32_t bad_arch_action) {
  BULKHEAD_TRY(check_conflicts(policy));
  FilterPtr ctx(seccomp_init(policy.default_action));
  if (!ctx) {
    return make_error("libseccomp refused the default action " +
                      describe_action(policy.default_action));
  }
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, bad_arch_action);
  if (rc < 0) {
    return libseccomp_error(rc, "setting the bad-architecture action");
  }
  // A binary search over syscall numbers instead of a chain of comparisons: the allowlist
  // is long and every syscall of the workload walks it.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc < 0) {
    return libseccomp_error(rc, "enabling the binary-tree filter layout");
  }
  if (foreign_abi) {
    for (uint32_t arch : {uint32_t{SCMP_ARCH_X86}, uint32_t{SCMP_ARCH_X32}}) {
      rc = seccomp_arch_add(ctx.get(), arch);
      if (rc < 0 && rc != -EEXIST) {
        return libseccomp_error(rc, "adding a foreign ABI");
      }
    }
  }
  for (const SeccompRule& rule : policy.rules) {
    // libseccomp refuses rules that repeat the default action; they change nothing.
    if (rule.action == policy.default_action) {
      continue;
    }
    rc = seccomp_rule_add_array(ctx.get(), rule.action, rule.nr,
                                static_cast<unsigned>(rule.args.size()), rule.args.data());
    if (rc < 0) {
      return libseccomp_error(rc, rule.origin + ": rule for '" + rule.name + "' (" +
                                      describe_action(rule.action) + ")");
    }
  }
  auto bpf = export_bpf(ctx.get());
  if (!bpf.ok()) {
    return bpf.error();
  }
  SeccompProgram program;
  if (policy.enosys_for_unknown_syscalls) {
    program.instructions = enosys_prefix(seccomp_arch_native(), highest_known_syscall());
  }
  program.instructions.insert(program.instructions.end(), bpf->begin(), bpf->end());
  if (program.instructions.size() > BPF_MAXINSNS) {
    return make_error("the seccomp filter has " + std::to_string(program.instructions.size()) +
                      " instructions, more than the kernel's limit of " +
                      std::to_string(BPF_MAXINSNS));
  }
  program.warnings = policy.warnings;
  return program;
}

Result<SeccompProgram> compile_seccomp(const config::SeccompSpec& spec,
                                       const std::vector<std::string>& kept_caps,
                                       const std::string& profile_file) {
  const std::string where = profile_file + ": seccomp";
  auto deny = seccomp_deny_action(spec);
  if (!deny.ok()) {
    return deny.error().context(where);
  }
  auto policy = load_base(spec, *deny, kept_caps);
  if (!policy.ok()) {
    return policy.error().context(where);
  }
  BULKHEAD_TRY(apply_allow_deny(*policy, spec, *deny, profile_file));
  auto program = build_seccomp_program(*policy, spec.allow_foreign_abi, *deny);
  if (!program.ok()) {
    return program.error().context(where);
  }
  return program;
}

int install_seccomp(const SeccompProgram& program) noexcept {
  const size_t n = program.instructions.size();
  if (n == 0 || n > BPF_MAXINSNS) {
    return -EINVAL;
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(n);
  // The kernel copies the program and never writes through this pointer.
  prog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    return -errno;
  }
  return 0;
}

std::vector<MaskedValue> masked_complement(std::vector<uint32_t> excluded) {
  std::set<uint32_t> unique(excluded.begin(), excluded.end());
  std::vector<MaskedValue> out;
  if (unique.empty()) {
    out.push_back({0, 0});  // everything
    return out;
  }
  // Walk the binary trie of the excluded values from the top bit down. Every branch that
  // holds no excluded value is one masked comparison: the bits fixed so far, and the
  // branch's bit. Branches ending in an excluded value add nothing.
  struct Frame {
    int bit;
    uint32_t mask;
    uint32_t value;
    std::vector<uint32_t> values;
  };
  std::vector<Frame> stack;
  stack.push_back({31, 0, 0, {unique.begin(), unique.end()}});
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    if (f.bit < 0) {
      continue;
    }
    const uint32_t b = uint32_t{1} << f.bit;
    for (uint32_t side : {uint32_t{0}, b}) {
      std::vector<uint32_t> sub;
      for (uint32_t v : f.values) {
        if ((v & b) == side) {
          sub.push_back(v);
        }
      }
      if (sub.empty()) {
        out.push_back({f.mask | b, f.value | side});
      } else {
        stack.push_back({f.bit - 1, f.mask | b, f.value | side, std::move(sub)});
      }
    }
  }
  return out;
}

Result<uint32_t> evaluate_seccomp(const SeccompProgram& program, const struct seccomp_data& call) {
  const std::vector<sock_filter>& insns = program.instructions;
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  const auto* data = reinterpret_cast<const unsigned char*>(&call);
  auto bad = [](size_t pc, const std::string& why) {
    return make_error("seccomp program: instruction " + std::to_string(pc) + ": " + why);
  };
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const sock_filter& in = insns[pc];
    const uint32_t k = in.k;
    const uint16_t cls = BPF_CLASS(in.code);
    if (cls == BPF_LD || cls == BPF_LDX) {
      uint32_t v = 0;
      switch (BPF_MODE(in.code)) {
        case BPF_ABS:
          if (BPF_SIZE(in.code) != BPF_W || k % 4 != 0 || k + 4 > sizeof(call)) {
            return bad(pc, "load outside seccomp_data");
          }
          std::memcpy(&v, data + k, sizeof(v));
          break;
        case BPF_IMM:
          v = k;
          break;
        case BPF_LEN:
          v = sizeof(call);
          break;
        case BPF_MEM:
          if (k >= BPF_MEMWORDS) {
            return bad(pc, "scratch index out of range");
          }
          v = mem[k];
          break;
        default:
          return bad(pc, "unsupported load mode");
      }
      (cls == BPF_LD ? a : x) = v;
    } else if (cls == BPF_ST || cls == BPF_STX) {
      if (k >= BPF_MEMWORDS) {
        return bad(pc, "scratch index out of range");
      }
      mem[k] = cls == BPF_ST ? a : x;
    } else if (cls == BPF_ALU) {
      const uint32_t src = BPF_SRC(in.code) == BPF_X ? x : k;
      switch (BPF_OP(in.code)) {
        case BPF_ADD:
          a += src;
          break;
        case BPF_SUB:
          a -= src;
          break;
        case BPF_MUL:
          a *= src;
          break;
        case BPF_OR:
          a |= src;
          break;
        case BPF_AND:
          a &= src;
          break;
        case BPF_XOR:
          a ^= src;
          break;
        case BPF_LSH:
          a = src < 32 ? a << src : 0;
          break;
        case BPF_RSH:
          a = src < 32 ? a >> src : 0;
          break;
        case BPF_NEG:
          a = 0 - a;
          break;
        case BPF_DIV:
        case BPF_MOD:
          if (src == 0) {
            return bad(pc, "division by zero");
          }
          a = BPF_OP(in.code) == BPF_DIV ? a / src : a % src;
          break;
        default:
          return bad(pc, "unsupported ALU operation");
      }
    } else if (cls == BPF_JMP) {
      const uint32_t src = BPF_SRC(in.code) == BPF_X ? x : k;
      bool taken = false;
      switch (BPF_OP(in.code)) {
        case BPF_JA:
          pc += k;
          continue;
        case BPF_JEQ:
          taken = a == src;
          break;
        case BPF_JGT:
          taken = a > src;
          break;
        case BPF_JGE:
          taken = a >= src;
          break;
        case BPF_JSET:
          taken = (a & src) != 0;
          break;
        default:
          return bad(pc, "unsupported jump");
      }
      pc += taken ? in.jt : in.jf;
    } else if (cls == BPF_RET) {
      return BPF_RVAL(in.code) == BPF_A ? a : k;
    } else if (cls == BPF_MISC) {
      if (BPF_MISCOP(in.code) == BPF_TAX) {
        x = a;
      } else {
        a = x;
      }
    }
  }
  return make_error("seccomp program ends without returning");
}

}  // namespace bulkhead::isolation
