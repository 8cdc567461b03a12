/*
 * counters: the Zicntr counters cycle, time, instret (unprivileged spec chapter 10)
 * and their machine views, and access control by mcounteren/scounteren (privileged
 * spec 3.1.11, 4.1.5). Counter values are never printed: only their behaviour.
 */
#include "selftest.h"

#define CY 1u
#define TM 2u
#define IR 4u

static uint64_t read64(uint32_t (*lo)(void), uint32_t (*hi)(void)) {
  uint32_t h, l;
  do {
    h = hi();
    l = lo();
  } while (h != hi());
  return (uint64_t)h << 32 | l;
}
static uint32_t cyc(void) { return csr_read(cycle); }
static uint32_t cych(void) { return csr_read(cycleh); }
static uint32_t ins(void) { return csr_read(instret); }
static uint32_t insh(void) { return csr_read(instreth); }
static uint32_t tim(void) { return csr_read(time); }
static uint32_t timh(void) { return csr_read(timeh); }

static void test_machine_mode(void) {
  uint64_t c0 = read64(cyc, cych), i0 = read64(ins, insh);
  for (volatile int i = 0; i < 100; i++) {
  }
  uint64_t c1 = read64(cyc, cych), i1 = read64(ins, insh);
  CHECK_TRUE(c1 > c0);
  CHECK_TRUE(i1 > i0);
  CHECK_TRUE(csr_read(mcycle) != 0 || csr_read(mcycleh) != 0);
  CHECK_TRUE(csr_read(minstret) != 0 || csr_read(minstreth) != 0);
  /* time is the CLINT's mtime (privileged 3.2.1). */
  uint64_t m0 = clint_mtime(), t = read64(tim, timh), m1 = clint_mtime();
  CHECK_TRUE(m0 <= t && t <= m1);
  /* mcycle and minstret are writable; counting continues from the written value. */
  csr_write(mcycleh, 0);
  csr_write(mcycle, 0x40000000);
  uint32_t v = csr_read(mcycle);
  CHECK_TRUE(v >= 0x40000000 && v - 0x40000000 < 0x10000000);
  csr_write(minstreth, 0);
  csr_write(minstret, 0x40000000);
  v = csr_read(minstret);
  CHECK_TRUE(v >= 0x40000000 && v - 0x40000000 < 0x10000000);
  csr_write(mcounteren, 0xffffffffu);          /* WARL: at least CY, TM, IR */
  CHECK(csr_read(mcounteren) & 7, 7);
  csr_write(scounteren, 0xffffffffu);
  CHECK(csr_read(scounteren) & 7, 7);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
}

static uint32_t read_cycle(uint32_t u) { (void)u; return csr_read(cycle); }
static uint32_t read_time(uint32_t u) { (void)u; return csr_read(time); }
static uint32_t read_instret(uint32_t u) { (void)u; return csr_read(instret); }
static uint32_t read_instreth(uint32_t u) { (void)u; return csr_read(instreth); }

/* Number of illegal-instruction traps when fn runs in mode. */
static uint32_t traps_reading(uint32_t mode, uint32_t (*fn)(uint32_t)) {
  trap_reset();
  run_in_mode(mode, fn, 0);
  uint32_t n = 0;
  for (uint32_t i = 0; i < mtrap.count && i < 8; i++) n += mtrap.causes[i] == EXC_ILLEGAL;
  return n;
}

static void test_enables(void) {
  uint32_t (*const readers[3])(uint32_t) = {read_cycle, read_time, read_instret};
  for (uint32_t i = 0; i < 3; i++) {
    uint32_t bit = 1u << i;
    csr_write(mcounteren, 0);
    csr_write(scounteren, 0);
    CHECK(traps_reading(PRV_S, readers[i]), 1);
    CHECK(traps_reading(PRV_U, readers[i]), 1);
    csr_write(mcounteren, bit);                 /* S may read; U also needs scounteren */
    CHECK(traps_reading(PRV_S, readers[i]), 0);
    CHECK(traps_reading(PRV_U, readers[i]), 1);
    csr_write(scounteren, bit);
    CHECK(traps_reading(PRV_U, readers[i]), 0);
    csr_write(mcounteren, 0);                   /* scounteren alone is not enough */
    CHECK(traps_reading(PRV_U, readers[i]), 1);
  }
  /* The high halves follow the same bits. */
  csr_write(mcounteren, IR);
  csr_write(scounteren, IR);
  CHECK(traps_reading(PRV_U, read_instreth), 0);
  csr_write(mcounteren, CY | TM);
  CHECK(traps_reading(PRV_S, read_instreth), 1);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
}

void test_counters(void) {
  test_machine_mode();
  test_enables();
}
