// The `filesystem` section: what the tenant sees at which path.
#include <climits>

#include "config/path_rules.h"
#include "config/profile_parser.h"
#include "config/units.h"

namespace bulkhead::config::detail {
namespace {

// Host directories whose content is the host kernel's state or its devices.
// The sandbox builds its own /proc and /dev; passing host ones through (or
// /sys, which has no per-tenant view at all) would undo the isolation.
Status check_bind_source(const std::string& source) {
  for (const char* dir : {"/proc", "/sys", "/dev"}) {
    if (path_is_under(source, dir)) {
      return make_error("\"" + source + "\" is under the host's " + dir +
                        ", which is never bound into a tenant");
    }
  }
  return {};
}

std::optional<std::string> read_bind_source(ErrorSink& sink, const Field& f) {
  auto s = read_path(sink, f);
  if (!s) {
    return std::nullopt;
  }
  if (auto st = check_bind_source(*s); !st.ok()) {
    sink.add(f, st.error().message);
    return std::nullopt;
  }
  return s;
}

// "/usr" (same path inside) or {source, target, optional}.
void parse_bind(ErrorSink& sink, const Field& f, bool read_only, FilesystemView& out,
                ProfileMarks& marks) {
  BindMount b;
  b.read_only = read_only;
  if (f.value.IsScalar()) {
    auto source = read_bind_source(sink, f);
    if (!source || !read_target(sink, f)) {
      return;
    }
    b.source = b.target = *source;
    marks.targets.push_back({b.target, f});
    out.binds.push_back(std::move(b));
    return;
  }
  if (!f.value.IsMap()) {
    sink.add(f,
             "expected a path or a mapping {source, target, optional}, got " + describe(f.value));
    return;
  }
  auto m = MapFields::read(sink, f, {"source", "target", "optional"});
  const Field* source_f = m->require(sink, "source");
  std::optional<std::string> source = source_f ? read_bind_source(sink, *source_f) : std::nullopt;
  const Field* target_f = m->get("target");
  std::optional<std::string> target;
  if (target_f != nullptr) {
    target = read_target(sink, *target_f);
  } else if (source) {
    target_f = source_f;
    target = read_target(sink, *source_f);
  }
  std::optional<bool> optional = false;
  if (const Field* o = m->get("optional")) {
    optional = read_bool(sink, *o);
  }
  if (!source || !target || !optional) {
    return;
  }
  b.source = *source;
  b.target = *target;
  b.optional = *optional;
  marks.targets.push_back({b.target, *target_f});
  out.binds.push_back(std::move(b));
}

void parse_tmpfs(ErrorSink& sink, const Field& f, FilesystemView& out, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"target", "size", "mode"});
  if (!m) {
    return;
  }
  size_t errors_before = sink.count();
  TmpfsMount t;
  if (const Field* e = m->require(sink, "target")) {
    if (auto target = read_target(sink, *e)) {
      t.target = *target;
      marks.targets.push_back({t.target, *e});
    }
  }
  // No default size: the kernel's default (half of RAM) is not a tenant limit.
  if (const Field* e = m->require(sink, "size")) {
    auto size = read_size(sink, *e);
    if (size && *size == 0) {
      sink.add(*e, "must be greater than 0 (a tmpfs of size 0 is unlimited)");
    }
    t.size_bytes = size.value_or(0);
  }
  if (const Field* e = m->get("mode")) {
    if (auto text = read_string(sink, *e)) {
      auto mode = parse_mode(*text);
      if (mode.ok()) {
        t.mode = *mode;
      } else {
        sink.add(*e, mode.error().message);
      }
    }
  }
  if (sink.count() == errors_before) {
    out.tmpfs.push_back(std::move(t));
  }
}

void parse_symlink(ErrorSink& sink, const Field& f, FilesystemView& out, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"path", "target"});
  if (!m) {
    return;
  }
  const Field* path_f = m->require(sink, "path");
  const Field* target_f = m->require(sink, "target");
  auto path = path_f ? read_target(sink, *path_f) : std::nullopt;
  auto target = target_f ? read_string(sink, *target_f) : std::nullopt;
  if (target && (target->empty() || target->size() >= PATH_MAX)) {
    sink.add(*target_f, "a symlink target must be 1.." + std::to_string(PATH_MAX - 1) + " bytes");
    target.reset();
  }
  if (path) {
    marks.targets.push_back({*path, *path_f});
  }
  if (path && target) {
    out.symlinks.push_back(Symlink{*target, *path});
  }
}

void parse_data(ErrorSink& sink, const Field& f, DataDir& out, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"target", "host_path"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("target")) {
    if (auto target = read_target(sink, *e)) {
      out.target = *target;
      marks.targets.push_back({out.target, *e});
    }
  }
  if (const Field* e = m->get("host_path")) {
    auto host = read_path(sink, *e);
    if (!host) {
      return;
    }
    // The agent chowns this directory to the tenant's root: it must be the tenant's alone.
    if (*host == "/" || path_is_under(*host, "/proc") || path_is_under(*host, "/sys") ||
        path_is_under(*host, "/dev")) {
      sink.add(*e, "\"" + *host + "\" cannot be a data directory (it is handed to the tenant)");
      return;
    }
    out.host_path = *host;
    marks.data_host_path = *e;
  }
}

template <typename Fn>
void for_each_item(ErrorSink& sink, const MapFields& m, const char* key, Fn fn) {
  if (const Field* f = m.get(key)) {
    if (auto items = seq_items(sink, *f)) {
      for (const Field& item : *items) {
        fn(item);
      }
    }
  }
}

}  // namespace

void parse_filesystem(ErrorSink& sink, const Field& f, FilesystemView& out, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"read_only", "read_write", "tmpfs", "symlinks", "data"});
  if (!m) {
    return;
  }
  for_each_item(sink, *m, "read_only",
                [&](const Field& item) { parse_bind(sink, item, true, out, marks); });
  for_each_item(sink, *m, "read_write",
                [&](const Field& item) { parse_bind(sink, item, false, out, marks); });
  for_each_item(sink, *m, "tmpfs", [&](const Field& item) { parse_tmpfs(sink, item, out, marks); });
  for_each_item(sink, *m, "symlinks",
                [&](const Field& item) { parse_symlink(sink, item, out, marks); });
  if (const Field* d = m->get("data")) {
    parse_data(sink, *d, out.data, marks);
  }
}

}  // namespace bulkhead::config::detail
