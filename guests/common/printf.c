/*
 * kprintf: a small printf for guests. Supports %c %s %d %u %x %X %p %%, the
 * flags '0' and '-', a field width, and the 'l'/'ll' length modifiers (ll = 64 bit).
 * 64-bit decimal formatting divides by 10 via libgcc's __udivdi3.
 */
#include "runtime.h"

static void emit_padded(const char *s, int len, int width, char pad, int left) {
  if (!left)
    for (int i = len; i < width; i++) uart_putc(pad);
  for (int i = 0; i < len; i++) uart_putc(s[i]);
  if (left)
    for (int i = len; i < width; i++) uart_putc(' ');
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

void kvprintf(const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      uart_putc(*fmt);
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
      emit_padded(buf, 1, width, ' ', left);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      emit_padded(s, (int)strlen(s), width, ' ', left);
      break;
    }
    case 'd': {
      int64_t v = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
      uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
      if (v < 0) buf[n++] = '-';
      n += format_u64(buf + n, mag, 10, 0);
      emit_padded(buf, n, width, v < 0 ? ' ' : pad, left);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
      n = format_u64(buf, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
      emit_padded(buf, n, width, pad, left);
      break;
    }
    case 'p':
      uart_puts("0x");
      n = format_u64(buf, (uintptr_t)va_arg(ap, void *), 16, 0);
      emit_padded(buf, n, 8, '0', 0);
      break;
    case '%':
      uart_putc('%');
      break;
    case '\0':
      return;
    default:
      uart_putc('%');
      uart_putc(*fmt);
    }
  }
}

void kprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
}
