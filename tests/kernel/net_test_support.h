// Network namespaces for kernel tests, none of them the machine's own: a
// "host" namespace per test that stands in for the host, and tenant
// namespaces. Everything created inside a namespace disappears with it, so a
// failing test leaves no bridge, veth or address behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::testing {

// A new, empty network namespace with loopback up, held by an fd.
Result<UniqueFd> new_netns();

// Runs `body` on a thread inside `netns_fd` and waits for it.
void in_netns(int netns_fd, const std::function<void()>& body);

// Runs a command (e.g. {"ip", "neigh", ...}) in `netns_fd` and returns its exit
// status (127 when it cannot be started). Test scaffolding only: the agent
// itself talks netlink.
int run_in_netns(int netns_fd, const std::vector<std::string>& argv);

// Same, returning the command's stdout ("" when it fails).
std::string output_in_netns(int netns_fd, const std::vector<std::string>& argv);
// The MAC address of `name` ("aa:bb:..."), read with SIOCGIFHWADDR in the
// namespace (sysfs shows the namespace it was mounted from, not the thread's).
std::string mac_address(int netns_fd, const std::string& name);

// Interface names of the namespace (if_nameindex in the namespace).
std::vector<std::string> link_names(int netns_fd);
// Whether `name` has `address` (e.g. "10.233.0.2") and is up.
bool has_address_and_up(int netns_fd, const std::string& name, const std::string& address);

// Binds a UDP socket to address:port in `to_ns`, sends datagrams from a socket
// made in `from_ns` (so with its routes) every 100 ms and returns whether one
// arrived within `timeout_ms`.
bool udp_reaches(int from_ns, int to_ns, const std::string& address, uint16_t port,
                 int timeout_ms = 2000);

}  // namespace bulkhead::testing
