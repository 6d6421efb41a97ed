#include "net/policy_trie.h"

#include <bpf/bpf.h>

#include <string>

#include "bpf/skeleton.h"

namespace bulkhead::net {

Result<UniqueFd> build_policy_trie(const CompiledPolicy& policy) {
  if (policy.entries.size() > BH_NET_MAX_ENTRIES) {
    return Error{E2BIG, "policy trie: " + std::to_string(policy.entries.size()) +
                            " entries, at most " + std::to_string(BH_NET_MAX_ENTRIES)};
  }
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bh_net_policy", sizeof(bh_net_key),
                          sizeof(bh_net_value), BH_NET_MAX_ENTRIES, &opts);
  if (fd < 0) {
    return bpf::libbpf_error(fd, "creating the policy trie");
  }
  UniqueFd trie(fd);
  for (const auto& e : policy.entries) {
    if (int err = bpf_map_update_elem(trie.get(), &e.key, &e.value, BPF_NOEXIST); err != 0) {
      return bpf::libbpf_error(
          err, "filling the policy trie (" + std::to_string(policy.entries.size()) + " entries)");
    }
  }
  return trie;
}

}  // namespace bulkhead::net
