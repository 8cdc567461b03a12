/*
 * httpd and wget: HTTP/1.0 (RFC 1945) over TCP, one request per connection.
 *   httpd [-p PORT] [-v] [DIR]   serve the files under DIR (default /www, else /) on PORT (80),
 *                                one connection at a time, GET and HEAD; a directory
 *                                serves its index.html; -v logs each request on stderr
 *   wget [-q] [-O FILE] URL      fetch http://HOST[:PORT]/PATH into FILE (default: the
 *                                last part of PATH, index.html for a directory; - for
 *                                standard output)
 * No DNS: HOST is an IPv4 address. Paths with .. are refused (403).
 */
#include "net.h"

static char buf[8192];

static char *find(const char *s, const char *word) { /* strstr, which nolibc lacks */
  for (size_t n = strlen(word); *s; s++)
    if (!strncmp(s, word, n)) return (char *)s;
  return 0;
}

static int send_str(int fd, const char *s) { return sock_send_all(fd, s, strlen(s)); }

static void respond(int fd, const char *status, const char *type, u64 length, int with_body) {
  char num[21], head[256];
  strlcpy(head, "HTTP/1.0 ", sizeof head), strlcat(head, status, sizeof head);
  strlcat(head, "\r\nServer: hyperlab-httpd\r\nContent-Type: ", sizeof head), strlcat(head, type, sizeof head);
  strlcat(head, "\r\nContent-Length: ", sizeof head), strlcat(head, fmt_u(num, length), sizeof head);
  strlcat(head, "\r\nConnection: close\r\n\r\n", sizeof head);
  send_str(fd, head);
  if (with_body && strncmp(status, "200", 3)) send_str(fd, status), send_str(fd, "\n");
}

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && (!strcmp(dot, ".html") || !strcmp(dot, ".htm"))) return "text/html";
  if (dot && (!strcmp(dot, ".txt") || !strcmp(dot, ".sh") || !strcmp(dot, ".c"))) return "text/plain";
  return "application/octet-stream";
}

/* Reads the request head (up to the blank line, 10 s at most), answers, returns the status. */
static int serve(int fd, const char *root) {
  size_t got = 0;
  u64 until = now_us() + 10000000u;
  while (got < sizeof buf - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    u64 now = now_us();
    if (now >= until || poll_fds(&p, 1, (int)((until - now) / 1000) + 1) <= 0) return 408;
    long n = read(fd, buf + got, sizeof buf - 1 - got);
    if (n < 0 || (n == 0 && !got)) return 400;
    if (n == 0) break; /* the client ended its half: answer what it sent */
    got += (size_t)n, buf[got] = 0;
    if (find(buf, "\r\n\r\n") || find(buf, "\n\n")) break;
  }
  char *sp1 = strchr(buf, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : 0, *eol = strchr(buf, '\n');
  if (!sp1 || !sp2 || !eol || sp2 > eol) return respond(fd, "400 Bad Request", "text/plain", 16, 1), 400;
  *sp1 = 0, *sp2 = 0;
  int head = !strcmp(buf, "HEAD");
  if (!head && strcmp(buf, "GET")) return respond(fd, "501 Not Implemented", "text/plain", 20, 1), 501;
  char *url = sp1 + 1, *q = strchr(url, '?');
  if (q) *q = 0;
  if (url[0] != '/' || find(url, "..")) return respond(fd, "403 Forbidden", "text/plain", 14, 1), 403;
  char path[256];
  path_join(path, sizeof path, root, url + 1);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    strlcat(path, path[strlen(path) - 1] == '/' ? "index.html" : "/index.html", sizeof path);
  }
  int f = open(path, O_RDONLY);
  if (f < 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
    if (f >= 0) close(f);
    return respond(fd, "404 Not Found", "text/plain", 14, 1), 404;
  }
  respond(fd, "200 OK", content_type(path), (u64)st.st_size, 0);
  long n;
  if (!head)
    while ((n = read(f, buf, sizeof buf)) > 0)
      if (sock_send_all(fd, buf, (size_t)n) < 0) break;
  close(f);
  return 200;
}

int httpd_main(int argc, char **argv) {
  unsigned short port = 80;
  int verbose = 0;
  const char *root = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-p") && i + 1 < argc && parse_port(argv[i + 1], &port)) i++;
    else if (!strcmp(argv[i], "-v")) verbose = 1;
    else if (argv[i][0] != '-' && !root) root = argv[i];
    else return warn_msg("httpd", "usage: httpd [-p PORT] [-v] [DIR]"), 1;
  }
  if (!root) root = is_dir("/www") ? "/www" : "/";
  if (!is_dir(root)) return warn("httpd", root), 1;
  ignore_signal(13 /* SIGPIPE */, 1);
  int fd = sock_open(SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return warn("httpd", "socket"), 1;
  sock_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (sock_bind(fd, INADDR_ANY, port) < 0 || sock_listen(fd, 8) < 0) return warn("httpd", "bind"), 1;
  for (;;) {
    struct sockaddr_in peer;
    int c = sock_accept(fd, &peer);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return warn("httpd", "accept"), 1;
    }
    int status = serve(c, root);
    if (verbose) {
      char ip[16];
      fdout(2, "httpd: "), fdout(2, fmt_ip(ip, net32(peer.sin_addr))), fdout(2, " "), fdout(2, buf), fdout(2, " ");
      fdout(2, status == 200 ? "200\n" : status == 404 ? "404\n" : "error\n");
    }
    sock_shutdown(c, SHUT_WR);
    close(c);
  }
}

int wget_main(int argc, char **argv) {
  const char *url = 0, *outname = 0;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-O") && i + 1 < argc) outname = argv[++i];
    else if (!strcmp(argv[i], "-q")) quiet = 1;
    else if (!url && argv[i][0] != '-') url = argv[i];
    else return warn_msg("wget", "usage: wget [-q] [-O FILE] URL"), 1;
  }
  if (!url) return warn_msg("wget", "usage: wget [-q] [-O FILE] URL"), 1;
  if (!strncmp(url, "http://", 7)) url += 7;
  char hostport[64], ip[16], num[21];
  const char *path = strchr(url, '/');
  size_t hl = path ? (size_t)(path - url) : strlen(url);
  if (!path) path = "/";
  if (hl >= sizeof hostport) return warn_msg("wget", "bad URL"), 1;
  memcpy(hostport, url, hl), hostport[hl] = 0;
  unsigned short port = 80;
  char *colon = strchr(hostport, ':');
  if (colon && !parse_port(colon + 1, &port)) return warn_msg("wget", "bad port"), 1;
  if (colon) *colon = 0;
  unsigned int host;
  if (!parse_ip(hostport, &host)) return warn_msg("wget", "HOST is an IPv4 address (no DNS)"), 1;
  if (!outname) {
    outname = base_name(path);
    if (!*outname || !strcmp(outname, "/") || path[strlen(path) - 1] == '/') outname = "index.html";
  }
  int to_stdout = !strcmp(outname, "-");
  if (!quiet && !to_stdout) fdout(2, "Connecting to "), fdout(2, fmt_ip(ip, host)), fdout(2, ":"), fdout(2, fmt_u(num, port)), fdout(2, "\n");
  ignore_signal(13 /* SIGPIPE */, 1);
  int fd = sock_open(SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return warn("wget", "socket"), 1;
  if (sock_connect(fd, host, port) < 0) return warn("wget", fmt_ip(ip, host)), 1;
  char req[512];
  strlcpy(req, "GET ", sizeof req), strlcat(req, path, sizeof req), strlcat(req, " HTTP/1.0\r\nHost: ", sizeof req);
  strlcat(req, fmt_ip(ip, host), sizeof req), strlcat(req, "\r\nUser-Agent: hyperlab-wget\r\n\r\n", sizeof req);
  if (send_str(fd, req) < 0) return warn("wget", "send"), 1;
  /* the head: status line and headers up to the blank line */
  size_t got = 0;
  char *body = 0;
  long n;
  while (!body && got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
    got += (size_t)n, buf[got] = 0;
    char *end = find(buf, "\r\n\r\n");
    if (end) body = end + 4;
  }
  if (!body) return warn_msg("wget", "no HTTP response"), 1;
  char *eol = strchr(buf, '\r');
  *eol = 0;
  if (strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 8, " 200", 4)) {
    fdout(2, "wget: server returned error: "), fdout(2, buf), fdout(2, "\n");
    return 1;
  }
  int of = to_stdout ? 1 : open(outname, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (of < 0) return warn("wget", outname), 1;
  u64 total = (u64)(got - (size_t)(body - buf));
  if (write_all(of, body, (size_t)total) < 0) return warn("wget", outname), 1;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (write_all(of, buf, (size_t)n) < 0) return warn("wget", outname), 1;
    total += (u64)n;
  }
  if (n < 0) return warn("wget", "read"), 1;
  close(fd);
  if (!to_stdout) {
    close(of);
    if (!quiet) fdout(2, "'"), fdout(2, outname), fdout(2, "' saved ("), fdout(2, fmt_u(num, total)), fdout(2, " bytes)\n");
  }
  return 0;
}
