// The JSON-lines sinks: a file descriptor (stdout) and a file with size-based
// rotation (the same LogFile that keeps the workloads' logs). Lines are
// gathered into chunks so that a batch costs a few write() calls, not one
// per event; a chunk never exceeds the file's rotation size, so a line is
// never split across two files.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "daemon/log_file.h"
#include "events/sink.h"

namespace bulkhead::events {

class FdSink final : public Sink {
 public:
  // `fd` is borrowed (stdout); it must outlive the sink.
  FdSink(int fd, std::string host) : fd_(fd), host_(std::move(host)) {}
  void write(std::span<const EventPtr> batch, std::stop_token stop) override;

 private:
  int fd_;
  std::string host_;
  std::string chunk_;
};

class FileSink final : public Sink {
 public:
  // Fails when the file cannot be opened for appending now (a missing
  // directory, a typo), so that a bad path is refused at start-up.
  static Result<std::unique_ptr<FileSink>> create(const std::string& path, uint64_t max_bytes,
                                                  int keep, std::string host);
  void write(std::span<const EventPtr> batch, std::stop_token stop) override;
  [[nodiscard]] const daemon::LogFile& file() const { return file_; }

 private:
  FileSink(daemon::LogFile file, std::string host)
      : file_(std::move(file)), host_(std::move(host)) {}

  daemon::LogFile file_;
  std::string host_;
  std::string chunk_;
};

}  // namespace bulkhead::events
