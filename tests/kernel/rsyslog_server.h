// A real rsyslogd for the syslog sink tests: its own config in a temp
// directory, listening on 127.0.0.1 (TCP and UDP on one free port) and on a
// Unix datagram socket, run in the foreground (-n) and killed when the object
// goes. It writes every message it receives as one line:
//   PRI|HOSTNAME|APP-NAME|PROCID|MSGID|STRUCTURED-DATA|MSG
// so the tests check what rsyslog parsed, not what we sent.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {

inline constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";

// A loopback port free for both TCP and UDP now (the server takes both): a TCP
// port the kernel picked, kept only if UDP can bind it too; bounded retries.
inline uint16_t free_loopback_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(tcp.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return 0;
    }
    if (::bind(udp.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
      return ntohs(a.sin_port);
    }
  }
  return 0;
}

class RsyslogServer {
 public:
  explicit RsyslogServer(uint16_t port) : port_(port) {
    std::ofstream(conf_path())
        << "global(workDirectory=\"" << dir_.path() << "\" maxMessageSize=\"64k\")\n"
        << "module(load=\"imtcp\")\n"
        << "module(load=\"imudp\")\n"
        << "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
        << "template(name=\"fields\" type=\"string\" string=\"%pri%|%hostname%|%app-name%|"
           "%procid%|%msgid%|%structured-data%|%msg%\\n\")\n"
        << "ruleset(name=\"out\") {\n"
        << "  action(type=\"omfile\" file=\"" << out_path() << "\" template=\"fields\")\n"
        << "}\n"
        << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_ << "\" ruleset=\"out\")\n"
        << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << port_
        << "\" ruleset=\"out\")\n"
        // The normal parser chain, so RFC 5424 is parsed as it is from the network.
        << "input(type=\"imuxsock\" socket=\"" << unix_path()
        << "\" useSpecialParser=\"off\" ratelimit.interval=\"0\" ruleset=\"out\")\n";
  }

  // Starts rsyslogd and waits (bounded) until it accepts TCP connections and
  // its Unix socket exists. False when it did not come up.
  bool start() {
    proc_ = std::make_unique<Proc>(std::vector<std::string>{kRsyslogd, "-n", "-f", conf_path(),
                                                            "-i", dir_.path() + "/rsyslogd.pid"});
    return wait_for(
               [&] {
                 if (proc_->exited()) {
                   return true;
                 }
                 UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                 sockaddr_in a{};
                 a.sin_family = AF_INET;
                 a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                 a.sin_port = htons(port_);
                 return ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                        std::filesystem::exists(unix_path());
               },
               milliseconds(10000)) &&
           !proc_->exited();
  }
  // Its stderr and stdout, for failure messages; stops it.
  std::string stop() {
    if (!proc_) {
      return "";
    }
    ::kill(proc_->pid(), SIGTERM);
    Output o = proc_->finish(milliseconds(5000));
    proc_.reset();
    return o.err + o.out;
  }
  ~RsyslogServer() { stop(); }

  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] std::string unix_path() const { return dir_.path() + "/log.sock"; }
  [[nodiscard]] std::string out_path() const { return dir_.path() + "/received.log"; }

  // The received lines, once there are at least `n` (bounded wait).
  std::vector<std::string> wait_lines(size_t n, milliseconds timeout = milliseconds(10000)) {
    std::vector<std::string> lines;
    wait_for(
        [&] {
          lines = received();
          return lines.size() >= n;
        },
        timeout);
    return lines;
  }

  [[nodiscard]] std::vector<std::string> received() const {
    std::ifstream in(out_path());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) {
      lines.push_back(l);
    }
    return lines;
  }

 private:
  [[nodiscard]] std::string conf_path() const { return dir_.path() + "/rsyslog.conf"; }

  TempDir dir_;
  uint16_t port_;
  std::unique_ptr<Proc> proc_;
};

}  // namespace bulkhead::testing
