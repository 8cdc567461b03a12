/* The socket system calls nolibc 6.12 lacks (riscv32's numbers, asm-generic/unistd.h), and
 * the helpers the network applets share: addresses, ports, interface ioctls, /proc/net/dev. */
#include "net.h"

int sock_open(int type, int proto) { return __sysret(my_syscall3(__NR_socket, AF_INET, type, proto)); }

static struct sockaddr_in sin_of(unsigned int addr, unsigned short port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET, a.sin_port = net16(port), a.sin_addr = net32(addr);
  return a;
}

int sock_bind(int fd, unsigned int addr, unsigned short port) {
  struct sockaddr_in a = sin_of(addr, port);
  return __sysret(my_syscall3(__NR_bind, fd, &a, sizeof a));
}

int sock_listen(int fd, int backlog) { return __sysret(my_syscall2(__NR_listen, fd, backlog)); }

int sock_accept(int fd, struct sockaddr_in *peer) {
  int len = sizeof *peer;
  return __sysret(my_syscall3(__NR_accept, fd, peer, &len));
}

int sock_connect(int fd, unsigned int addr, unsigned short port) {
  struct sockaddr_in a = sin_of(addr, port);
  return __sysret(my_syscall3(__NR_connect, fd, &a, sizeof a));
}

long sock_sendto(int fd, const void *buf, size_t n, const struct sockaddr_in *to) {
  return __sysret(my_syscall6(__NR_sendto, fd, buf, n, 0, to, to ? sizeof *to : 0));
}

long sock_recvfrom(int fd, void *buf, size_t n, struct sockaddr_in *from) {
  int len = sizeof *from;
  return __sysret(my_syscall6(__NR_recvfrom, fd, buf, n, 0, from, from ? &len : 0));
}

long sock_recvmsg(int fd, struct msghdr_ *msg) { return __sysret(my_syscall3(__NR_recvmsg, fd, msg, 0)); }

int sock_setopt(int fd, int level, int name, int value) {
  return __sysret(my_syscall5(__NR_setsockopt, fd, level, name, &value, sizeof value));
}

int sock_shutdown(int fd, int how) { return __sysret(my_syscall2(__NR_shutdown, fd, how)); }

int sock_name(int fd, struct sockaddr_in *me) {
  int len = sizeof *me;
  return __sysret(my_syscall3(__NR_getsockname, fd, me, &len));
}

int poll_fds(struct pollfd *fds, int n, int timeout_ms) {
  struct ts64 t = {timeout_ms / 1000, (s64)(timeout_ms % 1000) * 1000000};
  return __sysret(my_syscall5(__NR_ppoll_time64, fds, n, timeout_ms < 0 ? 0 : &t, 0, 0));
}

int sock_send_all(int fd, const char *buf, size_t n) {
  while (n) {
    long w = __sysret(my_syscall6(__NR_sendto, fd, buf, n, 0x4000 /* MSG_NOSIGNAL */, 0, 0));
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w, n -= (size_t)w;
  }
  return 0;
}

int parse_ip(const char *s, unsigned int *addr) {
  unsigned int a = 0;
  for (int part = 0; part < 4; part++) {
    unsigned int v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) v = v * 10 + (unsigned)(*s++ - '0'), digits++;
    if (!digits || v > 255) return 0;
    a = a << 8 | v;
    if (part < 3 && *s++ != '.') return 0;
  }
  if (*s) return 0;
  *addr = a;
  return 1;
}

int parse_cidr(const char *s, unsigned int *addr, int *prefix) {
  char ip[20];
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  u64 p = 32;
  if (n >= sizeof ip) return 0;
  memcpy(ip, s, n), ip[n] = 0;
  if (!parse_ip(ip, addr) || (slash && (!parse_u64(slash + 1, &p) || p > 32))) return 0;
  *prefix = (int)p;
  return 1;
}

char *fmt_ip(char *buf, unsigned int addr) {
  char num[21];
  buf[0] = 0;
  for (int i = 3; i >= 0; i--) {
    strlcat(buf, fmt_u(num, (addr >> (i * 8)) & 255), 16);
    if (i) strlcat(buf, ".", 16);
  }
  return buf;
}

unsigned int prefix_mask(int prefix) { return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix); }

int mask_prefix(unsigned int mask) {
  int n = 0;
  while (n < 32 && (mask & (0x80000000u >> n))) n++;
  return n;
}

int parse_port(const char *s, unsigned short *port) {
  u64 v;
  if (!parse_u64(s, &v) || v > 65535) return 0;
  *port = (unsigned short)v;
  return 1;
}

int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr) {
  int fd = sock_open(SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  strlcpy(ifr->ifr_name, ifname, sizeof ifr->ifr_name);
  int r = ioctl(fd, req, ifr);
  int e = errno;
  close(fd);
  errno = e;
  return r < 0 ? -1 : 0;
}

int if_set_ip(const char *ifname, unsigned long req, unsigned int addr) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  struct sockaddr_in a = sin_of(addr, 0);
  memcpy(&ifr.u.addr, &a, sizeof a);
  return if_ioctl(ifname, req, &ifr);
}

int if_get_ip(const char *ifname, unsigned long req, unsigned int *addr) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (if_ioctl(ifname, req, &ifr) < 0) return -1;
  struct sockaddr_in a;
  memcpy(&a, &ifr.u.addr, sizeof a);
  *addr = net32(a.sin_addr);
  return 0;
}

int if_set_up(const char *ifname, int up) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (if_ioctl(ifname, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.u.flags = (short)(up ? ifr.u.flags | IFF_UP : ifr.u.flags & ~IFF_UP);
  return if_ioctl(ifname, SIOCSIFFLAGS, &ifr);
}

/* /proc/net/dev: two header lines, then "  eth0: rx-bytes packets errs drop fifo frame
 * compressed multicast tx-bytes packets errs drop fifo colls carrier compressed". */
int each_netdev(void (*fn)(const char *name, const u64 *rx, const u64 *tx, void *arg), void *arg) {
  static char text[4096];
  if (read_file("/proc/net/dev", text, sizeof text) < 0) return -1;
  char *line = text;
  for (int n = 0; *line; n++) {
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    char *colon = strchr(line, ':');
    if (n >= 2 && colon) {
      *colon = 0;
      while (*line == ' ') line++;
      u64 v[16] = {0};
      char *p = colon + 1;
      for (int i = 0; i < 16; i++) {
        while (*p == ' ') p++;
        while (*p >= '0' && *p <= '9') v[i] = v[i] * 10 + (u64)(*p++ - '0');
      }
      u64 rx[4] = {v[0], v[1], v[2], v[3]}, tx[4] = {v[8], v[9], v[10], v[11]};
      fn(line, rx, tx, arg);
    }
    if (!end) break;
    line = end + 1;
  }
  return 0;
}
