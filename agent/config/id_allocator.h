// Host uid/gid ranges for tenants whose profile leaves `ids` out.
//
// A tenant's files (its data directory, anything it created) are owned by host
// ids of its range, so a range, once given, must stay with that tenant: across
// agent restarts, profile reordering, new tenants and even the tenant's profile
// being removed for a while. Assignments therefore persist in a small JSON file
// and are never handed to anyone else; removing a tenant for good is an
// operator's decision (delete its entry after cleaning up its files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::config {

// The pool automatic ranges come from, in blocks of kDefaultIdCount. It sits high
// above the ids distributions give to users and to systemd's dynamic and
// container ranges, and ends below (uid_t)-1 with room to spare.
inline constexpr uint32_t kIdPoolBegin = 0x70000000;
inline constexpr uint32_t kIdPoolEnd = 0x7FFE0000;  // one past the last id

// Assigns host uid/gid ranges to profiles whose `ids` is absent. Assignments persist in a JSON file
// (nlohmann-json) so a tenant keeps its range across agent restarts and profile reordering.
// Pool: [0x70000000, 0x7FFE0000) in blocks of kDefaultIdCount; never overlapping an explicit range
// of another profile, a persisted range of another tenant, or host ids < kFirstTenantHostId.
//
// The state file is written atomically (temporary file, fsync, rename, fsync of
// the directory) and only when an assignment was added. A missing file is an
// empty state; a file that cannot be parsed is an error naming it, never
// silently replaced. Errors are also: tenant names given twice, explicit ranges
// that overlap each other or a persisted range of another tenant, and an
// exhausted pool. On error `profiles` is left unchanged.
Status assign_id_ranges(std::vector<Profile>& profiles, const std::string& state_file);

}  // namespace bulkhead::config
