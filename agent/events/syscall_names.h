// Names for the raw numbers the kernel records carry: syscalls, flag bits,
// errno values, socket addresses. Pure functions, so the decoder's output can
// be tested without a kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::events {

// "openat" for SYS_openat; "syscall_<n>" for one this table does not name.
std::string syscall_name(long nr);
// "EPERM" for 1; "E<n>" for an unknown value.
std::string errno_name(int err);

// Set bits as a JSON array of names, unknown bits as one trailing hex value
// ("0x40000000"); arrays because that is the form the event fields hold.
nlohmann::json open_flag_names(uint64_t flags);   // O_ACCMODE gives O_RDONLY too
nlohmann::json clone_flag_names(uint64_t flags);  // CLONE_*, without the exit signal
// The namespaces CLONE_NEW* flags create: "user", "pid", "net", "mnt", ...
nlohmann::json namespace_names(uint64_t flags);
nlohmann::json mount_flag_names(uint64_t flags);
nlohmann::json umount_flag_names(uint64_t flags);
nlohmann::json memfd_flag_names(uint64_t flags);
std::string ptrace_request_name(long request);  // "PTRACE_ATTACH", or the number
std::string bpf_command_name(long cmd);         // "BPF_PROG_LOAD", or the number
std::string signal_name(int sig);               // "SIGSYS"
std::string octal_mode(uint32_t mode);          // "0644"

// A socket address as the kernel saw it: family name plus "address"/"port"
// (AF_INET, AF_INET6) or "path" (AF_UNIX; "@name" for the abstract
// namespace); written into `out` under the given key prefix ("" or "peer_").
// False, and nothing written, when the bytes are too short for the family.
bool describe_sockaddr(const uint8_t* data, size_t len, const std::string& prefix,
                       nlohmann::json& out);

}  // namespace bulkhead::events
