// The tenant the kernel event benchmarks run their loops in: read-only /usr,
// the test helpers (tests/helpers, built next to the benchmarks) at /helpers,
// a small tmpfs /tmp, and the id range given.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace bulkhead::bench {

// <build>/bench/<benchmark> -> <build>/test-helpers
inline std::string helper_dir() {
  return std::filesystem::canonical("/proc/self/exe").parent_path().parent_path().string() +
         "/test-helpers";
}

// `extra_filesystem` goes at the end of the `filesystem:` block (indented by two).
inline std::string bench_tenant_yaml(const std::string& tenant, uint32_t id_base,
                                     const std::string& extra_filesystem = "") {
  return "version: 1\ntenant: " + tenant + "\nids: {base: " + std::to_string(id_base) +
         ", count: 65536}\n"
         "filesystem:\n"
         "  read_only:\n"
         "    - /usr\n"
         "    - {source: " +
         helper_dir() +
         ", target: /helpers}\n"
         "  symlinks:\n"
         "    - {path: /bin, target: usr/bin}\n"
         "    - {path: /lib, target: usr/lib}\n"
         "    - {path: /lib64, target: usr/lib64}\n"
         "  tmpfs: [{target: /tmp, size: 16Mi}]\n" +
         extra_filesystem;
}

}  // namespace bulkhead::bench
