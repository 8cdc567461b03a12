/* Helpers shared by the applets: output, error messages, numbers, paths, files. */
#include "box.h"

void outn(const char *s, size_t n) { write_all(1, s, n); }
void out(const char *s) { outn(s, strlen(s)); }
void fdout(int fd, const char *s) { write_all(fd, s, strlen(s)); }

char *fmt_u(char *buf, u64 v) {
  char tmp[21];
  int i = sizeof tmp;
  tmp[--i] = 0;
  do tmp[--i] = (char)('0' + v % 10), v /= 10; while (v);
  memcpy(buf, tmp + i, sizeof tmp - i);
  return buf;
}

void outs(const char *s, int width) {
  char buf[128];
  size_t len = strlen(s), w = (size_t)(width < 0 ? -width : width), pad = w > len ? w - len : 0, at = 0;
  if (pad + len > sizeof buf) pad = 0;
  if (width > 0) memset(buf, ' ', pad), at = pad;
  if (at + len > sizeof buf) {
    out(s);
    return;
  }
  memcpy(buf + at, s, len), at += len;
  if (width < 0) memset(buf + at, ' ', pad), at += pad;
  outn(buf, at);
}

void outu(u64 v, int width) {
  char buf[21];
  outs(fmt_u(buf, v), width);
}

const char *err_str(int e) {
  switch (e) {
  case EPERM: return "Operation not permitted";
  case ENOENT: return "No such file or directory";
  case ESRCH: return "No such process";
  case EINTR: return "Interrupted system call";
  case EIO: return "Input/output error";
  case ENXIO: return "No such device or address";
  case E2BIG: return "Argument list too long";
  case ENOEXEC: return "Exec format error";
  case EBADF: return "Bad file descriptor";
  case ECHILD: return "No child processes";
  case ENOMEM: return "Cannot allocate memory";
  case EACCES: return "Permission denied";
  case EFAULT: return "Bad address";
  case ENOTBLK: return "Block device required";
  case EBUSY: return "Device or resource busy";
  case EEXIST: return "File exists";
  case EXDEV: return "Invalid cross-device link";
  case ENODEV: return "No such device";
  case ENOTDIR: return "Not a directory";
  case EISDIR: return "Is a directory";
  case EINVAL: return "Invalid argument";
  case EMFILE: return "Too many open files";
  case ENOTTY: return "Inappropriate ioctl for device";
  case EFBIG: return "File too large";
  case ENOSPC: return "No space left on device";
  case ESPIPE: return "Illegal seek";
  case EROFS: return "Read-only file system";
  case EPIPE: return "Broken pipe";
  case ERANGE: return "Numerical result out of range";
  case ENAMETOOLONG: return "File name too long";
  case ENOSYS: return "Function not implemented";
  case ENOTEMPTY: return "Directory not empty";
  case ELOOP: return "Too many levels of symbolic links";
  case EADDRINUSE: return "Address already in use";
  case EADDRNOTAVAIL: return "Cannot assign requested address";
  case ENETDOWN: return "Network is down";
  case ENETUNREACH: return "Network is unreachable";
  case ECONNRESET: return "Connection reset by peer";
  case ETIMEDOUT: return "Connection timed out";
  case ECONNREFUSED: return "Connection refused";
  case EHOSTUNREACH: return "No route to host";
  case EAFNOSUPPORT: return "Address family not supported by protocol";
  case EPROTONOSUPPORT: return "Protocol not supported";
  default: return 0;
  }
}

void warn_msg(const char *who, const char *msg) {
  fdout(2, who);
  fdout(2, ": ");
  fdout(2, msg);
  fdout(2, "\n");
}

void warn(const char *who, const char *what) {
  int e = errno;
  const char *s = err_str(e);
  char num[21];
  fdout(2, who);
  if (what) fdout(2, ": "), fdout(2, what);
  fdout(2, ": ");
  fdout(2, s ? s : "error ");
  if (!s) fdout(2, fmt_u(num, (u64)e));
  fdout(2, "\n");
}

int parse_u64(const char *s, u64 *v) {
  u64 r = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (r > (~0ull - 9) / 10) return 0;
    r = r * 10 + (u64)(*s - '0');
  }
  *v = r;
  return 1;
}

/* A number with dd's suffixes: c 1, w 2, b 512, kB 1000, k/K 1024, MB, M, GB, G. */
int parse_size(const char *s, u64 *v) {
  char digits[24];
  size_t i = 0;
  while (s[i] >= '0' && s[i] <= '9' && i < sizeof digits - 1) digits[i] = s[i], i++;
  digits[i] = 0;
  u64 n, mul = 1;
  if (!parse_u64(digits, &n)) return 0;
  const char *suf = s + i;
  if (!*suf) mul = 1;
  else if (!strcmp(suf, "c")) mul = 1;
  else if (!strcmp(suf, "w")) mul = 2;
  else if (!strcmp(suf, "b")) mul = 512;
  else if (!strcmp(suf, "kB")) mul = 1000;
  else if (!strcmp(suf, "k") || !strcmp(suf, "K") || !strcmp(suf, "KiB")) mul = 1024;
  else if (!strcmp(suf, "MB")) mul = 1000000;
  else if (!strcmp(suf, "M") || !strcmp(suf, "MiB")) mul = 1024 * 1024;
  else if (!strcmp(suf, "GB")) mul = 1000000000;
  else if (!strcmp(suf, "G") || !strcmp(suf, "GiB")) mul = 1024 * 1024 * 1024;
  else return 0;
  *v = n * mul;
  return 1;
}

int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash && slash[1] ? slash + 1 : path;
}

void path_join(char *buf, size_t size, const char *dir, const char *name) {
  size_t d = strlen(dir);
  strlcpy(buf, dir, size);
  if (d && dir[d - 1] != '/' && d + 1 < size) buf[d++] = '/', buf[d] = 0;
  strlcat(buf, name, size);
}

long read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  size_t got = 0;
  long n;
  while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0) got += (size_t)n;
  close(fd);
  buf[got] = 0;
  return (long)got;
}

int write_all(int fd, const char *buf, size_t n) {
  while (n) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w, n -= (size_t)w;
  }
  return 0;
}

int copy_fd(int from, int to) {
  static char buf[4096];
  ssize_t n;
  while ((n = read(from, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (write_all(to, buf, (size_t)n) < 0) return -1;
  }
  return 0;
}
