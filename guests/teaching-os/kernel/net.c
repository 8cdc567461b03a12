/*
 * A small network stack over the platform's one interface, eth0 (kernel/net.h):
 *   Ethernet II; ARP (RFC 826: answers who-has for our address, a cache of 16 entries);
 *   IPv4 (RFC 791: no options, no fragments, header checksum checked); ICMP echo
 *   (RFC 792: answers requests; `ping` times replies); UDP (RFC 768: checksum checked when
 *   present, always sent); a DHCP client (RFC 2131: DISCOVER, OFFER, REQUEST, ACK).
 * Everything runs in the shell's thread: received frames arrive through netdev_poll()
 * from the shell loop (the platform's deferred work) or from a command waiting for them.
 */
#include "net.h"
#include "plat.h"

#define ETH_P_IP  0x0800
#define ETH_P_ARP 0x0806
#define ARP_SLOTS 16

static uint32_t my_ip, my_mask, my_router;
static uint8_t my_mac[6];
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static struct { uint32_t ip; uint8_t mac[6]; } arp_cache[ARP_SLOTS];
static uint32_t arp_next;
static uint16_t ip_id = 1;

/* What a waiting command looks for. */
static struct {
  uint16_t ping_id, ping_seq;
  volatile int ping_got;
  uint8_t ping_ttl;
  uint16_t udp_port;   /* udp listen: the port, 0 = none */
  volatile uint32_t udp_got;
  uint32_t dhcp_xid;
  volatile int dhcp_type;  /* the last DHCP message type for our xid */
  uint32_t dhcp_yiaddr, dhcp_server, dhcp_mask, dhcp_router, dhcp_lease;
} w;

__attribute__((weak)) int netdev_mac(uint8_t mac[6]) { (void)mac; return PLAT_ENOTSUP; }
__attribute__((weak)) int netdev_send(const void *frame, uint32_t len) { (void)frame, (void)len; return -1; }
__attribute__((weak)) void netdev_poll(void) {}
__attribute__((weak)) void netdev_counters(struct net_counters *c) { memset(c, 0, sizeof *c); }

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v; }

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)p[n - 1] << 8;
  return sum;
}
static uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void ip_str(char *buf, size_t n, uint32_t ip) { ksnprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255); }

static int parse_ip(const char *s, uint32_t *out) {
  uint32_t ip = 0;
  for (int i = 0; i < 4; i++) {
    uint32_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) v = v * 10 + (uint32_t)(*s++ - '0'), digits++;
    if (!digits || v > 255) return -1;
    ip = ip << 8 | v;
    if (i < 3 && *s++ != '.') return -1;
  }
  *out = ip;
  return *s && *s != '/' ? -1 : 0;
}

static int have_if(const char *cmd) {
  if (netdev_mac(my_mac) == 0) return 1;
  kprintf("%s: no network interface (give the domain a vif = [ '' ] in its config)\n", cmd);
  return 0;
}

/* ---- ARP ---- */

static const uint8_t *arp_lookup(uint32_t ip) {
  for (int i = 0; i < ARP_SLOTS; i++)
    if (arp_cache[i].ip == ip && ip) return arp_cache[i].mac;
  return 0;
}

static void arp_learn(uint32_t ip, const uint8_t *mac) {
  if (!ip) return;
  for (int i = 0; i < ARP_SLOTS; i++)
    if (arp_cache[i].ip == ip) {
      memcpy(arp_cache[i].mac, mac, 6);
      return;
    }
  arp_cache[arp_next % ARP_SLOTS].ip = ip;
  memcpy(arp_cache[arp_next % ARP_SLOTS].mac, mac, 6);
  arp_next++;
}

static void eth_send(const uint8_t *dst, uint16_t type, const uint8_t *payload, uint32_t len) {
  static uint8_t f[1514];
  if (len > 1500) return;
  memcpy(f, dst, 6);
  memcpy(f + 6, my_mac, 6);
  wr16(f + 12, type);
  memcpy(f + 14, payload, len);
  uint32_t n = 14 + len < 60 ? 60 : 14 + len;  /* pad to the Ethernet minimum */
  if (14 + len < 60) memset(f + 14 + len, 0, 60 - 14 - len);
  netdev_send(f, n);
}

static void arp_send(uint16_t op, const uint8_t *tha, uint32_t tpa, const uint8_t *dst) {
  uint8_t a[28];
  wr16(a, 1), wr16(a + 2, ETH_P_IP), a[4] = 6, a[5] = 4, wr16(a + 6, op);
  memcpy(a + 8, my_mac, 6);
  wr32(a + 14, my_ip);
  memcpy(a + 18, tha, 6);
  wr32(a + 24, tpa);
  eth_send(dst, ETH_P_ARP, a, 28);
}

/* A gratuitous ARP (RFC 5227 section 3: an ARP request for our own address, broadcast), so
 * that the segment learns where we are after a move, as Linux's netfront makes its stack
 * send after a migration (netdev_notify_peers). Nothing without an address. */
void net_announce(void) {
  if (!my_ip || netdev_mac(my_mac) != 0) return;
  static const uint8_t zero[6];
  arp_send(1, zero, my_ip, bcast);
  char ip[16];
  ip_str(ip, sizeof ip, my_ip);
  kprintf("net: gratuitous ARP for %s sent\n", ip);
}

static int arp_known(void *arg) {
  netdev_poll();
  return arp_lookup(*(uint32_t *)arg) != 0;
}

/* The MAC for `ip` on our subnet (or the router's for elsewhere), asking up to 3 times. */
static const uint8_t *resolve(uint32_t ip) {
  if (ip == 0xffffffffu) return bcast;
  uint32_t hop = (ip & my_mask) == (my_ip & my_mask) ? ip : my_router;
  for (int i = 0; i < 3 && !arp_lookup(hop); i++) {
    static const uint8_t zero[6];
    arp_send(1, zero, hop, bcast);
    if (kwait(arp_known, &hop, 1000000000ull, 1) == WAIT_BREAK) return 0;
  }
  return arp_lookup(hop);
}

/* ---- IPv4, ICMP, UDP ---- */

static int ip_send(uint32_t dst, uint8_t proto, const uint8_t *payload, uint32_t len, const uint8_t *dmac) {
  static uint8_t p[1500];
  if (len > 1480) return -1;
  const uint8_t *mac = dmac ? dmac : resolve(dst);
  if (!mac) return -1;
  memset(p, 0, 20);
  p[0] = 0x45;
  wr16(p + 2, 20 + len);
  wr16(p + 4, ip_id++);
  p[8] = 64;
  p[9] = proto;
  wr32(p + 12, my_ip);
  wr32(p + 16, dst);
  wr16(p + 10, csum_fold(csum_add(0, p, 20)));
  memcpy(p + 20, payload, len);
  eth_send(mac, ETH_P_IP, p, 20 + len);
  return 0;
}

static int udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const uint8_t *data, uint32_t len, const uint8_t *dmac) {
  static uint8_t u[1480];
  if (len > 1472) return -1;
  wr16(u, sport), wr16(u + 2, dport), wr16(u + 4, 8 + len), wr16(u + 6, 0);
  memcpy(u + 8, data, len);
  uint8_t ph[12];
  wr32(ph, my_ip), wr32(ph + 4, dst), ph[8] = 0, ph[9] = 17, wr16(ph + 10, 8 + len);
  uint16_t c = csum_fold(csum_add(csum_add(0, ph, 12), u, 8 + len));
  wr16(u + 6, c ? c : 0xffff);
  return ip_send(dst, 17, u, 8 + len, dmac);
}

static void dhcp_input(const uint8_t *d, uint32_t len);

static void udp_input(uint32_t src, uint32_t dst, const uint8_t *u, uint32_t len) {
  if (len < 8 || rd16(u + 4) < 8 || rd16(u + 4) > len) return;
  len = rd16(u + 4);
  if (rd16(u + 6)) {
    uint8_t ph[12];
    wr32(ph, src), wr32(ph + 4, dst), ph[8] = 0, ph[9] = 17, wr16(ph + 10, len);
    if (csum_fold(csum_add(csum_add(0, ph, 12), u, len)) != 0) return;
  }
  uint16_t sport = rd16(u), dport = rd16(u + 2);
  if (dport == 68 && sport == 67) {
    dhcp_input(u + 8, len - 8);
    return;
  }
  if (w.udp_port && dport == w.udp_port && dst == my_ip) {
    char from[16];
    ip_str(from, sizeof from, src);
    kprintf("udp: %u bytes from %s:%u: ", len - 8, from, sport);
    for (uint32_t i = 8; i < len; i++) con_putc(u[i] >= 32 && u[i] < 127 ? (char)u[i] : '.');
    con_putc('\n');
    con_flush();
    w.udp_got++;
  }
}

void net_input(const uint8_t *f, uint32_t len) {
  if (len < 14 || (!my_mac[0] && !my_mac[1] && !my_mac[2] && netdev_mac(my_mac) != 0)) return;
  if (memcmp(f, my_mac, 6) && memcmp(f, bcast, 6)) return;  /* flooded to us, not for us */
  const uint8_t *p = f + 14;
  len -= 14;
  if (rd16(f + 12) == ETH_P_ARP) {
    if (len < 28 || rd16(p) != 1 || rd16(p + 2) != ETH_P_IP || p[4] != 6 || p[5] != 4) return;
    uint32_t spa = rd32(p + 14), tpa = rd32(p + 24);
    if (my_ip && tpa == my_ip) {
      arp_learn(spa, p + 8);
      if (rd16(p + 6) == 1) arp_send(2, p + 8, spa, p + 8);
    } else if (arp_lookup(spa))
      arp_learn(spa, p + 8);  /* refresh what we know, learn nothing new from others' chatter */
    return;
  }
  if (rd16(f + 12) != ETH_P_IP || len < 20 || p[0] != 0x45) return;
  uint32_t total = rd16(p + 2);
  if (total < 20 || total > len || (rd16(p + 6) & 0x3fff) || csum_fold(csum_add(0, p, 20)) != 0) return;
  uint32_t src = rd32(p + 12), dst = rd32(p + 16);
  const uint8_t *body = p + 20;
  uint32_t blen = total - 20;
  if (p[9] == 17) {
    udp_input(src, dst, body, blen);
    return;
  }
  if (p[9] != 1 || !my_ip || dst != my_ip || blen < 8 || csum_fold(csum_add(0, body, blen)) != 0) return;
  if (body[0] == 8) {  /* echo request: the same id, sequence and data back */
    static uint8_t r[1480];
    memcpy(r, body, blen);
    r[0] = 0, r[2] = r[3] = 0;
    wr16(r + 2, csum_fold(csum_add(0, r, blen)));
    arp_learn(src, f + 6);
    ip_send(src, 1, r, blen, f + 6);
  } else if (body[0] == 0 && rd16(body + 4) == w.ping_id && rd16(body + 6) == w.ping_seq) {
    w.ping_ttl = p[8];
    w.ping_got = 1;
  }
}

/* ---- DHCP client ---- */

static void dhcp_input(const uint8_t *d, uint32_t len) {
  if (len < 240 || d[0] != 2 || rd32(d + 4) != w.dhcp_xid || memcmp(d + 28, my_mac, 6) || rd32(d + 236) != 0x63825363) return;
  int type = 0;
  uint32_t server = 0, mask = 0, router = 0, lease = 0;
  for (uint32_t i = 240; i < len && d[i] != 255;) {
    if (d[i] == 0) {
      i++;
      continue;
    }
    if (i + 1 >= len || i + 2 + d[i + 1] > len) return;
    const uint8_t *v = d + i + 2;
    uint8_t n = d[i + 1];
    if (d[i] == 53 && n == 1) type = v[0];
    if (d[i] == 54 && n == 4) server = rd32(v);
    if (d[i] == 1 && n == 4) mask = rd32(v);
    if (d[i] == 3 && n >= 4) router = rd32(v);
    if (d[i] == 51 && n == 4) lease = rd32(v);
    i += 2 + n;
  }
  w.dhcp_yiaddr = rd32(d + 16);
  w.dhcp_server = server, w.dhcp_mask = mask, w.dhcp_router = router, w.dhcp_lease = lease;
  w.dhcp_type = type;
}

static void dhcp_send(int type, uint32_t requested, uint32_t server) {
  static uint8_t d[300];
  memset(d, 0, sizeof d);
  d[0] = 1, d[1] = 1, d[2] = 6;
  wr32(d + 4, w.dhcp_xid);
  wr16(d + 10, 0x8000);  /* BROADCAST: we cannot take unicast before we have an address */
  memcpy(d + 28, my_mac, 6);
  wr32(d + 236, 0x63825363);
  uint8_t *o = d + 240;
  *o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
  if (requested) *o++ = 50, *o++ = 4, wr32(o, requested), o += 4;
  if (server) *o++ = 54, *o++ = 4, wr32(o, server), o += 4;
  *o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 51;  /* parameter request list */
  *o++ = 255;
  uint32_t saved = my_ip;
  my_ip = 0;  /* from 0.0.0.0 until we have an address */
  udp_send(0xffffffffu, 68, 67, d, sizeof d, bcast);
  my_ip = saved;
}

static int dhcp_answered(void *arg) {
  netdev_poll();
  return w.dhcp_type == *(int *)arg || w.dhcp_type == 6;
}

static int dhcp(void) {
  w.dhcp_xid = (uint32_t)time_ns() ^ ((uint32_t)my_mac[4] << 8 | my_mac[5]) << 16;
  for (int attempt = 0; attempt < 3; attempt++) {
    int want = 2;
    w.dhcp_type = 0;
    dhcp_send(1, 0, 0);
    int r = kwait(dhcp_answered, &want, 2000000000ull, 1);
    if (r == WAIT_BREAK) return -1;
    if (r == WAIT_TIMEOUT || w.dhcp_type != 2) continue;
    uint32_t offered = w.dhcp_yiaddr, server = w.dhcp_server;
    want = 5;
    w.dhcp_type = 0;
    dhcp_send(3, offered, server);
    r = kwait(dhcp_answered, &want, 2000000000ull, 1);
    if (r == WAIT_BREAK) return -1;
    if (w.dhcp_type == 5) {
      my_ip = w.dhcp_yiaddr;
      my_mask = w.dhcp_mask ? w.dhcp_mask : 0xffffff00u;
      my_router = w.dhcp_router;
      char a[16], s[16];
      ip_str(a, sizeof a, my_ip);
      ip_str(s, sizeof s, server);
      kprintf("dhcp: eth0 leased %s/%u from %s for %u s\n", a, 32 - (uint32_t)__builtin_ctz(my_mask ? my_mask : 1), s, w.dhcp_lease);
      return 0;
    }
    if (w.dhcp_type == 6) kprintf("dhcp: the server said no (NAK); trying again\n");
  }
  kprintf("dhcp: no answer from a DHCP server\n");
  return -1;
}

/* ---- commands ---- */

static void show_if(void) {
  struct net_counters c;
  netdev_counters(&c);
  char a[16], m[16], r[16];
  ip_str(a, sizeof a, my_ip);
  ip_str(m, sizeof m, my_mask);
  ip_str(r, sizeof r, my_router);
  kprintf("eth0: mac %02x:%02x:%02x:%02x:%02x:%02x  inet %s  netmask %s  router %s\n", my_mac[0], my_mac[1], my_mac[2], my_mac[3], my_mac[4],
          my_mac[5], my_ip ? a : "(none)", m, r);
  kprintf("      tx %u packets %u bytes %u errors  rx %u packets %u bytes %u errors  notifies %u events %u\n", c.tx_packets, c.tx_bytes,
          c.tx_errors, c.rx_packets, c.rx_bytes, c.rx_errors, c.notifies, c.events);
}

int net_cmd_ifconfig(int argc, char **argv) {
  if (!have_if("ifconfig")) return -1;
  if (argc < 2) {
    show_if();
    return 0;
  }
  if (!strcmp(argv[1], "dhcp")) return dhcp();
  uint32_t ip, prefix = 24;
  if (parse_ip(argv[1], &ip)) {
    kprintf("ifconfig: '%s' is not an address (ifconfig [dhcp | A.B.C.D[/N] [ROUTER]])\n", argv[1]);
    return -1;
  }
  const char *slash = argv[1];
  while (*slash && *slash != '/') slash++;
  if (*slash && (parse_u32(slash + 1, &prefix) || prefix < 1 || prefix > 30)) {
    kprintf("ifconfig: bad prefix length '%s'\n", slash + 1);
    return -1;
  }
  my_ip = ip;
  my_mask = 0xffffffffu << (32 - prefix);
  my_router = 0;
  if (argc > 2 && parse_ip(argv[2], &my_router)) my_router = 0;
  show_if();
  return 0;
}

/* Keep answering while we wait (kwait's condition runs after every interrupt). */
static int idle(void *arg) {
  (void)arg;
  netdev_poll();
  return 0;
}

static int ping_back(void *arg) {
  (void)arg;
  netdev_poll();
  return w.ping_got;
}

int net_cmd_ping(int argc, char **argv) {
  uint32_t dst, count = 4;
  if (!have_if("ping")) return -1;
  if (argc < 2 || parse_ip(argv[1], &dst) || (argc > 2 && (parse_u32(argv[2], &count) || !count))) {
    kprintf("usage: ping A.B.C.D [COUNT]\n");
    return -1;
  }
  if (!my_ip) {
    kprintf("ping: eth0 has no address (ifconfig dhcp, or ifconfig A.B.C.D)\n");
    return -1;
  }
  char a[16];
  ip_str(a, sizeof a, dst);
  kprintf("PING %s: 56 data bytes\n", a);
  uint8_t m[64];
  uint32_t got = 0;
  uint64_t sum = 0, min = ~0ull, max = 0;
  w.ping_id = (uint16_t)(0x7400 | (my_ip & 0xff));
  for (uint32_t seq = 1; seq <= count; seq++) {
    uint64_t t0 = time_ns();
    for (int i = 0; i < 56; i++) m[8 + i] = (uint8_t)i;
    m[0] = 8, m[1] = 0, m[2] = m[3] = 0;
    wr16(m + 4, w.ping_id), wr16(m + 6, seq);
    wr16(m + 2, csum_fold(csum_add(0, m, 64)));
    w.ping_seq = (uint16_t)seq;
    w.ping_got = 0;
    if (ip_send(dst, 1, m, 64, 0)) {
      kprintf("From %s icmp_seq=%u Destination Host Unreachable\n", a, seq);
    } else {
      int r = kwait(ping_back, 0, 1000000000ull, 1);
      if (r == WAIT_BREAK) break;
      if (r == 0) {
        uint64_t us = (time_ns() - t0) / 1000;
        got++, sum += us, min = us < min ? us : min, max = us > max ? us : max;
        kprintf("64 bytes from %s: icmp_seq=%u ttl=%u time=%llu.%03llu ms\n", a, seq, w.ping_ttl, us / 1000, us % 1000);
      } else
        kprintf("Request timeout for icmp_seq %u\n", seq);
    }
    con_flush();
    uint64_t spent = time_ns() - t0;  /* one a second, as ping does */
    if (seq < count && spent < 1000000000ull && kwait(idle, 0, 1000000000ull - spent, 1) == WAIT_BREAK) break;
  }
  kprintf("--- %s ping statistics ---\n%u packets transmitted, %u received, %u%% packet loss\n", a, count, got, (count - got) * 100 / count);
  if (got) kprintf("round-trip min/avg/max = %llu.%03llu/%llu.%03llu/%llu.%03llu ms\n", min / 1000, min % 1000, sum / got / 1000, sum / got % 1000, max / 1000, max % 1000);
  return got ? 0 : -1;
}

static int udp_enough(void *arg) {
  netdev_poll();
  return w.udp_got >= *(uint32_t *)arg;
}

int net_cmd_udp(int argc, char **argv) {
  uint32_t dst, port, n = 1;
  if (!have_if("udp")) return -1;
  if (argc >= 5 && !strcmp(argv[1], "send") && !parse_ip(argv[2], &dst) && !parse_u32(argv[3], &port) && port && port < 65536) {
    static char text[256];
    size_t k = 0;
    for (int i = 4; i < argc; i++) {
      if (i > 4 && k < sizeof text - 1) text[k++] = ' ';
      for (const char *c = argv[i]; *c && k < sizeof text - 1; c++) text[k++] = *c;
    }
    if (!my_ip) {
      kprintf("udp: eth0 has no address (ifconfig dhcp)\n");
      return -1;
    }
    if (udp_send(dst, 5000, (uint16_t)port, (const uint8_t *)text, (uint32_t)k, 0)) {
      kprintf("udp: %s: no answer to ARP\n", argv[2]);
      return -1;
    }
    kprintf("udp: sent %u bytes to %s:%u\n", (uint32_t)k, argv[2], port);
    return 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "listen") && !parse_u32(argv[2], &port) && port && port < 65536 && (argc < 4 || !parse_u32(argv[3], &n))) {
    w.udp_port = (uint16_t)port;
    w.udp_got = 0;
    kprintf("udp: listening on port %u for %u datagram%s (Ctrl-C stops)\n", port, n, n == 1 ? "" : "s");
    con_flush();
    kwait(udp_enough, &n, 0, 1);
    w.udp_port = 0;
    kprintf("udp: %u received\n", w.udp_got);
    return 0;
  }
  kprintf("usage: udp send A.B.C.D PORT TEXT | udp listen PORT [N]\n");
  return -1;
}

int net_cmd_arp(int argc, char **argv) {
  (void)argc, (void)argv;
  if (!have_if("arp")) return -1;
  kprintf("Address          HWaddress\n");
  for (int i = 0; i < ARP_SLOTS; i++) {
    if (!arp_cache[i].ip) continue;
    char a[16];
    ip_str(a, sizeof a, arp_cache[i].ip);
    const uint8_t *m = arp_cache[i].mac;
    kprintf("%s%s %02x:%02x:%02x:%02x:%02x:%02x\n", a, &"                "[strlen(a)], m[0], m[1], m[2], m[3], m[4], m[5]);
  }
  return 0;
}
