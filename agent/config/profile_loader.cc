// Entry points of the profile loader: text, file and directory, plus the checks
// that compare the profiles of one directory with each other.
#include "config/profile_loader.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <tuple>

#include "common/file_util.h"
#include "config/path_rules.h"
#include "config/profile_parser.h"

namespace bulkhead::config {
namespace {

// A profile is a few kilobytes; anything far larger is a mistake (or an attack
// on the parser), not a profile.
constexpr size_t kMaxProfileBytes = size_t{1024} * 1024;

ProfileError file_error(const std::string& file, std::string message) {
  return ProfileError{file, 0, 0, "", std::move(message)};
}

ProfileError error_at(const std::string& file, const YAML::Mark& mark, std::string field,
                      std::string message) {
  return ProfileError{file, mark.line >= 0 ? mark.line + 1 : 0,
                      mark.column >= 0 ? mark.column + 1 : 0, std::move(field), std::move(message)};
}

std::string where(const Profile& p, const std::optional<detail::Field>& f) {
  if (!f) {
    return p.source_file;
  }
  return p.source_file + ":" + std::to_string(f->mark().line + 1);
}

Result<std::string> read_profile_text(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) {
    return text.error();
  }
  if (text->size() > kMaxProfileBytes) {
    return make_error("larger than " + std::to_string(kMaxProfileBytes) + " bytes");
  }
  return text;
}

Result<std::vector<std::string>> list_profile_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return Error{ec.value(), "cannot list profile directory " + dir};
  }
  std::vector<std::string> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      return Error{ec.value(), "cannot list profile directory " + dir};
    }
    std::string name = it->path().filename().string();
    std::string ext = it->path().extension().string();
    // Hidden files are editor and tool leftovers (".alpha.yaml.swp", "._x.yaml").
    if (name[0] != '.' && (ext == ".yaml" || ext == ".yml")) {
      out.push_back(it->path().string());
    }
  }
  if (ec) {
    return Error{ec.value(), "cannot list profile directory " + dir};
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Loaded {
  Profile profile;
  detail::ProfileMarks marks;
  bool rejected = false;
};

// Tenants are separate only if names, host ids and data directories all differ.
void check_across(std::vector<Loaded>& loaded, std::vector<ProfileError>& errors) {
  for (size_t j = 0; j < loaded.size(); ++j) {
    Loaded& b = loaded[j];
    for (size_t i = 0; i < j; ++i) {
      const Loaded& a = loaded[i];
      if (a.rejected) {
        continue;
      }
      if (a.profile.name == b.profile.name) {
        errors.push_back(error_at(b.profile.source_file, b.marks.tenant->mark(), "tenant",
                                  "tenant \"" + b.profile.name + "\" is already defined in " +
                                      where(a.profile, a.marks.tenant)));
        b.rejected = true;
        continue;  // the same default data directory follows from the same name
      }
      if (a.profile.ids && b.profile.ids && a.profile.ids->overlaps(*b.profile.ids)) {
        errors.push_back(error_at(b.profile.source_file, b.marks.ids->mark(), "ids",
                                  "host ids " + std::to_string(b.profile.ids->base) + ".." +
                                      std::to_string(b.profile.ids->end() - 1) +
                                      " overlap those of tenant \"" + a.profile.name + "\" (" +
                                      where(a.profile, a.marks.ids) + ")"));
        b.rejected = true;
      }
      const std::string& da = a.profile.filesystem.data.host_path;
      const std::string& db = b.profile.filesystem.data.host_path;
      if (path_is_under(da, db) || path_is_under(db, da)) {
        const auto& mark = b.marks.data_host_path ? b.marks.data_host_path : b.marks.tenant;
        errors.push_back(error_at(b.profile.source_file, mark->mark(), "filesystem.data.host_path",
                                  "data directory " + db + " overlaps " + da + " of tenant \"" +
                                      a.profile.name + "\" (" + a.profile.source_file + ")"));
        b.rejected = true;
      }
    }
  }
}

}  // namespace

std::string ProfileError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) {
      out += ":" + std::to_string(column);
    }
  }
  out += ": ";
  if (!field.empty()) {
    out += field + ": ";
  }
  return out + message;
}

namespace detail {

ParsedProfile parse_profile_text(const std::string& text, const std::string& source_name) {
  ParsedProfile out;
  ErrorSink sink(source_name);
  try {
    // LoadAll, not Load: Load would silently ignore everything after a "---".
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.empty()) {
      sink.add(YAML::Mark::null_mark(), "", "no YAML document (the profile is empty)");
    } else if (docs.size() > 1) {
      sink.add(docs[1].Mark(), "",
               "a profile is one YAML document; found " + std::to_string(docs.size()));
    } else {
      Profile p = parse_profile(sink, docs[0], out.marks);
      p.source_file = source_name;
      out.profile = std::move(p);
    }
  } catch (const YAML::Exception& e) {
    sink.add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.add(YAML::Mark::null_mark(), "", std::string("cannot load profile: ") + e.what());
  }
  out.errors = sink.take();
  if (!out.errors.empty()) {
    out.profile.reset();
  }
  return out;
}

}  // namespace detail

ProfileLoadResult load_profile_string(const std::string& yaml_text,
                                      const std::string& source_name) {
  auto parsed = detail::parse_profile_text(yaml_text, source_name);
  return ProfileLoadResult{std::move(parsed.profile), std::move(parsed.errors)};
}

ProfileLoadResult load_profile_file(const std::string& path) {
  auto text = read_profile_text(path);
  if (!text.ok()) {
    return ProfileLoadResult{std::nullopt, {file_error(path, text.error().to_string())}};
  }
  return load_profile_string(*text, path);
}

ProfileSetResult load_profile_dir(const std::string& dir) {
  ProfileSetResult result;
  auto files = list_profile_files(dir);
  if (!files.ok()) {
    result.errors.push_back(file_error(dir, files.error().to_string()));
    return result;
  }
  std::vector<Loaded> loaded;
  for (const std::string& path : *files) {
    auto text = read_profile_text(path);
    if (!text.ok()) {
      result.errors.push_back(file_error(path, text.error().to_string()));
      continue;
    }
    auto parsed = detail::parse_profile_text(*text, path);
    result.errors.insert(result.errors.end(), parsed.errors.begin(), parsed.errors.end());
    if (parsed.profile) {
      loaded.push_back(Loaded{std::move(*parsed.profile), std::move(parsed.marks)});
    }
  }
  check_across(loaded, result.errors);
  // Grouped by file, in document order, however they were found.
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  for (Loaded& l : loaded) {
    if (!l.rejected) {
      result.profiles.push_back(std::move(l.profile));
    }
  }
  return result;
}

}  // namespace bulkhead::config
