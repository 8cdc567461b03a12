/*
 * Trap handlers of isa-selftest. Every trap is recorded in mtrap / strap and then
 * resumed so that the test can look at what happened:
 *  - exceptions resume after the faulting instruction (xepc + 4), except fetch
 *    faults (access fault 1, page fault 12), whose xepc is the bad target: those
 *    resume at ra, i.e. as if the jump had returned (see probe_jump);
 *  - interrupts call the test's hook, which must quiet the source;
 *  - an ecall with a7 = ECALL_EXIT ends run_in_mode().
 */
#include "selftest.h"

volatile struct trap_log mtrap, strap;
void (*volatile m_irq_hook)(uint32_t cause);
void (*volatile s_irq_hook)(uint32_t cause);
volatile uint32_t abort_lower_on_trap;
volatile uint32_t exit_mode;
volatile uint32_t vector_slot;

#define RA 1
#define A0 10
#define A7 17
#define MAX_TRAPS 64 /* more than this between two trap_reset()s is a runaway */

void trap_reset(void) {
  for (volatile struct trap_log *t = &mtrap; t; t = t == &mtrap ? &strap : 0) {
    t->count = 0;
    t->cause = t->tval = t->epc = t->status = 0xffffffffu;
    for (int i = 0; i < 8; i++) t->causes[i] = 0xffffffffu;
  }
  abort_lower_on_trap = 0;
  m_irq_hook = 0;
  s_irq_hook = 0;
  vector_slot = 0xffffffffu;
}

static void record(volatile struct trap_log *t, const struct trap_frame *f, const char *who) {
  if (t->count < 8) t->causes[t->count] = f->cause;
  t->count++;
  t->cause = f->cause;
  t->tval = f->tval;
  t->epc = f->epc;
  t->status = f->status;
  if (t->count > MAX_TRAPS) {
    kprintf("isa-selftest: runaway %s traps: cause=0x%08x epc=0x%08x tval=0x%08x\n", who, f->cause,
            f->epc, f->tval);
    uart_puts("isa-selftest: FAIL\n");
    finisher_fail(2);
  }
}

static int is_ecall(uint32_t cause) {
  return cause == EXC_ECALL_U || cause == EXC_ECALL_S || cause == EXC_ECALL_M;
}

static void resume_after_exception(struct trap_frame *f) {
  if (f->cause == EXC_INSN_ACCESS || f->cause == EXC_INSN_PAGE) f->epc = f->regs[RA];
  else f->epc += 4;
}

/* Leave run_in_mode(): mret to run_in_mode_return in M-mode, MIE stays 0. */
static void end_run(struct trap_frame *f, uint32_t from) {
  exit_mode = from;
  f->epc = (uint32_t)(uintptr_t)run_in_mode_return;
  f->status = (f->status & ~(MSTATUS_MPP | MSTATUS_MPIE)) | MPP(PRV_M);
}

void trap_handler(struct trap_frame *f) {
  static int depth;
  uint32_t from = (f->status & MSTATUS_MPP) >> 11;
  if (depth++) {
    kprintf("isa-selftest: nested trap cause=0x%08x epc=0x%08x\n", f->cause, f->epc);
    finisher_fail(2);
  }
  if (is_ecall(f->cause) && f->regs[A7] == ECALL_EXIT) {
    end_run(f, from);
  } else if (f->cause & INTERRUPT) {
    record(&mtrap, f, "M");
    uint32_t irq = f->cause & 31;
    if (m_irq_hook) m_irq_hook(irq);
    else csr_clear(mie, 1u << irq);
  } else {
    record(&mtrap, f, "M");
    if (abort_lower_on_trap && from != PRV_M) {
      f->regs[A0] = RUN_ABORTED;
      end_run(f, from);
    } else {
      resume_after_exception(f);
    }
  }
  depth--;
}

/* An exit ecall from U that was delegated to S: pass it on to M from S-mode. */
static void forward_exit(uint32_t result) {
  register uint32_t a0 __asm__("a0") = result;
  register uint32_t a7 __asm__("a7") = ECALL_EXIT;
  __asm__ volatile("ecall" : : "r"(a0), "r"(a7) : "memory");
}

void s_trap_handler(struct trap_frame *f) {
  if (f->cause == EXC_ECALL_U && f->regs[A7] == ECALL_EXIT) {
    forward_exit(f->regs[A0]);
  } else if (f->cause & INTERRUPT) {
    record(&strap, f, "S");
    uint32_t irq = f->cause & 31;
    if (s_irq_hook) s_irq_hook(irq);
    else csr_clear(sie, 1u << irq);
  } else {
    record(&strap, f, "S");
    resume_after_exception(f);
  }
}
