/*
 * cksum [FILE]...: POSIX cksum, the CRC-32 of ISO/IEC 8802-3 (polynomial 0x04c11db7, MSB
 * first) over the bytes and then the length, complemented; prints "CRC LENGTH [NAME]" as
 * GNU cksum does, so a file moved between guests (or to the host) can be checked.
 */
#include "box.h"

static unsigned int table[256];

static void make_table(void) {
  for (unsigned int i = 0; i < 256; i++) {
    unsigned int c = i << 24;
    for (int k = 0; k < 8; k++) c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
    table[i] = c;
  }
}

static int sum_fd(int fd, const char *name) {
  static unsigned char buf[8192];
  unsigned int crc = 0;
  u64 len = 0;
  long n;
  while ((n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (long i = 0; i < n; i++) crc = (crc << 8) ^ table[(crc >> 24) ^ buf[i]];
    len += (u64)n;
  }
  for (u64 l = len; l; l >>= 8) crc = (crc << 8) ^ table[(crc >> 24) ^ (l & 0xff)];
  outu(~crc & 0xffffffffu, 0), out(" "), outu(len, 0);
  if (name) out(" "), out(name);
  out("\n");
  return 0;
}

int cksum_main(int argc, char **argv) {
  int status = 0;
  make_table();
  if (argc < 2) return sum_fd(0, 0) < 0 ? (warn("cksum", "-"), 1) : 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0 || sum_fd(fd, argv[i]) < 0) warn("cksum", argv[i]), status = 1;
    if (fd >= 0) close(fd);
  }
  return status;
}
