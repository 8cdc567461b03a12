/*
 * The hvm platform layer: the kernel runs in M-mode on the `virt` board as if it owned
 * the machine. Timer ticks come from the CLINT (mtimecmp, machine timer interrupt),
 * console input from the UART through the PLIC (machine external interrupt), and power
 * off / reboot go to the SiFive test finisher.
 */
#include "hvm.h"

#define TICK_PERIOD (TIMEBASE_HZ / TICK_HZ)

extern char __image_end[];

static struct fdt_facts facts;
static int fdt_ok;
static uint64_t next_tick;

static uint64_t mtime(void) {
  uint32_t hi, lo;
  do {  /* 64-bit counter read 32 bits at a time: retry if the high word moved */
    hi = mmio_read32(CLINT_MTIME + 4);
    lo = mmio_read32(CLINT_MTIME);
  } while (hi != mmio_read32(CLINT_MTIME + 4));
  return (uint64_t)hi << 32 | lo;
}

static void set_mtimecmp(uint64_t t) {
  /* Privileged spec 3.2.1: no intermediate value may lie in the past. */
  mmio_write32(CLINT_MTIMECMP0, 0xffffffffu);
  mmio_write32(CLINT_MTIMECMP0 + 4, (uint32_t)(t >> 32));
  mmio_write32(CLINT_MTIMECMP0, (uint32_t)t);
}

void plat_init(uint32_t hartid, uint32_t fdt) {
  (void)hartid;
  fdt_ok = fdt_scan(fdt, &facts) == 0;
  if (!fdt_ok) {  /* QEMU's default -m 128M */
    facts.mem_base = VIRT_DRAM;
    facts.mem_size = 128u << 20;
    facts.harts = 1;
  }
  if (!facts.harts) facts.harts = 1;
  page_init(facts.mem_base, facts.mem_size / PAGE_SIZE, (uint32_t)(uintptr_t)__image_end);

  uart_init();
  mmio_write32(PLIC_PRIORITY(VIRT_UART0_IRQ), 1);
  mmio_write32(PLIC_ENABLE0, 1u << VIRT_UART0_IRQ);
  mmio_write32(PLIC_THRESHOLD0, 0);

  next_tick = mtime() + TICK_PERIOD;
  set_mtimecmp(next_tick);
  CSR_SET(mie, MIE_MTIE | MIE_MEIE);
  CSR_SET(mstatus, MSTATUS_MIE);
}

void plat_start(void) {
  kprintf("hvm: M-mode on the virt board: 16550A UART (PLIC source %u, no FIFO), CLINT timer at %u Hz\n",
          VIRT_UART0_IRQ, TICK_HZ);
  kprintf("hvm: %u KiB of RAM at 0x%08x, %u hart%s (%s)\n", facts.mem_size / 1024, facts.mem_base,
          facts.harts, facts.harts == 1 ? "" : "s", fdt_ok ? "from the device tree" : "no device tree: assumed");
}

void hvm_trap(struct trap_frame *f);

void hvm_trap(struct trap_frame *f) {
  if (f->cause & 0x80000000u) {
    switch (f->cause & 0x7fffffffu) {
    case IRQ_M_TIMER: {
      uint64_t now = mtime();
      next_tick += TICK_PERIOD;
      if (next_tick <= now) next_tick = now + TICK_PERIOD;  /* missed ticks are not replayed */
      set_mtimecmp(next_tick);
      kernel_tick();
      return;
    }
    case IRQ_M_EXT: {
      uint32_t id;
      while ((id = mmio_read32(PLIC_CLAIM0)) != 0) {
        if (id == VIRT_UART0_IRQ) uart_isr();
        mmio_write32(PLIC_CLAIM0, id);
      }
      return;
    }
    }
  }
  panic("trap: mcause 0x%08x mepc 0x%08x mtval 0x%08x", f->cause, f->epc, f->tval);
}

void plat_console_write(const char *buf, size_t n) { uart_write(buf, n); }
void plat_console_drain(void) { uart_drain(); }
void plat_console_rx_kick(void) { uart_rx_kick(); }

uint64_t plat_time_ns(void) { return mtime() * (1000000000u / TIMEBASE_HZ); }

uint32_t plat_irq_disable(void) { return CSR_READ_CLEAR(mstatus, MSTATUS_MIE) & MSTATUS_MIE; }

void plat_irq_restore(uint32_t s) {
  if (s) CSR_SET(mstatus, MSTATUS_MIE);
}

/* WFI wakes when mip & mie is nonzero, whatever mstatus.MIE says (priv spec 3.3.3). */
void plat_wait(void) { __asm__ volatile("wfi" ::: "memory"); }

int plat_has_work(void) { return 0; }
void plat_do_work(void) {}

static __attribute__((noreturn)) void finisher(uint32_t v) {
  plat_irq_disable();
  mmio_write32(VIRT_TEST, v);
  for (;;) __asm__ volatile("wfi");
}

void plat_poweroff(void) { finisher(0x5555); }
void plat_reboot(void) { finisher(0x7777); }
void plat_crash(void) { finisher(0x3333 | 1u << 16); }  /* FAIL, exit status 1 */

void plat_info(struct plat_info *pi) {
  memset(pi, 0, sizeof *pi);
  pi->type = "hvm";
  pi->detail = "M-mode on QEMU's virt board (16550A UART, CLINT, PLIC, test finisher)";
  pi->domid = -1;
  pi->mem_kib = facts.mem_size / 1024;
  pi->vcpus = facts.harts;
  pi->vcpus_up = 1;  /* the other harts park in crt0 */
}

int plat_ping(uint32_t domid, uint32_t count) { (void)domid, (void)count; return PLAT_ENOTSUP; }
int plat_pong(int32_t domid) { (void)domid; return PLAT_ENOTSUP; }
int plat_share(uint32_t domid, const char *text) { (void)domid, (void)text; return PLAT_ENOTSUP; }
int plat_peek(uint32_t domid) { (void)domid; return PLAT_ENOTSUP; }
int plat_balloon(void) { return PLAT_ENOTSUP; }
int plat_smp(uint32_t iterations) { (void)iterations; return PLAT_ENOTSUP; }
int plat_xs(int argc, char **argv) { (void)argc, (void)argv; return PLAT_ENOTSUP; }
