/*
 * kprintf and ksnprintf: %c %s %d %u %x %X %p %%, flags '0' and '-', a width, and the
 * 'l' / 'll' length modifiers (ll = 64 bits; 64-bit division comes from libgcc).
 */
#include "tos.h"

struct sink {
  char *buf;   /* NULL: the console */
  size_t cap, len;
};

static void put(struct sink *s, char c) {
  if (!s->buf) {
    con_putc(c);
  } else if (s->len + 1 < s->cap) {
    s->buf[s->len] = c;
  }
  s->len++;
}

static void emit(struct sink *s, const char *p, int len, int width, char pad, int left) {
  if (!left)
    for (int i = len; i < width; i++) put(s, pad);
  for (int i = 0; i < len; i++) put(s, p[i]);
  if (left)
    for (int i = len; i < width; i++) put(s, ' ');
}

static int utoa(char *buf, uint64_t v, unsigned base, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

static void format(struct sink *s, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(s, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int left = 0, width = 0, longs = 0;
    for (;; fmt++) {
      if (*fmt == '0') pad = '0';
      else if (*fmt == '-') left = 1;
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') longs++, fmt++;
    char buf[24];
    int n = 0;
    switch (*fmt) {
    case 'c':
      buf[0] = (char)va_arg(ap, int);
      emit(s, buf, 1, width, ' ', left);
      break;
    case 's': {
      const char *str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      emit(s, str, (int)strlen(str), width, ' ', left);
      break;
    }
    case 'd': {
      int64_t v = longs >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
      uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
      if (v < 0) buf[n++] = '-';
      n += utoa(buf + n, mag, 10, 0);
      emit(s, buf, n, width, v < 0 ? ' ' : pad, left);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
      n = utoa(buf, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
      emit(s, buf, n, width, pad, left);
      break;
    }
    case 'p':
      put(s, '0');
      put(s, 'x');
      n = utoa(buf, (uintptr_t)va_arg(ap, void *), 16, 0);
      emit(s, buf, n, 8, '0', 0);
      break;
    case '%':
      put(s, '%');
      break;
    case '\0':
      return;
    default:
      put(s, '%');
      put(s, *fmt);
    }
  }
}

void kvprintf(const char *fmt, va_list ap) {
  struct sink s = {0, 0, 0};
  format(&s, fmt, ap);
}

void kprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...) {
  struct sink s = {buf, n, 0};
  va_list ap;
  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  if (n) buf[s.len < n ? s.len : n - 1] = 0;
  return (int)s.len;
}

void fmt_seconds(char *buf, size_t n, uint64_t ns, int decimals) {
  uint64_t unit = 1000000000ull, frac_div = 1;
  for (int i = decimals; i < 9; i++) frac_div *= 10;
  uint64_t whole = ns / unit, frac = (ns % unit) / frac_div;
  char fmt[16];
  ksnprintf(fmt, sizeof fmt, "%%llu.%%0%dllu", decimals);
  ksnprintf(buf, n, fmt, whole, frac);
}
