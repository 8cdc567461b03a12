/*
 * The teaching OS: what the kernel (kernel/) offers to itself and to its two platform
 * layers (hvm/ and pv/). The platform interface is plat.h.
 *
 * One vCPU, no scheduler, no address spaces: the kernel runs a shell loop and sleeps
 * between interrupts. Interrupt handlers only move bytes and set flags; everything that
 * can block (xenstore requests, ballooning, console output) runs in the shell loop.
 */
#ifndef TOS_H
#define TOS_H

#include "runtime.h"   /* guests/common: string functions, kprintf, CSRs, trap frame */

#define TOS_VERSION "0.1"
#define PAGE_SIZE   4096u
#define PAGE_SHIFT  12
#define TICK_HZ     100u                     /* timer interrupts per second */
#define NS_PER_TICK (1000000000u / TICK_HZ)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define barrier() __asm__ volatile("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* ---- guests/common (runtime.h): mem*, str*, strlcpy, kprintf (written through
 * uart_putc, which console.c points at the line discipline), ksnprintf. Redeclared here
 * so that the compiler checks the kernel's format strings. ---- */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- lib.c: what the kernel adds to the common runtime ---- */
/* Parse a decimal number; returns 0 and sets *out, or -1 if s is not one (or overflows). */
int parse_u32(const char *s, uint32_t *out);
/* "12.345": ns as seconds with `decimals` (1..6) digits after the point, truncated. */
void fmt_seconds(char *buf, size_t n, uint64_t ns, int decimals);

/* ---- console.c: line discipline over the platform's byte console ---- */
void con_putc(char c);                     /* "\n" goes out as "\r\n" */
void con_puts(const char *s);
void con_write_raw(const char *s, size_t n); /* no newline translation */
void con_flush(void);                       /* hand buffered output to the platform */
void con_drain(void);                       /* ... and wait until it has left the machine */
/* Read one edited line (echo, backspace, Ctrl-U); returns its length. */
size_t con_readline(const char *prompt, char *buf, size_t cap);
/* Print a line while the shell may be waiting at its prompt (redraws prompt + input). */
void con_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ctrl-C since the last call? (consumes it) */
int con_break(void);
/* Called by the platform's input interrupt: room left in the input buffer, and a byte. */
size_t con_rx_room(void);
void con_rx(uint8_t c);

/* ---- page.c: the page frame allocator (one state byte per RAM page) ---- */
enum page_state { PG_FREE = 0, PG_USED = 1, PG_RESERVED = 2, PG_BALLOONED = 3 };
/* RAM from `base`, `nr_pages` pages. The state array is carved from the first free
 * pages after the kernel image (`first_free`, page-aligned). */
void page_init(uint32_t base, uint32_t nr_pages, uint32_t first_free);
void page_reserve(uint32_t addr, uint32_t len);    /* mark a range reserved */
uint32_t page_alloc(void);                          /* a zeroed page's address, or 0 */
void page_free(uint32_t addr);
uint32_t page_count(enum page_state st);
uint32_t page_total(void);
uint32_t page_base(void);
enum page_state page_get(uint32_t pfn);             /* pfn = (addr - base) / 4096 */
void page_set(uint32_t pfn, enum page_state st);
/* Highest free pfn below `below` (for the balloon), or -1. */
int32_t page_find_free_high(uint32_t below);
/* Lowest pfn in state `st` at or above `from`, or -1. */
int32_t page_find(enum page_state st, uint32_t from);

/* ---- main.c: time, ticks and waiting ---- */
extern volatile uint32_t ticks;       /* timer interrupts since boot */
extern volatile uint32_t ticks_idle;  /* ... that arrived while the kernel slept */
void kernel_tick(void);               /* the platform's timer interrupt calls this */
uint64_t time_ns(void);               /* since boot, from the platform's clock */
/* Sleep until cond(arg) holds (checked with interrupts off, so no wake-up is lost),
 * for at most timeout_ns (0 = forever). Returns 0, WAIT_TIMEOUT or, when `breakable`,
 * WAIT_BREAK on Ctrl-C. */
#define WAIT_TIMEOUT (-1)
#define WAIT_BREAK   (-2)
int kwait(int (*cond)(void *), void *arg, uint64_t timeout_ns, int breakable);
__attribute__((noreturn)) void panic(const char *fmt, ...);

/* ---- shell.c ---- */
__attribute__((noreturn)) void shell_run(void);

#endif
