/* hexdump [-C] [FILE]...: the files one after the other, 16 bytes a line, a repeated line
 * shown as "*" (util-linux's format). Default: 16-bit little-endian words; -C: canonical,
 * bytes and text. */
#include "box.h"

static const char hex[] = "0123456789abcdef";

static char *put_hex(char *p, unsigned long v, int digits) {
  for (int i = digits - 1; i >= 0; i--) p[i] = hex[v & 15], v >>= 4;
  return p + digits;
}

static void hd_line(const unsigned char *b, int n, unsigned long off, int canonical) {
  char line[96], *p = line;
  if (canonical) {
    p = put_hex(p, off, 8);
    *p++ = ' ', *p++ = ' ';
    for (int i = 0; i < 16; i++) {
      if (i < n) p = put_hex(p, b[i], 2), *p++ = ' ';
      else *p++ = ' ', *p++ = ' ', *p++ = ' ';
      if (i == 7) *p++ = ' ';
    }
    *p++ = ' ', *p++ = '|';
    for (int i = 0; i < n; i++) *p++ = b[i] >= 32 && b[i] < 127 ? (char)b[i] : '.';
    *p++ = '|';
  } else {
    p = put_hex(p, off, 7);
    for (int i = 0; i < n; i += 2) *p++ = ' ', p = put_hex(p, b[i] | (i + 1 < n ? b[i + 1] << 8 : 0), 4);
  }
  *p++ = '\n';
  outn(line, (size_t)(p - line));
}

int hexdump_main(int argc, char **argv) {
  int canonical = 0, i = 1, status = 0;
  if (i < argc && !strcmp(argv[i], "-C")) canonical = 1, i++;
  unsigned char cur[16], prev[16];
  int have = 0, squeezed = 0, any_prev = 0;
  unsigned long off = 0;
  for (int k = i; k < argc || (k == i && i == argc); k++) {
    const char *name = k < argc ? argv[k] : "-";
    int fd = strcmp(name, "-") ? open(name, O_RDONLY) : 0;
    if (fd < 0) {
      warn("hexdump", name);
      status = 1;
      continue;
    }
    ssize_t n;
    while ((n = read(fd, cur + have, (size_t)(16 - have))) > 0) {
      have += (int)n;
      if (have < 16) continue;
      if (any_prev && !memcmp(cur, prev, 16)) {
        if (!squeezed) out("*\n");
        squeezed = 1;
      } else {
        hd_line(cur, 16, off, canonical);
        squeezed = 0;
      }
      memcpy(prev, cur, 16);
      any_prev = 1;
      off += 16;
      have = 0;
    }
    if (n < 0) warn("hexdump", name), status = 1;
    if (fd > 0) close(fd);
  }
  if (have) hd_line(cur, have, off, canonical), off += (unsigned long)have;
  if (off || !status) {
    char end[10], *p = put_hex(end, off, canonical ? 8 : 7);
    *p++ = '\n';
    outn(end, (size_t)(p - end));
  }
  return status;
}
