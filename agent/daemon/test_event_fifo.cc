#include "daemon/test_event_fifo.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead::daemon {
namespace {

using nlohmann::json;

constexpr size_t kMaxLine = size_t{64} * 1024;

template <typename T>
Status take(const json& obj, const char* key, T& out) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return {};
  }
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return make_error(std::string(key) + ": wrong type");
  }
  return {};
}

}  // namespace

Result<events::Event> parse_test_event(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return make_error("not a JSON object");
  }
  events::Event e;
  std::string type;
  BULKHEAD_TRY(take(j, "type", type));
  auto t = events::parse_type(type);
  if (!t) {
    return make_error("type: unknown event type '" + type + "'");
  }
  e.type = *t;
  BULKHEAD_TRY(take(j, "tenant", e.tenant));
  BULKHEAD_TRY(take(j, "workload", e.workload));
  BULKHEAD_TRY(take(j, "time_ns", e.time_ns));
  if (auto p = j.find("process"); p != j.end()) {
    if (!p->is_object()) {
      return make_error("process: must be an object");
    }
    events::ProcessInfo& pi = e.process;
    BULKHEAD_TRY(take(*p, "pid", pi.pid));
    BULKHEAD_TRY(take(*p, "tid", pi.tid));
    BULKHEAD_TRY(take(*p, "ppid", pi.ppid));
    BULKHEAD_TRY(take(*p, "uid", pi.uid));
    BULKHEAD_TRY(take(*p, "gid", pi.gid));
    BULKHEAD_TRY(take(*p, "exe", pi.exe));
    BULKHEAD_TRY(take(*p, "comm", pi.comm));
    BULKHEAD_TRY(take(*p, "args", pi.args));
  }
  if (auto f = j.find("fields"); f != j.end()) {
    e.fields = *f;
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "type" && key != "tenant" && key != "workload" && key != "time_ns" &&
        key != "process" && key != "fields") {
      return make_error(key + ": unknown member");
    }
  }
  return e;
}

Result<std::unique_ptr<TestEventFifo>> TestEventFifo::open(EventLoop& loop, const std::string& path,
                                                           events::EventHandler handler) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    return errno_error("mkfifo " + path);
  }
  std::unique_ptr<TestEventFifo> fifo(new TestEventFifo(loop, std::move(handler)));
  // O_RDWR: the agent holds a writer itself, so writers coming and going never
  // make the FIFO read as end of file.
  fifo->fd_.reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!fifo->fd_) {
    return errno_error("open " + path);
  }
  struct stat st {};
  if (::fstat(fifo->fd_.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) {
    return make_error(path + ": not a FIFO");
  }
  TestEventFifo* self = fifo.get();
  BULKHEAD_TRY(loop.add_fd(fifo->fd_.get(), EPOLLIN, [self](uint32_t) { self->on_readable(); }));
  return fifo;
}

TestEventFifo::~TestEventFifo() {
  if (fd_) {
    loop_.remove_fd(fd_.get());
  }
}

void TestEventFifo::on_readable() {
  char buf[16384];
  ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
  if (n <= 0) {
    return;
  }
  partial_.append(buf, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = partial_.substr(start, nl - start);
    auto e = parse_test_event(line);
    if (!e.ok()) {
      spdlog::warn("test event FIFO: {}: skipped", e.error().to_string());
      continue;
    }
    handler_(std::move(*e));
  }
  partial_.erase(0, start);
  if (partial_.size() > kMaxLine) {
    spdlog::warn("test event FIFO: line longer than {} bytes: dropped", kMaxLine);
    partial_.clear();
  }
}

}  // namespace bulkhead::daemon
