/*
 * Hypercalls (docs/abi.md section 2): ecall from S-mode with a7 = 0x0A000007 (SBI
 * firmware extension space + Xen's SBI implementation id), a6 = the Xen hypercall
 * number, a0..a4 = arguments, result in a0 (>= 0, or a negative Xen errno).
 */
#include "pv.h"

int32_t hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4) {
  register uint32_t r0 __asm__("a0") = a0;
  register uint32_t r1 __asm__("a1") = a1;  /* SBI returns a value in a1: treat it as clobbered */
  register uint32_t r2 __asm__("a2") = a2;
  register uint32_t r3 __asm__("a3") = a3;
  register uint32_t r4 __asm__("a4") = a4;
  register uint32_t r6 __asm__("a6") = nr;
  register uint32_t r7 __asm__("a7") = XEN_SBI_EXT;
  __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7) : "memory");
  return (int32_t)r0;
}

int32_t sched_op(uint32_t cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_sched_op, cmd, gpa_of(arg)); }
int32_t event_channel_op(uint32_t cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_event_channel_op, cmd, gpa_of(arg)); }
int32_t memory_op(uint32_t cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_memory_op, cmd, gpa_of(arg)); }

int32_t grant_table_op(uint32_t cmd, void *uop, uint32_t count) {
  return HYPERCALL3(__HYPERVISOR_grant_table_op, cmd, gpa_of(uop), count);
}

/* A 64-bit argument takes two registers, low word first. */
int32_t set_timer_op(uint64_t deadline_ns) {
  return HYPERCALL2(__HYPERVISOR_set_timer_op, (uint32_t)deadline_ns, (uint32_t)(deadline_ns >> 32));
}

void console_io_write(const char *buf, size_t n) {
  HYPERCALL3(__HYPERVISOR_console_io, CONSOLEIO_write, n, gpa_of(buf));
}

void xen_shutdown(uint32_t reason) {
  struct sched_shutdown s = {reason};
  for (;;) {
    sched_op(SCHEDOP_shutdown, &s);
    sched_op(SCHEDOP_block, 0);  /* not reached on a working hypervisor */
  }
}

/* SCHEDOP_shutdown(SHUTDOWN_suspend): 0 in a new domain, 1 resumed in this one (cancelled),
 * or -errno. Upcalls stay off across it: the handlers see the world only after the caller
 * has looked at which it is. */
int32_t xen_suspend(void) {
  struct sched_shutdown s = {SHUTDOWN_suspend};
  uint32_t irq = plat_irq_disable();
  int32_t rc = sched_op(SCHEDOP_shutdown, &s);
  plat_irq_restore(irq);
  return rc;
}

const char *xen_strerror(int32_t err) {
  switch (-err) {
  case XEN_EPERM: return "EPERM";
  case XEN_ENOENT: return "ENOENT";
  case XEN_ESRCH: return "ESRCH";
  case XEN_EIO: return "EIO";
  case XEN_EAGAIN: return "EAGAIN";
  case XEN_ENOMEM: return "ENOMEM";
  case XEN_EACCES: return "EACCES";
  case XEN_EFAULT: return "EFAULT";
  case XEN_EBUSY: return "EBUSY";
  case XEN_EEXIST: return "EEXIST";
  case XEN_EINVAL: return "EINVAL";
  case XEN_ENOSPC: return "ENOSPC";
  case XEN_ENOSYS: return "ENOSYS";
  case XEN_ETIMEDOUT: return "ETIMEDOUT (no answer)";
  default: return "error";
  }
}

const char *gntst_name(int32_t status) {
  switch (status) {
  case GNTST_okay: return "GNTST_okay";
  case GNTST_general_error: return "GNTST_general_error";
  case GNTST_bad_domain: return "GNTST_bad_domain";
  case GNTST_bad_gntref: return "GNTST_bad_gntref";
  case GNTST_bad_handle: return "GNTST_bad_handle";
  case GNTST_bad_virt_addr: return "GNTST_bad_virt_addr";
  case GNTST_permission_denied: return "GNTST_permission_denied";
  case GNTST_bad_page: return "GNTST_bad_page";
  default: return "GNTST_error";
  }
}
