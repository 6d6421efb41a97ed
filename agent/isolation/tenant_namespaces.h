// The namespaces a tenant's workloads share, like the sandbox of a pod: one user
// namespace (the uid boundary) plus the net, ipc and uts namespaces owned by it.
// They are held by nsfs file descriptors, not by a process, so no tenant-visible
// process keeps them alive and a second workload only has to setns() into them.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "config/profile.h"

namespace bulkhead::isolation {

class TenantNamespaces {
 public:
  // Creates the namespaces, maps tenant ids 0..count-1 to host ids base.., sets the
  // hostname and brings up loopback in the new network namespace. With ns.net
  // false (network mode host) no network namespace is made.
  static Result<std::unique_ptr<TenantNamespaces>> create(const config::IdRange& ids,
                                                          const std::string& hostname,
                                                          const config::Namespaces& ns);

  [[nodiscard]] int user_fd() const { return user_.get(); }
  [[nodiscard]] int net_fd() const { return net_.get(); }  // -1 in network mode host
  [[nodiscard]] int ipc_fd() const { return ipc_.get(); }
  [[nodiscard]] int uts_fd() const { return uts_.get(); }  // -1 when the profile shares the host's
  [[nodiscard]] const config::IdRange& ids() const { return ids_; }

 private:
  TenantNamespaces() = default;
  config::IdRange ids_;
  UniqueFd user_;
  UniqueFd net_;
  UniqueFd ipc_;
  UniqueFd uts_;
};

}  // namespace bulkhead::isolation
