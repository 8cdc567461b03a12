/*
 * Board services: CLINT time, the SiFive test finisher, the default trap handler
 * and the freestanding string functions.
 */
#include "runtime.h"

uint64_t clint_mtime(void) {
  /* mtime is 64-bit but RV32 reads 32 bits at a time: re-read if the high word moved. */
  uint32_t hi, lo;
  do {
    hi = mmio_read32(CLINT_MTIME + 4);
    lo = mmio_read32(CLINT_MTIME);
  } while (hi != mmio_read32(CLINT_MTIME + 4));
  return ((uint64_t)hi << 32) | lo;
}

void clint_set_mtimecmp(uint64_t t) {
  /* Privileged spec 3.2.1: write the high word last through an all-ones low word
   * so no intermediate value lies in the past and fires a spurious interrupt. */
  mmio_write32(CLINT_MTIMECMP(0), 0xffffffffu);
  mmio_write32(CLINT_MTIMECMP(0) + 4, (uint32_t)(t >> 32));
  mmio_write32(CLINT_MTIMECMP(0), (uint32_t)t);
}

/* SiFive test finisher (QEMU hw/misc/sifive_test.c): 0x5555 = pass, 0x3333 = fail,
 * 0x7777 = reset. */
void finisher_pass(void) {
  mmio_write32(VIRT_TEST_BASE, 0x5555);
  for (;;) __asm__ volatile("wfi");
}

void finisher_fail(uint32_t code) {
  mmio_write32(VIRT_TEST_BASE, 0x3333 | ((code & 0xffff) << 16));
  for (;;) __asm__ volatile("wfi");
}

void finisher_reset(void) {
  mmio_write32(VIRT_TEST_BASE, 0x7777);
  for (;;) __asm__ volatile("wfi");
}

void exit(int code) {
  if (code == 0) finisher_pass();
  finisher_fail(code > 0 && code < 0x10000 ? (uint32_t)code : 1);
}

__attribute__((weak)) void trap_handler(struct trap_frame *f) {
  kprintf("unexpected trap: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n", f->cause, f->epc, f->tval);
  finisher_fail(3);
}

void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *p = d;
  const uint8_t *q = s;
  while (n--) *p++ = *q++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  uint8_t *p = d;
  const uint8_t *q = s;
  if (p < q) {
    while (n--) *p++ = *q++;
  } else {
    while (n--) p[n] = q[n];
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *p = a, *q = b;
  for (; n; n--, p++, q++)
    if (*p != *q) return *p - *q;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (uint8_t)*a - (uint8_t)*b;
    if (!*a) return 0;
  }
  return 0;
}

size_t strlcpy(char *d, const char *s, size_t n) {
  size_t len = strlen(s);
  if (n) {
    size_t k = len < n - 1 ? len : n - 1;
    memcpy(d, s, k);
    d[k] = 0;
  }
  return len;
}
