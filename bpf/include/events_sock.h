/* Socket addresses read from the kernel's socket (listen/accept, where the
 * caller passes no address of its own). Written as struct sockaddr_in or
 * sockaddr_in6 so the decoder reads them like the user-supplied ones. */
#ifndef BULKHEAD_BPF_EVENTS_SOCK_H
#define BULKHEAD_BPF_EVENTS_SOCK_H

#include "events_common.h"

#define BH_AF_INET 2
#define BH_AF_INET6 10
#define BH_S_IFMT 00170000
#define BH_S_IFSOCK 0140000
/* Offsets in bh_syscall_record.extra: the local address, then the peer's. */
#define BH_SOCK_LOCAL 0
#define BH_SOCK_PEER 32

static __always_inline struct sock* bh_fd_sock(__u64 fd) {
  struct file* file = bh_fd_file(fd);
  if (!file) {
    return NULL;
  }
  umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & BH_S_IFMT) != BH_S_IFSOCK) {
    return NULL;
  }
  struct socket* sock = BPF_CORE_READ(file, private_data);
  return BPF_CORE_READ(sock, sk);
}

/* Writes the socket's local address at extra[BH_SOCK_LOCAL] and its peer's at
 * extra[BH_SOCK_PEER] (sockaddr_in/in6 layout, port in network order). */
static __always_inline void bh_sock_addrs(struct sock* sk, __u8* extra) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  __u16 local_port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
  __u16 peer_port = BPF_CORE_READ(sk, __sk_common.skc_dport);
  __u8* local = extra + BH_SOCK_LOCAL;
  __u8* peer = extra + BH_SOCK_PEER;
  *(__u16*)local = family;
  *(__u16*)peer = family;
  *(__u16*)(local + 2) = local_port;
  *(__u16*)(peer + 2) = peer_port;
  if (family == BH_AF_INET) {
    *(__u32*)(local + 4) = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    *(__u32*)(peer + 4) = BPF_CORE_READ(sk, __sk_common.skc_daddr);
  } else if (family == BH_AF_INET6) {
    /* sockaddr_in6: family, port, flowinfo (4 bytes), then the address. */
    BPF_CORE_READ_INTO(local + 8, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(peer + 8, sk, __sk_common.skc_v6_daddr);
  }
}

#endif
