/*
 * zicsr: the six CSR instructions (unprivileged spec chapter 9) and the rules on
 * which of them read or write (table 9.1), read-only CSRs and unknown CSRs.
 */
#include "selftest.h"

/* Run one instruction word that is expected to be illegal; check cause, epc, tval.
 * Privileged 3.1.16: QEMU 7.2 writes the instruction bits to mtval (the spec allows
 * 0 or the bits), so the tests expect the bits. */
#define EXPECT_ILLEGAL(word)                                                      \
  do {                                                                            \
    uint32_t at_;                                                                 \
    trap_reset();                                                                 \
    __asm__ volatile("la %0, 1f\n1:\t.word " #word : "=r"(at_) : : "memory");    \
    CHECK(mtrap.count, 1);                                                        \
    CHECK(mtrap.cause, EXC_ILLEGAL);                                              \
    CHECK(mtrap.epc, at_);                                                        \
    CHECK(mtrap.tval, word);                                                      \
  } while (0)

/* mscratch holds the trap stack (crt0.S): no trap may happen until it is restored. */
static void test_rw(void) {
  uint32_t old, v, saved = csr_read(mscratch);
  csr_write(mscratch, 0x12345678);
  __asm__ volatile("csrrw %0, mscratch, %1" : "=r"(old) : "r"(0xcafef00d));
  CHECK(old, 0x12345678);
  CHECK(csr_read(mscratch), 0xcafef00d);
  __asm__ volatile("csrrs %0, mscratch, %1" : "=r"(old) : "r"(0x00000ff0));
  CHECK(old, 0xcafef00d);
  CHECK(csr_read(mscratch), 0xcafefffd);
  __asm__ volatile("csrrc %0, mscratch, %1" : "=r"(old) : "r"(0xffff000f));
  CHECK(old, 0xcafefffd);
  CHECK(csr_read(mscratch), 0x0000fff0);
  __asm__ volatile("csrrwi %0, mscratch, 31" : "=r"(old));
  CHECK(old, 0x0000fff0);
  CHECK(csr_read(mscratch), 31);
  __asm__ volatile("csrrci %0, mscratch, 5" : "=r"(old));
  CHECK(old, 31);
  CHECK(csr_read(mscratch), 26);
  __asm__ volatile("csrrsi %0, mscratch, 0x11" : "=r"(old));
  CHECK(old, 26);
  CHECK(csr_read(mscratch), 27);
  /* rs1 = x0 / uimm = 0: csrrs/csrrc only read. */
  __asm__ volatile("csrrs %0, mscratch, x0\n\tcsrrci x0, mscratch, 0\n\tcsrr %1, mscratch"
                   : "=r"(old), "=r"(v));
  CHECK(old, 27);
  CHECK(v, 27);
  /* rd = x0: csrrw still writes. */
  __asm__ volatile("csrrw x0, mscratch, %0" : : "r"(0x55));
  CHECK(csr_read(mscratch), 0x55);
  csr_write(mscratch, saved);
  /* The S-mode scratch register is reachable from M. */
  csr_write(sscratch, 0xa5a5a5a5);
  CHECK(csr_read(sscratch), 0xa5a5a5a5);
}

static void test_read_only(void) {
  /* Reading a read-only CSR without writing is fine (csrrs rd, csr, x0; csrrsi 0). */
  trap_reset();
  uint32_t v;
  __asm__ volatile("csrrs %0, mvendorid, x0\n\tcsrrsi x0, marchid, 0\n\tcsrrci x0, mimpid, 0"
                   : "=r"(v));
  CHECK(mtrap.count, 0);
  /* Any write attempt to a read-only CSR (csr[11:10] = 3) is illegal (spec 2.1). */
  EXPECT_ILLEGAL(0xf1101073);  /* csrrw x0, mvendorid, x0 */
  EXPECT_ILLEGAL(0xf14fd073);  /* csrrwi x0, mhartid, 31 */
  EXPECT_ILLEGAL(0xf120e073);  /* csrrsi x0, marchid, 1 */
  EXPECT_ILLEGAL(0xc0001073);  /* csrrw x0, cycle, x0 */
  EXPECT_ILLEGAL(0xc0229573);  /* csrrw a0, instret, t0 */
}

static void test_unknown(void) {
  EXPECT_ILLEGAL(0x0ff02573);  /* csrrs a0, 0x0ff, x0: no such CSR */
  EXPECT_ILLEGAL(0x7ff01073);  /* csrrw x0, 0x7ff, x0 */
  EXPECT_ILLEGAL(0x7b002573);  /* csrr a0, dcsr: debug-mode only (debug spec 4.9) */
}

void test_zicsr(void) {
  test_rw();
  test_read_only();
  test_unknown();
}
