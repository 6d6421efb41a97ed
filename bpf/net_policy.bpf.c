// A tenant's network boundary, attached (bpf_link) to the tenant's cgroup2
// directory; one instance of this object per tenant. docs/network.md is the
// design; in short:
//  - cgroup/connect4/6 (TCP, connected UDP), cgroup/sendmsg4/6 (unconnected
//    UDP) judge the destination against the egress entries of the policy trie;
//  - cgroup/bind4/6 judge the local address and port against the bind entries;
//  - cgroup/sock_create checks the address family and SOCK_RAW;
//  - cgroup_skb/egress and ingress judge every packet again (the backstop for
//    paths the socket hooks do not see).
// A refused socket call returns 0 from its hook, which the kernel turns into
// EPERM; a refused packet is dropped.
//
// Verdict order for an address: decode IPv4-mapped IPv6 as IPv4; look up the
// longest matching prefix; no entry or a DENY entry (a protected range) is a
// deny; an ALLOW entry allows when one of its port ranges holds the port for
// the protocol. The agent compiles the profile so that the one entry found
// already carries every port a covering grant allows.

// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "net_policy.h"
// clang-format on

#define AF_INET 2
#define AF_INET6 10
#define SOCK_RAW 3
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

// Deny records: `rate_per_sec` tokens per second, at most `rate_burst` stored.
const volatile __u32 rate_per_sec = 20;
const volatile __u32 rate_burst = 40;

struct policy_trie {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, BH_NET_MAX_ENTRIES);
  // Sizes rather than types: clang emits the key struct of a map nested in
  // __array() as a forward declaration only, which libbpf cannot size.
  __uint(key_size, sizeof(struct bh_net_key));
  __uint(value_size, sizeof(struct bh_net_value));
  __uint(map_flags, BPF_F_NO_PREALLOC);
};

// The tenant's policy: one slot holding the current trie. Swapping the slot is
// the atomic reload. An empty slot denies everything (fail closed).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, struct policy_trie);
} policy SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, BH_NET_COUNTER_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} deny_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct bh_net_rate);
} deny_rate SEC(".maps");

// Unconnected (UDP) sockets that sent an allowed datagram: their incoming
// packets may be replies, judged by the egress entries (the peer the tenant may
// reach) as well as the ingress ones. Connected sockets need no mark: the
// kernel delivers to them only what matches their 4-tuple, so their state says
// it (see bh_skb_ingress); that keeps connect() free of storage allocation.
struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u8);
} talked_out SEC(".maps");

static __always_inline void count(__u32 hook, int allowed) {
  __u32 slot = hook * 2 + (allowed ? 1 : 0);
  __u64* c = bpf_map_lookup_elem(&counters, &slot);
  if (c) {
    *c += 1;  // per-CPU: no atomics needed
  }
}

static __always_inline void* current_policy(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&policy, &zero);
}

static __always_inline __u8 proto_bit(__u8 ipproto) {
  if (ipproto == IPPROTO_TCP) {
    return BH_PROTO_TCP;
  }
  if (ipproto == IPPROTO_UDP) {
    return BH_PROTO_UDP;
  }
  return 0;
}

// `any_port`: judge by address and protocol only (ICMP, non-first fragments).
static __always_inline int judge(void* trie, struct bh_net_key* key, __u16 port, __u8 proto,
                                 int any_port) {
  struct bh_net_value* v = bpf_map_lookup_elem(trie, key);
  if (!v || v->verdict != BH_VERDICT_ALLOW) {
    return 0;
  }
  for (int i = 0; i < BH_NET_MAX_RANGES; i++) {
    if (i >= v->nranges) {
      break;
    }
    struct bh_port_range* r = &v->ranges[i];
    if (any_port) {
      if (proto == 0 || (r->protocols & proto)) {
        return 1;
      }
      continue;
    }
    if ((r->protocols & proto) && port >= r->first && port <= r->last) {
      return 1;
    }
  }
  return 0;
}

static __always_inline void key_v4(struct bh_net_key* key, __u8 kind, __u32 addr_be) {
  __builtin_memset(key, 0, sizeof(*key));
  key->prefixlen = BH_KIND_BITS + 32;
  key->kind = kind;
  __builtin_memcpy(key->addr, &addr_be, 4);
}

// Fills an IPv6 key, or an IPv4 one (kind - 1) for ::ffff:a.b.c.d. Returns
// the family judged.
static __always_inline int key_v6(struct bh_net_key* key, __u8 kind6, const __u32 a[4]) {
  if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff)) {
    key_v4(key, kind6 - 1, a[3]);
    return AF_INET;
  }
  __builtin_memset(key, 0, sizeof(*key));
  key->prefixlen = BH_KIND_BITS + 128;
  key->kind = kind6;
  __builtin_memcpy(key->addr, a, 16);
  return AF_INET6;
}

// Token bucket: one record per token; a record carries how many denies were
// dropped since the last one sent.
static __always_inline int take_token(__u32* suppressed) {
  __u32 zero = 0;
  struct bh_net_rate* r = bpf_map_lookup_elem(&deny_rate, &zero);
  if (!r) {
    return 0;
  }
  __u64 now = bpf_ktime_get_boot_ns();
  int ok = 0;
  bpf_spin_lock(&r->lock);
  __u64 elapsed = now - r->last_ns;
  __u64 refill = elapsed / (1000000000ULL / (rate_per_sec ? rate_per_sec : 1));
  if (refill > 0) {
    __u64 t = r->tokens + refill;
    r->tokens = t > rate_burst ? rate_burst : t;
    r->last_ns = now;
  }
  if (r->tokens > 0) {
    r->tokens -= 1;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    ok = 1;
  } else {
    r->suppressed += 1;
  }
  bpf_spin_unlock(&r->lock);
  return ok;
}

struct deny_info {
  __u8 hook;
  __u8 family;
  __u8 protocol;
  __u16 src_port;
  __u16 dst_port;
  const void* src;  // 4 or 16 bytes by family; NULL = unknown
  const void* dst;
};

static __always_inline void report(const struct deny_info* d, __u64 cgroup_id, int has_task) {
  __u32 suppressed = 0;
  if (!take_token(&suppressed)) {
    return;
  }
  struct bh_net_deny_record* e = bpf_ringbuf_reserve(&deny_events, sizeof(*e), 0);
  if (!e) {
    return;
  }
  __builtin_memset(e, 0, sizeof(*e));
  e->time_ns = bpf_ktime_get_boot_ns();
  e->cgroup_id = cgroup_id;
  if (has_task) {
    __u64 pt = bpf_get_current_pid_tgid();
    e->pid = pt >> 32;
    e->tid = (__u32)pt;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
  }
  e->suppressed = suppressed;
  e->hook = d->hook;
  e->family = d->family;
  e->protocol = d->protocol;
  e->src_port = d->src_port;
  e->dst_port = d->dst_port;
  if (d->family == AF_INET) {
    if (d->src) {
      __builtin_memcpy(e->src_addr, d->src, 4);
    }
    if (d->dst) {
      __builtin_memcpy(e->dst_addr, d->dst, 4);
    }
  } else {
    if (d->src) {
      __builtin_memcpy(e->src_addr, d->src, 16);
    }
    if (d->dst) {
      __builtin_memcpy(e->dst_addr, d->dst, 16);
    }
  }
  bpf_ringbuf_submit(e, 0);
}

// --- socket address hooks ---------------------------------------------------

static __always_inline void mark_talked_out(struct bpf_sock_addr* ctx) {
  struct bpf_sock* sk = ctx->sk;
  if (sk) {
    bpf_sk_storage_get(&talked_out, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  }
}

// connect4/sendmsg4 (egress) and bind4: judge user_ip4:user_port.
static __always_inline int sock_addr4(struct bpf_sock_addr* ctx, __u8 kind, __u8 hook, int egress) {
  void* trie = current_policy();
  __u32 addr = ctx->user_ip4;
  __u16 port = bpf_ntohs((__u16)ctx->user_port);
  __u8 proto = (__u8)ctx->protocol;
  int ok = 0;
  if (trie) {
    struct bh_net_key key;
    key_v4(&key, kind, addr);
    // Port 0 at bind: the kernel picks an ephemeral port (every client socket
    // that binds first); new inbound flows to it meet cgroup_skb/ingress.
    ok = (!egress && port == 0) || judge(trie, &key, port, proto_bit(proto), 0);
  }
  count(hook, ok);
  if (ok) {
    if (hook == BH_HOOK_SENDMSG4 || hook == BH_HOOK_SENDMSG6) {
      mark_talked_out(ctx);
    }
    return 1;
  }
  struct deny_info d = {.hook = hook, .family = AF_INET, .protocol = proto};
  if (egress) {
    d.dst = &addr;
    d.dst_port = port;
  } else {
    d.src = &addr;
    d.src_port = port;
  }
  report(&d, bpf_get_current_cgroup_id(), 1);
  return 0;
}

static __always_inline int sock_addr6(struct bpf_sock_addr* ctx, __u8 kind6, __u8 hook,
                                      int egress) {
  void* trie = current_policy();
  __u32 addr[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
  __u16 port = bpf_ntohs((__u16)ctx->user_port);
  __u8 proto = (__u8)ctx->protocol;
  struct bh_net_key key;
  int family = key_v6(&key, kind6, addr);
  int ok = 0;
  if (trie) {
    ok = (!egress && port == 0) || judge(trie, &key, port, proto_bit(proto), 0);
  }
  count(hook, ok);
  if (ok) {
    if (hook == BH_HOOK_SENDMSG4 || hook == BH_HOOK_SENDMSG6) {
      mark_talked_out(ctx);
    }
    return 1;
  }
  struct deny_info d = {.hook = hook, .family = (__u8)family, .protocol = proto};
  const void* a = family == AF_INET ? (const void*)&addr[3] : (const void*)addr;
  if (egress) {
    d.dst = a;
    d.dst_port = port;
  } else {
    d.src = a;
    d.src_port = port;
  }
  report(&d, bpf_get_current_cgroup_id(), 1);
  return 0;
}

SEC("cgroup/connect4")
int bh_connect4(struct bpf_sock_addr* ctx) {
  return sock_addr4(ctx, BH_KIND_EGRESS4, BH_HOOK_CONNECT4, 1);
}

SEC("cgroup/connect6")
int bh_connect6(struct bpf_sock_addr* ctx) {
  return sock_addr6(ctx, BH_KIND_EGRESS6, BH_HOOK_CONNECT6, 1);
}

SEC("cgroup/sendmsg4")
int bh_sendmsg4(struct bpf_sock_addr* ctx) {
  return sock_addr4(ctx, BH_KIND_EGRESS4, BH_HOOK_SENDMSG4, 1);
}

SEC("cgroup/sendmsg6")
int bh_sendmsg6(struct bpf_sock_addr* ctx) {
  return sock_addr6(ctx, BH_KIND_EGRESS6, BH_HOOK_SENDMSG6, 1);
}

SEC("cgroup/bind4")
int bh_bind4(struct bpf_sock_addr* ctx) { return sock_addr4(ctx, BH_KIND_BIND4, BH_HOOK_BIND4, 0); }

SEC("cgroup/bind6")
int bh_bind6(struct bpf_sock_addr* ctx) { return sock_addr6(ctx, BH_KIND_BIND6, BH_HOOK_BIND6, 0); }

// --- socket families ----------------------------------------------------------

SEC("cgroup/sock_create")
int bh_sock_create(struct bpf_sock* ctx) {
  void* trie = current_policy();
  int ok = 0;
  __u32 family = ctx->family;
  __u32 type = ctx->type;
  if (trie) {
    struct bh_net_key key = {.prefixlen = BH_KIND_BITS, .kind = BH_KIND_CONFIG};
    struct bh_net_value* v = bpf_map_lookup_elem(trie, &key);
    if (v && family < 64 && (v->families & (1ULL << family)) &&
        (type != SOCK_RAW || v->raw_sockets)) {
      ok = 1;
    }
  }
  count(BH_HOOK_SOCK_CREATE, ok);
  if (!ok) {
    struct deny_info d = {
        .hook = BH_HOOK_SOCK_CREATE, .family = (__u8)family, .protocol = (__u8)type};
    report(&d, bpf_get_current_cgroup_id(), 1);
  }
  return ok;
}

// --- per-packet backstop ------------------------------------------------------

struct packet {
  int family;
  __u8 proto;    // IPPROTO_*
  int any_port;  // no ports to judge: not TCP/UDP, or a non-first fragment
  __u16 sport, dport;
  __u32 saddr[4], daddr[4];  // IPv4 in [0]
};

static __always_inline int parse(struct __sk_buff* skb, struct packet* p) {
  __builtin_memset(p, 0, sizeof(*p));
  __u32 l4 = 0;
  if (skb->protocol == bpf_htons(ETH_P_IP)) {
    struct iphdr ip;
    if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0) {
      return -1;
    }
    p->family = AF_INET;
    p->proto = ip.protocol;
    p->saddr[0] = ip.saddr;
    p->daddr[0] = ip.daddr;
    l4 = ip.ihl * 4;
    if (bpf_ntohs(ip.frag_off) & 0x1fff) {
      p->any_port = 1;
      return 0;
    }
  } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr ip6;
    if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0) {
      return -1;
    }
    p->family = AF_INET6;
    p->proto = ip6.nexthdr;  // extension headers: judged by address only
    __builtin_memcpy(p->saddr, &ip6.saddr, 16);
    __builtin_memcpy(p->daddr, &ip6.daddr, 16);
    l4 = sizeof(ip6);
  } else {
    return 1;  // not IP: nothing to judge
  }
  if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) {
    p->any_port = 1;
    return 0;
  }
  __u16 ports[2];
  if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)) < 0) {
    return -1;
  }
  p->sport = bpf_ntohs(ports[0]);
  p->dport = bpf_ntohs(ports[1]);
  return 0;
}

static __always_inline void packet_key(struct bh_net_key* key, const struct packet* p, __u8 kind4,
                                       const __u32* addr) {
  if (p->family == AF_INET) {
    key_v4(key, kind4, addr[0]);
  } else {
    key_v6(key, kind4 + 1, addr);
  }
}

static __always_inline void report_packet(struct __sk_buff* skb, const struct packet* p,
                                          __u8 hook) {
  struct deny_info d = {.hook = hook,
                        .family = (__u8)p->family,
                        .protocol = p->proto,
                        .src_port = p->sport,
                        .dst_port = p->dport,
                        .src = p->saddr,
                        .dst = p->daddr};
  report(&d, bpf_skb_cgroup_id(skb), 0);
}

// Outgoing packet: allowed to a destination the tenant may reach, or as the
// answer of a flow the ingress rules admitted (source port = listening port).
SEC("cgroup_skb/egress")
int bh_skb_egress(struct __sk_buff* skb) {
  struct packet p;
  int r = parse(skb, &p);
  if (r == 1) {
    return 1;
  }
  void* trie = current_policy();
  int ok = 0;
  if (r == 0 && trie) {
    struct bh_net_key key;
    __u8 bit = proto_bit(p.proto);
    packet_key(&key, &p, BH_KIND_EGRESS4, p.daddr);
    ok = judge(trie, &key, p.dport, bit, p.any_port);
    if (!ok) {
      packet_key(&key, &p, BH_KIND_INGRESS4, p.daddr);
      ok = judge(trie, &key, p.sport, bit, p.any_port);
    }
  }
  count(BH_HOOK_SKB_EGRESS, ok);
  if (!ok) {
    report_packet(skb, &p, BH_HOOK_SKB_EGRESS);
  }
  return ok;
}

// Incoming packet: a new flow must come from a source an ingress rule admits
// to the local port; a socket that talked out also takes replies from peers
// the egress rules let it reach (source port = the peer's port).
SEC("cgroup_skb/ingress")
int bh_skb_ingress(struct __sk_buff* skb) {
  struct packet p;
  int r = parse(skb, &p);
  if (r == 1) {
    return 1;
  }
  void* trie = current_policy();
  int ok = 0;
  if (r == 0 && trie) {
    struct bh_net_key key;
    __u8 bit = proto_bit(p.proto);
    packet_key(&key, &p, BH_KIND_INGRESS4, p.saddr);
    ok = judge(trie, &key, p.dport, bit, p.any_port);
    if (!ok) {
      struct bpf_sock* sk = skb->sk;
      if (sk) {
        sk = bpf_sk_fullsock(sk);
      }
      // A connected socket (TCP past LISTEN, or connected UDP) only receives
      // its peer's packets; an unconnected one only counts if it sent first.
      if (sk && ((sk->state != BPF_TCP_LISTEN && sk->state != BPF_TCP_CLOSE) ||
                 bpf_sk_storage_get(&talked_out, sk, 0, 0))) {
        packet_key(&key, &p, BH_KIND_EGRESS4, p.saddr);
        ok = judge(trie, &key, p.sport, bit, p.any_port);
      }
    }
  }
  count(BH_HOOK_SKB_INGRESS, ok);
  if (!ok) {
    report_packet(skb, &p, BH_HOOK_SKB_INGRESS);
  }
  return ok;
}

char LICENSE[] SEC("license") = "GPL";
