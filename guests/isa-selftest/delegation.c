/*
 * delegation: medeleg/mideleg hand traps from S and U to the S-mode handler
 * (privileged spec 3.1.8, 4.1.1-4.1.9): scause/sepc/stval, the SPP/SPIE/SIE stack,
 * sie/sip, stvec direct and vectored, and the rule that traps never go to a lower
 * mode (a delegated exception raised in M-mode is still handled in M).
 */
#include "selftest.h"

uint32_t do_ecall(uint32_t), do_ebreak(uint32_t), do_read_mstatus(uint32_t);
uint32_t s_enter_user(uint32_t fn);
void do_ecall_insn(void);

#define BIT(n) (1u << (n))

static void test_delegated_exceptions(void) {
  csr_write(medeleg, BIT(EXC_BREAKPOINT) | BIT(EXC_ECALL_U) | BIT(EXC_ILLEGAL) |
                         BIT(EXC_LOAD_ACCESS) | BIT(EXC_STORE_ACCESS));
  /* ebreak in S goes to S. */
  trap_reset();
  run_in_mode(PRV_S, do_ebreak, 0);
  CHECK(mtrap.count, 0);
  CHECK(strap.count, 1);
  CHECK(strap.cause, EXC_BREAKPOINT);
  CHECK(strap.epc, (uintptr_t)do_ebreak);
  CHECK(strap.tval, 0);
  CHECK(strap.status & (MSTATUS_SPP | MSTATUS_SPIE), MSTATUS_SPP);  /* from S, SIE was 0 */
  CHECK(csr_read(scause), EXC_BREAKPOINT);
  CHECK(csr_read(mcause), EXC_ECALL_S);                               /* the exit ecall */
  /* ecall from U goes to S; from S it is not delegated. */
  trap_reset();
  run_in_mode(PRV_S, s_enter_user, (uintptr_t)do_ecall);
  CHECK(strap.count, 1);
  CHECK(strap.cause, EXC_ECALL_U);
  CHECK(strap.epc, (uintptr_t)do_ecall_insn);
  CHECK(strap.status & MSTATUS_SPP, 0);                               /* from U */
  CHECK(mtrap.count, 0);
  trap_reset();
  run_in_mode(PRV_S, do_ecall, 0);
  CHECK(strap.count, 0);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_ECALL_S);
  /* Illegal instruction in U: stval = the instruction bits. */
  trap_reset();
  run_in_mode(PRV_U, do_read_mstatus, 0);
  CHECK(strap.count, 1);
  CHECK(strap.cause, EXC_ILLEGAL);
  CHECK(strap.tval, 0x30002573);                                      /* csrr a0, mstatus */
  /* Access faults in S: stval = the address. */
  trap_reset();
  CHECK(run_in_mode(PRV_S, probe_lw, UNMAPPED_ADDR), NOT_LOADED);
  CHECK(strap.count, 1);
  CHECK(strap.cause, EXC_LOAD_ACCESS);
  CHECK(strap.tval, UNMAPPED_ADDR);
  CHECK(strap.epc, (uintptr_t)probe_lw_insn);
  CHECK(csr_read(stval), UNMAPPED_ADDR);
  /* Delegation does not apply to traps raised in M-mode (3.1.8). */
  trap_reset();
  __asm__ volatile("ebreak");
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_BREAKPOINT);
  CHECK(strap.count, 0);
  csr_write(medeleg, 0);
}

static uint32_t s_wait_a_little(uint32_t n) {
  for (volatile uint32_t i = 0; i < n; i++) {
  }
  return 0;
}

static void s_clear_ssip(uint32_t irq) {
  (void)irq;
  csr_clear(sip, BIT(IRQ_SSI));
}

static void test_delegated_interrupts(void) {
  csr_write(mideleg, BIT(IRQ_SSI) | BIT(IRQ_STI));
  csr_write(mie, BIT(IRQ_SSI) | BIT(IRQ_STI));
  /* SSIP pending, delegated, S-mode with SIE = 1: taken in S on entry. */
  trap_reset();
  s_irq_hook = s_clear_ssip;
  csr_write(mip, BIT(IRQ_SSI));
  csr_write(sstatus, MSTATUS_SIE);
  run_in_mode(PRV_S, s_wait_a_little, 10);
  CHECK(strap.count, 1);
  CHECK(strap.cause, INTERRUPT | IRQ_SSI);
  CHECK(strap.status & (MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP), MSTATUS_SPIE | MSTATUS_SPP);
  CHECK(mtrap.count, 0);
  CHECK(csr_read(mip) & BIT(IRQ_SSI), 0);
  /* SIE = 0 masks it in S-mode... */
  trap_reset();
  csr_write(sstatus, 0);
  csr_write(mip, BIT(IRQ_SSI));
  run_in_mode(PRV_S, s_wait_a_little, 10);
  CHECK(strap.count, 0);
  /* ...but not in U-mode, where S-level interrupts are always enabled (3.1.6.1). */
  s_irq_hook = s_clear_ssip;
  run_in_mode(PRV_U, s_wait_a_little, 10);
  CHECK(strap.count, 1);
  CHECK(strap.cause, INTERRUPT | IRQ_SSI);
  CHECK(strap.status & MSTATUS_SPP, 0);
  /* STIP, set by M (as firmware does for an SBI timer): S cannot clear it, so the
   * default hook masks it in sie. stvec vectored: entry at base + 4 * 5. */
  trap_reset();
  csr_write(stvec, (uintptr_t)s_vector_table | 1);
  csr_write(mip, BIT(IRQ_STI));
  csr_write(sstatus, MSTATUS_SIE);
  run_in_mode(PRV_S, s_wait_a_little, 10);
  CHECK(strap.count, 1);
  CHECK(strap.cause, INTERRUPT | IRQ_STI);
  CHECK(vector_slot, IRQ_STI);
  CHECK(csr_read(mie) & BIT(IRQ_STI), 0);
  /* An exception with vectored stvec enters at the base. */
  csr_write(medeleg, BIT(EXC_BREAKPOINT));
  run_in_mode(PRV_S, do_ebreak, 0);
  CHECK(strap.cause, EXC_BREAKPOINT);
  CHECK(vector_slot, 0);
  /* A pending interrupt that is not delegated goes to M even from S with MIE = 0. */
  trap_reset();
  csr_write(mideleg, 0);
  csr_write(mie, BIT(IRQ_SSI));
  csr_write(mip, BIT(IRQ_SSI));
  run_in_mode(PRV_S, s_wait_a_little, 10);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, INTERRUPT | IRQ_SSI);
  CHECK(strap.count, 0);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_write(medeleg, 0);
  csr_write(sstatus, 0);
  csr_write(stvec, (uintptr_t)s_trap_entry);
}

void test_delegation(void) {
  test_delegated_exceptions();
  test_delegated_interrupts();
}
