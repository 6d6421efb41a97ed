#include "events/event_filter.h"

namespace bulkhead::events {

std::vector<std::string> EventFilter::type_names() const {
  std::vector<std::string> out;
  for (EventType t : all_types()) {
    if (types == 0 || (types & type_bit(t)) != 0) {
      out.emplace_back(type_name(t));
    }
  }
  return out;
}

std::string valid_types_text() {
  std::string out;
  for (EventType t : all_types()) {
    out += (out.empty() ? "" : ", ") + std::string(type_name(t));
  }
  return out;
}

Result<uint64_t> parse_type_filter(const std::vector<std::string>& names) {
  uint64_t bits = 0;
  for (const std::string& name : names) {
    if (auto t = parse_type(name)) {
      bits |= EventFilter::type_bit(*t);
      continue;
    }
    // "network.*": every type of that category.
    uint64_t category = 0;
    if (name.size() > 2 && name.ends_with(".*")) {
      const std::string_view prefix(name.data(), name.size() - 1);  // "network."
      for (EventType t : all_types()) {
        if (type_name(t).starts_with(prefix)) {
          category |= EventFilter::type_bit(t);
        }
      }
    }
    if (category == 0) {
      return make_error("unknown event type '" + name + "' (valid types: " + valid_types_text() +
                        "; or a category such as file.*)");
    }
    bits |= category;
  }
  return bits;
}

}  // namespace bulkhead::events
