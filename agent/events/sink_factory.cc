#include "events/sink_factory.h"

#include "events/json_line_sinks.h"
#include "events/syslog_sink.h"

namespace bulkhead::events {

Result<std::unique_ptr<Sink>> make_sink(const SinkSpec& spec, const std::string& host) {
  switch (spec.kind) {
    case SinkKind::kStdout:
      return std::unique_ptr<Sink>(std::make_unique<FdSink>(1, host));
    case SinkKind::kFile: {
      auto sink = FileSink::create(spec.path, spec.max_bytes, spec.keep, host);
      if (!sink.ok()) {
        return sink.error();
      }
      return std::unique_ptr<Sink>(std::move(*sink));
    }
    case SinkKind::kSyslogUnix:
    case SinkKind::kSyslogUdp:
    case SinkKind::kSyslogTcp: {
      auto sink = SyslogSink::create(spec, host);
      if (!sink.ok()) {
        return sink.error();
      }
      return std::unique_ptr<Sink>(std::move(*sink));
    }
  }
  return make_error("unhandled sink kind");
}

}  // namespace bulkhead::events
