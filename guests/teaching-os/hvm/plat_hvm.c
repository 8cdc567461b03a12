/*
 * The hvm platform layer: the kernel runs in M-mode on the `virt` board as if it owned
 * the machine. Timer ticks come from the CLINT (mtimecmp, machine timer interrupt),
 * console input from the UART through the PLIC (machine external interrupt), and power
 * off / reboot go to the SiFive test finisher.
 *
 * Entry is guests/common/crt0.S: hart 0 at 0x80000000 in M-mode calls main(hartid, fdt)
 * (kernel/main.c), the other harts park in WFI, and its M-mode trap vector calls
 * trap_handler below.
 */
#include "hvm.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "netdev.h"

#define TICK_PERIOD (VIRT_TIMEBASE_HZ / TICK_HZ)

extern char __image_end[];

static struct fdt_facts facts;
static int fdt_ok;
static uint64_t next_tick;

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

  next_tick = clint_mtime() + TICK_PERIOD;
  clint_set_mtimecmp(next_tick);
  csr_set(mie, MIE_MTIE | MIE_MEIE);
  csr_set(mstatus, MSTATUS_MIE);
}

void plat_start(void) {
  kprintf("hvm: M-mode on the virt board: 16550A UART (PLIC source %u, no FIFO), CLINT timer at %u Hz\n",
          VIRT_UART0_IRQ, TICK_HZ);
  kprintf("hvm: %u KiB of RAM at 0x%08x, %u hart%s (%s)\n", facts.mem_size / 1024, facts.mem_base,
          facts.harts, facts.harts == 1 ? "" : "s", fdt_ok ? "from the device tree" : "no device tree: assumed");
  vblk_init();
  vnet_init();
}

/* Called by common/crt0.S's M-mode trap_entry (replacing platform.c's weak default). */
void trap_handler(struct trap_frame *f) {
  if (f->cause & 0x80000000u) {
    switch (f->cause & 0x7fffffffu) {
    case IRQ_M_TIMER: {
      uint64_t now = clint_mtime();
      next_tick += TICK_PERIOD;
      if (next_tick <= now) next_tick = now + TICK_PERIOD;  /* missed ticks are not replayed */
      clint_set_mtimecmp(next_tick);
      kernel_tick();
      return;
    }
    case IRQ_M_EXT: {
      uint32_t id;
      while ((id = mmio_read32(PLIC_CLAIM0)) != 0) {
        if (id == VIRT_UART0_IRQ) uart_isr();
        else if (!vblk_isr(id)) vnet_isr(id);
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

uint64_t plat_time_ns(void) { return clint_mtime() * (1000000000u / VIRT_TIMEBASE_HZ); }

uint32_t plat_irq_disable(void) { return csr_read_clear(mstatus, MSTATUS_MIE) & MSTATUS_MIE; }

void plat_irq_restore(uint32_t s) {
  if (s) csr_set(mstatus, MSTATUS_MIE);
}

/* WFI wakes when mip & mie is nonzero, whatever mstatus.MIE says (priv spec 3.3.3). */
void plat_wait(void) { __asm__ volatile("wfi" ::: "memory"); }

/* Frames received while the shell waits for input go to the stack from the shell loop. */
int plat_has_work(void) { return vnet_has_work(); }
void plat_do_work(void) { netdev_poll(); }

/* The SiFive test finisher (common/platform.c), with interrupts off. */
void plat_poweroff(void) {
  plat_irq_disable();
  finisher_pass();
}

void plat_reboot(void) {
  plat_irq_disable();
  finisher_reset();
}

void plat_crash(void) {  /* FAIL, exit status 1 */
  plat_irq_disable();
  finisher_fail(1);
}

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
int plat_evtchn(int argc, char **argv) { (void)argc, (void)argv; return PLAT_ENOTSUP; }
