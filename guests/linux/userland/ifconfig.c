/*
 * ifconfig and ip: show and set interfaces, addresses and routes, over the classic socket
 * ioctls (SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS, SIOCADDRT: netdevice(7), route(4))
 * and /proc/net/dev and /proc/net/route for reading. One IPv4 address per interface (the
 * ioctls' model): `ip addr add` replaces it. Output as net-tools' ifconfig and iproute2's ip
 * print it, the fields this kernel has.
 *   ifconfig [-a] [IF [ADDR[/N]] [netmask MASK] [up|down]]
 *   ip addr [show [IF]] | ip addr add ADDR/N dev IF | ip link set IF up|down
 *   ip route [show] | ip route add|del (default|NET/N) [via GW] [dev IF]
 */
#include "net.h"

struct ifinfo {
  short flags;
  int mtu, has_addr;
  unsigned int addr, mask, brd;
  unsigned char mac[6];
};

static int if_info(const char *name, struct ifinfo *i) {
  struct ifreq ifr;
  memset(i, 0, sizeof *i);
  memset(&ifr, 0, sizeof ifr);
  if (if_ioctl(name, SIOCGIFFLAGS, &ifr) < 0) return -1;
  i->flags = ifr.u.flags;
  if (if_ioctl(name, SIOCGIFMTU, &ifr) == 0) i->mtu = ifr.u.ivalue;
  if (if_ioctl(name, SIOCGIFHWADDR, &ifr) == 0) memcpy(i->mac, ifr.u.addr.sa_data, 6);
  i->has_addr = if_get_ip(name, SIOCGIFADDR, &i->addr) == 0;
  if (i->has_addr) if_get_ip(name, SIOCGIFNETMASK, &i->mask), if_get_ip(name, SIOCGIFBRDADDR, &i->brd);
  return 0;
}

static void put_mac(const unsigned char *mac) {
  static const char hex[] = "0123456789abcdef";
  char s[18];
  for (int i = 0; i < 6; i++) s[i * 3] = hex[mac[i] >> 4], s[i * 3 + 1] = hex[mac[i] & 15], s[i * 3 + 2] = i < 5 ? ':' : 0;
  out(s);
}

/* ifconfig's order, or iproute2's (flags, then UP and LOWER_UP, the carrier) */
static void put_flags(unsigned flags, int ip_style) {
  static const struct {
    unsigned bit;
    const char *name;
  } ifc[] = {{IFF_UP, "UP"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_LOOPBACK, "LOOPBACK"}, {IFF_RUNNING, "RUNNING"}, {IFF_NOARP, "NOARP"}, {IFF_PROMISC, "PROMISC"}, {IFF_MULTICAST, "MULTICAST"}},
    ip[] = {{IFF_LOOPBACK, "LOOPBACK"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_MULTICAST, "MULTICAST"}, {IFF_NOARP, "NOARP"}, {IFF_PROMISC, "PROMISC"}, {IFF_UP, "UP"}};
  int first = 1;
  for (size_t k = 0; k < 7; k++) {
    unsigned bit = ip_style ? ip[k].bit : ifc[k].bit;
    if (flags & bit) out(first ? "" : ","), out(ip_style ? ip[k].name : ifc[k].name), first = 0;
  }
  if (ip_style && (flags & IFF_RUNNING) && (flags & IFF_UP)) out(first ? "" : ","), out("LOWER_UP");
}

/* ---- ifconfig ---- */
struct show_args {
  const char *only;
  int all, found, index;
};

static void ifconfig_show(const char *name, const u64 *rx, const u64 *tx, void *arg) {
  struct show_args *a = arg;
  struct ifinfo i;
  char ip[16];
  if ((a->only && strcmp(a->only, name)) || if_info(name, &i) < 0) return;
  a->found = 1;
  if (!a->only && !a->all && !(i.flags & IFF_UP)) return;
  out(name), out(": flags="), outu((u64)(unsigned short)i.flags, 0), out("<"), put_flags((unsigned short)i.flags, 0), out(">  mtu "), outu((u64)i.mtu, 0), out("\n");
  if (i.has_addr) {
    out("        inet "), out(fmt_ip(ip, i.addr)), out("  netmask "), out(fmt_ip(ip, i.mask));
    if (i.flags & IFF_BROADCAST) out("  broadcast "), out(fmt_ip(ip, i.brd));
    out("\n");
  }
  if (i.flags & IFF_LOOPBACK) out("        loop  (Local Loopback)\n");
  else out("        ether "), put_mac(i.mac), out("  (Ethernet)\n");
  out("        RX packets "), outu(rx[1], 0), out("  bytes "), outu(rx[0], 0), out("\n");
  out("        RX errors "), outu(rx[2], 0), out("  dropped "), outu(rx[3], 0), out("\n");
  out("        TX packets "), outu(tx[1], 0), out("  bytes "), outu(tx[0], 0), out("\n");
  out("        TX errors "), outu(tx[2], 0), out("  dropped "), outu(tx[3], 0), out("\n\n");
}

int ifconfig_main(int argc, char **argv) {
  struct show_args a = {0, 0, 0, 0};
  int i = 1;
  if (i < argc && !strcmp(argv[i], "-a")) a.all = 1, i++;
  if (i >= argc || i == argc - 1) {
    a.only = i < argc ? argv[i] : 0;
    if (each_netdev(ifconfig_show, &a) < 0) return warn("ifconfig", "/proc/net/dev"), 1;
    if (a.only && !a.found) return warn_msg("ifconfig", "no such interface"), 1;
    return 0;
  }
  const char *ifname = argv[i++];
  for (; i < argc; i++) {
    unsigned int addr;
    int prefix, r;
    if (!strcmp(argv[i], "up") || !strcmp(argv[i], "down")) r = if_set_up(ifname, argv[i][0] == 'u');
    else if (!strcmp(argv[i], "netmask") && i + 1 < argc) {
      if (!parse_ip(argv[++i], &addr)) return warn_msg("ifconfig", "bad netmask"), 1;
      r = if_set_ip(ifname, SIOCSIFNETMASK, addr);
    } else if (parse_cidr(argv[i], &addr, &prefix)) {
      /* the address, then (as ifconfig does) the mask of a /N, and up */
      r = if_set_ip(ifname, SIOCSIFADDR, addr);
      if (r == 0 && strchr(argv[i], '/')) r = if_set_ip(ifname, SIOCSIFNETMASK, prefix_mask(prefix));
      if (r == 0) r = if_set_up(ifname, 1);
    } else return warn_msg("ifconfig", "usage: ifconfig [-a] [IF [ADDR[/N]] [netmask MASK] [up|down]]"), 1;
    if (r < 0) return warn("ifconfig", ifname), 1;
  }
  return 0;
}

/* ---- ip ---- */
static void ip_addr_show(const char *name, const u64 *rx, const u64 *tx, void *arg) {
  struct show_args *a = arg;
  struct ifinfo i;
  struct ifreq ifr;
  char ip[16];
  (void)rx, (void)tx;
  a->index++;
  if ((a->only && strcmp(a->only, name)) || if_info(name, &i) < 0) return;
  a->found = 1;
  memset(&ifr, 0, sizeof ifr);
  outu(if_ioctl(name, SIOCGIFINDEX, &ifr) == 0 ? (u64)ifr.u.ivalue : (u64)a->index, 0);
  out(": "), out(name), out(": <"), put_flags((unsigned short)i.flags, 1), out("> mtu "), outu((u64)i.mtu, 0);
  out(i.flags & IFF_UP ? " state UP\n" : " state DOWN\n");
  if (i.flags & IFF_LOOPBACK) out("    link/loopback "), put_mac(i.mac), out("\n");
  else out("    link/ether "), put_mac(i.mac), out(" brd ff:ff:ff:ff:ff:ff\n");
  if (i.has_addr) {
    out("    inet "), out(fmt_ip(ip, i.addr)), out("/"), outu((u64)mask_prefix(i.mask), 0);
    if (i.flags & IFF_BROADCAST) out(" brd "), out(fmt_ip(ip, i.brd));
    out((i.addr >> 24) == 127 ? " scope host " : " scope global "), out(name), out("\n");
  }
}

/* /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT",
 * addresses in hex as the kernel holds them (network order read as a little-endian word). */
static int ip_route_show(void) {
  static char text[4096];
  char ip[16];
  if (read_file("/proc/net/route", text, sizeof text) < 0) return warn("ip", "/proc/net/route"), 1;
  char *line = strchr(text, '\n');
  while (line && *++line) {
    char *end = strchr(line, '\n'), *f[8];
    if (end) *end = 0;
    int n = 0;
    for (char *p = line; *p && n < 8;) {
      while (*p == ' ' || *p == '\t') *p++ = 0;
      if (!*p) break;
      f[n++] = p;
      while (*p && *p != ' ' && *p != '\t') p++;
    }
    if (n == 8) {
      unsigned int dst = net32((unsigned int)strtoul(f[1], 0, 16)), gw = net32((unsigned int)strtoul(f[2], 0, 16));
      unsigned int flags = (unsigned int)strtoul(f[3], 0, 16), mask = net32((unsigned int)strtoul(f[7], 0, 16));
      if (!dst && !mask) out("default");
      else out(fmt_ip(ip, dst)), out("/"), outu((u64)mask_prefix(mask), 0);
      if (flags & RTF_GATEWAY) out(" via "), out(fmt_ip(ip, gw));
      out(" dev "), out(f[0]);
      if (!(flags & RTF_GATEWAY)) out(" scope link");
      out("\n");
    }
    line = end;
  }
  return 0;
}

static void sin_set(struct sockaddr *sa, unsigned int addr) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET, a.sin_addr = net32(addr);
  memcpy(sa, &a, sizeof a);
}

static int ip_route_change(int add, int argc, char **argv) {
  struct rtentry rt;
  unsigned int dst = 0, gw = 0;
  int prefix = 0, i = 0;
  char *dev = 0;
  memset(&rt, 0, sizeof rt);
  if (i < argc && strcmp(argv[i], "default") && !parse_cidr(argv[i], &dst, &prefix)) return warn_msg("ip", "route: bad destination"), 1;
  for (i++; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "via")) {
      if (!parse_ip(argv[i + 1], &gw)) return warn_msg("ip", "route: bad gateway"), 1;
      rt.rt_flags |= RTF_GATEWAY;
    } else if (!strcmp(argv[i], "dev")) dev = argv[i + 1];
    else return warn_msg("ip", "usage: ip route add|del (default|NET/N) [via GW] [dev IF]"), 1;
  }
  if (i != argc || argc == 0) return warn_msg("ip", "usage: ip route add|del (default|NET/N) [via GW] [dev IF]"), 1;
  rt.rt_flags |= RTF_UP | (prefix == 32 ? RTF_HOST : 0);
  sin_set(&rt.rt_dst, dst & prefix_mask(prefix));
  sin_set(&rt.rt_gateway, gw);
  sin_set(&rt.rt_genmask, prefix_mask(prefix));
  rt.rt_dev = dev;
  int fd = sock_open(SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl(fd, add ? SIOCADDRT : SIOCDELRT, &rt) < 0) return warn("ip", "route"), 1;
  close(fd);
  return 0;
}

int ip_main(int argc, char **argv) {
  const char *obj = argc > 1 ? argv[1] : "", *cmd = argc > 2 ? argv[2] : "show";
  if (!strncmp(obj, "addr", 4) || !strcmp(obj, "a")) {
    if (!strcmp(cmd, "show") || !strcmp(cmd, "list")) {
      struct show_args a = {argc > 3 ? argv[argc - 1] : 0, 1, 0, 0};
      if (each_netdev(ip_addr_show, &a) < 0) return warn("ip", "/proc/net/dev"), 1;
      return a.only && !a.found ? (warn_msg("ip", "no such interface"), 1) : 0;
    }
    if (!strcmp(cmd, "add") && argc == 6 && !strcmp(argv[4], "dev")) {
      unsigned int addr;
      int prefix;
      if (!parse_cidr(argv[3], &addr, &prefix)) return warn_msg("ip", "addr: bad address"), 1;
      if (if_set_ip(argv[5], SIOCSIFADDR, addr) < 0 || if_set_ip(argv[5], SIOCSIFNETMASK, prefix_mask(prefix)) < 0 ||
          if_set_ip(argv[5], SIOCSIFBRDADDR, addr | ~prefix_mask(prefix)) < 0)
        return warn("ip", argv[5]), 1;
      return 0;
    }
    return warn_msg("ip", "usage: ip addr [show [IF]] | ip addr add ADDR/N dev IF"), 1;
  }
  if (!strcmp(obj, "link") && argc == 5 && !strcmp(cmd, "set")) {
    if (strcmp(argv[4], "up") && strcmp(argv[4], "down")) return warn_msg("ip", "usage: ip link set IF up|down"), 1;
    if (if_set_up(argv[3], argv[4][0] == 'u') < 0) return warn("ip", argv[3]), 1;
    return 0;
  }
  if (!strncmp(obj, "ro", 2)) {
    if (!strcmp(cmd, "show") || !strcmp(cmd, "list")) return ip_route_show();
    if (!strcmp(cmd, "add") || !strcmp(cmd, "del")) return ip_route_change(cmd[0] == 'a', argc - 3, argv + 3);
  }
  return warn_msg("ip", "usage: ip addr [show [IF] | add ADDR/N dev IF], ip link set IF up|down, ip route [show | add|del ...]"), 1;
}
