#include "api/ctl_format.h"

#include <algorithm>
#include <cstdio>

#include "api/params.h"
#include "config/profile_loader.h"

namespace bulkhead::api::ctl {
namespace {

using nlohmann::json;

// Missing or mistyped members show as "-": a newer agent may change a record,
// and the table must still print.
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return "-";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  return dump_json(*it);
}

// The member, or null: never throws, whatever the agent sent.
json member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() ? *it : json();
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

const json& list(const json& j, const char* key) {
  static const json kEmpty = json::array();  // an immutable constant, not state
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

std::string hex(int64_t v) {
  char buf[32];
  (void)std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void key_value(std::string& out, const std::string& key, const std::string& value) {
  constexpr size_t kWidth = 19;
  std::string line = key + ":";
  line.resize(std::max(kWidth, line.size() + 1), ' ');
  // Multi-line values (kernel feature lists) continue under the value column.
  std::string shown;
  size_t start = 0;
  while (start <= value.size()) {
    size_t nl = value.find('\n', start);
    std::string part =
        value.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!shown.empty()) {
      shown += "\n" + std::string(kWidth, ' ');
    }
    shown += escape_cell(part);
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  out += line + shown + "\n";
}

}  // namespace

std::string escape_cell(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    char buf[8];
    if (c < 0x20 || c == 0x7f) {
      (void)std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      // C1 controls in UTF-8: some terminals take U+009B as CSI.
      (void)std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  cells.push_back(headers);
  for (const auto& r : rows) {
    std::vector<std::string> row;
    for (size_t i = 0; i < headers.size(); ++i) {
      row.push_back(escape_cell(i < r.size() ? r[i] : ""));
    }
    cells.push_back(std::move(row));
  }
  std::vector<size_t> width(headers.size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(width[i] - row[i].size() + 2, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string join_command(const json& argv) {
  if (!argv.is_array()) {
    return "-";
  }
  std::string out;
  for (const auto& a : argv) {
    std::string word = a.is_string() ? a.get<std::string>() : dump_json(a);
    bool plain = !word.empty() && word.find_first_of(" \t\n'\"\\$`*?&;|<>()") == std::string::npos;
    if (!out.empty()) {
      out += ' ';
    }
    if (plain) {
      out += word;
    } else {
      out += '\'';
      for (char c : word) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      }
      out += '\'';
    }
  }
  return out;
}

std::string format_duration_ms(int64_t ms) {
  int64_t s = std::max<int64_t>(ms, 0) / 1000;
  char buf[32];
  if (s < 60) {
    (void)std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    (void)std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                        static_cast<long long>(s % 60));
  } else if (s < 86400) {
    (void)std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                        static_cast<long long>(s % 3600 / 60));
  } else {
    (void)std::snprintf(buf, sizeof(buf), "%lldd%02lldh", static_cast<long long>(s / 86400),
                        static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string format_exit(const json& status) {
  if (!status.is_object()) {
    return "-";
  }
  auto signaled = status.find("signaled");
  int64_t code = num(status, "code");
  if (signaled != status.end() && signaled->is_boolean() && signaled->get<bool>()) {
    return "killed by " + signal_name(static_cast<int>(code));
  }
  return "exited " + std::to_string(code);
}

std::string format_status(const json& status, int64_t now_unix_ms) {
  std::string out;
  key_value(out, "api", str(status, "api"));
  key_value(out, "version", str(status, "version"));
  key_value(out, "pid", str(status, "pid"));
  int64_t started = num(status, "started_unix_ms");
  key_value(out, "uptime", started > 0 ? format_duration_ms(now_unix_ms - started) : "-");
  key_value(out, "tenants", str(status, "tenants"));
  key_value(out, "workloads running", str(status, "workloads_running"));
  key_value(out, "cgroup layout", str(status, "cgroup_layout"));
  key_value(out, "kernel features", str(status, "kernel_features"));
  const json events = member(status, "events");
  key_value(out, "events published", str(events, "published"));
  for (const auto& sink : list(events, "sinks")) {
    key_value(out, "event sink " + str(sink, "name"),
              str(sink, "written") + " written, " + str(sink, "dropped") +
                  " dropped (queue full), " + str(sink, "failed") + " failed, " +
                  str(sink, "queued") + " queued");
  }
  if (!status.contains("detection")) {
    return out;  // an agent older than detection rules
  }
  const json detection = member(status, "detection");
  const json& rules = list(detection, "rules");
  const std::string dir = text(detection, "rules_dir");
  key_value(
      out, "detection rules",
      std::to_string(rules.size()) + (dir.empty() ? " (no rules directory)" : " from " + dir));
  // Only the rules that fired: the list of every rule is in --json.
  for (const auto& rule : rules) {
    if (num(rule, "alerts") > 0 || num(rule, "suppressed") > 0) {
      key_value(out, "alerts " + str(rule, "name"),
                str(rule, "alerts") + " raised, " + str(rule, "suppressed") + " suppressed");
    }
  }
  return out;
}

std::string format_event(const json& record) {
  std::string out = str(record, "time") + " " + str(record, "type");
  std::string who = record.contains("tenant") ? str(record, "tenant") : "host";
  if (record.contains("workload")) {
    who += "/" + str(record, "workload");
  }
  out += " " + who;
  const json process = member(record, "process");
  if (process.contains("pid")) {
    out += " pid=" + str(process, "pid");
  }
  if (process.contains("exe")) {
    out += " exe=" + str(process, "exe");
  }
  const json fields = member(record, "fields");
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      out += " " + key + "=" + (value.is_string() ? value.get<std::string>() : dump_json(value));
    }
  }
  return escape_cell(out) + "\n";
}

std::string format_tenants(const json& result) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : list(result, "tenants")) {
    const json ids = member(t, "ids");
    const json net = member(t, "network");
    std::string address = str(net, "ipv4");
    if (str(net, "ipv6") != "-") {
      address += "," + str(net, "ipv6");
    }
    // Denials of the network policy, all hooks together (details: --json).
    int64_t denied = 0;
    const json counters = member(net, "counters");
    if (counters.is_object()) {
      for (const auto& [hook, counts] : counters.items()) {
        denied += num(counts, "denied");
      }
    }
    rows.push_back({str(t, "name"), hex(num(ids, "base")) + "+" + std::to_string(num(ids, "count")),
                    str(t, "workloads_running"), str(net, "mode"), address, std::to_string(denied),
                    str(t, "cgroup_path"), str(t, "profile_file")});
  }
  return render_table(
      {"TENANT", "IDS", "RUNNING", "NETWORK", "ADDRESS", "NET DENIED", "CGROUP", "PROFILE"}, rows);
}

std::string format_ps(const json& result, int64_t now_unix_ms) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : list(result, "workloads")) {
    const std::string state = str(w, "state");
    const int64_t pid = num(w, "pid");
    const int64_t started = num(w, "started_unix_ms");
    const bool running = state == "running" && started > 0;
    rows.push_back({str(w, "tenant"), str(w, "name"), str(w, "kind"), state,
                    pid > 0 ? std::to_string(pid) : "-", str(w, "restarts"),
                    running ? format_duration_ms(now_unix_ms - started) : "-",
                    format_exit(member(w, "last_exit")), join_command(member(w, "command"))});
  }
  return render_table(
      {"TENANT", "NAME", "KIND", "STATE", "PID", "RESTARTS", "UPTIME", "LAST EXIT", "COMMAND"},
      rows);
}

std::string format_reload(const json& result) {
  std::string out;
  for (const char* key : {"added", "removed", "updated", "unchanged"}) {
    std::string names;
    for (const auto& n : list(result, key)) {
      names += (names.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : dump_json(n));
    }
    key_value(out, key, names.empty() ? "-" : names);
  }
  return out;
}

std::vector<std::string> format_error(const ApiError& error) {
  std::vector<std::string> lines{escape_cell(error.message)};
  if (error.code != ErrorCode::kInvalidProfile || !error.details.is_array()) {
    return lines;
  }
  for (const auto& d : error.details) {
    if (!d.is_object()) {
      continue;
    }
    config::ProfileError pe;
    pe.file = text(d, "file");
    pe.line = static_cast<int>(num(d, "line"));
    pe.column = static_cast<int>(num(d, "column"));
    pe.field = text(d, "field");
    pe.message = text(d, "message");
    lines.push_back(escape_cell(pe.to_string()));
  }
  return lines;
}

}  // namespace bulkhead::api::ctl
