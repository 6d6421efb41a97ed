#include "common/log.h"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace bulkhead {
namespace {

int libbpf_to_spdlog(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof(buf), format, args);
  std::string msg(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1) : 0);
  msg = msg.substr(0, msg.find_last_not_of('\n') + 1);
  switch (level) {
    case LIBBPF_WARN:
      spdlog::warn("libbpf: {}", msg);
      break;
    case LIBBPF_INFO:
      spdlog::info("libbpf: {}", msg);
      break;
    default:
      spdlog::trace("libbpf: {}", msg);
      break;
  }
  return n;
}

}  // namespace

Status init_logging(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return make_error("--log-level: unknown level '" + level +
                      "' (expected trace, debug, info, warn, error, critical or off)");
  }
  auto logger = spdlog::stderr_logger_mt("bulkhead");
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    logger->set_pattern("<%l> %v");  // journald stamps lines itself
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return {};
}

void bridge_libbpf_logging() { libbpf_set_print(libbpf_to_spdlog); }

}  // namespace bulkhead
