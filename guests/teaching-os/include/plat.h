/*
 * The platform interface: what the kernel asks of the layer it is linked with.
 *
 *   hvm/  the guest believes it owns QEMU's riscv32 `virt` board: M-mode, 16550A UART
 *         with PLIC interrupts, CLINT timer, SiFive test finisher.
 *   pv/   the guest knows it runs on hyperlab: S-mode, hypercalls, event channels,
 *         console and xenstore rings, grant tables, the balloon (docs/abi.md).
 *
 * The kernel is compiled once and linked with either layer; nothing in kernel/ knows
 * which one it got except through these functions.
 */
#ifndef TOS_PLAT_H
#define TOS_PLAT_H

#include "tos.h"

/* Early set-up, before anything is printed: console, memory, timer, interrupts on. */
void plat_init(uint32_t a0, uint32_t a1);
/* Set-up that may print (after the banner): xenstore, grant table, balloon... */
void plat_start(void);

/* Console: write raw bytes (blocking until they are handed over); wait until every
 * byte handed over has left (pv: the backend consumed the ring). */
void plat_console_write(const char *buf, size_t n);
void plat_console_drain(void);
/* The kernel freed room in its input buffer: pull what the device still holds. */
void plat_console_rx_kick(void);

/* Nanoseconds since boot. */
uint64_t plat_time_ns(void);

/* Interrupts: disable (returning the previous state) and restore. */
uint32_t plat_irq_disable(void);
void plat_irq_restore(uint32_t state);
/* With interrupts disabled: sleep until an interrupt is pending (WFI / SCHEDOP_block).
 * Returns with interrupts still disabled; restoring them lets the handler run. */
void plat_wait(void);

/* Deferred work for the shell loop (xenstore watch events, the balloon). */
int plat_has_work(void);
void plat_do_work(void);

__attribute__((noreturn)) void plat_poweroff(void);
__attribute__((noreturn)) void plat_reboot(void);
__attribute__((noreturn)) void plat_crash(void);

struct plat_info {
  const char *type;        /* "hvm" or "pv" */
  const char *detail;      /* one line about the machine */
  int32_t domid;           /* -1 when unknown or hvm */
  char name[64];           /* domain name, or "" */
  uint32_t mem_kib;        /* memory the guest has now */
  uint32_t max_kib;        /* most it may have (0 = same) */
  uint32_t vcpus;          /* vCPUs of the machine / domain */
  uint32_t vcpus_up;       /* running ones */
};
void plat_info(struct plat_info *info);

/* pv-only services; the hvm layer returns PLAT_ENOTSUP. Others return 0 or -1 after
 * printing what went wrong. */
#define PLAT_ENOTSUP (-95)
int plat_ping(uint32_t domid, uint32_t count);
int plat_pong(int32_t domid);              /* -1: any domain that pings us */
int plat_share(uint32_t domid, const char *text);
int plat_peek(uint32_t domid);
int plat_balloon(void);                    /* print the balloon's state */
int plat_smp(uint32_t iterations);         /* count on every vCPU at once (smp.c) */
int plat_xs(int argc, char **argv);        /* the `xs` command (xs.c) */
int plat_disk(int argc, char **argv);      /* the `disk` command (pv: disk.c over blkfront.c) */
int plat_evtchn(int argc, char **argv);    /* the `evtchn` command (pv/evtchn.c) */

#endif
