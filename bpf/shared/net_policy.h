/* Shared between bpf/net_policy.bpf.c and agent/net: plain C, fixed widths.
 *
 * A tenant's whole network policy is ONE longest-prefix-match trie (see
 * docs/network.md). Its key starts with a kind byte (what is being judged and
 * the address family) followed by the address, so one lookup answers "egress
 * to 10.1.2.3", "ingress from fd00::1", "bind to 0.0.0.0" or "socket families".
 * Keeping everything in one map is what makes a reload atomic: the agent
 * builds a new trie and swaps it into the single slot of `policy`.
 */
#ifndef BULKHEAD_SHARED_NET_POLICY_H
#define BULKHEAD_SHARED_NET_POLICY_H

/* Upper bound of trie entries; the trie is not preallocated, so the bound
 * costs nothing until used. Every trie of the outer map must share it. */
#define BH_NET_MAX_ENTRIES (1 << 20)
/* Port ranges one trie entry can hold after merging covering rules. */
#define BH_NET_MAX_RANGES 16

/* Key kinds: the first data byte of every key. */
enum bh_net_kind {
  BH_KIND_EGRESS4 = 1, /* destination of connect/sendmsg/outgoing packet */
  BH_KIND_EGRESS6 = 2,
  BH_KIND_INGRESS4 = 3, /* source of an incoming packet */
  BH_KIND_INGRESS6 = 4,
  BH_KIND_BIND4 = 5, /* local address a socket binds */
  BH_KIND_BIND6 = 6,
  BH_KIND_CONFIG = 7, /* one entry, prefix 8: socket families */
};

/* Prefix length of a key = 8 (kind byte) + address bits. */
#define BH_KIND_BITS 8

struct bh_net_key {
  __u32 prefixlen;
  __u8 kind;
  __u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
  __u8 pad[3];   /* always zero */
};

enum bh_net_verdict {
  BH_VERDICT_DENY = 0,
  BH_VERDICT_ALLOW = 1,
};

/* Transport protocol bits of a range (same values as config::NetProtocol). */
#define BH_PROTO_TCP 1
#define BH_PROTO_UDP 2

struct bh_port_range {
  __u16 first; /* host order, inclusive */
  __u16 last;
  __u8 protocols; /* BH_PROTO_* bits */
  __u8 pad[3];
};

struct bh_net_value {
  __u8 verdict;     /* BH_VERDICT_*: a DENY entry is a protected range */
  __u8 nranges;     /* used entries of ranges[] */
  __u8 raw_sockets; /* CONFIG entry: SOCK_RAW allowed */
  __u8 pad[5];
  __u64 families; /* CONFIG entry: bit n = address family n may be created */
  struct bh_port_range ranges[BH_NET_MAX_RANGES];
};

/* Counter slots: hook * 2 + verdict. */
enum bh_net_hook {
  BH_HOOK_CONNECT4 = 0,
  BH_HOOK_CONNECT6,
  BH_HOOK_SENDMSG4,
  BH_HOOK_SENDMSG6,
  BH_HOOK_BIND4,
  BH_HOOK_BIND6,
  BH_HOOK_SOCK_CREATE,
  BH_HOOK_SKB_INGRESS,
  BH_HOOK_SKB_EGRESS,
  BH_HOOK_COUNT,
};
#define BH_NET_COUNTER_SLOTS (BH_HOOK_COUNT * 2)

/* One refused action, sent through the ring buffer (rate-limited). */
struct bh_net_deny_record {
  __u64 time_ns;   /* bpf_ktime_get_boot_ns() */
  __u64 cgroup_id; /* the acting socket's cgroup2 (a workload cgroup) */
  __u32 pid;       /* tgid; 0 for packets (no task context) */
  __u32 tid;
  char comm[16];
  __u32 suppressed; /* denies not reported since the previous record */
  __u8 hook;        /* bh_net_hook */
  __u8 family;      /* AF_INET / AF_INET6 as judged (mapped v6 is AF_INET) */
  __u8 protocol;    /* IPPROTO_*; sock_create: the socket type */
  __u8 pad;
  __u16 src_port; /* host order */
  __u16 dst_port;
  __u8 src_addr[16];
  __u8 dst_addr[16];
};

/* Token bucket for deny records, one per tenant (one object per tenant). */
struct bh_net_rate {
  struct bpf_spin_lock lock;
  __u32 tokens;
  __u64 last_ns;
  __u32 suppressed;
  __u32 pad;
};

#endif
