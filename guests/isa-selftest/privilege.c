/*
 * privilege: M/S/U mode switches and their rules (privileged spec 3.1.6.1, 3.3.2,
 * 3.1.6.5): mret/sret and the xPP/xPIE/xIE stack, ecall from each mode, instructions
 * and CSRs reserved to higher modes, and the traps TSR, TW and TVM add.
 */
#include "selftest.h"

uint32_t do_ecall(uint32_t), do_ebreak(uint32_t), do_wfi(uint32_t), do_mret(uint32_t);
uint32_t do_sret(uint32_t), do_sfence(uint32_t), do_read_satp(uint32_t);
uint32_t do_read_mstatus(uint32_t), do_read_sstatus(uint32_t), do_read_mscratch(uint32_t);
void do_ecall_insn(void);
uint32_t mret_to_m(uint32_t mstatus), sret_to_s(uint32_t sstatus), s_enter_user(uint32_t fn);

/* Which mode is this? Probes CSRs of M and S: an illegal-instruction trap counts. */
static uint32_t whoami(uint32_t unused) {
  (void)unused;
  uint32_t n = mtrap.count;
  (void)csr_read(mscratch);
  if (mtrap.count == n) return PRV_M;
  (void)csr_read(sscratch);
  return mtrap.count == n + 1 ? PRV_S : PRV_U;
}

static void test_modes(void) {
  static const uint32_t modes[] = {PRV_M, PRV_S, PRV_U};
  for (int i = 0; i < 3; i++) {
    trap_reset();
    CHECK(run_in_mode(modes[i], whoami, 0), modes[i]);
    CHECK(exit_mode, modes[i]);
  }
  /* ecall from each mode: cause 11 / 9 / 8, mepc = the ecall, MPP = the mode. */
  static const uint32_t causes[] = {EXC_ECALL_M, EXC_ECALL_S, EXC_ECALL_U};
  for (int i = 0; i < 3; i++) {
    trap_reset();
    run_in_mode(modes[i], do_ecall, 0);
    CHECK(mtrap.count, 1);
    CHECK(mtrap.cause, causes[i]);
    CHECK(mtrap.epc, (uintptr_t)do_ecall_insn);
    CHECK(mtrap.tval, 0);
    CHECK((mtrap.status & MSTATUS_MPP) >> 11, modes[i]);
  }
  /* S-mode enters U-mode with sret (SPP = 0). */
  trap_reset();
  CHECK(run_in_mode(PRV_S, s_enter_user, (uintptr_t)whoami), PRV_U);
  CHECK(exit_mode, PRV_U);
}

/* 3.1.6.1: xRET sets xIE = xPIE, xPIE = 1, xPP = least-privileged mode (U). Since
 * 1.12 an mret to a mode other than M also clears MPRV, but QEMU 7.2 does not, so
 * that is not checked: tests clear MPRV themselves before leaving M. */
static void test_xret_stack(void) {
  uint32_t s = mret_to_m(MPP(PRV_M) | MSTATUS_MPIE);
  CHECK(s & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP), MSTATUS_MIE | MSTATUS_MPIE | MPP(PRV_U));
  s = mret_to_m(MPP(PRV_M) | MSTATUS_MIE);
  CHECK(s & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP), MSTATUS_MPIE | MPP(PRV_U));
  s = run_in_mode(PRV_S, sret_to_s, MSTATUS_SPP | MSTATUS_SPIE);
  CHECK(s & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SIE | MSTATUS_SPIE);
  s = run_in_mode(PRV_S, sret_to_s, MSTATUS_SPP | MSTATUS_SIE);
  CHECK(s & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SPIE);
  /* A trap from S records MPP = S and MPIE = the MIE it had (MIE is 0 after mret
   * from a state with MPIE = 0). */
  csr_write(mstatus, 0);
  trap_reset();
  run_in_mode(PRV_S, do_ebreak, 0);
  CHECK(mtrap.cause, EXC_BREAKPOINT);
  CHECK(mtrap.status & (MSTATUS_MPP | MSTATUS_MPIE), MPP(PRV_S));
}

/* Run fn in mode; expect exactly one illegal-instruction trap at fn with tval = insn. */
static void expect_illegal(uint32_t mode, uint32_t (*fn)(uint32_t), uint32_t insn) {
  trap_reset();
  run_in_mode(mode, fn, 0);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_ILLEGAL);
  CHECK(mtrap.epc, (uintptr_t)fn);
  CHECK(mtrap.tval, insn);
}

#define INSN_MRET 0x30200073u
#define INSN_SRET 0x10200073u
#define INSN_WFI 0x10500073u
#define INSN_SFENCE 0x12000073u
#define INSN_CSRR_SATP 0x18002573u
#define INSN_CSRR_MSTATUS 0x30002573u
#define INSN_CSRR_SSTATUS 0x10002573u
#define INSN_CSRR_MSCRATCH 0x34002573u

static void test_reserved_to_higher_modes(void) {
  expect_illegal(PRV_S, do_mret, INSN_MRET);
  expect_illegal(PRV_U, do_mret, INSN_MRET);
  expect_illegal(PRV_U, do_sret, INSN_SRET);
  expect_illegal(PRV_S, do_read_mstatus, INSN_CSRR_MSTATUS);
  expect_illegal(PRV_S, do_read_mscratch, INSN_CSRR_MSCRATCH);
  expect_illegal(PRV_U, do_read_sstatus, INSN_CSRR_SSTATUS);
  expect_illegal(PRV_U, do_read_satp, INSN_CSRR_SATP);
  expect_illegal(PRV_U, do_sfence, INSN_SFENCE);
  /* WFI in U-mode traps when S-mode exists (3.1.6.5; QEMU always traps it). */
  expect_illegal(PRV_U, do_wfi, INSN_WFI);
  /* S-mode may use its own CSRs and sfence.vma/satp when TVM = 0. */
  trap_reset();
  run_in_mode(PRV_S, do_read_sstatus, 0);
  run_in_mode(PRV_S, do_read_satp, 0);
  run_in_mode(PRV_S, do_sfence, 0);
  CHECK(mtrap.count, 0);
  /* sstatus written from S changes mstatus. */
  csr_write(mstatus, 0);
  run_in_mode(PRV_S, sret_to_s, MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR);
  CHECK(csr_read(mstatus) & (MSTATUS_SUM | MSTATUS_MXR), MSTATUS_SUM | MSTATUS_MXR);
  csr_write(mstatus, 0);
}

static void test_trap_virtualization(void) {
  /* TSR: sret in S traps. */
  csr_write(mstatus, MSTATUS_TSR);
  expect_illegal(PRV_S, do_sret, INSN_SRET);
  /* TVM: satp accesses and sfence.vma in S trap. */
  csr_write(mstatus, MSTATUS_TVM);
  expect_illegal(PRV_S, do_read_satp, INSN_CSRR_SATP);
  expect_illegal(PRV_S, do_sfence, INSN_SFENCE);
  /* TW: wfi in S traps. */
  csr_write(mstatus, MSTATUS_TW);
  expect_illegal(PRV_S, do_wfi, INSN_WFI);
  /* TW = 0: wfi in S waits for an interrupt. A delegated SSIP is pending and enabled
   * in sie but SIE = 0, so wfi returns without a trap (3.3.3). */
  csr_write(mstatus, 0);
  csr_write(mideleg, 1u << IRQ_SSI);
  csr_write(mie, 1u << IRQ_SSI);
  csr_write(mip, 1u << IRQ_SSI);
  trap_reset();
  run_in_mode(PRV_S, do_wfi, 0);
  CHECK(mtrap.count, 0);
  CHECK(strap.count, 0);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_write(mideleg, 0);
}

void test_privilege(void) {
  test_modes();
  test_xret_stack();
  test_reserved_to_higher_modes();
  test_trap_virtualization();
}
