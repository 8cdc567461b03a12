/*
 * rv32i-mem: loads and stores (unprivileged spec 2.6): widths, sign and zero
 * extension, offsets, misaligned accesses and access faults.
 */
#include "selftest.h"

static volatile uint32_t words[4];

#define LOAD(op, p, off) ({ uint32_t r_; \
  __asm__ volatile(op " %0, " #off "(%1)" : "=r"(r_) : "r"(p) : "memory"); r_; })
#define STORE(op, p, v, off) \
  __asm__ volatile(op " %0, " #off "(%1)" : : "r"((uint32_t)(v)), "r"(p) : "memory")

static void test_extension(void) {
  volatile uint8_t *b = (volatile uint8_t *)words;
  words[0] = 0x8081f2f3;
  words[1] = 0x7f017ffe;
  CHECK(LOAD("lb", b, 0), 0xfffffff3);
  CHECK(LOAD("lbu", b, 0), 0xf3);
  CHECK(LOAD("lb", b, 3), 0xffffff80);
  CHECK(LOAD("lbu", b, 3), 0x80);
  CHECK(LOAD("lb", b, 7), 0x7f);
  CHECK(LOAD("lh", b, 0), 0xfffff2f3);
  CHECK(LOAD("lhu", b, 0), 0xf2f3);
  CHECK(LOAD("lh", b, 2), 0xffff8081);
  CHECK(LOAD("lhu", b, 2), 0x8081);
  CHECK(LOAD("lh", b, 4), 0x7ffe);
  CHECK(LOAD("lw", b, 0), 0x8081f2f3);
  CHECK(LOAD("lw", b + 8, -4), 0x7f017ffe);           /* negative offset */
  CHECK(LOAD("lbu", b + 2048, -2047), 0xf2);           /* offset -2047 */
}

static void test_stores(void) {
  volatile uint8_t *b = (volatile uint8_t *)words;
  words[0] = 0x11223344;
  words[1] = 0x55667788;
  STORE("sb", b, 0xaabbccdd, 1);                       /* only the low byte */
  CHECK(words[0], 0x1122dd44);
  STORE("sh", b, 0xaabbccdd, 2);
  CHECK(words[0], 0xccdddd44);
  STORE("sw", b, 0x01020304, 4);
  CHECK(words[1], 0x01020304);
  STORE("sw", b + 2047, 0xcafef00d, -2047);
  CHECK(words[0], 0xcafef00d);
  CHECK(words[1], 0x01020304);                         /* neighbours untouched */
}

/*
 * Misaligned loads and stores: the spec (2.6, privileged 3.6.3) lets an
 * implementation either perform them or raise address-misaligned. QEMU 7.2 performs
 * them for ordinary RAM (no trap), so this is what the tests expect.
 */
static void test_misaligned(void) {
  volatile uint8_t *b = (volatile uint8_t *)words;
  words[0] = 0x44332211;
  words[1] = 0x88776655;
  trap_reset();
  CHECK(LOAD("lw", b, 1), 0x55443322);
  CHECK(LOAD("lw", b, 3), 0x77665544);
  CHECK(LOAD("lh", b, 3), 0x5544);
  CHECK(LOAD("lh", b, 1), 0x3322);
  CHECK(LOAD("lhu", b, 3), 0x5544);
  words[2] = 0x00ff8000;
  CHECK(LOAD("lh", b + 8, 1), 0xffffff80);
  STORE("sw", b, 0xa1b2c3d4, 2);
  CHECK(words[0], 0xc3d42211);
  CHECK(words[1], 0x8877a1b2);
  STORE("sh", b, 0xeeff, 5);
  CHECK(words[1], 0x88eeffb2);
  CHECK(mtrap.count, 0);
}

/* Access faults (privileged 3.6.3, table 3.6): cause 5 / 7, mtval = the address. */
static void test_access_faults(void) {
  trap_reset();
  CHECK(probe_lw(UNMAPPED_ADDR), NOT_LOADED);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_LOAD_ACCESS);
  CHECK(mtrap.tval, UNMAPPED_ADDR);
  CHECK(mtrap.epc, (uintptr_t)probe_lw_insn);
  trap_reset();
  probe_sw(UNMAPPED_ADDR + 4, 1);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_STORE_ACCESS);
  CHECK(mtrap.tval, UNMAPPED_ADDR + 4);
  CHECK(mtrap.epc, (uintptr_t)probe_sw);
  trap_reset();
  uint32_t v = 0x1234;
  __asm__ volatile("lbu %0, 3(%1)" : "+r"(v) : "r"(UNMAPPED_ADDR) : "memory");
  CHECK(v, 0x1234);                                    /* rd not written */
  CHECK(mtrap.cause, EXC_LOAD_ACCESS);
  CHECK(mtrap.tval, UNMAPPED_ADDR + 3);
  trap_reset();
  STORE("sh", UNMAPPED_ADDR, 0, 2);
  CHECK(mtrap.cause, EXC_STORE_ACCESS);
  CHECK(mtrap.tval, UNMAPPED_ADDR + 2);
}

void test_rv32i_mem(void) {
  test_extension();
  test_stores();
  test_misaligned();
  test_access_faults();
}
