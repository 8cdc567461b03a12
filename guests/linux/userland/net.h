/*
 * The network applets' declarations: the socket system calls nolibc 6.12 lacks, and the
 * structures and numbers of the kernel's socket ABI. They are spelled out here rather than
 * taken from <linux/if.h> and <linux/route.h>, which expect a libc's <sys/socket.h>.
 * Values from include/uapi/linux/{in,if,sockios,route,icmp}.h and include/linux/socket.h.
 */
#ifndef NET_H
#define NET_H

#include "box.h"

#define AF_INET 2
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_CLOEXEC 02000000
#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SOL_IP 0
#define IP_TTL 2
#define IP_RECVTTL 12
#define SHUT_WR 1
#define INADDR_ANY 0u

/* ioctls on a socket (include/uapi/linux/sockios.h) */
#define SIOCADDRT 0x890B
#define SIOCDELRT 0x890C
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCGIFADDR 0x8915
#define SIOCSIFADDR 0x8916
#define SIOCGIFBRDADDR 0x8919
#define SIOCSIFBRDADDR 0x891a
#define SIOCGIFNETMASK 0x891b
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFMTU 0x8921
#define SIOCSIFMTU 0x8922
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933

/* net_device_flags (include/uapi/linux/if.h) */
#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_POINTOPOINT 0x10
#define IFF_RUNNING 0x40
#define IFF_NOARP 0x80
#define IFF_PROMISC 0x100
#define IFF_MULTICAST 0x1000
#define IFF_LOWER_UP 0x10000

#define RTF_UP 0x0001
#define RTF_GATEWAY 0x0002
#define RTF_HOST 0x0004

struct sockaddr {
  unsigned short sa_family;
  char sa_data[14];
};
struct sockaddr_in {
  unsigned short sin_family;
  unsigned short sin_port; /* network order */
  unsigned int sin_addr;   /* network order */
  unsigned char sin_zero[8];
};
struct ifreq {
  char ifr_name[16];
  union {
    struct sockaddr addr; /* ifr_addr, ifr_netmask, ifr_broadaddr, ifr_hwaddr */
    short flags;
    int ivalue; /* ifr_mtu, ifr_ifindex */
    char pad[16];
  } u;
};
struct rtentry { /* the 32-bit layout */
  unsigned long rt_pad1;
  struct sockaddr rt_dst, rt_gateway, rt_genmask;
  unsigned short rt_flags;
  short rt_pad2;
  unsigned long rt_pad3;
  void *rt_pad4;
  short rt_metric;
  char *rt_dev;
  unsigned long rt_mtu, rt_window;
  unsigned short rt_irtt;
};
struct iovec_ {
  void *base;
  size_t len;
};
struct msghdr_ {
  void *name;
  int namelen;
  struct iovec_ *iov;
  size_t iovlen;
  void *control;
  size_t controllen;
  unsigned flags;
};

static inline unsigned short net16(unsigned short v) { return (unsigned short)((v >> 8) | (v << 8)); }
static inline unsigned int net32(unsigned int v) { return v >> 24 | (v >> 8 & 0xff00u) | (v & 0xff00u) << 8 | v << 24; } /* no libgcc bswap */

/* ---- netlib.c ---- */
int sock_open(int type, int proto);                           /* AF_INET; -1 with errno */
int sock_bind(int fd, unsigned int addr, unsigned short port); /* host order */
int sock_listen(int fd, int backlog);
int sock_accept(int fd, struct sockaddr_in *peer);
int sock_connect(int fd, unsigned int addr, unsigned short port);
long sock_sendto(int fd, const void *buf, size_t n, const struct sockaddr_in *to);
long sock_recvfrom(int fd, void *buf, size_t n, struct sockaddr_in *from);
long sock_recvmsg(int fd, struct msghdr_ *msg);
int sock_setopt(int fd, int level, int name, int value);
int sock_shutdown(int fd, int how);
int sock_name(int fd, struct sockaddr_in *me);
/* poll(2) over ppoll_time64 (rv32 has neither poll nor ppoll); timeout_ms < 0 waits. */
int poll_fds(struct pollfd *fds, int n, int timeout_ms);
int sock_send_all(int fd, const char *buf, size_t n); /* 0, or -1 with errno */

/* Addresses in host order: "10.0.0.2" -> 0x0a000002; 1 if ok. */
int parse_ip(const char *s, unsigned int *addr);
/* "10.0.0.0/24" or "10.0.0.2" (prefix 32 then); 1 if ok. */
int parse_cidr(const char *s, unsigned int *addr, int *prefix);
char *fmt_ip(char *buf, unsigned int addr); /* buf of 16 */
unsigned int prefix_mask(int prefix);
int mask_prefix(unsigned int mask);
int parse_port(const char *s, unsigned short *port);
/* The interface ioctls on a scratch socket: 0, or -1 with errno. */
int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr);
int if_set_ip(const char *ifname, unsigned long req, unsigned int addr);
int if_get_ip(const char *ifname, unsigned long req, unsigned int *addr);
int if_set_up(const char *ifname, int up);
/* Each interface of /proc/net/dev with its counters: fn(name, rx bytes, rx packets, rx
 * errs, rx drop, tx bytes, tx packets, tx errs, tx drop). */
int each_netdev(void (*fn)(const char *name, const u64 *rx, const u64 *tx, void *arg), void *arg);


#endif
