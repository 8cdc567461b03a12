/*
 * The hvm platform layer: QEMU's riscv32 `virt` board as the guest sees it (the memory
 * map of QEMU hw/riscv/virt.c; docs/hart.md and docs/devices.md for hyperlab's copy).
 */
#ifndef TOS_HVM_H
#define TOS_HVM_H

#include "plat.h"

/* The board's addresses (VIRT_*_BASE, CLINT_*), mmio_read/write, clint_mtime() and the
 * test finisher come from guests/common (runtime.h, platform.c). */
#define VIRT_DRAM       0x80000000u

/* PLIC context 0 is hart 0's M-mode. */
#define PLIC_PRIORITY(src)  (VIRT_PLIC_BASE + 4u * (src))
#define PLIC_ENABLE0        (VIRT_PLIC_BASE + 0x2000u)
#define PLIC_THRESHOLD0     (VIRT_PLIC_BASE + 0x200000u)
#define PLIC_CLAIM0         (VIRT_PLIC_BASE + 0x200004u)

/* mstatus / mie / mcause bits. */
#define MSTATUS_MIE (1u << 3)
#define MIE_MTIE    (1u << 7)
#define MIE_MEIE    (1u << 11)
#define IRQ_M_TIMER 7u
#define IRQ_M_EXT   11u

/* fdt.c */
struct fdt_facts {
  uint32_t mem_base, mem_size, harts;
};
int fdt_scan(uint32_t addr, struct fdt_facts *out);

/* uart.c */
void uart_init(void);
void uart_write(const char *buf, size_t n);
void uart_drain(void);
void uart_isr(void);
void uart_rx_kick(void);

#endif
