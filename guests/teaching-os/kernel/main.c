/*
 * Boot, the tick counter and the one way the kernel sleeps.
 *
 * There is no scheduler: the shell is the only thread, and "idle" is the time it spends
 * in kwait() with the platform asleep (WFI on hvm, SCHEDOP_block on pv). The timer
 * interrupt charges each tick to whichever of the two it interrupted; `ps` shows them.
 */
#include "plat.h"

volatile uint32_t ticks, ticks_idle;
static volatile int sleeping;

void kernel_tick(void) {
  ticks = ticks + 1;
  if (sleeping) ticks_idle = ticks_idle + 1;
}

uint64_t time_ns(void) { return plat_time_ns(); }

int kwait(int (*cond)(void *), void *arg, uint64_t timeout_ns, int breakable) {
  uint64_t deadline = timeout_ns ? time_ns() + timeout_ns : 0;
  for (;;) {
    uint32_t s = plat_irq_disable();
    /* Checked with interrupts off: an interrupt that makes cond true after this point
     * stays pending, so plat_wait() returns at once instead of sleeping through it. */
    int r = cond(arg) ? 0 : breakable && con_break() ? WAIT_BREAK
          : deadline && time_ns() >= deadline ? WAIT_TIMEOUT : 1;
    if (r != 1) {
      plat_irq_restore(s);
      return r;
    }
    sleeping = 1;
    plat_wait();
    plat_irq_restore(s);  /* the pending interrupt is taken here, still counted idle */
    sleeping = 0;
  }
}

void panic(const char *fmt, ...) {
  va_list ap;
  plat_irq_disable();
  con_puts("\npanic: ");
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  con_putc('\n');
  con_flush();
  plat_crash();
}

/* Entered from crt0 (hvm: common/crt0.S with a0 = hartid, a1 = the device tree; pv:
 * pv/crt0.S with a0 = vCPU id, a1 = start_info). Never returns. */
int main(uint32_t a0, uint32_t a1);

int main(uint32_t a0, uint32_t a1) {
  struct plat_info pi;
  plat_init(a0, a1);
  plat_info(&pi);
  kprintf("teaching-os %s (%s): one small kernel, two platform layers\n", TOS_VERSION, pi.type);
  plat_start();
  shell_run();
}
