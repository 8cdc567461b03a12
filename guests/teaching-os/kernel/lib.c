/*
 * What the kernel adds to guests/common's runtime (string functions and kprintf /
 * ksnprintf live there): number parsing and time formatting for the shell.
 */
#include "tos.h"

int parse_u32(const char *s, uint32_t *out) {
  uint32_t v = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    uint32_t d = (uint32_t)(*s - '0');
    if (v > (0xffffffffu - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

void fmt_seconds(char *buf, size_t n, uint64_t ns, int decimals) {
  uint64_t unit = 1000000000ull, frac_div = 1;
  for (int i = decimals; i < 9; i++) frac_div *= 10;
  uint64_t whole = ns / unit, frac = (ns % unit) / frac_div;
  char fmt[16];
  ksnprintf(fmt, sizeof fmt, "%%llu.%%0%dllu", decimals);
  ksnprintf(buf, n, fmt, whole, frac);
}
