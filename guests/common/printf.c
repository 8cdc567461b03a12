/*
 * kprintf and ksnprintf: a small printf for guests. Supports %c %s %d %u %x %X %p %%,
 * the flags '0' and '-', a field width, and the 'l'/'ll' length modifiers (ll = 64 bit).
 * 64-bit decimal formatting divides by 10 via libgcc's __udivdi3.
 *
 * One formatter writes into a sink: the console (uart_putc) or a buffer.
 */
#include "runtime.h"

struct sink {
  char *buf;    /* NULL: the console */
  size_t cap;   /* room in buf, the NUL included (0: count only) */
  size_t len;   /* characters produced so far */
};

static void put(struct sink *s, char c) {
  if (!s->buf) {
    uart_putc(c);
  } else if (s->len + 1 < s->cap) {
    s->buf[s->len] = c;
  }
  s->len++;
}

static void emit_padded(struct sink *s, const char *p, int len, int width, char pad, int left) {
  if (!left)
    for (int i = len; i < width; i++) put(s, pad);
  for (int i = 0; i < len; i++) put(s, p[i]);
  if (left)
    for (int i = len; i < width; i++) put(s, ' ');
}

static int format_u64(char *buf, uint64_t v, unsigned base, int upper) {
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
      emit_padded(s, buf, 1, width, ' ', left);
      break;
    case 's': {
      const char *str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      emit_padded(s, str, (int)strlen(str), width, ' ', left);
      break;
    }
    case 'd': {
      int64_t v = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
      uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
      if (v < 0) buf[n++] = '-';
      n += format_u64(buf + n, mag, 10, 0);
      emit_padded(s, buf, n, width, v < 0 ? ' ' : pad, left);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
      n = format_u64(buf, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
      emit_padded(s, buf, n, width, pad, left);
      break;
    }
    case 'p':
      put(s, '0');
      put(s, 'x');
      n = format_u64(buf, (uintptr_t)va_arg(ap, void *), 16, 0);
      emit_padded(s, buf, n, 8, '0', 0);
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

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap) {
  static char none;  /* n == 0: count only, never the console */
  struct sink s = {n ? buf : &none, n, 0};
  format(&s, fmt, ap);
  if (n) buf[s.len < n ? s.len : n - 1] = 0;
  return (int)s.len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = kvsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return len;
}
