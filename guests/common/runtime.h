/*
 * hyperlab guest runtime: the few services every bare-metal guest needs on QEMU's
 * riscv32 `virt` board (see src/core/board/memoryMap.ts for the addresses).
 */
#ifndef HYPERLAB_RUNTIME_H
#define HYPERLAB_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Devices of the `virt` board (QEMU hw/riscv/virt.c virt_memmap). */
#define VIRT_TEST_BASE  0x00100000u  /* SiFive test finisher */
#define VIRT_CLINT_BASE 0x02000000u
#define VIRT_PLIC_BASE  0x0c000000u
#define VIRT_UART0_BASE 0x10000000u
#define VIRT_UART0_IRQ  10u
#define VIRT_TIMEBASE_HZ 10000000u   /* CLINT mtime frequency */

#define CLINT_MSIP(h)     (VIRT_CLINT_BASE + 4u * (h))
#define CLINT_MTIMECMP(h) (VIRT_CLINT_BASE + 0x4000u + 8u * (h))
#define CLINT_MTIME       (VIRT_CLINT_BASE + 0xbff8u)

static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

/* CSR access by name, e.g. csr_read(mstatus). */
#define csr_read(csr) ({ uint32_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define csr_swap(csr, val) ({ uint32_t v_; \
  __asm__ volatile("csrrw %0, " #csr ", %1" : "=r"(v_) : "r"((uint32_t)(val)) : "memory"); v_; })
/* Set / clear bits and return the old value in one instruction (csrrs / csrrc). */
#define csr_read_set(csr, val) ({ uint32_t v_; \
  __asm__ volatile("csrrs %0, " #csr ", %1" : "=r"(v_) : "r"((uint32_t)(val)) : "memory"); v_; })
#define csr_read_clear(csr, val) ({ uint32_t v_; \
  __asm__ volatile("csrrc %0, " #csr ", %1" : "=r"(v_) : "r"((uint32_t)(val)) : "memory"); v_; })

/* The registers saved by trap_entry (crt0.S) and by any TRAP_VECTOR (frame.h). */
struct trap_frame {
  uint32_t regs[32];
  uint32_t epc, cause, tval, status;
};

void trap_entry(void); /* the M-mode trap vector (crt0.S) */

/* Called by trap_entry. The default (weak) one reports the trap and fails. */
void trap_handler(struct trap_frame *f);

/* UART (NS16550A). Output translates "\n" to "\r\n". A guest linked without
 * uart.c (one with its own console) defines uart_putc and uart_puts itself: they are
 * kprintf's sink. */
void uart_putc(char c);
int uart_getc(void);            /* -1 when no byte is waiting */
void uart_puts(const char *s);

/* printf.c: %c %s %d %u %x %X %p %%, flags '0' and '-', a width, 'l' / 'll' (64 bit).
 * kprintf writes through uart_putc. ksnprintf writes at most n - 1 characters and a
 * NUL into buf (when n > 0) and returns the length the whole output would have. */
void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...);
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/* CLINT time, in ticks of VIRT_TIMEBASE_HZ. */
uint64_t clint_mtime(void);
void clint_set_mtimecmp(uint64_t t);

/* Power off through the SiFive test finisher. */
__attribute__((noreturn)) void finisher_pass(void);
__attribute__((noreturn)) void finisher_fail(uint32_t code);
__attribute__((noreturn)) void finisher_reset(void);   /* 0x7777: QEMU resets the board */
__attribute__((noreturn)) void exit(int code);   /* 0 = pass, else fail(code) */

/* Freestanding string helpers (the compiler may emit calls to these). */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *d, const char *s, size_t n);  /* BSD: returns strlen(s) */

#endif
