#include "net/address_pool.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/atomic_file.h"
#include "common/file_util.h"
#include "config/cidr.h"
#include "config/profile_parser.h"

namespace bulkhead::net {
namespace {

using json = nlohmann::json;
constexpr int kStateVersion = 1;
constexpr uint64_t kGatewayIndex = 1;
constexpr uint64_t kFirstTenantIndex = 2;

// The prefix with `index` added to its host part (index fits the host bits).
InterfaceAddress with_index(const config::Cidr& prefix, uint64_t index) {
  InterfaceAddress a;
  a.family = prefix.family;
  a.addr = prefix.addr;
  a.prefix_len = prefix.prefix_len;
  size_t last = prefix.family == AF_INET ? 3 : 15;
  for (size_t i = 0; index != 0; ++i, index >>= 8) {
    a.addr[last - i] = static_cast<uint8_t>(a.addr[last - i] | (index & 0xff));
  }
  return a;
}

// The host index of `addr` in `prefix`, or nullopt when it is outside.
std::optional<uint64_t> index_in(const config::Cidr& prefix, const std::array<uint8_t, 4>& addr) {
  config::Cidr host;
  host.family = AF_INET;
  std::copy(addr.begin(), addr.end(), host.addr.begin());
  host.prefix_len = 32;
  if (!config::cidr_contains(prefix, host)) {
    return std::nullopt;
  }
  uint32_t a =
      (uint32_t{addr[0]} << 24) | (uint32_t{addr[1]} << 16) | (uint32_t{addr[2]} << 8) | addr[3];
  uint32_t mask = prefix.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix.prefix_len);
  return a & ~mask;
}

Status check_config(const PoolConfig& c) {
  if (c.ipv4.family != AF_INET || c.ipv4.prefix_len < 8 || c.ipv4.prefix_len > 30) {
    return make_error("the IPv4 pool must be an IPv4 prefix from /8 to /30, got " +
                      config::format_cidr(c.ipv4));
  }
  if (c.ipv6) {
    int host_bits = 32 - c.ipv4.prefix_len;
    if (c.ipv6->family != AF_INET6 || c.ipv6->prefix_len > 128 - host_bits) {
      return make_error("the IPv6 pool must be an IPv6 prefix with at least " +
                        std::to_string(host_bits) + " host bits (as many as the IPv4 pool), got " +
                        config::format_cidr(*c.ipv6));
    }
  }
  return {};
}

}  // namespace

std::string InterfaceAddress::address() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, addr.data(), buf, sizeof(buf));
  return buf;
}

std::string InterfaceAddress::to_string() const {
  return address() + "/" + std::to_string(prefix_len);
}

PoolConfig default_pool_config() {
  return {*config::parse_cidr("10.200.0.0/16"), *config::parse_cidr("fd00:b0b0::/64")};
}

Result<PoolConfig> parse_pool_config(const std::string& ipv4, const std::string& ipv6) {
  PoolConfig c;
  auto v4 = config::parse_cidr(ipv4);
  if (!v4.ok()) {
    return v4.error().context("IPv4 pool");
  }
  c.ipv4 = *v4;
  if (!ipv6.empty()) {
    auto v6 = config::parse_cidr(ipv6);
    if (!v6.ok()) {
      return v6.error().context("IPv6 pool");
    }
    c.ipv6 = *v6;
  }
  BULKHEAD_TRY(check_config(c));
  return c;
}

Result<std::unique_ptr<AddressPool>> AddressPool::open(const PoolConfig& config,
                                                       const std::string& state_file) {
  BULKHEAD_TRY(check_config(config));
  std::unique_ptr<AddressPool> pool(new AddressPool());
  pool->config_ = config;
  pool->state_file_ = state_file;
  // Index 0 is the network and the all-ones index is IPv4's broadcast address.
  pool->capacity_ = (uint64_t{1} << (32 - config.ipv4.prefix_len)) - 1;
  pool->gateway_ = pool->addresses_of(kGatewayIndex);

  auto text = read_file(state_file);
  if (!text.ok()) {
    if (text.error().code == ENOENT) {
      return pool;
    }
    return text.error().context("reading address state file");
  }
  auto corrupt = [&](const std::string& why) {
    return make_error("address state file " + state_file + " is corrupt: " + why);
  };
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("version") ||
      doc["version"] != kStateVersion || !doc.contains("tenants") || !doc["tenants"].is_object()) {
    return corrupt("expected {\"version\": 1, \"tenants\": {...}}");
  }
  std::set<uint64_t> used;
  for (const auto& [name, entry] : doc["tenants"].items()) {
    if (!config::detail::is_valid_name(name)) {
      return corrupt("\"" + name + "\" is not a tenant name");
    }
    if (!entry.is_object() || !entry.contains("ipv4") || !entry["ipv4"].is_string()) {
      return corrupt("tenant \"" + name + "\": expected {\"ipv4\": \"a.b.c.d\"}");
    }
    std::string a = entry["ipv4"].get<std::string>();
    std::array<uint8_t, 4> bytes{};
    if (::inet_pton(AF_INET, a.c_str(), bytes.data()) != 1) {
      return corrupt("tenant \"" + name + "\": \"" + a + "\" is not an IPv4 address");
    }
    auto index = index_in(config.ipv4, bytes);
    if (!index || *index < kFirstTenantIndex || *index >= pool->capacity_) {
      return make_error("address state file " + state_file + ": " + a + " of tenant \"" + name +
                        "\" is not a tenant address of the pool " +
                        config::format_cidr(config.ipv4) +
                        " (was the pool changed? remove the entry or restore the pool)");
    }
    if (!used.insert(*index).second) {
      return corrupt(a + " is assigned twice");
    }
    pool->assigned_.emplace(name, *index);
  }
  return pool;
}

TenantAddresses AddressPool::addresses_of(uint64_t index) const {
  TenantAddresses t;
  t.index = index;
  t.ipv4 = with_index(config_.ipv4, index);
  if (config_.ipv6) {
    t.ipv6 = with_index(*config_.ipv6, index);
  }
  return t;
}

std::optional<TenantAddresses> AddressPool::lookup(const std::string& tenant) const {
  auto it = assigned_.find(tenant);
  if (it == assigned_.end()) {
    return std::nullopt;
  }
  return addresses_of(it->second);
}

Result<TenantAddresses> AddressPool::acquire(const std::string& tenant) {
  if (auto known = lookup(tenant)) {
    return *known;
  }
  std::set<uint64_t> used;
  for (const auto& [name, index] : assigned_) {
    used.insert(index);
  }
  uint64_t index = kFirstTenantIndex;
  while (index < capacity_ && used.count(index) != 0) {
    ++index;
  }
  if (index >= capacity_) {
    return make_error("the address pool " + config::format_cidr(config_.ipv4) + " is exhausted (" +
                      std::to_string(assigned_.size()) + " tenants)");
  }
  assigned_.emplace(tenant, index);
  if (auto saved = save(); !saved.ok()) {
    assigned_.erase(tenant);
    return saved.error();
  }
  return addresses_of(index);
}

Status AddressPool::release(const std::string& tenant) {
  auto it = assigned_.find(tenant);
  if (it == assigned_.end()) {
    return {};
  }
  uint64_t index = it->second;
  assigned_.erase(it);
  if (auto saved = save(); !saved.ok()) {
    assigned_.emplace(tenant, index);
    return saved.error();
  }
  return {};
}

Status AddressPool::save() const {
  json doc = {{"version", kStateVersion},
              {"pool", config::format_cidr(config_.ipv4)},
              {"tenants", json::object()}};
  for (const auto& [name, index] : assigned_) {
    doc["tenants"][name] = {{"ipv4", with_index(config_.ipv4, index).address()}};
  }
  BULKHEAD_TRY_CTX(write_file_atomic(state_file_, doc.dump(2) + "\n", 0644),
                   "saving address state file " + state_file_);
  return {};
}

}  // namespace bulkhead::net
