#include "isolation/tenant.h"

#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"

namespace bulkhead::isolation {

Status ensure_data_dir(const config::Profile& profile) {
  const std::string& path = profile.filesystem.data.host_path;
  if (path.empty()) {
    return {};
  }
  auto slash = path.find_last_of('/');
  if (slash != 0 && slash != std::string::npos) {
    // The parents stay root-owned and traversable: the tenant's bind source is
    // resolved with the tenant's credentials.
    BULKHEAD_TRY(make_dirs(path.substr(0, slash), 0755));
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return errno_error("mkdir " + path);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno_error("stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error("data dir " + path + " exists and is not a directory");
  }
  uid_t owner = profile.ids->base;
  if ((st.st_uid != owner || st.st_gid != owner) && ::lchown(path.c_str(), owner, owner) != 0) {
    return errno_error("chown " + path + " to tenant root " + std::to_string(owner));
  }
  return {};
}

Result<std::unique_ptr<Tenant>> Tenant::create(const config::Profile& profile,
                                               cgroup::CgroupTree& tree,
                                               const TenantOptions& options) {
  if (!profile.ids) {
    return make_error("no uid/gid range assigned");
  }
  if (profile.network.mode == config::NetworkMode::kIsolated && options.network == nullptr) {
    return make_error("network mode isolated needs the agent's bridge and address pool");
  }
  std::unique_ptr<Tenant> tenant(new Tenant());
  tenant->profile_ = profile;
  // Validate everything before creating anything on the host. The data dir is
  // the one bind source the agent itself creates, so it is left out of this
  // first pass and checked in the real plan below.
  config::Profile without_data = profile;
  without_data.filesystem.data.target.clear();
  if (auto check = plan_sandbox(without_data, options.staging_dir); !check.ok()) {
    return check.error();
  }
  BULKHEAD_TRY_CTX(ensure_data_dir(profile), "data dir");
  auto plan = plan_sandbox(profile, options.staging_dir);
  if (!plan.ok()) {
    return plan.error();
  }
  tenant->plan_ = std::move(*plan);
  auto ns = TenantNamespaces::create(*profile.ids, profile.hostname, profile.namespaces);
  if (!ns.ok()) {
    return ns.error().context("namespaces");
  }
  tenant->namespaces_ = std::move(*ns);
  // Before any workload exists: a workload never sees a half-built network.
  if (options.network != nullptr) {
    auto net =
        options.network->attach(profile.name, profile.network.mode, tenant->namespaces_->net_fd());
    if (!net.ok()) {
      return net.error().context("network");
    }
    tenant->network_ = std::move(*net);
  } else {
    tenant->network_ = std::make_unique<net::TenantNetwork>();
    tenant->network_->mode = profile.network.mode;
  }
  auto cg = tree.create_tenant(profile.name, profile.limits);
  if (!cg.ok()) {
    return cg.error();
  }
  tenant->cgroup_ = std::move(*cg);
  return tenant;
}

Status Tenant::update_limits(const config::Limits& limits) {
  BULKHEAD_TRY(cgroup_->update_limits(limits));
  profile_.limits = limits;
  return {};
}

}  // namespace bulkhead::isolation
