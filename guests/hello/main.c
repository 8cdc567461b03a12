/*
 * hello: the smallest useful guest. Prints a greeting, the boot registers QEMU's
 * reset vector hands over (a0 = hartid, a1 = device tree address) and whether a1
 * really points at a flattened device tree, then powers off with "pass".
 */
#include "runtime.h"

#define FDT_MAGIC 0xd00dfeedu  /* big-endian in memory (devicetree spec 5.2) */

static uint32_t be32(const void *p) {
  const uint8_t *b = p;
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int main(uint32_t hartid, const void *fdt) {
  uart_puts("Hello from hyperlab\n");
  uart_puts("RISC-V RV32IMA, machine mode, bare metal\n");
  kprintf("hartid: %u\n", hartid);
  kprintf("fdt: %p (%s)\n", fdt, fdt && be32(fdt) == FDT_MAGIC ? "magic ok" : "no device tree");
  uart_puts("hello: PASS\n");
  return 0;
}
