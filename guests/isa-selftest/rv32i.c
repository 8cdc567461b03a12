/*
 * rv32i: register-register and register-immediate arithmetic, LUI/AUIPC, branches
 * and jumps (unprivileged spec chapter 2). Loads and stores are in rv32i_mem.c.
 */
#include "insn.h"
#include "selftest.h"

static void test_alu(void) {
  CHECK(RR("add", 1, 2), 3);
  CHECK(RR("add", 0x7fffffff, 1), 0x80000000);          /* no overflow trap */
  CHECK(RR("add", 0xffffffff, 1), 0);
  CHECK(RR("sub", 0, 1), 0xffffffff);
  CHECK(RR("sub", 0x80000000, 1), 0x7fffffff);
  CHECK(RR("xor", 0xff00ff00, 0x0ff00ff0), 0xf0f0f0f0);
  CHECK(RR("or", 0xff00ff00, 0x0ff00ff0), 0xfff0fff0);
  CHECK(RR("and", 0xff00ff00, 0x0ff00ff0), 0x0f000f00);
  CHECK(RR("slt", 0xffffffff, 1), 1);                   /* -1 < 1 */
  CHECK(RR("slt", 1, 0xffffffff), 0);
  CHECK(RR("slt", 0x80000000, 0x7fffffff), 1);
  CHECK(RR("slt", 5, 5), 0);
  CHECK(RR("sltu", 0xffffffff, 1), 0);
  CHECK(RR("sltu", 1, 0xffffffff), 1);
  CHECK(RR("sltu", 0, 0), 0);
  /* Shifts by register use only rs2[4:0] (spec 2.4.2). */
  CHECK(RR("sll", 1, 31), 0x80000000);
  CHECK(RR("sll", 1, 32), 1);
  CHECK(RR("sll", 1, 33), 2);
  CHECK(RR("sll", 0x12345678, 0xffffffe4), 0x23456780); /* rs2[4:0] = 4 */
  CHECK(RR("srl", 0x80000000, 31), 1);
  CHECK(RR("srl", 0x80000000, 63), 1);
  CHECK(RR("srl", 0x80000000, 32), 0x80000000);
  CHECK(RR("sra", 0x80000000, 31), 0xffffffff);
  CHECK(RR("sra", 0x80000000, 36), 0xf8000000);
  CHECK(RR("sra", 0x40000000, 30), 1);
  CHECK(RR("sra", 0xfffffff0, 0), 0xfffffff0);
}

static void test_immediates(void) {
  CHECK(RI("addi", 0, -2048), 0xfffff800);
  CHECK(RI("addi", 0, 2047), 0x7ff);
  CHECK(RI("addi", 0x7fffffff, 1), 0x80000000);
  CHECK(RI("slti", 0xffffffff, 0), 1);
  CHECK(RI("slti", 0, -1), 0);
  CHECK(RI("slti", 0x80000000, -2048), 1);
  CHECK(RI("sltiu", 0, 1), 1);                          /* seqz */
  CHECK(RI("sltiu", 5, 1), 0);
  CHECK(RI("sltiu", 0xfffffffe, -1), 1);                /* imm sign-extends, compares unsigned */
  CHECK(RI("sltiu", 0xffffffff, -1), 0);
  CHECK(RI("xori", 0x12345678, -1), 0xedcba987);        /* not */
  CHECK(RI("xori", 0x12345678, 0x7ff), 0x12345187);
  CHECK(RI("ori", 0x12340000, -2048), 0xfffff800);
  CHECK(RI("ori", 0x12340000, 0x55), 0x12340055);
  CHECK(RI("andi", 0x12345678, -16), 0x12345670);
  CHECK(RI("andi", 0x12345678, 0xff), 0x78);
  CHECK(RI("slli", 0x12345678, 0), 0x12345678);
  CHECK(RI("slli", 3, 31), 0x80000000);
  CHECK(RI("srli", 0x80000001, 31), 1);
  CHECK(RI("srli", 0x80000001, 0), 0x80000001);
  CHECK(RI("srai", 0x80000001, 31), 0xffffffff);
  CHECK(RI("srai", 0x80000001, 4), 0xf8000000);
  CHECK(RI("srai", 0x70000001, 4), 0x07000000);
  uint32_t r;
  __asm__ volatile("lui %0, 0xfffff" : "=r"(r));
  CHECK(r, 0xfffff000);
  __asm__ volatile("lui %0, 0x80000" : "=r"(r));
  CHECK(r, 0x80000000);
  __asm__ volatile("lui %0, 0" : "=r"(r));
  CHECK(r, 0);
}

static void test_pc_relative(void) {
  uint32_t a, b;
  __asm__ volatile("1: auipc %0, 0\n\tla %1, 1b" : "=r"(a), "=r"(b));
  CHECK(a, b);
  __asm__ volatile("1: auipc %0, 1\n\tla %1, 1b" : "=r"(a), "=r"(b));
  CHECK(a - b, 0x1000);
  __asm__ volatile("1: auipc %0, 0xfffff\n\tla %1, 1b" : "=r"(a), "=r"(b));
  CHECK(a - b, 0xfffff000);
  /* JAL writes pc + 4. */
  __asm__ volatile("jal %0, 1f\n1:\tla %1, 1b" : "=r"(a), "=r"(b));
  CHECK(a, b);
  /* JALR clears bit 0 of the target (spec 2.5.1); rd = pc + 4 even when rd == rs1. */
  __asm__ volatile("la %0, 2f\n\taddi %0, %0, 1\n\tjalr %0, 0(%0)\n1:\tli %0, 0\n2:\tla %1, 1b"
                   : "=&r"(a), "=&r"(b));
  CHECK(a, b);
  __asm__ volatile("la t0, 2f + 8\n\tjalr %0, -8(t0)\n1:\tli %0, 0\n2:\tla %1, 1b"
                   : "=&r"(a), "=&r"(b) : : "t0");
  CHECK(a, b);
  /* Writes to x0 are discarded (and these are HINT encodings, which must not trap). */
  __asm__ volatile("addi x0, x0, 5\n\tlui x0, 1\n\tadd x0, %1, %1\n\tmv %0, x0" : "=r"(a) : "r"(7));
  CHECK(a, 0);
}

static void test_branches(void) {
  CHECK(BR("beq", 5, 5), 1);
  CHECK(BR("beq", 5, 6), 0);
  CHECK(BR("bne", 5, 6), 1);
  CHECK(BR("bne", 0, 0), 0);
  CHECK(BR("blt", 0xffffffff, 0), 1);
  CHECK(BR("blt", 0, 0xffffffff), 0);
  CHECK(BR("blt", 3, 3), 0);
  CHECK(BR("blt", 0x80000000, 0x7fffffff), 1);
  CHECK(BR("bge", 3, 3), 1);
  CHECK(BR("bge", 0, 0xffffffff), 1);
  CHECK(BR("bge", 0xffffffff, 0), 0);
  CHECK(BR("bltu", 0, 0xffffffff), 1);
  CHECK(BR("bltu", 0xffffffff, 0), 0);
  CHECK(BR("bltu", 7, 7), 0);
  CHECK(BR("bgeu", 0xffffffff, 0), 1);
  CHECK(BR("bgeu", 7, 7), 1);
  CHECK(BR("bgeu", 0x7fffffff, 0x80000000), 0);
  /* A backward branch loop. */
  uint32_t n = 0;
  __asm__ volatile("li t0, 10\n1:\taddi %0, %0, 3\n\taddi t0, t0, -1\n\tbnez t0, 1b"
                   : "+r"(n) : : "t0");
  CHECK(n, 30);
}

static void test_fences(void) {
  trap_reset();
  __asm__ volatile("fence\n\tfence rw, rw\n\tfence iorw, iorw\n\tfence w, r\n\t"
                   ".word 0x8330000f\n\t" /* fence.tso */
                   ".word 0x0100000f\n\t" /* pause (fence w, 0): a HINT */
                   "fence i, o" ::: "memory");
  CHECK(mtrap.count, 0);
}

void test_rv32i(void) {
  test_alu();
  test_immediates();
  test_pc_relative();
  test_branches();
  test_fences();
}
