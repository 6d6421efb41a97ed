// Skeleton<S>: owns one bpftool-generated skeleton (struct S from S.skel.h) and
// walks it through the libbpf-bootstrap order: open, configure (rodata globals,
// autoload switches), load, attach. The skeleton, its maps, programs and links
// are destroyed with the owner. Every failure is an Error carrying errno and the
// step: "loading exec_count: Operation not permitted".
//
// libbpf 1.x semantics (strict mode is the only mode since 1.0): int-returning
// calls return -errno, pointer-returning calls return NULL and set errno, so
// libbpf_get_error() is never needed.
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/log.h"
#include "common/result.h"

namespace bulkhead::bpf {

// Owns a libbpf ring buffer manager (ring_buffer__new); freed with its owner.
struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

// Error from a libbpf call that returned -errno (or a negative value with errno set).
inline Error libbpf_error(int ret, std::string step) {
  int code = ret < 0 ? -ret : errno;
  return Error{code != 0 ? code : EINVAL, std::move(step)};
}

// Routes libbpf's messages (verifier logs on a failed load, attach warnings)
// into spdlog once per process; libbpf's print callback is process-wide anyway.
inline void ensure_libbpf_logging() {
  [[maybe_unused]] static const bool bridged = [] {
    bridge_libbpf_logging();
    return true;
  }();
}

struct BpfLinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
// A link made outside the skeleton (cgroup attachments need the cgroup fd, so
// the skeleton's auto-attach skips them); destroying it detaches the program.
using BpfLinkPtr = std::unique_ptr<bpf_link, BpfLinkDeleter>;

inline Result<BpfLinkPtr> attach_cgroup(bpf_program* prog, int cgroup_fd) {
  BpfLinkPtr link(bpf_program__attach_cgroup(prog, cgroup_fd));
  if (!link) {
    return errno_error(std::string("attaching ") + bpf_program__name(prog) + " to cgroup");
  }
  return link;
}

// What bpftool (7.x) generates for C++ callers: static member functions.
template <typename S>
concept GeneratedSkeleton = requires(S* s, const bpf_object_open_opts* opts) {
  { S::open(opts) } -> std::same_as<S*>;
  { S::load(s) } -> std::same_as<int>;
  { S::attach(s) } -> std::same_as<int>;
  S::destroy(s);
  { s->skeleton } -> std::convertible_to<bpf_object_skeleton*>;
  { s->obj } -> std::convertible_to<bpf_object*>;
};

namespace detail {
// "exec_count" for Skeleton<exec_count>; only used to name an open() failure,
// before the skeleton exists to tell its own name.
template <typename T>
constexpr std::string_view type_name() {
  std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = exec_count; ...]"
  auto start = f.find("T = ");
  if (start == std::string_view::npos) {
    return "bpf skeleton";
  }
  start += 4;
  auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

#ifdef __clang_analyzer__
// Seen only by clang-tidy's static analyzer: it follows S::open() into bpftool's
// generated code, takes libbpf's bpf_object__destroy_skeleton() (a system header
// function) for one that frees nothing, and reports a leak inside the generated
// header. Declared but not defined here, the call is opaque to the analysis.
template <typename S>
S* open_skeleton(const bpf_object_open_opts* opts);
#else
template <typename S>
S* open_skeleton(const bpf_object_open_opts* opts) {
  return S::open(opts);
}
#endif
}  // namespace detail

template <GeneratedSkeleton S>
class Skeleton {
 public:
  // open → configure(Skeleton&) → load → attach. `configure` sets rodata globals
  // (skel->rodata->x) and switches programs off (set_autoload); returns Status.
  template <typename Configure>
  static Result<Skeleton> create(Configure&& configure) {
    auto skel = open();
    if (!skel.ok()) {
      return skel.error();
    }
    BULKHEAD_TRY_CTX(std::forward<Configure>(configure)(*skel), "configuring " + skel->name());
    BULKHEAD_TRY(skel->load());
    BULKHEAD_TRY(skel->attach());
    return std::move(skel).value();
  }
  static Result<Skeleton> create() {
    return create([](Skeleton&) -> Status { return {}; });
  }

  static Result<Skeleton> open(const bpf_object_open_opts* opts = nullptr) {
    ensure_libbpf_logging();
    S* raw = detail::open_skeleton<S>(opts);
    if (raw == nullptr) {
      return errno_error("opening " + std::string(detail::type_name<S>()));
    }
    return Skeleton(raw);
  }

  Status load() {
    if (stage_ != Stage::kOpened) {
      return Error{EALREADY, "loading " + name() + ": already loaded"};
    }
    if (int err = S::load(skel_.get()); err != 0) {
      return libbpf_error(err, "loading " + name());
    }
    stage_ = Stage::kLoaded;
    return {};
  }

  // Attaches every autoloaded program whose section libbpf can attach by itself
  // (tp/, raw_tp/, tp_btf/, iter/...). cgroup programs: use attach_cgroup().
  Status attach() {
    if (stage_ != Stage::kLoaded) {
      return Error{stage_ == Stage::kOpened ? EINVAL : EALREADY,
                   "attaching " + name() +
                       (stage_ == Stage::kOpened ? ": not loaded" : ": already attached")};
    }
    if (int err = S::attach(skel_.get()); err != 0) {
      return libbpf_error(err, "attaching " + name());
    }
    stage_ = Stage::kAttached;
    return {};
  }

  // Before load(): leaves a program out of the kernel (falco-style, for a
  // feature this kernel lacks). EBUSY once the object is loaded.
  Status set_autoload(bpf_program* prog, bool autoload) {
    const std::string step =
        "set_autoload " + std::string(bpf_program__name(prog)) + " in " + name();
    if (stage_ != Stage::kOpened) {
      return Error{EBUSY, step + ": already loaded"};
    }
    if (int err = bpf_program__set_autoload(prog, autoload); err != 0) {
      return libbpf_error(err, step);
    }
    return {};
  }

  [[nodiscard]] std::string name() const { return skel_->skeleton->name; }
  [[nodiscard]] bool loaded() const { return stage_ != Stage::kOpened; }
  S* get() const { return skel_.get(); }
  S* operator->() const { return skel_.get(); }
  S& operator*() const { return *skel_; }

 private:
  enum class Stage { kOpened, kLoaded, kAttached };
  struct Destroy {
    void operator()(S* s) const { S::destroy(s); }
  };

  explicit Skeleton(S* raw) : skel_(raw) {}

  std::unique_ptr<S, Destroy> skel_;
  Stage stage_ = Stage::kOpened;
};

}  // namespace bulkhead::bpf
