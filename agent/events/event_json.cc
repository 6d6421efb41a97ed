#include "events/event_json.h"

#include <rapidjson/writer.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>

namespace bulkhead::events {
namespace {

// Bytes the writer must escape: control characters, the quote, the backslash.
// (Bytes >= 0x80 are copied: strings are valid UTF-8 by the time they get here.)
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[static_cast<size_t>(c)] = true;
  }
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

// The writer's output: a growable buffer that a thread reuses from event to
// event (appended to the caller's string at the end). RapidJSON's own
// StringBuffer writes a character at a time through a pointer it keeps in
// memory, and since a char store may alias that pointer, every character
// becomes a load, a store and a store back (2-3x slower than the hand-written
// writer this replaced, measured). Storing as char8_t, which does not alias
// other types, lets the compiler keep the position in a register.
class LineStream {
 public:
  using Ch = char;

  void clear() { cur_ = data_.get(); }
  [[nodiscard]] std::string_view view() const {
    return {reinterpret_cast<const char*>(data_.get()), static_cast<size_t>(cur_ - data_.get())};
  }
  void reserve(size_t n) {
    if (static_cast<size_t>(end_ - cur_) < n) {
      grow(n);
    }
  }
  // Callers reserve first (PutReserve below).
  void put_unsafe(char c) { *cur_++ = static_cast<char8_t>(c); }
  // Copies the bytes before the first one that needs escaping and returns
  // where it stopped. Runs are short (names, path components): a byte loop
  // beats a call to memcpy per run.
  const char* copy_plain_unsafe(const char* p, const char* end) {
    char8_t* out = cur_;
    while (p != end && !kEscaped[static_cast<unsigned char>(*p)]) {
      *out++ = static_cast<char8_t>(*p++);
    }
    cur_ = out;
    return p;
  }

  // What RapidJSON's Writer calls.
  void Put(char c) {  // NOLINT(readability-identifier-naming): RapidJSON's stream concept
    reserve(1);
    put_unsafe(c);
  }
  void Flush() {}  // NOLINT(readability-identifier-naming)

 private:
  // Out of line: inlined into every Put() it made the Writer's small
  // functions save and restore six registers per call (13 % of the time per
  // event, measured).
  [[gnu::noinline, gnu::cold]] void grow(size_t n) {
    const size_t size = static_cast<size_t>(cur_ - data_.get());
    const size_t capacity =
        std::max({size_t{1024}, 2 * static_cast<size_t>(end_ - data_.get()), size + n});
    auto bigger = std::make_unique_for_overwrite<char8_t[]>(capacity);
    if (size > 0) {
      std::memcpy(bigger.get(), data_.get(), size);
    }
    data_ = std::move(bigger);
    cur_ = data_.get() + size;
    end_ = data_.get() + capacity;
  }

  std::unique_ptr<char8_t[]> data_;
  char8_t* cur_ = nullptr;
  char8_t* end_ = nullptr;
};

// RapidJSON's customisation points for a stream with a reserve, found by
// argument-dependent lookup: the Writer reserves the worst case for every
// string and number, then writes without checks.
inline void PutReserve(LineStream& s, size_t n) { s.reserve(n); }  // NOLINT
inline void PutUnsafe(LineStream& s, char c) { s.put_unsafe(c); }  // NOLINT

}  // namespace
}  // namespace bulkhead::events

namespace rapidjson {

// The Writer's hook for copying the part of a string that needs no escaping
// (RapidJSON specialises it with SSE2 for its StringBuffer): here a tight
// copy loop instead of the Writer's per-character dispatch. Escaping itself
// stays RapidJSON's.
template <>
inline bool Writer<bulkhead::events::LineStream>::ScanWriteUnescapedString(StringStream& is,
                                                                           size_t length) {
  const char* end = is.head_ + length;
  const char* p = os_->copy_plain_unsafe(is.src_, end);  // reserved by WriteString
  is.src_ = p;
  return p != end;
}

}  // namespace rapidjson

namespace bulkhead::events {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000ULL;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

using JsonWriter = rapidjson::Writer<LineStream>;

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0
// when it is not one (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return len;
}

// Index of the first byte >= 0x80, or s.size(). Almost every string in an
// event is ASCII; eight bytes are checked at a time.
size_t first_non_ascii(std::string_view s) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, s.data() + i, 8);
    if ((word & kHighBits) != 0) {
      break;
    }
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) {
    ++i;
  }
  return i;
}

// Index of the first byte that does not start a valid UTF-8 sequence, from
// `i` on, or s.size() when the rest is valid.
size_t first_invalid_utf8(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else if (size_t len = utf8_length(s, i); len > 0) {
      i += len;
    } else {
      return i;
    }
  }
  return i;
}

// RapidJSON copies bytes >= 0x80 as they are (it does not replace invalid
// UTF-8 unless asked to fail instead), so a string that is not valid UTF-8 is
// repaired first: every byte that does not start a valid sequence becomes
// U+FFFD. Only strings with such a byte pay for the copy.
void write_string(JsonWriter& w, std::string_view s, std::string& scratch) {
  size_t bad = first_non_ascii(s);
  if (bad < s.size()) {
    bad = first_invalid_utf8(s, bad);
  }
  if (bad == s.size()) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  scratch.assign(s.data(), bad);
  size_t i = bad;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      scratch.push_back(static_cast<char>(c));
      ++i;
    } else if (size_t len = utf8_length(s, i); len > 0) {
      scratch.append(s.data() + i, len);
      i += len;
    } else {
      scratch += kReplacement;
      ++i;
    }
  }
  w.String(scratch.data(), static_cast<rapidjson::SizeType>(scratch.size()));
}

// Our own member names: ASCII, nothing to repair.
template <size_t N>
void key(JsonWriter& w, const char (&name)[N]) {
  w.Key(name, N - 1);
}

// Exec ids are 64-bit: as strings, since JSON readers that use doubles (jq,
// JavaScript) would round them above 2^53. Digits need no escaping, so the
// quoted number goes in as it is.
void id_string(JsonWriter& w, uint64_t value) {
  std::array<char, 24> buf{};
  buf[0] = '"';
  auto [end, ec] = std::to_chars(buf.data() + 1, buf.data() + buf.size() - 1, value);
  (void)ec;  // 22 bytes hold any 64-bit integer
  *end++ = '"';
  w.RawValue(buf.data(), static_cast<size_t>(end - buf.data()), rapidjson::kStringType);
}

// Writes RFC 3339 UTC time into `buf` (at least kRfc3339Max bytes) and returns its length.
constexpr size_t kRfc3339Max = 32;
size_t rfc3339(char* buf, uint64_t unix_ns, int digits) {
  // The date and time of day change once a second; events come in bursts
  // within one, so the formatted prefix is cached per thread.
  constexpr size_t kPrefix = 19;  // 2026-11-23T18:22:15
  thread_local uint64_t cached_second = UINT64_MAX;
  thread_local std::array<char, kPrefix> cached_prefix{};
  const uint64_t second = unix_ns / kNsPerSecond;
  if (second != cached_second) {
    time_t t = static_cast<time_t>(second);
    tm parts{};
    ::gmtime_r(&t, &parts);
    // %Y is at least four digits; years past 9999 do not occur in event times.
    std::array<char, 32> tmp{};
    const size_t n = ::strftime(tmp.data(), tmp.size(), "%Y-%m-%dT%H:%M:%S", &parts);
    if (n != kPrefix) {
      std::memset(tmp.data(), '0', kPrefix);  // a year outside 0..9999
    }
    std::memcpy(cached_prefix.data(), tmp.data(), kPrefix);
    cached_second = second;
  }
  std::memcpy(buf, cached_prefix.data(), kPrefix);
  size_t n = kPrefix;
  if (digits > 0) {
    digits = std::min(digits, 9);
    uint64_t frac = unix_ns % kNsPerSecond;
    std::array<char, 9> f{};
    for (int i = 8; i >= 0; --i) {
      f[static_cast<size_t>(i)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    buf[n++] = '.';
    std::memcpy(buf + n, f.data(), static_cast<size_t>(digits));
    n += static_cast<size_t>(digits);
  }
  buf[n++] = 'Z';
  return n;
}

// The type's fields, walked with the writer: the same output as nlohmann's
// dump() with error_handler_t::replace, without a temporary string per event.
// Object members come in nlohmann's (sorted) order.
void write_value(JsonWriter& w, const nlohmann::json& v, std::string& scratch) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::object:
      w.StartObject();
      for (const auto& [k, member] : v.get_ref<const nlohmann::json::object_t&>()) {
        const size_t bad = first_non_ascii(k);
        if (bad == k.size() || first_invalid_utf8(k, bad) == k.size()) {
          w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        } else {
          // A key that needs repairing: String() writes the same quoted form.
          write_string(w, k, scratch);
        }
        write_value(w, member, scratch);
      }
      w.EndObject();
      return;
    case T::array:
      w.StartArray();
      for (const auto& element : v.get_ref<const nlohmann::json::array_t&>()) {
        write_value(w, element, scratch);
      }
      w.EndArray();
      return;
    case T::string:
      write_string(w, v.get_ref<const std::string&>(), scratch);
      return;
    case T::number_integer:
      w.Int64(v.get<int64_t>());
      return;
    case T::number_unsigned:
      w.Uint64(v.get<uint64_t>());
      return;
    case T::boolean:
      w.Bool(v.get<bool>());
      return;
    case T::null:
      w.Null();
      return;
    default: {
      // Floats (rare: alert scores) keep nlohmann's shortest round-trip form,
      // which differs from RapidJSON's for large and small exponents, and
      // NaN/infinity become null as nlohmann writes them; binary values too.
      const std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      w.RawValue(text.data(), text.size(),
                 v.is_number() ? rapidjson::kNumberType : rapidjson::kObjectType);
      return;
    }
  }
}

void write_process(JsonWriter& w, const ProcessInfo& p, std::string& scratch) {
  w.StartObject();
  key(w, "pid");
  w.Int(p.pid);
  if (p.tid != 0) {
    key(w, "tid");
    w.Int(p.tid);
  }
  if (p.ppid != 0) {
    key(w, "ppid");
    w.Int(p.ppid);
  }
  if (p.exec_id != 0) {
    key(w, "exec_id");
    id_string(w, p.exec_id);
  }
  if (p.parent_exec_id != 0) {
    key(w, "parent_exec_id");
    id_string(w, p.parent_exec_id);
  }
  if (!p.comm.empty()) {
    key(w, "comm");
    write_string(w, p.comm, scratch);
  }
  if (!p.exe.empty()) {
    key(w, "exe");
    write_string(w, p.exe, scratch);
  }
  if (!p.args.empty()) {
    key(w, "args");
    w.StartArray();
    for (const std::string& arg : p.args) {
      write_string(w, arg, scratch);
    }
    w.EndArray();
  }
  if (p.args_truncated) {
    key(w, "args_truncated");
    w.Bool(true);
  }
  if (!p.cwd.empty()) {
    key(w, "cwd");
    write_string(w, p.cwd, scratch);
  }
  // Ids are always known for a known process, and 0 is root: never omitted.
  key(w, "uid");
  w.Uint(p.uid);
  key(w, "gid");
  w.Uint(p.gid);
  key(w, "euid");
  w.Uint(p.euid);
  key(w, "egid");
  w.Uint(p.egid);
  if (p.uid_inside || p.gid_inside || p.euid_inside || p.egid_inside) {
    key(w, "inside");
    w.StartObject();
    if (p.uid_inside) {
      key(w, "uid");
      w.Uint(*p.uid_inside);
    }
    if (p.gid_inside) {
      key(w, "gid");
      w.Uint(*p.gid_inside);
    }
    if (p.euid_inside) {
      key(w, "euid");
      w.Uint(*p.euid_inside);
    }
    if (p.egid_inside) {
      key(w, "egid");
      w.Uint(*p.egid_inside);
    }
    w.EndObject();
  }
  if (!p.ancestry.empty()) {
    key(w, "ancestry");
    w.StartArray();
    for (uint64_t id : p.ancestry) {
      id_string(w, id);
    }
    w.EndArray();
  }
  w.EndObject();
}

void write_event(JsonWriter& w, const Event& event, std::string_view host, std::string& scratch) {
  w.StartObject();
  key(w, "schema");
  w.Int(kEventSchemaVersion);
  key(w, "time");
  std::array<char, kRfc3339Max + 2> time{};
  time[0] = '"';
  size_t n = 1 + rfc3339(time.data() + 1, event.time_ns, 9);
  time[n++] = '"';
  w.RawValue(time.data(), n, rapidjson::kStringType);
  key(w, "host");
  write_string(w, host, scratch);
  key(w, "type");
  const std::string_view type = type_name(event.type);
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  if (!event.tenant.empty()) {
    key(w, "tenant");
    write_string(w, event.tenant, scratch);
  }
  if (!event.workload.empty()) {
    key(w, "workload");
    write_string(w, event.workload, scratch);
  }
  // pid 0 is the idle task, never an actor: the event has no process (agent.drop).
  if (event.process.pid != 0) {
    key(w, "process");
    write_process(w, event.process, scratch);
  }
  if (!event.fields.is_null() && !(event.fields.is_object() && event.fields.empty())) {
    key(w, "fields");
    write_value(w, event.fields, scratch);
  }
  w.EndObject();
}

// One per thread (every sink has its own writer thread): the buffer, the
// writer's nesting stack and the repair scratch keep their memory from one
// event to the next, so serialising allocates nothing once warm.
struct Serialiser {
  LineStream stream;
  JsonWriter writer{stream};
  std::string scratch;

  JsonWriter& start() {
    stream.clear();
    writer.Reset(stream);
    return writer;
  }
  void finish(std::string& out) const { out += stream.view(); }
};

#ifdef __clang_analyzer__
// Seen only by clang-tidy's static analyzer, which models the thread_local's
// destructor as running inside the first call and then reports a use after
// free in RapidJSON's nesting stack. Declared but not defined here, the call
// is opaque to the analysis.
Serialiser& serialiser();
#else
Serialiser& serialiser() {
  thread_local Serialiser s;
  return s;
}
#endif

}  // namespace

void append_rfc3339(std::string& out, uint64_t unix_ns, int digits) {
  std::array<char, kRfc3339Max> buf{};
  out.append(buf.data(), rfc3339(buf.data(), unix_ns, digits));
}

std::string format_rfc3339(uint64_t unix_ns, int digits) {
  std::string out;
  append_rfc3339(out, unix_ns, digits);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  Serialiser& ser = serialiser();
  write_string(ser.start(), s, ser.scratch);
  ser.finish(out);
}

void append_event_json(std::string& out, const Event& event, std::string_view host) {
  Serialiser& ser = serialiser();
  write_event(ser.start(), event, host, ser.scratch);
  ser.finish(out);
}

std::string event_json_line(const Event& event, std::string_view host) {
  std::string out;
  out.reserve(512);
  append_event_json(out, event, host);
  out.push_back('\n');
  return out;
}

}  // namespace bulkhead::events
