#include "config/path_rules.h"

#include <climits>
#include <vector>

namespace bulkhead::config {
namespace {

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) {
      next = path.size();
    }
    out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

}  // namespace

Status check_absolute_path(std::string_view path) {
  if (path.empty()) {
    return make_error("path is empty");
  }
  if (path.find('\0') != std::string_view::npos) {
    return make_error("path contains a NUL byte");
  }
  if (path.size() >= PATH_MAX) {
    return make_error("path is longer than " + std::to_string(PATH_MAX - 1) + " bytes");
  }
  if (path[0] != '/') {
    return make_error("path \"" + std::string(path) + "\" is not absolute");
  }
  if (path == "/") {
    return {};
  }
  bool dotdot = false;
  std::string canonical;
  for (std::string_view c : components(path.substr(1))) {
    if (c == "..") {
      dotdot = true;
    } else if (!c.empty() && c != ".") {
      canonical += "/";
      canonical += c;
    }
  }
  if (dotdot) {
    return make_error("path \"" + std::string(path) + "\" contains \"..\"");
  }
  if (canonical.empty()) {
    canonical = "/";
  }
  if (canonical != path) {
    return make_error("path \"" + std::string(path) + "\" is not normalised (write \"" + canonical +
                      "\")");
  }
  return {};
}

Status check_target_path(std::string_view path) {
  BULKHEAD_TRY(check_absolute_path(path));
  if (path == "/") {
    return make_error("\"/\" cannot be a target: it is the tenant's root, built by the sandbox");
  }
  for (std::string_view reserved : {"/proc", "/dev"}) {
    if (path_is_under(path, reserved)) {
      return make_error("\"" + std::string(path) + "\" is under " + std::string(reserved) +
                        ", which the sandbox builds itself");
    }
  }
  return {};
}

bool path_is_under(std::string_view path, std::string_view dir) {
  if (dir == "/") {
    return !path.empty() && path[0] == '/';
  }
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir) {
    return false;
  }
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace bulkhead::config
