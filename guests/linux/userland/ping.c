/*
 * ping HOST [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT] [-q]: ICMP echo (RFC 792) over an
 * ICMP datagram socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), icmp(7)): the kernel
 * fills in the identifier and checksum and hands back only our replies; init opens
 * net.ipv4.ping_group_range to everyone. Output as iputils' ping prints it:
 *   PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.
 *   64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time=0.512 ms
 *   --- 10.0.0.1 ping statistics ---
 *   3 packets transmitted, 3 received, 0% packet loss, time 2003ms
 *   rtt min/avg/max/mdev = 0.412/0.512/0.612/0.081 ms
 * Round trips are measured here, from send to receive, in microseconds. ^C (SIGINT) ends it
 * with the statistics, as iputils does. Exit status 0 if a reply came, 1 if none did, 2 on
 * an error.
 */
#include "net.h"

#define MAX_SEQ 65536

static u64 sent_at[1024]; /* by sequence number modulo 1024 */
static volatile int interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

static void put_ms(u64 us) {
  char num[21];
  out(fmt_u(num, us / 1000)), out(".");
  fmt_u(num, 1000 + us % 1000);
  out(num + 1);
}

static u64 isqrt(u64 v) {
  u64 r = 0, bit = 1ull << 62;
  while (bit > v) bit >>= 2;
  for (; bit; bit >>= 2) {
    if (v >= r + bit) v -= r + bit, r = (r >> 1) + bit;
    else r >>= 1;
  }
  return r;
}

static int parse_ms(const char *s, u64 *ms) { /* seconds with up to 3 decimals */
  u64 whole = 0, frac = 0, scale = 1000;
  const char *dot = strchr(s, '.');
  char buf[24];
  size_t n = dot ? (size_t)(dot - s) : strlen(s);
  if (n >= sizeof buf) return 0;
  memcpy(buf, s, n), buf[n] = 0;
  if (n && !parse_u64(buf, &whole)) return 0;
  if (dot)
    for (const char *p = dot + 1; *p && scale > 1; p++) {
      if (*p < '0' || *p > '9') return 0;
      scale /= 10, frac += (u64)(*p - '0') * scale;
    }
  *ms = whole * 1000 + frac;
  return 1;
}

int ping_main(int argc, char **argv) {
  const char *host = 0;
  u64 count = ~0ull, interval = 1000, timeout = 0, size = 56;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ok = 1;
    if (!strcmp(a, "-q")) quiet = 1;
    else if (a[0] == '-' && strchr("ciWs", a[1]) && !a[2] && i + 1 < argc) {
      const char *v = argv[++i];
      if (a[1] == 'c') ok = parse_u64(v, &count) && count > 0;
      else if (a[1] == 's') ok = parse_u64(v, &size) && size <= 1400;
      else ok = parse_ms(v, a[1] == 'i' ? &interval : &timeout);
    } else if (!host && a[0] != '-') host = a;
    else ok = 0;
    if (!ok) return warn_msg("ping", "usage: ping HOST [-c COUNT] [-i SECONDS] [-s SIZE] [-W SECONDS] [-q]"), 2;
  }
  unsigned int dst;
  if (!host || !parse_ip(host, &dst)) return warn_msg("ping", host ? "HOST is an IPv4 address (no DNS)" : "usage: ping HOST [-c COUNT]"), 2;
  int fd = sock_open(SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return warn("ping", "socket"), 2;
  sock_setopt(fd, SOL_IP, IP_RECVTTL, 1);
  catch_signal(2 /* SIGINT */, on_sigint);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET, to.sin_addr = net32(dst);
  char ip[16];
  out("PING "), out(fmt_ip(ip, dst)), out(" ("), out(ip), out(") "), outu(size, 0), out("("), outu(size + 28, 0), out(") bytes of data.\n");

  static unsigned char pkt[1500], reply[1500];
  u64 transmitted = 0, received = 0, sum = 0, sum2 = 0, min = ~0ull, max = 0;
  u64 start = now_us(), next = start;
  if (!timeout) timeout = interval > 10000 ? interval : 10000; /* after the last: wait up to 10 s */
  while (!interrupted) {
    u64 now = now_us();
    if (transmitted < count && now >= next) {
      unsigned short seq = (unsigned short)(transmitted + 1);
      memset(pkt, 0, 8);
      pkt[0] = 8; /* ICMP_ECHO */
      pkt[6] = (unsigned char)(seq >> 8), pkt[7] = (unsigned char)seq;
      for (u64 k = 0; k < size; k++) pkt[8 + k] = (unsigned char)(k + 8);
      sent_at[seq % 1024] = now;
      if (sock_sendto(fd, pkt, 8 + size, &to) < 0) warn("ping", "sendmsg");
      transmitted++;
      next += interval * 1000;
      if (next < now) next = now;
    }
    u64 deadline = transmitted < count ? next : sent_at[transmitted % 1024] + timeout * 1000;
    if (transmitted >= count && (received >= transmitted || now >= deadline)) break;
    struct pollfd p = {fd, POLLIN, 0};
    int wait = deadline > now ? (int)((deadline - now + 999) / 1000) : 0;
    int r = poll_fds(&p, 1, wait);
    if (r < 0 && errno != EINTR) return warn("ping", "poll"), 2;
    if (r <= 0) continue;
    /* the reply, with its TTL as a control message (IP_RECVTTL) */
    struct sockaddr_in from;
    unsigned int control[8];
    struct iovec_ iov = {reply, sizeof reply};
    struct msghdr_ msg = {&from, sizeof from, &iov, 1, control, sizeof control, 0};
    long n = sock_recvmsg(fd, &msg);
    u64 got = now_us();
    if (n < 0) continue;
    if (n < 8 || reply[0] != 0 /* ICMP_ECHOREPLY */) continue;
    unsigned short seq = (unsigned short)(reply[6] << 8 | reply[7]);
    if (seq == 0 || seq > transmitted || transmitted - seq >= 1024) continue;
    int ttl = -1;
    for (size_t off = 0; off + 16 <= msg.controllen;) { /* struct cmsghdr {len, level, type}, data */
      unsigned int *c = (unsigned int *)((char *)control + off);
      if (c[0] < 12) break;
      if (c[1] == SOL_IP && c[2] == IP_TTL) ttl = (int)c[3];
      off += (c[0] + 3) & ~3u;
    }
    u64 rtt = got - sent_at[seq % 1024];
    received++, sum += rtt, sum2 += rtt * rtt;
    if (rtt < min) min = rtt;
    if (rtt > max) max = rtt;
    if (!quiet) {
      outu((u64)n, 0), out(" bytes from "), out(fmt_ip(ip, net32(from.sin_addr))), out(": icmp_seq="), outu(seq, 0);
      if (ttl >= 0) out(" ttl="), outu((u64)ttl, 0);
      out(" time="), put_ms(rtt), out(" ms\n");
    }
  }
  close(fd);
  out("\n--- "), out(fmt_ip(ip, dst)), out(" ping statistics ---\n");
  outu(transmitted, 0), out(" packets transmitted, "), outu(received, 0), out(" received, ");
  outu(transmitted ? (transmitted - received) * 100 / transmitted : 0, 0), out("% packet loss, time "), outu((now_us() - start) / 1000, 0), out("ms\n");
  if (received) {
    u64 avg = sum / received, var = sum2 / received - avg * avg;
    out("rtt min/avg/max/mdev = "), put_ms(min), out("/"), put_ms(avg), out("/"), put_ms(max), out("/"), put_ms(isqrt(var)), out(" ms\n");
  }
  return received ? 0 : 1;
}
