// A filled policy trie, ready to be swapped into a tenant's `policy` slot. It
// is a map of its own (created with the same definition as the slot's inner
// map), so a new policy is built completely before anything sees it.
#pragma once

#include "common/result.h"
#include "common/unique_fd.h"
#include "net/policy_compiler.h"

namespace bulkhead::net {

// Creates an LPM trie map and inserts every entry; ENOSPC-style failures name
// the entry count. The fd is the only reference until it is installed.
Result<UniqueFd> build_policy_trie(const CompiledPolicy& policy);

}  // namespace bulkhead::net
