#include "isolation/seccomp_oci.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "common/file_util.h"

namespace bulkhead::isolation {
namespace {

using nlohmann::json;

// OCI architecture names. Those this libseccomp cannot name (token 0) are accepted for
// profiles shared with other hosts; they are never this host's ABI.
const std::map<std::string, uint32_t, std::less<>> kArches = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    {"SCMP_ARCH_LOONGARCH64", 0},
    {"SCMP_ARCH_M68K", 0},
    {"SCMP_ARCH_SH", 0},
    {"SCMP_ARCH_SHEB", 0},
};

// Docker's includes/excludes "arches" use Go's names for the host architecture.
std::string go_arch_name(uint32_t token) {
  switch (token) {
    case SCMP_ARCH_X86_64:
      return "amd64";
    case SCMP_ARCH_AARCH64:
      return "arm64";
    case SCMP_ARCH_PPC64LE:
      return "ppc64le";
    case SCMP_ARCH_S390X:
      return "s390x";
    case SCMP_ARCH_RISCV64:
      return "riscv64";
    default:
      return "";
  }
}

std::string arch_name(uint32_t token) {
  for (const auto& [name, t] : kArches) {
    if (t == token && t != 0) {
      return name;
    }
  }
  return "arch " + std::to_string(token);
}

const std::map<std::string, scmp_compare, std::less<>> kOps = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// Allow and log let the call run; every other action stops it.
bool permissive(uint32_t action) { return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG; }

std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string at(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string canonical_cap(std::string cap) {
  std::transform(cap.begin(), cap.end(), cap.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return cap.starts_with("CAP_") ? cap : "CAP_" + cap;
}

// Docker-style conditions on a rule.
struct Filter {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::optional<std::pair<int, int>> min_kernel;
};

// Walks one document. Every error and warning names the file and the JSON path.
class Importer {
 public:
  Importer(const OciImportContext& ctx, std::string file) : ctx_(ctx), file_(std::move(file)) {}

  Result<SeccompPolicy> run(const json& doc) {
    BULKHEAD_TRY(check_keys(doc, "",
                            {"defaultAction", "defaultErrnoRet", "architectures", "archMap",
                             "syscalls", "flags", "listenerPath", "listenerMetadata"}));
    if (!doc.contains("defaultAction")) {
      return fail("defaultAction", "missing");
    }
    auto action = parse_action(doc, "");
    if (!action.ok()) {
      return action.error();
    }
    policy_.default_action = *action;
    policy_.enosys_for_unknown_syscalls = !permissive(*action);
    BULKHEAD_TRY(parse_arches(doc));
    BULKHEAD_TRY(parse_flags(doc));
    if (const json* syscalls = find(doc, "syscalls")) {
      if (!syscalls->is_array()) {
        return fail("syscalls", "expected an array");
      }
      for (size_t i = 0; i < syscalls->size(); ++i) {
        BULKHEAD_TRY(parse_rule((*syscalls)[i], at("syscalls", i)));
      }
    }
    return std::move(policy_);
  }

 private:
  Error fail(const std::string& path, const std::string& message) const {
    return make_error(file_ + ": " + (path.empty() ? "(top level)" : path) + ": " + message);
  }
  void warn(const std::string& path, const std::string& message) {
    policy_.warnings.push_back(file_ + ": " + path + ": " + message);
  }

  // A present, non-null member, or nullptr. Docker writes null for empty lists.
  static const json* find(const json& obj, std::string_view key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  Status check_keys(const json& obj, const std::string& path,
                    std::initializer_list<std::string_view> known) const {
    if (!obj.is_object()) {
      return fail(path, "expected an object");
    }
    for (const auto& [key, value] : obj.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return fail(at(path, key), "unknown key");
      }
    }
    return {};
  }

  Result<std::string> string_at(const json& v, const std::string& path) const {
    if (!v.is_string()) {
      return fail(path, "expected a string");
    }
    return v.get<std::string>();
  }

  Result<uint64_t> number_at(const json& v, const std::string& path) const {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return fail(path, "expected a non-negative integer");
    }
    return v.get<uint64_t>();
  }

  Result<std::vector<std::string>> strings_at(const json& v, const std::string& path) const {
    std::vector<std::string> out;
    if (v.is_null()) {
      return out;
    }
    if (!v.is_array()) {
      return fail(path, "expected an array of strings");
    }
    for (size_t i = 0; i < v.size(); ++i) {
      auto s = string_at(v[i], at(path, i));
      if (!s.ok()) {
        return s.error();
      }
      out.push_back(std::move(*s));
    }
    return out;
  }

  // "action"/"errnoRet" of a rule, or "defaultAction"/"defaultErrnoRet" at the top.
  Result<uint32_t> parse_action(const json& obj, const std::string& path) {
    const bool top = path.empty();
    const std::string action_path = at(path, top ? "defaultAction" : "action");
    const std::string errno_path = at(path, top ? "defaultErrnoRet" : "errnoRet");
    auto name = string_at(obj.at(top ? "defaultAction" : "action"), action_path);
    if (!name.ok()) {
      return name.error();
    }
    std::optional<uint64_t> ret;
    if (const json* e = find(obj, top ? "defaultErrnoRet" : "errnoRet")) {
      auto n = number_at(*e, errno_path);
      if (!n.ok()) {
        return n.error();
      }
      if (*n > 4095) {
        return fail(errno_path, "must be at most 4095");
      }
      ret = *n;
    }
    const auto ret_or_eperm = static_cast<uint32_t>(ret.value_or(EPERM));
    std::optional<uint32_t> action;
    bool takes_errno = false;
    if (*name == "SCMP_ACT_ERRNO") {
      action = SCMP_ACT_ERRNO(ret_or_eperm);
      takes_errno = true;
    } else if (*name == "SCMP_ACT_TRACE") {
      action = SCMP_ACT_TRACE(ret_or_eperm);
      takes_errno = true;
    } else if (*name == "SCMP_ACT_ALLOW") {
      action = SCMP_ACT_ALLOW;
    } else if (*name == "SCMP_ACT_LOG") {
      action = SCMP_ACT_LOG;
    } else if (*name == "SCMP_ACT_KILL" || *name == "SCMP_ACT_KILL_THREAD") {
      action = SCMP_ACT_KILL_THREAD;  // OCI: SCMP_ACT_KILL kills the thread
    } else if (*name == "SCMP_ACT_KILL_PROCESS") {
      action = SCMP_ACT_KILL_PROCESS;
    } else if (*name == "SCMP_ACT_TRAP") {
      action = SCMP_ACT_TRAP;
    } else if (*name == "SCMP_ACT_NOTIFY") {
      return fail(action_path, "SCMP_ACT_NOTIFY is not supported: no seccomp agent runs");
    } else {
      return fail(action_path, "unknown action '" + *name + "'");
    }
    if (ret && !takes_errno) {
      return fail(errno_path, "applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
    }
    return *action;
  }

  Result<uint32_t> arch_at(const json& v, const std::string& path) const {
    auto name = string_at(v, path);
    if (!name.ok()) {
      return name.error();
    }
    auto it = kArches.find(*name);
    if (it == kArches.end()) {
      return fail(path, "unknown architecture '" + *name + "'");
    }
    return it->second;
  }

  // `architectures` (OCI) and `archMap` (Docker: the sub-ABIs of each native arch). Which
  // ABIs the filter covers is the profile's allow_foreign_abi decision; the file is checked
  // and disagreements are reported.
  Status parse_arches(const json& doc) {
    const uint32_t native = seccomp_arch_native();
    std::set<uint32_t> listed;
    std::string where;
    if (const json* archs = find(doc, "architectures")) {
      if (!archs->is_array()) {
        return fail("architectures", "expected an array");
      }
      for (size_t i = 0; i < archs->size(); ++i) {
        auto a = arch_at((*archs)[i], at("architectures", i));
        if (!a.ok()) {
          return a.error();
        }
        listed.insert(*a);
      }
      where = "architectures";
    }
    if (const json* map = find(doc, "archMap")) {
      if (!map->is_array()) {
        return fail("archMap", "expected an array");
      }
      for (size_t i = 0; i < map->size(); ++i) {
        const std::string path = at("archMap", i);
        const json& entry = (*map)[i];
        BULKHEAD_TRY(check_keys(entry, path, {"architecture", "subArchitectures"}));
        if (!entry.contains("architecture")) {
          return fail(at(path, "architecture"), "missing");
        }
        auto main = arch_at(entry.at("architecture"), at(path, "architecture"));
        if (!main.ok()) {
          return main.error();
        }
        std::vector<uint32_t> subs;
        if (const json* s = find(entry, "subArchitectures")) {
          if (!s->is_array()) {
            return fail(at(path, "subArchitectures"), "expected an array");
          }
          for (size_t j = 0; j < s->size(); ++j) {
            auto a = arch_at((*s)[j], at(at(path, "subArchitectures"), j));
            if (!a.ok()) {
              return a.error();
            }
            subs.push_back(*a);
          }
        }
        if (*main == native) {
          listed.insert(*main);
          listed.insert(subs.begin(), subs.end());
        }
      }
      where = where.empty() ? "archMap" : where + "/archMap";
    }
    if (where.empty()) {
      return {};
    }
    if (!listed.contains(native)) {
      warn(where, "does not list " + arch_name(native) +
                      "; its rules are applied to this host's ABI anyway");
    }
    for (uint32_t foreign : {uint32_t{SCMP_ARCH_X86}, uint32_t{SCMP_ARCH_X32}}) {
      if (foreign != native && listed.contains(foreign) && !ctx_.allow_foreign_abi) {
        warn(where, arch_name(foreign) +
                        " is listed but the profile does not set allow_foreign_abi: calls "
                        "through that ABI are denied");
      }
    }
    return {};
  }

  Status parse_flags(const json& doc) {
    if (const json* listener = find(doc, "listenerPath")) {
      auto path = string_at(*listener, "listenerPath");
      if (!path.ok()) {
        return path.error();
      }
      if (!path->empty()) {
        return fail("listenerPath", "seccomp notify is not supported: no seccomp agent runs");
      }
    }
    if (const json* meta = find(doc, "listenerMetadata")) {
      if (!meta->is_string()) {
        return fail("listenerMetadata", "expected a string");
      }
    }
    const json* flags = find(doc, "flags");
    if (flags == nullptr) {
      return {};
    }
    auto names = strings_at(*flags, "flags");
    if (!names.ok()) {
      return names.error();
    }
    for (size_t i = 0; i < names->size(); ++i) {
      const std::string& f = (*names)[i];
      const std::string path = at("flags", i);
      if (f == "SECCOMP_FILTER_FLAG_NEW_LISTENER") {
        return fail(path, "seccomp notify is not supported: no seccomp agent runs");
      }
      if (f == "SECCOMP_FILTER_FLAG_TSYNC") {
        warn(path, f + " ignored: the filter is installed before the workload has threads");
      } else if (f == "SECCOMP_FILTER_FLAG_LOG" || f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW" ||
                 f == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
        warn(path, f + " ignored: bulkhead installs filters without flags");
      } else {
        return fail(path, "unknown flag '" + f + "'");
      }
    }
    return {};
  }

  Result<Filter> parse_filter(const json& v, const std::string& path) const {
    BULKHEAD_TRY(check_keys(v, path, {"caps", "arches", "minKernel"}));
    Filter f;
    if (const json* caps = find(v, "caps")) {
      auto list = strings_at(*caps, at(path, "caps"));
      if (!list.ok()) {
        return list.error();
      }
      for (std::string& c : *list) {
        f.caps.push_back(canonical_cap(std::move(c)));
      }
    }
    if (const json* arches = find(v, "arches")) {
      auto list = strings_at(*arches, at(path, "arches"));
      if (!list.ok()) {
        return list.error();
      }
      f.arches = std::move(*list);
    }
    if (const json* mk = find(v, "minKernel")) {
      auto text = string_at(*mk, at(path, "minKernel"));
      if (!text.ok()) {
        return text.error();
      }
      int major = 0;
      int minor = 0;
      char rest = 0;
      int n = std::sscanf(text->c_str(), "%d.%d%c", &major, &minor, &rest);
      if (n < 2 || (n == 3 && rest != '.') || major < 0 || minor < 0) {
        return fail(at(path, "minKernel"), "expected \"<major>.<minor>\", got \"" + *text + "\"");
      }
      f.min_kernel = std::make_pair(major, minor);
    }
    return f;
  }

  bool has_cap(const std::string& cap) const {
    return std::any_of(ctx_.kept_caps.begin(), ctx_.kept_caps.end(),
                       [&](const std::string& k) { return canonical_cap(k) == cap; });
  }
  bool native_in(const std::vector<std::string>& arches) const {
    const std::string go = go_arch_name(seccomp_arch_native());
    return std::find(arches.begin(), arches.end(), go) != arches.end();
  }
  bool kernel_at_least(std::pair<int, int> v) const {
    return std::make_pair(ctx_.kernel_major, ctx_.kernel_minor) >= v;
  }

  // Docker's semantics: every included cap must be kept; any excluded cap that is kept, or
  // the host arch among excluded arches, or a kernel at least the excluded minKernel,
  // drops the rule.
  bool applies(const std::optional<Filter>& inc, const std::optional<Filter>& exc) const {
    if (inc) {
      if (!std::all_of(inc->caps.begin(), inc->caps.end(),
                       [&](const std::string& c) { return has_cap(c); })) {
        return false;
      }
      if (!inc->arches.empty() && !native_in(inc->arches)) {
        return false;
      }
      if (inc->min_kernel && !kernel_at_least(*inc->min_kernel)) {
        return false;
      }
    }
    if (exc) {
      if (std::any_of(exc->caps.begin(), exc->caps.end(),
                      [&](const std::string& c) { return has_cap(c); })) {
        return false;
      }
      if (native_in(exc->arches)) {
        return false;
      }
      if (exc->min_kernel && kernel_at_least(*exc->min_kernel)) {
        return false;
      }
    }
    return true;
  }

  Result<scmp_arg_cmp> parse_arg(const json& v, const std::string& path) const {
    BULKHEAD_TRY(check_keys(v, path, {"index", "value", "valueTwo", "op"}));
    for (const char* key : {"index", "value", "op"}) {
      if (find(v, key) == nullptr) {
        return fail(at(path, key), "missing");
      }
    }
    auto index = number_at(v.at("index"), at(path, "index"));
    if (!index.ok()) {
      return index.error();
    }
    if (*index > 5) {
      return fail(at(path, "index"), "a syscall has arguments 0 to 5");
    }
    auto value = number_at(v.at("value"), at(path, "value"));
    if (!value.ok()) {
      return value.error();
    }
    uint64_t two = 0;
    if (const json* t = find(v, "valueTwo")) {
      auto n = number_at(*t, at(path, "valueTwo"));
      if (!n.ok()) {
        return n.error();
      }
      two = *n;
    }
    auto op_name = string_at(v.at("op"), at(path, "op"));
    if (!op_name.ok()) {
      return op_name.error();
    }
    auto op = kOps.find(*op_name);
    if (op == kOps.end()) {
      return fail(at(path, "op"), "unknown operator '" + *op_name + "'");
    }
    if (op->second != SCMP_CMP_MASKED_EQ && two != 0) {
      return fail(at(path, "valueTwo"), "only SCMP_CMP_MASKED_EQ uses valueTwo");
    }
    // OCI writes the mask in value and the expected bits in valueTwo, as libseccomp does.
    return arg_cmp(static_cast<unsigned>(*index), op->second, *value, two);
  }

  Status parse_rule(const json& v, const std::string& path) {
    BULKHEAD_TRY(check_keys(
        v, path,
        {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"}));
    std::vector<std::string> names;
    std::string names_path = at(path, "names");
    const json* list = find(v, "names");
    const json* legacy = find(v, "name");
    if (list != nullptr && legacy != nullptr) {
      return fail(path, "has both names and name");
    }
    if (list != nullptr) {
      auto n = strings_at(*list, names_path);
      if (!n.ok()) {
        return n.error();
      }
      names = std::move(*n);
    } else if (legacy != nullptr) {
      names_path = at(path, "name");
      auto n = string_at(*legacy, names_path);
      if (!n.ok()) {
        return n.error();
      }
      names.push_back(std::move(*n));
    }
    if (names.empty()) {
      return fail(names_path, "no syscall names");
    }
    if (find(v, "action") == nullptr) {
      return fail(at(path, "action"), "missing");
    }
    auto action = parse_action(v, path);
    if (!action.ok()) {
      return action.error();
    }
    if (const json* c = find(v, "comment"); c != nullptr && !c->is_string()) {
      return fail(at(path, "comment"), "expected a string");
    }
    std::vector<scmp_arg_cmp> args;
    if (const json* a = find(v, "args")) {
      if (!a->is_array()) {
        return fail(at(path, "args"), "expected an array");
      }
      std::map<unsigned, size_t> seen;  // argument index -> position in args[]
      for (size_t i = 0; i < a->size(); ++i) {
        const std::string arg_path = at(at(path, "args"), i);
        auto cmp = parse_arg((*a)[i], arg_path);
        if (!cmp.ok()) {
          return cmp.error();
        }
        auto [it, inserted] = seen.emplace(cmp->arg, i);
        if (!inserted) {
          // runc would split such a rule into several (turning AND into OR); say so instead.
          return fail(at(arg_path, "index"),
                      "argument " + std::to_string(cmp->arg) + " is already compared by args[" +
                          std::to_string(it->second) +
                          "]; libseccomp cannot combine two conditions on one argument, write "
                          "one rule per condition");
        }
        args.push_back(*cmp);
      }
    }
    std::optional<Filter> inc;
    std::optional<Filter> exc;
    if (const json* f = find(v, "includes")) {
      auto parsed = parse_filter(*f, at(path, "includes"));
      if (!parsed.ok()) {
        return parsed.error();
      }
      inc = std::move(*parsed);
    }
    if (const json* f = find(v, "excludes")) {
      auto parsed = parse_filter(*f, at(path, "excludes"));
      if (!parsed.ok()) {
        return parsed.error();
      }
      exc = std::move(*parsed);
    }
    // Rules for other hosts or capabilities name calls this host may not know: drop them
    // before looking names up. A rule repeating the default action changes nothing.
    if (!applies(inc, exc) || *action == policy_.default_action) {
      return {};
    }
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      const std::string name_path = list != nullptr ? at(names_path, i) : names_path;
      int nr = resolve_syscall(name);
      if (nr == __NR_SCMP_ERROR) {
        // Skipping the name leaves the call at the default action. That is safe when the
        // rule was more permissive than the default, and a hole when it was meant to deny.
        if (!permissive(*action) && permissive(policy_.default_action)) {
          return fail(name_path, "unknown syscall '" + name +
                                     "': this rule denies it and the default allows, so it "
                                     "cannot be skipped");
        }
        warn(name_path, "unknown syscall '" + name + "' skipped; it keeps the default action");
        continue;
      }
      policy_.rules.push_back({name, nr, *action, args, file_ + ": " + path});
    }
    return {};
  }

  const OciImportContext& ctx_;
  std::string file_;
  SeccompPolicy policy_;
};

}  // namespace

void fill_running_kernel(OciImportContext& ctx) {
  struct utsname u {};
  if (::uname(&u) == 0) {
    (void)std::sscanf(u.release, "%d.%d", &ctx.kernel_major, &ctx.kernel_minor);
  }
}

Result<SeccompPolicy> parse_oci_seccomp(const std::string& json_text, const OciImportContext& ctx,
                                        const std::string& file) {
  json doc;
  // nlohmann reports syntax errors (with line and column) only by exception; it is caught
  // here and nothing else in this file throws.
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return make_error(file + ": not valid JSON: " + e.what());
  }
  return Importer(ctx, file).run(doc);
}

Result<SeccompPolicy> load_oci_seccomp(const std::string& path, const OciImportContext& ctx) {
  auto text = read_file(path);
  if (!text.ok()) {
    return text.error().context("reading seccomp profile " + path);
  }
  return parse_oci_seccomp(*text, ctx, path);
}

}  // namespace bulkhead::isolation
