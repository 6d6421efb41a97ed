// Strict, error-collecting access to a yaml-cpp document for the profile parser.
//
// yaml-cpp itself is lenient in ways a security profile cannot be: it ignores
// keys nobody reads, keeps the first of two repeated keys, converts "yes" to
// true and reports problems by throwing. These helpers walk the document
// instead, so that every key is checked against the schema, every problem is
// recorded with its position and field path, and parsing carries on to find the
// next problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/profile_loader.h"

namespace bulkhead::config::detail {

// A value of the document together with where it was written.
struct Field {
  Field() = default;
  Field(std::string p, const YAML::Node& k, const YAML::Node& v)
      : path(std::move(p)), key(k), value(v) {}
  Field(const Field&) = default;
  // YAML::Node::operator= does not rebind: it overwrites the node it refers to,
  // changing the document. Fields are copied into optionals and vectors, so
  // assignment must rebind instead.
  Field& operator=(const Field& other);

  std::string path;  // "limits.memory.max"; empty for the root
  YAML::Node key;    // the mapping key it came from; a plain null node for items and the root
  YAML::Node value;

  // Where to point an error about the value. An empty value has the position of
  // whatever follows it (often the next line), so the key's position is used then.
  [[nodiscard]] YAML::Mark mark() const;
  [[nodiscard]] Field item(size_t index, const YAML::Node& v) const;
  [[nodiscard]] Field entry(const YAML::Node& k, const YAML::Node& v) const;
};

// The errors of one file.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}
  void add(const YAML::Mark& mark, std::string field, std::string message);
  void add(const Field& f, std::string message) { add(f.mark(), f.path, std::move(message)); }
  [[nodiscard]] size_t count() const { return errors_.size(); }
  // The errors in document order.
  std::vector<ProfileError> take();

 private:
  std::string file_;
  std::vector<ProfileError> errors_;
};

// The entries of a mapping with a fixed set of keys.
class MapFields {
 public:
  // Nullopt (reported) when `f` is not a mapping. Unknown, repeated and
  // non-scalar keys are reported and left out.
  static std::optional<MapFields> read(ErrorSink& sink, const Field& f,
                                       std::initializer_list<std::string_view> allowed);
  [[nodiscard]] const Field* get(std::string_view key) const;
  // Like get, but a missing key is reported at the mapping.
  const Field* require(ErrorSink& sink, std::string_view key) const;
  [[nodiscard]] const Field& self() const { return self_; }

 private:
  Field self_;
  std::vector<Field> entries_;  // document order
};

// The entries of a mapping whose keys are data (environment variables, rlimit
// names); repeated and non-scalar keys are reported and left out.
std::optional<std::vector<Field>> map_entries(ErrorSink& sink, const Field& f);
// The items of a sequence, with paths "x[0]", "x[1]", ...
std::optional<std::vector<Field>> seq_items(ErrorSink& sink, const Field& f);

// "a mapping", "a sequence", "an empty value", ...: for "expected X, got Y".
std::string describe(const YAML::Node& node);

// Typed scalars; each reports and returns nullopt on a wrong type or value.
std::optional<std::string> read_string(ErrorSink& sink, const Field& f);
std::optional<bool> read_bool(ErrorSink& sink, const Field& f);
std::optional<uint64_t> read_uint(ErrorSink& sink, const Field& f, uint64_t min, uint64_t max);
std::optional<uint64_t> read_size(ErrorSink& sink, const Field& f);
std::optional<uint64_t> read_duration_us(ErrorSink& sink, const Field& f);
// An absolute, canonical path (path_rules.h).
std::optional<std::string> read_path(ErrorSink& sink, const Field& f);
// A path inside the tenant where something is placed: also not "/", /proc or /dev.
std::optional<std::string> read_target(ErrorSink& sink, const Field& f);

}  // namespace bulkhead::config::detail
