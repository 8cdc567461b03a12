/*
 * exceptions: the synchronous traps an M-mode program can provoke, with the values
 * of mcause, mepc, mtval and mstatus they leave behind (privileged spec 3.1.14-3.1.16,
 * 3.1.6.1 for the MIE/MPIE/MPP stack). ecall from S and U is in privilege.c.
 */
#include "selftest.h"

/* Execute the instruction word `word` at a known address; check cause/epc/tval. */
#define EXPECT_TRAP(word, cause_, tval_)                                          \
  do {                                                                            \
    uint32_t at_;                                                                 \
    trap_reset();                                                                 \
    __asm__ volatile("la %0, 1f\n1:\t.word " #word : "=r"(at_) : : "memory");    \
    CHECK(mtrap.count, 1);                                                        \
    CHECK(mtrap.cause, cause_);                                                   \
    CHECK(mtrap.epc, at_);                                                        \
    CHECK(mtrap.tval, tval_);                                                     \
  } while (0)

static void test_illegal(void) {
  /* mtval = the instruction bits, as QEMU 7.2 does (3.1.16 allows 0 or the bits). */
  EXPECT_TRAP(0x00000000, EXC_ILLEGAL, 0x00000000);  /* all zeros: defined illegal */
  EXPECT_TRAP(0xffffffff, EXC_ILLEGAL, 0xffffffff);  /* all ones: defined illegal */
  EXPECT_TRAP(0x0000007f, EXC_ILLEGAL, 0x0000007f);  /* >= 64-bit encoding space */
  EXPECT_TRAP(0x00000053, EXC_ILLEGAL, 0x00000053);  /* fadd.s: no F extension, FS = 0 */
  EXPECT_TRAP(0xfe000033, EXC_ILLEGAL, 0xfe000033);  /* OP with funct7 = 0x7f: reserved */
  EXPECT_TRAP(0x02001013, EXC_ILLEGAL, 0x02001013);  /* slli with shamt[5] = 1: RV64 only */
  EXPECT_TRAP(0x00003003, EXC_ILLEGAL, 0x00003003);  /* ld (funct3 3): RV64 only */
  EXPECT_TRAP(0x0000302f, EXC_ILLEGAL, 0x0000302f);  /* amo*.d: RV64 only */
}

static void test_breakpoint_ecall(void) {
  /* EBREAK and ECALL: mtval = 0 (QEMU 7.2; 3.1.16 "for other traps, mtval is zero"). */
  EXPECT_TRAP(0x00100073, EXC_BREAKPOINT, 0);        /* ebreak */
  EXPECT_TRAP(0x00000073, EXC_ECALL_M, 0);           /* ecall */
  /* The trap stacked the interrupt enable and privilege: MPP = M, MPIE = old MIE. */
  CHECK(mtrap.status & MSTATUS_MPP, MPP(PRV_M));
  CHECK(mtrap.status & (MSTATUS_MPIE | MSTATUS_MIE), 0);
  csr_set(mstatus, MSTATUS_MIE);                     /* mie = 0: no interrupt can fire */
  EXPECT_TRAP(0x00000073, EXC_ECALL_M, 0);
  CHECK(mtrap.status & (MSTATUS_MPIE | MSTATUS_MIE), MSTATUS_MPIE);
  CHECK(csr_read(mstatus) & MSTATUS_MIE, MSTATUS_MIE); /* mret restored it */
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK(csr_read(mcause), EXC_ECALL_M);              /* the CSRs keep the last trap */
}

/*
 * Instruction-address-misaligned (2.2, privileged 3.1.15): without C a taken jump or
 * branch to a target that is not 4-byte aligned traps on the jump itself: mepc = the
 * jump, rd is not written, and mtval = the target. QEMU 7.2 gives a wrong mtval for
 * JAL and branches (a stale pc), so mtval is only checked for JALR. If the hart has
 * C (QEMU's default CPU), 2-byte targets are legal and these checks are skipped.
 */
static void test_misaligned_fetch(void) {
  if (csr_read(misa) & (1u << ('C' - 'A'))) return;
  uint32_t at, rd = 0x77;
  trap_reset();
  __asm__ volatile("la %0, 1f\n1:\tjalr %1, 2(%0)\n\tnop" : "=&r"(at), "+r"(rd) : : "memory");
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_INSN_MISALIGNED);
  CHECK(mtrap.epc, at);
  CHECK(mtrap.tval, at + 2);
  CHECK(rd, 0x77);
  trap_reset();
  __asm__ volatile("li t2, 0x77\n\tla %0, 1f\n1:\t.word 0x006003ef\n\t" /* jal t2, .+6 */
                   "nop\n\tnop\n\tmv %1, t2" : "=&r"(at), "=r"(rd) : : "t2", "memory");
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_INSN_MISALIGNED);
  CHECK(mtrap.epc, at);
  CHECK(rd, 0x77);
  trap_reset();
  __asm__ volatile("la %0, 1f\n1:\t.word 0x00000563\n\t" /* beq x0, x0, .+10 */
                   "nop\n\tnop\n\tnop" : "=&r"(at) : : "memory");
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_INSN_MISALIGNED);
  CHECK(mtrap.epc, at);
  trap_reset();
  __asm__ volatile(".word 0x00001563\n\tnop\n\tnop\n\tnop" ::: "memory"); /* bne not taken */
  CHECK(mtrap.count, 0);
}

/* Instruction access fault (3.6.3): mepc = mtval = the target that could not be fetched. */
static void test_fetch_fault(void) {
  trap_reset();
  probe_jump(UNMAPPED_ADDR);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_INSN_ACCESS);
  CHECK(mtrap.epc, UNMAPPED_ADDR);
  CHECK(mtrap.tval, UNMAPPED_ADDR);
  trap_reset();
  probe_jump(0x10000100u);                           /* the hole after the UART */
  CHECK(mtrap.cause, EXC_INSN_ACCESS);
  CHECK(mtrap.tval, 0x10000100u);
}

void test_exceptions(void) {
  test_illegal();
  test_breakpoint_ecall();
  test_misaligned_fetch();
  test_fetch_fault();
}
