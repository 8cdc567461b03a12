/*
 * The hvm platform layer: QEMU's riscv32 `virt` board as the guest sees it (the memory
 * map of QEMU hw/riscv/virt.c; docs/hart.md and docs/devices.md for hyperlab's copy).
 */
#ifndef TOS_HVM_H
#define TOS_HVM_H

#include "plat.h"
#include "trapframe.h"

#define VIRT_TEST       0x00100000u  /* SiFive test finisher */
#define VIRT_CLINT      0x02000000u
#define VIRT_PLIC       0x0c000000u
#define VIRT_UART0      0x10000000u
#define VIRT_UART0_IRQ  10u
#define VIRT_DRAM       0x80000000u
#define TIMEBASE_HZ     10000000u    /* CLINT mtime: 10 MHz */

#define CLINT_MTIMECMP0 (VIRT_CLINT + 0x4000u)
#define CLINT_MTIME     (VIRT_CLINT + 0xbff8u)

/* PLIC context 0 is hart 0's M-mode. */
#define PLIC_PRIORITY(src)  (VIRT_PLIC + 4u * (src))
#define PLIC_ENABLE0        (VIRT_PLIC + 0x2000u)
#define PLIC_THRESHOLD0     (VIRT_PLIC + 0x200000u)
#define PLIC_CLAIM0         (VIRT_PLIC + 0x200004u)

/* mstatus / mie / mcause bits. */
#define MSTATUS_MIE (1u << 3)
#define MIE_MTIE    (1u << 7)
#define MIE_MEIE    (1u << 11)
#define IRQ_M_TIMER 7u
#define IRQ_M_EXT   11u

static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

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
