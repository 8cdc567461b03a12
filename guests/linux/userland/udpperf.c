/*
 * udpperf: UDP datagrams per second between two guests (the network benchmark's tool).
 *   udpperf -l PORT [-w SECS]        count the datagrams that arrive; after SECS (default 1) of
 *                                    silence print "received N datagrams (B bytes) in T s, R/s"
 *   udpperf HOST PORT COUNT [SIZE]   send COUNT datagrams of SIZE bytes (64) as fast as
 *                                    the socket takes them; print "sent N datagrams in T s, R/s"
 * T runs from the first datagram to the last. Datagrams the sender's queue or the network
 * dropped are simply not received: the receiver's rate is the one that counts.
 */
#include "net.h"

static void report(const char *what, u64 n, u64 bytes, u64 us) {
  out(what), outu(n, 0), out(" datagrams");
  if (bytes) out(" ("), outu(bytes, 0), out(" bytes)");
  out(" in ");
  char ms[21];
  fmt_u(ms, us / 1000 % 1000 + 1000); /* "1xyz": the three decimals after the 1 */
  outu(us / 1000000, 0), out("."), out(ms + 1);
  out(" s, "), outu(us ? n * 1000000 / us : 0, 0), out("/s\n");
}

int udpperf_main(int argc, char **argv) {
  static char buf[2048];
  unsigned short port;
  if (argc >= 3 && !strcmp(argv[1], "-l") && parse_port(argv[2], &port)) {
    u64 wait_s = 1;
    if (argc == 5 && !strcmp(argv[3], "-w") && parse_u64(argv[4], &wait_s)) {
    } else if (argc != 3) return warn_msg("udpperf", "usage: udpperf -l PORT [-w SECS]"), 1;
    int fd = sock_open(SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sock_bind(fd, INADDR_ANY, port) < 0) return warn("udpperf", "bind"), 1;
    out("udpperf: listening on "), out(argv[2]), out("\n");
    u64 n = 0, bytes = 0, first = 0, last = 0;
    for (;;) {
      struct pollfd p = {fd, POLLIN, 0};
      int r = poll_fds(&p, 1, n ? (int)(wait_s * 1000) : -1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      long got = read(fd, buf, sizeof buf);
      if (got < 0) continue;
      last = now_us();
      if (!n) first = last;
      n++, bytes += (u64)got;
    }
    report("received ", n, bytes, last - first);
    return 0;
  }
  u64 count, size = 64;
  unsigned int host;
  if ((argc != 4 && argc != 5) || !parse_ip(argv[1], &host) || !parse_port(argv[2], &port) || !parse_u64(argv[3], &count) ||
      (argc == 5 && (!parse_u64(argv[4], &size) || size > sizeof buf)))
    return warn_msg("udpperf", "usage: udpperf HOST PORT COUNT [SIZE] | udpperf -l PORT [-w SECS]"), 1;
  int fd = sock_open(SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sock_connect(fd, host, port) < 0) return warn("udpperf", "connect"), 1;
  memset(buf, 'u', sizeof buf);
  u64 start = now_us(), sent = 0;
  for (u64 i = 0; i < count; i++) {
    if (write(fd, buf, (size_t)size) == (ssize_t)size) sent++;
    else if (errno != ENOBUFS && errno != ECONNREFUSED && errno != EINTR) return warn("udpperf", "send"), 1;
  }
  report("sent ", sent, 0, now_us() - start);
  return 0;
}
