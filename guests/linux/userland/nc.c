/*
 * nc: TCP and UDP, client and listener, standard input to the socket and the socket to
 * standard output (as OpenBSD's netcat), so that
 *   nc -l 5000 > FILE          (on one guest)   and   nc 10.0.0.2 5000 < FILE   (on another)
 * transfer a file.
 *   nc [-u] [-v] [-w SECS] HOST PORT      connect
 *   nc -l [-u] [-v] [-w SECS] [-p] PORT   listen, serve one peer (UDP: the first that sends)
 * -v: "nc: listening on PORT", and at the end the bytes each way and the time from the
 * connection (or the first datagram) to the end, with the rate, on standard error.
 * TCP: end of input shuts down our sending half (the peer sees the end of the file), and nc
 * exits when both halves are done: input ended and the peer closed its half. UDP has no
 * end: a client exits at the end of its input, or with -w SECS after SECS of silence; a
 * listener runs until SECS of silence (-w) or ^C. Each read of the input is one datagram.
 */
#include "net.h"

static int usage(void) {
  warn_msg("nc", "usage: nc [-u] [-v] [-w SECS] HOST PORT | nc -l [-u] [-v] [-w SECS] [-p] PORT");
  return 1;
}

int nc_main(int argc, char **argv) {
  int listen = 0, udp = 0, verbose = 0;
  u64 wait_s = 0;
  int have_wait = 0;
  const char *args[2];
  int nargs = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && a[1]) {
      for (const char *f = a + 1; *f; f++) {
        if (*f == 'l') listen = 1;
        else if (*f == 'u') udp = 1;
        else if (*f == 'v') verbose = 1;
        else if (*f == 'p') continue; /* the port follows as the last argument */
        else if (*f == 'w' && !f[1] && i + 1 < argc && parse_u64(argv[++i], &wait_s)) have_wait = 1;
        else return usage();
      }
    } else if (nargs < 2) args[nargs++] = a;
    else return usage();
  }
  unsigned int host = 0;
  unsigned short port;
  if (nargs != (listen ? 1 : 2) || !parse_port(args[nargs - 1], &port) || (!listen && !parse_ip(args[0], &host))) return usage();
  ignore_signal(13 /* SIGPIPE */, 1);
  int fd = sock_open((udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return warn("nc", "socket"), 1;
  static char buf[16384];
  long n = 0;
  if (listen) {
    sock_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (sock_bind(fd, INADDR_ANY, port) < 0) return warn("nc", "bind"), 1;
    if (!udp && sock_listen(fd, 1) < 0) return warn("nc", "listen"), 1;
    if (verbose) fdout(2, "nc: listening on "), fdout(2, args[0]), fdout(2, "\n");
    if (!udp) {
      struct sockaddr_in peer;
      int c = sock_accept(fd, &peer);
      if (c < 0) return warn("nc", "accept"), 1;
      close(fd);
      fd = c;
    } else {
      /* the first datagram names the peer: answer it, and hear only it */
      struct sockaddr_in peer;
      while ((n = sock_recvfrom(fd, buf, sizeof buf, &peer)) < 0 && errno == EINTR) {}
      if (n < 0) return warn("nc", "recvfrom"), 1;
      write_all(1, buf, (size_t)n);
      if (sock_connect(fd, net32(peer.sin_addr), net16(peer.sin_port)) < 0) return warn("nc", "connect"), 1;
    }
  } else if (sock_connect(fd, host, port) < 0) {
    char ip[16];
    return warn("nc", fmt_ip(ip, host)), 1;
  }

  int in_open = 1, sock_rd = 1, status = 0;
  u64 quiet_since = now_us(), start = quiet_since, received = 0, sent = 0;
  if (listen && udp) received = (u64)n;
  for (;;) {
    if (!udp && !in_open && !sock_rd) break;          /* TCP: both halves done */
    if (udp && !in_open && !listen && !have_wait) break; /* UDP client: end of input */
    struct pollfd p[2];
    int np = 0, si = -1, ii = -1;
    if (sock_rd) si = np, p[np].fd = fd, p[np].events = POLLIN, p[np++].revents = 0;
    if (in_open) ii = np, p[np].fd = 0, p[np].events = POLLIN, p[np++].revents = 0;
    int timeout = -1;
    if (have_wait) {
      u64 idle = (now_us() - quiet_since) / 1000;
      timeout = idle >= wait_s * 1000 ? 0 : (int)(wait_s * 1000 - idle);
    }
    int r = poll_fds(p, np, timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return warn("nc", "poll"), 1;
    if (r == 0) break; /* -w: silence */
    if (si >= 0 && p[si].revents) {
      n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) { /* UDP: an ICMP port unreachable answered an earlier datagram */
        if (errno != ECONNRESET && errno != ECONNREFUSED) warn("nc", "read");
        status = 1;
        break;
      }
      if (n == 0 && !udp) sock_rd = 0; /* the peer closed its half (an empty datagram is no end) */
      else if (write_all(1, buf, (size_t)n) < 0) return warn("nc", "write"), 1;
      received += (u64)n;
      quiet_since = now_us();
    }
    if (ii >= 0 && p[ii].revents) {
      n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        in_open = 0;
        if (!udp) sock_shutdown(fd, SHUT_WR);
      } else if (sock_send_all(fd, buf, (size_t)n) < 0 && errno != ECONNREFUSED) {
        if (errno == EPIPE || errno == ECONNRESET) break;
        return warn("nc", "send"), 1;
      } else sent += (u64)n;
      quiet_since = now_us();
    }
  }
  close(fd);
  if (verbose) { /* from the connection (or the first datagram) to the end */
    u64 us = now_us() - start, bits = (received > sent ? received : sent) * 8;
    char num[21];
    fdout(2, "nc: "), fdout(2, fmt_u(num, received)), fdout(2, " bytes received, "), fdout(2, fmt_u(num, sent)), fdout(2, " sent in ");
    fdout(2, fmt_u(num, us / 1000)), fdout(2, " ms, "), fdout(2, fmt_u(num, us ? bits / us : 0)), fdout(2, " Mbit/s\n");
  }
  return status;
}
